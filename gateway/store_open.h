/*
 * gateway/store_open.h - opening the one store at startup (shared by the
 * S3 and DDP front ends) and serving DDP over it.
 */
#ifndef DD_GATEWAY_STORE_OPEN_H
#define DD_GATEWAY_STORE_OPEN_H

#include "gateway/gw.h"
#include "segstore/seg.h"

/*
 * Opens (creating) the store under cfg->data_dir with the [store] options
 * and makes sure the root user exists: user "root", role admin, with the
 * gateway's root credentials (created if its access key is unknown;
 * DD_ECONFIG if the store knows that key with another secret). Returns
 * DD_OK and *out (close with seg_store_close after both front ends are
 * stopped), or the error (logged).
 */
int gw_store_open(const gw_config *cfg, const gw_root_creds *creds,
		  seg_store **out) DD_WUR;

/* The store plus the DDP handler bound to it (gateway/ddp_glue.h). */
typedef struct gw_ddp_serve gw_ddp_serve;

/*
 * Installs the DDP handler on d, serving store st (which must outlive it).
 * Returns DD_OK and *out, or DD_ENOMEM.
 */
int gw_ddp_serve_start(gw_daemon *d, const gw_config *cfg, seg_store *st,
		       gw_ddp_serve **out) DD_WUR;
/* After gw_daemon_free: frees the handler (not the store). NULL ok. */
void gw_ddp_serve_stop(gw_ddp_serve *s);

#endif /* DD_GATEWAY_STORE_OPEN_H */
