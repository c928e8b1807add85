/* tools/ddp/main.c - placeholder. */
#include "common/dd.h"

#include <stdio.h>

int main(void)
{
	printf("ddp %s\n", DD_VERSION);
	return 0;
}
