/*
 * tests/fuzz/fuzz_ddp_client.c - the DDP client reading arbitrary server
 * bytes (ddp_client_read), in pieces whose size input[0] picks. It must
 * never crash, leak or hand out a response it did not ask for.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ddproto/ddp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddp_client *c;
	ddp_resp r;
	size_t off = 1, step, used, n;
	uint32_t id;
	int rc = DD_OK;

	if (size < 1)
		return 0;
	c = ddp_client_new(DD_STR_LIT("AKFUZZ"), "fuzzsecret", 10, DD_STR_LIT("fuzz"));
	if (!c)
		abort();
	step = (size_t)data[0] * 8 + 1;
	while (off < size && (rc == DD_OK || rc == DD_EAGAIN)) {
		n = size - off < step ? size - off : step;
		rc = ddp_client_read(c, data + off, n, &used, &r, &id);
		off += used;
		if (rc == DD_OK) {
			/* only HELLO and AUTH were sent: nothing is for the caller */
			abort();
		}
		ddp_client_output(c, &n);
		ddp_client_output_consume(c, n);
	}
	ddp_client_free(c);
	return 0;
}
