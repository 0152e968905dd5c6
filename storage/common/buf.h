/* sdb_buf: a growable byte buffer with one owner, for building file images, encoded
 * blocks and reply text. Appends either succeed or leave the buffer as it was. */
#ifndef SDB_COMMON_BUF_H
#define SDB_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

typedef struct sdb_buf {
    uint8_t *data; /* owned; NULL while cap == 0 */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
} sdb_buf;

#define SDB_BUF_INIT {NULL, 0, 0}

/* Make room for at least `extra` more bytes. Fails with SDB_ERR_NOMEM. */
sdb_rc sdb_buf_reserve(sdb_buf *b, size_t extra, sdb_err *err);
/* Append n bytes (n may be 0). */
sdb_rc sdb_buf_append(sdb_buf *b, const void *p, size_t n, sdb_err *err);
sdb_rc sdb_buf_put_u8(sdb_buf *b, uint8_t v, sdb_err *err);
sdb_rc sdb_buf_put_le16(sdb_buf *b, uint16_t v, sdb_err *err);
sdb_rc sdb_buf_put_le32(sdb_buf *b, uint32_t v, sdb_err *err);
sdb_rc sdb_buf_put_le64(sdb_buf *b, uint64_t v, sdb_err *err);
/* Append printf-formatted text (no terminating NUL is counted in len). */
sdb_rc sdb_buf_printf(sdb_buf *b, sdb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Forget the contents, keep the allocation. */
void sdb_buf_reset(sdb_buf *b);
/* Release the allocation; the buffer is empty and reusable afterwards. */
void sdb_buf_free(sdb_buf *b);

#endif
