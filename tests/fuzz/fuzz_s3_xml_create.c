/* tests/fuzz/fuzz_s3_xml_create.c - the CreateBucketConfiguration parser. */
#include <stdint.h>
#include <string.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char region[S3_MAX_REGION + 1];

	if (s3_xml_parse_create_bucket(data, size, region, sizeof(region)) == S3_OK)
		DD_ASSERT(strlen(region) <= S3_MAX_REGION);
	return 0;
}
