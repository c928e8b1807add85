/* gateway/main.c - dedupd entry point (placeholder until the gateway lands). */
#include "common/dd.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("dedupd %s\n", DD_VERSION);
		return 0;
	}
	fprintf(stderr, "dedupd: not yet implemented\n");
	return 1;
}
