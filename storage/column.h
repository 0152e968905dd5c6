/* sdb_column: one growable in-memory column with a validity bitmap; sdb_batch: a table's
 * rows as named columns of equal length. Ingest builds batches, memtables append them, and
 * the segment writer encodes them. One owner each: the batch owns its columns, a symbol
 * column owns its dictionary. */
#ifndef SDB_STORAGE_COLUMN_H
#define SDB_STORAGE_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"
#include "storage/symdict.h"
#include "storage/types.h"

typedef struct sdb_column {
    sdb_type type;
    uint64_t n;         /* rows */
    uint64_t cap;       /* rows allocated */
    uint64_t *valid;    /* bit r set = row r is not NULL; (cap + 63) / 64 words */
    union {
        void *raw;
        int64_t *i64;   /* TIMESTAMP, INT64 */
        double *f64;    /* FLOAT64 */
        uint8_t *b8;    /* BOOL: 0 or 1 */
        uint32_t *code; /* SYMBOL: codes into dict */
        uint64_t *off;  /* STRING: off[r]..off[r+1] in bytes; cap + 1 entries */
    } v;
    char *bytes;        /* STRING: the values back to back */
    uint64_t nbytes;
    uint64_t bytes_cap;
    sdb_symdict *dict;  /* SYMBOL: owned */
} sdb_column;

/* Prepare an empty column of type t. */
sdb_rc sdb_column_init(sdb_column *c, sdb_type t, sdb_err *err);
/* Free everything the column holds; it must be init'ed again before use. Accepts zeroed. */
void sdb_column_free(sdb_column *c);
/* Drop all rows, keep allocations (the dictionary of a symbol column is kept too). */
void sdb_column_clear(sdb_column *c);
/* Room for `rows` rows in total. */
sdb_rc sdb_column_reserve(sdb_column *c, uint64_t rows, sdb_err *err);
/* Cut back to `rows` rows (rows <= n): how a rejected line's partial values are undone. */
void sdb_column_truncate(sdb_column *c, uint64_t rows);

sdb_rc sdb_column_push_null(sdb_column *c, sdb_err *err);
sdb_rc sdb_column_push_nulls(sdb_column *c, uint64_t count, sdb_err *err);
sdb_rc sdb_column_push_i64(sdb_column *c, int64_t v, sdb_err *err);   /* TIMESTAMP, INT64 */
sdb_rc sdb_column_push_f64(sdb_column *c, double v, sdb_err *err);
sdb_rc sdb_column_push_bool(sdb_column *c, bool v, sdb_err *err);
/* SYMBOL: interned into the column's dictionary; STRING: appended. */
sdb_rc sdb_column_push_str(sdb_column *c, const char *s, size_t n, sdb_err *err);
/* SYMBOL only: append a code of the column's own dictionary. */
sdb_rc sdb_column_push_code(sdb_column *c, uint32_t code, sdb_err *err);
/* Append row `row` of src (same type; symbols are re-interned when dictionaries differ). */
sdb_rc sdb_column_push_from(sdb_column *c, const sdb_column *src, uint64_t row, sdb_err *err);

static inline bool sdb_column_valid(const sdb_column *c, uint64_t row)
{
    return (c->valid[row >> 6] >> (row & 63)) & 1;
}

/* The string of a STRING or SYMBOL row; borrowed. */
const char *sdb_column_str(const sdb_column *c, uint64_t row, uint32_t *len);
/* Count of NULL rows. */
uint64_t sdb_column_null_count(const sdb_column *c);

#define SDB_NAME_MAX (64u * 1024u)

typedef struct sdb_batch {
    uint32_t ncols;
    uint32_t cap;
    char **names;      /* owned, NUL terminated */
    sdb_column *cols;  /* owned; every column has nrows rows */
    uint64_t nrows;
} sdb_batch;

void sdb_batch_init(sdb_batch *b);
void sdb_batch_free(sdb_batch *b);
/* Drop all rows, keep columns and their dictionaries. */
void sdb_batch_clear(sdb_batch *b);
/* Index of the column named name, or -1. */
int sdb_batch_find(const sdb_batch *b, const char *name, size_t len);
/* Add a column, filled with NULL for the rows already present. Fails with SDB_ERR_EXISTS when
 * the name is taken. */
sdb_rc sdb_batch_add(sdb_batch *b, const char *name, size_t len, sdb_type t, int *idx, sdb_err *err);
/* Append rows of src to dst: all of them when rows is NULL, else the n rows listed. Columns
 * are matched by name; a column dst lacks is added (NULL for its earlier rows), a column src
 * lacks gets NULLs. Symbols are re-interned into dst's dictionaries once per distinct code.
 * An int64 source column is widened into a float64 destination; any other type difference
 * is SDB_ERR_SCHEMA naming the column and both types, and dst is left unchanged. */
sdb_rc sdb_batch_append_rows(sdb_batch *dst, const sdb_batch *src, const uint32_t *rows,
                             uint64_t n, sdb_err *err);
/* Pad every column shorter than nrows with NULLs (after a row that did not name them). */
sdb_rc sdb_batch_pad(sdb_batch *b, sdb_err *err);

#endif
