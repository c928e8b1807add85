/* tests/fuzz/fuzz_seg_recipe.c - recipe node parser (seg_node_parse) and
 * the object record decoder (seg_obj_decode). */
#include <stdint.h>
#include <stdlib.h>

#include "segstore/seg_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static seg_node_ent ents[SEG_NODE_MAX];
	static seg_stat st;
	size_t n;
	int leaf;

	if (seg_node_parse(data, size, &leaf, ents, &n) == DD_OK)
		DD_ASSERT(n >= 1 && n <= SEG_NODE_MAX);
	if (seg_obj_decode(data, size, &st) == DD_OK)
		DD_ASSERT(st.attrs_len <= SEG_ATTRS_MAX);
	return 0;
}
