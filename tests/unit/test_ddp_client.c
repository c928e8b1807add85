/*
 * tests/unit/test_ddp_client.c - the sans-I/O DDP client against the real
 * session (loopback through memory): handshake both ways, pipelined
 * requests matched by id, the window, and a lying or broken server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"
#include "ddproto/memstore.h"

#define AK "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

typedef struct got {
	uint32_t id;
	uint8_t op;
	uint16_t status;
	uint64_t num;      /* length / size / handle, by op */
	uint8_t data[64];  /* first READ bytes */
	uint32_t dlen;
} got;

static ddp_memstore *new_store(void)
{
	ddp_memstore *m = ddp_memstore_new();

	assert_non_null(m);
	assert_int_equal(ddp_memstore_add_user(m, AK, SECRET), DD_OK);
	assert_int_equal(ddp_memstore_add_unit(m, "backups", AK), DD_OK);
	return m;
}

/*
 * Moves bytes both ways until neither side has output; records every
 * response the client hands out in g[0..*ng). Returns the last client rc
 * that was not DD_OK/DD_EAGAIN, or DD_OK.
 */
static int pump(ddp_client *c, ddp_session *s, got *g, int *ng, int max)
{
	const uint8_t *o;
	size_t n, used;
	int progress = 1;

	while (progress) {
		progress = 0;
		o = ddp_client_output(c, &n);
		if (n) {
			(void)!ddp_session_feed(s, o, n, &used);
			ddp_client_output_consume(c, used);
			progress |= used > 0;
		}
		o = ddp_session_output(s, &n);
		while (n) {
			ddp_resp r;
			uint32_t id;
			int rc = ddp_client_read(c, o, n, &used, &r, &id);
			ddp_session_output_consume(s, used);
			o = ddp_session_output(s, &n);
			progress |= used > 0;
			if (rc == DD_EAGAIN)
				continue;
			if (rc != DD_OK)
				return rc;
			assert_true(*ng < max);
			got *x = &g[(*ng)++];
			memset(x, 0, sizeof(*x));
			x->id = id, x->op = r.op, x->status = r.status;
			if (r.status == DDP_S_OK && r.op == DDP_OP_OPEN)
				x->num = r.u.open.handle;
			if (r.status == DDP_S_OK && (r.op == DDP_OP_WRITE || r.op == DDP_OP_FASTCOPY))
				x->num = r.u.length.length;
			if (r.status == DDP_S_OK && r.op == DDP_OP_CLOSE)
				x->num = r.u.close.size;
			if (r.status == DDP_S_OK && r.op == DDP_OP_READ) {
				x->dlen = r.u.read.len;
				memcpy(x->data, r.u.read.data, DD_MIN(r.u.read.len, 64u));
			}
			ddp_resp_release(&r);
		}
	}
	return DD_OK;
}

static ddp_client *new_client(const char *secret)
{
	ddp_client *c = ddp_client_new(DD_STR_LIT(AK), secret, strlen(secret),
				       DD_STR_LIT("test_ddp_client"));
	assert_non_null(c);
	assert_int_equal(ddp_client_state(c), DDP_CL_HELLO);
	return c;
}

static void test_handshake_and_pipeline(void **state)
{
	ddp_memstore *m = new_store();
	ddp_session *s = ddp_session_new(&ddp_memstore_ops, m, NULL);
	ddp_client *c = new_client(SECRET);
	ddp_req q;
	got g[16];
	int ng = 0;
	uint32_t ids[4];

	(void)state;
	assert_int_equal(pump(c, s, g, &ng, 16), DD_OK);
	assert_int_equal(ng, 0); /* the handshake is internal */
	assert_int_equal(ddp_client_state(c), DDP_CL_READY);
	assert_int_equal(ddp_session_state(s), DDP_ST_READY);
	assert_int_equal(ddp_client_params(c)->max_io, DDP_MAX_IO);
	assert_int_equal(ddp_client_params(c)->window_reqs, DDP_WINDOW_REQS);

	/* four requests in flight at once: OPEN, WRITE, CLOSE, then reopen */
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_OPEN;
	q.u.open.unit = DD_STR_LIT("backups"), q.u.open.path = DD_STR_LIT("p");
	q.u.open.flags = DDP_OPEN_CREATE;
	assert_int_equal(ddp_client_send(c, &q, &ids[0]), DD_OK);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_WRITE; /* the first handle of a session is 1 */
	q.u.write.handle = 1, q.u.write.len = 11, q.u.write.data = (const uint8_t *)"hello world";
	assert_int_equal(ddp_client_send(c, &q, &ids[1]), DD_OK);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_CLOSE;
	q.u.close.handle = 1, q.u.close.flags = DDP_CLOSE_COMMIT;
	assert_int_equal(ddp_client_send(c, &q, &ids[2]), DD_OK);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_OPEN;
	q.u.open.unit = DD_STR_LIT("backups"), q.u.open.path = DD_STR_LIT("p");
	q.u.open.flags = DDP_OPEN_READ;
	assert_int_equal(ddp_client_send(c, &q, &ids[3]), DD_OK);
	assert_int_equal(ddp_client_inflight(c), 4);
	assert_int_equal(pump(c, s, g, &ng, 16), DD_OK);
	assert_int_equal(ng, 4);
	assert_int_equal(ddp_client_inflight(c), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(g[i].id, ids[i]);
		assert_int_equal(g[i].status, DDP_S_OK);
	}
	assert_int_equal(g[1].num, 11);
	assert_int_equal(g[2].num, 11);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_READ;
	q.u.read.handle = (uint32_t)g[3].num, q.u.read.len = 100;
	ng = 0;
	assert_int_equal(ddp_client_send(c, &q, &ids[0]), DD_OK);
	assert_int_equal(pump(c, s, g, &ng, 16), DD_OK);
	assert_int_equal(ng, 1);
	assert_int_equal(g[0].dlen, 11);
	assert_memory_equal(g[0].data, "hello world", 11);
	ddp_client_free(c);
	ddp_session_free(s);
	ddp_memstore_free(m);
}

static void test_window(void **state)
{
	ddp_memstore *m = new_store();
	ddp_session_cfg cfg;
	ddp_session *s;
	ddp_client *c = new_client(SECRET);
	ddp_req q = {.op = DDP_OP_PING};
	got g[16];
	int ng = 0;
	uint32_t id;

	(void)state;
	ddp_session_cfg_default(&cfg);
	cfg.window_reqs = 4;
	s = ddp_session_new(&ddp_memstore_ops, m, &cfg);
	/* nothing may be sent before READY */
	assert_int_equal(ddp_client_send(c, &q, &id), DD_EINVAL);
	assert_int_equal(pump(c, s, g, &ng, 16), DD_OK);
	assert_int_equal(ddp_client_params(c)->window_reqs, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ddp_client_send(c, &q, &id), DD_OK);
	assert_int_equal(ddp_client_send(c, &q, &id), DD_EAGAIN); /* window full */
	assert_int_equal(pump(c, s, g, &ng, 16), DD_OK);
	assert_int_equal(ng, 4);
	assert_int_equal(ddp_session_state(s), DDP_ST_READY); /* never accused */
	assert_int_equal(ddp_client_send(c, &q, &id), DD_OK);
	/* a request over the server's max_payload is refused locally */
	ddp_client_free(c);
	ddp_session_free(s);
	cfg.max_payload = 65536;
	s = ddp_session_new(&ddp_memstore_ops, m, &cfg);
	c = new_client(SECRET);
	assert_int_equal(pump(c, s, g, &ng, 16), DD_OK);
	{
		static uint8_t big[100000];
		size_t n;
		memset(&q, 0, sizeof(q));
		q.op = DDP_OP_WRITE;
		q.u.write.handle = 1, q.u.write.len = sizeof(big), q.u.write.data = big;
		assert_int_equal(ddp_client_send(c, &q, &id), DD_ETOOBIG);
		ddp_client_output(c, &n);
		assert_int_equal(n, 0);
		assert_int_equal(ddp_client_inflight(c), 0);
	}
	ddp_client_free(c);
	ddp_session_free(s);
	ddp_memstore_free(m);
}

static void test_wrong_secret(void **state)
{
	ddp_memstore *m = new_store();
	ddp_session *s = ddp_session_new(&ddp_memstore_ops, m, NULL);
	ddp_client *c = new_client("wrong");
	got g[4];
	int ng = 0;

	(void)state;
	assert_int_equal(pump(c, s, g, &ng, 4), DD_EAUTH);
	assert_int_equal(ddp_client_state(c), DDP_CL_FAILED);
	assert_int_equal(ddp_session_state(s), DDP_ST_CLOSING);
	ddp_client_free(c);
	ddp_session_free(s);
	ddp_memstore_free(m);
}

/* Feeds one crafted response frame to the client; returns the read rc. */
static int feed_resp(ddp_client *c, const ddp_resp *r, uint32_t id)
{
	dd_buf b;
	ddp_resp out;
	size_t used;
	uint32_t rid;
	int rc;

	dd_buf_init(&b, 1 << 16);
	assert_int_equal(ddp_resp_encode(r, id, &b), DD_OK);
	rc = ddp_client_read(c, b.data, b.len, &used, &out, &rid);
	if (rc == DD_OK)
		ddp_resp_release(&out);
	dd_buf_release(&b);
	return rc;
}

/* The client asks for the chunking extension and keeps what it says. */
static void test_chunk_params(void **state)
{
	ddp_session_cfg cfg;
	ddp_memstore *m = new_store();
	ddp_session *s;
	ddp_client *c = new_client(SECRET);
	got g[4];
	int ng = 0;

	(void)state;
	ddp_session_cfg_default(&cfg);
	cfg.chunk_min = 8192, cfg.chunk_avg = 32768, cfg.chunk_max = 262144;
	s = ddp_session_new(&ddp_memstore_ops, m, &cfg);
	assert_non_null(s);
	assert_int_equal(pump(c, s, g, &ng, 4), DD_OK);
	assert_int_equal(ddp_client_state(c), DDP_CL_READY);
	assert_true(ddp_client_params(c)->features & DDP_FEAT_CHUNKING);
	assert_string_equal(ddp_client_params(c)->chunker, DDP_CHUNKER_NAME);
	assert_int_equal(ddp_client_params(c)->chunk_min, 8192);
	assert_int_equal(ddp_client_params(c)->chunk_avg, 32768);
	assert_int_equal(ddp_client_params(c)->chunk_max, 262144);
	ddp_client_free(c);
	ddp_session_free(s);
	ddp_memstore_free(m);
}

static void test_lying_server(void **state)
{
	ddp_client *c = new_client(SECRET);
	ddp_resp r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.op = DDP_OP_HELLO;
	r.u.hello.version = 1;
	r.u.hello.max_payload = DDP_MAX_PAYLOAD, r.u.hello.max_io = DDP_MAX_IO;
	r.u.hello.window_reqs = 8, r.u.hello.window_bytes = DDP_WINDOW_BYTES;
	r.u.hello.dsp_max_batch = 1024, r.u.hello.max_segment = DDP_MAX_SEGMENT;
	assert_int_equal(feed_resp(c, &r, 1), DD_EAGAIN);
	assert_int_equal(ddp_client_state(c), DDP_CL_AUTH);
	/* a server that does not know the secret cannot produce the proof */
	memset(&r, 0, sizeof(r));
	r.op = DDP_OP_AUTH;
	memset(r.u.auth.proof, 0x42, DDP_MAC_LEN);
	assert_int_equal(feed_resp(c, &r, 2), DD_EAUTH);
	assert_int_equal(ddp_client_state(c), DDP_CL_FAILED);
	ddp_client_free(c);

	/* an answer to a request never sent */
	c = new_client(SECRET);
	memset(&r, 0, sizeof(r));
	r.op = DDP_OP_PING;
	assert_int_equal(feed_resp(c, &r, 99), DD_EPROTO);
	ddp_client_free(c);
	/* the right id with the wrong opcode */
	c = new_client(SECRET);
	assert_int_equal(feed_resp(c, &r, 1), DD_EPROTO);
	ddp_client_free(c);
	/* EVERSION */
	c = new_client(SECRET);
	memset(&r, 0, sizeof(r));
	r.op = DDP_OP_HELLO;
	r.status = DDP_S_EVERSION;
	assert_int_equal(feed_resp(c, &r, 1), DD_EPROTO);
	ddp_client_free(c);
	/* a window too small to be real */
	c = new_client(SECRET);
	memset(&r, 0, sizeof(r));
	r.op = DDP_OP_HELLO;
	r.u.hello.version = 1;
	r.u.hello.max_payload = DDP_MAX_PAYLOAD, r.u.hello.max_io = DDP_MAX_IO;
	r.u.hello.window_reqs = 0;
	assert_int_equal(feed_resp(c, &r, 1), DD_EPROTO);
	ddp_client_free(c);
	/* bytes that are not a frame */
	c = new_client(SECRET);
	{
		ddp_resp o;
		size_t used;
		uint32_t id;
		assert_int_equal(ddp_client_read(c, "garbage-garbage", 15, &used, &o, &id), DD_EPROTO);
	}
	ddp_client_free(c);
	/* access keys that cannot be sent */
	assert_null(ddp_client_new(DD_STR_LIT(""), "s", 1, DD_STR_LIT("")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_pipeline),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_chunk_params),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_lying_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
