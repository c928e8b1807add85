/*
 * ddproto/session.c - the sans-I/O DDP server session (docs/DDP.md
 * sections 3, 5, 6): bytes in, store calls, bytes out.
 *
 * The transport (gateway bufferevents, or a unit test) feeds received bytes
 * with ddp_session_feed, sends what ddp_session_output returns and closes
 * once the state is DDP_ST_CLOSING and the output is drained. Memory per
 * session is bounded: one request frame in the reader, output up to
 * out_high plus one response, one scratch buffer of max_io bytes.
 */
#include "ddproto/ddp.h"
#include "ddproto/wire.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

enum { H_FREE = 0, H_READER, H_WRITER };
enum { M_NONE = 0, M_BYTES, M_DSP };

typedef struct ddp_slot {
	uint32_t id;
	uint8_t kind;
	uint8_t mode;
	uint64_t length; /* writer: logical length so far */
	ddp_store_handle *h;
} ddp_slot;

struct ddp_session {
	const ddp_store_ops *ops;
	void *ctx;
	ddp_session_cfg cfg;
	int state;
	ddp_reader rd;
	dd_buf out;
	uint8_t snonce[DDP_NONCE_LEN];
	char user[DDP_MAX_USER + 1]; /* authenticated user's name */
	size_t user_len;
	uint32_t next_handle;
	uint32_t max_io; /* what one READ/WRITE may carry within max_payload */
	ddp_slot slots[DDP_MAX_HANDLES];
	uint8_t *scratch; /* DDP_MAX_IO bytes, allocated on first use */
	ZSTD_DCtx *zd;
	/* window accounting (docs/DDP.md section 5): a ring of the requests
	 * whose responses are still in out, i.e. that the client cannot have
	 * seen answered yet */
	uint64_t out_sent;  /* output bytes consumed by the transport, ever */
	uint64_t *win_end;  /* stream offset where each response ends */
	uint32_t *win_len;  /* its request's payload length */
	size_t win_head, win_count;
	uint64_t win_bytes;
	const char *errmsg; /* static text for the current error reply */
	int fatal;          /* the current reply ends the session */
};

void ddp_session_cfg_default(ddp_session_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_payload = DDP_MAX_PAYLOAD;
	cfg->window_reqs = DDP_WINDOW_REQS;
	cfg->window_bytes = DDP_WINDOW_BYTES;
	cfg->resume_ttl_s = 600;
	cfg->out_high = 4u << 20;
	cfg->tls = 0;
}

ddp_session *ddp_session_new(const ddp_store_ops *ops, void *ctx,
			     const ddp_session_cfg *cfg)
{
	ddp_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->ctx = ctx;
	if (cfg)
		s->cfg = *cfg;
	else
		ddp_session_cfg_default(&s->cfg);
	if (s->cfg.max_payload > DDP_MAX_PAYLOAD || s->cfg.max_payload < 65536)
		s->cfg.max_payload = DDP_MAX_PAYLOAD;
	if (s->cfg.window_reqs == 0)
		s->cfg.window_reqs = 1;
	if (s->cfg.window_bytes < s->cfg.max_payload)
		s->cfg.window_bytes = s->cfg.max_payload;
	s->win_end = calloc(s->cfg.window_reqs, sizeof(*s->win_end));
	s->win_len = calloc(s->cfg.window_reqs, sizeof(*s->win_len));
	if (!s->win_end || !s->win_len) {
		free(s->win_end);
		free(s->win_len);
		free(s);
		return NULL;
	}
	s->max_io = DD_MIN(DDP_MAX_IO, s->cfg.max_payload - 4096);
	ddp_reader_init(&s->rd, s->cfg.max_payload);
	/* one response past the high-water mark always fits */
	dd_buf_init(&s->out, s->cfg.out_high + DDP_HDR_LEN + DDP_MAX_PAYLOAD);
	s->state = DDP_ST_HELLO;
	return s;
}

static void release_all(ddp_session *s, int detach_writers)
{
	for (size_t i = 0; i < DDP_MAX_HANDLES; i++) {
		ddp_slot *sl = &s->slots[i];
		if (sl->kind == H_FREE)
			continue;
		s->ops->release(s->ctx, sl->h, sl->kind == H_WRITER && detach_writers);
		memset(sl, 0, sizeof(*sl));
	}
}

void ddp_session_free(ddp_session *s)
{
	if (!s)
		return;
	release_all(s, 1);
	ddp_reader_release(&s->rd);
	dd_buf_release(&s->out);
	free(s->scratch);
	free(s->win_end);
	free(s->win_len);
	ZSTD_freeDCtx(s->zd);
	OPENSSL_cleanse(s->snonce, sizeof(s->snonce));
	free(s);
}

int ddp_session_state(const ddp_session *s)
{
	return s->state;
}

void ddp_session_shutdown(ddp_session *s)
{
	s->state = DDP_ST_CLOSING;
}

dd_str ddp_session_user(const ddp_session *s)
{
	dd_str u = {s->user, s->user_len};
	return u;
}

const uint8_t *ddp_session_output(ddp_session *s, size_t *n)
{
	*n = s->out.len;
	return (const uint8_t *)s->out.data;
}

void ddp_session_output_consume(ddp_session *s, size_t n)
{
	n = DD_MIN(n, s->out.len);
	dd_buf_consume(&s->out, n);
	s->out_sent += n;
	while (s->win_count && s->win_end[s->win_head] <= s->out_sent) {
		s->win_bytes -= s->win_len[s->win_head];
		s->win_head = (s->win_head + 1) % s->cfg.window_reqs;
		s->win_count--;
	}
}

/* Returns 1 when one more request of len bytes stays inside the window. */
static int window_admits(const ddp_session *s, uint32_t len)
{
	return s->win_count < s->cfg.window_reqs &&
	       s->win_bytes + len <= s->cfg.window_bytes;
}

/* Remembers a request whose response now ends the output. */
static void window_push(ddp_session *s, uint32_t len)
{
	size_t i = (s->win_head + s->win_count) % s->cfg.window_reqs;

	s->win_end[i] = s->out_sent + s->out.len;
	s->win_len[i] = len;
	s->win_bytes += len;
	s->win_count++;
}

/* ------------------------------------------------------------- helpers */

/* Records why the current request fails; returns the status. */
static uint16_t fail(ddp_session *s, uint16_t st, const char *msg)
{
	s->errmsg = msg;
	return st;
}

static uint16_t fail_rc(ddp_session *s, int rc)
{
	s->errmsg = dd_strerror(rc);
	return ddp_status_from_rc(rc);
}

static ddp_slot *find_slot(ddp_session *s, uint32_t id)
{
	if (id == 0)
		return NULL;
	for (size_t i = 0; i < DDP_MAX_HANDLES; i++)
		if (s->slots[i].kind != H_FREE && s->slots[i].id == id)
			return &s->slots[i];
	return NULL;
}

static ddp_slot *free_slot(ddp_session *s)
{
	for (size_t i = 0; i < DDP_MAX_HANDLES; i++)
		if (s->slots[i].kind == H_FREE)
			return &s->slots[i];
	return NULL;
}

static int need_scratch(ddp_session *s)
{
	if (!s->scratch)
		s->scratch = malloc(DDP_MAX_IO);
	return s->scratch != NULL;
}

/* Looks up a writer handle for a data op; sets the status on failure. */
static ddp_slot *writer_slot(ddp_session *s, uint32_t id, int mode, uint16_t *st)
{
	ddp_slot *sl = find_slot(s, id);

	if (!sl) {
		*st = fail(s, DDP_S_EBADHANDLE, "no such handle");
		return NULL;
	}
	if (sl->kind != H_WRITER) {
		*st = fail(s, DDP_S_EBADSTATE, "handle is not a writer");
		return NULL;
	}
	if (mode != M_NONE && sl->mode != M_NONE && sl->mode != mode) {
		*st = fail(s, DDP_S_EBADSTATE, "WRITE and DSP cannot mix on one handle");
		return NULL;
	}
	return sl;
}

/* ---------------------------------------------------------- handshake */

static uint16_t op_hello(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	int rc;

	if (q->u.hello.ver_min > q->u.hello.ver_max) {
		s->fatal = 1;
		return fail(s, DDP_S_EPROTO, "ver_min > ver_max");
	}
	if (q->u.hello.ver_min > DDP_VERSION || q->u.hello.ver_max < DDP_VERSION) {
		s->fatal = 1;
		return fail(s, DDP_S_EVERSION, "server speaks DDP version 1");
	}
	if ((rc = dd_random_bytes(s->snonce, sizeof(s->snonce))) != DD_OK) {
		s->fatal = 1;
		return fail_rc(s, DD_EINTERNAL);
	}
	r->u.hello.version = DDP_VERSION;
	r->u.hello.features = DDP_FEAT_ZSTD | (s->cfg.tls ? DDP_FEAT_TLS : 0);
	memcpy(r->u.hello.snonce, s->snonce, DDP_NONCE_LEN);
	r->u.hello.max_payload = s->cfg.max_payload;
	r->u.hello.max_io = s->max_io;
	r->u.hello.window_reqs = s->cfg.window_reqs;
	r->u.hello.window_bytes = s->cfg.window_bytes;
	r->u.hello.dsp_max_batch = DDP_DSP_MAX_BATCH;
	r->u.hello.max_segment = DDP_MAX_SEGMENT;
	r->u.hello.resume_ttl_s = s->cfg.resume_ttl_s;
	/* Only a client that asked gets the extension: an older client's
	 * decoder would take the extra bytes for trailing garbage. */
	if ((q->u.hello.features & DDP_FEAT_CHUNKING) && s->cfg.chunk_avg) {
		r->u.hello.features |= DDP_FEAT_CHUNKING;
		r->u.hello.chunker = DD_STR_LIT(DDP_CHUNKER_NAME);
		r->u.hello.chunk_min = s->cfg.chunk_min;
		r->u.hello.chunk_avg = s->cfg.chunk_avg;
		r->u.hello.chunk_max = s->cfg.chunk_max;
	}
	s->state = DDP_ST_AUTH;
	return DDP_S_OK;
}

static int printable_key(dd_str k)
{
	if (k.len == 0)
		return 0;
	for (size_t i = 0; i < k.len; i++)
		if ((unsigned char)k.p[i] < 0x21 || (unsigned char)k.p[i] > 0x7e)
			return 0;
	return 1;
}

static uint16_t op_auth(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	static const uint8_t dummy[40]; /* same work for unknown keys */
	uint8_t secret[256], key[DDP_MAC_LEN], want[DDP_MAC_LEN];
	char user[DDP_MAX_USER + 1] = "";
	size_t slen = sizeof(secret);
	dd_str ak = q->u.auth.access_key;
	int known, ok = 0;

	known = printable_key(ak) &&
		s->ops->auth_secret(s->ctx, ak, secret, &slen, user) == DD_OK &&
		slen <= sizeof(secret) && memchr(user, '\0', sizeof(user)) && user[0];
	if (ddp_auth_key(known ? secret : dummy, known ? slen : sizeof(dummy), key) == DD_OK &&
	    ddp_auth_proof(key, 0, s->snonce, q->u.auth.cnonce, ak, want) == DD_OK)
		ok = ddp_ct_equal(want, q->u.auth.proof, DDP_MAC_LEN);
	if (ok && known)
		ok = ddp_auth_proof(key, 1, s->snonce, q->u.auth.cnonce, ak,
				    r->u.auth.proof) == DD_OK;
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok || !known) {
		/* the access key is public; the proof and secret are never logged */
		if (printable_key(ak))
			dd_log(DD_LOG_INFO, "ddp: authentication failed for access key %.*s",
			       (int)ak.len, ak.p);
		s->fatal = 1;
		return fail(s, DDP_S_EAUTH, "authentication failed");
	}
	s->user_len = strlen(user);
	memcpy(s->user, user, s->user_len + 1);
	s->state = DDP_ST_READY;
	return DDP_S_OK;
}

/* --------------------------------------------------------------- units */

typedef struct list_ctx {
	dd_buf body;
	unsigned limit, count;
	int more, bad;
} list_ctx;

/* 1 when n more bytes fit in the response (else the listing stops with
 * more = 1 and the client continues after the last name). */
static int list_room(const list_ctx *lc, size_t n)
{
	return n <= lc->body.max - lc->body.len;
}

static int emit_unit(void *arg, const ddp_unit_info *u)
{
	list_ctx *lc = arg;
	int rc = DD_OK;

	if (lc->count == lc->limit || !list_room(lc, 2 + u->name.len + 16)) {
		lc->more = 1;
		return DD_ELIMIT;
	}
	if (!ddp_valid_unit(u->name)) {
		lc->bad = 1;
		return DD_EINTERNAL;
	}
	ddp_put_str(&lc->body, &rc, u->name, DDP_MAX_UNIT);
	ddp_put_u64(&lc->body, &rc, u->logical_bytes);
	ddp_put_u64(&lc->body, &rc, u->physical_bytes);
	if (rc != DD_OK) {
		lc->bad = 1;
		return rc;
	}
	lc->count++;
	return DD_OK;
}

static int emit_dirent(void *arg, const ddp_dirent *e)
{
	list_ctx *lc = arg;
	int rc = DD_OK;

	if (lc->count == lc->limit || !list_room(lc, 1 + 2 + e->name.len + 16)) {
		lc->more = 1;
		return DD_ELIMIT;
	}
	if ((e->type != DDP_TYPE_FILE && e->type != DDP_TYPE_DIR) ||
	    e->name.len > DDP_MAX_KEY) {
		lc->bad = 1;
		return DD_EINTERNAL;
	}
	ddp_put_u8(&lc->body, &rc, e->type);
	ddp_put_str(&lc->body, &rc, e->name, DDP_MAX_KEY);
	ddp_put_u64(&lc->body, &rc, e->size);
	ddp_put_u64(&lc->body, &rc, e->mtime_ns);
	if (rc != DD_OK) {
		lc->bad = 1;
		return rc;
	}
	lc->count++;
	return DD_OK;
}

/* Queues an OK list response (UNIT_LIST, READDIR) built from lc. */
static int queue_list(ddp_session *s, uint8_t op, uint32_t req_id, list_ctx *lc)
{
	size_t start;
	int rc;

	if ((rc = ddp_frame_begin(&s->out, op, DDP_F_RESPONSE, req_id, &start)) != DD_OK)
		return rc;
	ddp_put_u16(&s->out, &rc, DDP_S_OK);
	ddp_put_u16(&s->out, &rc, (uint16_t)lc->count);
	ddp_put_u8(&s->out, &rc, (uint8_t)lc->more);
	ddp_put(&s->out, &rc, lc->body.data, lc->body.len);
	return ddp_frame_end(&s->out, start, rc);
}

/* Runs a listing; on success the response is already queued (*queued). */
static uint16_t run_list(ddp_session *s, const ddp_req *q, uint32_t req_id,
			 int *queued)
{
	list_ctx lc;
	dd_str user = ddp_session_user(s);
	int rc;
	unsigned limit = q->op == DDP_OP_UNIT_LIST ? q->u.unit_list.limit
						   : q->u.readdir.limit;

	if (limit < 1 || limit > DDP_MAX_LIST)
		return fail(s, DDP_S_EINVAL, "limit must be 1..1000");
	memset(&lc, 0, sizeof(lc));
	dd_buf_init(&lc.body, s->cfg.max_payload - 64);
	lc.limit = limit;
	if (q->op == DDP_OP_UNIT_LIST) {
		rc = s->ops->unit_list(s->ctx, user, q->u.unit_list.start_after,
				       limit + 1, emit_unit, &lc);
	} else {
		rc = s->ops->readdir(s->ctx, user, q->u.readdir.unit,
				     q->u.readdir.prefix, q->u.readdir.start_after,
				     limit + 1, emit_dirent, &lc);
	}
	if (rc == DD_ELIMIT && lc.more)
		rc = DD_OK;
	if (rc == DD_OK && lc.bad)
		rc = DD_EINTERNAL;
	if (rc == DD_OK && (rc = queue_list(s, q->op, req_id, &lc)) == DD_OK)
		*queued = 1;
	dd_buf_release(&lc.body);
	return rc == DD_OK ? DDP_S_OK : fail_rc(s, rc);
}

static uint16_t op_unit_stat(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	int rc;

	if (!ddp_valid_unit(q->u.unit_stat.unit))
		return fail(s, DDP_S_EINVAL, "bad unit name");
	rc = s->ops->unit_stat(s->ctx, ddp_session_user(s), q->u.unit_stat.unit,
			       &r->u.unit_stat);
	return rc == DD_OK ? DDP_S_OK : fail_rc(s, rc);
}

static uint16_t op_unit_create(ddp_session *s, const ddp_req *q)
{
	int rc;

	if (!s->ops->unit_create)
		return fail(s, DDP_S_ENOTSUP, "this server cannot create units");
	if (!ddp_valid_unit(q->u.unit_stat.unit))
		return fail(s, DDP_S_EINVAL, "bad unit name");
	rc = s->ops->unit_create(s->ctx, ddp_session_user(s), q->u.unit_stat.unit);
	return rc == DD_OK ? DDP_S_OK : fail_rc(s, rc);
}

/* ---------------------------------------------------------- open/close */

static int open_flags_ok(const ddp_req *q)
{
	static const uint8_t zero[DDP_TOKEN_LEN];
	uint32_t f = q->u.open.flags;

	if (f & ~DDP_OPEN_KNOWN)
		return 0;
	if (!!(f & DDP_OPEN_READ) == !!(f & DDP_OPEN_CREATE))
		return 0;
	if ((f & DDP_OPEN_READ) && (f & (DDP_OPEN_EXCL | DDP_OPEN_RESUME)))
		return 0;
	if (!(f & DDP_OPEN_RESUME) && memcmp(q->u.open.token, zero, DDP_TOKEN_LEN))
		return 0;
	return 1;
}

static uint16_t op_open(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	ddp_slot *sl;
	ddp_store_handle *h = NULL;
	uint8_t token[DDP_TOKEN_LEN];
	uint64_t size = 0;
	int rc, reader = !!(q->u.open.flags & DDP_OPEN_READ);

	if (!ddp_valid_unit(q->u.open.unit) || !ddp_valid_path(q->u.open.path))
		return fail(s, DDP_S_EINVAL, "bad unit name or path");
	if (!open_flags_ok(q))
		return fail(s, DDP_S_EINVAL, "bad OPEN flags or token");
	if (!(sl = free_slot(s)))
		return fail(s, DDP_S_ELIMIT, "too many open handles");
	memcpy(token, q->u.open.token, DDP_TOKEN_LEN);
	rc = s->ops->open(s->ctx, ddp_session_user(s), q->u.open.unit,
			  q->u.open.path, q->u.open.flags, token, &h, &size);
	if (rc != DD_OK)
		return fail_rc(s, rc);
	sl->id = ++s->next_handle;
	if (sl->id == 0) /* 2^32 opens in one session: never reuse an id */
		sl->id = ++s->next_handle;
	sl->kind = reader ? H_READER : H_WRITER;
	sl->mode = M_NONE;
	sl->length = reader ? 0 : size;
	sl->h = h;
	r->u.open.handle = sl->id;
	r->u.open.size = size;
	if (!reader)
		memcpy(r->u.open.token, token, DDP_TOKEN_LEN);
	return DDP_S_OK;
}

static uint16_t op_close(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	ddp_slot *sl = find_slot(s, q->u.close.handle);
	ddp_commit_info ci;
	int rc = DD_OK;

	if (!sl)
		return fail(s, DDP_S_EBADHANDLE, "no such handle");
	if ((q->u.close.flags & ~DDP_CLOSE_COMMIT) ||
	    (sl->kind == H_READER && q->u.close.flags))
		return fail(s, DDP_S_EINVAL, "bad CLOSE flags");
	memset(&ci, 0, sizeof(ci));
	if (sl->kind == H_WRITER && (q->u.close.flags & DDP_CLOSE_COMMIT))
		rc = s->ops->commit(s->ctx, sl->h, &ci);
	else
		s->ops->release(s->ctx, sl->h, 0);
	memset(sl, 0, sizeof(*sl));
	if (rc == DD_EINVAL)
		return fail(s, DDP_S_EMISSING, "segments answered missing were never sent");
	if (rc != DD_OK)
		return fail_rc(s, rc);
	if (ci.digest_len > DDP_MAX_DIGEST)
		ci.digest_len = 0;
	r->u.close.size = ci.size;
	r->u.close.digest_len = ci.digest_len;
	memcpy(r->u.close.digest, ci.digest, ci.digest_len);
	return DDP_S_OK;
}

/* ---------------------------------------------------------------- data */

static uint16_t op_write(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	uint16_t st = DDP_S_OK;
	ddp_slot *sl = writer_slot(s, q->u.write.handle, M_BYTES, &st);
	int rc;

	if (!sl)
		return st;
	if (q->u.write.len == 0 || q->u.write.len > s->max_io)
		return fail(s, DDP_S_EINVAL, "WRITE length must be 1..max_io");
	if (q->u.write.offset != sl->length)
		return fail(s, DDP_S_ERANGE, "offset is not the writer's length");
	rc = s->ops->write(s->ctx, sl->h, q->u.write.data, q->u.write.len);
	if (rc != DD_OK)
		return fail_rc(s, rc);
	sl->mode = M_BYTES;
	sl->length += q->u.write.len;
	r->u.length.length = sl->length;
	return DDP_S_OK;
}

static uint16_t op_read(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	ddp_slot *sl = find_slot(s, q->u.read.handle);
	size_t got = 0;
	int rc;

	if (!sl)
		return fail(s, DDP_S_EBADHANDLE, "no such handle");
	if (sl->kind != H_READER)
		return fail(s, DDP_S_EBADSTATE, "handle is not a reader");
	if (q->u.read.len == 0 || q->u.read.len > s->max_io)
		return fail(s, DDP_S_EINVAL, "READ length must be 1..max_io");
	if (!need_scratch(s))
		return fail_rc(s, DD_ENOMEM);
	rc = s->ops->read(s->ctx, sl->h, q->u.read.offset, s->scratch,
			  q->u.read.len, &got);
	if (rc != DD_OK)
		return fail_rc(s, rc);
	if (got > q->u.read.len)
		return fail_rc(s, DD_EINTERNAL);
	r->u.read.len = (uint32_t)got;
	r->u.read.data = s->scratch;
	return DDP_S_OK;
}

static uint16_t op_dsp_query(ddp_session *s, const ddp_req *q, ddp_resp *r,
			     uint8_t *missing)
{
	uint16_t st = DDP_S_OK;
	ddp_slot *sl = writer_slot(s, q->u.dsp_query.handle, M_DSP, &st);
	unsigned n = q->u.dsp_query.count;
	uint64_t sum = 0;
	int rc;

	if (!sl)
		return st;
	if (n == 0)
		return fail(s, DDP_S_EINVAL, "empty DSP_QUERY");
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = q->u.dsp_query.refs[i].len;
		if (len == 0 || len > DDP_MAX_SEGMENT)
			return fail(s, DDP_S_EINVAL, "segment length must be 1..max_segment");
		sum += len;
	}
	if (q->u.dsp_query.offset != sl->length)
		return fail(s, DDP_S_ERANGE, "offset is not the writer's length");
	if (sl->length > UINT64_MAX - sum)
		return fail(s, DDP_S_ETOOBIG, "file too large");
	memset(missing, 0, (n + 7) / 8);
	rc = s->ops->dsp_query(s->ctx, sl->h, q->u.dsp_query.refs, n, missing);
	if (rc != DD_OK)
		return fail_rc(s, rc);
	if (n & 7) /* the store may not set bits past n */
		missing[(n - 1) / 8] &= (uint8_t)((1u << (n & 7)) - 1);
	sl->mode = M_DSP;
	sl->length += sum;
	r->u.dsp_query.length = sl->length;
	r->u.dsp_query.count = (uint16_t)n;
	r->u.dsp_query.missing = missing;
	return DDP_S_OK;
}

/* Decompresses (if needed) and verifies one segment into s->scratch. */
static uint16_t seg_raw(ddp_session *s, const ddp_segment *g, const uint8_t **raw)
{
	uint8_t fp[DDP_FP_LEN];

	*raw = g->data;
	if (g->flags & DDP_SEG_ZSTD) {
		size_t n;
		if (!need_scratch(s) || (!s->zd && !(s->zd = ZSTD_createDCtx())))
			return fail_rc(s, DD_ENOMEM);
		n = ZSTD_decompressDCtx(s->zd, s->scratch, g->raw_len, g->data, g->data_len);
		if (ZSTD_isError(n) || n != g->raw_len)
			return fail(s, DDP_S_EINVAL, "segment does not decompress to raw_len");
		*raw = s->scratch;
	}
	if (ddp_sha256(*raw, g->raw_len, fp) != DD_OK)
		return fail_rc(s, DD_EINTERNAL);
	if (memcmp(fp, g->fp, DDP_FP_LEN) != 0)
		return fail(s, DDP_S_EDIGEST, "segment does not match its fingerprint");
	return DDP_S_OK;
}

static uint16_t op_dsp_put(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	uint16_t st = DDP_S_OK;
	ddp_slot *sl = writer_slot(s, q->u.dsp_put.handle, M_DSP, &st);
	const uint8_t *raw;
	int rc;

	if (!sl)
		return st;
	if (q->u.dsp_put.count == 0)
		return fail(s, DDP_S_EINVAL, "empty DSP_PUT");
	for (unsigned i = 0; i < q->u.dsp_put.count; i++) {
		const ddp_segment *g = &q->u.dsp_put.segs[i];
		if ((st = seg_raw(s, g, &raw)) != DDP_S_OK)
			return st;
		rc = s->ops->dsp_put(s->ctx, sl->h, g->fp, raw, g->raw_len);
		if (rc == DD_EINVAL)
			return fail(s, DDP_S_EINVAL, "segment was not answered missing");
		if (rc != DD_OK)
			return fail_rc(s, rc);
	}
	r->u.dsp_put.count = q->u.dsp_put.count;
	return DDP_S_OK;
}

static uint16_t op_synth(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	int rc;

	if (!ddp_valid_unit(q->u.synth.unit) || !ddp_valid_path(q->u.synth.path))
		return fail(s, DDP_S_EINVAL, "bad unit name or path");
	if (q->u.synth.flags & ~DDP_NOREPLACE)
		return fail(s, DDP_S_EINVAL, "bad flags");
	if (q->u.synth.count == 0)
		return fail(s, DDP_S_EINVAL, "empty SYNTHESIZE");
	for (unsigned i = 0; i < q->u.synth.count; i++) {
		const ddp_extent *e = &q->u.synth.exts[i];
		if (e->length == 0 ||
		    (e->kind == DDP_EXT_FILE &&
		     (!ddp_valid_path(e->src) || e->offset > UINT64_MAX - e->length)))
			return fail(s, DDP_S_EINVAL, "bad extent");
	}
	rc = s->ops->synthesize(s->ctx, ddp_session_user(s), q->u.synth.unit,
				q->u.synth.path, q->u.synth.exts, q->u.synth.count,
				q->u.synth.flags, &r->u.length.length);
	return rc == DD_OK ? DDP_S_OK : fail_rc(s, rc);
}

/* ----------------------------------------------------------- namespace */

static uint16_t op_stat(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	int rc;

	if (!ddp_valid_unit(q->u.stat.unit) || !ddp_valid_path(q->u.stat.path))
		return fail(s, DDP_S_EINVAL, "bad unit name or path");
	if (q->op == DDP_OP_UNLINK)
		rc = s->ops->unlink(s->ctx, ddp_session_user(s), q->u.stat.unit,
				    q->u.stat.path);
	else
		rc = s->ops->stat(s->ctx, ddp_session_user(s), q->u.stat.unit,
				  q->u.stat.path, &r->u.stat.type, &r->u.stat.size,
				  &r->u.stat.mtime_ns);
	if (rc != DD_OK)
		return fail_rc(s, rc);
	if (q->op == DDP_OP_STAT && r->u.stat.type != DDP_TYPE_FILE &&
	    r->u.stat.type != DDP_TYPE_DIR)
		return fail_rc(s, DD_EINTERNAL);
	return DDP_S_OK;
}

static uint16_t op_rename(ddp_session *s, const ddp_req *q, ddp_resp *r)
{
	dd_str user = ddp_session_user(s);
	int rc;

	if (!ddp_valid_unit(q->u.rename.unit) || !ddp_valid_path(q->u.rename.from) ||
	    !ddp_valid_path(q->u.rename.to))
		return fail(s, DDP_S_EINVAL, "bad unit name or path");
	if (q->u.rename.flags & ~DDP_NOREPLACE)
		return fail(s, DDP_S_EINVAL, "bad flags");
	if (q->op == DDP_OP_RENAME)
		rc = s->ops->rename(s->ctx, user, q->u.rename.unit, q->u.rename.from,
				    q->u.rename.to, q->u.rename.flags);
	else
		rc = s->ops->clone(s->ctx, user, q->u.rename.unit, q->u.rename.from,
				   q->u.rename.to, q->u.rename.flags,
				   &r->u.length.length);
	return rc == DD_OK ? DDP_S_OK : fail_rc(s, rc);
}

static uint16_t check_readdir(ddp_session *s, const ddp_req *q)
{
	dd_str sa = q->u.readdir.start_after;

	if (!ddp_valid_unit(q->u.readdir.unit) || !ddp_valid_prefix(q->u.readdir.prefix))
		return fail(s, DDP_S_EINVAL, "bad unit name or prefix");
	if (!ddp_valid_utf8((const uint8_t *)sa.p, sa.len))
		return fail(s, DDP_S_EINVAL, "bad start_after");
	return DDP_S_OK;
}

/* ------------------------------------------------------------ dispatch */

/* Returns 1 when op may be sent in the session's current state. */
static int op_allowed(const ddp_session *s, uint8_t op)
{
	switch (s->state) {
	case DDP_ST_HELLO:
		return op == DDP_OP_HELLO;
	case DDP_ST_AUTH:
		return op == DDP_OP_AUTH || op == DDP_OP_BYE;
	case DDP_ST_READY:
		return op != DDP_OP_HELLO && op != DDP_OP_AUTH;
	default:
		return 0;
	}
}

static uint16_t run_op(ddp_session *s, const ddp_req *q, uint32_t req_id,
		       ddp_resp *r, uint8_t *bitmap, int *queued)
{
	uint16_t st;

	switch (q->op) {
	case DDP_OP_HELLO: return op_hello(s, q, r);
	case DDP_OP_AUTH: return op_auth(s, q, r);
	case DDP_OP_PING:
		r->u.ping.cookie = q->u.ping.cookie;
		return DDP_S_OK;
	case DDP_OP_BYE:
		release_all(s, 0);
		s->fatal = 1; /* not an error: the session ends after the reply */
		return DDP_S_OK;
	case DDP_OP_UNIT_LIST: return run_list(s, q, req_id, queued);
	case DDP_OP_UNIT_STAT: return op_unit_stat(s, q, r);
	case DDP_OP_UNIT_CREATE: return op_unit_create(s, q);
	case DDP_OP_OPEN: return op_open(s, q, r);
	case DDP_OP_CLOSE: return op_close(s, q, r);
	case DDP_OP_WRITE: return op_write(s, q, r);
	case DDP_OP_READ: return op_read(s, q, r);
	case DDP_OP_DSP_QUERY: return op_dsp_query(s, q, r, bitmap);
	case DDP_OP_DSP_PUT: return op_dsp_put(s, q, r);
	case DDP_OP_SYNTHESIZE: return op_synth(s, q, r);
	case DDP_OP_STAT:
	case DDP_OP_UNLINK: return op_stat(s, q, r);
	case DDP_OP_READDIR:
		if ((st = check_readdir(s, q)) != DDP_S_OK)
			return st;
		return run_list(s, q, req_id, queued);
	case DDP_OP_RENAME:
	case DDP_OP_FASTCOPY: return op_rename(s, q, r);
	default: return fail(s, DDP_S_ENOTSUP, "unknown opcode");
	}
}

/* Queues an error reply and ends the session (a protocol violation). */
static int violation(ddp_session *s, uint8_t op, uint32_t req_id, uint16_t st,
		     const char *msg)
{
	dd_log(DD_LOG_INFO, "ddp: closing session: %s (op %s)", msg, ddp_op_name(op));
	(void)!ddp_err_encode(op, req_id, st, msg, &s->out);
	s->state = DDP_ST_CLOSING;
	return DD_EPROTO;
}

/* Handles one whole request frame. Returns DD_OK or DD_EPROTO (closing). */
static int handle_frame_inner(ddp_session *s, const ddp_frame *f)
{
	uint8_t bitmap[(DDP_DSP_MAX_BATCH + 7) / 8];
	ddp_req q;
	ddp_resp r;
	uint16_t st;
	int rc, queued = 0;

	if (f->hdr.flags & DDP_F_RESPONSE)
		return violation(s, f->hdr.op, f->hdr.req_id, DDP_S_EPROTO,
				 "client sent a response frame");
	if (!window_admits(s, f->hdr.len))
		return violation(s, f->hdr.op, f->hdr.req_id, DDP_S_ELIMIT,
				 "client exceeded its request window");
	rc = ddp_req_decode(f->hdr.op, f->payload, f->hdr.len, &q);
	if (rc == DD_ENOTSUP && s->state == DDP_ST_READY) {
		ddp_req_release(&q);
		rc = ddp_err_encode(f->hdr.op, f->hdr.req_id, DDP_S_ENOTSUP,
				    "unknown opcode", &s->out);
		return rc == DD_OK ? DD_OK : violation(s, f->hdr.op, f->hdr.req_id,
						       DDP_S_EINTERNAL, "output full");
	}
	if (rc == DD_ENOMEM) {
		ddp_req_release(&q);
		rc = ddp_err_encode(f->hdr.op, f->hdr.req_id, DDP_S_EAGAIN,
				    "out of memory", &s->out);
		return rc == DD_OK ? DD_OK : violation(s, f->hdr.op, f->hdr.req_id,
						       DDP_S_EINTERNAL, "output full");
	}
	if (rc != DD_OK || !op_allowed(s, f->hdr.op)) {
		ddp_req_release(&q);
		return violation(s, f->hdr.op, f->hdr.req_id, DDP_S_EPROTO,
				 rc != DD_OK ? "malformed payload"
					     : "operation not allowed in this state");
	}
	memset(&r, 0, sizeof(r));
	r.op = f->hdr.op;
	s->errmsg = NULL;
	s->fatal = 0;
	st = run_op(s, &q, f->hdr.req_id, &r, bitmap, &queued);
	if (st == DDP_S_OK && !queued)
		rc = ddp_resp_encode(&r, f->hdr.req_id, &s->out);
	else if (st != DDP_S_OK)
		rc = ddp_err_encode(f->hdr.op, f->hdr.req_id, st, s->errmsg, &s->out);
	else
		rc = DD_OK;
	ddp_req_release(&q);
	if (rc != DD_OK)
		return violation(s, f->hdr.op, f->hdr.req_id, DDP_S_EINTERNAL,
				 "cannot encode response");
	if (s->fatal) {
		s->state = DDP_ST_CLOSING;
		return st == DDP_S_OK ? DD_OK : DD_EPROTO;
	}
	return DD_OK;
}

static int handle_frame(ddp_session *s, const ddp_frame *f)
{
	int rc = handle_frame_inner(s, f);

	if (s->state != DDP_ST_CLOSING && s->win_count < s->cfg.window_reqs)
		window_push(s, f->hdr.len);
	return rc;
}

int ddp_session_feed(ddp_session *s, const void *p, size_t n, size_t *used)
{
	const uint8_t *in = p;
	ddp_frame f;
	size_t u;
	int rc;

	*used = 0;
	while (s->state != DDP_ST_CLOSING && s->out.len <= s->cfg.out_high) {
		rc = ddp_reader_next(&s->rd, &f);
		if (rc == DD_OK) {
			if ((rc = handle_frame(s, &f)) != DD_OK)
				return rc;
			continue;
		}
		if (rc == DD_EAGAIN) {
			if (*used == n)
				break;
			rc = ddp_reader_feed(&s->rd, in + *used, n - *used, &u);
			*used += u;
			if (rc == DD_OK)
				continue;
		}
		return violation(s, s->rd.hdr.op, s->rd.hdr.req_id,
				 rc == DD_ETOOBIG ? DDP_S_ETOOBIG : DDP_S_EPROTO,
				 rc == DD_ETOOBIG ? "frame too large" : "bad frame header");
	}
	return DD_OK;
}
