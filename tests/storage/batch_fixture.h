/* Test helpers shared by the batch_io and wal tests: a deterministic batch holding all six
 * column types with NULLs, and a row-by-row comparison of two batches. */
#ifndef SDB_TESTS_STORAGE_BATCH_FIXTURE_H
#define SDB_TESTS_STORAGE_BATCH_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "storage/column.h"

/* Fill b (initialized here) with nrows rows derived from seed. NULL patterns differ per
 * column; row 0 of every column is non-NULL. */
static inline void fixture_batch(sdb_batch *b, uint64_t seed, uint64_t nrows)
{
    static const char *const models[] = {"gpt-4o", "claude-3-5-sonnet", "llama-3-70b", "", "o1"};
    sdb_err err;
    int it, ii, ifl, ib, isy, ist;
    sdb_batch_init(b);
    cr_assert_eq(sdb_batch_add(b, "time", 4, SDB_TYPE_TIMESTAMP, &it, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(b, "input_tokens", 12, SDB_TYPE_INT64, &ii, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(b, "cost_usd", 8, SDB_TYPE_FLOAT64, &ifl, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(b, "hallucination", 13, SDB_TYPE_BOOL, &ib, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(b, "model", 5, SDB_TYPE_SYMBOL, &isy, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(b, "trace_id", 8, SDB_TYPE_STRING, &ist, &err), SDB_OK);
    for (uint64_t r = 0; r < nrows; r++) {
        uint64_t x = seed * 1000003u + r;
        char s[64];
        int n = snprintf(s, sizeof s, "trace-%llx-%llu", (unsigned long long)seed,
                         (unsigned long long)(x * 7919u));
        cr_assert_eq(
            sdb_column_push_i64(&b->cols[it], 1700000000000000000LL + (int64_t)x * 1000, &err),
            SDB_OK);
        if (r % 5 == 3)
            cr_assert_eq(sdb_column_push_null(&b->cols[ii], &err), SDB_OK);
        else
            cr_assert_eq(sdb_column_push_i64(&b->cols[ii], (int64_t)(x % 4096) - 100, &err),
                         SDB_OK);
        if (r % 7 == 2)
            cr_assert_eq(sdb_column_push_null(&b->cols[ifl], &err), SDB_OK);
        else
            cr_assert_eq(sdb_column_push_f64(&b->cols[ifl], (double)x * 0.00001, &err), SDB_OK);
        if (r % 3 == 1)
            cr_assert_eq(sdb_column_push_null(&b->cols[ib], &err), SDB_OK);
        else
            cr_assert_eq(sdb_column_push_bool(&b->cols[ib], (x & 4) != 0, &err), SDB_OK);
        if (r % 11 == 10)
            cr_assert_eq(sdb_column_push_null(&b->cols[isy], &err), SDB_OK);
        else
            cr_assert_eq(
                sdb_column_push_str(&b->cols[isy], models[x % 5], strlen(models[x % 5]), &err),
                SDB_OK);
        if (r % 4 == 3)
            cr_assert_eq(sdb_column_push_null(&b->cols[ist], &err), SDB_OK);
        else
            cr_assert_eq(sdb_column_push_str(&b->cols[ist], s, (size_t)(r % 13 == 0 ? 0 : n), &err),
                         SDB_OK);
        b->nrows++;
    }
}

/* Assert that a and b hold the same columns (names, types, order) and the same rows. */
static inline void fixture_assert_equal(const sdb_batch *a, const sdb_batch *b)
{
    cr_assert_eq(a->ncols, b->ncols);
    cr_assert_eq(a->nrows, b->nrows);
    for (uint32_t i = 0; i < a->ncols; i++) {
        const sdb_column *x = &a->cols[i], *y = &b->cols[i];
        cr_assert_str_eq(a->names[i], b->names[i]);
        cr_assert_eq(x->type, y->type);
        cr_assert_geq(y->n, a->nrows);
        for (uint64_t r = 0; r < a->nrows; r++) {
            uint32_t lx, ly;
            const char *sx, *sy;
            cr_assert_eq(sdb_column_valid(x, r), sdb_column_valid(y, r), "column %s row %llu",
                         a->names[i], (unsigned long long)r);
            if (!sdb_column_valid(x, r))
                continue;
            switch (x->type) {
            case SDB_TYPE_TIMESTAMP:
            case SDB_TYPE_INT64: cr_assert_eq(x->v.i64[r], y->v.i64[r]); break;
            case SDB_TYPE_FLOAT64: cr_assert_eq(memcmp(&x->v.f64[r], &y->v.f64[r], 8), 0); break;
            case SDB_TYPE_BOOL: cr_assert_eq(x->v.b8[r], y->v.b8[r]); break;
            case SDB_TYPE_SYMBOL:
            case SDB_TYPE_STRING:
                sx = sdb_column_str(x, r, &lx);
                sy = sdb_column_str(y, r, &ly);
                cr_assert_eq(lx, ly, "column %s row %llu", a->names[i], (unsigned long long)r);
                cr_assert_eq(memcmp(sx, sy, lx), 0);
                break;
            }
        }
    }
}

#endif
