/* common/str.c - borrowed string slices (nginx's ngx_str_t). */
#include "common/dd.h"

#include <string.h>
#include <strings.h>

dd_str dd_str_c(const char *s)
{
	return (dd_str){s, s ? strlen(s) : 0};
}

int dd_str_eq(dd_str a, dd_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int dd_str_eq_c(dd_str a, const char *s)
{
	return dd_str_eq(a, dd_str_c(s));
}

int dd_str_casecmp_c(dd_str a, const char *s)
{
	size_t n = strlen(s);

	if (n != a.len)
		return 1;
	return n ? strncasecmp(a.p, s, n) : 0;
}

int dd_str_starts_with(dd_str a, const char *prefix)
{
	size_t n = strlen(prefix);

	return a.len >= n && memcmp(a.p, prefix, n) == 0;
}

int dd_str_to_u64(dd_str s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 20)
		return DD_EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return DD_EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return DD_EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return DD_OK;
}
