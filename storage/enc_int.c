/* int64 and timestamp blocks: PLAIN, CONST, FOR, DELTA, DOD and RLE. The encoder takes one
 * pass of statistics (min, max, min/max delta, min/max delta-of-delta, runs) and one pass of
 * bit-length histograms, computes the exact size of every candidate from them and writes
 * only the smallest. All arithmetic on values is uint64_t modulo 2^64, so deltas of
 * INT64_MIN/INT64_MAX mixes wrap and round-trip.
 *
 *   PLAIN  n x u64
 *   CONST  u64 value
 *   FOR    pfor(v[i] - min), n values                      (pfor: see encoding_int.h)
 *   DELTA  first u64 | pfor(d[i] - dmin), n - 1 values
 *   DOD    first u64 | d1 u64 | pfor(dd[i] - ddmin), n - 2 values (0 when n < 2)
 *   RLE    see sdb_rle_encode (encoding_int.h)
 * where d[i] = v[i] - v[i-1] and dd[i] = d[i] - d[i-1]; all little-endian. */
#include "storage/encoding.h"

#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

#define CHUNK 2048u

typedef struct i64_stats {
    int64_t min, max;     /* of the values */
    int64_t dmin, dmax;   /* of the deltas, as signed; 0 when n < 2 */
    int64_t ddmin, ddmax; /* of the deltas of deltas, as signed; 0 when n < 3 */
    uint32_t runs;        /* maximal runs of equal values */
    uint32_t maxrun;      /* longest run */
} i64_stats;

static void i64_scan(const uint64_t *v, uint32_t n, i64_stats *s)
{
    int64_t mn = (int64_t)v[0], mx = mn;
    int64_t dmin = INT64_MAX, dmax = INT64_MIN, ddmin = INT64_MAX, ddmax = INT64_MIN;
    uint32_t runs = 1, run = 1, maxrun = 1;
    uint64_t pd = 0;
    for (uint32_t i = 1; i < n; i++) {
        const uint64_t d = v[i] - v[i - 1];
        const int64_t x = (int64_t)v[i], sd = (int64_t)d;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
        dmin = sd < dmin ? sd : dmin;
        dmax = sd > dmax ? sd : dmax;
        if (i >= 2) {
            const int64_t sdd = (int64_t)(d - pd);
            ddmin = sdd < ddmin ? sdd : ddmin;
            ddmax = sdd > ddmax ? sdd : ddmax;
        }
        if (d == 0) {
            run++;
        } else {
            maxrun = run > maxrun ? run : maxrun;
            run = 1;
            runs++;
        }
        pd = d;
    }
    s->min = mn;
    s->max = mx;
    s->dmin = n >= 2 ? dmin : 0;
    s->dmax = n >= 2 ? dmax : 0;
    s->ddmin = n >= 3 ? ddmin : 0;
    s->ddmax = n >= 3 ? ddmax : 0;
    s->runs = runs;
    s->maxrun = run > maxrun ? run : maxrun;
}

/* x = f(i) - base for i in [from, n), f(i) = v[i] (kind 0), v[i] - v[i-1] (kind 1) or
 * (v[i] - v[i-1]) - (v[i-1] - v[i-2]) (kind 2). */
static uint64_t transformed(const uint64_t *v, uint32_t i, int kind, uint64_t base)
{
    uint64_t x = v[i];
    if (kind >= 1)
        x -= v[i - 1];
    if (kind == 2)
        x -= v[i - 1] - v[i - 2];
    return x - base;
}

/* Planning of the three offset kinds (FOR, DELTA, DOD) from a sample of about 1,024
 * values: bit-length histograms against two candidate bases, the exact minimum and a robust
 * one (about the 1.5th percentile), so that a few low outliers become exceptions instead of
 * widening every value. The writer then counts the exceptions exactly. */
#define SAMPLE 1024u
#define RANK   16u /* the robust base is the RANK-th smallest sampled value */

typedef struct i64_plan {
    uint64_t base[6];     /* [2 * kind] = minimum, [2 * kind + 1] = robust */
    uint32_t hist[6][65]; /* bit-length histograms of the sampled offsets from each base */
    uint32_t sampled[3];  /* sampled values per kind */
} i64_plan;

/* Keep the RANK + 1 smallest of a stream (sorted ascending in low[0..*k)). */
static void keep_low(int64_t *low, uint32_t *k, int64_t x)
{
    uint32_t i = *k;
    if (i == RANK + 1) {
        if (x >= low[RANK])
            return;
        i = RANK;
    } else {
        (*k)++;
    }
    while (i > 0 && low[i - 1] > x) {
        low[i] = low[i - 1];
        i--;
    }
    low[i] = x;
}

static void i64_plan_make(const uint64_t *v, uint32_t n, const i64_stats *s, i64_plan *p)
{
    int64_t low[3][RANK + 1];
    uint32_t nlow[3] = {0, 0, 0};
    const uint32_t step = n / SAMPLE + 1;
    memset(p, 0, sizeof *p);
    p->base[0] = (uint64_t)s->min;
    p->base[2] = (uint64_t)s->dmin;
    p->base[4] = (uint64_t)s->ddmin;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < 3; k++) {
            if (pass == 1)
                p->base[2 * k + 1] = nlow[k] == RANK + 1 ? (uint64_t)low[k][RANK] : p->base[2 * k];
        }
        for (uint32_t i = 0; i < n; i += step) {
            for (int k = 0; k < 3; k++) {
                uint64_t x;
                if (i < (uint32_t)k)
                    continue;
                x = transformed(v, i, k, 0);
                if (pass == 0) {
                    keep_low(low[k], &nlow[k], (int64_t)x);
                } else {
                    sdb_pfor_hist_add(p->hist[2 * k], x - p->base[2 * k]);
                    sdb_pfor_hist_add(p->hist[2 * k + 1], x - p->base[2 * k + 1]);
                    p->sampled[k]++;
                }
            }
        }
    }
}

/* Estimated size of kind's best PFOR over count values; *which gets the base slot. */
static size_t plan_kind(const i64_plan *p, int kind, uint32_t count, int *which,
                        unsigned *width)
{
    unsigned wa, wb;
    const size_t a = sdb_pfor_plan(p->hist[2 * kind], p->sampled[kind], count, &wa);
    const size_t b = sdb_pfor_plan(p->hist[2 * kind + 1], p->sampled[kind], count, &wb);
    *which = b < a ? 2 * kind + 1 : 2 * kind;
    *width = b < a ? wb : wa;
    return b < a ? b : a;
}

typedef struct fill_ctx {
    const uint64_t *v;
    int kind;      /* 0 FOR, 1 DELTA, 2 DOD: offsets of value kind + i */
    uint64_t base;
} fill_ctx;

static void fill_offsets(const void *ctx, uint32_t first, uint32_t m, uint64_t *x)
{
    const fill_ctx *f = ctx;
    const uint32_t from = (uint32_t)f->kind + first;
    for (uint32_t j = 0; j < m; j++)
        x[j] = transformed(f->v, from + j, f->kind, f->base);
}

static sdb_rc write_pfor(const uint64_t *v, uint32_t n, int kind, const i64_plan *p,
                         sdb_buf *out, sdb_err *err)
{
    const uint32_t count = n > (uint32_t)kind ? n - (uint32_t)kind : 0;
    unsigned width;
    int which;
    fill_ctx f;
    plan_kind(p, kind, count, &which, &width);
    f.v = v;
    f.kind = kind;
    f.base = p->base[which];
    return sdb_pfor_write(fill_offsets, &f, count, f.base, width, out, err);
}

static sdb_rc check_rows(uint32_t n, sdb_err *err)
{
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "int64 block: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    return SDB_OK;
}

/* Append v encoded as enc, with s its statistics and p its offset plans. */
static sdb_rc write_i64(uint8_t enc, const uint64_t *u, uint32_t n, const i64_stats *s,
                        const i64_plan *p, sdb_buf *out, sdb_err *err)
{
    switch (enc) {
    case SDB_ENC_PLAIN: return sdb_buf_append(out, u, (size_t)n * 8, err);
    case SDB_ENC_CONST:
        if (s->min != s->max)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "int64 const: values differ");
        return sdb_buf_put_le64(out, u[0], err);
    case SDB_ENC_FOR: return write_pfor(u, n, 0, p, out, err);
    case SDB_ENC_DELTA:
        SDB_TRY(sdb_buf_put_le64(out, u[0], err));
        return write_pfor(u, n, 1, p, out, err);
    case SDB_ENC_DOD:
        SDB_TRY(sdb_buf_put_le64(out, u[0], err));
        SDB_TRY(sdb_buf_put_le64(out, n >= 2 ? u[1] - u[0] : 0, err));
        return write_pfor(u, n, 2, p, out, err);
    case SDB_ENC_RLE: return sdb_rle_encode(u, n, out, err);
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "int64 block: encoding %u (%s) does not apply", enc,
                        sdb_enc_name(enc));
    }
}

sdb_rc sdb_enc_i64_as(uint8_t enc, const int64_t *v, uint32_t n, sdb_buf *out, sdb_err *err)
{
    i64_stats s;
    i64_plan p;
    SDB_TRY(check_rows(n, err));
    i64_scan((const uint64_t *)v, n, &s);
    i64_plan_make((const uint64_t *)v, n, &s, &p);
    return write_i64(enc, (const uint64_t *)v, n, &s, &p, out, err);
}

sdb_rc sdb_enc_i64(const int64_t *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err)
{
    const uint64_t *u = (const uint64_t *)v;
    i64_stats s;
    i64_plan p;
    size_t best, size;
    uint8_t pick = SDB_ENC_PLAIN;
    int which;
    unsigned w;
    SDB_TRY(check_rows(n, err));
    i64_scan(u, n, &s);
    best = (size_t)n * 8;
    if (s.min == s.max) {
        pick = SDB_ENC_CONST;
        best = 8;
    }
    size = 14 + sdb_bitpack_bytes(s.runs, sdb_enc_bits((uint64_t)s.max - (uint64_t)s.min)) +
           sdb_bitpack_bytes(s.runs, sdb_enc_bits(s.maxrun - 1));
    if (size < best) {
        pick = SDB_ENC_RLE;
        best = size;
    }
    if (pick != SDB_ENC_CONST) {
        i64_plan_make(u, n, &s, &p);
        /* FOR first: on equal sizes the cheapest decode wins */
        if ((size = plan_kind(&p, 0, n, &which, &w)) <= best) {
            pick = SDB_ENC_FOR;
            best = size;
        }
        if (n >= 2 && (size = 8 + plan_kind(&p, 1, n - 1, &which, &w)) < best) {
            pick = SDB_ENC_DELTA;
            best = size;
        }
        if (n >= 3 && (size = 16 + plan_kind(&p, 2, n - 2, &which, &w)) < best)
            pick = SDB_ENC_DOD;
    }
    {
        const size_t before = out->len;
        SDB_TRY(write_i64(pick, u, n, &s, &p, out, err));
        /* the plan comes from a sample: a pattern it missed may leave more exceptions than
         * estimated; never store more than PLAIN would */
        if (out->len - before > (size_t)n * 8) {
            out->len = before;
            pick = SDB_ENC_PLAIN;
            SDB_TRY(write_i64(pick, u, n, &s, &p, out, err));
        }
    }
    *enc = pick;
    return SDB_OK;
}

static sdb_rc expect_end(const char *what, size_t len, size_t used, sdb_err *err)
{
    if (used != len)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what, len,
                        used);
    return SDB_OK;
}

sdb_rc sdb_dec_i64(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, int64_t *out,
                   sdb_err *err)
{
    uint64_t *u = (uint64_t *)out;
    const char *what = NULL;
    sdb_pfor p;
    size_t used;
    uint32_t cur = 0;
    switch (enc) {
    case SDB_ENC_PLAIN: what = "int64 plain"; break;
    case SDB_ENC_CONST: what = "int64 const"; break;
    case SDB_ENC_FOR: what = "int64 for"; break;
    case SDB_ENC_DELTA: what = "int64 delta"; break;
    case SDB_ENC_DOD: what = "int64 dod"; break;
    case SDB_ENC_RLE: what = "int64 rle"; break;
    default:
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "int64 block: unknown encoding %u (%s)", enc,
                        sdb_enc_name(enc));
    }
    SDB_TRY(sdb_enc_check_n(what, n, err));
    switch (enc) {
    case SDB_ENC_PLAIN:
        SDB_TRY(expect_end(what, len, (size_t)n * 8, err));
        memcpy(out, src, len);
        return SDB_OK;
    case SDB_ENC_CONST: {
        uint64_t x;
        SDB_TRY(expect_end(what, len, 8, err));
        x = sdb_get_le64(src);
        for (uint32_t i = 0; i < n; i++)
            u[i] = x;
        return SDB_OK;
    }
    case SDB_ENC_FOR:
        SDB_TRY(sdb_pfor_open(what, src, len, n, &p, &used, err));
        SDB_TRY(expect_end(what, len, used, err));
        sdb_pfor_get(&p, 0, n, u, &cur);
        return SDB_OK;
    case SDB_ENC_DELTA: {
        uint64_t acc;
        if (len < 8)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 8", what,
                            len);
        SDB_TRY(sdb_pfor_open(what, src + 8, len - 8, n - 1, &p, &used, err));
        SDB_TRY(expect_end(what, len, 8 + used, err));
        acc = u[0] = sdb_get_le64(src);
        if (p.nexc == 0) {
            /* fused unpack + prefix sum */
            sdb_bitunpack_delta(p.packed, n - 1, p.width, p.base, acc, u + 1);
            return SDB_OK;
        }
        sdb_pfor_get(&p, 0, n - 1, u + 1, &cur);
        for (uint32_t i = 1; i < n; i++)
            u[i] = acc += u[i];
        return SDB_OK;
    }
    case SDB_ENC_DOD: {
        uint64_t tmp[CHUNK], d, acc;
        const uint32_t m = n >= 2 ? n - 2 : 0;
        if (len < 16)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 16", what,
                            len);
        SDB_TRY(sdb_pfor_open(what, src + 16, len - 16, m, &p, &used, err));
        SDB_TRY(expect_end(what, len, 16 + used, err));
        acc = u[0] = sdb_get_le64(src);
        d = sdb_get_le64(src + 8);
        if (n >= 2)
            acc = u[1] = acc + d;
        for (uint32_t c = 0; c < m; c += CHUNK) {
            const uint32_t k = m - c < CHUNK ? m - c : CHUNK;
            sdb_pfor_get(&p, c, k, tmp, &cur);
            for (uint32_t j = 0; j < k; j++) {
                d += tmp[j];
                acc += d;
                u[2 + c + j] = acc;
            }
        }
        return SDB_OK;
    }
    default: return sdb_rle_decode(what, src, len, n, u, err);
    }
}
