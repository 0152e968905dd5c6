/* The SQL parser, the AST printer and the function table: one test per grammar rule and per
 * error path, and printer round trips over dashboard-style queries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/ast.h"
#include "query/functions.h"
#include "query/parser.h"
#include "storage/common/timefmt.h"

static sdb_arena *arena;

static void setup(void)
{
    arena = sdb_arena_create(64u << 20);
    cr_assert_not_null(arena);
}

static void teardown(void)
{
    sdb_arena_destroy(arena);
}

TestSuite(parser, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(printer, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(functions, .timeout = 30);

static sdb_stmt *parse_ok(const char *sql)
{
    sdb_stmt *st = NULL;
    sdb_err err;
    sdb_pos pos;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_parse(arena, sql, strlen(sql), &st, &pos, &err), SDB_OK, "%s\n  -> %s", sql,
                 err.msg);
    cr_assert_not_null(st);
    cr_assert_eq(pos.line, 0);
    return st;
}

static sdb_expr *expr_ok(const char *sql)
{
    sdb_expr *e = NULL;
    sdb_err err;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_parse_expr(arena, sql, strlen(sql), &e, NULL, &err), SDB_OK, "%s\n  -> %s",
                 sql, err.msg);
    return e;
}

/* Canonical text of a statement; caller frees. */
static char *print_stmt(const sdb_stmt *st)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    char *s;
    cr_assert_eq(sdb_ast_print_stmt(st, &b, &err), SDB_OK, "%s", err.msg);
    s = strndup((const char *)b.data, b.len);
    sdb_buf_free(&b);
    return s;
}

static char *print_expr(const sdb_expr *e)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    char *s;
    cr_assert_eq(sdb_ast_print_expr(e, &b, &err), SDB_OK, "%s", err.msg);
    s = strndup((const char *)b.data, b.len);
    sdb_buf_free(&b);
    return s;
}

/* Parse, print, parse the printed text, print again: both prints agree; returns the text. */
static char *round_trip(const char *sql)
{
    char *once = print_stmt(parse_ok(sql));
    char *twice = print_stmt(parse_ok(once));
    cr_assert_str_eq(once, twice, "printing is not stable for: %s", sql);
    free(twice);
    return once;
}

static void canonical_is(const char *sql, const char *want)
{
    char *got = round_trip(sql);
    cr_assert_str_eq(got, want, "for: %s", sql);
    free(got);
}

static void expr_canonical_is(const char *sql, const char *want)
{
    char *got = print_expr(expr_ok(sql));
    cr_assert_str_eq(got, want, "for: %s", sql);
    char *again = print_expr(expr_ok(got));
    cr_assert_str_eq(again, got);
    free(again);
    free(got);
}

static void parse_fails(const char *sql, sdb_rc code, const char *msg, uint32_t line, uint32_t col)
{
    sdb_stmt *st = NULL;
    sdb_err err;
    sdb_pos pos = {99, 99};
    sdb_err_clear(&err);
    cr_assert_eq(sdb_parse(arena, sql, strlen(sql), &st, &pos, &err), code, "%s -> %s", sql,
                 err.msg);
    cr_assert_str_eq(err.msg, msg, "for: %.200s", sql);
    cr_assert(pos.line == line && pos.col == col, "%s: position %u:%u, want %u:%u", sql, pos.line,
              pos.col, line, col);
}

static void parse_fails_with(const char *sql, sdb_rc code, const char *fragment)
{
    sdb_stmt *st = NULL;
    sdb_err err;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_parse(arena, sql, strlen(sql), &st, NULL, &err), code, "%s -> %s", sql,
                 err.msg);
    cr_assert(strstr(err.msg, fragment) != NULL, "'%s' lacks '%s'", err.msg, fragment);
}

/* ---- statements ---------------------------------------------------------------------- */

Test(parser, select_full_clause_set_fills_every_field)
{
    sdb_stmt *st = parse_ok("SELECT model, p99(duration_ms) AS p, count(*) n FROM spans "
                            "WHERE status = 'ok' GROUP BY model, 2 HAVING count(*) > 10 "
                            "ORDER BY p DESC NULLS LAST, 1 LIMIT 10 OFFSET 5;");
    sdb_select *s;
    cr_assert_eq(st->kind, SDB_STMT_SELECT);
    s = st->v.select;
    cr_assert_eq(s->nitems, 3);
    cr_assert_str_eq(s->items[1].alias.s, "p");
    cr_assert_str_eq(s->items[2].alias.s, "n");
    cr_assert_eq(s->items[2].expr->kind, SDB_EXPR_FUNC);
    cr_assert(s->items[2].expr->v.func.star);
    cr_assert_str_eq(s->from.s, "spans");
    cr_assert(s->from_pos.line == 1 && s->from_pos.col == 54);
    cr_assert_eq(s->where->kind, SDB_EXPR_BINARY);
    cr_assert_eq(s->ngroup, 2);
    cr_assert_eq(s->group_by[1]->kind, SDB_EXPR_INT);
    cr_assert_not_null(s->having);
    cr_assert_eq(s->norder, 2);
    cr_assert(s->order_by[0].desc);
    cr_assert_eq(s->order_by[0].nulls, SDB_NULLS_LAST);
    cr_assert(!s->order_by[1].desc);
    cr_assert(s->has_limit && s->limit == 10 && s->offset == 5);
}

Test(parser, select_without_from_is_constant)
{
    sdb_stmt *st = parse_ok("select 1 + 2, now()");
    cr_assert_eq(st->v.select->from.len, 0);
    cr_assert_eq(st->v.select->nitems, 2);
    canonical_is("select 1 + 2 as three", "SELECT 1 + 2 AS three");
}

Test(parser, select_star_and_aliases)
{
    canonical_is("SELECT * FROM spans", "SELECT * FROM spans");
    canonical_is("SELECT *, model m FROM spans", "SELECT *, model AS m FROM spans");
    canonical_is("SELECT a AS \"Total Cost\" FROM t", "SELECT a AS \"Total Cost\" FROM t");
    /* a unit word after a full interval string is an alias */
    canonical_is("SELECT INTERVAL '1h' h", "SELECT INTERVAL '1 hour' AS h");
}

Test(parser, order_by_variants)
{
    canonical_is("SELECT a FROM t ORDER BY a ASC", "SELECT a FROM t ORDER BY a");
    canonical_is("SELECT a FROM t ORDER BY a desc nulls first, b nulls last",
                 "SELECT a FROM t ORDER BY a DESC NULLS FIRST, b NULLS LAST");
    canonical_is("SELECT a FROM t ORDER BY 1", "SELECT a FROM t ORDER BY 1");
}

Test(parser, limit_and_offset)
{
    canonical_is("SELECT a FROM t LIMIT 0", "SELECT a FROM t LIMIT 0");
    canonical_is("SELECT a FROM t LIMIT 5 OFFSET 10", "SELECT a FROM t LIMIT 5 OFFSET 10");
    canonical_is("SELECT a FROM t OFFSET 3", "SELECT a FROM t OFFSET 3");
}

Test(parser, explain_and_explain_analyze)
{
    sdb_stmt *st = parse_ok("EXPLAIN ANALYZE SELECT count(*) FROM spans");
    cr_assert_eq(st->kind, SDB_STMT_EXPLAIN);
    cr_assert(st->v.explain.analyze);
    cr_assert_str_eq(st->v.explain.select->from.s, "spans");
    canonical_is("explain select 1", "EXPLAIN SELECT 1");
    canonical_is("explain analyze select a from t", "EXPLAIN ANALYZE SELECT a FROM t");
}

Test(parser, show_describe_drop)
{
    cr_assert_eq(parse_ok("show tables;")->kind, SDB_STMT_SHOW_TABLES);
    canonical_is("SHOW TABLES", "SHOW TABLES");
    sdb_stmt *st = parse_ok("DESCRIBE spans");
    cr_assert_eq(st->kind, SDB_STMT_DESCRIBE);
    cr_assert_str_eq(st->v.table.name.s, "spans");
    canonical_is("desc Spans", "DESCRIBE spans");
    canonical_is("DROP TABLE t", "DROP TABLE t");
    st = parse_ok("drop table if exists \"My Table\"");
    cr_assert(st->v.drop.if_exists);
    cr_assert_str_eq(st->v.drop.name.s, "My Table");
    canonical_is("drop table if exists x", "DROP TABLE IF EXISTS x");
    /* a table called "if" still works */
    canonical_is("drop table if", "DROP TABLE if");
}

Test(parser, create_table_all_options)
{
    sdb_stmt *st = parse_ok("CREATE TABLE IF NOT EXISTS evals (time TIMESTAMP, score double, "
                            "label symbol, ok boolean, n bigint, note text) PARTITION BY month "
                            "ORDER BY (label, time)");
    cr_assert_eq(st->kind, SDB_STMT_CREATE_TABLE);
    cr_assert(st->v.create.if_not_exists);
    cr_assert_eq(st->v.create.ncols, 6);
    cr_assert_eq(st->v.create.cols[0].type, SDB_TYPE_TIMESTAMP);
    cr_assert_eq(st->v.create.cols[1].type, SDB_TYPE_FLOAT64);
    cr_assert_eq(st->v.create.cols[2].type, SDB_TYPE_SYMBOL);
    cr_assert_eq(st->v.create.cols[3].type, SDB_TYPE_BOOL);
    cr_assert_eq(st->v.create.cols[4].type, SDB_TYPE_INT64);
    cr_assert_eq(st->v.create.cols[5].type, SDB_TYPE_STRING);
    cr_assert_eq(st->v.create.partition, SDB_PARTITION_MONTH);
    cr_assert_eq(st->v.create.nsort, 2);
    cr_assert_str_eq(st->v.create.sort_key[1].s, "time");
    canonical_is("create table t (a int64) partition by hour order by a",
                 "CREATE TABLE t (a int64) PARTITION BY HOUR ORDER BY (a)");
    canonical_is("create table t (time timestamp, v float64)",
                 "CREATE TABLE t (time timestamp, v float64)");
    canonical_is("create table t (a int) partition by day",
                 "CREATE TABLE t (a int64) PARTITION BY DAY");
}

Test(parser, trailing_semicolon_optional)
{
    canonical_is("SELECT 1;", "SELECT 1");
    canonical_is("SELECT 1 ;  -- done", "SELECT 1");
}

/* ---- expressions ---------------------------------------------------------------------- */

Test(parser, literals_of_every_kind)
{
    expr_canonical_is("42", "42");
    expr_canonical_is("-9223372036854775808", "-9223372036854775808");
    expr_canonical_is("9223372036854775807", "9223372036854775807");
    expr_canonical_is("1.5", "1.5");
    expr_canonical_is("0.1", "0.1");
    expr_canonical_is("1e3", "1000.0");
    expr_canonical_is("2.5e-10", "2.5e-10");
    expr_canonical_is("'it''s'", "'it''s'");
    expr_canonical_is("''", "''");
    expr_canonical_is("true", "TRUE");
    expr_canonical_is("False", "FALSE");
    expr_canonical_is("null", "NULL");
    sdb_expr *e = expr_ok("'it''s'");
    cr_assert_eq(e->kind, SDB_EXPR_STRING);
    cr_assert_str_eq(e->v.str.s, "it's");
    cr_assert_eq(e->v.str.len, 4);
}

Test(parser, timestamp_literals)
{
    sdb_expr *e = expr_ok("TIMESTAMP '2026-01-01 00:00:00'");
    cr_assert_eq(e->kind, SDB_EXPR_TIMESTAMP);
    cr_assert_eq(e->v.i, INT64_C(1767225600) * SDB_NS_PER_SEC);
    expr_canonical_is("timestamp '2026-01-02T03:04:05.5+01:00'",
                      "TIMESTAMP '2026-01-02T02:04:05.5Z'");
}

Test(parser, interval_literals_all_forms)
{
    cr_assert_eq(expr_ok("INTERVAL '5 minutes'")->v.i, 5 * SDB_NS_PER_MIN);
    cr_assert_eq(expr_ok("INTERVAL '1h'")->v.i, SDB_NS_PER_HOUR);
    cr_assert_eq(expr_ok("interval 5 minute")->v.i, 5 * SDB_NS_PER_MIN);
    cr_assert_eq(expr_ok("INTERVAL 2 DAYS")->v.i, 2 * SDB_NS_PER_DAY);
    cr_assert_eq(expr_ok("INTERVAL '3' hour")->v.i, 3 * SDB_NS_PER_HOUR);
    cr_assert_eq(expr_ok("INTERVAL '1.5' HOURS")->v.i, 90 * SDB_NS_PER_MIN);
    expr_canonical_is("INTERVAL '24 hours'", "INTERVAL '1 day'");
    expr_canonical_is("INTERVAL '90m'", "INTERVAL '90 minutes'");
    expr_canonical_is("INTERVAL 30 SECOND", "INTERVAL '30 seconds'");
}

Test(parser, columns_quoted_and_qualified)
{
    sdb_expr *e = expr_ok("\"My \"\"Col\"\"\"");
    cr_assert_eq(e->kind, SDB_EXPR_COLUMN);
    cr_assert_str_eq(e->v.col.name.s, "My \"Col\"");
    expr_canonical_is("\"My \"\"Col\"\"\"", "\"My \"\"Col\"\"\"");
    expr_canonical_is("Model", "model");
    expr_canonical_is("\"model\"", "model");
    expr_canonical_is("\"select\"", "\"select\"");
    expr_canonical_is("spans.Model", "spans.model");
    e = expr_ok("s.x");
    cr_assert_str_eq(e->v.col.table.s, "s");
    cr_assert_str_eq(e->v.col.name.s, "x");
}

Test(parser, arithmetic_precedence_and_associativity)
{
    sdb_expr *e = expr_ok("1 + 2 * 3");
    cr_assert_eq(e->v.bin.op, SDB_BINOP_ADD);
    cr_assert_eq(e->v.bin.right->v.bin.op, SDB_BINOP_MUL);
    expr_canonical_is("(1 + 2) * 3", "(1 + 2) * 3");
    expr_canonical_is("1 - (2 - 3)", "1 - (2 - 3)");
    expr_canonical_is("(1 - 2) - 3", "1 - 2 - 3");
    expr_canonical_is("a % b / c * d", "a % b / c * d");
    expr_canonical_is("a / (b * c)", "a / (b * c)");
}

Test(parser, unary_minus_forms)
{
    expr_canonical_is("-x", "-x");
    expr_canonical_is("- - x", "-(-x)");
    expr_canonical_is("-(-5)", "-(-5)");
    expr_canonical_is("2 - -5", "2 - -5");
    expr_canonical_is("-(a + b)", "-(a + b)");
    expr_canonical_is("+x", "x");
    expr_canonical_is("-+5", "-(5)");
    expr_canonical_is("-(5)", "-(5)");
    expr_canonical_is("a * -b", "a * -b");
    sdb_expr *e = expr_ok("-5");
    cr_assert_eq(e->kind, SDB_EXPR_INT);
    cr_assert_eq(e->v.i, -5);
}

Test(parser, comparisons_all_operators)
{
    static const char *ops[] = {"=", "!=", "<>", "<", "<=", ">", ">="};
    static const sdb_binop want[] = {SDB_BINOP_EQ, SDB_BINOP_NE, SDB_BINOP_NE, SDB_BINOP_LT,
                                     SDB_BINOP_LE, SDB_BINOP_GT, SDB_BINOP_GE};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        char q[32];
        snprintf(q, sizeof q, "a %s 1", ops[i]);
        sdb_expr *e = expr_ok(q);
        cr_assert_eq(e->kind, SDB_EXPR_BINARY);
        cr_assert_eq(e->v.bin.op, want[i], "%s", q);
    }
    expr_canonical_is("a <> b", "a != b");
    expr_canonical_is("a + 1 > b * 2", "a + 1 > b * 2");
}

Test(parser, boolean_precedence_not_and_or)
{
    sdb_expr *e = expr_ok("a OR b AND NOT c");
    cr_assert_eq(e->v.bin.op, SDB_BINOP_OR);
    cr_assert_eq(e->v.bin.right->v.bin.op, SDB_BINOP_AND);
    cr_assert_eq(e->v.bin.right->v.bin.right->kind, SDB_EXPR_UNARY);
    expr_canonical_is("(a OR b) AND c", "(a OR b) AND c");
    expr_canonical_is("NOT a = 1", "NOT a = 1");
    expr_canonical_is("NOT (a AND b)", "NOT (a AND b)");
    expr_canonical_is("NOT NOT a", "NOT NOT a");
    expr_canonical_is("a = (NOT b)", "a = (NOT b)");
    expr_canonical_is("a OR (b OR c)", "a OR (b OR c)");
}

Test(parser, in_and_not_in)
{
    sdb_expr *e = expr_ok("model NOT IN ('a', 'b', 'c')");
    cr_assert_eq(e->kind, SDB_EXPR_IN);
    cr_assert(e->v.in.negated);
    cr_assert_eq(e->v.in.nlist, 3);
    expr_canonical_is("x in (1)", "x IN (1)");
    expr_canonical_is("x not in (1, 2 + 3)", "x NOT IN (1, 2 + 3)");
    expr_canonical_is("NOT x IN (1)", "NOT x IN (1)");
}

Test(parser, between_and_not_between)
{
    sdb_expr *e = expr_ok("x BETWEEN 1 AND 2 AND y");
    cr_assert_eq(e->kind, SDB_EXPR_BINARY);
    cr_assert_eq(e->v.bin.left->kind, SDB_EXPR_BETWEEN);
    expr_canonical_is("x not between a - 1 and a + 1", "x NOT BETWEEN a - 1 AND a + 1");
    expr_canonical_is("time BETWEEN TIMESTAMP '2026-01-01' AND now()",
                      "time BETWEEN TIMESTAMP '2026-01-01T00:00:00Z' AND now()");
}

Test(parser, is_null_and_is_not_null)
{
    sdb_expr *e = expr_ok("relevance IS NOT NULL");
    cr_assert_eq(e->kind, SDB_EXPR_IS_NULL);
    cr_assert(e->v.is_null.negated);
    expr_canonical_is("a is null", "a IS NULL");
    expr_canonical_is("(a = b) is null", "a = b IS NULL");
}

Test(parser, like_ilike_and_negations)
{
    sdb_expr *e = expr_ok("name NOT ILIKE '%gpt%'");
    cr_assert_eq(e->kind, SDB_EXPR_LIKE);
    cr_assert(e->v.like.negated && e->v.like.icase);
    expr_canonical_is("name like 'gpt-4%'", "name LIKE 'gpt-4%'");
    expr_canonical_is("name not like 'x'", "name NOT LIKE 'x'");
    expr_canonical_is("name ilike 'x'", "name ILIKE 'x'");
}

Test(parser, case_searched_and_simple)
{
    sdb_expr *e = expr_ok("CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END");
    cr_assert_eq(e->kind, SDB_EXPR_CASE);
    cr_assert_null(e->v.cas.operand);
    cr_assert_eq(e->v.cas.nwhen, 2);
    cr_assert_not_null(e->v.cas.els);
    e = expr_ok("case status when 'ok' then 0 when 'error' then 1 end");
    cr_assert_not_null(e->v.cas.operand);
    cr_assert_null(e->v.cas.els);
    expr_canonical_is("case status when 'ok' then 0 else 1 end",
                      "CASE status WHEN 'ok' THEN 0 ELSE 1 END");
}

Test(parser, cast_and_double_colon)
{
    sdb_expr *e = expr_ok("CAST(x AS double)");
    cr_assert_eq(e->kind, SDB_EXPR_CAST);
    cr_assert_eq(e->v.cast.type, SDB_TYPE_FLOAT64);
    e = expr_ok("x::bigint");
    cr_assert_eq(e->kind, SDB_EXPR_CAST);
    cr_assert_eq(e->v.cast.type, SDB_TYPE_INT64);
    expr_canonical_is("x::float::int", "CAST(CAST(x AS float64) AS int64)");
    expr_canonical_is("cast('2026-01-01' as timestamp)", "CAST('2026-01-01' AS timestamp)");
    expr_canonical_is("-5::float", "CAST(-5 AS float64)");
}

Test(parser, function_calls_star_distinct_and_args)
{
    sdb_expr *e = expr_ok("COUNT(DISTINCT user_id)");
    cr_assert_eq(e->kind, SDB_EXPR_FUNC);
    cr_assert_str_eq(e->v.func.name.s, "count");
    cr_assert(e->v.func.distinct);
    cr_assert_eq(e->v.func.nargs, 1);
    e = expr_ok("count(*)");
    cr_assert(e->v.func.star);
    cr_assert_eq(e->v.func.nargs, 0);
    e = expr_ok("now()");
    cr_assert_eq(e->v.func.nargs, 0);
    cr_assert(!e->v.func.star);
    expr_canonical_is("Quantile(duration_ms, 0.95)", "quantile(duration_ms, 0.95)");
    expr_canonical_is("coalesce(a, b, 0)", "coalesce(a, b, 0)");
    expr_canonical_is("count(distinct a)", "count(DISTINCT a)");
}

Test(parser, positions_on_nodes)
{
    sdb_stmt *st = parse_ok("SELECT a,\n  b + c * 2\nFROM t");
    sdb_expr *e = st->v.select->items[1].expr;
    cr_assert(e->pos.line == 2 && e->pos.col == 3);
    cr_assert(e->v.bin.right->pos.line == 2 && e->v.bin.right->pos.col == 7);
    cr_assert(e->v.bin.right->v.bin.right->pos.col == 11);
    cr_assert(st->v.select->from_pos.line == 3 && st->v.select->from_pos.col == 6);
}

/* ---- errors --------------------------------------------------------------------------- */

Test(parser, error_misspelt_from)
{
    parse_fails("SELECT model, count(*) AS n FORM spans", SDB_ERR_PARSE,
                "parse error at 1:29 near 'FORM': expected FROM", 1, 29);
    parse_fails("SELECT model FORM spans", SDB_ERR_PARSE,
                "parse error at 1:14 near 'FORM': expected FROM", 1, 14);
}

Test(parser, error_missing_from)
{
    parse_fails("SELECT model WHERE x = 1", SDB_ERR_PARSE,
                "parse error at 1:14 near 'WHERE': expected FROM", 1, 14);
    parse_fails("SELECT a FROM", SDB_ERR_PARSE,
                "parse error at 1:14 near end of input: expected a table name after FROM", 1, 14);
}

Test(parser, error_unterminated_string_has_position)
{
    parse_fails("SELECT a FROM t WHERE name = 'abc", SDB_ERR_PARSE,
                "parse error at 1:30 near ''abc': unterminated string literal", 1, 30);
}

Test(parser, error_bad_numbers)
{
    parse_fails("SELECT 9223372036854775808", SDB_ERR_PARSE,
                "parse error at 1:8 near '9223372036854775808': integer out of range "
                "(-2^63 .. 2^63-1)",
                1, 8);
    parse_fails("SELECT -9223372036854775809", SDB_ERR_PARSE,
                "parse error at 1:9 near '9223372036854775809': integer out of range "
                "(-2^63 .. 2^63-1)",
                1, 9);
    parse_fails("SELECT 1e999", SDB_ERR_PARSE,
                "parse error at 1:8 near '1e999': number out of range", 1, 8);
    parse_fails("SELECT 12abc", SDB_ERR_PARSE, "parse error at 1:8 near '12abc': malformed number",
                1, 8);
    parse_fails("SELECT a FROM t LIMIT -1", SDB_ERR_PARSE,
                "parse error at 1:23 near '-': expected a row count after LIMIT", 1, 23);
}

Test(parser, error_unknown_token)
{
    parse_fails("SELECT a FROM t WHERE a # 1", SDB_ERR_PARSE,
                "parse error at 1:25 near '#': unexpected character", 1, 25);
}

Test(parser, error_unbalanced_parentheses)
{
    parse_fails("SELECT count(*) FROM t WHERE (a = 1 OR b = 2", SDB_ERR_PARSE,
                "parse error at 1:45 near end of input: expected ')' to close the '(' at 1:30", 1,
                45);
    parse_fails("SELECT a) FROM t", SDB_ERR_PARSE,
                "parse error at 1:9 near ')': unbalanced parentheses: ')' without '('", 1, 9);
    parse_fails("SELECT a FROM t WHERE b = 1)", SDB_ERR_PARSE,
                "parse error at 1:28 near ')': unbalanced parentheses: ')' without '('", 1, 28);
    parse_fails("SELECT count(a FROM t", SDB_ERR_PARSE,
                "parse error at 1:16 near 'FROM': expected ',' or ')'", 1, 16);
    parse_fails("SELECT a FROM t WHERE x IN (1, 2", SDB_ERR_PARSE,
                "parse error at 1:33 near end of input: expected ',' or ')' to close the '(' at "
                "1:28",
                1, 33);
}

Test(parser, error_trailing_garbage)
{
    parse_fails("SELECT a FROM t garbage", SDB_ERR_PARSE,
                "parse error at 1:17 near 'garbage': expected end of input", 1, 17);
    parse_fails("SHOW TABLES now", SDB_ERR_PARSE,
                "parse error at 1:13 near 'now': expected end of input", 1, 13);
    parse_fails("SELECT 1; SELECT 2", SDB_ERR_PARSE,
                "parse error at 1:11 near 'SELECT': expected end of input", 1, 11);
}

Test(parser, error_depth_limit_parentheses)
{
    char q[1200] = "SELECT ";
    for (int i = 0; i < 300; i++)
        strcat(q, "(");
    strcat(q, "1");
    for (int i = 0; i < 300; i++)
        strcat(q, ")");
    parse_fails(q, SDB_ERR_LIMIT,
                "parse error at 1:264 near '(': expression nested deeper than 256 levels", 1, 264);
}

Test(parser, error_depth_limit_chains_and_prefixes)
{
    char *q = malloc(8192);
    cr_assert_not_null(q);
    strcpy(q, "SELECT 1");
    for (int i = 0; i < 400; i++)
        strcat(q, " + 1");
    parse_fails_with(q, SDB_ERR_LIMIT, "expression nested deeper than 256 levels");
    strcpy(q, "SELECT ");
    for (int i = 0; i < 400; i++)
        strcat(q, "NOT ");
    strcat(q, "a");
    parse_fails_with(q, SDB_ERR_LIMIT, "expression nested deeper than 256 levels");
    strcpy(q, "SELECT ");
    for (int i = 0; i < 400; i++)
        strcat(q, "- ");
    strcat(q, "a");
    parse_fails_with(q, SDB_ERR_LIMIT, "expression nested deeper than 256 levels");
    /* 200 deep is fine and prints */
    strcpy(q, "SELECT 1");
    for (int i = 0; i < 200; i++)
        strcat(q, " + 1");
    free(round_trip(q));
    free(q);
}

Test(parser, error_query_too_long)
{
    size_t n = SDB_SQL_MAX_LEN + 10;
    char *q = malloc(n + 1);
    sdb_stmt *st;
    sdb_err err;
    cr_assert_not_null(q);
    memset(q, ' ', n);
    memcpy(q, "SELECT 1", 8);
    q[n] = '\0';
    cr_assert_eq(sdb_parse(arena, q, n, &st, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "exceeds the limit") != NULL, "%s", err.msg);
    free(q);
}

Test(parser, error_statement_and_clause_shapes)
{
    parse_fails("", SDB_ERR_PARSE,
                "parse error at 1:1 near end of input: expected a statement (SELECT, EXPLAIN, "
                "SHOW, DESCRIBE, CREATE or DROP)",
                1, 1);
    parse_fails("UPDATE t SET a = 1", SDB_ERR_PARSE,
                "parse error at 1:1 near 'UPDATE': expected a statement (SELECT, EXPLAIN, SHOW, "
                "DESCRIBE, CREATE or DROP)",
                1, 1);
    parse_fails("SELECT FROM t", SDB_ERR_PARSE,
                "parse error at 1:8 near 'FROM': expected an expression", 1, 8);
    parse_fails("SELECT DISTINCT a FROM t", SDB_ERR_PARSE,
                "parse error at 1:8 near 'DISTINCT': SELECT DISTINCT is not supported; use GROUP "
                "BY",
                1, 8);
    parse_fails("SELECT a, FROM t", SDB_ERR_PARSE,
                "parse error at 1:11 near 'FROM': expected an expression", 1, 11);
    parse_fails("SELECT a FROM select", SDB_ERR_PARSE,
                "parse error at 1:15 near 'select': expected a table name after FROM (SELECT "
                "is a reserved word: quote it as \"SELECT\")",
                1, 15);
    parse_fails("SELECT a FROM t GROUP a", SDB_ERR_PARSE,
                "parse error at 1:23 near 'a': expected BY", 1, 23);
    parse_fails("SELECT a FROM t ORDER BY a NULLS MIDDLE", SDB_ERR_PARSE,
                "parse error at 1:34 near 'MIDDLE': expected FIRST or LAST after NULLS", 1, 34);
    parse_fails("SELECT a IS 1", SDB_ERR_PARSE,
                "parse error at 1:13 near '1': expected NULL or NOT NULL after IS", 1, 13);
    parse_fails("SELECT a BETWEEN 1 OR 2", SDB_ERR_PARSE,
                "parse error at 1:20 near 'OR': expected AND", 1, 20);
    parse_fails("SELECT CASE a END", SDB_ERR_PARSE, "parse error at 1:15 near 'END': expected WHEN",
                1, 15);
    parse_fails("SELECT CASE WHEN a THEN b", SDB_ERR_PARSE,
                "parse error at 1:26 near end of input: expected END", 1, 26);
    parse_fails("SELECT CAST(a AS blob)", SDB_ERR_PARSE,
                "parse error at 1:18 near 'blob': unknown type (known: timestamp, int64, float64, "
                "bool, symbol, string)",
                1, 18);
    parse_fails("SELECT a::", SDB_ERR_PARSE,
                "parse error at 1:11 near end of input: expected a type name", 1, 11);
    parse_fails("SHOW tabls", SDB_ERR_PARSE,
                "parse error at 1:6 near 'tabls': expected TABLES after SHOW", 1, 6);
    parse_fails("EXPLAIN SHOW TABLES", SDB_ERR_PARSE,
                "parse error at 1:9 near 'SHOW': expected SELECT after EXPLAIN", 1, 9);
    parse_fails("CREATE TABLE t (a int64) PARTITION BY week", SDB_ERR_PARSE,
                "parse error at 1:39 near 'week': expected HOUR, DAY or MONTH", 1, 39);
    parse_fails("CREATE TABLE t ()", SDB_ERR_PARSE,
                "parse error at 1:17 near ')': expected a column name", 1, 17);
}

Test(parser, error_literal_contents)
{
    parse_fails("SELECT INTERVAL '1 month'", SDB_ERR_PARSE,
                "parse error at 1:17 near ''1 month'': invalid interval '1 month': months and "
                "years have no fixed length; use days",
                1, 17);
    parse_fails("SELECT INTERVAL 5 fortnight", SDB_ERR_PARSE,
                "parse error at 1:19 near 'fortnight': expected an interval unit (SECOND, "
                "MINUTE, HOUR, DAY, WEEK...)",
                1, 19);
    parse_fails("SELECT INTERVAL 1 MONTH", SDB_ERR_PARSE,
                "parse error at 1:19 near 'MONTH': months and years have no fixed length; use "
                "days",
                1, 19);
    parse_fails("SELECT TIMESTAMP '2026-02-30'", SDB_ERR_PARSE,
                "parse error at 1:18 near ''2026-02-30'': invalid timestamp '2026-02-30': day 30 "
                "out of range for 2026-02",
                1, 18);
    parse_fails("SELECT TIMESTAMP 5", SDB_ERR_PARSE,
                "parse error at 1:18 near '5': expected a timestamp string such as '2026-01-01 "
                "00:00:00'",
                1, 18);
}

Test(parser, error_more_clause_shapes)
{
    parse_fails("SELECT CAST(a AS int", SDB_ERR_PARSE,
                "parse error at 1:21 near end of input: expected ')'", 1, 21);
    parse_fails("SELECT CAST a", SDB_ERR_PARSE, "parse error at 1:13 near 'a': expected '('", 1,
                13);
    parse_fails("CREATE TABLE IF NOT x (a int)", SDB_ERR_PARSE,
                "parse error at 1:21 near 'x': expected EXISTS after IF NOT", 1, 21);
    parse_fails("CREATE TABLE t (a int b int)", SDB_ERR_PARSE,
                "parse error at 1:23 near 'b': expected ',' or ')'", 1, 23);
    parse_fails("CREATE TABLE t (a)", SDB_ERR_PARSE,
                "parse error at 1:18 near ')': expected a type name", 1, 18);
    parse_fails("CREATE TABLE t (a int) ORDER BY (a", SDB_ERR_PARSE,
                "parse error at 1:35 near end of input: expected ')'", 1, 35);
    parse_fails("CREATE t", SDB_ERR_PARSE, "parse error at 1:8 near 't': expected TABLE", 1, 8);
    parse_fails("DROP t", SDB_ERR_PARSE, "parse error at 1:6 near 't': expected TABLE", 1, 6);
    parse_fails("DESCRIBE", SDB_ERR_PARSE,
                "parse error at 1:9 near end of input: expected a table name", 1, 9);
    parse_fails("SELECT INTERVAL 5", SDB_ERR_PARSE,
                "parse error at 1:18 near end of input: expected an interval unit (SECOND, "
                "MINUTE, HOUR, DAY, WEEK...)",
                1, 18);
    parse_fails("SELECT INTERVAL x", SDB_ERR_PARSE,
                "parse error at 1:17 near 'x': expected an interval string such as '5 minutes'", 1,
                17);
    parse_fails("SELECT INTERVAL 9223372036854775807 HOUR", SDB_ERR_PARSE,
                "parse error at 1:17 near '9223372036854775807': interval out of range", 1, 17);
    parse_fails("SELECT INTERVAL 99999999999999999999 HOUR", SDB_ERR_PARSE,
                "parse error at 1:17 near '99999999999999999999': interval out of range", 1, 17);
    parse_fails("SELECT INTERVAL '2' months", SDB_ERR_PARSE,
                "parse error at 1:17 near ''2'': invalid interval '2 months': months and years "
                "have no fixed length; use days",
                1, 17);
    parse_fails("SELECT a.select FROM t", SDB_ERR_PARSE,
                "parse error at 1:10 near 'select': expected a column name after '.' (SELECT is "
                "a reserved word: quote it as \"SELECT\")",
                1, 10);
    parse_fails("SELECT a AS FROM t", SDB_ERR_PARSE,
                "parse error at 1:13 near 'FROM': expected an alias after AS (FROM is a reserved "
                "word: quote it as \"FROM\")",
                1, 13);
}

Test(parser, every_arena_budget_fails_cleanly_or_succeeds)
{
    const char *q = "SELECT model, p99(duration_ms) AS p, CASE WHEN a IN (1, 2, 3) THEN 'x' ELSE "
                    "'y' END, CAST(b AS int) FROM spans WHERE time > now() - INTERVAL '1 day' AND "
                    "c BETWEEN 1 AND 2 AND d LIKE 'x%' AND e IS NOT NULL GROUP BY 1, 2 HAVING "
                    "count(*) > 1 ORDER BY p DESC LIMIT 5";
    const char *c = "CREATE TABLE t (a int, b text, c float, d bool, e symbol) ORDER BY (a, b)";
    for (int which = 0; which < 2; which++) {
        const char *sql = which == 0 ? q : c;
        sdb_arena *big = sdb_arena_create(0);
        sdb_stmt *st;
        sdb_err err;
        size_t need;
        cr_assert_eq(sdb_parse(big, sql, strlen(sql), &st, NULL, &err), SDB_OK);
        need = sdb_arena_used(big);
        sdb_arena_destroy(big);
        for (size_t budget = 16; budget <= need + 16; budget += 16) {
            sdb_arena *a = sdb_arena_create(budget);
            sdb_pos pos;
            sdb_rc rc = sdb_parse(a, sql, strlen(sql), &st, &pos, &err);
            cr_assert(rc == SDB_OK || rc == SDB_ERR_LIMIT, "budget %zu: %s", budget, err.msg);
            if (rc != SDB_OK)
                cr_assert(strstr(err.msg, "memory limit") != NULL, "%s", err.msg);
            else
                cr_assert_geq(budget, need);
            sdb_arena_destroy(a);
        }
    }
}

Test(parser, error_positions_on_later_lines)
{
    parse_fails("SELECT a\nFROM t\nWHERE a = = 1", SDB_ERR_PARSE,
                "parse error at 3:11 near '=': expected an expression", 3, 11);
}

Test(parser, arena_budget_exhaustion_is_reported)
{
    sdb_arena *tiny = sdb_arena_create(256);
    sdb_stmt *st;
    sdb_err err;
    const char *q = "SELECT a, b, c, d, e, f, g, h FROM t WHERE a IN (1, 2, 3, 4, 5, 6, 7, 8)";
    cr_assert_eq(sdb_parse(tiny, q, strlen(q), &st, NULL, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "memory limit") != NULL, "%s", err.msg);
    sdb_arena_destroy(tiny);
}

/* ---- printer round trips over dashboard queries ------------------------------------- */

static const char *const dashboard[] = {
    "SELECT model, p99(duration_ms) AS p99, count(*) FROM spans WHERE time >= now() - INTERVAL "
    "'24 hours' AND span_kind = 'llm' GROUP BY model ORDER BY p99 DESC LIMIT 10",
    "SELECT time_bucket(INTERVAL '1 hour', time) AS hour, count_if(status = 'error') * 1.0 / "
    "count(*) AS error_rate FROM spans GROUP BY 1 ORDER BY 1",
    "SELECT prompt_version, avg(hallucination), avg(relevance), sum(cost_usd) FROM spans WHERE "
    "prompt_name IN ('support', 'sales') AND relevance IS NOT NULL GROUP BY prompt_version "
    "HAVING count(*) > 100",
    "SELECT model, p50(duration_ms), p95(duration_ms), p99(duration_ms) FROM spans GROUP BY model",
    "SELECT model, p50(ttft_ms) AS ttft_p50, p95(ttft_ms) AS ttft_p95 FROM spans WHERE span_kind "
    "= 'llm' GROUP BY model",
    "SELECT model, sum(cost_usd) AS cost FROM spans WHERE time >= now() - INTERVAL '30 days' "
    "GROUP BY model ORDER BY cost DESC",
    "SELECT endpoint, sum(cost_usd) / count(DISTINCT user_id) AS cost_per_user FROM spans GROUP "
    "BY endpoint",
    "SELECT date_trunc('day', time) AS day, sum(input_tokens + output_tokens) AS tokens FROM "
    "spans GROUP BY day ORDER BY day",
    "SELECT error_type, count(*) FROM spans WHERE status = 'error' GROUP BY error_type ORDER BY 2 "
    "DESC",
    "SELECT count_if(error_type = 'rate_limit') * 100.0 / count(*) AS rate_limited_pct FROM spans "
    "WHERE time > now() - INTERVAL '1h'",
    "SELECT avg(retries), max(retries) FROM spans WHERE retries > 0",
    "SELECT user_id, sum(cost_usd) AS spend FROM spans GROUP BY user_id ORDER BY spend DESC "
    "LIMIT 20",
    "SELECT provider, model, approx_count_distinct(session_id) FROM spans GROUP BY provider, model",
    "SELECT quantile(duration_ms, 0.999) FROM spans WHERE model = 'gpt-4o'",
    "SELECT quantile_exact(duration_ms, 0.5) FROM spans WHERE model LIKE 'claude%'",
    "SELECT name, count(*) FROM spans WHERE name ILIKE '%retriev%' GROUP BY name",
    "SELECT span_kind, avg(duration_ms) FROM spans WHERE span_kind NOT IN ('llm', 'embedding') "
    "GROUP BY span_kind",
    "SELECT time_bucket(INTERVAL '5 minutes', time) AS t, p99(duration_ms) FROM spans WHERE time "
    "BETWEEN TIMESTAMP '2026-01-01 00:00:00' AND TIMESTAMP '2026-01-02 00:00:00' GROUP BY t "
    "ORDER BY t",
    "SELECT count(*) FROM spans WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-02-01'",
    "SELECT prompt_version, avg(CASE WHEN hallucination THEN 1.0 ELSE 0.0 END) AS halluc_rate "
    "FROM spans GROUP BY prompt_version",
    "SELECT CASE status WHEN 'ok' THEN 'good' ELSE 'bad' END AS s, count(*) FROM spans GROUP BY s",
    "SELECT model, avg(faithfulness) FROM spans WHERE faithfulness IS NOT NULL GROUP BY model "
    "HAVING avg(faithfulness) < 0.8",
    "SELECT feedback, count(*) FROM spans WHERE feedback IS NULL OR feedback < 0 GROUP BY "
    "feedback",
    "SELECT service, p90(duration_ms) FROM spans WHERE NOT (status = 'ok') GROUP BY service",
    "SELECT project, sum(cost_usd)::float AS c FROM spans GROUP BY project",
    "SELECT CAST(avg(input_tokens) AS int64) FROM spans",
    "SELECT round(avg(cost_usd), 4), abs(min(feedback)) FROM spans",
    "SELECT lower(model), upper(provider), length(trace_id) FROM spans LIMIT 5",
    "SELECT coalesce(error_type, 'none') AS e, count(*) FROM spans GROUP BY e",
    "SELECT * FROM spans WHERE trace_id = 'abc123' ORDER BY time",
    "SELECT * FROM spans ORDER BY time DESC LIMIT 100 OFFSET 200",
    "SELECT span_id, parent_span_id, name, duration_ms FROM spans WHERE trace_id = 'x' ORDER BY "
    "time ASC NULLS FIRST",
    "SELECT model, count(*) AS n FROM spans WHERE duration_ms > 10000 GROUP BY model ORDER BY n "
    "DESC",
    "SELECT model, sum(output_tokens) / sum(duration_ms) * 1000 AS tokens_per_sec FROM spans "
    "GROUP BY model",
    "SELECT time_bucket(INTERVAL 15 MINUTE, time), count(*) FROM spans GROUP BY 1",
    "SELECT endpoint, p99(duration_ms) FROM spans WHERE time > now() - INTERVAL '7 days' AND "
    "endpoint != '/health' GROUP BY endpoint",
    "SELECT endpoint FROM spans WHERE endpoint <> '/health' GROUP BY endpoint",
    "SELECT count(*) FILTERED FROM spans",
    "SELECT label, avg(value) FROM scores WHERE name = 'relevance' GROUP BY label",
    "SELECT name, avg(value), min(value), max(value) FROM scores GROUP BY name",
    "SELECT -sum(feedback) FROM spans",
    "SELECT sum(cost_usd) % 7, -(-1), 2 - -3 FROM spans",
    "SELECT \"weird col\", \"UPPER\" FROM \"My Table\"",
    "SELECT count(*) FROM spans WHERE user_id = 'o''brien'",
    "SELECT max(time) - min(time) AS span FROM spans",
    "SELECT date_trunc('hour', time) AS h, avg(relevance) FROM spans WHERE relevance BETWEEN 0 "
    "AND 1 GROUP BY h ORDER BY h",
    "SELECT model FROM spans WHERE model NOT LIKE 'gpt-3%' AND model NOT BETWEEN 'a' AND 'b'",
    "SELECT count(*) FROM spans WHERE hallucination = TRUE AND relevance > 0.5e0",
    "SELECT count(*) FROM spans WHERE (a OR b) AND (c OR d) AND NOT e",
    "SELECT count(*) FROM spans WHERE a = 1 OR b = 2 AND c = 3",
    "EXPLAIN SELECT model, count(*) FROM spans GROUP BY model",
    "EXPLAIN ANALYZE SELECT p99(duration_ms) FROM spans WHERE time > now() - INTERVAL '1 day'",
    "SHOW TABLES",
    "DESCRIBE spans",
    "CREATE TABLE IF NOT EXISTS scores (time timestamp, trace_id string, value float64, label "
    "symbol) PARTITION BY DAY ORDER BY (time)",
    "DROP TABLE IF EXISTS scores",
    "SELECT 1",
    "SELECT now(), TIMESTAMP '2026-01-01', INTERVAL '1500ms'",
    "SELECT model, count(*) FILTER FROM spans GROUP BY model",
    "SELECT spans.model FROM spans",
    "SELECT x::timestamp FROM t WHERE y::int64 > 3",
    "SELECT count(*) FROM spans WHERE time >= now() - INTERVAL 24 HOUR;",
};

Test(printer, dashboard_queries_round_trip)
{
    for (size_t i = 0; i < sizeof dashboard / sizeof dashboard[0]; i++)
        free(round_trip(dashboard[i]));
}

Test(printer, dashboard_canonical_forms)
{
    canonical_is(
        dashboard[0],
        "SELECT model, p99(duration_ms) AS p99, count(*) FROM spans WHERE time >= now() - "
        "INTERVAL '1 day' AND span_kind = 'llm' GROUP BY model ORDER BY p99 DESC LIMIT 10");
    canonical_is(dashboard[1],
                 "SELECT time_bucket(INTERVAL '1 hour', time) AS hour, count_if(status = 'error') "
                 "* 1.0 / count(*) AS error_rate FROM spans GROUP BY 1 ORDER BY 1");
    canonical_is(dashboard[2], dashboard[2]);
    canonical_is("select  COUNT( * )  from   SPANS  where   A=1", "SELECT count(*) FROM spans "
                                                                  "WHERE a = 1");
}

Test(printer, hand_built_tree_too_deep_is_limit)
{
    sdb_err err;
    sdb_expr *e = sdb_ast_leaf(arena, SDB_EXPR_INT, (sdb_pos){1, 1}, &err);
    sdb_buf b = SDB_BUF_INIT;
    cr_assert_not_null(e);
    /* bypass the constructors' depth check to feed the printer a deeper tree */
    for (int i = 0; i < 300; i++) {
        sdb_expr *u = sdb_ast_node(arena, SDB_EXPR_UNARY, (sdb_pos){1, 1}, &err);
        u->v.unary.op = SDB_UNOP_NOT;
        u->v.unary.arg = e;
        u->depth = (uint16_t)(i + 2);
        e = u;
    }
    cr_assert_eq(sdb_ast_print_expr(e, &b, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "deeper than 256") != NULL, "%s", err.msg);
    sdb_buf_free(&b);
    cr_assert_null(sdb_ast_unary(arena, SDB_UNOP_NOT, e->v.unary.arg, (sdb_pos){1, 1}, &err));
}

Test(printer, ident_bareness)
{
    cr_assert(sdb_ast_ident_is_bare("model", 5));
    cr_assert(sdb_ast_ident_is_bare("_x1$", 4));
    cr_assert(!sdb_ast_ident_is_bare("Model", 5));
    cr_assert(!sdb_ast_ident_is_bare("1x", 2));
    cr_assert(!sdb_ast_ident_is_bare("select", 6));
    cr_assert(!sdb_ast_ident_is_bare("a b", 3));
    cr_assert(!sdb_ast_ident_is_bare("", 0));
}

/* ---- functions -------------------------------------------------------------------------- */

Test(functions, lookup_is_case_insensitive)
{
    const sdb_func_info *f = sdb_func_lookup("COUNT", 5);
    cr_assert_not_null(f);
    cr_assert_eq(f->kind, SDB_FUNC_AGGREGATE);
    cr_assert(f->star_ok && f->distinct_ok);
    f = sdb_func_lookup("Time_Bucket", 11);
    cr_assert_not_null(f);
    cr_assert_eq(f->kind, SDB_FUNC_SCALAR);
    cr_assert_eq(f->min_args, 2);
    cr_assert_null(sdb_func_lookup("p98", 3));
    cr_assert_null(sdb_func_lookup("coun", 4));
    cr_assert_eq(sdb_func_count(), 23);
    for (size_t i = 0; i < sdb_func_count(); i++)
        cr_assert_eq(sdb_func_lookup(sdb_func_at(i)->name, strlen(sdb_func_at(i)->name)),
                     sdb_func_at(i));
    cr_assert_null(sdb_func_at(sdb_func_count()));
}

Test(functions, suggestions_pick_nearest)
{
    static const struct {
        const char *typo, *want;
    } cases[] = {
        {"p98", "p99"},
        {"p91", "p90"},
        {"p94", "p95"},
        {"p9999", "p999"},
        {"cuont", "count"},
        {"COUNTIF", "count_if"},
        {"avgg", "avg"},
        {"quantil", "quantile"},
        {"time_buckt", "time_bucket"},
        {"datetrunc", "date_trunc"},
        {"approx_distinct_count", NULL},
        {"coalese", "coalesce"},
        {"xyz", NULL},
        {"median", NULL},
        {"len", NULL},
        {"lenght", "length"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = sdb_func_suggest(cases[i].typo, strlen(cases[i].typo));
        if (cases[i].want == NULL)
            cr_assert_null(got, "%s -> %s", cases[i].typo, got);
        else
            cr_assert(got != NULL && strcmp(got, cases[i].want) == 0, "%s -> %s, want %s",
                      cases[i].typo, got ? got : "(none)", cases[i].want);
    }
}

Test(functions, unknown_message_with_and_without_suggestion)
{
    sdb_err err;
    cr_assert_eq(sdb_func_unknown("p98", 3, (sdb_pos){1, 8}, &err), SDB_ERR_SCHEMA);
    cr_assert_str_eq(err.msg, "unknown function 'p98' at 1:8 (did you mean 'p99'?)");
    cr_assert_eq(sdb_func_unknown("frobnicate", 10, (sdb_pos){2, 3}, &err), SDB_ERR_SCHEMA);
    cr_assert_str_eq(err.msg, "unknown function 'frobnicate' at 2:3");
}

static void resolve_fails(const char *sql, const char *msg)
{
    sdb_arena *a = sdb_arena_create(0);
    sdb_expr *e;
    sdb_err err;
    const sdb_func_info *f;
    cr_assert_eq(sdb_parse_expr(a, sql, strlen(sql), &e, NULL, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(e->kind, SDB_EXPR_FUNC);
    cr_assert_eq(sdb_func_resolve(e->v.func.name.s, e->v.func.name.len, e->v.func.nargs,
                                  e->v.func.star, e->v.func.distinct, e->pos, &f, &err),
                 SDB_ERR_SCHEMA, "%s", sql);
    cr_assert_str_eq(err.msg, msg);
    sdb_arena_destroy(a);
}

Test(functions, resolve_checks_arity_star_and_distinct)
{
    static const char *const good[] = {
        "count(*)", "count(x)",    "count(DISTINCT x)", "now()", "coalesce(a, b, c, d)",
        "round(x)", "round(x, 2)", "quantile(x, 0.5)",  "P99(x)"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sdb_arena *a = sdb_arena_create(0);
        sdb_expr *e;
        sdb_err err;
        const sdb_func_info *f = NULL;
        cr_assert_eq(sdb_parse_expr(a, good[i], strlen(good[i]), &e, NULL, &err), SDB_OK);
        cr_assert_eq(sdb_func_resolve(e->v.func.name.s, e->v.func.name.len, e->v.func.nargs,
                                      e->v.func.star, e->v.func.distinct, e->pos, &f, &err),
                     SDB_OK, "%s: %s", good[i], err.msg);
        cr_assert_not_null(f);
        sdb_arena_destroy(a);
    }
    resolve_fails("p98(x)", "unknown function 'p98' at 1:1 (did you mean 'p99'?)");
    resolve_fails("quantile(x)", "function 'quantile' at 1:1 takes 2 arguments, got 1");
    resolve_fails("now(1)", "function 'now' at 1:1 takes 0 arguments, got 1");
    resolve_fails("round(x, 1, 2)", "function 'round' at 1:1 takes 1 to 2 arguments, got 3");
    resolve_fails("coalesce()", "function 'coalesce' at 1:1 takes at least 1 argument, got 0");
    resolve_fails("sum(*)", "function 'sum' at 1:1 does not accept '*'");
    resolve_fails("avg(DISTINCT x)",
                  "function 'avg' at 1:1 does not accept DISTINCT (only count does)");
    resolve_fails("count(DISTINCT x, y)",
                  "function 'count' at 1:1 takes exactly one argument with DISTINCT");
    resolve_fails("count(x, y)", "function 'count' at 1:1 takes 1 argument, got 2");
    resolve_fails("count()", "function 'count' at 1:1 takes 1 argument, got 0");
}
