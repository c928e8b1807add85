/*
 * gateway/http_parse.c - the request-head layer over nodejs http-parser:
 * collects the URL and headers (bounded by max_header_bytes and
 * GW_HTTP_MAX_HEADERS) into one buffer and builds gw_http_req. Pure: the
 * server (http.c) and the fuzz target drive it with bytes.
 */
#include "gateway/http_int.h"

#include <string.h>

static struct gw_hp *hp_of(http_parser *p)
{
	return p->data;
}

/* Appends header bytes; on overflow records 431 and fails the callback. */
static int head_append(struct gw_hp *h, const char *p, size_t n)
{
	if (dd_buf_append(&h->head, p, n) != DD_OK) {
		h->error_status = 431;
		return 1;
	}
	return 0;
}

static int cb_message_begin(http_parser *p)
{
	struct gw_hp *h = hp_of(p);

	dd_buf_reset(&h->head);
	h->nh = 0;
	h->url_len = 0;
	h->in_value = 0;
	return 0;
}

static int cb_url(http_parser *p, const char *at, size_t n)
{
	struct gw_hp *h = hp_of(p);

	h->url_len += n;
	return head_append(h, at, n);
}

static int cb_header_field(http_parser *p, const char *at, size_t n)
{
	struct gw_hp *h = hp_of(p);

	if (h->nh == 0 || h->in_value) {
		if (h->nh == GW_HTTP_MAX_HEADERS) {
			h->error_status = 431;
			return 1;
		}
		h->off[h->nh].no = h->head.len;
		h->off[h->nh].nl = 0;
		h->off[h->nh].vo = h->head.len;
		h->off[h->nh].vl = 0;
		h->nh++;
		h->in_value = 0;
	}
	h->off[h->nh - 1].nl += n;
	return head_append(h, at, n);
}

static int cb_header_value(http_parser *p, const char *at, size_t n)
{
	struct gw_hp *h = hp_of(p);

	if (h->nh == 0)
		return 1;
	if (!h->in_value) {
		h->off[h->nh - 1].vo = h->head.len;
		h->in_value = 1;
	}
	h->off[h->nh - 1].vl += n;
	return head_append(h, at, n);
}

static dd_str trim(dd_str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* Case-insensitive search for token in a comma-separated header value. */
static int has_token(dd_str v, const char *token)
{
	size_t tl = strlen(token);

	while (v.len) {
		const char *comma = memchr(v.p, ',', v.len);
		dd_str part = {v.p, comma ? (size_t)(comma - v.p) : v.len};
		part = trim(part);
		if (part.len == tl && dd_str_casecmp_c(part, token) == 0)
			return 1;
		if (!comma)
			break;
		v.len -= (size_t)(comma - v.p) + 1;
		v.p = comma + 1;
	}
	return 0;
}

static int cb_headers_complete(http_parser *p)
{
	struct gw_hp *h = hp_of(p);
	gw_http_req *r = &h->req;
	const char *base = h->head.data ? h->head.data : "";
	dd_str expect, te;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < h->nh; i++) {
		h->hdrs[i].name = (dd_str){base + h->off[i].no, h->off[i].nl};
		h->hdrs[i].value =
			trim((dd_str){base + h->off[i].vo, h->off[i].vl});
	}
	r->method_id = (int)p->method;
	r->method = http_method_str((enum http_method)p->method);
	r->url = (dd_str){base, h->url_len};
	r->headers = h->hdrs;
	r->nheaders = h->nh;
	r->host = gw_http_header_get(r, "Host");
	if (!r->host.p)
		r->host = (dd_str){"", 0};
	r->http_major = p->http_major;
	r->http_minor = p->http_minor;
	te = gw_http_header_get(r, "Transfer-Encoding");
	r->chunked = te.p && has_token(te, "chunked");
	r->content_length = r->chunked ? 0 : p->content_length;
	if (r->content_length == ULLONG_MAX) /* no Content-Length header */
		r->content_length = 0;
	r->has_body = r->chunked || r->content_length > 0;
	expect = gw_http_header_get(r, "Expect");
	r->expect_continue = expect.p && dd_str_casecmp_c(expect, "100-continue") == 0 &&
			     (p->http_major > 1 || p->http_minor >= 1);
	r->listener = h->listener;
	h->keepalive = http_should_keep_alive(p);
	if (h->hooks->headers_complete(h) != 0)
		return -1; /* error: stop */
	return 0;
}

static int cb_body(http_parser *p, const char *at, size_t n)
{
	struct gw_hp *h = hp_of(p);

	return h->hooks->body ? h->hooks->body(h, at, n) : 0;
}

static int cb_message_complete(http_parser *p)
{
	struct gw_hp *h = hp_of(p);

	return h->hooks->message_complete ? h->hooks->message_complete(h) : 0;
}

static const http_parser_settings settings = {
	.on_message_begin = cb_message_begin,
	.on_url = cb_url,
	.on_header_field = cb_header_field,
	.on_header_value = cb_header_value,
	.on_headers_complete = cb_headers_complete,
	.on_body = cb_body,
	.on_message_complete = cb_message_complete,
};

void gw_hp_init(struct gw_hp *h, size_t max_header_bytes,
		const struct gw_hp_hooks *hooks, void *owner,
		const char *listener)
{
	memset(h, 0, sizeof(*h));
	http_parser_init(&h->parser, HTTP_REQUEST);
	h->parser.data = h;
	dd_buf_init(&h->head, max_header_bytes);
	h->hooks = hooks;
	h->owner = owner;
	h->listener = listener;
}

void gw_hp_release(struct gw_hp *h)
{
	dd_buf_release(&h->head);
}

size_t gw_hp_execute(struct gw_hp *h, const char *p, size_t n)
{
	return http_parser_execute(&h->parser, &settings, p, n);
}

int gw_hp_error_status(struct gw_hp *h)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&h->parser);

	if (h->error_status)
		return h->error_status;
	if (e == HPE_HEADER_OVERFLOW)
		return 431;
	return 400;
}

dd_str gw_http_header_get(const gw_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (dd_str_casecmp_c(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return (dd_str){NULL, 0};
}

/* ---------------------------------------------- standalone parse (fuzzing) */

struct count_state {
	size_t nreq;
};

static int count_headers(struct gw_hp *h)
{
	const gw_http_req *r = &h->req;

	/* Touch every slice so a fuzzer's ASan sees bad bounds. */
	volatile size_t sum = r->url.len + r->host.len;
	for (size_t i = 0; i < r->nheaders; i++)
		sum += r->headers[i].name.len + r->headers[i].value.len;
	(void)sum;
	return 0;
}

static int count_complete(struct gw_hp *h)
{
	((struct count_state *)h->owner)->nreq++;
	return 0;
}

static const struct gw_hp_hooks count_hooks = {
	.headers_complete = count_headers,
	.message_complete = count_complete,
};

int gw_http_parse_bytes(const char *data, size_t len, size_t max_header_bytes,
			size_t *nreq)
{
	struct count_state st = {0};
	struct gw_hp h;
	size_t used;
	int status = 0;

	gw_hp_init(&h, max_header_bytes, &count_hooks, &st, "test");
	used = gw_hp_execute(&h, data, len);
	if (HTTP_PARSER_ERRNO(&h.parser) != HPE_OK || h.parser.upgrade ||
	    used != len)
		status = gw_hp_error_status(&h);
	gw_hp_release(&h);
	*nreq = st.nreq;
	return status;
}
