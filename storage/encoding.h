/* Lightweight encodings of one block of one column (before the general-purpose codec).
 * The encoder tries the encodings that fit the type and keeps the smallest; the decoder
 * dispatches on the encoding id stored in the block directory. Values at NULL positions are
 * whatever the caller put there (the segment writer fills them with a neighbour's value so
 * that they cost nothing); validity is stored by the segment, not here.
 *
 * Every decoder treats its input as hostile: lengths and bit widths are checked against the
 * bytes present, and anything inconsistent is SDB_ERR_CORRUPT, never an out-of-bounds access.
 * Decoders write whole blocks into caller arrays with type-specialised loops. */
#ifndef SDB_STORAGE_ENCODING_H
#define SDB_STORAGE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/buf.h"
#include "storage/common/error.h"

/* Stored in segment block directories: never renumber, only add. */
typedef enum sdb_enc {
    SDB_ENC_PLAIN = 0,   /* fixed width little-endian values; strings: lengths + bytes */
    SDB_ENC_CONST = 1,   /* one value, n times */
    SDB_ENC_FOR = 2,     /* frame of reference: min, bit width, bit-packed (v - min) */
    SDB_ENC_DELTA = 3,   /* first value, then FOR of the deltas */
    SDB_ENC_DOD = 4,     /* first value and delta, then FOR of the deltas of deltas */
    SDB_ENC_RLE = 5,     /* runs of (value, length) */
    SDB_ENC_SHUFFLE = 6, /* float64 bytes transposed into 8 planes (compresses well after) */
    SDB_ENC_DECIMAL = 7, /* float64 that are integers times 10^-e: e, then FOR of the integers */
    SDB_ENC_BITMAP = 8,  /* bool: one bit per value */
    SDB_ENC_DICT = 9,    /* block dictionary of distinct values + bit-packed codes */
    SDB_ENC_HEX = 10,    /* strings all lower-case hex of one even length: packed bytes */
    SDB_ENC__COUNT
} sdb_enc;

/* "plain", "const", "for", ... */
const char *sdb_enc_name(uint8_t enc);

/* Encoders: choose the best encoding for n values (1 <= n <= SDB_BLOCK_ROWS), append the
 * encoded bytes to out, and store the encoding id in *enc. */
sdb_rc sdb_enc_i64(const int64_t *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err);
sdb_rc sdb_enc_f64(const double *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err);
/* v[i] is 0 or 1 */
sdb_rc sdb_enc_bool(const uint8_t *v, uint32_t n, sdb_buf *out, uint8_t *enc, sdb_err *err);
/* Symbol codes into the segment's dictionary (every code < ncodes). */
sdb_rc sdb_enc_code(const uint32_t *v, uint32_t n, uint32_t ncodes, sdb_buf *out, uint8_t *enc,
                    sdb_err *err);
/* Upper bound of the string bytes of one block, encoded or decoded: the encoder refuses a
 * bigger block with SDB_ERR_LIMIT (the writer must cut blocks by bytes too), and a decoder
 * finds a block that would expand past it corrupt (a hostile DICT block of 65,536 references
 * to one huge string must not make the reader allocate without bound). */
#define SDB_ENC_STR_MAX_BYTES (UINT64_C(1) << 30)

/* Strings: value i is bytes[off[i] .. off[i+1]); off[0] need not be 0. */
sdb_rc sdb_enc_str(const uint64_t *off, const char *bytes, uint32_t n, sdb_buf *out, uint8_t *enc,
                   sdb_err *err);

/* Decoders: decode n values from src[0..len) encoded as enc into out (room for n values).
 * SDB_ERR_CORRUPT when the bytes do not hold exactly n values of that encoding. */
sdb_rc sdb_dec_i64(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, int64_t *out,
                   sdb_err *err);
sdb_rc sdb_dec_f64(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, double *out,
                   sdb_err *err);
sdb_rc sdb_dec_bool(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint8_t *out,
                    sdb_err *err);
/* Codes are checked to be < ncodes. */
sdb_rc sdb_dec_code(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint32_t ncodes,
                    uint32_t *out, sdb_err *err);
/* Strings: off gets n + 1 offsets starting at 0 into bytes, which is reset and filled. */
sdb_rc sdb_dec_str(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint64_t *off,
                   sdb_buf *bytes, sdb_err *err);
/* sdb_dec_str, and for a DICT block also each row's code into the block's dictionary into
 * codes (room for n; may be NULL) and the dictionary's size into *ndict (may be NULL; every
 * code is below it; 0 for other encodings, codes then untouched). Rows with equal codes hold
 * equal strings; rows with different codes may too (the file is not trusted). */
sdb_rc sdb_dec_str_codes(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint64_t *off,
                         sdb_buf *bytes, uint32_t *codes, uint32_t *ndict, sdb_err *err);

/* Bit packing shared by the encodings: pack n values of `width` bits (0..64) little-endian
 * into out; unpack needs sdb_bitpack_bytes(n, width) bytes. */
size_t sdb_bitpack_bytes(uint32_t n, unsigned width);
sdb_rc sdb_bitpack(const uint64_t *v, uint32_t n, unsigned width, sdb_buf *out, sdb_err *err);
void sdb_bitunpack(const uint8_t *src, uint32_t n, unsigned width, uint64_t *out);

#endif
