/* sdb_gtab: the group table of hash aggregation. Groups get dense ids 0..n-1 in order of
 * first insertion; each group owns a row of `stride` bytes of aggregate state, kept in
 * pages of 1,024 rows so that growing never moves a state. Keys are byte strings (the
 * serialized group key) found by open addressing with linear probing over XXH3 hashes. A slot
 * holds the whole 64-bit hash, the group id, the key length and, for keys of at most
 * SDB_GTAB_INLINE bytes, the key itself: a probe of a short key reads one slot and nothing
 * else, and callers with many keys at hand prefetch the slots first (sdb_gtab_prefetch); in
 * dense mode (group keys that are one or two symbol columns mapped to a small global code
 * space) the key is an index into a direct array instead and nothing is hashed. Memory comes
 * from an sdb_alloc. */
#ifndef SDB_QUERY_HASHTABLE_H
#define SDB_QUERY_HASHTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "query/qmem.h"
#include "query/vector.h"

#define SDB_GTAB_PAGE 1024u
/* Most groups one query may build (the state pages are indexed by uint32). */
#define SDB_GTAB_MAX_GROUPS (1u << 30)
/* Keys up to this many bytes are compared inside the slot. */
#define SDB_GTAB_INLINE 16u

/* One hash slot (hash mode), half a cache line. */
typedef struct sdb_gslot {
    uint64_t hash;         /* the key's hash */
    uint32_t gid1;         /* group id + 1; 0 = empty */
    uint32_t len;          /* key bytes */
    uint64_t inl[2];       /* len <= SDB_GTAB_INLINE: the key, zero padded; else zero */
} sdb_gslot;

typedef struct sdb_gtab {
    sdb_alloc al;
    uint32_t stride;       /* state bytes per group (multiple of 8; 0: a set of keys) */
    uint32_t n;            /* groups */
    uint8_t **pages;       /* state rows */
    uint32_t npages, pages_cap;
    sdb_str *keys;         /* per group: the key bytes (hash mode) */
    uint64_t *hashes;      /* per group (hash mode); the dense key (dense mode) */
    uint32_t kcap;         /* entries allocated in keys/hashes */
    uint32_t set_hint;     /* distinct sets created in this table's states start with room
                              for this many values (0: small) ... */
    uint64_t set_hint_left;/* ... while the hints reserved so far stay under this many
                              values in all (one big set's hint is not given to thousands) */
    char *kfree;           /* hash mode: room for key copies, taken from the allocator in */
    size_t kleft;          /* chunks (bytes left at kfree) */
    uint32_t kchunk;       /* size of the next chunk: doubles from 64 to 16 KiB, so the many
                              small distinct sets of a query stay small */
    sdb_gslot *slots;      /* hash mode: mask + 1 slots, at most 3/4 used */
    uint32_t mask;         /* slots - 1 */
    bool dense;
    uint32_t dense_n;      /* dense keys 0..dense_n-1 */
    uint32_t *dense_gid;   /* dense key -> group id + 1 */
} sdb_gtab;

/* Initialise; dense_n > 0 selects dense mode. States of new groups are zero-filled; with
 * stride 0 the table is a set of keys (no states). */
sdb_rc sdb_gtab_init(sdb_gtab *t, const sdb_alloc *al, uint32_t stride, uint32_t dense_n,
                     sdb_err *err);
/* Hash mode: make room for n groups in all (slots and key arrays), so that a table that is
 * going to hold about n groups does not grow step by step. */
sdb_rc sdb_gtab_reserve(sdb_gtab *t, uint32_t n, sdb_err *err);
/* The group id of key (hash mode), inserting it when new (*is_new set). The key bytes are
 * copied. */
sdb_rc sdb_gtab_find(sdb_gtab *t, const void *key, uint32_t len, uint64_t hash, uint32_t *gid,
                     sdb_err *err);
/* Dense mode: the group id of dense key k (< dense_n). */
sdb_rc sdb_gtab_find_dense(sdb_gtab *t, uint32_t k, uint32_t *gid, sdb_err *err);
/* Lookup only (hash mode): false when absent. */
bool sdb_gtab_lookup(const sdb_gtab *t, const void *key, uint32_t len, uint64_t hash,
                     uint32_t *gid);

/* Hash mode: start loading the slot where a key of this hash is probed first. */
static inline void sdb_gtab_prefetch(const sdb_gtab *t, uint64_t hash)
{
    __builtin_prefetch(&t->slots[(uint32_t)hash & t->mask]);
}

static inline uint8_t *sdb_gtab_state(const sdb_gtab *t, uint32_t gid)
{
    return t->pages[gid / SDB_GTAB_PAGE] + (size_t)(gid % SDB_GTAB_PAGE) * t->stride;
}

#endif
