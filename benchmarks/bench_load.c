/* bench_load: a bounded load test of spandb serve. Starts the server in-process on an
 * ephemeral 127.0.0.1 port over a fresh data directory, then for --seconds (default 60)
 * runs --writers (8) connections streaming generated spans (engine/gen.h) in batches of
 * 5,000 lines, each batch acknowledged by FLUSH, and --readers (8) dashboard connections
 * running the query suite below in a loop, all through the TCP line protocol
 * (engine/client.h). Prints one table: ingest rows/s, query count and P50/P99 latency under
 * load, errors and rows lost (acknowledged rows missing from count(*) at the end). Exits 1
 * when errors or rows lost are not 0, so a short run (--seconds 2) is also a smoke test. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/client.h"
#include "engine/gen.h"
#include "engine/server.h"

#define BATCH     5000
#define MAX_LAT   200000

static const char *const suite[] = {
    "SELECT model, count(*), p50(duration_ms), p99(duration_ms) FROM spans GROUP BY model",
    "SELECT model, sum(cost_usd) AS cost FROM spans GROUP BY model ORDER BY cost DESC",
    "SELECT endpoint, count_if(status = 'error') AS errors, count(*) AS n FROM spans "
    "GROUP BY endpoint ORDER BY errors DESC LIMIT 10",
    "SELECT time_bucket(INTERVAL '1 hour', time) AS t, count(*), p95(ttft_ms) FROM spans "
    "GROUP BY t ORDER BY t",
    "SELECT prompt_version, avg(hallucination), avg(relevance) FROM spans "
    "WHERE span_kind = 'llm' GROUP BY prompt_version",
    "SELECT user_id, sum(cost_usd) AS c FROM spans GROUP BY user_id ORDER BY c DESC LIMIT 10",
};

static char addr[64];
static atomic_bool stop_flag;
static atomic_uint_fast64_t acked_rows, errors, nqueries;
static double lat[MAX_LAT];
static atomic_uint nlat;

/* The first few errors are printed; all are counted. */
static void report(const char *what, const char *msg)
{
    static atomic_uint printed;
    if (atomic_fetch_add(&printed, 1) < 5)
        fprintf(stderr, "bench_load: %s: %s\n", what, msg);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *writer(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    sdb_gen_opts go;
    sdb_gen *g = NULL;
    sdb_client *c = NULL;
    sdb_batch b;
    sdb_buf text = SDB_BUF_INIT;
    sdb_err err;
    sdb_gen_opts_default(&go);
    go.rows = 20000000; /* more than a writer sends in 60 s */
    go.seed = seed;
    go.days = 7;
    sdb_batch_init(&b);
    if (sdb_gen_create(&go, &g, &err) != SDB_OK ||
        sdb_client_connect(addr, NULL, 60000, &c, &err) != SDB_OK) {
        report("writer", err.msg);
        atomic_fetch_add(&errors, 1);
        goto out;
    }
    while (!atomic_load(&stop_flag)) {
        sdb_run_result r;
        uint64_t werr = 0, added = 0;
        sdb_batch_free(&b);
        sdb_batch_init(&b);
        sdb_buf_reset(&text);
        if (sdb_gen_next(g, BATCH, &b, &added, &err) != SDB_OK ||
            sdb_gen_write_ilp(&b, &text, &err) != SDB_OK ||
            sdb_client_send(c, text.data, text.len, &err) != SDB_OK ||
            sdb_client_query(c, "FLUSH", &r, &werr, &err) != SDB_OK) {
            report("writer", err.msg);
            atomic_fetch_add(&errors, 1);
            break;
        }
        sdb_run_result_free(&r);
        if (werr > 0) {
            report("writer", sdb_client_last_write_error(c));
            atomic_fetch_add(&errors, werr);
        }
        atomic_fetch_add(&acked_rows, added - werr);
    }
out:
    sdb_client_close(c);
    sdb_gen_destroy(g);
    sdb_batch_free(&b);
    sdb_buf_free(&text);
    return NULL;
}

static void *reader(void *arg)
{
    size_t k = (size_t)(uintptr_t)arg;
    sdb_client *c = NULL;
    sdb_err err;
    if (sdb_client_connect(addr, NULL, 120000, &c, &err) != SDB_OK) {
        report("reader", err.msg);
        atomic_fetch_add(&errors, 1);
        return NULL;
    }
    usleep(200000); /* let the writers create the table */
    while (!atomic_load(&stop_flag)) {
        sdb_run_result r;
        double t0 = now_ms();
        const char *q = suite[k++ % (sizeof suite / sizeof suite[0])];
        if (sdb_client_query(c, q, &r, NULL, &err) != SDB_OK) {
            if (strstr(err.msg, "unknown table") != NULL) { /* before the first write */
                usleep(50000);
                continue;
            }
            report(q, err.msg);
            atomic_fetch_add(&errors, 1);
            if (err.code == SDB_ERR_IO)
                break;
            continue;
        }
        sdb_run_result_free(&r);
        {
            unsigned i = atomic_fetch_add(&nlat, 1);
            if (i < MAX_LAT)
                lat[i] = now_ms() - t0;
        }
        atomic_fetch_add(&nqueries, 1);
    }
    sdb_client_close(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    unsigned seconds = 60, nw = 8, nr = 8;
    char dir[] = "/tmp/spandb-bench-load-XXXXXX";
    sdb_server_opts o;
    sdb_server *s;
    sdb_client *c;
    sdb_run_result r;
    sdb_err err;
    pthread_t th[128];
    unsigned nth = 0, n;
    double t0, secs, p50 = 0, p99 = 0;
    long long counted = -1, lost;
    char cmd[128];
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--writers") == 0)
            nw = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--readers") == 0)
            nr = (unsigned)atoi(argv[i + 1]);
    }
    if (nw + nr > 128 || nw == 0) {
        fprintf(stderr, "usage: bench_load [--seconds S] [--writers W] [--readers R]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    sdb_server_opts_default(&o);
    o.data_dir = dir;
    o.listen = "127.0.0.1:0";
    o.http = "";
    o.flush_interval_ms = 10000;
    o.compact_interval_ms = 10000;
    if (sdb_server_start(&o, &s, &err) != SDB_OK) {
        fprintf(stderr, "bench_load: %s\n", err.msg);
        return 1;
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%u", sdb_server_tcp_port(s));
    t0 = now_ms();
    for (unsigned i = 0; i < nw; i++)
        pthread_create(&th[nth++], NULL, writer, (void *)(uintptr_t)(i + 1));
    for (unsigned i = 0; i < nr; i++)
        pthread_create(&th[nth++], NULL, reader, (void *)(uintptr_t)i);
    sleep(seconds);
    atomic_store(&stop_flag, true);
    for (unsigned i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    secs = (now_ms() - t0) / 1e3;
    if (sdb_client_connect(addr, NULL, 120000, &c, &err) == SDB_OK &&
        sdb_client_query(c, "SELECT count(*) FROM spans", &r, NULL, &err) == SDB_OK) {
        counted = r.rows->nrows == 1 ? (long long)sdb_result_at(r.rows, 0, 0)->u.i : -1;
        sdb_run_result_free(&r);
        sdb_client_close(c);
    } else {
        fprintf(stderr, "bench_load: count: %s\n", err.msg);
        atomic_fetch_add(&errors, 1);
    }
    n = atomic_load(&nlat) < MAX_LAT ? atomic_load(&nlat) : MAX_LAT;
    if (n > 0) {
        qsort(lat, n, sizeof lat[0], cmp_double);
        p50 = lat[n / 2];
        p99 = lat[(size_t)((double)n * 0.99) < n ? (size_t)((double)n * 0.99) : n - 1];
    }
    lost = (long long)atomic_load(&acked_rows) - counted;
    if (sdb_server_stop(s, 5000, &err) != SDB_OK) {
        fprintf(stderr, "bench_load: stop: %s\n", err.msg);
        atomic_fetch_add(&errors, 1);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_load: could not remove %s\n", dir);
    printf("| writers | readers | seconds | rows acked | ingest rows/s | queries | query P50 ms "
           "| query P99 ms | errors | rows lost |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n"
           "| %u | %u | %.1f | %llu | %.0f | %llu | %.1f | %.1f | %llu | %lld |\n",
           nw, nr, secs, (unsigned long long)atomic_load(&acked_rows),
           (double)atomic_load(&acked_rows) / secs, (unsigned long long)atomic_load(&nqueries),
           p50, p99, (unsigned long long)atomic_load(&errors), lost);
    return atomic_load(&errors) == 0 && lost == 0 ? 0 : 1;
}
