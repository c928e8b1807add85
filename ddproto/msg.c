/*
 * ddproto/msg.c - typed encoders/decoders for every DDP request and
 * response (docs/DDP.md section 6).
 *
 * Decoders check structure and the protocol's fixed maxima: every string
 * against its limit, every count against its limit and against the bytes
 * left, flag bits that change the layout, and no trailing bytes. What
 * depends on negotiation or meaning (names, flag combinations, zero
 * counts) is checked by the session and answered EINVAL.
 *
 * Encoders build the frame, then run the matching decoder over the
 * payload: what they emit is by construction what the peer accepts.
 */
#include "ddproto/ddp.h"
#include "ddproto/wire.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t hello_magic[4] = {'D', 'D', 'P', '1'};

/* ------------------------------------------------- table-driven fields */

/*
 * Every message is a fixed run of fields (described by a table and walked
 * by one decoder and one encoder, so the two cannot disagree) followed,
 * for a few opcodes, by a tail of arrays or data handled by hand.
 */
enum { FK_U8 = 1, FK_U16, FK_U32, FK_U64, FK_STR, FK_RAW };

typedef struct fld {
	uint8_t kind;
	uint16_t arg; /* FK_STR: most bytes; FK_RAW: exact bytes */
	size_t off;   /* of the member in ddp_req / ddp_resp */
} fld;

typedef struct spec {
	const fld *f;
	size_t n;
} spec;

#define FQ(k, m, a) {k, a, offsetof(ddp_req, m)}
#define FR(k, m, a) {k, a, offsetof(ddp_resp, m)}
#define SPEC(t) ((spec){t, DD_ARRAY_LEN(t)})
#define NOFIELDS ((spec){NULL, 0})

/* Reads the fields of sp into the struct at base. */
static void dec_fields(ddp_cur *c, void *base, spec sp)
{
	for (size_t i = 0; i < sp.n; i++) {
		void *m = (uint8_t *)base + sp.f[i].off;
		switch (sp.f[i].kind) {
		case FK_U8: *(uint8_t *)m = ddp_get_u8(c); break;
		case FK_U16: *(uint16_t *)m = ddp_get_u16(c); break;
		case FK_U32: *(uint32_t *)m = ddp_get_u32(c); break;
		case FK_U64: *(uint64_t *)m = ddp_get_u64(c); break;
		case FK_STR: *(dd_str *)m = ddp_get_str(c, sp.f[i].arg); break;
		default: ddp_get_bytes(c, m, sp.f[i].arg); break;
		}
	}
}

/* Appends the fields of sp from the struct at base (first error in *rc;
 * a string over its limit is DD_EINVAL). */
static void enc_fields(dd_buf *b, int *rc, const void *base, spec sp)
{
	for (size_t i = 0; i < sp.n; i++) {
		const void *m = (const uint8_t *)base + sp.f[i].off;
		switch (sp.f[i].kind) {
		case FK_U8: ddp_put_u8(b, rc, *(const uint8_t *)m); break;
		case FK_U16: ddp_put_u16(b, rc, *(const uint16_t *)m); break;
		case FK_U32: ddp_put_u32(b, rc, *(const uint32_t *)m); break;
		case FK_U64: ddp_put_u64(b, rc, *(const uint64_t *)m); break;
		case FK_STR: ddp_put_str(b, rc, *(const dd_str *)m, sp.f[i].arg); break;
		default: ddp_put(b, rc, m, sp.f[i].arg); break;
		}
	}
}

/* Requests: the fixed fields of each opcode (docs/DDP.md section 6). */
static const fld q_hello[] = {
	FQ(FK_U16, u.hello.ver_min, 0), FQ(FK_U16, u.hello.ver_max, 0),
	FQ(FK_U32, u.hello.features, 0), FQ(FK_STR, u.hello.agent, DDP_MAX_AGENT),
};
static const fld q_auth[] = {
	FQ(FK_STR, u.auth.access_key, DDP_MAX_ACCESS_KEY),
	FQ(FK_RAW, u.auth.cnonce, DDP_NONCE_LEN), FQ(FK_RAW, u.auth.proof, DDP_MAC_LEN),
};
static const fld q_ping[] = {FQ(FK_U64, u.ping.cookie, 0)};
static const fld q_unit_list[] = {
	FQ(FK_STR, u.unit_list.start_after, DDP_MAX_UNIT), FQ(FK_U16, u.unit_list.limit, 0),
};
static const fld q_unit[] = {FQ(FK_STR, u.unit_stat.unit, DDP_MAX_UNIT)};
static const fld q_open[] = {
	FQ(FK_STR, u.open.unit, DDP_MAX_UNIT), FQ(FK_STR, u.open.path, DDP_MAX_KEY),
	FQ(FK_U32, u.open.flags, 0), FQ(FK_RAW, u.open.token, DDP_TOKEN_LEN),
};
static const fld q_close[] = {FQ(FK_U32, u.close.handle, 0), FQ(FK_U8, u.close.flags, 0)};
static const fld q_write[] = {
	FQ(FK_U32, u.write.handle, 0), FQ(FK_U64, u.write.offset, 0),
	FQ(FK_U32, u.write.len, 0),
};
static const fld q_read[] = {
	FQ(FK_U32, u.read.handle, 0), FQ(FK_U64, u.read.offset, 0), FQ(FK_U32, u.read.len, 0),
};
static const fld q_dsp_query[] = {
	FQ(FK_U32, u.dsp_query.handle, 0), FQ(FK_U64, u.dsp_query.offset, 0),
	FQ(FK_U16, u.dsp_query.count, 0),
};
static const fld q_dsp_put[] = {FQ(FK_U32, u.dsp_put.handle, 0), FQ(FK_U16, u.dsp_put.count, 0)};
static const fld q_synth[] = {
	FQ(FK_STR, u.synth.unit, DDP_MAX_UNIT), FQ(FK_STR, u.synth.path, DDP_MAX_KEY),
	FQ(FK_U32, u.synth.flags, 0), FQ(FK_U16, u.synth.count, 0),
};
static const fld q_stat[] = {
	FQ(FK_STR, u.stat.unit, DDP_MAX_UNIT), FQ(FK_STR, u.stat.path, DDP_MAX_KEY),
};
static const fld q_readdir[] = {
	FQ(FK_STR, u.readdir.unit, DDP_MAX_UNIT), FQ(FK_STR, u.readdir.prefix, DDP_MAX_KEY),
	FQ(FK_STR, u.readdir.start_after, DDP_MAX_KEY), FQ(FK_U16, u.readdir.limit, 0),
};
static const fld q_rename[] = {
	FQ(FK_STR, u.rename.unit, DDP_MAX_UNIT), FQ(FK_STR, u.rename.from, DDP_MAX_KEY),
	FQ(FK_STR, u.rename.to, DDP_MAX_KEY), FQ(FK_U32, u.rename.flags, 0),
};

/* Sets *sp to op's request fields; 0 for an unknown opcode. */
static int req_spec(uint8_t op, spec *sp)
{
	switch (op) {
	case DDP_OP_HELLO: *sp = SPEC(q_hello); return 1;
	case DDP_OP_AUTH: *sp = SPEC(q_auth); return 1;
	case DDP_OP_PING: *sp = SPEC(q_ping); return 1;
	case DDP_OP_BYE: *sp = NOFIELDS; return 1;
	case DDP_OP_UNIT_LIST: *sp = SPEC(q_unit_list); return 1;
	case DDP_OP_UNIT_STAT:
	case DDP_OP_UNIT_CREATE: *sp = SPEC(q_unit); return 1;
	case DDP_OP_OPEN: *sp = SPEC(q_open); return 1;
	case DDP_OP_CLOSE: *sp = SPEC(q_close); return 1;
	case DDP_OP_WRITE: *sp = SPEC(q_write); return 1;
	case DDP_OP_READ: *sp = SPEC(q_read); return 1;
	case DDP_OP_DSP_QUERY: *sp = SPEC(q_dsp_query); return 1;
	case DDP_OP_DSP_PUT: *sp = SPEC(q_dsp_put); return 1;
	case DDP_OP_SYNTHESIZE: *sp = SPEC(q_synth); return 1;
	case DDP_OP_STAT:
	case DDP_OP_UNLINK: *sp = SPEC(q_stat); return 1;
	case DDP_OP_READDIR: *sp = SPEC(q_readdir); return 1;
	case DDP_OP_RENAME:
	case DDP_OP_FASTCOPY: *sp = SPEC(q_rename); return 1;
	default: return 0;
	}
}

/* ------------------------------------------------------ request decoding */

/* Allocates n zeroed items of size sz unless the payload cannot hold n
 * items of at least min_item bytes each. */
static void *alloc_items(ddp_cur *c, size_t n, size_t sz, size_t min_item)
{
	void *p;

	if (c->bad || n == 0)
		return NULL;
	if (n > (c->len - c->off) / min_item) {
		c->bad = 1;
		return NULL;
	}
	p = calloc(n, sz);
	if (!p)
		c->bad = 2; /* out of memory, not malformed */
	return p;
}

/* The tails after the fixed fields (tables below): arrays and data. */

static void dec_dsp_query(ddp_cur *c, ddp_req *r)
{
	if (r->u.dsp_query.count > DDP_DSP_MAX_BATCH) {
		c->bad = 1;
		return;
	}
	r->u.dsp_query.refs = alloc_items(c, r->u.dsp_query.count,
					  sizeof(ddp_dsp_ref), DDP_FP_LEN + 4);
	for (unsigned i = 0; r->u.dsp_query.refs && i < r->u.dsp_query.count; i++) {
		ddp_get_bytes(c, r->u.dsp_query.refs[i].fp, DDP_FP_LEN);
		r->u.dsp_query.refs[i].len = ddp_get_u32(c);
	}
}

static void dec_segment(ddp_cur *c, ddp_segment *s)
{
	ddp_get_bytes(c, s->fp, DDP_FP_LEN);
	s->flags = ddp_get_u8(c);
	s->raw_len = ddp_get_u32(c);
	s->data_len = ddp_get_u32(c);
	if (s->flags & ~DDP_SEG_ZSTD || s->raw_len == 0 ||
	    s->raw_len > DDP_MAX_SEGMENT || s->data_len == 0 ||
	    ((s->flags & DDP_SEG_ZSTD) ? s->data_len >= s->raw_len
				       : s->data_len != s->raw_len)) {
		c->bad = 1;
		return;
	}
	s->data = ddp_cur_take(c, s->data_len);
}

static void dec_dsp_put(ddp_cur *c, ddp_req *r)
{
	if (r->u.dsp_put.count > DDP_DSP_MAX_PUT) {
		c->bad = 1;
		return;
	}
	r->u.dsp_put.segs = alloc_items(c, r->u.dsp_put.count,
					sizeof(ddp_segment), DDP_FP_LEN + 10);
	for (unsigned i = 0; r->u.dsp_put.segs && i < r->u.dsp_put.count && !c->bad; i++)
		dec_segment(c, &r->u.dsp_put.segs[i]);
}

static void dec_extent(ddp_cur *c, ddp_extent *e)
{
	e->kind = ddp_get_u8(c);
	if (e->kind == DDP_EXT_FILE) {
		e->src = ddp_get_str(c, DDP_MAX_KEY);
		e->offset = ddp_get_u64(c);
		e->length = ddp_get_u64(c);
	} else if (e->kind == DDP_EXT_DATA) {
		e->length = ddp_get_u32(c);
		if (e->length > DDP_MAX_IO)
			c->bad = 1;
		else
			e->data = ddp_cur_take(c, (size_t)e->length);
	} else {
		c->bad = 1;
	}
}

static void dec_synth(ddp_cur *c, ddp_req *r)
{
	if (r->u.synth.count > DDP_MAX_EXTENTS) {
		c->bad = 1;
		return;
	}
	r->u.synth.exts = alloc_items(c, r->u.synth.count, sizeof(ddp_extent), 5);
	for (unsigned i = 0; r->u.synth.exts && i < r->u.synth.count && !c->bad; i++)
		dec_extent(c, &r->u.synth.exts[i]);
}

static int dec_req_body(ddp_cur *c, ddp_req *r)
{
	spec sp;

	if (!req_spec(r->op, &sp))
		return DD_ENOTSUP;
	if (r->op == DDP_OP_HELLO) {
		const uint8_t *m = ddp_cur_take(c, 4);
		if (m && memcmp(m, hello_magic, 4) != 0)
			c->bad = 1;
	}
	dec_fields(c, r, sp);
	switch (r->op) {
	case DDP_OP_WRITE:
		if (r->u.write.len > DDP_MAX_IO)
			c->bad = 1;
		r->u.write.data = ddp_cur_take(c, r->u.write.len);
		break;
	case DDP_OP_DSP_QUERY:
		dec_dsp_query(c, r);
		break;
	case DDP_OP_DSP_PUT:
		dec_dsp_put(c, r);
		break;
	case DDP_OP_SYNTHESIZE:
		dec_synth(c, r);
		break;
	default:
		break;
	}
	if (c->bad == 2)
		return DD_ENOMEM;
	return ddp_cur_done(c) ? DD_OK : DD_EPROTO;
}

int ddp_req_decode(uint8_t op, const uint8_t *p, size_t n, ddp_req *out)
{
	ddp_cur c;

	memset(out, 0, sizeof(*out));
	out->op = op;
	ddp_cur_init(&c, p, n);
	return dec_req_body(&c, out);
}

void ddp_req_release(ddp_req *r)
{
	switch (r->op) {
	case DDP_OP_DSP_QUERY:
		free(r->u.dsp_query.refs);
		r->u.dsp_query.refs = NULL;
		break;
	case DDP_OP_DSP_PUT:
		free(r->u.dsp_put.segs);
		r->u.dsp_put.segs = NULL;
		break;
	case DDP_OP_SYNTHESIZE:
		free(r->u.synth.exts);
		r->u.synth.exts = NULL;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------ request encoding */

static void enc_extent(const ddp_extent *e, dd_buf *b, int *rc)
{
	ddp_put_u8(b, rc, e->kind);
	if (e->kind == DDP_EXT_FILE) {
		ddp_put_str(b, rc, e->src, DDP_MAX_KEY);
		ddp_put_u64(b, rc, e->offset);
		ddp_put_u64(b, rc, e->length);
	} else if (e->length <= DDP_MAX_IO) {
		ddp_put_u32(b, rc, (uint32_t)e->length);
		ddp_put(b, rc, e->data, (size_t)e->length);
	} else if (*rc == DD_OK) {
		*rc = DD_EINVAL;
	}
}

/* The tail after op's fixed fields. */
static void enc_req_tail(const ddp_req *r, dd_buf *b, int *rc)
{
	switch (r->op) {
	case DDP_OP_WRITE:
		ddp_put(b, rc, r->u.write.data, r->u.write.len);
		break;
	case DDP_OP_DSP_QUERY:
		for (unsigned i = 0; i < r->u.dsp_query.count && *rc == DD_OK; i++) {
			ddp_put(b, rc, r->u.dsp_query.refs[i].fp, DDP_FP_LEN);
			ddp_put_u32(b, rc, r->u.dsp_query.refs[i].len);
		}
		break;
	case DDP_OP_DSP_PUT:
		for (unsigned i = 0; i < r->u.dsp_put.count && *rc == DD_OK; i++) {
			const ddp_segment *s = &r->u.dsp_put.segs[i];
			ddp_put(b, rc, s->fp, DDP_FP_LEN);
			ddp_put_u8(b, rc, s->flags);
			ddp_put_u32(b, rc, s->raw_len);
			ddp_put_u32(b, rc, s->data_len);
			ddp_put(b, rc, s->data, s->data_len);
		}
		break;
	case DDP_OP_SYNTHESIZE:
		for (unsigned i = 0; i < r->u.synth.count && *rc == DD_OK; i++)
			enc_extent(&r->u.synth.exts[i], b, rc);
		break;
	default:
		break;
	}
}

int ddp_req_encode(const ddp_req *r, uint32_t req_id, dd_buf *out)
{
	size_t start;
	ddp_req check;
	spec sp;
	int rc;

	if (!req_spec(r->op, &sp))
		return DD_EINVAL;
	if ((rc = ddp_frame_begin(out, r->op, 0, req_id, &start)) != DD_OK)
		return rc;
	if (r->op == DDP_OP_HELLO)
		ddp_put(out, &rc, hello_magic, 4);
	enc_fields(out, &rc, r, sp);
	enc_req_tail(r, out, &rc);
	if (rc == DD_OK) {
		const uint8_t *pl = (const uint8_t *)out->data + start + DDP_HDR_LEN;
		rc = ddp_req_decode(r->op, pl, out->len - start - DDP_HDR_LEN, &check);
		ddp_req_release(&check);
		if (rc == DD_EPROTO || rc == DD_ENOTSUP)
			rc = DD_EINVAL;
	}
	return ddp_frame_end(out, start, rc);
}

/* ----------------------------------------------------- response decoding */

/* Responses (status OK): the fixed fields of each opcode. */
static const fld r_hello[] = {
	FR(FK_U16, u.hello.version, 0), FR(FK_U32, u.hello.features, 0),
	FR(FK_RAW, u.hello.snonce, DDP_NONCE_LEN), FR(FK_U32, u.hello.max_payload, 0),
	FR(FK_U32, u.hello.max_io, 0), FR(FK_U16, u.hello.window_reqs, 0),
	FR(FK_U32, u.hello.window_bytes, 0), FR(FK_U16, u.hello.dsp_max_batch, 0),
	FR(FK_U32, u.hello.max_segment, 0), FR(FK_U32, u.hello.resume_ttl_s, 0),
};
/* the HELLO chunking extension, when features has DDP_FEAT_CHUNKING */
static const fld r_hello_chunking[] = {
	FR(FK_STR, u.hello.chunker, DDP_MAX_CHUNKER), FR(FK_U32, u.hello.chunk_min, 0),
	FR(FK_U32, u.hello.chunk_avg, 0), FR(FK_U32, u.hello.chunk_max, 0),
};
static const fld r_auth[] = {FR(FK_RAW, u.auth.proof, DDP_MAC_LEN)};
static const fld r_ping[] = {FR(FK_U64, u.ping.cookie, 0)};
static const fld r_list[] = {FR(FK_U16, u.unit_list.count, 0), FR(FK_U8, u.unit_list.more, 0)};
static const fld r_unit_stat[] = {
	FR(FK_U64, u.unit_stat.logical_bytes, 0), FR(FK_U64, u.unit_stat.physical_bytes, 0),
	FR(FK_U64, u.unit_stat.files, 0), FR(FK_U64, u.unit_stat.quota_soft, 0),
	FR(FK_U64, u.unit_stat.quota_hard, 0), FR(FK_U32, u.unit_stat.streams, 0),
	FR(FK_U32, u.unit_stat.stream_limit, 0),
};
static const fld r_open[] = {
	FR(FK_U32, u.open.handle, 0), FR(FK_U64, u.open.size, 0),
	FR(FK_RAW, u.open.token, DDP_TOKEN_LEN),
};
static const fld r_close[] = {FR(FK_U64, u.close.size, 0), FR(FK_U8, u.close.digest_len, 0)};
static const fld r_length[] = {FR(FK_U64, u.length.length, 0)};
static const fld r_read[] = {FR(FK_U32, u.read.len, 0)};
static const fld r_dsp_query[] = {
	FR(FK_U64, u.dsp_query.length, 0), FR(FK_U16, u.dsp_query.count, 0),
};
static const fld r_dsp_put[] = {FR(FK_U16, u.dsp_put.count, 0)};
static const fld r_stat[] = {
	FR(FK_U8, u.stat.type, 0), FR(FK_U64, u.stat.size, 0), FR(FK_U64, u.stat.mtime_ns, 0),
};
static const fld r_readdir[] = {FR(FK_U16, u.readdir.count, 0), FR(FK_U8, u.readdir.more, 0)};

/* Sets *sp to op's OK response fields; 0 for an unknown opcode. */
static int resp_spec(uint8_t op, spec *sp)
{
	switch (op) {
	case DDP_OP_HELLO: *sp = SPEC(r_hello); return 1;
	case DDP_OP_AUTH: *sp = SPEC(r_auth); return 1;
	case DDP_OP_PING: *sp = SPEC(r_ping); return 1;
	case DDP_OP_BYE:
	case DDP_OP_RENAME:
	case DDP_OP_UNLINK:
	case DDP_OP_UNIT_CREATE: *sp = NOFIELDS; return 1;
	case DDP_OP_UNIT_LIST: *sp = SPEC(r_list); return 1;
	case DDP_OP_UNIT_STAT: *sp = SPEC(r_unit_stat); return 1;
	case DDP_OP_OPEN: *sp = SPEC(r_open); return 1;
	case DDP_OP_CLOSE: *sp = SPEC(r_close); return 1;
	case DDP_OP_WRITE:
	case DDP_OP_SYNTHESIZE:
	case DDP_OP_FASTCOPY: *sp = SPEC(r_length); return 1;
	case DDP_OP_READ: *sp = SPEC(r_read); return 1;
	case DDP_OP_DSP_QUERY: *sp = SPEC(r_dsp_query); return 1;
	case DDP_OP_DSP_PUT: *sp = SPEC(r_dsp_put); return 1;
	case DDP_OP_STAT: *sp = SPEC(r_stat); return 1;
	case DDP_OP_READDIR: *sp = SPEC(r_readdir); return 1;
	default: return 0;
	}
}

static void dec_unit_list(ddp_cur *c, ddp_resp *r)
{
	if (r->u.unit_list.count > DDP_MAX_LIST || r->u.unit_list.more > 1) {
		c->bad = 1;
		return;
	}
	r->u.unit_list.units = alloc_items(c, r->u.unit_list.count,
					   sizeof(ddp_unit_info), 18);
	for (unsigned i = 0; r->u.unit_list.units && i < r->u.unit_list.count; i++) {
		r->u.unit_list.units[i].name = ddp_get_str(c, DDP_MAX_UNIT);
		r->u.unit_list.units[i].logical_bytes = ddp_get_u64(c);
		r->u.unit_list.units[i].physical_bytes = ddp_get_u64(c);
	}
}

static void dec_readdir(ddp_cur *c, ddp_resp *r)
{
	if (r->u.readdir.count > DDP_MAX_LIST || r->u.readdir.more > 1) {
		c->bad = 1;
		return;
	}
	r->u.readdir.ents = alloc_items(c, r->u.readdir.count, sizeof(ddp_dirent), 19);
	for (unsigned i = 0; r->u.readdir.ents && i < r->u.readdir.count; i++) {
		ddp_dirent *e = &r->u.readdir.ents[i];
		e->type = ddp_get_u8(c);
		e->name = ddp_get_str(c, DDP_MAX_KEY);
		e->size = ddp_get_u64(c);
		e->mtime_ns = ddp_get_u64(c);
		if (e->type != DDP_TYPE_FILE && e->type != DDP_TYPE_DIR)
			c->bad = 1;
	}
}

static void dec_dsp_answer(ddp_cur *c, ddp_resp *r)
{
	unsigned n = r->u.dsp_query.count, bytes;

	if (n > DDP_DSP_MAX_BATCH) {
		c->bad = 1;
		return;
	}
	bytes = (n + 7) / 8;
	r->u.dsp_query.missing = ddp_cur_take(c, bytes);
	/* unused bits of the last byte must be zero */
	if (r->u.dsp_query.missing && (n & 7) &&
	    (r->u.dsp_query.missing[bytes - 1] >> (n & 7)))
		c->bad = 1;
}

/* The tail (and value checks) after op's fixed fields. */
static void dec_resp_tail(ddp_cur *c, ddp_resp *r)
{
	switch (r->op) {
	case DDP_OP_HELLO:
		if (r->u.hello.features & DDP_FEAT_CHUNKING) {
			dec_fields(c, r, SPEC(r_hello_chunking));
			if (!r->u.hello.chunker.len)
				c->bad = 1;
		}
		break;
	case DDP_OP_UNIT_LIST:
		dec_unit_list(c, r);
		break;
	case DDP_OP_CLOSE:
		if (r->u.close.digest_len > DDP_MAX_DIGEST)
			c->bad = 1;
		else
			ddp_get_bytes(c, r->u.close.digest, r->u.close.digest_len);
		break;
	case DDP_OP_READ:
		if (r->u.read.len > DDP_MAX_IO)
			c->bad = 1;
		r->u.read.data = ddp_cur_take(c, r->u.read.len);
		break;
	case DDP_OP_DSP_QUERY:
		dec_dsp_answer(c, r);
		break;
	case DDP_OP_STAT:
		if (r->u.stat.type != DDP_TYPE_FILE && r->u.stat.type != DDP_TYPE_DIR)
			c->bad = 1;
		break;
	case DDP_OP_READDIR:
		dec_readdir(c, r);
		break;
	default:
		break;
	}
}

int ddp_resp_decode(uint8_t op, const uint8_t *p, size_t n, ddp_resp *out)
{
	ddp_cur c;
	spec sp;

	memset(out, 0, sizeof(*out));
	out->op = op;
	ddp_cur_init(&c, p, n);
	out->status = ddp_get_u16(&c);
	if (out->status != DDP_S_OK) {
		out->message = ddp_get_str(&c, DDP_MAX_MESSAGE);
	} else if (!resp_spec(op, &sp)) {
		return DD_ENOTSUP;
	} else {
		dec_fields(&c, out, sp);
		dec_resp_tail(&c, out);
	}
	if (c.bad == 2)
		return DD_ENOMEM;
	return ddp_cur_done(&c) ? DD_OK : DD_EPROTO;
}

void ddp_resp_release(ddp_resp *r)
{
	if (r->status != DDP_S_OK)
		return;
	if (r->op == DDP_OP_UNIT_LIST) {
		free(r->u.unit_list.units);
		r->u.unit_list.units = NULL;
	} else if (r->op == DDP_OP_READDIR) {
		free(r->u.readdir.ents);
		r->u.readdir.ents = NULL;
	}
}

/* ----------------------------------------------------- response encoding */

/* The tail after op's fixed fields. */
static void enc_resp_tail(const ddp_resp *r, dd_buf *b, int *rc)
{
	switch (r->op) {
	case DDP_OP_HELLO:
		if (r->u.hello.features & DDP_FEAT_CHUNKING)
			enc_fields(b, rc, r, SPEC(r_hello_chunking));
		break;
	case DDP_OP_UNIT_LIST:
		for (unsigned i = 0; i < r->u.unit_list.count && *rc == DD_OK; i++) {
			ddp_put_str(b, rc, r->u.unit_list.units[i].name, DDP_MAX_UNIT);
			ddp_put_u64(b, rc, r->u.unit_list.units[i].logical_bytes);
			ddp_put_u64(b, rc, r->u.unit_list.units[i].physical_bytes);
		}
		break;
	case DDP_OP_CLOSE:
		if (r->u.close.digest_len <= DDP_MAX_DIGEST)
			ddp_put(b, rc, r->u.close.digest, r->u.close.digest_len);
		break;
	case DDP_OP_READ:
		ddp_put(b, rc, r->u.read.data, r->u.read.len);
		break;
	case DDP_OP_DSP_QUERY:
		ddp_put(b, rc, r->u.dsp_query.missing, (r->u.dsp_query.count + 7u) / 8);
		break;
	case DDP_OP_READDIR:
		for (unsigned i = 0; i < r->u.readdir.count && *rc == DD_OK; i++) {
			const ddp_dirent *e = &r->u.readdir.ents[i];
			ddp_put_u8(b, rc, e->type);
			ddp_put_str(b, rc, e->name, DDP_MAX_KEY);
			ddp_put_u64(b, rc, e->size);
			ddp_put_u64(b, rc, e->mtime_ns);
		}
		break;
	default:
		break;
	}
}

int ddp_resp_encode(const ddp_resp *r, uint32_t req_id, dd_buf *out)
{
	size_t start;
	ddp_resp check;
	spec sp;
	int rc;

	if (r->status != DDP_S_OK) {
		char msg[DDP_MAX_MESSAGE + 1];
		size_t n = DD_MIN(r->message.len, (size_t)DDP_MAX_MESSAGE);
		if (n)
			memcpy(msg, r->message.p, n);
		msg[n] = '\0';
		return ddp_err_encode(r->op, req_id, r->status, msg, out);
	}
	if (!resp_spec(r->op, &sp))
		return DD_EINVAL;
	if ((rc = ddp_frame_begin(out, r->op, DDP_F_RESPONSE, req_id, &start)) != DD_OK)
		return rc;
	ddp_put_u16(out, &rc, DDP_S_OK);
	enc_fields(out, &rc, r, sp);
	enc_resp_tail(r, out, &rc);
	if (rc == DD_OK) {
		const uint8_t *pl = (const uint8_t *)out->data + start + DDP_HDR_LEN;
		rc = ddp_resp_decode(r->op, pl, out->len - start - DDP_HDR_LEN, &check);
		ddp_resp_release(&check);
		if (rc == DD_EPROTO || rc == DD_ENOTSUP)
			rc = DD_EINVAL;
	}
	return ddp_frame_end(out, start, rc);
}

int ddp_err_encode(uint8_t op, uint32_t req_id, uint16_t status,
		   const char *msg, dd_buf *out)
{
	dd_str m = msg ? dd_str_c(msg) : DD_STR_LIT("");
	size_t start;
	int rc;

	if (status == DDP_S_OK)
		return DD_EINVAL;
	if (m.len > DDP_MAX_MESSAGE)
		m.len = DDP_MAX_MESSAGE;
	if ((rc = ddp_frame_begin(out, op, DDP_F_RESPONSE, req_id, &start)) != DD_OK)
		return rc;
	ddp_put_u16(out, &rc, status);
	ddp_put_str(out, &rc, m, DDP_MAX_MESSAGE);
	return ddp_frame_end(out, start, rc);
}
