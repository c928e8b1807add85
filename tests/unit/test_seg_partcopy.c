/* tests/unit/test_seg_partcopy.c - what UploadPartCopy and checksummed
 * Complete need from the store: seg_ref_extent (a part made from an extent
 * of an object, in the same or another unit, referencing whole chunks and
 * storing only the cut edge pieces), seg_upload_stat and
 * seg_upload_complete_attrs. */
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
	assert_int_equal(seg_unit_create(f->s, "src", NULL), DD_OK);
	assert_int_equal(seg_unit_create(f->s, "dst", NULL), DD_OK);
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

/* Makes part `number` of upload (dst, key, id) from [off, off+len) of
 * (src, skey); returns the rc; *new_chunks = chunks stored meanwhile. */
static int copy_part(fx *f, const char *skey, uint64_t off, uint64_t len,
		     const char *key, const char *id, uint32_t number,
		     uint64_t *new_chunks)
{
	seg_stats a, b;
	seg_reader *r;
	seg_ref ref;
	int rc;

	seg_store_stats(f->s, &a);
	if ((rc = seg_reader_open(f->s, "src", tst_key(skey), &r)) != DD_OK)
		return rc;
	rc = seg_ref_extent(f->s, "dst", r, off, len, &ref);
	seg_reader_free(r);
	seg_store_stats(f->s, &b);
	if (new_chunks)
		*new_chunks = b.chunks_new - a.chunks_new;
	if (rc != DD_OK)
		return rc;
	assert_int_equal(ref.size, len);
	return seg_upload_put_part(f->s, "dst", tst_key(key), id, number, &ref,
				   "etag", NULL, 0);
}

static void test_ref_extent(void **state)
{
	fx *f = *state;
	size_t n = 3u << 20;
	uint8_t *d = malloc(n), *got;
	/* ranges: whole, aligned to nothing, a tiny one inside one chunk,
	 * one byte at the end */
	const uint64_t offs[] = {0, 12345, 2000000, n - 1};
	const uint64_t lens[] = {n, 1500000, 100, 1};
	uint32_t nums[4] = {1, 2, 3, 4};
	size_t want_len = 0, glen;
	uint8_t *want;
	uint64_t fresh;
	seg_stat st;

	tst_fill(d, n, 77);
	assert_int_equal(tst_put(f->s, "src", "obj", d, n, NULL), DD_OK);
	assert_int_equal(seg_upload_create(f->s, "dst", tst_key("mp"), "u-1",
					   NULL), DD_OK);
	want = malloc(n * 2);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(copy_part(f, "obj", offs[i], lens[i], "mp",
					   "u-1", nums[i], &fresh), DD_OK);
		/* The whole object and whole chunks are references: at most
		 * two cut chunk pieces are new data, plus recipe nodes. */
		if (i == 0)
			assert_int_equal(fresh, 0);
		else
			assert_true(fresh <= 2);
		memcpy(want + want_len, d + offs[i], lens[i]);
		want_len += lens[i];
	}
	assert_int_equal(seg_upload_complete(f->s, "dst", tst_key("mp"), "u-1",
					     nums, 4, "e-4", &st), DD_OK);
	assert_int_equal(st.size, want_len);
	assert_int_equal(tst_get(f->s, "dst", "mp", &got, &glen), DD_OK);
	assert_int_equal(glen, want_len);
	assert_memory_equal(got, want, want_len);
	free(got);

	/* Outside the object: DD_ERANGE; a missing source: DD_ENOENT. */
	assert_int_equal(seg_upload_create(f->s, "dst", tst_key("mp2"), "u-2",
					   NULL), DD_OK);
	assert_int_equal(copy_part(f, "obj", n - 10, 11, "mp2", "u-2", 1, NULL),
			 DD_ERANGE);
	assert_int_equal(copy_part(f, "obj", UINT64_MAX, 2, "mp2", "u-2", 1, NULL),
			 DD_ERANGE);
	assert_int_equal(copy_part(f, "none", 0, 1, "mp2", "u-2", 1, NULL),
			 DD_ENOENT);
	/* An empty range is an empty part. */
	assert_int_equal(copy_part(f, "obj", 5, 0, "mp2", "u-2", 1, NULL), DD_OK);
	free(want);
	free(d);
}

/* The reader's snapshot: replacing the source meanwhile does not change
 * what the part gets. */
static void test_ref_extent_snapshot(void **state)
{
	fx *f = *state;
	size_t n = 1u << 20, glen;
	uint8_t *a = malloc(n), *b = malloc(n), *got;
	seg_reader *r;
	seg_ref ref;

	tst_fill(a, n, 1);
	tst_fill(b, n, 2);
	assert_int_equal(tst_put(f->s, "src", "k", a, n, NULL), DD_OK);
	assert_int_equal(seg_reader_open(f->s, "src", tst_key("k"), &r), DD_OK);
	assert_int_equal(tst_put(f->s, "src", "k", b, n, NULL), DD_OK);
	assert_int_equal(seg_ref_extent(f->s, "dst", r, 100, n - 200, &ref),
			 DD_OK);
	seg_reader_free(r);
	assert_int_equal(seg_upload_create(f->s, "dst", tst_key("s"), "u", NULL),
			 DD_OK);
	assert_int_equal(seg_upload_put_part(f->s, "dst", tst_key("s"), "u", 1,
					     &ref, "e", NULL, 0), DD_OK);
	assert_int_equal(seg_upload_complete(f->s, "dst", tst_key("s"), "u",
					     (uint32_t[]){1}, 1, NULL, NULL),
			 DD_OK);
	assert_int_equal(tst_get(f->s, "dst", "s", &got, &glen), DD_OK);
	assert_int_equal(glen, n - 200);
	assert_memory_equal(got, a + 100, n - 200);
	free(got);
	free(a);
	free(b);
}

static void test_upload_stat_and_complete_attrs(void **state)
{
	fx *f = *state;
	seg_attrs at = {"content-type:x\n", 15, NULL};
	seg_attrs fin = {"content-type:x\nx-amz-checksum-crc32:AAAAAA==-1\n", 45,
			 "ignored"};
	uint8_t d[1000];
	seg_stat *st = malloc(sizeof(*st));
	seg_writer *w;
	seg_ref ref;

	tst_fill(d, sizeof(d), 5);
	assert_int_equal(seg_upload_stat(f->s, "dst", tst_key("a"), "none", st),
			 DD_ENOENT);
	assert_int_equal(seg_upload_create(f->s, "dst", tst_key("a"), "id1", &at),
			 DD_OK);
	assert_int_equal(seg_upload_stat(f->s, "dst", tst_key("a"), "id1", st),
			 DD_OK);
	assert_int_equal(st->attrs_len, 15);
	assert_memory_equal(st->attrs, "content-type:x\n", 15);
	assert_true(st->mtime_ns > 0);
	assert_int_equal(seg_upload_stat(f->s, "dst", tst_key("b"), "id1", st),
			 DD_ENOENT);
	assert_int_equal(seg_writer_open_ref(f->s, "dst", &w), DD_OK);
	assert_int_equal(seg_writer_write(w, d, sizeof(d)), DD_OK);
	assert_int_equal(seg_writer_commit_ref(w, &ref), DD_OK);
	seg_writer_free(w);
	assert_int_equal(seg_upload_put_part(f->s, "dst", tst_key("a"), "id1", 1,
					     &ref, "p1", NULL, 0), DD_OK);
	assert_int_equal(seg_upload_complete_attrs(f->s, "dst", tst_key("a"),
						   "id1", (uint32_t[]){1}, 1,
						   &fin, "final-1", st),
			 DD_OK);
	assert_int_equal(st->attrs_len, 45);
	assert_string_equal(st->etag, "final-1");
	assert_int_equal(seg_stat_object(f->s, "dst", tst_key("a"), st), DD_OK);
	assert_int_equal(st->attrs_len, 45);
	assert_memory_equal(st->attrs, fin.blob, 45);
	assert_string_equal(st->etag, "final-1");
	assert_int_equal(st->size, sizeof(d));
	/* the upload is gone */
	assert_int_equal(seg_upload_stat(f->s, "dst", tst_key("a"), "id1", st),
			 DD_ENOENT);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ref_extent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ref_extent_snapshot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upload_stat_and_complete_attrs,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
