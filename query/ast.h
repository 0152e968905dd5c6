/* The SQL abstract syntax tree: plain tagged structs, every node carrying the line:col where
 * it starts. All nodes, arrays and strings live in one sdb_arena owned by the caller; the
 * tree holds no pointers but into that arena (no callbacks, no handles), so a later pass can
 * serialise it. Identifiers are stored folded to lower case unless they were quoted;
 * function names are always lower case. Literal values are decoded (escapes removed,
 * numbers converted, TIMESTAMP and INTERVAL literals in nanoseconds).
 *
 * The printer renders a tree back to canonical SQL: upper-case keywords, minimal
 * parentheses by precedence, `x::t` as CAST(x AS t), timestamps as ISO-8601 UTC, intervals
 * in their largest exact unit. Parsing printed text gives the same tree and prints the same
 * text (the SQL fuzz harness checks this). */
#ifndef SDB_QUERY_AST_H
#define SDB_QUERY_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/lexer.h"
#include "storage/common/arena.h"
#include "storage/common/buf.h"
#include "storage/common/error.h"
#include "storage/types.h"

/* Deepest expression tree and deepest parser recursion accepted (SDB_ERR_LIMIT beyond).
 * Every consumer may recurse over a parsed tree without its own bound. */
#define SDB_AST_MAX_DEPTH 256

typedef enum sdb_expr_kind {
    SDB_EXPR_NULL = 1,  /* NULL */
    SDB_EXPR_BOOL,      /* TRUE / FALSE: v.b */
    SDB_EXPR_INT,       /* integer literal: v.i */
    SDB_EXPR_FLOAT,     /* float literal: v.f */
    SDB_EXPR_STRING,    /* string literal: v.str */
    SDB_EXPR_TIMESTAMP, /* TIMESTAMP '...': v.i ns since the epoch */
    SDB_EXPR_INTERVAL,  /* INTERVAL '...' / INTERVAL n UNIT: v.i ns */
    SDB_EXPR_COLUMN,    /* [table.]name: v.col */
    SDB_EXPR_STAR,      /* '*' in a select list */
    SDB_EXPR_UNARY,     /* -x, NOT x: v.unary */
    SDB_EXPR_BINARY,    /* arithmetic, comparison, AND, OR: v.bin */
    SDB_EXPR_IN,        /* x [NOT] IN (list): v.in */
    SDB_EXPR_BETWEEN,   /* x [NOT] BETWEEN lo AND hi: v.between */
    SDB_EXPR_IS_NULL,   /* x IS [NOT] NULL: v.is_null */
    SDB_EXPR_LIKE,      /* x [NOT] LIKE|ILIKE pattern: v.like */
    SDB_EXPR_CASE,      /* CASE [operand] WHEN.. THEN.. [ELSE..] END: v.cas */
    SDB_EXPR_CAST,      /* CAST(x AS type), x::type: v.cast */
    SDB_EXPR_FUNC,      /* name(args), count(*), count(DISTINCT x): v.func */
} sdb_expr_kind;

typedef enum sdb_unop {
    SDB_UNOP_NEG = 1, /* -x */
    SDB_UNOP_NOT,     /* NOT x */
} sdb_unop;

typedef enum sdb_binop {
    SDB_BINOP_ADD = 1,
    SDB_BINOP_SUB,
    SDB_BINOP_MUL,
    SDB_BINOP_DIV,
    SDB_BINOP_MOD,
    SDB_BINOP_EQ,
    SDB_BINOP_NE,
    SDB_BINOP_LT,
    SDB_BINOP_LE,
    SDB_BINOP_GT,
    SDB_BINOP_GE,
    SDB_BINOP_AND,
    SDB_BINOP_OR,
} sdb_binop;

/* A string from the arena: NUL-terminated, never containing NUL. */
typedef struct sdb_text {
    const char *s; /* arena-owned */
    uint32_t len;  /* bytes, NUL excluded */
} sdb_text;

typedef struct sdb_expr sdb_expr;

struct sdb_expr {
    sdb_expr_kind kind; /* which member of v is set */
    sdb_pos pos;        /* where the expression starts */
    uint16_t depth;     /* 1 for a leaf, 1 + the deepest child otherwise; <= SDB_AST_MAX_DEPTH */
    union {
        bool b;      /* SDB_EXPR_BOOL */
        int64_t i;   /* SDB_EXPR_INT, SDB_EXPR_TIMESTAMP, SDB_EXPR_INTERVAL */
        double f;    /* SDB_EXPR_FLOAT: finite */
        sdb_text str; /* SDB_EXPR_STRING: decoded */
        struct {
            sdb_text table; /* qualifier, len 0 when absent */
            sdb_text name;  /* column name */
        } col;
        struct {
            sdb_unop op;
            sdb_expr *arg;
        } unary;
        struct {
            sdb_binop op;
            sdb_expr *left;
            sdb_expr *right;
        } bin;
        struct {
            sdb_expr *arg;
            sdb_expr **list; /* nlist >= 1 items */
            uint32_t nlist;
            bool negated; /* NOT IN */
        } in;
        struct {
            sdb_expr *arg;
            sdb_expr *lo;
            sdb_expr *hi;
            bool negated; /* NOT BETWEEN */
        } between;
        struct {
            sdb_expr *arg;
            bool negated; /* IS NOT NULL */
        } is_null;
        struct {
            sdb_expr *arg;
            sdb_expr *pattern;
            bool negated; /* NOT LIKE */
            bool icase;   /* ILIKE */
        } like;
        struct {
            sdb_expr *operand; /* simple CASE x WHEN ...; NULL for searched CASE WHEN */
            sdb_expr **whens;  /* nwhen conditions (or values to compare with operand) */
            sdb_expr **thens;  /* nwhen results */
            uint32_t nwhen;    /* >= 1 */
            sdb_expr *els;     /* ELSE result, NULL when absent */
        } cas;
        struct {
            sdb_expr *arg;
            sdb_type type;
        } cast;
        struct {
            sdb_text name;    /* lower case (or as quoted) */
            sdb_expr **args; /* nargs arguments; NULL when nargs == 0 */
            uint32_t nargs;
            bool distinct; /* f(DISTINCT x) */
            bool star;     /* f(*): nargs == 0 */
        } func;
    } v;
};

typedef enum sdb_nulls_order {
    SDB_NULLS_DEFAULT = 0, /* not given: the executor's default (last for ASC, first for DESC) */
    SDB_NULLS_FIRST,
    SDB_NULLS_LAST,
} sdb_nulls_order;

typedef struct sdb_select_item {
    sdb_expr *expr; /* SDB_EXPR_STAR for '*' */
    sdb_text alias;  /* len 0 when absent */
    sdb_pos pos;    /* start of the item */
} sdb_select_item;

typedef struct sdb_order_item {
    sdb_expr *expr;        /* an expression, an ordinal (INT literal) or an alias (COLUMN) */
    bool desc;             /* DESC */
    sdb_nulls_order nulls; /* NULLS FIRST / LAST */
} sdb_order_item;

typedef struct sdb_select {
    sdb_pos pos;            /* the SELECT keyword */
    sdb_select_item *items; /* nitems >= 1 */
    uint32_t nitems;
    sdb_text from;        /* table name; len 0 for SELECT without FROM */
    sdb_pos from_pos;    /* where the table name is */
    sdb_expr *where;     /* NULL when absent */
    sdb_expr **group_by; /* ngroup expressions (ordinals and aliases allowed) */
    uint32_t ngroup;
    sdb_expr *having;         /* NULL when absent */
    sdb_order_item *order_by; /* norder items */
    uint32_t norder;
    bool has_limit; /* LIMIT given */
    int64_t limit;  /* >= 0 */
    int64_t offset; /* >= 0; 0 when absent */
} sdb_select;

typedef enum sdb_partition_by {
    SDB_PARTITION_DEFAULT = 0, /* not given: day */
    SDB_PARTITION_HOUR,
    SDB_PARTITION_DAY,
    SDB_PARTITION_MONTH,
} sdb_partition_by;

typedef struct sdb_column_def {
    sdb_text name;  /* column name */
    sdb_type type; /* its type */
    sdb_pos pos;   /* where the name is */
} sdb_column_def;

typedef enum sdb_stmt_kind {
    SDB_STMT_SELECT = 1,   /* v.select */
    SDB_STMT_EXPLAIN,      /* v.explain */
    SDB_STMT_SHOW_TABLES,  /* no payload */
    SDB_STMT_DESCRIBE,     /* v.table */
    SDB_STMT_CREATE_TABLE, /* v.create */
    SDB_STMT_DROP_TABLE,   /* v.drop */
} sdb_stmt_kind;

typedef struct sdb_stmt {
    sdb_stmt_kind kind; /* which member of v is set */
    sdb_pos pos;        /* first token of the statement */
    union {
        sdb_select *select;
        struct {
            bool analyze;       /* EXPLAIN ANALYZE */
            sdb_select *select; /* the explained query */
        } explain;
        struct {
            sdb_text name; /* DESCRIBE name */
            sdb_pos pos;  /* where the name is */
        } table;
        struct {
            sdb_text name;         /* table name */
            sdb_pos name_pos;     /* where it is */
            bool if_not_exists;   /* IF NOT EXISTS */
            sdb_column_def *cols; /* ncols >= 1 */
            uint32_t ncols;
            sdb_partition_by partition; /* PARTITION BY */
            sdb_text *sort_key;          /* ORDER BY (cols): nsort names */
            uint32_t nsort;
        } create;
        struct {
            sdb_text name;   /* table name */
            sdb_pos pos;    /* where it is */
            bool if_exists; /* IF EXISTS */
        } drop;
    } v;
} sdb_stmt;

/* Constructors: a zeroed node of the given kind at pos from the arena, with depth computed
 * from the children. Return NULL with err set when the arena is exhausted or (for nodes with
 * children) when the depth would exceed SDB_AST_MAX_DEPTH (SDB_ERR_LIMIT). */
sdb_expr *sdb_ast_leaf(sdb_arena *a, sdb_expr_kind kind, sdb_pos pos, sdb_err *err);
sdb_expr *sdb_ast_unary(sdb_arena *a, sdb_unop op, sdb_expr *arg, sdb_pos pos, sdb_err *err);
sdb_expr *sdb_ast_binary(sdb_arena *a, sdb_binop op, sdb_expr *left, sdb_expr *right, sdb_pos pos,
                         sdb_err *err);
/* A node whose children the caller sets afterwards; call sdb_ast_fix_depth() once they are
 * in place. */
sdb_expr *sdb_ast_node(sdb_arena *a, sdb_expr_kind kind, sdb_pos pos, sdb_err *err);
/* Recompute e->depth from its direct children; SDB_ERR_LIMIT past SDB_AST_MAX_DEPTH. */
sdb_rc sdb_ast_fix_depth(sdb_expr *e, sdb_err *err);
/* Copy n bytes into the arena as an sdb_text. */
sdb_rc sdb_ast_str(sdb_arena *a, const char *s, size_t n, sdb_text *out, sdb_err *err);

/* Operator spellings and precedence (1 OR, 2 AND, 3 NOT, 4 comparisons and IS/IN/BETWEEN/
 * LIKE, 5 + -, 6 * / %, 7 unary minus, 8 everything tighter). */
const char *sdb_binop_name(sdb_binop op);
int sdb_binop_prec(sdb_binop op);

/* Append canonical SQL for an expression / a statement to out. Fails with SDB_ERR_NOMEM, or
 * SDB_ERR_LIMIT for a hand-built tree deeper than SDB_AST_MAX_DEPTH. */
sdb_rc sdb_ast_print_expr(const sdb_expr *e, sdb_buf *out, sdb_err *err);
sdb_rc sdb_ast_print_stmt(const sdb_stmt *s, sdb_buf *out, sdb_err *err);

/* True when a name can be printed bare: [a-z_][a-z0-9_$]* (or non-ASCII) and not a reserved
 * keyword. Others are printed in double quotes. */
bool sdb_ast_ident_is_bare(const char *s, size_t len);

#endif
