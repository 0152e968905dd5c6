/* Little-endian loads and stores of on-disk integers (zstd's MEM_readLE32).
 * Bytes from files and sockets are never cast to structs; they are read through these. */
#ifndef SDB_COMMON_ENDIAN_H
#define SDB_COMMON_ENDIAN_H

#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "spandb assumes a little-endian host; add byte swaps here for big-endian"
#endif

static inline uint16_t sdb_get_le16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t sdb_get_le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t sdb_get_le64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void sdb_put_le16(void *p, uint16_t v)
{
    memcpy(p, &v, sizeof v);
}

static inline void sdb_put_le32(void *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

static inline void sdb_put_le64(void *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

#endif
