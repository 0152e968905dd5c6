/* The compiled form of expressions, shared by expr.c (compile) and expr_eval.c (run).
 * A program is an array of steps in evaluation order; step k writes register k; the last
 * step's register is the result. */
#ifndef SDB_QUERY_EXPR_INT_H
#define SDB_QUERY_EXPR_INT_H

#include "query/expr.h"

typedef enum step_op {
    ST_COL,      /* register = input column `col` (no copy) */
    ST_CONST,    /* register = constant val */
    ST_ARITH,    /* a kind b on int64 (timestamps too) or float64 (in_type) */
    ST_NEG,
    ST_CMP,      /* a kind b; in_type: INT64 (also timestamp, bool cast), FLOAT64, STRING */
    ST_SYMCMP,   /* symbol a = / <> / IN list of strings, resolved per dictionary */
    ST_SYMMAP,   /* symbol a LIKE / < <= > >= the string val: evaluated once per dictionary
                    entry into a table, then looked up per row by code */
    ST_AND, ST_OR, ST_NOT,
    ST_ISNULL,   /* negate: IS NOT NULL */
    ST_IN,       /* a IN list (same in_type) */
    ST_LIKE,
    ST_CASE,     /* args: cond, val pairs [, else] */
    ST_CAST,     /* a (in_type) to type */
    ST_COALESCE,
    ST_ABS,
    ST_ROUND,    /* a, digits val.u.i */
    ST_TBUCKET,  /* a, interval val.u.i */
    ST_DTRUNC,   /* a, unit */
} step_op;

typedef struct step {
    step_op op;
    sdb_pexpr_kind kind;   /* ST_ARITH, ST_CMP: the operator */
    sdb_type type;         /* result type */
    sdb_type in_type;      /* operand type class */
    uint32_t a, b;         /* input registers */
    uint32_t nargs;
    uint32_t *args;        /* ST_CASE, ST_COALESCE: registers */
    uint32_t col;          /* ST_COL */
    sdb_value val;         /* ST_CONST; parameters of ST_ROUND, ST_TBUCKET */
    uint32_t nlist;
    sdb_value *list;       /* ST_IN, ST_SYMCMP: non-NULL items */
    bool list_null;        /* the IN list held a NULL */
    bool negate;           /* NOT IN, NOT LIKE, <> for ST_SYMCMP, IS NOT NULL */
    bool ci;               /* ILIKE */
    bool has_else;         /* ST_CASE */
    int unit;              /* ST_DTRUNC: sdb_time_unit */
} step;

typedef enum fast_kind {
    FAST_NONE,
    FAST_I64,   /* column fcol (int64/timestamp) fop constant */
    FAST_F64,
    FAST_SYM,   /* symbol column fcol = / <> constant string (step of the comparison) */
    FAST_NULL,  /* column fcol IS NULL (fop SDB_PX_IS_NULL) / IS NOT NULL: validity only */
} fast_kind;

struct sdb_prog {
    step *steps;
    uint32_t nsteps;
    sdb_type type;
    fast_kind fast;        /* filter fast path */
    uint32_t fcol;
    sdb_pexpr_kind fop;
    sdb_value fval;
};

#endif
