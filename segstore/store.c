/*
 * segstore/store.c - opening and recovering a store, the group committer,
 * fingerprint lookup with the Bloom filter and locality cache, chunk
 * fetching, stats.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "segstore/seg_int.h"

struct seg_commit_req {
	seg_apply_fn apply;
	void *arg;
	int rc;
	int done;
	struct seg_commit_req *next;
};

void seg_opts_init(seg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->chunk_avg = SEG_CHUNK_AVG_DEFAULT;
	o->container_size = 32u << 20;
	o->region_size = 512u << 10;
	o->zstd_level = 1;
	o->map_size = (uint64_t)1 << 40;
}

static void opts_fill(seg_opts *o, const seg_opts *in)
{
	seg_opts d;

	seg_opts_init(&d);
	*o = in ? *in : d;
	{
		seg_chunk_params cp = {o->chunk_min, o->chunk_avg, o->chunk_max};

		seg_chunk_params_default(&cp);
		o->chunk_min = cp.min;
		o->chunk_avg = cp.avg;
		o->chunk_max = cp.max;
	}
	if (!o->container_size)
		o->container_size = d.container_size;
	if (!o->region_size)
		o->region_size = d.region_size;
	if (!o->zstd_level)
		o->zstd_level = d.zstd_level;
	if (!o->map_size)
		o->map_size = d.map_size;
}

int seg_rtxn(seg_store *s, idx_txn **t)
{
	return idx_txn_begin(s->env, NULL, 1, t);
}

/* ------------------------------------------------------- group commit */

/*
 * Leader/follower group commit: the first thread to find no leader takes
 * every queued request, applies each in a nested txn (a failing request
 * rolls back alone), commits once (one fsync) and wakes the others.
 */
int seg_commit(seg_store *s, seg_apply_fn apply, void *arg)
{
	struct seg_commit_req req = {apply, arg, DD_OK, 0, NULL};

	pthread_mutex_lock(&s->mu);
	if (s->queue_tail)
		s->queue_tail->next = &req;
	else
		s->queue = &req;
	s->queue_tail = &req;
	while (!req.done) {
		struct seg_commit_req *batch, *r;
		idx_txn *t = NULL;
		int rc, n = 0;

		if (s->leader) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		s->leader = 1;
		batch = s->queue;
		s->queue = s->queue_tail = NULL;
		pthread_mutex_unlock(&s->mu);

		rc = idx_txn_begin(s->env, NULL, 0, &t);
		for (r = batch; r; r = r->next) {
			idx_txn *nt = NULL;

			if (rc != DD_OK) {
				r->rc = rc;
				continue;
			}
			if ((r->rc = idx_txn_begin(s->env, t, 0, &nt)) != DD_OK)
				continue;
			r->rc = r->apply(s, nt, r->arg);
			if (r->rc == DD_OK)
				r->rc = idx_txn_commit(nt);
			else
				idx_txn_abort(nt);
			n++;
		}
		if (rc == DD_OK) {
			rc = idx_txn_commit(t);
			if (rc != DD_OK)
				dd_log(DD_LOG_ERROR, "index commit: %s",
				       dd_strerror(rc));
			for (r = batch; r; r = r->next)
				if (r->rc == DD_OK)
					r->rc = rc;
			SEG_STAT_ADD(s, lmdb_txns, 1);
			SEG_STAT_ADD(s, commits, (uint64_t)n);
		}
		pthread_mutex_lock(&s->mu);
		for (r = batch; r;) {
			struct seg_commit_req *nx = r->next;

			r->done = 1; /* r may vanish once done is seen */
			r = nx;
		}
		s->leader = 0;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return req.rc;
}

/* --------------------------------------------------------------- meta */

typedef struct meta_arg {
	seg_store *s;
	const seg_opts *o;
} meta_arg;

static int meta_apply(seg_store *s, idx_txn *t, void *arg)
{
	meta_arg *m = arg;
	uint8_t v[12];
	dd_str val;
	int rc;

	(void)s;
	rc = idx_get(t, IDX_DB_META, "format", 6, &val);
	if (rc == DD_ENOENT) {
		seg_chunk_params cp = {m->o->chunk_min, m->o->chunk_avg,
				       m->o->chunk_max};

		if ((rc = seg_chunk_params_check(&cp)) != DD_OK)
			return DD_ECONFIG;
		put_u32(v, SEG_FORMAT_VERSION);
		if ((rc = idx_put(t, IDX_DB_META, "format", 6, v, 4, 0)))
			return rc;
		put_u32(v, cp.min);
		put_u32(v + 4, cp.avg);
		put_u32(v + 8, cp.max);
		if ((rc = idx_put(t, IDX_DB_META, "chunk", 5, v, 12, 0)))
			return rc;
		put_u64(v, 1);
		if ((rc = idx_put(t, IDX_DB_META, "next_unit", 9, v, 8, 0)))
			return rc;
		m->s->cp = cp;
		return DD_OK;
	}
	if (rc != DD_OK)
		return rc;
	if (val.len != 4)
		return DD_ECORRUPT;
	if (get_u32((const uint8_t *)val.p) > SEG_FORMAT_VERSION) {
		dd_log(DD_LOG_ERROR, "store format %u is newer than %u",
		       get_u32((const uint8_t *)val.p), SEG_FORMAT_VERSION);
		return DD_ECONFIG;
	}
	if ((rc = idx_get(t, IDX_DB_META, "chunk", 5, &val)) != DD_OK)
		return rc == DD_ENOENT ? DD_ECORRUPT : rc;
	if (val.len != 12)
		return DD_ECORRUPT;
	m->s->cp.min = get_u32((const uint8_t *)val.p);
	m->s->cp.avg = get_u32((const uint8_t *)val.p + 4);
	m->s->cp.max = get_u32((const uint8_t *)val.p + 8);
	return seg_chunk_params_check(&m->s->cp) == DD_OK ? DD_OK
							   : DD_ECORRUPT;
}

/* ----------------------------------------------------------- recovery */

typedef struct recover_arg {
	uint64_t *ids;
	seg_ctr_rec *recs;
	size_t n;
} recover_arg;

static int recover_apply(seg_store *s, idx_txn *t, void *arg)
{
	recover_arg *r = arg;
	int rc;

	(void)s;
	for (size_t i = 0; i < r->n; i++)
		if ((rc = seg_ctr_rec_put(t, r->ids[i], &r->recs[i])) != DD_OK)
			return rc;
	return DD_OK;
}

/* Seals container id whose durable prefix is rec->durable_len. */
static int recover_one(seg_store *s, uint64_t id, seg_ctr_rec *rec)
{
	char path[512];
	seg_ctr c = {0};
	int rc;

	seg_ctr_path(s, id, path, sizeof(path));
	c.id = id;
	c.fd = open(path, O_RDWR | O_CLOEXEC);
	if (c.fd < 0)
		return dd_rc_from_errno(errno);
	if (ftruncate(c.fd, (off_t)rec->durable_len) != 0) {
		rc = dd_rc_from_errno(errno);
		goto out;
	}
	c.size = rec->durable_len;
	if ((rc = seg_ctr_write_trailer(s, &c)) != DD_OK)
		goto out;
	rec->durable_len = c.size;
	rec->sealed = 1;
out:
	close(c.fd);
	return rc;
}

/*
 * Startup recovery: a container file without a record was never referenced
 * (delete it); one with an unsealed record is truncated to its durable
 * length and sealed; a sealed one loses any bytes past its recorded end.
 */
static int recover(seg_store *s)
{
	DIR *d = opendir(s->ctrdir);
	struct dirent *de;
	recover_arg ra = {NULL, NULL, 0};
	size_t cap = 0;
	uint64_t maxid = 0;
	idx_txn *t = NULL;
	int rc = DD_OK;

	if (!d)
		return dd_rc_from_errno(errno);
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		goto out;
	while ((de = readdir(d))) {
		unsigned long long id;
		char tail[8], path[512];
		seg_ctr_rec rec;

		if (sscanf(de->d_name, "%16llx.%3s", &id, tail) != 2 ||
		    strcmp(tail, "ctr") != 0)
			continue;
		maxid = DD_MAX(maxid, (uint64_t)id);
		rc = seg_ctr_rec_get(s, t, id, &rec);
		if (rc == DD_ENOENT) {
			seg_ctr_path(s, id, path, sizeof(path));
			dd_log(DD_LOG_INFO, "recovery: removing unreferenced "
			       "container %016llx", id);
			unlink(path);
			rc = DD_OK;
			continue;
		}
		if (rc != DD_OK)
			goto out;
		if (rec.sealed) {
			seg_ctr_path(s, id, path, sizeof(path));
			if (truncate(path, (off_t)rec.durable_len) != 0) {
				rc = dd_rc_from_errno(errno);
				goto out;
			}
			continue;
		}
		if (ra.n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *ni = realloc(ra.ids, cap * sizeof(*ni));
			if (ni)
				ra.ids = ni;
			seg_ctr_rec *nr = realloc(ra.recs, cap * sizeof(*nr));
			if (nr)
				ra.recs = nr;
			if (!ni || !nr) {
				rc = DD_ENOMEM;
				goto out;
			}
		}
		ra.ids[ra.n] = id;
		ra.recs[ra.n++] = rec;
	}
	idx_txn_abort(t);
	t = NULL;
	for (size_t i = 0; i < ra.n; i++) {
		dd_log(DD_LOG_INFO, "recovery: sealing container %016llx at %llu",
		       (unsigned long long)ra.ids[i],
		       (unsigned long long)ra.recs[i].durable_len);
		if ((rc = recover_one(s, ra.ids[i], &ra.recs[i])) != DD_OK)
			goto out;
	}
	if (ra.n && (rc = seg_commit(s, recover_apply, &ra)) != DD_OK)
		goto out;
	s->next_ctr = maxid + 1;
	if ((rc = dd_fsync_dir(s->ctrdir)) != DD_OK)
		goto out;
out:
	idx_txn_abort(t);
	closedir(d);
	free(ra.ids);
	free(ra.recs);
	return rc;
}

static int bloom_build(seg_store *s)
{
	idx_txn *t = NULL;
	idx_cursor *c = NULL;
	dd_str k;
	int rc;

	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	s->bloom = idx_bloom_new(idx_count(t, IDX_DB_FP) * 2);
	if (!s->bloom) {
		rc = DD_ENOMEM;
		goto out;
	}
	if ((rc = idx_cursor_open(t, IDX_DB_FP, &c)) != DD_OK)
		goto out;
	for (rc = idx_cursor_seek(c, NULL, 0, &k, NULL); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, NULL))
		if (k.len == SEG_FP_LEN)
			idx_bloom_add(s->bloom, (const uint8_t *)k.p);
	if (rc == DD_ENOENT)
		rc = DD_OK;
out:
	idx_cursor_close(c);
	idx_txn_abort(t);
	return rc;
}

int seg_store_open(const char *data_dir, const seg_opts *o, seg_store **out)
{
	seg_store *s;
	char path[512];
	meta_arg ma;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return DD_ENOMEM;
	s->lockfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	opts_fill(&s->opts, o);
	if ((size_t)snprintf(s->root, sizeof(s->root), "%s/store", data_dir) >=
	    sizeof(s->root)) {
		rc = DD_EINVAL;
		goto fail;
	}
	snprintf(s->ctrdir, sizeof(s->ctrdir), "%s/containers", s->root);
	if ((rc = dd_mkdir_p(s->ctrdir, 0700)) != DD_OK)
		goto fail;
	snprintf(path, sizeof(path), "%s/LOCK", s->root);
	s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		rc = dd_rc_from_errno(errno);
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = DD_ELOCKED;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/index", s->root);
	if ((rc = idx_env_open(path, s->opts.map_size, &s->env)) != DD_OK)
		goto fail;
	ma = (meta_arg){s, &s->opts};
	if ((rc = seg_commit(s, meta_apply, &ma)) != DD_OK)
		goto fail;
	if ((rc = recover(s)) != DD_OK || (rc = bloom_build(s)) != DD_OK)
		goto fail;
	*out = s;
	return DD_OK;
fail:
	dd_log(DD_LOG_ERROR, "store open %s: %s", data_dir, dd_strerror(rc));
	idx_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	return rc;
}

typedef struct seal_arg {
	uint64_t id;
	seg_ctr_rec rec;
} seal_arg;

static int seal_apply(seg_store *s, idx_txn *t, void *arg)
{
	seal_arg *a = arg;

	(void)s;
	return seg_ctr_rec_put(t, a->id, &a->rec);
}

/*
 * Seals a pooled container that holds committed data: trailer, fsync,
 * record. One that never got a record (no commit referenced it) is
 * removed instead.
 */
int seg_ctr_seal(seg_store *s, seg_ctr *c)
{
	seal_arg a = {c->id, {0, 1, c->owner}};
	idx_txn *t;
	seg_ctr_rec rec;
	char path[512];
	int rc;

	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	rc = seg_ctr_rec_get(s, t, c->id, &rec);
	idx_txn_abort(t);
	if (rc == DD_ENOENT) {
		seg_ctr_path(s, c->id, path, sizeof(path));
		unlink(path);
		return DD_OK;
	}
	if (rc != DD_OK)
		return rc;
	if (ftruncate(c->fd, (off_t)rec.durable_len) != 0)
		return dd_rc_from_errno(errno);
	c->size = rec.durable_len;
	if ((rc = seg_ctr_write_trailer(s, c)) != DD_OK)
		return rc;
	a.rec.durable_len = c->size;
	a.rec.owner = rec.owner;
	return seg_commit(s, seal_apply, &a);
}

void seg_store_close(seg_store *s)
{
	if (!s)
		return;
	while (s->ctr_pool) {
		seg_ctr *c = s->ctr_pool;

		s->ctr_pool = c->next;
		if (seg_ctr_seal(s, c) != DD_OK)
			dd_log(DD_LOG_WARN, "sealing container %016llx failed; "
			       "recovery will seal it", (unsigned long long)c->id);
		seg_ctr_close(c);
	}
	idx_bloom_free(s->bloom);
	idx_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

void seg_store_chunk_params(const seg_store *s, seg_chunk_params *out)
{
	*out = s->cp;
}

void seg_store_stats(seg_store *s, seg_stats *out)
{
	uint64_t *src = (uint64_t *)&s->st, *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	out->lmdb_reads = idx_env_reads(s->env);
}

/* ------------------------------------------------------ locality cache */

void seg_locality_release(seg_locality *lc)
{
	for (int i = 0; i < SEG_LOC_SLOTS; i++)
		free(lc->slot[i].v);
	memset(lc, 0, sizeof(*lc));
}

int seg_locality_find(seg_locality *lc, const uint8_t *fp, seg_loc *loc)
{
	uint64_t owner;

	return seg_locality_find_owner(lc, fp, loc, &owner);
}

int seg_locality_find_owner(seg_locality *lc, const uint8_t *fp,
			    seg_loc *loc, uint64_t *owner)
{
	for (int i = 0; i < SEG_LOC_SLOTS; i++) {
		const seg_fploc *v = lc->slot[i].v;
		size_t lo = 0, hi = lc->slot[i].n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = memcmp(v[mid].fp, fp, SEG_FP_LEN);

			if (c == 0) {
				*loc = v[mid].loc;
				*owner = lc->slot[i].owner;
				lc->slot[i].used = ++lc->tick;
				return 1;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

static void locality_load(seg_store *s, seg_locality *lc, idx_txn *t,
			  uint64_t ctr)
{
	seg_ctr_rec rec;
	seg_fploc *v;
	size_t n;
	int victim = 0;

	for (int i = 0; i < SEG_LOC_SLOTS; i++) {
		if (lc->slot[i].v && lc->slot[i].ctr == ctr)
			return; /* loaded, fp not in its durable prefix */
		if (lc->slot[i].used < lc->slot[victim].used)
			victim = i;
	}
	if (seg_ctr_rec_get(s, t, ctr, &rec) != DD_OK ||
	    seg_ctr_load_list(s, ctr, &rec, &v, &n) != DD_OK)
		return; /* only a cache: the lookup result stands */
	free(lc->slot[victim].v);
	lc->slot[victim].v = v;
	lc->slot[victim].n = n;
	lc->slot[victim].ctr = ctr;
	lc->slot[victim].owner = rec.owner;
	lc->slot[victim].used = ++lc->tick;
	SEG_STAT_ADD(s, locality_loads, 1);
}

int seg_lookup(seg_store *s, seg_locality *lc, const uint8_t *fp,
	       seg_loc *loc, uint64_t *owner)
{
	uint64_t own = 0;
	seg_loc tmp;
	idx_txn *t;
	dd_str v;
	int rc;

	if (owner)
		*owner = 0;
	if (lc && seg_locality_find_owner(lc, fp, loc, owner ? owner : &own)) {
		SEG_STAT_ADD(s, locality_hits, 1);
		return DD_OK;
	}
	if (!idx_bloom_maybe(s->bloom, fp)) {
		SEG_STAT_ADD(s, bloom_negative, 1);
		return DD_ENOENT;
	}
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	rc = idx_get(t, IDX_DB_FP, fp, SEG_FP_LEN, &v);
	if (rc == DD_OK)
		rc = seg_loc_decode(v.p, v.len, loc);
	if (rc == DD_OK && lc) {
		locality_load(s, lc, t, loc->ctr);
		if (owner && !seg_locality_find_owner(lc, fp, &tmp, owner))
			*owner = 0;
	}
	idx_txn_abort(t);
	return rc;
}

int seg_chunk_fetch(seg_store *s, seg_locality *lc, const uint8_t *fp,
		    uint32_t len, void *out, seg_rcache *rc)
{
	const seg_rslot *sl;
	seg_loc loc;
	int rc2;

	if ((rc2 = seg_lookup(s, lc, fp, &loc, NULL)) != DD_OK)
		return rc2 == DD_ENOENT ? DD_ECORRUPT : rc2;
	if (loc.chunk_len != len)
		return DD_ECORRUPT;
	if ((rc2 = seg_region_get(s, &loc, rc, &sl)) != DD_OK)
		return rc2;
	if ((uint64_t)loc.chunk_off + len > sl->raw.len)
		return DD_ECORRUPT;
	memcpy(out, sl->raw.data + loc.chunk_off, len);
	return DD_OK;
}

int seg_chunk_fetch_any(seg_store *s, seg_locality *lc, const uint8_t *fp,
			dd_buf *out, seg_rcache *rc)
{
	seg_loc loc;
	int rc2;

	if ((rc2 = seg_lookup(s, lc, fp, &loc, NULL)) != DD_OK)
		return rc2 == DD_ENOENT ? DD_ECORRUPT : rc2;
	dd_buf_reset(out);
	if ((rc2 = dd_buf_reserve(out, loc.chunk_len)) != DD_OK)
		return rc2;
	if ((rc2 = seg_chunk_fetch(s, lc, fp, loc.chunk_len, out->data,
				   rc)) != DD_OK)
		return rc2;
	out->len = loc.chunk_len;
	return DD_OK;
}
