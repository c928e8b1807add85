/*
 * s3api/sigv4.c - AWS Signature Version 4 for S3: Authorization header and
 * presigned URLs, canonical request, signing key, chunk and trailer
 * signatures. Never logs a signature, a key or a secret.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ALGO "AWS4-HMAC-SHA256"
#define CANON_MAX (256u << 10) /* canonical request bound */

/* ------------------------------------------------- Authorization parse */

/* Splits "AK/date/region/service/aws4_request" (from the right: keys may
 * not contain '/', but being lenient costs nothing). 0 on success. */
static int parse_credential(dd_str cred, s3_authz *out)
{
	dd_str part[4];
	size_t end = cred.len;

	for (int k = 3; k >= 0; k--) {
		size_t i = end;
		while (i > 0 && cred.p[i - 1] != '/')
			i--;
		if (i == 0)
			return -1;
		part[k] = (dd_str){cred.p + i, end - i};
		end = i - 1;
	}
	out->access_key = (dd_str){cred.p, end};
	out->date = part[0];
	out->region = part[1];
	out->service = part[2];
	if (out->access_key.len == 0 || out->access_key.len > S3_MAX_ACCESS_KEY ||
	    out->date.len != 8 || out->region.len == 0 ||
	    out->region.len > S3_MAX_REGION || out->service.len == 0 ||
	    !dd_str_eq_c(part[3], "aws4_request"))
		return -1;
	for (size_t i = 0; i < 8; i++)
		if (out->date.p[i] < '0' || out->date.p[i] > '9')
			return -1;
	for (size_t i = 0; i < out->region.len; i++) {
		char c = out->region.p[i];
		if (c <= 0x20 || c >= 0x7f || c == '/')
			return -1;
	}
	return 0;
}

int s3_authz_parse(dd_str hdr, s3_authz *out)
{
	int have_c = 0, have_h = 0, have_s = 0;
	size_t start;
	dd_str s = s3i_trim(hdr);

	memset(out, 0, sizeof(*out));
	if (!dd_str_starts_with(s, ALGO) || s.len <= sizeof(ALGO) ||
	    (s.p[sizeof(ALGO) - 1] != ' '))
		return S3E_AUTH_HEADER_MALFORMED;
	start = sizeof(ALGO);
	for (size_t i = start; i <= s.len; i++) {
		if (i < s.len && s.p[i] != ',')
			continue;
		dd_str item = s3i_trim((dd_str){s.p + start, i - start});
		start = i + 1;
		const char *eq = memchr(item.p, '=', item.len);
		if (!eq)
			return S3E_AUTH_HEADER_MALFORMED;
		dd_str k = {item.p, (size_t)(eq - item.p)};
		dd_str v = {eq + 1, item.len - k.len - 1};
		if (dd_str_eq_c(k, "Credential") && !have_c++) {
			if (parse_credential(v, out))
				return S3E_AUTH_HEADER_MALFORMED;
		} else if (dd_str_eq_c(k, "SignedHeaders") && !have_h++) {
			out->signed_headers = v;
		} else if (dd_str_eq_c(k, "Signature") && !have_s++) {
			out->signature = v;
		} else {
			return S3E_AUTH_HEADER_MALFORMED;
		}
	}
	if (!have_c || !have_h || !have_s || out->signed_headers.len == 0 ||
	    !s3i_is_hex64(out->signature))
		return S3E_AUTH_HEADER_MALFORMED;
	return S3_OK;
}

/* ------------------------------------------------- canonical request */

typedef struct qpair {
	dd_str k, v; /* encoded, inside the scratch buffer */
	size_t koff, voff;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
	const qpair *x = a, *y = b;
	size_t n = DD_MIN(x->k.len, y->k.len);
	int c = memcmp(x->k.p, y->k.p, n);

	if (c || x->k.len != y->k.len)
		return c ? c : (x->k.len < y->k.len ? -1 : 1);
	n = DD_MIN(x->v.len, y->v.len);
	c = memcmp(x->v.p, y->v.p, n);
	if (c || x->v.len == y->v.len)
		return c;
	return x->v.len < y->v.len ? -1 : 1;
}

/* Appends the sorted, re-encoded query (without X-Amz-Signature). */
static int canon_query(dd_buf *out, const s3_target *t)
{
	qpair *q = NULL;
	size_t n = 0;
	dd_buf scratch;
	int rc = DD_OK;

	dd_buf_init(&scratch, CANON_MAX);
	if (t->nparams) {
		q = calloc(t->nparams, sizeof(*q));
		if (!q)
			return DD_ENOMEM;
	}
	for (size_t i = 0; i < t->nparams; i++) {
		const s3_param *p = &t->params[i];
		if (dd_str_eq_c(p->name, "X-Amz-Signature"))
			continue;
		q[n].koff = scratch.len;
		if ((rc = s3_uri_encode(&scratch, p->name, 1)) != DD_OK)
			goto out;
		q[n].k.len = scratch.len - q[n].koff;
		q[n].voff = scratch.len;
		if ((rc = s3_uri_encode(&scratch, p->value, 1)) != DD_OK)
			goto out;
		q[n].v.len = scratch.len - q[n].voff;
		n++;
	}
	/* The scratch buffer may have moved while growing: fix up now. */
	for (size_t i = 0; i < n; i++) {
		q[i].k.p = scratch.data + q[i].koff;
		q[i].v.p = scratch.data + q[i].voff;
	}
	if (n)
		qsort(q, n, sizeof(*q), qpair_cmp);
	for (size_t i = 0; i < n && rc == DD_OK; i++) {
		if (i)
			rc = dd_buf_append(out, "&", 1);
		if (rc == DD_OK)
			rc = dd_buf_append(out, q[i].k.p, q[i].k.len);
		if (rc == DD_OK)
			rc = dd_buf_append(out, "=", 1);
		if (rc == DD_OK)
			rc = dd_buf_append(out, q[i].v.p, q[i].v.len);
	}
out:
	free(q);
	dd_buf_release(&scratch);
	return rc;
}

/* Appends v trimmed with inner runs of spaces collapsed to one. */
static int append_collapsed(dd_buf *out, dd_str v)
{
	int sp = 0, rc;

	v = s3i_trim(v);
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (c == ' ' || c == '\t') {
			sp = 1;
			continue;
		}
		if (sp && (rc = dd_buf_append(out, " ", 1)) != DD_OK)
			return rc;
		sp = 0;
		if ((rc = dd_buf_append(out, &c, 1)) != DD_OK)
			return rc;
	}
	return DD_OK;
}

/* Appends "name:v1,v2\n" for a signed header; DD_ENOENT if absent. */
static int canon_header(dd_buf *out, const s3_request *req, dd_str name)
{
	int found = 0, rc;

	if ((rc = dd_buf_append(out, name.p, name.len)) != DD_OK ||
	    (rc = dd_buf_append(out, ":", 1)) != DD_OK)
		return rc;
	for (size_t i = 0; i < req->nheaders; i++) {
		if (!s3i_caseeq(req->headers[i].name, name))
			continue;
		if (found++ && (rc = dd_buf_append(out, ",", 1)) != DD_OK)
			return rc;
		if ((rc = append_collapsed(out, req->headers[i].value)) != DD_OK)
			return rc;
	}
	if (!found)
		return DD_ENOENT;
	return dd_buf_append(out, "\n", 1);
}

/* Splits the signed-headers list; checks names are lower-case tokens. */
static int split_signed(dd_str list, dd_str *names, size_t *n)
{
	size_t start = 0;

	*n = 0;
	for (size_t i = 0; i <= list.len; i++) {
		if (i < list.len && list.p[i] != ';') {
			char c = list.p[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_' || c == '.'))
				return -1;
			continue;
		}
		if (i == start || *n >= S3_MAX_SIGNED_HEADERS)
			return -1;
		names[(*n)++] = (dd_str){list.p + start, i - start};
		start = i + 1;
	}
	return 0;
}

int s3_sigv4_canonical_request(dd_buf *out, const s3_request *req,
			       const s3_target *t, dd_str signed_headers,
			       dd_str payload_hash, int raw_uri)
{
	dd_str names[S3_MAX_SIGNED_HEADERS];
	size_t n;
	int rc;

	if (split_signed(signed_headers, names, &n))
		return S3E_AUTH_HEADER_MALFORMED;
	if ((rc = dd_buf_append(out, req->method.p, req->method.len)) ||
	    (rc = dd_buf_append(out, "\n", 1)))
		goto oom;
	if (raw_uri)
		rc = dd_buf_append(out, t->raw_path.p, t->raw_path.len);
	else if (t->path.len == 0)
		rc = dd_buf_append(out, "/", 1);
	else
		rc = s3_uri_encode(out, t->path, 0);
	if (rc || (rc = dd_buf_append(out, "\n", 1)) ||
	    (rc = canon_query(out, t)) || (rc = dd_buf_append(out, "\n", 1)))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		rc = canon_header(out, req, names[i]);
		if (rc == DD_ENOENT)
			return S3E_AUTH_HEADER_MALFORMED;
		if (rc)
			goto oom;
	}
	if ((rc = dd_buf_append(out, "\n", 1)) ||
	    (rc = dd_buf_append(out, signed_headers.p, signed_headers.len)) ||
	    (rc = dd_buf_append(out, "\n", 1)) ||
	    (rc = dd_buf_append(out, payload_hash.p, payload_hash.len)))
		goto oom;
	return S3_OK;
oom:
	return rc == DD_ETOOBIG ? S3E_AUTH_HEADER_MALFORMED : S3E_INTERNAL_ERROR;
}

/* ---------------------------------------------------------- signing */

int s3_sigv4_signing_key(dd_str secret, dd_str date, dd_str region,
			 dd_str service, uint8_t key[32])
{
	char k0[4 + S3_MAX_SECRET];
	uint8_t k[32];
	int rc;

	if (secret.len > S3_MAX_SECRET)
		return DD_EINVAL;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret.p, secret.len);
	rc = s3i_hmac(k0, 4 + secret.len, date.p, date.len, k);
	if (rc == DD_OK)
		rc = s3i_hmac(k, 32, region.p, region.len, k);
	if (rc == DD_OK)
		rc = s3i_hmac(k, 32, service.p, service.len, k);
	if (rc == DD_OK)
		rc = s3i_hmac(k, 32, "aws4_request", 12, key);
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

/* HMAC(key, "<algo>\n<date>\n<scope>\n<rest>") as hex into sig_hex. */
static int sign_sts(const uint8_t key[32], const char *algo, dd_str date,
		    dd_str scope, const char *rest, size_t rest_len,
		    char sig_hex[65])
{
	dd_buf sts;
	uint8_t mac[32];
	int rc;

	dd_buf_init(&sts, 1024);
	if ((rc = dd_buf_append_str(&sts, algo)) ||
	    (rc = dd_buf_append(&sts, "\n", 1)) ||
	    (rc = dd_buf_append(&sts, date.p, date.len)) ||
	    (rc = dd_buf_append(&sts, "\n", 1)) ||
	    (rc = dd_buf_append(&sts, scope.p, scope.len)) ||
	    (rc = dd_buf_append(&sts, "\n", 1)) ||
	    (rc = dd_buf_append(&sts, rest, rest_len)))
		goto out;
	if ((rc = s3i_hmac(key, 32, sts.data, sts.len, mac)) == DD_OK)
		dd_hex_encode(mac, 32, sig_hex);
out:
	dd_buf_release(&sts);
	return rc;
}

int s3_sigv4_sign(const uint8_t key[32], dd_str amz_date, dd_str scope,
		  dd_str canonical, char sig_hex[65])
{
	uint8_t h[32];
	char hex[65];
	int rc;

	if ((rc = s3i_sha256(canonical.p, canonical.len, h)) != DD_OK)
		return rc;
	dd_hex_encode(h, 32, hex);
	return sign_sts(key, ALGO, amz_date, scope, hex, 64, sig_hex);
}

int s3_sigv4_chunk_sign(const s3_sig_ctx *c, const char *prev_hex,
			const uint8_t data_sha256[32], char sig_hex[65])
{
	char rest[64 * 3 + 3];
	size_t o = 0;

	memcpy(rest, prev_hex, 64);
	o = 64;
	rest[o++] = '\n';
	memcpy(rest + o, s3i_empty_sha256, 64);
	o += 64;
	rest[o++] = '\n';
	dd_hex_encode(data_sha256, 32, rest + o);
	o += 64;
	return sign_sts(c->key, ALGO "-PAYLOAD", dd_str_c(c->amz_date),
			dd_str_c(c->scope), rest, o, sig_hex);
}

int s3_sigv4_trailer_sign(const s3_sig_ctx *c, const char *prev_hex,
			  dd_str canonical_trailers, char sig_hex[65])
{
	uint8_t h[32];
	char rest[64 * 2 + 2];
	int rc;

	if ((rc = s3i_sha256(canonical_trailers.p, canonical_trailers.len, h)))
		return rc;
	memcpy(rest, prev_hex, 64);
	rest[64] = '\n';
	dd_hex_encode(h, 32, rest + 65);
	return sign_sts(c->key, ALGO "-TRAILER", dd_str_c(c->amz_date),
			dd_str_c(c->scope), rest, 129, sig_hex);
}

/* -------------------------------------------------------- auth check */

/* Maps an x-amz-content-sha256 value to a payload mode; S3_OK or
 * S3E_INVALID_ARGUMENT. */
static int payload_mode(dd_str v, int *mode)
{
	if (s3i_is_hex64(v))
		*mode = S3_PAYLOAD_SHA256;
	else if (dd_str_eq_c(v, "UNSIGNED-PAYLOAD"))
		*mode = S3_PAYLOAD_UNSIGNED;
	else if (dd_str_eq_c(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
		*mode = S3_PAYLOAD_STREAMING_SIGNED;
	else if (dd_str_eq_c(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
		*mode = S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	else if (dd_str_eq_c(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"))
		*mode = S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
	else
		return S3E_INVALID_ARGUMENT;
	return S3_OK;
}

/* Everything both flavours share once the pieces are known. */
struct sigparts {
	s3_authz az;
	dd_str amz_date;   /* YYYYMMDDTHHMMSSZ */
	dd_str payload;    /* canonical payload hash line */
	int bad_err;       /* error for a malformed piece */
};

static int finish_check(const s3_request *req, const s3_target *t,
			s3_secret_fn lookup, void *lctx, struct sigparts *sp,
			s3_auth *out)
{
	char secret[S3_MAX_SECRET + 1], sig[65], want[65];
	dd_buf canon;
	int rc, err;

	memcpy(out->access_key, sp->az.access_key.p, sp->az.access_key.len);
	out->access_key[sp->az.access_key.len] = '\0';
	memcpy(out->region, sp->az.region.p, sp->az.region.len);
	out->region[sp->az.region.len] = '\0';
	for (int i = 0; i < 64; i++)
		want[i] = s3i_lower(sp->az.signature.p[i]);
	want[64] = '\0';

	/* Canonical request errors (a signed header missing) come first:
	 * they need no secret. */
	dd_buf_init(&canon, CANON_MAX);
	if ((err = s3_sigv4_canonical_request(&canon, req, t,
					      sp->az.signed_headers, sp->payload,
					      0)) != S3_OK) {
		if (err == S3E_AUTH_HEADER_MALFORMED)
			err = sp->bad_err;
		goto out;
	}
	memset(secret, 0, sizeof(secret));
	rc = lookup(lctx, sp->az.access_key, secret, sizeof(secret));
	if (rc != DD_OK) {
		err = rc == DD_ENOENT ? S3E_INVALID_ACCESS_KEY_ID
				      : S3E_INTERNAL_ERROR;
		goto out;
	}
	secret[S3_MAX_SECRET] = '\0';
	rc = s3_sigv4_signing_key(dd_str_c(secret), sp->az.date, sp->az.region,
				  sp->az.service, out->sig.key);
	OPENSSL_cleanse(secret, sizeof(secret));
	int n = snprintf(out->sig.scope, sizeof(out->sig.scope), "%.*s/%.*s/%.*s/aws4_request",
			 (int)sp->az.date.len, sp->az.date.p,
			 (int)sp->az.region.len, sp->az.region.p,
			 (int)sp->az.service.len, sp->az.service.p);
	if (rc != DD_OK || n < 0 || (size_t)n >= sizeof(out->sig.scope)) {
		err = S3E_INTERNAL_ERROR;
		goto out;
	}
	memcpy(out->sig.amz_date, sp->amz_date.p, 16);
	out->sig.amz_date[16] = '\0';
	err = S3E_INTERNAL_ERROR;
	if (s3_sigv4_sign(out->sig.key, sp->amz_date, dd_str_c(out->sig.scope),
			  (dd_str){canon.data, canon.len}, sig) != DD_OK)
		goto out;
	if (!s3_ct_equal(sig, 64, want, 64)) {
		/* Some clients sign the path exactly as they sent it. */
		dd_buf_reset(&canon);
		if (s3_sigv4_canonical_request(&canon, req, t,
					       sp->az.signed_headers,
					       sp->payload, 1) != S3_OK ||
		    s3_sigv4_sign(out->sig.key, sp->amz_date,
				  dd_str_c(out->sig.scope),
				  (dd_str){canon.data, canon.len}, sig) != DD_OK)
			goto out;
		if (!s3_ct_equal(sig, 64, want, 64)) {
			err = S3E_SIGNATURE_DOES_NOT_MATCH;
			goto out;
		}
	}
	memcpy(out->sig.seed, want, 65);
	err = S3_OK;
out:
	dd_buf_release(&canon);
	if (err != S3_OK)
		s3_auth_clear(out);
	return err;
}

/* 1 when name is in the ';' list. */
static int list_has(dd_str list, const char *name)
{
	size_t start = 0;

	for (size_t i = 0; i <= list.len; i++) {
		if (i < list.len && list.p[i] != ';')
			continue;
		if (dd_str_eq_c((dd_str){list.p + start, i - start}, name))
			return 1;
		start = i + 1;
	}
	return 0;
}

static int check_header_auth(const s3_request *req, const s3_target *t,
			     dd_str authz, s3_secret_fn lookup, void *lctx,
			     int64_t now, s3_auth *out)
{
	struct sigparts sp;
	char datebuf[17];
	dd_str v;
	int64_t ts;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.bad_err = S3E_AUTH_HEADER_MALFORMED;
	if ((rc = s3_authz_parse(authz, &sp.az)) != S3_OK)
		return rc;
	if (!dd_str_eq_c(sp.az.service, "s3") ||
	    !list_has(sp.az.signed_headers, "host"))
		return S3E_AUTH_HEADER_MALFORMED;
	if (s3_req_header(req, "x-amz-date", &v)) {
		v = s3i_trim(v);
		if (s3_time_parse_amz(v, &ts) != DD_OK)
			return S3E_ACCESS_DENIED;
		sp.amz_date = v;
	} else if (s3_req_header(req, "date", &v) &&
		   s3_time_parse_http(v, &ts) == DD_OK) {
		time_t tt = (time_t)ts;
		struct tm tm;
		if (!gmtime_r(&tt, &tm) ||
		    strftime(datebuf, sizeof(datebuf), "%Y%m%dT%H%M%SZ", &tm) != 16)
			return S3E_ACCESS_DENIED;
		sp.amz_date = (dd_str){datebuf, 16};
	} else {
		return S3E_ACCESS_DENIED; /* needs a valid Date or x-amz-date */
	}
	if (memcmp(sp.amz_date.p, sp.az.date.p, 8) != 0)
		return S3E_AUTH_HEADER_MALFORMED;
	if (ts > now + S3_MAX_SKEW_SECONDS || ts < now - S3_MAX_SKEW_SECONDS)
		return S3E_REQUEST_TIME_TOO_SKEWED;
	if (!s3_req_header(req, "x-amz-content-sha256", &v))
		return S3E_INVALID_REQUEST;
	v = s3i_trim(v);
	if ((rc = payload_mode(v, &out->payload)) != S3_OK)
		return rc;
	/*
	 * x-amz-content-sha256 need not be in SignedHeaders (AWS: "Signing
	 * the x-amz-content-sha256 header is optional"): its value is the
	 * canonical request's last line, so the signature covers it anyway.
	 */
	sp.payload = v;
	out->kind = S3_AUTH_HEADER;
	out->time = ts;
	if (out->payload == S3_PAYLOAD_SHA256) {
		for (int i = 0; i < 64; i++)
			out->content_sha256[i] = s3i_lower(v.p[i]);
		out->content_sha256[64] = '\0';
	}
	return finish_check(req, t, lookup, lctx, &sp, out);
}

static int check_presigned(const s3_request *req, const s3_target *t,
			   s3_secret_fn lookup, void *lctx, int64_t now,
			   s3_auth *out)
{
	const s3_param *alg = s3_param_get(t, "X-Amz-Algorithm");
	const s3_param *cred = s3_param_get(t, "X-Amz-Credential");
	const s3_param *date = s3_param_get(t, "X-Amz-Date");
	const s3_param *exp = s3_param_get(t, "X-Amz-Expires");
	const s3_param *sh = s3_param_get(t, "X-Amz-SignedHeaders");
	const s3_param *sig = s3_param_get(t, "X-Amz-Signature");
	const s3_param *csha = s3_param_get(t, "X-Amz-Content-Sha256");
	struct sigparts sp;
	uint64_t expires;
	int64_t ts;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.bad_err = S3E_AUTH_QUERY_PARAMS_ERROR;
	if (!alg || !cred || !date || !exp || !sh || !sig ||
	    !dd_str_eq_c(alg->value, ALGO) || parse_credential(cred->value, &sp.az) ||
	    !dd_str_eq_c(sp.az.service, "s3") || !s3i_is_hex64(sig->value) ||
	    sh->value.len == 0 || !list_has(sh->value, "host") ||
	    s3_time_parse_amz(date->value, &ts) != DD_OK ||
	    memcmp(date->value.p, sp.az.date.p, 8) != 0 ||
	    dd_str_to_u64(exp->value, &expires) != DD_OK ||
	    expires > S3_MAX_PRESIGN_EXPIRES)
		return S3E_AUTH_QUERY_PARAMS_ERROR;
	if (ts > now + S3_MAX_SKEW_SECONDS)
		return S3E_REQUEST_TIME_TOO_SKEWED;
	if (now > ts + (int64_t)expires)
		return S3E_EXPIRED_PRESIGNED;
	sp.az.signed_headers = sh->value;
	sp.az.signature = sig->value;
	sp.amz_date = date->value;
	/* JS puts the payload hash in the query; Go does not (UNSIGNED). */
	sp.payload = csha ? csha->value : DD_STR_LIT("UNSIGNED-PAYLOAD");
	if ((rc = payload_mode(sp.payload, &out->payload)) != S3_OK)
		return rc;
	if (out->payload != S3_PAYLOAD_SHA256 &&
	    out->payload != S3_PAYLOAD_UNSIGNED)
		return S3E_AUTH_QUERY_PARAMS_ERROR;
	if (out->payload == S3_PAYLOAD_SHA256) {
		for (int i = 0; i < 64; i++)
			out->content_sha256[i] = s3i_lower(sp.payload.p[i]);
		out->content_sha256[64] = '\0';
	}
	out->kind = S3_AUTH_PRESIGNED;
	out->time = ts;
	return finish_check(req, t, lookup, lctx, &sp, out);
}

int s3_auth_check(const s3_request *req, const s3_target *t,
		  s3_secret_fn lookup, void *lookup_ctx, int64_t now,
		  s3_auth *out)
{
	dd_str authz;
	int has_hdr, has_query;

	memset(out, 0, sizeof(*out));
	has_hdr = s3_req_header(req, "authorization", &authz);
	has_query = s3_param_get(t, "X-Amz-Signature") != NULL ||
		    s3_param_get(t, "X-Amz-Algorithm") != NULL ||
		    s3_param_get(t, "X-Amz-Credential") != NULL;
	if (has_hdr && has_query)
		return S3E_INVALID_ARGUMENT; /* one mechanism only */
	if (has_hdr)
		return check_header_auth(req, t, authz, lookup, lookup_ctx, now,
					 out);
	if (has_query)
		return check_presigned(req, t, lookup, lookup_ctx, now, out);
	out->kind = S3_AUTH_ANON;
	out->payload = S3_PAYLOAD_NONE;
	return S3_OK;
}

void s3_auth_clear(s3_auth *a)
{
	OPENSSL_cleanse(&a->sig, sizeof(a->sig));
}
