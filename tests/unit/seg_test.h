/* tests/unit/seg_test.h - helpers shared by the segstore tests (header
 * only: each test binary includes it once). */
#ifndef SEG_TEST_H
#define SEG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "segstore/seg.h"

static inline uint64_t tst_rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 17;
}

static inline void tst_fill(uint8_t *d, size_t n, uint64_t seed)
{
	uint64_t s = seed * 2654435761ULL + 1;

	for (size_t i = 0; i < n; i++) {
		if ((i & 7) == 0)
			tst_rng(&s);
		d[i] = (uint8_t)(s >> ((i & 7) * 8));
	}
}

static inline char *tst_tmpdir(void)
{
	char *d = strdup("/tmp/dd-seg-test.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static inline void tst_rmdir(char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static inline dd_str tst_key(const char *k)
{
	return (dd_str){k, strlen(k)};
}

/* Writes data in random piece sizes; returns the commit rc. */
static inline int tst_put(seg_store *s, const char *unit, const char *key,
			  const void *data, size_t n, seg_stat *st)
{
	seg_writer *w;
	uint64_t r = n + 7;
	size_t off = 0;
	int rc = seg_writer_open(s, unit, tst_key(key), &w);

	if (rc != DD_OK)
		return rc;
	while (off < n) {
		size_t piece = 1 + tst_rng(&r) % 100000;

		piece = piece > n - off ? n - off : piece;
		if ((rc = seg_writer_write(w, (const uint8_t *)data + off,
					   piece)) != DD_OK) {
			seg_writer_free(w);
			return rc;
		}
		off += piece;
	}
	rc = seg_writer_commit(w, NULL, st);
	seg_writer_free(w);
	return rc;
}

/* Reads the whole object into a malloc'd buffer (*n bytes). */
static inline int tst_get(seg_store *s, const char *unit, const char *key,
			  uint8_t **out, size_t *n)
{
	seg_reader *r;
	size_t got, off = 0;
	int rc = seg_reader_open(s, unit, tst_key(key), &r);

	*out = NULL;
	*n = 0;
	if (rc != DD_OK)
		return rc;
	*n = seg_reader_stat(r)->size;
	*out = malloc(*n + 1);
	while (off < *n) {
		size_t want = *n - off > 300000 ? 300000 : *n - off;

		rc = seg_reader_pread(r, *out + off, want, off, &got);
		if (rc != DD_OK)
			break;
		if (got == 0) {
			rc = DD_EINTERNAL;
			break;
		}
		off += got;
	}
	seg_reader_free(r);
	return rc;
}

#endif
