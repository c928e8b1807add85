/* tests/fuzz/fuzz_ddp_req_ns.c - ddp_req_decode for namespace requests (UNIT_* incl. UNIT_CREATE, OPEN, STAT, READDIR, RENAME, UNLINK, FASTCOPY). */
#include "tests/fuzz/fuzz_ddp_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ops[] = {DDP_OP_UNIT_LIST, DDP_OP_UNIT_STAT, DDP_OP_OPEN, DDP_OP_STAT, DDP_OP_READDIR, DDP_OP_RENAME, DDP_OP_UNLINK, DDP_OP_FASTCOPY, DDP_OP_UNIT_CREATE};

	return fuzz_req(ops, sizeof(ops), data, size);
}
