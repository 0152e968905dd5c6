/* Sorting by the table's sort key. Every key column is first turned into an array of
 * uint64 that compares like the column (symbols through the rank of their string, floats
 * through their order-preserving bit pattern), so the comparator only compares integers;
 * strings are compared bytewise in place. */
#include "engine/sortkey.h"

#include <stdlib.h>
#include <string.h>

typedef struct keycol {
    const sdb_column *c;
    uint64_t *k;     /* NULL for string columns */
} keycol;

typedef struct keyset {
    keycol cols[SDB_MAX_SORT_COLS];
    uint32_t n;
} keyset;

/* Order of two codes of a symbol column's dictionary (ctx) by their strings. */
static int cmp_codes_r(const void *a, const void *b, void *ctx)
{
    const sdb_column *c = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b, lx, ly;
    const char *sx = sdb_symdict_get(c->dict, x, &lx);
    const char *sy = sdb_symdict_get(c->dict, y, &ly);
    uint32_t m = lx < ly ? lx : ly;
    int r = m ? memcmp(sx, sy, m) : 0;
    if (r != 0)
        return r;
    return lx < ly ? -1 : lx > ly;
}

static inline uint64_t f64_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    if (d != d)
        return UINT64_MAX; /* NaN last */
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const keyset *ks = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    for (uint32_t i = 0; i < ks->n; i++) {
        const keycol *kc = &ks->cols[i];
        bool vx = sdb_column_valid(kc->c, x), vy = sdb_column_valid(kc->c, y);
        if (vx != vy)
            return vx ? 1 : -1;
        if (!vx)
            continue;
        if (kc->k != NULL) {
            if (kc->k[x] != kc->k[y])
                return kc->k[x] < kc->k[y] ? -1 : 1;
        } else {
            uint32_t lx, ly;
            const char *sx = sdb_column_str(kc->c, x, &lx), *sy = sdb_column_str(kc->c, y, &ly);
            uint32_t m = lx < ly ? lx : ly;
            int c = m ? memcmp(sx, sy, m) : 0;
            if (c == 0 && lx != ly)
                c = lx < ly ? -1 : 1;
            if (c != 0)
                return c;
        }
    }
    return x < y ? -1 : x > y;
}

sdb_rc sdb_sort_perm(const sdb_batch *b, const sdb_table_def *def, uint32_t *perm, sdb_err *err)
{
    keyset ks;
    sdb_rc rc = SDB_OK;
    bool sorted = true;
    memset(&ks, 0, sizeof ks);
    for (uint64_t r = 0; r < b->nrows; r++)
        perm[r] = (uint32_t)r;
    for (uint32_t i = 0; i < def->nsort; i++) {
        const char *name = def->col_names[def->sort_cols[i]];
        int ci = sdb_batch_find(b, name, strlen(name));
        const sdb_column *c;
        keycol *kc;
        if (ci < 0)
            continue;
        c = &b->cols[ci];
        kc = &ks.cols[ks.n++];
        kc->c = c;
        if (c->type == SDB_TYPE_STRING)
            continue;
        kc->k = malloc((b->nrows ? b->nrows : 1) * sizeof *kc->k);
        if (kc->k == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to sort %llu rows",
                          (unsigned long long)b->nrows);
            goto out;
        }
        if (c->type == SDB_TYPE_SYMBOL) {
            uint32_t nd = sdb_symdict_count(c->dict);
            uint32_t *order = malloc((nd ? nd : 1) * sizeof *order);
            uint64_t *rank = malloc((nd ? nd : 1) * sizeof *rank);
            if (order == NULL || rank == NULL) {
                free(order);
                free(rank);
                rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to sort %u symbols", nd);
                goto out;
            }
            for (uint32_t k = 0; k < nd; k++)
                order[k] = k;
            qsort_r(order, nd, sizeof *order, cmp_codes_r, (void *)(uintptr_t)c);
            for (uint32_t k = 0; k < nd; k++)
                rank[order[k]] = k;
            for (uint64_t r = 0; r < b->nrows; r++)
                kc->k[r] = sdb_column_valid(c, r) ? rank[c->v.code[r]] : 0;
            free(order);
            free(rank);
        } else {
            for (uint64_t r = 0; r < b->nrows; r++) {
                switch (c->type) {
                case SDB_TYPE_FLOAT64: kc->k[r] = f64_key(c->v.f64[r]); break;
                case SDB_TYPE_BOOL: kc->k[r] = c->v.b8[r]; break;
                default: kc->k[r] = (uint64_t)c->v.i64[r] ^ (1ULL << 63); break;
                }
            }
        }
    }
    if (ks.n == 0)
        goto out;
    /* data usually arrives almost sorted by time: skip the sort when it already is */
    for (uint64_t r = 1; r < b->nrows && sorted; r++)
        sorted = cmp_rows(&perm[r - 1], &perm[r], &ks) < 0;
    if (!sorted)
        qsort_r(perm, b->nrows, sizeof *perm, cmp_rows, &ks);
out:
    for (uint32_t i = 0; i < ks.n; i++)
        free(ks.cols[i].k);
    return rc;
}
