/* int64 and timestamp blocks: PLAIN, CONST, FOR, DELTA, DOD and RLE. The encoder takes one
 * pass of statistics (min, max, min/max delta, min/max delta-of-delta, runs), computes the
 * exact size of every candidate from them and writes only the smallest. All arithmetic on
 * values is uint64_t modulo 2^64, so deltas of INT64_MIN/INT64_MAX mixes wrap and round-trip.
 *
 *   PLAIN  n x u64
 *   CONST  u64 value
 *   FOR    min u64 | width u8 | packed(v[i] - min), n values
 *   DELTA  first u64 | dmin u64 | width u8 | packed(d[i] - dmin), n - 1 values
 *   DOD    first u64 | d1 u64 | ddmin u64 | width u8 | packed(dd[i] - ddmin), n - 2 values
 *   RLE    see sdb_rle_encode (encoding_int.h)
 * where d[i] = v[i] - v[i-1] and dd[i] = d[i] - d[i-1]; all little-endian. */
#include "storage/encoding.h"

#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

#define CHUNK 2048u

typedef struct i64_stats {
    int64_t min, max;     /* of the values */
    int64_t dmin, dmax;   /* of the deltas, as signed */
    int64_t ddmin, ddmax; /* of the deltas of deltas, as signed */
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
    s->dmin = dmin;
    s->dmax = dmax;
    s->ddmin = ddmin;
    s->ddmax = ddmax;
    s->runs = runs;
    s->maxrun = run > maxrun ? run : maxrun;
}

static unsigned range_bits(int64_t lo, int64_t hi)
{
    return sdb_enc_bits((uint64_t)hi - (uint64_t)lo);
}

/* Pack f(i) for i in [from, n) where f is v[i] - base (kind 0), v[i] - v[i-1] - base
 * (kind 1) or (v[i] - v[i-1]) - (v[i-1] - v[i-2]) - base (kind 2), chunk by chunk. */
static sdb_rc pack_transformed(const uint64_t *v, uint32_t from, uint32_t n, int kind,
                               uint64_t base, unsigned width, sdb_buf *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    for (uint32_t c = from; c < n; c += CHUNK) {
        const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
        for (uint32_t j = 0; j < m; j++) {
            const uint32_t i = c + j;
            uint64_t x = v[i];
            if (kind >= 1)
                x -= v[i - 1];
            if (kind == 2)
                x -= v[i - 1] - v[i - 2];
            tmp[j] = x - base;
        }
        SDB_TRY(sdb_bitpack(tmp, m, width, out, err));
    }
    return SDB_OK;
}

static sdb_rc check_rows(uint32_t n, sdb_err *err)
{
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "int64 block: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    return SDB_OK;
}

/* Append v encoded as enc, with s its statistics. */
static sdb_rc write_i64(uint8_t enc, const uint64_t *u, uint32_t n, const i64_stats *s,
                        sdb_buf *out, sdb_err *err)
{
    const unsigned fw = range_bits(s->min, s->max);
    switch (enc) {
    case SDB_ENC_PLAIN: return sdb_buf_append(out, u, (size_t)n * 8, err);
    case SDB_ENC_CONST:
        if (s->min != s->max)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "int64 const: values differ");
        return sdb_buf_put_le64(out, u[0], err);
    case SDB_ENC_FOR:
        SDB_TRY(sdb_buf_reserve(out, 9 + sdb_bitpack_bytes(n, fw) + 8, err));
        SDB_TRY(sdb_buf_put_le64(out, (uint64_t)s->min, err));
        SDB_TRY(sdb_buf_put_u8(out, (uint8_t)fw, err));
        return pack_transformed(u, 0, n, 0, (uint64_t)s->min, fw, out, err);
    case SDB_ENC_DELTA: {
        const int64_t dmin = n >= 2 ? s->dmin : 0;
        const unsigned dw = n >= 2 ? range_bits(s->dmin, s->dmax) : 0;
        SDB_TRY(sdb_buf_reserve(out, 17 + sdb_bitpack_bytes(n, dw) + 8, err));
        SDB_TRY(sdb_buf_put_le64(out, u[0], err));
        SDB_TRY(sdb_buf_put_le64(out, (uint64_t)dmin, err));
        SDB_TRY(sdb_buf_put_u8(out, (uint8_t)dw, err));
        return pack_transformed(u, 1, n, 1, (uint64_t)dmin, dw, out, err);
    }
    case SDB_ENC_DOD: {
        const int64_t ddmin = n >= 3 ? s->ddmin : 0;
        const unsigned ddw = n >= 3 ? range_bits(s->ddmin, s->ddmax) : 0;
        SDB_TRY(sdb_buf_reserve(out, 25 + sdb_bitpack_bytes(n, ddw) + 8, err));
        SDB_TRY(sdb_buf_put_le64(out, u[0], err));
        SDB_TRY(sdb_buf_put_le64(out, n >= 2 ? u[1] - u[0] : 0, err));
        SDB_TRY(sdb_buf_put_le64(out, (uint64_t)ddmin, err));
        SDB_TRY(sdb_buf_put_u8(out, (uint8_t)ddw, err));
        return pack_transformed(u, 2, n, 2, (uint64_t)ddmin, ddw, out, err);
    }
    case SDB_ENC_RLE: return sdb_rle_encode(u, n, out, err);
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "int64 block: encoding %u (%s) does not apply", enc,
                        sdb_enc_name(enc));
    }
}

sdb_rc sdb_enc_i64_as(uint8_t enc, const int64_t *v, uint32_t n, sdb_buf *out, sdb_err *err)
{
    i64_stats s;
    SDB_TRY(check_rows(n, err));
    i64_scan((const uint64_t *)v, n, &s);
    return write_i64(enc, (const uint64_t *)v, n, &s, out, err);
}

sdb_rc sdb_enc_i64(const int64_t *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err)
{
    const uint64_t *u = (const uint64_t *)v;
    i64_stats s;
    size_t best, size;
    uint8_t pick = SDB_ENC_PLAIN;
    unsigned fw;
    SDB_TRY(check_rows(n, err));
    i64_scan(u, n, &s);
    best = (size_t)n * 8;
    fw = range_bits(s.min, s.max);
    if (s.min == s.max) {
        pick = SDB_ENC_CONST;
        best = 8;
    }
    if ((size = 9 + sdb_bitpack_bytes(n, fw)) < best) {
        pick = SDB_ENC_FOR;
        best = size;
    }
    if (n >= 2 && (size = 17 + sdb_bitpack_bytes(n - 1, range_bits(s.dmin, s.dmax))) < best) {
        pick = SDB_ENC_DELTA;
        best = size;
    }
    if (n >= 3 &&
        (size = 25 + sdb_bitpack_bytes(n - 2, range_bits(s.ddmin, s.ddmax))) < best) {
        pick = SDB_ENC_DOD;
        best = size;
    }
    size = 14 + sdb_bitpack_bytes(s.runs, fw) + sdb_bitpack_bytes(s.runs, sdb_enc_bits(s.maxrun - 1));
    if (size < best)
        pick = SDB_ENC_RLE;
    SDB_TRY(write_i64(pick, u, n, &s, out, err));
    *enc = pick;
    return SDB_OK;
}

/* The header is `hdr` bytes with the bit width in its last byte, followed by `count` packed
 * values; checks both and returns the width. */
static sdb_rc check_packed(const char *what, size_t len, size_t hdr, uint8_t wbyte,
                           uint32_t count, unsigned *width, sdb_err *err)
{
    if (wbyte > 64)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: bit width %u exceeds 64", what, wbyte);
    if (len != hdr + sdb_bitpack_bytes(count, wbyte))
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu for %u values",
                        what, len, hdr + sdb_bitpack_bytes(count, wbyte), count);
    *width = wbyte;
    return SDB_OK;
}

sdb_rc sdb_dec_i64(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, int64_t *out,
                   sdb_err *err)
{
    uint64_t *u = (uint64_t *)out;
    unsigned w;
    const char *what = NULL;
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
        if (len != (size_t)n * 8)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what,
                            len, (size_t)n * 8);
        memcpy(out, src, len);
        return SDB_OK;
    case SDB_ENC_CONST: {
        uint64_t x;
        if (len != 8)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected 8", what, len);
        x = sdb_get_le64(src);
        for (uint32_t i = 0; i < n; i++)
            u[i] = x;
        return SDB_OK;
    }
    case SDB_ENC_FOR:
        if (len < 9)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 9", what,
                            len);
        SDB_TRY(check_packed(what, len, 9, src[8], n, &w, err));
        sdb_bitunpack_for(src + 9, n, w, sdb_get_le64(src), u);
        return SDB_OK;
    case SDB_ENC_DELTA:
        if (len < 17)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 17", what,
                            len);
        SDB_TRY(check_packed(what, len, 17, src[16], n - 1, &w, err));
        u[0] = sdb_get_le64(src);
        sdb_bitunpack_delta(src + 17, n - 1, w, sdb_get_le64(src + 8), u[0], u + 1);
        return SDB_OK;
    case SDB_ENC_DOD: {
        uint64_t tmp[CHUNK], d, acc;
        const uint32_t m = n >= 2 ? n - 2 : 0;
        if (len < 25)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 25", what,
                            len);
        SDB_TRY(check_packed(what, len, 25, src[24], m, &w, err));
        acc = u[0] = sdb_get_le64(src);
        d = sdb_get_le64(src + 8);
        if (n >= 2)
            acc = u[1] = acc + d;
        for (uint32_t c = 0; c < m; c += CHUNK) {
            const uint32_t k = m - c < CHUNK ? m - c : CHUNK;
            d = sdb_bitunpack_delta(src + 25 + (size_t)(c / 64) * 8 * w, k, w,
                                    sdb_get_le64(src + 16), d, tmp);
            for (uint32_t j = 0; j < k; j++) {
                acc += tmp[j];
                u[2 + c + j] = acc;
            }
        }
        return SDB_OK;
    }
    default: return sdb_rle_decode(what, src, len, n, u, err);
    }
}
