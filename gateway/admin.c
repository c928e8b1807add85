/*
 * gateway/admin.c - the admin listener's API: GET /health and GET /metrics
 * (unauthenticated: the admin listener is on loopback by default), 404 for
 * every other path. Authenticated admin operations come later.
 */
#include "gateway/gw_int.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
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

/* Fills b; returns DD_OK and sets *ok to whether the data dir is usable. */
static int health_json(const struct gw_admin_ctx *a, dd_buf *b, int *ok)
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

static void admin_request(gw_http_ex *ex, void *ctx)
{
	const struct gw_admin_ctx *a = ctx;
	const gw_http_req *r = gw_http_ex_req(ex);
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	dd_buf b;

	dd_buf_init(&b, 16 * 1024 * 1024);
	if (path_is(r->url, "/health") || path_is(r->url, "/metrics")) {
		int health = path_is(r->url, "/health");
		if (!get) {
			if (dd_buf_append_str(&b, "method not allowed\n") == DD_OK)
				answer(ex, 405, "text/plain", &b);
		} else if (health) {
			int ok = 0;
			/* 503 when degraded, so load balancers and probes see it. */
			if (health_json(a, &b, &ok) == DD_OK)
				answer(ex, ok ? 200 : 503, "application/json", &b);
			else
				answer(ex, 500, "text/plain", &b);
		} else {
			int64_t up = (dd_mono_ns() - gw_start_mono_ns()) / 1000000000;
			gw_metric *m = gw_metric_register(
				gw_metrics_default(), GW_GAUGE,
				"dedupd_uptime_seconds",
				"Seconds since dedupd started.", NULL, NULL, 0);
			gw_metric_set(m, NULL, (double)up);
			update_process_metrics();
			if (gw_metrics_render(gw_metrics_default(), &b) == DD_OK)
				answer(ex, 200, "text/plain; version=0.0.4", &b);
			else
				answer(ex, 500, "text/plain", &b);
		}
	} else if (dd_buf_append_str(&b, "not found\n") == DD_OK) {
		answer(ex, 404, "text/plain", &b);
	}
	dd_buf_release(&b);
}

const gw_http_handler gw_admin_handler = {
	.on_request = admin_request,
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
