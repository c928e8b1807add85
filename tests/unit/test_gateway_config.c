/* tests/unit/test_gateway_config.c - INI config parser, addresses, root credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/gw.h"

static gw_config cfg;
static gw_config_err err;

static int parse(const char *text)
{
	return gw_config_parse(&cfg, text, strlen(text), "t.conf", &err);
}

static void test_defaults(void **state)
{
	(void)state;
	gw_config_defaults(&cfg);
	assert_string_equal(cfg.data_dir, "/var/lib/dedupd");
	assert_int_equal(cfg.log_level, DD_LOG_INFO);
	assert_string_equal(cfg.log_file, "");
	assert_string_equal(cfg.s3.listen.host, "127.0.0.1");
	assert_int_equal(cfg.s3.listen.port, 9000);
	assert_int_equal(cfg.ddp.listen.port, 2052);
	assert_int_equal(cfg.admin.listen.port, 9001);
	assert_string_equal(cfg.s3_region, "us-east-1");
	assert_int_equal(cfg.max_connections, 1024);
	assert_int_equal(cfg.max_header_bytes, 32768);
	assert_int_equal(cfg.chunk_avg_kib, 8);
	assert_int_equal(cfg.container_mib, 32);
	assert_int_equal(cfg.shutdown_grace_seconds, 5);
	assert_int_equal(gw_config_check(&cfg, "x", &err), DD_OK);
}

static void test_full_file(void **state)
{
	(void)state;
	gw_config_defaults(&cfg);
	assert_int_equal(parse("# comment\n; other comment\n\n"
			       "[server]\r\n  data_dir  =  /srv/dd  \n"
			       "log_level=debug\nlog_file = /var/log/dedupd.log\n"
			       "[ s3 ]\nlisten = 0.0.0.0:80\ndomain = s3.example.com\n"
			       "region = eu-west-3\n"
			       "[ddp]\nlisten = [::1]:2052\n"
			       "[limits]\nmax_connections = 7\nmax_header_bytes = 2048\n"
			       "[store]\nchunk_avg_kib = 16\ncontainer_mib = 64"),
			 DD_OK);
	assert_string_equal(cfg.data_dir, "/srv/dd");
	assert_int_equal(cfg.log_level, DD_LOG_DEBUG);
	assert_string_equal(cfg.log_file, "/var/log/dedupd.log");
	assert_string_equal(cfg.s3.listen.host, "0.0.0.0");
	assert_int_equal(cfg.s3.listen.port, 80);
	assert_string_equal(cfg.s3_domain, "s3.example.com");
	assert_string_equal(cfg.s3_region, "eu-west-3");
	assert_string_equal(cfg.ddp.listen.host, "::1");
	assert_int_equal(cfg.max_connections, 7);
	assert_int_equal(cfg.max_header_bytes, 2048);
	assert_int_equal(cfg.chunk_avg_kib, 16);
	assert_int_equal(cfg.container_mib, 64);
	/* untouched keys keep their defaults */
	assert_int_equal(cfg.admin.listen.port, 9001);
}

static void expect_error(const char *text, const char *msg)
{
	gw_config_defaults(&cfg);
	assert_int_equal(parse(text), DD_ECONFIG);
	assert_string_equal(err.msg, msg);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[server]\n\n[s3]\nlsten = 1.2.3.4:5\n",
		     "t.conf:4: unknown key 'lsten' in [s3]");
	expect_error("[nope]\n", "t.conf:1: unknown section [nope]");
	expect_error("[server\n", "t.conf:1: malformed section header");
	expect_error("x = 1\n", "t.conf:1: key 'x' outside any section");
	expect_error("[s3]\nhello\n", "t.conf:2: expected 'key = value' or '[section]'");
	expect_error("[limits]\nmax_connections = 0\n",
		     "t.conf:2: bad value '0' for key 'max_connections' in [limits]");
	expect_error("[limits]\nmax_connections = -5\n",
		     "t.conf:2: bad value '-5' for key 'max_connections' in [limits]");
	expect_error("[limits]\nmax_header_bytes = 99999999999999999999999\n",
		     "t.conf:2: bad value '99999999999999999999999' for key "
		     "'max_header_bytes' in [limits]");
	expect_error("[server]\nlog_level = verbose\n",
		     "t.conf:2: bad value 'verbose' for key 'log_level' in [server] "
		     "(want error, warn, info or debug)");
	expect_error("[s3]\nregion = EU West\n",
		     "t.conf:2: bad value 'EU West' for key 'region' in [s3]");
	expect_error("[s3]\ndomain = a/b\n",
		     "t.conf:2: bad value 'a/b' for key 'domain' in [s3]");
	expect_error("[server]\ndata_dir = a\x01" "b\n", "t.conf:2: control character in line");
}

static void test_addresses(void **state)
{
	gw_addr a;
	char out[96];

	(void)state;
	assert_int_equal(gw_addr_parse("127.0.0.1:0", 11, &a), DD_OK);
	assert_int_equal(a.port, 0);
	assert_int_equal(gw_addr_parse("[::]:65535", 10, &a), DD_OK);
	assert_string_equal(a.host, "::");
	assert_int_equal(a.port, 65535);
	assert_int_equal(gw_addr_parse("127.0.0.1:65536", 15, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse("127.0.0.1", 9, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse("localhost:80", 12, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse("::1:80", 6, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse("[::1]80", 7, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse(":80", 3, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse("1.2.3.4:", 8, &a), DD_EINVAL);
	assert_int_equal(gw_addr_parse("1.2.3.4:+8", 10, &a), DD_EINVAL);
	gw_addr_format("::1", 9000, out, sizeof(out));
	assert_string_equal(out, "[::1]:9000");
	gw_addr_format("10.0.0.1", 1, out, sizeof(out));
	assert_string_equal(out, "10.0.0.1:1");
}

static void test_set_and_check(void **state)
{
	(void)state;
	gw_config_defaults(&cfg);
	assert_int_equal(gw_config_set(&cfg, "s3", "listen", "127.0.0.1:0", "--s3-listen", &err), DD_OK);
	assert_int_equal(cfg.s3.listen.port, 0);
	assert_int_equal(gw_config_set(&cfg, "s3", "listen", "nope", "--s3-listen", &err), DD_ECONFIG);
	assert_non_null(strstr(err.msg, "--s3-listen: bad value 'nope'"));
	assert_int_equal(gw_config_set(&cfg, "admin", "tls_cert", "/c.pem", "f", &err), DD_OK);
	assert_int_equal(gw_config_check(&cfg, "f", &err), DD_ECONFIG);
	assert_string_equal(err.msg, "f: [admin] needs both tls_cert and tls_key, or neither");
	assert_int_equal(gw_config_set(&cfg, "admin", "tls_key", "/k.pem", "f", &err), DD_OK);
	assert_int_equal(gw_config_check(&cfg, "f", &err), DD_OK);
	assert_int_equal(gw_config_set(&cfg, "server", "data_dir", "", "f", &err), DD_OK);
	assert_int_equal(gw_config_check(&cfg, "f", &err), DD_ECONFIG);
}

static void test_creds_parse_and_generate(void **state)
{
	static const char good[] = "# c\naccess_key = AKIA123\n  secret_key=s3cr3t-value\n";
	gw_root_creds c, c2;

	(void)state;
	assert_int_equal(gw_creds_parse(good, sizeof(good) - 1, &c), DD_OK);
	assert_string_equal(c.access_key, "AKIA123");
	assert_string_equal(c.secret_key, "s3cr3t-value");
	assert_int_equal(gw_creds_parse("access_key = AKIA123\n", 21, &c), DD_ECORRUPT);
	assert_int_equal(gw_creds_parse("access_key = AK IA\nsecret_key = 12345678\n", 41, &c),
			 DD_ECORRUPT);
	assert_int_equal(gw_creds_parse("bogus = 1\n", 10, &c), DD_ECORRUPT);
	assert_int_equal(gw_creds_generate(&c), DD_OK);
	assert_int_equal(gw_creds_generate(&c2), DD_OK);
	assert_int_equal(strlen(c.access_key), 20);
	assert_int_equal(strlen(c.secret_key), 40);
	assert_int_equal(strspn(c.access_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 20);
	assert_true(gw_creds_valid_access_key(c.access_key));
	assert_true(gw_creds_valid_secret_key(c.secret_key));
	assert_string_not_equal(c.secret_key, c2.secret_key);
}

static void test_creds_file_lifecycle(void **state)
{
	char dir[] = "/tmp/dd-test-creds.XXXXXX", path[128], secret[200];
	gw_root_creds c;
	struct stat st;
	int created = 0, admin = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/root.credentials", dir);
	assert_int_equal(gw_creds_load_or_create(dir, "AKIAFIRST", "first-secret-1", &c, &created), DD_OK);
	assert_int_equal(created, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* later starts read the file; env is ignored */
	assert_int_equal(gw_creds_load_or_create(dir, "AKIAOTHER", "other-secret-2", &c, &created), DD_OK);
	assert_int_equal(created, 0);
	assert_string_equal(c.access_key, "AKIAFIRST");
	assert_string_equal(c.secret_key, "first-secret-1");
	gw_auth_set_root(&c);
	assert_int_equal(gw_auth_lookup("AKIAFIRST", 9, secret, sizeof(secret), &admin), DD_OK);
	assert_string_equal(secret, "first-secret-1");
	assert_int_equal(admin, 1);
	assert_int_equal(gw_auth_lookup("AKIAFIRS", 8, secret, sizeof(secret), &admin), DD_ENOENT);
	assert_int_equal(gw_auth_lookup("AKIAFIRST", 9, secret, 5, &admin), DD_ETOOBIG);
	unlink(path);
	/* one env key without the other is refused, nothing written */
	assert_int_equal(gw_creds_load_or_create(dir, "AKIAONLY", NULL, &c, &created), DD_EINVAL);
	assert_int_equal(gw_creds_load_or_create(dir, "AK", "short", &c, &created), DD_EINVAL);
	assert_int_not_equal(access(path, F_OK), 0);
	/* a corrupt file is reported, not replaced */
	assert_int_equal(dd_write_file_atomic(path, "garbage\n", 8, 0600), DD_OK);
	assert_int_equal(gw_creds_load_or_create(dir, NULL, NULL, &c, &created), DD_ECORRUPT);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_set_and_check),
		cmocka_unit_test(test_creds_parse_and_generate),
		cmocka_unit_test(test_creds_file_lifecycle),
	};

	dd_log_set_level(DD_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
