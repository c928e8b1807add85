/*
 * gateway/admin.h - the authenticated admin API on the admin listener
 * (gateway-internal; docs/OPERATIONS.md documents the endpoints).
 *
 *   admin.c      the listener's HTTP handler: /health and /metrics
 *                (unauthenticated), SigV4 authentication of an admin-role
 *                user for everything under /v1/, body cap; store work
 *                on the worker pool, verify on the long lane
 *   admin_api.c  the /v1/ routes (pure parser) and the store operations
 *   admin_out.c  one emitter writing either JSON or plain text
 */
#ifndef DD_GATEWAY_ADMIN_H
#define DD_GATEWAY_ADMIN_H

#include "common/dd.h"
#include "segstore/seg.h"

#include <stdint.h>

/* Largest request body the admin API reads (parameters are in the path
 * and query, bodies are ignored): larger ones get 413. */
#define GW_ADMIN_MAX_BODY (64 * 1024)

/*
 * Makes st the store the admin API manages (borrowed; NULL detaches).
 * Call before gw_daemon_run and after gw_daemon_free; until set, /v1/
 * answers 503.
 */
void gw_admin_set_store(seg_store *st);

/* ------------------------------------------------------------- routes */

enum gw_admin_op {
	GW_ADM_NONE = 0,
	GW_ADM_USER_LIST,    /* GET    /v1/users */
	GW_ADM_USER_CREATE,  /* POST   /v1/users/NAME[?role=admin] */
	GW_ADM_USER_SHOW,    /* GET    /v1/users/NAME */
	GW_ADM_USER_DELETE,  /* DELETE /v1/users/NAME */
	GW_ADM_GRANT_LIST,   /* GET    /v1/users/NAME/grants */
	GW_ADM_GRANT,        /* PUT    /v1/users/NAME/grants/UNIT */
	GW_ADM_REVOKE,       /* DELETE /v1/users/NAME/grants/UNIT */
	GW_ADM_UNIT_LIST,    /* GET    /v1/units */
	GW_ADM_UNIT_CREATE,  /* POST   /v1/units/NAME[?hard=N&soft=N] */
	GW_ADM_UNIT_SHOW,    /* GET    /v1/units/NAME */
	GW_ADM_UNIT_QUOTA,   /* PUT    /v1/units/NAME/quota[?hard=N&soft=N] */
	GW_ADM_UNIT_DELETE,  /* DELETE /v1/units/NAME */
	GW_ADM_VERIFY,       /* POST   /v1/verify[?deep=1] */
	GW_ADM_WHOAMI,       /* GET    /v1/whoami */
};

typedef struct gw_admin_route {
	int op;                        /* enum gw_admin_op */
	char user[SEG_NAME_MAX + 1];   /* "" when the route has none */
	char unit[SEG_NAME_MAX + 1];
} gw_admin_route;

/*
 * Parses a method ("GET", ...) and a decoded path ("/v1/users/alice",
 * no query) into *out. Pure. Returns DD_OK; DD_ENOENT when no route has
 * this path (404); DD_ENOTSUP when the path exists but not for this
 * method (405); DD_EINVAL for a name outside [A-Za-z0-9._-]{1,63} (400).
 */
int gw_admin_route_parse(const char *method, dd_str path,
			 gw_admin_route *out) DD_WUR;

/* Name of an op for logs ("user-create"); "none" for GW_ADM_NONE. */
const char *gw_admin_op_name(int op);

/* ------------------------------------------------------------ emitter */

/*
 * Writes one response document as JSON or as text for humans, from the
 * same calls. The document is an object of scalars and lists; a list holds
 * strings or flat objects. Text: "key: value" lines; a list is "key:"
 * followed by one indented line per element ("k=v k=v" for objects).
 * Errors are sticky: calls after a failure do nothing and gw_aout_end
 * returns the first error. Borrows b for its life.
 */
typedef struct gw_aout {
	dd_buf *b;
	int text;
	int rc;
	int nfields;  /* fields written in the current object */
	int in_list;  /* inside a list */
	int nitems;   /* items of the current list */
	int in_item;  /* inside an object of a list */
} gw_aout;

void gw_aout_init(gw_aout *o, dd_buf *b, int text);
void gw_aout_str(gw_aout *o, const char *key, const char *v);
void gw_aout_u64(gw_aout *o, const char *key, uint64_t v);
void gw_aout_bool(gw_aout *o, const char *key, int v);
void gw_aout_list_begin(gw_aout *o, const char *key);
void gw_aout_list_str(gw_aout *o, const char *v);
void gw_aout_item_begin(gw_aout *o);
void gw_aout_item_end(gw_aout *o);
void gw_aout_list_end(gw_aout *o);
/* Closes the document. Returns DD_OK or the first error (ETOOBIG, ENOMEM). */
int gw_aout_end(gw_aout *o) DD_WUR;

/* -------------------------------------------------------- operations */

/* The caller of an operation, authenticated. */
typedef struct gw_admin_caller {
	char name[SEG_NAME_MAX + 1];
} gw_admin_caller;

/* Query parameters an operation reads (already decoded). */
typedef struct gw_admin_args {
	int has_soft, has_hard;
	uint64_t soft, hard;
	int role_admin; /* ?role=admin on user create */
	int deep;       /* ?deep=1 on verify */
} gw_admin_args;

/*
 * Runs a synchronous operation (every op but GW_ADM_VERIFY) on st as
 * caller and writes the answer to o. Returns the HTTP status (200, 201,
 * 400, 404, 409, 500). The response of user create holds the new secret:
 * the caller must wipe the buffer after sending it.
 */
int gw_admin_run(seg_store *st, const gw_admin_route *rt,
		 const gw_admin_args *args, const gw_admin_caller *caller,
		 gw_aout *o);

/* Writes {"error": code, "message": msg}; returns status. */
int gw_admin_error(gw_aout *o, int status, const char *code, const char *msg);

#endif /* DD_GATEWAY_ADMIN_H */
