/*
 * s3api/handler_bucket.c - bucket operations (a bucket is a storage unit)
 * and object listings.
 */
#include "s3api/handler_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bucket_rows {
	s3_ex *x;
	s3_xml_bucket *rows;
	size_t n, cap;
	int rc;
	dd_str prefix, after; /* ListBuckets paging: only names > after */
};

/* Byte order of two names (S3 lists in UTF-8 binary order). */
static int name_cmp(dd_str a, dd_str b)
{
	int c = memcmp(a.p, b.p, DD_MIN(a.len, b.len));

	return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* seg_unit_cb: keeps the units the user may use (names copied). */
static int bucket_row(void *ctx, const seg_unit_info *ui)
{
	struct bucket_rows *b = ctx;
	s3_ex *x = b->x;
	char *name;

	dd_str nm = dd_str_c(ui->name);

	if (b->prefix.len && (nm.len < b->prefix.len ||
			      memcmp(nm.p, b->prefix.p, b->prefix.len) != 0))
		return 0;
	if (b->after.len && name_cmp(nm, b->after) <= 0)
		return 0;
	if (seg_grant_check(x->srv->store, x->user.name, ui->name) != DD_OK)
		return 0;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		s3_xml_bucket *r = dd_arena_alloc(x->arena, nc * sizeof(*r));
		if (!r)
			return b->rc = DD_ENOMEM;
		if (b->n)
			memcpy(r, b->rows, b->n * sizeof(*r));
		b->rows = r;
		b->cap = nc;
	}
	if (!(name = dd_arena_strndup(x->arena, ui->name, strlen(ui->name))))
		return b->rc = DD_ENOMEM;
	b->rows[b->n].name = dd_str_c(name);
	b->rows[b->n].created_ms = ui->ctime_ns / 1000000;
	b->n++;
	return 0;
}

static s3_xml_owner owner_of(const s3_ex *x)
{
	s3_xml_owner o;

	o.id = dd_str_c(x->user.name);
	o.display_name = o.id;
	return o;
}

static int bucket_cmp(const void *a, const void *b)
{
	return name_cmp(((const s3_xml_bucket *)a)->name,
			((const s3_xml_bucket *)b)->name);
}

/*
 * ListBuckets paging (S3, 2024): prefix, max-buckets (1..10000, default
 * 10000), continuation-token (opaque to clients: hex of the last name
 * returned). S3 error.
 */
static int buckets_params(s3_ex *x, struct bucket_rows *b, uint64_t *max)
{
	const s3_param *p = s3_param_get(&x->t, "max-buckets");
	const s3_param *tok = s3_param_get(&x->t, "continuation-token");
	char *after;

	*max = 10000;
	if (p && (dd_str_to_u64(p->value, max) != DD_OK || *max < 1 ||
		  *max > 10000))
		return S3E_INVALID_ARGUMENT;
	if ((p = s3_param_get(&x->t, "prefix")))
		b->prefix = p->value;
	if (!tok || tok->value.len == 0)
		return S3_OK;
	if (tok->value.len % 2 || tok->value.len / 2 > SEG_NAME_MAX ||
	    !(after = dd_arena_alloc(x->arena, tok->value.len / 2 + 1)) ||
	    dd_hex_decode(tok->value.p, tok->value.len, after) != DD_OK)
		return S3E_INVALID_ARGUMENT;
	b->after = (dd_str){after, tok->value.len / 2};
	return S3_OK;
}

void hx_list_buckets(s3_ex *x)
{
	struct bucket_rows b = {x, NULL, 0, 0, DD_OK, {NULL, 0}, {NULL, 0}};
	s3_xml_owner o = owner_of(x);
	dd_str next = {NULL, 0};
	uint64_t max;
	char *hex;
	int e = buckets_params(x, &b, &max), rc = DD_OK;

	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	rc = seg_unit_list(x->srv->store, bucket_row, &b);
	if (rc == DD_OK && b.n > 1)
		qsort(b.rows, b.n, sizeof(*b.rows), bucket_cmp);
	if (rc == DD_OK && b.n > max) {
		dd_str last = b.rows[max - 1].name;
		b.n = (size_t)max;
		if (!(hex = dd_arena_alloc(x->arena, last.len * 2 + 1)))
			rc = DD_ENOMEM;
		else
			dd_hex_encode(last.p, last.len, hex);
		next = (dd_str){hex, last.len * 2};
	}
	if (rc == DD_OK)
		rc = s3_xml_list_buckets(&x->out, &o, b.rows, b.n, b.prefix, next);
	if (rc != DD_OK) {
		hx_err(x, s3_err_from_rc(rc));
		return;
	}
	hx_xml(x, 200);
}

int hx_create_bucket_begin(s3_ex *x)
{
	int e = S3_OK;

	if (s3_bucket_name_check(x->t.bucket) != S3_OK ||
	    x->t.bucket.len > SEG_NAME_MAX)
		e = S3E_INVALID_BUCKET_NAME;
	else if (x->user.role != SEG_ROLE_ADMIN)
		e = S3E_ACCESS_DENIED;
	if (e == S3_OK) {
		memcpy(x->bucket, x->t.bucket.p, x->t.bucket.len);
		x->bucket[x->t.bucket.len] = '\0';
		x->in.max = 64u << 10;
		e = hx_body_start(x, HX_BODY_BUFFER);
	}
	if (e != S3_OK) {
		hx_err(x, e);
		return S3_EX_RESPOND;
	}
	return S3_EX_BODY;
}

void hx_create_bucket_end(s3_ex *x)
{
	char region[S3_MAX_REGION + 1];
	int e, rc;

	e = s3_xml_parse_create_bucket(x->in.data ? x->in.data : "", x->in.len,
				       region, sizeof(region));
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	rc = seg_unit_create(x->srv->store, x->bucket, NULL);
	if (rc == DD_EEXIST) {
		/* Only admins create buckets, and admins own every bucket. */
		hx_err(x, S3E_BUCKET_ALREADY_OWNED_BY_YOU);
		return;
	}
	if (rc != DD_OK) {
		hx_err(x, rc == DD_EINVAL ? S3E_INVALID_BUCKET_NAME :
					    s3_err_from_rc(rc));
		return;
	}
	dd_log(DD_LOG_INFO, "s3: bucket %s created by %s", x->bucket,
	       x->user.name);
	{
		char loc[SEG_NAME_MAX + 2];

		snprintf(loc, sizeof(loc), "/%s", x->bucket);
		if (hx_hdr_c(x, "Location", loc) != DD_OK) {
			hx_err(x, S3E_INTERNAL_ERROR);
			return;
		}
	}
	hx_empty(x, 200);
}

void hx_head_bucket(s3_ex *x)
{
	int e = hx_bucket_access(x);

	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	if (hx_hdr_c(x, "x-amz-bucket-region", x->srv->region) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	hx_empty(x, 200);
}

void hx_delete_bucket(s3_ex *x)
{
	int e = hx_bucket_access(x), rc;

	if (e == S3_OK && x->user.role != SEG_ROLE_ADMIN)
		e = S3E_ACCESS_DENIED;
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	rc = seg_unit_delete(x->srv->store, x->bucket);
	if (rc == DD_ENOTEMPTY)
		hx_err(x, S3E_BUCKET_NOT_EMPTY);
	else if (rc == DD_ENOENT)
		hx_err(x, S3E_NO_SUCH_BUCKET);
	else if (rc != DD_OK)
		hx_err(x, s3_err_from_rc(rc));
	else
		hx_empty(x, 204);
}

void hx_bucket_location(s3_ex *x)
{
	int e = hx_bucket_access(x);

	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	if (s3_xml_location(&x->out, dd_str_c(x->srv->region)) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	hx_xml(x, 200);
}

/*
 * GetBucketAcl / GetObjectAcl: dedupd has no ACLs beyond "private" (the
 * owner, here the requesting user, has FULL_CONTROL); answered so that
 * tools that read ACLs before they act keep working.
 */
void hx_get_acl(s3_ex *x)
{
	s3_xml_owner o = owner_of(x);
	seg_stat *st = NULL;
	int e = x->t.key.len ? hx_object_access(x) : hx_bucket_access(x), rc;

	if (e == S3_OK && x->t.key.len) {
		if (!(st = malloc(sizeof(*st))))
			e = S3E_INTERNAL_ERROR;
		else if ((rc = seg_stat_object(x->srv->store, x->bucket,
					       x->t.key, st)) != DD_OK)
			e = rc == DD_ENOENT ? S3E_NO_SUCH_KEY : s3_err_from_rc(rc);
		free(st);
	}
	if (e == S3_OK && s3_xml_acl(&x->out, &o) != DD_OK)
		e = S3E_INTERNAL_ERROR;
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	hx_xml(x, 200);
}

/* ------------------------------------------------------------ listing */

struct list_rows {
	s3_ex *x;
	s3_xml_object *objs;
	size_t nobjs;
	dd_str *pfx;
	size_t npfx;
	int rc;
};

/* seg_list_cb: copies each row into the arena. */
static int list_row(void *ctx, dd_str key, int is_prefix, const seg_stat *st)
{
	struct list_rows *l = ctx;
	char *k = dd_arena_strndup(l->x->arena, key.p, key.len);
	char *etag;

	if (!k)
		return l->rc = DD_ENOMEM;
	if (is_prefix) {
		l->pfx[l->npfx++] = (dd_str){k, key.len};
		return 0;
	}
	if (!(etag = dd_arena_strndup(l->x->arena, st->etag, strlen(st->etag))))
		return l->rc = DD_ENOMEM;
	l->objs[l->nobjs].key = (dd_str){k, key.len};
	l->objs[l->nobjs].mtime_ms = st->mtime_ns / 1000000;
	l->objs[l->nobjs].etag = dd_str_c(etag);
	l->objs[l->nobjs].size = st->size;
	l->objs[l->nobjs].storage_class = (dd_str){"", 0};
	l->nobjs++;
	return 0;
}

/*
 * Continuation tokens are the hex of the key to continue after (opaque to
 * clients, safe in XML and URLs). Decodes tok into out (arena). S3 error.
 */
static int token_decode(s3_ex *x, dd_str tok, dd_str *out)
{
	char *k;

	if (tok.len % 2 || tok.len / 2 > SEG_KEY_MAX)
		return S3E_INVALID_ARGUMENT;
	if (!(k = dd_arena_alloc(x->arena, tok.len / 2 + 1)))
		return S3E_INTERNAL_ERROR;
	if (dd_hex_decode(tok.p, tok.len, k) != DD_OK)
		return S3E_INVALID_ARGUMENT;
	*out = (dd_str){k, tok.len / 2};
	return S3_OK;
}

static int token_encode(s3_ex *x, const seg_list_result *res, dd_str *out)
{
	char *t = dd_arena_alloc(x->arena, res->next_len * 2 + 1);

	if (!t)
		return DD_ENOMEM;
	dd_hex_encode(res->next, res->next_len, t);
	*out = (dd_str){t, res->next_len * 2};
	return DD_OK;
}

/* Runs seg_list for lp; fills l, res. S3 error. */
static int list_run(s3_ex *x, const s3_list_params *lp, dd_str after,
		    struct list_rows *l, seg_list_result *res)
{
	seg_list_opts o;
	int rc;

	memset(res, 0, sizeof(*res));
	if (lp->max_keys == 0)
		return S3_OK;
	l->objs = dd_arena_alloc(x->arena, lp->max_keys * sizeof(*l->objs));
	l->pfx = dd_arena_alloc(x->arena, lp->max_keys * sizeof(*l->pfx));
	if (!l->objs || !l->pfx)
		return S3E_INTERNAL_ERROR;
	memset(&o, 0, sizeof(o));
	o.prefix = lp->prefix;
	o.delimiter = lp->delimiter;
	o.start_after = after;
	o.limit = (uint32_t)lp->max_keys;
	rc = seg_list(x->srv->store, x->bucket, &o, list_row, l, res);
	if (rc == DD_OK)
		return S3_OK;
	if (l->rc != DD_OK)
		rc = l->rc;
	return rc == DD_ENOENT ? S3E_NO_SUCH_BUCKET : s3_err_from_rc(rc);
}

void hx_list_objects(s3_ex *x)
{
	struct list_rows l = {x, NULL, 0, NULL, 0, DD_OK};
	seg_list_result *res = dd_arena_alloc(x->arena, sizeof(*res));
	s3_list_params lp;
	s3_xml_listing xl;
	dd_str after, xl_vmarker = {NULL, 0};
	int e = hx_bucket_access(x);

	if (e == S3_OK && !res)
		e = S3E_INTERNAL_ERROR;
	if (e == S3_OK)
		e = s3_list_params_parse(&x->t, &lp);
	if (e == S3_OK && x->op == S3_OP_LIST_OBJECTS_V2)
		lp.v2 = 1;
	if (e == S3_OK && x->op == S3_OP_LIST_VERSIONS) {
		const s3_param *vm = s3_param_get(&x->t, "version-id-marker");
		lp.v2 = 0;
		xl_vmarker = vm ? vm->value : (dd_str){NULL, 0};
	}
	after = lp.v2 ? lp.start_after : lp.marker;
	if (e == S3_OK && lp.v2 && lp.continuation.len)
		e = token_decode(x, lp.continuation, &after);
	if (e == S3_OK)
		e = list_run(x, &lp, after, &l, res);
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	memset(&xl, 0, sizeof(xl));
	xl.v2 = lp.v2;
	xl.bucket = dd_str_c(x->bucket);
	xl.prefix = lp.prefix;
	xl.delimiter = lp.delimiter;
	xl.url_encode = lp.url_encode;
	xl.max_keys = lp.max_keys;
	xl.truncated = res->truncated;
	xl.continuation = lp.continuation;
	xl.start_after = lp.start_after;
	xl.marker = lp.marker;
	xl.fetch_owner = lp.fetch_owner;
	xl.versions = x->op == S3_OP_LIST_VERSIONS;
	xl.version_id_marker = xl_vmarker;
	xl.owner = owner_of(x);
	xl.objects = l.objs;
	xl.nobjects = l.nobjs;
	xl.prefixes = l.pfx;
	xl.nprefixes = l.npfx;
	if (res->truncated) {
		if (lp.v2 && token_encode(x, res, &xl.next_continuation) != DD_OK) {
			hx_err(x, S3E_INTERNAL_ERROR);
			return;
		}
		/* ListObjects v1: NextMarker only with a delimiter (S3);
		 * without one the client continues after the last key. */
		if ((!lp.v2 && xl.delimiter.len) || xl.versions)
			xl.next_marker = (dd_str){res->next, res->next_len};
	}
	if (s3_xml_list_objects(&x->out, &xl) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	hx_xml(x, 200);
}

/*
 * ListMultipartUploads entries past the markers: uploads and (with a
 * delimiter) common prefixes, at most max + 1 of them together (one more
 * than asked tells the listing is truncated).
 */
struct upload_rows {
	s3_ex *x;
	dd_str prefix, delimiter, key_marker, id_marker;
	s3_xml_upload *ups;
	dd_str *pfx;
	size_t n, npfx, max;
	/* the last entry taken: NextKeyMarker / NextUploadIdMarker */
	dd_str last_key, last_id;
	int truncated;
};

/* Byte-order comparison of two slices (shorter first on a tie). */
static int str_cmp(dd_str a, dd_str b)
{
	size_t m = DD_MIN(a.len, b.len);
	int c = m ? memcmp(a.p, b.p, m) : 0;

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

/* 1 when (key, id) comes after the markers, in the store's listing order. */
static int upload_after(const struct upload_rows *l, dd_str key, dd_str id)
{
	int c;

	if (!l->key_marker.len)
		return 1;
	c = str_cmp(key, l->key_marker);
	if (c != 0)
		return c > 0;
	/* Same key: only ids after upload-id-marker (none without one). */
	return l->id_marker.len && str_cmp(id, l->id_marker) > 0;
}

/*
 * The common prefix key rolls up into (prefix .. first delimiter after
 * it), or an empty slice when there is no delimiter or key has none.
 */
static dd_str upload_rollup(const struct upload_rows *l, dd_str key)
{
	const char *p;
	size_t off = l->prefix.len;

	if (!l->delimiter.len || key.len < off + l->delimiter.len)
		return (dd_str){NULL, 0};
	p = memmem(key.p + off, key.len - off, l->delimiter.p,
		   l->delimiter.len);
	if (!p)
		return (dd_str){NULL, 0};
	return (dd_str){key.p, (size_t)(p - key.p) + l->delimiter.len};
}

/* Counts one more entry; 0 when it is the one past max (stop). */
static int upload_take(struct upload_rows *l)
{
	if (l->n + l->npfx == l->max) {
		l->truncated = l->max > 0;
		return 0;
	}
	return 1;
}

static int upload_row(void *ctx, dd_str key, const char *upload_id,
		      int64_t ctime_ns)
{
	struct upload_rows *l = ctx;
	dd_str id = dd_str_c(upload_id), cp = upload_rollup(l, key);
	s3_xml_upload *u;
	char *k, *i;

	if (cp.len) {
		/* Already reported, or at/before the key marker: skip. */
		if ((l->npfx && str_cmp(cp, l->pfx[l->npfx - 1]) == 0) ||
		    (l->key_marker.len && str_cmp(cp, l->key_marker) <= 0))
			return 0;
		if (!upload_take(l))
			return -1; /* enough: stop (not a dd_rc) */
		if (!(k = dd_arena_strndup(l->x->arena, cp.p, cp.len)))
			return DD_ENOMEM;
		l->pfx[l->npfx++] = (dd_str){k, cp.len};
		l->last_key = (dd_str){k, cp.len};
		l->last_id = (dd_str){"", 0};
		return 0;
	}
	if (!upload_after(l, key, id))
		return 0;
	if (!upload_take(l))
		return -1;
	k = dd_arena_strndup(l->x->arena, key.len ? key.p : "", key.len);
	i = dd_arena_strndup(l->x->arena, upload_id, id.len);
	if (!k || !i)
		return DD_ENOMEM;
	u = &l->ups[l->n++];
	u->key = (dd_str){k, key.len};
	u->upload_id = (dd_str){i, id.len};
	u->initiated_ms = ctime_ns / 1000000;
	l->last_key = u->key;
	l->last_id = u->upload_id;
	return 0;
}

/*
 * ListMultipartUploads: prefix, delimiter (CommonPrefixes), key-marker /
 * upload-id-marker paging, max-uploads (uploads and prefixes together),
 * encoding-type=url.
 */
void hx_list_uploads(s3_ex *x)
{
	struct upload_rows l;
	s3_xml_uploads_list xl;
	s3_list_params lp;
	int e = hx_bucket_access(x), rc;

	memset(&l, 0, sizeof(l));
	if (e == S3_OK)
		e = s3_list_params_parse(&x->t, &lp);
	if (e == S3_OK) {
		l.x = x;
		l.prefix = lp.prefix;
		l.delimiter = lp.delimiter;
		l.key_marker = lp.marker;
		l.id_marker = lp.upload_id_marker;
		l.max = lp.max_keys;
		l.ups = dd_arena_alloc(x->arena, (l.max + 1) * sizeof(*l.ups));
		l.pfx = dd_arena_alloc(x->arena, (l.max + 1) * sizeof(*l.pfx));
		if (!l.ups || !l.pfx)
			e = S3E_INTERNAL_ERROR;
	}
	if (e == S3_OK) {
		rc = seg_upload_list(x->srv->store, x->bucket, lp.prefix,
				     upload_row, &l);
		if (rc != DD_OK && rc != -1)
			e = s3_err_from_rc(rc);
	}
	if (e != S3_OK) {
		hx_err(x, e);
		return;
	}
	memset(&xl, 0, sizeof(xl));
	xl.bucket = dd_str_c(x->bucket);
	xl.prefix = lp.prefix;
	xl.delimiter = lp.delimiter;
	xl.key_marker = lp.marker;
	xl.upload_id_marker = lp.upload_id_marker;
	xl.max_uploads = lp.max_keys;
	xl.url_encode = lp.url_encode;
	xl.truncated = l.truncated;
	xl.nuploads = l.n;
	xl.uploads = l.ups;
	xl.prefixes = l.pfx;
	xl.nprefixes = l.npfx;
	if (l.truncated) {
		xl.next_key_marker = l.last_key;
		xl.next_upload_id_marker = l.last_id;
	}
	if (s3_xml_list_uploads(&x->out, &xl) != DD_OK) {
		hx_err(x, S3E_INTERNAL_ERROR);
		return;
	}
	hx_xml(x, 200);
}
