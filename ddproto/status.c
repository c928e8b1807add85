/* ddproto/status.c - the DDP status table, opcode names, name checks. */
#include "ddproto/ddp.h"

#include <string.h>

static const struct {
	const char *name;
	const char *text;
} ddp_statuses[DDP_S_COUNT] = {
	[DDP_S_OK] = {"OK", "success"},
	[DDP_S_EPROTO] = {"EPROTO", "protocol violation"},
	[DDP_S_EVERSION] = {"EVERSION", "no common protocol version"},
	[DDP_S_EAUTH] = {"EAUTH", "authentication failed"},
	[DDP_S_EPERM] = {"EPERM", "permission denied"},
	[DDP_S_ENOENT] = {"ENOENT", "not found"},
	[DDP_S_EEXIST] = {"EEXIST", "already exists"},
	[DDP_S_EINVAL] = {"EINVAL", "invalid field value"},
	[DDP_S_ETOOBIG] = {"ETOOBIG", "too large"},
	[DDP_S_ERANGE] = {"ERANGE", "offset or range out of bounds"},
	[DDP_S_EBADHANDLE] = {"EBADHANDLE", "no such handle"},
	[DDP_S_EBADSTATE] = {"EBADSTATE", "operation not allowed on this handle"},
	[DDP_S_EQUOTA] = {"EQUOTA", "hard quota exceeded"},
	[DDP_S_ENOSPC] = {"ENOSPC", "no space left"},
	[DDP_S_ELIMIT] = {"ELIMIT", "limit reached"},
	[DDP_S_EAGAIN] = {"EAGAIN", "busy, retry later"},
	[DDP_S_EDIGEST] = {"EDIGEST", "segment does not match its fingerprint"},
	[DDP_S_ECORRUPT] = {"ECORRUPT", "stored data is corrupt"},
	[DDP_S_EIO] = {"EIO", "server I/O error"},
	[DDP_S_ENOTEMPTY] = {"ENOTEMPTY", "not empty"},
	[DDP_S_ENOTSUP] = {"ENOTSUP", "not supported"},
	[DDP_S_ESHUTDOWN] = {"ESHUTDOWN", "server shutting down"},
	[DDP_S_EINTERNAL] = {"EINTERNAL", "internal server error"},
	[DDP_S_EMISSING] = {"EMISSING", "segments answered missing were never sent"},
	[DDP_S_ELOCKED] = {"ELOCKED", "locked"},
};

uint16_t ddp_status_from_rc(int rc)
{
	switch (rc) {
	case DD_OK: return DDP_S_OK;
	case DD_EPROTO: return DDP_S_EPROTO;
	case DD_EAUTH: return DDP_S_EAUTH;
	case DD_EPERM: return DDP_S_EPERM;
	case DD_ENOENT: return DDP_S_ENOENT;
	case DD_EEXIST: return DDP_S_EEXIST;
	case DD_EINVAL: return DDP_S_EINVAL;
	case DD_ETOOBIG: return DDP_S_ETOOBIG;
	case DD_ERANGE: return DDP_S_ERANGE;
	case DD_EQUOTA: return DDP_S_EQUOTA;
	case DD_ENOSPC: return DDP_S_ENOSPC;
	case DD_ELIMIT: return DDP_S_ELIMIT;
	case DD_EAGAIN: return DDP_S_EAGAIN;
	case DD_ENOMEM: return DDP_S_EAGAIN;
	case DD_EDIGEST: return DDP_S_EDIGEST;
	case DD_ECORRUPT: return DDP_S_ECORRUPT;
	case DD_EIO: return DDP_S_EIO;
	case DD_ENOTEMPTY: return DDP_S_ENOTEMPTY;
	case DD_ENOTSUP: return DDP_S_ENOTSUP;
	case DD_ESHUTDOWN: return DDP_S_ESHUTDOWN;
	case DD_ELOCKED: return DDP_S_ELOCKED;
	default: return DDP_S_EINTERNAL;
	}
}

int ddp_rc_from_status(uint16_t st)
{
	switch (st) {
	case DDP_S_OK: return DD_OK;
	case DDP_S_EPROTO: return DD_EPROTO;
	case DDP_S_EVERSION: return DD_EPROTO;
	case DDP_S_EAUTH: return DD_EAUTH;
	case DDP_S_EPERM: return DD_EPERM;
	case DDP_S_ENOENT: return DD_ENOENT;
	case DDP_S_EEXIST: return DD_EEXIST;
	case DDP_S_EINVAL: return DD_EINVAL;
	case DDP_S_ETOOBIG: return DD_ETOOBIG;
	case DDP_S_ERANGE: return DD_ERANGE;
	case DDP_S_EBADHANDLE: return DD_EINVAL;
	case DDP_S_EBADSTATE: return DD_EINVAL;
	case DDP_S_EQUOTA: return DD_EQUOTA;
	case DDP_S_ENOSPC: return DD_ENOSPC;
	case DDP_S_ELIMIT: return DD_ELIMIT;
	case DDP_S_EAGAIN: return DD_EAGAIN;
	case DDP_S_EDIGEST: return DD_EDIGEST;
	case DDP_S_ECORRUPT: return DD_ECORRUPT;
	case DDP_S_EIO: return DD_EIO;
	case DDP_S_ENOTEMPTY: return DD_ENOTEMPTY;
	case DDP_S_ENOTSUP: return DD_ENOTSUP;
	case DDP_S_ESHUTDOWN: return DD_ESHUTDOWN;
	case DDP_S_EINTERNAL: return DD_EINTERNAL;
	case DDP_S_EMISSING: return DD_EINVAL;
	case DDP_S_ELOCKED: return DD_ELOCKED;
	default: return DD_EPROTO;
	}
}

const char *ddp_status_name(uint16_t st)
{
	return st < DDP_S_COUNT ? ddp_statuses[st].name : "EUNKNOWN";
}

const char *ddp_status_text(uint16_t st)
{
	return st < DDP_S_COUNT ? ddp_statuses[st].text : "unknown status";
}

const char *ddp_op_name(int op)
{
	switch (op) {
	case DDP_OP_HELLO: return "HELLO";
	case DDP_OP_AUTH: return "AUTH";
	case DDP_OP_PING: return "PING";
	case DDP_OP_BYE: return "BYE";
	case DDP_OP_UNIT_LIST: return "UNIT_LIST";
	case DDP_OP_UNIT_STAT: return "UNIT_STAT";
	case DDP_OP_UNIT_CREATE: return "UNIT_CREATE";
	case DDP_OP_OPEN: return "OPEN";
	case DDP_OP_CLOSE: return "CLOSE";
	case DDP_OP_WRITE: return "WRITE";
	case DDP_OP_READ: return "READ";
	case DDP_OP_DSP_QUERY: return "DSP_QUERY";
	case DDP_OP_DSP_PUT: return "DSP_PUT";
	case DDP_OP_SYNTHESIZE: return "SYNTHESIZE";
	case DDP_OP_STAT: return "STAT";
	case DDP_OP_READDIR: return "READDIR";
	case DDP_OP_RENAME: return "RENAME";
	case DDP_OP_UNLINK: return "UNLINK";
	case DDP_OP_FASTCOPY: return "FASTCOPY";
	default: return "UNKNOWN";
	}
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, <= U+10FFFF. */
int ddp_valid_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (k > n - i - 1)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int is_lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int ddp_valid_unit(dd_str s)
{
	int dots = 0, digits_only = 1;

	if (s.len < DDP_MIN_UNIT || s.len > DDP_MAX_UNIT)
		return 0;
	if (!is_lower_digit(s.p[0]) || !is_lower_digit(s.p[s.len - 1]))
		return 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '.') {
			dots++;
			if (s.p[i - 1] == '.' || s.p[i - 1] == '-' ||
			    s.p[i + 1] == '-')
				return 0; /* "..", "-.", ".-" (first/last are alnum) */
		} else if (c == '-') {
			digits_only = 0;
		} else if (c >= '0' && c <= '9') {
			continue;
		} else if (c >= 'a' && c <= 'z') {
			digits_only = 0;
		} else {
			return 0;
		}
	}
	return !(dots == 3 && digits_only); /* not shaped like an IPv4 address */
}

int ddp_valid_path(dd_str s)
{
	if (s.len < 1 || s.len > DDP_MAX_KEY)
		return 0;
	if (memchr(s.p, '\0', s.len))
		return 0;
	return ddp_valid_utf8((const uint8_t *)s.p, s.len);
}

int ddp_valid_prefix(dd_str s)
{
	if (s.len == 0)
		return 1;
	return ddp_valid_path(s) && s.p[s.len - 1] == '/';
}
