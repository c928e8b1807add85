/*
 * gateway/store_open.c - the store at startup, and DDP served over it
 * (see store_open.h).
 */
#include "gateway/store_open.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/ddp_glue.h"

struct gw_ddp_serve {
	gw_ddp *ddp;
};

/* Makes sure the root user exists with the root credentials. dd_rc. */
static int ensure_root(seg_store *st, const gw_root_creds *creds)
{
	seg_user u;
	int rc = seg_user_by_access_key(st, creds->access_key, &u);

	if (rc == DD_OK) {
		rc = strcmp(u.secret, creds->secret_key) == 0 ? DD_OK : DD_ECONFIG;
		if (rc != DD_OK)
			dd_log(DD_LOG_ERROR, "the store's user for the root access "
					     "key has another secret");
	} else if (rc == DD_ENOENT) {
		rc = seg_user_create(st, "root", creds->access_key,
				     creds->secret_key, SEG_ROLE_ADMIN);
		if (rc == DD_OK)
			dd_log(DD_LOG_INFO, "root user created in the catalog");
	}
	memset(&u, 0, sizeof(u)); /* held a secret */
	return rc;
}

int gw_store_open(const gw_config *cfg, const gw_root_creds *creds,
		  seg_store **out)
{
	seg_store *st = NULL;
	seg_opts o;
	int rc;

	seg_opts_init(&o);
	if (cfg->chunk_avg_kib)
		o.chunk_avg = cfg->chunk_avg_kib * 1024u;
	if (cfg->container_mib)
		o.container_size = (uint64_t)cfg->container_mib << 20;
	if ((rc = seg_store_open(cfg->data_dir, &o, &st)) != DD_OK) {
		dd_log(DD_LOG_ERROR, "cannot open the store in %s: %s",
		       cfg->data_dir, dd_strerror(rc));
		return rc;
	}
	if ((rc = ensure_root(st, creds)) != DD_OK) {
		dd_log(DD_LOG_ERROR, "cannot set up the root user: %s",
		       dd_strerror(rc));
		seg_store_close(st);
		return rc;
	}
	*out = st;
	return DD_OK;
}

int gw_ddp_serve_start(gw_daemon *d, const gw_config *cfg, seg_store *st,
		       gw_ddp_serve **out)
{
	gw_ddp_serve *s = calloc(1, sizeof(*s));

	if (!s)
		return DD_ENOMEM;
	if (!(s->ddp = gw_ddp_new(st, cfg))) {
		gw_ddp_serve_stop(s);
		return DD_ENOMEM;
	}
	gw_daemon_set_ddp_handler(d, gw_ddp_handler(s->ddp));
	*out = s;
	return DD_OK;
}

void gw_ddp_serve_stop(gw_ddp_serve *s)
{
	if (!s)
		return;
	gw_ddp_free(s->ddp);
	free(s);
}
