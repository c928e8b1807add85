/*
 * s3api/s3_int.h - helpers shared inside s3api only (not a public header).
 */
#ifndef DD_S3API_S3_INT_H
#define DD_S3API_S3_INT_H

#include "s3api/s3.h"

/* sha256 of n bytes into out[32]; dd_rc. */
int s3i_sha256(const void *p, size_t n, uint8_t out[32]) DD_WUR;
/* HMAC-SHA256(key, msg) into out[32]; dd_rc. */
int s3i_hmac(const void *key, size_t klen, const void *msg, size_t n,
	     uint8_t out[32]) DD_WUR;
/* Trims ASCII spaces and tabs at both ends. */
dd_str s3i_trim(dd_str s);
/* Lower-hex of the empty string's sha256. */
extern const char s3i_empty_sha256[65];
/* 1 when s is exactly 64 hex digits (either case). */
int s3i_is_hex64(dd_str s);
/* ASCII lower-case of c. */
static inline char s3i_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}
/* CRC32C by table only (the fallback when SSE4.2 is absent); for tests. */
uint32_t s3i_crc32c_sw(uint32_t crc, const void *p, size_t n);
/* Case-insensitive equality of two slices. */
int s3i_caseeq(dd_str a, dd_str b);

#endif /* DD_S3API_S3_INT_H */
