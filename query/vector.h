/* sdb_vec: the unit the query engine passes between operators. A vector holds up to
 * SDB_VEC_SIZE values of one type as a typed array plus a validity bitmap; which of its rows
 * are live is given beside it by a selection vector (uint32_t row indexes, DuckDB's sel_t).
 * Symbol vectors carry the codes and the dictionary those codes refer to: a segment's sorted
 * dictionary or a memtable's insertion-ordered sdb_symdict, behind one sdb_dict interface. */
#ifndef SDB_QUERY_VECTOR_H
#define SDB_QUERY_VECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/segment.h"
#include "storage/symdict.h"
#include "storage/types.h"

/* Words of a vector's validity bitmap. */
#define SDB_VEC_WORDS (SDB_VEC_SIZE / 64)

/* A borrowed string: not NUL terminated. */
typedef struct sdb_str {
    const char *p;
    uint32_t len;
} sdb_str;

/* The dictionary a symbol vector's codes refer to. Exactly one of seg and mem is set. */
typedef struct sdb_dict {
    const sdb_seg_col *seg;   /* segment dictionary, sorted: code order is string order */
    const sdb_symdict *mem;   /* memtable dictionary, in order of first appearance */
    uint32_t id;              /* index of this dictionary among the query's dictionaries */
} sdb_dict;

/* Number of codes in d. */
uint32_t sdb_dict_count(const sdb_dict *d);
/* The string of code (< sdb_dict_count(d)); borrowed. */
sdb_str sdb_dict_get(const sdb_dict *d, uint32_t code);
/* The code of s in d; false when absent (then no row using d holds s). */
bool sdb_dict_find(const sdb_dict *d, const char *s, size_t n, uint32_t *code);

/* A scalar value: constants of expressions and the cells of a result set. */
typedef struct sdb_value {
    sdb_type type;  /* SYMBOL values are carried as strings */
    bool null;
    union {
        int64_t i;  /* TIMESTAMP, INT64 */
        double f;   /* FLOAT64 */
        bool b;     /* BOOL */
        sdb_str s;  /* STRING, SYMBOL */
    } u;
} sdb_value;

typedef struct sdb_vec {
    sdb_type type;
    bool is_const;           /* index 0 holds the value of every row */
    union {
        const void *raw;
        const int64_t *i64;  /* TIMESTAMP, INT64 */
        const double *f64;   /* FLOAT64 */
        const uint8_t *b8;   /* BOOL: 0 or 1 */
        const uint32_t *code; /* SYMBOL: codes into dict */
        const sdb_str *str;  /* STRING */
    } v;
    const uint64_t *valid;   /* SDB_VEC_WORDS words, bit set = present; never NULL */
    const sdb_dict *dict;    /* SYMBOL only */
} sdb_vec;

/* Validity of row i (for a constant vector, of index 0). */
static inline bool sdb_vec_valid(const sdb_vec *v, uint32_t i)
{
    if (v->is_const)
        i = 0;
    return (v->valid[i >> 6] >> (i & 63)) & 1;
}

/* SDB_VEC_WORDS words of all ones / all zeros, for vectors without NULLs / only NULLs. */
extern const uint64_t sdb_vec_all_valid[SDB_VEC_WORDS];
extern const uint64_t sdb_vec_all_null[SDB_VEC_WORDS];

/* A set of equally long column vectors and the rows of them that are live. */
typedef struct sdb_chunk {
    uint32_t n;              /* physical rows, <= SDB_VEC_SIZE */
    uint32_t ncols;
    const sdb_vec *cols;     /* ncols vectors */
} sdb_chunk;

#endif
