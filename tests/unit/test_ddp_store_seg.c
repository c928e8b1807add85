/*
 * tests/unit/test_ddp_store_seg.c - DDP end to end over the REAL store
 * without sockets: libddp (on the sans-I/O client) talks through a memory
 * transport to a ddp_session driven by the segstore adapter, in a temp
 * data dir. Put with DSP and read back, dedup on a second put, per-unit DSP
 * answers, fastcopy, rename, unlink, readdir, stat, grants, UNIT_CREATE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddproto/ddp.h"
#include "ddproto/libddp.h"
#include "ddproto/memstore.h"
#include "ddproto/store_seg.h"
#include "segstore/seg.h"
#include "ddp_test.h"

typedef struct env {
	char dir[64];
	seg_store *st;
	ddp_segstore *a;
} env;


static int conn(env *e, const char *ak, const char *secret, ddp_conn **out)
{
	mem_io *m = calloc(1, sizeof(*m));
	ddp_io io = {m, mem_send, mem_recv, mem_close};

	assert_non_null(m);
	dd_buf_init(&m->in, 64u << 20);
	m->s = ddp_session_new(&ddp_segstore_ops, e->a, NULL);
	assert_non_null(m->s);
	return ddp_conn_open_io(&io, ak, secret, out);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/test_ddp_store_seg.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(seg_store_open(e->dir, NULL, &e->st), DD_OK);
	assert_int_equal(seg_user_create(e->st, "root", "AKROOT", "rootsecret",
					 SEG_ROLE_ADMIN), DD_OK);
	assert_int_equal(seg_user_create(e->st, "bob", "AKBOB", "bobsecret",
					 SEG_ROLE_USER), DD_OK);
	assert_non_null(e->a = ddp_segstore_new(e->st, 600));
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	char cmd[128];

	ddp_segstore_free(e->a);
	seg_store_close(e->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* Returns an fd of a temp file holding data[0..n), at offset 0. */
static int data_fd(const uint8_t *data, size_t n)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_int_equal(dd_write_all(fd, data, n), DD_OK);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int put(ddp_conn *c, const char *unit, const char *path, const uint8_t *data,
	       size_t n, ddp_put_stats *st)
{
	int fd = data_fd(data, n), rc = ddp_put_fd(c, unit, path, fd, st);

	close(fd);
	return rc;
}

/* Reads unit:path and asserts it equals data[0..n). */
static void check_get(ddp_conn *c, const char *unit, const char *path,
		      const uint8_t *data, size_t n)
{
	FILE *f = tmpfile();
	int fd = dup(fileno(f));
	uint64_t size = 0;
	uint8_t *back = malloc(n + 1);

	fclose(f);
	assert_non_null(back);
	assert_int_equal(ddp_get_fd(c, unit, path, fd, &size), DD_OK);
	assert_int_equal(size, n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(read(fd, back, n + 1), (ssize_t)n);
	assert_memory_equal(back, data, n);
	free(back);
	close(fd);
}

static uint8_t *random_data(size_t n)
{
	uint8_t *d = malloc(n);

	assert_non_null(d);
	assert_int_equal(dd_random_bytes(d, n), DD_OK);
	return d;
}

static void test_put_get_dedup(void **state)
{
	env *e = *state;
	size_t n = 3u << 20;
	uint8_t *d = random_data(n), want[32];
	ddp_put_stats st;
	ddp_conn *c;

	assert_int_equal(conn(e, "AKROOT", "rootsecret", &c), DD_OK);
	assert_int_equal(ddp_mkunit(c, "alpha"), DD_OK);
	assert_int_equal(ddp_mkunit(c, "alpha"), DD_EEXIST);

	/* First put: every segment travels. */
	assert_int_equal(put(c, "alpha", "dir/a.bin", d, n, &st), DD_OK);
	assert_int_equal(st.logical, n);
	assert_true(st.segments > 100);
	assert_int_equal(st.segs_sent, st.segments);
	assert_true(st.seg_bytes >= n); /* random data does not compress */
	assert_int_equal(st.digest_len, 32);
	assert_int_equal(ddp_sha256(d, n, want), DD_OK);
	assert_memory_equal(st.digest, want, 32);
	check_get(c, "alpha", "dir/a.bin", d, n);

	/* Same bytes again in the same unit: no segment data at all. */
	assert_int_equal(put(c, "alpha", "dir/b.bin", d, n, &st), DD_OK);
	assert_int_equal(st.segs_sent, 0);
	assert_int_equal(st.seg_bytes, 0);
	assert_true(st.wire_sent < n / 100);
	check_get(c, "alpha", "dir/b.bin", d, n);

	/* Change 64 KiB in the middle: only the segments around it travel. */
	memset(d + n / 2, 0x5a, 65536);
	assert_int_equal(put(c, "alpha", "dir/c.bin", d, n, &st), DD_OK);
	assert_true(st.segs_sent > 0);
	assert_true(st.wire_sent < n / 10);
	check_get(c, "alpha", "dir/c.bin", d, n);

	/* Another unit does not learn alpha's segments (no cross-unit oracle). */
	assert_int_equal(ddp_mkunit(c, "beta"), DD_OK);
	assert_int_equal(put(c, "beta", "x", d, n, &st), DD_OK);
	assert_int_equal(st.segs_sent, st.segments - 0);
	check_get(c, "beta", "x", d, n);

	/* The empty file. */
	assert_int_equal(put(c, "beta", "empty", d, 0, &st), DD_OK);
	assert_int_equal(st.logical, 0);
	check_get(c, "beta", "empty", d, 0);

	ddp_conn_close(c);
	free(d);
}

typedef struct names {
	char buf[512];
} names;

static int collect(void *arg, const ddp_dirent *ent)
{
	names *nm = arg;
	size_t l = strlen(nm->buf);

	snprintf(nm->buf + l, sizeof(nm->buf) - l, "%s%.*s",
		 ent->type == DDP_TYPE_DIR ? "D:" : "F:", (int)ent->name.len, ent->name.p);
	l = strlen(nm->buf);
	snprintf(nm->buf + l, sizeof(nm->buf) - l, ",");
	return DD_OK;
}

static int collect_unit(void *arg, const ddp_unit_info *u)
{
	names *nm = arg;
	size_t l = strlen(nm->buf);

	snprintf(nm->buf + l, sizeof(nm->buf) - l, "%.*s,", (int)u->name.len, u->name.p);
	return DD_OK;
}

static void test_namespace(void **state)
{
	env *e = *state;
	size_t n = 200000;
	uint8_t *d = random_data(n);
	ddp_put_stats st;
	ddp_stat_info si;
	uint64_t size = 0;
	names nm;
	ddp_conn *c;

	assert_int_equal(conn(e, "AKROOT", "rootsecret", &c), DD_OK);
	assert_int_equal(ddp_mkunit(c, "gamma"), DD_OK);
	assert_int_equal(put(c, "gamma", "top", d, n, &st), DD_OK);
	assert_int_equal(put(c, "gamma", "sub/one", d, 1000, &st), DD_OK);
	assert_int_equal(put(c, "gamma", "sub/deep/two", d, 10, &st), DD_OK);

	/* fastcopy: same content, no data moved */
	assert_int_equal(ddp_cp(c, "gamma", "top", "copy", 0, &size), DD_OK);
	assert_int_equal(size, n);
	check_get(c, "gamma", "copy", d, n);
	assert_int_equal(ddp_cp(c, "gamma", "top", "copy", DDP_NOREPLACE, NULL), DD_EEXIST);
	assert_int_equal(ddp_cp(c, "gamma", "nope", "x", 0, NULL), DD_ENOENT);

	/* rename */
	assert_int_equal(ddp_rename(c, "gamma", "copy", "moved", 0), DD_OK);
	assert_int_equal(ddp_stat(c, "gamma", "copy", &si), DD_ENOENT);
	assert_int_equal(ddp_stat(c, "gamma", "moved", &si), DD_OK);
	assert_int_equal(si.type, DDP_TYPE_FILE);
	assert_int_equal(si.size, n);
	assert_true(si.mtime_ns > 0);
	check_get(c, "gamma", "moved", d, n);

	/* stat of a directory (a key prefix) */
	assert_int_equal(ddp_stat(c, "gamma", "sub", &si), DD_OK);
	assert_int_equal(si.type, DDP_TYPE_DIR);
	assert_int_equal(ddp_stat(c, "gamma", "su", &si), DD_ENOENT);

	/* readdir groups at '/' and names are relative */
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(ddp_ls(c, "gamma", "", collect, &nm), DD_OK);
	assert_string_equal(nm.buf, "F:moved,D:sub/,F:top,");
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(ddp_ls(c, "gamma", "sub/", collect, &nm), DD_OK);
	assert_string_equal(nm.buf, "D:deep/,F:one,");

	/* unlink */
	assert_int_equal(ddp_rm(c, "gamma", "moved"), DD_OK);
	assert_int_equal(ddp_rm(c, "gamma", "moved"), DD_ENOENT);
	assert_int_equal(ddp_stat(c, "gamma", "moved", &si), DD_ENOENT);
	check_get(c, "gamma", "top", d, n); /* the source is untouched */

	/* an admin sees every unit */
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(ddp_units(c, collect_unit, &nm), DD_OK);
	assert_string_equal(nm.buf, "gamma,");
	ddp_conn_close(c);
	free(d);
}

static void test_grants_and_auth(void **state)
{
	env *e = *state;
	uint8_t d[5000];
	ddp_put_stats st;
	names nm;
	ddp_conn *c;

	memset(d, 7, sizeof(d));
	assert_int_equal(conn(e, "AKROOT", "wrong", &c), DD_EAUTH);
	assert_int_equal(conn(e, "AKNOBODY", "rootsecret", &c), DD_EAUTH);
	assert_int_equal(seg_unit_create(e->st, "delta", NULL), DD_OK);
	assert_int_equal(seg_unit_create(e->st, "eps", NULL), DD_OK);

	assert_int_equal(conn(e, "AKBOB", "bobsecret", &c), DD_OK);
	assert_int_equal(ddp_mkunit(c, "bobs"), DD_EPERM); /* not an admin */
	assert_int_equal(put(c, "delta", "f", d, sizeof(d), &st), DD_EPERM);
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(ddp_units(c, collect_unit, &nm), DD_OK);
	assert_string_equal(nm.buf, "");
	assert_int_equal(seg_grant(e->st, "bob", "eps"), DD_OK);
	assert_int_equal(ddp_units(c, collect_unit, &nm), DD_OK);
	assert_string_equal(nm.buf, "eps,");
	assert_int_equal(put(c, "eps", "f", d, sizeof(d), &st), DD_OK);
	check_get(c, "eps", "f", d, sizeof(d));
	assert_int_equal(ddp_put_fd(c, "nounit", "f", 0, &st), DD_ENOENT);
	ddp_conn_close(c);
}

/* An error in the middle of the pipelined segment puts (hard quota) fails
 * the put with the server's status, aborts the writer, and leaves the
 * connection usable. */
static void test_put_error_midway(void **state)
{
	env *e = *state;
	seg_quota q = {0, 300000, 0};
	size_t n = 2u << 20;
	uint8_t *d = random_data(n);
	ddp_put_stats st;
	ddp_stat_info si;
	ddp_conn *c;

	assert_int_equal(seg_unit_create(e->st, "small", &q), DD_OK);
	assert_int_equal(conn(e, "AKROOT", "rootsecret", &c), DD_OK);
	assert_int_equal(put(c, "small", "big", d, n, &st), DD_EQUOTA);
	assert_non_null(strstr(ddp_conn_error(c), "EQUOTA"));
	assert_int_equal(ddp_stat(c, "small", "big", &si), DD_ENOENT);
	assert_int_equal(put(c, "small", "ok", d, 1000, &st), DD_OK);
	check_get(c, "small", "ok", d, 1000);
	ddp_conn_close(c);
	free(d);
}

/* A writer dropped with the connection stays resumable until the adapter
 * goes; an explicit abort (BYE) does not keep it. */
static void test_detached_writer(void **state)
{
	env *e = *state;
	mem_io *m = calloc(1, sizeof(*m));
	ddp_io io = {m, mem_send, mem_recv, mem_close};
	ddp_conn *c;

	assert_int_equal(seg_unit_create(e->st, "zeta", NULL), DD_OK);
	assert_non_null(m);
	dd_buf_init(&m->in, 1u << 20);
	m->s = ddp_session_new(&ddp_segstore_ops, e->a, NULL);
	assert_int_equal(ddp_conn_open_io(&io, "AKROOT", "rootsecret", &c), DD_OK);
	/* Open a writer by hand through the session, then drop the session. */
	{
		ddp_req q = {.op = DDP_OP_OPEN};
		uint8_t buf[4096];
		size_t got;
		dd_buf out;
		q.u.open.unit = DD_STR_LIT("zeta");
		q.u.open.path = DD_STR_LIT("w");
		q.u.open.flags = DDP_OPEN_CREATE;
		dd_buf_init(&out, 1u << 20);
		assert_int_equal(ddp_req_encode(&q, 77, &out), DD_OK);
		assert_int_equal(mem_send(m, out.data, out.len), DD_OK);
		assert_int_equal(mem_recv(m, buf, sizeof(buf), &got), DD_OK);
		assert_true(got > DDP_HDR_LEN + 2);
		assert_int_equal(buf[DDP_HDR_LEN], 0); /* status OK */
		assert_int_equal(buf[DDP_HDR_LEN + 1], 0);
		dd_buf_release(&out);
	}
	ddp_session_free(m->s); /* the transport drops */
	m->s = ddp_session_new(&ddp_segstore_ops, e->a, NULL);
	assert_int_equal(ddp_segstore_detached(e->a), 1);
	ddp_conn_close(c);
}

/* ------------------------------------------------ raw requests (DSP rules) */

typedef struct raw {
	ddp_client *cl;
	ddp_session *s;
} raw;

static void to_session(raw *x)
{
	size_t n, used;
	const uint8_t *o = ddp_client_output(x->cl, &n);

	(void)!ddp_session_feed(x->s, o, n, &used);
	ddp_client_output_consume(x->cl, used);
}

static int from_session(raw *x, ddp_resp *r)
{
	size_t n, used;
	uint32_t id;
	const uint8_t *o = ddp_session_output(x->s, &n);
	int rc = ddp_client_read(x->cl, o, n, &used, r, &id);

	ddp_session_output_consume(x->s, used);
	return rc;
}

static void raw_open(env *e, raw *x)
{
	ddp_resp r;

	x->cl = ddp_client_new(DD_STR_LIT("AKROOT"), "rootsecret", 10, DD_STR_LIT("t"));
	x->s = ddp_session_new(&ddp_segstore_ops, e->a, NULL);
	assert_non_null(x->cl);
	assert_non_null(x->s);
	to_session(x);
	assert_int_equal(from_session(x, &r), DD_EAGAIN); /* HELLO: AUTH queued */
	to_session(x);
	assert_int_equal(from_session(x, &r), DD_EAGAIN);
	assert_int_equal(ddp_client_state(x->cl), DDP_CL_READY);
}

/* Frees the session as a dropped connection does (writers detach). */
static void raw_drop(raw *x)
{
	ddp_session_free(x->s);
	ddp_client_free(x->cl);
}

/* Sends q, returns the status; *r is released unless keep. */
static uint16_t call(raw *x, const ddp_req *q, ddp_resp *r)
{
	uint32_t id;

	assert_int_equal(ddp_client_send(x->cl, q, &id), DD_OK);
	to_session(x);
	assert_int_equal(from_session(x, r), DD_OK);
	return r->status;
}

static uint16_t dsp_query(raw *x, uint32_t h, uint64_t off, const uint8_t (*fps)[32],
			  const uint32_t *lens, uint16_t n, uint8_t *missing)
{
	ddp_req q = {.op = DDP_OP_DSP_QUERY};
	ddp_dsp_ref refs[8];
	ddp_resp r;
	uint16_t st;

	for (unsigned i = 0; i < n; i++) {
		memcpy(refs[i].fp, fps[i], 32);
		refs[i].len = lens[i];
	}
	q.u.dsp_query.handle = h;
	q.u.dsp_query.offset = off;
	q.u.dsp_query.count = n;
	q.u.dsp_query.refs = refs;
	st = call(x, &q, &r);
	if (st == DDP_S_OK)
		*missing = r.u.dsp_query.missing[0];
	ddp_resp_release(&r);
	return st;
}

static uint16_t dsp_put1(raw *x, uint32_t h, const uint8_t fp[32], const uint8_t *d,
			 uint32_t len)
{
	ddp_req q = {.op = DDP_OP_DSP_PUT};
	ddp_segment g;
	ddp_resp r;
	uint16_t st;

	memcpy(g.fp, fp, 32);
	g.flags = 0;
	g.raw_len = g.data_len = len;
	g.data = d;
	q.u.dsp_put.handle = h;
	q.u.dsp_put.count = 1;
	q.u.dsp_put.segs = &g;
	st = call(x, &q, &r);
	ddp_resp_release(&r);
	return st;
}

static uint16_t open_w(raw *x, const char *path, uint32_t flags, uint8_t token[16],
		       uint32_t *h, uint64_t *size)
{
	ddp_req q = {.op = DDP_OP_OPEN};
	ddp_resp r;
	uint16_t st;

	q.u.open.unit = DD_STR_LIT("theta");
	q.u.open.path = dd_str_c(path);
	q.u.open.flags = flags;
	if (flags & DDP_OPEN_RESUME)
		memcpy(q.u.open.token, token, 16);
	st = call(x, &q, &r);
	if (st == DDP_S_OK) {
		*h = r.u.open.handle;
		*size = r.u.open.size;
		memcpy(token, r.u.open.token, 16);
	}
	ddp_resp_release(&r);
	return st;
}

static uint16_t commit(raw *x, uint32_t h, uint64_t *size)
{
	ddp_req q = {.op = DDP_OP_CLOSE};
	ddp_resp r;
	uint16_t st;

	q.u.close.handle = h;
	q.u.close.flags = DDP_CLOSE_COMMIT;
	st = call(x, &q, &r);
	if (st == DDP_S_OK)
		*size = r.u.close.size;
	ddp_resp_release(&r);
	return st;
}

/* In-order rule, resends, resume cut, 'have' after commit, EMISSING. */
static void test_dsp_rules(void **state)
{
	env *e = *state;
	enum { L = 3000 };
	uint8_t d[4][L], fps[4][32], token[16], miss = 0;
	uint32_t lens[4] = {L, L, L, L}, h;
	uint64_t size = 0;
	raw x;
	ddp_conn *c;

	for (int i = 0; i < 4; i++) {
		assert_int_equal(dd_random_bytes(d[i], L), DD_OK);
		seg_fingerprint(d[i], L, fps[i]);
	}
	assert_int_equal(seg_unit_create(e->st, "theta", NULL), DD_OK);
	raw_open(e, &x);
	assert_int_equal(open_w(&x, "f", DDP_OPEN_CREATE, token, &h, &size), DDP_S_OK);
	assert_int_equal(dsp_query(&x, h, 0, (const uint8_t (*)[32])fps, lens, 3, &miss),
			 DDP_S_OK);
	assert_int_equal(miss, 0x07);
	assert_int_equal(dsp_put1(&x, h, fps[1], d[1], L), DDP_S_EINVAL); /* B before A */
	assert_int_equal(dsp_put1(&x, h, fps[0], d[0], L), DDP_S_OK);
	assert_int_equal(dsp_put1(&x, h, fps[0], d[0], L), DDP_S_OK); /* a resend */
	assert_int_equal(dsp_put1(&x, h, fps[3], d[3], L), DDP_S_EINVAL); /* never declared */
	raw_drop(&x); /* the connection drops: the writer is kept */
	assert_int_equal(ddp_segstore_detached(e->a), 1);

	raw_open(e, &x);
	assert_int_equal(open_w(&x, "f", DDP_OPEN_CREATE | DDP_OPEN_RESUME, token, &h, &size),
			 DDP_S_OK);
	assert_int_equal(size, L); /* A arrived; B and C are cut off */
	assert_int_equal(dsp_query(&x, h, L, (const uint8_t (*)[32])fps + 1, lens, 2, &miss),
			 DDP_S_OK);
	assert_int_equal(miss, 0x03);
	assert_int_equal(dsp_put1(&x, h, fps[1], d[1], L), DDP_S_OK);
	assert_int_equal(dsp_put1(&x, h, fps[2], d[2], L), DDP_S_OK);
	assert_int_equal(commit(&x, h, &size), DDP_S_OK);
	assert_int_equal(size, 3 * L);

	/* The unit now has A: a new writer sends it by reference only. */
	assert_int_equal(open_w(&x, "g", DDP_OPEN_CREATE, token, &h, &size), DDP_S_OK);
	assert_int_equal(dsp_query(&x, h, 0, (const uint8_t (*)[32])fps, lens, 1, &miss),
			 DDP_S_OK);
	assert_int_equal(miss, 0);
	assert_int_equal(commit(&x, h, &size), DDP_S_OK);
	assert_int_equal(size, L);

	/* Declared and missing, never sent: EMISSING, nothing committed. */
	assert_int_equal(open_w(&x, "h", DDP_OPEN_CREATE, token, &h, &size), DDP_S_OK);
	assert_int_equal(dsp_query(&x, h, 0, (const uint8_t (*)[32])fps + 2, lens, 2, &miss),
			 DDP_S_OK);
	assert_int_equal(miss, 0x02); /* C is held now, D is not */
	assert_int_equal(commit(&x, h, &size), DDP_S_EMISSING);
	raw_drop(&x);

	assert_int_equal(conn(e, "AKROOT", "rootsecret", &c), DD_OK);
	{
		uint8_t all[3 * L];
		memcpy(all, d[0], L);
		memcpy(all + L, d[1], L);
		memcpy(all + 2 * L, d[2], L);
		check_get(c, "theta", "f", all, sizeof(all));
		check_get(c, "theta", "g", d[0], L);
	}
	{
		ddp_stat_info si;
		assert_int_equal(ddp_stat(c, "theta", "h", &si), DD_ENOENT);
	}
	ddp_conn_close(c);
}

/* UNIT_CREATE on a store without unit management (memstore): ENOTSUP, and
 * the session goes on. Also the request round-trips through the codec. */
static void test_unit_create_unsupported(void **state)
{
	ddp_memstore *m = ddp_memstore_new();
	mem_io *mi = calloc(1, sizeof(*mi));
	ddp_io io = {mi, mem_send, mem_recv, mem_close};
	ddp_req q = {.op = DDP_OP_UNIT_CREATE}, back;
	dd_buf b;
	ddp_conn *c;

	(void)state;
	assert_non_null(m);
	assert_non_null(mi);
	assert_int_equal(ddp_memstore_add_user(m, "AKMEM", "memsecret"), DD_OK);
	dd_buf_init(&mi->in, 1u << 20);
	mi->s = ddp_session_new(&ddp_memstore_ops, m, NULL);
	assert_int_equal(ddp_conn_open_io(&io, "AKMEM", "memsecret", &c), DD_OK);
	assert_int_equal(ddp_mkunit(c, "newunit"), DD_ENOTSUP);
	assert_int_equal(ddp_mkunit(c, "x"), DD_ENOTSUP); /* no store call at all */
	assert_string_equal(ddp_op_name(DDP_OP_UNIT_CREATE), "UNIT_CREATE");
	ddp_conn_close(c);
	ddp_memstore_free(m);

	q.u.unit_stat.unit = DD_STR_LIT("abc");
	dd_buf_init(&b, 1u << 20);
	assert_int_equal(ddp_req_encode(&q, 9, &b), DD_OK);
	assert_int_equal(ddp_req_decode(DDP_OP_UNIT_CREATE, (const uint8_t *)b.data + DDP_HDR_LEN,
					b.len - DDP_HDR_LEN, &back), DD_OK);
	assert_true(dd_str_eq_c(back.u.unit_stat.unit, "abc"));
	ddp_req_release(&back);
	dd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grants_and_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detached_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsp_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_error_midway, setup, teardown),
		cmocka_unit_test(test_unit_create_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
