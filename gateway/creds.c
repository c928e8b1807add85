/*
 * gateway/creds.c - the root user's access key and secret: created on first
 * start (from the environment or random), kept in <data-dir>/root.credentials
 * (0600), and looked up by the protocol servers through gw_auth_lookup.
 */
#include "gateway/gw.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CREDS_FILE "root.credentials"

static pthread_rwlock_t auth_lock = PTHREAD_RWLOCK_INITIALIZER;
static gw_root_creds auth_root;
static int auth_have_root;

int gw_creds_valid_access_key(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > GW_ACCESS_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

int gw_creds_valid_secret_key(const char *s)
{
	size_t n = strlen(s);

	if (n < 8 || n > GW_SECRET_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int gw_creds_generate(gw_root_creds *out)
{
	static const char ak_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char sk_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char rnd[60];
	int rc;

	if ((rc = dd_random_bytes(rnd, sizeof(rnd))) != DD_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	/* 36 does not divide 256: reject-free modulo has a tiny bias that is
	 * harmless for an identifier (the access key is not secret). */
	for (int i = 0; i < 20; i++)
		out->access_key[i] = ak_chars[rnd[i] % 36];
	for (int i = 0; i < 40; i++)
		out->secret_key[i] = sk_chars[rnd[20 + i] & 63];
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return DD_OK;
}

/* Copies value (v, n) into dst (cap bytes incl. NUL); 0 if it does not fit. */
static int copy_val(char *dst, size_t cap, const char *v, size_t n)
{
	if (n == 0 || n >= cap)
		return 0;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 1;
}

int gw_creds_parse(const char *data, size_t len, gw_root_creds *out)
{
	gw_root_creds c;
	size_t pos = 0;
	int have_ak = 0, have_sk = 0;

	memset(&c, 0, sizeof(c));
	while (pos < len) {
		const char *p = data + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		const char *eq, *k, *v;
		size_t kl, vl;

		pos += n + (nl ? 1 : 0);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (n == 0 || *p == '#' || *p == ';')
			continue;
		if (!(eq = memchr(p, '=', n)))
			return DD_ECORRUPT;
		k = p;
		kl = (size_t)(eq - p);
		while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
			kl--;
		v = eq + 1;
		vl = n - (size_t)(v - p);
		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		if (kl == 10 && memcmp(k, "access_key", 10) == 0)
			have_ak = copy_val(c.access_key, sizeof(c.access_key), v, vl);
		else if (kl == 10 && memcmp(k, "secret_key", 10) == 0)
			have_sk = copy_val(c.secret_key, sizeof(c.secret_key), v, vl);
		else
			return DD_ECORRUPT;
	}
	if (!have_ak || !have_sk || !gw_creds_valid_access_key(c.access_key) ||
	    !gw_creds_valid_secret_key(c.secret_key)) {
		OPENSSL_cleanse(&c, sizeof(c));
		return DD_ECORRUPT;
	}
	*out = c;
	OPENSSL_cleanse(&c, sizeof(c));
	return DD_OK;
}

static int write_creds(const char *path, const gw_root_creds *c)
{
	dd_buf b;
	int rc;

	dd_buf_init(&b, 4096);
	rc = dd_buf_appendf(&b,
			    "# dedupd root credentials: the admin user's S3/DDP keys.\n"
			    "# Keep this file secret (mode 0600).\n"
			    "access_key = %s\nsecret_key = %s\n",
			    c->access_key, c->secret_key);
	if (rc == DD_OK)
		rc = dd_write_file_atomic(path, b.data, b.len, 0600);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	dd_buf_release(&b);
	return rc;
}

static int load_existing(const char *path, const char *env_ak,
			 const char *env_sk, gw_root_creds *out)
{
	dd_buf b;
	int rc;

	dd_buf_init(&b, 64 * 1024);
	rc = dd_read_file(path, &b);
	if (rc == DD_OK)
		rc = gw_creds_parse(b.data ? b.data : "", b.len, out);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	dd_buf_release(&b);
	if (rc != DD_OK)
		return rc;
	if ((env_ak && strcmp(env_ak, out->access_key) != 0) ||
	    (env_sk && strcmp(env_sk, out->secret_key) != 0))
		dd_log(DD_LOG_WARN,
		       "DEDUPD_ROOT_ACCESS_KEY/DEDUPD_ROOT_SECRET_KEY differ from "
		       "%s (access key %s); the stored credentials are used",
		       path, out->access_key);
	return DD_OK;
}

int gw_creds_load_or_create(const char *data_dir, const char *env_ak,
			    const char *env_sk, gw_root_creds *out,
			    int *created)
{
	char path[PATH_MAX];
	struct stat st;
	int rc;

	*created = 0;
	if (snprintf(path, sizeof(path), "%s/%s", data_dir, CREDS_FILE) >=
	    (int)sizeof(path))
		return DD_EINVAL;
	if (stat(path, &st) == 0)
		return load_existing(path, env_ak, env_sk, out);
	if (errno != ENOENT)
		return dd_rc_from_errno(errno);
	memset(out, 0, sizeof(*out));
	if (env_ak && env_sk) {
		if (!gw_creds_valid_access_key(env_ak) ||
		    !gw_creds_valid_secret_key(env_sk))
			return DD_EINVAL;
		snprintf(out->access_key, sizeof(out->access_key), "%s", env_ak);
		snprintf(out->secret_key, sizeof(out->secret_key), "%s", env_sk);
	} else if (env_ak || env_sk) {
		return DD_EINVAL;
	} else if ((rc = gw_creds_generate(out)) != DD_OK) {
		return rc;
	}
	if ((rc = write_creds(path, out)) != DD_OK)
		return rc;
	*created = 1;
	dd_log(DD_LOG_INFO, "created root credentials in %s (access key %s)",
	       path, out->access_key);
	return DD_OK;
}

void gw_auth_set_root(const gw_root_creds *creds)
{
	pthread_rwlock_wrlock(&auth_lock);
	auth_root = *creds;
	auth_have_root = 1;
	pthread_rwlock_unlock(&auth_lock);
}

int gw_auth_lookup(const char *ak, size_t aklen, char *secret, size_t cap,
		   int *is_admin)
{
	int rc = DD_ENOENT;

	pthread_rwlock_rdlock(&auth_lock);
	if (auth_have_root && strlen(auth_root.access_key) == aklen &&
	    memcmp(auth_root.access_key, ak, aklen) == 0) {
		if (strlen(auth_root.secret_key) < cap) {
			snprintf(secret, cap, "%s", auth_root.secret_key);
			*is_admin = 1;
			rc = DD_OK;
		} else {
			rc = DD_ETOOBIG;
		}
	}
	pthread_rwlock_unlock(&auth_lock);
	return rc;
}
