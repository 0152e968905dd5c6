/* Bound expressions (sdb_pexpr: a typed tree a planner builds) and their compiled form
 * (sdb_prog: a flat array of steps over vectors, PostgreSQL's execExpr idea). A program is
 * read-only and shared by all workers; each worker evaluates it with its own sdb_prog_state,
 * which holds the step registers (one vector each) and per-dictionary caches.
 *
 * Semantics (SQL):
 * - NULL in, NULL out for arithmetic, comparisons, LIKE, CAST, abs, round, time functions.
 * - Integer division or modulo by zero gives NULL (as SQLite and MySQL do; PostgreSQL raises
 *   an error); float division by zero follows IEEE (inf, nan).
 * - int64 overflow in + - * / % abs and negation is an error (SDB_ERR_LIMIT, "int64 overflow
 *   in ..."), detected with __builtin_*_overflow, never undefined behaviour.
 * - AND / OR / NOT use three-valued logic; x IN (list) is NULL when x is NULL, or when no
 *   item matches and the list holds a NULL; BETWEEN a AND b is x >= a AND x <= b.
 * - LIKE: % any run, _ one byte, \ escapes the next pattern byte; case-sensitive; ILIKE folds
 *   ASCII case.
 * - symbol = 'const' (and <>, IN) compares codes: the constant is looked up once per
 *   dictionary; absent from the dictionary means no row matches. Other symbol operations see
 *   the symbol's string.
 * - CASE evaluates every branch over all live rows, then picks per row (no short circuit:
 *   an overflow in a branch that no row takes still fails the query).
 * - CAST: number <-> number (float to int truncates toward zero; out of range is an error),
 *   anything -> string, string -> int64/float64/bool/timestamp (unparseable: error), bool <->
 *   int. Timestamps cast to strings as ISO-8601 UTC with nanoseconds.
 * - round(x[, n]) rounds half away from zero, on the decimal value x is written as for n > 0
 *   (round(1.005, 2) = 1.01: x is compared with the double nearest to the half-way decimal);
 *   round of an int64 with n >= 0 is x.
 * - time_bucket(interval_ns, ts): floor(ts / interval) * interval, for ts before 1970 too.
 * - date_trunc(unit, ts) in UTC; 'week' starts on Monday (ISO). */
#ifndef SDB_QUERY_EXPR_H
#define SDB_QUERY_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "query/qmem.h"
#include "query/vector.h"
#include "storage/common/error.h"

typedef enum sdb_pexpr_kind {
    SDB_PX_COL,        /* column `col` of the input */
    SDB_PX_CONST,      /* val */
    SDB_PX_ADD, SDB_PX_SUB, SDB_PX_MUL, SDB_PX_DIV, SDB_PX_MOD,
    SDB_PX_NEG,
    SDB_PX_EQ, SDB_PX_NE, SDB_PX_LT, SDB_PX_LE, SDB_PX_GT, SDB_PX_GE,
    SDB_PX_AND, SDB_PX_OR, SDB_PX_NOT,
    SDB_PX_IS_NULL, SDB_PX_IS_NOT_NULL,
    SDB_PX_IN,         /* args[0] IN (args[1..]: constants); negate for NOT IN */
    SDB_PX_BETWEEN,    /* args[0] BETWEEN args[1] AND args[2]; negate for NOT BETWEEN */
    SDB_PX_LIKE,       /* args[0] LIKE args[1] (a string constant); negate; ci for ILIKE */
    SDB_PX_CASE,       /* args: cond1, val1, cond2, val2, ... [, else] */
    SDB_PX_CAST,       /* args[0] as `type` */
    SDB_PX_COALESCE,
    SDB_PX_ABS,
    SDB_PX_ROUND,      /* args[0] [, args[1]: int constant digits] */
    SDB_PX_TIME_BUCKET, /* args[0]: int constant interval in ns (> 0), args[1]: timestamp */
    SDB_PX_DATE_TRUNC, /* args[0]: string constant unit, args[1]: timestamp */
} sdb_pexpr_kind;

typedef struct sdb_pexpr {
    sdb_pexpr_kind kind;
    sdb_type type;             /* result type (a comparison: BOOL) */
    uint32_t col;              /* SDB_PX_COL: input column index */
    sdb_value val;             /* SDB_PX_CONST; strings are copied into the query */
    uint32_t nargs;
    struct sdb_pexpr **args;
    bool negate;               /* NOT IN, NOT BETWEEN, NOT LIKE */
    bool ci;                   /* ILIKE */
    bool has_else;             /* CASE */
} sdb_pexpr;

/* Builders. Nodes live in m until the query ends. Each checks argument types and fails with
 * SDB_ERR_SCHEMA naming the operator and the types ("operator + cannot take string and
 * int64"), or SDB_ERR_PARSE for a bad constant argument (unknown date_trunc unit). */
sdb_pexpr *sdb_pexpr_col(sdb_qmem *m, uint32_t col, sdb_type type, sdb_err *err);
sdb_pexpr *sdb_pexpr_const(sdb_qmem *m, sdb_value v, sdb_err *err);
sdb_pexpr *sdb_pexpr_i64(sdb_qmem *m, int64_t v, sdb_err *err);
sdb_pexpr *sdb_pexpr_f64(sdb_qmem *m, double v, sdb_err *err);
sdb_pexpr *sdb_pexpr_str(sdb_qmem *m, const char *s, sdb_err *err);
sdb_pexpr *sdb_pexpr_null(sdb_qmem *m, sdb_type type, sdb_err *err);
/* Operators and functions; args are borrowed into the node. */
sdb_pexpr *sdb_pexpr_make(sdb_qmem *m, sdb_pexpr_kind kind, sdb_pexpr **args, uint32_t nargs,
                          sdb_err *err);
sdb_pexpr *sdb_pexpr_op2(sdb_qmem *m, sdb_pexpr_kind kind, sdb_pexpr *a, sdb_pexpr *b,
                         sdb_err *err);
sdb_pexpr *sdb_pexpr_cast(sdb_qmem *m, sdb_pexpr *a, sdb_type to, sdb_err *err);
/* The name of an operator for messages ("+", "like", "date_trunc"). */
const char *sdb_pexpr_kind_name(sdb_pexpr_kind k);

typedef struct sdb_prog sdb_prog;
typedef struct sdb_prog_state sdb_prog_state;

/* Compile e into a program; lives in m. */
sdb_rc sdb_prog_compile(sdb_qmem *m, const sdb_pexpr *e, sdb_prog **out, sdb_err *err);
/* Result type of a program. */
sdb_type sdb_prog_type(const sdb_prog *p);
/* Per-worker evaluation state, from the worker's arena a (charged to m). */
sdb_rc sdb_prog_state_create(sdb_qmem *m, sdb_arena *a, const sdb_prog *p, sdb_prog_state **out,
                             sdb_err *err);
/* Evaluate over the rows sel[0..nsel) of chunk (sel NULL: rows 0..nsel). The result holds
 * the value of row r at index r. Borrowed; valid until the next evaluation with st. */
sdb_rc sdb_prog_eval(sdb_prog_state *st, const sdb_chunk *chunk, const uint32_t *sel,
                     uint32_t nsel, const sdb_vec **out, sdb_err *err);
/* Evaluate a BOOL program as a filter: writes the rows of sel (or 0..nsel) where it is TRUE
 * to out_sel (room for SDB_VEC_SIZE) and their count to *nout. */
sdb_rc sdb_prog_filter(sdb_prog_state *st, const sdb_chunk *chunk, const uint32_t *sel,
                       uint32_t nsel, uint32_t *out_sel, uint32_t *nout, sdb_err *err);

/* Kernels (kern_cmp.c): branch-free selection of the rows of sel (or 0..n) where
 * v[i] <op> c and v is valid, into out; returns the count. op is SDB_PX_EQ..SDB_PX_GE. */
uint32_t sdb_kern_sel_i64(sdb_pexpr_kind op, const int64_t *v, const uint64_t *valid, int64_t c,
                          const uint32_t *sel, uint32_t n, uint32_t *out);
uint32_t sdb_kern_sel_f64(sdb_pexpr_kind op, const double *v, const uint64_t *valid, double c,
                          const uint32_t *sel, uint32_t n, uint32_t *out);
uint32_t sdb_kern_sel_code(bool eq, const uint32_t *v, const uint64_t *valid, uint32_t c,
                           const uint32_t *sel, uint32_t n, uint32_t *out);

/* Time helpers (kern_time.c). Units for date_trunc. */
typedef enum sdb_time_unit {
    SDB_TU_SECOND, SDB_TU_MINUTE, SDB_TU_HOUR, SDB_TU_DAY, SDB_TU_WEEK, SDB_TU_MONTH,
    SDB_TU_YEAR
} sdb_time_unit;
bool sdb_time_unit_parse(const char *s, size_t n, sdb_time_unit *out);
int64_t sdb_time_trunc(sdb_time_unit u, int64_t ts);
/* floor(ts / interval) * interval; interval > 0. False when the result would not fit. */
bool sdb_time_bucket(int64_t interval, int64_t ts, int64_t *out);


/* LIKE matching (byte-wise; ci folds ASCII case). */
bool sdb_like_match(const char *s, size_t n, const char *pat, size_t pn, bool ci);

#endif
