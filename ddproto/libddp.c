/*
 * ddproto/libddp.c - libddp: the blocking DDP client library (libddp.h).
 * Requests go one at a time (send, wait for the answer), except a DSP
 * batch's segment puts: those are pipelined within the server's window and
 * their answers collected before the next DSP_QUERY. READs are sequential.
 */
#include "ddproto/libddp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "segstore/seg.h"

#define RX_CAP (256u * 1024)
#define READ_BUF (8u << 20) /* file bytes chunked per refill */

struct ddp_conn {
	ddp_io io;
	ddp_client *cl;
	uint8_t *rx;
	size_t rx_pos, rx_len;
	uint64_t sent, received;
	int async_rc; /* first error among pipelined answers */
	char err[DDP_MAX_MESSAGE + 32];
	/* How to dial again (ddp_conn_reconnect); NULL endpoint: made by
	 * ddp_conn_open_io, cannot redial. Owned copies; sk is cleansed. */
	char *endpoint, *ca_file, *ak, *sk;
	int tls;
};

/* ------------------------------------------------------------ transport */

/* Flushes the client's queued output to the transport. */
static int flush_out(ddp_conn *c)
{
	const uint8_t *o;
	size_t n;
	int rc;

	o = ddp_client_output(c->cl, &n);
	if (!n)
		return DD_OK;
	if ((rc = c->io.send(c->io.ctx, o, n)) != DD_OK)
		return rc;
	c->sent += n;
	ddp_client_output_consume(c->cl, n);
	return DD_OK;
}

/*
 * Reads until one response arrives (DD_OK, *r to release) or, with r NULL,
 * until the handshake is over. Returns the client's error or DD_EIO.
 */
static int read_resp(ddp_conn *c, ddp_resp *r)
{
	ddp_resp tmp;
	uint32_t id;
	size_t used, got;
	int rc;

	for (;;) {
		if (!r && ddp_client_state(c->cl) == DDP_CL_READY)
			return DD_OK;
		if (c->rx_pos < c->rx_len) {
			rc = ddp_client_read(c->cl, c->rx + c->rx_pos, c->rx_len - c->rx_pos,
					     &used, r ? r : &tmp, &id);
			c->rx_pos += used;
			if (rc == DD_OK) {
				if (r)
					return DD_OK;
				ddp_resp_release(&tmp); /* no request of ours is pending */
				return DD_EPROTO;
			}
			if (rc != DD_EAGAIN)
				return rc;
			if ((rc = flush_out(c)) != DD_OK) /* AUTH after HELLO */
				return rc;
			continue;
		}
		if ((rc = c->io.recv(c->io.ctx, c->rx, RX_CAP, &got)) != DD_OK)
			return rc;
		if (!got)
			return DD_EIO; /* the server closed */
		c->received += got;
		c->rx_pos = 0;
		c->rx_len = got;
	}
}

/* Sends q and waits for its answer; a non-OK status becomes a dd_rc and
 * c->err. On DD_OK *r holds the answer (release it). */
static int rpc(ddp_conn *c, const ddp_req *q, ddp_resp *r)
{
	uint32_t id;
	int rc;

	c->err[0] = '\0';
	if (!c->cl)
		return DD_EIO; /* a reconnect failed: no connection */
	if ((rc = ddp_client_send(c->cl, q, &id)) != DD_OK)
		return rc;
	if ((rc = flush_out(c)) != DD_OK || (rc = read_resp(c, r)) != DD_OK)
		return rc;
	if (r->status != DDP_S_OK) {
		snprintf(c->err, sizeof(c->err), "%s: %.*s", ddp_status_name(r->status),
			 (int)r->message.len, r->message.p);
		rc = ddp_rc_from_status(r->status);
		ddp_resp_release(r);
		return rc == DD_OK ? DD_EPROTO : rc;
	}
	return DD_OK;
}

/* Reads one answer to a pipelined request; keeps the first error. */
static int collect_one(ddp_conn *c)
{
	ddp_resp r;
	int rc;

	if ((rc = read_resp(c, &r)) != DD_OK)
		return rc;
	if (r.status != DDP_S_OK && c->async_rc == DD_OK) {
		snprintf(c->err, sizeof(c->err), "%s: %.*s", ddp_status_name(r.status),
			 (int)r.message.len, r.message.p);
		c->async_rc = ddp_rc_from_status(r.status);
		if (c->async_rc == DD_OK)
			c->async_rc = DD_EPROTO;
	}
	ddp_resp_release(&r);
	return DD_OK;
}

/* Sends q without waiting for its answer (within the server's window:
 * while it is full, collects answers first). */
static int send_async(ddp_conn *c, const ddp_req *q)
{
	uint32_t id;
	int rc;

	while ((rc = ddp_client_send(c->cl, q, &id)) == DD_EAGAIN) {
		if (!ddp_client_inflight(c->cl))
			return DD_ETOOBIG; /* cannot fit even alone */
		if ((rc = flush_out(c)) != DD_OK || (rc = collect_one(c)) != DD_OK)
			return rc;
	}
	if (rc != DD_OK)
		return rc;
	return flush_out(c);
}

/* Collects every pending answer; returns the first error among them. */
static int collect_all(ddp_conn *c)
{
	int rc;

	while (ddp_client_inflight(c->cl))
		if ((rc = collect_one(c)) != DD_OK)
			return rc;
	rc = c->async_rc;
	c->async_rc = DD_OK;
	return rc;
}

int ddp_conn_open_io(const ddp_io *io, const char *access_key, const char *secret,
		     ddp_conn **out)
{
	ddp_conn *c = calloc(1, sizeof(*c));
	int rc = DD_ENOMEM;

	if (!c) {
		io->close(io->ctx);
		return DD_ENOMEM;
	}
	c->io = *io;
	c->cl = ddp_client_new(dd_str_c(access_key), secret, strlen(secret),
			       DD_STR_LIT("libddp/" DD_VERSION));
	c->rx = malloc(RX_CAP);
	if (!c->cl || !c->rx)
		goto fail;
	if ((rc = flush_out(c)) != DD_OK || (rc = read_resp(c, NULL)) != DD_OK)
		goto fail;
	*out = c;
	return DD_OK;
fail:
	ddp_client_free(c->cl);
	c->cl = NULL;
	ddp_conn_close(c);
	return rc;
}

void ddp_conn_close(ddp_conn *c)
{
	if (!c)
		return;
	if (c->cl && ddp_client_state(c->cl) == DDP_CL_READY) {
		ddp_req q = {.op = DDP_OP_BYE};
		ddp_resp r;
		if (rpc(c, &q, &r) == DD_OK)
			ddp_resp_release(&r);
	}
	ddp_client_free(c->cl);
	if (c->io.close)
		c->io.close(c->io.ctx);
	free(c->rx);
	free(c->endpoint);
	free(c->ca_file);
	free(c->ak);
	if (c->sk) {
		OPENSSL_cleanse(c->sk, strlen(c->sk));
		free(c->sk);
	}
	free(c);
}

const char *ddp_conn_error(const ddp_conn *c)
{
	return c->err;
}

void ddp_conn_counters(const ddp_conn *c, uint64_t *sent, uint64_t *received)
{
	*sent = c->sent;
	*received = c->received;
}

/* ------------------------------------------------------------ sockets */

typedef struct sock_io {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
} sock_io;

static int sock_send(void *ctx, const void *p, size_t n)
{
	sock_io *s = ctx;
	const uint8_t *b = p;

	while (n) {
		ssize_t k;
		if (s->ssl) {
			int w = SSL_write(s->ssl, b, (int)DD_MIN(n, (size_t)1 << 30));
			if (w <= 0)
				return DD_EIO;
			k = w;
		} else {
			k = send(s->fd, b, n, MSG_NOSIGNAL);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return DD_EIO;
		}
		b += k;
		n -= (size_t)k;
	}
	return DD_OK;
}

static int sock_recv(void *ctx, void *p, size_t cap, size_t *got)
{
	sock_io *s = ctx;
	ssize_t k;

	if (s->ssl) {
		int r = SSL_read(s->ssl, p, (int)DD_MIN(cap, (size_t)1 << 30));
		if (r <= 0) {
			int e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_ZERO_RETURN) {
				*got = 0;
				return DD_OK;
			}
			return DD_EIO;
		}
		*got = (size_t)r;
		return DD_OK;
	}
	do
		k = recv(s->fd, p, cap, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0 && errno != ECONNRESET)
		return DD_EIO;
	*got = k < 0 ? 0 : (size_t)k; /* a reset reads as the end of stream */
	return DD_OK;
}

static void sock_close(void *ctx)
{
	sock_io *s = ctx;

	if (s->ssl) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	SSL_CTX_free(s->ctx);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/* Splits "host:port" / "[v6]:port" into host (cap bytes) and port. */
static int split_endpoint(const char *ep, char *host, size_t cap, const char **port)
{
	const char *colon;
	size_t hl;

	if (ep[0] == '[') {
		const char *end = strchr(ep, ']');
		if (!end || end[1] != ':')
			return DD_EINVAL;
		hl = (size_t)(end - ep - 1);
		ep++;
		colon = end + 1;
	} else {
		if (!(colon = strrchr(ep, ':')))
			return DD_EINVAL;
		hl = (size_t)(colon - ep);
	}
	if (hl == 0 || hl >= cap || !colon[1])
		return DD_EINVAL;
	memcpy(host, ep, hl);
	host[hl] = '\0';
	*port = colon + 1;
	return DD_OK;
}

static int tcp_connect(const char *host, const char *port, int *fd_out)
{
	struct addrinfo hints = {0}, *res = NULL;
	int fd = -1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return DD_ENOENT;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			/* small requests (READ, DSP_QUERY) must not wait for
			 * Nagle behind the ACK of the previous one */
			int one = 1;
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return DD_EIO;
	*fd_out = fd;
	return DD_OK;
}

static int is_ip(const char *host)
{
	uint8_t a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int tls_start(sock_io *s, const char *host, const char *ca_file)
{
	if (!(s->ctx = SSL_CTX_new(TLS_client_method())))
		return DD_EINTERNAL;
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if ((ca_file ? SSL_CTX_load_verify_locations(s->ctx, ca_file, NULL)
		     : SSL_CTX_set_default_verify_paths(s->ctx)) != 1)
		return DD_ECONFIG;
	if (!(s->ssl = SSL_new(s->ctx)))
		return DD_EINTERNAL;
	if (is_ip(host)) { /* an IP literal is checked against IP SANs */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), host) != 1)
			return DD_EINTERNAL;
	} else if (SSL_set_tlsext_host_name(s->ssl, host) != 1 ||
		   SSL_set1_host(s->ssl, host) != 1) {
		return DD_EINTERNAL;
	}
	if (SSL_set_fd(s->ssl, s->fd) != 1)
		return DD_EINTERNAL;
	if (SSL_connect(s->ssl) != 1)
		return DD_EIO; /* handshake failed or certificate refused */
	return DD_OK;
}

/* Opens the TCP (TLS) transport to endpoint into *io. */
static int dial(const char *endpoint, int tls, const char *ca_file, ddp_io *io)
{
	char host[256];
	const char *port;
	sock_io *s;
	int rc;

	if ((rc = split_endpoint(endpoint, host, sizeof(host), &port)) != DD_OK)
		return rc;
	if (!(s = calloc(1, sizeof(*s))))
		return DD_ENOMEM;
	s->fd = -1;
	if ((rc = tcp_connect(host, port, &s->fd)) != DD_OK ||
	    (tls && (rc = tls_start(s, host, ca_file)) != DD_OK)) {
		sock_close(s);
		return rc;
	}
	io->ctx = s;
	io->send = sock_send;
	io->recv = sock_recv;
	io->close = sock_close;
	return DD_OK;
}

int ddp_conn_connect(const char *endpoint, int tls, const char *ca_file,
		     const char *access_key, const char *secret, ddp_conn **out)
{
	ddp_conn *c;
	ddp_io io;
	int rc;

	if ((rc = dial(endpoint, tls, ca_file, &io)) != DD_OK)
		return rc;
	if ((rc = ddp_conn_open_io(&io, access_key, secret, &c)) != DD_OK)
		return rc;
	c->tls = tls;
	c->endpoint = strdup(endpoint);
	c->ak = strdup(access_key);
	c->sk = strdup(secret);
	c->ca_file = ca_file ? strdup(ca_file) : NULL;
	if (!c->endpoint || !c->ak || !c->sk || (ca_file && !c->ca_file)) {
		ddp_conn_close(c);
		return DD_ENOMEM;
	}
	*out = c;
	return DD_OK;
}

int ddp_conn_reconnect(ddp_conn *c)
{
	ddp_io io;
	int rc;

	if (!c->endpoint)
		return DD_ENOTSUP;
	/* Drop the old transport without BYE: BYE would abort open writers,
	 * a drop keeps them resumable. */
	ddp_client_free(c->cl);
	c->cl = NULL;
	if (c->io.close)
		c->io.close(c->io.ctx);
	memset(&c->io, 0, sizeof(c->io));
	c->rx_pos = c->rx_len = 0;
	c->async_rc = DD_OK;
	if ((rc = dial(c->endpoint, c->tls, c->ca_file, &io)) != DD_OK)
		return rc;
	c->io = io;
	c->cl = ddp_client_new(dd_str_c(c->ak), c->sk, strlen(c->sk),
			       DD_STR_LIT("libddp/" DD_VERSION));
	if (!c->cl)
		return DD_ENOMEM;
	if ((rc = flush_out(c)) != DD_OK || (rc = read_resp(c, NULL)) != DD_OK) {
		ddp_client_free(c->cl); /* not READY: no BYE at close */
		c->cl = NULL;
		return rc;
	}
	return DD_OK;
}

/* ------------------------------------------------------------ put (DSP) */

int ddp_chunk_params(const ddp_conn *c, seg_chunk_params *out)
{
	static const ddp_server_params none;
	const ddp_server_params *sp = c->cl ? ddp_client_params(c->cl) : &none;
	seg_chunk_params cp = {sp->chunk_min, sp->chunk_avg, sp->chunk_max};

	/* Use what the server announced when it is our chunker, valid, and
	 * its largest chunk fits one DSP segment; else the store defaults. */
	if ((sp->features & DDP_FEAT_CHUNKING) &&
	    strcmp(sp->chunker, DDP_CHUNKER_NAME) == 0 &&
	    seg_chunk_params_check(&cp) == DD_OK && cp.max <= sp->max_segment) {
		*out = cp;
		return 1;
	}
	*out = (seg_chunk_params){0, 0, 0};
	seg_chunk_params_default(out);
	return 0;
}

typedef struct chunk {
	uint8_t fp[DDP_FP_LEN];
	uint32_t len;
	const uint8_t *data; /* in the put buffer */
} chunk;

/* Fingerprints already sent during this put (open addressing). */
typedef struct sentset {
	uint8_t (*slot)[DDP_FP_LEN];
	uint8_t *used;
	size_t cap, n;
} sentset;

static int sent_has(const sentset *s, const uint8_t *fp, size_t *at)
{
	uint64_t h;
	size_t i;

	if (!s->cap)
		return 0;
	memcpy(&h, fp, sizeof(h));
	for (i = (size_t)h & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (memcmp(s->slot[i], fp, DDP_FP_LEN) == 0)
			return 1;
	*at = i;
	return 0;
}

static int sent_add(sentset *s, const uint8_t *fp)
{
	size_t at;

	if (2 * (s->n + 1) > s->cap) {
		sentset g = {0};
		g.cap = s->cap ? 2 * s->cap : 1024;
		g.slot = malloc(g.cap * DDP_FP_LEN);
		g.used = calloc(g.cap, 1);
		if (!g.slot || !g.used) {
			free(g.slot);
			free(g.used);
			return DD_ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->used[i] && !sent_has(&g, s->slot[i], &at)) {
				memcpy(g.slot[at], s->slot[i], DDP_FP_LEN);
				g.used[at] = 1;
				g.n++;
			}
		free(s->slot);
		free(s->used);
		*s = g;
	}
	if (sent_has(s, fp, &at))
		return DD_OK;
	memcpy(s->slot[at], fp, DDP_FP_LEN);
	s->used[at] = 1;
	s->n++;
	return DD_OK;
}

typedef struct put_ctx {
	ddp_conn *c;
	uint32_t handle;
	uint64_t offset;
	chunk *batch;
	size_t nb, max_batch;
	sentset sent;
	uint8_t *zbuf; /* compression scratch */
	size_t zcap;
	ddp_segment *segs;
	ddp_put_stats *st;
	/* the file and the writer */
	const char *unit, *path;
	int fd;
	off_t base;         /* fd's offset at the start (-1: not seekable) */
	seg_chunker *ck;
	uint8_t *buf;       /* READ_BUF bytes of the file */
	uint8_t token[DDP_TOKEN_LEN];
	int have_token;     /* a writer was opened: resumable by token */
	int opened;         /* p->handle is open on the current connection */
	int local_err;      /* DD_EIO came from the source, not the network */
	unsigned runs;      /* passes over the source started */
	int sparse;         /* a regular file: pread at pos, holes not read */
	off_t pos;          /* sparse: the next byte to read */
	const ddp_put_opts *opts;
	uint64_t sent0;     /* c->sent when the put began */
} put_ctx;

/* Sends the DSP_PUT for segs[0..n) (n may be 0: nothing). */
static int send_put(put_ctx *p, size_t n)
{
	ddp_req q = {.op = DDP_OP_DSP_PUT};

	if (!n)
		return DD_OK;
	q.u.dsp_put.handle = p->handle;
	q.u.dsp_put.count = (uint16_t)n;
	q.u.dsp_put.segs = p->segs;
	return send_async(p->c, &q); /* the batch's answers: collect_all */
}

/* Queries the batch, then sends the missing segments in file order. */
static int flush_batch(put_ctx *p)
{
	const ddp_server_params *sp = ddp_client_params(p->c->cl);
	ddp_req q = {.op = DDP_OP_DSP_QUERY};
	ddp_dsp_ref *refs;
	uint8_t *miss = NULL;
	size_t nseg = 0, bytes = 0, zoff = 0;
	ddp_resp r;
	int rc;

	if (!p->nb)
		return DD_OK;
	if (!(refs = malloc(p->nb * sizeof(*refs))) || !(miss = malloc(p->nb)))
		goto nomem;
	for (size_t i = 0; i < p->nb; i++) {
		memcpy(refs[i].fp, p->batch[i].fp, DDP_FP_LEN);
		refs[i].len = p->batch[i].len;
	}
	q.u.dsp_query.handle = p->handle;
	q.u.dsp_query.offset = p->offset;
	q.u.dsp_query.count = (uint16_t)p->nb;
	q.u.dsp_query.refs = refs;
	if ((rc = rpc(p->c, &q, &r)) != DD_OK)
		goto out;
	for (size_t i = 0; i < p->nb; i++)
		miss[i] = (uint8_t)ddp_bit(r.u.dsp_query.missing, (unsigned)i);
	p->offset = r.u.dsp_query.length;
	ddp_resp_release(&r);
	for (size_t i = 0; i < p->nb; i++) {
		chunk *k = &p->batch[i];
		ddp_segment *g;
		size_t z = 0, room;
		if (!miss[i] || sent_has(&p->sent, k->fp, &room))
			continue;
		if ((rc = sent_add(&p->sent, k->fp)) != DD_OK)
			goto out;
		/* A put frame: at most 256 segments and one payload. */
		if (nseg == DDP_DSP_MAX_PUT ||
		    bytes + 41 + k->len + 64 > sp->max_payload) {
			if ((rc = send_put(p, nseg)) != DD_OK)
				goto out;
			nseg = bytes = zoff = 0;
		}
		g = &p->segs[nseg++];
		memcpy(g->fp, k->fp, DDP_FP_LEN);
		g->raw_len = k->len;
		g->flags = 0;
		g->data_len = k->len;
		g->data = k->data;
		if (sp->features & DDP_FEAT_ZSTD) {
			z = ZSTD_compress(p->zbuf + zoff, p->zcap - zoff, k->data, k->len, 1);
			if (!ZSTD_isError(z) && z > 0 && z < k->len) {
				g->flags = DDP_SEG_ZSTD;
				g->data_len = (uint32_t)z;
				g->data = p->zbuf + zoff;
				zoff += z;
			}
		}
		bytes += 41 + g->data_len;
		p->st->seg_bytes += g->data_len;
		p->st->segs_sent++;
	}
	rc = send_put(p, nseg);
	p->nb = 0;
	goto out;
nomem:
	rc = DD_ENOMEM;
out:
	/* The puts were pipelined: every answer is in before the next query
	 * (rpc expects nothing in flight). */
	if (rc != DD_EIO && rc != DD_EPROTO) {
		int rc2 = collect_all(p->c);
		if (rc == DD_OK)
			rc = rc2;
	}
	free(refs);
	free(miss);
	return rc;
}

/* Cuts buf[*start..end) into chunks into the batch; flushes full batches.
 * eof: the tail is the last chunk. Leaves *start at the unconsumed tail. */
static int chunk_buf(put_ctx *p, seg_chunker *ck, const uint8_t *buf, size_t *scan,
		     size_t *start, size_t end, int eof)
{
	int rc, cut;

	while (*scan < end) {
		*scan += seg_chunker_scan(ck, buf + *scan, end - *scan, &cut);
		if (!cut)
			break;
		if (p->nb == p->max_batch && (rc = flush_batch(p)) != DD_OK)
			return rc;
		chunk *k = &p->batch[p->nb++];
		k->data = buf + *start;
		k->len = (uint32_t)(*scan - *start);
		seg_fingerprint(k->data, k->len, k->fp);
		p->st->segments++;
		*start = *scan;
	}
	if (eof && *start < end) {
		if (p->nb == p->max_batch && (rc = flush_batch(p)) != DD_OK)
			return rc;
		chunk *k = &p->batch[p->nb++];
		k->data = buf + *start;
		k->len = (uint32_t)(end - *start);
		seg_fingerprint(k->data, k->len, k->fp);
		p->st->segments++;
		*start = end;
	}
	return DD_OK;
}

static int open_file(ddp_conn *c, const char *unit, const char *path, uint32_t flags,
		     const uint8_t *token_in, uint32_t *handle, uint64_t *size,
		     uint8_t *token_out)
{
	ddp_req q = {.op = DDP_OP_OPEN};
	ddp_resp r;
	int rc;

	q.u.open.unit = dd_str_c(unit);
	q.u.open.path = dd_str_c(path);
	q.u.open.flags = flags;
	if (token_in)
		memcpy(q.u.open.token, token_in, DDP_TOKEN_LEN);
	if ((rc = rpc(c, &q, &r)) != DD_OK)
		return rc;
	*handle = r.u.open.handle;
	*size = r.u.open.size;
	if (token_out)
		memcpy(token_out, r.u.open.token, DDP_TOKEN_LEN);
	ddp_resp_release(&r);
	return DD_OK;
}

static int close_file(ddp_conn *c, uint32_t handle, uint8_t flags, ddp_put_stats *st)
{
	ddp_req q = {.op = DDP_OP_CLOSE};
	ddp_resp r;
	int rc;

	q.u.close.handle = handle;
	q.u.close.flags = flags;
	if ((rc = rpc(c, &q, &r)) != DD_OK)
		return rc;
	if (st) {
		st->digest_len = r.u.close.digest_len == 32 ? 32 : 0;
		memcpy(st->digest, r.u.close.digest, st->digest_len);
	}
	ddp_resp_release(&r);
	return DD_OK;
}

/*
 * Reads up to n bytes of a regular file at p->pos. A hole (SEEK_DATA) is
 * not read: its zeros are written into dst directly, so a sparse image's
 * holes cost neither disk reads nor page cache. Returns the bytes placed
 * (0 at the end), or -1 (errno).
 */
static ssize_t read_sparse(put_ctx *p, uint8_t *dst, size_t n)
{
	off_t data = lseek(p->fd, p->pos, SEEK_DATA), hole;
	struct stat sb;
	ssize_t k;

	if (data < 0 && errno == ENXIO) { /* no data from pos on: hole or EOF */
		if (fstat(p->fd, &sb) != 0)
			return -1;
		data = sb.st_size;
	}
	if (data > p->pos) {
		size_t z = (size_t)DD_MIN((uint64_t)(data - p->pos), (uint64_t)n);
		memset(dst, 0, z);
		p->pos += (off_t)z;
		return (ssize_t)z;
	}
	/* at data (or no SEEK_DATA support): read up to the next hole */
	hole = lseek(p->fd, p->pos, SEEK_HOLE);
	if (hole > p->pos)
		n = (size_t)DD_MIN((uint64_t)(hole - p->pos), (uint64_t)n);
	k = pread(p->fd, dst, n, p->pos);
	if (k > 0)
		p->pos += k;
	return k;
}

/* Reads the source into buf[*end..cap) until full or EOF (*eof). DD_EIO
 * with p->local_err set: the source failed (not the connection: no
 * resume). */
static int fill(put_ctx *p, uint8_t *buf, size_t cap, size_t *end, int *eof)
{
	while (*end < cap) {
		ssize_t k = p->sparse ? read_sparse(p, buf + *end, cap - *end)
				      : read(p->fd, buf + *end, cap - *end);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			p->local_err = 1;
			return DD_EIO;
		}
		if (k == 0) {
			*eof = 1;
			break;
		}
		*end += (size_t)k;
		p->st->logical += (uint64_t)k;
	}
	return DD_OK;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void report(put_ctx *p)
{
	p->st->wire_sent = p->c->sent - p->sent0;
	if (p->opts && p->opts->progress)
		p->opts->progress(p->opts->progress_arg, p->st);
}

/*
 * Opens the writer on the current connection: a fresh one, or (resume)
 * the dropped one by its token. Sets p->handle, *size (the length the
 * server holds). The old connection's drop may not have reached the server
 * yet (its writer is still attached: ENOENT), so RESUME is retried a few
 * times; a token that stays unknown (expired) starts a new writer from 0,
 * where DSP still finds the segments the unit already received.
 */
static int put_open(put_ctx *p, uint64_t *size)
{
	int rc = DD_ENOENT;

	if (p->have_token) {
		for (unsigned i = 0; i < 5 && rc == DD_ENOENT; i++) {
			if (i)
				sleep_ms(100u << i);
			rc = open_file(p->c, p->unit, p->path, DDP_OPEN_CREATE | DDP_OPEN_RESUME,
				       p->token, &p->handle, size, NULL);
		}
		if (rc != DD_ENOENT) {
			p->opened = rc == DD_OK;
			return rc;
		}
	}
	rc = open_file(p->c, p->unit, p->path, DDP_OPEN_CREATE, NULL, &p->handle, size,
		       p->token);
	p->opened = p->have_token = rc == DD_OK;
	return rc;
}

/* Forgets per-connection progress before (re)starting at offset from. */
static int put_rewind(put_ctx *p, uint64_t from)
{
	/* A seekable source goes back to where the writer stands (also to 0
	 * when a fresh writer replaced an expired one); a pipe can only be
	 * read once. */
	if (p->base >= 0 ? lseek(p->fd, p->base + (off_t)from, SEEK_SET) < 0
			 : (from || p->runs)) {
		p->local_err = 1;
		return DD_EIO;
	}
	p->pos = p->base + (off_t)from;
	p->runs++;
	seg_chunker_reset(p->ck);
	p->nb = 0;
	p->offset = from;
	p->st->logical = from;
	/* A segment sent on the dropped connection may never have arrived:
	 * forget them all; the server answers present what it did receive. */
	if (p->sent.used)
		memset(p->sent.used, 0, p->sent.cap);
	p->sent.n = 0;
	return DD_OK;
}

/* Sends the file from the writer's length `from` to its end, commits. */
static int put_run(put_ctx *p, uint64_t from)
{
	size_t start = 0, scan = 0, end = 0;
	int eof = 0, rc;

	if ((rc = put_rewind(p, from)) != DD_OK)
		return rc;
	while (!eof) {
		if ((rc = fill(p, p->buf, READ_BUF, &end, &eof)) != DD_OK ||
		    (rc = chunk_buf(p, p->ck, p->buf, &scan, &start, end, eof)) != DD_OK ||
		    (rc = flush_batch(p)) != DD_OK)
			return rc;
		/* Keep the partial chunk: move it to the front, refill after it. */
		memmove(p->buf, p->buf + start, end - start);
		scan -= start;
		end -= start;
		start = 0;
		report(p);
	}
	p->opened = 0; /* CLOSE frees the handle whatever its answer */
	return close_file(p->c, p->handle, DDP_CLOSE_COMMIT, p->st);
}

/* After a dropped connection: redial with backoff, reopen, continue.
 * Returns the outcome of the last attempt. */
static int put_resume(put_ctx *p, int rc)
{
	unsigned wait = p->opts->backoff_ms ? p->opts->backoff_ms : 200;
	uint64_t size;

	for (unsigned tries = 0; rc == DD_EIO && !p->local_err && tries < p->opts->retries;
	     tries++) {
		sleep_ms(wait);
		wait = DD_MIN(wait * 2, 10000u);
		p->opened = 0;
		if ((rc = ddp_conn_reconnect(p->c)) != DD_OK)
			continue;
		p->st->resumes++;
		p->st->resent_from = p->c->sent;
		if ((rc = put_open(p, &size)) != DD_OK)
			continue;
		p->st->resume_offset = size;
		rc = put_run(p, size);
	}
	return rc;
}

int ddp_put_fd_opts(ddp_conn *c, const char *unit, const char *path, int fd,
		    const ddp_put_opts *opts, ddp_put_stats *st)
{
	seg_chunk_params cp;
	uint64_t size;
	int rc;
	put_ctx p;

	memset(&p, 0, sizeof(p));
	memset(st, 0, sizeof(*st));
	if (!c->cl)
		return DD_EIO; /* a reconnect failed earlier */
	p.c = c;
	p.st = st;
	p.unit = unit;
	p.path = path;
	p.fd = fd;
	p.opts = opts;
	p.sent0 = c->sent;
	p.base = lseek(fd, 0, SEEK_CUR); /* -1 for pipes: no resume */
	{
		struct stat sb;
		p.sparse = p.base >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
	}
	/* one pass front to back: let the kernel read ahead (fails
	 * harmlessly on pipes) */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ddp_chunk_params(c, &cp);
	p.max_batch = ddp_client_params(c->cl)->dsp_max_batch;
	p.zcap = ddp_client_params(c->cl)->max_payload;
	if (!(p.ck = seg_chunker_new(&cp)) || !(p.buf = malloc(READ_BUF)) ||
	    !(p.batch = malloc(p.max_batch * sizeof(*p.batch))) ||
	    !(p.zbuf = malloc(p.zcap)) ||
	    !(p.segs = malloc(DDP_DSP_MAX_PUT * sizeof(*p.segs)))) {
		rc = DD_ENOMEM;
		goto out;
	}
	if ((rc = put_open(&p, &size)) == DD_OK)
		rc = put_run(&p, 0);
	if (rc == DD_EIO && opts && opts->retries && c->endpoint && p.base >= 0)
		rc = put_resume(&p, rc);
out:
	if (p.opened && c->cl && rc != DD_EIO && rc != DD_EPROTO) {
		char keep[sizeof(c->err)];
		memcpy(keep, c->err, sizeof(keep));
		(void)!close_file(c, p.handle, 0, NULL); /* abort the writer */
		memcpy(c->err, keep, sizeof(keep));
	}
	st->wire_sent = c->sent - p.sent0;
	if (st->resumes)
		st->sent_after_resume = c->sent - st->resent_from;
	seg_chunker_free(p.ck);
	free(p.buf);
	free(p.batch);
	free(p.zbuf);
	free(p.segs);
	free(p.sent.slot);
	free(p.sent.used);
	return rc;
}

int ddp_source_size(int fd, uint64_t *size, int *is_blk)
{
	struct stat sb;
	uint64_t n = 0;

	*is_blk = 0;
	if (fstat(fd, &sb) != 0)
		return DD_EIO;
	if (S_ISREG(sb.st_mode)) {
		*size = (uint64_t)sb.st_size; /* holes of a sparse image count */
		return DD_OK;
	}
	if (!S_ISBLK(sb.st_mode))
		return DD_ENOTSUP; /* pipes, ttys, char devices: unknown */
	if (ioctl(fd, BLKGETSIZE64, &n) != 0)
		return DD_EIO;
	*is_blk = 1;
	*size = n;
	return DD_OK;
}

int ddp_put_fd(ddp_conn *c, const char *unit, const char *path, int fd,
	       ddp_put_stats *st)
{
	return ddp_put_fd_opts(c, unit, path, fd, NULL, st);
}

/* ------------------------------------------------------------ the rest */

int ddp_get_fd(ddp_conn *c, const char *unit, const char *path, int fd,
	       uint64_t *size)
{
	uint32_t handle, max_io;
	uint64_t fsize, off = 0;
	ddp_req q = {.op = DDP_OP_READ};
	ddp_resp r;
	int rc;

	if ((rc = open_file(c, unit, path, DDP_OPEN_READ, NULL, &handle, &fsize, NULL)) != DD_OK)
		return rc;
	max_io = ddp_client_params(c->cl)->max_io;
	for (;;) {
		q.u.read.handle = handle;
		q.u.read.offset = off;
		q.u.read.len = max_io;
		if ((rc = rpc(c, &q, &r)) != DD_OK)
			break;
		if (!r.u.read.len) {
			ddp_resp_release(&r);
			break;
		}
		rc = dd_write_all(fd, r.u.read.data, r.u.read.len);
		off += r.u.read.len;
		ddp_resp_release(&r);
		if (rc != DD_OK)
			break;
	}
	if (rc == DD_OK)
		rc = close_file(c, handle, 0, NULL);
	else
		(void)!close_file(c, handle, 0, NULL);
	if (size)
		*size = off;
	return rc;
}

int ddp_stat(ddp_conn *c, const char *unit, const char *path, ddp_stat_info *out)
{
	ddp_req q = {.op = DDP_OP_STAT};
	ddp_resp r;
	int rc;

	q.u.stat.unit = dd_str_c(unit);
	q.u.stat.path = dd_str_c(path);
	if ((rc = rpc(c, &q, &r)) != DD_OK)
		return rc;
	out->type = r.u.stat.type;
	out->size = r.u.stat.size;
	out->mtime_ns = r.u.stat.mtime_ns;
	ddp_resp_release(&r);
	return DD_OK;
}

int ddp_ls(ddp_conn *c, const char *unit, const char *prefix, ddp_ls_cb cb, void *arg)
{
	char last[DDP_MAX_KEY + 1] = "";
	size_t last_len = 0;
	ddp_req q = {.op = DDP_OP_READDIR};
	ddp_resp r;
	int rc, more = 1;

	while (more) {
		q.u.readdir.unit = dd_str_c(unit);
		q.u.readdir.prefix = dd_str_c(prefix);
		q.u.readdir.start_after = (dd_str){last, last_len};
		q.u.readdir.limit = DDP_MAX_LIST;
		if ((rc = rpc(c, &q, &r)) != DD_OK)
			return rc;
		more = r.u.readdir.more && r.u.readdir.count;
		for (unsigned i = 0; i < r.u.readdir.count && rc == DD_OK; i++)
			rc = cb(arg, &r.u.readdir.ents[i]);
		if (r.u.readdir.count) {
			const ddp_dirent *e = &r.u.readdir.ents[r.u.readdir.count - 1];
			last_len = DD_MIN(e->name.len, (size_t)DDP_MAX_KEY);
			memcpy(last, e->name.p, last_len);
		}
		ddp_resp_release(&r);
		if (rc != DD_OK)
			return rc;
	}
	return DD_OK;
}

static int simple(ddp_conn *c, ddp_req *q, uint64_t *len)
{
	ddp_resp r;
	int rc;

	if ((rc = rpc(c, q, &r)) != DD_OK)
		return rc;
	if (len)
		*len = r.u.length.length;
	ddp_resp_release(&r);
	return DD_OK;
}

int ddp_rm(ddp_conn *c, const char *unit, const char *path)
{
	ddp_req q = {.op = DDP_OP_UNLINK};

	q.u.stat.unit = dd_str_c(unit);
	q.u.stat.path = dd_str_c(path);
	return simple(c, &q, NULL);
}

int ddp_rename(ddp_conn *c, const char *unit, const char *from, const char *to,
	       uint32_t flags)
{
	ddp_req q = {.op = DDP_OP_RENAME};

	q.u.rename.unit = dd_str_c(unit);
	q.u.rename.from = dd_str_c(from);
	q.u.rename.to = dd_str_c(to);
	q.u.rename.flags = flags;
	return simple(c, &q, NULL);
}

int ddp_cp(ddp_conn *c, const char *unit, const char *src, const char *dst,
	   uint32_t flags, uint64_t *size)
{
	ddp_req q = {.op = DDP_OP_FASTCOPY};

	q.u.rename.unit = dd_str_c(unit);
	q.u.rename.from = dd_str_c(src);
	q.u.rename.to = dd_str_c(dst);
	q.u.rename.flags = flags;
	return simple(c, &q, size);
}

int ddp_synthesize(ddp_conn *c, const char *unit, const char *path,
		   const ddp_extent *ext, size_t n, uint32_t flags, uint64_t *size)
{
	ddp_req q = {.op = DDP_OP_SYNTHESIZE};

	if (n == 0 || n > DDP_MAX_EXTENTS)
		return DD_EINVAL;
	q.u.synth.unit = dd_str_c(unit);
	q.u.synth.path = dd_str_c(path);
	q.u.synth.flags = flags;
	q.u.synth.count = (uint16_t)n;
	q.u.synth.exts = (ddp_extent *)ext; /* only read by the encoder */
	return simple(c, &q, size);
}

int ddp_mkunit(ddp_conn *c, const char *unit)
{
	ddp_req q = {.op = DDP_OP_UNIT_CREATE};

	q.u.unit_stat.unit = dd_str_c(unit);
	return simple(c, &q, NULL);
}

int ddp_ustat(ddp_conn *c, const char *unit, ddp_unit_stat *out)
{
	ddp_req q = {.op = DDP_OP_UNIT_STAT};
	ddp_resp r;
	int rc;

	q.u.unit_stat.unit = dd_str_c(unit);
	if ((rc = rpc(c, &q, &r)) != DD_OK)
		return rc;
	*out = r.u.unit_stat;
	ddp_resp_release(&r);
	return DD_OK;
}

int ddp_units(ddp_conn *c, ddp_units_cb cb, void *arg)
{
	char last[DDP_MAX_UNIT + 1] = "";
	size_t last_len = 0;
	ddp_req q = {.op = DDP_OP_UNIT_LIST};
	ddp_resp r;
	int rc, more = 1;

	while (more) {
		q.u.unit_list.start_after = (dd_str){last, last_len};
		q.u.unit_list.limit = DDP_MAX_LIST;
		if ((rc = rpc(c, &q, &r)) != DD_OK)
			return rc;
		more = r.u.unit_list.more && r.u.unit_list.count;
		for (unsigned i = 0; i < r.u.unit_list.count && rc == DD_OK; i++)
			rc = cb(arg, &r.u.unit_list.units[i]);
		if (r.u.unit_list.count) {
			const ddp_unit_info *u = &r.u.unit_list.units[r.u.unit_list.count - 1];
			last_len = DD_MIN(u->name.len, (size_t)DDP_MAX_UNIT);
			memcpy(last, u->name.p, last_len);
		}
		ddp_resp_release(&r);
		if (rc != DD_OK)
			return rc;
	}
	return DD_OK;
}
