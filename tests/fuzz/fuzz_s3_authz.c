/* tests/fuzz/fuzz_s3_authz.c - the SigV4 Authorization header parser. */
#include <stdint.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	s3_authz z;

	if (s3_authz_parse((dd_str){(const char *)data, size}, &z) == S3_OK) {
		DD_ASSERT(z.signature.len == 64);
		DD_ASSERT(z.access_key.len > 0 && z.date.len == 8);
	}
	return 0;
}
