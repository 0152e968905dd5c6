/* bench_exec: the execution core over synthetic span segments. Writes N rows (argv[1],
 * default 10,000,000; SPANDB_BENCH_ROWS too) as segments of 1M rows in a temporary
 * directory, then times five queries (median of 5 runs after one warm-up) and prints rows
 * scanned per second. argv[2]: worker threads (default: all cores). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "query/exec.h"
#include "storage/segment.h"

#define SEG_ROWS 1000000ull

enum { C_TIME, C_DUR, C_MODEL, C_EP, C_STATUS, C_TRACE, C_COST, NCOLS };
static const char *const names[NCOLS] = {"time", "duration_ms", "model", "endpoint", "status",
                                         "trace_id", "cost_usd"};
static const sdb_type types[NCOLS] = {SDB_TYPE_TIMESTAMP, SDB_TYPE_FLOAT64, SDB_TYPE_SYMBOL,
                                      SDB_TYPE_SYMBOL, SDB_TYPE_SYMBOL, SDB_TYPE_STRING,
                                      SDB_TYPE_FLOAT64};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void die(const sdb_err *err)
{
    fprintf(stderr, "bench_exec: %s\n", err->msg);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char lookup_id[40];
static uint64_t lookup_row;

static void write_segment(const char *path, uint64_t first, uint64_t rows, uint64_t *seed)
{
    static const char *models[] = {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "o3-mini",
                                   "gemini-2.0-flash", "llama-3.1-70b", "mistral-large"};
    static const char *eps[] = {"/chat", "/embed", "/rag", "/agent", "/tool", "/summarize"};
    sdb_batch b;
    sdb_err err;
    sdb_seg_opts o;
    sdb_column *c[NCOLS];
    int idx;
    sdb_batch_init(&b);
    for (int k = 0; k < NCOLS; k++) {
        if (sdb_batch_add(&b, names[k], strlen(names[k]), types[k], &idx, &err) != SDB_OK)
            die(&err);
        c[k] = &b.cols[idx];
        if (sdb_column_reserve(c[k], rows, &err) != SDB_OK)
            die(&err);
    }
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t x = rnd(seed), y = rnd(seed);
        char id[40];
        int64_t t = 1767225600000000000LL + (int64_t)(first + r) * 10000000LL; /* 100/s */
        double u = ((double)(x >> 11) + 1) / 9007199254740993.0;
        double g = sqrt(-2 * log(u)) * cos((double)(y % 6283) / 1000.0);
        int n = snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)x,
                         (unsigned long long)y);
        if (first + r == lookup_row)
            memcpy(lookup_id, id, (size_t)n + 1);
        if (sdb_column_push_i64(c[C_TIME], t, &err) ||
            sdb_column_push_f64(c[C_DUR], exp(6 + 0.8 * g), &err) ||
            sdb_column_push_str(c[C_MODEL], models[x % 7], strlen(models[x % 7]), &err) ||
            sdb_column_push_str(c[C_EP], eps[(x >> 8) % 6], strlen(eps[(x >> 8) % 6]), &err) ||
            sdb_column_push_str(c[C_STATUS], (y % 50) ? "ok" : "error", (y % 50) ? 2 : 5, &err) ||
            sdb_column_push_str(c[C_TRACE], id, (size_t)n, &err) ||
            sdb_column_push_f64(c[C_COST], (double)(y % 100000) * 1e-7, &err))
            die(&err);
        b.nrows++;
    }
    sdb_seg_opts_default(&o);
    o.no_sync = true;
    if (sdb_seg_write(path, &b, NULL, &o, NULL, &err) != SDB_OK)
        die(&err);
    sdb_batch_free(&b);
}

typedef struct bq {
    const char *name;
    sdb_query_spec sp;
} bq;

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint64_t rows = 10000000, seed = 0x1234567;
    unsigned threads = 0;
    char dir[] = "/tmp/bench_exec_XXXXXX";
    sdb_err err;
    const char *env = getenv("SPANDB_BENCH_ROWS");
    if (argc > 1)
        rows = strtoull(argv[1], NULL, 10);
    else if (env != NULL)
        rows = strtoull(env, NULL, 10);
    if (argc > 2)
        threads = (unsigned)atoi(argv[2]);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    lookup_row = rows * 7 / 10 + 3;
    uint32_t nsegs = (uint32_t)((rows + SEG_ROWS - 1) / SEG_ROWS);
    sdb_seg **segs = calloc(nsegs, sizeof *segs);
    double t0 = now_s();
    for (uint32_t s = 0; s < nsegs; s++) {
        char path[256];
        uint64_t n = rows - (uint64_t)s * SEG_ROWS < SEG_ROWS ? rows - (uint64_t)s * SEG_ROWS
                                                              : SEG_ROWS;
        snprintf(path, sizeof path, "%s/%u.seg", dir, s);
        write_segment(path, (uint64_t)s * SEG_ROWS, n, &seed);
        if (sdb_seg_open(path, &segs[s], &err) != SDB_OK)
            die(&err);
    }
    double twrite = now_s() - t0;
    sdb_table_snap snap = {.table = "spans", .ncols = NCOLS, .names = names, .types = types,
                           .nsegs = nsegs, .segs = segs};
    sdb_qmem m;
    if (sdb_qmem_init(&m, (size_t)1 << 30, &err) != SDB_OK)
        die(&err);
    sdb_pexpr *model = sdb_pexpr_col(&m, C_MODEL, SDB_TYPE_SYMBOL, &err);
    sdb_pexpr *ep = sdb_pexpr_col(&m, C_EP, SDB_TYPE_SYMBOL, &err);
    sdb_pexpr *dur = sdb_pexpr_col(&m, C_DUR, SDB_TYPE_FLOAT64, &err);
    sdb_pexpr *cost = sdb_pexpr_col(&m, C_COST, SDB_TYPE_FLOAT64, &err);
    sdb_pexpr *hour = sdb_pexpr_make(&m, SDB_PX_DATE_TRUNC,
        (sdb_pexpr *[]){sdb_pexpr_str(&m, "hour", &err),
                        sdb_pexpr_col(&m, C_TIME, SDB_TYPE_TIMESTAMP, &err)}, 2, &err);
    sdb_pexpr *iserr = sdb_pexpr_op2(&m, SDB_PX_EQ, sdb_pexpr_col(&m, C_STATUS, SDB_TYPE_SYMBOL, &err),
                                     sdb_pexpr_str(&m, "error", &err), &err);
    sdb_pexpr *lookup = sdb_pexpr_op2(&m, SDB_PX_EQ, sdb_pexpr_col(&m, C_TRACE, SDB_TYPE_STRING, &err),
                                      sdb_pexpr_str(&m, lookup_id, &err), &err);
    sdb_pexpr *scanall = sdb_pexpr_op2(&m, SDB_PX_GE, dur, sdb_pexpr_f64(&m, 0, &err), &err);
    if (hour == NULL || iserr == NULL || lookup == NULL || scanall == NULL)
        die(&err);
    /* rate = count_if / count, over the aggregation output (hour, count_if, count) */
    sdb_pexpr *rate = sdb_pexpr_op2(&m, SDB_PX_DIV,
        sdb_pexpr_cast(&m, sdb_pexpr_col(&m, 1, SDB_TYPE_INT64, &err), SDB_TYPE_FLOAT64, &err),
        sdb_pexpr_col(&m, 2, SDB_TYPE_INT64, &err), &err);
    sdb_pexpr *hour_out = sdb_pexpr_col(&m, 0, SDB_TYPE_TIMESTAMP, &err);
    const sdb_pexpr *rate_outs[2] = {hour_out, rate};
    static sdb_aggspec a_count = {.kind = SDB_AGG_COUNT_STAR};
    sdb_aggspec a_p99 = {.kind = SDB_AGG_QUANTILE, .arg = dur, .q = 0.99};
    sdb_aggspec a_sum = {.kind = SDB_AGG_SUM, .arg = cost};
    sdb_aggspec a_rate[2] = {{.kind = SDB_AGG_COUNT_IF, .arg = iserr}, {.kind = SDB_AGG_COUNT_STAR}};
    const sdb_pexpr *g_model[1] = {model}, *g_me[2] = {model, ep}, *g_hour[1] = {hour};
    bq qs[] = {
        {"count(*)", {.naggs = 1, .aggs = &a_count}},
        {"count(*) where duration_ms >= 0", {.where = scanall, .naggs = 1, .aggs = &a_count}},
        {"p99(duration_ms) by model", {.ngroup = 1, .group = g_model, .naggs = 1, .aggs = &a_p99}},
        {"sum(cost_usd) by model, endpoint",
         {.ngroup = 2, .group = g_me, .naggs = 1, .aggs = &a_sum}},
        {"error rate by hour", {.ngroup = 1, .group = g_hour, .naggs = 2, .aggs = a_rate,
                                .nout = 2, .out = rate_outs}},
        {"trace_id point lookup", {.where = lookup, .naggs = 1, .aggs = &a_count}},
    };
    printf("bench_exec: %llu rows in %u segments written in %.1f s; threads %u\n\n",
           (unsigned long long)rows, nsegs, twrite, threads);
    printf("| %-34s | %9s | %12s | %14s | %8s | %7s |\n", "query", "ms (med)", "rows scanned",
           "rows/s", "blocks", "result");
    printf("|%s|%s|%s|%s|%s|%s|\n", "------------------------------------", "-----------",
           "--------------", "----------------", "----------", "---------");
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double times[5];
        sdb_exec_stats st;
        uint64_t nres = 0;
        qs[k].sp.snap = &snap;
        qs[k].sp.threads = threads;
        for (int run = 0; run < 6; run++) {
            sdb_result *r;
            double s = now_s();
            if (sdb_exec_run(&m, &qs[k].sp, &r, &st, &err) != SDB_OK)
                die(&err);
            if (run > 0)
                times[run - 1] = now_s() - s;
            nres = r->nrows;
            sdb_result_destroy(r);
        }
        qsort(times, 5, sizeof *times, cmpd);
        uint64_t scanned = st.rows + st.mem_rows;
        if (st.from_metadata)
            scanned = rows; /* answered for all rows without reading them */
        printf("| %-34s | %9.2f | %12llu | %14.0f | %3llu/%-4llu | %7llu |\n", qs[k].name,
               times[2] * 1e3, (unsigned long long)scanned, (double)scanned / times[2],
               (unsigned long long)st.blocks,
               (unsigned long long)(st.blocks + st.blocks_skipped),
               (unsigned long long)nres);
    }
    sdb_qmem_free(&m);
    for (uint32_t s = 0; s < nsegs; s++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%u.seg", dir, s);
        sdb_seg_close(segs[s]);
        unlink(path);
    }
    rmdir(dir);
    free(segs);
    return 0;
}
