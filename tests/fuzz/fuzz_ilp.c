/* Fuzz harness for the line-protocol parser (engine/ilp.c). The first bytes choose options
 * and a split point; the rest is parsed twice, in one piece and in pieces cut at the
 * chosen points (or byte by byte), and the two outcomes (batches and rejections) must be
 * identical. Every batch must stay consistent: equal column lengths, `time` first, string
 * offsets in order, symbol codes inside their dictionary. A violation aborts. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ilp.h"
#include "storage/common/buf.h"
#include "tests/fuzz/fuzz.h"

typedef struct outcome {
    sdb_buf text;  /* the batches and rejections serialised */
    int lines;     /* rejections seen */
    uint64_t last; /* line number of the last rejection */
} outcome;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ilp: %s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* True when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static void on_reject(void *ctx, uint64_t line, uint64_t off, const char *reason)
{
    outcome *o = ctx;
    CHECK(line >= 1);
    CHECK(line >= o->last);
    CHECK(reason != NULL && strncmp(reason, "line ", 5) == 0);
    CHECK(valid_utf8((const uint8_t *)reason, strlen(reason)));
    for (const char *c = reason; *c != '\0'; c++)
        CHECK((uint8_t)*c >= 0x20 && *c != 0x7f);
    o->last = line;
    o->lines++;
    sdb_buf_printf(&o->text, NULL, "reject %llu %llu %s\n", (unsigned long long)line,
                   (unsigned long long)off, reason);
}

/* A fixed catalog: the column's first letter says its type. */
static bool resolve(void *ctx, const char *table, const char *column, sdb_type *type)
{
    (void)ctx;
    (void)table;
    switch (column[0]) {
    case 'i': *type = SDB_TYPE_INT64; return true;
    case 'f': *type = SDB_TYPE_FLOAT64; return true;
    case 's': *type = SDB_TYPE_SYMBOL; return true;
    case 'S': *type = SDB_TYPE_STRING; return true;
    case 'b': *type = SDB_TYPE_BOOL; return true;
    case 'T': *type = SDB_TYPE_TIMESTAMP; return true;
    default: return false;
    }
}

static void check_and_dump(const sdb_ilp_table *t, uint32_t nt, sdb_buf *out)
{
    for (uint32_t i = 0; i < nt; i++) {
        const sdb_batch *b = &t[i].batch;
        CHECK(t[i].name != NULL && t[i].name[0] != '\0');
        CHECK(valid_utf8((const uint8_t *)t[i].name, strlen(t[i].name)));
        CHECK(b->nrows > 0);
        CHECK(b->ncols >= 1 && strcmp(b->names[0], "time") == 0);
        CHECK(b->cols[0].type == SDB_TYPE_TIMESTAMP);
        CHECK(b->ncols <= SDB_ILP_MAX_COLUMNS);
        sdb_buf_printf(out, NULL, "table %s %llu\n", t[i].name, (unsigned long long)b->nrows);
        for (uint32_t c = 0; c < b->ncols; c++) {
            const sdb_column *col = &b->cols[c];
            CHECK(col->n == b->nrows);
            CHECK(sdb_batch_find(b, b->names[c], strlen(b->names[c])) == (int)c);
            CHECK(b->names[c][0] != '\0');
            CHECK(valid_utf8((const uint8_t *)b->names[c], strlen(b->names[c])));
            sdb_buf_printf(out, NULL, "%s %d:", b->names[c], (int)col->type);
            for (uint64_t r = 0; r < col->n; r++) {
                uint32_t len;
                const char *s;
                if (!sdb_column_valid(col, r)) {
                    sdb_buf_printf(out, NULL, " -");
                    continue;
                }
                switch (col->type) {
                case SDB_TYPE_TIMESTAMP:
                case SDB_TYPE_INT64:
                    sdb_buf_printf(out, NULL, " %lld", (long long)col->v.i64[r]);
                    break;
                case SDB_TYPE_FLOAT64: sdb_buf_append(out, &col->v.f64[r], 8, NULL); break;
                case SDB_TYPE_BOOL:
                    CHECK(col->v.b8[r] <= 1);
                    sdb_buf_printf(out, NULL, " %d", col->v.b8[r]);
                    break;
                case SDB_TYPE_SYMBOL:
                    CHECK(col->v.code[r] < sdb_symdict_count(col->dict));
                    __attribute__((fallthrough));
                case SDB_TYPE_STRING:
                    if (col->type == SDB_TYPE_STRING)
                        CHECK(col->v.off[r] <= col->v.off[r + 1] &&
                              col->v.off[r + 1] <= col->nbytes);
                    s = sdb_column_str(col, r, &len);
                    CHECK(valid_utf8((const uint8_t *)s, len));
                    sdb_buf_printf(out, NULL, " %u:", len);
                    sdb_buf_append(out, s, len, NULL);
                    break;
                }
            }
            sdb_buf_printf(out, NULL, "\n");
        }
    }
}

/* Parse data cut at cuts[0..ncuts) (ncuts < 0: byte by byte) into o. */
static void run(const sdb_ilp_opts *base, const uint8_t *data, size_t size, const size_t *cuts,
                int ncuts, outcome *o)
{
    sdb_ilp_opts opts = *base;
    sdb_ilp *p;
    sdb_err err;
    sdb_ilp_table *t;
    uint32_t nt;
    size_t at = 0;
    opts.on_reject = on_reject;
    opts.reject_ctx = o;
    CHECK(sdb_ilp_create(&opts, &p, &err) == SDB_OK);
    if (ncuts < 0) {
        for (size_t i = 0; i < size; i++)
            CHECK(sdb_ilp_feed(p, data + i, 1, &err) == SDB_OK);
    } else {
        for (int i = 0; i <= ncuts; i++) {
            size_t to = i < ncuts ? cuts[i] : size;
            CHECK(sdb_ilp_feed(p, data + at, to - at, &err) == SDB_OK);
            at = to;
        }
    }
    CHECK(sdb_ilp_finish(p, &err) == SDB_OK);
    uint64_t pending = sdb_ilp_pending(p);
    CHECK(sdb_ilp_take(p, &t, &nt, &err) == SDB_OK);
    uint64_t rows = 0;
    for (uint32_t i = 0; i < nt; i++)
        rows += t[i].batch.nrows;
    CHECK(rows == pending);
    sdb_ilp_stats st = sdb_ilp_get_stats(p);
    CHECK(st.rows == rows);
    CHECK(st.rejected == (uint64_t)o->lines);
    CHECK(st.bytes == size);
    check_and_dump(t, nt, &o->text);
    sdb_ilp_tables_free(t, nt);
    sdb_ilp_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdb_ilp_opts o = {0};
    outcome whole = {SDB_BUF_INIT, 0, 0}, split = {SDB_BUF_INIT, 0, 0};
    size_t cuts[2];
    int ncuts;
    uint8_t flags;
    if (size < 3)
        return 0;
    flags = data[0];
    cuts[0] = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    o.precision = (sdb_ilp_precision)(flags & 3);
    o.now_ns = 1234567;
    if (flags & 4)
        o.max_line = 16 + (flags >> 6) * 24;
    if (flags & 8) {
        o.max_columns = 4;
        o.max_tables = 3;
    }
    if (flags & 16)
        o.resolve = resolve;
    cuts[0] = size ? cuts[0] % (size + 1) : 0;
    cuts[1] = size ? (cuts[0] + ((size_t)flags * 7919u) % (size + 1)) % (size + 1) : 0;
    if (cuts[1] < cuts[0]) {
        size_t x = cuts[0];
        cuts[0] = cuts[1];
        cuts[1] = x;
    }
    ncuts = (flags & 32) && size <= 4096 ? -1 : 2;
    run(&o, data, size, NULL, 0, &whole);
    run(&o, data, size, cuts, ncuts, &split);
    if (whole.text.len != split.text.len ||
        (whole.text.len > 0 && memcmp(whole.text.data, split.text.data, whole.text.len) != 0)) {
        fprintf(stderr,
                "fuzz_ilp: cut at %zu and %zu (%d) changes the outcome\n--- whole\n%.*s"
                "--- split\n%.*s",
                cuts[0], cuts[1], ncuts, (int)whole.text.len, (const char *)whole.text.data,
                (int)split.text.len, (const char *)split.text.data);
        abort();
    }
    sdb_buf_free(&whole.text);
    sdb_buf_free(&split.text);
    return 0;
}
