/* tests/fuzz/fuzz_ddp_req_handshake.c - ddp_req_decode for handshake requests (HELLO, AUTH, PING, BYE). */
#include "tests/fuzz/fuzz_ddp_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ops[] = {DDP_OP_HELLO, DDP_OP_AUTH, DDP_OP_PING, DDP_OP_BYE};

	return fuzz_req(ops, sizeof(ops), data, size);
}
