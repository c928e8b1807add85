/*
 * gateway/admin_api.c - the admin API's routes (a pure parser of method +
 * path) and its synchronous store operations: users, grants, units.
 * Authentication happens before (admin.c); verify runs on a worker
 * (admin.c) because it reads the whole store.
 */
#include "gateway/admin.h"
#include "gateway/gw.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- routes */

static const char *const op_names[] = {
	[GW_ADM_NONE] = "none",
	[GW_ADM_USER_LIST] = "user-list",
	[GW_ADM_USER_CREATE] = "user-create",
	[GW_ADM_USER_SHOW] = "user-show",
	[GW_ADM_USER_DELETE] = "user-delete",
	[GW_ADM_GRANT_LIST] = "grant-list",
	[GW_ADM_GRANT] = "grant",
	[GW_ADM_REVOKE] = "revoke",
	[GW_ADM_UNIT_LIST] = "unit-list",
	[GW_ADM_UNIT_CREATE] = "unit-create",
	[GW_ADM_UNIT_SHOW] = "unit-show",
	[GW_ADM_UNIT_QUOTA] = "unit-quota",
	[GW_ADM_UNIT_DELETE] = "unit-delete",
	[GW_ADM_VERIFY] = "verify",
	[GW_ADM_WHOAMI] = "whoami",
};

const char *gw_admin_op_name(int op)
{
	if (op < 0 || op >= (int)DD_ARRAY_LEN(op_names) || !op_names[op])
		return "none";
	return op_names[op];
}

/* Copies a store name (unit or user) if seg_name_ok accepts it. */
static int take_name(dd_str s, char out[SEG_NAME_MAX + 1])
{
	if (s.len == 0 || s.len > SEG_NAME_MAX || memchr(s.p, 0, s.len))
		return DD_EINVAL;
	memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	return seg_name_ok(out);
}

#define MAX_SEGS 5

/* Splits "/a/b/c" into segments; a trailing '/' is ignored. Returns the
 * count, or -1 for an empty segment, no leading '/' or too many. */
static int split_path(dd_str path, dd_str seg[MAX_SEGS])
{
	size_t i = 1, start;
	int n = 0;

	if (path.len == 0 || path.p[0] != '/')
		return -1;
	if (path.len > 1 && path.p[path.len - 1] == '/')
		path.len--;
	while (i < path.len) {
		start = i;
		while (i < path.len && path.p[i] != '/')
			i++;
		if (i == start || n == MAX_SEGS)
			return -1;
		seg[n++] = (dd_str){path.p + start, i - start};
		i++; /* skip '/' */
	}
	return n;
}

/* Picks the op for a method among up to three alternatives (NONE = no). */
static int pick(const char *m, int get, int post, int put, int del)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return get;
	if (strcmp(m, "POST") == 0)
		return post;
	if (strcmp(m, "PUT") == 0)
		return put;
	if (strcmp(m, "DELETE") == 0)
		return del;
	return GW_ADM_NONE;
}

static int route_users(const char *m, const dd_str *seg, int n,
		       gw_admin_route *out)
{
	int rc;

	if (n == 2) {
		out->op = pick(m, GW_ADM_USER_LIST, 0, 0, 0);
		return DD_OK;
	}
	if ((rc = take_name(seg[2], out->user)) != DD_OK)
		return rc;
	if (n == 3)
		out->op = pick(m, GW_ADM_USER_SHOW, GW_ADM_USER_CREATE, 0,
			       GW_ADM_USER_DELETE);
	else if (!dd_str_eq_c(seg[3], "grants"))
		return DD_ENOENT;
	else if (n == 4)
		out->op = pick(m, GW_ADM_GRANT_LIST, 0, 0, 0);
	else if ((rc = take_name(seg[4], out->unit)) != DD_OK)
		return rc;
	else
		out->op = pick(m, 0, 0, GW_ADM_GRANT, GW_ADM_REVOKE);
	return DD_OK;
}

static int route_units(const char *m, const dd_str *seg, int n,
		       gw_admin_route *out)
{
	int rc;

	if (n == 2) {
		out->op = pick(m, GW_ADM_UNIT_LIST, 0, 0, 0);
		return DD_OK;
	}
	if (n > 4)
		return DD_ENOENT;
	if ((rc = take_name(seg[2], out->unit)) != DD_OK)
		return rc;
	if (n == 3)
		out->op = pick(m, GW_ADM_UNIT_SHOW, GW_ADM_UNIT_CREATE, 0,
			       GW_ADM_UNIT_DELETE);
	else if (dd_str_eq_c(seg[3], "quota"))
		out->op = pick(m, 0, 0, GW_ADM_UNIT_QUOTA, 0);
	else
		return DD_ENOENT;
	return DD_OK;
}

int gw_admin_route_parse(const char *method, dd_str path, gw_admin_route *out)
{
	dd_str seg[MAX_SEGS];
	int n = split_path(path, seg), rc;

	memset(out, 0, sizeof(*out));
	if (n < 2 || !dd_str_eq_c(seg[0], "v1"))
		return DD_ENOENT;
	if (dd_str_eq_c(seg[1], "users"))
		rc = route_users(method, seg, n, out);
	else if (dd_str_eq_c(seg[1], "units"))
		rc = route_units(method, seg, n, out);
	else if (n == 2 && dd_str_eq_c(seg[1], "verify"))
		rc = (out->op = pick(method, 0, GW_ADM_VERIFY, 0, 0), DD_OK);
	else if (n == 2 && dd_str_eq_c(seg[1], "whoami"))
		rc = (out->op = pick(method, GW_ADM_WHOAMI, 0, 0, 0), DD_OK);
	else
		rc = DD_ENOENT;
	if (rc == DD_OK && out->op == GW_ADM_NONE)
		rc = DD_ENOTSUP;
	if (rc != DD_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---------------------------------------------------------- operations */

int gw_admin_error(gw_aout *o, int status, const char *code, const char *msg)
{
	gw_aout_str(o, "error", code);
	gw_aout_str(o, "message", msg);
	return status;
}

/* Maps a store error to an HTTP status and an error code. */
static int store_error(gw_aout *o, int rc, const char *what)
{
	switch (rc) {
	case DD_ENOENT: return gw_admin_error(o, 404, "NotFound", what);
	case DD_EEXIST: return gw_admin_error(o, 409, "AlreadyExists", what);
	case DD_EINVAL: return gw_admin_error(o, 400, "InvalidArgument", what);
	case DD_ENOTEMPTY: return gw_admin_error(o, 409, "NotEmpty", what);
	default: break;
	}
	dd_log(DD_LOG_ERROR, "admin: %s: %s", what, dd_strerror(rc));
	return gw_admin_error(o, 500, "InternalError", dd_strerror(rc));
}

/* DD_OK when user name exists (the secret read is wiped at once). */
static int user_exists(seg_store *st, const char *name)
{
	seg_user u;
	int rc = seg_user_get(st, name, &u);

	OPENSSL_cleanse(&u, sizeof(u));
	return rc;
}

static const char *role_name(int role)
{
	return role == SEG_ROLE_ADMIN ? "admin" : "user";
}

static int grant_item(void *ctx, const char *name)
{
	gw_aout_list_str(ctx, name);
	return 0;
}

static int user_item(void *ctx, const seg_user *u)
{
	gw_aout *o = ctx;

	gw_aout_item_begin(o);
	gw_aout_str(o, "user", u->name);
	gw_aout_str(o, "access_key", u->access_key);
	gw_aout_str(o, "role", role_name(u->role));
	gw_aout_item_end(o);
	return 0;
}

static int user_show(seg_store *st, const char *name, gw_aout *o)
{
	seg_user u;
	int rc = seg_user_get(st, name, &u);

	if (rc != DD_OK)
		return store_error(o, rc, "no such user");
	gw_aout_str(o, "user", u.name);
	gw_aout_str(o, "access_key", u.access_key);
	gw_aout_str(o, "role", role_name(u.role));
	OPENSSL_cleanse(&u, sizeof(u));
	gw_aout_list_begin(o, "grants");
	rc = seg_grant_list(st, name, grant_item, o);
	gw_aout_list_end(o);
	return rc == DD_OK ? 200 : store_error(o, rc, "cannot list grants");
}

static int user_create(seg_store *st, const char *name, int admin, gw_aout *o)
{
	gw_root_creds k;
	int rc;

	/* Retry the (astronomically unlikely) access key collision once. */
	for (int tries = 0; tries < 2; tries++) {
		if ((rc = gw_creds_generate(&k)) != DD_OK)
			break;
		rc = seg_user_create(st, name, k.access_key, k.secret_key,
				     admin ? SEG_ROLE_ADMIN : SEG_ROLE_USER);
		if (rc != DD_EEXIST || user_exists(st, name) == DD_OK)
			break;
	}
	if (rc == DD_OK) {
		gw_aout_str(o, "user", name);
		gw_aout_str(o, "access_key", k.access_key);
		gw_aout_str(o, "secret_key", k.secret_key);
		gw_aout_str(o, "role", admin ? "admin" : "user");
		dd_log(DD_LOG_INFO, "admin: user %s created (access key %s, role %s)",
		       name, k.access_key, admin ? "admin" : "user");
	}
	OPENSSL_cleanse(&k, sizeof(k));
	if (rc != DD_OK)
		return store_error(o, rc, rc == DD_EEXIST ? "user exists" :
				   "cannot create user");
	return 201;
}

/* Collects grant names into an array to revoke them after the walk. */
struct name_list {
	char (*names)[SEG_NAME_MAX + 1];
	size_t n, cap;
};

static int collect_name(void *ctx, const char *name)
{
	struct name_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->names, cap * sizeof(*l->names));
		if (!p)
			return DD_ENOMEM;
		l->names = p;
		l->cap = cap;
	}
	snprintf(l->names[l->n++], SEG_NAME_MAX + 1, "%s", name);
	return 0;
}

/* Revokes every grant of the user, then deletes it. */
static int user_delete(seg_store *st, const char *name,
		       const gw_admin_caller *caller, gw_aout *o)
{
	struct name_list l = {NULL, 0, 0};
	int rc;

	if (strcmp(name, caller->name) == 0)
		return gw_admin_error(o, 409, "Conflict",
				      "refusing to delete the user making the request");
	if ((rc = user_exists(st, name)) != DD_OK)
		return store_error(o, rc, "no such user");
	rc = seg_grant_list(st, name, collect_name, &l);
	for (size_t i = 0; rc == DD_OK && i < l.n; i++) {
		rc = seg_revoke(st, name, l.names[i]);
		if (rc == DD_ENOENT) /* revoked meanwhile */
			rc = DD_OK;
	}
	free(l.names);
	if (rc == DD_OK)
		rc = seg_user_delete(st, name);
	if (rc == DD_EPERM) /* granted again meanwhile */
		return gw_admin_error(o, 409, "Conflict", "user was granted a unit meanwhile");
	if (rc != DD_OK)
		return store_error(o, rc, "cannot delete user");
	gw_aout_str(o, "deleted", name);
	dd_log(DD_LOG_INFO, "admin: user %s deleted", name);
	return 200;
}

static void unit_fields(gw_aout *o, const seg_unit_info *u)
{
	gw_aout_str(o, "unit", u->name);
	gw_aout_u64(o, "objects", u->object_count);
	gw_aout_u64(o, "logical_bytes", u->logical_bytes);
	gw_aout_u64(o, "physical_bytes", u->physical_bytes);
	gw_aout_u64(o, "quota_soft", u->quota.soft);
	gw_aout_u64(o, "quota_hard", u->quota.hard);
	gw_aout_bool(o, "over_soft", u->over_soft);
	gw_aout_u64(o, "created", (uint64_t)(u->ctime_ns / 1000000000));
}

static int unit_item(void *ctx, const seg_unit_info *u)
{
	gw_aout *o = ctx;

	gw_aout_item_begin(o);
	unit_fields(o, u);
	gw_aout_item_end(o);
	return 0;
}

static int unit_show(seg_store *st, const char *name, gw_aout *o, int status)
{
	seg_unit_info u;
	int rc = seg_unit_stat(st, name, &u);

	if (rc != DD_OK)
		return store_error(o, rc, "no such unit");
	unit_fields(o, &u);
	return status;
}

/* Quota from args over base: soft/hard given replace, 0 means none. */
static int quota_from(const gw_admin_args *a, seg_quota *q, gw_aout *o)
{
	if (a->has_soft)
		q->soft = a->soft;
	if (a->has_hard)
		q->hard = a->hard;
	if (q->soft && q->hard && q->soft > q->hard)
		return gw_admin_error(o, 400, "InvalidArgument",
				      "soft quota above hard quota");
	return 0;
}

static int unit_create(seg_store *st, const char *name,
		       const gw_admin_args *a, gw_aout *o)
{
	seg_quota q = {0, 0, 0};
	int rc;

	if ((rc = quota_from(a, &q, o)) != 0)
		return rc;
	if ((rc = seg_unit_create(st, name, &q)) != DD_OK)
		return store_error(o, rc, rc == DD_EEXIST ? "unit exists" :
				   "cannot create unit");
	dd_log(DD_LOG_INFO, "admin: unit %s created (quota soft %llu hard %llu)",
	       name, (unsigned long long)q.soft, (unsigned long long)q.hard);
	return unit_show(st, name, o, 201);
}

static int unit_quota(seg_store *st, const char *name,
		      const gw_admin_args *a, gw_aout *o)
{
	seg_unit_info u;
	int rc;

	if ((rc = seg_unit_stat(st, name, &u)) != DD_OK)
		return store_error(o, rc, "no such unit");
	if ((rc = quota_from(a, &u.quota, o)) != 0)
		return rc;
	if ((rc = seg_unit_set_quota(st, name, &u.quota)) != DD_OK)
		return store_error(o, rc, "cannot set quota");
	dd_log(DD_LOG_INFO, "admin: unit %s quota soft %llu hard %llu", name,
	       (unsigned long long)u.quota.soft, (unsigned long long)u.quota.hard);
	return unit_show(st, name, o, 200);
}

static int grant_op(seg_store *st, const gw_admin_route *rt, gw_aout *o)
{
	int grant = rt->op == GW_ADM_GRANT, rc;

	rc = grant ? seg_grant(st, rt->user, rt->unit) :
		     seg_revoke(st, rt->user, rt->unit);
	if (rc != DD_OK)
		return store_error(o, rc, grant ? "no such user or unit" :
				   "no such grant");
	dd_log(DD_LOG_INFO, "admin: %s unit %s %s user %s",
	       grant ? "granted" : "revoked", rt->unit, grant ? "to" : "from",
	       rt->user);
	gw_aout_str(o, "user", rt->user);
	gw_aout_str(o, "unit", rt->unit);
	gw_aout_bool(o, "granted", grant);
	return 200;
}

int gw_admin_run(seg_store *st, const gw_admin_route *rt,
		 const gw_admin_args *a, const gw_admin_caller *caller,
		 gw_aout *o)
{
	int rc;

	switch (rt->op) {
	case GW_ADM_WHOAMI:
		gw_aout_str(o, "user", caller->name);
		gw_aout_str(o, "role", "admin");
		return 200;
	case GW_ADM_USER_LIST:
		gw_aout_list_begin(o, "users");
		rc = seg_user_list(st, user_item, o);
		gw_aout_list_end(o);
		return rc == DD_OK ? 200 : store_error(o, rc, "cannot list users");
	case GW_ADM_USER_CREATE: return user_create(st, rt->user, a->role_admin, o);
	case GW_ADM_USER_SHOW: return user_show(st, rt->user, o);
	case GW_ADM_USER_DELETE: return user_delete(st, rt->user, caller, o);
	case GW_ADM_GRANT_LIST:
		if ((rc = user_exists(st, rt->user)) != DD_OK)
			return store_error(o, rc, "no such user");
		gw_aout_str(o, "user", rt->user);
		gw_aout_list_begin(o, "grants");
		rc = seg_grant_list(st, rt->user, grant_item, o);
		gw_aout_list_end(o);
		return rc == DD_OK ? 200 : store_error(o, rc, "cannot list grants");
	case GW_ADM_GRANT:
	case GW_ADM_REVOKE: return grant_op(st, rt, o);
	case GW_ADM_UNIT_LIST:
		gw_aout_list_begin(o, "units");
		rc = seg_unit_list(st, unit_item, o);
		gw_aout_list_end(o);
		return rc == DD_OK ? 200 : store_error(o, rc, "cannot list units");
	case GW_ADM_UNIT_CREATE: return unit_create(st, rt->unit, a, o);
	case GW_ADM_UNIT_SHOW: return unit_show(st, rt->unit, o, 200);
	case GW_ADM_UNIT_QUOTA: return unit_quota(st, rt->unit, a, o);
	case GW_ADM_UNIT_DELETE:
		if ((rc = seg_unit_delete(st, rt->unit)) != DD_OK)
			return store_error(o, rc, rc == DD_ENOTEMPTY ?
					   "unit is not empty" : "no such unit");
		dd_log(DD_LOG_INFO, "admin: unit %s deleted", rt->unit);
		gw_aout_str(o, "deleted", rt->unit);
		return 200;
	default:
		return gw_admin_error(o, 500, "InternalError", "unexpected operation");
	}
}
