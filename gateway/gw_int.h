/*
 * gateway/gw_int.h - gateway internals shared between its files (not a
 * public header).
 */
#ifndef DD_GATEWAY_GW_INT_H
#define DD_GATEWAY_GW_INT_H

#include "gateway/http.h"

/* Context of the admin listener's handler. */
struct gw_admin_ctx {
	const char *data_dir;
};

/* /health, /metrics, 404 for the rest (admin.c). */
extern const gw_http_handler gw_admin_handler;

/* Until s3api/ plugs in: 503 with an S3-style XML error (admin.c). */
extern const gw_http_handler gw_s3_placeholder_handler;

#endif /* DD_GATEWAY_GW_INT_H */
