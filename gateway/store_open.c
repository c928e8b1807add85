/*
 * gateway/store_open.c - the store at startup, and DDP served over it
 * (see store_open.h).
 */
#include "gateway/store_open.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/ddp_glue.h"

struct gw_ddp_serve {
	seg_store *st;
	gw_ddp *ddp;
};

int gw_store_open(const char *data_dir, const gw_root_creds *creds,
		  seg_store **out)
{
	seg_store *st = NULL;
	seg_user u;
	int rc;

	if ((rc = seg_store_open(data_dir, NULL, &st)) != DD_OK) {
		dd_log(DD_LOG_ERROR, "cannot open the store in %s: %s", data_dir,
		       dd_strerror(rc));
		return rc;
	}
	rc = seg_user_by_access_key(st, creds->access_key, &u);
	if (rc == DD_ENOENT)
		rc = seg_user_create(st, "root", creds->access_key, creds->secret_key,
				     SEG_ROLE_ADMIN);
	memset(&u, 0, sizeof(u)); /* holds a secret */
	if (rc == DD_EEXIST) {
		/* A user "root" with another access key (the credentials file
		 * was replaced): serve on, the old root keeps the store's key. */
		dd_log(DD_LOG_WARN, "the store's user root has another access key than "
				    "root.credentials; DDP logins with these credentials fail");
		rc = DD_OK;
	}
	if (rc != DD_OK) {
		dd_log(DD_LOG_ERROR, "cannot create the root user in the store: %s",
		       dd_strerror(rc));
		seg_store_close(st);
		return rc;
	}
	*out = st;
	return DD_OK;
}

int gw_ddp_serve_start(gw_daemon *d, const gw_config *cfg,
		       const gw_root_creds *creds, gw_ddp_serve **out)
{
	gw_ddp_serve *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return DD_ENOMEM;
	if ((rc = gw_store_open(cfg->data_dir, creds, &s->st)) != DD_OK) {
		free(s);
		return rc;
	}
	if (!(s->ddp = gw_ddp_new(s->st, cfg))) {
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
	seg_store_close(s->st);
	free(s);
}
