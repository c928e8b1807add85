/*
 * ddproto/memstore.c - in-memory ddp_store_ops for tests (see memstore.h).
 * Linked lists and linear searches: simple and obviously right beats fast.
 */
#include "ddproto/memstore.h"

#include <stdlib.h>
#include <string.h>

typedef struct mfile {
	char *path;
	uint8_t *data;
	size_t len;
	uint64_t mtime;
	struct mfile *next;
} mfile;

typedef struct mseg {
	uint8_t fp[DDP_FP_LEN];
	uint8_t *data;
	uint32_t len;
	struct mseg *next;
} mseg;

typedef struct munit {
	char *name, *user;
	mfile *files;
	mseg *segs;
	uint64_t received;
	uint32_t streams, stream_limit;
	struct munit *next;
} munit;

typedef struct muser {
	char *key, *secret;
	struct muser *next;
} muser;

typedef struct piece {
	int is_ref;
	uint8_t fp[DDP_FP_LEN];
	uint32_t len;   /* ref: segment length */
	uint8_t *data;  /* bytes piece */
	size_t dlen;
} piece;

struct ddp_store_handle {
	int writer;
	munit *u;
	char *path, *user;
	uint8_t *rdata; /* reader: a snapshot of the file */
	size_t rlen;
	piece *pieces;
	size_t npieces, cap;
	uint8_t (*asked)[DDP_FP_LEN]; /* fingerprints answered missing */
	size_t nasked, askcap;
	uint8_t token[DDP_TOKEN_LEN];
	int excl, detached;
	struct ddp_store_handle *next;
};

struct ddp_memstore {
	muser *users;
	munit *units;
	ddp_store_handle *writers;
	uint64_t clock;
};

static char *dupn(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		if (n)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int str_is(const char *c, dd_str s)
{
	return strlen(c) == s.len && memcmp(c, s.p, s.len) == 0;
}

ddp_memstore *ddp_memstore_new(void)
{
	return calloc(1, sizeof(ddp_memstore));
}

static void free_handle(ddp_store_handle *h)
{
	for (size_t i = 0; i < h->npieces; i++)
		free(h->pieces[i].data);
	free(h->pieces);
	free(h->asked);
	free(h->rdata);
	free(h->path);
	free(h->user);
	free(h);
}

void ddp_memstore_free(ddp_memstore *m)
{
	if (!m)
		return;
	while (m->writers) {
		ddp_store_handle *h = m->writers;
		m->writers = h->next;
		free_handle(h);
	}
	while (m->units) {
		munit *u = m->units;
		m->units = u->next;
		while (u->files) {
			mfile *f = u->files;
			u->files = f->next;
			free(f->path);
			free(f->data);
			free(f);
		}
		while (u->segs) {
			mseg *g = u->segs;
			u->segs = g->next;
			free(g->data);
			free(g);
		}
		free(u->name);
		free(u->user);
		free(u);
	}
	while (m->users) {
		muser *x = m->users;
		m->users = x->next;
		free(x->key);
		free(x->secret);
		free(x);
	}
	free(m);
}

static munit *unit_by_name(ddp_memstore *m, dd_str name)
{
	for (munit *u = m->units; u; u = u->next)
		if (str_is(u->name, name))
			return u;
	return NULL;
}

int ddp_memstore_add_user(ddp_memstore *m, const char *key, const char *secret)
{
	muser *x;

	for (x = m->users; x; x = x->next)
		if (strcmp(x->key, key) == 0)
			return DD_EEXIST;
	if (!(x = calloc(1, sizeof(*x))))
		return DD_ENOMEM;
	x->key = dupn(key, strlen(key));
	x->secret = dupn(secret, strlen(secret));
	if (!x->key || !x->secret) {
		free(x->key);
		free(x->secret);
		free(x);
		return DD_ENOMEM;
	}
	x->next = m->users;
	m->users = x;
	return DD_OK;
}

int ddp_memstore_add_unit(ddp_memstore *m, const char *unit, const char *user)
{
	munit *u;

	if (unit_by_name(m, dd_str_c(unit)))
		return DD_EEXIST;
	if (!(u = calloc(1, sizeof(*u))))
		return DD_ENOMEM;
	u->name = dupn(unit, strlen(unit));
	u->user = dupn(user, strlen(user));
	if (!u->name || !u->user) {
		free(u->name);
		free(u->user);
		free(u);
		return DD_ENOMEM;
	}
	u->next = m->units;
	m->units = u;
	return DD_OK;
}

void ddp_memstore_set_stream_limit(ddp_memstore *m, const char *unit, uint32_t lim)
{
	munit *u = unit_by_name(m, dd_str_c(unit));

	if (u)
		u->stream_limit = lim;
}

static mfile *file_find(munit *u, dd_str path)
{
	for (mfile *f = u->files; f; f = f->next)
		if (str_is(f->path, path))
			return f;
	return NULL;
}

/* Stores data (taken over) as path, replacing an existing file. */
static int file_set(ddp_memstore *m, munit *u, dd_str path, uint8_t *data, size_t n)
{
	mfile *f = file_find(u, path);

	if (!f) {
		if (!(f = calloc(1, sizeof(*f))) || !(f->path = dupn(path.p, path.len))) {
			free(f);
			free(data);
			return DD_ENOMEM;
		}
		f->next = u->files;
		u->files = f;
	}
	free(f->data);
	f->data = data;
	f->len = n;
	f->mtime = ++m->clock;
	return DD_OK;
}

static void file_remove(munit *u, mfile *f)
{
	mfile **pp = &u->files;

	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	free(f->path);
	free(f->data);
	free(f);
}

int ddp_memstore_put_file(ddp_memstore *m, const char *unit, const char *path,
			  const void *data, size_t n)
{
	munit *u = unit_by_name(m, dd_str_c(unit));
	uint8_t *copy;

	if (!u)
		return DD_ENOENT;
	if (!(copy = malloc(n ? n : 1)))
		return DD_ENOMEM;
	if (n)
		memcpy(copy, data, n);
	return file_set(m, u, dd_str_c(path), copy, n);
}

int ddp_memstore_get_file(ddp_memstore *m, const char *unit, const char *path,
			  const uint8_t **data, size_t *n)
{
	munit *u = unit_by_name(m, dd_str_c(unit));
	mfile *f = u ? file_find(u, dd_str_c(path)) : NULL;

	if (!f)
		return DD_ENOENT;
	*data = f->data;
	*n = f->len;
	return DD_OK;
}

static mseg *seg_find(munit *u, const uint8_t fp[DDP_FP_LEN])
{
	for (mseg *g = u->segs; g; g = g->next)
		if (memcmp(g->fp, fp, DDP_FP_LEN) == 0)
			return g;
	return NULL;
}

size_t ddp_memstore_segments(ddp_memstore *m, const char *unit)
{
	munit *u = unit_by_name(m, dd_str_c(unit));
	size_t n = 0;

	for (mseg *g = u ? u->segs : NULL; g; g = g->next)
		n++;
	return n;
}

uint64_t ddp_memstore_received(ddp_memstore *m, const char *unit)
{
	munit *u = unit_by_name(m, dd_str_c(unit));

	return u ? u->received : 0;
}

size_t ddp_memstore_writers(ddp_memstore *m)
{
	size_t n = 0;

	for (ddp_store_handle *h = m->writers; h; h = h->next)
		n++;
	return n;
}

/* ------------------------------------------------------------- the ops */

static int ms_auth_secret(void *ctx, dd_str key, uint8_t *secret, size_t *len,
			  char user[DDP_MAX_USER + 1])
{
	ddp_memstore *m = ctx;

	for (muser *x = m->users; x; x = x->next) {
		size_t n = strlen(x->secret);
		if (!str_is(x->key, key))
			continue;
		if (n > *len || key.len > DDP_MAX_USER)
			return DD_ETOOBIG;
		memcpy(secret, x->secret, n);
		*len = n;
		memcpy(user, key.p, key.len); /* here a user is named by its key */
		user[key.len] = '\0';
		return DD_OK;
	}
	return DD_ENOENT;
}

/* Finds unit for user: DD_ENOENT, DD_EPERM. */
static int unit_for(ddp_memstore *m, dd_str user, dd_str unit, munit **out)
{
	munit *u = unit_by_name(m, unit);

	if (!u)
		return DD_ENOENT;
	if (!str_is(u->user, user))
		return DD_EPERM;
	*out = u;
	return DD_OK;
}

static int cmp_units(const void *a, const void *b)
{
	return strcmp((*(munit *const *)a)->name, (*(munit *const *)b)->name);
}

static int ms_unit_list(void *ctx, dd_str user, dd_str start_after, unsigned limit,
			ddp_emit_unit emit, void *arg)
{
	ddp_memstore *m = ctx;
	munit **v;
	size_t n = 0, k = 0;
	int rc = DD_OK;
	char *sa = dupn(start_after.p, start_after.len);

	for (munit *u = m->units; u; u = u->next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v || !sa) {
		free(v);
		free(sa);
		return DD_ENOMEM;
	}
	for (munit *u = m->units; u; u = u->next)
		if (str_is(u->user, user) && strcmp(u->name, sa) > 0)
			v[k++] = u;
	qsort(v, k, sizeof(*v), cmp_units);
	for (size_t i = 0; i < k && i < limit && rc == DD_OK; i++) {
		ddp_unit_info ui = {dd_str_c(v[i]->name), 0, 0};
		for (mfile *f = v[i]->files; f; f = f->next)
			ui.logical_bytes += f->len;
		for (mseg *g = v[i]->segs; g; g = g->next)
			ui.physical_bytes += g->len;
		rc = emit(arg, &ui);
	}
	free(v);
	free(sa);
	return rc;
}

static int ms_unit_stat(void *ctx, dd_str user, dd_str unit, ddp_unit_stat *out)
{
	munit *u;
	int rc = unit_for(ctx, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	for (mfile *f = u->files; f; f = f->next) {
		out->logical_bytes += f->len;
		out->files++;
	}
	for (mseg *g = u->segs; g; g = g->next)
		out->physical_bytes += g->len;
	out->streams = u->streams;
	out->stream_limit = u->stream_limit;
	return DD_OK;
}

static uint64_t writer_length(const ddp_store_handle *h)
{
	uint64_t n = 0;

	for (size_t i = 0; i < h->npieces; i++)
		n += h->pieces[i].is_ref ? h->pieces[i].len : h->pieces[i].dlen;
	return n;
}

/* Cuts a resumed writer back to the data really held (docs/DDP.md 6.6). */
static void writer_cut(ddp_store_handle *h)
{
	for (size_t i = 0; i < h->npieces; i++) {
		if (h->pieces[i].is_ref && !seg_find(h->u, h->pieces[i].fp)) {
			for (size_t j = i; j < h->npieces; j++)
				free(h->pieces[j].data);
			h->npieces = i;
			return;
		}
	}
}

static int open_resume(ddp_memstore *m, dd_str user, munit *u, dd_str path,
		       const uint8_t token[DDP_TOKEN_LEN], ddp_store_handle **out,
		       uint64_t *size)
{
	for (ddp_store_handle *h = m->writers; h; h = h->next) {
		if (!h->detached || h->u != u || !str_is(h->user, user) ||
		    !str_is(h->path, path) ||
		    !ddp_ct_equal(h->token, token, DDP_TOKEN_LEN))
			continue;
		h->detached = 0;
		writer_cut(h);
		*size = writer_length(h);
		*out = h;
		return DD_OK;
	}
	return DD_ENOENT;
}

static int ms_open(void *ctx, dd_str user, dd_str unit, dd_str path, uint32_t flags,
		   uint8_t token[DDP_TOKEN_LEN], ddp_store_handle **out, uint64_t *size)
{
	ddp_memstore *m = ctx;
	ddp_store_handle *h;
	mfile *f;
	munit *u;
	int rc;

	if ((rc = unit_for(m, user, unit, &u)) != DD_OK)
		return rc;
	f = file_find(u, path);
	if (flags & DDP_OPEN_RESUME)
		return open_resume(m, user, u, path, token, out, size);
	if ((flags & DDP_OPEN_READ) && !f)
		return DD_ENOENT;
	if ((flags & DDP_OPEN_EXCL) && f)
		return DD_EEXIST;
	if (!(flags & DDP_OPEN_READ) && u->stream_limit && u->streams >= u->stream_limit)
		return DD_ELIMIT;
	if (!(h = calloc(1, sizeof(*h))))
		return DD_ENOMEM;
	h->u = u;
	h->path = dupn(path.p, path.len);
	h->user = dupn(user.p, user.len);
	if (!h->path || !h->user)
		goto nomem;
	if (flags & DDP_OPEN_READ) {
		if (!(h->rdata = malloc(f->len ? f->len : 1)))
			goto nomem;
		memcpy(h->rdata, f->data, f->len);
		*size = h->rlen = f->len;
	} else {
		h->writer = 1;
		h->excl = !!(flags & DDP_OPEN_EXCL);
		if (dd_random_bytes(h->token, DDP_TOKEN_LEN) != DD_OK) {
			free_handle(h);
			return DD_EINTERNAL;
		}
		memcpy(token, h->token, DDP_TOKEN_LEN);
		*size = 0;
		h->next = m->writers;
		m->writers = h;
		u->streams++;
	}
	*out = h;
	return DD_OK;
nomem:
	free_handle(h);
	return DD_ENOMEM;
}

static piece *add_piece(ddp_store_handle *h)
{
	if (h->npieces == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		piece *p = realloc(h->pieces, cap * sizeof(*p));
		if (!p)
			return NULL;
		h->pieces = p;
		h->cap = cap;
	}
	memset(&h->pieces[h->npieces], 0, sizeof(piece));
	return &h->pieces[h->npieces++];
}

static int add_bytes(ddp_store_handle *h, const void *p, size_t n)
{
	piece *pc = add_piece(h);

	if (!pc)
		return DD_ENOMEM;
	if (!(pc->data = malloc(n))) {
		h->npieces--;
		return DD_ENOMEM;
	}
	memcpy(pc->data, p, n);
	pc->dlen = n;
	return DD_OK;
}

static int ms_write(void *ctx, ddp_store_handle *h, const void *p, size_t n)
{
	(void)ctx;
	return add_bytes(h, p, n);
}

static int asked(const ddp_store_handle *h, const uint8_t fp[DDP_FP_LEN])
{
	for (size_t i = 0; i < h->nasked; i++)
		if (memcmp(h->asked[i], fp, DDP_FP_LEN) == 0)
			return 1;
	return 0;
}

static int ms_dsp_query(void *ctx, ddp_store_handle *h, const ddp_dsp_ref *refs,
			size_t n, uint8_t *missing)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		piece *pc = add_piece(h);
		if (!pc)
			return DD_ENOMEM;
		pc->is_ref = 1;
		memcpy(pc->fp, refs[i].fp, DDP_FP_LEN);
		pc->len = refs[i].len;
		if (seg_find(h->u, refs[i].fp)) /* this unit only */
			continue;
		missing[i / 8] |= (uint8_t)(1u << (i % 8));
		if (asked(h, refs[i].fp))
			continue;
		if (h->nasked == h->askcap) {
			size_t cap = h->askcap ? h->askcap * 2 : 64;
			void *p = realloc(h->asked, cap * DDP_FP_LEN);
			if (!p)
				return DD_ENOMEM;
			h->asked = p;
			h->askcap = cap;
		}
		memcpy(h->asked[h->nasked++], refs[i].fp, DDP_FP_LEN);
	}
	return DD_OK;
}

/* 1 when fp is the first declared segment the unit still lacks. */
static int next_missing_is(const ddp_store_handle *h, const uint8_t fp[DDP_FP_LEN])
{
	for (size_t i = 0; i < h->npieces; i++) {
		const piece *pc = &h->pieces[i];
		if (pc->is_ref && !seg_find(h->u, pc->fp))
			return memcmp(pc->fp, fp, DDP_FP_LEN) == 0;
	}
	return 0;
}

static int ms_dsp_put(void *ctx, ddp_store_handle *h, const uint8_t fp[DDP_FP_LEN],
		      const void *raw, size_t n)
{
	mseg *g;

	(void)ctx;
	if (!asked(h, fp))
		return DD_EINVAL;
	if (seg_find(h->u, fp))
		return DD_OK; /* a resend: harmless */
	if (!next_missing_is(h, fp))
		return DD_EINVAL; /* out of file order (docs/DDP.md 6.6) */
	if (!(g = calloc(1, sizeof(*g))) || !(g->data = malloc(n))) {
		free(g);
		return DD_ENOMEM;
	}
	memcpy(g->fp, fp, DDP_FP_LEN);
	memcpy(g->data, raw, n);
	g->len = (uint32_t)n;
	g->next = h->u->segs;
	h->u->segs = g;
	h->u->received += n;
	return DD_OK;
}

static int ms_read(void *ctx, ddp_store_handle *h, uint64_t off, void *buf,
		   size_t n, size_t *got)
{
	(void)ctx;
	*got = 0;
	if (off >= h->rlen)
		return DD_OK;
	*got = DD_MIN(n, (size_t)(h->rlen - off));
	memcpy(buf, h->rdata + off, *got);
	return DD_OK;
}

static void writer_unlink(ddp_memstore *m, ddp_store_handle *h)
{
	ddp_store_handle **pp = &m->writers;

	while (*pp && *pp != h)
		pp = &(*pp)->next;
	if (*pp)
		*pp = h->next;
	h->u->streams--;
}

static int ms_commit(void *ctx, ddp_store_handle *h, ddp_commit_info *out)
{
	ddp_memstore *m = ctx;
	uint64_t total = writer_length(h);
	uint8_t *data = NULL;
	size_t off = 0;
	int rc = DD_OK;
	dd_str path = dd_str_c(h->path);

	writer_unlink(m, h);
	if (!(data = malloc(total ? total : 1))) {
		rc = DD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < h->npieces; i++) {
		const piece *pc = &h->pieces[i];
		mseg *g = pc->is_ref ? seg_find(h->u, pc->fp) : NULL;
		if (pc->is_ref && (!g || g->len != pc->len)) {
			rc = DD_EINVAL; /* a segment answered missing never came */
			goto out;
		}
		memcpy(data + off, pc->is_ref ? g->data : pc->data,
		       pc->is_ref ? pc->len : pc->dlen);
		off += pc->is_ref ? pc->len : pc->dlen;
	}
	if (h->excl && file_find(h->u, path)) {
		rc = DD_EEXIST;
		goto out;
	}
	out->size = total;
	out->digest_len = DDP_FP_LEN;
	if ((rc = ddp_sha256(data, total, out->digest)) != DD_OK)
		goto out;
	rc = file_set(m, h->u, path, data, total);
	data = NULL;
out:
	free(data);
	free_handle(h);
	return rc;
}

static void ms_release(void *ctx, ddp_store_handle *h, int detach)
{
	if (!h->writer) {
		free_handle(h);
		return;
	}
	if (detach) {
		h->detached = 1;
		return;
	}
	writer_unlink(ctx, h);
	free_handle(h);
}

/* 1 when some file of u lies under "path/". */
static int is_dir(munit *u, dd_str path)
{
	for (mfile *f = u->files; f; f = f->next)
		if (strlen(f->path) > path.len && memcmp(f->path, path.p, path.len) == 0 &&
		    f->path[path.len] == '/')
			return 1;
	return 0;
}

static int ms_stat(void *ctx, dd_str user, dd_str unit, dd_str path, uint8_t *type,
		   uint64_t *size, uint64_t *mtime)
{
	munit *u;
	mfile *f;
	int rc = unit_for(ctx, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	if ((f = file_find(u, path))) {
		*type = DDP_TYPE_FILE;
		*size = f->len;
		*mtime = f->mtime;
		return DD_OK;
	}
	if (!is_dir(u, path))
		return DD_ENOENT;
	*type = DDP_TYPE_DIR;
	*size = 0;
	*mtime = 0;
	return DD_OK;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp((*(mfile *const *)a)->path, (*(mfile *const *)b)->path);
}

/* Emits the listing of sorted files v[0..n) under prefix. */
static int emit_listing(mfile **v, size_t n, dd_str prefix, dd_str start_after,
			unsigned limit, ddp_emit_dirent emit, void *arg)
{
	dd_str last = {"", 0};
	unsigned count = 0;
	int rc = DD_OK;

	for (size_t i = 0; i < n && count < limit && rc == DD_OK; i++) {
		const char *rest = v[i]->path + prefix.len;
		const char *slash = strchr(rest, '/');
		ddp_dirent e = {DDP_TYPE_FILE, dd_str_c(rest), v[i]->len, v[i]->mtime};
		size_t cmpn;

		if (slash) {
			e.type = DDP_TYPE_DIR;
			e.name.len = (size_t)(slash - rest) + 1;
			e.size = e.mtime_ns = 0;
		}
		if (dd_str_eq(e.name, last))
			continue; /* same directory as the previous entry */
		cmpn = DD_MIN(e.name.len, start_after.len);
		if (start_after.len && (memcmp(e.name.p, start_after.p, cmpn) < 0 ||
					(memcmp(e.name.p, start_after.p, cmpn) == 0 &&
					 e.name.len <= start_after.len)))
			continue;
		last = e.name;
		rc = emit(arg, &e);
		count++;
	}
	return rc;
}

static int ms_readdir(void *ctx, dd_str user, dd_str unit, dd_str prefix,
		      dd_str start_after, unsigned limit, ddp_emit_dirent emit,
		      void *arg)
{
	munit *u;
	mfile **v;
	size_t n = 0, k = 0;
	int rc = unit_for(ctx, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	for (mfile *f = u->files; f; f = f->next)
		n++;
	if (!(v = calloc(n ? n : 1, sizeof(*v))))
		return DD_ENOMEM;
	for (mfile *f = u->files; f; f = f->next)
		if (strlen(f->path) > prefix.len && memcmp(f->path, prefix.p, prefix.len) == 0)
			v[k++] = f;
	qsort(v, k, sizeof(*v), cmp_files);
	rc = emit_listing(v, k, prefix, start_after, limit, emit, arg);
	free(v);
	return rc;
}

static int ms_rename(void *ctx, dd_str user, dd_str unit, dd_str from, dd_str to,
		     uint32_t flags)
{
	munit *u;
	mfile *f, *t;
	char *np;
	int rc = unit_for(ctx, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	if (!(f = file_find(u, from)))
		return DD_ENOENT;
	if (dd_str_eq(from, to))
		return DD_OK;
	t = file_find(u, to);
	if (t && (flags & DDP_NOREPLACE))
		return DD_EEXIST;
	if (!(np = dupn(to.p, to.len)))
		return DD_ENOMEM;
	if (t)
		file_remove(u, t);
	free(f->path);
	f->path = np;
	return DD_OK;
}

static int ms_unlink(void *ctx, dd_str user, dd_str unit, dd_str path)
{
	munit *u;
	mfile *f;
	int rc = unit_for(ctx, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	if (!(f = file_find(u, path)))
		return DD_ENOENT;
	file_remove(u, f);
	return DD_OK;
}

static int ms_clone(void *ctx, dd_str user, dd_str unit, dd_str src, dd_str dst,
		    uint32_t flags, uint64_t *size)
{
	ddp_memstore *m = ctx;
	munit *u;
	mfile *f;
	uint8_t *copy;
	int rc = unit_for(m, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	if (!(f = file_find(u, src)))
		return DD_ENOENT;
	if ((flags & DDP_NOREPLACE) && file_find(u, dst))
		return DD_EEXIST;
	if (!(copy = malloc(f->len ? f->len : 1)))
		return DD_ENOMEM;
	memcpy(copy, f->data, f->len);
	*size = f->len;
	return file_set(m, u, dst, copy, f->len);
}

static int ms_synthesize(void *ctx, dd_str user, dd_str unit, dd_str path,
			 const ddp_extent *ext, size_t n, uint32_t flags, uint64_t *size)
{
	ddp_memstore *m = ctx;
	munit *u;
	uint8_t *data;
	uint64_t total = 0, off = 0;
	int rc = unit_for(m, user, unit, &u);

	if (rc != DD_OK)
		return rc;
	if ((flags & DDP_NOREPLACE) && file_find(u, path))
		return DD_EEXIST;
	for (size_t i = 0; i < n; i++) {
		mfile *f = ext[i].kind == DDP_EXT_FILE ? file_find(u, ext[i].src) : NULL;
		if (ext[i].kind == DDP_EXT_FILE && !f)
			return DD_ENOENT;
		if (f && (ext[i].offset > f->len || ext[i].length > f->len - ext[i].offset))
			return DD_ERANGE;
		total += ext[i].length;
	}
	if (!(data = malloc(total ? total : 1)))
		return DD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *src = ext[i].data;
		if (ext[i].kind == DDP_EXT_FILE)
			src = file_find(u, ext[i].src)->data + ext[i].offset;
		memcpy(data + off, src, (size_t)ext[i].length);
		off += ext[i].length;
	}
	*size = total;
	return file_set(m, u, path, data, total);
}

const ddp_store_ops ddp_memstore_ops = {
	.auth_secret = ms_auth_secret,
	.unit_list = ms_unit_list,
	.unit_stat = ms_unit_stat,
	.open = ms_open,
	.write = ms_write,
	.dsp_query = ms_dsp_query,
	.dsp_put = ms_dsp_put,
	.read = ms_read,
	.commit = ms_commit,
	.release = ms_release,
	.stat = ms_stat,
	.readdir = ms_readdir,
	.rename = ms_rename,
	.unlink = ms_unlink,
	.clone = ms_clone,
	.synthesize = ms_synthesize,
};
