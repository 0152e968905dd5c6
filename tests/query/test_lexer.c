/* The SQL lexer: token kinds, spans, positions and its error messages. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "query/lexer.h"

#define MAXTOK 64

typedef struct lexed {
    sdb_lexer lx;
    sdb_token toks[MAXTOK];
    int n;
    sdb_rc rc;
    sdb_err err;
} lexed;

/* Lex all of s; stops at EOF or the first error. */
static lexed *lex_all(const char *s)
{
    lexed *l = calloc(1, sizeof *l);
    cr_assert_not_null(l);
    cr_assert_eq(sdb_lexer_init(&l->lx, s, strlen(s), &l->err), SDB_OK);
    for (;;) {
        cr_assert_lt(l->n, MAXTOK);
        l->rc = sdb_lexer_next(&l->lx, &l->toks[l->n], &l->err);
        if (l->rc != SDB_OK || l->toks[l->n].kind == SDB_TOK_EOF)
            break;
        l->n++;
    }
    return l;
}

static void assert_text(const lexed *l, int i, const char *text)
{
    const sdb_token *t = &l->toks[i];
    cr_assert_eq(t->len, strlen(text), "token %d length %u, want '%s'", i, t->len, text);
    cr_assert(memcmp(l->lx.src + t->off, text, t->len) == 0, "token %d is not '%s'", i, text);
}

Test(lexer, select_statement_yields_expected_kinds)
{
    lexed *l = lex_all("SELECT model, count(*) FROM spans WHERE x >= 1.5;");
    static const sdb_tok_kind want[] = {
        SDB_TOK_KEYWORD, SDB_TOK_IDENT,  SDB_TOK_COMMA,   SDB_TOK_IDENT, SDB_TOK_LPAREN,
        SDB_TOK_STAR,    SDB_TOK_RPAREN, SDB_TOK_KEYWORD, SDB_TOK_IDENT, SDB_TOK_KEYWORD,
        SDB_TOK_IDENT,   SDB_TOK_GE,     SDB_TOK_FLOAT,   SDB_TOK_SEMI,
    };
    cr_assert_eq(l->rc, SDB_OK);
    cr_assert_eq(l->n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < l->n; i++)
        cr_assert_eq(l->toks[i].kind, want[i], "token %d", i);
    cr_assert_eq(l->toks[0].kw, SDB_KW_SELECT);
    cr_assert_eq(l->toks[7].kw, SDB_KW_FROM);
    assert_text(l, 12, "1.5");
    free(l);
}

Test(lexer, keywords_are_case_insensitive)
{
    lexed *l = lex_all("select SeLeCt FROM from fRoM selector");
    cr_assert_eq(l->rc, SDB_OK);
    cr_assert_eq(l->toks[0].kw, SDB_KW_SELECT);
    cr_assert_eq(l->toks[1].kw, SDB_KW_SELECT);
    cr_assert_eq(l->toks[2].kw, SDB_KW_FROM);
    cr_assert_eq(l->toks[3].kw, SDB_KW_FROM);
    cr_assert_eq(l->toks[4].kw, SDB_KW_FROM);
    cr_assert_eq(l->toks[5].kind, SDB_TOK_IDENT);
    cr_assert_eq(sdb_keyword_lookup("between", 7), SDB_KW_BETWEEN);
    cr_assert_eq(sdb_keyword_lookup("time", 4), SDB_KW_NONE);
    cr_assert_str_eq(sdb_keyword_name(SDB_KW_ILIKE), "ILIKE");
    free(l);
}

Test(lexer, positions_count_lines_and_utf8_columns)
{
    lexed *l = lex_all("SELECT\n  a,\n\t'é', b -- comment\n/* block\n comment */ c");
    cr_assert_eq(l->rc, SDB_OK);
    cr_assert_eq(l->n, 7);
    cr_assert(l->toks[1].pos.line == 2 && l->toks[1].pos.col == 3);
    cr_assert(l->toks[3].pos.line == 3 && l->toks[3].pos.col == 2);
    /* 'é' is one column wide although two bytes */
    cr_assert(l->toks[5].pos.line == 3 && l->toks[5].pos.col == 7, "%u:%u", l->toks[5].pos.line,
              l->toks[5].pos.col);
    cr_assert(l->toks[6].pos.line == 5 && l->toks[6].pos.col == 13);
    assert_text(l, 6, "c");
    free(l);
}

Test(lexer, strings_and_quoted_identifiers_keep_escapes_in_span)
{
    lexed *l = lex_all("'it''s' \"my \"\"col\"\"\" ''");
    cr_assert_eq(l->rc, SDB_OK);
    cr_assert_eq(l->n, 3);
    cr_assert_eq(l->toks[0].kind, SDB_TOK_STRING);
    assert_text(l, 0, "'it''s'");
    cr_assert_eq(l->toks[1].kind, SDB_TOK_QIDENT);
    assert_text(l, 1, "\"my \"\"col\"\"\"");
    cr_assert_eq(l->toks[2].kind, SDB_TOK_STRING);
    assert_text(l, 2, "''");
    free(l);
}

Test(lexer, numbers_integers_floats_exponents)
{
    lexed *l = lex_all("42 3.14 .5 1. 1e9 2.5E-3 007");
    cr_assert_eq(l->rc, SDB_OK);
    cr_assert_eq(l->n, 7);
    cr_assert_eq(l->toks[0].kind, SDB_TOK_INT);
    cr_assert_eq(l->toks[1].kind, SDB_TOK_FLOAT);
    cr_assert_eq(l->toks[2].kind, SDB_TOK_FLOAT);
    cr_assert_eq(l->toks[3].kind, SDB_TOK_FLOAT);
    cr_assert_eq(l->toks[4].kind, SDB_TOK_FLOAT);
    cr_assert_eq(l->toks[5].kind, SDB_TOK_FLOAT);
    assert_text(l, 5, "2.5E-3");
    cr_assert_eq(l->toks[6].kind, SDB_TOK_INT);
    free(l);
}

Test(lexer, operators_all_spellings)
{
    lexed *l = lex_all("= == != <> < <= > >= + - * / % :: . ( ) , ;");
    static const sdb_tok_kind want[] = {
        SDB_TOK_EQ,     SDB_TOK_EQ,     SDB_TOK_NE,      SDB_TOK_NE,     SDB_TOK_LT,
        SDB_TOK_LE,     SDB_TOK_GT,     SDB_TOK_GE,      SDB_TOK_PLUS,   SDB_TOK_MINUS,
        SDB_TOK_STAR,   SDB_TOK_SLASH,  SDB_TOK_PERCENT, SDB_TOK_DCOLON, SDB_TOK_DOT,
        SDB_TOK_LPAREN, SDB_TOK_RPAREN, SDB_TOK_COMMA,   SDB_TOK_SEMI,
    };
    cr_assert_eq(l->rc, SDB_OK);
    cr_assert_eq(l->n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < l->n; i++)
        cr_assert_eq(l->toks[i].kind, want[i], "token %d", i);
    free(l);
}

Test(lexer, eof_repeats_after_end)
{
    sdb_lexer lx;
    sdb_token t;
    sdb_err err;
    cr_assert_eq(sdb_lexer_init(&lx, "x", 1, &err), SDB_OK);
    cr_assert_eq(sdb_lexer_next(&lx, &t, &err), SDB_OK);
    cr_assert_eq(t.kind, SDB_TOK_IDENT);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sdb_lexer_next(&lx, &t, &err), SDB_OK);
        cr_assert_eq(t.kind, SDB_TOK_EOF);
    }
}

static void lex_fails(const char *s, const char *msg)
{
    lexed *l = lex_all(s);
    cr_assert_eq(l->rc, SDB_ERR_PARSE, "%s", s);
    cr_assert_str_eq(l->err.msg, msg);
    free(l);
}

Test(lexer, unterminated_string_names_its_start)
{
    lex_fails("SELECT 'abc", "parse error at 1:8 near ''abc': unterminated string literal");
    lex_fails("SELECT 'it''s", "parse error at 1:8 near ''it''s': unterminated string literal");
}

Test(lexer, unterminated_identifier_and_comment)
{
    lex_fails("SELECT \"abc", "parse error at 1:8 near '\"abc': unterminated quoted identifier");
    lex_fails("SELECT 1 /* open", "parse error at 1:10 near '/*': unterminated comment");
    lex_fails("SELECT \"\"", "parse error at 1:8 near '\"\"': empty quoted identifier");
}

Test(lexer, malformed_numbers)
{
    lex_fails("SELECT 12abc", "parse error at 1:8 near '12abc': malformed number");
    lex_fails("SELECT 1e+", "parse error at 1:8 near '1e+': malformed number: expected digits in "
                            "the exponent");
    lex_fails("SELECT 1.2.3", "parse error at 1:8 near '1.2.3': malformed number");
}

Test(lexer, unexpected_characters)
{
    lex_fails("SELECT a # b", "parse error at 1:10 near '#': unexpected character");
    lex_fails("SELECT a ! b", "parse error at 1:10 near '!': unexpected character");
    lex_fails("SELECT a : b", "parse error at 1:10 near ':': unexpected character");
    lex_fails("SELECT `a`", "parse error at 1:8 near '`': unexpected character");
}

Test(lexer, nul_bytes_are_rejected)
{
    static const char q1[] = "SELECT a\0b";
    static const char q2[] = "SELECT 'a\0b'";
    sdb_lexer lx;
    sdb_token t;
    sdb_err err;
    sdb_rc rc = SDB_OK;
    cr_assert_eq(sdb_lexer_init(&lx, q1, sizeof q1 - 1, &err), SDB_OK);
    for (int i = 0; i < 3 && rc == SDB_OK; i++)
        rc = sdb_lexer_next(&lx, &t, &err);
    cr_assert_eq(rc, SDB_ERR_PARSE);
    cr_assert_str_eq(err.msg, "parse error at 1:9 near '?': unexpected NUL byte");
    rc = SDB_OK;
    cr_assert_eq(sdb_lexer_init(&lx, q2, sizeof q2 - 1, &err), SDB_OK);
    for (int i = 0; i < 3 && rc == SDB_OK; i++)
        rc = sdb_lexer_next(&lx, &t, &err);
    cr_assert_eq(rc, SDB_ERR_PARSE);
    cr_assert(strstr(err.msg, "string literal contains a NUL byte") != NULL, "%s", err.msg);
}

Test(lexer, too_long_query_is_limit)
{
    size_t n = SDB_SQL_MAX_LEN + 1;
    char *big = malloc(n);
    sdb_lexer lx;
    sdb_err err;
    cr_assert_not_null(big);
    memset(big, ' ', n);
    cr_assert_eq(sdb_lexer_init(&lx, big, n, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "exceeds the limit of 1048576 bytes") != NULL, "%s", err.msg);
    free(big);
}

Test(lexer, describe_truncates_long_tokens_at_char_boundary)
{
    char q[200];
    char out[64];
    sdb_lexer lx;
    sdb_token t;
    sdb_err err;
    memset(q, 0, sizeof q);
    strcpy(q, "'");
    for (int i = 0; i < 30; i++)
        strcat(q, "é");
    strcat(q, "'");
    cr_assert_eq(sdb_lexer_init(&lx, q, strlen(q), &err), SDB_OK);
    cr_assert_eq(sdb_lexer_next(&lx, &t, &err), SDB_OK);
    sdb_token_describe(&lx, &t, out, sizeof out);
    cr_assert(strlen(out) < sizeof out);
    cr_assert(strstr(out, "...'") != NULL, "%s", out);
    /* 40 bytes allowed: the quote plus 19 whole two-byte characters */
    cr_assert_eq(strlen(out), 1 + 1 + 38 + 3 + 1, "%s", out);
    t.kind = SDB_TOK_EOF;
    sdb_token_describe(&lx, &t, out, sizeof out);
    cr_assert_str_eq(out, "end of input");
}

Test(lexer, kind_names_cover_every_kind)
{
    for (int k = SDB_TOK_EOF; k <= SDB_TOK_DCOLON; k++) {
        const char *n = sdb_tok_kind_name((sdb_tok_kind)k);
        cr_assert(n != NULL && strcmp(n, "token") != 0, "kind %d", k);
    }
    cr_assert_str_eq(sdb_tok_kind_name(SDB_TOK_EOF), "end of input");
    cr_assert_str_eq(sdb_tok_kind_name((sdb_tok_kind)999), "token");
    cr_assert_str_eq(sdb_keyword_name((sdb_kw)999), "?");
}
