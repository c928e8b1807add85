/*
 * index/idx.h - the only door to LMDB: one environment holding the
 * fingerprint index and the catalog databases, plus the in-RAM Bloom
 * filter over fingerprints. segstore/ encodes keys and values (layouts in
 * docs/FORMAT.md); this module only stores bytes and counts reads.
 *
 * Threads: an idx_env is shared. A read-only idx_txn may move between
 * threads (MDB_NOTLS) but is used by one at a time. Only one write txn is
 * live at once (segstore's group committer is the only writer).
 */
#ifndef DD_INDEX_IDX_H
#define DD_INDEX_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "common/dd.h"

typedef struct idx_env idx_env;
typedef struct idx_txn idx_txn;
typedef struct idx_cursor idx_cursor;
typedef struct idx_bloom idx_bloom;

/* Named databases (names in docs/FORMAT.md). */
enum idx_db {
	IDX_DB_META = 0, /* format version, chunk params, id counters */
	IDX_DB_FP,       /* fingerprint -> chunk location */
	IDX_DB_CTR,      /* container id -> container record */
	IDX_DB_UNITS,    /* unit name -> unit record */
	IDX_DB_OBJECTS,  /* unit id + key -> object record */
	IDX_DB_USERS,    /* user name -> user record */
	IDX_DB_AKEYS,    /* access key -> user name */
	IDX_DB_GRANTS,   /* user name NUL unit name -> "" */
	IDX_DB_UPLOADS,  /* unit id + key NUL upload id -> upload record */
	IDX_DB_PARTS,    /* upload key NUL part number -> part record */
	IDX_DB_UNITFP,   /* unit id + fingerprint -> "" (DSP membership) */
	IDX_DB_COUNT
};

/*
 * Opens (creating) the environment in directory dir with the given map
 * size (sparse). DD_ELOCKED if the env is locked by another process.
 */
int idx_env_open(const char *dir, uint64_t map_size, idx_env **out) DD_WUR;
void idx_env_close(idx_env *e);
/* Reads (gets and cursor seeks) done since open, for the stats call. */
uint64_t idx_env_reads(idx_env *e);

/*
 * Begins a txn. parent non-NULL makes a nested write txn (its effects roll
 * back alone on abort). Free with commit or abort.
 */
int idx_txn_begin(idx_env *e, idx_txn *parent, int rdonly,
		  idx_txn **out) DD_WUR;
/* Commits (durably, with fsync, for a top-level write txn) and frees. */
int idx_txn_commit(idx_txn *t) DD_WUR;
/* Aborts and frees. NULL is a no-op. */
void idx_txn_abort(idx_txn *t);

/*
 * Looks key up. On DD_OK *val borrows LMDB memory valid until the txn ends
 * or the next write in it. DD_ENOENT.
 */
int idx_get(idx_txn *t, int db, const void *k, size_t kl, dd_str *val) DD_WUR;
/* Stores key -> val. noover: DD_EEXIST if present. */
int idx_put(idx_txn *t, int db, const void *k, size_t kl, const void *v,
	    size_t vl, int noover) DD_WUR;
/* Deletes key. DD_ENOENT. */
int idx_del(idx_txn *t, int db, const void *k, size_t kl) DD_WUR;
/* Number of entries in db. */
uint64_t idx_count(idx_txn *t, int db);

/* Cursors: closed before their txn ends. */
int idx_cursor_open(idx_txn *t, int db, idx_cursor **out) DD_WUR;
void idx_cursor_close(idx_cursor *c);
/*
 * Positions at the first key >= k (k NULL: the first key); fills *key,
 * *val (borrowed like idx_get). DD_ENOENT past the end.
 */
int idx_cursor_seek(idx_cursor *c, const void *k, size_t kl, dd_str *key,
		    dd_str *val) DD_WUR;
/* Next entry. DD_ENOENT at the end. */
int idx_cursor_next(idx_cursor *c, dd_str *key, dd_str *val) DD_WUR;
/* Deletes the entry under the cursor. */
int idx_cursor_del(idx_cursor *c) DD_WUR;

/*
 * Bloom filter over 32-byte fingerprints, about 10 bits per entry and 7
 * probes (~1% false positives per sub-filter). Sized for `expect` entries
 * (at least 1 Mi) and grows by appending sub-filters of twice the size as
 * entries are added, so it never saturates. add and maybe may run
 * concurrently (lock-free except a mutex when growing).
 */
idx_bloom *idx_bloom_new(uint64_t expect);
void idx_bloom_free(idx_bloom *b);
void idx_bloom_add(idx_bloom *b, const uint8_t fp[32]);
/* 0: certainly absent; 1: maybe present. */
int idx_bloom_maybe(const idx_bloom *b, const uint8_t fp[32]);

#endif /* DD_INDEX_IDX_H */
