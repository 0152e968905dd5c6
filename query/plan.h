/* The planner: binds a parsed SELECT (query/ast.h) to a table's schema and turns it into
 * the physical query of query/exec.h. Names are resolved (with a suggestion for a misspelt
 * column or function), types checked, constants converted where SQL users expect it (an
 * ISO-8601 string compared with a timestamp, an interval string given to time_bucket),
 * aggregates collected, GROUP BY / ORDER BY ordinals and aliases resolved, and ORDER BY
 * expressions that are not selected added as hidden output columns. Every error names the
 * position in the query text. */
#ifndef SDB_QUERY_PLAN_H
#define SDB_QUERY_PLAN_H

#include <stdatomic.h>
#include <stdint.h>

#include "query/ast.h"
#include "query/exec.h"
#include "query/qmem.h"
#include "query/source.h"

typedef struct sdb_plan_opts {
    int64_t now_ns;            /* the value of now() for this query */
    unsigned threads;          /* 0: number of cores */
    const atomic_bool *cancel; /* may be NULL */
} sdb_plan_opts;

/* Bind sel over snap's schema into *spec (everything allocated from m; spec->snap = snap).
 * A SELECT without FROM needs a snapshot of no columns and one in-memory row.
 * Fails with SDB_ERR_SCHEMA (unknown column or function, type errors, misplaced aggregates)
 * or SDB_ERR_PARSE (a constant that does not convert), the message naming the position. */
sdb_rc sdb_plan_select(sdb_qmem *m, const sdb_select *sel, const sdb_table_snap *snap,
                       const sdb_plan_opts *opts, sdb_query_spec *spec, sdb_err *err);

#endif
