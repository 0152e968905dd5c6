/* spandb serve: run the server (engine/server.h) until SIGTERM or SIGINT, then stop
 * accepting, let running queries finish (5 s) or cancel them, flush, fsync and exit 0.
 * Logs go to stderr, one line each. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/server.h"
#include "storage/common/timefmt.h"
#include "tools/args.h"
#include "tools/commands.h"

static void serve_usage(FILE *f)
{
    fprintf(f,
            "usage: spandb serve [--data DIR] [--listen HOST:PORT] [--http HOST:PORT]\n"
            "                    [--sync always|batch|none] [--retention DURATION]\n"
            "                    [--threads N] [--query-slots N] [--query-memory BYTES]\n"
            "                    [--max-connections N] [--token T] [--max-line BYTES]\n"
            "                    [--max-body BYTES] [--query-timeout MS] [--idle-timeout MS]\n"
            "                    [--request-timeout MS] [--flush-interval MS]\n\n"
            "Serve DIR (default ./spandb-data) over the TCP line protocol (default\n"
            "127.0.0.1:7070) and HTTP (default 127.0.0.1:7071); an empty address turns one\n"
            "off. The token may also come from SPANDB_TOKEN. BYTES takes K, M or G;\n"
            "DURATION is like 30d or 12h. Stops cleanly on SIGTERM or SIGINT.\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void log_line(void *ctx, const char *line)
{
    char ts[64];
    struct timespec now;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &now);
    sdb_time_format((int64_t)now.tv_sec * 1000000000LL + (now.tv_nsec / 1000000) * 1000000, ts);
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "time=%s %s\n", ts, line);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}

int sdb_cmd_serve(int argc, char **argv)
{
    sdb_server_opts o;
    sdb_server *s;
    sdb_err err;
    sigset_t set;
    int sig = 0;
    const char *env = getenv("SPANDB_TOKEN");
    sdb_server_opts_default(&o);
    if (env != NULL && env[0] != '\0')
        o.token = env;
    o.log = log_line;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            serve_usage(stdout);
            return 0;
        }
        if (v == NULL || strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "spandb serve: unexpected argument '%s'\n\n", a);
            serve_usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--data") == 0)
            o.data_dir = v;
        else if (strcmp(a, "--listen") == 0)
            o.listen = v;
        else if (strcmp(a, "--http") == 0)
            o.http = v;
        else if (strcmp(a, "--token") == 0)
            o.token = v;
        else if (strcmp(a, "--sync") == 0)
            bad = !sdb_sync_mode_parse(v, &o.sync);
        else if (strcmp(a, "--retention") == 0)
            bad = sdb_interval_parse(v, strlen(v), &o.retention_ns, &err) != SDB_OK;
        else if (strcmp(a, "--threads") == 0)
            bad = parse_u32(v, &o.threads);
        else if (strcmp(a, "--query-slots") == 0)
            bad = parse_u32(v, &o.query_slots);
        else if (strcmp(a, "--query-memory") == 0)
            bad = sdb_parse_bytes(v, &o.query_memory);
        else if (strcmp(a, "--max-connections") == 0)
            bad = parse_u32(v, &o.max_connections) || o.max_connections == 0;
        else if (strcmp(a, "--max-line") == 0)
            bad = sdb_parse_bytes(v, &o.max_line);
        else if (strcmp(a, "--max-body") == 0)
            bad = sdb_parse_bytes(v, &o.max_body);
        else if (strcmp(a, "--query-timeout") == 0)
            bad = parse_u32(v, &o.query_timeout_ms);
        else if (strcmp(a, "--idle-timeout") == 0)
            bad = parse_u32(v, &o.idle_timeout_ms);
        else if (strcmp(a, "--request-timeout") == 0)
            bad = parse_u32(v, &o.request_timeout_ms);
        else if (strcmp(a, "--flush-interval") == 0)
            bad = parse_u32(v, &o.flush_interval_ms);
        else {
            fprintf(stderr, "spandb serve: unknown option '%s'\n\n", a);
            serve_usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "spandb serve: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    /* every thread inherits the blocked mask; only sigwait below takes these */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (sdb_server_start(&o, &s, &err) != SDB_OK) {
        fprintf(stderr, "spandb serve: %s\n", err.msg);
        return 1;
    }
    while (sigwait(&set, &sig) != 0)
        ;
    log_line(NULL, sig == SIGTERM ? "level=info msg=\"SIGTERM: stopping\""
                                  : "level=info msg=\"SIGINT: stopping\"");
    if (sdb_server_stop(s, 5000, &err) != SDB_OK) {
        fprintf(stderr, "spandb serve: while stopping: %s\n", err.msg);
        return 1;
    }
    log_line(NULL, "level=info msg=\"stopped: everything flushed\"");
    return 0;
}
