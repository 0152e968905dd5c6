/* Column types of spandb and the rules between them (names, widening).
 * The numeric values are stored in segment footers and WAL records: never renumber. */
#ifndef SDB_STORAGE_TYPES_H
#define SDB_STORAGE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sdb_type {
    SDB_TYPE_TIMESTAMP = 1, /* int64 nanoseconds since the Unix epoch, UTC */
    SDB_TYPE_INT64 = 2,
    SDB_TYPE_FLOAT64 = 3,
    SDB_TYPE_BOOL = 4,      /* one byte per value in memory (0 or 1), a bitmap on disk */
    SDB_TYPE_SYMBOL = 5,    /* dictionary-encoded string: uint32 codes in memory */
    SDB_TYPE_STRING = 6,    /* free text: offsets + bytes */
} sdb_type;

#define SDB_TYPE_MIN SDB_TYPE_TIMESTAMP
#define SDB_TYPE_MAX SDB_TYPE_STRING

/* Vectors and decode buffers hold this many values; blocks are whole multiples of it. */
#define SDB_VEC_SIZE 2048u
/* Rows per block of a segment column (the last block of a segment may be shorter). */
#define SDB_BLOCK_ROWS 65536u

_Static_assert((SDB_VEC_SIZE & (SDB_VEC_SIZE - 1)) == 0, "vector size must be a power of two");
_Static_assert(SDB_BLOCK_ROWS % SDB_VEC_SIZE == 0, "a block must hold whole vectors");

/* "timestamp", "int64", "float64", "bool", "symbol", "string"; "?" for anything else. */
const char *sdb_type_name(sdb_type t);
/* Parse a type name (also the SQL spellings: bigint, double, boolean, varchar, text...). */
bool sdb_type_parse(const char *name, size_t len, sdb_type *out);
/* True when t is a valid type number. */
bool sdb_type_valid(int t);
/* True for types whose values are int64 in memory (timestamp, int64). */
static inline bool sdb_type_is_i64(sdb_type t)
{
    return t == SDB_TYPE_TIMESTAMP || t == SDB_TYPE_INT64;
}
/* Bytes one value takes in a fixed-width array (0 for string). */
unsigned sdb_type_width(sdb_type t);

#endif
