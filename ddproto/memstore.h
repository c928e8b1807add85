/*
 * ddproto/memstore.h - an in-memory implementation of ddp_store_ops, for
 * the session's unit tests and fuzz target (and later libddp's tests). It
 * follows the vtable contract in ddp.h, including per-unit DSP answers and
 * resumable writers, but keeps everything in RAM with linear searches:
 * never use it for real data.
 */
#ifndef DD_DDPROTO_MEMSTORE_H
#define DD_DDPROTO_MEMSTORE_H

#include "ddproto/ddp.h"

typedef struct ddp_memstore ddp_memstore;

extern const ddp_store_ops ddp_memstore_ops;

/* Returns an empty store or NULL. Pass it as the ctx of ddp_memstore_ops. */
ddp_memstore *ddp_memstore_new(void);
/* Frees the store and everything in it, including detached writers. */
void ddp_memstore_free(ddp_memstore *m);
/* Adds a user (access key, secret). DD_EEXIST, DD_ENOMEM. */
int ddp_memstore_add_user(ddp_memstore *m, const char *key, const char *secret) DD_WUR;
/* Adds a unit granted to user. DD_EEXIST, DD_ENOMEM. */
int ddp_memstore_add_unit(ddp_memstore *m, const char *unit, const char *user) DD_WUR;
/* Sets the unit's stream limit (0 = none). */
void ddp_memstore_set_stream_limit(ddp_memstore *m, const char *unit, uint32_t lim);
/* Stores a committed file directly (test setup). */
int ddp_memstore_put_file(ddp_memstore *m, const char *unit, const char *path,
			  const void *data, size_t n) DD_WUR;
/* Finds a committed file; *data valid until the file changes. DD_ENOENT. */
int ddp_memstore_get_file(ddp_memstore *m, const char *unit, const char *path,
			  const uint8_t **data, size_t *n) DD_WUR;
/* Number of distinct segments the unit holds. */
size_t ddp_memstore_segments(ddp_memstore *m, const char *unit);
/* Total bytes of DSP segment data the unit received over dsp_put. */
uint64_t ddp_memstore_received(ddp_memstore *m, const char *unit);
/* Number of writers open or detached (resumable). */
size_t ddp_memstore_writers(ddp_memstore *m);

#endif /* DD_DDPROTO_MEMSTORE_H */
