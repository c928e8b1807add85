/*
 * gateway/store_open.h - opening the store at startup and serving DDP over
 * it. Kept apart from main.c so that the S3 side (s3_glue.c) can share the
 * one seg_store when the two are reconciled.
 */
#ifndef DD_GATEWAY_STORE_OPEN_H
#define DD_GATEWAY_STORE_OPEN_H

#include "gateway/gw.h"
#include "segstore/seg.h"

/*
 * Opens (creating) the store under data_dir and makes sure the root user
 * exists: user "root", role admin, with the gateway's root credentials
 * (created if its access key is unknown). Returns DD_OK and *out (close
 * with seg_store_close), or the store's error (logged).
 */
int gw_store_open(const char *data_dir, const gw_root_creds *creds,
		  seg_store **out) DD_WUR;

/* The store plus the DDP handler bound to it (gateway/ddp_glue.h). */
typedef struct gw_ddp_serve gw_ddp_serve;

/*
 * Opens the store (gw_store_open) and installs the DDP handler on d.
 * Returns DD_OK and *out, or an error (logged; d keeps closing DDP
 * connections).
 */
int gw_ddp_serve_start(gw_daemon *d, const gw_config *cfg,
		       const gw_root_creds *creds, gw_ddp_serve **out) DD_WUR;
/* After gw_daemon_free: frees the handler and closes the store. NULL ok. */
void gw_ddp_serve_stop(gw_ddp_serve *s);

#endif /* DD_GATEWAY_STORE_OPEN_H */
