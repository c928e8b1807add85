/*
 * tests/unit/test_gateway_lane.c - the daemon's long lane
 * (gw_work_submit_long) and its cancel flag, on a real gw_daemon with one
 * pool worker and a test handler on the S3 listener:
 *   GET /lane  a long-lane job that runs until the test releases it or the
 *              daemon's cancel flag is set; done() answers 200 "released"
 *              or 503 "cancelled";
 *   GET /pool  a pool job; done() answers 200.
 * A job on the lane must not hold the pool's only worker, and stopping
 * the daemon must end a running lane job (through the flag) and still
 * answer its client, with done() exactly once per job.
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
#include <unistd.h>

#include "gateway/http.h"

/* ------------------------------------------------------------ handler */

struct job_state {
	int refs;          /* the exchange + the job (loop thread only) */
	gw_http_ex *ex;    /* NULL once on_done ran */
	const atomic_int *cancel;
	int lane;
	int cancelled;     /* the lane job stopped because of the flag */
};

static atomic_int release_lane;  /* the test lets lane jobs end */
static atomic_int lane_running;  /* lane jobs inside fn */
static atomic_int lane_submitted, lane_dones, pool_dones, double_done;
static atomic_int lane_cancelled;
static pthread_t lane_tid, pool_tid;
static const atomic_int *seen_cancel; /* the daemon's flag */

static void state_unref(struct job_state *st)
{
	if (--st->refs == 0)
		free(st);
}

static void lane_fn(void *arg)
{
	struct job_state *st = arg;

	lane_tid = pthread_self();
	atomic_fetch_add(&lane_running, 1);
	/* bounded (30 s), so a broken cancel fails the test, not hangs it */
	for (int i = 0; i < 30000 && !atomic_load(&release_lane); i++) {
		if (atomic_load(st->cancel)) {
			st->cancelled = 1;
			break;
		}
		usleep(1000);
	}
	atomic_fetch_sub(&lane_running, 1);
}

static void pool_fn(void *arg)
{
	(void)arg;
	pool_tid = pthread_self();
}

static void job_done(void *arg, int rc)
{
	struct job_state *st = arg;

	if (st->refs != 2)
		atomic_fetch_add(&double_done, 1);
	atomic_fetch_add(st->lane ? &lane_dones : &pool_dones, 1);
	if (st->cancelled)
		atomic_fetch_add(&lane_cancelled, 1);
	/* rc != DD_OK: the job never ran, the loops may be gone already. */
	if (rc == DD_OK && st->ex &&
	    gw_http_respond_text(st->ex, st->cancelled ? 503 : 200, "text/plain",
				 st->cancelled ? "cancelled" :
				 st->lane ? "released" : "pool") != DD_OK)
		atomic_fetch_add(&double_done, 1);
	state_unref(st);
}

static void on_request(gw_http_ex *ex, void *ctx)
{
	const gw_http_req *r = gw_http_ex_req(ex);
	struct job_state *st = calloc(1, sizeof(*st));
	gw_loop *loop = gw_http_ex_loop(ex);
	int rc;

	(void)ctx;
	assert_non_null(st);
	st->refs = 2;
	st->ex = ex;
	st->lane = dd_str_starts_with(r->url, "/lane");
	st->cancel = seen_cancel = gw_work_cancel_flag(loop);
	gw_http_ex_set_udata(ex, st);
	if (st->lane) {
		rc = gw_work_submit_long(loop, lane_fn, st, job_done);
		if (rc == DD_OK)
			atomic_fetch_add(&lane_submitted, 1);
	} else {
		rc = gw_work_submit(loop, pool_fn, st, job_done);
	}
	if (rc != DD_OK) {
		st->refs--;
		if (gw_http_respond_text(ex, 500, "text/plain", "submit") != DD_OK)
			atomic_fetch_add(&double_done, 1);
	}
}

static void on_done(gw_http_ex *ex, int ok, void *ctx)
{
	struct job_state *st = gw_http_ex_udata(ex);

	(void)ok;
	(void)ctx;
	st->ex = NULL;
	state_unref(st);
}

static const gw_http_handler lane_handler = {
	.on_request = on_request,
	.on_done = on_done,
};

/* ------------------------------------------------------------- daemon */

static gw_daemon *daemon_;
static pthread_t daemon_thread;
static int daemon_joined;
static unsigned s3_port;
static char tmpdir[64];

static void *run_daemon(void *arg)
{
	(void)arg;
	assert_int_equal(gw_daemon_run(daemon_, NULL), DD_OK);
	return NULL;
}

/* A daemon with one I/O loop and one pool worker, run in a thread. */
static int setup(void **state)
{
	static gw_config cfg;
	gw_config_err err;

	(void)state;
	atomic_store(&release_lane, 0);
	atomic_store(&lane_running, 0);
	atomic_store(&lane_submitted, 0);
	atomic_store(&lane_dones, 0);
	atomic_store(&pool_dones, 0);
	atomic_store(&lane_cancelled, 0);
	atomic_store(&double_done, 0);
	daemon_joined = 0;
	seen_cancel = NULL;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-test-lane.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	gw_config_defaults(&cfg);
	assert_int_equal(gw_config_set(&cfg, "server", "data_dir", tmpdir, "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "s3", "listen", "127.0.0.1:0", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "ddp", "listen", "127.0.0.1:0", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "admin", "listen", "127.0.0.1:0", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "server", "io_threads", "1", "t", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "server", "worker_threads", "1", "t", &err), DD_OK);
	dd_log_set_level(DD_LOG_WARN);
	assert_int_equal(gw_daemon_new(&cfg, &daemon_), DD_OK);
	gw_daemon_set_s3_handler(daemon_, &lane_handler, NULL);
	s3_port = gw_daemon_port(daemon_, GW_LISTENER_S3);
	assert_int_equal(pthread_create(&daemon_thread, NULL, run_daemon, NULL), 0);
	return 0;
}

static void stop_daemon(void)
{
	if (daemon_joined)
		return;
	gw_daemon_stop(daemon_);
	pthread_join(daemon_thread, NULL);
	daemon_joined = 1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	atomic_store(&release_lane, 1);
	stop_daemon();
	gw_daemon_free(daemon_);
	gw_metrics_shutdown();
	/* done() exactly once per submitted job, never twice. */
	assert_int_equal(atomic_load(&lane_dones), atomic_load(&lane_submitted));
	assert_int_equal(atomic_load(&double_done), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ------------------------------------------------------------- client */

static int connect_s3(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s3_port)};
	struct timeval tv = {20, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0; i++) {
		assert_true(i < 100);
		usleep(20000);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_get(int fd, const char *path)
{
	char req[128];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);

	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Reads one whole response (it is small); returns the status, body in
 * body (NUL-terminated). Fails the test on a timeout or a closed socket. */
static int read_response(int fd, char *body, size_t cap)
{
	char buf[4096];
	size_t len = 0;
	const char *e;

	for (;;) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(r > 0);
		len += (size_t)r;
		buf[len] = '\0';
		if ((e = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strstr(buf, "Content-Length: ");
			size_t blen;
			assert_non_null(cl);
			blen = (size_t)strtoull(cl + 16, NULL, 10);
			if (len >= (size_t)(e + 4 - buf) + blen) {
				assert_true(blen < cap);
				memcpy(body, e + 4, blen);
				body[blen] = '\0';
				return atoi(buf + 9);
			}
		}
		assert_true(len < sizeof(buf) - 1);
	}
}

static void wait_lane_running(void)
{
	for (int i = 0; atomic_load(&lane_running) == 0; i++) {
		assert_true(i < 2000);
		usleep(5000);
	}
}

/* -------------------------------------------------------------- tests */

/* The pool's only worker stays free while a lane job runs. */
static void test_lane_leaves_pool_free(void **state)
{
	int lane_fd = connect_s3();
	char body[64];

	(void)state;
	send_get(lane_fd, "/lane");
	wait_lane_running();
	for (int i = 0; i < 3; i++) {
		int fd = connect_s3();
		send_get(fd, "/pool");
		/* would time out if the pool job waited for the lane job */
		assert_int_equal(read_response(fd, body, sizeof(body)), 200);
		assert_string_equal(body, "pool");
		close(fd);
	}
	assert_int_equal(atomic_load(&lane_running), 1); /* still running */
	assert_int_equal(atomic_load(&pool_dones), 3);
	assert_false(pthread_equal(lane_tid, pool_tid));
	atomic_store(&release_lane, 1);
	assert_int_equal(read_response(lane_fd, body, sizeof(body)), 200);
	assert_string_equal(body, "released");
	assert_int_equal(atomic_load(&lane_cancelled), 0);
	close(lane_fd);
}

/* Stopping the daemon sets the cancel flag: the running lane job ends and
 * its client still gets the answer (503); a job queued behind it gets
 * done() once too. */
static void test_stop_cancels_lane_job(void **state)
{
	int fd1 = connect_s3(), fd2 = connect_s3();
	char body[64];
	int st2;

	(void)state;
	send_get(fd1, "/lane");
	wait_lane_running();
	send_get(fd2, "/lane"); /* queued behind the first */
	for (int i = 0; atomic_load(&lane_submitted) < 2; i++) {
		assert_true(i < 2000);
		usleep(5000);
	}
	assert_non_null(seen_cancel);
	assert_int_equal(atomic_load(seen_cancel), 0);
	stop_daemon();
	assert_int_not_equal(atomic_load(seen_cancel), 0);
	assert_int_equal(read_response(fd1, body, sizeof(body)), 503);
	assert_string_equal(body, "cancelled");
	/* The queued job ran after the flag was set (503) or, if the loops
	 * had stopped, got done(DD_ESHUTDOWN) and its connection closed. */
	{
		char c;
		ssize_t r = recv(fd2, &c, 1, MSG_PEEK);
		st2 = r > 0 ? read_response(fd2, body, sizeof(body)) : 0;
		assert_true(st2 == 503 || (r == 0 && st2 == 0));
	}
	assert_int_equal(atomic_load(&lane_dones), 2);
	assert_int_equal(atomic_load(&release_lane), 0); /* never released */
	close(fd1);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lane_leaves_pool_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_cancels_lane_job, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
