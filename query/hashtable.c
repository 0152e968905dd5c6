/* The group table of hashtable.h. */
#include "query/hashtable.h"

#include <string.h>

/* n zeroed slots aligned to a cache line (two slots per line). */
static sdb_gslot *alloc_slots(const sdb_alloc *al, uint32_t n, sdb_err *err)
{
    uint8_t *p = sdb_alloc_get(al, (size_t)n * sizeof(sdb_gslot) + 64, err);
    if (p == NULL)
        return NULL;
    p += (64 - ((uintptr_t)p & 63)) & 63;
    memset(p, 0, (size_t)n * sizeof(sdb_gslot));
    return (sdb_gslot *)(void *)p;
}

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
    /* a query may hold a distinct set per group, most of them tiny: sets start small */
    t->mask = t->stride == 0 ? 3 : 15;
    if ((t->slots = alloc_slots(al, t->mask + 1, err)) == NULL)
        return err->code;
    return SDB_OK;
}

static sdb_rc key_room(sdb_gtab *t, uint32_t ncap, sdb_err *err);

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
    if (t->n == t->kcap)
        SDB_TRY(key_room(t, t->kcap ? t->kcap * 2 : t->stride == 0 ? 4 : 64, err));
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

/* The key's bytes zero padded to SDB_GTAB_INLINE (len <= SDB_GTAB_INLINE). */
static inline void inline_words(const void *key, uint32_t len, uint64_t w[2])
{
    w[0] = w[1] = 0;
    if (len)
        memcpy(w, key, len);
}

/* The slot holding key, or the empty slot where it belongs. */
static inline sdb_gslot *probe(const sdb_gtab *t, const void *key, uint32_t len, uint64_t hash)
{
    if (len <= SDB_GTAB_INLINE) {
        uint64_t w[2];
        inline_words(key, len, w);
        for (uint32_t s = (uint32_t)hash & t->mask;; s = (s + 1) & t->mask) {
            sdb_gslot *e = &t->slots[s];
            if (e->gid1 == 0 ||
                (e->hash == hash && e->len == len && e->inl[0] == w[0] && e->inl[1] == w[1]))
                return e;
        }
    }
    for (uint32_t s = (uint32_t)hash & t->mask;; s = (s + 1) & t->mask) {
        sdb_gslot *e = &t->slots[s];
        if (e->gid1 == 0 || (e->hash == hash && e->len == len &&
                             memcmp(t->keys[e->gid1 - 1].p, key, len) == 0))
            return e;
    }
}

bool sdb_gtab_lookup(const sdb_gtab *t, const void *key, uint32_t len, uint64_t hash,
                     uint32_t *gid)
{
    const sdb_gslot *e = probe(t, key, len, hash);
    if (e->gid1 == 0)
        return false;
    *gid = e->gid1 - 1;
    return true;
}

/* Rehash into ncap slots (a power of two above twice the groups). */
static sdb_rc resize(sdb_gtab *t, uint32_t ncap, sdb_err *err)
{
    uint32_t nmask = ncap - 1;
    sdb_gslot *ns = alloc_slots(&t->al, ncap, err);
    if (ns == NULL)
        return err->code;
    for (uint32_t o = 0; o <= t->mask; o++) {
        const sdb_gslot *e = &t->slots[o];
        uint32_t s;
        if (e->gid1 == 0)
            continue;
        for (s = (uint32_t)e->hash & nmask; ns[s].gid1 != 0; s = (s + 1) & nmask)
            ;
        ns[s] = *e;
    }
    t->slots = ns;
    t->mask = nmask;
    return SDB_OK;
}

static sdb_rc grow(sdb_gtab *t, sdb_err *err)
{
    return resize(t, (t->mask + 1) * 2, err);
}

/* Room for ncap groups in keys and hashes. */
static sdb_rc key_room(sdb_gtab *t, uint32_t ncap, sdb_err *err)
{
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
    return SDB_OK;
}

sdb_rc sdb_gtab_reserve(sdb_gtab *t, uint32_t n, sdb_err *err)
{
    uint32_t cap = t->mask + 1;
    if (t->dense || n > SDB_GTAB_MAX_GROUPS)
        return SDB_OK;
    while ((uint64_t)n * 4 > (uint64_t)cap * 3)
        cap *= 2;
    if (cap != t->mask + 1)
        SDB_TRY(resize(t, cap, err));
    if (n > t->kcap)
        SDB_TRY(key_room(t, n, err));
    return SDB_OK;
}

/* Room for a key copy of len bytes: short keys share chunks (one allocation, and one charge
 * to the query's budget, per chunk of up to 16 KiB of keys), long ones get their own. */
static char *key_copy_room(sdb_gtab *t, uint32_t len, sdb_err *err)
{
    enum { KCHUNK_MIN = 64, KCHUNK = 16384 };
    char *p;
    if (len > KCHUNK / 16)
        return sdb_alloc_get(&t->al, len, err);
    if (t->kleft < len || t->kfree == NULL) {
        uint32_t c = t->kchunk < KCHUNK_MIN ? KCHUNK_MIN : t->kchunk;
        while (c < len)
            c *= 2;
        if ((t->kfree = sdb_alloc_get(&t->al, c, err)) == NULL)
            return NULL;
        t->kleft = c;
        t->kchunk = c * 2 > KCHUNK ? KCHUNK : c * 2;
    }
    p = t->kfree;
    t->kfree += len;
    t->kleft -= len;
    return p;
}

sdb_rc sdb_gtab_find(sdb_gtab *t, const void *key, uint32_t len, uint64_t hash, uint32_t *gid,
                     sdb_err *err)
{
    sdb_gslot *e = probe(t, key, len, hash);
    uint32_t g = 0;
    char *copy;
    if (e->gid1 != 0) {
        *gid = e->gid1 - 1;
        return SDB_OK;
    }
    if ((uint64_t)(t->n + 1) * 4 > ((uint64_t)t->mask + 1) * 3) {
        SDB_TRY(grow(t, err));
        e = probe(t, key, len, hash);
    }
    if ((copy = key_copy_room(t, len, err)) == NULL)
        return err->code;
    if (len)
        memcpy(copy, key, len);
    SDB_TRY(add_group(t, &g, err));
    t->keys[g].p = copy;
    t->keys[g].len = len;
    t->hashes[g] = hash;
    e->hash = hash;
    e->gid1 = g + 1;
    e->len = len;
    if (len <= SDB_GTAB_INLINE)
        inline_words(key, len, e->inl);
    *gid = g;
    return SDB_OK;
}
