/* Prometheus text rendering of the server counters (engine/metrics.h). */
#include "engine/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const double bucket_ms[SDB_METRICS_NBUCKETS] = {1,   2.5,  5,    10,   25,   50,
                                                       100, 250, 500, 1000, 2500, 10000};

void sdb_metrics_init(sdb_metrics *m)
{
    atomic_init(&m->rows_ingested, 0);
    atomic_init(&m->bytes_ingested, 0);
    atomic_init(&m->lines_rejected, 0);
    atomic_init(&m->queries, 0);
    atomic_init(&m->query_errors, 0);
    for (int i = 0; i <= SDB_METRICS_NBUCKETS; i++)
        atomic_init(&m->latency_bucket[i], 0);
    atomic_init(&m->latency_sum_us, 0);
    atomic_init(&m->tcp_connections, 0);
    atomic_init(&m->http_connections, 0);
    atomic_init(&m->connections_refused, 0);
    atomic_init(&m->http_requests, 0);
}

void sdb_metrics_query(sdb_metrics *m, double ms, bool failed)
{
    int b = 0;
    while (b < SDB_METRICS_NBUCKETS && ms > bucket_ms[b])
        b++;
    atomic_fetch_add(&m->queries, 1);
    if (failed)
        atomic_fetch_add(&m->query_errors, 1);
    atomic_fetch_add(&m->latency_bucket[b], 1);
    atomic_fetch_add(&m->latency_sum_us, (uint_fast64_t)(ms * 1000.0));
}

/* Bytes of the regular files under dir/wal/<table>/ (two levels). */
static uint64_t wal_bytes(const char *dir)
{
    char path[4096], sub[4096 + 512];
    uint64_t total = 0;
    DIR *d, *t;
    struct dirent *e, *f;
    struct stat st;
    snprintf(path, sizeof path, "%s/wal", dir);
    if ((d = opendir(path)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if ((t = opendir(sub)) == NULL)
            continue;
        while ((f = readdir(t)) != NULL) {
            char file[4096 + 1024];
            if (f->d_name[0] == '.')
                continue;
            snprintf(file, sizeof file, "%s/%s", sub, f->d_name);
            if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
                total += (uint64_t)st.st_size;
        }
        closedir(t);
    }
    closedir(d);
    return total;
}

#define COUNTER(name, help, v)                                                                \
    SDB_TRY(sdb_buf_printf(out, err, "# HELP " name " " help "\n# TYPE " name                 \
                                     " counter\n" name " %llu\n",                             \
                           (unsigned long long)(v)))
#define GAUGE(name, help, v)                                                                  \
    SDB_TRY(sdb_buf_printf(out, err, "# HELP " name " " help "\n# TYPE " name " gauge\n" name \
                                     " %llu\n",                                               \
                           (unsigned long long)(v)))

sdb_rc sdb_metrics_render(sdb_metrics *m, sdb_db *db, sdb_buf *out, sdb_err *err)
{
    sdb_db_stats st;
    uint64_t cum = 0;
    int64_t tcp = atomic_load(&m->tcp_connections), http = atomic_load(&m->http_connections);
    memset(&st, 0, sizeof st);
    sdb_db_get_stats(db, &st);
    COUNTER("spandb_rows_ingested_total", "Rows written through the servers.",
            atomic_load(&m->rows_ingested));
    COUNTER("spandb_bytes_ingested_total", "Line-protocol bytes received.",
            atomic_load(&m->bytes_ingested));
    COUNTER("spandb_lines_rejected_total", "Write lines rejected.",
            atomic_load(&m->lines_rejected));
    COUNTER("spandb_queries_total", "Statements run.", atomic_load(&m->queries));
    COUNTER("spandb_query_errors_total", "Statements that failed.",
            atomic_load(&m->query_errors));
    COUNTER("spandb_http_requests_total", "HTTP requests answered.",
            atomic_load(&m->http_requests));
    COUNTER("spandb_connections_refused_total", "Connections refused (limit or auth).",
            atomic_load(&m->connections_refused));
    GAUGE("spandb_tables", "Tables in the catalog.", st.tables);
    GAUGE("spandb_segments", "Published segments.", st.segments);
    GAUGE("spandb_segment_rows", "Rows in published segments.", st.segment_rows);
    GAUGE("spandb_segment_bytes", "Bytes of published segments.", st.segment_bytes);
    GAUGE("spandb_partitions", "Partitions.", st.partitions);
    GAUGE("spandb_memtable_rows", "Rows in memtables (not yet in segments).", st.memtable_rows);
    GAUGE("spandb_wal_bytes", "Bytes of write-ahead log on disk.", wal_bytes(sdb_db_dir(db)));
    SDB_TRY(sdb_buf_printf(out, err,
                           "# HELP spandb_open_connections Open client connections.\n"
                           "# TYPE spandb_open_connections gauge\n"
                           "spandb_open_connections{protocol=\"tcp\"} %lld\n"
                           "spandb_open_connections{protocol=\"http\"} %lld\n",
                           (long long)(tcp < 0 ? 0 : tcp), (long long)(http < 0 ? 0 : http)));
    SDB_TRY(sdb_buf_printf(out, err, "# HELP spandb_query_duration_seconds Statement latency.\n"
                                     "# TYPE spandb_query_duration_seconds histogram\n"));
    for (int b = 0; b <= SDB_METRICS_NBUCKETS; b++) {
        cum += atomic_load(&m->latency_bucket[b]);
        if (b < SDB_METRICS_NBUCKETS)
            SDB_TRY(sdb_buf_printf(out, err,
                                   "spandb_query_duration_seconds_bucket{le=\"%g\"} %llu\n",
                                   bucket_ms[b] / 1000.0, (unsigned long long)cum));
        else
            SDB_TRY(sdb_buf_printf(out, err,
                                   "spandb_query_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                                   (unsigned long long)cum));
    }
    return sdb_buf_printf(out, err,
                          "spandb_query_duration_seconds_sum %.6f\n"
                          "spandb_query_duration_seconds_count %llu\n",
                          (double)atomic_load(&m->latency_sum_us) / 1e6, (unsigned long long)cum);
}
