/*
 * gateway/http.h - dedupd's HTTP/1.1 server on libevent bufferevents and
 * the nodejs http-parser (never evhttp: it buffers whole bodies).
 *
 * One exchange (gw_http_ex) per request:
 *
 *   on_request(ex)   request line and headers are complete: gw_http_req
 *                    holds method, raw URL, Host and the headers (in
 *                    received order). The handler either responds at once
 *                    (e.g. 404, 403: the body, if any, is then discarded, or
 *                    the connection closed when the client waits for
 *                    "100 Continue") or returns to accept the body. On
 *                    accept, "HTTP/1.1 100 Continue" is sent when the
 *                    client asked for it. To decide later (e.g. after a
 *                    lookup on a worker), call gw_http_pause(ex) in
 *                    on_request: "100 Continue" then goes out at
 *                    gw_http_resume(ex), unless a response was sent.
 *   on_body(ex,p,n)  zero or more times: the decoded body (chunked transfer
 *                    encoding already removed), in pieces of any size. The
 *                    handler may call gw_http_pause(ex) to stop reading
 *                    (backpressure reaches the client's TCP window) and
 *                    gw_http_resume(ex) later, from the loop thread (e.g. in
 *                    a gw_work_submit done callback).
 *   on_body_end(ex)  the request is fully received. The handler responds
 *                    now or later (from its loop thread).
 *   on_done(ex,ok)   always, exactly once: the exchange is over (response
 *                    fully queued and request fully read: ok = 1) or the
 *                    connection failed (ok = 0). Free the handler's
 *                    per-request state here; ex is invalid afterwards.
 *                    If a gw_work_submit job for this request is still
 *                    out, its done callback runs later: keep the state
 *                    alive until both happened (e.g. a refcount of 2)
 *                    and do not touch ex from that callback.
 *
 * Responses: gw_http_respond() with a fixed body, or
 * gw_http_respond_stream() with a producer callback called whenever the
 * connection's output buffer has room; at most GW_HTTP_OUT_WINDOW bytes
 * plus one producer write are buffered per connection, so a multi-GiB GET
 * never buffers more than that. Keep-alive follows HTTP/1.1 rules.
 *
 * Limits: request line + headers larger than max_header_bytes, or more
 * than GW_HTTP_MAX_HEADERS headers, get 431; malformed requests get 400;
 * both close the connection. Requests are counted by listener and status
 * in dedupd_http_requests_total.
 *
 * All functions must be called on the exchange's loop thread.
 */
#ifndef DD_GATEWAY_HTTP_H
#define DD_GATEWAY_HTTP_H

#include "common/dd.h"
#include "gateway/gw.h"

#include <stdint.h>

#define GW_HTTP_MAX_HEADERS 128
#define GW_HTTP_OUT_WINDOW (256 * 1024)

typedef struct gw_http_header {
	dd_str name;  /* as received (compare with dd_str_casecmp_c) */
	dd_str value; /* leading/trailing blanks removed */
} gw_http_header;

/*
 * A parsed request head. All slices point into connection memory valid
 * until on_done. Read-only for handlers.
 */
typedef struct gw_http_req {
	const char *method;       /* "GET", "PUT", ... (static string) */
	int method_id;            /* enum http_method of http_parser.h */
	dd_str url;               /* raw request target ("/b/k?x=1") */
	dd_str host;              /* Host header value (empty if none) */
	const gw_http_header *headers;
	size_t nheaders;
	unsigned http_major, http_minor;
	int has_body;             /* Content-Length > 0 or chunked */
	int chunked;              /* Transfer-Encoding: chunked */
	uint64_t content_length;  /* when !chunked */
	int expect_continue;      /* Expect: 100-continue */
	const char *listener;     /* "s3", "admin" */
} gw_http_req;

typedef struct gw_http_ex gw_http_ex;

/* Returns the request of ex; valid until on_done. */
const gw_http_req *gw_http_ex_req(gw_http_ex *ex);
/* Handler state for this exchange (NULL until set). */
void gw_http_ex_set_udata(gw_http_ex *ex, void *udata);
void *gw_http_ex_udata(gw_http_ex *ex);
/* The loop that owns ex (for gw_work_submit). */
gw_loop *gw_http_ex_loop(gw_http_ex *ex);
/* The peer address as text ("127.0.0.1:5555"); valid until on_done. */
const char *gw_http_ex_peer(gw_http_ex *ex);

/*
 * The exchange's arena (nginx pools): allocations live until on_done has
 * returned, then are freed at once. Created on first call; allocations
 * fail (NULL) past GW_HTTP_ARENA_MAX bytes. Returns NULL on out of memory.
 */
#define GW_HTTP_ARENA_MAX (4 * 1024 * 1024)
dd_arena *gw_http_ex_arena(gw_http_ex *ex);

/* First header named name (ASCII case-insensitive); {NULL,0} if none. */
dd_str gw_http_header_get(const gw_http_req *req, const char *name);

typedef struct gw_http_handler {
	void (*on_request)(gw_http_ex *ex, void *ctx);
	/* Returns DD_OK, or an error to abort the connection. May be NULL. */
	int (*on_body)(gw_http_ex *ex, const char *p, size_t n, void *ctx);
	void (*on_body_end)(gw_http_ex *ex, void *ctx); /* may be NULL */
	void (*on_done)(gw_http_ex *ex, int ok, void *ctx); /* may be NULL */
} gw_http_handler;

/* Stops reading the request body until gw_http_resume. */
void gw_http_pause(gw_http_ex *ex);
void gw_http_resume(gw_http_ex *ex);

/*
 * Sends a complete response: status line, hdrs (n of them; Content-Length,
 * Date, Connection are added by the server and must not be passed) and
 * body (len bytes, copied; may be NULL for len 0). For HEAD requests the
 * body is not sent but its length is announced. Once per exchange:
 * DD_EINVAL if a response was already started.
 */
int gw_http_respond(gw_http_ex *ex, int status, const gw_http_header *hdrs,
		    size_t n, const void *body, size_t len) DD_WUR;

/* Shortcut: one Content-Type header and a NUL-terminated body. */
int gw_http_respond_text(gw_http_ex *ex, int status, const char *ctype,
			 const char *body) DD_WUR;

enum gw_http_produce {
	GW_PRODUCE_MORE,  /* wrote some; call again when there is room */
	GW_PRODUCE_WAIT,  /* nothing ready: the handler calls gw_http_kick */
	GW_PRODUCE_DONE,  /* body complete */
	GW_PRODUCE_ERROR, /* give up: the connection is closed */
};

/*
 * Producer of a streamed body: writes up to room bytes with
 * gw_http_write(ex, ...) and says what comes next. Called on the loop
 * thread whenever the output buffer falls below GW_HTTP_OUT_WINDOW / 2.
 */
typedef enum gw_http_produce (*gw_http_produce_fn)(gw_http_ex *ex,
						   size_t room, void *ctx);

/*
 * Starts a streamed response. content_length >= 0: exactly that many
 * bytes must be written (a shortfall at DONE closes the connection);
 * -1: chunked transfer encoding. The producer is first called soon after
 * this returns (from the loop, not from inside this call). For HEAD
 * requests the head (with Content-Length: content_length) is sent and the
 * producer is never called: use this to answer HEAD on a large object
 * without a body buffer. 204 and 304 get no Content-Length.
 * DD_EINVAL if a response was already started.
 */
int gw_http_respond_stream(gw_http_ex *ex, int status,
			   const gw_http_header *hdrs, size_t n,
			   int64_t content_length, gw_http_produce_fn produce,
			   void *ctx) DD_WUR;

/* Appends body bytes of a streamed response (inside the producer or after
 * GW_PRODUCE_WAIT). DD_EINVAL when no stream is open. */
int gw_http_write(gw_http_ex *ex, const void *p, size_t n) DD_WUR;

/* Calls the producer again soon (after it returned GW_PRODUCE_WAIT). */
void gw_http_kick(gw_http_ex *ex);

/* Reason phrase of a status ("Not Found"); "Unknown" if none. */
const char *gw_http_reason(int status);

/* ------------------------------------------------ server (gateway-internal) */

typedef struct gw_http_server gw_http_server;
struct bufferevent;

/*
 * A server for one listener: name ("s3", "admin") labels metrics.
 * h and ctx are borrowed for the server's life.
 */
gw_http_server *gw_http_server_new(const char *name, const gw_http_handler *h,
				   void *ctx, size_t max_header_bytes,
				   unsigned idle_timeout_seconds);
void gw_http_server_set_handler(gw_http_server *s, const gw_http_handler *h,
				void *ctx);
void gw_http_server_free(gw_http_server *s);

typedef struct gw_http_conn gw_http_conn;

/*
 * Serves one connection on bev (owned from now on; freed with the
 * connection). on_close(arg) is called when the connection is freed.
 * Returns the connection or NULL (bev freed).
 */
gw_http_conn *gw_http_conn_new(gw_http_server *s, gw_loop *loop,
			       struct bufferevent *bev, const char *peer,
			       void (*on_close)(void *arg), void *arg);
/* Asks the connection to finish: closes it now if idle, else after the
 * current response (no keep-alive). */
void gw_http_conn_drain(gw_http_conn *c);
/* Closes at once (on_done(ex, 0) for an open exchange). */
void gw_http_conn_free(gw_http_conn *c);

/* ------------------------------------------ request-head parsing (fuzzed) */

/*
 * Parses a request head and body from a complete byte string with the
 * same callbacks the server uses, for tests and fuzzing. Pure. Returns
 * the HTTP status the server would answer for malformed input (400, 431)
 * or 0 when every request in the input parsed; *nreq counts requests.
 */
int gw_http_parse_bytes(const char *data, size_t len, size_t max_header_bytes,
			size_t *nreq);

#endif /* DD_GATEWAY_HTTP_H */
