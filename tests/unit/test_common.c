/* tests/unit/test_common.c - errors, log levels, bounded buffer, slices, arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dd.h"

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(dd_strerror(DD_OK), "success");
	assert_string_equal(dd_strerror(DD_ENOENT), "not found");
	assert_string_equal(dd_errname(DD_EQUOTA), "EQUOTA");
	assert_string_equal(dd_strerror(-1), "unknown error");
	assert_string_equal(dd_strerror(DD_RC_COUNT), "unknown error");
	for (int rc = 0; rc < DD_RC_COUNT; rc++) {
		assert_string_not_equal(dd_strerror(rc), "unknown error");
		assert_string_not_equal(dd_errname(rc), "EUNKNOWN");
	}
}

static void test_rc_from_errno(void **state)
{
	(void)state;
	assert_int_equal(dd_rc_from_errno(0), DD_OK);
	assert_int_equal(dd_rc_from_errno(ENOSPC), DD_ENOSPC);
	assert_int_equal(dd_rc_from_errno(ENOENT), DD_ENOENT);
	assert_int_equal(dd_rc_from_errno(EBADF), DD_EIO);
}

static void test_log_levels(void **state)
{
	(void)state;
	assert_int_equal(dd_log_level_parse("debug"), DD_LOG_DEBUG);
	assert_int_equal(dd_log_level_parse("error"), DD_LOG_ERROR);
	assert_int_equal(dd_log_level_parse("loud"), -1);
	assert_string_equal(dd_log_level_name(DD_LOG_WARN), "warn");
}

static void test_log_file_and_reopen(void **state)
{
	char dir[] = "/tmp/dd-test-log.XXXXXX", path[300], moved[300];
	dd_buf b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(moved, sizeof(moved), "%s/log.1", dir);
	assert_int_equal(dd_log_set_file(path), DD_OK);
	dd_log_set_level(DD_LOG_INFO);
	dd_log(DD_LOG_INFO, "first %d", 1);
	dd_log(DD_LOG_DEBUG, "hidden %d", 2); /* below level: not written */
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(dd_log_reopen(), DD_OK);
	dd_log(DD_LOG_WARN, "second\nline");
	assert_int_equal(dd_log_set_file(NULL), DD_OK);

	dd_buf_init(&b, 1 << 20);
	assert_int_equal(dd_read_file(moved, &b), DD_OK);
	assert_non_null(strstr(b.data, "info  first 1\n"));
	assert_null(strstr(b.data, "hidden"));
	dd_buf_reset(&b);
	assert_int_equal(dd_read_file(path, &b), DD_OK);
	/* a newline in a message never splits the event over two lines */
	assert_non_null(strstr(b.data, "warn  second line\n"));
	dd_buf_release(&b);
	unlink(path);
	unlink(moved);
	rmdir(dir);
}

static void test_buf_bounds(void **state)
{
	dd_buf b;

	(void)state;
	dd_buf_init(&b, 10);
	assert_int_equal(dd_buf_append(&b, "hello", 5), DD_OK);
	assert_int_equal(dd_buf_appendf(&b, "%d", 1234), DD_OK);
	assert_int_equal(b.len, 9);
	assert_string_equal(b.data, "hello1234");
	/* past max: refused and unchanged */
	assert_int_equal(dd_buf_append(&b, "xy", 2), DD_ETOOBIG);
	assert_int_equal(dd_buf_appendf(&b, "%s", "xy"), DD_ETOOBIG);
	assert_int_equal(b.len, 9);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(dd_buf_append(&b, "z", 1), DD_OK);
	assert_int_equal(b.len, 10);
	dd_buf_consume(&b, 5);
	assert_string_equal(b.data, "1234z");
	dd_buf_reset(&b);
	assert_int_equal(b.len, 0);
	dd_buf_release(&b);
	assert_null(b.data);
}

static void test_buf_grow_and_take(void **state)
{
	dd_buf b;
	size_t len;
	char *p;

	(void)state;
	dd_buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(dd_buf_append_str(&b, "ab"), DD_OK);
	assert_int_equal(b.len, 20000);
	assert_true(b.cap > b.len);
	p = dd_buf_take(&b, &len);
	assert_int_equal(len, 20000);
	assert_int_equal(p[len], '\0');
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);
	/* huge reservations fail cleanly instead of overflowing */
	assert_int_equal(dd_buf_reserve(&b, SIZE_MAX), DD_ETOOBIG);
}

static void test_str(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_true(dd_str_eq_c(DD_STR_LIT("abc"), "abc"));
	assert_false(dd_str_eq_c(DD_STR_LIT("abc"), "abcd"));
	assert_int_equal(dd_str_casecmp_c(DD_STR_LIT("Content-Length"), "content-length"), 0);
	assert_true(dd_str_starts_with(DD_STR_LIT("x-amz-meta-a"), "x-amz-meta-"));
	assert_int_equal(dd_str_to_u64(DD_STR_LIT("18446744073709551615"), &v), DD_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(dd_str_to_u64(DD_STR_LIT("18446744073709551616"), &v), DD_EINVAL);
	assert_int_equal(dd_str_to_u64(DD_STR_LIT("-1"), &v), DD_EINVAL);
	assert_int_equal(dd_str_to_u64(DD_STR_LIT(""), &v), DD_EINVAL);
	assert_int_equal(dd_str_to_u64(DD_STR_LIT("12a"), &v), DD_EINVAL);
}

static void test_arena(void **state)
{
	dd_arena *a = dd_arena_new(100000);
	char *s;

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 100; i++) {
		void *p = dd_arena_alloc(a, 100);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xab, 100);
	}
	s = dd_arena_strndup(a, "hello world", 5);
	assert_string_equal(s, "hello");
	assert_non_null(dd_arena_alloc(a, 50000)); /* larger than one block */
	assert_null(dd_arena_alloc(a, 50000));     /* over the limit */
	dd_arena_free(a);
}

static void test_hex(void **state)
{
	unsigned char in[4] = {0x00, 0xff, 0x12, 0xab}, out[4];
	char hex[9];

	(void)state;
	dd_hex_encode(in, 4, hex);
	assert_string_equal(hex, "00ff12ab");
	assert_int_equal(dd_hex_decode("00FF12ab", 8, out), DD_OK);
	assert_memory_equal(in, out, 4);
	assert_int_equal(dd_hex_decode("0g", 2, out), DD_EINVAL);
	assert_int_equal(dd_hex_decode("abc", 3, out), DD_EINVAL);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/dd-test-files.XXXXXX", sub[256], path[300];
	struct stat st;
	dd_buf b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(dd_mkdir_p(sub, 0700), DD_OK);
	assert_int_equal(dd_mkdir_p(sub, 0700), DD_OK);
	snprintf(path, sizeof(path), "%s/secret", sub);
	assert_int_equal(dd_write_file_atomic(path, "k=v\n", 4, 0600), DD_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	dd_buf_init(&b, 3);
	assert_int_equal(dd_read_file(path, &b), DD_ETOOBIG);
	dd_buf_release(&b);
	dd_buf_init(&b, 100);
	assert_int_equal(dd_read_file(path, &b), DD_OK);
	assert_string_equal(b.data, "k=v\n");
	dd_buf_release(&b);
	assert_int_equal(dd_read_file("/nonexistent/x", &b), DD_ENOENT);
	unsigned char r1[16] = {0}, r2[16] = {0};
	assert_int_equal(dd_random_bytes(r1, 16), DD_OK);
	assert_int_equal(dd_random_bytes(r2, 16), DD_OK);
	assert_memory_not_equal(r1, r2, 16);
	unlink(path);
	assert_int_equal(system("rm -rf /tmp/dd-test-files.*"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_rc_from_errno),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_file_and_reopen),
		cmocka_unit_test(test_buf_bounds),
		cmocka_unit_test(test_buf_grow_and_take),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
