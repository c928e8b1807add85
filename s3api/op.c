/*
 * s3api/op.c - which S3 operation a request is, and the refusal of the
 * features dedupd does not implement (so they fail loudly with 501 rather
 * than being half-served).
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <string.h>

static const char *const op_names[S3_OP_COUNT] = {
	[S3_OP_NONE] = "",
	[S3_OP_LIST_BUCKETS] = "ListBuckets",
	[S3_OP_CREATE_BUCKET] = "CreateBucket",
	[S3_OP_HEAD_BUCKET] = "HeadBucket",
	[S3_OP_DELETE_BUCKET] = "DeleteBucket",
	[S3_OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
	[S3_OP_LIST_OBJECTS_V1] = "ListObjects",
	[S3_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
	[S3_OP_LIST_UPLOADS] = "ListMultipartUploads",
	[S3_OP_DELETE_OBJECTS] = "DeleteObjects",
	[S3_OP_PUT_OBJECT] = "PutObject",
	[S3_OP_COPY_OBJECT] = "CopyObject",
	[S3_OP_GET_OBJECT] = "GetObject",
	[S3_OP_HEAD_OBJECT] = "HeadObject",
	[S3_OP_DELETE_OBJECT] = "DeleteObject",
	[S3_OP_CREATE_MPU] = "CreateMultipartUpload",
	[S3_OP_UPLOAD_PART] = "UploadPart",
	[S3_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
	[S3_OP_COMPLETE_MPU] = "CompleteMultipartUpload",
	[S3_OP_ABORT_MPU] = "AbortMultipartUpload",
	[S3_OP_LIST_PARTS] = "ListParts",
	[S3_OP_GET_ACL] = "GetAcl",
	[S3_OP_LIST_VERSIONS] = "ListObjectVersions",
};

const char *s3_op_name(int op)
{
	return (op >= 0 && op < S3_OP_COUNT) ? op_names[op] : "";
}

/* Sub-resources of features dedupd does not have. */
static const char *const unsupported_params[] = {
	"versioning", "versions", "versionId", "object-lock", "retention",
	"legal-hold", "acl", "policy", "policyStatus", "lifecycle", "website",
	"cors", "replication", "notification", "logging", "encryption",
	"inventory", "analytics", "metrics", "intelligent-tiering",
	"accelerate", "requestPayment", "tagging", "ownershipControls",
	"publicAccessBlock", "select", "select-type", "restore", "torrent",
	"attributes", "session", "renameObject",
};

static const char *const storage_classes[] = {
	"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
	"INTELLIGENT_TIERING", "GLACIER_IR",
};

/* 1 when n starts with prefix, ignoring ASCII case. */
static int starts_ci(dd_str n, const char *prefix)
{
	size_t len = strlen(prefix);

	return n.len >= len && s3i_caseeq((dd_str){n.p, len}, (dd_str){prefix, len});
}

static int eq_method(const s3_request *r, const char *m)
{
	return dd_str_eq_c(r->method, m);
}

/* Header-borne features we refuse; S3_OK when none is present. */
static int check_headers(const s3_request *req)
{
	dd_str v;

	for (size_t i = 0; i < req->nheaders; i++) {
		dd_str n = req->headers[i].name;
		if (starts_ci(n, "x-amz-object-lock-") ||
		    starts_ci(n, "x-amz-grant-") ||
		    starts_ci(n, "x-amz-server-side-encryption-customer-") ||
		    starts_ci(n, "x-amz-server-side-encryption-aws-kms-") ||
		    starts_ci(n, "x-amz-website-redirect-location"))
			return S3E_NOT_IMPLEMENTED;
	}
	if (s3_req_header(req, "x-amz-bucket-object-lock-enabled", &v) &&
	    s3i_caseeq(s3i_trim(v), DD_STR_LIT("true")))
		return S3E_NOT_IMPLEMENTED;
	if (s3_req_header(req, "x-amz-server-side-encryption", &v)) {
		v = s3i_trim(v);
		if (v.len && !dd_str_eq_c(v, "AES256"))
			return S3E_NOT_IMPLEMENTED; /* KMS: no key service */
	}
	if (s3_req_header(req, "x-amz-acl", &v)) {
		v = s3i_trim(v);
		if (!dd_str_eq_c(v, "private") &&
		    !dd_str_eq_c(v, "bucket-owner-full-control"))
			return S3E_NOT_IMPLEMENTED;
	}
	/* An empty x-amz-tagging means no tags (Velero 1.14.1-1.14.2). */
	if (s3_req_header(req, "x-amz-tagging", &v) && s3i_trim(v).len)
		return S3E_NOT_IMPLEMENTED;
	if (s3_req_header(req, "x-amz-storage-class", &v)) {
		v = s3i_trim(v);
		for (size_t i = 0; i < DD_ARRAY_LEN(storage_classes); i++)
			if (dd_str_eq_c(v, storage_classes[i]))
				return S3_OK;
		return S3E_INVALID_STORAGE_CLASS;
	}
	return S3_OK;
}

static int bucket_op(const s3_request *req, const s3_target *t, int *op)
{
	const s3_param *lt = s3_param_get(t, "list-type");

	if (eq_method(req, "GET")) {
		if (s3_param_get(t, "location"))
			*op = S3_OP_GET_BUCKET_LOCATION;
		else if (s3_param_get(t, "uploads"))
			*op = S3_OP_LIST_UPLOADS;
		else if (lt && dd_str_eq_c(lt->value, "2"))
			*op = S3_OP_LIST_OBJECTS_V2;
		else if (lt)
			return S3E_INVALID_ARGUMENT;
		else
			*op = S3_OP_LIST_OBJECTS_V1;
	} else if (eq_method(req, "PUT")) {
		*op = S3_OP_CREATE_BUCKET;
	} else if (eq_method(req, "HEAD")) {
		*op = S3_OP_HEAD_BUCKET;
	} else if (eq_method(req, "DELETE")) {
		*op = S3_OP_DELETE_BUCKET;
	} else if (eq_method(req, "POST")) {
		if (!s3_param_get(t, "delete"))
			return S3E_NOT_IMPLEMENTED; /* browser POST uploads */
		*op = S3_OP_DELETE_OBJECTS;
	} else {
		return S3E_METHOD_NOT_ALLOWED;
	}
	return S3_OK;
}

static int object_op(const s3_request *req, const s3_target *t, int *op)
{
	const s3_param *up = s3_param_get(t, "uploadId");
	const s3_param *pn = s3_param_get(t, "partNumber");
	dd_str v;
	int copy = s3_req_header(req, "x-amz-copy-source", &v);
	uint64_t n;

	if (eq_method(req, "PUT")) {
		if (up || pn) {
			if (!up || !pn)
				return S3E_INVALID_ARGUMENT;
			if (dd_str_to_u64(pn->value, &n) != DD_OK || n < 1 ||
			    n > S3_MAX_PARTS)
				return S3E_INVALID_ARGUMENT;
			*op = copy ? S3_OP_UPLOAD_PART_COPY : S3_OP_UPLOAD_PART;
		} else {
			*op = copy ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT;
		}
	} else if (eq_method(req, "GET") || eq_method(req, "HEAD")) {
		if (pn)
			return S3E_NOT_IMPLEMENTED; /* GET by part number */
		if (up && eq_method(req, "GET"))
			*op = S3_OP_LIST_PARTS;
		else if (up)
			return S3E_METHOD_NOT_ALLOWED;
		else
			*op = eq_method(req, "GET") ? S3_OP_GET_OBJECT
						    : S3_OP_HEAD_OBJECT;
	} else if (eq_method(req, "DELETE")) {
		*op = up ? S3_OP_ABORT_MPU : S3_OP_DELETE_OBJECT;
	} else if (eq_method(req, "POST")) {
		if (s3_param_get(t, "uploads"))
			*op = S3_OP_CREATE_MPU;
		else if (up)
			*op = S3_OP_COMPLETE_MPU;
		else
			return S3E_NOT_IMPLEMENTED;
	} else {
		return S3E_METHOD_NOT_ALLOWED;
	}
	return S3_OK;
}

int s3_op_resolve(const s3_request *req, const s3_target *t, int *op)
{
	int rc;

	*op = S3_OP_NONE;
	/* GET ?acl: the canned private ACL, the only one dedupd has. */
	int getacl = t->bucket.len && eq_method(req, "GET") &&
		     s3_param_get(t, "acl");
	/* ListObjectVersions: without versioning each object is its only
	 * version ("null"); ceph s3-tests' cleanup lists this way. */
	int versions = t->bucket.len && !t->key.len && eq_method(req, "GET") &&
		       s3_param_get(t, "versions");
	for (size_t i = 0; i < DD_ARRAY_LEN(unsupported_params); i++)
		if (s3_param_get(t, unsupported_params[i]) &&
		    !(getacl && strcmp(unsupported_params[i], "acl") == 0) &&
		    !(versions && strcmp(unsupported_params[i], "versions") == 0))
			return S3E_NOT_IMPLEMENTED;
	if (getacl || versions) {
		*op = getacl ? S3_OP_GET_ACL : S3_OP_LIST_VERSIONS;
		return S3_OK;
	}
	if (t->bucket.len == 0) {
		if (!eq_method(req, "GET"))
			return S3E_METHOD_NOT_ALLOWED;
		*op = S3_OP_LIST_BUCKETS;
		return S3_OK;
	}
	if ((rc = check_headers(req)) != S3_OK)
		return rc;
	return t->key.len ? object_op(req, t, op) : bucket_op(req, t, op);
}
