/* Split-block bloom filter. The high 32 bits of the hash choose the bucket (multiply-shift,
 * so the bucket count need not be a power of two); the low 32 bits times eight odd salts
 * choose one bit in each word of the bucket. */
#include "storage/bloom.h"

#include "storage/common/endian.h"
#include "storage/common/hash.h"

static const uint32_t salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                 0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

size_t sdb_bloom_size(uint64_t ndistinct, unsigned bits_per_key)
{
    uint64_t bits = ndistinct * (uint64_t)bits_per_key;
    uint64_t buckets = (bits + SDB_BLOOM_BUCKET * 8 - 1) / (SDB_BLOOM_BUCKET * 8);
    if (buckets == 0)
        buckets = 1;
    return (size_t)(buckets * SDB_BLOOM_BUCKET);
}

uint64_t sdb_bloom_hash(const void *key, size_t n)
{
    return sdb_hash64(key, n);
}

static inline size_t bucket_of(uint64_t hash, size_t nbuckets)
{
    return (size_t)(((hash >> 32) * (uint64_t)nbuckets) >> 32);
}

void sdb_bloom_add(uint8_t *filter, size_t len, uint64_t hash)
{
    size_t nb = len / SDB_BLOOM_BUCKET;
    uint8_t *b;
    if (nb == 0)
        return;
    b = filter + bucket_of(hash, nb) * SDB_BLOOM_BUCKET;
    for (int i = 0; i < 8; i++) {
        uint32_t bit = ((uint32_t)hash * salt[i]) >> 27;
        sdb_put_le32(b + 4 * i, sdb_get_le32(b + 4 * i) | (1U << bit));
    }
}

bool sdb_bloom_may_contain(const uint8_t *filter, size_t len, uint64_t hash)
{
    size_t nb = len / SDB_BLOOM_BUCKET;
    const uint8_t *b;
    if (nb == 0 || len % SDB_BLOOM_BUCKET != 0)
        return true;
    b = filter + bucket_of(hash, nb) * SDB_BLOOM_BUCKET;
    for (int i = 0; i < 8; i++) {
        uint32_t bit = ((uint32_t)hash * salt[i]) >> 27;
        if (!(sdb_get_le32(b + 4 * i) & (1U << bit)))
            return false;
    }
    return true;
}
