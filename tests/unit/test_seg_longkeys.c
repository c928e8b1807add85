/* tests/unit/test_seg_longkeys.c - seg_list returns exact byte order for
 * keys longer than the 463 bytes stored directly in LMDB keys, including
 * paging (continuation, start_after) and delimiter roll-up inside a run of
 * long keys sharing their first 463 bytes. */
#include "seg_test.h"

#define NK 64
#define PLEN 470 /* shared prefix of the long keys: longer than 463 */

typedef struct fx {
	char *dir;
	seg_store *s;
	char *keys[NK]; /* NUL-terminated, sorted in byte order */
	int n;
} fx;

typedef struct ent {
	char k[SEG_KEY_MAX + 1];
	size_t len;
	int pfx;
} ent;

typedef struct lst {
	ent e[NK];
	int n;
} lst;

static int key_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return strcmp(x, y); /* no NUL inside keys: same as memcmp order */
}

static void add(fx *f, const char *k)
{
	assert_true(f->n < NK);
	f->keys[f->n++] = strdup(k);
}

/* Builds the key set; returns it unsorted in f->keys. */
static void make_keys(fx *f)
{
	char k[SEG_KEY_MAX + 1];
	uint64_t r = 12345;

	memcpy(k, "lk/", 3);
	memset(k + 3, 'a', PLEN - 3);
	for (int i = 0; i < 40; i++) {
		size_t tl = 30 + tst_rng(&r) % (SEG_KEY_MAX - PLEN - 29);
		size_t j = 0;

		if (i % 4 == 0) { /* groups g0/ g1/ g2/ for the delimiter */
			k[PLEN] = 'g';
			k[PLEN + 1] = (char)('0' + i % 3);
			k[PLEN + 2] = '/';
			j = 3;
		}
		for (; j < tl; j++) /* printable, no '/' */
			k[PLEN + j] = (char)('0' + tst_rng(&r) % 75);
		k[PLEN + tl] = 0;
		assert_true(strlen(k) >= 500 && strlen(k) <= SEG_KEY_MAX);
		add(f, k);
	}
	add(f, "a");
	add(f, "lk/");
	add(f, "z");
	k[463] = 0; /* the 463-byte prefix itself, and shorter ones */
	add(f, k);
	k[400] = 0;
	add(f, k);
	memset(k + 400, 'a', 63);
	k[462] = 'Z';  /* before the run */
	add(f, k);
	k[462] = 'b';  /* after the run */
	add(f, k);
	memset(k + 463, 'c', 100); /* long key, other 463-byte head */
	k[563] = 0;
	add(f, k);
	k[462] = '0';
	add(f, k);
	k[462] = 'a';
	memcpy(k + 463, "/g1", 4); /* 466 bytes: in the run, first */
	add(f, k);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	uint8_t one = 'x';

	f->dir = tst_tmpdir();
	assert_int_equal(seg_store_open(f->dir, NULL, &f->s), DD_OK);
	assert_int_equal(seg_unit_create(f->s, "u1", NULL), DD_OK);
	make_keys(f);
	for (int i = 0; i < f->n; i++)
		assert_int_equal(tst_put(f->s, "u1", f->keys[i], &one, 1, NULL),
				 DD_OK);
	qsort(f->keys, (size_t)f->n, sizeof(f->keys[0]), key_cmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	for (int i = 0; i < f->n; i++)
		free(f->keys[i]);
	seg_store_close(f->s);
	tst_rmdir(f->dir);
	free(f);
	return 0;
}

static int cb(void *ctx, dd_str key, int is_prefix, const seg_stat *st)
{
	lst *o = ctx;

	assert_true(o->n < NK);
	assert_true(is_prefix ? st == NULL : st != NULL);
	if (st)
		assert_int_equal(st->size, 1);
	memcpy(o->e[o->n].k, key.p, key.len);
	o->e[o->n].k[key.len] = 0;
	o->e[o->n].len = key.len;
	o->e[o->n++].pfx = is_prefix;
	return 0;
}

/* One seg_list call appending to o. */
static void list1(fx *f, const char *prefix, const char *delim,
		  dd_str after, uint32_t limit, lst *o, seg_list_result *res)
{
	seg_list_opts lo = {tst_key(prefix), tst_key(delim), after, limit};

	assert_int_equal(seg_list(f->s, "u1", &lo, cb, o, res), DD_OK);
}

/* Reference: what S3 lists from the sorted key set. */
static void model(const fx *f, const char *prefix, const char *delim,
		  const char *after, lst *o)
{
	size_t pl = strlen(prefix), dl = strlen(delim);

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < f->n; i++) {
		const char *k = f->keys[i], *d;
		size_t cl = strlen(k);

		if (strncmp(k, prefix, pl) != 0 || strcmp(k, after) <= 0)
			continue;
		d = dl ? strstr(k + pl, delim) : NULL;
		if (d)
			cl = (size_t)(d - k) + dl;
		if (d && ((o->n && o->e[o->n - 1].pfx &&
			   o->e[o->n - 1].len == cl &&
			   memcmp(o->e[o->n - 1].k, k, cl) == 0) ||
			  (strlen(after) == cl && memcmp(after, k, cl) == 0)))
			continue;
		memcpy(o->e[o->n].k, k, cl);
		o->e[o->n].k[cl] = 0;
		o->e[o->n].len = cl;
		o->e[o->n++].pfx = d != NULL;
	}
}

static void same(const lst *a, const lst *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_int_equal(a->e[i].pfx, b->e[i].pfx);
		assert_int_equal(a->e[i].len, b->e[i].len);
		assert_memory_equal(a->e[i].k, b->e[i].k, a->e[i].len);
	}
}

/* Pages with limit 3: by the continuation, or by the last key seen. */
static void paged(fx *f, const char *prefix, const char *delim, int by_next,
		  lst *o)
{
	seg_list_result res;
	char after[SEG_KEY_MAX + 1] = "";
	int pages = 0;

	memset(o, 0, sizeof(*o));
	do {
		int n0 = o->n;

		list1(f, prefix, delim, tst_key(after), 3, o, &res);
		assert_true(o->n - n0 <= 3);
		if (res.truncated) {
			assert_int_equal(o->n - n0, 3);
			if (by_next) {
				memcpy(after, res.next, res.next_len + 1);
			} else {
				memcpy(after, o->e[o->n - 1].k,
				       o->e[o->n - 1].len + 1);
				assert_int_equal(res.next_len,
						 o->e[o->n - 1].len);
			}
		}
		assert_true(++pages < NK);
	} while (res.truncated);
}

/* SHA-256 of the whole key: the order the LMDB keys of a run have. */
static int hash_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	uint8_t hx[SEG_FP_LEN], hy[SEG_FP_LEN];

	seg_fingerprint(x, strlen(x), hx);
	seg_fingerprint(y, strlen(y), hy);
	return memcmp(hx, hy, SEG_FP_LEN);
}

static void test_hash_order_differs(void **state)
{
	fx *f = *state;
	char *run[NK];
	int n = 0, i;

	/* the test only means something if hash order is not byte order */
	for (i = 0; i < f->n; i++)
		if (strlen(f->keys[i]) > 463 &&
		    strncmp(f->keys[i], f->keys[f->n / 2], 463) == 0)
			run[n++] = f->keys[i];
	assert_int_equal(n, 41); /* 40 + the 466-byte one */
	qsort(run, (size_t)n, sizeof(run[0]), hash_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(run[i - 1], run[i]) > 0)
			break;
	assert_true(i < n);
}

static void test_full_order(void **state)
{
	fx *f = *state;
	lst got, want;
	seg_list_result res;

	memset(&got, 0, sizeof(got));
	list1(f, "", "", tst_key(""), 0, &got, &res);
	assert_false(res.truncated);
	assert_int_equal(got.n, f->n);
	for (int i = 0; i < f->n; i++) {
		assert_int_equal(got.e[i].pfx, 0);
		assert_string_equal(got.e[i].k, f->keys[i]);
	}
	model(f, "", "", "", &want);
	same(&got, &want);
}

static void test_paging(void **state)
{
	fx *f = *state;
	lst got, want;

	model(f, "", "", "", &want);
	paged(f, "", "", 1, &got);
	same(&got, &want);
	paged(f, "", "", 0, &got);
	same(&got, &want);
	/* a continuation from every key, inside the run or not */
	for (int i = 0; i < f->n; i++) {
		seg_list_result res;

		memset(&got, 0, sizeof(got));
		list1(f, "", "", tst_key(f->keys[i]), 0, &got, &res);
		model(f, "", "", f->keys[i], &want);
		assert_int_equal(got.n, f->n - i - 1);
		same(&got, &want);
	}
}

static void test_delimiter(void **state)
{
	fx *f = *state;
	char p[PLEN + 1];
	const char *prefixes[3];
	lst got, want;
	seg_list_result res;

	memcpy(p, "lk/", 3);
	memset(p + 3, 'a', PLEN - 3);
	p[PLEN] = 0;
	prefixes[0] = p;    /* longer than 463: roll-ups inside the run */
	prefixes[1] = "lk/";
	prefixes[2] = "";
	for (int i = 0; i < 3; i++) {
		memset(&got, 0, sizeof(got));
		list1(f, prefixes[i], "/", tst_key(""), 0, &got, &res);
		model(f, prefixes[i], "/", "", &want);
		same(&got, &want);
		paged(f, prefixes[i], "/", 1, &got);
		same(&got, &want);
		paged(f, prefixes[i], "/", 0, &got);
		same(&got, &want);
	}
	/* the long prefix rolls g0/ g1/ g2/ up: 3 prefixes + 30 keys */
	model(f, p, "/", "", &want);
	assert_int_equal(want.n, 33);
	for (int i = 0, np = 0; i <= want.n; i++) {
		if (i == want.n) {
			assert_int_equal(np, 3);
			break;
		}
		np += want.e[i].pfx;
	}
}

typedef struct up_seen {
	char key[16][SEG_KEY_MAX + 1];
	char id[16][SEG_UPLOAD_ID_MAX + 1];
	int n;
} up_seen;

static int up_cb(void *ctx, dd_str key, const char *id, int64_t t)
{
	up_seen *o = ctx;

	(void)t;
	assert_true(o->n < 16);
	memcpy(o->key[o->n], key.p, key.len);
	o->key[o->n][key.len] = 0;
	snprintf(o->id[o->n++], SEG_UPLOAD_ID_MAX + 1, "%s", id);
	return 0;
}

/* Uploads keys share 300 bytes in their LMDB keys: same exact order. */
static void test_uploads(void **state)
{
	fx *f = *state;
	char k[SEG_KEY_MAX + 1], want[16][SEG_KEY_MAX + 1];
	const char *ids[16];
	uint64_t r = 777;
	up_seen got;
	int n = 0;

	memset(k, 'b', 300);
	k[300] = 0;
	for (int i = 0; i < 12; i++) {
		size_t tl = i == 0 ? 0 : 1 + tst_rng(&r) % 200;

		for (size_t j = 0; j < tl; j++)
			k[300 + j] = (char)('0' + tst_rng(&r) % 75);
		k[300 + tl] = 0;
		memcpy(want[n], k, strlen(k) + 1);
		ids[n++] = "id1";
	}
	/* a second upload of the last long key: ordered by id after it */
	memcpy(want[n], k, strlen(k) + 1);
	ids[n++] = "id0";
	for (int i = 0; i < n; i++)
		assert_int_equal(seg_upload_create(f->s, "u1", tst_key(want[i]),
						   ids[i], NULL), DD_OK);
	memset(&got, 0, sizeof(got));
	assert_int_equal(seg_upload_list(f->s, "u1", tst_key("bbb"), up_cb,
					 &got), DD_OK);
	assert_int_equal(got.n, n);
	for (int i = 0; i < n; i++) {
		int found = 0;

		if (i > 0) {
			int c = strcmp(got.key[i - 1], got.key[i]);

			assert_true(c < 0 ||
				    (c == 0 && strcmp(got.id[i - 1],
						      got.id[i]) < 0));
		}
		for (int j = 0; j < n; j++)
			found += strcmp(got.key[i], want[j]) == 0 &&
				 strcmp(got.id[i], ids[j]) == 0;
		assert_int_equal(found, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hash_order_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delimiter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uploads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
