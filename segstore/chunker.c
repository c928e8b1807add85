/*
 * segstore/chunker.c - content-defined chunking: FastCDC-style Gear rolling
 * hash with normalized chunking (Xia et al., USENIX ATC 2016).
 *
 * The Gear table and masks define chunk boundaries, so they are part of the
 * on-disk format (docs/FORMAT.md): changing them changes every boundary and
 * ruins dedup against existing data. The table comes from splitmix64 with a
 * fixed seed so it can be reproduced by any client.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "segstore/seg.h"

struct seg_chunker {
	seg_chunk_params p;
	uint64_t mask_s; /* harder mask before avg (normalized chunking) */
	uint64_t mask_l; /* easier mask after avg */
	uint64_t h;      /* Gear hash of the current chunk past min */
	uint64_t pos;    /* bytes in the current chunk so far */
};

static uint64_t gear[256];
static int gear_ready;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Fills the table once; idempotent, so a benign race writes equal values. */
static void gear_init(void)
{
	uint64_t seed = 0x6464757064434443ULL; /* "ddupdCDC" */

	if (__atomic_load_n(&gear_ready, __ATOMIC_ACQUIRE))
		return;
	for (int i = 0; i < 256; i++)
		gear[i] = splitmix64(&seed);
	__atomic_store_n(&gear_ready, 1, __ATOMIC_RELEASE);
}

/* n one-bits at the top of a word: a Gear hash's high bits depend on the
 * most bytes of its 64-byte window, its low bits on the fewest. */
static uint64_t top_mask(unsigned n)
{
	return n == 0 ? 0 : (~0ULL) << (64 - n);
}

int seg_chunk_params_check(const seg_chunk_params *p)
{
	if (!p || p->avg < 256 || p->avg > (4u << 20) ||
	    (p->avg & (p->avg - 1)) != 0 || p->min < 64 || p->min > p->avg ||
	    p->max <= p->avg || p->max > (64u << 20))
		return DD_EINVAL;
	return DD_OK;
}

void seg_chunk_params_default(seg_chunk_params *p)
{
	if (!p->avg)
		p->avg = SEG_CHUNK_AVG_DEFAULT;
	if (!p->min)
		p->min = p->avg / 4;
	if (!p->max)
		p->max = p->avg * 8;
}

seg_chunker *seg_chunker_new(const seg_chunk_params *p)
{
	seg_chunker *c;
	unsigned bits = 0;

	if (seg_chunk_params_check(p) != DD_OK)
		return NULL;
	gear_init();
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->p = *p;
	while ((1u << bits) < p->avg)
		bits++;
	c->mask_s = top_mask(bits + 2);
	c->mask_l = top_mask(bits - 2);
	return c;
}

void seg_chunker_free(seg_chunker *c)
{
	free(c);
}

void seg_chunker_reset(seg_chunker *c)
{
	c->h = 0;
	c->pos = 0;
}

size_t seg_chunker_scan(seg_chunker *c, const void *buf, size_t len, int *cut)
{
	const uint8_t *b = buf;
	size_t i = 0;
	uint64_t h = c->h, pos = c->pos;

	*cut = 0;
	/* Phase 1: the first min bytes can never end a chunk: skip them. */
	if (pos < c->p.min) {
		uint64_t skip = DD_MIN((uint64_t)len, c->p.min - pos);

		i += skip;
		pos += skip;
	}
	/* Phase 2: up to avg, the harder mask (fewer early cuts). */
	for (; i < len && pos < c->p.avg; i++) {
		h = (h << 1) + gear[b[i]];
		pos++;
		if (!(h & c->mask_s))
			goto found;
	}
	/* Phase 3: up to max, the easier mask; max forces a cut. */
	for (; i < len; i++) {
		h = (h << 1) + gear[b[i]];
		pos++;
		if (!(h & c->mask_l) || pos >= c->p.max)
			goto found;
	}
	c->h = h;
	c->pos = pos;
	return len;
found:
	*cut = 1;
	c->h = 0;
	c->pos = 0;
	return i + 1;
}

/*
 * OpenSSL 3 looks the algorithm up on every EVP_sha256() use; fetching it
 * once saves ~25% per 8 KiB chunk. The fetched MD lives for the process.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void seg_fingerprint(const void *data, size_t len, uint8_t out[SEG_FP_LEN])
{
	unsigned int n = SEG_FP_LEN;

	pthread_once(&sha256_once, sha256_fetch);
	/* EVP_Digest cannot fail for SHA-256 with valid arguments short of
	 * memory exhaustion inside OpenSSL; an unset fingerprint would
	 * corrupt data, so treat failure as fatal. */
	DD_ASSERT(sha256_md != NULL);
	DD_ASSERT(EVP_Digest(data, len, out, &n, sha256_md, NULL) == 1);
}
