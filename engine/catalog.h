/* The catalog: every table's columns and types, partitioning and sort key. Tables and
 * columns are created on first write (schema on write) or by CREATE TABLE; the catalog is
 * saved atomically to DIR/CATALOG whenever it changes, so it survives restarts. Column
 * order is the order of creation; `time` is always column 0. */
#ifndef SDB_ENGINE_CATALOG_H
#define SDB_ENGINE_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/common/error.h"
#include "storage/manifest.h"
#include "storage/types.h"

#define SDB_CATALOG_FILE "CATALOG"
#define SDB_MAX_TABLES 10000u
#define SDB_MAX_COLUMNS 1000u
#define SDB_MAX_SORT_COLS 8u

typedef struct sdb_table_def {
    char *name;             /* owned */
    sdb_part_unit unit;     /* partition width */
    uint32_t ncols;
    uint32_t cap;
    char **col_names;       /* owned; [0] is "time" */
    sdb_type *col_types;
    uint32_t nsort;         /* 1..SDB_MAX_SORT_COLS */
    uint32_t sort_cols[SDB_MAX_SORT_COLS]; /* column indexes, last is usually time */
} sdb_table_def;

typedef struct sdb_catalog {
    uint32_t ntables;
    uint32_t cap;
    sdb_table_def **tables; /* owned */
} sdb_catalog;

/* An empty catalog. Caller owns; free with sdb_catalog_destroy(). */
sdb_catalog *sdb_catalog_create(void);
void sdb_catalog_destroy(sdb_catalog *c);
/* Load DIR/CATALOG; an absent file gives an empty catalog. A corrupt one is SDB_ERR_CORRUPT
 * naming the file. */
sdb_rc sdb_catalog_load(const char *dir, sdb_catalog **out, sdb_err *err);
/* Save to DIR/CATALOG atomically. */
sdb_rc sdb_catalog_save(const sdb_catalog *c, const char *dir, sdb_err *err);
/* Encode / decode the file image (for tests and the fuzz harness). */
sdb_rc sdb_catalog_decode(const void *data, size_t len, const char *name, sdb_catalog **out,
                          sdb_err *err);

sdb_table_def *sdb_catalog_find(const sdb_catalog *c, const char *name, size_t len);
/* A new table with only its `time` column, partitioned by unit and sorted by time.
 * SDB_ERR_EXISTS when present; SDB_ERR_LIMIT past SDB_MAX_TABLES. */
sdb_rc sdb_catalog_add_table(sdb_catalog *c, const char *name, size_t len, sdb_part_unit unit,
                             sdb_table_def **out, sdb_err *err);
/* Remove a table. SDB_ERR_NOTFOUND when absent. */
sdb_rc sdb_catalog_drop_table(sdb_catalog *c, const char *name, sdb_err *err);
/* Index of a column, or -1. */
int sdb_table_find_col(const sdb_table_def *t, const char *name, size_t len);
/* Add a column. SDB_ERR_EXISTS when the name is taken, SDB_ERR_LIMIT past SDB_MAX_COLUMNS. */
sdb_rc sdb_table_add_col(sdb_table_def *t, const char *name, size_t len, sdb_type type,
                         sdb_err *err);
/* Set the sort key from column names (which must exist). */
sdb_rc sdb_table_set_sort(sdb_table_def *t, const char *const *names, uint32_t n, sdb_err *err);
/* True when a value of type `from` may be stored in a column of type `to` (equal types,
 * int64 into float64, string and symbol into each other). */
bool sdb_type_assignable(sdb_type to, sdb_type from);

#endif
