/*
 * s3api/handler_obj.c - object operations: PutObject (streamed into a
 * seg_writer, committed only after s3_body_finish), GetObject/HeadObject
 * (streamed from a seg_reader, Range), DeleteObject, and multipart uploads
 * (parts are keyless writer refs; Complete is a metadata-only concat;
 * checksums and UploadPartCopy are in handler_mpu.c).
 *
 * The attrs blob of an object is text, one "name:value\n" line per
 * response header to return: content-type, content-encoding (without
 * aws-chunked), cache-control, content-disposition, content-language,
 * expires, x-amz-meta-*, and x-amz-checksum-<alg> with x-amz-checksum-type
 * (returned only with x-amz-checksum-mode: ENABLED on a full 200). An
 * upload's blob also has x-amz-checksum-algorithm, never returned.
 */
#include "s3api/handler_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const stored_headers[] = {
	"content-type", "cache-control", "content-disposition",
	"content-language", "expires",
};

int hx_attr_line(dd_buf *b, const char *name, dd_str v)
{
	int rc = dd_buf_append_str(b, name);

	if (rc == DD_OK)
		rc = dd_buf_append(b, ":", 1);
	if (rc == DD_OK && v.len)
		rc = dd_buf_append(b, v.p, v.len);
	if (rc == DD_OK)
		rc = dd_buf_append(b, "\n", 1);
	return rc;
}

/* Builds x->attrs from the request headers. S3 error. */
static int attrs_build(s3_ex *x)
{
	dd_buf meta, ce;
	dd_str v;
	int rc = DD_OK, e;

	for (size_t i = 0; i < DD_ARRAY_LEN(stored_headers) && rc == DD_OK; i++)
		if (s3_req_header(&x->req, stored_headers[i], &v) && v.len &&
		    !memchr(v.p, '\n', v.len))
			rc = hx_attr_line(&x->attrs, stored_headers[i], v);
	dd_buf_init(&ce, 1024);
	if (rc == DD_OK && s3_req_header(&x->req, "content-encoding", &v)) {
		rc = s3_content_encoding_strip(v, &ce);
		if (rc == DD_OK && ce.len)
			rc = hx_attr_line(&x->attrs, "content-encoding",
				       (dd_str){ce.data, ce.len});
	}
	dd_buf_release(&ce);
	if (rc != DD_OK)
		return rc == DD_ETOOBIG ? S3E_INVALID_ARGUMENT : S3E_INTERNAL_ERROR;
	dd_buf_init(&meta, 4096);
	e = s3_meta_collect(&x->req, &meta);
	for (size_t off = 0; e == S3_OK && off < meta.len;) {
		const char *nl = memchr(meta.data + off, '\n', meta.len - off);
		size_t n = nl ? (size_t)(nl - meta.data - off) + 1 : meta.len - off;
		if (dd_buf_append_str(&x->attrs, "x-amz-meta-") != DD_OK ||
		    dd_buf_append(&x->attrs, meta.data + off, n) != DD_OK)
			e = S3E_INVALID_ARGUMENT;
		off += n;
	}
	dd_buf_release(&meta);
	return e;
}

/* Adds "ETag: \"etag\"". dd_rc. */
static int etag_hdr(s3_ex *x, const char *etag)
{
	char q[SEG_ETAG_MAX + 3];

	snprintf(q, sizeof(q), "\"%s\"", etag);
	return hx_hdr_c(x, "ETag", q);
}

/*
 * Echoes the verified checksum (if any) as a response header, and when
 * attrs is non-NULL records it there. dd_rc.
 */
static int cksum_echo(s3_ex *x, dd_buf *attrs)
{
	s3_cksum_value v;
	char b64[S3_CK_B64_MAX];
	int rc = DD_OK;

	for (int alg = S3_CK_CRC32; alg < S3_CK_COUNT; alg++) {
		if (!s3_body_checksum(x->body, alg, &v))
			continue;
		s3_cksum_b64(&v, b64, sizeof(b64));
		rc = hx_hdr_c(x, s3_cksum_header(alg), b64);
		if (rc == DD_OK && attrs)
			rc = hx_attr_line(attrs, s3_cksum_header(alg), dd_str_c(b64));
		/* A single PUT's checksum covers the whole object (AWS). */
		if (rc == DD_OK && attrs)
			rc = hx_hdr_c(x, "x-amz-checksum-type", "FULL_OBJECT");
		if (rc == DD_OK && attrs)
			rc = hx_attr_line(attrs, "x-amz-checksum-type",
					  DD_STR_LIT("FULL_OBJECT"));
		break;
	}
	return rc;
}

/* Hex MD5 of the body (after finish) into out[33]. */
static void body_etag(s3_ex *x, char out[33])
{
	uint8_t md5[16];

	if (!s3_body_md5(x->body, md5))
		memset(md5, 0, sizeof(md5));
	dd_hex_encode(md5, 16, out);
}

static int writer_err(int rc)
{
	return rc == DD_ENOENT ? S3E_NO_SUCH_BUCKET : s3_err_from_rc(rc);
}

/*
 * Refuses from the headers alone a body over S3_MAX_PUT_SIZE
 * (Content-Length or x-amz-decoded-content-length), so nothing is read
 * (with Expect: 100-continue the client sends no body). S3 error.
 */
static int size_check(s3_ex *x)
{
	uint64_t limit = hx_put_limit(x);
	static const char *const names[] = {"content-length",
					    "x-amz-decoded-content-length"};
	uint64_t n;
	dd_str v;

	for (size_t i = 0; i < DD_ARRAY_LEN(names); i++)
		if (s3_req_header(&x->req, names[i], &v) &&
		    dd_str_to_u64(v, &n) == DD_OK && n > limit)
			return S3E_ENTITY_TOO_LARGE;
	return S3_OK;
}

/*
 * S3 conditional writes (PutObject, CompleteMultipartUpload; ceph
 * s3-tests test_put_object_if_match): If-None-Match ("*" or ETags) fails
 * with 412 when it matches the current object; If-Match ("*" or ETags)
 * fails with 412 unless it matches, and with NoSuchKey when there is no
 * object. Checked before the body is read (to refuse early) and, for
 * PutObject, again inside the commit's catalog transaction (put_check);
 * Complete and CopyObject check just before their commit. S3 error.
 */
static int has_write_cond(const s3_ex *x)
{
	dd_str v;

	return s3_req_header(&x->req, "if-match", &v) ||
	       s3_req_header(&x->req, "if-none-match", &v);
}

/* The rules above against cur, the key's object (NULL: none). S3 error. */
static int cond_verdict(s3_ex *x, const seg_stat *cur)
{
	dd_str im;
	s3_cond_obj c = {0, {NULL, 0}, 0};

	if (cur)
		c = (s3_cond_obj){1, dd_str_c(cur->etag), cur->mtime_ns / 1000000000};
	if (!cur && s3_req_header(&x->req, "if-match", &im))
		return S3E_NO_SUCH_KEY;
	return s3_cond_eval(&x->req, "", &c, 0);
}

static int write_cond(s3_ex *x)
{
	seg_stat *st;
	int e, rc;

	if (!has_write_cond(x))
		return S3_OK;
	if (!(st = malloc(sizeof(*st))))
		return S3E_INTERNAL_ERROR;
	rc = seg_stat_object(x->srv->store, x->bucket, x->t.key, st);
	if (rc == DD_OK || rc == DD_ENOENT)
		e = cond_verdict(x, rc == DD_OK ? st : NULL);
	else
		e = s3_err_from_rc(rc);
	free(st);
	return e;
}

/*
 * seg_writer_set_check callback of a conditional PutObject: the verdict
 * again, inside the catalog transaction that puts the object, so two
 * racing If-None-Match: * writers cannot both win. Runs on the commit
 * leader's thread while x's own thread waits in the commit.
 */
static int put_check(void *ctx, const seg_stat *cur)
{
	s3_ex *x = ctx;

	x->cond_err = cond_verdict(x, cur);
	return x->cond_err == S3_OK ? DD_OK : DD_EEXIST;
}

int hx_put_begin(s3_ex *x)
{
	int e = hx_object_access(x), rc;

	if (e == S3_OK)
		e = size_check(x);
	if (e == S3_OK)
		e = write_cond(x);
	if (e == S3_OK)
		e = attrs_build(x);
	if (e == S3_OK) {
		rc = seg_writer_open(x->srv->store, x->bucket, x->t.key, &x->w);
		if (rc == DD_OK)
			rc = seg_writer_set_digests(x->w, 0);
		if (rc != DD_OK)
			e = writer_err(rc);
	}
	if (e == S3_OK)
		e = hx_body_start(x, HX_BODY_WRITER);
	if (e != S3_OK) {
		hx_err(x, e);
		return S3_EX_RESPOND;
	}
	return S3_EX_BODY;
}

void hx_put_end(s3_ex *x)
{
	char etag[33];
	seg_attrs a;
	int rc;

	body_etag(x, etag);
	if (etag_hdr(x, etag) != DD_OK || cksum_echo(x, &x->attrs) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	a.blob = x->attrs.data;
	a.len = x->attrs.len;
	a.etag = etag;
	if (has_write_cond(x))
		seg_writer_set_check(x->w, put_check, x);
	rc = seg_writer_commit(x->w, &a, NULL);
	seg_writer_free(x->w);
	x->w = NULL;
	if (rc != DD_OK && x->cond_err != S3_OK) {
		hx_err(x, x->cond_err);
		return;
	}
	if (rc != DD_OK) {
		hx_err(x, writer_err(rc));
		return;
	}
	hx_empty(x, 200);
}

/* GET/HEAD query parameters that override a stored header (S3). */
static const char *const overrides[][2] = {
	{"response-content-type", "content-type"},
	{"response-content-language", "content-language"},
	{"response-expires", "expires"},
	{"response-cache-control", "cache-control"},
	{"response-content-disposition", "content-disposition"},
	{"response-content-encoding", "content-encoding"},
};

/* The response-* parameter overriding header name, or NULL. */
static const s3_param *override_of(s3_ex *x, const char *name)
{
	for (size_t i = 0; i < DD_ARRAY_LEN(overrides); i++)
		if (strcmp(overrides[i][1], name) == 0)
			return s3_param_get(&x->t, overrides[i][0]);
	return NULL;
}

/*
 * Checks the response-* overrides: a value that would break the header
 * (CR, LF, NUL: they arrive percent-decoded) is InvalidArgument. S3 error.
 */
static int overrides_check(s3_ex *x)
{
	for (size_t i = 0; i < DD_ARRAY_LEN(overrides); i++) {
		const s3_param *p = s3_param_get(&x->t, overrides[i][0]);
		for (size_t k = 0; p && k < p->value.len; k++)
			if (p->value.p[k] == '\r' || p->value.p[k] == '\n' ||
			    p->value.p[k] == '\0')
				return S3E_INVALID_ARGUMENT;
	}
	return S3_OK;
}

/* Adds the response-* overrides as headers (after overrides_check). dd_rc. */
static int override_headers(s3_ex *x)
{
	int rc = DD_OK;

	for (size_t i = 0; i < DD_ARRAY_LEN(overrides) && rc == DD_OK; i++) {
		const s3_param *p = s3_param_get(&x->t, overrides[i][0]);
		if (p)
			rc = hx_hdr(x, overrides[i][1], p->value);
	}
	return rc;
}

/*
 * Adds the stored attrs as response headers, the response-* overrides in
 * place of the stored values they name. dd_rc.
 */
static int attrs_headers(s3_ex *x, const seg_stat *st, int with_cksum)
{
	const char *p = (const char *)st->attrs, *end = p + st->attrs_len;
	int have_ct = override_of(x, "content-type") != NULL, rc = DD_OK;
	char name[128];

	while (p < end && rc == DD_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (!colon || colon > nl || (size_t)(colon - p) >= sizeof(name)) {
			p = nl + 1;
			continue;
		}
		memcpy(name, p, (size_t)(colon - p));
		name[colon - p] = '\0';
		if (strcmp(name, "content-type") == 0)
			have_ct = 1;
		/* The algorithm line is the upload's, not a response header. */
		if (strcmp(name, "x-amz-checksum-algorithm") != 0 &&
		    !override_of(x, name) &&
		    (with_cksum || strncmp(name, "x-amz-checksum-", 15) != 0))
			rc = hx_hdr(x, name, (dd_str){colon + 1,
						      (size_t)(nl - colon - 1)});
		p = nl + 1;
	}
	if (rc == DD_OK && !have_ct)
		rc = hx_hdr_c(x, "Content-Type", "binary/octet-stream");
	if (rc == DD_OK)
		rc = override_headers(x);
	return rc;
}

/* ETag and Last-Modified of st. dd_rc. */
static int validator_headers(s3_ex *x, const seg_stat *st)
{
	char date[64];

	s3_time_rfc1123(st->mtime_ns / 1000000000, date, sizeof(date));
	if (etag_hdr(x, st->etag) != DD_OK)
		return DD_ETOOBIG;
	return hx_hdr_c(x, "Last-Modified", date);
}

/* Range and conditionals; sets x->roff/rend and the status. S3 error. */
static int get_prepare(s3_ex *x, const seg_stat *st, int *status)
{
	s3_cond_obj c = {1, dd_str_c(st->etag), st->mtime_ns / 1000000000};
	s3_range rg;
	char cr[96];
	dd_str h;
	int e, r;

	e = s3_cond_eval(&x->req, "", &c, 1);
	if (e != S3_OK)
		return e;
	x->roff = 0;
	x->rend = st->size;
	*status = 200;
	if (!s3_req_header(&x->req, "range", &h))
		return S3_OK;
	r = s3_range_parse(h, st->size, &rg);
	if (r == -S3E_INVALID_RANGE)
		return S3E_INVALID_RANGE;
	if (r != S3_RANGE_OK)
		return S3_OK;
	x->roff = rg.start;
	x->rend = rg.start + rg.len;
	*status = 206;
	snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
		 (unsigned long long)rg.start,
		 (unsigned long long)(rg.start + rg.len - 1),
		 (unsigned long long)st->size);
	return hx_hdr_c(x, "Content-Range", cr) == DD_OK ? S3_OK :
							   S3E_INTERNAL_ERROR;
}

/* Error response of a GET whose object exists (304, 416 need headers). */
static void get_error(s3_ex *x, int e, const seg_stat *st)
{
	char cr[64];

	hx_err(x, e);
	if (e == S3E_NOT_MODIFIED && validator_headers(x, st) != DD_OK)
		hx_err(x, S3E_INTERNAL_ERROR);
	if (e == S3E_INVALID_RANGE) {
		snprintf(cr, sizeof(cr), "bytes */%llu",
			 (unsigned long long)st->size);
		if (hx_hdr_c(x, "Content-Range", cr) != DD_OK)
			hx_err(x, S3E_INTERNAL_ERROR);
	}
}

void hx_get(s3_ex *x)
{
	const seg_stat *st;
	dd_str mode;
	int e = hx_object_access(x), rc, status = 200, with_cksum;

	if (e == S3_OK) {
		rc = seg_reader_open(x->srv->store, x->bucket, x->t.key, &x->r);
		if (rc != DD_OK)
			e = rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc);
	}
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	st = seg_reader_stat(x->r);
	if ((e = overrides_check(x)) != S3_OK) {
		hx_err(x, e);
		return;
	}
	if ((e = get_prepare(x, st, &status)) != S3_OK) {
		get_error(x, e, st);
		return;
	}
	with_cksum = status == 200 &&
		     s3_req_header(&x->req, "x-amz-checksum-mode", &mode) &&
		     dd_str_casecmp_c(mode, "ENABLED") == 0;
	if (validator_headers(x, st) != DD_OK ||
	    attrs_headers(x, st, with_cksum) != DD_OK ||
	    hx_hdr_c(x, "Accept-Ranges", "bytes") != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	x->resp.status = status;
	x->resp.stream = 1;
	x->resp.stream_len = x->rend - x->roff;
}

int s3_ex_read(s3_ex *x, void *buf, size_t cap, size_t *got)
{
	uint64_t left = x->rend - x->roff;
	int rc;

	*got = 0;
	if (!x->r || left == 0)
		return DD_OK;
	if (cap > left)
		cap = (size_t)left;
	rc = seg_reader_pread(x->r, buf, cap, x->roff, got);
	if (rc != DD_OK)
		return rc;
	if (*got == 0)
		return DD_ECORRUPT; /* shorter than its recorded size */
	x->roff += *got;
	return DD_OK;
}

/*
 * DeleteObject with If-Match ("*" or ETags; S3 conditional deletes, general
 * purpose buckets since 2025): 412 unless the current object matches;
 * NoSuchKey when there is none (AWS: "If the object doesn't exist when
 * evaluating either of the preconditions, S3 ... returns a Not Found";
 * ceph s3-tests' 204 there is RGW's). S3 error.
 */
static int delete_cond(s3_ex *x)
{
	dd_str im;
	seg_stat *st;
	s3_cond_obj c = {0, {NULL, 0}, 0};
	int e = S3_OK, rc;

	if (!s3_req_header(&x->req, "if-match", &im))
		return S3_OK;
	if (!(st = malloc(sizeof(*st))))
		return S3E_INTERNAL_ERROR;
	rc = seg_stat_object(x->srv->store, x->bucket, x->t.key, st);
	if (rc == DD_OK)
		c = (s3_cond_obj){1, dd_str_c(st->etag), st->mtime_ns / 1000000000};
	if (rc == DD_ENOENT)
		e = S3E_NO_SUCH_KEY;
	else if (rc != DD_OK)
		e = s3_err_from_rc(rc);
	else
		e = s3_cond_eval(&x->req, "", &c, 0);
	free(st);
	return e;
}

void hx_delete_object(s3_ex *x)
{
	int e = hx_object_access(x), rc;

	if (e == S3_OK)
		e = delete_cond(x);
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	rc = seg_delete(x->srv->store, x->bucket, x->t.key);
	if (rc != DD_OK && rc != DD_ENOENT) {
		hx_err(x, s3_err_from_rc(rc));
		return;
	}
	hx_empty(x, 204);
}

/* ---------------------------------------------------------- multipart */

int hx_upload_id_get(s3_ex *x)
{
	const s3_param *p = s3_param_get(&x->t, "uploadId");

	if (!p || p->value.len == 0 || p->value.len > SEG_UPLOAD_ID_MAX ||
	    memchr(p->value.p, 0, p->value.len))
		return S3E_NO_SUCH_UPLOAD;
	memcpy(x->upload_id, p->value.p, p->value.len);
	x->upload_id[p->value.len] = '\0';
	return S3_OK;
}

static int upload_err(int rc)
{
	return rc == DD_ENOENT ? S3E_NO_SUCH_UPLOAD : s3_err_from_rc(rc);
}

int hx_create_mpu(s3_ex *x)
{
	uint8_t rnd[HX_UPLOAD_ID_LEN / 2];
	const char *msg = NULL;
	seg_attrs a;
	int e = hx_object_access(x), rc;

	if (e == S3_OK)
		e = attrs_build(x);
	if (e == S3_OK)
		e = hx_mpu_cksum_create(x, &msg);
	if (e == S3_OK && dd_random_bytes(rnd, sizeof(rnd)) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	if (e == S3_OK) {
		dd_hex_encode(rnd, sizeof(rnd), x->upload_id);
		a.blob = x->attrs.data;
		a.len = x->attrs.len;
		a.etag = NULL;
		rc = seg_upload_create(x->srv->store, x->bucket, x->t.key,
				       x->upload_id, &a);
		if (rc != DD_OK)
			e = writer_err(rc);
	}
	if (e == S3_OK &&
	    s3_xml_initiate_mpu(&x->out, dd_str_c(x->bucket), x->t.key,
				dd_str_c(x->upload_id)) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	if (e != S3_OK) {
		hx_err_msg(x, e, msg);
		return S3_EX_RESPOND;
	}
	hx_xml(x, 200);
	return S3_EX_RESPOND;
}

int hx_upload_part_begin(s3_ex *x)
{
	const s3_param *pn = s3_param_get(&x->t, "partNumber");
	const char *msg = NULL;
	hx_upload u;
	uint64_t n = 0;
	int e = hx_object_access(x), rc;

	if (e == S3_OK)
		e = hx_upload_id_get(x);
	if (e == S3_OK)
		e = size_check(x);
	if (e == S3_OK && (!pn || dd_str_to_u64(pn->value, &n) != DD_OK ||
			   n < 1 || n > SEG_PART_MAX))
		e = S3E_INVALID_ARGUMENT;
	if (e == S3_OK)
		e = hx_upload_load(x, &u);
	if (e == S3_OK) {
		x->part = (uint32_t)n;
		rc = seg_writer_open_ref(x->srv->store, x->bucket, &x->w);
		if (rc == DD_OK)
			rc = seg_writer_set_digests(x->w, 0);
		if (rc != DD_OK)
			e = upload_err(rc);
	}
	if (e == S3_OK)
		e = hx_body_start(x, HX_BODY_WRITER);
	if (e == S3_OK)
		e = hx_part_cksum_check(x, &u, &msg);
	if (e != S3_OK) {
		hx_err_msg(x, e, msg);
		return S3_EX_RESPOND;
	}
	return S3_EX_BODY;
}

/*
 * The part's verified checksum (if the client sent one) as the blob the
 * store keeps with the part: one algorithm byte, then the raw digest.
 * Returns the blob length (0: none).
 */
static size_t part_cksum_blob(s3_ex *x, uint8_t out[1 + S3_CK_MAX_LEN])
{
	s3_cksum_value v;

	for (int alg = S3_CK_CRC32; alg < S3_CK_COUNT; alg++) {
		if (!s3_body_checksum(x->body, alg, &v) || v.len > S3_CK_MAX_LEN)
			continue;
		out[0] = (uint8_t)alg;
		memcpy(out + 1, v.digest, v.len);
		return 1 + v.len;
	}
	return 0;
}

void hx_upload_part_end(s3_ex *x)
{
	char etag[33];
	uint8_t ck[1 + S3_CK_MAX_LEN];
	size_t cklen = part_cksum_blob(x, ck);
	seg_ref ref;
	int rc;

	body_etag(x, etag);
	rc = seg_writer_commit_ref(x->w, &ref);
	seg_writer_free(x->w);
	x->w = NULL;
	/* The part's MD5 is what Complete combines into the ETag. */
	if (rc == DD_OK)
		rc = s3_body_md5(x->body, ref.md5) ? DD_OK : DD_EINTERNAL;
	if (rc == DD_OK)
		rc = seg_upload_put_part(x->srv->store, x->bucket, x->t.key,
					 x->upload_id, x->part, &ref, etag,
					 ck, cklen);
	if (rc != DD_OK) {
		hx_err(x, upload_err(rc));
		return;
	}
	if (etag_hdr(x, etag) != DD_OK || cksum_echo(x, NULL) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	hx_empty(x, 200);
}

/*
 * A copy of the request without its x-amz-checksum-* headers, in the
 * arena: on Complete they describe the object (checked against the
 * parts), not the XML body. NULL when out of memory.
 */
static s3_request *req_without_cksum(s3_ex *x)
{
	s3_request *r = dd_arena_alloc(x->arena, sizeof(*r));
	s3_header *h = dd_arena_alloc(x->arena, (x->req.nheaders + 1) *
						sizeof(*h));

	if (!r || !h)
		return NULL;
	*r = x->req;
	r->headers = h;
	r->nheaders = 0;
	for (size_t i = 0; i < x->req.nheaders; i++) {
		dd_str n = x->req.headers[i].name;
		if (n.len > 15 && dd_str_casecmp_c((dd_str){n.p, 15},
						   "x-amz-checksum-") == 0 &&
		    dd_str_casecmp_c(n, "x-amz-checksum-type") != 0)
			continue;
		h[r->nheaders++] = x->req.headers[i];
	}
	return r;
}

int hx_complete_begin(s3_ex *x)
{
	s3_request *fr = NULL;
	int e = hx_object_access(x);

	if (e == S3_OK)
		e = hx_upload_id_get(x);
	if (e == S3_OK)
		e = write_cond(x);
	if (e == S3_OK && !(fr = req_without_cksum(x)))
		e = S3E_INTERNAL_ERROR;
	if (e == S3_OK)
		e = s3_body_new(fr, &x->auth, &x->body);
	if (e != S3_OK) {
		hx_err(x, e);
		return S3_EX_RESPOND;
	}
	x->body_kind = HX_BODY_BUFFER;
	return S3_EX_BODY;
}

static int part_collect(void *ctx, const seg_part_info *p)
{
	hx_part_row *rows = ctx, *r;

	if (p->number < 1 || p->number > SEG_PART_MAX)
		return DD_ECORRUPT;
	r = &rows[p->number];
	r->present = 1;
	r->size = p->ref.size;
	memcpy(r->md5, p->ref.md5, 16);
	snprintf(r->etag, sizeof(r->etag), "%s", p->etag);
	r->cksum_len = DD_MIN(p->cksum_len, (uint32_t)sizeof(r->cksum));
	memcpy(r->cksum, p->cksum, r->cksum_len);
	return 0;
}

/* Checks the client's part list against the recorded parts. S3 error. */
static int complete_check(const s3_complete *c, const hx_part_row *rows,
			  uint32_t *numbers, uint8_t *md5s)
{
	for (size_t i = 0; i < c->nparts; i++) {
		const s3_complete_part *cp = &c->parts[i];
		const hx_part_row *r;

		if (cp->number < 1 || cp->number > SEG_PART_MAX)
			return S3E_INVALID_PART;
		r = &rows[cp->number];
		if (!r->present || strcasecmp(r->etag, cp->etag) != 0)
			return S3E_INVALID_PART;
		if (i + 1 < c->nparts && r->size < S3_MIN_PART_SIZE)
			return S3E_ENTITY_TOO_SMALL;
		numbers[i] = cp->number;
		memcpy(md5s + 16 * i, r->md5, 16);
	}
	return c->nparts ? S3_OK : S3E_MALFORMED_XML;
}

void hx_complete_end(s3_ex *x)
{
	hx_part_row *rows = calloc(SEG_PART_MAX + 1, sizeof(*rows));
	s3_complete c = {NULL, 0};
	uint32_t *numbers = NULL;
	uint8_t *md5s = NULL;
	const char *ck_text = NULL, *msg = NULL;
	char etag[48], *loc = NULL;
	dd_buf fattrs;
	seg_attrs a;
	hx_upload u;
	int e, rc;

	dd_buf_init(&fattrs, SEG_ATTRS_MAX);
	e = s3_xml_parse_complete(x->in.data ? x->in.data : "", x->in.len, &c);
	if (e == S3_OK) {
		numbers = malloc(c.nparts * sizeof(*numbers) + 1);
		md5s = malloc(c.nparts * 16 + 1);
		loc = dd_arena_alloc(x->arena, x->t.path.len + 2);
		if (!rows || !numbers || !md5s || !loc)
			e = S3E_INTERNAL_ERROR;
	}
	if (e == S3_OK)
		e = hx_upload_load(x, &u);
	if (e == S3_OK) {
		rc = seg_upload_list_parts(x->srv->store, x->bucket, x->t.key,
					   x->upload_id, 0, part_collect, rows);
		if (rc != DD_OK)
			e = upload_err(rc);
	}
	if (e == S3_OK)
		e = complete_check(&c, rows, numbers, md5s);
	if (e == S3_OK)
		e = hx_complete_cksum(x, &u, &c, rows, &fattrs, &ck_text, &msg);
	if (e == S3_OK && s3_multipart_etag(md5s, c.nparts, etag,
					    sizeof(etag)) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	if (e == S3_OK)
		e = write_cond(x);
	if (e == S3_OK) {
		a.blob = fattrs.data;
		a.len = fattrs.len;
		a.etag = NULL;
		rc = seg_upload_complete_attrs(x->srv->store, x->bucket,
					       x->t.key, x->upload_id, numbers,
					       c.nparts, ck_text ? &a : NULL,
					       etag, NULL);
		if (rc != DD_OK)
			e = rc == DD_EINVAL ? S3E_INVALID_PART : upload_err(rc);
	}
	if (e == S3_OK) {
		memcpy(loc, x->t.path.p, x->t.path.len);
		loc[x->t.path.len] = '\0';
		if (s3_xml_complete_mpu(&x->out, dd_str_c(loc),
					dd_str_c(x->bucket), x->t.key,
					dd_str_c(etag), ck_text,
					ck_text ? u.alg : S3_CK_NONE,
					u.type) != DD_OK)
			e = S3E_INTERNAL_ERROR;
	}
	s3_complete_release(&c);
	dd_buf_release(&fattrs);
	free(numbers);
	free(md5s);
	free(rows);
	if (e != S3_OK) {
		hx_err_msg(x, e, msg);
		return;
	}
	hx_xml(x, 200);
}

void hx_abort_mpu(s3_ex *x)
{
	int e = hx_object_access(x), rc;

	if (e == S3_OK)
		e = hx_upload_id_get(x);
	if (e == S3_OK) {
		rc = seg_upload_abort(x->srv->store, x->bucket, x->t.key,
				      x->upload_id);
		if (rc != DD_OK)
			e = upload_err(rc);
	}
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	hx_empty(x, 204);
}

/* ListParts rows collected from the store (at most max + 1). */
struct parts_rows {
	s3_ex *x;
	s3_xml_part *parts;
	size_t n, max;
};

static int parts_row(void *ctx, const seg_part_info *p)
{
	struct parts_rows *l = ctx;
	s3_xml_part *r;
	char *etag;

	if (l->n == l->max + 1)
		return -1; /* enough: stop (not a dd_rc) */
	r = &l->parts[l->n];
	etag = dd_arena_strndup(l->x->arena, p->etag, strlen(p->etag));
	if (!etag)
		return DD_ENOMEM;
	memset(r, 0, sizeof(*r));
	r->number = p->number;
	r->mtime_ms = p->mtime_ns / 1000000;
	r->etag = dd_str_c(etag);
	r->size = p->ref.size;
	/* Blob from part_cksum_blob: algorithm byte + digest. */
	if (p->cksum_len > 1 && p->cksum[0] > S3_CK_NONE &&
	    p->cksum[0] < S3_CK_COUNT &&
	    p->cksum_len - 1 == s3_cksum_len(p->cksum[0])) {
		r->cksum.alg = p->cksum[0];
		r->cksum.len = p->cksum_len - 1;
		memcpy(r->cksum.digest, p->cksum + 1, r->cksum.len);
	}
	l->n++;
	return 0;
}

/* A paging number parameter (absent: dflt). S3 error. */
static int num_param(s3_ex *x, const char *name, uint64_t dflt, uint64_t *out)
{
	const s3_param *p = s3_param_get(&x->t, name);

	*out = dflt;
	if (p && dd_str_to_u64(p->value, out) != DD_OK)
		return S3E_INVALID_ARGUMENT;
	return S3_OK;
}

/* ListParts: max-parts (default and cap 1000), part-number-marker. */
void hx_list_parts(s3_ex *x)
{
	struct parts_rows l = {x, NULL, 0, 0};
	s3_xml_parts_list xl;
	uint64_t max = 0, marker = 0;
	hx_upload u = {NULL, S3_CK_NONE, S3_CKT_NONE};
	int e = hx_object_access(x), rc;

	if (e == S3_OK)
		e = hx_upload_id_get(x);
	if (e == S3_OK)
		e = hx_upload_load(x, &u);
	if (e == S3_OK)
		e = num_param(x, "max-parts", S3_MAX_LIST_KEYS, &max);
	if (e == S3_OK)
		e = num_param(x, "part-number-marker", 0, &marker);
	if (e == S3_OK && marker > SEG_PART_MAX)
		e = S3E_INVALID_ARGUMENT;
	l.max = DD_MIN(max, (uint64_t)S3_MAX_LIST_KEYS);
	if (e == S3_OK &&
	    !(l.parts = dd_arena_alloc(x->arena, (l.max + 1) * sizeof(*l.parts))))
		e = S3E_INTERNAL_ERROR;
	if (e == S3_OK) {
		rc = seg_upload_list_parts(x->srv->store, x->bucket, x->t.key,
					   x->upload_id, (uint32_t)marker,
					   parts_row, &l);
		if (rc != DD_OK && rc != -1)
			e = upload_err(rc);
	}
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	memset(&xl, 0, sizeof(xl));
	xl.bucket = dd_str_c(x->bucket);
	xl.key = x->t.key;
	xl.upload_id = dd_str_c(x->upload_id);
	xl.part_marker = (uint32_t)marker;
	xl.max_parts = (uint32_t)l.max;
	xl.truncated = l.n > l.max;
	xl.nparts = xl.truncated ? l.max : l.n;
	xl.parts = l.parts;
	xl.next_part_marker = xl.nparts ? l.parts[xl.nparts - 1].number : 0;
	xl.owner.id = dd_str_c(x->user.name);
	xl.owner.display_name = dd_str_c(x->user.name);
	xl.cksum_alg = u.alg;
	xl.cksum_type = u.type;
	if (s3_xml_list_parts(&x->out, &xl) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	hx_xml(x, 200);
}

/* ------------------------------------------------- copy, batch delete */

/*
 * Appends the source's stored checksum lines (x-amz-checksum-<alg> and
 * -type) to x->attrs: a copy with REPLACE metadata has the same bytes, so
 * it keeps their checksum (S3 gives every copy one). dd_rc.
 */
static int copy_cksum_lines(s3_ex *x, const seg_stat *st)
{
	const char *p = (const char *)st->attrs, *end = p + st->attrs_len;
	int rc = DD_OK;

	while (p < end && rc == DD_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (n > 15 && strncmp(p, "x-amz-checksum-", 15) == 0 &&
		    strncmp(p, "x-amz-checksum-algorithm:", 25) != 0)
			rc = dd_buf_append(&x->attrs, p, n);
		p += n;
	}
	return rc;
}

/* CopyObject: a metadata-only clone in the store (no data is copied). */
void hx_copy_object(s3_ex *x)
{
	char sbucket[SEG_NAME_MAX + 1];
	seg_stat *st = malloc(sizeof(*st)), *dst = malloc(sizeof(*dst));
	dd_str src_b = {NULL, 0}, src_k = {NULL, 0}, hdr;
	s3_cond_obj c;
	seg_attrs a;
	int e = st && dst ? hx_object_access(x) : S3E_INTERNAL_ERROR;
	int replace = 0, rc;

	if (e == S3_OK && !s3_req_header(&x->req, "x-amz-copy-source", &hdr))
		e = S3E_INVALID_ARGUMENT;
	if (e == S3_OK)
		e = s3_copy_source_parse(x->arena, hdr, &src_b, &src_k);
	if (e == S3_OK)
		e = s3_metadata_directive(&x->req, &replace);
	if (e == S3_OK)
		e = hx_unit_access(x, src_b, sbucket);
	if (e == S3_OK && (src_k.len > SEG_KEY_MAX || s3_key_check(src_k) != S3_OK))
		e = S3E_NO_SUCH_KEY;
	if (e == S3_OK) {
		rc = seg_stat_object(x->srv->store, sbucket, src_k, st);
		if (rc != DD_OK)
			e = rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc);
	}
	if (e == S3_OK) {
		c = (s3_cond_obj){1, dd_str_c(st->etag), st->mtime_ns / 1000000000};
		e = s3_cond_eval(&x->req, "x-amz-copy-source-", &c, 0);
	}
	/* S3 refuses copying an object onto itself without a change. */
	if (e == S3_OK && !replace && strcmp(sbucket, x->bucket) == 0 &&
	    dd_str_eq(src_k, x->t.key))
		e = S3E_INVALID_REQUEST;
	if (e == S3_OK && replace)
		e = attrs_build(x);
	if (e == S3_OK && replace && copy_cksum_lines(x, st) != DD_OK)
		e = S3E_INVALID_ARGUMENT; /* attrs over SEG_ATTRS_MAX */
	/* Destination If-Match / If-None-Match (S3 CopyObject). */
	if (e == S3_OK)
		e = write_cond(x);
	if (e == S3_OK) {
		a.blob = x->attrs.data;
		a.len = x->attrs.len;
		a.etag = st->etag;
		rc = seg_clone(x->srv->store, sbucket, src_k, x->bucket, x->t.key,
			       replace ? &a : NULL, dst);
		if (rc != DD_OK)
			e = rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc);
	}
	if (e == S3_OK &&
	    s3_xml_copy_result(&x->out, 0, dd_str_c(dst->etag),
			       dst->mtime_ns / 1000000, NULL) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	free(st);
	free(dst);
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	hx_xml(x, 200);
}

int hx_delete_objects_begin(s3_ex *x)
{
	int e = hx_bucket_access(x);

	if (e == S3_OK)
		e = hx_body_start(x, HX_BODY_BUFFER);
	if (e != S3_OK) {
		hx_err(x, e);
		return S3_EX_RESPOND;
	}
	return S3_EX_BODY;
}

/*
 * A DeleteObjects <Object> with an <ETag> (S3 conditional deletes): the
 * object must exist (NoSuchKey) and match ("*" or the ETag, quoted or not;
 * PreconditionFailed). S3 error.
 */
static int delete_etag_check(s3_ex *x, dd_str key, const char *etag)
{
	s3_header h = {DD_STR_LIT("if-match"), dd_str_c(etag)};
	s3_request r = {x->req.method, x->req.target, &h, 1};
	seg_stat *st = malloc(sizeof(*st));
	s3_cond_obj c;
	int e, rc;

	if (!st)
		return S3E_INTERNAL_ERROR;
	rc = seg_stat_object(x->srv->store, x->bucket, key, st);
	if (rc == DD_OK) {
		c = (s3_cond_obj){1, dd_str_c(st->etag), st->mtime_ns / 1000000000};
		e = s3_cond_eval(&r, "", &c, 0);
	} else {
		e = rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc);
	}
	free(st);
	return e;
}

void hx_delete_objects_end(s3_ex *x)
{
	s3_delete_req d = {0, NULL, NULL, NULL, 0};
	s3_xml_deleted *res = NULL;
	int e, rc;

	e = s3_xml_parse_delete(x->in.data ? x->in.data : "", x->in.len, &d);
	if (e == S3_OK && !(res = calloc(d.nkeys, sizeof(*res))))
		e = S3E_INTERNAL_ERROR;
	for (size_t i = 0; e == S3_OK && i < d.nkeys; i++) {
		dd_str k = dd_str_c(d.keys[i]);
		res[i].key = k;
		res[i].err = k.len > SEG_KEY_MAX ? S3E_KEY_TOO_LONG : s3_key_check(k);
		if (res[i].err == S3_OK && d.bad_version[i])
			res[i].err = S3E_NO_SUCH_VERSION;
		if (res[i].err == S3_OK && d.etags[i])
			res[i].err = delete_etag_check(x, k, d.etags[i]);
		if (res[i].err != S3_OK)
			continue;
		rc = seg_delete(x->srv->store, x->bucket, k);
		if (rc != DD_OK && rc != DD_ENOENT)
			res[i].err = s3_err_from_rc(rc);
	}
	if (e == S3_OK &&
	    s3_xml_delete_result(&x->out, d.quiet, res, d.nkeys) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	free(res);
	s3_delete_req_release(&d);
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	hx_xml(x, 200);
}
