/* Text writers for span batches (split off from gen.c): InfluxDB line protocol, CSV and
 * OTLP/JSON. Numbers are formatted by hand, not printf: integers digit by digit, doubles as
 * the shortest decimal k / 10^e that reads back to the same double (a correct strtod turns
 * "k.e-digits" into exactly (double)k / 10^e), with printf("%.17g") only for doubles that
 * are no short decimal. Symbol strings are escaped once per call per dictionary entry. */
#include "engine/gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/spans.h"

#ifndef SPANDB_VERSION
#define SPANDB_VERSION "0"
#endif

/* ---- output helpers ---- */

static inline sdb_rc need(sdb_buf *out, size_t n, sdb_err *err)
{
    if (out->cap - out->len >= n)
        return SDB_OK;
    return sdb_buf_reserve(out, n, err);
}

static inline void put(sdb_buf *out, const void *p, size_t n)
{
    memcpy(out->data + out->len, p, n);
    out->len += n;
}

static inline void putc1(sdb_buf *out, char c)
{
    out->data[out->len++] = (uint8_t)c;
}

/* Decimal digits of v into out (at most 20); returns the length. */
static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static size_t fmt_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return fmt_u64(out, (uint64_t)v);
}

static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                             1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

/* k / 10^e as "int.frac" with trailing fraction zeros dropped but one kept ("2.0"). */
static size_t fmt_scaled(char *out, int64_t k, int e)
{
    size_t n = 0;
    uint64_t a, ip, fp, scale = 1;
    char frac[20];
    int fl = e;
    if (k < 0) {
        out[n++] = '-';
        a = (uint64_t)0 - (uint64_t)k;
    } else {
        a = (uint64_t)k;
    }
    for (int i = 0; i < e; i++)
        scale *= 10;
    ip = a / scale;
    fp = a % scale;
    n += fmt_u64(out + n, ip);
    out[n++] = '.';
    for (int i = e - 1; i >= 0; i--) {
        frac[i] = (char)('0' + fp % 10);
        fp /= 10;
    }
    while (fl > 1 && frac[fl - 1] == '0')
        fl--;
    if (fl == 0) {
        out[n++] = '0';
        return n;
    }
    memcpy(out + n, frac, (size_t)fl);
    return n + (size_t)fl;
}

/* Does v equal k / 10^e for the nearest integer k? */
static bool try_scale(double v, int e, int64_t *k)
{
    double x = v * p10[e], r;
    if (!(fabs(x) < 9007199254740992.0))
        return false;
    r = x < 0 ? -floor(-x + 0.5) : floor(x + 0.5);
    if (r / p10[e] != v)
        return false;
    *k = (int64_t)r;
    return true;
}

/* The shortest decimal text of a finite double into out (at least 32 bytes); 0 when v is
 * not finite. hint: decimals to try first (the column's generated precision), or -1. */
static size_t fmt_f64(char *out, double v, int hint)
{
    int64_t k;
    if (!isfinite(v))
        return 0;
    if (v == 0) {
        memcpy(out, signbit(v) ? "-0.0" : "0.0", 4);
        return signbit(v) ? 4 : 3;
    }
    if (hint >= 0 && hint <= 17 && try_scale(v, hint, &k))
        return fmt_scaled(out, k, hint);
    for (int e = 0; e <= 17; e++)
        if (try_scale(v, e, &k))
            return fmt_scaled(out, k, e);
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, v);
        if (n > 0 && n < 32 && (strtod(out, NULL) == v || prec == 17))
            return (size_t)n;
    }
    return 0;
}

/* ---- escaping ---- */

typedef enum esc_mode { ESC_ILP_KEY, ESC_CSV, ESC_JSON, ESC_JSON_UPPER } esc_mode;

/* Bytes needed for n bytes of input in the worst case. */
static size_t esc_bound(esc_mode m, size_t n)
{
    return m == ESC_JSON || m == ESC_JSON_UPPER ? 6 * n + 2 : 2 * n + 2;
}

static bool csv_needs_quotes(const char *s, size_t n)
{
    if (n == 0)
        return true; /* "" tells an empty string from NULL */
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return true;
    return false;
}

/* Escape s into out (room for esc_bound bytes); returns the length. JSON output includes
 * the quotes; CSV adds them only when needed. */
static size_t esc(char *out, esc_mode m, const char *s, size_t n)
{
    size_t o = 0;
    switch (m) {
    case ESC_ILP_KEY:
        /* only `,` `=` and space are escapes in names and tags; other backslashes are kept
         * literally (shared/LINE_PROTOCOL_CASES.md), so `a\ b` is written `a\\ b` */
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ',' || s[i] == '=' || s[i] == ' ')
                out[o++] = '\\';
            out[o++] = s[i];
        }
        return o;
    case ESC_CSV:
        if (!csv_needs_quotes(s, n)) {
            memcpy(out, s, n);
            return n;
        }
        out[o++] = '"';
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"')
                out[o++] = '"';
            out[o++] = s[i];
        }
        out[o++] = '"';
        return o;
    case ESC_JSON:
    case ESC_JSON_UPPER:
        out[o++] = '"';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (m == ESC_JSON_UPPER && c >= 'a' && c <= 'z')
                c = (unsigned char)(c - 'a' + 'A');
            if (c == '"' || c == '\\') {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c < 0x20 || c == 0x7f) {
                out[o++] = '\\';
                out[o++] = 'u';
                out[o++] = '0';
                out[o++] = '0';
                out[o++] = "0123456789abcdef"[c >> 4];
                out[o++] = "0123456789abcdef"[c & 15];
            } else {
                out[o++] = (char)c;
            }
        }
        out[o++] = '"';
        return o;
    }
    return 0;
}

static sdb_rc put_esc(sdb_buf *out, esc_mode m, const char *s, size_t n, sdb_err *err)
{
    SDB_TRY(need(out, esc_bound(m, n), err));
    out->len += esc((char *)out->data + out->len, m, s, n);
    return SDB_OK;
}

/* Line protocol cannot carry a name or tag that is empty, ends in a backslash (it would
 * escape the separator) or holds a line break. */
static bool ilp_unwritable(const char *s, size_t n)
{
    return n == 0 || s[n - 1] == '\\' || memchr(s, '\n', n) != NULL || memchr(s, '\r', n) != NULL;
}

/* A symbol dictionary with every entry escaped once. */
typedef struct esc_dict {
    char *bytes;   /* entries back to back */
    size_t *off;   /* entry i is bytes[off[i] .. off[i+1]); count + 1 entries */
    uint8_t *bad;  /* ESC_ILP_KEY: 1 when entry i cannot be a tag value (ilp_unwritable) */
    uint32_t count;
} esc_dict;

static void esc_dict_free(esc_dict *d)
{
    free(d->bytes);
    free(d->off);
    free(d->bad);
    memset(d, 0, sizeof *d);
}

static sdb_rc esc_dict_build(esc_dict *d, const sdb_column *c, esc_mode m, sdb_err *err)
{
    uint32_t n = sdb_symdict_count(c->dict);
    size_t total = 0, o = 0;
    memset(d, 0, sizeof *d);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        sdb_symdict_get(c->dict, i, &len);
        total += esc_bound(m, len);
    }
    d->bytes = malloc(total + 1);
    d->off = malloc((n + 1) * sizeof *d->off);
    d->bad = calloc(n + 1, 1);
    if (d->bytes == NULL || d->off == NULL || d->bad == NULL) {
        esc_dict_free(d);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to escape %u symbols", n);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        const char *s = sdb_symdict_get(c->dict, i, &len);
        d->off[i] = o;
        d->bad[i] = m == ESC_ILP_KEY && ilp_unwritable(s, len);
        o += esc(d->bytes + o, m, s, len);
    }
    d->off[n] = o;
    d->count = n;
    return SDB_OK;
}

static inline void put_sym(sdb_buf *out, const esc_dict *d, uint32_t code)
{
    put(out, d->bytes + d->off[code], d->off[code + 1] - d->off[code]);
}

/* Decimals to try first for column name (its canonical precision), or -1. */
static int col_hint(const char *name)
{
    int c = sdb_spans_find(name, strlen(name));
    return c >= 0 && sdb_spans_cols[c].type == SDB_TYPE_FLOAT64 ? sdb_spans_cols[c].decimals : -1;
}

static sdb_rc bad_float(const sdb_batch *b, uint32_t col, uint64_t row, sdb_err *err)
{
    return SDB_FAIL(err, SDB_ERR_MISUSE, "column '%s' row %llu: %g has no text form",
                    b->names[col], (unsigned long long)row, b->cols[col].v.f64[row]);
}

/* ---- InfluxDB line protocol ---- */

sdb_rc sdb_gen_write_ilp(const sdb_batch *b, sdb_buf *out, sdb_err *err)
{
    esc_dict *dicts = NULL;
    char (*keys)[2 * 64 + 2] = NULL; /* escaped "key=" of short names; long names use slow path */
    size_t *klen = NULL;
    int *hint = NULL;
    int time_col = -1;
    sdb_rc rc = SDB_OK;
    uint32_t nc = b->ncols;
    dicts = calloc(nc ? nc : 1, sizeof *dicts);
    keys = calloc(nc ? nc : 1, sizeof *keys);
    klen = calloc(nc ? nc : 1, sizeof *klen);
    hint = calloc(nc ? nc : 1, sizeof *hint);
    if (dicts == NULL || keys == NULL || klen == NULL || hint == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to write line protocol");
        goto done;
    }
    for (uint32_t c = 0; c < nc; c++) {
        size_t n = strlen(b->names[c]);
        if (strcmp(b->names[c], "time") == 0 && b->cols[c].type == SDB_TYPE_TIMESTAMP)
            time_col = (int)c;
        if (n > 64) {
            rc = SDB_FAIL(err, SDB_ERR_LIMIT, "column name '%.64s...' is too long for line protocol",
                          b->names[c]);
            goto done;
        }
        if (ilp_unwritable(b->names[c], n)) {
            rc = SDB_FAIL(err, SDB_ERR_MISUSE, "column name '%s' cannot be written as line protocol",
                          b->names[c]);
            goto done;
        }
        klen[c] = esc(keys[c], ESC_ILP_KEY, b->names[c], n);
        keys[c][klen[c]++] = '=';
        hint[c] = col_hint(b->names[c]);
        if (b->cols[c].type == SDB_TYPE_SYMBOL &&
            (rc = esc_dict_build(&dicts[c], &b->cols[c], ESC_ILP_KEY, err)) != SDB_OK)
            goto done;
    }
    for (uint64_t r = 0; r < b->nrows; r++) {
        bool first = true;
        if ((rc = need(out, 8, err)) != SDB_OK)
            goto done;
        put(out, "spans", 5);
        for (uint32_t c = 0; c < nc; c++) {
            const sdb_column *col = &b->cols[c];
            uint32_t code;
            if (col->type != SDB_TYPE_SYMBOL || !sdb_column_valid(col, r))
                continue;
            code = col->v.code[r];
            if (dicts[c].off[code + 1] == dicts[c].off[code])
                continue; /* an empty tag value cannot be written: same as NULL */
            if (dicts[c].bad[code]) {
                rc = SDB_FAIL(err, SDB_ERR_MISUSE,
                              "column '%s' row %llu: a tag value that ends in a backslash or holds "
                              "a line break cannot be written as line protocol",
                              b->names[c], (unsigned long long)r);
                goto done;
            }
            if ((rc = need(out, 2 + klen[c] + dicts[c].off[code + 1] - dicts[c].off[code], err)))
                goto done;
            putc1(out, ',');
            put(out, keys[c], klen[c]);
            put_sym(out, &dicts[c], code);
        }
        putc1(out, ' ');
        for (uint32_t c = 0; c < nc; c++) {
            const sdb_column *col = &b->cols[c];
            char *p;
            if (col->type == SDB_TYPE_SYMBOL || (int)c == time_col || !sdb_column_valid(col, r))
                continue;
            if (col->type == SDB_TYPE_STRING) {
                uint32_t len;
                const char *s = sdb_column_str(col, r, &len);
                if ((rc = need(out, klen[c] + 2 * (size_t)len + 4, err)) != SDB_OK)
                    goto done;
                if (!first)
                    putc1(out, ',');
                put(out, keys[c], klen[c]);
                putc1(out, '"');
                for (uint32_t i = 0; i < len; i++) {
                    if (s[i] == '"' || s[i] == '\\')
                        putc1(out, '\\');
                    putc1(out, s[i]);
                }
                putc1(out, '"');
                first = false;
                continue;
            }
            if ((rc = need(out, klen[c] + 40, err)) != SDB_OK)
                goto done;
            if (!first)
                putc1(out, ',');
            put(out, keys[c], klen[c]);
            p = (char *)out->data + out->len;
            switch (col->type) {
            case SDB_TYPE_TIMESTAMP:
            case SDB_TYPE_INT64:
                out->len += fmt_i64(p, col->v.i64[r]);
                putc1(out, 'i');
                break;
            case SDB_TYPE_FLOAT64: {
                size_t n = fmt_f64(p, col->v.f64[r], hint[c]);
                if (n == 0) {
                    rc = bad_float(b, c, r, err);
                    goto done;
                }
                out->len += n;
                break;
            }
            case SDB_TYPE_BOOL: putc1(out, col->v.b8[r] ? 't' : 'f'); break;
            default: break;
            }
            first = false;
        }
        if (first) {
            rc = SDB_FAIL(err, SDB_ERR_MISUSE, "row %llu has no field values for line protocol",
                          (unsigned long long)r);
            goto done;
        }
        if ((rc = need(out, 24, err)) != SDB_OK)
            goto done;
        if (time_col >= 0 && sdb_column_valid(&b->cols[time_col], (uint64_t)r)) {
            putc1(out, ' ');
            out->len += fmt_i64((char *)out->data + out->len, b->cols[time_col].v.i64[r]);
        }
        putc1(out, '\n');
    }
done:
    if (dicts != NULL)
        for (uint32_t c = 0; c < nc; c++)
            esc_dict_free(&dicts[c]);
    free(dicts);
    free(keys);
    free(klen);
    free(hint);
    return rc;
}

/* ---- CSV ---- */

sdb_rc sdb_gen_write_csv_header(const sdb_batch *b, sdb_buf *out, sdb_err *err)
{
    for (uint32_t c = 0; c < b->ncols; c++) {
        if (c > 0)
            SDB_TRY(sdb_buf_append(out, ",", 1, err));
        SDB_TRY(put_esc(out, ESC_CSV, b->names[c], strlen(b->names[c]), err));
    }
    return sdb_buf_append(out, "\n", 1, err);
}

sdb_rc sdb_gen_write_csv(const sdb_batch *b, sdb_buf *out, sdb_err *err)
{
    esc_dict *dicts = NULL;
    int *hint = NULL;
    sdb_rc rc = SDB_OK;
    uint32_t nc = b->ncols;
    dicts = calloc(nc ? nc : 1, sizeof *dicts);
    hint = calloc(nc ? nc : 1, sizeof *hint);
    if (dicts == NULL || hint == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to write csv");
        goto done;
    }
    for (uint32_t c = 0; c < nc; c++) {
        hint[c] = col_hint(b->names[c]);
        if (b->cols[c].type == SDB_TYPE_SYMBOL &&
            (rc = esc_dict_build(&dicts[c], &b->cols[c], ESC_CSV, err)) != SDB_OK)
            goto done;
    }
    for (uint64_t r = 0; r < b->nrows; r++) {
        for (uint32_t c = 0; c < nc; c++) {
            const sdb_column *col = &b->cols[c];
            char *p;
            if ((rc = need(out, 48, err)) != SDB_OK)
                goto done;
            if (c > 0)
                putc1(out, ',');
            if (!sdb_column_valid(col, r))
                continue;
            p = (char *)out->data + out->len;
            switch (col->type) {
            case SDB_TYPE_TIMESTAMP: {
                size_t n = sdb_gen_format_time(col->v.i64[r], p);
                if (n == 0) /* outside years 0..9999: the number of ns */
                    n = fmt_i64(p, col->v.i64[r]);
                out->len += n;
                break;
            }
            case SDB_TYPE_INT64: out->len += fmt_i64(p, col->v.i64[r]); break;
            case SDB_TYPE_FLOAT64: {
                size_t n = fmt_f64(p, col->v.f64[r], hint[c]);
                if (n == 0) {
                    rc = bad_float(b, c, r, err);
                    goto done;
                }
                out->len += n;
                break;
            }
            case SDB_TYPE_BOOL:
                if (col->v.b8[r])
                    put(out, "true", 4);
                else
                    put(out, "false", 5);
                break;
            case SDB_TYPE_SYMBOL: {
                uint32_t code = col->v.code[r];
                if ((rc = need(out, dicts[c].off[code + 1] - dicts[c].off[code], err)) != SDB_OK)
                    goto done;
                put_sym(out, &dicts[c], code);
                break;
            }
            case SDB_TYPE_STRING: {
                uint32_t len;
                const char *s = sdb_column_str(col, r, &len);
                if ((rc = put_esc(out, ESC_CSV, s, len, err)) != SDB_OK)
                    goto done;
                break;
            }
            }
        }
        if ((rc = need(out, 1, err)) != SDB_OK)
            goto done;
        putc1(out, '\n');
    }
done:
    if (dicts != NULL)
        for (uint32_t c = 0; c < nc; c++)
            esc_dict_free(&dicts[c]);
    free(dicts);
    free(hint);
    return rc;
}

/* ---- OTLP/JSON ---- */

/* Canonical columns the OTLP writer reads; -1 when the batch lacks one. */
typedef struct otlp_cols {
    int c[SDB_SPANS_NCOLS];
} otlp_cols;

typedef struct otlp_w {
    const sdb_batch *b;
    sdb_buf *out;
    otlp_cols k;
    esc_dict sym[SDB_SPANS_NCOLS]; /* JSON-escaped symbol entries of canonical columns */
    esc_dict upper;                /* span_kind upper-cased (openinference.span.kind) */
    bool first_attr;               /* no attribute written yet in the current list */
} otlp_w;

static const sdb_column *kcol(const otlp_w *w, int canon, uint64_t r)
{
    int i = w->k.c[canon];
    if (i < 0 || !sdb_column_valid(&w->b->cols[i], r))
        return NULL;
    return &w->b->cols[i];
}

static sdb_rc lit(otlp_w *w, const char *s, sdb_err *err)
{
    return sdb_buf_append(w->out, s, strlen(s), err);
}

static sdb_rc attr_open(otlp_w *w, const char *key, const char *type, sdb_err *err)
{
    SDB_TRY(lit(w, w->first_attr ? "{\"key\":\"" : ",{\"key\":\"", err));
    w->first_attr = false;
    SDB_TRY(lit(w, key, err));
    SDB_TRY(lit(w, "\",\"value\":{\"", err));
    SDB_TRY(lit(w, type, err));
    return lit(w, "\":", err);
}

static sdb_rc attr_sym(otlp_w *w, const char *key, const esc_dict *d, uint32_t code, sdb_err *err)
{
    SDB_TRY(attr_open(w, key, "stringValue", err));
    SDB_TRY(need(w->out, d->off[code + 1] - d->off[code] + 2, err));
    put_sym(w->out, d, code);
    return lit(w, "}}", err);
}

static sdb_rc attr_str(otlp_w *w, const char *key, const char *s, size_t n, sdb_err *err)
{
    SDB_TRY(attr_open(w, key, "stringValue", err));
    SDB_TRY(put_esc(w->out, ESC_JSON, s, n, err));
    return lit(w, "}}", err);
}

static sdb_rc attr_int(otlp_w *w, const char *key, int64_t v, sdb_err *err)
{
    char tmp[24];
    SDB_TRY(attr_open(w, key, "intValue", err));
    SDB_TRY(sdb_buf_append(w->out, "\"", 1, err));
    SDB_TRY(sdb_buf_append(w->out, tmp, fmt_i64(tmp, v), err));
    return lit(w, "\"}}", err);
}

static sdb_rc put_double(otlp_w *w, int canon, uint64_t r, sdb_err *err)
{
    char tmp[40];
    int i = w->k.c[canon];
    size_t n = fmt_f64(tmp, w->b->cols[i].v.f64[r], sdb_spans_cols[canon].decimals);
    if (n == 0)
        return bad_float(w->b, (uint32_t)i, r, err);
    return sdb_buf_append(w->out, tmp, n, err);
}

static sdb_rc attr_dbl(otlp_w *w, const char *key, int canon, uint64_t r, sdb_err *err)
{
    SDB_TRY(attr_open(w, key, "doubleValue", err));
    SDB_TRY(put_double(w, canon, r, err));
    return lit(w, "}}", err);
}

static sdb_rc put_ns(otlp_w *w, int64_t ns, sdb_err *err)
{
    char tmp[24];
    SDB_TRY(sdb_buf_append(w->out, "\"", 1, err));
    SDB_TRY(sdb_buf_append(w->out, tmp, fmt_i64(tmp, ns), err));
    return sdb_buf_append(w->out, "\"", 1, err);
}

static bool sym_is(const sdb_column *c, uint64_t r, const char *s)
{
    uint32_t len;
    const char *v = sdb_column_str(c, r, &len);
    return strlen(s) == len && memcmp(v, s, len) == 0;
}

static int64_t ms_to_ns(double ms)
{
    double x = ms * 1e6;
    if (!(fabs(x) < 9.2e18))
        return 0;
    return (int64_t)(x < 0 ? -floor(-x + 0.5) : floor(x + 0.5));
}

/* An eval event: {"timeUnixNano":..,"name":"gen_ai.evaluation.result","attributes":[...]}. */
static sdb_rc eval_event(otlp_w *w, bool *first_ev, int64_t at, const char *name, const char *label,
                         int canon, uint64_t r, int64_t int_value, sdb_err *err)
{
    char tmp[24];
    SDB_TRY(lit(w, *first_ev ? ",\"events\":[{\"timeUnixNano\":" : ",{\"timeUnixNano\":", err));
    *first_ev = false;
    SDB_TRY(put_ns(w, at, err));
    SDB_TRY(lit(w, ",\"name\":\"gen_ai.evaluation.result\",\"attributes\":[", err));
    w->first_attr = true;
    SDB_TRY(attr_str(w, "gen_ai.evaluation.name", name, strlen(name), err));
    SDB_TRY(attr_open(w, "gen_ai.evaluation.score.value", "doubleValue", err));
    if (canon >= 0)
        SDB_TRY(put_double(w, canon, r, err));
    else
        SDB_TRY(sdb_buf_append(w->out, tmp, fmt_i64(tmp, int_value), err));
    SDB_TRY(lit(w, "}}", err));
    SDB_TRY(attr_str(w, "gen_ai.evaluation.score.label", label, strlen(label), err));
    return lit(w, "]}", err);
}

static sdb_rc otlp_span(otlp_w *w, uint64_t r, sdb_err *err)
{
    const sdb_batch *b = w->b;
    const sdb_column *c, *kind = kcol(w, SDB_SPANS_SPAN_KIND, r), *model;
    int64_t start = b->cols[w->k.c[SDB_SPANS_TIME]].v.i64[r], end = start;
    bool first_ev = true;
    uint32_t len;
    const char *s;
    int okind;
    if ((c = kcol(w, SDB_SPANS_DURATION_MS, r)) != NULL)
        end = start + ms_to_ns(c->v.f64[r]);
    SDB_TRY(lit(w, "{\"traceId\":", err));
    c = kcol(w, SDB_SPANS_TRACE_ID, r);
    s = c ? sdb_column_str(c, r, &len) : (len = 0, "");
    SDB_TRY(put_esc(w->out, ESC_JSON, s, len, err));
    SDB_TRY(lit(w, ",\"spanId\":", err));
    c = kcol(w, SDB_SPANS_SPAN_ID, r);
    s = c ? sdb_column_str(c, r, &len) : (len = 0, "");
    SDB_TRY(put_esc(w->out, ESC_JSON, s, len, err));
    if ((c = kcol(w, SDB_SPANS_PARENT_SPAN_ID, r)) != NULL) {
        SDB_TRY(lit(w, ",\"parentSpanId\":", err));
        s = sdb_column_str(c, r, &len);
        SDB_TRY(put_esc(w->out, ESC_JSON, s, len, err));
    }
    SDB_TRY(lit(w, ",\"name\":", err));
    if ((c = kcol(w, SDB_SPANS_NAME, r)) != NULL) {
        SDB_TRY(need(w->out, w->sym[SDB_SPANS_NAME].off[c->v.code[r] + 1], err));
        put_sym(w->out, &w->sym[SDB_SPANS_NAME], c->v.code[r]);
    } else {
        SDB_TRY(lit(w, "\"\"", err));
    }
    okind = 1; /* INTERNAL */
    if (kind != NULL && (sym_is(kind, r, "llm") || sym_is(kind, r, "embedding")))
        okind = 3; /* CLIENT */
    else if (kcol(w, SDB_SPANS_PARENT_SPAN_ID, r) == NULL)
        okind = 2; /* SERVER: the root */
    SDB_TRY(lit(w, okind == 3 ? ",\"kind\":3" : okind == 2 ? ",\"kind\":2" : ",\"kind\":1", err));
    SDB_TRY(lit(w, ",\"startTimeUnixNano\":", err));
    SDB_TRY(put_ns(w, start, err));
    SDB_TRY(lit(w, ",\"endTimeUnixNano\":", err));
    SDB_TRY(put_ns(w, end, err));
    SDB_TRY(lit(w, ",\"attributes\":[", err));
    w->first_attr = true;
    if (kind != NULL) {
        static const char *const ops[][2] = {
            {"llm", "chat"},       {"embedding", "embeddings"},   {"retriever", "retrieval"},
            {"tool", "execute_tool"}, {"agent", "invoke_agent"}, {"chain", "invoke_workflow"}};
        SDB_TRY(attr_sym(w, "openinference.span.kind", &w->upper, kind->v.code[r], err));
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (sym_is(kind, r, ops[i][0]))
                SDB_TRY(attr_str(w, "gen_ai.operation.name", ops[i][1], strlen(ops[i][1]), err));
    }
    if ((model = kcol(w, SDB_SPANS_MODEL, r)) != NULL) {
        const esc_dict *d = &w->sym[SDB_SPANS_MODEL];
        SDB_TRY(attr_sym(w, "gen_ai.request.model", d, model->v.code[r], err));
        SDB_TRY(attr_sym(w,
                         kind != NULL && sym_is(kind, r, "embedding") ? "embedding.model_name"
                                                                      : "llm.model_name",
                         d, model->v.code[r], err));
    }
    {
        static const struct {
            int canon;
            const char *key;
        } syms[] = {{SDB_SPANS_PROVIDER, "gen_ai.provider.name"},
                    {SDB_SPANS_ENDPOINT, "server.address"},
                    {SDB_SPANS_ERROR_TYPE, "error.type"},
                    {SDB_SPANS_PROMPT_NAME, "gen_ai.prompt.name"},
                    {SDB_SPANS_PROMPT_VERSION, "llm.prompt_template.version"}};
        for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
            if ((c = kcol(w, syms[i].canon, r)) != NULL)
                SDB_TRY(attr_sym(w, syms[i].key, &w->sym[syms[i].canon], c->v.code[r], err));
    }
    if ((c = kcol(w, SDB_SPANS_INPUT_TOKENS, r)) != NULL)
        SDB_TRY(attr_int(w, "gen_ai.usage.input_tokens", c->v.i64[r], err));
    if ((c = kcol(w, SDB_SPANS_OUTPUT_TOKENS, r)) != NULL)
        SDB_TRY(attr_int(w, "gen_ai.usage.output_tokens", c->v.i64[r], err));
    if (kcol(w, SDB_SPANS_COST_USD, r) != NULL)
        SDB_TRY(attr_dbl(w, "llm.cost.total", SDB_SPANS_COST_USD, r, err));
    if (kcol(w, SDB_SPANS_TTFT_MS, r) != NULL)
        SDB_TRY(attr_dbl(w, "ai.response.msToFirstChunk", SDB_SPANS_TTFT_MS, r, err));
    if ((c = kcol(w, SDB_SPANS_RETRIES, r)) != NULL)
        SDB_TRY(attr_int(w, "spandb.retries", c->v.i64[r], err));
    if ((c = kcol(w, SDB_SPANS_SESSION_ID, r)) != NULL) {
        s = sdb_column_str(c, r, &len);
        SDB_TRY(attr_str(w, "session.id", s, len, err));
    }
    if ((c = kcol(w, SDB_SPANS_USER_ID, r)) != NULL) {
        s = sdb_column_str(c, r, &len);
        SDB_TRY(attr_str(w, "user.id", s, len, err));
    }
    SDB_TRY(lit(w, "]", err));
    if ((c = kcol(w, SDB_SPANS_TTFT_MS, r)) != NULL) {
        SDB_TRY(lit(w, ",\"events\":[{\"timeUnixNano\":", err));
        first_ev = false;
        SDB_TRY(put_ns(w, start + ms_to_ns(c->v.f64[r]), err));
        SDB_TRY(lit(w, ",\"name\":\"ai.stream.firstChunk\"}", err));
    }
    if ((c = kcol(w, SDB_SPANS_HALLUCINATION, r)) != NULL) {
        bool h = c->v.b8[r] != 0;
        SDB_TRY(eval_event(w, &first_ev, end, "hallucination", h ? "hallucinated" : "grounded",
                           -1, r, h ? 1 : 0, err));
    }
    if ((c = kcol(w, SDB_SPANS_RELEVANCE, r)) != NULL)
        SDB_TRY(eval_event(w, &first_ev, end, "relevance",
                           c->v.f64[r] >= 0.5 ? "relevant" : "not_relevant", SDB_SPANS_RELEVANCE,
                           r, 0, err));
    if ((c = kcol(w, SDB_SPANS_FAITHFULNESS, r)) != NULL)
        SDB_TRY(eval_event(w, &first_ev, end, "faithfulness",
                           c->v.f64[r] >= 0.5 ? "faithful" : "unfaithful", SDB_SPANS_FAITHFULNESS,
                           r, 0, err));
    if ((c = kcol(w, SDB_SPANS_FEEDBACK, r)) != NULL)
        SDB_TRY(eval_event(w, &first_ev, end, "user_feedback",
                           c->v.i64[r] > 0 ? "thumbs_up" : "thumbs_down", -1, r, c->v.i64[r],
                           err));
    if (!first_ev)
        SDB_TRY(lit(w, "]", err));
    c = kcol(w, SDB_SPANS_STATUS, r);
    if (c == NULL) {
        SDB_TRY(lit(w, ",\"status\":{}", err));
    } else if (sym_is(c, r, "error")) {
        const sdb_column *et = kcol(w, SDB_SPANS_ERROR_TYPE, r);
        SDB_TRY(lit(w, ",\"status\":{\"code\":2", err));
        if (et != NULL) {
            SDB_TRY(lit(w, ",\"message\":", err));
            SDB_TRY(need(w->out, w->sym[SDB_SPANS_ERROR_TYPE].off[et->v.code[r] + 1], err));
            put_sym(w->out, &w->sym[SDB_SPANS_ERROR_TYPE], et->v.code[r]);
        }
        SDB_TRY(lit(w, "}", err));
    } else {
        SDB_TRY(lit(w, sym_is(c, r, "ok") ? ",\"status\":{\"code\":1}" : ",\"status\":{}", err));
    }
    return lit(w, "}", err);
}

static sdb_rc otlp_resource(otlp_w *w, const uint64_t *rows, uint64_t n, sdb_err *err)
{
    const sdb_column *svc = kcol(w, SDB_SPANS_SERVICE, rows[0]);
    const sdb_column *proj = kcol(w, SDB_SPANS_PROJECT, rows[0]);
    SDB_TRY(lit(w, "{\"resource\":{\"attributes\":[", err));
    w->first_attr = true;
    if (svc != NULL)
        SDB_TRY(attr_sym(w, "service.name", &w->sym[SDB_SPANS_SERVICE], svc->v.code[rows[0]], err));
    if (proj != NULL)
        SDB_TRY(attr_sym(w, "openinference.project.name", &w->sym[SDB_SPANS_PROJECT],
                         proj->v.code[rows[0]], err));
    SDB_TRY(lit(w, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"spandb-gen\",\"version\":\"" SPANDB_VERSION
                   "\"},\"spans\":[",
                err));
    for (uint64_t i = 0; i < n; i++) {
        if (i > 0)
            SDB_TRY(lit(w, ",", err));
        SDB_TRY(otlp_span(w, rows[i], err));
    }
    return lit(w, "]}]}", err);
}

/* Group key of a row: (service code + 1, project code + 1), 0 for NULL. */
static uint64_t group_key(const otlp_w *w, uint64_t r)
{
    const sdb_column *s = kcol(w, SDB_SPANS_SERVICE, r), *p = kcol(w, SDB_SPANS_PROJECT, r);
    return ((uint64_t)(s ? s->v.code[r] + 1 : 0) << 32) | (p ? p->v.code[r] + 1 : 0);
}

sdb_rc sdb_gen_write_otlp_json(const sdb_batch *b, sdb_buf *out, sdb_err *err)
{
    otlp_w w;
    uint64_t *keys = NULL, *order = NULL, *start = NULL, ngroups = 0;
    uint32_t *gid = NULL;
    sdb_rc rc = SDB_OK;
    memset(&w, 0, sizeof w);
    w.b = b;
    w.out = out;
    if (b->nrows == 0)
        return SDB_OK;
    for (int c = 0; c < SDB_SPANS_NCOLS; c++) {
        const sdb_spans_coldef *d = &sdb_spans_cols[c];
        int i = sdb_batch_find(b, d->name, strlen(d->name));
        if (i >= 0 && b->cols[i].type != d->type)
            i = -1;
        w.k.c[c] = i;
    }
    if (w.k.c[SDB_SPANS_TIME] < 0 || w.k.c[SDB_SPANS_TRACE_ID] < 0 || w.k.c[SDB_SPANS_SPAN_ID] < 0)
        return SDB_FAIL(err, SDB_ERR_SCHEMA,
                        "otlp-json needs the columns time, trace_id and span_id of table spans");
    for (uint64_t r = 0; r < b->nrows; r++)
        if (!sdb_column_valid(&b->cols[w.k.c[SDB_SPANS_TIME]], r))
            return SDB_FAIL(err, SDB_ERR_MISUSE, "otlp-json: row %llu has no time",
                            (unsigned long long)r);
    for (int c = 0; c < SDB_SPANS_NCOLS; c++)
        if (w.k.c[c] >= 0 && sdb_spans_cols[c].type == SDB_TYPE_SYMBOL &&
            (rc = esc_dict_build(&w.sym[c], &b->cols[w.k.c[c]], ESC_JSON, err)) != SDB_OK)
            goto done;
    if (w.k.c[SDB_SPANS_SPAN_KIND] >= 0 &&
        (rc = esc_dict_build(&w.upper, &b->cols[w.k.c[SDB_SPANS_SPAN_KIND]], ESC_JSON_UPPER,
                             err)) != SDB_OK)
        goto done;
    /* group rows by resource, groups in order of first appearance, rows in batch order */
    keys = malloc(b->nrows * sizeof *keys);
    gid = malloc(b->nrows * sizeof *gid);
    order = malloc(b->nrows * sizeof *order);
    start = calloc(b->nrows + 1, sizeof *start);
    if (keys == NULL || gid == NULL || order == NULL || start == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to group %llu spans",
                      (unsigned long long)b->nrows);
        goto done;
    }
    for (uint64_t r = 0; r < b->nrows; r++) {
        uint64_t k = group_key(&w, r), g;
        for (g = ngroups; g > 0 && keys[g - 1] != k; g--)
            ; /* few resources: a linear scan from the most recent */
        if (g == 0) {
            keys[ngroups++] = k;
            g = ngroups;
        }
        gid[r] = (uint32_t)(g - 1);
        start[g]++;
    }
    for (uint64_t g = 0; g < ngroups; g++)
        start[g + 1] += start[g];
    {
        uint64_t *fill = keys; /* reuse: the keys are no longer needed */
        for (uint64_t g = 0; g < ngroups; g++)
            fill[g] = start[g];
        for (uint64_t r = 0; r < b->nrows; r++)
            order[fill[gid[r]]++] = r;
    }
    if ((rc = lit(&w, "{\"resourceSpans\":[", err)) != SDB_OK)
        goto done;
    for (uint64_t g = 0; g < ngroups; g++) {
        if (g > 0 && (rc = lit(&w, ",", err)) != SDB_OK)
            goto done;
        if ((rc = otlp_resource(&w, order + start[g], start[g + 1] - start[g], err)) != SDB_OK)
            goto done;
    }
    rc = lit(&w, "]}\n", err);
done:
    for (int c = 0; c < SDB_SPANS_NCOLS; c++)
        esc_dict_free(&w.sym[c]);
    esc_dict_free(&w.upper);
    free(keys);
    free(gid);
    free(order);
    free(start);
    return rc;
}
