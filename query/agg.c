/* The aggregate functions of agg.h: state layouts, vectorized updates, merges, finalizers
 * and serialization. One switch per phase keeps the kinds side by side. */
#include "query/agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/sketch.h"
#include "storage/common/endian.h"
#include "storage/common/hash.h"

#define VALID(w, i) (((w)[(i) >> 6] >> ((i) & 63)) & 1)

typedef struct num_state {
    union {
        int64_t i;
        double f;
    } v;
    int64_t has;         /* rows folded in (avg: the count) */
} num_state;

typedef struct str_state {
    const char *p;
    uint32_t len;
    uint32_t has;
} str_state;

typedef struct qx_state {
    double *v;
    uint32_t n, cap;
} qx_state;

static const char *const agg_names[] = {
    [SDB_AGG_COUNT_STAR] = "count", [SDB_AGG_COUNT] = "count",
    [SDB_AGG_COUNT_DISTINCT] = "count_distinct", [SDB_AGG_SUM] = "sum", [SDB_AGG_AVG] = "avg",
    [SDB_AGG_MIN] = "min", [SDB_AGG_MAX] = "max", [SDB_AGG_COUNT_IF] = "count_if",
    [SDB_AGG_APPROX_DISTINCT] = "approx_count_distinct",
    [SDB_AGG_QUANTILE_EXACT] = "quantile_exact", [SDB_AGG_QUANTILE] = "quantile",
};

const char *sdb_agg_name(sdb_agg_kind k)
{
    return (unsigned)k <= SDB_AGG_QUANTILE ? agg_names[k] : "?";
}

static bool numeric(sdb_type t)
{
    return t == SDB_TYPE_INT64 || t == SDB_TYPE_FLOAT64 || t == SDB_TYPE_TIMESTAMP;
}

sdb_rc sdb_agg_define(sdb_agg_kind kind, sdb_type in, double q, sdb_aggdef *d, sdb_err *err)
{
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->in_type = in;
    d->q = q;
    d->size = 16;
    switch (kind) {
    case SDB_AGG_COUNT_STAR: case SDB_AGG_COUNT: case SDB_AGG_COUNT_DISTINCT:
    case SDB_AGG_APPROX_DISTINCT:
        d->out_type = SDB_TYPE_INT64;
        if (kind == SDB_AGG_COUNT_DISTINCT || kind == SDB_AGG_APPROX_DISTINCT)
            d->size = 8;
        break;
    case SDB_AGG_COUNT_IF:
        if (in != SDB_TYPE_BOOL)
            goto bad;
        d->out_type = SDB_TYPE_INT64;
        break;
    case SDB_AGG_SUM:
        if (in != SDB_TYPE_INT64 && in != SDB_TYPE_FLOAT64 && in != SDB_TYPE_BOOL)
            goto bad;
        d->out_type = in == SDB_TYPE_FLOAT64 ? SDB_TYPE_FLOAT64 : SDB_TYPE_INT64;
        break;
    case SDB_AGG_AVG:
        if (!numeric(in) && in != SDB_TYPE_BOOL)
            goto bad;
        d->out_type = SDB_TYPE_FLOAT64;
        break;
    case SDB_AGG_MIN: case SDB_AGG_MAX:
        if (in == SDB_TYPE_SYMBOL)
            in = d->in_type = SDB_TYPE_STRING;
        d->out_type = in;
        break;
    case SDB_AGG_QUANTILE_EXACT: case SDB_AGG_QUANTILE:
        if (!numeric(in))
            goto bad;
        if (!(q >= 0 && q <= 1))
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "%s: q must be between 0 and 1, not %g",
                            sdb_agg_name(kind), q);
        d->out_type = SDB_TYPE_FLOAT64;
        d->size = kind == SDB_AGG_QUANTILE ? (uint32_t)((sizeof(sdb_sketch) + 7) & ~7u) : 16;
        break;
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "unknown aggregate %d", (int)kind);
    }
    if (kind == SDB_AGG_COUNT_DISTINCT || kind == SDB_AGG_APPROX_DISTINCT) {
        if (in == SDB_TYPE_SYMBOL)
            d->in_type = SDB_TYPE_STRING;
    }
    return SDB_OK;
bad:
    return SDB_FAIL(err, SDB_ERR_SCHEMA, "%s cannot take %s", sdb_agg_name(kind),
                    sdb_type_name(in));
}

/* The bytes that stand for a value in a distinct set or a hash. */
static uint32_t value_bytes(const sdb_vec *a, uint32_t i, char tmp[8], const char **p)
{
    switch (a->type) {
    case SDB_TYPE_STRING:
        *p = a->v.str[i].p;
        return a->v.str[i].len;
    case SDB_TYPE_BOOL:
        tmp[0] = (char)a->v.b8[i];
        *p = tmp;
        return 1;
    case SDB_TYPE_FLOAT64: {
        double f = a->v.f64[i];
        if (f == 0)
            f = 0; /* -0 and 0 are one value */
        if (isnan(f))
            f = NAN;
        memcpy(tmp, &f, 8);
        *p = tmp;
        return 8;
    }
    default:
        memcpy(tmp, &a->v.i64[i], 8);
        *p = tmp;
        return 8;
    }
}

static sdb_rc set_for(sdb_gtab *t, uint8_t *st, sdb_gtab **out, sdb_err *err)
{
    sdb_gtab *set;
    memcpy(&set, st, sizeof set);
    if (set == NULL) {
        if ((set = sdb_alloc_get(&t->al, sizeof *set, err)) == NULL)
            return err->code;
        SDB_TRY(sdb_gtab_init(set, &t->al, 0, 0, err));
        if (t->set_hint > 0 && t->set_hint_left >= t->set_hint) {
            t->set_hint_left -= t->set_hint;
            SDB_TRY(sdb_gtab_reserve(set, t->set_hint, err));
        }
        memcpy(st, &set, sizeof set);
    }
    *out = set;
    return SDB_OK;
}

static sdb_rc qx_push(sdb_gtab *t, qx_state *s, double v, sdb_err *err)
{
    if (s->n == s->cap) {
        uint32_t ncap = s->cap ? s->cap * 2 : 16;
        double *nv;
        if (s->cap >= (1u << 30))
            return SDB_FAIL(err, SDB_ERR_LIMIT, "quantile_exact over more than 2^30 values");
        if ((nv = sdb_alloc_get(&t->al, (size_t)ncap * 8, err)) == NULL)
            return err->code;
        if (s->n)
            memcpy(nv, s->v, (size_t)s->n * 8);
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = v;
    return SDB_OK;
}

/* True when a vector's validity words say no row is NULL. */
static inline bool no_nulls(const uint64_t *valid)
{
    uint64_t all = ~UINT64_C(0);
    for (uint32_t w = 0; w < SDB_VEC_WORDS; w++)
        all &= valid[w];
    return all == ~UINT64_C(0);
}

/* x when ok (1), else -0.0 (ok 0), which added to any sum changes nothing. By bits, so that
 * the compiler cannot turn "add -0.0" back into a branch on ok. */
static inline double or_neg0(double x, uint64_t ok)
{
    uint64_t b, m = (uint64_t)0 - ok;
    memcpy(&b, &x, 8);
    b = (b & m) | (UINT64_C(0x8000000000000000) & ~m);
    memcpy(&x, &b, 8);
    return x;
}

static double as_f64(const sdb_vec *a, uint32_t i)
{
    switch (a->type) {
    case SDB_TYPE_FLOAT64: return a->v.f64[i];
    case SDB_TYPE_BOOL: return a->v.b8[i];
    default: return (double)a->v.i64[i];
    }
}

sdb_rc sdb_agg_update_rows(const sdb_aggdef *d, sdb_gtab *t, uint8_t *const *rows,
                           const sdb_vec *arg, const uint32_t *sel, uint32_t n, sdb_err *err)
{
    uint32_t j, m = 0;
    const uint64_t *valid = sdb_vec_all_valid;
    if (arg != NULL) {
        m = arg->is_const ? 0 : UINT32_MAX;
        valid = arg->is_const ? ((arg->valid[0] & 1) ? sdb_vec_all_valid : sdb_vec_all_null)
                              : arg->valid;
    }
#define ROW(j) (rows[j] + d->off)
    switch (d->kind) {
    case SDB_AGG_COUNT_STAR:
        for (j = 0; j < n; j++)
            ((num_state *)ROW(j))->v.i++;
        return SDB_OK;
    case SDB_AGG_COUNT:
        for (j = 0; j < n; j++)
            ((num_state *)ROW(j))->v.i += (int64_t)VALID(valid, sel[j] & m);
        return SDB_OK;
    case SDB_AGG_COUNT_IF:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j] & m;
            ((num_state *)ROW(j))->v.i += (int64_t)(VALID(valid, i) & arg->v.b8[i]);
        }
        return SDB_OK;
    case SDB_AGG_SUM:
        if (d->in_type == SDB_TYPE_FLOAT64) {
            /* branch-free: a NULL row adds -0.0, which changes no sum (not even -0.0) */
            if (no_nulls(valid)) {
                for (j = 0; j < n; j++) {
                    num_state *s = (num_state *)ROW(j);
                    s->v.f += arg->v.f64[sel[j] & m];
                    s->has = 1;
                }
                return SDB_OK;
            }
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j] & m;
                num_state *s = (num_state *)ROW(j);
                uint64_t ok = VALID(valid, i);
                double x = arg->v.f64[i];
                s->v.f += or_neg0(x, ok);
                s->has |= (int64_t)ok;
            }
        } else if (d->in_type == SDB_TYPE_BOOL) {
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j] & m;
                num_state *s = (num_state *)ROW(j);
                uint64_t ok = VALID(valid, i);
                s->v.i += (int64_t)(arg->v.b8[i] & ok); /* at most one per row: no overflow */
                s->has |= (int64_t)ok;
            }
        } else {
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j] & m;
                num_state *s = (num_state *)ROW(j);
                uint64_t ok = VALID(valid, i);
                int64_t x = arg->v.i64[i] & -(int64_t)ok; /* branch-free: NULL adds 0 */
                if (__builtin_add_overflow(s->v.i, x, &s->v.i))
                    return SDB_FAIL(err, SDB_ERR_LIMIT, "sum overflows int64");
                s->has |= (int64_t)ok;
            }
        }
        return SDB_OK;
    case SDB_AGG_AVG:
        if (d->in_type == SDB_TYPE_FLOAT64 && no_nulls(valid)) {
            for (j = 0; j < n; j++) {
                num_state *s = (num_state *)ROW(j);
                s->v.f += arg->v.f64[sel[j] & m];
                s->has++;
            }
        } else if (d->in_type == SDB_TYPE_FLOAT64) {
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j] & m;
                num_state *s = (num_state *)ROW(j);
                uint64_t ok = VALID(valid, i);
                double x = arg->v.f64[i];
                s->v.f += or_neg0(x, ok); /* branch-free, as in sum */
                s->has += (int64_t)ok;
            }
        } else if (d->in_type == SDB_TYPE_BOOL) {
            /* branch-free: a NULL row adds +0.0 to a sum of zeros and ones, never -0.0 */
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j] & m;
                num_state *s = (num_state *)ROW(j);
                uint64_t ok = VALID(valid, i);
                s->v.f += (double)(arg->v.b8[i] & ok);
                s->has += (int64_t)ok;
            }
        } else {
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j] & m;
                num_state *s = (num_state *)ROW(j);
                uint64_t ok = VALID(valid, i);
                double x = (double)arg->v.i64[i];
                s->v.f += or_neg0(x, ok);
                s->has += (int64_t)ok;
            }
        }
        return SDB_OK;
    case SDB_AGG_MIN: case SDB_AGG_MAX: {
        bool mx = d->kind == SDB_AGG_MAX;
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j] & m;
            if (!VALID(valid, i))
                continue;
            if (d->in_type == SDB_TYPE_STRING) {
                str_state *s = (str_state *)ROW(j);
                sdb_str v = arg->v.str[i];
                int c = 0;
                if (s->has) {
                    uint32_t k = v.len < s->len ? v.len : s->len;
                    c = k ? memcmp(v.p, s->p, k) : 0;
                    if (c == 0)
                        c = (v.len > s->len) - (v.len < s->len);
                }
                if (!s->has || (mx ? c > 0 : c < 0)) {
                    char *copy = sdb_alloc_get(&t->al, v.len ? v.len : 1, err);
                    if (copy == NULL)
                        return err->code;
                    if (v.len)
                        memcpy(copy, v.p, v.len);
                    s->p = copy;
                    s->len = v.len;
                    s->has = 1;
                }
            } else if (d->in_type == SDB_TYPE_FLOAT64) {
                num_state *s = (num_state *)ROW(j);
                double x = arg->v.f64[i];
                if (isnan(x))
                    continue;
                if (!s->has || (mx ? x > s->v.f : x < s->v.f))
                    s->v.f = x;
                s->has = 1;
            } else {
                num_state *s = (num_state *)ROW(j);
                int64_t x = d->in_type == SDB_TYPE_BOOL ? arg->v.b8[i] : arg->v.i64[i];
                if (!s->has || (mx ? x > s->v.i : x < s->v.i))
                    s->v.i = x;
                s->has = 1;
            }
        }
        return SDB_OK;
    }
    case SDB_AGG_COUNT_DISTINCT: {
        /* hashes and sets of a batch first, then the inserts with the slots of values a
           few ahead prefetched */
        enum { BATCH = 256, AHEAD = 8 };
        uint64_t h[BATCH];
        sdb_gtab *sets[BATCH];
        uint32_t rowof[BATCH];
        for (uint32_t base = 0; base < n; base += BATCH) {
            uint32_t bn = n - base < BATCH ? n - base : BATCH, k = 0;
            for (j = base; j < base + bn; j++) {
                uint32_t i = sel[j] & m;
                char tmp[8];
                const char *p;
                uint32_t len;
                if (!VALID(valid, i))
                    continue;
                len = value_bytes(arg, i, tmp, &p);
                SDB_TRY(set_for(t, ROW(j), &sets[k], err));
                h[k] = sdb_hash64(p, len);
                rowof[k++] = i;
            }
            for (uint32_t x = 0; x < k && x < AHEAD; x++)
                sdb_gtab_prefetch(sets[x], h[x]);
            for (uint32_t x = 0; x < k; x++) {
                uint32_t g, len;
                char tmp[8];
                const char *p;
                if (x + AHEAD < k)
                    sdb_gtab_prefetch(sets[x + AHEAD], h[x + AHEAD]);
                len = value_bytes(arg, rowof[x], tmp, &p);
                SDB_TRY(sdb_gtab_find(sets[x], p, len, h[x], &g, err));
            }
        }
        return SDB_OK;
    }
    case SDB_AGG_APPROX_DISTINCT:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j] & m;
            char tmp[8];
            const char *p;
            uint32_t len;
            if (!VALID(valid, i))
                continue;
            len = value_bytes(arg, i, tmp, &p);
            SDB_TRY(sdb_hll_add_hash((sdb_hll *)ROW(j), &t->al, sdb_hash64(p, len), err));
        }
        return SDB_OK;
    case SDB_AGG_QUANTILE_EXACT:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j] & m;
            double x;
            if (!VALID(valid, i) || isnan(x = as_f64(arg, i)))
                continue;
            SDB_TRY(qx_push(t, (qx_state *)ROW(j), x, err));
        }
        return SDB_OK;
    case SDB_AGG_QUANTILE: {
        /* gathered, then added in one call that computes the buckets ahead */
        sdb_sketch *sk[256];
        double xv[256];
        uint32_t k = 0;
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j] & m;
            sdb_sketch *s = (sdb_sketch *)ROW(j);
            if (!VALID(valid, i))
                continue;
            if (s->count == 0 && s->pos.c == NULL && s->neg.c == NULL && s->min == 0 &&
                s->max == 0)
                sdb_sketch_init(s);
            sk[k] = s;
            xv[k++] = as_f64(arg, i);
            if (k == 256) {
                SDB_TRY(sdb_sketch_add_many(sk, xv, k, &t->al, err));
                k = 0;
            }
        }
        return sdb_sketch_add_many(sk, xv, k, &t->al, err);
    }
    }
#undef ROW
    return SDB_OK;
}

uint32_t sdb_agg_set_max(const sdb_aggdef *d, const sdb_gtab *t)
{
    uint32_t mx = 0;
    if (d->kind != SDB_AGG_COUNT_DISTINCT)
        return 0;
    for (uint32_t g = 0; g < t->n; g++) {
        const sdb_gtab *set;
        memcpy(&set, sdb_gtab_state(t, g) + d->off, sizeof set);
        if (set != NULL && set->n > mx)
            mx = set->n;
    }
    return mx;
}

sdb_rc sdb_agg_update(const sdb_aggdef *d, sdb_gtab *t, const uint32_t *gids, const sdb_vec *arg,
                      const uint32_t *sel, uint32_t n, sdb_err *err)
{
    uint8_t *rows[256];
    for (uint32_t base = 0; base < n; base += 256) {
        uint32_t m = n - base < 256 ? n - base : 256;
        for (uint32_t j = 0; j < m; j++)
            rows[j] = sdb_gtab_state(t, gids[base + j]);
        SDB_TRY(sdb_agg_update_rows(d, t, rows, arg, sel + base, m, err));
    }
    return SDB_OK;
}

sdb_rc sdb_agg_merge(const sdb_aggdef *d, sdb_gtab *t, uint8_t *dst, const uint8_t *src,
                     sdb_err *err)
{
    dst += d->off;
    src += d->off;
    switch (d->kind) {
    case SDB_AGG_COUNT_STAR: case SDB_AGG_COUNT: case SDB_AGG_COUNT_IF:
        /* only decoded states can get here */
        if (__builtin_add_overflow(((num_state *)dst)->v.i, ((const num_state *)src)->v.i,
                                   &((num_state *)dst)->v.i))
            return SDB_FAIL(err, SDB_ERR_LIMIT, "count overflows int64");
        return SDB_OK;
    case SDB_AGG_SUM: {
        num_state *a = (num_state *)dst;
        const num_state *b = (const num_state *)src;
        if (!b->has)
            return SDB_OK;
        if (d->in_type == SDB_TYPE_FLOAT64)
            a->v.f += b->v.f;
        else if (__builtin_add_overflow(a->v.i, b->v.i, &a->v.i))
            return SDB_FAIL(err, SDB_ERR_LIMIT, "sum overflows int64");
        a->has = 1;
        return SDB_OK;
    }
    case SDB_AGG_AVG:
        ((num_state *)dst)->v.f += ((const num_state *)src)->v.f;
        if (__builtin_add_overflow(((num_state *)dst)->has, ((const num_state *)src)->has,
                                   &((num_state *)dst)->has))
            return SDB_FAIL(err, SDB_ERR_LIMIT, "avg: count overflows int64");
        return SDB_OK;
    case SDB_AGG_MIN: case SDB_AGG_MAX: {
        bool mx = d->kind == SDB_AGG_MAX;
        if (d->in_type == SDB_TYPE_STRING) {
            str_state *a = (str_state *)dst;
            const str_state *b = (const str_state *)src;
            int c;
            uint32_t k;
            if (!b->has)
                return SDB_OK;
            k = a->len < b->len ? a->len : b->len;
            c = k ? memcmp(b->p, a->p, k) : 0;
            if (c == 0)
                c = (b->len > a->len) - (b->len < a->len);
            if (!a->has || (mx ? c > 0 : c < 0)) {
                char *copy = sdb_alloc_get(&t->al, b->len ? b->len : 1, err);
                if (copy == NULL)
                    return err->code;
                if (b->len)
                    memcpy(copy, b->p, b->len);
                a->p = copy;
                a->len = b->len;
                a->has = 1;
            }
            return SDB_OK;
        }
        num_state *a = (num_state *)dst;
        const num_state *b = (const num_state *)src;
        if (!b->has)
            return SDB_OK;
        if (d->in_type == SDB_TYPE_FLOAT64) {
            if (!a->has || (mx ? b->v.f > a->v.f : b->v.f < a->v.f))
                a->v.f = b->v.f;
        } else if (!a->has || (mx ? b->v.i > a->v.i : b->v.i < a->v.i)) {
            a->v.i = b->v.i;
        }
        a->has = 1;
        return SDB_OK;
    }
    case SDB_AGG_COUNT_DISTINCT: {
        sdb_gtab *bs, *as = NULL;
        uint32_t g;
        memcpy(&bs, src, sizeof bs);
        if (bs == NULL)
            return SDB_OK;
        SDB_TRY(set_for(t, dst, &as, err));
        for (uint32_t k = 0; k < bs->n && k < 8; k++)
            sdb_gtab_prefetch(as, bs->hashes[k]);
        for (uint32_t k = 0; k < bs->n; k++) {
            if (k + 8 < bs->n)
                sdb_gtab_prefetch(as, bs->hashes[k + 8]);
            SDB_TRY(sdb_gtab_find(as, bs->keys[k].p, bs->keys[k].len, bs->hashes[k], &g, err));
        }
        return SDB_OK;
    }
    case SDB_AGG_APPROX_DISTINCT:
        return sdb_hll_merge((sdb_hll *)dst, &t->al, (const sdb_hll *)src, err);
    case SDB_AGG_QUANTILE_EXACT: {
        const qx_state *b = (const qx_state *)src;
        for (uint32_t k = 0; k < b->n; k++)
            SDB_TRY(qx_push(t, (qx_state *)dst, b->v[k], err));
        return SDB_OK;
    }
    case SDB_AGG_QUANTILE: {
        sdb_sketch *a = (sdb_sketch *)dst;
        const sdb_sketch *b = (const sdb_sketch *)src;
        if (b->count == 0)
            return SDB_OK;
        if (a->count == 0 && a->pos.c == NULL && a->neg.c == NULL)
            sdb_sketch_init(a);
        return sdb_sketch_merge(a, &t->al, b, err);
    }
    }
    return SDB_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange v so that v[k] is the k-th smallest, nothing before it larger and nothing after
 * it smaller (quickselect with a median-of-three pivot; after too many rounds the rest is
 * sorted, which bounds the worst case at O(n log n)). Expected O(n) instead of a full sort. */
static void select_kth(double *v, uint32_t n, uint32_t k)
{
    uint32_t lo = 0, hi = n - 1, rounds = 0, limit = 64;
    while (hi > lo) {
        uint32_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
        double pivot;
        if (++rounds > limit) {
            qsort(v + lo, hi - lo + 1, sizeof *v, cmp_double);
            return;
        }
        if (v[mid] < v[lo])
            swap_d(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap_d(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap_d(&v[hi], &v[mid]);
        pivot = v[mid];
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                swap_d(&v[i], &v[j]);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* now v[lo..j] <= pivot <= v[i..hi], and j < i */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return; /* v[k] == pivot, between the two parts */
    }
}

void sdb_agg_finalize(const sdb_aggdef *d, uint8_t *state, sdb_value *out)
{
    uint8_t *st = state + d->off;
    const num_state *ns = (const num_state *)st;
    memset(out, 0, sizeof *out);
    out->type = d->out_type;
    switch (d->kind) {
    case SDB_AGG_COUNT_STAR: case SDB_AGG_COUNT: case SDB_AGG_COUNT_IF:
        out->u.i = ns->v.i;
        return;
    case SDB_AGG_SUM:
        out->null = !ns->has;
        if (d->out_type == SDB_TYPE_FLOAT64)
            out->u.f = ns->v.f;
        else
            out->u.i = ns->v.i;
        return;
    case SDB_AGG_AVG:
        out->null = ns->has == 0;
        out->u.f = ns->has ? ns->v.f / (double)ns->has : 0;
        return;
    case SDB_AGG_MIN: case SDB_AGG_MAX:
        if (d->in_type == SDB_TYPE_STRING) {
            const str_state *s = (const str_state *)st;
            out->null = !s->has;
            out->u.s.p = s->p;
            out->u.s.len = s->len;
        } else if (d->in_type == SDB_TYPE_BOOL) {
            out->null = !ns->has;
            out->u.b = ns->v.i != 0;
        } else {
            out->null = !ns->has;
            if (d->in_type == SDB_TYPE_FLOAT64)
                out->u.f = ns->v.f;
            else
                out->u.i = ns->v.i;
        }
        return;
    case SDB_AGG_COUNT_DISTINCT: {
        sdb_gtab *set = NULL;
        memcpy(&set, st, sizeof set);
        out->u.i = set ? set->n : 0;
        return;
    }
    case SDB_AGG_APPROX_DISTINCT:
        out->u.i = (int64_t)sdb_hll_estimate((const sdb_hll *)st);
        return;
    case SDB_AGG_QUANTILE_EXACT: {
        qx_state *s = (qx_state *)st;
        double h, lo;
        if (s->n == 0) {
            out->null = true;
            return;
        }
        h = d->q * (double)(s->n - 1);
        lo = floor(h);
        {
            uint32_t a = (uint32_t)lo;
            double va, vb;
            select_kth(s->v, s->n, a);
            va = vb = s->v[a];
            /* the next rank is the smallest value after the k-th */
            for (uint32_t i = a + 1; i < s->n; i++)
                if (i == a + 1 || s->v[i] < vb)
                    vb = s->v[i];
            out->u.f = h == lo ? va : va + (h - lo) * (vb - va);
            /* -0.0 and 0.0 compare equal, so which one selection lands on depends on the
             * order the values arrived in: answer +0.0 for both */
            if (out->u.f == 0)
                out->u.f = 0.0;
        }
        return;
    }
    case SDB_AGG_QUANTILE: {
        const sdb_sketch *s = (const sdb_sketch *)st;
        out->null = s->count == 0 || !sdb_sketch_quantile(s, d->q, &out->u.f);
        return;
    }
    }
}

static sdb_rc num_serialize(const num_state *s, sdb_buf *b, sdb_err *err)
{
    uint64_t bits;
    memcpy(&bits, &s->v, 8);
    SDB_TRY(sdb_buf_put_le64(b, bits, err));
    return sdb_buf_put_le64(b, (uint64_t)s->has, err);
}

static void num_deserialize(num_state *s, const uint8_t *p)
{
    uint64_t bits = sdb_get_le64(p);
    memcpy(&s->v, &bits, 8);
    s->has = (int64_t)sdb_get_le64(p + 8);
}

sdb_rc sdb_agg_serialize(const sdb_aggdef *d, const uint8_t *state, sdb_buf *b, sdb_err *err)
{
    const uint8_t *st = state + d->off;
    switch (d->kind) {
    case SDB_AGG_COUNT_DISTINCT: {
        sdb_gtab *set = NULL;
        memcpy(&set, st, sizeof set);
        SDB_TRY(sdb_buf_put_le32(b, set ? set->n : 0, err));
        for (uint32_t k = 0; set && k < set->n; k++) {
            SDB_TRY(sdb_buf_put_le32(b, set->keys[k].len, err));
            SDB_TRY(sdb_buf_append(b, set->keys[k].p, set->keys[k].len, err));
        }
        return SDB_OK;
    }
    case SDB_AGG_APPROX_DISTINCT:
        return sdb_hll_serialize((const sdb_hll *)st, b, err);
    case SDB_AGG_QUANTILE:
        return sdb_sketch_serialize((const sdb_sketch *)st, b, err);
    case SDB_AGG_QUANTILE_EXACT: {
        const qx_state *s = (const qx_state *)st;
        SDB_TRY(sdb_buf_put_le32(b, s->n, err));
        for (uint32_t k = 0; k < s->n; k++) {
            uint64_t bits;
            memcpy(&bits, &s->v[k], 8);
            SDB_TRY(sdb_buf_put_le64(b, bits, err));
        }
        return SDB_OK;
    }
    case SDB_AGG_MIN: case SDB_AGG_MAX:
        if (d->in_type == SDB_TYPE_STRING) {
            const str_state *s = (const str_state *)st;
            SDB_TRY(sdb_buf_put_u8(b, (uint8_t)s->has, err));
            SDB_TRY(sdb_buf_put_le32(b, s->has ? s->len : 0, err));
            return sdb_buf_append(b, s->p, s->has ? s->len : 0, err);
        }
        return num_serialize((const num_state *)st, b, err);
    default:
        return num_serialize((const num_state *)st, b, err);
    }
}

sdb_rc sdb_agg_deserialize(const sdb_aggdef *d, sdb_gtab *t, uint8_t *state, const void *data,
                           size_t n, sdb_err *err)
{
    uint8_t *st = state + d->off;
    const uint8_t *p = data, *end = p + n;
    switch (d->kind) {
    case SDB_AGG_COUNT_DISTINCT: {
        uint32_t cnt, g;
        sdb_gtab *set = NULL;
        if (n < 4)
            goto bad;
        cnt = sdb_get_le32(p);
        p += 4;
        SDB_TRY(set_for(t, st, &set, err));
        for (uint32_t k = 0; k < cnt; k++) {
            uint32_t len;
            if (end - p < 4)
                goto bad;
            len = sdb_get_le32(p);
            p += 4;
            if ((size_t)(end - p) < len)
                goto bad;
            SDB_TRY(sdb_gtab_find(set, p, len, sdb_hash64(p, len), &g, err));
            p += len;
        }
        return p == end ? SDB_OK : SDB_FAIL(err, SDB_ERR_CORRUPT, "%s state: trailing bytes",
                                            sdb_agg_name(d->kind));
    }
    case SDB_AGG_APPROX_DISTINCT:
        return sdb_hll_deserialize((sdb_hll *)st, &t->al, data, n, err);
    case SDB_AGG_QUANTILE:
        return sdb_sketch_deserialize((sdb_sketch *)st, &t->al, data, n, err);
    case SDB_AGG_QUANTILE_EXACT: {
        uint32_t cnt;
        if (n < 4)
            goto bad;
        cnt = sdb_get_le32(p);
        if ((n - 4) / 8 != cnt || (n - 4) % 8 != 0)
            goto bad;
        for (uint32_t k = 0; k < cnt; k++) {
            uint64_t bits = sdb_get_le64(p + 4 + 8 * (size_t)k);
            double v;
            memcpy(&v, &bits, 8);
            if (isnan(v)) /* update never stores NaN */
                goto bad;
            SDB_TRY(qx_push(t, (qx_state *)st, v, err));
        }
        return SDB_OK;
    }
    case SDB_AGG_MIN: case SDB_AGG_MAX:
        if (d->in_type == SDB_TYPE_STRING) {
            str_state *s = (str_state *)st;
            char *copy;
            if (n < 5 || n - 5 != sdb_get_le32(p + 1) || p[0] > 1 || (p[0] == 0 && n != 5))
                goto bad;
            s->has = p[0] != 0;
            s->len = (uint32_t)(n - 5);
            if ((copy = sdb_alloc_get(&t->al, s->len ? s->len : 1, err)) == NULL)
                return err->code;
            if (s->len)
                memcpy(copy, p + 5, s->len);
            s->p = copy;
            return SDB_OK;
        }
        if (n != 16)
            goto bad;
        num_deserialize((num_state *)st, p);
        return SDB_OK;
    default:
        if (n != 16)
            goto bad;
        num_deserialize((num_state *)st, p);
        return SDB_OK;
    }
bad:
    return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s state: malformed (%zu bytes)", sdb_agg_name(d->kind),
                    n);
}
