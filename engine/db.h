/* The database: a data directory of tables, each with a catalog entry, a write-ahead log,
 * memtables and published segments. This is the write path of DESIGN.md and the snapshot
 * interface queries read through.
 *
 * Directory layout:
 *   DIR/LOCK                       held by the one writing process (storage/lockfile.h)
 *   DIR/CATALOG                    tables and their columns (engine/catalog.h)
 *   DIR/MANIFEST                   published segments (storage/manifest.h)
 *   DIR/wal/<table>/               the table's write-ahead log (storage/wal.h)
 *   DIR/tables/<table>/<partition>_<id>.seg   segments (storage/segment.h)
 * <table> is the table name with every byte outside [A-Za-z0-9_-] written as %XX.
 *
 * Threads: every function may be called from several threads at once. Lock order: the
 * database lock, then a table's lock. */
#ifndef SDB_ENGINE_DB_H
#define SDB_ENGINE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/catalog.h"
#include "storage/column.h"
#include "storage/common/error.h"
#include "storage/segment.h"
#include "storage/wal.h"

typedef struct sdb_db sdb_db;

typedef struct sdb_db_opts {
    sdb_sync_mode sync;      /* WAL durability (default batch) */
    bool read_only;          /* no lock, no WAL repair, no writes: a consistent snapshot */
    bool bulk;               /* bulk import: rows skip the WAL and are durable once their
                                segment is published (flush or close) */
    uint64_t memtable_rows;  /* flush a table holding more rows than this (default 1M) */
    uint64_t memtable_bytes; /* ... or more bytes than this (default 256 MiB) */
    bool background_flush;   /* flush in a thread of its own, so writers go on meanwhile
                                (a writer waits only when the memtable reaches twice the
                                limit) */
    int64_t retention_ns;    /* drop partitions ending before now - retention (0: keep all) */
    sdb_part_unit unit;      /* partitioning of tables created on first write (default day) */
    sdb_seg_opts seg;        /* how flushes write segments */
    sdb_seg_opts compact_seg;/* how compaction writes segments (default zstd everywhere) */
} sdb_db_opts;

void sdb_db_opts_default(sdb_db_opts *o);

/* What start-up did. */
typedef struct sdb_db_open_report {
    uint64_t segments;       /* published segments opened */
    uint64_t rows;           /* rows in them */
    uint64_t wal_records;    /* WAL records replayed into memtables */
    uint64_t wal_rows;
    uint32_t wal_damaged;    /* tables whose WAL had a torn or corrupt tail (cut off) */
    char wal_reason[400];    /* the first such report */
    uint32_t stray_files;    /* files left by a crash and removed */
} sdb_db_open_report;

/* One line saying what start-up repaired (a WAL tail cut, stray files removed) into out, or
 * "" when nothing: for logs and command output. */
void sdb_db_open_report_text(const sdb_db_open_report *r, char *out, size_t n);

/* Open (creating when missing, unless read-only) the database in dir: lock it, load the
 * catalog and manifest, open the segments, replay the WAL. report may be NULL. Caller
 * owns *db; close with sdb_db_close(). SDB_ERR_BUSY when another process holds the lock. */
sdb_rc sdb_db_open(const char *dir, const sdb_db_opts *opts, sdb_db **db,
                   sdb_db_open_report *report, sdb_err *err);
/* Flush every memtable (unless read-only), then close. Accepts NULL. */
sdb_rc sdb_db_close(sdb_db *db, sdb_err *err);

/* Write the rows of b into table (created on first write, with the columns b has; columns
 * new to the table are added). Returns once the rows are durable per the sync mode (or, in
 * bulk mode, once they are in the memtable) and visible to queries. A column whose type
 * conflicts with the table's is SDB_ERR_SCHEMA naming table, column and both types, and
 * nothing of b is written. b must have a non-NULL timestamp column `time`. */
sdb_rc sdb_db_write(sdb_db *db, const char *table, const sdb_batch *b, sdb_err *err);

/* Like sdb_db_write, but the database may take b's memory over (b is then left empty): saves
 * a copy of every row on the ingest path. */
sdb_rc sdb_db_write_owned(sdb_db *db, const char *table, sdb_batch *b, sdb_err *err);

/* Write the memtables of table (NULL: of every table) into segments and publish them. */
sdb_rc sdb_db_flush(sdb_db *db, const char *table, sdb_err *err);

/* Most rows one compaction merges (it holds them in memory). */
#define SDB_COMPACT_MAX_ROWS (1u << 21)

/* Flush the tables whose oldest memtable row arrived more than max_age_ns ago (a server
 * calls this periodically, so that quiet tables reach segments too). */
sdb_rc sdb_db_flush_aged(sdb_db *db, int64_t max_age_ns, sdb_err *err);

/* Merge the segments of each partition of table (NULL: every table) that has more than one
 * into as few as SDB_COMPACT_MAX_ROWS allows, each merge published atomically. With force false only partitions with at least
 * min_segments level-0 segments are merged (background policy). */
sdb_rc sdb_db_compact(sdb_db *db, const char *table, bool force, uint32_t min_segments,
                      sdb_err *err);

/* Drop partitions that end before now_ns - retention. Returns the number dropped. */
sdb_rc sdb_db_retention(sdb_db *db, int64_t now_ns, uint32_t *dropped, sdb_err *err);

/* The catalog (read under sdb_db_lock when other threads may write). */
const sdb_catalog *sdb_db_catalog(const sdb_db *db);
const char *sdb_db_dir(const sdb_db *db);
void sdb_db_lock(sdb_db *db);
void sdb_db_unlock(sdb_db *db);

/* Declare a table (CREATE TABLE): columns after `time`, partition unit, sort key names
 * (NULL: time). SDB_ERR_EXISTS when it exists. */
sdb_rc sdb_db_create_table(sdb_db *db, const char *name, const char *const *cols,
                           const sdb_type *types, uint32_t ncols, sdb_part_unit unit,
                           const char *const *sort, uint32_t nsort, sdb_err *err);
/* DROP TABLE: removes its segments, WAL and catalog entry. */
sdb_rc sdb_db_drop_table(sdb_db *db, const char *name, sdb_err *err);

/* A consistent view of one table for a query: its schema, the published segments and the
 * memtable chunks at one instant. Every row acknowledged before the call is in exactly one
 * of them. Release with sdb_db_snapshot_release(). */
typedef struct sdb_db_snapshot {
    sdb_db *db;
    sdb_table_def *def;        /* a private copy of the schema */
    uint32_t nsegs;
    sdb_seg **segs;            /* borrowed until release */
    int64_t *seg_min_time;     /* per segment, from the manifest */
    int64_t *seg_max_time;
    uint32_t nchunks;
    const sdb_batch **chunks;  /* immutable memtable chunks, borrowed until release */
    void *priv;
} sdb_db_snapshot;

/* SDB_ERR_NOTFOUND when the table does not exist. */
sdb_rc sdb_db_snapshot_take(sdb_db *db, const char *table, sdb_db_snapshot **out, sdb_err *err);
void sdb_db_snapshot_release(sdb_db_snapshot *s);

/* Counters for `spandb inspect --data`, /metrics and tests. */
typedef struct sdb_db_stats {
    uint32_t tables;
    uint64_t segments;
    uint64_t segment_rows;
    uint64_t segment_bytes;
    uint64_t memtable_rows;
    uint64_t partitions;
} sdb_db_stats;
void sdb_db_get_stats(sdb_db *db, sdb_db_stats *st);

/* The directory-safe form of a table name (see the layout above) into out (n >= 3 * len + 1). */
void sdb_db_table_dirname(const char *name, char *out, size_t n);

#endif
