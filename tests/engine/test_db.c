/* The database write path: schema on write, WAL replay after a crash, flush, partitions,
 * compaction, retention, snapshots, locking, and line-protocol ingest. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/gen.h"
#include "engine/ingest.h"
#include "storage/fileio.h"
#include "tests/support/tmpdir.h"

TestSuite(db, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 300);

#define DAY 86400000000000LL
#define T0 1767225600000000000LL /* 2026-01-01T00:00:00Z */

static void ok(sdb_rc rc, const sdb_err *err)
{
    cr_assert_eq(rc, SDB_OK, "%s", err->msg);
}

static sdb_db *open_db(const char *sub, sdb_sync_mode mode, bool read_only)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    sdb_db_opts_default(&o);
    o.sync = mode;
    o.read_only = read_only;
    o.seg.no_sync = true;
    tmpdir_path(dir, sizeof dir, sub);
    ok(sdb_db_open(dir, &o, &db, NULL, &err), &err);
    return db;
}

/* Rows of table `t` with columns time, v (int64) and optionally tag (symbol). */
static void small_batch(sdb_batch *b, int64_t t0, int64_t step, int n, int64_t v0, bool tag)
{
    sdb_err err;
    int it, iv, ig = -1;
    sdb_batch_init(b);
    ok(sdb_batch_add(b, "time", 4, SDB_TYPE_TIMESTAMP, &it, &err), &err);
    ok(sdb_batch_add(b, "v", 1, SDB_TYPE_INT64, &iv, &err), &err);
    if (tag)
        ok(sdb_batch_add(b, "tag", 3, SDB_TYPE_SYMBOL, &ig, &err), &err);
    for (int r = 0; r < n; r++) {
        ok(sdb_column_push_i64(&b->cols[it], t0 + step * r, &err), &err);
        ok(sdb_column_push_i64(&b->cols[iv], v0 + r, &err), &err);
        if (tag)
            ok(sdb_column_push_str(&b->cols[ig], r % 2 ? "a" : "b", 1, &err), &err);
        b->nrows++;
    }
}

/* Rows and the sum of column v over everything a snapshot holds. */
static void totals(sdb_db *db, const char *table, uint64_t *rows, int64_t *sum)
{
    sdb_db_snapshot *s;
    sdb_err err;
    *rows = 0;
    *sum = 0;
    ok(sdb_db_snapshot_take(db, table, &s, &err), &err);
    for (uint32_t i = 0; i < s->nsegs; i++) {
        sdb_batch b;
        sdb_batch_init(&b);
        ok(sdb_seg_read_batch(s->segs[i], &b, &err), &err);
        int v = sdb_batch_find(&b, "v", 1);
        *rows += b.nrows;
        for (uint64_t r = 0; v >= 0 && r < b.nrows; r++)
            if (sdb_column_valid(&b.cols[v], r))
                *sum += b.cols[v].v.i64[r];
        sdb_batch_free(&b);
    }
    for (uint32_t i = 0; i < s->nchunks; i++) {
        const sdb_batch *b = s->chunks[i];
        int v = sdb_batch_find(b, "v", 1);
        *rows += b->nrows;
        for (uint64_t r = 0; v >= 0 && r < b->nrows; r++)
            if (sdb_column_valid(&b->cols[v], r))
                *sum += b->cols[v].v.i64[r];
    }
    sdb_db_snapshot_release(s);
}

Test(db, rows_are_visible_once_across_flush_and_reopen)
{
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    sdb_batch b;
    sdb_err err;
    uint64_t rows;
    int64_t sum;
    small_batch(&b, T0, 1000, 1000, 0, true);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 1000);
    cr_assert_eq(sum, 999 * 1000 / 2);
    ok(sdb_db_flush(db, NULL, &err), &err);
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 1000);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    ok(sdb_db_close(db, &err), &err);
    db = open_db("d", SDB_SYNC_NONE, false);
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 2000);
    cr_assert_eq(sum, 999 * 1000);
    sdb_db_stats st;
    sdb_db_get_stats(db, &st);
    cr_assert_eq(st.segments, 2);
    ok(sdb_db_close(db, &err), &err);
    sdb_batch_free(&b);
}

Test(db, schema_grows_and_conflicts_are_refused)
{
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    sdb_batch a, b, c;
    sdb_err err;
    int idx;
    small_batch(&a, T0, 1, 10, 0, false);
    ok(sdb_db_write(db, "t", &a, &err), &err);
    ok(sdb_db_flush(db, NULL, &err), &err);
    small_batch(&b, T0 + 100, 1, 10, 0, true);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    const sdb_table_def *def = sdb_catalog_find(sdb_db_catalog(db), "t", 1);
    cr_assert_not_null(def);
    cr_assert_eq(def->ncols, 3);
    cr_assert_eq(def->col_types[2], SDB_TYPE_SYMBOL);
    /* v is int64: a string v is refused whole, naming table, column and types */
    sdb_batch_init(&c);
    ok(sdb_batch_add(&c, "time", 4, SDB_TYPE_TIMESTAMP, &idx, &err), &err);
    ok(sdb_column_push_i64(&c.cols[idx], T0, &err), &err);
    ok(sdb_batch_add(&c, "v", 1, SDB_TYPE_STRING, &idx, &err), &err);
    ok(sdb_column_push_str(&c.cols[idx], "x", 1, &err), &err);
    c.nrows = 1;
    cr_assert_eq(sdb_db_write(db, "t", &c, &err), SDB_ERR_SCHEMA);
    cr_assert(strstr(err.msg, "column 'v' of table 't' is int64, the write has string") != NULL,
              "%s", err.msg);
    ok(sdb_db_close(db, &err), &err);
    /* the catalog survives a restart */
    db = open_db("d", SDB_SYNC_NONE, false);
    def = sdb_catalog_find(sdb_db_catalog(db), "t", 1);
    cr_assert(def != NULL && def->ncols == 3 && strcmp(def->col_names[2], "tag") == 0);
    uint64_t rows;
    int64_t sum;
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 20);
    ok(sdb_db_close(db, &err), &err);
    sdb_batch_free(&a);
    sdb_batch_free(&b);
    sdb_batch_free(&c);
}

Test(db, rows_go_to_the_partition_of_their_own_time)
{
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    sdb_batch b;
    sdb_err err;
    /* 3 days in one batch, then a late row for the first day */
    small_batch(&b, T0, DAY / 100, 300, 0, false);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    sdb_batch_free(&b);
    small_batch(&b, T0 + 5, 1, 1, 1000000, false);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    ok(sdb_db_flush(db, NULL, &err), &err);
    sdb_db_snapshot *s;
    ok(sdb_db_snapshot_take(db, "t", &s, &err), &err);
    cr_assert_eq(s->nsegs, 3);
    for (uint32_t i = 0; i < s->nsegs; i++) {
        int64_t day = (s->seg_min_time[i] - T0) / DAY;
        cr_assert_eq((s->seg_max_time[i] - T0) / DAY, day, "segment %u spans days", i);
        cr_assert_eq(sdb_seg_rows(s->segs[i]), day == 0 ? 101 : 100);
    }
    sdb_db_snapshot_release(s);
    ok(sdb_db_close(db, &err), &err);
    sdb_batch_free(&b);
}

Test(db, compaction_merges_a_partition_and_keeps_every_row)
{
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    sdb_err err;
    uint64_t rows;
    int64_t sum;
    for (int k = 0; k < 4; k++) {
        sdb_batch b;
        small_batch(&b, T0 + k * 1000000, 7, 5000, k * 5000, true);
        ok(sdb_db_write(db, "t", &b, &err), &err);
        ok(sdb_db_flush(db, NULL, &err), &err);
        sdb_batch_free(&b);
    }
    sdb_db_stats st;
    sdb_db_get_stats(db, &st);
    cr_assert_eq(st.segments, 4);
    /* a reader that holds the old segments keeps them readable */
    sdb_db_snapshot *old;
    ok(sdb_db_snapshot_take(db, "t", &old, &err), &err);
    ok(sdb_db_compact(db, NULL, true, 0, &err), &err);
    sdb_db_get_stats(db, &st);
    cr_assert_eq(st.segments, 1);
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 20000);
    cr_assert_eq(sum, (int64_t)19999 * 20000 / 2);
    sdb_batch ob;
    sdb_batch_init(&ob);
    ok(sdb_seg_read_batch(old->segs[0], &ob, &err), &err);
    cr_assert_eq(ob.nrows, 5000);
    sdb_batch_free(&ob);
    sdb_db_snapshot_release(old);
    ok(sdb_db_close(db, &err), &err);
    db = open_db("d", SDB_SYNC_NONE, false);
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 20000);
    ok(sdb_db_close(db, &err), &err);
}

Test(db, retention_drops_whole_old_partitions)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    sdb_batch b;
    uint32_t dropped;
    sdb_db_opts_default(&o);
    o.retention_ns = 2 * DAY;
    o.seg.no_sync = true;
    tmpdir_path(dir, sizeof dir, "d");
    ok(sdb_db_open(dir, &o, &db, NULL, &err), &err);
    small_batch(&b, T0, DAY / 10, 50, 0, false); /* 5 days */
    ok(sdb_db_write(db, "t", &b, &err), &err);
    ok(sdb_db_flush(db, NULL, &err), &err);
    /* now = the start of day 5: days 0, 1 and 2 end at or before now - 2 days */
    ok(sdb_db_retention(db, T0 + 5 * DAY, &dropped, &err), &err);
    cr_assert_eq(dropped, 3);
    uint64_t rows;
    int64_t sum;
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 20);
    ok(sdb_db_close(db, &err), &err);
    sdb_batch_free(&b);
}

Test(db, second_writer_is_refused_and_a_reader_sees_wal_rows)
{
    sdb_db *db = open_db("d", SDB_SYNC_ALWAYS, false);
    sdb_batch b;
    sdb_err err;
    char dir[4096];
    sdb_db_opts o;
    sdb_db *other;
    small_batch(&b, T0, 1, 100, 0, false);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    tmpdir_path(dir, sizeof dir, "d");
    sdb_db_opts_default(&o);
    pid_t pid = fork();
    if (pid == 0) {
        /* another process: flock excludes it */
        sdb_rc rc = sdb_db_open(dir, &o, &other, NULL, &err);
        _exit(rc == SDB_ERR_BUSY && strstr(err.msg, "locked") != NULL ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second writer was not refused");
    o.read_only = true;
    ok(sdb_db_open(dir, &o, &other, NULL, &err), &err);
    uint64_t rows;
    int64_t sum;
    totals(other, "t", &rows, &sum);
    cr_assert_eq(rows, 100);
    ok(sdb_db_close(other, &err), &err);
    ok(sdb_db_close(db, &err), &err);
    sdb_batch_free(&b);
}

Test(db, acknowledged_rows_survive_kill_and_replay_once)
{
    char dir[4096];
    int fds[2];
    tmpdir_path(dir, sizeof dir, "d");
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        sdb_db_opts o;
        sdb_db *db;
        sdb_err err;
        close(fds[0]);
        sdb_db_opts_default(&o);
        o.sync = SDB_SYNC_ALWAYS;
        o.memtable_rows = 3000; /* flushes happen too */
        o.seg.no_sync = true;
        if (sdb_db_open(dir, &o, &db, NULL, &err) != SDB_OK)
            _exit(2);
        for (int k = 0;; k++) {
            sdb_batch b;
            small_batch(&b, T0 + k * 1000, 1, 100, k * 100, false);
            if (sdb_db_write(db, "t", &b, &err) != SDB_OK)
                _exit(3);
            sdb_batch_free(&b);
            if (write(fds[1], &k, sizeof k) != sizeof k) /* acknowledged */
                _exit(4);
        }
    }
    close(fds[1]);
    int k = -1, last = -1;
    while (read(fds[0], &k, sizeof k) == sizeof k) {
        last = k;
        if (last >= 60)
            break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (read(fds[0], &k, sizeof k) == sizeof k)
        last = k;
    close(fds[0]);
    cr_assert(last >= 60);
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    uint64_t rows;
    int64_t sum;
    totals(db, "t", &rows, &sum);
    /* every acknowledged batch is there exactly once; the one in flight may be too */
    uint64_t acked = (uint64_t)(last + 1) * 100;
    cr_assert(rows == acked || rows == acked + 100, "rows %llu, acknowledged %llu",
              (unsigned long long)rows, (unsigned long long)acked);
    int64_t n = (int64_t)rows;
    cr_assert_eq(sum, n * (n - 1) / 2, "a row is missing or doubled");
    sdb_err err;
    ok(sdb_db_close(db, &err), &err);
}

typedef struct rejects {
    int n;
    char last[512];
} rejects;

static void on_reject(void *ctx, uint64_t line, uint64_t off, const char *reason)
{
    rejects *r = ctx;
    (void)line;
    (void)off;
    r->n++;
    snprintf(r->last, sizeof r->last, "%s", reason);
}

Test(db, ingest_keeps_good_lines_and_rejects_conflicts_alone)
{
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    sdb_ingest_opts io;
    sdb_ingest *in;
    sdb_err err;
    rejects r = {0, ""};
    memset(&io, 0, sizeof io);
    io.on_reject = on_reject;
    io.reject_ctx = &r;
    ok(sdb_ingest_create(db, &io, &in, &err), &err);
    const char *first = "t,tag=a v=1i 1767225600000000000\nt,tag=b v=2i 1767225600000000001\n";
    ok(sdb_ingest_feed(in, first, strlen(first), &err), &err);
    ok(sdb_ingest_commit(in, &err), &err);
    const char *second = "t v=\"str\" 1767225600000000002\nbroken line\nt v=3i 1767225600000000003\n";
    ok(sdb_ingest_feed(in, second, strlen(second), &err), &err);
    ok(sdb_ingest_finish(in, &err), &err);
    sdb_ingest_stats st = sdb_ingest_get_stats(in);
    cr_assert_eq(st.rows, 3);
    cr_assert_eq(r.n, 2);
    sdb_ingest_destroy(in);
    uint64_t rows;
    int64_t sum;
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 3);
    cr_assert_eq(sum, 6);
    ok(sdb_db_close(db, &err), &err);
}

Test(db, drop_table_removes_everything)
{
    sdb_db *db = open_db("d", SDB_SYNC_NONE, false);
    sdb_batch b;
    sdb_err err;
    sdb_db_snapshot *s;
    small_batch(&b, T0, 1, 10, 0, false);
    ok(sdb_db_write(db, "gone", &b, &err), &err);
    ok(sdb_db_flush(db, NULL, &err), &err);
    ok(sdb_db_write(db, "gone", &b, &err), &err);
    ok(sdb_db_drop_table(db, "gone", &err), &err);
    cr_assert_eq(sdb_db_snapshot_take(db, "gone", &s, &err), SDB_ERR_NOTFOUND);
    cr_assert_eq(sdb_db_drop_table(db, "gone", &err), SDB_ERR_NOTFOUND);
    ok(sdb_db_close(db, &err), &err);
    db = open_db("d", SDB_SYNC_NONE, false);
    cr_assert_eq(sdb_db_snapshot_take(db, "gone", &s, &err), SDB_ERR_NOTFOUND);
    /* a new table of the same name starts empty */
    ok(sdb_db_write(db, "gone", &b, &err), &err);
    uint64_t rows;
    int64_t sum;
    totals(db, "gone", &rows, &sum);
    cr_assert_eq(rows, 10);
    ok(sdb_db_close(db, &err), &err);
    sdb_batch_free(&b);
}

Test(db, background_flush_keeps_every_row_once)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    uint64_t rows;
    int64_t sum;
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.background_flush = true;
    o.memtable_rows = 1000;
    o.seg.no_sync = true;
    tmpdir_path(dir, sizeof dir, "d");
    ok(sdb_db_open(dir, &o, &db, NULL, &err), &err);
    for (int k = 0; k < 200; k++) {
        sdb_batch b;
        small_batch(&b, T0 + k * 1000, 1, 100, k * 100, true);
        if (k % 2)
            ok(sdb_db_write_owned(db, "t", &b, &err), &err);
        else
            ok(sdb_db_write(db, "t", &b, &err), &err);
        sdb_batch_free(&b);
        if (k % 50 == 0) {
            /* snapshots taken while the flusher runs see every row exactly once */
            totals(db, "t", &rows, &sum);
            cr_assert_eq(rows, (uint64_t)(k + 1) * 100);
            cr_assert_eq(sum, (int64_t)rows * ((int64_t)rows - 1) / 2);
        }
    }
    ok(sdb_db_close(db, &err), &err);
    db = open_db("d", SDB_SYNC_NONE, false);
    totals(db, "t", &rows, &sum);
    cr_assert_eq(rows, 20000);
    cr_assert_eq(sum, (int64_t)19999 * 20000 / 2);
    sdb_db_stats st;
    sdb_db_get_stats(db, &st);
    cr_assert_gt(st.segments, 5);
    ok(sdb_db_close(db, &err), &err);
}

Test(db, memtables_flush_by_bytes_and_by_age)
{
    char dir[4096];
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    sdb_db_stats st;
    sdb_batch b;
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.memtable_bytes = 20000; /* about 1,000 rows of (time, v, tag) */
    o.seg.no_sync = true;
    tmpdir_path(dir, sizeof dir, "d");
    ok(sdb_db_open(dir, &o, &db, NULL, &err), &err);
    for (int k = 0; k < 30; k++) {
        small_batch(&b, T0 + k * 1000, 1, 100, k * 100, true);
        ok(sdb_db_write(db, "t", &b, &err), &err);
        sdb_batch_free(&b);
    }
    sdb_db_get_stats(db, &st);
    cr_assert_geq(st.segments, 2, "the byte limit flushed %llu times", (unsigned long long)st.segments);
    uint64_t before = st.segments;
    /* a quiet table reaches a segment once its oldest row is older than the age given */
    small_batch(&b, T0 + 999999, 1, 10, 3000, true);
    ok(sdb_db_write(db, "t", &b, &err), &err);
    sdb_batch_free(&b);
    ok(sdb_db_flush_aged(db, 60LL * 1000000000, &err), &err);
    sdb_db_get_stats(db, &st);
    cr_assert_eq(st.segments, before);
    cr_assert_gt(st.memtable_rows, 0);
    usleep(20000);
    ok(sdb_db_flush_aged(db, 10000000, &err), &err);
    sdb_db_get_stats(db, &st);
    cr_assert_eq(st.memtable_rows, 0);
    cr_assert_gt(st.segments, before);
    ok(sdb_db_close(db, &err), &err);
}
