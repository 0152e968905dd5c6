/* Streaming input for imports: a plain file, a .zst or .lz4 file (detected by magic bytes,
 * whatever the name), or standard input ("-"), read in chunks of decompressed bytes. Never
 * holds more than one chunk of the file in memory. */
#ifndef SDB_ENGINE_INPUT_H
#define SDB_ENGINE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

typedef struct sdb_input sdb_input;

/* Open path ("-" for standard input). Caller owns; close with sdb_input_close(). */
sdb_rc sdb_input_open(const char *path, sdb_input **out, sdb_err *err);
void sdb_input_close(sdb_input *in);
/* Up to cap decompressed bytes into buf; *got = 0 at the end. A corrupt compressed stream is
 * SDB_ERR_CORRUPT naming the file. */
sdb_rc sdb_input_read(sdb_input *in, void *buf, size_t cap, size_t *got, sdb_err *err);
/* Size of the file on disk (0 when unknown, e.g. a pipe) and bytes of it consumed so far:
 * for progress. */
uint64_t sdb_input_size(const sdb_input *in);
uint64_t sdb_input_consumed(const sdb_input *in);
/* "plain", "zstd" or "lz4". */
const char *sdb_input_kind(const sdb_input *in);

#endif
