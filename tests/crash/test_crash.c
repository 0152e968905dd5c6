/* Crash safety: a child process ingests (with frequent flushes and compactions) and reports
 * each acknowledged batch through a pipe; the parent kills it with SIGKILL at a random
 * moment, reopens the database, and checks that every acknowledged row is present exactly
 * once and that every segment reads back clean. 60 rounds on one data directory; the child
 * flushes every 5 batches and compacts every 7, so kills land in WAL appends, flushes and
 * compactions alike. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/db.h"
#include "tests/support/tmpdir.h"

#define ROUNDS 60
#define BATCH 20
#define T0 1767225600000000000LL

TestSuite(crash, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 600);

static void fail_child(int code)
{
    _exit(code);
}

/* Writes batches k = start, start+1, ... with v = k * BATCH + i, spread over three days so
 * flushes write several partitions. */
static void child(const char *dir, int start, int ackfd)
{
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_ALWAYS;
    o.memtable_rows = 5 * BATCH;
    if (sdb_db_open(dir, &o, &db, NULL, &err) != SDB_OK)
        fail_child(10);
    for (int k = start;; k++) {
        sdb_batch b;
        int it, iv, is;
        sdb_batch_init(&b);
        if (sdb_batch_add(&b, "time", 4, SDB_TYPE_TIMESTAMP, &it, &err) != SDB_OK ||
            sdb_batch_add(&b, "v", 1, SDB_TYPE_INT64, &iv, &err) != SDB_OK ||
            sdb_batch_add(&b, "s", 1, SDB_TYPE_SYMBOL, &is, &err) != SDB_OK)
            fail_child(11);
        for (int i = 0; i < BATCH; i++) {
            int64_t v = (int64_t)k * BATCH + i;
            char s[16];
            int n = snprintf(s, sizeof s, "s%d", (int)(v % 7));
            if (sdb_column_push_i64(&b.cols[it], T0 + (v % 3) * 86400000000000LL + v, &err) ||
                sdb_column_push_i64(&b.cols[iv], v, &err) ||
                sdb_column_push_str(&b.cols[is], s, (size_t)n, &err))
                fail_child(12);
            b.nrows++;
        }
        if (sdb_db_write(db, "t", &b, &err) != SDB_OK)
            fail_child(13);
        sdb_batch_free(&b);
        if (write(ackfd, &k, sizeof k) != sizeof k)
            fail_child(14);
        if (k % 7 == 6 && sdb_db_compact(db, NULL, false, 2, &err) != SDB_OK)
            fail_child(15);
    }
}

/* Count every v in the table; fails the test on a value seen twice. Returns max v + 1. */
static int64_t check_once(sdb_db *db, uint8_t *seen, int64_t cap)
{
    sdb_db_snapshot *s;
    sdb_err err;
    int64_t top = 0;
    sdb_seg_blockbuf buf;
    cr_assert_eq(sdb_db_snapshot_take(db, "t", &s, &err), SDB_OK, "%s", err.msg);
    memset(seen, 0, (size_t)cap);
    sdb_seg_blockbuf_init(&buf);
    for (uint32_t i = 0; i < s->nsegs + s->nchunks; i++) {
        sdb_batch tmp;
        const sdb_batch *b;
        sdb_batch_init(&tmp);
        if (i < s->nsegs) {
            /* every block of every column decodes (what spandb verify checks) */
            for (uint32_t c = 0; c < sdb_seg_ncols(s->segs[i]); c++)
                for (uint32_t k = 0; k < sdb_seg_nblocks(s->segs[i]); k++)
                    cr_assert_eq(sdb_seg_read_block(s->segs[i], c, k, &buf, &err), SDB_OK, "%s",
                                 err.msg);
            cr_assert_eq(sdb_seg_read_batch(s->segs[i], &tmp, &err), SDB_OK, "%s", err.msg);
            b = &tmp;
        } else {
            b = s->chunks[i - s->nsegs];
        }
        int v = sdb_batch_find(b, "v", 1);
        cr_assert(v >= 0);
        for (uint64_t r = 0; r < b->nrows; r++) {
            int64_t x = b->cols[v].v.i64[r];
            cr_assert(x >= 0 && x < cap, "value %lld out of range", (long long)x);
            cr_assert_eq(seen[x], 0, "value %lld is present twice", (long long)x);
            seen[x] = 1;
            if (x + 1 > top)
                top = x + 1;
        }
        sdb_batch_free(&tmp);
    }
    sdb_seg_blockbuf_free(&buf);
    sdb_db_snapshot_release(s);
    return top;
}

Test(crash, kill9_at_random_moments_loses_no_acknowledged_row)
{
    char dir[4096];
    int64_t cap = 4000000;
    uint8_t *seen = malloc((size_t)cap);
    int start = 0, acked_max = -1;
    unsigned seed = (unsigned)time(NULL);
    tmpdir_path(dir, sizeof dir, "d");
    srand(seed);
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2], k, status;
        pid_t pid;
        cr_assert_eq(pipe(fds), 0);
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(dir, start, fds[1]);
        }
        close(fds[1]);
        /* let it run 5..60 ms after its first acknowledgement, reading acks meanwhile */
        struct pollfd pf = {fds[0], POLLIN, 0};
        int wait_ms = 5 + rand() % 56;
        bool first = false;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if (first && el >= wait_ms)
                break;
            if (el > 20000)
                break;
            if (poll(&pf, 1, 1) > 0) {
                if (read(fds[0], &k, sizeof k) != sizeof k)
                    break;
                if (!first) {
                    first = true;
                    clock_gettime(CLOCK_MONOTONIC, &t0);
                }
                acked_max = k;
            }
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        while (read(fds[0], &k, sizeof k) == sizeof k)
            acked_max = k;
        close(fds[0]);
        cr_assert(!WIFEXITED(status), "child exited with %d in round %d", WEXITSTATUS(status),
                  round);
        /* restart: replay, then every acknowledged value exactly once */
        sdb_db_opts o;
        sdb_db *db;
        sdb_err err;
        sdb_db_opts_default(&o);
        cr_assert_eq(sdb_db_open(dir, &o, &db, NULL, &err), SDB_OK, "round %d: %s", round, err.msg);
        int64_t top = check_once(db, seen, cap);
        for (int64_t x = 0; x < (int64_t)(acked_max + 1) * BATCH; x++)
            cr_assert_eq(seen[x], 1, "round %d (seed %u): acknowledged value %lld is missing",
                         round, seed, (long long)x);
        cr_assert_eq(sdb_db_close(db, &err), SDB_OK, "%s", err.msg);
        /* the batch in flight at the kill may be there: continue past it */
        start = (int)((top + BATCH - 1) / BATCH);
        if (start <= acked_max)
            start = acked_max + 1;
    }
    /* the rounds must have written enough to have crossed many flushes and compactions */
    cr_assert_gt(acked_max, 2 * ROUNDS, "only %d batches acknowledged in %d rounds", acked_max + 1,
                 ROUNDS);
    free(seen);
}
