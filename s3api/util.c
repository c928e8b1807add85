/*
 * s3api/util.c - small pure helpers: header lookup, names and keys, Range,
 * HTTP/ISO/amz dates, conditional requests, user metadata, request ids.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

dd_str s3i_trim(dd_str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int s3i_is_hex64(dd_str s)
{
	if (s.len != 64)
		return 0;
	for (size_t i = 0; i < 64; i++) {
		char c = s3i_lower(s.p[i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

int s3i_caseeq(dd_str a, dd_str b)
{
	if (a.len != b.len)
		return 0;
	for (size_t i = 0; i < a.len; i++)
		if (s3i_lower(a.p[i]) != s3i_lower(b.p[i]))
			return 0;
	return 1;
}

int s3_req_header(const s3_request *r, const char *name, dd_str *value)
{
	dd_str n = dd_str_c(name);

	for (size_t i = 0; i < r->nheaders; i++) {
		if (s3i_caseeq(r->headers[i].name, n)) {
			*value = r->headers[i].value;
			return 1;
		}
	}
	*value = (dd_str){"", 0};
	return 0;
}

int s3_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = 0;

	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* ------------------------------------------------------ names, keys */

static int is_ipv4_like(dd_str s)
{
	int dots = 0;

	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '.')
			dots++;
		else if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	}
	return dots == 3;
}

int s3_bucket_name_check(dd_str n)
{
	if (n.len < 3 || n.len > 63)
		return S3E_INVALID_BUCKET_NAME;
	for (size_t i = 0; i < n.len; i++) {
		char c = n.p[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '.')
			return S3E_INVALID_BUCKET_NAME;
		if ((i == 0 || i == n.len - 1) && !alnum)
			return S3E_INVALID_BUCKET_NAME;
		if (c == '.' && (n.p[i - 1] == '.' || n.p[i - 1] == '-' ||
				 n.p[i + 1] == '-'))
			return S3E_INVALID_BUCKET_NAME;
	}
	if (is_ipv4_like(n) || dd_str_starts_with(n, "xn--") ||
	    dd_str_starts_with(n, "sthree-") ||
	    (n.len >= 8 && memcmp(n.p + n.len - 8, "-s3alias", 8) == 0) ||
	    (n.len >= 7 && memcmp(n.p + n.len - 7, "--ol-s3", 7) == 0))
		return S3E_INVALID_BUCKET_NAME;
	return S3_OK;
}

/* Length of the valid UTF-8 sequence at p (no overlongs/surrogates), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int s3_key_check(dd_str key)
{
	const unsigned char *p = (const unsigned char *)key.p;

	if (key.len == 0)
		return S3E_INVALID_ARGUMENT;
	if (key.len > S3_MAX_KEY_LEN)
		return S3E_KEY_TOO_LONG;
	for (size_t i = 0; i < key.len;) {
		size_t l = utf8_seq(p + i, key.len - i);
		if (!l || p[i] == 0)
			return S3E_INVALID_ARGUMENT;
		i += l;
	}
	return S3_OK;
}

/* ------------------------------------------------------------ Range */

/* Parses digits [p, p+n) as uint64; 0 on success. */
static int parse_u64(const char *p, size_t n, uint64_t *v)
{
	return dd_str_to_u64((dd_str){p, n}, v) == DD_OK ? 0 : -1;
}

int s3_range_parse(dd_str hdr, uint64_t size, s3_range *out)
{
	dd_str s = s3i_trim(hdr);
	const char *dash;
	uint64_t a, b;
	size_t ai, bi;

	if (!dd_str_starts_with(s, "bytes="))
		return S3_RANGE_NONE;
	s.p += 6;
	s.len -= 6;
	s = s3i_trim(s);
	if (memchr(s.p, ',', s.len)) /* multiple ranges: S3 ignores them */
		return S3_RANGE_NONE;
	dash = memchr(s.p, '-', s.len);
	if (!dash)
		return S3_RANGE_NONE;
	ai = (size_t)(dash - s.p);
	bi = s.len - ai - 1;
	if (ai == 0) { /* suffix: last b bytes */
		if (parse_u64(dash + 1, bi, &b))
			return S3_RANGE_NONE;
		if (b == 0 || size == 0)
			return -S3E_INVALID_RANGE;
		if (b > size)
			b = size;
		out->start = size - b;
		out->len = b;
		return S3_RANGE_OK;
	}
	if (parse_u64(s.p, ai, &a))
		return S3_RANGE_NONE;
	if (bi == 0) {
		b = UINT64_MAX;
	} else {
		if (parse_u64(dash + 1, bi, &b))
			return S3_RANGE_NONE;
		if (b < a) /* syntactically invalid per RFC 9110: ignored */
			return S3_RANGE_NONE;
	}
	if (a >= size)
		return -S3E_INVALID_RANGE;
	if (b >= size)
		b = size - 1;
	out->start = a;
	out->len = b - a + 1;
	return S3_RANGE_OK;
}

/* ------------------------------------------------------------ dates */

static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu",
				     "Fri", "Sat"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr",
				       "May", "Jun", "Jul", "Aug",
				       "Sep", "Oct", "Nov", "Dec"};

size_t s3_time_rfc1123(int64_t unix_s, char *out, size_t cap)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	int n;

	if (!gmtime_r(&t, &tm))
		return 0;
	n = snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		     wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

size_t s3_time_iso8601(int64_t unix_ms, char *out, size_t cap)
{
	int64_t s = unix_ms / 1000, ms = unix_ms % 1000;
	time_t t;
	struct tm tm;
	int n;

	if (ms < 0) {
		ms += 1000;
		s--;
	}
	t = (time_t)s;
	if (!gmtime_r(&t, &tm))
		return 0;
	n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)ms);
	return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int mkutc(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31};

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60 || h < 0 ||
	    mi < 0 || s < 0)
		return DD_EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return DD_EINVAL;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	       h * 3600 + mi * 60 + s;
	return DD_OK;
}

/* Reads exactly n digits at s[*i]; -1 when not digits. */
static int digits(dd_str s, size_t *i, size_t n)
{
	int v = 0;

	if (*i + n > s.len)
		return -1;
	for (size_t k = 0; k < n; k++) {
		char c = s.p[*i + k];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += n;
	return v;
}

static int expect(dd_str s, size_t *i, const char *lit)
{
	size_t n = strlen(lit);

	if (*i + n > s.len || memcmp(s.p + *i, lit, n) != 0)
		return -1;
	*i += n;
	return 0;
}

static int month_at(dd_str s, size_t *i)
{
	if (*i + 3 > s.len)
		return -1;
	for (int m = 0; m < 12; m++)
		if (memcmp(s.p + *i, months[m], 3) == 0) {
			*i += 3;
			return m + 1;
		}
	return -1;
}

static int hms(dd_str s, size_t *i, int *h, int *mi, int *sec)
{
	if ((*h = digits(s, i, 2)) < 0 || expect(s, i, ":") ||
	    (*mi = digits(s, i, 2)) < 0 || expect(s, i, ":") ||
	    (*sec = digits(s, i, 2)) < 0)
		return -1;
	return 0;
}

int s3_time_parse_http(dd_str s, int64_t *unix_s)
{
	int d, mo, y, h, mi, sec;
	const char *comma;
	size_t i;

	s = s3i_trim(s);
	comma = memchr(s.p, ',', s.len);
	if (comma && comma - s.p == 3) { /* RFC 1123: Sun, 06 Nov 1994 08:49:37 GMT */
		i = 5;
		if (s.len < 5 || s.p[4] != ' ' || (d = digits(s, &i, 2)) < 0 ||
		    expect(s, &i, " ") || (mo = month_at(s, &i)) < 0 ||
		    expect(s, &i, " ") || (y = digits(s, &i, 4)) < 0 ||
		    expect(s, &i, " ") || hms(s, &i, &h, &mi, &sec) ||
		    expect(s, &i, " GMT") || i != s.len)
			return DD_EINVAL;
	} else if (comma) { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		i = (size_t)(comma - s.p) + 1;
		if (expect(s, &i, " ") || (d = digits(s, &i, 2)) < 0 ||
		    expect(s, &i, "-") || (mo = month_at(s, &i)) < 0 ||
		    expect(s, &i, "-") || (y = digits(s, &i, 2)) < 0 ||
		    expect(s, &i, " ") || hms(s, &i, &h, &mi, &sec) ||
		    expect(s, &i, " GMT") || i != s.len)
			return DD_EINVAL;
		y += y < 70 ? 2000 : 1900;
	} else { /* asctime: Sun Nov  6 08:49:37 1994 */
		i = 4;
		if (s.len < 4 || (mo = month_at(s, &i)) < 0 ||
		    expect(s, &i, " "))
			return DD_EINVAL;
		if (i < s.len && s.p[i] == ' ') {
			i++;
			d = digits(s, &i, 1);
		} else {
			d = digits(s, &i, 2);
		}
		if (d < 0 || expect(s, &i, " ") || hms(s, &i, &h, &mi, &sec) ||
		    expect(s, &i, " ") || (y = digits(s, &i, 4)) < 0 ||
		    i != s.len)
			return DD_EINVAL;
	}
	return mkutc(y, mo, d, h, mi, sec, unix_s);
}

int s3_time_parse_amz(dd_str s, int64_t *unix_s)
{
	int y, mo, d, h, mi, sec;
	size_t i = 0;

	if (s.len != 16 || (y = digits(s, &i, 4)) < 0 ||
	    (mo = digits(s, &i, 2)) < 0 || (d = digits(s, &i, 2)) < 0 ||
	    expect(s, &i, "T") || (h = digits(s, &i, 2)) < 0 ||
	    (mi = digits(s, &i, 2)) < 0 || (sec = digits(s, &i, 2)) < 0 ||
	    expect(s, &i, "Z"))
		return DD_EINVAL;
	return mkutc(y, mo, d, h, mi, sec, unix_s);
}

int s3_time_parse_iso8601(dd_str s, int64_t *unix_s)
{
	int y, mo, d, h, mi, sec;
	size_t i = 0;

	if ((y = digits(s, &i, 4)) < 0 || expect(s, &i, "-") ||
	    (mo = digits(s, &i, 2)) < 0 || expect(s, &i, "-") ||
	    (d = digits(s, &i, 2)) < 0 || expect(s, &i, "T") ||
	    hms(s, &i, &h, &mi, &sec))
		return DD_EINVAL;
	if (i < s.len && s.p[i] == '.') {
		i++;
		size_t start = i;
		while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return DD_EINVAL;
	}
	if (expect(s, &i, "Z") || i != s.len)
		return DD_EINVAL;
	return mkutc(y, mo, d, h, mi, sec, unix_s);
}

/* ----------------------------------------------------- conditionals */

/* Strips W/ and quotes from one entity-tag. */
static dd_str etag_core(dd_str t)
{
	t = s3i_trim(t);
	if (dd_str_starts_with(t, "W/")) {
		t.p += 2;
		t.len -= 2;
	}
	if (t.len >= 2 && t.p[0] == '"' && t.p[t.len - 1] == '"') {
		t.p++;
		t.len -= 2;
	}
	return t;
}

/* 1 when the comma list hdr matches the object's ETag (or is "*"). */
static int etag_list_match(dd_str hdr, const s3_cond_obj *o)
{
	dd_str want = etag_core(o->etag);
	size_t start = 0;

	for (size_t i = 0; i <= hdr.len; i++) {
		if (i < hdr.len && hdr.p[i] != ',')
			continue;
		dd_str t = s3i_trim((dd_str){hdr.p + start, i - start});
		start = i + 1;
		if (dd_str_eq_c(t, "*"))
			return o->exists;
		if (o->exists && t.len && dd_str_eq(etag_core(t), want))
			return 1;
	}
	return 0;
}

static int cond_header(const s3_request *req, const char *prefix,
		       const char *name, dd_str *v)
{
	char full[64];
	int n = snprintf(full, sizeof(full), "%s%s", prefix, name);

	if (n < 0 || (size_t)n >= sizeof(full))
		return 0;
	return s3_req_header(req, full, v);
}

int s3_cond_eval(const s3_request *req, const char *prefix,
		 const s3_cond_obj *obj, int is_read)
{
	dd_str im, inm, ims, ius;
	int has_im = cond_header(req, prefix, "if-match", &im);
	int has_inm = cond_header(req, prefix, "if-none-match", &inm);
	int has_ims = cond_header(req, prefix, "if-modified-since", &ims);
	int has_ius = cond_header(req, prefix, "if-unmodified-since", &ius);
	/* x-amz-copy-source-if-* read the source: S3 applies the GET rules,
	 * If-Modified-Since included, but a failed one is always 412. */
	int copy = prefix[0] != '\0';
	int64_t t;

	if (has_im) {
		if (!etag_list_match(im, obj))
			return S3E_PRECONDITION_FAILED;
		/* If-Match true: If-Unmodified-Since is ignored (S3). */
	} else if (has_ius && obj->exists &&
		   s3_time_parse_http(ius, &t) == DD_OK && obj->mtime_s > t) {
		return S3E_PRECONDITION_FAILED;
	}
	if (has_inm) {
		if (etag_list_match(inm, obj))
			return is_read && !copy ? S3E_NOT_MODIFIED
						: S3E_PRECONDITION_FAILED;
		/* If-None-Match true: If-Modified-Since is ignored. */
	} else if (has_ims && (is_read || copy) && obj->exists &&
		   s3_time_parse_http(ims, &t) == DD_OK && obj->mtime_s <= t) {
		return copy ? S3E_PRECONDITION_FAILED : S3E_NOT_MODIFIED;
	}
	return S3_OK;
}

/* ---------------------------------------------------------- metadata */

#define S3_META_MAX 2048

int s3_meta_collect(const s3_request *req, dd_buf *out)
{
	size_t total = 0, start = out->len;

	for (size_t i = 0; i < req->nheaders; i++) {
		dd_str n = req->headers[i].name, v;
		if (n.len <= 11 || !s3i_caseeq((dd_str){n.p, 11},
					       DD_STR_LIT("x-amz-meta-")))
			continue;
		v = s3i_trim(req->headers[i].value);
		if (memchr(v.p, '\n', v.len) || memchr(v.p, '\r', v.len))
			return S3E_INVALID_ARGUMENT;
		total += n.len - 11 + v.len;
		if (total > S3_META_MAX)
			return S3E_METADATA_TOO_LARGE;
		/* A repeated name joins its value to the earlier line. */
		int joined = 0;
		for (size_t j = 0; j < i && !joined; j++)
			if (s3i_caseeq(req->headers[j].name, n))
				joined = 1;
		if (joined)
			continue;
		for (size_t k = 11; k < n.len; k++) {
			char c = s3i_lower(n.p[k]);
			if (dd_buf_append(out, &c, 1) != DD_OK)
				goto oom;
		}
		if (dd_buf_append(out, ":", 1) != DD_OK ||
		    dd_buf_append(out, v.p, v.len) != DD_OK)
			goto oom;
		for (size_t j = i + 1; j < req->nheaders; j++) {
			if (!s3i_caseeq(req->headers[j].name, n))
				continue;
			dd_str v2 = s3i_trim(req->headers[j].value);
			if (dd_buf_append(out, ",", 1) != DD_OK ||
			    dd_buf_append(out, v2.p, v2.len) != DD_OK)
				goto oom;
		}
		if (dd_buf_append(out, "\n", 1) != DD_OK)
			goto oom;
	}
	return S3_OK;
oom:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return S3E_INTERNAL_ERROR;
}

int s3_request_id(char out[17])
{
	static const char hx[] = "0123456789ABCDEF";
	uint8_t r[8];
	int rc;

	if ((rc = dd_random_bytes(r, sizeof(r))) != DD_OK)
		return rc;
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hx[r[i] >> 4];
		out[2 * i + 1] = hx[r[i] & 15];
	}
	out[16] = '\0';
	return DD_OK;
}
