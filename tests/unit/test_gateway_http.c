/*
 * tests/unit/test_gateway_http.c - the HTTP/1.1 server with a test handler
 * on the S3 listener of a real gw_daemon (run in a thread): 100-continue,
 * chunked uploads, body backpressure with pause/resume from the worker
 * pool, streamed responses (fixed length and chunked) with bounded
 * buffering, producer WAIT + kick, early rejection, keep-alive. Plus the
 * pure request-parsing layer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "gateway/http.h"

/* ------------------------------------------------------------ handler */

struct req_state {
	gw_http_ex *ex;
	uint64_t count, sum;
	int pause_mode;
	int paused;
	uint64_t stream_n, produced;
	int chunked;
	int wait_phase;
	int defer_reject;
	int slow; /* answered by a timer, not at body end */
	const char *url_copy; /* in the exchange arena */
	pthread_t req_thread;
};

static atomic_int violations;        /* on_body while paused, bad room, ... */
static atomic_int done_ok, done_fail;
static atomic_ullong total_produced; /* by /stream producers */
static atomic_int work_off_loop;     /* work fn ran off the loop thread */
static atomic_int work_done_on_loop; /* done ran on the loop thread */

static int query_u64(dd_str url, const char *name, uint64_t *out)
{
	char key[32];
	const char *q = memchr(url.p, '?', url.len);
	size_t kl;

	snprintf(key, sizeof(key), "%s=", name);
	kl = strlen(key);
	if (!q)
		return 0;
	for (const char *p = q + 1; p + kl <= url.p + url.len; p++)
		if (memcmp(p, key, kl) == 0) {
			uint64_t v = 0;
			for (p += kl; p < url.p + url.len && *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (uint64_t)(*p - '0');
			*out = v;
			return 1;
		}
	return 0;
}

static enum gw_http_produce produce(gw_http_ex *ex, size_t room, void *ctx)
{
	struct req_state *st = ctx;
	char buf[65536];
	size_t n = DD_MIN(room, sizeof(buf));

	if (room > GW_HTTP_OUT_WINDOW)
		atomic_fetch_add(&violations, 1);
	if (n > st->stream_n - st->produced)
		n = (size_t)(st->stream_n - st->produced);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (st->produced + i) % 26);
	if (n && gw_http_write(ex, buf, n) != DD_OK)
		return GW_PRODUCE_ERROR;
	st->produced += n;
	atomic_fetch_add(&total_produced, n);
	return st->produced == st->stream_n ? GW_PRODUCE_DONE : GW_PRODUCE_MORE;
}

static void work_fn(void *arg)
{
	struct req_state *st = arg;

	if (!pthread_equal(pthread_self(), st->req_thread))
		atomic_fetch_add(&work_off_loop, 1);
	usleep(200);
}

static void resume_done(void *arg, int rc)
{
	struct req_state *st = arg;

	if (pthread_equal(pthread_self(), st->req_thread))
		atomic_fetch_add(&work_done_on_loop, 1);
	if (rc != DD_OK)
		return;
	st->paused = 0;
	gw_http_resume(st->ex);
}

static enum gw_http_produce produce_wait(gw_http_ex *ex, size_t room, void *ctx);

static void kick_done(void *arg, int rc)
{
	struct req_state *st = arg;

	if (rc != DD_OK)
		return;
	if (gw_http_write(st->ex, "late data", 9) != DD_OK)
		atomic_fetch_add(&violations, 1);
	st->wait_phase = 2;
	gw_http_kick(st->ex);
}

static enum gw_http_produce produce_wait(gw_http_ex *ex, size_t room, void *ctx)
{
	struct req_state *st = ctx;

	(void)room;
	if (st->wait_phase == 0) {
		st->wait_phase = 1;
		if (gw_work_submit(gw_http_ex_loop(ex), work_fn, st, kick_done) != DD_OK)
			return GW_PRODUCE_ERROR;
		return GW_PRODUCE_WAIT;
	}
	if (st->wait_phase == 1)
		atomic_fetch_add(&violations, 1); /* called without a kick */
	return GW_PRODUCE_DONE;
}

/* Worker-pool shutdown: every job's done runs exactly once, with
 * DD_ESHUTDOWN for those that never ran. */
#define FLOOD_JOBS 100
static atomic_int flood_ok, flood_shutdown, flood_bad;

static void flood_fn(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
}

static void flood_done(void *arg, int rc)
{
	(void)arg;
	if (rc == DD_OK)
		atomic_fetch_add(&flood_ok, 1);
	else if (rc == DD_ESHUTDOWN)
		atomic_fetch_add(&flood_shutdown, 1);
	else
		atomic_fetch_add(&flood_bad, 1);
}

/* Answers /slow one second later, from a timer on the loop. */
static void slow_timer(evutil_socket_t fd, short what, void *arg)
{
	struct req_state *st = arg;

	(void)fd;
	(void)what;
	if (gw_http_respond_text(st->ex, 200, "text/plain", "slow but sure\n") != DD_OK)
		atomic_fetch_add(&violations, 1);
}

/* Decides on a deferred request after a trip through the worker pool. */
static void defer_done(void *arg, int rc)
{
	struct req_state *st = arg;

	if (rc != DD_OK)
		return;
	if (st->defer_reject) {
		if (gw_http_respond_text(st->ex, 403, "text/plain", "denied\n") != DD_OK)
			atomic_fetch_add(&violations, 1);
		return;
	}
	st->paused = 0;
	gw_http_resume(st->ex);
}

static void on_request(gw_http_ex *ex, void *ctx)
{
	const gw_http_req *r = gw_http_ex_req(ex);
	struct req_state *st = calloc(1, sizeof(*st));

	(void)ctx;
	assert_non_null(st);
	st->ex = ex;
	st->req_thread = pthread_self();
	{
		/* The arena lives until on_done: keep a copy of the URL there. */
		char *u = dd_arena_strndup(gw_http_ex_arena(ex), r->url.p, r->url.len);
		assert_non_null(u);
		assert_ptr_equal(gw_http_ex_arena(ex), gw_http_ex_arena(ex));
		st->url_copy = u;
	}
	gw_http_ex_set_udata(ex, st);
	if (dd_str_starts_with(r->url, "/reject")) {
		assert_int_equal(gw_http_respond_text(ex, 403, "text/plain", "no\n"), DD_OK);
	} else if (dd_str_starts_with(r->url, "/stream") ||
		   dd_str_starts_with(r->url, "/chunked")) {
		st->chunked = dd_str_starts_with(r->url, "/chunked");
		if (!query_u64(r->url, "n", &st->stream_n))
			st->stream_n = 1000;
		assert_int_equal(gw_http_respond_stream(
					 ex, 200, NULL, 0,
					 st->chunked ? -1 : (int64_t)st->stream_n,
					 produce, st),
				 DD_OK);
	} else if (dd_str_starts_with(r->url, "/defer")) {
		st->defer_reject = dd_str_starts_with(r->url, "/deferreject");
		st->paused = 1;
		gw_http_pause(ex);
		assert_int_equal(gw_work_submit(gw_http_ex_loop(ex), work_fn, st,
						defer_done), DD_OK);
	} else if (dd_str_starts_with(r->url, "/slow")) {
		struct timeval tv = {1, 0};
		st->slow = 1;
		assert_int_equal(event_base_once(gw_loop_base(gw_http_ex_loop(ex)), -1,
						 EV_TIMEOUT, slow_timer, st, &tv), 0);
	} else if (dd_str_starts_with(r->url, "/flood")) {
		for (int i = 0; i < FLOOD_JOBS; i++)
			assert_int_equal(gw_work_submit(gw_http_ex_loop(ex), flood_fn,
							NULL, flood_done), DD_OK);
		assert_int_equal(gw_http_respond_text(ex, 202, "text/plain", "ok\n"), DD_OK);
	} else if (dd_str_starts_with(r->url, "/wait")) {
		assert_int_equal(gw_http_respond_stream(ex, 200, NULL, 0, 9,
							produce_wait, st),
				 DD_OK);
	} else {
		st->pause_mode = memmem(r->url.p, r->url.len, "pause", 5) != NULL;
	}
}

static int on_body(gw_http_ex *ex, const char *p, size_t n, void *ctx)
{
	struct req_state *st = gw_http_ex_udata(ex);

	(void)ctx;
	if (st->paused)
		atomic_fetch_add(&violations, 1);
	for (size_t i = 0; i < n; i++)
		st->sum += (unsigned char)p[i];
	st->count += n;
	if (st->pause_mode) {
		st->paused = 1;
		gw_http_pause(ex);
		if (gw_work_submit(gw_http_ex_loop(ex), work_fn, st, resume_done) !=
		    DD_OK)
			return DD_ENOMEM;
	}
	return DD_OK;
}

static void on_body_end(gw_http_ex *ex, void *ctx)
{
	struct req_state *st = gw_http_ex_udata(ex);
	char body[128];

	(void)ctx;
	if (st->slow)
		return;
	snprintf(body, sizeof(body), "count=%llu sum=%llu\n",
		 (unsigned long long)st->count, (unsigned long long)st->sum);
	if (gw_http_respond_text(ex, 200, "text/plain", body) != DD_OK)
		atomic_fetch_add(&violations, 1);
}

static void on_done(gw_http_ex *ex, int ok, void *ctx)
{
	struct req_state *st = gw_http_ex_udata(ex);

	(void)ctx;
	/* still valid here (ASan would catch a use after free) */
	if (st->url_copy[0] != '/')
		atomic_fetch_add(&violations, 1);
	atomic_fetch_add(ok ? &done_ok : &done_fail, 1);
	free(gw_http_ex_udata(ex));
}

static const gw_http_handler test_handler = {
	.on_request = on_request,
	.on_body = on_body,
	.on_body_end = on_body_end,
	.on_done = on_done,
};

/* ------------------------------------------------- DDP protocol hook */

static atomic_int ddp_shutdowns, ddp_accepts, ddp_drains, ddp_closed;
static int ddp_idle_fd = -1;

static void ddp_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void ddp_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	gw_pconn_close(arg);
	atomic_fetch_add(&ddp_closed, 1);
}

static void ddp_accept(gw_pconn *c, void *ctx)
{
	struct bufferevent *bev = gw_pconn_bev(c);

	if (ctx != &ddp_accepts || gw_loop_base(gw_pconn_loop(c)) == NULL)
		atomic_fetch_add(&violations, 1);
	atomic_fetch_add(&ddp_accepts, 1);
	bufferevent_setcb(bev, ddp_read, NULL, ddp_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void ddp_shutdown(gw_pconn *c, void *ctx)
{
	(void)c;
	(void)ctx;
	atomic_fetch_add(&ddp_shutdowns, 1);
}

/* Told that shutdown began; this handler keeps the connection open, so
 * the gateway must close it after the grace time (on_shutdown). */
static void ddp_drain(gw_pconn *c, void *ctx)
{
	(void)c;
	(void)ctx;
	atomic_fetch_add(&ddp_drains, 1);
}

static const gw_proto_handler echo_handler = {
	.on_accept = ddp_accept,
	.on_shutdown = ddp_shutdown,
	.on_drain = ddp_drain,
	.ctx = &ddp_accepts,
};

/* ------------------------------------------------------------- daemon */

static gw_daemon *daemon_;
static pthread_t daemon_thread;
static unsigned s3_port, ddp_port;
static char tmpdir[64];

static void *run_daemon(void *arg)
{
	(void)arg;
	assert_int_equal(gw_daemon_run(daemon_, NULL), DD_OK);
	return NULL;
}

static int setup(void **state)
{
	static gw_config cfg;
	gw_config_err err;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-test-http.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	gw_config_defaults(&cfg);
	assert_int_equal(gw_config_set(&cfg, "server", "data_dir", tmpdir, "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "s3", "listen", "127.0.0.1:0", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "ddp", "listen", "127.0.0.1:0", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "admin", "listen", "127.0.0.1:0", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "server", "io_threads", "2", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "server", "worker_threads", "2", "t", &err), DD_OK);
	dd_log_set_level(DD_LOG_WARN);
	assert_int_equal(gw_daemon_new(&cfg, &daemon_), DD_OK);
	gw_daemon_set_s3_handler(daemon_, &test_handler, NULL);
	gw_daemon_set_ddp_handler(daemon_, &echo_handler);
	ddp_port = gw_daemon_port(daemon_, GW_LISTENER_DDP);
	s3_port = gw_daemon_port(daemon_, GW_LISTENER_S3);
	assert_true(s3_port > 0);
	assert_int_equal(pthread_create(&daemon_thread, NULL, run_daemon, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	gw_daemon_stop(daemon_);
	pthread_join(daemon_thread, NULL);
	gw_daemon_free(daemon_);
	/* The DDP connection left open got on_shutdown; the closed one not. */
	assert_int_equal(atomic_load(&ddp_drains), 1);
	/* 100 x 200 ms on 2 workers outlast the 5 s grace time. */
	assert_int_equal(atomic_load(&flood_ok) + atomic_load(&flood_shutdown), FLOOD_JOBS);
	assert_true(atomic_load(&flood_ok) > 0);
	assert_true(atomic_load(&flood_shutdown) > 0);
	assert_int_equal(atomic_load(&flood_bad), 0);
	assert_int_equal(atomic_load(&ddp_shutdowns), 1);
	if (ddp_idle_fd >= 0)
		close(ddp_idle_fd);
	gw_metrics_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(atomic_load(&violations), 0);
	return 0;
}

/* ------------------------------------------------------------- client */

static int connect_port(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	/* The listener may need a moment after gw_daemon_run starts. */
	for (int i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0; i++) {
		assert_true(i < 100);
		usleep(20000);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int connect_s3(void)
{
	return connect_port(s3_port);
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		c += w;
		n -= (size_t)w;
	}
}

/* Reads until the buffer holds "\r\n\r\n"; returns head length incl. it. */
static size_t read_head(int fd, dd_buf *in)
{
	char tmp[4096];

	for (;;) {
		char *e = in->data ? memmem(in->data, in->len, "\r\n\r\n", 4) : NULL;
		ssize_t r;
		if (e)
			return (size_t)(e - in->data) + 4;
		r = recv(fd, tmp, sizeof(tmp), 0);
		assert_true(r > 0);
		assert_int_equal(dd_buf_append(in, tmp, (size_t)r), DD_OK);
	}
}

static void read_more(int fd, dd_buf *in, size_t want)
{
	char tmp[65536];

	while (in->len < want) {
		ssize_t r = recv(fd, tmp, DD_MIN(sizeof(tmp), want - in->len), 0);
		assert_true(r > 0);
		assert_int_equal(dd_buf_append(in, tmp, (size_t)r), DD_OK);
	}
}

static int status_of(const dd_buf *in)
{
	return atoi(in->data + 9);
}

static size_t content_length(const char *head, size_t hlen)
{
	const char *p = memmem(head, hlen, "Content-Length: ", 16);

	assert_non_null(p);
	return (size_t)strtoull(p + 16, NULL, 10);
}

/* Reads one response with Content-Length into body (NUL-terminated). */
static int read_response(int fd, dd_buf *in, char *body, size_t cap)
{
	size_t hl = read_head(fd, in), bl = content_length(in->data, hl);
	int status = status_of(in);

	read_more(fd, in, hl + bl);
	assert_true(bl < cap);
	memcpy(body, in->data + hl, bl);
	body[bl] = '\0';
	dd_buf_consume(in, hl + bl);
	return status;
}

static int peer_closed(int fd)
{
	char c;

	return recv(fd, &c, 1, 0) == 0;
}

/* -------------------------------------------------------------- tests */

static void test_expect_continue_accepted(void **state)
{
	static const char head[] = "PUT /sink HTTP/1.1\r\nHost: b.s3\r\n"
				   "Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n";
	char body[1000], resp[256];
	dd_buf in;
	size_t hl;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 1 << 20);
	memset(body, 'x', sizeof(body));
	send_all(fd, head, sizeof(head) - 1);
	hl = read_head(fd, &in);
	assert_int_equal(hl, 25);
	assert_memory_equal(in.data, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	dd_buf_consume(&in, hl);
	send_all(fd, body, sizeof(body));
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
	assert_string_equal(resp, "count=1000 sum=120000\n");
	/* keep-alive: a second request on the same connection */
	send_all(fd, "GET /stream?n=10 HTTP/1.1\r\nHost: b\r\n\r\n", 38);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
	assert_string_equal(resp, "abcdefghij");
	close(fd);
	dd_buf_release(&in);
}

static void test_expect_continue_deferred(void **state)
{
	static const char head[] = "PUT /defer HTTP/1.1\r\nHost: b\r\n"
				   "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n";
	static const char rhead[] = "PUT /deferreject HTTP/1.1\r\nHost: b\r\n"
				    "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n";
	char resp[64];
	dd_buf in;
	size_t hl;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 1 << 20);
	send_all(fd, head, sizeof(head) - 1);
	hl = read_head(fd, &in);
	assert_int_equal(hl, 25);
	assert_memory_equal(in.data, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	dd_buf_consume(&in, hl);
	send_all(fd, "abcd", 4);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
	assert_string_equal(resp, "count=4 sum=394\n");
	close(fd);
	/* refused after the deferred decision: no 100, error, close */
	fd = connect_s3();
	send_all(fd, rhead, sizeof(rhead) - 1);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 403);
	assert_string_equal(resp, "denied\n");
	assert_null(memmem(in.data, in.len, "100 Continue", 12));
	assert_true(peer_closed(fd));
	close(fd);
	dd_buf_release(&in);
}

/*
 * An empty body with "Expect: 100-continue" (botocore's empty PutObject)
 * still gets "100 Continue" before the answer. botocore, given a final
 * answer instead, parses the next response on that connection against the
 * stale status line (boto/botocore#3755); a refusal without 100 closes.
 */
static void test_expect_continue_empty_body(void **state)
{
	static const char head[] = "PUT /sink HTTP/1.1\r\nHost: b\r\n"
				   "Content-Length: 0\r\nExpect: 100-continue\r\n\r\n";
	static const char rhead[] = "PUT /reject HTTP/1.1\r\nHost: b\r\n"
				    "Content-Length: 0\r\nExpect: 100-continue\r\n\r\n";
	char resp[256];
	dd_buf in;
	size_t hl;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 1 << 20);
	for (int round = 0; round < 2; round++) { /* twice: keep-alive holds */
		send_all(fd, head, sizeof(head) - 1);
		hl = read_head(fd, &in);
		assert_int_equal(hl, 25);
		assert_memory_equal(in.data, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		dd_buf_consume(&in, hl);
		assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
		assert_string_equal(resp, "count=0 sum=0\n");
	}
	close(fd);
	fd = connect_s3();
	send_all(fd, rhead, sizeof(rhead) - 1);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 403);
	assert_null(memmem(in.data, in.len, "100 Continue", 12));
	assert_true(peer_closed(fd));
	close(fd);
	dd_buf_release(&in);
}

static void test_reject_before_body(void **state)
{
	static const char head[] = "PUT /reject HTTP/1.1\r\nHost: b\r\n"
				   "Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n";
	char resp[64];
	dd_buf in;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 1 << 20);
	send_all(fd, head, sizeof(head) - 1);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 403);
	assert_null(memmem(in.data, in.len, "100 Continue", 12));
	assert_true(peer_closed(fd));
	close(fd);
	dd_buf_release(&in);
}

static void test_chunked_upload(void **state)
{
	static const char req[] = "POST /sink HTTP/1.1\r\nHost: b\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"
				  "5\r\nhello\r\n"
				  "1;ext=1\r\n \r\n"
				  "a\r\n0123456789\r\n"
				  "0\r\n\r\n";
	char resp[128], expect[128];
	unsigned sum = 0;
	dd_buf in;
	int fd = connect_s3();

	(void)state;
	for (const char *p = "hello 0123456789"; *p; p++)
		sum += (unsigned char)*p;
	snprintf(expect, sizeof(expect), "count=16 sum=%u\n", sum);
	dd_buf_init(&in, 1 << 20);
	send_all(fd, req, sizeof(req) - 1);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
	assert_string_equal(resp, expect);
	close(fd);
	dd_buf_release(&in);
}

static void test_backpressure_pause_resume(void **state)
{
	const size_t total = 4 << 20;
	char *body = malloc(total), head[160], resp[128], expect[128];
	unsigned long long sum = 0;
	dd_buf in;
	int fd = connect_s3(), n;

	(void)state;
	assert_non_null(body);
	for (size_t i = 0; i < total; i++) {
		body[i] = (char)(i * 7 + 3);
		sum += (unsigned char)body[i];
	}
	snprintf(expect, sizeof(expect), "count=%zu sum=%llu\n", total, sum);
	n = snprintf(head, sizeof(head),
		     "PUT /sink?pause=1 HTTP/1.1\r\nHost: b\r\nContent-Length: %zu\r\n\r\n",
		     total);
	dd_buf_init(&in, 1 << 20);
	atomic_store(&work_off_loop, 0);
	atomic_store(&work_done_on_loop, 0);
	send_all(fd, head, (size_t)n);
	send_all(fd, body, total);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
	assert_string_equal(resp, expect);
	/* Every body piece went through the worker pool and back. */
	assert_true(atomic_load(&work_off_loop) > 0);
	assert_int_equal(atomic_load(&work_off_loop), atomic_load(&work_done_on_loop));
	close(fd);
	free(body);
	dd_buf_release(&in);
}

static void test_stream_bounded(void **state)
{
	const uint64_t n = 64ull << 20;
	char req[128];
	dd_buf in;
	size_t hl, got;
	uint64_t produced_at_stall;
	int fd = connect_s3(), len;
	char *tmp = malloc(1 << 20);

	(void)state;
	assert_non_null(tmp);
	atomic_store(&total_produced, 0);
	len = snprintf(req, sizeof(req), "GET /stream?n=%llu HTTP/1.1\r\nHost: b\r\n\r\n",
		       (unsigned long long)n);
	dd_buf_init(&in, 1 << 20);
	send_all(fd, req, (size_t)len);
	hl = read_head(fd, &in);
	assert_int_equal(status_of(&in), 200);
	assert_int_equal(content_length(in.data, hl), n);
	got = in.len - hl;
	/* Stall the reader: the server must stop producing, not buffer. */
	usleep(500 * 1000);
	produced_at_stall = atomic_load(&total_produced);
	/* window + kernel socket buffers, far below the 64 MiB body */
	assert_true(produced_at_stall < got + GW_HTTP_OUT_WINDOW + (24u << 20));
	while (got < n) {
		ssize_t r = recv(fd, tmp, 1 << 20, 0);
		assert_true(r > 0);
		for (ssize_t i = 0; i < r; i += 4099)
			assert_int_equal(tmp[i], (char)('a' + (got + (size_t)i) % 26));
		got += (size_t)r;
	}
	assert_int_equal(got, n);
	assert_int_equal(atomic_load(&total_produced), n);
	close(fd);
	free(tmp);
	dd_buf_release(&in);
}

static void test_chunked_response(void **state)
{
	dd_buf in;
	size_t hl, total = 0, pos;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 4 << 20);
	send_all(fd, "GET /chunked?n=300000 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n", 62);
	hl = read_head(fd, &in);
	assert_non_null(memmem(in.data, hl, "Transfer-Encoding: chunked", 26));
	for (;;) { /* read all until close */
		char tmp[65536];
		ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
		assert_true(r >= 0);
		if (r == 0)
			break;
		assert_int_equal(dd_buf_append(&in, tmp, (size_t)r), DD_OK);
	}
	pos = hl;
	for (;;) {
		char *end;
		unsigned long sz = strtoul(in.data + pos, &end, 16);
		assert_memory_equal(end, "\r\n", 2);
		pos = (size_t)(end - in.data) + 2;
		if (sz == 0)
			break;
		assert_true(pos + sz + 2 <= in.len);
		for (size_t i = 0; i < sz; i++)
			assert_int_equal(in.data[pos + i], (char)('a' + (total + i) % 26));
		total += sz;
		pos += sz;
		assert_memory_equal(in.data + pos, "\r\n", 2);
		pos += 2;
	}
	assert_int_equal(total, 300000);
	assert_int_equal(in.len, pos + 2); /* final CRLF after the last chunk */
	close(fd);
	dd_buf_release(&in);
}

static void test_wait_and_kick(void **state)
{
	char resp[64];
	dd_buf in;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 1 << 20);
	send_all(fd, "GET /wait HTTP/1.1\r\nHost: b\r\n\r\n", 31);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 200);
	assert_string_equal(resp, "late data");
	close(fd);
	dd_buf_release(&in);
}

static void test_abort_mid_body_calls_done(void **state)
{
	static const char head[] = "PUT /sink HTTP/1.1\r\nHost: b\r\nContent-Length: 100000\r\n\r\nabc";
	int before = atomic_load(&done_fail);
	int fd = connect_s3();

	(void)state;
	send_all(fd, head, sizeof(head) - 1);
	usleep(100 * 1000);
	close(fd);
	for (int i = 0; i < 200 && atomic_load(&done_fail) == before; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&done_fail), before + 1);
}

static void test_ddp_hook(void **state)
{
	char buf[16];
	int fd = connect_port(ddp_port);
	ssize_t r;

	(void)state;
	send(fd, "hello", 5, MSG_NOSIGNAL);
	r = recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(r, 5);
	assert_memory_equal(buf, "hello", 5);
	close(fd); /* the handler closes its side with gw_pconn_close */
	for (int i = 0; i < 500 && atomic_load(&ddp_closed) == 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&ddp_closed), 1);
	ddp_idle_fd = connect_port(ddp_port); /* left open for shutdown */
	send(ddp_idle_fd, "x", 1, MSG_NOSIGNAL);
	assert_int_equal(recv(ddp_idle_fd, buf, 1, 0), 1);
	assert_int_equal(atomic_load(&ddp_accepts), 2);
}

/* Runs last: its jobs are still queued when teardown stops the daemon. */
static void test_work_flood(void **state)
{
	char resp[16];
	dd_buf in;
	int fd = connect_s3();

	(void)state;
	dd_buf_init(&in, 1 << 20);
	send_all(fd, "GET /flood HTTP/1.1\r\nHost: b\r\n\r\n", 32);
	assert_int_equal(read_response(fd, &in, resp, sizeof(resp)), 202);
	close(fd);
	dd_buf_release(&in);
}

/* Runs very last: stops the daemon while a request is in flight. */
static void test_inflight_request_survives_stop(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s3_port)};
	char resp[64];
	dd_buf in;
	size_t hl;
	int fd = connect_s3(), fd2;

	(void)state;
	dd_buf_init(&in, 1 << 20);
	send_all(fd, "GET /slow HTTP/1.1\r\nHost: b\r\n\r\n", 31);
	usleep(200 * 1000);
	gw_daemon_stop(daemon_);
	hl = read_head(fd, &in);
	assert_int_equal(status_of(&in), 200);
	assert_non_null(memmem(in.data, hl, "Connection: close", 17));
	read_more(fd, &in, hl + 14);
	memcpy(resp, in.data + hl, 14);
	resp[14] = '\0';
	assert_string_equal(resp, "slow but sure\n");
	assert_true(peer_closed(fd));
	close(fd);
	/* The listeners are gone: new connections are refused. */
	fd2 = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(connect(fd2, (struct sockaddr *)&sa, sizeof(sa)) < 0);
	close(fd2);
	dd_buf_release(&in);
}

/* -------------------------------------------------------- pure parsing */

static void test_parse_bytes(void **state)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				  "PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
	char big[3000];
	size_t n = 0;
	int len;

	(void)state;
	assert_int_equal(gw_http_parse_bytes(two, sizeof(two) - 1, 4096, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gw_http_parse_bytes("BLAH\r\n\r\n", 8, 4096, &n), 400);
	len = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %02000d\r\n\r\n", 0);
	assert_int_equal(gw_http_parse_bytes(big, (size_t)len, 4096, &n), 0);
	assert_int_equal(gw_http_parse_bytes(big, (size_t)len, 1024, &n), 431);
	assert_int_equal(gw_http_parse_bytes(
				 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 51,
				 4096, &n), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_continue_accepted),
		cmocka_unit_test(test_expect_continue_deferred),
		cmocka_unit_test(test_expect_continue_empty_body),
		cmocka_unit_test(test_reject_before_body),
		cmocka_unit_test(test_chunked_upload),
		cmocka_unit_test(test_backpressure_pause_resume),
		cmocka_unit_test(test_stream_bounded),
		cmocka_unit_test(test_chunked_response),
		cmocka_unit_test(test_wait_and_kick),
		cmocka_unit_test(test_abort_mid_body_calls_done),
		cmocka_unit_test(test_ddp_hook),
		cmocka_unit_test(test_parse_bytes),
		cmocka_unit_test(test_work_flood),
		cmocka_unit_test(test_inflight_request_survives_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
