/* The exec test fixture (exec_fixture.h). */
#include "tests/query/exec_fixture.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/segcheck.h"
#include "tests/support/tmpdir.h"

sdb_batch fx_batch[NUNITS];
sdb_seg *fx_seg[2];
sdb_table_snap fx_snap;
uint64_t fx_rows[NUNITS];
static const char *const names[NCOLS] = {"time", "duration_ms", "tokens", "model", "endpoint",
                                         "status", "trace_id", "ok", "cost_usd", "extra"};
const sdb_type fx_types[NCOLS] = {SDB_TYPE_TIMESTAMP, SDB_TYPE_FLOAT64, SDB_TYPE_INT64,
                                  SDB_TYPE_SYMBOL, SDB_TYPE_SYMBOL, SDB_TYPE_SYMBOL,
                                  SDB_TYPE_STRING, SDB_TYPE_BOOL, SDB_TYPE_FLOAT64,
                                  SDB_TYPE_INT64};
static sdb_seg *segs[2];
static const sdb_batch *mems[1];

static void ok(sdb_rc rc, const sdb_err *err)
{
    cr_assert_eq(rc, SDB_OK, "%s", err->msg);
}

static sdb_column *add(sdb_batch *b, int c)
{
    int idx;
    sdb_err err;
    ok(sdb_batch_add(b, names[c], strlen(names[c]), fx_types[c], &idx, &err), &err);
    return &b->cols[idx];
}

/* unit 0: models a..; unit 1: other models (different dictionary), has `extra`; unit 2:
 * memtable with all models and `extra`. */
static void fill(int unit, uint64_t rows)
{
    static const char *models0[] = {"gpt-4o", "claude-3-5", "o3-mini"};
    static const char *models1[] = {"llama-3", "gpt-4o", "mistral", "gemini"};
    static const char *models2[] = {"gemini", "o3-mini", "gpt-4o", "new-model"};
    static const char *eps[] = {"/chat", "/embed", "/rag", "/agent", "/tool"};
    sdb_batch *b = &fx_batch[unit];
    sdb_err err;
    uint64_t st = 0x9e3779b97f4a7c15ULL * (uint64_t)(unit + 1);
    int64_t t = T0 + (int64_t)unit * 3600LL * 1000000000LL * 24;
    sdb_column *c[NCOLS] = {0};
    sdb_batch_init(b);
    for (int k = 0; k < NCOLS; k++)
        if (k != C_EXTRA || unit > 0)
            c[k] = add(b, k);
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t x = segcheck_rand(&st), y = segcheck_rand(&st);
        char id[40];
        const char **models = unit == 0 ? models0 : unit == 1 ? models1 : models2;
        unsigned nm = unit == 0 ? 3 : 4;
        t += (int64_t)(x % 2000000000ULL); /* ~1 s apart on average */
        ok(sdb_column_push_i64(c[C_TIME], t, &err), &err);
        if (y % 10 == 0)
            ok(sdb_column_push_null(c[C_DUR], &err), &err);
        else /* lognormal-ish */
            ok(sdb_column_push_f64(c[C_DUR], exp((double)(x % 10000) / 1000.0) * 10.0, &err), &err);
        if (y % 13 == 1)
            ok(sdb_column_push_null(c[C_TOK], &err), &err);
        else
            ok(sdb_column_push_i64(c[C_TOK], (int64_t)(y % 5000) - 100, &err), &err);
        if (y % 17 == 2)
            ok(sdb_column_push_null(c[C_MODEL], &err), &err);
        else
            ok(sdb_column_push_str(c[C_MODEL], models[(x >> 20) % nm],
                                   strlen(models[(x >> 20) % nm]), &err), &err);
        ok(sdb_column_push_str(c[C_EP], eps[(y >> 24) % 5], strlen(eps[(y >> 24) % 5]), &err),
           &err);
        if ((x >> 30) % 9 == 0)
            ok(sdb_column_push_str(c[C_STATUS], "error", 5, &err), &err);
        else
            ok(sdb_column_push_str(c[C_STATUS], "ok", 2, &err), &err);
        snprintf(id, sizeof id, "%d-%016llx", unit, (unsigned long long)(x ^ (y << 7)));
        ok(sdb_column_push_str(c[C_TRACE], id, strlen(id), &err), &err);
        if (y % 11 == 3)
            ok(sdb_column_push_null(c[C_OK], &err), &err);
        else
            ok(sdb_column_push_bool(c[C_OK], (x >> 40) & 1, &err), &err);
        if (y % 7 == 4)
            ok(sdb_column_push_null(c[C_COST], &err), &err);
        else
            ok(sdb_column_push_f64(c[C_COST], (double)((y >> 12) % 100000) / 1e5 * 0.37, &err),
               &err);
        if (c[C_EXTRA] != NULL) {
            if (y % 5 == 0)
                ok(sdb_column_push_null(c[C_EXTRA], &err), &err);
            else
                ok(sdb_column_push_i64(c[C_EXTRA], (int64_t)(x % 1000), &err), &err);
        }
        b->nrows++;
    }
    fx_rows[unit] = rows;
}

void fx_setup(uint64_t rows0, uint64_t rows1, uint64_t rows2)
{
    sdb_err err;
    sdb_seg_opts o;
    char path[4096];
    tmpdir_setup();
    fill(0, rows0);
    fill(1, rows1);
    fill(2, rows2);
    sdb_seg_opts_default(&o);
    o.block_rows = BLOCK_ROWS;
    o.no_sync = true;
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/s%d.seg", sdb_test_dir, s);
        ok(sdb_seg_write(path, &fx_batch[s], NULL, &o, NULL, &err), &err);
        ok(sdb_seg_open(path, &fx_seg[s], &err), &err);
        segs[s] = fx_seg[s];
    }
    mems[0] = &fx_batch[2];
    memset(&fx_snap, 0, sizeof fx_snap);
    fx_snap.table = "spans";
    fx_snap.ncols = NCOLS;
    fx_snap.names = names;
    fx_snap.types = fx_types;
    fx_snap.nsegs = 2;
    fx_snap.segs = segs;
    fx_snap.nmems = 1;
    fx_snap.mems = mems;
}

void fx_teardown(void)
{
    for (int s = 0; s < 2; s++)
        sdb_seg_close(fx_seg[s]);
    for (int u = 0; u < NUNITS; u++)
        sdb_batch_free(&fx_batch[u]);
    tmpdir_teardown();
}

void fx_row(int unit, uint64_t r, trow *out)
{
    const sdb_batch *b = &fx_batch[unit];
    memset(out, 0, sizeof *out);
    for (int k = 0; k < NCOLS; k++) {
        int ci = sdb_batch_find(b, names[k], strlen(names[k]));
        const sdb_column *c;
        if (ci < 0)
            continue;
        c = &b->cols[ci];
        if (!sdb_column_valid(c, r))
            continue;
        out->has[k] = true;
        switch (fx_types[k]) {
        case SDB_TYPE_FLOAT64: out->f[k] = c->v.f64[r]; break;
        case SDB_TYPE_BOOL: out->i[k] = c->v.b8[r]; break;
        case SDB_TYPE_SYMBOL: case SDB_TYPE_STRING:
            out->s[k] = sdb_column_str(c, r, &out->slen[k]);
            break;
        default: out->i[k] = c->v.i64[r]; break;
        }
    }
}
