/*
 * s3api/xml.c - the XML S3 speaks: a small escaping writer with the
 * response documents, and request-body parsers on expat (well kept and
 * fuzzed, unlike a parser we would write). DOCTYPE and entity declarations
 * are refused outright, which rules out XXE and entity expansion bombs.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

/* ----------------------------------------------------------- writer */

static void put(s3_xml *x, const char *p, size_t n)
{
	if (x->rc == DD_OK)
		x->rc = dd_buf_append(x->out, p, n);
}

static void puts_c(s3_xml *x, const char *s)
{
	put(x, s, strlen(s));
}

void s3_xml_begin(s3_xml *x, dd_buf *out)
{
	x->out = out;
	x->rc = DD_OK;
	puts_c(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void s3_xml_open(s3_xml *x, const char *name, int ns)
{
	put(x, "<", 1);
	puts_c(x, name);
	if (ns)
		puts_c(x, " xmlns=\"" S3_XMLNS "\"");
	put(x, ">", 1);
}

void s3_xml_close(s3_xml *x, const char *name)
{
	put(x, "</", 2);
	puts_c(x, name);
	put(x, ">", 1);
}

void s3_xml_text(s3_xml *x, dd_str t)
{
	size_t run = 0;

	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.p[i];
		const char *rep = NULL;
		char num[8];

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			/* Control chars as references so \r\n survive parsing. */
			if (c < 0x20 || c == 0x7f) {
				static const char hx[] = "0123456789ABCDEF";
				size_t k = 0;
				num[k++] = '&';
				num[k++] = '#';
				num[k++] = 'x';
				if (c >= 16)
					num[k++] = hx[c >> 4];
				num[k++] = hx[c & 15];
				num[k++] = ';';
				num[k] = '\0';
				rep = num;
			}
		}
		if (!rep)
			continue;
		put(x, t.p + run, i - run);
		puts_c(x, rep);
		run = i + 1;
	}
	put(x, t.p + run, t.len - run);
}

void s3_xml_elem(s3_xml *x, const char *name, dd_str text)
{
	s3_xml_open(x, name, 0);
	s3_xml_text(x, text);
	s3_xml_close(x, name);
}

void s3_xml_elem_c(s3_xml *x, const char *name, const char *text)
{
	s3_xml_elem(x, name, dd_str_c(text));
}

void s3_xml_elem_u64(s3_xml *x, const char *name, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

	s3_xml_elem(x, name, (dd_str){num, (size_t)n});
}

void s3_xml_elem_bool(s3_xml *x, const char *name, int v)
{
	s3_xml_elem_c(x, name, v ? "true" : "false");
}

int s3_xml_end(s3_xml *x)
{
	return x->rc;
}

/* <name> with the value URL-encoded when enc (encoding-type=url). */
static void elem_enc(s3_xml *x, const char *name, dd_str v, int enc)
{
	dd_buf b;

	if (!enc) {
		s3_xml_elem(x, name, v);
		return;
	}
	dd_buf_init(&b, 3 * S3_MAX_TARGET_LEN + 64);
	if (x->rc == DD_OK)
		x->rc = s3_uri_encode(&b, v, 0);
	if (x->rc == DD_OK)
		s3_xml_elem(x, name, (dd_str){b.data ? b.data : "", b.len});
	dd_buf_release(&b);
}

static void elem_time(s3_xml *x, const char *name, int64_t ms)
{
	char t[40];
	size_t n = s3_time_iso8601(ms, t, sizeof(t));

	s3_xml_elem(x, name, (dd_str){t, n});
}

/* ETag values are always sent quoted. */
static void elem_etag(s3_xml *x, dd_str etag)
{
	s3_xml_open(x, "ETag", 0);
	s3_xml_text(x, DD_STR_LIT("\""));
	s3_xml_text(x, etag);
	s3_xml_text(x, DD_STR_LIT("\""));
	s3_xml_close(x, "ETag");
}

static void elem_owner(s3_xml *x, const char *tag, const s3_xml_owner *o)
{
	s3_xml_open(x, tag, 0);
	s3_xml_elem(x, "ID", o->id);
	s3_xml_elem(x, "DisplayName", o->display_name);
	s3_xml_close(x, tag);
}

static void elem_cksum(s3_xml *x, const s3_cksum_value *v)
{
	char name[32], b64[S3_CK_B64_MAX];
	size_t n;

	if (v->alg == S3_CK_NONE)
		return;
	snprintf(name, sizeof(name), "Checksum%s", s3_cksum_name(v->alg));
	n = s3_b64_encode(v->digest, v->len, b64, sizeof(b64));
	s3_xml_elem(x, name, (dd_str){b64, n});
}

static dd_str storage_class(dd_str s)
{
	return s.len ? s : DD_STR_LIT("STANDARD");
}

int s3_xml_list_buckets(dd_buf *out, const s3_xml_owner *owner,
			const s3_xml_bucket *b, size_t n, dd_str prefix,
			dd_str next_token)
{
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "ListAllMyBucketsResult", 1);
	elem_owner(&x, "Owner", owner);
	s3_xml_open(&x, "Buckets", 0);
	for (size_t i = 0; i < n; i++) {
		s3_xml_open(&x, "Bucket", 0);
		s3_xml_elem(&x, "Name", b[i].name);
		elem_time(&x, "CreationDate", b[i].created_ms);
		s3_xml_close(&x, "Bucket");
	}
	s3_xml_close(&x, "Buckets");
	if (next_token.len)
		s3_xml_elem(&x, "ContinuationToken", next_token);
	if (prefix.len)
		s3_xml_elem(&x, "Prefix", prefix);
	s3_xml_close(&x, "ListAllMyBucketsResult");
	return s3_xml_end(&x);
}

/* Delimiter, MaxKeys, EncodingType and IsTruncated of a listing. */
static void list_paging(s3_xml *x, const s3_xml_listing *l, int enc)
{
	if (l->delimiter.len)
		elem_enc(x, "Delimiter", l->delimiter, enc);
	s3_xml_elem_u64(x, "MaxKeys", l->max_keys);
	if (enc)
		s3_xml_elem_c(x, "EncodingType", "url");
	s3_xml_elem_bool(x, "IsTruncated", l->truncated);
}

/* The CommonPrefixes elements of a listing. */
static void list_prefixes(s3_xml *x, const dd_str *prefixes, size_t n, int enc)
{
	for (size_t i = 0; i < n; i++) {
		s3_xml_open(x, "CommonPrefixes", 0);
		elem_enc(x, "Prefix", prefixes[i], enc);
		s3_xml_close(x, "CommonPrefixes");
	}
}

/*
 * ListVersionsResult for a bucket without versioning: every object is its
 * only version, "null", the latest (S3's answer for such a bucket).
 */
static int list_versions(dd_buf *out, const s3_xml_listing *l)
{
	int enc = l->url_encode;
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "ListVersionsResult", 1);
	s3_xml_elem(&x, "Name", l->bucket);
	elem_enc(&x, "Prefix", l->prefix, enc);
	elem_enc(&x, "KeyMarker", l->marker, enc);
	s3_xml_elem(&x, "VersionIdMarker", l->version_id_marker);
	if (l->truncated) {
		elem_enc(&x, "NextKeyMarker", l->next_marker, enc);
		s3_xml_elem_c(&x, "NextVersionIdMarker", "null");
	}
	list_paging(&x, l, enc);
	for (size_t i = 0; i < l->nobjects; i++) {
		const s3_xml_object *o = &l->objects[i];
		s3_xml_open(&x, "Version", 0);
		elem_enc(&x, "Key", o->key, enc);
		s3_xml_elem_c(&x, "VersionId", "null");
		s3_xml_elem_c(&x, "IsLatest", "true");
		elem_time(&x, "LastModified", o->mtime_ms);
		elem_etag(&x, o->etag);
		s3_xml_elem_u64(&x, "Size", o->size);
		elem_owner(&x, "Owner", &l->owner);
		s3_xml_elem(&x, "StorageClass", storage_class(o->storage_class));
		s3_xml_close(&x, "Version");
	}
	list_prefixes(&x, l->prefixes, l->nprefixes, enc);
	s3_xml_close(&x, "ListVersionsResult");
	return s3_xml_end(&x);
}

int s3_xml_list_objects(dd_buf *out, const s3_xml_listing *l)
{
	int enc = l->url_encode;
	s3_xml x;

	if (l->versions)
		return list_versions(out, l);
	s3_xml_begin(&x, out);
	s3_xml_open(&x, "ListBucketResult", 1);
	s3_xml_elem(&x, "Name", l->bucket);
	elem_enc(&x, "Prefix", l->prefix, enc);
	if (l->v2) {
		if (l->start_after.len)
			elem_enc(&x, "StartAfter", l->start_after, enc);
		if (l->continuation.len)
			s3_xml_elem(&x, "ContinuationToken", l->continuation);
		if (l->next_continuation.len)
			s3_xml_elem(&x, "NextContinuationToken",
				    l->next_continuation);
		s3_xml_elem_u64(&x, "KeyCount", l->nobjects + l->nprefixes);
	} else {
		elem_enc(&x, "Marker", l->marker, enc);
		if (l->next_marker.len)
			elem_enc(&x, "NextMarker", l->next_marker, enc);
	}
	list_paging(&x, l, enc);
	for (size_t i = 0; i < l->nobjects; i++) {
		const s3_xml_object *o = &l->objects[i];
		s3_xml_open(&x, "Contents", 0);
		elem_enc(&x, "Key", o->key, enc);
		elem_time(&x, "LastModified", o->mtime_ms);
		elem_etag(&x, o->etag);
		s3_xml_elem_u64(&x, "Size", o->size);
		if (!l->v2 || l->fetch_owner)
			elem_owner(&x, "Owner", &l->owner);
		s3_xml_elem(&x, "StorageClass", storage_class(o->storage_class));
		s3_xml_close(&x, "Contents");
	}
	list_prefixes(&x, l->prefixes, l->nprefixes, enc);
	s3_xml_close(&x, "ListBucketResult");
	return s3_xml_end(&x);
}

int s3_xml_list_parts(dd_buf *out, const s3_xml_parts_list *l)
{
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "ListPartsResult", 1);
	s3_xml_elem(&x, "Bucket", l->bucket);
	s3_xml_elem(&x, "Key", l->key);
	s3_xml_elem(&x, "UploadId", l->upload_id);
	elem_owner(&x, "Initiator", &l->owner);
	elem_owner(&x, "Owner", &l->owner);
	s3_xml_elem_c(&x, "StorageClass", "STANDARD");
	s3_xml_elem_u64(&x, "PartNumberMarker", l->part_marker);
	s3_xml_elem_u64(&x, "NextPartNumberMarker", l->next_part_marker);
	s3_xml_elem_u64(&x, "MaxParts", l->max_parts);
	s3_xml_elem_bool(&x, "IsTruncated", l->truncated);
	if (l->cksum_alg != S3_CK_NONE)
		s3_xml_elem_c(&x, "ChecksumAlgorithm",
			      s3_cksum_name(l->cksum_alg));
	if (l->cksum_type != S3_CKT_NONE)
		s3_xml_elem_c(&x, "ChecksumType",
			      s3_cksum_type_name(l->cksum_type));
	for (size_t i = 0; i < l->nparts; i++) {
		const s3_xml_part *p = &l->parts[i];
		s3_xml_open(&x, "Part", 0);
		s3_xml_elem_u64(&x, "PartNumber", p->number);
		elem_time(&x, "LastModified", p->mtime_ms);
		elem_etag(&x, p->etag);
		s3_xml_elem_u64(&x, "Size", p->size);
		elem_cksum(&x, &p->cksum);
		s3_xml_close(&x, "Part");
	}
	s3_xml_close(&x, "ListPartsResult");
	return s3_xml_end(&x);
}

int s3_xml_list_uploads(dd_buf *out, const s3_xml_uploads_list *l)
{
	int enc = l->url_encode;
	s3_xml_owner none = {DD_STR_LIT(""), DD_STR_LIT("")};
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "ListMultipartUploadsResult", 1);
	s3_xml_elem(&x, "Bucket", l->bucket);
	elem_enc(&x, "KeyMarker", l->key_marker, enc);
	s3_xml_elem(&x, "UploadIdMarker", l->upload_id_marker);
	elem_enc(&x, "NextKeyMarker", l->next_key_marker, enc);
	s3_xml_elem(&x, "NextUploadIdMarker", l->next_upload_id_marker);
	elem_enc(&x, "Prefix", l->prefix, enc);
	if (l->delimiter.len)
		elem_enc(&x, "Delimiter", l->delimiter, enc);
	s3_xml_elem_u64(&x, "MaxUploads", l->max_uploads);
	if (enc)
		s3_xml_elem_c(&x, "EncodingType", "url");
	s3_xml_elem_bool(&x, "IsTruncated", l->truncated);
	for (size_t i = 0; i < l->nuploads; i++) {
		const s3_xml_upload *u = &l->uploads[i];
		s3_xml_open(&x, "Upload", 0);
		elem_enc(&x, "Key", u->key, enc);
		s3_xml_elem(&x, "UploadId", u->upload_id);
		elem_owner(&x, "Initiator", &none);
		elem_owner(&x, "Owner", &none);
		s3_xml_elem_c(&x, "StorageClass", "STANDARD");
		elem_time(&x, "Initiated", u->initiated_ms);
		s3_xml_close(&x, "Upload");
	}
	list_prefixes(&x, l->prefixes, l->nprefixes, enc);
	s3_xml_close(&x, "ListMultipartUploadsResult");
	return s3_xml_end(&x);
}

int s3_xml_initiate_mpu(dd_buf *out, dd_str bucket, dd_str key,
			dd_str upload_id)
{
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "InitiateMultipartUploadResult", 1);
	s3_xml_elem(&x, "Bucket", bucket);
	s3_xml_elem(&x, "Key", key);
	s3_xml_elem(&x, "UploadId", upload_id);
	s3_xml_close(&x, "InitiateMultipartUploadResult");
	return s3_xml_end(&x);
}

int s3_xml_complete_mpu(dd_buf *out, dd_str location, dd_str bucket,
			dd_str key, dd_str etag, const char *cksum_text,
			int cksum_alg, int cksum_type)
{
	char name[32];
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "CompleteMultipartUploadResult", 1);
	s3_xml_elem(&x, "Location", location);
	s3_xml_elem(&x, "Bucket", bucket);
	s3_xml_elem(&x, "Key", key);
	elem_etag(&x, etag);
	if (cksum_alg != S3_CK_NONE && cksum_text) {
		snprintf(name, sizeof(name), "Checksum%s",
			 s3_cksum_name(cksum_alg));
		s3_xml_elem_c(&x, name, cksum_text);
		if (cksum_type != S3_CKT_NONE)
			s3_xml_elem_c(&x, "ChecksumType",
				      s3_cksum_type_name(cksum_type));
	}
	s3_xml_close(&x, "CompleteMultipartUploadResult");
	return s3_xml_end(&x);
}

int s3_xml_copy_result(dd_buf *out, int part, dd_str etag, int64_t mtime_ms,
		       const s3_cksum_value *ck)
{
	const char *root = part ? "CopyPartResult" : "CopyObjectResult";
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, root, 1);
	elem_time(&x, "LastModified", mtime_ms);
	elem_etag(&x, etag);
	if (ck)
		elem_cksum(&x, ck);
	s3_xml_close(&x, root);
	return s3_xml_end(&x);
}

int s3_xml_delete_result(dd_buf *out, int quiet, const s3_xml_deleted *d,
			 size_t n)
{
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "DeleteResult", 1);
	for (size_t i = 0; i < n; i++) {
		if (d[i].err == S3_OK) {
			if (quiet)
				continue;
			s3_xml_open(&x, "Deleted", 0);
			s3_xml_elem(&x, "Key", d[i].key);
			s3_xml_close(&x, "Deleted");
			continue;
		}
		const s3_errinfo *ei = s3_err_info(d[i].err);
		s3_xml_open(&x, "Error", 0);
		s3_xml_elem(&x, "Key", d[i].key);
		s3_xml_elem_c(&x, "Code", ei->code);
		s3_xml_elem_c(&x, "Message", ei->message);
		s3_xml_close(&x, "Error");
	}
	s3_xml_close(&x, "DeleteResult");
	return s3_xml_end(&x);
}

int s3_xml_location(dd_buf *out, dd_str region)
{
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "LocationConstraint", 1);
	if (!dd_str_eq_c(region, "us-east-1"))
		s3_xml_text(&x, region);
	s3_xml_close(&x, "LocationConstraint");
	return s3_xml_end(&x);
}

int s3_xml_acl(dd_buf *out, const s3_xml_owner *owner)
{
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "AccessControlPolicy", 1);
	elem_owner(&x, "Owner", owner);
	s3_xml_open(&x, "AccessControlList", 0);
	s3_xml_open(&x, "Grant", 0);
	puts_c(&x, "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		   "xsi:type=\"CanonicalUser\">");
	s3_xml_elem(&x, "ID", owner->id);
	s3_xml_elem(&x, "DisplayName", owner->display_name);
	s3_xml_close(&x, "Grantee");
	s3_xml_elem_c(&x, "Permission", "FULL_CONTROL");
	s3_xml_close(&x, "Grant");
	s3_xml_close(&x, "AccessControlList");
	s3_xml_close(&x, "AccessControlPolicy");
	return s3_xml_end(&x);
}

/* ----------------------------------------------------------- parsing */

#define XP_MAX_DEPTH 8
#define XP_MAX_TEXT 4096

/*
 * Generic expat driver: keeps the element path (local names, namespace
 * stripped) and the text of the current element; calls on_end for every
 * closing element with the path and its text.
 */
typedef struct xp {
	XML_Parser p;
	int err;                       /* first S3 error, sticky */
	int depth;
	const char *path[XP_MAX_DEPTH]; /* static names we matched, or "" */
	char *names[XP_MAX_DEPTH];
	char text[XP_MAX_TEXT + 1];
	size_t tlen;
	int overflow;
	int (*on_end)(struct xp *x, void *ctx);
	void *ctx;
} xp;

static void xp_fail(xp *x, int err)
{
	if (!x->err)
		x->err = err;
	XML_StopParser(x->p, XML_FALSE);
}

static const char *local_name(const XML_Char *name)
{
	const char *bar = strrchr(name, '|');
	return bar ? bar + 1 : name;
}

static void XMLCALL xp_start(void *ud, const XML_Char *name,
			     const XML_Char **atts)
{
	xp *x = ud;

	(void)atts;
	if (x->err)
		return;
	if (x->depth >= XP_MAX_DEPTH) {
		xp_fail(x, S3E_MALFORMED_XML);
		return;
	}
	x->names[x->depth] = strdup(local_name(name));
	if (!x->names[x->depth]) {
		xp_fail(x, S3E_INTERNAL_ERROR);
		return;
	}
	x->depth++;
	x->tlen = 0;
	x->overflow = 0;
}

static void XMLCALL xp_end(void *ud, const XML_Char *name)
{
	xp *x = ud;
	int rc;

	(void)name;
	if (x->err || x->depth == 0)
		return;
	x->text[x->tlen] = '\0';
	if (x->overflow)
		rc = S3E_MALFORMED_XML;
	else
		rc = x->on_end(x, x->ctx);
	x->depth--;
	free(x->names[x->depth]);
	x->names[x->depth] = NULL;
	x->tlen = 0;
	x->overflow = 0;
	if (rc != S3_OK)
		xp_fail(x, rc);
}

static void XMLCALL xp_chars(void *ud, const XML_Char *s, int len)
{
	xp *x = ud;

	if (x->err || len <= 0)
		return;
	if (x->tlen + (size_t)len > XP_MAX_TEXT) {
		x->overflow = 1;
		return;
	}
	memcpy(x->text + x->tlen, s, (size_t)len);
	x->tlen += (size_t)len;
}

static void XMLCALL xp_doctype(void *ud, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	xp_fail(ud, S3E_MALFORMED_XML);
}

static void XMLCALL xp_entity(void *ud, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len,
			      const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xp_fail(ud, S3E_MALFORMED_XML);
}

/* 1 when the current path is exactly the given names (depth n). */
static int xp_at(const xp *x, int n, const char *a, const char *b,
		 const char *c)
{
	const char *want[3] = {a, b, c};

	if (x->depth != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(x->names[i], want[i]) != 0)
			return 0;
	return 1;
}

static dd_str xp_text(const xp *x)
{
	return s3i_trim((dd_str){x->text, x->tlen});
}

static int xp_run(const void *data, size_t n, size_t max,
		  int (*on_end)(xp *, void *), void *ctx, const char *root)
{
	xp x;
	int rc;

	memset(&x, 0, sizeof(x));
	if (n > max)
		return S3E_MALFORMED_XML;
	x.p = XML_ParserCreateNS(NULL, '|');
	if (!x.p)
		return S3E_INTERNAL_ERROR;
	x.on_end = on_end;
	x.ctx = ctx;
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xp_start, xp_end);
	XML_SetCharacterDataHandler(x.p, xp_chars);
	XML_SetStartDoctypeDeclHandler(x.p, xp_doctype);
	XML_SetEntityDeclHandler(x.p, xp_entity);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	/* Parse in slices so int lengths never overflow. */
	const char *p = data;
	size_t left = n;
	do {
		int len = left > (1u << 20) ? (1 << 20) : (int)left;
		if (XML_Parse(x.p, p, len, len == (int)left) != XML_STATUS_OK) {
			if (!x.err)
				x.err = S3E_MALFORMED_XML;
			break;
		}
		p += len;
		left -= (size_t)len;
	} while (left);
	rc = x.err;
	for (int i = 0; i < x.depth; i++)
		free(x.names[i]);
	XML_ParserFree(x.p);
	(void)root;
	return rc;
}

/* Checks that the document's root is root (from on_end at depth 1). */
static int root_ok(const xp *x, const char *root)
{
	return x->depth >= 1 && strcmp(x->names[0], root) == 0;
}

/* ----- CompleteMultipartUpload */

struct complete_ctx {
	s3_complete *c;
	s3_complete_part cur;
	int have_num, have_etag;
	int root_seen;
};

static int complete_end(xp *x, void *ud)
{
	struct complete_ctx *cc = ud;
	dd_str t = xp_text(x);
	uint64_t v;

	if (!root_ok(x, "CompleteMultipartUpload"))
		return S3E_MALFORMED_XML;
	if (x->depth == 1) {
		cc->root_seen = 1;
		return S3_OK;
	}
	if (xp_at(x, 2, "CompleteMultipartUpload", "Part", NULL)) {
		s3_complete *c = cc->c;
		if (!cc->have_num || !cc->have_etag)
			return S3E_MALFORMED_XML;
		if (c->nparts >= S3_MAX_PARTS)
			return S3E_MALFORMED_XML;
		if (c->nparts && c->parts[c->nparts - 1].number >= cc->cur.number)
			return S3E_INVALID_PART_ORDER;
		if ((c->nparts & (c->nparts - 1)) == 0) { /* grow at powers of 2 */
			size_t cap = c->nparts ? c->nparts * 2 : 4;
			s3_complete_part *np = realloc(c->parts, cap * sizeof(*np));
			if (!np)
				return S3E_INTERNAL_ERROR;
			c->parts = np;
		}
		c->parts[c->nparts++] = cc->cur;
		memset(&cc->cur, 0, sizeof(cc->cur));
		cc->have_num = cc->have_etag = 0;
		return S3_OK;
	}
	if (x->depth != 3 || strcmp(x->names[1], "Part") != 0)
		return S3_OK; /* unknown elements are ignored */
	const char *n = x->names[2];
	if (strcmp(n, "PartNumber") == 0) {
		if (dd_str_to_u64(t, &v) != DD_OK || v < 1 || v > S3_MAX_PARTS)
			return S3E_INVALID_PART;
		cc->cur.number = (uint32_t)v;
		cc->have_num = 1;
	} else if (strcmp(n, "ETag") == 0) {
		if (t.len >= 2 && t.p[0] == '"' && t.p[t.len - 1] == '"') {
			t.p++;
			t.len -= 2;
		}
		if (t.len == 0 || t.len >= sizeof(cc->cur.etag))
			return S3E_INVALID_PART;
		memcpy(cc->cur.etag, t.p, t.len);
		cc->cur.etag[t.len] = '\0';
		cc->have_etag = 1;
	} else if (strncmp(n, "Checksum", 8) == 0) {
		int alg = s3_cksum_alg_parse(dd_str_c(n + 8));
		if (alg == S3_CK_NONE)
			return S3_OK; /* ChecksumType etc.: ignored */
		return s3_cksum_parse_value(alg, t, &cc->cur.cksum[alg]);
	}
	return S3_OK;
}

int s3_xml_parse_complete(const void *p, size_t n, s3_complete *out)
{
	struct complete_ctx cc;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&cc, 0, sizeof(cc));
	cc.c = out;
	rc = xp_run(p, n, 8u << 20, complete_end, &cc, "CompleteMultipartUpload");
	if (rc == S3_OK && (!cc.root_seen || out->nparts == 0))
		rc = S3E_MALFORMED_XML;
	if (rc != S3_OK)
		s3_complete_release(out);
	return rc;
}

void s3_complete_release(s3_complete *c)
{
	free(c->parts);
	c->parts = NULL;
	c->nparts = 0;
}

/* ----- Delete */

struct delete_ctx {
	s3_delete_req *d;
	char *key, *etag;
	int bad_version; /* this <Object>'s <VersionId> is not "null" */
	int root_seen;
};

static int delete_end(xp *x, void *ud)
{
	struct delete_ctx *dc = ud;
	dd_str raw = {x->text, x->tlen}; /* keys keep their spaces */

	if (!root_ok(x, "Delete"))
		return S3E_MALFORMED_XML;
	if (x->depth == 1) {
		dc->root_seen = 1;
		return S3_OK;
	}
	if (xp_at(x, 2, "Delete", "Quiet", NULL)) {
		dd_str t = xp_text(x);
		if (dd_str_eq_c(t, "true"))
			dc->d->quiet = 1;
		else if (dd_str_eq_c(t, "false"))
			dc->d->quiet = 0;
		else
			return S3E_MALFORMED_XML;
		return S3_OK;
	}
	if (xp_at(x, 3, "Delete", "Object", "Key")) {
		if (dc->key || raw.len == 0 || raw.len > S3_MAX_KEY_LEN)
			return S3E_MALFORMED_XML;
		dc->key = strndup(raw.p, raw.len);
		return dc->key ? S3_OK : S3E_INTERNAL_ERROR;
	}
	/* Without versioning the only version is "null" (what
	 * ListObjectVersions reports); any other id names no version. */
	if (xp_at(x, 3, "Delete", "Object", "VersionId")) {
		dc->bad_version = !dd_str_eq_c(xp_text(x), "null");
		return S3_OK;
	}
	if (xp_at(x, 3, "Delete", "Object", "ETag")) {
		dd_str t = xp_text(x);
		if (dc->etag || t.len == 0 || t.len > 256)
			return S3E_MALFORMED_XML;
		dc->etag = strndup(t.p, t.len);
		return dc->etag ? S3_OK : S3E_INTERNAL_ERROR;
	}
	if (xp_at(x, 2, "Delete", "Object", NULL)) {
		s3_delete_req *d = dc->d;
		if (!dc->key || d->nkeys >= S3_MAX_DELETE_OBJECTS)
			return S3E_MALFORMED_XML;
		if ((d->nkeys & (d->nkeys - 1)) == 0 && d->nkeys >= 4) {
			size_t cap = d->nkeys * 2;
			char **nk = realloc(d->keys, cap * sizeof(*nk));
			if (!nk)
				return S3E_INTERNAL_ERROR;
			d->keys = nk;
			nk = realloc(d->etags, cap * sizeof(*nk));
			if (!nk)
				return S3E_INTERNAL_ERROR;
			d->etags = nk;
			unsigned char *bv = realloc(d->bad_version, cap);
			if (!bv)
				return S3E_INTERNAL_ERROR;
			d->bad_version = bv;
		} else if (d->nkeys == 0) {
			d->keys = malloc(4 * sizeof(*d->keys));
			d->etags = malloc(4 * sizeof(*d->etags));
			d->bad_version = malloc(4);
			if (!d->keys || !d->etags || !d->bad_version)
				return S3E_INTERNAL_ERROR;
		}
		d->bad_version[d->nkeys] = (unsigned char)dc->bad_version;
		dc->bad_version = 0;
		d->etags[d->nkeys] = dc->etag;
		d->keys[d->nkeys++] = dc->key;
		dc->key = NULL;
		dc->etag = NULL;
	}
	return S3_OK;
}

int s3_xml_parse_delete(const void *p, size_t n, s3_delete_req *out)
{
	struct delete_ctx dc;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&dc, 0, sizeof(dc));
	dc.d = out;
	rc = xp_run(p, n, 8u << 20, delete_end, &dc, "Delete");
	free(dc.key);
	free(dc.etag);
	if (rc == S3_OK && (!dc.root_seen || out->nkeys == 0))
		rc = S3E_MALFORMED_XML;
	if (rc != S3_OK)
		s3_delete_req_release(out);
	return rc;
}

void s3_delete_req_release(s3_delete_req *d)
{
	for (size_t i = 0; i < d->nkeys; i++) {
		free(d->keys[i]);
		free(d->etags[i]);
	}
	free(d->keys);
	free(d->etags);
	free(d->bad_version);
	memset(d, 0, sizeof(*d));
}

/* ----- CreateBucketConfiguration */

struct create_ctx {
	char *region;
	size_t cap;
};

static int create_end(xp *x, void *ud)
{
	struct create_ctx *cc = ud;
	dd_str t = xp_text(x);

	if (!root_ok(x, "CreateBucketConfiguration"))
		return S3E_MALFORMED_XML;
	if (xp_at(x, 2, "CreateBucketConfiguration", "LocationConstraint",
		  NULL)) {
		if (t.len >= cc->cap)
			return S3E_INVALID_ARGUMENT;
		memcpy(cc->region, t.p, t.len);
		cc->region[t.len] = '\0';
	}
	return S3_OK;
}

int s3_xml_parse_create_bucket(const void *p, size_t n, char *region,
			       size_t cap)
{
	struct create_ctx cc = {region, cap};
	size_t i;

	if (cap == 0)
		return S3E_INTERNAL_ERROR;
	region[0] = '\0';
	for (i = 0; i < n; i++) {
		char c = ((const char *)p)[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
	}
	if (i == n) /* no body: default region */
		return S3_OK;
	return xp_run(p, n, 64u << 10, create_end, &cc,
		      "CreateBucketConfiguration");
}
