/* Statements through sdb_run_sql: reads across segments and memtables (a column added later
 * reads NULL in older segments), SHOW TABLES, DESCRIBE, CREATE and DROP, EXPLAIN, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/db.h"
#include "engine/result_fmt.h"
#include "engine/run.h"
#include "tests/support/tmpdir.h"

TestSuite(run, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 120);

#define T0 1767225600000000000LL

static sdb_db *db;

static void ok(sdb_rc rc, const sdb_err *err)
{
    cr_assert_eq(rc, SDB_OK, "%s", err->msg);
}

static void open_it(void)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_err err;
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.seg.no_sync = true;
    tmpdir_path(dir, sizeof dir, "d");
    ok(sdb_db_open(dir, &o, &db, NULL, &err), &err);
}

static void write_rows(int n, int64_t t0, bool tag)
{
    sdb_batch b;
    sdb_err err;
    int it, iv, ig;
    sdb_batch_init(&b);
    ok(sdb_batch_add(&b, "time", 4, SDB_TYPE_TIMESTAMP, &it, &err), &err);
    ok(sdb_batch_add(&b, "v", 1, SDB_TYPE_INT64, &iv, &err), &err);
    if (tag)
        ok(sdb_batch_add(&b, "tag", 3, SDB_TYPE_SYMBOL, &ig, &err), &err);
    for (int r = 0; r < n; r++) {
        ok(sdb_column_push_i64(&b.cols[it], t0 + r, &err), &err);
        ok(sdb_column_push_i64(&b.cols[iv], r, &err), &err);
        if (tag)
            ok(sdb_column_push_str(&b.cols[ig], r % 2 ? "a" : "b", 1, &err), &err);
        b.nrows++;
    }
    ok(sdb_db_write(db, "t", &b, &err), &err);
    sdb_batch_free(&b);
}

/* The result as CSV text. */
static char *csv(const char *sql)
{
    static char text[8192];
    sdb_run_result res;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    ok(sdb_run_sql(db, sql, strlen(sql), NULL, &res, &err), &err);
    cr_assert_not_null(res.rows, "%s returned no rows", sql);
    ok(sdb_result_format(res.rows, SDB_FMT_CSV, &out, &err), &err);
    snprintf(text, sizeof text, "%.*s", (int)out.len, (const char *)out.data);
    sdb_buf_free(&out);
    sdb_run_result_free(&res);
    return text;
}

static void fails(const char *sql, sdb_rc want, const char *fragment)
{
    sdb_run_result res;
    sdb_err err;
    cr_assert_eq(sdb_run_sql(db, sql, strlen(sql), NULL, &res, &err), want, "%s", sql);
    cr_assert(strstr(err.msg, fragment) != NULL, "%s: got '%s'", sql, err.msg);
}

Test(run, a_column_added_later_reads_null_in_older_segments)
{
    sdb_err err;
    open_it();
    write_rows(10, T0, false);
    ok(sdb_db_flush(db, NULL, &err), &err);
    write_rows(10, T0 + 100, true); /* stays in the memtable */
    cr_assert_str_eq(csv("SELECT count(*), count(tag), sum(v) FROM t"), "count(*),count(tag),sum(v)\n20,10,90\n");
    cr_assert_str_eq(csv("SELECT tag, count(*) AS n FROM t GROUP BY tag ORDER BY tag"),
                     "tag,n\na,5\nb,5\n,10\n");
    cr_assert_str_eq(csv("SELECT tag, count(*) AS n FROM t GROUP BY tag ORDER BY tag NULLS FIRST"),
                     "tag,n\n,10\na,5\nb,5\n");
    ok(sdb_db_close(db, &err), &err);
}

Test(run, catalog_statements)
{
    sdb_err err;
    sdb_run_result res;
    open_it();
    write_rows(3, T0, true);
    cr_assert_str_eq(csv("SHOW TABLES"), "table,columns,partition_by,segments,rows\nt,3,day,0,3\n");
    cr_assert_str_eq(csv("DESCRIBE t"),
                     "column,type,sort_key\ntime,timestamp,true\nv,int64,false\ntag,symbol,false\n");
    const char *create = "CREATE TABLE evals (time timestamp, name symbol, score float64) "
                         "PARTITION BY HOUR ORDER BY (name, time)";
    ok(sdb_run_sql(db, create, strlen(create), NULL, &res, &err), &err);
    cr_assert_null(res.rows);
    cr_assert(strstr(res.message, "created table 'evals'") != NULL);
    fails(create, SDB_ERR_EXISTS, "already exists");
    cr_assert_str_eq(csv("DESCRIBE evals"),
                     "column,type,sort_key\ntime,timestamp,true\nname,symbol,true\nscore,float64,false\n");
    const char *drop = "DROP TABLE evals";
    ok(sdb_run_sql(db, drop, strlen(drop), NULL, &res, &err), &err);
    fails("DESCRIBE evals", SDB_ERR_NOTFOUND, "unknown table 'evals'");
    fails("SELECT * FROM tt", SDB_ERR_NOTFOUND, "unknown table 'tt' at 1:15 (did you mean 't'?)");
    fails("SELECT vv FROM t", SDB_ERR_SCHEMA, "unknown column 'vv' in table 't' (did you mean 'v'?) at 1:8");
    fails("SELECT count(*) FORM t", SDB_ERR_PARSE, "parse error at 1:17 near 'FORM': expected FROM");
    ok(sdb_db_close(db, &err), &err);
}

Test(run, explain_reports_pruning)
{
    sdb_err err;
    open_it();
    write_rows(100, T0, true);
    write_rows(100, T0 + 3 * 86400000000000LL, true);
    ok(sdb_db_flush(db, NULL, &err), &err);
    char *text = csv("EXPLAIN SELECT count(*) FROM t WHERE time >= '2026-01-03'");
    cr_assert(strstr(text, "partitions: 1 scanned, 1 skipped by time") != NULL, "%s", text);
    cr_assert(strstr(text, "segments: 1 scanned, 1 skipped (1 by time") != NULL, "%s", text);
    cr_assert_str_eq(csv("SELECT count(*) FROM t WHERE time >= '2026-01-03'"), "count(*)\n100\n");
    ok(sdb_db_close(db, &err), &err);
}

/* sql with threads 1 and a query memory bound, as CSV. */
static char *csv_bounded(const char *sql, size_t memory)
{
    static char text[8192];
    sdb_run_opts ro = {.threads = 1, .query_memory = memory};
    sdb_run_result res;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    ok(sdb_run_sql(db, sql, strlen(sql), &ro, &res, &err), &err);
    ok(sdb_result_format(res.rows, SDB_FMT_CSV, &out, &err), &err);
    snprintf(text, sizeof text, "%.*s", (int)out.len, (const char *)out.data);
    sdb_buf_free(&out);
    sdb_run_result_free(&res);
    return text;
}

Test(run, count_distinct_in_many_groups_stays_small)
{
    sdb_err err;
    open_it();
    write_rows(300000, T0, false);
    ok(sdb_db_flush(db, NULL, &err), &err);
    /* 300k groups, each with its own distinct set: a set must cost bytes, not kilobytes */
    cr_assert_str_eq(csv_bounded("SELECT v, count(DISTINCT v % 7) FROM t GROUP BY v "
                                 "ORDER BY v DESC LIMIT 1",
                                 256u << 20),
                     "v,count(DISTINCT v % 7)\n299999,1\n");
    /* one huge set in the first morsel, then a morsel of 65,536 one-value groups: the big
       set's size is not reserved for each of them */
    cr_assert_str_eq(csv_bounded("SELECT CASE WHEN v < 65536 THEN -1 ELSE v END AS k, "
                                 "count(DISTINCT v) AS n FROM t GROUP BY k ORDER BY n DESC "
                                 "LIMIT 1",
                                 256u << 20),
                     "k,n\n-1,65536\n");
    sdb_db_close(db, NULL);
}
