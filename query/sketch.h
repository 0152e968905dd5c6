/* Mergeable summaries for aggregates: a DDSketch-style log-bucket quantile sketch and a
 * HyperLogLog distinct counter. Both are plain structs whose memory comes from an sdb_alloc
 * (no free: the owner's arena goes in one piece), and both serialize to bytes and back, so
 * that partial states can be merged across morsels, threads, segments and machines.
 *
 * Quantile sketch, relative accuracy a = 0.01: gamma = (1 + a) / (1 - a). A value v > 0
 * goes to bucket i = ceil(log_gamma(v)), which covers (gamma^(i-1), gamma^i]; a negative
 * value to the bucket of -v in a mirrored store; zeros (and |v| < 1e-300, where the bound
 * does not hold) are counted apart; NaN and infinities are ignored. The value reported for bucket i is 2 gamma^i / (gamma + 1), which is within a
 * relative error a of every value of the bucket. Ranking: for n values x_0 <= ... <= x_(n-1)
 * and q in [0, 1], quantile(x, q) reports the bucket that holds x_r with
 * r = floor(q * (n - 1)), the lower of the two closest ranks that quantile_exact
 * interpolates between. Hence |quantile(x, q) - x_r| <= 0.01 |x_r| for every input; the
 * result is also clamped to [min, max] of the input, so all-equal inputs are exact. Merging
 * two sketches adds their buckets: the result equals the sketch of the union, independent of
 * merge order. Memory: one uint64 per bucket between the lowest and highest used index
 * (about 1,700 buckets for values spanning 1e-6..1e9).
 *
 * HyperLogLog with 2^12 one-byte registers over XXH3-64 hashes and Ertl's improved
 * estimator (no bias correction tables, no switch to linear counting): standard error about
 * 1.04 / sqrt(4096) = 1.6% (so about 3.3% at two standard deviations) at every cardinality,
 * near exact below a few hundred. */
#ifndef SDB_QUERY_SKETCH_H
#define SDB_QUERY_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/qmem.h"
#include "storage/common/buf.h"

#define SDB_SKETCH_ALPHA 0.01

typedef struct sdb_sketch_store {
    int32_t off;       /* bucket index of c[0] */
    uint32_t n;        /* buckets in use from off */
    uint32_t cap;      /* buckets allocated */
    uint64_t *c;       /* counts */
} sdb_sketch_store;

typedef struct sdb_sketch {
    sdb_sketch_store pos;  /* v > 0 */
    sdb_sketch_store neg;  /* v < 0, by the index of -v */
    uint64_t zeros;
    uint64_t count;        /* all values counted, zeros included */
    double min, max;       /* over counted values */
} sdb_sketch;

void sdb_sketch_init(sdb_sketch *s);
sdb_rc sdb_sketch_add(sdb_sketch *s, const sdb_alloc *al, double v, sdb_err *err);
/* sdb_sketch_add(s[j], v[j]) for j < n, in order (the same sketch may appear many times). */
sdb_rc sdb_sketch_add_many(sdb_sketch *const *s, const double *v, uint32_t n,
                           const sdb_alloc *al, sdb_err *err);
sdb_rc sdb_sketch_merge(sdb_sketch *dst, const sdb_alloc *al, const sdb_sketch *src, sdb_err *err);
/* The q-quantile (q in [0, 1]) as defined above; false when the sketch is empty. */
bool sdb_sketch_quantile(const sdb_sketch *s, double q, double *out);
/* Append a portable encoding (little endian) to b. */
sdb_rc sdb_sketch_serialize(const sdb_sketch *s, sdb_buf *b, sdb_err *err);
/* Decode n bytes at p into s (memory from al); SDB_ERR_CORRUPT on malformed bytes. */
sdb_rc sdb_sketch_deserialize(sdb_sketch *s, const sdb_alloc *al, const void *p, size_t n,
                              sdb_err *err);

#define SDB_HLL_P 12
#define SDB_HLL_M (1u << SDB_HLL_P)

typedef struct sdb_hll {
    uint8_t *reg;      /* SDB_HLL_M registers, NULL until the first add */
} sdb_hll;

sdb_rc sdb_hll_add_hash(sdb_hll *h, const sdb_alloc *al, uint64_t hash, sdb_err *err);
sdb_rc sdb_hll_merge(sdb_hll *dst, const sdb_alloc *al, const sdb_hll *src, sdb_err *err);
uint64_t sdb_hll_estimate(const sdb_hll *h);
/* The registers as SDB_HLL_M bytes (all zero for an empty counter). */
sdb_rc sdb_hll_serialize(const sdb_hll *h, sdb_buf *b, sdb_err *err);
sdb_rc sdb_hll_deserialize(sdb_hll *h, const sdb_alloc *al, const void *p, size_t n,
                           sdb_err *err);

#endif
