/* tests/unit/test_seg_verify_cancel.c - seg_verify's cancel flag: unset it
 * changes nothing, set before the start nothing is read, set during the
 * container pass or during the object pass the walk stops there and
 * seg_verify returns DD_ESHUTDOWN with the counts of what it checked. The
 * flag is set from the problem callback so that the point where it flips
 * is deterministic (dedupd sets it from another thread). */
#include "seg_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>

#define NOBJ 4
#define OBJ_SIZE 1000000

typedef struct fx {
	char *dir;
	seg_store *s;
} fx;

static seg_opts small_opts(void)
{
	seg_opts o;

	seg_opts_init(&o);
	o.container_size = 2u << 20; /* several containers */
	o.region_size = 128u << 10;  /* several regions each */
	return o;
}

/* A store with unit u1 holding objects "a".."d" of distinct data. */
static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	seg_opts o = small_opts();
	uint8_t *d = malloc(OBJ_SIZE);

	f->dir = tst_tmpdir();
	assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
	assert_int_equal(seg_unit_create(f->s, "u1", NULL), DD_OK);
	for (int i = 0; i < NOBJ; i++) {
		char key[2] = {(char)('a' + i), 0};
		tst_fill(d, OBJ_SIZE, 100 + (uint64_t)i);
		assert_int_equal(tst_put(f->s, "u1", key, d, OBJ_SIZE, NULL), DD_OK);
	}
	free(d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	seg_store_close(f->s);
	tst_rmdir(f->dir);
	free(f);
	return 0;
}

/* Flips a byte in the first region of every container (store closed
 * meanwhile); returns how many containers were hit. */
static int corrupt_containers(fx *f)
{
	char cdir[600];
	DIR *dir;
	struct dirent *de;
	int flipped = 0;
	seg_opts o = small_opts();

	seg_store_close(f->s);
	snprintf(cdir, sizeof(cdir), "%s/store/containers", f->dir);
	dir = opendir(cdir);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char p[900];
		uint8_t byte;
		int fd;

		if (!strstr(de->d_name, ".ctr"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", cdir, de->d_name);
		fd = open(p, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &byte, 1, 64 + 48 + 1000), 1);
		byte ^= 0x40;
		assert_int_equal(pwrite(fd, &byte, 1, 64 + 48 + 1000), 1);
		close(fd);
		flipped++;
	}
	closedir(dir);
	assert_int_equal(seg_store_open(f->dir, &o, &f->s), DD_OK);
	return flipped;
}

/* Problem callback: counts problems and sets *cancel at the first problem
 * whose name starts with `when` ("container" or "u1/"). */
typedef struct canceller {
	atomic_int cancel;
	const char *when;
	int problems;
} canceller;

static int cancel_on_problem(void *ctx, const char *what, int rc)
{
	canceller *c = ctx;

	assert_int_equal(rc, DD_ECORRUPT);
	c->problems++;
	if (strncmp(what, c->when, strlen(c->when)) == 0)
		atomic_store(&c->cancel, 1);
	return 0;
}

static int count_problem(void *ctx, const char *what, int rc)
{
	int *n = ctx;

	(void)what;
	(void)rc;
	(*n)++;
	return 0;
}

/* A flag that stays 0 gives the same complete walk as no flag. */
static void test_unset_flag_completes(void **state)
{
	fx *f = *state;
	seg_verify_report full, vr;
	atomic_int cancel = 0;

	assert_int_equal(seg_verify(f->s, 1, NULL, &full, NULL, NULL), DD_OK);
	assert_int_equal(seg_verify(f->s, 1, &cancel, &vr, NULL, NULL), DD_OK);
	assert_int_equal(vr.objects, NOBJ);
	assert_int_equal(vr.bad_objects + vr.bad_regions, 0);
	assert_int_equal(vr.containers, full.containers);
	assert_int_equal(vr.regions, full.regions);
	assert_int_equal(vr.chunks, full.chunks);
	assert_true(full.containers >= 2 && full.regions >= 8);
}

/* Set before the start: DD_ESHUTDOWN and nothing read. */
static void test_set_before_start(void **state)
{
	fx *f = *state;
	seg_verify_report vr;
	atomic_int cancel = 1;
	int problems = 0;

	assert_int_equal(seg_verify(f->s, 1, &cancel, &vr, count_problem,
				    &problems), DD_ESHUTDOWN);
	assert_int_equal(vr.regions, 0);
	assert_int_equal(vr.chunks, 0);
	assert_int_equal(vr.objects, 0);
	assert_int_equal(problems, 0);
}

/* Set during the container pass: the pass stops at the next region and
 * the object pass never starts. */
static void test_set_during_containers(void **state)
{
	fx *f = *state;
	seg_verify_report full, vr;
	canceller c = {0, "container", 0};
	int flipped = corrupt_containers(f), problems = 0;

	assert_true(flipped >= 2);
	/* reference: the whole walk with the same damage */
	assert_int_equal(seg_verify(f->s, 1, NULL, &full, count_problem,
				    &problems), DD_OK);
	assert_int_equal(full.bad_regions, (uint64_t)flipped);
	assert_int_equal(full.objects, NOBJ);

	assert_int_equal(seg_verify(f->s, 1, &c.cancel, &vr, cancel_on_problem,
				    &c), DD_ESHUTDOWN);
	assert_int_equal(c.problems, 1);
	assert_int_equal(vr.bad_regions, 1);
	assert_true(vr.regions < full.regions);
	assert_true(vr.containers < full.containers);
	assert_int_equal(vr.objects, 0);
	assert_int_equal(vr.bad_objects, 0);
}

/* Set during the object pass: the container pass was complete, the object
 * pass stops after the object being read. */
static void test_set_during_objects(void **state)
{
	fx *f = *state;
	seg_verify_report full, vr;
	canceller c = {0, "u1/", 0};
	int flipped = corrupt_containers(f), problems = 0;

	assert_int_equal(seg_verify(f->s, 1, NULL, &full, count_problem,
				    &problems), DD_OK);
	assert_int_equal(full.objects, NOBJ);
	assert_true(full.bad_objects >= 1); /* "a" starts the first container */

	assert_int_equal(seg_verify(f->s, 1, &c.cancel, &vr, cancel_on_problem,
				    &c), DD_ESHUTDOWN);
	assert_int_equal(vr.bad_regions, (uint64_t)flipped);
	assert_int_equal(vr.regions, full.regions);
	assert_int_equal(vr.bad_objects, 1);
	assert_true(vr.objects < full.objects);
	assert_int_equal((uint64_t)c.problems, vr.bad_regions + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unset_flag_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_during_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_during_objects, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
