/* Aggregation, pruning, parallelism and sorting of the execution core against row-by-row
 * reference computations, and the quantile sketch against exact quantiles. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"
#include "query/sketch.h"
#include "tests/query/exec_fixture.h"
#include "tests/support/segcheck.h"

static sdb_qmem qm;
static sdb_err err;

static void setup(void)
{
    fx_setup(20000, 30000, 9000);
    cr_assert_eq(sdb_qmem_init(&qm, 0, &err), SDB_OK);
}

static void teardown(void)
{
    sdb_qmem_free(&qm);
    fx_teardown();
}

TestSuite(exec_agg, .init = setup, .fini = teardown, .timeout = 120);

static sdb_pexpr *col(int c)
{
    return sdb_pexpr_col(&qm, (uint32_t)c, fx_types[c], &err);
}

static sdb_pexpr *op2(sdb_pexpr_kind k, sdb_pexpr *a, sdb_pexpr *b)
{
    sdb_pexpr *e = sdb_pexpr_op2(&qm, k, a, b, &err);
    cr_assert_not_null(e, "%s", err.msg);
    return e;
}

static sdb_pexpr *opn(sdb_pexpr_kind k, sdb_pexpr **args, uint32_t n)
{
    sdb_pexpr *e = sdb_pexpr_make(&qm, k, args, n, &err);
    cr_assert_not_null(e, "%s", err.msg);
    return e;
}

static sdb_result *run_spec(sdb_query_spec *sp, sdb_exec_stats *st)
{
    sdb_result *r;
    sp->snap = &fx_snap;
    cr_assert_eq(sdb_exec_run(&qm, sp, &r, st, &err), SDB_OK, "%s", err.msg);
    return r;
}

static bool seq(const trow *t, int c, const char *s)
{
    return t->has[c] && t->slen[c] == strlen(s) && memcmp(t->s[c], s, t->slen[c]) == 0;
}

static bool vstr(const sdb_value *v, const char *s, uint32_t n)
{
    return !v->null && v->u.s.len == n && (n == 0 || memcmp(v->u.s.p, s, n) == 0);
}

#define FOR_ROWS(t)                                                                        \
    for (int u_ = 0; u_ < NUNITS; u_++)                                                    \
        for (uint64_t r_ = 0; r_ < fx_rows[u_] && (fx_row(u_, r_, &(t)), 1); r_++)

/* reference accumulators for one group */
typedef struct ref {
    char key[64];
    bool null;
    int64_t n, ntok, sumtok, maxtok, nerr, ndur;
    bool hastok;
    double sumcost, sumdur, mindur;
    bool hascost, hasdur;
} ref;

static ref refs[64];
static int nrefs;

static ref *ref_get(const char *s, uint32_t len, bool null)
{
    for (int k = 0; k < nrefs; k++)
        if (refs[k].null == null && (null || (strlen(refs[k].key) == len &&
                                              memcmp(refs[k].key, s, len) == 0)))
            return &refs[k];
    cr_assert_lt(nrefs, 64);
    ref *r = &refs[nrefs++];
    memset(r, 0, sizeof *r);
    r->null = null;
    if (!null)
        memcpy(r->key, s, len);
    return r;
}

static void ref_add(ref *g, const trow *t)
{
    g->n++;
    if (t->has[C_TOK]) {
        g->ntok++;
        g->sumtok += t->i[C_TOK];
        if (!g->hastok || t->i[C_TOK] > g->maxtok)
            g->maxtok = t->i[C_TOK];
        g->hastok = true;
    }
    if (t->has[C_COST]) {
        g->sumcost += t->f[C_COST];
        g->hascost = true;
    }
    if (t->has[C_DUR]) {
        g->sumdur += t->f[C_DUR];
        g->ndur++;
        if (!g->hasdur || t->f[C_DUR] < g->mindur)
            g->mindur = t->f[C_DUR];
        g->hasdur = true;
    }
    g->nerr += seq(t, C_STATUS, "error");
}

static sdb_aggspec std_aggs[8];

static void set_std_aggs(void)
{
    sdb_aggspec a[8] = {
        {.kind = SDB_AGG_COUNT_STAR},
        {.kind = SDB_AGG_COUNT, .arg = col(C_TOK)},
        {.kind = SDB_AGG_SUM, .arg = col(C_TOK)},
        {.kind = SDB_AGG_SUM, .arg = col(C_COST)},
        {.kind = SDB_AGG_AVG, .arg = col(C_DUR)},
        {.kind = SDB_AGG_MIN, .arg = col(C_DUR)},
        {.kind = SDB_AGG_MAX, .arg = col(C_TOK)},
        {.kind = SDB_AGG_COUNT_IF,
         .arg = op2(SDB_PX_EQ, col(C_STATUS), sdb_pexpr_str(&qm, "error", &err))},
    };
    memcpy(std_aggs, a, sizeof a);
}

/* Check result columns [k, k+8) of row i against g. */
static void check_std(const sdb_value *v, const ref *g)
{
    cr_assert_eq(v[0].u.i, g->n, "%s", g->key);
    cr_assert_eq(v[1].u.i, g->ntok);
    cr_assert_eq(v[2].null, !g->hastok);
    cr_assert_eq(v[2].u.i, g->sumtok);
    cr_assert_eq(v[3].null, !g->hascost);
    cr_assert_float_eq(v[3].u.f, g->sumcost, 1e-9 * (1 + fabs(g->sumcost)));
    cr_assert_eq(v[4].null, !g->hasdur);
    if (g->hasdur) {
        cr_assert_float_eq(v[4].u.f, g->sumdur / (double)g->ndur, 1e-9 * g->sumdur);
        cr_assert_eq(v[5].u.f, g->mindur);
    }
    if (g->hastok)
        cr_assert_eq(v[6].u.i, g->maxtok);
    cr_assert_eq(v[7].u.i, g->nerr);
}

static void run_grouped(int keycol, unsigned threads, bool expect_dense)
{
    sdb_exec_stats st;
    trow t;
    sdb_pexpr *k = keycol >= 0 ? col(keycol)
                               : sdb_pexpr_cast(&qm, col(C_MODEL), SDB_TYPE_STRING, &err);
    int kc = keycol >= 0 ? keycol : C_MODEL;
    nrefs = 0;
    FOR_ROWS(t) ref_add(ref_get(t.s[kc], t.slen[kc], !t.has[kc]), &t);
    set_std_aggs();
    sdb_query_spec sp = {.ngroup = 1, .group = (const sdb_pexpr *const *)&k, .naggs = 8,
                         .aggs = std_aggs, .threads = threads};
    sdb_result *r = run_spec(&sp, &st);
    cr_assert_eq(st.dense_groups, expect_dense);
    cr_assert_eq(r->nrows, (uint64_t)nrefs);
    cr_assert_eq(r->ncols, 9);
    cr_assert_eq(r->types[0], keycol >= 0 ? fx_types[keycol] : SDB_TYPE_STRING);
    for (uint64_t i = 0; i < r->nrows; i++) {
        const sdb_value *v = sdb_result_at(r, i, 0);
        ref *g = ref_get(v->u.s.p, v->u.s.len, v->null);
        check_std(v + 1, g);
    }
    sdb_result_destroy(r);
}

Test(exec_agg, group_by_symbol_across_dictionaries_matches_reference)
{
    run_grouped(C_MODEL, 1, true);
    run_grouped(C_MODEL, 3, true);
}

Test(exec_agg, group_by_string_expression_uses_hash_table)
{
    run_grouped(-1, 2, false);
    run_grouped(C_TRACE == 0 ? 0 : C_EP, 2, true);
}

Test(exec_agg, group_by_two_symbols_and_by_int_match_reference)
{
    /* (model, endpoint): count(*), sum(cost) */
    sdb_pexpr *k[2] = {col(C_MODEL), col(C_EP)};
    sdb_aggspec a[2] = {{.kind = SDB_AGG_COUNT_STAR}, {.kind = SDB_AGG_SUM, .arg = col(C_COST)}};
    sdb_exec_stats st;
    sdb_query_spec sp = {.ngroup = 2, .group = (const sdb_pexpr *const *)k, .naggs = 2,
                         .aggs = a, .threads = 2};
    sdb_result *r = run_spec(&sp, &st);
    trow t;
    int64_t total = 0;
    cr_assert(st.dense_groups);
    for (uint64_t i = 0; i < r->nrows; i++) {
        const sdb_value *v = sdb_result_at(r, i, 0);
        int64_t n = 0;
        double s = 0;
        FOR_ROWS(t)
        {
            bool mk = v[0].null ? !t.has[C_MODEL] : (t.has[C_MODEL] && vstr(&v[0], t.s[C_MODEL], t.slen[C_MODEL]));
            if (mk && vstr(&v[1], t.s[C_EP], t.slen[C_EP])) {
                n++;
                s += t.has[C_COST] ? t.f[C_COST] : 0;
            }
        }
        cr_assert_eq(v[2].u.i, n);
        cr_assert_float_eq(v[3].u.f, s, 1e-9 * (1 + s));
        total += n;
    }
    cr_assert_eq(total, (int64_t)(fx_rows[0] + fx_rows[1] + fx_rows[2]));
    sdb_result_destroy(r);

    /* group by tokens (ints incl. NULL): count(*), max(duration) */
    static int64_t cnt[5101];
    static double mx[5101];
    int64_t ncnt_null = 0;
    FOR_ROWS(t)
    {
        if (!t.has[C_TOK]) {
            ncnt_null++;
            continue;
        }
        int64_t i = t.i[C_TOK] + 100;
        cnt[i]++;
        if (t.has[C_DUR] && (isnan(mx[i]) || mx[i] == 0 || t.f[C_DUR] > mx[i]))
            mx[i] = t.f[C_DUR];
    }
    sdb_pexpr *kt = col(C_TOK);
    sdb_aggspec a2[2] = {{.kind = SDB_AGG_COUNT_STAR}, {.kind = SDB_AGG_MAX, .arg = col(C_DUR)}};
    sdb_query_spec sp2 = {.ngroup = 1, .group = (const sdb_pexpr *const *)&kt, .naggs = 2,
                          .aggs = a2, .threads = 4};
    r = run_spec(&sp2, &st);
    cr_assert(!st.dense_groups);
    uint64_t groups = 0;
    for (int i = 0; i < 5101; i++)
        groups += cnt[i] > 0;
    cr_assert_eq(r->nrows, groups + (ncnt_null > 0));
    for (uint64_t i = 0; i < r->nrows; i++) {
        const sdb_value *v = sdb_result_at(r, i, 0);
        if (v[0].null) {
            cr_assert_eq(v[1].u.i, ncnt_null);
            continue;
        }
        cr_assert_eq(v[1].u.i, cnt[v[0].u.i + 100]);
        if (!v[2].null)
            cr_assert_eq(v[2].u.f, mx[v[0].u.i + 100]);
    }
    sdb_result_destroy(r);
}

Test(exec_agg, group_by_time_bucket_and_status_matches_reference)
{
    /* select date_trunc('hour', time), status, count(*), count_if(status = 'error')
       group by 1, 2 */
    const int64_t hour = 3600000000000LL;
    sdb_pexpr *k[2] = {opn(SDB_PX_TIME_BUCKET,
                           (sdb_pexpr *[]){sdb_pexpr_i64(&qm, hour, &err), col(C_TIME)}, 2),
                       col(C_STATUS)};
    sdb_aggspec a[1] = {{.kind = SDB_AGG_COUNT_STAR}};
    sdb_query_spec sp = {.ngroup = 2, .group = (const sdb_pexpr *const *)k, .naggs = 1,
                         .aggs = a, .threads = 2};
    sdb_exec_stats st;
    sdb_result *r = run_spec(&sp, &st);
    static int64_t ref_ok[200], ref_err[200];
    trow t;
    FOR_ROWS(t)
    {
        int64_t b = (t.i[C_TIME] - T0) / hour;
        cr_assert_lt(b, 200);
        if (seq(&t, C_STATUS, "error"))
            ref_err[b]++;
        else
            ref_ok[b]++;
    }
    uint64_t want = 0;
    for (int b = 0; b < 200; b++)
        want += (ref_ok[b] > 0) + (ref_err[b] > 0);
    cr_assert_eq(r->nrows, want);
    cr_assert_eq(r->types[0], SDB_TYPE_TIMESTAMP);
    for (uint64_t i = 0; i < r->nrows; i++) {
        const sdb_value *v = sdb_result_at(r, i, 0);
        int64_t b = (v[0].u.i - T0) / hour;
        cr_assert_eq(v[0].u.i, T0 + b * hour);
        cr_assert_eq(v[2].u.i, vstr(&v[1], "error", 5) ? ref_err[b] : ref_ok[b]);
    }
    sdb_result_destroy(r);
}

Test(exec_agg, results_are_identical_for_1_2_4_threads)
{
    sdb_pexpr *k = col(C_MODEL);
    sdb_aggspec a[4] = {{.kind = SDB_AGG_SUM, .arg = col(C_COST)},
                        {.kind = SDB_AGG_AVG, .arg = col(C_DUR)},
                        {.kind = SDB_AGG_QUANTILE, .arg = col(C_DUR), .q = 0.99},
                        {.kind = SDB_AGG_COUNT_DISTINCT, .arg = col(C_TOK)}};
    sdb_result *r[3];
    unsigned th[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        sdb_query_spec sp = {.ngroup = 1, .group = (const sdb_pexpr *const *)&k, .naggs = 4,
                             .aggs = a, .threads = th[i]};
        r[i] = run_spec(&sp, NULL);
    }
    for (int i = 1; i < 3; i++) {
        cr_assert_eq(r[i]->nrows, r[0]->nrows);
        for (uint64_t row = 0; row < r[0]->nrows; row++)
            for (uint32_t c = 0; c < 5; c++) {
                const sdb_value *x = sdb_result_at(r[0], row, c), *y = sdb_result_at(r[i], row, c);
                cr_assert_eq(x->null, y->null);
                if (c == 0)
                    cr_assert(x->null || (x->u.s.len == y->u.s.len &&
                                          memcmp(x->u.s.p, y->u.s.p, x->u.s.len) == 0));
                else
                    cr_assert(memcmp(&x->u, &y->u, 8) == 0, "row %llu col %u differs",
                              (unsigned long long)row, c);
            }
    }
    for (int i = 0; i < 3; i++)
        sdb_result_destroy(r[i]);
}

/* ---- pruning ---- */

static int64_t count_where(sdb_pexpr *w, sdb_exec_stats *st)
{
    sdb_aggspec a = {.kind = SDB_AGG_COUNT_STAR};
    sdb_query_spec sp = {.where = w, .naggs = 1, .aggs = &a, .threads = 2};
    sdb_result *r = run_spec(&sp, st);
    int64_t n = sdb_result_at(r, 0, 0)->u.i;
    sdb_result_destroy(r);
    return n;
}

Test(exec_agg, symbol_absent_from_a_dictionary_skips_the_segment)
{
    sdb_exec_stats st;
    trow t;
    int64_t want = 0;
    FOR_ROWS(t) want += seq(&t, C_MODEL, "claude-3-5");
    cr_assert_gt(want, 0);
    cr_assert_eq(count_where(op2(SDB_PX_EQ, col(C_MODEL), sdb_pexpr_str(&qm, "claude-3-5", &err)),
                             &st), want);
    cr_assert_eq(st.segments, 2);
    cr_assert_eq(st.segments_skipped, 1);
    cr_assert_eq(st.rows_skipped, fx_rows[1]);
    cr_assert_eq(st.rows, fx_rows[0]);
    cr_assert_eq(st.mem_rows, fx_rows[2]);

    cr_assert_eq(count_where(op2(SDB_PX_EQ, col(C_MODEL), sdb_pexpr_str(&qm, "absent", &err)),
                             &st), 0);
    cr_assert_eq(st.segments_skipped, 2);
    cr_assert_eq(st.blocks, 0);
    cr_assert_eq(st.blocks_decoded, 0);

    /* a column a segment lacks reads as NULL: extra = 5 skips segment 0 */
    want = 0;
    FOR_ROWS(t) want += t.has[C_EXTRA] && t.i[C_EXTRA] == 5;
    cr_assert_eq(count_where(op2(SDB_PX_EQ, col(C_EXTRA), sdb_pexpr_i64(&qm, 5, &err)), &st),
                 want);
    cr_assert_eq(st.segments_skipped, 1);
}

Test(exec_agg, time_range_skips_blocks)
{
    sdb_exec_stats st;
    trow t;
    fx_row(0, 5000, &t);
    int64_t lo = t.i[C_TIME];
    fx_row(0, 9000, &t);
    int64_t hi = t.i[C_TIME], want = 0;
    FOR_ROWS(t) want += t.i[C_TIME] >= lo && t.i[C_TIME] < hi;
    sdb_pexpr *w = op2(SDB_PX_AND, op2(SDB_PX_GE, col(C_TIME), sdb_pexpr_i64(&qm, lo, &err)),
                       op2(SDB_PX_LT, col(C_TIME), sdb_pexpr_i64(&qm, hi, &err)));
    cr_assert_eq(count_where(w, &st), want);
    cr_assert_eq(want, 4000);
    /* rows 5000..8999 of segment 0 lie in blocks 1 and 2 (4096 rows each) */
    cr_assert_eq(st.blocks, 2);
    cr_assert_eq(st.segments_skipped, 1);
    cr_assert_eq(st.blocks_skipped, 3 + 8);

    sdb_pexpr *b = opn(SDB_PX_BETWEEN, (sdb_pexpr *[]){col(C_TIME), sdb_pexpr_i64(&qm, lo, &err),
                                                       sdb_pexpr_i64(&qm, hi - 1, &err)}, 3);
    cr_assert_eq(count_where(b, &st), want);
    cr_assert_eq(st.blocks, 2);
}

Test(exec_agg, conjuncts_true_of_whole_blocks_are_skipped_and_results_match)
{
    sdb_exec_stats st;
    trow t;
    /* a time range starting inside block 1 of segment 0 and running past every row, so
       most blocks lie wholly inside it (the time column is then not even decoded), plus
       a condition on a column with NULLs, which must still be evaluated; the memtable
       rows go through the filter as before */
    fx_row(0, 5000, &t);
    int64_t lo = t.i[C_TIME], want = 0, want2 = 0;
    FOR_ROWS(t) {
        want += t.i[C_TIME] >= lo && t.i[C_TIME] <= INT64_MAX - 1;
        want2 += t.i[C_TIME] >= lo && t.has[C_TOK] && t.i[C_TOK] > 100;
    }
    sdb_pexpr *w = op2(SDB_PX_AND, op2(SDB_PX_GE, col(C_TIME), sdb_pexpr_i64(&qm, lo, &err)),
                       op2(SDB_PX_LT, col(C_TIME), sdb_pexpr_i64(&qm, INT64_MAX, &err)));
    cr_assert_eq(count_where(w, &st), want);
    cr_assert_gt(st.blocks, 4);
    cr_assert_leq(st.blocks_decoded, 1, "blocks decoded: %llu",
                  (unsigned long long)st.blocks_decoded);
    sdb_pexpr *w2 = op2(SDB_PX_AND, op2(SDB_PX_GE, col(C_TIME), sdb_pexpr_i64(&qm, lo, &err)),
                        op2(SDB_PX_GT, col(C_TOK), sdb_pexpr_i64(&qm, 100, &err)));
    cr_assert_eq(count_where(w2, &st), want2);
    /* BETWEEN and IS NOT NULL over a column without NULLs */
    sdb_pexpr *b = opn(SDB_PX_BETWEEN, (sdb_pexpr *[]){col(C_TIME), sdb_pexpr_i64(&qm, lo, &err),
                                                       sdb_pexpr_i64(&qm, INT64_MAX, &err)}, 3);
    sdb_pexpr *nn = sdb_pexpr_make(&qm, SDB_PX_IS_NOT_NULL, (sdb_pexpr *[]){col(C_TIME)}, 1, &err);
    cr_assert_not_null(nn, "%s", err.msg);
    cr_assert_eq(count_where(op2(SDB_PX_AND, b, nn), &st), want);
    cr_assert_leq(st.blocks_decoded, 1);
    /* IS [NOT] NULL from validity alone, on rows another conjunct selected */
    int64_t want3 = 0, want4 = 0;
    FOR_ROWS(t) {
        want3 += t.has[C_TOK] && t.i[C_TOK] > 100 && !t.has[C_COST];
        want4 += t.has[C_TOK] && t.i[C_TOK] > 100 && t.has[C_COST];
    }
    sdb_pexpr *cn = sdb_pexpr_make(&qm, SDB_PX_IS_NULL, (sdb_pexpr *[]){col(C_COST)}, 1, &err);
    sdb_pexpr *cnn = sdb_pexpr_make(&qm, SDB_PX_IS_NOT_NULL, (sdb_pexpr *[]){col(C_COST)}, 1,
                                    &err);
    cr_assert_eq(count_where(op2(SDB_PX_AND, op2(SDB_PX_GT, col(C_TOK),
                                                 sdb_pexpr_i64(&qm, 100, &err)), cn), &st), want3);
    cr_assert_eq(count_where(op2(SDB_PX_AND, op2(SDB_PX_GT, col(C_TOK),
                                                 sdb_pexpr_i64(&qm, 100, &err)), cnn), &st), want4);
    cr_assert_gt(want3, 0);
    cr_assert_gt(want4, 0);
}

Test(exec_agg, trace_id_lookup_reads_one_block)
{
    sdb_exec_stats st;
    trow t;
    char id[64];
    fx_row(1, 17777, &t);
    memcpy(id, t.s[C_TRACE], t.slen[C_TRACE]);
    id[t.slen[C_TRACE]] = '\0';
    cr_assert_eq(count_where(op2(SDB_PX_EQ, col(C_TRACE), sdb_pexpr_str(&qm, id, &err)), &st), 1);
    cr_assert_eq(st.blocks, 1, "blocks scanned: %llu", (unsigned long long)st.blocks);
    cr_assert_leq(st.blocks_decoded, 1);
}

Test(exec_agg, count_and_min_max_come_from_metadata)
{
    sdb_aggspec a[6] = {{.kind = SDB_AGG_COUNT_STAR},
                        {.kind = SDB_AGG_MIN, .arg = col(C_TIME)},
                        {.kind = SDB_AGG_MAX, .arg = col(C_TIME)},
                        {.kind = SDB_AGG_MIN, .arg = col(C_DUR)},
                        {.kind = SDB_AGG_MAX, .arg = col(C_TOK)},
                        {.kind = SDB_AGG_COUNT, .arg = col(C_EXTRA)}};
    sdb_exec_stats st;
    sdb_query_spec sp = {.naggs = 6, .aggs = a};
    sdb_result *r = run_spec(&sp, &st);
    trow t;
    int64_t n = 0, tmin = INT64_MAX, tmax = INT64_MIN, kmax = INT64_MIN, nx = 0;
    double dmin = INFINITY;
    FOR_ROWS(t)
    {
        n++;
        tmin = t.i[C_TIME] < tmin ? t.i[C_TIME] : tmin;
        tmax = t.i[C_TIME] > tmax ? t.i[C_TIME] : tmax;
        if (t.has[C_DUR] && t.f[C_DUR] < dmin)
            dmin = t.f[C_DUR];
        if (t.has[C_TOK] && t.i[C_TOK] > kmax)
            kmax = t.i[C_TOK];
        nx += t.has[C_EXTRA];
    }
    cr_assert(st.from_metadata);
    cr_assert_eq(st.blocks_decoded, 0);
    const sdb_value *v = sdb_result_at(r, 0, 0);
    cr_assert_eq(v[0].u.i, n);
    cr_assert_eq(v[1].u.i, tmin);
    cr_assert_eq(v[2].u.i, tmax);
    cr_assert_eq(v[3].u.f, dmin);
    cr_assert_eq(v[4].u.i, kmax);
    cr_assert_eq(v[5].u.i, nx);
    sdb_result_destroy(r);
}

/* ---- quantiles and distinct ---- */

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(exec_agg, quantile_exact_interpolates_and_sketch_is_within_one_percent)
{
    double qs[] = {0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1};
    static double vals[60000];
    size_t n = 0;
    trow t;
    FOR_ROWS(t) if (seq(&t, C_MODEL, "gpt-4o") && t.has[C_DUR]) vals[n++] = t.f[C_DUR];
    qsort(vals, n, sizeof *vals, cmpd);
    for (unsigned k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        sdb_pexpr *w = op2(SDB_PX_EQ, col(C_MODEL), sdb_pexpr_str(&qm, "gpt-4o", &err));
        sdb_aggspec a[2] = {{.kind = SDB_AGG_QUANTILE_EXACT, .arg = col(C_DUR), .q = qs[k]},
                            {.kind = SDB_AGG_QUANTILE, .arg = col(C_DUR), .q = qs[k]}};
        sdb_query_spec sp = {.where = w, .naggs = 2, .aggs = a, .threads = 2};
        sdb_result *r = run_spec(&sp, NULL);
        double h = qs[k] * (double)(n - 1), lo = floor(h);
        size_t i = (size_t)lo, j = i + 1 < n ? i + 1 : i;
        double want = vals[i] + (h - lo) * (vals[j] - vals[i]);
        cr_assert_float_eq(sdb_result_at(r, 0, 0)->u.f, want, 1e-9 * want, "q=%g", qs[k]);
        double est = sdb_result_at(r, 0, 1)->u.f;
        cr_assert_leq(fabs(est - vals[i]), 0.01 * fabs(vals[i]) * (1 + 1e-9), "q=%g est %g exact %g",
                      qs[k], est, vals[i]);
        sdb_result_destroy(r);
    }
}

static void sketch_check(const double *v, size_t n)
{
    sdb_sketch s, a, b;
    sdb_alloc al = {&qm, NULL};
    double *sorted = malloc(n * sizeof *sorted);
    double qs[] = {0, 0.001, 0.1, 0.5, 0.75, 0.9, 0.99, 0.999, 1};
    sdb_sketch_init(&s);
    sdb_sketch_init(&a);
    sdb_sketch_init(&b);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(sdb_sketch_add(&s, &al, v[i], &err), SDB_OK);
        cr_assert_eq(sdb_sketch_add(i % 3 ? &a : &b, &al, v[i], &err), SDB_OK);
    }
    cr_assert_eq(sdb_sketch_merge(&a, &al, &b, &err), SDB_OK);
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmpd);
    /* serialized and read back */
    sdb_buf buf = {0};
    sdb_sketch d;
    cr_assert_eq(sdb_sketch_serialize(&a, &buf, &err), SDB_OK);
    cr_assert_eq(sdb_sketch_deserialize(&d, &al, buf.data, buf.len, &err), SDB_OK, "%s", err.msg);
    sdb_buf_free(&buf);
    for (unsigned k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double x = sorted[(size_t)floor(qs[k] * (double)(n - 1))], e1, e2, e3;
        cr_assert(sdb_sketch_quantile(&s, qs[k], &e1));
        cr_assert(sdb_sketch_quantile(&a, qs[k], &e2));
        cr_assert(sdb_sketch_quantile(&d, qs[k], &e3));
        cr_assert_leq(fabs(e1 - x), 0.01 * fabs(x) * (1 + 1e-9), "q=%g est %.17g exact %.17g",
                      qs[k], e1, x);
        cr_assert_eq(e1, e2, "merge changes the answer");
        cr_assert_eq(e1, e3, "serialization changes the answer");
    }
    free(sorted);
}

Test(exec_agg, sketch_is_within_one_percent_on_adversarial_inputs)
{
    static double v[100000];
    uint64_t st = 42;
    size_t n;
    /* lognormal */
    for (n = 0; n < 100000; n++) {
        double u1 = ((double)(segcheck_rand(&st) >> 11) + 1) / 9007199254740993.0;
        double u2 = (double)(segcheck_rand(&st) >> 11) / 9007199254740992.0;
        v[n] = exp(3 + 1.5 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
    }
    sketch_check(v, n);
    for (n = 0; n < 1000; n++)
        v[n] = 42.4242;
    sketch_check(v, n);
    for (n = 0; n < 10000; n++)
        v[n] = n % 2 ? 1e-3 * (1 + (double)(n % 7)) : 5e6 * (1 + (double)(n % 5));
    sketch_check(v, n);
    for (n = 0; n < 50000; n++)
        v[n] = pow(10, -6 + 15 * (double)(segcheck_rand(&st) % 1000000) / 1e6);
    sketch_check(v, n);
    for (n = 0; n < 20000; n++)
        v[n] = (n % 3 == 0 ? -1 : 1) * (double)(segcheck_rand(&st) % 100000) / 7.0;
    sketch_check(v, n);
    for (n = 0; n < 5000; n++)
        v[n] = n % 4 ? 0 : 1.5;
    sketch_check(v, n);
    v[0] = 7;
    sketch_check(v, 1);
}

Test(exec_agg, count_distinct_is_exact_and_approx_is_close)
{
    sdb_aggspec a[4] = {{.kind = SDB_AGG_COUNT_DISTINCT, .arg = col(C_TRACE)},
                        {.kind = SDB_AGG_APPROX_DISTINCT, .arg = col(C_TRACE)},
                        {.kind = SDB_AGG_COUNT_DISTINCT, .arg = col(C_TOK)},
                        {.kind = SDB_AGG_COUNT_DISTINCT, .arg = col(C_MODEL)}};
    sdb_query_spec sp = {.naggs = 4, .aggs = a, .threads = 2};
    sdb_result *r = run_spec(&sp, NULL);
    static bool seen[5101];
    trow t;
    int64_t ntok = 0, ntotal = 0;
    FOR_ROWS(t)
    {
        ntotal++;
        if (t.has[C_TOK] && !seen[t.i[C_TOK] + 100]) {
            seen[t.i[C_TOK] + 100] = true;
            ntok++;
        }
    }
    /* trace ids are unique by construction (64-bit random) */
    cr_assert_eq(sdb_result_at(r, 0, 0)->u.i, ntotal);
    double approx = (double)sdb_result_at(r, 0, 1)->u.i;
    cr_assert_leq(fabs(approx - (double)ntotal), 0.05 * (double)ntotal, "approx %g", approx);
    cr_assert_eq(sdb_result_at(r, 0, 2)->u.i, ntok);
    cr_assert_eq(sdb_result_at(r, 0, 3)->u.i, 7); /* gpt-4o claude o3 llama mistral gemini new */
    sdb_result_destroy(r);
}

/* ---- post-aggregation, sort, limit ---- */

Test(exec_agg, having_and_output_expressions_over_aggregates)
{
    /* select model, count_if(status='error') * 1.0 / count(*) as rate from spans group by model
       having count(*) > 3000 order by rate desc */
    sdb_pexpr *k = col(C_MODEL);
    sdb_aggspec a[2] = {{.kind = SDB_AGG_COUNT_IF,
                         .arg = op2(SDB_PX_EQ, col(C_STATUS), sdb_pexpr_str(&qm, "error", &err))},
                        {.kind = SDB_AGG_COUNT_STAR}};
    sdb_pexpr *o0 = sdb_pexpr_col(&qm, 0, SDB_TYPE_STRING, &err);
    sdb_pexpr *o1 = op2(SDB_PX_DIV, sdb_pexpr_cast(&qm, sdb_pexpr_col(&qm, 1, SDB_TYPE_INT64, &err),
                                                     SDB_TYPE_FLOAT64, &err),
                        sdb_pexpr_col(&qm, 2, SDB_TYPE_INT64, &err));
    sdb_pexpr *outs[2] = {o0, o1};
    sdb_pexpr *hav = op2(SDB_PX_GT, sdb_pexpr_col(&qm, 2, SDB_TYPE_INT64, &err),
                         sdb_pexpr_i64(&qm, 3000, &err));
    sdb_order ord = {.col = 1, .desc = true};
    const char *names[2] = {"model", "rate"};
    sdb_query_spec sp = {.ngroup = 1, .group = (const sdb_pexpr *const *)&k, .naggs = 2,
                         .aggs = a, .nout = 2, .out = (const sdb_pexpr *const *)outs,
                         .names = names, .having = hav, .norder = 1, .order = &ord};
    sdb_result *r = run_spec(&sp, NULL);
    trow t;
    nrefs = 0;
    FOR_ROWS(t) ref_add(ref_get(t.s[C_MODEL], t.slen[C_MODEL], !t.has[C_MODEL]), &t);
    int want = 0;
    for (int g = 0; g < nrefs; g++)
        want += refs[g].n > 3000;
    cr_assert_eq(r->nrows, (uint64_t)want);
    cr_assert_str_eq(r->names[1], "rate");
    for (uint64_t i = 0; i < r->nrows; i++) {
        const sdb_value *v = sdb_result_at(r, i, 0);
        ref *g = ref_get(v[0].u.s.p, v[0].u.s.len, v[0].null);
        cr_assert_float_eq(v[1].u.f, (double)g->nerr / (double)g->n, 1e-12);
        if (i > 0)
            cr_assert_geq(sdb_result_at(r, i - 1, 1)->u.f, v[1].u.f);
    }
    sdb_result_destroy(r);
}

typedef struct prow {
    int64_t tok;
    bool has;
    char id[40];
    uint64_t seq;
} prow;

static int cmp_prow(const void *x, const void *y)
{
    const prow *a = x, *b = y;
    /* tokens desc (NULLs last, DuckDB's default), then trace_id asc */
    if (a->has != b->has)
        return a->has ? -1 : 1;
    if (a->has && a->tok != b->tok)
        return a->tok > b->tok ? -1 : 1;
    return strcmp(a->id, b->id);
}

Test(exec_agg, order_by_limit_offset_matches_full_sort)
{
    static prow rows[60000];
    size_t n = 0;
    trow t;
    FOR_ROWS(t)
    {
        rows[n].has = t.has[C_TOK];
        rows[n].tok = t.i[C_TOK];
        memcpy(rows[n].id, t.s[C_TRACE], t.slen[C_TRACE]);
        rows[n].id[t.slen[C_TRACE]] = '\0';
        n++;
    }
    qsort(rows, n, sizeof *rows, cmp_prow);
    sdb_pexpr *outs[2] = {col(C_TRACE), col(C_TOK)};
    sdb_order ord[2] = {{.col = 1, .desc = true}, {.col = 0, .desc = false}};
    for (int heap = 0; heap < 2; heap++) {
        sdb_query_spec sp = {.nout = 2, .out = (const sdb_pexpr *const *)outs, .norder = 2,
                             .order = ord, .has_limit = heap == 1, .limit = 25, .offset = 10,
                             .threads = 2};
        sdb_result *r = run_spec(&sp, NULL);
        cr_assert_eq(r->nrows, heap ? 25 : n - 10);
        for (uint64_t i = 0; i < (heap ? 25 : 200); i++) {
            const sdb_value *v = sdb_result_at(r, i, 0);
            cr_assert(vstr(&v[0], rows[10 + i].id, (uint32_t)strlen(rows[10 + i].id)),
                      "row %llu", (unsigned long long)i);
            cr_assert_eq(v[1].null, !rows[10 + i].has);
        }
        sdb_result_destroy(r);
    }
}

Test(exec_agg, empty_input_gives_one_row_without_groups_and_none_with)
{
    sdb_pexpr *w = op2(SDB_PX_LT, col(C_TOK), sdb_pexpr_i64(&qm, -1000, &err));
    sdb_aggspec a[3] = {{.kind = SDB_AGG_COUNT_STAR}, {.kind = SDB_AGG_SUM, .arg = col(C_TOK)},
                        {.kind = SDB_AGG_QUANTILE, .arg = col(C_DUR), .q = 0.5}};
    sdb_query_spec sp = {.where = w, .naggs = 3, .aggs = a};
    sdb_result *r = run_spec(&sp, NULL);
    cr_assert_eq(r->nrows, 1);
    cr_assert_eq(sdb_result_at(r, 0, 0)->u.i, 0);
    cr_assert(sdb_result_at(r, 0, 1)->null);
    cr_assert(sdb_result_at(r, 0, 2)->null);
    sdb_result_destroy(r);
    sdb_pexpr *k = col(C_MODEL);
    sdb_query_spec sp2 = {.where = w, .ngroup = 1, .group = (const sdb_pexpr *const *)&k,
                          .naggs = 3, .aggs = a};
    r = run_spec(&sp2, NULL);
    cr_assert_eq(r->nrows, 0);
    sdb_result_destroy(r);
}
