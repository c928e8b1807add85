/* common/util.c - hex, randomness, time and durable file helpers. */
#include "common/dd.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void dd_hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dd_hex_decode(const char *in, size_t hexlen, void *out)
{
	unsigned char *o = out;

	if (hexlen % 2)
		return DD_EINVAL;
	for (size_t i = 0; i < hexlen; i += 2) {
		int hi = hexval((unsigned char)in[i]);
		int lo = hexval((unsigned char)in[i + 1]);
		if (hi < 0 || lo < 0)
			return DD_EINVAL;
		o[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return DD_OK;
}

int dd_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return DD_EIO;
		}
		p += r;
		n -= (size_t)r;
	}
	return DD_OK;
}

int64_t dd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t dd_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int dd_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return DD_EINVAL;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return dd_rc_from_errno(errno);
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return dd_rc_from_errno(errno);
	return DD_OK;
}

int dd_fsync_dir(const char *dirpath)
{
	int fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = DD_OK;

	if (fd < 0)
		return dd_rc_from_errno(errno);
	if (fsync(fd) < 0)
		rc = dd_rc_from_errno(errno);
	close(fd);
	return rc;
}

int dd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return dd_rc_from_errno(errno);
		}
		c += w;
		n -= (size_t)w;
	}
	return DD_OK;
}

int dd_pread_all(int fd, void *p, size_t n, off_t off)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = pread(fd, c, n, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return dd_rc_from_errno(errno);
		}
		if (r == 0)
			return DD_ECORRUPT;
		c += r;
		n -= (size_t)r;
		off += r;
	}
	return DD_OK;
}

int dd_write_file_atomic(const char *path, const void *data, size_t n,
			 mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return DD_EINVAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return dd_rc_from_errno(errno);
	rc = dd_write_all(fd, data, n);
	if (rc == DD_OK && fsync(fd) < 0)
		rc = dd_rc_from_errno(errno);
	close(fd);
	if (rc == DD_OK && rename(tmp, path) < 0)
		rc = dd_rc_from_errno(errno);
	if (rc != DD_OK) {
		unlink(tmp);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	return dd_fsync_dir(dirname(dir));
}

int dd_read_file(const char *path, dd_buf *b)
{
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = DD_OK;

	if (fd < 0)
		return dd_rc_from_errno(errno);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = dd_rc_from_errno(errno);
			break;
		}
		if (r == 0)
			break;
		if ((rc = dd_buf_append(b, chunk, (size_t)r)) != DD_OK)
			break;
	}
	close(fd);
	return rc;
}
