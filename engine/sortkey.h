/* Row order of segments: the permutation that sorts a batch by a table's sort key (NULLs
 * first, symbols and strings bytewise, floats by value with NaN last, ties kept in arrival
 * order). */
#ifndef SDB_ENGINE_SORTKEY_H
#define SDB_ENGINE_SORTKEY_H

#include <stdint.h>

#include "engine/catalog.h"
#include "storage/column.h"

/* perm gets b->nrows row numbers in sort order. Key columns b lacks are ignored. */
sdb_rc sdb_sort_perm(const sdb_batch *b, const sdb_table_def *def, uint32_t *perm, sdb_err *err);

#endif
