/*
 * s3api/handler.c - the S3 request handlers' core: server object, exchange
 * life cycle, the docs/S3.md call order (target -> op -> auth -> names ->
 * body -> commit -> response), response helpers. Operations live in
 * handler_bucket.c and handler_obj.c.
 */
#include "s3api/handler_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

s3_server *s3_server_new(struct seg_store *store, const s3_server_conf *c)
{
	s3_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->store = store;
	snprintf(srv->domain, sizeof(srv->domain), "%s",
		 c && c->domain ? c->domain : "");
	snprintf(srv->region, sizeof(srv->region), "%s",
		 c && c->region && c->region[0] ? c->region : "us-east-1");
	srv->max_put = c && c->max_put ? c->max_put : S3_MAX_PUT_SIZE;
	return srv;
}

void s3_server_free(s3_server *srv)
{
	free(srv);
}

s3_ex *s3_ex_new(s3_server *srv, const s3_request *req, dd_str host)
{
	s3_ex *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->srv = srv;
	x->req = *req;
	x->host = host;
	x->head = dd_str_eq_c(req->method, "HEAD");
	x->arena = dd_arena_new(8u << 20);
	dd_buf_init(&x->in, HX_SMALL_BODY);
	dd_buf_init(&x->attrs, SEG_ATTRS_MAX);
	dd_buf_init(&x->out, 16u << 20);
	if (!x->arena || s3_request_id(x->reqid) != DD_OK ||
	    hx_hdr_c(x, "x-amz-request-id", x->reqid) != DD_OK) {
		s3_ex_free(x);
		return NULL;
	}
	x->base_hdrs = x->resp.nheaders;
	x->base_hlen = x->hlen;
	x->resp.head = x->head;
	x->resp.status = 500;
	return x;
}

void s3_ex_free(s3_ex *x)
{
	if (!x)
		return;
	s3_body_free(x->body);
	seg_writer_free(x->w);
	seg_reader_free(x->r);
	hx_pcopy_free(x);
	dd_arena_free(x->arena);
	dd_buf_release(&x->in);
	dd_buf_release(&x->attrs);
	dd_buf_release(&x->out);
	s3_auth_clear(&x->auth);
	OPENSSL_cleanse(&x->user, sizeof(x->user));
	free(x);
}

const s3_response *s3_ex_response(const s3_ex *x)
{
	return &x->resp;
}

int hx_hdr(s3_ex *x, const char *name, dd_str value)
{
	size_t nl = strlen(name);
	char *p;

	if (x->resp.nheaders == HX_MAX_HDRS ||
	    x->hlen + nl + value.len > sizeof(x->htext))
		return DD_ETOOBIG;
	p = x->htext + x->hlen;
	memcpy(p, name, nl);
	if (value.len)
		memcpy(p + nl, value.p, value.len);
	x->hdrs[x->resp.nheaders].name = (dd_str){p, nl};
	x->hdrs[x->resp.nheaders].value = (dd_str){p + nl, value.len};
	x->resp.nheaders++;
	x->hlen += nl + value.len;
	x->resp.headers = x->hdrs;
	return DD_OK;
}

int hx_hdr_c(s3_ex *x, const char *name, const char *value)
{
	return hx_hdr(x, name, dd_str_c(value));
}

/* Forgets everything but the request id: the response starts over. */
static void hx_reset(s3_ex *x)
{
	x->resp.nheaders = x->base_hdrs;
	x->hlen = x->base_hlen;
	x->resp.body = NULL;
	x->resp.body_len = 0;
	x->resp.stream = 0;
	x->resp.stream_len = 0;
	dd_buf_reset(&x->out);
}

void hx_err(s3_ex *x, int e)
{
	hx_err_msg(x, e, NULL);
}

void hx_err_msg(s3_ex *x, int e, const char *msg)
{
	const s3_errinfo *ei = s3_err_info(e);
	char res[1100];

	hx_reset(x);
	x->resp.status = ei->status;
	if (x->head || ei->status == 304)
		return;
	snprintf(res, sizeof(res), "%.*s", (int)DD_MIN(x->t.path.len, 1024),
		 x->t.path.p ? x->t.path.p : "");
	if (s3_err_render(&x->out, e, msg, res[0] ? res : NULL, x->reqid,
			  NULL) != DD_OK ||
	    hx_hdr_c(x, "Content-Type", "application/xml") != DD_OK) {
		dd_buf_reset(&x->out);
		return;
	}
	x->resp.body = x->out.data;
	x->resp.body_len = x->out.len;
}

void hx_err_rc(s3_ex *x, int rc)
{
	hx_err(x, rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc));
}

void hx_xml(s3_ex *x, int status)
{
	x->resp.status = status;
	if (hx_hdr_c(x, "Content-Type", "application/xml") != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	x->resp.body = x->out.data;
	x->resp.body_len = x->out.len;
}

void hx_empty(s3_ex *x, int status)
{
	x->resp.status = status;
	x->resp.body = NULL;
	x->resp.body_len = 0;
}

int hx_unit_access(s3_ex *x, dd_str name, char out[SEG_NAME_MAX + 1])
{
	seg_unit_info ui;
	int rc;

	if (s3_bucket_name_check(name) != S3_OK || name.len > SEG_NAME_MAX)
		return S3E_INVALID_BUCKET_NAME;
	memcpy(out, name.p, name.len);
	out[name.len] = '\0';
	rc = seg_unit_stat(x->srv->store, out, &ui);
	if (rc == DD_ENOENT)
		return S3E_NO_SUCH_BUCKET;
	if (rc != DD_OK)
		return s3_err_from_rc(rc);
	rc = seg_grant_check(x->srv->store, x->user.name, out);
	if (rc == DD_EPERM)
		return S3E_ACCESS_DENIED;
	return rc == DD_OK ? S3_OK : s3_err_from_rc(rc);
}

int hx_bucket_access(s3_ex *x)
{
	return hx_unit_access(x, x->t.bucket, x->bucket);
}

int hx_object_access(s3_ex *x)
{
	int e = hx_bucket_access(x);

	if (e != S3_OK)
		return e;
	if (x->t.key.len > SEG_KEY_MAX)
		return S3E_KEY_TOO_LONG;
	return s3_key_check(x->t.key);
}

/* s3_secret_fn over the store's users; remembers the user in x. */
static int lookup_secret(void *ctx, dd_str ak, char *secret, size_t cap)
{
	s3_ex *x = ctx;

	return seg_user_secret(x->srv->store, ak, &x->user, secret, cap);
}

uint64_t hx_put_limit(const s3_ex *x)
{
	return x->op == S3_OP_PUT_OBJECT ? x->srv->max_put : S3_MAX_PUT_SIZE;
}

/* Body sink: decoded bytes to the writer or the small-body buffer. */
static int body_sink(void *ctx, const void *p, size_t n)
{
	s3_ex *x = ctx;
	int rc;

	if (x->body_kind == HX_BODY_WRITER) {
		if (seg_writer_size(x->w) + n > hx_put_limit(x))
			rc = DD_ETOOBIG;
		else
			rc = seg_writer_write(x->w, p, n);
	} else {
		rc = dd_buf_append(&x->in, p, n);
	}
	if (rc != DD_OK)
		x->sink_rc = rc;
	return rc;
}

int hx_body_start(s3_ex *x, int kind)
{
	int e = s3_body_new(&x->req, &x->auth, &x->body);

	if (e != S3_OK)
		return e;
	x->body_kind = kind;
	return S3_OK;
}

int s3_ex_body(s3_ex *x, const void *p, size_t n)
{
	int e;

	if (x->body_err != S3_OK || !x->body)
		return DD_OK;
	e = s3_body_feed(x->body, p, n, body_sink, x);
	if (e != S3_OK) {
		if (x->sink_rc == DD_ETOOBIG)
			e = x->body_kind == HX_BODY_WRITER ?
				    S3E_ENTITY_TOO_LARGE : S3E_MALFORMED_XML;
		else if (x->sink_rc != DD_OK)
			e = s3_err_from_rc(x->sink_rc);
		x->body_err = e;
	}
	return DD_OK;
}

void s3_ex_end(s3_ex *x)
{
	int e = x->body_err;

	if (!x->body)
		return; /* responded in begin */
	if (e == S3_OK)
		e = s3_body_finish(x->body);
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	switch (x->op) {
	case S3_OP_CREATE_BUCKET: hx_create_bucket_end(x); break;
	case S3_OP_PUT_OBJECT: hx_put_end(x); break;
	case S3_OP_UPLOAD_PART: hx_upload_part_end(x); break;
	case S3_OP_COMPLETE_MPU: hx_complete_end(x); break;
	case S3_OP_DELETE_OBJECTS: hx_delete_objects_end(x); break;
	default: hx_err(x, S3E_INTERNAL_ERROR); break;
	}
}

/* Runs the operation; returns enum s3_ex_next. */
static int dispatch(s3_ex *x)
{
	switch (x->op) {
	case S3_OP_LIST_BUCKETS: hx_list_buckets(x); break;
	case S3_OP_CREATE_BUCKET: return hx_create_bucket_begin(x);
	case S3_OP_HEAD_BUCKET: hx_head_bucket(x); break;
	case S3_OP_DELETE_BUCKET: hx_delete_bucket(x); break;
	case S3_OP_GET_BUCKET_LOCATION: hx_bucket_location(x); break;
	case S3_OP_GET_ACL: hx_get_acl(x); break;
	case S3_OP_LIST_OBJECTS_V1:
	case S3_OP_LIST_OBJECTS_V2:
	case S3_OP_LIST_VERSIONS: hx_list_objects(x); break;
	case S3_OP_PUT_OBJECT: return hx_put_begin(x);
	case S3_OP_GET_OBJECT:
	case S3_OP_HEAD_OBJECT: hx_get(x); break;
	case S3_OP_DELETE_OBJECT: hx_delete_object(x); break;
	case S3_OP_CREATE_MPU: return hx_create_mpu(x);
	case S3_OP_UPLOAD_PART: return hx_upload_part_begin(x);
	case S3_OP_UPLOAD_PART_COPY: return hx_upload_part_copy(x);
	case S3_OP_COMPLETE_MPU: return hx_complete_begin(x);
	case S3_OP_ABORT_MPU: hx_abort_mpu(x); break;
	case S3_OP_LIST_PARTS: hx_list_parts(x); break;
	case S3_OP_LIST_UPLOADS: hx_list_uploads(x); break;
	case S3_OP_COPY_OBJECT: hx_copy_object(x); break;
	case S3_OP_DELETE_OBJECTS: return hx_delete_objects_begin(x);
	default: hx_err(x, S3E_NOT_IMPLEMENTED); break;
	}
	return S3_EX_RESPOND;
}

int s3_ex_step(s3_ex *x)
{
	if (x->op == S3_OP_UPLOAD_PART_COPY)
		return hx_upload_part_copy_step(x);
	hx_err(x, S3E_INTERNAL_ERROR);
	return S3_EX_RESPOND;
}

/*
 * 1 when the request is signed with SigV2 (header "AWS AK:sig" or a query
 * with AWSAccessKeyId and Signature, which boto3's generate_presigned_url
 * makes by default for us-east-1). dedupd speaks SigV4 only and answers
 * these as S3 does in SigV4-only regions.
 */
static int is_sigv2(s3_ex *x)
{
	dd_str a;

	if (s3_req_header(&x->req, "authorization", &a))
		return dd_str_starts_with(a, "AWS ");
	return s3_param_get(&x->t, "AWSAccessKeyId") != NULL &&
	       s3_param_get(&x->t, "Signature") != NULL;
}

/*
 * 1 when the Authorization header is present but names no AWS scheme at
 * all (empty, or garbage such as "\x07"): S3 answers those as it answers
 * anonymous requests, 403 AccessDenied (ceph s3-tests
 * test_object_create_bad_authorization_empty / _unreadable), where a
 * malformed AWS4-HMAC-SHA256 header is AuthorizationHeaderMalformed.
 */
static int auth_not_aws(s3_ex *x)
{
	dd_str a;

	if (!s3_req_header(&x->req, "authorization", &a))
		return 0;
	while (a.len && (a.p[0] == ' ' || a.p[0] == '\t')) {
		a.p++;
		a.len--;
	}
	return !dd_str_starts_with(a, "AWS");
}

int s3_ex_begin(s3_ex *x)
{
	dd_str domain = dd_str_c(x->srv->domain);
	int e;

	e = s3_target_parse(x->arena, x->req.target, x->host, domain, &x->t);
	if (e == S3_OK)
		e = s3_op_resolve(&x->req, &x->t, &x->op);
	if (e == S3_OK && auth_not_aws(x))
		e = S3E_ACCESS_DENIED;
	if (e == S3_OK && is_sigv2(x)) {
		hx_err_msg(x, S3E_INVALID_REQUEST,
			   "The authorization mechanism you have provided is "
			   "not supported. Please use AWS4-HMAC-SHA256.");
		return S3_EX_RESPOND;
	}
	if (e == S3_OK)
		e = s3_auth_check(&x->req, &x->t, lookup_secret, x,
				  (int64_t)time(NULL), &x->auth);
	if (e == S3_OK && x->auth.kind == S3_AUTH_ANON)
		e = S3E_ACCESS_DENIED;
	if (e != S3_OK) {
		hx_err(x, e);
		return S3_EX_RESPOND;
	}
	return dispatch(x);
}
