/*
 * s3api/handler_mpu.c - multipart pieces beyond the basic upload path
 * (handler_obj.c): the upload's checksum algorithm and type
 * (x-amz-checksum-algorithm / x-amz-checksum-type of CreateMultipartUpload)
 * as UploadPart, CompleteMultipartUpload and ListParts apply them, and
 * UploadPartCopy, a part made from an extent of an existing object without
 * copying its data (seg_ref_extent).
 *
 * An upload's checksum settings live in its attrs blob as two lines,
 * "x-amz-checksum-algorithm:CRC32" and "x-amz-checksum-type:COMPOSITE";
 * Complete replaces them in the object's attrs by the object checksum
 * ("x-amz-checksum-crc32:<b64>-N") and its type, which GET/HEAD return
 * with x-amz-checksum-mode: ENABLED on full 200 responses.
 */
#include "s3api/handler_int.h"
#include "s3api/s3_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define COPY_BUF (1u << 20) /* read piece of UploadPartCopy's digests */

/* Finds line name in an attrs blob; 1 and *v (borrowed) when present. */
static int attr_get(const uint8_t *blob, size_t len, const char *name,
		    dd_str *v)
{
	const char *p = (const char *)blob, *end = p + len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' &&
		    memcmp(p, name, nl) == 0) {
			*v = (dd_str){p + nl + 1, (size_t)(eol - p - nl - 1)};
			return 1;
		}
		if (eol == end)
			break;
		p = eol + 1;
	}
	return 0;
}

/* "crc32" for S3_CK_CRC32 (AWS's messages use lower case), in the arena. */
static const char *alg_lower(s3_ex *x, int alg)
{
	const char *n = s3_cksum_name(alg);
	size_t len = strlen(n);
	char *s = dd_arena_alloc(x->arena, len + 1);

	if (!s)
		return "";
	for (size_t i = 0; i <= len; i++)
		s[i] = s3i_lower(n[i]);
	return s;
}

/* printf into the arena (error messages); "" when out of memory. */
static const char *arena_printf(s3_ex *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *arena_printf(s3_ex *x, const char *fmt, ...)
{
	char *s = dd_arena_alloc(x->arena, 256);
	va_list ap;

	if (!s)
		return "";
	va_start(ap, fmt);
	vsnprintf(s, 256, fmt, ap);
	va_end(ap);
	return s;
}

int hx_upload_load(s3_ex *x, hx_upload *u)
{
	dd_str v;
	int rc;

	u->alg = S3_CK_NONE;
	u->type = S3_CKT_NONE;
	u->st = dd_arena_alloc(x->arena, sizeof(*u->st));
	if (!u->st)
		return S3E_INTERNAL_ERROR;
	rc = seg_upload_stat(x->srv->store, x->bucket, x->t.key, x->upload_id,
			     u->st);
	if (rc != DD_OK)
		return rc == DD_ENOENT || rc == DD_EINVAL ? S3E_NO_SUCH_UPLOAD
							  : s3_err_from_rc(rc);
	if (!attr_get(u->st->attrs, u->st->attrs_len,
		      "x-amz-checksum-algorithm", &v))
		return S3_OK;
	u->alg = s3_cksum_alg_parse(v);
	if (u->alg == S3_CK_NONE)
		return S3_OK;
	u->type = S3_CKT_NONE;
	if (attr_get(u->st->attrs, u->st->attrs_len, "x-amz-checksum-type", &v))
		u->type = s3_cksum_type_parse(v);
	if (u->type == S3_CKT_NONE) /* recorded before types were */
		u->type = s3_cksum_mpu_type(u->alg, S3_CKT_NONE);
	return S3_OK;
}

int hx_mpu_cksum_create(s3_ex *x, const char **msg)
{
	dd_str av = {NULL, 0}, tv = {NULL, 0};
	int has_alg, has_type, alg, want = S3_CKT_NONE, type;

	/* An empty algorithm means none (Velero #9804). */
	has_alg = s3_req_header(&x->req, "x-amz-checksum-algorithm", &av) &&
		  s3i_trim(av).len;
	has_type = s3_req_header(&x->req, "x-amz-checksum-type", &tv) &&
		   s3i_trim(tv).len;
	if (has_type) {
		if (!has_alg) {
			*msg = "The x-amz-checksum-type header can only be used "
			       "with the x-amz-checksum-algorithm header.";
			return S3E_INVALID_REQUEST;
		}
		if ((want = s3_cksum_type_parse(s3i_trim(tv))) == S3_CKT_NONE) {
			*msg = "Value for x-amz-checksum-type header is invalid.";
			return S3E_INVALID_REQUEST;
		}
	}
	if (!has_alg)
		return S3_OK;
	if ((alg = s3_cksum_alg_parse(s3i_trim(av))) == S3_CK_NONE)
		return S3E_INVALID_ARGUMENT;
	if ((type = s3_cksum_mpu_type(alg, want)) == S3_CKT_NONE) {
		*msg = arena_printf(x, "The %s checksum type cannot be used "
				    "with the %s checksum algorithm.",
				    s3_cksum_type_name(want),
				    alg_lower(x, alg));
		return S3E_INVALID_REQUEST;
	}
	if (hx_attr_line(&x->attrs, "x-amz-checksum-algorithm",
			 dd_str_c(s3_cksum_name(alg))) != DD_OK ||
	    hx_attr_line(&x->attrs, "x-amz-checksum-type",
			 dd_str_c(s3_cksum_type_name(type))) != DD_OK ||
	    hx_hdr_c(x, "x-amz-checksum-algorithm", s3_cksum_name(alg)) != DD_OK ||
	    hx_hdr_c(x, "x-amz-checksum-type", s3_cksum_type_name(type)) != DD_OK)
		return S3E_INTERNAL_ERROR;
	return S3_OK;
}

/* The checksum the client declares for the body (header or trailer). */
static int client_cksum_alg(s3_ex *x)
{
	s3_cksum_value v;
	dd_str t;

	if (s3_cksum_from_headers(&x->req, &v) == S3_OK && v.alg != S3_CK_NONE)
		return v.alg;
	if (s3_req_header(&x->req, "x-amz-trailer", &t)) {
		t = s3i_trim(t);
		for (int a = S3_CK_CRC32; a < S3_CK_COUNT; a++)
			if (s3i_caseeq(t, dd_str_c(s3_cksum_header(a))))
				return a;
	}
	return S3_CK_NONE;
}

int hx_part_cksum_check(s3_ex *x, const hx_upload *u, const char **msg)
{
	int ca = client_cksum_alg(x);

	/*
	 * An upload without an algorithm takes parts with any checksum
	 * (verified, kept, listed); AWS refuses them, but nothing is lost by
	 * accepting and SDKs that add one by default keep working.
	 */
	if (u->alg == S3_CK_NONE || ca == u->alg)
		return S3_OK;
	if (ca != S3_CK_NONE || u->type == S3_CKT_COMPOSITE) {
		*msg = arena_printf(x, "Checksum Type mismatch occurred, expected "
				    "checksum Type: %s, actual checksum Type: %s",
				    alg_lower(x, u->alg),
				    ca ? alg_lower(x, ca) : "null");
		return S3E_INVALID_REQUEST;
	}
	/* FULL_OBJECT: the part's CRC is computed here. */
	return s3_body_want(x->body, u->alg) == DD_OK ? S3_OK
						       : S3E_INTERNAL_ERROR;
}

/* The final object's attrs: the upload's, checksum lines replaced. dd_rc. */
static int final_attrs(const hx_upload *u, const char *text, dd_buf *out)
{
	const char *p = (const char *)u->st->attrs;
	const char *end = p + u->st->attrs_len;
	int rc = DD_OK;

	dd_buf_reset(out);
	while (p < end && rc == DD_OK) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
		if (!dd_str_starts_with((dd_str){p, n}, "x-amz-checksum-"))
			rc = dd_buf_append(out, p, n);
		p += n;
	}
	if (rc == DD_OK)
		rc = hx_attr_line(out, s3_cksum_header(u->alg), dd_str_c(text));
	if (rc == DD_OK)
		rc = hx_attr_line(out, "x-amz-checksum-type",
				  dd_str_c(s3_cksum_type_name(u->type)));
	return rc;
}

/* The object checksum text of the parts' digests (arena). S3 error. */
static int object_cksum(s3_ex *x, const hx_upload *u, const uint8_t *dig,
			const uint64_t *sizes, size_t n, const char **text)
{
	char *t = dd_arena_alloc(x->arena, S3_CK_B64_MAX + 16);
	s3_cksum_value v;

	if (!t)
		return S3E_INTERNAL_ERROR;
	if (u->type == S3_CKT_COMPOSITE) {
		if (s3_cksum_composite(u->alg, dig, n, t, S3_CK_B64_MAX + 16) !=
		    DD_OK)
			return S3E_INTERNAL_ERROR;
	} else {
		if (s3_cksum_full_object(u->alg, dig, sizes, n, &v) != DD_OK)
			return S3E_INTERNAL_ERROR;
		s3_cksum_b64(&v, t, S3_CK_B64_MAX + 16);
	}
	*text = t;
	return S3_OK;
}

/*
 * Complete's own x-amz-checksum-type and x-amz-checksum-<alg> headers:
 * what the client expects the object to get. BadDigest when it differs.
 */
static int complete_expect(s3_ex *x, const hx_upload *u, const char *text,
			   const char **msg)
{
	dd_str v;

	if (s3_req_header(&x->req, "x-amz-checksum-type", &v) &&
	    s3_cksum_type_parse(s3i_trim(v)) != u->type) {
		*msg = "The checksum type does not match the one of "
		       "CreateMultipartUpload.";
		return S3E_BAD_DIGEST;
	}
	for (int a = S3_CK_CRC32; a < S3_CK_COUNT; a++) {
		if (!s3_req_header(&x->req, s3_cksum_header(a), &v))
			continue;
		if (a != u->alg || !text || !dd_str_eq_c(s3i_trim(v), text)) {
			*msg = "The checksum of the object does not match the "
			       "one given.";
			return S3E_BAD_DIGEST;
		}
	}
	return S3_OK;
}

int hx_complete_cksum(s3_ex *x, const hx_upload *u, const s3_complete *c,
		      const hx_part_row *rows, dd_buf *attrs,
		      const char **text, const char **msg)
{
	size_t len = s3_cksum_len(u->alg), n = c->nparts;
	uint8_t *dig = NULL;
	uint64_t *sizes = NULL;
	int e = S3_OK;

	*text = NULL;
	if (u->alg == S3_CK_NONE)
		return complete_expect(x, u, NULL, msg);
	dig = malloc(n * len + 1);
	sizes = malloc(n * sizeof(*sizes) + 1);
	if (!dig || !sizes)
		e = S3E_INTERNAL_ERROR;
	for (size_t i = 0; e == S3_OK && i < n; i++) {
		const s3_complete_part *cp = &c->parts[i];
		const hx_part_row *r = &rows[cp->number];
		const s3_cksum_value *sent = &cp->cksum[u->alg];

		/* With checksums, AWS wants parts 1..N, all of them. */
		if (cp->number != i + 1) {
			*msg = "With a checksum algorithm the part numbers "
			       "must start at 1 and be consecutive.";
			e = S3E_INVALID_PART_ORDER;
		} else if (r->cksum_len != 1 + len || r->cksum[0] != u->alg) {
			e = S3E_INVALID_PART; /* recorded without one */
		} else if (sent->alg == u->alg) {
			if (sent->len != len ||
			    memcmp(sent->digest, r->cksum + 1, len) != 0)
				e = S3E_INVALID_PART;
		} else if (u->type == S3_CKT_COMPOSITE) {
			*msg = arena_printf(x, "The upload was created using a %s "
					    "checksum. The complete request must "
					    "include the checksum for each part. It "
					    "was missing for part %u in the request.",
					    alg_lower(x, u->alg), cp->number);
			e = S3E_INVALID_REQUEST;
		}
		if (e == S3_OK) {
			memcpy(dig + i * len, r->cksum + 1, len);
			sizes[i] = r->size;
		}
	}
	if (e == S3_OK)
		e = object_cksum(x, u, dig, sizes, n, text);
	if (e == S3_OK)
		e = complete_expect(x, u, *text, msg);
	if (e == S3_OK && final_attrs(u, *text, attrs) != DD_OK)
		e = S3E_INTERNAL_ERROR; /* the upload's attrs fit, so do these */
	free(dig);
	free(sizes);
	if (e != S3_OK)
		*text = NULL;
	return e;
}

/* ----------------------------------------------------- UploadPartCopy */

/* The source range: x-amz-copy-source-range or the whole object. */
static int copy_range(s3_ex *x, uint64_t size, s3_range *rg)
{
	dd_str h;

	if (!s3_req_header(&x->req, "x-amz-copy-source-range", &h)) {
		rg->start = 0;
		rg->len = size;
		return S3_OK;
	}
	return s3_copy_range_parse(h, size, rg);
}

/*
 * UploadPartCopy reads the copied range for the part's MD5 (its ETag) and
 * the upload's checksum: up to 5 GiB. The read runs as a series of steps
 * of PCOPY_STEP bytes (s3_ex_step), each its own worker job, so one copy
 * never holds a worker for long while other requests wait (DESIGN.md 5).
 */
#define PCOPY_STEP (16u << 20)

struct hx_pcopy {
	seg_reader *r;
	s3_range rg;
	uint64_t off;          /* next byte to read */
	hx_upload u;
	EVP_MD_CTX *md5;
	s3_cksum ck;
	int have_ck;
	uint8_t *buf;          /* COPY_BUF */
};

void hx_pcopy_free(s3_ex *x)
{
	struct hx_pcopy *pc = x->pc;

	if (!pc)
		return;
	x->pc = NULL;
	seg_reader_free(pc->r);
	EVP_MD_CTX_free(pc->md5);
	if (pc->have_ck)
		s3_cksum_release(&pc->ck);
	free(pc->buf);
	free(pc);
}

/* Sets up the digests of pc (alg: the upload's checksum or NONE). dd_rc. */
static int pcopy_digest_init(struct hx_pcopy *pc, int alg)
{
	int rc;

	if (!(pc->md5 = EVP_MD_CTX_new()) || !(pc->buf = malloc(COPY_BUF)) ||
	    EVP_DigestInit_ex(pc->md5, EVP_md5(), NULL) != 1)
		return DD_ENOMEM;
	if (alg == S3_CK_NONE)
		return DD_OK;
	if ((rc = s3_cksum_init(&pc->ck, alg)) != DD_OK)
		return rc;
	pc->have_ck = 1;
	return DD_OK;
}

/* Digests the next PCOPY_STEP bytes at most. dd_rc. */
static int pcopy_digest_step(struct hx_pcopy *pc)
{
	uint64_t end = pc->rg.start + pc->rg.len;
	uint64_t stop = DD_MIN(end, pc->off + PCOPY_STEP);
	int rc = DD_OK;

	while (rc == DD_OK && pc->off < stop) {
		size_t want = (size_t)DD_MIN((uint64_t)COPY_BUF, stop - pc->off), got;

		if ((rc = seg_reader_pread(pc->r, pc->buf, want, pc->off, &got)) != DD_OK)
			break;
		if (got != want)
			return DD_ECORRUPT;
		if (EVP_DigestUpdate(pc->md5, pc->buf, got) != 1)
			return DD_EINTERNAL;
		if (pc->have_ck)
			s3_cksum_update(&pc->ck, pc->buf, got);
		pc->off += got;
	}
	return rc;
}

/* The final digests: md5 and, with a checksum, *ck. dd_rc. */
static int pcopy_digest_final(struct hx_pcopy *pc, uint8_t md5[16],
			      s3_cksum_value *ck)
{
	unsigned int ml = 0;

	memset(ck, 0, sizeof(*ck));
	if (EVP_DigestFinal_ex(pc->md5, md5, &ml) != 1 || ml != 16)
		return DD_EINTERNAL;
	if (pc->have_ck) {
		ck->alg = pc->u.alg;
		ck->len = s3_cksum_final(&pc->ck, ck->digest);
	}
	return DD_OK;
}

/* Opens the copy source (access, key, existence, x-amz-copy-source-if-*). */
static int copy_source_open(s3_ex *x, seg_reader **r)
{
	char sbucket[SEG_NAME_MAX + 1];
	dd_str b = {NULL, 0}, k = {NULL, 0}, hdr;
	const seg_stat *st;
	s3_cond_obj c;
	int e, rc;

	if (!s3_req_header(&x->req, "x-amz-copy-source", &hdr))
		return S3E_INVALID_ARGUMENT;
	if ((e = s3_copy_source_parse(x->arena, hdr, &b, &k)) != S3_OK ||
	    (e = hx_unit_access(x, b, sbucket)) != S3_OK)
		return e;
	if (k.len > SEG_KEY_MAX || s3_key_check(k) != S3_OK)
		return S3E_NO_SUCH_KEY;
	rc = seg_reader_open(x->srv->store, sbucket, k, r);
	if (rc != DD_OK)
		return rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc);
	st = seg_reader_stat(*r);
	c = (s3_cond_obj){1, dd_str_c(st->etag), st->mtime_ns / 1000000000};
	return s3_cond_eval(&x->req, "x-amz-copy-source-", &c, 0);
}

/* Records the part made of rg of r. S3 error. */
static int copy_put_part(s3_ex *x, seg_reader *r, const s3_range *rg,
			 const uint8_t md5[16], const s3_cksum_value *ck,
			 char etag[33])
{
	uint8_t blob[1 + S3_CK_MAX_LEN];
	size_t bl = 0;
	seg_ref ref;
	int rc;

	rc = seg_ref_extent(x->srv->store, x->bucket, r, rg->start, rg->len,
			    &ref);
	if (rc != DD_OK)
		return rc == DD_ERANGE ? S3E_INVALID_RANGE : s3_err_from_rc(rc);
	memcpy(ref.md5, md5, 16);
	dd_hex_encode(md5, 16, etag);
	if (ck->alg != S3_CK_NONE) {
		blob[0] = (uint8_t)ck->alg;
		memcpy(blob + 1, ck->digest, ck->len);
		bl = 1 + ck->len;
	}
	rc = seg_upload_put_part(x->srv->store, x->bucket, x->t.key,
				 x->upload_id, x->part, &ref, etag, blob, bl);
	if (rc == DD_ENOENT)
		return S3E_NO_SUCH_UPLOAD;
	return rc == DD_OK ? S3_OK : s3_err_from_rc(rc);
}

/* Checks the request and opens the source into a new x->pc. S3 error. */
static int pcopy_start(s3_ex *x)
{
	const s3_param *pn = s3_param_get(&x->t, "partNumber");
	struct hx_pcopy *pc;
	uint64_t n = 0;
	int e = hx_object_access(x);

	if (e == S3_OK)
		e = hx_upload_id_get(x);
	if (e == S3_OK && (!pn || dd_str_to_u64(pn->value, &n) != DD_OK ||
			   n < 1 || n > SEG_PART_MAX))
		e = S3E_INVALID_ARGUMENT;
	x->part = (uint32_t)n;
	if (e != S3_OK)
		return e;
	if (!(x->pc = pc = calloc(1, sizeof(*pc))))
		return S3E_INTERNAL_ERROR;
	if ((e = hx_upload_load(x, &pc->u)) != S3_OK ||
	    (e = copy_source_open(x, &pc->r)) != S3_OK ||
	    (e = copy_range(x, seg_reader_stat(pc->r)->size, &pc->rg)) != S3_OK)
		return e;
	if (pc->rg.len > S3_MAX_PUT_SIZE)
		return S3E_ENTITY_TOO_LARGE;
	pc->off = pc->rg.start;
	return pcopy_digest_init(pc, pc->u.alg) == DD_OK ? S3_OK :
							  S3E_INTERNAL_ERROR;
}

/* The digests are complete: records the part and sets the answer. */
static void pcopy_finish(s3_ex *x)
{
	struct hx_pcopy *pc = x->pc;
	s3_cksum_value ck;
	uint8_t md5[16];
	char etag[33];
	int e = S3_OK;

	if (pcopy_digest_final(pc, md5, &ck) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	if (e == S3_OK)
		e = copy_put_part(x, pc->r, &pc->rg, md5, &ck, etag);
	if (e == S3_OK &&
	    s3_xml_copy_result(&x->out, 1, dd_str_c(etag),
			       dd_now_ns() / 1000000, &ck) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	hx_pcopy_free(x);
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	hx_xml(x, 200);
}

int hx_upload_part_copy_step(s3_ex *x)
{
	int rc;

	if (!x->pc) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return S3_EX_RESPOND;
	}
	if ((rc = pcopy_digest_step(x->pc)) != DD_OK) {
		hx_pcopy_free(x);
		hx_err(x, s3_err_from_rc(rc));
		return S3_EX_RESPOND;
	}
	if (x->pc->off < x->pc->rg.start + x->pc->rg.len)
		return S3_EX_MORE;
	pcopy_finish(x);
	return S3_EX_RESPOND;
}

int hx_upload_part_copy(s3_ex *x)
{
	int e = pcopy_start(x);

	if (e != S3_OK) {
		hx_pcopy_free(x);
		hx_err(x, e);
		return S3_EX_RESPOND;
	}
	return hx_upload_part_copy_step(x);
}
