/*
 * segstore/stubs.c - temporary stubs so code written against seg.h links
 * while the store is implemented. Each returns DD_ENOTSUP (or nothing).
 */
#include "segstore/seg.h"

void seg_opts_init(seg_opts *o)
{
	(void)o;
}

int seg_store_open(const char *data_dir, const seg_opts *o, seg_store **out)
{
	(void)data_dir;
	(void)o;
	(void)out;
	return DD_ENOTSUP;
}

void seg_store_close(seg_store *s)
{
	(void)s;
}

void seg_store_chunk_params(const seg_store *s, seg_chunk_params *out)
{
	(void)s;
	(void)out;
}

void seg_store_stats(seg_store *s, seg_stats *out)
{
	(void)s;
	(void)out;
}







int seg_unit_create(seg_store *s, const char *unit, const seg_quota *q)
{
	(void)s;
	(void)unit;
	(void)q;
	return DD_ENOTSUP;
}

int seg_unit_stat(seg_store *s, const char *unit, seg_unit_info *out)
{
	(void)s;
	(void)unit;
	(void)out;
	return DD_ENOTSUP;
}

int seg_unit_set_quota(seg_store *s, const char *unit, const seg_quota *q)
{
	(void)s;
	(void)unit;
	(void)q;
	return DD_ENOTSUP;
}

int seg_unit_delete(seg_store *s, const char *unit)
{
	(void)s;
	(void)unit;
	return DD_ENOTSUP;
}

int seg_unit_list(seg_store *s, seg_unit_cb cb, void *ctx)
{
	(void)s;
	(void)cb;
	(void)ctx;
	return DD_ENOTSUP;
}

int seg_user_create(seg_store *s, const char *name, const char *access_key, const char *secret, int role)
{
	(void)s;
	(void)name;
	(void)access_key;
	(void)secret;
	(void)role;
	return DD_ENOTSUP;
}

int seg_user_by_access_key(seg_store *s, const char *access_key, seg_user *out)
{
	(void)s;
	(void)access_key;
	(void)out;
	return DD_ENOTSUP;
}

int seg_user_get(seg_store *s, const char *name, seg_user *out)
{
	(void)s;
	(void)name;
	(void)out;
	return DD_ENOTSUP;
}

int seg_user_delete(seg_store *s, const char *name)
{
	(void)s;
	(void)name;
	return DD_ENOTSUP;
}

int seg_user_list(seg_store *s, seg_user_cb cb, void *ctx)
{
	(void)s;
	(void)cb;
	(void)ctx;
	return DD_ENOTSUP;
}

int seg_grant(seg_store *s, const char *user, const char *unit)
{
	(void)s;
	(void)user;
	(void)unit;
	return DD_ENOTSUP;
}

int seg_revoke(seg_store *s, const char *user, const char *unit)
{
	(void)s;
	(void)user;
	(void)unit;
	return DD_ENOTSUP;
}

int seg_grant_check(seg_store *s, const char *user, const char *unit)
{
	(void)s;
	(void)user;
	(void)unit;
	return DD_ENOTSUP;
}

int seg_grant_list(seg_store *s, const char *user, seg_name_cb cb, void *ctx)
{
	(void)s;
	(void)user;
	(void)cb;
	(void)ctx;
	return DD_ENOTSUP;
}

int seg_writer_open(seg_store *s, const char *unit, dd_str key, seg_writer **out)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)out;
	return DD_ENOTSUP;
}

int seg_writer_open_ref(seg_store *s, const char *unit, seg_writer **out)
{
	(void)s;
	(void)unit;
	(void)out;
	return DD_ENOTSUP;
}

int seg_writer_write(seg_writer *w, const void *buf, size_t len)
{
	(void)w;
	(void)buf;
	(void)len;
	return DD_ENOTSUP;
}

int seg_writer_query(seg_writer *w, const uint8_t (*fps)[SEG_FP_LEN], const uint32_t *lens, size_t n, uint8_t *missing_out)
{
	(void)w;
	(void)fps;
	(void)lens;
	(void)n;
	(void)missing_out;
	return DD_ENOTSUP;
}

int seg_writer_put_chunk(seg_writer *w, const uint8_t fp[SEG_FP_LEN], const void *data, size_t len)
{
	(void)w;
	(void)fp;
	(void)data;
	(void)len;
	return DD_ENOTSUP;
}

int seg_writer_add_ref(seg_writer *w, const uint8_t fp[SEG_FP_LEN], size_t len)
{
	(void)w;
	(void)fp;
	(void)len;
	return DD_ENOTSUP;
}

uint64_t seg_writer_size(const seg_writer *w)
{
	(void)w;
	return 0;
}

int seg_writer_commit(seg_writer *w, const seg_attrs *attrs, seg_stat *st)
{
	(void)w;
	(void)attrs;
	(void)st;
	return DD_ENOTSUP;
}

int seg_writer_commit_ref(seg_writer *w, seg_ref *ref)
{
	(void)w;
	(void)ref;
	return DD_ENOTSUP;
}

void seg_writer_abort(seg_writer *w)
{
	(void)w;
}

void seg_writer_free(seg_writer *w)
{
	(void)w;
}

int seg_reader_open(seg_store *s, const char *unit, dd_str key, seg_reader **out)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)out;
	return DD_ENOTSUP;
}

const seg_stat * seg_reader_stat(const seg_reader *r)
{
	(void)r;
	return NULL;
}

int seg_reader_pread(seg_reader *r, void *buf, size_t len, uint64_t off, size_t *got)
{
	(void)r;
	(void)buf;
	(void)len;
	(void)off;
	(void)got;
	return DD_ENOTSUP;
}

void seg_reader_free(seg_reader *r)
{
	(void)r;
}

int seg_stat_object(seg_store *s, const char *unit, dd_str key, seg_stat *st)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)st;
	return DD_ENOTSUP;
}

int seg_delete(seg_store *s, const char *unit, dd_str key)
{
	(void)s;
	(void)unit;
	(void)key;
	return DD_ENOTSUP;
}

int seg_rename(seg_store *s, const char *unit, dd_str src, dd_str dst, int replace)
{
	(void)s;
	(void)unit;
	(void)src;
	(void)dst;
	(void)replace;
	return DD_ENOTSUP;
}

int seg_clone(seg_store *s, const char *su, dd_str sk, const char *du, dd_str dk, const seg_attrs *attrs, seg_stat *st)
{
	(void)s;
	(void)su;
	(void)sk;
	(void)du;
	(void)dk;
	(void)attrs;
	(void)st;
	return DD_ENOTSUP;
}

int seg_concat(seg_store *s, const char *unit, dd_str key, const dd_str *srcs, size_t n, const seg_attrs *attrs, seg_stat *st)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)srcs;
	(void)n;
	(void)attrs;
	(void)st;
	return DD_ENOTSUP;
}

int seg_synthesize(seg_store *s, const char *unit, dd_str key, const seg_extent *ext, size_t n, const seg_attrs *attrs, seg_stat *st)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)ext;
	(void)n;
	(void)attrs;
	(void)st;
	return DD_ENOTSUP;
}

int seg_list(seg_store *s, const char *unit, const seg_list_opts *o, seg_list_cb cb, void *ctx, seg_list_result *res)
{
	(void)s;
	(void)unit;
	(void)o;
	(void)cb;
	(void)ctx;
	(void)res;
	return DD_ENOTSUP;
}

int seg_upload_create(seg_store *s, const char *unit, dd_str key, const char *upload_id, const seg_attrs *attrs)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)upload_id;
	(void)attrs;
	return DD_ENOTSUP;
}

int seg_upload_put_part(seg_store *s, const char *unit, dd_str key, const char *upload_id, uint32_t number, const seg_ref *ref, const char *etag, const void *cksum, size_t cksum_len)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)upload_id;
	(void)number;
	(void)ref;
	(void)etag;
	(void)cksum;
	(void)cksum_len;
	return DD_ENOTSUP;
}

int seg_upload_list_parts(seg_store *s, const char *unit, dd_str key, const char *upload_id, uint32_t after, seg_part_cb cb, void *ctx)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)upload_id;
	(void)after;
	(void)cb;
	(void)ctx;
	return DD_ENOTSUP;
}

int seg_upload_list(seg_store *s, const char *unit, dd_str prefix, seg_upload_cb cb, void *ctx)
{
	(void)s;
	(void)unit;
	(void)prefix;
	(void)cb;
	(void)ctx;
	return DD_ENOTSUP;
}

int seg_upload_abort(seg_store *s, const char *unit, dd_str key, const char *upload_id)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)upload_id;
	return DD_ENOTSUP;
}

int seg_upload_complete(seg_store *s, const char *unit, dd_str key, const char *upload_id, const uint32_t *numbers, size_t n, const char *etag, seg_stat *st)
{
	(void)s;
	(void)unit;
	(void)key;
	(void)upload_id;
	(void)numbers;
	(void)n;
	(void)etag;
	(void)st;
	return DD_ENOTSUP;
}
