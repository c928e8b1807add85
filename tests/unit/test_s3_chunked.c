/*
 * tests/unit/test_s3_chunked.c - aws-chunked decoder and body verification.
 *
 * The signed body is AWS's documented chunked-upload example (66560 bytes
 * of 'a' as 65536 + 1024 + 0 with the documented chunk signatures, seed
 * 4f232c43...). CRC32 values were computed once with Python's zlib.crc32
 * and MD5 with hashlib, and pasted here. The signed-trailer body is built
 * with s3_sigv4_chunk_sign / s3_sigv4_trailer_sign, which
 * test_s3_sigv4.c checks against the AWS / aws-c-auth vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3api/s3.h"

#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define SIG1 "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2 "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3 "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"

struct sinkbuf {
	dd_buf b;
	int fail_after; /* -1: never */
};

static int sink(void *ctx, const void *p, size_t n)
{
	struct sinkbuf *s = ctx;

	if (s->fail_after >= 0 && s->b.len + n > (size_t)s->fail_after)
		return DD_EIO;
	return dd_buf_append(&s->b, p, n);
}

/* The AWS example signing context (derived from the secret). */
static void example_ctx(s3_sig_ctx *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(s3_sigv4_signing_key(
		DD_STR_LIT("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
		DD_STR_LIT("20130524"), DD_STR_LIT("us-east-1"), DD_STR_LIT("s3"),
		c->key), DD_OK);
	snprintf(c->amz_date, sizeof(c->amz_date), "20130524T000000Z");
	snprintf(c->scope, sizeof(c->scope), "20130524/us-east-1/s3/aws4_request");
	snprintf(c->seed, sizeof(c->seed), "%s", SEED);
}

/* Builds the AWS example body; corrupt flips a byte of the second chunk. */
static void example_body(dd_buf *b, int corrupt)
{
	static char a[65536];

	memset(a, 'a', sizeof(a));
	dd_buf_init(b, 1 << 20);
	assert_int_equal(dd_buf_appendf(b, "10000;chunk-signature=%s\r\n", SIG1), DD_OK);
	assert_int_equal(dd_buf_append(b, a, 65536), DD_OK);
	assert_int_equal(dd_buf_appendf(b, "\r\n400;chunk-signature=%s\r\n", SIG2), DD_OK);
	assert_int_equal(dd_buf_append(b, a, 1024), DD_OK);
	if (corrupt)
		b->data[b->len - 10] = 'b';
	assert_int_equal(dd_buf_appendf(b, "\r\n0;chunk-signature=%s\r\n\r\n", SIG3), DD_OK);
	assert_int_equal(b->len, 66824); /* the documented Content-Length */
}

static int run_decoder(const s3_sig_ctx *sig, int signed_trailer,
		       const dd_buf *in, size_t piece, struct sinkbuf *out)
{
	s3_chunked *c = s3_chunked_new(sig, signed_trailer);
	int rc = S3_OK;

	assert_non_null(c);
	for (size_t off = 0; off < in->len && rc == S3_OK; off += piece) {
		size_t n = DD_MIN(piece, in->len - off);
		rc = s3_chunked_feed(c, in->data + off, n, sink, out);
	}
	if (rc == S3_OK)
		rc = s3_chunked_finish(c);
	s3_chunked_free(c);
	return rc;
}

static void test_aws_example_signed(void **state)
{
	static const size_t pieces[] = {1, 3, 7, 1000, 65536, 1 << 20};
	s3_sig_ctx sig;
	dd_buf body;

	(void)state;
	example_ctx(&sig);
	example_body(&body, 0);
	for (size_t i = 0; i < DD_ARRAY_LEN(pieces); i++) {
		struct sinkbuf out = {.fail_after = -1};
		dd_buf_init(&out.b, 1 << 20);
		assert_int_equal(run_decoder(&sig, 0, &body, pieces[i], &out), S3_OK);
		assert_int_equal(out.b.len, 66560);
		for (size_t k = 0; k < out.b.len; k++)
			if (out.b.data[k] != 'a')
				fail();
		dd_buf_release(&out.b);
	}
	dd_buf_release(&body);

	/* One changed byte in chunk 2: its signature no longer matches. */
	example_body(&body, 1);
	struct sinkbuf out = {.fail_after = -1};
	dd_buf_init(&out.b, 1 << 20);
	assert_int_equal(run_decoder(&sig, 0, &body, 4096, &out),
			 S3E_SIGNATURE_DOES_NOT_MATCH);
	dd_buf_release(&out.b);
	dd_buf_release(&body);

	/* Chunks out of order: the chain breaks. */
	dd_buf_init(&body, 1 << 20);
	assert_int_equal(dd_buf_appendf(&body, "400;chunk-signature=%s\r\n", SIG2), DD_OK);
	for (int k = 0; k < 1024; k++)
		assert_int_equal(dd_buf_append(&body, "a", 1), DD_OK);
	assert_int_equal(dd_buf_append_str(&body, "\r\n"), DD_OK);
	dd_buf_init(&out.b, 1 << 20);
	assert_int_equal(run_decoder(&sig, 0, &body, 100, &out),
			 S3E_SIGNATURE_DOES_NOT_MATCH);
	dd_buf_release(&out.b);
	dd_buf_release(&body);

	/* A signed stream must carry signatures. */
	dd_buf_init(&body, 1024);
	assert_int_equal(dd_buf_append_str(&body, "1\r\na\r\n0\r\n\r\n"), DD_OK);
	dd_buf_init(&out.b, 1024);
	assert_int_equal(run_decoder(&sig, 0, &body, 1, &out),
			 S3E_SIGNATURE_DOES_NOT_MATCH);
	dd_buf_release(&out.b);
	dd_buf_release(&body);
}

static void test_unsigned_trailer(void **state)
{
	const char *in = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
	dd_buf body;
	struct sinkbuf out = {.fail_after = -1};
	s3_chunked *c;
	dd_str n, v;

	(void)state;
	dd_buf_init(&body, 1024);
	assert_int_equal(dd_buf_append_str(&body, in), DD_OK);
	for (size_t piece = 1; piece < 8; piece++) {
		dd_buf_init(&out.b, 1024);
		assert_int_equal(run_decoder(NULL, 0, &body, piece, &out), S3_OK);
		assert_int_equal(out.b.len, 5);
		assert_memory_equal(out.b.data, "hello", 5);
		dd_buf_release(&out.b);
	}
	c = s3_chunked_new(NULL, 0);
	assert_non_null(c);
	assert_int_equal(s3_chunked_feed(c, body.data, body.len, NULL, NULL), S3_OK);
	assert_int_equal(s3_chunked_finish(c), S3_OK);
	assert_int_equal(s3_chunked_decoded(c), 5);
	assert_true(s3_chunked_trailer(c, 0, &n, &v));
	assert_true(dd_str_eq_c(n, "x-amz-checksum-crc32"));
	assert_true(dd_str_eq_c(v, "NhCmhg=="));
	assert_false(s3_chunked_trailer(c, 1, &n, &v));
	/* Anything after the end is an error, and errors are sticky. */
	assert_int_equal(s3_chunked_feed(c, "x", 1, NULL, NULL), S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_chunked_feed(c, "", 0, NULL, NULL), S3E_INVALID_ARGUMENT);
	s3_chunked_free(c);
	dd_buf_release(&body);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *in;
		int err;
	} cases[] = {
		{"zz\r\nhello\r\n", S3E_INVALID_ARGUMENT},
		{"5\nhello\r\n", S3E_INVALID_ARGUMENT},           /* bare LF */
		{"5\r\nhelloXY0\r\n\r\n", S3E_INVALID_ARGUMENT},   /* no CRLF after data */
		{"5;x\r\nhello\r\n0\r\nbad-trailer\r\n\r\n", S3E_MALFORMED_TRAILER},
		{"0\r\n\t\t:NhCmhg==\r\n\r\n", S3E_MALFORMED_TRAILER}, /* blank name (fuzz) */
		{"0\r\nx y:1\r\n\r\n", S3E_MALFORMED_TRAILER},
		{"11111111111111111\r\n", S3E_INVALID_ARGUMENT},   /* 17 hex digits */
		{"5\r\nhel", S3E_INCOMPLETE_BODY},                 /* truncated */
		{"5\r\nhello\r\n", S3E_INCOMPLETE_BODY},           /* no last chunk */
		{"", S3E_INCOMPLETE_BODY},
	};
	char longline[S3_CHUNK_LINE_MAX + 10];

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(cases); i++) {
		dd_buf body;
		struct sinkbuf out = {.fail_after = -1};
		dd_buf_init(&body, 1024);
		dd_buf_init(&out.b, 1024);
		assert_int_equal(dd_buf_append_str(&body, cases[i].in), DD_OK);
		int rc = run_decoder(NULL, 0, &body, 1, &out);
		if (rc != cases[i].err)
			fail_msg("case %zu: got %d want %d", i, rc, cases[i].err);
		dd_buf_release(&body);
		dd_buf_release(&out.b);
	}
	/* Header lines are bounded. */
	memset(longline, '0', sizeof(longline));
	s3_chunked *c = s3_chunked_new(NULL, 0);
	assert_non_null(c);
	assert_int_equal(s3_chunked_feed(c, longline, sizeof(longline), NULL, NULL),
			 S3E_INVALID_ARGUMENT);
	s3_chunked_free(c);
	/* A failing sink aborts the decode. */
	struct sinkbuf out = {.fail_after = 2};
	dd_buf body;
	dd_buf_init(&out.b, 1024);
	dd_buf_init(&body, 1024);
	assert_int_equal(dd_buf_append_str(&body, "5\r\nhello\r\n0\r\n\r\n"), DD_OK);
	assert_int_equal(run_decoder(NULL, 0, &body, 16, &out), S3E_INTERNAL_ERROR);
	dd_buf_release(&out.b);
	dd_buf_release(&body);
}

/* Builds "5;chunk-signature=..hello..0;chunk-signature=..trailers..sig". */
static void signed_trailer_body(const s3_sig_ctx *c, dd_buf *b, const char *crc_b64)
{
	char s1[65], s2[65], st[65], canon[128];
	uint8_t d[32];
	s3_cksum k;

	assert_int_equal(s3_cksum_init(&k, S3_CK_SHA256), DD_OK);
	s3_cksum_update(&k, "hello", 5);
	s3_cksum_final(&k, d);
	s3_cksum_release(&k);
	assert_int_equal(s3_sigv4_chunk_sign(c, c->seed, d, s1), DD_OK);
	assert_int_equal(s3_cksum_init(&k, S3_CK_SHA256), DD_OK);
	s3_cksum_final(&k, d);
	s3_cksum_release(&k);
	assert_int_equal(s3_sigv4_chunk_sign(c, s1, d, s2), DD_OK);
	snprintf(canon, sizeof(canon), "x-amz-checksum-crc32:%s\n", crc_b64);
	assert_int_equal(s3_sigv4_trailer_sign(c, s2, dd_str_c(canon), st), DD_OK);
	dd_buf_init(b, 4096);
	assert_int_equal(dd_buf_appendf(b,
		"5;chunk-signature=%s\r\nhello\r\n0;chunk-signature=%s\r\n"
		"x-amz-checksum-crc32:%s\r\nx-amz-trailer-signature:%s\r\n\r\n",
		s1, s2, crc_b64, st), DD_OK);
}

#define H(n, v) {DD_STR_LIT(n), DD_STR_LIT(v)}

static int run_body(const s3_header *h, size_t nh, const s3_auth *auth,
		    const char *wire, size_t len, size_t piece, struct sinkbuf *out)
{
	s3_request req = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), h, nh};
	s3_body *b;
	int rc;

	rc = s3_body_new(&req, auth, &b);
	if (rc != S3_OK)
		return rc;
	for (size_t off = 0; off < len && rc == S3_OK; off += piece)
		rc = s3_body_feed(b, wire + off, DD_MIN(piece, len - off), sink, out);
	if (rc == S3_OK)
		rc = s3_body_finish(b);
	s3_body_free(b);
	return rc;
}

static void test_body_signed_trailer(void **state)
{
	s3_header h[] = {
		H("x-amz-decoded-content-length", "5"),
		H("x-amz-trailer", "x-amz-checksum-crc32"),
	};
	s3_auth auth;
	dd_buf body;
	struct sinkbuf out = {.fail_after = -1};

	(void)state;
	memset(&auth, 0, sizeof(auth));
	auth.kind = S3_AUTH_HEADER;
	auth.payload = S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
	example_ctx(&auth.sig);
	signed_trailer_body(&auth.sig, &body, "NhCmhg==");
	dd_buf_init(&out.b, 1024);
	assert_int_equal(run_body(h, 2, &auth, body.data, body.len, 1, &out), S3_OK);
	assert_int_equal(out.b.len, 5);
	dd_buf_release(&body);
	/* Right signatures, wrong CRC: BadDigest. */
	signed_trailer_body(&auth.sig, &body, "AAAAAA==");
	assert_int_equal(run_body(h, 2, &auth, body.data, body.len, 7, &out),
			 S3E_BAD_DIGEST);
	/* Tampered trailer value after signing: signature mismatch. */
	char *p = strstr(body.data, "AAAAAA==");
	p[0] = 'B';
	assert_int_equal(run_body(h, 2, &auth, body.data, body.len, 7, &out),
			 S3E_SIGNATURE_DOES_NOT_MATCH);
	dd_buf_release(&body);
	dd_buf_release(&out.b);
}

static void test_body_modes(void **state)
{
	s3_auth auth;
	struct sinkbuf out = {.fail_after = -1};
	s3_request req;
	s3_body *b;
	uint8_t md5[16];
	s3_cksum_value cv;
	const char *tr = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
	const char *tr_bad = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";

	(void)state;
	memset(&auth, 0, sizeof(auth));
	dd_buf_init(&out.b, 1 << 20);

	/* Hex payload hash, verified incrementally. */
	auth.kind = S3_AUTH_HEADER;
	auth.payload = S3_PAYLOAD_SHA256;
	snprintf(auth.content_sha256, 65, "%s",
		 "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	s3_header md5h[] = {H("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")};
	assert_int_equal(run_body(md5h, 1, &auth, "hello", 5, 2, &out), S3_OK);
	assert_int_equal(run_body(md5h, 1, &auth, "hellO", 5, 2, &out),
			 S3E_CONTENT_SHA256_MISMATCH);

	/* Content-MD5 checked over the decoded bytes (Kopia). */
	auth.payload = S3_PAYLOAD_UNSIGNED;
	assert_int_equal(run_body(md5h, 1, &auth, "hello", 5, 5, &out), S3_OK);
	assert_int_equal(run_body(md5h, 1, &auth, "hallo", 5, 5, &out), S3E_BAD_DIGEST);
	s3_header badmd5[] = {H("Content-MD5", "not base64!")};
	assert_int_equal(run_body(badmd5, 1, &auth, "hello", 5, 5, &out),
			 S3E_INVALID_DIGEST);

	/* x-amz-checksum-crc32 header. */
	s3_header ck[] = {H("x-amz-checksum-crc32", "NhCmhg==")};
	assert_int_equal(run_body(ck, 1, &auth, "hello", 5, 1, &out), S3_OK);
	assert_int_equal(run_body(ck, 1, &auth, "hellx", 5, 1, &out), S3E_BAD_DIGEST);
	s3_header ckbad[] = {H("x-amz-checksum-crc32", "NhCm")};
	assert_int_equal(run_body(ckbad, 1, &auth, "hello", 5, 1, &out),
			 S3E_INVALID_DIGEST);

	/* STREAMING-UNSIGNED-PAYLOAD-TRAILER (JS / Go v2 default). */
	auth.payload = S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	s3_header trh[] = {
		H("Content-Encoding", "aws-chunked"),
		H("x-amz-trailer", "x-amz-checksum-crc32"),
		H("x-amz-decoded-content-length", "5"),
	};
	out.b.len = 0;
	assert_int_equal(run_body(trh, 3, &auth, tr, strlen(tr), 1, &out), S3_OK);
	assert_int_equal(out.b.len, 5); /* framing never reaches the sink */
	assert_memory_equal(out.b.data, "hello", 5);
	assert_int_equal(run_body(trh, 3, &auth, tr_bad, strlen(tr_bad), 3, &out),
			 S3E_BAD_DIGEST);
	/* Declared decoded length must match. */
	s3_header trlen[] = {
		H("x-amz-trailer", "x-amz-checksum-crc32"),
		H("x-amz-decoded-content-length", "6"),
	};
	assert_int_equal(run_body(trlen, 2, &auth, tr, strlen(tr), 3, &out),
			 S3E_INCOMPLETE_BODY);
	s3_header trnolen[] = {H("x-amz-trailer", "x-amz-checksum-crc32")};
	assert_int_equal(run_body(trnolen, 1, &auth, tr, strlen(tr), 3, &out),
			 S3E_MISSING_CONTENT_LENGTH);
	/* Declared trailer missing. */
	const char *notr = "5\r\nhello\r\n0\r\n\r\n";
	assert_int_equal(run_body(trh, 3, &auth, notr, strlen(notr), 3, &out),
			 S3E_MALFORMED_TRAILER);

	/* aws-chunked detected from Content-Encoding alone (unsigned). */
	auth.payload = S3_PAYLOAD_UNSIGNED;
	s3_header ceonly[] = {
		H("Content-Encoding", "gzip, aws-chunked"),
		H("x-amz-decoded-content-length", "5"),
	};
	out.b.len = 0;
	assert_int_equal(run_body(ceonly, 2, &auth, notr, strlen(notr), 2, &out), S3_OK);
	assert_int_equal(out.b.len, 5);

	/* The MD5 and computed checksums are available after finish. */
	req = (s3_request){DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), ck, 1};
	assert_int_equal(s3_body_new(&req, &auth, &b), S3_OK);
	assert_int_equal(s3_body_want(b, S3_CK_SHA256), DD_OK);
	assert_int_equal(s3_body_feed(b, "hello", 5, NULL, NULL), S3_OK);
	assert_int_equal(s3_body_want(b, S3_CK_SHA1), DD_EINVAL); /* too late */
	assert_int_equal(s3_body_finish(b), S3_OK);
	assert_false(s3_body_is_chunked(b));
	assert_int_equal(s3_body_length(b), 5);
	assert_true(s3_body_md5(b, md5));
	char hex[33];
	dd_hex_encode(md5, 16, hex);
	assert_string_equal(hex, "5d41402abc4b2a76b9719d911017c592");
	assert_true(s3_body_checksum(b, S3_CK_CRC32, &cv));
	assert_int_equal(cv.len, 4);
	assert_memory_equal(cv.digest, "\x36\x10\xa6\x86", 4);
	assert_true(s3_body_checksum(b, S3_CK_SHA256, &cv));
	assert_false(s3_body_checksum(b, S3_CK_CRC32C, &cv));
	s3_body_free(b);

	/* MD5 can be left to the store, unless Content-MD5 is to be checked. */
	req = (s3_request){DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), NULL, 0};
	assert_int_equal(s3_body_new(&req, &auth, &b), S3_OK);
	s3_body_no_md5(b);
	assert_int_equal(s3_body_feed(b, "hello", 5, NULL, NULL), S3_OK);
	assert_int_equal(s3_body_finish(b), S3_OK);
	assert_false(s3_body_md5(b, md5));
	s3_body_free(b);
	s3_header m[] = {H("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")};
	req.headers = m;
	req.nheaders = 1;
	assert_int_equal(s3_body_new(&req, &auth, &b), S3_OK);
	s3_body_no_md5(b);
	assert_int_equal(s3_body_feed(b, "hellO", 5, NULL, NULL), S3_OK);
	assert_int_equal(s3_body_finish(b), S3E_BAD_DIGEST);
	s3_body_free(b);
	dd_buf_release(&out.b);
}

static void test_body_aws_example(void **state)
{
	s3_header h[] = {
		H("Content-Encoding", "aws-chunked"),
		H("x-amz-decoded-content-length", "66560"),
		H("x-amz-checksum-crc32", "sK4Y7A=="),
	};
	struct sinkbuf out = {.fail_after = -1};
	s3_auth auth;
	dd_buf body;

	(void)state;
	memset(&auth, 0, sizeof(auth));
	auth.kind = S3_AUTH_HEADER;
	auth.payload = S3_PAYLOAD_STREAMING_SIGNED;
	example_ctx(&auth.sig);
	example_body(&body, 0);
	dd_buf_init(&out.b, 1 << 20);
	assert_int_equal(run_body(h, 3, &auth, body.data, body.len, 64 * 1024 + 7,
				  &out), S3_OK);
	assert_int_equal(out.b.len, 66560);
	/* The declared length counts decoded bytes only. */
	h[1].value = DD_STR_LIT("66824");
	assert_int_equal(run_body(h, 3, &auth, body.data, body.len, 999, &out),
			 S3E_INCOMPLETE_BODY);
	dd_buf_release(&body);
	dd_buf_release(&out.b);
}

static void test_content_encoding_strip(void **state)
{
	dd_buf b;

	(void)state;
	dd_buf_init(&b, 256);
	assert_int_equal(s3_content_encoding_strip(DD_STR_LIT("aws-chunked"), &b), DD_OK);
	assert_int_equal(b.len, 0);
	assert_int_equal(s3_content_encoding_strip(DD_STR_LIT("aws-chunked, gzip"), &b), DD_OK);
	assert_string_equal(b.data, "gzip");
	dd_buf_reset(&b);
	assert_int_equal(s3_content_encoding_strip(DD_STR_LIT("gzip,AWS-CHUNKED,br"), &b), DD_OK);
	assert_string_equal(b.data, "gzip,br");
	dd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_example_signed),
		cmocka_unit_test(test_unsigned_trailer),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_body_signed_trailer),
		cmocka_unit_test(test_body_modes),
		cmocka_unit_test(test_body_aws_example),
		cmocka_unit_test(test_content_encoding_strip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
