/*
 * s3api/s3.h - the protocol-level parts of the S3 API, all pure: no
 * sockets, no store, no gateway headers. The request handlers (gateway ->
 * s3api -> segstore) use these pieces:
 *
 *   s3_target_parse()  request-target -> path, query params, bucket, key
 *   s3_auth_check()    SigV4 header / presigned URL verification
 *   s3_body_*()        request body: payload-hash, aws-chunked (signed or
 *                      not, with trailers), x-amz-checksum-*, Content-MD5
 *   s3_cksum_*()       CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256, MD5, base64
 *   s3_xml_*()         response writer and request-body parsers (expat)
 *   s3_err_*()         the one S3 error table and the <Error> renderer
 *   helpers            names, keys, Range, dates, conditionals, metadata
 *
 * Return conventions: functions that judge client input return an
 * `enum s3_errcode` (S3_OK == 0, anything else is the S3 error to send);
 * functions that can only fail for internal reasons return a dd_rc.
 * Each prototype says which.
 */
#ifndef DD_S3API_S3_H
#define DD_S3API_S3_H

#include <stddef.h>
#include <stdint.h>

#include "common/dd.h"

/* ------------------------------------------------------------- limits */

#define S3_MAX_KEY_LEN 1024         /* bytes of UTF-8, as S3 */
#define S3_MAX_TARGET_LEN 16384     /* request-target, encoded */
#define S3_MAX_QUERY_PARAMS 128
#define S3_MAX_ACCESS_KEY 128
#define S3_MAX_REGION 63
#define S3_MAX_SECRET 128
#define S3_MAX_SIGNED_HEADERS 64
#define S3_MAX_PRESIGN_EXPIRES 604800 /* 7 days */
#define S3_MAX_SKEW_SECONDS 900       /* 15 minutes */
#define S3_MAX_PARTS 10000
#define S3_MAX_DELETE_OBJECTS 1000
#define S3_CHUNK_LINE_MAX 4096      /* aws-chunked header/trailer line */
#define S3_MAX_TRAILERS 16
#define S3_MAX_PUT_SIZE (5ull << 30)       /* single PUT / UploadPart: 5 GiB */
#define S3_MIN_PART_SIZE (5ull << 20)      /* all parts but the last: 5 MiB */
#define S3_MAX_OBJECT_SIZE (5ull << 40)    /* 5 TiB */
#define S3_MAX_LIST_KEYS 1000

/* ------------------------------------------------------------- errors */

/*
 * One table (MinIO's api-errors style): each code has its S3 Code string,
 * HTTP status and default message; see s3_err_info().
 */
enum s3_errcode {
	S3_OK = 0,
	S3E_ACCESS_DENIED,
	S3E_SIGNATURE_DOES_NOT_MATCH,
	S3E_INVALID_ACCESS_KEY_ID,
	S3E_REQUEST_TIME_TOO_SKEWED,
	S3E_AUTH_HEADER_MALFORMED,
	S3E_AUTH_QUERY_PARAMS_ERROR,
	S3E_EXPIRED_PRESIGNED,     /* AccessDenied "Request has expired" */
	S3E_MISSING_SECURITY_HEADER,
	S3E_NO_SUCH_KEY,
	S3E_NO_SUCH_BUCKET,
	S3E_NO_SUCH_UPLOAD,
	S3E_BUCKET_ALREADY_EXISTS,
	S3E_BUCKET_ALREADY_OWNED_BY_YOU,
	S3E_BUCKET_NOT_EMPTY,
	S3E_INVALID_BUCKET_NAME,
	S3E_KEY_TOO_LONG,
	S3E_INVALID_RANGE,
	S3E_BAD_DIGEST,
	S3E_INVALID_DIGEST,
	S3E_CONTENT_SHA256_MISMATCH,
	S3E_INVALID_ARGUMENT,
	S3E_INVALID_REQUEST,
	S3E_INVALID_URI,
	S3E_MALFORMED_XML,
	S3E_MALFORMED_TRAILER,
	S3E_INVALID_PART,
	S3E_INVALID_PART_ORDER,
	S3E_ENTITY_TOO_SMALL,
	S3E_ENTITY_TOO_LARGE,
	S3E_MISSING_CONTENT_LENGTH,
	S3E_MISSING_REQUEST_BODY,
	S3E_PRECONDITION_FAILED,
	S3E_NOT_MODIFIED,
	S3E_METHOD_NOT_ALLOWED,
	S3E_NOT_IMPLEMENTED,
	S3E_INTERNAL_ERROR,
	S3E_SLOW_DOWN,
	S3E_INCOMPLETE_BODY,
	S3E_QUOTA_EXCEEDED,
	S3E_SERVICE_UNAVAILABLE,
	S3E_REQUEST_TIMEOUT,
	S3E_INVALID_STORAGE_CLASS,
	S3E_METADATA_TOO_LARGE,
	S3E_NO_SUCH_VERSION,
	S3E_COUNT
};

typedef struct s3_errinfo {
	const char *code;    /* S3 <Code>, e.g. "NoSuchKey" */
	int status;          /* HTTP status */
	const char *message; /* default <Message> */
} s3_errinfo;

/* Returns the static table row for e; InternalError's row if out of range. */
const s3_errinfo *s3_err_info(int e);
/*
 * Maps a dd_rc from a lower layer to the closest S3 error (DD_EQUOTA ->
 * QuotaExceeded, DD_EAGAIN -> SlowDown, ...). DD_ENOENT has no single S3
 * meaning, so the handler should map it itself; here it is NoSuchKey.
 */
int s3_err_from_rc(int rc);
/*
 * Appends the XML error document
 *   <Error><Code/><Message/><Resource/><RequestId/><HostId/></Error>
 * for e to out. message NULL = the table's message; resource, request_id
 * and host_id may be NULL (element omitted). Returns a dd_rc (ETOOBIG,
 * ENOMEM). HEAD responses must send the status only, no body.
 */
int s3_err_render(dd_buf *out, int e, const char *message,
		  const char *resource, const char *request_id,
		  const char *host_id) DD_WUR;

/* ---------------------------------------------------- request (borrowed) */

/* One received header, as the HTTP server saw it (borrowed slices). */
typedef struct s3_header {
	dd_str name;
	dd_str value;
} s3_header;

/*
 * What the auth and body code need from an HTTP request. The handler
 * builds it from the gateway's request (method, raw URL, and a copy of the
 * header array: gw_http_header has the same two fields, but copy rather
 * than cast); every slice is borrowed and must outlive the calls that take
 * it. The body given to s3_body_feed must already be free of HTTP
 * Transfer-Encoding: chunked (the gateway removes it).
 */
typedef struct s3_request {
	dd_str method;             /* "GET", ... */
	dd_str target;             /* raw request-target: /path?query */
	const s3_header *headers;  /* in received order, duplicates allowed */
	size_t nheaders;
} s3_request;

/*
 * Finds the first header named name (ASCII case-insensitive). Returns 1 and
 * sets *value (borrowed, untrimmed), or 0 when absent.
 */
int s3_req_header(const s3_request *r, const char *name, dd_str *value);

/* --------------------------------------------------- request target */

typedef struct s3_param {
	dd_str name;   /* percent-decoded, NUL-terminated in the arena */
	dd_str value;  /* percent-decoded ("+" = space), "" when valueless */
	int has_value; /* 0 for "?uploads", 1 for "?uploads=" (same meaning) */
} s3_param;

typedef struct s3_target {
	dd_str raw_path;   /* as received, borrowed from the target */
	dd_str raw_query;  /* after '?', borrowed; empty when none */
	dd_str path;       /* percent-decoded, arena */
	s3_param *params;  /* arena, in received order */
	size_t nparams;
	dd_str bucket;     /* decoded (or from Host); empty: service level */
	dd_str key;        /* decoded; empty for bucket-level requests */
	int virtual_host;  /* bucket came from the Host header */
} s3_target;

/*
 * Parses an origin-form request-target ("/b/k?x=1") given the Host header
 * and the configured domain (e.g. "localhost" or "s3.example.com"; a
 * ":port" is ignored; may be empty). Host "bkt.localhost:9000" with domain
 * "localhost" gives bucket "bkt" (virtual-hosted style; the bucket slice
 * then borrows host); otherwise the first path segment is the bucket (path
 * style). Decoded strings live in arena a; raw slices borrow target. Returns S3_OK, S3E_INVALID_URI (bad %-escape, NUL, not
 * origin-form, too long), S3E_INVALID_ARGUMENT (too many params) or
 * S3E_INTERNAL_ERROR (arena exhausted).
 */
int s3_target_parse(dd_arena *a, dd_str target, dd_str host, dd_str domain,
		    s3_target *out) DD_WUR;
/* Returns the first param named name (case-sensitive), or NULL. */
const s3_param *s3_param_get(const s3_target *t, const char *name);
/*
 * Percent-decodes in into out (appended). plus_is_space: "+" -> " " (query
 * strings). Returns DD_OK, DD_EINVAL for a bad escape or a decoded NUL,
 * DD_ETOOBIG / DD_ENOMEM from the buffer.
 */
int s3_percent_decode(dd_buf *out, dd_str in, int plus_is_space) DD_WUR;
/*
 * AWS UriEncode: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (upper
 * hex); "/" is kept when encode_slash is 0. Appends to out; dd_rc.
 */
int s3_uri_encode(dd_buf *out, dd_str in, int encode_slash) DD_WUR;

/* ------------------------------------------------------------ SigV4 */

enum s3_auth_kind {
	S3_AUTH_ANON = 0, /* no Authorization header and no X-Amz-Signature */
	S3_AUTH_HEADER,
	S3_AUTH_PRESIGNED,
};

enum s3_payload_mode {
	S3_PAYLOAD_NONE = 0,            /* anonymous: nothing declared */
	S3_PAYLOAD_SHA256,              /* hex sha256 of the body */
	S3_PAYLOAD_UNSIGNED,            /* UNSIGNED-PAYLOAD */
	S3_PAYLOAD_STREAMING_SIGNED,    /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
	S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
};

/* What chunk and trailer signatures are chained from. */
typedef struct s3_sig_ctx {
	uint8_t key[32];      /* derived signing key (secret-equivalent) */
	char amz_date[17];    /* YYYYMMDDTHHMMSSZ */
	char scope[160];      /* date/region/service/aws4_request */
	char seed[65];        /* the request's signature, hex */
} s3_sig_ctx;

/*
 * Result of s3_auth_check(). Holds a derived signing key for chunk
 * verification: never log it, clear it with s3_auth_clear() when done.
 */
typedef struct s3_auth {
	int kind;                      /* enum s3_auth_kind */
	char access_key[S3_MAX_ACCESS_KEY + 1];
	char region[S3_MAX_REGION + 1]; /* as the client signed it */
	int64_t time;                  /* request time, unix seconds */
	int payload;                   /* enum s3_payload_mode */
	char content_sha256[65];       /* hex, when payload == SHA256 */
	s3_sig_ctx sig;                /* valid for STREAMING_SIGNED* */
} s3_auth;

/*
 * Looks up the secret of access_key: copies it to secret (cap bytes,
 * NUL-terminated) and returns DD_OK, or DD_ENOENT for an unknown key (any
 * other rc = internal error). Called at most once per s3_auth_check().
 */
typedef int (*s3_secret_fn)(void *ctx, dd_str access_key, char *secret,
			    size_t cap);

/*
 * Verifies the request's SigV4 signature (Authorization header or
 * presigned query) against now (unix seconds) and fills *out. A request
 * with neither is S3_AUTH_ANON and S3_OK: the caller decides whether
 * anonymous access is allowed. Any region is accepted, the one signed is
 * used. Returns S3_OK or AccessDenied, SignatureDoesNotMatch,
 * InvalidAccessKeyId, RequestTimeTooSkewed, AuthorizationHeaderMalformed,
 * AuthorizationQueryParametersError, ExpiredPresigned, InvalidArgument
 * (bad x-amz-content-sha256), InvalidRequest, InternalError.
 */
int s3_auth_check(const s3_request *req, const s3_target *t,
		  s3_secret_fn lookup, void *lookup_ctx, int64_t now,
		  s3_auth *out) DD_WUR;
/* Wipes the signing key in a. */
void s3_auth_clear(s3_auth *a);

/* Parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
typedef struct s3_authz {
	dd_str access_key, date, region, service; /* from Credential */
	dd_str signed_headers;                    /* "host;x-amz-date" */
	dd_str signature;                         /* 64 lower-hex chars */
} s3_authz;

/*
 * Parses an Authorization header value; slices borrow hdr. Returns S3_OK or
 * S3E_AUTH_HEADER_MALFORMED (also for a non-SigV4 scheme: SigV2 is not
 * supported).
 */
int s3_authz_parse(dd_str hdr, s3_authz *out) DD_WUR;

/*
 * Builds the SigV4 canonical request for S3 into out (appended):
 * method, canonical URI (raw_uri 0: the decoded path re-encoded with
 * s3_uri_encode, as the SDKs sign it; 1: the path exactly as received),
 * canonical query (all params except X-Amz-Signature, decoded, re-encoded,
 * sorted), the headers listed in signed_headers (values trimmed, inner
 * space runs collapsed, duplicates joined by ","), the signed-headers list
 * and payload_hash. Returns S3_OK, S3E_AUTH_HEADER_MALFORMED (bad list,
 * a signed header is missing), S3E_INTERNAL_ERROR.
 */
int s3_sigv4_canonical_request(dd_buf *out, const s3_request *req,
			       const s3_target *t, dd_str signed_headers,
			       dd_str payload_hash, int raw_uri) DD_WUR;
/* kSigning = HMAC chain over date, region, service, "aws4_request". dd_rc. */
int s3_sigv4_signing_key(dd_str secret, dd_str date, dd_str region,
			 dd_str service, uint8_t key[32]) DD_WUR;
/*
 * Signature over "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of
 * canonical>" with key; writes 64 hex chars + NUL to sig_hex. dd_rc.
 */
int s3_sigv4_sign(const uint8_t key[32], dd_str amz_date, dd_str scope,
		  dd_str canonical, char sig_hex[65]) DD_WUR;
/*
 * Chunk signature: HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope
 * "\n" prev "\n" sha256("") "\n" hex(data_sha256)). dd_rc.
 */
int s3_sigv4_chunk_sign(const s3_sig_ctx *c, const char *prev_hex,
			const uint8_t data_sha256[32], char sig_hex[65]) DD_WUR;
/*
 * Trailer signature: HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope
 * "\n" prev "\n" hex(sha256(canonical_trailers))), where canonical_trailers
 * is "name:value\n" per trailer. dd_rc.
 */
int s3_sigv4_trailer_sign(const s3_sig_ctx *c, const char *prev_hex,
			  dd_str canonical_trailers, char sig_hex[65]) DD_WUR;
/* Constant-time compare of two NUL-free strings; 1 when equal. */
int s3_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* --------------------------------------------------------- checksums */

enum s3_cksum_alg {
	S3_CK_NONE = 0,
	S3_CK_CRC32,
	S3_CK_CRC32C,
	S3_CK_CRC64NVME,
	S3_CK_SHA1,
	S3_CK_SHA256,
	S3_CK_COUNT
};
#define S3_CK_MAX_LEN 32   /* raw digest bytes */
#define S3_CK_B64_MAX 48   /* base64 of the largest digest, NUL, room */

/* Incremental checksum of any algorithm (embedded struct). */
typedef struct s3_cksum {
	int alg;
	union {
		uint32_t crc32;
		uint64_t crc64;
		void *md;  /* EVP_MD_CTX for SHA-1 / SHA-256 */
	} u;
} s3_cksum;

/* Returns "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" or "". */
const char *s3_cksum_name(int alg);
/* Returns the header "x-amz-checksum-crc32" ... or "" for NONE. */
const char *s3_cksum_header(int alg);
/* Parses an algorithm name, any case ("crc32c"); S3_CK_NONE if unknown. */
int s3_cksum_alg_parse(dd_str name);
/* Digest length in bytes (4, 4, 8, 20, 32), 0 for NONE. */
size_t s3_cksum_len(int alg);
/* Starts a checksum; dd_rc (ENOMEM for the SHA contexts). */
int s3_cksum_init(s3_cksum *c, int alg) DD_WUR;
void s3_cksum_update(s3_cksum *c, const void *p, size_t n);
/*
 * Writes the digest (CRCs big-endian, as AWS) to out (S3_CK_MAX_LEN
 * bytes) and returns its length; c stays usable only for s3_cksum_release.
 */
size_t s3_cksum_final(s3_cksum *c, uint8_t out[S3_CK_MAX_LEN]);
void s3_cksum_release(s3_cksum *c);

/* One-shot raw CRCs (state in, state out; start with 0). */
uint32_t s3_crc32(uint32_t crc, const void *p, size_t n);
uint32_t s3_crc32c(uint32_t crc, const void *p, size_t n);
uint64_t s3_crc64nvme(uint64_t crc, const void *p, size_t n);
/*
 * CRC of A||B from crc(A), crc(B) and len(B) (zlib's crc32_combine), for
 * FULL_OBJECT multipart checksums. alg is one of the three CRCs.
 */
uint64_t s3_crc_combine(int alg, uint64_t crc_a, uint64_t crc_b,
			uint64_t len_b);

/* Standard base64 with padding; writes NUL-terminated text, returns length. */
size_t s3_b64_encode(const void *in, size_t n, char *out, size_t cap);
/*
 * Decodes padded standard base64 into out (cap bytes). Returns DD_OK and
 * *outlen, or DD_EINVAL (bad char, bad padding, too long for cap).
 */
int s3_b64_decode(dd_str in, uint8_t *out, size_t cap, size_t *outlen) DD_WUR;

/* A checksum a client sent: algorithm and raw digest. */
typedef struct s3_cksum_value {
	int alg;
	uint8_t digest[S3_CK_MAX_LEN];
	size_t len;
} s3_cksum_value;

/*
 * Parses the base64 value of an x-amz-checksum-<alg> header or trailer.
 * Returns S3_OK or S3E_INVALID_DIGEST (bad base64 or wrong length).
 */
int s3_cksum_parse_value(int alg, dd_str b64, s3_cksum_value *out) DD_WUR;
/* Base64 text of v (for the x-amz-checksum-* response header); length. */
size_t s3_cksum_b64(const s3_cksum_value *v, char *out, size_t cap);
/*
 * Looks at the request's x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,
 * sha256} headers. Sets out->alg = NONE when there is none. Returns S3_OK,
 * S3E_INVALID_DIGEST (malformed value) or S3E_INVALID_REQUEST (more than
 * one). x-amz-sdk-checksum-algorithm is deliberately ignored (Velero #7534).
 */
int s3_cksum_from_headers(const s3_request *req, s3_cksum_value *out) DD_WUR;
/*
 * Parses Content-MD5 (base64 of 16 bytes) into md5. Returns S3_OK,
 * S3E_INVALID_DIGEST. *present = 0 when the header is absent.
 */
int s3_content_md5(const s3_request *req, uint8_t md5[16],
		   int *present) DD_WUR;
/*
 * Multipart "COMPOSITE" checksum: checksum of the concatenated raw part
 * digests, rendered "<b64>-<nparts>" into out. dd_rc.
 */
int s3_cksum_composite(int alg, const uint8_t *part_digests, size_t nparts,
		       char *out, size_t cap) DD_WUR;
/*
 * Multipart checksum types (x-amz-checksum-type). COMPOSITE: the checksum
 * of the concatenated part checksums, "-N" appended; FULL_OBJECT: the CRC
 * of the whole object, combined from the part CRCs (CRCs only).
 */
enum s3_cksum_type { S3_CKT_NONE = 0, S3_CKT_COMPOSITE, S3_CKT_FULL_OBJECT };
/* "COMPOSITE", "FULL_OBJECT" or "" for NONE. */
const char *s3_cksum_type_name(int type);
/* Parses a type name (exact, upper case as AWS sends it); NONE if unknown. */
int s3_cksum_type_parse(dd_str name);
/*
 * The type a multipart upload of alg gets: want (NONE = the default:
 * FULL_OBJECT for CRC64NVME, else COMPOSITE) when alg supports it.
 * Returns the type, or NONE when alg and want do not go together (SHA-1 and
 * SHA-256 are COMPOSITE only, CRC64NVME FULL_OBJECT only) or alg is NONE.
 */
int s3_cksum_mpu_type(int alg, int want);
/*
 * FULL_OBJECT checksum: the CRC (alg CRC32, CRC32C or CRC64NVME) of the
 * concatenation of n parts from their raw big-endian digests
 * (s3_cksum_len(alg) bytes each, back to back) and sizes. Fills *out.
 * dd_rc: DD_EINVAL for another alg or n == 0.
 */
int s3_cksum_full_object(int alg, const uint8_t *part_digests,
			 const uint64_t *part_sizes, size_t n,
			 s3_cksum_value *out) DD_WUR;
/*
 * Multipart ETag: hex MD5 of the concatenated 16-byte part MD5s, then
 * "-<nparts>", unquoted, into out (>= 40 bytes). dd_rc.
 */
int s3_multipart_etag(const uint8_t *part_md5s, size_t nparts, char *out,
		      size_t cap) DD_WUR;
/* One-shot MD5 into out[16]; dd_rc. */
int s3_md5(const void *p, size_t n, uint8_t out[16]) DD_WUR;

/* ---------------------------------------------------- aws-chunked */

/*
 * Incremental aws-chunked decoder: feed arbitrary pieces (one byte at a time
 * works), decoded payload bytes go to sink. Chunk header lines and trailer
 * lines are limited to S3_CHUNK_LINE_MAX bytes, trailers to S3_MAX_TRAILERS,
 * so memory is bounded whatever the input. Framing is never passed on.
 * With a signing context every chunk signature is verified, chained from
 * the seed, and with signed trailers the x-amz-trailer-signature too.
 */
typedef struct s3_chunked s3_chunked;

/* Receives n decoded bytes (p valid during the call). dd_rc; non-OK aborts. */
typedef int (*s3_sink_fn)(void *ctx, const void *p, size_t n);

/*
 * sig NULL: chunks carry no signatures (STREAMING-UNSIGNED-PAYLOAD-TRAILER);
 * otherwise each chunk must carry a valid ";chunk-signature=". Trailer
 * signatures are required when sig && signed_trailer. Returns NULL on OOM.
 * Free with s3_chunked_free.
 */
s3_chunked *s3_chunked_new(const s3_sig_ctx *sig, int signed_trailer);
void s3_chunked_free(s3_chunked *c);
/*
 * Consumes n bytes. Returns S3_OK, S3E_INCOMPLETE_BODY / S3E_INVALID_ARGUMENT
 * (bad framing), S3E_SIGNATURE_DOES_NOT_MATCH (chunk/trailer signature),
 * S3E_MALFORMED_TRAILER, S3E_INTERNAL_ERROR (sink failed). After an error
 * the decoder refuses more input with the same error.
 */
int s3_chunked_feed(s3_chunked *c, const void *p, size_t n, s3_sink_fn sink,
		    void *ctx) DD_WUR;
/* Returns S3_OK when the final chunk and trailer section were complete. */
int s3_chunked_finish(const s3_chunked *c) DD_WUR;
/* Decoded bytes so far. */
uint64_t s3_chunked_decoded(const s3_chunked *c);
/*
 * Trailer i (0-based) as received (name lower-cased, value trimmed;
 * x-amz-trailer-signature excluded). Returns 0 past the end. Slices valid
 * until the decoder is freed.
 */
int s3_chunked_trailer(const s3_chunked *c, size_t i, dd_str *name,
		       dd_str *value);

/* --------------------------------------------------- request body */

/*
 * Everything a PUT / UploadPart body needs, on top of the decoder: the
 * declared payload hash (XAmzContentSHA256Mismatch), aws-chunked framing
 * (from x-amz-content-sha256 or Content-Encoding), x-amz-decoded-content-
 * length, x-amz-checksum-* headers or trailers (BadDigest), Content-MD5
 * (BadDigest), and the MD5 for the ETag. Decoded bytes go to the sink as
 * they arrive; nothing is verified until s3_body_finish() returns S3_OK, so
 * the handler must not commit the object before that.
 */
typedef struct s3_body s3_body;

/*
 * Prepares a body reader for req authenticated as auth. Returns S3_OK and
 * *out (free with s3_body_free), or InvalidDigest / InvalidRequest /
 * InvalidArgument / MissingContentLength (aws-chunked without
 * x-amz-decoded-content-length) / InternalError.
 */
int s3_body_new(const s3_request *req, const s3_auth *auth,
		s3_body **out) DD_WUR;
void s3_body_free(s3_body *b);
/* Also computes alg (e.g. the upload's x-amz-checksum-algorithm). dd_rc. */
int s3_body_want(s3_body *b, int alg) DD_WUR;
/* Consumes n wire bytes. Returns S3_OK or the S3 error (see decoder). */
int s3_body_feed(s3_body *b, const void *p, size_t n, s3_sink_fn sink,
		 void *ctx) DD_WUR;
/*
 * Call at end of body. Returns S3_OK, IncompleteBody, XAmzContentSHA256-
 * Mismatch, BadDigest, SignatureDoesNotMatch, MalformedTrailer.
 */
int s3_body_finish(s3_body *b) DD_WUR;
/* Decoded length; after finish. */
uint64_t s3_body_length(const s3_body *b);
/*
 * Skips the MD5 (the store's writer computes one too) unless Content-MD5
 * must be checked. Call before the first feed.
 */
void s3_body_no_md5(s3_body *b);
/* MD5 of the decoded bytes after a successful finish; 0 if not computed. */
int s3_body_md5(const s3_body *b, uint8_t md5[16]);
/*
 * The verified/computed checksum of alg (the one the client sent, or one
 * asked for with s3_body_want); after finish. Returns 1 and fills *out, 0
 * when not computed.
 */
int s3_body_checksum(const s3_body *b, int alg, s3_cksum_value *out);
/* Whether the body is aws-chunked (so Content-Encoding must be stripped). */
int s3_body_is_chunked(const s3_body *b);
/*
 * Content-Encoding to store: the header minus "aws-chunked" (comma list);
 * appends to out, nothing when only aws-chunked. dd_rc.
 */
int s3_content_encoding_strip(dd_str ce, dd_buf *out) DD_WUR;

/* ------------------------------------------------------------- XML */

/* A tiny XML writer on a dd_buf. */
typedef struct s3_xml {
	dd_buf *out;
	int rc; /* first dd_rc error, sticky: check once at the end */
} s3_xml;

/* Starts a document with the XML declaration. */
void s3_xml_begin(s3_xml *x, dd_buf *out);
/* <name> (with the S3 xmlns when ns is 1). */
void s3_xml_open(s3_xml *x, const char *name, int ns);
void s3_xml_close(s3_xml *x, const char *name);
/* <name>escaped text</name> */
void s3_xml_elem(s3_xml *x, const char *name, dd_str text);
void s3_xml_elem_c(s3_xml *x, const char *name, const char *text);
void s3_xml_elem_u64(s3_xml *x, const char *name, uint64_t v);
void s3_xml_elem_bool(s3_xml *x, const char *name, int v);
/* Appends text escaped for XML (& < > " ' and control characters). */
void s3_xml_text(s3_xml *x, dd_str text);
/* Returns the first error (dd_rc) or DD_OK. */
int s3_xml_end(s3_xml *x) DD_WUR;

/* Rows for the listing renderers. Strings are borrowed. */
typedef struct s3_xml_bucket {
	dd_str name;
	int64_t created_ms; /* unix milliseconds */
} s3_xml_bucket;

typedef struct s3_xml_object {
	dd_str key;
	int64_t mtime_ms;
	dd_str etag;       /* unquoted; quotes are added */
	uint64_t size;
	dd_str storage_class; /* empty = STANDARD */
} s3_xml_object;

typedef struct s3_xml_owner {
	dd_str id, display_name;
} s3_xml_owner;

/*
 * ListAllMyBucketsResult; prefix (echoed when non-empty) and next_token
 * (<ContinuationToken> of the next page, when non-empty) are ListBuckets'
 * paging.
 */
int s3_xml_list_buckets(dd_buf *out, const s3_xml_owner *owner,
			const s3_xml_bucket *b, size_t n, dd_str prefix,
			dd_str next_token) DD_WUR;

/* ListObjects V1 and V2 result parameters (borrowed). */
typedef struct s3_xml_listing {
	int v2;
	dd_str bucket, prefix, delimiter;
	int url_encode;          /* encoding-type=url: encode keys, prefixes */
	uint64_t max_keys;
	int truncated;
	dd_str continuation;     /* v2: echoed token (empty = omitted) */
	dd_str next_continuation;/* v2 */
	dd_str start_after;      /* v2 */
	dd_str marker, next_marker; /* v1 */
	int fetch_owner;         /* v2: include <Owner> */
	int versions;            /* ListObjectVersions: marker = key-marker */
	dd_str version_id_marker;/* versions: echoed */
	s3_xml_owner owner;
	const s3_xml_object *objects;
	size_t nobjects;
	const dd_str *prefixes;  /* CommonPrefixes */
	size_t nprefixes;
} s3_xml_listing;

int s3_xml_list_objects(dd_buf *out, const s3_xml_listing *l) DD_WUR;

typedef struct s3_xml_part {
	uint32_t number;
	int64_t mtime_ms;
	dd_str etag;  /* unquoted */
	uint64_t size;
	s3_cksum_value cksum; /* alg NONE = omitted */
} s3_xml_part;

typedef struct s3_xml_parts_list {
	dd_str bucket, key, upload_id;
	uint32_t part_marker, next_part_marker, max_parts;
	int truncated;
	s3_xml_owner owner;
	int cksum_alg; /* ChecksumAlgorithm, NONE = omitted */
	int cksum_type; /* ChecksumType (enum s3_cksum_type), NONE = omitted */
	const s3_xml_part *parts;
	size_t nparts;
} s3_xml_parts_list;

int s3_xml_list_parts(dd_buf *out, const s3_xml_parts_list *l) DD_WUR;

typedef struct s3_xml_upload {
	dd_str key, upload_id;
	int64_t initiated_ms;
} s3_xml_upload;

typedef struct s3_xml_uploads_list {
	dd_str bucket, prefix, delimiter, key_marker, upload_id_marker;
	dd_str next_key_marker, next_upload_id_marker;
	uint64_t max_uploads;
	int truncated;
	int url_encode;
	const s3_xml_upload *uploads;
	size_t nuploads;
	const dd_str *prefixes;
	size_t nprefixes;
} s3_xml_uploads_list;

int s3_xml_list_uploads(dd_buf *out, const s3_xml_uploads_list *l) DD_WUR;
int s3_xml_initiate_mpu(dd_buf *out, dd_str bucket, dd_str key,
			dd_str upload_id) DD_WUR;
/*
 * cksum alg NONE = omitted (Checksum<ALG> with cksum_text, then
 * ChecksumType when cksum_type is not NONE); etag unquoted (quotes added).
 */
int s3_xml_complete_mpu(dd_buf *out, dd_str location, dd_str bucket,
			dd_str key, dd_str etag, const char *cksum_text,
			int cksum_alg, int cksum_type) DD_WUR;
/*
 * CopyObjectResult (part 0) or CopyPartResult (part 1); ck (may be NULL,
 * alg NONE = omitted) adds Checksum<ALG>.
 */
int s3_xml_copy_result(dd_buf *out, int part, dd_str etag, int64_t mtime_ms,
		       const s3_cksum_value *ck) DD_WUR;

typedef struct s3_xml_deleted {
	dd_str key;
	int err;      /* S3_OK = <Deleted>, else <Error> with this code */
} s3_xml_deleted;

int s3_xml_delete_result(dd_buf *out, int quiet, const s3_xml_deleted *d,
			 size_t n) DD_WUR;
/* <LocationConstraint>; us-east-1 and "" render as an empty element. */
int s3_xml_location(dd_buf *out, dd_str region) DD_WUR;
/* AccessControlPolicy of the canned private ACL: owner FULL_CONTROL. */
int s3_xml_acl(dd_buf *out, const s3_xml_owner *owner) DD_WUR;

/* Parsed CompleteMultipartUpload body. */
typedef struct s3_complete_part {
	uint32_t number;
	char etag[80];                 /* unquoted */
	s3_cksum_value cksum[S3_CK_COUNT]; /* indexed by alg, NONE if absent */
} s3_complete_part;

typedef struct s3_complete {
	s3_complete_part *parts;  /* malloc'd */
	size_t nparts;
} s3_complete;

/*
 * Parses a CompleteMultipartUpload body (at most 8 MiB, no DOCTYPE).
 * Returns S3_OK, MalformedXML, InvalidPart (bad number), InvalidPartOrder
 * (not ascending), InvalidDigest (bad checksum), InternalError.
 * Free with s3_complete_release().
 */
int s3_xml_parse_complete(const void *p, size_t n, s3_complete *out) DD_WUR;
void s3_complete_release(s3_complete *c);

typedef struct s3_delete_req {
	int quiet;
	char **keys;  /* malloc'd, NUL-terminated */
	char **etags; /* parallel to keys: <ETag> (conditional delete) or NULL */
	unsigned char *bad_version; /* parallel: 1 = a <VersionId> other than "null" */
	size_t nkeys; /* 1..1000 */
} s3_delete_req;

/* Parses a Delete (DeleteObjects) body; MalformedXML; free with release. */
int s3_xml_parse_delete(const void *p, size_t n, s3_delete_req *out) DD_WUR;
void s3_delete_req_release(s3_delete_req *d);

/*
 * Parses CreateBucketConfiguration; an empty body is valid (region "").
 * Copies LocationConstraint into region (cap bytes). MalformedXML,
 * InvalidArgument (too long).
 */
int s3_xml_parse_create_bucket(const void *p, size_t n, char *region,
			       size_t cap) DD_WUR;

/* --------------------------------------------------------- operations */

/* The S3 operations dedupd serves; everything else is refused. */
enum s3_op {
	S3_OP_NONE = 0,
	S3_OP_LIST_BUCKETS,
	S3_OP_CREATE_BUCKET,
	S3_OP_HEAD_BUCKET,
	S3_OP_DELETE_BUCKET,
	S3_OP_GET_BUCKET_LOCATION,
	S3_OP_LIST_OBJECTS_V1,
	S3_OP_LIST_OBJECTS_V2,
	S3_OP_LIST_UPLOADS,
	S3_OP_DELETE_OBJECTS,
	S3_OP_PUT_OBJECT,
	S3_OP_COPY_OBJECT,
	S3_OP_GET_OBJECT,
	S3_OP_HEAD_OBJECT,
	S3_OP_DELETE_OBJECT,
	S3_OP_CREATE_MPU,
	S3_OP_UPLOAD_PART,
	S3_OP_UPLOAD_PART_COPY,
	S3_OP_COMPLETE_MPU,
	S3_OP_ABORT_MPU,
	S3_OP_LIST_PARTS,
	S3_OP_GET_ACL, /* bucket or object: the canned private ACL */
	S3_OP_LIST_VERSIONS, /* every object is its one version "null" */
	S3_OP_COUNT
};

/* Returns the operation's AWS name ("PutObject"), "" for NONE. */
const char *s3_op_name(int op);

/*
 * Maps method + target + headers to an operation. Sub-resources and
 * headers for features dedupd does not have (versioning, object lock, ACL
 * grants, tagging, policies, lifecycle, website, CORS, SSE-C/KMS, ...) give
 * S3E_NOT_IMPLEMENTED; a method that makes no sense on the resource gives
 * S3E_METHOD_NOT_ALLOWED; a bad partNumber S3E_INVALID_ARGUMENT; an
 * unknown x-amz-storage-class S3E_INVALID_STORAGE_CLASS. Does not check
 * names, keys or auth. Returns S3_OK and *op.
 */
int s3_op_resolve(const s3_request *req, const s3_target *t, int *op) DD_WUR;

/* ----------------------------------------------------------- helpers */

/* S3 bucket naming rules. Returns S3_OK or S3E_INVALID_BUCKET_NAME. */
int s3_bucket_name_check(dd_str name) DD_WUR;
/* Non-empty, <= 1024 bytes, valid UTF-8. S3_OK, KeyTooLong, InvalidArgument. */
int s3_key_check(dd_str key) DD_WUR;

typedef struct s3_range {
	uint64_t start, len; /* resolved against the object size */
} s3_range;

enum s3_range_result {
	S3_RANGE_NONE = 0, /* no/ignored Range: send 200 with the whole object */
	S3_RANGE_OK,       /* send 206 with *out */
};

/*
 * Resolves a Range header against size. Returns S3_RANGE_NONE for a
 * syntactically invalid or multi-range header (S3 ignores those and sends
 * the whole object), S3_RANGE_OK, or -S3E_INVALID_RANGE (negative!) when
 * unsatisfiable (416; send Content-Range: bytes * / size).
 */
int s3_range_parse(dd_str hdr, uint64_t size, s3_range *out);

/* "Wed, 21 Oct 2015 07:28:00 GMT" into out (>= 30 bytes); returns length. */
size_t s3_time_rfc1123(int64_t unix_s, char *out, size_t cap);
/* "2015-10-21T07:28:00.123Z" into out (>= 25 bytes); returns length. */
size_t s3_time_iso8601(int64_t unix_ms, char *out, size_t cap);
/* Parses RFC 1123 (also RFC 850 and asctime); dd_rc, DD_EINVAL. */
int s3_time_parse_http(dd_str s, int64_t *unix_s) DD_WUR;
/* Parses "YYYYMMDDTHHMMSSZ"; dd_rc. */
int s3_time_parse_amz(dd_str s, int64_t *unix_s) DD_WUR;
/* Parses ISO 8601 "YYYY-MM-DDTHH:MM:SS[.sss]Z"; dd_rc. */
int s3_time_parse_iso8601(dd_str s, int64_t *unix_s) DD_WUR;

/* What a GET/HEAD/PUT/Copy precondition check knows about the object. */
typedef struct s3_cond_obj {
	int exists;
	dd_str etag;      /* unquoted */
	int64_t mtime_s;  /* last modified, unix seconds */
} s3_cond_obj;

/*
 * Evaluates If-Match, If-None-Match (incl. "*"), If-Modified-Since and
 * If-Unmodified-Since with S3's precedence (If-Match true overrides a false
 * If-Unmodified-Since; If-None-Match false means 304 even when
 * If-Modified-Since is true). is_read: GET/HEAD (304 allowed), else 412.
 * prefix: "" for the request headers, "x-amz-copy-source-" for copies:
 * those follow the GET rules (If-Modified-Since included, whatever
 * is_read) but fail with 412 only, never 304 (S3 CopyObject).
 * Returns S3_OK, S3E_NOT_MODIFIED or S3E_PRECONDITION_FAILED.
 */
int s3_cond_eval(const s3_request *req, const char *prefix,
		 const s3_cond_obj *obj, int is_read);

/*
 * Collects x-amz-meta-* headers as "name:value\n" lines (name lower-cased,
 * without the prefix; value trimmed; duplicates joined by ",") into out.
 * Returns S3_OK, S3E_METADATA_TOO_LARGE (total over 2 KiB, as S3),
 * S3E_INVALID_ARGUMENT (CR or LF in a value) or S3E_INTERNAL_ERROR.
 */
int s3_meta_collect(const s3_request *req, dd_buf *out) DD_WUR;

/* A request id: 16 upper-case hex characters + NUL. dd_rc. */
int s3_request_id(char out[17]) DD_WUR;

/* ------------------------------------------------ request parameters */

/* ListObjects V1/V2 and ListMultipartUploads query parameters (borrowed). */
typedef struct s3_list_params {
	int v2;
	dd_str prefix, delimiter;
	uint64_t max_keys;        /* max-keys / max-uploads, default and cap 1000 */
	int url_encode;           /* encoding-type=url */
	int fetch_owner;          /* v2 fetch-owner=true */
	dd_str continuation;      /* v2 continuation-token */
	dd_str start_after;       /* v2 start-after */
	dd_str marker;            /* v1 marker / key-marker */
	dd_str upload_id_marker;  /* ListMultipartUploads */
} s3_list_params;

/*
 * Reads the listing parameters from t (slices borrow the target's
 * arena). Returns S3_OK or S3E_INVALID_ARGUMENT (max-keys not a number,
 * encoding-type other than "url", list-type other than 2).
 */
int s3_list_params_parse(const s3_target *t, s3_list_params *out) DD_WUR;

/*
 * Parses x-amz-copy-source ("bucket/key" or "/bucket/key", URL-encoded)
 * into decoded bucket and key in arena a. Returns S3_OK,
 * S3E_INVALID_ARGUMENT (malformed), S3E_NOT_IMPLEMENTED (?versionId=).
 */
int s3_copy_source_parse(dd_arena *a, dd_str hdr, dd_str *bucket,
			 dd_str *key) DD_WUR;
/*
 * Parses x-amz-copy-source-range "bytes=first-last" against the source
 * size. Returns S3_OK, S3E_INVALID_ARGUMENT (syntax) or
 * S3E_INVALID_RANGE (outside the source).
 */
int s3_copy_range_parse(dd_str hdr, uint64_t size, s3_range *out) DD_WUR;
/*
 * x-amz-metadata-directive: *replace = 0 for COPY (default), 1 for
 * REPLACE. Returns S3_OK or S3E_INVALID_ARGUMENT.
 */
int s3_metadata_directive(const s3_request *req, int *replace) DD_WUR;

/* ------------------------------------------- request handlers (server) */

/*
 * The S3 server on top of the store (s3api/handler*.c). The HTTP glue
 * (gateway/s3_glue.c) feeds each request through one s3_ex:
 *
 *   x = s3_ex_new(srv, req, host)   req: method, raw target, headers
 *                                   (borrowed until s3_ex_free)
 *   s3_ex_begin(x)                  S3_EX_RESPOND: response ready now;
 *                                   S3_EX_BODY: feed the body;
 *                                   S3_EX_MORE: call s3_ex_step(x)
 *                                   until it answers S3_EX_RESPOND
 *                                   (long work cut into bounded steps:
 *                                   run each as its own worker job)
 *   s3_ex_body(x, p, n) ...         decoded HTTP body (any piece sizes)
 *   s3_ex_end(x)                    the response is ready
 *   s3_ex_response(x)               status, headers, fixed body, or a
 *                                   streamed body read with s3_ex_read()
 *   s3_ex_free(x)
 *
 * All calls of one exchange on one thread; an s3_server is shared by all
 * threads (the store is thread-safe). Store work runs synchronously in
 * these calls.
 */
struct seg_store;
typedef struct s3_server s3_server;
typedef struct s3_ex s3_ex;

typedef struct s3_server_conf {
	const char *domain; /* virtual-hosted style domain; "" = path only */
	const char *region; /* reported by ?location */
	uint64_t max_put;   /* single PutObject cap; 0 = S3_MAX_PUT_SIZE */
} s3_server_conf;

/* Returns a server over store (borrowed, must outlive it) or NULL (OOM). */
s3_server *s3_server_new(struct seg_store *store, const s3_server_conf *c);
void s3_server_free(s3_server *srv);

enum s3_ex_next { S3_EX_RESPOND = 0, S3_EX_BODY = 1, S3_EX_MORE = 2 };

/* Response of an exchange; slices valid until s3_ex_free. */
typedef struct s3_response {
	int status;
	const s3_header *headers;
	size_t nheaders;
	const void *body;   /* fixed body (NULL, 0 when none or streamed) */
	size_t body_len;
	int stream;         /* 1: body of stream_len bytes via s3_ex_read */
	uint64_t stream_len;
	int head;           /* HEAD request: never send a body */
} s3_response;

/*
 * Starts an exchange. req and host are borrowed until s3_ex_free (the
 * header array too). Returns NULL on OOM.
 */
s3_ex *s3_ex_new(s3_server *srv, const s3_request *req, dd_str host);
/* Returns enum s3_ex_next. */
int s3_ex_begin(s3_ex *x);
/* One more bounded step after S3_EX_MORE; returns S3_EX_MORE again or
 * S3_EX_RESPOND (the response is then ready). */
int s3_ex_step(s3_ex *x);
/*
 * Consumes body bytes. Errors are remembered and reported by s3_ex_end
 * (the rest of the body is then ignored). Returns DD_OK.
 */
int s3_ex_body(s3_ex *x, const void *p, size_t n) DD_WUR;
/* End of body: finishes the operation; the response is then ready. */
void s3_ex_end(s3_ex *x);
/* The response (after S3_EX_RESPOND or s3_ex_end). */
const s3_response *s3_ex_response(const s3_ex *x);
/*
 * Next bytes of a streamed body into buf (cap bytes); *got = 0 at the
 * end. dd_rc (DD_ECORRUPT, DD_EIO: abort the connection).
 */
int s3_ex_read(s3_ex *x, void *buf, size_t cap, size_t *got) DD_WUR;
/* Frees x (aborting an uncommitted upload). NULL is a no-op. */
void s3_ex_free(s3_ex *x);

#endif /* DD_S3API_S3_H */
