/* In-memory columns, batches and the symbol dictionary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "storage/column.h"
#include "storage/symdict.h"

Test(column, push_truncate_and_nulls_round_trip)
{
    sdb_column c;
    sdb_err err;
    cr_assert_eq(sdb_column_init(&c, SDB_TYPE_STRING, &err), SDB_OK);
    for (int i = 0; i < 1000; i++) {
        char s[32];
        int n = snprintf(s, sizeof s, "v%d", i);
        if (i % 7 == 0)
            cr_assert_eq(sdb_column_push_null(&c, &err), SDB_OK);
        else
            cr_assert_eq(sdb_column_push_str(&c, s, (size_t)n, &err), SDB_OK);
    }
    cr_assert_eq(c.n, 1000);
    cr_assert_eq(sdb_column_null_count(&c), 143);
    sdb_column_truncate(&c, 10);
    cr_assert_eq(sdb_column_push_str(&c, "x", 1, &err), SDB_OK);
    uint32_t len;
    const char *s = sdb_column_str(&c, 10, &len);
    cr_assert_eq(len, 1);
    cr_assert_eq(s[0], 'x');
    s = sdb_column_str(&c, 9, &len);
    cr_assert(len == 2 && memcmp(s, "v9", 2) == 0);
    cr_assert(!sdb_column_valid(&c, 7));
    sdb_column_free(&c);
}

Test(symdict, intern_many_keeps_codes_dense_and_stable)
{
    sdb_symdict *d = sdb_symdict_create();
    sdb_err err;
    cr_assert_not_null(d);
    for (int round = 0; round < 2; round++)
        for (uint32_t i = 0; i < 100000; i++) {
            char s[32];
            uint32_t code;
            int n = snprintf(s, sizeof s, "model-%u", i);
            cr_assert_eq(sdb_symdict_intern(d, s, (size_t)n, &code, &err), SDB_OK);
            cr_assert_eq(code, i);
        }
    cr_assert_eq(sdb_symdict_count(d), 100000);
    uint32_t code, len;
    cr_assert(sdb_symdict_find(d, "model-77", 8, &code));
    cr_assert_eq(code, 77);
    cr_assert(!sdb_symdict_find(d, "model-x", 7, &code));
    const char *s = sdb_symdict_get(d, 12345, &len);
    cr_assert(len == 11 && memcmp(s, "model-12345", 11) == 0);
    sdb_symdict_destroy(d);
}

Test(batch, add_column_late_pads_with_nulls)
{
    sdb_batch b;
    sdb_err err;
    int idx;
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&b, "time", 4, SDB_TYPE_TIMESTAMP, &idx, &err), SDB_OK);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(sdb_column_push_i64(&b.cols[idx], i, &err), SDB_OK);
        b.nrows++;
    }
    cr_assert_eq(sdb_batch_add(&b, "model", 5, SDB_TYPE_SYMBOL, &idx, &err), SDB_OK);
    cr_assert_eq(b.cols[idx].n, 5);
    cr_assert_eq(sdb_column_null_count(&b.cols[idx]), 5);
    cr_assert_eq(sdb_batch_add(&b, "model", 5, SDB_TYPE_INT64, &idx, &err), SDB_ERR_EXISTS);
    cr_assert(strstr(err.msg, "model") != NULL);
    cr_assert_eq(sdb_batch_find(&b, "model", 5), 1);
    cr_assert_eq(sdb_batch_find(&b, "mod", 3), -1);
    sdb_batch_free(&b);
}

Test(batch, append_rows_matches_names_remaps_symbols_and_widens)
{
    sdb_batch a, b;
    sdb_err err;
    int ai, am, bi, bm, bx;
    sdb_batch_init(&a);
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&a, "v", 1, SDB_TYPE_FLOAT64, &ai, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&a, "model", 5, SDB_TYPE_SYMBOL, &am, &err), SDB_OK);
    cr_assert_eq(sdb_column_push_f64(&a.cols[ai], 0.5, &err), SDB_OK);
    cr_assert_eq(sdb_column_push_str(&a.cols[am], "x", 1, &err), SDB_OK);
    a.nrows = 1;
    cr_assert_eq(sdb_batch_add(&b, "model", 5, SDB_TYPE_SYMBOL, &bm, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "v", 1, SDB_TYPE_INT64, &bi, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "extra", 5, SDB_TYPE_BOOL, &bx, &err), SDB_OK);
    for (int r = 0; r < 4; r++) {
        cr_assert_eq(sdb_column_push_str(&b.cols[bm], r % 2 ? "y" : "x", 1, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_i64(&b.cols[bi], r, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_bool(&b.cols[bx], true, &err), SDB_OK);
        b.nrows++;
    }
    uint32_t rows[] = {3, 1};
    cr_assert_eq(sdb_batch_append_rows(&a, &b, rows, 2, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(a.nrows, 3);
    cr_assert(a.cols[ai].v.f64[1] == 3.0 && a.cols[ai].v.f64[2] == 1.0);
    uint32_t len;
    cr_assert_eq(sdb_column_str(&a.cols[am], 1, &len)[0], 'y');
    cr_assert_eq(sdb_symdict_count(a.cols[am].dict), 2);
    int x = sdb_batch_find(&a, "extra", 5);
    cr_assert(x >= 0 && !sdb_column_valid(&a.cols[x], 0) && sdb_column_valid(&a.cols[x], 2));
    /* a type conflict leaves the destination unchanged */
    sdb_batch c;
    int cv;
    sdb_batch_init(&c);
    cr_assert_eq(sdb_batch_add(&c, "v", 1, SDB_TYPE_STRING, &cv, &err), SDB_OK);
    cr_assert_eq(sdb_column_push_str(&c.cols[cv], "s", 1, &err), SDB_OK);
    c.nrows = 1;
    cr_assert_eq(sdb_batch_append_rows(&a, &c, NULL, 0, &err), SDB_ERR_SCHEMA);
    cr_assert(strstr(err.msg, "column 'v' is float64 but the rows carry string") != NULL, "%s", err.msg);
    cr_assert_eq(a.nrows, 3);
    sdb_batch_free(&a);
    sdb_batch_free(&b);
    sdb_batch_free(&c);
}
