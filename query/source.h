/* sdb_table_snap: what one query reads of one table. The schema (names and types of the
 * columns as the table has them now), the open segments, and immutable in-memory batches
 * (memtable snapshots). A segment may lack columns that were added after it was written, and
 * a batch may lack columns too: those read as NULL. The snapshot only borrows everything; the
 * caller keeps segments and batches alive and unchanged until the query has finished. */
#ifndef SDB_QUERY_SOURCE_H
#define SDB_QUERY_SOURCE_H

#include <stdint.h>

#include "storage/column.h"
#include "storage/segment.h"
#include "storage/types.h"

typedef struct sdb_table_snap {
    const char *table;             /* for messages */
    uint32_t ncols;
    const char *const *names;      /* ncols column names */
    const sdb_type *types;         /* ncols column types */
    uint32_t nsegs;
    sdb_seg *const *segs;          /* nsegs open segments */
    uint32_t nmems;
    const sdb_batch *const *mems;  /* nmems memtable snapshots */
} sdb_table_snap;

#endif
