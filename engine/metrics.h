/* Server counters for GET /metrics: lock-free atomics bumped by the TCP and HTTP front ends,
 * rendered with the database's own statistics in the Prometheus text format. */
#ifndef SDB_ENGINE_METRICS_H
#define SDB_ENGINE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "engine/db.h"
#include "storage/common/buf.h"

/* Upper bounds (ms) of the query latency histogram buckets; +Inf follows. */
#define SDB_METRICS_NBUCKETS 12

typedef struct sdb_metrics {
    atomic_uint_fast64_t rows_ingested;   /* rows written to the database */
    atomic_uint_fast64_t bytes_ingested;  /* line-protocol bytes received */
    atomic_uint_fast64_t lines_rejected;  /* bad write lines */
    atomic_uint_fast64_t queries;         /* statements run (ok or not) */
    atomic_uint_fast64_t query_errors;    /* statements that failed */
    atomic_uint_fast64_t latency_bucket[SDB_METRICS_NBUCKETS + 1]; /* not cumulative */
    atomic_uint_fast64_t latency_sum_us;  /* sum of query latencies */
    atomic_int_fast64_t tcp_connections;  /* open TCP connections */
    atomic_int_fast64_t http_connections; /* open HTTP connections */
    atomic_uint_fast64_t connections_refused; /* over --max-connections or bad auth */
    atomic_uint_fast64_t http_requests;   /* HTTP requests answered */
} sdb_metrics;

void sdb_metrics_init(sdb_metrics *m);
/* Count one statement that took ms milliseconds. */
void sdb_metrics_query(sdb_metrics *m, double ms, bool failed);
/* Append the Prometheus text of m and of db's statistics (segments, partitions, memtable
 * rows, WAL bytes on disk) to out. */
sdb_rc sdb_metrics_render(sdb_metrics *m, sdb_db *db, sdb_buf *out, sdb_err *err);

#endif
