/*
 * s3api/target.c - request-target parsing: raw path and query split,
 * percent-decoding, query parameters, path-style vs virtual-hosted-style
 * bucket and key.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = s3i_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int s3_percent_decode(dd_buf *out, dd_str in, int plus_is_space)
{
	size_t run = 0;
	int rc;

	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i], d;
		if (c == '%') {
			int hi, lo;
			if (in.len - i < 3) /* needs "%XY" */
				return DD_EINVAL;
			hi = hexval(in.p[i + 1]);
			lo = hexval(in.p[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return DD_EINVAL;
			d = (char)(hi << 4 | lo);
		} else if (c == '+' && plus_is_space) {
			d = ' ';
		} else if (c == '\0') {
			return DD_EINVAL;
		} else {
			continue;
		}
		if ((rc = dd_buf_append(out, in.p + run, i - run)) != DD_OK ||
		    (rc = dd_buf_append(out, &d, 1)) != DD_OK)
			return rc;
		if (c == '%')
			i += 2;
		run = i + 1;
	}
	return dd_buf_append(out, in.p + run, in.len - run);
}

int s3_uri_encode(dd_buf *out, dd_str in, int encode_slash)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t run = 0;
	int rc;

	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (c == '/' && !encode_slash))
			continue;
		char e[3] = {'%', hx[c >> 4], hx[c & 15]};
		if ((rc = dd_buf_append(out, in.p + run, i - run)) != DD_OK ||
		    (rc = dd_buf_append(out, e, 3)) != DD_OK)
			return rc;
		run = i + 1;
	}
	return dd_buf_append(out, in.p + run, in.len - run);
}

/* Decodes in into the arena; returns S3_OK, S3E_INVALID_URI, INTERNAL. */
static int decode_to_arena(dd_arena *a, dd_str in, int plus, dd_str *out)
{
	dd_buf b;
	int rc;
	char *s;

	dd_buf_init(&b, S3_MAX_TARGET_LEN + 1);
	rc = s3_percent_decode(&b, in, plus);
	if (rc != DD_OK) {
		dd_buf_release(&b);
		return rc == DD_EINVAL ? S3E_INVALID_URI : S3E_INTERNAL_ERROR;
	}
	s = dd_arena_strndup(a, b.data ? b.data : "", b.len);
	*out = (dd_str){s, b.len};
	dd_buf_release(&b);
	return s ? S3_OK : S3E_INTERNAL_ERROR;
}

static int parse_query(dd_arena *a, dd_str q, s3_target *t)
{
	size_t n = 0, start = 0;
	int rc;

	for (size_t i = 0; i < q.len; i++)
		if (q.p[i] == '&')
			n++;
	if (n + 1 > S3_MAX_QUERY_PARAMS)
		return S3E_INVALID_ARGUMENT;
	t->params = dd_arena_alloc(a, (n + 1) * sizeof(*t->params));
	if (!t->params)
		return S3E_INTERNAL_ERROR;
	t->nparams = 0;
	for (size_t i = 0; i <= q.len; i++) {
		if (i < q.len && q.p[i] != '&')
			continue;
		dd_str item = {q.p + start, i - start};
		start = i + 1;
		if (item.len == 0) /* "a=1&&b=2" */
			continue;
		s3_param *p = &t->params[t->nparams];
		const char *eq = memchr(item.p, '=', item.len);
		dd_str name = item, value = {"", 0};
		p->has_value = eq != NULL;
		if (eq) {
			name.len = (size_t)(eq - item.p);
			value = (dd_str){eq + 1, item.len - name.len - 1};
		}
		if ((rc = decode_to_arena(a, name, 1, &p->name)) != S3_OK ||
		    (rc = decode_to_arena(a, value, 1, &p->value)) != S3_OK)
			return rc;
		t->nparams++;
	}
	return S3_OK;
}

/* Host without ":port" (IPv6 "[::1]:9000" keeps its brackets). */
static dd_str host_name(dd_str host)
{
	host = s3i_trim(host);
	if (host.len && host.p[0] == '[') {
		const char *rb = memchr(host.p, ']', host.len);
		if (rb)
			host.len = (size_t)(rb - host.p) + 1;
		return host;
	}
	for (size_t i = host.len; i > 0; i--) {
		if (host.p[i - 1] == ':') {
			host.len = i - 1;
			break;
		}
		if (host.p[i - 1] < '0' || host.p[i - 1] > '9')
			break;
	}
	if (host.len && host.p[host.len - 1] == '.') /* FQDN dot */
		host.len--;
	return host;
}

int s3_target_parse(dd_arena *a, dd_str target, dd_str host, dd_str domain,
		    s3_target *out)
{
	const char *qm;
	dd_str hn, path;
	int rc;

	memset(out, 0, sizeof(*out));
	out->bucket = out->key = out->raw_query = (dd_str){"", 0};
	if (target.len == 0 || target.p[0] != '/' ||
	    target.len > S3_MAX_TARGET_LEN)
		return S3E_INVALID_URI;
	for (size_t i = 0; i < target.len; i++) {
		unsigned char c = (unsigned char)target.p[i];
		if (c <= 0x20 || c == 0x7f || c == '#')
			return S3E_INVALID_URI;
	}
	qm = memchr(target.p, '?', target.len);
	out->raw_path = target;
	if (qm) {
		out->raw_path.len = (size_t)(qm - target.p);
		out->raw_query = (dd_str){qm + 1, target.len - out->raw_path.len - 1};
	}
	if ((rc = decode_to_arena(a, out->raw_path, 0, &out->path)) != S3_OK)
		return rc;
	if ((rc = parse_query(a, out->raw_query, out)) != S3_OK)
		return rc;

	path = (dd_str){out->path.p + 1, out->path.len - 1}; /* skip '/' */
	hn = host_name(host);
	domain = host_name(domain); /* a configured "host:port" works too */
	if (domain.len && hn.len > domain.len + 1 &&
	    hn.p[hn.len - domain.len - 1] == '.' &&
	    s3i_caseeq((dd_str){hn.p + hn.len - domain.len, domain.len},
		       domain)) {
		out->virtual_host = 1;
		out->bucket = (dd_str){hn.p, hn.len - domain.len - 1};
		out->key = path;
		return S3_OK;
	}
	const char *slash = memchr(path.p, '/', path.len);
	if (!slash) {
		out->bucket = path;
		return S3_OK;
	}
	out->bucket = (dd_str){path.p, (size_t)(slash - path.p)};
	out->key = (dd_str){slash + 1, path.len - out->bucket.len - 1};
	return S3_OK;
}

const s3_param *s3_param_get(const s3_target *t, const char *name)
{
	for (size_t i = 0; i < t->nparams; i++)
		if (dd_str_eq_c(t->params[i].name, name))
			return &t->params[i];
	return NULL;
}
