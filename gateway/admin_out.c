/*
 * gateway/admin_out.c - the admin API's response writer: the same calls
 * produce JSON (default) or aligned-free plain text (Accept: text/plain,
 * what dedupctl shows without --json), so the CLI never parses JSON.
 */
#include "gateway/admin.h"

#include <inttypes.h>
#include <string.h>

static void put(gw_aout *o, const char *s)
{
	if (o->rc == DD_OK)
		o->rc = dd_buf_append_str(o->b, s);
}

/* JSON string body (no quotes) or text as is, control bytes escaped. */
static void put_escaped(gw_aout *o, const char *s)
{
	for (; *s && o->rc == DD_OK; s++) {
		unsigned char c = (unsigned char)*s;
		if (!o->text && (c == '"' || c == '\\'))
			o->rc = dd_buf_appendf(o->b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o->rc = dd_buf_appendf(o->b, "\\u%04x", c);
		else
			o->rc = dd_buf_append(o->b, s, 1);
	}
}

void gw_aout_init(gw_aout *o, dd_buf *b, int text)
{
	memset(o, 0, sizeof(*o));
	o->b = b;
	o->text = text;
	if (!text)
		put(o, "{");
}

/* Separator and key before a value, in the current context. */
static void key(gw_aout *o, const char *k)
{
	if (o->text) {
		if (o->in_item)
			put(o, o->nfields ? " " : "");
		put(o, k);
		put(o, o->in_item ? "=" : ": ");
	} else {
		put(o, o->nfields ? ",\"" : "\"");
		put(o, k);
		put(o, "\":");
	}
	o->nfields++;
}

void gw_aout_str(gw_aout *o, const char *k, const char *v)
{
	key(o, k);
	put(o, o->text ? "" : "\"");
	put_escaped(o, v);
	put(o, o->text ? (o->in_item ? "" : "\n") : "\"");
}

void gw_aout_u64(gw_aout *o, const char *k, uint64_t v)
{
	key(o, k);
	if (o->rc == DD_OK)
		o->rc = dd_buf_appendf(o->b, "%" PRIu64, v);
	if (o->text && !o->in_item)
		put(o, "\n");
}

void gw_aout_bool(gw_aout *o, const char *k, int v)
{
	key(o, k);
	if (o->text)
		put(o, v ? (o->in_item ? "yes" : "yes\n") : (o->in_item ? "no" : "no\n"));
	else
		put(o, v ? "true" : "false");
}

void gw_aout_list_begin(gw_aout *o, const char *k)
{
	if (o->text) {
		put(o, k);
		put(o, ":");
		o->nfields++;
	} else {
		key(o, k);
		put(o, "[");
	}
	o->in_list = 1;
	o->nitems = 0;
}

/* Starts a list element. */
static void item_sep(gw_aout *o)
{
	if (o->text)
		put(o, o->nitems ? "  " : "\n  ");
	else if (o->nitems)
		put(o, ",");
	o->nitems++;
}

void gw_aout_list_str(gw_aout *o, const char *v)
{
	item_sep(o);
	put(o, o->text ? "" : "\"");
	put_escaped(o, v);
	put(o, o->text ? "\n" : "\"");
}

void gw_aout_item_begin(gw_aout *o)
{
	item_sep(o);
	if (!o->text)
		put(o, "{");
	o->in_item = 1;
	o->nfields = 0;
}

void gw_aout_item_end(gw_aout *o)
{
	put(o, o->text ? "\n" : "}");
	o->in_item = 0;
	o->nfields = 1; /* the list itself is a field of the outer object */
}

void gw_aout_list_end(gw_aout *o)
{
	if (o->text)
		put(o, o->nitems ? "" : " (none)\n");
	else
		put(o, "]");
	o->in_list = 0;
	o->nfields = 1;
}

int gw_aout_end(gw_aout *o)
{
	put(o, o->text ? "" : "}\n");
	return o->rc;
}
