/* Aggregate functions. Each is init (a zeroed state row) / update (vectorized over the live
 * rows of a vector, each row with its group id) / merge (state into state) / finalize
 * (state to a value), with a state that serializes to bytes and back (DESIGN.md, "Ahead:
 * Rollups"). States live in the rows of an sdb_gtab, at offset `off`.
 *
 * NULL inputs are skipped by everything but count(*). sum/avg/min/max of no rows is NULL;
 * count of no rows is 0. NaN is skipped by min, max and the quantiles. sum of int64 fails
 * with SDB_ERR_LIMIT on overflow; sum and avg of float64 add in row order within a morsel and
 * morsels are merged in morsel order, so results do not depend on the thread count.
 * avg of a bool is the fraction of true. min/max of strings and symbols compare bytes.
 * quantile_exact(x, q): the values sorted, h = q (n - 1), x[floor h] + (h - floor h)
 * (x[ceil h] - x[floor h]) (DuckDB's quantile_cont). quantile(x, q) and p50..p999: the
 * sketch of sketch.h (relative error <= 1% against x[floor(q (n - 1))]).
 * approx_count_distinct: HyperLogLog (sketch.h, 1.6% standard error). Symbol arguments reach
 * min, max, count(DISTINCT) and approx_count_distinct as strings. */
#ifndef SDB_QUERY_AGG_H
#define SDB_QUERY_AGG_H

#include <stdint.h>

#include "query/hashtable.h"
#include "query/vector.h"
#include "storage/common/buf.h"

typedef enum sdb_agg_kind {
    SDB_AGG_COUNT_STAR,
    SDB_AGG_COUNT,
    SDB_AGG_COUNT_DISTINCT,
    SDB_AGG_SUM,
    SDB_AGG_AVG,
    SDB_AGG_MIN,
    SDB_AGG_MAX,
    SDB_AGG_COUNT_IF,         /* argument: a bool expression; counts TRUE */
    SDB_AGG_APPROX_DISTINCT,
    SDB_AGG_QUANTILE_EXACT,   /* q in [0, 1] */
    SDB_AGG_QUANTILE,         /* q in [0, 1]; p50 = quantile(x, 0.5) ... p999 = 0.999 */
} sdb_agg_kind;

typedef struct sdb_aggdef {
    sdb_agg_kind kind;
    sdb_type in_type;    /* argument type (count(*): 0) */
    sdb_type out_type;   /* result type */
    uint32_t off;        /* state offset in the group row */
    uint32_t size;       /* state bytes (multiple of 8) */
    double q;            /* quantiles */
} sdb_aggdef;

/* The name of an aggregate ("count", "quantile_exact"...). */
const char *sdb_agg_name(sdb_agg_kind k);
/* Check the argument type and fill d (off is left 0). SDB_ERR_SCHEMA when kind cannot take
 * in_type ("sum cannot take string"); q outside [0, 1] is SDB_ERR_SCHEMA too. */
sdb_rc sdb_agg_define(sdb_agg_kind kind, sdb_type in_type, double q, sdb_aggdef *d,
                      sdb_err *err);
/* Fold the rows sel[0..n) of arg into the states of groups gids[0..n) (gids[j] belongs to
 * row sel[j]). arg is NULL for count(*). */
sdb_rc sdb_agg_update(const sdb_aggdef *d, sdb_gtab *t, const uint32_t *gids, const sdb_vec *arg,
                      const uint32_t *sel, uint32_t n, sdb_err *err);
/* The same with the state row of each selected row given: rows[j] is the group row (state
 * offset 0) of the group of row sel[j]. */
sdb_rc sdb_agg_update_rows(const sdb_aggdef *d, sdb_gtab *t, uint8_t *const *rows,
                           const sdb_vec *arg, const uint32_t *sel, uint32_t n, sdb_err *err);
/* count(DISTINCT): the most values one group of t holds (0 for other aggregates), a size
 * hint for the sets of the next table (sdb_gtab.set_hint). */
uint32_t sdb_agg_set_max(const sdb_aggdef *d, const sdb_gtab *t);
/* dst += src (src is left intact); allocations from t's allocator. */
sdb_rc sdb_agg_merge(const sdb_aggdef *d, sdb_gtab *t, uint8_t *dst, const uint8_t *src,
                     sdb_err *err);
/* The final value of a state (quantile_exact sorts its values in place). Strings point into
 * the state's memory. */
void sdb_agg_finalize(const sdb_aggdef *d, uint8_t *state, sdb_value *out);
/* Append the state as bytes / read it back into a zeroed state (memory from t). */
sdb_rc sdb_agg_serialize(const sdb_aggdef *d, const uint8_t *state, sdb_buf *b, sdb_err *err);
sdb_rc sdb_agg_deserialize(const sdb_aggdef *d, sdb_gtab *t, uint8_t *state, const void *p,
                           size_t n, sdb_err *err);

#endif
