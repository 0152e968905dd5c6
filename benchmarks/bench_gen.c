/* Benchmark of `spandb gen`: rows/s and MB/s of the generator alone and of the generator plus
 * each writer, on one core, in chunks of 8192 rows (the command's default). Prints one table
 * and a checksum of the output bytes (XXH3) so a fast but wrong build is visible.
 * usage: bench_gen [ROWS] (default 1000000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "engine/gen.h"

enum { W_NONE, W_ILP, W_CSV, W_OTLP };

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall and CPU seconds (the CPU time is what one core needs when the machine is shared). */
static int run(int which, uint64_t rows, double *secs, double *cpu, uint64_t *bytes,
               uint64_t *sum)
{
    sdb_gen_opts o;
    sdb_gen *g = NULL;
    sdb_batch b;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    uint64_t added, chunk = which == W_OTLP ? 1000 : 8192;
    double t0, c0;
    XXH3_state_t *h = XXH3_createState();
    sdb_gen_opts_default(&o);
    o.rows = rows;
    o.seed = 1;
    if (h == NULL || sdb_gen_create(&o, &g, &err) != SDB_OK)
        return -1;
    XXH3_64bits_reset(h);
    sdb_batch_init(&b);
    *bytes = 0;
    t0 = now_s(CLOCK_MONOTONIC);
    c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    for (;;) {
        sdb_rc rc = SDB_OK;
        sdb_batch_clear(&b);
        if (sdb_gen_next(g, chunk, &b, &added, &err) != SDB_OK)
            return -1;
        if (added == 0)
            break;
        if (which == W_ILP)
            rc = sdb_gen_write_ilp(&b, &out, &err);
        else if (which == W_CSV)
            rc = sdb_gen_write_csv(&b, &out, &err);
        else if (which == W_OTLP)
            rc = sdb_gen_write_otlp_json(&b, &out, &err);
        if (rc != SDB_OK) {
            fprintf(stderr, "bench_gen: %s\n", err.msg);
            return -1;
        }
        *bytes += out.len;
        XXH3_64bits_update(h, out.data, out.len);
        sdb_buf_reset(&out);
    }
    *secs = now_s(CLOCK_MONOTONIC) - t0;
    *cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *sum = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    sdb_buf_free(&out);
    sdb_batch_free(&b);
    sdb_gen_destroy(g);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"gen only", "gen + ilp", "gen + csv", "gen + otlp-json"};
    uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    if (rows == 0)
        rows = 1000000;
    printf("| %-16s | %10s | %9s | %9s | %12s | %12s | %8s | %10s | %-16s |\n", "what", "rows",
           "wall ms", "cpu ms", "rows/s", "rows/cpu-s", "MB/s", "bytes/span", "xxh3");
    printf("|------------------|------------|-----------|-----------|--------------|--------------|"
           "----------|------------|------------------|\n");
    for (int w = W_NONE; w <= W_OTLP; w++) {
        double secs, cpu;
        uint64_t bytes, sum;
        if (run(w, rows, &secs, &cpu, &bytes, &sum) != 0) {
            fprintf(stderr, "bench_gen: %s failed\n", names[w]);
            return 1;
        }
        printf("| %-16s | %10llu | %9.1f | %9.1f | %12.0f | %12.0f | %8.1f | %10.1f | %016llx |\n",
               names[w], (unsigned long long)rows, secs * 1e3, cpu * 1e3, (double)rows / secs,
               (double)rows / cpu, (double)bytes / secs / 1e6, (double)bytes / (double)rows,
               (unsigned long long)sum);
    }
    return 0;
}
