/* tests/fuzz/fuzz_s3_xml_delete.c - the Delete (DeleteObjects) parser. */
#include <stdint.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	s3_delete_req d;

	if (s3_xml_parse_delete(data, size, &d) == S3_OK) {
		DD_ASSERT(d.nkeys > 0 && d.nkeys <= S3_MAX_DELETE_OBJECTS);
		s3_delete_req_release(&d);
	}
	return 0;
}
