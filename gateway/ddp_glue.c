/*
 * gateway/ddp_glue.c - binds a ddp_session to each DDP connection
 * (docs/DDP.md section 10, "Binding the server").
 *
 * The session runs on the connection's loop thread: bytes from the
 * bufferevent go to ddp_session_feed and its output to the bufferevent.
 * Backpressure: nothing more is fed while the socket's output holds more
 * than OUT_HIGH bytes (the write callback resumes at half of it), and
 * libevent stops reading once the input holds IN_HIGH bytes, so a client
 * that does not read its answers stops being read. Store calls are
 * synchronous here; moving feed to the worker pool (gw_work_submit) is the
 * next step when store latency starts to hold up other connections.
 */
#include "gateway/ddp_glue.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>

#include "ddproto/ddp.h"
#include "ddproto/store_seg.h"

#define OUT_HIGH (4u << 20)
#define IN_HIGH (2u * (DDP_MAX_PAYLOAD + DDP_HDR_LEN))

struct gw_ddp {
	ddp_segstore *adapter;
	ddp_session_cfg cfg;
	gw_proto_handler h;
};

typedef struct dconn {
	gw_ddp *g;
	gw_pconn *pc;
	ddp_session *s;
	int eof; /* the peer half-closed: answer what it sent, then close */
} dconn;

static void dconn_close(dconn *dc)
{
	ddp_session_free(dc->s); /* open writers stay resumable */
	gw_pconn_close(dc->pc);
	free(dc);
}

/* Moves the session's output into the socket's output buffer. */
static int push_output(dconn *dc, struct bufferevent *bev)
{
	const uint8_t *o;
	size_t n;

	o = ddp_session_output(dc->s, &n);
	if (n && bufferevent_write(bev, o, n) != 0)
		return DD_ENOMEM;
	ddp_session_output_consume(dc->s, n);
	return DD_OK;
}

/*
 * Feeds what the input holds while the output is below OUT_HIGH. Returns 1
 * when the connection was closed (dc is gone).
 */
static int pump(dconn *dc)
{
	struct bufferevent *bev = gw_pconn_bev(dc->pc);
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);

	while (ddp_session_state(dc->s) != DDP_ST_CLOSING &&
	       evbuffer_get_length(in) && evbuffer_get_length(out) < OUT_HIGH) {
		struct evbuffer_iovec v;
		size_t used = 0;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		(void)!ddp_session_feed(dc->s, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (push_output(dc, bev) != DD_OK) {
			dconn_close(dc);
			return 1;
		}
		if (!used)
			break;
	}
	if (ddp_session_state(dc->s) == DDP_ST_CLOSING ||
	    (dc->eof && !evbuffer_get_length(in))) {
		bufferevent_disable(bev, EV_READ);
		if (!evbuffer_get_length(out)) {
			dconn_close(dc);
			return 1;
		}
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0); /* wake when empty */
	}
	return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)pump(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)pump(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	dconn *dc = arg;

	if (what & BEV_EVENT_ERROR) {
		dconn_close(dc);
	} else if (what & BEV_EVENT_EOF) {
		/* A client that half-closes after its requests still gets the
		 * answers; pump closes once input and output are done. */
		dc->eof = 1;
		bufferevent_disable(bev, EV_READ);
		if (!pump(dc))
			bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	}
}

static void on_accept(gw_pconn *c, void *ctx)
{
	gw_ddp *g = ctx;
	struct bufferevent *bev = gw_pconn_bev(c);
	dconn *dc = calloc(1, sizeof(*dc));

	if (!dc || !(dc->s = ddp_session_new(&ddp_segstore_ops, g->adapter, &g->cfg))) {
		free(dc);
		gw_pconn_close(c);
		return;
	}
	dc->g = g;
	dc->pc = c;
	gw_pconn_set_udata(c, dc);
	bufferevent_setcb(bev, on_read, on_write, on_event, dc);
	bufferevent_setwatermark(bev, EV_READ, 0, IN_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_HIGH / 2, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* SIGTERM: no new requests; answers already queued still go out. */
static void on_drain(gw_pconn *c, void *ctx)
{
	dconn *dc = gw_pconn_udata(c);

	(void)ctx;
	ddp_session_shutdown(dc->s);
	if (push_output(dc, gw_pconn_bev(c)) != DD_OK) {
		dconn_close(dc);
		return;
	}
	(void)pump(dc);
}

/* The grace time ran out: the gateway frees c itself. */
static void on_shutdown(gw_pconn *c, void *ctx)
{
	dconn *dc = gw_pconn_udata(c);

	(void)ctx;
	ddp_session_free(dc->s);
	free(dc);
}

gw_ddp *gw_ddp_new(seg_store *st, const gw_config *cfg)
{
	gw_ddp *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	ddp_session_cfg_default(&g->cfg);
	g->cfg.tls = cfg->ddp.tls_cert[0] != '\0';
	if (!(g->adapter = ddp_segstore_new(st, g->cfg.resume_ttl_s))) {
		free(g);
		return NULL;
	}
	g->h.on_accept = on_accept;
	g->h.on_drain = on_drain;
	g->h.on_shutdown = on_shutdown;
	g->h.ctx = g;
	return g;
}

void gw_ddp_free(gw_ddp *g)
{
	if (!g)
		return;
	ddp_segstore_free(g->adapter);
	free(g);
}

const gw_proto_handler *gw_ddp_handler(gw_ddp *g)
{
	return &g->h;
}
