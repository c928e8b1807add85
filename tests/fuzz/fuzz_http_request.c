/* tests/fuzz/fuzz_http_request.c - the HTTP request parsing layer
 * (http-parser + header collection) the gateway's server uses. */
#include <stdint.h>

#include "gateway/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nreq = 0;
	int status = gw_http_parse_bytes((const char *)data, size, 4096, &nreq);

	DD_ASSERT(status == 0 || status == 400 || status == 431 || status == 503);
	return 0;
}
