/* Fuzz harness for the SQL front end: parse arbitrary text as a statement and as an
 * expression; whatever parses is printed, re-parsed and printed again, and the two prints
 * must agree (abort otherwise). The same bytes also go through the timestamp and interval
 * parsers, whose formatted output must read back to the same value, and the function-name
 * suggester. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/ast.h"
#include "query/functions.h"
#include "query/parser.h"
#include "storage/common/timefmt.h"
#include "tests/fuzz/fuzz.h"

static void die(const char *what, const char *a, size_t na, const char *b, size_t nb)
{
    fprintf(stderr, "fuzz_sql: %s\n  first:  %.*s\n  second: %.*s\n", what, (int)na, a, (int)nb, b);
    abort();
}

static void check_stmt(sdb_arena *a, const char *sql, size_t len)
{
    sdb_stmt *st, *st2;
    sdb_err err;
    sdb_buf b1 = SDB_BUF_INIT, b2 = SDB_BUF_INIT;
    if (sdb_parse(a, sql, len, &st, NULL, &err) != SDB_OK)
        return;
    if (sdb_ast_print_stmt(st, &b1, &err) != SDB_OK)
        die(err.msg, sql, len, "", 0);
    if (sdb_parse(a, (const char *)b1.data, b1.len, &st2, NULL, &err) != SDB_OK)
        die(err.msg, sql, len, (const char *)b1.data, b1.len);
    if (sdb_ast_print_stmt(st2, &b2, &err) != SDB_OK)
        die(err.msg, (const char *)b1.data, b1.len, "", 0);
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
        die("statement prints differ", (const char *)b1.data, b1.len, (const char *)b2.data,
            b2.len);
    sdb_buf_free(&b1);
    sdb_buf_free(&b2);
}

static void check_expr(sdb_arena *a, const char *sql, size_t len)
{
    sdb_expr *e, *e2;
    sdb_err err;
    sdb_buf b1 = SDB_BUF_INIT, b2 = SDB_BUF_INIT;
    if (sdb_parse_expr(a, sql, len, &e, NULL, &err) != SDB_OK)
        return;
    if (sdb_ast_print_expr(e, &b1, &err) != SDB_OK)
        die(err.msg, sql, len, "", 0);
    if (sdb_parse_expr(a, (const char *)b1.data, b1.len, &e2, NULL, &err) != SDB_OK)
        die(err.msg, sql, len, (const char *)b1.data, b1.len);
    if (sdb_ast_print_expr(e2, &b2, &err) != SDB_OK)
        die(err.msg, (const char *)b1.data, b1.len, "", 0);
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
        die("expression prints differ", (const char *)b1.data, b1.len, (const char *)b2.data,
            b2.len);
    sdb_buf_free(&b1);
    sdb_buf_free(&b2);
}

static void check_time(const char *s, size_t len)
{
    sdb_err err;
    int64_t ns, back;
    char out[SDB_INTERVAL_FMT_MAX > SDB_TIME_FMT_MAX ? SDB_INTERVAL_FMT_MAX : SDB_TIME_FMT_MAX];
    if (sdb_time_parse(s, len, &ns, &err) == SDB_OK) {
        size_t n = sdb_time_format(ns, out);
        if (sdb_time_parse(out, n, &back, &err) != SDB_OK || back != ns)
            die("timestamp does not read back", s, len, out, n);
    }
    if (sdb_interval_parse(s, len, &ns, &err) == SDB_OK) {
        size_t n = sdb_interval_format(ns, out);
        if (sdb_interval_parse(out, n, &back, &err) != SDB_OK || back != ns)
            die("interval does not read back", s, len, out, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdb_arena *a = sdb_arena_create(256u << 20);
    const char *sql = (const char *)data;
    if (a == NULL)
        return 0;
    check_stmt(a, sql, size);
    check_expr(a, sql, size);
    check_time(sql, size);
    (void)sdb_func_suggest(sql, size);
    sdb_arena_destroy(a);
    return 0;
}
