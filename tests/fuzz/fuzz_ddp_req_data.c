/* tests/fuzz/fuzz_ddp_req_data.c - ddp_req_decode for data requests (CLOSE, WRITE, READ, DSP_QUERY, DSP_PUT, SYNTHESIZE). */
#include "tests/fuzz/fuzz_ddp_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ops[] = {DDP_OP_CLOSE, DDP_OP_WRITE, DDP_OP_READ, DDP_OP_DSP_QUERY, DDP_OP_DSP_PUT, DDP_OP_SYNTHESIZE};

	return fuzz_req(ops, sizeof(ops), data, size);
}
