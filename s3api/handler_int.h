/*
 * s3api/handler_int.h - state shared by the request handlers
 * (s3api/handler*.c); not a public header.
 */
#ifndef DD_S3API_HANDLER_INT_H
#define DD_S3API_HANDLER_INT_H

#include "s3api/s3.h"
#include "segstore/seg.h"

#define HX_MAX_HDRS 200
#define HX_HTEXT 20480
#define HX_SMALL_BODY (8u << 20) /* XML request bodies */
#define HX_UPLOAD_ID_LEN 32

struct s3_server {
	seg_store *store;
	char domain[256];
	char region[64];
	uint64_t max_put; /* single PutObject cap (UploadPart: S3_MAX_PUT_SIZE) */
};

/* What to do with body bytes and at the end of the body. */
enum hx_body_kind { HX_BODY_NONE = 0, HX_BODY_WRITER, HX_BODY_BUFFER };

struct s3_ex {
	s3_server *srv;
	s3_request req;          /* borrowed from the glue */
	dd_str host;
	dd_arena *arena;         /* target, listing rows */
	s3_target t;
	int op;                  /* enum s3_op */
	int head;
	s3_auth auth;
	seg_user user;           /* holds the secret: wiped at free */
	char bucket[SEG_NAME_MAX + 1];
	char upload_id[SEG_UPLOAD_ID_MAX + 1];
	uint32_t part;
	/* body */
	int body_kind;           /* enum hx_body_kind */
	s3_body *body;
	int body_err;            /* first S3 error while feeding */
	int sink_rc;             /* dd_rc of the sink that failed */
	seg_writer *w;
	dd_buf in;               /* HX_BODY_BUFFER */
	dd_buf attrs;            /* attrs blob for PUT / CreateMPU */
	/* response */
	s3_response resp;
	s3_header hdrs[HX_MAX_HDRS];
	char htext[HX_HTEXT];
	size_t hlen;
	size_t base_hdrs;        /* headers kept by hx_reset (request id) */
	size_t base_hlen;
	dd_buf out;
	char reqid[17];
	/* streamed GET */
	seg_reader *r;
	uint64_t roff, rend;
	int cond_err;            /* conditional PUT's verdict at commit */
	/* UploadPartCopy between steps (handler_mpu.c) */
	struct hx_pcopy *pc;
};

/* Adds a response header (copied into x). dd_rc (ETOOBIG when full). */
int hx_hdr(s3_ex *x, const char *name, dd_str value) DD_WUR;
int hx_hdr_c(s3_ex *x, const char *name, const char *value) DD_WUR;
/* Sets the error response for e (S3 error code). Always succeeds. */
void hx_err(s3_ex *x, int e);
/* hx_err with a message instead of the table's (msg NULL: the table's). */
void hx_err_msg(s3_ex *x, int e, const char *msg);
/* Maps a store dd_rc for a key operation (ENOENT = NoSuchKey). */
void hx_err_rc(s3_ex *x, int rc);
/* Sets a fixed-body response of status with x->out as body (XML). */
void hx_xml(s3_ex *x, int status);
/* Sets an empty response of status. */
void hx_empty(s3_ex *x, int status);
/*
 * Checks the bucket name of the target, that the unit exists and that
 * the user may use it; fills x->bucket. Returns S3_OK or the S3 error.
 */
int hx_bucket_access(s3_ex *x);
/* The same for any bucket name (copy sources); fills out. */
int hx_unit_access(s3_ex *x, dd_str name, char out[SEG_NAME_MAX + 1]);
/* Key check and bucket access for object operations. S3_OK or error. */
int hx_object_access(s3_ex *x);
/* Prepares the body reader (s3_body) for an operation taking a body. */
int hx_body_start(s3_ex *x, int kind);
/*
 * Largest body the writer of x may take: [s3] max_put_gib for PutObject,
 * S3's 5 GiB for UploadPart.
 */
uint64_t hx_put_limit(const s3_ex *x);

/* Bucket and listing operations (handler_bucket.c); each sets the response. */
void hx_list_buckets(s3_ex *x);
int hx_create_bucket_begin(s3_ex *x);
void hx_create_bucket_end(s3_ex *x);
void hx_head_bucket(s3_ex *x);
void hx_delete_bucket(s3_ex *x);
void hx_bucket_location(s3_ex *x);
void hx_get_acl(s3_ex *x);
void hx_list_objects(s3_ex *x);
void hx_list_uploads(s3_ex *x);

/* ---- multipart helpers shared by handler_obj.c and handler_mpu.c */

/* A multipart upload's record and checksum settings. */
typedef struct hx_upload {
	seg_stat *st; /* the upload record (in x->arena) */
	int alg;      /* x-amz-checksum-algorithm (enum s3_cksum_alg) */
	int type;     /* enum s3_cksum_type; NONE when alg is NONE */
} hx_upload;

/* A recorded part, indexed by number (Complete). */
typedef struct hx_part_row {
	int present;
	uint64_t size;
	char etag[SEG_ETAG_MAX + 1];
	uint8_t md5[16];
	uint32_t cksum_len; /* blob: algorithm byte + raw digest */
	uint8_t cksum[1 + S3_CK_MAX_LEN];
} hx_part_row;

/* Appends "name:value\n" to an attrs blob. dd_rc. */
int hx_attr_line(dd_buf *b, const char *name, dd_str v) DD_WUR;
/* Copies ?uploadId into x->upload_id. S3 error (NoSuchUpload if bad). */
int hx_upload_id_get(s3_ex *x);
/* Reads the upload x->upload_id of the target key into *u. S3 error. */
int hx_upload_load(s3_ex *x, hx_upload *u);
/*
 * CreateMultipartUpload: x-amz-checksum-algorithm and x-amz-checksum-type
 * recorded in x->attrs and echoed. S3 error.
 */
int hx_mpu_cksum_create(s3_ex *x, const char **msg);
/*
 * UploadPart, before the body: the client's checksum must be the
 * upload's algorithm (InvalidRequest "Checksum Type mismatch"); a
 * FULL_OBJECT upload's part without one gets it computed. Call after
 * hx_body_start. S3 error (the message is set in *msg, static).
 */
int hx_part_cksum_check(s3_ex *x, const hx_upload *u, const char **msg);
/*
 * CompleteMultipartUpload checksum work for the parts c lists (already
 * checked against rows): part numbers 1..n (InvalidPartOrder), each
 * part's checksum in the body against the recorded one (InvalidPart;
 * missing for COMPOSITE: InvalidRequest), x-amz-checksum-type and a
 * full-object x-amz-checksum-<alg> header (BadDigest). On S3_OK, when the
 * upload has a checksum, *text is the object checksum ("<b64>-N" or
 * "<b64>", in the arena) and attrs (reset first) the final object's attrs
 * blob (the upload's, less its algorithm/type lines, plus the checksum
 * and type); otherwise *text is NULL and attrs untouched.
 */
int hx_complete_cksum(s3_ex *x, const hx_upload *u, const s3_complete *c,
		      const hx_part_row *rows, dd_buf *attrs,
		      const char **text, const char **msg);
/* UploadPartCopy (handler_mpu.c). */
/* UploadPartCopy: returns enum s3_ex_next (S3_EX_MORE: more steps). */
int hx_upload_part_copy(s3_ex *x);
int hx_upload_part_copy_step(s3_ex *x);
/* Frees an UploadPartCopy's state (x->pc); NULL-safe. */
void hx_pcopy_free(s3_ex *x);

/* Object operations (handler_obj.c). *_begin return enum s3_ex_next. */
int hx_put_begin(s3_ex *x);
void hx_put_end(s3_ex *x);
void hx_get(s3_ex *x);
void hx_delete_object(s3_ex *x);
int hx_create_mpu(s3_ex *x);
int hx_upload_part_begin(s3_ex *x);
void hx_upload_part_end(s3_ex *x);
int hx_complete_begin(s3_ex *x);
void hx_complete_end(s3_ex *x);
void hx_abort_mpu(s3_ex *x);
void hx_list_parts(s3_ex *x);
void hx_copy_object(s3_ex *x);
int hx_delete_objects_begin(s3_ex *x);
void hx_delete_objects_end(s3_ex *x);

#endif /* DD_S3API_HANDLER_INT_H */
