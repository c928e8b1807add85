/*
 * gateway/s3_glue.h - the S3 listener's HTTP handler on top of s3api's
 * request handlers, and the store the daemon opens for it.
 */
#ifndef DD_GATEWAY_S3_GLUE_H
#define DD_GATEWAY_S3_GLUE_H

#include "gateway/gw.h"
#include "gateway/http.h"
#include "s3api/s3.h"
#include "segstore/seg.h"

/*
 * An owned copy of an HTTP request head as an s3_request, for work that
 * runs in a worker job and may outlive the connection (S3 handlers, the
 * admin API's SigV4 check). Every slice points into mem; req.method is
 * the parser's static string.
 */
typedef struct gw_s3_head {
	s3_request req;
	dd_str host;
	s3_header *hdrs;
	char *mem;
} gw_s3_head;

/* Fills h from r. dd_rc (ENOMEM); release h either way. */
int gw_s3_head_copy(gw_s3_head *h, const gw_http_req *r) DD_WUR;
void gw_s3_head_release(gw_s3_head *h);

/*
 * Installs the S3 handler on d, serving store st (opened by main.c with
 * gw_store_open, which also creates the root user; st must outlive the
 * handler). Returns -1 on success, else a dedupd exit code.
 */
int gw_s3_glue_start(gw_daemon *d, const gw_config *cfg, seg_store *st);
/* Frees the handler (not the store); after gw_daemon_free. Safe without a start. */
void gw_s3_glue_stop(void);

#endif /* DD_GATEWAY_S3_GLUE_H */
