/* Serialization of one sdb_batch and its table name into bytes and back: the payload of a
 * WAL record. Symbols travel as strings (their codes are local to the batch), every column
 * keeps its validity, and the body is LZ4-compressed when that saves at least an eighth.
 * The byte layout is in docs/wal-format.md. Decoding treats the bytes as hostile. */
#ifndef SDB_STORAGE_BATCH_IO_H
#define SDB_STORAGE_BATCH_IO_H

#include <stddef.h>
#include <stdint.h>

#include "storage/column.h"
#include "storage/common/buf.h"
#include "storage/common/error.h"

/* Largest serialized batch (envelope + stored body) and largest decoded body. */
#define SDB_BATCH_IO_MAX (256u * 1024u * 1024u)
/* Most columns in one serialized batch. */
#define SDB_BATCH_IO_MAX_COLS 65536u
/* Most rows in one serialized batch. */
#define SDB_BATCH_IO_MAX_ROWS (1ull << 28)
/* Longest table name. */
#define SDB_TABLE_NAME_MAX 4096u

/* Append the serialization of batch b of table `table` to out. Columns shorter than
 * b->nrows are an SDB_ERR_MISUSE; a result past SDB_BATCH_IO_MAX is SDB_ERR_LIMIT. */
sdb_rc sdb_batch_serialize(const sdb_batch *b, const char *table, sdb_buf *out, sdb_err *err);

/* Decode n bytes at p into *b (initialized here; caller frees with sdb_batch_free, also after
 * a failure) and the table name into *table (caller frees with free(); NULL on failure).
 * Any inconsistency is SDB_ERR_CORRUPT with a message saying what and where; the decoder
 * never reads outside [p, p+n) and allocates in proportion to n. */
sdb_rc sdb_batch_deserialize(const void *p, size_t n, sdb_batch *b, char **table, sdb_err *err);

#endif
