/* tools/dedupctl/main.c - placeholder. */
#include "common/dd.h"

#include <stdio.h>

int main(void)
{
	printf("dedupctl %s\n", DD_VERSION);
	return 0;
}
