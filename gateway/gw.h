/*
 * gateway/gw.h - dedupd's gateway: configuration, root credentials, the
 * metrics registry, event loops, the worker pool, listeners and the
 * pluggable protocol hook. The HTTP/1.1 server has its own header,
 * gateway/http.h.
 *
 * Threads: one main thread (signals, accepting connections) and N I/O
 * loops (libevent bases, one thread each) that own the connections handed
 * to them; CPU work goes to a worker pool (gw_work_submit), admin jobs that
 * run for minutes to the one-thread long lane (gw_work_submit_long).
 * Everything a connection owns is touched only on its loop's thread.
 */
#ifndef DD_GATEWAY_GW_H
#define DD_GATEWAY_GW_H

#include "common/dd.h"

#include <stdatomic.h>
#include <stdint.h>

struct bufferevent;
struct event_base;
struct sockaddr;

/* ---------------------------------------------------------- configuration */

#define GW_PATH_MAX 4096
#define GW_NAME_MAX 256

/* A listen address as written: host is an IPv4 or IPv6 literal (no []). */
typedef struct gw_addr {
	char host[64];
	uint16_t port; /* 0: pick a free port */
} gw_addr;

/* One TLS-capable listener's settings. Empty cert/key: plain TCP. */
typedef struct gw_listen_conf {
	gw_addr listen;
	char tls_cert[GW_PATH_MAX];
	char tls_key[GW_PATH_MAX];
} gw_listen_conf;

/*
 * The whole configuration, filled by gw_config_defaults() and then
 * gw_config_parse()/gw_config_set(). Plain data: no pointers, no frees.
 * docs/CONFIG.md documents every key.
 */
typedef struct gw_config {
	/* [server] */
	char data_dir[GW_PATH_MAX];
	int log_level;                 /* DD_LOG_* */
	char log_file[GW_PATH_MAX];    /* "" = stderr */
	unsigned io_threads;           /* 0 = number of cores */
	unsigned worker_threads;       /* 0 = number of cores */
	unsigned shutdown_grace_seconds;
	/* [s3] */
	gw_listen_conf s3;
	char s3_domain[GW_NAME_MAX];   /* "" = path-style only */
	char s3_region[64];
	unsigned s3_max_put_gib;       /* single PutObject cap, GiB */
	/* [ddp] */
	gw_listen_conf ddp;
	/* [admin] */
	gw_listen_conf admin;
	/* [limits] */
	unsigned max_connections;      /* over all listeners */
	unsigned max_header_bytes;     /* request line + headers */
	unsigned idle_timeout_seconds; /* no bytes in or out for this long */
	/* [store] */
	unsigned chunk_avg_kib;
	unsigned container_mib;
} gw_config;

/* Where a configuration error is: file (or flag), line (0 = none), text. */
typedef struct gw_config_err {
	int line;
	char msg[512]; /* full "FILE:LINE: what" message */
} gw_config_err;

/* The text of the embedded default configuration (used with no -c). */
extern const char gw_config_default_text[];

/* Fills cfg with the built-in defaults (the same as the embedded text). */
void gw_config_defaults(gw_config *cfg);

/*
 * Parses INI text (data, len; need not be NUL-terminated) into cfg, on top
 * of what cfg already holds. Pure: no I/O. fname names the source in error
 * messages. Returns DD_OK or DD_ECONFIG with err filled
 * ("fname:12: unknown key 'lsten' in [s3]").
 */
int gw_config_parse(gw_config *cfg, const char *data, size_t len,
		    const char *fname, gw_config_err *err) DD_WUR;

/*
 * Sets one key (as if "key = value" were in [section]); what names the
 * source in messages (e.g. "--s3-listen"). DD_OK or DD_ECONFIG.
 */
int gw_config_set(gw_config *cfg, const char *section, const char *key,
		  const char *value, const char *what, gw_config_err *err) DD_WUR;

/* Cross-key checks (cert without key, ...). DD_OK or DD_ECONFIG. */
int gw_config_check(const gw_config *cfg, const char *fname,
		    gw_config_err *err) DD_WUR;

/* Parses "HOST:PORT" / "[V6]:PORT" strictly. DD_OK or DD_EINVAL. */
int gw_addr_parse(const char *s, size_t len, gw_addr *out) DD_WUR;

/* Formats an address as "host:port" or "[v6]:port" into out (cap bytes). */
void gw_addr_format(const char *host, unsigned port, char *out, size_t cap);

/* ------------------------------------------------------ root credentials */

#define GW_ACCESS_KEY_MAX 128
#define GW_SECRET_KEY_MAX 128

typedef struct gw_root_creds {
	char access_key[GW_ACCESS_KEY_MAX + 1];
	char secret_key[GW_SECRET_KEY_MAX + 1];
} gw_root_creds;

/*
 * Parses a root.credentials text ("access_key = ..." / "secret_key = ...",
 * '#' comments). Pure. DD_OK or DD_ECORRUPT.
 */
int gw_creds_parse(const char *data, size_t len, gw_root_creds *out) DD_WUR;

/* Checks an access key / secret key for allowed length and characters. */
int gw_creds_valid_access_key(const char *s);
int gw_creds_valid_secret_key(const char *s);

/* Generates a 20-char [A-Z0-9] access key and a 40-char secret. */
int gw_creds_generate(gw_root_creds *out) DD_WUR;

/*
 * Loads <data_dir>/root.credentials, or on first start creates it (mode
 * 0600, atomically) from env_ak/env_sk when both are non-NULL, else from
 * gw_creds_generate(). *created is set to 1 when the file was written.
 * When the file exists and env_ak/env_sk differ, logs a warning (never the
 * secret) and keeps the stored keys. Returns DD_OK, DD_EINVAL (bad env
 * values), DD_ECORRUPT (unreadable file), DD_EIO.
 */
int gw_creds_load_or_create(const char *data_dir, const char *env_ak,
			    const char *env_sk, gw_root_creds *out,
			    int *created) DD_WUR;

/* Makes creds the daemon's root user (copied). */
void gw_auth_set_root(const gw_root_creds *creds);

/*
 * Looks up the secret of an access key (ak, aklen). On DD_OK copies the
 * NUL-terminated secret into secret (cap bytes) and sets *is_admin.
 * DD_ENOENT for an unknown key. Thread-safe after startup. Later the
 * store's catalog will hold more users; callers use only this function.
 */
int gw_auth_lookup(const char *ak, size_t aklen, char *secret, size_t cap,
		   int *is_admin) DD_WUR;

/* ---------------------------------------------------------------- metrics */

/*
 * One registry of counters, gauges and histograms, rendered in Prometheus
 * text format 0.0.4. Families are registered once (at startup); series are
 * created on first use from their label values. Thread-safe.
 */
typedef struct gw_metrics gw_metrics;
typedef struct gw_metric gw_metric;

enum gw_metric_type { GW_COUNTER, GW_GAUGE, GW_HISTOGRAM };

gw_metrics *gw_metrics_new(void);
void gw_metrics_free(gw_metrics *m);
/* The daemon's registry (created on first call, freed by gw_metrics_shutdown). */
gw_metrics *gw_metrics_default(void);
void gw_metrics_shutdown(void);

/*
 * Registers a family. labels: comma-separated label names ("listener,code")
 * or NULL. buckets/nbuckets: histogram upper bounds, ascending (ignored for
 * other types). Returns the family (owned by the registry) or NULL on a bad
 * name or out of memory. Registering the same name again returns the
 * existing family when the type matches.
 */
gw_metric *gw_metric_register(gw_metrics *m, enum gw_metric_type type,
			      const char *name, const char *help,
			      const char *labels, const double *buckets,
			      size_t nbuckets);

/*
 * Updates the series with these label values (one per label name, in
 * order; NULL when the family has no labels). add: counters and gauges;
 * set: gauges; observe: histograms. A family holds at most 1000 series;
 * updates to new series past that are dropped (and counted).
 */
void gw_metric_add(gw_metric *f, const char *const *values, double v);
void gw_metric_set(gw_metric *f, const char *const *values, double v);
void gw_metric_observe(gw_metric *f, const char *const *values, double v);

/* Reads a series' value (counter/gauge) or count (histogram); 0 if absent. */
double gw_metric_get(gw_metric *f, const char *const *values);

/* Appends the whole registry in text format 0.0.4 to out. */
int gw_metrics_render(gw_metrics *m, dd_buf *out) DD_WUR;

/* ------------------------------------------------------- loops and workers */

typedef struct gw_loop gw_loop;

/* The libevent base of a loop (use only on that loop's thread). */
struct event_base *gw_loop_base(gw_loop *loop);

/* 1 once the daemon is shutting down (stop keep-alive, finish up). */
int gw_loop_draining(gw_loop *loop);

/*
 * Runs fn(arg) on loop's thread soon. Thread-safe. Returns DD_OK or
 * DD_ENOMEM / DD_ESHUTDOWN (fn will not run).
 */
int gw_loop_post(gw_loop *loop, void (*fn)(void *arg), void *arg) DD_WUR;

/*
 * Runs fn(arg) on a worker thread, then done(arg, rc) on loop's thread
 * with rc = DD_OK. done runs exactly once: if the daemon stops before fn
 * ran, done(arg, DD_ESHUTDOWN) runs instead, on the stopping thread after
 * the loops have stopped (so it can free arg). Call from loop's thread.
 * Returns DD_OK, or DD_ENOMEM/DD_ESHUTDOWN (neither fn nor done will run).
 */
int gw_work_submit(gw_loop *loop, void (*fn)(void *arg), void *arg,
		   void (*done)(void *arg, int rc)) DD_WUR;

/*
 * As gw_work_submit, but fn runs on the long lane: one thread with its own
 * queue (jobs run one after another, in submit order), for work that can
 * take minutes (a deep verify) and must not hold a pool worker that S3 and
 * DDP requests wait for. fn should poll gw_work_cancel_flag() and return
 * early once it is set: shutdown joins the lane after the connections'
 * grace time. Same done() contract and return values as gw_work_submit.
 */
int gw_work_submit_long(gw_loop *loop, void (*fn)(void *arg), void *arg,
			void (*done)(void *arg, int rc)) DD_WUR;

/*
 * The daemon's cancel flag: 0 while it runs, nonzero from the moment
 * shutdown begins (SIGTERM, gw_daemon_stop), before connections drain, so
 * a long job stopping then can still answer its client. Read it from any
 * thread; valid until gw_daemon_free.
 */
const atomic_int *gw_work_cancel_flag(gw_loop *loop);

/* --------------------------------------------------- protocol hook (DDP) */

/*
 * A connection accepted on a non-HTTP listener (DDP), handed to a protocol
 * handler. The gateway keeps it in its loop's list so that shutdown and the
 * open-connections gauge see it.
 */
typedef struct gw_pconn gw_pconn;

typedef struct gw_proto_handler {
	/*
	 * Called on the connection's loop thread for each new connection.
	 * The handler sets its callbacks on gw_pconn_bev(c) (TLS already set
	 * up when configured) and owns c until it calls gw_pconn_close(c).
	 */
	void (*on_accept)(gw_pconn *c, void *ctx);
	/*
	 * Called when the daemon stops with c still open (after the grace
	 * time): free the handler's state for c; the gateway then frees c.
	 * Not called for connections closed with gw_pconn_close. May be NULL.
	 */
	void (*on_shutdown)(gw_pconn *c, void *ctx);
	/*
	 * Called once per open connection when shutdown begins (SIGTERM):
	 * finish the operation in progress, then gw_pconn_close(c). Until
	 * shutdown_grace_seconds run out. May be NULL.
	 */
	void (*on_drain)(gw_pconn *c, void *ctx);
	void *ctx;
} gw_proto_handler;

/* The connection's bufferevent; valid until gw_pconn_close. */
struct bufferevent *gw_pconn_bev(gw_pconn *c);
gw_loop *gw_pconn_loop(gw_pconn *c);
void gw_pconn_set_udata(gw_pconn *c, void *udata);
void *gw_pconn_udata(gw_pconn *c);
/* Frees the bufferevent (closing the socket) and c. On c's loop thread. */
void gw_pconn_close(gw_pconn *c);

/* The default DDP handler until ddproto/ exists: closes every connection. */
extern const gw_proto_handler gw_proto_close_handler;

/* ------------------------------------------------------------------ daemon */

struct gw_http_handler;

enum gw_listener_kind { GW_LISTENER_S3, GW_LISTENER_DDP, GW_LISTENER_ADMIN,
			GW_LISTENER_COUNT };

/* Exit codes of dedupd (documented in --help and docs/OPERATIONS.md). */
enum gw_exit {
	GW_EXIT_OK = 0,
	GW_EXIT_RUNTIME = 1,
	GW_EXIT_USAGE = 2,
	GW_EXIT_DATADIR = 3,
};

typedef struct gw_daemon gw_daemon;

/*
 * Creates the daemon from a checked configuration (copied): loops, worker
 * pool, TLS contexts, listeners bound (not yet accepting). Returns DD_OK
 * and *out, or an error with a message printed to stderr.
 */
int gw_daemon_new(const gw_config *cfg, gw_daemon **out) DD_WUR;

/*
 * Replaces a listener's handler before gw_daemon_run: the S3 listener
 * takes an HTTP handler (gateway/http.h), the DDP listener a protocol
 * handler. ctx is passed back to the handler. Defaults: S3 answers 503,
 * DDP closes connections.
 */
void gw_daemon_set_s3_handler(gw_daemon *d, const struct gw_http_handler *h,
			      void *ctx);
void gw_daemon_set_ddp_handler(gw_daemon *d, const gw_proto_handler *h);

/* The daemon's configuration (valid until gw_daemon_free). */
const gw_config *gw_daemon_config(gw_daemon *d);

/* The bound port of a listener (after gw_daemon_new). */
unsigned gw_daemon_port(gw_daemon *d, enum gw_listener_kind kind);

/*
 * Starts accepting and runs until SIGTERM/SIGINT, then shuts down
 * gracefully. Calls ready() once everything accepts (may be NULL).
 * Returns DD_OK or an error.
 */
int gw_daemon_run(gw_daemon *d, void (*ready)(gw_daemon *d)) DD_WUR;

/*
 * Asks a running (or about to run) daemon to shut down as on SIGTERM.
 * Thread-safe; gw_daemon_run then returns.
 */
void gw_daemon_stop(gw_daemon *d);

void gw_daemon_free(gw_daemon *d);

/* Monotonic start time (ns) of the process, for uptime. */
int64_t gw_start_mono_ns(void);

#endif /* DD_GATEWAY_GW_H */
