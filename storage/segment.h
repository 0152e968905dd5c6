/* Segment files: write a batch as one immutable columnar file, open one and read its
 * blocks. The layout is in storage/segment_format.h.
 *
 * Reading: sdb_seg_open() maps the file and validates header, trailer, footer checksum and
 * every footer field against the file size, so that afterwards block references are known
 * to lie inside the file. sdb_seg_read_block() checks the block's checksum before
 * decompressing and decoding it. Any inconsistency is SDB_ERR_CORRUPT naming the file,
 * column and block. An open segment is immutable and may be read by many threads at once,
 * each with its own sdb_seg_blockbuf. */
#ifndef SDB_STORAGE_SEGMENT_H
#define SDB_STORAGE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/codec.h"
#include "storage/column.h"
#include "storage/common/buf.h"
#include "storage/common/error.h"
#include "storage/types.h"

/* ---- writing ---- */

typedef struct sdb_seg_opts {
    sdb_codec codec;       /* codec for numeric, bool and symbol-code blocks (default LZ4) */
    int level;             /* zstd level when codec is zstd (0 = 3) */
    sdb_codec str_codec;   /* codec for string blocks and dictionaries (default zstd) */
    int str_level;         /* zstd level for those (0 = 3) */
    uint32_t block_rows;   /* rows per block, 1..65536 (0 = SDB_BLOCK_ROWS) */
    unsigned bloom_bits;   /* filter bits per distinct key (0 = SDB_BLOOM_DEFAULT_BITS) */
    uint32_t bloom_min_distinct; /* symbol blocks get a filter from this many distinct values
                                    (0 = 1024); string blocks always get one */
    const char *meta;      /* opaque metadata stored in the footer (may be NULL) */
    size_t meta_len;
    bool no_sync;          /* skip fsync (tests and benchmarks only) */
} sdb_seg_opts;

/* Fill opts with the defaults. */
void sdb_seg_opts_default(sdb_seg_opts *opts);

/* What a write produced. */
typedef struct sdb_seg_write_stats {
    uint64_t rows;
    uint64_t bytes; /* file size */
} sdb_seg_write_stats;

/* Write the rows of batch (in the order perm gives, or as they are when perm is NULL; perm
 * holds batch->nrows row numbers) as a segment at path: written under a temporary name,
 * fsynced, renamed, and the directory fsynced. A batch with no rows or no columns is
 * SDB_ERR_MISUSE. stats may be NULL. */
sdb_rc sdb_seg_write(const char *path, const sdb_batch *batch, const uint32_t *perm,
                     const sdb_seg_opts *opts, sdb_seg_write_stats *stats, sdb_err *err);

/* ---- reading ---- */

typedef struct sdb_seg sdb_seg;

typedef union sdb_seg_stat {
    int64_t i;  /* timestamp, int64, bool */
    double f;   /* float64 */
    uint32_t code; /* symbol */
} sdb_seg_stat;

typedef struct sdb_seg_blockref {
    uint64_t offset;   /* into the file */
    uint64_t stored;   /* bytes in the file */
    uint64_t raw;      /* bytes after the codec */
    uint8_t enc;       /* sdb_enc */
    uint8_t codec;     /* sdb_codec */
    uint64_t checksum; /* XXH3-64 of the stored bytes */
} sdb_seg_blockref;

typedef struct sdb_seg_block {
    sdb_seg_blockref ref;
    uint32_t rows;          /* 1..block_rows */
    uint32_t nulls;         /* 0..rows */
    sdb_seg_stat min, max;  /* over non-NULL values, see segment_format.h */
    const uint8_t *filter;  /* bloom filter bytes inside the mapped file, or NULL */
    uint32_t filter_len;
} sdb_seg_block;

typedef struct sdb_seg_col {
    const char *name;       /* NUL terminated, owned by the segment */
    sdb_type type;
    uint32_t nblocks;
    sdb_seg_block *blocks;
    bool has_filter;
    /* symbol columns: the sorted dictionary, decoded at open */
    uint32_t dict_count;
    const uint64_t *dict_off; /* dict_count + 1 offsets into dict_bytes */
    const char *dict_bytes;
    sdb_seg_blockref dict_ref;
} sdb_seg_col;

/* Open and validate a segment. Caller owns; close with sdb_seg_close(). */
sdb_rc sdb_seg_open(const char *path, sdb_seg **out, sdb_err *err);
/* Accepts NULL. */
void sdb_seg_close(sdb_seg *s);

const char *sdb_seg_path(const sdb_seg *s);
uint64_t sdb_seg_rows(const sdb_seg *s);
uint64_t sdb_seg_file_size(const sdb_seg *s);
uint32_t sdb_seg_block_rows(const sdb_seg *s);
uint32_t sdb_seg_nblocks(const sdb_seg *s);
uint32_t sdb_seg_ncols(const sdb_seg *s);
/* Borrowed; valid until sdb_seg_close(). */
const sdb_seg_col *sdb_seg_col_at(const sdb_seg *s, uint32_t i);
/* Index of the column named name, or -1. */
int sdb_seg_find_col(const sdb_seg *s, const char *name);
/* The metadata bytes given at write time; borrowed. */
const char *sdb_seg_meta(const sdb_seg *s, size_t *len);

/* Code of a symbol value in a column's dictionary (binary search); false when absent, which
 * means no row of the segment holds it. */
bool sdb_seg_dict_find(const sdb_seg_col *c, const char *s, size_t n, uint32_t *code);
/* The string of a dictionary code; borrowed. */
const char *sdb_seg_dict_get(const sdb_seg_col *c, uint32_t code, uint32_t *len);
/* False when block blk of column c certainly holds no row equal to the string s. */
bool sdb_seg_block_may_contain(const sdb_seg_col *c, uint32_t blk, const char *s, size_t n);

/* A decoded block. One per reading thread; reused across blocks. */
typedef struct sdb_seg_blockbuf {
    sdb_type type;
    uint32_t rows;
    uint32_t nulls;
    uint64_t *valid;    /* (rows + 63) / 64 words, bit set = present; all ones when no NULL */
    union {
        void *raw;
        int64_t *i64;
        double *f64;
        uint8_t *b8;
        uint32_t *code;
        uint64_t *off;  /* rows + 1 offsets into bytes.data */
    } v;
    sdb_buf bytes;      /* string values */
    bool keep_codes;    /* set by the caller: also fill codes and ndict (string blocks) */
    uint32_t ndict;     /* keep_codes and a dictionary-encoded string block: its dictionary
                           size, every codes[i] below it; else 0 */
    uint32_t *codes;    /* ndict > 0: each row's code (NULL rows too); rows with equal codes hold
                           equal strings, rows with different codes may too */
    size_t codescap;    /* entries allocated at codes */
    /* scratch, owned */
    sdb_buf stored;     /* decompressed payload */
    size_t vcap;        /* bytes allocated at v.raw */
    size_t validcap;    /* words allocated at valid */
    sdb_codec_ctx *codec;
} sdb_seg_blockbuf;

void sdb_seg_blockbuf_init(sdb_seg_blockbuf *b);
void sdb_seg_blockbuf_free(sdb_seg_blockbuf *b);

/* Verify, decompress and decode block blk of column col into buf. */
sdb_rc sdb_seg_read_block(const sdb_seg *s, uint32_t col, uint32_t blk, sdb_seg_blockbuf *buf,
                          sdb_err *err);
/* Append every row of the segment to out (columns matched by name, created when missing;
 * see sdb_batch_append_rows for types): how compaction reads the segments it merges. */
sdb_rc sdb_seg_read_batch(const sdb_seg *s, sdb_batch *out, sdb_err *err);
/* Check the stored bytes of one block (or, with blk == UINT32_MAX, the dictionary) against
 * their checksum without decoding. */
sdb_rc sdb_seg_check_block(const sdb_seg *s, uint32_t col, uint32_t blk, sdb_err *err);

#endif
