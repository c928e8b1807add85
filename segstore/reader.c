/*
 * segstore/reader.c - reading objects: descend the recipe tree to the chunk
 * covering an offset (O(depth) with the open path cached), fetch the
 * chunk's region (cached, LRU; recipe nodes in their own slots: sequential
 * reads decompress each region once).
 * Also the recipe node parser (pure, fuzzed).
 */
#include <stdlib.h>

#include "segstore/seg_int.h"

#define DEPTH 16
/*
 * Region cache slots per reader: SEG_RCACHE_SLOTS (8) for data chunks plus
 * READER_NODE_SLOTS for recipe nodes, so at most 11 decompressed regions
 * (~0.6 MiB each at the default 512 KiB regions: ~7 MiB) per open reader.
 */
#define READER_NODE_SLOTS 3

typedef struct rnode {
	uint8_t fp[SEG_FP_LEN];
	int valid, leaf;
	size_t n;
	seg_node_ent *e; /* SEG_NODE_MAX */
	uint64_t *cum;   /* cum[i]: offset of entry i inside the node */
} rnode;

struct seg_reader {
	seg_store *s;
	seg_stat st;
	seg_locality lc;
	rnode path[DEPTH];
	dd_buf nodebuf, chunk;
	seg_rcache rc;  /* data chunks' regions */
	seg_rcache nrc; /* recipe nodes' regions: never evict data regions */
	uint8_t chunk_fp[SEG_FP_LEN];
	uint64_t chunk_start;
	int chunk_valid;
};

int seg_node_parse(const uint8_t *p, size_t n, int *leaf, seg_node_ent *ents,
		   size_t *count)
{
	uint32_t c;

	if (n < SEG_NODE_HDR_LEN || get_u32(p) != SEG_NODE_MAGIC ||
	    p[4] > 1 || p[5] || p[6] || p[7])
		return DD_ECORRUPT;
	c = get_u32(p + 8);
	if (c == 0 || c > SEG_NODE_MAX ||
	    n != SEG_NODE_HDR_LEN + (size_t)c * SEG_NODE_ENT_LEN)
		return DD_ECORRUPT;
	*leaf = p[4] == 0;
	for (uint32_t i = 0; i < c; i++) {
		const uint8_t *e = p + SEG_NODE_HDR_LEN +
				   (size_t)i * SEG_NODE_ENT_LEN;

		memcpy(ents[i].fp, e, SEG_FP_LEN);
		ents[i].len = get_u64(e + 32);
		if (ents[i].len == 0 || (*leaf && ents[i].len > (64u << 20)))
			return DD_ECORRUPT;
	}
	*count = c;
	return DD_OK;
}

int seg_reader_open(seg_store *s, const char *unit, dd_str key,
		    seg_reader **out)
{
	seg_reader *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return DD_ENOMEM;
	r->s = s;
	seg_rcache_init(&r->rc);
	seg_rcache_init(&r->nrc);
	r->nrc.nslots = READER_NODE_SLOTS;
	r->rc.alt = &r->nrc;
	r->nrc.alt = &r->rc;
	dd_buf_init(&r->nodebuf, (size_t)1 << 26);
	dd_buf_init(&r->chunk, (size_t)1 << 27);
	if ((rc = seg_stat_object(s, unit, key, &r->st)) != DD_OK) {
		seg_reader_free(r);
		return rc;
	}
	*out = r;
	return DD_OK;
}

const seg_stat *seg_reader_stat(const seg_reader *r)
{
	return &r->st;
}

void seg_reader_free(seg_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < DEPTH; i++) {
		free(r->path[i].e);
		free(r->path[i].cum);
	}
	seg_locality_release(&r->lc);
	seg_rcache_release(&r->rc);
	seg_rcache_release(&r->nrc);
	dd_buf_release(&r->nodebuf);
	dd_buf_release(&r->chunk);
	free(r);
}

/* Loads node fp into path[d], checking it spans exactly `span` bytes. */
static int node_load(seg_reader *r, int d, const uint8_t *fp, uint64_t span)
{
	rnode *nd = &r->path[d];
	uint8_t real[SEG_FP_LEN];
	uint64_t sum = 0;
	int rc;

	if (nd->valid && memcmp(nd->fp, fp, SEG_FP_LEN) == 0)
		return DD_OK;
	nd->valid = 0;
	if (!nd->e) {
		nd->e = malloc(SEG_NODE_MAX * sizeof(*nd->e));
		nd->cum = malloc(SEG_NODE_MAX * sizeof(*nd->cum));
		if (!nd->e || !nd->cum)
			return DD_ENOMEM;
	}
	if ((rc = seg_chunk_fetch_any(r->s, &r->lc, fp, &r->nodebuf,
				      &r->nrc)) != DD_OK)
		return rc;
	/* a recipe node is identity: check it whole */
	seg_fingerprint(r->nodebuf.data, r->nodebuf.len, real);
	if (memcmp(real, fp, SEG_FP_LEN) != 0)
		return DD_ECORRUPT;
	if ((rc = seg_node_parse((const uint8_t *)r->nodebuf.data,
				 r->nodebuf.len, &nd->leaf, nd->e,
				 &nd->n)) != DD_OK)
		return rc;
	for (size_t i = 0; i < nd->n; i++) {
		nd->cum[i] = sum;
		sum += nd->e[i].len;
		if (sum < nd->cum[i])
			return DD_ECORRUPT;
	}
	if (sum != span)
		return DD_ECORRUPT;
	memcpy(nd->fp, fp, SEG_FP_LEN);
	nd->valid = 1;
	return DD_OK;
}

int seg_reader_chunk_at(seg_reader *r, uint64_t off, uint8_t fp[SEG_FP_LEN],
			uint64_t *start, uint32_t *len)
{
	const uint8_t *cur = r->st.root;
	uint64_t base = 0, span = r->st.size;
	int rc;

	if (off >= r->st.size)
		return DD_ERANGE;
	for (int d = 0; d < DEPTH; d++) {
		rnode *nd = &r->path[d];
		size_t lo = 0, hi;

		if ((rc = node_load(r, d, cur, span)) != DD_OK)
			return rc;
		/* last entry whose start <= off - base */
		hi = nd->n;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (nd->cum[mid] <= off - base)
				lo = mid;
			else
				hi = mid;
		}
		if (nd->leaf) {
			memcpy(fp, nd->e[lo].fp, SEG_FP_LEN);
			*start = base + nd->cum[lo];
			*len = (uint32_t)nd->e[lo].len;
			return DD_OK;
		}
		cur = nd->e[lo].fp;
		base += nd->cum[lo];
		span = nd->e[lo].len;
	}
	return DD_ECORRUPT; /* deeper than any writer builds */
}

int seg_reader_pread(seg_reader *r, void *buf, size_t len, uint64_t off,
		     size_t *got)
{
	uint8_t *out = buf;
	int rc;

	*got = 0;
	while (len > 0 && off < r->st.size) {
		uint8_t fp[SEG_FP_LEN];
		uint64_t cs;
		uint32_t cl;
		size_t n;

		if ((rc = seg_reader_chunk_at(r, off, fp, &cs, &cl)) != DD_OK)
			return rc;
		if (!r->chunk_valid || r->chunk_start != cs ||
		    memcmp(r->chunk_fp, fp, SEG_FP_LEN) != 0) {
			r->chunk_valid = 0;
			dd_buf_reset(&r->chunk);
			if ((rc = dd_buf_reserve(&r->chunk, cl)) != DD_OK ||
			    (rc = seg_chunk_fetch(r->s, &r->lc, fp, cl,
						  r->chunk.data,
						  &r->rc)) != DD_OK)
				return rc;
			memcpy(r->chunk_fp, fp, SEG_FP_LEN);
			r->chunk_start = cs;
			r->chunk_valid = 1;
		}
		n = (size_t)DD_MIN((uint64_t)len, cs + cl - off);
		memcpy(out, r->chunk.data + (off - cs), n);
		out += n;
		off += n;
		len -= n;
		*got += n;
	}
	return DD_OK;
}
