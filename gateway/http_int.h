/*
 * gateway/http_int.h - internals shared by http_parse.c and http.c (not a
 * public header: other modules use gateway/http.h).
 */
#ifndef DD_GATEWAY_HTTP_INT_H
#define DD_GATEWAY_HTTP_INT_H

#include "gateway/http.h"

#include <http_parser.h>
#include <limits.h>

struct gw_hp;

/* What the owner of a gw_hp does at each step; non-zero stops parsing. */
struct gw_hp_hooks {
	int (*headers_complete)(struct gw_hp *h);
	int (*body)(struct gw_hp *h, const char *p, size_t n);
	int (*message_complete)(struct gw_hp *h);
};

struct gw_hp_off {
	size_t no, nl, vo, vl; /* name/value offsets and lengths in head */
};

/* Parser state of one connection: the head of the current request. */
struct gw_hp {
	http_parser parser;
	dd_buf head;        /* URL then header names and values */
	struct gw_hp_off off[GW_HTTP_MAX_HEADERS];
	gw_http_header hdrs[GW_HTTP_MAX_HEADERS];
	size_t nh;
	size_t url_len;
	int in_value;
	int error_status;   /* 431 etc. set by a callback */
	int keepalive;      /* http_should_keep_alive at headers complete */
	gw_http_req req;
	const struct gw_hp_hooks *hooks;
	void *owner;
	const char *listener;
};

void gw_hp_init(struct gw_hp *h, size_t max_header_bytes,
		const struct gw_hp_hooks *hooks, void *owner,
		const char *listener);
void gw_hp_release(struct gw_hp *h);
/* http_parser_execute with our callbacks; returns bytes consumed. */
size_t gw_hp_execute(struct gw_hp *h, const char *p, size_t n);
/* The status to answer after a parse error (400, 431). */
int gw_hp_error_status(struct gw_hp *h);

#endif /* DD_GATEWAY_HTTP_INT_H */
