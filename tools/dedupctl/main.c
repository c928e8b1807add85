/*
 * tools/dedupctl/main.c - dedupd's admin CLI. For now only --help and
 * --version: the admin operations arrive with the authenticated admin API.
 */
#include "common/dd.h"

#include <stdio.h>
#include <string.h>

static const char help_text[] =
	"NAME\n"
	"    dedupctl - administer a dedupd server\n"
	"\n"
	"SYNOPSIS\n"
	"    dedupctl --help | --version\n"
	"    dedupctl [--admin-url URL] COMMAND [ARGS...]    (coming)\n"
	"\n"
	"DESCRIPTION\n"
	"    dedupctl talks to dedupd's admin API (default http://127.0.0.1:9001).\n"
	"    This build only answers --help and --version. Planned commands:\n"
	"        status                    health, version, uptime, data dir\n"
	"        unit create|list|delete   storage units (= S3 buckets) and quotas\n"
	"        user create|list|delete   users and their access keys\n"
	"        grant UNIT USER           give a user access to a storage unit\n"
	"        gc, verify                garbage collection, integrity check\n"
	"    Until then use: curl http://127.0.0.1:9001/health and /metrics.\n"
	"\n"
	"OPTIONS\n"
	"    -h, --help     show this help and exit\n"
	"    -V, --version  show the version and exit\n"
	"\n"
	"EXIT CODES\n"
	"    0  success\n"
	"    2  usage error (unknown option or command)\n";

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help_text, stdout);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("dedupctl %s\n", DD_VERSION);
		return 0;
	}
	if (argc < 2)
		fprintf(stderr, "dedupctl: missing command\n");
	else
		fprintf(stderr, "dedupctl: unknown %s '%s' (not implemented yet)\n",
			argv[1][0] == '-' ? "option" : "command", argv[1]);
	fprintf(stderr, "usage: dedupctl --help | --version\n");
	return 2;
}
