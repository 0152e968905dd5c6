/* AST constructors (arena-backed, depth-tracked) and the canonical SQL printer. The printer
 * adds parentheses only where precedence requires them, so that printing, parsing and
 * printing again yields the same text. */
#include "query/ast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/timefmt.h"

/* Precedence of things tighter than any operator: literals, columns, calls, CASE, CAST. */
#define PREC_ATOM 8
#define PREC_NEG  7
#define PREC_CMP  4
#define PREC_NOT  3

sdb_expr *sdb_ast_node(sdb_arena *a, sdb_expr_kind kind, sdb_pos pos, sdb_err *err)
{
    sdb_expr *e = sdb_arena_calloc(a, 1, sizeof *e, err);
    if (e != NULL) {
        e->kind = kind;
        e->pos = pos;
        e->depth = 1;
    }
    return e;
}

sdb_expr *sdb_ast_leaf(sdb_arena *a, sdb_expr_kind kind, sdb_pos pos, sdb_err *err)
{
    return sdb_ast_node(a, kind, pos, err);
}

static unsigned child_depth(const sdb_expr *c)
{
    return c != NULL ? c->depth : 0;
}

static unsigned list_depth(sdb_expr *const *list, uint32_t n)
{
    unsigned d = 0;
    for (uint32_t i = 0; i < n; i++)
        if (child_depth(list[i]) > d)
            d = child_depth(list[i]);
    return d;
}

static unsigned max2(unsigned x, unsigned y)
{
    return x > y ? x : y;
}

sdb_rc sdb_ast_fix_depth(sdb_expr *e, sdb_err *err)
{
    unsigned d = 0;
    switch (e->kind) {
    case SDB_EXPR_UNARY: d = child_depth(e->v.unary.arg); break;
    case SDB_EXPR_BINARY: d = max2(child_depth(e->v.bin.left), child_depth(e->v.bin.right)); break;
    case SDB_EXPR_IN:
        d = max2(child_depth(e->v.in.arg), list_depth(e->v.in.list, e->v.in.nlist));
        break;
    case SDB_EXPR_BETWEEN:
        d = max2(child_depth(e->v.between.arg),
                 max2(child_depth(e->v.between.lo), child_depth(e->v.between.hi)));
        break;
    case SDB_EXPR_IS_NULL: d = child_depth(e->v.is_null.arg); break;
    case SDB_EXPR_LIKE: d = max2(child_depth(e->v.like.arg), child_depth(e->v.like.pattern)); break;
    case SDB_EXPR_CASE:
        d = max2(child_depth(e->v.cas.operand), child_depth(e->v.cas.els));
        d = max2(d, list_depth(e->v.cas.whens, e->v.cas.nwhen));
        d = max2(d, list_depth(e->v.cas.thens, e->v.cas.nwhen));
        break;
    case SDB_EXPR_CAST: d = child_depth(e->v.cast.arg); break;
    case SDB_EXPR_FUNC: d = list_depth(e->v.func.args, e->v.func.nargs); break;
    default: break;
    }
    if (d + 1 > SDB_AST_MAX_DEPTH)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "expression at %u:%u is nested deeper than %d levels",
                        e->pos.line, e->pos.col, SDB_AST_MAX_DEPTH);
    e->depth = (uint16_t)(d + 1);
    return SDB_OK;
}

sdb_expr *sdb_ast_unary(sdb_arena *a, sdb_unop op, sdb_expr *arg, sdb_pos pos, sdb_err *err)
{
    sdb_expr *e = sdb_ast_node(a, SDB_EXPR_UNARY, pos, err);
    if (e == NULL)
        return NULL;
    e->v.unary.op = op;
    e->v.unary.arg = arg;
    return sdb_ast_fix_depth(e, err) == SDB_OK ? e : NULL;
}

sdb_expr *sdb_ast_binary(sdb_arena *a, sdb_binop op, sdb_expr *left, sdb_expr *right, sdb_pos pos,
                         sdb_err *err)
{
    sdb_expr *e = sdb_ast_node(a, SDB_EXPR_BINARY, pos, err);
    if (e == NULL)
        return NULL;
    e->v.bin.op = op;
    e->v.bin.left = left;
    e->v.bin.right = right;
    return sdb_ast_fix_depth(e, err) == SDB_OK ? e : NULL;
}

sdb_rc sdb_ast_str(sdb_arena *a, const char *s, size_t n, sdb_text *out, sdb_err *err)
{
    char *p = sdb_arena_strndup(a, s, n, err);
    if (p == NULL)
        return err != NULL ? err->code : SDB_ERR_NOMEM;
    out->s = p;
    out->len = (uint32_t)n;
    return SDB_OK;
}

const char *sdb_binop_name(sdb_binop op)
{
    switch (op) {
    case SDB_BINOP_ADD: return "+";
    case SDB_BINOP_SUB: return "-";
    case SDB_BINOP_MUL: return "*";
    case SDB_BINOP_DIV: return "/";
    case SDB_BINOP_MOD: return "%";
    case SDB_BINOP_EQ: return "=";
    case SDB_BINOP_NE: return "!=";
    case SDB_BINOP_LT: return "<";
    case SDB_BINOP_LE: return "<=";
    case SDB_BINOP_GT: return ">";
    case SDB_BINOP_GE: return ">=";
    case SDB_BINOP_AND: return "AND";
    case SDB_BINOP_OR: return "OR";
    }
    return "?";
}

int sdb_binop_prec(sdb_binop op)
{
    switch (op) {
    case SDB_BINOP_OR: return 1;
    case SDB_BINOP_AND: return 2;
    case SDB_BINOP_EQ:
    case SDB_BINOP_NE:
    case SDB_BINOP_LT:
    case SDB_BINOP_LE:
    case SDB_BINOP_GT:
    case SDB_BINOP_GE: return PREC_CMP;
    case SDB_BINOP_ADD:
    case SDB_BINOP_SUB: return 5;
    case SDB_BINOP_MUL:
    case SDB_BINOP_DIV:
    case SDB_BINOP_MOD: return 6;
    }
    return PREC_ATOM;
}

static bool is_negative_literal(const sdb_expr *e)
{
    return (e->kind == SDB_EXPR_INT && e->v.i < 0) ||
           (e->kind == SDB_EXPR_FLOAT && signbit(e->v.f));
}

static int expr_prec(const sdb_expr *e)
{
    switch (e->kind) {
    case SDB_EXPR_BINARY: return sdb_binop_prec(e->v.bin.op);
    case SDB_EXPR_UNARY: return e->v.unary.op == SDB_UNOP_NOT ? PREC_NOT : PREC_NEG;
    case SDB_EXPR_IN:
    case SDB_EXPR_BETWEEN:
    case SDB_EXPR_IS_NULL:
    case SDB_EXPR_LIKE: return PREC_CMP;
    case SDB_EXPR_INT:
    case SDB_EXPR_FLOAT: return is_negative_literal(e) ? PREC_NEG : PREC_ATOM;
    default: return PREC_ATOM;
    }
}

bool sdb_ast_ident_is_bare(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || ch == '_' || ch >= 0x80 ||
                  (i > 0 && ((ch >= '0' && ch <= '9') || ch == '$'));
        if (!ok)
            return false;
    }
    return sdb_keyword_lookup(s, len) == SDB_KW_NONE;
}

typedef struct printer {
    sdb_buf *out;
    sdb_err *err;
} printer;

static sdb_rc put(printer *p, const char *s)
{
    return sdb_buf_append(p->out, s, strlen(s), p->err);
}

static sdb_rc put_ident(printer *p, sdb_text id)
{
    if (sdb_ast_ident_is_bare(id.s, id.len))
        return sdb_buf_append(p->out, id.s, id.len, p->err);
    SDB_TRY(put(p, "\""));
    for (uint32_t i = 0; i < id.len; i++) {
        if (id.s[i] == '"')
            SDB_TRY(put(p, "\""));
        SDB_TRY(sdb_buf_append(p->out, id.s + i, 1, p->err));
    }
    return put(p, "\"");
}

static sdb_rc put_string(printer *p, const char *s, size_t len)
{
    size_t start = 0;
    SDB_TRY(put(p, "'"));
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'') {
            SDB_TRY(sdb_buf_append(p->out, s + start, i + 1 - start, p->err));
            start = i; /* the quote goes out twice */
        }
    }
    SDB_TRY(sdb_buf_append(p->out, s + start, len - start, p->err));
    return put(p, "'");
}

static sdb_rc put_float(printer *p, double f)
{
    char tmp[40];
    /* the shortest precision that reads back to the same double */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    if (strpbrk(tmp, ".eEn") == NULL)
        strcat(tmp, ".0");
    return put(p, tmp);
}

static sdb_rc print_expr(printer *p, const sdb_expr *e, int min_prec, unsigned depth);

static sdb_rc print_list(printer *p, sdb_expr *const *list, uint32_t n, unsigned depth)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            SDB_TRY(put(p, ", "));
        SDB_TRY(print_expr(p, list[i], 0, depth));
    }
    return SDB_OK;
}

static sdb_rc print_inner(printer *p, const sdb_expr *e, unsigned depth)
{
    char tmp[64];
    switch (e->kind) {
    case SDB_EXPR_NULL: return put(p, "NULL");
    case SDB_EXPR_BOOL: return put(p, e->v.b ? "TRUE" : "FALSE");
    case SDB_EXPR_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)e->v.i); return put(p, tmp);
    case SDB_EXPR_FLOAT: return put_float(p, e->v.f);
    case SDB_EXPR_STRING: return put_string(p, e->v.str.s, e->v.str.len);
    case SDB_EXPR_TIMESTAMP:
        SDB_TRY(put(p, "TIMESTAMP "));
        return put_string(p, tmp, sdb_time_format(e->v.i, tmp));
    case SDB_EXPR_INTERVAL:
        SDB_TRY(put(p, "INTERVAL "));
        return put_string(p, tmp, sdb_interval_format(e->v.i, tmp));
    case SDB_EXPR_COLUMN:
        if (e->v.col.table.len > 0) {
            SDB_TRY(put_ident(p, e->v.col.table));
            SDB_TRY(put(p, "."));
        }
        return put_ident(p, e->v.col.name);
    case SDB_EXPR_STAR: return put(p, "*");
    case SDB_EXPR_UNARY:
        if (e->v.unary.op == SDB_UNOP_NOT) {
            SDB_TRY(put(p, "NOT "));
            return print_expr(p, e->v.unary.arg, PREC_NOT, depth);
        }
        SDB_TRY(put(p, "-"));
        /* "--" would start a comment, so a negated negation gets parentheses; so does a
         * negated number, which would otherwise read back as a negative literal */
        if ((e->v.unary.arg->kind == SDB_EXPR_UNARY &&
             e->v.unary.arg->v.unary.op == SDB_UNOP_NEG) ||
            e->v.unary.arg->kind == SDB_EXPR_INT || e->v.unary.arg->kind == SDB_EXPR_FLOAT)
            return print_expr(p, e->v.unary.arg, PREC_ATOM + 1, depth);
        return print_expr(p, e->v.unary.arg, PREC_NEG, depth);
    case SDB_EXPR_BINARY: {
        int prec = sdb_binop_prec(e->v.bin.op);
        SDB_TRY(print_expr(p, e->v.bin.left, prec, depth));
        SDB_TRY(put(p, " "));
        SDB_TRY(put(p, sdb_binop_name(e->v.bin.op)));
        SDB_TRY(put(p, " "));
        return print_expr(p, e->v.bin.right, prec + 1, depth);
    }
    case SDB_EXPR_IN:
        SDB_TRY(print_expr(p, e->v.in.arg, PREC_CMP, depth));
        SDB_TRY(put(p, e->v.in.negated ? " NOT IN (" : " IN ("));
        SDB_TRY(print_list(p, e->v.in.list, e->v.in.nlist, depth));
        return put(p, ")");
    case SDB_EXPR_BETWEEN:
        SDB_TRY(print_expr(p, e->v.between.arg, PREC_CMP, depth));
        SDB_TRY(put(p, e->v.between.negated ? " NOT BETWEEN " : " BETWEEN "));
        SDB_TRY(print_expr(p, e->v.between.lo, PREC_CMP + 1, depth));
        SDB_TRY(put(p, " AND "));
        return print_expr(p, e->v.between.hi, PREC_CMP + 1, depth);
    case SDB_EXPR_IS_NULL:
        SDB_TRY(print_expr(p, e->v.is_null.arg, PREC_CMP, depth));
        return put(p, e->v.is_null.negated ? " IS NOT NULL" : " IS NULL");
    case SDB_EXPR_LIKE:
        SDB_TRY(print_expr(p, e->v.like.arg, PREC_CMP, depth));
        SDB_TRY(put(p, e->v.like.negated ? " NOT" : ""));
        SDB_TRY(put(p, e->v.like.icase ? " ILIKE " : " LIKE "));
        return print_expr(p, e->v.like.pattern, PREC_CMP + 1, depth);
    case SDB_EXPR_CASE:
        SDB_TRY(put(p, "CASE"));
        if (e->v.cas.operand != NULL) {
            SDB_TRY(put(p, " "));
            SDB_TRY(print_expr(p, e->v.cas.operand, 0, depth));
        }
        for (uint32_t i = 0; i < e->v.cas.nwhen; i++) {
            SDB_TRY(put(p, " WHEN "));
            SDB_TRY(print_expr(p, e->v.cas.whens[i], 0, depth));
            SDB_TRY(put(p, " THEN "));
            SDB_TRY(print_expr(p, e->v.cas.thens[i], 0, depth));
        }
        if (e->v.cas.els != NULL) {
            SDB_TRY(put(p, " ELSE "));
            SDB_TRY(print_expr(p, e->v.cas.els, 0, depth));
        }
        return put(p, " END");
    case SDB_EXPR_CAST:
        SDB_TRY(put(p, "CAST("));
        SDB_TRY(print_expr(p, e->v.cast.arg, 0, depth));
        SDB_TRY(put(p, " AS "));
        SDB_TRY(put(p, sdb_type_name(e->v.cast.type)));
        return put(p, ")");
    case SDB_EXPR_FUNC:
        SDB_TRY(put_ident(p, e->v.func.name));
        SDB_TRY(put(p, "("));
        if (e->v.func.star)
            SDB_TRY(put(p, "*"));
        if (e->v.func.distinct)
            SDB_TRY(put(p, "DISTINCT "));
        SDB_TRY(print_list(p, e->v.func.args, e->v.func.nargs, depth));
        return put(p, ")");
    }
    return SDB_FAIL(p->err, SDB_ERR_MISUSE, "cannot print expression kind %d", (int)e->kind);
}

static sdb_rc print_expr(printer *p, const sdb_expr *e, int min_prec, unsigned depth)
{
    bool paren;
    if (e == NULL)
        return SDB_FAIL(p->err, SDB_ERR_MISUSE, "cannot print a missing expression");
    if (depth >= SDB_AST_MAX_DEPTH)
        return SDB_FAIL(p->err, SDB_ERR_LIMIT, "expression is nested deeper than %d levels",
                        SDB_AST_MAX_DEPTH);
    paren = expr_prec(e) < min_prec;
    if (paren)
        SDB_TRY(put(p, "("));
    SDB_TRY(print_inner(p, e, depth + 1));
    if (paren)
        SDB_TRY(put(p, ")"));
    return SDB_OK;
}

sdb_rc sdb_ast_print_expr(const sdb_expr *e, sdb_buf *out, sdb_err *err)
{
    printer p = {out, err};
    return print_expr(&p, e, 0, 0);
}

static sdb_rc print_select(printer *p, const sdb_select *s)
{
    char tmp[32];
    SDB_TRY(put(p, "SELECT "));
    for (uint32_t i = 0; i < s->nitems; i++) {
        if (i > 0)
            SDB_TRY(put(p, ", "));
        SDB_TRY(print_expr(p, s->items[i].expr, 0, 0));
        if (s->items[i].alias.len > 0) {
            SDB_TRY(put(p, " AS "));
            SDB_TRY(put_ident(p, s->items[i].alias));
        }
    }
    if (s->from.len > 0) {
        SDB_TRY(put(p, " FROM "));
        SDB_TRY(put_ident(p, s->from));
    }
    if (s->where != NULL) {
        SDB_TRY(put(p, " WHERE "));
        SDB_TRY(print_expr(p, s->where, 0, 0));
    }
    if (s->ngroup > 0) {
        SDB_TRY(put(p, " GROUP BY "));
        SDB_TRY(print_list(p, s->group_by, s->ngroup, 0));
    }
    if (s->having != NULL) {
        SDB_TRY(put(p, " HAVING "));
        SDB_TRY(print_expr(p, s->having, 0, 0));
    }
    for (uint32_t i = 0; i < s->norder; i++) {
        SDB_TRY(put(p, i == 0 ? " ORDER BY " : ", "));
        SDB_TRY(print_expr(p, s->order_by[i].expr, 0, 0));
        if (s->order_by[i].desc)
            SDB_TRY(put(p, " DESC"));
        if (s->order_by[i].nulls == SDB_NULLS_FIRST)
            SDB_TRY(put(p, " NULLS FIRST"));
        else if (s->order_by[i].nulls == SDB_NULLS_LAST)
            SDB_TRY(put(p, " NULLS LAST"));
    }
    if (s->has_limit) {
        snprintf(tmp, sizeof tmp, " LIMIT %lld", (long long)s->limit);
        SDB_TRY(put(p, tmp));
    }
    if (s->offset != 0) {
        snprintf(tmp, sizeof tmp, " OFFSET %lld", (long long)s->offset);
        SDB_TRY(put(p, tmp));
    }
    return SDB_OK;
}

sdb_rc sdb_ast_print_stmt(const sdb_stmt *s, sdb_buf *out, sdb_err *err)
{
    printer p = {out, err};
    switch (s->kind) {
    case SDB_STMT_SELECT: return print_select(&p, s->v.select);
    case SDB_STMT_EXPLAIN:
        SDB_TRY(put(&p, s->v.explain.analyze ? "EXPLAIN ANALYZE " : "EXPLAIN "));
        return print_select(&p, s->v.explain.select);
    case SDB_STMT_SHOW_TABLES: return put(&p, "SHOW TABLES");
    case SDB_STMT_DESCRIBE: SDB_TRY(put(&p, "DESCRIBE ")); return put_ident(&p, s->v.table.name);
    case SDB_STMT_CREATE_TABLE:
        SDB_TRY(
            put(&p, s->v.create.if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE "));
        SDB_TRY(put_ident(&p, s->v.create.name));
        SDB_TRY(put(&p, " ("));
        for (uint32_t i = 0; i < s->v.create.ncols; i++) {
            if (i > 0)
                SDB_TRY(put(&p, ", "));
            SDB_TRY(put_ident(&p, s->v.create.cols[i].name));
            SDB_TRY(put(&p, " "));
            SDB_TRY(put(&p, sdb_type_name(s->v.create.cols[i].type)));
        }
        SDB_TRY(put(&p, ")"));
        switch (s->v.create.partition) {
        case SDB_PARTITION_DEFAULT: break;
        case SDB_PARTITION_HOUR: SDB_TRY(put(&p, " PARTITION BY HOUR")); break;
        case SDB_PARTITION_DAY: SDB_TRY(put(&p, " PARTITION BY DAY")); break;
        case SDB_PARTITION_MONTH: SDB_TRY(put(&p, " PARTITION BY MONTH")); break;
        }
        for (uint32_t i = 0; i < s->v.create.nsort; i++) {
            SDB_TRY(put(&p, i == 0 ? " ORDER BY (" : ", "));
            SDB_TRY(put_ident(&p, s->v.create.sort_key[i]));
        }
        if (s->v.create.nsort > 0)
            SDB_TRY(put(&p, ")"));
        return SDB_OK;
    case SDB_STMT_DROP_TABLE:
        SDB_TRY(put(&p, s->v.drop.if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE "));
        return put_ident(&p, s->v.drop.name);
    }
    return SDB_FAIL(err, SDB_ERR_MISUSE, "cannot print statement kind %d", (int)s->kind);
}
