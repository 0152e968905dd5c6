/* Fuzz harness for the planner and executor: arbitrary text is run as a statement through
 * sdb_run_sql against a small fixed database, created once per process in a temporary
 * directory: table `spans` (1,500 generated spans, 1,000 in segments of three daily
 * partitions and 500 in the memtable) and table `t` of edge values (NaN, infinities, signed
 * zeros, INT64_MIN/MAX, empty strings, NULLs in every column). Any error is fine; a crash,
 * a sanitizer report or a leak is not. CREATE and DROP are parsed but not run, so every
 * input sees the same database. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gen.h"
#include "engine/run.h"
#include "query/parser.h"
#include "tests/fuzz/fuzz.h"

static sdb_db *db;
static char dir[64];

static void cleanup(void)
{
    char cmd[128];
    sdb_err err;
    if (db != NULL)
        sdb_db_close(db, &err);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "fuzz_plan: could not remove %s\n", dir);
}

static void must(sdb_rc rc, const sdb_err *err)
{
    if (rc != SDB_OK) {
        fprintf(stderr, "fuzz_plan: setup failed: %s\n", err->msg);
        abort();
    }
}

/* Table t: one row per edge value, each column NULL in some rows. */
static void edge_table(sdb_err *err)
{
    static const double f[] = {0.0, -0.0, 1.5, -2.5, 1e308, -1e308, 5e-324, 1e-6, 1e9, 42.0};
    static const int64_t i[] = {0, 1, -1, INT64_MAX, INT64_MIN, 7, -7, 1000, 3, 2};
    static const char *s[] = {"", "a", "A", "%", "_", "abc", "ABC", "a\\b", "zz", "ümlaut"};
    sdb_batch b;
    int it, ii, iff, ib, is, iy;
    size_t n = sizeof f / sizeof f[0];
    sdb_batch_init(&b);
    must(sdb_batch_add(&b, "time", 4, SDB_TYPE_TIMESTAMP, &it, err), err);
    must(sdb_batch_add(&b, "i", 1, SDB_TYPE_INT64, &ii, err), err);
    must(sdb_batch_add(&b, "f", 1, SDB_TYPE_FLOAT64, &iff, err), err);
    must(sdb_batch_add(&b, "b", 1, SDB_TYPE_BOOL, &ib, err), err);
    must(sdb_batch_add(&b, "s", 1, SDB_TYPE_STRING, &is, err), err);
    must(sdb_batch_add(&b, "y", 1, SDB_TYPE_SYMBOL, &iy, err), err);
    for (size_t r = 0; r < n + 3; r++) {
        size_t k = r % n;
        must(sdb_column_push_i64(&b.cols[it], SDB_GEN_DEFAULT_START_NS + (int64_t)r * 3600000000000LL,
                                 err), err);
        must(r % 4 == 1 ? sdb_column_push_null(&b.cols[ii], err)
                        : sdb_column_push_i64(&b.cols[ii], i[k], err), err);
        must(r % 5 == 2 ? sdb_column_push_null(&b.cols[iff], err)
                        : sdb_column_push_f64(&b.cols[iff], r == n ? NAN : r == n + 1 ? INFINITY
                                                            : r == n + 2 ? -INFINITY : f[k], err), err);
        must(r % 3 == 0 ? sdb_column_push_null(&b.cols[ib], err)
                        : sdb_column_push_bool(&b.cols[ib], r % 2, err), err);
        must(r % 6 == 5 ? sdb_column_push_null(&b.cols[is], err)
                        : sdb_column_push_str(&b.cols[is], s[k], strlen(s[k]), err), err);
        must(r % 7 == 3 ? sdb_column_push_null(&b.cols[iy], err)
                        : sdb_column_push_str(&b.cols[iy], s[(k + 3) % n], strlen(s[(k + 3) % n]), err),
             err);
        b.nrows++;
    }
    must(sdb_db_write(db, "t", &b, err), err);
    sdb_batch_free(&b);
}

static void setup(void)
{
    sdb_db_opts o;
    sdb_gen_opts go;
    sdb_gen *g;
    sdb_batch b;
    sdb_err err;
    uint64_t added;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fuzz_plan-XXXXXX", base && strlen(base) < 40 ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "fuzz_plan: mkdtemp failed\n");
        abort();
    }
    atexit(cleanup);
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.bulk = true;
    o.seg.no_sync = true;
    o.seg.block_rows = 256; /* several blocks per segment: pruning gets exercised */
    must(sdb_db_open(dir, &o, &db, NULL, &err), &err);
    sdb_gen_opts_default(&go);
    go.rows = 1500;
    go.days = 3;
    must(sdb_gen_create(&go, &g, &err), &err);
    sdb_batch_init(&b);
    must(sdb_gen_next(g, 1000, &b, &added, &err), &err);
    must(sdb_db_write(db, "spans", &b, &err), &err);
    must(sdb_db_flush(db, NULL, &err), &err);
    sdb_batch_clear(&b);
    must(sdb_gen_next(g, 500, &b, &added, &err), &err);
    must(sdb_db_write(db, "spans", &b, &err), &err);
    sdb_batch_free(&b);
    sdb_gen_destroy(g);
    edge_table(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdb_arena *a;
    sdb_stmt *st;
    sdb_err err;
    sdb_run_opts o;
    sdb_run_result r;
    bool writes;
    if (db == NULL)
        setup();
    if (size > 4096)
        return 0;
    /* statements that change the catalog are parsed only */
    if ((a = sdb_arena_create(0)) == NULL)
        return 0;
    if (sdb_parse(a, (const char *)data, size, &st, NULL, &err) != SDB_OK) {
        sdb_arena_destroy(a);
        return 0;
    }
    writes = st->kind == SDB_STMT_CREATE_TABLE || st->kind == SDB_STMT_DROP_TABLE;
    sdb_arena_destroy(a);
    if (writes)
        return 0;
    memset(&o, 0, sizeof o);
    o.threads = 1;
    o.query_memory = 64u << 20;
    o.now_ns = SDB_GEN_DEFAULT_START_NS + 2 * 86400000000000LL;
    if (sdb_run_sql(db, (const char *)data, size, &o, &r, &err) == SDB_OK)
        sdb_run_result_free(&r);
    return 0;
}
