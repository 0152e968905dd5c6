/* Bound expressions: builders that check and normalise types (inserting casts so that every
 * operator sees operands of one class), and the compiler from a tree to a flat program of
 * steps (expr_int.h). Evaluation is in expr_eval.c. */
#include "query/expr.h"

#include <string.h>

#include "query/expr_int.h"
#include "storage/common/timefmt.h"

static const char *const kind_names[] = {
    [SDB_PX_COL] = "column", [SDB_PX_CONST] = "constant", [SDB_PX_ADD] = "+",
    [SDB_PX_SUB] = "-", [SDB_PX_MUL] = "*", [SDB_PX_DIV] = "/", [SDB_PX_MOD] = "%",
    [SDB_PX_NEG] = "unary -", [SDB_PX_EQ] = "=", [SDB_PX_NE] = "<>", [SDB_PX_LT] = "<",
    [SDB_PX_LE] = "<=", [SDB_PX_GT] = ">", [SDB_PX_GE] = ">=", [SDB_PX_AND] = "and",
    [SDB_PX_OR] = "or", [SDB_PX_NOT] = "not", [SDB_PX_IS_NULL] = "is null",
    [SDB_PX_IS_NOT_NULL] = "is not null", [SDB_PX_IN] = "in", [SDB_PX_BETWEEN] = "between",
    [SDB_PX_LIKE] = "like", [SDB_PX_CASE] = "case", [SDB_PX_CAST] = "cast",
    [SDB_PX_COALESCE] = "coalesce", [SDB_PX_ABS] = "abs", [SDB_PX_ROUND] = "round",
    [SDB_PX_TIME_BUCKET] = "time_bucket", [SDB_PX_DATE_TRUNC] = "date_trunc",
};

const char *sdb_pexpr_kind_name(sdb_pexpr_kind k)
{
    if ((unsigned)k < sizeof kind_names / sizeof kind_names[0] && kind_names[k] != NULL)
        return kind_names[k];
    return "?";
}

static sdb_pexpr *node(sdb_qmem *m, sdb_pexpr_kind kind, sdb_type type, sdb_err *err)
{
    sdb_pexpr *e = sdb_qmem_calloc(m, 1, sizeof *e, err);
    if (e != NULL) {
        e->kind = kind;
        e->type = type;
    }
    return e;
}

sdb_pexpr *sdb_pexpr_col(sdb_qmem *m, uint32_t col, sdb_type type, sdb_err *err)
{
    sdb_pexpr *e;
    if (!sdb_type_valid((int)type))
        return SDB_FAIL(err, SDB_ERR_MISUSE, "column %u has invalid type %d", col, (int)type),
               NULL;
    if ((e = node(m, SDB_PX_COL, type, err)) != NULL)
        e->col = col;
    return e;
}

sdb_pexpr *sdb_pexpr_const(sdb_qmem *m, sdb_value v, sdb_err *err)
{
    sdb_pexpr *e;
    if (!sdb_type_valid((int)v.type))
        return SDB_FAIL(err, SDB_ERR_MISUSE, "constant has invalid type %d", (int)v.type), NULL;
    if (v.type == SDB_TYPE_SYMBOL)
        v.type = SDB_TYPE_STRING;
    if ((e = node(m, SDB_PX_CONST, v.type, err)) == NULL)
        return NULL;
    if (v.type == SDB_TYPE_STRING && !v.null) {
        char *p = sdb_qmem_alloc(m, (size_t)v.u.s.len + 1, err);
        if (p == NULL)
            return NULL;
        if (v.u.s.len > 0)
            memcpy(p, v.u.s.p, v.u.s.len);
        p[v.u.s.len] = '\0';
        v.u.s.p = p;
    }
    e->val = v;
    return e;
}

sdb_pexpr *sdb_pexpr_i64(sdb_qmem *m, int64_t v, sdb_err *err)
{
    sdb_value x = {.type = SDB_TYPE_INT64, .u.i = v};
    return sdb_pexpr_const(m, x, err);
}

sdb_pexpr *sdb_pexpr_f64(sdb_qmem *m, double v, sdb_err *err)
{
    sdb_value x = {.type = SDB_TYPE_FLOAT64, .u.f = v};
    return sdb_pexpr_const(m, x, err);
}

sdb_pexpr *sdb_pexpr_str(sdb_qmem *m, const char *s, sdb_err *err)
{
    sdb_value x = {.type = SDB_TYPE_STRING, .u.s = {s, (uint32_t)strlen(s)}};
    return sdb_pexpr_const(m, x, err);
}

sdb_pexpr *sdb_pexpr_null(sdb_qmem *m, sdb_type type, sdb_err *err)
{
    sdb_value x = {.type = type, .null = true};
    return sdb_pexpr_const(m, x, err);
}

static bool is_num(sdb_type t)
{
    return t == SDB_TYPE_INT64 || t == SDB_TYPE_FLOAT64 || t == SDB_TYPE_TIMESTAMP;
}

static bool is_text(sdb_type t)
{
    return t == SDB_TYPE_STRING || t == SDB_TYPE_SYMBOL;
}

sdb_pexpr *sdb_pexpr_cast(sdb_qmem *m, sdb_pexpr *a, sdb_type to, sdb_err *err)
{
    sdb_pexpr *e;
    if (to == SDB_TYPE_SYMBOL)
        to = SDB_TYPE_STRING;
    if (a->type == to)
        return a;
    if (a->kind == SDB_PX_CONST && a->val.null) {
        sdb_value v = {.type = to, .null = true};
        return sdb_pexpr_const(m, v, err);
    }
    if (a->kind == SDB_PX_CONST) {
        /* fold the conversions that cannot fail or that a planner relies on for pruning */
        sdb_value v = a->val;
        bool folded = true;
        if (sdb_type_is_i64(a->type) && sdb_type_is_i64(to))
            v.type = to;
        else if (sdb_type_is_i64(a->type) && to == SDB_TYPE_FLOAT64)
            v.u.f = (double)v.u.i;
        else if (a->type == SDB_TYPE_BOOL && sdb_type_is_i64(to))
            v.u.i = v.u.b;
        else if (a->type == SDB_TYPE_STRING && to == SDB_TYPE_TIMESTAMP) {
            if (sdb_time_parse(v.u.s.p, v.u.s.len, &v.u.i, NULL) != SDB_OK)
                return SDB_FAIL(err, SDB_ERR_PARSE, "'%.*s' is not a timestamp "
                                "(YYYY-MM-DD[THH:MM:SS[.fraction]][Z|+HH:MM])",
                                (int)(v.u.s.len > 64 ? 64 : v.u.s.len), v.u.s.p), NULL;
        } else
            folded = false;
        if (folded) {
            v.type = to;
            return sdb_pexpr_const(m, v, err);
        }
    }
    if (a->type == SDB_TYPE_SYMBOL && to != SDB_TYPE_STRING) {
        if ((a = sdb_pexpr_cast(m, a, SDB_TYPE_STRING, err)) == NULL)
            return NULL;
    }
    if ((e = node(m, SDB_PX_CAST, to, err)) == NULL)
        return NULL;
    if ((e->args = sdb_qmem_alloc(m, sizeof *e->args, err)) == NULL)
        return NULL;
    e->args[0] = a;
    e->nargs = 1;
    return e;
}

static sdb_pexpr *type_error(sdb_pexpr_kind k, sdb_pexpr **args, uint32_t nargs, sdb_err *err)
{
    if (nargs >= 2)
        SDB_FAIL(err, SDB_ERR_SCHEMA, "operator %s cannot take %s and %s",
                 sdb_pexpr_kind_name(k), sdb_type_name(args[0]->type),
                 sdb_type_name(args[1]->type));
    else if (nargs == 1)
        SDB_FAIL(err, SDB_ERR_SCHEMA, "%s cannot take %s", sdb_pexpr_kind_name(k),
                 sdb_type_name(args[0]->type));
    else
        SDB_FAIL(err, SDB_ERR_SCHEMA, "%s needs arguments", sdb_pexpr_kind_name(k));
    return NULL;
}

/* The type both sides of a comparison (or the items of IN, branches of CASE) are brought
 * to; 0 when they cannot meet. */
static sdb_type common_type(sdb_type a, sdb_type b)
{
    if (a == b)
        return a;
    if (is_text(a) && is_text(b))
        return SDB_TYPE_STRING;
    if ((a == SDB_TYPE_TIMESTAMP && b == SDB_TYPE_INT64) ||
        (b == SDB_TYPE_TIMESTAMP && a == SDB_TYPE_INT64))
        return SDB_TYPE_TIMESTAMP;
    if (is_num(a) && is_num(b))
        return SDB_TYPE_FLOAT64;
    if ((a == SDB_TYPE_BOOL && b == SDB_TYPE_INT64) || (b == SDB_TYPE_BOOL && a == SDB_TYPE_INT64))
        return SDB_TYPE_INT64;
    return (sdb_type)0;
}

/* Bring args[i] to type t (a NULL constant of any type converts). */
static bool coerce(sdb_qmem *m, sdb_pexpr **slot, sdb_type t, sdb_err *err)
{
    sdb_pexpr *a = *slot;
    if (a->type == t)
        return true;
    if (a->type == SDB_TYPE_SYMBOL && t == SDB_TYPE_STRING && a->kind != SDB_PX_CONST) {
        return (*slot = sdb_pexpr_cast(m, a, t, err)) != NULL;
    }
    return (*slot = sdb_pexpr_cast(m, a, t, err)) != NULL;
}

static bool is_null_const(const sdb_pexpr *e)
{
    return e->kind == SDB_PX_CONST && e->val.null;
}

sdb_pexpr *sdb_pexpr_make(sdb_qmem *m, sdb_pexpr_kind k, sdb_pexpr **in, uint32_t nargs,
                          sdb_err *err)
{
    sdb_pexpr *e;
    sdb_pexpr **args;
    sdb_type t = (sdb_type)0;
    uint32_t i;

    if (nargs == 0 || k == SDB_PX_COL || k == SDB_PX_CONST)
        return type_error(k, in, nargs, err);
    if ((args = sdb_qmem_alloc(m, nargs * sizeof *args, err)) == NULL)
        return NULL;
    memcpy(args, in, nargs * sizeof *args);

    switch (k) {
    case SDB_PX_ADD: case SDB_PX_SUB: case SDB_PX_MUL: case SDB_PX_DIV: case SDB_PX_MOD: {
        sdb_type a, b;
        if (nargs != 2)
            return type_error(k, args, nargs, err);
        a = args[0]->type;
        b = args[1]->type;
        if (is_null_const(args[0]))
            a = b;
        if (is_null_const(args[1]))
            b = a;
        if (!is_num(a) || !is_num(b))
            return type_error(k, args, nargs, err);
        if (a == SDB_TYPE_FLOAT64 || b == SDB_TYPE_FLOAT64)
            t = SDB_TYPE_FLOAT64;
        else if ((a == SDB_TYPE_TIMESTAMP) != (b == SDB_TYPE_TIMESTAMP) &&
                 (k == SDB_PX_ADD || (k == SDB_PX_SUB && a == SDB_TYPE_TIMESTAMP)))
            t = SDB_TYPE_TIMESTAMP; /* ts + n, n + ts, ts - n */
        else
            t = SDB_TYPE_INT64; /* ts - ts is a duration in ns */
        if (t == SDB_TYPE_FLOAT64) {
            if (!coerce(m, &args[0], t, err) || !coerce(m, &args[1], t, err))
                return NULL;
        } else {
            for (i = 0; i < 2; i++)
                if (is_null_const(args[i]) && !coerce(m, &args[i], SDB_TYPE_INT64, err))
                    return NULL;
        }
        break;
    }
    case SDB_PX_NEG: case SDB_PX_ABS:
        if (nargs != 1 || !(is_num(args[0]->type) || is_null_const(args[0])))
            return type_error(k, args, nargs, err);
        if (is_null_const(args[0]) && !coerce(m, &args[0], SDB_TYPE_INT64, err))
            return NULL;
        t = args[0]->type == SDB_TYPE_TIMESTAMP ? SDB_TYPE_INT64 : args[0]->type;
        break;
    case SDB_PX_EQ: case SDB_PX_NE: case SDB_PX_LT: case SDB_PX_LE: case SDB_PX_GT:
    case SDB_PX_GE: {
        sdb_type a, b, c;
        if (nargs != 2)
            return type_error(k, args, nargs, err);
        a = is_null_const(args[0]) ? args[1]->type : args[0]->type;
        b = is_null_const(args[1]) ? args[0]->type : args[1]->type;
        /* symbol = 'const' keeps the symbol: it compiles to a code comparison */
        if ((k == SDB_PX_EQ || k == SDB_PX_NE) && a == SDB_TYPE_SYMBOL &&
            args[1]->kind == SDB_PX_CONST && args[1]->type == SDB_TYPE_STRING) {
            t = SDB_TYPE_BOOL;
            break;
        }
        if ((k == SDB_PX_EQ || k == SDB_PX_NE) && b == SDB_TYPE_SYMBOL &&
            args[0]->kind == SDB_PX_CONST && args[0]->type == SDB_TYPE_STRING) {
            sdb_pexpr *tmp = args[0];
            args[0] = args[1];
            args[1] = tmp;
            t = SDB_TYPE_BOOL;
            break;
        }
        if ((c = common_type(a, b)) == 0) {
            /* time compared with an ISO-8601 string constant */
            if ((a == SDB_TYPE_TIMESTAMP && args[1]->kind == SDB_PX_CONST && b == SDB_TYPE_STRING) ||
                (b == SDB_TYPE_TIMESTAMP && args[0]->kind == SDB_PX_CONST && a == SDB_TYPE_STRING))
                c = SDB_TYPE_TIMESTAMP;
            else
                return type_error(k, args, nargs, err);
        }
        if (c == SDB_TYPE_BOOL)
            c = SDB_TYPE_INT64;
        if (c == SDB_TYPE_SYMBOL) /* two symbol columns: codes of different dictionaries */
            c = SDB_TYPE_STRING;
        if (!coerce(m, &args[0], c, err) || !coerce(m, &args[1], c, err))
            return NULL;
        t = SDB_TYPE_BOOL;
        break;
    }
    case SDB_PX_AND: case SDB_PX_OR: case SDB_PX_NOT:
        if (nargs != (k == SDB_PX_NOT ? 1u : 2u))
            return type_error(k, args, nargs, err);
        for (i = 0; i < nargs; i++) {
            if (is_null_const(args[i]) && !coerce(m, &args[i], SDB_TYPE_BOOL, err))
                return NULL;
            if (args[i]->type != SDB_TYPE_BOOL)
                return type_error(k, args, nargs, err);
        }
        t = SDB_TYPE_BOOL;
        break;
    case SDB_PX_IS_NULL: case SDB_PX_IS_NOT_NULL:
        if (nargs != 1)
            return type_error(k, args, nargs, err);
        t = SDB_TYPE_BOOL;
        break;
    case SDB_PX_IN: {
        sdb_type c = args[0]->type;
        if (nargs < 2)
            return type_error(k, args, nargs, err);
        for (i = 1; i < nargs; i++) {
            if (args[i]->kind != SDB_PX_CONST)
                return SDB_FAIL(err, SDB_ERR_SCHEMA, "in: list items must be constants"), NULL;
        }
        if (c == SDB_TYPE_SYMBOL) {
            for (i = 1; i < nargs; i++)
                if (!is_null_const(args[i]) && args[i]->type != SDB_TYPE_STRING)
                    return type_error(k, (sdb_pexpr *[]){args[0], args[i]}, 2, err);
            t = SDB_TYPE_BOOL;
            break;
        }
        for (i = 1; i < nargs; i++) {
            sdb_type ct;
            if (is_null_const(args[i]))
                continue;
            if ((ct = common_type(c, args[i]->type)) == 0)
                return type_error(k, (sdb_pexpr *[]){args[0], args[i]}, 2, err);
            c = ct;
        }
        if (c == SDB_TYPE_BOOL)
            c = SDB_TYPE_INT64;
        for (i = 0; i < nargs; i++)
            if (!coerce(m, &args[i], c, err))
                return NULL;
        for (i = 1; i < nargs; i++)
            if (args[i]->kind != SDB_PX_CONST)
                return SDB_FAIL(err, SDB_ERR_SCHEMA, "in: list items must be constants"), NULL;
        t = SDB_TYPE_BOOL;
        break;
    }
    case SDB_PX_BETWEEN: {
        sdb_pexpr *lo, *hi, *both;
        if (nargs != 3)
            return type_error(k, args, nargs, err);
        if ((lo = sdb_pexpr_op2(m, SDB_PX_GE, args[0], args[1], err)) == NULL ||
            (hi = sdb_pexpr_op2(m, SDB_PX_LE, args[0], args[2], err)) == NULL ||
            (both = sdb_pexpr_op2(m, SDB_PX_AND, lo, hi, err)) == NULL)
            return NULL;
        /* keep the BETWEEN node for pruning; it evaluates as its AND (args[3]) */
        if ((e = node(m, SDB_PX_BETWEEN, SDB_TYPE_BOOL, err)) == NULL)
            return NULL;
        if ((e->args = sdb_qmem_alloc(m, 4 * sizeof *e->args, err)) == NULL)
            return NULL;
        memcpy(e->args, args, 3 * sizeof *args);
        e->args[3] = both;
        e->nargs = 4;
        return e;
    }
    case SDB_PX_LIKE:
        if (nargs != 2 || args[1]->kind != SDB_PX_CONST || !is_text(args[1]->type) ||
            !(is_text(args[0]->type) || is_null_const(args[0])))
            return type_error(k, args, nargs, err);
        if (!coerce(m, &args[0], SDB_TYPE_STRING, err))
            return NULL;
        t = SDB_TYPE_BOOL;
        break;
    case SDB_PX_CASE: case SDB_PX_COALESCE: {
        uint32_t first = k == SDB_PX_CASE ? 1 : 0, step_n = k == SDB_PX_CASE ? 2 : 1;
        if (k == SDB_PX_CASE && nargs < 2)
            return type_error(k, args, nargs, err);
        /* the value positions: odd indexes (and the last when nargs is odd) for CASE */
        for (i = first; i < nargs; i += step_n) {
            sdb_type vt = args[i]->type;
            if (is_null_const(args[i]))
                continue;
            if (vt == SDB_TYPE_SYMBOL)
                vt = SDB_TYPE_STRING;
            t = t == 0 ? vt : common_type(t, vt);
            if (t == 0)
                return SDB_FAIL(err, SDB_ERR_SCHEMA, "%s: branches of types %s and %s do not mix",
                                sdb_pexpr_kind_name(k), sdb_type_name(args[first]->type),
                                sdb_type_name(args[i]->type)), NULL;
        }
        if (k == SDB_PX_CASE && (nargs & 1)) {
            sdb_type vt = args[nargs - 1]->type;
            if (vt == SDB_TYPE_SYMBOL)
                vt = SDB_TYPE_STRING;
            sdb_type bt = t;
            if (!is_null_const(args[nargs - 1]))
                t = t == 0 ? vt : common_type(t, vt);
            if (t == 0)
                return SDB_FAIL(err, SDB_ERR_SCHEMA,
                                "case: ELSE of type %s does not mix with THEN of type %s",
                                sdb_type_name(args[nargs - 1]->type), sdb_type_name(bt)), NULL;
        }
        if (t == 0)
            t = SDB_TYPE_INT64;
        for (i = 0; i < nargs; i++) {
            bool is_val = k == SDB_PX_COALESCE || (i & 1) || i == nargs - 1;
            bool is_cond = k == SDB_PX_CASE && !(i & 1) && !(i == nargs - 1 && (nargs & 1));
            if (is_cond) {
                if (is_null_const(args[i]) && !coerce(m, &args[i], SDB_TYPE_BOOL, err))
                    return NULL;
                if (args[i]->type != SDB_TYPE_BOOL)
                    return SDB_FAIL(err, SDB_ERR_SCHEMA, "case: condition is %s, not bool",
                                    sdb_type_name(args[i]->type)), NULL;
            } else if (is_val && !coerce(m, &args[i], t, err)) {
                return NULL;
            }
        }
        break;
    }
    case SDB_PX_CAST:
        return type_error(k, args, nargs, err); /* use sdb_pexpr_cast */
    case SDB_PX_ROUND:
        if (nargs < 1 || nargs > 2 || !(is_num(args[0]->type) || is_null_const(args[0])) ||
            args[0]->type == SDB_TYPE_TIMESTAMP)
            return type_error(k, args, nargs, err);
        if (nargs == 2 && (args[1]->kind != SDB_PX_CONST || args[1]->type != SDB_TYPE_INT64 ||
                           args[1]->val.null))
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "round: digits must be an integer constant"),
                   NULL;
        if (is_null_const(args[0]) && !coerce(m, &args[0], SDB_TYPE_FLOAT64, err))
            return NULL;
        t = args[0]->type;
        break;
    case SDB_PX_TIME_BUCKET:
        if (nargs != 2 || args[0]->kind != SDB_PX_CONST || args[0]->type != SDB_TYPE_INT64 ||
            args[0]->val.null || args[0]->val.u.i <= 0)
            return SDB_FAIL(err, SDB_ERR_SCHEMA,
                            "time_bucket: the interval must be a positive constant"), NULL;
        if (!coerce(m, &args[1], SDB_TYPE_TIMESTAMP, err))
            return NULL;
        t = SDB_TYPE_TIMESTAMP;
        break;
    case SDB_PX_DATE_TRUNC: {
        sdb_time_unit u;
        if (nargs != 2 || args[0]->kind != SDB_PX_CONST || args[0]->type != SDB_TYPE_STRING ||
            args[0]->val.null)
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "date_trunc: the unit must be a string constant"),
                   NULL;
        if (!sdb_time_unit_parse(args[0]->val.u.s.p, args[0]->val.u.s.len, &u))
            return SDB_FAIL(err, SDB_ERR_PARSE,
                            "date_trunc: unknown unit '%.*s' (second, minute, hour, day, week, "
                            "month, year)", (int)args[0]->val.u.s.len, args[0]->val.u.s.p), NULL;
        if (!coerce(m, &args[1], SDB_TYPE_TIMESTAMP, err))
            return NULL;
        t = SDB_TYPE_TIMESTAMP;
        break;
    }
    default:
        return type_error(k, args, nargs, err);
    }
    if ((e = node(m, k, t, err)) == NULL)
        return NULL;
    e->args = args;
    e->nargs = nargs;
    e->has_else = k == SDB_PX_CASE && (nargs & 1);
    return e;
}

sdb_pexpr *sdb_pexpr_op2(sdb_qmem *m, sdb_pexpr_kind kind, sdb_pexpr *a, sdb_pexpr *b,
                         sdb_err *err)
{
    sdb_pexpr *args[2] = {a, b};
    return sdb_pexpr_make(m, kind, args, 2, err);
}

/* ---- compile ---- */

typedef struct compiler {
    sdb_qmem *m;
    step *steps;
    uint32_t n, cap;
    sdb_err *err;
} compiler;

static int64_t emit(compiler *c, const step *s)
{
    if (c->n == c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 16;
        step *ns = sdb_qmem_alloc(c->m, ncap * sizeof *ns, c->err);
        if (ns == NULL)
            return -1;
        if (c->n > 0)
            memcpy(ns, c->steps, c->n * sizeof *ns);
        c->steps = ns;
        c->cap = ncap;
    }
    c->steps[c->n] = *s;
    return c->n++;
}

static int64_t comp(compiler *c, const sdb_pexpr *e);

static bool const_list(compiler *c, const sdb_pexpr *e, step *s)
{
    uint32_t i;
    if ((s->list = sdb_qmem_alloc(c->m, (e->nargs - 1) * sizeof *s->list, c->err)) == NULL)
        return false;
    for (i = 1; i < e->nargs; i++) {
        if (e->args[i]->val.null)
            s->list_null = true;
        else
            s->list[s->nlist++] = e->args[i]->val;
    }
    return true;
}

static int64_t comp(compiler *c, const sdb_pexpr *e)
{
    step s;
    int64_t r;
    uint32_t i;
    memset(&s, 0, sizeof s);
    s.type = e->type;
    s.kind = e->kind;
    switch (e->kind) {
    case SDB_PX_COL:
        s.op = ST_COL;
        s.col = e->col;
        return emit(c, &s);
    case SDB_PX_CONST:
        s.op = ST_CONST;
        s.val = e->val;
        return emit(c, &s);
    case SDB_PX_BETWEEN: {
        int64_t x = comp(c, e->args[3]);
        if (x < 0 || !e->negate)
            return x;
        s.op = ST_NOT;
        s.a = (uint32_t)x;
        return emit(c, &s);
    }
    default:
        break;
    }
    /* LIKE and range comparisons of a symbol with a constant: once per dictionary entry */
    if ((e->kind == SDB_PX_LIKE || (e->kind >= SDB_PX_LT && e->kind <= SDB_PX_GE)) &&
        e->nargs == 2 && e->args[0]->kind == SDB_PX_CAST &&
        e->args[0]->args[0]->type == SDB_TYPE_SYMBOL && e->args[1]->kind == SDB_PX_CONST &&
        !e->args[1]->val.null && e->args[1]->type == SDB_TYPE_STRING) {
        if ((r = comp(c, e->args[0]->args[0])) < 0)
            return -1;
        s.op = ST_SYMMAP;
        s.a = (uint32_t)r;
        s.in_type = SDB_TYPE_SYMBOL;
        s.val = e->args[1]->val;
        s.negate = e->kind == SDB_PX_LIKE && e->negate;
        s.ci = e->ci;
        return emit(c, &s);
    }
    /* symbol comparisons with constants */
    if ((e->kind == SDB_PX_EQ || e->kind == SDB_PX_NE || e->kind == SDB_PX_IN) &&
        e->args[0]->type == SDB_TYPE_SYMBOL) {
        if ((r = comp(c, e->args[0])) < 0)
            return -1;
        s.op = ST_SYMCMP;
        s.a = (uint32_t)r;
        s.in_type = SDB_TYPE_SYMBOL;
        s.negate = e->kind == SDB_PX_NE || (e->kind == SDB_PX_IN && e->negate);
        if (!const_list(c, e, &s))
            return -1;
        return emit(c, &s);
    }
    for (i = 0; i < e->nargs; i++) {
        if (e->kind == SDB_PX_IN && i > 0)
            break;
        if (e->kind == SDB_PX_LIKE && i > 0)
            break;
        if ((e->kind == SDB_PX_TIME_BUCKET || e->kind == SDB_PX_DATE_TRUNC) && i == 0)
            continue;
        if (e->kind == SDB_PX_ROUND && i == 1)
            break;
        if ((r = comp(c, e->args[i])) < 0)
            return -1;
        if (i == 0 || e->kind == SDB_PX_TIME_BUCKET || e->kind == SDB_PX_DATE_TRUNC)
            s.a = (uint32_t)r;
        else
            s.b = (uint32_t)r;
        if (e->kind == SDB_PX_CASE || e->kind == SDB_PX_COALESCE) {
            if (s.args == NULL &&
                (s.args = sdb_qmem_alloc(c->m, e->nargs * sizeof *s.args, c->err)) == NULL)
                return -1;
            s.args[i] = (uint32_t)r;
        }
    }
    s.in_type = e->nargs > 0 ? e->args[0]->type : e->type;
    switch (e->kind) {
    case SDB_PX_ADD: case SDB_PX_SUB: case SDB_PX_MUL: case SDB_PX_DIV: case SDB_PX_MOD:
        s.op = ST_ARITH;
        s.in_type = e->type == SDB_TYPE_FLOAT64 ? SDB_TYPE_FLOAT64 : SDB_TYPE_INT64;
        break;
    case SDB_PX_NEG: s.op = ST_NEG; break;
    case SDB_PX_ABS: s.op = ST_ABS; break;
    case SDB_PX_EQ: case SDB_PX_NE: case SDB_PX_LT: case SDB_PX_LE: case SDB_PX_GT:
    case SDB_PX_GE:
        s.op = ST_CMP;
        break;
    case SDB_PX_AND: s.op = ST_AND; break;
    case SDB_PX_OR: s.op = ST_OR; break;
    case SDB_PX_NOT: s.op = ST_NOT; break;
    case SDB_PX_IS_NULL: s.op = ST_ISNULL; break;
    case SDB_PX_IS_NOT_NULL: s.op = ST_ISNULL; s.negate = true; break;
    case SDB_PX_IN:
        s.op = ST_IN;
        s.negate = e->negate;
        if (!const_list(c, e, &s))
            return -1;
        break;
    case SDB_PX_LIKE:
        s.op = ST_LIKE;
        s.negate = e->negate;
        s.ci = e->ci;
        s.val = e->args[1]->val;
        break;
    case SDB_PX_CASE:
        s.op = ST_CASE;
        s.nargs = e->nargs;
        s.has_else = e->has_else;
        break;
    case SDB_PX_COALESCE:
        s.op = ST_COALESCE;
        s.nargs = e->nargs;
        break;
    case SDB_PX_CAST: s.op = ST_CAST; break;
    case SDB_PX_ROUND:
        s.op = ST_ROUND;
        s.val.u.i = e->nargs == 2 ? e->args[1]->val.u.i : 0;
        break;
    case SDB_PX_TIME_BUCKET:
        s.op = ST_TBUCKET;
        s.val.u.i = e->args[0]->val.u.i;
        break;
    case SDB_PX_DATE_TRUNC: {
        sdb_time_unit u = SDB_TU_SECOND;
        (void)sdb_time_unit_parse(e->args[0]->val.u.s.p, e->args[0]->val.u.s.len, &u);
        s.op = ST_DTRUNC;
        s.unit = (int)u;
        break;
    }
    default:
        return SDB_FAIL(c->err, SDB_ERR_MISUSE, "cannot compile %s", sdb_pexpr_kind_name(e->kind)),
               -1;
    }
    return emit(c, &s);
}

sdb_rc sdb_prog_compile(sdb_qmem *m, const sdb_pexpr *e, sdb_prog **out, sdb_err *err)
{
    compiler c = {.m = m, .err = err};
    sdb_prog *p = sdb_qmem_calloc(m, 1, sizeof *p, err);
    if (p == NULL)
        return err->code;
    if (comp(&c, e) < 0)
        return err->code;
    p->steps = c.steps;
    p->nsteps = c.n;
    p->type = e->type;
    /* filter fast paths: column <op> constant */
    if (e->nargs == 2 && e->kind >= SDB_PX_EQ && e->kind <= SDB_PX_GE &&
        e->args[0]->kind == SDB_PX_COL && e->args[1]->kind == SDB_PX_CONST &&
        !e->args[1]->val.null) {
        sdb_type t = e->args[0]->type;
        p->fcol = e->args[0]->col;
        p->fop = e->kind;
        p->fval = e->args[1]->val;
        if (sdb_type_is_i64(t) && sdb_type_is_i64(e->args[1]->type))
            p->fast = FAST_I64;
        else if (t == SDB_TYPE_FLOAT64 && e->args[1]->type == SDB_TYPE_FLOAT64)
            p->fast = FAST_F64;
        else if (t == SDB_TYPE_SYMBOL && (e->kind == SDB_PX_EQ || e->kind == SDB_PX_NE))
            p->fast = FAST_SYM;
    }
    if ((e->kind == SDB_PX_IS_NULL || e->kind == SDB_PX_IS_NOT_NULL) && e->nargs == 1 &&
        e->args[0]->kind == SDB_PX_COL) {
        p->fcol = e->args[0]->col;
        p->fop = e->kind;
        p->fast = FAST_NULL;
    }
    *out = p;
    return SDB_OK;
}

sdb_type sdb_prog_type(const sdb_prog *p)
{
    return p->type;
}
