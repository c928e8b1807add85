/*
 * tests/unit/test_ddp_libddp.c - libddp helpers that need no server
 * process: ddp_source_size (regular and sparse files, pipes, character
 * devices), which chunk parameters ddp_chunk_params picks from what HELLO
 * announced, and ddp_conn_reconnect on a connection it cannot redial. The
 * client talks to a real ddp_session over an in-memory transport.
 *
 * Block devices: BLKGETSIZE64 needs a block device the test can open,
 * which an unprivileged test cannot create (no loop devices without root);
 * that branch is not exercised here and not faked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddproto/ddp.h"
#include "ddproto/libddp.h"
#include "ddproto/memstore.h"
#include "ddp_test.h"


/* A libddp connection to a memstore session announcing cfg's chunking. */
static ddp_conn *connect_mem(ddp_memstore *ms, const ddp_session_cfg *cfg)
{
	mem_io *m = calloc(1, sizeof(*m));
	ddp_io io = {m, mem_send, mem_recv, mem_close};
	ddp_conn *c = NULL;

	assert_non_null(m);
	dd_buf_init(&m->in, 4u << 20);
	m->s = ddp_session_new(&ddp_memstore_ops, ms, cfg);
	assert_non_null(m->s);
	assert_int_equal(ddp_conn_open_io(&io, "AKMEM", "memsecret", &c), DD_OK);
	return c;
}

static void test_source_size(void **state)
{
	char path[] = "/tmp/test_ddp_libddp.XXXXXX";
	uint64_t size = 1;
	int fd, is_blk = 1, pfd[2];

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ddp_source_size(fd, &size, &is_blk), DD_OK);
	assert_int_equal(size, 0);
	assert_int_equal(is_blk, 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	assert_int_equal(ddp_source_size(fd, &size, &is_blk), DD_OK);
	assert_int_equal(size, 5);
	/* a sparse 4 GiB image: its size, holes included */
	assert_int_equal(ftruncate(fd, (off_t)4 << 30), 0);
	assert_int_equal(ddp_source_size(fd, &size, &is_blk), DD_OK);
	assert_int_equal(size, (uint64_t)4 << 30);
	assert_int_equal(is_blk, 0);
	close(fd);

	/* a pipe and a character device have no size */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ddp_source_size(pfd[0], &size, &is_blk), DD_ENOTSUP);
	close(pfd[0]);
	close(pfd[1]);
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ddp_source_size(fd, &size, &is_blk), DD_ENOTSUP);
	assert_int_equal(is_blk, 0);
	close(fd);
	/* a closed descriptor */
	assert_int_equal(ddp_source_size(fd, &size, &is_blk), DD_EIO);
}

static void test_chunk_params(void **state)
{
	ddp_memstore *ms = ddp_memstore_new();
	ddp_session_cfg cfg;
	seg_chunk_params cp;
	ddp_conn *c;

	(void)state;
	assert_non_null(ms);
	assert_int_equal(ddp_memstore_add_user(ms, "AKMEM", "memsecret"), DD_OK);
	ddp_session_cfg_default(&cfg);

	/* nothing announced: the 8 KiB defaults */
	c = connect_mem(ms, &cfg);
	assert_int_equal(ddp_chunk_params(c, &cp), 0);
	assert_int_equal(cp.avg, 8192);
	assert_int_equal(cp.min, 2048);
	assert_int_equal(cp.max, 65536);
	ddp_conn_close(c);

	/* announced and usable: taken */
	cfg.chunk_min = 4096, cfg.chunk_avg = 16384, cfg.chunk_max = 131072;
	c = connect_mem(ms, &cfg);
	assert_int_equal(ddp_chunk_params(c, &cp), 1);
	assert_int_equal(cp.min, 4096);
	assert_int_equal(cp.avg, 16384);
	assert_int_equal(cp.max, 131072);
	/* a connection made over a ddp_io cannot be redialed */
	assert_int_equal(ddp_conn_reconnect(c), DD_ENOTSUP);
	ddp_conn_close(c);

	/* a largest chunk over max_segment cannot travel in DSP: defaults */
	cfg.chunk_min = 16384, cfg.chunk_avg = 65536, cfg.chunk_max = 524288;
	c = connect_mem(ms, &cfg);
	assert_int_equal(ddp_chunk_params(c, &cp), 0);
	assert_int_equal(cp.avg, 8192);
	ddp_conn_close(c);

	/* parameters the chunker rejects (avg not a power of two): defaults */
	cfg.chunk_min = 4096, cfg.chunk_avg = 10000, cfg.chunk_max = 80000;
	c = connect_mem(ms, &cfg);
	assert_int_equal(ddp_chunk_params(c, &cp), 0);
	assert_int_equal(cp.avg, 8192);
	ddp_conn_close(c);
	ddp_memstore_free(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_size),
		cmocka_unit_test(test_chunk_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
