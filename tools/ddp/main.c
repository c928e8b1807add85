/*
 * tools/ddp/main.c - the DDP client CLI. For now only --help and --version:
 * the commands arrive with ddproto/ (the DDP protocol and client library).
 */
#include "common/dd.h"

#include <stdio.h>
#include <string.h>

static const char help_text[] =
	"NAME\n"
	"    ddp - copy files to and from dedupd storage units over DDP\n"
	"\n"
	"SYNOPSIS\n"
	"    ddp --help | --version\n"
	"    ddp [--server HOST:PORT] COMMAND [ARGS...]    (coming)\n"
	"\n"
	"DESCRIPTION\n"
	"    ddp speaks DDP, dedupd's storage-unit file protocol with client-side\n"
	"    dedup (only segments the server lacks cross the wire), to a dedupd\n"
	"    DDP listener (default 127.0.0.1:2052). This build only answers\n"
	"    --help and --version. Planned commands:\n"
	"        put FILE UNIT/PATH    write a file with client-side dedup\n"
	"        get UNIT/PATH FILE    read a file\n"
	"        ls UNIT[/PREFIX]      list files\n"
	"        rm UNIT/PATH          delete a file\n"
	"        cp UNIT/SRC UNIT/DST  fast copy (no data moves)\n"
	"\n"
	"OPTIONS\n"
	"    -h, --help     show this help and exit\n"
	"    -V, --version  show the version and exit\n"
	"\n"
	"ENVIRONMENT\n"
	"    DDP_ACCESS_KEY, DDP_SECRET_KEY   credentials (coming)\n"
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
		printf("ddp %s\n", DD_VERSION);
		return 0;
	}
	if (argc < 2)
		fprintf(stderr, "ddp: missing command\n");
	else
		fprintf(stderr, "ddp: unknown %s '%s' (not implemented yet)\n",
			argv[1][0] == '-' ? "option" : "command", argv[1]);
	fprintf(stderr, "usage: ddp --help | --version\n");
	return 2;
}
