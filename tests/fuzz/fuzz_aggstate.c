/* Fuzz harness of the aggregate state decoders (query/agg.h, query/sketch.h): partial states
 * arrive from segments (rollups) and other machines, so they are untrusted bytes. Byte 0
 * picks the aggregate and its argument type; the rest is decoded, which must succeed or fail
 * with SDB_ERR_CORRUPT (or SDB_ERR_LIMIT past the memory budget). A decoded state is
 * finalized, serialized again, decoded again and finalized again: both results must agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/agg.h"
#include "query/sketch.h"
#include "tests/fuzz/fuzz.h"

static const struct {
    sdb_agg_kind kind;
    sdb_type type;
} variants[] = {
    {SDB_AGG_COUNT, SDB_TYPE_INT64},          {SDB_AGG_SUM, SDB_TYPE_INT64},
    {SDB_AGG_SUM, SDB_TYPE_FLOAT64},          {SDB_AGG_AVG, SDB_TYPE_FLOAT64},
    {SDB_AGG_MIN, SDB_TYPE_STRING},           {SDB_AGG_MAX, SDB_TYPE_FLOAT64},
    {SDB_AGG_COUNT_DISTINCT, SDB_TYPE_STRING}, {SDB_AGG_APPROX_DISTINCT, SDB_TYPE_STRING},
    {SDB_AGG_QUANTILE_EXACT, SDB_TYPE_FLOAT64}, {SDB_AGG_QUANTILE, SDB_TYPE_FLOAT64},
};

static void fail(const char *what, const sdb_err *err)
{
    fprintf(stderr, "fuzz_aggstate: %s: %s\n", what, err ? err->msg : "");
    abort();
}

static int same(const sdb_value *a, const sdb_value *b)
{
    if (a->null != b->null)
        return 0;
    if (a->null)
        return 1;
    if (a->type == SDB_TYPE_STRING)
        return a->u.s.len == b->u.s.len && (a->u.s.len == 0 ||
                                            memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0);
    if (a->type == SDB_TYPE_FLOAT64 && isnan(a->u.f) && isnan(b->u.f))
        return 1;
    return memcmp(&a->u, &b->u, 8) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdb_qmem m;
    sdb_err err;
    sdb_aggdef d;
    sdb_gtab t;
    sdb_alloc al;
    uint32_t g;
    uint64_t key = 0;
    sdb_buf buf = SDB_BUF_INIT;
    sdb_value v1, v2;
    unsigned which;
    sdb_rc rc;
    if (size < 1)
        return 0;
    which = data[0] % (sizeof variants / sizeof variants[0]);
    if (sdb_qmem_init(&m, (size_t)64 << 20, &err) != SDB_OK)
        return 0;
    al.m = &m;
    al.a = NULL;
    if (sdb_agg_define(variants[which].kind, variants[which].type, (double)(data[0] >> 4) / 15.0,
                       &d, &err) != SDB_OK)
        fail("define", &err);
    if (sdb_gtab_init(&t, &al, d.size, 0, &err) != SDB_OK ||
        sdb_gtab_find(&t, &key, 8, 0, &g, &err) != SDB_OK ||
        (key = 1, sdb_gtab_find(&t, &key, 8, 1, &g, &err)) != SDB_OK)
        fail("table", &err);
    rc = sdb_agg_deserialize(&d, &t, sdb_gtab_state(&t, 0), data + 1, size - 1, &err);
    if (rc != SDB_OK) {
        if (rc != SDB_ERR_CORRUPT && rc != SDB_ERR_LIMIT)
            fail("unexpected error", &err);
        sdb_qmem_free(&m);
        return 0;
    }
    sdb_agg_finalize(&d, sdb_gtab_state(&t, 0), &v1);
    if (sdb_agg_serialize(&d, sdb_gtab_state(&t, 0), &buf, &err) != SDB_OK)
        fail("serialize", &err);
    rc = sdb_agg_deserialize(&d, &t, sdb_gtab_state(&t, 1), buf.data, buf.len, &err);
    if (rc == SDB_ERR_LIMIT) {
        sdb_buf_free(&buf);
        sdb_qmem_free(&m);
        return 0;
    }
    if (rc != SDB_OK)
        fail("re-decode", &err);
    sdb_agg_finalize(&d, sdb_gtab_state(&t, 1), &v2);
    if (!same(&v1, &v2))
        fail("round trip changed the value", NULL);
    /* merging a decoded state must not crash either */
    if (sdb_agg_merge(&d, &t, sdb_gtab_state(&t, 0), sdb_gtab_state(&t, 1), &err) != SDB_OK &&
        err.code != SDB_ERR_LIMIT)
        fail("merge", &err);
    sdb_buf_free(&buf);
    sdb_qmem_free(&m);
    return 0;
}
