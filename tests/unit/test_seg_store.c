/* tests/unit/test_seg_store.c - writer/reader round trips, dedup, both
 * write paths, DSP query scoping, reopen, corruption detection. */
#include "seg_test.h"

#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>

#include "index/idx.h"
#include <pthread.h>

typedef struct fx {
	char *dir;
	seg_store *s;
} fx;

static seg_opts small_opts(void)
{
	seg_opts o;

	seg_opts_init(&o);
	o.container_size = 2u << 20; /* many containers: exercise sealing */
	o.region_size = 128u << 10;
	return o;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	seg_opts o = small_opts();

	f->dir = tst_tmpdir();
	assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
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

static void reopen(fx *f)
{
	seg_opts o = small_opts();

	seg_store_close(f->s);
	assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
}

static void test_roundtrip_sizes(void **state)
{
	fx *f = *state;
	size_t sizes[] = {0, 1, 100, 2047, 8192, 65537, 1u << 20, 5u << 20};

	for (size_t i = 0; i < DD_ARRAY_LEN(sizes); i++) {
		size_t n = sizes[i], gn;
		uint8_t *d = malloc(n + 1), *back, md5[16], sha[32];
		char key[32];
		seg_stat st;
		unsigned int dl;

		tst_fill(d, n, i);
		snprintf(key, sizeof(key), "obj-%zu", n);
		assert_int_equal(tst_put(f->s, "u1", key, d, n, &st), DD_OK);
		assert_int_equal(st.size, n);
		assert_int_equal(st.flags, SEG_STAT_MD5 | SEG_STAT_SHA256);
		EVP_Digest(d, n, md5, &dl, EVP_md5(), NULL);
		EVP_Digest(d, n, sha, &dl, EVP_sha256(), NULL);
		assert_memory_equal(st.md5, md5, 16);
		assert_memory_equal(st.sha256, sha, 32);
		assert_int_equal(tst_get(f->s, "u1", key, &back, &gn), DD_OK);
		assert_int_equal(gn, n);
		if (n)
			assert_memory_equal(back, d, n);
		free(back);
		free(d);
	}
	reopen(f);
	{
		seg_verify_report vr;

		assert_int_equal(seg_verify(f->s, 1, NULL, &vr, NULL, NULL), DD_OK);
		assert_int_equal(vr.bad_regions, 0);
		assert_int_equal(vr.bad_objects, 0);
		assert_int_equal(vr.objects, DD_ARRAY_LEN(sizes));
		print_message("verify: %llu containers, %llu regions, %llu chunks\n",
			      (unsigned long long)vr.containers,
			      (unsigned long long)vr.regions,
			      (unsigned long long)vr.chunks);
		/* ~6.4 MiB of distinct data: >= 6.4 MiB / 64 KiB chunks,
		 * >= 6.4 MiB / 128 KiB regions, >= 3 containers of 2 MiB */
		assert_true(vr.chunks >= 100 && vr.regions >= 50 &&
			    vr.regions < 100 && vr.containers >= 3);
	}
	{
		size_t n = 5u << 20, gn;
		uint8_t *d = malloc(n), *back;

		tst_fill(d, n, 7);
		assert_int_equal(tst_get(f->s, "u1", "obj-5242880", &back, &gn),
				 DD_OK);
		assert_int_equal(gn, n);
		assert_memory_equal(back, d, n);
		free(back);
		free(d);
	}
}

/* Objects built from shared segments; random ranges compared with source;
 * duplicates must not grow the stored bytes much. */
static void test_random_shared_ranges(void **state)
{
	fx *f = *state;
	size_t pool_n = 3u << 20;
	uint8_t *pool = malloc(pool_n);
	uint64_t r = 99;
	seg_stats a, b;

	tst_fill(pool, pool_n, 42);
	for (int obj = 0; obj < 6; obj++) {
		size_t n = 0, cap = 6u << 20, gn = 0;
		uint8_t *d = malloc(cap), *back = NULL;
		char key[32];

		/* runs copied from the pool at random offsets, plus noise */
		while (n < cap - 300000) {
			size_t off = tst_rng(&r) % (pool_n - 200000);
			size_t len = 1 + tst_rng(&r) % 200000;

			memcpy(d + n, pool + off, len);
			n += len;
			if (tst_rng(&r) % 4 == 0) {
				tst_fill(d + n, 100, tst_rng(&r));
				n += 100;
			}
		}
		snprintf(key, sizeof(key), "shared/%d", obj);
		assert_int_equal(tst_put(f->s, "u1", key, d, n, NULL), DD_OK);
		if (obj == 5)
			reopen(f);
		seg_reader *rd;
		assert_int_equal(seg_reader_open(f->s, "u1", tst_key(key), &rd),
				 DD_OK);
		back = malloc(300000);
		for (int k = 0; k < 200; k++) {
			uint64_t off = tst_rng(&r) % (n + 10);
			size_t len = tst_rng(&r) % 300000;

			assert_int_equal(seg_reader_pread(rd, back, len, off,
							  &gn), DD_OK);
			size_t want = off >= n ? 0 :
				      (len < n - off ? len : n - off);
			assert_int_equal(gn, want);
			if (want)
				assert_memory_equal(back, d + off, want);
		}
		free(back);
		seg_reader_free(rd);
		free(d);
	}
	/* exact duplicate: nothing new stored but recipe nodes */
	seg_store_stats(f->s, &a);
	{
		uint8_t *back = NULL;
		size_t gn = 0;

		assert_int_equal(tst_get(f->s, "u1", "shared/3", &back, &gn),
				 DD_OK);
		assert_int_equal(tst_put(f->s, "u1", "dup", back, gn, NULL),
				 DD_OK);
		seg_store_stats(f->s, &b);
		assert_true(b.chunks_in - a.chunks_in > 300);
		assert_int_equal(b.chunks_new, a.chunks_new);
		/* the locality cache keeps LMDB reads far below one per chunk */
		assert_true((b.lmdb_reads - a.lmdb_reads) * 10 <
			    b.chunks_in - a.chunks_in);
		free(back);
	}
	free(pool);
}

/* Client-side chunking (DSP) gives the same root as server chunking. */
static void test_two_paths_same_root(void **state)
{
	fx *f = *state;
	size_t n = 3u << 20;
	uint8_t *d = malloc(n);
	seg_chunk_params cp;
	seg_chunker *ch;
	seg_stat st1, st2, st3;
	seg_writer *w;
	size_t off = 0, start = 0;
	int cut, added = 0, refs = 0;

	tst_fill(d, n, 5);
	assert_int_equal(tst_put(f->s, "u1", "server", d, n, &st1), DD_OK);
	seg_store_chunk_params(f->s, &cp);
	assert_int_equal(cp.avg, 8192);
	ch = seg_chunker_new(&cp);
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("client"), &w),
			 DD_OK);
	seg_stats q0, q1;
	seg_store_stats(f->s, &q0);
	/* second half of the chunks: new data the store must take */
	while (off < n) {
		size_t used = seg_chunker_scan(ch, d + off, n - off, &cut);

		off += used;
		if (cut || off == n) {
			uint8_t fp[32], missing;
			uint32_t len = (uint32_t)(off - start);

			seg_fingerprint(d + start, len, fp);
			assert_int_equal(seg_writer_query(
				w, (const uint8_t(*)[32])fp, &len, 1, &missing),
				DD_OK);
			if (missing) {
				uint8_t bad[32];

				memcpy(bad, fp, 32);
				bad[0] ^= 1;
				assert_int_equal(seg_writer_put_chunk(
					w, bad, d + start, len), DD_EDIGEST);
				assert_int_equal(seg_writer_put_chunk(
					w, fp, d + start, len), DD_OK);
				added++;
			} else {
				assert_int_equal(seg_writer_add_ref(w, fp, len),
						 DD_OK);
				refs++;
			}
			start = off;
		}
	}
	seg_store_stats(f->s, &q1);
	/* the unit's own containers answer "have" from the locality cache */
	assert_true((q1.lmdb_reads - q0.lmdb_reads) * 10 < (uint64_t)refs);
	assert_int_equal(seg_writer_commit(w, NULL, &st2), DD_OK);
	seg_writer_free(w);
	assert_memory_equal(st1.root, st2.root, 32);
	assert_int_equal(st2.size, n);
	assert_true(refs > 100); /* unit u1 owns these chunks: no resend */

	/* unit u2 asks about u1's chunks: told "missing" (no side channel),
	 * sends them, and the store dedups them on disk anyway. */
	seg_stats a, b;
	assert_int_equal(seg_unit_create(f->s, "u2", NULL), DD_OK);
	assert_int_equal(seg_writer_open(f->s, "u2", tst_key("x"), &w), DD_OK);
	seg_store_stats(f->s, &a);
	seg_chunker_reset(ch);
	off = start = 0;
	while (off < n) {
		size_t used = seg_chunker_scan(ch, d + off, n - off, &cut);

		off += used;
		if (cut || off == n) {
			uint8_t fp[32], missing;
			uint32_t len = (uint32_t)(off - start);

			seg_fingerprint(d + start, len, fp);
			assert_int_equal(seg_writer_query(
				w, (const uint8_t(*)[32])fp, &len, 1, &missing),
				DD_OK);
			assert_int_equal(missing, 1);
			assert_int_equal(seg_writer_add_ref(w, fp, len),
					 DD_ENOENT);
			assert_int_equal(seg_writer_put_chunk(w, fp, d + start,
							      len), DD_OK);
			start = off;
		}
	}
	assert_int_equal(seg_writer_commit(w, NULL, &st3), DD_OK);
	seg_writer_free(w);
	seg_store_stats(f->s, &b);
	assert_int_equal(b.chunks_new, a.chunks_new);
	assert_memory_equal(st3.root, st1.root, 32);
	/* having sent them, u2 now "has" them (membership rows) */
	{
		uint8_t fp[32], missing = 9;
		uint32_t len = 0;
		int c2;

		seg_chunker_reset(ch);
		len = (uint32_t)seg_chunker_scan(ch, d, n, &c2);
		seg_fingerprint(d, len, fp);
		assert_int_equal(seg_writer_open(f->s, "u2", tst_key("y"), &w),
				 DD_OK);
		assert_int_equal(seg_writer_query(w, (const uint8_t(*)[32])fp,
						  &len, 1, &missing), DD_OK);
		assert_int_equal(missing, 0);
		assert_int_equal(seg_writer_add_ref(w, fp, len), DD_OK);
		/* a wrong length is not "have" */
		len++;
		assert_int_equal(seg_writer_query(w, (const uint8_t(*)[32])fp,
						  &len, 1, &missing), DD_OK);
		assert_int_equal(missing, 1);
		seg_writer_free(w);
	}
	seg_chunker_free(ch);
	free(d);
}

static void test_reader_snapshot_and_replace(void **state)
{
	fx *f = *state;
	size_t n = 1u << 20, got;
	uint8_t *a = malloc(n), *b = malloc(n), *back = malloc(n);
	seg_reader *r;

	tst_fill(a, n, 1);
	tst_fill(b, n, 2);
	assert_int_equal(tst_put(f->s, "u1", "k", a, n, NULL), DD_OK);
	assert_int_equal(seg_reader_open(f->s, "u1", tst_key("k"), &r), DD_OK);
	assert_int_equal(tst_put(f->s, "u1", "k", b, n, NULL), DD_OK);
	assert_int_equal(seg_delete(f->s, "u1", tst_key("k")), DD_OK);
	assert_int_equal(seg_reader_pread(r, back, n, 0, &got), DD_OK);
	assert_int_equal(got, n);
	assert_memory_equal(back, a, n);
	seg_reader_free(r);
	assert_int_equal(seg_reader_open(f->s, "u1", tst_key("k"), &r),
			 DD_ENOENT);
	free(a);
	free(b);
	free(back);
}

static void test_abort_invisible(void **state)
{
	fx *f = *state;
	uint8_t d[50000];
	seg_writer *w;
	seg_stat st;

	tst_fill(d, sizeof(d), 3);
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("ab"), &w), DD_OK);
	assert_int_equal(seg_writer_write(w, d, sizeof(d)), DD_OK);
	seg_writer_abort(w);
	seg_writer_free(w);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key("ab"), &st),
			 DD_ENOENT);
	assert_int_equal(seg_writer_open(f->s, "nounit", tst_key("ab"), &w),
			 DD_ENOENT);
	assert_int_equal(seg_writer_open(f->s, "u1", (dd_str){"a\0b", 3}, &w),
			 DD_EINVAL);
}

/* The object key holds exactly d[0..n). */
static void check_object(seg_store *s, const char *key, const uint8_t *d,
			 size_t n)
{
	uint8_t *got;
	size_t len;

	assert_int_equal(tst_get(s, "u1", key, &got, &len), DD_OK);
	assert_int_equal(len, n);
	assert_memory_equal(got, d, n);
	free(got);
}

/* Commit check: records what it saw; refuses when the key holds data. */
struct check_seen {
	int calls, saw_object;
	uint64_t size;
};

static int only_if_absent(void *ctx, const seg_stat *cur)
{
	struct check_seen *c = ctx;

	c->calls++;
	c->saw_object = cur != NULL;
	c->size = cur ? cur->size : 0;
	return cur ? DD_EEXIST : DD_OK;
}

/* seg_writer_set_check runs in the commit: a refusal leaves the key as it
 * was (and the store usable), an acceptance puts the object. */
static void test_commit_check(void **state)
{
	fx *f = *state;
	uint8_t d[40000];
	struct check_seen c = {0, 0, 0};
	seg_writer *w;
	seg_stat st;

	tst_fill(d, sizeof(d), 7);
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("lock"), &w), DD_OK);
	seg_writer_set_check(w, only_if_absent, &c);
	assert_int_equal(seg_writer_write(w, d, 1000), DD_OK);
	assert_int_equal(seg_writer_commit(w, NULL, NULL), DD_OK);
	seg_writer_free(w);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.saw_object, 0);
	/* Second writer: the check sees the first object and refuses. */
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("lock"), &w), DD_OK);
	seg_writer_set_check(w, only_if_absent, &c);
	assert_int_equal(seg_writer_write(w, d, sizeof(d)), DD_OK);
	assert_int_equal(seg_writer_commit(w, NULL, NULL), DD_EEXIST);
	seg_writer_free(w);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.saw_object, 1);
	assert_int_equal(c.size, 1000);
	assert_int_equal(seg_stat_object(f->s, "u1", tst_key("lock"), &st), DD_OK);
	assert_int_equal(st.size, 1000);
	check_object(f->s, "lock", d, 1000);
	/* Without a check the key is replaced as usual. */
	assert_int_equal(seg_writer_open(f->s, "u1", tst_key("lock"), &w), DD_OK);
	assert_int_equal(seg_writer_write(w, d, sizeof(d)), DD_OK);
	assert_int_equal(seg_writer_commit(w, NULL, NULL), DD_OK);
	seg_writer_free(w);
	check_object(f->s, "lock", d, sizeof(d));
}

static int count_problem(void *ctx, const char *what, int rc)
{
	int *n = ctx;

	assert_non_null(what);
	assert_int_equal(rc, DD_ECORRUPT);
	(*n)++;
	return 0;
}

/* Flip one byte in every container: every read of it must fail with
 * DD_ECORRUPT, never return wrong data. */
static void test_corruption_detected(void **state)
{
	fx *f = *state;
	size_t n = 600000, got;
	uint8_t *d = malloc(n), *back = malloc(n);
	char cdir[600];
	DIR *dir;
	struct dirent *de;
	seg_reader *r;
	int flipped = 0, rc;

	tst_fill(d, n, 77);
	assert_int_equal(tst_put(f->s, "u1", "victim", d, n, NULL), DD_OK);
	seg_store_close(f->s);
	snprintf(cdir, sizeof(cdir), "%s/store/containers", f->dir);
	dir = opendir(cdir);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char p[900];
		int fd;
		uint8_t byte;

		if (!strstr(de->d_name, ".ctr"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", cdir, de->d_name);
		fd = open(p, O_RDWR);
		assert_true(fd >= 0);
		/* a byte inside the first region's payload */
		assert_int_equal(pread(fd, &byte, 1, 64 + 48 + 1000), 1);
		byte ^= 0x40;
		assert_int_equal(pwrite(fd, &byte, 1, 64 + 48 + 1000), 1);
		close(fd);
		flipped++;
	}
	closedir(dir);
	assert_true(flipped > 0);
	{
		seg_opts o = small_opts();
		assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
	}
	assert_int_equal(seg_reader_open(f->s, "u1", tst_key("victim"), &r),
			 DD_OK);
	rc = seg_reader_pread(r, back, n, 0, &got);
	assert_int_equal(rc, DD_ECORRUPT);
	seg_reader_free(r);
	/* verify finds it too: bad region(s) and the object */
	{
		seg_verify_report vr;
		int problems = 0;

		assert_int_equal(seg_verify(f->s, 1, NULL, &vr, count_problem,
					    &problems), DD_OK);
		/* one flipped byte per container, in its first region */
		assert_int_equal(vr.bad_regions, (uint64_t)flipped);
		assert_int_equal(vr.bad_objects, 1);
		assert_int_equal(vr.objects, 1);
		assert_int_equal((uint64_t)problems,
				 vr.bad_regions + vr.bad_objects);
	}
	free(d);
	free(back);
}

typedef struct thr_arg {
	seg_store *s;
	int id;
	int fails;
} thr_arg;

static void *writer_thread(void *p)
{
	thr_arg *a = p;
	size_t n = 400000;
	uint8_t *d = malloc(n), *back = NULL;
	size_t gn = 0;

	for (int i = 0; i < 8; i++) {
		char key[32];

		/* half the content shared between threads */
		tst_fill(d, n / 2, i);
		tst_fill(d + n / 2, n / 2, 1000 + a->id * 100 + i);
		snprintf(key, sizeof(key), "t%d/%d", a->id, i);
		if (tst_put(a->s, "u1", key, d, n, NULL) != DD_OK ||
		    tst_get(a->s, "u1", key, &back, &gn) != DD_OK ||
		    gn != n || memcmp(back, d, n) != 0)
			a->fails++;
		free(back);
	}
	free(d);
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	fx *f = *state;
	pthread_t t[4];
	thr_arg a[4];
	seg_stats st;
	seg_unit_info ui;

	for (int i = 0; i < 4; i++) {
		a[i] = (thr_arg){f->s, i, 0};
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread,
						&a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].fails, 0);
	}
	seg_store_stats(f->s, &st);
	assert_true(st.commits >= 32);
	assert_int_equal(seg_unit_stat(f->s, "u1", &ui), DD_OK);
	assert_int_equal(ui.object_count, 32);
	assert_int_equal(ui.logical_bytes, 32 * 400000);
	reopen(f);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++) {
			char key[32];
			seg_stat s;

			snprintf(key, sizeof(key), "t%d/%d", i, j);
			assert_int_equal(seg_stat_object(f->s, "u1",
							 tst_key(key), &s),
					 DD_OK);
		}
}

typedef struct hot_arg {
	seg_store *s;
	int stop, reads, bad;
} hot_arg;

/* Reads "hot" while it is being replaced: every read must be one whole
 * committed version (its bytes hash to the SHA-256 recorded with it). */
static void *hot_reader(void *p)
{
	hot_arg *a = p;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		uint8_t *back, sha[32];
		size_t gn;
		seg_reader *r;
		unsigned int dl;

		if (seg_reader_open(a->s, "u1", tst_key("hot"), &r) != DD_OK)
			continue;
		gn = seg_reader_stat(r)->size;
		back = malloc(gn + 1);
		size_t got;
		if (seg_reader_pread(r, back, gn, 0, &got) != DD_OK ||
		    got != gn) {
			__atomic_fetch_add(&a->bad, 1, __ATOMIC_RELAXED);
		} else {
			EVP_Digest(back, gn, sha, &dl, EVP_sha256(), NULL);
			if (memcmp(sha, seg_reader_stat(r)->sha256, 32) != 0)
				__atomic_fetch_add(&a->bad, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&a->reads, 1, __ATOMIC_RELAXED);
		free(back);
		seg_reader_free(r);
	}
	return NULL;
}

static void test_read_while_replacing(void **state)
{
	fx *f = *state;
	hot_arg a = {f->s, 0, 0, 0};
	pthread_t t[2];
	size_t n = 200000;
	uint8_t *d = malloc(n + 40);

	tst_fill(d, n + 40, 8);
	assert_int_equal(tst_put(f->s, "u1", "hot", d, n, NULL), DD_OK);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hot_reader, &a), 0);
	for (int v = 1; v <= 30; v++)
		assert_int_equal(tst_put(f->s, "u1", "hot", d + v, n - v * 100,
					 NULL), DD_OK);
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(a.bad, 0);
	assert_true(a.reads > 0);
	free(d);
}

static void test_params_recorded(void **state)
{
	fx *f = *state;
	seg_opts o = small_opts();
	seg_chunk_params cp;

	seg_store_close(f->s);
	o.chunk_avg = 16384; /* ignored: the data dir has 8 KiB */
	assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
	seg_store_chunk_params(f->s, &cp);
	assert_int_equal(cp.avg, 8192);
	assert_int_equal(cp.min, 2048);
	assert_int_equal(cp.max, 65536);
	{
		seg_store *s2;
		assert_int_equal(seg_store_open(f->dir, &o, &s2), DD_ELOCKED);
	}
}

/* A torn tail after the durable end and a container file no commit ever
 * referenced: recovery truncates the first, removes the second, and every
 * committed object still reads back. */
/* Reads an object sequentially in pieces of `step` bytes; compares it with d
 * and returns how many regions the read decompressed (seg_stats). */
static uint64_t read_seq_regions(fx *f, const char *key, const uint8_t *d,
				 size_t n, size_t step)
{
	seg_reader *r;
	seg_stats a, b;
	uint8_t *got = malloc(step);
	size_t gn;

	assert_non_null(got);
	assert_int_equal(seg_reader_open(f->s, "u1", tst_key(key), &r), DD_OK);
	seg_store_stats(f->s, &a);
	for (size_t off = 0; off < n; off += gn) {
		assert_int_equal(seg_reader_pread(r, got, step, off, &gn),
				 DD_OK);
		assert_int_equal(gn, DD_MIN(step, n - off));
		assert_memory_equal(got, d + off, gn);
	}
	seg_store_stats(f->s, &b);
	seg_reader_free(r);
	free(got);
	return b.region_reads - a.region_reads;
}

/* The reader's region cache: a sequential read of an object decompresses
 * each region at most once, whatever the read size, although recipe nodes
 * (metadata chunks, in other regions) are fetched between data chunks.
 * Counts decompressions (seg_stats.region_reads); never timing. */
static void test_sequential_read_decompresses_once(void **state)
{
	fx *f = *state;
	size_t n = 6u << 20, steps[] = {1000, 4096, 65536, 1u << 20};
	uint8_t *d = malloc(n);
	seg_verify_report vr;
	seg_stat st;

	assert_non_null(d);
	tst_fill(d, n, 42);
	assert_int_equal(tst_put(f->s, "u1", "seq", d, n, &st), DD_OK);
	/* the store holds only this object: verify counts its regions
	 * (data and recipe nodes) */
	assert_int_equal(seg_verify(f->s, 0, NULL, &vr, NULL, NULL), DD_OK);
	assert_int_equal(vr.bad_regions, 0);
	assert_true(vr.regions >= (n >> 17)); /* 128 KiB regions */
	for (size_t i = 0; i < DD_ARRAY_LEN(steps); i++) {
		uint64_t k = read_seq_regions(f, "seq", d, n, steps[i]);

		print_message("step %zu: %llu region decompressions, %llu "
			      "regions\n", steps[i], (unsigned long long)k,
			      (unsigned long long)vr.regions);
		assert_true(k >= n >> 17);
		assert_true(k <= vr.regions);
	}
	free(d);
}

static void test_recovery_torn_tail(void **state)
{
	fx *f = *state;
	size_t n = 300000, gn;
	uint8_t *d = malloc(n), *back, junk[5000];
	char p[900];
	struct stat sb;
	off_t before;
	int fd;

	tst_fill(d, n, 31);
	memset(junk, 0xAB, sizeof(junk));
	assert_int_equal(tst_put(f->s, "u1", "keep", d, n, NULL), DD_OK);
	seg_store_close(f->s);
	f->s = NULL;
	snprintf(p, sizeof(p), "%s/store/containers/0000000000000001.ctr",
		 f->dir);
	assert_int_equal(stat(p, &sb), 0);
	before = sb.st_size;
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	snprintf(p, sizeof(p), "%s/store/containers/00000000000000ff.ctr",
		 f->dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	{
		seg_opts o = small_opts();
		assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
	}
	assert_int_equal(stat(p, &sb), -1); /* unreferenced: removed */
	snprintf(p, sizeof(p), "%s/store/containers/0000000000000001.ctr",
		 f->dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, before); /* tail dropped */
	assert_int_equal(tst_get(f->s, "u1", "keep", &back, &gn), DD_OK);
	assert_int_equal(gn, n);
	assert_memory_equal(back, d, n);
	/* and the store keeps working: new data after recovery */
	assert_int_equal(tst_put(f->s, "u1", "after", d + 1, n - 1, NULL),
			 DD_OK);
	free(back);
	free(d);
}

/* A data dir written by a newer format is refused, not misread. */
static void test_newer_format_refused(void **state)
{
	fx *f = *state;
	char p[700];
	idx_env *e;
	idx_txn *t;
	uint32_t v = 99;

	seg_store_close(f->s);
	f->s = NULL;
	snprintf(p, sizeof(p), "%s/store/index", f->dir);
	assert_int_equal(idx_env_open(p, 1u << 30, &e), DD_OK);
	assert_int_equal(idx_txn_begin(e, NULL, 0, &t), DD_OK);
	assert_int_equal(idx_put(t, IDX_DB_META, "format", 6, &v, 4, 0), DD_OK);
	assert_int_equal(idx_txn_commit(t), DD_OK);
	idx_env_close(e);
	assert_int_equal(seg_store_open(f->dir, NULL, &f->s), DD_ECONFIG);
	assert_null(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_shared_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_paths_same_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_snapshot_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_invisible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_while_replacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_format_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequential_read_decompresses_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
