/*
 * gateway/main.c - dedupd: options, configuration, data-dir lock, root
 * credentials, then the daemon (gateway/server.c) until SIGTERM/SIGINT.
 */
#include "gateway/gw.h"
#include "gateway/admin.h"
#include "gateway/s3_glue.h"
#include "gateway/store_open.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"NAME\n"
	"    dedupd - deduplicating backup storage server (S3 + DDP)\n"
	"\n"
	"SYNOPSIS\n"
	"    dedupd [-c FILE] [--data-dir DIR] [--s3-listen ADDR:PORT]\n"
	"           [--ddp-listen ADDR:PORT] [--admin-listen ADDR:PORT]\n"
	"           [--log-level LEVEL] [--print-credentials]\n"
	"    dedupd --help | --version\n"
	"\n"
	"DESCRIPTION\n"
	"    dedupd serves the S3 API and DDP (a storage-unit file protocol with\n"
	"    client-side dedup) over one deduplicated store in DIR, plus an admin\n"
	"    API (GET /health, GET /metrics). It runs in the foreground and logs\n"
	"    to stderr (for journald) unless [server] log_file is set.\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE      read the configuration from FILE (INI); without\n"
	"                           it a built-in default configuration is used\n"
	"    --data-dir DIR         data directory ([server] data_dir;\n"
	"                           default /var/lib/dedupd); created if missing\n"
	"    --s3-listen ADDR:PORT  S3 listener ([s3] listen; default 127.0.0.1:9000)\n"
	"    --ddp-listen ADDR:PORT DDP listener ([ddp] listen; default 127.0.0.1:2052)\n"
	"    --admin-listen ADDR:PORT\n"
	"                           admin listener ([admin] listen; default\n"
	"                           127.0.0.1:9001)\n"
	"    --log-level LEVEL      error, warn, info or debug ([server] log_level)\n"
	"    --print-credentials    print the root access key and secret on stdout\n"
	"                           at startup (done anyway when stdout is a terminal)\n"
	"    -h, --help             show this help and exit\n"
	"    -V, --version          show the version and exit\n"
	"\n"
	"    Options override the configuration file. ADDR is an IPv4 literal or\n"
	"    an IPv6 literal in brackets ([::1]:9000). PORT 0 picks a free port.\n"
	"    After binding, dedupd prints one line per listener on stdout:\n"
	"        listening s3 127.0.0.1:9000\n"
	"        listening ddp 127.0.0.1:2052\n"
	"        listening admin 127.0.0.1:9001\n"
	"\n"
	"CONFIGURATION FILE\n"
	"    INI: [section], key = value, whole-line comments starting with # or ;.\n"
	"    Sections: [server] [s3] [ddp] [admin] [limits] [store]. An unknown\n"
	"    section or key, or a bad value, stops startup with exit code 2 and\n"
	"    names the file, line and key. See conf/dedupd.conf.example and\n"
	"    docs/CONFIG.md.\n"
	"\n"
	"ENVIRONMENT\n"
	"    DEDUPD_ROOT_ACCESS_KEY, DEDUPD_ROOT_SECRET_KEY\n"
	"        on the first start with an empty data directory, the root (admin)\n"
	"        user's access key and secret; random ones are generated when both\n"
	"        are unset. Ignored on later starts (a warning is logged if they\n"
	"        differ from the stored ones).\n"
	"    NOTIFY_SOCKET\n"
	"        set by systemd (Type=notify): READY=1 once all listeners accept,\n"
	"        STOPPING=1 on shutdown.\n"
	"\n"
	"SIGNALS\n"
	"    SIGTERM, SIGINT  graceful shutdown: stop accepting, let requests in\n"
	"                     flight finish for up to [server] shutdown_grace_seconds\n"
	"                     (default 5), close the rest, exit 0\n"
	"    SIGHUP           reopen [server] log_file (after logrotate)\n"
	"\n"
	"FILES\n"
	"    DIR/LOCK              lock (flock) held while dedupd runs; holds its pid\n"
	"    DIR/root.credentials  root access key and secret (mode 0600)\n"
	"    /etc/dedupd/dedupd.conf  usual configuration file (pass it with -c)\n"
	"\n"
	"EXIT CODES\n"
	"    0  clean shutdown (or --help, --version)\n"
	"    1  runtime error (cannot bind a listener, out of memory, I/O error)\n"
	"    2  usage or configuration error (bad option, unknown key, bad value,\n"
	"       unreadable config or TLS file, invalid root credentials in env)\n"
	"    3  data directory unusable, or locked by another dedupd\n";

static void usage_short(void)
{
	fprintf(stderr, "usage: dedupd [-c FILE] [--data-dir DIR] "
			"[--s3-listen ADDR:PORT] [--ddp-listen ADDR:PORT]\n"
			"              [--admin-listen ADDR:PORT] [--log-level LEVEL] "
			"[--print-credentials]\n"
			"Try 'dedupd --help' for more information.\n");
}

struct opts {
	const char *config;
	const char *flag_key[16][2]; /* section, key */
	const char *flag_val[16];
	const char *flag_name[16];
	int nflags;
	int print_creds;
};

enum { OPT_DATA_DIR = 256, OPT_S3, OPT_DDP, OPT_ADMIN, OPT_LOG, OPT_PRINT };

static int add_flag(struct opts *o, const char *sec, const char *key,
		    const char *name, const char *val)
{
	if (o->nflags == (int)DD_ARRAY_LEN(o->flag_val))
		return -1;
	o->flag_key[o->nflags][0] = sec;
	o->flag_key[o->nflags][1] = key;
	o->flag_name[o->nflags] = name;
	o->flag_val[o->nflags++] = val;
	return 0;
}

/* Returns -1 to continue, else an exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, OPT_DATA_DIR},
		{"s3-listen", required_argument, NULL, OPT_S3},
		{"ddp-listen", required_argument, NULL, OPT_DDP},
		{"admin-listen", required_argument, NULL, OPT_ADMIN},
		{"log-level", required_argument, NULL, OPT_LOG},
		{"print-credentials", no_argument, NULL, OPT_PRINT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, r = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case OPT_DATA_DIR: r = add_flag(o, "server", "data_dir", "--data-dir", optarg); break;
		case OPT_S3: r = add_flag(o, "s3", "listen", "--s3-listen", optarg); break;
		case OPT_DDP: r = add_flag(o, "ddp", "listen", "--ddp-listen", optarg); break;
		case OPT_ADMIN: r = add_flag(o, "admin", "listen", "--admin-listen", optarg); break;
		case OPT_LOG: r = add_flag(o, "server", "log_level", "--log-level", optarg); break;
		case OPT_PRINT: o->print_creds = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return GW_EXIT_OK;
		case 'V':
			printf("dedupd %s\n", DD_VERSION);
			return GW_EXIT_OK;
		case ':':
			fprintf(stderr, "dedupd: option '%s' needs a value\n",
				argv[optind - 1]);
			usage_short();
			return GW_EXIT_USAGE;
		default:
			fprintf(stderr, "dedupd: unknown option '%s'\n",
				argv[optind - 1]);
			usage_short();
			return GW_EXIT_USAGE;
		}
		if (r != 0) {
			fprintf(stderr, "dedupd: too many options\n");
			return GW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dedupd: unexpected argument '%s'\n", argv[optind]);
		usage_short();
		return GW_EXIT_USAGE;
	}
	return -1;
}

static int load_config(const struct opts *o, gw_config *cfg)
{
	gw_config_err err;
	dd_buf b;
	int rc;

	gw_config_defaults(cfg);
	if (o->config) {
		dd_buf_init(&b, 1024 * 1024);
		rc = dd_read_file(o->config, &b);
		if (rc != DD_OK) {
			fprintf(stderr, "dedupd: cannot read config %s: %s\n",
				o->config,
				rc == DD_ETOOBIG ? "larger than 1 MiB" : strerror(errno));
			dd_buf_release(&b);
			return GW_EXIT_USAGE;
		}
		rc = gw_config_parse(cfg, b.data ? b.data : "", b.len, o->config,
				     &err);
		dd_buf_release(&b);
		if (rc != DD_OK) {
			fprintf(stderr, "dedupd: %s\n", err.msg);
			return GW_EXIT_USAGE;
		}
	}
	for (int i = 0; i < o->nflags; i++)
		if (gw_config_set(cfg, o->flag_key[i][0], o->flag_key[i][1],
				  o->flag_val[i], o->flag_name[i], &err) != DD_OK) {
			fprintf(stderr, "dedupd: %s\n", err.msg);
			return GW_EXIT_USAGE;
		}
	if (gw_config_check(cfg, o->config ? o->config : "dedupd", &err) != DD_OK) {
		fprintf(stderr, "dedupd: %s\n", err.msg);
		return GW_EXIT_USAGE;
	}
	return -1;
}

/*
 * The admin API hands out new secrets (user create): off loopback it
 * belongs behind TLS. Warns, does not refuse (a private network may be
 * what the operator wants).
 */
static void warn_plain_admin(const gw_config *cfg)
{
	const char *h = cfg->admin.listen.host;

	if (cfg->admin.tls_cert[0] || strncmp(h, "127.", 4) == 0 ||
	    strcmp(h, "::1") == 0 || strcmp(h, "[::1]") == 0 ||
	    strcmp(h, "localhost") == 0)
		return;
	dd_log(DD_LOG_WARN, "admin listener %s:%u is not on loopback and has no "
	       "TLS: new users' secrets would cross the network in clear "
	       "([admin] tls_cert, tls_key)", h, (unsigned)cfg->admin.listen.port);
}

/* Creates the data dir and takes its lock; returns the lock fd or -1. */
static int lock_data_dir(const char *dir)
{
	char path[PATH_MAX], pid[32], held[32] = "";
	ssize_t n;
	int fd, len;

	if (dd_mkdir_p(dir, 0750) != DD_OK) {
		fprintf(stderr, "dedupd: cannot create data dir %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/LOCK", dir) >= (int)sizeof(path)) {
		fprintf(stderr, "dedupd: data dir path too long\n");
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "dedupd: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		n = pread(fd, held, sizeof(held) - 1, 0);
		held[n > 0 ? n : 0] = '\0';
		held[strcspn(held, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			fprintf(stderr,
				"dedupd: data dir %s is locked by another dedupd "
				"(pid %s, lock file %s)\n",
				dir, held[0] ? held : "unknown", path);
		else
			fprintf(stderr, "dedupd: cannot lock %s: %s\n", path,
				strerror(e));
		close(fd);
		return -1;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		fprintf(stderr, "dedupd: cannot write %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int setup_creds(const gw_config *cfg, gw_root_creds *c, int *created)
{
	int rc = gw_creds_load_or_create(cfg->data_dir,
					 getenv("DEDUPD_ROOT_ACCESS_KEY"),
					 getenv("DEDUPD_ROOT_SECRET_KEY"), c,
					 created);

	if (rc == DD_EINVAL) {
		fprintf(stderr,
			"dedupd: DEDUPD_ROOT_ACCESS_KEY/DEDUPD_ROOT_SECRET_KEY: "
			"set both or neither; access key 3-128 of [A-Za-z0-9._-], "
			"secret 8-128 printable ASCII without spaces\n");
		return GW_EXIT_USAGE;
	}
	if (rc != DD_OK) {
		fprintf(stderr, "dedupd: root credentials in %s/root.credentials: %s\n",
			cfg->data_dir, dd_strerror(rc));
		return GW_EXIT_DATADIR;
	}
	gw_auth_set_root(c);
	return -1;
}

static const gw_config *ready_cfg;
static const gw_root_creds *ready_creds;
static int ready_print_secret;

/* Prints the endpoints (and maybe the credentials) on stdout, not the log. */
static void on_ready(gw_daemon *d)
{
	static const char *const names[] = {"s3", "ddp", "admin"};
	const gw_listen_conf *lc[] = {&ready_cfg->s3, &ready_cfg->ddp,
				      &ready_cfg->admin};
	char addr[GW_LISTENER_COUNT][96];

	for (int k = 0; k < GW_LISTENER_COUNT; k++) {
		gw_addr_format(lc[k]->listen.host, gw_daemon_port(d, k), addr[k],
			       sizeof(addr[k]));
		printf("listening %s %s\n", names[k], addr[k]);
	}
	printf("dedupd %s ready\n"
	       "  S3 endpoint:    %s://%s (region %s)\n"
	       "  DDP endpoint:   %s%s\n"
	       "  admin endpoint: %s://%s (/health, /metrics, /v1/ API)\n",
	       DD_VERSION, lc[0]->tls_cert[0] ? "https" : "http", addr[0],
	       ready_cfg->s3_region, addr[1], lc[1]->tls_cert[0] ? " (TLS)" : "",
	       lc[2]->tls_cert[0] ? "https" : "http", addr[2]);
	if (ready_print_secret)
		printf("  root access key: %s\n  root secret key: %s\n",
		       ready_creds->access_key, ready_creds->secret_key);
	else
		printf("  root credentials: %s/root.credentials\n",
		       ready_cfg->data_dir);
	fflush(stdout);
	dd_log(DD_LOG_INFO, "dedupd %s ready: s3 %s, ddp %s, admin %s",
	       DD_VERSION, addr[0], addr[1], addr[2]);
}

static int run(gw_config *cfg, const struct opts *o)
{
	char abs_dir[PATH_MAX];
	gw_root_creds creds;
	gw_daemon *d = NULL;
	gw_ddp_serve *ddp = NULL;
	seg_store *store = NULL;
	int lock_fd, created = 0, code, rc;

	if (cfg->log_file[0] && dd_log_set_file(cfg->log_file) != DD_OK) {
		fprintf(stderr, "dedupd: cannot open log file %s: %s\n",
			cfg->log_file, strerror(errno));
		return GW_EXIT_RUNTIME;
	}
	dd_log_set_level(cfg->log_level);
	if ((lock_fd = lock_data_dir(cfg->data_dir)) < 0)
		return GW_EXIT_DATADIR;
	/* Absolute from now on: /health and the log show where data lives. */
	if (realpath(cfg->data_dir, abs_dir) != NULL)
		snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", abs_dir);
	if ((code = setup_creds(cfg, &creds, &created)) >= 0)
		goto out;
	rc = gw_daemon_new(cfg, &d);
	if (rc != DD_OK) {
		code = rc == DD_ECONFIG ? GW_EXIT_USAGE : GW_EXIT_RUNTIME;
		goto out;
	}
	/* One store serves both protocols: a DDP file is an S3 object. */
	if (gw_store_open(cfg, &creds, &store) != DD_OK) {
		code = GW_EXIT_DATADIR;
		goto out;
	}
	gw_admin_set_store(store);
	if ((code = gw_s3_glue_start(d, cfg, store)) >= 0)
		goto out;
	if (gw_ddp_serve_start(d, cfg, store, &ddp) != DD_OK) {
		code = GW_EXIT_RUNTIME;
		goto out;
	}
	ready_cfg = cfg;
	ready_creds = &creds;
	ready_print_secret = o->print_creds || isatty(STDOUT_FILENO);
	dd_log(DD_LOG_INFO, "dedupd %s starting, data dir %s", DD_VERSION,
	       cfg->data_dir);
	warn_plain_admin(cfg);
	rc = gw_daemon_run(d, on_ready);
	code = rc == DD_OK ? GW_EXIT_OK : GW_EXIT_RUNTIME;
out:
	gw_daemon_free(d);
	gw_ddp_serve_stop(ddp);
	gw_s3_glue_stop();
	gw_admin_set_store(NULL);
	seg_store_close(store);
	OPENSSL_cleanse(&creds, sizeof(creds));
	close(lock_fd);
	return code;
}

int main(int argc, char **argv)
{
	static gw_config cfg; /* large: keep it off the stack */
	struct opts o;
	int code;

	memset(&o, 0, sizeof(o));
	if ((code = parse_args(argc, argv, &o)) >= 0)
		return code;
	if ((code = load_config(&o, &cfg)) >= 0)
		return code;
	signal(SIGPIPE, SIG_IGN);
	code = run(&cfg, &o);
	gw_metrics_shutdown();
	return code;
}
