/* sdb_cursor: a bounds-checked reader of little-endian fields in untrusted bytes (footers,
 * catalogs). Reading past the end sets `bad` and yields zeros, so a parser reads a whole
 * record and checks `bad` once instead of after every field. */
#ifndef SDB_COMMON_CURSOR_H
#define SDB_COMMON_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/endian.h"

typedef struct sdb_cursor {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* one past the last byte */
    bool bad;           /* a read went past the end */
} sdb_cursor;

static inline sdb_cursor sdb_cursor_make(const void *p, size_t n)
{
    sdb_cursor c = {(const uint8_t *)p, (const uint8_t *)p + n, false};
    return c;
}

/* n bytes in place, or NULL (and bad) when fewer are left. */
static inline const uint8_t *sdb_cur_take(sdb_cursor *c, size_t n)
{
    const uint8_t *p = c->p;
    if (c->bad || n > (size_t)(c->end - c->p)) {
        c->bad = true;
        return NULL;
    }
    c->p += n;
    return p;
}

static inline uint8_t sdb_cur_u8(sdb_cursor *c)
{
    const uint8_t *p = sdb_cur_take(c, 1);
    return p ? p[0] : 0;
}

static inline uint16_t sdb_cur_u16(sdb_cursor *c)
{
    const uint8_t *p = sdb_cur_take(c, 2);
    return p ? sdb_get_le16(p) : 0;
}

static inline uint32_t sdb_cur_u32(sdb_cursor *c)
{
    const uint8_t *p = sdb_cur_take(c, 4);
    return p ? sdb_get_le32(p) : 0;
}

static inline uint64_t sdb_cur_u64(sdb_cursor *c)
{
    const uint8_t *p = sdb_cur_take(c, 8);
    return p ? sdb_get_le64(p) : 0;
}

#endif
