/*
 * tests/unit/test_seg_crash.c - crash consistency. A child process writes
 * objects from several threads and journals key + SHA-256 only after
 * commit returned; the parent SIGKILLs it at a random moment, reopens the
 * store (recovery runs) and checks that every journaled object reads back
 * byte-identical and that every visible key holds exactly its full
 * intended content (no partial or uncommitted object is visible).
 * Repeated CRASH_ROUNDS times on the same data dir.
 */
#include "seg_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define CRASH_ROUNDS 50
#define THREADS 3

static char *g_dir;
static int g_journal = -1;

static uint64_t key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 1099511628211ULL;
	return h;
}

/* The content a key must have: deterministic, half shared among keys. */
static uint8_t *content_of(const char *key, size_t *n)
{
	uint64_t h = key_hash(key);
	uint8_t *d;

	*n = h % 400000;
	d = malloc(*n + 1);
	tst_fill(d, *n / 2, h % 5);
	tst_fill(d + *n / 2, *n - *n / 2, h);
	return d;
}

typedef struct child_arg {
	seg_store *s;
	int round, id;
} child_arg;

static void *child_writer(void *p)
{
	child_arg *a = p;

	for (int i = 0;; i++) {
		char key[64], line[160], hex[65];
		size_t n;
		uint8_t *d;
		seg_stat st;

		snprintf(key, sizeof(key), "r%02d/t%d/%04d", a->round, a->id, i);
		d = content_of(key, &n);
		if (tst_put(a->s, "u", key, d, n, &st) != DD_OK)
			_exit(3);
		free(d);
		dd_hex_encode(st.sha256, 32, hex);
		int len = snprintf(line, sizeof(line), "%s %s\n", key, hex);
		if (write(g_journal, line, (size_t)len) != len)
			_exit(4);
	}
	return NULL;
}

static void child_main(int round)
{
	seg_opts o;
	seg_store *s;
	pthread_t t[THREADS];
	child_arg a[THREADS];

	seg_opts_init(&o);
	o.container_size = 1u << 20;
	o.region_size = 64u << 10;
	if (seg_store_open(g_dir, &o, &s) != DD_OK)
		_exit(2);
	for (int i = 0; i < THREADS; i++) {
		a[i] = (child_arg){s, round, i};
		pthread_create(&t[i], NULL, child_writer, &a[i]);
	}
	for (;;)
		pause();
}

typedef struct check_ctx {
	seg_store *s;
	int checked;
} check_ctx;

/* Every visible key must hold its full intended content. */
static int check_visible(void *ctx, dd_str key, int is_prefix,
			 const seg_stat *st)
{
	check_ctx *c = ctx;
	char k[128];
	size_t n, gn;
	uint8_t *want, *got;

	assert_false(is_prefix);
	assert_true(key.len < sizeof(k));
	memcpy(k, key.p, key.len);
	k[key.len] = 0;
	want = content_of(k, &n);
	assert_int_equal(st->size, n);
	assert_int_equal(tst_get(c->s, "u", k, &got, &gn), DD_OK);
	assert_int_equal(gn, n);
	if (n)
		assert_memory_equal(got, want, n);
	free(want);
	free(got);
	c->checked++;
	return 0;
}

static int check_round(seg_store *s, int round)
{
	char jpath[600], prefix[16], *buf, *line, *save;
	seg_list_opts lo;
	seg_list_result res;
	check_ctx cc = {s, 0};
	dd_buf jb;
	int journaled = 0;

	/* journaled objects: exact digest */
	snprintf(jpath, sizeof(jpath), "%s/journal", g_dir);
	dd_buf_init(&jb, 64u << 20);
	assert_int_equal(dd_read_file(jpath, &jb), DD_OK);
	buf = jb.data ? jb.data : (char[1]){0}; /* NULL while empty */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[64], hex[65];
		uint8_t want[32];
		seg_stat st;

		if (sscanf(line, "%63s %64s", key, hex) != 2 ||
		    strlen(hex) != 64)
			continue; /* torn last line */
		assert_int_equal(dd_hex_decode(hex, 64, want), DD_OK);
		assert_int_equal(seg_stat_object(s, "u", tst_key(key), &st),
				 DD_OK);
		assert_memory_equal(st.sha256, want, 32);
		journaled++;
	}
	dd_buf_release(&jb);
	/* this round's visible keys: full content, nothing partial */
	snprintf(prefix, sizeof(prefix), "r%02d/", round);
	memset(&lo, 0, sizeof(lo));
	lo.prefix = tst_key(prefix);
	lo.limit = 100000;
	assert_int_equal(seg_list(s, "u", &lo, check_visible, &cc, &res),
			 DD_OK);
	return journaled;
}

static void test_kill_at_random_points(void **state)
{
	seg_store *s;
	char jpath[600];
	struct timespec ts;
	uint64_t r = (uint64_t)time(NULL);
	int total = 0, sanitized = getenv("DD_SANITIZED") != NULL;

	(void)state;
	g_dir = tst_tmpdir();
	assert_int_equal(seg_store_open(g_dir, NULL, &s), DD_OK);
	assert_int_equal(seg_unit_create(s, "u", NULL), DD_OK);
	seg_store_close(s);
	snprintf(jpath, sizeof(jpath), "%s/journal", g_dir);
	g_journal = open(jpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(g_journal >= 0);
	for (int round = 0; round < CRASH_ROUNDS; round++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			child_main(round);
		/* round 0 waits for a first journaled commit (up to 30 s) so a
		 * loaded machine cannot leave the test with nothing to check */
		for (int w = 0; round == 0 && w < 3000; w++) {
			struct stat sb;

			if (fstat(g_journal, &sb) == 0 && sb.st_size > 0)
				break;
			ts.tv_sec = 0;
			ts.tv_nsec = 10 * 1000000;
			nanosleep(&ts, NULL);
		}
		/* ASan start-up is slower: give the child more time */
		uint64_t ms = (sanitized ? 150 : 10) + tst_rng(&r) % 150;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(ms * 1000000);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		/* killed by us, not exited on an error */
		assert_true(WIFSIGNALED(status));
		assert_int_equal(seg_store_open(g_dir, NULL, &s), DD_OK);
		total = check_round(s, round);
		seg_store_close(s);
	}
	close(g_journal);
	print_message("crash test: %d rounds, %d journaled objects verified\n",
		      CRASH_ROUNDS, total);
	assert_true(total > 0);
	tst_rmdir(g_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_at_random_points),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
