/* Error records: formatting and naming of sdb_rc codes. */
#include "storage/common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const rc_names[SDB_ERR__COUNT] = {
    [SDB_OK] = "ok",
    [SDB_ERR_NOMEM] = "out of memory",
    [SDB_ERR_IO] = "i/o error",
    [SDB_ERR_CORRUPT] = "corrupt",
    [SDB_ERR_PARSE] = "parse error",
    [SDB_ERR_SCHEMA] = "schema error",
    [SDB_ERR_LIMIT] = "limit exceeded",
    [SDB_ERR_MISUSE] = "misuse",
    [SDB_ERR_NOTFOUND] = "not found",
    [SDB_ERR_EXISTS] = "already exists",
    [SDB_ERR_CANCELLED] = "cancelled",
    [SDB_ERR_BUSY] = "busy",
};

const char *sdb_rc_name(sdb_rc rc)
{
    if ((unsigned)rc >= SDB_ERR__COUNT)
        return "unknown error";
    return rc_names[rc];
}

sdb_rc sdb_err_set(sdb_err *err, sdb_rc code, const char *file, int line, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->code = code;
        err->sys_errno = 0;
        err->file = file;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

sdb_rc sdb_err_set_sys(sdb_err *err, const char *file, int line, const char *fmt, ...)
{
    int saved = errno;
    if (err != NULL) {
        va_list ap;
        size_t n;
        err->code = SDB_ERR_IO;
        err->sys_errno = saved;
        err->file = file;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(saved));
    }
    return SDB_ERR_IO;
}

void sdb_err_prefix(sdb_err *err, const char *fmt, ...)
{
    char pre[SDB_ERR_MSG_MAX], old[SDB_ERR_MSG_MAX];
    va_list ap;
    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    size_t np = strlen(pre), no;
    memcpy(old, err->msg, sizeof old);
    no = strnlen(old, sizeof old - 1);
    if (np > sizeof err->msg - 1)
        np = sizeof err->msg - 1;
    if (no > sizeof err->msg - 1 - np)
        no = sizeof err->msg - 1 - np;
    memcpy(err->msg, pre, np);
    memcpy(err->msg + np, old, no);
    err->msg[np + no] = '\0';
}

void sdb_err_clear(sdb_err *err)
{
    if (err != NULL) {
        err->code = SDB_OK;
        err->sys_errno = 0;
        err->file = NULL;
        err->line = 0;
        err->msg[0] = '\0';
    }
}
