/*
 * gateway/s3_glue.h - the S3 listener's HTTP handler on top of s3api's
 * request handlers, and the store the daemon opens for it.
 */
#ifndef DD_GATEWAY_S3_GLUE_H
#define DD_GATEWAY_S3_GLUE_H

#include "gateway/gw.h"
#include "segstore/seg.h"

/*
 * Installs the S3 handler on d, serving store st (opened by main.c with
 * gw_store_open, which also creates the root user; st must outlive the
 * handler). Returns -1 on success, else a dedupd exit code.
 */
int gw_s3_glue_start(gw_daemon *d, const gw_config *cfg, seg_store *st);
/* Frees the handler (not the store); after gw_daemon_free. Safe without a start. */
void gw_s3_glue_stop(void);

#endif /* DD_GATEWAY_S3_GLUE_H */
