/*
 * segstore/seg_int.h - internals shared by the segstore .c files. Not a
 * public header: s3api/ and ddproto/ use seg.h only.
 */
#ifndef DD_SEGSTORE_SEG_INT_H
#define DD_SEGSTORE_SEG_INT_H

#include <pthread.h>
#include <string.h>

#include "index/idx.h"
#include "segstore/seg.h"

#define SEG_FORMAT_VERSION 1

/* ------------------------------------------------------ little-endian io */

static inline void put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
/* Big-endian ids in keys keep LMDB's byte order numeric. */
static inline void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static inline uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ------------------------------------------------------- chunk location */

/* Where a chunk's bytes are: value of the fp DB (32 bytes on disk). */
typedef struct seg_loc {
	uint64_t ctr;        /* container id */
	uint64_t region_off; /* file offset of the region header */
	uint32_t region_len; /* header + payload + table */
	uint32_t chunk_off;  /* offset in the raw (decompressed) payload */
	uint32_t chunk_len;
} seg_loc;
#define SEG_LOC_LEN 32
void seg_loc_encode(const seg_loc *l, uint8_t out[SEG_LOC_LEN]);
int seg_loc_decode(const void *p, size_t n, seg_loc *l) DD_WUR;

/* ------------------------------------------------------------ containers */

#define SEG_CTR_HDR_LEN 64
#define SEG_REGION_HDR_LEN 48
#define SEG_REGION_ENT_LEN 40 /* fp, off u32, len u32 */
#define SEG_TRAILER_ENT_LEN 52
#define SEG_TRAILER_FOOT_LEN 40
#define SEG_REGION_ZSTD 0x1

/* Container record in the ctr DB. */
typedef struct seg_ctr_rec {
	uint64_t durable_len; /* bytes fsynced and referenceable */
	uint32_t sealed;      /* trailer written at durable_len - trailer */
	uint64_t owner;       /* unit id whose writers wrote every chunk */
} seg_ctr_rec;
#define SEG_CTR_REC_LEN 24

/* One (fp, loc) pair, as in a trailer or a locality list. */
typedef struct seg_fploc {
	uint8_t fp[SEG_FP_LEN];
	seg_loc loc;
} seg_fploc;

/*
 * Parses a container trailer (the bytes from the trailer start to the end
 * of file). Pure. Calls cb per chunk; returns DD_ECORRUPT on any
 * inconsistency, else DD_OK. ctr is the container id the trailer must name.
 */
typedef int (*seg_fploc_cb)(void *ctx, const seg_fploc *e);
int seg_trailer_parse(const uint8_t *buf, size_t len, uint64_t ctr,
		      seg_fploc_cb cb, void *ctx) DD_WUR;
/*
 * Parses one region header (SEG_REGION_HDR_LEN bytes). Pure. Fills the
 * fields; DD_ECORRUPT on a bad magic or checksum.
 */
typedef struct seg_region_hdr {
	uint32_t flags, n, raw_len, stored_len;
	uint64_t payload_xxh, table_xxh;
} seg_region_hdr;
int seg_region_hdr_parse(const uint8_t *p, size_t len,
			 seg_region_hdr *h) DD_WUR;

/* An open container being appended to by one writer at a time. */
typedef struct seg_ctr {
	uint64_t id;
	int fd;
	uint64_t size;        /* append offset */
	uint64_t synced;      /* bytes known fsynced */
	uint64_t owner;       /* unit id: only its writers append here */
	struct seg_ctr *next; /* in the store's free pool */
} seg_ctr;

/* Path of container id in the store (buffer of at least 512 bytes). */
void seg_ctr_path(const seg_store *s, uint64_t id, char *out, size_t n);
/* Creates a new container file (id from the store). */
int seg_ctr_create(seg_store *s, seg_ctr **out) DD_WUR;
void seg_ctr_close(seg_ctr *c);
/*
 * Writes the trailer for every region in [SEG_CTR_HDR_LEN, c->size) and
 * fsyncs; c->size grows. Does not touch LMDB.
 */
int seg_ctr_write_trailer(seg_store *s, seg_ctr *c) DD_WUR;
/*
 * Lists the chunks of container id (reading its trailer when sealed, else
 * walking regions up to durable_len) into a malloc'd array sorted by fp.
 */
int seg_ctr_load_list(seg_store *s, uint64_t id, const seg_ctr_rec *rec,
		      seg_fploc **out, size_t *n) DD_WUR;
/*
 * A reader's region cache: the last SEG_RCACHE_SLOTS decompressed regions
 * (LRU), a reusable disk buffer and the open fd of the last container read
 * (no malloc or open per region on sequential reads). Several slots keep a
 * data region alive while recipe nodes (other regions) or deduplicated
 * chunks of older generations (other containers) are fetched in between.
 * Memory bound per cache: nslots x the largest region read (raw <=
 * region_size + max chunk, ~0.6 MiB at the defaults) plus one stored
 * region in disk. Only verified regions are ever cached.
 */
#define SEG_RCACHE_SLOTS 8
typedef struct seg_rslot {
	dd_buf raw;    /* decompressed, verified payload */
	seg_loc loc;   /* region in raw; loc.ctr 0 = empty */
	uint64_t used; /* LRU tick */
} seg_rslot;
typedef struct seg_rcache {
	seg_rslot slot[SEG_RCACHE_SLOTS];
	int nslots;     /* slots in use, <= SEG_RCACHE_SLOTS (init: all) */
	/* another cache searched (never filled) on a miss: a reader's recipe
	 * node cache and data cache see each other's regions. NULL = none */
	struct seg_rcache *alt;
	seg_rslot *cur; /* slot of the last region read/found; NULL = none */
	dd_buf disk;
	int fd;
	uint64_t fd_ctr;
	uint64_t tick;
} seg_rcache;
void seg_rcache_init(seg_rcache *rc);
void seg_rcache_release(seg_rcache *rc);
/*
 * Reads and verifies (header, XXH3, zstd length) the region at loc into the
 * least recently used slot, always from disk; sets rc->cur to it. On error
 * rc->cur is NULL and that slot empty. DD_ECORRUPT on checksum mismatch.
 */
int seg_region_read(seg_store *s, const seg_loc *loc, seg_rcache *rc) DD_WUR;
/*
 * The slot holding loc's region: from rc, else rc->alt, else read into rc
 * (seg_region_read). The slot stays valid until the next call on rc or
 * rc->alt.
 */
int seg_region_get(seg_store *s, const seg_loc *loc, seg_rcache *rc,
		   const seg_rslot **out) DD_WUR;

int seg_ctr_rec_get(seg_store *s, idx_txn *t, uint64_t id,
		    seg_ctr_rec *rec) DD_WUR;
int seg_ctr_rec_put(idx_txn *t, uint64_t id, const seg_ctr_rec *rec) DD_WUR;

/* --------------------------------------------------------- locality cache */

#define SEG_LOC_SLOTS 8
typedef struct seg_locality {
	struct {
		uint64_t ctr, owner;
		seg_fploc *v; /* sorted by fp */
		size_t n;
		uint64_t used;
	} slot[SEG_LOC_SLOTS];
	uint64_t tick;
} seg_locality;

void seg_locality_release(seg_locality *lc);
/* 1 and *loc if fp is cached. */
int seg_locality_find(seg_locality *lc, const uint8_t *fp, seg_loc *loc);
/* Like seg_locality_find; also the owner unit of the chunk's container. */
int seg_locality_find_owner(seg_locality *lc, const uint8_t *fp,
			    seg_loc *loc, uint64_t *owner);
/*
 * Finds fp: locality cache, then (unless the Bloom filter says no) the fp
 * index; on an index hit loads the chunk's container into the cache.
 * DD_ENOENT if the store lacks fp. owner (may be NULL) gets the unit that
 * owns the chunk's container, 0 if unknown.
 */
int seg_lookup(seg_store *s, seg_locality *lc, const uint8_t *fp,
	       seg_loc *loc, uint64_t *owner) DD_WUR;

/* ------------------------------------------------------------ the store */

typedef int (*seg_apply_fn)(seg_store *s, idx_txn *t, void *arg);

struct seg_store {
	char root[400];    /* <data-dir>/store */
	char ctrdir[420];  /* <data-dir>/store/containers */
	seg_opts opts;
	seg_chunk_params cp;
	idx_env *env;
	idx_bloom *bloom;
	int lockfd;

	pthread_mutex_t mu;     /* guards everything below */
	pthread_cond_t cv;
	struct seg_commit_req *queue, *queue_tail;
	int leader;
	seg_ctr *ctr_pool;
	unsigned ctr_pooled;
	uint64_t next_ctr;
	struct seg_stream *streams; /* open writers per unit */

	/* counters (atomic) */
	seg_stats st;
};

/* Runs apply inside the next group-commit transaction (in a nested txn so
 * its failure rolls back alone). Returns apply's rc, or the commit's. */
int seg_commit(seg_store *s, seg_apply_fn apply, void *arg) DD_WUR;
/* Begins a short read-only txn. */
int seg_rtxn(seg_store *s, idx_txn **t) DD_WUR;

#define SEG_STAT_ADD(s, field, v) \
	__atomic_fetch_add(&(s)->st.field, (v), __ATOMIC_RELAXED)

/* ----------------------------------------------------------- catalog */

typedef struct seg_unit_rec {
	uint64_t id;
	seg_quota q;
	uint64_t logical, objects, physical;
	int64_t ctime;
} seg_unit_rec;
#define SEG_UNIT_REC_LEN 72

int seg_key_ok(dd_str key) DD_WUR;
int seg_unit_rec_get(idx_txn *t, const char *unit, seg_unit_rec *u) DD_WUR;
int seg_unit_rec_put(idx_txn *t, const char *unit,
		     const seg_unit_rec *u) DD_WUR;
/* Object DB key: unit id (BE) + encoded key (catalog.c). out >= 8 + SEG_KEY_MAX. */
size_t seg_obj_key(uint64_t unit_id, dd_str key, uint8_t *out);
int seg_obj_get(idx_txn *t, uint64_t unit_id, dd_str key,
		seg_stat *st) DD_WUR;
int seg_obj_decode(const void *p, size_t n, seg_stat *st) DD_WUR;
/* Encodes st into buf (reset first). */
int seg_obj_encode(const seg_stat *st, dd_str fullkey, dd_buf *buf) DD_WUR;
/*
 * Puts (unit, key) = st in txn t, adjusting the unit's logical bytes and
 * object count and enforcing the hard quota (DD_EQUOTA). Also called by
 * writer commits.
 */
int seg_obj_put(idx_txn *t, const char *unit, dd_str key,
		const seg_stat *st) DD_WUR;

/* ------------------------------------------------------------ recipes */

#define SEG_NODE_MAGIC 0x314e5244u /* "DRN1" */
#define SEG_NODE_HDR_LEN 12
#define SEG_NODE_ENT_LEN 40
#define SEG_NODE_MAX 1024          /* entries a node may hold */
#define SEG_NODE_CUT_MAX 512       /* builder forces a cut here */

typedef struct seg_node_ent {
	uint8_t fp[SEG_FP_LEN];
	uint64_t len; /* chunk length (leaf) or subtree length */
} seg_node_ent;

/* Parses a recipe node. Pure. *leaf = 1 for a leaf node. ents must hold
 * SEG_NODE_MAX entries. DD_ECORRUPT on malformed input. */
int seg_node_parse(const uint8_t *p, size_t n, int *leaf, seg_node_ent *ents,
		   size_t *count) DD_WUR;

/* Fetches the bytes of chunk fp (length len) into out (len bytes). */
int seg_chunk_fetch(seg_store *s, seg_locality *lc, const uint8_t *fp,
		    uint32_t len, void *out, seg_rcache *rc) DD_WUR;

#endif /* DD_SEGSTORE_SEG_INT_H */

/* --------------------------------------------------- internal interfaces */

int seg_ctr_append_region(seg_store *s, seg_ctr *c, void *cctx,
			  const uint8_t *raw, uint32_t raw_len,
			  const uint8_t *table, uint32_t n,
			  uint64_t *region_off, uint32_t *region_len,
			  dd_buf *scratch) DD_WUR;
int seg_ctr_seal(seg_store *s, seg_ctr *c) DD_WUR;
int seg_attrs_apply(const seg_attrs *attrs, seg_stat *st) DD_WUR;
int seg_build_concat(seg_store *s, const char *unit,
		     const uint8_t (*roots)[SEG_FP_LEN], const uint64_t *sizes,
		     size_t n, uint8_t root[SEG_FP_LEN], uint64_t *size) DD_WUR;
/*
 * Finds the data chunk covering off: its fingerprint, its start offset in
 * the object and its length. DD_ERANGE past the end.
 */
int seg_reader_chunk_at(seg_reader *r, uint64_t off, uint8_t fp[SEG_FP_LEN],
			uint64_t *start, uint32_t *len) DD_WUR;
/* Fetches chunk fp whatever its length into out (reset first). */
int seg_chunk_fetch_any(seg_store *s, seg_locality *lc, const uint8_t *fp,
			dd_buf *out, seg_rcache *rc) DD_WUR;
