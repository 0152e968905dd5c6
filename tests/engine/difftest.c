/* The differential fixture (difftest.h): generated spans in spandb and in SQLite, results of
 * both as rows of cells. SQLite gets one extra aggregate, quantile_cont(x, q), computed here
 * in C from the values SQLite hands it, with DuckDB's definition (interpolation between the
 * two closest ranks of q (n - 1)). */
#include "tests/engine/difftest.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gen.h"
#include "tests/support/tmpdir.h"

/* ---- quantile_cont for SQLite ---- */

typedef struct qstate {
    double *v;
    size_t n, cap;
    double q;
    bool oom;
} qstate;

static void q_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    qstate *s = sqlite3_aggregate_context(ctx, sizeof *s);
    double x;
    (void)argc;
    if (s == NULL)
        return;
    s->q = sqlite3_value_double(argv[1]);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    x = sqlite3_value_double(argv[0]);
    if (isnan(x))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        double *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL) {
            s->oom = true;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void q_final(sqlite3_context *ctx)
{
    qstate *s = sqlite3_aggregate_context(ctx, 0);
    if (s == NULL || s->n == 0) {
        sqlite3_result_null(ctx);
    } else if (s->oom) {
        sqlite3_result_error_nomem(ctx);
    } else {
        double h, lo, hi;
        size_t fl, ce;
        qsort(s->v, s->n, sizeof *s->v, cmp_dbl);
        h = s->q * (double)(s->n - 1);
        fl = (size_t)floor(h);
        ce = (size_t)ceil(h);
        lo = s->v[fl];
        hi = s->v[ce];
        sqlite3_result_double(ctx, lo + (h - floor(h)) * (hi - lo));
    }
    if (s != NULL)
        free(s->v);
}

/* ---- loading ---- */

static void ok(sdb_rc rc, const sdb_err *err)
{
    cr_assert_eq(rc, SDB_OK, "%s", err->msg);
}

static void lite_exec(sqlite3 *lite, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(lite, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "sqlite: %s: %s", sql, msg ? msg : "?");
}

static const char *lite_type(sdb_type t)
{
    switch (t) {
    case SDB_TYPE_FLOAT64: return "REAL";
    case SDB_TYPE_SYMBOL:
    case SDB_TYPE_STRING: return "TEXT";
    default: return "INTEGER";
    }
}

static void lite_create(sqlite3 *lite, const sdb_batch *b)
{
    char sql[8192];
    size_t n = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE spans (");
    for (uint32_t c = 0; c < b->ncols; c++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s %s", c ? ", " : "", b->names[c],
                              lite_type(b->cols[c].type));
    snprintf(sql + n, sizeof sql - n, ")");
    lite_exec(lite, sql);
}

static void lite_insert(sqlite3 *lite, const sdb_batch *b)
{
    char sql[8192];
    sqlite3_stmt *st;
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO spans (");
    for (uint32_t c = 0; c < b->ncols; c++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", c ? ", " : "", b->names[c]);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES (");
    for (uint32_t c = 0; c < b->ncols; c++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s?", c ? ", " : "");
    snprintf(sql + n, sizeof sql - n, ")");
    cr_assert_eq(sqlite3_prepare_v2(lite, sql, -1, &st, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(lite));
    lite_exec(lite, "BEGIN");
    for (uint64_t r = 0; r < b->nrows; r++) {
        for (uint32_t c = 0; c < b->ncols; c++) {
            const sdb_column *col = &b->cols[c];
            int i = (int)c + 1;
            if (!sdb_column_valid(col, r)) {
                sqlite3_bind_null(st, i);
                continue;
            }
            switch (col->type) {
            case SDB_TYPE_TIMESTAMP:
            case SDB_TYPE_INT64: sqlite3_bind_int64(st, i, col->v.i64[r]); break;
            case SDB_TYPE_FLOAT64: sqlite3_bind_double(st, i, col->v.f64[r]); break;
            case SDB_TYPE_BOOL: sqlite3_bind_int(st, i, col->v.b8[r] ? 1 : 0); break;
            case SDB_TYPE_SYMBOL:
            case SDB_TYPE_STRING: {
                uint32_t len;
                const char *s = sdb_column_str(col, r, &len);
                sqlite3_bind_text(st, i, s, (int)len, SQLITE_TRANSIENT);
                break;
            }
            }
        }
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(lite));
        sqlite3_reset(st);
    }
    lite_exec(lite, "COMMIT");
    sqlite3_finalize(st);
}

void dt_fixture_build(dt_fixture *f, uint64_t rows, uint64_t flush_at, uint32_t block_rows)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_gen_opts go;
    sdb_gen *g;
    sdb_batch b;
    sdb_err err;
    uint64_t done = 0;
    bool created = false, flushed = false;

    memset(f, 0, sizeof *f);
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.bulk = true;
    o.seg.no_sync = true;
    o.seg.block_rows = block_rows;
    o.memtable_rows = rows + 1;
    tmpdir_path(dir, sizeof dir, "db");
    ok(sdb_db_open(dir, &o, &f->db, NULL, &err), &err);

    cr_assert_eq(sqlite3_open(":memory:", &f->lite), SQLITE_OK);
    lite_exec(f->lite, "PRAGMA case_sensitive_like=ON");
    cr_assert_eq(sqlite3_create_function(f->lite, "quantile_cont", 2, SQLITE_UTF8, NULL, NULL,
                                         q_step, q_final), SQLITE_OK);

    sdb_gen_opts_default(&go);
    go.rows = rows;
    go.seed = 1;
    go.days = 3;
    ok(sdb_gen_create(&go, &g, &err), &err);
    sdb_batch_init(&b);
    while (done < rows) {
        uint64_t want = 10000, added = 0;
        if (!flushed && done < flush_at && done + want > flush_at)
            want = flush_at - done;
        sdb_batch_clear(&b);
        ok(sdb_gen_next(g, want, &b, &added, &err), &err);
        if (added == 0)
            break;
        if (!created) {
            lite_create(f->lite, &b);
            created = true;
        }
        ok(sdb_db_write(f->db, "spans", &b, &err), &err);
        lite_insert(f->lite, &b);
        done += added;
        if (!flushed && done >= flush_at) {
            ok(sdb_db_flush(f->db, NULL, &err), &err);
            flushed = true;
        }
    }
    cr_assert_eq(done, rows);
    f->rows = done;
    sdb_batch_free(&b);
    sdb_gen_destroy(g);
}

void dt_fixture_free(dt_fixture *f)
{
    sdb_err err;
    sqlite3_close(f->lite);
    /* do not flush the memtable on close: nothing reads the directory again */
    sdb_db_close(f->db, &err);
    memset(f, 0, sizeof *f);
}

/* ---- results ---- */

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    cr_assert(p != NULL);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

bool dt_run_spandb(sdb_db *db, const char *sql, dt_rows *out, sdb_err *err)
{
    return dt_run_spandb_threads(db, sql, 2, out, err);
}

bool dt_run_spandb_threads(sdb_db *db, const char *sql, unsigned threads, dt_rows *out, sdb_err *err)
{
    sdb_run_opts o;
    sdb_run_result res;
    const sdb_result *r;
    memset(&o, 0, sizeof o);
    o.threads = threads;
    o.now_ns = DT_NOW_NS;
    memset(out, 0, sizeof *out);
    if (sdb_run_sql(db, sql, strlen(sql), &o, &res, err) != SDB_OK)
        return false;
    r = res.rows;
    cr_assert(r != NULL, "no result rows for %s", sql);
    out->ncols = r->ncols;
    out->nrows = r->nrows;
    out->cells = calloc(r->nrows * r->ncols + 1, sizeof *out->cells);
    cr_assert(out->cells != NULL);
    for (uint64_t i = 0; i < r->nrows; i++)
        for (uint32_t c = 0; c < r->ncols; c++) {
            const sdb_value *v = sdb_result_at(r, i, c);
            dt_cell *d = &out->cells[i * r->ncols + c];
            if (v->null) {
                d->k = DT_NULL;
                continue;
            }
            switch (v->type) {
            case SDB_TYPE_TIMESTAMP:
            case SDB_TYPE_INT64: d->k = DT_INT; d->i = v->u.i; break;
            case SDB_TYPE_BOOL: d->k = DT_INT; d->i = v->u.b ? 1 : 0; break;
            case SDB_TYPE_FLOAT64: d->k = DT_DBL; d->d = v->u.f; break;
            case SDB_TYPE_SYMBOL:
            case SDB_TYPE_STRING: d->k = DT_TXT; d->s = dup_n(v->u.s.p, v->u.s.len); break;
            }
        }
    sdb_run_result_free(&res);
    return true;
}

bool dt_run_sqlite(sqlite3 *lite, const char *sql, dt_rows *out, char *msg, size_t n)
{
    sqlite3_stmt *st;
    uint64_t cap = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(lite, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(msg, n, "%s", sqlite3_errmsg(lite));
        return false;
    }
    out->ncols = (uint32_t)sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->nrows == cap) {
            cap = cap ? cap * 2 : 64;
            out->cells = realloc(out->cells, cap * out->ncols * sizeof *out->cells + 1);
            cr_assert(out->cells != NULL);
        }
        for (uint32_t c = 0; c < out->ncols; c++) {
            dt_cell *d = &out->cells[out->nrows * out->ncols + c];
            memset(d, 0, sizeof *d);
            switch (sqlite3_column_type(st, (int)c)) {
            case SQLITE_NULL: d->k = DT_NULL; break;
            case SQLITE_INTEGER: d->k = DT_INT; d->i = sqlite3_column_int64(st, (int)c); break;
            case SQLITE_FLOAT: d->k = DT_DBL; d->d = sqlite3_column_double(st, (int)c); break;
            default:
                d->k = DT_TXT;
                d->s = dup_n((const char *)sqlite3_column_text(st, (int)c),
                             (size_t)sqlite3_column_bytes(st, (int)c));
                break;
            }
        }
        out->nrows++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(msg, n, "%s", sqlite3_errmsg(lite));
        sqlite3_finalize(st);
        return false;
    }
    sqlite3_finalize(st);
    return true;
}

void dt_rows_free(dt_rows *r)
{
    for (uint64_t i = 0; r->cells != NULL && i < r->nrows * r->ncols; i++)
        free(r->cells[i].s);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

static double num(const dt_cell *c)
{
    return c->k == DT_INT ? (double)c->i : c->d;
}

static int cell_cmp(const dt_cell *a, const dt_cell *b)
{
    int ka = a->k == DT_NULL ? 0 : a->k == DT_TXT ? 2 : 1;
    int kb = b->k == DT_NULL ? 0 : b->k == DT_TXT ? 2 : 1;
    if (ka != kb)
        return ka < kb ? -1 : 1;
    if (ka == 0)
        return 0;
    if (ka == 2)
        return strcmp(a->s, b->s);
    if (a->k == DT_INT && b->k == DT_INT)
        return a->i < b->i ? -1 : a->i > b->i;
    return num(a) < num(b) ? -1 : num(a) > num(b);
}

static uint32_t sort_ncols;

static int row_cmp(const void *x, const void *y)
{
    const dt_cell *a = x, *b = y;
    for (uint32_t c = 0; c < sort_ncols; c++) {
        int r = cell_cmp(&a[c], &b[c]);
        if (r != 0)
            return r;
    }
    return 0;
}

void dt_rows_sort(dt_rows *r)
{
    if (r->ncols == 0 || r->nrows < 2)
        return;
    sort_ncols = r->ncols;
    qsort(r->cells, r->nrows, r->ncols * sizeof *r->cells, row_cmp);
}

bool dt_cell_eq(const dt_cell *a, const dt_cell *b, double rel)
{
    if (a->k == DT_NULL || b->k == DT_NULL)
        return a->k == b->k;
    if (a->k == DT_TXT || b->k == DT_TXT)
        return a->k == b->k && strcmp(a->s, b->s) == 0;
    if (a->k == DT_INT && b->k == DT_INT)
        return a->i == b->i;
    {
        double x = num(a), y = num(b);
        if (x == y)
            return true;
        if (isnan(x) || isnan(y))
            return isnan(x) && isnan(y);
        return fabs(x - y) <= rel * fmax(fabs(x), fabs(y));
    }
}

void dt_cell_fmt(const dt_cell *c, char *out, size_t n)
{
    switch (c->k) {
    case DT_NULL: snprintf(out, n, "NULL"); break;
    case DT_INT: snprintf(out, n, "%lld", (long long)c->i); break;
    case DT_DBL: snprintf(out, n, "%.17g", c->d); break;
    case DT_TXT: snprintf(out, n, "'%s'", c->s); break;
    }
}
