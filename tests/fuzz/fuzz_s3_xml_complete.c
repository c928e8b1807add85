/* tests/fuzz/fuzz_s3_xml_complete.c - the CompleteMultipartUpload parser. */
#include <stdint.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	s3_complete c;

	if (s3_xml_parse_complete(data, size, &c) == S3_OK) {
		DD_ASSERT(c.nparts > 0 && c.nparts <= S3_MAX_PARTS);
		for (size_t i = 1; i < c.nparts; i++)
			DD_ASSERT(c.parts[i - 1].number < c.parts[i].number);
		s3_complete_release(&c);
	}
	return 0;
}
