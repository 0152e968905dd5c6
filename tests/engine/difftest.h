/* Shared fixture of the SQL differential tests: the same generated spans loaded into a
 * spandb database (segments in several partitions plus a memtable) and into an in-memory
 * SQLite database, and results of both turned into comparable rows of cells. */
#ifndef SDB_TESTS_DIFFTEST_H
#define SDB_TESTS_DIFFTEST_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/run.h"

/* now() of every spandb query in the tests: 2026-01-04T00:00:00Z, the end of the data. */
#define DT_NOW_NS 1767484800000000000LL

typedef enum dt_kind { DT_NULL, DT_INT, DT_DBL, DT_TXT } dt_kind;

typedef struct dt_cell {
    dt_kind k;
    int64_t i;      /* DT_INT */
    double d;       /* DT_DBL */
    char *s;        /* DT_TXT, malloc'ed */
} dt_cell;

typedef struct dt_rows {
    uint32_t ncols;
    uint64_t nrows;
    dt_cell *cells; /* nrows * ncols */
} dt_rows;

typedef struct dt_fixture {
    sdb_db *db;
    sqlite3 *lite;
    uint64_t rows;  /* rows loaded */
} dt_fixture;

/* Generate rows spans (seed 1, 3 days from 2026-01-01) into a database in the test's
 * temporary directory (flushing once flush_at rows are written, so the rest stays in the
 * memtable) and into SQLite table `spans` (time as INTEGER ns, bools 0/1). Segments are
 * written with block_rows rows per block. */
void dt_fixture_build(dt_fixture *f, uint64_t rows, uint64_t flush_at, uint32_t block_rows);
void dt_fixture_free(dt_fixture *f);

/* Run a statement through sdb_run_sql (2 threads, now = DT_NOW_NS); false with err set on
 * failure. */
bool dt_run_spandb(sdb_db *db, const char *sql, dt_rows *out, sdb_err *err);
/* The same with a given number of worker threads. */
bool dt_run_spandb_threads(sdb_db *db, const char *sql, unsigned threads, dt_rows *out, sdb_err *err);
/* Run SQLite SQL; false with msg set on failure. */
bool dt_run_sqlite(sqlite3 *lite, const char *sql, dt_rows *out, char *msg, size_t n);
void dt_rows_free(dt_rows *r);
void dt_rows_sort(dt_rows *r);
/* Equal cells: NULL = NULL, ints exactly, floats within rel relative error, text bytes. */
bool dt_cell_eq(const dt_cell *a, const dt_cell *b, double rel);
/* Print a cell into out. */
void dt_cell_fmt(const dt_cell *c, char *out, size_t n);

#endif
