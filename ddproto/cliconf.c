/*
 * ddproto/cliconf.c - the DDP client configuration file (`ddp --config`):
 * "key = value" lines, '#' comments, blank lines. Pure: bytes in, struct
 * or error out (fuzzed by tests/fuzz/fuzz_ddp_cliconf.c).
 */
#include "ddproto/libddp.h"

#include <stdio.h>
#include <string.h>

static dd_str trim(dd_str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.len--;
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
			 s.p[s.len - 1] == '\r'))
		s.len--;
	return s;
}

/* Copies v into dst (cap bytes with the NUL). 0, or -1 if too long. */
static int put_str(char *dst, size_t cap, dd_str v)
{
	if (v.len >= cap || memchr(v.p, 0, v.len))
		return -1;
	memcpy(dst, v.p, v.len);
	dst[v.len] = '\0';
	return 0;
}

/* One "key = value" line into out. 0, or -1 with err filled. */
static int apply(ddp_cliconf *out, dd_str key, dd_str v, unsigned line,
		 char *err, size_t errcap)
{
	int bad = 0;

	if (dd_str_eq_c(key, "endpoint"))
		bad = put_str(out->endpoint, sizeof(out->endpoint), v);
	else if (dd_str_eq_c(key, "access_key"))
		bad = put_str(out->access_key, sizeof(out->access_key), v);
	else if (dd_str_eq_c(key, "secret_key"))
		bad = put_str(out->secret_key, sizeof(out->secret_key), v);
	else if (dd_str_eq_c(key, "ca_file"))
		bad = put_str(out->ca_file, sizeof(out->ca_file), v);
	else if (dd_str_eq_c(key, "tls")) {
		if (dd_str_eq_c(v, "yes") || dd_str_eq_c(v, "true") || dd_str_eq_c(v, "1"))
			out->tls = 1;
		else if (dd_str_eq_c(v, "no") || dd_str_eq_c(v, "false") || dd_str_eq_c(v, "0"))
			out->tls = 0;
		else
			bad = 1;
	} else {
		/* Name the key only when it looks like one: a line such as
		 * "secret_key hunter2=x" must not echo its secret. */
		int plain = key.len <= 32;

		for (size_t i = 0; plain && i < key.len; i++)
			plain = (key.p[i] >= 'a' && key.p[i] <= 'z') || key.p[i] == '_' ||
				key.p[i] == '-';
		if (plain)
			snprintf(err, errcap, "line %u: unknown key '%.*s'", line,
				 (int)key.len, key.p);
		else
			snprintf(err, errcap, "line %u: unknown key", line);
		return -1;
	}
	if (bad) {
		/* Never echo the value: it may be a secret. */
		snprintf(err, errcap, "line %u: bad value for '%.*s'", line,
			 (int)DD_MIN(key.len, 64), key.p);
		return -1;
	}
	return 0;
}

int ddp_cliconf_parse(const char *data, size_t len, ddp_cliconf *out,
		      char *err, size_t errcap)
{
	size_t off = 0;
	unsigned line = 0;

	memset(out, 0, sizeof(*out));
	if (errcap)
		err[0] = '\0';
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : len - off;
		dd_str l = trim((dd_str){data + off, n});
		const char *eq;

		off += n + (nl ? 1 : 0);
		line++;
		if (l.len == 0 || l.p[0] == '#')
			continue;
		if (!(eq = memchr(l.p, '=', l.len))) {
			snprintf(err, errcap, "line %u: want key = value", line);
			return DD_EINVAL;
		}
		if (apply(out, trim((dd_str){l.p, (size_t)(eq - l.p)}),
			  trim((dd_str){eq + 1, l.len - (size_t)(eq - l.p) - 1}),
			  line, err, errcap) != 0)
			return DD_EINVAL;
	}
	return DD_OK;
}
