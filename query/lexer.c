/* SQL lexer: a hand-written scanner over a byte span. It never allocates; tokens point into
 * the caller's text. Positions advance per byte, counting a column for every byte that does
 * not continue a UTF-8 sequence, and a line for every '\n'. */
#include "query/lexer.h"

#include <stdio.h>
#include <string.h>

static const char *const kw_names[SDB_KW__COUNT] = {[SDB_KW_NONE] = "",
#define KW_NAME_(k) [SDB_KW_##k] = #k,
                                                    SDB_KEYWORDS(KW_NAME_)
#undef KW_NAME_
};

sdb_kw sdb_keyword_lookup(const char *s, size_t len)
{
    if (len < 2 || len > 9)
        return SDB_KW_NONE;
    for (int k = 1; k < SDB_KW__COUNT; k++) {
        const char *n = kw_names[k];
        size_t j = 0;
        /* keywords are upper-case letters only: folding bit 0x20 off is exact for letters,
         * and a non-letter byte can never match a letter after folding */
        while (j < len && n[j] != '\0' && (s[j] & ~0x20) == n[j])
            j++;
        if (j == len && n[j] == '\0')
            return (sdb_kw)k;
    }
    return SDB_KW_NONE;
}

const char *sdb_keyword_name(sdb_kw kw)
{
    if ((unsigned)kw >= SDB_KW__COUNT)
        return "?";
    return kw_names[kw];
}

const char *sdb_tok_kind_name(sdb_tok_kind kind)
{
    switch (kind) {
    case SDB_TOK_EOF: return "end of input";
    case SDB_TOK_IDENT: return "identifier";
    case SDB_TOK_QIDENT: return "quoted identifier";
    case SDB_TOK_KEYWORD: return "keyword";
    case SDB_TOK_STRING: return "string";
    case SDB_TOK_INT: return "integer";
    case SDB_TOK_FLOAT: return "number";
    case SDB_TOK_COMMA: return "','";
    case SDB_TOK_LPAREN: return "'('";
    case SDB_TOK_RPAREN: return "')'";
    case SDB_TOK_DOT: return "'.'";
    case SDB_TOK_SEMI: return "';'";
    case SDB_TOK_STAR: return "'*'";
    case SDB_TOK_PLUS: return "'+'";
    case SDB_TOK_MINUS: return "'-'";
    case SDB_TOK_SLASH: return "'/'";
    case SDB_TOK_PERCENT: return "'%'";
    case SDB_TOK_EQ: return "'='";
    case SDB_TOK_NE: return "'!='";
    case SDB_TOK_LT: return "'<'";
    case SDB_TOK_LE: return "'<='";
    case SDB_TOK_GT: return "'>'";
    case SDB_TOK_GE: return "'>='";
    case SDB_TOK_DCOLON: return "'::'";
    }
    return "token";
}

sdb_rc sdb_lexer_init(sdb_lexer *lx, const char *src, size_t len, sdb_err *err)
{
    lx->src = src;
    lx->len = len;
    lx->at = 0;
    lx->line = 1;
    lx->col = 1;
    if (len > SDB_SQL_MAX_LEN) {
        lx->len = 0;
        return SDB_FAIL(err, SDB_ERR_LIMIT, "query of %zu bytes exceeds the limit of %u bytes", len,
                        SDB_SQL_MAX_LEN);
    }
    return SDB_OK;
}

static void advance(sdb_lexer *lx)
{
    unsigned char ch = (unsigned char)lx->src[lx->at++];
    if (ch == '\n') {
        lx->line++;
        lx->col = 1;
    } else if ((ch & 0xC0) != 0x80) {
        lx->col++;
    }
}

static int peek_at(const sdb_lexer *lx, size_t k)
{
    return lx->at + k < lx->len ? (unsigned char)lx->src[lx->at + k] : -1;
}

static bool is_ident_start(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch >= 0x80;
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_ident_char(int ch)
{
    return is_ident_start(ch) || is_digit(ch) || ch == '$';
}

void sdb_token_describe(const sdb_lexer *lx, const sdb_token *tok, char *out, size_t cap)
{
    size_t n, o = 0, max = cap > 12 ? cap - 12 : 0;
    bool cut = false;
    if (tok->kind == SDB_TOK_EOF) {
        snprintf(out, cap, "end of input");
        return;
    }
    if (max > 40)
        max = 40;
    n = tok->len;
    if (tok->off > lx->len)
        n = 0;
    else if (n > lx->len - tok->off)
        n = lx->len - tok->off;
    if (n > max) {
        n = max;
        /* do not split a UTF-8 sequence */
        while (n > 0 && ((unsigned char)lx->src[tok->off + n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    out[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)lx->src[tok->off + i];
        out[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '\'';
    out[o] = '\0';
}

static sdb_rc lex_fail(const sdb_lexer *lx, const sdb_token *tok, sdb_err *err, const char *why)
{
    char near[64];
    sdb_token_describe(lx, tok, near, sizeof near);
    return SDB_FAIL(err, SDB_ERR_PARSE, "parse error at %u:%u near %s: %s", tok->pos.line,
                    tok->pos.col, near, why);
}

/* Skip whitespace and comments; fails only on an unterminated block comment. */
static sdb_rc skip_space(sdb_lexer *lx, sdb_token *tok, sdb_err *err)
{
    for (;;) {
        int ch = peek_at(lx, 0);
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            advance(lx);
        } else if (ch == '-' && peek_at(lx, 1) == '-') {
            while (lx->at < lx->len && lx->src[lx->at] != '\n')
                advance(lx);
        } else if (ch == '/' && peek_at(lx, 1) == '*') {
            tok->off = (uint32_t)lx->at;
            tok->pos.line = lx->line;
            tok->pos.col = lx->col;
            advance(lx);
            advance(lx);
            while (lx->at < lx->len && !(lx->src[lx->at] == '*' && peek_at(lx, 1) == '/'))
                advance(lx);
            if (lx->at >= lx->len) {
                tok->kind = SDB_TOK_SLASH; /* described by its text, the opening slash-star */
                tok->len = 2;
                return lex_fail(lx, tok, err, "unterminated comment");
            }
            advance(lx);
            advance(lx);
        } else {
            return SDB_OK;
        }
    }
}

/* A quoted run ('...' or "...") where a doubled quote is an escaped quote. */
static sdb_rc lex_quoted(sdb_lexer *lx, sdb_token *tok, char q, sdb_err *err)
{
    advance(lx);
    for (;;) {
        if (lx->at >= lx->len) {
            tok->len = (uint32_t)(lx->at - tok->off);
            return lex_fail(lx, tok, err,
                            q == '\'' ? "unterminated string literal"
                                      : "unterminated quoted identifier");
        }
        if (lx->src[lx->at] == '\0') {
            tok->len = (uint32_t)(lx->at - tok->off);
            return lex_fail(lx, tok, err,
                            q == '\'' ? "string literal contains a NUL byte"
                                      : "quoted identifier contains a NUL byte");
        }
        if (lx->src[lx->at] == q) {
            advance(lx);
            if (peek_at(lx, 0) != q)
                break;
        }
        advance(lx);
    }
    tok->len = (uint32_t)(lx->at - tok->off);
    if (q == '"' && tok->len == 2)
        return lex_fail(lx, tok, err, "empty quoted identifier");
    return SDB_OK;
}

static sdb_rc lex_number(sdb_lexer *lx, sdb_token *tok, sdb_err *err)
{
    bool is_float = false;
    while (is_digit(peek_at(lx, 0)))
        advance(lx);
    if (peek_at(lx, 0) == '.') {
        is_float = true;
        advance(lx);
        while (is_digit(peek_at(lx, 0)))
            advance(lx);
    }
    if (peek_at(lx, 0) == 'e' || peek_at(lx, 0) == 'E') {
        is_float = true;
        advance(lx);
        if (peek_at(lx, 0) == '+' || peek_at(lx, 0) == '-')
            advance(lx);
        if (!is_digit(peek_at(lx, 0))) {
            while (is_ident_char(peek_at(lx, 0)))
                advance(lx);
            tok->len = (uint32_t)(lx->at - tok->off);
            return lex_fail(lx, tok, err, "malformed number: expected digits in the exponent");
        }
        while (is_digit(peek_at(lx, 0)))
            advance(lx);
    }
    if (is_ident_char(peek_at(lx, 0)) || peek_at(lx, 0) == '.') {
        while (is_ident_char(peek_at(lx, 0)) || peek_at(lx, 0) == '.')
            advance(lx);
        tok->len = (uint32_t)(lx->at - tok->off);
        return lex_fail(lx, tok, err, "malformed number");
    }
    tok->kind = is_float ? SDB_TOK_FLOAT : SDB_TOK_INT;
    tok->len = (uint32_t)(lx->at - tok->off);
    return SDB_OK;
}

sdb_rc sdb_lexer_next(sdb_lexer *lx, sdb_token *tok, sdb_err *err)
{
    int ch, nx;
    tok->kw = SDB_KW_NONE;
    SDB_TRY(skip_space(lx, tok, err));
    tok->off = (uint32_t)lx->at;
    tok->pos.line = lx->line;
    tok->pos.col = lx->col;
    tok->len = 1;
    if (lx->at >= lx->len) {
        tok->kind = SDB_TOK_EOF;
        tok->len = 0;
        return SDB_OK;
    }
    ch = peek_at(lx, 0);
    nx = peek_at(lx, 1);
    tok->kind = SDB_TOK_IDENT; /* until known: errors describe the token by its text */
    if (is_ident_start(ch)) {
        while (is_ident_char(peek_at(lx, 0)))
            advance(lx);
        tok->len = (uint32_t)(lx->at - tok->off);
        tok->kw = sdb_keyword_lookup(lx->src + tok->off, tok->len);
        tok->kind = tok->kw != SDB_KW_NONE ? SDB_TOK_KEYWORD : SDB_TOK_IDENT;
        return SDB_OK;
    }
    if (is_digit(ch) || (ch == '.' && is_digit(nx)))
        return lex_number(lx, tok, err);
    if (ch == '\'') {
        tok->kind = SDB_TOK_STRING;
        return lex_quoted(lx, tok, '\'', err);
    }
    if (ch == '"') {
        tok->kind = SDB_TOK_QIDENT;
        return lex_quoted(lx, tok, '"', err);
    }
    switch (ch) {
    case ',': tok->kind = SDB_TOK_COMMA; break;
    case '(': tok->kind = SDB_TOK_LPAREN; break;
    case ')': tok->kind = SDB_TOK_RPAREN; break;
    case '.': tok->kind = SDB_TOK_DOT; break;
    case ';': tok->kind = SDB_TOK_SEMI; break;
    case '*': tok->kind = SDB_TOK_STAR; break;
    case '+': tok->kind = SDB_TOK_PLUS; break;
    case '-': tok->kind = SDB_TOK_MINUS; break;
    case '/': tok->kind = SDB_TOK_SLASH; break;
    case '%': tok->kind = SDB_TOK_PERCENT; break;
    case '=':
        tok->kind = SDB_TOK_EQ;
        tok->len = nx == '=' ? 2 : 1;
        break;
    case '!':
        if (nx != '=')
            return lex_fail(lx, tok, err, "unexpected character");
        tok->kind = SDB_TOK_NE;
        tok->len = 2;
        break;
    case '<':
        tok->kind = nx == '=' ? SDB_TOK_LE : nx == '>' ? SDB_TOK_NE : SDB_TOK_LT;
        tok->len = nx == '=' || nx == '>' ? 2 : 1;
        break;
    case '>':
        tok->kind = nx == '=' ? SDB_TOK_GE : SDB_TOK_GT;
        tok->len = nx == '=' ? 2 : 1;
        break;
    case ':':
        if (nx != ':')
            return lex_fail(lx, tok, err, "unexpected character");
        tok->kind = SDB_TOK_DCOLON;
        tok->len = 2;
        break;
    default:
        if (ch == 0)
            return lex_fail(lx, tok, err, "unexpected NUL byte");
        return lex_fail(lx, tok, err, "unexpected character");
    }
    for (uint32_t i = 0; i < tok->len; i++)
        advance(lx);
    return SDB_OK;
}
