/*
 * ddproto/store_seg.h - the ddp_store_ops adapter onto the real store
 * (segstore/seg.h), as docs/DDP.md section 10 maps it. The gateway gives
 * every DDP session the same adapter; it is thread-safe (the store is, and
 * the adapter's own state, the detached writers, is under a mutex).
 */
#ifndef DD_DDPROTO_STORE_SEG_H
#define DD_DDPROTO_STORE_SEG_H

#include "ddproto/ddp.h"
#include "segstore/seg.h"

typedef struct ddp_segstore ddp_segstore;

/* The vtable; pass a ddp_segstore as its ctx. */
extern const ddp_store_ops ddp_segstore_ops;

/*
 * Returns an adapter over st (borrowed: it must outlive the adapter) that
 * keeps dropped writers resumable for resume_ttl_s seconds, or NULL (ENOMEM).
 */
ddp_segstore *ddp_segstore_new(seg_store *st, uint32_t resume_ttl_s);
/* Frees the adapter and aborts every detached writer. Sessions using it
 * must be freed first. NULL is a no-op. */
void ddp_segstore_free(ddp_segstore *a);
/* Number of writers kept for resume (tests). */
size_t ddp_segstore_detached(ddp_segstore *a);

#endif /* DD_DDPROTO_STORE_SEG_H */
