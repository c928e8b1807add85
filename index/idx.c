/*
 * index/idx.c - LMDB environment, txns, cursors and the Bloom filter.
 * The only file that includes lmdb.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "index/idx.h"

static const char *const db_names[IDX_DB_COUNT] = {
	"meta", "fp", "ctr", "units", "objects", "users",
	"akeys", "grants", "uploads", "parts", "unitfp",
};

struct idx_env {
	MDB_env *env;
	MDB_dbi dbi[IDX_DB_COUNT];
	uint64_t reads; /* atomic */
};

struct idx_txn {
	idx_env *e;
	MDB_txn *txn;
};

struct idx_cursor {
	idx_env *e;
	MDB_cursor *cur;
};

static int rc_from_mdb(int mrc)
{
	switch (mrc) {
	case MDB_SUCCESS: return DD_OK;
	case MDB_NOTFOUND: return DD_ENOENT;
	case MDB_KEYEXIST: return DD_EEXIST;
	case MDB_MAP_FULL: return DD_ENOSPC;
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID:
		return DD_ECORRUPT;
	case MDB_VERSION_MISMATCH: return DD_ECONFIG;
	case ENOMEM: return DD_ENOMEM;
	case EAGAIN: case EBUSY: return DD_ELOCKED;
	case MDB_READERS_FULL: return DD_EAGAIN;
	default: return mrc > 0 ? dd_rc_from_errno(mrc) : DD_EIO;
	}
}

int idx_env_open(const char *dir, uint64_t map_size, idx_env **out)
{
	idx_env *e;
	MDB_txn *txn = NULL;
	int mrc, rc;

	*out = NULL;
	if ((rc = dd_mkdir_p(dir, 0700)) != DD_OK)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return DD_ENOMEM;
	if ((mrc = mdb_env_create(&e->env)) != 0)
		goto fail;
	if ((mrc = mdb_env_set_mapsize(e->env, map_size)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(e->env, IDX_DB_COUNT + 2)) != 0 ||
	    (mrc = mdb_env_set_maxreaders(e->env, 1024)) != 0)
		goto fail;
	/* NOTLS: read txns are not tied to threads (readers hop threads).
	 * NORDAHEAD: the index is random access. */
	mrc = mdb_env_open(e->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0600);
	if (mrc != 0)
		goto fail;
	if ((mrc = mdb_txn_begin(e->env, NULL, 0, &txn)) != 0)
		goto fail;
	for (int i = 0; i < IDX_DB_COUNT; i++)
		if ((mrc = mdb_dbi_open(txn, db_names[i], MDB_CREATE,
					&e->dbi[i])) != 0)
			goto fail;
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0)
		goto fail;
	*out = e;
	return DD_OK;
fail:
	if (txn)
		mdb_txn_abort(txn);
	dd_log(DD_LOG_ERROR, "lmdb open %s: %s", dir, mdb_strerror(mrc));
	rc = rc_from_mdb(mrc);
	if (e->env)
		mdb_env_close(e->env);
	free(e);
	return rc;
}

void idx_env_close(idx_env *e)
{
	if (!e)
		return;
	mdb_env_close(e->env);
	free(e);
}

uint64_t idx_env_reads(idx_env *e)
{
	return __atomic_load_n(&e->reads, __ATOMIC_RELAXED);
}

int idx_txn_begin(idx_env *e, idx_txn *parent, int rdonly, idx_txn **out)
{
	idx_txn *t = malloc(sizeof(*t));
	int mrc;

	*out = NULL;
	if (!t)
		return DD_ENOMEM;
	t->e = e;
	mrc = mdb_txn_begin(e->env, parent ? parent->txn : NULL,
			    rdonly ? MDB_RDONLY : 0, &t->txn);
	if (mrc != 0) {
		free(t);
		return rc_from_mdb(mrc);
	}
	*out = t;
	return DD_OK;
}

int idx_txn_commit(idx_txn *t)
{
	int mrc = mdb_txn_commit(t->txn);

	free(t);
	return rc_from_mdb(mrc);
}

void idx_txn_abort(idx_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

int idx_get(idx_txn *t, int db, const void *k, size_t kl, dd_str *val)
{
	MDB_val key = {kl, (void *)k}, v;
	int mrc;

	__atomic_fetch_add(&t->e->reads, 1, __ATOMIC_RELAXED);
	mrc = mdb_get(t->txn, t->e->dbi[db], &key, &v);
	if (mrc != 0)
		return rc_from_mdb(mrc);
	val->p = v.mv_data;
	val->len = v.mv_size;
	return DD_OK;
}

int idx_put(idx_txn *t, int db, const void *k, size_t kl, const void *v,
	    size_t vl, int noover)
{
	MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};

	return rc_from_mdb(mdb_put(t->txn, t->e->dbi[db], &key, &val,
				   noover ? MDB_NOOVERWRITE : 0));
}

int idx_del(idx_txn *t, int db, const void *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};

	return rc_from_mdb(mdb_del(t->txn, t->e->dbi[db], &key, NULL));
}

uint64_t idx_count(idx_txn *t, int db)
{
	MDB_stat st;

	if (mdb_stat(t->txn, t->e->dbi[db], &st) != 0)
		return 0;
	return st.ms_entries;
}

int idx_cursor_open(idx_txn *t, int db, idx_cursor **out)
{
	idx_cursor *c = malloc(sizeof(*c));
	int mrc;

	*out = NULL;
	if (!c)
		return DD_ENOMEM;
	c->e = t->e;
	if ((mrc = mdb_cursor_open(t->txn, t->e->dbi[db], &c->cur)) != 0) {
		free(c);
		return rc_from_mdb(mrc);
	}
	*out = c;
	return DD_OK;
}

void idx_cursor_close(idx_cursor *c)
{
	if (!c)
		return;
	mdb_cursor_close(c->cur);
	free(c);
}

static int cursor_op(idx_cursor *c, MDB_val *k, MDB_cursor_op op, dd_str *key,
		     dd_str *val)
{
	MDB_val v;
	int mrc = mdb_cursor_get(c->cur, k, &v, op);

	if (mrc != 0)
		return rc_from_mdb(mrc);
	if (key) {
		key->p = k->mv_data;
		key->len = k->mv_size;
	}
	if (val) {
		val->p = v.mv_data;
		val->len = v.mv_size;
	}
	return DD_OK;
}

int idx_cursor_seek(idx_cursor *c, const void *k, size_t kl, dd_str *key,
		    dd_str *val)
{
	MDB_val mk = {kl, (void *)k};

	__atomic_fetch_add(&c->e->reads, 1, __ATOMIC_RELAXED);
	if (!k || kl == 0)
		return cursor_op(c, &mk, MDB_FIRST, key, val);
	return cursor_op(c, &mk, MDB_SET_RANGE, key, val);
}

int idx_cursor_next(idx_cursor *c, dd_str *key, dd_str *val)
{
	MDB_val mk;

	return cursor_op(c, &mk, MDB_NEXT, key, val);
}

int idx_cursor_del(idx_cursor *c)
{
	return rc_from_mdb(mdb_cursor_del(c->cur, 0));
}

/* ---------------------------------------------------------------- bloom */

/*
 * A scalable Bloom filter: a list of plain filters, each sized for twice
 * the entries of the previous. Inserts go to the newest; when it holds its
 * capacity a larger one is appended, so the false-positive rate stays near
 * 1% per filter however much the store grows after open (a fixed filter
 * sized at open would saturate and send every new chunk to LMDB).
 */
#define BLOOM_K 7
#define BLOOM_MAX_FILTERS 40

typedef struct bloom_filter {
	uint64_t nbits; /* power of two */
	uint64_t cap;   /* entries it is sized for */
	uint64_t *words;
} bloom_filter;

struct idx_bloom {
	bloom_filter f[BLOOM_MAX_FILTERS];
	unsigned nf;    /* published filters (atomic) */
	uint64_t count; /* entries added to the newest (atomic) */
	pthread_mutex_t grow;
};

static int filter_init(bloom_filter *f, uint64_t cap)
{
	uint64_t want = cap * 10;

	f->nbits = 64;
	while (f->nbits < want)
		f->nbits <<= 1;
	f->cap = f->nbits / 10;
	f->words = calloc(f->nbits / 64, sizeof(uint64_t));
	return f->words ? DD_OK : DD_ENOMEM;
}

idx_bloom *idx_bloom_new(uint64_t expect)
{
	idx_bloom *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (filter_init(&b->f[0], DD_MAX(expect, (uint64_t)1 << 20)) != DD_OK) {
		free(b);
		return NULL;
	}
	b->nf = 1;
	pthread_mutex_init(&b->grow, NULL);
	return b;
}

void idx_bloom_free(idx_bloom *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < b->nf; i++)
		free(b->f[i].words);
	pthread_mutex_destroy(&b->grow);
	free(b);
}

/* SHA-256 output is uniform: use two of its words for double hashing. */
static void bloom_hashes(const uint8_t fp[32], uint64_t *h1, uint64_t *h2)
{
	memcpy(h1, fp, 8);
	memcpy(h2, fp + 8, 8);
	*h2 |= 1;
}

static void filter_add(bloom_filter *f, uint64_t h1, uint64_t h2)
{
	uint64_t mask = f->nbits - 1;

	for (int i = 0; i < BLOOM_K; i++) {
		uint64_t bit = (h1 + (uint64_t)i * h2) & mask;

		__atomic_fetch_or(&f->words[bit >> 6], 1ULL << (bit & 63),
				  __ATOMIC_RELAXED);
	}
}

static int filter_maybe(const bloom_filter *f, uint64_t h1, uint64_t h2)
{
	uint64_t mask = f->nbits - 1;

	for (int i = 0; i < BLOOM_K; i++) {
		uint64_t bit = (h1 + (uint64_t)i * h2) & mask;
		uint64_t w = __atomic_load_n(&f->words[bit >> 6],
					     __ATOMIC_RELAXED);

		if (!(w & (1ULL << (bit & 63))))
			return 0;
	}
	return 1;
}

void idx_bloom_add(idx_bloom *b, const uint8_t fp[32])
{
	uint64_t h1, h2;
	unsigned nf = __atomic_load_n(&b->nf, __ATOMIC_ACQUIRE);

	bloom_hashes(fp, &h1, &h2);
	filter_add(&b->f[nf - 1], h1, h2);
	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_RELAXED) <
	    b->f[nf - 1].cap)
		return;
	/* the newest filter is full: append one twice its size */
	pthread_mutex_lock(&b->grow);
	if (b->nf == nf && nf < BLOOM_MAX_FILTERS &&
	    filter_init(&b->f[nf], b->f[nf - 1].cap * 2) == DD_OK) {
		__atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->nf, nf + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&b->grow);
}

int idx_bloom_maybe(const idx_bloom *b, const uint8_t fp[32])
{
	uint64_t h1, h2;
	unsigned nf = __atomic_load_n(&b->nf, __ATOMIC_ACQUIRE);

	bloom_hashes(fp, &h1, &h2);
	for (unsigned i = nf; i-- > 0;)
		if (filter_maybe(&b->f[i], h1, h2))
			return 1;
	return 0;
}
