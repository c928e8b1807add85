/*
 * s3api/chunked.c - incremental aws-chunked decoder:
 *
 *   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<name>:<value>\r\n ...][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * Input may arrive in pieces of any size; only one header or trailer line
 * (<= S3_CHUNK_LINE_MAX) and the trailers (<= S3_MAX_TRAILERS) are buffered.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

enum cstate { CS_LINE, CS_DATA, CS_DATA_CR, CS_DATA_LF, CS_TRAILER, CS_DONE };

struct s3_chunked {
	int state;
	int err;                /* sticky S3 error */
	int is_signed, signed_trailer;
	s3_sig_ctx sig;
	char prev[65];          /* previous signature in the chain */
	char want[65];          /* signature announced for the current chunk */
	EVP_MD_CTX *md;         /* sha256 of the current chunk */
	uint64_t left;          /* data bytes left in the current chunk */
	uint64_t decoded;
	char line[S3_CHUNK_LINE_MAX + 1];
	size_t llen;
	int saw_cr;
	char tsig[65];          /* x-amz-trailer-signature */
	int have_tsig;
	dd_buf trailers;        /* canonical "name:value\n" lines */
	size_t ntrailers;
};

s3_chunked *s3_chunked_new(const s3_sig_ctx *sig, int signed_trailer)
{
	s3_chunked *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->state = CS_LINE;
	dd_buf_init(&c->trailers, S3_MAX_TRAILERS * (S3_CHUNK_LINE_MAX + 1));
	if (sig) {
		c->is_signed = 1;
		c->signed_trailer = signed_trailer;
		c->sig = *sig;
		memcpy(c->prev, sig->seed, 65);
		c->md = EVP_MD_CTX_new();
		if (!c->md) {
			s3_chunked_free(c);
			return NULL;
		}
	}
	return c;
}

void s3_chunked_free(s3_chunked *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	dd_buf_release(&c->trailers);
	OPENSSL_cleanse(&c->sig, sizeof(c->sig));
	free(c);
}

static int fail(s3_chunked *c, int err)
{
	c->err = err;
	return err;
}

/* Checks the signature of the chunk whose sha256 is in c->md. */
static int verify_chunk(s3_chunked *c)
{
	uint8_t d[32];
	unsigned int len = 0;
	char sig[65];

	if (EVP_DigestFinal_ex(c->md, d, &len) != 1 ||
	    s3_sigv4_chunk_sign(&c->sig, c->prev, d, sig) != DD_OK)
		return S3E_INTERNAL_ERROR;
	if (!s3_ct_equal(sig, 64, c->want, 64))
		return S3E_SIGNATURE_DOES_NOT_MATCH;
	memcpy(c->prev, sig, 65);
	return S3_OK;
}

static int hexdig(char ch)
{
	ch = s3i_lower(ch);
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* A chunk header line: size in hex, then extensions. */
static int chunk_header(s3_chunked *c, dd_str l)
{
	uint64_t size = 0;
	size_t i = 0;
	int d, have_sig = 0;

	while (i < l.len && (d = hexdig(l.p[i])) >= 0) {
		if (i >= 16)
			return S3E_INVALID_ARGUMENT;
		size = size << 4 | (uint64_t)d;
		i++;
	}
	if (i == 0)
		return S3E_INVALID_ARGUMENT;
	/* Extensions: ";name=value" (chunk-signature is the one we use). */
	while (i < l.len) {
		if (l.p[i] != ';')
			return S3E_INVALID_ARGUMENT;
		size_t start = ++i;
		while (i < l.len && l.p[i] != ';')
			i++;
		dd_str ext = {l.p + start, i - start};
		if (dd_str_starts_with(ext, "chunk-signature=")) {
			dd_str v = {ext.p + 16, ext.len - 16};
			if (!s3i_is_hex64(v) || have_sig++)
				return S3E_SIGNATURE_DOES_NOT_MATCH;
			for (int k = 0; k < 64; k++)
				c->want[k] = s3i_lower(v.p[k]);
			c->want[64] = '\0';
		}
	}
	if (c->is_signed) {
		if (!have_sig)
			return S3E_SIGNATURE_DOES_NOT_MATCH;
		if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
			return S3E_INTERNAL_ERROR;
	}
	c->left = size;
	if (size) {
		c->state = CS_DATA;
		return S3_OK;
	}
	c->state = CS_TRAILER;
	return c->is_signed ? verify_chunk(c) : S3_OK;
}

/* One trailer line "name:value", or the final empty line. */
static int trailer_line(s3_chunked *c, dd_str l)
{
	const char *colon;
	dd_str name, value;
	int rc;

	if (l.len == 0) {
		if (c->signed_trailer) {
			char sig[65];
			if (!c->have_tsig)
				return S3E_SIGNATURE_DOES_NOT_MATCH;
			if (s3_sigv4_trailer_sign(&c->sig, c->prev,
						  (dd_str){c->trailers.data ? c->trailers.data : "",
							   c->trailers.len}, sig) != DD_OK)
				return S3E_INTERNAL_ERROR;
			if (!s3_ct_equal(sig, 64, c->tsig, 64))
				return S3E_SIGNATURE_DOES_NOT_MATCH;
		}
		c->state = CS_DONE;
		return S3_OK;
	}
	colon = memchr(l.p, ':', l.len);
	if (!colon || colon == l.p)
		return S3E_MALFORMED_TRAILER;
	name = s3i_trim((dd_str){l.p, (size_t)(colon - l.p)});
	value = s3i_trim((dd_str){colon + 1, (size_t)(l.p + l.len - colon - 1)});
	if (name.len == 0)
		return S3E_MALFORMED_TRAILER;
	for (size_t i = 0; i < name.len; i++) {
		char ch = name.p[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return S3E_MALFORMED_TRAILER; /* header names are tokens */
	}
	if (s3i_caseeq(name, DD_STR_LIT("x-amz-trailer-signature"))) {
		if (c->have_tsig++ || !s3i_is_hex64(value))
			return S3E_MALFORMED_TRAILER;
		for (int k = 0; k < 64; k++)
			c->tsig[k] = s3i_lower(value.p[k]);
		c->tsig[64] = '\0';
		return S3_OK;
	}
	if (c->have_tsig || c->ntrailers >= S3_MAX_TRAILERS)
		return S3E_MALFORMED_TRAILER;
	for (size_t i = 0; i < name.len; i++) {
		char ch = s3i_lower(name.p[i]);
		if ((rc = dd_buf_append(&c->trailers, &ch, 1)) != DD_OK)
			return S3E_INTERNAL_ERROR;
	}
	if (dd_buf_append(&c->trailers, ":", 1) != DD_OK ||
	    dd_buf_append(&c->trailers, value.p, value.len) != DD_OK ||
	    dd_buf_append(&c->trailers, "\n", 1) != DD_OK)
		return S3E_INTERNAL_ERROR;
	c->ntrailers++;
	return S3_OK;
}

/*
 * Collects a CRLF-terminated line from p. Returns bytes used; *done set
 * when the line is complete (in c->line, c->llen). A bare CR or LF inside
 * a line, or an overlong line, sets *err.
 */
static size_t collect_line(s3_chunked *c, const uint8_t *p, size_t n,
			   int *done, int *err)
{
	size_t i;

	*done = 0;
	for (i = 0; i < n; i++) {
		uint8_t ch = p[i];
		if (c->saw_cr) {
			if (ch != '\n') {
				*err = S3E_INVALID_ARGUMENT;
				return i;
			}
			c->saw_cr = 0;
			c->line[c->llen] = '\0';
			*done = 1;
			return i + 1;
		}
		if (ch == '\r') {
			c->saw_cr = 1;
			continue;
		}
		if (ch == '\n' || ch == '\0' || c->llen >= S3_CHUNK_LINE_MAX) {
			*err = S3E_INVALID_ARGUMENT;
			return i;
		}
		c->line[c->llen++] = (char)ch;
	}
	return i;
}

int s3_chunked_feed(s3_chunked *c, const void *data, size_t n, s3_sink_fn sink,
		    void *ctx)
{
	const uint8_t *p = data;
	int rc, done, err;

	if (c->err)
		return c->err;
	while (n) {
		switch (c->state) {
		case CS_LINE:
		case CS_TRAILER: {
			err = S3_OK;
			size_t used = collect_line(c, p, n, &done, &err);
			p += used;
			n -= used;
			if (err)
				return fail(c, c->state == CS_TRAILER
						       ? S3E_MALFORMED_TRAILER : err);
			if (!done)
				break;
			dd_str l = {c->line, c->llen};
			c->llen = 0;
			rc = c->state == CS_LINE ? chunk_header(c, l)
						 : trailer_line(c, l);
			if (rc)
				return fail(c, rc);
			break;
		}
		case CS_DATA: {
			size_t take = n < c->left ? n : (size_t)c->left;
			if (c->is_signed && EVP_DigestUpdate(c->md, p, take) != 1)
				return fail(c, S3E_INTERNAL_ERROR);
			if (sink && sink(ctx, p, take) != DD_OK)
				return fail(c, S3E_INTERNAL_ERROR);
			c->decoded += take;
			c->left -= take;
			p += take;
			n -= take;
			if (c->left == 0)
				c->state = CS_DATA_CR;
			break;
		}
		case CS_DATA_CR:
		case CS_DATA_LF:
			if (*p != (c->state == CS_DATA_CR ? '\r' : '\n'))
				return fail(c, S3E_INVALID_ARGUMENT);
			p++;
			n--;
			if (c->state == CS_DATA_CR) {
				c->state = CS_DATA_LF;
				break;
			}
			c->state = CS_LINE;
			if (c->is_signed && (rc = verify_chunk(c)) != S3_OK)
				return fail(c, rc);
			break;
		case CS_DONE:
		default:
			return fail(c, S3E_INVALID_ARGUMENT); /* data after the end */
		}
	}
	return S3_OK;
}

int s3_chunked_finish(const s3_chunked *c)
{
	if (c->err)
		return c->err;
	if (c->state == CS_DONE)
		return S3_OK;
	/*
	 * Lenient: a body that stops right after the final chunk's header
	 * line, with no trailers expected, lost nothing.
	 */
	if (c->state == CS_TRAILER && c->llen == 0 && !c->saw_cr &&
	    c->ntrailers == 0 && !c->have_tsig && !c->signed_trailer)
		return S3_OK;
	return S3E_INCOMPLETE_BODY;
}

uint64_t s3_chunked_decoded(const s3_chunked *c)
{
	return c->decoded;
}

int s3_chunked_trailer(const s3_chunked *c, size_t i, dd_str *name,
		       dd_str *value)
{
	const char *p = c->trailers.data, *end;

	if (i >= c->ntrailers || !p)
		return 0;
	end = p + c->trailers.len;
	for (size_t k = 0; k < i; k++)
		p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *colon = memchr(p, ':', (size_t)(nl - p));
	*name = (dd_str){p, (size_t)(colon - p)};
	*value = (dd_str){colon + 1, (size_t)(nl - colon - 1)};
	return 1;
}
