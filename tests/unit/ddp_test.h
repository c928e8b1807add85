/* tests/unit/ddp_test.h - helpers shared by the DDP unit tests (header
 * only): a memory transport that connects libddp to a ddp_session in the
 * same process. Client bytes queue in `in` and are fed to the session when
 * the client waits for an answer (closed, or nothing to answer: EOF). */
#ifndef DDP_TEST_H
#define DDP_TEST_H

#include <stdlib.h>
#include <string.h>

#include "ddproto/ddp.h"
#include "ddproto/libddp.h"

typedef struct mem_io {
	ddp_session *s;
	dd_buf in;
} mem_io;

static inline int mem_send(void *ctx, const void *p, size_t n)
{
	mem_io *m = ctx;

	return dd_buf_append(&m->in, p, n);
}

static inline int mem_recv(void *ctx, void *p, size_t cap, size_t *got)
{
	mem_io *m = ctx;
	const uint8_t *o;
	size_t n, used;

	for (;;) {
		o = ddp_session_output(m->s, &n);
		if (n) {
			*got = DD_MIN(n, cap);
			memcpy(p, o, *got);
			ddp_session_output_consume(m->s, *got);
			return DD_OK;
		}
		if (ddp_session_state(m->s) == DDP_ST_CLOSING || !m->in.len) {
			*got = 0;
			return DD_OK;
		}
		(void)!ddp_session_feed(m->s, m->in.data, m->in.len, &used);
		dd_buf_consume(&m->in, used);
	}
}

static inline void mem_close(void *ctx)
{
	mem_io *m = ctx;

	ddp_session_free(m->s);
	dd_buf_release(&m->in);
	free(m);
}

#endif /* DDP_TEST_H */
