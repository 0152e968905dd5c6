/* The InfluxDB line-protocol parser: turns line-protocol text, fed in chunks of any size,
 * straight into one column batch (storage/column.h) per table, with no per-row heap
 * objects. Bad lines are rolled back and reported through a callback; the good lines of
 * the same input are kept. The accepted grammar and every decision are documented in
 * docs/line-protocol.md.
 *
 * Use:
 *     sdb_ilp_opts o = {.precision = SDB_ILP_NS, .now_ns = receive_time, .on_reject = cb};
 *     sdb_ilp *p;  SDB_TRY(sdb_ilp_create(&o, &p, err));
 *     while (more input) SDB_TRY(sdb_ilp_feed(p, chunk, n, err));   (take batches any time)
 *     SDB_TRY(sdb_ilp_finish(p, err));
 *     sdb_ilp_table *t; uint32_t nt;  SDB_TRY(sdb_ilp_take(p, &t, &nt, err));
 *     ... use t[i].name, t[i].batch ...;  sdb_ilp_tables_free(t, nt);  sdb_ilp_destroy(p);
 */
#ifndef SDB_ENGINE_ILP_H
#define SDB_ENGINE_ILP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/column.h"
#include "storage/common/error.h"
#include "storage/types.h"

typedef struct sdb_ilp sdb_ilp;

/* Unit of the timestamps in the input. */
typedef enum sdb_ilp_precision {
    SDB_ILP_NS = 0, /* default */
    SDB_ILP_US,
    SDB_ILP_MS,
    SDB_ILP_S,
} sdb_ilp_precision;

/* Default and hard bounds (0 in sdb_ilp_opts means the default). */
#define SDB_ILP_MAX_LINE_DEFAULT (1024u * 1024u) /* bytes of one line, without its LF */
#define SDB_ILP_NAME_MAX         (64u * 1024u)   /* table names, tag keys, field keys, tag values */
#define SDB_ILP_VALUE_MAX        (1024u * 1024u) /* one string field value */
#define SDB_ILP_MAX_TABLES       10000u          /* tables one parser holds */
#define SDB_ILP_MAX_COLUMNS      1000u           /* columns of one table, `time` included */

/* Called once per rejected line. line_no is the 1-based physical line where the bad line
 * starts, offset the byte offset of its first byte in the stream, reason a message like
 * "line 7: invalid integer '9999...' for field 'v': out of range" (borrowed, valid during
 * the call). The line's values are already rolled back. */
typedef void (*sdb_ilp_reject_fn)(void *ctx, uint64_t line_no, uint64_t offset, const char *reason);

/* Schema lookup, consulted the first time this parser meets a (table, column) pair (and
 * again after a take for pairs it said did not exist). Returns true and sets *type when the
 * column exists in the catalog; false when it does not. Names are NUL terminated. */
typedef bool (*sdb_ilp_resolve_fn)(void *ctx, const char *table, const char *column,
                                   sdb_type *type);

typedef struct sdb_ilp_opts {
    sdb_ilp_precision precision; /* unit of timestamps in the input */
    int64_t now_ns;              /* time given to lines without a timestamp (receive time) */
    size_t max_line;             /* longest line in bytes; 0: SDB_ILP_MAX_LINE_DEFAULT */
    uint32_t max_tables;         /* 0 or above SDB_ILP_MAX_TABLES: SDB_ILP_MAX_TABLES */
    uint32_t max_columns;        /* 0 or above SDB_ILP_MAX_COLUMNS: SDB_ILP_MAX_COLUMNS */
    sdb_ilp_reject_fn on_reject; /* may be NULL: rejected lines are only counted */
    void *reject_ctx;
    sdb_ilp_resolve_fn resolve; /* may be NULL: only the in-batch type rule applies */
    void *resolve_ctx;
} sdb_ilp_opts;

/* One table's finished rows, handed over by sdb_ilp_take(). */
typedef struct sdb_ilp_table {
    char *name;      /* owned, NUL terminated */
    sdb_batch batch; /* owned; column 0 is `time` (timestamp); every column has nrows rows */
} sdb_ilp_table;

/* Counters since creation. */
typedef struct sdb_ilp_stats {
    uint64_t lines;    /* physical lines consumed */
    uint64_t rows;     /* lines accepted */
    uint64_t rejected; /* lines rejected */
    uint64_t bytes;    /* bytes fed */
} sdb_ilp_stats;

/* Create a parser. opts may be NULL (all defaults, now_ns 0). Caller owns; free with
 * sdb_ilp_destroy(). Fails with SDB_ERR_MISUSE on a bad precision, SDB_ERR_NOMEM. */
sdb_rc sdb_ilp_create(const sdb_ilp_opts *opts, sdb_ilp **out, sdb_err *err);
/* Free the parser and every batch not taken. Accepts NULL. */
void sdb_ilp_destroy(sdb_ilp *p);
/* Set the time given to lines without a timestamp from now on (e.g. per request). */
void sdb_ilp_set_now(sdb_ilp *p, int64_t now_ns);
/* Parse the next len bytes of the stream. A line cut by the end of data is kept and
 * completed by the next call; the outcome does not depend on where the stream is cut. Bad
 * lines go to on_reject and do not fail the call. It fails only with SDB_ERR_NOMEM: the
 * line being parsed is rolled back and the batches stay consistent (they can still be
 * taken), but the rest of that chunk is lost, so end the stream. data is not kept after
 * the call. */
sdb_rc sdb_ilp_feed(sdb_ilp *p, const void *data, size_t len, sdb_err *err);
/* End of stream: parse the last line even without a newline. A later feed starts a new
 * stream (line 1, offset 0). Fails like sdb_ilp_feed(). */
sdb_rc sdb_ilp_finish(sdb_ilp *p, sdb_err *err);
/* Rows waiting in batches (accepted and not yet taken). */
uint64_t sdb_ilp_pending(const sdb_ilp *p);
/* Hand over every table with rows: *tables gets an array of *ntables entries (NULL and 0
 * when none), which the caller owns and frees with sdb_ilp_tables_free(). The parser
 * starts empty batches for those tables. Fails with SDB_ERR_NOMEM (nothing handed over). */
sdb_rc sdb_ilp_take(sdb_ilp *p, sdb_ilp_table **tables, uint32_t *ntables, sdb_err *err);
/* Free an array from sdb_ilp_take(). Accepts NULL. */
void sdb_ilp_tables_free(sdb_ilp_table *tables, uint32_t ntables);
/* Counters since creation. */
sdb_ilp_stats sdb_ilp_get_stats(const sdb_ilp *p);

#endif
