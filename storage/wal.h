/* The write-ahead log of one table: a directory of numbered files, each a header and a
 * sequence of records (one serialized batch each, with a sequence number and an XXH3
 * checksum). A batch is appended before it is acknowledged; sdb_wal_commit waits until it
 * is durable per the sync mode; start-up replays what the segments do not yet hold; a torn
 * or corrupt tail is cut off at the last good record. Layout: docs/wal-format.md. */
#ifndef SDB_STORAGE_WAL_H
#define SDB_STORAGE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/column.h"
#include "storage/common/buf.h"
#include "storage/common/error.h"

typedef enum sdb_sync_mode {
    SDB_SYNC_ALWAYS = 0, /* every commit fsyncs before it returns */
    SDB_SYNC_BATCH = 1,  /* group commit: one fsync covers many commits, at most one per interval */
    SDB_SYNC_NONE = 2,   /* never fsync: the OS writes back when it likes */
} sdb_sync_mode;

/* Largest record payload (a serialized batch). */
#define SDB_WAL_RECORD_MAX (256u * 1024u * 1024u)
/* Default size at which the log rolls to a new file. */
#define SDB_WAL_FILE_LIMIT (64u * 1024u * 1024u)
/* Default group-commit interval of SDB_SYNC_BATCH. */
#define SDB_WAL_BATCH_INTERVAL_MS 100u

typedef struct sdb_wal sdb_wal;

typedef struct sdb_wal_opts {
    sdb_sync_mode mode;   /* durability of sdb_wal_commit */
    uint64_t file_limit;  /* roll to a new file past this many bytes (0: SDB_WAL_FILE_LIMIT) */
    uint32_t interval_ms; /* SDB_SYNC_BATCH: least time between fsyncs (0: default 100) */
    uint64_t start_seq;   /* first sequence number when the log is empty (0: 1); set it to
                             the manifest's max WAL seq + 1 so numbers never go back */
} sdb_wal_opts;

/* "always", "batch", "none". */
const char *sdb_sync_mode_name(sdb_sync_mode m);
/* Parse "always", "batch" or "none"; false for anything else. */
bool sdb_sync_mode_parse(const char *s, sdb_sync_mode *m);

/* Open (creating dir when missing) the log in dir for appending with default options and the
 * given mode. Call sdb_wal_replay first: open only repairs the tail of the newest file.
 * The caller must hold the data directory lock. Caller owns *wal; free with sdb_wal_close. */
sdb_rc sdb_wal_open(const char *dir, sdb_sync_mode mode, sdb_wal **wal, sdb_err *err);
/* Like sdb_wal_open with explicit options (opts may be NULL for the defaults). */
sdb_rc sdb_wal_open_opts(const char *dir, const sdb_wal_opts *opts, sdb_wal **wal, sdb_err *err);
/* Flush (per the mode: ALWAYS and BATCH fsync what was appended) and close. Accepts NULL.
 * Returns the error of the final fsync, if any; the log is freed in every case. */
sdb_rc sdb_wal_close(sdb_wal *wal, sdb_err *err);

/* Append batch b of table `table` as one record and return its sequence number in *seq.
 * Does not wait for the disk: call sdb_wal_commit(seq) before acknowledging. Thread-safe.
 * Fails with SDB_ERR_LIMIT when the record would exceed SDB_WAL_RECORD_MAX, SDB_ERR_IO when
 * a write fails; after an fsync or write failure every later call fails (the log must be
 * reopened and replayed, as PostgreSQL does after a failed fsync). */
sdb_rc sdb_wal_append(sdb_wal *wal, const sdb_batch *b, const char *table, uint64_t *seq,
                      sdb_err *err);
/* Return once record seq is durable per the mode: ALWAYS fsyncs now (concurrent callers may
 * share it); BATCH joins a group commit (one fsync at most every interval covers every record
 * appended before it started) and waits for it; NONE returns at once. Thread-safe. */
sdb_rc sdb_wal_commit(sdb_wal *wal, uint64_t seq, sdb_err *err);
/* Delete every WAL file all of whose records are <= upto_seq (published in segments). The
 * file being appended to is kept. */
sdb_rc sdb_wal_retire(sdb_wal *wal, uint64_t upto_seq, sdb_err *err);

/* The sequence number of the last appended record (0 when none), and of the last record
 * known durable. */
uint64_t sdb_wal_last_seq(sdb_wal *wal);
uint64_t sdb_wal_durable_seq(sdb_wal *wal);
/* Number of files in the log (for tests and `spandb inspect`). */
uint32_t sdb_wal_file_count(sdb_wal *wal);
/* fsyncs of WAL files done since open (commits and rolls): how well group commit batches. */
uint64_t sdb_wal_sync_count(sdb_wal *wal);

/* Called for each replayed record; b and table are borrowed for the call. A non-OK return
 * stops the replay and is returned by it. */
typedef sdb_rc (*sdb_wal_replay_fn)(void *ctx, uint64_t seq, const char *table, const sdb_batch *b,
                                    sdb_err *err);

typedef struct sdb_wal_report {
    uint32_t files;         /* WAL files read */
    uint64_t records;       /* valid records read (including those <= from_seq) */
    uint64_t replayed;      /* records passed to the callback (seq > from_seq) */
    uint64_t last_seq;      /* sequence number of the last good record (0 when none) */
    bool damaged;           /* a torn or corrupt record was found and everything from it on
                               was cut off */
    bool mid_log;           /* the damage was followed by valid records (not a torn tail):
                               they were dropped too, see reason */
    uint64_t bytes_dropped; /* bytes cut off (truncated and deleted) */
    uint32_t files_dropped; /* whole files deleted after the damage */
    uint32_t seq_gaps;      /* places where a file starts past the previous file's end */
    char reason[400];       /* what was wrong and where, empty when not damaged */
} sdb_wal_report;

/* Replay the log in dir in order, calling fn for every record with seq > from_seq. Damage
 * (a short header or payload, bad magic, bad checksum, a sequence number out of order) is
 * never fatal: the log is cut at the last good record before it (the file truncated there,
 * later files deleted), as is standard for a WAL, and the report says what was lost. A
 * record whose checksum holds but whose batch does not decode is SDB_ERR_CORRUPT (a bug or
 * an unsupported version; nothing is cut). A missing dir is an empty log. The caller must
 * hold the data directory lock (replay modifies the log). */
sdb_rc sdb_wal_replay(const char *dir, sdb_wal_replay_fn fn, void *ctx, uint64_t from_seq,
                      sdb_wal_report *report, sdb_err *err);
/* Like sdb_wal_replay but read-only: stops at damage without repairing it. */
sdb_rc sdb_wal_scan(const char *dir, sdb_wal_replay_fn fn, void *ctx, uint64_t from_seq,
                    sdb_wal_report *report, sdb_err *err);
/* Replay one WAL file image held in memory (header included), without repairing anything;
 * `name` is used in messages. Used by the fuzz harness and `spandb inspect`. */
sdb_rc sdb_wal_replay_mem(const void *data, size_t len, const char *name, sdb_wal_replay_fn fn,
                          void *ctx, uint64_t from_seq, sdb_wal_report *report, sdb_err *err);

/* Build, in out, a WAL file image starting at first_seq that holds one record per payload
 * (already serialized batches): for tests and the fuzz harness. */
sdb_rc sdb_wal_build_image(uint64_t first_seq, const void *const *payloads, const size_t *lens,
                           size_t n, sdb_buf *out, sdb_err *err);

#endif
