/*
 * tests/unit/test_ddp_session.c - the sans-I/O DDP server session against
 * the in-memory store: handshake and auth, every operation, DSP with
 * per-unit answers, resume, flow control, backpressure and protocol
 * violations. The test plays the client with the public codec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "ddproto/ddp.h"
#include "ddproto/memstore.h"

#define AK "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

typedef struct tc {
	ddp_memstore *m;
	ddp_session *s;
	ddp_reader rd;
	uint32_t id;
	uint8_t snonce[DDP_NONCE_LEN];
	int feed_rc;
	size_t fed; /* bytes the session took from the last send */
} tc;

static ddp_memstore *new_store(void)
{
	ddp_memstore *m = ddp_memstore_new();

	assert_non_null(m);
	assert_int_equal(ddp_memstore_add_user(m, AK, SECRET), DD_OK);
	assert_int_equal(ddp_memstore_add_user(m, "BOB", "bobsecret"), DD_OK);
	assert_int_equal(ddp_memstore_add_unit(m, "backups", AK), DD_OK);
	assert_int_equal(ddp_memstore_add_unit(m, "second", AK), DD_OK);
	assert_int_equal(ddp_memstore_add_unit(m, "bobs", "BOB"), DD_OK);
	return m;
}

static void tc_open(tc *t, ddp_memstore *m, const ddp_session_cfg *cfg)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->s = ddp_session_new(&ddp_memstore_ops, m, cfg);
	assert_non_null(t->s);
	ddp_reader_init(&t->rd, DDP_MAX_PAYLOAD);
}

static void tc_close(tc *t)
{
	ddp_session_free(t->s);
	ddp_reader_release(&t->rd);
}

/* Encodes q and feeds it all; returns the feed rc. */
static int tc_send(tc *t, const ddp_req *q)
{
	dd_buf b;

	dd_buf_init(&b, DDP_HDR_LEN + DDP_MAX_PAYLOAD);
	assert_int_equal(ddp_req_encode(q, ++t->id, &b), DD_OK);
	t->feed_rc = ddp_session_feed(t->s, b.data, b.len, &t->fed);
	if (t->feed_rc == DD_OK && ddp_session_state(t->s) != DDP_ST_CLOSING)
		assert_int_equal(t->fed, b.len);
	dd_buf_release(&b);
	return t->feed_rc;
}

/* Takes the next response frame from the session output into *r. */
static void tc_recv_id(tc *t, uint8_t op, uint32_t id, ddp_resp *r)
{
	ddp_frame f;
	const uint8_t *o;
	size_t n, used;

	while (ddp_reader_next(&t->rd, &f) == DD_EAGAIN) {
		o = ddp_session_output(t->s, &n);
		assert_true(n > 0); /* a response is due */
		assert_int_equal(ddp_reader_feed(&t->rd, o, n, &used), DD_OK);
		ddp_session_output_consume(t->s, used);
	}
	assert_int_equal(f.hdr.flags, DDP_F_RESPONSE);
	assert_int_equal(f.hdr.op, op);
	assert_int_equal(f.hdr.req_id, id);
	assert_int_equal(ddp_resp_decode(op, f.payload, f.hdr.len, r), DD_OK);
}

/* Sends q, receives its response; returns the status. */
static uint16_t call(tc *t, const ddp_req *q, ddp_resp *r)
{
	tc_send(t, q);
	tc_recv_id(t, q->op, t->id, r);
	return r->status;
}

/* call() for responses with no lists to release. */
static uint16_t call0(tc *t, const ddp_req *q)
{
	ddp_resp r;
	uint16_t st = call(t, q, &r);

	ddp_resp_release(&r);
	return st;
}

static uint16_t do_hello(tc *t)
{
	ddp_req q = {.op = DDP_OP_HELLO};
	ddp_resp r;

	q.u.hello.ver_min = q.u.hello.ver_max = 1;
	q.u.hello.features = DDP_FEAT_ZSTD;
	q.u.hello.agent = DD_STR_LIT("test");
	if (call(t, &q, &r) == DDP_S_OK) {
		memcpy(t->snonce, r.u.hello.snonce, DDP_NONCE_LEN);
		assert_true(r.u.hello.max_io <= DDP_MAX_IO);
		assert_true(r.u.hello.max_io + 4096 <= r.u.hello.max_payload);
		assert_int_equal(r.u.hello.dsp_max_batch, DDP_DSP_MAX_BATCH);
		assert_true(r.u.hello.features & DDP_FEAT_ZSTD);
	}
	return r.status;
}

/* AUTH with key/secret; checks the server proof on success. */
static uint16_t do_auth(tc *t, const char *key, const char *secret)
{
	ddp_req q = {.op = DDP_OP_AUTH};
	ddp_resp r;
	uint8_t k[32], sp[32];

	q.u.auth.access_key = dd_str_c(key);
	assert_int_equal(dd_random_bytes(q.u.auth.cnonce, DDP_NONCE_LEN), DD_OK);
	assert_int_equal(ddp_auth_key(secret, strlen(secret), k), DD_OK);
	assert_int_equal(ddp_auth_proof(k, 0, t->snonce, q.u.auth.cnonce,
					q.u.auth.access_key, q.u.auth.proof), DD_OK);
	if (call(t, &q, &r) == DDP_S_OK) {
		assert_int_equal(ddp_auth_proof(k, 1, t->snonce, q.u.auth.cnonce,
						q.u.auth.access_key, sp), DD_OK);
		assert_true(ddp_ct_equal(sp, r.u.auth.proof, 32));
	}
	return r.status;
}

static void login(tc *t, ddp_memstore *m, const ddp_session_cfg *cfg)
{
	tc_open(t, m, cfg);
	assert_int_equal(do_hello(t), DDP_S_OK);
	assert_int_equal(do_auth(t, AK, SECRET), DDP_S_OK);
	assert_int_equal(ddp_session_state(t->s), DDP_ST_READY);
}

static uint32_t open_file(tc *t, const char *unit, const char *path, uint32_t flags,
			  uint16_t want, uint8_t token[DDP_TOKEN_LEN], uint64_t *size)
{
	ddp_req q = {.op = DDP_OP_OPEN};
	ddp_resp r;

	q.u.open.unit = dd_str_c(unit);
	q.u.open.path = dd_str_c(path);
	q.u.open.flags = flags;
	if (token && (flags & DDP_OPEN_RESUME))
		memcpy(q.u.open.token, token, DDP_TOKEN_LEN);
	assert_int_equal(call(t, &q, &r), want);
	if (want != DDP_S_OK)
		return 0;
	if (token)
		memcpy(token, r.u.open.token, DDP_TOKEN_LEN);
	if (size)
		*size = r.u.open.size;
	assert_int_not_equal(r.u.open.handle, 0);
	return r.u.open.handle;
}

static uint16_t write_at(tc *t, uint32_t h, uint64_t off, const void *p, uint32_t n)
{
	ddp_req q = {.op = DDP_OP_WRITE};

	q.u.write.handle = h, q.u.write.offset = off, q.u.write.len = n;
	q.u.write.data = p;
	return call0(t, &q);
}

static uint16_t close_h(tc *t, uint32_t h, uint8_t flags, ddp_resp *r)
{
	ddp_req q = {.op = DDP_OP_CLOSE};

	q.u.close.handle = h, q.u.close.flags = flags;
	return call(t, &q, r);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* ----------------------------------------------------------- handshake */

static void test_handshake(void **state)
{
	tc t;
	ddp_req q = {.op = DDP_OP_PING};
	ddp_resp r;
	ddp_memstore *m = new_store();

	(void)state;
	login(&t, m, NULL);
	assert_true(dd_str_eq_c(ddp_session_user(t.s), AK));
	q.u.ping.cookie = 0xfeed;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.ping.cookie, 0xfeed);
	tc_close(&t);
	ddp_memstore_free(m);
}

/* HELLO announces the store's chunking to a client that asks, and only
 * to one that asks (an older client gets the 64-byte body). */
static void test_hello_chunking(void **state)
{
	ddp_session_cfg cfg;
	ddp_req q = {.op = DDP_OP_HELLO};
	ddp_resp r;
	tc t;

	(void)state;
	ddp_session_cfg_default(&cfg);
	cfg.chunk_min = 4096, cfg.chunk_avg = 16384, cfg.chunk_max = 131072;
	q.u.hello.ver_min = q.u.hello.ver_max = 1;
	q.u.hello.agent = DD_STR_LIT("test");
	for (int ask = 0; ask < 2; ask++) {
		tc_open(&t, new_store(), &cfg);
		q.u.hello.features = DDP_FEAT_ZSTD | (ask ? DDP_FEAT_CHUNKING : 0);
		assert_int_equal(call(&t, &q, &r), DDP_S_OK);
		assert_int_equal(!!(r.u.hello.features & DDP_FEAT_CHUNKING), ask);
		if (ask) {
			assert_int_equal(r.u.hello.chunker.len, strlen(DDP_CHUNKER_NAME));
			assert_memory_equal(r.u.hello.chunker.p, DDP_CHUNKER_NAME,
					    r.u.hello.chunker.len);
			assert_int_equal(r.u.hello.chunk_min, 4096);
			assert_int_equal(r.u.hello.chunk_avg, 16384);
			assert_int_equal(r.u.hello.chunk_max, 131072);
		} else {
			assert_int_equal(r.u.hello.chunk_avg, 0);
		}
		ddp_resp_release(&r);
		ddp_memstore *m = t.m;
		tc_close(&t);
		ddp_memstore_free(m);
	}
	/* a server that does not know its chunking never sets the bit */
	tc_open(&t, new_store(), NULL);
	q.u.hello.features = DDP_FEAT_ZSTD | DDP_FEAT_CHUNKING;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_false(r.u.hello.features & DDP_FEAT_CHUNKING);
	ddp_resp_release(&r);
	ddp_memstore *m = t.m;
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_auth_failures(void **state)
{
	tc t;
	ddp_req q = {.op = DDP_OP_PING};
	ddp_memstore *m = new_store();
	size_t n;

	(void)state;
	/* wrong secret: EAUTH, then the session closes and takes no more */
	tc_open(&t, m, NULL);
	assert_int_equal(do_hello(&t), DDP_S_OK);
	assert_int_equal(do_auth(&t, AK, "not-the-secret"), DDP_S_EAUTH);
	assert_int_equal(t.feed_rc, DD_EPROTO);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_send(&t, &q);
	assert_int_equal(t.fed, 0);
	ddp_session_output(t.s, &n);
	assert_int_equal(n, 0);
	tc_close(&t);
	/* unknown key: the same answer */
	tc_open(&t, m, NULL);
	assert_int_equal(do_hello(&t), DDP_S_OK);
	assert_int_equal(do_auth(&t, "NOSUCHKEY", SECRET), DDP_S_EAUTH);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	/* another user's secret for this key */
	tc_open(&t, m, NULL);
	assert_int_equal(do_hello(&t), DDP_S_OK);
	assert_int_equal(do_auth(&t, AK, "bobsecret"), DDP_S_EAUTH);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_bad_state_and_version(void **state)
{
	tc t;
	ddp_req q = {.op = DDP_OP_PING};
	ddp_resp r;
	ddp_memstore *m = new_store();

	(void)state;
	/* anything before HELLO */
	tc_open(&t, m, NULL);
	assert_int_equal(call(&t, &q, &r), DDP_S_EPROTO);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	/* an operation before AUTH */
	tc_open(&t, m, NULL);
	assert_int_equal(do_hello(&t), DDP_S_OK);
	q.op = DDP_OP_UNIT_LIST;
	q.u.unit_list.limit = 10;
	assert_int_equal(call(&t, &q, &r), DDP_S_EPROTO);
	tc_close(&t);
	/* HELLO again once READY */
	login(&t, m, NULL);
	assert_int_equal(do_hello(&t), DDP_S_EPROTO);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	/* no common version */
	tc_open(&t, m, NULL);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_HELLO;
	q.u.hello.ver_min = 2, q.u.hello.ver_max = 5;
	assert_int_equal(call(&t, &q, &r), DDP_S_EVERSION);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	/* BYE during AUTH is allowed */
	tc_open(&t, m, NULL);
	assert_int_equal(do_hello(&t), DDP_S_OK);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_BYE;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	ddp_memstore_free(m);
}

/* ---------------------------------------------------------- byte I/O */

static void test_write_commit_read(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	uint8_t *data = malloc(3 * DDP_MAX_IO), dg[32], tok[16];
	ddp_req q = {.op = DDP_OP_READ};
	ddp_resp r;
	uint64_t size, off;
	uint32_t h;
	const uint8_t *stored;
	size_t n;

	(void)state;
	assert_non_null(data);
	fill(data, 3 * DDP_MAX_IO, 1);
	login(&t, m, NULL);
	h = open_file(&t, "backups", "pvc-1/disk.img", DDP_OPEN_CREATE, DDP_S_OK, tok, &size);
	assert_int_equal(size, 0);
	assert_int_equal(write_at(&t, h, 0, data, DDP_MAX_IO), DDP_S_OK);
	/* offsets must equal the writer's length: a gap and a rewind fail */
	assert_int_equal(write_at(&t, h, DDP_MAX_IO + 1, data, 5), DDP_S_ERANGE);
	assert_int_equal(write_at(&t, h, 0, data, 5), DDP_S_ERANGE);
	assert_int_equal(write_at(&t, h, DDP_MAX_IO, data + DDP_MAX_IO, DDP_MAX_IO), DDP_S_OK);
	assert_int_equal(write_at(&t, h, 2 * DDP_MAX_IO, data + 2 * DDP_MAX_IO, 1000), DDP_S_OK);
	/* not visible before commit */
	assert_int_equal(ddp_memstore_get_file(m, "backups", "pvc-1/disk.img", &stored, &n), DD_ENOENT);
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_OK);
	size = 2 * DDP_MAX_IO + 1000;
	assert_int_equal(r.u.close.size, size);
	assert_int_equal(r.u.close.digest_len, 32);
	assert_int_equal(ddp_sha256(data, size, dg), DD_OK);
	assert_memory_equal(r.u.close.digest, dg, 32);
	assert_int_equal(ddp_memstore_get_file(m, "backups", "pvc-1/disk.img", &stored, &n), DD_OK);
	assert_int_equal(n, size);
	assert_memory_equal(stored, data, size);
	/* the handle is gone */
	assert_int_equal(close_h(&t, h, 0, &r), DDP_S_EBADHANDLE);

	h = open_file(&t, "backups", "pvc-1/disk.img", DDP_OPEN_READ, DDP_S_OK, NULL, &size);
	assert_int_equal(size, 2 * DDP_MAX_IO + 1000);
	for (off = 0; off < size; off += r.u.read.len) {
		q.u.read.handle = h, q.u.read.offset = off, q.u.read.len = 777777;
		assert_int_equal(call(&t, &q, &r), DDP_S_OK);
		assert_true(r.u.read.len > 0);
		assert_memory_equal(r.u.read.data, data + off, r.u.read.len);
	}
	assert_int_equal(off, size);
	q.u.read.offset = size; /* at EOF: 0 bytes */
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.read.len, 0);
	q.u.read.len = DDP_MAX_IO + 1; /* over max_io */
	assert_int_equal(call(&t, &q, &r), DDP_S_EINVAL);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_READY); /* not fatal */
	tc_close(&t);
	free(data);
	ddp_memstore_free(m);
}

static void test_handle_rules(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_req q;
	ddp_resp r;
	uint32_t w, rd, hs[DDP_MAX_HANDLES];
	uint8_t tok[16];

	(void)state;
	assert_int_equal(ddp_memstore_put_file(m, "backups", "f", "hello", 5), DD_OK);
	login(&t, m, NULL);
	assert_int_equal(write_at(&t, 99, 0, "x", 1), DDP_S_EBADHANDLE);
	rd = open_file(&t, "backups", "f", DDP_OPEN_READ, DDP_S_OK, NULL, NULL);
	w = open_file(&t, "backups", "g", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(write_at(&t, rd, 0, "x", 1), DDP_S_EBADSTATE);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_READ;
	q.u.read.handle = w, q.u.read.len = 5;
	assert_int_equal(call0(&t, &q), DDP_S_EBADSTATE);
	/* WRITE then DSP on the same handle: EBADSTATE */
	assert_int_equal(write_at(&t, w, 0, "abc", 3), DDP_S_OK);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_DSP_QUERY;
	ddp_dsp_ref ref = {{0}, 3};
	q.u.dsp_query.handle = w, q.u.dsp_query.offset = 3, q.u.dsp_query.count = 1;
	q.u.dsp_query.refs = &ref;
	assert_int_equal(call0(&t, &q), DDP_S_EBADSTATE);
	/* flags on a reader's CLOSE: EINVAL and the handle stays */
	assert_int_equal(close_h(&t, rd, DDP_CLOSE_COMMIT, &r), DDP_S_EINVAL);
	assert_int_equal(close_h(&t, rd, 0, &r), DDP_S_OK);
	/* OPEN flag rules */
	open_file(&t, "backups", "f", 0, DDP_S_EINVAL, NULL, NULL);
	open_file(&t, "backups", "f", DDP_OPEN_READ | DDP_OPEN_CREATE, DDP_S_EINVAL, NULL, NULL);
	open_file(&t, "backups", "f", DDP_OPEN_READ | DDP_OPEN_EXCL, DDP_S_EINVAL, NULL, NULL);
	open_file(&t, "backups", "f", DDP_OPEN_CREATE | 0x100, DDP_S_EINVAL, NULL, NULL);
	open_file(&t, "backups", "f", DDP_OPEN_CREATE | DDP_OPEN_EXCL, DDP_S_EEXIST, NULL, NULL);
	open_file(&t, "backups", "nope", DDP_OPEN_READ, DDP_S_ENOENT, NULL, NULL);
	open_file(&t, "Bad_Unit", "f", DDP_OPEN_READ, DDP_S_EINVAL, NULL, NULL);
	open_file(&t, "bobs", "f", DDP_OPEN_READ, DDP_S_EPERM, NULL, NULL);
	open_file(&t, "nounit", "f", DDP_OPEN_READ, DDP_S_ENOENT, NULL, NULL);
	/* a nonzero token without RESUME */
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_OPEN;
	q.u.open.unit = DD_STR_LIT("backups"), q.u.open.path = DD_STR_LIT("f");
	q.u.open.flags = DDP_OPEN_READ;
	q.u.open.token[3] = 1;
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);
	/* abort the writer: nothing committed */
	assert_int_equal(close_h(&t, w, 0, &r), DDP_S_OK);
	assert_int_equal(ddp_memstore_writers(m), 0);
	/* 64 handles, then ELIMIT */
	for (int i = 0; i < DDP_MAX_HANDLES; i++)
		hs[i] = open_file(&t, "backups", "f", DDP_OPEN_READ, DDP_S_OK, NULL, NULL);
	open_file(&t, "backups", "f", DDP_OPEN_READ, DDP_S_ELIMIT, NULL, NULL);
	for (int i = 1; i < DDP_MAX_HANDLES; i++)
		assert_true(hs[i] > hs[i - 1]); /* never reused */
	tc_close(&t);
	ddp_memstore_free(m);
}

/* ---------------------------------------------------------------- DSP */

#define NSEG 4
static uint8_t seg_data[NSEG][20000];
static ddp_dsp_ref seg_ref[NSEG];

static void make_segments(void)
{
	for (int i = 0; i < NSEG; i++) {
		size_t len = 8000 + (size_t)i * 1000;
		if (i == 0) /* compressible */
			memset(seg_data[i], 'z', len);
		else
			fill(seg_data[i], len, 100 + (uint32_t)i);
		seg_ref[i].len = (uint32_t)len;
		assert_int_equal(ddp_sha256(seg_data[i], len, seg_ref[i].fp), DD_OK);
	}
}

/* DSP_QUERY for segments idx[0..n) at offset; returns the missing byte. */
static uint8_t query(tc *t, uint32_t h, uint64_t off, const int *idx, int n, uint16_t want)
{
	ddp_dsp_ref refs[8];
	ddp_req q = {.op = DDP_OP_DSP_QUERY};
	ddp_resp r;
	uint64_t sum = off;

	for (int i = 0; i < n; i++) {
		refs[i] = seg_ref[idx[i]];
		sum += refs[i].len;
	}
	q.u.dsp_query.handle = h, q.u.dsp_query.offset = off;
	q.u.dsp_query.count = (uint16_t)n, q.u.dsp_query.refs = refs;
	assert_int_equal(call(t, &q, &r), want);
	if (want != DDP_S_OK)
		return 0;
	assert_int_equal(r.u.dsp_query.count, n);
	assert_int_equal(r.u.dsp_query.length, sum);
	return r.u.dsp_query.missing[0];
}

/* DSP_PUT of segment i (zstd when it shrinks). */
static uint16_t put(tc *t, uint32_t h, int i)
{
	ddp_segment g;
	ddp_req q = {.op = DDP_OP_DSP_PUT};
	uint8_t z[ZSTD_COMPRESSBOUND(20000)];
	size_t zn = ZSTD_compress(z, sizeof(z), seg_data[i], seg_ref[i].len, 3);

	assert_false(ZSTD_isError(zn));
	memset(&g, 0, sizeof(g));
	memcpy(g.fp, seg_ref[i].fp, DDP_FP_LEN);
	g.raw_len = seg_ref[i].len;
	if (zn < g.raw_len) {
		g.flags = DDP_SEG_ZSTD, g.data_len = (uint32_t)zn, g.data = z;
	} else {
		g.data_len = g.raw_len, g.data = seg_data[i];
	}
	q.u.dsp_put.handle = h, q.u.dsp_put.count = 1, q.u.dsp_put.segs = &g;
	return call0(t, &q);
}

static void check_file(ddp_memstore *m, const char *unit, const char *path,
		       const int *idx, int n)
{
	const uint8_t *d;
	size_t len, off = 0;

	assert_int_equal(ddp_memstore_get_file(m, unit, path, &d, &len), DD_OK);
	for (int i = 0; i < n; i++) {
		assert_true(off + seg_ref[idx[i]].len <= len);
		assert_memory_equal(d + off, seg_data[idx[i]], seg_ref[idx[i]].len);
		off += seg_ref[idx[i]].len;
	}
	assert_int_equal(off, len);
}

static void test_dsp_write(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_resp r;
	uint8_t tok[16];
	uint32_t h;
	static const int abc[] = {0, 1, 2}, abd[] = {0, 1, 3}, a[] = {0};
	uint64_t len_abc = seg_ref[0].len + seg_ref[1].len + seg_ref[2].len;

	(void)state;
	login(&t, m, NULL);
	h = open_file(&t, "backups", "f1", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(query(&t, h, 0, abc, 3, DDP_S_OK), 0x07); /* all new */
	assert_int_equal(put(&t, h, 0), DDP_S_OK); /* zstd */
	assert_int_equal(put(&t, h, 1), DDP_S_OK);
	assert_int_equal(put(&t, h, 2), DDP_S_OK);
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_OK);
	assert_int_equal(r.u.close.size, len_abc);
	check_file(m, "backups", "f1", abc, 3);
	assert_int_equal(ddp_memstore_received(m, "backups"), len_abc);

	/* same unit: only D is new, only D is sent */
	h = open_file(&t, "backups", "f2", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(query(&t, h, 0, abd, 3, DDP_S_OK), 0x04);
	/* a segment that was not answered missing is refused */
	assert_int_equal(put(&t, h, 1), DDP_S_EINVAL);
	assert_int_equal(put(&t, h, 3), DDP_S_OK);
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_OK);
	check_file(m, "backups", "f2", abd, 3);
	assert_int_equal(ddp_memstore_received(m, "backups"), len_abc + seg_ref[3].len);

	/* another unit never learns what "backups" holds */
	h = open_file(&t, "second", "f", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(query(&t, h, 0, a, 1, DDP_S_OK), 0x01);
	/* commit with a missing segment never sent */
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_EMISSING);
	assert_int_equal(ddp_memstore_get_file(m, "second", "f", (const uint8_t **)&r.u.read.data,
					       &(size_t){0}), DD_ENOENT);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_dsp_bad_segments(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	uint8_t tok[16], z[64];
	uint32_t h;
	static const int ab[] = {0, 1};
	ddp_segment g;
	ddp_req q = {.op = DDP_OP_DSP_PUT};
	ddp_dsp_ref zero = {{0}, 0};

	(void)state;
	login(&t, m, NULL);
	h = open_file(&t, "backups", "f", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(query(&t, h, 5, ab, 2, DDP_S_ERANGE), 0);
	assert_int_equal(query(&t, h, 0, ab, 2, DDP_S_OK), 0x03);
	/* content that does not match the fingerprint */
	memset(&g, 0, sizeof(g));
	memcpy(g.fp, seg_ref[1].fp, DDP_FP_LEN);
	g.raw_len = g.data_len = seg_ref[1].len;
	g.data = seg_data[2];
	q.u.dsp_put.handle = h, q.u.dsp_put.count = 1, q.u.dsp_put.segs = &g;
	assert_int_equal(call0(&t, &q), DDP_S_EDIGEST);
	/* zstd data that is not a zstd frame */
	memset(z, 0x11, sizeof(z));
	g.flags = DDP_SEG_ZSTD, g.data = z, g.data_len = sizeof(z);
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);
	/* missing segments come in file order: B before A is refused */
	assert_int_equal(put(&t, h, 1), DDP_S_EINVAL);
	assert_int_equal(put(&t, h, 0), DDP_S_OK);
	assert_int_equal(put(&t, h, 1), DDP_S_OK);
	/* zero-length segment in a query */
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_DSP_QUERY;
	q.u.dsp_query.handle = h, q.u.dsp_query.offset = seg_ref[0].len + seg_ref[1].len;
	q.u.dsp_query.count = 1, q.u.dsp_query.refs = &zero;
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);
	assert_int_equal(ddp_memstore_segments(m, "backups"), 2);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_resume(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_resp r;
	uint8_t tok[16], tok2[16], bad[16];
	uint32_t h;
	uint64_t size;
	static const int ab[] = {0, 1}, b[] = {1}, abc[] = {0, 1, 2};

	(void)state;
	login(&t, m, NULL);
	h = open_file(&t, "backups", "big", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(query(&t, h, 0, ab, 2, DDP_S_OK), 0x03);
	assert_int_equal(put(&t, h, 0), DDP_S_OK);
	tc_close(&t); /* the connection drops before B is sent */
	assert_int_equal(ddp_memstore_writers(m), 1);

	login(&t, m, NULL);
	memcpy(bad, tok, 16);
	bad[0] ^= 1;
	open_file(&t, "backups", "big", DDP_OPEN_CREATE | DDP_OPEN_RESUME, DDP_S_ENOENT, bad, NULL);
	open_file(&t, "backups", "other", DDP_OPEN_CREATE | DDP_OPEN_RESUME, DDP_S_ENOENT,
		  memcpy(tok2, tok, 16), NULL);
	memcpy(tok2, tok, 16);
	h = open_file(&t, "backups", "big", DDP_OPEN_CREATE | DDP_OPEN_RESUME, DDP_S_OK, tok2, &size);
	assert_memory_equal(tok2, tok, 16); /* the same token */
	assert_int_equal(size, seg_ref[0].len); /* cut back to what it holds */
	assert_int_equal(query(&t, h, size, b, 1, DDP_S_OK), 0x01);
	assert_int_equal(put(&t, h, 1), DDP_S_OK);
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_OK);
	check_file(m, "backups", "big", ab, 2);
	tc_close(&t);

	/* expired token: a new writer re-queries and resends nothing held */
	login(&t, m, NULL);
	h = open_file(&t, "backups", "big2", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(query(&t, h, 0, abc, 3, DDP_S_OK), 0x04);
	assert_int_equal(put(&t, h, 2), DDP_S_OK);
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_OK);
	check_file(m, "backups", "big2", abc, 3);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_synthesize(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_req q = {.op = DDP_OP_SYNTHESIZE};
	ddp_resp r;
	ddp_extent e[3] = {
		{DDP_EXT_DATA, {"", 0}, 0, 3, (const uint8_t *)"new"},
		{DDP_EXT_FILE, DD_STR_LIT("full"), 2, 3, NULL},
		{DDP_EXT_FILE, DD_STR_LIT("incr"), 0, 2, NULL},
	};
	const uint8_t *d;
	size_t n;

	(void)state;
	assert_int_equal(ddp_memstore_put_file(m, "backups", "full", "0123456789", 10), DD_OK);
	assert_int_equal(ddp_memstore_put_file(m, "backups", "incr", "ab", 2), DD_OK);
	login(&t, m, NULL);
	q.u.synth.unit = DD_STR_LIT("backups");
	q.u.synth.path = DD_STR_LIT("synth");
	q.u.synth.count = 3, q.u.synth.exts = e;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.length.length, 8);
	assert_int_equal(ddp_memstore_get_file(m, "backups", "synth", &d, &n), DD_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(d, "new234ab", 8);
	q.u.synth.flags = DDP_NOREPLACE;
	assert_int_equal(call0(&t, &q), DDP_S_EEXIST);
	q.u.synth.flags = 0;
	e[1].offset = 8; /* past the end of "full" */
	assert_int_equal(call0(&t, &q), DDP_S_ERANGE);
	e[1].offset = 0;
	e[2].src = DD_STR_LIT("missing");
	assert_int_equal(call0(&t, &q), DDP_S_ENOENT);
	e[2].length = 0;
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);
	q.u.synth.unit = DD_STR_LIT("bobs");
	e[2].src = DD_STR_LIT("incr"), e[2].length = 2;
	assert_int_equal(call0(&t, &q), DDP_S_EPERM);
	tc_close(&t);
	ddp_memstore_free(m);
}

/* ---------------------------------------------------------- namespace */

static void test_namespace(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_req q;
	ddp_resp r;
	static const char *files[] = {"a/x", "a/y/z", "b", "c/d", "a-b"};

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(files); i++)
		assert_int_equal(ddp_memstore_put_file(m, "backups", files[i], "12345", 5), DD_OK);
	login(&t, m, NULL);

	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_READDIR;
	q.u.readdir.unit = DD_STR_LIT("backups");
	q.u.readdir.limit = 100;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.readdir.count, 4); /* a-b, a/, b, c/ */
	assert_int_equal(r.u.readdir.more, 0);
	assert_true(dd_str_eq_c(r.u.readdir.ents[0].name, "a-b"));
	assert_true(dd_str_eq_c(r.u.readdir.ents[1].name, "a/"));
	assert_int_equal(r.u.readdir.ents[1].type, DDP_TYPE_DIR);
	assert_true(dd_str_eq_c(r.u.readdir.ents[2].name, "b"));
	assert_int_equal(r.u.readdir.ents[2].size, 5);
	assert_true(dd_str_eq_c(r.u.readdir.ents[3].name, "c/"));
	ddp_resp_release(&r);
	/* pagination */
	q.u.readdir.limit = 2;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.readdir.count, 2);
	assert_int_equal(r.u.readdir.more, 1);
	ddp_resp_release(&r);
	q.u.readdir.start_after = DD_STR_LIT("a/");
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.readdir.count, 2);
	assert_int_equal(r.u.readdir.more, 0);
	assert_true(dd_str_eq_c(r.u.readdir.ents[0].name, "b"));
	ddp_resp_release(&r);
	/* a subdirectory */
	q.u.readdir.start_after = DD_STR_LIT("");
	q.u.readdir.prefix = DD_STR_LIT("a/");
	q.u.readdir.limit = 10;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.readdir.count, 2);
	assert_true(dd_str_eq_c(r.u.readdir.ents[0].name, "x"));
	assert_true(dd_str_eq_c(r.u.readdir.ents[1].name, "y/"));
	ddp_resp_release(&r);
	q.u.readdir.prefix = DD_STR_LIT("a"); /* not ending in '/' */
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);
	q.u.readdir.prefix = DD_STR_LIT("");
	q.u.readdir.limit = 0;
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);

	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_STAT;
	q.u.stat.unit = DD_STR_LIT("backups");
	q.u.stat.path = DD_STR_LIT("a/y");
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.stat.type, DDP_TYPE_DIR);
	q.u.stat.path = DD_STR_LIT("b");
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.stat.type, DDP_TYPE_FILE);
	assert_int_equal(r.u.stat.size, 5);
	q.u.stat.path = DD_STR_LIT("zz");
	assert_int_equal(call(&t, &q, &r), DDP_S_ENOENT);

	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_RENAME;
	q.u.rename.unit = DD_STR_LIT("backups");
	q.u.rename.from = DD_STR_LIT("b"), q.u.rename.to = DD_STR_LIT("c/d");
	q.u.rename.flags = DDP_NOREPLACE;
	assert_int_equal(call0(&t, &q), DDP_S_EEXIST);
	q.u.rename.to = DD_STR_LIT("e");
	assert_int_equal(call0(&t, &q), DDP_S_OK);
	assert_int_equal(call0(&t, &q), DDP_S_ENOENT); /* b is gone */
	q.op = DDP_OP_FASTCOPY;
	q.u.rename.from = DD_STR_LIT("e"), q.u.rename.to = DD_STR_LIT("e2");
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.length.length, 5);
	q.u.rename.flags = 0x80;
	assert_int_equal(call0(&t, &q), DDP_S_EINVAL);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_UNLINK;
	q.u.stat.unit = DD_STR_LIT("backups");
	q.u.stat.path = DD_STR_LIT("e");
	assert_int_equal(call0(&t, &q), DDP_S_OK);
	assert_int_equal(call0(&t, &q), DDP_S_ENOENT);
	q.u.stat.unit = DD_STR_LIT("bobs");
	assert_int_equal(call0(&t, &q), DDP_S_EPERM);

	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_UNIT_LIST;
	q.u.unit_list.limit = 10;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.unit_list.count, 2); /* not BOB's unit */
	assert_true(dd_str_eq_c(r.u.unit_list.units[0].name, "backups"));
	assert_true(dd_str_eq_c(r.u.unit_list.units[1].name, "second"));
	ddp_resp_release(&r);
	q.u.unit_list.limit = 1;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.unit_list.count, 1);
	assert_int_equal(r.u.unit_list.more, 1);
	ddp_resp_release(&r);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_UNIT_STAT;
	q.u.unit_stat.unit = DD_STR_LIT("backups");
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	assert_int_equal(r.u.unit_stat.files, 5); /* a/x a/y/z c/d a-b e2 */
	assert_int_equal(r.u.unit_stat.logical_bytes, 25);
	q.u.unit_stat.unit = DD_STR_LIT("bobs");
	assert_int_equal(call0(&t, &q), DDP_S_EPERM);
	tc_close(&t);
	ddp_memstore_free(m);
}

/* -------------------------------------------------- violations, flow */

static void test_violations(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_hdr h = {DDP_VERSION, DDP_OP_WRITE, 0, 77, DDP_MAX_PAYLOAD + 1};
	uint8_t b[DDP_HDR_LEN + 64];
	ddp_resp r;
	ddp_req q;
	size_t used;

	(void)state;
	/* oversized frame: answered, closed, payload never taken */
	login(&t, m, NULL);
	memset(b, 0, sizeof(b));
	ddp_hdr_encode(&h, b);
	assert_int_equal(ddp_session_feed(t.s, b, sizeof(b), &used), DD_EPROTO);
	assert_int_equal(used, DDP_HDR_LEN);
	tc_recv_id(&t, DDP_OP_WRITE, 77, &r);
	assert_int_equal(r.status, DDP_S_ETOOBIG);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	/* a frame with the RESPONSE flag from the client */
	login(&t, m, NULL);
	h = (ddp_hdr){DDP_VERSION, DDP_OP_PING, DDP_F_RESPONSE, 5, 8};
	ddp_hdr_encode(&h, b);
	assert_int_equal(ddp_session_feed(t.s, b, DDP_HDR_LEN + 8, &used), DD_EPROTO);
	tc_recv_id(&t, DDP_OP_PING, 5, &r);
	assert_int_equal(r.status, DDP_S_EPROTO);
	tc_close(&t);
	/* a malformed payload (PING with 7 bytes) */
	login(&t, m, NULL);
	h = (ddp_hdr){DDP_VERSION, DDP_OP_PING, 0, 6, 7};
	ddp_hdr_encode(&h, b);
	assert_int_equal(ddp_session_feed(t.s, b, DDP_HDR_LEN + 7, &used), DD_EPROTO);
	tc_recv_id(&t, DDP_OP_PING, 6, &r);
	assert_int_equal(r.status, DDP_S_EPROTO);
	tc_close(&t);
	/* an unknown opcode once READY: ENOTSUP, the session goes on */
	login(&t, m, NULL);
	h = (ddp_hdr){DDP_VERSION, 0x6e, 0, 9, 3};
	ddp_hdr_encode(&h, b);
	assert_int_equal(ddp_session_feed(t.s, b, DDP_HDR_LEN + 3, &used), DD_OK);
	tc_recv_id(&t, 0x6e, 9, &r);
	assert_int_equal(r.status, DDP_S_ENOTSUP);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_PING;
	assert_int_equal(call(&t, &q, &r), DDP_S_OK);
	/* a bad version byte mid-stream */
	h = (ddp_hdr){DDP_VERSION, DDP_OP_PING, 0, 10, 8};
	ddp_hdr_encode(&h, b);
	b[0] = 9;
	assert_int_equal(ddp_session_feed(t.s, b, DDP_HDR_LEN + 8, &used), DD_EPROTO);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_window(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_session_cfg cfg;
	ddp_req q = {.op = DDP_OP_PING};
	ddp_resp r;

	(void)state;
	ddp_session_cfg_default(&cfg);
	cfg.window_reqs = 4;
	login(&t, m, &cfg); /* the handshake responses are all read */
	/* four unanswered requests are fine, a fifth is a violation */
	for (int i = 0; i < 4; i++)
		assert_int_equal(tc_send(&t, &q), DD_OK);
	assert_int_equal(tc_send(&t, &q), DD_EPROTO);
	for (int i = 0; i < 4; i++) {
		tc_recv_id(&t, DDP_OP_PING, t.id - 4 + (uint32_t)i, &r);
		assert_int_equal(r.status, DDP_S_OK);
	}
	tc_recv_id(&t, DDP_OP_PING, t.id, &r);
	assert_int_equal(r.status, DDP_S_ELIMIT);
	tc_close(&t);
	/* reading answers returns credit: 100 requests, 3 in flight at most */
	login(&t, m, &cfg);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(tc_send(&t, &q), DD_OK);
		if (i >= 2) {
			tc_recv_id(&t, DDP_OP_PING, t.id - 2, &r);
			assert_int_equal(r.status, DDP_S_OK);
		}
	}
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_backpressure(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_session_cfg cfg;
	ddp_req q = {.op = DDP_OP_PING};
	ddp_resp r;
	dd_buf b;
	size_t off = 0, used, n;
	int got = 0;

	(void)state;
	ddp_session_cfg_default(&cfg);
	cfg.out_high = 64;
	login(&t, m, &cfg);
	dd_buf_init(&b, 1 << 16);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ddp_req_encode(&q, 100 + (uint32_t)i, &b), DD_OK);
	assert_int_equal(ddp_session_feed(t.s, b.data, b.len, &used), DD_OK);
	assert_true(used < b.len); /* stopped reading: output is above out_high */
	ddp_session_output(t.s, &n);
	assert_true(n > 64 && n <= 64 + 22);
	off = used;
	while (got < 10) {
		tc_recv_id(&t, DDP_OP_PING, 100 + (uint32_t)got, &r);
		assert_int_equal(r.status, DDP_S_OK);
		got++;
		if (off < b.len) {
			assert_int_equal(ddp_session_feed(t.s, b.data + off, b.len - off, &used), DD_OK);
			off += used;
		}
	}
	assert_int_equal(off, b.len);
	dd_buf_release(&b);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_bye_aborts_writers(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_req q = {.op = DDP_OP_BYE};
	uint8_t tok[16];

	(void)state;
	login(&t, m, NULL);
	open_file(&t, "backups", "w", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(ddp_memstore_writers(m), 1);
	assert_int_equal(call0(&t, &q), DDP_S_OK);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	assert_int_equal(ddp_memstore_writers(m), 0);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_shutdown(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_req q = {.op = DDP_OP_PING};
	ddp_resp r;
	uint8_t tok[16];
	size_t n;

	(void)state;
	login(&t, m, NULL);
	open_file(&t, "backups", "w", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	tc_send(&t, &q); /* answered before the shutdown... */
	ddp_session_shutdown(t.s);
	assert_int_equal(ddp_session_state(t.s), DDP_ST_CLOSING);
	tc_recv_id(&t, DDP_OP_PING, t.id, &r); /* ...and still delivered */
	assert_int_equal(r.status, DDP_S_OK);
	tc_send(&t, &q);
	assert_int_equal(t.fed, 0); /* nothing more is taken */
	ddp_session_output(t.s, &n);
	assert_int_equal(n, 0);
	tc_close(&t);
	assert_int_equal(ddp_memstore_writers(m), 1); /* resumable */
	ddp_memstore_free(m);
}

static void test_random_input(void **state)
{
	ddp_memstore *m = new_store();
	uint8_t junk[2048];
	uint64_t x = 42;
	size_t used, n;

	(void)state;
	for (int round = 0; round < 300; round++) {
		tc t;
		if (round & 1)
			login(&t, m, NULL);
		else
			tc_open(&t, m, NULL);
		for (size_t i = 0; i < sizeof(junk); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			junk[i] = (uint8_t)x;
		}
		junk[0] = DDP_VERSION; /* get past the header check sometimes */
		junk[2] = junk[3] = 0;
		junk[8] = junk[9] = 0;
		int rc = ddp_session_feed(t.s, junk, sizeof(junk), &used);
		/* random bytes are a violation, or an incomplete frame */
		assert_true(rc == DD_EPROTO || ddp_session_state(t.s) != DDP_ST_CLOSING);
		assert_true(used <= sizeof(junk));
		ddp_session_output(t.s, &n);
		ddp_session_output_consume(t.s, n);
		tc_close(&t);
	}
	ddp_memstore_free(m);
}

static void test_small_frames(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_session_cfg cfg;
	ddp_req q;
	ddp_resp r;
	static uint8_t big[65536];
	char name[1100];
	uint32_t h;
	uint8_t tok[16];
	unsigned total = 0, rounds = 0;

	(void)state;
	ddp_session_cfg_default(&cfg);
	cfg.max_payload = 65536;
	/* 200 files with 1000-byte names: 200 KB of listing */
	for (int i = 0; i < 200; i++) {
		memset(name, 'n', 1000);
		snprintf(name + 990, 11, "%010u", (unsigned)i);
		assert_int_equal(ddp_memstore_put_file(m, "backups", name, "x", 1), DD_OK);
	}
	login(&t, m, &cfg);
	/* max_io shrinks with max_payload: a READ or WRITE must fit one frame */
	h = open_file(&t, "backups", "w", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	assert_int_equal(write_at(&t, h, 0, big, 65536 - 4096 + 1), DDP_S_EINVAL);
	assert_int_equal(write_at(&t, h, 0, big, 65536 - 4096), DDP_S_OK);
	/* the listing stops where the frame is full and says more */
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_READDIR;
	q.u.readdir.unit = DD_STR_LIT("backups");
	q.u.readdir.limit = 1000;
	for (;;) {
		assert_int_equal(call(&t, &q, &r), DDP_S_OK);
		assert_true(r.u.readdir.count > 0 && r.u.readdir.count < 200);
		total += r.u.readdir.count;
		rounds++;
		if (!r.u.readdir.more) {
			ddp_resp_release(&r);
			break;
		}
		memcpy(name, r.u.readdir.ents[r.u.readdir.count - 1].name.p, 1000);
		q.u.readdir.start_after = (dd_str){name, 1000};
		ddp_resp_release(&r);
	}
	assert_int_equal(total, 200);
	assert_true(rounds >= 4);
	tc_close(&t);
	ddp_memstore_free(m);
}

static void test_dsp_duplicates_and_stream_limit(void **state)
{
	tc t;
	ddp_memstore *m = new_store();
	ddp_resp r;
	uint8_t tok[16];
	uint32_t h;
	static const int aab[] = {0, 0, 1};

	(void)state;
	ddp_memstore_set_stream_limit(m, "backups", 1);
	login(&t, m, NULL);
	h = open_file(&t, "backups", "dup", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	open_file(&t, "backups", "dup2", DDP_OPEN_CREATE, DDP_S_ELIMIT, tok, NULL);
	/* every occurrence is marked; one copy is enough */
	assert_int_equal(query(&t, h, 0, aab, 3, DDP_S_OK), 0x07);
	assert_int_equal(put(&t, h, 0), DDP_S_OK);
	assert_int_equal(put(&t, h, 0), DDP_S_OK); /* a resend changes nothing */
	assert_int_equal(put(&t, h, 1), DDP_S_OK);
	assert_int_equal(close_h(&t, h, DDP_CLOSE_COMMIT, &r), DDP_S_OK);
	check_file(m, "backups", "dup", aab, 3);
	assert_int_equal(ddp_memstore_received(m, "backups"), seg_ref[0].len + seg_ref[1].len);
	/* the stream is free again */
	h = open_file(&t, "backups", "dup2", DDP_OPEN_CREATE, DDP_S_OK, tok, NULL);
	tc_close(&t);
	ddp_memstore_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_hello_chunking),
		cmocka_unit_test(test_auth_failures),
		cmocka_unit_test(test_bad_state_and_version),
		cmocka_unit_test(test_write_commit_read),
		cmocka_unit_test(test_handle_rules),
		cmocka_unit_test(test_dsp_write),
		cmocka_unit_test(test_dsp_bad_segments),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_synthesize),
		cmocka_unit_test(test_namespace),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_bye_aborts_writers),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_random_input),
		cmocka_unit_test(test_small_frames),
		cmocka_unit_test(test_dsp_duplicates_and_stream_limit),
	};

	make_segments();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
