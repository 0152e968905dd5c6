/* XXH3 wrappers, so only this file includes xxhash.h. */
#include "storage/common/hash.h"

#include <xxhash.h>

uint64_t sdb_hash64(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

uint64_t sdb_hash64_seed(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}
