/* bool blocks: CONST (one byte, 0 or 1) or BITMAP (bit i of byte i / 8 is value i, bits past
 * n are zero when written and ignored when read). */
#include "storage/encoding.h"

#include <string.h>

#include "storage/encoding_int.h"
#include "storage/types.h"

sdb_rc sdb_enc_bool_as(uint8_t enc, const uint8_t *v, uint32_t n, sdb_buf *out, sdb_err *err)
{
    uint8_t *p;
    uint32_t ones = 0;
    size_t bytes = ((size_t)n + 7) / 8;
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "bool block: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    if (enc == SDB_ENC_CONST) {
        for (uint32_t i = 0; i < n; i++)
            ones += v[i] != 0;
        if (ones != 0 && ones != n)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "bool const: values differ");
        return sdb_buf_put_u8(out, ones != 0, err);
    }
    if (enc != SDB_ENC_BITMAP)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "bool block: encoding %u (%s) does not apply", enc,
                        sdb_enc_name(enc));
    SDB_TRY(sdb_buf_reserve(out, bytes, err));
    p = out->data + out->len;
    memset(p, 0, bytes);
    for (uint32_t i = 0; i < n; i++)
        p[i >> 3] |= (uint8_t)((v[i] != 0) << (i & 7));
    out->len += bytes;
    return SDB_OK;
}

sdb_rc sdb_enc_bool(const uint8_t *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err)
{
    uint32_t ones = 0;
    uint8_t pick;
    for (uint32_t i = 0; i < n && i < SDB_BLOCK_ROWS; i++)
        ones += v[i] != 0;
    pick = ones == 0 || ones == n ? SDB_ENC_CONST : SDB_ENC_BITMAP;
    SDB_TRY(sdb_enc_bool_as(pick, v, n, out, err));
    *enc = pick;
    return SDB_OK;
}

sdb_rc sdb_dec_bool(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint8_t *out,
                    sdb_err *err)
{
    if (enc == SDB_ENC_CONST) {
        SDB_TRY(sdb_enc_check_n("bool const", n, err));
        if (len != 1)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "bool const block: %zu bytes, expected 1",
                            len);
        if (src[0] > 1)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "bool const block: value %u is not 0 or 1",
                            src[0]);
        memset(out, src[0], n);
        return SDB_OK;
    }
    if (enc != SDB_ENC_BITMAP)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "bool block: unknown encoding %u (%s)", enc,
                        sdb_enc_name(enc));
    SDB_TRY(sdb_enc_check_n("bool bitmap", n, err));
    if (len != ((size_t)n + 7) / 8)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "bool bitmap block: %zu bytes, expected %zu", len,
                        ((size_t)n + 7) / 8);
    for (uint32_t i = 0; i < n; i++)
        out[i] = (src[i >> 3] >> (i & 7)) & 1;
    return SDB_OK;
}
