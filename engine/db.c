/* The database: catalog, manifest, open segments and per-table runtime state (memtable,
 * WAL), and the operations that move rows between them.
 *
 * Crash states (what a kill -9 can leave, and what start-up makes of it):
 *   - a WAL record appended but not fsynced: not acknowledged; kept if the OS wrote it,
 *     cut off by replay if torn
 *   - a segment written (or half written as *.tmp) but not in the manifest: removed at start
 *     as a stray file; its rows are still in the WAL (retired only after publication)
 *   - the manifest replaced, WAL not yet retired: replay starts after the highest WAL
 *     sequence the table's segments hold, so no row is applied twice
 *   - compaction's new segment published, old files not yet deleted: stray files, removed
 * Every row acknowledged is therefore in exactly one of: a published segment, the WAL.
 *
 * Visibility: a snapshot takes the database lock, then the table's lock, and collects the
 * published segments, the memtable chunks being flushed ("frozen") and the live memtable.
 * A flush publishes its segments and drops its frozen chunks under those same two locks, so
 * a snapshot sees every row exactly once. */
#include "engine/db.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/memtable.h"
#include "engine/partition.h"
#include "engine/sortkey.h"
#include "storage/fileio.h"
#include "storage/lockfile.h"
#include "storage/manifest.h"

typedef struct segref {
    char *table;
    char *file;           /* name inside the table directory */
    char *path;           /* full path */
    sdb_manifest_entry e; /* table/file point at the strings above */
    sdb_seg *seg;
    int refs;             /* the database's list holds one; snapshots more (db->mu) */
    bool retired;         /* out of the manifest: delete the file at the last unref */
    bool compacting;      /* picked by a running compaction */
} segref;

typedef struct dbtable {
    char *name;
    char dirname[3 * 256 + 1];
    pthread_mutex_t mu;       /* memtable, frozen, wal pointer, this table's catalog entry */
    pthread_mutex_t flush_mu; /* one flush or compaction of the table at a time */
    sdb_memtable mem;
    sdb_mempart *frozen;      /* partitions being flushed: still visible to snapshots */
    uint32_t nfrozen;
    sdb_wal *wal;
} dbtable;

struct sdb_db {
    char *dir;
    sdb_db_opts o;
    sdb_lock *lock;
    pthread_mutex_t mu;       /* catalog, manifest, segs, tables */
    sdb_catalog *cat;
    sdb_manifest *man;
    segref **segs;
    uint32_t nsegs;
    uint32_t segcap;
    dbtable **tables;
    uint32_t ntables;
    uint32_t tcap;
    uint64_t next_id;         /* next segment file number */
    dbtable **dropped;        /* tables removed by DROP TABLE, freed at close */
    uint32_t ndropped;
    uint32_t dropcap;
    /* background flushing (opts.background_flush) */
    pthread_t flusher;
    bool flusher_running;
    pthread_mutex_t bg_mu;    /* guards the fields below */
    pthread_cond_t bg_cv;     /* work for the flusher, or progress for a waiting writer */
    bool bg_stop;
    bool bg_wanted;
    sdb_rc bg_rc;             /* the last background flush failure, reported to writers */
    sdb_err bg_err;
};

void sdb_db_opts_default(sdb_db_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sync = SDB_SYNC_BATCH;
    o->memtable_rows = 1u << 20;
    o->memtable_bytes = 256u << 20;
    o->unit = SDB_PART_DAY;
    sdb_seg_opts_default(&o->seg);
    sdb_seg_opts_default(&o->compact_seg);
    o->compact_seg.codec = SDB_CODEC_ZSTD;
    o->compact_seg.level = 3;
}

void sdb_db_table_dirname(const char *name, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && k + 4 < n; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
            c == '-') {
            out[k++] = (char)c;
        } else {
            out[k++] = '%';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        }
    }
    out[k] = '\0';
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- segments ---- */

static void segref_unref(sdb_db *db, segref *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    sdb_seg_close(r->seg);
    if (r->retired && !db->o.read_only)
        sdb_file_unlink(r->path, true, NULL);
    free(r->table);
    free(r->file);
    free(r->path);
    free(r);
}

static sdb_rc table_path(const sdb_db *db, const char *sub, const char *table, char *out,
                         sdb_err *err)
{
    char dn[3 * 256 + 1];
    if (strlen(table) > 255)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "table name '%.40s...' is longer than 255 bytes", table);
    sdb_db_table_dirname(table, dn, sizeof dn);
    if ((size_t)snprintf(out, SDB_PATH_MAX, "%s/%s/%s", db->dir, sub, dn) >= SDB_PATH_MAX)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: path too long", db->dir);
    return SDB_OK;
}

/* Open the segment of manifest entry e and add it to the list. */
static sdb_rc add_segref(sdb_db *db, const sdb_manifest_entry *e, sdb_err *err)
{
    char dir[SDB_PATH_MAX];
    segref *r;
    sdb_rc rc;
    SDB_TRY(table_path(db, "tables", e->table, dir, err));
    if (db->nsegs == db->segcap) {
        uint32_t cap = db->segcap ? db->segcap * 2 : 64;
        segref **s = realloc(db->segs, cap * sizeof *s);
        if (s == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u segments", cap);
        db->segs = s;
        db->segcap = cap;
    }
    if ((r = calloc(1, sizeof *r)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a segment");
    r->refs = 1;
    r->table = strdup(e->table);
    r->file = strdup(e->file);
    r->path = malloc(SDB_PATH_MAX);
    if (r->table == NULL || r->file == NULL || r->path == NULL) {
        segref_unref(db, r);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a segment");
    }
    r->e = *e;
    r->e.table = r->table;
    r->e.file = r->file;
    if ((rc = sdb_file_join(r->path, dir, e->file, err)) != SDB_OK ||
        (rc = sdb_seg_open(r->path, &r->seg, err)) != SDB_OK) {
        segref_unref(db, r);
        return rc;
    }
    db->segs[db->nsegs++] = r;
    return SDB_OK;
}

/* Take r out of the list; its file goes when the last reader lets go. */
static void retire_segref(sdb_db *db, uint32_t i)
{
    segref *r = db->segs[i];
    memmove(&db->segs[i], &db->segs[i + 1], (db->nsegs - i - 1) * sizeof *db->segs);
    db->nsegs--;
    r->retired = true;
    segref_unref(db, r);
}

static int find_segref(const sdb_db *db, const char *table, const char *file)
{
    for (uint32_t i = 0; i < db->nsegs; i++)
        if (strcmp(db->segs[i]->table, table) == 0 && strcmp(db->segs[i]->file, file) == 0)
            return (int)i;
    return -1;
}

/* ---- tables ---- */

static dbtable *find_table(const sdb_db *db, const char *name)
{
    for (uint32_t i = 0; i < db->ntables; i++)
        if (strcmp(db->tables[i]->name, name) == 0)
            return db->tables[i];
    return NULL;
}

static void table_free(dbtable *t)
{
    if (t == NULL)
        return;
    sdb_memtable_free(&t->mem);
    for (uint32_t i = 0; i < t->nfrozen; i++) {
        for (uint32_t j = 0; j < t->frozen[i].nchunks; j++)
            sdb_memchunk_unref(t->frozen[i].chunks[j]);
        free(t->frozen[i].chunks);
    }
    free(t->frozen);
    pthread_mutex_destroy(&t->mu);
    pthread_mutex_destroy(&t->flush_mu);
    free(t->name);
    free(t);
}

/* The runtime state of a catalog table, created on first use (db->mu held). */
static sdb_rc get_table(sdb_db *db, const sdb_table_def *def, dbtable **out, sdb_err *err)
{
    dbtable *t = find_table(db, def->name);
    if (t != NULL) {
        *out = t;
        return SDB_OK;
    }
    if (db->ntables == db->tcap) {
        uint32_t cap = db->tcap ? db->tcap * 2 : 8;
        dbtable **ts = realloc(db->tables, cap * sizeof *ts);
        if (ts == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for tables");
        db->tables = ts;
        db->tcap = cap;
    }
    if ((t = calloc(1, sizeof *t)) == NULL || (t->name = strdup(def->name)) == NULL) {
        free(t);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a table");
    }
    sdb_db_table_dirname(def->name, t->dirname, sizeof t->dirname);
    pthread_mutex_init(&t->mu, NULL);
    pthread_mutex_init(&t->flush_mu, NULL);
    sdb_memtable_init(&t->mem, def->unit);
    db->tables[db->ntables++] = t;
    *out = t;
    return SDB_OK;
}

/* Open the table's WAL for appending (db->mu held, t->mu not needed: only writers call). */
static sdb_rc open_wal(sdb_db *db, dbtable *t, uint64_t start_seq, sdb_err *err)
{
    char dir[SDB_PATH_MAX];
    sdb_wal_opts wo;
    if (t->wal != NULL || db->o.read_only)
        return SDB_OK;
    SDB_TRY(table_path(db, "wal", t->name, dir, err));
    memset(&wo, 0, sizeof wo);
    wo.mode = db->o.sync;
    wo.start_seq = start_seq;
    return sdb_wal_open_opts(dir, &wo, &t->wal, err);
}

/* ---- background flushing ---- */

static sdb_rc flush_big_tables(sdb_db *db, sdb_err *err);

/* Flushes tables whose memtable passed the limit, so that writers go on parsing while
 * segments are encoded: ingest then uses both cores. */
static void *flusher_main(void *arg)
{
    sdb_db *db = arg;
    pthread_mutex_lock(&db->bg_mu);
    for (;;) {
        sdb_err e;
        sdb_rc rc;
        while (!db->bg_stop && !db->bg_wanted)
            pthread_cond_wait(&db->bg_cv, &db->bg_mu);
        if (db->bg_stop)
            break;
        db->bg_wanted = false;
        pthread_mutex_unlock(&db->bg_mu);
        rc = flush_big_tables(db, &e);
        pthread_mutex_lock(&db->bg_mu);
        if (rc != SDB_OK && db->bg_rc == SDB_OK) {
            db->bg_rc = rc;
            db->bg_err = e;
        }
        pthread_cond_broadcast(&db->bg_cv);
    }
    pthread_mutex_unlock(&db->bg_mu);
    return NULL;
}

static void stop_flusher(sdb_db *db)
{
    if (!db->flusher_running)
        return;
    pthread_mutex_lock(&db->bg_mu);
    db->bg_stop = true;
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->bg_mu);
    pthread_join(db->flusher, NULL);
    db->flusher_running = false;
}

/* ---- open ---- */

typedef struct replay_ctx {
    sdb_db *db;
    sdb_db_open_report *rep;
} replay_ctx;

static sdb_rc replay_one(void *ctx, uint64_t seq, const char *table, const sdb_batch *b,
                         sdb_err *err)
{
    replay_ctx *rc = ctx;
    sdb_table_def *def = sdb_catalog_find(rc->db->cat, table, strlen(table));
    dbtable *t;
    (void)seq;
    if (def == NULL)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "WAL record for table '%s' that the catalog lacks",
                        table);
    SDB_TRY(get_table(rc->db, def, &t, err));
    SDB_TRY(sdb_memtable_insert(&t->mem, b, def, err));
    rc->rep->wal_records++;
    rc->rep->wal_rows += b->nrows;
    return SDB_OK;
}

typedef struct stray_ctx {
    sdb_db *db;
    const char *table;
    const char *dir;
    uint32_t removed;
} stray_ctx;

static sdb_rc stray_one(void *ctx, const char *name, sdb_err *err)
{
    stray_ctx *s = ctx;
    char path[SDB_PATH_MAX];
    if (find_segref(s->db, s->table, name) >= 0)
        return SDB_OK;
    SDB_TRY(sdb_file_join(path, s->dir, name, err));
    SDB_TRY(sdb_file_unlink(path, true, err));
    s->removed++;
    return SDB_OK;
}

typedef struct orphan_ctx {
    sdb_db *db;
    char dir[SDB_PATH_MAX];
} orphan_ctx;

/* A WAL directory of a table the catalog no longer has (dropped just before a crash) must
 * not be replayed into a new table of the same name. */
static sdb_rc orphan_wal(void *ctx, const char *name, sdb_err *err)
{
    orphan_ctx *o = ctx;
    char dn[3 * 256 + 1], path[SDB_PATH_MAX];
    for (uint32_t i = 0; i < o->db->cat->ntables; i++) {
        sdb_db_table_dirname(o->db->cat->tables[i]->name, dn, sizeof dn);
        if (strcmp(dn, name) == 0)
            return SDB_OK;
    }
    SDB_TRY(sdb_file_join(path, o->dir, name, err));
    return sdb_file_remove_dir(path, err);
}

static uint64_t file_id(const char *file)
{
    const char *u = strrchr(file, '_');
    return u ? strtoull(u + 1, NULL, 10) : 0;
}

static sdb_rc open_contents(sdb_db *db, sdb_db_open_report *rep, sdb_err *err)
{
    sdb_rc rc;
    SDB_TRY(sdb_catalog_load(db->dir, &db->cat, err));
    rc = sdb_manifest_load(db->dir, &db->man, err);
    if (rc == SDB_ERR_NOTFOUND) {
        if ((db->man = sdb_manifest_create()) == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the manifest");
    } else if (rc != SDB_OK) {
        return rc;
    }
    if (!db->o.read_only) {
        orphan_ctx oc;
        oc.db = db;
        SDB_TRY(sdb_file_join(oc.dir, db->dir, "wal", err));
        rc = sdb_file_list_dir(oc.dir, orphan_wal, &oc, err);
        if (rc != SDB_OK && rc != SDB_ERR_NOTFOUND)
            return rc;
    }
    for (uint32_t i = 0; i < sdb_manifest_count(db->man); i++) {
        const sdb_manifest_entry *e = sdb_manifest_get(db->man, i);
        SDB_TRY(add_segref(db, e, err));
        rep->segments++;
        rep->rows += e->rows;
        if (file_id(e->file) >= db->next_id)
            db->next_id = file_id(e->file) + 1;
    }
    for (uint32_t i = 0; i < db->cat->ntables; i++) {
        sdb_table_def *def = db->cat->tables[i];
        char dir[SDB_PATH_MAX];
        uint64_t from = sdb_manifest_max_wal_seq(db->man, def->name);
        sdb_wal_report wr;
        replay_ctx rctx = {db, rep};
        dbtable *t;
        SDB_TRY(get_table(db, def, &t, err));
        if (!db->o.read_only) {
            stray_ctx sc = {db, def->name, dir, 0};
            SDB_TRY(table_path(db, "tables", def->name, dir, err));
            rc = sdb_file_list_dir(dir, stray_one, &sc, err);
            if (rc != SDB_OK && rc != SDB_ERR_NOTFOUND)
                return rc;
            rep->stray_files += sc.removed;
        }
        SDB_TRY(table_path(db, "wal", def->name, dir, err));
        memset(&wr, 0, sizeof wr);
        if (db->o.read_only)
            rc = sdb_wal_scan(dir, replay_one, &rctx, from, &wr, err);
        else
            rc = sdb_wal_replay(dir, replay_one, &rctx, from, &wr, err);
        if (rc != SDB_OK) {
            sdb_err_prefix(err, "table '%s': WAL replay: ", def->name);
            return rc;
        }
        if (wr.damaged) {
            if (rep->wal_damaged++ == 0)
                snprintf(rep->wal_reason, sizeof rep->wal_reason, "table '%.60s': %.300s",
                         def->name, wr.reason);
        }
        SDB_TRY(open_wal(db, t, (wr.last_seq > from ? wr.last_seq : from) + 1, err));
    }
    return SDB_OK;
}

void sdb_db_open_report_text(const sdb_db_open_report *r, char *out, size_t n)
{
    out[0] = '\0';
    if (r->wal_damaged > 0)
        snprintf(out, n, "recovery: %u table%s had a torn or corrupt WAL tail, cut at the last "
                 "good record (%s); %u stray file%s removed",
                 r->wal_damaged, r->wal_damaged == 1 ? "" : "s", r->wal_reason, r->stray_files,
                 r->stray_files == 1 ? "" : "s");
    else if (r->stray_files > 0)
        snprintf(out, n, "recovery: %u stray file%s left by an interrupted flush or compaction "
                 "removed", r->stray_files, r->stray_files == 1 ? "" : "s");
}

sdb_rc sdb_db_open(const char *dir, const sdb_db_opts *opts, sdb_db **out,
                   sdb_db_open_report *report, sdb_err *err)
{
    sdb_db *db = calloc(1, sizeof *db);
    sdb_db_open_report local;
    sdb_rc rc;
    *out = NULL;
    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof *report);
    if (db == NULL || (db->dir = strdup(dir)) == NULL) {
        free(db);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a database");
    }
    if (opts != NULL)
        db->o = *opts;
    else
        sdb_db_opts_default(&db->o);
    if (db->o.memtable_rows == 0)
        db->o.memtable_rows = 1u << 20;
    if (db->o.memtable_bytes == 0)
        db->o.memtable_bytes = 256u << 20;
    if (db->o.unit == 0)
        db->o.unit = SDB_PART_DAY;
    db->next_id = 1;
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->bg_mu, NULL);
    pthread_cond_init(&db->bg_cv, NULL);
    if (db->o.read_only) {
        if (!sdb_file_exists(dir)) {
            rc = SDB_FAIL(err, SDB_ERR_NOTFOUND, "%s: no such data directory", dir);
            goto fail;
        }
    } else {
        if ((rc = sdb_file_mkdir_p(dir, err)) != SDB_OK ||
            (rc = sdb_lock_acquire(dir, &db->lock, err)) != SDB_OK)
            goto fail;
    }
    if ((rc = open_contents(db, report, err)) != SDB_OK)
        goto fail;
    if (db->o.retention_ns > 0 && !db->o.read_only) {
        uint32_t dropped;
        if ((rc = sdb_db_retention(db, realtime_ns(), &dropped, err)) != SDB_OK)
            goto fail;
    }
    if (db->o.background_flush && !db->o.read_only) {
        if (pthread_create(&db->flusher, NULL, flusher_main, db) != 0) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: cannot start the flush thread", dir);
            goto fail;
        }
        db->flusher_running = true;
    }
    *out = db;
    return SDB_OK;
fail:
    db->o.read_only = true; /* close without flushing a half-opened database */
    sdb_db_close(db, NULL);
    return rc;
}

sdb_rc sdb_db_close(sdb_db *db, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    if (db == NULL)
        return SDB_OK;
    stop_flusher(db);
    if (!db->o.read_only && db->cat != NULL)
        rc = sdb_db_flush(db, NULL, err);
    if (rc == SDB_OK && db->bg_rc != SDB_OK) {
        rc = db->bg_rc;
        if (err != NULL)
            *err = db->bg_err;
    }
    for (uint32_t i = 0; i < db->ntables; i++) {
        sdb_err e2;
        sdb_rc r2 = sdb_wal_close(db->tables[i]->wal, &e2);
        if (r2 != SDB_OK && rc == SDB_OK) {
            rc = r2;
            if (err != NULL)
                *err = e2;
        }
        table_free(db->tables[i]);
    }
    for (uint32_t i = 0; i < db->ndropped; i++)
        table_free(db->dropped[i]);
    free(db->dropped);
    for (uint32_t i = 0; i < db->nsegs; i++)
        segref_unref(db, db->segs[i]);
    free(db->segs);
    free(db->tables);
    sdb_catalog_destroy(db->cat);
    sdb_manifest_destroy(db->man);
    sdb_lock_release(db->lock);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->bg_mu);
    pthread_cond_destroy(&db->bg_cv);
    free(db->dir);
    free(db);
    return rc;
}

const sdb_catalog *sdb_db_catalog(const sdb_db *db)
{
    return db->cat;
}

const char *sdb_db_dir(const sdb_db *db)
{
    return db->dir;
}

void sdb_db_lock(sdb_db *db)
{
    pthread_mutex_lock(&db->mu);
}

void sdb_db_unlock(sdb_db *db)
{
    pthread_mutex_unlock(&db->mu);
}

/* ---- write ---- */

/* Make the catalog hold table and every column of b (db->mu held). */
static sdb_rc resolve_schema(sdb_db *db, const char *table, const sdb_batch *b,
                             sdb_table_def **out, dbtable **tout, sdb_err *err)
{
    sdb_table_def *def = sdb_catalog_find(db->cat, table, strlen(table));
    bool changed = false;
    dbtable *t;
    if (def == NULL) {
        SDB_TRY(sdb_catalog_add_table(db->cat, table, strlen(table), db->o.unit, &def, err));
        changed = true;
    }
    for (uint32_t i = 0; i < b->ncols; i++) {
        int c = sdb_table_find_col(def, b->names[i], strlen(b->names[i]));
        if (c >= 0 && !sdb_type_assignable(def->col_types[c], b->cols[i].type))
            return SDB_FAIL(err, SDB_ERR_SCHEMA,
                            "column '%s' of table '%s' is %s, the write has %s", b->names[i],
                            table, sdb_type_name(def->col_types[c]), sdb_type_name(b->cols[i].type));
    }
    SDB_TRY(get_table(db, def, &t, err));
    for (uint32_t i = 0; i < b->ncols; i++)
        if (sdb_table_find_col(def, b->names[i], strlen(b->names[i])) < 0) {
            sdb_rc rc;
            pthread_mutex_lock(&t->mu); /* memtable inserts read the column list */
            rc = sdb_table_add_col(def, b->names[i], strlen(b->names[i]), b->cols[i].type, err);
            pthread_mutex_unlock(&t->mu);
            SDB_TRY(rc);
            changed = true;
        }
    if (changed)
        SDB_TRY(sdb_catalog_save(db->cat, db->dir, err));
    if (!db->o.bulk)
        SDB_TRY(open_wal(db, t, sdb_manifest_max_wal_seq(db->man, table) + 1, err));
    *out = def;
    *tout = t;
    return SDB_OK;
}

static sdb_rc db_write(sdb_db *db, const char *table, sdb_batch *b, bool owned, sdb_err *err)
{
    sdb_table_def *def = NULL;
    dbtable *t = NULL;
    uint64_t seq = 0, rows;
    bool full;
    sdb_rc rc;
    int tc;
    if (db->o.read_only)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s is open read-only", db->dir);
    if (b->nrows == 0)
        return SDB_OK;
    tc = sdb_batch_find(b, "time", 4);
    if (tc < 0 || b->cols[tc].type != SDB_TYPE_TIMESTAMP || sdb_column_null_count(&b->cols[tc]))
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "table '%s': every row needs a timestamp 'time'",
                        table);
    pthread_mutex_lock(&db->mu);
    rc = resolve_schema(db, table, b, &def, &t, err);
    pthread_mutex_unlock(&db->mu);
    if (rc != SDB_OK)
        return rc;
    pthread_mutex_lock(&t->mu);
    if (t->wal != NULL && !db->o.bulk)
        rc = sdb_wal_append(t->wal, b, table, &seq, err);
    if (rc == SDB_OK)
        rc = owned ? sdb_memtable_insert_owned(&t->mem, b, def, err)
                   : sdb_memtable_insert(&t->mem, b, def, err);
    rows = t->mem.rows;
    full = rows >= db->o.memtable_rows || t->mem.bytes >= db->o.memtable_bytes;
    pthread_mutex_unlock(&t->mu);
    if (rc == SDB_OK && seq != 0)
        rc = sdb_wal_commit(t->wal, seq, err);
    if (rc != SDB_OK || !full)
        return rc;
    if (!db->flusher_running)
        return sdb_db_flush(db, table, err);
    /* hand the flush to the flusher; wait only when it falls behind by a whole memtable,
     * which bounds memory */
    pthread_mutex_lock(&db->bg_mu);
    db->bg_wanted = true;
    pthread_cond_broadcast(&db->bg_cv);
    while (db->bg_rc == SDB_OK && !db->bg_stop) {
        pthread_mutex_lock(&t->mu);
        full = t->mem.rows >= 2 * db->o.memtable_rows || t->mem.bytes >= 2 * db->o.memtable_bytes;
        pthread_mutex_unlock(&t->mu);
        if (!full)
            break;
        pthread_cond_wait(&db->bg_cv, &db->bg_mu);
    }
    if (db->bg_rc != SDB_OK) {
        rc = db->bg_rc;
        if (err != NULL)
            *err = db->bg_err;
    }
    pthread_mutex_unlock(&db->bg_mu);
    return rc;
}

sdb_rc sdb_db_write(sdb_db *db, const char *table, const sdb_batch *b, sdb_err *err)
{
    /* not owned: db_write only reads b */
    return db_write(db, table, (sdb_batch *)(uintptr_t)b, false, err);
}

sdb_rc sdb_db_write_owned(sdb_db *db, const char *table, sdb_batch *b, sdb_err *err)
{
    return db_write(db, table, b, true, err);
}

/* ---- flush ---- */

static void free_parts(sdb_mempart *parts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < parts[i].nchunks; j++)
            sdb_memchunk_unref(parts[i].chunks[j]);
        free(parts[i].chunks);
    }
    free(parts);
}

/* Write rows (sorted by the table's key) as segment DIR/tables/<t>/<part>_<id>.seg and fill
 * the manifest entry (strings owned by the caller's buffers). */
static sdb_rc write_segment(sdb_db *db, const sdb_table_def *def, const sdb_batch *rows,
                            int64_t part, uint64_t max_seq, uint32_t level, const sdb_seg_opts *so,
                            char *file, sdb_manifest_entry *e, sdb_err *err)
{
    char dir[SDB_PATH_MAX], path[SDB_PATH_MAX], pname[32], meta[512];
    uint32_t *perm = NULL;
    sdb_seg_opts o = *so;
    sdb_seg_write_stats st;
    int tc = sdb_batch_find(rows, "time", 4);
    uint64_t id;
    sdb_rc rc;
    SDB_TRY(table_path(db, "tables", def->name, dir, err));
    SDB_TRY(sdb_file_mkdir_p(dir, err));
    pthread_mutex_lock(&db->mu);
    id = db->next_id++;
    pthread_mutex_unlock(&db->mu);
    sdb_part_name(def->unit, part, pname, sizeof pname);
    snprintf(file, 64, "%s_%06" PRIu64 ".seg", pname, id);
    SDB_TRY(sdb_file_join(path, dir, file, err));
    if ((perm = malloc(rows->nrows * sizeof *perm)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to sort %llu rows",
                        (unsigned long long)rows->nrows);
    if ((rc = sdb_sort_perm(rows, def, perm, err)) != SDB_OK)
        goto out;
    snprintf(meta, sizeof meta, "table=%s\npartition=%s\nmax_wal_seq=%" PRIu64 "\nlevel=%u\n",
             def->name, pname, max_seq, level);
    o.meta = meta;
    o.meta_len = strlen(meta);
    if ((rc = sdb_seg_write(path, rows, perm, &o, &st, err)) != SDB_OK)
        goto out;
    memset(e, 0, sizeof *e);
    e->table = def->name;
    e->file = file;
    e->part_start = part;
    e->unit = def->unit;
    e->rows = rows->nrows;
    e->min_time = INT64_MAX;
    e->max_time = INT64_MIN;
    for (uint64_t r = 0; r < rows->nrows; r++) {
        int64_t v = rows->cols[tc].v.i64[r];
        if (v < e->min_time)
            e->min_time = v;
        if (v > e->max_time)
            e->max_time = v;
    }
    e->max_wal_seq = max_seq;
    e->bytes = st.bytes;
    e->level = level;
out:
    free(perm);
    return rc;
}

/* Publish new segments (entries) and retire old ones (files of table) in one manifest
 * save; with t given, also drop its frozen partitions under the same locks. */
static sdb_rc publish(sdb_db *db, dbtable *t, const char *table, sdb_manifest_entry *adds,
                      uint32_t nadd, char **removes, uint32_t nrem, sdb_err *err)
{
    sdb_manifest *next = NULL;
    sdb_rc rc;
    pthread_mutex_lock(&db->mu);
    rc = sdb_manifest_copy(db->man, &next, err);
    for (uint32_t i = 0; i < nadd && rc == SDB_OK; i++)
        rc = sdb_manifest_add(next, &adds[i], err);
    for (uint32_t i = 0; i < nrem && rc == SDB_OK; i++)
        rc = sdb_manifest_remove(next, table, removes[i], err);
    if (rc == SDB_OK)
        rc = sdb_manifest_save(next, db->dir, err);
    if (rc != SDB_OK) {
        sdb_manifest_destroy(next);
        pthread_mutex_unlock(&db->mu);
        return rc;
    }
    sdb_manifest_destroy(db->man);
    db->man = next;
    for (uint32_t i = 0; i < nadd && rc == SDB_OK; i++)
        rc = add_segref(db, &adds[i], err);
    for (uint32_t i = 0; i < nrem; i++) {
        int k = find_segref(db, table, removes[i]);
        if (k >= 0)
            retire_segref(db, (uint32_t)k);
    }
    if (t != NULL) {
        pthread_mutex_lock(&t->mu);
        free_parts(t->frozen, t->nfrozen);
        t->frozen = NULL;
        t->nfrozen = 0;
        pthread_mutex_unlock(&t->mu);
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static sdb_rc concat_part(const sdb_mempart *p, sdb_batch *out, sdb_err *err)
{
    sdb_batch_init(out);
    for (uint32_t j = 0; j < p->nchunks; j++)
        SDB_TRY(sdb_batch_append_rows(out, &p->chunks[j]->b, NULL, 0, err));
    return SDB_OK;
}

static sdb_rc flush_table(sdb_db *db, dbtable *t, sdb_err *err)
{
    sdb_mempart *parts;
    uint32_t nparts;
    uint64_t seq;
    sdb_table_def *def;
    sdb_manifest_entry *adds = NULL;
    char (*files)[64] = NULL;
    sdb_rc rc = SDB_OK;

    pthread_mutex_lock(&t->flush_mu);
    pthread_mutex_lock(&db->mu);
    def = sdb_catalog_find(db->cat, t->name, strlen(t->name));
    pthread_mutex_unlock(&db->mu);
    pthread_mutex_lock(&t->mu);
    if (def == NULL || t->mem.rows == 0) {
        pthread_mutex_unlock(&t->mu);
        pthread_mutex_unlock(&t->flush_mu);
        return SDB_OK;
    }
    sdb_memtable_take(&t->mem, &parts, &nparts);
    t->frozen = parts;
    t->nfrozen = nparts;
    /* every record up to seq is in the frozen partitions; later ones go to the new memtable */
    seq = t->wal ? sdb_wal_last_seq(t->wal) : 0;
    if (seq == 0) {
        pthread_mutex_lock(&db->mu);
        seq = sdb_manifest_max_wal_seq(db->man, t->name);
        pthread_mutex_unlock(&db->mu);
    }
    pthread_mutex_unlock(&t->mu);

    adds = calloc(nparts, sizeof *adds);
    files = calloc(nparts, sizeof *files);
    if (adds == NULL || files == NULL)
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to flush %u partitions", nparts);
    for (uint32_t i = 0; i < nparts && rc == SDB_OK; i++) {
        sdb_batch rows;
        rc = concat_part(&parts[i], &rows, err);
        if (rc == SDB_OK)
            rc = write_segment(db, def, &rows, parts[i].start, seq, 0, &db->o.seg, files[i],
                               &adds[i], err);
        sdb_batch_free(&rows);
    }
    if (rc == SDB_OK)
        rc = publish(db, t, t->name, adds, nparts, NULL, 0, err);
    if (rc != SDB_OK) {
        /* put the rows back so they stay visible and are flushed next time; files written
         * so far are strays, removed at the next start */
        sdb_err e2;
        pthread_mutex_lock(&t->mu);
        for (uint32_t i = 0; i < t->nfrozen; i++)
            for (uint32_t j = 0; j < t->frozen[i].nchunks; j++)
                (void)sdb_memtable_insert(&t->mem, &t->frozen[i].chunks[j]->b, def, &e2);
        free_parts(t->frozen, t->nfrozen);
        t->frozen = NULL;
        t->nfrozen = 0;
        pthread_mutex_unlock(&t->mu);
    } else if (t->wal != NULL) {
        rc = sdb_wal_retire(t->wal, seq, err);
    }
    free(adds);
    free(files);
    pthread_mutex_unlock(&t->flush_mu);
    return rc;
}

/* The tables named table (NULL: all): every one, those whose memtable is full, or those
 * whose memtable holds a row older than max_age_ns. Caller
 * frees the list. Tables are never freed while the database is open but by DROP TABLE,
 * which a caller of this does not run concurrently. */
typedef enum pick { PICK_ALL, PICK_FULL, PICK_OLD } pick;

static sdb_rc pick_tables(sdb_db *db, const char *table, pick what, int64_t max_age_ns,
                          dbtable ***out, uint32_t *n, sdb_err *err)
{
    dbtable **list;
    *n = 0;
    pthread_mutex_lock(&db->mu);
    list = malloc((db->ntables ? db->ntables : 1) * sizeof *list);
    for (uint32_t i = 0; list != NULL && i < db->ntables; i++) {
        dbtable *t = db->tables[i];
        bool take;
        if (table != NULL && strcmp(t->name, table) != 0)
            continue;
        pthread_mutex_lock(&t->mu);
        take = what == PICK_ALL ||
               (what == PICK_FULL && (t->mem.rows >= db->o.memtable_rows ||
                                      t->mem.bytes >= db->o.memtable_bytes)) ||
               (what == PICK_OLD && t->mem.rows > 0 &&
                sdb_mono_ns() - t->mem.first_insert_ns > max_age_ns);
        pthread_mutex_unlock(&t->mu);
        if (take)
            list[(*n)++] = t;
    }
    pthread_mutex_unlock(&db->mu);
    *out = list;
    return list ? SDB_OK : SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
}

sdb_rc sdb_db_flush(sdb_db *db, const char *table, sdb_err *err)
{
    dbtable **list;
    uint32_t n;
    sdb_rc rc = SDB_OK;
    SDB_TRY(pick_tables(db, table, PICK_ALL, 0, &list, &n, err));
    for (uint32_t i = 0; i < n && rc == SDB_OK; i++)
        rc = flush_table(db, list[i], err);
    free(list);
    return rc;
}

static sdb_rc flush_big_tables(sdb_db *db, sdb_err *err)
{
    dbtable **list;
    uint32_t n;
    sdb_rc rc = SDB_OK;
    SDB_TRY(pick_tables(db, NULL, PICK_FULL, 0, &list, &n, err));
    for (uint32_t i = 0; i < n && rc == SDB_OK; i++)
        rc = flush_table(db, list[i], err);
    free(list);
    return rc;
}

sdb_rc sdb_db_flush_aged(sdb_db *db, int64_t max_age_ns, sdb_err *err)
{
    dbtable **list;
    uint32_t n;
    sdb_rc rc = SDB_OK;
    if (db->o.read_only)
        return SDB_OK;
    SDB_TRY(pick_tables(db, NULL, PICK_OLD, max_age_ns, &list, &n, err));
    for (uint32_t i = 0; i < n && rc == SDB_OK; i++)
        rc = flush_table(db, list[i], err);
    free(list);
    return rc;
}

/* ---- compaction ---- */

/* Merge the segments of one partition: picked (db->mu held by the caller while picking). */
static sdb_rc compact_partition(sdb_db *db, dbtable *t, const sdb_table_def *def, segref **picked,
                                uint32_t n, sdb_err *err)
{
    sdb_batch rows;
    sdb_manifest_entry e;
    char file[64];
    char **removes = malloc(n * sizeof *removes);
    uint64_t max_seq = 0;
    uint32_t level = 0;
    sdb_rc rc = SDB_OK;
    if (removes == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
    sdb_batch_init(&rows);
    for (uint32_t i = 0; i < n && rc == SDB_OK; i++) {
        rc = sdb_seg_read_batch(picked[i]->seg, &rows, err);
        removes[i] = picked[i]->file;
        if (picked[i]->e.max_wal_seq > max_seq)
            max_seq = picked[i]->e.max_wal_seq;
        if (picked[i]->e.level > level)
            level = picked[i]->e.level;
    }
    if (rc == SDB_OK)
        rc = write_segment(db, def, &rows, picked[0]->e.part_start, max_seq,
                           level < 255 ? level + 1 : 255, &db->o.compact_seg, file, &e, err);
    sdb_batch_free(&rows);
    if (rc == SDB_OK)
        rc = publish(db, NULL, t->name, &e, 1, removes, n, err);
    free(removes);
    return rc;
}

static int cmp_part(const void *a, const void *b)
{
    const segref *x = *(segref *const *)a, *y = *(segref *const *)b;
    if (x->e.part_start != y->e.part_start)
        return x->e.part_start < y->e.part_start ? -1 : 1;
    return x->e.min_time < y->e.min_time ? -1 : x->e.min_time > y->e.min_time;
}

static sdb_rc compact_table(sdb_db *db, dbtable *t, bool force, uint32_t min_segments,
                            sdb_err *err)
{
    segref **mine;
    uint32_t n = 0;
    sdb_table_def *def;
    sdb_rc rc = SDB_OK;
    pthread_mutex_lock(&t->flush_mu);
    pthread_mutex_lock(&db->mu);
    def = sdb_catalog_find(db->cat, t->name, strlen(t->name));
    mine = malloc((db->nsegs ? db->nsegs : 1) * sizeof *mine);
    for (uint32_t i = 0; mine != NULL && i < db->nsegs; i++)
        if (strcmp(db->segs[i]->table, t->name) == 0) {
            mine[n++] = db->segs[i];
            db->segs[i]->refs++; /* keep them open while we read them */
        }
    pthread_mutex_unlock(&db->mu);
    if (mine == NULL) {
        pthread_mutex_unlock(&t->flush_mu);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
    }
    qsort(mine, n, sizeof *mine, cmp_part);
    for (uint32_t i = 0; i < n && rc == SDB_OK && def != NULL;) {
        uint32_t j = i, level0 = 0;
        while (j < n && mine[j]->e.part_start == mine[i]->e.part_start) {
            level0 += mine[j]->e.level == 0;
            j++;
        }
        if (j - i > 1 && (force || level0 >= (min_segments ? min_segments : 4))) {
            /* merge runs of at most SDB_COMPACT_MAX_ROWS rows: compaction holds a run in
             * memory, so this bounds its footprint whatever the partition's size */
            for (uint32_t a = i; a < j && rc == SDB_OK;) {
                uint32_t e = a + 1;
                uint64_t rows = mine[a]->e.rows;
                while (e < j && rows + mine[e]->e.rows <= SDB_COMPACT_MAX_ROWS)
                    rows += mine[e++]->e.rows;
                if (e - a > 1)
                    rc = compact_partition(db, t, def, mine + a, e - a, err);
                a = e;
            }
        }
        i = j;
    }
    pthread_mutex_lock(&db->mu);
    for (uint32_t i = 0; i < n; i++)
        segref_unref(db, mine[i]);
    pthread_mutex_unlock(&db->mu);
    free(mine);
    pthread_mutex_unlock(&t->flush_mu);
    return rc;
}

sdb_rc sdb_db_compact(sdb_db *db, const char *table, bool force, uint32_t min_segments,
                      sdb_err *err)
{
    dbtable **list;
    uint32_t n = 0;
    sdb_rc rc = SDB_OK;
    if (db->o.read_only)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s is open read-only", db->dir);
    SDB_TRY(pick_tables(db, table, PICK_ALL, 0, &list, &n, err));
    for (uint32_t i = 0; i < n && rc == SDB_OK; i++)
        rc = compact_table(db, list[i], force, min_segments, err);
    free(list);
    return rc;
}

/* ---- retention ---- */

sdb_rc sdb_db_retention(sdb_db *db, int64_t now_ns, uint32_t *dropped, sdb_err *err)
{
    sdb_manifest *next = NULL;
    int64_t cutoff = now_ns - db->o.retention_ns;
    uint32_t n = 0;
    sdb_rc rc;
    *dropped = 0;
    if (db->o.retention_ns <= 0 || db->o.read_only)
        return SDB_OK;
    pthread_mutex_lock(&db->mu);
    rc = sdb_manifest_copy(db->man, &next, err);
    for (uint32_t i = 0; i < db->nsegs && rc == SDB_OK; i++) {
        const segref *r = db->segs[i];
        if (sdb_part_next(r->e.unit, r->e.part_start) <= cutoff) {
            rc = sdb_manifest_remove(next, r->table, r->file, err);
            n++;
        }
    }
    if (rc == SDB_OK && n > 0)
        rc = sdb_manifest_save(next, db->dir, err);
    if (rc == SDB_OK && n > 0) {
        sdb_manifest_destroy(db->man);
        db->man = next;
        next = NULL;
        for (uint32_t i = 0; i < db->nsegs;) {
            segref *r = db->segs[i];
            if (sdb_part_next(r->e.unit, r->e.part_start) <= cutoff)
                retire_segref(db, i);
            else
                i++;
        }
        *dropped = n;
    }
    sdb_manifest_destroy(next);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* ---- DDL ---- */

sdb_rc sdb_db_create_table(sdb_db *db, const char *name, const char *const *cols,
                           const sdb_type *types, uint32_t ncols, sdb_part_unit unit,
                           const char *const *sort, uint32_t nsort, sdb_err *err)
{
    sdb_table_def *def;
    dbtable *t;
    sdb_rc rc;
    if (db->o.read_only)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s is open read-only", db->dir);
    pthread_mutex_lock(&db->mu);
    rc = sdb_catalog_add_table(db->cat, name, strlen(name), unit, &def, err);
    for (uint32_t i = 0; i < ncols && rc == SDB_OK; i++) {
        if (strcmp(cols[i], "time") == 0) {
            if (types[i] != SDB_TYPE_TIMESTAMP)
                rc = SDB_FAIL(err, SDB_ERR_SCHEMA, "column 'time' must be a timestamp");
            continue;
        }
        rc = sdb_table_add_col(def, cols[i], strlen(cols[i]), types[i], err);
    }
    if (rc == SDB_OK && nsort > 0)
        rc = sdb_table_set_sort(def, sort, nsort, err);
    if (rc == SDB_OK)
        rc = sdb_catalog_save(db->cat, db->dir, err);
    if (rc == SDB_OK)
        rc = get_table(db, def, &t, err);
    if (rc != SDB_OK && rc != SDB_ERR_EXISTS && sdb_catalog_find(db->cat, name, strlen(name)))
        sdb_catalog_drop_table(db->cat, name, NULL);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

sdb_rc sdb_db_drop_table(sdb_db *db, const char *name, sdb_err *err)
{
    sdb_manifest *next = NULL;
    dbtable *t;
    char dir[SDB_PATH_MAX];
    sdb_rc rc;
    if (db->o.read_only)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s is open read-only", db->dir);
    pthread_mutex_lock(&db->mu);
    if (sdb_catalog_find(db->cat, name, strlen(name)) == NULL) {
        pthread_mutex_unlock(&db->mu);
        return SDB_FAIL(err, SDB_ERR_NOTFOUND, "table '%s' does not exist", name);
    }
    /* catalog first: a crash after it leaves segments and WAL files of an unknown table,
     * which start-up ignores */
    rc = sdb_manifest_copy(db->man, &next, err);
    for (uint32_t i = 0; i < db->nsegs && rc == SDB_OK; i++)
        if (strcmp(db->segs[i]->table, name) == 0)
            rc = sdb_manifest_remove(next, name, db->segs[i]->file, err);
    if (rc == SDB_OK)
        rc = sdb_catalog_drop_table(db->cat, name, err);
    if (rc == SDB_OK)
        rc = sdb_catalog_save(db->cat, db->dir, err);
    if (rc == SDB_OK)
        rc = sdb_manifest_save(next, db->dir, err);
    if (rc == SDB_OK) {
        sdb_manifest_destroy(db->man);
        db->man = next;
        next = NULL;
        for (uint32_t i = 0; i < db->nsegs;)
            if (strcmp(db->segs[i]->table, name) == 0)
                retire_segref(db, i);
            else
                i++;
        if ((t = find_table(db, name)) != NULL) {
            for (uint32_t i = 0; i < db->ntables; i++)
                if (db->tables[i] == t) {
                    memmove(&db->tables[i], &db->tables[i + 1],
                            (db->ntables - i - 1) * sizeof *db->tables);
                    db->ntables--;
                    break;
                }
            /* a flush or compaction may hold t right now: empty it under its locks and keep
             * the struct until close (a dropped table's flush finds no rows and stops) */
            pthread_mutex_lock(&t->mu);
            sdb_memtable_free(&t->mem);
            sdb_memtable_init(&t->mem, SDB_PART_DAY);
            if (t->wal != NULL) {
                sdb_wal_close(t->wal, NULL);
                t->wal = NULL;
            }
            pthread_mutex_unlock(&t->mu);
            if (db->ndropped == db->dropcap) {
                uint32_t cap = db->dropcap ? db->dropcap * 2 : 4;
                dbtable **d = realloc(db->dropped, cap * sizeof *d);
                if (d != NULL) {
                    db->dropped = d;
                    db->dropcap = cap;
                }
            }
            if (db->ndropped < db->dropcap)
                db->dropped[db->ndropped++] = t;
            /* else: leaked rather than freed under a possible reader (only without memory) */
        }
        if (table_path(db, "wal", name, dir, NULL) == SDB_OK)
            sdb_file_remove_dir(dir, NULL);
    }
    sdb_manifest_destroy(next);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* ---- snapshots ---- */

typedef struct snap_priv {
    segref **refs;
    dbtable *t;
    sdb_memchunk **chunks;
} snap_priv;

static sdb_table_def *copy_def(const sdb_table_def *d)
{
    sdb_table_def *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->name = strdup(d->name);
    c->unit = d->unit;
    c->col_names = calloc(d->ncols ? d->ncols : 1, sizeof *c->col_names);
    c->col_types = calloc(d->ncols ? d->ncols : 1, sizeof *c->col_types);
    c->nsort = d->nsort;
    memcpy(c->sort_cols, d->sort_cols, sizeof c->sort_cols);
    if (c->name == NULL || c->col_names == NULL || c->col_types == NULL)
        return c; /* caller checks ncols */
    for (uint32_t i = 0; i < d->ncols; i++) {
        if ((c->col_names[i] = strdup(d->col_names[i])) == NULL)
            return c;
        c->col_types[i] = d->col_types[i];
        c->ncols = c->cap = i + 1;
    }
    return c;
}

static void free_def(sdb_table_def *d)
{
    if (d == NULL)
        return;
    for (uint32_t i = 0; i < d->ncols; i++)
        free(d->col_names[i]);
    free(d->col_names);
    free(d->col_types);
    free(d->name);
    free(d);
}

sdb_rc sdb_db_snapshot_take(sdb_db *db, const char *table, sdb_db_snapshot **out, sdb_err *err)
{
    sdb_db_snapshot *s = calloc(1, sizeof *s);
    snap_priv *p = calloc(1, sizeof *p);
    const sdb_table_def *def;
    sdb_memchunk **live = NULL;
    uint32_t nlive = 0, nfrozen = 0;
    sdb_rc rc = SDB_OK;
    *out = NULL;
    if (s == NULL || p == NULL) {
        free(s);
        free(p);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a snapshot");
    }
    s->db = db;
    s->priv = p;
    pthread_mutex_lock(&db->mu);
    def = sdb_catalog_find(db->cat, table, strlen(table));
    if (def == NULL) {
        pthread_mutex_unlock(&db->mu);
        free(s);
        free(p);
        return SDB_FAIL(err, SDB_ERR_NOTFOUND, "table '%s' does not exist", table);
    }
    s->def = copy_def(def);
    if (s->def == NULL || s->def->ncols != def->ncols)
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a snapshot");
    for (uint32_t i = 0; i < db->nsegs; i++)
        s->nsegs += strcmp(db->segs[i]->table, table) == 0;
    p->refs = calloc(s->nsegs + 1, sizeof *p->refs);
    s->segs = calloc(s->nsegs + 1, sizeof *s->segs);
    s->seg_min_time = calloc(s->nsegs + 1, sizeof *s->seg_min_time);
    s->seg_max_time = calloc(s->nsegs + 1, sizeof *s->seg_max_time);
    if (p->refs == NULL || s->segs == NULL || s->seg_min_time == NULL || s->seg_max_time == NULL)
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a snapshot");
    for (uint32_t i = 0, k = 0; rc == SDB_OK && i < db->nsegs; i++)
        if (strcmp(db->segs[i]->table, table) == 0) {
            segref *r = db->segs[i];
            r->refs++;
            p->refs[k] = r;
            s->segs[k] = r->seg;
            s->seg_min_time[k] = r->e.min_time;
            s->seg_max_time[k] = r->e.max_time;
            k++;
        }
    p->t = find_table(db, table);
    if (rc == SDB_OK && p->t != NULL) {
        dbtable *t = p->t;
        pthread_mutex_lock(&t->mu);
        rc = sdb_memtable_snapshot(&t->mem, &live, &nlive, err);
        for (uint32_t i = 0; i < t->nfrozen; i++)
            nfrozen += t->frozen[i].nchunks;
        if (rc == SDB_OK) {
            p->chunks = calloc(nlive + nfrozen + 1, sizeof *p->chunks);
            s->chunks = calloc(nlive + nfrozen + 1, sizeof *s->chunks);
            if (p->chunks == NULL || s->chunks == NULL) {
                rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a snapshot");
                for (uint32_t i = 0; i < nlive; i++)
                    sdb_memchunk_unref(live[i]);
            } else {
                for (uint32_t i = 0; i < t->nfrozen; i++)
                    for (uint32_t j = 0; j < t->frozen[i].nchunks; j++)
                        p->chunks[s->nchunks++] = sdb_memchunk_ref(t->frozen[i].chunks[j]);
                for (uint32_t i = 0; i < nlive; i++)
                    p->chunks[s->nchunks++] = live[i];
                for (uint32_t i = 0; i < s->nchunks; i++)
                    s->chunks[i] = &p->chunks[i]->b;
            }
        }
        pthread_mutex_unlock(&t->mu);
    }
    free(live);
    pthread_mutex_unlock(&db->mu);
    if (rc != SDB_OK) {
        sdb_db_snapshot_release(s);
        return rc;
    }
    *out = s;
    return SDB_OK;
}

void sdb_db_snapshot_release(sdb_db_snapshot *s)
{
    snap_priv *p;
    if (s == NULL)
        return;
    p = s->priv;
    pthread_mutex_lock(&s->db->mu);
    for (uint32_t i = 0; p->refs != NULL && i < s->nsegs; i++)
        if (p->refs[i] != NULL)
            segref_unref(s->db, p->refs[i]);
    if (p->t != NULL && p->chunks != NULL) {
        pthread_mutex_lock(&p->t->mu);
        for (uint32_t i = 0; i < s->nchunks; i++)
            sdb_memchunk_unref(p->chunks[i]);
        pthread_mutex_unlock(&p->t->mu);
    }
    pthread_mutex_unlock(&s->db->mu);
    free(p->refs);
    free(p->chunks);
    free(p);
    free_def(s->def);
    free(s->segs);
    free(s->seg_min_time);
    free(s->seg_max_time);
    free(s->chunks);
    free(s);
}

void sdb_db_get_stats(sdb_db *db, sdb_db_stats *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&db->mu);
    st->tables = db->cat->ntables;
    st->segments = db->nsegs;
    for (uint32_t i = 0; i < db->nsegs; i++) {
        st->segment_rows += db->segs[i]->e.rows;
        st->segment_bytes += db->segs[i]->e.bytes;
    }
    for (uint32_t i = 0; i < db->ntables; i++) {
        pthread_mutex_lock(&db->tables[i]->mu);
        st->memtable_rows += db->tables[i]->mem.rows;
        st->partitions += db->tables[i]->mem.nparts;
        pthread_mutex_unlock(&db->tables[i]->mu);
    }
    pthread_mutex_unlock(&db->mu);
}
