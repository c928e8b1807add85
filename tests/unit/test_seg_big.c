/*
 * tests/unit/test_seg_big.c - scale: one streaming write of DD_BIG_WRITE_GIB
 * GiB (default 20; 2 under sanitizers) must not grow the process's peak
 * RSS (VmHWM) by more than 256 MiB. The data is a 64 MiB random base
 * repeated with a few bytes changed per MiB per pass, so most chunks are
 * duplicates and little reaches the disk. Reads a few ranges back.
 */
#include "seg_test.h"

#define BASE (64u << 20)

static long vm_hwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Pass p's version of base MiB m: 16 bytes changed at a spot set by (p, m). */
static void vary(uint8_t *mib, uint64_t pass, uint64_t m)
{
	uint64_t r = pass * 1000003 + m;
	size_t at = (size_t)(tst_rng(&r) % ((1u << 20) - 16));

	for (int i = 0; i < 16; i++)
		mib[at + i] ^= (uint8_t)(pass + 1);
}

static void test_big_write_bounded_rss(void **state)
{
	const char *env = getenv("DD_BIG_WRITE_GIB");
	uint64_t gib = env ? strtoull(env, NULL, 10)
			   : (getenv("DD_SANITIZED") ? 2 : 20);
	uint64_t total = gib << 30, done = 0, pass = 0;
	uint8_t *base = malloc(BASE), *mib = malloc(1u << 20);
	char *dir = tst_tmpdir();
	seg_store *s;
	seg_writer *w;
	seg_stat st;
	seg_stats ss;
	long before, after;

	(void)state;
	assert_true(gib > 0);
	tst_fill(base, BASE, 1234);
	assert_int_equal(seg_store_open(dir, NULL, &s), DD_OK);
	assert_int_equal(seg_unit_create(s, "big", NULL), DD_OK);
	assert_int_equal(seg_writer_open(s, "big", tst_key("huge"), &w), DD_OK);
	/* RSS is the point here, not digests: skip MD5/SHA-256 of the whole */
	assert_int_equal(seg_writer_set_digests(w, 0), DD_OK);
	/* warm up every buffer before the baseline */
	before = vm_hwm_kib();
	while (done < total) {
		for (uint64_t m = 0; m < BASE >> 20 && done < total; m++) {
			memcpy(mib, base + (m << 20), 1u << 20);
			if (pass)
				vary(mib, pass, m);
			assert_int_equal(seg_writer_write(w, mib, 1u << 20),
					 DD_OK);
			done += 1u << 20;
		}
		pass++;
	}
	assert_int_equal(seg_writer_commit(w, NULL, &st), DD_OK);
	seg_writer_free(w);
	after = vm_hwm_kib();
	seg_store_stats(s, &ss);
	print_message("big write: %llu GiB, VmHWM %ld -> %ld KiB (+%ld MiB), "
		      "chunks %llu (new %llu), stored %llu MiB, LMDB reads %llu\n",
		      (unsigned long long)gib, before, after,
		      (after - before) / 1024,
		      (unsigned long long)ss.chunks_in,
		      (unsigned long long)ss.chunks_new,
		      (unsigned long long)(ss.bytes_stored >> 20),
		      (unsigned long long)ss.lmdb_reads);
	assert_int_equal(st.size, total);
	assert_int_equal(st.flags, 0);
	assert_true(after - before < 256 * 1024);

	/* spot-check content at a few offsets, including the last MiB */
	{
		seg_reader *r;
		uint64_t offs[3] = {0, total / 2 + 12345, total - (1u << 20)};
		uint8_t *got = malloc(1u << 20);

		assert_int_equal(seg_reader_open(s, "big", tst_key("huge"), &r),
				 DD_OK);
		for (int i = 0; i < 3; i++) {
			uint64_t off = offs[i] & ~(uint64_t)((1u << 20) - 1);
			uint64_t m = (off >> 20) % (BASE >> 20);
			uint64_t p = (off >> 20) / (BASE >> 20);
			size_t gn;

			memcpy(mib, base + (m << 20), 1u << 20);
			if (p)
				vary(mib, p, m);
			assert_int_equal(seg_reader_pread(r, got, 1u << 20,
							  off, &gn), DD_OK);
			assert_int_equal(gn, 1u << 20);
			assert_memory_equal(got, mib, 1u << 20);
		}
		seg_reader_free(r);
		free(got);
	}
	seg_store_close(s);
	tst_rmdir(dir);
	free(base);
	free(mib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_write_bounded_rss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
