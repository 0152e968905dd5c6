/* The planner: AST to physical query.
 *
 * Binding runs in one of two scopes. In the table scope a column names a column of the
 * table. In the aggregation scope (the select list, HAVING and ORDER BY of a query with
 * GROUP BY or aggregates) the input is the aggregation output: the group keys followed by
 * the aggregates. There, an expression that is one of the GROUP BY expressions (compared by
 * its canonical SQL text, so `date_trunc('hour', time)` in the select list matches the same
 * text in GROUP BY) becomes a reference to that key, an aggregate call is bound in the
 * table scope and appended to the aggregate list (identical calls share one aggregate), and
 * a bare column that is neither is an error, as in PostgreSQL. */
#include "query/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "query/functions.h"
#include "storage/common/timefmt.h"

#define MAX_AGGS 256
#define MAX_OUT 1024

typedef enum scope { SCOPE_TABLE, SCOPE_AGG } scope;

typedef struct binder {
    sdb_qmem *m;
    const sdb_table_snap *snap;
    const sdb_plan_opts *o;
    sdb_err *err;
    const char *clause;        /* "WHERE", "GROUP BY"...: for messages */
    /* aggregation scope */
    uint32_t ngroup;
    const char **group_text;   /* canonical SQL of each key */
    sdb_type *group_type;      /* output type of each key (symbols come out as strings) */
    sdb_aggspec aggs[MAX_AGGS];
    const char *agg_text[MAX_AGGS];
    sdb_type agg_type[MAX_AGGS];
    uint32_t naggs;
    bool in_agg;               /* binding the argument of an aggregate */
} binder;

static sdb_pexpr *bind(binder *b, const sdb_expr *e, scope sc);

static sdb_pexpr *fail(binder *b, sdb_rc rc, sdb_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sdb_pexpr *fail(binder *b, sdb_rc rc, sdb_pos pos, const char *fmt, ...)
{
    char msg[SDB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    SDB_FAIL(b->err, rc, "%s at %u:%u", msg, pos.line, pos.col);
    return NULL;
}

/* Add " at L:C" to an error raised by a builder that does not know positions. */
static sdb_pexpr *at(binder *b, sdb_pexpr *e, sdb_pos pos)
{
    if (e == NULL && b->err != NULL && strstr(b->err->msg, " at ") == NULL) {
        size_t n = strlen(b->err->msg);
        snprintf(b->err->msg + n, sizeof b->err->msg - n, " at %u:%u", pos.line, pos.col);
    }
    return e;
}

/* Canonical SQL of e, in query memory. */
static const char *text_of(binder *b, const sdb_expr *e)
{
    sdb_buf buf = SDB_BUF_INIT;
    char *s = NULL;
    if (sdb_ast_print_expr(e, &buf, b->err) == SDB_OK &&
        (s = sdb_qmem_alloc(b->m, buf.len + 1, b->err)) != NULL) {
        memcpy(s, buf.data, buf.len);
        s[buf.len] = '\0';
    }
    sdb_buf_free(&buf);
    return s;
}

static int find_col(const sdb_table_snap *snap, const char *name, size_t len)
{
    int ci = -1;
    for (uint32_t i = 0; i < snap->ncols; i++)
        if (strlen(snap->names[i]) == len && memcmp(snap->names[i], name, len) == 0)
            return (int)i;
    /* unquoted identifiers are folded to lower case: match a mixed-case column when that is
     * unambiguous */
    for (uint32_t i = 0; i < snap->ncols; i++)
        if (strlen(snap->names[i]) == len && strncasecmp(snap->names[i], name, len) == 0) {
            if (ci >= 0)
                return -2;
            ci = (int)i;
        }
    return ci;
}

static sdb_pexpr *bind_column(binder *b, const sdb_expr *e)
{
    const char *name = e->v.col.name.s;
    size_t len = e->v.col.name.len;
    int ci = find_col(b->snap, name, len);
    if (ci == -2)
        return fail(b, SDB_ERR_SCHEMA, e->pos,
                    "column name '%.*s' is ambiguous: quote it with the exact case", (int)len,
                    name);
    if (ci < 0) {
        const char *near = sdb_suggest_name(name, len, (const char *const *)b->snap->names,
                                            b->snap->ncols);
        if (b->snap->ncols == 0)
            return fail(b, SDB_ERR_SCHEMA, e->pos, "column '%.*s' needs a FROM clause",
                        (int)len, name);
        if (near != NULL)
            return fail(b, SDB_ERR_SCHEMA, e->pos,
                        "unknown column '%.*s' in table '%s' (did you mean '%s'?)", (int)len,
                        name, b->snap->table, near);
        return fail(b, SDB_ERR_SCHEMA, e->pos, "unknown column '%.*s' in table '%s'", (int)len,
                    name, b->snap->table);
    }
    return at(b, sdb_pexpr_col(b->m, (uint32_t)ci, b->snap->types[ci], b->err), e->pos);
}

/* A string constant met by a timestamp becomes a timestamp ('2026-01-01' < time). */
static bool fix_time_pair(binder *b, sdb_pexpr **x, sdb_pexpr **y, sdb_pos pos)
{
    sdb_pexpr **s = NULL;
    if ((*x)->type == SDB_TYPE_TIMESTAMP && (*y)->kind == SDB_PX_CONST &&
        (*y)->type == SDB_TYPE_STRING)
        s = y;
    else if ((*y)->type == SDB_TYPE_TIMESTAMP && (*x)->kind == SDB_PX_CONST &&
             (*x)->type == SDB_TYPE_STRING)
        s = x;
    if (s == NULL)
        return true;
    *s = at(b, sdb_pexpr_cast(b->m, *s, SDB_TYPE_TIMESTAMP, b->err), pos);
    return *s != NULL;
}

static const sdb_pexpr_kind binop_kind[] = {
    [SDB_BINOP_ADD] = SDB_PX_ADD, [SDB_BINOP_SUB] = SDB_PX_SUB, [SDB_BINOP_MUL] = SDB_PX_MUL,
    [SDB_BINOP_DIV] = SDB_PX_DIV, [SDB_BINOP_MOD] = SDB_PX_MOD, [SDB_BINOP_EQ] = SDB_PX_EQ,
    [SDB_BINOP_NE] = SDB_PX_NE,   [SDB_BINOP_LT] = SDB_PX_LT,   [SDB_BINOP_LE] = SDB_PX_LE,
    [SDB_BINOP_GT] = SDB_PX_GT,   [SDB_BINOP_GE] = SDB_PX_GE,   [SDB_BINOP_AND] = SDB_PX_AND,
    [SDB_BINOP_OR] = SDB_PX_OR,
};

static bool is_cmp(sdb_binop op)
{
    return op >= SDB_BINOP_EQ && op <= SDB_BINOP_GE;
}

/* The numeric value of a constant argument (quantile levels, round digits). */
static bool const_number(const sdb_expr *e, double *out)
{
    if (e->kind == SDB_EXPR_INT) {
        *out = (double)e->v.i;
        return true;
    }
    if (e->kind == SDB_EXPR_FLOAT) {
        *out = e->v.f;
        return true;
    }
    if (e->kind == SDB_EXPR_UNARY && e->v.unary.op == SDB_UNOP_NEG &&
        const_number(e->v.unary.arg, out)) {
        *out = -*out;
        return true;
    }
    return false;
}

static bool func_is(const sdb_expr *e, const char *name)
{
    return strlen(name) == e->v.func.name.len && memcmp(e->v.func.name.s, name, e->v.func.name.len) == 0;
}

/* An aggregate call met in the aggregation scope: bind its argument over the table and add
 * it to the list (or find the identical one); returns a reference to its output column. */
static sdb_pexpr *bind_aggregate(binder *b, const sdb_expr *e)
{
    static const struct {
        const char *name;
        double q;
    } pct[] = {{"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}};
    sdb_aggspec spec;
    sdb_aggdef def;
    const char *text;
    const sdb_pexpr *arg = NULL;
    sdb_type in_type = (sdb_type)0;
    uint32_t nargs = e->v.func.nargs;
    memset(&spec, 0, sizeof spec);
    if (b->in_agg)
        return fail(b, SDB_ERR_SCHEMA, e->pos, "aggregate function '%s' inside another aggregate",
                    e->v.func.name.s);
    if ((text = text_of(b, e)) == NULL)
        return NULL;
    for (uint32_t i = 0; i < b->naggs; i++)
        if (strcmp(b->agg_text[i], text) == 0)
            return sdb_pexpr_col(b->m, b->ngroup + i, b->agg_type[i], b->err);
    if (b->naggs == MAX_AGGS)
        return fail(b, SDB_ERR_LIMIT, e->pos, "more than %d aggregates", MAX_AGGS);
    if (func_is(e, "count")) {
        spec.kind = e->v.func.star ? SDB_AGG_COUNT_STAR
                    : e->v.func.distinct ? SDB_AGG_COUNT_DISTINCT
                                         : SDB_AGG_COUNT;
    } else if (func_is(e, "sum")) {
        spec.kind = SDB_AGG_SUM;
    } else if (func_is(e, "avg")) {
        spec.kind = SDB_AGG_AVG;
    } else if (func_is(e, "min")) {
        spec.kind = SDB_AGG_MIN;
    } else if (func_is(e, "max")) {
        spec.kind = SDB_AGG_MAX;
    } else if (func_is(e, "count_if")) {
        spec.kind = SDB_AGG_COUNT_IF;
    } else if (func_is(e, "approx_count_distinct")) {
        spec.kind = SDB_AGG_APPROX_DISTINCT;
    } else if (func_is(e, "quantile") || func_is(e, "quantile_exact")) {
        spec.kind = func_is(e, "quantile") ? SDB_AGG_QUANTILE : SDB_AGG_QUANTILE_EXACT;
        if (nargs != 2 || !const_number(e->v.func.args[1], &spec.q) || !(spec.q >= 0 && spec.q <= 1))
            return fail(b, SDB_ERR_SCHEMA, e->pos,
                        "%s needs a constant level between 0 and 1 as its second argument",
                        e->v.func.name.s);
        nargs = 1;
    } else {
        bool found = false;
        for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
            if (func_is(e, pct[i].name)) {
                spec.kind = SDB_AGG_QUANTILE;
                spec.q = pct[i].q;
                found = true;
            }
        if (!found)
            return fail(b, SDB_ERR_SCHEMA, e->pos, "aggregate function '%s' is not supported",
                        e->v.func.name.s);
    }
    if (spec.kind != SDB_AGG_COUNT_STAR && nargs >= 1) {
        sdb_pexpr *a;
        b->in_agg = true;
        a = bind(b, e->v.func.args[0], SCOPE_TABLE);
        b->in_agg = false;
        if (a == NULL)
            return NULL;
        if (spec.kind == SDB_AGG_COUNT_IF && a->type != SDB_TYPE_BOOL)
            return fail(b, SDB_ERR_SCHEMA, e->v.func.args[0]->pos,
                        "count_if needs a condition, got %s", sdb_type_name(a->type));
        arg = a;
        in_type = a->type;
    }
    spec.arg = arg;
    if (sdb_agg_define(spec.kind, in_type, spec.q, &def, b->err) != SDB_OK)
        return at(b, NULL, e->pos);
    b->aggs[b->naggs] = spec;
    b->agg_text[b->naggs] = text;
    b->agg_type[b->naggs] = def.out_type;
    b->naggs++;
    return sdb_pexpr_col(b->m, b->ngroup + b->naggs - 1, def.out_type, b->err);
}

/* time_bucket's interval: an INTERVAL literal, an interval string ('5 minutes', '1h') or an
 * integer count of nanoseconds. */
static sdb_pexpr *bind_interval(binder *b, const sdb_expr *e)
{
    int64_t ns;
    if (e->kind == SDB_EXPR_INTERVAL || e->kind == SDB_EXPR_INT)
        ns = e->v.i;
    else if (e->kind == SDB_EXPR_STRING) {
        if (sdb_interval_parse(e->v.str.s, e->v.str.len, &ns, b->err) != SDB_OK)
            return at(b, NULL, e->pos);
    } else
        return fail(b, SDB_ERR_SCHEMA, e->pos,
                    "time_bucket needs a constant interval such as INTERVAL '5 minutes'");
    if (ns <= 0)
        return fail(b, SDB_ERR_SCHEMA, e->pos, "time_bucket needs a positive interval");
    return sdb_pexpr_i64(b->m, ns, b->err);
}

static sdb_pexpr *bind_func(binder *b, const sdb_expr *e, scope sc)
{
    const sdb_func_info *f;
    sdb_pexpr *args[64];
    uint32_t n = e->v.func.nargs;
    if (sdb_func_resolve(e->v.func.name.s, e->v.func.name.len, n, e->v.func.star,
                         e->v.func.distinct, e->pos, &f, b->err) != SDB_OK)
        return NULL;
    if (f->kind == SDB_FUNC_AGGREGATE) {
        if (b->in_agg)
            return fail(b, SDB_ERR_SCHEMA, e->pos,
                        "aggregate function '%s' inside another aggregate", f->name);
        if (sc != SCOPE_AGG)
            return fail(b, SDB_ERR_SCHEMA, e->pos, "aggregate function '%s' is not allowed in %s",
                        f->name, b->clause);
        return bind_aggregate(b, e);
    }
    if (n > sizeof args / sizeof args[0])
        return fail(b, SDB_ERR_LIMIT, e->pos, "%s takes at most 64 arguments", f->name);
    if (func_is(e, "now"))
        return sdb_pexpr_const(b->m, (sdb_value){.type = SDB_TYPE_TIMESTAMP, .u.i = b->o->now_ns},
                               b->err);
    if (func_is(e, "time_bucket")) {
        if ((args[0] = bind_interval(b, e->v.func.args[0])) == NULL ||
            (args[1] = bind(b, e->v.func.args[1], sc)) == NULL)
            return NULL;
        return at(b, sdb_pexpr_make(b->m, SDB_PX_TIME_BUCKET, args, 2, b->err), e->pos);
    }
    if (func_is(e, "date_trunc")) {
        if (e->v.func.args[0]->kind != SDB_EXPR_STRING)
            return fail(b, SDB_ERR_SCHEMA, e->pos,
                        "date_trunc needs a constant unit such as 'hour' as its first argument");
        if ((args[0] = bind(b, e->v.func.args[0], sc)) == NULL ||
            (args[1] = bind(b, e->v.func.args[1], sc)) == NULL)
            return NULL;
        if (!fix_time_pair(b, &args[1], &args[1], e->pos))
            return NULL;
        return at(b, sdb_pexpr_make(b->m, SDB_PX_DATE_TRUNC, args, 2, b->err), e->pos);
    }
    for (uint32_t i = 0; i < n; i++)
        if ((args[i] = bind(b, e->v.func.args[i], sc)) == NULL)
            return NULL;
    if (func_is(e, "coalesce"))
        return at(b, sdb_pexpr_make(b->m, SDB_PX_COALESCE, args, n, b->err), e->pos);
    if (func_is(e, "abs"))
        return at(b, sdb_pexpr_make(b->m, SDB_PX_ABS, args, n, b->err), e->pos);
    if (func_is(e, "round"))
        return at(b, sdb_pexpr_make(b->m, SDB_PX_ROUND, args, n, b->err), e->pos);
    return fail(b, SDB_ERR_SCHEMA, e->pos, "function '%s' is not supported yet", f->name);
}

static sdb_pexpr *bind_case(binder *b, const sdb_expr *e, scope sc)
{
    uint32_t n = e->v.cas.nwhen, k = 0;
    sdb_pexpr **args = sdb_qmem_alloc(b->m, (2 * (size_t)n + 1) * sizeof *args, b->err);
    sdb_pexpr *operand = NULL;
    if (args == NULL)
        return NULL;
    if (e->v.cas.operand != NULL && (operand = bind(b, e->v.cas.operand, sc)) == NULL)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        sdb_pexpr *w = bind(b, e->v.cas.whens[i], sc), *t;
        if (w == NULL)
            return NULL;
        if (operand != NULL) {
            /* CASE x WHEN v THEN ... is CASE WHEN x = v THEN ... */
            sdb_pexpr *x = operand;
            if (!fix_time_pair(b, &x, &w, e->v.cas.whens[i]->pos))
                return NULL;
            if ((w = at(b, sdb_pexpr_op2(b->m, SDB_PX_EQ, x, w, b->err), e->v.cas.whens[i]->pos)) == NULL)
                return NULL;
        }
        if ((t = bind(b, e->v.cas.thens[i], sc)) == NULL)
            return NULL;
        args[k++] = w;
        args[k++] = t;
    }
    if (e->v.cas.els != NULL && (args[k++] = bind(b, e->v.cas.els, sc)) == NULL)
        return NULL;
    return at(b, sdb_pexpr_make(b->m, SDB_PX_CASE, args, k, b->err), e->pos);
}

/* Constant int64 / timestamp + and - (now() - INTERVAL '24 hours') become one constant, so
 * that the time condition holding them prunes partitions and blocks. An overflow is left to
 * the executor, which reports it. */
static sdb_pexpr *fold(binder *b, sdb_pexpr *e)
{
    const sdb_pexpr *x, *y;
    int64_t r;
    bool over;
    if (e == NULL || (e->kind != SDB_PX_ADD && e->kind != SDB_PX_SUB) || e->nargs != 2 ||
        !sdb_type_is_i64(e->type))
        return e;
    x = e->args[0];
    y = e->args[1];
    if (x->kind != SDB_PX_CONST || y->kind != SDB_PX_CONST || x->val.null || y->val.null ||
        !sdb_type_is_i64(x->type) || !sdb_type_is_i64(y->type))
        return e;
    over = e->kind == SDB_PX_ADD ? __builtin_add_overflow(x->val.u.i, y->val.u.i, &r)
                                 : __builtin_sub_overflow(x->val.u.i, y->val.u.i, &r);
    if (over)
        return e;
    return sdb_pexpr_const(b->m, (sdb_value){.type = e->type, .u.i = r}, b->err);
}

static sdb_pexpr *bind(binder *b, const sdb_expr *e, scope sc)
{
    sdb_pexpr *x, *y, *args[3];
    if (sc == SCOPE_AGG && !b->in_agg) {
        /* a GROUP BY expression used as is */
        const char *t;
        if (b->ngroup > 0 && e->kind != SDB_EXPR_INT && e->kind != SDB_EXPR_FLOAT &&
            e->kind != SDB_EXPR_STRING && e->kind != SDB_EXPR_BOOL && e->kind != SDB_EXPR_NULL) {
            if ((t = text_of(b, e)) == NULL)
                return NULL;
            for (uint32_t i = 0; i < b->ngroup; i++)
                if (strcmp(t, b->group_text[i]) == 0)
                    return sdb_pexpr_col(b->m, i, b->group_type[i], b->err);
        }
    }
    switch (e->kind) {
    case SDB_EXPR_NULL: return sdb_pexpr_null(b->m, SDB_TYPE_INT64, b->err);
    case SDB_EXPR_BOOL:
        return sdb_pexpr_const(b->m, (sdb_value){.type = SDB_TYPE_BOOL, .u.b = e->v.b}, b->err);
    case SDB_EXPR_INT:
    case SDB_EXPR_INTERVAL: return sdb_pexpr_i64(b->m, e->v.i, b->err);
    case SDB_EXPR_FLOAT: return sdb_pexpr_f64(b->m, e->v.f, b->err);
    case SDB_EXPR_STRING: return sdb_pexpr_str(b->m, e->v.str.s, b->err);
    case SDB_EXPR_TIMESTAMP:
        return sdb_pexpr_const(b->m, (sdb_value){.type = SDB_TYPE_TIMESTAMP, .u.i = e->v.i},
                               b->err);
    case SDB_EXPR_COLUMN:
        if (sc == SCOPE_AGG && !b->in_agg)
            return fail(b, SDB_ERR_SCHEMA, e->pos,
                        "column '%s' must appear in GROUP BY or be used in an aggregate function",
                        e->v.col.name.s);
        return bind_column(b, e);
    case SDB_EXPR_STAR:
        return fail(b, SDB_ERR_SCHEMA, e->pos, "'*' is only allowed alone in the select list");
    case SDB_EXPR_UNARY:
        if ((x = bind(b, e->v.unary.arg, sc)) == NULL)
            return NULL;
        return at(b, sdb_pexpr_make(b->m, e->v.unary.op == SDB_UNOP_NEG ? SDB_PX_NEG : SDB_PX_NOT,
                                    &x, 1, b->err), e->pos);
    case SDB_EXPR_BINARY:
        if ((x = bind(b, e->v.bin.left, sc)) == NULL || (y = bind(b, e->v.bin.right, sc)) == NULL)
            return NULL;
        if (is_cmp(e->v.bin.op) && !fix_time_pair(b, &x, &y, e->pos))
            return NULL;
        return fold(b, at(b, sdb_pexpr_op2(b->m, binop_kind[e->v.bin.op], x, y, b->err), e->pos));
    case SDB_EXPR_IN: {
        uint32_t n = e->v.in.nlist;
        sdb_pexpr **a = sdb_qmem_alloc(b->m, ((size_t)n + 1) * sizeof *a, b->err);
        sdb_pexpr *r;
        if (a == NULL || (a[0] = bind(b, e->v.in.arg, sc)) == NULL)
            return NULL;
        for (uint32_t i = 0; i < n; i++) {
            if (e->v.in.list[i]->depth > 1 && e->v.in.list[i]->kind != SDB_EXPR_UNARY)
                return fail(b, SDB_ERR_SCHEMA, e->v.in.list[i]->pos, "IN takes a list of constants");
            if ((a[i + 1] = bind(b, e->v.in.list[i], sc)) == NULL ||
                !fix_time_pair(b, &a[0], &a[i + 1], e->v.in.list[i]->pos))
                return NULL;
        }
        if ((r = at(b, sdb_pexpr_make(b->m, SDB_PX_IN, a, n + 1, b->err), e->pos)) != NULL)
            r->negate = e->v.in.negated;
        return r;
    }
    case SDB_EXPR_BETWEEN: {
        sdb_pexpr *r;
        if ((args[0] = bind(b, e->v.between.arg, sc)) == NULL ||
            (args[1] = bind(b, e->v.between.lo, sc)) == NULL ||
            (args[2] = bind(b, e->v.between.hi, sc)) == NULL ||
            !fix_time_pair(b, &args[0], &args[1], e->pos) ||
            !fix_time_pair(b, &args[0], &args[2], e->pos))
            return NULL;
        if ((r = at(b, sdb_pexpr_make(b->m, SDB_PX_BETWEEN, args, 3, b->err), e->pos)) != NULL)
            r->negate = e->v.between.negated;
        return r;
    }
    case SDB_EXPR_IS_NULL:
        if ((x = bind(b, e->v.is_null.arg, sc)) == NULL)
            return NULL;
        return at(b, sdb_pexpr_make(b->m, e->v.is_null.negated ? SDB_PX_IS_NOT_NULL : SDB_PX_IS_NULL,
                                    &x, 1, b->err), e->pos);
    case SDB_EXPR_LIKE: {
        sdb_pexpr *r;
        if (e->v.like.pattern->kind != SDB_EXPR_STRING)
            return fail(b, SDB_ERR_SCHEMA, e->v.like.pattern->pos, "LIKE needs a constant pattern");
        if ((args[0] = bind(b, e->v.like.arg, sc)) == NULL ||
            (args[1] = bind(b, e->v.like.pattern, sc)) == NULL)
            return NULL;
        if ((r = at(b, sdb_pexpr_make(b->m, SDB_PX_LIKE, args, 2, b->err), e->pos)) != NULL) {
            r->negate = e->v.like.negated;
            r->ci = e->v.like.icase;
        }
        return r;
    }
    case SDB_EXPR_CASE: return bind_case(b, e, sc);
    case SDB_EXPR_CAST:
        if ((x = bind(b, e->v.cast.arg, sc)) == NULL)
            return NULL;
        return at(b, sdb_pexpr_cast(b->m, x, e->v.cast.type, b->err), e->pos);
    case SDB_EXPR_FUNC: return bind_func(b, e, sc);
    }
    return fail(b, SDB_ERR_MISUSE, e->pos, "unknown expression");
}

/* Does the tree hold an aggregate call? */
static bool has_aggregate(const sdb_expr *e)
{
    const sdb_func_info *f;
    if (e == NULL)
        return false;
    switch (e->kind) {
    case SDB_EXPR_FUNC:
        f = sdb_func_lookup(e->v.func.name.s, e->v.func.name.len);
        if (f != NULL && f->kind == SDB_FUNC_AGGREGATE)
            return true;
        for (uint32_t i = 0; i < e->v.func.nargs; i++)
            if (has_aggregate(e->v.func.args[i]))
                return true;
        return false;
    case SDB_EXPR_UNARY: return has_aggregate(e->v.unary.arg);
    case SDB_EXPR_BINARY: return has_aggregate(e->v.bin.left) || has_aggregate(e->v.bin.right);
    case SDB_EXPR_IN:
        if (has_aggregate(e->v.in.arg))
            return true;
        for (uint32_t i = 0; i < e->v.in.nlist; i++)
            if (has_aggregate(e->v.in.list[i]))
                return true;
        return false;
    case SDB_EXPR_BETWEEN:
        return has_aggregate(e->v.between.arg) || has_aggregate(e->v.between.lo) ||
               has_aggregate(e->v.between.hi);
    case SDB_EXPR_IS_NULL: return has_aggregate(e->v.is_null.arg);
    case SDB_EXPR_LIKE: return has_aggregate(e->v.like.arg) || has_aggregate(e->v.like.pattern);
    case SDB_EXPR_CASE:
        if (has_aggregate(e->v.cas.operand) || has_aggregate(e->v.cas.els))
            return true;
        for (uint32_t i = 0; i < e->v.cas.nwhen; i++)
            if (has_aggregate(e->v.cas.whens[i]) || has_aggregate(e->v.cas.thens[i]))
                return true;
        return false;
    case SDB_EXPR_CAST: return has_aggregate(e->v.cast.arg);
    default: return false;
    }
}

/* The select list with '*' expanded: expressions (NULL for a star column) and names. */
typedef struct item {
    const sdb_expr *expr;  /* NULL: table column `col` */
    uint32_t col;
    const char *name;
    sdb_pos pos;
} item;

/* GROUP BY / ORDER BY may name a select item by 1-based ordinal or by alias. */
static int item_ref(const item *items, uint32_t n, const sdb_expr *e, binder *b, bool *bad)
{
    *bad = false;
    if (e->kind == SDB_EXPR_INT) {
        if (e->v.i < 1 || (uint64_t)e->v.i > n) {
            *bad = true;
            fail(b, SDB_ERR_SCHEMA, e->pos, "%s position %lld is not in the select list (1..%u)",
                 b->clause, (long long)e->v.i, n);
            return -1;
        }
        return (int)(e->v.i - 1);
    }
    if (e->kind == SDB_EXPR_COLUMN && e->v.col.table.len == 0) {
        for (uint32_t i = 0; i < n; i++)
            if (items[i].expr != NULL && items[i].name != NULL &&
                strcmp(items[i].name, e->v.col.name.s) == 0 &&
                !(items[i].expr->kind == SDB_EXPR_COLUMN))
                return (int)i; /* an alias of a computed item */
    }
    return -1;
}

static sdb_rc expand_items(binder *b, const sdb_select *sel, item **out, uint32_t *nout)
{
    uint32_t n = 0;
    item *items;
    for (uint32_t i = 0; i < sel->nitems; i++)
        n += sel->items[i].expr->kind == SDB_EXPR_STAR ? b->snap->ncols : 1;
    if (n == 0)
        return fail(b, SDB_ERR_SCHEMA, sel->pos, "the select list is empty"), b->err->code;
    if (n > MAX_OUT)
        return fail(b, SDB_ERR_LIMIT, sel->pos, "more than %d output columns", MAX_OUT), SDB_ERR_LIMIT;
    if ((items = sdb_qmem_calloc(b->m, n, sizeof *items, b->err)) == NULL)
        return SDB_ERR_NOMEM;
    n = 0;
    for (uint32_t i = 0; i < sel->nitems; i++) {
        const sdb_select_item *it = &sel->items[i];
        if (it->expr->kind == SDB_EXPR_STAR) {
            for (uint32_t c = 0; c < b->snap->ncols; c++) {
                items[n].col = c;
                items[n].name = b->snap->names[c];
                items[n].pos = it->pos;
                n++;
            }
            continue;
        }
        items[n].expr = it->expr;
        items[n].pos = it->pos;
        if (it->alias.len > 0)
            items[n].name = it->alias.s;
        else if (it->expr->kind == SDB_EXPR_COLUMN)
            items[n].name = it->expr->v.col.name.s;
        else if ((items[n].name = text_of(b, it->expr)) == NULL)
            return b->err->code;
        n++;
    }
    *out = items;
    *nout = n;
    return SDB_OK;
}

static sdb_pexpr *bind_item(binder *b, const item *it, scope sc)
{
    if (it->expr == NULL) {
        if (sc == SCOPE_AGG) {
            /* SELECT * with GROUP BY: the column must be a key */
            for (uint32_t i = 0; i < b->ngroup; i++)
                if (strcmp(b->group_text[i], it->name) == 0)
                    return sdb_pexpr_col(b->m, i, b->group_type[i], b->err);
            return fail(b, SDB_ERR_SCHEMA, it->pos,
                        "column '%s' must appear in GROUP BY or be used in an aggregate function",
                        it->name);
        }
        return sdb_pexpr_col(b->m, it->col, b->snap->types[it->col], b->err);
    }
    return bind(b, it->expr, sc);
}

sdb_rc sdb_plan_select(sdb_qmem *m, const sdb_select *sel, const sdb_table_snap *snap,
                       const sdb_plan_opts *opts, sdb_query_spec *spec, sdb_err *err)
{
    binder bd, *b = &bd;
    item *items = NULL;
    uint32_t nitems = 0, nout, norder = sel->norder;
    bool aggregate = sel->ngroup > 0;
    const sdb_pexpr **out;
    const char **names;
    sdb_order *order = NULL;
    scope sc;

    memset(b, 0, sizeof *b);
    b->m = m;
    b->snap = snap;
    b->o = opts;
    b->err = err;
    memset(spec, 0, sizeof *spec);
    spec->snap = snap;
    spec->threads = opts->threads;
    spec->cancel = opts->cancel;

    b->clause = "the select list";
    SDB_TRY(expand_items(b, sel, &items, &nitems));
    for (uint32_t i = 0; i < nitems && !aggregate; i++)
        aggregate = items[i].expr != NULL && has_aggregate(items[i].expr);
    aggregate = aggregate || has_aggregate(sel->having);
    for (uint32_t i = 0; i < sel->norder && !aggregate; i++)
        aggregate = has_aggregate(sel->order_by[i].expr);
    if (sel->having != NULL && !aggregate)
        return fail(b, SDB_ERR_SCHEMA, sel->having->pos,
                    "HAVING needs GROUP BY or an aggregate"), err->code;

    if (sel->where != NULL) {
        sdb_pexpr *w;
        b->clause = "WHERE";
        if ((w = bind(b, sel->where, SCOPE_TABLE)) == NULL)
            return err->code;
        if (w->type != SDB_TYPE_BOOL)
            return fail(b, SDB_ERR_SCHEMA, sel->where->pos, "WHERE needs a condition, got %s",
                        sdb_type_name(w->type)), err->code;
        spec->where = w;
    }

    if (aggregate) {
        const sdb_pexpr **group = NULL;
        spec->aggregate = true;
        b->clause = "GROUP BY";
        if (sel->ngroup > 0) {
            group = sdb_qmem_calloc(m, sel->ngroup, sizeof *group, err);
            b->group_text = sdb_qmem_calloc(m, sel->ngroup, sizeof *b->group_text, err);
            b->group_type = sdb_qmem_calloc(m, sel->ngroup, sizeof *b->group_type, err);
            if (group == NULL || b->group_text == NULL || b->group_type == NULL)
                return err->code;
        }
        for (uint32_t i = 0; i < sel->ngroup; i++) {
            const sdb_expr *g = sel->group_by[i];
            bool bad;
            int ref = item_ref(items, nitems, g, b, &bad);
            sdb_pexpr *p;
            if (bad)
                return err->code;
            if (ref >= 0) {
                if (items[ref].expr != NULL && has_aggregate(items[ref].expr))
                    return fail(b, SDB_ERR_SCHEMA, g->pos,
                                "GROUP BY cannot use the aggregate '%s'", items[ref].name), err->code;
                if (items[ref].expr == NULL) {
                    p = sdb_pexpr_col(m, items[ref].col, snap->types[items[ref].col], err);
                    b->group_text[i] = items[ref].name;
                } else {
                    p = bind(b, items[ref].expr, SCOPE_TABLE);
                    b->group_text[i] = text_of(b, items[ref].expr);
                }
            } else {
                if (has_aggregate(g))
                    return fail(b, SDB_ERR_SCHEMA, g->pos, "GROUP BY cannot use an aggregate"),
                           err->code;
                p = bind(b, g, SCOPE_TABLE);
                b->group_text[i] = text_of(b, g);
            }
            if (p == NULL || b->group_text[i] == NULL)
                return err->code;
            group[i] = p;
            b->group_type[i] = p->type == SDB_TYPE_SYMBOL ? SDB_TYPE_STRING : p->type;
        }
        b->ngroup = sel->ngroup;
        spec->ngroup = sel->ngroup;
        spec->group = group;
        sc = SCOPE_AGG;
    } else {
        sc = SCOPE_TABLE;
    }

    /* outputs: the items, then ORDER BY expressions that are not items (hidden) */
    out = sdb_qmem_calloc(m, (size_t)nitems + norder + 1, sizeof *out, err);
    names = sdb_qmem_calloc(m, (size_t)nitems + norder + 1, sizeof *names, err);
    if (norder > 0)
        order = sdb_qmem_calloc(m, norder, sizeof *order, err);
    if (out == NULL || names == NULL || (norder > 0 && order == NULL))
        return err->code;
    b->clause = "the select list";
    for (uint32_t i = 0; i < nitems; i++) {
        if ((out[i] = bind_item(b, &items[i], sc)) == NULL)
            return err->code;
        names[i] = items[i].name;
    }
    nout = nitems;
    if (sel->having != NULL) {
        sdb_pexpr *h;
        b->clause = "HAVING";
        if ((h = bind(b, sel->having, SCOPE_AGG)) == NULL)
            return err->code;
        if (h->type != SDB_TYPE_BOOL)
            return fail(b, SDB_ERR_SCHEMA, sel->having->pos, "HAVING needs a condition, got %s",
                        sdb_type_name(h->type)), err->code;
        spec->having = h;
    }
    b->clause = "ORDER BY";
    for (uint32_t i = 0; i < norder; i++) {
        const sdb_order_item *oi = &sel->order_by[i];
        bool bad;
        int ref = item_ref(items, nitems, oi->expr, b, &bad);
        if (bad)
            return err->code;
        if (ref < 0 && oi->expr->kind == SDB_EXPR_COLUMN) {
            /* a plain column that is also selected under its own name */
            for (uint32_t k = 0; k < nitems && ref < 0; k++)
                if (items[k].name != NULL && strcmp(items[k].name, oi->expr->v.col.name.s) == 0)
                    ref = (int)k;
        }
        if (ref < 0) {
            sdb_pexpr *p = bind(b, oi->expr, sc);
            if (p == NULL)
                return err->code;
            out[nout] = p;
            names[nout] = "";
            ref = (int)nout++;
        }
        order[i].col = (uint32_t)ref;
        order[i].desc = oi->desc;
        order[i].nulls_first = oi->nulls == SDB_NULLS_FIRST;
    }
    spec->naggs = b->naggs;
    if (b->naggs > 0) {
        sdb_aggspec *aggs = sdb_qmem_calloc(m, b->naggs, sizeof *aggs, err);
        if (aggs == NULL)
            return err->code;
        memcpy(aggs, b->aggs, b->naggs * sizeof *aggs);
        spec->aggs = aggs;
    }
    spec->nout = nout;
    spec->out = out;
    spec->names = names;
    spec->nvisible = nitems;
    spec->norder = norder;
    spec->order = order;
    spec->has_limit = sel->has_limit;
    spec->limit = sel->has_limit ? (uint64_t)sel->limit : 0;
    spec->offset = (uint64_t)sel->offset;
    return SDB_OK;
}
