/*
 * tests/unit/test_ddp_auth.c - DDP challenge-response against vectors
 * computed independently with Python's hmac/hashlib:
 *
 *   K  = hmac.new(secret, b"DDP1 key", sha256)
 *   T  = b"DDP1" + snonce + cnonce + struct.pack(">H", len(ak)) + ak
 *   cp = hmac.new(K, b"client" + T, sha256); sp = hmac.new(K, b"server" + T, sha256)
 *
 * with secret "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ak "AKIDEXAMPLE",
 * snonce = bytes(range(32)), cnonce = bytes(range(32, 64)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ddproto/ddp.h"

static const char secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
static const char want_k[] = "c7e11f6c5b07f188db80a17a1d9235e24ce422bcdd1f56bb2a70d94b14735372";
static const char want_cp[] = "c9248adec05c223cdb142844bcd0db9be55c2b45a8a366a882662a14bec4a459";
static const char want_sp[] = "f5a53d568115aae4d9f15f9e8cab9d94ef35c54e594f00f50affc832d30ae7dc";

static void nonces(uint8_t sn[32], uint8_t cn[32])
{
	for (int i = 0; i < 32; i++) {
		sn[i] = (uint8_t)i;
		cn[i] = (uint8_t)(32 + i);
	}
}

static void test_vectors(void **state)
{
	uint8_t k[32], cp[32], sp[32], sn[32], cn[32];
	char hex[65];

	(void)state;
	nonces(sn, cn);
	assert_int_equal(ddp_auth_key(secret, strlen(secret), k), DD_OK);
	dd_hex_encode(k, 32, hex);
	assert_string_equal(hex, want_k);
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn, DD_STR_LIT("AKIDEXAMPLE"), cp), DD_OK);
	dd_hex_encode(cp, 32, hex);
	assert_string_equal(hex, want_cp);
	assert_int_equal(ddp_auth_proof(k, 1, sn, cn, DD_STR_LIT("AKIDEXAMPLE"), sp), DD_OK);
	dd_hex_encode(sp, 32, hex);
	assert_string_equal(hex, want_sp);
}

static void test_proof_depends_on_everything(void **state)
{
	uint8_t k[32], k2[32], base[32], p[32], sn[32], cn[32];

	(void)state;
	nonces(sn, cn);
	assert_int_equal(ddp_auth_key(secret, strlen(secret), k), DD_OK);
	assert_int_equal(ddp_auth_key(secret, strlen(secret) - 1, k2), DD_OK);
	assert_false(ddp_ct_equal(k, k2, 32));
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn, DD_STR_LIT("AK"), base), DD_OK);
	assert_int_equal(ddp_auth_proof(k2, 0, sn, cn, DD_STR_LIT("AK"), p), DD_OK);
	assert_false(ddp_ct_equal(base, p, 32)); /* wrong secret */
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn, DD_STR_LIT("AL"), p), DD_OK);
	assert_false(ddp_ct_equal(base, p, 32)); /* other user */
	sn[31] ^= 1;
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn, DD_STR_LIT("AK"), p), DD_OK);
	assert_false(ddp_ct_equal(base, p, 32)); /* other server nonce */
	sn[31] ^= 1;
	cn[0] ^= 1;
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn, DD_STR_LIT("AK"), p), DD_OK);
	assert_false(ddp_ct_equal(base, p, 32)); /* other client nonce */
	cn[0] ^= 1;
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn, DD_STR_LIT("AK"), p), DD_OK);
	assert_true(ddp_ct_equal(base, p, 32));
	assert_int_equal(ddp_auth_proof(k, 0, sn, cn,
					(dd_str){secret, DDP_MAX_ACCESS_KEY + 1}, p),
			 DD_EINVAL);
}

static void test_sha256_and_ct(void **state)
{
	uint8_t d[32];
	char hex[65];

	(void)state;
	assert_int_equal(ddp_sha256("abc", 3, d), DD_OK);
	dd_hex_encode(d, 32, hex);
	/* FIPS 180-2 example */
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(ddp_ct_equal("abcd", "abcd", 4));
	assert_false(ddp_ct_equal("abcd", "abce", 4));
	assert_true(ddp_ct_equal("x", "y", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_proof_depends_on_everything),
		cmocka_unit_test(test_sha256_and_ct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
