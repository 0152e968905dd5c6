/* SQL parser: one function per grammar rule (see parser.h), each taking the parser state and
 * returning sdb_rc with the result through a pointer. Lists grow by doubling inside the
 * arena (at most twice the final size is spent). Every recursive rule passes through
 * enter(), which bounds the recursion depth; the node constructors bound the tree depth
 * that left-associative loops build without recursing. */
#include "query/parser.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/timefmt.h"

typedef struct parser {
    sdb_lexer lx;    /* token source */
    sdb_arena *a;    /* where every node goes */
    sdb_err *err;    /* caller's error record */
    sdb_pos err_pos; /* position of the first error, 0:0 until one happens */
    sdb_token cur;   /* current token */
    sdb_token nxt;   /* one token of lookahead */
    unsigned depth;  /* recursion depth of the rules */
} parser;

static sdb_rc parse_expr(parser *p, sdb_expr **out);

/* ---- errors and tokens --------------------------------------------------------------- */

static sdb_rc fail_at(parser *p, sdb_rc code, const sdb_token *t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sdb_rc fail_at(parser *p, sdb_rc code, const sdb_token *t, const char *fmt, ...)
{
    char near[64], why[SDB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    sdb_token_describe(&p->lx, t, near, sizeof near);
    p->err_pos = t->pos;
    return SDB_FAIL(p->err, code, "parse error at %u:%u near %s: %s", t->pos.line, t->pos.col, near,
                    why);
}

static sdb_rc expected(parser *p, const char *what)
{
    return fail_at(p, SDB_ERR_PARSE, &p->cur, "expected %s", what);
}

/* Where a clause or the statement may end: a stray ')' gets its own message. */
static sdb_rc expected_end(parser *p, const char *what)
{
    if (p->cur.kind == SDB_TOK_RPAREN)
        return fail_at(p, SDB_ERR_PARSE, &p->cur, "unbalanced parentheses: ')' without '('");
    return expected(p, what);
}

static sdb_rc lex(parser *p, sdb_token *t)
{
    sdb_rc rc = sdb_lexer_next(&p->lx, t, p->err);
    if (rc != SDB_OK)
        p->err_pos = t->pos;
    return rc;
}

static sdb_rc next(parser *p)
{
    p->cur = p->nxt;
    if (p->cur.kind == SDB_TOK_EOF)
        return SDB_OK;
    return lex(p, &p->nxt);
}

static bool is_kw(const sdb_token *t, sdb_kw kw)
{
    return t->kind == SDB_TOK_KEYWORD && t->kw == kw;
}

static bool accept_kw(parser *p, sdb_kw kw, bool *took, sdb_rc *rc)
{
    *took = is_kw(&p->cur, kw);
    *rc = *took ? next(p) : SDB_OK;
    return *took;
}

static const char *tok_text(const parser *p, const sdb_token *t)
{
    return p->lx.src + t->off;
}

/* True for an unquoted identifier spelled `word` (lower case), ignoring case. */
static bool is_word(const parser *p, const sdb_token *t, const char *word)
{
    size_t n = strlen(word);
    const char *s = tok_text(p, t);
    if (t->kind != SDB_TOK_IDENT || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != word[i])
            return false;
    return true;
}

static sdb_rc expect_kw(parser *p, sdb_kw kw)
{
    if (!is_kw(&p->cur, kw))
        return expected(p, sdb_keyword_name(kw));
    return next(p);
}

static sdb_rc expect_tok(parser *p, sdb_tok_kind kind)
{
    if (p->cur.kind != kind)
        return expected(p, sdb_tok_kind_name(kind));
    return next(p);
}

static sdb_rc enter(parser *p)
{
    if (++p->depth > SDB_AST_MAX_DEPTH)
        return fail_at(p, SDB_ERR_LIMIT, &p->cur, "expression nested deeper than %d levels",
                       SDB_AST_MAX_DEPTH);
    return SDB_OK;
}

static sdb_rc nomem(parser *p)
{
    /* the arena already filled err (NOMEM or LIMIT for the query memory budget) */
    p->err_pos = p->cur.pos;
    return p->err != NULL && p->err->code != SDB_OK ? p->err->code : SDB_ERR_NOMEM;
}

/* ---- building blocks ------------------------------------------------------------------ */

/* Make room for one more element in an arena array of `elem`-byte items. */
static sdb_rc grow(parser *p, void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
    void *bigger;
    uint32_t ncap;
    if (n < *cap)
        return SDB_OK;
    ncap = *cap == 0 ? 4 : *cap * 2;
    if ((bigger = sdb_arena_calloc(p->a, ncap, elem, p->err)) == NULL)
        return nomem(p);
    if (n > 0)
        memcpy(bigger, *arr, (size_t)n * elem);
    *arr = bigger;
    *cap = ncap;
    return SDB_OK;
}

static sdb_rc push_expr(parser *p, sdb_expr ***arr, uint32_t *n, uint32_t *cap, sdb_expr *e)
{
    void *v = *arr;
    SDB_TRY(grow(p, &v, *n, cap, sizeof(sdb_expr *)));
    *arr = v;
    (*arr)[(*n)++] = e;
    return SDB_OK;
}

/* The name an identifier token stands for: unquoted folds to lower case, quoted loses its
 * quotes and doubled quotes. */
static sdb_rc ident_value(parser *p, const sdb_token *t, sdb_text *out)
{
    const char *s = tok_text(p, t);
    char *d;
    uint32_t n = 0;
    if (t->kind == SDB_TOK_QIDENT) {
        if ((d = sdb_arena_alloc(p->a, t->len, p->err)) == NULL)
            return nomem(p);
        for (uint32_t i = 1; i + 1 < t->len; i++) {
            d[n++] = s[i];
            if (s[i] == '"')
                i++;
        }
    } else {
        if ((d = sdb_arena_alloc(p->a, (size_t)t->len + 1, p->err)) == NULL)
            return nomem(p);
        for (uint32_t i = 0; i < t->len; i++)
            d[n++] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] | 0x20) : s[i];
    }
    d[n] = '\0';
    out->s = d;
    out->len = n;
    return SDB_OK;
}

static bool is_name(const sdb_token *t)
{
    return t->kind == SDB_TOK_IDENT || t->kind == SDB_TOK_QIDENT;
}

static sdb_rc parse_name(parser *p, const char *what, sdb_text *out, sdb_pos *pos)
{
    if (!is_name(&p->cur)) {
        if (p->cur.kind == SDB_TOK_KEYWORD)
            return fail_at(p, SDB_ERR_PARSE, &p->cur,
                           "expected %s (%s is a reserved word: quote it as \"%s\")", what,
                           sdb_keyword_name(p->cur.kw), sdb_keyword_name(p->cur.kw));
        return expected(p, what);
    }
    if (pos != NULL)
        *pos = p->cur.pos;
    SDB_TRY(ident_value(p, &p->cur, out));
    return next(p);
}

/* Decode a 'string' token: strip the quotes, '' becomes '. */
static sdb_rc string_value(parser *p, const sdb_token *t, sdb_text *out)
{
    const char *s = tok_text(p, t);
    char *d = sdb_arena_alloc(p->a, t->len, p->err);
    uint32_t n = 0;
    if (d == NULL)
        return nomem(p);
    for (uint32_t i = 1; i + 1 < t->len; i++) {
        d[n++] = s[i];
        if (s[i] == '\'')
            i++;
    }
    d[n] = '\0';
    out->s = d;
    out->len = n;
    return SDB_OK;
}

static sdb_rc parse_type(parser *p, sdb_type *out)
{
    const sdb_token *t = &p->cur;
    if (t->kind != SDB_TOK_IDENT && !is_kw(t, SDB_KW_TIMESTAMP))
        return expected(p, "a type name");
    if (!sdb_type_parse(tok_text(p, t), t->len, out))
        return fail_at(p, SDB_ERR_PARSE, t,
                       "unknown type (known: timestamp, int64, float64, bool, symbol, string)");
    return next(p);
}

static sdb_expr *new_node(parser *p, sdb_expr_kind kind, sdb_pos pos)
{
    sdb_expr *e = sdb_ast_node(p->a, kind, pos, p->err);
    if (e == NULL)
        nomem(p);
    return e;
}

/* Finish a node whose children were set by hand: compute its depth, failing with
 * SDB_ERR_LIMIT at the current token when the tree gets too deep. */
static sdb_rc finish(parser *p, sdb_expr *e)
{
    sdb_err scratch;
    if (sdb_ast_fix_depth(e, &scratch) != SDB_OK)
        return fail_at(p, SDB_ERR_LIMIT, &p->cur, "expression nested deeper than %d levels",
                       SDB_AST_MAX_DEPTH);
    return SDB_OK;
}

static sdb_rc mk_binary(parser *p, sdb_binop op, sdb_expr *left, sdb_expr *right, sdb_expr **out)
{
    sdb_expr *e = new_node(p, SDB_EXPR_BINARY, left->pos);
    if (e == NULL)
        return nomem(p);
    e->v.bin.op = op;
    e->v.bin.left = left;
    e->v.bin.right = right;
    SDB_TRY(finish(p, e));
    *out = e;
    return SDB_OK;
}

static sdb_rc mk_unary(parser *p, sdb_unop op, sdb_expr *arg, sdb_pos pos, sdb_expr **out)
{
    sdb_expr *e = new_node(p, SDB_EXPR_UNARY, pos);
    if (e == NULL)
        return nomem(p);
    e->v.unary.op = op;
    e->v.unary.arg = arg;
    SDB_TRY(finish(p, e));
    *out = e;
    return SDB_OK;
}

/* ---- literals ------------------------------------------------------------------------- */

static sdb_rc int_literal(parser *p, const sdb_token *t, bool negative, sdb_pos pos, sdb_expr **out)
{
    const char *s = tok_text(p, t);
    uint64_t v = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    sdb_expr *e;
    for (uint32_t i = 0; i < t->len; i++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v) || v > limit)
            return fail_at(p, SDB_ERR_PARSE, t, "integer out of range (-2^63 .. 2^63-1)");
    }
    if ((e = new_node(p, SDB_EXPR_INT, pos)) == NULL)
        return nomem(p);
    e->v.i = negative ? (int64_t)(0 - v) : (int64_t)v;
    *out = e;
    return next(p);
}

static sdb_rc float_literal(parser *p, const sdb_token *t, bool negative, sdb_pos pos,
                            sdb_expr **out)
{
    char *text = sdb_arena_strndup(p->a, tok_text(p, t), t->len, p->err);
    sdb_expr *e;
    double f;
    if (text == NULL)
        return nomem(p);
    f = strtod(text, NULL);
    if (!isfinite(f))
        return fail_at(p, SDB_ERR_PARSE, t, "number out of range");
    if ((e = new_node(p, SDB_EXPR_FLOAT, pos)) == NULL)
        return nomem(p);
    e->v.f = negative ? -f : f;
    *out = e;
    return next(p);
}

/* INTERVAL 'text' or INTERVAL n UNIT; cur is INTERVAL. */
static sdb_rc parse_interval(parser *p, sdb_expr **out)
{
    sdb_pos pos = p->cur.pos;
    sdb_token lit;
    sdb_expr *e;
    int64_t ns;
    SDB_TRY(next(p));
    lit = p->cur;
    if (lit.kind == SDB_TOK_STRING) {
        sdb_text text;
        sdb_err inner;
        SDB_TRY(string_value(p, &lit, &text));
        SDB_TRY(next(p));
        if (text.len > 0 && strspn(text.s, "0123456789.-+ ") == text.len &&
            p->nxt.kind != SDB_TOK_LPAREN && p->cur.kind == SDB_TOK_IDENT &&
            (sdb_interval_unit(tok_text(p, &p->cur), p->cur.len, &ns) ||
             sdb_interval_unit_is_calendar(tok_text(p, &p->cur), p->cur.len))) {
            /* INTERVAL '5' MINUTE: the unit follows the quoted number */
            char *joined = sdb_arena_alloc(p->a, (size_t)text.len + p->cur.len + 2, p->err);
            if (joined == NULL)
                return nomem(p);
            memcpy(joined, text.s, text.len);
            joined[text.len] = ' ';
            memcpy(joined + text.len + 1, tok_text(p, &p->cur), p->cur.len);
            text.s = joined;
            text.len += p->cur.len + 1;
            SDB_TRY(next(p));
        }
        if (sdb_interval_parse(text.s, text.len, &ns, &inner) != SDB_OK)
            return fail_at(p, inner.code, &lit, "%s", inner.msg);
    } else if (lit.kind == SDB_TOK_INT) {
        const char *s = tok_text(p, &lit);
        uint64_t v = 0;
        int64_t unit;
        for (uint32_t i = 0; i < lit.len; i++)
            if (__builtin_mul_overflow(v, 10, &v) ||
                __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v) || v > INT64_MAX)
                return fail_at(p, SDB_ERR_PARSE, &lit, "interval out of range");
        SDB_TRY(next(p));
        if (p->cur.kind != SDB_TOK_IDENT)
            return expected(p, "an interval unit (SECOND, MINUTE, HOUR, DAY, WEEK...)");
        if (!sdb_interval_unit(tok_text(p, &p->cur), p->cur.len, &unit)) {
            if (sdb_interval_unit_is_calendar(tok_text(p, &p->cur), p->cur.len))
                return fail_at(p, SDB_ERR_PARSE, &p->cur,
                               "months and years have no fixed length; use days");
            return expected(p, "an interval unit (SECOND, MINUTE, HOUR, DAY, WEEK...)");
        }
        if (__builtin_mul_overflow((int64_t)v, unit, &ns))
            return fail_at(p, SDB_ERR_PARSE, &lit, "interval out of range");
        SDB_TRY(next(p));
    } else {
        return expected(p, "an interval string such as '5 minutes'");
    }
    if ((e = new_node(p, SDB_EXPR_INTERVAL, pos)) == NULL)
        return nomem(p);
    e->v.i = ns;
    *out = e;
    return SDB_OK;
}

/* TIMESTAMP 'iso-8601'; cur is TIMESTAMP. */
static sdb_rc parse_timestamp(parser *p, sdb_expr **out)
{
    sdb_pos pos = p->cur.pos;
    sdb_token lit;
    sdb_text text;
    sdb_err inner;
    sdb_expr *e;
    int64_t ns;
    SDB_TRY(next(p));
    lit = p->cur;
    if (lit.kind != SDB_TOK_STRING)
        return expected(p, "a timestamp string such as '2026-01-01 00:00:00'");
    SDB_TRY(string_value(p, &lit, &text));
    if (sdb_time_parse(text.s, text.len, &ns, &inner) != SDB_OK)
        return fail_at(p, inner.code, &lit, "%s", inner.msg);
    if ((e = new_node(p, SDB_EXPR_TIMESTAMP, pos)) == NULL)
        return nomem(p);
    e->v.i = ns;
    *out = e;
    return next(p);
}

/* ---- expressions ---------------------------------------------------------------------- */

/* CASE [operand] WHEN .. THEN .. [ELSE ..] END; cur is CASE. */
static sdb_rc parse_case(parser *p, sdb_expr **out)
{
    sdb_expr *e = new_node(p, SDB_EXPR_CASE, p->cur.pos);
    uint32_t cap_w = 0, cap_t = 0, nt = 0;
    bool took;
    sdb_rc rc;
    if (e == NULL)
        return nomem(p);
    SDB_TRY(next(p));
    if (!is_kw(&p->cur, SDB_KW_WHEN))
        SDB_TRY(parse_expr(p, &e->v.cas.operand));
    if (!is_kw(&p->cur, SDB_KW_WHEN))
        return expected(p, "WHEN");
    while (accept_kw(p, SDB_KW_WHEN, &took, &rc)) {
        sdb_expr *w, *t;
        SDB_TRY(rc);
        SDB_TRY(parse_expr(p, &w));
        SDB_TRY(expect_kw(p, SDB_KW_THEN));
        SDB_TRY(parse_expr(p, &t));
        SDB_TRY(push_expr(p, &e->v.cas.whens, &e->v.cas.nwhen, &cap_w, w));
        SDB_TRY(push_expr(p, &e->v.cas.thens, &nt, &cap_t, t));
    }
    SDB_TRY(rc);
    if (accept_kw(p, SDB_KW_ELSE, &took, &rc)) {
        SDB_TRY(rc);
        SDB_TRY(parse_expr(p, &e->v.cas.els));
    }
    SDB_TRY(expect_kw(p, SDB_KW_END));
    SDB_TRY(finish(p, e));
    *out = e;
    return SDB_OK;
}

/* name '(' [* | [DISTINCT] expr [, expr]*] ')'; cur is the name, nxt the '('. */
static sdb_rc parse_call(parser *p, sdb_expr **out)
{
    sdb_expr *e = new_node(p, SDB_EXPR_FUNC, p->cur.pos);
    uint32_t cap = 0;
    bool took;
    sdb_rc rc;
    if (e == NULL)
        return nomem(p);
    SDB_TRY(ident_value(p, &p->cur, &e->v.func.name));
    SDB_TRY(next(p)); /* name */
    SDB_TRY(next(p)); /* ( */
    if (p->cur.kind == SDB_TOK_STAR) {
        e->v.func.star = true;
        SDB_TRY(next(p));
    } else if (p->cur.kind != SDB_TOK_RPAREN) {
        if (accept_kw(p, SDB_KW_DISTINCT, &took, &rc))
            e->v.func.distinct = true;
        SDB_TRY(rc);
        for (;;) {
            sdb_expr *arg;
            SDB_TRY(parse_expr(p, &arg));
            SDB_TRY(push_expr(p, &e->v.func.args, &e->v.func.nargs, &cap, arg));
            if (p->cur.kind != SDB_TOK_COMMA)
                break;
            SDB_TRY(next(p));
        }
    }
    if (p->cur.kind != SDB_TOK_RPAREN)
        return expected(p, e->v.func.nargs > 0 ? "',' or ')'" : "')'");
    SDB_TRY(next(p));
    SDB_TRY(finish(p, e));
    *out = e;
    return SDB_OK;
}

static sdb_rc parse_primary(parser *p, sdb_expr **out)
{
    sdb_token t = p->cur;
    sdb_expr *e;
    switch (t.kind) {
    case SDB_TOK_INT: return int_literal(p, &t, false, t.pos, out);
    case SDB_TOK_FLOAT: return float_literal(p, &t, false, t.pos, out);
    case SDB_TOK_STRING:
        if ((e = new_node(p, SDB_EXPR_STRING, t.pos)) == NULL)
            return nomem(p);
        SDB_TRY(string_value(p, &t, &e->v.str));
        *out = e;
        return next(p);
    case SDB_TOK_LPAREN:
        SDB_TRY(next(p));
        SDB_TRY(parse_expr(p, out));
        if (p->cur.kind != SDB_TOK_RPAREN)
            return fail_at(p, SDB_ERR_PARSE, &p->cur, "expected ')' to close the '(' at %u:%u",
                           t.pos.line, t.pos.col);
        return next(p);
    case SDB_TOK_IDENT:
    case SDB_TOK_QIDENT:
        if (p->nxt.kind == SDB_TOK_LPAREN)
            return parse_call(p, out);
        if ((e = new_node(p, SDB_EXPR_COLUMN, t.pos)) == NULL)
            return nomem(p);
        SDB_TRY(ident_value(p, &t, &e->v.col.name));
        SDB_TRY(next(p));
        if (p->cur.kind == SDB_TOK_DOT) {
            SDB_TRY(next(p));
            e->v.col.table = e->v.col.name;
            SDB_TRY(parse_name(p, "a column name after '.'", &e->v.col.name, NULL));
        }
        *out = e;
        return SDB_OK;
    case SDB_TOK_KEYWORD:
        switch (t.kw) {
        case SDB_KW_NULL:
        case SDB_KW_TRUE:
        case SDB_KW_FALSE:
            if ((e = new_node(p, t.kw == SDB_KW_NULL ? SDB_EXPR_NULL : SDB_EXPR_BOOL, t.pos)) ==
                NULL)
                return nomem(p);
            e->v.b = t.kw == SDB_KW_TRUE;
            *out = e;
            return next(p);
        case SDB_KW_INTERVAL: return parse_interval(p, out);
        case SDB_KW_TIMESTAMP: return parse_timestamp(p, out);
        case SDB_KW_CASE: return parse_case(p, out);
        case SDB_KW_CAST:
            if ((e = new_node(p, SDB_EXPR_CAST, t.pos)) == NULL)
                return nomem(p);
            SDB_TRY(next(p));
            SDB_TRY(expect_tok(p, SDB_TOK_LPAREN));
            SDB_TRY(parse_expr(p, &e->v.cast.arg));
            SDB_TRY(expect_kw(p, SDB_KW_AS));
            SDB_TRY(parse_type(p, &e->v.cast.type));
            SDB_TRY(expect_tok(p, SDB_TOK_RPAREN));
            SDB_TRY(finish(p, e));
            *out = e;
            return SDB_OK;
        default: break;
        }
        break;
    default: break;
    }
    return expected(p, "an expression");
}

static sdb_rc parse_postfix(parser *p, sdb_expr **out)
{
    SDB_TRY(parse_primary(p, out));
    while (p->cur.kind == SDB_TOK_DCOLON) {
        sdb_expr *e = new_node(p, SDB_EXPR_CAST, (*out)->pos);
        if (e == NULL)
            return nomem(p);
        SDB_TRY(next(p));
        SDB_TRY(parse_type(p, &e->v.cast.type));
        e->v.cast.arg = *out;
        SDB_TRY(finish(p, e));
        *out = e;
    }
    return SDB_OK;
}

static sdb_rc parse_unary(parser *p, sdb_expr **out)
{
    sdb_token op = p->cur;
    sdb_rc rc;
    if (op.kind != SDB_TOK_MINUS && op.kind != SDB_TOK_PLUS)
        return parse_postfix(p, out);
    SDB_TRY(next(p));
    if (op.kind == SDB_TOK_MINUS && (p->cur.kind == SDB_TOK_INT || p->cur.kind == SDB_TOK_FLOAT)) {
        /* a negative literal, so that -9223372036854775808 fits */
        sdb_token lit = p->cur;
        sdb_expr *e;
        SDB_TRY(lit.kind == SDB_TOK_INT ? int_literal(p, &lit, true, op.pos, &e)
                                        : float_literal(p, &lit, true, op.pos, &e));
        while (p->cur.kind == SDB_TOK_DCOLON) {
            sdb_expr *c = new_node(p, SDB_EXPR_CAST, e->pos);
            if (c == NULL)
                return nomem(p);
            SDB_TRY(next(p));
            SDB_TRY(parse_type(p, &c->v.cast.type));
            c->v.cast.arg = e;
            SDB_TRY(finish(p, c));
            e = c;
        }
        *out = e;
        return SDB_OK;
    }
    SDB_TRY(enter(p));
    rc = parse_unary(p, out);
    p->depth--;
    SDB_TRY(rc);
    if (op.kind == SDB_TOK_PLUS)
        return SDB_OK;
    return mk_unary(p, SDB_UNOP_NEG, *out, op.pos, out);
}

static sdb_rc parse_mul(parser *p, sdb_expr **out)
{
    SDB_TRY(parse_unary(p, out));
    for (;;) {
        sdb_binop op;
        sdb_expr *right;
        switch (p->cur.kind) {
        case SDB_TOK_STAR: op = SDB_BINOP_MUL; break;
        case SDB_TOK_SLASH: op = SDB_BINOP_DIV; break;
        case SDB_TOK_PERCENT: op = SDB_BINOP_MOD; break;
        default: return SDB_OK;
        }
        SDB_TRY(next(p));
        SDB_TRY(parse_unary(p, &right));
        SDB_TRY(mk_binary(p, op, *out, right, out));
    }
}

static sdb_rc parse_add(parser *p, sdb_expr **out)
{
    SDB_TRY(parse_mul(p, out));
    for (;;) {
        sdb_binop op;
        sdb_expr *right;
        switch (p->cur.kind) {
        case SDB_TOK_PLUS: op = SDB_BINOP_ADD; break;
        case SDB_TOK_MINUS: op = SDB_BINOP_SUB; break;
        default: return SDB_OK;
        }
        SDB_TRY(next(p));
        SDB_TRY(parse_mul(p, &right));
        SDB_TRY(mk_binary(p, op, *out, right, out));
    }
}

static bool cmp_op(sdb_tok_kind k, sdb_binop *op)
{
    switch (k) {
    case SDB_TOK_EQ: *op = SDB_BINOP_EQ; return true;
    case SDB_TOK_NE: *op = SDB_BINOP_NE; return true;
    case SDB_TOK_LT: *op = SDB_BINOP_LT; return true;
    case SDB_TOK_LE: *op = SDB_BINOP_LE; return true;
    case SDB_TOK_GT: *op = SDB_BINOP_GT; return true;
    case SDB_TOK_GE: *op = SDB_BINOP_GE; return true;
    default: return false;
    }
}

/* [NOT] IN '(' list ')'; cur is IN. */
static sdb_rc parse_in(parser *p, sdb_expr *arg, bool negated, sdb_expr **out)
{
    sdb_expr *e = new_node(p, SDB_EXPR_IN, arg->pos);
    sdb_token open;
    uint32_t cap = 0;
    if (e == NULL)
        return nomem(p);
    e->v.in.arg = arg;
    e->v.in.negated = negated;
    SDB_TRY(next(p));
    open = p->cur;
    SDB_TRY(expect_tok(p, SDB_TOK_LPAREN));
    for (;;) {
        sdb_expr *item;
        SDB_TRY(parse_expr(p, &item));
        SDB_TRY(push_expr(p, &e->v.in.list, &e->v.in.nlist, &cap, item));
        if (p->cur.kind != SDB_TOK_COMMA)
            break;
        SDB_TRY(next(p));
    }
    if (p->cur.kind != SDB_TOK_RPAREN)
        return fail_at(p, SDB_ERR_PARSE, &p->cur, "expected ',' or ')' to close the '(' at %u:%u",
                       open.pos.line, open.pos.col);
    SDB_TRY(next(p));
    SDB_TRY(finish(p, e));
    *out = e;
    return SDB_OK;
}

static sdb_rc parse_cmp(parser *p, sdb_expr **out)
{
    SDB_TRY(parse_add(p, out));
    for (;;) {
        sdb_expr *arg = *out, *e;
        sdb_binop op;
        bool negated = false;
        if (cmp_op(p->cur.kind, &op)) {
            sdb_expr *right;
            SDB_TRY(next(p));
            SDB_TRY(parse_add(p, &right));
            SDB_TRY(mk_binary(p, op, arg, right, out));
            continue;
        }
        if (is_kw(&p->cur, SDB_KW_IS)) {
            SDB_TRY(next(p));
            if (is_kw(&p->cur, SDB_KW_NOT)) {
                negated = true;
                SDB_TRY(next(p));
            }
            if (!is_kw(&p->cur, SDB_KW_NULL))
                return expected(p, negated ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
            SDB_TRY(next(p));
            if ((e = new_node(p, SDB_EXPR_IS_NULL, arg->pos)) == NULL)
                return nomem(p);
            e->v.is_null.arg = arg;
            e->v.is_null.negated = negated;
            SDB_TRY(finish(p, e));
            *out = e;
            continue;
        }
        if (is_kw(&p->cur, SDB_KW_NOT)) {
            const sdb_token *n = &p->nxt;
            if (!is_kw(n, SDB_KW_IN) && !is_kw(n, SDB_KW_BETWEEN) && !is_kw(n, SDB_KW_LIKE) &&
                !is_kw(n, SDB_KW_ILIKE))
                return SDB_OK;
            negated = true;
            SDB_TRY(next(p));
        }
        if (is_kw(&p->cur, SDB_KW_IN)) {
            SDB_TRY(parse_in(p, arg, negated, out));
        } else if (is_kw(&p->cur, SDB_KW_BETWEEN)) {
            if ((e = new_node(p, SDB_EXPR_BETWEEN, arg->pos)) == NULL)
                return nomem(p);
            e->v.between.arg = arg;
            e->v.between.negated = negated;
            SDB_TRY(next(p));
            SDB_TRY(parse_add(p, &e->v.between.lo));
            SDB_TRY(expect_kw(p, SDB_KW_AND));
            SDB_TRY(parse_add(p, &e->v.between.hi));
            SDB_TRY(finish(p, e));
            *out = e;
        } else if (is_kw(&p->cur, SDB_KW_LIKE) || is_kw(&p->cur, SDB_KW_ILIKE)) {
            if ((e = new_node(p, SDB_EXPR_LIKE, arg->pos)) == NULL)
                return nomem(p);
            e->v.like.arg = arg;
            e->v.like.negated = negated;
            e->v.like.icase = is_kw(&p->cur, SDB_KW_ILIKE);
            SDB_TRY(next(p));
            SDB_TRY(parse_add(p, &e->v.like.pattern));
            SDB_TRY(finish(p, e));
            *out = e;
        } else {
            return SDB_OK;
        }
    }
}

static sdb_rc parse_not(parser *p, sdb_expr **out)
{
    sdb_pos pos = p->cur.pos;
    sdb_rc rc;
    if (!is_kw(&p->cur, SDB_KW_NOT))
        return parse_cmp(p, out);
    SDB_TRY(next(p));
    SDB_TRY(enter(p));
    rc = parse_not(p, out);
    p->depth--;
    SDB_TRY(rc);
    return mk_unary(p, SDB_UNOP_NOT, *out, pos, out);
}

static sdb_rc parse_and(parser *p, sdb_expr **out)
{
    SDB_TRY(parse_not(p, out));
    while (is_kw(&p->cur, SDB_KW_AND)) {
        sdb_expr *right;
        SDB_TRY(next(p));
        SDB_TRY(parse_not(p, &right));
        SDB_TRY(mk_binary(p, SDB_BINOP_AND, *out, right, out));
    }
    return SDB_OK;
}

static sdb_rc parse_or(parser *p, sdb_expr **out)
{
    SDB_TRY(parse_and(p, out));
    while (is_kw(&p->cur, SDB_KW_OR)) {
        sdb_expr *right;
        SDB_TRY(next(p));
        SDB_TRY(parse_and(p, &right));
        SDB_TRY(mk_binary(p, SDB_BINOP_OR, *out, right, out));
    }
    return SDB_OK;
}

static sdb_rc parse_expr(parser *p, sdb_expr **out)
{
    sdb_rc rc;
    SDB_TRY(enter(p));
    rc = parse_or(p, out);
    p->depth--;
    return rc;
}

/* ---- statements ----------------------------------------------------------------------- */

static sdb_rc parse_select_item(parser *p, sdb_select_item *it)
{
    it->pos = p->cur.pos;
    if (p->cur.kind == SDB_TOK_STAR) {
        if ((it->expr = new_node(p, SDB_EXPR_STAR, p->cur.pos)) == NULL)
            return nomem(p);
        SDB_TRY(next(p));
    } else {
        SDB_TRY(parse_expr(p, &it->expr));
    }
    if (is_kw(&p->cur, SDB_KW_AS)) {
        SDB_TRY(next(p));
        return parse_name(p, "an alias after AS", &it->alias, NULL);
    }
    /* an alias without AS, unless another name follows: "a FORM t" is a misspelt FROM */
    if (is_name(&p->cur) && !is_name(&p->nxt))
        return parse_name(p, "an alias", &it->alias, NULL);
    return SDB_OK;
}

static sdb_rc parse_limit_value(parser *p, const char *what, int64_t *out)
{
    sdb_expr *e;
    if (p->cur.kind != SDB_TOK_INT)
        return expected(p, what);
    SDB_TRY(int_literal(p, &p->cur, false, p->cur.pos, &e));
    *out = e->v.i;
    return SDB_OK;
}

/* SELECT ...; cur is SELECT. */
static sdb_rc parse_select(parser *p, sdb_select **out)
{
    sdb_select *s = sdb_arena_calloc(p->a, 1, sizeof *s, p->err);
    uint32_t cap = 0;
    bool took;
    sdb_rc rc;
    if (s == NULL)
        return nomem(p);
    s->pos = p->cur.pos;
    SDB_TRY(next(p));
    if (is_kw(&p->cur, SDB_KW_DISTINCT))
        return fail_at(p, SDB_ERR_PARSE, &p->cur, "SELECT DISTINCT is not supported; use GROUP BY");
    for (;;) {
        void *v = s->items;
        SDB_TRY(grow(p, &v, s->nitems, &cap, sizeof *s->items));
        s->items = v;
        SDB_TRY(parse_select_item(p, &s->items[s->nitems++]));
        if (p->cur.kind != SDB_TOK_COMMA)
            break;
        SDB_TRY(next(p));
    }
    *out = s;
    if (!is_kw(&p->cur, SDB_KW_FROM)) {
        /* a SELECT without FROM computes constants and takes no other clause */
        if (p->cur.kind == SDB_TOK_EOF || p->cur.kind == SDB_TOK_SEMI)
            return SDB_OK;
        return expected_end(p, "FROM");
    }
    SDB_TRY(next(p));
    SDB_TRY(parse_name(p, "a table name after FROM", &s->from, &s->from_pos));
    if (accept_kw(p, SDB_KW_WHERE, &took, &rc)) {
        SDB_TRY(rc);
        SDB_TRY(parse_expr(p, &s->where));
    }
    SDB_TRY(rc);
    if (is_kw(&p->cur, SDB_KW_GROUP)) {
        uint32_t gcap = 0;
        SDB_TRY(next(p));
        SDB_TRY(expect_kw(p, SDB_KW_BY));
        for (;;) {
            sdb_expr *g;
            SDB_TRY(parse_expr(p, &g));
            SDB_TRY(push_expr(p, &s->group_by, &s->ngroup, &gcap, g));
            if (p->cur.kind != SDB_TOK_COMMA)
                break;
            SDB_TRY(next(p));
        }
    }
    if (accept_kw(p, SDB_KW_HAVING, &took, &rc)) {
        SDB_TRY(rc);
        SDB_TRY(parse_expr(p, &s->having));
    }
    SDB_TRY(rc);
    if (is_kw(&p->cur, SDB_KW_ORDER)) {
        uint32_t ocap = 0;
        SDB_TRY(next(p));
        SDB_TRY(expect_kw(p, SDB_KW_BY));
        for (;;) {
            void *v = s->order_by;
            sdb_order_item *o;
            SDB_TRY(grow(p, &v, s->norder, &ocap, sizeof *s->order_by));
            s->order_by = v;
            o = &s->order_by[s->norder++];
            SDB_TRY(parse_expr(p, &o->expr));
            if (is_kw(&p->cur, SDB_KW_ASC) || is_kw(&p->cur, SDB_KW_DESC)) {
                o->desc = is_kw(&p->cur, SDB_KW_DESC);
                SDB_TRY(next(p));
            }
            if (is_word(p, &p->cur, "nulls")) {
                SDB_TRY(next(p));
                if (is_word(p, &p->cur, "first"))
                    o->nulls = SDB_NULLS_FIRST;
                else if (is_word(p, &p->cur, "last"))
                    o->nulls = SDB_NULLS_LAST;
                else
                    return expected(p, "FIRST or LAST after NULLS");
                SDB_TRY(next(p));
            }
            if (p->cur.kind != SDB_TOK_COMMA)
                break;
            SDB_TRY(next(p));
        }
    }
    if (accept_kw(p, SDB_KW_LIMIT, &took, &rc)) {
        SDB_TRY(rc);
        s->has_limit = true;
        SDB_TRY(parse_limit_value(p, "a row count after LIMIT", &s->limit));
    }
    SDB_TRY(rc);
    if (accept_kw(p, SDB_KW_OFFSET, &took, &rc)) {
        SDB_TRY(rc);
        SDB_TRY(parse_limit_value(p, "a row count after OFFSET", &s->offset));
    }
    return rc;
}

/* CREATE TABLE ...; cur is CREATE. */
static sdb_rc parse_create(parser *p, sdb_stmt *st)
{
    uint32_t cap = 0;
    SDB_TRY(next(p));
    SDB_TRY(expect_kw(p, SDB_KW_TABLE));
    if (is_word(p, &p->cur, "if") && is_kw(&p->nxt, SDB_KW_NOT)) {
        SDB_TRY(next(p));
        SDB_TRY(next(p));
        if (!is_word(p, &p->cur, "exists"))
            return expected(p, "EXISTS after IF NOT");
        SDB_TRY(next(p));
        st->v.create.if_not_exists = true;
    }
    SDB_TRY(parse_name(p, "a table name", &st->v.create.name, &st->v.create.name_pos));
    SDB_TRY(expect_tok(p, SDB_TOK_LPAREN));
    for (;;) {
        void *v = st->v.create.cols;
        sdb_column_def *c;
        SDB_TRY(grow(p, &v, st->v.create.ncols, &cap, sizeof *st->v.create.cols));
        st->v.create.cols = v;
        c = &st->v.create.cols[st->v.create.ncols++];
        SDB_TRY(parse_name(p, "a column name", &c->name, &c->pos));
        SDB_TRY(parse_type(p, &c->type));
        if (p->cur.kind != SDB_TOK_COMMA)
            break;
        SDB_TRY(next(p));
    }
    if (p->cur.kind != SDB_TOK_RPAREN)
        return expected(p, "',' or ')'");
    SDB_TRY(next(p));
    if (is_kw(&p->cur, SDB_KW_PARTITION)) {
        SDB_TRY(next(p));
        SDB_TRY(expect_kw(p, SDB_KW_BY));
        if (is_word(p, &p->cur, "hour"))
            st->v.create.partition = SDB_PARTITION_HOUR;
        else if (is_word(p, &p->cur, "day"))
            st->v.create.partition = SDB_PARTITION_DAY;
        else if (is_word(p, &p->cur, "month"))
            st->v.create.partition = SDB_PARTITION_MONTH;
        else
            return expected(p, "HOUR, DAY or MONTH");
        SDB_TRY(next(p));
    }
    if (is_kw(&p->cur, SDB_KW_ORDER)) {
        bool paren;
        uint32_t scap = 0;
        SDB_TRY(next(p));
        SDB_TRY(expect_kw(p, SDB_KW_BY));
        paren = p->cur.kind == SDB_TOK_LPAREN;
        if (paren)
            SDB_TRY(next(p));
        for (;;) {
            void *v = st->v.create.sort_key;
            SDB_TRY(grow(p, &v, st->v.create.nsort, &scap, sizeof *st->v.create.sort_key));
            st->v.create.sort_key = v;
            SDB_TRY(
                parse_name(p, "a column name", &st->v.create.sort_key[st->v.create.nsort++], NULL));
            if (p->cur.kind != SDB_TOK_COMMA)
                break;
            SDB_TRY(next(p));
        }
        if (paren)
            SDB_TRY(expect_tok(p, SDB_TOK_RPAREN));
    }
    return SDB_OK;
}

static sdb_rc parse_stmt(parser *p, sdb_stmt **out)
{
    sdb_stmt *st = sdb_arena_calloc(p->a, 1, sizeof *st, p->err);
    if (st == NULL)
        return nomem(p);
    st->pos = p->cur.pos;
    *out = st;
    if (p->cur.kind != SDB_TOK_KEYWORD)
        goto unknown;
    switch (p->cur.kw) {
    case SDB_KW_SELECT: st->kind = SDB_STMT_SELECT; return parse_select(p, &st->v.select);
    case SDB_KW_EXPLAIN:
        st->kind = SDB_STMT_EXPLAIN;
        SDB_TRY(next(p));
        if (is_word(p, &p->cur, "analyze")) {
            st->v.explain.analyze = true;
            SDB_TRY(next(p));
        }
        if (!is_kw(&p->cur, SDB_KW_SELECT))
            return expected(p, "SELECT after EXPLAIN");
        return parse_select(p, &st->v.explain.select);
    case SDB_KW_SHOW:
        st->kind = SDB_STMT_SHOW_TABLES;
        SDB_TRY(next(p));
        if (!is_word(p, &p->cur, "tables"))
            return expected(p, "TABLES after SHOW");
        return next(p);
    case SDB_KW_DESCRIBE:
    case SDB_KW_DESC:
        st->kind = SDB_STMT_DESCRIBE;
        SDB_TRY(next(p));
        return parse_name(p, "a table name", &st->v.table.name, &st->v.table.pos);
    case SDB_KW_CREATE: st->kind = SDB_STMT_CREATE_TABLE; return parse_create(p, st);
    case SDB_KW_DROP:
        st->kind = SDB_STMT_DROP_TABLE;
        SDB_TRY(next(p));
        SDB_TRY(expect_kw(p, SDB_KW_TABLE));
        if (is_word(p, &p->cur, "if") && is_word(p, &p->nxt, "exists")) {
            st->v.drop.if_exists = true;
            SDB_TRY(next(p));
            SDB_TRY(next(p));
        }
        return parse_name(p, "a table name", &st->v.drop.name, &st->v.drop.pos);
    default: break;
    }
unknown:
    return expected(p, "a statement (SELECT, EXPLAIN, SHOW, DESCRIBE, CREATE or DROP)");
}

static sdb_rc expect_end(parser *p)
{
    if (p->cur.kind == SDB_TOK_SEMI)
        SDB_TRY(next(p));
    if (p->cur.kind != SDB_TOK_EOF)
        return expected_end(p, "end of input");
    return SDB_OK;
}

static sdb_rc start(parser *p, sdb_arena *a, const char *sql, size_t len, sdb_err *err)
{
    memset(p, 0, sizeof *p);
    p->a = a;
    p->err = err;
    if (sdb_lexer_init(&p->lx, sql, len, err) != SDB_OK)
        return SDB_ERR_LIMIT;
    SDB_TRY(lex(p, &p->cur));
    if (p->cur.kind == SDB_TOK_EOF) {
        p->nxt = p->cur;
        return SDB_OK;
    }
    return lex(p, &p->nxt);
}

static sdb_rc done(parser *p, sdb_rc rc, sdb_pos *err_pos)
{
    if (err_pos != NULL) {
        sdb_pos none = {0, 0};
        *err_pos = rc == SDB_OK ? none : p->err_pos;
    }
    return rc;
}

sdb_rc sdb_parse(sdb_arena *a, const char *sql, size_t len, sdb_stmt **out, sdb_pos *err_pos,
                 sdb_err *err)
{
    parser p;
    sdb_stmt *st = NULL;
    sdb_rc rc = start(&p, a, sql, len, err);
    if (rc == SDB_OK)
        rc = parse_stmt(&p, &st);
    if (rc == SDB_OK)
        rc = expect_end(&p);
    if (rc == SDB_OK)
        *out = st;
    return done(&p, rc, err_pos);
}

sdb_rc sdb_parse_expr(sdb_arena *a, const char *sql, size_t len, sdb_expr **out, sdb_pos *err_pos,
                      sdb_err *err)
{
    parser p;
    sdb_expr *e = NULL;
    sdb_rc rc = start(&p, a, sql, len, err);
    if (rc == SDB_OK)
        rc = parse_expr(&p, &e);
    if (rc == SDB_OK)
        rc = expect_end(&p);
    if (rc == SDB_OK)
        *out = e;
    return done(&p, rc, err_pos);
}
