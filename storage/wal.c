/* The write-ahead log. Layout (all integers little-endian; docs/wal-format.md has more):
 *
 *   DIR/wal-<first seq, 20 digits>.log, one per 64 MiB (the name sorts in log order)
 *   file header (16 bytes): u32 magic "SWAL", u32 version (1), u64 first seq (= the name)
 *   record header (32 bytes):
 *     0  u32 magic "SWR1"     4  u32 kind (1 = batch)     8  u32 payload length
 *     12 u32 reserved (0)     16 u64 sequence number       24 u64 checksum
 *   payload: a serialized batch (storage/batch_io.h)
 *   checksum = XXH3-64 of header bytes 0..23 seeded with XXH3-64 of the payload
 *
 * Sequence numbers rise by one from record to record within a file and across files; a
 * file may start past the previous file's end (a "gap", after sdb_wal_opts.start_seq moved
 * numbering forward), never before it.
 *
 * Crash states. A crash during append leaves a prefix of the last record (a torn tail): its
 * header or payload is short or its checksum fails, and replay cuts it off. A crash while
 * rolling leaves a new file that is empty or has a short header: replay deletes it. Records
 * that a commit acknowledged were fsynced (with the file's directory entry), so they are
 * whole and precede any damage. Retire deletes whole old files only, oldest first, so a
 * crash mid-retire leaves a suffix of the log.
 *
 * Concurrency. One mutex guards the append state. Appends write under it; fsyncs run
 * outside it so that appends continue during an fsync. One committer at a time is the
 * "leader" that fsyncs (syncing = true); the others wait on the condition variable and
 * return as soon as durable_seq covers their record. In BATCH mode the leader first sleeps
 * until `interval` has passed since the previous fsync, so one fsync covers every record
 * appended meanwhile. Rolling waits for a running fsync to end before closing the file. */
#include "storage/wal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/batch_io.h"
#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/fileio.h"

#define FILE_MAGIC     0x4c415753u /* "SWAL" */
#define FILE_VERSION   1u
#define FILE_HDR       16u
#define REC_MAGIC      0x31525753u /* "SWR1" */
#define REC_KIND_BATCH 1u
#define REC_HDR        32u
#define NAME_PREFIX    "wal-"
#define NAME_SUFFIX    ".log"
#define NAME_LEN       (4 + 20 + 4)

struct sdb_wal {
    char dir[SDB_PATH_MAX];    /* the table's WAL directory */
    sdb_wal_opts opts;         /* with defaults filled in */
    pthread_mutex_t mu;        /* guards everything below */
    pthread_cond_t cv;         /* signalled when an fsync ends */
    int fd;                    /* file being appended to */
    char path[SDB_PATH_MAX];   /* its path; changes only while !syncing */
    uint64_t off;              /* append offset in it */
    uint64_t next_seq;         /* sequence number of the next record */
    uint64_t written_seq;      /* last record handed to the OS (0: none) */
    uint64_t durable_seq;      /* last record covered by a completed fsync */
    int syncing;               /* a leader is fsyncing (or sleeping before it) */
    struct timespec last_sync; /* CLOCK_MONOTONIC end of the last fsync */
    uint64_t *files;           /* first seq of each file, ascending; the last is being appended */
    uint32_t nfiles;           /* entries in files */
    uint32_t files_cap;        /* entries allocated */
    uint64_t syncs;            /* fsyncs of WAL files done (for tests and metrics) */
    int broken;                /* a write or fsync failed: every call fails with `failure` */
    sdb_err failure;           /* the error that broke the log */
};

const char *sdb_sync_mode_name(sdb_sync_mode m)
{
    switch (m) {
    case SDB_SYNC_ALWAYS: return "always";
    case SDB_SYNC_BATCH: return "batch";
    case SDB_SYNC_NONE: return "none";
    }
    return "?";
}

bool sdb_sync_mode_parse(const char *s, sdb_sync_mode *m)
{
    if (strcmp(s, "always") == 0)
        *m = SDB_SYNC_ALWAYS;
    else if (strcmp(s, "batch") == 0)
        *m = SDB_SYNC_BATCH;
    else if (strcmp(s, "none") == 0)
        *m = SDB_SYNC_NONE;
    else
        return false;
    return true;
}

/* ---- file names ---- */

static void file_name(char *out, uint64_t first_seq)
{
    snprintf(out, NAME_LEN + 1, NAME_PREFIX "%020" PRIu64 NAME_SUFFIX, first_seq);
}

/* The first seq encoded in a WAL file name, or false when name is not one. */
static bool parse_name(const char *name, uint64_t *seq)
{
    uint64_t v = 0;
    if (strlen(name) != NAME_LEN || memcmp(name, NAME_PREFIX, 4) != 0 ||
        memcmp(name + 24, NAME_SUFFIX, 4) != 0)
        return false;
    for (int i = 4; i < 24; i++) {
        unsigned d = (unsigned)(name[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *seq = v;
    return v > 0;
}

typedef struct file_list {
    uint64_t *seqs; /* first seqs, sorted after list_files */
    uint32_t n;     /* entries */
    uint32_t cap;   /* allocated */
} file_list;

static sdb_rc list_add(file_list *l, uint64_t seq, sdb_err *err)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 16;
        uint64_t *p = realloc(l->seqs, cap * sizeof *p);
        if (p == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a list of %u WAL files", cap);
        l->seqs = p;
        l->cap = cap;
    }
    l->seqs[l->n++] = seq;
    return SDB_OK;
}

static sdb_rc list_cb(void *ctx, const char *name, sdb_err *err)
{
    uint64_t seq;
    if (!parse_name(name, &seq))
        return SDB_OK; /* not ours: temporary files, notes of an operator */
    return list_add(ctx, seq, err);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The WAL files of dir in log order; a missing dir is an empty list. */
static sdb_rc list_files(const char *dir, file_list *l, sdb_err *err)
{
    sdb_rc rc = sdb_file_list_dir(dir, list_cb, l, err);
    if (rc == SDB_ERR_NOTFOUND) {
        sdb_err_clear(err);
        rc = SDB_OK;
    }
    if (rc == SDB_OK && l->n > 1)
        qsort(l->seqs, l->n, sizeof *l->seqs, cmp_u64);
    return rc;
}

/* ---- reading: one file, from a descriptor or from memory ---- */

typedef struct source {
    const uint8_t *mem; /* memory image, or NULL to read fd */
    int fd;             /* open file when mem is NULL */
    uint64_t size;      /* bytes in the image or file */
    const char *name;   /* for messages */
} source;

static sdb_rc src_read(const source *s, uint64_t off, void *buf, size_t n, size_t *got,
                       sdb_err *err)
{
    if (s->mem != NULL) {
        *got = off >= s->size ? 0 : (size_t)(s->size - off < n ? s->size - off : n);
        if (*got > 0)
            memcpy(buf, s->mem + off, *got);
        return SDB_OK;
    }
    return sdb_file_pread_all(s->fd, s->name, buf, n, off, got, err);
}

typedef struct scan {
    sdb_wal_replay_fn fn; /* callback, or NULL to only validate */
    void *ctx;            /* its context */
    uint64_t from_seq;    /* call back for seq > from_seq */
    uint64_t prev_seq;    /* last good seq of the previous file (0: not checked) */
    sdb_wal_report *rep;  /* filled as we go */
    sdb_buf payload;      /* reused payload buffer */
} scan;

/* Outcome of scanning one file. */
typedef struct scan_end {
    uint64_t good_end; /* offset after the last good record (or header) */
    uint64_t last_seq; /* last good seq of this file (first_seq - 1 when none) */
    bool damaged;      /* damage found at good_end */
} scan_end;

/* Header checks of one record at `off`; on success *len and *seq are set. A description of
 * the damage goes to why. */
static bool record_header_ok(const uint8_t *h, uint64_t expect_seq, bool check_seq, uint32_t *len,
                             uint64_t *seq, char *why, size_t whylen)
{
    if (sdb_get_le32(h) != REC_MAGIC) {
        snprintf(why, whylen, "bad record magic 0x%08x", sdb_get_le32(h));
        return false;
    }
    if (sdb_get_le32(h + 4) != REC_KIND_BATCH || sdb_get_le32(h + 12) != 0) {
        snprintf(why, whylen, "unknown record kind %u", sdb_get_le32(h + 4));
        return false;
    }
    *len = sdb_get_le32(h + 8);
    *seq = sdb_get_le64(h + 16);
    if (*len > SDB_WAL_RECORD_MAX) {
        snprintf(why, whylen, "record length %u is larger than %u", *len, SDB_WAL_RECORD_MAX);
        return false;
    }
    if (check_seq && *seq != expect_seq) {
        snprintf(why, whylen, "sequence number %" PRIu64 " where %" PRIu64 " was expected", *seq,
                 expect_seq);
        return false;
    }
    return true;
}

static uint64_t record_checksum(const uint8_t *h, const uint8_t *payload, size_t len)
{
    return sdb_hash64_seed(h, 24, sdb_hash64(payload, len));
}

/* Is there any checksum-valid record in [from, size)? Tells a torn tail (nothing valid after
 * the damage) from corruption in the middle of the log. Reads the rest of the file. */
static bool valid_record_after(const source *s, uint64_t from)
{
    sdb_buf rest = SDB_BUF_INIT;
    sdb_err ignored;
    size_t n, got;
    bool found = false;
    if (from >= s->size || s->size - from > SDB_WAL_RECORD_MAX + (uint64_t)SDB_WAL_FILE_LIMIT * 4)
        return false;
    n = (size_t)(s->size - from);
    if (sdb_buf_reserve(&rest, n, &ignored) != SDB_OK ||
        src_read(s, from, rest.data, n, &got, &ignored) != SDB_OK)
        goto done;
    for (size_t o = 1; o + REC_HDR <= got && !found; o++) {
        uint32_t len;
        uint64_t seq;
        char why[200];
        if (sdb_get_le32(rest.data + o) != REC_MAGIC)
            continue;
        if (!record_header_ok(rest.data + o, 0, false, &len, &seq, why, sizeof why) ||
            len > got - o - REC_HDR)
            continue;
        found = sdb_get_le64(rest.data + o + 24) ==
                record_checksum(rest.data + o, rest.data + o + REC_HDR, len);
    }
done:
    sdb_buf_free(&rest);
    return found;
}

/* Validate (and replay) one file. Damage ends the scan with end->damaged and a reason in the
 * report; only I/O errors, callback errors and undecodable checksummed records fail. */
static sdb_rc scan_file(scan *st, const source *s, uint64_t name_seq, scan_end *end, sdb_err *err)
{
    uint8_t h[REC_HDR];
    size_t got;
    uint64_t off = 0, first, expect;
    char why[200];
    sdb_wal_report *rep = st->rep;
    end->good_end = 0;
    end->last_seq = 0;
    end->damaged = false;
    SDB_TRY(src_read(s, 0, h, FILE_HDR, &got, err));
    if (got < FILE_HDR) {
        snprintf(why, sizeof why, "file header is %zu of %u bytes", got, FILE_HDR);
        goto damaged;
    }
    if (sdb_get_le32(h) != FILE_MAGIC) {
        snprintf(why, sizeof why, "not a WAL file (magic 0x%08x)", sdb_get_le32(h));
        goto damaged;
    }
    if (sdb_get_le32(h + 4) != FILE_VERSION) {
        snprintf(why, sizeof why, "unsupported WAL version %u", sdb_get_le32(h + 4));
        goto damaged;
    }
    first = sdb_get_le64(h + 8);
    if (first == 0 || (name_seq != 0 && first != name_seq)) {
        snprintf(why, sizeof why, "file header says first sequence %" PRIu64, first);
        goto damaged;
    }
    if (st->prev_seq != 0 && first <= st->prev_seq) {
        snprintf(why, sizeof why, "file starts at sequence %" PRIu64 ", not after %" PRIu64, first,
                 st->prev_seq);
        goto damaged;
    }
    if (st->prev_seq != 0 && first > st->prev_seq + 1)
        rep->seq_gaps++;
    off = FILE_HDR;
    end->good_end = off;
    end->last_seq = first - 1;
    expect = first;
    while (off < s->size) {
        uint32_t len;
        uint64_t seq;
        SDB_TRY(src_read(s, off, h, REC_HDR, &got, err));
        if (got < REC_HDR) {
            snprintf(why, sizeof why, "record header is %zu of %u bytes", got, REC_HDR);
            goto damaged;
        }
        if (!record_header_ok(h, expect, true, &len, &seq, why, sizeof why))
            goto damaged;
        if (len > s->size - off - REC_HDR) {
            snprintf(why, sizeof why, "record %" PRIu64 " payload is %" PRIu64 " of %u bytes", seq,
                     s->size - off - REC_HDR, len);
            goto damaged;
        }
        sdb_buf_reset(&st->payload);
        SDB_TRY(sdb_buf_reserve(&st->payload, len, err));
        SDB_TRY(src_read(s, off + REC_HDR, st->payload.data, len, &got, err));
        if (got < len) {
            snprintf(why, sizeof why, "record %" PRIu64 " payload is %zu of %u bytes", seq, got,
                     len);
            goto damaged;
        }
        if (sdb_get_le64(h + 24) != record_checksum(h, st->payload.data, len)) {
            snprintf(why, sizeof why, "record %" PRIu64 " checksum mismatch", seq);
            goto damaged;
        }
        if (st->fn != NULL && seq > st->from_seq) {
            sdb_batch b;
            char *table = NULL;
            sdb_rc rc = sdb_batch_deserialize(st->payload.data, len, &b, &table, err);
            if (rc != SDB_OK) {
                sdb_err_prefix(err, "%s offset %" PRIu64 " record %" PRIu64 ": ", s->name, off,
                               seq);
            } else {
                rc = st->fn(st->ctx, seq, table, &b, err);
                rep->replayed++;
            }
            sdb_batch_free(&b);
            free(table);
            SDB_TRY(rc);
        }
        rep->records++;
        rep->last_seq = seq;
        end->last_seq = seq;
        off += REC_HDR + len;
        end->good_end = off;
        expect = seq + 1;
    }
    return SDB_OK;
damaged:
    end->damaged = true;
    rep->damaged = true;
    rep->mid_log = valid_record_after(s, end->good_end);
    snprintf(rep->reason, sizeof rep->reason, "%s offset %" PRIu64 ": %s", s->name, end->good_end,
             why);
    return SDB_OK;
}

/* ---- replay ---- */

/* Cut the log at (file index i, offset good_end): truncate file i there, or delete it when
 * not even its header is good, and delete every later file. */
static sdb_rc cut_log(const char *dir, const file_list *l, uint32_t i, uint64_t good_end,
                      uint64_t size_i, sdb_wal_report *rep, sdb_err *err)
{
    char name[NAME_LEN + 1], path[SDB_PATH_MAX];
    int fd;
    rep->bytes_dropped += size_i - good_end;
    for (uint32_t j = l->n; j-- > i + 1;) {
        uint64_t size = 0;
        file_name(name, l->seqs[j]);
        SDB_TRY(sdb_file_join(path, dir, name, err));
        if (sdb_file_open(path, SDB_OPEN_READ, &fd, err) == SDB_OK) {
            sdb_file_size(fd, path, &size, err);
            sdb_file_close(fd, path, err);
        }
        rep->bytes_dropped += size;
        SDB_TRY(sdb_file_unlink(path, true, err));
        rep->files_dropped++;
    }
    file_name(name, l->seqs[i]);
    SDB_TRY(sdb_file_join(path, dir, name, err));
    if (good_end < FILE_HDR) {
        SDB_TRY(sdb_file_unlink(path, true, err));
        rep->files_dropped++;
    } else {
        sdb_rc rc;
        SDB_TRY(sdb_file_open(path, SDB_OPEN_RDWR, &fd, err));
        rc = sdb_file_truncate(fd, path, good_end, err);
        if (rc == SDB_OK)
            rc = sdb_file_sync(fd, path, err);
        sdb_file_close(fd, path, err);
        SDB_TRY(rc);
    }
    return sdb_file_sync_dir(dir, err);
}

static sdb_rc replay_dir(const char *dir, bool repair, sdb_wal_replay_fn fn, void *ctx,
                         uint64_t from_seq, sdb_wal_report *rep, sdb_err *err)
{
    file_list l = {0};
    scan st = {fn, ctx, from_seq, 0, rep, SDB_BUF_INIT};
    uint32_t start = 0;
    sdb_rc rc;
    memset(rep, 0, sizeof *rep);
    if ((rc = list_files(dir, &l, err)) != SDB_OK)
        goto done;
    /* files whose successor starts at or before from_seq + 1 hold nothing to replay */
    while (start + 1 < l.n && l.seqs[start + 1] - 1 <= from_seq)
        start++;
    for (uint32_t i = start; i < l.n; i++) {
        char name[NAME_LEN + 1], path[SDB_PATH_MAX];
        source s = {NULL, -1, 0, path};
        scan_end end;
        file_name(name, l.seqs[i]);
        if ((rc = sdb_file_join(path, dir, name, err)) != SDB_OK)
            goto done;
        if ((rc = sdb_file_open(path, SDB_OPEN_READ, &s.fd, err)) != SDB_OK)
            goto done;
        rc = sdb_file_size(s.fd, path, &s.size, err);
        if (rc == SDB_OK)
            rc = scan_file(&st, &s, l.seqs[i], &end, err);
        sdb_file_close(s.fd, path, err);
        if (rc != SDB_OK)
            goto done;
        rep->files++;
        if (end.damaged) {
            if (i + 1 < l.n)
                rep->mid_log = true;
            if (repair)
                rc = cut_log(dir, &l, i, end.good_end, s.size, rep, err);
            goto done;
        }
        st.prev_seq = end.last_seq;
    }
done:
    free(l.seqs);
    sdb_buf_free(&st.payload);
    return rc;
}

sdb_rc sdb_wal_replay(const char *dir, sdb_wal_replay_fn fn, void *ctx, uint64_t from_seq,
                      sdb_wal_report *report, sdb_err *err)
{
    return replay_dir(dir, true, fn, ctx, from_seq, report, err);
}

sdb_rc sdb_wal_scan(const char *dir, sdb_wal_replay_fn fn, void *ctx, uint64_t from_seq,
                    sdb_wal_report *report, sdb_err *err)
{
    return replay_dir(dir, false, fn, ctx, from_seq, report, err);
}

sdb_rc sdb_wal_replay_mem(const void *data, size_t len, const char *name, sdb_wal_replay_fn fn,
                          void *ctx, uint64_t from_seq, sdb_wal_report *report, sdb_err *err)
{
    scan st = {fn, ctx, from_seq, 0, report, SDB_BUF_INIT};
    source s = {data, -1, len, name};
    scan_end end;
    sdb_rc rc;
    memset(report, 0, sizeof *report);
    if (data == NULL && len > 0)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: no data", name);
    if (data == NULL)
        s.mem = (const uint8_t *)"";
    rc = scan_file(&st, &s, 0, &end, err);
    report->files = 1;
    sdb_buf_free(&st.payload);
    return rc;
}

/* Fill a record header for a payload of len bytes with checksum phash of the payload. */
static void make_header(uint8_t *h, uint32_t len, uint64_t seq, uint64_t phash)
{
    sdb_put_le32(h, REC_MAGIC);
    sdb_put_le32(h + 4, REC_KIND_BATCH);
    sdb_put_le32(h + 8, len);
    sdb_put_le32(h + 12, 0);
    sdb_put_le64(h + 16, seq);
    sdb_put_le64(h + 24, sdb_hash64_seed(h, 24, phash));
}

static void make_file_header(uint8_t *h, uint64_t first_seq)
{
    sdb_put_le32(h, FILE_MAGIC);
    sdb_put_le32(h + 4, FILE_VERSION);
    sdb_put_le64(h + 8, first_seq);
}

sdb_rc sdb_wal_build_image(uint64_t first_seq, const void *const *payloads, const size_t *lens,
                           size_t n, sdb_buf *out, sdb_err *err)
{
    uint8_t h[REC_HDR];
    make_file_header(h, first_seq);
    SDB_TRY(sdb_buf_append(out, h, FILE_HDR, err));
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > SDB_WAL_RECORD_MAX)
            return SDB_FAIL(err, SDB_ERR_LIMIT, "record of %zu bytes is larger than %u", lens[i],
                            SDB_WAL_RECORD_MAX);
        make_header(h, (uint32_t)lens[i], first_seq + i, sdb_hash64(payloads[i], lens[i]));
        SDB_TRY(sdb_buf_append(out, h, REC_HDR, err));
        SDB_TRY(sdb_buf_append(out, payloads[i], lens[i], err));
    }
    return SDB_OK;
}

/* ---- appending ---- */

static void now(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

/* Mark the log broken with the error in err (which stays set for the caller). */
static sdb_rc fail_log(sdb_wal *w, sdb_rc rc, sdb_err *err)
{
    w->broken = 1;
    if (err != NULL)
        w->failure = *err;
    else
        SDB_FAIL(&w->failure, rc, "%s: the log failed earlier", w->dir);
    pthread_cond_broadcast(&w->cv);
    return rc;
}

static sdb_rc broken_error(sdb_wal *w, sdb_err *err)
{
    if (err != NULL)
        *err = w->failure;
    sdb_err_prefix(err, "%s: WAL unusable after an earlier failure: ", w->dir);
    return w->failure.code != SDB_OK ? w->failure.code : SDB_ERR_IO;
}

/* Create the file for first_seq and make it current (under mu, with !syncing). */
static sdb_rc new_file(sdb_wal *w, uint64_t first_seq, sdb_err *err)
{
    char name[NAME_LEN + 1], path[SDB_PATH_MAX];
    uint8_t h[FILE_HDR];
    int fd;
    sdb_rc rc;
    if (w->nfiles == w->files_cap) {
        uint32_t cap = w->files_cap ? w->files_cap * 2 : 16;
        uint64_t *p = realloc(w->files, cap * sizeof *p);
        if (p == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a list of %u WAL files", cap);
        w->files = p;
        w->files_cap = cap;
    }
    file_name(name, first_seq);
    SDB_TRY(sdb_file_join(path, w->dir, name, err));
    /* a leftover empty or torn file of the same name (from a crash while rolling) is
       replaced: it holds no records */
    SDB_TRY(sdb_file_open(path, SDB_OPEN_RDWR | SDB_OPEN_CREATE | SDB_OPEN_TRUNC, &fd, err));
    make_file_header(h, first_seq);
    rc = sdb_file_pwrite_all(fd, path, h, FILE_HDR, 0, err);
    if (rc == SDB_OK && w->opts.mode != SDB_SYNC_NONE)
        rc = sdb_file_sync(fd, path, err);
    if (rc == SDB_OK && w->opts.mode != SDB_SYNC_NONE)
        rc = sdb_file_sync_dir(w->dir, err);
    if (rc != SDB_OK) {
        sdb_file_close(fd, path, NULL);
        return rc;
    }
    if (w->fd >= 0)
        sdb_file_close(w->fd, w->path, NULL);
    w->fd = fd;
    memcpy(w->path, path, sizeof path);
    w->off = FILE_HDR;
    w->files[w->nfiles++] = first_seq;
    return SDB_OK;
}

/* Close the current file durably and start the next one (under mu, with !syncing). */
static sdb_rc roll(sdb_wal *w, sdb_err *err)
{
    if (w->opts.mode != SDB_SYNC_NONE && w->durable_seq < w->written_seq) {
        SDB_TRY(sdb_file_sync(w->fd, w->path, err));
        w->syncs++;
        w->durable_seq = w->written_seq;
        now(&w->last_sync);
        pthread_cond_broadcast(&w->cv);
    }
    return new_file(w, w->next_seq, err);
}

sdb_rc sdb_wal_open(const char *dir, sdb_sync_mode mode, sdb_wal **wal, sdb_err *err)
{
    sdb_wal_opts o = {mode, 0, 0, 0};
    return sdb_wal_open_opts(dir, &o, wal, err);
}

/* Find the end of the newest file, repairing a torn tail, and make it current. */
static sdb_rc open_tail(sdb_wal *w, file_list *l, sdb_err *err)
{
    while (l->n > 0) {
        char name[NAME_LEN + 1];
        sdb_wal_report rep;
        scan st = {NULL, NULL, 0, 0, &rep, SDB_BUF_INIT};
        source s = {NULL, -1, 0, w->path};
        scan_end end;
        sdb_rc rc;
        memset(&rep, 0, sizeof rep);
        file_name(name, l->seqs[l->n - 1]);
        SDB_TRY(sdb_file_join(w->path, w->dir, name, err));
        SDB_TRY(sdb_file_open(w->path, SDB_OPEN_RDWR, &s.fd, err));
        rc = sdb_file_size(s.fd, w->path, &s.size, err);
        if (rc == SDB_OK)
            rc = scan_file(&st, &s, l->seqs[l->n - 1], &end, err);
        sdb_buf_free(&st.payload);
        if (rc == SDB_OK && end.damaged && end.good_end >= FILE_HDR) {
            rc = sdb_file_truncate(s.fd, w->path, end.good_end, err);
            if (rc == SDB_OK)
                rc = sdb_file_sync(s.fd, w->path, err);
        }
        if (rc == SDB_OK && end.good_end >= FILE_HDR) {
            w->fd = s.fd;
            w->off = end.good_end;
            w->next_seq = end.last_seq + 1;
            w->written_seq = end.last_seq;
            w->durable_seq = end.last_seq;
            if (w->opts.mode != SDB_SYNC_NONE)
                rc = sdb_file_sync(s.fd, w->path, err);
            return rc;
        }
        sdb_file_close(s.fd, w->path, NULL);
        SDB_TRY(rc);
        /* not even a header: a file created by a roll that crashed; drop it */
        SDB_TRY(sdb_file_unlink(w->path, true, err));
        SDB_TRY(sdb_file_sync_dir(w->dir, err));
        l->n--;
    }
    return SDB_OK;
}

sdb_rc sdb_wal_open_opts(const char *dir, const sdb_wal_opts *opts, sdb_wal **wal, sdb_err *err)
{
    sdb_wal *w;
    file_list l = {0};
    sdb_rc rc;
    *wal = NULL;
    if ((w = calloc(1, sizeof *w)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the WAL of %s", dir);
    w->fd = -1;
    if (opts != NULL)
        w->opts = *opts;
    else
        w->opts.mode = SDB_SYNC_BATCH;
    if (w->opts.mode != SDB_SYNC_ALWAYS && w->opts.mode != SDB_SYNC_BATCH &&
        w->opts.mode != SDB_SYNC_NONE) {
        free(w);
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: bad sync mode %d", dir, (int)opts->mode);
    }
    if (w->opts.file_limit == 0)
        w->opts.file_limit = SDB_WAL_FILE_LIMIT;
    if (w->opts.interval_ms == 0)
        w->opts.interval_ms = SDB_WAL_BATCH_INTERVAL_MS;
    if (w->opts.start_seq == 0)
        w->opts.start_seq = 1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (strlen(dir) >= sizeof w->dir) {
        rc = SDB_FAIL(err, SDB_ERR_LIMIT, "WAL directory path %.64s... is too long", dir);
        goto fail;
    }
    strcpy(w->dir, dir);
    if ((rc = sdb_file_mkdir_p(dir, err)) != SDB_OK)
        goto fail;
    if ((rc = list_files(dir, &l, err)) != SDB_OK)
        goto fail;
    if ((rc = open_tail(w, &l, err)) != SDB_OK)
        goto fail;
    if (l.n > 0) {
        w->files = l.seqs;
        w->nfiles = l.n;
        w->files_cap = l.cap;
        l.seqs = NULL;
    }
    if (w->nfiles == 0) {
        w->next_seq = w->opts.start_seq;
        w->written_seq = w->durable_seq = w->next_seq - 1;
        rc = new_file(w, w->next_seq, err);
    } else if (w->opts.start_seq > w->next_seq) {
        /* numbering must not go back below what the manifest has published */
        w->next_seq = w->opts.start_seq;
        w->written_seq = w->durable_seq = w->next_seq - 1;
        rc = new_file(w, w->next_seq, err);
    }
    if (rc != SDB_OK)
        goto fail;
    now(&w->last_sync);
    w->last_sync.tv_sec -= 3600; /* the first BATCH commit need not wait */
    free(l.seqs);
    *wal = w;
    return SDB_OK;
fail:
    free(l.seqs);
    sdb_wal_close(w, NULL);
    return rc;
}

sdb_rc sdb_wal_close(sdb_wal *w, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    if (w == NULL)
        return SDB_OK;
    pthread_mutex_lock(&w->mu);
    while (w->syncing)
        pthread_cond_wait(&w->cv, &w->mu);
    if (!w->broken && w->fd >= 0 && w->opts.mode != SDB_SYNC_NONE &&
        w->durable_seq < w->written_seq)
        rc = sdb_file_sync(w->fd, w->path, err);
    if (w->fd >= 0) {
        sdb_rc crc = sdb_file_close(w->fd, w->path, rc == SDB_OK ? err : NULL);
        if (rc == SDB_OK)
            rc = crc;
    }
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->files);
    free(w);
    return rc;
}

sdb_rc sdb_wal_append(sdb_wal *w, const sdb_batch *b, const char *table, uint64_t *seq,
                      sdb_err *err)
{
    sdb_buf rec = SDB_BUF_INIT;
    uint64_t phash;
    size_t len;
    sdb_rc rc;
    *seq = 0;
    /* serialize and hash outside the lock: appenders only contend for the write itself */
    rc = sdb_buf_reserve(&rec, REC_HDR + 4096, err);
    if (rc == SDB_OK) {
        rec.len = REC_HDR;
        rc = sdb_batch_serialize(b, table, &rec, err);
    }
    if (rc != SDB_OK) {
        sdb_buf_free(&rec);
        return rc;
    }
    len = rec.len - REC_HDR;
    if (len > SDB_WAL_RECORD_MAX) {
        sdb_buf_free(&rec);
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "%s: batch of %llu rows is %zu bytes, more than the "
                        "%u a WAL record holds",
                        w->dir, (unsigned long long)b->nrows, len, SDB_WAL_RECORD_MAX);
    }
    phash = sdb_hash64(rec.data + REC_HDR, len);
    pthread_mutex_lock(&w->mu);
    if (w->broken) {
        rc = broken_error(w, err);
        goto out;
    }
    while (w->off > FILE_HDR && w->off + rec.len > w->opts.file_limit) {
        if (w->syncing) {
            /* the fsync in flight uses the current file: wait, then look again, since
               another appender may have rolled meanwhile */
            pthread_cond_wait(&w->cv, &w->mu);
            if (w->broken) {
                rc = broken_error(w, err);
                goto out;
            }
            continue;
        }
        if ((rc = roll(w, err)) != SDB_OK) {
            fail_log(w, rc, err);
            goto out;
        }
    }
    make_header(rec.data, (uint32_t)len, w->next_seq, phash);
    if ((rc = sdb_file_pwrite_all(w->fd, w->path, rec.data, rec.len, w->off, err)) != SDB_OK) {
        /* what reached the file is a torn record that replay will cut off */
        fail_log(w, rc, err);
        goto out;
    }
    w->off += rec.len;
    *seq = w->written_seq = w->next_seq++;
out:
    pthread_mutex_unlock(&w->mu);
    sdb_buf_free(&rec);
    return rc;
}

/* Sleep until `interval_ms` after the last fsync (called without mu held). */
static void wait_interval(const struct timespec *last, uint32_t interval_ms)
{
    struct timespec t, due = *last;
    due.tv_sec += interval_ms / 1000;
    due.tv_nsec += (long)(interval_ms % 1000) * 1000000L;
    if (due.tv_nsec >= 1000000000L) {
        due.tv_sec++;
        due.tv_nsec -= 1000000000L;
    }
    now(&t);
    if (t.tv_sec > due.tv_sec || (t.tv_sec == due.tv_sec && t.tv_nsec >= due.tv_nsec))
        return;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) != 0) {
        /* interrupted by a signal: sleep on */
    }
}

sdb_rc sdb_wal_commit(sdb_wal *w, uint64_t seq, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    pthread_mutex_lock(&w->mu);
    if (seq > w->written_seq) {
        rc = SDB_FAIL(err, SDB_ERR_MISUSE,
                      "%s: commit of record %" PRIu64 ", but only %" PRIu64 " were appended",
                      w->dir, seq, w->written_seq);
        goto out;
    }
    if (w->opts.mode == SDB_SYNC_NONE)
        goto out;
    while (w->durable_seq < seq) {
        int fd;
        uint64_t target;
        sdb_err e;
        if (w->broken) {
            rc = broken_error(w, err);
            goto out;
        }
        if (w->syncing) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        w->syncing = 1; /* we lead; rolls wait for us, so fd and path stay put */
        if (w->opts.mode == SDB_SYNC_BATCH) {
            struct timespec last = w->last_sync;
            pthread_mutex_unlock(&w->mu);
            wait_interval(&last, w->opts.interval_ms);
            pthread_mutex_lock(&w->mu);
        }
        fd = w->fd;
        target = w->written_seq;
        pthread_mutex_unlock(&w->mu);
        rc = sdb_file_sync(fd, w->path, &e);
        pthread_mutex_lock(&w->mu);
        w->syncing = 0;
        now(&w->last_sync);
        if (rc != SDB_OK) {
            if (err != NULL)
                *err = e;
            fail_log(w, rc, &e);
            goto out;
        }
        w->syncs++;
        if (target > w->durable_seq)
            w->durable_seq = target;
        pthread_cond_broadcast(&w->cv);
    }
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

sdb_rc sdb_wal_retire(sdb_wal *w, uint64_t upto_seq, sdb_err *err)
{
    uint32_t n = 0;
    sdb_rc rc = SDB_OK;
    pthread_mutex_lock(&w->mu);
    /* file i holds seqs [files[i], files[i+1] - 1]; the last file is never retired */
    while (n + 1 < w->nfiles && w->files[n + 1] - 1 <= upto_seq) {
        char name[NAME_LEN + 1], path[SDB_PATH_MAX];
        file_name(name, w->files[n]);
        if ((rc = sdb_file_join(path, w->dir, name, err)) != SDB_OK ||
            (rc = sdb_file_unlink(path, true, err)) != SDB_OK)
            break;
        n++;
    }
    if (n > 0) {
        memmove(w->files, w->files + n, (w->nfiles - n) * sizeof *w->files);
        w->nfiles -= n;
    }
    pthread_mutex_unlock(&w->mu);
    if (n > 0 && rc == SDB_OK)
        rc = sdb_file_sync_dir(w->dir, err);
    return rc;
}

uint64_t sdb_wal_last_seq(sdb_wal *w)
{
    uint64_t v;
    pthread_mutex_lock(&w->mu);
    v = w->written_seq;
    pthread_mutex_unlock(&w->mu);
    return v;
}

uint64_t sdb_wal_durable_seq(sdb_wal *w)
{
    uint64_t v;
    pthread_mutex_lock(&w->mu);
    v = w->opts.mode == SDB_SYNC_NONE ? w->written_seq : w->durable_seq;
    pthread_mutex_unlock(&w->mu);
    return v;
}

uint32_t sdb_wal_file_count(sdb_wal *w)
{
    uint32_t v;
    pthread_mutex_lock(&w->mu);
    v = w->nfiles;
    pthread_mutex_unlock(&w->mu);
    return v;
}

uint64_t sdb_wal_sync_count(sdb_wal *w)
{
    uint64_t v;
    pthread_mutex_lock(&w->mu);
    v = w->syncs;
    pthread_mutex_unlock(&w->mu);
    return v;
}
