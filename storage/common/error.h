/* Error codes and the error record every fallible function fills.
 * A function returns sdb_rc and takes `sdb_err *err` last; SDB_FAIL records the code, a
 * message a user can act on (lower case, no final period) and where it was raised. */
#ifndef SDB_COMMON_ERROR_H
#define SDB_COMMON_ERROR_H

#include <stddef.h>

typedef enum sdb_rc {
    SDB_OK = 0,
    SDB_ERR_NOMEM,     /* allocation failed */
    SDB_ERR_IO,        /* the OS refused: err->sys_errno holds errno */
    SDB_ERR_CORRUPT,   /* bytes on disk are not what was written */
    SDB_ERR_PARSE,     /* malformed input: line protocol, SQL, JSON */
    SDB_ERR_SCHEMA,    /* type conflict, unknown table or column */
    SDB_ERR_LIMIT,     /* a configured bound was reached (line length, memory, connections) */
    SDB_ERR_MISUSE,    /* the caller broke an API contract */
    SDB_ERR_NOTFOUND,  /* a named thing does not exist */
    SDB_ERR_EXISTS,    /* a named thing already exists */
    SDB_ERR_CANCELLED, /* the operation was cancelled */
    SDB_ERR_BUSY,      /* another process holds a lock */
    SDB_ERR__COUNT
} sdb_rc;

#define SDB_ERR_MSG_MAX 512

typedef struct sdb_err {
    sdb_rc code;                /* SDB_OK when nothing failed */
    int sys_errno;              /* errno for SDB_ERR_IO, else 0 */
    const char *file;           /* source file that raised it */
    int line;                   /* source line that raised it */
    char msg[SDB_ERR_MSG_MAX];  /* for the user */
} sdb_err;

/* Record an error in err (which may be NULL) and return code. */
sdb_rc sdb_err_set(sdb_err *err, sdb_rc code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Like sdb_err_set, with code SDB_ERR_IO and the current errno appended as ": strerror". */
sdb_rc sdb_err_set_sys(sdb_err *err, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix an existing message with more context ("file.seg: " + msg). */
void sdb_err_prefix(sdb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to SDB_OK with an empty message. */
void sdb_err_clear(sdb_err *err);

/* The name of a code: "corrupt", "parse error", ... */
const char *sdb_rc_name(sdb_rc rc);

#define SDB_FAIL(err, code, ...)     sdb_err_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)
#define SDB_FAIL_SYS(err, ...)       sdb_err_set_sys((err), __FILE__, __LINE__, __VA_ARGS__)
#define SDB_TRY(expr)                                                                      \
    do {                                                                                   \
        sdb_rc sdb_try_rc_ = (expr);                                                       \
        if (sdb_try_rc_ != SDB_OK)                                                         \
            return sdb_try_rc_;                                                            \
    } while (0)

#endif
