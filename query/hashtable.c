/* The group table of hashtable.h. */
#include "query/hashtable.h"

#include <string.h>

sdb_rc sdb_gtab_init(sdb_gtab *t, const sdb_alloc *al, uint32_t stride, uint32_t dense_n,
                     sdb_err *err)
{
    memset(t, 0, sizeof *t);
    t->al = *al;
    t->stride = (stride + 7u) & ~7u; /* 0: a set, no state rows */
    if (dense_n > 0) {
        t->dense = true;
        t->dense_n = dense_n;
        if ((t->dense_gid = sdb_alloc_get(al, (size_t)dense_n * 4, err)) == NULL)
            return err->code;
        memset(t->dense_gid, 0, (size_t)dense_n * 4);
        return SDB_OK;
    }
    t->mask = 63;
    if ((t->slots = sdb_alloc_get(al, 64 * sizeof *t->slots, err)) == NULL)
        return err->code;
    memset(t->slots, 0, 64 * sizeof *t->slots);
    return SDB_OK;
}

/* A new group: a state row and, in hash mode, room for its key. */
static sdb_rc add_group(sdb_gtab *t, uint32_t *gid, sdb_err *err)
{
    if (t->n >= SDB_GTAB_MAX_GROUPS)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "query has more than %u groups", SDB_GTAB_MAX_GROUPS);
    if (t->stride > 0 && t->n % SDB_GTAB_PAGE == 0) {
        uint32_t p = t->n / SDB_GTAB_PAGE;
        if (p == t->pages_cap) {
            uint32_t ncap = t->pages_cap ? t->pages_cap * 2 : 8;
            uint8_t **np = sdb_alloc_get(&t->al, ncap * sizeof *np, err);
            if (np == NULL)
                return err->code;
            if (t->npages)
                memcpy(np, t->pages, t->npages * sizeof *np);
            t->pages = np;
            t->pages_cap = ncap;
        }
        if ((t->pages[p] = sdb_alloc_get(&t->al, (size_t)SDB_GTAB_PAGE * t->stride, err)) == NULL)
            return err->code;
        memset(t->pages[p], 0, (size_t)SDB_GTAB_PAGE * t->stride);
        t->npages = p + 1;
    }
    if (t->n == t->kcap) {
        uint32_t ncap = t->kcap ? t->kcap * 2 : 64;
        uint64_t *nh = sdb_alloc_get(&t->al, (size_t)ncap * 8, err);
        sdb_str *nk = t->dense ? NULL : sdb_alloc_get(&t->al, (size_t)ncap * sizeof *nk, err);
        if (nh == NULL || (!t->dense && nk == NULL))
            return err->code;
        if (t->n) {
            memcpy(nh, t->hashes, (size_t)t->n * 8);
            if (!t->dense)
                memcpy(nk, t->keys, (size_t)t->n * sizeof *nk);
        }
        t->hashes = nh;
        t->keys = nk;
        t->kcap = ncap;
    }
    *gid = t->n++;
    return SDB_OK;
}

sdb_rc sdb_gtab_find_dense(sdb_gtab *t, uint32_t k, uint32_t *gid, sdb_err *err)
{
    uint32_t g = t->dense_gid[k];
    if (g != 0) {
        *gid = g - 1;
        return SDB_OK;
    }
    SDB_TRY(add_group(t, &g, err));
    t->hashes[g] = k;
    t->dense_gid[k] = g + 1;
    *gid = g;
    return SDB_OK;
}

static inline uint64_t slot_of(uint64_t hash, uint32_t g)
{
    return (hash & 0xffffffff00000000ULL) | (uint64_t)(g + 1);
}

bool sdb_gtab_lookup(const sdb_gtab *t, const void *key, uint32_t len, uint64_t hash,
                     uint32_t *gid)
{
    const uint64_t tag = hash & 0xffffffff00000000ULL;
    for (uint32_t s = (uint32_t)hash & t->mask;; s = (s + 1) & t->mask) {
        uint64_t e = t->slots[s];
        uint32_t g;
        if (e == 0)
            return false;
        if ((e & 0xffffffff00000000ULL) != tag)
            continue;
        g = (uint32_t)e - 1;
        if (t->hashes[g] == hash && t->keys[g].len == len &&
            (len == 0 || memcmp(t->keys[g].p, key, len) == 0)) {
            *gid = g;
            return true;
        }
    }
}

static sdb_rc grow(sdb_gtab *t, sdb_err *err)
{
    uint32_t ncap = (t->mask + 1) * 2, nmask = ncap - 1;
    uint64_t *ns = sdb_alloc_get(&t->al, (size_t)ncap * sizeof *ns, err);
    if (ns == NULL)
        return err->code;
    memset(ns, 0, (size_t)ncap * sizeof *ns);
    for (uint32_t g = 0; g < t->n; g++) {
        uint32_t s = (uint32_t)t->hashes[g] & nmask;
        while (ns[s] != 0)
            s = (s + 1) & nmask;
        ns[s] = slot_of(t->hashes[g], g);
    }
    t->slots = ns;
    t->mask = nmask;
    return SDB_OK;
}

sdb_rc sdb_gtab_find(sdb_gtab *t, const void *key, uint32_t len, uint64_t hash, uint32_t *gid,
                     sdb_err *err)
{
    uint32_t s, g = 0;
    char *copy;
    if (sdb_gtab_lookup(t, key, len, hash, gid))
        return SDB_OK;
    if ((uint64_t)(t->n + 1) * 2 > (uint64_t)t->mask + 1)
        SDB_TRY(grow(t, err));
    if ((copy = sdb_alloc_get(&t->al, len ? len : 1, err)) == NULL)
        return err->code;
    if (len)
        memcpy(copy, key, len);
    SDB_TRY(add_group(t, &g, err));
    t->keys[g].p = copy;
    t->keys[g].len = len;
    t->hashes[g] = hash;
    for (s = (uint32_t)hash & t->mask; t->slots[s] != 0; s = (s + 1) & t->mask)
        ;
    t->slots[s] = slot_of(hash, g);
    *gid = g;
    return SDB_OK;
}
