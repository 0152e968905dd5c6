/* Memtables: the rows of one table that are acknowledged but not yet in a segment, per
 * partition, as a list of chunks of at most SDB_BLOCK_ROWS rows. Only the last chunk of a
 * partition grows, and only while nobody else holds it: a snapshot (sdb_memtable_snapshot)
 * takes a reference to every chunk, which seals them, so queries read chunks in place and
 * never block ingest. The memtable does no locking: its owner (engine/db.c) holds the
 * table's lock around every call. */
#ifndef SDB_ENGINE_MEMTABLE_H
#define SDB_ENGINE_MEMTABLE_H

#include <stdint.h>

#include "engine/catalog.h"
#include "storage/column.h"
#include "storage/common/error.h"
#include "storage/manifest.h"

/* An immutable (once sealed) piece of a partition. Reference counted so that a query can
 * keep reading it after a flush has published its rows. */
typedef struct sdb_memchunk {
    sdb_batch b;
    int refs;     /* guarded by the owner's lock; see sdb_memchunk_unref */
} sdb_memchunk;

typedef struct sdb_mempart {
    int64_t start;       /* partition start, ns */
    sdb_memchunk **chunks;  /* the last one grows, the others are sealed */
    uint32_t nchunks;
    uint32_t cap;
    uint64_t rows;
} sdb_mempart;

typedef struct sdb_memtable {
    sdb_part_unit unit;
    sdb_mempart *parts;
    uint32_t nparts;
    uint32_t cap;
    uint64_t rows;       /* over all partitions */
    uint64_t bytes;      /* approximate memory of the values held */
    int64_t first_insert_ns; /* monotonic time of the oldest row held (0 when empty) */
} sdb_memtable;

void sdb_memtable_init(sdb_memtable *m, sdb_part_unit unit);
void sdb_memtable_free(sdb_memtable *m);

/* Add the rows of b, whose column `time` (required, non-NULL) decides each row's partition.
 * Chunks hold every column of def with def's types (so int64 values of a float64 column are
 * widened). SDB_ERR_SCHEMA when b has no usable time column or a column's type conflicts. */
sdb_rc sdb_memtable_insert(sdb_memtable *m, const sdb_batch *b, const sdb_table_def *def,
                           sdb_err *err);

/* Like sdb_memtable_insert, but takes b's memory over when it can (all rows in one
 * partition, column types equal to def's): b then becomes a chunk and is left empty. It
 * copies otherwise, and b is left unchanged. */
sdb_rc sdb_memtable_insert_owned(sdb_memtable *m, sdb_batch *b, const sdb_table_def *def,
                                 sdb_err *err);

/* Approximate bytes of b's values (what holding it costs a memtable). */
uint64_t sdb_batch_bytes(const sdb_batch *b);
/* Monotonic nanoseconds (the clock of first_insert_ns). */
int64_t sdb_mono_ns(void);

/* Move every partition out into parts and nparts (caller owns: free each part's chunks with
 * sdb_memchunk_unref and the arrays with free), leaving the memtable empty. */
void sdb_memtable_take(sdb_memtable *m, sdb_mempart **parts, uint32_t *nparts);

/* References to every chunk, with the growing chunk of each partition sealed first (so the
 * snapshot is immutable). Caller owns *out (free) and one reference to each chunk. */
sdb_rc sdb_memtable_snapshot(sdb_memtable *m, sdb_memchunk ***out, uint32_t *n, sdb_err *err);

sdb_memchunk *sdb_memchunk_ref(sdb_memchunk *c);
/* Drop a reference; frees the chunk at zero. The caller must hold the lock that guards the
 * memtable the chunk came from (refs are plain ints). */
void sdb_memchunk_unref(sdb_memchunk *c);

#endif
