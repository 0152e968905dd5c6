/* The physical query: Scan -> Filter -> (Aggregate | Project) -> Sort / Limit over one table
 * snapshot, run in parallel over morsels, producing an sdb_result. A planner fills an
 * sdb_query_spec with bound expressions (expr.h) built in the query's sdb_qmem and calls
 * sdb_exec_run().
 *
 * Scan. A morsel is one block of one segment or a 65,536-row slice of a memtable batch.
 * Before any block is read, the top-level AND conjuncts of `where` of the forms
 * `col <op> const`, `col IN (consts)`, `col BETWEEN c1 AND c2`, `col IS [NOT] NULL` are
 * checked against each block's min/max/null count; `symbol = / IN` against each segment's
 * dictionary (a segment holding none of the values is skipped whole, as is a segment lacking
 * the column); `string = / IN` against the block bloom filters. Only the columns the query
 * uses are decoded, and the columns the filter does not use only when a row of the block
 * passes it.
 *
 * Aggregate. Group keys are any expressions. When they are one or two bare symbol columns
 * with at most 65,536 combinations, groups are found by direct indexing: every dictionary
 * of the key columns (segments and memtables) is mapped once, before the scan, to a
 * query-global code space. Otherwise keys are serialized to bytes and hashed. The
 * aggregation output, which `out` and `having` reference by column index, is the group keys
 * (symbol keys as strings) followed by the aggregates, in spec order.
 *
 * Parallel. `threads` workers (0: the number of cores) take morsels in order from an atomic
 * counter; each morsel aggregates (or projects) into its own partial, and partials are
 * merged into the final state in morsel order, so results, float sums included, and the
 * row order of unordered queries are the same for any thread count. The cancel flag is
 * checked between morsels (SDB_ERR_CANCELLED).
 *
 * Metadata. count(*), count(col) and min/max(col) of numeric and timestamp columns without
 * where and group by are answered from block statistics (memtables are scanned in memory),
 * decoding no block.
 *
 * Order. ORDER BY sorts by output columns, NULLs last whether ascending or descending unless
 * the key says nulls_first (DuckDB's rule), NaN above every number; ties keep scan order.
 * With a limit, a heap keeps the first offset + limit rows.
 *
 * Example: SELECT model, p99(duration_ms) FROM spans WHERE time >= '2026-01-01'
 *          GROUP BY model ORDER BY 2 DESC LIMIT 10
 *   sdb_qmem m; sdb_qmem_init(&m, 1 << 30, &err);
 *   sdb_pexpr *model = sdb_pexpr_col(&m, 3, SDB_TYPE_SYMBOL, &err);
 *   sdb_pexpr *where = sdb_pexpr_op2(&m, SDB_PX_GE, sdb_pexpr_col(&m, 0, SDB_TYPE_TIMESTAMP, &err),
 *                                    sdb_pexpr_str(&m, "2026-01-01", &err), &err);
 *   sdb_aggspec p99 = {SDB_AGG_QUANTILE, sdb_pexpr_col(&m, 1, SDB_TYPE_FLOAT64, &err), 0.99};
 *   sdb_order by = {.col = 1, .desc = true};
 *   const sdb_pexpr *keys[1] = {model};
 *   sdb_query_spec q = {.snap = &snap, .where = where, .ngroup = 1, .group = keys,
 *                       .naggs = 1, .aggs = &p99, .norder = 1, .order = &by,
 *                       .has_limit = true, .limit = 10};
 *   sdb_exec_run(&m, &q, &result, &stats, &err);  ...  sdb_result_destroy(result);
 *   sdb_qmem_free(&m);
 * (Builders return NULL with err set; a planner checks each.) */
#ifndef SDB_QUERY_EXEC_H
#define SDB_QUERY_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "query/agg.h"
#include "query/expr.h"
#include "query/qmem.h"
#include "query/source.h"
#include "query/vector.h"

typedef struct sdb_aggspec {
    sdb_agg_kind kind;
    const sdb_pexpr *arg;    /* NULL for count(*) */
    double q;                /* quantiles */
} sdb_aggspec;

typedef struct sdb_order {
    uint32_t col;            /* output column (visible or hidden) */
    bool desc;
    bool nulls_first;        /* NULLs before every value (default: after, ASC or DESC) */
} sdb_order;

typedef struct sdb_query_spec {
    const sdb_table_snap *snap;
    const sdb_pexpr *where;            /* over table columns; NULL: every row */
    bool aggregate;                    /* group by and/or aggregates */
    uint32_t ngroup;
    const sdb_pexpr *const *group;     /* over table columns */
    uint32_t naggs;
    const sdb_aggspec *aggs;
    const sdb_pexpr *having;           /* over the aggregation output; NULL: none */
    uint32_t nout;                     /* output columns; 0 with aggregate: the aggregation
                                          output as it is */
    const sdb_pexpr *const *out;       /* aggregate: over the aggregation output; else over
                                          table columns */
    const char *const *names;          /* nout names (NULL: "col1"...) */
    uint32_t nvisible;                 /* outputs returned; those after are sort keys only
                                          (0: all) */
    uint32_t norder;
    const sdb_order *order;
    bool has_limit;
    uint64_t limit;
    uint64_t offset;
    unsigned threads;                  /* 0: number of cores */
    const atomic_bool *cancel;         /* may be NULL */
} sdb_query_spec;

/* What a run read and skipped (EXPLAIN). */
typedef struct sdb_exec_stats {
    uint64_t segments;          /* segments in the snapshot */
    uint64_t segments_skipped;  /* by dictionary, missing column or all blocks pruned */
    uint64_t blocks;            /* blocks (morsels of segments) scanned */
    uint64_t blocks_skipped;    /* by min/max, null counts, bloom filters */
    uint64_t blocks_decoded;    /* column blocks decoded */
    uint64_t rows;              /* rows scanned (segments and memtables) */
    uint64_t rows_skipped;      /* rows of skipped blocks and segments */
    uint64_t mem_rows;          /* memtable rows scanned */
    uint64_t groups;            /* groups built */
    unsigned threads;           /* workers used */
    bool dense_groups;          /* the direct-indexed group path ran */
    bool from_metadata;         /* answered from block statistics */
} sdb_exec_stats;

/* Rows of values, row-major. A column of type SDB_TYPE_SYMBOL holds its values as strings
 * (cells of type SDB_TYPE_STRING). */
typedef struct sdb_result {
    uint32_t ncols;
    const char **names;
    sdb_type *types;            /* the output expressions' types */
    uint64_t nrows;
    sdb_value *cells;           /* nrows * ncols; strings point into the result */
    sdb_arena *arena;           /* owns everything */
} sdb_result;

static inline const sdb_value *sdb_result_at(const sdb_result *r, uint64_t row, uint32_t col)
{
    return &r->cells[row * r->ncols + col];
}

/* Run spec. On success *out is owned by the caller (sdb_result_destroy) and independent of
 * m. stats may be NULL. Fails with the errors of expressions and aggregates, SDB_ERR_LIMIT
 * past m's budget ("query needs more than 1 GiB of memory (--query-memory)"),
 * SDB_ERR_CANCELLED, SDB_ERR_SCHEMA when a segment's column type differs from the schema,
 * SDB_ERR_CORRUPT from segment reads. */
sdb_rc sdb_exec_run(sdb_qmem *m, const sdb_query_spec *spec, sdb_result **out,
                    sdb_exec_stats *stats, sdb_err *err);
/* Accepts NULL. */
void sdb_result_destroy(sdb_result *r);

#endif
