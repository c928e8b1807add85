/* common/err.c - the project's error codes and their descriptions. */
#include "common/dd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
	const char *name;
	const char *text;
} dd_errors[DD_RC_COUNT] = {
	[DD_OK] = {"OK", "success"},
	[DD_ENOMEM] = {"ENOMEM", "out of memory"},
	[DD_EIO] = {"EIO", "input/output error"},
	[DD_EINVAL] = {"EINVAL", "invalid argument or malformed input"},
	[DD_ENOENT] = {"ENOENT", "not found"},
	[DD_EEXIST] = {"EEXIST", "already exists"},
	[DD_ECORRUPT] = {"ECORRUPT", "stored data is corrupt"},
	[DD_ETOOBIG] = {"ETOOBIG", "too large"},
	[DD_ENOTEMPTY] = {"ENOTEMPTY", "not empty"},
	[DD_EQUOTA] = {"EQUOTA", "quota exceeded"},
	[DD_EPERM] = {"EPERM", "permission denied"},
	[DD_EAUTH] = {"EAUTH", "authentication failed"},
	[DD_EAGAIN] = {"EAGAIN", "resource temporarily unavailable"},
	[DD_EDIGEST] = {"EDIGEST", "digest mismatch"},
	[DD_ECONFIG] = {"ECONFIG", "configuration error"},
	[DD_ELOCKED] = {"ELOCKED", "locked by another process"},
	[DD_ESHUTDOWN] = {"ESHUTDOWN", "shutting down"},
	[DD_ERANGE] = {"ERANGE", "range not satisfiable"},
	[DD_EPROTO] = {"EPROTO", "protocol error"},
	[DD_ENOTSUP] = {"ENOTSUP", "not supported"},
	[DD_ENOSPC] = {"ENOSPC", "no space left on device"},
	[DD_ELIMIT] = {"ELIMIT", "limit reached"},
	[DD_EINTERNAL] = {"EINTERNAL", "internal error"},
};

const char *dd_strerror(int rc)
{
	if (rc < 0 || rc >= DD_RC_COUNT || !dd_errors[rc].text)
		return "unknown error";
	return dd_errors[rc].text;
}

const char *dd_errname(int rc)
{
	if (rc < 0 || rc >= DD_RC_COUNT || !dd_errors[rc].name)
		return "EUNKNOWN";
	return dd_errors[rc].name;
}

int dd_rc_from_errno(int err)
{
	switch (err) {
	case 0:
		return DD_OK;
	case ENOMEM:
		return DD_ENOMEM;
	case ENOENT:
		return DD_ENOENT;
	case EEXIST:
		return DD_EEXIST;
	case EINVAL:
		return DD_EINVAL;
	case ENOSPC:
	case EDQUOT:
		return DD_ENOSPC;
	case EACCES:
	case EPERM:
		return DD_EPERM;
	case EAGAIN:
		return DD_EAGAIN;
	case ENOTEMPTY:
		return DD_ENOTEMPTY;
	case EFBIG:
	case E2BIG:
		return DD_ETOOBIG;
	default:
		return DD_EIO;
	}
}

void dd_assert_fail(const char *what, const char *file, int line)
{
	dd_log_write(DD_LOG_ERROR, "assertion failed: %s at %s:%d", what, file,
		     line);
	abort();
}
