/* The vectorized execution core against naive row-by-row reference computations over the
 * same data: filters of every type, NULL semantics, group-by paths (dense symbol keys across
 * segments with different dictionaries plus a memtable, hashed ints, strings, time buckets,
 * multi-key), aggregates, pruning counters, thread-count independence, limits and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"
#include "storage/common/timefmt.h"
#include "tests/query/exec_fixture.h"

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

TestSuite(exec, .init = setup, .fini = teardown, .timeout = 120);

/* ---- builders ---- */

static sdb_pexpr *col(int c)
{
    sdb_pexpr *e = sdb_pexpr_col(&qm, (uint32_t)c, fx_types[c], &err);
    cr_assert_not_null(e, "%s", err.msg);
    return e;
}

static sdb_pexpr *i64(int64_t v)
{
    return sdb_pexpr_i64(&qm, v, &err);
}

static sdb_pexpr *f64(double v)
{
    return sdb_pexpr_f64(&qm, v, &err);
}

static sdb_pexpr *str(const char *s)
{
    return sdb_pexpr_str(&qm, s, &err);
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

/* select count(*) from spans where w, threads t */
static int64_t count_where(sdb_pexpr *w, unsigned threads, sdb_exec_stats *st)
{
    sdb_aggspec a = {.kind = SDB_AGG_COUNT_STAR};
    sdb_query_spec sp = {.where = w, .naggs = 1, .aggs = &a, .threads = threads};
    sdb_result *r = run_spec(&sp, st);
    int64_t n;
    cr_assert_eq(r->nrows, 1);
    n = sdb_result_at(r, 0, 0)->u.i;
    sdb_result_destroy(r);
    return n;
}

static bool seq(const trow *t, int c, const char *s)
{
    return t->has[c] && t->slen[c] == strlen(s) && memcmp(t->s[c], s, t->slen[c]) == 0;
}

#define FOR_ROWS(t)                                                                        \
    for (int u_ = 0; u_ < NUNITS; u_++)                                                    \
        for (uint64_t r_ = 0; r_ < fx_rows[u_] && (fx_row(u_, r_, &(t)), 1); r_++)

/* ---- filters ---- */

Test(exec, int_comparisons_with_constant_match_reference)
{
    sdb_pexpr_kind ops[] = {SDB_PX_EQ, SDB_PX_NE, SDB_PX_LT, SDB_PX_LE, SDB_PX_GT, SDB_PX_GE};
    for (unsigned k = 0; k < 6; k++) {
        int64_t c = 1234, want = 0;
        trow t;
        FOR_ROWS(t)
        {
            int64_t v = t.i[C_TOK];
            bool m;
            if (!t.has[C_TOK])
                continue;
            switch (ops[k]) {
            case SDB_PX_EQ: m = v == c; break;
            case SDB_PX_NE: m = v != c; break;
            case SDB_PX_LT: m = v < c; break;
            case SDB_PX_LE: m = v <= c; break;
            case SDB_PX_GT: m = v > c; break;
            default: m = v >= c; break;
            }
            want += m;
        }
        cr_assert_eq(count_where(op2(ops[k], col(C_TOK), i64(c)), 1, NULL), want, "op %u", k);
        /* constant on the left: c < tok is tok > c */
        sdb_pexpr_kind flipped[] = {SDB_PX_EQ, SDB_PX_NE, SDB_PX_GT, SDB_PX_GE, SDB_PX_LT,
                                    SDB_PX_LE};
        cr_assert_eq(count_where(op2(flipped[k], i64(c), col(C_TOK)), 2, NULL), want, "op %u", k);
    }
}

Test(exec, float_and_string_and_symbol_filters_match_reference)
{
    int64_t w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0;
    trow t;
    FOR_ROWS(t)
    {
        w1 += t.has[C_DUR] && t.f[C_DUR] > 1000.0;
        w2 += seq(&t, C_MODEL, "gpt-4o");
        w3 += t.has[C_MODEL] && !seq(&t, C_MODEL, "gpt-4o");
        w4 += t.has[C_TRACE] && t.slen[C_TRACE] > 0 && t.s[C_TRACE][0] == '1';
        w5 += seq(&t, C_STATUS, "error") && seq(&t, C_EP, "/rag");
    }
    cr_assert_eq(count_where(op2(SDB_PX_GT, col(C_DUR), f64(1000.0)), 0, NULL), w1);
    cr_assert_eq(count_where(op2(SDB_PX_EQ, col(C_MODEL), str("gpt-4o")), 0, NULL), w2);
    cr_assert_eq(count_where(op2(SDB_PX_NE, col(C_MODEL), str("gpt-4o")), 0, NULL), w3);
    cr_assert_eq(count_where(op2(SDB_PX_GE, col(C_TRACE), str("1")), 0, NULL) -
                     count_where(op2(SDB_PX_GE, col(C_TRACE), str("2")), 0, NULL),
                 w4);
    cr_assert_eq(count_where(op2(SDB_PX_AND, op2(SDB_PX_EQ, col(C_STATUS), str("error")),
                                 op2(SDB_PX_EQ, str("/rag"), col(C_EP))), 0, NULL),
                 w5);
}

Test(exec, three_valued_logic_and_null_tests_match_reference)
{
    /* (tokens > 2000 OR cost > 0.2) AND NOT (ok) ; extra IS NULL ; cost IS NOT NULL */
    int64_t w1 = 0, w2 = 0, w3 = 0, w4 = 0;
    trow t;
    FOR_ROWS(t)
    {
        int a = t.has[C_TOK] ? t.i[C_TOK] > 2000 : -1, b = t.has[C_COST] ? t.f[C_COST] > 0.2 : -1;
        int o = (a == 1 || b == 1) ? 1 : (a == 0 && b == 0) ? 0 : -1;
        int n = t.has[C_OK] ? !t.i[C_OK] : -1;
        int r = (o == 0 || n == 0) ? 0 : (o == 1 && n == 1) ? 1 : -1;
        w1 += r == 1;
        w2 += !t.has[C_EXTRA];
        w3 += t.has[C_COST];
        /* NOT (tokens > 2000 OR cost > 0.2): true only when both are known false */
        w4 += o == 0;
    }
    sdb_pexpr *orx = op2(SDB_PX_OR, op2(SDB_PX_GT, col(C_TOK), i64(2000)),
                         op2(SDB_PX_GT, col(C_COST), f64(0.2)));
    sdb_pexpr *notok = opn(SDB_PX_NOT, (sdb_pexpr *[]){col(C_OK)}, 1);
    cr_assert_eq(count_where(op2(SDB_PX_AND, orx, notok), 0, NULL), w1);
    cr_assert_eq(count_where(opn(SDB_PX_IS_NULL, (sdb_pexpr *[]){col(C_EXTRA)}, 1), 0, NULL), w2);
    cr_assert_eq(count_where(opn(SDB_PX_IS_NOT_NULL, (sdb_pexpr *[]){col(C_COST)}, 1), 0, NULL),
                 w3);
    cr_assert_eq(count_where(opn(SDB_PX_NOT, (sdb_pexpr *[]){orx}, 1), 0, NULL), w4);
}

Test(exec, in_between_like_match_reference)
{
    int64_t w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0;
    trow t;
    FOR_ROWS(t)
    {
        w1 += seq(&t, C_MODEL, "mistral") || seq(&t, C_MODEL, "o3-mini") ||
              seq(&t, C_MODEL, "nope");
        w2 += t.has[C_TOK] && (t.i[C_TOK] == 5 || t.i[C_TOK] == 77 || t.i[C_TOK] == -3);
        w3 += t.has[C_TOK] && t.i[C_TOK] >= 100 && t.i[C_TOK] <= 200;
        w4 += t.has[C_EP] && t.slen[C_EP] >= 2 && t.s[C_EP][1] == 'a'; /* '/a%' */
        w5 += t.has[C_MODEL] && t.slen[C_MODEL] >= 2 && t.s[C_MODEL][t.slen[C_MODEL] - 2] == '4' &&
              t.s[C_MODEL][t.slen[C_MODEL] - 1] == 'o'; /* '%4_' */
        /* NOT IN with a NULL in the list is never true */
        w6 += 0;
    }
    sdb_pexpr *l1[] = {col(C_MODEL), str("mistral"), str("o3-mini"), str("nope")};
    cr_assert_eq(count_where(opn(SDB_PX_IN, l1, 4), 0, NULL), w1);
    sdb_pexpr *l2[] = {col(C_TOK), i64(5), i64(77), i64(-3)};
    cr_assert_eq(count_where(opn(SDB_PX_IN, l2, 4), 0, NULL), w2);
    sdb_pexpr *l3[] = {col(C_TOK), i64(100), i64(200)};
    cr_assert_eq(count_where(opn(SDB_PX_BETWEEN, l3, 3), 0, NULL), w3);
    sdb_pexpr *l4[] = {col(C_EP), str("/a%")};
    cr_assert_eq(count_where(opn(SDB_PX_LIKE, l4, 2), 0, NULL), w4);
    sdb_pexpr *l5[] = {col(C_MODEL), str("%4_")};
    cr_assert_eq(count_where(opn(SDB_PX_LIKE, l5, 2), 0, NULL), w5);
    sdb_pexpr *l6[] = {col(C_TOK), i64(5), sdb_pexpr_null(&qm, SDB_TYPE_INT64, &err)};
    sdb_pexpr *nin = opn(SDB_PX_IN, l6, 3);
    nin->negate = true;
    cr_assert_eq(count_where(nin, 0, NULL), w6);
    sdb_pexpr *l7[] = {col(C_EP), str("/AG%")};
    sdb_pexpr *il = opn(SDB_PX_LIKE, l7, 2);
    il->ci = true;
    int64_t w7 = 0;
    FOR_ROWS(t) w7 += seq(&t, C_EP, "/agent");
    cr_assert_eq(count_where(il, 0, NULL), w7);
}

Test(exec, like_matcher_handles_wildcards_and_escapes)
{
    cr_assert(sdb_like_match("abc", 3, "a%", 2, false));
    cr_assert(sdb_like_match("abc", 3, "%c", 2, false));
    cr_assert(sdb_like_match("abc", 3, "_b_", 3, false));
    cr_assert(!sdb_like_match("abc", 3, "_b", 2, false));
    cr_assert(sdb_like_match("a%c", 3, "a\\%c", 4, false));
    cr_assert(!sdb_like_match("abc", 3, "a\\%c", 4, false));
    cr_assert(sdb_like_match("", 0, "%", 1, false));
    cr_assert(!sdb_like_match("ABC", 3, "abc", 3, false));
    cr_assert(sdb_like_match("ABC", 3, "a%C", 3, true));
    cr_assert(sdb_like_match("aaaaaaaaab", 10, "%a%a%b", 6, false));
}

/* ---- projections and scalar functions ---- */

Test(exec, projection_of_scalar_functions_matches_reference)
{
    /* select tokens / 7, tokens % 0, -tokens, abs(tokens - 2000), round(duration, 1),
       coalesce(extra, tokens), case when tokens > 2500 then 'big' else model end,
       cast(tokens as float64) * 0.5, date_trunc('hour', time), time_bucket(300s, time)
       from spans where trace_id like '1-%' limit 500 */
    sdb_pexpr *outs[10];
    outs[0] = op2(SDB_PX_DIV, col(C_TOK), i64(7));
    outs[1] = op2(SDB_PX_MOD, col(C_TOK), i64(0));
    outs[2] = opn(SDB_PX_NEG, (sdb_pexpr *[]){col(C_TOK)}, 1);
    outs[3] = opn(SDB_PX_ABS, (sdb_pexpr *[]){op2(SDB_PX_SUB, col(C_TOK), i64(2000))}, 1);
    outs[4] = opn(SDB_PX_ROUND, (sdb_pexpr *[]){col(C_DUR), i64(1)}, 2);
    outs[5] = opn(SDB_PX_COALESCE, (sdb_pexpr *[]){col(C_EXTRA), col(C_TOK)}, 2);
    outs[6] = opn(SDB_PX_CASE, (sdb_pexpr *[]){op2(SDB_PX_GT, col(C_TOK), i64(2500)), str("big"),
                                               col(C_MODEL)}, 3);
    outs[7] = op2(SDB_PX_MUL, sdb_pexpr_cast(&qm, col(C_TOK), SDB_TYPE_FLOAT64, &err), f64(0.5));
    outs[8] = opn(SDB_PX_DATE_TRUNC, (sdb_pexpr *[]){str("hour"), col(C_TIME)}, 2);
    outs[9] = opn(SDB_PX_TIME_BUCKET, (sdb_pexpr *[]){i64(300000000000LL), col(C_TIME)}, 2);
    sdb_pexpr *w = opn(SDB_PX_LIKE, (sdb_pexpr *[]){col(C_TRACE), str("1-%")}, 2);
    sdb_query_spec sp = {.where = w, .nout = 10, .out = (const sdb_pexpr *const *)outs,
                         .has_limit = true, .limit = 500, .threads = 2};
    sdb_result *r = run_spec(&sp, NULL);
    cr_assert_eq(r->nrows, 500);
    cr_assert_eq(r->types[6], SDB_TYPE_STRING);
    /* unit 1 rows in order (segment 1 is the only one with '1-' ids) */
    trow t;
    uint64_t k = 0;
    for (uint64_t row = 0; row < fx_rows[1] && k < 500; row++, k++) {
        fx_row(1, row, &t);
        const sdb_value *v = sdb_result_at(r, k, 0);
        cr_assert_eq(v[0].null, !t.has[C_TOK]);
        if (t.has[C_TOK]) {
            cr_assert_eq(v[0].u.i, t.i[C_TOK] / 7);
            cr_assert_eq(v[2].u.i, -t.i[C_TOK]);
            cr_assert_eq(v[3].u.i, llabs(t.i[C_TOK] - 2000));
            cr_assert_eq(v[7].u.f, (double)t.i[C_TOK] * 0.5);
        }
        cr_assert(v[1].null, "x %% 0 is NULL");
        cr_assert_eq(v[4].null, !t.has[C_DUR]);
        if (t.has[C_DUR])
            cr_assert_float_eq(v[4].u.f, round(t.f[C_DUR] * 10) / 10, 1e-9);
        cr_assert_eq(v[5].null, !t.has[C_EXTRA] && !t.has[C_TOK]);
        if (!v[5].null)
            cr_assert_eq(v[5].u.i, t.has[C_EXTRA] ? t.i[C_EXTRA] : t.i[C_TOK]);
        if (t.has[C_TOK] && t.i[C_TOK] > 2500)
            cr_assert(v[6].u.s.len == 3 && memcmp(v[6].u.s.p, "big", 3) == 0);
        else if (t.has[C_MODEL])
            cr_assert(v[6].u.s.len == t.slen[C_MODEL] &&
                      memcmp(v[6].u.s.p, t.s[C_MODEL], t.slen[C_MODEL]) == 0);
        else
            cr_assert(v[6].null);
        int64_t h = 3600000000000LL, b = 300000000000LL;
        cr_assert_eq(v[8].u.i, t.i[C_TIME] / h * h);
        cr_assert_eq(v[9].u.i, t.i[C_TIME] / b * b);
    }
    sdb_result_destroy(r);
}

Test(exec, time_functions_handle_calendar_units)
{
    /* 2026-03-15T13:45:30.5Z (a Sunday) */
    int64_t ts = 1773582330500000000LL;
    char buf[64];
    sdb_time_format(ts, buf);
    cr_assert_str_eq(buf, "2026-03-15T13:45:30.5Z");
    sdb_time_format(sdb_time_trunc(SDB_TU_MONTH, ts), buf);
    cr_assert_str_eq(buf, "2026-03-01T00:00:00Z");
    sdb_time_format(sdb_time_trunc(SDB_TU_YEAR, ts), buf);
    cr_assert_str_eq(buf, "2026-01-01T00:00:00Z");
    sdb_time_format(sdb_time_trunc(SDB_TU_WEEK, ts), buf);
    cr_assert_str_eq(buf, "2026-03-09T00:00:00Z");
    sdb_time_format(sdb_time_trunc(SDB_TU_MINUTE, ts), buf);
    cr_assert_str_eq(buf, "2026-03-15T13:45:00Z");
    sdb_time_format(sdb_time_trunc(SDB_TU_DAY, -1), buf);
    cr_assert_str_eq(buf, "1969-12-31T00:00:00Z");
    int64_t out;
    cr_assert(sdb_time_bucket(10, -15, &out));
    cr_assert_eq(out, -20);
}

Test(exec, casts_convert_and_report_bad_input)
{
    sdb_pexpr *outs[3];
    outs[0] = sdb_pexpr_cast(&qm, col(C_TIME), SDB_TYPE_STRING, &err);
    outs[1] = sdb_pexpr_cast(&qm, str("2026-01-01T00:00:01Z"), SDB_TYPE_TIMESTAMP, &err);
    outs[2] = sdb_pexpr_cast(&qm, col(C_DUR), SDB_TYPE_INT64, &err);
    sdb_query_spec sp = {.nout = 3, .out = (const sdb_pexpr *const *)outs, .has_limit = true,
                         .limit = 1};
    sdb_result *r = run_spec(&sp, NULL);
    trow t;
    char buf[64];
    fx_row(0, 0, &t);
    sdb_time_format(t.i[C_TIME], buf);
    cr_assert_eq(sdb_result_at(r, 0, 0)->u.s.len, strlen(buf));
    cr_assert(memcmp(sdb_result_at(r, 0, 0)->u.s.p, buf, strlen(buf)) == 0);
    cr_assert_eq(sdb_result_at(r, 0, 1)->u.i, T0 + 1000000000LL);
    if (t.has[C_DUR])
        cr_assert_eq(sdb_result_at(r, 0, 2)->u.i, (int64_t)t.f[C_DUR]);
    sdb_result_destroy(r);

    sdb_pexpr *bad = sdb_pexpr_cast(&qm, col(C_MODEL), SDB_TYPE_INT64, &err);
    sdb_query_spec sp2 = {.nout = 1, .out = (const sdb_pexpr *const *)&bad};
    sp2.snap = &fx_snap;
    cr_assert_eq(sdb_exec_run(&qm, &sp2, &r, NULL, &err), SDB_ERR_PARSE);
    cr_assert(strstr(err.msg, "cannot cast '") != NULL, "%s", err.msg);
}

Test(exec, type_errors_name_operator_and_types)
{
    cr_assert_null(sdb_pexpr_op2(&qm, SDB_PX_ADD, col(C_TRACE), i64(1), &err));
    cr_assert_eq(err.code, SDB_ERR_SCHEMA);
    cr_assert(strstr(err.msg, "operator + cannot take string and int64") != NULL, "%s", err.msg);
    cr_assert_null(sdb_pexpr_make(&qm, SDB_PX_DATE_TRUNC, (sdb_pexpr *[]){str("fortnight"),
                                  col(C_TIME)}, 2, &err));
    cr_assert(strstr(err.msg, "unknown unit 'fortnight'") != NULL, "%s", err.msg);
}

/* ---- errors ---- */

Test(exec, int64_overflow_is_an_error)
{
    sdb_pexpr *e = op2(SDB_PX_MUL, col(C_TOK), i64(INT64_MAX / 2));
    sdb_query_spec sp = {.nout = 1, .out = (const sdb_pexpr *const *)&e, .snap = &fx_snap};
    sdb_result *r;
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "int64 overflow in *") != NULL, "%s", err.msg);

    sdb_aggspec a = {.kind = SDB_AGG_SUM, .arg = op2(SDB_PX_ADD, col(C_TOK), i64(INT64_MAX / 4))};
    sdb_query_spec sp2 = {.naggs = 1, .aggs = &a, .snap = &fx_snap, .threads = 2};
    cr_assert_eq(sdb_exec_run(&qm, &sp2, &r, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "sum overflows int64") != NULL, "%s", err.msg);
}

Test(exec, memory_budget_exceeded_fails_with_limit)
{
    sdb_qmem small;
    sdb_result *r;
    cr_assert_eq(sdb_qmem_init(&small, (size_t)1 << 20, &err), SDB_OK);
    sdb_pexpr *k = sdb_pexpr_col(&small, C_TRACE, SDB_TYPE_STRING, &err);
    sdb_aggspec a = {.kind = SDB_AGG_COUNT_STAR};
    sdb_query_spec sp = {.ngroup = 1, .group = (const sdb_pexpr *const *)&k, .naggs = 1,
                         .aggs = &a, .snap = &fx_snap, .threads = 2};
    cr_assert_eq(sdb_exec_run(&small, &sp, &r, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "query needs more than 1 MiB of memory (--query-memory)") != NULL,
              "%s", err.msg);
    sdb_qmem_free(&small);
}

Test(exec, cancel_flag_stops_the_query)
{
    atomic_bool cancel;
    sdb_result *r;
    atomic_init(&cancel, true);
    sdb_aggspec a = {.kind = SDB_AGG_SUM, .arg = col(C_TOK)};
    sdb_query_spec sp = {.naggs = 1, .aggs = &a, .snap = &fx_snap, .cancel = &cancel};
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_ERR_CANCELLED);
    cr_assert(strstr(err.msg, "cancelled") != NULL, "%s", err.msg);
}

/* ---- more semantics ---- */

static sdb_result *project1(sdb_pexpr *e, uint64_t limit)
{
    sdb_query_spec sp = {.nout = 1, .out = (const sdb_pexpr *const *)&e, .has_limit = true,
                         .limit = limit};
    return run_spec(&sp, NULL);
}

Test(exec, division_by_zero_is_null_and_min_over_minus_one_is_an_error)
{
    sdb_result *r = project1(op2(SDB_PX_DIV, col(C_TOK), op2(SDB_PX_SUB, col(C_TOK), col(C_TOK))),
                             100);
    for (uint64_t i = 0; i < r->nrows; i++)
        cr_assert(sdb_result_at(r, i, 0)->null);
    sdb_result_destroy(r);
    r = project1(op2(SDB_PX_DIV, f64(1.0), op2(SDB_PX_SUB, col(C_DUR), col(C_DUR))), 10);
    for (uint64_t i = 0; i < r->nrows; i++)
        cr_assert(sdb_result_at(r, i, 0)->null || isinf(sdb_result_at(r, i, 0)->u.f));
    sdb_result_destroy(r);
    sdb_pexpr *e = op2(SDB_PX_DIV, op2(SDB_PX_SUB, i64(INT64_MIN + 1), i64(1)), i64(-1));
    sdb_query_spec sp = {.nout = 1, .out = (const sdb_pexpr *const *)&e, .snap = &fx_snap};
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "int64 overflow in /") != NULL, "%s", err.msg);
    e = opn(SDB_PX_ABS, (sdb_pexpr *[]){op2(SDB_PX_SUB, i64(INT64_MIN + 1), i64(1))}, 1);
    sp.out = (const sdb_pexpr *const *)&e;
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "int64 overflow in abs") != NULL, "%s", err.msg);
}

Test(exec, time_compares_with_iso_string_and_prunes)
{
    sdb_exec_stats st;
    int64_t want = 0;
    trow t;
    int64_t lo = T0 + 3600LL * 1000000000LL;
    FOR_ROWS(t) want += t.i[C_TIME] < lo;
    cr_assert_eq(count_where(op2(SDB_PX_LT, col(C_TIME), str("2026-01-01T01:00:00Z")), 2, &st),
                 want);
    cr_assert_eq(st.segments_skipped, 1);
    cr_assert_gt(st.blocks_skipped, 0);
    cr_assert_null(sdb_pexpr_op2(&qm, SDB_PX_LT, col(C_TIME), str("yesterday"), &err));
    cr_assert_eq(err.code, SDB_ERR_PARSE);
    cr_assert(strstr(err.msg, "'yesterday' is not a timestamp") != NULL, "%s", err.msg);
}

Test(exec, case_without_else_and_coalesce_of_nulls_are_null)
{
    sdb_pexpr *c = opn(SDB_PX_CASE, (sdb_pexpr *[]){op2(SDB_PX_LT, col(C_TOK), i64(-1000)),
                                                    i64(1)}, 2);
    sdb_result *r = project1(c, 50);
    for (uint64_t i = 0; i < r->nrows; i++)
        cr_assert(sdb_result_at(r, i, 0)->null);
    sdb_result_destroy(r);
    sdb_pexpr *n = sdb_pexpr_null(&qm, SDB_TYPE_INT64, &err);
    r = project1(opn(SDB_PX_COALESCE, (sdb_pexpr *[]){n, col(C_EXTRA)}, 2), 50);
    for (uint64_t i = 0; i < r->nrows; i++) /* the first rows come from segment 0: no extra */
        cr_assert(sdb_result_at(r, i, 0)->null);
    sdb_result_destroy(r);
}

Test(exec, string_symbol_and_bool_aggregates_match_reference)
{
    sdb_aggspec a[6] = {{.kind = SDB_AGG_MIN, .arg = col(C_TRACE)},
                        {.kind = SDB_AGG_MAX, .arg = col(C_MODEL)},
                        {.kind = SDB_AGG_AVG, .arg = col(C_OK)},
                        {.kind = SDB_AGG_SUM, .arg = col(C_OK)},
                        {.kind = SDB_AGG_MIN, .arg = col(C_OK)},
                        {.kind = SDB_AGG_COUNT, .arg = col(C_MODEL)}};
    sdb_query_spec sp = {.naggs = 6, .aggs = a, .threads = 2};
    sdb_result *r = run_spec(&sp, NULL);
    trow t;
    char mn[64] = "\x7f", mx[64] = "";
    int64_t nok = 0, ntrue = 0, nmodel = 0;
    FOR_ROWS(t)
    {
        char s[64];
        memcpy(s, t.s[C_TRACE], t.slen[C_TRACE]);
        s[t.slen[C_TRACE]] = '\0';
        if (strcmp(s, mn) < 0)
            strcpy(mn, s);
        if (t.has[C_MODEL]) {
            nmodel++;
            memcpy(s, t.s[C_MODEL], t.slen[C_MODEL]);
            s[t.slen[C_MODEL]] = '\0';
            if (strcmp(s, mx) > 0)
                strcpy(mx, s);
        }
        if (t.has[C_OK]) {
            nok++;
            ntrue += t.i[C_OK];
        }
    }
    const sdb_value *v = sdb_result_at(r, 0, 0);
    cr_assert(v[0].u.s.len == strlen(mn) && memcmp(v[0].u.s.p, mn, strlen(mn)) == 0);
    cr_assert(v[1].u.s.len == strlen(mx) && memcmp(v[1].u.s.p, mx, strlen(mx)) == 0);
    cr_assert_float_eq(v[2].u.f, (double)ntrue / (double)nok, 1e-12);
    cr_assert_eq(v[3].u.i, ntrue);
    cr_assert_eq(v[4].u.b, false);
    cr_assert_eq(v[5].u.i, nmodel);
    sdb_result_destroy(r);
}

Test(exec, unordered_projection_keeps_scan_order_for_any_thread_count)
{
    sdb_pexpr *outs[2] = {col(C_TRACE), col(C_DUR)};
    sdb_pexpr *w = op2(SDB_PX_GT, col(C_TOK), i64(4000));
    sdb_result *r[2];
    for (int k = 0; k < 2; k++) {
        sdb_query_spec sp = {.where = w, .nout = 2, .out = (const sdb_pexpr *const *)outs,
                             .threads = k ? 4 : 1};
        r[k] = run_spec(&sp, NULL);
    }
    trow t;
    uint64_t i = 0;
    FOR_ROWS(t)
    {
        if (!t.has[C_TOK] || t.i[C_TOK] <= 4000)
            continue;
        for (int k = 0; k < 2; k++) {
            const sdb_value *v = sdb_result_at(r[k], i, 0);
            cr_assert(v[0].u.s.len == t.slen[C_TRACE] &&
                      memcmp(v[0].u.s.p, t.s[C_TRACE], t.slen[C_TRACE]) == 0);
        }
        i++;
    }
    cr_assert_eq(r[0]->nrows, i);
    cr_assert_eq(r[1]->nrows, i);
    sdb_result_destroy(r[0]);
    sdb_result_destroy(r[1]);
}

Test(exec, aggregate_states_survive_serialization)
{
    sdb_agg_kind kinds[] = {SDB_AGG_COUNT, SDB_AGG_SUM, SDB_AGG_AVG, SDB_AGG_MIN, SDB_AGG_MAX,
                            SDB_AGG_COUNT_DISTINCT, SDB_AGG_APPROX_DISTINCT,
                            SDB_AGG_QUANTILE_EXACT, SDB_AGG_QUANTILE};
    sdb_alloc al = {&qm, NULL};
    double vals[1000];
    uint64_t valid[SDB_VEC_WORDS];
    uint32_t sel[1000], gids[1000];
    memset(valid, 0xff, sizeof valid);
    for (uint32_t i = 0; i < 1000; i++) {
        vals[i] = (double)((i * 7919) % 1000) / 3.0;
        sel[i] = i;
        gids[i] = i % 3;
        if (i % 10 == 0)
            valid[i / 64] &= ~((uint64_t)1 << (i % 64));
    }
    sdb_vec v = {.type = SDB_TYPE_FLOAT64, .v.f64 = vals, .valid = valid};
    for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        sdb_aggdef d;
        sdb_gtab a, b;
        uint32_t g;
        cr_assert_eq(sdb_agg_define(kinds[k], SDB_TYPE_FLOAT64, 0.9, &d, &err), SDB_OK);
        cr_assert_eq(sdb_gtab_init(&a, &al, d.size, 0, &err), SDB_OK);
        cr_assert_eq(sdb_gtab_init(&b, &al, d.size, 0, &err), SDB_OK);
        for (uint32_t i = 0; i < 3; i++) {
            uint64_t key = i;
            cr_assert_eq(sdb_gtab_find(&a, &key, 8, key, &g, &err), SDB_OK);
            cr_assert_eq(sdb_gtab_find(&b, &key, 8, key, &g, &err), SDB_OK);
        }
        cr_assert_eq(sdb_agg_update(&d, &a, gids, &v, sel, 1000, &err), SDB_OK);
        for (uint32_t i = 0; i < 3; i++) {
            sdb_buf buf = {0};
            sdb_value x, y;
            cr_assert_eq(sdb_agg_serialize(&d, sdb_gtab_state(&a, i), &buf, &err), SDB_OK);
            cr_assert_eq(sdb_agg_deserialize(&d, &b, sdb_gtab_state(&b, i), buf.data, buf.len,
                                             &err), SDB_OK, "%s: %s", sdb_agg_name(kinds[k]),
                         err.msg);
            sdb_buf_free(&buf);
            sdb_agg_finalize(&d, sdb_gtab_state(&a, i), &x);
            sdb_agg_finalize(&d, sdb_gtab_state(&b, i), &y);
            cr_assert_eq(x.null, y.null);
            cr_assert(memcmp(&x.u, &y.u, 8) == 0, "%s group %u", sdb_agg_name(kinds[k]), i);
        }
        /* a truncated state is corrupt, not a crash */
        sdb_buf buf = {0};
        cr_assert_eq(sdb_agg_serialize(&d, sdb_gtab_state(&a, 0), &buf, &err), SDB_OK);
        if (buf.len > 1) {
            sdb_gtab c;
            cr_assert_eq(sdb_gtab_init(&c, &al, d.size, 0, &err), SDB_OK);
            uint64_t key = 0;
            cr_assert_eq(sdb_gtab_find(&c, &key, 8, key, &g, &err), SDB_OK);
            cr_assert_eq(sdb_agg_deserialize(&d, &c, sdb_gtab_state(&c, 0), buf.data,
                                             buf.len - 1, &err), SDB_ERR_CORRUPT,
                         "%s", sdb_agg_name(kinds[k]));
        }
        sdb_buf_free(&buf);
    }
}

Test(exec, group_by_without_aggregates_lists_distinct_keys)
{
    sdb_pexpr *k[2] = {col(C_STATUS), col(C_TOK)};
    sdb_order o[2] = {{.col = 0}, {.col = 1}};
    sdb_query_spec sp = {.aggregate = true, .ngroup = 2, .group = (const sdb_pexpr *const *)k,
                         .norder = 2, .order = o, .threads = 2};
    sdb_result *r = run_spec(&sp, NULL);
    static bool seen[2][5102];
    trow t;
    uint64_t want = 0;
    FOR_ROWS(t)
    {
        int s = seq(&t, C_STATUS, "error");
        int i = t.has[C_TOK] ? (int)(t.i[C_TOK] + 100) : 5101;
        if (!seen[s][i]) {
            seen[s][i] = true;
            want++;
        }
    }
    cr_assert_eq(r->nrows, want);
    cr_assert_eq(r->ncols, 2);
    /* ordered: "error" before "ok", NULL tokens last within each */
    cr_assert(sdb_result_at(r, 0, 0)->u.s.len == 5);
    cr_assert(sdb_result_at(r, r->nrows - 1, 1)->null);
    sdb_result_destroy(r);
}

Test(exec, hidden_sort_columns_are_dropped_from_the_result)
{
    /* select trace_id from spans order by duration_ms desc nulls first limit 3 */
    sdb_pexpr *outs[2] = {col(C_TRACE), col(C_DUR)};
    sdb_order o = {.col = 1, .desc = true, .nulls_first = true};
    sdb_query_spec sp = {.nout = 2, .out = (const sdb_pexpr *const *)outs, .nvisible = 1,
                         .norder = 1, .order = &o, .has_limit = true, .limit = 3};
    sdb_result *r = run_spec(&sp, NULL);
    cr_assert_eq(r->ncols, 1);
    cr_assert_eq(r->nrows, 3);
    /* NULLS FIRST puts them first; ties keep scan order */
    double least = INFINITY;
    char least_id[64] = "";
    trow t;
    int64_t nulls = 0;
    FOR_ROWS(t)
    {
        if (!t.has[C_DUR] && nulls < 3) {
            const sdb_value *v = sdb_result_at(r, (uint64_t)nulls, 0);
            cr_assert(v->u.s.len == t.slen[C_TRACE] &&
                      memcmp(v->u.s.p, t.s[C_TRACE], t.slen[C_TRACE]) == 0);
        }
        nulls += !t.has[C_DUR];
        if (t.has[C_DUR] && t.f[C_DUR] < least) {
            least = t.f[C_DUR];
            memcpy(least_id, t.s[C_TRACE], t.slen[C_TRACE]);
            least_id[t.slen[C_TRACE]] = '\0';
        }
    }
    cr_assert_gt(nulls, 3);
    sdb_result_destroy(r);
    o.desc = false;
    o.nulls_first = false;
    sp.order = &o;
    r = run_spec(&sp, NULL);
    cr_assert_eq(r->nrows, 3);
    cr_assert(sdb_result_at(r, 0, 0)->u.s.len == strlen(least_id) &&
              memcmp(sdb_result_at(r, 0, 0)->u.s.p, least_id, strlen(least_id)) == 0);
    sdb_result_destroy(r);
}

Test(exec, segment_type_conflicting_with_schema_is_a_schema_error)
{
    sdb_type types[NCOLS];
    sdb_table_snap snap = fx_snap;
    sdb_result *r;
    memcpy(types, fx_types, sizeof types);
    types[C_TOK] = SDB_TYPE_FLOAT64;
    snap.types = types;
    sdb_pexpr *e = sdb_pexpr_col(&qm, C_DUR, SDB_TYPE_FLOAT64, &err);
    sdb_query_spec sp = {.nout = 1, .out = (const sdb_pexpr *const *)&e, .snap = &snap};
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_ERR_SCHEMA);
    cr_assert(strstr(err.msg, "column 'tokens' is int64 there, float64 in table spans") != NULL,
              "%s", err.msg);
}

Test(exec, all_null_symbol_column_with_an_empty_dictionary)
{
    sdb_batch b;
    int idx;
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&b, "model", 5, SDB_TYPE_SYMBOL, &idx, &err), SDB_OK);
    for (int i = 0; i < 3000; i++)
        cr_assert_eq(sdb_column_push_null(&b.cols[idx], &err), SDB_OK);
    b.nrows = 3000;
    const sdb_batch *mems[1] = {&b};
    const char *names[1] = {"model"};
    sdb_type types[1] = {SDB_TYPE_SYMBOL};
    sdb_table_snap snap = {.table = "t", .ncols = 1, .names = names, .types = types, .nmems = 1,
                           .mems = mems};
    sdb_pexpr *m = sdb_pexpr_col(&qm, 0, SDB_TYPE_SYMBOL, &err);
    sdb_pexpr *like = opn(SDB_PX_LIKE, (sdb_pexpr *[]){m, str("g%")}, 2);
    sdb_pexpr *w = op2(SDB_PX_OR, like, op2(SDB_PX_GT, m, str("a")));
    sdb_aggspec a = {.kind = SDB_AGG_COUNT_STAR};
    sdb_query_spec sp = {.snap = &snap, .where = w, .naggs = 1, .aggs = &a};
    sdb_result *r;
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_result_at(r, 0, 0)->u.i, 0);
    sdb_result_destroy(r);
    sdb_query_spec g = {.snap = &snap, .ngroup = 1, .group = (const sdb_pexpr *const *)&m,
                        .naggs = 1, .aggs = &a};
    cr_assert_eq(sdb_exec_run(&qm, &g, &r, NULL, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(r->nrows, 1);
    cr_assert(sdb_result_at(r, 0, 0)->null);
    cr_assert_eq(sdb_result_at(r, 0, 1)->u.i, 3000);
    sdb_result_destroy(r);
    sdb_batch_free(&b);
}

Test(exec, limit_without_order_stops_scanning_early)
{
    sdb_pexpr *e = col(C_TRACE);
    sdb_exec_stats st;
    sdb_query_spec sp = {.nout = 1, .out = (const sdb_pexpr *const *)&e, .has_limit = true,
                         .limit = 10, .threads = 1};
    sdb_result *r = run_spec(&sp, &st);
    cr_assert_eq(r->nrows, 10);
    cr_assert_eq(st.rows + st.mem_rows, BLOCK_ROWS, "one block read, not %llu rows",
                 (unsigned long long)(st.rows + st.mem_rows));
    /* with more workers how far they ran ahead depends on scheduling; the rows do not */
    sdb_result *r1 = r;
    sp.threads = 4;
    r = run_spec(&sp, &st);
    cr_assert_eq(r->nrows, 10);
    for (uint64_t i = 0; i < 10; i++)
        cr_assert(sdb_result_at(r, i, 0)->u.s.len == sdb_result_at(r1, i, 0)->u.s.len &&
                  memcmp(sdb_result_at(r, i, 0)->u.s.p, sdb_result_at(r1, i, 0)->u.s.p,
                         sdb_result_at(r, i, 0)->u.s.len) == 0);
    sdb_result_destroy(r);
    sdb_result_destroy(r1);
}

Test(exec, limit_zero_returns_no_rows_and_reads_nothing)
{
    sdb_pexpr *e = col(C_TRACE);
    sdb_exec_stats st;
    sdb_query_spec sp = {.nout = 1, .out = (const sdb_pexpr *const *)&e, .has_limit = true,
                         .limit = 0, .threads = 2};
    sdb_result *r = run_spec(&sp, &st);
    cr_assert_eq(r->nrows, 0);
    cr_assert_eq(st.rows + st.mem_rows, 0);
    sdb_result_destroy(r);
}
