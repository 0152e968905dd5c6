/* sdb_gen: a deterministic generator of realistic LLM spans in the canonical `spans` schema
 * (engine/spans.h), and writers that format a batch of them as InfluxDB line protocol, CSV
 * or OTLP/JSON. The same seed and options give the same rows however they are chunked.
 * docs/gen.md describes the distributions. gen.c generates; gen_write.c formats. */
#ifndef SDB_ENGINE_GEN_H
#define SDB_ENGINE_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/column.h"
#include "storage/common/buf.h"
#include "storage/common/error.h"

typedef struct sdb_gen sdb_gen;

#define SDB_GEN_DAYS_MAX 36600u /* a century */
#define SDB_GEN_DEFAULT_START_NS 1767225600000000000LL /* 2026-01-01T00:00:00Z */

typedef struct sdb_gen_opts {
    uint64_t rows;    /* spans to generate in total */
    uint64_t seed;    /* any value; the same seed gives the same spans */
    int64_t start_ns; /* start of the time range, ns since the Unix epoch (UTC) */
    uint32_t days;    /* length of the time range: 1..SDB_GEN_DAYS_MAX days */
} sdb_gen_opts;

/* One model the generator uses, with its list price. Prices are integers in units of
 * 1e-10 USD per token, so cost_usd = (input_tokens * price_in + output_tokens * price_out)
 * / 1e10 exactly (an integer count of 1e-10 USD, printed with 10 decimals). */
typedef struct sdb_gen_model {
    const char *name;     /* model name as sent to the provider */
    const char *provider; /* OTel gen_ai.provider.name value */
    int64_t price_in;     /* 1e-10 USD per input token */
    int64_t price_out;    /* 1e-10 USD per output token (0 for embeddings) */
    bool embedding;       /* an embedding model (span_kind embedding, output_tokens 0) */
} sdb_gen_model;

/* Defaults: 0 rows, seed 1, start 2026-01-01T00:00:00Z, 1 day. */
void sdb_gen_opts_default(sdb_gen_opts *o);

/* A generator for opts. Caller owns *out; free with sdb_gen_destroy(). Fails with
 * SDB_ERR_MISUSE on days outside 1..SDB_GEN_DAYS_MAX, SDB_ERR_NOMEM. */
sdb_rc sdb_gen_create(const sdb_gen_opts *opts, sdb_gen **out, sdb_err *err);
/* Accepts NULL. */
void sdb_gen_destroy(sdb_gen *g);

/* Append the next min(nrows, remaining) spans to out, in time order (ties: parents before
 * children). Columns of the canonical schema that out lacks are added; other columns of out
 * are padded with NULL. Returns the count appended in *added (may be NULL); 0 once all rows
 * are out. Fails with SDB_ERR_SCHEMA when out has a canonical column of another type,
 * SDB_ERR_NOMEM. */
sdb_rc sdb_gen_next(sdb_gen *g, uint64_t nrows, sdb_batch *out, uint64_t *added, sdb_err *err);
/* Rows not yet handed out. */
uint64_t sdb_gen_remaining(const sdb_gen *g);

/* The models the generator draws from (chat models first, then embeddings); borrowed. */
const sdb_gen_model *sdb_gen_models(size_t *count);
/* The model named name, or NULL. */
const sdb_gen_model *sdb_gen_model_find(const char *name, size_t len);

/* Write ns as YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ (30 bytes, years 0..9999) plus a NUL into
 * out; returns the length (30), or 0 when the year is out of range. */
size_t sdb_gen_format_time(int64_t ns, char out[32]);

/* Writers (gen_write.c). Each appends the rows of b as text to out. They accept any batch:
 * symbol columns are tags (ILP), `time` is the timestamp, other columns are fields; canonical
 * float columns print with at most their decimals when the value is a whole number of them,
 * any other double prints as the shortest decimal that reads back to the same double. */

/* InfluxDB line protocol, one line per row: `spans,<tags> <fields> <ns>`; NULLs omitted.
 * Fails with SDB_ERR_MISUSE on a row without any field value or on a non-finite float,
 * SDB_ERR_NOMEM. */
sdb_rc sdb_gen_write_ilp(const sdb_batch *b, sdb_buf *out, sdb_err *err);
/* The CSV header row: the column names of b, comma separated. */
sdb_rc sdb_gen_write_csv_header(const sdb_batch *b, sdb_buf *out, sdb_err *err);
/* CSV rows (RFC 4180 quoting, empty cell = NULL, an empty string is ""), time as
 * 2026-01-01T00:00:00.123456789Z, bools true/false. */
sdb_rc sdb_gen_write_csv(const sdb_batch *b, sdb_buf *out, sdb_err *err);
/* One line `{"resourceSpans":[...]}` holding all rows of b, grouped into one resource per
 * (service, project), in the OTLP/JSON encoding of the collector file exporter. Needs the
 * columns time, trace_id and span_id (SDB_ERR_SCHEMA otherwise). An empty batch writes
 * nothing. */
sdb_rc sdb_gen_write_otlp_json(const sdb_batch *b, sdb_buf *out, sdb_err *err);

#endif
