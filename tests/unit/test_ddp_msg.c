/*
 * tests/unit/test_ddp_msg.c - DDP request/response encoders and decoders:
 * a sample of every message round-trips byte for byte; every truncation and
 * every trailing byte is rejected; bounds hold; status and name tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"

static ddp_dsp_ref refs[3];
static ddp_segment segs[2];
static ddp_extent exts[2];
static ddp_unit_info units[2];
static ddp_dirent ents[3];
static uint8_t bitmap[1] = {0x05};
static const uint8_t data9[9] = "abcdefghi";

/* Fills q with a sample request for sample i; returns 0 past the last. */
static int sample_req(int i, ddp_req *q)
{
	memset(q, 0, sizeof(*q));
	for (int k = 0; k < 3; k++) {
		memset(refs[k].fp, 0x10 + k, DDP_FP_LEN);
		refs[k].len = 8000 + (uint32_t)k;
	}
	memset(segs, 0, sizeof(segs));
	memset(segs[0].fp, 0xaa, DDP_FP_LEN);
	segs[0].raw_len = segs[0].data_len = 9;
	segs[0].data = data9;
	memset(segs[1].fp, 0xbb, DDP_FP_LEN);
	segs[1].flags = DDP_SEG_ZSTD;
	segs[1].raw_len = 100;
	segs[1].data_len = 9;
	segs[1].data = data9;
	exts[0] = (ddp_extent){DDP_EXT_FILE, DD_STR_LIT("full/mon"), 0, 4096, NULL};
	exts[1] = (ddp_extent){DDP_EXT_DATA, {"", 0}, 0, 9, data9};
	switch (i) {
	case 0:
		q->op = DDP_OP_HELLO;
		q->u.hello.ver_min = 1, q->u.hello.ver_max = 1;
		q->u.hello.features = DDP_FEAT_ZSTD;
		q->u.hello.agent = DD_STR_LIT("test/1");
		return 1;
	case 1:
		q->op = DDP_OP_AUTH;
		q->u.auth.access_key = DD_STR_LIT("AKIDEXAMPLE");
		memset(q->u.auth.cnonce, 3, DDP_NONCE_LEN);
		memset(q->u.auth.proof, 4, DDP_MAC_LEN);
		return 1;
	case 2:
		q->op = DDP_OP_PING;
		q->u.ping.cookie = 0x0102030405060708ull;
		return 1;
	case 3:
		q->op = DDP_OP_BYE;
		return 1;
	case 4:
		q->op = DDP_OP_UNIT_LIST;
		q->u.unit_list.start_after = DD_STR_LIT("abc");
		q->u.unit_list.limit = 100;
		return 1;
	case 5:
		q->op = DDP_OP_UNIT_STAT;
		q->u.unit_stat.unit = DD_STR_LIT("backups");
		return 1;
	case 6:
		q->op = DDP_OP_OPEN;
		q->u.open.unit = DD_STR_LIT("backups");
		q->u.open.path = DD_STR_LIT("pvc-1/disk.img");
		q->u.open.flags = DDP_OPEN_CREATE | DDP_OPEN_RESUME;
		memset(q->u.open.token, 7, DDP_TOKEN_LEN);
		return 1;
	case 7:
		q->op = DDP_OP_CLOSE;
		q->u.close.handle = 5;
		q->u.close.flags = DDP_CLOSE_COMMIT;
		return 1;
	case 8:
		q->op = DDP_OP_WRITE;
		q->u.write.handle = 5;
		q->u.write.offset = 1ull << 33;
		q->u.write.len = 9;
		q->u.write.data = data9;
		return 1;
	case 9:
		q->op = DDP_OP_READ;
		q->u.read.handle = 6;
		q->u.read.offset = 77;
		q->u.read.len = DDP_MAX_IO;
		return 1;
	case 10:
		q->op = DDP_OP_DSP_QUERY;
		q->u.dsp_query.handle = 5;
		q->u.dsp_query.offset = 24000;
		q->u.dsp_query.count = 3;
		q->u.dsp_query.refs = refs;
		return 1;
	case 11:
		q->op = DDP_OP_DSP_PUT;
		q->u.dsp_put.handle = 5;
		q->u.dsp_put.count = 2;
		q->u.dsp_put.segs = segs;
		return 1;
	case 12:
		q->op = DDP_OP_SYNTHESIZE;
		q->u.synth.unit = DD_STR_LIT("backups");
		q->u.synth.path = DD_STR_LIT("full/wed");
		q->u.synth.flags = DDP_NOREPLACE;
		q->u.synth.count = 2;
		q->u.synth.exts = exts;
		return 1;
	case 13:
	case 14:
		q->op = i == 13 ? DDP_OP_STAT : DDP_OP_UNLINK;
		q->u.stat.unit = DD_STR_LIT("backups");
		q->u.stat.path = DD_STR_LIT("a/b");
		return 1;
	case 15:
		q->op = DDP_OP_READDIR;
		q->u.readdir.unit = DD_STR_LIT("backups");
		q->u.readdir.prefix = DD_STR_LIT("a/");
		q->u.readdir.start_after = DD_STR_LIT("b");
		q->u.readdir.limit = 1000;
		return 1;
	case 16:
	case 17:
		q->op = i == 16 ? DDP_OP_RENAME : DDP_OP_FASTCOPY;
		q->u.rename.unit = DD_STR_LIT("backups");
		q->u.rename.from = DD_STR_LIT("a/b");
		q->u.rename.to = DD_STR_LIT("a/c");
		q->u.rename.flags = DDP_NOREPLACE;
		return 1;
	default:
		return 0;
	}
}

/* Encodes q, returns the payload in *pl (points into b). */
static void encode_req(const ddp_req *q, dd_buf *b, const uint8_t **pl, size_t *n)
{
	ddp_hdr h;

	dd_buf_reset(b);
	assert_int_equal(ddp_req_encode(q, 42, b), DD_OK);
	assert_int_equal(ddp_hdr_decode((const uint8_t *)b->data, DDP_MAX_PAYLOAD, &h), DD_OK);
	assert_int_equal(h.op, q->op);
	assert_int_equal(h.req_id, 42);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.len, b->len - DDP_HDR_LEN);
	*pl = (const uint8_t *)b->data + DDP_HDR_LEN;
	*n = h.len;
}

static void test_requests_roundtrip(void **state)
{
	dd_buf b, b2;
	ddp_req q, d;
	const uint8_t *pl;
	size_t n;

	(void)state;
	dd_buf_init(&b, 1 << 21);
	dd_buf_init(&b2, 1 << 21);
	for (int i = 0; sample_req(i, &q); i++) {
		encode_req(&q, &b, &pl, &n);
		assert_int_equal(ddp_req_decode(q.op, pl, n, &d), DD_OK);
		/* re-encoding the decoded struct gives the same bytes */
		dd_buf_reset(&b2);
		assert_int_equal(ddp_req_encode(&d, 42, &b2), DD_OK);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.data, b.data, b.len);
		ddp_req_release(&d);
		/* every truncation is malformed, and so is a trailing byte */
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(ddp_req_decode(q.op, pl, k, &d), DD_EPROTO);
			ddp_req_release(&d);
		}
		assert_int_equal(dd_buf_append(&b, "x", 1), DD_OK);
		pl = (const uint8_t *)b.data + DDP_HDR_LEN;
		assert_int_equal(ddp_req_decode(q.op, pl, n + 1, &d), DD_EPROTO);
		ddp_req_release(&d);
	}
	dd_buf_release(&b);
	dd_buf_release(&b2);
}

static void test_request_fields(void **state)
{
	dd_buf b;
	ddp_req q, d;
	const uint8_t *pl;
	size_t n;

	(void)state;
	dd_buf_init(&b, 1 << 20);
	sample_req(10, &q);
	encode_req(&q, &b, &pl, &n);
	assert_int_equal(n, 14 + 36 * 3); /* DDP.md 6.6 layout */
	assert_int_equal(ddp_req_decode(q.op, pl, n, &d), DD_OK);
	assert_int_equal(d.u.dsp_query.offset, 24000);
	assert_int_equal(d.u.dsp_query.refs[2].len, 8002);
	assert_int_equal(d.u.dsp_query.refs[1].fp[31], 0x11);
	ddp_req_release(&d);

	sample_req(0, &q); /* HELLO: 14 + agent, magic first */
	encode_req(&q, &b, &pl, &n);
	assert_int_equal(n, 14 + 6);
	assert_memory_equal(pl, "DDP1", 4);
	((uint8_t *)pl)[3] = '2';
	assert_int_equal(ddp_req_decode(q.op, pl, n, &d), DD_EPROTO);
	ddp_req_release(&d);

	sample_req(11, &q);
	encode_req(&q, &b, &pl, &n);
	assert_int_equal(ddp_req_decode(q.op, pl, n, &d), DD_OK);
	assert_int_equal(d.u.dsp_put.segs[1].flags, DDP_SEG_ZSTD);
	assert_int_equal(d.u.dsp_put.segs[1].raw_len, 100);
	assert_memory_equal(d.u.dsp_put.segs[1].data, "abcdefghi", 9);
	ddp_req_release(&d);

	sample_req(12, &q); /* SYNTHESIZE: both extent kinds survive */
	encode_req(&q, &b, &pl, &n);
	assert_int_equal(ddp_req_decode(q.op, pl, n, &d), DD_OK);
	assert_int_equal(d.u.synth.exts[0].kind, DDP_EXT_FILE);
	assert_true(dd_str_eq_c(d.u.synth.exts[0].src, "full/mon"));
	assert_int_equal(d.u.synth.exts[0].length, 4096);
	assert_int_equal(d.u.synth.exts[1].kind, DDP_EXT_DATA);
	assert_int_equal(d.u.synth.exts[1].length, 9);
	assert_memory_equal(d.u.synth.exts[1].data, "abcdefghi", 9);
	ddp_req_release(&d);
	exts[1].kind = 2; /* unknown kind */
	dd_buf_reset(&b);
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	dd_buf_release(&b);
}

static void test_request_bounds(void **state)
{
	dd_buf b;
	ddp_req q, d;
	char big[DDP_MAX_KEY + 2];
	ddp_dsp_ref *many;

	(void)state;
	dd_buf_init(&b, 1 << 21);
	memset(big, 'k', sizeof(big));
	/* encoders refuse what decoders would reject, leaving out unchanged */
	sample_req(13, &q);
	q.u.stat.path = (dd_str){big, DDP_MAX_KEY + 1};
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	assert_int_equal(b.len, 0);
	q.u.stat.path = (dd_str){big, DDP_MAX_KEY};
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_OK);
	dd_buf_reset(&b);
	sample_req(5, &q);
	q.u.unit_stat.unit = (dd_str){big, DDP_MAX_UNIT + 1};
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	/* segment flag rules */
	sample_req(11, &q);
	segs[0].flags = 0x02;
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	sample_req(11, &q);
	segs[1].data_len = 9, segs[1].raw_len = 9; /* zstd must shrink */
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	sample_req(11, &q);
	segs[0].raw_len = 10; /* raw segment: data_len == raw_len */
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	sample_req(11, &q);
	segs[1].raw_len = DDP_MAX_SEGMENT + 1;
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	/* batch limit */
	many = calloc(DDP_DSP_MAX_BATCH + 1, sizeof(*many));
	assert_non_null(many);
	sample_req(10, &q);
	q.u.dsp_query.refs = many;
	q.u.dsp_query.count = DDP_DSP_MAX_BATCH;
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_OK);
	dd_buf_reset(&b);
	q.u.dsp_query.count = DDP_DSP_MAX_BATCH + 1;
	assert_int_equal(ddp_req_encode(&q, 1, &b), DD_EINVAL);
	free(many);
	/* a count that promises more entries than the payload holds */
	{
		uint8_t p[14 + 36] = {0};
		p[12] = 0, p[13] = 2;
		assert_int_equal(ddp_req_decode(DDP_OP_DSP_QUERY, p, sizeof(p), &d), DD_EPROTO);
		ddp_req_release(&d);
		p[13] = 1;
		assert_int_equal(ddp_req_decode(DDP_OP_DSP_QUERY, p, sizeof(p), &d), DD_OK);
		ddp_req_release(&d);
	}
	/* unknown opcode */
	assert_int_equal(ddp_req_decode(0x7f, NULL, 0, &d), DD_ENOTSUP);
	ddp_req_release(&d);
	dd_buf_release(&b);
}

/* Fills r with a sample OK response; returns 0 past the last. */
static int sample_resp(int i, ddp_resp *r)
{
	static const uint8_t ops[] = {
		DDP_OP_HELLO, DDP_OP_AUTH, DDP_OP_PING, DDP_OP_BYE, DDP_OP_UNIT_LIST,
		DDP_OP_UNIT_STAT, DDP_OP_OPEN, DDP_OP_CLOSE, DDP_OP_WRITE, DDP_OP_READ,
		DDP_OP_DSP_QUERY, DDP_OP_DSP_PUT, DDP_OP_SYNTHESIZE, DDP_OP_STAT,
		DDP_OP_READDIR, DDP_OP_RENAME, DDP_OP_UNLINK, DDP_OP_FASTCOPY,
	};

	if (i >= (int)sizeof(ops))
		return 0;
	memset(r, 0, sizeof(*r));
	r->op = ops[i];
	units[0] = (ddp_unit_info){DD_STR_LIT("alpha"), 10, 5};
	units[1] = (ddp_unit_info){DD_STR_LIT("beta"), 20, 7};
	ents[0] = (ddp_dirent){DDP_TYPE_DIR, DD_STR_LIT("d/"), 0, 0};
	ents[1] = (ddp_dirent){DDP_TYPE_FILE, DD_STR_LIT("f1"), 123, 456};
	ents[2] = (ddp_dirent){DDP_TYPE_FILE, DD_STR_LIT("f2"), 0, 1};
	switch (r->op) {
	case DDP_OP_HELLO:
		r->u.hello.version = 1;
		r->u.hello.features = DDP_FEAT_ZSTD;
		memset(r->u.hello.snonce, 9, DDP_NONCE_LEN);
		r->u.hello.max_payload = DDP_MAX_PAYLOAD;
		r->u.hello.max_io = DDP_MAX_IO;
		r->u.hello.window_reqs = 32;
		r->u.hello.window_bytes = 8 << 20;
		r->u.hello.dsp_max_batch = 1024;
		r->u.hello.max_segment = DDP_MAX_SEGMENT;
		r->u.hello.resume_ttl_s = 600;
		break;
	case DDP_OP_AUTH: memset(r->u.auth.proof, 1, DDP_MAC_LEN); break;
	case DDP_OP_PING: r->u.ping.cookie = 99; break;
	case DDP_OP_UNIT_LIST:
		r->u.unit_list.count = 2, r->u.unit_list.more = 1;
		r->u.unit_list.units = units;
		break;
	case DDP_OP_UNIT_STAT:
		r->u.unit_stat = (ddp_unit_stat){1, 2, 3, 4, 5, 6, 7};
		break;
	case DDP_OP_OPEN:
		r->u.open.handle = 3, r->u.open.size = 1000;
		memset(r->u.open.token, 0x5a, DDP_TOKEN_LEN);
		break;
	case DDP_OP_CLOSE:
		r->u.close.size = 24000, r->u.close.digest_len = 32;
		memset(r->u.close.digest, 0xcd, 32);
		break;
	case DDP_OP_WRITE:
	case DDP_OP_SYNTHESIZE:
	case DDP_OP_FASTCOPY: r->u.length.length = 4242; break;
	case DDP_OP_READ: r->u.read.len = 9, r->u.read.data = data9; break;
	case DDP_OP_DSP_QUERY:
		r->u.dsp_query.length = 24000, r->u.dsp_query.count = 3;
		r->u.dsp_query.missing = bitmap;
		break;
	case DDP_OP_DSP_PUT: r->u.dsp_put.count = 2; break;
	case DDP_OP_STAT: r->u.stat.type = 1, r->u.stat.size = 5, r->u.stat.mtime_ns = 6; break;
	case DDP_OP_READDIR:
		r->u.readdir.count = 3, r->u.readdir.ents = ents;
		break;
	default: break;
	}
	return 1;
}

static void test_responses_roundtrip(void **state)
{
	dd_buf b, b2;
	ddp_resp r, d;
	ddp_hdr h;
	const uint8_t *pl;

	(void)state;
	dd_buf_init(&b, 1 << 21);
	dd_buf_init(&b2, 1 << 21);
	for (int i = 0; sample_resp(i, &r); i++) {
		dd_buf_reset(&b);
		assert_int_equal(ddp_resp_encode(&r, 7, &b), DD_OK);
		assert_int_equal(ddp_hdr_decode((const uint8_t *)b.data, DDP_MAX_PAYLOAD, &h), DD_OK);
		assert_int_equal(h.flags, DDP_F_RESPONSE);
		pl = (const uint8_t *)b.data + DDP_HDR_LEN;
		assert_int_equal(ddp_resp_decode(r.op, pl, h.len, &d), DD_OK);
		assert_int_equal(d.status, DDP_S_OK);
		dd_buf_reset(&b2);
		assert_int_equal(ddp_resp_encode(&d, 7, &b2), DD_OK);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.data, b.data, b.len);
		ddp_resp_release(&d);
		for (size_t k = 0; k < h.len; k++) {
			assert_int_equal(ddp_resp_decode(r.op, pl, k, &d), DD_EPROTO);
			ddp_resp_release(&d);
		}
		assert_int_equal(dd_buf_append(&b, "", 1), DD_OK);
		pl = (const uint8_t *)b.data + DDP_HDR_LEN;
		assert_int_equal(ddp_resp_decode(r.op, pl, h.len + 1, &d), DD_EPROTO);
		ddp_resp_release(&d);
	}
	/* HELLO response is 64 bytes as DDP.md 6.1 says */
	sample_resp(0, &r);
	dd_buf_reset(&b);
	assert_int_equal(ddp_resp_encode(&r, 1, &b), DD_OK);
	assert_int_equal(b.len, DDP_HDR_LEN + 64);
	dd_buf_release(&b);
	dd_buf_release(&b2);
}

/* The HELLO chunking extension (DDP.md 6.1): present exactly when the
 * response's CHUNKING bit is set, never empty, nothing after it. */
static void test_hello_chunking_extension(void **state)
{
	dd_buf b;
	ddp_resp r, d;
	ddp_hdr h;
	const uint8_t *pl;

	(void)state;
	dd_buf_init(&b, 1 << 16);
	sample_resp(0, &r);
	r.u.hello.features |= DDP_FEAT_CHUNKING;
	r.u.hello.chunker = DD_STR_LIT(DDP_CHUNKER_NAME);
	r.u.hello.chunk_min = 4096, r.u.hello.chunk_avg = 16384;
	r.u.hello.chunk_max = 131072;
	assert_int_equal(ddp_resp_encode(&r, 1, &b), DD_OK);
	assert_int_equal(b.len, DDP_HDR_LEN + 64 + 2 + strlen(DDP_CHUNKER_NAME) + 12);
	assert_int_equal(ddp_hdr_decode((const uint8_t *)b.data, DDP_MAX_PAYLOAD, &h), DD_OK);
	pl = (const uint8_t *)b.data + DDP_HDR_LEN;
	/* the extension follows resume_ttl_s at offset 64 of the payload */
	assert_int_equal(pl[64], 0);
	assert_int_equal(pl[65], strlen(DDP_CHUNKER_NAME));
	assert_memory_equal(pl + 66, DDP_CHUNKER_NAME, strlen(DDP_CHUNKER_NAME));
	assert_int_equal(ddp_resp_decode(DDP_OP_HELLO, pl, h.len, &d), DD_OK);
	assert_int_equal(d.u.hello.chunker.len, strlen(DDP_CHUNKER_NAME));
	assert_memory_equal(d.u.hello.chunker.p, DDP_CHUNKER_NAME, d.u.hello.chunker.len);
	assert_int_equal(d.u.hello.chunk_min, 4096);
	assert_int_equal(d.u.hello.chunk_avg, 16384);
	assert_int_equal(d.u.hello.chunk_max, 131072);
	ddp_resp_release(&d);
	/* the bit without the extension (a 64-byte body) is malformed */
	assert_int_equal(ddp_resp_decode(DDP_OP_HELLO, pl, 62, &d), DD_EPROTO);
	ddp_resp_release(&d);
	/* an empty chunker name is malformed; the encoder refuses it too */
	r.u.hello.chunker = DD_STR_LIT("");
	dd_buf_reset(&b);
	assert_int_not_equal(ddp_resp_encode(&r, 1, &b), DD_OK);
	/* an over-long name */
	r.u.hello.chunker = DD_STR_LIT("0123456789abcdef0123456789abcdef0");
	dd_buf_reset(&b);
	assert_int_not_equal(ddp_resp_encode(&r, 1, &b), DD_OK);
	/* without the bit the extension fields are not sent (old layout) */
	r.u.hello.features &= ~DDP_FEAT_CHUNKING;
	dd_buf_reset(&b);
	assert_int_equal(ddp_resp_encode(&r, 1, &b), DD_OK);
	assert_int_equal(b.len, DDP_HDR_LEN + 64);
	dd_buf_release(&b);
}

static void test_error_response_and_bitmap_padding(void **state)
{
	dd_buf b;
	ddp_resp r, d;
	const uint8_t *pl;
	uint8_t bad[1] = {0x0d}; /* bit 3 set with count 3 */

	(void)state;
	dd_buf_init(&b, 1 << 16);
	assert_int_equal(ddp_err_encode(DDP_OP_OPEN, 3, DDP_S_ENOENT, "no such file", &b), DD_OK);
	pl = (const uint8_t *)b.data + DDP_HDR_LEN;
	assert_int_equal(b.len, DDP_HDR_LEN + 4 + 12);
	assert_int_equal(ddp_resp_decode(DDP_OP_OPEN, pl, b.len - DDP_HDR_LEN, &d), DD_OK);
	assert_int_equal(d.status, DDP_S_ENOENT);
	assert_int_equal(d.message.len, 12);
	assert_memory_equal(d.message.p, "no such file", 12);
	ddp_resp_release(&d);
	assert_int_equal(ddp_err_encode(DDP_OP_OPEN, 3, DDP_S_OK, "x", &b), DD_EINVAL);
	/* long messages are cut at 256 bytes */
	{
		char longmsg[400];
		memset(longmsg, 'm', sizeof(longmsg) - 1);
		longmsg[sizeof(longmsg) - 1] = '\0';
		dd_buf_reset(&b);
		assert_int_equal(ddp_err_encode(1, 1, DDP_S_EIO, longmsg, &b), DD_OK);
		assert_int_equal(b.len, DDP_HDR_LEN + 4 + DDP_MAX_MESSAGE);
	}
	sample_resp(10, &r);
	r.u.dsp_query.missing = bad;
	dd_buf_reset(&b);
	assert_int_equal(ddp_resp_encode(&r, 1, &b), DD_EINVAL);
	assert_int_equal(b.len, 0);
	dd_buf_release(&b);
}

static void test_status_table(void **state)
{
	(void)state;
	for (int rc = 0; rc < DD_RC_COUNT; rc++) {
		uint16_t st = ddp_status_from_rc(rc);
		assert_true(st < DDP_S_COUNT);
		assert_string_not_equal(ddp_status_name(st), "EUNKNOWN");
	}
	for (uint16_t st = 0; st < DDP_S_COUNT; st++) {
		assert_string_not_equal(ddp_status_name(st), "EUNKNOWN");
		assert_string_not_equal(ddp_status_text(st), "unknown status");
	}
	assert_int_equal(ddp_status_from_rc(DD_ENOENT), 5);
	assert_int_equal(ddp_status_from_rc(DD_ENOMEM), DDP_S_EAGAIN);
	assert_int_equal(ddp_status_from_rc(DD_ECONFIG), DDP_S_EINTERNAL);
	assert_int_equal(ddp_rc_from_status(DDP_S_EQUOTA), DD_EQUOTA);
	assert_int_equal(ddp_rc_from_status(999), DD_EPROTO);
	assert_string_equal(ddp_status_name(DDP_S_EMISSING), "EMISSING");
	assert_string_equal(ddp_op_name(DDP_OP_DSP_QUERY), "DSP_QUERY");
}

static void test_names(void **state)
{
	(void)state;
	assert_true(ddp_valid_unit(DD_STR_LIT("backups")));
	assert_true(ddp_valid_unit(DD_STR_LIT("a.b-c9")));
	assert_false(ddp_valid_unit(DD_STR_LIT("ab")));
	assert_false(ddp_valid_unit(DD_STR_LIT("Backups")));
	assert_false(ddp_valid_unit(DD_STR_LIT("-abc")));
	assert_false(ddp_valid_unit(DD_STR_LIT("abc-")));
	assert_false(ddp_valid_unit(DD_STR_LIT("a..b")));
	assert_false(ddp_valid_unit(DD_STR_LIT("a.-b")));
	assert_false(ddp_valid_unit(DD_STR_LIT("192.168.1.1")));
	assert_false(ddp_valid_unit(DD_STR_LIT("a_b")));
	assert_true(ddp_valid_path(DD_STR_LIT("a/b/c")));
	assert_true(ddp_valid_path(DD_STR_LIT("caf\xc3\xa9")));
	assert_false(ddp_valid_path(DD_STR_LIT("")));
	assert_false(ddp_valid_path((dd_str){"a\0b", 3}));
	assert_false(ddp_valid_path(DD_STR_LIT("\xc0\xaf")));         /* overlong '/' */
	assert_false(ddp_valid_path(DD_STR_LIT("\xed\xa0\x80")));     /* surrogate */
	assert_false(ddp_valid_path(DD_STR_LIT("\xf4\x90\x80\x80"))); /* > U+10FFFF */
	assert_false(ddp_valid_path(DD_STR_LIT("abc\xe2\x82")));      /* truncated */
	assert_true(ddp_valid_prefix(DD_STR_LIT("")));
	assert_true(ddp_valid_prefix(DD_STR_LIT("a/")));
	assert_false(ddp_valid_prefix(DD_STR_LIT("a")));
}

static void test_random_payloads(void **state)
{
	uint8_t buf[600];
	uint64_t x = 0x1234567ull;
	ddp_req q;
	ddp_resp r;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % (int)sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		uint8_t op = (uint8_t)(x >> 32) % 0x40;
		if (ddp_req_decode(op, buf, n, &q) == DD_OK && op == DDP_OP_WRITE)
			assert_true(q.u.write.data + q.u.write.len <= buf + n);
		ddp_req_release(&q);
		if (ddp_resp_decode(op, buf, n, &r) == DD_OK && op == DDP_OP_READ)
			assert_true(r.u.read.data + r.u.read.len <= buf + n);
		ddp_resp_release(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_roundtrip),
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_request_bounds),
		cmocka_unit_test(test_responses_roundtrip),
		cmocka_unit_test(test_hello_chunking_extension),
		cmocka_unit_test(test_error_response_and_bitmap_padding),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_random_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
