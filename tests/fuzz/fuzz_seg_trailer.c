/* tests/fuzz/fuzz_seg_trailer.c - container trailer parser
 * (seg_trailer_parse). Input: the trailer bytes; the container id is
 * taken from the footer so checksum-valid inputs get past the id check. */
#include <stdint.h>
#include <string.h>

#include "segstore/seg_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_cb(void *ctx, const seg_fploc *e)
{
	size_t *n = ctx;

	DD_ASSERT(e->loc.chunk_len > 0);
	(*n)++;
	return DD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t ctr = 0;
	size_t n = 0;
	seg_region_hdr h;

	if (size >= SEG_TRAILER_FOOT_LEN)
		memcpy(&ctr, data + size - SEG_TRAILER_FOOT_LEN + 24, 8);
	if (seg_trailer_parse(data, size, ctr, count_cb, &n) == DD_OK)
		DD_ASSERT(n * SEG_TRAILER_ENT_LEN + SEG_TRAILER_FOOT_LEN == size);
	if (seg_region_hdr_parse(data, size, &h) == DD_OK)
		DD_ASSERT(h.n >= 1);
	return 0;
}
