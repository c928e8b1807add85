/*
 * bench/store.c - store benchmarks; prints one "name=value" line per figure.
 *
 *   store micro FILE [--reps N] [--level L] [--region BYTES] [--max-mb M]
 *       in-memory figures on the first M MiB of FILE (default 256):
 *       SHA-256 through OpenSSL EVP over 8 KiB pieces (the store's
 *       fingerprint path and average chunk size) and libzstd compression
 *       of the same data in regions of BYTES at level L. Each figure is
 *       the median of N runs (default 5).
 *
 * bench/run.sh drives it and adds the baselines (openssl speed, restic);
 * docs/BENCHMARKS.md explains the figures. Speed is measured with the
 * monotonic clock (wall time), single thread.
 */
#include "common/dd.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define MIB (1024.0 * 1024.0)
#define MAX_REPS 31

/* ------------------------------------------------------------- helpers */

/* A file loaded whole into memory (malloc'd; free data). */
struct blob {
	unsigned char *data;
	size_t len;
};

/*
 * Loads at most max bytes of path into b (caller frees b->data). Returns
 * DD_OK, DD_ENOMEM or an errno-mapped code. Not timed by any caller: the
 * benches measure the store, not the page cache.
 */
static int DD_WUR blob_load(const char *path, size_t max, struct blob *b)
{
	struct stat st;
	size_t want, got = 0;
	int rc = DD_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	b->data = NULL;
	b->len = 0;
	if (fd < 0)
		return dd_rc_from_errno(errno);
	if (fstat(fd, &st) != 0) {
		rc = dd_rc_from_errno(errno);
		goto out;
	}
	want = DD_MIN((size_t)st.st_size, max);
	if ((b->data = malloc(want ? want : 1)) == NULL) {
		rc = DD_ENOMEM;
		goto out;
	}
	while (got < want) {
		ssize_t r = read(fd, b->data + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? dd_rc_from_errno(errno) : DD_EIO;
			goto out;
		}
		got += (size_t)r;
	}
	b->len = got;
out:
	if (rc != DD_OK) {
		free(b->data);
		b->data = NULL;
	}
	close(fd);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Returns the median of v[0..n) (sorts v in place); 0 for n == 0. */
static double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double secs_since(int64_t t0)
{
	return (double)(dd_mono_ns() - t0) / 1e9;
}

/* Keeps the compiler from dropping work whose result is otherwise unused. */
static volatile unsigned char sink;

/* ------------------------------------------------------------ SHA-256 */

/*
 * Hashes data in piece-sized parts with one EVP context, as the store
 * fingerprints chunks. Returns elapsed seconds, or a negative value when
 * OpenSSL fails.
 */
static double sha_pass(const struct blob *b, size_t piece)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md_type = EVP_sha256();
	int64_t t0 = dd_mono_ns();
	double t = -1;

	if (ctx == NULL)
		return -1;
	for (size_t off = 0; off < b->len; off += piece) {
		size_t n = DD_MIN(piece, b->len - off);
		if (EVP_DigestInit_ex(ctx, md_type, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, b->data + off, n) != 1 ||
		    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
			goto out;
		sink ^= md[0];
	}
	t = secs_since(t0);
out:
	EVP_MD_CTX_free(ctx);
	return t;
}

/* --------------------------------------------------------------- zstd */

/*
 * Compresses data in region-sized parts at level. Sets *out_bytes to the
 * compressed total. Returns elapsed seconds, negative on a zstd error.
 */
static double zstd_pass(const struct blob *b, size_t region, int level,
			size_t *out_bytes)
{
	size_t cap = ZSTD_compressBound(region);
	unsigned char *dst = malloc(cap);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	int64_t t0;
	double t = -1;

	*out_bytes = 0;
	if (dst == NULL || cctx == NULL)
		goto out;
	t0 = dd_mono_ns();
	for (size_t off = 0; off < b->len; off += region) {
		size_t n = DD_MIN(region, b->len - off);
		size_t r = ZSTD_compressCCtx(cctx, dst, cap, b->data + off, n,
					     level);
		if (ZSTD_isError(r))
			goto out;
		/* Incompressible regions are stored raw, as the store does. */
		*out_bytes += DD_MIN(r, n);
	}
	t = secs_since(t0);
out:
	ZSTD_freeCCtx(cctx);
	free(dst);
	return t;
}

/* ------------------------------------------------------------- micro */

struct micro_opts {
	const char *file;
	int reps;
	int level;
	size_t region;
	size_t max_bytes;
};

static int DD_WUR run_micro(const struct micro_opts *o)
{
	struct blob b;
	double sha[MAX_REPS], zc[MAX_REPS];
	size_t zbytes = 0;
	int rc;

	if ((rc = blob_load(o->file, o->max_bytes, &b)) != DD_OK) {
		fprintf(stderr, "store: %s: %s\n", o->file, dd_strerror(rc));
		return rc;
	}
	printf("micro_bytes=%zu\n", b.len);
	for (int i = 0; i < o->reps; i++) {
		sha[i] = sha_pass(&b, 8192);
		zc[i] = zstd_pass(&b, o->region, o->level, &zbytes);
		if (sha[i] <= 0 || zc[i] <= 0) {
			rc = DD_EINTERNAL;
			goto out;
		}
		sha[i] = (double)b.len / sha[i] / 1e9;
		zc[i] = (double)b.len / zc[i] / MIB;
	}
	printf("sha256_8k_gbps=%.3f\n", median(sha, o->reps));
	printf("zstd_level=%d\n", o->level);
	printf("zstd_region_bytes=%zu\n", o->region);
	printf("zstd_compress_mbps=%.1f\n", median(zc, o->reps));
	printf("zstd_ratio=%.4f\n", b.len ? (double)zbytes / (double)b.len : 0);
out:
	free(b.data);
	return rc;
}

/* -------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
		"usage: store micro FILE [--reps N] [--level L] "
		"[--region BYTES] [--max-mb M]\n");
	exit(2);
}

static long arg_long(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	struct micro_opts mo = {
		.reps = 5, .level = 3, .region = 256 * 1024,
		.max_bytes = 256u << 20,
	};

	if (argc < 3 || strcmp(argv[1], "micro") != 0)
		usage();
	mo.file = argv[2];
	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--reps") == 0)
			mo.reps = (int)arg_long(argv[i + 1], 1, MAX_REPS);
		else if (strcmp(argv[i], "--level") == 0)
			mo.level = (int)arg_long(argv[i + 1], -5, 22);
		else if (strcmp(argv[i], "--region") == 0)
			mo.region = (size_t)arg_long(argv[i + 1], 4096, 64L << 20);
		else if (strcmp(argv[i], "--max-mb") == 0)
			mo.max_bytes = (size_t)arg_long(argv[i + 1], 1, 1L << 20) << 20;
		else
			usage();
	}
	return run_micro(&mo) == DD_OK ? 0 : 1;
}
