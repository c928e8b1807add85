/* tests/unit/test_ddp_frame.c - DDP frame header codec and incremental reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"

static void test_hdr_roundtrip(void **state)
{
	ddp_hdr h = {DDP_VERSION, DDP_OP_DSP_QUERY, DDP_F_RESPONSE, 0xdeadbeef, 0x01020304};
	ddp_hdr g;
	uint8_t b[DDP_HDR_LEN];
	static const uint8_t want[DDP_HDR_LEN] = {1, 0x24, 0, 1, 0xde, 0xad, 0xbe, 0xef,
						   1, 2, 3, 4};

	(void)state;
	ddp_hdr_encode(&h, b);
	assert_memory_equal(b, want, sizeof(want)); /* big-endian layout of DDP.md 2 */
	assert_int_equal(ddp_hdr_decode(b, 0x01020304, &g), DD_OK);
	assert_int_equal(g.op, DDP_OP_DSP_QUERY);
	assert_int_equal(g.req_id, 0xdeadbeef);
	assert_int_equal(g.len, 0x01020304);
	assert_int_equal(g.flags, DDP_F_RESPONSE);
	assert_int_equal(ddp_hdr_decode(b, 0x01020303, &g), DD_ETOOBIG);
	b[0] = 2; /* unknown version */
	assert_int_equal(ddp_hdr_decode(b, UINT32_MAX, &g), DD_EPROTO);
	b[0] = 1;
	b[2] = 0x80; /* unknown flag bit */
	assert_int_equal(ddp_hdr_decode(b, UINT32_MAX, &g), DD_EPROTO);
}

/* Builds n frames with payload sizes 0, 1, 2*k... into out. */
static void build_frames(dd_buf *out, int n)
{
	uint8_t pl[300];

	for (int i = 0; i < n; i++) {
		size_t len = (size_t)(i * 37) % sizeof(pl);
		for (size_t k = 0; k < len; k++)
			pl[k] = (uint8_t)(i + k);
		assert_int_equal(ddp_frame_write(out, DDP_OP_PING, 0, (uint32_t)i, pl, len), DD_OK);
	}
}

static void check_frame(const ddp_frame *f, int i)
{
	size_t len = (size_t)(i * 37) % 300;

	assert_int_equal(f->hdr.req_id, i);
	assert_int_equal(f->hdr.len, len);
	for (size_t k = 0; k < len; k++)
		assert_int_equal(f->payload[k], (uint8_t)(i + k));
}

/* Feeds the stream in pieces of `step` bytes; every frame comes out whole. */
static void feed_in_steps(const dd_buf *stream, size_t step, int nframes)
{
	ddp_reader r;
	ddp_frame f;
	size_t off = 0, used;
	int got = 0;

	ddp_reader_init(&r, 4096);
	while (off < stream->len) {
		size_t n = DD_MIN(step, stream->len - off);
		assert_int_equal(ddp_reader_feed(&r, stream->data + off, n, &used), DD_OK);
		assert_true(used <= n);
		off += used;
		while (ddp_reader_next(&r, &f) == DD_OK)
			check_frame(&f, got++);
		/* the reader never holds more than one frame */
		assert_true(r.buf.len <= DDP_HDR_LEN + 300);
	}
	assert_int_equal(ddp_reader_next(&r, &f), DD_EAGAIN);
	assert_int_equal(got, nframes);
	ddp_reader_release(&r);
}

static void test_reader_pieces(void **state)
{
	dd_buf s;

	(void)state;
	dd_buf_init(&s, 1 << 20);
	build_frames(&s, 20);
	feed_in_steps(&s, 1, 20);
	feed_in_steps(&s, 7, 20);
	feed_in_steps(&s, 4096, 20);
	feed_in_steps(&s, s.len, 20);
	dd_buf_release(&s);
}

static void test_reader_oversized_rejected_before_buffering(void **state)
{
	ddp_reader r;
	ddp_frame f;
	ddp_hdr h = {DDP_VERSION, DDP_OP_WRITE, 0, 9, 70000};
	uint8_t b[DDP_HDR_LEN + 100];
	size_t used;

	(void)state;
	memset(b, 0xab, sizeof(b));
	ddp_hdr_encode(&h, b);
	ddp_reader_init(&r, 65536);
	assert_int_equal(ddp_reader_feed(&r, b, sizeof(b), &used), DD_ETOOBIG);
	assert_int_equal(used, DDP_HDR_LEN); /* no payload byte taken */
	assert_true(r.buf.len <= DDP_HDR_LEN);
	assert_int_equal(r.hdr.req_id, 9); /* the server can still answer it */
	/* sticky */
	assert_int_equal(ddp_reader_feed(&r, b, 1, &used), DD_ETOOBIG);
	assert_int_equal(used, 0);
	assert_int_equal(ddp_reader_next(&r, &f), DD_ETOOBIG);
	ddp_reader_release(&r);
}

static void test_reader_bad_header_and_truncation(void **state)
{
	ddp_reader r;
	ddp_frame f;
	dd_buf s;
	size_t used;

	(void)state;
	dd_buf_init(&s, 4096);
	assert_int_equal(ddp_frame_write(&s, DDP_OP_PING, 0, 1, "12345678", 8), DD_OK);
	/* a truncated frame never comes out */
	ddp_reader_init(&r, 4096);
	assert_int_equal(ddp_reader_feed(&r, s.data, s.len - 1, &used), DD_OK);
	assert_int_equal(used, s.len - 1);
	assert_int_equal(ddp_reader_next(&r, &f), DD_EAGAIN);
	ddp_reader_release(&r);
	/* version 7 */
	s.data[0] = 7;
	ddp_reader_init(&r, 4096);
	assert_int_equal(ddp_reader_feed(&r, s.data, s.len, &used), DD_EPROTO);
	ddp_reader_release(&r);
	dd_buf_release(&s);
}

static void test_reader_random_bytes(void **state)
{
	uint8_t junk[4096];
	uint64_t x = 88172645463325252ull;
	ddp_reader r;
	ddp_frame f;
	size_t used;

	(void)state;
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			junk[i] = (uint8_t)x;
		}
		if (round & 1)
			junk[0] = DDP_VERSION, junk[2] = 0, junk[3] = 0;
		ddp_reader_init(&r, 1024);
		size_t off = 0;
		int rc = DD_OK;
		while (off < sizeof(junk) && rc == DD_OK) {
			rc = ddp_reader_feed(&r, junk + off, sizeof(junk) - off, &used);
			off += used;
			while (rc == DD_OK && ddp_reader_next(&r, &f) == DD_OK)
				assert_true(f.hdr.len <= 1024);
		}
		assert_true(r.buf.len <= DDP_HDR_LEN + 1024);
		ddp_reader_release(&r);
	}
}

static void test_frame_write_limits(void **state)
{
	dd_buf b;
	uint8_t *big = calloc(1, DDP_MAX_PAYLOAD + 1);

	(void)state;
	assert_non_null(big);
	dd_buf_init(&b, 4 << 20);
	assert_int_equal(ddp_frame_write(&b, 1, 0, 1, big, DDP_MAX_PAYLOAD + 1), DD_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(ddp_frame_write(&b, 1, 0, 1, big, DDP_MAX_PAYLOAD), DD_OK);
	assert_int_equal(b.len, DDP_HDR_LEN + DDP_MAX_PAYLOAD);
	/* a dd_buf that is too small fails cleanly and keeps what it had */
	dd_buf_release(&b);
	dd_buf_init(&b, 20);
	assert_int_equal(ddp_frame_write(&b, 1, 0, 1, big, 9), DD_ETOOBIG);
	assert_int_equal(b.len, 0);
	dd_buf_release(&b);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_reader_pieces),
		cmocka_unit_test(test_reader_oversized_rejected_before_buffering),
		cmocka_unit_test(test_reader_bad_header_and_truncation),
		cmocka_unit_test(test_reader_random_bytes),
		cmocka_unit_test(test_frame_write_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
