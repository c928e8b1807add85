/*
 * tests/fuzz/fuzz_ddp_frame.c - the DDP incremental frame reader. The
 * first byte picks the piece size the stream is fed in; every frame that
 * comes out must lie inside the bound, and the reader never holds more
 * than one frame.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ddproto/ddp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddp_reader r;
	ddp_frame f;
	size_t step, off = 1, used;
	uint32_t max = 4096;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	ddp_reader_init(&r, max);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		if (ddp_reader_feed(&r, data + off, n, &used) != DD_OK)
			break;
		off += used;
		while (ddp_reader_next(&r, &f) == DD_OK) {
			if (f.hdr.len > max || f.hdr.version != DDP_VERSION)
				abort();
		}
		if (r.buf.len > DDP_HDR_LEN + max)
			abort();
	}
	ddp_reader_release(&r);
	return 0;
}
