/* The functions spandb knows: aggregates and scalars by name, with their argument counts,
 * and a suggestion for a misspelled name (by edit distance) for messages such as
 * "unknown function 'p98' at 1:8 (did you mean 'p99'?)". The parser accepts any name; the
 * binder checks names and argument counts against this table. */
#ifndef SDB_QUERY_FUNCTIONS_H
#define SDB_QUERY_FUNCTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/lexer.h"
#include "storage/common/error.h"

typedef enum sdb_func_kind {
    SDB_FUNC_AGGREGATE = 1, /* folds many rows into one value per group */
    SDB_FUNC_SCALAR,        /* one value per row */
} sdb_func_kind;

typedef struct sdb_func_info {
    const char *name;   /* lower case */
    sdb_func_kind kind; /* aggregate or scalar */
    uint8_t min_args;   /* fewest arguments (f(*) stands for all of them) */
    uint8_t max_args;   /* most arguments (SDB_FUNC_VARIADIC: no bound) */
    bool star_ok;       /* f(*) allowed (count) */
    bool distinct_ok;   /* f(DISTINCT x) allowed (count) */
} sdb_func_info;

#define SDB_FUNC_VARIADIC 255

/* The entry for a name (case-insensitive, len bytes), NULL when unknown. */
const sdb_func_info *sdb_func_lookup(const char *name, size_t len);

/* The known name nearest to `name` by edit distance (case-insensitive; a digit mistyped as a
 * nearby digit counts less than other substitutions, so 'p98' suggests 'p99'), or NULL when
 * nothing is close enough: at most one edit per three characters, and at least one. */
const char *sdb_func_suggest(const char *name, size_t len);

/* The candidate nearest to name by the same measure (for column names), or NULL. */
const char *sdb_suggest_name(const char *name, size_t len, const char *const *cands, size_t n);
/* Number of known functions, and the i-th (i < count) in table order. */
size_t sdb_func_count(void);
const sdb_func_info *sdb_func_at(size_t i);

/* Fill err with SDB_ERR_SCHEMA "unknown function 'NAME' at L:C (did you mean 'X'?)" (the
 * suggestion only when there is one) and return SDB_ERR_SCHEMA. */
sdb_rc sdb_func_unknown(const char *name, size_t len, sdb_pos pos, sdb_err *err);

/* Check a call against the table: the name must be known (else the sdb_func_unknown()
 * error), the argument count within range, '*' only where star_ok (count(*)) and DISTINCT only
 * where distinct_ok. On success *out is the entry. Fails with SDB_ERR_SCHEMA naming the
 * function and pos, e.g. "function 'quantile' at 1:8 takes 2 arguments, got 1". */
sdb_rc sdb_func_resolve(const char *name, size_t len, uint32_t nargs, bool star, bool distinct,
                        sdb_pos pos, const sdb_func_info **out, sdb_err *err);

#endif
