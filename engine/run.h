/* Running SQL statements against a database: parse, plan over a snapshot of the table
 * (segments and memtables), execute, and return a result set independent of any output
 * format. SELECT, EXPLAIN [ANALYZE], SHOW TABLES, DESCRIBE, CREATE TABLE, DROP TABLE. */
#ifndef SDB_ENGINE_RUN_H
#define SDB_ENGINE_RUN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/db.h"
#include "query/exec.h"

/* Default memory bound of one query (--query-memory). */
#define SDB_QUERY_MEMORY_DEFAULT ((size_t)1 << 30)

typedef struct sdb_run_opts {
    unsigned threads;          /* 0: number of cores */
    size_t query_memory;       /* 0: SDB_QUERY_MEMORY_DEFAULT */
    const atomic_bool *cancel; /* may be NULL */
    int64_t now_ns;            /* now() (0: the wall clock) */
} sdb_run_opts;

typedef struct sdb_run_result {
    sdb_result *rows;          /* NULL for statements that return none (CREATE, DROP) */
    char message[256];         /* what a statement without rows did ("created table t") */
    double elapsed_ms;
    sdb_exec_stats stats;      /* of the SELECT run (zero otherwise) */
} sdb_run_result;

/* Run one statement. On success the caller owns out->rows (sdb_run_result_free). Errors
 * carry the position in the text ("parse error at 1:27 near 'FORM': expected FROM"). */
sdb_rc sdb_run_sql(sdb_db *db, const char *sql, size_t len, const sdb_run_opts *opts,
                   sdb_run_result *out, sdb_err *err);
void sdb_run_result_free(sdb_run_result *r);

/* True when sql is a statement that changes the catalog (CREATE, DROP): the caller must open
 * the database for writing. */
bool sdb_run_sql_writes(const char *sql, size_t len);

#endif
