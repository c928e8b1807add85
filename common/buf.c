/* common/buf.c - bounded dynamic buffer (curl's dynbuf, git's strbuf). */
#include "common/dd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dd_buf_init(dd_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void dd_buf_release(dd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void dd_buf_reset(dd_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int dd_buf_reserve(dd_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return DD_ETOOBIG;
	need = b->len + n + 1; /* room for the NUL */
	if (need <= b->cap)
		return DD_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return DD_ENOMEM;
	b->data = p;
	b->cap = cap;
	return DD_OK;
}

int dd_buf_append(dd_buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = dd_buf_reserve(b, n)) != DD_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return DD_OK;
}

int dd_buf_append_str(dd_buf *b, const char *s)
{
	return dd_buf_append(b, s, strlen(s));
}

int dd_buf_vappendf(dd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return DD_EINVAL;
	if ((rc = dd_buf_reserve(b, (size_t)n)) != DD_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return DD_OK;
}

int dd_buf_appendf(dd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = dd_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void dd_buf_consume(dd_buf *b, size_t n)
{
	DD_ASSERT(n <= b->len);
	if (n == 0)
		return;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *dd_buf_take(dd_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
