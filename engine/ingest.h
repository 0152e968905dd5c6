/* Ingest: line-protocol text into the database. Feeds the parser, resolves column types
 * against the catalog as lines arrive (so a conflicting line is rejected alone), and writes
 * the parsed batches through sdb_db_write every batch_rows rows and at the end. Used by
 * `spandb import` and the servers. */
#ifndef SDB_ENGINE_INGEST_H
#define SDB_ENGINE_INGEST_H

#include <stdint.h>

#include "engine/db.h"
#include "engine/ilp.h"

typedef struct sdb_ingest sdb_ingest;

typedef struct sdb_ingest_opts {
    sdb_ilp_precision precision;
    int64_t now_ns;              /* time of lines without one (0: the wall clock at create) */
    size_t max_line;             /* 0: default of the parser */
    uint64_t batch_rows;         /* write to the database every this many rows (0: 65536) */
    const char *table;           /* when set, every line goes to this table */
    sdb_ilp_reject_fn on_reject; /* bad lines (may be NULL) */
    void *reject_ctx;
} sdb_ingest_opts;

typedef struct sdb_ingest_stats {
    uint64_t lines, rows, rejected, bytes, written; /* written: rows handed to the database */
} sdb_ingest_stats;

sdb_rc sdb_ingest_create(sdb_db *db, const sdb_ingest_opts *opts, sdb_ingest **out, sdb_err *err);
/* Frees the parser and any rows not yet written (they are not in the database). */
void sdb_ingest_destroy(sdb_ingest *in);
sdb_rc sdb_ingest_feed(sdb_ingest *in, const void *data, size_t len, sdb_err *err);
/* Parse the last line and write everything pending. */
sdb_rc sdb_ingest_finish(sdb_ingest *in, sdb_err *err);
/* Write what is parsed so far (a statement on the same connection must see it). */
sdb_rc sdb_ingest_commit(sdb_ingest *in, sdb_err *err);
/* Throw away parsed rows that are not written yet (--strict after a bad line). */
void sdb_ingest_discard(sdb_ingest *in);
sdb_ingest_stats sdb_ingest_get_stats(const sdb_ingest *in);

#endif
