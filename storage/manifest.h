/* The manifest: the list of published segments of a data directory, one file (DIR/MANIFEST)
 * replaced atomically (storage/fileio.h sdb_file_write_atomic), so a crash leaves the old or
 * the new list and never a mix. A segment exists for readers once it is in the manifest.
 * Each save bumps a generation number. Byte layout: docs/wal-format.md. */
#ifndef SDB_STORAGE_MANIFEST_H
#define SDB_STORAGE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "storage/common/buf.h"
#include "storage/common/error.h"

/* Name of the manifest file inside the data directory. */
#define SDB_MANIFEST_FILE "MANIFEST"
/* Bounds checked on add and on load. */
#define SDB_MANIFEST_TABLE_MAX   4096u      /* bytes of a table name */
#define SDB_MANIFEST_FILE_MAX    255u       /* bytes of a segment file name */
#define SDB_MANIFEST_MAX_ENTRIES (1u << 24) /* segments */
#define SDB_MANIFEST_MAX_BYTES   (1u << 30) /* size of the manifest file */

/* Partition width of a table. Stored in the manifest: never renumber. */
typedef enum sdb_part_unit {
    SDB_PART_HOUR = 1,
    SDB_PART_DAY = 2,
    SDB_PART_MONTH = 3,
} sdb_part_unit;

/* "hour", "day", "month"; "?" for anything else. */
const char *sdb_part_unit_name(sdb_part_unit u);

typedef struct sdb_manifest_entry {
    const char *table;    /* table name, 1..SDB_MANIFEST_TABLE_MAX bytes, no NUL */
    const char *file;     /* segment file name relative to the table directory: no '/',
                             not "." or "..", 1..SDB_MANIFEST_FILE_MAX bytes */
    int64_t part_start;   /* start of the partition, ns since the epoch (UTC) */
    sdb_part_unit unit;   /* partition width */
    uint64_t rows;        /* rows in the segment */
    int64_t min_time;     /* smallest `time` in the segment (ns) */
    int64_t max_time;     /* largest `time` (ns); >= min_time when rows > 0 */
    uint64_t max_wal_seq; /* highest WAL sequence number whose rows the segment holds (0: none,
                             e.g. a bulk import); WAL records <= it may be retired */
    uint64_t bytes;       /* size of the segment file */
    uint32_t level;       /* 0 = flushed from a memtable, 1+ = compacted; <= 255 */
} sdb_manifest_entry;

typedef struct sdb_manifest sdb_manifest;

/* An empty manifest (generation 0). Caller owns; free with sdb_manifest_destroy(). NULL when
 * out of memory. */
sdb_manifest *sdb_manifest_create(void);
/* Accepts NULL. */
void sdb_manifest_destroy(sdb_manifest *m);
/* A deep copy, for building the next version while readers use the current one. */
sdb_rc sdb_manifest_copy(const sdb_manifest *m, sdb_manifest **out, sdb_err *err);

/* Load DIR/MANIFEST. Caller owns *m. SDB_ERR_NOTFOUND when there is none (a new data
 * directory); SDB_ERR_CORRUPT naming the file and what is wrong when its checksum or any
 * field is bad. */
sdb_rc sdb_manifest_load(const char *dir, sdb_manifest **m, sdb_err *err);
/* Write m to DIR/MANIFEST atomically with generation + 1; on success m carries the new
 * generation. */
sdb_rc sdb_manifest_save(sdb_manifest *m, const char *dir, sdb_err *err);

/* The file image of m (appended to out), with m's current generation. */
sdb_rc sdb_manifest_encode(const sdb_manifest *m, sdb_buf *out, sdb_err *err);
/* Parse a file image; name is used in messages. Hostile bytes give SDB_ERR_CORRUPT. */
sdb_rc sdb_manifest_decode(const void *data, size_t len, const char *name, sdb_manifest **m,
                           sdb_err *err);

/* Add a copy of e. SDB_ERR_EXISTS when a segment of that table and file name is listed;
 * SDB_ERR_MISUSE when a field is out of range (the message names it). */
sdb_rc sdb_manifest_add(sdb_manifest *m, const sdb_manifest_entry *e, sdb_err *err);
/* Remove the entry of table/file. SDB_ERR_NOTFOUND when absent. */
sdb_rc sdb_manifest_remove(sdb_manifest *m, const char *table, const char *file, sdb_err *err);

uint64_t sdb_manifest_generation(const sdb_manifest *m);
uint32_t sdb_manifest_count(const sdb_manifest *m);
/* Entry i (< count), borrowed until the next add or remove. Order: order of addition. */
const sdb_manifest_entry *sdb_manifest_get(const sdb_manifest *m, uint32_t i);
/* Highest max_wal_seq over the segments of table (0 when none): replay starts after it. */
uint64_t sdb_manifest_max_wal_seq(const sdb_manifest *m, const char *table);

#endif
