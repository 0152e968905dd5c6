/* Result set writers. */
#include "engine/result_fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/timefmt.h"

bool sdb_fmt_parse(const char *s, sdb_fmt *out)
{
    static const struct {
        const char *name;
        sdb_fmt f;
    } t[] = {{"table", SDB_FMT_TABLE}, {"csv", SDB_FMT_CSV},     {"tsv", SDB_FMT_TSV},
             {"json", SDB_FMT_JSON},   {"jsonl", SDB_FMT_JSONL}, {"ndjson", SDB_FMT_JSONL}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(s, t[i].name) == 0) {
            *out = t[i].f;
            return true;
        }
    return false;
}

/* The shortest %g text that reads back to the same double. */
static int fmt_double(double d, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%.15g", d);
    if (strtod(buf, NULL) != d)
        len = snprintf(buf, n, "%.17g", d);
    return len;
}

sdb_rc sdb_value_text(const sdb_value *v, sdb_buf *out, sdb_err *err)
{
    char buf[64];
    if (v->null)
        return sdb_buf_append(out, "NULL", 4, err);
    switch (v->type) {
    case SDB_TYPE_TIMESTAMP: {
        char t[SDB_TIME_FMT_MAX];
        size_t n = sdb_time_format(v->u.i, t);
        return sdb_buf_append(out, t, n, err);
    }
    case SDB_TYPE_INT64: return sdb_buf_printf(out, err, "%" PRId64, v->u.i);
    case SDB_TYPE_FLOAT64:
        if (isnan(v->u.f))
            return sdb_buf_append(out, "NaN", 3, err);
        if (isinf(v->u.f))
            return sdb_buf_printf(out, err, "%sInfinity", v->u.f < 0 ? "-" : "");
        return sdb_buf_append(out, buf, (size_t)fmt_double(v->u.f, buf, sizeof buf), err);
    case SDB_TYPE_BOOL: return sdb_buf_printf(out, err, "%s", v->u.b ? "true" : "false");
    case SDB_TYPE_SYMBOL:
    case SDB_TYPE_STRING: return sdb_buf_append(out, v->u.s.p, v->u.s.len, err);
    }
    return SDB_OK;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

sdb_rc sdb_json_string(const char *s, size_t n, sdb_buf *out, sdb_err *err)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    SDB_TRY(sdb_buf_put_u8(out, '"', err));
    while (i < n) {
        unsigned char c = p[i];
        size_t run = i;
        /* copy plain runs at once */
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            SDB_TRY(sdb_buf_append(out, p + i, run - i, err));
            i = run;
            continue;
        }
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            SDB_TRY(sdb_buf_append(out, e, 2, err));
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': SDB_TRY(sdb_buf_append(out, "\\n", 2, err)); break;
            case '\r': SDB_TRY(sdb_buf_append(out, "\\r", 2, err)); break;
            case '\t': SDB_TRY(sdb_buf_append(out, "\\t", 2, err)); break;
            default: SDB_TRY(sdb_buf_printf(out, err, "\\u%04x", c)); break;
            }
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                SDB_TRY(sdb_buf_append(out, "\\ufffd", 6, err));
                i++;
            } else {
                SDB_TRY(sdb_buf_append(out, p + i, l, err));
                i += l;
            }
        }
    }
    return sdb_buf_put_u8(out, '"', err);
}

sdb_rc sdb_value_json(const sdb_value *v, sdb_buf *out, sdb_err *err)
{
    char buf[64];
    if (v->null)
        return sdb_buf_append(out, "null", 4, err);
    switch (v->type) {
    case SDB_TYPE_TIMESTAMP: {
        char t[SDB_TIME_FMT_MAX];
        size_t n = sdb_time_format(v->u.i, t);
        return sdb_json_string(t, n, out, err);
    }
    case SDB_TYPE_INT64: return sdb_buf_printf(out, err, "%" PRId64, v->u.i);
    case SDB_TYPE_FLOAT64:
        if (!isfinite(v->u.f))
            return sdb_buf_append(out, "null", 4, err); /* JSON has no NaN or Infinity */
        return sdb_buf_append(out, buf, (size_t)fmt_double(v->u.f, buf, sizeof buf), err);
    case SDB_TYPE_BOOL: return sdb_buf_printf(out, err, "%s", v->u.b ? "true" : "false");
    case SDB_TYPE_SYMBOL:
    case SDB_TYPE_STRING: return sdb_json_string(v->u.s.p, v->u.s.len, out, err);
    }
    return SDB_OK;
}

/* CSV field (RFC 4180): quoted when it holds a comma, quote or line break; NULL is empty. */
static sdb_rc csv_field(const sdb_value *v, char sep, sdb_buf *out, sdb_buf *tmp, sdb_err *err)
{
    bool quote = false;
    if (v->null)
        return SDB_OK;
    tmp->len = 0;
    SDB_TRY(sdb_value_text(v, tmp, err));
    if (sep == '\t') {
        /* TSV has no quoting: escape the characters that would break the layout */
        for (size_t i = 0; i < tmp->len; i++) {
            char c = (char)tmp->data[i];
            if (c == '\t')
                SDB_TRY(sdb_buf_append(out, "\\t", 2, err));
            else if (c == '\n')
                SDB_TRY(sdb_buf_append(out, "\\n", 2, err));
            else if (c == '\r')
                SDB_TRY(sdb_buf_append(out, "\\r", 2, err));
            else if (c == '\\')
                SDB_TRY(sdb_buf_append(out, "\\\\", 2, err));
            else
                SDB_TRY(sdb_buf_put_u8(out, (uint8_t)c, err));
        }
        return SDB_OK;
    }
    for (size_t i = 0; i < tmp->len && !quote; i++)
        quote = tmp->data[i] == ',' || tmp->data[i] == '"' || tmp->data[i] == '\n' ||
                tmp->data[i] == '\r';
    if (!quote)
        return sdb_buf_append(out, tmp->data, tmp->len, err);
    SDB_TRY(sdb_buf_put_u8(out, '"', err));
    for (size_t i = 0; i < tmp->len; i++) {
        if (tmp->data[i] == '"')
            SDB_TRY(sdb_buf_put_u8(out, '"', err));
        SDB_TRY(sdb_buf_put_u8(out, tmp->data[i], err));
    }
    return sdb_buf_put_u8(out, '"', err);
}

static sdb_rc write_delimited(const sdb_result *r, char sep, sdb_buf *out, sdb_err *err)
{
    sdb_buf tmp = SDB_BUF_INIT;
    sdb_rc rc = SDB_OK;
    for (uint32_t c = 0; c < r->ncols && rc == SDB_OK; c++) {
        sdb_value name = {.type = SDB_TYPE_STRING, .null = false};
        name.u.s.p = r->names[c];
        name.u.s.len = (uint32_t)strlen(r->names[c]);
        if (c > 0)
            rc = sdb_buf_put_u8(out, (uint8_t)sep, err);
        if (rc == SDB_OK)
            rc = csv_field(&name, sep, out, &tmp, err);
    }
    if (rc == SDB_OK)
        rc = sdb_buf_put_u8(out, '\n', err);
    for (uint64_t row = 0; row < r->nrows && rc == SDB_OK; row++) {
        for (uint32_t c = 0; c < r->ncols && rc == SDB_OK; c++) {
            if (c > 0)
                rc = sdb_buf_put_u8(out, (uint8_t)sep, err);
            if (rc == SDB_OK)
                rc = csv_field(sdb_result_at(r, row, c), sep, out, &tmp, err);
        }
        if (rc == SDB_OK)
            rc = sdb_buf_put_u8(out, '\n', err);
    }
    sdb_buf_free(&tmp);
    return rc;
}

static sdb_rc write_json(const sdb_result *r, sdb_buf *out, sdb_err *err)
{
    SDB_TRY(sdb_buf_append(out, "{\"columns\":[", 12, err));
    for (uint32_t c = 0; c < r->ncols; c++) {
        SDB_TRY(sdb_buf_append(out, c ? ",[" : "[", c ? 2 : 1, err));
        SDB_TRY(sdb_json_string(r->names[c], strlen(r->names[c]), out, err));
        SDB_TRY(sdb_buf_printf(out, err, ",\"%s\"]", sdb_type_name(r->types[c])));
    }
    SDB_TRY(sdb_buf_append(out, "],\"rows\":[", 10, err));
    for (uint64_t row = 0; row < r->nrows; row++) {
        SDB_TRY(sdb_buf_append(out, row ? ",[" : "[", row ? 2 : 1, err));
        for (uint32_t c = 0; c < r->ncols; c++) {
            if (c > 0)
                SDB_TRY(sdb_buf_put_u8(out, ',', err));
            SDB_TRY(sdb_value_json(sdb_result_at(r, row, c), out, err));
        }
        SDB_TRY(sdb_buf_put_u8(out, ']', err));
    }
    return sdb_buf_append(out, "]}\n", 3, err);
}

static sdb_rc write_jsonl(const sdb_result *r, sdb_buf *out, sdb_err *err)
{
    for (uint64_t row = 0; row < r->nrows; row++) {
        SDB_TRY(sdb_buf_put_u8(out, '{', err));
        for (uint32_t c = 0; c < r->ncols; c++) {
            if (c > 0)
                SDB_TRY(sdb_buf_put_u8(out, ',', err));
            SDB_TRY(sdb_json_string(r->names[c], strlen(r->names[c]), out, err));
            SDB_TRY(sdb_buf_put_u8(out, ':', err));
            SDB_TRY(sdb_value_json(sdb_result_at(r, row, c), out, err));
        }
        SDB_TRY(sdb_buf_append(out, "}\n", 2, err));
    }
    return SDB_OK;
}

/* Display width of UTF-8 text: one column per code point (good enough for names and ids). */
static size_t width_of(const uint8_t *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += (s[i] & 0xc0) != 0x80;
    return w;
}

static bool right_aligned(sdb_type t)
{
    return t == SDB_TYPE_INT64 || t == SDB_TYPE_FLOAT64;
}

static sdb_rc pad(sdb_buf *out, size_t n, sdb_err *err)
{
    for (size_t i = 0; i < n; i++)
        SDB_TRY(sdb_buf_put_u8(out, ' ', err));
    return SDB_OK;
}

/* Wider cells are cut with an ellipsis in the table format, unless the result has one column
 * (EXPLAIN, long strings on their own), where nothing else competes for the width. */
#define CELL_MAX 80

static sdb_rc write_table(const sdb_result *r, sdb_buf *out, sdb_err *err)
{
    size_t cell_max = r->ncols == 1 ? SIZE_MAX : CELL_MAX;
    size_t *w = calloc(r->ncols ? r->ncols : 1, sizeof *w);
    sdb_buf cell = SDB_BUF_INIT;
    sdb_rc rc = SDB_OK;
    if (w == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
    for (uint32_t c = 0; c < r->ncols; c++)
        w[c] = width_of((const uint8_t *)r->names[c], strlen(r->names[c]));
    for (uint64_t row = 0; row < r->nrows && rc == SDB_OK; row++)
        for (uint32_t c = 0; c < r->ncols && rc == SDB_OK; c++) {
            size_t cw;
            cell.len = 0;
            rc = sdb_value_text(sdb_result_at(r, row, c), &cell, err);
            cw = width_of(cell.data, cell.len);
            if (cw > cell_max)
                cw = cell_max;
            if (cw > w[c])
                w[c] = cw;
        }
    for (uint32_t c = 0; c < r->ncols && rc == SDB_OK; c++) {
        size_t nw = width_of((const uint8_t *)r->names[c], strlen(r->names[c]));
        rc = sdb_buf_append(out, c ? " | " : "", c ? 3 : 0, err);
        if (rc == SDB_OK && right_aligned(r->types[c]))
            rc = pad(out, w[c] - nw, err);
        if (rc == SDB_OK)
            rc = sdb_buf_append(out, r->names[c], strlen(r->names[c]), err);
        if (rc == SDB_OK && !right_aligned(r->types[c]) && c + 1 < r->ncols)
            rc = pad(out, w[c] - nw, err);
    }
    if (rc == SDB_OK)
        rc = sdb_buf_put_u8(out, '\n', err);
    for (uint32_t c = 0; c < r->ncols && rc == SDB_OK; c++) {
        rc = sdb_buf_append(out, c ? "-+-" : "", c ? 3 : 0, err);
        for (size_t i = 0; i < w[c] && rc == SDB_OK; i++)
            rc = sdb_buf_put_u8(out, '-', err);
    }
    if (rc == SDB_OK)
        rc = sdb_buf_put_u8(out, '\n', err);
    for (uint64_t row = 0; row < r->nrows && rc == SDB_OK; row++) {
        for (uint32_t c = 0; c < r->ncols && rc == SDB_OK; c++) {
            size_t cw;
            cell.len = 0;
            rc = sdb_value_text(sdb_result_at(r, row, c), &cell, err);
            if (rc != SDB_OK)
                break;
            /* one line per row: control characters shown as spaces, long cells cut */
            for (size_t i = 0; i < cell.len; i++)
                if (cell.data[i] < 0x20)
                    cell.data[i] = ' ';
            cw = width_of(cell.data, cell.len);
            if (cw > cell_max) {
                size_t keep = 0, seen = 0;
                while (keep < cell.len && seen < cell_max - 3)
                    seen += (cell.data[++keep] & 0xc0) != 0x80;
                cell.len = keep;
                rc = sdb_buf_append(&cell, "...", 3, err);
                cw = cell_max;
            }
            if (rc == SDB_OK)
                rc = sdb_buf_append(out, c ? " | " : "", c ? 3 : 0, err);
            if (rc == SDB_OK && right_aligned(r->types[c]))
                rc = pad(out, w[c] - cw, err);
            if (rc == SDB_OK)
                rc = sdb_buf_append(out, cell.data, cell.len, err);
            if (rc == SDB_OK && !right_aligned(r->types[c]) && c + 1 < r->ncols)
                rc = pad(out, w[c] - cw, err);
        }
        if (rc == SDB_OK)
            rc = sdb_buf_put_u8(out, '\n', err);
    }
    sdb_buf_free(&cell);
    free(w);
    return rc;
}

sdb_rc sdb_result_format(const sdb_result *r, sdb_fmt f, sdb_buf *out, sdb_err *err)
{
    switch (f) {
    case SDB_FMT_TABLE: return write_table(r, out, err);
    case SDB_FMT_CSV: return write_delimited(r, ',', out, err);
    case SDB_FMT_TSV: return write_delimited(r, '\t', out, err);
    case SDB_FMT_JSON: return write_json(r, out, err);
    case SDB_FMT_JSONL: return write_jsonl(r, out, err);
    }
    return SDB_FAIL(err, SDB_ERR_MISUSE, "unknown format");
}
