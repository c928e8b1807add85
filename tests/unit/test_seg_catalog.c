/* tests/unit/test_seg_catalog.c - clone, concat, synthesize, rename,
 * delete, list, units, users and grants, multipart uploads, quotas. */
#include "seg_test.h"

typedef struct fx {
	char *dir;
	seg_store *s;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	f->dir = tst_tmpdir();
	assert_int_equal(seg_store_open(f->dir, NULL, &f->s), DD_OK);
	assert_int_equal(seg_unit_create(f->s, "u1", NULL), DD_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	seg_store_close(f->s);
	tst_rmdir(f->dir);
	free(f);
	return 0;
}

static void expect_content(seg_store *s, const char *unit, const char *key,
			   const uint8_t *d, size_t n)
{
	uint8_t *back;
	size_t gn;

	assert_int_equal(tst_get(s, unit, key, &back, &gn), DD_OK);
	assert_int_equal(gn, n);
	if (n)
		assert_memory_equal(back, d, n);
	free(back);
}

static void test_clone_concat_rename_delete(void **state)
{
	fx *f = *state;
	size_t n = 700000;
	uint8_t *a = malloc(n), *b = malloc(n), *ab = malloc(2 * n);
	seg_stat sa, sc, st;
	seg_attrs at = {"ct=text/plain", 13, "\"etag-1\""};
	dd_str parts[3] = {tst_key("a"), tst_key("b"), tst_key("a")};
	uint8_t *aba = malloc(3 * n);
	seg_unit_info ui;

	tst_fill(a, n, 1);
	tst_fill(b, n, 2);
	memcpy(ab, a, n);
	memcpy(ab + n, b, n);
	memcpy(aba, ab, 2 * n);
	memcpy(aba + 2 * n, a, n);
	assert_int_equal(tst_put(f->s, "u1", "a", a, n, &sa), DD_OK);
	assert_int_equal(tst_put(f->s, "u1", "b", b, n, NULL), DD_OK);

	/* clone: same root, new attrs; other unit too */
	assert_int_equal(seg_clone(f->s, "u1", tst_key("a"), "u1",
				   tst_key("a2"), &at, &sc), DD_OK);
	assert_memory_equal(sc.root, sa.root, 32);
	assert_memory_equal(sc.sha256, sa.sha256, 32);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key("a2"), &st),
			 DD_OK);
	assert_int_equal(st.attrs_len, 13);
	assert_memory_equal(st.attrs, "ct=text/plain", 13);
	assert_string_equal(st.etag, "\"etag-1\"");
	expect_content(f->s, "u1", "a2", a, n);
	assert_int_equal(seg_unit_create(f->s, "u2", NULL), DD_OK);
	assert_int_equal(seg_clone(f->s, "u1", tst_key("a"), "u2",
				   tst_key("c"), NULL, NULL), DD_OK);
	expect_content(f->s, "u2", "c", a, n);
	assert_int_equal(seg_clone(f->s, "u1", tst_key("nope"), "u2",
				   tst_key("c"), NULL, NULL), DD_ENOENT);

	/* concat */
	assert_int_equal(seg_concat(f->s, "u1", tst_key("aba"), parts, 3, NULL,
				    &st), DD_OK);
	assert_int_equal(st.size, 3 * n);
	expect_content(f->s, "u1", "aba", aba, 3 * n);
	assert_int_equal(seg_concat(f->s, "u1", tst_key("a1"), parts, 1, NULL,
				    &st), DD_OK);
	assert_memory_equal(st.root, sa.root, 32);

	/* rename */
	assert_int_equal(seg_rename(f->s, "u1", tst_key("a2"), tst_key("b"),
				    0), DD_EEXIST);
	assert_int_equal(seg_rename(f->s, "u1", tst_key("a2"), tst_key("z"),
				    0), DD_OK);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key("a2"), &st),
			 DD_ENOENT);
	expect_content(f->s, "u1", "z", a, n);
	assert_int_equal(seg_rename(f->s, "u1", tst_key("z"), tst_key("b"),
				    1), DD_OK);
	expect_content(f->s, "u1", "b", a, n);

	/* delete and unit accounting: a, b(=a), aba, a1 remain */
	assert_int_equal(seg_delete(f->s, "u1", tst_key("a1")), DD_OK);
	assert_int_equal(seg_delete(f->s, "u1", tst_key("a1")), DD_ENOENT);
	assert_int_equal(seg_unit_stat(f->s, "u1", &ui), DD_OK);
	assert_int_equal(ui.object_count, 3);
	assert_int_equal(ui.logical_bytes, 5 * n);
	assert_true(ui.physical_bytes > 0);
	free(a);
	free(b);
	free(ab);
	free(aba);
}

static void test_synthesize(void **state)
{
	fx *f = *state;
	size_t n = 1u << 20;
	uint8_t *a = malloc(n), *b = malloc(n), *want = malloc(3 * n);
	uint8_t lit[5000];
	size_t wn = 0;
	seg_stat st;
	seg_extent ext[5];
	seg_stats s0, s1;

	tst_fill(a, n, 11);
	tst_fill(b, n, 12);
	tst_fill(lit, sizeof(lit), 13);
	assert_int_equal(tst_put(f->s, "u1", "full", a, n, NULL), DD_OK);
	assert_int_equal(tst_put(f->s, "u1", "incr", b, n, NULL), DD_OK);
	ext[0] = (seg_extent){tst_key("full"), 0, 300000, NULL};
	ext[1] = (seg_extent){tst_key("incr"), 12345, 200000, NULL};
	ext[2] = (seg_extent){{NULL, 0}, 0, sizeof(lit), lit};
	ext[3] = (seg_extent){tst_key("full"), 500001, n - 500001, NULL};
	ext[4] = (seg_extent){tst_key("incr"), n - 1, 1, NULL};
	memcpy(want + wn, a, 300000), wn += 300000;
	memcpy(want + wn, b + 12345, 200000), wn += 200000;
	memcpy(want + wn, lit, sizeof(lit)), wn += sizeof(lit);
	memcpy(want + wn, a + 500001, n - 500001), wn += n - 500001;
	memcpy(want + wn, b + n - 1, 1), wn += 1;
	seg_store_stats(f->s, &s0);
	assert_int_equal(seg_synthesize(f->s, "u1", tst_key("synth"), ext, 5,
					NULL, &st), DD_OK);
	seg_store_stats(f->s, &s1);
	assert_int_equal(st.size, wn);
	expect_content(f->s, "u1", "synth", want, wn);
	/* only edge pieces and the literal are new chunks */
	assert_true(s1.chunks_new - s0.chunks_new < 12);
	ext[0].len = n + 1;
	assert_int_equal(seg_synthesize(f->s, "u1", tst_key("bad"), ext, 1,
					NULL, &st), DD_ERANGE);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key("bad"), &st),
			 DD_ENOENT);
	free(a);
	free(b);
	free(want);
}

typedef struct list_out {
	char ent[64][1100];
	size_t len[64];
	int pfx[64];
	int n;
} list_out;

static int list_cb(void *ctx, dd_str key, int is_prefix, const seg_stat *st)
{
	list_out *o = ctx;

	assert_true(o->n < 64);
	assert_true(is_prefix ? st == NULL : st != NULL);
	memcpy(o->ent[o->n], key.p, key.len);
	o->len[o->n] = key.len;
	o->pfx[o->n++] = is_prefix;
	return 0;
}

static void do_list(seg_store *s, const char *prefix, const char *delim,
		    const char *after, uint32_t limit, list_out *o,
		    seg_list_result *res)
{
	seg_list_opts lo = {tst_key(prefix), tst_key(delim), tst_key(after),
			    limit};

	memset(o, 0, sizeof(*o));
	assert_int_equal(seg_list(s, "u1", &lo, list_cb, o, res), DD_OK);
}

static void expect_list(const list_out *o, const char *const *want, int n)
{
	assert_int_equal(o->n, n);
	for (int i = 0; i < n; i++) {
		int pfx = want[i][0] == '+';
		const char *k = want[i] + pfx;

		assert_int_equal(o->pfx[i], pfx);
		assert_int_equal(o->len[i], strlen(k));
		assert_memory_equal(o->ent[i], k, strlen(k));
	}
}

static int long_up_cb(void *ctx, dd_str key, const char *id, int64_t t)
{
	int *n = ctx;

	(void)t;
	assert_int_equal(key.len, 604);
	assert_string_equal(id, "up-l");
	(*n)++;
	return 0;
}

static int long_up_cb_any(void *ctx, dd_str key, const char *id, int64_t t)
{
	(void)ctx;
	(void)key;
	(void)id;
	(void)t;
	return 0;
}

static void test_list(void **state)
{
	fx *f = *state;
	const char *keys[] = {"a", "a/b", "a/c/d", "a/c/e", "b", "b/x",
			      "c\xff", "c\xff\xff/1", "c\x01", "\xe2\x82\xac/u",
			      "d/1", "d/2", "d/3"};
	list_out o;
	seg_list_result res;
	char big[1025];
	uint8_t one = 'x';

	for (size_t i = 0; i < DD_ARRAY_LEN(keys); i++)
		assert_int_equal(tst_put(f->s, "u1", keys[i], &one, 1, NULL),
				 DD_OK);
	memset(big, 'k', 1024);
	big[1024] = 0;
	assert_int_equal(tst_put(f->s, "u1", big, &one, 1, NULL), DD_OK);
	big[0] = 'l';
	{
		seg_writer *w;
		assert_int_equal(seg_writer_open(f->s, "u1",
						 (dd_str){big, 1025}, &w),
				 DD_EINVAL);
	}
	/* a multipart upload in progress must not show up */
	assert_int_equal(seg_upload_create(f->s, "u1", tst_key("a/mp"), "up1",
					   NULL), DD_OK);

	do_list(f->s, "", "", "", 0, &o, &res);
	assert_int_equal(o.n, 14);
	{
		/* all-NULL slices mean "none" too */
		seg_list_opts lo;
		list_out o2;

		memset(&lo, 0, sizeof(lo));
		memset(&o2, 0, sizeof(o2));
		assert_int_equal(seg_list(f->s, "u1", &lo, list_cb, &o2, &res),
				 DD_OK);
		assert_int_equal(o2.n, 14);
		assert_int_equal(seg_upload_list(f->s, "u1", (dd_str){NULL, 0},
						 long_up_cb_any, NULL), DD_OK);
	}
	for (int i = 1; i < o.n; i++) /* byte order */
		assert_true(memcmp(o.ent[i - 1], o.ent[i],
				   DD_MIN(o.len[i - 1], o.len[i])) < 0 ||
			    (memcmp(o.ent[i - 1], o.ent[i],
				    DD_MIN(o.len[i - 1], o.len[i])) == 0 &&
			     o.len[i - 1] < o.len[i]));
	assert_false(res.truncated);

	big[0] = 'k';
	const char *all[] = {"a", "+a/", "b", "+b/", "c\x01", "c\xff",
			     "+c\xff\xff/", "+d/", big, "+\xe2\x82\xac/"};
	do_list(f->s, "", "/", "", 0, &o, &res);
	expect_list(&o, all, 10);
	assert_false(res.truncated);

	do_list(f->s, "a/", "/", "", 0, &o, &res);
	expect_list(&o, (const char *const[]){"a/b", "+a/c/"}, 2);

	do_list(f->s, "a/c/", "", "a/c/d", 0, &o, &res);
	expect_list(&o, (const char *const[]){"a/c/e"}, 1);

	/* pagination with limit 3 over keys and common prefixes */
	int got = 0, pages = 0;
	char after[1100] = "";
	for (;;) {
		do_list(f->s, "", "/", after, 3, &o, &res);
		pages++;
		assert_true(o.n <= 3);
		for (int i = 0; i < o.n; i++, got++) {
			const char *w = all[got] + (all[got][0] == '+');

			assert_true(got < 10);
			assert_int_equal(o.len[i], strlen(w));
			assert_memory_equal(o.ent[i], w, strlen(w));
		}
		if (!res.truncated)
			break;
		assert_int_equal(o.n, 3);
		memcpy(after, res.next, res.next_len + 1);
	}
	assert_int_equal(got, 10);
	assert_int_equal(pages, 4);

	/* long keys sharing 600 bytes: both stored, found, listed once */
	char l1[700], l2[700];
	seg_stat st;
	memset(l1, 'L', 600);
	memcpy(l1 + 600, "/one", 5);
	memset(l2, 'L', 600);
	memcpy(l2 + 600, "/two", 5);
	assert_int_equal(tst_put(f->s, "u1", l1, "1", 1, NULL), DD_OK);
	assert_int_equal(tst_put(f->s, "u1", l2, "22", 2, NULL), DD_OK);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key(l1), &st), DD_OK);
	assert_int_equal(st.size, 1);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key(l2), &st), DD_OK);
	assert_int_equal(st.size, 2);
	do_list(f->s, "LLLL", "", "", 0, &o, &res);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.len[0], 604);
	do_list(f->s, "LLLL", "/", "", 0, &o, &res);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.pfx[0], 1);
	assert_int_equal(o.len[0], 601);
	do_list(f->s, "", "", l1, 0, &o, &res);
	assert_int_equal(o.n, 15); /* l2, then the 14 keys above ('L' < 'a') */
	assert_int_equal(o.len[0], 604);
	assert_memory_equal(o.ent[0], l2, 604);
	assert_int_equal(seg_upload_create(f->s, "u1", tst_key(l1), "up-l",
					   NULL), DD_OK);
	int nu = 0;
	assert_int_equal(seg_upload_list(f->s, "u1", tst_key(l1), long_up_cb,
					 &nu), DD_OK);
	assert_int_equal(nu, 1);
}

static void test_units_users_grants(void **state)
{
	fx *f = *state;
	seg_user u;
	seg_unit_info ui;
	seg_quota q = {100, 200, 3};
	uint8_t one = 1;

	assert_int_equal(seg_unit_create(f->s, "u1", NULL), DD_EEXIST);
	assert_int_equal(seg_unit_create(f->s, "bad/name", NULL), DD_EINVAL);
	assert_int_equal(seg_unit_create(f->s, "u2", &q), DD_OK);
	assert_int_equal(seg_unit_stat(f->s, "u2", &ui), DD_OK);
	assert_int_equal(ui.quota.hard, 200);
	assert_int_equal(ui.quota.stream_limit, 3);
	assert_true(ui.id > 0);
	assert_int_equal(seg_unit_stat(f->s, "u3", &ui), DD_ENOENT);

	assert_int_equal(seg_user_create(f->s, "alice", "AKIAALICE", "s3cr3t",
					 SEG_ROLE_USER), DD_OK);
	assert_int_equal(seg_user_create(f->s, "bob", "AKIAALICE", "x",
					 SEG_ROLE_USER), DD_EEXIST);
	assert_int_equal(seg_user_create(f->s, "root", "AKIAROOT", "rootpw",
					 SEG_ROLE_ADMIN), DD_OK);
	assert_int_equal(seg_user_by_access_key(f->s, "AKIAALICE", &u), DD_OK);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.secret, "s3cr3t");
	assert_int_equal(u.role, SEG_ROLE_USER);
	assert_int_equal(seg_user_by_access_key(f->s, "nope", &u), DD_ENOENT);

	assert_int_equal(seg_grant_check(f->s, "alice", "u2"), DD_EPERM);
	assert_int_equal(seg_grant_check(f->s, "root", "u2"), DD_OK);
	assert_int_equal(seg_grant(f->s, "alice", "u2"), DD_OK);
	assert_int_equal(seg_grant(f->s, "alice", "nounit"), DD_ENOENT);
	assert_int_equal(seg_grant_check(f->s, "alice", "u2"), DD_OK);
	assert_int_equal(seg_grant_check(f->s, "alice", "u1"), DD_EPERM);
	/* an assigned user cannot be deleted */
	assert_int_equal(seg_user_delete(f->s, "alice"), DD_EPERM);
	assert_int_equal(seg_revoke(f->s, "alice", "u2"), DD_OK);
	assert_int_equal(seg_revoke(f->s, "alice", "u2"), DD_ENOENT);
	assert_int_equal(seg_user_delete(f->s, "alice"), DD_OK);
	assert_int_equal(seg_user_by_access_key(f->s, "AKIAALICE", &u),
			 DD_ENOENT);
	assert_int_equal(seg_user_create(f->s, "bob", "AKIAALICE", "x",
					 SEG_ROLE_USER), DD_OK);

	/* non-empty unit refuses deletion; its grants go with it */
	assert_int_equal(seg_grant(f->s, "bob", "u2"), DD_OK);
	assert_int_equal(tst_put(f->s, "u2", "k", &one, 1, NULL), DD_OK);
	assert_int_equal(seg_unit_delete(f->s, "u2"), DD_ENOTEMPTY);
	assert_int_equal(seg_delete(f->s, "u2", tst_key("k")), DD_OK);
	assert_int_equal(seg_unit_delete(f->s, "u2"), DD_OK);
	assert_int_equal(seg_grant_check(f->s, "bob", "u2"), DD_EPERM);
	assert_int_equal(seg_user_delete(f->s, "bob"), DD_OK);
	assert_int_equal(seg_unit_stat(f->s, "u2", &ui), DD_ENOENT);
}

static void test_quota_and_streams(void **state)
{
	fx *f = *state;
	seg_quota q = {1000, 100000, 2};
	uint8_t d[150000];
	seg_writer *w1, *w2, *w3;
	seg_unit_info ui;

	tst_fill(d, sizeof(d), 9);
	assert_int_equal(seg_unit_set_quota(f->s, "u1", &q), DD_OK);
	assert_int_equal(tst_put(f->s, "u1", "small", d, 60000, NULL), DD_OK);
	assert_int_equal(seg_unit_stat(f->s, "u1", &ui), DD_OK);
	assert_int_equal(ui.over_soft, 1);
	/* 60000 + 60000 > 100000: refused, nothing visible */
	assert_int_equal(tst_put(f->s, "u1", "big", d, 60000, NULL), DD_EQUOTA);
	/* replacing the object by a same-size one is fine */
	assert_int_equal(tst_put(f->s, "u1", "small", d + 1, 60000, NULL),
			 DD_OK);
	assert_int_equal(seg_unit_stat(f->s, "u1", &ui), DD_OK);
	assert_int_equal(ui.logical_bytes, 60000);
	assert_int_equal(ui.object_count, 1);

	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("s1"), &w1), DD_OK);
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("s2"), &w2), DD_OK);
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("s3"), &w3),
			 DD_ELIMIT);
	seg_writer_free(w1);
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("s3"), &w3), DD_OK);
	seg_writer_free(w2);
	seg_writer_free(w3);
}

typedef struct parts_out {
	uint32_t num[16];
	char etag[16][SEG_ETAG_MAX + 1];
	int n;
} parts_out;

static int parts_cb(void *ctx, const seg_part_info *p)
{
	parts_out *o = ctx;

	o->num[o->n] = p->number;
	memcpy(o->etag[o->n++], p->etag, sizeof(p->etag));
	return 0;
}

static int uploads_cb(void *ctx, dd_str key, const char *id, int64_t t)
{
	int *n = ctx;

	(void)key;
	(void)t;
	assert_string_equal(id, "up-1");
	(*n)++;
	return 0;
}

static void test_multipart(void **state)
{
	fx *f = *state;
	size_t n = 300000;
	uint8_t *d = malloc(3 * n);
	seg_ref refs[3];
	parts_out po = {0};
	seg_stat st;
	int nu = 0;
	seg_attrs at = {"meta", 4, NULL};
	list_out o;
	seg_list_result res;

	tst_fill(d, 3 * n, 21);
	assert_int_equal(seg_upload_create(f->s, "u1", tst_key("mp"), "up-1",
					   &at), DD_OK);
	assert_int_equal(seg_upload_create(f->s, "u1", tst_key("mp"), "up-1",
					   &at), DD_EEXIST);
	for (int i = 0; i < 3; i++) {
		seg_writer *w;
		char etag[16];

		assert_int_equal(seg_writer_open_ref(f->s, "u1", &w), DD_OK);
		assert_int_equal(seg_writer_write(w, d + i * n, n), DD_OK);
		assert_int_equal(seg_writer_commit_ref(w, &refs[i]), DD_OK);
		seg_writer_free(w);
		assert_int_equal(refs[i].size, n);
		snprintf(etag, sizeof(etag), "e%d", i + 1);
		assert_int_equal(seg_upload_put_part(f->s, "u1", tst_key("mp"),
						     "up-1", (uint32_t)i + 1,
						     &refs[i], etag, "ck", 2),
				 DD_OK);
	}
	assert_int_equal(seg_upload_put_part(f->s, "u1", tst_key("mp"), "up-9",
					     1, &refs[0], "x", NULL, 0),
			 DD_ENOENT);
	assert_int_equal(seg_upload_list_parts(f->s, "u1", tst_key("mp"),
					       "up-1", 0, parts_cb, &po), DD_OK);
	assert_int_equal(po.n, 3);
	assert_int_equal(po.num[2], 3);
	assert_string_equal(po.etag[1], "e2");
	assert_int_equal(seg_upload_list(f->s, "u1", tst_key("m"), uploads_cb,
					 &nu), DD_OK);
	assert_int_equal(nu, 1);
	/* neither the upload nor its parts are objects */
	do_list(f->s, "", "", "", 0, &o, &res);
	assert_int_equal(o.n, 0);

	assert_int_equal(seg_upload_complete(f->s, "u1", tst_key("mp"), "up-1",
					     (uint32_t[]){1, 4}, 2, "x-2",
					     &st), DD_EINVAL);
	assert_int_equal(seg_upload_complete(f->s, "u1", tst_key("mp"), "up-1",
					     (uint32_t[]){1, 2, 3}, 3,
					     "\"abc-3\"", &st), DD_OK);
	assert_int_equal(st.size, 3 * n);
	assert_string_equal(st.etag, "\"abc-3\"");
	assert_int_equal(st.attrs_len, 4);
	expect_content(f->s, "u1", "mp", d, 3 * n);
	nu = 0;
	assert_int_equal(seg_upload_list(f->s, "u1", tst_key(""), uploads_cb,
					 &nu), DD_OK);
	assert_int_equal(nu, 0);
	assert_int_equal(seg_upload_list_parts(f->s, "u1", tst_key("mp"),
					       "up-1", 0, parts_cb, &po),
			 DD_ENOENT);
	/* abort */
	assert_int_equal(seg_upload_create(f->s, "u1", tst_key("mp2"), "up-2",
					   NULL), DD_OK);
	assert_int_equal(seg_upload_abort(f->s, "u1", tst_key("mp2"), "up-2"),
			 DD_OK);
	assert_int_equal(seg_upload_abort(f->s, "u1", tst_key("mp2"), "up-2"),
			 DD_ENOENT);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clone_concat_rename_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synthesize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units_users_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_and_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
