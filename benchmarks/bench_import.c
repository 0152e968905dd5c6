/* bench_import: OTLP/JSON import of N generated spans (argv[1], default 1,000,000; the issue's
 * figure is 10,000,000; SPANDB_BENCH_ROWS too). Spans are generated 1000 per request line
 * (the collector file-exporter layout, ~960 bytes per span) and fed to the importer as they
 * are made, so memory stays bounded; only the importer's time is counted. Two runs: parse and
 * map only (no database), and the full import into a database opened as `spandb import`
 * opens it (bulk, 2^18-row memtables, zstd segments, flushes in a background thread) in a
 * temporary directory, final flush included (argv[2] "db": that run only). CPU time is the
 * process's, all threads, minus what the generator took on the main thread, so flushes that
 * the background thread runs while spans are being generated count too. Prints spans/s on
 * CPU time and wall time, MB/s, and the peak RSS of the process. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/gen.h"
#include "engine/import.h"
#include "storage/common/buf.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const sdb_err *err)
{
    fprintf(stderr, "bench_import: %s: %s\n", what, err->msg);
    exit(1);
}

typedef struct result {
    double cpu, wall, mb;
    uint64_t spans;
} result;

/* The import's CPU time: the process's (all threads) minus the generator's on this thread. */
static result run(uint64_t rows, sdb_db *db)
{
    double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), gen_cpu = 0, t0;
    sdb_gen_opts go;
    sdb_gen *g;
    sdb_batch b;
    sdb_buf out = SDB_BUF_INIT;
    sdb_import_opts io;
    sdb_import *im;
    sdb_err err;
    uint64_t added;
    result r = {0, 0, 0, 0};
    double c0, w0;
    sdb_gen_opts_default(&go);
    go.rows = rows;
    if (sdb_gen_create(&go, &g, &err) != SDB_OK)
        die("gen", &err);
    memset(&io, 0, sizeof io);
    io.dedup = true;
    if (sdb_import_create(db, &io, &im, &err) != SDB_OK)
        die("import", &err);
    if (sdb_import_begin(im, SDB_IMPORT_OTLP_JSON, &err) != SDB_OK)
        die("import", &err);
    sdb_batch_init(&b);
    for (;;) {
        t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        sdb_batch_clear(&b);
        if (sdb_gen_next(g, 1000, &b, &added, &err) != SDB_OK)
            die("gen", &err);
        if (added == 0)
            break;
        sdb_buf_reset(&out);
        if (sdb_gen_write_otlp_json(&b, &out, &err) != SDB_OK)
            die("gen", &err);
        gen_cpu += clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
        w0 = clock_s(CLOCK_MONOTONIC);
        if (sdb_import_feed(im, out.data, out.len, &err) != SDB_OK)
            die("import", &err);
        r.wall += clock_s(CLOCK_MONOTONIC) - w0;
        r.mb += (double)out.len / 1e6;
    }
    w0 = clock_s(CLOCK_MONOTONIC);
    if (sdb_import_end(im, &err) != SDB_OK)
        die("import", &err);
    if (db != NULL && sdb_db_flush(db, NULL, &err) != SDB_OK)
        die("flush", &err);
    r.wall += clock_s(CLOCK_MONOTONIC) - w0;
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    r.cpu = c0 - p0 - gen_cpu;
    r.spans = sdb_import_get_stats(im).spans;
    sdb_import_destroy(im);
    sdb_batch_free(&b);
    sdb_buf_free(&out);
    sdb_gen_destroy(g);
    return r;
}

static void row(const char *name, const result *r)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("| %-24s | %10llu | %10.0f | %10.0f | %8.1f | %8.0f |\n", name,
           (unsigned long long)r->spans, r->spans / r->cpu, r->spans / r->wall, r->mb / r->cpu,
           ru.ru_maxrss / 1024.0);
}

int main(int argc, char **argv)
{
    const char *env = getenv("SPANDB_BENCH_ROWS");
    uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : env ? strtoull(env, NULL, 10) : 1000000;
    char dir[] = "/tmp/spandb-bench-import-XXXXXX", cmd[128];
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    result parse, full;
    /* argv[2] "db": only the import into the database (profiling) */
    bool db_only = argc > 2 && strcmp(argv[2], "db") == 0;
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    printf("OTLP/JSON import of %llu generated spans (1000 per request line); CPU of all threads\n\n",
           (unsigned long long)rows);
    printf("| %-24s | %10s | %10s | %10s | %8s | %8s |\n", "run", "spans", "spans/s cpu",
           "spans/s wall", "MB/s cpu", "peak RSS MB");
    printf("|--------------------------|------------|------------|------------|----------|----------|\n");
    if (!db_only) {
        parse = run(rows, NULL);
        row("parse + map (no db)", &parse);
    }
    sdb_db_opts_default(&o);
    /* as tools/cmd_import.c opens it */
    o.bulk = true;
    o.memtable_rows = 1u << 18;
    o.seg = o.compact_seg;
    o.background_flush = true;
    if (sdb_db_open(dir, &o, &db, NULL, &err) != SDB_OK)
        die("open", &err);
    full = run(rows, db);
    row("import into db", &full);
    sdb_db_close(db, NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
