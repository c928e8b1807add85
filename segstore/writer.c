/*
 * segstore/writer.c - ingest: chunking, fingerprinting, dedup lookup,
 * packing new chunks into compression regions of the writer's container,
 * building the recipe tree, and committing (fsync containers, then one
 * LMDB txn via the group committer). Also concat and synthesize, which are
 * writers fed with references instead of bytes.
 *
 * RAM per writer is bounded: the current chunk, the current region, the
 * open path of the recipe tree (<= SEG_NODE_CUT_MAX entries per level),
 * the index entries of chunks written since the last container seal, and
 * a bounded DSP membership buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "segstore/seg_int.h"

#define LEVELS 16
#define MEMBER_MAX 65536

typedef struct pend {
	uint8_t fp[SEG_FP_LEN];
	seg_loc loc;
} pend;

typedef struct level {
	seg_node_ent *e; /* SEG_NODE_CUT_MAX entries */
	size_t n;
	uint64_t sum;
} level;

struct seg_stream {
	uint64_t unit_id;
	uint32_t n;
	struct seg_stream *next;
};

struct seg_writer {
	seg_store *s;
	char unit[SEG_NAME_MAX + 1];
	seg_unit_rec u;
	uint8_t key[SEG_KEY_MAX];
	size_t keylen;
	int has_key, finished, streamed;
	uint64_t base_logical; /* unit logical bytes minus the replaced object */

	seg_chunker *ch;
	dd_buf cbuf; /* bytes of the current partial chunk */
	EVP_MD_CTX *md5, *sha;
	int digests_ok;
	uint32_t digests; /* SEG_STAT_* to compute */
	uint64_t size;

	seg_ctr *ctr;
	ZSTD_CCtx *cctx;
	dd_buf region, table, scratch;
	uint32_t region_n;
	size_t region_first; /* index in pend of the region's first chunk */

	pend *pend;
	size_t npend, cappend;
	uint32_t *ht; /* open addressing: pend index + 1, 0 = empty */
	size_t htcap;

	uint8_t (*member)[SEG_FP_LEN];
	size_t nmember;
	uint64_t physical; /* bytes this writer appended to containers */

	seg_locality lc;
	level lv[LEVELS];
	dd_buf node; /* encoding scratch */

	seg_commit_check_fn check; /* seg_writer_set_check */
	void *check_ctx;
};

/* ------------------------------------------------------- pending table */

static size_t fp_hash(const uint8_t *fp)
{
	uint64_t h;

	memcpy(&h, fp + 16, 8);
	return (size_t)h;
}

static int ht_grow(seg_writer *w)
{
	size_t nc = w->htcap ? w->htcap * 2 : 4096;
	uint32_t *nt = calloc(nc, sizeof(*nt));

	if (!nt)
		return DD_ENOMEM;
	free(w->ht);
	w->ht = nt;
	w->htcap = nc;
	for (size_t i = 0; i < w->npend; i++) {
		size_t h = fp_hash(w->pend[i].fp) & (nc - 1);

		while (nt[h])
			h = (h + 1) & (nc - 1);
		nt[h] = (uint32_t)i + 1;
	}
	return DD_OK;
}

static pend *pend_find(seg_writer *w, const uint8_t *fp)
{
	if (!w->htcap)
		return NULL;
	for (size_t h = fp_hash(fp) & (w->htcap - 1); w->ht[h];
	     h = (h + 1) & (w->htcap - 1)) {
		pend *p = &w->pend[w->ht[h] - 1];

		if (memcmp(p->fp, fp, SEG_FP_LEN) == 0)
			return p;
	}
	return NULL;
}

static int pend_add(seg_writer *w, const uint8_t *fp, const seg_loc *loc)
{
	size_t h;
	int rc;

	if (w->npend == w->cappend) {
		size_t nc = w->cappend ? w->cappend * 2 : 1024;
		pend *np = realloc(w->pend, nc * sizeof(*np));

		if (!np)
			return DD_ENOMEM;
		w->pend = np;
		w->cappend = nc;
	}
	if ((w->npend + 1) * 2 > w->htcap && (rc = ht_grow(w)) != DD_OK)
		return rc;
	memcpy(w->pend[w->npend].fp, fp, SEG_FP_LEN);
	w->pend[w->npend].loc = *loc;
	for (h = fp_hash(fp) & (w->htcap - 1); w->ht[h];
	     h = (h + 1) & (w->htcap - 1))
		;
	w->ht[h] = (uint32_t)++w->npend;
	return DD_OK;
}

static void pend_clear(seg_writer *w)
{
	w->npend = 0;
	w->region_first = 0;
	if (w->ht)
		memset(w->ht, 0, w->htcap * sizeof(*w->ht));
}

/* ------------------------------------------------------ index commit */

static int pend_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SEG_FP_LEN);
}

typedef struct idx_arg {
	seg_writer *w;
	int seal;            /* mark w->ctr sealed */
	uint64_t ctr_len;    /* durable length to record (0: no ctr) */
	uint64_t ctr_id;
	const seg_stat *st;  /* object to put (NULL: none) */
	int check_rc;        /* w->check's verdict (DD_OK: put) */
} idx_arg;

/*
 * Runs w->check on the key's current object inside txn t. Returns a
 * store error (the group txn fails), else DD_OK with a->check_rc set.
 */
static int run_check(idx_txn *t, idx_arg *a)
{
	seg_writer *w = a->w;
	seg_stat *cur = malloc(sizeof(*cur));
	int rc;

	if (!cur)
		return DD_ENOMEM;
	rc = seg_obj_get(t, w->u.id, (dd_str){(const char *)w->key, w->keylen},
			 cur);
	if (rc == DD_OK || rc == DD_ENOENT) {
		a->check_rc = w->check(w->check_ctx, rc == DD_OK ? cur : NULL);
		rc = DD_OK;
	}
	free(cur);
	return rc;
}

/* Puts the writer's pending fp entries (sorted), its container record and
 * DSP membership, then the object if any. Runs inside the group txn. */
static int index_apply(seg_store *s, idx_txn *t, void *arg)
{
	idx_arg *a = arg;
	seg_writer *w = a->w;
	uint8_t v[SEG_LOC_LEN], mk[8 + SEG_FP_LEN];
	int rc;

	if (a->ctr_len) {
		seg_ctr_rec rec = {a->ctr_len, (uint32_t)a->seal, w->u.id};

		if ((rc = seg_ctr_rec_put(t, a->ctr_id, &rec)) != DD_OK)
			return rc;
	}
	for (size_t i = 0; i < w->npend; i++) {
		const pend *p = &w->pend[i];

		seg_loc_encode(&p->loc, v);
		rc = idx_put(t, IDX_DB_FP, p->fp, SEG_FP_LEN, v, sizeof(v), 1);
		if (rc != DD_OK && rc != DD_EEXIST)
			return rc;
		idx_bloom_add(s->bloom, p->fp);
	}
	put_be64(mk, w->u.id);
	for (size_t i = 0; i < w->nmember; i++) {
		if (i && !memcmp(w->member[i], w->member[i - 1], SEG_FP_LEN))
			continue;
		memcpy(mk + 8, w->member[i], SEG_FP_LEN);
		if ((rc = idx_put(t, IDX_DB_UNITFP, mk, sizeof(mk), "", 0,
				  0)) != DD_OK)
			return rc;
	}
	if (w->physical) {
		seg_unit_rec u;

		if ((rc = seg_unit_rec_get(t, w->unit, &u)) != DD_OK)
			return rc;
		u.physical += w->physical;
		if ((rc = seg_unit_rec_put(t, w->unit, &u)) != DD_OK)
			return rc;
	}
	if (a->st && w->check && (rc = run_check(t, a)) != DD_OK)
		return rc;
	/* A failed check still commits the chunks and container record
	 * above (the data is durable and indexed), only not the object. */
	if (a->st && a->check_rc == DD_OK)
		return seg_obj_put(t, w->unit, (dd_str){(const char *)w->key,
							w->keylen}, a->st);
	return DD_OK;
}

/*
 * Commits the pending index entries (and obj, if st) in one group txn.
 * The container must already be fsynced up to ctr_len. Pending entries are
 * sorted first: the pend hash table is invalid afterwards (cleared).
 */
static int index_flush(seg_writer *w, int seal, const seg_stat *st)
{
	idx_arg a = {w, seal, 0, 0, st, DD_OK};
	int rc;

	if (w->ctr) {
		a.ctr_len = w->ctr->synced;
		a.ctr_id = w->ctr->id;
	}
	if (w->npend)
		qsort(w->pend, w->npend, sizeof(pend), pend_cmp);
	if (w->nmember)
		qsort(w->member, w->nmember, SEG_FP_LEN, pend_cmp);
	rc = seg_commit(w->s, index_apply, &a);
	pend_clear(w);
	w->nmember = 0;
	w->physical = 0;
	return rc != DD_OK ? rc : a.check_rc;
}

/* ----------------------------------------------------------- regions */

static int ctr_sync(seg_ctr *c)
{
	if (c->synced == c->size)
		return DD_OK;
	if (fdatasync(c->fd) != 0)
		return dd_rc_from_errno(errno);
	c->synced = c->size;
	return DD_OK;
}

#define POOL_MAX 64

/*
 * Takes an open container of this writer's unit from the pool, or creates
 * one. Containers are never shared between units: a container's chunks
 * were all sent by one unit's clients, which lets DSP answer "have" for
 * them without a per-chunk membership read (unit_has).
 */
static int ctr_take(seg_writer *w)
{
	seg_store *s = w->s;
	seg_ctr **pp;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (pp = &s->ctr_pool; *pp && (*pp)->owner != w->u.id;
	     pp = &(*pp)->next)
		;
	w->ctr = *pp;
	if (w->ctr) {
		*pp = w->ctr->next;
		s->ctr_pooled--;
	}
	pthread_mutex_unlock(&s->mu);
	if (w->ctr) {
		w->ctr->next = NULL;
		return DD_OK;
	}
	if ((rc = seg_ctr_create(s, &w->ctr)) != DD_OK)
		return rc;
	w->ctr->owner = w->u.id;
	return DD_OK;
}

/* Returns the container to the pool, or seals it when the pool is full. */
static void ctr_give_back(seg_writer *w)
{
	seg_store *s = w->s;
	int pooled = 0;

	if (!w->ctr)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->ctr_pooled < POOL_MAX) {
		w->ctr->next = s->ctr_pool;
		s->ctr_pool = w->ctr;
		s->ctr_pooled++;
		pooled = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (!pooled) {
		if (seg_ctr_seal(s, w->ctr) != DD_OK)
			dd_log(DD_LOG_WARN, "sealing container %016llx failed; "
			       "recovery will seal it",
			       (unsigned long long)w->ctr->id);
		seg_ctr_close(w->ctr);
	}
	w->ctr = NULL;
}

/* Seals a full container: trailer + fsync, then index its chunks. */
static int seal_flush(seg_writer *w)
{
	int rc;

	if ((rc = seg_ctr_write_trailer(w->s, w->ctr)) != DD_OK)
		return rc;
	rc = index_flush(w, 1, NULL);
	seg_ctr_close(w->ctr);
	w->ctr = NULL;
	return rc;
}

static int region_flush(seg_writer *w)
{
	uint64_t off;
	uint32_t len;
	int rc;

	if (w->region_n == 0)
		return DD_OK;
	if (!w->ctr && (rc = ctr_take(w)) != DD_OK)
		return rc;
	if ((rc = seg_ctr_append_region(w->s, w->ctr, w->cctx,
					(const uint8_t *)w->region.data,
					(uint32_t)w->region.len,
					(const uint8_t *)w->table.data,
					w->region_n, &off, &len,
					&w->scratch)) != DD_OK)
		return rc;
	w->physical += len;
	for (size_t i = w->region_first; i < w->npend; i++) {
		w->pend[i].loc.ctr = w->ctr->id;
		w->pend[i].loc.region_off = off;
		w->pend[i].loc.region_len = len;
	}
	w->region_first = w->npend;
	w->region_n = 0;
	dd_buf_reset(&w->region);
	dd_buf_reset(&w->table);
	if (w->ctr->size >= w->s->opts.container_size)
		return seal_flush(w);
	return DD_OK;
}

/*
 * Stores chunk (fp, data, len) unless the store has it: returns DD_OK
 * either way. Data chunks count in the dedup stats. *foreign (may be NULL)
 * is set when the chunk was found in a container of another unit (or of
 * unknown owner): only then does the unit need a DSP membership row.
 */
static int store_chunk(seg_writer *w, const uint8_t *fp, const void *data,
		       uint32_t len, int is_data, int *foreign)
{
	seg_store *s = w->s;
	uint8_t ent[SEG_REGION_ENT_LEN];
	uint64_t owner;
	seg_loc loc;
	int rc;

	if (foreign)
		*foreign = 0;
	if (is_data)
		SEG_STAT_ADD(s, chunks_in, 1);
	if (pend_find(w, fp))
		goto dup;
	rc = seg_lookup(s, &w->lc, fp, &loc, &owner);
	if (rc == DD_OK) {
		if (foreign)
			*foreign = owner != w->u.id;
		goto dup;
	}
	if (rc != DD_ENOENT)
		return rc;
	if (w->region_n && w->region.len + len > w->s->opts.region_size &&
	    (rc = region_flush(w)) != DD_OK)
		return rc;
	loc = (seg_loc){0, 0, 0, (uint32_t)w->region.len, len};
	memcpy(ent, fp, SEG_FP_LEN);
	put_u32(ent + 32, (uint32_t)w->region.len);
	put_u32(ent + 36, len);
	if ((rc = dd_buf_append(&w->region, data, len)) != DD_OK ||
	    (rc = dd_buf_append(&w->table, ent, sizeof(ent))) != DD_OK ||
	    (rc = pend_add(w, fp, &loc)) != DD_OK)
		return rc;
	w->region_n++;
	if (is_data)
		SEG_STAT_ADD(s, chunks_new, 1);
	return DD_OK;
dup:
	if (is_data)
		SEG_STAT_ADD(s, chunks_dup, 1);
	return DD_OK;
}

/* --------------------------------------------------------- recipe tree */

static int tree_add(seg_writer *w, int lvl, const uint8_t *fp, uint64_t len);

static int node_finish(seg_writer *w, int lvl)
{
	level *L = &w->lv[lvl];
	uint8_t hdr[SEG_NODE_HDR_LEN] = {0}, fp[SEG_FP_LEN];
	uint64_t sum = L->sum;
	int rc;

	put_u32(hdr, SEG_NODE_MAGIC);
	hdr[4] = lvl == 0 ? 0 : 1;
	put_u32(hdr + 8, (uint32_t)L->n);
	dd_buf_reset(&w->node);
	if ((rc = dd_buf_append(&w->node, hdr, sizeof(hdr))) != DD_OK)
		return rc;
	for (size_t i = 0; i < L->n; i++) {
		uint8_t e[SEG_NODE_ENT_LEN];

		memcpy(e, L->e[i].fp, SEG_FP_LEN);
		put_u64(e + 32, L->e[i].len);
		if ((rc = dd_buf_append(&w->node, e, sizeof(e))) != DD_OK)
			return rc;
	}
	seg_fingerprint(w->node.data, w->node.len, fp);
	if ((rc = store_chunk(w, fp, w->node.data, (uint32_t)w->node.len,
			      0, NULL)) != DD_OK)
		return rc;
	L->n = 0;
	L->sum = 0;
	return tree_add(w, lvl + 1, fp, sum);
}

/*
 * Appends an entry at level lvl. A node ends after an entry whose
 * fingerprint starts with a zero byte (content-defined, ~256 entries, so
 * equal runs of chunks give equal subtrees) or at SEG_NODE_CUT_MAX.
 */
static int tree_add(seg_writer *w, int lvl, const uint8_t *fp, uint64_t len)
{
	level *L;

	if (lvl >= LEVELS)
		return DD_ETOOBIG;
	L = &w->lv[lvl];
	if (!L->e) {
		L->e = malloc(SEG_NODE_CUT_MAX * sizeof(*L->e));
		if (!L->e)
			return DD_ENOMEM;
	}
	memcpy(L->e[L->n].fp, fp, SEG_FP_LEN);
	L->e[L->n].len = len;
	L->n++;
	L->sum += len;
	if (fp[0] == 0 || L->n == SEG_NODE_CUT_MAX)
		return node_finish(w, lvl);
	return DD_OK;
}

/* Closes every open node; *root is the single top entry (zeros if empty). */
static int tree_finish(seg_writer *w, uint8_t root[SEG_FP_LEN])
{
	int rc;

	for (int lvl = 0; lvl < LEVELS; lvl++) {
		int higher = 0;

		for (int j = lvl + 1; j < LEVELS; j++)
			higher |= w->lv[j].n > 0;
		if (!higher && lvl > 0 && w->lv[lvl].n == 1) {
			memcpy(root, w->lv[lvl].e[0].fp, SEG_FP_LEN);
			w->lv[lvl].n = 0;
			return DD_OK;
		}
		if (!higher && w->lv[lvl].n == 0) {
			memset(root, 0, SEG_FP_LEN);
			return DD_OK;
		}
		if (w->lv[lvl].n && (rc = node_finish(w, lvl)) != DD_OK)
			return rc;
	}
	return DD_ETOOBIG;
}

/* ------------------------------------------------------------- writer */

static int member_add(seg_writer *w, const uint8_t *fp)
{
	if (w->nmember == MEMBER_MAX) {
		int rc;

		/* membership may become durable before the object: the
		 * client proved it holds these bytes, so that is safe */
		qsort(w->member, w->nmember, SEG_FP_LEN, pend_cmp);
		idx_arg a = {w, 0, 0, 0, NULL, DD_OK};
		size_t np = w->npend;

		w->npend = 0; /* only membership now */
		rc = seg_commit(w->s, index_apply, &a);
		w->npend = np;
		w->nmember = 0;
		w->physical = 0;
		if (rc != DD_OK)
			return rc;
	}
	memcpy(w->member[w->nmember++], fp, SEG_FP_LEN);
	return DD_OK;
}

static int quota_check(seg_writer *w, uint64_t more)
{
	if (w->u.q.hard && w->base_logical + w->size + more > w->u.q.hard)
		return DD_EQUOTA;
	return DD_OK;
}

static int stream_enter(seg_writer *w)
{
	seg_store *s = w->s;
	struct seg_stream *st;
	int rc = DD_OK;

	pthread_mutex_lock(&s->mu);
	for (st = s->streams; st && st->unit_id != w->u.id; st = st->next)
		;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st) {
			rc = DD_ENOMEM;
			goto out;
		}
		st->unit_id = w->u.id;
		st->next = s->streams;
		s->streams = st;
	}
	if (w->u.q.stream_limit && st->n >= w->u.q.stream_limit) {
		rc = DD_ELIMIT;
		goto out;
	}
	st->n++;
	w->streamed = 1;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void stream_leave(seg_writer *w)
{
	seg_store *s = w->s;
	struct seg_stream **pp, *st;

	if (!w->streamed)
		return;
	pthread_mutex_lock(&s->mu);
	for (pp = &s->streams; (st = *pp); pp = &st->next) {
		if (st->unit_id != w->u.id)
			continue;
		if (--st->n == 0) {
			*pp = st->next;
			free(st);
		}
		break;
	}
	pthread_mutex_unlock(&s->mu);
	w->streamed = 0;
}

static int writer_new(seg_store *s, const char *unit, const dd_str *key,
		      seg_writer **out)
{
	seg_writer *w;
	seg_stat *old = NULL;
	idx_txn *t = NULL;
	int rc;

	*out = NULL;
	if (key && seg_key_ok(*key) != DD_OK)
		return DD_EINVAL;
	if (seg_name_ok(unit) != DD_OK)
		return DD_ENOENT;
	w = calloc(1, sizeof(*w));
	if (!w)
		return DD_ENOMEM;
	w->s = s;
	memcpy(w->unit, unit, strlen(unit) + 1);
	dd_buf_init(&w->cbuf, s->cp.max + 1);
	dd_buf_init(&w->region, s->opts.region_size + s->cp.max + 64);
	dd_buf_init(&w->table, (size_t)64 << 20);
	dd_buf_init(&w->scratch, (size_t)1 << 31);
	dd_buf_init(&w->node, SEG_NODE_HDR_LEN +
				      (size_t)SEG_NODE_MAX * SEG_NODE_ENT_LEN);
	w->digests_ok = 1;
	w->digests = SEG_STAT_MD5 | SEG_STAT_SHA256;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		goto fail;
	if ((rc = seg_unit_rec_get(t, unit, &w->u)) != DD_OK)
		goto fail;
	w->base_logical = w->u.logical;
	if (key) {
		w->has_key = 1;
		memcpy(w->key, key->p, key->len);
		w->keylen = key->len;
		old = malloc(sizeof(*old));
		if (!old) {
			rc = DD_ENOMEM;
			goto fail;
		}
		if (seg_obj_get(t, w->u.id, *key, old) == DD_OK)
			w->base_logical -= DD_MIN(w->base_logical, old->size);
	}
	idx_txn_abort(t);
	t = NULL;
	w->ch = seg_chunker_new(&s->cp);
	w->md5 = EVP_MD_CTX_new();
	w->sha = EVP_MD_CTX_new();
	w->cctx = ZSTD_createCCtx();
	w->member = malloc((size_t)MEMBER_MAX * SEG_FP_LEN);
	if (!w->ch || !w->md5 || !w->sha || !w->cctx || !w->member) {
		rc = DD_ENOMEM;
		goto fail;
	}
	if (EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) != 1 ||
	    EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
		rc = DD_EINTERNAL;
		goto fail;
	}
	if ((rc = stream_enter(w)) != DD_OK)
		goto fail;
	free(old);
	*out = w;
	return DD_OK;
fail:
	free(old);
	idx_txn_abort(t);
	w->finished = 1;
	seg_writer_free(w);
	return rc;
}

int seg_writer_open(seg_store *s, const char *unit, dd_str key,
		    seg_writer **out)
{
	return writer_new(s, unit, &key, out);
}

int seg_writer_open_ref(seg_store *s, const char *unit, seg_writer **out)
{
	return writer_new(s, unit, NULL, out);
}

uint64_t seg_writer_size(const seg_writer *w)
{
	return w->size;
}

void seg_writer_set_check(seg_writer *w, seg_commit_check_fn fn, void *ctx)
{
	w->check = fn;
	w->check_ctx = ctx;
}

int seg_writer_set_digests(seg_writer *w, uint32_t flags)
{
	if (w->size || w->cbuf.len || w->finished ||
	    (flags & ~(uint32_t)(SEG_STAT_MD5 | SEG_STAT_SHA256)))
		return DD_EINVAL;
	w->digests = flags;
	return DD_OK;
}

/* Feeds content bytes to the digests the writer computes. */
static int digest_update(seg_writer *w, const void *p, size_t n)
{
	if (!n)
		return DD_OK;
	if ((w->digests & SEG_STAT_MD5) &&
	    EVP_DigestUpdate(w->md5, p, n) != 1)
		return DD_EINTERNAL;
	if ((w->digests & SEG_STAT_SHA256) &&
	    EVP_DigestUpdate(w->sha, p, n) != 1)
		return DD_EINTERNAL;
	return DD_OK;
}

/* Adds one data chunk's bytes: fingerprint, store, recipe, membership. */
static int emit_chunk(seg_writer *w, const void *data, size_t len,
		      const uint8_t *known_fp)
{
	uint8_t fp[SEG_FP_LEN];
	int rc, foreign;

	if (known_fp)
		memcpy(fp, known_fp, SEG_FP_LEN);
	else
		seg_fingerprint(data, len, fp);
	SEG_STAT_ADD(w->s, bytes_logical, len);
	if ((rc = store_chunk(w, fp, data, (uint32_t)len, 1, &foreign)) ||
	    (rc = tree_add(w, 0, fp, len)) != DD_OK ||
	    (foreign && (rc = member_add(w, fp)) != DD_OK))
		return rc;
	w->size += len;
	return DD_OK;
}

int seg_writer_write(seg_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int rc;

	if (w->finished)
		return DD_EINVAL;
	if ((rc = quota_check(w, w->cbuf.len + len)) != DD_OK)
		return rc;
	if ((rc = digest_update(w, buf, len)) != DD_OK)
		return rc;
	while (len > 0) {
		int cut;
		size_t used = seg_chunker_scan(w->ch, p, len, &cut);

		if (cut && w->cbuf.len == 0) {
			rc = emit_chunk(w, p, used, NULL); /* no copy */
		} else {
			rc = dd_buf_append(&w->cbuf, p, used);
			if (rc == DD_OK && cut) {
				rc = emit_chunk(w, w->cbuf.data, w->cbuf.len,
						NULL);
				dd_buf_reset(&w->cbuf);
			}
		}
		if (rc != DD_OK)
			return rc;
		p += used;
		len -= used;
	}
	return DD_OK;
}

/* Ends the current partial chunk (before refs, at commit). */
static int flush_partial(seg_writer *w)
{
	int rc = DD_OK;

	if (w->cbuf.len) {
		rc = emit_chunk(w, w->cbuf.data, w->cbuf.len, NULL);
		dd_buf_reset(&w->cbuf);
	}
	seg_chunker_reset(w->ch);
	return rc;
}

/*
 * DD_OK if this unit may reference fp of length len: the writer stored it
 * itself, or the unit has referenced it before and the store still has
 * it. t: a read txn.
 */
static int unit_has(seg_writer *w, idx_txn *t, const uint8_t *fp,
		    uint32_t len)
{
	uint8_t mk[8 + SEG_FP_LEN];
	pend *p = pend_find(w, fp);
	uint64_t owner;
	seg_loc loc;
	dd_str v;
	int rc;

	if (p)
		return p->loc.chunk_len == len ? DD_OK : DD_ENOENT;
	/* A cold locality cache (a new writer) must not answer "missing":
	 * the lookup loads the chunk's container list and its owner. */
	if (!seg_locality_find_owner(&w->lc, fp, &loc, &owner) &&
	    (rc = seg_lookup(w->s, &w->lc, fp, &loc, &owner)) != DD_OK)
		return rc;
	/* in a container this unit wrote: its clients sent these bytes */
	if (owner == w->u.id)
		return loc.chunk_len == len ? DD_OK : DD_ENOENT;
	put_be64(mk, w->u.id);
	memcpy(mk + 8, fp, SEG_FP_LEN);
	if ((rc = idx_get(t, IDX_DB_UNITFP, mk, sizeof(mk), &v)) != DD_OK)
		return rc;
	return loc.chunk_len == len ? DD_OK : DD_ENOENT;
}

int seg_writer_query(seg_writer *w, const uint8_t (*fps)[SEG_FP_LEN],
		     const uint32_t *lens, size_t n, uint8_t *missing_out)
{
	idx_txn *t;
	int rc;

	if (w->finished)
		return DD_EINVAL;
	if ((rc = seg_rtxn(w->s, &t)) != DD_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = unit_has(w, t, fps[i], lens[i]);
		if (rc != DD_OK && rc != DD_ENOENT)
			break;
		missing_out[i] = rc != DD_OK;
		rc = DD_OK;
	}
	idx_txn_abort(t);
	return rc;
}

int seg_writer_put_chunk(seg_writer *w, const uint8_t fp[SEG_FP_LEN],
			 const void *data, size_t len)
{
	uint8_t real[SEG_FP_LEN];
	int rc;

	if (w->finished || len == 0 || len > w->s->cp.max)
		return DD_EINVAL;
	seg_fingerprint(data, len, real);
	if (memcmp(real, fp, SEG_FP_LEN) != 0)
		return DD_EDIGEST;
	if ((rc = quota_check(w, w->cbuf.len + len)) != DD_OK ||
	    (rc = flush_partial(w)) != DD_OK)
		return rc;
	if ((rc = digest_update(w, data, len)) != DD_OK)
		return rc;
	return emit_chunk(w, data, len, real);
}

int seg_writer_add_ref(seg_writer *w, const uint8_t fp[SEG_FP_LEN], size_t len)
{
	idx_txn *t;
	int rc;

	if (w->finished || len == 0 || len > w->s->cp.max)
		return DD_EINVAL;
	if ((rc = quota_check(w, w->cbuf.len + len)) != DD_OK ||
	    (rc = flush_partial(w)) != DD_OK)
		return rc;
	if ((rc = seg_rtxn(w->s, &t)) != DD_OK)
		return rc;
	rc = unit_has(w, t, fp, (uint32_t)len);
	idx_txn_abort(t);
	if (rc != DD_OK)
		return rc;
	w->digests_ok = 0;
	SEG_STAT_ADD(w->s, chunks_in, 1);
	SEG_STAT_ADD(w->s, chunks_dup, 1);
	SEG_STAT_ADD(w->s, bytes_logical, len);
	/* unit_has proved the unit already has it: no new membership */
	if ((rc = tree_add(w, 0, fp, len)) != DD_OK)
		return rc;
	w->size += len;
	return DD_OK;
}

/* Adds a reference to an existing chunk or subtree without membership
 * checks or rows (the caller read it from an object of the same unit,
 * whose writer recorded what DSP needs). */
static int add_known(seg_writer *w, const uint8_t *fp, uint64_t len, int lvl)
{
	int rc;

	if ((rc = quota_check(w, len)) != DD_OK ||
	    (rc = tree_add(w, lvl, fp, len)) != DD_OK)
		return rc;
	w->size += len;
	w->digests_ok = 0;
	return DD_OK;
}

/*
 * Finishes the data: last chunk, recipe root, last region, fsync of the
 * container, then one group txn with the index entries and (if st) the
 * object. The container goes back to the pool.
 */
static int writer_finish(seg_writer *w, const seg_attrs *attrs, seg_stat *st,
			 int put_obj)
{
	unsigned int dl;
	int rc;

	if (w->finished)
		return DD_EINVAL;
	w->finished = 1;
	memset(st, 0, sizeof(*st));
	if ((rc = seg_attrs_apply(attrs, st)) != DD_OK ||
	    (rc = flush_partial(w)) != DD_OK ||
	    (rc = tree_finish(w, st->root)) != DD_OK ||
	    (rc = region_flush(w)) != DD_OK)
		goto out;
	if (w->ctr && (rc = ctr_sync(w->ctr)) != DD_OK)
		goto out;
	st->size = w->size;
	st->mtime_ns = dd_now_ns();
	if (w->digests_ok) {
		if (((w->digests & SEG_STAT_MD5) &&
		     EVP_DigestFinal_ex(w->md5, st->md5, &dl) != 1) ||
		    ((w->digests & SEG_STAT_SHA256) &&
		     EVP_DigestFinal_ex(w->sha, st->sha256, &dl) != 1)) {
			rc = DD_EINTERNAL;
			goto out;
		}
		st->flags = w->digests;
	}
	rc = index_flush(w, 0, put_obj ? st : NULL);
out:
	ctr_give_back(w);
	return rc;
}

int seg_writer_commit(seg_writer *w, const seg_attrs *attrs, seg_stat *st)
{
	seg_stat *tmp;
	int rc;

	if (!w->has_key)
		return DD_EINVAL;
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return DD_ENOMEM;
	rc = writer_finish(w, attrs, tmp, 1);
	if (rc == DD_OK && st)
		*st = *tmp;
	free(tmp);
	return rc;
}

int seg_writer_commit_ref(seg_writer *w, seg_ref *ref)
{
	seg_stat *tmp = malloc(sizeof(*tmp));
	int rc;

	if (!tmp)
		return DD_ENOMEM;
	rc = writer_finish(w, NULL, tmp, 0);
	if (rc == DD_OK) {
		memcpy(ref->root, tmp->root, SEG_FP_LEN);
		ref->size = tmp->size;
		memcpy(ref->md5, tmp->md5, 16);
		memcpy(ref->sha256, tmp->sha256, 32);
	}
	free(tmp);
	return rc;
}

void seg_writer_abort(seg_writer *w)
{
	if (!w || w->finished)
		return;
	w->finished = 1;
	/* region bytes already appended stay as unreferenced garbage */
	ctr_give_back(w);
}

void seg_writer_free(seg_writer *w)
{
	if (!w)
		return;
	seg_writer_abort(w);
	stream_leave(w);
	seg_chunker_free(w->ch);
	EVP_MD_CTX_free(w->md5);
	EVP_MD_CTX_free(w->sha);
	ZSTD_freeCCtx(w->cctx);
	dd_buf_release(&w->cbuf);
	dd_buf_release(&w->region);
	dd_buf_release(&w->table);
	dd_buf_release(&w->scratch);
	dd_buf_release(&w->node);
	free(w->pend);
	free(w->ht);
	free(w->member);
	for (int i = 0; i < LEVELS; i++)
		free(w->lv[i].e);
	seg_locality_release(&w->lc);
	free(w);
}

/* -------------------------------------------------- concat, synthesize */

int seg_build_concat(seg_store *s, const char *unit,
		     const uint8_t (*roots)[SEG_FP_LEN], const uint64_t *sizes,
		     size_t n, uint8_t root[SEG_FP_LEN], uint64_t *size)
{
	seg_writer *w;
	seg_ref ref;
	int rc;

	if ((rc = seg_writer_open_ref(s, unit, &w)) != DD_OK)
		return rc;
	for (size_t i = 0; i < n && rc == DD_OK; i++)
		if (sizes[i])
			rc = add_known(w, roots[i], sizes[i], 1);
	if (rc == DD_OK)
		rc = seg_writer_commit_ref(w, &ref);
	seg_writer_free(w);
	if (rc == DD_OK) {
		memcpy(root, ref.root, SEG_FP_LEN);
		*size = ref.size;
	}
	return rc;
}

int seg_concat(seg_store *s, const char *unit, dd_str key, const dd_str *srcs,
	       size_t n, const seg_attrs *attrs, seg_stat *st)
{
	seg_writer *w;
	seg_stat *src;
	int rc;

	src = malloc(sizeof(*src));
	if (!src)
		return DD_ENOMEM;
	if ((rc = seg_writer_open(s, unit, key, &w)) != DD_OK) {
		free(src);
		return rc;
	}
	for (size_t i = 0; i < n && rc == DD_OK; i++) {
		rc = seg_stat_object(s, unit, srcs[i], src);
		if (rc == DD_OK && src->size)
			rc = add_known(w, src->root, src->size, 1);
	}
	if (rc == DD_OK)
		rc = seg_writer_commit(w, attrs, st);
	seg_writer_free(w);
	free(src);
	return rc;
}

/*
 * Appends [off, end) of r's object to w: by chunk reference where whole
 * chunks fall inside, else (a chunk cut by an edge) by storing the piece
 * as a new chunk. The caller checked the range. dd_rc.
 */
static int extent_walk(seg_writer *w, seg_reader *r, uint64_t off,
		       uint64_t end)
{
	dd_buf part;
	int rc = DD_OK;

	dd_buf_init(&part, w->s->cp.max + 1);
	while (rc == DD_OK && off < end) {
		uint8_t fp[SEG_FP_LEN];
		uint64_t cs;
		uint32_t cl;
		size_t n, got;

		if ((rc = seg_reader_chunk_at(r, off, fp, &cs, &cl)) != DD_OK)
			break;
		if (cs == off && cs + cl <= end) {
			rc = add_known(w, fp, cl, 0);
			off += cl;
			continue;
		}
		n = (size_t)(DD_MIN(end, cs + cl) - off);
		dd_buf_reset(&part);
		if ((rc = dd_buf_reserve(&part, n)) != DD_OK ||
		    (rc = seg_reader_pread(r, part.data, n, off, &got)) != DD_OK)
			break;
		if (got != n) {
			rc = DD_ECORRUPT;
			break;
		}
		w->digests_ok = 0;
		if ((rc = quota_check(w, n)) == DD_OK)
			rc = emit_chunk(w, part.data, n, NULL);
		off += n;
	}
	dd_buf_release(&part);
	return rc;
}

/* Appends [off, off+len) of object key of w's unit (extent_walk). */
static int synth_extent(seg_writer *w, dd_str key, uint64_t off, uint64_t len)
{
	seg_reader *r;
	uint64_t end = off + len;
	int rc;

	if ((rc = seg_reader_open(w->s, w->unit, key, &r)) != DD_OK)
		return rc;
	if (end < off || end > seg_reader_stat(r)->size)
		rc = DD_ERANGE;
	else
		rc = extent_walk(w, r, off, end);
	seg_reader_free(r);
	return rc;
}

int seg_synthesize(seg_store *s, const char *unit, dd_str key,
		   const seg_extent *ext, size_t n, const seg_attrs *attrs,
		   seg_stat *st)
{
	seg_writer *w;
	int rc;

	if ((rc = seg_writer_open(s, unit, key, &w)) != DD_OK)
		return rc;
	w->digests_ok = 0;
	w->digests = 0; /* unknown for a synthesized whole: do not compute */
	for (size_t i = 0; i < n && rc == DD_OK; i++) {
		if (ext[i].len == 0)
			continue;
		if (!ext[i].key.p) {
			if (!ext[i].data) {
				rc = DD_EINVAL;
				break;
			}
			rc = seg_writer_write(w, ext[i].data, ext[i].len);
			if (rc == DD_OK)
				rc = flush_partial(w);
		} else {
			rc = synth_extent(w, ext[i].key, ext[i].off,
					  ext[i].len);
		}
	}
	if (rc == DD_OK)
		rc = seg_writer_commit(w, attrs, st);
	seg_writer_free(w);
	return rc;
}

int seg_ref_extent(seg_store *s, const char *unit, seg_reader *r,
		   uint64_t off, uint64_t len, seg_ref *ref)
{
	const seg_stat *st = seg_reader_stat(r);
	seg_writer *w;
	uint64_t end = off + len;
	int rc;

	if (end < off || end > st->size)
		return DD_ERANGE;
	if ((rc = seg_writer_open_ref(s, unit, &w)) != DD_OK)
		return rc;
	w->digests_ok = 0;
	w->digests = 0; /* the caller reads the range for its digests */
	if (off == 0 && len == st->size && len) {
		/* the whole object: its recipe root is the part's subtree */
		rc = add_known(w, st->root, len, 1);
		off = end;
	}
	if (rc == DD_OK)
		rc = extent_walk(w, r, off, end);
	if (rc == DD_OK)
		rc = seg_writer_commit_ref(w, ref);
	seg_writer_free(w);
	return rc;
}
