/*
 * segstore/seg.h - the deduplicating segment store: the one API both the S3
 * front end (s3api/) and the DDP front end (ddproto/) use.
 *
 * A store lives in <data-dir>/store/: append-only container files holding
 * zstd-compressed regions of content-defined chunks (SHA-256 fingerprints),
 * and one LMDB environment (index/) holding the fingerprint index and the
 * catalog (storage units, users, grants, objects, multipart uploads).
 * docs/STORE.md explains the design, docs/FORMAT.md the on-disk layout.
 *
 * Names:
 *   unit  - storage unit (S3 bucket, DDP storage unit): a NUL-terminated
 *           name of 1..SEG_NAME_MAX bytes from [A-Za-z0-9._-].
 *   key   - object key inside a unit: 1..SEG_KEY_MAX bytes, any byte except
 *           NUL (UTF-8 is not validated here; the protocols may). Passed as
 *           a dd_str (ptr, len), never needs NUL termination.
 *
 * Thread safety: a seg_store may be used from any number of threads at
 * once. A seg_writer or seg_reader is used by one thread at a time (it may
 * move between threads). Mutations go through one group-commit path: many
 * writers' commits share one LMDB transaction and one fsync. Readers never
 * wait for writers.
 *
 * Durability: when a call that mutates (commit, clone, delete, ...) returns
 * DD_OK, the change is durable (container bytes fsynced before the LMDB
 * transaction that references them, and that transaction synced). Until
 * then nothing is visible.
 *
 * Errors: every fallible function returns a dd_rc (common/dd.h). Common
 * ones: DD_ENOENT (no such unit/key/user/upload), DD_EEXIST, DD_EINVAL (bad
 * name/key/argument), DD_EQUOTA (hard quota), DD_ELIMIT (stream limit),
 * DD_EDIGEST (client chunk hash mismatch), DD_ECORRUPT (stored data failed
 * a checksum: never returned as data), DD_ENOTEMPTY, DD_EPERM, DD_EIO.
 */
#ifndef DD_SEGSTORE_SEG_H
#define DD_SEGSTORE_SEG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dd.h"

#define SEG_FP_LEN 32          /* SHA-256 fingerprint */
#define SEG_NAME_MAX 63        /* unit and user names */
#define SEG_KEY_MAX 1024       /* object key bytes */
#define SEG_ATTRS_MAX 8192     /* opaque per-object metadata blob */
#define SEG_ETAG_MAX 127       /* precomputed etag string */
#define SEG_AKEY_MAX 128       /* access key id */
#define SEG_SECRET_MAX 128     /* secret access key */
#define SEG_UPLOAD_ID_MAX 127  /* multipart upload id */
#define SEG_CKSUM_MAX 256      /* per-part checksum blob */
#define SEG_PART_MAX 10000     /* highest multipart part number */

typedef struct seg_store seg_store;
typedef struct seg_writer seg_writer;
typedef struct seg_reader seg_reader;
typedef struct seg_chunker seg_chunker;

/* ================================================================ store */

/* Chunking parameters, fixed per data dir when it is created. */
#define SEG_CHUNK_AVG_DEFAULT 8192
typedef struct seg_chunk_params {
	uint32_t min; /* smallest chunk (except the last of a stream) */
	uint32_t avg; /* target average, a power of two */
	uint32_t max; /* largest chunk */
} seg_chunk_params;

typedef struct seg_opts {
	/*
	 * Chunk sizes for a NEW data dir. 0 = default: avg 8192, min avg/4,
	 * max avg*8. Ignored on reopen: the recorded parameters are used.
	 */
	uint32_t chunk_avg, chunk_min, chunk_max;
	uint64_t container_size; /* seal containers past this; default 32 MiB */
	uint32_t region_size;    /* compression region (raw); default 512 KiB */
	int zstd_level;          /* default 1 */
	uint64_t map_size;       /* LMDB map size (sparse); default 1 TiB */
} seg_opts;

/* Fills o with the defaults (all zero means "default" too). */
void seg_opts_init(seg_opts *o);

/*
 * Opens (creating if needed) the store under <data_dir>/store/. Runs crash
 * recovery: torn container tails are truncated, containers never referenced
 * are removed, the Bloom filter is rebuilt from the index. Refuses
 * (DD_ECONFIG) a data dir with a newer format version, DD_ELOCKED if another
 * process has it open. o may be NULL (defaults). On DD_OK *out is the store;
 * free with seg_store_close().
 */
int seg_store_open(const char *data_dir, const seg_opts *o,
		   seg_store **out) DD_WUR;

/*
 * Closes the store: seals open containers, closes LMDB. All writers and
 * readers must have been freed first. NULL is a no-op.
 */
void seg_store_close(seg_store *s);

/* The chunk parameters this store uses (as recorded at creation). */
void seg_store_chunk_params(const seg_store *s, seg_chunk_params *out);

/* Counters for benchmarks and metrics; monotonic since open. */
typedef struct seg_stats {
	uint64_t lmdb_reads;      /* fingerprint-index gets and cursor seeks */
	uint64_t lmdb_txns;       /* write transactions committed */
	uint64_t commits;         /* requests served by those transactions */
	uint64_t chunks_in;       /* data chunks presented by writers */
	uint64_t chunks_new;      /* ... of which stored in a container */
	uint64_t chunks_dup;      /* ... of which deduplicated */
	uint64_t bloom_negative;  /* lookups answered "new" by the Bloom filter */
	uint64_t locality_hits;   /* lookups answered by the locality cache */
	uint64_t locality_loads;  /* container fingerprint lists loaded */
	uint64_t bytes_logical;   /* bytes written by writers */
	uint64_t bytes_stored;    /* bytes appended to containers (compressed) */
	uint64_t containers;      /* containers created */
	uint64_t region_reads;    /* regions read, verified and decompressed
				   * by readers and verify (cache misses) */
} seg_stats;

void seg_store_stats(seg_store *s, seg_stats *out);

/* ============================================================== chunker */

/*
 * The content-defined chunker (FastCDC-style Gear hash with normalized
 * chunking). Clients that chunk themselves (libddp, DSP) MUST use this very
 * function with the store's parameters so both write paths produce the same
 * chunks, hence the same recipe root, for the same bytes.
 */

/* Returns a chunker for p (validated: DD_EINVAL via NULL), or NULL. */
seg_chunker *seg_chunker_new(const seg_chunk_params *p);
void seg_chunker_free(seg_chunker *c);
/* Forgets the current partial chunk: the next byte starts a new chunk. */
void seg_chunker_reset(seg_chunker *c);
/*
 * Scans up to len bytes continuing the current chunk. Returns how many
 * bytes were consumed. If *cut is set to 1, the current chunk ends after
 * those bytes (the chunker is reset for the next); if 0, all len bytes were
 * consumed and the chunk continues. At end of stream, whatever was consumed
 * since the last cut is the final chunk. Chunks are identical whatever the
 * piece sizes the stream is fed in.
 */
size_t seg_chunker_scan(seg_chunker *c, const void *buf, size_t len, int *cut);
/* Validates params: avg a power of two in [256, 4 MiB], 64<=min<=avg<max<=64 MiB. */
int seg_chunk_params_check(const seg_chunk_params *p) DD_WUR;
/* Completes p: avg 0 = SEG_CHUNK_AVG_DEFAULT, min 0 = avg/4, max 0 = avg*8. */
void seg_chunk_params_default(seg_chunk_params *p);
/* SHA-256 of data (the fingerprint). */
void seg_fingerprint(const void *data, size_t len, uint8_t out[SEG_FP_LEN]);

/* ======================================================== storage units */

typedef struct seg_quota {
	uint64_t soft;         /* logical bytes; 0 = none; past it: warn */
	uint64_t hard;         /* logical bytes; 0 = none; writes refused */
	uint32_t stream_limit; /* concurrent writers; 0 = unlimited */
} seg_quota;

typedef struct seg_unit_info {
	char name[SEG_NAME_MAX + 1];
	uint64_t id;
	seg_quota quota;
	uint64_t logical_bytes;  /* sum of object sizes */
	uint64_t object_count;
	uint64_t physical_bytes; /* compressed bytes of NEW chunks this unit's
				    writers stored (an upper bound of its unique
				    physical bytes) */
	int64_t ctime_ns;
	int over_soft;           /* logical_bytes > quota.soft (when set) */
} seg_unit_info;

/* Creates a unit. DD_EEXIST, DD_EINVAL (bad name). q may be NULL. */
int seg_unit_create(seg_store *s, const char *unit, const seg_quota *q) DD_WUR;
/* Fills *out. DD_ENOENT. */
int seg_unit_stat(seg_store *s, const char *unit, seg_unit_info *out) DD_WUR;
/* Replaces the quota. DD_ENOENT. */
int seg_unit_set_quota(seg_store *s, const char *unit,
		       const seg_quota *q) DD_WUR;
/*
 * Deletes an empty unit (no objects, no multipart uploads) and its grants.
 * DD_ENOTEMPTY otherwise, DD_ENOENT.
 */
int seg_unit_delete(seg_store *s, const char *unit) DD_WUR;
/*
 * Calls cb for every unit in name order; a nonzero return from cb stops
 * (and is returned). info is valid during the call only.
 */
typedef int (*seg_unit_cb)(void *ctx, const seg_unit_info *info);
int seg_unit_list(seg_store *s, seg_unit_cb cb, void *ctx) DD_WUR;

/*
 * DD_OK if name is a valid unit or user name: 1..SEG_NAME_MAX bytes of
 * [A-Za-z0-9._-], and not "." or ".." (they would turn into path steps in
 * the admin API's URLs, which HTTP clients normalise away). Else DD_EINVAL.
 */
int seg_name_ok(const char *name) DD_WUR;

/* ====================================================== users and grants */

enum seg_role { SEG_ROLE_USER = 0, SEG_ROLE_ADMIN = 1 };

typedef struct seg_user {
	char name[SEG_NAME_MAX + 1];
	char access_key[SEG_AKEY_MAX + 1];
	char secret[SEG_SECRET_MAX + 1]; /* for HMAC verification: never log */
	int role;                        /* enum seg_role */
} seg_user;

/*
 * Creates a user. Names as units; access key 1..128 printable ASCII,
 * unique across users; secret 1..128 bytes, no NUL. DD_EEXIST if the name
 * or access key is taken.
 */
int seg_user_create(seg_store *s, const char *name, const char *access_key,
		    const char *secret, int role) DD_WUR;
/* Finds the user owning access_key; fills *out. DD_ENOENT. */
int seg_user_by_access_key(seg_store *s, const char *access_key,
			   seg_user *out) DD_WUR;
/*
 * For signature checks: finds the user owning access key ak (a slice of
 * request bytes: DD_ENOENT when empty, too long or holding a NUL), fills
 * *out and copies its secret into secret (cap bytes with the NUL;
 * DD_ETOOBIG if it does not fit).
 */
int seg_user_secret(seg_store *s, dd_str ak, seg_user *out, char *secret,
		    size_t cap) DD_WUR;
/* Finds a user by name; fills *out. DD_ENOENT. */
int seg_user_get(seg_store *s, const char *name, seg_user *out) DD_WUR;
/* Deletes a user. DD_EPERM while any unit is granted to it, DD_ENOENT. */
int seg_user_delete(seg_store *s, const char *name) DD_WUR;
/* Calls cb per user in name order (secrets included: callers beware). */
typedef int (*seg_user_cb)(void *ctx, const seg_user *u);
int seg_user_list(seg_store *s, seg_user_cb cb, void *ctx) DD_WUR;
/* Grants a unit to a user (idempotent). DD_ENOENT if either is missing. */
int seg_grant(seg_store *s, const char *user, const char *unit) DD_WUR;
/* Revokes; DD_ENOENT if there was no such grant. */
int seg_revoke(seg_store *s, const char *user, const char *unit) DD_WUR;
/* DD_OK if user may use unit (granted, or role admin), else DD_EPERM. */
int seg_grant_check(seg_store *s, const char *user, const char *unit) DD_WUR;
/* Calls cb with each unit name granted to user, in name order. */
typedef int (*seg_name_cb)(void *ctx, const char *name);
int seg_grant_list(seg_store *s, const char *user, seg_name_cb cb,
		   void *ctx) DD_WUR;

/* ============================================================== objects */

/* Bits of seg_stat.flags. */
#define SEG_STAT_MD5 0x1    /* md5 is the MD5 of the content */
#define SEG_STAT_SHA256 0x2 /* sha256 is the SHA-256 of the content */

typedef struct seg_stat {
	uint64_t size;
	int64_t mtime_ns;
	uint32_t flags;              /* SEG_STAT_* */
	uint8_t md5[16];
	uint8_t sha256[32];
	uint8_t root[SEG_FP_LEN];    /* recipe root (equal roots: equal bytes) */
	char etag[SEG_ETAG_MAX + 1]; /* as given at commit ("" if none) */
	uint32_t attrs_len;
	uint8_t attrs[SEG_ATTRS_MAX]; /* opaque blob given at commit */
} seg_stat;

/* What commit stores besides the data. NULL means none. */
typedef struct seg_attrs {
	const void *blob; /* opaque (content-type, x-amz-meta-*, ...) */
	size_t len;       /* <= SEG_ATTRS_MAX */
	const char *etag; /* optional precomputed etag, <= SEG_ETAG_MAX */
} seg_attrs;

/* A durable piece of content with no key (a multipart part). */
typedef struct seg_ref {
	uint8_t root[SEG_FP_LEN];
	uint64_t size;
	uint8_t md5[16];
	uint8_t sha256[32];
} seg_ref;

/* ----------------------------------------------------------- writer */

/*
 * Opens a writer that will create or replace (unit, key) on commit.
 * DD_ENOENT (unit), DD_EINVAL (key), DD_ELIMIT (unit's stream limit).
 * Sequential, append-only. Free with seg_writer_free (aborts if
 * uncommitted).
 */
int seg_writer_open(seg_store *s, const char *unit, dd_str key,
		    seg_writer **out) DD_WUR;
/* Opens a writer with no key, to be finished with seg_writer_commit_ref. */
int seg_writer_open_ref(seg_store *s, const char *unit,
			seg_writer **out) DD_WUR;

/*
 * Server-side chunking path: appends len bytes (any piece sizes). Returns
 * DD_EQUOTA once the unit's hard quota would be exceeded.
 */
int seg_writer_write(seg_writer *w, const void *buf, size_t len) DD_WUR;

/*
 * Client-chunked path (DSP). For n chunks (fingerprints fps[i], lengths
 * lens[i]) sets missing_out[i] = 1 when the client must send the bytes, 0
 * when it may send just a reference (seg_writer_add_ref). "Have" is
 * answered only for chunks THIS unit's clients sent before (stored in the
 * unit's own containers, or recorded as a membership when they deduped
 * against another unit's data) and that the store still holds with that
 * length: it never reveals what another unit stores (docs/STORE.md).
 * Costs no disk write; answered from RAM for the unit's own containers.
 */
int seg_writer_query(seg_writer *w, const uint8_t (*fps)[SEG_FP_LEN],
		     const uint32_t *lens, size_t n,
		     uint8_t *missing_out) DD_WUR;
/*
 * Appends a chunk the client sends: the store recomputes SHA-256 and
 * returns DD_EDIGEST on a mismatch (nothing appended). A chunk the store
 * already holds (in any unit) is not stored twice. len <= chunk max.
 */
int seg_writer_put_chunk(seg_writer *w, const uint8_t fp[SEG_FP_LEN],
			 const void *data, size_t len) DD_WUR;
/*
 * Appends a chunk by reference. DD_ENOENT if the unit has not referenced
 * it (same rule as query) or len differs: the client must put_chunk.
 */
int seg_writer_add_ref(seg_writer *w, const uint8_t fp[SEG_FP_LEN],
		       size_t len) DD_WUR;
/*
 * Note: a writer may mix both paths; chunk boundaries are whatever the
 * write/put/add calls produce, so a client wanting the same root as the
 * server path must chunk with seg_chunker_* and the store's params. MD5 and
 * SHA-256 of the content are computed while writing (on put_chunk and
 * write); after any add_ref, the content digests are unknown
 * (flags lack SEG_STAT_MD5|SEG_STAT_SHA256) unless a later version
 * reads them back.
 */

/* Bytes appended so far. */
uint64_t seg_writer_size(const seg_writer *w);

/*
 * Chooses which whole-content digests the writer computes (SEG_STAT_MD5,
 * SEG_STAT_SHA256; default both). MD5 runs at ~0.7 GB/s and a second
 * SHA-256 pass at ~1.7 GB/s per core, so a caller that does not need them
 * (DDP, benchmarks) should turn them off. Only before the first byte:
 * DD_EINVAL afterwards.
 */
int seg_writer_set_digests(seg_writer *w, uint32_t flags) DD_WUR;

/*
 * A check that seg_writer_commit runs inside the catalog transaction that
 * puts the object, so no other commit can come between the check and the
 * put (S3 conditional writes: If-None-Match, If-Match). cur is the object
 * the key holds at that moment, NULL when none. A return other than DD_OK
 * leaves the key as it was and seg_writer_commit returns that code; the
 * chunks written stay in the containers (unreferenced). fn runs on the
 * group-commit leader's thread, maybe not the caller's: it must not block
 * and may touch only ctx. ctx must live until the commit returns.
 */
typedef int (*seg_commit_check_fn)(void *ctx, const seg_stat *cur);
void seg_writer_set_check(seg_writer *w, seg_commit_check_fn fn, void *ctx);

/*
 * Makes the object durable and visible atomically, replacing any previous
 * (unit, key). attrs may be NULL. Fills *st (may be NULL) with size,
 * digests, mtime, root, etag, attrs. The writer is finished whatever the
 * result: free it next. DD_EQUOTA if the unit's hard quota would be
 * exceeded (nothing visible).
 */
int seg_writer_commit(seg_writer *w, const seg_attrs *attrs,
		      seg_stat *st) DD_WUR;
/* Like commit, for a keyless writer: fills *ref with durable content. */
int seg_writer_commit_ref(seg_writer *w, seg_ref *ref) DD_WUR;
/* Discards everything written (uncommitted container bytes are garbage). */
void seg_writer_abort(seg_writer *w);
/* Frees the writer (aborting if it was not committed). NULL is a no-op. */
void seg_writer_free(seg_writer *w);

/* ----------------------------------------------------------- reader */

/*
 * Opens a reader on (unit, key). The reader sees the object as it was at
 * open: replacing or deleting the key meanwhile does not change what it
 * reads. DD_ENOENT.
 */
int seg_reader_open(seg_store *s, const char *unit, dd_str key,
		    seg_reader **out) DD_WUR;
/* Returns the object's stat; valid until seg_reader_free. */
const seg_stat *seg_reader_stat(const seg_reader *r);
/*
 * Reads up to len bytes at off into buf; *got = bytes read (0 at or past
 * the end). Touches O(log n) recipe nodes per seek; sequential reads are
 * cheap. DD_ECORRUPT if stored bytes fail their checksum (buf contents
 * then undefined, never returned as data).
 */
int seg_reader_pread(seg_reader *r, void *buf, size_t len, uint64_t off,
		     size_t *got) DD_WUR;
void seg_reader_free(seg_reader *r);

/* ---------------------------------------------------- catalog operations */

/* Fills *st for (unit, key). DD_ENOENT. */
int seg_stat_object(seg_store *s, const char *unit, dd_str key,
		    seg_stat *st) DD_WUR;
/* Deletes (unit, key). DD_ENOENT. Data is reclaimed later by GC. */
int seg_delete(seg_store *s, const char *unit, dd_str key) DD_WUR;
/*
 * Renames within a unit, replacing dst if it exists. DD_ENOENT (src),
 * DD_EEXIST if dst exists and !replace.
 */
int seg_rename(seg_store *s, const char *unit, dd_str src, dd_str dst,
	       int replace) DD_WUR;
/*
 * Metadata-only copy of (su, sk) to (du, dk), replacing dk. attrs NULL
 * keeps the source's attrs and etag. Fills *st (may be NULL).
 */
int seg_clone(seg_store *s, const char *su, dd_str sk, const char *du,
	      dd_str dk, const seg_attrs *attrs, seg_stat *st) DD_WUR;
/*
 * Creates (unit, key) as the concatenation of n existing objects of unit
 * (metadata-only: a new recipe root over the parts' roots).
 */
int seg_concat(seg_store *s, const char *unit, dd_str key, const dd_str *srcs,
	       size_t n, const seg_attrs *attrs, seg_stat *st) DD_WUR;

/* One piece of a synthesized object: an extent of an existing object of
 * the same unit, or new bytes (key.p == NULL, data/len). */
typedef struct seg_extent {
	dd_str key;       /* source object; p NULL for literal data */
	uint64_t off, len;
	const void *data; /* literal bytes when key.p == NULL (len bytes) */
} seg_extent;
/*
 * Creates (unit, key) from extents in order (virtual synthetic full).
 * Whole chunks inside an extent are referenced, not copied; partial chunks
 * at extent edges are stored as new chunks. DD_ERANGE if an extent lies
 * outside its source.
 */
int seg_synthesize(seg_store *s, const char *unit, dd_str key,
		   const seg_extent *ext, size_t n, const seg_attrs *attrs,
		   seg_stat *st) DD_WUR;

/* ------------------------------------------------------------- listing */

typedef struct seg_list_opts {
	dd_str prefix;      /* only keys starting with it */
	dd_str delimiter;   /* group keys by it after prefix (len 0: none) */
	dd_str start_after; /* only keys (and prefixes) > it */
	uint32_t limit;     /* max entries (keys + prefixes); 0 = 1000 */
} seg_list_opts;

/*
 * One list entry, valid during the callback only. For a common prefix,
 * is_prefix = 1 and st is NULL.
 */
typedef int (*seg_list_cb)(void *ctx, dd_str key, int is_prefix,
			   const seg_stat *st);

typedef struct seg_list_result {
	int truncated;  /* more entries follow */
	/* when truncated: pass as start_after to continue (NUL-terminated) */
	char next[SEG_KEY_MAX + 1];
	size_t next_len;
} seg_list_result;

/*
 * Lists unit in byte order with S3 semantics: keys past start_after
 * with the prefix; with a delimiter, keys containing it after the prefix
 * roll up into one common prefix (prefix .. delimiter) reported once.
 * Multipart parts never appear. A nonzero cb return stops and is returned.
 * Order is exact byte order for every key length: keys over 463 bytes
 * sharing their first 463 bytes are collected and sorted in memory, up to
 * 65536 of them; a bigger such run fails with DD_ETOOBIG.
 */
int seg_list(seg_store *s, const char *unit, const seg_list_opts *o,
	     seg_list_cb cb, void *ctx, seg_list_result *res) DD_WUR;

/* ----------------------------------------------------- multipart uploads */

typedef struct seg_part_info {
	uint32_t number;
	seg_ref ref;
	char etag[SEG_ETAG_MAX + 1];
	uint32_t cksum_len;
	uint8_t cksum[SEG_CKSUM_MAX];
	int64_t mtime_ns;
} seg_part_info;

/*
 * Records a new multipart upload of (unit, key) with id upload_id (the
 * caller makes it unique, 1..127 bytes, no NUL) and the attrs the final
 * object will get. DD_EEXIST.
 */
int seg_upload_create(seg_store *s, const char *unit, dd_str key,
		      const char *upload_id, const seg_attrs *attrs) DD_WUR;
/*
 * Records part number (1..10000) of the upload as ref (from
 * seg_writer_commit_ref), replacing a previous one. The part's chunks stay
 * live while the upload exists. DD_ENOENT (upload).
 */
int seg_upload_put_part(seg_store *s, const char *unit, dd_str key,
			const char *upload_id, uint32_t number,
			const seg_ref *ref, const char *etag,
			const void *cksum, size_t cksum_len) DD_WUR;
/* Calls cb per part in number order, from parts > after. */
typedef int (*seg_part_cb)(void *ctx, const seg_part_info *p);
int seg_upload_list_parts(seg_store *s, const char *unit, dd_str key,
			  const char *upload_id, uint32_t after,
			  seg_part_cb cb, void *ctx) DD_WUR;
/*
 * Calls cb per upload of unit whose key starts with prefix, by key (exact
 * byte order) then id. DD_ETOOBIG if more than 65536 uploads have keys of
 * 300 bytes or more sharing their first 300 bytes (sorted in memory).
 */
typedef int (*seg_upload_cb)(void *ctx, dd_str key, const char *upload_id,
			     int64_t ctime_ns);
int seg_upload_list(seg_store *s, const char *unit, dd_str prefix,
		    seg_upload_cb cb, void *ctx) DD_WUR;
/*
 * Fills *st with the upload's record: attrs and etag as given to
 * seg_upload_create, mtime_ns = when it was created. DD_ENOENT.
 */
int seg_upload_stat(seg_store *s, const char *unit, dd_str key,
		    const char *upload_id, seg_stat *st) DD_WUR;
/* Removes the upload and its parts. DD_ENOENT. */
int seg_upload_abort(seg_store *s, const char *unit, dd_str key,
		     const char *upload_id) DD_WUR;
/*
 * Completes: the object becomes the concatenation of the listed parts
 * (ascending numbers, each recorded: DD_EINVAL otherwise), metadata-only;
 * the upload and its parts are removed in the same transaction. etag
 * (may be NULL) overrides the upload's etag; digests of the whole are
 * unknown (flags 0). Fills *st (may be NULL).
 */
int seg_upload_complete(seg_store *s, const char *unit, dd_str key,
			const char *upload_id, const uint32_t *numbers,
			size_t n, const char *etag, seg_stat *st) DD_WUR;

/*
 * seg_upload_complete, except that attrs (may be NULL: keep the upload's)
 * replaces the upload's attrs blob and etag; etag (may be NULL) then
 * overrides attrs->etag.
 */
int seg_upload_complete_attrs(seg_store *s, const char *unit, dd_str key,
			      const char *upload_id, const uint32_t *numbers,
			      size_t n, const seg_attrs *attrs,
			      const char *etag, seg_stat *st) DD_WUR;

/*
 * Makes durable keyless content of unit (a multipart part, as
 * seg_writer_commit_ref) from bytes [off, off+len) of the object r reads,
 * which may be of another unit: metadata-only where the store allows.
 * The whole object is referenced by its recipe root, whole chunks inside
 * the range by fingerprint; only the pieces of the (at most two) chunks
 * cut by the range's edges are stored, as new chunks of unit. r sees the
 * object as it was when opened, so a caller that reads the same range
 * through r (for digests) gets exactly the bytes of the ref. ref->md5 and
 * ref->sha256 are zero (not computed). DD_ERANGE if the range is outside
 * the object; DD_EQUOTA, DD_ELIMIT as for writers.
 */
int seg_ref_extent(seg_store *s, const char *unit, seg_reader *r,
		   uint64_t off, uint64_t len, seg_ref *ref) DD_WUR;

/* --------------------------------------------------------------- verify */

typedef struct seg_verify_report {
	uint64_t containers, regions, chunks; /* checked */
	uint64_t bad_regions;                 /* checksum/format failures */
	uint64_t objects;                     /* objects read end to end */
	uint64_t bad_objects;                 /* unreadable or digest mismatch */
} seg_verify_report;

/*
 * Called once per problem found: what names it ("container 00..01 region
 * @4096", "unit/key"), rc the error (DD_ECORRUPT, ...). Nonzero stops.
 */
typedef int (*seg_verify_cb)(void *ctx, const char *what, int rc);

/*
 * Verifies the store online (writers may run; it reads a consistent
 * catalog snapshot per object): every region of every container up to its
 * durable length (header, payload XXH3, decompression, and with deep != 0
 * the SHA-256 of every chunk against its fingerprint), then every object
 * of every unit read end to end, checked against its SHA-256 when known.
 * Reports, never repairs. Returns DD_OK when the walk completed (problems
 * are in *out and were passed to cb), else the error that stopped it.
 * cb may be NULL.
 *
 * cancel (may be NULL) is polled between regions and between 1 MiB reads
 * of an object: once another thread sets it nonzero, the walk stops soon
 * and seg_verify returns DD_ESHUTDOWN with *out counting what was checked
 * so far (a cancelled walk reports no problem of its own).
 */
int seg_verify(seg_store *s, int deep, const atomic_int *cancel,
	       seg_verify_report *out, seg_verify_cb cb, void *ctx) DD_WUR;

#endif /* DD_SEGSTORE_SEG_H */
