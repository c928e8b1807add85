/* tests/fuzz/fuzz_s3_copy_range.c - the x-amz-copy-source-range parser
 * (UploadPartCopy). */
#include <stdint.h>
#include <string.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t objsize = 0;
	s3_range r;
	int e;

	/* The first 8 bytes are the source object's size. */
	if (size >= 8) {
		memcpy(&objsize, data, 8);
		data += 8;
		size -= 8;
	}
	e = s3_copy_range_parse((dd_str){(const char *)data, size}, objsize, &r);
	DD_ASSERT(e == S3_OK || e == S3E_INVALID_ARGUMENT ||
		  e == S3E_INVALID_RANGE);
	if (e == S3_OK) {
		DD_ASSERT(r.len > 0);
		DD_ASSERT(r.start < objsize && r.len <= objsize - r.start);
	}
	return 0;
}
