/*
 * gateway/config.c - the INI configuration parser. Pure: bytes in, struct
 * out; every error names the source, line and key. Keys come from one
 * table, so the parser, the defaults and docs/CONFIG.md stay in step.
 */
#include "gateway/gw.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum key_type { K_PATH, K_STR, K_LEVEL, K_ADDR, K_UINT, K_REGION };

struct key_def {
	const char *section;
	const char *key;
	enum key_type type;
	size_t off;   /* offset in gw_config */
	size_t size;  /* size of the field (strings) */
	unsigned min, max; /* K_UINT bounds */
};

#define F(field) offsetof(gw_config, field), sizeof(((gw_config *)0)->field)

static const struct key_def keys[] = {
	{"server", "data_dir", K_PATH, F(data_dir), 0, 0},
	{"server", "log_level", K_LEVEL, F(log_level), 0, 0},
	{"server", "log_file", K_PATH, F(log_file), 0, 0},
	{"server", "io_threads", K_UINT, F(io_threads), 0, 256},
	{"server", "worker_threads", K_UINT, F(worker_threads), 0, 1024},
	{"server", "shutdown_grace_seconds", K_UINT, F(shutdown_grace_seconds), 0, 3600},
	{"s3", "listen", K_ADDR, F(s3.listen), 0, 0},
	{"s3", "domain", K_STR, F(s3_domain), 0, 0},
	{"s3", "region", K_REGION, F(s3_region), 0, 0},
	{"s3", "max_put_gib", K_UINT, F(s3_max_put_gib), 1, 5120},
	{"s3", "tls_cert", K_PATH, F(s3.tls_cert), 0, 0},
	{"s3", "tls_key", K_PATH, F(s3.tls_key), 0, 0},
	{"ddp", "listen", K_ADDR, F(ddp.listen), 0, 0},
	{"ddp", "tls_cert", K_PATH, F(ddp.tls_cert), 0, 0},
	{"ddp", "tls_key", K_PATH, F(ddp.tls_key), 0, 0},
	{"admin", "listen", K_ADDR, F(admin.listen), 0, 0},
	{"admin", "tls_cert", K_PATH, F(admin.tls_cert), 0, 0},
	{"admin", "tls_key", K_PATH, F(admin.tls_key), 0, 0},
	{"limits", "max_connections", K_UINT, F(max_connections), 1, 1000000},
	{"limits", "max_header_bytes", K_UINT, F(max_header_bytes), 1024, 1048576},
	{"limits", "idle_timeout_seconds", K_UINT, F(idle_timeout_seconds), 1, 86400},
	{"store", "chunk_avg_kib", K_UINT, F(chunk_avg_kib), 1, 1024},
	{"store", "container_mib", K_UINT, F(container_mib), 1, 4096},
};

static const char *const sections[] = {"server", "s3", "ddp", "admin",
				       "limits", "store"};

const char gw_config_default_text[] =
	"# dedupd built-in configuration (used when no -c is given)\n"
	"[server]\n"
	"data_dir = /var/lib/dedupd\n"
	"log_level = info\n"
	"log_file =\n"
	"io_threads = 0\n"
	"worker_threads = 0\n"
	"shutdown_grace_seconds = 5\n"
	"[s3]\n"
	"listen = 127.0.0.1:9000\n"
	"domain =\n"
	"region = us-east-1\n"
	"max_put_gib = 5\n"
	"tls_cert =\n"
	"tls_key =\n"
	"[ddp]\n"
	"listen = 127.0.0.1:2052\n"
	"tls_cert =\n"
	"tls_key =\n"
	"[admin]\n"
	"listen = 127.0.0.1:9001\n"
	"tls_cert =\n"
	"tls_key =\n"
	"[limits]\n"
	"max_connections = 1024\n"
	"max_header_bytes = 32768\n"
	"idle_timeout_seconds = 60\n"
	"[store]\n"
	"chunk_avg_kib = 8\n"
	"container_mib = 32\n";

void gw_config_defaults(gw_config *cfg)
{
	gw_config_err err;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = gw_config_parse(cfg, gw_config_default_text,
			     sizeof(gw_config_default_text) - 1, "<built-in>",
			     &err);
	DD_ASSERT(rc == DD_OK);
}

static void set_err(gw_config_err *err, const char *fname, int line,
		    const char *fmt, ...) DD_PRINTF(4, 5);

static void set_err(gw_config_err *err, const char *fname, int line,
		    const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err->line = line;
	if (line > 0)
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s", fname, line,
			 what);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s", fname, what);
}

static int parse_port(const char *p, size_t n, uint16_t *out)
{
	uint64_t v;

	if (dd_str_to_u64((dd_str){p, n}, &v) != DD_OK || v > 65535)
		return DD_EINVAL;
	*out = (uint16_t)v;
	return DD_OK;
}

int gw_addr_parse(const char *s, size_t len, gw_addr *out)
{
	const char *colon, *host;
	size_t hlen;
	unsigned char tmp[16];
	gw_addr a;

	memset(&a, 0, sizeof(a));
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || close + 1 >= s + len || close[1] != ':')
			return DD_EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = memrchr(s, ':', len);
		if (!colon)
			return DD_EINVAL;
		host = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(a.host))
		return DD_EINVAL;
	memcpy(a.host, host, hlen);
	a.host[hlen] = '\0';
	if (inet_pton(AF_INET, a.host, tmp) != 1 &&
	    (s[0] != '[' || inet_pton(AF_INET6, a.host, tmp) != 1))
		return DD_EINVAL;
	if (parse_port(colon + 1, (size_t)(s + len - colon - 1), &a.port) !=
	    DD_OK)
		return DD_EINVAL;
	*out = a;
	return DD_OK;
}

void gw_addr_format(const char *host, unsigned port, char *out, size_t cap)
{
	if (strchr(host, ':'))
		snprintf(out, cap, "[%s]:%u", host, port);
	else
		snprintf(out, cap, "%s:%u", host, port);
}

static int valid_region(const char *v, size_t n)
{
	if (n == 0 || n >= 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		      v[i] == '-'))
			return 0;
	return 1;
}

static int valid_domain(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.'))
			return 0;
	return 1;
}

/* Stores one value (v, n) for key k; fills err on a bad value. */
static int store_value(gw_config *cfg, const struct key_def *k, const char *v,
		       size_t n, const char *fname, int line,
		       gw_config_err *err)
{
	char *field = (char *)cfg + k->off;
	char tmp[32];
	uint64_t u;
	int lvl;

	switch (k->type) {
	case K_PATH:
	case K_STR:
	case K_REGION:
		if (n >= k->size || memchr(v, '\0', n))
			goto bad;
		if (k->type == K_REGION && !valid_region(v, n))
			goto bad;
		if (k->type == K_STR && !valid_domain(v, n))
			goto bad;
		memcpy(field, v, n);
		field[n] = '\0';
		return DD_OK;
	case K_LEVEL:
		if (n >= sizeof(tmp))
			goto bad;
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		if ((lvl = dd_log_level_parse(tmp)) < 0)
			goto bad;
		*(int *)(void *)field = lvl;
		return DD_OK;
	case K_ADDR:
		if (gw_addr_parse(v, n, (gw_addr *)(void *)field) != DD_OK)
			goto bad;
		return DD_OK;
	case K_UINT:
		if (dd_str_to_u64((dd_str){v, n}, &u) != DD_OK || u < k->min ||
		    u > k->max)
			goto bad;
		*(unsigned *)(void *)field = (unsigned)u;
		return DD_OK;
	}
bad:
	set_err(err, fname, line, "bad value '%.*s' for key '%s' in [%s]%s",
		(int)DD_MIN(n, 200), v, k->key, k->section,
		k->type == K_ADDR ? " (want ADDR:PORT, e.g. 127.0.0.1:9000)" :
		k->type == K_LEVEL ? " (want error, warn, info or debug)" : "");
	return DD_ECONFIG;
}

static const struct key_def *find_key(const char *sec, const char *key,
				      size_t klen)
{
	for (size_t i = 0; i < DD_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].section, sec) == 0 &&
		    strlen(keys[i].key) == klen &&
		    memcmp(keys[i].key, key, klen) == 0)
			return &keys[i];
	return NULL;
}

static int known_section(const char *s, size_t n)
{
	for (size_t i = 0; i < DD_ARRAY_LEN(sections); i++)
		if (strlen(sections[i]) == n && memcmp(sections[i], s, n) == 0)
			return 1;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

static int printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
			return 0;
	return 1;
}

/* Handles one line (p, n) without its newline. */
static int parse_line(gw_config *cfg, char *section, const char *p, size_t n,
		      const char *fname, int line, gw_config_err *err)
{
	const char *eq, *key, *val;
	size_t klen, vlen;
	const struct key_def *k;

	trim(&p, &n);
	if (n == 0 || p[0] == '#' || p[0] == ';')
		return DD_OK;
	if (!printable(p, n)) {
		set_err(err, fname, line, "control character in line");
		return DD_ECONFIG;
	}
	if (p[0] == '[') {
		const char *name = p + 1;
		size_t nlen;
		if (p[n - 1] != ']') {
			set_err(err, fname, line, "malformed section header");
			return DD_ECONFIG;
		}
		nlen = n - 2;
		trim(&name, &nlen);
		if (!known_section(name, nlen)) {
			set_err(err, fname, line, "unknown section [%.*s]",
				(int)DD_MIN(nlen, 100), name);
			return DD_ECONFIG;
		}
		memcpy(section, name, nlen);
		section[nlen] = '\0';
		return DD_OK;
	}
	eq = memchr(p, '=', n);
	if (!eq) {
		set_err(err, fname, line, "expected 'key = value' or '[section]'");
		return DD_ECONFIG;
	}
	key = p;
	klen = (size_t)(eq - p);
	val = eq + 1;
	vlen = n - klen - 1;
	trim(&key, &klen);
	trim(&val, &vlen);
	if (section[0] == '\0') {
		set_err(err, fname, line, "key '%.*s' outside any section",
			(int)DD_MIN(klen, 100), key);
		return DD_ECONFIG;
	}
	k = find_key(section, key, klen);
	if (!k) {
		set_err(err, fname, line, "unknown key '%.*s' in [%s]",
			(int)DD_MIN(klen, 100), key, section);
		return DD_ECONFIG;
	}
	return store_value(cfg, k, val, vlen, fname, line, err);
}

int gw_config_parse(gw_config *cfg, const char *data, size_t len,
		    const char *fname, gw_config_err *err)
{
	char section[16] = "";
	size_t pos = 0;
	int line = 0, rc;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		line++;
		rc = parse_line(cfg, section, data + pos, n, fname, line, err);
		if (rc != DD_OK)
			return rc;
		pos += n + (nl ? 1 : 0);
	}
	return DD_OK;
}

int gw_config_set(gw_config *cfg, const char *section, const char *key,
		  const char *value, const char *what, gw_config_err *err)
{
	const struct key_def *k = find_key(section, key, strlen(key));

	if (!k) {
		set_err(err, what, 0, "unknown key '%s' in [%s]", key, section);
		return DD_ECONFIG;
	}
	return store_value(cfg, k, value, strlen(value), what, 0, err);
}

static int check_tls(const gw_listen_conf *l, const char *sec,
		     const char *fname, gw_config_err *err)
{
	if ((l->tls_cert[0] == '\0') != (l->tls_key[0] == '\0')) {
		set_err(err, fname, 0,
			"[%s] needs both tls_cert and tls_key, or neither", sec);
		return DD_ECONFIG;
	}
	return DD_OK;
}

int gw_config_check(const gw_config *cfg, const char *fname,
		    gw_config_err *err)
{
	int rc;

	if (cfg->data_dir[0] == '\0') {
		set_err(err, fname, 0, "[server] data_dir is empty");
		return DD_ECONFIG;
	}
	if ((rc = check_tls(&cfg->s3, "s3", fname, err)) != DD_OK ||
	    (rc = check_tls(&cfg->ddp, "ddp", fname, err)) != DD_OK ||
	    (rc = check_tls(&cfg->admin, "admin", fname, err)) != DD_OK)
		return rc;
	return DD_OK;
}
