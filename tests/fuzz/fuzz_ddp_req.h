/*
 * tests/fuzz/fuzz_ddp_req.h - shared body of the DDP request-decoder fuzz
 * targets: input[0] picks an opcode of the target's family, the rest is
 * the payload. A payload the decoder accepts must re-encode to the very
 * same bytes (the encoder accepts all the decoder accepts, loses nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"

static int fuzz_req(const uint8_t *ops, size_t nops, const uint8_t *data, size_t size)
{
	ddp_req q;
	dd_buf b;
	uint8_t op;
	int rc;

	if (size < 1)
		return 0;
	op = ops[data[0] % nops];
	rc = ddp_req_decode(op, data + 1, size - 1, &q);
	if (rc == DD_OK) {
		dd_buf_init(&b, DDP_HDR_LEN + DDP_MAX_PAYLOAD);
		if (ddp_req_encode(&q, 1, &b) != DD_OK || b.len != DDP_HDR_LEN + size - 1 ||
		    memcmp(b.data + DDP_HDR_LEN, data + 1, size - 1) != 0)
			abort();
		dd_buf_release(&b);
	}
	ddp_req_release(&q);
	return 0;
}
