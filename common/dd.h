/*
 * common/dd.h - the small shared pieces every module uses: the error enum,
 * logging, a bounded dynamic buffer, borrowed string slices, a per-request
 * arena and a few file and time helpers.
 *
 * Nothing here knows about S3, DDP, LMDB or the store.
 */
#ifndef DD_COMMON_H
#define DD_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DD_WUR __attribute__((warn_unused_result))
#define DD_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define DD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DD_MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * Assertions that stay on in release builds: used for invariants whose
 * breach would corrupt stored data. Logs and aborts.
 */
#define DD_ASSERT(cond)                                                      \
	do {                                                                 \
		if (!(cond))                                                 \
			dd_assert_fail(#cond, __FILE__, __LINE__);           \
	} while (0)
void dd_assert_fail(const char *what, const char *file, int line)
	__attribute__((noreturn));

/* ---------------------------------------------------------------- errors */

/*
 * One error enum for the whole project. errno, where it matters, is kept
 * beside the code by the caller, never folded into it. DD_OK is 0, every
 * error is positive, so `if ((rc = f()) != DD_OK) goto out;` reads well.
 */
enum dd_rc {
	DD_OK = 0,
	DD_ENOMEM,      /* out of memory */
	DD_EIO,         /* I/O error from the OS (see errno) */
	DD_EINVAL,      /* invalid argument or malformed input */
	DD_ENOENT,      /* no such object, unit, user, ... */
	DD_EEXIST,      /* already exists */
	DD_ECORRUPT,    /* stored data failed a checksum or is inconsistent */
	DD_ETOOBIG,     /* input exceeds a configured or hard limit */
	DD_ENOTEMPTY,   /* storage unit or directory is not empty */
	DD_EQUOTA,      /* hard quota would be exceeded */
	DD_EPERM,       /* authenticated, but not allowed */
	DD_EAUTH,       /* authentication failed */
	DD_EAGAIN,      /* try again (would block, busy) */
	DD_EDIGEST,     /* a supplied digest or checksum did not match */
	DD_ECONFIG,     /* configuration error */
	DD_ELOCKED,     /* resource locked by another process */
	DD_ESHUTDOWN,   /* shutting down */
	DD_ERANGE,      /* offset or range outside the object */
	DD_EPROTO,      /* protocol violation by the peer */
	DD_ENOTSUP,     /* operation not supported */
	DD_ENOSPC,      /* no space left on device */
	DD_ELIMIT,      /* stream or connection limit reached */
	DD_EINTERNAL,   /* a bug: should not happen */
	DD_RC_COUNT
};

/* Returns a static, human-readable description of rc; never NULL. */
const char *dd_strerror(int rc);
/* Returns a static short symbolic name ("ENOENT") of rc; never NULL. */
const char *dd_errname(int rc);
/* Maps an errno value to the closest dd_rc (ENOSPC -> DD_ENOSPC, ...). */
int dd_rc_from_errno(int err);

/* --------------------------------------------------------------- logging */

enum dd_log_level {
	DD_LOG_ERROR = 0,
	DD_LOG_WARN,
	DD_LOG_INFO,
	DD_LOG_DEBUG,
};

extern int dd_log_level_cur;

/*
 * dd_log(level, fmt, ...) writes one line to the log (stderr by default)
 * with a UTC timestamp and the level. The level is checked before any
 * formatting work is done. Never pass a secret or a signature.
 */
#define dd_log(level, ...)                                                   \
	do {                                                                 \
		if ((level) <= dd_log_level_cur)                             \
			dd_log_write((level), __VA_ARGS__);                  \
	} while (0)

void dd_log_write(int level, const char *fmt, ...) DD_PRINTF(2, 3);
/* Parses "error", "warn", "info", "debug"; returns level or -1. */
int dd_log_level_parse(const char *s);
const char *dd_log_level_name(int level);
void dd_log_set_level(int level);
/*
 * Sends the log to path (append) instead of stderr; NULL means stderr.
 * Returns DD_OK or DD_EIO (errno set). The path is remembered for reopen.
 */
int dd_log_set_file(const char *path) DD_WUR;
/* Reopens the log file (after logrotate, on SIGHUP); no-op for stderr. */
int dd_log_reopen(void);

/* -------------------------------------------------------- bounded buffer */

/*
 * A growable byte buffer that refuses to grow past max (curl's dynbuf).
 * data is always NUL-terminated when non-NULL, so text can be used as a C
 * string; len does not count the NUL.
 */
typedef struct dd_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* largest len allowed */
} dd_buf;

/* Initializes an empty buffer that may hold up to max bytes. No allocation. */
void dd_buf_init(dd_buf *b, size_t max);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void dd_buf_release(dd_buf *b);
/* Sets len to 0 and keeps the memory. */
void dd_buf_reset(dd_buf *b);
/* Makes room for n more bytes. DD_ETOOBIG past max, DD_ENOMEM. */
int dd_buf_reserve(dd_buf *b, size_t n) DD_WUR;
/* Appends n bytes. DD_ETOOBIG (buffer unchanged) past max, DD_ENOMEM. */
int dd_buf_append(dd_buf *b, const void *p, size_t n) DD_WUR;
int dd_buf_append_str(dd_buf *b, const char *s) DD_WUR;
int dd_buf_appendf(dd_buf *b, const char *fmt, ...) DD_PRINTF(2, 3) DD_WUR;
int dd_buf_vappendf(dd_buf *b, const char *fmt, va_list ap) DD_WUR;
/* Removes the first n bytes (n <= len). */
void dd_buf_consume(dd_buf *b, size_t n);
/*
 * Hands the memory to the caller (free() it), sets *len if non-NULL and
 * leaves the buffer empty. Returns NULL for a buffer that never allocated.
 */
char *dd_buf_take(dd_buf *b, size_t *len);

/* ----------------------------------------------------------- str slices */

/* A borrowed (ptr, len) view; never owns memory, not NUL-terminated. */
typedef struct dd_str {
	const char *p;
	size_t len;
} dd_str;

#define DD_STR_LIT(s) ((dd_str){(s), sizeof(s) - 1})
dd_str dd_str_c(const char *s);
int dd_str_eq(dd_str a, dd_str b);
int dd_str_eq_c(dd_str a, const char *s);
int dd_str_casecmp_c(dd_str a, const char *s); /* 0 when equal, ignoring ASCII case */
int dd_str_starts_with(dd_str a, const char *prefix);
/* Parses a decimal uint64 with no sign, no spaces; DD_EINVAL on overflow. */
int dd_str_to_u64(dd_str s, uint64_t *out) DD_WUR;

/* ---------------------------------------------------------------- arena */

/*
 * A per-request arena (nginx pools): many small allocations, one free.
 * Allocation fails (NULL) once max bytes have been handed out.
 */
typedef struct dd_arena dd_arena;
dd_arena *dd_arena_new(size_t max);
void dd_arena_free(dd_arena *a);
/* Returns 16-byte aligned memory valid until dd_arena_free, or NULL. */
void *dd_arena_alloc(dd_arena *a, size_t n);
/* Copies n bytes and adds a NUL; returns NULL on failure. */
char *dd_arena_strndup(dd_arena *a, const char *s, size_t n);

/* ----------------------------------------------------------------- misc */

/* Lower-case hex of n bytes into out (2n+1 bytes incl NUL). */
void dd_hex_encode(const void *in, size_t n, char *out);
/* Decodes exactly 2n hex chars into n bytes; DD_EINVAL on a bad char. */
int dd_hex_decode(const char *in, size_t hexlen, void *out) DD_WUR;
/* Fills buf with cryptographically secure random bytes (getrandom). */
int dd_random_bytes(void *buf, size_t n) DD_WUR;
/* Wall-clock time in nanoseconds since the epoch. */
int64_t dd_now_ns(void);
/* Monotonic time in nanoseconds. */
int64_t dd_mono_ns(void);
/* mkdir -p with mode for created components. DD_OK if it exists. */
int dd_mkdir_p(const char *path, mode_t mode) DD_WUR;
/* fsync the directory containing an entry, so a create/rename is durable. */
int dd_fsync_dir(const char *dirpath) DD_WUR;
/* Writes all n bytes (retrying on EINTR/short writes). DD_EIO on error. */
int dd_write_all(int fd, const void *p, size_t n) DD_WUR;
/* pread all n bytes; DD_EIO on error, DD_ECORRUPT on a short file. */
int dd_pread_all(int fd, void *p, size_t n, off_t off) DD_WUR;
/*
 * Writes data to path atomically and durably: temp file, fsync, rename,
 * fsync of the directory. mode applies to the new file.
 */
int dd_write_file_atomic(const char *path, const void *data, size_t n,
			 mode_t mode) DD_WUR;
/* Reads a whole file of at most max bytes into b. DD_ENOENT, DD_ETOOBIG. */
int dd_read_file(const char *path, dd_buf *b) DD_WUR;

#endif /* DD_COMMON_H */
