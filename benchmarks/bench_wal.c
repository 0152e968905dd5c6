/* WAL benchmark: batch serialization speed and size, append throughput without fsync,
 * replay speed, fsync latency with --sync always, and how many commits one group-commit
 * fsync covers with --sync batch under 16 concurrent writers. Prints one table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/batch_io.h"
#include "storage/wal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A span-like batch: time, tokens, duration, a bool with NULLs, model symbol, trace id. */
static void make_batch(sdb_batch *b, int rows)
{
    static const char *const models[] = {"gpt-4o", "claude-3-5-sonnet", "llama-3-70b", "o1-mini"};
    sdb_err e;
    int c[6];
    char s[64];
    sdb_batch_init(b);
    sdb_batch_add(b, "time", 4, SDB_TYPE_TIMESTAMP, &c[0], &e);
    sdb_batch_add(b, "input_tokens", 12, SDB_TYPE_INT64, &c[1], &e);
    sdb_batch_add(b, "duration_ms", 11, SDB_TYPE_FLOAT64, &c[2], &e);
    sdb_batch_add(b, "hallucination", 13, SDB_TYPE_BOOL, &c[3], &e);
    sdb_batch_add(b, "model", 5, SDB_TYPE_SYMBOL, &c[4], &e);
    sdb_batch_add(b, "trace_id", 8, SDB_TYPE_STRING, &c[5], &e);
    for (int r = 0; r < rows; r++) {
        int n = snprintf(s, sizeof s, "%016llx%016llx", (unsigned long long)r * 2654435761ull,
                         (unsigned long long)r * 40503ull);
        sdb_column_push_i64(&b->cols[c[0]], 1700000000000000000LL + r * 1000003LL, &e);
        sdb_column_push_i64(&b->cols[c[1]], (r * 7919) % 4000, &e);
        sdb_column_push_f64(&b->cols[c[2]], ((r * 31) % 10000) * 0.137, &e);
        if (r % 3)
            sdb_column_push_bool(&b->cols[c[3]], r & 1, &e);
        else
            sdb_column_push_null(&b->cols[c[3]], &e);
        sdb_column_push_str(&b->cols[c[4]], models[r % 4], strlen(models[r % 4]), &e);
        sdb_column_push_str(&b->cols[c[5]], s, (size_t)n, &e);
        b->nrows++;
    }
}

typedef struct job {
    sdb_wal *w;         /* shared log */
    const sdb_batch *b; /* what each append writes */
    int n;              /* append + commit pairs */
    int failed;         /* set when a call failed */
} job;

static void *writer(void *arg)
{
    job *j = arg;
    sdb_err e;
    uint64_t seq;
    for (int i = 0; i < j->n; i++)
        if (sdb_wal_append(j->w, j->b, "spans", &seq, &e) != SDB_OK ||
            sdb_wal_commit(j->w, seq, &e) != SDB_OK)
            j->failed = 1;
    return NULL;
}

static sdb_rc count_rows(void *ctx, uint64_t seq, const char *table, const sdb_batch *b,
                         sdb_err *err)
{
    (void)seq;
    (void)table;
    (void)err;
    *(uint64_t *)ctx += b->nrows;
    return SDB_OK;
}

/* Run threads x per append+commit pairs in mode; print one row. */
static char replay_line[256]; /* printed after the table */

static int run(const char *base, sdb_sync_mode mode, int threads, int per, const sdb_batch *b)
{
    char dir[4200];
    sdb_wal *w;
    sdb_err e;
    pthread_t t[16];
    job j[16];
    double t0, dt;
    snprintf(dir, sizeof dir, "%s/%s", base, sdb_sync_mode_name(mode));
    if (sdb_wal_open(dir, mode, &w, &e) != SDB_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    t0 = now();
    for (int i = 0; i < threads; i++) {
        j[i] = (job){w, b, per, 0};
        pthread_create(&t[i], NULL, writer, &j[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    dt = now() - t0;
    printf("| %-11s | %3d | %7d | %9.0f | %9.2f | %10.0f | %6llu | %9.1f |\n",
           sdb_sync_mode_name(mode), threads, threads * per, threads * per / dt, dt * 1000.0 / per,
           threads * per * (double)b->nrows / dt, (unsigned long long)sdb_wal_sync_count(w),
           sdb_wal_sync_count(w) ? (double)(threads * per) / (double)sdb_wal_sync_count(w) : 0.0);
    if (sdb_wal_close(w, &e) != SDB_OK)
        return 1;
    for (int i = 0; i < threads; i++)
        if (j[i].failed)
            return 1;
    if (mode == SDB_SYNC_NONE) {
        sdb_wal_report rep;
        uint64_t rows = 0;
        t0 = now();
        if (sdb_wal_replay(dir, count_rows, &rows, 0, &rep, &e) != SDB_OK)
            return 1;
        dt = now() - t0;
        snprintf(replay_line, sizeof replay_line,
                 "replay: %llu records, %llu rows in %.3f s = %.1f M rows/s\n",
                 (unsigned long long)rep.records, (unsigned long long)rows, dt, rows / dt / 1e6);
    }
    return 0;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char base[4096], cmd[4200];
    sdb_batch big, small, back;
    sdb_buf buf = SDB_BUF_INIT;
    sdb_err e;
    char *table;
    double t0, ts, td;
    int iters = 100, rc = 0;
    make_batch(&big, 10000);
    make_batch(&small, 100);
    t0 = now();
    for (int i = 0; i < iters; i++) {
        sdb_buf_reset(&buf);
        sdb_batch_serialize(&big, "spans", &buf, &e);
    }
    ts = now() - t0;
    t0 = now();
    for (int i = 0; i < iters; i++) {
        sdb_batch_deserialize(buf.data, buf.len, &back, &table, &e);
        sdb_batch_free(&back);
        free(table);
    }
    td = now() - t0;
    printf("batch of 10,000 span rows (6 columns): %.1f bytes/row serialized (lz4), "
           "serialize %.1f M rows/s, deserialize %.1f M rows/s\n\n",
           (double)buf.len / 10000.0, iters * 1e4 / ts / 1e6, iters * 1e4 / td / 1e6);
    snprintf(base, sizeof base, "%s/spandb-bench-wal-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL)
        return 1;
    printf("append + commit of 100-row batches (%s)\n\n", base);
    printf("| mode        | thr | commits | commits/s | ms/commit | rows/s     | fsyncs | per "
           "fsync |\n");
    printf("|-------------|-----|---------|-----------|-----------|------------|--------|----------"
           "-|\n");
    rc |= run(base, SDB_SYNC_NONE, 1, 20000, &small);
    rc |= run(base, SDB_SYNC_ALWAYS, 1, 300, &small);
    rc |= run(base, SDB_SYNC_ALWAYS, 16, 40, &small);
    rc |= run(base, SDB_SYNC_BATCH, 16, 20, &small);
    printf("\n%s", replay_line);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        rc = 1;
    sdb_batch_free(&big);
    sdb_batch_free(&small);
    sdb_buf_free(&buf);
    return rc;
}
