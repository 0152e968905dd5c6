/* The canonical spans schema as data. Never reorder: the generator, importers and tests
 * address columns by these positions. */
#include "engine/spans.h"

#include <string.h>

const sdb_spans_coldef sdb_spans_cols[SDB_SPANS_NCOLS] = {
    [SDB_SPANS_TIME] = {"time", SDB_TYPE_TIMESTAMP, 0},
    [SDB_SPANS_DURATION_MS] = {"duration_ms", SDB_TYPE_FLOAT64, 3},
    [SDB_SPANS_TTFT_MS] = {"ttft_ms", SDB_TYPE_FLOAT64, 3},
    [SDB_SPANS_TRACE_ID] = {"trace_id", SDB_TYPE_STRING, 0},
    [SDB_SPANS_SPAN_ID] = {"span_id", SDB_TYPE_STRING, 0},
    [SDB_SPANS_PARENT_SPAN_ID] = {"parent_span_id", SDB_TYPE_STRING, 0},
    [SDB_SPANS_NAME] = {"name", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_SPAN_KIND] = {"span_kind", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_SERVICE] = {"service", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_PROJECT] = {"project", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_MODEL] = {"model", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_PROVIDER] = {"provider", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_ENDPOINT] = {"endpoint", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_STATUS] = {"status", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_ERROR_TYPE] = {"error_type", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_INPUT_TOKENS] = {"input_tokens", SDB_TYPE_INT64, 0},
    [SDB_SPANS_OUTPUT_TOKENS] = {"output_tokens", SDB_TYPE_INT64, 0},
    [SDB_SPANS_COST_USD] = {"cost_usd", SDB_TYPE_FLOAT64, 10},
    [SDB_SPANS_RETRIES] = {"retries", SDB_TYPE_INT64, 0},
    [SDB_SPANS_PROMPT_NAME] = {"prompt_name", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_PROMPT_VERSION] = {"prompt_version", SDB_TYPE_SYMBOL, 0},
    [SDB_SPANS_SESSION_ID] = {"session_id", SDB_TYPE_STRING, 0},
    [SDB_SPANS_USER_ID] = {"user_id", SDB_TYPE_STRING, 0},
    [SDB_SPANS_HALLUCINATION] = {"hallucination", SDB_TYPE_BOOL, 0},
    [SDB_SPANS_RELEVANCE] = {"relevance", SDB_TYPE_FLOAT64, 3},
    [SDB_SPANS_FAITHFULNESS] = {"faithfulness", SDB_TYPE_FLOAT64, 3},
    [SDB_SPANS_FEEDBACK] = {"feedback", SDB_TYPE_INT64, 0},
};

int sdb_spans_find(const char *name, size_t len)
{
    for (int c = 0; c < SDB_SPANS_NCOLS; c++)
        if (strlen(sdb_spans_cols[c].name) == len && memcmp(sdb_spans_cols[c].name, name, len) == 0)
            return c;
    return -1;
}

sdb_rc sdb_spans_batch_prepare(sdb_batch *b, int idx[SDB_SPANS_NCOLS], sdb_err *err)
{
    for (int c = 0; c < SDB_SPANS_NCOLS; c++) {
        const sdb_spans_coldef *d = &sdb_spans_cols[c];
        size_t len = strlen(d->name);
        int i = sdb_batch_find(b, d->name, len);
        if (i < 0) {
            SDB_TRY(sdb_batch_add(b, d->name, len, d->type, &i, err));
        } else if (b->cols[i].type != d->type) {
            return SDB_FAIL(err, SDB_ERR_SCHEMA,
                            "table %s: column '%s' is %s in the batch but %s in the canonical schema",
                            SDB_SPANS_TABLE, d->name, sdb_type_name(b->cols[i].type),
                            sdb_type_name(d->type));
        }
        idx[c] = i;
    }
    return SDB_OK;
}
