/*
 * tests/fuzz/fuzz_s3_chunked.c - the aws-chunked decoder. The first byte
 * picks the mode (unsigned, signed, signed with signed trailer) and the
 * piece size, so framing split across feeds is exercised too.
 */
#include <stdint.h>
#include <string.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const void *p, size_t n)
{
	(void)p;
	*(uint64_t *)ctx += n;
	return DD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	s3_sig_ctx sig;
	s3_chunked *c;
	uint64_t got = 0;
	size_t piece;
	int mode, rc = S3_OK;

	if (size < 1)
		return 0;
	mode = data[0] % 3;
	piece = (size_t)(data[0] >> 2) + 1;
	data++;
	size--;
	memset(&sig, 0x11, sizeof(sig));
	memcpy(sig.amz_date, "20130524T000000Z", 17);
	memcpy(sig.scope, "20130524/us-east-1/s3/aws4_request", 35);
	memset(sig.seed, 'a', 64);
	sig.seed[64] = '\0';
	c = s3_chunked_new(mode ? &sig : NULL, mode == 2);
	if (!c)
		return 0;
	for (size_t off = 0; off < size && rc == S3_OK; off += piece)
		rc = s3_chunked_feed(c, data + off,
				     size - off < piece ? size - off : piece, sink,
				     &got);
	if (rc == S3_OK)
		rc = s3_chunked_finish(c);
	DD_ASSERT(rc != S3_OK || s3_chunked_decoded(c) == got);
	DD_ASSERT(got == s3_chunked_decoded(c));
	dd_str n, v;
	for (size_t i = 0; s3_chunked_trailer(c, i, &n, &v); i++)
		DD_ASSERT(n.len > 0);
	s3_chunked_free(c);
	return 0;
}
