/*
 * s3api/params.c - request parameters the handlers need parsed: listing
 * query parameters, x-amz-copy-source (+ range), metadata directive.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <string.h>

static dd_str param_or_empty(const s3_target *t, const char *name)
{
	const s3_param *p = s3_param_get(t, name);

	return p ? p->value : (dd_str){"", 0};
}

int s3_list_params_parse(const s3_target *t, s3_list_params *out)
{
	const s3_param *p;

	memset(out, 0, sizeof(*out));
	p = s3_param_get(t, "list-type");
	if (p) {
		if (!dd_str_eq_c(p->value, "2"))
			return S3E_INVALID_ARGUMENT;
		out->v2 = 1;
	}
	out->prefix = param_or_empty(t, "prefix");
	out->delimiter = param_or_empty(t, "delimiter");
	out->continuation = param_or_empty(t, "continuation-token");
	out->start_after = param_or_empty(t, "start-after");
	out->marker = param_or_empty(t, "marker");
	if (!out->marker.len)
		out->marker = param_or_empty(t, "key-marker");
	out->upload_id_marker = param_or_empty(t, "upload-id-marker");
	out->max_keys = S3_MAX_LIST_KEYS;
	p = s3_param_get(t, "max-keys");
	if (!p)
		p = s3_param_get(t, "max-uploads");
	if (p) {
		uint64_t v;
		if (dd_str_to_u64(p->value, &v) != DD_OK)
			return S3E_INVALID_ARGUMENT;
		out->max_keys = DD_MIN(v, (uint64_t)S3_MAX_LIST_KEYS);
	}
	p = s3_param_get(t, "encoding-type");
	if (p) {
		if (!dd_str_eq_c(p->value, "url"))
			return S3E_INVALID_ARGUMENT;
		out->url_encode = 1;
	}
	p = s3_param_get(t, "fetch-owner");
	out->fetch_owner = p && dd_str_eq_c(p->value, "true");
	return S3_OK;
}

int s3_copy_source_parse(dd_arena *a, dd_str hdr, dd_str *bucket, dd_str *key)
{
	dd_buf b;
	const char *q, *slash;
	char *s;
	dd_str v = s3i_trim(hdr);
	int rc;

	q = memchr(v.p, '?', v.len);
	if (q) {
		if (dd_str_starts_with((dd_str){q + 1, (size_t)(v.p + v.len - q - 1)},
				       "versionId="))
			return S3E_NOT_IMPLEMENTED;
		return S3E_INVALID_ARGUMENT;
	}
	if (v.len && v.p[0] == '/') {
		v.p++;
		v.len--;
	}
	dd_buf_init(&b, S3_MAX_TARGET_LEN);
	rc = s3_percent_decode(&b, v, 0);
	if (rc != DD_OK) {
		dd_buf_release(&b);
		return rc == DD_EINVAL || rc == DD_ETOOBIG ? S3E_INVALID_ARGUMENT
							   : S3E_INTERNAL_ERROR;
	}
	s = dd_arena_strndup(a, b.data ? b.data : "", b.len);
	v = (dd_str){s, b.len};
	dd_buf_release(&b);
	if (!s)
		return S3E_INTERNAL_ERROR;
	slash = memchr(v.p, '/', v.len);
	if (!slash || slash == v.p || slash == v.p + v.len - 1)
		return S3E_INVALID_ARGUMENT;
	*bucket = (dd_str){v.p, (size_t)(slash - v.p)};
	*key = (dd_str){slash + 1, v.len - bucket->len - 1};
	return S3_OK;
}

int s3_copy_range_parse(dd_str hdr, uint64_t size, s3_range *out)
{
	dd_str s = s3i_trim(hdr);
	const char *dash;
	uint64_t a, b;

	if (!dd_str_starts_with(s, "bytes="))
		return S3E_INVALID_ARGUMENT;
	s.p += 6;
	s.len -= 6;
	dash = memchr(s.p, '-', s.len);
	if (!dash ||
	    dd_str_to_u64((dd_str){s.p, (size_t)(dash - s.p)}, &a) != DD_OK ||
	    dd_str_to_u64((dd_str){dash + 1, (size_t)(s.p + s.len - dash - 1)},
			  &b) != DD_OK || b < a)
		return S3E_INVALID_ARGUMENT;
	if (b >= size)
		return S3E_INVALID_RANGE;
	out->start = a;
	out->len = b - a + 1;
	return S3_OK;
}

int s3_metadata_directive(const s3_request *req, int *replace)
{
	dd_str v;

	*replace = 0;
	if (!s3_req_header(req, "x-amz-metadata-directive", &v))
		return S3_OK;
	v = s3i_trim(v);
	if (dd_str_eq_c(v, "REPLACE"))
		*replace = 1;
	else if (!dd_str_eq_c(v, "COPY"))
		return S3E_INVALID_ARGUMENT;
	return S3_OK;
}
