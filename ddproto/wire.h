/*
 * ddproto/wire.h - internal: big-endian cursor reads and bounded appends
 * used by the frame and message codecs. Not part of the public API.
 *
 * A ddp_cur never reads past its end: after the first failed read it is
 * marked bad, every later read returns zeros, and the caller checks
 * ddp_cur_ok() once at the end (plus ddp_cur_done() for trailing bytes).
 */
#ifndef DD_DDPROTO_WIRE_H
#define DD_DDPROTO_WIRE_H

#include <stdint.h>
#include <string.h>

#include "ddproto/ddp.h"

typedef struct ddp_cur {
	const uint8_t *p;
	size_t len;
	size_t off;
	int bad;
} ddp_cur;

static inline void ddp_cur_init(ddp_cur *c, const uint8_t *p, size_t n)
{
	c->p = p;
	c->len = n;
	c->off = 0;
	c->bad = 0;
}

/* Returns a pointer to the next n bytes and advances, or NULL (bad). */
static inline const uint8_t *ddp_cur_take(ddp_cur *c, size_t n)
{
	const uint8_t *r;

	if (c->bad || n > c->len - c->off) {
		c->bad = 1;
		return NULL;
	}
	r = c->p + c->off;
	c->off += n;
	return r;
}

static inline uint8_t ddp_get_u8(ddp_cur *c)
{
	const uint8_t *q = ddp_cur_take(c, 1);
	return q ? q[0] : 0;
}

static inline uint16_t ddp_get_u16(ddp_cur *c)
{
	const uint8_t *q = ddp_cur_take(c, 2);
	return q ? (uint16_t)((q[0] << 8) | q[1]) : 0;
}

static inline uint32_t ddp_get_u32(ddp_cur *c)
{
	const uint8_t *q = ddp_cur_take(c, 4);
	return q ? ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
			   ((uint32_t)q[2] << 8) | q[3]
		 : 0;
}

static inline uint64_t ddp_get_u64(ddp_cur *c)
{
	uint64_t hi = ddp_get_u32(c);
	return (hi << 32) | ddp_get_u32(c);
}

static inline void ddp_get_bytes(ddp_cur *c, void *out, size_t n)
{
	const uint8_t *q = ddp_cur_take(c, n);
	if (q)
		memcpy(out, q, n);
	else
		memset(out, 0, n);
}

/* A u16-length string of at most max bytes, borrowed from the cursor. */
static inline dd_str ddp_get_str(ddp_cur *c, size_t max)
{
	dd_str s = {"", 0};
	uint16_t n = ddp_get_u16(c);
	const uint8_t *q;

	if (n > max) {
		c->bad = 1;
		return s;
	}
	q = ddp_cur_take(c, n);
	if (q) {
		s.p = (const char *)q;
		s.len = n;
	}
	return s;
}

static inline int ddp_cur_ok(const ddp_cur *c)
{
	return !c->bad;
}

/* 1 when every byte was read and nothing went wrong (no trailing bytes). */
static inline int ddp_cur_done(const ddp_cur *c)
{
	return !c->bad && c->off == c->len;
}

static inline void ddp_be16(uint8_t *o, uint16_t v)
{
	o[0] = (uint8_t)(v >> 8);
	o[1] = (uint8_t)v;
}

static inline void ddp_be32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
}

static inline void ddp_be64(uint8_t *o, uint64_t v)
{
	ddp_be32(o, (uint32_t)(v >> 32));
	ddp_be32(o + 4, (uint32_t)v);
}

/*
 * Appends fields to a dd_buf. The first failure sticks in *rc so a run of
 * puts needs one check at the end.
 */
static inline void ddp_put(dd_buf *b, int *rc, const void *p, size_t n)
{
	if (*rc == DD_OK)
		*rc = dd_buf_append(b, p, n);
}

static inline void ddp_put_u8(dd_buf *b, int *rc, uint8_t v)
{
	ddp_put(b, rc, &v, 1);
}

static inline void ddp_put_u16(dd_buf *b, int *rc, uint16_t v)
{
	uint8_t o[2];
	ddp_be16(o, v);
	ddp_put(b, rc, o, 2);
}

static inline void ddp_put_u32(dd_buf *b, int *rc, uint32_t v)
{
	uint8_t o[4];
	ddp_be32(o, v);
	ddp_put(b, rc, o, 4);
}

static inline void ddp_put_u64(dd_buf *b, int *rc, uint64_t v)
{
	uint8_t o[8];
	ddp_be64(o, v);
	ddp_put(b, rc, o, 8);
}

/* A u16-length string; DD_EINVAL in *rc when longer than max. */
static inline void ddp_put_str(dd_buf *b, int *rc, dd_str s, size_t max)
{
	if (*rc == DD_OK && s.len > max)
		*rc = DD_EINVAL;
	ddp_put_u16(b, rc, (uint16_t)s.len);
	ddp_put(b, rc, s.p, s.len);
}



/*
 * Frame building in place (frame.c): begin appends a header with len 0 and
 * sets *start; end patches len, or on error (or payload > DDP_MAX_PAYLOAD)
 * cuts out back to *start and returns the error.
 */
int ddp_frame_begin(dd_buf *out, uint8_t op, uint16_t flags, uint32_t req_id,
		    size_t *start) DD_WUR;
int ddp_frame_end(dd_buf *out, size_t start, int rc) DD_WUR;
#endif /* DD_DDPROTO_WIRE_H */
