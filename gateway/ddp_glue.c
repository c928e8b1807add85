/*
 * gateway/ddp_glue.c - binds a ddp_session to each DDP connection
 * (docs/DDP.md section 10, "Binding the server").
 *
 * The loop thread moves bytes; the session's work (store calls: chunk
 * storage, fsync at commit) runs on the worker pool. At most one feed job
 * per connection is in flight: the loop copies up to one frame's worth of
 * input into the job, a worker runs ddp_session_feed over it, and the
 * job's completion (on the loop thread) puts back what the session did not
 * take, moves the session's output to the socket and starts the next job.
 * While a job runs the loop never touches the session; events that arrive
 * meanwhile (EOF, error, drain) are recorded and handled at completion.
 *
 * Backpressure: no job starts while the socket's output holds more than
 * OUT_HIGH bytes (the write callback resumes at half of it), and libevent
 * stops reading once the input holds IN_HIGH bytes, so a client that does
 * not read its answers stops being read.
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
#define JOB_MAX (DDP_MAX_PAYLOAD + DDP_HDR_LEN) /* input bytes per job */

struct gw_ddp {
	ddp_segstore *adapter;
	ddp_session_cfg cfg;
	gw_proto_handler h;
	/* /metrics: bytes the sessions took from clients (whole frames,
	 * headers included: what a client's wire counter says it sent) and
	 * bytes of responses handed to the sockets */
	gw_metric *rx, *tx;
};

typedef struct dconn {
	gw_ddp *g;
	gw_pconn *pc;
	ddp_session *s;
	int eof;       /* the peer half-closed: answer what it sent, then close */
	int busy;      /* a feed job is in flight: hands off the session */
	int dead;      /* close when the job completes */
	int drain;     /* shut the session down when the job completes */
	uint8_t *job;  /* input handed to the job (JOB_MAX bytes) */
	size_t job_len, job_used;
} dconn;

static void dconn_close(dconn *dc)
{
	ddp_session_free(dc->s); /* open writers stay resumable */
	gw_pconn_close(dc->pc);
	free(dc->job);
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
	if (n)
		gw_metric_add(dc->g->tx, NULL, (double)n);
	return DD_OK;
}

static void feed_job(void *arg)
{
	dconn *dc = arg;

	dc->job_used = 0;
	(void)!ddp_session_feed(dc->s, dc->job, dc->job_len, &dc->job_used);
	if (dc->job_used)
		gw_metric_add(dc->g->rx, NULL, (double)dc->job_used);
}

static int pump(dconn *dc);

static void feed_done(void *arg, int rc)
{
	dconn *dc = arg;
	struct bufferevent *bev = gw_pconn_bev(dc->pc);
	size_t used = rc == DD_OK ? dc->job_used : 0;

	dc->busy = 0;
	/* What the session did not take goes back in front of the input. */
	if (used < dc->job_len &&
	    evbuffer_prepend(bufferevent_get_input(bev), dc->job + used,
			     dc->job_len - used) != 0)
		dc->dead = 1;
	dc->job_len = 0;
	if (dc->dead || push_output(dc, bev) != DD_OK) {
		dconn_close(dc);
		return;
	}
	if (rc != DD_OK)
		return; /* the daemon stops: on_shutdown frees dc */
	if (dc->drain) {
		dc->drain = 0;
		ddp_session_shutdown(dc->s);
		if (push_output(dc, bev) != DD_OK) {
			dconn_close(dc);
			return;
		}
	}
	(void)pump(dc);
}

/* Closes when the session is done (or the peer half-closed and all its
 * input was answered) and the output has left. Returns 1 if closed. */
static int maybe_finish(dconn *dc)
{
	struct bufferevent *bev = gw_pconn_bev(dc->pc);

	if (ddp_session_state(dc->s) != DDP_ST_CLOSING &&
	    !(dc->eof && !evbuffer_get_length(bufferevent_get_input(bev))))
		return 0;
	bufferevent_disable(bev, EV_READ);
	if (!evbuffer_get_length(bufferevent_get_output(bev))) {
		dconn_close(dc);
		return 1;
	}
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0); /* wake when empty */
	return 0;
}

/*
 * Starts a feed job when there is input, the output is below OUT_HIGH and
 * none is running. Returns 1 when the connection was closed (dc is gone).
 */
static int pump(dconn *dc)
{
	struct bufferevent *bev = gw_pconn_bev(dc->pc);
	struct evbuffer *in = bufferevent_get_input(bev);
	int n;

	if (dc->busy)
		return 0;
	if (ddp_session_state(dc->s) != DDP_ST_CLOSING && evbuffer_get_length(in) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) < OUT_HIGH) {
		if ((n = evbuffer_remove(in, dc->job, JOB_MAX)) <= 0) {
			dconn_close(dc);
			return 1;
		}
		dc->job_len = (size_t)n;
		dc->busy = 1;
		if (gw_work_submit(gw_pconn_loop(dc->pc), feed_job, dc, feed_done) ==
		    DD_OK)
			return 0;
		/* No pool (shutting down): feed here, as the job would. */
		feed_job(dc);
		dc->busy = 0;
		evbuffer_prepend(in, dc->job + dc->job_used, dc->job_len - dc->job_used);
		dc->job_len = 0;
		if (push_output(dc, bev) != DD_OK) {
			dconn_close(dc);
			return 1;
		}
	}
	return maybe_finish(dc);
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
		if (dc->busy) {
			dc->dead = 1; /* the job still uses the session */
			bufferevent_disable(bev, EV_READ | EV_WRITE);
		} else {
			dconn_close(dc);
		}
	} else if (what & BEV_EVENT_EOF) {
		/* A client that half-closes after its requests still gets the
		 * answers; pump closes once input and output are done. */
		dc->eof = 1;
		bufferevent_disable(bev, EV_READ);
		(void)pump(dc);
	}
}

static void on_accept(gw_pconn *c, void *ctx)
{
	gw_ddp *g = ctx;
	struct bufferevent *bev = gw_pconn_bev(c);
	dconn *dc = calloc(1, sizeof(*dc));

	if (!dc || !(dc->job = malloc(JOB_MAX)) ||
	    !(dc->s = ddp_session_new(&ddp_segstore_ops, g->adapter, &g->cfg))) {
		if (dc)
			free(dc->job);
		free(dc);
		gw_pconn_close(c);
		return;
	}
	dc->g = g;
	dc->pc = c;
	gw_pconn_set_udata(c, dc);
	bufferevent_setcb(bev, on_read, on_write, on_event, dc);
	/* libevent moves 16 KiB per read/write callback by default: a 1 MiB
	 * READ answer would take 64 loop iterations */
	(void)bufferevent_set_max_single_write(bev, JOB_MAX);
	(void)bufferevent_set_max_single_read(bev, JOB_MAX);
	bufferevent_setwatermark(bev, EV_READ, 0, IN_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_HIGH / 2, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* SIGTERM: no new requests; answers already queued still go out. */
static void on_drain(gw_pconn *c, void *ctx)
{
	dconn *dc = gw_pconn_udata(c);

	(void)ctx;
	if (dc->busy) {
		dc->drain = 1; /* after the running job */
		return;
	}
	ddp_session_shutdown(dc->s);
	if (push_output(dc, gw_pconn_bev(c)) != DD_OK) {
		dconn_close(dc);
		return;
	}
	(void)pump(dc);
}

/* The grace time ran out: the gateway frees c itself. Every job has
 * completed by now (the pool stops and runs completions first). */
static void on_shutdown(gw_pconn *c, void *ctx)
{
	dconn *dc = gw_pconn_udata(c);

	(void)ctx;
	ddp_session_free(dc->s);
	free(dc->job);
	free(dc);
}

gw_ddp *gw_ddp_new(seg_store *st, const gw_config *cfg)
{
	gw_ddp *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	ddp_session_cfg_default(&g->cfg);
	g->cfg.tls = cfg->ddp.tls_cert[0] != '\0';
	{
		/* announced in HELLO so DSP clients cut as the store does */
		seg_chunk_params cp;
		seg_store_chunk_params(st, &cp);
		g->cfg.chunk_min = cp.min;
		g->cfg.chunk_avg = cp.avg;
		g->cfg.chunk_max = cp.max;
	}
	if (!(g->adapter = ddp_segstore_new(st, g->cfg.resume_ttl_s))) {
		free(g);
		return NULL;
	}
	g->rx = gw_metric_register(gw_metrics_default(), GW_COUNTER,
				   "dedupd_ddp_received_bytes_total",
				   "DDP request bytes (frame headers and payloads) taken "
				   "from clients by their sessions.", NULL, NULL, 0);
	g->tx = gw_metric_register(gw_metrics_default(), GW_COUNTER,
				   "dedupd_ddp_sent_bytes_total",
				   "DDP response bytes written to client connections.",
				   NULL, NULL, 0);
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
