/* spandb verify: checks every checksum of segment files and decodes every block; with
 * --data, every segment the manifest lists and every table's WAL. Names each bad block or
 * record and exits non-zero when anything is wrong. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/db.h"
#include "storage/fileio.h"
#include "storage/manifest.h"
#include "storage/segment.h"
#include "storage/wal.h"
#include "tools/commands.h"

/* Number of problems found in one segment file (0 = clean). */
static unsigned verify_segment(const char *path)
{
    sdb_seg *s;
    sdb_err err;
    sdb_seg_blockbuf buf;
    unsigned bad = 0;
    if (sdb_seg_open(path, &s, &err) != SDB_OK) {
        printf("BAD  %s\n", err.msg);
        return 1;
    }
    sdb_seg_blockbuf_init(&buf);
    for (uint32_t ci = 0; ci < sdb_seg_ncols(s); ci++)
        for (uint32_t b = 0; b < sdb_seg_nblocks(s); b++)
            if (sdb_seg_read_block(s, ci, b, &buf, &err) != SDB_OK) {
                printf("BAD  %s\n", err.msg);
                bad++;
            }
    if (bad == 0)
        printf("ok   %s: %llu rows, %u columns, %u blocks\n", path,
               (unsigned long long)sdb_seg_rows(s), sdb_seg_ncols(s), sdb_seg_nblocks(s));
    sdb_seg_blockbuf_free(&buf);
    sdb_seg_close(s);
    return bad;
}

static sdb_rc count_record(void *ctx, uint64_t seq, const char *table, const sdb_batch *b,
                           sdb_err *err)
{
    uint64_t *rows = ctx;
    (void)seq;
    (void)table;
    (void)err;
    *rows += b->nrows;
    return SDB_OK;
}

typedef struct wal_ctx {
    const char *root;
    unsigned bad;
} wal_ctx;

static sdb_rc verify_wal(void *ctx, const char *name, sdb_err *err)
{
    wal_ctx *w = ctx;
    char dir[SDB_PATH_MAX];
    sdb_wal_report rep;
    uint64_t rows = 0;
    sdb_err e2;
    SDB_TRY(sdb_file_join(dir, w->root, name, err));
    memset(&rep, 0, sizeof rep);
    if (sdb_wal_scan(dir, count_record, &rows, 0, &rep, &e2) != SDB_OK) {
        printf("BAD  %s: %s\n", dir, e2.msg);
        w->bad++;
    } else if (rep.damaged) {
        /* a torn tail is what a crash leaves; start-up cuts it, so it is reported, not bad */
        printf("%s %s: %s\n", rep.mid_log ? "BAD " : "tail", dir, rep.reason);
        w->bad += rep.mid_log;
    } else {
        printf("ok   %s: %" PRIu64 " records, %" PRIu64 " rows not yet in segments or retired\n",
               dir, rep.records, rows);
    }
    return SDB_OK;
}

static unsigned verify_data(const char *data)
{
    sdb_manifest *m;
    sdb_err err;
    unsigned bad = 0;
    sdb_rc rc = sdb_manifest_load(data, &m, &err);
    wal_ctx w = {NULL, 0};
    char waldir[SDB_PATH_MAX];
    if (rc == SDB_ERR_NOTFOUND) {
        printf("ok   %s: no segments published yet\n", data);
        m = NULL;
    } else if (rc != SDB_OK) {
        printf("BAD  %s\n", err.msg);
        return 1;
    }
    for (uint32_t i = 0; m != NULL && i < sdb_manifest_count(m); i++) {
        const sdb_manifest_entry *e = sdb_manifest_get(m, i);
        char tdir[3 * 256 + 1], path[SDB_PATH_MAX];
        sdb_db_table_dirname(e->table, tdir, sizeof tdir);
        snprintf(path, sizeof path, "%s/tables/%s/%s", data, tdir, e->file);
        bad += verify_segment(path);
    }
    sdb_manifest_destroy(m);
    if (sdb_file_join(waldir, data, "wal", &err) == SDB_OK) {
        w.root = waldir;
        rc = sdb_file_list_dir(waldir, verify_wal, &w, &err);
        if (rc != SDB_OK && rc != SDB_ERR_NOTFOUND) {
            printf("BAD  %s\n", err.msg);
            bad++;
        }
    }
    return bad + w.bad;
}

static void verify_usage(FILE *f)
{
    fprintf(f, "usage: spandb verify FILE.seg...\n"
               "       spandb verify --data DIR\n");
}

int sdb_cmd_verify(int argc, char **argv)
{
    unsigned bad = 0, checked = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            verify_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--data") == 0) {
            if (i + 1 >= argc) {
                verify_usage(stderr);
                return 2;
            }
            bad += verify_data(argv[++i]);
        } else {
            bad += verify_segment(argv[i]);
        }
        checked++;
    }
    if (checked == 0) {
        verify_usage(stderr);
        return 2;
    }
    if (bad > 0)
        fprintf(stderr, "spandb verify: %u problem%s found\n", bad, bad == 1 ? "" : "s");
    return bad ? 1 : 0;
}
