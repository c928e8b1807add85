/* tests/fuzz/fuzz_ddp_cliconf.c - the ddp client config parser (ddp_cliconf_parse). */
#include <stdint.h>
#include <string.h>

#include "ddproto/libddp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddp_cliconf c;
	char err[128];

	if (ddp_cliconf_parse((const char *)data, size, &c, err, sizeof(err)) == DD_OK) {
		/* Whatever parsed must be well-formed C strings. */
		DD_ASSERT(memchr(c.endpoint, '\0', sizeof(c.endpoint)));
		DD_ASSERT(memchr(c.access_key, '\0', sizeof(c.access_key)));
		DD_ASSERT(memchr(c.secret_key, '\0', sizeof(c.secret_key)));
		DD_ASSERT(memchr(c.ca_file, '\0', sizeof(c.ca_file)));
		DD_ASSERT(c.tls == 0 || c.tls == 1);
	} else {
		DD_ASSERT(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
	}
	return 0;
}
