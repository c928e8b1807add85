/* common/log.c - one line per event to stderr (journald) or a file. */
#include "common/dd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int dd_log_level_cur = DD_LOG_INFO;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO;
static char *log_path;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int dd_log_level_parse(const char *s)
{
	for (size_t i = 0; i < DD_ARRAY_LEN(level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *dd_log_level_name(int level)
{
	if (level < 0 || level >= (int)DD_ARRAY_LEN(level_names))
		return "?";
	return level_names[level];
}

void dd_log_set_level(int level)
{
	dd_log_level_cur = level;
}

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int dd_log_set_file(const char *path)
{
	int fd = STDERR_FILENO;
	char *copy = NULL;

	if (path) {
		fd = open_log(path);
		if (fd < 0)
			return DD_EIO;
		copy = strdup(path);
		if (!copy) {
			close(fd);
			return DD_ENOMEM;
		}
	}
	pthread_mutex_lock(&log_lock);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	free(log_path);
	log_fd = fd;
	log_path = copy;
	pthread_mutex_unlock(&log_lock);
	return DD_OK;
}

int dd_log_reopen(void)
{
	int rc = DD_OK;

	pthread_mutex_lock(&log_lock);
	if (log_path) {
		int fd = open_log(log_path);
		if (fd < 0) {
			rc = DD_EIO;
		} else {
			close(log_fd);
			log_fd = fd;
		}
	}
	pthread_mutex_unlock(&log_lock);
	return rc;
}

void dd_log_write(int level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     dd_log_level_name(level));
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* truncated: keep one line */
	/* One write per line so concurrent writers never interleave a line. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	pthread_mutex_lock(&log_lock);
	if (write(log_fd, line, (size_t)n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
	pthread_mutex_unlock(&log_lock);
}
