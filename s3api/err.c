/*
 * s3api/err.c - the one S3 error table (code, HTTP status, message; MinIO's
 * api-errors) and the <Error> document renderer.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <string.h>

/* Indexed by enum s3_errcode; messages follow AWS's wording. */
static const s3_errinfo err_table[S3E_COUNT] = {
	[S3_OK] = {"OK", 200, "OK"},
	[S3E_ACCESS_DENIED] = {"AccessDenied", 403, "Access Denied."},
	[S3E_SIGNATURE_DOES_NOT_MATCH] = {"SignatureDoesNotMatch", 403,
		"The request signature we calculated does not match the "
		"signature you provided. Check your key and signing method."},
	[S3E_INVALID_ACCESS_KEY_ID] = {"InvalidAccessKeyId", 403,
		"The access key Id you provided does not exist in our records."},
	[S3E_REQUEST_TIME_TOO_SKEWED] = {"RequestTimeTooSkewed", 403,
		"The difference between the request time and the server's time "
		"is too large."},
	[S3E_AUTH_HEADER_MALFORMED] = {"AuthorizationHeaderMalformed", 400,
		"The authorization header is malformed."},
	[S3E_AUTH_QUERY_PARAMS_ERROR] = {"AuthorizationQueryParametersError",
		400, "The authorization query parameters are malformed."},
	[S3E_EXPIRED_PRESIGNED] = {"AccessDenied", 403, "Request has expired"},
	[S3E_MISSING_SECURITY_HEADER] = {"MissingSecurityHeader", 400,
		"Your request is missing a required header."},
	[S3E_NO_SUCH_KEY] = {"NoSuchKey", 404, "The specified key does not exist."},
	[S3E_NO_SUCH_BUCKET] = {"NoSuchBucket", 404,
		"The specified bucket does not exist"},
	[S3E_NO_SUCH_UPLOAD] = {"NoSuchUpload", 404,
		"The specified multipart upload does not exist. The upload ID "
		"may be invalid, or the upload may have been aborted or "
		"completed."},
	[S3E_BUCKET_ALREADY_EXISTS] = {"BucketAlreadyExists", 409,
		"The requested bucket name is not available. The bucket "
		"namespace is shared by all users of the system. Please select "
		"a different name and try again."},
	[S3E_BUCKET_ALREADY_OWNED_BY_YOU] = {"BucketAlreadyOwnedByYou", 409,
		"Your previous request to create the named bucket succeeded "
		"and you already own it."},
	[S3E_BUCKET_NOT_EMPTY] = {"BucketNotEmpty", 409,
		"The bucket you tried to delete is not empty"},
	[S3E_INVALID_BUCKET_NAME] = {"InvalidBucketName", 400,
		"The specified bucket is not valid."},
	[S3E_KEY_TOO_LONG] = {"KeyTooLongError", 400, "Your key is too long"},
	[S3E_INVALID_RANGE] = {"InvalidRange", 416,
		"The requested range is not satisfiable"},
	[S3E_BAD_DIGEST] = {"BadDigest", 400,
		"The Content-MD5 or checksum value you specified did not match "
		"what we received."},
	[S3E_INVALID_DIGEST] = {"InvalidDigest", 400,
		"The Content-MD5 or checksum value you specified is not valid."},
	[S3E_CONTENT_SHA256_MISMATCH] = {"XAmzContentSHA256Mismatch", 400,
		"The provided 'x-amz-content-sha256' header does not match what "
		"was computed."},
	[S3E_INVALID_ARGUMENT] = {"InvalidArgument", 400, "Invalid Argument"},
	[S3E_INVALID_REQUEST] = {"InvalidRequest", 400, "Invalid Request"},
	[S3E_INVALID_URI] = {"InvalidURI", 400,
		"Couldn't parse the specified URI."},
	[S3E_MALFORMED_XML] = {"MalformedXML", 400,
		"The XML you provided was not well-formed or did not validate "
		"against our published schema."},
	[S3E_MALFORMED_TRAILER] = {"MalformedTrailerError", 400,
		"The request contained trailing data that was not well-formed "
		"or did not conform to our published schema."},
	[S3E_INVALID_PART] = {"InvalidPart", 400,
		"One or more of the specified parts could not be found. The "
		"part may not have been uploaded, or the specified entity tag "
		"may not match the part's entity tag."},
	[S3E_INVALID_PART_ORDER] = {"InvalidPartOrder", 400,
		"The list of parts was not in ascending order. The parts list "
		"must be specified in order by part number."},
	[S3E_ENTITY_TOO_SMALL] = {"EntityTooSmall", 400,
		"Your proposed upload is smaller than the minimum allowed "
		"object size."},
	[S3E_ENTITY_TOO_LARGE] = {"EntityTooLarge", 400,
		"Your proposed upload exceeds the maximum allowed object size."},
	[S3E_MISSING_CONTENT_LENGTH] = {"MissingContentLength", 411,
		"You must provide the Content-Length HTTP header."},
	[S3E_MISSING_REQUEST_BODY] = {"MissingRequestBodyError", 400,
		"Request Body is empty."},
	[S3E_PRECONDITION_FAILED] = {"PreconditionFailed", 412,
		"At least one of the pre-conditions you specified did not hold"},
	[S3E_NOT_MODIFIED] = {"NotModified", 304, "Not Modified"},
	[S3E_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", 405,
		"The specified method is not allowed against this resource."},
	[S3E_NOT_IMPLEMENTED] = {"NotImplemented", 501,
		"A header or query you provided implies functionality that is "
		"not implemented."},
	[S3E_INTERNAL_ERROR] = {"InternalError", 500,
		"We encountered an internal error. Please try again."},
	[S3E_SLOW_DOWN] = {"SlowDown", 503, "Please reduce your request rate."},
	[S3E_INCOMPLETE_BODY] = {"IncompleteBody", 400,
		"You did not provide the number of bytes specified by the "
		"Content-Length HTTP header."},
	/*
	 * Not an AWS code; Ceph RGW's name and status. 403 because retrying
	 * cannot help (a 5xx would make SDKs retry a full upload).
	 */
	[S3E_QUOTA_EXCEEDED] = {"QuotaExceeded", 403,
		"The storage unit's hard quota would be exceeded."},
	[S3E_SERVICE_UNAVAILABLE] = {"ServiceUnavailable", 503,
		"Service is unable to handle request."},
	[S3E_REQUEST_TIMEOUT] = {"RequestTimeout", 400,
		"Your socket connection to the server was not read from or "
		"written to within the timeout period."},
	[S3E_INVALID_STORAGE_CLASS] = {"InvalidStorageClass", 400,
		"The storage class you specified is not valid."},
	[S3E_NO_SUCH_VERSION] = {"NoSuchVersion", 404,
		"The specified version does not exist."},
	[S3E_METADATA_TOO_LARGE] = {"MetadataTooLarge", 400,
		"Your metadata headers exceed the maximum allowed metadata "
		"size."},
};

const s3_errinfo *s3_err_info(int e)
{
	if (e < 0 || e >= S3E_COUNT || !err_table[e].code)
		return &err_table[S3E_INTERNAL_ERROR];
	return &err_table[e];
}

int s3_err_from_rc(int rc)
{
	switch (rc) {
	case DD_OK: return S3_OK;
	case DD_ENOENT: return S3E_NO_SUCH_KEY;
	case DD_EEXIST: return S3E_BUCKET_ALREADY_OWNED_BY_YOU;
	case DD_EINVAL: return S3E_INVALID_ARGUMENT;
	case DD_ETOOBIG: return S3E_ENTITY_TOO_LARGE;
	case DD_ENOTEMPTY: return S3E_BUCKET_NOT_EMPTY;
	case DD_EQUOTA: return S3E_QUOTA_EXCEEDED;
	case DD_EPERM: return S3E_ACCESS_DENIED;
	case DD_EAUTH: return S3E_ACCESS_DENIED;
	case DD_EAGAIN: return S3E_SLOW_DOWN;
	case DD_ELIMIT: return S3E_SLOW_DOWN;
	case DD_EDIGEST: return S3E_BAD_DIGEST;
	case DD_ESHUTDOWN: return S3E_SERVICE_UNAVAILABLE;
	case DD_ENOSPC: return S3E_SERVICE_UNAVAILABLE;
	case DD_ERANGE: return S3E_INVALID_RANGE;
	case DD_ENOTSUP: return S3E_NOT_IMPLEMENTED;
	case DD_EPROTO: return S3E_INVALID_REQUEST;
	default: return S3E_INTERNAL_ERROR;
	}
}

int s3_err_render(dd_buf *out, int e, const char *message,
		  const char *resource, const char *request_id,
		  const char *host_id)
{
	const s3_errinfo *ei = s3_err_info(e);
	s3_xml x;

	s3_xml_begin(&x, out);
	s3_xml_open(&x, "Error", 0);
	s3_xml_elem_c(&x, "Code", ei->code);
	s3_xml_elem_c(&x, "Message", message ? message : ei->message);
	if (resource)
		s3_xml_elem_c(&x, "Resource", resource);
	if (request_id)
		s3_xml_elem_c(&x, "RequestId", request_id);
	if (host_id)
		s3_xml_elem_c(&x, "HostId", host_id);
	s3_xml_close(&x, "Error");
	return s3_xml_end(&x);
}
