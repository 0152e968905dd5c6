/* float64 blocks: PLAIN, CONST, SHUFFLE and DECIMAL. Every encoding works on the bit
 * pattern, so NaN payloads, infinities and -0.0 round-trip bit-exactly.
 *
 *   PLAIN    n x u64 (the IEEE bits)
 *   CONST    u64 bits, every value bitwise equal
 *   SHUFFLE  8 planes of n bytes, plane b holding byte b of every value
 *   DECIMAL  e u8 | nexc u32 | pfor(k[i]), n values (see encoding_int.h) |
 *            nexc x position u16 (strictly increasing) | nexc x u64 raw bits
 *            value i = (double)k[i] / 10^e unless i is an exception position
 * DECIMAL targets latencies printed with 3 decimals and costs with up to ~10: a value is
 * representable when the division reproduces its bits exactly (checked per value). */
#include "storage/encoding.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

#define CHUNK    2048u
#define DEC_HDR  5u
#define DEC_MAXE 15u /* encoder tries 10^0 .. 10^15 */
#define SAMPLE   1024u /* values whose bit lengths plan the packing */
#define E_SAMPLE 256u  /* values that vote for the exponent */

/* Exact powers of ten (every 10^e with e <= 22 is a double without rounding). */
static const double pow10_tab[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* v == k / 10^e bit for bit with |k| < 2^52? */
static bool dec_exact(double v, unsigned e, int64_t *k)
{
    const double x = v * pow10_tab[e];
    double r;
    int64_t kk;
    if (!(fabs(x) < 0x1p52))
        return false;
    r = nearbyint(x);
    kk = (int64_t)r;
    if (f64_bits((double)kk / pow10_tab[e]) != f64_bits(v))
        return false;
    *k = kk;
    return true;
}

/* The exponent that makes most of a sample of values exact (*best of *taken exact). */
static unsigned dec_pick_e(const double *v, uint32_t n, uint32_t *best_count, uint32_t *taken_count)
{
    const uint32_t step = n > E_SAMPLE ? n / E_SAMPLE : 1;
    uint32_t count[DEC_MAXE + 1] = {0}, taken = 0, best = 0;
    unsigned e_best = 0;
    for (uint32_t i = 0; i < n; i += step) {
        int64_t k;
        taken++;
        for (unsigned e = 0; e <= DEC_MAXE; e++)
            count[e] += dec_exact(v[i], e, &k);
    }
    for (unsigned e = 0; e <= DEC_MAXE; e++)
        if (count[e] > best) {
            best = count[e];
            e_best = e;
        }
    *best_count = best;
    *taken_count = taken;
    return e_best;
}

static void fill_k(const void *ctx, uint32_t first, uint32_t m, uint64_t *x)
{
    memcpy(x, (const int64_t *)ctx + first, (size_t)m * sizeof *x);
}

/* Try DECIMAL with exponent e; when smaller than 8n (or when forced) append it and set
 * *done. */
static sdb_rc enc_decimal(const double *v, uint32_t n, unsigned e, bool force, sdb_buf *out,
                          bool *done, sdb_err *err)
{
    int64_t *k;
    uint16_t *pos;
    uint32_t nexc = 0;
    int64_t mn = INT64_MAX;
    size_t size;
    sdb_rc rc = SDB_OK;
    *done = false;
    if ((k = malloc((size_t)n * (sizeof *k + sizeof *pos))) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "float64 decimal: no memory for %u values", n);
    pos = (uint16_t *)(k + n);
    for (uint32_t i = 0; i < n; i++) {
        if (dec_exact(v[i], e, &k[i]))
            mn = k[i] < mn ? k[i] : mn;
        else
            pos[nexc++] = (uint16_t)i;
    }
    if (nexc == n)
        mn = 0;
    /* exceptions cost nothing in the packed part: they hold min */
    for (uint32_t j = 0; j < nexc; j++)
        k[pos[j]] = mn;
    {
        uint32_t hist[65] = {0}, sampled = 0;
        unsigned w;
        for (uint32_t i = 0; i < n; i += n / SAMPLE + 1, sampled++)
            sdb_pfor_hist_add(hist, (uint64_t)k[i] - (uint64_t)mn);
        size = DEC_HDR + sdb_pfor_plan(hist, sampled, n, &w) + (size_t)nexc * 10;
        if (size >= (size_t)n * 8 && !force)
            goto out;
        /* k becomes the offsets from min, in place */
        for (uint32_t i = 0; i < n; i++)
            k[i] = (int64_t)((uint64_t)k[i] - (uint64_t)mn);
        if ((rc = sdb_buf_reserve(out, size + 8, err)) != SDB_OK ||
            (rc = sdb_buf_put_u8(out, (uint8_t)e, err)) != SDB_OK ||
            (rc = sdb_buf_put_le32(out, nexc, err)) != SDB_OK ||
            (rc = sdb_pfor_write(fill_k, k, n, (uint64_t)mn, w, out, err)) != SDB_OK)
            goto out;
    }
    for (uint32_t j = 0; j < nexc && rc == SDB_OK; j++)
        rc = sdb_buf_put_le16(out, pos[j], err);
    for (uint32_t j = 0; j < nexc && rc == SDB_OK; j++)
        rc = sdb_buf_put_le64(out, f64_bits(v[pos[j]]), err);
    *done = rc == SDB_OK;
out:
    free(k);
    return rc;
}

/* Transpose an 8x8 byte matrix held as 8 little-endian rows: afterwards byte k of r[j] is
 * what byte j of r[k] was. Three rounds of masked swaps (rows 1, 2 and 4 apart). */
#define SWAP_ROWS(a, d, m)                                                                  \
    do {                                                                                   \
        const uint64_t t_ = ((r[a] >> (8 * (d))) ^ r[(a) + (d)]) & (m);                   \
        r[(a) + (d)] ^= t_;                                                                \
        r[a] ^= t_ << (8 * (d));                                                           \
    } while (0)

static void transpose8(uint64_t r[8])
{
    const uint64_t m1 = UINT64_C(0x00FF00FF00FF00FF), m2 = UINT64_C(0x0000FFFF0000FFFF),
                   m4 = UINT64_C(0x00000000FFFFFFFF);
    SWAP_ROWS(0, 1, m1);
    SWAP_ROWS(2, 1, m1);
    SWAP_ROWS(4, 1, m1);
    SWAP_ROWS(6, 1, m1);
    SWAP_ROWS(0, 2, m2);
    SWAP_ROWS(1, 2, m2);
    SWAP_ROWS(4, 2, m2);
    SWAP_ROWS(5, 2, m2);
    SWAP_ROWS(0, 4, m4);
    SWAP_ROWS(1, 4, m4);
    SWAP_ROWS(2, 4, m4);
    SWAP_ROWS(3, 4, m4);
}

static bool all_same(const double *v, uint32_t n)
{
    const uint64_t first = f64_bits(v[0]);
    for (uint32_t i = 1; i < n; i++)
        if (f64_bits(v[i]) != first)
            return false;
    return true;
}

static sdb_rc write_shuffle(const double *v, uint32_t n, sdb_buf *out, sdb_err *err)
{
    uint8_t *p;
    SDB_TRY(sdb_buf_reserve(out, (size_t)n * 8, err));
    p = out->data + out->len;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t r[8];
        memcpy(r, v + i, sizeof r);
        transpose8(r);
        for (unsigned b = 0; b < 8; b++)
            sdb_put_le64(p + (size_t)b * n + i, r[b]);
    }
    for (; i < n; i++) {
        const uint64_t x = f64_bits(v[i]);
        for (unsigned b = 0; b < 8; b++)
            p[(size_t)b * n + i] = (uint8_t)(x >> (8 * b));
    }
    out->len += (size_t)n * 8;
    return SDB_OK;
}

static sdb_rc check_rows(uint32_t n, sdb_err *err)
{
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "float64 block: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    return SDB_OK;
}

sdb_rc sdb_enc_f64_as(uint8_t enc, const double *v, uint32_t n, sdb_buf *out, sdb_err *err)
{
    uint32_t best, taken;
    bool done;
    SDB_TRY(check_rows(n, err));
    switch (enc) {
    case SDB_ENC_PLAIN: return sdb_buf_append(out, v, (size_t)n * 8, err);
    case SDB_ENC_CONST:
        if (!all_same(v, n))
            return SDB_FAIL(err, SDB_ERR_MISUSE, "float64 const: values differ");
        return sdb_buf_put_le64(out, f64_bits(v[0]), err);
    case SDB_ENC_SHUFFLE: return write_shuffle(v, n, out, err);
    case SDB_ENC_DECIMAL:
        return enc_decimal(v, n, dec_pick_e(v, n, &best, &taken), true, out, &done, err);
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "float64 block: encoding %u (%s) does not apply",
                        enc, sdb_enc_name(enc));
    }
}

sdb_rc sdb_enc_f64(const double *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err)
{
    uint32_t best, taken;
    unsigned e;
    bool done;
    SDB_TRY(check_rows(n, err));
    if (all_same(v, n)) {
        *enc = SDB_ENC_CONST;
        return sdb_buf_put_le64(out, f64_bits(v[0]), err);
    }
    e = dec_pick_e(v, n, &best, &taken);
    /* below half exact, exceptions (10 bytes each) make it lose to 8 bytes a value */
    if (best * 2 >= taken) {
        size_t before = out->len;
        SDB_TRY(enc_decimal(v, n, e, false, out, &done, err));
        /* sampled plan: fall back when the exceptions came out worse than estimated */
        if (done && out->len - before < (size_t)n * 8) {
            *enc = SDB_ENC_DECIMAL;
            return SDB_OK;
        }
        out->len = before;
    }
    /* same size; the byte planes compress far better when a codec follows */
    if (n < 16) {
        *enc = SDB_ENC_PLAIN;
        return sdb_buf_append(out, v, (size_t)n * 8, err);
    }
    *enc = SDB_ENC_SHUFFLE;
    return write_shuffle(v, n, out, err);
}

static sdb_rc dec_decimal(const uint8_t *src, size_t len, uint32_t n, double *out, sdb_err *err)
{
    const char *what = "float64 decimal";
    uint64_t tmp[CHUNK];
    unsigned e;
    uint32_t nexc, cur = 0;
    size_t used;
    sdb_pfor p;
    const uint8_t *pos, *raw;
    double ten;
    if (len < DEC_HDR)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs %u", what, len,
                        DEC_HDR);
    e = src[0];
    nexc = sdb_get_le32(src + 1);
    if (e > 22)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: exponent %u exceeds 22", what, e);
    if (nexc > n)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %u exceptions for %u values", what,
                        nexc, n);
    SDB_TRY(sdb_pfor_open(what, src + DEC_HDR, len - DEC_HDR, n, &p, &used, err));
    if (len != DEC_HDR + used + (size_t)nexc * 10)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what, len,
                        DEC_HDR + used + (size_t)nexc * 10);
    pos = src + DEC_HDR + used;
    raw = pos + (size_t)nexc * 2;
    for (uint32_t j = 0; j < nexc; j++) {
        const uint32_t at = sdb_get_le16(pos + 2 * j);
        if (at >= n || (j > 0 && at <= sdb_get_le16(pos + 2 * (j - 1))))
            return SDB_FAIL(err, SDB_ERR_CORRUPT,
                            "%s block: exception %u at position %u out of order or past %u rows",
                            what, j, at, n);
    }
    ten = pow10_tab[e];
    for (uint32_t c = 0; c < n; c += CHUNK) {
        const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
        sdb_pfor_get(&p, c, m, tmp, &cur);
        for (uint32_t j = 0; j < m; j++)
            out[c + j] = (double)(int64_t)tmp[j] / ten;
    }
    for (uint32_t j = 0; j < nexc; j++)
        memcpy(&out[sdb_get_le16(pos + 2 * j)], raw + 8 * (size_t)j, 8);
    return SDB_OK;
}

sdb_rc sdb_dec_f64(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, double *out,
                   sdb_err *err)
{
    const char *what;
    switch (enc) {
    case SDB_ENC_PLAIN: what = "float64 plain"; break;
    case SDB_ENC_CONST: what = "float64 const"; break;
    case SDB_ENC_SHUFFLE: what = "float64 shuffle"; break;
    case SDB_ENC_DECIMAL: what = "float64 decimal"; break;
    default:
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "float64 block: unknown encoding %u (%s)", enc,
                        sdb_enc_name(enc));
    }
    SDB_TRY(sdb_enc_check_n(what, n, err));
    switch (enc) {
    case SDB_ENC_CONST:
        if (len != 8)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected 8", what, len);
        for (uint32_t i = 0; i < n; i++)
            memcpy(&out[i], src, 8);
        return SDB_OK;
    case SDB_ENC_DECIMAL: return dec_decimal(src, len, n, out, err);
    default: break;
    }
    if (len != (size_t)n * 8)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what, len,
                        (size_t)n * 8);
    if (enc == SDB_ENC_PLAIN) {
        memcpy(out, src, len);
        return SDB_OK;
    }
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t r[8];
        for (unsigned b = 0; b < 8; b++)
            r[b] = sdb_get_le64(src + (size_t)b * n + i);
        transpose8(r);
        memcpy(out + i, r, sizeof r);
    }
    for (; i < n; i++) {
        uint64_t x = 0;
        for (unsigned b = 0; b < 8; b++)
            x |= (uint64_t)src[(size_t)b * n + i] << (8 * b);
        memcpy(&out[i], &x, 8);
    }
    return SDB_OK;
}
