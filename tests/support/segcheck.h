/* Test helpers for segments: compare every block of an open segment with the batch it was
 * written from, and build batches of random data. */
#ifndef SDB_TESTS_SEGCHECK_H
#define SDB_TESTS_SEGCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/column.h"
#include "storage/segment.h"

/* SDB_OK when every column of batch reads back identically (values bit-exact, NULLs in the
 * same places, rows in perm order when perm is given); otherwise the first read error, or
 * SDB_ERR_CORRUPT with a message naming the first difference. */
sdb_rc segcheck_compare(const sdb_seg *s, const sdb_batch *batch, const uint32_t *perm,
                        sdb_err *err);

/* xorshift64* */
uint64_t segcheck_rand(uint64_t *state);

#endif
