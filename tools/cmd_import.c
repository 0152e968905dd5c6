/* spandb import: bulk load of files into a data directory. Files are streamed (plain, .zst,
 * .lz4 or stdin), parsed, and written straight to segments (the bulk path skips the WAL:
 * rows are durable once their segment is published), zstd-compressed since imported rows
 * are history. Bad records are reported as file:line: reason and skipped; --strict stops at
 * the first. Ends with a summary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/import.h"
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
            "usage: spandb import [--data DIR] [--format F] [--table T] [--prices FILE]\n"
            "                     [--dedup span_id|none] [--schema S] [--precision P] [--strict]\n"
            "                     [--compact] FILE...\n\n"
            "Load exported traces or line protocol (plain, .zst or .lz4; - for stdin) into\n"
            "DIR. Spans go to table spans, evaluation scores to table scores.\n\n"
            "  --data DIR       data directory (default ./spandb-data)\n"
            "  --format F       auto (by name and content), ilp, otlp-json, langfuse,\n"
            "                   langsmith, phoenix, csv (Phoenix and Langfuse CSV exports\n"
            "                   are recognised by their header)\n"
            "  --table T        line protocol: every row to table T; traces: the span table\n"
            "  --prices FILE    model price table (Langfuse format) for spans without a\n"
            "                   cost; 'none' computes no cost (default: the built-in table)\n"
            "  --schema S       csv column types, name:type,... (int, float, bool,\n"
            "                   timestamp, string, symbol; default: inferred)\n"
            "  --dedup D        span_id (default): skip spans whose span_id is already in\n"
            "                   the span table or earlier in the import; none: keep all\n"
            "  --precision P    unit of timestamps in the input (default ns)\n"
            "  --strict         stop at the first bad line; its batch is not written\n"
            "  --compact        merge each partition's segments at the end\n\n"
            "Files holding evaluations (Phoenix) are read before the others, so that a\n"
            "hallucination verdict reaches its span.\n");
}

/* Totals over all files. */
typedef struct import_totals {
    uint64_t rows, bytes, rejected, scores, duplicates, costed;
} import_totals;

/* What a file is fed to: the line-protocol ingest or the trace importer. */
typedef struct feeder {
    sdb_rc (*feed)(void *ctx, const void *p, size_t n, sdb_err *err);
    sdb_rc (*finish)(void *ctx, sdb_err *err);
    void (*discard)(void *ctx);
    uint64_t (*rows)(void *ctx); /* rows parsed from this file so far, for progress */
    uint64_t (*bytes)(void *ctx);
    void *ctx;
} feeder;

/* Feed one file, whose first got bytes are in buf, to f until its end or a failure, with a
 * progress line on a terminal. 0 when the whole file went in. */
static int pump(const feeder *f, sdb_input *in, char *buf, size_t got, import_state *st,
                bool tty, double t0, const import_totals *tot)
{
    sdb_err err;
    double last = 0;
    for (;;) {
        if (got == 0) {
            if (f->finish(f->ctx, &err) != SDB_OK) {
                fprintf(stderr, "spandb import: %s: %s\n", st->file, err.msg);
                return 1;
            }
            break;
        }
        if (f->feed(f->ctx, buf, got, &err) != SDB_OK) {
            fprintf(stderr, "spandb import: %s: %s\n", st->file, err.msg);
            return 1;
        }
        if (st->stop) {
            f->discard(f->ctx);
            break;
        }
        if (tty && now_s() - last > 0.25) {
            progress(st->file, in, tot->rows + f->rows(f->ctx), tot->bytes + f->bytes(f->ctx), t0);
            last = now_s();
        }
        if (sdb_input_read(in, buf, READ_CHUNK, &got, &err) != SDB_OK) {
            fprintf(stderr, "%sspandb import: %s\n", tty ? "\n" : "", err.msg);
            return 1;
        }
    }
    /* --strict: the batch with the bad record is discarded above; earlier batches stay */
    return st->stop ? 1 : 0;
}

static sdb_rc ilp_feed(void *ctx, const void *p, size_t n, sdb_err *err)
{
    return sdb_ingest_feed(ctx, p, n, err);
}

static sdb_rc ilp_finish(void *ctx, sdb_err *err)
{
    return sdb_ingest_finish(ctx, err);
}

static void ilp_discard(void *ctx)
{
    sdb_ingest_discard(ctx);
}

static uint64_t ilp_rows(void *ctx)
{
    return sdb_ingest_get_stats(ctx).rows;
}

static uint64_t ilp_bytes(void *ctx)
{
    return sdb_ingest_get_stats(ctx).bytes;
}

/* One line-protocol file; buf holds its first got bytes already read. */
static int import_ilp(sdb_db *db, sdb_input *in, char *buf, size_t got, import_state *st,
                      sdb_ilp_precision prec, const char *table, bool tty, double t0,
                      import_totals *tot)
{
    sdb_ingest *ing = NULL;
    sdb_ingest_opts io;
    sdb_ingest_stats s;
    sdb_err err;
    feeder f = {ilp_feed, ilp_finish, ilp_discard, ilp_rows, ilp_bytes, NULL};
    int rc;
    memset(&io, 0, sizeof io);
    io.precision = prec;
    io.table = table;
    io.on_reject = on_reject;
    io.reject_ctx = st;
    if (sdb_ingest_create(db, &io, &ing, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s\n", err.msg);
        return 1;
    }
    f.ctx = ing;
    rc = pump(&f, in, buf, got, st, tty, t0, tot);
    s = sdb_ingest_get_stats(ing);
    tot->rows += s.written;
    tot->bytes += s.bytes;
    sdb_ingest_destroy(ing);
    return rc;
}

/* The trace importer, with the counters it had when this file began. */
typedef struct trace_file {
    sdb_import *im;
    sdb_import_stats before;
} trace_file;

static sdb_rc trace_feed(void *ctx, const void *p, size_t n, sdb_err *err)
{
    return sdb_import_feed(((trace_file *)ctx)->im, p, n, err);
}

static sdb_rc trace_finish(void *ctx, sdb_err *err)
{
    return sdb_import_end(((trace_file *)ctx)->im, err);
}

static void trace_discard(void *ctx)
{
    sdb_import_discard(((trace_file *)ctx)->im);
}

static uint64_t trace_rows(void *ctx)
{
    trace_file *t = ctx;
    sdb_import_stats s = sdb_import_get_stats(t->im);
    return s.spans + s.scores - t->before.spans - t->before.scores;
}

static uint64_t trace_bytes(void *ctx)
{
    trace_file *t = ctx;
    return sdb_import_get_stats(t->im).bytes - t->before.bytes;
}

/* One exported-trace file of format f through the importer. */
static int import_traces(sdb_import *im, sdb_input *in, char *buf, size_t got,
                         sdb_import_format f, import_state *st, bool tty, double t0,
                         import_totals *tot)
{
    trace_file tf = {im, sdb_import_get_stats(im)};
    feeder fd = {trace_feed, trace_finish, trace_discard, trace_rows, trace_bytes, &tf};
    sdb_import_stats s;
    sdb_err err;
    int rc;
    if (sdb_import_begin(im, f, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s: %s\n", st->file, err.msg);
        return 1;
    }
    rc = pump(&fd, in, buf, got, st, tty, t0, tot);
    s = sdb_import_get_stats(im);
    tot->rows += trace_rows(&tf);
    tot->scores += s.scores - tf.before.scores;
    tot->bytes += s.bytes - tf.before.bytes;
    tot->duplicates += s.duplicates - tf.before.duplicates;
    tot->costed += s.costed - tf.before.costed;
    return rc;
}

static void import_reject(void *ctx, uint64_t line, const char *reason)
{
    import_state *st = ctx;
    if (st->rejected++ < MAX_REPORTED)
        fprintf(stderr, "%s:%" PRIu64 ": %s\n", st->file, line, reason);
    else if (st->rejected == MAX_REPORTED + 1)
        fprintf(stderr, "spandb import: more rejected records are counted but not shown\n");
    if (st->strict)
        st->stop = true;
}

/* Put the files that hold evaluations first (keeping the order otherwise), so that an
 * evaluation's hallucination verdict is known when its span is read. A file that cannot be
 * opened, stdin and anything not a regular file stay where they are. */
static void evaluations_first(char **files, int n, sdb_import_format fmt, char *buf)
{
    int k = 0;
    if (n < 2)
        return;
    for (int i = 0; i < n; i++) {
        sdb_input *in = NULL;
        sdb_import_format ff = fmt;
        size_t got = 0;
        sdb_err err;
        bool evals = false;
        struct stat sb;
        /* only regular files are sniffed: a pipe or /dev/fd/N read here would lose what
           was read when the import reopens it */
        if (strcmp(files[i], "-") == 0 || stat(files[i], &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (sdb_input_open(files[i], &in, &err) == SDB_OK &&
            sdb_input_read(in, buf, READ_CHUNK, &got, &err) == SDB_OK) {
            if (ff == SDB_IMPORT_AUTO)
                ff = sdb_import_detect(files[i], buf, got);
            evals = sdb_import_holds_evaluations(ff, buf, got);
        }
        sdb_input_close(in);
        if (evals) {
            char *f = files[i];
            memmove(files + k + 1, files + k, (size_t)(i - k) * sizeof *files);
            files[k++] = f;
        }
    }
}

int sdb_cmd_import(int argc, char **argv)
{
    const char *data = "./spandb-data", *format = "auto", *table = NULL, *prices_file = NULL;
    const char *schema = NULL;
    sdb_ilp_precision prec = SDB_ILP_NS;
    bool strict = false, compact = false, dedup = true, tty = isatty(STDERR_FILENO);
    int nfiles = 0, rc = 0;
    char **files = calloc((size_t)argc, sizeof *files);
    sdb_import_format fmt = SDB_IMPORT_AUTO;
    sdb_db_opts o;
    sdb_db_open_report rep;
    char repair[512];
    sdb_db *db = NULL;
    sdb_import *im = NULL;
    sdb_prices *prices = NULL;
    sdb_err err;
    import_totals tot;
    double t0 = now_s();
    import_state st;
    char *buf = NULL;

    memset(&tot, 0, sizeof tot);
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
        } else if (strcmp(a, "--prices") == 0 && i + 1 < argc) {
            prices_file = argv[++i];
        } else if (strcmp(a, "--dedup") == 0 && i + 1 < argc) {
            const char *d = argv[++i];
            if (strcmp(d, "span_id") == 0)
                dedup = true;
            else if (strcmp(d, "none") == 0)
                dedup = false;
            else {
                fprintf(stderr, "spandb import: --dedup takes span_id or none, not '%s'\n", d);
                free(files);
                return 2;
            }
        } else if (strcmp(a, "--schema") == 0 && i + 1 < argc) {
            schema = argv[++i];
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
    if (!sdb_import_format_parse(format, &fmt)) {
        fprintf(stderr,
                "spandb import: unknown format '%s' (auto, ilp, otlp-json, langfuse, langsmith, phoenix, csv)\n",
                format);
        free(files);
        return 2;
    }
    if (prices_file == NULL) {
        if (sdb_prices_default(&prices, &err) != SDB_OK) {
            fprintf(stderr, "spandb import: built-in price table: %s\n", err.msg);
            free(files);
            return 1;
        }
    } else if (strcmp(prices_file, "none") != 0 &&
               sdb_prices_load_file(prices_file, &prices, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s\n", err.msg);
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
        sdb_prices_destroy(prices);
        free(files);
        return 1;
    }
    sdb_db_open_report_text(&rep, repair, sizeof repair);
    if (repair[0] != '\0')
        fprintf(stderr, "spandb import: %s: %s\n", data, repair);
    if ((buf = malloc(READ_CHUNK)) == NULL) {
        fprintf(stderr, "spandb import: out of memory\n");
        sdb_db_close(db, NULL);
        sdb_prices_destroy(prices);
        free(files);
        return 1;
    }
    evaluations_first(files, nfiles, fmt, buf);
    for (int f = 0; f < nfiles && rc == 0; f++) {
        sdb_input *in = NULL;
        sdb_import_format ff = fmt;
        size_t got = 0;
        memset(&st, 0, sizeof st);
        st.file = strcmp(files[f], "-") == 0 ? "<stdin>" : files[f];
        st.strict = strict;
        if (sdb_input_open(files[f], &in, &err) != SDB_OK ||
            sdb_input_read(in, buf, READ_CHUNK, &got, &err) != SDB_OK) {
            fprintf(stderr, "spandb import: %s\n", err.msg);
            sdb_input_close(in);
            rc = 1;
            break;
        }
        if (ff == SDB_IMPORT_AUTO)
            ff = sdb_import_detect(files[f], buf, got);
        if (ff == SDB_IMPORT_ILP) {
            rc = import_ilp(db, in, buf, got, &st, prec, table, tty, t0, &tot);
        } else {
            if (im == NULL) {
                sdb_import_opts io;
                memset(&io, 0, sizeof io);
                io.prices = prices;
                io.dedup = dedup;
                io.table = table;
                io.schema = schema;
                io.on_reject = import_reject;
                if (sdb_import_create(db, &io, &im, &err) != SDB_OK) {
                    fprintf(stderr, "spandb import: %s\n", err.msg);
                    sdb_input_close(in);
                    rc = 1;
                    break;
                }
            }
            sdb_import_set_reject_ctx(im, &st);
            rc = import_traces(im, in, buf, got, ff, &st, tty, t0, &tot);
        }
        tot.rejected += st.rejected;
        sdb_input_close(in);
        if (tty)
            fprintf(stderr, "\r\033[K");
    }
    sdb_import_destroy(im);
    sdb_prices_destroy(prices);
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
        char r[32], rs[32], extra[160] = "";
        sdb_db_get_stats(db, &ds);
        human(r, sizeof r, (double)tot.rows);
        human(rs, sizeof rs, el > 0 ? (double)tot.rows / el : 0);
        if (tot.scores > 0 || tot.duplicates > 0 || tot.costed > 0)
            snprintf(extra, sizeof extra,
                     " (%" PRIu64 " scores, %" PRIu64 " duplicate spans skipped, %" PRIu64
                     " costs from the price table)",
                     tot.scores, tot.duplicates, tot.costed);
        fprintf(stderr,
                "imported %s rows%s (%" PRIu64 " rejected) from %d file%s, %.1f MB, in %.2f s: "
                "%s rows/s; %s now holds %" PRIu64 " rows in %" PRIu64 " segments, %.1f MB "
                "(%.1f bytes/row)\n",
                r, extra, tot.rejected, nfiles, nfiles == 1 ? "" : "s", (double)tot.bytes / 1e6,
                el, rs, data, ds.segment_rows, ds.segments, (double)ds.segment_bytes / 1e6,
                ds.segment_rows ? (double)ds.segment_bytes / (double)ds.segment_rows : 0.0);
    }
    if (sdb_db_close(db, &err) != SDB_OK) {
        fprintf(stderr, "spandb import: %s\n", err.msg);
        rc = 1;
    }
    free(files);
    if (rc == 0 && tot.rejected > 0)
        rc = 1;
    return rc;
}
