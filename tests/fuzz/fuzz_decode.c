/* Fuzz harness of the column decoders (storage/encoding.h). The first six bytes choose the
 * type (byte 0 % 5), the encoding id (byte 1), the row count (bytes 2-3, 1..65536) and the
 * symbol dictionary size (bytes 4-5, 1..65536); the rest is decoded as a block, which must
 * decode or fail with SDB_ERR_CORRUPT. The rest is then also turned into values (raw, or as
 * small deltas / decimals when byte 0 has bit 7 set), encoded by the chooser and by the
 * encoding of byte 1, decoded, and compared: any mismatch aborts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding.h"
#include "storage/encoding_int.h"
#include "tests/fuzz/fuzz.h"

enum { T_I64, T_F64, T_BOOL, T_CODE, T_STR };

static void fail(const char *what, const sdb_err *err)
{
    fprintf(stderr, "fuzz_decode: %s: %s\n", what, err ? err->msg : "");
    abort();
}

static void decode_block(int type, uint8_t enc, const uint8_t *src, size_t len, uint32_t n,
                         uint32_t ncodes)
{
    sdb_err err;
    sdb_rc rc;
    void *out = malloc(((size_t)n + 1) * 8);
    sdb_buf bytes = SDB_BUF_INIT;
    if (out == NULL)
        return;
    switch (type) {
    case T_I64: rc = sdb_dec_i64(enc, src, len, n, out, &err); break;
    case T_F64: rc = sdb_dec_f64(enc, src, len, n, out, &err); break;
    case T_BOOL: rc = sdb_dec_bool(enc, src, len, n, out, &err); break;
    case T_CODE: {
        rc = sdb_dec_code(enc, src, len, n, ncodes, out, &err);
        if (rc == SDB_OK)
            for (uint32_t i = 0; i < n; i++)
                if (((uint32_t *)out)[i] >= ncodes)
                    fail("decoded code past the dictionary", NULL);
        break;
    }
    default: {
        uint32_t *codes = malloc((size_t)n * sizeof *codes), ndict = 0;
        rc = sdb_dec_str_codes(enc, src, len, n, out, &bytes, codes, codes ? &ndict : NULL,
                               &err);
        if (rc == SDB_OK) {
            const uint64_t *off = out;
            if (off[0] != 0 || off[n] != bytes.len)
                fail("string offsets do not span the bytes", NULL);
            for (uint32_t i = 0; i < n; i++)
                if (off[i + 1] < off[i])
                    fail("string offsets decrease", NULL);
            if (ndict > 0 && enc != SDB_ENC_DICT)
                fail("codes from a block that is not dictionary-encoded", NULL);
            /* rows of one code hold the string of the code's first row */
            uint32_t *first = ndict > 0 ? malloc((size_t)ndict * sizeof *first) : NULL;
            if (first != NULL) {
                memset(first, 0xff, (size_t)ndict * sizeof *first);
                for (uint32_t i = 0; i < n; i++) {
                    uint32_t c = codes[i], f;
                    if (c >= ndict)
                        fail("string code past the block dictionary", NULL);
                    if ((f = first[c]) == UINT32_MAX) {
                        first[c] = i;
                        continue;
                    }
                    /* (all-empty strings leave bytes.data NULL: no pointer arithmetic) */
                    if (off[i + 1] - off[i] != off[f + 1] - off[f] ||
                        (off[i + 1] > off[i] &&
                         memcmp(bytes.data + off[i], bytes.data + off[f],
                                (size_t)(off[i + 1] - off[i])) != 0))
                        fail("rows of one code hold different strings", NULL);
                }
                free(first);
            }
        }
        free(codes);
        break;
    }
    }
    if (rc != SDB_OK && rc != SDB_ERR_CORRUPT && rc != SDB_ERR_NOMEM)
        fail("decoder returned neither ok nor corrupt", &err);
    sdb_buf_free(&bytes);
    free(out);
}

/* Encode with the chooser and with `forced` (when it applies), decode, compare. */
static void round_trip(int type, uint8_t forced, const void *v, uint32_t n, uint32_t ncodes,
                       const char *sbytes)
{
    for (int pass = 0; pass < 2; pass++) {
        sdb_buf b = SDB_BUF_INIT, bytes = SDB_BUF_INIT;
        sdb_err err;
        uint8_t enc = forced;
        sdb_rc rc;
        void *out = malloc(((size_t)n + 1) * 8);
        if (out == NULL)
            return;
        switch (type) {
        case T_I64:
            rc = pass ? sdb_enc_i64_as(forced, v, n, &b, &err) : sdb_enc_i64(v, n, &b, &enc, &err);
            break;
        case T_F64:
            rc = pass ? sdb_enc_f64_as(forced, v, n, &b, &err) : sdb_enc_f64(v, n, &b, &enc, &err);
            break;
        case T_BOOL:
            rc = pass ? sdb_enc_bool_as(forced, v, n, &b, &err)
                      : sdb_enc_bool(v, n, &b, &enc, &err);
            break;
        case T_CODE:
            rc = pass ? sdb_enc_code_as(forced, v, n, ncodes, &b, &err)
                      : sdb_enc_code(v, n, ncodes, &b, &enc, &err);
            break;
        default:
            rc = pass ? sdb_enc_str_as(forced, v, sbytes, n, &b, &err)
                      : sdb_enc_str(v, sbytes, n, &b, &enc, &err);
            break;
        }
        if (rc == SDB_ERR_MISUSE && pass == 1) {
            free(out);
            sdb_buf_free(&b);
            continue;
        }
        if (rc != SDB_OK)
            fail("encode failed", &err);
        switch (type) {
        case T_I64:
            rc = sdb_dec_i64(enc, b.data, b.len, n, out, &err);
            if (rc == SDB_OK && memcmp(out, v, (size_t)n * 8) != 0)
                fail("int64 round trip differs", NULL);
            break;
        case T_F64:
            rc = sdb_dec_f64(enc, b.data, b.len, n, out, &err);
            if (rc == SDB_OK && memcmp(out, v, (size_t)n * 8) != 0)
                fail("float64 round trip differs", NULL);
            break;
        case T_BOOL:
            rc = sdb_dec_bool(enc, b.data, b.len, n, out, &err);
            if (rc == SDB_OK && memcmp(out, v, n) != 0)
                fail("bool round trip differs", NULL);
            break;
        case T_CODE:
            rc = sdb_dec_code(enc, b.data, b.len, n, ncodes, out, &err);
            if (rc == SDB_OK && memcmp(out, v, (size_t)n * 4) != 0)
                fail("code round trip differs", NULL);
            break;
        default: {
            const uint64_t *in = v, *off = out;
            rc = sdb_dec_str(enc, b.data, b.len, n, out, &bytes, &err);
            if (rc != SDB_OK)
                break;
            for (uint32_t i = 0; i < n; i++) {
                const uint64_t l = in[i + 1] - in[i];
                if (off[i + 1] - off[i] != l ||
                    (l > 0 && memcmp(bytes.data + off[i], sbytes + in[i], l) != 0))
                    fail("string round trip differs", NULL);
            }
            break;
        }
        }
        if (rc != SDB_OK)
            fail("decode of a fresh encoding failed", &err);
        free(out);
        sdb_buf_free(&b);
        sdb_buf_free(&bytes);
    }
}

static const double p10[12] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int type;
    uint8_t enc;
    uint32_t n, ncodes, m;
    const uint8_t *p;
    size_t len;
    bool structured;
    void *v;
    char *sbytes = NULL;
    if (size < 6)
        return 0;
    type = data[0] % 5;
    structured = (data[0] & 0x80) != 0;
    enc = data[1];
    n = (uint32_t)sdb_get_le16(data + 2) + 1;
    ncodes = (uint32_t)sdb_get_le16(data + 4) + 1;
    p = data + 6;
    len = size - 6;
    decode_block(type, enc, p, len, n, ncodes);

    /* round trip of values made from the same bytes */
    if (len == 0)
        return 0;
    m = (uint32_t)(len > 65536 ? 65536 : len);
    if ((v = malloc(((size_t)m + 2) * 8)) == NULL)
        return 0;
    switch (type) {
    case T_I64: {
        int64_t *x = v;
        uint64_t acc = structured ? sdb_get_le16(data + 2) * UINT64_C(0x0001000100010001) : 0;
        if (!structured)
            m = (uint32_t)(len / 8);
        for (uint32_t i = 0; i < m; i++) {
            if (structured)
                acc += (uint64_t)(int64_t)(int8_t)p[i] * (uint64_t)(data[1] + 1);
            else
                acc = sdb_get_le64(p + 8 * (size_t)i);
            x[i] = (int64_t)acc;
        }
        break;
    }
    case T_F64: {
        double *x = v;
        if (!structured)
            m = (uint32_t)(len / 8);
        for (uint32_t i = 0; i < m; i++) {
            if (structured)
                x[i] = (double)((int64_t)p[i] * (int64_t)(data[3] + 1) - 300) / p10[data[2] % 12];
            else
                memcpy(&x[i], p + 8 * (size_t)i, 8);
        }
        break;
    }
    case T_BOOL:
        for (uint32_t i = 0; i < m; i++)
            ((uint8_t *)v)[i] = p[i] & 1;
        break;
    case T_CODE:
        for (uint32_t i = 0; i < m; i++)
            ((uint32_t *)v)[i] = (uint32_t)(structured ? p[i] : p[i] * 257u + i) % ncodes;
        break;
    default: {
        /* strings split at the byte data[4]; with bit 7, each one hex-expanded */
        uint64_t *off = v;
        size_t at = 0, start = 0;
        if ((sbytes = malloc(2 * len + 1)) == NULL) {
            free(v);
            return 0;
        }
        m = 0;
        off[0] = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i < len && p[i] != data[4])
                continue;
            if (m == 65536)
                break;
            for (size_t j = start; j < i; j++) {
                if (structured) {
                    sbytes[at++] = "0123456789abcdef"[p[j] >> 4];
                    sbytes[at++] = "0123456789abcdef"[p[j] & 15];
                } else {
                    sbytes[at++] = (char)p[j];
                }
            }
            off[++m] = at;
            start = i + 1;
        }
        break;
    }
    }
    if (m > 0)
        round_trip(type, enc, v, m, ncodes, sbytes);
    free(sbytes);
    free(v);
    return 0;
}
