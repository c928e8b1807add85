/*
 * tests/unit/test_s3_cksum.c - checksums, base64 and multipart helpers.
 *
 * Vectors: CRC catalogue check values over "123456789" (CRC-32/ISO-HDLC
 * cbf43926, CRC-32/ISCSI e3069283, CRC-64/NVME ae8b14860a799888);
 * RFC 3720 B.4 CRC32C of 32 zero / 32 0xff bytes; CRC64NVME of 32 zero
 * bytes (aws-checksums tests) and of 4096 zero / 0xff bytes (SPDK's
 * NVMe spec vectors); base64 from RFC 4648 section 10; SHA-1/SHA-256 of
 * "abc" from FIPS 180. The multipart ETag and COMPOSITE values were computed
 * once with Python hashlib/zlib (md5(md5(p1)||md5(p2)), crc32 over the
 * big-endian part CRCs) and pasted.
 *
 * Multipart checksum vectors (test_multipart_types): the parts
 * "The quick brown fox ", "jumps over", " the lazy dog" checksummed in
 * Python 3 with zlib.crc32 and a bitwise reflected CRC (CRC32C poly
 * 0x82f63b78, CRC64NVME poly 0x9a6c9329ac4bc9b5, init and xorout all ones,
 * checked against the catalogue values above); FULL_OBJECT expected = the
 * CRC of the joined string, COMPOSITE = the CRC/SHA-1 of the concatenated
 * big-endian part digests, base64, "-3".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "s3api/s3.h"
#include "s3api/s3_int.h"

static void test_crc_check_values(void **state)
{
	uint8_t buf[4096];

	(void)state;
	assert_int_equal(s3_crc32(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(s3_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_true(s3_crc64nvme(0, "123456789", 9) == 0xAE8B14860A799888ull);
	memset(buf, 0, 32);
	assert_int_equal(s3_crc32c(0, buf, 32), 0x8A9136AAu);
	assert_true(s3_crc64nvme(0, buf, 32) == 0xCF3473434D4ECF3Bull);
	memset(buf, 0xff, 32);
	assert_int_equal(s3_crc32c(0, buf, 32), 0x62A8AB43u);
	memset(buf, 0, sizeof(buf));
	assert_true(s3_crc64nvme(0, buf, 4096) == 0x6482D367EB22B64Eull);
	memset(buf, 0xff, sizeof(buf));
	assert_true(s3_crc64nvme(0, buf, 4096) == 0xC0DDBA7302ECA3ACull);
	assert_int_equal(s3_crc32(0, "", 0), 0);
	/* The table fallback agrees with the (possibly SSE4.2) default. */
	assert_int_equal(s3i_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n < 100; n += 3)
		assert_int_equal(s3i_crc32c_sw(0, buf + n, sizeof(buf) - 2 * n),
				 s3_crc32c(0, buf + n, sizeof(buf) - 2 * n));
}

static void test_incremental_and_combine(void **state)
{
	static const int algs[] = {S3_CK_CRC32, S3_CK_CRC32C, S3_CK_CRC64NVME};
	uint8_t buf[1000];
	uint64_t seed = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(seed >> 56);
	}
	for (size_t a = 0; a < 3; a++) {
		int alg = algs[a];
		uint64_t whole = alg == S3_CK_CRC32 ? s3_crc32(0, buf, sizeof(buf))
			: alg == S3_CK_CRC32C ? s3_crc32c(0, buf, sizeof(buf))
			: s3_crc64nvme(0, buf, sizeof(buf));
		for (size_t split = 0; split <= sizeof(buf); split += 37) {
			uint64_t x, y, inc;
			size_t rest = sizeof(buf) - split;
			if (alg == S3_CK_CRC32) {
				x = s3_crc32(0, buf, split);
				y = s3_crc32(0, buf + split, rest);
				inc = s3_crc32((uint32_t)x, buf + split, rest);
			} else if (alg == S3_CK_CRC32C) {
				x = s3_crc32c(0, buf, split);
				y = s3_crc32c(0, buf + split, rest);
				inc = s3_crc32c((uint32_t)x, buf + split, rest);
			} else {
				x = s3_crc64nvme(0, buf, split);
				y = s3_crc64nvme(0, buf + split, rest);
				inc = s3_crc64nvme(x, buf + split, rest);
			}
			assert_true(inc == whole);
			assert_true(s3_crc_combine(alg, x, y, rest) == whole);
		}
	}
}

static void test_cksum_api(void **state)
{
	static const struct {
		int alg;
		const char *hex;
	} v[] = {
		{S3_CK_CRC32, "352441c2"},
		{S3_CK_CRC32C, "364b3fb7"},
		{S3_CK_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{S3_CK_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	};
	uint8_t d[S3_CK_MAX_LEN];
	char hex[2 * S3_CK_MAX_LEN + 1];
	s3_cksum c;

	(void)state;
	/* CRC32("abc") = 0x352441c2, CRC32C("abc") = 0x364b3fb7 (big-endian). */
	for (size_t i = 0; i < DD_ARRAY_LEN(v); i++) {
		assert_int_equal(s3_cksum_init(&c, v[i].alg), DD_OK);
		s3_cksum_update(&c, "a", 1);
		s3_cksum_update(&c, "bc", 2);
		size_t n = s3_cksum_final(&c, d);
		s3_cksum_release(&c);
		assert_int_equal(n, s3_cksum_len(v[i].alg));
		dd_hex_encode(d, n, hex);
		assert_string_equal(hex, v[i].hex);
	}
	assert_int_equal(s3_cksum_init(&c, S3_CK_CRC64NVME), DD_OK);
	s3_cksum_update(&c, "Hello, World!\n", 14);
	size_t n = s3_cksum_final(&c, d);
	char b64[S3_CK_B64_MAX];
	s3_b64_encode(d, n, b64, sizeof(b64));
	assert_string_equal(b64, "SoXXbx67KpE="); /* crc64nvme README example */
	s3_cksum_release(&c);
	assert_int_equal(s3_cksum_alg_parse(DD_STR_LIT("crc32c")), S3_CK_CRC32C);
	assert_int_equal(s3_cksum_alg_parse(DD_STR_LIT("CRC64NVME")), S3_CK_CRC64NVME);
	assert_int_equal(s3_cksum_alg_parse(DD_STR_LIT("md5")), S3_CK_NONE);
	assert_string_equal(s3_cksum_header(S3_CK_SHA1), "x-amz-checksum-sha1");
	assert_int_equal(s3_cksum_init(&c, 99), DD_EINVAL);
}

static void test_base64(void **state)
{
	static const char *pairs[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	char out[16];
	uint8_t raw[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_LEN(pairs); i++) {
		s3_b64_encode(pairs[i][0], strlen(pairs[i][0]), out, sizeof(out));
		assert_string_equal(out, pairs[i][1]);
		assert_int_equal(s3_b64_decode(dd_str_c(pairs[i][1]), raw, sizeof(raw), &n), DD_OK);
		assert_int_equal(n, strlen(pairs[i][0]));
		assert_memory_equal(raw, pairs[i][0], n);
	}
	const char *bad[] = {"Zg=", "Zg=a", "Z===", "Zh==", "Zm9v!", "Zg==Zg==", "=Zg="};
	for (size_t i = 0; i < DD_ARRAY_LEN(bad); i++)
		assert_int_equal(s3_b64_decode(dd_str_c(bad[i]), raw, sizeof(raw), &n),
				 DD_EINVAL);
	/* Output capacity is respected. */
	assert_int_equal(s3_b64_decode(DD_STR_LIT("Zm9vYmFy"), raw, 5, &n), DD_EINVAL);
	assert_int_equal(s3_b64_encode("foobar", 6, out, 8), 0);
}

#define H(n, v) {DD_STR_LIT(n), DD_STR_LIT(v)}

static void test_headers(void **state)
{
	s3_cksum_value v;
	uint8_t md5[16];
	int present;

	(void)state;
	s3_header one[] = {H("X-Amz-Checksum-CRC32C", "yZRlqg==")};
	s3_request r = {DD_STR_LIT("PUT"), DD_STR_LIT("/b/k"), one, 1};
	assert_int_equal(s3_cksum_from_headers(&r, &v), S3_OK);
	assert_int_equal(v.alg, S3_CK_CRC32C);
	assert_memory_equal(v.digest, "\xc9\x94\x65\xaa", 4);
	char txt[S3_CK_B64_MAX];
	assert_int_equal(s3_cksum_b64(&v, txt, sizeof(txt)), 8);
	assert_string_equal(txt, "yZRlqg==");

	s3_header two[] = {H("x-amz-checksum-crc32", "NhCmhg=="),
			   H("x-amz-checksum-sha1", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")};
	r.headers = two;
	r.nheaders = 2;
	assert_int_equal(s3_cksum_from_headers(&r, &v), S3E_INVALID_REQUEST);

	s3_header wrong[] = {H("x-amz-checksum-sha256", "NhCmhg==")}; /* 4 bytes */
	r.headers = wrong;
	r.nheaders = 1;
	assert_int_equal(s3_cksum_from_headers(&r, &v), S3E_INVALID_DIGEST);

	/* x-amz-sdk-checksum-algorithm alone is ignored (Velero #7534). */
	s3_header sdk[] = {H("x-amz-sdk-checksum-algorithm", "CRC32")};
	r.headers = sdk;
	assert_int_equal(s3_cksum_from_headers(&r, &v), S3_OK);
	assert_int_equal(v.alg, S3_CK_NONE);
	assert_int_equal(s3_content_md5(&r, md5, &present), S3_OK);
	assert_false(present);

	s3_header m[] = {H("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")};
	r.headers = m;
	assert_int_equal(s3_content_md5(&r, md5, &present), S3_OK);
	assert_true(present);
	assert_memory_equal(md5, "\x5d\x41\x40\x2a\xbc\x4b\x2a\x76", 8);
	s3_header mbad[] = {H("Content-MD5", "XUFAKrxLKna5cZ2REBfF")};
	r.headers = mbad;
	assert_int_equal(s3_content_md5(&r, md5, &present), S3E_INVALID_DIGEST);
}

static void test_multipart(void **state)
{
	uint8_t md5s[32], crcs[8], shas[64];
	char out[96];
	s3_cksum c;

	(void)state;
	assert_int_equal(s3_md5("hello", 5, md5s), DD_OK);
	assert_int_equal(s3_md5("world", 5, md5s + 16), DD_OK);
	assert_int_equal(s3_multipart_etag(md5s, 2, out, sizeof(out)), DD_OK);
	assert_string_equal(out, "065947336a2f2a95ba8899f3675c3be6-2");
	assert_int_equal(s3_multipart_etag(md5s, 2, out, 10), DD_ETOOBIG);

	const char *parts[2] = {"hello", "world"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s3_cksum_init(&c, S3_CK_CRC32), DD_OK);
		s3_cksum_update(&c, parts[i], 5);
		uint8_t d[S3_CK_MAX_LEN];
		assert_int_equal(s3_cksum_final(&c, d), 4);
		memcpy(crcs + 4 * i, d, 4);
		s3_cksum_release(&c);
		assert_int_equal(s3_cksum_init(&c, S3_CK_SHA256), DD_OK);
		s3_cksum_update(&c, parts[i], 5);
		s3_cksum_final(&c, shas + 32 * i);
		s3_cksum_release(&c);
	}
	assert_int_equal(s3_cksum_composite(S3_CK_CRC32, crcs, 2, out, sizeof(out)), DD_OK);
	assert_string_equal(out, "wpn7tg==-2");
	assert_int_equal(s3_cksum_composite(S3_CK_SHA256, shas, 2, out, sizeof(out)), DD_OK);
	assert_string_equal(out, "cwXbmyq8zXBsJW2z2X5f9I1nfP5NOlkEr7faDjlQ4eI=-2");
	assert_int_equal(s3_cksum_composite(S3_CK_NONE, shas, 2, out, sizeof(out)), DD_EINVAL);
}

static void hex_to(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	(void)n;
	assert_int_equal(dd_hex_decode(hex, strlen(hex), out), DD_OK);
}

static void test_multipart_types(void **state)
{
	static const char *const parts[3] = {"The quick brown fox ",
					     "jumps over", " the lazy dog"};
	static const struct {
		int alg;
		const char *part_hex[3];
		const char *whole_hex, *whole_b64;
	} v[] = {
		{S3_CK_CRC32, {"88b075e2", "e132333a", "eecf9cfb"},
		 "414fa339", "QU+jOQ=="},
		{S3_CK_CRC32C, {"46675bb9", "aa47dcda", "3d5b91f9"},
		 "22620404", "ImIEBA=="},
		{S3_CK_CRC64NVME,
		 {"7be597b073a1b683", "8139119cd4e7f281", "38f01a5d70cd2dac"},
		 "d76c54054954c143", "12xUBUlUwUM="},
	};
	uint64_t sizes[3];
	uint8_t dig[3 * 8], want[8], sha[3 * 20];
	s3_cksum_value out;
	char b64[S3_CK_B64_MAX], text[64];
	s3_cksum c;

	(void)state;
	for (int i = 0; i < 3; i++)
		sizes[i] = strlen(parts[i]);
	for (size_t k = 0; k < DD_ARRAY_LEN(v); k++) {
		size_t len = s3_cksum_len(v[k].alg);

		for (int i = 0; i < 3; i++) {
			/* the part digests from our own CRC agree too */
			uint8_t d[S3_CK_MAX_LEN];
			hex_to(v[k].part_hex[i], dig + i * len);
			assert_int_equal(s3_cksum_init(&c, v[k].alg), DD_OK);
			s3_cksum_update(&c, parts[i], sizes[i]);
			assert_int_equal(s3_cksum_final(&c, d), len);
			s3_cksum_release(&c);
			assert_memory_equal(d, dig + i * len, len);
		}
		assert_int_equal(s3_cksum_full_object(v[k].alg, dig, sizes, 3,
						      &out), DD_OK);
		hex_to(v[k].whole_hex, want);
		assert_int_equal(out.alg, v[k].alg);
		assert_int_equal(out.len, len);
		assert_memory_equal(out.digest, want, len);
		s3_cksum_b64(&out, b64, sizeof(b64));
		assert_string_equal(b64, v[k].whole_b64);
		/* one part: its own CRC */
		assert_int_equal(s3_cksum_full_object(v[k].alg, dig, sizes, 1,
						      &out), DD_OK);
		assert_memory_equal(out.digest, dig, len);
		if (v[k].alg == S3_CK_CRC32C) {
			assert_int_equal(s3_cksum_composite(S3_CK_CRC32C, dig, 3,
							    text, sizeof(text)),
					 DD_OK);
			assert_string_equal(text, "q5dV+A==-3");
		}
	}
	assert_int_equal(s3_cksum_full_object(S3_CK_SHA256, dig, sizes, 3, &out),
			 DD_EINVAL);
	assert_int_equal(s3_cksum_full_object(S3_CK_CRC32, dig, sizes, 0, &out),
			 DD_EINVAL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s3_cksum_init(&c, S3_CK_SHA1), DD_OK);
		s3_cksum_update(&c, parts[i], sizes[i]);
		assert_int_equal(s3_cksum_final(&c, sha + 20 * i), 20);
		s3_cksum_release(&c);
	}
	assert_int_equal(s3_cksum_composite(S3_CK_SHA1, sha, 3, text,
					    sizeof(text)), DD_OK);
	assert_string_equal(text, "nWZh6zBLcKrDFSqM3SvwOZmeoNY=-3");

	/* types: names, and which go with which algorithm (AWS's table) */
	assert_int_equal(s3_cksum_type_parse(DD_STR_LIT("COMPOSITE")),
			 S3_CKT_COMPOSITE);
	assert_int_equal(s3_cksum_type_parse(DD_STR_LIT("FULL_OBJECT")),
			 S3_CKT_FULL_OBJECT);
	assert_int_equal(s3_cksum_type_parse(DD_STR_LIT("full_object")),
			 S3_CKT_NONE);
	assert_int_equal(s3_cksum_type_parse(DD_STR_LIT("")), S3_CKT_NONE);
	assert_string_equal(s3_cksum_type_name(S3_CKT_FULL_OBJECT), "FULL_OBJECT");
	assert_string_equal(s3_cksum_type_name(S3_CKT_NONE), "");
	assert_int_equal(s3_cksum_mpu_type(S3_CK_CRC32, S3_CKT_NONE),
			 S3_CKT_COMPOSITE);
	assert_int_equal(s3_cksum_mpu_type(S3_CK_CRC32C, S3_CKT_FULL_OBJECT),
			 S3_CKT_FULL_OBJECT);
	assert_int_equal(s3_cksum_mpu_type(S3_CK_CRC64NVME, S3_CKT_NONE),
			 S3_CKT_FULL_OBJECT);
	assert_int_equal(s3_cksum_mpu_type(S3_CK_CRC64NVME, S3_CKT_COMPOSITE),
			 S3_CKT_NONE);
	assert_int_equal(s3_cksum_mpu_type(S3_CK_SHA256, S3_CKT_FULL_OBJECT),
			 S3_CKT_NONE);
	assert_int_equal(s3_cksum_mpu_type(S3_CK_SHA1, S3_CKT_NONE),
			 S3_CKT_COMPOSITE);
	assert_int_equal(s3_cksum_mpu_type(S3_CK_NONE, S3_CKT_NONE), S3_CKT_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_check_values),
		cmocka_unit_test(test_incremental_and_combine),
		cmocka_unit_test(test_cksum_api),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_multipart_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
