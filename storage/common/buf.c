/* Growable byte buffer. Growth doubles, so appending n bytes one by one costs O(n). */
#include "storage/common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"

sdb_rc sdb_buf_reserve(sdb_buf *b, size_t extra, sdb_err *err)
{
    size_t need, cap;
    uint8_t *p;
    if (extra <= b->cap - b->len)
        return SDB_OK;
    if (__builtin_add_overflow(b->len, extra, &need))
        return SDB_FAIL(err, SDB_ERR_NOMEM, "buffer size overflow");
    cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a buffer of %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return SDB_OK;
}

sdb_rc sdb_buf_append(sdb_buf *b, const void *p, size_t n, sdb_err *err)
{
    if (n == 0)
        return SDB_OK;
    SDB_TRY(sdb_buf_reserve(b, n, err));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return SDB_OK;
}

sdb_rc sdb_buf_put_u8(sdb_buf *b, uint8_t v, sdb_err *err)
{
    return sdb_buf_append(b, &v, 1, err);
}

sdb_rc sdb_buf_put_le16(sdb_buf *b, uint16_t v, sdb_err *err)
{
    uint8_t t[2];
    sdb_put_le16(t, v);
    return sdb_buf_append(b, t, sizeof t, err);
}

sdb_rc sdb_buf_put_le32(sdb_buf *b, uint32_t v, sdb_err *err)
{
    uint8_t t[4];
    sdb_put_le32(t, v);
    return sdb_buf_append(b, t, sizeof t, err);
}

sdb_rc sdb_buf_put_le64(sdb_buf *b, uint64_t v, sdb_err *err)
{
    uint8_t t[8];
    sdb_put_le64(t, v);
    return sdb_buf_append(b, t, sizeof t, err);
}

sdb_rc sdb_buf_printf(sdb_buf *b, sdb_err *err, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "bad format string");
    SDB_TRY(sdb_buf_reserve(b, (size_t)n + 1, err));
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SDB_OK;
}

void sdb_buf_reset(sdb_buf *b)
{
    b->len = 0;
}

void sdb_buf_free(sdb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
