/*
 * segstore/verify.c - `verify` (DESIGN.md section 4): read every container
 * region and every object and report what fails. Never repairs. A deep
 * verify of a big store runs for minutes, so the walk polls a cancel flag
 * between regions and between 1 MiB reads (dedupd sets it on shutdown).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "segstore/seg_int.h"

#define VERIFY_STOP (-1) /* not a dd_rc: "cb asked to stop" */

typedef struct vctx {
	seg_store *s;
	int deep;
	const atomic_int *cancel; /* may be NULL */
	int cancelled;            /* sticky: *cancel was seen set */
	seg_verify_report *out;
	seg_verify_cb cb;
	void *ctx;
	seg_rcache rc;
} vctx;

static int report(vctx *v, const char *what, int rc)
{
	return v->cb ? v->cb(v->ctx, what, rc) : 0;
}

/* 1 once the caller asked to stop (and from then on). */
static int is_cancelled(vctx *v)
{
	if (!v->cancelled && v->cancel && atomic_load(v->cancel))
		v->cancelled = 1;
	return v->cancelled;
}

static int by_region(const void *a, const void *b)
{
	const seg_loc *x = &((const seg_fploc *)a)->loc;
	const seg_loc *y = &((const seg_fploc *)b)->loc;

	if (x->region_off != y->region_off)
		return x->region_off < y->region_off ? -1 : 1;
	return x->chunk_off < y->chunk_off ? -1 : x->chunk_off > y->chunk_off;
}

/* Checks one container: each region in its chunk list read and verified
 * once (the list is re-sorted by position). */
static int verify_container(vctx *v, uint64_t id, const seg_ctr_rec *rec)
{
	seg_fploc *list = NULL;
	size_t n = 0;
	char what[96];
	int rc, stop = 0;

	v->out->containers++;
	rc = seg_ctr_load_list(v->s, id, rec, &list, &n);
	if (rc != DD_OK) {
		snprintf(what, sizeof(what), "container %016llx",
			 (unsigned long long)id);
		v->out->bad_regions++;
		return report(v, what, rc);
	}
	if (n)
		qsort(list, n, sizeof(*list), by_region);
	for (size_t i = 0; i < n && !stop; i++) {
		const seg_loc *l = &list[i].loc;
		uint8_t fp[SEG_FP_LEN];
		const seg_rslot *cur = v->rc.cur;

		if (is_cancelled(v)) {
			stop = 1;
			break;
		}
		if (i && l->region_off == list[i - 1].loc.region_off && !cur)
			continue; /* this region already failed: reported */
		if (!cur || cur->loc.ctr != l->ctr ||
		    cur->loc.region_off != l->region_off) {
			v->out->regions++;
			rc = seg_region_read(v->s, l, &v->rc);
			if (rc != DD_OK) {
				snprintf(what, sizeof(what),
					 "container %016llx region @%llu",
					 (unsigned long long)id,
					 (unsigned long long)l->region_off);
				v->out->bad_regions++;
				stop = report(v, what, rc);
				continue;
			}
		}
		v->out->chunks++;
		if (!v->deep)
			continue;
		seg_fingerprint(v->rc.cur->raw.data + l->chunk_off, l->chunk_len,
				fp);
		if (memcmp(fp, list[i].fp, SEG_FP_LEN) != 0) {
			snprintf(what, sizeof(what),
				 "container %016llx chunk @%llu+%u",
				 (unsigned long long)id,
				 (unsigned long long)l->region_off,
				 l->chunk_off);
			v->out->bad_regions++;
			stop = report(v, what, DD_ECORRUPT);
		}
	}
	free(list);
	return stop;
}

static int verify_containers(vctx *v)
{
	idx_txn *t;
	idx_cursor *c = NULL;
	dd_str k, val;
	uint64_t *ids = NULL;
	seg_ctr_rec *recs = NULL;
	size_t n = 0, cap = 0;
	int rc;

	/* collect first: no read txn held across the (long) file reads */
	if ((rc = seg_rtxn(v->s, &t)) != DD_OK)
		return rc;
	if ((rc = idx_cursor_open(t, IDX_DB_CTR, &c)) != DD_OK)
		goto out;
	for (rc = idx_cursor_seek(c, NULL, 0, &k, &val); rc == DD_OK;
	     rc = idx_cursor_next(c, &k, &val)) {
		if (k.len != 8)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			uint64_t *ni = realloc(ids, cap * sizeof(*ni));
			if (ni)
				ids = ni;
			seg_ctr_rec *nr = realloc(recs, cap * sizeof(*nr));
			if (nr)
				recs = nr;
			if (!ni || !nr) {
				rc = DD_ENOMEM;
				goto out;
			}
		}
		ids[n] = get_be64((const uint8_t *)k.p);
		if ((rc = seg_ctr_rec_get(v->s, t, ids[n], &recs[n])) != DD_OK)
			goto out;
		n++;
	}
	if (rc == DD_ENOENT)
		rc = DD_OK;
out:
	idx_cursor_close(c);
	idx_txn_abort(t);
	for (size_t i = 0; rc == DD_OK && i < n; i++)
		if (verify_container(v, ids[i], &recs[i]))
			break;
	free(ids);
	free(recs);
	return rc;
}

typedef struct obj_walk {
	vctx *v;
	const char *unit;
	int stop;
} obj_walk;

/* Reads one object end to end, checking its SHA-256 when recorded. */
static int verify_object(void *ctx, dd_str key, int is_prefix,
			 const seg_stat *st)
{
	obj_walk *ow = ctx;
	vctx *v = ow->v;
	seg_reader *r = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = malloc(1u << 20), sha[32];
	char what[SEG_NAME_MAX + SEG_KEY_MAX + 4];
	uint64_t off = 0;
	unsigned int dl;
	int rc;

	(void)is_prefix;
	if (is_cancelled(v)) {
		ow->stop = 1;
		goto out;
	}
	v->out->objects++;
	if (!md || !buf) {
		rc = DD_ENOMEM;
		goto bad;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if ((rc = seg_reader_open(v->s, ow->unit, key, &r)) != DD_OK)
		goto bad;
	while (off < seg_reader_stat(r)->size) {
		size_t got;

		if (is_cancelled(v)) {
			/* not a problem of the object: the walk ends here */
			ow->stop = 1;
			goto out;
		}
		if ((rc = seg_reader_pread(r, buf, 1u << 20, off, &got)) !=
		    DD_OK)
			goto bad;
		if (got == 0) {
			rc = DD_ECORRUPT;
			goto bad;
		}
		EVP_DigestUpdate(md, buf, got);
		off += got;
	}
	EVP_DigestFinal_ex(md, sha, &dl);
	rc = DD_OK;
	/* compare with the version the reader read, not the listed one */
	if ((seg_reader_stat(r)->flags & SEG_STAT_SHA256) &&
	    memcmp(sha, seg_reader_stat(r)->sha256, 32) != 0)
		rc = DD_ECORRUPT;
	(void)st;
bad:
	if (rc != DD_OK && rc != DD_ENOENT) { /* ENOENT: deleted meanwhile */
		snprintf(what, sizeof(what), "%s/%.*s", ow->unit,
			 (int)key.len, key.p);
		v->out->bad_objects++;
		ow->stop = report(v, what, rc);
	}
out:
	seg_reader_free(r);
	EVP_MD_CTX_free(md);
	free(buf);
	return ow->stop;
}

static int verify_unit(void *ctx, const seg_unit_info *info)
{
	obj_walk ow = {ctx, info->name, 0};
	seg_list_opts o;
	seg_list_result res;
	int rc;

	if (is_cancelled(ow.v))
		return VERIFY_STOP;
	memset(&o, 0, sizeof(o));
	o.limit = 1000;
	do {
		rc = seg_list(ow.v->s, info->name, &o, verify_object, &ow,
			      &res);
		/* seg_list returns verify_object's nonzero "stop" as its rc */
		if (ow.stop)
			return VERIFY_STOP;
		if (rc != DD_OK)
			return rc;
		o.start_after = (dd_str){res.next, res.next_len};
	} while (res.truncated);
	return 0;
}

int seg_verify(seg_store *s, int deep, const atomic_int *cancel,
	       seg_verify_report *out, seg_verify_cb cb, void *ctx)
{
	vctx v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.s = s;
	v.deep = deep;
	v.cancel = cancel;
	v.out = out;
	v.cb = cb;
	v.ctx = ctx;
	memset(out, 0, sizeof(*out));
	seg_rcache_init(&v.rc);
	rc = verify_containers(&v);
	if (rc == DD_OK && !v.cancelled) {
		rc = seg_unit_list(s, verify_unit, &v);
		if (rc == VERIFY_STOP)
			rc = DD_OK; /* stopped by cb or by *cancel */
	}
	if (rc == DD_OK && v.cancelled)
		rc = DD_ESHUTDOWN;
	seg_rcache_release(&v.rc);
	return rc;
}
