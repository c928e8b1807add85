/*
 * ddproto/auth.c - DDP challenge-response (docs/DDP.md section 3):
 * K = HMAC-SHA256(secret, "DDP1 key"); proofs are HMAC-SHA256(K, label ||
 * transcript) over both nonces. The secret itself never leaves the host.
 */
#include "ddproto/ddp.h"
#include "ddproto/wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char key_label[] = "DDP1 key";

int ddp_auth_key(const void *secret, size_t secret_len, uint8_t key[DDP_MAC_LEN])
{
	unsigned int n = 0;

	if (secret_len > INT32_MAX)
		return DD_EINVAL;
	if (!HMAC(EVP_sha256(), secret, (int)secret_len,
		  (const unsigned char *)key_label, sizeof(key_label) - 1, key, &n) ||
	    n != DDP_MAC_LEN)
		return DD_EINTERNAL;
	return DD_OK;
}

int ddp_auth_proof(const uint8_t key[DDP_MAC_LEN], int is_server,
		   const uint8_t snonce[DDP_NONCE_LEN],
		   const uint8_t cnonce[DDP_NONCE_LEN], dd_str access_key,
		   uint8_t out[DDP_MAC_LEN])
{
	/* label(6) + "DDP1"(4) + 2 nonces + u16 + key */
	uint8_t msg[6 + 4 + 2 * DDP_NONCE_LEN + 2 + DDP_MAX_ACCESS_KEY];
	size_t n = 0;
	unsigned int outn = 0;

	if (access_key.len > DDP_MAX_ACCESS_KEY)
		return DD_EINVAL;
	memcpy(msg, is_server ? "server" : "client", 6);
	n += 6;
	memcpy(msg + n, "DDP1", 4);
	n += 4;
	memcpy(msg + n, snonce, DDP_NONCE_LEN);
	n += DDP_NONCE_LEN;
	memcpy(msg + n, cnonce, DDP_NONCE_LEN);
	n += DDP_NONCE_LEN;
	ddp_be16(msg + n, (uint16_t)access_key.len);
	n += 2;
	if (access_key.len)
		memcpy(msg + n, access_key.p, access_key.len);
	n += access_key.len;
	if (!HMAC(EVP_sha256(), key, DDP_MAC_LEN, msg, n, out, &outn) ||
	    outn != DDP_MAC_LEN)
		return DD_EINTERNAL;
	return DD_OK;
}

int ddp_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int ddp_sha256(const void *p, size_t n, uint8_t out[DDP_FP_LEN])
{
	unsigned int outn = 0;

	if (!EVP_Digest(p, n, out, &outn, EVP_sha256(), NULL) || outn != DDP_FP_LEN)
		return DD_EINTERNAL;
	return DD_OK;
}
