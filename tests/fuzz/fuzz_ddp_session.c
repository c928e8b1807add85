/*
 * tests/fuzz/fuzz_ddp_session.c - a DDP server session over the in-memory
 * store fed arbitrary bytes. input[0]: bit 0 = log in first (a real
 * handshake), bit 1 = never drain output (backpressure), bits 2..7 = piece
 * size. Must never crash, leak, hang or grow output past its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"
#include "ddproto/memstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AK "AKFUZZ"
#define SECRET "fuzzsecret"

/* Takes one response frame out of the session into *r; 0 on failure. */
static int take(ddp_session *s, ddp_reader *rd, uint8_t op, ddp_resp *r)
{
	ddp_frame f;
	const uint8_t *o;
	size_t n, used;

	while (ddp_reader_next(rd, &f) == DD_EAGAIN) {
		o = ddp_session_output(s, &n);
		if (n == 0 || ddp_reader_feed(rd, o, n, &used) != DD_OK)
			return 0;
		ddp_session_output_consume(s, used);
	}
	return ddp_resp_decode(op, f.payload, f.hdr.len, r) == DD_OK && r->status == DDP_S_OK;
}

static int send_req(ddp_session *s, const ddp_req *q)
{
	dd_buf b;
	size_t used;
	int ok;

	dd_buf_init(&b, 1 << 16);
	ok = ddp_req_encode(q, 1, &b) == DD_OK &&
	     ddp_session_feed(s, b.data, b.len, &used) == DD_OK && used == b.len;
	dd_buf_release(&b);
	return ok;
}

static void login(ddp_session *s)
{
	ddp_reader rd;
	ddp_req q;
	ddp_resp r;
	uint8_t k[32];

	ddp_reader_init(&rd, DDP_MAX_PAYLOAD);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_HELLO;
	q.u.hello.ver_min = q.u.hello.ver_max = 1;
	if (!send_req(s, &q) || !take(s, &rd, DDP_OP_HELLO, &r))
		abort();
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_AUTH;
	q.u.auth.access_key = DD_STR_LIT(AK);
	if (ddp_auth_key(SECRET, strlen(SECRET), k) != DD_OK ||
	    ddp_auth_proof(k, 0, r.u.hello.snonce, q.u.auth.cnonce, q.u.auth.access_key,
			   q.u.auth.proof) != DD_OK)
		abort();
	if (!send_req(s, &q) || !take(s, &rd, DDP_OP_AUTH, &r) ||
	    ddp_session_state(s) != DDP_ST_READY)
		abort();
	ddp_reader_release(&rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddp_memstore *m;
	ddp_session *s;
	ddp_session_cfg cfg;
	size_t off = 1, step, used, n;

	if (size < 1)
		return 0;
	m = ddp_memstore_new();
	if (!m || ddp_memstore_add_user(m, AK, SECRET) != DD_OK ||
	    ddp_memstore_add_unit(m, "fuzz", AK) != DD_OK ||
	    ddp_memstore_put_file(m, "fuzz", "a/b", "0123456789", 10) != DD_OK)
		abort();
	ddp_session_cfg_default(&cfg);
	cfg.out_high = 4096;
	s = ddp_session_new(&ddp_memstore_ops, m, &cfg);
	if (!s)
		abort();
	if (data[0] & 1)
		login(s);
	step = (size_t)(data[0] >> 2) * 16 + 1;
	while (off < size && ddp_session_state(s) != DDP_ST_CLOSING) {
		size_t k = size - off < step ? size - off : step;
		(void)!ddp_session_feed(s, data + off, k, &used);
		off += used;
		ddp_session_output(s, &n);
		if (n > cfg.out_high + DDP_HDR_LEN + DDP_MAX_PAYLOAD)
			abort();
		if (used == 0 && ddp_session_state(s) != DDP_ST_CLOSING) {
			if ((data[0] & 2) || n == 0)
				break; /* backpressure holds: the session takes nothing */
			ddp_session_output_consume(s, n);
		} else if (!(data[0] & 2)) {
			ddp_session_output_consume(s, n);
		}
	}
	ddp_session_free(s);
	ddp_memstore_free(m);
	return 0;
}
