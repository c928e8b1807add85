/*
 * tests/unit/test_s3_util.c - request-target parsing, names, keys, Range,
 * dates, conditional requests, metadata, error table and renderer.
 * Expected values follow the S3 documentation (bucket naming rules, Range
 * behaviour, conditional-request precedence) and RFC 7231 / RFC 4648.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "s3api/s3.h"

static dd_arena *arena;

static int setup(void **state)
{
	(void)state;
	arena = dd_arena_new(1 << 20);
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dd_arena_free(arena);
	return 0;
}

static void test_target_path_style(void **state)
{
	s3_target t;
	const s3_param *p;

	(void)state;
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT(
		"/bkt/dir/a%20b+c%2Fd?list-type=2&prefix=a%2Fb+c&uploads&x=&delimiter=%2F"),
		DD_STR_LIT("127.0.0.1:9000"), DD_STR_LIT("localhost"), &t), S3_OK);
	assert_false(t.virtual_host);
	assert_true(dd_str_eq_c(t.bucket, "bkt"));
	assert_true(dd_str_eq_c(t.key, "dir/a b+c/d")); /* '+' literal in paths */
	assert_true(dd_str_eq_c(t.raw_path, "/bkt/dir/a%20b+c%2Fd"));
	assert_int_equal(t.nparams, 5);
	p = s3_param_get(&t, "prefix");
	assert_non_null(p);
	assert_true(dd_str_eq_c(p->value, "a/b c")); /* '+' is space in queries */
	p = s3_param_get(&t, "uploads");
	assert_non_null(p);
	assert_false(p->has_value);
	assert_int_equal(p->value.len, 0);
	p = s3_param_get(&t, "x");
	assert_true(p->has_value);
	assert_null(s3_param_get(&t, "X"));

	/* Service and bucket level. */
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/"), DD_STR_LIT("h"),
					 DD_STR_LIT(""), &t), S3_OK);
	assert_int_equal(t.bucket.len, 0);
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/bkt/?location"),
					 DD_STR_LIT("h"), DD_STR_LIT(""), &t), S3_OK);
	assert_true(dd_str_eq_c(t.bucket, "bkt"));
	assert_int_equal(t.key.len, 0);
	assert_non_null(s3_param_get(&t, "location"));
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/bkt"),
					 DD_STR_LIT("h"), DD_STR_LIT(""), &t), S3_OK);
	assert_true(dd_str_eq_c(t.bucket, "bkt"));
}

static void test_target_virtual_host(void **state)
{
	s3_target t;

	(void)state;
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/k/ey?x-id=GetObject"),
		DD_STR_LIT("bkt.localhost:9000"), DD_STR_LIT("localhost"), &t), S3_OK);
	assert_true(t.virtual_host);
	assert_true(dd_str_eq_c(t.bucket, "bkt"));
	assert_true(dd_str_eq_c(t.key, "k/ey"));
	/* Host case and a trailing dot do not matter; no port is fine. */
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/"),
		DD_STR_LIT("my.bkt.S3.Example.com."), DD_STR_LIT("s3.example.com"), &t), S3_OK);
	assert_true(dd_str_eq_c(t.bucket, "my.bkt"));
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/k"),
		DD_STR_LIT("bkt.localhost:9000"), DD_STR_LIT("localhost:9000"), &t), S3_OK);
	assert_true(t.virtual_host);
	assert_true(dd_str_eq_c(t.bucket, "bkt"));
	/* The domain itself (or another host) means path style. */
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/b/k"),
		DD_STR_LIT("localhost:9000"), DD_STR_LIT("localhost"), &t), S3_OK);
	assert_false(t.virtual_host);
	assert_true(dd_str_eq_c(t.bucket, "b"));
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/b/k"),
		DD_STR_LIT("xlocalhost"), DD_STR_LIT("localhost"), &t), S3_OK);
	assert_false(t.virtual_host);
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/b/k"),
		DD_STR_LIT("[::1]:9000"), DD_STR_LIT("localhost"), &t), S3_OK);
	assert_false(t.virtual_host);
}

static void test_target_errors(void **state)
{
	s3_target t;
	const char *bad[] = {"", "b/k", "/a%2", "/a%zz", "/a%00b", "/a b", "/a#b",
			     "/a?x=%G0", "http://h/a"};

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++)
		assert_int_equal(s3_target_parse(arena, dd_str_c(bad[i]),
						 DD_STR_LIT("h"), DD_STR_LIT(""), &t),
				 S3E_INVALID_URI);
	char many[2048] = "/b?";
	for (int i = 0; i < 200; i++)
		memcpy(many + 3 + 2 * i, "a&", 3);
	assert_int_equal(s3_target_parse(arena, dd_str_c(many), DD_STR_LIT("h"),
					 DD_STR_LIT(""), &t), S3E_INVALID_ARGUMENT);
}

static void test_uri_encode(void **state)
{
	dd_buf b;

	(void)state;
	dd_buf_init(&b, 1024);
	assert_int_equal(s3_uri_encode(&b, DD_STR_LIT("a b/c~d$e+é"), 0), DD_OK);
	assert_string_equal(b.data, "a%20b/c~d%24e%2B%C3%A9");
	dd_buf_reset(&b);
	assert_int_equal(s3_uri_encode(&b, DD_STR_LIT("a/b=c"), 1), DD_OK);
	assert_string_equal(b.data, "a%2Fb%3Dc");
	dd_buf_release(&b);
}

static void test_bucket_names(void **state)
{
	const char *good[] = {"abc", "my-bucket.v2", "a1b", "velero",
			      "012345678901234567890123456789012345678901234567890123456789012"};
	const char *bad[] = {"ab", "ABC", "-abc", "abc-", "a..b", "a.-b", "a-.b",
			     "192.168.1.1", "xn--abc", "abc-s3alias", "abc--ol-s3",
			     "a_b", "sthree-x", ".abc", "abc.",
			     "0123456789012345678901234567890123456789012345678901234567890123"};

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(good); i++)
		assert_int_equal(s3_bucket_name_check(dd_str_c(good[i])), S3_OK);
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++)
		if (s3_bucket_name_check(dd_str_c(bad[i])) != S3E_INVALID_BUCKET_NAME)
			fail_msg("accepted %s", bad[i]);
}

static void test_keys(void **state)
{
	char k[1100];

	(void)state;
	assert_int_equal(s3_key_check(DD_STR_LIT("backups/b1/velero-backup.json")), S3_OK);
	assert_int_equal(s3_key_check(DD_STR_LIT("d\xc3\xa9j\xc3\xa0/\xf0\x9f\x98\x80")), S3_OK);
	assert_int_equal(s3_key_check(DD_STR_LIT("")), S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_key_check(DD_STR_LIT("bad\xc3")), S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_key_check(DD_STR_LIT("\xc0\xaf")), S3E_INVALID_ARGUMENT); /* overlong */
	assert_int_equal(s3_key_check(DD_STR_LIT("\xed\xa0\x80")), S3E_INVALID_ARGUMENT); /* surrogate */
	memset(k, 'a', sizeof(k));
	assert_int_equal(s3_key_check((dd_str){k, 1024}), S3_OK);
	assert_int_equal(s3_key_check((dd_str){k, 1025}), S3E_KEY_TOO_LONG);
}

static void test_range(void **state)
{
	s3_range r;

	(void)state;
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=0-9"), 100, &r), S3_RANGE_OK);
	assert_true(r.start == 0 && r.len == 10);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=90-"), 100, &r), S3_RANGE_OK);
	assert_true(r.start == 90 && r.len == 10);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=-30"), 100, &r), S3_RANGE_OK);
	assert_true(r.start == 70 && r.len == 30);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=-300"), 100, &r), S3_RANGE_OK);
	assert_true(r.start == 0 && r.len == 100);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=50-1000"), 100, &r), S3_RANGE_OK);
	assert_true(r.start == 50 && r.len == 50);
	/* Unsatisfiable: 416 InvalidRange. */
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=100-"), 100, &r), -S3E_INVALID_RANGE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=100-200"), 100, &r), -S3E_INVALID_RANGE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=-0"), 100, &r), -S3E_INVALID_RANGE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=0-0"), 0, &r), -S3E_INVALID_RANGE);
	/* Ignored (whole object): invalid syntax, multiple ranges. */
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=0-9,20-29"), 100, &r), S3_RANGE_NONE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("items=0-9"), 100, &r), S3_RANGE_NONE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=9-0"), 100, &r), S3_RANGE_NONE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=a-b"), 100, &r), S3_RANGE_NONE);
	assert_int_equal(s3_range_parse(DD_STR_LIT("bytes=5"), 100, &r), S3_RANGE_NONE);
}

static void test_dates(void **state)
{
	char buf[64];
	int64_t t;

	(void)state;
	/* RFC 7231 section 7.1.1.1 example: 784111777 = Sun, 06 Nov 1994 08:49:37 GMT. */
	assert_int_equal(s3_time_rfc1123(784111777, buf, sizeof(buf)), 29);
	assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(s3_time_parse_http(DD_STR_LIT("Sun, 06 Nov 1994 08:49:37 GMT"), &t), DD_OK);
	assert_true(t == 784111777);
	assert_int_equal(s3_time_parse_http(DD_STR_LIT("Sunday, 06-Nov-94 08:49:37 GMT"), &t), DD_OK);
	assert_true(t == 784111777);
	assert_int_equal(s3_time_parse_http(DD_STR_LIT("Sun Nov  6 08:49:37 1994"), &t), DD_OK);
	assert_true(t == 784111777);
	assert_int_equal(s3_time_parse_http(DD_STR_LIT("Sun, 06 Nov 1994 08:49:37 PST"), &t), DD_EINVAL);
	assert_int_equal(s3_time_parse_http(DD_STR_LIT("Sun, 31 Feb 1994 08:49:37 GMT"), &t), DD_EINVAL);
	assert_int_equal(s3_time_parse_amz(DD_STR_LIT("19940229T000000Z"), &t), DD_EINVAL);
	assert_int_equal(s3_time_parse_http(DD_STR_LIT("garbage"), &t), DD_EINVAL);
	assert_int_equal(s3_time_iso8601(784111777123LL, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "1994-11-06T08:49:37.123Z");
	assert_int_equal(s3_time_parse_iso8601(DD_STR_LIT("1994-11-06T08:49:37.123Z"), &t), DD_OK);
	assert_true(t == 784111777);
	assert_int_equal(s3_time_parse_iso8601(DD_STR_LIT("1994-11-06T08:49:37Z"), &t), DD_OK);
	assert_int_equal(s3_time_parse_iso8601(DD_STR_LIT("1994-11-06 08:49:37Z"), &t), DD_EINVAL);
	assert_int_equal(s3_time_parse_amz(DD_STR_LIT("20130524T000000Z"), &t), DD_OK);
	assert_true(t == 1369353600);
	assert_int_equal(s3_time_parse_amz(DD_STR_LIT("20131324T000000Z"), &t), DD_EINVAL);
	assert_int_equal(s3_time_parse_amz(DD_STR_LIT("20130524T000000"), &t), DD_EINVAL);
	/* Leap day. */
	assert_int_equal(s3_time_parse_amz(DD_STR_LIT("20240229T120000Z"), &t), DD_OK);
	assert_true(t == 1709208000);
}

#define H(n, v) {DD_STR_LIT(n), DD_STR_LIT(v)}

static int cond(const s3_header *h, size_t n, int exists, int is_read)
{
	s3_request r = {DD_STR_LIT("GET"), DD_STR_LIT("/b/k"), h, n};
	/* Object: ETag "abc", last modified 784111777 (Sun, 06 Nov 1994 08:49:37). */
	s3_cond_obj o = {exists, DD_STR_LIT("abc"), 784111777};
	return s3_cond_eval(&r, "", &o, is_read);
}

static void test_conditionals(void **state)
{
	(void)state;
	assert_int_equal(cond(NULL, 0, 1, 1), S3_OK);
	s3_header im[] = {H("If-Match", "\"abc\"")};
	assert_int_equal(cond(im, 1, 1, 1), S3_OK);
	s3_header im2[] = {H("If-Match", "\"x\", \"abc\"")};
	assert_int_equal(cond(im2, 1, 1, 1), S3_OK);
	s3_header imx[] = {H("If-Match", "\"x\"")};
	assert_int_equal(cond(imx, 1, 1, 1), S3E_PRECONDITION_FAILED);
	s3_header imstar[] = {H("If-Match", "*")};
	assert_int_equal(cond(imstar, 1, 1, 1), S3_OK);
	assert_int_equal(cond(imstar, 1, 0, 0), S3E_PRECONDITION_FAILED);
	/* If-None-Match: 304 on reads, 412 on writes; "*" for create-only PUT. */
	s3_header inm[] = {H("If-None-Match", "\"abc\"")};
	assert_int_equal(cond(inm, 1, 1, 1), S3E_NOT_MODIFIED);
	assert_int_equal(cond(inm, 1, 1, 0), S3E_PRECONDITION_FAILED);
	s3_header inmstar[] = {H("If-None-Match", "*")};
	assert_int_equal(cond(inmstar, 1, 1, 0), S3E_PRECONDITION_FAILED);
	assert_int_equal(cond(inmstar, 1, 0, 0), S3_OK);
	/* If-Modified-Since / If-Unmodified-Since. */
	s3_header ims_old[] = {H("If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")};
	s3_header ims_new[] = {H("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")};
	assert_int_equal(cond(ims_old, 1, 1, 1), S3_OK);
	assert_int_equal(cond(ims_new, 1, 1, 1), S3E_NOT_MODIFIED);
	s3_header ims_bad[] = {H("If-Modified-Since", "yesterday")};
	assert_int_equal(cond(ims_bad, 1, 1, 1), S3_OK); /* invalid dates are ignored */
	s3_header ius_old[] = {H("If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")};
	assert_int_equal(cond(ius_old, 1, 1, 1), S3E_PRECONDITION_FAILED);
	/* S3 precedence: If-Match true + If-Unmodified-Since false -> 200. */
	s3_header both1[] = {H("If-Match", "\"abc\""),
			     H("If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")};
	assert_int_equal(cond(both1, 2, 1, 1), S3_OK);
	/* If-None-Match false + If-Modified-Since true -> 304. */
	s3_header both2[] = {H("If-None-Match", "\"abc\""),
			     H("If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")};
	assert_int_equal(cond(both2, 2, 1, 1), S3E_NOT_MODIFIED);
	/* If-None-Match true + If-Modified-Since false -> 200 (IMS ignored). */
	s3_header both3[] = {H("If-None-Match", "\"zzz\""),
			     H("If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT")};
	assert_int_equal(cond(both3, 2, 1, 1), S3_OK);
	/* Copy-source variants use their own prefix. */
	s3_header cs[] = {H("x-amz-copy-source-if-match", "\"x\"")};
	s3_request r = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), cs, 1};
	s3_cond_obj o = {1, DD_STR_LIT("abc"), 0};
	assert_int_equal(s3_cond_eval(&r, "x-amz-copy-source-", &o, 0),
			 S3E_PRECONDITION_FAILED);
	assert_int_equal(s3_cond_eval(&r, "", &o, 0), S3_OK);
	/* Copy sources: If-Modified-Since counts and every failure is 412. */
	s3_cond_obj o2 = {1, DD_STR_LIT("abc"), 784111777};
	s3_header cims[] = {H("x-amz-copy-source-if-modified-since",
			      "Sun, 06 Nov 1994 08:49:37 GMT")};
	s3_request r2 = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), cims, 1};
	assert_int_equal(s3_cond_eval(&r2, "x-amz-copy-source-", &o2, 0),
			 S3E_PRECONDITION_FAILED);
	cims[0].value = DD_STR_LIT("Sat, 05 Nov 1994 08:49:37 GMT");
	assert_int_equal(s3_cond_eval(&r2, "x-amz-copy-source-", &o2, 0), S3_OK);
	s3_header cinm[] = {H("x-amz-copy-source-if-none-match", "\"abc\"")};
	s3_request r3 = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), cinm, 1};
	assert_int_equal(s3_cond_eval(&r3, "x-amz-copy-source-", &o2, 1),
			 S3E_PRECONDITION_FAILED);
}

static void test_meta(void **state)
{
	s3_header h[] = {
		H("X-Amz-Meta-Color", "  blue "), H("Content-Type", "x"),
		H("x-amz-meta-tags", "a"), H("X-AMZ-META-COLOR", "red"),
		H("x-amz-meta-", "empty-name-skipped"),
	};
	s3_request r = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), h, 5};
	dd_buf b;

	(void)state;
	dd_buf_init(&b, 8192);
	assert_int_equal(s3_meta_collect(&r, &b), S3_OK);
	assert_string_equal(b.data, "color:blue,red\ntags:a\n");
	dd_buf_release(&b);
	char big[3000];
	memset(big, 'v', sizeof(big));
	s3_header hb[] = {{DD_STR_LIT("x-amz-meta-big"), {big, sizeof(big)}}};
	r.headers = hb;
	r.nheaders = 1;
	dd_buf_init(&b, 8192);
	assert_int_equal(s3_meta_collect(&r, &b), S3E_METADATA_TOO_LARGE);
	dd_buf_release(&b);
}

static void test_errors(void **state)
{
	dd_buf b;
	char id[17];

	(void)state;
	for (int e = 1; e < S3E_COUNT; e++) {
		const s3_errinfo *ei = s3_err_info(e);
		assert_non_null(ei->code);
		assert_true(ei->status >= 300 && ei->status < 600);
	}
	assert_string_equal(s3_err_info(S3E_NO_SUCH_KEY)->code, "NoSuchKey");
	assert_int_equal(s3_err_info(S3E_NO_SUCH_KEY)->status, 404);
	assert_int_equal(s3_err_info(S3E_INVALID_RANGE)->status, 416);
	assert_int_equal(s3_err_info(S3E_SIGNATURE_DOES_NOT_MATCH)->status, 403);
	assert_int_equal(s3_err_info(S3E_REQUEST_TIME_TOO_SKEWED)->status, 403);
	assert_int_equal(s3_err_info(S3E_SLOW_DOWN)->status, 503);
	assert_int_equal(s3_err_info(S3E_NOT_MODIFIED)->status, 304);
	assert_int_equal(s3_err_info(S3E_NOT_IMPLEMENTED)->status, 501);
	assert_int_equal(s3_err_info(S3E_MISSING_CONTENT_LENGTH)->status, 411);
	assert_string_equal(s3_err_info(S3E_CONTENT_SHA256_MISMATCH)->code,
			    "XAmzContentSHA256Mismatch");
	assert_string_equal(s3_err_info(-1)->code, "InternalError");
	assert_string_equal(s3_err_info(S3E_COUNT)->code, "InternalError");
	assert_int_equal(s3_err_from_rc(DD_EQUOTA), S3E_QUOTA_EXCEEDED);
	assert_int_equal(s3_err_from_rc(DD_EAGAIN), S3E_SLOW_DOWN);
	assert_int_equal(s3_err_from_rc(DD_EIO), S3E_INTERNAL_ERROR);

	dd_buf_init(&b, 4096);
	assert_int_equal(s3_err_render(&b, S3E_NO_SUCH_KEY, NULL, "/b/a&b<c>",
				       "4442587FB7D0A2F9", "host-1"), DD_OK);
	assert_string_equal(b.data,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
		"</Message><Resource>/b/a&amp;b&lt;c&gt;</Resource>"
		"<RequestId>4442587FB7D0A2F9</RequestId><HostId>host-1</HostId></Error>");
	dd_buf_release(&b);
	dd_buf_init(&b, 16);
	assert_int_equal(s3_err_render(&b, S3E_NO_SUCH_KEY, NULL, NULL, NULL, NULL),
			 DD_ETOOBIG);
	dd_buf_release(&b);

	assert_int_equal(s3_request_id(id), DD_OK);
	assert_int_equal(strlen(id), 16);
	for (int i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789ABCDEF", id[i]));
}

/* Resolves method + target (+ headers) to an op; returns the S3 error. */
static int resolve(const char *method, const char *target, const s3_header *h,
		   size_t nh, int *op)
{
	s3_request r = {dd_str_c(method), dd_str_c(target), h, nh};
	s3_target t;

	assert_int_equal(s3_target_parse(arena, r.target, DD_STR_LIT("h:1"),
					 DD_STR_LIT(""), &t), S3_OK);
	return s3_op_resolve(&r, &t, op);
}

static void test_op_resolve(void **state)
{
	static const struct {
		const char *method, *target;
		int op;
	} ok[] = {
		{"GET", "/", S3_OP_LIST_BUCKETS},
		{"PUT", "/b", S3_OP_CREATE_BUCKET},
		{"HEAD", "/b", S3_OP_HEAD_BUCKET},
		{"DELETE", "/b/", S3_OP_DELETE_BUCKET},
		{"GET", "/b/?location", S3_OP_GET_BUCKET_LOCATION},
		{"GET", "/b?acl", S3_OP_GET_ACL},
		{"GET", "/b/k?acl", S3_OP_GET_ACL},
		{"GET", "/b?versions&key-marker=a", S3_OP_LIST_VERSIONS},
		{"GET", "/b?list-type=2&prefix=&delimiter=%2F", S3_OP_LIST_OBJECTS_V2},
		{"GET", "/b?prefix=x", S3_OP_LIST_OBJECTS_V1},
		{"GET", "/b?uploads", S3_OP_LIST_UPLOADS},
		{"POST", "/b?delete", S3_OP_DELETE_OBJECTS},
		{"PUT", "/b/k", S3_OP_PUT_OBJECT},
		{"GET", "/b/k?x-id=GetObject", S3_OP_GET_OBJECT},
		{"HEAD", "/b/k", S3_OP_HEAD_OBJECT},
		{"DELETE", "/b/k", S3_OP_DELETE_OBJECT},
		{"POST", "/b/k?uploads", S3_OP_CREATE_MPU},
		{"POST", "/b/k?uploads=", S3_OP_CREATE_MPU},
		{"PUT", "/b/k?partNumber=3&uploadId=u&x-id=UploadPart", S3_OP_UPLOAD_PART},
		{"POST", "/b/k?uploadId=u", S3_OP_COMPLETE_MPU},
		{"DELETE", "/b/k?uploadId=u", S3_OP_ABORT_MPU},
		{"GET", "/b/k?uploadId=u", S3_OP_LIST_PARTS},
	};
	static const struct {
		const char *method, *target;
		int err;
	} bad[] = {
		{"PUT", "/", S3E_METHOD_NOT_ALLOWED},
		{"PATCH", "/b/k", S3E_METHOD_NOT_ALLOWED},
		{"GET", "/b?versioning", S3E_NOT_IMPLEMENTED},
		{"GET", "/b/k?versions", S3E_NOT_IMPLEMENTED},
		{"GET", "/b?versions&versionId=x", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b?object-lock", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b?lifecycle", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b?website", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b?policy", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b?cors", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b/k?acl", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b?acl", S3E_NOT_IMPLEMENTED},
		{"GET", "/b?acl&tagging", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b/k?tagging", S3E_NOT_IMPLEMENTED},
		{"PUT", "/b/k?retention", S3E_NOT_IMPLEMENTED},
		{"GET", "/b/k?versionId=abc", S3E_NOT_IMPLEMENTED},
		{"POST", "/b", S3E_NOT_IMPLEMENTED},
		{"POST", "/b/k?restore", S3E_NOT_IMPLEMENTED},
		{"GET", "/b?list-type=3", S3E_INVALID_ARGUMENT},
		{"PUT", "/b/k?partNumber=0&uploadId=u", S3E_INVALID_ARGUMENT},
		{"PUT", "/b/k?partNumber=10001&uploadId=u", S3E_INVALID_ARGUMENT},
		{"PUT", "/b/k?partNumber=1", S3E_INVALID_ARGUMENT},
		{"GET", "/b/k?partNumber=1", S3E_NOT_IMPLEMENTED},
	};
	int op;

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(ok); i++) {
		int rc = resolve(ok[i].method, ok[i].target, NULL, 0, &op);
		if (rc != S3_OK || op != ok[i].op)
			fail_msg("%s %s: rc %d op %d", ok[i].method, ok[i].target, rc, op);
	}
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++) {
		int rc = resolve(bad[i].method, bad[i].target, NULL, 0, &op);
		if (rc != bad[i].err)
			fail_msg("%s %s: rc %d want %d", bad[i].method, bad[i].target,
				 rc, bad[i].err);
	}
	assert_string_equal(s3_op_name(S3_OP_UPLOAD_PART_COPY), "UploadPartCopy");
	assert_string_equal(s3_op_name(-1), "");

	s3_header copy[] = {H("x-amz-copy-source", "/src/k")};
	assert_int_equal(resolve("PUT", "/b/k", copy, 1, &op), S3_OK);
	assert_int_equal(op, S3_OP_COPY_OBJECT);
	assert_int_equal(resolve("PUT", "/b/k?partNumber=1&uploadId=u", copy, 1, &op), S3_OK);
	assert_int_equal(op, S3_OP_UPLOAD_PART_COPY);

	/* Header-borne features. */
	s3_header empty_tag[] = {H("x-amz-tagging", ""), H("x-amz-acl", "private"),
				 H("x-amz-server-side-encryption", "AES256"),
				 H("x-amz-storage-class", "STANDARD")};
	assert_int_equal(resolve("PUT", "/b/k", empty_tag, 4, &op), S3_OK);
	const s3_header refused[][1] = {
		{H("x-amz-tagging", "a=b")},
		{H("x-amz-acl", "public-read")},
		{H("x-amz-grant-read", "id=x")},
		{H("X-Amz-Object-Lock-Mode", "GOVERNANCE")},
		{H("x-amz-server-side-encryption", "aws:kms")},
		{H("x-amz-server-side-encryption-customer-algorithm", "AES256")},
		{H("x-amz-bucket-object-lock-enabled", "true")},
	};
	for (size_t i = 0; i < DD_ARRAY_LEN(refused); i++)
		assert_int_equal(resolve("PUT", "/b/k", refused[i], 1, &op),
				 S3E_NOT_IMPLEMENTED);
	s3_header sc[] = {H("x-amz-storage-class", "DEEP_ARCHIVE")};
	assert_int_equal(resolve("PUT", "/b/k", sc, 1, &op), S3E_INVALID_STORAGE_CLASS);
}

static void test_params(void **state)
{
	s3_list_params lp;
	s3_target t;
	dd_str b, k;
	s3_range r;
	int rep;

	(void)state;
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT(
		"/bkt?list-type=2&prefix=&delimiter=%2F&encoding-type=url&fetch-owner=true"
		"&continuation-token=abc%3D&max-keys=5000"),
		DD_STR_LIT("h"), DD_STR_LIT(""), &t), S3_OK);
	assert_int_equal(s3_list_params_parse(&t, &lp), S3_OK);
	assert_true(lp.v2 && lp.url_encode && lp.fetch_owner);
	assert_int_equal(lp.prefix.len, 0);
	assert_true(dd_str_eq_c(lp.delimiter, "/"));
	assert_true(dd_str_eq_c(lp.continuation, "abc="));
	assert_int_equal(lp.max_keys, 1000); /* capped */
	assert_int_equal(s3_target_parse(arena, DD_STR_LIT("/bkt?marker=m1&max-keys=2"),
					 DD_STR_LIT("h"), DD_STR_LIT(""), &t), S3_OK);
	assert_int_equal(s3_list_params_parse(&t, &lp), S3_OK);
	assert_false(lp.v2);
	assert_true(dd_str_eq_c(lp.marker, "m1"));
	assert_int_equal(lp.max_keys, 2);
	const char *bad[] = {"/bkt?max-keys=-1", "/bkt?max-keys=ten",
			     "/bkt?encoding-type=base64", "/bkt?list-type=1"};
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++) {
		assert_int_equal(s3_target_parse(arena, dd_str_c(bad[i]), DD_STR_LIT("h"),
						 DD_STR_LIT(""), &t), S3_OK);
		assert_int_equal(s3_list_params_parse(&t, &lp), S3E_INVALID_ARGUMENT);
	}

	assert_int_equal(s3_copy_source_parse(arena, DD_STR_LIT("/src/dir/a%20b"), &b, &k), S3_OK);
	assert_true(dd_str_eq_c(b, "src"));
	assert_true(dd_str_eq_c(k, "dir/a b"));
	assert_int_equal(s3_copy_source_parse(arena, DD_STR_LIT("src/k"), &b, &k), S3_OK);
	assert_true(dd_str_eq_c(k, "k"));
	assert_int_equal(s3_copy_source_parse(arena, DD_STR_LIT("src/k?versionId=1"), &b, &k),
			 S3E_NOT_IMPLEMENTED);
	assert_int_equal(s3_copy_source_parse(arena, DD_STR_LIT("src"), &b, &k), S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_copy_source_parse(arena, DD_STR_LIT("src/"), &b, &k), S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_copy_source_parse(arena, DD_STR_LIT("/src/%zz"), &b, &k), S3E_INVALID_ARGUMENT);

	assert_int_equal(s3_copy_range_parse(DD_STR_LIT("bytes=0-9"), 100, &r), S3_OK);
	assert_true(r.start == 0 && r.len == 10);
	assert_int_equal(s3_copy_range_parse(DD_STR_LIT("bytes=0-100"), 100, &r), S3E_INVALID_RANGE);
	assert_int_equal(s3_copy_range_parse(DD_STR_LIT("bytes=5-"), 100, &r), S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_copy_range_parse(DD_STR_LIT("bytes=9-5"), 100, &r), S3E_INVALID_ARGUMENT);

	s3_header d1[] = {H("x-amz-metadata-directive", "REPLACE")};
	s3_header d2[] = {H("x-amz-metadata-directive", "MERGE")};
	s3_request rq = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), NULL, 0};
	assert_int_equal(s3_metadata_directive(&rq, &rep), S3_OK);
	assert_false(rep);
	rq.headers = d1;
	rq.nheaders = 1;
	assert_int_equal(s3_metadata_directive(&rq, &rep), S3_OK);
	assert_true(rep);
	rq.headers = d2;
	assert_int_equal(s3_metadata_directive(&rq, &rep), S3E_INVALID_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_path_style),
		cmocka_unit_test(test_target_virtual_host),
		cmocka_unit_test(test_target_errors),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_bucket_names),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_conditionals),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_op_resolve),
		cmocka_unit_test(test_params),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
