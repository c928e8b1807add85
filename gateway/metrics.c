/*
 * gateway/metrics.c - one registry of counters, gauges and histograms in
 * Prometheus text format 0.0.4. A mutex guards everything: updates are a
 * lookup in a short list, far cheaper than the request they count.
 */
#include "gateway/gw.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 8
#define MAX_SERIES 1000

struct series {
	struct series *next;
	char **values;      /* nlabels strings */
	double value;       /* counter/gauge value, histogram sum */
	uint64_t count;     /* histogram observations */
	uint64_t *buckets;  /* histogram: per bucket (non-cumulative) */
};

struct gw_metric {
	gw_metrics *reg;
	struct gw_metric *next;
	enum gw_metric_type type;
	char *name, *help;
	char *labels[MAX_LABELS];
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	struct series *series, **tail;
	size_t nseries;
	uint64_t dropped;
};

struct gw_metrics {
	pthread_mutex_t lock;
	struct gw_metric *families, **tail;
};

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_metrics *default_reg;

gw_metrics *gw_metrics_new(void)
{
	gw_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->tail = &m->families;
	return m;
}

static void free_series(struct series *s, size_t nlabels)
{
	for (size_t i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s->values);
	free(s->buckets);
	free(s);
}

static void free_family(struct gw_metric *f)
{
	struct series *s, *next;

	for (s = f->series; s; s = next) {
		next = s->next;
		free_series(s, f->nlabels);
	}
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void gw_metrics_free(gw_metrics *m)
{
	struct gw_metric *f, *next;

	if (!m)
		return;
	for (f = m->families; f; f = next) {
		next = f->next;
		free_family(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

gw_metrics *gw_metrics_default(void)
{
	pthread_mutex_lock(&default_lock);
	if (!default_reg)
		default_reg = gw_metrics_new();
	pthread_mutex_unlock(&default_lock);
	return default_reg;
}

void gw_metrics_shutdown(void)
{
	pthread_mutex_lock(&default_lock);
	gw_metrics_free(default_reg);
	default_reg = NULL;
	pthread_mutex_unlock(&default_lock);
}

static int valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return 0;
	return 1;
}

static int split_labels(struct gw_metric *f, const char *labels)
{
	const char *p = labels;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (f->nlabels == MAX_LABELS || n == 0)
			return DD_EINVAL;
		if (!(f->labels[f->nlabels] = strndup(p, n)))
			return DD_ENOMEM;
		if (!valid_name(f->labels[f->nlabels++]))
			return DD_EINVAL;
		p = comma ? comma + 1 : NULL;
	}
	return DD_OK;
}

static struct gw_metric *find_family(gw_metrics *m, const char *name)
{
	for (struct gw_metric *f = m->families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

gw_metric *gw_metric_register(gw_metrics *m, enum gw_metric_type type,
			      const char *name, const char *help,
			      const char *labels, const double *buckets,
			      size_t nbuckets)
{
	struct gw_metric *f;

	if (!m || !valid_name(name))
		return NULL;
	pthread_mutex_lock(&m->lock);
	f = find_family(m, name);
	pthread_mutex_unlock(&m->lock);
	if (f)
		return f->type == type ? f : NULL;
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->reg = m;
	f->type = type;
	f->tail = &f->series;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help || split_labels(f, labels) != DD_OK)
		goto fail;
	if (type == GW_HISTOGRAM) {
		for (size_t i = 1; i < nbuckets; i++)
			if (!(buckets[i] > buckets[i - 1]))
				goto fail;
		f->nbounds = nbuckets;
		if (nbuckets &&
		    !(f->bounds = malloc(nbuckets * sizeof(double))))
			goto fail;
		if (nbuckets)
			memcpy(f->bounds, buckets, nbuckets * sizeof(double));
	}
	pthread_mutex_lock(&m->lock);
	if (find_family(m, name)) { /* lost a registration race */
		pthread_mutex_unlock(&m->lock);
		free_family(f);
		return gw_metric_register(m, type, name, help, labels, buckets,
					  nbuckets);
	}
	*m->tail = f;
	m->tail = &f->next;
	pthread_mutex_unlock(&m->lock);
	return f;
fail:
	free_family(f);
	return NULL;
}

/* Finds or (create != 0) makes the series; lock held. NULL if impossible. */
static struct series *get_series(struct gw_metric *f, const char *const *values,
				 int create)
{
	struct series *s;

	for (s = f->series; s; s = s->next) {
		size_t i;
		for (i = 0; i < f->nlabels; i++)
			if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
				break;
		if (i == f->nlabels)
			return s;
	}
	if (!create)
		return NULL;
	if (f->nseries >= MAX_SERIES) {
		f->dropped++;
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->values = calloc(f->nlabels ? f->nlabels : 1, sizeof(char *));
	if (!s->values)
		goto fail;
	for (size_t i = 0; i < f->nlabels; i++)
		if (!(s->values[i] = strdup(values[i] ? values[i] : "")))
			goto fail;
	if (f->type == GW_HISTOGRAM &&
	    !(s->buckets = calloc(f->nbounds + 1, sizeof(uint64_t))))
		goto fail;
	*f->tail = s;
	f->tail = &s->next;
	f->nseries++;
	return s;
fail:
	free_series(s, f->nlabels);
	return NULL;
}

static void update(gw_metric *f, const char *const *values, double v, int op)
{
	struct series *s;

	if (!f)
		return;
	pthread_mutex_lock(&f->reg->lock);
	if ((s = get_series(f, values, 1)) != NULL) {
		if (op == 0) {
			s->value += v;
		} else if (op == 1) {
			s->value = v;
		} else {
			size_t b = 0;
			while (b < f->nbounds && v > f->bounds[b])
				b++;
			s->buckets[b]++;
			s->count++;
			s->value += v;
		}
	}
	pthread_mutex_unlock(&f->reg->lock);
}

void gw_metric_add(gw_metric *f, const char *const *values, double v)
{
	if (f && f->type != GW_HISTOGRAM && (f->type == GW_GAUGE || v >= 0))
		update(f, values, v, 0);
}

void gw_metric_set(gw_metric *f, const char *const *values, double v)
{
	if (f && f->type == GW_GAUGE)
		update(f, values, v, 1);
}

void gw_metric_observe(gw_metric *f, const char *const *values, double v)
{
	if (f && f->type == GW_HISTOGRAM)
		update(f, values, v, 2);
}

double gw_metric_get(gw_metric *f, const char *const *values)
{
	struct series *s;
	double v = 0;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->reg->lock);
	if ((s = get_series(f, values, 0)) != NULL)
		v = f->type == GW_HISTOGRAM ? (double)s->count : s->value;
	pthread_mutex_unlock(&f->reg->lock);
	return v;
}

/* Appends s escaped for a label value (\\, \", \n) or HELP (\\, \n). */
static int append_escaped(dd_buf *out, const char *s, int quote)
{
	int rc = DD_OK;

	for (; *s && rc == DD_OK; s++) {
		if (*s == '\\')
			rc = dd_buf_append_str(out, "\\\\");
		else if (*s == '\n')
			rc = dd_buf_append_str(out, "\\n");
		else if (*s == '"' && quote)
			rc = dd_buf_append_str(out, "\\\"");
		else
			rc = dd_buf_append(out, s, 1);
	}
	return rc;
}

static int append_double(dd_buf *out, double v)
{
	if (isnan(v))
		return dd_buf_append_str(out, "NaN");
	if (isinf(v))
		return dd_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return dd_buf_appendf(out, "%.0f", v);
	/* Shortest precision that reads back exactly: 0.1, not 0.1000...01. */
	for (int prec = 15; prec < 17; prec++) {
		char tmp[64];
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			return dd_buf_append_str(out, tmp);
	}
	return dd_buf_appendf(out, "%.17g", v);
}

/* name{labels[,le="x"]} value\n */
static int append_sample(dd_buf *out, const struct gw_metric *f,
			 const struct series *s, const char *suffix,
			 const char *le, double v)
{
	int rc = dd_buf_appendf(out, "%s%s", f->name, suffix);
	int any = 0;

	if (rc == DD_OK && (f->nlabels || le))
		rc = dd_buf_append_str(out, "{");
	for (size_t i = 0; rc == DD_OK && i < f->nlabels; i++) {
		rc = dd_buf_appendf(out, "%s%s=\"", any++ ? "," : "",
				    f->labels[i]);
		if (rc == DD_OK)
			rc = append_escaped(out, s->values[i], 1);
		if (rc == DD_OK)
			rc = dd_buf_append_str(out, "\"");
	}
	if (rc == DD_OK && le)
		rc = dd_buf_appendf(out, "%sle=\"%s\"", any ? "," : "", le);
	if (rc == DD_OK && (f->nlabels || le))
		rc = dd_buf_append_str(out, "}");
	if (rc == DD_OK)
		rc = dd_buf_append_str(out, " ");
	if (rc == DD_OK)
		rc = append_double(out, v);
	if (rc == DD_OK)
		rc = dd_buf_append_str(out, "\n");
	return rc;
}

static int render_histogram(dd_buf *out, const struct gw_metric *f,
			    const struct series *s)
{
	uint64_t cum = 0;
	char le[64];
	int rc = DD_OK;

	for (size_t b = 0; rc == DD_OK && b <= f->nbounds; b++) {
		cum += s->buckets[b];
		if (b < f->nbounds) {
			dd_buf tmp;
			dd_buf_init(&tmp, sizeof(le) - 1);
			if (append_double(&tmp, f->bounds[b]) == DD_OK)
				snprintf(le, sizeof(le), "%s", tmp.data);
			else
				snprintf(le, sizeof(le), "%g", f->bounds[b]);
			dd_buf_release(&tmp);
		} else {
			snprintf(le, sizeof(le), "+Inf");
		}
		rc = append_sample(out, f, s, "_bucket", le, (double)cum);
	}
	if (rc == DD_OK)
		rc = append_sample(out, f, s, "_sum", NULL, s->value);
	if (rc == DD_OK)
		rc = append_sample(out, f, s, "_count", NULL, (double)s->count);
	return rc;
}

int gw_metrics_render(gw_metrics *m, dd_buf *out)
{
	static const char *const tnames[] = {"counter", "gauge", "histogram"};
	int rc = DD_OK;

	pthread_mutex_lock(&m->lock);
	for (struct gw_metric *f = m->families; f && rc == DD_OK; f = f->next) {
		rc = dd_buf_appendf(out, "# HELP %s ", f->name);
		if (rc == DD_OK)
			rc = append_escaped(out, f->help, 0);
		if (rc == DD_OK)
			rc = dd_buf_appendf(out, "\n# TYPE %s %s\n", f->name,
					    tnames[f->type]);
		for (struct series *s = f->series; s && rc == DD_OK; s = s->next)
			rc = f->type == GW_HISTOGRAM ?
				     render_histogram(out, f, s) :
				     append_sample(out, f, s, "", NULL, s->value);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
