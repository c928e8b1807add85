/*
 * tests/fuzz/fuzz_s3_query.c - request-target parsing (path, query,
 * bucket/key); input is "host\ntarget".
 */
#include <stdint.h>
#include <string.h>

#include "s3api/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl = memchr(p, '\n', size);
	dd_str host = {"", 0}, target = {p, size};
	dd_arena *a;
	s3_target t;

	if (nl) {
		host = (dd_str){p, (size_t)(nl - p)};
		target = (dd_str){nl + 1, size - host.len - 1};
	}
	a = dd_arena_new(1 << 22);
	if (!a)
		return 0;
	if (s3_target_parse(a, target, host, DD_STR_LIT("localhost"), &t) == S3_OK) {
		DD_ASSERT(t.bucket.len <= t.path.len || t.virtual_host);
		for (size_t i = 0; i < t.nparams; i++)
			(void)s3_param_get(&t, t.params[i].name.p);
	}
	dd_arena_free(a);
	return 0;
}
