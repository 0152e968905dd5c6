/* spandb bench: run the SQL statements of benchmark files in-process, each several times after
 * a warm-up, and print per statement the median wall time, the CPU time of the process (all
 * threads), the rows scanned and a checksum of the result. Timing happens inside one process
 * around sdb_run_sql (parse, plan, execute), so process start-up and opening the data
 * directory are not counted; the result is rendered (for the checksum) outside the timing.
 *
 * File format: statements end with ';' (outside quotes and comments). A comment line
 * "-- name: NAME" before a statement names it (default q1, q2... by position); every other
 * comment is ignored, which is how benchmarks/sql/dashboard.sql carries DuckDB's dialect
 * ("-- duckdb: ...") beside ours for benchmarks/duckdb/run.mjs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/db.h"
#include "engine/result_fmt.h"
#include "engine/run.h"
#include "storage/common/buf.h"
#include "storage/common/hash.h"
#include "storage/common/timefmt.h"
#include "tools/args.h"
#include "tools/commands.h"

#define BENCH_FILE_MAX   ((size_t)4 << 20) /* bytes of one benchmark file */
#define BENCH_STMT_MAX   1024              /* statements of all files */
#define BENCH_NAME_MAX   64                /* bytes of a statement name */
#define BENCH_RUNS_MAX   1000
#define BENCH_FILTER_MAX 64                /* --query options */

typedef struct bench_stmt {
    char name[BENCH_NAME_MAX]; /* from "-- name:", else "q<N>" */
    char *sql;                 /* owned, NUL-terminated, without the ';' */
    size_t len;                /* bytes of sql */
    const char *file;          /* where it came from (argv) */
    unsigned line;             /* 1-based line of its first token */
} bench_stmt;

typedef struct bench_opts {
    const char *data;          /* data directory */
    unsigned runs;             /* timed runs per statement (>= 1) */
    unsigned warmup;           /* untimed runs before them */
    unsigned threads;          /* 0: number of cores */
    size_t query_memory;       /* 0: the default bound */
    int64_t now_ns;            /* now() for every run (0: wall clock) */
    bool jsonl;                /* one JSON object per statement instead of a table */
    uint64_t max_rows;         /* result rows written in jsonl */
    const char *filter[BENCH_FILTER_MAX]; /* --query names; none: all */
    unsigned nfilter;
} bench_opts;

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: spandb bench [--data DIR] [--runs N] [--warmup N] [--threads N]\n"
            "                    [--query-memory BYTES] [--query NAME]... [--now ISO]\n"
            "                    [--format table|jsonl]\n"
            "                    [--max-rows N] FILE.sql...\n\n"
            "Run every statement of the files (';'-terminated; a '-- name: NAME' comment line\n"
            "names the next one) N times (default 5) after the warm-up runs (default 1), in\n"
            "this process, and print per statement the median and minimum wall time, the\n"
            "median CPU time of all threads, rows scanned per second and a checksum of the\n"
            "result (XXH3 of its CSV). --query runs only the named statements. jsonl also\n"
            "writes the runs and the first --max-rows (default 1000) result rows.\n");
}

static double now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the process (every thread), user + system. */
static double cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n <= BENCH_RUNS_MAX values (v is left as it is). */
static double median(const double *v, unsigned n)
{
    double s[BENCH_RUNS_MAX];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    size_t n = 0;
    if (f == NULL) {
        fprintf(stderr, "spandb bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if ((p = malloc(BENCH_FILE_MAX + 1)) == NULL) {
        fclose(f);
        fprintf(stderr, "spandb bench: no memory to read %s\n", path);
        return -1;
    }
    n = fread(p, 1, BENCH_FILE_MAX + 1, f);
    if (ferror(f) || n > BENCH_FILE_MAX) {
        fprintf(stderr, "spandb bench: %s: %s\n", path,
                ferror(f) ? "read error" : "larger than 4 MiB");
        fclose(f);
        free(p);
        return -1;
    }
    fclose(f);
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
}

/* "-- name: foo" at p (the comment's first '-'): copy foo into name. */
static void comment_name(const char *p, const char *end, char name[BENCH_NAME_MAX])
{
    static const char key[] = "name:";
    size_t k = 0;
    p += 2;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < sizeof key - 1 || memcmp(p, key, sizeof key - 1) != 0)
        return;
    p += sizeof key - 1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (p < end && *p != '\n' && *p != '\r' && *p != ' ' && *p != '\t' &&
           k + 1 < BENCH_NAME_MAX)
        name[k++] = *p++;
    name[k] = '\0';
}

/* Split text into statements appended to st (count *n). Returns -1 on a bad file. */
static int split_statements(const char *file, const char *text, size_t len, bench_stmt *st,
                            unsigned *n)
{
    const char *p = text, *end = text + len, *start = NULL;
    char name[BENCH_NAME_MAX] = "";
    unsigned line = 1, start_line = 0;
    while (p <= end) {
        if (p == end || *p == ';') {
            if (start != NULL) {
                const char *e = p;
                bench_stmt *s;
                while (e > start && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                                     e[-1] == '\r'))
                    e--;
                if (*n >= BENCH_STMT_MAX) {
                    fprintf(stderr, "spandb bench: more than %d statements\n", BENCH_STMT_MAX);
                    return -1;
                }
                s = &st[*n];
                memset(s, 0, sizeof *s);
                s->len = (size_t)(e - start);
                if ((s->sql = malloc(s->len + 1)) == NULL) {
                    fprintf(stderr, "spandb bench: no memory\n");
                    return -1;
                }
                memcpy(s->sql, start, s->len);
                s->sql[s->len] = '\0';
                if (name[0] != '\0')
                    snprintf(s->name, sizeof s->name, "%s", name);
                else
                    snprintf(s->name, sizeof s->name, "q%u", *n + 1);
                s->file = file;
                s->line = start_line;
                (*n)++;
            }
            start = NULL;
            name[0] = '\0';
            if (p == end)
                break;
            p++;
            continue;
        }
        if (*p == '-' && p + 1 < end && p[1] == '-') {
            const char *eol = memchr(p, '\n', (size_t)(end - p));
            if (eol == NULL)
                eol = end;
            if (start == NULL)
                comment_name(p, eol, name);
            p = eol;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            char q = *p;
            unsigned at = line;
            if (start == NULL) {
                start = p;
                start_line = line;
            }
            for (p++; p < end && *p != q; p++)
                if (*p == '\n')
                    line++;
            if (p == end) {
                fprintf(stderr, "spandb bench: %s:%u: unterminated %s\n", file, at,
                        q == '\'' ? "string" : "quoted name");
                return -1;
            }
            p++; /* a doubled quote ('') is two strings back to back: same split */
            continue;
        }
        if (*p == '\n')
            line++;
        else if (start == NULL && *p != ' ' && *p != '\t' && *p != '\r') {
            start = p;
            start_line = line;
        }
        p++;
    }
    return 0;
}

static bool selected(const bench_opts *o, const char *name)
{
    if (o->nfilter == 0)
        return true;
    for (unsigned i = 0; i < o->nfilter; i++)
        if (strcmp(o->filter[i], name) == 0)
            return true;
    return false;
}

/* Print s as a JSON string. */
static void put_json_string(const char *s, size_t n)
{
    sdb_buf b = SDB_BUF_INIT;
    if (sdb_json_string(s, n, &b, NULL) == SDB_OK)
        fwrite(b.data, 1, b.len, stdout);
    sdb_buf_free(&b);
}

static void put_json_result(const sdb_result *r, uint64_t max_rows)
{
    sdb_buf b = SDB_BUF_INIT;
    uint64_t nrows = r->nrows < max_rows ? r->nrows : max_rows;
    fputs("\"columns\":[", stdout);
    for (uint32_t c = 0; c < r->ncols; c++) {
        if (c > 0)
            putchar(',');
        put_json_string(r->names[c], strlen(r->names[c]));
    }
    fputs("],\"rows\":[", stdout);
    for (uint64_t i = 0; i < nrows; i++) {
        b.len = 0;
        if (sdb_buf_append(&b, i > 0 ? ",[" : "[", i > 0 ? 2 : 1, NULL) != SDB_OK)
            break;
        for (uint32_t c = 0; c < r->ncols; c++) {
            if (c > 0 && sdb_buf_append(&b, ",", 1, NULL) != SDB_OK)
                break;
            if (sdb_value_json(sdb_result_at(r, i, c), &b, NULL) != SDB_OK)
                break;
        }
        if (sdb_buf_append(&b, "]", 1, NULL) != SDB_OK)
            break;
        fwrite(b.data, 1, b.len, stdout);
    }
    putchar(']');
    sdb_buf_free(&b);
}

/* Run one statement: warm-up, timed runs, report. Returns 0, or 1 when it failed. */
static int bench_one(sdb_db *db, const bench_stmt *s, const bench_opts *o)
{
    double wall[BENCH_RUNS_MAX], cpu[BENCH_RUNS_MAX], wmed, wmin, wmax, cmed;
    sdb_run_opts ro;
    sdb_run_result res;
    sdb_exec_stats stats;
    sdb_buf csv = SDB_BUF_INIT;
    sdb_result *last = NULL;
    sdb_err err;
    uint64_t checksum = 0, nrows = 0;
    memset(&ro, 0, sizeof ro);
    memset(&stats, 0, sizeof stats);
    ro.threads = o->threads;
    ro.query_memory = o->query_memory;
    ro.now_ns = o->now_ns;
    for (unsigned i = 0; i < o->warmup + o->runs; i++) {
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = cpu_ms(), w1, c1;
        sdb_rc rc = sdb_run_sql(db, s->sql, s->len, &ro, &res, &err);
        w1 = now_ms(CLOCK_MONOTONIC);
        c1 = cpu_ms();
        if (rc != SDB_OK) {
            if (o->jsonl) {
                fputs("{\"name\":", stdout);
                put_json_string(s->name, strlen(s->name));
                fputs(",\"error\":", stdout);
                put_json_string(err.msg, strlen(err.msg));
                fputs("}\n", stdout);
            }
            fprintf(stderr, "spandb bench: %s (%s:%u): %s\n", s->name, s->file, s->line,
                    err.msg);
            sdb_result_destroy(last);
            return 1;
        }
        if (i >= o->warmup) {
            wall[i - o->warmup] = w1 - w0;
            cpu[i - o->warmup] = c1 - c0;
        }
        stats = res.stats;
        sdb_result_destroy(last);
        last = res.rows;
        res.rows = NULL;
        sdb_run_result_free(&res);
    }
    if (last != NULL) {
        nrows = last->nrows;
        if (sdb_result_format(last, SDB_FMT_CSV, &csv, &err) == SDB_OK)
            checksum = sdb_hash64(csv.data, csv.len);
    }
    wmed = median(wall, o->runs);
    wmin = wmax = wall[0];
    for (unsigned i = 1; i < o->runs; i++) {
        wmin = wall[i] < wmin ? wall[i] : wmin;
        wmax = wall[i] > wmax ? wall[i] : wmax;
    }
    cmed = median(cpu, o->runs);
    if (o->jsonl) {
        fputs("{\"name\":", stdout);
        put_json_string(s->name, strlen(s->name));
        printf(",\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,\"cpu_ms\":%.3f,\"ms\":[",
               wmed, wmin, wmax, cmed);
        for (unsigned i = 0; i < o->runs; i++)
            printf("%s%.3f", i ? "," : "", wall[i]);
        printf("],\"rows_scanned\":%" PRIu64 ",\"rows_skipped\":%" PRIu64
               ",\"segments\":%" PRIu64 ",\"segments_skipped\":%" PRIu64 ",\"blocks\":%" PRIu64
               ",\"blocks_skipped\":%" PRIu64 ",\"threads\":%u,\"result_rows\":%" PRIu64
               ",\"checksum\":\"%016" PRIx64 "\"",
               stats.rows, stats.rows_skipped, stats.segments, stats.segments_skipped,
               stats.blocks, stats.blocks_skipped, stats.threads, nrows, checksum);
        if (last != NULL) {
            putchar(',');
            put_json_result(last, o->max_rows);
        }
        fputs("}\n", stdout);
    } else {
        double mrows = wmed > 0 ? (double)stats.rows / wmed / 1e3 : 0;
        printf("%-28s %10.1f %10.1f %10.1f %12" PRIu64 " %10.1f %8" PRIu64 "  %016" PRIx64 "\n",
               s->name, wmed, wmin, cmed, stats.rows, mrows, nrows, checksum);
    }
    fflush(stdout);
    sdb_result_destroy(last);
    sdb_buf_free(&csv);
    return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int sdb_cmd_bench(int argc, char **argv)
{
    bench_opts o;
    const char *files[64];
    unsigned nfiles = 0, nst = 0, failed = 0, ran = 0;
    bench_stmt *st = NULL;
    sdb_db_opts dbo;
    sdb_db *db = NULL;
    sdb_err err;
    int rc = 0;
    memset(&o, 0, sizeof o);
    o.data = "./spandb-data";
    o.runs = 5;
    o.warmup = 1;
    o.max_rows = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned u;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bench_usage(stdout);
            return 0;
        } else if (strcmp(a, "--data") == 0 && v != NULL) {
            o.data = v;
            i++;
        } else if (strcmp(a, "--runs") == 0 && v != NULL) {
            if (parse_uint(v, 1, BENCH_RUNS_MAX, &o.runs) != 0) {
                fprintf(stderr, "spandb bench: --runs takes 1..%d, not '%s'\n", BENCH_RUNS_MAX, v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--warmup") == 0 && v != NULL) {
            if (parse_uint(v, 0, BENCH_RUNS_MAX, &o.warmup) != 0) {
                fprintf(stderr, "spandb bench: --warmup takes 0..%d, not '%s'\n", BENCH_RUNS_MAX,
                        v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--threads") == 0 && v != NULL) {
            if (parse_uint(v, 0, 1024, &o.threads) != 0) {
                fprintf(stderr, "spandb bench: --threads takes 0..1024, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--query-memory") == 0 && v != NULL) {
            if (sdb_parse_bytes(v, &o.query_memory) != 0) {
                fprintf(stderr, "spandb bench: --query-memory takes a size like 4G, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--max-rows") == 0 && v != NULL) {
            if (parse_uint(v, 0, 100000000, &u) != 0) {
                fprintf(stderr, "spandb bench: --max-rows takes a count, not '%s'\n", v);
                return 2;
            }
            o.max_rows = u;
            i++;
        } else if (strcmp(a, "--query") == 0 && v != NULL) {
            if (o.nfilter == BENCH_FILTER_MAX) {
                fprintf(stderr, "spandb bench: at most %d --query options\n", BENCH_FILTER_MAX);
                return 2;
            }
            o.filter[o.nfilter++] = v;
            i++;
        } else if (strcmp(a, "--now") == 0 && v != NULL) {
            if (sdb_time_parse(v, strlen(v), &o.now_ns, &err) != SDB_OK) {
                fprintf(stderr, "spandb bench: --now: %s\n", err.msg);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--format") == 0 && v != NULL) {
            if (strcmp(v, "jsonl") == 0) {
                o.jsonl = true;
            } else if (strcmp(v, "table") != 0) {
                fprintf(stderr, "spandb bench: --format takes table or jsonl, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "spandb bench: unknown option '%s'\n\n", a);
            bench_usage(stderr);
            return 2;
        } else if (nfiles < sizeof files / sizeof files[0]) {
            files[nfiles++] = a;
        } else {
            fprintf(stderr, "spandb bench: at most %zu files\n", sizeof files / sizeof files[0]);
            return 2;
        }
    }
    if (nfiles == 0) {
        bench_usage(stderr);
        return 2;
    }
    if ((st = calloc(BENCH_STMT_MAX, sizeof *st)) == NULL) {
        fprintf(stderr, "spandb bench: no memory\n");
        return 1;
    }
    for (unsigned f = 0; f < nfiles; f++) {
        char *text;
        size_t len;
        int r;
        if (read_file(files[f], &text, &len) != 0) {
            rc = 1;
            goto done;
        }
        r = split_statements(files[f], text, len, st, &nst);
        free(text);
        if (r != 0) {
            rc = 1;
            goto done;
        }
    }
    if (nst == 0) {
        fprintf(stderr, "spandb bench: no statements in %s%s\n", files[0], nfiles > 1 ? "..." : "");
        rc = 2;
        goto done;
    }
    for (unsigned i = 0; i < o.nfilter; i++) {
        bool found = false;
        for (unsigned j = 0; j < nst && !found; j++)
            found = strcmp(st[j].name, o.filter[i]) == 0;
        if (!found) {
            fprintf(stderr, "spandb bench: no statement named '%s'\n", o.filter[i]);
            rc = 2;
            goto done;
        }
    }
    sdb_db_opts_default(&dbo);
    dbo.read_only = true;
    if (sdb_db_open(o.data, &dbo, &db, NULL, &err) != SDB_OK) {
        fprintf(stderr, "spandb bench: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    if (!o.jsonl) {
        printf("%s: %u timed run%s after %u warm-up, median\n", o.data, o.runs,
               o.runs == 1 ? "" : "s", o.warmup);
        printf("%-28s %10s %10s %10s %12s %10s %8s  %-16s\n", "query", "ms", "min ms",
               "cpu ms", "rows scanned", "Mrows/s", "rows", "checksum");
    }
    for (unsigned i = 0; i < nst; i++) {
        if (!selected(&o, st[i].name))
            continue;
        failed += (unsigned)bench_one(db, &st[i], &o);
        ran++;
    }
    if (!o.jsonl)
        printf("(%u statement%s, %u failed)\n", ran, ran == 1 ? "" : "s", failed);
    if (failed > 0)
        rc = 1;
done:
    if (db != NULL && sdb_db_close(db, &err) != SDB_OK) {
        fprintf(stderr, "spandb bench: %s\n", err.msg);
        rc = 1;
    }
    for (unsigned i = 0; i < nst; i++)
        free(st[i].sql);
    free(st);
    return rc;
}
