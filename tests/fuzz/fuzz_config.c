/* tests/fuzz/fuzz_config.c - the INI configuration parser (gw_config_parse). */
#include <stdint.h>
#include <string.h>

#include "gateway/gw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gw_config cfg;
	gw_config_err err;

	gw_config_defaults(&cfg);
	if (gw_config_parse(&cfg, (const char *)data, size, "fuzz.conf", &err) ==
	    DD_OK) {
		/* Whatever parsed must be well-formed C strings. */
		DD_ASSERT(memchr(cfg.data_dir, '\0', sizeof(cfg.data_dir)));
		DD_ASSERT(memchr(cfg.s3_domain, '\0', sizeof(cfg.s3_domain)));
		if (gw_config_check(&cfg, "fuzz.conf", &err) != DD_OK)
			DD_ASSERT(err.msg[0] != '\0');
	} else {
		DD_ASSERT(memchr(err.msg, '\0', sizeof(err.msg)));
		DD_ASSERT(strncmp(err.msg, "fuzz.conf:", 10) == 0);
	}
	return 0;
}
