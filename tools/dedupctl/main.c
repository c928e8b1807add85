/*
 * tools/dedupctl/main.c - dedupd's admin CLI: a thin client of the admin
 * API (gateway/admin.c, docs/OPERATIONS.md). Each command is one HTTP
 * request signed with AWS SigV4 by libcurl (CURLOPT_AWS_SIGV4, service
 * "s3"); the server renders the answer as JSON (--json) or as text, so
 * this program never parses JSON.
 */
#include "common/dd.h"
#include "gateway/gw.h"
#include "segstore/seg.h"

#include <curl/curl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum exit_code {
	EXIT_OK_ = 0,
	EXIT_SERVER = 1, /* the server refused or failed the operation */
	EXIT_USAGE = 2,
	EXIT_AUTH = 3,   /* 401 / 403 */
	EXIT_CONN = 4,   /* cannot reach the server */
};

#define DEFAULT_URL "http://127.0.0.1:9001"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char help_text[] =
	"NAME\n"
	"    dedupctl - administer a dedupd server through its admin API\n"
	"\n"
	"SYNOPSIS\n"
	"    dedupctl [OPTIONS] COMMAND [ARGS...]\n"
	"    dedupctl --help | --version\n"
	"\n"
	"DESCRIPTION\n"
	"    dedupctl sends one request to dedupd's admin listener per command,\n"
	"    signed with AWS SigV4 (service \"s3\") using the keys of an admin\n"
	"    user (the root user of root.credentials is one). Options come\n"
	"    before the command.\n"
	"\n"
	"COMMANDS\n"
	"    status                      health, version, uptime, data dir (no keys needed)\n"
	"    whoami                      check the keys: the admin user they belong to\n"
	"    user add NAME [--admin]     create a user with a new key pair; the secret\n"
	"                                key is shown only here (alias: user create)\n"
	"    user list                   users, access keys and roles (never secrets)\n"
	"    user show NAME              one user and the units granted to it\n"
	"    user delete NAME            revoke the user's grants and delete it\n"
	"    grant USER UNIT             let USER read, write and list UNIT\n"
	"    revoke USER UNIT            take the grant back\n"
	"    grants USER                 units granted to USER\n"
	"    unit create NAME [--quota-soft BYTES] [--quota-hard BYTES]\n"
	"                                create a storage unit (= S3 bucket)\n"
	"    unit list                   units with objects, logical/physical bytes, quotas\n"
	"    unit show NAME              one unit\n"
	"    unit quota NAME [--quota-soft BYTES] [--quota-hard BYTES]\n"
	"                                change the quotas (0 = none; an omitted one stays)\n"
	"    unit delete NAME            delete an empty unit and its grants\n"
	"    verify [--deep]             check every container region and every object\n"
	"                                (--deep: also each chunk's SHA-256); can take long\n"
	"\n"
	"    BYTES is a number with an optional K, M, G or T suffix (powers of 1024).\n"
	"    Names are 1-63 characters from A-Z a-z 0-9 . _ -\n"
	"\n"
	"OPTIONS\n"
	"    --admin-url URL      admin API base URL (env DEDUPD_ADMIN_URL;\n"
	"                         default " DEFAULT_URL ")\n"
	"    --access-key AK      admin access key (env DEDUPD_ACCESS_KEY)\n"
	"    --secret-key SK      admin secret key (env DEDUPD_SECRET_KEY); prefer the\n"
	"                         environment or --credentials: arguments are visible\n"
	"                         to other local users\n"
	"    --credentials FILE   read access_key/secret_key from FILE, in the format of\n"
	"                         <data-dir>/root.credentials (env DEDUPD_CREDENTIALS)\n"
	"    --cacert FILE        CA certificate(s) to verify an https:// admin URL\n"
	"    --timeout SECONDS    give up after this long (default: none)\n"
	"    --json               print the server's JSON answer (one object) instead\n"
	"                         of text; errors are JSON objects with \"error\" and\n"
	"                         \"message\" on stdout too\n"
	"    -h, --help           show this help and exit\n"
	"    -V, --version        show the version and exit\n"
	"\n"
	"    Keys are taken from the options first, then the environment, then the\n"
	"    credentials file.\n"
	"\n"
	"EXIT CODES\n"
	"    0  success\n"
	"    1  the server refused or failed the operation (no such user or unit,\n"
	"       unit not empty, verify found problems, ...)\n"
	"    2  usage error (unknown option or command, bad name, missing keys)\n"
	"    3  authentication failed (401: bad key or signature; 403: not an admin)\n"
	"    4  cannot connect to the admin URL\n"
	"\n"
	"EXAMPLES\n"
	"    dedupctl --credentials /var/lib/dedupd/root.credentials unit create \\\n"
	"        backups --quota-hard 500G\n"
	"    dedupctl --credentials /var/lib/dedupd/root.credentials user add veeam\n"
	"    dedupctl --credentials /var/lib/dedupd/root.credentials grant veeam backups\n";

struct opts {
	const char *url, *ak, *sk, *creds, *cacert;
	long timeout;
	int json;
	int admin;        /* user add --admin */
	int deep;         /* verify --deep */
	const char *soft, *hard;
};

/* One prepared request. */
struct call {
	const char *method;
	char path[256];
	char query[128];
	int auth;         /* needs keys */
	int is_verify;
	int is_user_add;
};

static int usage(const char *msg, const char *arg)
{
	if (arg)
		fprintf(stderr, "dedupctl: %s '%s'\n", msg, arg);
	else
		fprintf(stderr, "dedupctl: %s\n", msg);
	fprintf(stderr, "usage: dedupctl [OPTIONS] COMMAND [ARGS...]  (see dedupctl --help)\n");
	return EXIT_USAGE;
}

/* 1 for a unit/user name the server accepts (seg_name_ok). */
static int valid_name(const char *s)
{
	return seg_name_ok(s) == DD_OK;
}

/* Parses BYTES ("1000", "10G"); DD_OK or DD_EINVAL. */
static int parse_bytes(const char *s, uint64_t *out)
{
	size_t n = strlen(s), digits = n;
	unsigned shift = 0;
	uint64_t v;

	if (n > 0 && strchr("KkMmGgTt", s[n - 1])) {
		const char *u = "KMGT";
		char c = s[n - 1] & ~0x20;
		shift = 10 * (unsigned)(strchr(u, c) - u + 1);
		digits--;
	}
	if (digits == 0 || dd_str_to_u64((dd_str){s, digits}, &v) != DD_OK)
		return DD_EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return DD_EINVAL;
	*out = v << shift;
	return DD_OK;
}

/* Appends "&name=value" (or "name=value" first) for a BYTES option. */
static int add_bytes_param(char *q, size_t cap, const char *name, const char *val)
{
	uint64_t v;
	size_t len = strlen(q);

	if (!val)
		return DD_OK;
	if (parse_bytes(val, &v) != DD_OK)
		return usage("bad byte count", val);
	snprintf(q + len, cap - len, "%s%s=%llu", len ? "&" : "", name,
		 (unsigned long long)v);
	return DD_OK;
}

/* Fills c from the command words; DD_OK or an exit code (usage). */
static int build_user(struct call *c, const struct opts *o, int n, char **w)
{
	const char *sub = n > 0 ? w[0] : "";

	if (strcmp(sub, "list") == 0 && n == 1) {
		c->method = "GET";
		snprintf(c->path, sizeof(c->path), "/v1/users");
		return DD_OK;
	}
	if (n != 2)
		return usage("usage: user add|list|show|delete [NAME]", NULL);
	if (!valid_name(w[1]))
		return usage("bad user name", w[1]);
	snprintf(c->path, sizeof(c->path), "/v1/users/%s", w[1]);
	if (strcmp(sub, "add") == 0 || strcmp(sub, "create") == 0) {
		c->method = "POST";
		c->is_user_add = 1;
		if (o->admin)
			snprintf(c->query, sizeof(c->query), "role=admin");
	} else if (strcmp(sub, "show") == 0) {
		c->method = "GET";
	} else if (strcmp(sub, "delete") == 0 || strcmp(sub, "rm") == 0) {
		c->method = "DELETE";
	} else {
		return usage("unknown user command", sub);
	}
	return DD_OK;
}

static int build_unit(struct call *c, const struct opts *o, int n, char **w)
{
	const char *sub = n > 0 ? w[0] : "";
	int rc;

	if (strcmp(sub, "list") == 0 && n == 1) {
		c->method = "GET";
		snprintf(c->path, sizeof(c->path), "/v1/units");
		return DD_OK;
	}
	if (n != 2)
		return usage("usage: unit create|list|show|quota|delete [NAME]", NULL);
	if (!valid_name(w[1]))
		return usage("bad unit name", w[1]);
	snprintf(c->path, sizeof(c->path), "/v1/units/%s", w[1]);
	if (strcmp(sub, "create") == 0 || strcmp(sub, "quota") == 0) {
		int create = strcmp(sub, "create") == 0;
		c->method = create ? "POST" : "PUT";
		if (!create)
			snprintf(c->path, sizeof(c->path), "/v1/units/%s/quota", w[1]);
		/* Sorted by name: curl signs the query string as given. */
		if ((rc = add_bytes_param(c->query, sizeof(c->query), "hard", o->hard)) != DD_OK ||
		    (rc = add_bytes_param(c->query, sizeof(c->query), "soft", o->soft)) != DD_OK)
			return rc;
		if (!create && !o->soft && !o->hard)
			return usage("unit quota needs --quota-soft and/or --quota-hard", NULL);
	} else if (strcmp(sub, "show") == 0) {
		c->method = "GET";
	} else if (strcmp(sub, "delete") == 0 || strcmp(sub, "rm") == 0) {
		c->method = "DELETE";
	} else {
		return usage("unknown unit command", sub);
	}
	return DD_OK;
}

static int build_call(struct call *c, const struct opts *o, int n, char **w)
{
	const char *cmd = w[0];

	memset(c, 0, sizeof(*c));
	c->auth = 1;
	if (strcmp(cmd, "status") == 0 && n == 1) {
		c->method = "GET";
		c->auth = 0;
		snprintf(c->path, sizeof(c->path), "/health");
	} else if (strcmp(cmd, "whoami") == 0 && n == 1) {
		c->method = "GET";
		snprintf(c->path, sizeof(c->path), "/v1/whoami");
	} else if (strcmp(cmd, "verify") == 0 && n == 1) {
		c->method = "POST";
		c->is_verify = 1;
		snprintf(c->path, sizeof(c->path), "/v1/verify");
		snprintf(c->query, sizeof(c->query), "deep=%d", o->deep);
	} else if (strcmp(cmd, "user") == 0 || strcmp(cmd, "users") == 0) {
		return build_user(c, o, n - 1, w + 1);
	} else if (strcmp(cmd, "unit") == 0 || strcmp(cmd, "units") == 0) {
		return build_unit(c, o, n - 1, w + 1);
	} else if ((strcmp(cmd, "grant") == 0 || strcmp(cmd, "revoke") == 0) && n == 3) {
		if (!valid_name(w[1]) || !valid_name(w[2]))
			return usage("bad name in", valid_name(w[1]) ? w[2] : w[1]);
		c->method = cmd[0] == 'g' ? "PUT" : "DELETE";
		snprintf(c->path, sizeof(c->path), "/v1/users/%s/grants/%s", w[1], w[2]);
	} else if (strcmp(cmd, "grants") == 0 && n == 2) {
		if (!valid_name(w[1]))
			return usage("bad user name", w[1]);
		c->method = "GET";
		snprintf(c->path, sizeof(c->path), "/v1/users/%s/grants", w[1]);
	} else {
		return usage("unknown command or wrong number of arguments:", cmd);
	}
	return DD_OK;
}

/* Fills in keys from the environment and the credentials file. */
static int resolve_keys(struct opts *o, gw_root_creds *file_creds)
{
	const char *path = o->creds ? o->creds : getenv("DEDUPD_CREDENTIALS");
	dd_buf b;
	int rc;

	if (!o->ak)
		o->ak = getenv("DEDUPD_ACCESS_KEY");
	if (!o->sk)
		o->sk = getenv("DEDUPD_SECRET_KEY");
	if ((o->ak && o->sk) || !path)
		return DD_OK;
	dd_buf_init(&b, 64 * 1024);
	rc = dd_read_file(path, &b);
	if (rc == DD_OK)
		rc = gw_creds_parse(b.data ? b.data : "", b.len, file_creds);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	dd_buf_release(&b);
	if (rc != DD_OK) {
		fprintf(stderr, "dedupctl: cannot read credentials from %s: %s\n",
			path, dd_strerror(rc));
		return EXIT_USAGE;
	}
	if (!o->ak)
		o->ak = file_creds->access_key;
	if (!o->sk)
		o->sk = file_creds->secret_key;
	return DD_OK;
}

struct resp {
	dd_buf body;
	int verify_ok;  /* X-Dedupd-Verify: ok */
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;

	if (dd_buf_append(&r->body, p, size * n) != DD_OK)
		return 0; /* aborts the transfer */
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	static const char name[] = "x-dedupd-verify:";
	size_t len = size * n, k = sizeof(name) - 1;

	if (len >= k && dd_str_casecmp_c((dd_str){p, k}, name) == 0) {
		dd_str v = {p + k, len - k};
		while (v.len && (v.p[0] == ' ' || v.p[0] == '\t')) {
			v.p++;
			v.len--;
		}
		r->verify_ok = v.len >= 2 && memcmp(v.p, "ok", 2) == 0;
	}
	return len;
}

/* Performs c; fills r and *status. Returns DD_OK or EXIT_CONN. */
static int perform(const struct opts *o, const struct call *c, struct resp *r,
		   long *status)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[2048], *base;
	size_t blen;
	CURLcode cc;

	if (!h)
		return EXIT_CONN;
	base = strdup(o->url);
	if (!base) {
		curl_easy_cleanup(h);
		return EXIT_CONN;
	}
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		base[--blen] = '\0';
	snprintf(url, sizeof(url), "%s%s%s%s", base, c->path, c->query[0] ? "?" : "",
		 c->query);
	free(base);
	hdrs = curl_slist_append(hdrs, o->json ? "Accept: application/json" :
					"Accept: text/plain");
	if (c->auth) {
		/* s3api requires a signed payload hash; the body is empty. */
		hdrs = curl_slist_append(hdrs, "x-amz-content-sha256: " EMPTY_SHA256);
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
		curl_easy_setopt(h, CURLOPT_USERNAME, o->ak);
		curl_easy_setopt(h, CURLOPT_PASSWORD, o->sk);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* Never let curl fold "/../" steps: names are checked, but the URL
	 * must reach the server exactly as built. */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "dedupctl/" DD_VERSION);
	if (o->timeout > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout);
	if (o->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	else
		fprintf(stderr, "dedupctl: %s: %s\n", o->url, curl_easy_strerror(cc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return cc == CURLE_OK ? DD_OK : EXIT_CONN;
}

/* Prints the answer; returns the exit code for status. */
static int report(const struct opts *o, const struct call *c,
		  const struct resp *r, long status)
{
	const char *body = r->body.data ? r->body.data : "";
	int ok = status >= 200 && status < 300;

	if (ok || o->json)
		fputs(body, stdout);
	if (o->json && r->body.len && body[r->body.len - 1] != '\n')
		fputc('\n', stdout);
	if (!ok && !o->json)
		fprintf(stderr, "dedupctl: HTTP %ld\n%s", status, body);
	else if (!ok)
		fprintf(stderr, "dedupctl: HTTP %ld\n", status);
	if (ok && c->is_user_add && !o->json)
		fprintf(stderr, "dedupctl: store the secret key now: it is not shown again\n");
	if (status == 401 || status == 403)
		return EXIT_AUTH;
	if (!ok || (c->is_verify && !r->verify_ok))
		return EXIT_SERVER;
	return EXIT_OK_;
}

enum { OPT_URL = 256, OPT_AK, OPT_SK, OPT_CREDS, OPT_CACERT, OPT_TIMEOUT,
       OPT_JSON, OPT_ADMIN, OPT_DEEP, OPT_SOFT, OPT_HARD };

static const struct option long_opts[] = {
	{"admin-url", required_argument, NULL, OPT_URL},
	{"access-key", required_argument, NULL, OPT_AK},
	{"secret-key", required_argument, NULL, OPT_SK},
	{"credentials", required_argument, NULL, OPT_CREDS},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"admin", no_argument, NULL, OPT_ADMIN},
	{"deep", no_argument, NULL, OPT_DEEP},
	{"quota-soft", required_argument, NULL, OPT_SOFT},
	{"soft", required_argument, NULL, OPT_SOFT},
	{"quota-hard", required_argument, NULL, OPT_HARD},
	{"hard", required_argument, NULL, OPT_HARD},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/*
 * Parses options anywhere on the line (GNU getopt permutes), leaving the
 * command words in argv[optind..]. Returns -1 to go on, else an exit code.
 */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_URL: o->url = optarg; break;
		case OPT_AK: o->ak = optarg; break;
		case OPT_SK: o->sk = optarg; break;
		case OPT_CREDS: o->creds = optarg; break;
		case OPT_CACERT: o->cacert = optarg; break;
		case OPT_TIMEOUT:
			o->timeout = strtol(optarg, &end, 10);
			if (*end || o->timeout < 0)
				return usage("bad --timeout", optarg);
			break;
		case OPT_JSON: o->json = 1; break;
		case OPT_ADMIN: o->admin = 1; break;
		case OPT_DEEP: o->deep = 1; break;
		case OPT_SOFT: o->soft = optarg; break;
		case OPT_HARD: o->hard = optarg; break;
		case 'h': fputs(help_text, stdout); return EXIT_OK_;
		case 'V': printf("dedupctl %s\n", DD_VERSION); return EXIT_OK_;
		default: return usage("bad option", NULL);
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct call c;
	struct resp r;
	gw_root_creds file_creds;
	long status = 0;
	int code;

	memset(&o, 0, sizeof(o));
	memset(&file_creds, 0, sizeof(file_creds));
	if ((code = parse_opts(argc, argv, &o)) >= 0)
		return code;
	if (optind >= argc)
		return usage("missing command", NULL);
	if ((code = build_call(&c, &o, argc - optind, argv + optind)) != DD_OK)
		return code;
	if (!o.url)
		o.url = getenv("DEDUPD_ADMIN_URL");
	if (!o.url || !*o.url)
		o.url = DEFAULT_URL;
	if (c.auth && (code = resolve_keys(&o, &file_creds)) != DD_OK)
		goto out;
	if (c.auth && (!o.ak || !o.sk || !*o.ak || !*o.sk)) {
		code = usage("no admin keys: give --access-key/--secret-key, "
			     "DEDUPD_ACCESS_KEY/DEDUPD_SECRET_KEY or --credentials", NULL);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		code = EXIT_CONN;
		goto out;
	}
	memset(&r, 0, sizeof(r));
	dd_buf_init(&r.body, 64 * 1024 * 1024);
	code = perform(&o, &c, &r, &status);
	if (code == DD_OK)
		code = report(&o, &c, &r, status);
	if (r.body.data)
		OPENSSL_cleanse(r.body.data, r.body.len); /* may hold a secret */
	dd_buf_release(&r.body);
	curl_global_cleanup();
out:
	OPENSSL_cleanse(&file_creds, sizeof(file_creds));
	return code;
}
