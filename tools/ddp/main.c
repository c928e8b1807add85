/*
 * tools/ddp/main.c - the DDP client CLI on libddp (ddproto/libddp.h):
 * put/get/ls/stat/rm/cp/mv/units/mkunit against a dedupd DDP listener.
 */
#include "common/dd.h"
#include "ddproto/libddp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

enum {
	EXIT_FAIL = 1,  /* the operation failed (server said no, local I/O) */
	EXIT_USAGE = 2,
	EXIT_AUTH = 3,  /* authentication refused */
	EXIT_CONN = 4,  /* cannot connect, or the connection broke */
};

static const char help_text[] =
	"NAME\n"
	"    ddp - copy files to and from dedupd storage units over DDP\n"
	"\n"
	"SYNOPSIS\n"
	"    ddp --help | --version\n"
	"    ddp [OPTIONS] put SRC... UNIT:PATH\n"
	"    ddp [OPTIONS] get UNIT:PATH DEST\n"
	"    ddp [OPTIONS] ls UNIT[:PREFIX]\n"
	"    ddp [OPTIONS] stat UNIT:PATH\n"
	"    ddp [OPTIONS] rm UNIT:PATH...\n"
	"    ddp [OPTIONS] cp UNIT:SRC DST        (fastcopy: no data moves)\n"
	"    ddp [OPTIONS] mv UNIT:SRC DST\n"
	"    ddp [OPTIONS] synth UNIT:DST SRC@OFFSET+LENGTH...\n"
	"    ddp [OPTIONS] units\n"
	"    ddp [OPTIONS] mkunit UNIT            (admin users)\n"
	"\n"
	"DESCRIPTION\n"
	"    ddp speaks DDP (docs/DDP.md), dedupd's storage-unit file protocol,\n"
	"    to a dedupd DDP listener (default 127.0.0.1:2052). put deduplicates\n"
	"    on the client: files are cut into content-defined segments, their\n"
	"    SHA-256 fingerprints are sent first, and only the segments the unit\n"
	"    does not hold yet cross the wire (zstd-compressed when smaller).\n"
	"\n"
	"    put SRC... UNIT:PATH  writes files. SRC '-' reads stdin (then PATH\n"
	"        names the file). A directory SRC is copied recursively. With\n"
	"        several SRCs, a directory, or a PATH ending in '/', PATH is a\n"
	"        directory prefix and each file keeps its name under it.\n"
	"        Reports logical bytes, bytes sent and bytes saved by dedup.\n"
	"        Regular files (sparse images too: their size is st_size) and\n"
	"        block devices (size from BLKGETSIZE64) are read front to back\n"
	"        with bounded memory. On a terminal, stderr shows a progress\n"
	"        line (bytes, rate, bytes saved by dedup, ETA); not in scripts,\n"
	"        with --json or --quiet.\n"
	"    get UNIT:PATH DEST    reads a file into DEST ('-' = stdout).\n"
	"    ls UNIT[:PREFIX]      lists a directory (PREFIX \"\" or ending in '/';\n"
	"        a PREFIX without '/' gets one). Directories end in '/'.\n"
	"    stat UNIT:PATH        type, size and modification time.\n"
	"    rm UNIT:PATH...       deletes files.\n"
	"    cp UNIT:SRC DST       clones SRC as DST in the same unit (DST is a\n"
	"        path, or UNIT:PATH of the same unit).\n"
	"    mv UNIT:SRC DST       renames within the unit.\n"
	"    synth UNIT:DST EXT... builds DST from byte ranges of files of the\n"
	"                          unit (EXT = SRC@OFFSET+LENGTH), in order,\n"
	"                          without sending or copying data: a virtual\n"
	"                          synthetic full from the last full and an\n"
	"                          incremental.\n"
	"    units                 lists the units you may use, with sizes.\n"
	"    mkunit UNIT           creates a storage unit (admin users only).\n"
	"\n"
	"OPTIONS\n"
	"    -c, --config FILE         read endpoint, access_key, secret_key, tls\n"
	"                              and ca_file from FILE (env DDP_CONFIG;\n"
	"                              default ~/.config/ddp/config when it\n"
	"                              exists); see CONFIGURATION\n"
	"    -e, --endpoint HOST:PORT  the DDP listener (env DDP_ENDPOINT;\n"
	"                              default 127.0.0.1:2052)\n"
	"    -a, --access-key KEY      access key (env DDP_ACCESS_KEY)\n"
	"    -s, --secret-key SECRET   secret key (env DDP_SECRET_KEY; prefer the\n"
	"                              environment: arguments are visible in ps)\n"
	"        --tls                 connect with TLS (certificate verified)\n"
	"        --ca-file FILE        CA bundle for --tls (default: system)\n"
	"    -j, --json                machine-readable output on stdout\n"
	"    -q, --quiet               put: no progress line, no summary\n"
	"        --retries N           put: when the connection drops, reconnect and\n"
	"                              resume the file up to N times (default 5;\n"
	"                              waits 0.2 s, doubling); only what the server\n"
	"                              lacks is sent again. Needs a seekable source\n"
	"                              (not stdin)\n"
	"        --no-resume           put: fail at once on a dropped connection\n"
	"    -h, --help                show this help and exit\n"
	"    -V, --version             show the version and exit\n"
	"\n"
	"";

/* The rest of --help (one string would pass C99's 4095-byte limit). */
static const char help_text2[] =
	"ENVIRONMENT\n"
	"    DDP_ENDPOINT, DDP_ACCESS_KEY, DDP_SECRET_KEY, DDP_CONFIG\n"
	"\n"
	"CONFIGURATION\n"
	"    Flags win over the environment, which wins over the config file.\n"
	"    The file has \"key = value\" lines and '#' comments:\n"
	"        endpoint = backup.example.com:2052\n"
	"        access_key = MOVER1\n"
	"        secret_key = ...\n"
	"        tls = yes\n"
	"        ca_file = /etc/ssl/certs/backup-ca.pem\n"
	"    A file holding secret_key must not be readable by group or others\n"
	"    (chmod 600), or ddp refuses it (exit 2).\n"
	"\n"
	"EXIT CODES\n"
	"    0  success\n"
	"    1  the operation failed (no such file or unit, permission, I/O)\n"
	"    2  usage error (unknown option or command, bad arguments)\n"
	"    3  authentication failed (wrong access key or secret)\n"
	"    4  cannot connect, or the connection or protocol broke\n";

static const char usage_line[] = "usage: ddp [OPTIONS] COMMAND ARGS... (ddp --help)\n";

typedef struct cli {
	const char *endpoint, *ak, *sk, *ca_file;
	int tls, json, quiet;
	int progress; /* put: draw a progress line on stderr (a terminal) */
	unsigned retries; /* put: resume attempts after a dropped connection */
	ddp_conn *c;
} cli;

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "ddp: %s\n", msg);
	fputs(usage_line, stderr);
	return EXIT_USAGE;
}

/* Maps a dd_rc from libddp to an exit code, printing why. */
static int fail(cli *k, const char *what, int rc)
{
	const char *server = k->c ? ddp_conn_error(k->c) : "";

	fprintf(stderr, "ddp: %s: %s%s%s\n", what, dd_strerror(rc), server[0] ? " - " : "",
		server);
	if (rc == DD_EAUTH)
		return EXIT_AUTH;
	if (rc == DD_EIO || rc == DD_EPROTO)
		return EXIT_CONN;
	return EXIT_FAIL;
}

/* Splits "UNIT:PATH" (PATH may be empty when allow_empty). */
static int split(const char *arg, char *unit, size_t cap, const char **path,
		 int allow_empty)
{
	const char *colon = strchr(arg, ':');
	size_t ul = colon ? (size_t)(colon - arg) : strlen(arg);

	if (ul == 0 || ul >= cap)
		return DD_EINVAL;
	memcpy(unit, arg, ul);
	unit[ul] = '\0';
	*path = colon ? colon + 1 : "";
	if (!allow_empty && !**path)
		return DD_EINVAL;
	return DD_OK;
}

static int connect_cli(cli *k)
{
	int rc;

	if (!k->ak || !k->sk) {
		fprintf(stderr, "ddp: no credentials (--access-key/--secret-key or "
				"DDP_ACCESS_KEY/DDP_SECRET_KEY)\n");
		return EXIT_USAGE;
	}
	rc = ddp_conn_connect(k->endpoint, k->tls, k->ca_file, k->ak, k->sk, &k->c);
	if (rc == DD_EINVAL)
		return usage("bad --endpoint (want HOST:PORT)");
	if (rc != DD_OK) {
		fprintf(stderr, "ddp: %s %s: %s\n",
			rc == DD_EAUTH ? "authentication refused by" : "cannot connect to",
			k->endpoint, dd_strerror(rc));
		return rc == DD_EAUTH ? EXIT_AUTH : EXIT_CONN;
	}
	return 0;
}

/* Prints s as a JSON string. */
static void json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* ------------------------------------------------------------------ put */

typedef struct put_tot {
	ddp_put_stats sum;
	unsigned files;
	int first;
} put_tot;

static void put_report_file(cli *k, put_tot *t, const char *path, const ddp_put_stats *st)
{
	t->files++;
	t->sum.logical += st->logical;
	t->sum.wire_sent += st->wire_sent;
	t->sum.seg_bytes += st->seg_bytes;
	t->sum.segments += st->segments;
	t->sum.segs_sent += st->segs_sent;
	t->sum.resumes += st->resumes;
	if (k->json) {
		printf("%s{\"path\":", t->first ? "" : ",");
		json_str(path, strlen(path));
		printf(",\"logical_bytes\":%llu,\"bytes_sent\":%llu,\"segment_bytes\":%llu,"
		       "\"segments\":%llu,\"segments_sent\":%llu,\"resumes\":%u,"
		       "\"resume_offset\":%llu,\"bytes_sent_after_resume\":%llu}",
		       (unsigned long long)st->logical, (unsigned long long)st->wire_sent,
		       (unsigned long long)st->seg_bytes, (unsigned long long)st->segments,
		       (unsigned long long)st->segs_sent, st->resumes,
		       (unsigned long long)st->resume_offset,
		       (unsigned long long)st->sent_after_resume);
		t->first = 0;
	}
}

/* ------------------------------------------------------------- progress */

typedef struct prog {
	const char *name;
	uint64_t total;   /* bytes to read; 0 = unknown (stdin) */
	int64_t t0, last; /* mono ns: start, last line drawn */
	int drawn;
} prog;

/* Writes n bytes as "12.3 MiB" into out. */
static void human(uint64_t n, char *out, size_t cap)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* One progress line: bytes, rate, bytes saved by dedup, ETA. */
static void prog_draw(prog *g, const ddp_put_stats *st, int final)
{
	char done[32], total[32], rate[32], saved[32], eta[32] = "";
	double secs = (double)(dd_mono_ns() - g->t0) / 1e9;
	double bps = secs > 0.001 ? (double)st->logical / secs : 0;
	uint64_t sv = st->logical > st->wire_sent ? st->logical - st->wire_sent : 0;

	human(st->logical, done, sizeof(done));
	human(g->total, total, sizeof(total));
	human((uint64_t)bps, rate, sizeof(rate));
	human(sv, saved, sizeof(saved));
	if (!final && g->total > st->logical && bps > 0) {
		uint64_t left = (uint64_t)((double)(g->total - st->logical) / bps);
		snprintf(eta, sizeof(eta), "  ETA %llu:%02llu", (unsigned long long)(left / 60),
			 (unsigned long long)(left % 60));
	}
	if (g->total)
		fprintf(stderr, "\r%.40s  %s / %s  %3.0f%%  %s/s  saved %s%s\033[K", g->name,
			done, total, 100.0 * (double)st->logical / (double)g->total, rate, saved,
			eta);
	else
		fprintf(stderr, "\r%.40s  %s  %s/s  saved %s\033[K", g->name, done, rate, saved);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	g->drawn = 1;
}

/* libddp's progress callback: at most 4 lines a second. */
static void prog_cb(void *arg, const ddp_put_stats *st)
{
	prog *g = arg;
	int64_t now = dd_mono_ns();

	if (g->drawn && now - g->last < 250000000)
		return;
	g->last = now;
	prog_draw(g, st, 0);
}

static int put_one(cli *k, put_tot *t, const char *src, const char *unit,
		   const char *path)
{
	ddp_put_stats st;
	ddp_put_opts po;
	prog g;
	int fd = strcmp(src, "-") == 0 ? 0 : open(src, O_RDONLY | O_CLOEXEC);
	int rc, is_blk;

	if (fd < 0) {
		fprintf(stderr, "ddp: %s: %s\n", src, strerror(errno));
		return EXIT_FAIL;
	}
	memset(&po, 0, sizeof(po));
	memset(&g, 0, sizeof(g));
	po.retries = k->retries;
	if (k->progress) {
		g.name = path;
		g.t0 = dd_mono_ns();
		if (ddp_source_size(fd, &g.total, &is_blk) != DD_OK)
			g.total = 0;
		po.progress = prog_cb;
		po.progress_arg = &g;
	}
	rc = ddp_put_fd_opts(k->c, unit, path, fd, &po, &st);
	if (fd)
		close(fd);
	if (k->progress && (g.drawn || rc == DD_OK)) {
		if (rc == DD_OK)
			prog_draw(&g, &st, 1);
		else
			fputc('\n', stderr); /* keep the error off the bar */
	}
	if (rc != DD_OK) {
		char what[1200];
		snprintf(what, sizeof(what), "put %s:%s", unit, path);
		return fail(k, what, rc);
	}
	put_report_file(k, t, path, &st);
	return 0;
}

static int put_tree(cli *k, put_tot *t, const char *src, const char *unit,
		    const char *path)
{
	struct stat sb;
	DIR *dir;
	struct dirent *de;
	int code = 0;

	if (strcmp(src, "-") == 0 || (stat(src, &sb) == 0 && !S_ISDIR(sb.st_mode)))
		return put_one(k, t, src, unit, path);
	if (!(dir = opendir(src))) {
		fprintf(stderr, "ddp: %s: %s\n", src, strerror(errno));
		return EXIT_FAIL;
	}
	while (!code && (de = readdir(dir))) {
		char s2[4096], p2[1100];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(s2, sizeof(s2), "%s/%s", src, de->d_name) >= sizeof(s2) ||
		    (size_t)snprintf(p2, sizeof(p2), "%s%s%s", path, de->d_name,
				     "") >= sizeof(p2)) {
			code = EXIT_FAIL;
			break;
		}
		if (stat(s2, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			size_t l = strlen(p2);
			if (l + 1 >= sizeof(p2)) {
				code = EXIT_FAIL;
				break;
			}
			p2[l] = '/';
			p2[l + 1] = '\0';
		}
		code = put_tree(k, t, s2, unit, p2);
	}
	closedir(dir);
	return code;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int cmd_put(cli *k, int argc, char **argv)
{
	char unit[DDP_MAX_UNIT + 1], path[1100];
	const char *dst;
	put_tot t;
	struct stat sb;
	int code = 0, as_dir;

	if (argc < 2)
		return usage("put needs SRC... UNIT:PATH");
	if (split(argv[argc - 1], unit, sizeof(unit), &dst, 1) != DD_OK)
		return usage("bad destination (want UNIT:PATH)");
	as_dir = argc > 2 || !*dst || dst[strlen(dst) - 1] == '/' ||
		 (strcmp(argv[0], "-") != 0 && stat(argv[0], &sb) == 0 && S_ISDIR(sb.st_mode));
	if (as_dir && *dst && dst[strlen(dst) - 1] != '/')
		snprintf(path, sizeof(path), "%s/", dst);
	else
		snprintf(path, sizeof(path), "%s", dst);
	for (int i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], "-") == 0 && as_dir)
			return usage("stdin ('-') needs a file path as destination");
	if ((code = connect_cli(k)) != 0)
		return code;
	memset(&t, 0, sizeof(t));
	t.first = 1;
	if (k->json)
		printf("{\"files\":[");
	for (int i = 0; i < argc - 1 && !code; i++) {
		char p2[1400];
		if (!as_dir) {
			code = put_one(k, &t, argv[i], unit, path);
			continue;
		}
		snprintf(p2, sizeof(p2), "%s%s%s", path, base_name(argv[i]),
			 stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode) ? "/" : "");
		if (strlen(p2) > DDP_MAX_KEY) {
			code = usage("destination path too long");
			break;
		}
		code = put_tree(k, &t, argv[i], unit, p2);
	}
	uint64_t saved = t.sum.logical > t.sum.wire_sent ? t.sum.logical - t.sum.wire_sent : 0;
	seg_chunk_params cp;
	int announced = ddp_chunk_params(k->c, &cp);
	if (k->json)
		printf("],\"count\":%u,\"chunk_avg\":%u,\"chunking\":\"%s\","
		       "\"logical_bytes\":%llu,\"bytes_sent\":%llu,"
		       "\"segment_bytes\":%llu,\"bytes_saved\":%llu,\"segments\":%llu,"
		       "\"segments_sent\":%llu,\"resumes\":%u,\"ok\":%s}\n",
		       t.files, cp.avg, announced ? "server" : "default",
		       (unsigned long long)t.sum.logical,
		       (unsigned long long)t.sum.wire_sent, (unsigned long long)t.sum.seg_bytes,
		       (unsigned long long)saved, (unsigned long long)t.sum.segments,
		       (unsigned long long)t.sum.segs_sent, t.sum.resumes, code ? "false" : "true");
	else if (!code && !k->quiet)
		printf("put %u file(s): %llu bytes, %llu sent, %llu saved by dedup "
		       "(%llu of %llu segments sent)\n",
		       t.files, (unsigned long long)t.sum.logical,
		       (unsigned long long)t.sum.wire_sent, (unsigned long long)saved,
		       (unsigned long long)t.sum.segs_sent, (unsigned long long)t.sum.segments);
	return code;
}

/* ------------------------------------------------------------------ rest */

static int cmd_get(cli *k, int argc, char **argv)
{
	char unit[DDP_MAX_UNIT + 1], tmp[4200];
	const char *path;
	uint64_t size = 0;
	int fd, rc, code, to_stdout;

	if (argc != 2 || split(argv[0], unit, sizeof(unit), &path, 0) != DD_OK)
		return usage("get needs UNIT:PATH DEST");
	if ((code = connect_cli(k)) != 0)
		return code;
	to_stdout = strcmp(argv[1], "-") == 0;
	/* Write beside DEST and rename: a failed get leaves no half file. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.ddp-part", argv[1]) >= sizeof(tmp))
		return usage("DEST too long");
	fd = to_stdout ? 1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "ddp: %s: %s\n", argv[1], strerror(errno));
		return EXIT_FAIL;
	}
	rc = ddp_get_fd(k->c, unit, path, fd, &size);
	if (!to_stdout) {
		if (close(fd) != 0 && rc == DD_OK)
			rc = DD_EIO;
		if (rc == DD_OK && rename(tmp, argv[1]) != 0)
			rc = DD_EIO;
		if (rc != DD_OK)
			unlink(tmp);
	}
	if (rc != DD_OK)
		return fail(k, "get", rc);
	if (k->json)
		printf("{\"bytes\":%llu}\n", (unsigned long long)size);
	return 0;
}

typedef struct ls_ctx {
	cli *k;
	int first;
} ls_ctx;

static int ls_cb(void *arg, const ddp_dirent *e)
{
	ls_ctx *l = arg;

	if (l->k->json) {
		printf("%s{\"name\":", l->first ? "" : ",");
		json_str(e->name.p, e->name.len);
		printf(",\"type\":\"%s\",\"size\":%llu,\"mtime_ns\":%llu}",
		       e->type == DDP_TYPE_DIR ? "dir" : "file", (unsigned long long)e->size,
		       (unsigned long long)e->mtime_ns);
	} else {
		printf("%12llu  %.*s\n", (unsigned long long)e->size, (int)e->name.len,
		       e->name.p);
	}
	l->first = 0;
	return DD_OK;
}

static int cmd_ls(cli *k, int argc, char **argv)
{
	char unit[DDP_MAX_UNIT + 1], prefix[DDP_MAX_KEY + 2];
	const char *p;
	ls_ctx l = {k, 1};
	int code, rc;

	if (argc != 1 || split(argv[0], unit, sizeof(unit), &p, 1) != DD_OK)
		return usage("ls needs UNIT[:PREFIX]");
	if (strlen(p) > DDP_MAX_KEY - 1)
		return usage("prefix too long");
	snprintf(prefix, sizeof(prefix), "%s%s", p, *p && p[strlen(p) - 1] != '/' ? "/" : "");
	if ((code = connect_cli(k)) != 0)
		return code;
	if (k->json)
		printf("[");
	rc = ddp_ls(k->c, unit, prefix, ls_cb, &l);
	if (k->json)
		printf("]\n");
	return rc == DD_OK ? 0 : fail(k, "ls", rc);
}

static int cmd_stat(cli *k, int argc, char **argv)
{
	char unit[DDP_MAX_UNIT + 1];
	const char *path;
	ddp_stat_info si;
	int code, rc;

	if (argc != 1 || split(argv[0], unit, sizeof(unit), &path, 0) != DD_OK)
		return usage("stat needs UNIT:PATH");
	if ((code = connect_cli(k)) != 0)
		return code;
	if ((rc = ddp_stat(k->c, unit, path, &si)) != DD_OK)
		return fail(k, "stat", rc);
	if (k->json)
		printf("{\"type\":\"%s\",\"size\":%llu,\"mtime_ns\":%llu}\n",
		       si.type == DDP_TYPE_DIR ? "dir" : "file", (unsigned long long)si.size,
		       (unsigned long long)si.mtime_ns);
	else
		printf("%s %s:%s %llu bytes mtime_ns %llu\n",
		       si.type == DDP_TYPE_DIR ? "dir" : "file", unit, path,
		       (unsigned long long)si.size, (unsigned long long)si.mtime_ns);
	return 0;
}

static int cmd_rm(cli *k, int argc, char **argv)
{
	char unit[DDP_MAX_UNIT + 1];
	const char *path;
	int code, rc;

	if (argc < 1)
		return usage("rm needs UNIT:PATH...");
	for (int i = 0; i < argc; i++)
		if (split(argv[i], unit, sizeof(unit), &path, 0) != DD_OK)
			return usage("rm needs UNIT:PATH...");
	if ((code = connect_cli(k)) != 0)
		return code;
	for (int i = 0; i < argc; i++) {
		(void)!split(argv[i], unit, sizeof(unit), &path, 0);
		if ((rc = ddp_rm(k->c, unit, path)) != DD_OK)
			return fail(k, "rm", rc);
	}
	return 0;
}

/* cp / mv: DST is a path in SRC's unit, or UNIT:PATH naming the same unit. */
static int cmd_cp_mv(cli *k, int argc, char **argv, int is_cp)
{
	char unit[DDP_MAX_UNIT + 1], unit2[DDP_MAX_UNIT + 1];
	const char *src, *dst = argc == 2 ? argv[1] : NULL;
	uint64_t size = 0;
	int code, rc;

	if (argc != 2 || split(argv[0], unit, sizeof(unit), &src, 0) != DD_OK)
		return usage(is_cp ? "cp needs UNIT:SRC DST" : "mv needs UNIT:SRC DST");
	if (strchr(dst, ':')) {
		if (split(argv[1], unit2, sizeof(unit2), &dst, 0) != DD_OK ||
		    strcmp(unit, unit2) != 0)
			return usage("DST must be in the same unit");
	}
	if ((code = connect_cli(k)) != 0)
		return code;
	rc = is_cp ? ddp_cp(k->c, unit, src, dst, 0, &size)
		   : ddp_rename(k->c, unit, src, dst, 0);
	if (rc != DD_OK)
		return fail(k, is_cp ? "cp" : "mv", rc);
	if (k->json && is_cp)
		printf("{\"size\":%llu}\n", (unsigned long long)size);
	return 0;
}

/*
 * Parses a synth extent "SRC@OFFSET+LENGTH" (SRC a path of the unit; the
 * last '@' splits, so paths may hold '@'). Fills e (src borrows arg).
 * DD_OK or DD_EINVAL.
 */
static int parse_extent(const char *arg, ddp_extent *e)
{
	const char *at = strrchr(arg, '@'), *plus;

	if (!at || at == arg || !(plus = strchr(at, '+')))
		return DD_EINVAL;
	memset(e, 0, sizeof(*e));
	e->kind = DDP_EXT_FILE;
	e->src = (dd_str){arg, (size_t)(at - arg)};
	if (dd_str_to_u64((dd_str){at + 1, (size_t)(plus - at - 1)}, &e->offset) != DD_OK ||
	    dd_str_to_u64(dd_str_c(plus + 1), &e->length) != DD_OK || e->length == 0)
		return DD_EINVAL;
	return DD_OK;
}

static int cmd_synth(cli *k, int argc, char **argv)
{
	static ddp_extent ext[DDP_MAX_EXTENTS];
	char unit[DDP_MAX_UNIT + 1];
	const char *dst;
	uint64_t size = 0;
	int code, rc;

	if (argc < 2 || argc - 1 > DDP_MAX_EXTENTS ||
	    split(argv[0], unit, sizeof(unit), &dst, 0) != DD_OK)
		return usage("synth needs UNIT:DST SRC@OFFSET+LENGTH... (1..256 extents)");
	for (int i = 1; i < argc; i++)
		if (parse_extent(argv[i], &ext[i - 1]) != DD_OK) {
			fprintf(stderr, "ddp: bad extent '%s'\n", argv[i]);
			return usage("an extent is SRC@OFFSET+LENGTH (LENGTH >= 1)");
		}
	if ((code = connect_cli(k)) != 0)
		return code;
	if ((rc = ddp_synthesize(k->c, unit, dst, ext, (size_t)(argc - 1), 0, &size)) != DD_OK)
		return fail(k, "synth", rc);
	if (k->json)
		printf("{\"size\":%llu}\n", (unsigned long long)size);
	else if (!k->quiet)
		printf("synthesized %s:%s, %llu bytes from %d extent(s), no data sent\n",
		       unit, dst, (unsigned long long)size, argc - 1);
	return 0;
}

typedef struct units_ctx {
	cli *k;
	int first;
} units_ctx;

static int units_cb(void *arg, const ddp_unit_info *u)
{
	units_ctx *x = arg;

	if (x->k->json) {
		printf("%s{\"name\":", x->first ? "" : ",");
		json_str(u->name.p, u->name.len);
		printf(",\"logical_bytes\":%llu,\"physical_bytes\":%llu}",
		       (unsigned long long)u->logical_bytes,
		       (unsigned long long)u->physical_bytes);
	} else {
		printf("%-32.*s %14llu %14llu\n", (int)u->name.len, u->name.p,
		       (unsigned long long)u->logical_bytes,
		       (unsigned long long)u->physical_bytes);
	}
	x->first = 0;
	return DD_OK;
}

static int cmd_units(cli *k, int argc)
{
	units_ctx x = {k, 1};
	int code, rc;

	if (argc != 0)
		return usage("units takes no arguments");
	if ((code = connect_cli(k)) != 0)
		return code;
	if (k->json)
		printf("[");
	rc = ddp_units(k->c, units_cb, &x);
	if (k->json)
		printf("]\n");
	return rc == DD_OK ? 0 : fail(k, "units", rc);
}

static int cmd_mkunit(cli *k, int argc, char **argv)
{
	int code, rc;

	if (argc != 1)
		return usage("mkunit needs UNIT");
	if ((code = connect_cli(k)) != 0)
		return code;
	if ((rc = ddp_mkunit(k->c, argv[0])) != DD_OK)
		return fail(k, "mkunit", rc);
	return 0;
}

static int dispatch(cli *k, const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "put") == 0)
		return cmd_put(k, argc, argv);
	if (strcmp(cmd, "get") == 0)
		return cmd_get(k, argc, argv);
	if (strcmp(cmd, "ls") == 0)
		return cmd_ls(k, argc, argv);
	if (strcmp(cmd, "stat") == 0)
		return cmd_stat(k, argc, argv);
	if (strcmp(cmd, "rm") == 0)
		return cmd_rm(k, argc, argv);
	if (strcmp(cmd, "cp") == 0)
		return cmd_cp_mv(k, argc, argv, 1);
	if (strcmp(cmd, "mv") == 0)
		return cmd_cp_mv(k, argc, argv, 0);
	if (strcmp(cmd, "synth") == 0)
		return cmd_synth(k, argc, argv);
	if (strcmp(cmd, "units") == 0)
		return cmd_units(k, argc);
	if (strcmp(cmd, "mkunit") == 0)
		return cmd_mkunit(k, argc, argv);
	fprintf(stderr, "ddp: unknown command '%s'\n", cmd);
	return usage(NULL);
}

/* Reads path (at most b's max) into b; *st from fstat of the same fd. */
static int read_conf(const char *path, dd_buf *b, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc = DD_OK;
	char tmp[4096];
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? DD_ENOENT : DD_EIO;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
		rc = DD_EINVAL;
	while (rc == DD_OK && (n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? DD_EIO : dd_buf_append(b, tmp, (size_t)n);
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
	close(fd);
	return rc;
}

/*
 * Reads the config file: path from --config, else $DDP_CONFIG, else
 * $XDG_CONFIG_HOME/ddp/config or ~/.config/ddp/config when it exists.
 * A file holding a secret must not be readable by group or others (as
 * ssh does with keys). Returns 0, or an exit code after printing why.
 */
static int load_config(const char *path, ddp_cliconf *out)
{
	char def[4096], err[160];
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	dd_buf b;
	struct stat st;
	int explicit = 1, rc, code = 0;

	memset(out, 0, sizeof(*out));
	if (!path && (path = getenv("DDP_CONFIG")) && !path[0])
		path = NULL;
	if (!path) {
		explicit = 0;
		if (xdg && xdg[0])
			snprintf(def, sizeof(def), "%s/ddp/config", xdg);
		else if (home && home[0])
			snprintf(def, sizeof(def), "%s/.config/ddp/config", home);
		else
			return 0;
		path = def;
		if (stat(path, &st) != 0)
			return 0; /* no default file: fine */
	}
	dd_buf_init(&b, 64 * 1024);
	/* Mode and owner are judged on the file that is read (fstat). */
	if ((rc = read_conf(path, &b, &st)) != DD_OK) {
		fprintf(stderr, "ddp: %s: %s\n", path, dd_strerror(rc));
		code = explicit ? EXIT_USAGE : 0;
	} else if (ddp_cliconf_parse(b.data, b.len, out, err, sizeof(err)) != DD_OK) {
		fprintf(stderr, "ddp: %s: %s\n", path, err);
		code = EXIT_USAGE;
	} else if (out->secret_key[0] &&
		   ((st.st_mode & 077) || (st.st_uid != geteuid() && st.st_uid != 0))) {
		fprintf(stderr, "ddp: %s holds a secret_key but is readable by others "
			"or owned by another user (chown it and chmod 600 it)\n", path);
		code = EXIT_USAGE;
	}
	OPENSSL_cleanse(b.data, b.len);
	dd_buf_release(&b);
	if (code)
		OPENSSL_cleanse(out, sizeof(*out));
	return code;
}

/* Flags win over the environment, which wins over the config file. */
static void settings_merge(cli *k, const ddp_cliconf *f)
{
	const char *e;

	if (!k->endpoint)
		k->endpoint = (e = getenv("DDP_ENDPOINT")) && e[0] ? e :
			      f->endpoint[0] ? f->endpoint : "127.0.0.1:2052";
	if (!k->ak)
		k->ak = (e = getenv("DDP_ACCESS_KEY")) && e[0] ? e :
			f->access_key[0] ? f->access_key : NULL;
	if (!k->sk)
		k->sk = (e = getenv("DDP_SECRET_KEY")) && e[0] ? e :
			f->secret_key[0] ? f->secret_key : NULL;
	if (!k->ca_file && f->ca_file[0])
		k->ca_file = f->ca_file;
	if (f->tls)
		k->tls = 1;
}

int main(int argc, char **argv)
{
	enum { OPT_TLS = 256, OPT_CA, OPT_RETRIES, OPT_NO_RESUME };
	static ddp_cliconf conf;
	const char *conf_path = NULL;
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"endpoint", required_argument, NULL, 'e'},
		{"access-key", required_argument, NULL, 'a'},
		{"secret-key", required_argument, NULL, 's'},
		{"tls", no_argument, NULL, OPT_TLS},
		{"ca-file", required_argument, NULL, OPT_CA},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"no-resume", no_argument, NULL, OPT_NO_RESUME},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	cli k;
	int opt, code;

	memset(&k, 0, sizeof(k));
	k.retries = 5;
	opterr = 0;
	/* '+': options come before the command, so "put - u:p" keeps its '-'. */
	while ((opt = getopt_long(argc, argv, "+c:e:a:s:jqhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'e': k.endpoint = optarg; break;
		case 'a': k.ak = optarg; break;
		case 's': k.sk = optarg; break;
		case OPT_TLS: k.tls = 1; break;
		case OPT_CA: k.ca_file = optarg; break;
		case 'j': k.json = 1; break;
		case 'q': k.quiet = 1; break;
		case OPT_RETRIES: {
			uint64_t v;
			if (dd_str_to_u64(dd_str_c(optarg), &v) != DD_OK || v > 100)
				return usage("--retries wants 0..100");
			k.retries = (unsigned)v;
			break;
		}
		case OPT_NO_RESUME: k.retries = 0; break;
		case 'h':
			fputs(help_text, stdout);
			fputs(help_text2, stdout);
			return 0;
		case 'V': printf("ddp %s\n", DD_VERSION); return 0;
		default:
			fprintf(stderr, "ddp: unknown option '%s'\n", argv[optind - 1]);
			return usage(NULL);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ddp: missing command\n");
		return usage(NULL);
	}
	if ((code = load_config(conf_path, &conf)) != 0)
		return code;
	settings_merge(&k, &conf);
	/* A progress line only for a person watching: never in scripts
	 * (stderr not a terminal), with --json or --quiet. */
	k.progress = !k.json && !k.quiet && isatty(2);
	signal(SIGPIPE, SIG_IGN);
	code = dispatch(&k, argv[optind], argc - optind - 1, argv + optind + 1);
	ddp_conn_close(k.c);
	OPENSSL_cleanse(&conf, sizeof(conf));
	return code;
}
