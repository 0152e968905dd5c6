/* Bulk import of exported traces (docs/import.md): OTLP/JSON, Langfuse, LangSmith (and the
 * formats still to come) into table `spans` (the canonical columns of engine/spans.h plus
 * `attr_*` columns for other scalar attributes) and table `scores`. An import streams: feed
 * it the decompressed bytes of one file at a time (engine/input.h) and it writes batches with
 * sdb_db_write as they fill. Each bad record is reported to on_reject with its line and
 * skipped. Spans whose span_id the table already holds, or that came earlier in the import,
 * are skipped when dedup is on. Spans without a cost get one from the price table.
 *
 * Line-protocol files are not handled here (engine/ingest.h); sdb_import_detect says which
 * format a file is. */
#ifndef SDB_ENGINE_IMPORT_H
#define SDB_ENGINE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/db.h"
#include "engine/prices.h"

#define SDB_SCORES_TABLE "scores"

typedef enum sdb_import_format {
    SDB_IMPORT_AUTO,
    SDB_IMPORT_ILP,
    SDB_IMPORT_OTLP_JSON,
    SDB_IMPORT_LANGFUSE,
    SDB_IMPORT_LANGSMITH,
    SDB_IMPORT_PHOENIX,
    SDB_IMPORT_CSV,
} sdb_import_format;

/* "auto", "ilp", "otlp-json", "langfuse", "langsmith", "phoenix", "csv". */
const char *sdb_import_format_name(sdb_import_format f);
/* false when name is none of them. */
bool sdb_import_format_parse(const char *name, sdb_import_format *f);
/* The format of a file from its name (without .zst/.lz4) and its first decompressed bytes:
 * JSON content is told apart by its keys (resourceSpans; trace + observations; post/patch or
 * run_type; context.span_id / span_kind), .csv / .tsv by its header, anything else is ILP. */
sdb_import_format sdb_import_detect(const char *name, const void *head, size_t len);

/* Whether a file of format f whose first decompressed bytes are head holds evaluation rows
 * (Phoenix annotation / evaluation exports: the first record, or the CSV header, has no
 * start_time but a label, score or annotation name). `spandb import` reads such files before
 * the others, so a `hallucination` verdict reaches its span whatever the order of the files
 * on the command line. */
bool sdb_import_holds_evaluations(sdb_import_format f, const void *head, size_t len);

/* A bad record: line (1-based) and why. */
typedef void (*sdb_import_reject_fn)(void *ctx, uint64_t line, const char *reason);

typedef struct sdb_import_opts {
    sdb_prices *prices;        /* cost table (NULL: no cost computed); borrowed */
    bool dedup;                /* skip spans whose span_id is already imported */
    const char *table;         /* span table (NULL: "spans") */
    uint64_t batch_rows;       /* write every this many rows (0: 65536) */
    size_t max_record;         /* bytes one JSON record may take in memory (0: 256 MiB) */
    const char *schema;        /* CSV column types "name:type,..." (NULL: inferred) */
    sdb_import_reject_fn on_reject;
    void *reject_ctx;
} sdb_import_opts;

typedef struct sdb_import_stats {
    uint64_t spans;       /* span rows written */
    uint64_t scores;      /* score rows written */
    uint64_t rejected;    /* bad records */
    uint64_t duplicates;  /* spans skipped as already imported */
    uint64_t costed;      /* spans whose cost came from the price table */
    uint64_t bytes;       /* input bytes fed */
} sdb_import_stats;

typedef struct sdb_import sdb_import;

/* With dedup on, spans are checked against the span_ids the table holds, read an hour at a
 * time as imported spans reach that hour. db may be NULL: rows are
 * then parsed, mapped, counted and dropped (fuzzing, parser benchmarks). */
sdb_rc sdb_import_create(sdb_db *db, const sdb_import_opts *o, sdb_import **out, sdb_err *err);
/* Rows not yet written are dropped. */
void sdb_import_destroy(sdb_import *im);
/* Start a file of format f (not AUTO or ILP). */
sdb_rc sdb_import_begin(sdb_import *im, sdb_import_format f, sdb_err *err);
sdb_rc sdb_import_feed(sdb_import *im, const void *data, size_t len, sdb_err *err);
/* End the file: parse what is left and write every pending row. */
sdb_rc sdb_import_end(sdb_import *im, sdb_err *err);
/* Throw away rows parsed but not written (--strict after a bad record). */
void sdb_import_discard(sdb_import *im);
sdb_import_stats sdb_import_get_stats(const sdb_import *im);
/* Change the context on_reject gets (one per file). */
void sdb_import_set_reject_ctx(sdb_import *im, void *ctx);

#endif
