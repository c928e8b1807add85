/*
 * bench/store.c - store benchmarks; prints one "name=value" line per figure.
 *
 *   store micro FILE [--reps N] [--max-mb M] [--chunk-kib K]
 *       In-memory figures on the first M MiB of FILE (default 256), each the
 *       median of N runs (default 5), per second of CPU time (one thread): the content-defined chunker alone;
 *       SHA-256 through OpenSSL EVP in 8 KiB pieces (comparable to
 *       `openssl speed`) and through seg_fingerprint() over the chunker's
 *       real chunks (the store's code path); libzstd compressing the same
 *       data at the store's default level and region size, and
 *       decompressing it again (the read path's baseline).
 *
 *   store dedup FILE... [--chunk-kib K] [--prefix P]
 *       A store-independent model of the chunk-size study: chunks and
 *       fingerprints the files in order, keeps the first copy of each chunk
 *       and compresses those in store-sized regions (see run_dedup).
 *
 *   store ingest DIR FILE... [--reps N] [--chunk-kib K] [--prefix P]
 *       Creates a fresh store in DIR/rep<i> (removed afterwards unless
 *       --keep) with average chunk K KiB (0: the store's default) and
 *       writes, in order: FILE 1 into the empty store (new data), FILE 1
 *       again (duplicate data), then FILE 2..n (mutated generations).
 *       Then reopens the store and reads the last FILE back, checking every
 *       byte. Figures are medians over N fresh stores (default 1) and carry
 *       the prefix P. --digests all makes the writers also compute MD5 and
 *       SHA-256 of the whole content, as the S3 path does (default none,
 *       as DDP does: the store's own cost).
 *
 * Speeds are wall clock (monotonic) and, where named *_cpu_*, per second of
 * CPU time of the whole process (all its threads): on a shared machine the
 * latter is the steadier "per core" figure. Input files are loaded into
 * memory before timing: the benches measure the store, not the page cache.
 * bench/run.sh drives this and adds the external baselines;
 * docs/BENCHMARKS.md explains every figure.
 */
#include "common/dd.h"
#include "segstore/seg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define MB 1e6 /* figures use decimal units: MB/s = 10^6 bytes/s */
#define MAX_REPS 31
#define MAX_FILES 64
#define IO_PIECE (1u << 20) /* bytes per write/read call, like a socket feed */

/* ------------------------------------------------------------- helpers */

/* A file mapped whole into memory (blob_free releases it). */
struct blob {
	unsigned char *data;
	size_t len;
};

/*
 * Maps at most max bytes of path, read-only and populated up front (the
 * file is in the page cache after its first use, so this costs no I/O and
 * no copy). Returns DD_OK or an errno-mapped code; on success the caller
 * calls blob_free(b).
 */
static int DD_WUR blob_load(const char *path, size_t max, struct blob *b)
{
	struct stat st;
	void *p;
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
	b->len = DD_MIN((size_t)st.st_size, max);
	if (b->len == 0) {
		rc = DD_EINVAL;
		goto out;
	}
	p = mmap(NULL, b->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		rc = dd_rc_from_errno(errno);
		b->len = 0;
		goto out;
	}
	b->data = p;
out:
	close(fd);
	return rc;
}

static void blob_free(struct blob *b)
{
	if (b->data != NULL)
		munmap(b->data, b->len);
	b->data = NULL;
	b->len = 0;
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

/* A point in time: wall (monotonic) and process CPU (all threads). */
struct stamp {
	int64_t wall_ns;
	double cpu_s;
};

static struct stamp stamp_now(void)
{
	struct rusage ru;
	struct stamp t = { dd_mono_ns(), 0 };

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		t.cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			  (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return t;
}

static double wall_since(struct stamp t0)
{
	return (double)(dd_mono_ns() - t0.wall_ns) / 1e9;
}

/*
 * CPU seconds of the process since t0. The in-memory passes are single
 * threaded, so this is their time on one core, less disturbed than wall
 * time by other work on a shared machine.
 */
static double cpu_since(struct stamp t0)
{
	return stamp_now().cpu_s - t0.cpu_s;
}

/* Keeps the compiler from dropping work whose result is otherwise unused. */
static volatile unsigned char sink;

/* ------------------------------------------------------------ SHA-256 */

/*
 * Hashes data in piece-sized parts with one EVP context (fresh digest per
 * piece, as `openssl speed` does per block). Returns elapsed seconds, or a
 * negative value when OpenSSL fails.
 */
static double sha_evp_pass(const struct blob *b, size_t piece)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md_type = EVP_sha256();
	struct stamp t0 = stamp_now();
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
	t = cpu_since(t0);
out:
	EVP_MD_CTX_free(ctx);
	return t;
}

/* Fingerprints the n chunks of lens[] with seg_fingerprint; returns seconds. */
static double sha_chunks_pass(const struct blob *b, const uint32_t *lens,
			      size_t n)
{
	uint8_t fp[SEG_FP_LEN];
	struct stamp t0 = stamp_now();
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		seg_fingerprint(b->data + off, lens[i], fp);
		sink ^= fp[0];
		off += lens[i];
	}
	return cpu_since(t0);
}

/* ------------------------------------------------------------ chunker */

/*
 * Chunks the whole blob, feeding it in IO_PIECE parts. If lens is non-NULL
 * (room for b->len / p->min + 2 entries) the chunk lengths are stored
 * there. Sets *nchunks. Returns seconds, negative if no chunker.
 */
static double chunk_pass(const struct blob *b, const seg_chunk_params *p,
			 uint32_t *lens, size_t *nchunks)
{
	seg_chunker *c = seg_chunker_new(p);
	struct stamp t0 = stamp_now();
	size_t n = 0, cur = 0;
	double t;

	*nchunks = 0;
	if (c == NULL)
		return -1;
	for (size_t off = 0; off < b->len; off += IO_PIECE) {
		size_t left = DD_MIN(IO_PIECE, b->len - off);
		const unsigned char *q = b->data + off;
		while (left > 0) {
			int cut = 0;
			size_t used = seg_chunker_scan(c, q, left, &cut);
			if (used == 0 && !cut) { /* a broken chunker: stop */
				seg_chunker_free(c);
				return -1;
			}
			q += used;
			left -= used;
			cur += used;
			if (cut) {
				if (lens)
					lens[n] = (uint32_t)cur;
				n++;
				cur = 0;
			}
		}
	}
	if (cur > 0) {
		if (lens)
			lens[n] = (uint32_t)cur;
		n++;
	}
	t = cpu_since(t0);
	seg_chunker_free(c);
	*nchunks = n;
	return t;
}

/* --------------------------------------------------------------- zstd */

/* The blob compressed region by region, kept for the decompression pass. */
struct zpack {
	unsigned char *buf; /* n slots of slot bytes */
	size_t slot, n, region;
	size_t *zlen;       /* compressed length per region */
	size_t total;       /* sum of min(zlen, raw length) */
};

static void zpack_release(struct zpack *z)
{
	free(z->buf);
	free(z->zlen);
	memset(z, 0, sizeof(*z));
}

/*
 * Compresses data in region-sized parts at level into z (allocated on the
 * first call; release with zpack_release). z->total counts a region that
 * does not shrink as raw, as the store keeps it. Returns elapsed seconds,
 * negative on a zstd or allocation error.
 */
static double zstd_pass(const struct blob *b, size_t region, int level,
			struct zpack *z)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	struct stamp t0;
	double t = -1;

	if (z->buf == NULL) {
		z->region = region;
		z->slot = ZSTD_compressBound(region);
		z->n = (b->len + region - 1) / region;
		z->buf = malloc(z->n * z->slot);
		z->zlen = calloc(z->n, sizeof(*z->zlen));
	}
	if (cctx == NULL || z->buf == NULL || z->zlen == NULL)
		goto out;
	z->total = 0;
	t0 = stamp_now();
	for (size_t i = 0; i < z->n; i++) {
		size_t off = i * region, n = DD_MIN(region, b->len - off);
		size_t r = ZSTD_compressCCtx(cctx, z->buf + i * z->slot, z->slot,
					     b->data + off, n, level);
		if (ZSTD_isError(r))
			goto out;
		z->zlen[i] = r;
		z->total += DD_MIN(r, n);
	}
	t = cpu_since(t0);
out:
	ZSTD_freeCCtx(cctx);
	return t;
}

/*
 * Decompresses every region of z (the read path's decompression cost) and
 * checks the result against b. Returns seconds, negative on an error or a
 * mismatch.
 */
static double zstd_dpass(const struct blob *b, const struct zpack *z)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	unsigned char *out = malloc(z->region);
	struct stamp t0 = stamp_now();
	double t = -1;

	if (dctx == NULL || out == NULL)
		goto out;
	for (size_t i = 0; i < z->n; i++) {
		size_t off = i * z->region, n = DD_MIN(z->region, b->len - off);
		size_t r = ZSTD_decompressDCtx(dctx, out, z->region,
					       z->buf + i * z->slot, z->zlen[i]);
		if (ZSTD_isError(r) || r != n || out[n - 1] != b->data[off + n - 1])
			goto out;
	}
	t = cpu_since(t0);
out:
	ZSTD_freeDCtx(dctx);
	free(out);
	return t;
}

/* ---------------------------------------------------------- options */

struct opts {
	const char *dir;
	const char *files[MAX_FILES];
	int nfiles;
	int reps;
	uint32_t chunk_kib; /* 0: store default */
	size_t max_bytes;
	const char *prefix;
	int keep;
	uint32_t digests; /* SEG_STAT_* the writers compute (ingest) */
};

/* The store's defaults, with the average overridden when asked. */
static void store_opts(const struct opts *o, seg_opts *so)
{
	memset(so, 0, sizeof(*so));
	seg_opts_init(so);
	if (o->chunk_kib) {
		so->chunk_avg = o->chunk_kib * 1024;
		so->chunk_min = so->chunk_avg / 4;
		so->chunk_max = so->chunk_avg * 8;
	}
}

/* Chunk params as the store would derive them from so (see seg.h). */
static seg_chunk_params chunk_params_of(const seg_opts *so)
{
	seg_chunk_params p;

	p.avg = so->chunk_avg ? so->chunk_avg : 8192;
	p.min = so->chunk_min ? so->chunk_min : p.avg / 4;
	p.max = so->chunk_max ? so->chunk_max : p.avg * 8;
	return p;
}

/* ------------------------------------------------------------- micro */

static int DD_WUR run_micro(const struct opts *o)
{
	struct blob b;
	seg_opts so;
	seg_chunk_params cp;
	double sha8[MAX_REPS], shac[MAX_REPS], chk[MAX_REPS], zc[MAX_REPS];
	double zd[MAX_REPS];
	struct zpack z = { 0 };
	uint32_t *lens = NULL;
	size_t nchunks = 0;
	int level, rc, have_chunker = 1;
	size_t region;

	store_opts(o, &so);
	cp = chunk_params_of(&so);
	level = so.zstd_level ? so.zstd_level : 1;
	region = so.region_size ? so.region_size : 512 * 1024;
	if ((rc = blob_load(o->files[0], o->max_bytes, &b)) != DD_OK) {
		fprintf(stderr, "store: %s: %s\n", o->files[0], dd_strerror(rc));
		return rc;
	}
	if ((lens = malloc((b.len / cp.min + 2) * sizeof(*lens))) == NULL) {
		rc = DD_ENOMEM;
		goto out;
	}
	printf("micro_bytes=%zu\n", b.len);
	for (int i = 0; i < o->reps; i++) {
		chk[i] = chunk_pass(&b, &cp, lens, &nchunks);
		if (chk[i] <= 0)
			have_chunker = 0;
		sha8[i] = sha_evp_pass(&b, 8192);
		shac[i] = have_chunker ? sha_chunks_pass(&b, lens, nchunks) : 1;
		zc[i] = zstd_pass(&b, region, level, &z);
		zd[i] = zc[i] > 0 ? zstd_dpass(&b, &z) : -1;
		if (sha8[i] <= 0 || zc[i] <= 0 || zd[i] <= 0) {
			rc = DD_EINTERNAL;
			goto out;
		}
		chk[i] = (double)b.len / chk[i] / 1e9;
		sha8[i] = (double)b.len / sha8[i] / 1e9;
		shac[i] = (double)b.len / shac[i] / 1e9;
		zc[i] = (double)b.len / zc[i] / MB;
		zd[i] = (double)b.len / zd[i] / MB;
	}
	printf("sha256_evp_8k_gbps=%.3f\n", median(sha8, o->reps));
	if (have_chunker) {
		printf("chunker_avg_bytes=%u\n", cp.avg);
		printf("chunker_gbps=%.3f\n", median(chk, o->reps));
		printf("chunker_mean_chunk_bytes=%.0f\n",
		       nchunks ? (double)b.len / (double)nchunks : 0);
		printf("sha256_chunks_gbps=%.3f\n", median(shac, o->reps));
	} else {
		printf("chunker_status=pending\n");
	}
	printf("zstd_level=%d\n", level);
	printf("zstd_region_bytes=%zu\n", region);
	printf("zstd_compress_mbps=%.1f\n", median(zc, o->reps));
	printf("zstd_decompress_mbps=%.1f\n", median(zd, o->reps));
	printf("zstd_ratio=%.4f\n", (double)z.total / (double)b.len);
out:
	zpack_release(&z);
	free(lens);
	blob_free(&b);
	return rc;
}

/* ------------------------------------------------------------- dedup */

/*
 * A model of what the store keeps, independent of the store's code: the
 * files are chunked with seg_chunker_* and seg_fingerprint, unique chunks
 * (first occurrence of a fingerprint) are packed into regions of the
 * store's region size and compressed with zstd at the store's level. The
 * result is the data the containers must hold, without any metadata: a
 * lower bound for the real store and a cross-check of the chunk-size study.
 */

/* Open-addressing set of fingerprints (power-of-two slots, zero = empty). */
struct fpset {
	uint8_t (*slot)[SEG_FP_LEN];
	size_t cap, n;
};

static int DD_WUR fpset_grow(struct fpset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1u << 16;
	uint8_t (*ns)[SEG_FP_LEN] = calloc(ncap, SEG_FP_LEN);
	static const uint8_t zero[SEG_FP_LEN];

	if (ns == NULL)
		return DD_ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t h;
		if (memcmp(s->slot[i], zero, SEG_FP_LEN) == 0)
			continue;
		memcpy(&h, s->slot[i], sizeof(h));
		for (h &= ncap - 1; memcmp(ns[h], zero, SEG_FP_LEN) != 0;
		     h = (h + 1) & (ncap - 1))
			;
		memcpy(ns[h], s->slot[i], SEG_FP_LEN);
	}
	free(s->slot);
	s->slot = ns;
	s->cap = ncap;
	return DD_OK;
}

/* Inserts fp; sets *added to 1 if it was not there. DD_ENOMEM. */
static int DD_WUR fpset_add(struct fpset *s, const uint8_t *fp, int *added)
{
	static const uint8_t zero[SEG_FP_LEN];
	size_t h;
	int rc;

	*added = 0;
	if (2 * (s->n + 1) > s->cap && (rc = fpset_grow(s)) != DD_OK)
		return rc;
	memcpy(&h, fp, sizeof(h));
	for (h &= s->cap - 1; memcmp(s->slot[h], zero, SEG_FP_LEN) != 0;
	     h = (h + 1) & (s->cap - 1))
		if (memcmp(s->slot[h], fp, SEG_FP_LEN) == 0)
			return DD_OK;
	memcpy(s->slot[h], fp, SEG_FP_LEN);
	s->n++;
	*added = 1;
	return DD_OK;
}

/* Unique chunks waiting to be compressed as one region. */
struct region_acc {
	unsigned char *buf, *dst;
	size_t len, cap, dst_cap;
	int level;
	ZSTD_CCtx *cctx;
	uint64_t stored; /* compressed (or raw when larger) bytes so far */
};

static int DD_WUR region_flush(struct region_acc *r)
{
	size_t z;

	if (r->len == 0)
		return DD_OK;
	z = ZSTD_compressCCtx(r->cctx, r->dst, r->dst_cap, r->buf, r->len,
			      r->level);
	if (ZSTD_isError(z))
		return DD_EINTERNAL;
	r->stored += DD_MIN(z, r->len);
	r->len = 0;
	return DD_OK;
}

/* Appends a unique chunk (len <= cap), flushing a full region first. */
static int DD_WUR region_add(struct region_acc *r, const void *p, size_t len)
{
	int rc;

	if (r->len + len > r->cap && (rc = region_flush(r)) != DD_OK)
		return rc;
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	return DD_OK;
}

struct dedup_totals {
	uint64_t logical, chunks, unique_chunks, unique_bytes;
};

/* Chunks, fingerprints and dedups one file into set/acc/t. */
static int DD_WUR dedup_file(const char *path, const seg_chunk_params *cp,
			     struct fpset *set, struct region_acc *acc,
			     struct dedup_totals *t)
{
	struct blob b;
	uint32_t *lens = NULL;
	size_t n = 0, off = 0;
	uint8_t fp[SEG_FP_LEN];
	int rc, added;

	if ((rc = blob_load(path, SIZE_MAX, &b)) != DD_OK)
		return rc;
	if ((lens = malloc((b.len / cp->min + 2) * sizeof(*lens))) == NULL) {
		rc = DD_ENOMEM;
		goto out;
	}
	if (chunk_pass(&b, cp, lens, &n) < 0) {
		rc = DD_ENOTSUP;
		goto out;
	}
	for (size_t i = 0; i < n; off += lens[i], i++) {
		seg_fingerprint(b.data + off, lens[i], fp);
		if ((rc = fpset_add(set, fp, &added)) != DD_OK)
			goto out;
		if (!added)
			continue;
		t->unique_chunks++;
		t->unique_bytes += lens[i];
		if ((rc = region_add(acc, b.data + off, lens[i])) != DD_OK)
			goto out;
	}
	t->chunks += n;
	t->logical += b.len;
out:
	free(lens);
	blob_free(&b);
	return rc;
}

static int DD_WUR run_dedup(const struct opts *o)
{
	seg_opts so;
	seg_chunk_params cp;
	struct fpset set = { 0 };
	struct region_acc acc = { 0 };
	struct dedup_totals t = { 0 };
	int rc = DD_ENOMEM;

	store_opts(o, &so);
	cp = chunk_params_of(&so);
	acc.level = so.zstd_level ? so.zstd_level : 1;
	acc.cap = DD_MAX((size_t)(so.region_size ? so.region_size : 512 * 1024),
			 (size_t)cp.max);
	acc.dst_cap = ZSTD_compressBound(acc.cap);
	acc.buf = malloc(acc.cap);
	acc.dst = malloc(acc.dst_cap);
	acc.cctx = ZSTD_createCCtx();
	if (acc.buf == NULL || acc.dst == NULL || acc.cctx == NULL)
		goto out;
	printf("%smodel_chunk_avg=%u\n", o->prefix, cp.avg);
	for (int i = 0; i < o->nfiles; i++) {
		uint64_t before = t.unique_bytes;
		if ((rc = dedup_file(o->files[i], &cp, &set, &acc, &t)) != DD_OK)
			goto out;
		printf("%smodel_gen%d_new_bytes=%llu\n", o->prefix, i,
		       (unsigned long long)(t.unique_bytes - before));
	}
	if ((rc = region_flush(&acc)) != DD_OK)
		goto out;
	printf("%smodel_chunks=%llu\n", o->prefix, (unsigned long long)t.chunks);
	printf("%smodel_unique_chunks=%llu\n", o->prefix,
	       (unsigned long long)t.unique_chunks);
	printf("%smodel_unique_ratio=%.4f\n", o->prefix,
	       (double)t.unique_bytes / (double)t.logical);
	printf("%smodel_stored_ratio=%.4f\n", o->prefix,
	       (double)acc.stored / (double)t.logical);
out:
	if (rc != DD_OK)
		printf("%smodel_status=\"failed: %s\"\n", o->prefix,
		       dd_strerror(rc));
	ZSTD_freeCCtx(acc.cctx);
	free(acc.buf);
	free(acc.dst);
	free(set.slot);
	return rc;
}

/* ------------------------------------------------------------ ingest */

/* Figures of one ingest sequence (one fresh store). */
struct ingest_run {
	double mbps[MAX_FILES + 1];     /* [0] new, [1] dup, [k+1] file k */
	double cpu_mbps[MAX_FILES + 1]; /* same, per CPU second */
	double total_secs;              /* files 0..n-1, duplicate excluded */
	double total_cpu_secs;          /* the same in CPU seconds */
	double read_mbps;
	double read_cpu_mbps;
	double read_region_reads; /* regions decompressed by the read */
	double open_secs;
	double dup_reads_per_1000;      /* LMDB reads per 1000 chunks, dup */
	double dup_chunks_dup_pct;      /* dup stream chunks deduplicated, % */
	uint64_t stored_bytes;          /* container bytes (stats) */
	uint64_t disk_bytes;            /* whole store dir, as du would say */
	uint64_t logical_bytes;         /* files 0..n-1 */
	uint64_t chunks_in;
};

static uint64_t disk_total;

static int du_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	/* Apparent size, but allocated size for sparse files (LMDB map). */
	if (flag == FTW_F)
		disk_total += DD_MIN((uint64_t)st->st_size,
				     (uint64_t)st->st_blocks * 512);
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Bytes the directory tree occupies (see du_cb). */
static uint64_t dir_bytes(const char *dir)
{
	disk_total = 0;
	if (nftw(dir, du_cb, 16, FTW_PHYS) != 0)
		return 0;
	return disk_total;
}

/*
 * Writes blob b as (unit "bench", key) in IO_PIECE parts and commits,
 * computing the whole-content digests given (SEG_STAT_* bits; 0 = none).
 * Sets *wall and *cpu to the seconds it took. Returns a dd_rc.
 */
static int DD_WUR put_object(seg_store *s, const char *key,
			     const struct blob *b, uint32_t digests,
			     double *wall, double *cpu)
{
	seg_writer *w = NULL;
	seg_stat st;
	struct stamp t0 = stamp_now();
	int rc;

	if ((rc = seg_writer_open(s, "bench", dd_str_c(key), &w)) != DD_OK ||
	    (rc = seg_writer_set_digests(w, digests)) != DD_OK)
		goto out;
	for (size_t off = 0; off < b->len; off += IO_PIECE) {
		rc = seg_writer_write(w, b->data + off,
				      DD_MIN(IO_PIECE, b->len - off));
		if (rc != DD_OK)
			goto out;
	}
	if ((rc = seg_writer_commit(w, NULL, &st)) != DD_OK)
		goto out;
	*wall = wall_since(t0);
	*cpu = stamp_now().cpu_s - t0.cpu_s;
	if (st.size != b->len) {
		fprintf(stderr, "store: %s committed %llu bytes of %zu\n", key,
			(unsigned long long)st.size, b->len);
		rc = DD_ECORRUPT;
	}
out:
	seg_writer_free(w);
	return rc;
}

/*
 * Reads (unit "bench", key) back in IO_PIECE parts and compares it with b.
 * Sets *wall and *cpu to the seconds the reads took (the comparison is not
 * timed).
 * DD_ECORRUPT if any byte differs.
 */
static int DD_WUR get_object(seg_store *s, const char *key,
			     const struct blob *b, double *wall, double *cpu)
{
	seg_reader *r = NULL;
	unsigned char *buf = malloc(b->len ? b->len : 1);
	uint64_t off = 0;
	struct stamp t0;
	int rc;

	if (buf == NULL)
		return DD_ENOMEM;
	memset(buf, 0, b->len); /* fault the pages in before timing */
	t0 = stamp_now();
	if ((rc = seg_reader_open(s, "bench", dd_str_c(key), &r)) != DD_OK)
		goto out;
	while (off < b->len) {
		size_t got = 0;
		rc = seg_reader_pread(r, buf + off,
				      DD_MIN(IO_PIECE, b->len - off), off, &got);
		if (rc != DD_OK)
			goto out;
		if (got == 0) {
			rc = DD_ECORRUPT; /* object shorter than the file */
			goto out;
		}
		off += got;
	}
	*wall = wall_since(t0);
	*cpu = stamp_now().cpu_s - t0.cpu_s;
	if (memcmp(buf, b->data, b->len) != 0) {
		fprintf(stderr, "store: %s read back differs\n", key);
		rc = DD_ECORRUPT;
	}
out:
	seg_reader_free(r);
	free(buf);
	return rc;
}

/* Loads file i of o, reporting errors. */
static int DD_WUR load_nth(const struct opts *o, int i, struct blob *b)
{
	int rc = blob_load(o->files[i], SIZE_MAX, b);

	if (rc != DD_OK)
		fprintf(stderr, "store: %s: %s\n", o->files[i], dd_strerror(rc));
	return rc;
}

/* Ingests file i as key "gen<i>" (or "dup" when dup) into s; fills r. */
static int DD_WUR ingest_one(const struct opts *o, seg_store *s, int i,
			     int dup, struct ingest_run *r)
{
	struct blob b;
	seg_stats before, after;
	char key[32];
	double wall = 0, cpu = 0;
	int slot = dup ? 1 : (i == 0 ? 0 : i + 1);
	int rc;

	if ((rc = load_nth(o, i, &b)) != DD_OK)
		return rc;
	snprintf(key, sizeof(key), dup ? "dup%d" : "gen%d", i);
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	seg_store_stats(s, &before);
	if ((rc = put_object(s, key, &b, o->digests, &wall, &cpu)) != DD_OK) {
		fprintf(stderr, "store: writing %s: %s\n", key, dd_strerror(rc));
		goto out;
	}
	seg_store_stats(s, &after);
	r->mbps[slot] = (double)b.len / MB / wall;
	r->cpu_mbps[slot] = cpu > 0 ? (double)b.len / MB / cpu : 0;
	if (dup) {
		uint64_t n = after.chunks_in - before.chunks_in;
		r->dup_reads_per_1000 = n ? 1000.0 *
			(double)(after.lmdb_reads - before.lmdb_reads) / (double)n : -1;
		r->dup_chunks_dup_pct = n ? 100.0 *
			(double)(after.chunks_dup - before.chunks_dup) / (double)n : -1;
	} else {
		r->total_secs += wall;
		r->total_cpu_secs += cpu;
		r->logical_bytes += b.len;
	}
out:
	blob_free(&b);
	return rc;
}

/* Reopens the store and reads the newest file back; fills r. */
static int DD_WUR read_newest(const struct opts *o, const char *dir,
			      const seg_opts *so, seg_store **sp,
			      struct ingest_run *r)
{
	struct blob b;
	char key[32];
	struct stamp t0;
	seg_stats st0, st1;
	double wall = 0, cpu = 0;
	int last = o->nfiles - 1;
	int rc;

	seg_store_close(*sp);
	*sp = NULL;
	t0 = stamp_now();
	if ((rc = seg_store_open(dir, so, sp)) != DD_OK)
		return rc;
	r->open_secs = wall_since(t0);
	if ((rc = load_nth(o, last, &b)) != DD_OK)
		return rc;
	snprintf(key, sizeof(key), "gen%d", last);
	seg_store_stats(*sp, &st0);
	rc = get_object(*sp, key, &b, &wall, &cpu);
	seg_store_stats(*sp, &st1);
	r->read_region_reads = (double)(st1.region_reads - st0.region_reads);
	if (rc == DD_OK) {
		r->read_mbps = (double)b.len / MB / wall;
		r->read_cpu_mbps = cpu > 0 ? (double)b.len / MB / cpu : 0;
	}
	else
		fprintf(stderr, "store: reading %s: %s\n", key, dd_strerror(rc));
	blob_free(&b);
	return rc;
}

/* One full sequence in a fresh store under dir. */
static int DD_WUR ingest_sequence(const struct opts *o, const char *dir,
				  struct ingest_run *r)
{
	seg_store *s = NULL;
	seg_opts so;
	seg_stats st;
	int rc;

	memset(r, 0, sizeof(*r));
	store_opts(o, &so);
	if ((rc = seg_store_open(dir, &so, &s)) != DD_OK) {
		fprintf(stderr, "store: open %s: %s\n", dir, dd_strerror(rc));
		return rc;
	}
	if ((rc = seg_unit_create(s, "bench", NULL)) != DD_OK)
		goto out;
	if ((rc = ingest_one(o, s, 0, 0, r)) != DD_OK ||
	    (rc = ingest_one(o, s, 0, 1, r)) != DD_OK)
		goto out;
	for (int i = 1; i < o->nfiles; i++)
		if ((rc = ingest_one(o, s, i, 0, r)) != DD_OK)
			goto out;
	memset(&st, 0, sizeof(st));
	seg_store_stats(s, &st);
	r->stored_bytes = st.bytes_stored;
	r->chunks_in = st.chunks_in;
	if ((rc = read_newest(o, dir, &so, &s, r)) != DD_OK)
		goto out;
	seg_store_close(s);
	s = NULL;
	r->disk_bytes = dir_bytes(dir);
out:
	if (rc != DD_OK)
		fprintf(stderr, "store: ingest sequence: %s\n", dd_strerror(rc));
	seg_store_close(s);
	return rc;
}

/* Prints the medians of field f over runs[0..n) as prefix+name. */
#define PRINT_MEDIAN(name, fmt, f)                                           \
	do {                                                                 \
		double v_[MAX_REPS];                                         \
		for (int k_ = 0; k_ < n; k_++)                               \
			v_[k_] = (double)(runs[k_].f);                       \
		printf("%s" name "=" fmt "\n", o->prefix, median(v_, n));    \
	} while (0)

static void print_ingest(const struct opts *o, struct ingest_run *runs, int n)
{
	seg_opts so;

	store_opts(o, &so);
	printf("%sstore_chunk_avg=%u\n", o->prefix, chunk_params_of(&so).avg);
	printf("%sstore_reps=%d\n", o->prefix, n);
	printf("%sstore_digests=%s\n", o->prefix, o->digests ? "all" : "none");
	PRINT_MEDIAN("ingest_new_mbps", "%.1f", mbps[0]);
	PRINT_MEDIAN("ingest_new_cpu_mbps", "%.1f", cpu_mbps[0]);
	PRINT_MEDIAN("ingest_dup_mbps", "%.1f", mbps[1]);
	PRINT_MEDIAN("ingest_dup_cpu_mbps", "%.1f", cpu_mbps[1]);
	for (int i = 1; i < o->nfiles; i++) {
		double v[MAX_REPS], c[MAX_REPS];
		for (int k = 0; k < n; k++) {
			v[k] = runs[k].mbps[i + 1];
			c[k] = runs[k].cpu_mbps[i + 1];
		}
		printf("%singest_gen%d_mbps=%.1f\n", o->prefix, i, median(v, n));
		printf("%singest_gen%d_cpu_mbps=%.1f\n", o->prefix, i,
		       median(c, n));
	}
	PRINT_MEDIAN("ingest_total_secs", "%.3f", total_secs);
	PRINT_MEDIAN("ingest_all_gens_mbps", "%.1f",
		     logical_bytes / MB / runs[k_].total_secs);
	PRINT_MEDIAN("ingest_all_gens_cpu_mbps", "%.1f",
		     logical_bytes / MB / runs[k_].total_cpu_secs);
	PRINT_MEDIAN("read_newest_mbps", "%.1f", read_mbps);
	PRINT_MEDIAN("read_newest_cpu_mbps", "%.1f", read_cpu_mbps);
	PRINT_MEDIAN("read_newest_region_decompressions", "%.0f",
		     read_region_reads);
	PRINT_MEDIAN("store_reopen_secs", "%.3f", open_secs);
	PRINT_MEDIAN("lmdb_reads_per_1000_chunks_dup", "%.2f",
		     dup_reads_per_1000);
	PRINT_MEDIAN("dup_stream_chunks_deduped_pct", "%.2f",
		     dup_chunks_dup_pct);
	PRINT_MEDIAN("logical_bytes", "%.0f", logical_bytes);
	PRINT_MEDIAN("chunks_in", "%.0f", chunks_in);
	PRINT_MEDIAN("stored_container_bytes", "%.0f", stored_bytes);
	PRINT_MEDIAN("stored_disk_bytes", "%.0f", disk_bytes);
	PRINT_MEDIAN("stored_ratio", "%.4f",
		     disk_bytes / (double)runs[k_].logical_bytes);
}

static int DD_WUR run_ingest(const struct opts *o)
{
	struct ingest_run runs[MAX_REPS];
	char dir[4096];
	int rc = DD_OK;

	for (int i = 0; i < o->reps; i++) {
		snprintf(dir, sizeof(dir), "%s/rep%d", o->dir, i);
		if ((rc = dd_mkdir_p(dir, 0700)) != DD_OK)
			break;
		rc = ingest_sequence(o, dir, &runs[i]);
		if (!o->keep)
			(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		if (rc != DD_OK)
			break;
	}
	if (rc != DD_OK) {
		printf("%sstore_status=\"failed: %s\"\n", o->prefix,
		       dd_strerror(rc));
		return rc;
	}
	print_ingest(o, runs, o->reps);
	return DD_OK;
}

/* -------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
		"usage: store micro FILE [--reps N] [--max-mb M] [--chunk-kib K]\n"
		"       store dedup FILE... [--chunk-kib K] [--prefix P]\n"
		"       store ingest DIR FILE... [--reps N] [--chunk-kib K] "
		"[--prefix P] [--digests none|all] [--keep]\n");
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

/* Parses argv[first..] into o (positional args are files). */
static void parse_args(int argc, char **argv, int first, struct opts *o)
{
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--keep") == 0) {
			o->keep = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			if (o->nfiles >= MAX_FILES)
				usage();
			o->files[o->nfiles++] = a;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--reps") == 0)
			o->reps = (int)arg_long(argv[++i], 1, MAX_REPS);
		else if (strcmp(a, "--chunk-kib") == 0)
			o->chunk_kib = (uint32_t)arg_long(argv[++i], 0, 4096);
		else if (strcmp(a, "--max-mb") == 0)
			o->max_bytes = (size_t)arg_long(argv[++i], 1, 1L << 20) << 20;
		else if (strcmp(a, "--prefix") == 0)
			o->prefix = argv[++i];
		else if (strcmp(a, "--digests") == 0)
			o->digests = strcmp(argv[++i], "all") == 0 ?
				SEG_STAT_MD5 | SEG_STAT_SHA256 : 0;
		else
			usage();
	}
	if (o->nfiles < 1)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o = { .reps = 5, .max_bytes = 256u << 20, .prefix = "" };

	if (argc < 3)
		usage();
	dd_log_set_level(DD_LOG_WARN);
	if (strcmp(argv[1], "micro") == 0) {
		parse_args(argc, argv, 2, &o);
		return run_micro(&o) == DD_OK ? 0 : 1;
	}
	if (strcmp(argv[1], "dedup") == 0) {
		parse_args(argc, argv, 2, &o);
		return run_dedup(&o) == DD_OK ? 0 : 1;
	}
	if (strcmp(argv[1], "ingest") == 0) {
		o.reps = 1;
		o.dir = argv[2];
		parse_args(argc, argv, 3, &o);
		return run_ingest(&o) == DD_OK ? 0 : 1;
	}
	usage();
	return 2;
}
