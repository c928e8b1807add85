/*
 * gateway/s3_glue.c - adapts gw_http exchanges on the "s3" listener to
 * s3api's s3_ex interface, with the store work on the worker pool.
 *
 * The loop thread only moves bytes: it copies the request head, collects
 * body pieces into a bounded buffer and writes response chunks. Every
 * s3_ex call (auth, catalog lookups, chunking, hashing, compression,
 * commits that wait for fsync, reads that decompress) runs in a
 * gw_work_submit job, one job per exchange at a time, so a slow request
 * never stalls the other connections of its loop (DESIGN.md section 5).
 *
 * Flow of one exchange:
 *   on_request   copy the head; with a body: pause reading (so "100
 *                Continue" waits for the verdict) and run s3_ex_begin.
 *   on_body      append to `fill`; once GLUE_CHUNK bytes wait, a job feeds
 *                them (double buffer: `fill` <-> `job`). While a job runs
 *                and `fill` is full, reading pauses (backpressure).
 *   on_body_end  the last job feeds the rest and runs s3_ex_end.
 *   long work    s3_ex_begin may answer S3_EX_MORE (UploadPartCopy's digest
 *                read): each s3_ex_step is then a job of its own.
 *   response     fixed bodies are copied out at once; streamed GET bodies
 *                are read ahead one GLUE_CHUNK at a time by jobs.
 * Memory per exchange: two body buffers of at most GLUE_FILL_MAX and one
 * read buffer of GLUE_CHUNK, whatever the object size.
 */
#include "gateway/s3_glue.h"
#include "gateway/http.h"
#include "s3api/s3.h"
#include "segstore/seg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLUE_CHUNK (256 * 1024)     /* body bytes per job; GET read-ahead */
#define GLUE_FILL_MAX (1024 * 1024) /* hard cap of a body buffer */

static seg_store *glue_store;
static s3_server *glue_srv;

enum gx_state {
	GX_NEW,       /* nothing submitted yet */
	GX_BEGIN,     /* s3_ex_begin (then any s3_ex_step) jobs out */
	GX_BODY,      /* accepting body bytes */
	GX_RESPONDED, /* response handed to the HTTP server */
};

/*
 * Per-exchange state. Fields are touched by the loop thread, except that
 * while `busy` the job owns x, job, rbuf/rlen/reof/rerr and the results
 * (next, ended); the job queue's locks order those accesses.
 */
struct gx {
	s3_ex *x;
	gw_http_ex *ex;     /* NULL once on_done ran */
	int refs;           /* the exchange + a job in flight */
	gw_s3_head h;       /* the request head, owned (gw_s3_head_copy) */
	dd_buf fill;        /* body received, not yet handed to a job */
	dd_buf job;         /* body being fed by the current job */
	int state;          /* enum gx_state */
	int busy;           /* a job is out */
	int paused;         /* we paused the exchange's reading */
	int body_end;       /* on_body_end seen */
	int job_end;        /* the current job also runs s3_ex_end */
	int next;           /* s3_ex_begin's / s3_ex_step's answer */
	int ended;          /* s3_ex_end ran */
	char *rbuf;         /* streamed GET: one chunk read ahead */
	size_t rlen;
	int reof, rerr;
};

static void advance(struct gx *g);

static void gx_unref(struct gx *g)
{
	if (--g->refs > 0)
		return;
	s3_ex_free(g->x);
	dd_buf_release(&g->fill);
	dd_buf_release(&g->job);
	gw_s3_head_release(&g->h);
	free(g->rbuf);
	free(g);
}

int gw_s3_head_copy(gw_s3_head *h, const gw_http_req *r)
{
	size_t need = r->url.len + r->host.len, off = 0;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < r->nheaders; i++)
		need += r->headers[i].name.len + r->headers[i].value.len;
	if (!(h->mem = malloc(need ? need : 1)))
		return DD_ENOMEM;
	if (r->nheaders && !(h->hdrs = calloc(r->nheaders, sizeof(*h->hdrs))))
		return DD_ENOMEM;
#define HEAD_COPY(dst, src)                                                 \
	do {                                                                \
		if ((src).len)                                              \
			memcpy(h->mem + off, (src).p, (src).len);           \
		(dst).p = h->mem + off;                                     \
		(dst).len = (src).len;                                      \
		off += (src).len;                                           \
	} while (0)
	HEAD_COPY(h->req.target, r->url);
	HEAD_COPY(h->host, r->host);
	for (size_t i = 0; i < r->nheaders; i++) {
		HEAD_COPY(h->hdrs[i].name, r->headers[i].name);
		HEAD_COPY(h->hdrs[i].value, r->headers[i].value);
	}
#undef HEAD_COPY
	h->req.method = dd_str_c(r->method);
	h->req.headers = h->hdrs;
	h->req.nheaders = r->nheaders;
	return DD_OK;
}

void gw_s3_head_release(gw_s3_head *h)
{
	free(h->hdrs);
	free(h->mem);
	memset(h, 0, sizeof(*h));
}

/* ------------------------------------------------------------- jobs */

static void job_begin(void *arg)
{
	struct gx *g = arg;

	g->next = s3_ex_begin(g->x);
	if (g->next == S3_EX_BODY && g->job_end) {
		s3_ex_end(g->x); /* no body: PUT of 0 bytes and the like */
		g->ended = 1;
	}
}

/* One bounded step of long work (S3_EX_MORE): a job each, so the pool's
 * queue lets other requests' jobs run in between. */
static void job_step(void *arg)
{
	struct gx *g = arg;

	g->next = s3_ex_step(g->x);
}

static void job_body(void *arg)
{
	struct gx *g = arg;

	/* s3_ex_body keeps errors for s3_ex_end; its result is always DD_OK. */
	if (g->job.len)
		(void)!s3_ex_body(g->x, g->job.data, g->job.len);
	dd_buf_reset(&g->job);
	if (g->job_end) {
		s3_ex_end(g->x);
		g->ended = 1;
	}
}

static void job_read(void *arg)
{
	struct gx *g = arg;
	size_t got;
	int rc;

	while (g->rlen < GLUE_CHUNK && !g->reof) {
		rc = s3_ex_read(g->x, g->rbuf + g->rlen, GLUE_CHUNK - g->rlen, &got);
		if (rc != DD_OK) {
			dd_log(DD_LOG_ERROR, "s3: read failed: %s", dd_strerror(rc));
			g->rerr = 1;
			return;
		}
		if (got == 0)
			g->reof = 1;
		g->rlen += got;
	}
}

static void job_done(void *arg, int rc)
{
	struct gx *g = arg;

	g->busy = 0;
	if (rc != DD_OK || !g->ex) {
		/* Daemon stopping (the job never ran) or client gone. */
		gx_unref(g);
		return;
	}
	if (g->state == GX_RESPONDED)
		gw_http_kick(g->ex); /* a GET chunk is ready */
	else
		advance(g);
	gx_unref(g);
}

/*
 * Runs fn for g on a worker. Returns DD_OK, or the pool's refusal
 * (stopping, out of memory): store work never runs on the loop thread, so
 * the caller then gives up the exchange.
 */
static int submit(struct gx *g, void (*fn)(void *arg))
{
	int rc;

	g->busy = 1;
	g->refs++;
	if ((rc = gw_work_submit(gw_http_ex_loop(g->ex), fn, g, job_done)) == DD_OK)
		return DD_OK;
	g->busy = 0;
	g->refs--; /* the exchange still holds its own reference */
	return rc;
}

/* ------------------------------------------------------- responding */

static enum gw_http_produce produce(gw_http_ex *ex, size_t room, void *ctx)
{
	struct gx *g = ctx;
	int wrote = 0;

	(void)room; /* one chunk past the window is allowed (http.h) */
	if (g->busy)
		return GW_PRODUCE_WAIT;
	if (g->rerr)
		return GW_PRODUCE_ERROR;
	if (g->rlen) {
		if (gw_http_write(ex, g->rbuf, g->rlen) != DD_OK)
			return GW_PRODUCE_ERROR;
		g->rlen = 0;
		wrote = 1;
	}
	if (g->reof)
		return GW_PRODUCE_DONE;
	if (!g->rbuf && !(g->rbuf = malloc(GLUE_CHUNK)))
		return GW_PRODUCE_ERROR;
	if (submit(g, job_read) != DD_OK)
		return GW_PRODUCE_ERROR;
	return wrote ? GW_PRODUCE_MORE : GW_PRODUCE_WAIT;
}

static void send_response(struct gx *g)
{
	const s3_response *r = s3_ex_response(g->x);
	gw_http_header h[256];
	size_t n = r->nheaders < DD_ARRAY_LEN(h) ? r->nheaders : DD_ARRAY_LEN(h);
	int rc;

	g->state = GX_RESPONDED;
	for (size_t i = 0; i < n; i++) {
		h[i].name = r->headers[i].name;
		h[i].value = r->headers[i].value;
	}
	if (r->stream)
		rc = gw_http_respond_stream(g->ex, r->status, h, n,
					    (int64_t)r->stream_len, produce, g);
	else
		rc = gw_http_respond(g->ex, r->status, h, n, r->body, r->body_len);
	if (rc != DD_OK)
		dd_log(DD_LOG_WARN, "s3: cannot respond: %s", dd_strerror(rc));
}

static void set_paused(struct gx *g, int on)
{
	if (on && !g->paused)
		gw_http_pause(g->ex);
	else if (!on && g->paused)
		gw_http_resume(g->ex);
	g->paused = on;
}

/* The pool refused a job: 503 (the connection closes if a body is unread). */
static void give_up(struct gx *g, int rc)
{
	dd_log(DD_LOG_WARN, "s3: cannot queue work: %s", dd_strerror(rc));
	g->state = GX_RESPONDED;
	if (gw_http_respond_text(g->ex, 503, "text/plain", "service unavailable\n") != DD_OK)
		dd_log(DD_LOG_WARN, "s3: cannot respond");
	set_paused(g, 0);
}

/*
 * Moves the exchange on after any event (loop thread): starts the next
 * job, responds, or pauses/resumes reading.
 */
static void advance(struct gx *g)
{
	int rc;

	if (!g->ex || g->state == GX_RESPONDED)
		return;
	if (g->busy) {
		if (g->state == GX_BODY && g->fill.len >= GLUE_CHUNK)
			set_paused(g, 1); /* backpressure until the job is done */
		return;
	}
	if (g->state == GX_NEW) {
		g->state = GX_BEGIN;
		g->job_end = g->body_end;
		if ((rc = submit(g, job_begin)) != DD_OK)
			give_up(g, rc);
		return;
	}
	if (g->state == GX_BEGIN && g->next == S3_EX_MORE) {
		if ((rc = submit(g, job_step)) != DD_OK)
			give_up(g, rc);
		return;
	}
	if (g->state == GX_BEGIN)
		g->state = g->next == S3_EX_BODY && !g->ended ? GX_BODY : GX_RESPONDED;
	if (g->state == GX_RESPONDED || g->ended) {
		send_response(g);
		set_paused(g, 0); /* lets the server finish or discard the body */
		return;
	}
	if (g->fill.len >= GLUE_CHUNK || g->body_end) {
		dd_buf tmp = g->job;

		g->job = g->fill;
		g->fill = tmp;
		g->job_end = g->body_end;
		if ((rc = submit(g, job_body)) != DD_OK) {
			give_up(g, rc);
			return;
		}
	}
	set_paused(g, g->fill.len >= GLUE_CHUNK);
}

/* ---------------------------------------------------- http callbacks */

static void on_request(gw_http_ex *ex, void *ctx)
{
	const gw_http_req *r = gw_http_ex_req(ex);
	struct gx *g = calloc(1, sizeof(*g));

	(void)ctx;
	if (g) {
		g->refs = 1;
		g->ex = ex;
		dd_buf_init(&g->fill, GLUE_FILL_MAX);
		dd_buf_init(&g->job, GLUE_FILL_MAX);
	}
	if (!g || gw_s3_head_copy(&g->h, r) != DD_OK ||
	    !(g->x = s3_ex_new(glue_srv, &g->h.req, g->h.host))) {
		if (g)
			gx_unref(g);
		if (gw_http_respond_text(ex, 503, "text/plain", "out of memory\n") != DD_OK)
			dd_log(DD_LOG_WARN, "s3: cannot respond");
		return;
	}
	gw_http_ex_set_udata(ex, g);
	/* Without a body, begin waits for on_body_end (the request is then
	 * complete); with one, "100 Continue" waits for begin's verdict. */
	if (r->has_body) {
		set_paused(g, 1);
		advance(g);
	}
}

static int on_body(gw_http_ex *ex, const char *p, size_t n, void *ctx)
{
	struct gx *g = gw_http_ex_udata(ex);
	int rc;

	(void)ctx;
	if (!g)
		return DD_OK;
	if (g->state != GX_BODY) { /* reading is paused outside GX_BODY */
		dd_log(DD_LOG_ERROR, "s3: body bytes in state %d", g->state);
		return DD_EINTERNAL;
	}
	if ((rc = dd_buf_append(&g->fill, p, n)) != DD_OK) {
		dd_log(DD_LOG_ERROR, "s3: body buffer: %s", dd_strerror(rc));
		return rc; /* cannot happen while pausing works: abort */
	}
	advance(g);
	return DD_OK;
}

static void on_body_end(gw_http_ex *ex, void *ctx)
{
	struct gx *g = gw_http_ex_udata(ex);

	(void)ctx;
	if (!g)
		return;
	g->body_end = 1;
	advance(g);
}

static void on_done(gw_http_ex *ex, int ok, void *ctx)
{
	struct gx *g = gw_http_ex_udata(ex);

	(void)ok;
	(void)ctx;
	gw_http_ex_set_udata(ex, NULL);
	if (!g)
		return;
	g->ex = NULL;
	gx_unref(g);
}

static const gw_http_handler glue_handler = {
	on_request, on_body, on_body_end, on_done,
};

int gw_s3_glue_start(gw_daemon *d, const gw_config *cfg, seg_store *st)
{
	s3_server_conf sc = {cfg->s3_domain, cfg->s3_region,
			     (uint64_t)cfg->s3_max_put_gib << 30};

	glue_store = st;
	if (!(glue_srv = s3_server_new(glue_store, &sc))) {
		gw_s3_glue_stop();
		return GW_EXIT_RUNTIME;
	}
	gw_daemon_set_s3_handler(d, &glue_handler, NULL);
	return -1;
}

void gw_s3_glue_stop(void)
{
	s3_server_free(glue_srv);
	glue_srv = NULL;
	glue_store = NULL; /* owned by main.c */
}
