/* Shared fixture of the exec tests: a span-like table as two segments with different symbol
 * dictionaries (written with small blocks) plus one memtable batch, and a row-by-row reader
 * of the same data for reference computations. */
#ifndef SDB_TESTS_QUERY_EXEC_FIXTURE_H
#define SDB_TESTS_QUERY_EXEC_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "query/exec.h"

enum { C_TIME, C_DUR, C_TOK, C_MODEL, C_EP, C_STATUS, C_TRACE, C_OK, C_COST, C_EXTRA, NCOLS };
#define NUNITS 3
#define BLOCK_ROWS 4096u
#define T0 1767225600000000000LL /* 2026-01-01T00:00:00Z */

typedef struct trow {
    bool has[NCOLS];
    int64_t i[NCOLS];    /* time, tokens, extra; bool as 0/1 */
    double f[NCOLS];     /* duration, cost */
    const char *s[NCOLS];
    uint32_t slen[NCOLS];
} trow;

extern sdb_batch fx_batch[NUNITS];
extern sdb_seg *fx_seg[2];
extern sdb_table_snap fx_snap;
extern uint64_t fx_rows[NUNITS];
extern const sdb_type fx_types[NCOLS];

/* Build the data (rows per unit) and open the segments. */
void fx_setup(uint64_t rows0, uint64_t rows1, uint64_t rows2);
void fx_teardown(void);
void fx_row(int unit, uint64_t r, trow *out);

#endif
