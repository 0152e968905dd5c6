/* The on-disk layout of a segment file: an immutable, checksummed, columnar file holding
 * the rows of one time partition of one table. docs/file-format.md is the user-facing copy
 * of these tables; a change here is a change there and, for readers, a version bump.
 *
 * All integers are little-endian. Offsets are from the start of the file.
 *
 *  FILE
 *   OFFSET  SIZE  WHAT
 *        0     8  magic "SPANDBSG"
 *        8     2  major version (readers refuse other majors)
 *       10     2  minor version (readers accept any minor of their major)
 *       12     4  reserved, must be 0
 *       16     -  data region: column 0's dictionary (symbol columns) and blocks 0..n-1,
 *                 then column 1's, ... (column-major, so one column's bytes are contiguous)
 *        F     L  footer (below), L bytes
 *      F+L     8  L, the footer length
 *     F+L+8    8  XXH3-64 of the footer bytes
 *    F+L+16    8  magic "SPANDBSG" again
 *
 *  FOOTER
 *        4  ncols (1..SDB_SEG_MAX_COLS)
 *        8  nrows
 *        4  block_rows (1..65536): every block holds this many rows but the last
 *        4  nblocks = ceil(nrows / block_rows), the same for every column
 *        4  meta_len, then meta_len bytes of metadata (opaque to the format: key=value lines)
 *        then per column:
 *           2  name length, then the name (UTF-8, 1..SDB_NAME_MAX bytes)
 *           1  type (storage/types.h)
 *           1  flags: bit 0 = blocks carry a bloom filter
 *           2  reserved, 0
 *           if type is symbol, the dictionary (its distinct values, sorted bytewise, so code
 *           order is string order) as one block reference (BLOCKREF) plus 4 bytes: count
 *           then nblocks times: BLOCKREF, 4 rows, 4 nulls, 8 min, 8 max,
 *                               and if flag bit 0: 4 filter length, then the filter bytes
 *
 *  BLOCKREF (34 bytes): 8 offset, 8 stored size, 8 raw size, 1 encoding (storage/encoding.h),
 *                       1 codec (storage/codec.h), 8 XXH3-64 of the stored bytes
 *
 *  BLOCK (raw, before the codec)
 *    if 0 < nulls < rows: ceil(rows / 8) bytes of validity bitmap (bit set = value present)
 *    if nulls < rows:     the encoded values (all rows, NULL slots hold a neighbour's value)
 *    a block of only NULLs has raw size 0.
 *
 *  min/max: int64 for timestamp/int64, the bits of a double for float64 (NaN excluded; with
 *  no non-NaN value min = +inf and max = -inf), 0/1 for bool, codes for symbol (code order is
 *  string order), 0 for string. Computed over non-NULL values; both 0 for an all-NULL block.
 */
#ifndef SDB_STORAGE_SEGMENT_FORMAT_H
#define SDB_STORAGE_SEGMENT_FORMAT_H

#define SDB_SEG_MAGIC          "SPANDBSG"
#define SDB_SEG_MAGIC_LEN      8
#define SDB_SEG_VERSION_MAJOR  1
#define SDB_SEG_VERSION_MINOR  0
#define SDB_SEG_HEADER_SIZE    16
#define SDB_SEG_TRAILER_SIZE   24
#define SDB_SEG_BLOCKREF_SIZE  34
#define SDB_SEG_MAX_COLS       4096
#define SDB_SEG_MAX_META       (1u << 20)
#define SDB_SEG_MAX_FILTER     (1u << 24)
/* Largest raw block: a writer lowers block_rows until every block fits, a reader refuses
 * larger ones before allocating. */
#define SDB_SEG_MAX_RAW_BLOCK  (1ull << 31)

#endif
