/* spandb import: bulk load of files into a data directory. Files are streamed (plain, .zst,
 * .lz4 or stdin), parsed, and written straight to segments (the bulk path skips the WAL:
 * rows are durable once their segment is published), zstd-compressed since imported rows
 * are history. Bad records are reported as file:line: reason and skipped; --strict stops at
 * the first. Ends with a summary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/ingest.h"
#include "engine/input.h"
#include "tools/commands.h"

#define READ_CHUNK (1u << 20)
#define MAX_REPORTED 100

typedef struct import_state {
    const char *file;
    uint64_t rejected;
    bool strict;
    bool stop;
} import_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_reject(void *ctx, uint64_t line_no, uint64_t offset, const char *reason)
{
    import_state *st = ctx;
    const char *r = reason;
    (void)offset;
    /* the parser says "line N: why"; the file:line prefix already says where */
    if (strncmp(r, "line ", 5) == 0) {
        const char *colon = strstr(r, ": ");
        if (colon != NULL)
            r = colon + 2;
    }
    if (st->rejected++ < MAX_REPORTED)
        fprintf(stderr, "%s:%" PRIu64 ": %s\n", st->file, line_no, r);
    else if (st->rejected == MAX_REPORTED + 1)
        fprintf(stderr, "spandb import: more rejected lines are counted but not shown\n");
    if (st->strict)
        st->stop = true;
}

static void human(char *out, size_t n, double v)
{
    if (v >= 1e9)
        snprintf(out, n, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(out, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(out, n, "%.1fk", v / 1e3);
    else
        snprintf(out, n, "%.0f", v);
}

static void progress(const char *file, const sdb_input *in, uint64_t rows, uint64_t bytes,
                     double t0)
{
    char r[32], rs[32], b[32];
    double el = now_s() - t0;
    uint64_t size = sdb_input_size(in), done = sdb_input_consumed(in);
    human(r, sizeof r, (double)rows);
    human(rs, sizeof rs, el > 0 ? (double)rows / el : 0);
    human(b, sizeof b, (double)bytes);
    if (size > 0 && done > 0) {
        double frac = (double)done / (double)size;
        fprintf(stderr, "\r%s: %s rows, %s rows/s, %sB, %.0f%%, ETA %.0fs   ", file, r, rs, b,
                frac * 100, frac > 0 ? el / frac - el : 0);
    } else {
        fprintf(stderr, "\r%s: %s rows, %s rows/s, %sB   ", file, r, rs, b);
    }
}

static void import_usage(FILE *f)
{
    fprintf(f,
            "usage: spandb import [--data DIR] [--format auto|ilp] [--table T]\n"
            "                     [--precision ns|us|ms|s] [--strict] [--compact] FILE...\n\n"
            "Load line-protocol files (plain, .zst or .lz4; - for stdin) into DIR.\n\n"
            "  --data DIR       data directory (default ./spandb-data)\n"
            "  --format F       input format: auto (by content) or ilp\n"
            "  --table T        write every row to table T\n"
            "  --precision P    unit of timestamps in the input (default ns)\n"
            "  --strict         stop at the first bad line; its batch is not written\n"
            "  --compact        merge each partition's segments at the end\n");
}

int sdb_cmd_import(int argc, char **argv)
{
    const char *data = "./spandb-data", *format = "auto", *table = NULL;
    sdb_ilp_precision prec = SDB_ILP_NS;
    bool strict = false, compact = false, tty = isatty(STDERR_FILENO);
    int nfiles = 0, rc = 0;
    char **files = calloc((size_t)argc, sizeof *files);
    sdb_db_opts o;
    sdb_db_open_report rep;
    char repair[512];
    sdb_db *db = NULL;
    sdb_err err;
    uint64_t tot_rows = 0, tot_bytes = 0, tot_rej = 0;
    double t0 = now_s();
    import_state st;
    char *buf = NULL;

    if (files == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            import_usage(stdout);
            free(files);
            return 0;
        } else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else if (strcmp(a, "--table") == 0 && i + 1 < argc) {
            table = argv[++i];
        } else if (strcmp(a, "--precision") == 0 && i + 1 < argc) {
            const char *p = argv[++i];
            if (strcmp(p, "ns") == 0)
                prec = SDB_ILP_NS;
            else if (strcmp(p, "us") == 0)
                prec = SDB_ILP_US;
            else if (strcmp(p, "ms") == 0)
                prec = SDB_ILP_MS;
            else if (strcmp(p, "s") == 0)
                prec = SDB_ILP_S;
            else {
                fprintf(stderr, "spandb import: --precision takes ns, us, ms or s, not '%s'\n", p);
                free(files);
                return 2;
            }
        } else if (strcmp(a, "--strict") == 0) {
            strict = true;
        } else if (strcmp(a, "--compact") == 0) {
            compact = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "spandb import: unknown option '%s'\n\n", a);
            import_usage(stderr);
            free(files);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) {
        import_usage(stderr);
        free(files);
        return 2;
    }
    if (strcmp(format, "auto") != 0 && strcmp(format, "ilp") != 0) {
        fprintf(stderr, "spandb import: format '%s' is not supported yet (auto, ilp)\n", format);
        free(files);
        return 2;
    }
    sdb_db_opts_default(&o);
    o.bulk = true;
    /* a flush holds the memtable twice (chunks and the sorted copy): this bounds the import's
     * memory whatever the size of the input */
    o.memtable_rows = 1u << 18;
    /* imported data is history: write it dense (zstd) at once instead of rewriting it in a
     * compaction */
    o.seg = o.compact_seg;
    o.background_flush = true;
    if (sdb_db_open(data, &o, &db, &rep, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s\n", err.msg);
        free(files);
        return 1;
    }
    sdb_db_open_report_text(&rep, repair, sizeof repair);
    if (repair[0] != '\0')
        fprintf(stderr, "spandb import: %s: %s\n", data, repair);
    if ((buf = malloc(READ_CHUNK)) == NULL) {
        fprintf(stderr, "spandb import: out of memory\n");
        sdb_db_close(db, NULL);
        free(files);
        return 1;
    }
    for (int f = 0; f < nfiles && rc == 0; f++) {
        sdb_input *in = NULL;
        sdb_ingest *ing = NULL;
        sdb_ingest_opts io;
        sdb_ingest_stats s;
        double last = 0;
        memset(&st, 0, sizeof st);
        st.file = strcmp(files[f], "-") == 0 ? "<stdin>" : files[f];
        st.strict = strict;
        memset(&io, 0, sizeof io);
        io.precision = prec;
        io.table = table;
        io.on_reject = on_reject;
        io.reject_ctx = &st;
        if (sdb_input_open(files[f], &in, &err) != SDB_OK ||
            sdb_ingest_create(db, &io, &ing, &err) != SDB_OK) {
            fprintf(stderr, "spandb import: %s\n", err.msg);
            sdb_input_close(in);
            rc = 1;
            break;
        }
        for (;;) {
            size_t got;
            if (sdb_input_read(in, buf, READ_CHUNK, &got, &err) != SDB_OK) {
                fprintf(stderr, "%sspandb import: %s\n", tty ? "\n" : "", err.msg);
                rc = 1;
                break;
            }
            if (got == 0) {
                if (sdb_ingest_finish(ing, &err) != SDB_OK) {
                    fprintf(stderr, "spandb import: %s: %s\n", st.file, err.msg);
                    rc = 1;
                }
                break;
            }
            if (sdb_ingest_feed(ing, buf, got, &err) != SDB_OK) {
                fprintf(stderr, "spandb import: %s: %s\n", st.file, err.msg);
                rc = 1;
                break;
            }
            if (st.stop) {
                sdb_ingest_discard(ing);
                break;
            }
            if (tty && now_s() - last > 0.25) {
                s = sdb_ingest_get_stats(ing);
                progress(st.file, in, tot_rows + s.rows, tot_bytes + s.bytes, t0);
                last = now_s();
            }
        }
        if (st.stop && strict) {
            /* the batch with the bad line is discarded above; earlier batches stay */
            rc = 1;
        }
        s = sdb_ingest_get_stats(ing);
        tot_rows += s.written;
        tot_bytes += s.bytes;
        tot_rej += st.rejected;
        sdb_ingest_destroy(ing);
        sdb_input_close(in);
        if (tty)
            fprintf(stderr, "\r\033[K");
    }
    free(buf);
    if (sdb_db_flush(db, NULL, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s\n", err.msg);
        rc = 1;
    } else if (compact && sdb_db_compact(db, NULL, true, 0, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: compaction: %s\n", err.msg);
        rc = 1;
    }
    {
        sdb_db_stats ds;
        double el = now_s() - t0;
        char r[32], rs[32];
        sdb_db_get_stats(db, &ds);
        human(r, sizeof r, (double)tot_rows);
        human(rs, sizeof rs, el > 0 ? (double)tot_rows / el : 0);
        fprintf(stderr,
                "imported %s rows (%" PRIu64 " rejected) from %d file%s, %.1f MB, in %.2f s: "
                "%s rows/s; %s now holds %" PRIu64 " rows in %" PRIu64 " segments, %.1f MB "
                "(%.1f bytes/row)\n",
                r, tot_rej, nfiles, nfiles == 1 ? "" : "s", (double)tot_bytes / 1e6, el, rs, data,
                ds.segment_rows, ds.segments, (double)ds.segment_bytes / 1e6,
                ds.segment_rows ? (double)ds.segment_bytes / (double)ds.segment_rows : 0.0);
    }
    if (sdb_db_close(db, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s\n", err.msg);
        rc = 1;
    }
    free(files);
    if (rc == 0 && tot_rej > 0)
        rc = 1;
    return rc;
}
