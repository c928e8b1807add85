/*
 * tests/fuzz/fuzz_ddp_resp.c - ddp_resp_decode (the client's parser of
 * server responses): input[0] picks the opcode, the rest is the payload.
 * An accepted OK response must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ops[] = {
		DDP_OP_HELLO, DDP_OP_AUTH, DDP_OP_PING, DDP_OP_BYE, DDP_OP_UNIT_LIST,
		DDP_OP_UNIT_STAT, DDP_OP_OPEN, DDP_OP_CLOSE, DDP_OP_WRITE, DDP_OP_READ,
		DDP_OP_DSP_QUERY, DDP_OP_DSP_PUT, DDP_OP_SYNTHESIZE, DDP_OP_STAT,
		DDP_OP_READDIR, DDP_OP_RENAME, DDP_OP_UNLINK, DDP_OP_FASTCOPY, 0x7e,
	};
	ddp_resp r;
	dd_buf b;

	if (size < 1)
		return 0;
	if (ddp_resp_decode(ops[data[0] % sizeof(ops)], data + 1, size - 1, &r) == DD_OK &&
	    r.status == DDP_S_OK) {
		dd_buf_init(&b, DDP_HDR_LEN + DDP_MAX_PAYLOAD);
		if (ddp_resp_encode(&r, 1, &b) != DD_OK || b.len != DDP_HDR_LEN + size - 1 ||
		    memcmp(b.data + DDP_HDR_LEN, data + 1, size - 1) != 0)
			abort();
		dd_buf_release(&b);
	}
	ddp_resp_release(&r);
	return 0;
}
