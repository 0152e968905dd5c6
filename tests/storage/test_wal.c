/* The write-ahead log: append/commit/replay in every sync mode, group commit across threads,
 * torn tails at every length, corruption in the middle, rolling, retiring, repair on open. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/batch_io.h"
#include "storage/wal.h"
#include "tests/storage/batch_fixture.h"
#include "tests/support/tmpdir.h"

TestSuite(wal, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 120);

#define FIRST_FILE "wal-00000000000000000001.log"

/* Rows of the record whose fixture seed is s. */
static uint64_t rows_of(uint64_t s)
{
    return s % 5;
}

/* What the replay callback saw. */
typedef struct seen {
    uint64_t n;              /* records */
    uint64_t *seqs;          /* their seqs, in order */
    const uint64_t *seed_of; /* expected fixture seed per seq (NULL: seed = seq) */
    int fail_at;             /* return SDB_ERR_CANCELLED at this seq (0: never) */
} seen;

static sdb_rc on_record(void *ctx, uint64_t seq, const char *table, const sdb_batch *b,
                        sdb_err *err)
{
    seen *s = ctx;
    sdb_batch want;
    uint64_t seed = s->seed_of ? s->seed_of[seq] : seq;
    if (s->fail_at != 0 && seq == (uint64_t)s->fail_at)
        return SDB_FAIL(err, SDB_ERR_CANCELLED, "stop at %llu", (unsigned long long)seq);
    cr_assert_str_eq(table, "spans");
    fixture_batch(&want, seed, rows_of(seed));
    fixture_assert_equal(&want, b);
    sdb_batch_free(&want);
    s->seqs = realloc(s->seqs, (s->n + 1) * sizeof *s->seqs);
    s->seqs[s->n++] = seq;
    return SDB_OK;
}

static char wal_dir[4096];

static sdb_wal *open_wal(sdb_sync_mode mode, uint64_t file_limit, uint32_t interval_ms)
{
    sdb_wal_opts o = {mode, file_limit, interval_ms, 0};
    sdb_wal *w;
    sdb_err err;
    tmpdir_path(wal_dir, sizeof wal_dir, "wal");
    cr_assert_eq(sdb_wal_open_opts(wal_dir, &o, &w, &err), SDB_OK, "%s", err.msg);
    return w;
}

static uint64_t append_seed(sdb_wal *w, uint64_t seed)
{
    sdb_batch b;
    sdb_err err;
    uint64_t seq;
    fixture_batch(&b, seed, rows_of(seed));
    cr_assert_eq(sdb_wal_append(w, &b, "spans", &seq, &err), SDB_OK, "%s", err.msg);
    sdb_batch_free(&b);
    return seq;
}

static void close_wal(sdb_wal *w)
{
    sdb_err err;
    cr_assert_eq(sdb_wal_close(w, &err), SDB_OK, "%s", err.msg);
}

static seen replay(uint64_t from, sdb_wal_report *rep)
{
    seen s = {0, NULL, NULL, 0};
    sdb_err err;
    cr_assert_eq(sdb_wal_replay(wal_dir, on_record, &s, from, rep, &err), SDB_OK, "%s", err.msg);
    return s;
}

static uint64_t file_size(const char *name)
{
    char path[8192];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", wal_dir, name);
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (uint64_t)st.st_size;
}

static void run_mode(sdb_sync_mode mode, uint64_t commit_every)
{
    sdb_wal_report rep;
    sdb_err err;
    sdb_wal *w = open_wal(mode, 0, 1);
    seen s;
    for (uint64_t i = 1; i <= 3000; i++) {
        uint64_t seq = append_seed(w, i);
        cr_assert_eq(seq, i);
        if (i % commit_every == 0 || i == 3000)
            cr_assert_eq(sdb_wal_commit(w, seq, &err), SDB_OK, "%s", err.msg);
    }
    cr_assert_eq(sdb_wal_durable_seq(w), 3000);
    cr_assert_eq(sdb_wal_last_seq(w), 3000);
    close_wal(w);
    s = replay(0, &rep);
    cr_assert_eq(s.n, 3000);
    for (uint64_t i = 0; i < s.n; i++)
        cr_assert_eq(s.seqs[i], i + 1);
    cr_assert_eq(rep.records, 3000);
    cr_assert_eq(rep.replayed, 3000);
    cr_assert_eq(rep.last_seq, 3000);
    cr_assert(!rep.damaged, "%s", rep.reason);
    cr_assert_eq(rep.files, 1);
    free(s.seqs);
    /* and the log continues where it stopped */
    w = open_wal(mode, 0, 1);
    cr_assert_eq(append_seed(w, 3001), 3001);
    close_wal(w);
    s = replay(2990, &rep);
    cr_assert_eq(s.n, 11);
    cr_assert_eq(s.seqs[0], 2991);
    cr_assert_eq(rep.records, 3001);
    free(s.seqs);
}

Test(wal, append_commit_replay_always_keeps_every_record)
{
    run_mode(SDB_SYNC_ALWAYS, 100);
}

Test(wal, append_commit_replay_batch_keeps_every_record)
{
    run_mode(SDB_SYNC_BATCH, 7);
}

Test(wal, append_commit_replay_none_keeps_every_record)
{
    run_mode(SDB_SYNC_NONE, 1);
}

Test(wal, commit_of_unappended_seq_is_misuse)
{
    sdb_wal *w = open_wal(SDB_SYNC_ALWAYS, 0, 0);
    sdb_err err;
    append_seed(w, 1);
    cr_assert_eq(sdb_wal_commit(w, 2, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "commit of record 2") != NULL, "%s", err.msg);
    close_wal(w);
}

/* ---- group commit ---- */

#define THREADS    4
#define PER_THREAD 60

typedef struct worker {
    sdb_wal *w;                /* shared log */
    int id;                    /* 0..THREADS-1 */
    uint64_t seqs[PER_THREAD]; /* committed seqs */
    char msg[SDB_ERR_MSG_MAX]; /* the failure, returned by the thread */
} worker;

static void *work(void *arg)
{
    worker *k = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        sdb_batch b;
        sdb_err err;
        uint64_t seq;
        uint64_t seed = (uint64_t)k->id * 100000 + (uint64_t)i + 1;
        fixture_batch(&b, seed, rows_of(seed));
        if (sdb_wal_append(k->w, &b, "spans", &seq, &err) != SDB_OK ||
            sdb_wal_commit(k->w, seq, &err) != SDB_OK) {
            sdb_batch_free(&b);
            memcpy(k->msg, err.msg, sizeof k->msg);
            return k->msg;
        }
        /* acknowledged: the fsync that covers it has completed */
        if (sdb_wal_durable_seq(k->w) < seq) {
            sdb_batch_free(&b);
            return "commit returned before its record was durable";
        }
        k->seqs[i] = seq;
        sdb_batch_free(&b);
    }
    return NULL;
}

Test(wal, group_commit_threads_every_committed_seq_replays)
{
    sdb_wal *w = open_wal(SDB_SYNC_BATCH, 0, 2);
    worker k[THREADS];
    pthread_t t[THREADS];
    uint64_t seed_of[THREADS * PER_THREAD + 1] = {0};
    sdb_wal_report rep;
    seen s = {0, NULL, seed_of, 0};
    sdb_err err;
    uint64_t syncs;
    for (int i = 0; i < THREADS; i++) {
        k[i].w = w;
        k[i].id = i;
        cr_assert_eq(pthread_create(&t[i], NULL, work, &k[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_assert_null(r, "thread %d: %s", i, (const char *)r);
    }
    syncs = sdb_wal_sync_count(w);
    cr_assert_leq(syncs, THREADS * PER_THREAD);
    cr_assert_geq(syncs, 1);
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++) {
            uint64_t seq = k[i].seqs[j];
            cr_assert(seq >= 1 && seq <= THREADS * PER_THREAD);
            cr_assert_eq(seed_of[seq], 0, "seq %llu given twice", (unsigned long long)seq);
            seed_of[seq] = (uint64_t)i * 100000 + (uint64_t)j + 1;
        }
    close_wal(w);
    cr_assert_eq(sdb_wal_replay(wal_dir, on_record, &s, 0, &rep, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(s.n, THREADS * PER_THREAD);
    cr_assert(!rep.damaged);
    free(s.seqs);
}

/* ---- damage ---- */

Test(wal, replay_torn_tail_at_every_length_keeps_records_before_it)
{
    char path[8192];
    unsigned char *full;
    size_t full_len;
    uint64_t start;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 0, 0);
    for (uint64_t i = 1; i <= 19; i++)
        append_seed(w, i);
    start = file_size(FIRST_FILE);
    append_seed(w, 20);
    close_wal(w);
    snprintf(path, sizeof path, "%s/%s", wal_dir, FIRST_FILE);
    full = tmpdir_read_file(path, &full_len);
    cr_assert_not_null(full);
    cr_assert_gt(full_len, start + 32);
    for (uint64_t cut = start; cut < full_len; cut++) {
        sdb_wal_report rep;
        seen s;
        cr_assert_eq(tmpdir_write_file(path, full, (size_t)cut), 0);
        s = replay(0, &rep);
        cr_assert_eq(s.n, 19, "cut at %llu", (unsigned long long)cut);
        cr_assert_eq(rep.last_seq, 19);
        cr_assert_eq(rep.damaged, cut > start, "cut at %llu", (unsigned long long)cut);
        cr_assert(!rep.mid_log, "cut at %llu: %s", (unsigned long long)cut, rep.reason);
        cr_assert_eq(rep.bytes_dropped, cut - start);
        if (cut > start) {
            cr_assert(strstr(rep.reason, FIRST_FILE) != NULL, "%s", rep.reason);
            cr_assert(strstr(rep.reason, cut - start < 32 ? "record header is" : "payload is") !=
                          NULL,
                      "%s", rep.reason);
        }
        cr_assert_eq(file_size(FIRST_FILE), start, "the torn tail is truncated");
        free(s.seqs);
    }
    /* the repaired log takes new records after the last good one */
    w = open_wal(SDB_SYNC_ALWAYS, 0, 0);
    cr_assert_eq(append_seed(w, 20), 20);
    close_wal(w);
    {
        sdb_wal_report rep;
        seen s = replay(0, &rep);
        cr_assert_eq(s.n, 20);
        cr_assert(!rep.damaged);
        free(s.seqs);
    }
    free(full);
}

Test(wal, replay_flipped_byte_in_middle_record_stops_there_and_reports)
{
    char path[8192];
    unsigned char *bytes;
    size_t len;
    uint64_t off10 = 0, off11 = 0, total;
    sdb_wal_report rep;
    seen s;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 0, 0);
    for (uint64_t i = 1; i <= 30; i++) {
        if (i == 10)
            off10 = file_size(FIRST_FILE);
        if (i == 11)
            off11 = file_size(FIRST_FILE);
        append_seed(w, i);
    }
    close_wal(w);
    total = file_size(FIRST_FILE);
    snprintf(path, sizeof path, "%s/%s", wal_dir, FIRST_FILE);
    bytes = tmpdir_read_file(path, &len);
    bytes[(off10 + off11) / 2] ^= 0x20; /* inside record 10's payload */
    cr_assert_eq(tmpdir_write_file(path, bytes, len), 0);
    s = replay(0, &rep);
    cr_assert_eq(s.n, 9);
    cr_assert_eq(rep.last_seq, 9);
    cr_assert(rep.damaged);
    cr_assert(rep.mid_log, "valid records followed the damage");
    cr_assert(strstr(rep.reason, "record 10 checksum mismatch") != NULL, "%s", rep.reason);
    cr_assert_eq(rep.bytes_dropped, total - off10);
    cr_assert_eq(file_size(FIRST_FILE), off10);
    free(s.seqs);
    free(bytes);
}

Test(wal, scan_reports_damage_without_repairing)
{
    char path[8192];
    sdb_wal_report rep;
    seen s = {0, NULL, NULL, 0};
    sdb_err err;
    uint64_t size;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 0, 0);
    for (uint64_t i = 1; i <= 5; i++)
        append_seed(w, i);
    close_wal(w);
    size = file_size(FIRST_FILE);
    snprintf(path, sizeof path, "%s/%s", wal_dir, FIRST_FILE);
    cr_assert_eq(truncate(path, (off_t)size - 3), 0);
    cr_assert_eq(sdb_wal_scan(wal_dir, on_record, &s, 0, &rep, &err), SDB_OK);
    cr_assert_eq(s.n, 4);
    cr_assert(rep.damaged);
    cr_assert_eq(file_size(FIRST_FILE), size - 3);
    free(s.seqs);
}

Test(wal, replay_mem_sequence_jump_is_damage)
{
    sdb_buf a = SDB_BUF_INIT, b = SDB_BUF_INIT, img = SDB_BUF_INIT, p = SDB_BUF_INIT;
    const void *payloads[3];
    size_t lens[3];
    sdb_wal_report rep;
    seen s = {0, NULL, NULL, 0};
    sdb_batch batch;
    sdb_err err;
    fixture_batch(&batch, 5, rows_of(5));
    cr_assert_eq(sdb_batch_serialize(&batch, "spans", &p, &err), SDB_OK);
    sdb_batch_free(&batch);
    for (int i = 0; i < 3; i++) {
        payloads[i] = p.data;
        lens[i] = p.len;
    }
    cr_assert_eq(sdb_wal_build_image(5, payloads, lens, 3, &a, &err), SDB_OK);
    cr_assert_eq(sdb_wal_build_image(9, payloads, lens, 2, &b, &err), SDB_OK);
    cr_assert_eq(sdb_buf_append(&img, a.data, a.len, &err), SDB_OK);
    cr_assert_eq(sdb_buf_append(&img, b.data + 16, b.len - 16, &err), SDB_OK);
    s.seed_of = (const uint64_t[]){5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    cr_assert_eq(sdb_wal_replay_mem(img.data, img.len, "mem", on_record, &s, 0, &rep, &err),
                 SDB_OK);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(rep.last_seq, 7);
    cr_assert(rep.damaged);
    cr_assert(strstr(rep.reason, "sequence number 9 where 8 was expected") != NULL, "%s",
              rep.reason);
    free(s.seqs);
    sdb_buf_free(&a);
    sdb_buf_free(&b);
    sdb_buf_free(&img);
    sdb_buf_free(&p);
}

Test(wal, replay_callback_error_stops_and_is_returned)
{
    sdb_wal_report rep;
    seen s = {0, NULL, NULL, 7};
    sdb_err err;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 0, 0);
    for (uint64_t i = 1; i <= 10; i++)
        append_seed(w, i);
    close_wal(w);
    cr_assert_eq(sdb_wal_replay(wal_dir, on_record, &s, 0, &rep, &err), SDB_ERR_CANCELLED);
    cr_assert(strstr(err.msg, "stop at 7") != NULL, "%s", err.msg);
    cr_assert_eq(s.n, 6);
    free(s.seqs);
}

Test(wal, open_repairs_torn_tail_of_newest_file)
{
    char path[8192];
    uint64_t size;
    sdb_wal_report rep;
    seen s;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 0, 0);
    for (uint64_t i = 1; i <= 10; i++)
        append_seed(w, i);
    close_wal(w);
    size = file_size(FIRST_FILE);
    snprintf(path, sizeof path, "%s/%s", wal_dir, FIRST_FILE);
    cr_assert_eq(truncate(path, (off_t)size - 5), 0);
    w = open_wal(SDB_SYNC_ALWAYS, 0, 0);
    cr_assert_eq(sdb_wal_last_seq(w), 9);
    cr_assert_eq(append_seed(w, 10), 10);
    close_wal(w);
    s = replay(0, &rep);
    cr_assert_eq(s.n, 10);
    cr_assert(!rep.damaged, "%s", rep.reason);
    free(s.seqs);
}

/* ---- rolling and retiring ---- */

Test(wal, append_past_file_limit_rolls_and_replays_in_order)
{
    sdb_wal_report rep;
    seen s;
    sdb_wal *w = open_wal(SDB_SYNC_BATCH, 8192, 1);
    sdb_err err;
    uint32_t files;
    for (uint64_t i = 1; i <= 400; i++)
        append_seed(w, i);
    cr_assert_eq(sdb_wal_commit(w, 400, &err), SDB_OK);
    files = sdb_wal_file_count(w);
    cr_assert_gt(files, 3);
    close_wal(w);
    /* reopening continues in the newest file */
    w = open_wal(SDB_SYNC_BATCH, 8192, 1);
    cr_assert_eq(sdb_wal_file_count(w), files);
    cr_assert_eq(append_seed(w, 401), 401);
    close_wal(w);
    s = replay(0, &rep);
    cr_assert_eq(s.n, 401);
    for (uint64_t i = 0; i < s.n; i++)
        cr_assert_eq(s.seqs[i], i + 1);
    cr_assert_geq(rep.files, files);
    cr_assert(!rep.damaged, "%s", rep.reason);
    free(s.seqs);
}

Test(wal, retire_deletes_only_files_fully_published)
{
    sdb_wal_report rep;
    seen s;
    sdb_err err;
    uint32_t before, after;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 4096, 0);
    for (uint64_t i = 1; i <= 500; i++)
        append_seed(w, i);
    before = sdb_wal_file_count(w);
    cr_assert_gt(before, 5);
    cr_assert_eq(sdb_wal_retire(w, 250, &err), SDB_OK, "%s", err.msg);
    after = sdb_wal_file_count(w);
    cr_assert_lt(after, before);
    close_wal(w);
    s = replay(250, &rep);
    cr_assert_eq(s.n, 250, "every record after 250 is still there");
    cr_assert_eq(s.seqs[0], 251);
    cr_assert_lt(rep.records - rep.replayed, 60, "at most one file of published records kept");
    cr_assert_eq(rep.seq_gaps, 0);
    free(s.seqs);
    /* retiring everything keeps the file being appended to */
    w = open_wal(SDB_SYNC_NONE, 4096, 0);
    cr_assert_eq(sdb_wal_retire(w, UINT64_MAX, &err), SDB_OK);
    cr_assert_eq(sdb_wal_file_count(w), 1);
    cr_assert_eq(append_seed(w, 501), 501);
    close_wal(w);
}

Test(wal, replay_drops_empty_file_left_by_crashed_roll)
{
    char path[8192];
    sdb_wal_report rep;
    seen s;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 0, 0);
    for (uint64_t i = 1; i <= 10; i++)
        append_seed(w, i);
    close_wal(w);
    snprintf(path, sizeof path, "%s/wal-00000000000000000011.log", wal_dir);
    cr_assert_eq(tmpdir_write_file(path, "SW", 2), 0);
    s = replay(0, &rep);
    cr_assert_eq(s.n, 10);
    cr_assert(rep.damaged);
    cr_assert_eq(rep.files_dropped, 1);
    cr_assert(strstr(rep.reason, "file header is 2 of 16 bytes") != NULL, "%s", rep.reason);
    cr_assert(access(path, F_OK) != 0, "the empty file is gone");
    free(s.seqs);
}

Test(wal, corrupt_middle_file_drops_later_files_and_reports)
{
    char path[8192];
    unsigned char *bytes;
    size_t len;
    sdb_wal_report rep;
    seen s;
    sdb_wal *w = open_wal(SDB_SYNC_NONE, 4096, 0);
    for (uint64_t i = 1; i <= 200; i++)
        append_seed(w, i);
    cr_assert_gt(sdb_wal_file_count(w), 3);
    close_wal(w);
    snprintf(path, sizeof path, "%s/%s", wal_dir, FIRST_FILE);
    bytes = tmpdir_read_file(path, &len);
    bytes[len - 10] ^= 1; /* last record of the first file */
    cr_assert_eq(tmpdir_write_file(path, bytes, len), 0);
    s = replay(0, &rep);
    cr_assert(rep.damaged);
    cr_assert(rep.mid_log);
    cr_assert_gt(rep.files_dropped, 2);
    cr_assert_eq(s.n, rep.last_seq);
    cr_assert(strstr(rep.reason, "checksum mismatch") != NULL, "%s", rep.reason);
    free(s.seqs);
    free(bytes);
}

Test(wal, start_seq_moves_numbering_forward)
{
    sdb_wal_opts o = {SDB_SYNC_NONE, 0, 0, 100};
    sdb_wal *w;
    sdb_err err;
    sdb_wal_report rep;
    seen s = {0, NULL, NULL, 0};
    uint64_t seed_of[300];
    tmpdir_path(wal_dir, sizeof wal_dir, "wal");
    cr_assert_eq(sdb_wal_open_opts(wal_dir, &o, &w, &err), SDB_OK);
    cr_assert_eq(append_seed(w, 100), 100);
    close_wal(w);
    o.start_seq = 200;
    cr_assert_eq(sdb_wal_open_opts(wal_dir, &o, &w, &err), SDB_OK);
    cr_assert_eq(append_seed(w, 200), 200);
    close_wal(w);
    for (int i = 0; i < 300; i++)
        seed_of[i] = (uint64_t)i;
    s.seed_of = seed_of;
    cr_assert_eq(sdb_wal_replay(wal_dir, on_record, &s, 0, &rep, &err), SDB_OK);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(rep.seq_gaps, 1);
    cr_assert(!rep.damaged, "%s", rep.reason);
    free(s.seqs);
}

Test(wal, replay_of_missing_dir_is_empty)
{
    sdb_wal_report rep;
    seen s;
    tmpdir_path(wal_dir, sizeof wal_dir, "nothing-here");
    s = replay(0, &rep);
    cr_assert_eq(s.n, 0);
    cr_assert_eq(rep.files, 0);
}

Test(wal, sync_mode_names_parse_back)
{
    sdb_sync_mode m;
    for (int i = 0; i <= 2; i++) {
        cr_assert(sdb_sync_mode_parse(sdb_sync_mode_name((sdb_sync_mode)i), &m));
        cr_assert_eq((int)m, i);
    }
    cr_assert(!sdb_sync_mode_parse("sometimes", &m));
}

/* ---- crash: kill -9 a writer at arbitrary points ---- */

/* The child: append and commit forever, reporting each acknowledged seq on fd. */
static void crash_child(int fd, sdb_sync_mode mode, uint64_t file_limit)
{
    sdb_wal_opts o = {mode, file_limit, 1, 0};
    sdb_wal *w;
    sdb_err err;
    if (sdb_wal_open_opts(wal_dir, &o, &w, &err) != SDB_OK)
        _exit(1);
    for (;;) {
        sdb_batch b;
        uint64_t seq;
        fixture_batch(&b, sdb_wal_last_seq(w) + 1, rows_of(sdb_wal_last_seq(w) + 1));
        if (sdb_wal_append(w, &b, "spans", &seq, &err) != SDB_OK ||
            sdb_wal_commit(w, seq, &err) != SDB_OK)
            _exit(2);
        sdb_batch_free(&b);
        if (write(fd, &seq, sizeof seq) != sizeof seq)
            _exit(3);
    }
}

Test(wal, kill9_writer_keeps_every_acknowledged_record_exactly_once)
{
    uint64_t acked = 0;
    tmpdir_path(wal_dir, sizeof wal_dir, "wal");
    for (int round = 0; round < 6; round++) {
        int p[2];
        pid_t child;
        uint64_t seq, want_acks = 20 + (uint64_t)round * 37;
        sdb_wal_report rep;
        seen s;
        cr_assert_eq(pipe(p), 0);
        child = fork();
        cr_assert_geq(child, 0);
        if (child == 0) {
            close(p[0]);
            crash_child(p[1], round % 2 ? SDB_SYNC_BATCH : SDB_SYNC_ALWAYS, 16384);
        }
        close(p[1]);
        for (uint64_t n = 0; n < want_acks && read(p[0], &seq, sizeof seq) == sizeof seq; n++)
            acked = seq;
        kill(child, SIGKILL);
        while (read(p[0], &seq, sizeof seq) == sizeof seq)
            acked = seq; /* acknowledged just before the kill */
        close(p[0]);
        waitpid(child, NULL, 0);
        /* seeds are seq numbers, so on_record checks every batch's contents as well */
        s = replay(0, &rep);
        cr_assert_geq(rep.last_seq, acked, "round %d: acknowledged %llu, replayed up to %llu",
                      round, (unsigned long long)acked, (unsigned long long)rep.last_seq);
        for (uint64_t i = 0; i < s.n; i++)
            cr_assert_eq(s.seqs[i], i + 1, "each record once, in order");
        cr_assert(!rep.mid_log, "%s", rep.reason);
        free(s.seqs);
    }
}
