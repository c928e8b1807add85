/*
 * s3api/cksum.c - the checksums S3 clients send: CRC32 (IEEE), CRC32C
 * (Castagnoli, SSE4.2 when the CPU has it), CRC64NVME, SHA-1, SHA-256 and
 * MD5 (OpenSSL EVP), base64, x-amz-checksum-* / Content-MD5 parsing and the
 * multipart composite helpers.
 */
#include "s3api/s3.h"
#include "s3api/s3_int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* Bit-reflected polynomials; all three use init ~0 and final xor ~0. */
#define POLY_CRC32 0xEDB88320u
#define POLY_CRC32C 0x82F63B78u
#define POLY_CRC64NVME 0x9A6C9329AC4BC9B5ull

static uint32_t t32[8][256], t32c[8][256];
static uint64_t t64[8][256];
static int have_sse42;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build32(uint32_t t[8][256], uint32_t poly)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		t[0][i] = c;
	}
	for (int s = 1; s < 8; s++)
		for (int i = 0; i < 256; i++)
			t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
}

static void build_tables(void)
{
	build32(t32, POLY_CRC32);
	build32(t32c, POLY_CRC32C);
	for (uint64_t i = 0; i < 256; i++) {
		uint64_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ POLY_CRC64NVME : c >> 1;
		t64[0][i] = c;
	}
	for (int s = 1; s < 8; s++)
		for (int i = 0; i < 256; i++)
			t64[s][i] = (t64[s - 1][i] >> 8) ^ t64[0][t64[s - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Slicing-by-8 over a reflected 32-bit table; crc is the raw register. */
static uint32_t slice32(uint32_t t[8][256], uint32_t crc, const uint8_t *p,
			size_t n)
{
	while (n >= 8) {
		uint64_t v = load_le64(p) ^ crc;
		crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^
		      t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
		      t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
		      t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return crc;
}

uint32_t s3_crc32(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&tables_once, build_tables);
	return ~slice32(t32, ~crc, p, n);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc,
							    const uint8_t *p,
							    size_t n)
{
	uint64_t c = crc;

	while (n >= 8) {
		c = _mm_crc32_u64(c, load_le64(p));
		p += 8;
		n -= 8;
	}
	while (n--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

uint32_t s3i_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&tables_once, build_tables);
	return ~slice32(t32c, ~crc, p, n);
}

uint32_t s3_crc32c(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&tables_once, build_tables);
#if defined(__x86_64__)
	if (have_sse42)
		return ~crc32c_hw(~crc, p, n);
#endif
	return ~slice32(t32c, ~crc, p, n);
}

uint64_t s3_crc64nvme(uint64_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	pthread_once(&tables_once, build_tables);
	crc = ~crc;
	while (n >= 8) {
		uint64_t v = load_le64(b) ^ crc;
		crc = t64[7][v & 0xff] ^ t64[6][(v >> 8) & 0xff] ^
		      t64[5][(v >> 16) & 0xff] ^ t64[4][(v >> 24) & 0xff] ^
		      t64[3][(v >> 32) & 0xff] ^ t64[2][(v >> 40) & 0xff] ^
		      t64[1][(v >> 48) & 0xff] ^ t64[0][v >> 56];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ t64[0][(crc ^ *b++) & 0xff];
	return ~crc;
}

/*
 * CRC combination (zlib's crc32_combine, generalized to width w): in the
 * reflected representation, x^0 is the top bit. multmodp multiplies two
 * polynomials modulo the CRC polynomial.
 */
static uint64_t multmodp(uint64_t a, uint64_t b, uint64_t poly, int w)
{
	uint64_t m = 1ull << (w - 1), p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
	}
	return p;
}

/* x^(n * 2^k) modulo poly, by repeated squaring of x. */
static uint64_t x2nmodp(uint64_t n, unsigned k, uint64_t poly, int w)
{
	uint64_t p = 1ull << (w - 1), sq = 1ull << (w - 2); /* x^0, x^1 */

	for (unsigned i = 0; i < k; i++)
		sq = multmodp(sq, sq, poly, w);
	while (n) {
		if (n & 1)
			p = multmodp(sq, p, poly, w);
		n >>= 1;
		sq = multmodp(sq, sq, poly, w);
	}
	return p;
}

uint64_t s3_crc_combine(int alg, uint64_t crc_a, uint64_t crc_b, uint64_t len_b)
{
	uint64_t poly;
	int w = 32;

	switch (alg) {
	case S3_CK_CRC32: poly = POLY_CRC32; break;
	case S3_CK_CRC32C: poly = POLY_CRC32C; break;
	case S3_CK_CRC64NVME: poly = POLY_CRC64NVME; w = 64; break;
	default: return 0;
	}
	/* Shifting crc(A) over len(B) zero bytes = multiplying by x^(8 len). */
	return multmodp(x2nmodp(len_b, 3, poly, w), crc_a, poly, w) ^ crc_b;
}

/* --------------------------------------------------------- generic */

static const char *const ck_names[S3_CK_COUNT] = {
	"", "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"};
static const char *const ck_headers[S3_CK_COUNT] = {
	"", "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
	"x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
	"x-amz-checksum-sha256"};
static const size_t ck_lens[S3_CK_COUNT] = {0, 4, 4, 8, 20, 32};

const char *s3_cksum_name(int alg)
{
	return (alg > 0 && alg < S3_CK_COUNT) ? ck_names[alg] : "";
}

const char *s3_cksum_header(int alg)
{
	return (alg > 0 && alg < S3_CK_COUNT) ? ck_headers[alg] : "";
}

size_t s3_cksum_len(int alg)
{
	return (alg > 0 && alg < S3_CK_COUNT) ? ck_lens[alg] : 0;
}

int s3_cksum_alg_parse(dd_str name)
{
	for (int a = 1; a < S3_CK_COUNT; a++)
		if (dd_str_casecmp_c(name, ck_names[a]) == 0)
			return a;
	return S3_CK_NONE;
}

int s3_cksum_init(s3_cksum *c, int alg)
{
	const EVP_MD *md = NULL;

	memset(c, 0, sizeof(*c));
	c->alg = alg;
	if (alg == S3_CK_SHA1)
		md = EVP_sha1();
	else if (alg == S3_CK_SHA256)
		md = EVP_sha256();
	if (!md)
		return (alg > 0 && alg < S3_CK_COUNT) ? DD_OK : DD_EINVAL;
	c->u.md = EVP_MD_CTX_new();
	if (!c->u.md)
		return DD_ENOMEM;
	if (EVP_DigestInit_ex(c->u.md, md, NULL) != 1) {
		EVP_MD_CTX_free(c->u.md);
		c->u.md = NULL;
		return DD_EINTERNAL;
	}
	return DD_OK;
}

void s3_cksum_update(s3_cksum *c, const void *p, size_t n)
{
	switch (c->alg) {
	case S3_CK_CRC32: c->u.crc32 = s3_crc32(c->u.crc32, p, n); break;
	case S3_CK_CRC32C: c->u.crc32 = s3_crc32c(c->u.crc32, p, n); break;
	case S3_CK_CRC64NVME: c->u.crc64 = s3_crc64nvme(c->u.crc64, p, n); break;
	case S3_CK_SHA1:
	case S3_CK_SHA256:
		if (c->u.md)
			EVP_DigestUpdate(c->u.md, p, n);
		break;
	default: break;
	}
}

size_t s3_cksum_final(s3_cksum *c, uint8_t out[S3_CK_MAX_LEN])
{
	unsigned int len = 0;

	switch (c->alg) {
	case S3_CK_CRC32:
	case S3_CK_CRC32C:
		for (int i = 0; i < 4; i++)
			out[i] = (uint8_t)(c->u.crc32 >> (24 - 8 * i));
		return 4;
	case S3_CK_CRC64NVME:
		for (int i = 0; i < 8; i++)
			out[i] = (uint8_t)(c->u.crc64 >> (56 - 8 * i));
		return 8;
	case S3_CK_SHA1:
	case S3_CK_SHA256:
		if (!c->u.md || EVP_DigestFinal_ex(c->u.md, out, &len) != 1)
			return 0;
		return len;
	default:
		return 0;
	}
}

void s3_cksum_release(s3_cksum *c)
{
	if ((c->alg == S3_CK_SHA1 || c->alg == S3_CK_SHA256) && c->u.md)
		EVP_MD_CTX_free(c->u.md);
	memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------- base64 */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t s3_b64_encode(const void *in, size_t n, char *out, size_t cap)
{
	const uint8_t *p = in;
	size_t o = 0, need = (n + 2) / 3 * 4 + 1;

	if (cap < need) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int s3_b64_decode(dd_str in, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t o = 0;

	if (in.len % 4)
		return DD_EINVAL;
	for (size_t i = 0; i < in.len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = in.p[i + k];
			if (c == '=' && i + 4 == in.len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after '=' */
				return DD_EINVAL;
			if ((v[k] = b64val(c)) < 0)
				return DD_EINVAL;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Reject non-canonical encodings: unused bits must be zero. */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return DD_EINVAL;
		if (o + 3 - (size_t)pad > cap)
			return DD_EINVAL;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return DD_OK;
}

/* --------------------------------------------------- header parsing */

int s3_cksum_parse_value(int alg, dd_str b64, s3_cksum_value *out)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	b64 = s3i_trim(b64);
	if (alg <= S3_CK_NONE || alg >= S3_CK_COUNT)
		return S3E_INVALID_DIGEST;
	if (s3_b64_decode(b64, out->digest, sizeof(out->digest), &n) != DD_OK ||
	    n != ck_lens[alg])
		return S3E_INVALID_DIGEST;
	out->alg = alg;
	out->len = n;
	return S3_OK;
}

size_t s3_cksum_b64(const s3_cksum_value *v, char *out, size_t cap)
{
	if (v->alg == S3_CK_NONE || v->len > S3_CK_MAX_LEN) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	return s3_b64_encode(v->digest, v->len, out, cap);
}

int s3_cksum_from_headers(const s3_request *req, s3_cksum_value *out)
{
	int found = 0, rc;
	dd_str v;

	memset(out, 0, sizeof(*out));
	for (int a = 1; a < S3_CK_COUNT; a++) {
		if (!s3_req_header(req, ck_headers[a], &v))
			continue;
		if (found++)
			return S3E_INVALID_REQUEST;
		if ((rc = s3_cksum_parse_value(a, v, out)) != S3_OK)
			return rc;
	}
	return S3_OK;
}

int s3_content_md5(const s3_request *req, uint8_t md5[16], int *present)
{
	size_t n = 0;
	dd_str v;

	*present = 0;
	if (!s3_req_header(req, "content-md5", &v))
		return S3_OK;
	*present = 1;
	if (s3_b64_decode(s3i_trim(v), md5, 16, &n) != DD_OK || n != 16)
		return S3E_INVALID_DIGEST;
	return S3_OK;
}

int s3_md5(const void *p, size_t n, uint8_t out[16])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_md5(), NULL) != 1 || len != 16)
		return DD_EINTERNAL;
	return DD_OK;
}

int s3_cksum_composite(int alg, const uint8_t *part_digests, size_t nparts,
		       char *out, size_t cap)
{
	uint8_t d[S3_CK_MAX_LEN];
	char b64[S3_CK_B64_MAX];
	size_t len = s3_cksum_len(alg), dl;
	s3_cksum c;
	int rc, w;

	if (!len || !nparts)
		return DD_EINVAL;
	if ((rc = s3_cksum_init(&c, alg)) != DD_OK)
		return rc;
	s3_cksum_update(&c, part_digests, len * nparts);
	dl = s3_cksum_final(&c, d);
	s3_cksum_release(&c);
	if (dl != len)
		return DD_EINTERNAL;
	s3_b64_encode(d, dl, b64, sizeof(b64));
	w = snprintf(out, cap, "%s-%zu", b64, nparts);
	return (w < 0 || (size_t)w >= cap) ? DD_ETOOBIG : DD_OK;
}

const char *s3_cksum_type_name(int type)
{
	switch (type) {
	case S3_CKT_COMPOSITE: return "COMPOSITE";
	case S3_CKT_FULL_OBJECT: return "FULL_OBJECT";
	default: return "";
	}
}

int s3_cksum_type_parse(dd_str name)
{
	if (dd_str_eq_c(name, "COMPOSITE"))
		return S3_CKT_COMPOSITE;
	if (dd_str_eq_c(name, "FULL_OBJECT"))
		return S3_CKT_FULL_OBJECT;
	return S3_CKT_NONE;
}

int s3_cksum_mpu_type(int alg, int want)
{
	int crc = alg == S3_CK_CRC32 || alg == S3_CK_CRC32C;

	if (alg <= S3_CK_NONE || alg >= S3_CK_COUNT)
		return S3_CKT_NONE;
	if (want == S3_CKT_NONE)
		return alg == S3_CK_CRC64NVME ? S3_CKT_FULL_OBJECT
					      : S3_CKT_COMPOSITE;
	if (want == S3_CKT_COMPOSITE)
		return alg == S3_CK_CRC64NVME ? S3_CKT_NONE : want;
	if (want == S3_CKT_FULL_OBJECT)
		return crc || alg == S3_CK_CRC64NVME ? want : S3_CKT_NONE;
	return S3_CKT_NONE;
}

/* Big-endian digest bytes of a CRC to its value. */
static uint64_t crc_value(const uint8_t *d, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++)
		v = (v << 8) | d[i];
	return v;
}

int s3_cksum_full_object(int alg, const uint8_t *part_digests,
			 const uint64_t *part_sizes, size_t n,
			 s3_cksum_value *out)
{
	size_t len = s3_cksum_len(alg);
	uint64_t crc;

	if ((alg != S3_CK_CRC32 && alg != S3_CK_CRC32C &&
	     alg != S3_CK_CRC64NVME) || n == 0)
		return DD_EINVAL;
	crc = crc_value(part_digests, len);
	for (size_t i = 1; i < n; i++)
		crc = s3_crc_combine(alg, crc,
				     crc_value(part_digests + i * len, len),
				     part_sizes[i]);
	memset(out, 0, sizeof(*out));
	out->alg = alg;
	out->len = len;
	for (size_t i = 0; i < len; i++)
		out->digest[i] = (uint8_t)(crc >> (8 * (len - 1 - i)));
	return DD_OK;
}

int s3_multipart_etag(const uint8_t *part_md5s, size_t nparts, char *out,
		      size_t cap)
{
	uint8_t md5[16];
	char hex[33];
	int rc, w;

	if (!nparts)
		return DD_EINVAL;
	if ((rc = s3_md5(part_md5s, 16 * nparts, md5)) != DD_OK)
		return rc;
	dd_hex_encode(md5, 16, hex);
	w = snprintf(out, cap, "%s-%zu", hex, nparts);
	return (w < 0 || (size_t)w >= cap) ? DD_ETOOBIG : DD_OK;
}

/* -------------------------------------------------- shared internals */

const char s3i_empty_sha256[65] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

int s3i_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return DD_EINTERNAL;
	return DD_OK;
}

int s3i_hmac(const void *key, size_t klen, const void *msg, size_t n,
	     uint8_t out[32])
{
	unsigned int len = 0;

	if (klen > 0x7fffffff ||
	    !HMAC(EVP_sha256(), key, (int)klen, msg, n, out, &len) || len != 32)
		return DD_EINTERNAL;
	return DD_OK;
}
