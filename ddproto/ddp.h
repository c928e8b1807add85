/*
 * ddproto/ddp.h - DDP, dedupd's storage-unit protocol: frame codec, typed
 * message encoders/decoders, challenge-response authentication and a
 * sans-I/O server session. docs/DDP.md is the specification; this header
 * follows it name for name.
 *
 * Everything here is pure: bytes in, structs or bytes out. No sockets, no
 * store. The session calls the store through a table of function pointers
 * (ddp_store_ops) so that the gateway binds it to segstore and the unit
 * tests bind it to an in-memory fake.
 */
#ifndef DD_DDPROTO_DDP_H
#define DD_DDPROTO_DDP_H

#include <stddef.h>
#include <stdint.h>

#include "common/dd.h"

/* ------------------------------------------------------------- limits */

#define DDP_VERSION 1             /* frame header version byte */
#define DDP_HDR_LEN 12            /* frame header bytes */
#define DDP_MAX_IO (1u << 20)     /* bytes per WRITE / READ (DD Boost: 1 MiB) */
#define DDP_MAX_PAYLOAD ((1u << 20) + 4096) /* largest frame payload */
#define DDP_NONCE_LEN 32
#define DDP_MAC_LEN 32            /* HMAC-SHA256 */
#define DDP_FP_LEN 32             /* SHA-256 segment fingerprint */
#define DDP_TOKEN_LEN 16          /* resume token */
#define DDP_MAX_KEY 1024          /* path (object key) bytes */
#define DDP_MAX_UNIT 63           /* unit name bytes (S3 bucket rules) */
#define DDP_MIN_UNIT 3
#define DDP_MAX_ACCESS_KEY 128
#define DDP_MAX_USER 63           /* user names (segstore's SEG_NAME_MAX) */
#define DDP_MAX_AGENT 64
#define DDP_MAX_MESSAGE 256       /* error message bytes */
#define DDP_MAX_DIGEST 64
#define DDP_DSP_MAX_BATCH 1024    /* fingerprints per DSP_QUERY */
#define DDP_DSP_MAX_PUT 256       /* segments per DSP_PUT */
#define DDP_MAX_SEGMENT (256u * 1024) /* raw bytes of one DSP segment */
#define DDP_MAX_EXTENTS 256       /* extents per SYNTHESIZE */
#define DDP_MAX_LIST 1000         /* entries per READDIR / UNIT_LIST */
#define DDP_MAX_HANDLES 64        /* open handles per session */
#define DDP_WINDOW_REQS 32        /* default request window */
#define DDP_WINDOW_BYTES (8u << 20) /* default request-byte window */

/* --------------------------------------------------------------- opcodes */

enum ddp_op {
	DDP_OP_HELLO = 0x01,
	DDP_OP_AUTH = 0x02,
	DDP_OP_PING = 0x03,
	DDP_OP_BYE = 0x04,
	DDP_OP_UNIT_LIST = 0x10,
	DDP_OP_UNIT_STAT = 0x11,
	DDP_OP_UNIT_CREATE = 0x12,
	DDP_OP_OPEN = 0x20,
	DDP_OP_CLOSE = 0x21,
	DDP_OP_WRITE = 0x22,
	DDP_OP_READ = 0x23,
	DDP_OP_DSP_QUERY = 0x24,
	DDP_OP_DSP_PUT = 0x25,
	DDP_OP_SYNTHESIZE = 0x26,
	DDP_OP_STAT = 0x30,
	DDP_OP_READDIR = 0x31,
	DDP_OP_RENAME = 0x32,
	DDP_OP_UNLINK = 0x33,
	DDP_OP_FASTCOPY = 0x34,
};

/* Returns the static name of op ("DSP_QUERY"), or "UNKNOWN". */
const char *ddp_op_name(int op);

/* Frame header flags. */
#define DDP_F_RESPONSE 0x0001
#define DDP_F_KNOWN DDP_F_RESPONSE

/* HELLO feature flags. */
#define DDP_FEAT_ZSTD 0x00000001u
#define DDP_FEAT_TLS 0x00000002u
/* Client: "announce your chunking"; server: the HELLO response carries the
 * chunking extension (chunker, min/avg/max). docs/DDP.md 6.1. */
#define DDP_FEAT_CHUNKING 0x00000004u

/* The chunker of segstore/chunker.c (FastCDC-style Gear hash, normalized
 * chunking) as named in the HELLO chunking extension. */
#define DDP_CHUNKER_NAME "fastcdc-gear-1"
#define DDP_MAX_CHUNKER 32 /* chunker name bytes */

/* OPEN flags. */
#define DDP_OPEN_READ 0x01u
#define DDP_OPEN_CREATE 0x02u
#define DDP_OPEN_EXCL 0x04u
#define DDP_OPEN_RESUME 0x08u
#define DDP_OPEN_KNOWN 0x0fu

/* CLOSE flags. */
#define DDP_CLOSE_COMMIT 0x01u

/* DSP_PUT segment flags. */
#define DDP_SEG_ZSTD 0x01u

/* RENAME / FASTCOPY flags. */
#define DDP_NOREPLACE 0x01u

/* STAT / READDIR entry types. */
#define DDP_TYPE_FILE 1
#define DDP_TYPE_DIR 2

/* ---------------------------------------------------------- status codes */

/* The wire status table (docs/DDP.md section 7). Stable numbers. */
enum ddp_status {
	DDP_S_OK = 0,
	DDP_S_EPROTO = 1,
	DDP_S_EVERSION = 2,
	DDP_S_EAUTH = 3,
	DDP_S_EPERM = 4,
	DDP_S_ENOENT = 5,
	DDP_S_EEXIST = 6,
	DDP_S_EINVAL = 7,
	DDP_S_ETOOBIG = 8,
	DDP_S_ERANGE = 9,
	DDP_S_EBADHANDLE = 10,
	DDP_S_EBADSTATE = 11,
	DDP_S_EQUOTA = 12,
	DDP_S_ENOSPC = 13,
	DDP_S_ELIMIT = 14,
	DDP_S_EAGAIN = 15,
	DDP_S_EDIGEST = 16,
	DDP_S_ECORRUPT = 17,
	DDP_S_EIO = 18,
	DDP_S_ENOTEMPTY = 19,
	DDP_S_ENOTSUP = 20,
	DDP_S_ESHUTDOWN = 21,
	DDP_S_EINTERNAL = 22,
	DDP_S_EMISSING = 23,
	DDP_S_ELOCKED = 24,
	DDP_S_COUNT
};

/* Maps a dd_rc to the wire status (DD_ENOMEM -> EAGAIN, ...). */
uint16_t ddp_status_from_rc(int rc);
/* Maps a wire status back to the closest dd_rc (unknown -> DD_EPROTO). */
int ddp_rc_from_status(uint16_t st);
/* Returns the static name ("ENOENT") / meaning of a status; never NULL. */
const char *ddp_status_name(uint16_t st);
const char *ddp_status_text(uint16_t st);

/* ---------------------------------------------------------------- frames */

typedef struct ddp_hdr {
	uint8_t version;
	uint8_t op;
	uint16_t flags;
	uint32_t req_id;
	uint32_t len; /* payload bytes after the header */
} ddp_hdr;

/* Writes h into out[0..11] big-endian. */
void ddp_hdr_encode(const ddp_hdr *h, uint8_t out[DDP_HDR_LEN]);
/*
 * Decodes the 12 header bytes at p. Returns DD_OK, DD_EPROTO for a wrong
 * version or unknown flag bits, DD_ETOOBIG when len > max_payload.
 */
int ddp_hdr_decode(const uint8_t p[DDP_HDR_LEN], uint32_t max_payload,
		   ddp_hdr *out) DD_WUR;

/* A whole frame; payload borrowed (see ddp_reader_next). */
typedef struct ddp_frame {
	ddp_hdr hdr;
	const uint8_t *payload;
} ddp_frame;

/*
 * Incremental frame reader over a byte stream. It buffers at most one
 * frame (header + max_payload bytes) and validates the header before it
 * buffers any payload byte.
 */
typedef struct ddp_reader {
	dd_buf buf;
	uint32_t max_payload;
	int have_hdr;  /* header decoded into hdr */
	int ready;     /* a whole frame is buffered */
	int err;       /* sticky error once the stream is bad */
	ddp_hdr hdr;
} ddp_reader;

void ddp_reader_init(ddp_reader *r, uint32_t max_payload);
void ddp_reader_release(ddp_reader *r);
/*
 * Takes bytes from p[0..n) up to the end of the current frame and sets
 * *used to how many. Returns DD_OK (check ddp_reader_next), or the sticky
 * error DD_EPROTO / DD_ETOOBIG (bad header) / DD_ENOMEM. Feeding while a
 * frame is ready takes nothing.
 */
int ddp_reader_feed(ddp_reader *r, const void *p, size_t n, size_t *used) DD_WUR;
/*
 * When a whole frame is buffered, fills *f and returns DD_OK; f->payload
 * stays valid until the next feed/next/release call. DD_EAGAIN when more
 * bytes are needed; the sticky error if the stream is bad.
 */
int ddp_reader_next(ddp_reader *r, ddp_frame *f) DD_WUR;

/* Appends header + payload to out. DD_ETOOBIG if len > DDP_MAX_PAYLOAD. */
int ddp_frame_write(dd_buf *out, uint8_t op, uint16_t flags, uint32_t req_id,
		    const void *payload, size_t len) DD_WUR;

/* -------------------------------------------------------------- messages */

typedef struct ddp_dsp_ref {
	uint8_t fp[DDP_FP_LEN];
	uint32_t len;
} ddp_dsp_ref;

typedef struct ddp_segment {
	uint8_t fp[DDP_FP_LEN];
	uint8_t flags;     /* DDP_SEG_ZSTD */
	uint32_t raw_len;  /* bytes after decompression */
	uint32_t data_len; /* bytes on the wire */
	const uint8_t *data; /* borrowed */
} ddp_segment;

/* SYNTHESIZE extent kinds. */
#define DDP_EXT_FILE 0 /* [offset, offset+length) of committed file src */
#define DDP_EXT_DATA 1 /* length literal bytes at data */

typedef struct ddp_extent {
	uint8_t kind;        /* DDP_EXT_FILE / DDP_EXT_DATA */
	dd_str src;          /* DDP_EXT_FILE */
	uint64_t offset;     /* DDP_EXT_FILE */
	uint64_t length;
	const uint8_t *data; /* DDP_EXT_DATA; borrowed */
} ddp_extent;

typedef struct ddp_dirent {
	uint8_t type;  /* DDP_TYPE_FILE / DDP_TYPE_DIR */
	dd_str name;   /* relative to the READDIR prefix; dirs end in '/' */
	uint64_t size;
	uint64_t mtime_ns;
} ddp_dirent;

typedef struct ddp_unit_info {
	dd_str name;
	uint64_t logical_bytes;
	uint64_t physical_bytes;
} ddp_unit_info;

typedef struct ddp_unit_stat {
	uint64_t logical_bytes;  /* bytes as written by clients */
	uint64_t physical_bytes; /* unique stored bytes after dedup+compression */
	uint64_t files;
	uint64_t quota_soft;     /* 0 = none */
	uint64_t quota_hard;     /* 0 = none */
	uint32_t streams;        /* open write streams now */
	uint32_t stream_limit;   /* 0 = none */
} ddp_unit_stat;

/*
 * A decoded request. Strings and data point into the frame payload (valid
 * while it is); arrays (refs, segs, exts) are malloc'd by the decoder and
 * freed by ddp_req_release. Encoding reads the same fields.
 */
typedef struct ddp_req {
	uint8_t op;
	union {
		struct {
			uint16_t ver_min, ver_max;
			uint32_t features;
			dd_str agent;
		} hello;
		struct {
			dd_str access_key;
			uint8_t cnonce[DDP_NONCE_LEN];
			uint8_t proof[DDP_MAC_LEN];
		} auth;
		struct {
			uint64_t cookie;
		} ping;
		struct {
			dd_str start_after;
			uint16_t limit;
		} unit_list;
		struct {
			dd_str unit;
		} unit_stat; /* also UNIT_CREATE */
		struct {
			dd_str unit, path;
			uint32_t flags;
			uint8_t token[DDP_TOKEN_LEN];
		} open;
		struct {
			uint32_t handle;
			uint8_t flags;
		} close;
		struct {
			uint32_t handle;
			uint64_t offset;
			uint32_t len;
			const uint8_t *data;
		} write;
		struct {
			uint32_t handle;
			uint64_t offset;
			uint32_t len;
		} read;
		struct {
			uint32_t handle;
			uint64_t offset;
			uint16_t count;
			ddp_dsp_ref *refs;
		} dsp_query;
		struct {
			uint32_t handle;
			uint16_t count;
			ddp_segment *segs;
		} dsp_put;
		struct {
			dd_str unit, path;
			uint32_t flags; /* DDP_NOREPLACE */
			uint16_t count;
			ddp_extent *exts;
		} synth;
		struct {
			dd_str unit, path;
		} stat; /* also UNLINK */
		struct {
			dd_str unit, prefix, start_after;
			uint16_t limit;
		} readdir;
		struct {
			dd_str unit, from, to;
			uint32_t flags;
		} rename; /* also FASTCOPY (from = src, to = dst) */
	} u;
} ddp_req;

/*
 * Decodes the payload of a request with opcode op into *out (zeroed
 * first). Returns DD_OK; DD_EPROTO for a malformed payload (short, long,
 * trailing bytes, a bound broken: the connection is closed); DD_ENOTSUP
 * for an unknown op; DD_ENOMEM. Call ddp_req_release in every case.
 */
int ddp_req_decode(uint8_t op, const uint8_t *p, size_t n, ddp_req *out) DD_WUR;
void ddp_req_release(ddp_req *r);
/*
 * Appends the whole request frame (header + payload) for r to out.
 * Returns DD_OK, DD_EINVAL when r breaks a bound the decoder checks (the
 * encoder never produces what the decoder rejects), DD_ETOOBIG, DD_ENOMEM.
 */
int ddp_req_encode(const ddp_req *r, uint32_t req_id, dd_buf *out) DD_WUR;

/*
 * A decoded response. status != DDP_S_OK means only message is set.
 * Lists (units, dirents) are malloc'd by the decoder; strings and data are
 * borrowed from the payload.
 */
typedef struct ddp_resp {
	uint8_t op;
	uint16_t status;
	dd_str message;
	union {
		struct {
			uint16_t version;
			uint32_t features;
			uint8_t snonce[DDP_NONCE_LEN];
			uint32_t max_payload, max_io;
			uint16_t window_reqs;
			uint32_t window_bytes;
			uint16_t dsp_max_batch;
			uint32_t max_segment;
			uint32_t resume_ttl_s;
			/* present when features has DDP_FEAT_CHUNKING */
			dd_str chunker; /* 1..DDP_MAX_CHUNKER bytes */
			uint32_t chunk_min, chunk_avg, chunk_max;
		} hello;
		struct {
			uint8_t proof[DDP_MAC_LEN];
		} auth;
		struct {
			uint64_t cookie;
		} ping;
		struct {
			uint16_t count;
			uint8_t more;
			ddp_unit_info *units;
		} unit_list;
		ddp_unit_stat unit_stat;
		struct {
			uint32_t handle;
			uint64_t size;
			uint8_t token[DDP_TOKEN_LEN];
		} open;
		struct {
			uint64_t size;
			uint8_t digest_len;
			uint8_t digest[DDP_MAX_DIGEST];
		} close;
		struct {
			uint64_t length; /* WRITE, DSP_QUERY, SYNTHESIZE, FASTCOPY */
		} length;
		struct {
			uint32_t len;
			const uint8_t *data;
		} read;
		struct {
			uint64_t length;
			uint16_t count;
			const uint8_t *missing; /* ceil(count/8) bytes, LSB first */
		} dsp_query;
		struct {
			uint16_t count;
		} dsp_put;
		struct {
			uint8_t type;
			uint64_t size, mtime_ns;
		} stat;
		struct {
			uint16_t count;
			uint8_t more;
			ddp_dirent *ents;
		} readdir;
	} u;
} ddp_resp;

int ddp_resp_decode(uint8_t op, const uint8_t *p, size_t n, ddp_resp *out) DD_WUR;
void ddp_resp_release(ddp_resp *r);
/* Appends the response frame for r (status OK: body; else message). */
int ddp_resp_encode(const ddp_resp *r, uint32_t req_id, dd_buf *out) DD_WUR;
/* Appends an error response frame; msg may be NULL, is cut at 256 bytes. */
int ddp_err_encode(uint8_t op, uint32_t req_id, uint16_t status,
		   const char *msg, dd_buf *out) DD_WUR;

/* Returns 1 when bit i of a DSP missing bitmap is set. */
static inline int ddp_bit(const uint8_t *bm, unsigned i)
{
	return (bm[i >> 3] >> (i & 7)) & 1;
}

/* Name checks shared by both sides (docs/DDP.md section 4). */
int ddp_valid_unit(dd_str s);      /* S3 bucket-name rules */
int ddp_valid_path(dd_str s);      /* 1..1024 bytes UTF-8, no NUL, no "" */
int ddp_valid_prefix(dd_str s);    /* "" or a path ending in '/' */
int ddp_valid_utf8(const uint8_t *p, size_t n);

/* ------------------------------------------------------------------ auth */

/* K = HMAC-SHA256(secret, "DDP1 key"). Returns DD_OK or DD_EINTERNAL. */
int ddp_auth_key(const void *secret, size_t secret_len,
		 uint8_t key[DDP_MAC_LEN]) DD_WUR;
/*
 * proof = HMAC-SHA256(K, label || "DDP1" || snonce || cnonce ||
 * u16 len(access_key) || access_key), label "client" or "server"
 * (is_server). Returns DD_OK, DD_EINVAL (key too long), DD_EINTERNAL.
 */
int ddp_auth_proof(const uint8_t key[DDP_MAC_LEN], int is_server,
		   const uint8_t snonce[DDP_NONCE_LEN],
		   const uint8_t cnonce[DDP_NONCE_LEN], dd_str access_key,
		   uint8_t out[DDP_MAC_LEN]) DD_WUR;
/* Constant-time compare of n bytes: 1 when equal. */
int ddp_ct_equal(const void *a, const void *b, size_t n);
/* SHA-256 of n bytes. Returns DD_OK or DD_EINTERNAL. */
int ddp_sha256(const void *p, size_t n, uint8_t out[DDP_FP_LEN]) DD_WUR;

/* -------------------------------------------------------------- session */

/* An opaque store-side handle the vtable hands out. */
typedef struct ddp_store_handle ddp_store_handle;

/* Callback the store calls once per listed entry; non-DD_OK stops. */
typedef int (*ddp_emit_dirent)(void *arg, const ddp_dirent *e);
typedef int (*ddp_emit_unit)(void *arg, const ddp_unit_info *u);

typedef struct ddp_commit_info {
	uint64_t size;
	uint8_t digest_len;
	uint8_t digest[DDP_MAX_DIGEST];
} ddp_commit_info;

/*
 * What the session needs from the store. Every function returns a dd_rc;
 * the session maps it to a wire status. `user` is the authenticated access
 * key; the store checks that the user is granted `unit` (DD_EPERM).
 * Strings are borrowed for the call only. All calls are synchronous.
 */
typedef struct ddp_store_ops {
	/* Copies the secret of the user owning access_key into
	 * secret[0..*len) (in: capacity) and the user's name (the identity
	 * passed as `user` below) into user, NUL-terminated. DD_ENOENT for an
	 * unknown key (the session then still spends the same work on a
	 * dummy secret). */
	int (*auth_secret)(void *ctx, dd_str access_key, uint8_t *secret,
			   size_t *len, char user[DDP_MAX_USER + 1]);
	/* Emits units granted to user, names > start_after, at most limit. */
	int (*unit_list)(void *ctx, dd_str user, dd_str start_after,
			 unsigned limit, ddp_emit_unit emit, void *arg);
	int (*unit_stat)(void *ctx, dd_str user, dd_str unit, ddp_unit_stat *out);
	/* Opens a reader (DDP_OPEN_READ) or a writer (CREATE[|EXCL]
	 * [|RESUME with token]). Sets *h, *size (reader: file size; writer:
	 * logical length held, 0 unless resumed) and for writers token (a
	 * fresh random token unless resumed). */
	int (*open)(void *ctx, dd_str user, dd_str unit, dd_str path,
		    uint32_t flags, uint8_t token[DDP_TOKEN_LEN],
		    ddp_store_handle **h, uint64_t *size);
	/* Appends n bytes at the writer's end (server-side chunking). */
	int (*write)(void *ctx, ddp_store_handle *h, const void *p, size_t n);
	/* Appends refs[0..n) to the writer's recipe and sets bit i of
	 * missing (zeroed by the caller) for each segment this UNIT lacks
	 * (never answers from another unit's data). */
	int (*dsp_query)(void *ctx, ddp_store_handle *h, const ddp_dsp_ref *refs,
			 size_t n, uint8_t *missing);
	/* Stores one segment the writer asked for; raw is verified against
	 * fp by the session already. Missing segments arrive in file order
	 * (docs/DDP.md 6.6): DD_EINVAL when fp is not the next one missing
	 * (and not one already received: a resend is DD_OK). */
	int (*dsp_put)(void *ctx, ddp_store_handle *h, const uint8_t fp[DDP_FP_LEN],
		       const void *raw, size_t n);
	/* Reads up to n bytes at off; *got < n only at end of file. */
	int (*read)(void *ctx, ddp_store_handle *h, uint64_t off, void *buf,
		    size_t n, size_t *got);
	/* Commits a writer (durable on return) and frees h in every case.
	 * DD_EMISSING-like failures (declared segments never sent) return
	 * DD_EINVAL. */
	int (*commit)(void *ctx, ddp_store_handle *h, ddp_commit_info *out);
	/* Frees h: readers close; writers abort, or when detach is set and
	 * they carry a resume token, stay resumable for resume_ttl_s. */
	void (*release)(void *ctx, ddp_store_handle *h, int detach);
	int (*stat)(void *ctx, dd_str user, dd_str unit, dd_str path,
		    uint8_t *type, uint64_t *size, uint64_t *mtime_ns);
	int (*readdir)(void *ctx, dd_str user, dd_str unit, dd_str prefix,
		       dd_str start_after, unsigned limit, ddp_emit_dirent emit,
		       void *arg);
	int (*rename)(void *ctx, dd_str user, dd_str unit, dd_str from, dd_str to,
		      uint32_t flags);
	int (*unlink)(void *ctx, dd_str user, dd_str unit, dd_str path);
	int (*clone)(void *ctx, dd_str user, dd_str unit, dd_str src, dd_str dst,
		     uint32_t flags, uint64_t *size);
	/* Creates (unit, path) from ext[0..n) in order (seg_synthesize):
	 * file extents by reference, literal data stored. DD_ERANGE for an
	 * extent past its source's end, DD_ENOENT, DD_EEXIST (NOREPLACE). */
	int (*synthesize)(void *ctx, dd_str user, dd_str unit, dd_str path,
			  const ddp_extent *ext, size_t n, uint32_t flags,
			  uint64_t *size);
	/* Creates unit (UNIT_CREATE): DD_EPERM unless user is an admin,
	 * DD_EEXIST. NULL: the session answers ENOTSUP. */
	int (*unit_create)(void *ctx, dd_str user, dd_str unit);
} ddp_store_ops;

typedef struct ddp_session_cfg {
	uint32_t max_payload;   /* <= DDP_MAX_PAYLOAD */
	uint16_t window_reqs;
	uint32_t window_bytes;
	uint32_t resume_ttl_s;
	size_t out_high;        /* stop taking input past this much output */
	int tls;                /* the transport is TLS (advertised) */
	/* The store's chunking, announced in HELLO to clients that ask
	 * (DDP_FEAT_CHUNKING); chunk_avg 0 = not announced. */
	uint32_t chunk_min, chunk_avg, chunk_max;
} ddp_session_cfg;

/* Fills cfg with the defaults of docs/DDP.md. */
void ddp_session_cfg_default(ddp_session_cfg *cfg);

enum ddp_session_state {
	DDP_ST_HELLO = 0, /* waiting for HELLO */
	DDP_ST_AUTH,      /* waiting for AUTH */
	DDP_ST_READY,     /* authenticated */
	DDP_ST_CLOSING,   /* flush output, then close the transport */
};

typedef struct ddp_session ddp_session;

/*
 * Returns a new session in DDP_ST_HELLO or NULL (ENOMEM). ops/ctx must
 * outlive it; cfg is copied (NULL = defaults).
 */
ddp_session *ddp_session_new(const ddp_store_ops *ops, void *ctx,
			     const ddp_session_cfg *cfg);
/*
 * Frees the session. Open readers close; open writers are released with
 * detach = 1 (resumable) unless the client closed them. Call it when the
 * transport drops too.
 */
void ddp_session_free(ddp_session *s);
/*
 * Consumes input bytes p[0..n), running every whole request through the
 * store and queueing responses. *used says how much was taken: less than
 * n when output is above out_high (backpressure: drain output, then feed
 * the rest) or the session is closing. Returns DD_OK; a protocol
 * violation queues a final error response, moves to DDP_ST_CLOSING and
 * returns DD_EPROTO (then: flush output, close).
 */
int ddp_session_feed(ddp_session *s, const void *p, size_t n, size_t *used) DD_WUR;
/* Pending output: pointer valid until the next call on s. */
const uint8_t *ddp_session_output(ddp_session *s, size_t *n);
/* Marks n bytes of output as sent. */
void ddp_session_output_consume(ddp_session *s, size_t n);
int ddp_session_state(const ddp_session *s);
/*
 * Server shutdown (the gateway's on_drain): the session takes no more
 * requests and moves to DDP_ST_CLOSING; responses already queued still go
 * out. Requests are processed whole inside ddp_session_feed, so none is
 * half done. Open writers stay resumable (released with detach at free).
 */
void ddp_session_shutdown(ddp_session *s);
/* The authenticated user's name (empty before AUTH); borrowed from s. */
dd_str ddp_session_user(const ddp_session *s);


/* --------------------------------------------------------------- client */

/*
 * The sans-I/O client side of DDP (libddp builds on it with sockets): it
 * runs the handshake, checks the server's proof, numbers requests, keeps
 * the client inside the server's window and matches responses to
 * requests. Bytes to send accumulate in its output (ddp_client_output /
 * ddp_client_output_consume, as for the session).
 */
enum ddp_client_state {
	DDP_CL_HELLO = 0, /* HELLO sent, waiting for the server's nonce */
	DDP_CL_AUTH,      /* AUTH sent, waiting for the server's proof */
	DDP_CL_READY,     /* authenticated both ways */
	DDP_CL_FAILED,    /* handshake refused or protocol error: close */
};

typedef struct ddp_client ddp_client;

/* The limits the server announced in HELLO. */
typedef struct ddp_server_params {
	uint16_t version;
	uint32_t features;
	uint32_t max_payload, max_io;
	uint16_t window_reqs;
	uint32_t window_bytes;
	uint16_t dsp_max_batch;
	uint32_t max_segment;
	uint32_t resume_ttl_s;
	/* The store's chunking when features has DDP_FEAT_CHUNKING (else
	 * chunker "" and zeros). chunker is NUL-terminated. */
	char chunker[DDP_MAX_CHUNKER + 1];
	uint32_t chunk_min, chunk_avg, chunk_max;
} ddp_server_params;

/*
 * Returns a client that has queued its HELLO, or NULL (ENOMEM, or a key
 * longer than 128 bytes). The secret is used at once to derive K and not
 * kept; access_key and agent are copied.
 */
ddp_client *ddp_client_new(dd_str access_key, const void *secret,
			   size_t secret_len, dd_str agent);
void ddp_client_free(ddp_client *c);
int ddp_client_state(const ddp_client *c);
/* Valid once READY (zeros before). */
const ddp_server_params *ddp_client_params(const ddp_client *c);
const uint8_t *ddp_client_output(ddp_client *c, size_t *n);
void ddp_client_output_consume(ddp_client *c, size_t n);
/*
 * Queues request q with a fresh request id (*req_id). DD_EAGAIN when the
 * window is full (read responses first), DD_EINVAL before READY or for a
 * request the encoder refuses, DD_ETOOBIG over the server's max_payload.
 */
int ddp_client_send(ddp_client *c, const ddp_req *q, uint32_t *req_id) DD_WUR;
/* Number of requests sent and not yet answered. */
unsigned ddp_client_inflight(const ddp_client *c);
/*
 * Consumes server bytes p[0..n) until one response to a request of the
 * caller is complete: then returns DD_OK with *r (release with
 * ddp_resp_release; strings and data valid until the next call) and
 * *req_id. Handshake responses are handled inside. DD_EAGAIN when the
 * bytes ran out first (*used == n). Errors put the client in FAILED:
 * DD_EAUTH (refused, or the server's proof is wrong), DD_EPROTO (a bad
 * frame, an unknown request id, a malformed response, EVERSION).
 */
int ddp_client_read(ddp_client *c, const void *p, size_t n, size_t *used,
		    ddp_resp *r, uint32_t *req_id) DD_WUR;

#endif /* DD_DDPROTO_DDP_H */
