/* SQL lexer: turns query text into tokens on demand, each with its byte span and its
 * line:col (1-based; columns count UTF-8 characters). Reserved keywords are recognised
 * case-insensitively and come out as SDB_TOK_KEYWORD; every other word is SDB_TOK_IDENT, and
 * the parser recognises contextual words (NULLS, FIRST, TABLES, DAY...) by their text.
 * Comments (-- to end of line, C-style) and whitespace are skipped. Literals keep their raw
 * text: the parser decodes '' and "" escapes and converts numbers. */
#ifndef SDB_QUERY_LEXER_H
#define SDB_QUERY_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

/* Longest SQL text accepted (SDB_ERR_LIMIT beyond). */
#define SDB_SQL_MAX_LEN (1024u * 1024u)

typedef enum sdb_tok_kind {
    SDB_TOK_EOF = 0,
    SDB_TOK_IDENT,   /* unquoted word that is not a reserved keyword */
    SDB_TOK_QIDENT,  /* "quoted identifier", span includes the quotes */
    SDB_TOK_KEYWORD, /* reserved keyword: see kw */
    SDB_TOK_STRING,  /* 'string literal', span includes the quotes */
    SDB_TOK_INT,     /* digits only */
    SDB_TOK_FLOAT,   /* digits with '.' and/or an exponent */
    SDB_TOK_COMMA,
    SDB_TOK_LPAREN,
    SDB_TOK_RPAREN,
    SDB_TOK_DOT,
    SDB_TOK_SEMI,
    SDB_TOK_STAR,
    SDB_TOK_PLUS,
    SDB_TOK_MINUS,
    SDB_TOK_SLASH,
    SDB_TOK_PERCENT,
    SDB_TOK_EQ, /* = (also ==) */
    SDB_TOK_NE, /* != or <> */
    SDB_TOK_LT,
    SDB_TOK_LE,
    SDB_TOK_GT,
    SDB_TOK_GE,
    SDB_TOK_DCOLON, /* :: */
} sdb_tok_kind;

/* Reserved keywords: these cannot be column or table names unless quoted. */
/* clang-format off */
#define SDB_KEYWORDS(X)                                                                        \
    X(AND) X(AS) X(ASC) X(BETWEEN) X(BY) X(CASE) X(CAST) X(CREATE) X(DESC) X(DESCRIBE)        \
    X(DISTINCT) X(DROP) X(ELSE) X(END) X(EXPLAIN) X(FALSE) X(FROM) X(GROUP) X(HAVING) X(ILIKE) \
    X(IN) X(INTERVAL) X(IS) X(LIKE) X(LIMIT) X(NOT) X(NULL) X(OFFSET) X(OR) X(ORDER)          \
    X(PARTITION) X(SELECT) X(SHOW) X(TABLE) X(THEN) X(TIMESTAMP) X(TRUE) X(WHEN) X(WHERE)

typedef enum sdb_kw {
    SDB_KW_NONE = 0,
#define SDB_KW_ENUM_(k) SDB_KW_##k,
    SDB_KEYWORDS(SDB_KW_ENUM_)
#undef SDB_KW_ENUM_
    SDB_KW__COUNT
} sdb_kw;
/* clang-format on */

/* A place in the query text. */
typedef struct sdb_pos {
    uint32_t line; /* 1-based; 0 when unknown */
    uint32_t col;  /* 1-based, in UTF-8 characters */
} sdb_pos;

typedef struct sdb_token {
    sdb_tok_kind kind; /* what it is */
    sdb_kw kw;         /* for SDB_TOK_KEYWORD, else SDB_KW_NONE */
    uint32_t off;      /* byte offset of the first byte in the text */
    uint32_t len;      /* bytes, quotes included */
    sdb_pos pos;       /* where it starts */
} sdb_token;

typedef struct sdb_lexer {
    const char *src; /* borrowed query text, not NUL-terminated */
    size_t len;      /* bytes of src, <= SDB_SQL_MAX_LEN */
    size_t at;       /* next byte to read */
    uint32_t line;   /* line of src[at] */
    uint32_t col;    /* column of src[at] */
} sdb_lexer;

/* Start lexing len bytes of src (borrowed for the lexer's lifetime). Fails with
 * SDB_ERR_LIMIT when len exceeds SDB_SQL_MAX_LEN. */
sdb_rc sdb_lexer_init(sdb_lexer *lx, const char *src, size_t len, sdb_err *err);

/* Read the next token into tok (SDB_TOK_EOF at the end, repeatedly). Fails with
 * SDB_ERR_PARSE and a message 'parse error at L:C near '...': reason' for an unterminated
 * string, identifier or comment, a malformed number, a NUL byte or an unexpected character;
 * *tok then holds the offending span so callers can report its position. */
sdb_rc sdb_lexer_next(sdb_lexer *lx, sdb_token *tok, sdb_err *err);

/* Keyword for a word (case-insensitive), SDB_KW_NONE when it is not reserved. */
sdb_kw sdb_keyword_lookup(const char *s, size_t len);
/* Upper-case spelling of a keyword ("SELECT"). */
const char *sdb_keyword_name(sdb_kw kw);
/* Short description of a token kind for messages ("identifier", "','", "end of input"). */
const char *sdb_tok_kind_name(sdb_tok_kind kind);

/* Render the token for a message into out (cap >= 16): its text in single quotes, at most
 * ~40 bytes cut at a character boundary with "..." appended, control bytes shown as '?';
 * "end of input" (no quotes) for SDB_TOK_EOF. */
void sdb_token_describe(const sdb_lexer *lx, const sdb_token *tok, char *out, size_t cap);

#endif
