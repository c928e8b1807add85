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
};

/* Adds a response header (copied into x). dd_rc (ETOOBIG when full). */
int hx_hdr(s3_ex *x, const char *name, dd_str value) DD_WUR;
int hx_hdr_c(s3_ex *x, const char *name, const char *value) DD_WUR;
/* Sets the error response for e (S3 error code). Always succeeds. */
void hx_err(s3_ex *x, int e);
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
void hx_list_objects(s3_ex *x);
void hx_list_uploads(s3_ex *x);

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
