/* Symbol-code blocks (uint32 codes into the segment's dictionary, every code < ncodes):
 * CONST, FOR (bit-packed offsets from the smallest code), RLE and PLAIN.
 *
 *   PLAIN  n x u32
 *   CONST  u32 code
 *   FOR    min u32 | width u8 | packed(code - min), n values
 *   RLE    see sdb_rle_encode (encoding_int.h)
 * Decoders check every code against ncodes. */
#include "storage/encoding.h"

#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

#define CHUNK 2048u

typedef struct code_stats {
    uint32_t min, max; /* smallest and largest code */
    uint32_t runs;     /* maximal runs of equal codes */
    uint32_t maxrun;   /* longest run */
} code_stats;

static sdb_rc code_scan(const uint32_t *v, uint32_t n, uint32_t ncodes, code_stats *s,
                        sdb_err *err)
{
    uint32_t mn, mx, runs = 1, run = 1, maxrun = 1;
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "symbol block: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    mn = mx = v[0];
    for (uint32_t i = 1; i < n; i++) {
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
        if (v[i] == v[i - 1]) {
            run++;
        } else {
            maxrun = run > maxrun ? run : maxrun;
            run = 1;
            runs++;
        }
    }
    if (mx >= ncodes)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "symbol block: code %u not below %u codes", mx,
                        ncodes);
    s->min = mn;
    s->max = mx;
    s->runs = runs;
    s->maxrun = run > maxrun ? run : maxrun;
    return SDB_OK;
}

static sdb_rc write_code(uint8_t enc, const uint32_t *v, uint32_t n, const code_stats *s,
                         sdb_buf *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    const unsigned w = sdb_enc_bits(s->max - s->min);
    switch (enc) {
    case SDB_ENC_PLAIN: return sdb_buf_append(out, v, (size_t)n * 4, err);
    case SDB_ENC_CONST:
        if (s->min != s->max)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "symbol const: codes differ");
        return sdb_buf_put_le32(out, s->min, err);
    case SDB_ENC_FOR:
        SDB_TRY(sdb_buf_put_le32(out, s->min, err));
        SDB_TRY(sdb_buf_put_u8(out, (uint8_t)w, err));
        for (uint32_t c = 0; c < n; c += CHUNK) {
            const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
            for (uint32_t j = 0; j < m; j++)
                tmp[j] = v[c + j] - s->min;
            SDB_TRY(sdb_bitpack(tmp, m, w, out, err));
        }
        return SDB_OK;
    case SDB_ENC_RLE: {
        uint64_t *u = malloc((size_t)n * sizeof *u);
        sdb_rc rc;
        if (u == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "symbol rle: no memory for %u codes", n);
        for (uint32_t i = 0; i < n; i++)
            u[i] = v[i];
        rc = sdb_rle_encode(u, n, out, err);
        free(u);
        return rc;
    }
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "symbol block: encoding %u (%s) does not apply",
                        enc, sdb_enc_name(enc));
    }
}

sdb_rc sdb_enc_code_as(uint8_t enc, const uint32_t *v, uint32_t n, uint32_t ncodes, sdb_buf *out,
                       sdb_err *err)
{
    code_stats s;
    SDB_TRY(code_scan(v, n, ncodes, &s, err));
    return write_code(enc, v, n, &s, out, err);
}

sdb_rc sdb_enc_code(const uint32_t *v, uint32_t n, uint32_t ncodes, sdb_buf *out, uint8_t *enc,
                    sdb_err *err)
{
    code_stats s;
    size_t best, size;
    uint8_t pick = SDB_ENC_PLAIN;
    unsigned w;
    SDB_TRY(code_scan(v, n, ncodes, &s, err));
    w = sdb_enc_bits(s.max - s.min);
    best = (size_t)n * 4;
    if (s.min == s.max) {
        pick = SDB_ENC_CONST;
        best = 4;
    }
    if ((size = 5 + sdb_bitpack_bytes(n, w)) < best) {
        pick = SDB_ENC_FOR;
        best = size;
    }
    size = 14 + sdb_bitpack_bytes(s.runs, w) + sdb_bitpack_bytes(s.runs, sdb_enc_bits(s.maxrun - 1));
    if (size < best)
        pick = SDB_ENC_RLE;
    SDB_TRY(write_code(pick, v, n, &s, out, err));
    *enc = pick;
    return SDB_OK;
}

/* Narrow 64-bit codes to out, failing on the first one >= ncodes. */
static sdb_rc narrow(const char *what, const uint64_t *t, uint32_t m, uint32_t at,
                     uint32_t ncodes, uint32_t *out, sdb_err *err)
{
    uint64_t mx = 0;
    for (uint32_t j = 0; j < m; j++) {
        mx = t[j] > mx ? t[j] : mx;
        out[j] = (uint32_t)t[j];
    }
    if (mx >= ncodes)
        for (uint32_t j = 0; j < m; j++)
            if (t[j] >= ncodes)
                return SDB_FAIL(err, SDB_ERR_CORRUPT,
                                "%s block: row %u has code %llu, not below %u codes", what,
                                at + j, (unsigned long long)t[j], ncodes);
    return SDB_OK;
}

sdb_rc sdb_dec_code(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint32_t ncodes,
                    uint32_t *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    const char *what;
    switch (enc) {
    case SDB_ENC_PLAIN: what = "symbol plain"; break;
    case SDB_ENC_CONST: what = "symbol const"; break;
    case SDB_ENC_FOR: what = "symbol for"; break;
    case SDB_ENC_RLE: what = "symbol rle"; break;
    default:
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "symbol block: unknown encoding %u (%s)", enc,
                        sdb_enc_name(enc));
    }
    SDB_TRY(sdb_enc_check_n(what, n, err));
    switch (enc) {
    case SDB_ENC_PLAIN:
        if (len != (size_t)n * 4)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what,
                            len, (size_t)n * 4);
        for (uint32_t c = 0; c < n; c += CHUNK) {
            const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
            for (uint32_t j = 0; j < m; j++)
                tmp[j] = sdb_get_le32(src + 4 * ((size_t)c + j));
            SDB_TRY(narrow(what, tmp, m, c, ncodes, out + c, err));
        }
        return SDB_OK;
    case SDB_ENC_CONST: {
        uint32_t x;
        if (len != 4)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected 4", what, len);
        x = sdb_get_le32(src);
        if (x >= ncodes)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: code %u not below %u codes", what,
                            x, ncodes);
        for (uint32_t i = 0; i < n; i++)
            out[i] = x;
        return SDB_OK;
    }
    case SDB_ENC_FOR: {
        unsigned w;
        uint64_t base;
        if (len < 5)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 5", what,
                            len);
        base = sdb_get_le32(src);
        w = src[4];
        if (w > 64)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: bit width %u exceeds 64", what, w);
        if (len != 5 + sdb_bitpack_bytes(n, w))
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what,
                            len, 5 + sdb_bitpack_bytes(n, w));
        if (w > 32)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: bit width %u exceeds 32", what, w);
        for (uint32_t c = 0; c < n; c += CHUNK) {
            const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
            sdb_bitunpack_for(src + 5 + (size_t)(c / 64) * 8 * w, m, w, base, tmp);
            SDB_TRY(narrow(what, tmp, m, c, ncodes, out + c, err));
        }
        return SDB_OK;
    }
    default: {
        uint64_t *u = malloc((size_t)n * sizeof *u);
        sdb_rc rc;
        if (u == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for %u codes", what, n);
        rc = sdb_rle_decode(what, src, len, n, u, err);
        for (uint32_t c = 0; c < n && rc == SDB_OK; c += CHUNK) {
            const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
            rc = narrow(what, u + c, m, c, ncodes, out + c, err);
        }
        free(u);
        return rc;
    }
    }
}
