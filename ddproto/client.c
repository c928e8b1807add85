/*
 * ddproto/client.c - the sans-I/O DDP client (docs/DDP.md sections 3 and
 * 5): handshake with mutual proof, request ids, the server's window, and
 * matching responses to requests. libddp adds the socket.
 */
#include "ddproto/ddp.h"
#include "ddproto/wire.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

typedef struct ddp_pending {
	uint32_t id;
	uint8_t op;
	uint32_t len;
} ddp_pending;

struct ddp_client {
	int state;
	int err; /* why FAILED */
	uint8_t key[DDP_MAC_LEN];
	char ak[DDP_MAX_ACCESS_KEY + 1];
	size_t ak_len;
	uint8_t snonce[DDP_NONCE_LEN], cnonce[DDP_NONCE_LEN];
	ddp_server_params params;
	ddp_reader rd;
	dd_buf out;
	uint32_t next_id;
	ddp_pending *pend;
	size_t npend, cap;
	uint64_t pend_bytes;
};

/* Records an in-flight request. DD_ENOMEM. */
static int pend_add(ddp_client *c, uint32_t id, uint8_t op, uint32_t len)
{
	if (c->npend == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		ddp_pending *p = realloc(c->pend, cap * sizeof(*p));
		if (!p)
			return DD_ENOMEM;
		c->pend = p;
		c->cap = cap;
	}
	c->pend[c->npend++] = (ddp_pending){id, op, len};
	c->pend_bytes += len;
	return DD_OK;
}

/* Removes the request with id; returns 1 and its op, or 0 if unknown. */
static int pend_take(ddp_client *c, uint32_t id, uint8_t *op)
{
	for (size_t i = 0; i < c->npend; i++) {
		if (c->pend[i].id != id)
			continue;
		*op = c->pend[i].op;
		c->pend_bytes -= c->pend[i].len;
		c->pend[i] = c->pend[--c->npend];
		return 1;
	}
	return 0;
}

/* Encodes q with a new id into out and records it (no window check). */
static int queue_req(ddp_client *c, const ddp_req *q, uint32_t *req_id)
{
	size_t before = c->out.len;
	uint32_t id = c->next_id++;
	int rc;

	if ((rc = ddp_req_encode(q, id, &c->out)) != DD_OK)
		return rc;
	if ((rc = pend_add(c, id, q->op, (uint32_t)(c->out.len - before - DDP_HDR_LEN))) != DD_OK) {
		c->out.len = before;
		return rc;
	}
	if (req_id)
		*req_id = id;
	return DD_OK;
}

ddp_client *ddp_client_new(dd_str access_key, const void *secret,
			   size_t secret_len, dd_str agent)
{
	ddp_client *c;
	ddp_req q;

	if (access_key.len == 0 || access_key.len > DDP_MAX_ACCESS_KEY ||
	    agent.len > DDP_MAX_AGENT)
		return NULL;
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	memcpy(c->ak, access_key.p, access_key.len);
	c->ak_len = access_key.len;
	c->next_id = 1;
	ddp_reader_init(&c->rd, DDP_MAX_PAYLOAD);
	/* bounded by the server's window once READY (see ddp_client_send) */
	dd_buf_init(&c->out, (size_t)1 << 33);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_HELLO;
	q.u.hello.ver_min = q.u.hello.ver_max = DDP_VERSION;
	q.u.hello.features = DDP_FEAT_ZSTD | DDP_FEAT_CHUNKING;
	q.u.hello.agent = agent;
	if (ddp_auth_key(secret, secret_len, c->key) != DD_OK ||
	    queue_req(c, &q, NULL) != DD_OK) {
		ddp_client_free(c);
		return NULL;
	}
	return c;
}

void ddp_client_free(ddp_client *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c->key, sizeof(c->key));
	ddp_reader_release(&c->rd);
	dd_buf_release(&c->out);
	free(c->pend);
	free(c);
}

int ddp_client_state(const ddp_client *c)
{
	return c->state;
}

const ddp_server_params *ddp_client_params(const ddp_client *c)
{
	return &c->params;
}

const uint8_t *ddp_client_output(ddp_client *c, size_t *n)
{
	*n = c->out.len;
	return (const uint8_t *)c->out.data;
}

void ddp_client_output_consume(ddp_client *c, size_t n)
{
	dd_buf_consume(&c->out, DD_MIN(n, c->out.len));
}

unsigned ddp_client_inflight(const ddp_client *c)
{
	return (unsigned)c->npend;
}

int ddp_client_send(ddp_client *c, const ddp_req *q, uint32_t *req_id)
{
	size_t before = c->out.len, len;
	uint32_t id;
	uint8_t op;
	int rc;

	if (c->state != DDP_CL_READY || q->op == DDP_OP_HELLO || q->op == DDP_OP_AUTH)
		return DD_EINVAL;
	if (c->npend >= c->params.window_reqs)
		return DD_EAGAIN;
	if ((rc = queue_req(c, q, &id)) != DD_OK)
		return rc;
	len = c->out.len - before - DDP_HDR_LEN;
	if (len > c->params.max_payload || c->pend_bytes > c->params.window_bytes) {
		(void)pend_take(c, id, &op);
		c->out.len = before;
		c->next_id--;
		return len > c->params.max_payload ? DD_ETOOBIG : DD_EAGAIN;
	}
	*req_id = id;
	return DD_OK;
}

static int fail(ddp_client *c, int rc)
{
	c->state = DDP_CL_FAILED;
	c->err = rc;
	return rc;
}

/* HELLO answered: keep the limits, send AUTH with our proof. */
static int on_hello(ddp_client *c, const ddp_resp *r)
{
	ddp_req q;
	ddp_server_params *p = &c->params;

	if (r->status != DDP_S_OK || r->u.hello.version != DDP_VERSION)
		return fail(c, DD_EPROTO);
	p->version = r->u.hello.version;
	p->features = r->u.hello.features;
	p->max_payload = DD_MIN(r->u.hello.max_payload, DDP_MAX_PAYLOAD);
	p->max_io = DD_MIN(r->u.hello.max_io, DDP_MAX_IO);
	p->window_reqs = r->u.hello.window_reqs;
	p->window_bytes = r->u.hello.window_bytes;
	p->dsp_max_batch = DD_MIN(r->u.hello.dsp_max_batch, DDP_DSP_MAX_BATCH);
	p->max_segment = DD_MIN(r->u.hello.max_segment, DDP_MAX_SEGMENT);
	p->resume_ttl_s = r->u.hello.resume_ttl_s;
	if (r->u.hello.features & DDP_FEAT_CHUNKING) {
		/* decoded: 1..DDP_MAX_CHUNKER bytes; values are the caller's to
		 * judge (seg_chunk_params_check) */
		memcpy(p->chunker, r->u.hello.chunker.p, r->u.hello.chunker.len);
		p->chunker[r->u.hello.chunker.len] = '\0';
		p->chunk_min = r->u.hello.chunk_min;
		p->chunk_avg = r->u.hello.chunk_avg;
		p->chunk_max = r->u.hello.chunk_max;
	}
	if (p->window_reqs == 0 || p->window_bytes < p->max_payload || p->max_io == 0 ||
	    p->dsp_max_batch == 0 || p->max_segment == 0)
		return fail(c, DD_EPROTO);
	memcpy(c->snonce, r->u.hello.snonce, DDP_NONCE_LEN);
	memset(&q, 0, sizeof(q));
	q.op = DDP_OP_AUTH;
	q.u.auth.access_key = (dd_str){c->ak, c->ak_len};
	if (dd_random_bytes(c->cnonce, DDP_NONCE_LEN) != DD_OK)
		return fail(c, DD_EINTERNAL);
	memcpy(q.u.auth.cnonce, c->cnonce, DDP_NONCE_LEN);
	if (ddp_auth_proof(c->key, 0, c->snonce, c->cnonce, q.u.auth.access_key,
			   q.u.auth.proof) != DD_OK ||
	    queue_req(c, &q, NULL) != DD_OK)
		return fail(c, DD_EINTERNAL);
	c->state = DDP_CL_AUTH;
	return DD_OK;
}

/* AUTH answered: the server must prove it knows the secret too. */
static int on_auth(ddp_client *c, const ddp_resp *r)
{
	uint8_t want[DDP_MAC_LEN];

	if (r->status != DDP_S_OK)
		return fail(c, r->status == DDP_S_EAUTH ? DD_EAUTH : DD_EPROTO);
	if (ddp_auth_proof(c->key, 1, c->snonce, c->cnonce, (dd_str){c->ak, c->ak_len},
			   want) != DD_OK)
		return fail(c, DD_EINTERNAL);
	if (!ddp_ct_equal(want, r->u.auth.proof, DDP_MAC_LEN))
		return fail(c, DD_EAUTH);
	c->state = DDP_CL_READY;
	return DD_OK;
}

/* One whole frame from the server: 1 = an answer for the caller in *r. */
static int on_frame(ddp_client *c, const ddp_frame *f, ddp_resp *r, int *ready)
{
	uint8_t op;
	int rc;

	*ready = 0;
	if (!(f->hdr.flags & DDP_F_RESPONSE) || !pend_take(c, f->hdr.req_id, &op) ||
	    op != f->hdr.op)
		return fail(c, DD_EPROTO);
	if ((rc = ddp_resp_decode(op, f->payload, f->hdr.len, r)) != DD_OK) {
		ddp_resp_release(r);
		return fail(c, rc == DD_ENOMEM ? DD_ENOMEM : DD_EPROTO);
	}
	if (op == DDP_OP_HELLO || op == DDP_OP_AUTH) {
		rc = op == DDP_OP_HELLO ? on_hello(c, r) : on_auth(c, r);
		ddp_resp_release(r);
		return rc;
	}
	*ready = 1;
	return DD_OK;
}

int ddp_client_read(ddp_client *c, const void *p, size_t n, size_t *used,
		    ddp_resp *r, uint32_t *req_id)
{
	const uint8_t *in = p;
	ddp_frame f;
	size_t u;
	int rc, ready;

	*used = 0;
	memset(r, 0, sizeof(*r));
	for (;;) {
		if (c->state == DDP_CL_FAILED)
			return c->err;
		rc = ddp_reader_next(&c->rd, &f);
		if (rc == DD_OK) {
			if ((rc = on_frame(c, &f, r, &ready)) != DD_OK)
				return rc;
			if (ready) {
				*req_id = f.hdr.req_id;
				return DD_OK;
			}
			continue;
		}
		if (rc != DD_EAGAIN)
			return fail(c, DD_EPROTO);
		if (*used == n)
			return DD_EAGAIN;
		if ((rc = ddp_reader_feed(&c->rd, in + *used, n - *used, &u)) != DD_OK)
			return fail(c, rc == DD_ENOMEM ? DD_ENOMEM : DD_EPROTO);
		*used += u;
	}
}
