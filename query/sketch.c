/* The quantile sketch and HyperLogLog of sketch.h. */
#include "query/sketch.h"

#include <math.h>
#include <string.h>

#include "storage/common/endian.h"

#define GAMMA     ((1.0 + SDB_SKETCH_ALPHA) / (1.0 - SDB_SKETCH_ALPHA))
#define MAX_INDEX 400000 /* |index| of any finite double is below 36,000 */

void sdb_sketch_init(sdb_sketch *s)
{
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
}

static int32_t bucket_of(double v)
{
    return (int32_t)ceil(log(v) / log(GAMMA));
}

static double bucket_value(int32_t i)
{
    return 2.0 * pow(GAMMA, (double)i) / (GAMMA + 1.0);
}

/* Make room for index i in st. */
static sdb_rc store_reach(sdb_sketch_store *st, const sdb_alloc *al, int32_t i, sdb_err *err)
{
    int32_t lo, hi;
    uint32_t need, cap;
    uint64_t *nc;
    if (st->n == 0) {
        lo = hi = i;
    } else {
        if (i >= st->off && i < st->off + (int32_t)st->n)
            return SDB_OK;
        lo = i < st->off ? i : st->off;
        hi = i > st->off + (int32_t)st->n - 1 ? i : st->off + (int32_t)st->n - 1;
    }
    need = (uint32_t)(hi - lo + 1);
    if (st->n > 0 && lo == st->off && need <= st->cap) {
        memset(st->c + st->n, 0, (need - st->n) * sizeof *st->c);
        st->n = need;
        return SDB_OK;
    }
    cap = need < 32 ? 32 : need + need / 2;
    if ((nc = sdb_alloc_get(al, cap * sizeof *nc, err)) == NULL)
        return err->code;
    memset(nc, 0, cap * sizeof *nc);
    if (st->n > 0)
        memcpy(nc + (st->off - lo), st->c, st->n * sizeof *nc);
    st->c = nc;
    st->cap = cap;
    st->off = lo;
    st->n = need;
    return SDB_OK;
}

static sdb_rc store_add(sdb_sketch_store *st, const sdb_alloc *al, int32_t i, uint64_t c,
                        sdb_err *err)
{
    SDB_TRY(store_reach(st, al, i, err));
    st->c[i - st->off] += c;
    return SDB_OK;
}

sdb_rc sdb_sketch_add(sdb_sketch *s, const sdb_alloc *al, double v, sdb_err *err)
{
    if (!isfinite(v))
        return SDB_OK;
    if (v > 0) {
        if (v < 1e-300)
            s->zeros++;
        else
            SDB_TRY(store_add(&s->pos, al, bucket_of(v), 1, err));
    } else if (v < 0) {
        if (v > -1e-300)
            s->zeros++;
        else
            SDB_TRY(store_add(&s->neg, al, bucket_of(-v), 1, err));
    } else {
        s->zeros++;
    }
    s->count++;
    if (v < s->min)
        s->min = v;
    if (v > s->max)
        s->max = v;
    return SDB_OK;
}

static sdb_rc store_merge(sdb_sketch_store *d, const sdb_alloc *al, const sdb_sketch_store *s,
                          sdb_err *err)
{
    if (s->n == 0)
        return SDB_OK;
    SDB_TRY(store_reach(d, al, s->off, err));
    SDB_TRY(store_reach(d, al, s->off + (int32_t)s->n - 1, err));
    for (uint32_t k = 0; k < s->n; k++)
        d->c[s->off + (int32_t)k - d->off] += s->c[k];
    return SDB_OK;
}

sdb_rc sdb_sketch_merge(sdb_sketch *dst, const sdb_alloc *al, const sdb_sketch *src, sdb_err *err)
{
    SDB_TRY(store_merge(&dst->pos, al, &src->pos, err));
    SDB_TRY(store_merge(&dst->neg, al, &src->neg, err));
    dst->zeros += src->zeros;
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return SDB_OK;
}

bool sdb_sketch_quantile(const sdb_sketch *s, double q, double *out)
{
    uint64_t rank, seen = 0;
    double v = 0;
    bool found = false;
    if (s->count == 0)
        return false;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    {
        /* 0-based lower closest rank; a decoded count near 2^64 must not overflow the cast */
        double r = floor(q * (double)(s->count - 1));
        rank = r < 18446744073709551616.0 ? (uint64_t)r : s->count - 1;
        if (rank > s->count - 1)
            rank = s->count - 1;
    }
    /* most negative first: the mirrored store from its highest index down */
    for (uint32_t k = s->neg.n; k-- > 0 && !found;) {
        seen += s->neg.c[k];
        if (seen > rank) {
            v = -bucket_value(s->neg.off + (int32_t)k);
            found = true;
        }
    }
    if (!found) {
        seen += s->zeros;
        if (seen > rank) {
            v = 0;
            found = true;
        }
    }
    for (uint32_t k = 0; k < s->pos.n && !found; k++) {
        seen += s->pos.c[k];
        if (seen > rank) {
            v = bucket_value(s->pos.off + (int32_t)k);
            found = true;
        }
    }
    if (!found)
        v = s->max;
    if (v < s->min)
        v = s->min;
    if (v > s->max)
        v = s->max;
    *out = v;
    return true;
}

static sdb_rc store_ser(const sdb_sketch_store *st, sdb_buf *b, sdb_err *err)
{
    SDB_TRY(sdb_buf_put_le32(b, (uint32_t)st->off, err));
    SDB_TRY(sdb_buf_put_le32(b, st->n, err));
    for (uint32_t k = 0; k < st->n; k++)
        SDB_TRY(sdb_buf_put_le64(b, st->c[k], err));
    return SDB_OK;
}

sdb_rc sdb_sketch_serialize(const sdb_sketch *s, sdb_buf *b, sdb_err *err)
{
    uint64_t bits;
    SDB_TRY(sdb_buf_put_u8(b, 1, err)); /* version */
    SDB_TRY(sdb_buf_put_le64(b, s->zeros, err));
    SDB_TRY(sdb_buf_put_le64(b, s->count, err));
    memcpy(&bits, &s->min, 8);
    SDB_TRY(sdb_buf_put_le64(b, bits, err));
    memcpy(&bits, &s->max, 8);
    SDB_TRY(sdb_buf_put_le64(b, bits, err));
    SDB_TRY(store_ser(&s->pos, b, err));
    return store_ser(&s->neg, b, err);
}

static sdb_rc store_de(sdb_sketch_store *st, const sdb_alloc *al, const uint8_t **pp,
                       const uint8_t *end, sdb_err *err)
{
    const uint8_t *p = *pp;
    int32_t off;
    uint32_t n;
    if (end - p < 8)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: truncated store header");
    off = (int32_t)sdb_get_le32(p);
    n = sdb_get_le32(p + 4);
    p += 8;
    if (n > 2 * MAX_INDEX || off < -MAX_INDEX || (int64_t)off + n > MAX_INDEX + 1 ||
        (size_t)(end - p) / 8 < n)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: store of %u buckets at %d is invalid", n,
                        off);
    for (uint32_t k = 0; k < n; k++) {
        uint64_t c = sdb_get_le64(p + 8 * k);
        if (c != 0)
            SDB_TRY(store_add(st, al, off + (int32_t)k, c, err));
    }
    *pp = p + 8 * (size_t)n;
    return SDB_OK;
}

sdb_rc sdb_sketch_deserialize(sdb_sketch *s, const sdb_alloc *al, const void *data, size_t n,
                              sdb_err *err)
{
    const uint8_t *p = data, *end = p + n;
    uint64_t bits;
    sdb_sketch_init(s);
    if (n < 33 || p[0] != 1)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: bad header (%zu bytes)", n);
    s->zeros = sdb_get_le64(p + 1);
    s->count = sdb_get_le64(p + 9);
    bits = sdb_get_le64(p + 17);
    memcpy(&s->min, &bits, 8);
    bits = sdb_get_le64(p + 25);
    memcpy(&s->max, &bits, 8);
    p += 33;
    SDB_TRY(store_de(&s->pos, al, &p, end, err));
    SDB_TRY(store_de(&s->neg, al, &p, end, err));
    if (p != end)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: %zu trailing bytes", (size_t)(end - p));
    return SDB_OK;
}

static sdb_rc hll_alloc(sdb_hll *h, const sdb_alloc *al, sdb_err *err)
{
    if (h->reg != NULL)
        return SDB_OK;
    if ((h->reg = sdb_alloc_get(al, SDB_HLL_M, err)) == NULL)
        return err->code;
    memset(h->reg, 0, SDB_HLL_M);
    return SDB_OK;
}

sdb_rc sdb_hll_add_hash(sdb_hll *h, const sdb_alloc *al, uint64_t hash, sdb_err *err)
{
    uint32_t idx = (uint32_t)(hash >> (64 - SDB_HLL_P));
    uint64_t rest = (hash << SDB_HLL_P) | ((uint64_t)1 << (SDB_HLL_P - 1));
    uint8_t rho = (uint8_t)(__builtin_clzll(rest) + 1);
    SDB_TRY(hll_alloc(h, al, err));
    if (rho > h->reg[idx])
        h->reg[idx] = rho;
    return SDB_OK;
}

sdb_rc sdb_hll_merge(sdb_hll *dst, const sdb_alloc *al, const sdb_hll *src, sdb_err *err)
{
    if (src->reg == NULL)
        return SDB_OK;
    SDB_TRY(hll_alloc(dst, al, err));
    for (uint32_t k = 0; k < SDB_HLL_M; k++)
        if (src->reg[k] > dst->reg[k])
            dst->reg[k] = src->reg[k];
    return SDB_OK;
}

/* Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017, algorithm 6): unbiased from empty to huge without the empirical bias
 * tables of HLL++ or the switch to linear counting. */
static double hll_sigma(double x)
{
    double y = 1, z = x, zp;
    if (x == 1)
        return INFINITY;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double hll_tau(double x)
{
    double y = 1, z, zp;
    if (x == 0 || x == 1)
        return 0;
    z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (zp != z);
    return z / 3;
}

uint64_t sdb_hll_estimate(const sdb_hll *h)
{
    enum { Q = 64 - SDB_HLL_P };
    uint32_t c[Q + 2] = {0};
    double m = SDB_HLL_M, z;
    if (h->reg == NULL)
        return 0;
    for (uint32_t k = 0; k < SDB_HLL_M; k++)
        c[h->reg[k] <= Q + 1 ? h->reg[k] : Q + 1]++;
    if (c[0] == SDB_HLL_M)
        return 0;
    z = m * hll_tau(1 - (double)c[Q + 1] / m);
    for (int k = Q; k >= 1; k--)
        z = 0.5 * (z + c[k]);
    z += m * hll_sigma((double)c[0] / m);
    z = m * m / (2 * log(2)) / z;
    if (!(z < 9.2e18)) /* every register saturated (only decoded states get here) */
        return (uint64_t)INT64_MAX;
    return (uint64_t)llround(z);
}

sdb_rc sdb_hll_serialize(const sdb_hll *h, sdb_buf *b, sdb_err *err)
{
    static const uint8_t zero[SDB_HLL_M];
    return sdb_buf_append(b, h->reg ? h->reg : zero, SDB_HLL_M, err);
}

sdb_rc sdb_hll_deserialize(sdb_hll *h, const sdb_alloc *al, const void *p, size_t n,
                           sdb_err *err)
{
    const uint8_t *r = p;
    h->reg = NULL;
    if (n != SDB_HLL_M)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "hll: %zu bytes, expected %u", n, SDB_HLL_M);
    for (uint32_t k = 0; k < SDB_HLL_M; k++)
        if (r[k] > 64 - SDB_HLL_P + 1)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "hll: register %u holds %u", k, r[k]);
    SDB_TRY(hll_alloc(h, al, err));
    memcpy(h->reg, r, SDB_HLL_M);
    return SDB_OK;
}
