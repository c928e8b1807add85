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

#include <stdlib.h>
#include <string.h>

static const uint8_t hello_magic[4] = {'D', 'D', 'P', '1'};

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

static void dec_dsp_query(ddp_cur *c, ddp_req *r)
{
	r->u.dsp_query.handle = ddp_get_u32(c);
	r->u.dsp_query.offset = ddp_get_u64(c);
	r->u.dsp_query.count = ddp_get_u16(c);
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
	r->u.dsp_put.handle = ddp_get_u32(c);
	r->u.dsp_put.count = ddp_get_u16(c);
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
	r->u.synth.unit = ddp_get_str(c, DDP_MAX_UNIT);
	r->u.synth.path = ddp_get_str(c, DDP_MAX_KEY);
	r->u.synth.flags = ddp_get_u32(c);
	r->u.synth.count = ddp_get_u16(c);
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
	switch (r->op) {
	case DDP_OP_HELLO: {
		const uint8_t *m = ddp_cur_take(c, 4);
		if (m && memcmp(m, hello_magic, 4) != 0)
			c->bad = 1;
		r->u.hello.ver_min = ddp_get_u16(c);
		r->u.hello.ver_max = ddp_get_u16(c);
		r->u.hello.features = ddp_get_u32(c);
		r->u.hello.agent = ddp_get_str(c, DDP_MAX_AGENT);
		break;
	}
	case DDP_OP_AUTH:
		r->u.auth.access_key = ddp_get_str(c, DDP_MAX_ACCESS_KEY);
		ddp_get_bytes(c, r->u.auth.cnonce, DDP_NONCE_LEN);
		ddp_get_bytes(c, r->u.auth.proof, DDP_MAC_LEN);
		break;
	case DDP_OP_PING:
		r->u.ping.cookie = ddp_get_u64(c);
		break;
	case DDP_OP_BYE:
		break;
	case DDP_OP_UNIT_LIST:
		r->u.unit_list.start_after = ddp_get_str(c, DDP_MAX_UNIT);
		r->u.unit_list.limit = ddp_get_u16(c);
		break;
	case DDP_OP_UNIT_STAT:
	case DDP_OP_UNIT_CREATE:
		r->u.unit_stat.unit = ddp_get_str(c, DDP_MAX_UNIT);
		break;
	case DDP_OP_OPEN:
		r->u.open.unit = ddp_get_str(c, DDP_MAX_UNIT);
		r->u.open.path = ddp_get_str(c, DDP_MAX_KEY);
		r->u.open.flags = ddp_get_u32(c);
		ddp_get_bytes(c, r->u.open.token, DDP_TOKEN_LEN);
		break;
	case DDP_OP_CLOSE:
		r->u.close.handle = ddp_get_u32(c);
		r->u.close.flags = ddp_get_u8(c);
		break;
	case DDP_OP_WRITE:
		r->u.write.handle = ddp_get_u32(c);
		r->u.write.offset = ddp_get_u64(c);
		r->u.write.len = ddp_get_u32(c);
		if (r->u.write.len > DDP_MAX_IO)
			c->bad = 1;
		r->u.write.data = ddp_cur_take(c, r->u.write.len);
		break;
	case DDP_OP_READ:
		r->u.read.handle = ddp_get_u32(c);
		r->u.read.offset = ddp_get_u64(c);
		r->u.read.len = ddp_get_u32(c);
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
	case DDP_OP_STAT:
	case DDP_OP_UNLINK:
		r->u.stat.unit = ddp_get_str(c, DDP_MAX_UNIT);
		r->u.stat.path = ddp_get_str(c, DDP_MAX_KEY);
		break;
	case DDP_OP_READDIR:
		r->u.readdir.unit = ddp_get_str(c, DDP_MAX_UNIT);
		r->u.readdir.prefix = ddp_get_str(c, DDP_MAX_KEY);
		r->u.readdir.start_after = ddp_get_str(c, DDP_MAX_KEY);
		r->u.readdir.limit = ddp_get_u16(c);
		break;
	case DDP_OP_RENAME:
	case DDP_OP_FASTCOPY:
		r->u.rename.unit = ddp_get_str(c, DDP_MAX_UNIT);
		r->u.rename.from = ddp_get_str(c, DDP_MAX_KEY);
		r->u.rename.to = ddp_get_str(c, DDP_MAX_KEY);
		r->u.rename.flags = ddp_get_u32(c);
		break;
	default:
		return DD_ENOTSUP;
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

static void enc_req_body(const ddp_req *r, dd_buf *b, int *rc)
{
	switch (r->op) {
	case DDP_OP_HELLO:
		ddp_put(b, rc, hello_magic, 4);
		ddp_put_u16(b, rc, r->u.hello.ver_min);
		ddp_put_u16(b, rc, r->u.hello.ver_max);
		ddp_put_u32(b, rc, r->u.hello.features);
		ddp_put_str(b, rc, r->u.hello.agent, DDP_MAX_AGENT);
		break;
	case DDP_OP_AUTH:
		ddp_put_str(b, rc, r->u.auth.access_key, DDP_MAX_ACCESS_KEY);
		ddp_put(b, rc, r->u.auth.cnonce, DDP_NONCE_LEN);
		ddp_put(b, rc, r->u.auth.proof, DDP_MAC_LEN);
		break;
	case DDP_OP_PING:
		ddp_put_u64(b, rc, r->u.ping.cookie);
		break;
	case DDP_OP_BYE:
		break;
	case DDP_OP_UNIT_LIST:
		ddp_put_str(b, rc, r->u.unit_list.start_after, DDP_MAX_UNIT);
		ddp_put_u16(b, rc, r->u.unit_list.limit);
		break;
	case DDP_OP_UNIT_STAT:
	case DDP_OP_UNIT_CREATE:
		ddp_put_str(b, rc, r->u.unit_stat.unit, DDP_MAX_UNIT);
		break;
	case DDP_OP_OPEN:
		ddp_put_str(b, rc, r->u.open.unit, DDP_MAX_UNIT);
		ddp_put_str(b, rc, r->u.open.path, DDP_MAX_KEY);
		ddp_put_u32(b, rc, r->u.open.flags);
		ddp_put(b, rc, r->u.open.token, DDP_TOKEN_LEN);
		break;
	case DDP_OP_CLOSE:
		ddp_put_u32(b, rc, r->u.close.handle);
		ddp_put_u8(b, rc, r->u.close.flags);
		break;
	case DDP_OP_WRITE:
		ddp_put_u32(b, rc, r->u.write.handle);
		ddp_put_u64(b, rc, r->u.write.offset);
		ddp_put_u32(b, rc, r->u.write.len);
		ddp_put(b, rc, r->u.write.data, r->u.write.len);
		break;
	case DDP_OP_READ:
		ddp_put_u32(b, rc, r->u.read.handle);
		ddp_put_u64(b, rc, r->u.read.offset);
		ddp_put_u32(b, rc, r->u.read.len);
		break;
	case DDP_OP_DSP_QUERY:
		ddp_put_u32(b, rc, r->u.dsp_query.handle);
		ddp_put_u64(b, rc, r->u.dsp_query.offset);
		ddp_put_u16(b, rc, r->u.dsp_query.count);
		for (unsigned i = 0; i < r->u.dsp_query.count && *rc == DD_OK; i++) {
			ddp_put(b, rc, r->u.dsp_query.refs[i].fp, DDP_FP_LEN);
			ddp_put_u32(b, rc, r->u.dsp_query.refs[i].len);
		}
		break;
	case DDP_OP_DSP_PUT:
		ddp_put_u32(b, rc, r->u.dsp_put.handle);
		ddp_put_u16(b, rc, r->u.dsp_put.count);
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
		ddp_put_str(b, rc, r->u.synth.unit, DDP_MAX_UNIT);
		ddp_put_str(b, rc, r->u.synth.path, DDP_MAX_KEY);
		ddp_put_u32(b, rc, r->u.synth.flags);
		ddp_put_u16(b, rc, r->u.synth.count);
		for (unsigned i = 0; i < r->u.synth.count && *rc == DD_OK; i++) {
			const ddp_extent *e = &r->u.synth.exts[i];
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
		break;
	case DDP_OP_STAT:
	case DDP_OP_UNLINK:
		ddp_put_str(b, rc, r->u.stat.unit, DDP_MAX_UNIT);
		ddp_put_str(b, rc, r->u.stat.path, DDP_MAX_KEY);
		break;
	case DDP_OP_READDIR:
		ddp_put_str(b, rc, r->u.readdir.unit, DDP_MAX_UNIT);
		ddp_put_str(b, rc, r->u.readdir.prefix, DDP_MAX_KEY);
		ddp_put_str(b, rc, r->u.readdir.start_after, DDP_MAX_KEY);
		ddp_put_u16(b, rc, r->u.readdir.limit);
		break;
	case DDP_OP_RENAME:
	case DDP_OP_FASTCOPY:
		ddp_put_str(b, rc, r->u.rename.unit, DDP_MAX_UNIT);
		ddp_put_str(b, rc, r->u.rename.from, DDP_MAX_KEY);
		ddp_put_str(b, rc, r->u.rename.to, DDP_MAX_KEY);
		ddp_put_u32(b, rc, r->u.rename.flags);
		break;
	default:
		*rc = DD_EINVAL;
		break;
	}
}

int ddp_req_encode(const ddp_req *r, uint32_t req_id, dd_buf *out)
{
	size_t start;
	ddp_req check;
	int rc;

	if ((rc = ddp_frame_begin(out, r->op, 0, req_id, &start)) != DD_OK)
		return rc;
	enc_req_body(r, out, &rc);
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

static void dec_unit_list(ddp_cur *c, ddp_resp *r)
{
	r->u.unit_list.count = ddp_get_u16(c);
	r->u.unit_list.more = ddp_get_u8(c);
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
	r->u.readdir.count = ddp_get_u16(c);
	r->u.readdir.more = ddp_get_u8(c);
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
	unsigned n, bytes;

	r->u.dsp_query.length = ddp_get_u64(c);
	n = r->u.dsp_query.count = ddp_get_u16(c);
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

static void dec_resp_ok(ddp_cur *c, ddp_resp *r)
{
	switch (r->op) {
	case DDP_OP_HELLO:
		r->u.hello.version = ddp_get_u16(c);
		r->u.hello.features = ddp_get_u32(c);
		ddp_get_bytes(c, r->u.hello.snonce, DDP_NONCE_LEN);
		r->u.hello.max_payload = ddp_get_u32(c);
		r->u.hello.max_io = ddp_get_u32(c);
		r->u.hello.window_reqs = ddp_get_u16(c);
		r->u.hello.window_bytes = ddp_get_u32(c);
		r->u.hello.dsp_max_batch = ddp_get_u16(c);
		r->u.hello.max_segment = ddp_get_u32(c);
		r->u.hello.resume_ttl_s = ddp_get_u32(c);
		if (r->u.hello.features & DDP_FEAT_CHUNKING) {
			r->u.hello.chunker = ddp_get_str(c, DDP_MAX_CHUNKER);
			if (!r->u.hello.chunker.len)
				c->bad = 1;
			r->u.hello.chunk_min = ddp_get_u32(c);
			r->u.hello.chunk_avg = ddp_get_u32(c);
			r->u.hello.chunk_max = ddp_get_u32(c);
		}
		break;
	case DDP_OP_AUTH:
		ddp_get_bytes(c, r->u.auth.proof, DDP_MAC_LEN);
		break;
	case DDP_OP_PING:
		r->u.ping.cookie = ddp_get_u64(c);
		break;
	case DDP_OP_BYE:
	case DDP_OP_RENAME:
	case DDP_OP_UNLINK:
	case DDP_OP_UNIT_CREATE:
		break;
	case DDP_OP_UNIT_LIST:
		dec_unit_list(c, r);
		break;
	case DDP_OP_UNIT_STAT:
		r->u.unit_stat.logical_bytes = ddp_get_u64(c);
		r->u.unit_stat.physical_bytes = ddp_get_u64(c);
		r->u.unit_stat.files = ddp_get_u64(c);
		r->u.unit_stat.quota_soft = ddp_get_u64(c);
		r->u.unit_stat.quota_hard = ddp_get_u64(c);
		r->u.unit_stat.streams = ddp_get_u32(c);
		r->u.unit_stat.stream_limit = ddp_get_u32(c);
		break;
	case DDP_OP_OPEN:
		r->u.open.handle = ddp_get_u32(c);
		r->u.open.size = ddp_get_u64(c);
		ddp_get_bytes(c, r->u.open.token, DDP_TOKEN_LEN);
		break;
	case DDP_OP_CLOSE:
		r->u.close.size = ddp_get_u64(c);
		r->u.close.digest_len = ddp_get_u8(c);
		if (r->u.close.digest_len > DDP_MAX_DIGEST)
			c->bad = 1;
		else
			ddp_get_bytes(c, r->u.close.digest, r->u.close.digest_len);
		break;
	case DDP_OP_WRITE:
	case DDP_OP_SYNTHESIZE:
	case DDP_OP_FASTCOPY:
		r->u.length.length = ddp_get_u64(c);
		break;
	case DDP_OP_READ:
		r->u.read.len = ddp_get_u32(c);
		if (r->u.read.len > DDP_MAX_IO)
			c->bad = 1;
		r->u.read.data = ddp_cur_take(c, r->u.read.len);
		break;
	case DDP_OP_DSP_QUERY:
		dec_dsp_answer(c, r);
		break;
	case DDP_OP_DSP_PUT:
		r->u.dsp_put.count = ddp_get_u16(c);
		break;
	case DDP_OP_STAT:
		r->u.stat.type = ddp_get_u8(c);
		r->u.stat.size = ddp_get_u64(c);
		r->u.stat.mtime_ns = ddp_get_u64(c);
		if (r->u.stat.type != DDP_TYPE_FILE && r->u.stat.type != DDP_TYPE_DIR)
			c->bad = 1;
		break;
	case DDP_OP_READDIR:
		dec_readdir(c, r);
		break;
	default:
		c->bad = 3;
		break;
	}
}

int ddp_resp_decode(uint8_t op, const uint8_t *p, size_t n, ddp_resp *out)
{
	ddp_cur c;

	memset(out, 0, sizeof(*out));
	out->op = op;
	ddp_cur_init(&c, p, n);
	out->status = ddp_get_u16(&c);
	if (out->status != DDP_S_OK)
		out->message = ddp_get_str(&c, DDP_MAX_MESSAGE);
	else
		dec_resp_ok(&c, out);
	if (c.bad == 2)
		return DD_ENOMEM;
	if (c.bad == 3)
		return DD_ENOTSUP;
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

static void enc_resp_ok(const ddp_resp *r, dd_buf *b, int *rc)
{
	switch (r->op) {
	case DDP_OP_HELLO:
		ddp_put_u16(b, rc, r->u.hello.version);
		ddp_put_u32(b, rc, r->u.hello.features);
		ddp_put(b, rc, r->u.hello.snonce, DDP_NONCE_LEN);
		ddp_put_u32(b, rc, r->u.hello.max_payload);
		ddp_put_u32(b, rc, r->u.hello.max_io);
		ddp_put_u16(b, rc, r->u.hello.window_reqs);
		ddp_put_u32(b, rc, r->u.hello.window_bytes);
		ddp_put_u16(b, rc, r->u.hello.dsp_max_batch);
		ddp_put_u32(b, rc, r->u.hello.max_segment);
		ddp_put_u32(b, rc, r->u.hello.resume_ttl_s);
		if (r->u.hello.features & DDP_FEAT_CHUNKING) {
			ddp_put_str(b, rc, r->u.hello.chunker, DDP_MAX_CHUNKER);
			ddp_put_u32(b, rc, r->u.hello.chunk_min);
			ddp_put_u32(b, rc, r->u.hello.chunk_avg);
			ddp_put_u32(b, rc, r->u.hello.chunk_max);
		}
		break;
	case DDP_OP_AUTH:
		ddp_put(b, rc, r->u.auth.proof, DDP_MAC_LEN);
		break;
	case DDP_OP_PING:
		ddp_put_u64(b, rc, r->u.ping.cookie);
		break;
	case DDP_OP_BYE:
	case DDP_OP_RENAME:
	case DDP_OP_UNLINK:
	case DDP_OP_UNIT_CREATE:
		break;
	case DDP_OP_UNIT_LIST:
		ddp_put_u16(b, rc, r->u.unit_list.count);
		ddp_put_u8(b, rc, r->u.unit_list.more);
		for (unsigned i = 0; i < r->u.unit_list.count && *rc == DD_OK; i++) {
			ddp_put_str(b, rc, r->u.unit_list.units[i].name, DDP_MAX_UNIT);
			ddp_put_u64(b, rc, r->u.unit_list.units[i].logical_bytes);
			ddp_put_u64(b, rc, r->u.unit_list.units[i].physical_bytes);
		}
		break;
	case DDP_OP_UNIT_STAT:
		ddp_put_u64(b, rc, r->u.unit_stat.logical_bytes);
		ddp_put_u64(b, rc, r->u.unit_stat.physical_bytes);
		ddp_put_u64(b, rc, r->u.unit_stat.files);
		ddp_put_u64(b, rc, r->u.unit_stat.quota_soft);
		ddp_put_u64(b, rc, r->u.unit_stat.quota_hard);
		ddp_put_u32(b, rc, r->u.unit_stat.streams);
		ddp_put_u32(b, rc, r->u.unit_stat.stream_limit);
		break;
	case DDP_OP_OPEN:
		ddp_put_u32(b, rc, r->u.open.handle);
		ddp_put_u64(b, rc, r->u.open.size);
		ddp_put(b, rc, r->u.open.token, DDP_TOKEN_LEN);
		break;
	case DDP_OP_CLOSE:
		ddp_put_u64(b, rc, r->u.close.size);
		ddp_put_u8(b, rc, r->u.close.digest_len);
		if (r->u.close.digest_len <= DDP_MAX_DIGEST)
			ddp_put(b, rc, r->u.close.digest, r->u.close.digest_len);
		break;
	case DDP_OP_WRITE:
	case DDP_OP_SYNTHESIZE:
	case DDP_OP_FASTCOPY:
		ddp_put_u64(b, rc, r->u.length.length);
		break;
	case DDP_OP_READ:
		ddp_put_u32(b, rc, r->u.read.len);
		ddp_put(b, rc, r->u.read.data, r->u.read.len);
		break;
	case DDP_OP_DSP_QUERY:
		ddp_put_u64(b, rc, r->u.dsp_query.length);
		ddp_put_u16(b, rc, r->u.dsp_query.count);
		ddp_put(b, rc, r->u.dsp_query.missing, (r->u.dsp_query.count + 7u) / 8);
		break;
	case DDP_OP_DSP_PUT:
		ddp_put_u16(b, rc, r->u.dsp_put.count);
		break;
	case DDP_OP_STAT:
		ddp_put_u8(b, rc, r->u.stat.type);
		ddp_put_u64(b, rc, r->u.stat.size);
		ddp_put_u64(b, rc, r->u.stat.mtime_ns);
		break;
	case DDP_OP_READDIR:
		ddp_put_u16(b, rc, r->u.readdir.count);
		ddp_put_u8(b, rc, r->u.readdir.more);
		for (unsigned i = 0; i < r->u.readdir.count && *rc == DD_OK; i++) {
			const ddp_dirent *e = &r->u.readdir.ents[i];
			ddp_put_u8(b, rc, e->type);
			ddp_put_str(b, rc, e->name, DDP_MAX_KEY);
			ddp_put_u64(b, rc, e->size);
			ddp_put_u64(b, rc, e->mtime_ns);
		}
		break;
	default:
		*rc = DD_EINVAL;
		break;
	}
}

int ddp_resp_encode(const ddp_resp *r, uint32_t req_id, dd_buf *out)
{
	size_t start;
	ddp_resp check;
	int rc;

	if (r->status != DDP_S_OK) {
		char msg[DDP_MAX_MESSAGE + 1];
		size_t n = DD_MIN(r->message.len, (size_t)DDP_MAX_MESSAGE);
		if (n)
			memcpy(msg, r->message.p, n);
		msg[n] = '\0';
		return ddp_err_encode(r->op, req_id, r->status, msg, out);
	}
	if ((rc = ddp_frame_begin(out, r->op, DDP_F_RESPONSE, req_id, &start)) != DD_OK)
		return rc;
	ddp_put_u16(out, &rc, DDP_S_OK);
	enc_resp_ok(r, out, &rc);
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
