/* Column encodings (storage/encoding.h): round trips of every encoding of every type over
 * random data and edge values, the encoder's choice for typical column shapes, and hostile
 * input (every truncation and thousands of byte flips decode or fail with SDB_ERR_CORRUPT). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/encoding.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

enum { T_I64, T_F64, T_BOOL, T_CODE, T_STR };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Decode any type into scratch buffers; the input is copied to an exact-size allocation so
 * that AddressSanitizer sees any read past its end. */
static sdb_rc dec_any(int type, uint8_t enc, const uint8_t *src, size_t len, uint32_t n,
                      uint32_t ncodes, sdb_err *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    void *out = malloc((size_t)(n ? n : 1) * 8 + 8);
    sdb_buf bytes = SDB_BUF_INIT;
    sdb_rc rc;
    cr_assert(copy != NULL && out != NULL);
    if (len)
        memcpy(copy, src, len);
    switch (type) {
    case T_I64: rc = sdb_dec_i64(enc, copy, len, n, out, err); break;
    case T_F64: rc = sdb_dec_f64(enc, copy, len, n, out, err); break;
    case T_BOOL: rc = sdb_dec_bool(enc, copy, len, n, out, err); break;
    case T_CODE: rc = sdb_dec_code(enc, copy, len, n, ncodes, out, err); break;
    default: rc = sdb_dec_str(enc, copy, len, n, out, &bytes, err); break;
    }
    sdb_buf_free(&bytes);
    free(copy);
    free(out);
    return rc;
}

static void expect_ok_or_corrupt(sdb_rc rc, const sdb_err *err, uint8_t enc)
{
    cr_assert(rc == SDB_OK || rc == SDB_ERR_CORRUPT, "rc %d: %s", rc, err->msg);
    if (rc == SDB_ERR_CORRUPT)
        cr_assert(strstr(err->msg, sdb_enc_name(enc)) != NULL, "message '%s' lacks '%s'",
                  err->msg, sdb_enc_name(enc));
}

/* Every truncation (sampled for big blocks) and `flips` random byte changes. */
static void hostile(int type, uint8_t enc, const uint8_t *src, size_t len, uint32_t n,
                    uint32_t ncodes, int flips)
{
    sdb_err err;
    uint8_t *m = malloc(len ? len : 1);
    cr_assert(m != NULL);
    for (size_t t = 0; t < len; t++) {
        if (len > 8192 && t > 64 && t < len - 64 && t % (len / 512 + 1) != 0)
            continue;
        expect_ok_or_corrupt(dec_any(type, enc, src, t, n, ncodes, &err), &err, enc);
    }
    /* a row count that disagrees with the block */
    for (int dn = -2; dn <= 2; dn++)
        if ((int64_t)n + dn >= 0 && (int64_t)n + dn <= 70000)
            expect_ok_or_corrupt(dec_any(type, enc, src, len, (uint32_t)((int64_t)n + dn), ncodes,
                                         &err),
                                 &err, enc);
    /* one byte too many */
    {
        uint8_t *longer = malloc(len + 1);
        cr_assert(longer != NULL);
        if (len > 0)
            memcpy(longer, src, len);
        longer[len] = 0;
        expect_ok_or_corrupt(dec_any(type, enc, longer, len + 1, n, ncodes, &err), &err, enc);
        free(longer);
    }
    for (int f = 0; f < flips && len > 0; f++) {
        memcpy(m, src, len);
        const int k = 1 + (int)(rnd() % 3);
        for (int j = 0; j < k; j++) {
            /* bias towards headers, where counts and widths live */
            size_t at = (rnd() & 1) ? rnd() % (len < 32 ? len : 32) : rnd() % len;
            m[at] = (rnd() & 1) ? (uint8_t)rnd() : (uint8_t)(m[at] ^ (1u << (rnd() % 8)));
        }
        expect_ok_or_corrupt(dec_any(type, enc, m, len, n, ncodes, &err), &err, enc);
    }
    free(m);
}

/* ---- int64 ---- */

static const uint8_t i64_encs[] = {SDB_ENC_PLAIN, SDB_ENC_FOR, SDB_ENC_DELTA, SDB_ENC_DOD,
                                   SDB_ENC_RLE};

static void rt_i64_as(uint8_t enc, const int64_t *v, uint32_t n, int flips)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    int64_t *out = malloc((size_t)n * 8);
    cr_assert_eq(sdb_enc_i64_as(enc, v, n, &b, &err), SDB_OK, "%s: %s", sdb_enc_name(enc),
                 err.msg);
    cr_assert_eq(sdb_dec_i64(enc, b.data, b.len, n, out, &err), SDB_OK, "%s n=%u: %s",
                 sdb_enc_name(enc), n, err.msg);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(out[i], v[i], "%s n=%u row %u: %lld != %lld", sdb_enc_name(enc), n, i,
                     (long long)out[i], (long long)v[i]);
    if (flips >= 0)
        hostile(T_I64, enc, b.data, b.len, n, 0, flips);
    free(out);
    sdb_buf_free(&b);
}

/* Chosen encoding round trip; returns the encoding and the encoded size. */
static uint8_t rt_i64(const int64_t *v, uint32_t n, size_t *size)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc = 255;
    int64_t *out = malloc((size_t)n * 8);
    cr_assert_eq(sdb_enc_i64(v, n, &b, &enc, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_dec_i64(enc, b.data, b.len, n, out, &err), SDB_OK, "%s", err.msg);
    cr_assert(memcmp(out, v, (size_t)n * 8) == 0, "chosen %s does not round-trip",
              sdb_enc_name(enc));
    if (size)
        *size = b.len;
    free(out);
    sdb_buf_free(&b);
    return enc;
}

static void rt_i64_all(const int64_t *v, uint32_t n, int flips)
{
    for (size_t e = 0; e < sizeof i64_encs; e++)
        rt_i64_as(i64_encs[e], v, n, flips);
    rt_i64(v, n, NULL);
}

static const uint32_t sizes[] = {1, 2, 3, 63, 64, 65, 2048, 65535, 65536};

Test(bitpack, every_width_round_trips)
{
    uint64_t v[300], out[300];
    sdb_err err;
    for (unsigned w = 0; w <= 64; w++)
        for (uint32_t n = 1; n <= 300; n += 37) {
            sdb_buf b = SDB_BUF_INIT;
            const uint64_t mask = w == 64 ? ~0ULL : (1ULL << w) - 1;
            for (uint32_t i = 0; i < n; i++)
                v[i] = (i % 3 == 0) ? mask : rnd() & mask;
            cr_assert_eq(sdb_bitpack(v, n, w, &b, &err), SDB_OK);
            cr_assert_eq(b.len, sdb_bitpack_bytes(n, w));
            sdb_bitunpack(b.data, n, w, out);
            cr_assert(memcmp(v, out, n * 8) == 0, "width %u n %u", w, n);
            sdb_buf_free(&b);
        }
}

Test(bitpack, width_over_64_is_misuse)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint64_t v = 1;
    cr_assert_eq(sdb_bitpack(&v, 1, 65, &b, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "bit width 65") != NULL);
}

Test(enc_i64, random_and_edge_values_round_trip_in_every_encoding)
{
    const uint32_t nmax = 65536;
    int64_t *v = malloc(nmax * 8);
    static const int64_t edges[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1,
                                    INT64_MAX - 1};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const uint32_t n = sizes[s];
        for (int shape = 0; shape < 6; shape++) {
            int64_t t = (int64_t)(rnd() >> 2);
            for (uint32_t i = 0; i < n; i++) {
                switch (shape) {
                case 0: v[i] = (int64_t)rnd(); break;                               /* random */
                case 1: v[i] = edges[rnd() % 7]; break;            /* overflowing deltas */
                case 2: v[i] = (int64_t)(rnd() % 1000) - 500; break;           /* small */
                case 3: t += 1000000 + (int64_t)(rnd() % 2000); v[i] = t; break; /* times */
                case 4: v[i] = (i / 100) % 2 ? INT64_MAX : INT64_MIN; break;   /* runs */
                default: v[i] = i % 2 ? INT64_MIN : INT64_MAX; break;          /* zigzag */
                }
            }
            rt_i64_all(v, n, -1);
        }
    }
    for (uint32_t i = 0; i < 2048; i++)
        v[i] = INT64_MIN;
    rt_i64_as(SDB_ENC_CONST, v, 2048, -1);
    free(v);
}

Test(enc_i64, choice_follows_the_shape)
{
    enum { N = 65536 };
    int64_t *v = malloc(N * 8);
    size_t size;
    int64_t t = INT64_C(1700000000000000000);
    /* ~1000 spans/s, ns, jitter: DELTA or DOD with small widths */
    for (uint32_t i = 0; i < N; i++) {
        t += 1000000 + (int64_t)(rnd() % 200000) - 100000;
        v[i] = t;
    }
    uint8_t enc = rt_i64(v, N, &size);
    cr_assert(enc == SDB_ENC_DELTA || enc == SDB_ENC_DOD, "got %s", sdb_enc_name(enc));
    cr_assert_lt(size, (size_t)N * 3, "%zu bytes", size);
    /* perfectly regular timestamps: DOD of width 0 */
    for (uint32_t i = 0; i < N; i++)
        v[i] = t + (int64_t)i * 1000;
    enc = rt_i64(v, N, &size);
    cr_assert(enc == SDB_ENC_DELTA || enc == SDB_ENC_DOD);
    cr_assert_lt(size, 64);
    /* nearly sorted (small out-of-order jitter): still DELTA/DOD */
    for (uint32_t i = 0; i < N; i++)
        v[i] = t + (int64_t)i * 1000000 + (int64_t)(rnd() % 3000000);
    enc = rt_i64(v, N, &size);
    cr_assert(enc == SDB_ENC_DELTA || enc == SDB_ENC_DOD || enc == SDB_ENC_FOR, "got %s",
              sdb_enc_name(enc));
    cr_assert_lt(size, (size_t)N * 4);
    for (uint32_t i = 0; i < N; i++)
        v[i] = 42;
    cr_assert_eq(rt_i64(v, N, &size), SDB_ENC_CONST);
    cr_assert_eq(size, 8);
    for (uint32_t i = 0; i < N; i++)
        v[i] = 1000 + (int64_t)(rnd() % 4000);
    cr_assert_eq(rt_i64(v, N, &size), SDB_ENC_FOR);
    cr_assert_eq(size, SDB_PFOR_HDR + sdb_bitpack_bytes(N, 12));
    for (uint32_t i = 0; i < N; i++)
        v[i] = (int64_t)(rnd() % 5) * INT64_C(1000000000000) * (i / 1000 % 2 ? 1 : -1);
    for (uint32_t i = 0; i < N; i++)
        v[i] = v[i / 500 * 500];
    cr_assert_eq(rt_i64(v, N, NULL), SDB_ENC_RLE);
    for (uint32_t i = 0; i < N; i++)
        v[i] = (int64_t)rnd();
    cr_assert_eq(rt_i64(v, N, NULL), SDB_ENC_PLAIN);
    free(v);
}

Test(enc_i64, hostile_blocks_decode_or_fail_corrupt)
{
    enum { N = 700 };
    int64_t v[N];
    int64_t t = 5;
    for (uint32_t i = 0; i < N; i++) {
        t += (int64_t)(rnd() % 50);
        v[i] = i % 97 == 0 ? INT64_MIN : t;
    }
    for (size_t e = 0; e < sizeof i64_encs; e++)
        rt_i64_as(i64_encs[e], v, N, 3000);
    for (uint32_t i = 0; i < N; i++)
        v[i] = -3;
    rt_i64_as(SDB_ENC_CONST, v, N, 300);
}

Test(enc_i64, corrupt_headers_name_the_problem)
{
    sdb_err err;
    int64_t out[4];
    uint8_t blk[9 + 32] = {0};
    blk[8] = 70;
    cr_assert_eq(sdb_dec_i64(SDB_ENC_FOR, blk, sizeof blk, 4, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "int64 for block: bit width 70 exceeds 64"), "%s", err.msg);
    blk[8] = 8;
    cr_assert_eq(sdb_dec_i64(SDB_ENC_FOR, blk, sizeof blk, 4, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "41 bytes, expected 17"), "%s", err.msg);
    cr_assert_eq(sdb_dec_i64(SDB_ENC_HEX, blk, sizeof blk, 4, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "unknown encoding 10"), "%s", err.msg);
    cr_assert_eq(sdb_dec_i64(SDB_ENC_CONST, blk, 8, 0, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "row count 0"), "%s", err.msg);
    cr_assert_eq(sdb_dec_i64(SDB_ENC_CONST, blk, 8, 65537, out, &err), SDB_ERR_CORRUPT);
}

Test(enc_i64, heavy_tail_outliers_become_exceptions)
{
    enum { N = 65536 };
    int64_t *v = malloc(N * 8);
    size_t size;
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    for (uint32_t i = 0; i < N; i++)
        v[i] = i % 1000 == 7 ? INT64_MAX - (int64_t)i : (int64_t)(rnd() % 1000);
    cr_assert_eq(rt_i64(v, N, &size), SDB_ENC_FOR);
    /* 10 bits a value plus 66 exceptions of 10 bytes, not 64 bits a value */
    cr_assert_eq(size, SDB_PFOR_HDR + sdb_bitpack_bytes(N, 10) + 66 * 10);
    /* late spans: sorted timestamps with a few far out of order stay DELTA */
    for (uint32_t i = 0; i < N; i++)
        v[i] = INT64_C(1700000000000000000) + (int64_t)i * 1000000 +
               (i % 5000 == 3 ? -INT64_C(3600000000000) : 0);
    uint8_t enc = rt_i64(v, N, &size);
    cr_assert(enc == SDB_ENC_DELTA || enc == SDB_ENC_DOD, "%s", sdb_enc_name(enc));
    cr_assert_lt(size, (size_t)N / 2, "%zu", size);
    /* an exception position past the block is corrupt */
    cr_assert_eq(sdb_enc_i64_as(SDB_ENC_FOR, v, 100, &b, &err), SDB_OK);
    cr_assert_gt(sdb_get_le32(b.data + 9), 0);
    sdb_put_le16(b.data + SDB_PFOR_HDR + sdb_bitpack_bytes(100, b.data[8]), 100);
    cr_assert_eq(sdb_dec_i64(SDB_ENC_FOR, b.data, b.len, 100, v, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "int64 for block: exception 0 at position 100"), "%s", err.msg);
    sdb_buf_free(&b);
    free(v);
}

Test(enc_i64, outliers_hidden_from_the_sample_never_cost_more_than_plain)
{
    enum { N = 65536 };
    int64_t *v = malloc(N * 8);
    size_t size;
    /* small values exactly where a strided sample looks, huge ones everywhere else */
    for (uint32_t i = 0; i < N; i++)
        v[i] = i % 64 == 0 || i % 65 == 0 || i % 33 == 0 ? (int64_t)(i % 7) : (int64_t)rnd();
    rt_i64(v, N, &size);
    cr_assert_leq(size, (size_t)N * 8);
    free(v);
}

Test(enc_i64, rle_run_lengths_must_cover_the_block)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    int64_t v[10] = {1, 1, 1, 2, 2, 2, 2, 3, 3, 3}, out[11];
    cr_assert_eq(sdb_enc_i64_as(SDB_ENC_RLE, v, 10, &b, &err), SDB_OK);
    cr_assert_eq(sdb_dec_i64(SDB_ENC_RLE, b.data, b.len, 11, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "int64 rle block: runs cover 10 of 11 rows"), "%s", err.msg);
    cr_assert_eq(sdb_dec_i64(SDB_ENC_RLE, b.data, b.len, 9, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "overflows"), "%s", err.msg);
    sdb_buf_free(&b);
}

/* ---- float64 ---- */

static const uint8_t f64_encs[] = {SDB_ENC_PLAIN, SDB_ENC_SHUFFLE, SDB_ENC_DECIMAL};

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void rt_f64_as(uint8_t enc, const double *v, uint32_t n, int flips)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    double *out = malloc((size_t)n * 8);
    cr_assert_eq(sdb_enc_f64_as(enc, v, n, &b, &err), SDB_OK, "%s: %s", sdb_enc_name(enc),
                 err.msg);
    cr_assert_eq(sdb_dec_f64(enc, b.data, b.len, n, out, &err), SDB_OK, "%s: %s",
                 sdb_enc_name(enc), err.msg);
    cr_assert(memcmp(out, v, (size_t)n * 8) == 0, "%s n=%u not bit-exact", sdb_enc_name(enc),
              n);
    if (flips >= 0)
        hostile(T_F64, enc, b.data, b.len, n, 0, flips);
    free(out);
    sdb_buf_free(&b);
}

static uint8_t rt_f64(const double *v, uint32_t n, size_t *size)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc = 255;
    double *out = malloc((size_t)n * 8);
    cr_assert_eq(sdb_enc_f64(v, n, &b, &enc, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_dec_f64(enc, b.data, b.len, n, out, &err), SDB_OK, "%s", err.msg);
    cr_assert(memcmp(out, v, (size_t)n * 8) == 0, "chosen %s not bit-exact", sdb_enc_name(enc));
    if (size)
        *size = b.len;
    free(out);
    sdb_buf_free(&b);
    return enc;
}

static double special(void)
{
    static const uint64_t bits[] = {
        0x7ff8000000000000ULL, 0x7ff0000000000001ULL, 0xfff8dead0000beefULL,
        0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x8000000000000000ULL,
        0x0000000000000001ULL, 0x7fefffffffffffffULL,
    };
    return from_bits(bits[rnd() % 8]);
}

Test(enc_f64, specials_and_random_round_trip_bit_exactly_in_every_encoding)
{
    double *v = malloc(65536 * 8);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const uint32_t n = sizes[s];
        for (int shape = 0; shape < 5; shape++) {
            for (uint32_t i = 0; i < n; i++) {
                switch (shape) {
                case 0: v[i] = from_bits(rnd()); break;
                case 1: v[i] = special(); break;
                case 2: v[i] = (double)(int64_t)(rnd() % 100000000) / 1000.0; break;
                case 3:
                    v[i] = rnd() % 10 == 0 ? special()
                                           : (double)(int64_t)(rnd() % 1000000) / 1e10;
                    break;
                default: v[i] = -(double)(rnd() % 4503599627370495ULL); break;
                }
            }
            for (size_t e = 0; e < sizeof f64_encs; e++)
                rt_f64_as(f64_encs[e], v, n, -1);
            rt_f64(v, n, NULL);
        }
    }
    for (uint32_t i = 0; i < 100; i++)
        v[i] = from_bits(0xfff8000000000123ULL);
    rt_f64_as(SDB_ENC_CONST, v, 100, -1);
    cr_assert_eq(rt_f64(v, 100, NULL), SDB_ENC_CONST);
    for (uint32_t i = 0; i < 100; i++)
        v[i] = i % 2 ? -0.0 : 0.0; /* bitwise different: not CONST */
    cr_assert_neq(rt_f64(v, 100, NULL), SDB_ENC_CONST);
    free(v);
}

Test(enc_f64, shuffle_stores_byte_planes)
{
    enum { N = 21 };
    double v[N];
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    for (uint32_t i = 0; i < N; i++)
        v[i] = from_bits(rnd());
    cr_assert_eq(sdb_enc_f64_as(SDB_ENC_SHUFFLE, v, N, &b, &err), SDB_OK);
    cr_assert_eq(b.len, N * 8);
    for (uint32_t i = 0; i < N; i++) {
        uint64_t x;
        memcpy(&x, &v[i], 8);
        for (unsigned k = 0; k < 8; k++)
            cr_assert_eq(b.data[k * N + i], (uint8_t)(x >> (8 * k)), "value %u byte %u", i, k);
    }
    rt_f64_as(SDB_ENC_SHUFFLE, v, N, -1);
    sdb_buf_free(&b);
}

Test(enc_f64, decimal_for_latencies_and_costs)
{
    enum { N = 65536 };
    double *v = malloc(N * 8);
    size_t size;
    for (uint32_t i = 0; i < N; i++)
        v[i] = (double)(int64_t)(rnd() % 30000000) / 1000.0; /* ms with 3 decimals */
    cr_assert_eq(rt_f64(v, N, &size), SDB_ENC_DECIMAL);
    cr_assert_lt(size, (size_t)N * 4, "%zu", size);
    for (uint32_t i = 0; i < N; i++)
        v[i] = (double)(int64_t)(rnd() % 100000000) * 1e-10; /* cost, 10 decimals */
    for (uint32_t i = 0; i < N; i++)
        v[i] = (double)(int64_t)(rnd() % 100000000) / 1e10;
    cr_assert_eq(rt_f64(v, N, &size), SDB_ENC_DECIMAL);
    cr_assert_lt(size, (size_t)N * 4, "%zu", size);
    /* a few NaNs and -0.0 become exceptions */
    for (uint32_t i = 0; i < N; i += 1000)
        v[i] = i % 2000 ? -0.0 : from_bits(0x7ff800000000abcdULL);
    cr_assert_eq(rt_f64(v, N, NULL), SDB_ENC_DECIMAL);
    for (uint32_t i = 0; i < N; i++)
        v[i] = from_bits(rnd() >> 2);
    cr_assert_eq(rt_f64(v, N, NULL), SDB_ENC_SHUFFLE);
    free(v);
}

Test(enc_f64, hostile_blocks_decode_or_fail_corrupt)
{
    enum { N = 300 };
    double v[N];
    for (uint32_t i = 0; i < N; i++)
        v[i] = i % 13 == 0 ? special() : (double)(int64_t)(rnd() % 100000) / 100.0;
    for (size_t e = 0; e < sizeof f64_encs; e++)
        rt_f64_as(f64_encs[e], v, N, 3000);
    for (uint32_t i = 0; i < N; i++)
        v[i] = 2.5;
    rt_f64_as(SDB_ENC_CONST, v, N, 300);
}

Test(enc_f64, decimal_exception_positions_are_checked)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    double v[8] = {1.5, 2.25, NAN, 3.0, -0.0, 4.125, 5.0, 6.0}, out[8];
    cr_assert_eq(sdb_enc_f64_as(SDB_ENC_DECIMAL, v, 8, &b, &err), SDB_OK);
    /* two exceptions: positions at b.len - 2*8 - 2*2; make the second equal the first */
    b.data[b.len - 16 - 2] = b.data[b.len - 16 - 4];
    b.data[b.len - 16 - 1] = b.data[b.len - 16 - 3];
    cr_assert_eq(sdb_dec_f64(SDB_ENC_DECIMAL, b.data, b.len, 8, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "float64 decimal block: exception 1"), "%s", err.msg);
    sdb_buf_free(&b);
}

/* ---- bool ---- */

Test(enc_bool, round_trips_and_rejects_corruption)
{
    uint8_t *v = malloc(65536), *out = malloc(65536);
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const uint32_t n = sizes[s];
        for (uint32_t i = 0; i < n; i++)
            v[i] = rnd() % 7 == 0;
        sdb_buf_reset(&b);
        cr_assert_eq(sdb_enc_bool_as(SDB_ENC_BITMAP, v, n, &b, &err), SDB_OK);
        cr_assert_eq(sdb_dec_bool(SDB_ENC_BITMAP, b.data, b.len, n, out, &err), SDB_OK);
        cr_assert(memcmp(v, out, n) == 0);
        if (n < 5000)
            hostile(T_BOOL, SDB_ENC_BITMAP, b.data, b.len, n, 0, 500);
        sdb_buf_reset(&b);
        cr_assert_eq(sdb_enc_bool_as(SDB_ENC_CONST, v, 1, &b, &err), SDB_OK);
        hostile(T_BOOL, SDB_ENC_CONST, b.data, b.len, n, 0, 50);
        memset(v, 1, n);
        sdb_buf_reset(&b);
        cr_assert_eq(sdb_enc_bool(v, n, &b, &enc, &err), SDB_OK);
        cr_assert_eq(enc, SDB_ENC_CONST);
        cr_assert_eq(sdb_dec_bool(enc, b.data, b.len, n, out, &err), SDB_OK);
        cr_assert(memcmp(v, out, n) == 0);
    }
    b.data[0] = 2;
    cr_assert_eq(sdb_dec_bool(SDB_ENC_CONST, b.data, 1, 5, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "bool const block: value 2"), "%s", err.msg);
    sdb_buf_free(&b);
    free(v);
    free(out);
}

/* ---- symbol codes ---- */

static const uint8_t code_encs[] = {SDB_ENC_PLAIN, SDB_ENC_FOR, SDB_ENC_RLE};

static void rt_code_as(uint8_t enc, const uint32_t *v, uint32_t n, uint32_t ncodes, int flips)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint32_t *out = malloc((size_t)n * 4);
    cr_assert_eq(sdb_enc_code_as(enc, v, n, ncodes, &b, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_dec_code(enc, b.data, b.len, n, ncodes, out, &err), SDB_OK, "%s: %s",
                 sdb_enc_name(enc), err.msg);
    cr_assert(memcmp(out, v, (size_t)n * 4) == 0, "%s n=%u", sdb_enc_name(enc), n);
    if (flips >= 0)
        hostile(T_CODE, enc, b.data, b.len, n, ncodes, flips);
    free(out);
    sdb_buf_free(&b);
}

Test(enc_code, one_to_65536_distinct_codes_round_trip)
{
    uint32_t *v = malloc(65536 * 4);
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const uint32_t n = sizes[s];
        for (uint32_t i = 0; i < n; i++)
            v[i] = i; /* n distinct: 65,536 at the largest size */
        for (size_t e = 0; e < sizeof code_encs; e++)
            rt_code_as(code_encs[e], v, n, n, -1);
        for (uint32_t i = 0; i < n; i++)
            v[i] = (uint32_t)(rnd() % 12);
        for (size_t e = 0; e < sizeof code_encs; e++)
            rt_code_as(code_encs[e], v, n, 12, -1);
        for (uint32_t i = 0; i < n; i++)
            v[i] = 7;
        rt_code_as(SDB_ENC_CONST, v, n, 8, -1);
        sdb_buf_reset(&b);
        cr_assert_eq(sdb_enc_code(v, n, 8, &b, &enc, &err), SDB_OK);
        cr_assert_eq(enc, SDB_ENC_CONST);
    }
    for (uint32_t i = 0; i < 65536; i++)
        v[i] = (uint32_t)(rnd() % 12);
    sdb_buf_reset(&b);
    cr_assert_eq(sdb_enc_code(v, 65536, 12, &b, &enc, &err), SDB_OK);
    cr_assert_eq(enc, SDB_ENC_FOR);
    cr_assert_eq(b.len, 5 + 65536 / 2);
    /* a code past the dictionary is the caller's bug */
    v[5] = 12;
    cr_assert_eq(sdb_enc_code(v, 100, 12, &b, &enc, &err), SDB_ERR_MISUSE);
    sdb_buf_free(&b);
    free(v);
}

Test(enc_code, codes_past_the_dictionary_are_corrupt)
{
    enum { N = 500 };
    uint32_t v[N], out[N];
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    for (uint32_t i = 0; i < N; i++)
        v[i] = (uint32_t)(rnd() % 300) + (i / 50 % 2) * 10;
    for (size_t e = 0; e < sizeof code_encs; e++)
        rt_code_as(code_encs[e], v, N, 310, 3000);
    {
        uint32_t same[N];
        for (uint32_t i = 0; i < N; i++)
            same[i] = 9;
        rt_code_as(SDB_ENC_CONST, same, N, 310, 300);
    }
    cr_assert_eq(sdb_enc_code_as(SDB_ENC_FOR, v, N, 310, &b, &err), SDB_OK);
    cr_assert_eq(sdb_dec_code(SDB_ENC_FOR, b.data, b.len, N, 200, out, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "symbol for block: row"), "%s", err.msg);
    cr_assert(strstr(err.msg, "not below 200 codes"), "%s", err.msg);
    sdb_buf_free(&b);
}

/* ---- strings ---- */

typedef struct strs {
    uint64_t *off;
    char *bytes;
    uint32_t n;
} strs;

static void strs_free(strs *s)
{
    free(s->off);
    free(s->bytes);
}

/* kind: 0 random bytes incl. NUL, 1 32-hex, 2 few distinct, 3 empty, 4 UTF-8 */
static strs make_strs(uint32_t n, int kind, size_t maxlen)
{
    strs s = {malloc(((size_t)n + 1) * 8), NULL, n};
    size_t cap = (size_t)n * (maxlen + 40) + 16, len = 7; /* off[0] != 0 on purpose */
    static const char *utf8[] = {"héllo", "日本語", "😀", "\xff\xfe invalid", "", "a\0b"};
    s.bytes = malloc(cap);
    cr_assert(s.off && s.bytes);
    s.off[0] = len;
    for (uint32_t i = 0; i < n; i++) {
        size_t l;
        switch (kind) {
        case 0:
            l = rnd() % (maxlen + 1);
            for (size_t j = 0; j < l; j++)
                s.bytes[len + j] = (char)rnd();
            break;
        case 1:
            l = 32;
            for (size_t j = 0; j < l; j++)
                s.bytes[len + j] = "0123456789abcdef"[(i / 4 * 31 + j * 7) % 16];
            break;
        case 2: l = (size_t)snprintf(s.bytes + len, 32, "model-%u", (unsigned)(rnd() % 12)); break;
        case 3: l = 0; break;
        default: {
            const char *u = utf8[rnd() % 6];
            l = strcmp(u, "a") == 0 ? 3 : strlen(u);
            memcpy(s.bytes + len, u, l);
            break;
        }
        }
        len += l;
        s.off[i + 1] = len;
    }
    return s;
}

static void rt_str_as(uint8_t enc, const strs *s, int flips)
{
    sdb_buf b = SDB_BUF_INIT, bytes = SDB_BUF_INIT;
    sdb_err err;
    uint64_t *off = malloc(((size_t)s->n + 1) * 8);
    cr_assert_eq(sdb_enc_str_as(enc, s->off, s->bytes, s->n, &b, &err), SDB_OK, "%s: %s",
                 sdb_enc_name(enc), err.msg);
    cr_assert_eq(sdb_dec_str(enc, b.data, b.len, s->n, off, &bytes, &err), SDB_OK, "%s: %s",
                 sdb_enc_name(enc), err.msg);
    cr_assert_eq(off[0], 0);
    for (uint32_t i = 0; i < s->n; i++) {
        const uint64_t l = s->off[i + 1] - s->off[i];
        cr_assert_eq(off[i + 1] - off[i], l, "%s row %u", sdb_enc_name(enc), i);
        cr_assert(l == 0 || memcmp(bytes.data + off[i], s->bytes + s->off[i], l) == 0);
    }
    cr_assert_eq(bytes.len, off[s->n]);
    if (flips >= 0)
        hostile(T_STR, enc, b.data, b.len, s->n, 0, flips);
    free(off);
    sdb_buf_free(&b);
    sdb_buf_free(&bytes);
}

static uint8_t chosen_str(const strs *s)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc = 255;
    cr_assert_eq(sdb_enc_str(s->off, s->bytes, s->n, &b, &enc, &err), SDB_OK, "%s", err.msg);
    sdb_buf_free(&b);
    rt_str_as(enc, s, -1);
    return enc;
}

Test(enc_str, every_shape_round_trips_in_every_encoding)
{
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        const uint32_t n = sizes[z];
        for (int kind = 0; kind < 5; kind++) {
            strs s = make_strs(n, kind, n > 5000 ? 8 : 40);
            rt_str_as(SDB_ENC_PLAIN, &s, -1);
            rt_str_as(SDB_ENC_DICT, &s, -1);
            if (kind == 1)
                rt_str_as(SDB_ENC_HEX, &s, -1);
            chosen_str(&s);
            strs_free(&s);
        }
    }
}

Test(enc_str, choice_follows_the_shape)
{
    strs s = make_strs(65536, 3, 0);
    cr_assert_eq(chosen_str(&s), SDB_ENC_CONST); /* all empty */
    strs_free(&s);
    s = make_strs(2048, 2, 0);
    cr_assert_eq(chosen_str(&s), SDB_ENC_DICT);
    strs_free(&s);
    s = make_strs(2048, 0, 30);
    cr_assert_eq(chosen_str(&s), SDB_ENC_PLAIN);
    strs_free(&s);
    /* 32-hex, each id unique: HEX */
    s = make_strs(4096, 0, 0);
    for (uint32_t i = 0; i < 4096; i++) {
        s.off[i + 1] = s.off[0] + 32 * ((uint64_t)i + 1);
    }
    s.bytes = realloc(s.bytes, s.off[4096]);
    for (uint64_t j = s.off[0]; j < s.off[4096]; j++)
        s.bytes[j] = "0123456789abcdef"[rnd() % 16];
    cr_assert_eq(chosen_str(&s), SDB_ENC_HEX);
    rt_str_as(SDB_ENC_HEX, &s, -1);
    s.bytes[s.off[0] + 5] = 'A'; /* upper case is not HEX */
    cr_assert_neq(chosen_str(&s), SDB_ENC_HEX);
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    cr_assert_eq(sdb_enc_str_as(SDB_ENC_HEX, s.off, s.bytes, s.n, &b, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "not all lower-case hex") || strstr(err.msg, "not lower-case hex"),
              "%s", err.msg);
    strs_free(&s);
}

Test(enc_str, hex_detection_is_exact_for_every_byte_value)
{
    char buf[2 * 18];
    uint64_t off[3] = {0, 18, 36};
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    for (unsigned c = 0; c < 256; c++)
        for (unsigned at = 0; at < 36; at += 5) {
            const int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            memset(buf, 'f', sizeof buf);
            memcpy(buf, "0123456789abcdef0a", 18);
            buf[at] = (char)c;
            sdb_buf_reset(&b);
            cr_assert_eq(sdb_enc_str_as(SDB_ENC_HEX, off, buf, 2, &b, &err),
                         hex ? SDB_OK : SDB_ERR_MISUSE, "byte %u at %u", c, at);
            if (hex) {
                strs s = {off, buf, 2};
                rt_str_as(SDB_ENC_HEX, &s, -1);
            }
        }
    sdb_buf_free(&b);
}

Test(enc_str, one_mib_strings_round_trip)
{
    enum { N = 3, L = 1 << 20 };
    strs s = {malloc((N + 1) * 8), malloc((size_t)N * L + 3), N};
    s.off[0] = 0;
    s.off[1] = L;
    s.off[2] = L + 3;
    s.off[3] = 2 * (uint64_t)L + 3;
    for (size_t j = 0; j < s.off[3]; j++)
        s.bytes[j] = (char)rnd();
    rt_str_as(SDB_ENC_PLAIN, &s, -1);
    rt_str_as(SDB_ENC_DICT, &s, -1);
    chosen_str(&s);
    strs_free(&s);
}

Test(enc_str, hostile_blocks_decode_or_fail_corrupt)
{
    strs s = make_strs(200, 0, 12);
    rt_str_as(SDB_ENC_PLAIN, &s, 3000);
    rt_str_as(SDB_ENC_DICT, &s, 3000);
    strs_free(&s);
    s = make_strs(300, 2, 0);
    rt_str_as(SDB_ENC_DICT, &s, 3000);
    strs_free(&s);
    s = make_strs(100, 1, 0);
    rt_str_as(SDB_ENC_HEX, &s, 3000);
    strs_free(&s);
    s = make_strs(100, 3, 0);
    rt_str_as(SDB_ENC_CONST, &s, 300);
    strs_free(&s);
}

Test(enc_str, dict_expansion_is_bounded)
{
    /* one dictionary value of 64 KiB referenced 65,536 times: 4 GiB, refused */
    enum { L = 1 << 16 };
    uint8_t *blk = calloc(1, 9 + L + 1);
    uint64_t *off = malloc((65536 + 1) * 8);
    sdb_buf bytes = SDB_BUF_INIT;
    sdb_err err;
    blk[0] = 1;  /* ndict */
    blk[4] = 0;  /* form: lengths + bytes */
    blk[5] = 17; /* length 65536 in 17 bits */
    blk[8] = 1;
    blk[9 + L] = 0; /* code width 0 */
    cr_assert_eq(sdb_dec_str(SDB_ENC_DICT, blk, 9 + L + 1, 65536, off, &bytes, &err),
                 SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "string dict block: decodes to"), "%s", err.msg);
    blk[4] = 4;
    cr_assert_eq(sdb_dec_str(SDB_ENC_DICT, blk, 9 + L + 1, 65536, off, &bytes, &err),
                 SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "unknown dictionary form 4"), "%s", err.msg);
    free(blk);
    free(off);
    sdb_buf_free(&bytes);
}

Test(enc_str, block_over_the_byte_limit_is_refused)
{
    const uint64_t off[3] = {0, 5, SDB_ENC_STR_MAX_BYTES + 1};
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc;
    /* the check looks at the offsets only; no byte is read */
    cr_assert_eq(sdb_enc_str(off, "", 2, &b, &enc, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "exceed the block limit"), "%s", err.msg);
    cr_assert_eq(b.len, 0);
}

Test(enc_str, shared_trace_ids_use_a_hex_dictionary)
{
    enum { N = 4096 };
    strs s = make_strs(N, 1, 0); /* 32-hex, each id repeated 4 times */
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    uint8_t enc;
    cr_assert_eq(sdb_enc_str(s.off, s.bytes, N, &b, &enc, &err), SDB_OK);
    cr_assert_eq(enc, SDB_ENC_DICT);
    cr_assert_eq(b.data[4], 1, "dictionary form %u", b.data[4]);
    cr_assert_lt(b.len, (size_t)N * 16 / 2);
    rt_str_as(SDB_ENC_DICT, &s, 2000);
    sdb_buf_free(&b);
    strs_free(&s);
}

Test(enc, names_cover_every_encoding)
{
    cr_assert_str_eq(sdb_enc_name(SDB_ENC_PLAIN), "plain");
    cr_assert_str_eq(sdb_enc_name(SDB_ENC_DOD), "dod");
    cr_assert_str_eq(sdb_enc_name(SDB_ENC_HEX), "hex");
    cr_assert_str_eq(sdb_enc_name(SDB_ENC__COUNT), "?");
    for (unsigned e = 0; e < SDB_ENC__COUNT; e++)
        cr_assert_str_neq(sdb_enc_name((uint8_t)e), "?");
}

Test(enc_str, ids_recurring_close_together_use_recency_codes)
{
    /* trace ids as time-sorted spans see them: each id recurs a few times within a window of
     * about 50 concurrent traces, out of 20,000 in the block */
    enum { N = 65536 };
    uint64_t *off = malloc((N + 1) * sizeof *off), st = 77;
    char *bytes = malloc((size_t)N * 32 + 1); /* snprintf writes a NUL after the last */
    sdb_buf out = SDB_BUF_INIT, dec = SDB_BUF_INIT;
    uint64_t *back = malloc((N + 1) * sizeof *back);
    sdb_err err;
    uint8_t enc;
    off[0] = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint64_t x = st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t trace = i / 3 + (uint32_t)(x >> 58) % 50; /* window of 50 */
        snprintf(bytes + 32 * (size_t)i, 33, "%016llx%016llx",
                 (unsigned long long)(trace * 0x9E3779B97F4A7C15ULL), (unsigned long long)trace);
        off[i + 1] = 32 * (uint64_t)(i + 1);
    }
    cr_assert_eq(sdb_enc_str(off, bytes, N, &out, &enc, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(enc, SDB_ENC_DICT);
    cr_assert_eq(out.data[4] & 2, 2, "codes are not recency-coded (form %u)", out.data[4]);
    /* far below log2(ndict) bits a row: 22,000 ids would take 15 bits */
    uint32_t ndict = (uint32_t)(out.data[0] | out.data[1] << 8 | out.data[2] << 16 | (uint32_t)out.data[3] << 24);
    cr_assert_lt(out.len, 4 + 1 + 4 + (size_t)ndict * 16 + N * 9 / 8, "%zu bytes", out.len);
    cr_assert_eq(sdb_dec_str(enc, out.data, out.len, N, back, &dec, &err), SDB_OK, "%s", err.msg);
    for (uint32_t i = 0; i < N; i++)
        cr_assert(back[i + 1] - back[i] == 32 &&
                  memcmp(dec.data + back[i], bytes + 32 * (size_t)i, 32) == 0, "row %u", i);
    /* hostile recency values: truncations and flips decode or fail as corrupt */
    for (size_t cut = out.len - 64; cut < out.len; cut++) {
        sdb_rc rc = sdb_dec_str(enc, out.data, cut, N, back, &dec, &err);
        cr_assert_eq(rc, SDB_ERR_CORRUPT);
    }
    sdb_buf_free(&out);
    sdb_buf_free(&dec);
    free(off);
    free(back);
    free(bytes);
}
