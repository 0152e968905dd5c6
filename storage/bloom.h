/* Split-block bloom filters: per-block membership filters for high-cardinality string and
 * symbol columns, so that `WHERE trace_id = '...'` reads only blocks that may hold the value.
 * A filter is an array of 32-byte buckets; a key sets one bit in each of the bucket's eight
 * 32-bit words (the layout Parquet uses). With 10 bits per distinct key the false-positive
 * rate is about 1% (measured in tests/storage/test_bloom.c). */
#ifndef SDB_STORAGE_BLOOM_H
#define SDB_STORAGE_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDB_BLOOM_BUCKET 32u
#define SDB_BLOOM_DEFAULT_BITS 10u

/* Bytes of a filter for ndistinct keys at bits_per_key bits each: a multiple of 32, >= 32. */
size_t sdb_bloom_size(uint64_t ndistinct, unsigned bits_per_key);
/* Hash of a key as the filters use it (XXH3-64). */
uint64_t sdb_bloom_hash(const void *key, size_t n);
/* Add a key hash to a zeroed-then-filled filter of len bytes (len a multiple of 32). */
void sdb_bloom_add(uint8_t *filter, size_t len, uint64_t hash);
/* False when the key is certainly absent. A len that is not a positive multiple of 32
 * answers true (no information). */
bool sdb_bloom_may_contain(const uint8_t *filter, size_t len, uint64_t hash);

#endif
