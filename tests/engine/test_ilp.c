/* The line-protocol parser: every vector and decision of LINE_PROTOCOL_CASES.md, chunking,
 * limits, schema rules, rollback and a random round trip. */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ilp.h"
#include "storage/common/buf.h"

#define MAX_REJ 64

typedef struct rej {
    uint64_t line;
    uint64_t off;
    char reason[SDB_ERR_MSG_MAX];
} rej;

typedef struct run {
    sdb_ilp_table *t;
    uint32_t nt;
    rej r[MAX_REJ];
    int nrej;
} run;

static void on_rej(void *ctx, uint64_t line, uint64_t off, const char *reason)
{
    run *r = ctx;
    if (r->nrej < MAX_REJ) {
        r->r[r->nrej].line = line;
        r->r[r->nrej].off = off;
        snprintf(r->r[r->nrej].reason, sizeof r->r[r->nrej].reason, "%s", reason);
    }
    r->nrej++;
}

static sdb_ilp *make(run *r, const sdb_ilp_opts *o)
{
    sdb_ilp_opts opts = {0};
    sdb_ilp *p;
    sdb_err err;
    if (o != NULL)
        opts = *o;
    opts.on_reject = on_rej;
    opts.reject_ctx = r;
    cr_assert_eq(sdb_ilp_create(&opts, &p, &err), SDB_OK, "%s", err.msg);
    return p;
}

static void take(sdb_ilp *p, run *r)
{
    sdb_err err;
    cr_assert_eq(sdb_ilp_take(p, &r->t, &r->nt, &err), SDB_OK, "%s", err.msg);
}

/* Parse text fed in pieces cut at the given offsets (sorted, may be empty). */
static void parse_cuts(run *r, const char *text, size_t len, const size_t *cuts, int ncuts,
                       const sdb_ilp_opts *o)
{
    sdb_ilp *p = make(r, o);
    sdb_err err;
    size_t at = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        cr_assert_eq(sdb_ilp_feed(p, text + at, to - at, &err), SDB_OK, "%s", err.msg);
        at = to;
    }
    cr_assert_eq(sdb_ilp_finish(p, &err), SDB_OK, "%s", err.msg);
    take(p, r);
    sdb_ilp_destroy(p);
}

static void parse(run *r, const char *text, const sdb_ilp_opts *o)
{
    memset(r, 0, sizeof *r);
    parse_cuts(r, text, strlen(text), NULL, 0, o);
}

static void done(run *r)
{
    sdb_ilp_tables_free(r->t, r->nt);
    r->t = NULL;
    r->nt = 0;
}

static const sdb_ilp_table *table(const run *r, const char *name)
{
    for (uint32_t i = 0; i < r->nt; i++)
        if (strcmp(r->t[i].name, name) == 0)
            return &r->t[i];
    return NULL;
}

static const sdb_column *col(const sdb_ilp_table *t, const char *name)
{
    int i = sdb_batch_find(&t->batch, name, strlen(name));
    return i < 0 ? NULL : &t->batch.cols[i];
}

/* Row `row` of a column as text: NULL, numbers, strings as they are. */
static void render(const sdb_column *c, uint64_t row, char *out, size_t cap)
{
    uint32_t len;
    const char *s;
    if (!sdb_column_valid(c, row)) {
        snprintf(out, cap, "NULL");
        return;
    }
    switch (c->type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64: snprintf(out, cap, "%lld", (long long)c->v.i64[row]); break;
    case SDB_TYPE_FLOAT64: snprintf(out, cap, "%.17g", c->v.f64[row]); break;
    case SDB_TYPE_BOOL: snprintf(out, cap, "%s", c->v.b8[row] ? "true" : "false"); break;
    case SDB_TYPE_SYMBOL:
    case SDB_TYPE_STRING:
        s = sdb_column_str(c, row, &len);
        snprintf(out, cap, "%.*s", (int)len, s);
        break;
    }
}

/* Every column of every batch has nrows rows; column 0 is `time`. */
static void check_consistent(const run *r)
{
    for (uint32_t i = 0; i < r->nt; i++) {
        const sdb_batch *b = &r->t[i].batch;
        cr_assert(b->nrows > 0);
        cr_assert_str_eq(b->names[0], "time");
        cr_assert_eq(b->cols[0].type, SDB_TYPE_TIMESTAMP);
        for (uint32_t c = 0; c < b->ncols; c++)
            cr_assert_eq(b->cols[c].n, b->nrows, "table %s column %s has %llu rows, not %llu",
                         r->t[i].name, b->names[c], (unsigned long long)b->cols[c].n,
                         (unsigned long long)b->nrows);
    }
}

/* The whole outcome as text, to compare runs. */
static char *dump(const run *r)
{
    sdb_buf b = SDB_BUF_INIT;
    char v[256];
    for (uint32_t i = 0; i < r->nt; i++) {
        const sdb_batch *bt = &r->t[i].batch;
        sdb_buf_printf(&b, NULL, "table %s rows %llu\n", r->t[i].name,
                       (unsigned long long)bt->nrows);
        for (uint32_t c = 0; c < bt->ncols; c++) {
            sdb_buf_printf(&b, NULL, " %s %s:", bt->names[c], sdb_type_name(bt->cols[c].type));
            for (uint64_t row = 0; row < bt->nrows; row++) {
                render(&bt->cols[c], row, v, sizeof v);
                sdb_buf_printf(&b, NULL, " [%s]", v);
            }
            sdb_buf_printf(&b, NULL, "\n");
        }
    }
    for (int i = 0; i < r->nrej && i < MAX_REJ; i++)
        sdb_buf_printf(&b, NULL, "reject %llu @%llu %s\n", (unsigned long long)r->r[i].line,
                       (unsigned long long)r->r[i].off, r->r[i].reason);
    sdb_buf_put_u8(&b, 0, NULL);
    return (char *)b.data;
}

/* One accepted vector: table, column, type and row 0 rendered. */
static void accept1(const char *in, const char *tname, const char *cname, sdb_type type,
                    const char *value)
{
    run r;
    char v[256];
    parse(&r, in, NULL);
    cr_assert_eq(r.nrej, 0, "%s: rejected: %s", in, r.r[0].reason);
    check_consistent(&r);
    const sdb_ilp_table *t = table(&r, tname);
    cr_assert_not_null(t, "%s: no table '%s'", in, tname);
    cr_assert_eq(t->batch.nrows, 1);
    const sdb_column *c = col(t, cname);
    cr_assert_not_null(c, "%s: no column '%s'", in, cname);
    cr_assert_eq(c->type, type, "%s: column %s is %s", in, cname, sdb_type_name(c->type));
    render(c, 0, v, sizeof v);
    cr_assert_str_eq(v, value, "%s: %s is '%s', expected '%s'", in, cname, v, value);
    done(&r);
}

/* One rejected vector: no rows anywhere, one reject whose reason holds the fragment. */
static void reject1(const char *in, const char *fragment)
{
    run r;
    parse(&r, in, NULL);
    cr_assert_eq(r.nt, 0, "%s: accepted", in);
    cr_assert_eq(r.nrej, 1, "%s: %d rejects", in, r.nrej);
    cr_assert(strstr(r.r[0].reason, fragment) != NULL, "%s: reason '%s' lacks '%s'", in,
              r.r[0].reason, fragment);
    cr_assert(strncmp(r.r[0].reason, "line 1: ", 8) == 0, "%s", r.r[0].reason);
    cr_assert_eq(r.r[0].line, 1);
    cr_assert_eq(r.r[0].off, 0);
    done(&r);
}

/* ------------------------------------------------------------ the vectors */

Test(ilp, vectors_integers_and_floats_parse)
{
    accept1("foo asdf=23i 1234", "foo", "asdf", SDB_TYPE_INT64, "23");
    accept1("foo asdf=23i 1234", "foo", "time", SDB_TYPE_TIMESTAMP, "1234");
    accept1("foo asdf=23u 1234", "foo", "asdf", SDB_TYPE_INT64, "23");
    accept1("foo asdf=44 546", "foo", "asdf", SDB_TYPE_FLOAT64, "44");
    accept1("m0 field=-1.234456e+06 1615869152385000000", "m0", "field", SDB_TYPE_FLOAT64,
            "-1234456");
    accept1("m0 field=-1.234456e+06 1615869152385000000", "m0", "time", SDB_TYPE_TIMESTAMP,
            "1615869152385000000");
    accept1("m0 field=1e-0", "m0", "field", SDB_TYPE_FLOAT64, "1");
    accept1("foo value1=1i -123", "foo", "time", SDB_TYPE_TIMESTAMP, "-123");
}

Test(ilp, vectors_bad_numbers_are_rejected)
{
    reject1("m0 field=-1u 99", "invalid unsigned integer '-1u' for field 'field': negative");
    reject1("m0 field=-1.234456e 1615869152385000000",
            "invalid value '-1.234456e' for field 'field'");
    reject1("m0 field=99999999999999999999999999999999i 99",
            "invalid integer '99999999999999999999999999999999i' for field 'field': out of range");
    reject1("m0 field=1i 99999999999999999999999999999999",
            "timestamp '99999999999999999999999999999999' out of range");
}

Test(ilp, vectors_strings_and_escapes)
{
    accept1("foo asdf=\"\"", "foo", "asdf", SDB_TYPE_STRING, "");
    accept1("foo asdf=\"The \\\"string\\\" val\"", "foo", "asdf", SDB_TYPE_STRING,
            "The \"string\" val");
    accept1("foo asdf=\"too hot\\cold\"", "foo", "asdf", SDB_TYPE_STRING, "too hot\\cold");
    accept1("foo asdf=\"too hot\\\\cold\"", "foo", "asdf", SDB_TYPE_STRING, "too hot\\cold");
    accept1("foo asdf=\"too hot\\\\\\cold\"", "foo", "asdf", SDB_TYPE_STRING, "too hot\\\\cold");
    accept1("wea\\,ther,wea\\=k=wea\\ v f=1", "wea,ther", "wea=k", SDB_TYPE_SYMBOL, "wea v");
    accept1("\\wea\\ther f=1", "\\wea\\ther", "f", SDB_TYPE_FLOAT64, "1");
    reject1("weather\\\\ f=1", "table name 'weather\\\\' ends with a backslash");
    accept1("my\\ Table fieldKey=\"string value\"", "my Table", "fieldKey", SDB_TYPE_STRING,
            "string value");
    accept1("myTable,tagKey=🍭 fieldKey=\"Launch 🚀\" 1556813561098000000", "myTable", "tagKey",
            SDB_TYPE_SYMBOL, "🍭");
    accept1("myTable,tagKey=🍭 fieldKey=\"Launch 🚀\" 1556813561098000000", "myTable", "fieldKey",
            SDB_TYPE_STRING, "Launch 🚀");
}

Test(ilp, vectors_structure_errors_are_rejected)
{
    reject1("testmeasure,foo= bar=1i", "tag 'foo' has an empty value");
    reject1("testmeasure, bar=1i", "missing tag key after ','");
    reject1(",tag1=1,tag2=2 value=1 123", "missing table name");
    reject1("foo 1234", "missing fields in table 'foo'");
    reject1("foo,tag=1,tag=2 v=1", "duplicate tag 'tag'");
    reject1("table v=1i,v=2.0", "field 'v' appears twice with different types (int64 and float64)");
}

Test(ilp, vectors_structure_accepted)
{
    accept1("tag1=1 field=1 1234", "tag1=1", "field", SDB_TYPE_FLOAT64, "1");
    accept1("table v=1i,v=2i", "table", "v", SDB_TYPE_INT64, "2");
    accept1("  measurement  a=1i  123", "measurement", "a", SDB_TYPE_INT64, "1");
    accept1("  measurement  a=1i  123", "measurement", "time", SDB_TYPE_TIMESTAMP, "123");
    run r;
    parse(&r, "# comment", NULL);
    cr_assert_eq(r.nt, 0);
    cr_assert_eq(r.nrej, 0);
    done(&r);
}

/* ----------------------------------------------------------- decision table */

Test(ilp, decision_tags_are_symbols_fields_are_typed)
{
    run r;
    char v[64];
    parse(&r, "m,t=x i=1i,u=2u,f=1.5,s=\"q\",b=t,b2=FALSE,b3=True 7\n", NULL);
    cr_assert_eq(r.nrej, 0, "%s", r.r[0].reason);
    const sdb_ilp_table *t = table(&r, "m");
    cr_assert_eq(col(t, "t")->type, SDB_TYPE_SYMBOL);
    cr_assert_eq(col(t, "i")->type, SDB_TYPE_INT64);
    cr_assert_eq(col(t, "u")->type, SDB_TYPE_INT64);
    cr_assert_eq(col(t, "f")->type, SDB_TYPE_FLOAT64);
    cr_assert_eq(col(t, "s")->type, SDB_TYPE_STRING);
    cr_assert_eq(col(t, "b")->type, SDB_TYPE_BOOL);
    render(col(t, "b"), 0, v, sizeof v);
    cr_assert_str_eq(v, "true");
    render(col(t, "b2"), 0, v, sizeof v);
    cr_assert_str_eq(v, "false");
    render(col(t, "b3"), 0, v, sizeof v);
    cr_assert_str_eq(v, "true");
    done(&r);
    const char *words[] = {"t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"};
    for (int i = 0; i < 10; i++) {
        char line[64];
        snprintf(line, sizeof line, "m b=%s", words[i]);
        accept1(line, "m", "b", SDB_TYPE_BOOL, i < 5 ? "true" : "false");
    }
    reject1("m b=tRUE", "invalid value 'tRUE' for field 'b'");
    reject1("m b=yes", "invalid value 'yes'");
}

Test(ilp, decision_unsigned_above_int64_max_rejected)
{
    accept1("m u=9223372036854775807u", "m", "u", SDB_TYPE_INT64, "9223372036854775807");
    reject1("m u=9223372036854775808u", "invalid integer '9223372036854775808u' for field 'u': "
                                        "out of range");
    accept1("m i=-9223372036854775808i", "m", "i", SDB_TYPE_INT64, "-9223372036854775808");
    reject1("m i=9223372036854775808i", "out of range");
    reject1("m i=1.5i", "invalid value '1.5i'");
}

Test(ilp, decision_duplicates_and_tag_field_clash)
{
    accept1("m v=\"a\",v=\"b\"", "m", "v", SDB_TYPE_STRING, "b");
    accept1("m v=1,v=2.5", "m", "v", SDB_TYPE_FLOAT64, "2.5");
    reject1("m v=1i,v=\"x\"", "field 'v' appears twice with different types (int64 and string)");
    reject1("m,a=1 a=2", "'a' is both a tag and a field");
    reject1("m,t= f=1", "tag 't' has an empty value");
    reject1("m, f=1", "missing tag key");
    reject1("m 1234", "missing fields");
    reject1("m", "missing fields after table 'm'");
    reject1("m,t=1", "missing fields in table 'm'");
    reject1("m,t=1 ", "missing fields in table 'm'");
    reject1("m f=", "field 'f' has no value");
    reject1("m f=1,", "missing field key");
    reject1("m f", "missing fields in table 'm'");
    reject1("m f=1,g", "field 'g' has no value");
    reject1("m f=1 12 13", "unexpected text after the timestamp");
    reject1("m f=1 12x", "invalid timestamp '12x'");
    reject1("m f=\"x\"y", "unexpected 'y' after the value of field 'f'");
    reject1("m time=1", "field 'time' is not allowed");
    reject1("m,time=a f=1", "tag 'time' is not allowed");
    reject1("m f=\"abc", "unterminated string value for field 'f'");
}

Test(ilp, decision_int_into_float_column_is_widened)
{
    run r;
    char v[64];
    parse(&r, "m v=1.5\nm v=2i\n", NULL);
    cr_assert_eq(r.nrej, 0);
    const sdb_column *c = col(table(&r, "m"), "v");
    cr_assert_eq(c->type, SDB_TYPE_FLOAT64);
    render(c, 1, v, sizeof v);
    cr_assert_str_eq(v, "2");
    done(&r);
}

Test(ilp, decision_type_conflicts_reject_the_line_naming_both_types)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"m v=1i\nm v=1.5\n",
         "line 2: column 'v' is int64 in table 'm' but the line writes float64"},
        {"m v=1i\nm v=\"x\"\n",
         "line 2: column 'v' is int64 in table 'm' but the line writes string"},
        {"m v=1.0\nm v=t\n", "line 2: column 'v' is float64 in table 'm' but the line writes bool"},
        {"m v=t\nm v=1i\n", "line 2: column 'v' is bool in table 'm' but the line writes int64"},
        {"m v=\"s\"\nm v=1u\n",
         "line 2: column 'v' is string in table 'm' but the line writes uint64"},
        {"m,v=a f=1\nm v=1,f=1\n",
         "line 2: column 'v' is symbol in table 'm' but the line writes float64"},
        {"m v=1\nm,v=a f=1\n",
         "line 2: column 'v' is float64 in table 'm' but the line writes symbol (a tag)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run r;
        parse(&r, cases[i].in, NULL);
        cr_assert_eq(r.nrej, 1, "%s", cases[i].in);
        cr_assert_str_eq(r.r[0].reason, cases[i].why);
        cr_assert_eq(r.r[0].line, 2);
        cr_assert_eq(table(&r, "m")->batch.nrows, 1);
        check_consistent(&r);
        done(&r);
    }
}

Test(ilp, decision_newline_inside_string_is_kept)
{
    run r;
    char v[64];
    parse(&r, "m s=\"a\nb\" 1\nm s=\"c\" 2\nm s=1i\n", NULL);
    cr_assert_eq(r.nrej, 1);
    cr_assert_eq(r.r[0].line, 4, "line %llu", (unsigned long long)r.r[0].line);
    cr_assert_eq(r.r[0].off, 22);
    cr_assert(strncmp(r.r[0].reason, "line 4: ", 8) == 0, "%s", r.r[0].reason);
    const sdb_column *c = col(table(&r, "m"), "s");
    render(c, 0, v, sizeof v);
    cr_assert_str_eq(v, "a\nb");
    render(c, 1, v, sizeof v);
    cr_assert_str_eq(v, "c");
    done(&r);
}

Test(ilp, decision_invalid_utf8_rejects_the_line)
{
    reject1("m s=\"\xff\"", "invalid UTF-8 in the value of field 's'");
    reject1("m\xc3 f=1", "invalid UTF-8 or a NUL byte in the table name");
    reject1("m,t=\xc0\x80 f=1", "invalid UTF-8 or a NUL byte in the value of tag 't'");
    reject1("m,t\xed\xa0\x80=1 f=1", "invalid UTF-8 or a NUL byte in a tag key");
    reject1("m f\xf4\x90\x80\x80=1", "invalid UTF-8 or a NUL byte in a field key");
    reject1("m s=\"\xe2\x82\"", "invalid UTF-8");
    run r;
    memset(&r, 0, sizeof r);
    parse_cuts(&r, "m,t=a\0b f=1\nm f\0=1\nm\0 f=1\nm s=\"a\0b\"\n", 36, NULL, 0, NULL);
    cr_assert_eq(r.nrej, 3);
    cr_assert_str_eq(r.r[0].reason, "line 1: invalid UTF-8 or a NUL byte in the value of tag 't'");
    cr_assert_str_eq(r.r[1].reason, "line 2: invalid UTF-8 or a NUL byte in a field key");
    cr_assert_str_eq(r.r[2].reason, "line 3: invalid UTF-8 or a NUL byte in the table name");
    cr_assert_eq(table(&r, "m")->batch.nrows, 1);
    uint32_t len;
    const char *sv = sdb_column_str(col(table(&r, "m"), "s"), 0, &len);
    cr_assert(len == 3 && memcmp(sv, "a\0b", 3) == 0);
    done(&r);
    reject1("\\\xc1v f=1", "invalid UTF-8 or a NUL byte in the table name");
    reject1("m,\\\xff=1 f=1", "invalid UTF-8 or a NUL byte in a tag key");
    run rn;
    memset(&rn, 0, sizeof rn);
    parse_cuts(&rn, "m f\\\0=1", 7, NULL, 0, NULL);
    cr_assert_eq(rn.nrej, 1);
    cr_assert_str_eq(rn.r[0].reason, "line 1: invalid UTF-8 or a NUL byte in a field key");
    done(&rn);
    accept1("m,t=\\\xc3\xa9 f=1", "m", "t", SDB_TYPE_SYMBOL, "\\\xc3\xa9");
    accept1("m s=\"\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9\"", "m", "s", SDB_TYPE_STRING, "€ 😀 é");
}

/* ------------------------------------------------------- lines and streams */

Test(ilp, crlf_comments_and_blank_lines)
{
    run r;
    char v[64];
    parse(&r, "m f=1i\r\n\r\n   \n# c\n  # c2\r\nm f=2i 5\r\nm s=\"x\r\ny\"\r\nbad\r\n", NULL);
    cr_assert_eq(r.nrej, 1);
    cr_assert_eq(r.r[0].line, 9, "line %llu", (unsigned long long)r.r[0].line);
    cr_assert(strstr(r.r[0].reason, "missing fields after table 'bad'") != NULL, "%s",
              r.r[0].reason);
    const sdb_ilp_table *t = table(&r, "m");
    cr_assert_eq(t->batch.nrows, 3);
    render(col(t, "time"), 1, v, sizeof v);
    cr_assert_str_eq(v, "5");
    render(col(t, "s"), 2, v, sizeof v);
    cr_assert_str_eq(v, "x\r\ny");
    render(col(t, "f"), 2, v, sizeof v);
    cr_assert_str_eq(v, "NULL");
    check_consistent(&r);
    done(&r);
}

static const char multi[] =
    "spans,service=chat,model=gpt-4o duration_ms=812.345,trace_id=\"4bf9\",tokens=15i 100\n"
    "# a comment\n"
    "\n"
    "spans,service=rag duration_ms=1e3,note=\"multi\nline \\\"quoted\\\"\",ok=t 101\r\n"
    "bad line here\n"
    "wea\\,ther,wea\\=k=wea\\ v f=1,g=\"back\\\\slash\" -5\n"
    "spans,service=chat tokens=1.5 102\n"
    "spans,service=chat tokens=2i,extra=\"é\" 103\n"
    "m s=\"open string with \\\" and\nnew lines\" 7\n"
    "m s=\"x\" 8";

Test(ilp, chunk_boundaries_at_every_offset_give_the_same_batches)
{
    size_t len = strlen(multi);
    run whole, part;
    memset(&whole, 0, sizeof whole);
    parse_cuts(&whole, multi, len, NULL, 0, NULL);
    cr_assert_eq(whole.nrej, 2, "%d", whole.nrej);
    char *expect = dump(&whole);
    for (size_t i = 0; i <= len; i++) {
        memset(&part, 0, sizeof part);
        parse_cuts(&part, multi, len, &i, 1, NULL);
        char *got = dump(&part);
        cr_assert_str_eq(got, expect, "cut at %zu", i);
        free(got);
        done(&part);
    }
    for (size_t i = 0; i <= len; i += 7)
        for (size_t j = i; j <= len; j += 5) {
            size_t cuts[2] = {i, j};
            memset(&part, 0, sizeof part);
            parse_cuts(&part, multi, len, cuts, 2, NULL);
            char *got = dump(&part);
            cr_assert_str_eq(got, expect, "cuts at %zu and %zu", i, j);
            free(got);
            done(&part);
        }
    /* one byte at a time */
    size_t *cuts = malloc(len * sizeof *cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    memset(&part, 0, sizeof part);
    parse_cuts(&part, multi, len, cuts, (int)len, NULL);
    char *got = dump(&part);
    cr_assert_str_eq(got, expect);
    free(got);
    free(cuts);
    done(&part);
    free(expect);
    done(&whole);
}

Test(ilp, reject_reports_line_and_offset)
{
    run r;
    parse(&r, "m f=1\n\nm f=x\nm f=2\n", NULL);
    cr_assert_eq(r.nrej, 1);
    cr_assert_eq(r.r[0].line, 3);
    cr_assert_eq(r.r[0].off, 7);
    cr_assert_str_eq(r.r[0].reason, "line 3: invalid value 'x' for field 'f'");
    cr_assert_eq(table(&r, "m")->batch.nrows, 2);
    done(&r);
}

Test(ilp, line_over_the_limit_is_rejected_and_skipped)
{
    sdb_ilp_opts o = {.max_line = 32};
    char big[200];
    char text[400];
    memset(big, 'a', sizeof big);
    /* exactly 32 bytes is fine, with LF or CRLF */
    snprintf(text, sizeof text, "m s=\"%.*s\"\nm s=\"%.*s\"\r\nm s=\"%.*s\" 1\nm s=\"ok\"\n", 26,
             big, 26, big, 60, big);
    for (int mode = 0; mode < 3; mode++) {
        run r;
        size_t len = strlen(text);
        memset(&r, 0, sizeof r);
        if (mode == 0) {
            parse_cuts(&r, text, len, NULL, 0, &o);
        } else if (mode == 1) {
            size_t cuts[400];
            for (size_t i = 0; i < len; i++)
                cuts[i] = i;
            parse_cuts(&r, text, len, cuts, (int)len, &o);
        } else {
            size_t cut = 70;
            parse_cuts(&r, text, len, &cut, 1, &o);
        }
        cr_assert_eq(r.nrej, 1, "mode %d: %d rejects", mode, r.nrej);
        cr_assert_str_eq(r.r[0].reason, "line 3: line is longer than the limit of 32 bytes");
        cr_assert_eq(r.r[0].off, 67);
        cr_assert_eq(table(&r, "m")->batch.nrows, 3);
        check_consistent(&r);
        done(&r);
    }
    /* a long line whose string holds newlines is skipped as one line */
    run r;
    snprintf(text, sizeof text, "m s=\"%.*s\n%.*s\n\" 1\nm s=\"ok\"\n", 40, big, 40, big);
    parse(&r, text, &o);
    cr_assert_eq(r.nrej, 1);
    cr_assert_eq(table(&r, "m")->batch.nrows, 1);
    done(&r);
    /* the line in the last chunk without LF */
    snprintf(text, sizeof text, "m s=\"ok\"\nm s=\"%.*s\"", 60, big);
    parse(&r, text, &o);
    cr_assert_eq(r.nrej, 1);
    cr_assert_eq(r.r[0].line, 2);
    done(&r);
}

/* -------------------------------------------------------------- limits */

Test(ilp, limits_tables_columns_names_values)
{
    sdb_ilp_opts o = {.max_tables = 2, .max_columns = 4};
    run r;
    parse(&r, "a f=1\nb f=1\nc f=1\na f=2\na g=1,h=1\na g=1,h=1,i=1\n", &o);
    cr_assert_eq(r.nrej, 2);
    cr_assert_str_eq(r.r[0].reason,
                     "line 3: too many tables: table 'c' would be table 3, the limit is 2");
    cr_assert_str_eq(r.r[1].reason, "line 6: too many columns: table 'a' would get column 5 "
                                    "('i'), the limit is 4");
    cr_assert_eq(table(&r, "a")->batch.nrows, 3);
    cr_assert_null(table(&r, "c"));
    check_consistent(&r);
    done(&r);

    /* names over 64 KiB and a string value over 1 MiB */
    sdb_ilp_opts big = {.max_line = 4u << 20};
    size_t n = SDB_ILP_VALUE_MAX + 100;
    char *text = malloc(n + 64);
    memset(text, 'k', n + 64);
    memcpy(text, "m ", 2);
    memcpy(text + 2 + SDB_ILP_NAME_MAX + 1, "=1", 3);
    parse(&r, text, &big);
    cr_assert_eq(r.nrej, 1);
    cr_assert(strstr(r.r[0].reason, "field key of 65537 bytes is longer than the limit of 65536"),
              "%s", r.r[0].reason);
    done(&r);
    memset(text, 'k', n + 64);
    memcpy(text, "m s=\"", 5);
    memcpy(text + 5 + SDB_ILP_VALUE_MAX + 1, "\"", 2);
    parse(&r, text, &big);
    cr_assert_eq(r.nrej, 1);
    cr_assert(strstr(r.r[0].reason, "value of field 's' is 1048577 bytes, longer than the "
                                    "limit of 1048576"),
              "%s", r.r[0].reason);
    done(&r);
    memset(text, 't', n);
    memcpy(text + SDB_ILP_NAME_MAX + 1, " f=1", 5);
    parse(&r, text, &big);
    cr_assert_eq(r.nrej, 1);
    cr_assert(strstr(r.r[0].reason, "table name of 65537 bytes"), "%s", r.r[0].reason);
    done(&r);
    free(text);
}

/* ---------------------------------------------------- precision and time */

Test(ilp, precision_scales_and_overflows)
{
    static const struct {
        sdb_ilp_precision prec;
        const char *in, *out;
    } cases[] = {
        {SDB_ILP_NS, "m f=1 1500", "1500"},
        {SDB_ILP_US, "m f=1 1500", "1500000"},
        {SDB_ILP_MS, "m f=1 1500", "1500000000"},
        {SDB_ILP_S, "m f=1 1500", "1500000000000"},
        {SDB_ILP_S, "m f=1 -2", "-2000000000"},
        {SDB_ILP_S, "m f=1 9223372036", "9223372036000000000"},
        {SDB_ILP_NS, "m f=1 -9223372036854775808", "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run r;
        char v[64];
        sdb_ilp_opts o = {.precision = cases[i].prec};
        parse(&r, cases[i].in, &o);
        cr_assert_eq(r.nrej, 0, "%s", cases[i].in);
        render(col(table(&r, "m"), "time"), 0, v, sizeof v);
        cr_assert_str_eq(v, cases[i].out);
        done(&r);
    }
    run r;
    sdb_ilp_opts o = {.precision = SDB_ILP_S};
    parse(&r, "m f=1 9223372037\n", &o);
    cr_assert_eq(r.nrej, 1);
    cr_assert_str_eq(r.r[0].reason, "line 1: timestamp '9223372037' out of range");
    done(&r);
    sdb_ilp_opts now = {.now_ns = 42};
    parse(&r, "m f=1\nm f=2 7\n", &now);
    char v[64];
    render(col(table(&r, "m"), "time"), 0, v, sizeof v);
    cr_assert_str_eq(v, "42");
    render(col(table(&r, "m"), "time"), 1, v, sizeof v);
    cr_assert_str_eq(v, "7");
    done(&r);
    sdb_ilp *p;
    sdb_err err;
    sdb_ilp_opts bad = {.precision = (sdb_ilp_precision)9};
    cr_assert_eq(sdb_ilp_create(&bad, &p, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "precision") != NULL);
}

/* -------------------------------------------------------- schema on write */

typedef struct catalog {
    const char *table, *column;
    sdb_type type;
    int calls;
} catalog;

static catalog cat[8];

static bool resolve(void *ctx, const char *t, const char *c, sdb_type *type)
{
    (void)ctx;
    for (int i = 0; i < 8 && cat[i].table != NULL; i++)
        if (strcmp(cat[i].table, t) == 0 && strcmp(cat[i].column, c) == 0) {
            cat[i].calls++;
            *type = cat[i].type;
            return true;
        }
    cat[7].calls++; /* misses */
    return false;
}

Test(ilp, resolver_types_win_widen_and_conflict)
{
    memset(cat, 0, sizeof cat);
    cat[0] = (catalog){"spans", "latency", SDB_TYPE_INT64, 0};
    cat[1] = (catalog){"spans", "cost", SDB_TYPE_FLOAT64, 0};
    cat[2] = (catalog){"spans", "model", SDB_TYPE_STRING, 0};
    cat[3] = (catalog){"spans", "user", SDB_TYPE_SYMBOL, 0};
    sdb_ilp_opts o = {.resolve = resolve};
    run r;
    char v[64];
    parse(&r,
          "spans,model=gpt cost=1i,user=\"u1\",latency=5i\n"
          "spans latency=2.5\n"
          "spans cost=\"x\"\n"
          "spans,user=u2 cost=2.5,latency=7i\n",
          &o);
    cr_assert_eq(r.nrej, 2);
    cr_assert_str_eq(r.r[0].reason,
                     "line 2: column 'latency' is int64 in table 'spans' but the line writes "
                     "float64");
    cr_assert_str_eq(r.r[1].reason,
                     "line 3: column 'cost' is float64 in table 'spans' but the line writes "
                     "string");
    const sdb_ilp_table *t = table(&r, "spans");
    cr_assert_eq(t->batch.nrows, 2);
    cr_assert_eq(col(t, "cost")->type, SDB_TYPE_FLOAT64);
    render(col(t, "cost"), 0, v, sizeof v);
    cr_assert_str_eq(v, "1");
    cr_assert_eq(col(t, "model")->type, SDB_TYPE_STRING);
    render(col(t, "model"), 0, v, sizeof v);
    cr_assert_str_eq(v, "gpt");
    cr_assert_eq(col(t, "user")->type, SDB_TYPE_SYMBOL);
    render(col(t, "user"), 1, v, sizeof v);
    cr_assert_str_eq(v, "u2");
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cat[i].calls, 1, "column %s asked %d times", cat[i].column, cat[i].calls);
    check_consistent(&r);
    done(&r);

    /* a catalog int64 column rejects the float even when this batch never saw it */
    memset(cat, 0, sizeof cat);
    cat[0] = (catalog){"m", "v", SDB_TYPE_INT64, 0};
    parse(&r, "m v=1.5\n", &o);
    cr_assert_eq(r.nrej, 1);
    cr_assert_str_eq(r.r[0].reason,
                     "line 1: column 'v' is int64 in table 'm' but the line writes float64");
    done(&r);
}

Test(ilp, take_starts_new_batches_and_reasks_absent_columns)
{
    memset(cat, 0, sizeof cat);
    sdb_ilp_opts o = {.resolve = resolve};
    run r;
    memset(&r, 0, sizeof r);
    sdb_ilp *p = make(&r, &o);
    sdb_err err;
    const char *a = "m v=1i\nm v=2i\n", *b = "m v=3.5\nn w=1\n";
    cr_assert_eq(sdb_ilp_feed(p, a, strlen(a), &err), SDB_OK);
    cr_assert_eq(sdb_ilp_pending(p), 2);
    take(p, &r);
    cr_assert_eq(r.nt, 1);
    cr_assert_eq(r.t[0].batch.nrows, 2);
    cr_assert_eq(cat[7].calls, 1);
    done(&r);
    cr_assert_eq(sdb_ilp_pending(p), 0);
    /* a new batch: the in-batch type of v starts over, the catalog is asked again */
    cr_assert_eq(sdb_ilp_feed(p, b, strlen(b), &err), SDB_OK);
    cr_assert_eq(sdb_ilp_finish(p, &err), SDB_OK);
    take(p, &r);
    cr_assert_eq(r.nrej, 0);
    cr_assert_eq(r.nt, 2);
    cr_assert_eq(cat[7].calls, 3);
    cr_assert_eq(col(table(&r, "m"), "v")->type, SDB_TYPE_FLOAT64);
    check_consistent(&r);
    done(&r);
    take(p, &r);
    cr_assert_eq(r.nt, 0);
    cr_assert_null(r.t);
    sdb_ilp_stats st = sdb_ilp_get_stats(p);
    cr_assert_eq(st.rows, 4);
    cr_assert_eq(st.lines, 4);
    cr_assert_eq(st.rejected, 0);
    sdb_ilp_destroy(p);
}

/* -------------------------------------------------------------- rollback */

Test(ilp, rollback_removes_columns_and_tables_the_line_created)
{
    run r;
    parse(&r,
          "m a=1i\n"
          "m,t=x b=2i,c=\"x\",a=1.5\n"
          "n x=1,x=2i\n"
          "m a=3i,d=t\n"
          "m,t2=y e=1i,f=\"s\",g=1.0,e=\"dup\"\n"
          "m a=4i\n",
          NULL);
    cr_assert_eq(r.nrej, 3);
    cr_assert_null(table(&r, "n"));
    const sdb_ilp_table *t = table(&r, "m");
    cr_assert_eq(t->batch.nrows, 3);
    cr_assert_eq(t->batch.ncols, 3, "%u columns", t->batch.ncols);
    cr_assert_not_null(col(t, "a"));
    cr_assert_not_null(col(t, "d"));
    cr_assert_null(col(t, "b"));
    cr_assert_null(col(t, "t"));
    check_consistent(&r);
    char *d = dump(&r);
    cr_assert(strstr(d, " a int64: [1] [3] [4]\n") != NULL, "%s", d);
    cr_assert(strstr(d, " d bool: [NULL] [true] [NULL]\n") != NULL, "%s", d);
    free(d);
    done(&r);
}

/* --------------------------------------------------------------- floats */

Test(ilp, floats_match_strtod_bit_for_bit)
{
    static const char *fixed[] = {"0",
                                  "-0",
                                  "0.1",
                                  "1.7976931348623157e308",
                                  "4.9e-324",
                                  "2.2250738585072014e-308",
                                  "9007199254740993",
                                  "123456789012345678901234567890",
                                  "0.000000000000000000001",
                                  "1e22",
                                  "1e23",
                                  "-1.5e-7",
                                  "3.14159265358979323846",
                                  ".5",
                                  "5.",
                                  "00001.25000",
                                  "1E+6",
                                  "12345678901234567e-5"};
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000 + (int)(sizeof fixed / sizeof fixed[0]); i++) {
        char num[64], line[96];
        if (i < (int)(sizeof fixed / sizeof fixed[0])) {
            snprintf(num, sizeof num, "%s", fixed[i]);
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int digits = 1 + (int)(x % 20), dot = (int)((x >> 8) % (uint64_t)(digits + 1));
            int e = (int)((x >> 16) % 61) - 30;
            int k = 0;
            if ((x >> 24) & 1)
                num[k++] = '-';
            uint64_t y = x;
            for (int d = 0; d < digits; d++) {
                if (d == dot && d > 0)
                    num[k++] = '.';
                y = y * 6364136223846793005ULL + 1442695040888963407ULL;
                num[k++] = (char)('0' + (y >> 60) % 10);
            }
            if ((x >> 30) & 1)
                k += snprintf(num + k, sizeof num - (size_t)k, "e%d", e);
            num[k] = '\0';
        }
        snprintf(line, sizeof line, "m f=%s", num);
        run r;
        parse(&r, line, NULL);
        cr_assert_eq(r.nrej, 0, "%s: %s", line, r.r[0].reason);
        double got = col(table(&r, "m"), "f")->v.f64[0], want = strtod(num, NULL);
        cr_assert(memcmp(&got, &want, sizeof got) == 0, "%s: %.17g != %.17g", num, got, want);
        done(&r);
    }
    reject1("m f=1e999", "invalid float '1e999' for field 'f': out of range");
    reject1("m f=inf", "invalid value 'inf'");
    reject1("m f=NaN", "invalid value 'NaN'");
    reject1("m f=+1", "invalid value '+1'");
    reject1("m f=1.2.3", "invalid value '1.2.3'");
    reject1("m f=-", "invalid value '-'");
    reject1("m f=.", "invalid value '.'");
    reject1("m f=0x10", "invalid value '0x10'");
}

/* ------------------------------------------------------ random round trip */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random string from an alphabet that needs every kind of escape. */
static void rand_text(char *out, size_t n, bool backslash)
{
    static const char *const pieces[] = {"a", "b", "Z",  "0",  "-", "_", ",",
                                         "=", " ", "\\", "\"", "é", "🚀", "x"};
    size_t k = 0;
    size_t len = 1 + next_rand() % 8;
    for (size_t i = 0; i < len; i++) {
        const char *p = pieces[next_rand() % 14];
        if (!backslash && *p == '\\')
            p = "y";
        if (k + strlen(p) + 1 >= n)
            break;
        memcpy(out + k, p, strlen(p));
        k += strlen(p);
    }
    out[k] = '\0';
}

/* Escape s for a context: `set` are the bytes preceded by a backslash. */
static void esc(sdb_buf *b, const char *s, const char *set)
{
    for (; *s; s++) {
        if (strchr(set, *s) != NULL)
            sdb_buf_put_u8(b, '\\', NULL);
        sdb_buf_put_u8(b, (uint8_t)*s, NULL);
    }
}

Test(ilp, random_good_lines_round_trip, .timeout = 120)
{
    enum { N = 10000, NT = 3, NK = 6 };
    static char expect[N][NK][48]; /* rendered value per line and key, "" = absent */
    static int line_table[N];
    static int64_t line_time[N];
    static const char *const tname[NT] = {"spans", "we,ird tab=le", "ünï"};
    /* key k: 0,1 tags; 2 int; 3 float; 4 string; 5 bool */
    static const char *const kname[NK] = {"service", "we=ird,tag key", "tokens",
                                          "cost",    "note \"x\"",     "ok"};
    sdb_buf in = SDB_BUF_INIT;
    for (int i = 0; i < N; i++) {
        int t = (int)(next_rand() % NT);
        char s[48];
        bool any_field = false;
        line_table[i] = t;
        esc(&in, tname[t], ", ");
        for (int k = 0; k < 2; k++) {
            expect[i][k][0] = '\0';
            if (next_rand() % 3 == 0)
                continue;
            rand_text(s, sizeof s, false);
            sdb_buf_put_u8(&in, ',', NULL);
            esc(&in, kname[k], ",= ");
            sdb_buf_put_u8(&in, '=', NULL);
            esc(&in, s, ",= ");
            snprintf(expect[i][k], sizeof expect[i][k], "%s", s);
        }
        sdb_buf_put_u8(&in, ' ', NULL);
        for (int k = 2; k < NK; k++) {
            expect[i][k][0] = '\0';
            if (next_rand() % 3 == 0 && !(k == NK - 1 && !any_field))
                continue;
            if (any_field)
                sdb_buf_put_u8(&in, ',', NULL);
            any_field = true;
            esc(&in, kname[k], ",= ");
            sdb_buf_put_u8(&in, '=', NULL);
            switch (k) {
            case 2: {
                int64_t v = (int64_t)next_rand();
                sdb_buf_printf(&in, NULL, "%lldi", (long long)v);
                snprintf(expect[i][k], sizeof expect[i][k], "%lld", (long long)v);
                break;
            }
            case 3: {
                double v = (double)(int64_t)next_rand() / 1e6;
                char txt[40];
                snprintf(txt, sizeof txt, "%.17g", v);
                sdb_buf_printf(&in, NULL, "%s", txt);
                snprintf(expect[i][k], sizeof expect[i][k], "%.17g", strtod(txt, NULL));
                break;
            }
            case 4:
                rand_text(s, sizeof s, true);
                sdb_buf_put_u8(&in, '"', NULL);
                esc(&in, s, "\"\\");
                sdb_buf_put_u8(&in, '"', NULL);
                snprintf(expect[i][k], sizeof expect[i][k], "%s", s);
                break;
            default: {
                bool v = next_rand() & 1;
                sdb_buf_printf(&in, NULL, "%s", v ? "true" : "F");
                snprintf(expect[i][k], sizeof expect[i][k], "%s", v ? "true" : "false");
            }
            }
        }
        line_time[i] = (int64_t)(next_rand() >> 2);
        sdb_buf_printf(&in, NULL, " %lld%s", (long long)line_time[i], i % 5 ? "\n" : "\r\n");
    }
    /* feed in random chunk sizes */
    run r;
    memset(&r, 0, sizeof r);
    size_t cuts[4096];
    int nc = 0;
    for (size_t at = 0; nc < 4096;) {
        at += 1 + next_rand() % 1000;
        if (at >= in.len)
            break;
        cuts[nc++] = at;
    }
    parse_cuts(&r, (const char *)in.data, in.len, cuts, nc, NULL);
    cr_assert_eq(r.nrej, 0, "%s", r.r[0].reason);
    check_consistent(&r);
    uint64_t row[NT] = {0};
    char v[64];
    for (int i = 0; i < N; i++) {
        const sdb_ilp_table *t = table(&r, tname[line_table[i]]);
        cr_assert_not_null(t);
        uint64_t rw = row[line_table[i]]++;
        cr_assert_eq(col(t, "time")->v.i64[rw], line_time[i]);
        for (int k = 0; k < NK; k++) {
            const sdb_column *c = col(t, kname[k]);
            cr_assert_not_null(c, "table %s lacks %s", tname[line_table[i]], kname[k]);
            render(c, rw, v, sizeof v);
            cr_assert_str_eq(v, expect[i][k][0] ? expect[i][k] : "NULL", "line %d key %s", i + 1,
                             kname[k]);
        }
    }
    for (int t = 0; t < NT; t++)
        cr_assert_eq(table(&r, tname[t])->batch.nrows, row[t]);
    done(&r);
    sdb_buf_free(&in);
}

/* ------------------------------------------------------------ odds and ends */

Test(ilp, take_while_a_line_is_cut_keeps_it_for_the_next_batch)
{
    run r;
    memset(&r, 0, sizeof r);
    sdb_ilp *p = make(&r, NULL);
    sdb_err err;
    const char *a = "m f=1i 1\nm f=2i,s=\"x\ny", *b = "\" 2\nm f=3i 3\n";
    cr_assert_eq(sdb_ilp_feed(p, a, strlen(a), &err), SDB_OK);
    take(p, &r);
    cr_assert_eq(r.nt, 1);
    cr_assert_eq(r.t[0].batch.nrows, 1);
    cr_assert_eq(r.t[0].batch.ncols, 2);
    done(&r);
    cr_assert_eq(sdb_ilp_feed(p, b, strlen(b), &err), SDB_OK);
    sdb_ilp_set_now(p, 99);
    cr_assert_eq(sdb_ilp_feed(p, "m f=4i\n", 7, &err), SDB_OK);
    cr_assert_eq(sdb_ilp_finish(p, &err), SDB_OK);
    take(p, &r);
    cr_assert_eq(r.nrej, 0);
    char *d = dump(&r);
    cr_assert_str_eq(d, "table m rows 3\n"
                        " time timestamp: [2] [3] [99]\n"
                        " f int64: [2] [3] [4]\n"
                        " s string: [x\ny] [NULL] [NULL]\n");
    free(d);
    done(&r);
    sdb_ilp_stats st = sdb_ilp_get_stats(p);
    cr_assert_eq(st.lines, 5);
    cr_assert_eq(st.rows, 4);
    sdb_ilp_destroy(p);
}

Test(ilp, documented_messages_are_the_real_ones)
{
    reject1("m,t f=1", "line 1: tag 't' has no value");
    reject1("m,t\\ f=1", "line 1: missing fields in table 'm'");
    reject1("m,t\\=x\\\\=1 f=1", "line 1: tag key 't\\=x\\\\' ends with a backslash");
    reject1("m,t=a\\\\ f=1", "line 1: value of tag 't' ends with a backslash");
    reject1("m f\\\\=1", "line 1: field key 'f\\\\' ends with a backslash");
    reject1("m =1", "line 1: missing field key");
    reject1("m f=\x01\xff\t", "line 1: invalid value '?"
                              "?"
                              "?' for field 'f'");
    reject1("m f=\xc3\xa9x", "line 1: invalid value '\xc3\xa9x' for field 'f'");
    memset(cat, 0, sizeof cat);
    cat[0] = (catalog){"m", "at", SDB_TYPE_TIMESTAMP, 0};
    sdb_ilp_opts o = {.resolve = resolve};
    run r;
    parse(&r, "m at=5i\n", &o);
    cr_assert_eq(r.nrej, 1);
    cr_assert_str_eq(r.r[0].reason,
                     "line 1: column 'at' is timestamp in table 'm' but the line writes int64");
    done(&r);
    /* long names are cut in messages */
    char line[256];
    memset(line, 'n', sizeof line);
    memcpy(line + 100, " f=x", 5);
    parse(&r, line, NULL);
    cr_assert_eq(r.nrej, 1);
    cr_assert(strstr(r.r[0].reason, "invalid value 'x' for field 'f'") != NULL);
    done(&r);
    memcpy(line + 100, " f=1,g=", 8);
    memset(line + 107, '9', 100);
    memcpy(line + 207, "i", 2);
    parse(&r, line, NULL);
    cr_assert_eq(r.nrej, 1);
    cr_assert(strstr(r.r[0].reason, "invalid integer '9999999999999999999999999999999999999999"
                                    "999999999999999999999999...' for field 'g': out of range"),
              "%s", r.r[0].reason);
    done(&r);
}

Test(ilp, floats_ignore_the_process_locale)
{
    /* a locale with a decimal comma, when the system has one */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL &&
        setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL)
        cr_skip_test("no locale with a decimal comma installed");
    run r;
    parse(&r, "m f=1.2345678901234567890123,g=2.5e-3", NULL);
    setlocale(LC_NUMERIC, "C");
    cr_assert_eq(r.nrej, 0);
    cr_assert(col(table(&r, "m"), "f")->v.f64[0] == 1.2345678901234567890123);
    cr_assert(col(table(&r, "m"), "g")->v.f64[0] == 2.5e-3);
    done(&r);
}
