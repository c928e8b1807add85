/*
 * segstore/container.c - append-only container files: regions of chunks
 * (zstd or raw, XXH3-checked), the sealing trailer, reading regions back,
 * and the parsers for both (pure, fuzzed). Layout: docs/FORMAT.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "segstore/seg_int.h"

static const char ctr_magic[8] = {'D', 'D', 'C', 'T', 'R', 0, 0, 1};
static const char trailer_magic[8] = {'D', 'D', 'C', 'T', 'R', 'E', 'N', 'D'};
#define REGION_MAGIC 0x31475244u /* "DRG1" */

void seg_loc_encode(const seg_loc *l, uint8_t out[SEG_LOC_LEN])
{
	put_u64(out, l->ctr);
	put_u64(out + 8, l->region_off);
	put_u32(out + 16, l->region_len);
	put_u32(out + 20, l->chunk_off);
	put_u32(out + 24, l->chunk_len);
	put_u32(out + 28, 0);
}

int seg_loc_decode(const void *p, size_t n, seg_loc *l)
{
	const uint8_t *b = p;

	if (n != SEG_LOC_LEN)
		return DD_ECORRUPT;
	l->ctr = get_u64(b);
	l->region_off = get_u64(b + 8);
	l->region_len = get_u32(b + 16);
	l->chunk_off = get_u32(b + 20);
	l->chunk_len = get_u32(b + 24);
	if (l->region_len < SEG_REGION_HDR_LEN || l->chunk_len == 0)
		return DD_ECORRUPT;
	return DD_OK;
}

void seg_ctr_path(const seg_store *s, uint64_t id, char *out, size_t n)
{
	snprintf(out, n, "%s/%016llx.ctr", s->ctrdir, (unsigned long long)id);
}

int seg_ctr_create(seg_store *s, seg_ctr **out)
{
	uint8_t hdr[SEG_CTR_HDR_LEN] = {0};
	char path[512];
	seg_ctr *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return DD_ENOMEM;
	pthread_mutex_lock(&s->mu);
	c->id = s->next_ctr++;
	pthread_mutex_unlock(&s->mu);
	seg_ctr_path(s, c->id, path, sizeof(path));
	c->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		rc = dd_rc_from_errno(errno);
		free(c);
		return rc;
	}
	memcpy(hdr, ctr_magic, 8);
	put_u32(hdr + 8, SEG_FORMAT_VERSION);
	put_u64(hdr + 16, c->id);
	put_u64(hdr + 24, (uint64_t)dd_now_ns());
	put_u64(hdr + 56, XXH3_64bits(hdr, 56));
	if ((rc = dd_write_all(c->fd, hdr, sizeof(hdr))) != DD_OK ||
	    (rc = dd_fsync_dir(s->ctrdir)) != DD_OK) {
		seg_ctr_close(c);
		unlink(path);
		return rc;
	}
	c->size = SEG_CTR_HDR_LEN;
	SEG_STAT_ADD(s, containers, 1);
	*out = c;
	return DD_OK;
}

void seg_ctr_close(seg_ctr *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int seg_region_hdr_parse(const uint8_t *p, size_t len, seg_region_hdr *h)
{
	if (len < SEG_REGION_HDR_LEN || get_u32(p) != REGION_MAGIC ||
	    get_u64(p + 40) != XXH3_64bits(p, 40))
		return DD_ECORRUPT;
	h->flags = get_u32(p + 4);
	h->n = get_u32(p + 8);
	h->raw_len = get_u32(p + 12);
	h->stored_len = get_u32(p + 16);
	h->payload_xxh = get_u64(p + 24);
	h->table_xxh = get_u64(p + 32);
	if ((h->flags & ~SEG_REGION_ZSTD) || h->n == 0 ||
	    h->raw_len > (256u << 20) || h->stored_len > (256u << 20) ||
	    h->n > h->raw_len)
		return DD_ECORRUPT;
	return DD_OK;
}

/*
 * Compresses and appends one region (raw payload + its chunk table) to c.
 * Fills *region_off / *region_len. Not fsynced. cctx may be NULL (raw).
 */
int seg_ctr_append_region(seg_store *s, seg_ctr *c, void *cctx,
			  const uint8_t *raw, uint32_t raw_len,
			  const uint8_t *table, uint32_t n,
			  uint64_t *region_off, uint32_t *region_len,
			  dd_buf *scratch)
{
	uint8_t hdr[SEG_REGION_HDR_LEN] = {0};
	const uint8_t *payload = raw;
	size_t stored = raw_len, bound = ZSTD_compressBound(raw_len);
	uint32_t flags = 0;
	struct iovec iov[3];
	ssize_t w;
	int rc;

	if (cctx) {
		dd_buf_reset(scratch);
		if ((rc = dd_buf_reserve(scratch, bound)) != DD_OK)
			return rc;
		size_t z = ZSTD_compressCCtx(cctx, scratch->data, bound, raw,
					     raw_len, s->opts.zstd_level);
		/* keep it raw unless zstd saves at least 3% */
		if (!ZSTD_isError(z) && z < (size_t)raw_len - raw_len / 32) {
			payload = (const uint8_t *)scratch->data;
			stored = z;
			flags = SEG_REGION_ZSTD;
		}
	}
	put_u32(hdr, REGION_MAGIC);
	put_u32(hdr + 4, flags);
	put_u32(hdr + 8, n);
	put_u32(hdr + 12, raw_len);
	put_u32(hdr + 16, (uint32_t)stored);
	put_u64(hdr + 24, XXH3_64bits(payload, stored));
	put_u64(hdr + 32, XXH3_64bits(table, (size_t)n * SEG_REGION_ENT_LEN));
	put_u64(hdr + 40, XXH3_64bits(hdr, 40));
	iov[0] = (struct iovec){hdr, sizeof(hdr)};
	iov[1] = (struct iovec){(void *)payload, stored};
	iov[2] = (struct iovec){(void *)table, (size_t)n * SEG_REGION_ENT_LEN};
	size_t total = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
	w = pwritev(c->fd, iov, 3, (off_t)c->size);
	if (w < 0)
		return dd_rc_from_errno(errno);
	if ((size_t)w != total) {
		/* a short pwritev (disk full): retry the rest plainly */
		dd_buf tmp;

		dd_buf_init(&tmp, total + 1);
		if ((rc = dd_buf_append(&tmp, hdr, sizeof(hdr))) != DD_OK ||
		    (rc = dd_buf_append(&tmp, payload, stored)) != DD_OK ||
		    (rc = dd_buf_append(&tmp, table,
					(size_t)n * SEG_REGION_ENT_LEN)) != DD_OK) {
			dd_buf_release(&tmp);
			return rc;
		}
		for (size_t done = (size_t)w; done < total;) {
			w = pwrite(c->fd, tmp.data + done, total - done,
				   (off_t)(c->size + done));
			if (w <= 0) {
				dd_buf_release(&tmp);
				return w < 0 ? dd_rc_from_errno(errno) : DD_EIO;
			}
			done += (size_t)w;
		}
		dd_buf_release(&tmp);
	}
	*region_off = c->size;
	*region_len = (uint32_t)total;
	c->size += total;
	SEG_STAT_ADD(s, bytes_stored, total);
	return DD_OK;
}

/* ------------------------------------------------------------ walking */

typedef int (*region_cb)(void *ctx, uint64_t off, uint32_t len,
			 const seg_region_hdr *h, const uint8_t *table);

/*
 * Calls cb for every complete, header-valid region in [start, end).
 * Stops quietly at the first torn or invalid region (a crash tail) and
 * sets *valid_end to the end of the last good one.
 */
static int walk_regions(int fd, uint64_t start, uint64_t end, region_cb cb,
			void *ctx, uint64_t *valid_end)
{
	uint8_t hb[SEG_REGION_HDR_LEN];
	dd_buf table;
	uint64_t off = start;
	int rc = DD_OK;

	dd_buf_init(&table, 64u << 20);
	while (off + SEG_REGION_HDR_LEN <= end) {
		seg_region_hdr h;
		uint64_t tlen, rlen;

		if (dd_pread_all(fd, hb, sizeof(hb), (off_t)off) != DD_OK ||
		    seg_region_hdr_parse(hb, sizeof(hb), &h) != DD_OK)
			break;
		tlen = (uint64_t)h.n * SEG_REGION_ENT_LEN;
		rlen = SEG_REGION_HDR_LEN + h.stored_len + tlen;
		if (off + rlen > end)
			break;
		dd_buf_reset(&table);
		if ((rc = dd_buf_reserve(&table, tlen)) != DD_OK)
			break;
		if (dd_pread_all(fd, table.data, tlen,
				 (off_t)(off + SEG_REGION_HDR_LEN +
					 h.stored_len)) != DD_OK ||
		    XXH3_64bits(table.data, tlen) != h.table_xxh)
			break;
		if ((rc = cb(ctx, off, (uint32_t)rlen, &h,
			     (const uint8_t *)table.data)) != DD_OK)
			break;
		off += rlen;
	}
	if (valid_end)
		*valid_end = off;
	dd_buf_release(&table);
	return rc;
}

/* Growable array of seg_fploc. */
typedef struct fploc_vec {
	seg_fploc *v;
	size_t n, cap;
} fploc_vec;

static int vec_push(fploc_vec *a, const seg_fploc *e)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 1024;
		seg_fploc *nv = realloc(a->v, nc * sizeof(*nv));

		if (!nv)
			return DD_ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = *e;
	return DD_OK;
}

typedef struct walk_ctx {
	fploc_vec vec;
	uint64_t ctr;
} walk_ctx;

static int collect_region(void *ctx, uint64_t off, uint32_t len,
			  const seg_region_hdr *h, const uint8_t *table)
{
	walk_ctx *w = ctx;
	int rc;

	for (uint32_t i = 0; i < h->n; i++) {
		const uint8_t *t = table + (size_t)i * SEG_REGION_ENT_LEN;
		seg_fploc e;

		memcpy(e.fp, t, SEG_FP_LEN);
		e.loc = (seg_loc){w->ctr, off, len, get_u32(t + 32),
				  get_u32(t + 36)};
		if (e.loc.chunk_len == 0 ||
		    (uint64_t)e.loc.chunk_off + e.loc.chunk_len > h->raw_len)
			return DD_ECORRUPT;
		if ((rc = vec_push(&w->vec, &e)) != DD_OK)
			return rc;
	}
	return DD_OK;
}

int seg_ctr_write_trailer(seg_store *s, seg_ctr *c)
{
	walk_ctx w = {{NULL, 0, 0}, c->id};
	uint8_t foot[SEG_TRAILER_FOOT_LEN];
	uint64_t valid_end;
	dd_buf body;
	XXH3_state_t *xs = NULL;
	int rc;

	(void)s;
	dd_buf_init(&body, (size_t)1 << 34);
	rc = walk_regions(c->fd, SEG_CTR_HDR_LEN, c->size, collect_region, &w,
			  &valid_end);
	if (rc != DD_OK)
		goto out;
	/* anything past the last good region is a torn tail: drop it */
	if (valid_end != c->size) {
		if (ftruncate(c->fd, (off_t)valid_end) != 0) {
			rc = dd_rc_from_errno(errno);
			goto out;
		}
		c->size = valid_end;
	}
	for (size_t i = 0; i < w.vec.n; i++) {
		uint8_t e[SEG_TRAILER_ENT_LEN];
		const seg_fploc *f = &w.vec.v[i];

		memcpy(e, f->fp, SEG_FP_LEN);
		put_u64(e + 32, f->loc.region_off);
		put_u32(e + 40, f->loc.region_len);
		put_u32(e + 44, f->loc.chunk_off);
		put_u32(e + 48, f->loc.chunk_len);
		if ((rc = dd_buf_append(&body, e, sizeof(e))) != DD_OK)
			goto out;
	}
	memcpy(foot, trailer_magic, 8);
	put_u32(foot + 8, (uint32_t)w.vec.n);
	put_u32(foot + 12, 0);
	put_u64(foot + 16, body.len);
	put_u64(foot + 24, c->id);
	xs = XXH3_createState();
	if (!xs) {
		rc = DD_ENOMEM;
		goto out;
	}
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, body.data ? body.data : "", body.len);
	XXH3_64bits_update(xs, foot, 32);
	put_u64(foot + 32, XXH3_64bits_digest(xs));
	if ((rc = dd_buf_append(&body, foot, sizeof(foot))) != DD_OK)
		goto out;
	if (pwrite(c->fd, body.data, body.len, (off_t)c->size) !=
	    (ssize_t)body.len) {
		rc = DD_EIO;
		goto out;
	}
	c->size += body.len;
	if (fsync(c->fd) != 0) {
		rc = dd_rc_from_errno(errno);
		goto out;
	}
	c->synced = c->size;
out:
	XXH3_freeState(xs);
	free(w.vec.v);
	dd_buf_release(&body);
	return rc;
}

int seg_trailer_parse(const uint8_t *buf, size_t len, uint64_t ctr,
		      seg_fploc_cb cb, void *ctx)
{
	const uint8_t *foot;
	uint64_t body_len, n;
	XXH3_state_t *xs;
	uint64_t h;
	int rc;

	if (len < SEG_TRAILER_FOOT_LEN)
		return DD_ECORRUPT;
	foot = buf + len - SEG_TRAILER_FOOT_LEN;
	if (memcmp(foot, trailer_magic, 8) != 0)
		return DD_ECORRUPT;
	n = get_u32(foot + 8);
	body_len = get_u64(foot + 16);
	if (body_len != len - SEG_TRAILER_FOOT_LEN ||
	    body_len != n * SEG_TRAILER_ENT_LEN || get_u64(foot + 24) != ctr)
		return DD_ECORRUPT;
	xs = XXH3_createState();
	if (!xs)
		return DD_ENOMEM;
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, buf, body_len);
	XXH3_64bits_update(xs, foot, 32);
	h = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	if (h != get_u64(foot + 32))
		return DD_ECORRUPT;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *e = buf + i * SEG_TRAILER_ENT_LEN;
		seg_fploc f;

		memcpy(f.fp, e, SEG_FP_LEN);
		f.loc = (seg_loc){ctr, get_u64(e + 32), get_u32(e + 40),
				  get_u32(e + 44), get_u32(e + 48)};
		if (f.loc.chunk_len == 0 ||
		    f.loc.region_len < SEG_REGION_HDR_LEN ||
		    f.loc.region_off < SEG_CTR_HDR_LEN)
			return DD_ECORRUPT;
		if ((rc = cb(ctx, &f)) != DD_OK)
			return rc;
	}
	return DD_OK;
}

static int push_cb(void *ctx, const seg_fploc *e)
{
	return vec_push(ctx, e);
}

static int fploc_cmp(const void *a, const void *b)
{
	return memcmp(((const seg_fploc *)a)->fp, ((const seg_fploc *)b)->fp,
		      SEG_FP_LEN);
}

int seg_ctr_load_list(seg_store *s, uint64_t id, const seg_ctr_rec *rec,
		      seg_fploc **out, size_t *n)
{
	char path[512];
	walk_ctx w = {{NULL, 0, 0}, id};
	uint8_t foot[SEG_TRAILER_FOOT_LEN];
	dd_buf tb;
	int fd, rc = DD_OK;

	*out = NULL;
	*n = 0;
	dd_buf_init(&tb, (size_t)1 << 32);
	seg_ctr_path(s, id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dd_rc_from_errno(errno);
	if (rec->sealed && rec->durable_len >= SEG_CTR_HDR_LEN +
						       SEG_TRAILER_FOOT_LEN) {
		uint64_t blen;

		if ((rc = dd_pread_all(fd, foot, sizeof(foot),
				       (off_t)(rec->durable_len -
					       sizeof(foot)))) != DD_OK)
			goto out;
		blen = get_u64(foot + 16);
		if (blen > rec->durable_len - SEG_CTR_HDR_LEN - sizeof(foot)) {
			rc = DD_ECORRUPT;
			goto out;
		}
		if ((rc = dd_buf_reserve(&tb, blen + sizeof(foot))) != DD_OK ||
		    (rc = dd_pread_all(fd, tb.data, blen + sizeof(foot),
				       (off_t)(rec->durable_len - blen -
					       sizeof(foot)))) != DD_OK)
			goto out;
		rc = seg_trailer_parse((const uint8_t *)tb.data,
				       blen + sizeof(foot), id, push_cb,
				       &w.vec);
	} else {
		rc = walk_regions(fd, SEG_CTR_HDR_LEN, rec->durable_len,
				  collect_region, &w, NULL);
	}
	if (rc != DD_OK)
		goto out;
	qsort(w.vec.v, w.vec.n, sizeof(seg_fploc), fploc_cmp);
	*out = w.vec.v;
	*n = w.vec.n;
	w.vec.v = NULL;
out:
	close(fd);
	free(w.vec.v);
	dd_buf_release(&tb);
	return rc;
}

void seg_rcache_init(seg_rcache *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->nslots = SEG_RCACHE_SLOTS;
	for (int i = 0; i < SEG_RCACHE_SLOTS; i++)
		dd_buf_init(&rc->slot[i].raw, (size_t)1 << 30);
	dd_buf_init(&rc->disk, (size_t)1 << 30);
	rc->fd = -1;
}

void seg_rcache_release(seg_rcache *rc)
{
	for (int i = 0; i < SEG_RCACHE_SLOTS; i++)
		dd_buf_release(&rc->slot[i].raw);
	dd_buf_release(&rc->disk);
	if (rc->fd >= 0)
		close(rc->fd);
	rc->fd = -1;
	rc->cur = NULL;
}

/* The slot to refill: an empty one, else the least recently used. */
static seg_rslot *rcache_victim(seg_rcache *rc)
{
	seg_rslot *v = &rc->slot[0];

	for (int i = 0; i < rc->nslots; i++) {
		if (rc->slot[i].loc.ctr == 0)
			return &rc->slot[i];
		if (rc->slot[i].used < v->used)
			v = &rc->slot[i];
	}
	return v;
}

/* Opens loc's container unless it is the one already open. */
static int rcache_open(seg_store *s, const seg_loc *loc, seg_rcache *rc)
{
	char path[512];

	if (rc->fd >= 0 && rc->fd_ctr == loc->ctr)
		return DD_OK;
	if (rc->fd >= 0)
		close(rc->fd);
	seg_ctr_path(s, loc->ctr, path, sizeof(path));
	rc->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (rc->fd < 0)
		return errno == ENOENT ? DD_ECORRUPT : dd_rc_from_errno(errno);
	rc->fd_ctr = loc->ctr;
	return DD_OK;
}

int seg_region_read(seg_store *s, const seg_loc *loc, seg_rcache *rc)
{
	seg_rslot *slot = rcache_victim(rc);
	dd_buf *raw = &slot->raw, *disk = &rc->disk;
	seg_region_hdr h;
	const uint8_t *p;
	int rc2;

	rc->cur = NULL;
	slot->loc.ctr = 0;
	/* the same region must not sit in two slots */
	for (int i = 0; i < rc->nslots; i++)
		if (rc->slot[i].loc.ctr == loc->ctr &&
		    rc->slot[i].loc.region_off == loc->region_off)
			rc->slot[i].loc.ctr = 0;
	if ((rc2 = rcache_open(s, loc, rc)) != DD_OK)
		goto out;
	dd_buf_reset(disk);
	if ((rc2 = dd_buf_reserve(disk, loc->region_len)) != DD_OK ||
	    (rc2 = dd_pread_all(rc->fd, disk->data, loc->region_len,
				(off_t)loc->region_off)) != DD_OK)
		goto out;
	p = (const uint8_t *)disk->data;
	if ((rc2 = seg_region_hdr_parse(p, loc->region_len, &h)) != DD_OK)
		goto out;
	rc2 = DD_ECORRUPT;
	if ((uint64_t)SEG_REGION_HDR_LEN + h.stored_len +
		    (uint64_t)h.n * SEG_REGION_ENT_LEN != loc->region_len ||
	    XXH3_64bits(p + SEG_REGION_HDR_LEN, h.stored_len) !=
		    h.payload_xxh ||
	    (uint64_t)loc->chunk_off + loc->chunk_len > h.raw_len)
		goto out;
	dd_buf_reset(raw);
	if ((rc2 = dd_buf_reserve(raw, h.raw_len)) != DD_OK)
		goto out;
	if (h.flags & SEG_REGION_ZSTD) {
		size_t z = ZSTD_decompress(raw->data, h.raw_len,
					   p + SEG_REGION_HDR_LEN,
					   h.stored_len);
		if (ZSTD_isError(z) || z != h.raw_len) {
			rc2 = DD_ECORRUPT;
			goto out;
		}
	} else {
		if (h.stored_len != h.raw_len) {
			rc2 = DD_ECORRUPT;
			goto out;
		}
		memcpy(raw->data, p + SEG_REGION_HDR_LEN, h.raw_len);
	}
	raw->len = h.raw_len;
	slot->loc = *loc;
	slot->used = ++rc->tick;
	rc->cur = slot;
	SEG_STAT_ADD(s, region_reads, 1);
	rc2 = DD_OK;
out:
	if (rc2 == DD_ECORRUPT)
		dd_log(DD_LOG_ERROR, "container %016llx region @%llu: corrupt",
		       (unsigned long long)loc->ctr,
		       (unsigned long long)loc->region_off);
	return rc2;
}

/* The slot of rc holding loc's region (marked used), or NULL. */
static seg_rslot *rcache_find(seg_rcache *rc, const seg_loc *loc)
{
	for (int i = 0; i < rc->nslots; i++) {
		seg_rslot *sl = &rc->slot[i];

		if (sl->loc.ctr == loc->ctr &&
		    sl->loc.region_off == loc->region_off &&
		    sl->loc.region_len == loc->region_len) {
			sl->used = ++rc->tick;
			return sl;
		}
	}
	return NULL;
}

int seg_region_get(seg_store *s, const seg_loc *loc, seg_rcache *rc,
		   const seg_rslot **out)
{
	seg_rslot *sl = rcache_find(rc, loc);
	int rc2;

	*out = NULL;
	if (!sl && rc->alt)
		sl = rcache_find(rc->alt, loc);
	if (sl) {
		*out = sl;
		return DD_OK;
	}
	if ((rc2 = seg_region_read(s, loc, rc)) != DD_OK)
		return rc2;
	*out = rc->cur;
	return DD_OK;
}

int seg_ctr_rec_get(seg_store *s, idx_txn *t, uint64_t id, seg_ctr_rec *rec)
{
	uint8_t k[8];
	dd_str v;
	int rc;

	(void)s;
	put_be64(k, id);
	if ((rc = idx_get(t, IDX_DB_CTR, k, 8, &v)) != DD_OK)
		return rc;
	if (v.len != SEG_CTR_REC_LEN)
		return DD_ECORRUPT;
	rec->durable_len = get_u64((const uint8_t *)v.p);
	rec->sealed = get_u32((const uint8_t *)v.p + 8);
	rec->owner = get_u64((const uint8_t *)v.p + 16);
	return DD_OK;
}

int seg_ctr_rec_put(idx_txn *t, uint64_t id, const seg_ctr_rec *rec)
{
	uint8_t k[8], v[SEG_CTR_REC_LEN] = {0};

	put_be64(k, id);
	put_u64(v, rec->durable_len);
	put_u32(v + 8, rec->sealed);
	put_u64(v + 16, rec->owner);
	return idx_put(t, IDX_DB_CTR, k, 8, v, sizeof(v), 0);
}
