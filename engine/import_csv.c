/* CSV import (docs/import.md "CSV"): RFC 4180 records (quoted fields with "" escapes and
 * line breaks, CRLF or LF), streamed. The header names the columns. A header with Phoenix
 * DataFrame columns (context.span_id) or Langfuse export columns (startTime + traceId, or
 * dataType) sends each row, as an object of strings, to that format's mapping. Any other CSV
 * is generic: rows go to the span table (or --table) with the column types of --schema, of
 * the canonical schema, or inferred from the first rows (INT64, FLOAT64, BOOL, TIMESTAMP
 * for ISO-8601 text, else STRING); empty cells are NULL. A generic CSV needs a `time`
 * column (ISO-8601 or integer nanoseconds). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/import_int.h"
#include "storage/common/timefmt.h"

#define INFER_ROWS 100          /* rows buffered to infer the column types */
#define MAX_FIELDS 4096u

typedef enum csv_kind { CSV_GENERIC, CSV_PHOENIX, CSV_LANGFUSE } csv_kind;

struct sdb_csv {
    sdb_import *im;
    size_t max_record;
    /* tokenizer */
    sdb_buf field;              /* bytes of the current record's fields, back to back */
    size_t *ends;               /* end offset of each field in `field` */
    uint32_t nfields, cap_fields;
    bool in_quotes, after_quote, field_started, overflow;
    bool cr;                    /* last byte was CR outside quotes */
    uint64_t line, rec_line;    /* current line; line the record started on */
    bool rec_open;              /* a record has bytes */
    /* header */
    bool have_header;
    char **names;
    uint32_t ncols;
    csv_kind kind;
    /* generic */
    sdb_type *types;
    bool typed;
    int time_col;
    char **pending;             /* buffered rows (fields joined by NUL) until typed */
    size_t *pending_len;
    uint64_t *pending_line;
    uint32_t npending;
    sdb_batch b;
    int *bcol;                  /* header column -> batch column */
    uint64_t rows;
};

/* ---- helpers ---- */

static bool parse_type(const char *s, sdb_type *t)
{
    static const struct {
        const char *n;
        sdb_type t;
    } names[] = {{"int", SDB_TYPE_INT64}, {"int64", SDB_TYPE_INT64},
                 {"float", SDB_TYPE_FLOAT64}, {"float64", SDB_TYPE_FLOAT64},
                 {"double", SDB_TYPE_FLOAT64}, {"bool", SDB_TYPE_BOOL},
                 {"timestamp", SDB_TYPE_TIMESTAMP}, {"string", SDB_TYPE_STRING},
                 {"symbol", SDB_TYPE_SYMBOL}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].n) == 0) {
            *t = names[i].t;
            return true;
        }
    return false;
}

static bool is_int(const char *s, size_t n, int64_t *v)
{
    sdb_jnode x;
    memset(&x, 0, sizeof x);
    x.type = SDB_J_NUM;
    x.s = (char *)(uintptr_t)s;
    x.len = n;
    return n > 0 && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+') &&
           strpbrk(s, ".eE") == NULL && sdb_jint(&x, v);
}

static bool is_num(const char *s, size_t n, double *v)
{
    sdb_jnode x;
    memset(&x, 0, sizeof x);
    x.type = SDB_J_NUM;
    x.s = (char *)(uintptr_t)s;
    x.len = n;
    return n > 0 && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.') &&
           sdb_jnum(&x, v);
}

static bool is_bool(const char *s, bool *v)
{
    if (strcasecmp(s, "true") == 0) {
        *v = true;
        return true;
    }
    if (strcasecmp(s, "false") == 0) {
        *v = false;
        return true;
    }
    return false;
}

static bool is_time(const char *s, size_t n, int64_t *v)
{
    return n >= 10 && s[4] == '-' && sdb_time_parse(s, n, v, NULL) == SDB_OK;
}

static const char *fld(const sdb_csv *c, uint32_t i, size_t *len)
{
    size_t start = i == 0 ? 0 : c->ends[i - 1] + 1;
    *len = c->ends[i] - start;
    return (const char *)c->field.data + start;
}

/* ---- generic rows ---- */

/* Types of the columns: --schema, canonical, else inferred from the buffered rows. */
static sdb_rc settle_types(sdb_csv *c, sdb_err *err)
{
    const char *schema = sdb_import_schema(c->im);
    const char *table = sdb_import_table(c->im);
    bool spans = strcmp(table, SDB_SPANS_TABLE) == 0;
    for (uint32_t k = 0; k < c->ncols; k++) {
        bool all_int = true, all_num = true, all_bool = true, all_time = true, any = false;
        int canon = spans ? sdb_spans_find(c->names[k], strlen(c->names[k])) : -1;
        if (canon >= 0) {
            c->types[k] = sdb_spans_cols[canon].type;
            continue;
        }
        for (uint32_t r = 0; r < c->npending; r++) {
            const char *p = c->pending[r];
            size_t n;
            int64_t iv;
            double dv;
            bool bv;
            for (uint32_t j = 0; j < k; j++)
                p += strlen(p) + 1;
            n = strlen(p);
            if (n == 0)
                continue;
            any = true;
            all_int = all_int && is_int(p, n, &iv);
            all_num = all_num && is_num(p, n, &dv);
            all_bool = all_bool && is_bool(p, &bv);
            all_time = all_time && is_time(p, n, &iv);
        }
        c->types[k] = !any        ? SDB_TYPE_STRING
                      : all_int   ? SDB_TYPE_INT64
                      : all_num   ? SDB_TYPE_FLOAT64
                      : all_bool  ? SDB_TYPE_BOOL
                      : all_time  ? SDB_TYPE_TIMESTAMP
                                  : SDB_TYPE_STRING;
    }
    /* --schema: name:type,name:type */
    while (schema != NULL && *schema != '\0') {
        const char *comma = strchr(schema, ','), *colon;
        size_t n = comma ? (size_t)(comma - schema) : strlen(schema);
        char item[256], *ty;
        bool found = false;
        if (n >= sizeof item)
            return SDB_FAIL(err, SDB_ERR_PARSE, "--schema: item too long");
        memcpy(item, schema, n);
        item[n] = '\0';
        if ((colon = strchr(item, ':')) == NULL)
            return SDB_FAIL(err, SDB_ERR_PARSE, "--schema: '%s' is not name:type", item);
        ty = item + (colon - item);
        *ty++ = '\0';
        for (uint32_t k = 0; k < c->ncols; k++)
            if (strcmp(c->names[k], item) == 0) {
                if (!parse_type(ty, &c->types[k]))
                    return SDB_FAIL(err, SDB_ERR_PARSE,
                                    "--schema: unknown type '%s' for column %s (int, float, "
                                    "bool, timestamp, string, symbol)", ty, item);
                found = true;
            }
        if (!found)
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "--schema: the CSV has no column '%s'", item);
        schema = comma ? comma + 1 : schema + n;
    }
    if (c->time_col >= 0 && c->types[c->time_col] == SDB_TYPE_INT64)
        c->types[c->time_col] = SDB_TYPE_TIMESTAMP; /* integer nanoseconds */
    for (uint32_t k = 0; k < c->ncols; k++) {
        int idx;
        if (c->types[k] == SDB_TYPE_TIMESTAMP && (int)k != c->time_col) {
            /* other time columns are kept as their ISO text's instant in ns */
            c->types[k] = SDB_TYPE_INT64;
        }
        if ((idx = sdb_batch_find(&c->b, c->names[k], strlen(c->names[k]))) < 0)
            SDB_TRY(sdb_batch_add(&c->b, c->names[k], strlen(c->names[k]), c->types[k], &idx, err));
        c->bcol[k] = idx;
    }
    c->typed = true;
    return SDB_OK;
}

/* One generic row (fields given as pointers) into the batch, or a reject. */
static sdb_rc generic_row(sdb_csv *c, const char *const *f, const size_t *fl, uint64_t line,
                          sdb_err *err)
{
    sdb_batch *b = &c->b;
    uint64_t before = b->nrows;
    for (uint32_t k = 0; k < c->ncols; k++) {
        sdb_column *col = &b->cols[c->bcol[k]];
        int64_t iv;
        double dv;
        bool bv, ok = true;
        if (fl[k] == 0) {
            if ((int)k == c->time_col) {
                sdb_import_reject(c->im, line, "row has no time");
                ok = false;
            } else {
                SDB_TRY(sdb_column_push_null(col, err));
                continue;
            }
        } else {
            switch (c->types[k]) {
            case SDB_TYPE_TIMESTAMP:
                if (is_time(f[k], fl[k], &iv) || is_int(f[k], fl[k], &iv))
                    SDB_TRY(sdb_column_push_i64(col, iv, err));
                else
                    ok = false;
                break;
            case SDB_TYPE_INT64:
                if (is_int(f[k], fl[k], &iv) || is_time(f[k], fl[k], &iv))
                    SDB_TRY(sdb_column_push_i64(col, iv, err));
                else
                    ok = false;
                break;
            case SDB_TYPE_FLOAT64:
                if (is_num(f[k], fl[k], &dv))
                    SDB_TRY(sdb_column_push_f64(col, dv, err));
                else
                    ok = false;
                break;
            case SDB_TYPE_BOOL:
                if (is_bool(f[k], &bv))
                    SDB_TRY(sdb_column_push_bool(col, bv, err));
                else
                    ok = false;
                break;
            default:
                SDB_TRY(sdb_column_push_str(col, f[k], fl[k], err));
                break;
            }
            if (!ok)
                sdb_import_reject(c->im, line, "column %s: '%.64s' is not %s", c->names[k], f[k],
                                  sdb_type_name(c->types[k]));
        }
        if (!ok) {
            for (uint32_t j = 0; j < b->ncols; j++)
                sdb_column_truncate(&b->cols[j], before);
            return SDB_OK;
        }
    }
    b->nrows++;
    SDB_TRY(sdb_batch_pad(b, err));
    if (b->nrows >= 65536) {
        SDB_TRY(sdb_import_write_rows(c->im, sdb_import_table(c->im), b, err));
        sdb_batch_clear(b);
    }
    return SDB_OK;
}

static sdb_rc flush_pending(sdb_csv *c, sdb_err *err)
{
    const char *f[MAX_FIELDS];
    size_t fl[MAX_FIELDS];
    if (!c->typed)
        SDB_TRY(settle_types(c, err));
    for (uint32_t r = 0; r < c->npending; r++) {
        const char *p = c->pending[r];
        for (uint32_t k = 0; k < c->ncols; k++) {
            f[k] = p;
            fl[k] = strlen(p);
            p += fl[k] + 1;
        }
        SDB_TRY(generic_row(c, f, fl, c->pending_line[r], err));
        free(c->pending[r]);
        c->pending[r] = NULL;
    }
    c->npending = 0;
    return SDB_OK;
}

/* ---- records ---- */

static sdb_rc header(sdb_csv *c, sdb_err *err)
{
    bool has_span = false, has_start = false, has_trace = false, has_dtype = false;
    c->ncols = c->nfields;
    if ((c->names = calloc(c->ncols, sizeof *c->names)) == NULL ||
        (c->types = calloc(c->ncols, sizeof *c->types)) == NULL ||
        (c->bcol = calloc(c->ncols, sizeof *c->bcol)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the CSV header");
    c->time_col = -1;
    for (uint32_t k = 0; k < c->ncols; k++) {
        size_t n;
        const char *s = fld(c, k, &n);
        if ((c->names[k] = strndup(s, n)) == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the CSV header");
        if (n == 0)
            return SDB_FAIL(err, SDB_ERR_PARSE, "line %llu: CSV header column %u has no name",
                            (unsigned long long)c->rec_line, k + 1);
        for (uint32_t j = 0; j < k; j++)
            if (strcmp(c->names[j], c->names[k]) == 0)
                return SDB_FAIL(err, SDB_ERR_PARSE, "line %llu: CSV column '%s' appears twice",
                                (unsigned long long)c->rec_line, c->names[k]);
        has_span |= strcmp(c->names[k], "context.span_id") == 0;
        has_start |= strcmp(c->names[k], "startTime") == 0;
        has_trace |= strcmp(c->names[k], "traceId") == 0;
        has_dtype |= strcmp(c->names[k], "dataType") == 0;
        if (strcmp(c->names[k], "time") == 0)
            c->time_col = (int)k;
    }
    c->kind = has_span ? CSV_PHOENIX
              : (has_start && has_trace) || has_dtype ? CSV_LANGFUSE
                                                       : CSV_GENERIC;
    if (c->kind == CSV_GENERIC && c->time_col < 0)
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "line %llu: a CSV needs a 'time' column",
                        (unsigned long long)c->rec_line);
    c->have_header = true;
    return SDB_OK;
}

/* A row of a Phoenix or Langfuse export: an object of string members, empty cells left out. */
static sdb_rc export_row(sdb_csv *c, sdb_err *err)
{
    sdb_jnode *nodes = calloc(c->ncols + 1, sizeof *nodes), *obj = &nodes[c->ncols];
    sdb_rc rc;
    if (nodes == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a CSV row");
    obj->type = SDB_J_OBJ;
    obj->line = c->rec_line;
    for (uint32_t k = 0; k < c->ncols; k++) {
        size_t n;
        const char *s = fld(c, k, &n);
        sdb_jnode *x = &nodes[k];
        if (n == 0)
            continue;
        x->type = SDB_J_STR;
        x->s = (char *)(uintptr_t)s;
        x->len = n;
        x->key = c->names[k];
        x->keylen = strlen(c->names[k]);
        x->line = c->rec_line;
        if (obj->last != NULL)
            obj->last->next = x;
        else
            obj->first = x;
        obj->last = x;
        obj->n++;
    }
    rc = c->kind == CSV_PHOENIX ? sdb_import_phoenix_record(c->im, obj, err)
                                : sdb_import_langfuse_record(c->im, obj, err);
    free(nodes);
    return rc;
}

static sdb_rc record_done(sdb_csv *c, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    if (c->overflow) {
        sdb_import_reject(c->im, c->rec_line, "CSV record larger than %zu bytes or %u fields",
                          c->max_record, MAX_FIELDS);
    } else if (!c->have_header) {
        rc = header(c, err);
    } else if (c->nfields == 1 && c->ends[0] == 0) {
        /* a blank line */
    } else if (c->nfields != c->ncols) {
        sdb_import_reject(c->im, c->rec_line, "%u fields where the header has %u", c->nfields,
                          c->ncols);
    } else if (c->kind != CSV_GENERIC) {
        rc = export_row(c, err);
    } else if (!c->typed && c->npending < INFER_ROWS) {
        size_t n = c->ends[c->nfields - 1] + 1;
        char *copy = malloc(n);
        if (copy == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a CSV row");
        memcpy(copy, c->field.data, n);
        c->pending[c->npending] = copy;
        c->pending_len[c->npending] = n;
        c->pending_line[c->npending++] = c->rec_line;
    } else {
        const char *f[MAX_FIELDS];
        size_t fl[MAX_FIELDS];
        if (!c->typed)
            SDB_TRY(flush_pending(c, err));
        for (uint32_t k = 0; k < c->ncols; k++)
            f[k] = fld(c, k, &fl[k]);
        rc = generic_row(c, f, fl, c->rec_line, err);
    }
    sdb_buf_reset(&c->field);
    c->nfields = 0;
    c->overflow = false;
    c->rec_open = false;
    c->field_started = false;
    return rc;
}

/* ---- tokenizer ---- */

static void put(sdb_csv *c, char ch)
{
    if (c->overflow)
        return;
    if (c->field.len >= c->max_record) {
        c->overflow = true;
        return;
    }
    if (sdb_buf_append(&c->field, &ch, 1, NULL) != SDB_OK)
        c->overflow = true;
}

static void end_field(sdb_csv *c)
{
    put(c, '\0');
    if (c->overflow)
        return;
    if (c->nfields == c->cap_fields) {
        uint32_t cap = c->cap_fields ? c->cap_fields * 2 : 64;
        size_t *e;
        if (cap > MAX_FIELDS || (e = realloc(c->ends, cap * sizeof *e)) == NULL) {
            c->overflow = true;
            return;
        }
        c->ends = e;
        c->cap_fields = cap;
    }
    c->ends[c->nfields++] = c->field.len - 1;
    c->field_started = false;
}

sdb_rc sdb_csv_feed(sdb_csv *c, const void *data, size_t len, sdb_err *err)
{
    const char *p = data;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (c->cr) {
            c->cr = false;
            if (ch == '\n') {
                c->line++;
                continue;
            }
        }
        if (!c->rec_open) {
            c->rec_open = true;
            c->rec_line = c->line;
        }
        if (c->in_quotes) {
            if (ch == '"') {
                c->in_quotes = false;
                c->after_quote = true;
            } else {
                if (ch == '\n')
                    c->line++;
                put(c, ch);
            }
            continue;
        }
        if (ch == '"') {
            if (c->after_quote) {
                put(c, '"');
                c->in_quotes = true;
            } else if (!c->field_started) {
                c->in_quotes = true;
                c->field_started = true;
            } else {
                put(c, ch);
            }
            c->after_quote = false;
            continue;
        }
        c->after_quote = false;
        if (ch == ',') {
            end_field(c);
        } else if (ch == '\n' || ch == '\r') {
            end_field(c);
            SDB_TRY(record_done(c, err));
            if (ch == '\n')
                c->line++;
            else
                c->cr = true;
        } else {
            c->field_started = true;
            put(c, ch);
        }
    }
    return SDB_OK;
}

sdb_rc sdb_csv_finish(sdb_csv *c, sdb_err *err)
{
    if (c->in_quotes) {
        sdb_import_reject(c->im, c->rec_line, "quoted field not closed at the end of the input");
        sdb_buf_reset(&c->field);
        c->nfields = 0;
        c->rec_open = false;
    } else if (c->rec_open) {
        end_field(c);
        SDB_TRY(record_done(c, err));
    }
    if (c->have_header && c->kind == CSV_GENERIC) {
        SDB_TRY(flush_pending(c, err));
        if (c->b.nrows > 0) {
            SDB_TRY(sdb_import_write_rows(c->im, sdb_import_table(c->im), &c->b, err));
            sdb_batch_clear(&c->b);
        }
    }
    return SDB_OK;
}

sdb_rc sdb_csv_create(sdb_import *im, size_t max_record, sdb_csv **out, sdb_err *err)
{
    sdb_csv *c = calloc(1, sizeof *c);
    *out = NULL;
    if (c == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the CSV reader");
    c->im = im;
    c->max_record = max_record ? max_record : (size_t)64 << 20;
    c->line = 1;
    sdb_batch_init(&c->b);
    if ((c->pending = calloc(INFER_ROWS, sizeof *c->pending)) == NULL ||
        (c->pending_len = calloc(INFER_ROWS, sizeof *c->pending_len)) == NULL ||
        (c->pending_line = calloc(INFER_ROWS, sizeof *c->pending_line)) == NULL) {
        sdb_csv_destroy(c);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the CSV reader");
    }
    *out = c;
    return SDB_OK;
}

void sdb_csv_destroy(sdb_csv *c)
{
    if (c == NULL)
        return;
    for (uint32_t r = 0; c->pending != NULL && r < INFER_ROWS; r++)
        free(c->pending[r]);
    free(c->pending);
    free(c->pending_len);
    free(c->pending_line);
    for (uint32_t k = 0; c->names != NULL && k < c->ncols; k++)
        free(c->names[k]);
    free(c->names);
    free(c->types);
    free(c->bcol);
    free(c->ends);
    sdb_buf_free(&c->field);
    sdb_batch_free(&c->b);
    free(c);
}

void sdb_csv_discard(sdb_csv *c)
{
    sdb_batch_clear(&c->b);
}
