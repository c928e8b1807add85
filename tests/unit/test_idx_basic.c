/* tests/unit/test_idx_basic.c - the LMDB adapter (get/put/del, cursors,
 * nested txns rolling back alone, read counting) and the Bloom filter. */
#include "seg_test.h"

#include "index/idx.h"

static void test_kv_cursor_nested(void **state)
{
	char *dir = tst_tmpdir(), path[600];
	idx_env *e;
	idx_txn *t, *nt;
	idx_cursor *c;
	dd_str k, v;
	uint64_t r0;
	int n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/env", dir);
	assert_int_equal(idx_env_open(path, 64u << 20, &e), DD_OK);
	assert_int_equal(idx_txn_begin(e, NULL, 0, &t), DD_OK);
	assert_int_equal(idx_put(t, IDX_DB_UNITS, "b", 1, "2", 1, 0), DD_OK);
	assert_int_equal(idx_put(t, IDX_DB_UNITS, "a", 1, "1", 1, 0), DD_OK);
	assert_int_equal(idx_put(t, IDX_DB_UNITS, "a", 1, "x", 1, 1), DD_EEXIST);
	/* a failed nested txn rolls back alone */
	assert_int_equal(idx_txn_begin(e, t, 0, &nt), DD_OK);
	assert_int_equal(idx_put(nt, IDX_DB_UNITS, "c", 1, "3", 1, 0), DD_OK);
	idx_txn_abort(nt);
	assert_int_equal(idx_txn_begin(e, t, 0, &nt), DD_OK);
	assert_int_equal(idx_put(nt, IDX_DB_UNITS, "d", 1, "4", 1, 0), DD_OK);
	assert_int_equal(idx_txn_commit(nt), DD_OK);
	assert_int_equal(idx_txn_commit(t), DD_OK);

	assert_int_equal(idx_txn_begin(e, NULL, 1, &t), DD_OK);
	r0 = idx_env_reads(e);
	assert_int_equal(idx_get(t, IDX_DB_UNITS, "a", 1, &v), DD_OK);
	assert_int_equal(v.len, 1);
	assert_memory_equal(v.p, "1", 1);
	assert_int_equal(idx_get(t, IDX_DB_UNITS, "c", 1, &v), DD_ENOENT);
	assert_int_equal(idx_get(t, IDX_DB_OBJECTS, "a", 1, &v), DD_ENOENT);
	assert_int_equal(idx_env_reads(e) - r0, 3);
	assert_int_equal(idx_count(t, IDX_DB_UNITS), 3);
	assert_int_equal(idx_cursor_open(t, IDX_DB_UNITS, &c), DD_OK);
	assert_int_equal(idx_cursor_seek(c, "b", 1, &k, &v), DD_OK);
	assert_memory_equal(k.p, "b", 1);
	assert_int_equal(idx_cursor_seek(c, "bb", 2, &k, &v), DD_OK);
	assert_memory_equal(k.p, "d", 1);
	assert_int_equal(idx_cursor_next(c, &k, &v), DD_ENOENT);
	for (int rc = idx_cursor_seek(c, NULL, 0, &k, &v); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, &v))
		n++;
	assert_int_equal(n, 3);
	idx_cursor_close(c);
	idx_txn_abort(t);

	assert_int_equal(idx_txn_begin(e, NULL, 0, &t), DD_OK);
	assert_int_equal(idx_del(t, IDX_DB_UNITS, "a", 1), DD_OK);
	assert_int_equal(idx_del(t, IDX_DB_UNITS, "a", 1), DD_ENOENT);
	assert_int_equal(idx_txn_commit(t), DD_OK);
	idx_env_close(e);
	/* durable across reopen */
	assert_int_equal(idx_env_open(path, 64u << 20, &e), DD_OK);
	assert_int_equal(idx_txn_begin(e, NULL, 1, &t), DD_OK);
	assert_int_equal(idx_get(t, IDX_DB_UNITS, "a", 1, &v), DD_ENOENT);
	assert_int_equal(idx_get(t, IDX_DB_UNITS, "d", 1, &v), DD_OK);
	idx_txn_abort(t);
	idx_env_close(e);
	tst_rmdir(dir);
}

static void test_bloom(void **state)
{
	idx_bloom *b = idx_bloom_new(100000);
	uint8_t fp[32];
	int fpos = 0;

	(void)state;
	assert_non_null(b);
	for (uint32_t i = 0; i < 100000; i++) {
		seg_fingerprint(&i, sizeof(i), fp);
		idx_bloom_add(b, fp);
		assert_int_equal(idx_bloom_maybe(b, fp), 1);
	}
	for (uint32_t i = 0; i < 100000; i++) {
		seg_fingerprint(&i, sizeof(i), fp);
		assert_int_equal(idx_bloom_maybe(b, fp), 1); /* no false negative */
	}
	for (uint32_t i = 100000; i < 200000; i++) {
		seg_fingerprint(&i, sizeof(i), fp);
		fpos += idx_bloom_maybe(b, fp);
	}
	/* sized for >= 1 Mi entries at 10 bits: far under 1% here */
	assert_true(fpos < 1000);
	idx_bloom_free(b);
}

/* Far more entries than it was sized for: still no false negatives, and
 * the false-positive rate stays low because it grows. */
static void test_bloom_grows(void **state)
{
	idx_bloom *b = idx_bloom_new(1);
	uint8_t fp[32];
	int fpos = 0;
	const uint32_t n = 3u << 20; /* 3 Mi > the 1 Mi minimum */

	(void)state;
	assert_non_null(b);
	for (uint32_t i = 0; i < n; i++) {
		memset(fp, 0, sizeof(fp));
		memcpy(fp, &i, 4);
		seg_fingerprint(fp, 4, fp);
		idx_bloom_add(b, fp);
	}
	for (uint32_t i = 0; i < n; i += 97) {
		memset(fp, 0, sizeof(fp));
		memcpy(fp, &i, 4);
		seg_fingerprint(fp, 4, fp);
		assert_int_equal(idx_bloom_maybe(b, fp), 1);
	}
	for (uint32_t i = n; i < n + 100000; i++) {
		memset(fp, 0, sizeof(fp));
		memcpy(fp, &i, 4);
		seg_fingerprint(fp, 4, fp);
		fpos += idx_bloom_maybe(b, fp);
	}
	/* a single 1 Mi filter would answer "maybe" for most of these */
	assert_true(fpos < 5000);
	idx_bloom_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_cursor_nested),
		cmocka_unit_test(test_bloom),
		cmocka_unit_test(test_bloom_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
