/*
 * gateway/s3_glue.c - adapts gw_http exchanges on the "s3" listener to
 * s3api's s3_ex interface. Store work (writer, reader, catalog) runs on
 * the connection's loop thread in this first version (no worker trips).
 */
#include "gateway/s3_glue.h"
#include "gateway/http.h"
#include "s3api/s3.h"
#include "segstore/seg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLUE_CHUNK (128 * 1024)

static seg_store *glue_store;
static s3_server *glue_srv;

/* Per-exchange state: the s3_ex and what it borrows. */
struct gx {
	s3_ex *x;
	s3_request req;
	s3_header *hdrs;
	char *buf; /* streamed GET chunks */
	int responded;
};

static void gx_free(struct gx *g)
{
	if (!g)
		return;
	s3_ex_free(g->x);
	free(g->hdrs);
	free(g->buf);
	free(g);
}

static enum gw_http_produce produce(gw_http_ex *ex, size_t room, void *ctx)
{
	struct gx *g = ctx;
	size_t got = 0, want = room < GLUE_CHUNK ? room : GLUE_CHUNK;
	int rc;

	if (want == 0)
		want = GLUE_CHUNK;
	if (!g->buf && !(g->buf = malloc(GLUE_CHUNK)))
		return GW_PRODUCE_ERROR;
	if ((rc = s3_ex_read(g->x, g->buf, want, &got)) != DD_OK) {
		dd_log(DD_LOG_ERROR, "s3: read failed: %s", dd_strerror(rc));
		return GW_PRODUCE_ERROR;
	}
	if (got == 0)
		return GW_PRODUCE_DONE;
	if (gw_http_write(ex, g->buf, got) != DD_OK)
		return GW_PRODUCE_ERROR;
	return GW_PRODUCE_MORE;
}

static void send_response(gw_http_ex *ex, struct gx *g)
{
	const s3_response *r = s3_ex_response(g->x);
	gw_http_header h[256];
	size_t n = r->nheaders < DD_ARRAY_LEN(h) ? r->nheaders : DD_ARRAY_LEN(h);
	int rc;

	if (g->responded)
		return;
	g->responded = 1;
	for (size_t i = 0; i < n; i++) {
		h[i].name = r->headers[i].name;
		h[i].value = r->headers[i].value;
	}
	if (r->stream)
		rc = gw_http_respond_stream(ex, r->status, h, n,
					    (int64_t)r->stream_len, produce, g);
	else
		rc = gw_http_respond(ex, r->status, h, n, r->body, r->body_len);
	if (rc != DD_OK)
		dd_log(DD_LOG_WARN, "s3: cannot respond: %s", dd_strerror(rc));
}

static void on_request(gw_http_ex *ex, void *ctx)
{
	const gw_http_req *r = gw_http_ex_req(ex);
	struct gx *g = calloc(1, sizeof(*g));

	(void)ctx;
	if (g && r->nheaders)
		g->hdrs = calloc(r->nheaders, sizeof(*g->hdrs));
	if (!g || (r->nheaders && !g->hdrs)) {
		gx_free(g);
		if (gw_http_respond_text(ex, 503, "text/plain", "out of memory\n") != DD_OK)
			dd_log(DD_LOG_WARN, "s3: cannot respond");
		return;
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		g->hdrs[i].name = r->headers[i].name;
		g->hdrs[i].value = r->headers[i].value;
	}
	g->req.method = dd_str_c(r->method);
	g->req.target = r->url;
	g->req.headers = g->hdrs;
	g->req.nheaders = r->nheaders;
	gw_http_ex_set_udata(ex, g);
	if (!(g->x = s3_ex_new(glue_srv, &g->req, r->host))) {
		if (gw_http_respond_text(ex, 503, "text/plain", "out of memory\n") != DD_OK)
			dd_log(DD_LOG_WARN, "s3: cannot respond");
		return;
	}
	if (s3_ex_begin(g->x) == S3_EX_RESPOND)
		send_response(ex, g);
}

static int on_body(gw_http_ex *ex, const char *p, size_t n, void *ctx)
{
	struct gx *g = gw_http_ex_udata(ex);

	(void)ctx;
	if (!g || !g->x || g->responded)
		return DD_OK;
	return s3_ex_body(g->x, p, n);
}

static void on_body_end(gw_http_ex *ex, void *ctx)
{
	struct gx *g = gw_http_ex_udata(ex);

	(void)ctx;
	if (!g || !g->x || g->responded)
		return;
	s3_ex_end(g->x);
	send_response(ex, g);
}

static void on_done(gw_http_ex *ex, int ok, void *ctx)
{
	(void)ok;
	(void)ctx;
	gx_free(gw_http_ex_udata(ex));
	gw_http_ex_set_udata(ex, NULL);
}

static const gw_http_handler glue_handler = {
	on_request, on_body, on_body_end, on_done,
};

int gw_s3_glue_start(gw_daemon *d, const gw_config *cfg, seg_store *st)
{
	s3_server_conf sc = {cfg->s3_domain, cfg->s3_region};

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
