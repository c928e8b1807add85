/*
 * segstore/catalog.c - storage units, users, grants, object records,
 * listing, delete/rename/clone, multipart upload records. Every mutation
 * is an apply callback run by the group committer (store.c).
 * Record layouts: docs/FORMAT.md.
 */
#include <stdlib.h>

#include "segstore/seg_int.h"

#define OBJ_HDR_LEN 108
#define PART_HDR_LEN 108

int seg_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > SEG_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return DD_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return DD_EINVAL;
	}
	return DD_OK;
}

int seg_key_ok(dd_str key)
{
	if (!key.p || key.len == 0 || key.len > SEG_KEY_MAX ||
	    memchr(key.p, 0, key.len))
		return DD_EINVAL;
	return DD_OK;
}

/* ---------------------------------------------------------------- units */

static void unit_rec_encode(const seg_unit_rec *u, uint8_t *v)
{
	put_u64(v, u->id);
	put_u64(v + 8, u->q.soft);
	put_u64(v + 16, u->q.hard);
	put_u32(v + 24, u->q.stream_limit);
	put_u32(v + 28, 0);
	put_u64(v + 32, u->logical);
	put_u64(v + 40, u->objects);
	put_u64(v + 48, u->physical);
	put_u64(v + 56, (uint64_t)u->ctime);
	put_u64(v + 64, 0);
}

static int unit_rec_decode(dd_str v, seg_unit_rec *u)
{
	const uint8_t *p = (const uint8_t *)v.p;

	if (v.len != SEG_UNIT_REC_LEN)
		return DD_ECORRUPT;
	u->id = get_u64(p);
	u->q.soft = get_u64(p + 8);
	u->q.hard = get_u64(p + 16);
	u->q.stream_limit = get_u32(p + 24);
	u->logical = get_u64(p + 32);
	u->objects = get_u64(p + 40);
	u->physical = get_u64(p + 48);
	u->ctime = (int64_t)get_u64(p + 56);
	return DD_OK;
}

int seg_unit_rec_get(idx_txn *t, const char *unit, seg_unit_rec *u)
{
	dd_str v;
	int rc;

	if (seg_name_ok(unit) != DD_OK)
		return DD_ENOENT;
	if ((rc = idx_get(t, IDX_DB_UNITS, unit, strlen(unit), &v)) != DD_OK)
		return rc;
	return unit_rec_decode(v, u);
}

int seg_unit_rec_put(idx_txn *t, const char *unit, const seg_unit_rec *u)
{
	uint8_t v[SEG_UNIT_REC_LEN];

	unit_rec_encode(u, v);
	return idx_put(t, IDX_DB_UNITS, unit, strlen(unit), v, sizeof(v), 0);
}

static void unit_info_fill(const char *name, size_t nlen,
			   const seg_unit_rec *u, seg_unit_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, name, DD_MIN(nlen, (size_t)SEG_NAME_MAX));
	out->id = u->id;
	out->quota = u->q;
	out->logical_bytes = u->logical;
	out->object_count = u->objects;
	out->physical_bytes = u->physical;
	out->ctime_ns = u->ctime;
	out->over_soft = u->q.soft && u->logical > u->q.soft;
}

typedef struct unit_arg {
	const char *name;
	const seg_quota *q;
} unit_arg;

static int unit_create_apply(seg_store *s, idx_txn *t, void *arg)
{
	unit_arg *a = arg;
	seg_unit_rec u = {0};
	uint8_t v[8];
	dd_str cur;
	int rc;

	(void)s;
	if ((rc = idx_get(t, IDX_DB_META, "next_unit", 9, &cur)) != DD_OK)
		return rc == DD_ENOENT ? DD_ECORRUPT : rc;
	if (cur.len != 8)
		return DD_ECORRUPT;
	u.id = get_u64((const uint8_t *)cur.p);
	if (a->q)
		u.q = *a->q;
	u.ctime = dd_now_ns();
	{
		uint8_t rec[SEG_UNIT_REC_LEN];

		unit_rec_encode(&u, rec);
		if ((rc = idx_put(t, IDX_DB_UNITS, a->name, strlen(a->name),
				  rec, sizeof(rec), 1)) != DD_OK)
			return rc;
	}
	put_u64(v, u.id + 1);
	return idx_put(t, IDX_DB_META, "next_unit", 9, v, 8, 0);
}

int seg_unit_create(seg_store *s, const char *unit, const seg_quota *q)
{
	unit_arg a = {unit, q};

	if (seg_name_ok(unit) != DD_OK)
		return DD_EINVAL;
	return seg_commit(s, unit_create_apply, &a);
}

int seg_unit_stat(seg_store *s, const char *unit, seg_unit_info *out)
{
	seg_unit_rec u;
	idx_txn *t;
	int rc;

	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	rc = seg_unit_rec_get(t, unit, &u);
	idx_txn_abort(t);
	if (rc == DD_OK)
		unit_info_fill(unit, strlen(unit), &u, out);
	return rc;
}

static int unit_quota_apply(seg_store *s, idx_txn *t, void *arg)
{
	unit_arg *a = arg;
	seg_unit_rec u;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->name, &u)) != DD_OK)
		return rc;
	u.q = *a->q;
	return seg_unit_rec_put(t, a->name, &u);
}

int seg_unit_set_quota(seg_store *s, const char *unit, const seg_quota *q)
{
	unit_arg a = {unit, q};

	if (!q)
		return DD_EINVAL;
	return seg_commit(s, unit_quota_apply, &a);
}

/* DD_OK if db has a key starting with prefix (n bytes), else DD_ENOENT. */
static int has_prefix(idx_txn *t, int db, const void *prefix, size_t n)
{
	idx_cursor *c;
	dd_str k;
	int rc;

	if ((rc = idx_cursor_open(t, db, &c)) != DD_OK)
		return rc;
	rc = idx_cursor_seek(c, prefix, n, &k, NULL);
	if (rc == DD_OK && (k.len < n || memcmp(k.p, prefix, n) != 0))
		rc = DD_ENOENT;
	idx_cursor_close(c);
	return rc;
}

/* Deletes every key of db starting with prefix (n bytes) for which keep()
 * (NULL: none) returns 0. */
static int del_prefix(idx_txn *t, int db, const void *prefix, size_t n,
		      int (*match)(dd_str k, const void *ctx), const void *ctx)
{
	idx_cursor *c;
	dd_str k;
	int rc;

	if ((rc = idx_cursor_open(t, db, &c)) != DD_OK)
		return rc;
	for (rc = idx_cursor_seek(c, prefix, n, &k, NULL); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, NULL)) {
		if (k.len < n || memcmp(k.p, prefix, n) != 0)
			break;
		if (match && !match(k, ctx))
			continue;
		if ((rc = idx_cursor_del(c)) != DD_OK)
			break;
	}
	idx_cursor_close(c);
	return rc == DD_ENOENT || rc == DD_OK ? DD_OK : rc;
}

static int grant_of_unit(dd_str k, const void *ctx)
{
	const char *unit = ctx;
	const char *nul = memchr(k.p, 0, k.len);
	size_t ul = strlen(unit);

	return nul && (size_t)(k.p + k.len - nul - 1) == ul &&
	       memcmp(nul + 1, unit, ul) == 0;
}

static int unit_delete_apply(seg_store *s, idx_txn *t, void *arg)
{
	unit_arg *a = arg;
	seg_unit_rec u;
	uint8_t id[8];
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->name, &u)) != DD_OK)
		return rc;
	put_be64(id, u.id);
	if ((rc = has_prefix(t, IDX_DB_OBJECTS, id, 8)) != DD_ENOENT)
		return rc == DD_OK ? DD_ENOTEMPTY : rc;
	if ((rc = has_prefix(t, IDX_DB_UPLOADS, id, 8)) != DD_ENOENT)
		return rc == DD_OK ? DD_ENOTEMPTY : rc;
	if ((rc = del_prefix(t, IDX_DB_GRANTS, "", 0, grant_of_unit,
			     a->name)) != DD_OK ||
	    (rc = del_prefix(t, IDX_DB_UNITFP, id, 8, NULL, NULL)) != DD_OK)
		return rc;
	return idx_del(t, IDX_DB_UNITS, a->name, strlen(a->name));
}

int seg_unit_delete(seg_store *s, const char *unit)
{
	unit_arg a = {unit, NULL};

	if (seg_name_ok(unit) != DD_OK)
		return DD_ENOENT;
	return seg_commit(s, unit_delete_apply, &a);
}

int seg_unit_list(seg_store *s, seg_unit_cb cb, void *ctx)
{
	idx_txn *t;
	idx_cursor *c = NULL;
	dd_str k, v;
	int rc;

	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = idx_cursor_open(t, IDX_DB_UNITS, &c)) != DD_OK)
		goto out;
	for (rc = idx_cursor_seek(c, NULL, 0, &k, &v); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, &v)) {
		seg_unit_rec u;
		seg_unit_info info;

		if ((rc = unit_rec_decode(v, &u)) != DD_OK)
			goto out;
		unit_info_fill(k.p, k.len, &u, &info);
		if ((rc = cb(ctx, &info)) != 0)
			goto out;
	}
	if (rc == DD_ENOENT)
		rc = DD_OK;
out:
	idx_cursor_close(c);
	idx_txn_abort(t);
	return rc;
}

/* ---------------------------------------------------------------- users */

typedef struct user_arg {
	const char *name, *akey, *secret, *unit;
	int role;
} user_arg;

static int user_decode(dd_str k, dd_str v, seg_user *u)
{
	const uint8_t *p = (const uint8_t *)v.p;
	uint32_t al, sl;

	if (v.len < 8 || k.len > SEG_NAME_MAX)
		return DD_ECORRUPT;
	al = get_u16(p + 4);
	sl = get_u16(p + 6);
	if (al > SEG_AKEY_MAX || sl > SEG_SECRET_MAX || v.len != 8 + al + sl)
		return DD_ECORRUPT;
	memset(u, 0, sizeof(*u));
	memcpy(u->name, k.p, k.len);
	u->role = (int)get_u32(p);
	memcpy(u->access_key, p + 8, al);
	memcpy(u->secret, p + 8 + al, sl);
	return DD_OK;
}

static int user_create_apply(seg_store *s, idx_txn *t, void *arg)
{
	user_arg *a = arg;
	size_t al = strlen(a->akey), sl = strlen(a->secret);
	uint8_t v[8 + SEG_AKEY_MAX + SEG_SECRET_MAX];
	int rc;

	(void)s;
	put_u32(v, (uint32_t)a->role);
	put_u16(v + 4, (uint16_t)al);
	put_u16(v + 6, (uint16_t)sl);
	memcpy(v + 8, a->akey, al);
	memcpy(v + 8 + al, a->secret, sl);
	if ((rc = idx_put(t, IDX_DB_USERS, a->name, strlen(a->name), v,
			  8 + al + sl, 1)) != DD_OK)
		return rc;
	return idx_put(t, IDX_DB_AKEYS, a->akey, al, a->name, strlen(a->name),
		       1);
}

int seg_user_create(seg_store *s, const char *name, const char *access_key,
		    const char *secret, int role)
{
	user_arg a = {name, access_key, secret, NULL, role};
	size_t al = access_key ? strlen(access_key) : 0;
	size_t sl = secret ? strlen(secret) : 0;

	if (seg_name_ok(name) != DD_OK || al == 0 || al > SEG_AKEY_MAX ||
	    sl == 0 || sl > SEG_SECRET_MAX ||
	    (role != SEG_ROLE_USER && role != SEG_ROLE_ADMIN))
		return DD_EINVAL;
	for (size_t i = 0; i < al; i++)
		if (access_key[i] <= ' ' || access_key[i] > '~')
			return DD_EINVAL;
	return seg_commit(s, user_create_apply, &a);
}

static int user_get_txn(idx_txn *t, const char *name, seg_user *out)
{
	dd_str v;
	int rc;

	if (seg_name_ok(name) != DD_OK)
		return DD_ENOENT;
	if ((rc = idx_get(t, IDX_DB_USERS, name, strlen(name), &v)) != DD_OK)
		return rc;
	return user_decode((dd_str){name, strlen(name)}, v, out);
}

int seg_user_get(seg_store *s, const char *name, seg_user *out)
{
	idx_txn *t;
	int rc;

	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	rc = user_get_txn(t, name, out);
	idx_txn_abort(t);
	return rc;
}

int seg_user_by_access_key(seg_store *s, const char *access_key,
			   seg_user *out)
{
	char name[SEG_NAME_MAX + 1];
	idx_txn *t;
	dd_str v;
	int rc;

	if (!access_key || !*access_key)
		return DD_ENOENT;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	rc = idx_get(t, IDX_DB_AKEYS, access_key, strlen(access_key), &v);
	if (rc == DD_OK) {
		if (v.len > SEG_NAME_MAX) {
			rc = DD_ECORRUPT;
		} else {
			memcpy(name, v.p, v.len);
			name[v.len] = 0;
			rc = user_get_txn(t, name, out);
		}
	}
	idx_txn_abort(t);
	return rc;
}

int seg_user_secret(seg_store *s, dd_str ak, seg_user *out, char *secret,
		    size_t cap)
{
	char key[SEG_AKEY_MAX + 1];
	size_t n;
	int rc;

	if (ak.len == 0 || ak.len > SEG_AKEY_MAX || memchr(ak.p, 0, ak.len))
		return DD_ENOENT;
	memcpy(key, ak.p, ak.len);
	key[ak.len] = '\0';
	if ((rc = seg_user_by_access_key(s, key, out)) != DD_OK)
		return rc;
	n = strlen(out->secret);
	if (n + 1 > cap)
		return DD_ETOOBIG;
	memcpy(secret, out->secret, n + 1);
	return DD_OK;
}

static int user_delete_apply(seg_store *s, idx_txn *t, void *arg)
{
	user_arg *a = arg;
	uint8_t pre[SEG_NAME_MAX + 2];
	size_t nl = strlen(a->name);
	seg_user u;
	int rc;

	(void)s;
	if ((rc = user_get_txn(t, a->name, &u)) != DD_OK)
		return rc;
	memcpy(pre, a->name, nl);
	pre[nl] = 0;
	/* Data Domain refuses to delete a user a unit is assigned to */
	if ((rc = has_prefix(t, IDX_DB_GRANTS, pre, nl + 1)) != DD_ENOENT)
		return rc == DD_OK ? DD_EPERM : rc;
	if ((rc = idx_del(t, IDX_DB_AKEYS, u.access_key,
			  strlen(u.access_key))) != DD_OK && rc != DD_ENOENT)
		return rc;
	return idx_del(t, IDX_DB_USERS, a->name, nl);
}

int seg_user_delete(seg_store *s, const char *name)
{
	user_arg a = {name, NULL, NULL, NULL, 0};

	if (seg_name_ok(name) != DD_OK)
		return DD_ENOENT;
	return seg_commit(s, user_delete_apply, &a);
}

int seg_user_list(seg_store *s, seg_user_cb cb, void *ctx)
{
	idx_txn *t;
	idx_cursor *c = NULL;
	dd_str k, v;
	int rc;

	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = idx_cursor_open(t, IDX_DB_USERS, &c)) != DD_OK)
		goto out;
	for (rc = idx_cursor_seek(c, NULL, 0, &k, &v); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, &v)) {
		seg_user u;

		if ((rc = user_decode(k, v, &u)) != DD_OK)
			goto out;
		if ((rc = cb(ctx, &u)) != 0)
			goto out;
	}
	if (rc == DD_ENOENT)
		rc = DD_OK;
out:
	idx_cursor_close(c);
	idx_txn_abort(t);
	return rc;
}

/* Grant key: user NUL unit. Returns its length. */
static size_t grant_key(const char *user, const char *unit, uint8_t *k)
{
	size_t ul = strlen(user), nl = strlen(unit);

	memcpy(k, user, ul);
	k[ul] = 0;
	memcpy(k + ul + 1, unit, nl);
	return ul + 1 + nl;
}

static int grant_apply(seg_store *s, idx_txn *t, void *arg)
{
	user_arg *a = arg;
	uint8_t k[2 * SEG_NAME_MAX + 2];
	seg_user u;
	seg_unit_rec un;
	int rc;

	(void)s;
	if ((rc = user_get_txn(t, a->name, &u)) != DD_OK ||
	    (rc = seg_unit_rec_get(t, a->unit, &un)) != DD_OK)
		return rc;
	return idx_put(t, IDX_DB_GRANTS, k, grant_key(a->name, a->unit, k),
		       "", 0, 0);
}

static int revoke_apply(seg_store *s, idx_txn *t, void *arg)
{
	user_arg *a = arg;
	uint8_t k[2 * SEG_NAME_MAX + 2];

	(void)s;
	return idx_del(t, IDX_DB_GRANTS, k, grant_key(a->name, a->unit, k));
}

int seg_grant(seg_store *s, const char *user, const char *unit)
{
	user_arg a = {user, NULL, NULL, unit, 0};

	if (seg_name_ok(user) != DD_OK || seg_name_ok(unit) != DD_OK)
		return DD_ENOENT;
	return seg_commit(s, grant_apply, &a);
}

int seg_revoke(seg_store *s, const char *user, const char *unit)
{
	user_arg a = {user, NULL, NULL, unit, 0};

	if (seg_name_ok(user) != DD_OK || seg_name_ok(unit) != DD_OK)
		return DD_ENOENT;
	return seg_commit(s, revoke_apply, &a);
}

int seg_grant_check(seg_store *s, const char *user, const char *unit)
{
	uint8_t k[2 * SEG_NAME_MAX + 2];
	seg_user u;
	idx_txn *t;
	dd_str v;
	int rc;

	if (seg_name_ok(user) != DD_OK || seg_name_ok(unit) != DD_OK)
		return DD_EPERM;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	rc = user_get_txn(t, user, &u);
	if (rc == DD_OK && u.role != SEG_ROLE_ADMIN)
		rc = idx_get(t, IDX_DB_GRANTS, k, grant_key(user, unit, k), &v);
	idx_txn_abort(t);
	return rc == DD_ENOENT ? DD_EPERM : rc;
}

int seg_grant_list(seg_store *s, const char *user, seg_name_cb cb, void *ctx)
{
	uint8_t pre[SEG_NAME_MAX + 2];
	size_t nl;
	idx_txn *t;
	idx_cursor *c = NULL;
	dd_str k;
	int rc;

	if (seg_name_ok(user) != DD_OK)
		return DD_ENOENT;
	nl = strlen(user);
	memcpy(pre, user, nl);
	pre[nl] = 0;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = idx_cursor_open(t, IDX_DB_GRANTS, &c)) != DD_OK)
		goto out;
	for (rc = idx_cursor_seek(c, pre, nl + 1, &k, NULL); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, NULL)) {
		char name[SEG_NAME_MAX + 1];
		size_t ul;

		if (k.len <= nl + 1 || memcmp(k.p, pre, nl + 1) != 0)
			break;
		ul = k.len - nl - 1;
		if (ul > SEG_NAME_MAX) {
			rc = DD_ECORRUPT;
			goto out;
		}
		memcpy(name, k.p + nl + 1, ul);
		name[ul] = 0;
		if ((rc = cb(ctx, name)) != 0)
			goto out;
	}
	if (rc == DD_ENOENT || rc == DD_OK)
		rc = DD_OK;
out:
	idx_cursor_close(c);
	idx_txn_abort(t);
	return rc;
}

/* -------------------------------------------------------------- objects */

/*
 * LMDB keys are limited to 511 bytes, object keys to 1024. A key of at
 * most `direct` bytes is stored as is; a longer one as its first `direct`
 * bytes + SHA-256 of the whole key (the full key then lives in the
 * record). LMDB order is exact except among long keys sharing their first
 * `direct` bytes (ordered by hash): the listings sort such runs, see
 * docs/FORMAT.md.
 */
#define OBJ_KEY_DIRECT 463
#define UP_KEY_DIRECT 300

static size_t enc_key(dd_str key, size_t direct, uint8_t *out)
{
	if (key.len <= direct) {
		memcpy(out, key.p, key.len);
		return key.len;
	}
	memcpy(out, key.p, direct);
	seg_fingerprint(key.p, key.len, out + direct);
	return direct + SEG_FP_LEN;
}

size_t seg_obj_key(uint64_t unit_id, dd_str key, uint8_t *out)
{
	put_be64(out, unit_id);
	return 8 + enc_key(key, OBJ_KEY_DIRECT, out + 8);
}

int seg_obj_encode(const seg_stat *st, dd_str fullkey, dd_buf *b)
{
	uint8_t h[OBJ_HDR_LEN] = {0};
	size_t el = strlen(st->etag);
	int rc;

	if (st->attrs_len > SEG_ATTRS_MAX || el > SEG_ETAG_MAX ||
	    fullkey.len > SEG_KEY_MAX)
		return DD_EINVAL;
	memcpy(h, st->root, 32);
	put_u64(h + 32, st->size);
	put_u64(h + 40, (uint64_t)st->mtime_ns);
	put_u32(h + 48, st->flags);
	memcpy(h + 52, st->md5, 16);
	memcpy(h + 68, st->sha256, 32);
	put_u16(h + 100, (uint16_t)el);
	put_u16(h + 102, (uint16_t)fullkey.len);
	put_u32(h + 104, st->attrs_len);
	dd_buf_reset(b);
	if ((rc = dd_buf_append(b, h, sizeof(h))) != DD_OK ||
	    (rc = dd_buf_append(b, st->etag, el)) != DD_OK ||
	    (rc = dd_buf_append(b, st->attrs, st->attrs_len)) != DD_OK ||
	    (rc = dd_buf_append(b, fullkey.p, fullkey.len)) != DD_OK)
		return rc;
	return DD_OK;
}

/* The full key stored in a record (len 0 if the LMDB key is the key). */
static dd_str obj_fullkey(const void *vp, size_t n)
{
	const uint8_t *p = vp;
	size_t kl;

	if (n < OBJ_HDR_LEN)
		return (dd_str){NULL, 0};
	kl = get_u16(p + 102);
	if (kl > n - OBJ_HDR_LEN)
		return (dd_str){NULL, 0};
	return (dd_str){(const char *)p + n - kl, kl};
}

/* Full key of an entry: from the record when stored there, else ek. */
static dd_str entry_key(dd_str ek, dd_str v)
{
	dd_str fk = obj_fullkey(v.p, v.len);

	return fk.len ? fk : ek;
}

static dd_str long_part(dd_str key, size_t direct)
{
	return key.len > direct ? key : (dd_str){"", 0};
}

int seg_obj_decode(const void *vp, size_t n, seg_stat *st)
{
	const uint8_t *p = vp;
	size_t el, al;

	if (n < OBJ_HDR_LEN)
		return DD_ECORRUPT;
	el = get_u16(p + 100);
	al = get_u32(p + 104);
	if (el > SEG_ETAG_MAX || al > SEG_ATTRS_MAX ||
	    n != OBJ_HDR_LEN + el + al + get_u16(p + 102))
		return DD_ECORRUPT;
	memcpy(st->root, p, 32);
	st->size = get_u64(p + 32);
	st->mtime_ns = (int64_t)get_u64(p + 40);
	st->flags = get_u32(p + 48);
	memcpy(st->md5, p + 52, 16);
	memcpy(st->sha256, p + 68, 32);
	memcpy(st->etag, p + OBJ_HDR_LEN, el);
	st->etag[el] = 0;
	st->attrs_len = (uint32_t)al;
	memcpy(st->attrs, p + OBJ_HDR_LEN + el, al);
	return DD_OK;
}

int seg_obj_get(idx_txn *t, uint64_t unit_id, dd_str key, seg_stat *st)
{
	uint8_t k[8 + SEG_KEY_MAX];
	dd_str v;
	int rc;

	if ((rc = idx_get(t, IDX_DB_OBJECTS, k, seg_obj_key(unit_id, key, k),
			  &v)) != DD_OK)
		return rc;
	if (key.len > OBJ_KEY_DIRECT && !dd_str_eq(obj_fullkey(v.p, v.len), key))
		return DD_ENOENT; /* a SHA-256 collision: not this key */
	return seg_obj_decode(v.p, v.len, st);
}

int seg_obj_put(idx_txn *t, const char *unit, dd_str key, const seg_stat *st)
{
	uint8_t k[8 + SEG_KEY_MAX];
	seg_unit_rec u;
	seg_stat *old = NULL;
	dd_buf b;
	uint64_t logical;
	int rc;

	dd_buf_init(&b, OBJ_HDR_LEN + SEG_ETAG_MAX + SEG_ATTRS_MAX + 1);
	if ((rc = seg_unit_rec_get(t, unit, &u)) != DD_OK)
		goto out;
	old = malloc(sizeof(*old));
	if (!old) {
		rc = DD_ENOMEM;
		goto out;
	}
	rc = seg_obj_get(t, u.id, key, old);
	if (rc != DD_OK && rc != DD_ENOENT)
		goto out;
	logical = u.logical + st->size;
	if (rc == DD_OK) {
		logical -= DD_MIN(old->size, logical);
	} else {
		u.objects++;
	}
	if (u.q.hard && logical > u.q.hard && logical > u.logical) {
		rc = DD_EQUOTA;
		goto out;
	}
	u.logical = logical;
	if ((rc = seg_obj_encode(st, long_part(key, OBJ_KEY_DIRECT),
				 &b)) != DD_OK ||
	    (rc = idx_put(t, IDX_DB_OBJECTS, k, seg_obj_key(u.id, key, k),
			  b.data, b.len, 0)) != DD_OK)
		goto out;
	rc = seg_unit_rec_put(t, unit, &u);
out:
	free(old);
	dd_buf_release(&b);
	return rc;
}

/* Deletes (unit, key) in t, adjusting the unit's stats. */
static int obj_del(idx_txn *t, const char *unit, dd_str key)
{
	uint8_t k[8 + SEG_KEY_MAX];
	seg_unit_rec u;
	seg_stat *old;
	int rc;

	if ((rc = seg_unit_rec_get(t, unit, &u)) != DD_OK)
		return rc;
	old = malloc(sizeof(*old));
	if (!old)
		return DD_ENOMEM;
	if ((rc = seg_obj_get(t, u.id, key, old)) == DD_OK &&
	    (rc = idx_del(t, IDX_DB_OBJECTS, k,
			  seg_obj_key(u.id, key, k))) == DD_OK) {
		u.logical -= DD_MIN(u.logical, old->size);
		u.objects -= u.objects ? 1 : 0;
		rc = seg_unit_rec_put(t, unit, &u);
	}
	free(old);
	return rc;
}

int seg_stat_object(seg_store *s, const char *unit, dd_str key, seg_stat *st)
{
	seg_unit_rec u;
	idx_txn *t;
	int rc;

	if (seg_key_ok(key) != DD_OK)
		return DD_EINVAL;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = seg_unit_rec_get(t, unit, &u)) == DD_OK)
		rc = seg_obj_get(t, u.id, key, st);
	idx_txn_abort(t);
	return rc;
}

typedef struct obj_arg {
	const char *unit, *unit2;
	dd_str key, key2;
	int replace;
	const seg_attrs *attrs;
	seg_stat *st; /* scratch / result */
} obj_arg;

static int delete_apply(seg_store *s, idx_txn *t, void *arg)
{
	obj_arg *a = arg;

	(void)s;
	return obj_del(t, a->unit, a->key);
}

int seg_delete(seg_store *s, const char *unit, dd_str key)
{
	obj_arg a = {unit, NULL, key, {0}, 0, NULL, NULL};

	if (seg_key_ok(key) != DD_OK)
		return DD_EINVAL;
	return seg_commit(s, delete_apply, &a);
}

static int rename_apply(seg_store *s, idx_txn *t, void *arg)
{
	obj_arg *a = arg;
	seg_unit_rec u;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->unit, &u)) != DD_OK ||
	    (rc = seg_obj_get(t, u.id, a->key, a->st)) != DD_OK)
		return rc;
	if (a->key.len == a->key2.len &&
	    memcmp(a->key.p, a->key2.p, a->key.len) == 0)
		return DD_OK;
	if (!a->replace) {
		seg_stat *tmp = malloc(sizeof(*tmp));

		if (!tmp)
			return DD_ENOMEM;
		rc = seg_obj_get(t, u.id, a->key2, tmp);
		free(tmp);
		if (rc == DD_OK)
			return DD_EEXIST;
		if (rc != DD_ENOENT)
			return rc;
	}
	if ((rc = obj_del(t, a->unit, a->key)) != DD_OK)
		return rc;
	return seg_obj_put(t, a->unit, a->key2, a->st);
}

int seg_rename(seg_store *s, const char *unit, dd_str src, dd_str dst,
	       int replace)
{
	obj_arg a = {unit, NULL, src, dst, replace, NULL, NULL};
	int rc;

	if (seg_key_ok(src) != DD_OK || seg_key_ok(dst) != DD_OK)
		return DD_EINVAL;
	a.st = malloc(sizeof(*a.st));
	if (!a.st)
		return DD_ENOMEM;
	rc = seg_commit(s, rename_apply, &a);
	free(a.st);
	return rc;
}

/* Applies attrs (blob + etag) to st. */
int seg_attrs_apply(const seg_attrs *attrs, seg_stat *st)
{
	st->attrs_len = 0;
	st->etag[0] = 0;
	if (!attrs)
		return DD_OK;
	if (attrs->len > SEG_ATTRS_MAX || (attrs->len && !attrs->blob) ||
	    (attrs->etag && strlen(attrs->etag) > SEG_ETAG_MAX))
		return DD_EINVAL;
	if (attrs->len)
		memcpy(st->attrs, attrs->blob, attrs->len);
	st->attrs_len = (uint32_t)attrs->len;
	if (attrs->etag)
		memcpy(st->etag, attrs->etag, strlen(attrs->etag) + 1);
	return DD_OK;
}

static int clone_apply(seg_store *s, idx_txn *t, void *arg)
{
	obj_arg *a = arg;
	seg_unit_rec u;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->unit, &u)) != DD_OK ||
	    (rc = seg_obj_get(t, u.id, a->key, a->st)) != DD_OK)
		return rc;
	if (a->attrs && (rc = seg_attrs_apply(a->attrs, a->st)) != DD_OK)
		return rc;
	a->st->mtime_ns = dd_now_ns();
	return seg_obj_put(t, a->unit2, a->key2, a->st);
}

int seg_clone(seg_store *s, const char *su, dd_str sk, const char *du,
	      dd_str dk, const seg_attrs *attrs, seg_stat *st)
{
	obj_arg a = {su, du, sk, dk, 1, attrs, NULL};
	int rc;

	if (seg_key_ok(sk) != DD_OK || seg_key_ok(dk) != DD_OK)
		return DD_EINVAL;
	a.st = malloc(sizeof(*a.st));
	if (!a.st)
		return DD_ENOMEM;
	rc = seg_commit(s, clone_apply, &a);
	if (rc == DD_OK && st)
		*st = *a.st;
	free(a.st);
	return rc;
}

/* -------------------------------------------------------------- listing */

/* Sets k (n bytes) to the smallest string greater than every string it
 * prefixes; returns the new length or 0 if there is none. */
static size_t prefix_successor(uint8_t *k, size_t n)
{
	while (n > 0 && k[n - 1] == 0xff)
		n--;
	if (n > 0)
		k[n - 1]++;
	return n;
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	/* callers may pass (NULL, 0) slices: memcmp must not see them */
	int c = DD_MIN(al, bl) ? memcmp(a, b, DD_MIN(al, bl)) : 0;

	return c ? c : (al < bl ? -1 : al > bl);
}

static const void *memmem_s(const void *h, size_t hl, const void *n, size_t nl)
{
	return memmem(h, hl, n, nl);
}

static int starts_with(dd_str k, dd_str p)
{
	return p.len == 0 || (k.len >= p.len && memcmp(k.p, p.p, p.len) == 0);
}

/*
 * Long keys (> OBJ_KEY_DIRECT bytes) sharing their first OBJ_KEY_DIRECT
 * bytes sit in LMDB in hash order, as one adjacent run. The walk collects
 * such a run and visits it sorted by full key, so the listing is in exact
 * byte order. A run is capped to bound memory.
 */
#define SEG_LIST_RUN_MAX 65536

typedef struct run_ent {
	dd_str key; /* full key: points into the read txn's map */
	dd_str v;   /* record: likewise */
} run_ent;

typedef struct list_run {
	run_ent *e;
	size_t n, cap;
} list_run;

static int run_ent_cmp(const void *a, const void *b)
{
	const run_ent *x = a, *y = b;

	return bytes_cmp(x->key.p, x->key.len, y->key.p, y->key.len);
}

static int run_push(list_run *r, dd_str key, dd_str v)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		run_ent *ne;

		if (r->n >= SEG_LIST_RUN_MAX)
			return DD_ETOOBIG;
		nc = DD_MIN(nc, (size_t)SEG_LIST_RUN_MAX);
		ne = realloc(r->e, nc * sizeof(*ne));
		if (!ne)
			return DD_ENOMEM;
		r->e = ne;
		r->cap = nc;
	}
	r->e[r->n++] = (run_ent){key, v};
	return DD_OK;
}

/*
 * Collects the run of long-key entries starting at (*k, *v) (an LMDB key
 * of 8 + OBJ_KEY_DIRECT + SEG_FP_LEN bytes) into r, sorted by full key.
 * Leaves the cursor on the first entry past the run. Returns the cursor's
 * rc there (DD_OK, DD_ENOENT at the end), DD_ETOOBIG past
 * SEG_LIST_RUN_MAX entries, DD_ENOMEM. Entries point into the txn's map.
 */
static int run_collect(idx_cursor *c, dd_str *k, dd_str *v, list_run *r)
{
	uint8_t head[8 + OBJ_KEY_DIRECT];
	int rc;

	memcpy(head, k->p, sizeof(head));
	r->n = 0;
	do {
		dd_str ek = {k->p + 8, k->len - 8};

		if ((rc = run_push(r, entry_key(ek, *v), *v)) != DD_OK)
			return rc;
		rc = idx_cursor_next(c, k, v);
	} while (rc == DD_OK && k->len > sizeof(head) &&
		 memcmp(k->p, head, sizeof(head)) == 0);
	qsort(r->e, r->n, sizeof(*r->e), run_ent_cmp);
	return rc;
}

/* What the walk does after visiting one key. */
enum { WALK_NEXT, WALK_SKIP, WALK_DONE };

/* State of one seg_list walk. */
typedef struct list_walk {
	const seg_list_opts *o;
	seg_list_cb cb;
	void *ctx;
	seg_list_result *res;
	seg_stat *st;
	uint32_t limit, count;
	uint8_t last[SEG_KEY_MAX + 1];
	size_t lastl;
	int last_pfx;
	dd_str cand; /* with WALK_SKIP: the common prefix to seek past */
} list_walk;

/*
 * Visits one key (record v): emits it or its common prefix unless
 * filtered or already emitted. Sets *act: WALK_SKIP when every key after
 * it with the prefix w->cand rolls up (the caller may seek past it),
 * WALK_DONE when the limit is reached (res filled). Returns DD_OK, a
 * decode error, or the callback's nonzero return.
 */
static int walk_visit(list_walk *w, dd_str key, dd_str v, int *act)
{
	const seg_list_opts *o = w->o;
	size_t pl = o->prefix.len, dl = o->delimiter.len;
	dd_str sa = o->start_after, cand = key;
	const char *d;
	int is_pfx = 0, rc;

	*act = WALK_NEXT;
	if (!starts_with(key, o->prefix) ||
	    (sa.len && bytes_cmp(key.p, key.len, sa.p, sa.len) <= 0))
		return DD_OK;
	d = dl ? memmem_s(key.p + pl, key.len - pl, o->delimiter.p, dl) : NULL;
	if (d) {
		cand.len = (size_t)(d - key.p) + dl;
		is_pfx = 1;
	}
	if (is_pfx && ((w->last_pfx && w->lastl == cand.len &&
			memcmp(w->last, cand.p, w->lastl) == 0) ||
		       dd_str_eq(cand, sa))) {
		/* already reported (or the continuation point) */
	} else {
		if (w->count == w->limit) {
			w->res->truncated = 1;
			memcpy(w->res->next, w->last, w->lastl);
			w->res->next[w->lastl] = 0;
			w->res->next_len = w->lastl;
			*act = WALK_DONE;
			return DD_OK;
		}
		if (!is_pfx && (rc = seg_obj_decode(v.p, v.len, w->st)) != DD_OK)
			return rc;
		if ((rc = w->cb(w->ctx, cand, is_pfx, is_pfx ? NULL : w->st)))
			return rc;
		w->count++;
		memcpy(w->last, cand.p, cand.len);
		w->lastl = cand.len;
		w->last_pfx = is_pfx;
	}
	if (is_pfx && cand.len <= OBJ_KEY_DIRECT) {
		w->cand = cand;
		*act = WALK_SKIP;
	}
	return DD_OK;
}

/* Visits the sorted run r; *act as walk_visit's for the last key seen. */
static int walk_run(list_walk *w, const list_run *r, int *act)
{
	int rc = DD_OK;

	*act = WALK_NEXT;
	for (size_t i = 0; i < r->n && *act == WALK_NEXT; i++)
		if ((rc = walk_visit(w, r->e[i].key, r->e[i].v, act)) != DD_OK)
			break;
	return rc;
}

/*
 * The list walk. Keys are visited in LMDB order from a seek point (runs
 * of long keys sorted first, see run_collect); each yields a candidate
 * (the key, or its common prefix) that is emitted unless already emitted
 * or not past start_after. A common prefix short enough to be stored
 * directly is skipped over with one seek.
 */
int seg_list(seg_store *s, const char *unit, const seg_list_opts *o,
	     seg_list_cb cb, void *ctx, seg_list_result *res)
{
	uint8_t seek[8 + SEG_KEY_MAX + 2];
	size_t seekl, pl = o->prefix.len, dl = o->delimiter.len;
	size_t ppl = DD_MIN(pl, (size_t)OBJ_KEY_DIRECT);
	seg_unit_rec u;
	list_walk *w = NULL;
	list_run run = {0};
	idx_txn *t;
	idx_cursor *c = NULL;
	dd_str k, v, sa = o->start_after;
	int rc, act;

	memset(res, 0, sizeof(*res));
	if (pl > SEG_KEY_MAX || sa.len > SEG_KEY_MAX || dl > SEG_KEY_MAX)
		return DD_EINVAL;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = seg_unit_rec_get(t, unit, &u)) != DD_OK)
		goto out;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->st = malloc(sizeof(*w->st)))) {
		rc = DD_ENOMEM;
		goto out;
	}
	w->o = o;
	w->cb = cb;
	w->ctx = ctx;
	w->res = res;
	w->limit = o->limit ? o->limit : 1000;
	if ((rc = idx_cursor_open(t, IDX_DB_OBJECTS, &c)) != DD_OK)
		goto out;
	put_be64(seek, u.id);
	if (sa.len && bytes_cmp(sa.p, sa.len, o->prefix.p, pl) >= 0) {
		size_t n = DD_MIN(sa.len, (size_t)OBJ_KEY_DIRECT);

		memcpy(seek + 8, sa.p, n);
		seekl = 8 + n;
	} else {
		if (ppl)
			memcpy(seek + 8, o->prefix.p, ppl);
		seekl = 8 + ppl;
	}
	rc = idx_cursor_seek(c, seek, seekl, &k, &v);
	while (rc == DD_OK) {
		dd_str ek = {k.p + 8, k.len - 8};

		if (k.len < 8 || get_be64((const uint8_t *)k.p) != u.id ||
		    ek.len < ppl || (ppl && memcmp(ek.p, o->prefix.p, ppl) != 0)) {
			rc = DD_ENOENT;
			break;
		}
		if (ek.len > OBJ_KEY_DIRECT) {
			/* the cursor ends past the run: its rc is kept */
			int crc = run_collect(c, &k, &v, &run);

			if (crc != DD_OK && crc != DD_ENOENT) {
				rc = crc;
				goto out;
			}
			if ((rc = walk_run(w, &run, &act)) != DD_OK)
				goto out;
			rc = crc;
		} else {
			if ((rc = walk_visit(w, entry_key(ek, v), v, &act)) !=
			    DD_OK)
				goto out;
			if (act == WALK_NEXT)
				rc = idx_cursor_next(c, &k, &v);
		}
		if (act == WALK_DONE)
			goto out;
		if (act == WALK_SKIP) {
			memcpy(seek + 8, w->cand.p, w->cand.len);
			seekl = prefix_successor(seek + 8, w->cand.len);
			if (seekl == 0) {
				rc = DD_ENOENT;
				break;
			}
			rc = idx_cursor_seek(c, seek, 8 + seekl, &k, &v);
		}
	}
	if (rc == DD_ENOENT)
		rc = DD_OK;
out:
	if (w)
		free(w->st);
	free(w);
	free(run.e);
	idx_cursor_close(c);
	idx_txn_abort(t);
	return rc;
}

/* ----------------------------------------------------- multipart uploads */

/* Upload key: unit id + key NUL upload id. Returns length or 0. */
static size_t upload_key(uint64_t uid, dd_str key, const char *upload_id,
			 uint8_t *out)
{
	size_t il = upload_id ? strlen(upload_id) : 0;

	if (il == 0 || il > SEG_UPLOAD_ID_MAX)
		return 0;
	size_t kl;

	put_be64(out, uid);
	kl = 8 + enc_key(key, UP_KEY_DIRECT, out + 8);
	out[kl] = 0;
	memcpy(out + kl + 1, upload_id, il);
	return kl + 1 + il;
}
#define UPLOAD_KEY_MAX (9 + SEG_KEY_MAX + SEG_UPLOAD_ID_MAX + 5)

typedef struct up_arg {
	const char *unit;
	dd_str key;
	const char *upload_id;
	const seg_attrs *attrs;
	uint32_t number;
	const seg_ref *ref;
	const char *etag;
	const void *cksum;
	size_t cksum_len;
	seg_stat *st;
	/* complete: */
	const uint32_t *numbers;
	size_t n;
	const uint8_t (*roots)[SEG_FP_LEN]; /* as read before building */
	const uint8_t *new_root;
	uint64_t new_size;
} up_arg;

static int upload_create_apply(seg_store *s, idx_txn *t, void *arg)
{
	up_arg *a = arg;
	uint8_t k[UPLOAD_KEY_MAX];
	seg_unit_rec u;
	dd_buf b;
	size_t kl;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->unit, &u)) != DD_OK)
		return rc;
	if (!(kl = upload_key(u.id, a->key, a->upload_id, k)))
		return DD_EINVAL;
	memset(a->st, 0, sizeof(*a->st));
	if ((rc = seg_attrs_apply(a->attrs, a->st)) != DD_OK)
		return rc;
	a->st->mtime_ns = dd_now_ns();
	dd_buf_init(&b, OBJ_HDR_LEN + SEG_ETAG_MAX + SEG_ATTRS_MAX + 1);
	if ((rc = seg_obj_encode(a->st, long_part(a->key, UP_KEY_DIRECT),
				 &b)) == DD_OK)
		rc = idx_put(t, IDX_DB_UPLOADS, k, kl, b.data, b.len, 1);
	dd_buf_release(&b);
	return rc;
}

static int upload_run(seg_store *s, seg_apply_fn fn, up_arg *a)
{
	int rc;

	if (seg_key_ok(a->key) != DD_OK || !a->upload_id ||
	    !*a->upload_id || strlen(a->upload_id) > SEG_UPLOAD_ID_MAX)
		return DD_EINVAL;
	a->st = malloc(sizeof(*a->st));
	if (!a->st)
		return DD_ENOMEM;
	rc = seg_commit(s, fn, a);
	free(a->st);
	a->st = NULL;
	return rc;
}

int seg_upload_create(seg_store *s, const char *unit, dd_str key,
		      const char *upload_id, const seg_attrs *attrs)
{
	up_arg a = {0};

	a.unit = unit;
	a.key = key;
	a.upload_id = upload_id;
	a.attrs = attrs;
	return upload_run(s, upload_create_apply, &a);
}

static int part_decode(dd_str k, dd_str v, seg_part_info *p)
{
	const uint8_t *b = (const uint8_t *)v.p;
	size_t el, cl;

	if (v.len < PART_HDR_LEN || k.len < 4)
		return DD_ECORRUPT;
	el = get_u16(b + 104);
	cl = get_u16(b + 106);
	if (el > SEG_ETAG_MAX || cl > SEG_CKSUM_MAX ||
	    v.len != PART_HDR_LEN + el + cl)
		return DD_ECORRUPT;
	memset(p, 0, sizeof(*p));
	p->number = (uint32_t)get_be64((const uint8_t *)k.p + k.len - 8);
	memcpy(p->ref.root, b, 32);
	p->ref.size = get_u64(b + 32);
	memcpy(p->ref.md5, b + 40, 16);
	memcpy(p->ref.sha256, b + 56, 32);
	p->mtime_ns = (int64_t)get_u64(b + 88);
	memcpy(p->etag, b + PART_HDR_LEN, el);
	p->cksum_len = (uint32_t)cl;
	memcpy(p->cksum, b + PART_HDR_LEN + el, cl);
	return DD_OK;
}

static int put_part_apply(seg_store *s, idx_txn *t, void *arg)
{
	up_arg *a = arg;
	uint8_t k[UPLOAD_KEY_MAX + 9];
	uint8_t v[PART_HDR_LEN + SEG_ETAG_MAX + SEG_CKSUM_MAX] = {0};
	size_t kl, el = a->etag ? strlen(a->etag) : 0;
	seg_unit_rec u;
	dd_str cur;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->unit, &u)) != DD_OK)
		return rc;
	if (!(kl = upload_key(u.id, a->key, a->upload_id, k)))
		return DD_EINVAL;
	if ((rc = idx_get(t, IDX_DB_UPLOADS, k, kl, &cur)) != DD_OK)
		return rc;
	k[kl] = 0;
	put_be64(k + kl + 1, a->number);
	memcpy(v, a->ref->root, 32);
	put_u64(v + 32, a->ref->size);
	memcpy(v + 40, a->ref->md5, 16);
	memcpy(v + 56, a->ref->sha256, 32);
	put_u64(v + 88, (uint64_t)dd_now_ns());
	put_u16(v + 104, (uint16_t)el);
	put_u16(v + 106, (uint16_t)a->cksum_len);
	memcpy(v + PART_HDR_LEN, a->etag, el);
	if (a->cksum_len)
		memcpy(v + PART_HDR_LEN + el, a->cksum, a->cksum_len);
	return idx_put(t, IDX_DB_PARTS, k, kl + 9, v,
		       PART_HDR_LEN + el + a->cksum_len, 0);
}

int seg_upload_put_part(seg_store *s, const char *unit, dd_str key,
			const char *upload_id, uint32_t number,
			const seg_ref *ref, const char *etag,
			const void *cksum, size_t cksum_len)
{
	up_arg a = {0};

	if (number < 1 || number > SEG_PART_MAX || !ref ||
	    cksum_len > SEG_CKSUM_MAX || (cksum_len && !cksum) ||
	    (etag && strlen(etag) > SEG_ETAG_MAX))
		return DD_EINVAL;
	a.unit = unit;
	a.key = key;
	a.upload_id = upload_id;
	a.number = number;
	a.ref = ref;
	a.etag = etag;
	a.cksum = cksum;
	a.cksum_len = cksum_len;
	return upload_run(s, put_part_apply, &a);
}

/* Iterates parts of an upload (read txn t) with number > after. */
static int parts_iter(idx_txn *t, uint64_t uid, dd_str key,
		      const char *upload_id, uint32_t after, seg_part_cb cb,
		      void *ctx)
{
	uint8_t k[UPLOAD_KEY_MAX + 9];
	seg_part_info *p;
	idx_cursor *c = NULL;
	dd_str ck, cv;
	size_t kl;
	int rc;

	if (!(kl = upload_key(uid, key, upload_id, k)))
		return DD_EINVAL;
	if ((rc = idx_get(t, IDX_DB_UPLOADS, k, kl, &cv)) != DD_OK)
		return rc;
	k[kl] = 0;
	put_be64(k + kl + 1, (uint64_t)after + 1);
	p = malloc(sizeof(*p));
	if (!p)
		return DD_ENOMEM;
	if ((rc = idx_cursor_open(t, IDX_DB_PARTS, &c)) != DD_OK)
		goto out;
	for (rc = idx_cursor_seek(c, k, kl + 9, &ck, &cv); rc == DD_OK;
	     rc = idx_cursor_next(c, &ck, &cv)) {
		if (ck.len != kl + 9 || memcmp(ck.p, k, kl + 1) != 0)
			break;
		if ((rc = part_decode(ck, cv, p)) != DD_OK)
			goto out;
		if ((rc = cb(ctx, p)) != 0)
			goto out;
	}
	if (rc == DD_ENOENT || rc == DD_OK)
		rc = DD_OK;
out:
	idx_cursor_close(c);
	free(p);
	return rc;
}

int seg_upload_list_parts(seg_store *s, const char *unit, dd_str key,
			  const char *upload_id, uint32_t after,
			  seg_part_cb cb, void *ctx)
{
	seg_unit_rec u;
	idx_txn *t;
	int rc;

	if (seg_key_ok(key) != DD_OK)
		return DD_EINVAL;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = seg_unit_rec_get(t, unit, &u)) == DD_OK)
		rc = parts_iter(t, u.id, key, upload_id, after, cb, ctx);
	idx_txn_abort(t);
	return rc;
}

int seg_upload_stat(seg_store *s, const char *unit, dd_str key,
		    const char *upload_id, seg_stat *st)
{
	uint8_t k[UPLOAD_KEY_MAX];
	seg_unit_rec u;
	idx_txn *t;
	dd_str v;
	size_t kl;
	int rc;

	if (seg_key_ok(key) != DD_OK)
		return DD_EINVAL;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = seg_unit_rec_get(t, unit, &u)) == DD_OK) {
		if (!(kl = upload_key(u.id, key, upload_id, k)))
			rc = DD_EINVAL;
		else if ((rc = idx_get(t, IDX_DB_UPLOADS, k, kl, &v)) == DD_OK)
			rc = seg_obj_decode(v.p, v.len, st);
	}
	idx_txn_abort(t);
	return rc;
}

/* One upload entry, decoded: key points into the txn's map. */
typedef struct up_ent {
	dd_str key;
	char id[SEG_UPLOAD_ID_MAX + 1];
	int64_t ctime_ns;
} up_ent;

/* Decodes the uploads entry (ck, cv) into e. DD_ECORRUPT. */
static int up_decode(dd_str ck, dd_str cv, up_ent *e)
{
	dd_str fk;
	size_t el, il;

	if (ck.len < 8 || cv.len < OBJ_HDR_LEN)
		return DD_ECORRUPT;
	/* the encoded key's length follows from the full key's */
	fk = obj_fullkey(cv.p, cv.len);
	if (fk.len) {
		e->key = fk;
		el = UP_KEY_DIRECT + SEG_FP_LEN;
	} else {
		const char *nul = memchr(ck.p + 8, 0, ck.len - 8);

		if (!nul)
			return DD_ECORRUPT;
		e->key = (dd_str){ck.p + 8, (size_t)(nul - ck.p - 8)};
		el = e->key.len;
	}
	if (ck.len < 8 + el + 2 || ck.len - 9 - el > SEG_UPLOAD_ID_MAX)
		return DD_ECORRUPT;
	il = ck.len - 9 - el;
	memcpy(e->id, ck.p + 9 + el, il);
	e->id[il] = 0;
	e->ctime_ns = (int64_t)get_u64((const uint8_t *)cv.p + 40);
	return DD_OK;
}

static int up_ent_cmp(const void *a, const void *b)
{
	const up_ent *x = a, *y = b;
	int c = bytes_cmp(x->key.p, x->key.len, y->key.p, y->key.len);

	return c ? c : strcmp(x->id, y->id);
}

/*
 * Collects into *run (grown, caller frees) the uploads whose keys are at
 * least UP_KEY_DIRECT bytes and share the first UP_KEY_DIRECT bytes with
 * the one at (*ck, *cv): adjacent in LMDB, in hash order for long keys.
 * Sorts them by key then id; leaves the cursor past them and returns its
 * rc (DD_OK, DD_ENOENT), or DD_ETOOBIG past SEG_LIST_RUN_MAX, DD_ENOMEM,
 * DD_ECORRUPT.
 */
static int up_run_collect(idx_cursor *c, dd_str *ck, dd_str *cv,
			  up_ent **run, size_t *cap, size_t *n)
{
	uint8_t head[8 + UP_KEY_DIRECT];
	up_ent e;
	int rc;

	memcpy(head, ck->p, sizeof(head));
	*n = 0;
	do {
		if ((rc = up_decode(*ck, *cv, &e)) != DD_OK)
			return rc;
		if (e.key.len < UP_KEY_DIRECT)
			break;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			up_ent *ne;

			if (*n >= SEG_LIST_RUN_MAX)
				return DD_ETOOBIG;
			ne = realloc(*run, nc * sizeof(*ne));
			if (!ne)
				return DD_ENOMEM;
			*run = ne;
			*cap = nc;
		}
		(*run)[(*n)++] = e;
		rc = idx_cursor_next(c, ck, cv);
	} while (rc == DD_OK && ck->len > sizeof(head) &&
		 memcmp(ck->p, head, sizeof(head)) == 0);
	qsort(*run, *n, sizeof(**run), up_ent_cmp);
	return rc;
}

/*
 * Uploads are walked in LMDB order, except that a run of keys sharing
 * their first UP_KEY_DIRECT bytes is collected and sorted (see
 * up_run_collect), so the order is exact: by key bytes, then id.
 */
int seg_upload_list(seg_store *s, const char *unit, dd_str prefix,
		    seg_upload_cb cb, void *ctx)
{
	uint8_t k[8 + SEG_KEY_MAX];
	size_t ppl = DD_MIN(prefix.len, (size_t)UP_KEY_DIRECT), cap = 0, n;
	seg_unit_rec u;
	idx_txn *t;
	idx_cursor *c = NULL;
	up_ent *run = NULL, e;
	dd_str ck, cv;
	int rc;

	if (prefix.len > SEG_KEY_MAX)
		return DD_EINVAL;
	if ((rc = seg_rtxn(s, &t)) != DD_OK)
		return rc;
	if ((rc = seg_unit_rec_get(t, unit, &u)) != DD_OK)
		goto out;
	put_be64(k, u.id);
	if (ppl)
		memcpy(k + 8, prefix.p, ppl);
	if ((rc = idx_cursor_open(t, IDX_DB_UPLOADS, &c)) != DD_OK)
		goto out;
	rc = idx_cursor_seek(c, k, 8 + ppl, &ck, &cv);
	while (rc == DD_OK) {
		if (ck.len < 8 + ppl || memcmp(ck.p, k, 8 + ppl) != 0)
			break;
		if ((rc = up_decode(ck, cv, &e)) != DD_OK)
			goto out;
		if (e.key.len >= UP_KEY_DIRECT) {
			int crc = up_run_collect(c, &ck, &cv, &run, &cap, &n);

			if (crc != DD_OK && crc != DD_ENOENT) {
				rc = crc;
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				if (starts_with(run[i].key, prefix) &&
				    (rc = cb(ctx, run[i].key, run[i].id,
					     run[i].ctime_ns)) != 0)
					goto out;
			rc = crc;
			continue;
		}
		if (starts_with(e.key, prefix) &&
		    (rc = cb(ctx, e.key, e.id, e.ctime_ns)) != 0)
			goto out;
		rc = idx_cursor_next(c, &ck, &cv);
	}
	if (rc == DD_ENOENT || rc == DD_OK)
		rc = DD_OK;
out:
	free(run);
	idx_cursor_close(c);
	idx_txn_abort(t);
	return rc;
}

/* Removes the upload record and all its parts in t. */
static int upload_remove(idx_txn *t, uint64_t uid, dd_str key,
			 const char *upload_id)
{
	uint8_t k[UPLOAD_KEY_MAX + 1];
	size_t kl;
	int rc;

	if (!(kl = upload_key(uid, key, upload_id, k)))
		return DD_EINVAL;
	if ((rc = idx_del(t, IDX_DB_UPLOADS, k, kl)) != DD_OK)
		return rc;
	k[kl] = 0;
	return del_prefix(t, IDX_DB_PARTS, k, kl + 1, NULL, NULL);
}

static int upload_abort_apply(seg_store *s, idx_txn *t, void *arg)
{
	up_arg *a = arg;
	seg_unit_rec u;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->unit, &u)) != DD_OK)
		return rc;
	return upload_remove(t, u.id, a->key, a->upload_id);
}

int seg_upload_abort(seg_store *s, const char *unit, dd_str key,
		     const char *upload_id)
{
	up_arg a = {0};

	a.unit = unit;
	a.key = key;
	a.upload_id = upload_id;
	return upload_run(s, upload_abort_apply, &a);
}

/* ----- complete: read parts, build a root over them, commit atomically */

typedef struct collect_ctx {
	const uint32_t *numbers;
	size_t n, i;
	uint8_t (*roots)[SEG_FP_LEN];
	uint64_t *sizes;
	int bad;
} collect_ctx;

static int collect_part(void *ctx, const seg_part_info *p)
{
	collect_ctx *c = ctx;

	if (c->i < c->n && p->number == c->numbers[c->i]) {
		memcpy(c->roots[c->i], p->ref.root, SEG_FP_LEN);
		c->sizes[c->i] = p->ref.size;
		c->i++;
	}
	return 0;
}


static int complete_apply(seg_store *s, idx_txn *t, void *arg)
{
	up_arg *a = arg;
	uint8_t k[UPLOAD_KEY_MAX + 9];
	seg_unit_rec u;
	dd_str v;
	size_t kl;
	int rc;

	(void)s;
	if ((rc = seg_unit_rec_get(t, a->unit, &u)) != DD_OK)
		return rc;
	if (!(kl = upload_key(u.id, a->key, a->upload_id, k)))
		return DD_EINVAL;
	if ((rc = idx_get(t, IDX_DB_UPLOADS, k, kl, &v)) != DD_OK)
		return rc;
	if ((rc = seg_obj_decode(v.p, v.len, a->st)) != DD_OK)
		return rc;
	/* every listed part must still be the one the root was built from */
	k[kl] = 0;
	for (size_t i = 0; i < a->n; i++) {
		dd_str pv;

		put_be64(k + kl + 1, a->numbers[i]);
		if ((rc = idx_get(t, IDX_DB_PARTS, k, kl + 9, &pv)) != DD_OK)
			return rc == DD_ENOENT ? DD_EINVAL : rc;
		if (pv.len < 32 || memcmp(pv.p, a->roots[i], 32) != 0)
			return DD_EAGAIN;
	}
	memcpy(a->st->root, a->new_root, SEG_FP_LEN);
	a->st->size = a->new_size;
	a->st->flags = 0;
	a->st->mtime_ns = dd_now_ns();
	if (a->attrs && (rc = seg_attrs_apply(a->attrs, a->st)) != DD_OK)
		return rc;
	if (a->etag) {
		memcpy(a->st->etag, a->etag, strlen(a->etag) + 1);
	}
	if ((rc = upload_remove(t, u.id, a->key, a->upload_id)) != DD_OK)
		return rc;
	return seg_obj_put(t, a->unit, a->key, a->st);
}

int seg_upload_complete(seg_store *s, const char *unit, dd_str key,
			const char *upload_id, const uint32_t *numbers,
			size_t n, const char *etag, seg_stat *st)
{
	return seg_upload_complete_attrs(s, unit, key, upload_id, numbers, n,
					 NULL, etag, st);
}

int seg_upload_complete_attrs(seg_store *s, const char *unit, dd_str key,
			      const char *upload_id, const uint32_t *numbers,
			      size_t n, const seg_attrs *attrs,
			      const char *etag, seg_stat *st)
{
	collect_ctx cc = {numbers, n, 0, NULL, NULL, 0};
	uint8_t root[SEG_FP_LEN];
	uint64_t size;
	up_arg a = {0};
	int rc;

	if (seg_key_ok(key) != DD_OK || n == 0 || n > SEG_PART_MAX ||
	    (etag && strlen(etag) > SEG_ETAG_MAX) ||
	    (attrs && (attrs->len > SEG_ATTRS_MAX ||
		       (attrs->etag && strlen(attrs->etag) > SEG_ETAG_MAX))))
		return DD_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (numbers[i] < 1 || numbers[i] > SEG_PART_MAX ||
		    (i && numbers[i] <= numbers[i - 1]))
			return DD_EINVAL;
	cc.roots = calloc(n, SEG_FP_LEN);
	cc.sizes = calloc(n, sizeof(uint64_t));
	if (!cc.roots || !cc.sizes) {
		rc = DD_ENOMEM;
		goto out;
	}
	if ((rc = seg_upload_list_parts(s, unit, key, upload_id, 0,
					collect_part, &cc)) != DD_OK)
		goto out;
	if (cc.i != n) {
		rc = DD_EINVAL; /* a listed part was never uploaded */
		goto out;
	}
	if ((rc = seg_build_concat(s, unit, (const uint8_t(*)[32])cc.roots,
				   cc.sizes, n, root, &size)) != DD_OK)
		goto out;
	a.unit = unit;
	a.key = key;
	a.upload_id = upload_id;
	a.etag = etag;
	a.attrs = attrs;
	a.numbers = numbers;
	a.n = n;
	a.roots = (const uint8_t(*)[32])cc.roots;
	a.new_root = root;
	a.new_size = size;
	a.st = malloc(sizeof(*a.st));
	if (!a.st) {
		rc = DD_ENOMEM;
		goto out;
	}
	rc = seg_commit(s, complete_apply, &a);
	if (rc == DD_OK && st)
		*st = *a.st;
out:
	free(a.st);
	free(cc.roots);
	free(cc.sizes);
	return rc;
}
