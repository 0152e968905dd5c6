/* Writing result sets for people and programs: an aligned table, CSV, TSV, JSON and JSON
 * lines. Shared by `spandb query`, the shell and the servers, so every interface prints
 * values the same way (timestamps as ISO-8601 UTC, floats as the shortest text that reads
 * back to the same double, NULL as NULL / empty / null). */
#ifndef SDB_ENGINE_RESULT_FMT_H
#define SDB_ENGINE_RESULT_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "query/exec.h"
#include "storage/common/buf.h"

typedef enum sdb_fmt {
    SDB_FMT_TABLE,
    SDB_FMT_CSV,
    SDB_FMT_TSV,
    SDB_FMT_JSON,  /* {"columns":[[name,type],...],"rows":[[...],...]} */
    SDB_FMT_JSONL, /* one {"name":value,...} object per row */
} sdb_fmt;

/* "table", "csv", "tsv", "json", "jsonl". */
bool sdb_fmt_parse(const char *s, sdb_fmt *out);
/* Append r in format f to out. */
sdb_rc sdb_result_format(const sdb_result *r, sdb_fmt f, sdb_buf *out, sdb_err *err);
/* Append one value as text (NULL as "NULL") / as JSON (null, numbers, "strings"). */
sdb_rc sdb_value_text(const sdb_value *v, sdb_buf *out, sdb_err *err);
sdb_rc sdb_value_json(const sdb_value *v, sdb_buf *out, sdb_err *err);
/* Append s as a JSON string literal (quotes included; invalid UTF-8 replaced by U+FFFD). */
sdb_rc sdb_json_string(const char *s, size_t n, sdb_buf *out, sdb_err *err);

#endif
