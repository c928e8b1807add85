/*
 * s3api/body.c - request body verification on top of the aws-chunked
 * decoder: payload hash, decoded length, x-amz-checksum-* (header or
 * trailer), Content-MD5, and the MD5 for the ETag.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct s3_body {
	s3_chunked *dec;        /* NULL when the body is not aws-chunked */
	uint64_t want_len;      /* x-amz-decoded-content-length */
	uint64_t len;           /* decoded bytes */
	s3_cksum wire_sha;      /* for a hex x-amz-content-sha256 */
	int check_sha;
	char want_sha[65];
	EVP_MD_CTX *md5ctx;     /* MD5 of the decoded bytes (ETag) */
	uint8_t md5[16];
	int md5_on;             /* computing the MD5 (default) */
	int have_md5_want;
	uint8_t md5_want[16];
	s3_cksum ck[S3_CK_COUNT];
	int ck_on[S3_CK_COUNT];
	s3_cksum_value ck_val[S3_CK_COUNT]; /* results after finish */
	s3_cksum_value hdr;     /* x-amz-checksum-* header */
	int trailer_alg;        /* x-amz-trailer checksum, NONE if none */
	int finished;
	/* user sink for the current feed */
	s3_sink_fn sink;
	void *sink_ctx;
};

static EVP_MD_CTX *md5_ctx(s3_body *b)
{
	return b->md5ctx;
}

/* 1 when the comma list ce contains aws-chunked. */
static int has_aws_chunked(dd_str ce)
{
	size_t start = 0;

	for (size_t i = 0; i <= ce.len; i++) {
		if (i < ce.len && ce.p[i] != ',')
			continue;
		dd_str t = s3i_trim((dd_str){ce.p + start, i - start});
		if (s3i_caseeq(t, DD_STR_LIT("aws-chunked")))
			return 1;
		start = i + 1;
	}
	return 0;
}

int s3_content_encoding_strip(dd_str ce, dd_buf *out)
{
	size_t start = 0;
	int first = 1, rc;

	for (size_t i = 0; i <= ce.len; i++) {
		if (i < ce.len && ce.p[i] != ',')
			continue;
		dd_str t = s3i_trim((dd_str){ce.p + start, i - start});
		start = i + 1;
		if (t.len == 0 || s3i_caseeq(t, DD_STR_LIT("aws-chunked")))
			continue;
		if (!first && (rc = dd_buf_append(out, ",", 1)) != DD_OK)
			return rc;
		if ((rc = dd_buf_append(out, t.p, t.len)) != DD_OK)
			return rc;
		first = 0;
	}
	return DD_OK;
}

int s3_body_want(s3_body *b, int alg)
{
	int rc;

	if (alg <= S3_CK_NONE || alg >= S3_CK_COUNT)
		return DD_EINVAL;
	if (b->ck_on[alg])
		return DD_OK;
	if (b->len)
		return DD_EINVAL; /* too late: bytes already went by */
	if ((rc = s3_cksum_init(&b->ck[alg], alg)) != DD_OK)
		return rc;
	b->ck_on[alg] = 1;
	return DD_OK;
}

static int setup_chunked(s3_body *b, const s3_request *req,
			 const s3_auth *auth)
{
	dd_str v;
	int sig = auth->payload == S3_PAYLOAD_STREAMING_SIGNED ||
		  auth->payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER;

	if (!s3_req_header(req, "x-amz-decoded-content-length", &v))
		return S3E_MISSING_CONTENT_LENGTH;
	if (dd_str_to_u64(s3i_trim(v), &b->want_len) != DD_OK)
		return S3E_INVALID_ARGUMENT;
	b->dec = s3_chunked_new(sig ? &auth->sig : NULL,
				auth->payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER);
	if (!b->dec)
		return S3E_INTERNAL_ERROR;
	if (s3_req_header(req, "x-amz-trailer", &v)) {
		v = s3i_trim(v);
		for (int a = 1; a < S3_CK_COUNT; a++)
			if (s3i_caseeq(v, dd_str_c(s3_cksum_header(a))))
				b->trailer_alg = a;
		if (b->trailer_alg == S3_CK_NONE)
			return S3E_INVALID_REQUEST; /* a trailer we cannot check */
	}
	return S3_OK;
}

int s3_body_new(const s3_request *req, const s3_auth *auth, s3_body **out)
{
	s3_body *b = calloc(1, sizeof(*b));
	int rc, present;
	dd_str ce;

	*out = NULL;
	if (!b)
		return S3E_INTERNAL_ERROR;
	b->md5ctx = EVP_MD_CTX_new();
	if (!b->md5ctx ||
	    EVP_DigestInit_ex(md5_ctx(b), EVP_md5(), NULL) != 1) {
		rc = S3E_INTERNAL_ERROR;
		goto fail;
	}
	if ((rc = s3_cksum_from_headers(req, &b->hdr)) != S3_OK)
		goto fail;
	if ((rc = s3_content_md5(req, b->md5_want, &present)) != S3_OK)
		goto fail;
	b->have_md5_want = present;
	b->md5_on = 1;
	if (auth->payload == S3_PAYLOAD_SHA256) {
		b->check_sha = 1;
		memcpy(b->want_sha, auth->content_sha256, 65);
		if (s3_cksum_init(&b->wire_sha, S3_CK_SHA256) != DD_OK) {
			rc = S3E_INTERNAL_ERROR;
			goto fail;
		}
	}
	s3_req_header(req, "content-encoding", &ce);
	if (auth->payload >= S3_PAYLOAD_STREAMING_SIGNED || has_aws_chunked(ce)) {
		if ((rc = setup_chunked(b, req, auth)) != S3_OK)
			goto fail;
	}
	if ((b->hdr.alg && s3_body_want(b, b->hdr.alg) != DD_OK) ||
	    (b->trailer_alg && s3_body_want(b, b->trailer_alg) != DD_OK)) {
		rc = S3E_INTERNAL_ERROR;
		goto fail;
	}
	*out = b;
	return S3_OK;
fail:
	s3_body_free(b);
	return rc;
}

void s3_body_free(s3_body *b)
{
	if (!b)
		return;
	s3_chunked_free(b->dec);
	if (b->check_sha)
		s3_cksum_release(&b->wire_sha);
	EVP_MD_CTX_free(md5_ctx(b));
	for (int a = 0; a < S3_CK_COUNT; a++)
		if (b->ck_on[a])
			s3_cksum_release(&b->ck[a]);
	free(b);
}

/* Decoded bytes: hash them and pass them on. */
static int decoded_sink(void *ctx, const void *p, size_t n)
{
	s3_body *b = ctx;

	if (b->md5_on)
		EVP_DigestUpdate(md5_ctx(b), p, n);
	for (int a = 1; a < S3_CK_COUNT; a++)
		if (b->ck_on[a])
			s3_cksum_update(&b->ck[a], p, n);
	b->len += n;
	return b->sink ? b->sink(b->sink_ctx, p, n) : DD_OK;
}

int s3_body_feed(s3_body *b, const void *p, size_t n, s3_sink_fn sink,
		 void *ctx)
{
	int rc;

	if (b->finished)
		return S3E_INTERNAL_ERROR;
	if (b->check_sha)
		s3_cksum_update(&b->wire_sha, p, n);
	b->sink = sink;
	b->sink_ctx = ctx;
	if (b->dec) {
		rc = s3_chunked_feed(b->dec, p, n, decoded_sink, b);
		if (rc == S3_OK && s3_chunked_decoded(b->dec) > b->want_len)
			rc = S3E_INCOMPLETE_BODY; /* more than declared */
	} else {
		rc = decoded_sink(b, p, n) == DD_OK ? S3_OK : S3E_INTERNAL_ERROR;
	}
	b->sink = NULL;
	return rc;
}

static int digest_eq(const s3_cksum_value *a, const s3_cksum_value *b)
{
	return a->alg == b->alg && a->len == b->len &&
	       memcmp(a->digest, b->digest, a->len) == 0;
}

/* The trailer's checksum value against the computed one. */
static int check_trailer(s3_body *b)
{
	const char *want = s3_cksum_header(b->trailer_alg);
	s3_cksum_value tv;
	dd_str name, value;
	int rc;

	for (size_t i = 0; s3_chunked_trailer(b->dec, i, &name, &value); i++) {
		if (!dd_str_eq_c(name, want))
			continue;
		if ((rc = s3_cksum_parse_value(b->trailer_alg, value, &tv)))
			return rc;
		return digest_eq(&tv, &b->ck_val[b->trailer_alg])
			       ? S3_OK : S3E_BAD_DIGEST;
	}
	return S3E_MALFORMED_TRAILER; /* declared but not sent */
}

int s3_body_finish(s3_body *b)
{
	unsigned int mlen = 0;
	int rc;

	if (b->finished)
		return S3E_INTERNAL_ERROR;
	b->finished = 1;
	if (b->dec) {
		if ((rc = s3_chunked_finish(b->dec)) != S3_OK)
			return rc;
		if (b->len != b->want_len)
			return S3E_INCOMPLETE_BODY;
	}
	if (b->check_sha) {
		uint8_t d[32];
		char hex[65];
		s3_cksum_final(&b->wire_sha, d);
		dd_hex_encode(d, 32, hex);
		if (!s3_ct_equal(hex, 64, b->want_sha, 64))
			return S3E_CONTENT_SHA256_MISMATCH;
	}
	if (b->md5_on && EVP_DigestFinal_ex(md5_ctx(b), b->md5, &mlen) != 1)
		return S3E_INTERNAL_ERROR;
	for (int a = 1; a < S3_CK_COUNT; a++) {
		if (!b->ck_on[a])
			continue;
		b->ck_val[a].alg = a;
		b->ck_val[a].len = s3_cksum_final(&b->ck[a], b->ck_val[a].digest);
	}
	if (b->have_md5_want && memcmp(b->md5, b->md5_want, 16) != 0)
		return S3E_BAD_DIGEST;
	if (b->hdr.alg && !digest_eq(&b->hdr, &b->ck_val[b->hdr.alg]))
		return S3E_BAD_DIGEST;
	if (b->trailer_alg && (rc = check_trailer(b)) != S3_OK)
		return rc;
	return S3_OK;
}

uint64_t s3_body_length(const s3_body *b)
{
	return b->len;
}

void s3_body_no_md5(s3_body *b)
{
	if (!b->have_md5_want && b->len == 0)
		b->md5_on = 0;
}

int s3_body_md5(const s3_body *b, uint8_t md5[16])
{
	if (!b->md5_on || !b->finished)
		return 0;
	memcpy(md5, b->md5, 16);
	return 1;
}

int s3_body_checksum(const s3_body *b, int alg, s3_cksum_value *out)
{
	if (alg <= S3_CK_NONE || alg >= S3_CK_COUNT || !b->ck_on[alg] ||
	    !b->finished || b->ck_val[alg].alg != alg)
		return 0;
	*out = b->ck_val[alg];
	return 1;
}

int s3_body_is_chunked(const s3_body *b)
{
	return b->dec != NULL;
}
