/* Hashing: XXH3 for checksums on disk and for hash tables, one place to change it. */
#ifndef SDB_COMMON_HASH_H
#define SDB_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH3-64 of n bytes; the checksum of every on-disk record and block. */
uint64_t sdb_hash64(const void *p, size_t n);
/* XXH3-64 with a seed, for filters that need independent hashes. */
uint64_t sdb_hash64_seed(const void *p, size_t n, uint64_t seed);

/* A cheap mixer for 64-bit keys (hash tables of integers). */
static inline uint64_t sdb_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
