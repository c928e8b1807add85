/*
 * gateway/http.c - HTTP/1.1 connections on bufferevents (see http.h).
 *
 * Re-entrancy rule: parser and bufferevent callbacks only change flags and
 * activate the connection's "step" event; step() then finishes exchanges,
 * runs producers, feeds the parser and closes the connection. So a handler
 * never sees on_done from inside its own gw_http_respond call, and nothing
 * is freed under a running callback.
 */
#include "gateway/http_int.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_HIGH_WATER (64 * 1024)
#define DISCARD_MAX (1024 * 1024) /* body we read and drop to keep alive */

struct gw_http_server {
	char name[32];
	const gw_http_handler *h;
	void *ctx;
	size_t max_header_bytes;
	unsigned idle_timeout;
	gw_metric *requests;
	gw_metric *duration;
};

struct gw_http_ex {
	gw_http_conn *c;
	void *udata;
	dd_arena *arena;
	int status;
	int64_t start_ns;
	unsigned resp_started : 1, resp_done : 1, req_done : 1, paused : 1,
		continue_sent : 1, discard : 1, close_after : 1, head : 1,
		streaming : 1, waiting : 1, chunked : 1, continue_pending : 1;
	gw_http_produce_fn produce;
	void *pctx;
	int64_t clen;
	uint64_t written;
};

struct gw_http_conn {
	gw_http_server *srv;
	gw_loop *loop;
	struct bufferevent *bev;
	struct event *step_ev;
	char peer[64];
	struct gw_hp hp;
	gw_http_ex *ex;
	unsigned closing : 1, draining : 1, dead : 1;
	void (*on_close)(void *arg);
	void *close_arg;
};

static const struct {
	int code;
	const char *reason;
} reasons[] = {
	{100, "Continue"}, {200, "OK"}, {201, "Created"}, {204, "No Content"},
	{206, "Partial Content"}, {301, "Moved Permanently"},
	{304, "Not Modified"}, {307, "Temporary Redirect"},
	{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
	{404, "Not Found"}, {405, "Method Not Allowed"}, {409, "Conflict"},
	{411, "Length Required"}, {412, "Precondition Failed"},
	{413, "Payload Too Large"}, {416, "Range Not Satisfiable"},
	{417, "Expectation Failed"}, {429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"}, {501, "Not Implemented"},
	{503, "Service Unavailable"}, {505, "HTTP Version Not Supported"},
	{507, "Insufficient Storage"},
};

const char *gw_http_reason(int status)
{
	for (size_t i = 0; i < DD_ARRAY_LEN(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].reason;
	return "Unknown";
}

/* ---------------------------------------------------------------- server */

static const double duration_buckets[] = {0.001, 0.005, 0.025, 0.1, 0.5,
					   2.5, 10, 60, 300};

gw_http_server *gw_http_server_new(const char *name, const gw_http_handler *h,
				   void *ctx, size_t max_header_bytes,
				   unsigned idle_timeout_seconds)
{
	gw_http_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->h = h;
	s->ctx = ctx;
	s->max_header_bytes = max_header_bytes;
	s->idle_timeout = idle_timeout_seconds;
	s->requests = gw_metric_register(
		gw_metrics_default(), GW_COUNTER, "dedupd_http_requests_total",
		"HTTP requests answered, by listener and status code.",
		"listener,code", NULL, 0);
	s->duration = gw_metric_register(
		gw_metrics_default(), GW_HISTOGRAM,
		"dedupd_http_request_duration_seconds",
		"Time from complete request headers to the last response byte "
		"queued, by listener.",
		"listener", duration_buckets, DD_ARRAY_LEN(duration_buckets));
	/* http-parser's own header limit is global; keep it above ours so
	 * our per-connection limit (and its 431) is the one that applies. */
	http_parser_set_max_header_size((uint32_t)max_header_bytes + 1024);
	return s;
}

void gw_http_server_set_handler(gw_http_server *s, const gw_http_handler *h,
				void *ctx)
{
	s->h = h;
	s->ctx = ctx;
}

void gw_http_server_free(gw_http_server *s)
{
	free(s);
}

static void count_request(gw_http_server *s, int status)
{
	char code[8];
	const char *labels[2] = {s->name, code};

	snprintf(code, sizeof(code), "%d", status);
	gw_metric_add(s->requests, labels, 1);
}

/* ----------------------------------------------------------- connection */

static void kick_step(gw_http_conn *c)
{
	event_active(c->step_ev, EV_TIMEOUT, 0);
}

const gw_http_req *gw_http_ex_req(gw_http_ex *ex)
{
	return &ex->c->hp.req;
}

void gw_http_ex_set_udata(gw_http_ex *ex, void *udata)
{
	ex->udata = udata;
}

void *gw_http_ex_udata(gw_http_ex *ex)
{
	return ex->udata;
}

dd_arena *gw_http_ex_arena(gw_http_ex *ex)
{
	if (!ex->arena)
		ex->arena = dd_arena_new(GW_HTTP_ARENA_MAX);
	return ex->arena;
}

gw_loop *gw_http_ex_loop(gw_http_ex *ex)
{
	return ex->c->loop;
}

const char *gw_http_ex_peer(gw_http_ex *ex)
{
	return ex->c->peer;
}

/* Ends the exchange: on_done, free. */
static void end_exchange(gw_http_conn *c, int ok)
{
	gw_http_ex *ex = c->ex;

	if (!ex)
		return;
	c->ex = NULL;
	if (c->srv->h && c->srv->h->on_done)
		c->srv->h->on_done(ex, ok, c->srv->ctx);
	dd_arena_free(ex->arena);
	free(ex);
}

void gw_http_conn_free(gw_http_conn *c)
{
	if (!c)
		return;
	end_exchange(c, 0);
	if (c->step_ev)
		event_free(c->step_ev);
	if (c->bev)
		bufferevent_free(c->bev);
	gw_hp_release(&c->hp);
	if (c->on_close)
		c->on_close(c->close_arg);
	free(c);
}

void gw_http_conn_drain(gw_http_conn *c)
{
	c->draining = 1;
	kick_step(c);
}

void gw_http_pause(gw_http_ex *ex)
{
	gw_http_conn *c = ex->c;

	if (ex->paused)
		return;
	ex->paused = 1;
	http_parser_pause(&c->hp.parser, 1);
	bufferevent_disable(c->bev, EV_READ);
}

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

void gw_http_resume(gw_http_ex *ex)
{
	gw_http_conn *c = ex->c;

	if (!ex->paused)
		return;
	ex->paused = 0;
	if (ex->continue_pending && !ex->resp_started) {
		/* Paused in on_request: the handler has now accepted. */
		ex->continue_pending = 0;
		if (evbuffer_add(bufferevent_get_output(c->bev), continue_line,
				 sizeof(continue_line) - 1) != 0)
			c->dead = 1;
		else
			ex->continue_sent = 1;
	}
	if (!c->closing && !ex->req_done)
		bufferevent_enable(c->bev, EV_READ);
	kick_step(c);
}

void gw_http_kick(gw_http_ex *ex)
{
	ex->waiting = 0;
	kick_step(ex->c);
}

static int valid_token(dd_str s, int value)
{
	if (!value && s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		if (ch == '\r' || ch == '\n' || ch == '\0' ||
		    (!value && (ch <= ' ' || ch == ':')))
			return 0;
	}
	return 1;
}

/*
 * Decides keep-alive for the response about to start: a body we will not
 * read (100-continue refused, or too large to discard) forces close.
 */
static void decide_close(gw_http_ex *ex)
{
	gw_http_conn *c = ex->c;
	const gw_http_req *r = &c->hp.req;

	if (!c->hp.keepalive || c->draining || gw_loop_draining(c->loop))
		ex->close_after = 1;
	/* A final answer to "Expect: 100-continue" without a 100 first:
	 * botocore keeps that status line and reads the next response on
	 * the connection against it (boto/botocore#3755), so close. */
	if (r->expect_continue && !ex->continue_sent)
		ex->close_after = 1;
	if (!ex->req_done && r->has_body) {
		if (ex->close_after || r->chunked ||
		    r->content_length > DISCARD_MAX)
			ex->close_after = 1;
		else
			ex->discard = 1;
	}
}

/* Writes the status line and headers; clen < 0 means chunked. */
static int write_head(gw_http_ex *ex, int status, const gw_http_header *hdrs,
		      size_t n, int64_t clen)
{
	gw_http_conn *c = ex->c;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	dd_buf b;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (!valid_token(hdrs[i].name, 0) || !valid_token(hdrs[i].value, 1))
			return DD_EINVAL;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	ex->status = status;
	ex->resp_started = 1;
	decide_close(ex);
	dd_buf_init(&b, 256 * 1024);
	rc = dd_buf_appendf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
			    gw_http_reason(status), date);
	for (size_t i = 0; rc == DD_OK && i < n; i++)
		rc = dd_buf_appendf(&b, "%.*s: %.*s\r\n", (int)hdrs[i].name.len,
				    hdrs[i].name.p, (int)hdrs[i].value.len,
				    hdrs[i].value.p);
	/* 204 and 304 have no body and no length (RFC 9110 8.6). */
	if (rc == DD_OK && status != 204 && status != 304)
		rc = clen >= 0 ? dd_buf_appendf(&b, "Content-Length: %lld\r\n",
						(long long)clen) :
				 dd_buf_append_str(&b, "Transfer-Encoding: chunked\r\n");
	if (rc == DD_OK && ex->close_after)
		rc = dd_buf_append_str(&b, "Connection: close\r\n");
	else if (rc == DD_OK && c->hp.req.http_major == 1 &&
		 c->hp.req.http_minor == 0)
		rc = dd_buf_append_str(&b, "Connection: keep-alive\r\n");
	if (rc == DD_OK)
		rc = dd_buf_append_str(&b, "\r\n");
	if (rc == DD_OK &&
	    evbuffer_add(bufferevent_get_output(c->bev), b.data, b.len) != 0)
		rc = DD_ENOMEM;
	dd_buf_release(&b);
	return rc;
}

int gw_http_respond(gw_http_ex *ex, int status, const gw_http_header *hdrs,
		    size_t n, const void *body, size_t len)
{
	gw_http_conn *c = ex->c;
	int rc;

	if (ex->resp_started)
		return DD_EINVAL;
	ex->head = c->hp.req.method_id == HTTP_HEAD;
	if ((rc = write_head(ex, status, hdrs, n, (int64_t)len)) != DD_OK) {
		c->dead = 1;
		kick_step(c);
		return rc;
	}
	if (len && !ex->head &&
	    evbuffer_add(bufferevent_get_output(c->bev), body, len) != 0) {
		c->dead = 1;
		kick_step(c);
		return DD_ENOMEM;
	}
	ex->resp_done = 1;
	kick_step(c);
	return DD_OK;
}

int gw_http_respond_text(gw_http_ex *ex, int status, const char *ctype,
			 const char *body)
{
	gw_http_header h = {DD_STR_LIT("Content-Type"), dd_str_c(ctype)};

	return gw_http_respond(ex, status, &h, 1, body, strlen(body));
}

int gw_http_respond_stream(gw_http_ex *ex, int status,
			   const gw_http_header *hdrs, size_t n,
			   int64_t content_length, gw_http_produce_fn produce,
			   void *ctx)
{
	gw_http_conn *c = ex->c;
	int rc;

	if (ex->resp_started || !produce)
		return DD_EINVAL;
	ex->head = c->hp.req.method_id == HTTP_HEAD;
	if ((rc = write_head(ex, status, hdrs, n, content_length)) != DD_OK) {
		c->dead = 1;
		kick_step(c);
		return rc;
	}
	if (ex->head) {
		ex->resp_done = 1;
	} else {
		ex->streaming = 1;
		ex->produce = produce;
		ex->pctx = ctx;
		ex->clen = content_length;
		ex->chunked = content_length < 0;
	}
	kick_step(c);
	return DD_OK;
}

int gw_http_write(gw_http_ex *ex, const void *p, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);

	if (!ex->streaming)
		return DD_EINVAL;
	if (n == 0)
		return DD_OK;
	if (!ex->chunked && ex->written + n > (uint64_t)ex->clen)
		return DD_ETOOBIG;
	if (ex->chunked && evbuffer_add_printf(out, "%zx\r\n", n) < 0)
		return DD_ENOMEM;
	if (evbuffer_add(out, p, n) != 0)
		return DD_ENOMEM;
	if (ex->chunked && evbuffer_add(out, "\r\n", 2) != 0)
		return DD_ENOMEM;
	ex->written += n;
	return DD_OK;
}

/* Runs the producer while there is room; sets resp_done / dead. */
static void run_producer(gw_http_conn *c, gw_http_ex *ex)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (ex->streaming && !ex->waiting && !c->dead) {
		size_t len = evbuffer_get_length(out);
		enum gw_http_produce r;

		if (len >= GW_HTTP_OUT_WINDOW)
			return;
		r = ex->produce(ex, GW_HTTP_OUT_WINDOW - len, ex->pctx);
		if (r == GW_PRODUCE_WAIT) {
			ex->waiting = 1;
		} else if (r == GW_PRODUCE_DONE) {
			ex->streaming = 0;
			if (ex->chunked) {
				if (evbuffer_add(out, "0\r\n\r\n", 5) != 0)
					c->dead = 1;
			} else if (ex->written != (uint64_t)ex->clen) {
				dd_log(DD_LOG_WARN,
				       "http %s: stream ended at %llu of %lld bytes",
				       c->peer, (unsigned long long)ex->written,
				       (long long)ex->clen);
				c->dead = 1;
			}
			ex->resp_done = 1;
		} else if (r == GW_PRODUCE_ERROR) {
			c->dead = 1;
		}
	}
}

/* Answers a parse error (400/431) and closes after it is written. */
static void parse_error(gw_http_conn *c)
{
	int status = gw_hp_error_status(&c->hp);
	int started = c->ex && c->ex->resp_started;
	char resp[256];
	int n;

	dd_log(DD_LOG_DEBUG, "http %s %s: bad request (%s), answering %d",
	       c->srv->name, c->peer,
	       http_errno_name(HTTP_PARSER_ERRNO(&c->hp.parser)), status);
	end_exchange(c, 0);
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (started) { /* mid-response: nothing sane to add */
		c->dead = 1;
		return;
	}
	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		     status, gw_http_reason(status),
		     strlen(gw_http_reason(status)) + 1, gw_http_reason(status));
	if (evbuffer_add(bufferevent_get_output(c->bev), resp, (size_t)n) != 0)
		c->dead = 1;
	count_request(c->srv, status);
}

/* ---- parser hooks: flags only, no frees (see the rule at the top) */

static int hook_headers(struct gw_hp *h)
{
	gw_http_conn *c = h->owner;
	gw_http_ex *ex = calloc(1, sizeof(*ex));
	const gw_http_req *r = &h->req;

	if (!ex) {
		h->error_status = 503;
		return 1;
	}
	ex->c = c;
	ex->start_ns = dd_mono_ns();
	c->ex = ex;
	if (c->srv->h && c->srv->h->on_request)
		c->srv->h->on_request(ex, c->srv->ctx);
	if (c->dead)
		return 1;
	/* 100 also when the body is empty (allowed, RFC 9110 10.1.1): an
	 * empty PUT is common and closing after each one would cost a
	 * reconnect (see decide_close for why we would have to). */
	if (!ex->resp_started && r->expect_continue) {
		if (ex->paused) { /* decided later: see gw_http_resume */
			ex->continue_pending = 1;
		} else if (evbuffer_add(bufferevent_get_output(c->bev),
					continue_line,
					sizeof(continue_line) - 1) != 0) {
			return 1;
		} else {
			ex->continue_sent = 1;
		}
	}
	if (ex->close_after && !ex->req_done && r->has_body) {
		/* Responded without reading the body: stop parsing. */
		http_parser_pause(&h->parser, 1);
	}
	return 0;
}

static int hook_body(struct gw_hp *h, const char *p, size_t n)
{
	gw_http_conn *c = h->owner;
	gw_http_ex *ex = c->ex;

	if (!ex || ex->resp_started)
		return 0; /* discarding */
	if (c->srv->h && c->srv->h->on_body &&
	    c->srv->h->on_body(ex, p, n, c->srv->ctx) != DD_OK) {
		c->dead = 1;
		return 1;
	}
	return c->dead ? 1 : 0;
}

static int hook_complete(struct gw_hp *h)
{
	gw_http_conn *c = h->owner;
	gw_http_ex *ex = c->ex;

	if (!ex)
		return 0;
	ex->req_done = 1;
	/* No reads (and so no idle timeout) while the handler works. */
	bufferevent_disable(c->bev, EV_READ);
	if (!ex->resp_started && c->srv->h && c->srv->h->on_body_end)
		c->srv->h->on_body_end(ex, c->srv->ctx);
	/* Hold the next pipelined request until this exchange ends. */
	http_parser_pause(&h->parser, 1);
	kick_step(c);
	return c->dead ? 1 : 0;
}

static const struct gw_hp_hooks conn_hooks = {
	.headers_complete = hook_headers,
	.body = hook_body,
	.message_complete = hook_complete,
};

/* May the parser run now? Not while the handler paused or an exchange
 * waits for its response after the request ended. */
static int may_parse(gw_http_conn *c)
{
	gw_http_ex *ex = c->ex;

	if (c->closing || c->dead)
		return 0;
	if (ex && (ex->paused || ex->req_done ||
		   (ex->close_after && ex->resp_started)))
		return 0;
	return 1;
}

static void feed_parser(gw_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (may_parse(c) && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		enum http_errno e;
		size_t used;

		if (HTTP_PARSER_ERRNO(&c->hp.parser) == HPE_PAUSED)
			http_parser_pause(&c->hp.parser, 0);
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		used = gw_hp_execute(&c->hp, v.iov_base, v.iov_len);
		evbuffer_drain(in, used);
		if (c->dead)
			return;
		e = HTTP_PARSER_ERRNO(&c->hp.parser);
		if (e == HPE_PAUSED)
			continue; /* may_parse decides */
		if (e != HPE_OK || c->hp.parser.upgrade || used < v.iov_len) {
			parse_error(c);
			return;
		}
	}
}

/* Ends a finished exchange and decides what the connection does next. */
static void finish_if_done(gw_http_conn *c)
{
	gw_http_ex *ex = c->ex;

	if (!ex || !ex->resp_done)
		return;
	if (!ex->req_done && !ex->close_after)
		return; /* still discarding the request body */
	count_request(c->srv, ex->status);
	{
		const char *l[1] = {c->srv->name};
		const gw_http_req *r = &c->hp.req;
		const char *q = memchr(r->url.p, '?', r->url.len);
		double secs = (double)(dd_mono_ns() - ex->start_ns) / 1e9;

		gw_metric_observe(c->srv->duration, l, secs);
		/* Path only: a query string may hold a presigned signature. */
		dd_log(DD_LOG_DEBUG, "http %s %s %s %.*s %d %.3fms", c->srv->name,
		       c->peer, r->method,
		       (int)DD_MIN(q ? (size_t)(q - r->url.p) : r->url.len, 512),
		       r->url.p, ex->status, secs * 1e3);
	}
	if (ex->close_after || !ex->req_done) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
	end_exchange(c, 1);
	if (c->draining)
		c->closing = 1;
	if (!c->closing)
		bufferevent_enable(c->bev, EV_READ);
}

static void step(gw_http_conn *c)
{
	struct evbuffer *out;

	if (c->dead) {
		gw_http_conn_free(c);
		return;
	}
	if (c->ex && c->ex->streaming)
		run_producer(c, c->ex);
	if (c->dead) {
		gw_http_conn_free(c);
		return;
	}
	finish_if_done(c);
	if (c->draining && !c->ex &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
		c->closing = 1;
	feed_parser(c);
	if (c->dead) {
		gw_http_conn_free(c);
		return;
	}
	if (c->ex && c->ex->resp_done && c->ex->req_done) {
		kick_step(c); /* finished during parsing: end it next turn */
		return;
	}
	out = bufferevent_get_output(c->bev);
	if (c->closing && evbuffer_get_length(out) == 0)
		gw_http_conn_free(c);
}

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	step(arg);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	step(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	step(arg);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	gw_http_conn *c = arg;

	(void)bev;
	if (what == BEV_EVENT_CONNECTED)
		return; /* TLS handshake done */
	if (what & BEV_EVENT_EOF && !(what & BEV_EVENT_ERROR) && c->ex &&
	    c->ex->req_done) {
		/* Client half-closed after its request: finish the answer. */
		c->ex->close_after = 1;
		bufferevent_disable(c->bev, EV_READ);
		kick_step(c);
		return;
	}
	if (what & BEV_EVENT_EOF && !(what & BEV_EVENT_ERROR) && !c->ex &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		/* Half-closed with the last response still queued: send it. */
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		dd_log(DD_LOG_DEBUG, "http %s %s: idle timeout", c->srv->name,
		       c->peer);
	gw_http_conn_free(c);
}

gw_http_conn *gw_http_conn_new(gw_http_server *s, gw_loop *loop,
			       struct bufferevent *bev, const char *peer,
			       void (*on_close)(void *arg), void *arg)
{
	gw_http_conn *c = calloc(1, sizeof(*c));
	struct timeval tv = {(time_t)s->idle_timeout, 0};

	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->srv = s;
	c->loop = loop;
	c->bev = bev;
	c->on_close = on_close;
	c->close_arg = arg;
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "?");
	gw_hp_init(&c->hp, s->max_header_bytes, &conn_hooks, c, s->name);
	c->step_ev = event_new(gw_loop_base(loop), -1, 0, step_cb, c);
	if (!c->step_ev) {
		c->on_close = NULL; /* the caller cleans up on NULL */
		gw_http_conn_free(c);
		return NULL;
	}
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, READ_HIGH_WATER);
	bufferevent_setwatermark(bev, EV_WRITE, GW_HTTP_OUT_WINDOW / 2, 0);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}
