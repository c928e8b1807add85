/* tests/unit/test_seg_chunker.c - content-defined chunker: boundaries are
 * independent of piece sizes, within bounds, shift-resistant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "segstore/seg.h"

#define DATA_LEN (4u << 20)

static uint8_t *random_data(size_t n, uint64_t seed)
{
	uint8_t *d = malloc(n);

	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		d[i] = (uint8_t)(seed >> 56);
	}
	return d;
}

/* Chunk lengths of d fed in pieces of `piece` bytes (0: random sizes). */
static size_t chunk_all(const seg_chunk_params *p, const uint8_t *d, size_t n,
			size_t piece, uint32_t *lens, size_t maxl)
{
	seg_chunker *c = seg_chunker_new(p);
	size_t off = 0, cur = 0, nl = 0;
	uint64_t r = 12345;

	assert_non_null(c);
	while (off < n) {
		size_t want = piece;
		int cut;

		if (!want) {
			r = r * 6364136223846793005ULL + 1;
			want = 1 + (r >> 33) % 20000;
		}
		want = DD_MIN(want, n - off);
		while (want > 0) {
			size_t used = seg_chunker_scan(c, d + off, want, &cut);

			off += used;
			want -= used;
			cur += used;
			if (cut) {
				assert_true(nl < maxl);
				lens[nl++] = (uint32_t)cur;
				cur = 0;
			}
		}
	}
	if (cur) {
		assert_true(nl < maxl);
		lens[nl++] = (uint32_t)cur;
	}
	seg_chunker_free(c);
	return nl;
}

static void test_piece_independence(void **state)
{
	seg_chunk_params p = {2048, 8192, 65536};
	uint8_t *d = random_data(DATA_LEN, 1);
	size_t maxl = DATA_LEN / 2048 + 2;
	uint32_t *a = calloc(maxl, 4), *b = calloc(maxl, 4);
	size_t na, nb, total = 0;

	(void)state;
	na = chunk_all(&p, d, DATA_LEN, DATA_LEN, a, maxl);
	for (size_t i = 0; i < na; i++) {
		total += a[i];
		if (i + 1 < na) {
			assert_true(a[i] >= p.min);
			assert_true(a[i] <= p.max);
		}
	}
	assert_int_equal(total, DATA_LEN);
	/* average within a factor of 2 of the target on random data */
	assert_true(DATA_LEN / na > 4096 && DATA_LEN / na < 16384);
	size_t pieces[] = {1, 7, 4096, 65536, 0};
	for (size_t k = 0; k < DD_ARRAY_LEN(pieces); k++) {
		size_t n = pieces[k] == 1 ? 256 * 1024 : DATA_LEN;
		size_t nref = chunk_all(&p, d, n, n, a, maxl);

		nb = chunk_all(&p, d, n, pieces[k], b, maxl);
		assert_int_equal(nb, nref);
		assert_memory_equal(a, b, nb * 4);
	}
	free(a);
	free(b);
	free(d);
}

static void test_shift_resistance(void **state)
{
	seg_chunk_params p = {2048, 8192, 65536};
	uint8_t *d = random_data(DATA_LEN + 100, 2);
	size_t maxl = DATA_LEN / 2048 + 2, na, nb, same = 0;
	uint32_t *a = calloc(maxl, 4), *b = calloc(maxl, 4);

	(void)state;
	na = chunk_all(&p, d + 100, DATA_LEN, DATA_LEN, a, maxl);
	nb = chunk_all(&p, d, DATA_LEN + 100, DATA_LEN, b, maxl);
	/* after inserting 100 bytes in front, boundaries resynchronize: all
	 * but the first few chunk lengths reappear at the end. */
	for (size_t i = 1; i <= na && i <= nb; i++)
		if (a[na - i] == b[nb - i])
			same++;
	assert_true(same + 3 >= na);
	free(a);
	free(b);
	free(d);
}

static void test_params_and_zero_data(void **state)
{
	seg_chunk_params bad1 = {2048, 8000, 65536}, bad2 = {2048, 8192, 8192},
			 bad3 = {16384, 8192, 65536}, good = {1024, 4096, 16384};
	uint8_t *zero = calloc(1, 1 << 20);
	uint32_t lens[1024];
	size_t n;

	(void)state;
	assert_int_equal(seg_chunk_params_check(&bad1), DD_EINVAL);
	assert_int_equal(seg_chunk_params_check(&bad2), DD_EINVAL);
	assert_int_equal(seg_chunk_params_check(&bad3), DD_EINVAL);
	assert_null(seg_chunker_new(&bad1));
	assert_int_equal(seg_chunk_params_check(&good), DD_OK);
	/* constant data never matches a mask: max-size chunks */
	n = chunk_all(&good, zero, 1 << 20, 1 << 20, lens, 1024);
	assert_int_equal(n, (1 << 20) / 16384);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(lens[i], 16384);
	free(zero);
}

static void test_fingerprint(void **state)
{
	uint8_t fp[32], want[32];

	(void)state;
	seg_fingerprint("abc", 3, fp);
	assert_int_equal(dd_hex_decode("ba7816bf8f01cfea414140de5dae2223"
				       "b00361a396177a9cb410ff61f20015ad",
				       64, want), DD_OK);
	assert_memory_equal(fp, want, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piece_independence),
		cmocka_unit_test(test_shift_resistance),
		cmocka_unit_test(test_params_and_zero_data),
		cmocka_unit_test(test_fingerprint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
