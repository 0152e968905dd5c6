/* Random expression trees over int, float and bool columns with NULLs, evaluated by the
 * compiled vector programs (projection and filter) and by a row-at-a-time reference
 * interpreter written here, compared row by row. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query/exec.h"
#include "tests/query/exec_fixture.h"
#include "tests/support/segcheck.h"

static sdb_qmem qm;
static sdb_err err;
static uint64_t rng = 12345;

static void setup(void)
{
    fx_setup(6000, 7000, 3000);
    cr_assert_eq(sdb_qmem_init(&qm, 0, &err), SDB_OK);
}

static void teardown(void)
{
    sdb_qmem_free(&qm);
    fx_teardown();
}

TestSuite(exec_expr, .init = setup, .fini = teardown, .timeout = 300);

typedef struct rv {
    bool null;
    int64_t i;
    double f;
    bool b;
} rv;

enum { TI, TF, TB };

static unsigned pick(unsigned n)
{
    return (unsigned)(segcheck_rand(&rng) % n);
}

static sdb_pexpr *chk(sdb_pexpr *e)
{
    cr_assert_not_null(e, "%s", err.msg);
    return e;
}

static sdb_pexpr *gen(int t, int depth);

static sdb_pexpr *leaf(int t)
{
    switch (t) {
    case TI:
        switch (pick(3)) {
        case 0: return chk(sdb_pexpr_col(&qm, C_TOK, SDB_TYPE_INT64, &err));
        case 1: return chk(sdb_pexpr_col(&qm, C_EXTRA, SDB_TYPE_INT64, &err));
        default: return chk(sdb_pexpr_i64(&qm, (int64_t)pick(11) - 5, &err));
        }
    case TF:
        switch (pick(3)) {
        case 0: return chk(sdb_pexpr_col(&qm, C_DUR, SDB_TYPE_FLOAT64, &err));
        case 1: return chk(sdb_pexpr_col(&qm, C_COST, SDB_TYPE_FLOAT64, &err));
        default: return chk(sdb_pexpr_f64(&qm, ((double)pick(200) - 100) / 8.0, &err));
        }
    default:
        if (pick(4) == 0)
            return chk(sdb_pexpr_null(&qm, SDB_TYPE_BOOL, &err));
        return chk(sdb_pexpr_col(&qm, C_OK, SDB_TYPE_BOOL, &err));
    }
}

static const char *const words[] = {"gpt-4o", "o3-mini", "gemini", "llama-3", "absent",
                                    "/chat", "/rag", "error", "ok", "new-model"};
static const int textcols[] = {C_MODEL, C_EP, C_STATUS, C_TRACE};

static sdb_pexpr *text_col(void)
{
    int c = textcols[pick(4)];
    return chk(sdb_pexpr_col(&qm, (uint32_t)c, fx_types[c], &err));
}

/* Predicates over symbols and strings: code comparisons with constants (resolved per
 * dictionary), IN, LIKE, and comparisons of two text columns (as strings). */
static sdb_pexpr *gen_text(void)
{
    static const char *const pats[] = {"%4%", "g%", "%i", "_o%", "%", "/r_g", "0-%", "%a%e%"};
    static const sdb_pexpr_kind cm[] = {SDB_PX_EQ, SDB_PX_NE, SDB_PX_LT, SDB_PX_LE, SDB_PX_GT,
                                        SDB_PX_GE};
    switch (pick(4)) {
    case 0:
        return chk(sdb_pexpr_op2(&qm, cm[pick(6)], text_col(),
                                 chk(sdb_pexpr_str(&qm, words[pick(10)], &err)), &err));
    case 1: {
        sdb_pexpr *in = chk(sdb_pexpr_make(
            &qm, SDB_PX_IN,
            (sdb_pexpr *[]){text_col(), chk(sdb_pexpr_str(&qm, words[pick(10)], &err)),
                            chk(sdb_pexpr_str(&qm, words[pick(10)], &err))}, 3, &err));
        in->negate = pick(2);
        return in;
    }
    case 2: {
        sdb_pexpr *l = chk(sdb_pexpr_make(
            &qm, SDB_PX_LIKE,
            (sdb_pexpr *[]){text_col(), chk(sdb_pexpr_str(&qm, pats[pick(8)], &err))}, 2, &err));
        l->negate = pick(2);
        l->ci = pick(2);
        return l;
    }
    default:
        return chk(sdb_pexpr_op2(&qm, cm[pick(6)], text_col(), text_col(), &err));
    }
}

static int strcmp_n(const char *a, uint32_t an, const char *b, uint32_t bn)
{
    uint32_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (an > bn) - (an < bn);
}

static bool like_ref(const char *s, uint32_t n, const char *p, bool ci)
{
    /* recursive reference matcher */
    if (*p == '\0')
        return n == 0;
    if (*p == '%') {
        for (uint32_t k = 0; k <= n; k++)
            if (like_ref(s + k, n - k, p + 1, ci))
                return true;
        return false;
    }
    if (n == 0)
        return false;
    if (*p == '_' || *p == *s ||
        (ci && ((*p | 32) == (*s | 32)) && ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
        return like_ref(s + 1, n - 1, p + 1, ci);
    return false;
}

/* A text argument of the reference: the column's string, or a constant. */
static bool text_of(const sdb_pexpr *e, const trow *t, const char **p, uint32_t *n)
{
    const sdb_pexpr *x = e->kind == SDB_PX_CAST ? e->args[0] : e;
    if (x->kind == SDB_PX_CONST) {
        *p = x->val.u.s.p;
        *n = x->val.u.s.len;
        return true;
    }
    if (!t->has[x->col])
        return false;
    *p = t->s[x->col];
    *n = t->slen[x->col];
    return true;
}

static sdb_pexpr *gen(int t, int depth)
{
    if (depth == 0 || pick(4) == 0)
        return leaf(t);
    if (t == TI) {
        static const sdb_pexpr_kind ar[] = {SDB_PX_ADD, SDB_PX_SUB, SDB_PX_MUL, SDB_PX_DIV,
                                            SDB_PX_MOD};
        switch (pick(5)) {
        case 0: case 1:
            return chk(sdb_pexpr_op2(&qm, ar[pick(5)], gen(TI, depth - 1), gen(TI, depth - 1), &err));
        case 2:
            return chk(sdb_pexpr_make(&qm, pick(2) ? SDB_PX_NEG : SDB_PX_ABS,
                                      (sdb_pexpr *[]){gen(TI, depth - 1)}, 1, &err));
        case 3:
            return chk(sdb_pexpr_make(&qm, SDB_PX_CASE,
                                      (sdb_pexpr *[]){gen(TB, depth - 1), gen(TI, depth - 1),
                                                      gen(TI, depth - 1)}, pick(2) ? 3 : 2, &err));
        default:
            return chk(sdb_pexpr_make(&qm, SDB_PX_COALESCE,
                                      (sdb_pexpr *[]){gen(TI, depth - 1), gen(TI, depth - 1)}, 2,
                                      &err));
        }
    }
    if (t == TF) {
        static const sdb_pexpr_kind ar[] = {SDB_PX_ADD, SDB_PX_SUB, SDB_PX_MUL, SDB_PX_DIV};
        switch (pick(4)) {
        case 0: case 1:
            return chk(sdb_pexpr_op2(&qm, ar[pick(4)], gen(TF, depth - 1),
                                     gen(pick(2) ? TF : TI, depth - 1), &err));
        case 2:
            return chk(sdb_pexpr_cast(&qm, gen(TI, depth - 1), SDB_TYPE_FLOAT64, &err));
        default:
            return chk(sdb_pexpr_make(&qm, SDB_PX_ROUND,
                                      (sdb_pexpr *[]){gen(TF, depth - 1),
                                                      chk(sdb_pexpr_i64(&qm, pick(3), &err))},
                                      2, &err));
        }
    }
    static const sdb_pexpr_kind cm[] = {SDB_PX_EQ, SDB_PX_NE, SDB_PX_LT, SDB_PX_LE, SDB_PX_GT,
                                        SDB_PX_GE};
    if (pick(3) == 0)
        return gen_text();
    switch (pick(6)) {
    case 0:
        return chk(sdb_pexpr_op2(&qm, cm[pick(6)], gen(TI, depth - 1), gen(TI, depth - 1), &err));
    case 1:
        return chk(sdb_pexpr_op2(&qm, cm[pick(6)], gen(TF, depth - 1),
                                 gen(pick(2) ? TF : TI, depth - 1), &err));
    case 2:
        return chk(sdb_pexpr_op2(&qm, pick(2) ? SDB_PX_AND : SDB_PX_OR, gen(TB, depth - 1),
                                 gen(TB, depth - 1), &err));
    case 3:
        return chk(sdb_pexpr_make(&qm, SDB_PX_NOT, (sdb_pexpr *[]){gen(TB, depth - 1)}, 1, &err));
    case 4:
        return chk(sdb_pexpr_make(&qm, pick(2) ? SDB_PX_IS_NULL : SDB_PX_IS_NOT_NULL,
                                  (sdb_pexpr *[]){gen(pick(2) ? TI : TF, depth - 1)}, 1, &err));
    default: {
        sdb_pexpr *in = chk(sdb_pexpr_make(
            &qm, SDB_PX_IN,
            (sdb_pexpr *[]){gen(TI, depth - 1), chk(sdb_pexpr_i64(&qm, 1, &err)),
                            chk(sdb_pexpr_i64(&qm, (int64_t)pick(5000), &err)),
                            pick(3) ? chk(sdb_pexpr_i64(&qm, 0, &err))
                                    : chk(sdb_pexpr_null(&qm, SDB_TYPE_INT64, &err))},
            4, &err));
        in->negate = pick(2);
        return in;
    }
    }
}

static double num(const sdb_pexpr *e, const rv *v)
{
    return e->type == SDB_TYPE_FLOAT64 ? v->f : (double)v->i;
}

/* The reference: SQL semantics one row at a time. */
static rv eval(const sdb_pexpr *e, const trow *t)
{
    rv r = {0}, a, b;
    uint32_t k;
    switch (e->kind) {
    case SDB_PX_COL:
        r.null = !t->has[e->col];
        if (e->type == SDB_TYPE_FLOAT64)
            r.f = t->f[e->col];
        else if (e->type == SDB_TYPE_BOOL)
            r.b = t->i[e->col] != 0;
        else
            r.i = t->i[e->col];
        return r;
    case SDB_PX_CONST:
        r.null = e->val.null;
        if (e->type == SDB_TYPE_FLOAT64)
            r.f = e->val.u.f;
        else if (e->type == SDB_TYPE_BOOL)
            r.b = e->val.u.b;
        else
            r.i = e->val.u.i;
        return r;
    case SDB_PX_CAST:
        a = eval(e->args[0], t);
        r.null = a.null;
        r.f = (double)a.i;
        return r;
    case SDB_PX_ADD: case SDB_PX_SUB: case SDB_PX_MUL: case SDB_PX_DIV: case SDB_PX_MOD:
        a = eval(e->args[0], t);
        b = eval(e->args[1], t);
        r.null = a.null || b.null;
        if (r.null)
            return r;
        if (e->type == SDB_TYPE_FLOAT64) {
            double x = num(e->args[0], &a), y = num(e->args[1], &b);
            r.f = e->kind == SDB_PX_ADD ? x + y : e->kind == SDB_PX_SUB ? x - y
                : e->kind == SDB_PX_MUL ? x * y : e->kind == SDB_PX_DIV ? x / y : fmod(x, y);
            return r;
        }
        if ((e->kind == SDB_PX_DIV || e->kind == SDB_PX_MOD) && b.i == 0) {
            r.null = true;
            return r;
        }
        r.i = e->kind == SDB_PX_ADD ? a.i + b.i : e->kind == SDB_PX_SUB ? a.i - b.i
            : e->kind == SDB_PX_MUL ? a.i * b.i : e->kind == SDB_PX_DIV ? a.i / b.i : a.i % b.i;
        return r;
    case SDB_PX_NEG: case SDB_PX_ABS:
        a = eval(e->args[0], t);
        r.null = a.null;
        r.i = e->kind == SDB_PX_NEG ? -a.i : llabs(a.i);
        r.f = e->kind == SDB_PX_NEG ? -a.f : fabs(a.f);
        return r;
    case SDB_PX_ROUND: {
        double s = pow(10.0, (double)e->args[1]->val.u.i);
        a = eval(e->args[0], t);
        r.null = a.null;
        r.f = e->args[1]->val.u.i == 0 ? round(a.f) : round(a.f * s) / s;
        return r;
    }
    case SDB_PX_EQ: case SDB_PX_NE: case SDB_PX_LT: case SDB_PX_LE: case SDB_PX_GT:
    case SDB_PX_GE: {
        sdb_type at = e->args[0]->type;
        if (at == SDB_TYPE_STRING || at == SDB_TYPE_SYMBOL) {
            const char *x, *y;
            uint32_t xn, yn;
            int c;
            r.null = !text_of(e->args[0], t, &x, &xn) || !text_of(e->args[1], t, &y, &yn);
            if (r.null)
                return r;
            c = strcmp_n(x, xn, y, yn);
            r.b = e->kind == SDB_PX_EQ ? c == 0 : e->kind == SDB_PX_NE ? c != 0
                : e->kind == SDB_PX_LT ? c < 0 : e->kind == SDB_PX_LE ? c <= 0
                : e->kind == SDB_PX_GT ? c > 0 : c >= 0;
            return r;
        }
        a = eval(e->args[0], t);
        b = eval(e->args[1], t);
        r.null = a.null || b.null;
        if (e->args[0]->type == SDB_TYPE_FLOAT64) {
            double x = a.f, y = b.f;
            r.b = e->kind == SDB_PX_EQ ? x == y : e->kind == SDB_PX_NE ? x != y
                : e->kind == SDB_PX_LT ? x < y : e->kind == SDB_PX_LE ? x <= y
                : e->kind == SDB_PX_GT ? x > y : x >= y;
        } else {
            int64_t x = a.i, y = b.i;
            r.b = e->kind == SDB_PX_EQ ? x == y : e->kind == SDB_PX_NE ? x != y
                : e->kind == SDB_PX_LT ? x < y : e->kind == SDB_PX_LE ? x <= y
                : e->kind == SDB_PX_GT ? x > y : x >= y;
        }
        return r;
    }
    case SDB_PX_AND: case SDB_PX_OR: {
        bool and = e->kind == SDB_PX_AND;
        a = eval(e->args[0], t);
        b = eval(e->args[1], t);
        if ((!a.null && a.b != and) || (!b.null && b.b != and)) {
            r.b = !and;
            return r;
        }
        r.null = a.null || b.null;
        r.b = and;
        return r;
    }
    case SDB_PX_NOT:
        a = eval(e->args[0], t);
        r.null = a.null;
        r.b = !a.b;
        return r;
    case SDB_PX_IS_NULL: case SDB_PX_IS_NOT_NULL:
        a = eval(e->args[0], t);
        r.b = a.null == (e->kind == SDB_PX_IS_NULL);
        return r;
    case SDB_PX_LIKE: {
        const char *x;
        uint32_t xn;
        r.null = !text_of(e->args[0], t, &x, &xn);
        r.b = !r.null && like_ref(x, xn, e->args[1]->val.u.s.p, e->ci) != e->negate;
        return r;
    }
    case SDB_PX_IN: {
        bool hit = false, listnull = false;
        if (e->args[0]->type == SDB_TYPE_STRING || e->args[0]->type == SDB_TYPE_SYMBOL) {
            const char *x;
            uint32_t xn;
            if (!text_of(e->args[0], t, &x, &xn)) {
                r.null = true;
                return r;
            }
            for (k = 1; k < e->nargs; k++)
                hit |= strcmp_n(x, xn, e->args[k]->val.u.s.p, e->args[k]->val.u.s.len) == 0;
            r.b = hit != e->negate;
            return r;
        }
        a = eval(e->args[0], t);
        if (a.null) {
            r.null = true;
            return r;
        }
        for (k = 1; k < e->nargs; k++) {
            if (e->args[k]->val.null)
                listnull = true;
            else if (e->args[k]->val.u.i == a.i)
                hit = true;
        }
        r.null = !hit && listnull;
        r.b = hit != e->negate;
        return r;
    }
    case SDB_PX_CASE:
        for (k = 0; k + 1 < e->nargs; k += 2) {
            a = eval(e->args[k], t);
            if (!a.null && a.b)
                return eval(e->args[k + 1], t);
        }
        if (e->has_else)
            return eval(e->args[e->nargs - 1], t);
        r.null = true;
        return r;
    case SDB_PX_COALESCE:
        for (k = 0; k < e->nargs; k++) {
            a = eval(e->args[k], t);
            if (!a.null)
                return a;
        }
        r.null = true;
        return r;
    default:
        cr_assert_fail("reference cannot evaluate %s", sdb_pexpr_kind_name(e->kind));
        return r;
    }
}

static void dump(const sdb_pexpr *e, char *out, size_t cap)
{
    size_t n = strlen(out);
    if (n + 64 > cap)
        return;
    if (e->kind == SDB_PX_COL) {
        snprintf(out + n, cap - n, "c%u", e->col);
        return;
    }
    if (e->kind == SDB_PX_CONST) {
        if (e->val.null)
            snprintf(out + n, cap - n, "NULL");
        else if (e->type == SDB_TYPE_STRING)
            snprintf(out + n, cap - n, "'%.*s'", (int)e->val.u.s.len, e->val.u.s.p);
        else if (e->type == SDB_TYPE_FLOAT64)
            snprintf(out + n, cap - n, "%g", e->val.u.f);
        else
            snprintf(out + n, cap - n, "%lld", (long long)e->val.u.i);
        return;
    }
    snprintf(out + n, cap - n, "%s%s%s(", e->negate ? "not " : "", e->ci ? "i" : "",
             sdb_pexpr_kind_name(e->kind));
    for (uint32_t k = 0; k < e->nargs; k++) {
        if (k)
            strncat(out, ", ", cap - strlen(out) - 1);
        dump(e->args[k], out, cap);
    }
    strncat(out, ")", cap - strlen(out) - 1);
}

static char dbg[4096];

static void check_one(sdb_pexpr *e, int t, unsigned threads)
{
    dbg[0] = '\0';
    dump(e, dbg, sizeof dbg);
    sdb_query_spec sp = {.snap = &fx_snap, .nout = 1, .out = (const sdb_pexpr *const *)&e,
                         .threads = threads};
    sdb_result *r;
    trow row;
    uint64_t n = 0;
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_OK, "%s", err.msg);
    for (int u = 0; u < NUNITS; u++)
        for (uint64_t i = 0; i < fx_rows[u]; i++, n++) {
            const sdb_value *v = sdb_result_at(r, n, 0);
            rv want;
            fx_row(u, i, &row);
            want = eval(e, &row);
            cr_assert_eq(v->null, want.null, "row %llu: %s", (unsigned long long)n, dbg);
            if (want.null)
                continue;
            if (t == TI)
                cr_assert_eq(v->u.i, want.i, "row %llu: %s", (unsigned long long)n, dbg);
            else if (t == TF)
                cr_assert(v->u.f == want.f || (isnan(v->u.f) && isnan(want.f)),
                          "row %llu: %.17g vs %.17g: %s", (unsigned long long)n, v->u.f, want.f, dbg);
            else
                cr_assert_eq(v->u.b, want.b, "row %llu: %s", (unsigned long long)n, dbg);
        }
    cr_assert_eq(r->nrows, n);
    sdb_result_destroy(r);
    if (t == TB) {
        /* as a filter: count of TRUE rows */
        sdb_aggspec a = {.kind = SDB_AGG_COUNT_STAR};
        sdb_query_spec fs = {.snap = &fx_snap, .where = e, .naggs = 1, .aggs = &a,
                             .threads = threads};
        int64_t want = 0;
        for (int u = 0; u < NUNITS; u++)
            for (uint64_t i = 0; i < fx_rows[u]; i++) {
                rv x;
                fx_row(u, i, &row);
                x = eval(e, &row);
                want += !x.null && x.b;
            }
        cr_assert_eq(sdb_exec_run(&qm, &fs, &r, NULL, &err), SDB_OK, "%s", err.msg);
        cr_assert_eq(sdb_result_at(r, 0, 0)->u.i, want, "%s", dbg);
        sdb_result_destroy(r);
    }
}

Test(exec_expr, random_int_expressions_match_reference)
{
    for (int k = 0; k < 60; k++)
        check_one(gen(TI, 3), TI, 1 + (unsigned)(k % 3));
}

Test(exec_expr, random_float_expressions_match_reference)
{
    for (int k = 0; k < 60; k++)
        check_one(gen(TF, 3), TF, 1 + (unsigned)(k % 3));
}

Test(exec_expr, random_bool_expressions_match_reference_as_values_and_filters)
{
    for (int k = 0; k < 80; k++)
        check_one(gen(TB, 3), TB, 1 + (unsigned)(k % 3));
}

/* ---- random grouped aggregation ---- */

typedef struct arow {
    bool knull;
    int64_t key;
    rv x;      /* int argument */
    rv y;      /* float argument */
    rv c;      /* bool argument */
} arow;

static int cmp_arow(const void *p, const void *q)
{
    const arow *a = p, *b = q;
    if (a->knull != b->knull)
        return a->knull ? 1 : -1;
    return (a->key > b->key) - (a->key < b->key);
}

Test(exec_expr, random_grouped_aggregates_match_reference)
{
    static arow rows[20000];
    for (int round = 0; round < 12; round++) {
        sdb_pexpr *k = gen(TI, 2), *x = gen(TI, 2), *y = gen(TF, 2), *c = gen(TB, 2);
        sdb_aggspec a[7] = {{.kind = SDB_AGG_COUNT_STAR},
                            {.kind = SDB_AGG_COUNT, .arg = x},
                            {.kind = SDB_AGG_SUM, .arg = x},
                            {.kind = SDB_AGG_MIN, .arg = y},
                            {.kind = SDB_AGG_MAX, .arg = x},
                            {.kind = SDB_AGG_COUNT_IF, .arg = c},
                            {.kind = SDB_AGG_COUNT_DISTINCT, .arg = x}};
        sdb_order o = {.col = 0};
        sdb_query_spec sp = {.snap = &fx_snap, .ngroup = 1, .group = (const sdb_pexpr *const *)&k,
                             .naggs = 7, .aggs = a, .norder = 1, .order = &o,
                             .threads = 1 + (unsigned)(round % 3)};
        sdb_result *r;
        size_t n = 0, g = 0;
        trow t;
        dbg[0] = '\0';
        dump(k, dbg, sizeof dbg);
        cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_OK, "%s", err.msg);
        for (int u = 0; u < NUNITS; u++)
            for (uint64_t i = 0; i < fx_rows[u]; i++) {
                rv kv;
                fx_row(u, i, &t);
                kv = eval(k, &t);
                rows[n].knull = kv.null;
                rows[n].key = kv.i;
                rows[n].x = eval(x, &t);
                rows[n].y = eval(y, &t);
                rows[n].c = eval(c, &t);
                n++;
            }
        qsort(rows, n, sizeof *rows, cmp_arow);
        for (size_t s = 0; s < n; g++) {
            size_t e = s;
            int64_t cnt = 0, sum = 0, mx = 0, cif = 0, nd = 0;
            double mn = 0;
            bool hasx = false, hasy = false;
            while (e < n && cmp_arow(&rows[s], &rows[e]) == 0)
                e++;
            for (size_t i = s; i < e; i++) {
                if (!rows[i].x.null) {
                    cnt++;
                    sum += rows[i].x.i;
                    if (!hasx || rows[i].x.i > mx)
                        mx = rows[i].x.i;
                    hasx = true;
                    bool dup = false;
                    for (size_t j = s; j < i && !dup; j++)
                        dup = !rows[j].x.null && rows[j].x.i == rows[i].x.i;
                    nd += !dup;
                }
                if (!rows[i].y.null && !isnan(rows[i].y.f)) {
                    if (!hasy || rows[i].y.f < mn)
                        mn = rows[i].y.f;
                    hasy = true;
                }
                cif += !rows[i].c.null && rows[i].c.b;
            }
            cr_assert_lt(g, r->nrows, "%s", dbg);
            const sdb_value *v = sdb_result_at(r, g, 0);
            cr_assert_eq(v[0].null, rows[s].knull, "%s", dbg);
            if (!v[0].null)
                cr_assert_eq(v[0].u.i, rows[s].key, "%s", dbg);
            cr_assert_eq(v[1].u.i, (int64_t)(e - s), "%s", dbg);
            cr_assert_eq(v[2].u.i, cnt, "%s", dbg);
            cr_assert_eq(v[3].null, !hasx);
            if (hasx) {
                cr_assert_eq(v[3].u.i, sum, "%s", dbg);
                cr_assert_eq(v[5].u.i, mx, "%s", dbg);
            }
            cr_assert_eq(v[4].null, !hasy, "%s", dbg);
            if (hasy)
                cr_assert_eq(v[4].u.f, mn, "%s", dbg);
            cr_assert_eq(v[6].u.i, cif, "%s", dbg);
            cr_assert_eq(v[7].u.i, nd, "%s", dbg);
            s = e;
        }
        cr_assert_eq(r->nrows, g, "%s", dbg);
        sdb_result_destroy(r);
    }
}

/* ---- casts and time functions against libc ---- */

static int64_t trunc_ref(const char *unit, int64_t ts)
{
    const int64_t ns = 1000000000LL;
    time_t s = (time_t)(ts >= 0 ? ts / ns : -((-ts + ns - 1) / ns));
    struct tm tm;
    gmtime_r(&s, &tm);
    tm.tm_sec = 0;
    if (strcmp(unit, "minute") == 0)
        return (int64_t)timegm(&tm) * ns;
    tm.tm_min = 0;
    if (strcmp(unit, "hour") == 0)
        return (int64_t)timegm(&tm) * ns;
    tm.tm_hour = 0;
    if (strcmp(unit, "day") == 0)
        return (int64_t)timegm(&tm) * ns;
    if (strcmp(unit, "week") == 0) {
        tm.tm_mday -= (tm.tm_wday + 6) % 7; /* back to Monday */
        return (int64_t)timegm(&tm) * ns;
    }
    tm.tm_mday = 1;
    if (strcmp(unit, "month") == 0)
        return (int64_t)timegm(&tm) * ns;
    tm.tm_mon = 0;
    return (int64_t)timegm(&tm) * ns;
}

Test(exec_expr, casts_and_time_functions_match_libc)
{
    static const char *units[] = {"minute", "hour", "day", "week", "month", "year"};
    sdb_pexpr *outs[12];
    uint32_t n = 0;
    sdb_pexpr *tm = chk(sdb_pexpr_col(&qm, C_TIME, SDB_TYPE_TIMESTAMP, &err));
    /* shift times across years, before 1970 too */
    sdb_pexpr *shifted = chk(sdb_pexpr_op2(
        &qm, SDB_PX_SUB,
        chk(sdb_pexpr_op2(&qm, SDB_PX_MUL, chk(sdb_pexpr_col(&qm, C_TOK, SDB_TYPE_INT64, &err)),
                          chk(sdb_pexpr_i64(&qm, 86400LL * 1000000000LL * 7 + 12345, &err)), &err)),
        chk(sdb_pexpr_i64(&qm, 86400LL * 1000000000LL * 365 * 30, &err)), &err));
    (void)tm;
    shifted = chk(sdb_pexpr_cast(&qm, shifted, SDB_TYPE_TIMESTAMP, &err));
    for (int u = 0; u < 6; u++)
        outs[n++] = chk(sdb_pexpr_make(&qm, SDB_PX_DATE_TRUNC,
                                       (sdb_pexpr *[]){chk(sdb_pexpr_str(&qm, units[u], &err)),
                                                       shifted}, 2, &err));
    outs[n++] = chk(sdb_pexpr_make(&qm, SDB_PX_TIME_BUCKET,
                                   (sdb_pexpr *[]){chk(sdb_pexpr_i64(&qm, 900000000000LL, &err)),
                                                   shifted}, 2, &err));
    /* round trips through strings */
    sdb_pexpr *ts_str = chk(sdb_pexpr_cast(&qm, shifted, SDB_TYPE_STRING, &err));
    outs[n++] = chk(sdb_pexpr_cast(&qm, ts_str, SDB_TYPE_TIMESTAMP, &err));
    sdb_pexpr *tok = chk(sdb_pexpr_col(&qm, C_TOK, SDB_TYPE_INT64, &err));
    outs[n++] = chk(sdb_pexpr_cast(&qm, chk(sdb_pexpr_cast(&qm, tok, SDB_TYPE_STRING, &err)),
                                   SDB_TYPE_INT64, &err));
    sdb_pexpr *dur = chk(sdb_pexpr_col(&qm, C_DUR, SDB_TYPE_FLOAT64, &err));
    outs[n++] = chk(sdb_pexpr_cast(&qm, chk(sdb_pexpr_cast(&qm, dur, SDB_TYPE_STRING, &err)),
                                   SDB_TYPE_FLOAT64, &err));
    outs[n++] = chk(sdb_pexpr_cast(&qm, chk(sdb_pexpr_col(&qm, C_OK, SDB_TYPE_BOOL, &err)),
                                   SDB_TYPE_STRING, &err));
    outs[n++] = chk(sdb_pexpr_make(&qm, SDB_PX_ROUND,
                                   (sdb_pexpr *[]){tok, chk(sdb_pexpr_i64(&qm, -2, &err))}, 2,
                                   &err));
    sdb_query_spec sp = {.snap = &fx_snap, .nout = n, .out = (const sdb_pexpr *const *)outs,
                         .threads = 2};
    sdb_result *r;
    trow t;
    uint64_t row = 0;
    cr_assert_eq(sdb_exec_run(&qm, &sp, &r, NULL, &err), SDB_OK, "%s", err.msg);
    for (int u = 0; u < NUNITS; u++)
        for (uint64_t i = 0; i < fx_rows[u]; i++, row++) {
            const sdb_value *v = sdb_result_at(r, row, 0);
            fx_row(u, i, &t);
            if (!t.has[C_TOK]) {
                cr_assert(v[0].null && v[7].null && v[8].null);
                continue;
            }
            int64_t ts = t.i[C_TOK] * (86400LL * 1000000000LL * 7 + 12345) -
                         86400LL * 1000000000LL * 365 * 30;
            for (int k = 0; k < 6; k++)
                cr_assert_eq(v[k].u.i, trunc_ref(units[k], ts), "%s of %lld", units[k],
                             (long long)ts);
            int64_t b = 900000000000LL, q = ts / b - (ts % b < 0);
            cr_assert_eq(v[6].u.i, q * b);
            cr_assert_eq(v[7].u.i, ts, "timestamp string round trip");
            cr_assert_eq(v[8].u.i, t.i[C_TOK]);
            if (t.has[C_DUR])
                cr_assert_eq(v[9].u.f, t.f[C_DUR], "float string round trip");
            if (t.has[C_OK])
                cr_assert(v[10].u.s.len == (t.i[C_OK] ? 4u : 5u));
            int64_t x = t.i[C_TOK], rq = x / 100, rr = x % 100;
            if (rr >= 50)
                rq++;
            else if (rr <= -50)
                rq--;
            cr_assert_eq(v[11].u.i, rq * 100, "round(%lld, -2)", (long long)x);
        }
    sdb_result_destroy(r);
}
