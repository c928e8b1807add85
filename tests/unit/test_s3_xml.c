/*
 * tests/unit/test_s3_xml.c - response writer and request-body parsers.
 * Element names and layout follow the S3 API reference for each operation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "s3api/s3.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static void test_escape(void **state)
{
	dd_buf b;
	s3_xml x;

	(void)state;
	dd_buf_init(&b, 1024);
	s3_xml_begin(&x, &b);
	s3_xml_elem(&x, "Key", DD_STR_LIT("a&b<c>\"d'e\r\n\x01\x7f"));
	assert_int_equal(s3_xml_end(&x), DD_OK);
	assert_string_equal(b.data, DECL "<Key>a&amp;b&lt;c&gt;&quot;d&apos;e&#xD;&#xA;&#x1;&#x7F;</Key>");
	dd_buf_release(&b);
	/* Errors are sticky and reported once. */
	dd_buf_init(&b, 50);
	s3_xml_begin(&x, &b);
	s3_xml_elem_c(&x, "Key", "0123456789012345678901234567890123456789");
	s3_xml_elem_c(&x, "K", "v");
	assert_int_equal(s3_xml_end(&x), DD_ETOOBIG);
	dd_buf_release(&b);
}

static void test_list_v2(void **state)
{
	s3_xml_object objs[] = {
		{DD_STR_LIT("backups/a b+c.json"), 1700000000123LL, DD_STR_LIT("d41d8cd98f00b204e9800998ecf8427e"), 0, DD_STR_LIT("")},
	};
	dd_str prefixes[] = {DD_STR_LIT("backups/x y/")};
	s3_xml_listing l = {
		.v2 = 1, .bucket = DD_STR_LIT("bkt"), .prefix = DD_STR_LIT("backups/"),
		.delimiter = DD_STR_LIT("/"), .url_encode = 1, .max_keys = 1000,
		.truncated = 1, .continuation = DD_STR_LIT("tok1"),
		.next_continuation = DD_STR_LIT("tok2"), .objects = objs, .nobjects = 1,
		.prefixes = prefixes, .nprefixes = 1,
	};
	dd_buf b;

	(void)state;
	dd_buf_init(&b, 1 << 16);
	assert_int_equal(s3_xml_list_objects(&b, &l), DD_OK);
	assert_string_equal(b.data, DECL "<ListBucketResult" NS ">"
		"<Name>bkt</Name><Prefix>backups/</Prefix>"
		"<ContinuationToken>tok1</ContinuationToken>"
		"<NextContinuationToken>tok2</NextContinuationToken>"
		"<KeyCount>2</KeyCount><Delimiter>/</Delimiter><MaxKeys>1000</MaxKeys>"
		"<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
		"<Contents><Key>backups/a%20b%2Bc.json</Key>"
		"<LastModified>2023-11-14T22:13:20.123Z</LastModified>"
		"<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size>"
		"<StorageClass>STANDARD</StorageClass></Contents>"
		"<CommonPrefixes><Prefix>backups/x%20y/</Prefix></CommonPrefixes>"
		"</ListBucketResult>");
	/* Without encoding-type=url keys are XML-escaped only. */
	dd_buf_reset(&b);
	l.url_encode = 0;
	l.truncated = 0;
	l.next_continuation = DD_STR_LIT("");
	l.fetch_owner = 1;
	l.owner = (s3_xml_owner){DD_STR_LIT("id1"), DD_STR_LIT("alice")};
	assert_int_equal(s3_xml_list_objects(&b, &l), DD_OK);
	assert_non_null(strstr(b.data, "<Key>backups/a b+c.json</Key>"));
	assert_non_null(strstr(b.data, "<Owner><ID>id1</ID><DisplayName>alice</DisplayName></Owner>"));
	assert_null(strstr(b.data, "EncodingType"));
	assert_null(strstr(b.data, "NextContinuationToken"));
	assert_non_null(strstr(b.data, "<IsTruncated>false</IsTruncated>"));
	/* V1 has Marker, always. */
	dd_buf_reset(&b);
	l.v2 = 0;
	assert_int_equal(s3_xml_list_objects(&b, &l), DD_OK);
	assert_non_null(strstr(b.data, "<Marker></Marker>"));
	assert_null(strstr(b.data, "KeyCount"));
	dd_buf_release(&b);
}

static void test_other_results(void **state)
{
	dd_buf b;
	s3_xml_bucket bk[] = {{DD_STR_LIT("velero"), 0}};
	s3_xml_owner ow = {DD_STR_LIT("id"), DD_STR_LIT("name")};
	s3_xml_deleted del[] = {{DD_STR_LIT("a"), S3_OK}, {DD_STR_LIT("b"), S3E_ACCESS_DENIED}};
	s3_xml_part parts[] = {{1, 0, DD_STR_LIT("e1"), 5242880,
				{S3_CK_CRC32, {0x36, 0x10, 0xa6, 0x86}, 4}}};
	s3_xml_parts_list pl = {DD_STR_LIT("b"), DD_STR_LIT("k"), DD_STR_LIT("u1"),
				0, 1, 1000, 0, {DD_STR_LIT(""), DD_STR_LIT("")},
				S3_CK_CRC32, S3_CKT_COMPOSITE, parts, 1};
	s3_xml_upload ups[] = {{DD_STR_LIT("k"), DD_STR_LIT("u1"), 0}};
	s3_xml_uploads_list ul = {.bucket = DD_STR_LIT("b"), .max_uploads = 1000,
				  .uploads = ups, .nuploads = 1};

	(void)state;
	dd_buf_init(&b, 1 << 16);
	assert_int_equal(s3_xml_list_buckets(&b, &ow, bk, 1, DD_STR_LIT(""),
					     DD_STR_LIT("")), DD_OK);
	assert_string_equal(b.data, DECL "<ListAllMyBucketsResult" NS "><Owner><ID>id</ID>"
		"<DisplayName>name</DisplayName></Owner><Buckets><Bucket><Name>velero</Name>"
		"<CreationDate>1970-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>"
		"</ListAllMyBucketsResult>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_list_buckets(&b, &ow, bk, 1, DD_STR_LIT("ve"),
					     DD_STR_LIT("7665")), DD_OK);
	assert_non_null(strstr(b.data, "</Buckets><ContinuationToken>7665</ContinuationToken>"
			       "<Prefix>ve</Prefix></ListAllMyBucketsResult>"));
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_initiate_mpu(&b, DD_STR_LIT("b"), DD_STR_LIT("k"),
					     DD_STR_LIT("u1")), DD_OK);
	assert_string_equal(b.data, DECL "<InitiateMultipartUploadResult" NS "><Bucket>b</Bucket>"
		"<Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_complete_mpu(&b, DD_STR_LIT("/b/k"), DD_STR_LIT("b"),
		DD_STR_LIT("k"), DD_STR_LIT("abc-2"), "wpn7tg==-2", S3_CK_CRC32,
		S3_CKT_COMPOSITE), DD_OK);
	assert_string_equal(b.data, DECL "<CompleteMultipartUploadResult" NS "><Location>/b/k</Location>"
		"<Bucket>b</Bucket><Key>k</Key><ETag>&quot;abc-2&quot;</ETag>"
		"<ChecksumCRC32>wpn7tg==-2</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>"
		"</CompleteMultipartUploadResult>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_complete_mpu(&b, DD_STR_LIT("/b/k"), DD_STR_LIT("b"),
		DD_STR_LIT("k"), DD_STR_LIT("abc-2"), NULL, S3_CK_NONE, S3_CKT_NONE), DD_OK);
	assert_string_equal(b.data, DECL "<CompleteMultipartUploadResult" NS "><Location>/b/k</Location>"
		"<Bucket>b</Bucket><Key>k</Key><ETag>&quot;abc-2&quot;</ETag>"
		"</CompleteMultipartUploadResult>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_copy_result(&b, 1, DD_STR_LIT("e"), 1000, NULL), DD_OK);
	assert_string_equal(b.data, DECL "<CopyPartResult" NS "><LastModified>1970-01-01T00:00:01.000Z"
		"</LastModified><ETag>&quot;e&quot;</ETag></CopyPartResult>");
	dd_buf_reset(&b);
	{
		s3_cksum_value ck = {S3_CK_CRC32C, {0xe3, 0x06, 0x92, 0x83}, 4};
		/* CRC32C of "123456789" is 0xe3069283 (the catalogue's check value). */
		assert_int_equal(s3_xml_copy_result(&b, 1, DD_STR_LIT("e"), 1000, &ck), DD_OK);
		assert_string_equal(b.data, DECL "<CopyPartResult" NS "><LastModified>"
			"1970-01-01T00:00:01.000Z</LastModified><ETag>&quot;e&quot;</ETag>"
			"<ChecksumCRC32C>4waSgw==</ChecksumCRC32C></CopyPartResult>");
	}
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_delete_result(&b, 0, del, 2), DD_OK);
	assert_string_equal(b.data, DECL "<DeleteResult" NS "><Deleted><Key>a</Key></Deleted>"
		"<Error><Key>b</Key><Code>AccessDenied</Code><Message>Access Denied.</Message>"
		"</Error></DeleteResult>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_delete_result(&b, 1, del, 2), DD_OK);
	assert_null(strstr(b.data, "<Deleted>"));
	assert_non_null(strstr(b.data, "<Error>"));
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_location(&b, DD_STR_LIT("us-east-1")), DD_OK);
	assert_string_equal(b.data, DECL "<LocationConstraint" NS "></LocationConstraint>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_location(&b, DD_STR_LIT("eu-west-1")), DD_OK);
	assert_string_equal(b.data, DECL "<LocationConstraint" NS ">eu-west-1</LocationConstraint>");
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_list_parts(&b, &pl), DD_OK);
	assert_non_null(strstr(b.data, "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
			       "<ChecksumType>COMPOSITE</ChecksumType>"));
	assert_non_null(strstr(b.data, "<Part><PartNumber>1</PartNumber><LastModified>"
			       "1970-01-01T00:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag>"
			       "<Size>5242880</Size><ChecksumCRC32>NhCmhg==</ChecksumCRC32></Part>"));
	dd_buf_reset(&b);
	assert_int_equal(s3_xml_list_uploads(&b, &ul), DD_OK);
	assert_non_null(strstr(b.data, "<Upload><Key>k</Key><UploadId>u1</UploadId>"));
	assert_non_null(strstr(b.data, "<MaxUploads>1000</MaxUploads>"));
	dd_buf_release(&b);
}

static void test_parse_complete(void **state)
{
	const char *ok =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Part><ETag>\"e1\"</ETag><PartNumber>1</PartNumber>"
		"<ChecksumCRC32>NhCmhg==</ChecksumCRC32></Part>"
		"<Part><PartNumber>3</PartNumber><ETag>&quot;e3&quot;</ETag></Part>"
		"</CompleteMultipartUpload>";
	s3_complete c;

	(void)state;
	assert_int_equal(s3_xml_parse_complete(ok, strlen(ok), &c), S3_OK);
	assert_int_equal(c.nparts, 2);
	assert_int_equal(c.parts[0].number, 1);
	assert_string_equal(c.parts[0].etag, "e1");
	assert_int_equal(c.parts[0].cksum[S3_CK_CRC32].alg, S3_CK_CRC32);
	assert_memory_equal(c.parts[0].cksum[S3_CK_CRC32].digest, "\x36\x10\xa6\x86", 4);
	assert_int_equal(c.parts[1].number, 3);
	assert_string_equal(c.parts[1].etag, "e3");
	assert_int_equal(c.parts[1].cksum[S3_CK_CRC32].alg, S3_CK_NONE);
	s3_complete_release(&c);

	/* Many parts (realloc path). */
	dd_buf b;
	dd_buf_init(&b, 1 << 20);
	assert_int_equal(dd_buf_append_str(&b, "<CompleteMultipartUpload>"), DD_OK);
	for (int i = 1; i <= 100; i++)
		assert_int_equal(dd_buf_appendf(&b, "<Part><PartNumber>%d</PartNumber>"
						"<ETag>x%d</ETag></Part>", i, i), DD_OK);
	assert_int_equal(dd_buf_append_str(&b, "</CompleteMultipartUpload>"), DD_OK);
	assert_int_equal(s3_xml_parse_complete(b.data, b.len, &c), S3_OK);
	assert_int_equal(c.nparts, 100);
	assert_string_equal(c.parts[99].etag, "x100");
	s3_complete_release(&c);
	dd_buf_release(&b);

	static const struct {
		const char *xml;
		int err;
	} bad[] = {
		{"<CompleteMultipartUpload></CompleteMultipartUpload>", S3E_MALFORMED_XML},
		{"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>", S3E_MALFORMED_XML},
		{"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part>"
		 "<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>", S3E_INVALID_PART_ORDER},
		{"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>", S3E_INVALID_PART},
		{"<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>", S3E_INVALID_PART},
		{"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>"
		 "<ChecksumSHA256>NhCmhg==</ChecksumSHA256></Part></CompleteMultipartUpload>", S3E_INVALID_DIGEST},
		{"<Other><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Other>", S3E_MALFORMED_XML},
		{"<CompleteMultipartUpload><Part>", S3E_MALFORMED_XML},
		{"not xml", S3E_MALFORMED_XML},
		{"", S3E_MALFORMED_XML},
		/* XXE and entity expansion are refused. */
		{"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		 "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&x;</ETag></Part>"
		 "</CompleteMultipartUpload>", S3E_MALFORMED_XML},
		{"<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>"
		 "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&lol2;</ETag></Part>"
		 "</CompleteMultipartUpload>", S3E_MALFORMED_XML},
		{"<a><b><c><d><e><f><g><h><i></i></h></g></f></e></d></c></b></a>", S3E_MALFORMED_XML},
	};
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++) {
		int rc = s3_xml_parse_complete(bad[i].xml, strlen(bad[i].xml), &c);
		if (rc != bad[i].err)
			fail_msg("case %zu: got %d want %d", i, rc, bad[i].err);
		assert_null(c.parts);
	}
}

static void test_parse_delete(void **state)
{
	const char *ok = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			 "<Quiet>true</Quiet><Object><Key> a b </Key></Object>"
			 "<Object><Key>c&amp;d</Key><VersionId>v</VersionId></Object></Delete>";
	s3_delete_req d;

	(void)state;
	assert_int_equal(s3_xml_parse_delete(ok, strlen(ok), &d), S3_OK);
	assert_true(d.quiet);
	assert_int_equal(d.nkeys, 2);
	assert_string_equal(d.keys[0], " a b ");
	assert_string_equal(d.keys[1], "c&d");
	assert_null(d.etags[0]);
	assert_null(d.etags[1]);
	assert_int_equal(d.bad_version[0], 0);
	assert_int_equal(d.bad_version[1], 1); /* <VersionId>v</VersionId> */
	s3_delete_req_release(&d);
	/* Conditional deletes: <ETag> per object, quotes kept as sent. */
	const char *ce = "<Delete><Object><Key>a</Key><ETag>\"e1\"</ETag></Object>"
			 "<Object><Key>b</Key></Object><Object><Key>c</Key>"
			 "<ETag>*</ETag></Object><Object><Key>d</Key></Object>"
			 "<Object><Key>e</Key><ETag>x</ETag></Object></Delete>";
	assert_int_equal(s3_xml_parse_delete(ce, strlen(ce), &d), S3_OK);
	assert_int_equal(d.nkeys, 5);
	assert_string_equal(d.etags[0], "\"e1\"");
	assert_null(d.etags[1]);
	assert_string_equal(d.etags[2], "*");
	assert_null(d.etags[3]);
	assert_string_equal(d.etags[4], "x");
	assert_string_equal(d.keys[4], "e");
	for (int i = 0; i < 5; i++)
		assert_int_equal(d.bad_version[i], 0);
	s3_delete_req_release(&d);
	const char *vn = "<Delete><Object><Key>a</Key><VersionId>null</VersionId></Object>"
			 "<Object><Key>b</Key><VersionId>3/L4kq</VersionId></Object></Delete>";
	assert_int_equal(s3_xml_parse_delete(vn, strlen(vn), &d), S3_OK);
	assert_int_equal(d.bad_version[0], 0);
	assert_int_equal(d.bad_version[1], 1);
	s3_delete_req_release(&d);
	const char *two = "<Delete><Object><Key>a</Key><ETag>1</ETag><ETag>2</ETag>"
			  "</Object></Delete>";
	assert_int_equal(s3_xml_parse_delete(two, strlen(two), &d), S3E_MALFORMED_XML);

	dd_buf b;
	dd_buf_init(&b, 1 << 20);
	assert_int_equal(dd_buf_append_str(&b, "<Delete>"), DD_OK);
	for (int i = 0; i < 1001; i++)
		assert_int_equal(dd_buf_appendf(&b, "<Object><Key>k%d</Key></Object>", i), DD_OK);
	assert_int_equal(dd_buf_append_str(&b, "</Delete>"), DD_OK);
	assert_int_equal(s3_xml_parse_delete(b.data, b.len, &d), S3E_MALFORMED_XML);
	dd_buf_release(&b);

	const char *bad[] = {
		"<Delete></Delete>",
		"<Delete><Object></Object></Delete>",
		"<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
		"<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
		"<Remove><Object><Key>a</Key></Object></Remove>",
	};
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++)
		assert_int_equal(s3_xml_parse_delete(bad[i], strlen(bad[i]), &d),
				 S3E_MALFORMED_XML);
}

static void test_parse_create_bucket(void **state)
{
	const char *ok = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			 "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>";
	char region[64];

	(void)state;
	assert_int_equal(s3_xml_parse_create_bucket(ok, strlen(ok), region, sizeof(region)), S3_OK);
	assert_string_equal(region, "eu-west-1");
	assert_int_equal(s3_xml_parse_create_bucket("", 0, region, sizeof(region)), S3_OK);
	assert_string_equal(region, "");
	assert_int_equal(s3_xml_parse_create_bucket(" \r\n", 3, region, sizeof(region)), S3_OK);
	assert_int_equal(s3_xml_parse_create_bucket(ok, strlen(ok), region, 4),
			 S3E_INVALID_ARGUMENT);
	assert_int_equal(s3_xml_parse_create_bucket("<x/>", 4, region, sizeof(region)),
			 S3E_MALFORMED_XML);
	assert_int_equal(s3_xml_parse_create_bucket("<CreateBucketConfiguration>", 27,
						    region, sizeof(region)), S3E_MALFORMED_XML);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_list_v2),
		cmocka_unit_test(test_other_results),
		cmocka_unit_test(test_parse_complete),
		cmocka_unit_test(test_parse_delete),
		cmocka_unit_test(test_parse_create_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
