/*
 * gateway/server.c - the daemon: I/O loops (one libevent base and thread
 * each), the worker pool, the long lane (one thread for admin jobs that run
 * for minutes, such as verify, so they never hold a pool worker that S3 and
 * DDP requests need), listeners (plain or TLS), connection tracking,
 * signals and graceful shutdown.
 *
 * The main thread accepts on every listener and hands each socket to an
 * I/O loop round-robin (gw_loop_post); from then on the connection lives
 * on that loop's thread only.
 */
#include "gateway/gw_int.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[GW_LISTENER_COUNT] = {"s3", "ddp", "admin"};

struct task {
	struct task *next;
	void (*fn)(void *arg);
	void *arg;
};

/* A tracked connection (HTTP or protocol), in its loop's list. */
struct conn_rec {
	struct conn_rec *prev, *next;
	gw_loop *loop;
	enum gw_listener_kind kind;
	gw_http_conn *http; /* HTTP listeners */
	gw_pconn *pconn;    /* protocol listeners */
};

struct gw_pconn {
	struct conn_rec rec;
	struct bufferevent *bev;
	void *udata;
};

struct gw_loop {
	gw_daemon *d;
	unsigned idx;
	struct event_base *base;
	struct event *task_ev;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	struct task *head, **tail;
	struct conn_rec conns; /* list head (circular) */
	atomic_int draining;
};

struct listener {
	gw_daemon *d;
	enum gw_listener_kind kind;
	int fd;
	unsigned port;
	char host[64];
	SSL_CTX *tls;
	struct evconnlistener *ev;
	gw_http_server *http;
};

struct job {
	struct job *next;
	struct task *done_task; /* allocated at submit: posting cannot fail */
	gw_loop *loop;
	void (*fn)(void *arg);
	void (*done)(void *arg, int rc);
	void *arg;
	int rc;
};

/* A job queue and the threads serving it (the pool, or the long lane);
 * guarded by the daemon's wmu. */
struct jqueue {
	gw_daemon *d;
	pthread_cond_t cv;
	struct job *head, **tail;
};

struct gw_daemon {
	gw_config cfg;
	struct event_base *main_base;
	struct event *sig_ev[3];
	struct event *stop_ev;
	gw_loop *loops;
	unsigned nloops, next_loop;
	struct listener lst[GW_LISTENER_COUNT];
	gw_proto_handler ddp;
	struct gw_admin_ctx admin;
	atomic_int nconns;
	atomic_int stopping;
	int ran, shut_done;
	gw_metric *open_conns, *rejected;
	/* worker pool and long lane (both queues under wmu) */
	pthread_t *workers;
	unsigned nworkers;
	pthread_t lane_thread;
	int lane_started;
	pthread_mutex_t wmu;
	struct jqueue pool, lane;
	int wstop;
	/* set when shutdown begins: long jobs poll it (gw_work_cancel_flag) */
	atomic_int cancel;
};

static int64_t start_mono;

int64_t gw_start_mono_ns(void)
{
	return start_mono;
}

/* ------------------------------------------------------------------ loops */

struct event_base *gw_loop_base(gw_loop *loop)
{
	return loop->base;
}

int gw_loop_draining(gw_loop *loop)
{
	return atomic_load(&loop->draining);
}

/* Queues t (malloc'ed; run_tasks frees it) on loop. Cannot fail. */
static void loop_enqueue(gw_loop *loop, struct task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&loop->mu);
	*loop->tail = t;
	loop->tail = &t->next;
	pthread_mutex_unlock(&loop->mu);
	/* Thread-safe: evthread_use_pthreads() was called before the base. */
	event_active(loop->task_ev, EV_READ, 0);
}

int gw_loop_post(gw_loop *loop, void (*fn)(void *arg), void *arg)
{
	struct task *t = malloc(sizeof(*t));

	if (!t)
		return DD_ENOMEM;
	t->fn = fn;
	t->arg = arg;
	loop_enqueue(loop, t);
	return DD_OK;
}

/* Runs every queued task (on the loop thread, or after it stopped). */
static void run_tasks(gw_loop *loop)
{
	for (;;) {
		struct task *t;
		pthread_mutex_lock(&loop->mu);
		t = loop->head;
		if (t) {
			loop->head = t->next;
			if (!loop->head)
				loop->tail = &loop->head;
		}
		pthread_mutex_unlock(&loop->mu);
		if (!t)
			return;
		t->fn(t->arg);
		free(t);
	}
}

static void task_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_tasks(arg);
}

static void *loop_main(void *arg)
{
	gw_loop *loop = arg;

	event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void rec_link(gw_loop *loop, struct conn_rec *r)
{
	r->loop = loop;
	r->next = loop->conns.next;
	r->prev = &loop->conns;
	loop->conns.next->prev = r;
	loop->conns.next = r;
}

static void rec_unlink(gw_daemon *d, struct conn_rec *r)
{
	const char *labels[1] = {kind_names[r->kind]};

	r->prev->next = r->next;
	r->next->prev = r->prev;
	atomic_fetch_sub(&d->nconns, 1);
	gw_metric_add(d->open_conns, labels, -1);
}

/* ------------------------------------------------------------ worker pool */

static void job_done_task(void *arg)
{
	struct job *j = arg;

	j->done(j->arg, j->rc);
	free(j);
}

/* A pool worker or the long lane: runs the jobs of one queue (arg). */
static void *worker_main(void *arg)
{
	struct jqueue *q = arg;
	gw_daemon *d = q->d;

	for (;;) {
		struct job *j;
		pthread_mutex_lock(&d->wmu);
		while (!q->head && !d->wstop)
			pthread_cond_wait(&q->cv, &d->wmu);
		if (d->wstop) {
			pthread_mutex_unlock(&d->wmu);
			return NULL;
		}
		j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = &q->head;
		pthread_mutex_unlock(&d->wmu);
		j->fn(j->arg);
		j->rc = DD_OK;
		/* done always runs on the loop thread: its task was allocated
		 * at submit time, so nothing here can fail. */
		j->done_task->fn = job_done_task;
		j->done_task->arg = j;
		loop_enqueue(j->loop, j->done_task);
	}
}

/* Queues a job on q; the contract of gw_work_submit. */
static int submit(gw_loop *loop, struct jqueue *q, void (*fn)(void *arg),
		  void *arg, void (*done)(void *arg, int rc))
{
	gw_daemon *d = loop->d;
	struct job *j;

	if (atomic_load(&d->stopping) > 1)
		return DD_ESHUTDOWN;
	if (!(j = calloc(1, sizeof(*j))))
		return DD_ENOMEM;
	if (!(j->done_task = malloc(sizeof(*j->done_task)))) {
		free(j);
		return DD_ENOMEM;
	}
	j->loop = loop;
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&d->wmu);
	if (d->wstop) {
		pthread_mutex_unlock(&d->wmu);
		free(j->done_task);
		free(j);
		return DD_ESHUTDOWN;
	}
	*q->tail = j;
	q->tail = &j->next;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&d->wmu);
	return DD_OK;
}

int gw_work_submit(gw_loop *loop, void (*fn)(void *arg), void *arg,
		   void (*done)(void *arg, int rc))
{
	return submit(loop, &loop->d->pool, fn, arg, done);
}

int gw_work_submit_long(gw_loop *loop, void (*fn)(void *arg), void *arg,
			void (*done)(void *arg, int rc))
{
	return submit(loop, &loop->d->lane, fn, arg, done);
}

const atomic_int *gw_work_cancel_flag(gw_loop *loop)
{
	return &loop->d->cancel;
}

/* Jobs of q that never ran get done(arg, DD_ESHUTDOWN). */
static void queue_fail(struct jqueue *q)
{
	struct job *j, *next;

	for (j = q->head; j; j = next) {
		next = j->next;
		j->rc = DD_ESHUTDOWN;
		free(j->done_task); /* never posted */
		job_done_task(j);
	}
	q->head = NULL;
	q->tail = &q->head;
}

/* Stops the workers and the long lane (a running job finishes first: long
 * jobs saw d->cancel set when shutdown began). */
static void workers_stop(gw_daemon *d)
{
	pthread_mutex_lock(&d->wmu);
	d->wstop = 1;
	pthread_cond_broadcast(&d->pool.cv);
	pthread_cond_broadcast(&d->lane.cv);
	pthread_mutex_unlock(&d->wmu);
	for (unsigned i = 0; i < d->nworkers; i++)
		pthread_join(d->workers[i], NULL);
	d->nworkers = 0;
	if (d->lane_started)
		pthread_join(d->lane_thread, NULL);
	d->lane_started = 0;
	queue_fail(&d->pool);
	queue_fail(&d->lane);
}

/* ------------------------------------------------------ protocol conns */

struct bufferevent *gw_pconn_bev(gw_pconn *c)
{
	return c->bev;
}

gw_loop *gw_pconn_loop(gw_pconn *c)
{
	return c->rec.loop;
}

void gw_pconn_set_udata(gw_pconn *c, void *udata)
{
	c->udata = udata;
}

void *gw_pconn_udata(gw_pconn *c)
{
	return c->udata;
}

void gw_pconn_close(gw_pconn *c)
{
	rec_unlink(c->rec.loop->d, &c->rec);
	bufferevent_free(c->bev);
	free(c);
}

static void close_on_accept(gw_pconn *c, void *ctx)
{
	(void)ctx;
	gw_pconn_close(c);
}

const gw_proto_handler gw_proto_close_handler = {
	.on_accept = close_on_accept,
};

/* ----------------------------------------------------------- accepting */

struct accepted {
	gw_daemon *d;
	gw_loop *loop;
	enum gw_listener_kind kind;
	evutil_socket_t fd;
	char peer[64];
};

static void http_closed(void *arg)
{
	struct conn_rec *r = arg;

	rec_unlink(r->loop->d, r);
	free(r);
}

static struct bufferevent *make_bev(gw_loop *loop, struct listener *l,
				    evutil_socket_t fd)
{
	SSL *ssl;
	struct bufferevent *bev;

	if (!l->tls)
		return bufferevent_socket_new(loop->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!(ssl = SSL_new(l->tls)))
		return NULL;
	bev = bufferevent_openssl_socket_new(loop->base, fd, ssl,
					     BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* On the loop thread: wraps the socket and starts serving it. */
static void accepted_task(void *arg)
{
	struct accepted *a = arg;
	gw_daemon *d = a->d;
	struct listener *l = &d->lst[a->kind];
	const char *labels[1] = {kind_names[a->kind]};
	struct bufferevent *bev = NULL;
	struct conn_rec *r = NULL;

	if (atomic_load(&d->stopping) > 1 ||
	    !(bev = make_bev(a->loop, l, a->fd))) {
		if (!bev)
			evutil_closesocket(a->fd);
		atomic_fetch_sub(&d->nconns, 1);
		goto out;
	}
	gw_metric_add(d->open_conns, labels, 1);
	if (a->kind == GW_LISTENER_DDP) {
		gw_pconn *c = calloc(1, sizeof(*c));
		if (!c)
			goto fail;
		c->bev = bev;
		c->rec.kind = a->kind;
		c->rec.pconn = c;
		rec_link(a->loop, &c->rec);
		d->ddp.on_accept(c, d->ddp.ctx);
		goto out;
	}
	if (!(r = calloc(1, sizeof(*r))))
		goto fail;
	r->kind = a->kind;
	rec_link(a->loop, r);
	r->http = gw_http_conn_new(l->http, a->loop, bev, a->peer, http_closed, r);
	if (!r->http) {
		http_closed(r);
		goto out;
	}
	goto out;
fail:
	bufferevent_free(bev);
	atomic_fetch_sub(&d->nconns, 1);
	gw_metric_add(d->open_conns, labels, -1);
out:
	free(a);
}

static void format_peer(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	gw_addr_format(host, port, out, cap);
}

static void accept_cb(struct evconnlistener *ev, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	gw_daemon *d = l->d;
	struct accepted *a;
	const char *labels[1] = {kind_names[l->kind]};

	(void)salen;
	(void)ev;
	if (atomic_fetch_add(&d->nconns, 1) >= (int)d->cfg.max_connections) {
		atomic_fetch_sub(&d->nconns, 1);
		gw_metric_add(d->rejected, labels, 1);
		dd_log(DD_LOG_WARN, "%s: connection limit (%u) reached, refusing",
		       kind_names[l->kind], d->cfg.max_connections);
		evutil_closesocket(fd);
		return;
	}
	if (!(a = calloc(1, sizeof(*a)))) {
		atomic_fetch_sub(&d->nconns, 1);
		evutil_closesocket(fd);
		return;
	}
	a->d = d;
	a->kind = l->kind;
	a->fd = fd;
	format_peer(sa, a->peer, sizeof(a->peer));
	a->loop = &d->loops[d->next_loop++ % d->nloops];
	if (gw_loop_post(a->loop, accepted_task, a) != DD_OK) {
		atomic_fetch_sub(&d->nconns, 1);
		evutil_closesocket(fd);
		free(a);
	}
}

/* ---------------------------------------------------------- listeners */

static int bind_listener(struct listener *l, const gw_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr->host, ':')) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(addr->port);
		inet_pton(AF_INET6, addr->host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(addr->port);
		inet_pton(AF_INET, addr->host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 511) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		l->port = ntohs(ss.ss_family == AF_INET6 ?
					((struct sockaddr_in6 *)&ss)->sin6_port :
					((struct sockaddr_in *)&ss)->sin_port);
	snprintf(l->host, sizeof(l->host), "%s", addr->host);
	l->fd = fd;
	return 0;
}

static SSL_CTX *make_tls(const gw_listen_conf *lc, const char *what)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char err[256];

	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, lc->tls_cert) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		fprintf(stderr, "dedupd: [%s] tls_cert %s: %s\n", what,
			lc->tls_cert, err);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, lc->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		fprintf(stderr, "dedupd: [%s] tls_key %s: %s\n", what,
			lc->tls_key, err);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static const gw_listen_conf *listen_conf(const gw_config *cfg,
					 enum gw_listener_kind k)
{
	return k == GW_LISTENER_S3 ? &cfg->s3 :
	       k == GW_LISTENER_DDP ? &cfg->ddp : &cfg->admin;
}

static int setup_listeners(gw_daemon *d)
{
	for (int k = 0; k < GW_LISTENER_COUNT; k++) {
		struct listener *l = &d->lst[k];
		const gw_listen_conf *lc = listen_conf(&d->cfg, k);
		char addr[96];

		l->kind = k;
		l->d = d;
		if (lc->tls_cert[0] && !(l->tls = make_tls(lc, kind_names[k])))
			return DD_ECONFIG;
		if (bind_listener(l, &lc->listen) < 0) {
			gw_addr_format(lc->listen.host, lc->listen.port, addr,
				       sizeof(addr));
			fprintf(stderr, "dedupd: cannot listen on %s (%s): %s\n",
				addr, kind_names[k], strerror(errno));
			return DD_EIO;
		}
		l->ev = evconnlistener_new(d->main_base, accept_cb, l,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED,
					   -1, l->fd);
		if (!l->ev)
			return DD_ENOMEM; /* gw_daemon_free closes l->fd */
		if (k == GW_LISTENER_DDP)
			continue;
		l->http = gw_http_server_new(
			kind_names[k],
			k == GW_LISTENER_ADMIN ? &gw_admin_handler :
						 &gw_s3_placeholder_handler,
			k == GW_LISTENER_ADMIN ? (void *)&d->admin : NULL,
			d->cfg.max_header_bytes, d->cfg.idle_timeout_seconds);
		if (!l->http)
			return DD_ENOMEM;
	}
	return DD_OK;
}

/* ------------------------------------------------------------- daemon */

static unsigned ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

static int start_threads(gw_daemon *d)
{
	sigset_t all, old;
	int rc = DD_OK;

	/* Threads inherit a full signal mask: signals go to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < d->nloops && rc == DD_OK; i++) {
		if (pthread_create(&d->loops[i].thread, NULL, loop_main,
				   &d->loops[i]) != 0)
			rc = DD_ENOMEM;
		else
			d->loops[i].started = 1;
	}
	for (unsigned i = 0; i < d->nworkers && rc == DD_OK; i++)
		if (pthread_create(&d->workers[i], NULL, worker_main, &d->pool) != 0) {
			d->nworkers = i;
			rc = DD_ENOMEM;
		}
	if (rc == DD_OK) {
		if (pthread_create(&d->lane_thread, NULL, worker_main, &d->lane) != 0)
			rc = DD_ENOMEM;
		else
			d->lane_started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int init_loops(gw_daemon *d)
{
	d->nloops = d->cfg.io_threads ? d->cfg.io_threads : ncores();
	d->loops = calloc(d->nloops, sizeof(*d->loops));
	if (!d->loops)
		return DD_ENOMEM;
	for (unsigned i = 0; i < d->nloops; i++) {
		gw_loop *l = &d->loops[i];
		l->d = d;
		l->idx = i;
		pthread_mutex_init(&l->mu, NULL);
		l->tail = &l->head;
		l->conns.next = l->conns.prev = &l->conns;
		if (!(l->base = event_base_new()) ||
		    !(l->task_ev = event_new(l->base, -1, 0, task_cb, l)))
			return DD_ENOMEM;
	}
	d->nworkers = d->cfg.worker_threads ? d->cfg.worker_threads : ncores();
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->workers)
		return DD_ENOMEM;
	pthread_mutex_init(&d->wmu, NULL);
	pthread_cond_init(&d->pool.cv, NULL);
	pthread_cond_init(&d->lane.cv, NULL);
	d->pool.d = d->lane.d = d;
	d->pool.tail = &d->pool.head;
	d->lane.tail = &d->lane.head;
	return DD_OK;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg);

int gw_daemon_new(const gw_config *cfg, gw_daemon **out)
{
	static int evthread_done;
	gw_daemon *d;
	int rc;

	*out = NULL;
	if (!evthread_done) {
		if (evthread_use_pthreads() != 0)
			return DD_EINTERNAL;
		evthread_done = 1;
	}
	if (!start_mono)
		start_mono = dd_mono_ns();
	if (!(d = calloc(1, sizeof(*d))))
		return DD_ENOMEM;
	d->cfg = *cfg;
	d->admin.data_dir = d->cfg.data_dir;
	d->ddp = gw_proto_close_handler;
	for (int k = 0; k < GW_LISTENER_COUNT; k++)
		d->lst[k].fd = -1;
	d->open_conns = gw_metric_register(gw_metrics_default(), GW_GAUGE,
					   "dedupd_open_connections",
					   "Open client connections, by listener.",
					   "listener", NULL, 0);
	d->rejected = gw_metric_register(
		gw_metrics_default(), GW_COUNTER,
		"dedupd_connections_rejected_total",
		"Connections refused because max_connections was reached.",
		"listener", NULL, 0);
	{
		gw_metric *bi = gw_metric_register(
			gw_metrics_default(), GW_GAUGE, "dedupd_build_info",
			"Always 1; the version label says which dedupd runs.",
			"version", NULL, 0);
		const char *v[1] = {DD_VERSION};
		gw_metric_set(bi, v, 1);
	}
	if (!(d->main_base = event_base_new())) {
		rc = DD_ENOMEM;
		goto fail;
	}
	if (!(d->stop_ev = event_new(d->main_base, -1, 0, stop_cb, d))) {
		rc = DD_ENOMEM;
		goto fail;
	}
	if ((rc = init_loops(d)) != DD_OK || (rc = setup_listeners(d)) != DD_OK)
		goto fail;
	for (int k = 0; k < GW_LISTENER_COUNT; k++) {
		const char *labels[1] = {kind_names[k]};
		gw_metric_set(d->open_conns, labels, 0);
	}
	*out = d;
	return DD_OK;
fail:
	gw_daemon_free(d);
	return rc;
}

void gw_daemon_set_s3_handler(gw_daemon *d, const struct gw_http_handler *h,
			      void *ctx)
{
	gw_http_server_set_handler(d->lst[GW_LISTENER_S3].http, h, ctx);
}

void gw_daemon_set_ddp_handler(gw_daemon *d, const gw_proto_handler *h)
{
	d->ddp = *h;
}

const gw_config *gw_daemon_config(gw_daemon *d)
{
	return &d->cfg;
}

unsigned gw_daemon_port(gw_daemon *d, enum gw_listener_kind kind)
{
	return d->lst[kind].port;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	gw_daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		if (dd_log_reopen() != DD_OK)
			dd_log(DD_LOG_ERROR, "SIGHUP: cannot reopen log file");
		dd_log(DD_LOG_INFO, "SIGHUP: log file reopened");
		return;
	}
	dd_log(DD_LOG_INFO, "received %s, shutting down",
	       sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(d->main_base);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	gw_daemon *d = arg;

	(void)fd;
	(void)what;
	dd_log(DD_LOG_INFO, "stop requested, shutting down");
	event_base_loopbreak(d->main_base);
}

void gw_daemon_stop(gw_daemon *d)
{
	/* An active event survives until dispatched: a stop requested
	 * before gw_daemon_run reaches its loop is not lost. */
	event_active(d->stop_ev, EV_TIMEOUT, 0);
}

static void drain_task(void *arg)
{
	gw_loop *loop = arg;
	struct conn_rec *r, *next;

	gw_daemon *d = loop->d;

	atomic_store(&loop->draining, 1);
	for (r = loop->conns.next; r != &loop->conns; r = next) {
		next = r->next; /* on_drain may close r->pconn at once */
		if (r->http)
			gw_http_conn_drain(r->http);
		else if (r->pconn && d->ddp.on_drain)
			d->ddp.on_drain(r->pconn, d->ddp.ctx);
	}
}

static void break_task(void *arg)
{
	gw_loop *loop = arg;

	event_base_loopbreak(loop->base);
}

/* Frees the connections left on a stopped loop. */
static void close_leftovers(gw_loop *loop)
{
	gw_daemon *d = loop->d;

	while (loop->conns.next != &loop->conns) {
		struct conn_rec *r = loop->conns.next;
		if (r->http) {
			gw_http_conn_free(r->http); /* unlinks r */
		} else if (r->pconn) {
			gw_pconn *c = r->pconn;
			if (d->ddp.on_shutdown)
				d->ddp.on_shutdown(c, d->ddp.ctx);
			gw_pconn_close(c);
		} else {
			rec_unlink(d, r);
			free(r);
		}
	}
}

static void shutdown_all(gw_daemon *d)
{
	int64_t deadline = dd_mono_ns() +
			   (int64_t)d->cfg.shutdown_grace_seconds * 1000000000;
	struct timespec ts = {0, 20 * 1000 * 1000};

	if (d->shut_done)
		return;
	d->shut_done = 1;
	atomic_store(&d->stopping, 1);
	/* Long jobs (verify) stop now and answer while connections drain,
	 * rather than holding the exit until they end. */
	atomic_store(&d->cancel, 1);
	for (int k = 0; k < GW_LISTENER_COUNT; k++)
		if (d->lst[k].ev) {
			evconnlistener_free(d->lst[k].ev); /* closes the fd */
			d->lst[k].ev = NULL;
			d->lst[k].fd = -1;
		}
	for (unsigned i = 0; i < d->nloops; i++)
		if (gw_loop_post(&d->loops[i], drain_task, &d->loops[i]) != DD_OK)
			dd_log(DD_LOG_ERROR, "shutdown: cannot drain loop %u", i);
	while (atomic_load(&d->nconns) > 0 && dd_mono_ns() < deadline)
		nanosleep(&ts, NULL);
	if (atomic_load(&d->nconns) > 0)
		dd_log(DD_LOG_WARN, "shutdown: closing %d connection(s) still open",
		       atomic_load(&d->nconns));
	atomic_store(&d->stopping, 2);
	for (unsigned i = 0; i < d->nloops; i++) {
		gw_loop *loop = &d->loops[i];
		if (!loop->started)
			continue;
		if (gw_loop_post(loop, break_task, loop) != DD_OK)
			event_base_loopbreak(loop->base);
		pthread_join(loop->thread, NULL);
		loop->started = 0;
	}
	workers_stop(d);
	for (unsigned i = 0; i < d->nloops; i++)
		run_tasks(&d->loops[i]);
	for (unsigned i = 0; i < d->nloops; i++)
		close_leftovers(&d->loops[i]);
	for (unsigned i = 0; i < d->nloops; i++)
		run_tasks(&d->loops[i]);
}

int gw_daemon_run(gw_daemon *d, void (*ready)(gw_daemon *d))
{
	static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
	int rc;

	d->ran = 1;
	for (int i = 0; i < 3; i++) {
		d->sig_ev[i] = evsignal_new(d->main_base, sigs[i], signal_cb, d);
		if (!d->sig_ev[i] || event_add(d->sig_ev[i], NULL) != 0)
			return DD_ENOMEM;
	}
	if ((rc = start_threads(d)) != DD_OK)
		goto out;
	for (int k = 0; k < GW_LISTENER_COUNT; k++)
		if (evconnlistener_enable(d->lst[k].ev) != 0) {
			rc = DD_EIO;
			goto out;
		}
	if (ready)
		ready(d);
	sd_notify(0, "READY=1");
	event_base_dispatch(d->main_base);
	sd_notify(0, "STOPPING=1");
out:
	shutdown_all(d);
	dd_log(DD_LOG_INFO, "dedupd stopped");
	return rc;
}

void gw_daemon_free(gw_daemon *d)
{
	if (!d)
		return;
	if (d->ran)
		shutdown_all(d); /* no-op when already done */
	for (int k = 0; k < GW_LISTENER_COUNT; k++) {
		struct listener *l = &d->lst[k];
		if (l->ev)
			evconnlistener_free(l->ev);
		else if (l->fd >= 0)
			close(l->fd);
		gw_http_server_free(l->http);
		SSL_CTX_free(l->tls);
	}
	for (int i = 0; i < 3; i++)
		if (d->sig_ev[i])
			event_free(d->sig_ev[i]);
	if (d->stop_ev)
		event_free(d->stop_ev);
	for (unsigned i = 0; d->loops && i < d->nloops; i++) {
		gw_loop *l = &d->loops[i];
		if (l->task_ev)
			event_free(l->task_ev);
		if (l->base)
			event_base_free(l->base);
		pthread_mutex_destroy(&l->mu);
	}
	free(d->loops);
	free(d->workers);
	if (d->pool.tail) {
		pthread_mutex_destroy(&d->wmu);
		pthread_cond_destroy(&d->pool.cv);
		pthread_cond_destroy(&d->lane.cv);
	}
	if (d->main_base)
		event_base_free(d->main_base);
	free(d);
}
