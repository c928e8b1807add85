/* tests/fuzz/fuzz_s3_range.c - the Range header parser. */
#include <stdint.h>
#include <string.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t objsize = 0;
	s3_range r;

	/* The first 8 bytes are the object size. */
	if (size >= 8) {
		memcpy(&objsize, data, 8);
		data += 8;
		size -= 8;
	}
	if (s3_range_parse((dd_str){(const char *)data, size}, objsize, &r) ==
	    S3_RANGE_OK) {
		DD_ASSERT(r.len > 0);
		DD_ASSERT(r.start < objsize && r.len <= objsize - r.start);
	}
	return 0;
}
