/*
 * tests/fuzz/fuzz_admin_route.c - the admin API's route parser (method +
 * decoded path) and its response emitter; input is "METHOD\npath". The
 * path bytes are also written as a JSON and a text string (escaping).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl = memchr(p, '\n', size);
	char method[16] = "GET", *s;
	gw_admin_route rt;
	dd_str path = {p, size};
	dd_buf b;
	gw_aout o;
	int rc;

	if (nl && (size_t)(nl - p) < sizeof(method)) {
		memcpy(method, p, (size_t)(nl - p));
		method[nl - p] = '\0';
		path = (dd_str){nl + 1, size - (size_t)(nl - p) - 1};
	}
	rc = gw_admin_route_parse(method, path, &rt);
	DD_ASSERT(rc == DD_OK || rc == DD_ENOENT || rc == DD_ENOTSUP || rc == DD_EINVAL);
	DD_ASSERT(rc != DD_OK || (rt.op != GW_ADM_NONE && strlen(rt.user) <= SEG_NAME_MAX &&
				  strlen(rt.unit) <= SEG_NAME_MAX));
	DD_ASSERT(rc == DD_OK || rt.op == GW_ADM_NONE);
	if (!(s = malloc(path.len + 1)))
		return 0;
	memcpy(s, path.p, path.len);
	s[path.len] = '\0';
	for (int text = 0; text < 2; text++) {
		dd_buf_init(&b, 1 << 20);
		gw_aout_init(&o, &b, text);
		gw_aout_str(&o, "path", s);
		gw_aout_list_begin(&o, "l");
		gw_aout_item_begin(&o);
		gw_aout_str(&o, "op", gw_admin_op_name(rt.op));
		gw_aout_item_end(&o);
		gw_aout_list_end(&o);
		rc = gw_aout_end(&o);
		/* escaped output never holds a raw control byte */
		for (size_t i = 0; rc == DD_OK && i < b.len; i++)
			DD_ASSERT((unsigned char)b.data[i] >= 0x20 || b.data[i] == '\n');
		dd_buf_release(&b);
	}
	free(s);
	return 0;
}
