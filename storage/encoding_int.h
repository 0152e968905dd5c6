/* Internals shared by the encoding files (enc_*.c, bitpack.c): width-specialised unpack
 * kernels with a fused frame-of-reference add or prefix sum, bit-width helpers and the
 * corrupt-input error helper. Not part of the storage interface; see encoding.h. */
#ifndef SDB_STORAGE_ENCODING_INT_H
#define SDB_STORAGE_ENCODING_INT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"
#include "storage/encoding.h"

/* Bits needed to hold x (0 for x == 0, 64 for x >= 2^63). */
static inline unsigned sdb_enc_bits(uint64_t x)
{
    return x == 0 ? 0u : 64u - (unsigned)__builtin_clzll(x);
}

/* sdb_bitunpack, then out[i] = base + value (mod 2^64): frame-of-reference decode. */
void sdb_bitunpack_for(const uint8_t *src, uint32_t n, unsigned width, uint64_t base,
                       uint64_t *out);
/* Unpack deltas and prefix-sum them: out[i] = acc += base + value (mod 2^64); returns the
 * final acc. A DELTA decode is this with acc = the first value. */
uint64_t sdb_bitunpack_delta(const uint8_t *src, uint32_t n, unsigned width, uint64_t base,
                             uint64_t acc, uint64_t *out);

/* Patched frame of reference ("PFOR"), the integer core of FOR, DELTA, DOD and DECIMAL:
 *   base u64 | width u8 | nexc u32 | packed x (count values, width bits; 0 at exceptions) |
 *   nexc x position u16 (strictly increasing, < count) | nexc x u64 x
 * value i = base + x[i] (mod 2^64). Outliers become exceptions so that a heavy tail does not
 * set the width of the whole block; the encoder picks the width from a histogram of the bit
 * lengths, exactly minimising the size. */
#define SDB_PFOR_HDR 13u

typedef struct sdb_pfor {
    const uint8_t *packed; /* count values of width bits */
    const uint8_t *pos;    /* nexc little-endian u16 positions */
    const uint8_t *exc;    /* nexc little-endian u64 offsets from base */
    uint64_t base;         /* added to every value (mod 2^64) */
    unsigned width;        /* 0..64 */
    uint32_t count;        /* values */
    uint32_t nexc;         /* exceptions, <= count */
} sdb_pfor;

/* Histogram slot of x: its bit length 0..64. */
static inline void sdb_pfor_hist_add(uint32_t hist[65], uint64_t x)
{
    hist[sdb_enc_bits(x)]++;
}
/* The width minimising the size of count values, judged from a bit-length histogram of
 * `sampled` of them (sampled == count for an exact plan); returns the estimated size. */
size_t sdb_pfor_plan(const uint32_t hist[65], uint32_t sampled, uint32_t count,
                     unsigned *width);
/* Fills x[0..m) with the offsets from base of values [first, first + m). */
typedef void (*sdb_pfor_fill)(const void *ctx, uint32_t first, uint32_t m, uint64_t *x);
/* Append count values (produced chunk by chunk by fill) as PFOR of the given width; the
 * exceptions are whatever does not fit. */
sdb_rc sdb_pfor_write(sdb_pfor_fill fill, const void *ctx, uint32_t count, uint64_t base,
                      unsigned width, sdb_buf *out, sdb_err *err);
/* Parse and check a PFOR section at the start of src[0..len); *used gets its size. */
sdb_rc sdb_pfor_open(const char *what, const uint8_t *src, size_t len, uint32_t count,
                     sdb_pfor *p, size_t *used, sdb_err *err);
/* Values [first, first + m) into out (first a multiple of 64); *cursor is the index of the
 * next exception, 0 before the first call, and must follow the calls in order. */
void sdb_pfor_get(const sdb_pfor *p, uint32_t first, uint32_t m, uint64_t *out,
                  uint32_t *cursor);

/* Checks shared by the decoders: 1 <= n <= SDB_BLOCK_ROWS. `what` names the type and
 * encoding ("int64 delta"). */
sdb_rc sdb_enc_check_n(const char *what, uint32_t n, sdb_err *err);

/* The run-length core shared by int64 and symbol codes, on uint64 values.
 * Layout: nruns u32 | min u64 | vw u8 | packed(value - min) | lw u8 | packed(len - 1). */
size_t sdb_rle_size(const uint64_t *v, uint32_t n);
sdb_rc sdb_rle_encode(const uint64_t *v, uint32_t n, sdb_buf *out, sdb_err *err);
sdb_rc sdb_rle_decode(const char *what, const uint8_t *src, size_t len, uint32_t n,
                      uint64_t *out, sdb_err *err);

/* Encode with a given encoding instead of the chosen one (tests, fuzzing, benchmarks).
 * SDB_ERR_MISUSE when enc does not apply to the type or to the data (CONST of values that
 * differ, HEX of strings that are not all hex of one even length). */
sdb_rc sdb_enc_i64_as(uint8_t enc, const int64_t *v, uint32_t n, sdb_buf *out, sdb_err *err);
sdb_rc sdb_enc_f64_as(uint8_t enc, const double *v, uint32_t n, sdb_buf *out, sdb_err *err);
sdb_rc sdb_enc_bool_as(uint8_t enc, const uint8_t *v, uint32_t n, sdb_buf *out, sdb_err *err);
sdb_rc sdb_enc_code_as(uint8_t enc, const uint32_t *v, uint32_t n, uint32_t ncodes, sdb_buf *out,
                       sdb_err *err);
sdb_rc sdb_enc_str_as(uint8_t enc, const uint64_t *off, const char *bytes, uint32_t n,
                      sdb_buf *out, sdb_err *err);

#endif
