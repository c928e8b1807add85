/*
 * gateway/admin.c - the admin listener's handler: GET /health and GET
 * /metrics (unauthenticated, for monitoring; the admin listener is on
 * loopback by default), and the authenticated admin API under /v1/:
 * AWS SigV4 (service "s3", any region, verified by s3api's
 * s3_auth_check against the store's users) by a user of role admin.
 * Routes and operations: admin_api.c; docs/OPERATIONS.md.
 *
 * Threads: the loop thread only parses, copies the request head and sends
 * answers. Authentication and the operation run in a worker-pool job
 * (catalog commits wait for fsync); a verify runs on the daemon's long lane
 * (gw_work_submit_long), one at a time, and stops early when the daemon
 * shuts down (503).
 */
#include "gateway/gw_int.h"
#include "gateway/admin.h"
#include "gateway/s3_glue.h"
#include "s3api/s3.h"

#include <dirent.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int path_is(dd_str url, const char *path)
{
	size_t n = strlen(path);

	/* The path ends at '?' (a query string is ignored). */
	return url.len >= n && memcmp(url.p, path, n) == 0 &&
	       (url.len == n || url.p[n] == '?');
}

static int json_escaped(dd_buf *b, const char *s)
{
	int rc = DD_OK;

	for (; *s && rc == DD_OK; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = dd_buf_appendf(b, "\\%c", c);
		else if (c < 0x20)
			rc = dd_buf_appendf(b, "\\u%04x", c);
		else
			rc = dd_buf_append(b, s, 1);
	}
	return rc;
}

/*
 * Fills b (JSON, or "key: value" lines when text); returns DD_OK and sets
 * *ok to whether the data dir is usable.
 */
static int health_doc(const struct gw_admin_ctx *a, dd_buf *b, int text,
		      int *ok)
{
	struct statvfs sv;
	unsigned long long free_bytes = 0;
	const char *state = "ok";
	int64_t up = (dd_mono_ns() - gw_start_mono_ns()) / 1000000000;
	int rc;

	if (statvfs(a->data_dir, &sv) == 0)
		free_bytes = (unsigned long long)sv.f_bavail * sv.f_frsize;
	else
		state = "error";
	if (access(a->data_dir, R_OK | W_OK | X_OK) != 0)
		state = "error";
	*ok = strcmp(state, "ok") == 0;
	if (text) {
		gw_aout o;
		gw_aout_init(&o, b, 1);
		gw_aout_str(&o, "status", *ok ? "ok" : "degraded");
		gw_aout_str(&o, "version", DD_VERSION);
		gw_aout_u64(&o, "uptime_seconds", (uint64_t)up);
		gw_aout_str(&o, "data_dir", a->data_dir);
		gw_aout_str(&o, "data_dir_state", state);
		gw_aout_u64(&o, "free_bytes", free_bytes);
		return gw_aout_end(&o);
	}
	rc = dd_buf_appendf(b,
			    "{\"status\":\"%s\",\"version\":\"%s\","
			    "\"uptime_seconds\":%lld,\"data_dir\":{\"path\":\"",
			    strcmp(state, "ok") == 0 ? "ok" : "degraded",
			    DD_VERSION, (long long)up);
	if (rc == DD_OK)
		rc = json_escaped(b, a->data_dir);
	if (rc == DD_OK)
		rc = dd_buf_appendf(b, "\",\"state\":\"%s\",\"free_bytes\":%llu}}\n",
				    state, free_bytes);
	return rc;
}

/* Standard process_* gauges (Prometheus client conventions), read now. */
static void update_process_metrics(void)
{
	gw_metrics *m = gw_metrics_default();
	gw_metric *rss = gw_metric_register(m, GW_GAUGE, "process_resident_memory_bytes",
					    "Resident memory size in bytes.", NULL, NULL, 0);
	gw_metric *fds = gw_metric_register(m, GW_GAUGE, "process_open_fds",
					    "Number of open file descriptors.", NULL, NULL, 0);
	long pages = 0, resident = 0, n = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	DIR *d;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) == 2)
			gw_metric_set(rss, NULL, (double)resident * (double)sysconf(_SC_PAGESIZE));
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while (readdir(d))
			n++;
		closedir(d);
		gw_metric_set(fds, NULL, (double)(n - 3)); /* ., .., the dir's fd */
	}
}

static void answer(gw_http_ex *ex, int status, const char *ctype, dd_buf *b)
{
	gw_http_header h = {DD_STR_LIT("Content-Type"), dd_str_c(ctype)};

	if (gw_http_respond(ex, status, &h, 1, b->data, b->len) != DD_OK)
		dd_log(DD_LOG_WARN, "admin: cannot send response");
}

/* 1 when the client asked for text/plain (dedupctl without --json). */
static int accepts_text(const gw_http_req *r)
{
	dd_str v = gw_http_header_get(r, "Accept");

	for (size_t i = 0; i + 10 <= v.len; i++)
		if (dd_str_casecmp_c((dd_str){v.p + i, 10}, "text/plain") == 0)
			return 1;
	return 0;
}

/* GET /health and GET /metrics: unauthenticated, for monitoring. */
static void monitoring(gw_http_ex *ex, const struct gw_admin_ctx *a,
		       const gw_http_req *r)
{
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	dd_buf b;

	dd_buf_init(&b, 16 * 1024 * 1024);
	if (!get) {
		if (dd_buf_append_str(&b, "method not allowed\n") == DD_OK)
			answer(ex, 405, "text/plain", &b);
	} else if (path_is(r->url, "/health")) {
		int ok = 0, text = accepts_text(r);
		/* 503 when degraded, so load balancers and probes see it. */
		if (health_doc(a, &b, text, &ok) == DD_OK)
			answer(ex, ok ? 200 : 503, text ? "text/plain; charset=utf-8" :
			       "application/json", &b);
		else
			answer(ex, 500, "text/plain", &b);
	} else {
		int64_t up = (dd_mono_ns() - gw_start_mono_ns()) / 1000000000;
		gw_metric *m = gw_metric_register(
			gw_metrics_default(), GW_GAUGE, "dedupd_uptime_seconds",
			"Seconds since dedupd started.", NULL, NULL, 0);
		gw_metric_set(m, NULL, (double)up);
		update_process_metrics();
		if (gw_metrics_render(gw_metrics_default(), &b) == DD_OK)
			answer(ex, 200, "text/plain; version=0.0.4", &b);
		else
			answer(ex, 500, "text/plain", &b);
	}
	dd_buf_release(&b);
}

/* ------------------------------------------------------ the /v1/ API */

static seg_store *admin_store;
static atomic_int verify_running;

void gw_admin_set_store(seg_store *st)
{
	admin_store = st;
}

#define VERIFY_MAX_PROBLEMS 100

/*
 * Per-exchange state of an API request. No store work runs on the loop
 * thread: authentication and the operation (catalog commits wait for
 * fsync) run in a pool job, a verify in a long-lane job. Two owners while
 * a job is out: the exchange (until on_done) and the job (until its
 * done(), on the loop thread). While a job is out, the loop thread touches
 * only refs, ex, responded and body; the job owns the rest.
 */
struct areq {
	int refs;
	gw_http_ex *ex;  /* NULL once on_done ran */
	uint64_t body;   /* body bytes received (and dropped) */
	int responded;
	int started;     /* the API job was submitted */
	int text;        /* Accept: text/plain */
	/* the request head, copied: the exchange may end while a job runs */
	gw_s3_head h;
	char peer[64];
	/* results of the API job */
	int status;      /* HTTP status of out */
	dd_buf out;      /* the answer (user create: holds the new secret) */
	int run_verify;  /* an authenticated verify request: start it */
	int deep;        /* verify */
	const atomic_int *cancel; /* the daemon's, for seg_verify */
	int verify_rc;
	seg_verify_report rep;
	dd_buf problems; /* NUL-separated lines, first VERIFY_MAX_PROBLEMS */
	unsigned nproblems;
};

/* Wipes and frees the answer buffer (it may hold a new user's secret). */
static void out_release(struct areq *q)
{
	if (q->out.data)
		OPENSSL_cleanse(q->out.data, q->out.cap);
	dd_buf_release(&q->out);
}

static void areq_unref(struct areq *q)
{
	if (q && --q->refs == 0) {
		out_release(q);
		dd_buf_release(&q->problems);
		gw_s3_head_release(&q->h);
		free(q);
	}
}

/*
 * Sends the document in b with status and, when extra is non-NULL, one more
 * header (name, value). Loop thread only.
 */
static void api_send(struct areq *q, int status, dd_buf *b,
		     const gw_http_header *extra)
{
	gw_http_header h[2] = {
		{DD_STR_LIT("Content-Type"),
		 q->text ? DD_STR_LIT("text/plain; charset=utf-8") :
			   DD_STR_LIT("application/json")},
	};

	if (!q->ex || q->responded)
		return;
	q->responded = 1;
	if (extra)
		h[1] = *extra;
	if (gw_http_respond(q->ex, status, h, extra ? 2 : 1, b->data, b->len) != DD_OK)
		dd_log(DD_LOG_WARN, "admin: cannot send response");
}

/* Answers an error document at once (loop thread). */
static void api_fail(struct areq *q, int status, const char *code,
		     const char *msg)
{
	dd_buf b;
	gw_aout o;

	dd_buf_init(&b, 64 * 1024);
	gw_aout_init(&o, &b, q->text);
	gw_admin_error(&o, status, code, msg);
	if (gw_aout_end(&o) == DD_OK)
		api_send(q, status, &b, NULL);
	dd_buf_release(&b);
}

/* In the API job: makes an error document the answer (sent by done). */
static void job_fail(struct areq *q, int status, const char *code,
		     const char *msg)
{
	gw_aout o;

	dd_buf_reset(&q->out);
	gw_aout_init(&o, &q->out, q->text);
	gw_admin_error(&o, status, code, msg);
	/* Too large cannot happen for an error; on ENOMEM the body is empty. */
	if (gw_aout_end(&o) != DD_OK)
		dd_buf_reset(&q->out);
	q->status = status;
}

/* s3_secret_fn over the store's users; keeps the user found in ctx. */
static int lookup_secret(void *ctx, dd_str ak, char *secret, size_t cap)
{
	return seg_user_secret(admin_store, ak, ctx, secret, cap);
}

/*
 * In the API job: verifies the request's SigV4 signature (service "s3",
 * any region) with s3api and requires an admin-role user. Fills *t (in
 * arena) and *caller. Returns 0, or the HTTP status of the error answer
 * set with job_fail.
 */
static int authenticate(struct areq *q, dd_arena *arena, s3_target *t,
			gw_admin_caller *caller)
{
	const s3_request *req = &q->h.req;
	s3_auth auth;
	seg_user u;
	int e, status = 0;

	memset(&u, 0, sizeof(u));
	memset(&auth, 0, sizeof(auth));
	e = s3_target_parse(arena, q->h.req.target, q->h.host, DD_STR_LIT(""), t);
	if (e != S3_OK) {
		job_fail(q, 400, "InvalidURI", s3_err_info(e)->message);
		return 400;
	}
	e = s3_auth_check(req, t, lookup_secret, &u, (int64_t)time(NULL), &auth);
	s3_auth_clear(&auth);
	snprintf(caller->name, sizeof(caller->name), "%s", u.name);
	if (e == S3_OK && auth.kind == S3_AUTH_ANON) {
		status = 401;
		job_fail(q, status, "MissingAuthentication",
			 "the admin API needs an AWS SigV4 Authorization header");
	} else if (e == S3E_INTERNAL_ERROR) {
		status = 500;
		job_fail(q, status, "InternalError", "cannot check the signature");
	} else if (e != S3_OK) {
		const s3_errinfo *ei = s3_err_info(e);
		dd_log(DD_LOG_WARN, "admin: %s request from %s refused: %s",
		       q->h.req.method.p, q->peer, ei->code);
		status = 401;
		job_fail(q, status, ei->code, ei->message);
	} else if (u.role != SEG_ROLE_ADMIN) {
		dd_log(DD_LOG_WARN, "admin: user %s (not admin) refused from %s",
		       u.name, q->peer);
		status = 403;
		job_fail(q, status, "AccessDenied", "the admin API needs an admin user");
	}
	OPENSSL_cleanse(&u, sizeof(u));
	return status;
}

/* Reads the query parameters; 0 or the error status set with job_fail. */
static int read_args(struct areq *q, const s3_target *t, gw_admin_args *a)
{
	const s3_param *p;

	memset(a, 0, sizeof(*a));
	if ((p = s3_param_get(t, "soft")) != NULL) {
		a->has_soft = 1;
		if (dd_str_to_u64(p->value, &a->soft) != DD_OK)
			goto bad;
	}
	if ((p = s3_param_get(t, "hard")) != NULL) {
		a->has_hard = 1;
		if (dd_str_to_u64(p->value, &a->hard) != DD_OK)
			goto bad;
	}
	if ((p = s3_param_get(t, "role")) != NULL) {
		if (dd_str_eq_c(p->value, "admin"))
			a->role_admin = 1;
		else if (!dd_str_eq_c(p->value, "user"))
			goto bad;
	}
	if ((p = s3_param_get(t, "deep")) != NULL) {
		if (dd_str_eq_c(p->value, "1"))
			a->deep = 1;
		else if (!dd_str_eq_c(p->value, "0"))
			goto bad;
	}
	return 0;
bad:
	job_fail(q, 400, "InvalidArgument",
		 "bad query parameter (soft, hard: bytes; role: user|admin; deep: 0|1)");
	return 400;
}

static int verify_problem(void *ctx, const char *what, int rc)
{
	struct areq *q = ctx;

	size_t len = q->problems.len;

	/* NUL-separated; a line that does not fit entirely is dropped. */
	if (q->nproblems++ < VERIFY_MAX_PROBLEMS &&
	    (dd_buf_appendf(&q->problems, "%s: %s", what, dd_strerror(rc)) != DD_OK ||
	     dd_buf_append(&q->problems, "", 1) != DD_OK) && q->problems.data) {
		q->problems.len = len;
		q->problems.data[len] = '\0';
	}
	return 0;
}

/* On the long lane: the whole walk; stops early when the daemon stops. */
static void verify_work(void *arg)
{
	struct areq *q = arg;

	q->verify_rc = seg_verify(admin_store, q->deep, q->cancel, &q->rep,
				  verify_problem, q);
}

/* Writes the verify report (verify_rc DD_OK) to o; returns the status. */
static int verify_report(struct areq *q, gw_aout *o, gw_http_header *verdict)
{
	int clean = q->rep.bad_regions == 0 && q->rep.bad_objects == 0;

	if (clean)
		verdict->value = DD_STR_LIT("ok");
	gw_aout_bool(o, "ok", clean);
	gw_aout_bool(o, "deep", q->deep);
	gw_aout_u64(o, "containers", q->rep.containers);
	gw_aout_u64(o, "regions", q->rep.regions);
	gw_aout_u64(o, "chunks", q->rep.chunks);
	gw_aout_u64(o, "bad_regions", q->rep.bad_regions);
	gw_aout_u64(o, "objects", q->rep.objects);
	gw_aout_u64(o, "bad_objects", q->rep.bad_objects);
	gw_aout_list_begin(o, "problems");
	for (size_t off = 0; off < q->problems.len;
	     off += strlen(q->problems.data + off) + 1)
		gw_aout_list_str(o, q->problems.data + off);
	gw_aout_list_end(o);
	dd_log(clean ? DD_LOG_INFO : DD_LOG_ERROR,
	       "admin: verify%s: %llu objects, %llu bad objects, %llu bad regions",
	       q->deep ? " (deep)" : "", (unsigned long long)q->rep.objects,
	       (unsigned long long)q->rep.bad_objects,
	       (unsigned long long)q->rep.bad_regions);
	return 200;
}

static void verify_done(void *arg, int rc)
{
	struct areq *q = arg;
	dd_buf b;
	gw_aout o;
	int status;
	/* For scripts (dedupctl's exit code) without parsing the body. */
	gw_http_header verdict = {DD_STR_LIT("X-Dedupd-Verify"), DD_STR_LIT("problems")};

	atomic_store(&verify_running, 0);
	if (rc != DD_OK) {
		/* Daemon stopping before the job ran: we may be on the stopping
		 * thread after the loops ended, so the exchange must not be
		 * touched. */
		areq_unref(q);
		return;
	}
	dd_buf_init(&b, 1024 * 1024);
	gw_aout_init(&o, &b, q->text);
	if (q->verify_rc == DD_ESHUTDOWN) {
		dd_log(DD_LOG_INFO, "admin: verify cancelled (shutting down) after "
		       "%llu containers, %llu objects",
		       (unsigned long long)q->rep.containers,
		       (unsigned long long)q->rep.objects);
		status = gw_admin_error(&o, 503, "ServiceUnavailable",
					"verify cancelled: dedupd is shutting down");
	} else if (q->verify_rc != DD_OK) {
		status = gw_admin_error(&o, 500, "VerifyFailed",
					dd_strerror(q->verify_rc));
	} else {
		status = verify_report(q, &o, &verdict);
	}
	if (gw_aout_end(&o) == DD_OK)
		api_send(q, status, &b, status == 200 ? &verdict : NULL);
	else if (q->ex && !q->responded)
		api_fail(q, 500, "InternalError", "report too large");
	dd_buf_release(&b);
	areq_unref(q);
}

/* Starts verify on the long lane (loop thread); the answer goes out from
 * verify_done. One verify at a time: 409 while one runs. */
static void verify_start(struct areq *q)
{
	gw_loop *loop = gw_http_ex_loop(q->ex);
	int expect = 0;

	if (!atomic_compare_exchange_strong(&verify_running, &expect, 1)) {
		api_fail(q, 409, "Busy", "a verify is already running");
		return;
	}
	q->cancel = gw_work_cancel_flag(loop);
	dd_buf_init(&q->problems, 256 * 1024);
	q->refs++;
	if (gw_work_submit_long(loop, verify_work, q, verify_done) != DD_OK) {
		q->refs--;
		atomic_store(&verify_running, 0);
		api_fail(q, 503, "ServiceUnavailable", "cannot start verify");
		return;
	}
	dd_log(DD_LOG_INFO, "admin: verify%s started", q->deep ? " (deep)" : "");
}

/*
 * The API job (pool worker): authenticates, routes and runs the request
 * from the copied head, leaving the answer in q->out / q->status, or
 * q->run_verify set for a verify request.
 */
static void api_job(void *arg)
{
	struct areq *q = arg;
	dd_arena *arena = dd_arena_new(GW_HTTP_ARENA_MAX);
	gw_admin_caller caller;
	gw_admin_route rt;
	gw_admin_args args;
	s3_target t;
	gw_aout o;
	int rc;

	if (!arena) {
		job_fail(q, 503, "ServiceUnavailable", "out of memory");
		return;
	}
	if (authenticate(q, arena, &t, &caller) != 0)
		goto out;
	rc = gw_admin_route_parse(q->h.req.method.p, t.path, &rt);
	if (rc != DD_OK) {
		if (rc == DD_ENOENT)
			job_fail(q, 404, "NoSuchEndpoint", "no such admin endpoint");
		else if (rc == DD_ENOTSUP)
			job_fail(q, 405, "MethodNotAllowed",
				 "method not allowed on this endpoint");
		else
			job_fail(q, 400, "InvalidName",
				 "names are 1-63 characters from [A-Za-z0-9._-]");
		goto out;
	}
	if (read_args(q, &t, &args) != 0)
		goto out;
	dd_log(DD_LOG_DEBUG, "admin: %s by %s", gw_admin_op_name(rt.op), caller.name);
	if (rt.op == GW_ADM_VERIFY) {
		q->run_verify = 1;
		q->deep = args.deep;
		goto out;
	}
	gw_aout_init(&o, &q->out, q->text);
	q->status = gw_admin_run(admin_store, &rt, &args, &caller, &o);
	if (gw_aout_end(&o) != DD_OK)
		job_fail(q, 500, "InternalError", "response too large");
out:
	dd_arena_free(arena);
}

/* On the loop thread: sends the job's answer, or starts the verify. */
static void api_job_done(void *arg, int rc)
{
	struct areq *q = arg;

	/* rc != DD_OK: the daemon stopped before the job ran; we may be on
	 * the stopping thread, so the exchange is not touched. */
	if (rc == DD_OK && q->ex) {
		if (q->run_verify)
			verify_start(q);
		else
			api_send(q, q->status, &q->out, NULL);
	}
	out_release(q);
	areq_unref(q);
}

/* Hands the request (body fully received) to a pool job (loop thread). */
static void api_start(struct areq *q)
{
	if (!admin_store) {
		api_fail(q, 503, "ServiceUnavailable", "the store is not open");
		return;
	}
	if (gw_s3_head_copy(&q->h, gw_http_ex_req(q->ex)) != DD_OK) {
		api_fail(q, 503, "ServiceUnavailable", "out of memory");
		return;
	}
	snprintf(q->peer, sizeof(q->peer), "%s", gw_http_ex_peer(q->ex));
	dd_buf_init(&q->out, 16 * 1024 * 1024);
	q->refs++;
	if (gw_work_submit(gw_http_ex_loop(q->ex), api_job, q, api_job_done) != DD_OK) {
		q->refs--;
		api_fail(q, 503, "ServiceUnavailable", "cannot run the request");
	}
}

static void admin_request(gw_http_ex *ex, void *ctx)
{
	const gw_http_req *r = gw_http_ex_req(ex);
	struct areq *q;

	if (path_is(r->url, "/health") || path_is(r->url, "/metrics")) {
		monitoring(ex, ctx, r);
		return;
	}
	if (!dd_str_starts_with(r->url, "/v1/") && !path_is(r->url, "/v1")) {
		if (gw_http_respond_text(ex, 404, "text/plain", "not found\n") != DD_OK)
			dd_log(DD_LOG_WARN, "admin: cannot send response");
		return;
	}
	if (!(q = calloc(1, sizeof(*q)))) {
		if (gw_http_respond_text(ex, 503, "text/plain", "out of memory\n") != DD_OK)
			dd_log(DD_LOG_WARN, "admin: cannot send response");
		return;
	}
	q->refs = 1;
	q->ex = ex;
	q->text = accepts_text(r);
	gw_http_ex_set_udata(ex, q);
	if (r->has_body && !r->chunked && r->content_length > GW_ADMIN_MAX_BODY)
		api_fail(q, 413, "RequestTooLarge", "request body over 64 KiB");
	/* Otherwise the request runs from admin_body_end (called for every
	 * request not answered yet, with or without a body). */
}

/* Bodies are not used (parameters are in the path and query): count and
 * drop them, refusing more than GW_ADMIN_MAX_BODY. */
static int admin_body(gw_http_ex *ex, const char *p, size_t n, void *ctx)
{
	struct areq *q = gw_http_ex_udata(ex);

	(void)p;
	(void)ctx;
	if (!q || q->responded)
		return DD_OK;
	q->body += n;
	if (q->body > GW_ADMIN_MAX_BODY)
		api_fail(q, 413, "RequestTooLarge", "request body over 64 KiB");
	return DD_OK;
}

static void admin_body_end(gw_http_ex *ex, void *ctx)
{
	struct areq *q = gw_http_ex_udata(ex);

	(void)ctx;
	if (q && !q->responded && !q->started) {
		q->started = 1;
		api_start(q);
	}
}

static void admin_done(gw_http_ex *ex, int ok, void *ctx)
{
	struct areq *q = gw_http_ex_udata(ex);

	(void)ok;
	(void)ctx;
	if (!q)
		return;
	q->ex = NULL;
	gw_http_ex_set_udata(ex, NULL);
	areq_unref(q);
}

const gw_http_handler gw_admin_handler = {
	.on_request = admin_request,
	.on_body = admin_body,
	.on_body_end = admin_body_end,
	.on_done = admin_done,
};

static void s3_placeholder(gw_http_ex *ex, void *ctx)
{
	static const char body[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Error><Code>ServiceUnavailable</Code>"
		"<Message>The S3 API is not available in this build.</Message>"
		"</Error>\n";
	gw_http_header h = {DD_STR_LIT("Content-Type"),
			    DD_STR_LIT("application/xml")};

	(void)ctx;
	if (gw_http_respond(ex, 503, &h, 1, body, sizeof(body) - 1) != DD_OK)
		dd_log(DD_LOG_WARN, "s3: cannot send response");
}

const gw_http_handler gw_s3_placeholder_handler = {
	.on_request = s3_placeholder,
};
