/*
 * gateway/ddp_glue.h - the DDP listener's protocol handler: one ddp_session
 * (ddproto/ddp.h) per accepted connection, over the store through the
 * segstore adapter (ddproto/store_seg.h).
 */
#ifndef DD_GATEWAY_DDP_GLUE_H
#define DD_GATEWAY_DDP_GLUE_H

#include "gateway/gw.h"
#include "segstore/seg.h"

typedef struct gw_ddp gw_ddp;

/*
 * Returns a DDP handler context over st (borrowed: it must outlive the
 * daemon's connections, i.e. close it after gw_daemon_free) or NULL.
 * cfg is read now (TLS on the DDP listener is advertised in HELLO).
 */
gw_ddp *gw_ddp_new(seg_store *st, const gw_config *cfg);
/* Frees it (after gw_daemon_free); aborts writers kept for resume. */
void gw_ddp_free(gw_ddp *g);
/* The handler to pass to gw_daemon_set_ddp_handler; valid while g is. */
const gw_proto_handler *gw_ddp_handler(gw_ddp *g);

#endif /* DD_GATEWAY_DDP_GLUE_H */
