/*
 * gateway/s3_glue.h - the S3 listener's HTTP handler on top of s3api's
 * request handlers, and the store the daemon opens for it.
 */
#ifndef DD_GATEWAY_S3_GLUE_H
#define DD_GATEWAY_S3_GLUE_H

#include "gateway/gw.h"

/*
 * Opens the store in cfg->data_dir, makes sure the root user (creds, role
 * admin) exists in its catalog, and installs the S3 handler on d. Returns
 * -1 on success, else a dedupd exit code (message on stderr).
 */
int gw_s3_glue_start(gw_daemon *d, const gw_config *cfg,
		     const gw_root_creds *creds);
/* Closes the store; call after gw_daemon_free. Safe without a start. */
void gw_s3_glue_stop(void);

#endif /* DD_GATEWAY_S3_GLUE_H */
