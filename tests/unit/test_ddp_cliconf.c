/* tests/unit/test_ddp_cliconf.c - ddp_cliconf_parse: keys, comments, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ddproto/libddp.h"

static int parse(const char *text, ddp_cliconf *c, char *err, size_t cap)
{
	return ddp_cliconf_parse(text, strlen(text), c, err, cap);
}

static void test_all_keys(void **state)
{
	ddp_cliconf c;
	char err[128];

	(void)state;
	assert_int_equal(parse("# mover credentials\n\n"
			       "  endpoint = backup.example:2052 \r\n"
			       "access_key=AK1\n"
			       "secret_key =  s3cr=t with spaces\n"
			       "tls = yes\n"
			       "ca_file = /etc/ddp/ca.pem", &c, err, sizeof(err)),
			 DD_OK);
	assert_string_equal(c.endpoint, "backup.example:2052");
	assert_string_equal(c.access_key, "AK1");
	/* Only the first '=' splits: secrets may contain '='. */
	assert_string_equal(c.secret_key, "s3cr=t with spaces");
	assert_int_equal(c.tls, 1);
	assert_string_equal(c.ca_file, "/etc/ddp/ca.pem");
	assert_int_equal(parse("tls = no\n", &c, err, sizeof(err)), DD_OK);
	assert_int_equal(c.tls, 0);
	assert_string_equal(c.endpoint, "");
}

static void test_errors_name_the_line_not_the_value(void **state)
{
	ddp_cliconf c;
	char err[128];

	(void)state;
	assert_int_equal(parse("endpoint = a:1\nsecret-key = hunter2\n", &c, err,
			       sizeof(err)), DD_EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "unknown key"));
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(parse("secret_key hunter2=x\n", &c, err, sizeof(err)), DD_EINVAL);
	assert_non_null(strstr(err, "unknown key"));
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(parse("tls = hunter2\n", &c, err, sizeof(err)), DD_EINVAL);
	assert_non_null(strstr(err, "line 1"));
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(parse("just words\n", &c, err, sizeof(err)), DD_EINVAL);
	assert_non_null(strstr(err, "key = value"));
}

static void test_too_long_and_nul(void **state)
{
	ddp_cliconf c;
	char err[128], text[400];
	static const char nul[] = "access_key = a\0b\n";

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "access_key = ", 13);
	assert_int_equal(ddp_cliconf_parse(text, sizeof(text), &c, err, sizeof(err)),
			 DD_EINVAL);
	assert_int_equal(ddp_cliconf_parse(nul, sizeof(nul) - 1, &c, err, sizeof(err)),
			 DD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors_name_the_line_not_the_value),
		cmocka_unit_test(test_too_long_and_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
