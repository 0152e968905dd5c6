/* The canonical LLM span table `spans` (docs: DESIGN.md "The canonical LLM span table"):
 * its columns in order with their types, shared by the generator, the importers and the
 * CREATE TABLE defaults. Floats that spandb itself produces carry a fixed number of
 * decimals (duration in microseconds, cost in 1e-10 USD) so text output is exact. */
#ifndef SDB_ENGINE_SPANS_H
#define SDB_ENGINE_SPANS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/column.h"
#include "storage/common/error.h"
#include "storage/types.h"

#define SDB_SPANS_TABLE "spans"

/* Column positions in the canonical order (the order of sdb_spans_cols). */
typedef enum sdb_spans_col {
    SDB_SPANS_TIME,
    SDB_SPANS_DURATION_MS,
    SDB_SPANS_TTFT_MS,
    SDB_SPANS_TRACE_ID,
    SDB_SPANS_SPAN_ID,
    SDB_SPANS_PARENT_SPAN_ID,
    SDB_SPANS_NAME,
    SDB_SPANS_SPAN_KIND,
    SDB_SPANS_SERVICE,
    SDB_SPANS_PROJECT,
    SDB_SPANS_MODEL,
    SDB_SPANS_PROVIDER,
    SDB_SPANS_ENDPOINT,
    SDB_SPANS_STATUS,
    SDB_SPANS_ERROR_TYPE,
    SDB_SPANS_INPUT_TOKENS,
    SDB_SPANS_OUTPUT_TOKENS,
    SDB_SPANS_COST_USD,
    SDB_SPANS_RETRIES,
    SDB_SPANS_PROMPT_NAME,
    SDB_SPANS_PROMPT_VERSION,
    SDB_SPANS_SESSION_ID,
    SDB_SPANS_USER_ID,
    SDB_SPANS_HALLUCINATION,
    SDB_SPANS_RELEVANCE,
    SDB_SPANS_FAITHFULNESS,
    SDB_SPANS_FEEDBACK,
    SDB_SPANS_NCOLS /* 27 */
} sdb_spans_col;

typedef struct sdb_spans_coldef {
    const char *name; /* column name, lower case */
    sdb_type type;    /* its type */
    int decimals;     /* FLOAT64: decimals spandb rounds generated values to; else 0 */
} sdb_spans_coldef;

/* The SDB_SPANS_NCOLS columns in canonical order. */
extern const sdb_spans_coldef sdb_spans_cols[SDB_SPANS_NCOLS];

/* Position of the canonical column named name[0..len), or -1 when it is not one. */
int sdb_spans_find(const char *name, size_t len);

/* Give batch b every canonical column it lacks (in canonical order, NULL-padded to its rows)
 * and store in idx[c] the batch column of canonical column c. Fails with SDB_ERR_SCHEMA when
 * b has a canonical column of another type (naming column and both types), SDB_ERR_NOMEM. */
sdb_rc sdb_spans_batch_prepare(sdb_batch *b, int idx[SDB_SPANS_NCOLS], sdb_err *err);

#endif
