/* tests/unit/test_gateway_metrics.c - the Prometheus metrics registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"

static char *render(gw_metrics *m)
{
	dd_buf b;

	dd_buf_init(&b, 1 << 20);
	assert_int_equal(gw_metrics_render(m, &b), DD_OK);
	return dd_buf_take(&b, NULL);
}

static void test_counter_gauge_render(void **state)
{
	gw_metrics *m = gw_metrics_new();
	gw_metric *c, *g;
	const char *l1[] = {"admin", "200"}, *l2[] = {"s3", "404"};
	char *text;

	(void)state;
	c = gw_metric_register(m, GW_COUNTER, "x_requests_total", "Requests\nby code.",
			       "listener,code", NULL, 0);
	g = gw_metric_register(m, GW_GAUGE, "x_open", "Open.", NULL, NULL, 0);
	assert_non_null(c);
	assert_non_null(g);
	/* same name, same type: same family; other type: refused */
	assert_ptr_equal(gw_metric_register(m, GW_COUNTER, "x_requests_total", "", "listener,code", NULL, 0), c);
	assert_null(gw_metric_register(m, GW_GAUGE, "x_requests_total", "", NULL, NULL, 0));
	assert_null(gw_metric_register(m, GW_GAUGE, "bad name", "", NULL, NULL, 0));
	assert_null(gw_metric_register(m, GW_GAUGE, "9bad", "", NULL, NULL, 0));
	gw_metric_add(c, l1, 1);
	gw_metric_add(c, l1, 2);
	gw_metric_add(c, l2, 1);
	gw_metric_add(c, l2, -5); /* counters never go down */
	gw_metric_set(c, l2, 100); /* set is for gauges only */
	gw_metric_add(g, NULL, 3);
	gw_metric_add(g, NULL, -1);
	assert_true(gw_metric_get(c, l1) == 3);
	assert_true(gw_metric_get(c, l2) == 1);
	assert_true(gw_metric_get(g, NULL) == 2);
	gw_metric_set(g, NULL, 0.25);
	text = render(m);
	assert_string_equal(text,
			    "# HELP x_requests_total Requests\\nby code.\n"
			    "# TYPE x_requests_total counter\n"
			    "x_requests_total{listener=\"admin\",code=\"200\"} 3\n"
			    "x_requests_total{listener=\"s3\",code=\"404\"} 1\n"
			    "# HELP x_open Open.\n"
			    "# TYPE x_open gauge\n"
			    "x_open 0.25\n");
	free(text);
	gw_metrics_free(m);
}

static void test_label_escaping(void **state)
{
	gw_metrics *m = gw_metrics_new();
	gw_metric *g = gw_metric_register(m, GW_GAUGE, "info", "", "v", NULL, 0);
	const char *v[] = {"a\"b\\c\nd"};
	char *text;

	(void)state;
	gw_metric_set(g, v, 1);
	text = render(m);
	assert_non_null(strstr(text, "info{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(text);
	gw_metrics_free(m);
}

static void test_histogram(void **state)
{
	static const double b[] = {0.1, 1, 10};
	gw_metrics *m = gw_metrics_new();
	gw_metric *h = gw_metric_register(m, GW_HISTOGRAM, "lat_seconds", "Latency.", "op", b, 3);
	const char *op[] = {"get"};
	char *text;

	(void)state;
	assert_non_null(h);
	assert_null(gw_metric_register(m, GW_HISTOGRAM, "unsorted", "", NULL,
				       (const double[]){2, 1}, 2));
	gw_metric_observe(h, op, 0.05);
	gw_metric_observe(h, op, 0.1); /* le is inclusive */
	gw_metric_observe(h, op, 5);
	gw_metric_observe(h, op, 50);
	assert_true(gw_metric_get(h, op) == 4);
	text = render(m);
	assert_string_equal(text,
			    "# HELP lat_seconds Latency.\n"
			    "# TYPE lat_seconds histogram\n"
			    "lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
			    "lat_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
			    "lat_seconds_bucket{op=\"get\",le=\"10\"} 3\n"
			    "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
			    "lat_seconds_sum{op=\"get\"} 55.15\n"
			    "lat_seconds_count{op=\"get\"} 4\n");
	free(text);
	gw_metrics_free(m);
}

static gw_metric *shared;

static const char *const parity[2] = {"even", "odd"};

static void *hammer(void *arg)
{
	const char *l[] = {parity[*(int *)arg % 2]};

	for (int i = 0; i < 10000; i++)
		gw_metric_add(shared, l, 1);
	return NULL;
}

static void test_threads_and_series_cap(void **state)
{
	gw_metrics *m = gw_metrics_new();
	pthread_t t[4];
	int idx[4] = {0, 1, 2, 3};
	char name[16];
	const char *l[] = {name};

	(void)state;
	shared = gw_metric_register(m, GW_COUNTER, "c_total", "", "k", NULL, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &idx[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	l[0] = "odd";
	assert_true(gw_metric_get(shared, l) == 20000);
	l[0] = name;
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		gw_metric_add(shared, l, 1);
	}
	snprintf(name, sizeof(name), "s%d", 997); /* 2 + 998 series: inside */
	assert_true(gw_metric_get(shared, l) == 1);
	snprintf(name, sizeof(name), "s%d", 1200); /* past the cap: dropped */
	assert_true(gw_metric_get(shared, l) == 0);
	gw_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge_render),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_threads_and_series_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
