/*
 * tests/unit/test_gateway_admin.c - the admin API's pure pieces (route
 * parser, JSON/text emitter) and its operations on a real store in a temp
 * dir (gw_admin_run, no HTTP).
 */
#include "seg_test.h"

#include "gateway/admin.h"

/* ------------------------------------------------------------- routes */

static int route(const char *m, const char *path, gw_admin_route *rt)
{
	return gw_admin_route_parse(m, dd_str_c(path), rt);
}

static void test_routes(void **state)
{
	static const struct {
		const char *m, *path;
		int rc, op;
		const char *user, *unit;
	} cases[] = {
		{"GET", "/v1/users", DD_OK, GW_ADM_USER_LIST, "", ""},
		{"GET", "/v1/users/", DD_OK, GW_ADM_USER_LIST, "", ""},
		{"POST", "/v1/users/alice", DD_OK, GW_ADM_USER_CREATE, "alice", ""},
		{"GET", "/v1/users/alice", DD_OK, GW_ADM_USER_SHOW, "alice", ""},
		{"HEAD", "/v1/users/alice", DD_OK, GW_ADM_USER_SHOW, "alice", ""},
		{"DELETE", "/v1/users/a.b-c_d", DD_OK, GW_ADM_USER_DELETE, "a.b-c_d", ""},
		{"GET", "/v1/users/alice/grants", DD_OK, GW_ADM_GRANT_LIST, "alice", ""},
		{"PUT", "/v1/users/alice/grants/b1", DD_OK, GW_ADM_GRANT, "alice", "b1"},
		{"DELETE", "/v1/users/alice/grants/b1", DD_OK, GW_ADM_REVOKE, "alice", "b1"},
		{"GET", "/v1/units", DD_OK, GW_ADM_UNIT_LIST, "", ""},
		{"POST", "/v1/units/b1", DD_OK, GW_ADM_UNIT_CREATE, "", "b1"},
		{"GET", "/v1/units/b1", DD_OK, GW_ADM_UNIT_SHOW, "", "b1"},
		{"PUT", "/v1/units/b1/quota", DD_OK, GW_ADM_UNIT_QUOTA, "", "b1"},
		{"DELETE", "/v1/units/b1", DD_OK, GW_ADM_UNIT_DELETE, "", "b1"},
		{"POST", "/v1/verify", DD_OK, GW_ADM_VERIFY, "", ""},
		{"GET", "/v1/whoami", DD_OK, GW_ADM_WHOAMI, "", ""},
		/* wrong method on a real path: 405 */
		{"POST", "/v1/users", DD_ENOTSUP, 0, "", ""},
		{"PUT", "/v1/users/alice", DD_ENOTSUP, 0, "", ""},
		{"GET", "/v1/verify", DD_ENOTSUP, 0, "", ""},
		{"PATCH", "/v1/units/b1", DD_ENOTSUP, 0, "", ""},
		{"GET", "/v1/units/b1/quota", DD_ENOTSUP, 0, "", ""},
		{"POST", "/v1/users/alice/grants/b1", DD_ENOTSUP, 0, "", ""},
		/* no such path: 404 */
		{"GET", "/v1", DD_ENOENT, 0, "", ""},
		{"GET", "/v2/users", DD_ENOENT, 0, "", ""},
		{"GET", "/v1/userz", DD_ENOENT, 0, "", ""},
		{"GET", "/v1//users", DD_ENOENT, 0, "", ""},
		{"GET", "v1/users", DD_ENOENT, 0, "", ""},
		{"GET", "/v1/users/alice/keys", DD_ENOENT, 0, "", ""},
		{"GET", "/v1/units/b1/quota/x", DD_ENOENT, 0, "", ""},
		{"GET", "/v1/users/a/grants/b/c", DD_ENOENT, 0, "", ""},
		{"GET", "/v1/verify/x", DD_ENOENT, 0, "", ""},
		{"GET", "", DD_ENOENT, 0, "", ""},
		/* bad names: 400 */
		{"GET", "/v1/users/al ice", DD_EINVAL, 0, "", ""},
		{"GET", "/v1/units/b%21", DD_EINVAL, 0, "", ""},
		{"PUT", "/v1/users/alice/grants/b/", DD_OK, GW_ADM_GRANT, "alice", "b"},
		{"GET", "/v1/units/"
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 DD_EINVAL, 0, "", ""},
	};
	gw_admin_route rt;

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(cases); i++) {
		int rc = route(cases[i].m, cases[i].path, &rt);
		if (rc != cases[i].rc || rt.op != cases[i].op ||
		    strcmp(rt.user, cases[i].user) || strcmp(rt.unit, cases[i].unit))
			fail_msg("case %zu: %s %s -> rc %d op %d user '%s' unit '%s'", i,
				 cases[i].m, cases[i].path, rc, rt.op, rt.user, rt.unit);
	}
	/* 63 characters is the longest name */
	assert_int_equal(route("GET", "/v1/units/"
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			       &rt), DD_OK);
	assert_string_equal(gw_admin_op_name(GW_ADM_USER_CREATE), "user-create");
	assert_string_equal(gw_admin_op_name(999), "none");
}

/* ------------------------------------------------------------ emitter */

static void emit_sample(gw_aout *o)
{
	gw_aout_str(o, "name", "a\"b\\c\n");
	gw_aout_u64(o, "n", 18446744073709551615ULL);
	gw_aout_bool(o, "ok", 1);
	gw_aout_list_begin(o, "names");
	gw_aout_list_str(o, "x");
	gw_aout_list_str(o, "y");
	gw_aout_list_end(o);
	gw_aout_list_begin(o, "empty");
	gw_aout_list_end(o);
	gw_aout_list_begin(o, "objs");
	gw_aout_item_begin(o);
	gw_aout_str(o, "u", "1");
	gw_aout_bool(o, "b", 0);
	gw_aout_item_end(o);
	gw_aout_item_begin(o);
	gw_aout_u64(o, "v", 2);
	gw_aout_item_end(o);
	gw_aout_list_end(o);
	gw_aout_str(o, "last", "z");
}

static void test_emitter(void **state)
{
	dd_buf b;
	gw_aout o;

	(void)state;
	dd_buf_init(&b, 4096);
	gw_aout_init(&o, &b, 0);
	emit_sample(&o);
	assert_int_equal(gw_aout_end(&o), DD_OK);
	assert_string_equal(b.data,
			    "{\"name\":\"a\\\"b\\\\c\\u000a\",\"n\":18446744073709551615,"
			    "\"ok\":true,\"names\":[\"x\",\"y\"],\"empty\":[],"
			    "\"objs\":[{\"u\":\"1\",\"b\":false},{\"v\":2}],\"last\":\"z\"}\n");
	dd_buf_reset(&b);
	gw_aout_init(&o, &b, 1);
	emit_sample(&o);
	assert_int_equal(gw_aout_end(&o), DD_OK);
	assert_string_equal(b.data,
			    "name: a\"b\\c\\u000a\n"
			    "n: 18446744073709551615\n"
			    "ok: yes\n"
			    "names:\n  x\n  y\n"
			    "empty: (none)\n"
			    "objs:\n  u=1 b=no\n  v=2\n"
			    "last: z\n");
	/* errors are sticky: a buffer too small fails the whole document */
	dd_buf_release(&b);
	dd_buf_init(&b, 16);
	gw_aout_init(&o, &b, 0);
	emit_sample(&o);
	assert_int_equal(gw_aout_end(&o), DD_ETOOBIG);
	dd_buf_release(&b);
}

/* --------------------------------------------------------- operations */

struct fx {
	char *dir;
	seg_store *st;
	dd_buf b;
	gw_admin_caller root;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tst_tmpdir();
	assert_int_equal(seg_store_open(f->dir, NULL, &f->st), DD_OK);
	assert_int_equal(seg_user_create(f->st, "root", "ROOTKEY", "rootsecret",
					 SEG_ROLE_ADMIN), DD_OK);
	snprintf(f->root.name, sizeof(f->root.name), "root");
	dd_buf_init(&f->b, 1 << 20);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_buf_release(&f->b);
	seg_store_close(f->st);
	tst_rmdir(f->dir);
	free(f);
	return 0;
}

/* Runs method path with args as root; returns the status, f->b the JSON. */
static int run(struct fx *f, const char *m, const char *path,
	       const gw_admin_args *args)
{
	gw_admin_args none;
	gw_admin_route rt;
	gw_aout o;
	int status;

	memset(&none, 0, sizeof(none));
	assert_int_equal(route(m, path, &rt), DD_OK);
	dd_buf_reset(&f->b);
	gw_aout_init(&o, &f->b, 0);
	status = gw_admin_run(f->st, &rt, args ? args : &none, &f->root, &o);
	assert_int_equal(gw_aout_end(&o), DD_OK);
	return status;
}

static void test_users_and_grants(void **state)
{
	struct fx *f = *state;
	seg_user u;
	char ak[64], *p;

	assert_int_equal(run(f, "POST", "/v1/users/alice", NULL), 201);
	/* the answer carries the new keys; the store agrees */
	assert_non_null(p = strstr(f->b.data, "\"access_key\":\""));
	snprintf(ak, sizeof(ak), "%.20s", p + 14);
	assert_int_equal(seg_user_by_access_key(f->st, ak, &u), DD_OK);
	assert_string_equal(u.name, "alice");
	assert_int_equal(u.role, SEG_ROLE_USER);
	assert_int_equal(strlen(u.secret), 40);
	assert_non_null(strstr(f->b.data, u.secret));
	assert_int_equal(run(f, "POST", "/v1/users/alice", NULL), 409);
	assert_non_null(strstr(f->b.data, "AlreadyExists"));

	/* listing and showing never include secrets */
	assert_int_equal(run(f, "GET", "/v1/users", NULL), 200);
	assert_null(strstr(f->b.data, u.secret));
	assert_null(strstr(f->b.data, "secret"));
	assert_non_null(strstr(f->b.data, "{\"user\":\"alice\""));
	assert_int_equal(run(f, "GET", "/v1/users/alice", NULL), 200);
	assert_null(strstr(f->b.data, "secret"));
	assert_non_null(strstr(f->b.data, "\"grants\":[]"));

	assert_int_equal(run(f, "PUT", "/v1/users/alice/grants/b1", NULL), 404);
	assert_int_equal(run(f, "POST", "/v1/units/b1", NULL), 201);
	assert_int_equal(run(f, "PUT", "/v1/users/alice/grants/b1", NULL), 200);
	assert_int_equal(seg_grant_check(f->st, "alice", "b1"), DD_OK);
	assert_int_equal(run(f, "GET", "/v1/users/alice/grants", NULL), 200);
	assert_non_null(strstr(f->b.data, "\"grants\":[\"b1\"]"));
	assert_int_equal(run(f, "DELETE", "/v1/users/alice/grants/b1", NULL), 200);
	assert_int_equal(seg_grant_check(f->st, "alice", "b1"), DD_EPERM);
	assert_int_equal(run(f, "DELETE", "/v1/users/alice/grants/b1", NULL), 404);

	/* delete revokes grants first; the caller cannot delete itself */
	assert_int_equal(run(f, "PUT", "/v1/users/alice/grants/b1", NULL), 200);
	assert_int_equal(run(f, "DELETE", "/v1/users/alice", NULL), 200);
	assert_int_equal(seg_user_get(f->st, "alice", &u), DD_ENOENT);
	assert_int_equal(run(f, "DELETE", "/v1/users/alice", NULL), 404);
	assert_int_equal(run(f, "DELETE", "/v1/users/root", NULL), 409);
	assert_int_equal(seg_user_get(f->st, "root", &u), DD_OK);

	gw_admin_args admin = {.role_admin = 1};
	assert_int_equal(run(f, "POST", "/v1/users/boss", &admin), 201);
	assert_int_equal(seg_user_get(f->st, "boss", &u), DD_OK);
	assert_int_equal(u.role, SEG_ROLE_ADMIN);
}

static void test_units(void **state)
{
	struct fx *f = *state;
	gw_admin_args q = {.has_soft = 1, .soft = 100, .has_hard = 1, .hard = 1000};
	seg_unit_info ui;
	uint8_t data[600];

	tst_fill(data, sizeof(data), 3);
	assert_int_equal(run(f, "POST", "/v1/units/u1", &q), 201);
	assert_int_equal(seg_unit_stat(f->st, "u1", &ui), DD_OK);
	assert_int_equal(ui.quota.soft, 100);
	assert_int_equal(ui.quota.hard, 1000);
	assert_non_null(strstr(f->b.data, "\"quota_hard\":1000"));
	/* a hard quota the store enforces */
	assert_int_equal(tst_put(f->st, "u1", "k", data, 500, NULL), DD_OK);
	assert_int_equal(tst_put(f->st, "u1", "k2", data, 600, NULL), DD_EQUOTA);
	assert_int_equal(run(f, "GET", "/v1/units", NULL), 200);
	assert_non_null(strstr(f->b.data, "\"unit\":\"u1\",\"objects\":1,\"logical_bytes\":500"));
	assert_non_null(strstr(f->b.data, "\"over_soft\":true"));

	/* only what is given changes; soft over hard is refused */
	gw_admin_args hard_only = {.has_hard = 1, .hard = 0};
	assert_int_equal(run(f, "PUT", "/v1/units/u1/quota", &hard_only), 200);
	assert_int_equal(seg_unit_stat(f->st, "u1", &ui), DD_OK);
	assert_int_equal(ui.quota.soft, 100);
	assert_int_equal(ui.quota.hard, 0);
	gw_admin_args bad = {.has_soft = 1, .soft = 10, .has_hard = 1, .hard = 5};
	assert_int_equal(run(f, "PUT", "/v1/units/u1/quota", &bad), 400);
	assert_int_equal(run(f, "POST", "/v1/units/u2", &bad), 400);
	assert_int_equal(seg_unit_stat(f->st, "u2", &ui), DD_ENOENT);
	assert_int_equal(run(f, "PUT", "/v1/units/nope/quota", &hard_only), 404);

	assert_int_equal(run(f, "DELETE", "/v1/units/u1", NULL), 409);
	assert_non_null(strstr(f->b.data, "NotEmpty"));
	assert_int_equal(seg_delete(f->st, "u1", tst_key("k")), DD_OK);
	assert_int_equal(run(f, "DELETE", "/v1/units/u1", NULL), 200);
	assert_int_equal(run(f, "GET", "/v1/units/u1", NULL), 404);
	assert_int_equal(run(f, "GET", "/v1/whoami", NULL), 200);
	assert_string_equal(f->b.data, "{\"user\":\"root\",\"role\":\"admin\"}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_emitter),
		cmocka_unit_test_setup_teardown(test_users_and_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
