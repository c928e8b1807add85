/* ddproto/frame.c - DDP frame header codec, incremental reader, writer. */
#include "ddproto/ddp.h"
#include "ddproto/wire.h"

#include <string.h>

void ddp_hdr_encode(const ddp_hdr *h, uint8_t out[DDP_HDR_LEN])
{
	out[0] = h->version;
	out[1] = h->op;
	ddp_be16(out + 2, h->flags);
	ddp_be32(out + 4, h->req_id);
	ddp_be32(out + 8, h->len);
}

int ddp_hdr_decode(const uint8_t p[DDP_HDR_LEN], uint32_t max_payload,
		   ddp_hdr *out)
{
	ddp_cur c;

	ddp_cur_init(&c, p, DDP_HDR_LEN);
	out->version = ddp_get_u8(&c);
	out->op = ddp_get_u8(&c);
	out->flags = ddp_get_u16(&c);
	out->req_id = ddp_get_u32(&c);
	out->len = ddp_get_u32(&c);
	if (out->version != DDP_VERSION || (out->flags & ~DDP_F_KNOWN))
		return DD_EPROTO;
	if (out->len > max_payload)
		return DD_ETOOBIG;
	return DD_OK;
}

void ddp_reader_init(ddp_reader *r, uint32_t max_payload)
{
	if (max_payload > DDP_MAX_PAYLOAD)
		max_payload = DDP_MAX_PAYLOAD;
	dd_buf_init(&r->buf, DDP_HDR_LEN + (size_t)max_payload);
	r->max_payload = max_payload;
	r->have_hdr = 0;
	r->ready = 0;
	r->err = DD_OK;
	memset(&r->hdr, 0, sizeof(r->hdr));
}

void ddp_reader_release(ddp_reader *r)
{
	dd_buf_release(&r->buf);
	r->have_hdr = 0;
	r->ready = 0;
}

/* Drops a frame already handed out by ddp_reader_next (ready == 2). */
static void reader_drop_handed(ddp_reader *r)
{
	if (r->ready != 2)
		return;
	dd_buf_reset(&r->buf);
	r->have_hdr = 0;
	r->ready = 0;
}

int ddp_reader_feed(ddp_reader *r, const void *p, size_t n, size_t *used)
{
	const uint8_t *in = p;
	size_t want, take;
	int rc;

	*used = 0;
	if (r->err != DD_OK)
		return r->err;
	reader_drop_handed(r);
	while (*used < n && !r->ready) {
		want = r->have_hdr ? DDP_HDR_LEN + (size_t)r->hdr.len : DDP_HDR_LEN;
		take = DD_MIN(want - r->buf.len, n - *used);
		if ((rc = dd_buf_append(&r->buf, in + *used, take)) != DD_OK)
			return r->err = rc;
		*used += take;
		if (r->buf.len < want)
			break;
		if (!r->have_hdr) {
			rc = ddp_hdr_decode((const uint8_t *)r->buf.data,
					    r->max_payload, &r->hdr);
			if (rc != DD_OK)
				return r->err = rc;
			r->have_hdr = 1;
			if (r->hdr.len == 0)
				r->ready = 1;
		} else {
			r->ready = 1;
		}
	}
	return DD_OK;
}

int ddp_reader_next(ddp_reader *r, ddp_frame *f)
{
	if (r->err != DD_OK)
		return r->err;
	if (r->ready != 1) {
		reader_drop_handed(r);
		return DD_EAGAIN;
	}
	f->hdr = r->hdr;
	f->payload = (const uint8_t *)r->buf.data + DDP_HDR_LEN;
	r->ready = 2;
	return DD_OK;
}

int ddp_frame_begin(dd_buf *out, uint8_t op, uint16_t flags, uint32_t req_id,
		    size_t *start)
{
	uint8_t h[DDP_HDR_LEN];
	ddp_hdr hdr = {DDP_VERSION, op, flags, req_id, 0};

	*start = out->len;
	ddp_hdr_encode(&hdr, h);
	return dd_buf_append(out, h, sizeof(h));
}

int ddp_frame_end(dd_buf *out, size_t start, int rc)
{
	size_t plen = out->len - start - DDP_HDR_LEN;

	if (rc == DD_OK && plen > DDP_MAX_PAYLOAD)
		rc = DD_ETOOBIG;
	if (rc != DD_OK) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return rc;
	}
	ddp_be32((uint8_t *)out->data + start + 8, (uint32_t)plen);
	return DD_OK;
}

int ddp_frame_write(dd_buf *out, uint8_t op, uint16_t flags, uint32_t req_id,
		    const void *payload, size_t len)
{
	size_t start;
	int rc;

	if (len > DDP_MAX_PAYLOAD)
		return DD_ETOOBIG;
	if ((rc = ddp_frame_begin(out, op, flags, req_id, &start)) != DD_OK)
		return rc;
	rc = dd_buf_append(out, payload, len);
	return ddp_frame_end(out, start, rc);
}
