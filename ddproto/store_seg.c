/*
 * ddproto/store_seg.c - ddp_store_ops over segstore/seg.h (see store_seg.h
 * and docs/DDP.md section 10).
 *
 * A DSP writer keeps the queue of segments declared by DSP_QUERY and not
 * yet appended to its seg_writer: the store appends strictly in order, so
 * a segment the unit holds can only be appended (seg_writer_add_ref) once
 * every missing segment before it has arrived (seg_writer_put_chunk). The
 * in-order rule of DDP 6.6 keeps that queue free of data.
 */
#include "ddproto/store_seg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct qent {
	uint8_t fp[DDP_FP_LEN];
	uint32_t len;
	uint8_t missing; /* the client must send it */
} qent;

/* Set of fingerprints a writer received (open addressing). */
typedef struct fpset {
	uint8_t (*slot)[DDP_FP_LEN];
	uint8_t *used;
	size_t cap, n;
} fpset;

struct ddp_store_handle {
	int writer;
	seg_reader *r;
	seg_writer *w;
	char unit[SEG_NAME_MAX + 1];
	char user[SEG_NAME_MAX + 1];
	char *path;
	size_t path_len;
	int excl;
	uint8_t token[DDP_TOKEN_LEN];
	qent *q;          /* declared, not yet appended: q[qhead..qn) */
	size_t qhead, qn, qcap;
	fpset got;        /* segments received on this writer */
	int64_t expires;  /* detached: mono ns after which it is aborted */
	struct ddp_store_handle *next;
};

struct ddp_segstore {
	seg_store *st;
	uint32_t ttl_s;
	pthread_mutex_t mu;
	ddp_store_handle *detached;
};

/* ---------------------------------------------------------- helpers */

/* Copies s into a NUL-terminated name buffer; DD_EINVAL if too long. */
static int cstr(dd_str s, char *out, size_t cap)
{
	if (s.len >= cap)
		return DD_EINVAL;
	if (s.len)
		memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	return DD_OK;
}

/* Checks user may use unit and fills u (NUL-terminated unit name). */
static int grant(ddp_segstore *a, dd_str user, dd_str unit, char u[SEG_NAME_MAX + 1])
{
	char us[SEG_NAME_MAX + 1];
	seg_unit_info ui;
	int rc;

	if (cstr(user, us, sizeof(us)) != DD_OK || cstr(unit, u, SEG_NAME_MAX + 1) != DD_OK)
		return DD_EINVAL;
	if ((rc = seg_unit_stat(a->st, u, &ui)) != DD_OK)
		return rc;
	return seg_grant_check(a->st, us, u);
}

static size_t fp_hash(const uint8_t *fp, size_t cap)
{
	uint64_t h;

	memcpy(&h, fp, sizeof(h));
	return (size_t)(h & (cap - 1));
}

static int fpset_has(const fpset *s, const uint8_t *fp)
{
	if (!s->cap)
		return 0;
	for (size_t i = fp_hash(fp, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i])
			return 0;
		if (memcmp(s->slot[i], fp, DDP_FP_LEN) == 0)
			return 1;
	}
}

static void fpset_put_nogrow(fpset *s, const uint8_t *fp)
{
	size_t i = fp_hash(fp, s->cap);

	while (s->used[i]) {
		if (memcmp(s->slot[i], fp, DDP_FP_LEN) == 0)
			return;
		i = (i + 1) & (s->cap - 1);
	}
	s->used[i] = 1;
	memcpy(s->slot[i], fp, DDP_FP_LEN);
	s->n++;
}

static int fpset_add(fpset *s, const uint8_t *fp)
{
	if (2 * (s->n + 1) > s->cap) {
		fpset g = {0};
		g.cap = s->cap ? s->cap * 2 : 64;
		g.slot = malloc(g.cap * DDP_FP_LEN);
		g.used = calloc(g.cap, 1);
		if (!g.slot || !g.used) {
			free(g.slot);
			free(g.used);
			return DD_ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->used[i])
				fpset_put_nogrow(&g, s->slot[i]);
		free(s->slot);
		free(s->used);
		*s = g;
	}
	fpset_put_nogrow(s, fp);
	return DD_OK;
}

static void handle_free(ddp_store_handle *h)
{
	if (!h)
		return;
	seg_reader_free(h->r);
	seg_writer_free(h->w);
	free(h->q);
	free(h->got.slot);
	free(h->got.used);
	free(h->path);
	free(h);
}

/* Aborts detached writers past their time; caller holds a->mu. */
static void purge_expired(ddp_segstore *a)
{
	int64_t now = dd_mono_ns();
	ddp_store_handle **pp = &a->detached;

	while (*pp) {
		ddp_store_handle *h = *pp;
		if (h->expires <= now) {
			*pp = h->next;
			handle_free(h);
		} else {
			pp = &h->next;
		}
	}
}

/* ---------------------------------------------------------- lifecycle */

ddp_segstore *ddp_segstore_new(seg_store *st, uint32_t resume_ttl_s)
{
	ddp_segstore *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return NULL;
	}
	a->st = st;
	a->ttl_s = resume_ttl_s;
	return a;
}

void ddp_segstore_free(ddp_segstore *a)
{
	if (!a)
		return;
	while (a->detached) {
		ddp_store_handle *h = a->detached;
		a->detached = h->next;
		handle_free(h);
	}
	pthread_mutex_destroy(&a->mu);
	free(a);
}

size_t ddp_segstore_detached(ddp_segstore *a)
{
	size_t n = 0;

	pthread_mutex_lock(&a->mu);
	for (ddp_store_handle *h = a->detached; h; h = h->next)
		n++;
	pthread_mutex_unlock(&a->mu);
	return n;
}

/* ---------------------------------------------------------- auth, units */

static int ss_auth_secret(void *ctx, dd_str key, uint8_t *secret, size_t *len,
			  char user[DDP_MAX_USER + 1])
{
	ddp_segstore *a = ctx;
	char k[SEG_AKEY_MAX + 1];
	seg_user u;
	size_t n;
	int rc;

	if (cstr(key, k, sizeof(k)) != DD_OK)
		return DD_ENOENT;
	if ((rc = seg_user_by_access_key(a->st, k, &u)) != DD_OK)
		return rc;
	n = strlen(u.secret);
	if (n > *len || strlen(u.name) > DDP_MAX_USER) {
		rc = DD_ETOOBIG;
	} else {
		memcpy(secret, u.secret, n);
		*len = n;
		memcpy(user, u.name, strlen(u.name) + 1);
	}
	memset(&u, 0, sizeof(u)); /* the secret does not linger on the stack */
	return rc;
}

typedef struct ulist_ctx {
	ddp_segstore *a;
	char user[SEG_NAME_MAX + 1];
	dd_str start_after;
	unsigned left;
	ddp_emit_unit emit;
	void *arg;
	int rc;
} ulist_ctx;

#define STOP 1000 /* a callback's "stop listing": no dd_rc has this value */

static int ulist_cb(void *ctx, const seg_unit_info *info)
{
	ulist_ctx *c = ctx;
	dd_str name = dd_str_c(info->name);
	size_t m = DD_MIN(name.len, c->start_after.len);
	int cmp = m ? memcmp(name.p, c->start_after.p, m) : 0;
	ddp_unit_info ui;

	if (cmp < 0 || (cmp == 0 && name.len <= c->start_after.len))
		return 0;
	if (seg_grant_check(c->a->st, c->user, info->name) != DD_OK)
		return 0;
	if (!c->left)
		return STOP;
	ui.name = name;
	ui.logical_bytes = info->logical_bytes;
	ui.physical_bytes = info->physical_bytes;
	c->left--;
	if ((c->rc = c->emit(c->arg, &ui)) != DD_OK)
		return STOP;
	return 0;
}

static int ss_unit_list(void *ctx, dd_str user, dd_str start_after, unsigned limit,
			ddp_emit_unit emit, void *arg)
{
	ulist_ctx c = {ctx, "", start_after, limit, emit, arg, DD_OK};
	int rc;

	if (cstr(user, c.user, sizeof(c.user)) != DD_OK)
		return DD_EINVAL;
	rc = seg_unit_list(c.a->st, ulist_cb, &c);
	if (rc == STOP || rc == DD_OK)
		return c.rc;
	return rc;
}

static int ss_unit_stat(void *ctx, dd_str user, dd_str unit, ddp_unit_stat *out)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	seg_unit_info ui;
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	if ((rc = seg_unit_stat(a->st, u, &ui)) != DD_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->logical_bytes = ui.logical_bytes;
	out->physical_bytes = ui.physical_bytes;
	out->files = ui.object_count;
	out->quota_soft = ui.quota.soft;
	out->quota_hard = ui.quota.hard;
	out->stream_limit = ui.quota.stream_limit;
	return DD_OK; /* streams: the store does not report open writers */
}

static int ss_unit_create(void *ctx, dd_str user, dd_str unit)
{
	ddp_segstore *a = ctx;
	char us[SEG_NAME_MAX + 1], u[SEG_NAME_MAX + 1];
	seg_user su;
	int rc;

	if (cstr(user, us, sizeof(us)) != DD_OK || cstr(unit, u, sizeof(u)) != DD_OK)
		return DD_EINVAL;
	if ((rc = seg_user_get(a->st, us, &su)) != DD_OK)
		return rc == DD_ENOENT ? DD_EPERM : rc;
	rc = su.role == SEG_ROLE_ADMIN ? DD_OK : DD_EPERM;
	memset(&su, 0, sizeof(su));
	if (rc != DD_OK)
		return rc;
	return seg_unit_create(a->st, u, NULL);
}

/* ---------------------------------------------------------- open */

static int open_resume(ddp_segstore *a, dd_str user, const char *unit, dd_str path,
		       const uint8_t token[DDP_TOKEN_LEN], ddp_store_handle **out,
		       uint64_t *size)
{
	ddp_store_handle **pp, *h = NULL;

	pthread_mutex_lock(&a->mu);
	purge_expired(a);
	for (pp = &a->detached; *pp; pp = &(*pp)->next) {
		ddp_store_handle *x = *pp;
		if (dd_str_eq_c(user, x->user) && strcmp(x->unit, unit) == 0 &&
		    path.len == x->path_len && memcmp(path.p, x->path, path.len) == 0 &&
		    ddp_ct_equal(x->token, token, DDP_TOKEN_LEN)) {
			*pp = x->next;
			h = x;
			break;
		}
	}
	pthread_mutex_unlock(&a->mu);
	if (!h)
		return DD_ENOENT;
	/* The queue of declared segments is dropped: the cut of DDP 6.6. */
	h->qhead = h->qn = 0;
	h->next = NULL;
	*size = seg_writer_size(h->w);
	*out = h;
	return DD_OK;
}

static int ss_open(void *ctx, dd_str user, dd_str unit, dd_str path, uint32_t flags,
		   uint8_t token[DDP_TOKEN_LEN], ddp_store_handle **out, uint64_t *size)
{
	ddp_segstore *a = ctx;
	ddp_store_handle *h;
	char u[SEG_NAME_MAX + 1];
	seg_stat st;
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	if (flags & DDP_OPEN_RESUME)
		return open_resume(a, user, u, path, token, out, size);
	if (!(h = calloc(1, sizeof(*h))) || !(h->path = malloc(path.len + 1))) {
		free(h);
		return DD_ENOMEM;
	}
	memcpy(h->path, path.p, path.len);
	h->path[path.len] = '\0';
	h->path_len = path.len;
	memcpy(h->unit, u, sizeof(u));
	if ((rc = cstr(user, h->user, sizeof(h->user))) != DD_OK)
		goto fail;
	if (flags & DDP_OPEN_READ) {
		if ((rc = seg_reader_open(a->st, u, path, &h->r)) != DD_OK)
			goto fail;
		*size = seg_reader_stat(h->r)->size;
		*out = h;
		return DD_OK;
	}
	h->writer = 1;
	h->excl = !!(flags & DDP_OPEN_EXCL);
	if (h->excl && seg_stat_object(a->st, u, path, &st) == DD_OK) {
		rc = DD_EEXIST;
		goto fail;
	}
	if ((rc = seg_writer_open(a->st, u, path, &h->w)) != DD_OK)
		goto fail;
	/* DDP reports SHA-256 only (docs/DDP.md section 10). */
	if ((rc = seg_writer_set_digests(h->w, SEG_STAT_SHA256)) != DD_OK)
		goto fail;
	if ((rc = dd_random_bytes(h->token, DDP_TOKEN_LEN)) != DD_OK)
		goto fail;
	memcpy(token, h->token, DDP_TOKEN_LEN);
	*size = 0;
	*out = h;
	return DD_OK;
fail:
	handle_free(h);
	return rc;
}

/* ---------------------------------------------------------- data */

static int ss_write(void *ctx, ddp_store_handle *h, const void *p, size_t n)
{
	(void)ctx;
	return seg_writer_write(h->w, p, n);
}

/*
 * Appends queued segments the writer can append now: those the unit holds
 * and those already received on this writer, up to the first one still
 * to come. Returns a dd_rc from the store.
 */
static int flush_queue(ddp_store_handle *h)
{
	int rc;

	while (h->qhead < h->qn) {
		qent *e = &h->q[h->qhead];
		if (e->missing && !fpset_has(&h->got, e->fp))
			break;
		if ((rc = seg_writer_add_ref(h->w, e->fp, e->len)) != DD_OK)
			return rc;
		h->qhead++;
	}
	if (h->qhead == h->qn)
		h->qhead = h->qn = 0;
	return DD_OK;
}

static int ss_dsp_query(void *ctx, ddp_store_handle *h, const ddp_dsp_ref *refs,
			size_t n, uint8_t *missing)
{
	uint8_t (*fps)[SEG_FP_LEN] = malloc(n * SEG_FP_LEN);
	uint32_t *lens = malloc(n * sizeof(*lens));
	uint8_t *miss = malloc(n);
	int rc = DD_ENOMEM;

	(void)ctx;
	if (!fps || !lens || !miss)
		goto out;
	if (h->qn + n > h->qcap) {
		size_t cap = DD_MAX(h->qcap * 2, h->qn + n);
		qent *q = realloc(h->q, cap * sizeof(*q));
		if (!q)
			goto out;
		h->q = q;
		h->qcap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(fps[i], refs[i].fp, SEG_FP_LEN);
		lens[i] = refs[i].len;
	}
	if ((rc = seg_writer_query(h->w, (const uint8_t (*)[SEG_FP_LEN])fps, lens, n,
				   miss)) != DD_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		qent *e = &h->q[h->qn++];
		memcpy(e->fp, refs[i].fp, DDP_FP_LEN);
		e->len = refs[i].len;
		/* Received earlier on this writer: the writer keeps it. */
		e->missing = miss[i] && !fpset_has(&h->got, e->fp);
		if (miss[i])
			missing[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	rc = flush_queue(h);
out:
	free(fps);
	free(lens);
	free(miss);
	return rc;
}

static int ss_dsp_put(void *ctx, ddp_store_handle *h, const uint8_t fp[DDP_FP_LEN],
		      const void *raw, size_t n)
{
	qent *e = h->qhead < h->qn ? &h->q[h->qhead] : NULL;
	int rc;

	(void)ctx;
	if (fpset_has(&h->got, fp))
		return DD_OK; /* a resend: harmless */
	if (!e || !e->missing || memcmp(e->fp, fp, DDP_FP_LEN) != 0 || e->len != n)
		return DD_EINVAL; /* not the next missing segment (DDP 6.6) */
	if ((rc = seg_writer_put_chunk(h->w, fp, raw, n)) != DD_OK)
		return rc;
	if ((rc = fpset_add(&h->got, fp)) != DD_OK)
		return rc;
	h->qhead++;
	return flush_queue(h);
}

static int ss_read(void *ctx, ddp_store_handle *h, uint64_t off, void *buf,
		   size_t n, size_t *got)
{
	(void)ctx;
	return seg_reader_pread(h->r, buf, n, off, got);
}

static int ss_commit(void *ctx, ddp_store_handle *h, ddp_commit_info *out)
{
	ddp_segstore *a = ctx;
	seg_stat st;
	int rc;

	if (h->qhead < h->qn) {
		rc = DD_EINVAL; /* declared segments never arrived: EMISSING */
		goto out;
	}
	if (h->excl && seg_stat_object(a->st, h->unit,
				       (dd_str){h->path, h->path_len}, &st) == DD_OK) {
		rc = DD_EEXIST;
		goto out;
	}
	if ((rc = seg_writer_commit(h->w, NULL, &st)) != DD_OK)
		goto out;
	out->size = st.size;
	out->digest_len = 0;
	if (st.flags & SEG_STAT_SHA256) {
		out->digest_len = DDP_FP_LEN;
		memcpy(out->digest, st.sha256, DDP_FP_LEN);
	}
out:
	handle_free(h);
	return rc;
}

static void ss_release(void *ctx, ddp_store_handle *h, int detach)
{
	ddp_segstore *a = ctx;

	if (!h->writer || !detach || !a->ttl_s) {
		handle_free(h);
		return;
	}
	h->expires = dd_mono_ns() + (int64_t)a->ttl_s * 1000000000;
	pthread_mutex_lock(&a->mu);
	purge_expired(a);
	h->next = a->detached;
	a->detached = h;
	pthread_mutex_unlock(&a->mu);
}

/* ---------------------------------------------------------- namespace */

typedef struct first_ctx {
	int found;
} first_ctx;

static int first_cb(void *ctx, dd_str key, int is_prefix, const seg_stat *st)
{
	(void)key;
	(void)is_prefix;
	(void)st;
	((first_ctx *)ctx)->found = 1;
	return STOP;
}

static int ss_stat(void *ctx, dd_str user, dd_str unit, dd_str path,
		   uint8_t *type, uint64_t *size, uint64_t *mtime)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	char pre[DDP_MAX_KEY + 2];
	seg_list_opts o = {0};
	seg_list_result res;
	first_ctx fc = {0};
	seg_stat st;
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	if ((rc = seg_stat_object(a->st, u, path, &st)) == DD_OK) {
		*type = DDP_TYPE_FILE;
		*size = st.size;
		*mtime = (uint64_t)st.mtime_ns;
		return DD_OK;
	}
	if (rc != DD_ENOENT || path.len > DDP_MAX_KEY)
		return rc;
	memcpy(pre, path.p, path.len);
	pre[path.len] = '/';
	o.prefix = (dd_str){pre, path.len + 1};
	o.limit = 1;
	rc = seg_list(a->st, u, &o, first_cb, &fc, &res);
	if (rc != DD_OK && rc != STOP)
		return rc;
	if (!fc.found)
		return DD_ENOENT;
	*type = DDP_TYPE_DIR;
	*size = 0;
	*mtime = 0;
	return DD_OK;
}

typedef struct rd_ctx {
	size_t prefix_len;
	ddp_emit_dirent emit;
	void *arg;
	int rc;
} rd_ctx;

static int rd_cb(void *ctx, dd_str key, int is_prefix, const seg_stat *st)
{
	rd_ctx *c = ctx;
	ddp_dirent e;

	e.type = is_prefix ? DDP_TYPE_DIR : DDP_TYPE_FILE;
	e.name = (dd_str){key.p + c->prefix_len, key.len - c->prefix_len};
	e.size = st ? st->size : 0;
	e.mtime_ns = st ? (uint64_t)st->mtime_ns : 0;
	if ((c->rc = c->emit(c->arg, &e)) != DD_OK)
		return STOP;
	return 0;
}

static int ss_readdir(void *ctx, dd_str user, dd_str unit, dd_str prefix,
		      dd_str start_after, unsigned limit, ddp_emit_dirent emit,
		      void *arg)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	char *sa = NULL;
	seg_list_opts o = {0};
	seg_list_result res;
	rd_ctx c = {prefix.len, emit, arg, DD_OK};
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	o.prefix = prefix;
	o.delimiter = DD_STR_LIT("/");
	o.limit = limit;
	if (start_after.len) { /* names are relative to the prefix */
		if (!(sa = malloc(prefix.len + start_after.len)))
			return DD_ENOMEM;
		if (prefix.len)
			memcpy(sa, prefix.p, prefix.len);
		memcpy(sa + prefix.len, start_after.p, start_after.len);
		o.start_after = (dd_str){sa, prefix.len + start_after.len};
	}
	rc = seg_list(a->st, u, &o, rd_cb, &c, &res);
	free(sa);
	if (rc == STOP || rc == DD_OK)
		return c.rc;
	return rc;
}

static int ss_rename(void *ctx, dd_str user, dd_str unit, dd_str from, dd_str to,
		     uint32_t flags)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	return seg_rename(a->st, u, from, to, !(flags & DDP_NOREPLACE));
}

static int ss_unlink(void *ctx, dd_str user, dd_str unit, dd_str path)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	return seg_delete(a->st, u, path);
}

static int ss_clone(void *ctx, dd_str user, dd_str unit, dd_str src, dd_str dst,
		    uint32_t flags, uint64_t *size)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	seg_stat st;
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	if ((flags & DDP_NOREPLACE) && seg_stat_object(a->st, u, dst, &st) == DD_OK)
		return DD_EEXIST;
	if ((rc = seg_clone(a->st, u, src, u, dst, NULL, &st)) != DD_OK)
		return rc;
	*size = st.size;
	return DD_OK;
}

static int ss_synthesize(void *ctx, dd_str user, dd_str unit, dd_str path,
			 const ddp_extent *ext, size_t n, uint32_t flags, uint64_t *size)
{
	ddp_segstore *a = ctx;
	char u[SEG_NAME_MAX + 1];
	seg_extent *se;
	seg_stat st;
	int rc;

	if ((rc = grant(a, user, unit, u)) != DD_OK)
		return rc;
	if ((flags & DDP_NOREPLACE) && seg_stat_object(a->st, u, path, &st) == DD_OK)
		return DD_EEXIST;
	if (!(se = calloc(n ? n : 1, sizeof(*se))))
		return DD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		se[i].len = ext[i].length;
		if (ext[i].kind == DDP_EXT_FILE) {
			se[i].key = ext[i].src;
			se[i].off = ext[i].offset;
		} else {
			se[i].key = (dd_str){NULL, 0};
			se[i].data = ext[i].data;
		}
	}
	rc = seg_synthesize(a->st, u, path, se, n, NULL, &st);
	free(se);
	if (rc == DD_OK)
		*size = st.size;
	return rc;
}

const ddp_store_ops ddp_segstore_ops = {
	.auth_secret = ss_auth_secret,
	.unit_list = ss_unit_list,
	.unit_stat = ss_unit_stat,
	.open = ss_open,
	.write = ss_write,
	.dsp_query = ss_dsp_query,
	.dsp_put = ss_dsp_put,
	.read = ss_read,
	.commit = ss_commit,
	.release = ss_release,
	.stat = ss_stat,
	.readdir = ss_readdir,
	.rename = ss_rename,
	.unlink = ss_unlink,
	.clone = ss_clone,
	.synthesize = ss_synthesize,
	.unit_create = ss_unit_create,
};
