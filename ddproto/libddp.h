/*
 * ddproto/libddp.h - libddp, the public header of the DDP client library:
 * a blocking client over a socket (or any byte transport, see ddp_io) built
 * on the sans-I/O ddp_client of ddp.h. It writes files with client-side
 * deduplication: the data is cut with seg_chunker_* (the store's chunker),
 * fingerprints go to the server in DSP_QUERY batches and only the segments
 * the storage unit lacks are sent (zstd-compressed when that is smaller).
 *
 * Chunk parameters: libddp asks for the HELLO chunking extension
 * (DDP_FEAT_CHUNKING) and cuts with the chunker parameters the server
 * announces (the store's, fixed per data dir), so its fingerprints match
 * what the server's own chunking stored (S3 writes). A server that does not
 * announce them, an unknown chunker name, or a largest chunk over the DSP
 * max_segment fall back to the store defaults (avg 8 KiB, min 2 KiB, max
 * 64 KiB): DSP still works, it only deduplicates less against S3 data.
 *
 * One ddp_conn is used by one thread at a time. Every function returns a
 * dd_rc; after a server error ddp_conn_error() says what the server said.
 */
#ifndef DD_DDPROTO_LIBDDP_H
#define DD_DDPROTO_LIBDDP_H

#include <stddef.h>
#include <stdint.h>

#include "ddproto/ddp.h"
#include "segstore/seg.h"

/* A byte transport. send writes all n bytes; recv reads 1..cap bytes
 * (*got = 0 at end of stream). Both return a dd_rc. close frees ctx. */
typedef struct ddp_io {
	void *ctx;
	int (*send)(void *ctx, const void *p, size_t n);
	int (*recv)(void *ctx, void *p, size_t cap, size_t *got);
	void (*close)(void *ctx);
} ddp_io;

typedef struct ddp_conn ddp_conn;

/*
 * Runs HELLO + AUTH over io (taken over: closed by ddp_conn_close, also on
 * failure). Returns DD_OK and *out, DD_EAUTH (refused, or the server could
 * not prove it knows the secret), DD_EPROTO, DD_EIO.
 */
int ddp_conn_open_io(const ddp_io *io, const char *access_key, const char *secret,
		     ddp_conn **out) DD_WUR;
/*
 * Connects to host:port ("[v6]:port" for IPv6) over TCP, or TLS when tls
 * is set (server certificate verified against ca_file, or the system store
 * when ca_file is NULL; host name checked), then authenticates as above.
 */
int ddp_conn_connect(const char *endpoint, int tls, const char *ca_file,
		     const char *access_key, const char *secret,
		     ddp_conn **out) DD_WUR;
/*
 * Drops c's transport without BYE (so open writers stay resumable on the
 * server), dials the same endpoint again and authenticates. Returns DD_OK,
 * DD_ENOTSUP for a connection made by ddp_conn_open_io, or the error of
 * ddp_conn_connect; after a failure every call on c returns DD_EIO until a
 * reconnect succeeds. Handles opened before are gone (a writer is reopened
 * by its resume token).
 */
int ddp_conn_reconnect(ddp_conn *c) DD_WUR;
/* Sends BYE (best effort), closes the transport, frees c. NULL: no-op. */
void ddp_conn_close(ddp_conn *c);
/* The last server error "ENOENT: message" ("" if none); valid until the
 * next call on c. */
const char *ddp_conn_error(const ddp_conn *c);
/* Wire counters since connect: frame bytes sent and received. */
void ddp_conn_counters(const ddp_conn *c, uint64_t *sent, uint64_t *received);

/*
 * Fills *out with the chunk parameters ddp_put_fd cuts with on c: the
 * server's announced ones (returns 1) or the defaults (returns 0).
 */
int ddp_chunk_params(const ddp_conn *c, seg_chunk_params *out);

typedef struct ddp_put_stats {
	uint64_t logical;      /* bytes of the file */
	uint64_t wire_sent;    /* frame bytes sent for this put (all requests) */
	uint64_t seg_bytes;    /* segment data bytes sent (after compression) */
	uint64_t segments;     /* segments in the file */
	uint64_t segs_sent;    /* segments whose data was sent */
	uint8_t digest[32];    /* SHA-256 of the file when digest_len == 32 */
	uint8_t digest_len;
	/* resume (ddp_put_fd_opts with retries) */
	uint32_t resumes;           /* reconnections that reopened the writer */
	uint64_t resume_offset;     /* writer length the server held at the last one */
	uint64_t sent_after_resume; /* frame bytes sent since the last resume */
	uint64_t resent_from;       /* internal: connection counter at the resume */
} ddp_put_stats;

/* Writes the bytes read from fd (to its end) as unit:path with DSP.
 * Same as ddp_put_fd_opts with opts NULL (no resume). */
int ddp_put_fd(ddp_conn *c, const char *unit, const char *path, int fd,
	       ddp_put_stats *st) DD_WUR;

typedef struct ddp_put_opts {
	/* Resume: when the connection drops during the put (DD_EIO), up to
	 * `retries` times wait (backoff_ms, doubling, at most 10 s; 0 = 200),
	 * reconnect (ddp_conn_reconnect), reopen the writer with its resume
	 * token and continue from the length the server holds: only what it
	 * lacks is sent again. Needs a connection made by ddp_conn_connect and
	 * a seekable fd (files, block devices; not pipes). 0: no resume. */
	unsigned retries;
	unsigned backoff_ms;
	/* Called after every chunk of the file read (8 MiB) with the stats so
	 * far (logical = bytes read; wire_sent, seg_bytes up to date); NULL =
	 * none. Must not call libddp on this connection. */
	void (*progress)(void *arg, const ddp_put_stats *st);
	void *progress_arg;
} ddp_put_opts;

/* ddp_put_fd with resume and progress (opts may be NULL). */
int ddp_put_fd_opts(ddp_conn *c, const char *unit, const char *path, int fd,
		    const ddp_put_opts *opts, ddp_put_stats *st) DD_WUR;
/*
 * The number of bytes a put of fd will read: st_size for a regular file
 * (a sparse image's holes included), the BLKGETSIZE64 ioctl for a block
 * device (*is_blk = 1). DD_ENOTSUP for anything else (pipes, ttys: the
 * size is unknown), DD_EIO when fstat/ioctl fails. ddp_put_fd reads any
 * of them front to back in 8 MiB pieces: memory stays bounded whatever
 * the size.
 */
int ddp_source_size(int fd, uint64_t *size, int *is_blk) DD_WUR;

/* Writes unit:path's content to fd; *size = bytes written (may be NULL). */
int ddp_get_fd(ddp_conn *c, const char *unit, const char *path, int fd,
	       uint64_t *size) DD_WUR;

typedef struct ddp_stat_info {
	uint8_t type; /* DDP_TYPE_FILE / DDP_TYPE_DIR */
	uint64_t size, mtime_ns;
} ddp_stat_info;

int ddp_stat(ddp_conn *c, const char *unit, const char *path,
	     ddp_stat_info *out) DD_WUR;
/* Calls cb per entry under prefix ("" or ending in '/'), all pages. */
typedef int (*ddp_ls_cb)(void *arg, const ddp_dirent *e);
int ddp_ls(ddp_conn *c, const char *unit, const char *prefix, ddp_ls_cb cb,
	   void *arg) DD_WUR;
int ddp_rm(ddp_conn *c, const char *unit, const char *path) DD_WUR;
int ddp_rename(ddp_conn *c, const char *unit, const char *from, const char *to,
	       uint32_t flags) DD_WUR;
/* Fastcopy (server-side clone); *size may be NULL. */
int ddp_cp(ddp_conn *c, const char *unit, const char *src, const char *dst,
	   uint32_t flags, uint64_t *size) DD_WUR;
/* Calls cb per unit the user is granted, all pages. */
typedef int (*ddp_units_cb)(void *arg, const ddp_unit_info *u);
int ddp_units(ddp_conn *c, ddp_units_cb cb, void *arg) DD_WUR;
int ddp_ustat(ddp_conn *c, const char *unit, ddp_unit_stat *out) DD_WUR;
/*
 * SYNTHESIZE: creates unit:path as the concatenation of ext[0..n) (1..256
 * extents: ranges of committed files of the same unit, or up to 1 MiB of
 * literal bytes each) without moving the existing data: a virtual
 * synthetic full. flags: DDP_NOREPLACE. *size (may be NULL) = new size.
 * Server errors: DD_ENOENT (a source), DD_ERANGE (an extent past its
 * source's end), DD_EEXIST (NOREPLACE), DD_EQUOTA.
 */
int ddp_synthesize(ddp_conn *c, const char *unit, const char *path,
		   const ddp_extent *ext, size_t n, uint32_t flags,
		   uint64_t *size) DD_WUR;
/* UNIT_CREATE (admin users only). */
int ddp_mkunit(ddp_conn *c, const char *unit) DD_WUR;

/* ------------------------------------------------ client config file */

/*
 * What a client config file (`ddp --config FILE`) may set. Empty strings
 * and tls 0 mean "not set"; callers let flags and environment win.
 */
typedef struct ddp_cliconf {
	char endpoint[256];
	char access_key[129];
	char secret_key[129];
	char ca_file[4096];
	int tls;
} ddp_cliconf;

/*
 * Parses a config file's bytes: lines "key = value" (keys endpoint,
 * access_key, secret_key, tls = yes|no, ca_file), '#' comments, blank
 * lines; blanks around keys and values are ignored. Pure. Returns DD_OK,
 * or DD_EINVAL with a one-line reason in err (never quoting a value, which
 * may be a secret).
 */
int ddp_cliconf_parse(const char *data, size_t len, ddp_cliconf *out,
		      char *err, size_t errcap) DD_WUR;

#endif /* DD_DDPROTO_LIBDDP_H */
