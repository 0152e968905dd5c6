/* Statements through sdb_run_sql: every user mistake gets its error code
 * and an exact message naming the position (line:column) and, where one is near, a
 * suggestion; runtime failures (overflow, bad casts, the memory bound) name what failed;
 * EXPLAIN reports the partitions that time conditions skip; the dashboard examples of
 * docs/sql.md run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gen.h"
#include "engine/run.h"
#include "tests/support/tmpdir.h"

#ifndef SDB_SOURCE_DIR
#define SDB_SOURCE_DIR "."
#endif

static sdb_db *db;

static void setup(void)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_gen_opts go;
    sdb_gen *g;
    sdb_batch b;
    sdb_err err;
    uint64_t added;
    tmpdir_setup();
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.seg.no_sync = true;
    tmpdir_path(dir, sizeof dir, "db");
    cr_assert_eq(sdb_db_open(dir, &o, &db, NULL, &err), SDB_OK, "%s", err.msg);
    sdb_gen_opts_default(&go);
    go.rows = 3000;
    go.days = 3;
    cr_assert_eq(sdb_gen_create(&go, &g, &err), SDB_OK, "%s", err.msg);
    sdb_batch_init(&b);
    cr_assert_eq(sdb_gen_next(g, 3000, &b, &added, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_db_write(db, "spans", &b, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_db_flush(db, NULL, &err), SDB_OK, "%s", err.msg);
    sdb_batch_free(&b);
    sdb_gen_destroy(g);
}

static void teardown(void)
{
    sdb_err err;
    sdb_db_close(db, &err);
    db = NULL;
    tmpdir_teardown();
}

TestSuite(sqlerr, .init = setup, .fini = teardown, .timeout = 120);

static sdb_rc run_mem(const char *sql, size_t mem, sdb_err *err)
{
    sdb_run_opts o;
    sdb_run_result r;
    sdb_rc rc;
    memset(&o, 0, sizeof o);
    o.threads = 2;
    o.query_memory = mem;
    o.now_ns = 1767484800000000000LL;
    rc = sdb_run_sql(db, sql, strlen(sql), &o, &r, err);
    if (rc == SDB_OK)
        sdb_run_result_free(&r);
    return rc;
}

/* sql fails with code and exactly msg. */
static void fails(const char *sql, sdb_rc code, const char *msg)
{
    sdb_err err;
    sdb_rc rc = run_mem(sql, 0, &err);
    cr_assert_eq(rc, code, "%s: got %d (%s), want %d", sql, rc, rc ? err.msg : "ok", code);
    cr_expect_str_eq(err.msg, msg, "%s\n  got:  %s\n  want: %s", sql, err.msg, msg);
}

Test(sqlerr, unknown_column_suggests)
{
    fails("SELECT modle FROM spans", SDB_ERR_SCHEMA,
          "unknown column 'modle' in table 'spans' (did you mean 'model'?) at 1:8");
    fails("SELECT count(*) FROM spans\nWHERE duraton_ms > 5", SDB_ERR_SCHEMA,
          "unknown column 'duraton_ms' in table 'spans' (did you mean 'duration_ms'?) at 2:7");
    fails("SELECT zzzzzz FROM spans", SDB_ERR_SCHEMA, "unknown column 'zzzzzz' in table 'spans' at 1:8");
    fails("SELECT model", SDB_ERR_SCHEMA, "column 'model' needs a FROM clause at 1:8");
}

Test(sqlerr, unknown_table_suggests)
{
    fails("SELECT model FROM span", SDB_ERR_NOTFOUND,
          "unknown table 'span' at 1:19 (did you mean 'spans'?)");
    fails("SELECT 1 FROM qqqqqq", SDB_ERR_NOTFOUND, "unknown table 'qqqqqq' at 1:15");
    fails("DESCRIBE spanz", SDB_ERR_NOTFOUND, "unknown table 'spanz' at 1:10 (did you mean 'spans'?)");
    fails("DROP TABLE spams", SDB_ERR_NOTFOUND, "unknown table 'spams' at 1:12 (did you mean 'spans'?)");
}

Test(sqlerr, unknown_function_suggests)
{
    fails("SELECT p98(duration_ms) FROM spans", SDB_ERR_SCHEMA,
          "unknown function 'p98' at 1:8 (did you mean 'p99'?)");
    fails("SELECT model, cuont(*) FROM spans GROUP BY model", SDB_ERR_SCHEMA,
          "unknown function 'cuont' at 1:15 (did you mean 'count'?)");
    fails("SELECT quantile(duration_ms) FROM spans", SDB_ERR_SCHEMA,
          "function 'quantile' at 1:8 takes 2 arguments, got 1");
    fails("SELECT quantile(duration_ms, 1.5) FROM spans", SDB_ERR_SCHEMA,
          "quantile needs a constant level between 0 and 1 as its second argument at 1:8");
    fails("SELECT sum(DISTINCT cost_usd) FROM spans", SDB_ERR_SCHEMA,
          "function 'sum' at 1:8 does not accept DISTINCT (only count does)");
}

Test(sqlerr, misplaced_aggregates)
{
    fails("SELECT model FROM spans WHERE count(*) > 1", SDB_ERR_SCHEMA,
          "aggregate function 'count' is not allowed in WHERE at 1:31");
    fails("SELECT sum(count(*)) FROM spans", SDB_ERR_SCHEMA,
          "aggregate function 'count' inside another aggregate at 1:12");
    fails("SELECT model, count(*) FROM spans GROUP BY count(*)", SDB_ERR_SCHEMA,
          "GROUP BY cannot use an aggregate at 1:44");
}

Test(sqlerr, bare_column_not_grouped)
{
    fails("SELECT model, endpoint, count(*) FROM spans GROUP BY model", SDB_ERR_SCHEMA,
          "column 'endpoint' must appear in GROUP BY or be used in an aggregate function at 1:15");
    fails("SELECT model, count(*) FROM spans", SDB_ERR_SCHEMA,
          "column 'model' must appear in GROUP BY or be used in an aggregate function at 1:8");
    fails("SELECT model FROM spans GROUP BY model HAVING duration_ms > 1", SDB_ERR_SCHEMA,
          "column 'duration_ms' must appear in GROUP BY or be used in an aggregate function at 1:47");
}

Test(sqlerr, bad_ordinals)
{
    fails("SELECT model FROM spans ORDER BY 3", SDB_ERR_SCHEMA,
          "ORDER BY position 3 is not in the select list (1..1) at 1:34");
    fails("SELECT model, count(*) FROM spans GROUP BY 5", SDB_ERR_SCHEMA,
          "GROUP BY position 5 is not in the select list (1..2) at 1:44");
    fails("SELECT model, count(*) FROM spans GROUP BY 2", SDB_ERR_SCHEMA,
          "GROUP BY cannot use the aggregate 'count(*)' at 1:44");
}

Test(sqlerr, type_errors)
{
    fails("SELECT model + 1 FROM spans", SDB_ERR_SCHEMA,
          "operator + cannot take symbol and int64 at 1:8");
    fails("SELECT count(*) FROM spans WHERE model = 1", SDB_ERR_SCHEMA,
          "operator = cannot take symbol and int64 at 1:34");
    fails("SELECT sum(model) FROM spans", SDB_ERR_SCHEMA, "sum cannot take symbol at 1:8");
    fails("SELECT count(*) FROM spans WHERE duration_ms LIKE 'a%'", SDB_ERR_SCHEMA,
          "operator like cannot take float64 and string at 1:34");
    fails("SELECT count_if(duration_ms) FROM spans", SDB_ERR_SCHEMA,
          "count_if needs a condition, got float64 at 1:17");
    fails("SELECT count(*) FROM spans WHERE duration_ms", SDB_ERR_SCHEMA,
          "WHERE needs a condition, got float64 at 1:34");
    fails("SELECT CASE WHEN true THEN 1 ELSE 'a' END", SDB_ERR_SCHEMA,
          "case: ELSE of type string does not mix with THEN of type int64 at 1:8");
    fails("SELECT CASE WHEN true THEN 1 WHEN false THEN 'x' END", SDB_ERR_SCHEMA,
          "case: branches of types int64 and string do not mix at 1:8");
    fails("SELECT coalesce(1, 'a')", SDB_ERR_SCHEMA,
          "coalesce: branches of types int64 and string do not mix at 1:8");
    fails("SELECT 1 IN (1, 'a')", SDB_ERR_SCHEMA, "operator in cannot take int64 and string at 1:8");
    fails("SELECT NOT 1.5", SDB_ERR_SCHEMA, "not cannot take float64 at 1:8");
}

Test(sqlerr, bad_constants)
{
    fails("SELECT count(*) FROM spans WHERE time > '2026-13-45'", SDB_ERR_PARSE,
          "'2026-13-45' is not a timestamp (YYYY-MM-DD[THH:MM:SS[.fraction]][Z|+HH:MM]) at 1:34");
    fails("SELECT count(*) FROM spans WHERE time BETWEEN 'yesterday' AND now()", SDB_ERR_PARSE,
          "'yesterday' is not a timestamp (YYYY-MM-DD[THH:MM:SS[.fraction]][Z|+HH:MM]) at 1:34");
    fails("SELECT time_bucket('5 parsecs', time) AS b FROM spans GROUP BY b", SDB_ERR_PARSE,
          "invalid interval '5 parsecs': unknown unit 'parsecs' at 1:20");
    fails("SELECT date_trunc('fortnight', time) FROM spans", SDB_ERR_PARSE,
          "date_trunc: unknown unit 'fortnight' (second, minute, hour, day, week, month, year) at 1:8");
    fails("SELECT CAST('abc' AS int64)", SDB_ERR_PARSE, "cannot cast 'abc' to int64");
}

Test(sqlerr, parse_errors)
{
    fails("SELECT model FORM spans", SDB_ERR_PARSE,
          "parse error at 1:14 near 'FORM': expected FROM");
    fails("SELECT count(*) FROM spans LIMIT -1", SDB_ERR_PARSE,
          "parse error at 1:34 near '-': expected a row count after LIMIT");
    fails("CREATE TABLE t3 (x nosuchtype)", SDB_ERR_PARSE,
          "parse error at 1:20 near 'nosuchtype': unknown type (known: timestamp, int64, float64, "
          "bool, symbol, string)");
}

Test(sqlerr, int_overflow)
{
    fails("SELECT 9223372036854775807 + 1", SDB_ERR_LIMIT, "int64 overflow in +");
    fails("SELECT -(-9223372036854775807 - 1)", SDB_ERR_LIMIT, "int64 overflow in unary -");
    fails("SELECT abs(-9223372036854775807 - 1)", SDB_ERR_LIMIT, "int64 overflow in abs");
    fails("SELECT (-9223372036854775807 - 1) / -1", SDB_ERR_LIMIT, "int64 overflow in /");
    fails("SELECT sum(input_tokens * 9223372036854775807) FROM spans", SDB_ERR_LIMIT,
          "int64 overflow in *");
    fails("SELECT sum(9223372036854775000 + 0 * retries) FROM spans", SDB_ERR_LIMIT,
          "sum overflows int64");
}

Test(sqlerr, query_memory_limit)
{
    sdb_err err;
    cr_assert_eq(run_mem("SELECT span_id, trace_id FROM spans ORDER BY span_id", 64 << 10, &err),
                 SDB_ERR_LIMIT);
    cr_expect_str_eq(err.msg, "query needs more than 64 KiB of memory (--query-memory)");
    cr_assert_eq(run_mem("SELECT span_id, count(DISTINCT trace_id) FROM spans GROUP BY span_id",
                         64 << 10, &err), SDB_ERR_LIMIT);
    cr_expect_str_eq(err.msg, "query needs more than 64 KiB of memory (--query-memory)");
    /* the same queries run within the default bound */
    cr_assert_eq(run_mem("SELECT span_id, trace_id FROM spans ORDER BY span_id", 0, &err), SDB_OK,
                 "%s", err.msg);
}

Test(sqlerr, catalog_statements)
{
    sdb_err err;
    cr_assert_eq(run_mem("CREATE TABLE t2 (x int64, s symbol) PARTITION BY hour ORDER BY (s, time)", 0,
                         &err), SDB_OK, "%s", err.msg);
    fails("CREATE TABLE t2 (x int64)", SDB_ERR_EXISTS, "table 't2' already exists");
    cr_assert_eq(run_mem("CREATE TABLE IF NOT EXISTS t2 (x int64)", 0, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(run_mem("DROP TABLE t2", 0, &err), SDB_OK, "%s", err.msg);
    fails("DROP TABLE t2", SDB_ERR_NOTFOUND, "unknown table 't2' at 1:12");
    cr_assert_eq(run_mem("DROP TABLE IF EXISTS t2", 0, &err), SDB_OK, "%s", err.msg);
}

/* ---- statements that work: what EXPLAIN reports ---- */

TestSuite(sqlrun, .init = setup, .fini = teardown, .timeout = 120);

/* The lines of a one-column result joined by newlines into out. */
static void run_text(const char *sql, char *out, size_t n)
{
    sdb_run_opts o;
    sdb_run_result r;
    sdb_err err;
    size_t k = 0;
    memset(&o, 0, sizeof o);
    o.now_ns = 1767484800000000000LL; /* 2026-01-04T00:00:00Z */
    cr_assert_eq(sdb_run_sql(db, sql, strlen(sql), &o, &r, &err), SDB_OK, "%s", err.msg);
    out[0] = '\0';
    for (uint64_t i = 0; i < r.rows->nrows && k < n; i++) {
        const sdb_value *v = sdb_result_at(r.rows, i, 0);
        k += (size_t)snprintf(out + k, n - k, "%.*s\n", (int)v->u.s.len, v->u.s.p);
    }
    sdb_run_result_free(&r);
}

/* now() - INTERVAL '...' is folded into a constant, so the dashboards' "last 24 hours"
 * skips the older partitions before reading them. */
Test(sqlrun, explain_now_minus_interval_prunes_partitions)
{
    char plan[4096];
    run_text("EXPLAIN SELECT count(*) FROM spans WHERE time > now() - INTERVAL '24 hours'", plan,
             sizeof plan);
    cr_expect(strstr(plan, "partitions: 1 scanned, 2 skipped by time\n") != NULL, "%s", plan);
    run_text("EXPLAIN SELECT count(*) FROM spans WHERE time >= '2026-01-02' AND time < '2026-01-03'",
             plan, sizeof plan);
    cr_expect(strstr(plan, "partitions: 1 scanned, 2 skipped by time\n") != NULL, "%s", plan);
    run_text("EXPLAIN SELECT count(*) FROM spans", plan, sizeof plan);
    cr_expect(strstr(plan, "answered from block metadata: no block decoded\n") != NULL, "%s", plan);
    cr_expect(strstr(plan, "partitions: 3 scanned, 0 skipped by time\n") != NULL, "%s", plan);
}

/* Every example query of docs/sql.md's "Dashboard queries" runs and returns rows (now() is
 * 2026-01-04, the end of the generated data). */
Test(sqlrun, docs_dashboard_examples_run)
{
    char path[4096];
    size_t len = 0, n = 0;
    char *doc, *p;
    snprintf(path, sizeof path, "%s/docs/sql.md", SDB_SOURCE_DIR);
    doc = (char *)tmpdir_read_file(path, &len);
    cr_assert(doc != NULL, "cannot read %s", path);
    doc = realloc(doc, len + 1);
    cr_assert(doc != NULL);
    doc[len] = '\0';
    p = strstr(doc, "## Dashboard queries");
    cr_assert(p != NULL, "no dashboard section in %s", path);
    while ((p = strstr(p, "```sql\n")) != NULL) {
        char *end = strstr(p += 7, "```");
        cr_assert(end != NULL);
        *end = '\0';
        for (char *q = strtok(p, ";"); q != NULL; q = strtok(NULL, ";")) {
            sdb_run_opts o;
            sdb_run_result r;
            sdb_err err;
            if (strspn(q, " \n") == strlen(q))
                continue;
            memset(&o, 0, sizeof o);
            o.now_ns = 1767484800000000000LL;
            cr_assert_eq(sdb_run_sql(db, q, strlen(q), &o, &r, &err), SDB_OK, "%s\n%s", err.msg, q);
            cr_expect_gt(r.rows->nrows, 0, "no rows from\n%s", q);
            sdb_run_result_free(&r);
            n++;
        }
        p = end + 3;
    }
    cr_expect_geq(n, 9, "only %zu examples found", n);
    free(doc);
}
