/* What the encodings share: their names, the block row-count check and the run-length core
 * used by int64 and symbol-code blocks. The per-type encoders live in enc_int.c,
 * enc_float.c, enc_bool.c, enc_code.c and enc_str.c; bit packing in bitpack.c. */
#include "storage/encoding.h"

#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

/* Chunk of values transformed on the stack before packing: a multiple of 64, so every
 * chunk but the last ends on a byte boundary of the packed stream. */
#define CHUNK 2048u

const char *sdb_enc_name(uint8_t enc)
{
    static const char *const names[SDB_ENC__COUNT] = {
        [SDB_ENC_PLAIN] = "plain",     [SDB_ENC_CONST] = "const",   [SDB_ENC_FOR] = "for",
        [SDB_ENC_DELTA] = "delta",     [SDB_ENC_DOD] = "dod",       [SDB_ENC_RLE] = "rle",
        [SDB_ENC_SHUFFLE] = "shuffle", [SDB_ENC_DECIMAL] = "decimal", [SDB_ENC_BITMAP] = "bitmap",
        [SDB_ENC_DICT] = "dict",       [SDB_ENC_HEX] = "hex",
    };
    return enc < SDB_ENC__COUNT ? names[enc] : "?";
}

sdb_rc sdb_enc_check_n(const char *what, uint32_t n, sdb_err *err)
{
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: row count %u outside 1..%u", what, n,
                        SDB_BLOCK_ROWS);
    return SDB_OK;
}

size_t sdb_pfor_plan(const uint32_t hist[65], uint32_t sampled, uint32_t count,
                     unsigned *width)
{
    size_t best = SIZE_MAX;
    uint32_t above = 0; /* sampled values longer than w bits */
    *width = 64;
    if (sampled == 0)
        return SDB_PFOR_HDR;
    for (int w = 64; w >= 0; w--) {
        const uint64_t exc = ((uint64_t)above * count + sampled - 1) / sampled;
        const size_t size =
            SDB_PFOR_HDR + sdb_bitpack_bytes(count, (unsigned)w) + 10 * (size_t)exc;
        if (size < best) { /* ties keep the wider, exception-free choice */
            best = size;
            *width = (unsigned)w;
        }
        above += hist[w];
    }
    return best;
}

sdb_rc sdb_pfor_write(sdb_pfor_fill fill, const void *ctx, uint32_t count, uint64_t base,
                      unsigned width, sdb_buf *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    const uint64_t mask = width >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
    uint32_t nexc = 0;
    size_t hdr;
    SDB_TRY(sdb_buf_reserve(out, SDB_PFOR_HDR + sdb_bitpack_bytes(count, width) + 8, err));
    hdr = out->len;
    SDB_TRY(sdb_buf_put_le64(out, base, err));
    SDB_TRY(sdb_buf_put_u8(out, (uint8_t)width, err));
    SDB_TRY(sdb_buf_put_le32(out, 0, err)); /* nexc, patched below */
    for (uint32_t c = 0; c < count; c += CHUNK) {
        const uint32_t m = count - c < CHUNK ? count - c : CHUNK;
        fill(ctx, c, m, tmp);
        for (uint32_t j = 0; j < m; j++) {
            const uint64_t big = tmp[j] > mask;
            nexc += (uint32_t)big;
            tmp[j] = big ? 0 : tmp[j];
        }
        SDB_TRY(sdb_bitpack(tmp, m, width, out, err));
    }
    if (nexc == 0)
        return SDB_OK;
    sdb_put_le32(out->data + hdr + 9, nexc);
    SDB_TRY(sdb_buf_reserve(out, 10 * (size_t)nexc, err));
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t c = 0; c < count; c += CHUNK) {
            const uint32_t m = count - c < CHUNK ? count - c : CHUNK;
            fill(ctx, c, m, tmp);
            for (uint32_t j = 0; j < m; j++) {
                if (tmp[j] <= mask)
                    continue;
                if (pass == 0)
                    SDB_TRY(sdb_buf_put_le16(out, (uint16_t)(c + j), err));
                else
                    SDB_TRY(sdb_buf_put_le64(out, tmp[j], err));
            }
        }
    return SDB_OK;
}

sdb_rc sdb_pfor_open(const char *what, const uint8_t *src, size_t len, uint32_t count,
                     sdb_pfor *p, size_t *used, sdb_err *err)
{
    size_t packed, need;
    if (len < SDB_PFOR_HDR)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes left, header needs %u", what,
                        len, SDB_PFOR_HDR);
    p->base = sdb_get_le64(src);
    p->width = src[8];
    p->nexc = sdb_get_le32(src + 9);
    p->count = count;
    if (p->width > 64)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: bit width %u exceeds 64", what,
                        p->width);
    if (p->nexc > count)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %u exceptions for %u values", what,
                        p->nexc, count);
    packed = sdb_bitpack_bytes(count, p->width);
    need = SDB_PFOR_HDR + packed + 10 * (size_t)p->nexc;
    if (need > len)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes left, %u values need %zu",
                        what, len, count, need);
    p->packed = src + SDB_PFOR_HDR;
    p->pos = p->packed + packed;
    p->exc = p->pos + 2 * (size_t)p->nexc;
    for (uint32_t j = 0; j < p->nexc; j++) {
        const uint32_t at = sdb_get_le16(p->pos + 2 * (size_t)j);
        if (at >= count || (j > 0 && at <= sdb_get_le16(p->pos + 2 * (size_t)(j - 1))))
            return SDB_FAIL(err, SDB_ERR_CORRUPT,
                            "%s block: exception %u at position %u out of order or past %u "
                            "values",
                            what, j, at, count);
    }
    *used = need;
    return SDB_OK;
}

void sdb_pfor_get(const sdb_pfor *p, uint32_t first, uint32_t m, uint64_t *out,
                  uint32_t *cursor)
{
    uint32_t j = *cursor;
    sdb_bitunpack_for(p->packed + (size_t)(first / 64) * 8 * p->width, m, p->width, p->base,
                      out);
    while (j < p->nexc) {
        const uint32_t at = sdb_get_le16(p->pos + 2 * (size_t)j);
        if (at >= first + m)
            break;
        if (at >= first)
            out[at - first] = p->base + sdb_get_le64(p->exc + 8 * (size_t)j);
        j++;
    }
    *cursor = j;
}

/* Runs, signed min/max of the values and the longest run, in one pass. */
static void rle_stats(const uint64_t *v, uint32_t n, uint32_t *runs, uint32_t *maxrun,
                      int64_t *mn, int64_t *mx)
{
    uint32_t r = 1, run = 1, longest = 1;
    int64_t lo = (int64_t)v[0], hi = (int64_t)v[0];
    for (uint32_t i = 1; i < n; i++) {
        const int64_t x = (int64_t)v[i];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        if (v[i] == v[i - 1]) {
            run++;
        } else {
            longest = run > longest ? run : longest;
            run = 1;
            r++;
        }
    }
    *runs = r;
    *maxrun = run > longest ? run : longest;
    *mn = lo;
    *mx = hi;
}

size_t sdb_rle_size(const uint64_t *v, uint32_t n)
{
    uint32_t runs, maxrun;
    int64_t mn, mx;
    if (n == 0)
        return 0;
    rle_stats(v, n, &runs, &maxrun, &mn, &mx);
    return 4 + 8 + 1 + sdb_bitpack_bytes(runs, sdb_enc_bits((uint64_t)mx - (uint64_t)mn)) + 1 +
           sdb_bitpack_bytes(runs, sdb_enc_bits(maxrun - 1));
}

sdb_rc sdb_rle_encode(const uint64_t *v, uint32_t n, sdb_buf *out, sdb_err *err)
{
    uint32_t runs, maxrun, r = 0;
    int64_t mn, mx;
    unsigned vw, lw;
    uint64_t *vals, *lens;
    sdb_rc rc;
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "rle: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    rle_stats(v, n, &runs, &maxrun, &mn, &mx);
    vw = sdb_enc_bits((uint64_t)mx - (uint64_t)mn);
    lw = sdb_enc_bits(maxrun - 1);
    if ((vals = malloc(2 * (size_t)runs * sizeof *vals)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "rle: no memory for %u runs", runs);
    lens = vals + runs;
    vals[0] = v[0] - (uint64_t)mn;
    lens[0] = 0;
    for (uint32_t i = 1; i < n; i++) {
        if (v[i] == v[i - 1]) {
            lens[r]++;
        } else {
            r++;
            vals[r] = v[i] - (uint64_t)mn;
            lens[r] = 0;
        }
    }
    if ((rc = sdb_buf_put_le32(out, runs, err)) == SDB_OK &&
        (rc = sdb_buf_put_le64(out, (uint64_t)mn, err)) == SDB_OK &&
        (rc = sdb_buf_put_u8(out, (uint8_t)vw, err)) == SDB_OK &&
        (rc = sdb_bitpack(vals, runs, vw, out, err)) == SDB_OK &&
        (rc = sdb_buf_put_u8(out, (uint8_t)lw, err)) == SDB_OK)
        rc = sdb_bitpack(lens, runs, lw, out, err);
    free(vals);
    return rc;
}

sdb_rc sdb_rle_decode(const char *what, const uint8_t *src, size_t len, uint32_t n,
                      uint64_t *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    uint32_t runs;
    uint64_t base, total = 0;
    unsigned vw, lw;
    size_t vbytes, pos;
    const uint8_t *lsrc;
    SDB_TRY(sdb_enc_check_n(what, n, err));
    if (len < 13)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 13", what, len);
    runs = sdb_get_le32(src);
    base = sdb_get_le64(src + 4);
    vw = src[12];
    if (runs == 0 || runs > n)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %u runs for %u rows", what, runs, n);
    if (vw > 64)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: value bit width %u exceeds 64", what,
                        vw);
    vbytes = sdb_bitpack_bytes(runs, vw);
    if (vbytes + 1 > len - 13)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, run values need %zu", what,
                        len, 13 + vbytes + 1);
    pos = 13 + vbytes;
    lw = src[pos++];
    if (lw > 64)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: run length bit width %u exceeds 64",
                        what, lw);
    if (len - pos != sdb_bitpack_bytes(runs, lw))
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what, len,
                        pos + sdb_bitpack_bytes(runs, lw));
    lsrc = src + pos;
    /* pass 1: the run lengths must add up to exactly n */
    for (uint32_t c = 0; c < runs; c += CHUNK) {
        const uint32_t m = runs - c < CHUNK ? runs - c : CHUNK;
        sdb_bitunpack_for(lsrc + (size_t)(c / 64) * 8 * lw, m, lw, 1, tmp);
        for (uint32_t j = 0; j < m; j++) {
            if (tmp[j] == 0 || tmp[j] > n - total)
                return SDB_FAIL(err, SDB_ERR_CORRUPT,
                                "%s block: run %u of length %llu overflows %u rows", what, c + j,
                                (unsigned long long)tmp[j], n);
            total += tmp[j];
        }
    }
    if (total != n)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: runs cover %llu of %u rows", what,
                        (unsigned long long)total, n);
    /* pass 2: values into the tail of out, expanded forwards; run j's output ends at or
     * before the slot of value j + 1 because every later run has length >= 1 */
    sdb_bitunpack_for(src + 13, runs, vw, base, out + (n - runs));
    total = 0;
    for (uint32_t c = 0; c < runs; c += CHUNK) {
        const uint32_t m = runs - c < CHUNK ? runs - c : CHUNK;
        sdb_bitunpack_for(lsrc + (size_t)(c / 64) * 8 * lw, m, lw, 1, tmp);
        for (uint32_t j = 0; j < m; j++) {
            const uint64_t x = out[n - runs + c + j];
            for (uint64_t k = 0; k < tmp[j]; k++)
                out[total + k] = x;
            total += tmp[j];
        }
    }
    return SDB_OK;
}
