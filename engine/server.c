/* Server lifecycle (engine/server.h): opens the database, starts the TCP and HTTP front
 * ends, the watchdog (query timeouts, vanished clients) and the maintenance thread (flush,
 * compaction, retention), and takes it all down in order on stop. Statements from both
 * front ends run through sdb_server_run() and its bounded set of query slots. */
#include "engine/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/server_int.h"

void sdb_server_opts_default(sdb_server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->data_dir = "./spandb-data";
    o->listen = "127.0.0.1:7070";
    o->http = "127.0.0.1:7071";
    o->sync = SDB_SYNC_BATCH;
    o->max_connections = 256;
    o->max_line = 1024 * 1024;
    o->max_body = 64u * 1024 * 1024;
    o->query_timeout_ms = 60000;
    o->idle_timeout_ms = 300000;
    o->request_timeout_ms = 30000;
    o->flush_interval_ms = 60000;
    o->compact_interval_ms = 30000;
}

int64_t sdb_server_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sdb_server_logf(sdb_server *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (s->o.log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->o.log(s->o.log_ctx, line);
}

sdb_rc sdb_server_parse_addr(const char *addr, uint32_t *ip, uint16_t *port, sdb_err *err)
{
    const char *colon = strrchr(addr, ':');
    char host[64];
    char *end;
    unsigned long p;
    struct in_addr a;
    if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "address '%s': expected HOST:PORT", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    if (strcmp(host, "localhost") == 0 || host[0] == '\0')
        strcpy(host, "127.0.0.1");
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || p > 65535)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "address '%s': port must be 0..65535", addr);
    if (inet_pton(AF_INET, host, &a) != 1)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "address '%s': host must be an IPv4 address", addr);
    *ip = a.s_addr;
    *port = (uint16_t)p;
    return SDB_OK;
}

bool sdb_server_token_ok(const sdb_server *s, const char *tok, size_t len)
{
    /* constant time in the presented length: every byte of both is looked at */
    volatile unsigned char diff = (unsigned char)(len != s->token_len);
    for (size_t i = 0; i < len; i++) {
        unsigned char want = s->token_len > 0 ? (unsigned char)s->token[i % s->token_len] : 0;
        diff |= (unsigned char)((unsigned char)tok[i] ^ want);
    }
    return s->token != NULL && diff == 0;
}

sdb_db *sdb_server_db(sdb_server *s)
{
    return s->db;
}

uint16_t sdb_server_tcp_port(const sdb_server *s)
{
    return s->tcp_port;
}

uint16_t sdb_server_http_port(const sdb_server *s)
{
    return s->http_port;
}

sdb_rc sdb_server_run(sdb_server *s, int client_fd, bool watch_rdhup, const char *sql,
                      size_t len, sdb_run_result *res, sdb_err *err)
{
    sdb_qslot *slot = NULL;
    sdb_run_opts ro;
    sdb_rc rc;
    int64_t t0 = sdb_server_now_ms();
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (atomic_load(&s->stopping)) {
            pthread_mutex_unlock(&s->mu);
            return SDB_FAIL(err, SDB_ERR_CANCELLED, "the server is shutting down");
        }
        for (unsigned i = 0; i < s->nslots && slot == NULL; i++)
            if (!s->slots[i].busy)
                slot = &s->slots[i];
        if (slot != NULL)
            break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    slot->busy = true;
    atomic_store(&slot->cancel, false);
    slot->fd = client_fd;
    slot->watch_rdhup = watch_rdhup;
    slot->reason = QCANCEL_NONE;
    slot->deadline_ms = s->o.query_timeout_ms > 0 ? t0 + s->o.query_timeout_ms : 0;
    pthread_mutex_unlock(&s->mu);

    memset(&ro, 0, sizeof ro);
    ro.threads = s->o.threads;
    ro.query_memory = s->o.query_memory;
    ro.cancel = &slot->cancel;
    rc = sdb_run_sql(s->db, sql, len, &ro, res, err);

    pthread_mutex_lock(&s->mu);
    if (rc == SDB_ERR_CANCELLED || (rc != SDB_OK && slot->reason != QCANCEL_NONE)) {
        switch (slot->reason) {
        case QCANCEL_TIMEOUT:
            rc = SDB_FAIL(err, SDB_ERR_CANCELLED,
                          "query cancelled: it ran longer than the limit of %u ms "
                          "(--query-timeout)",
                          s->o.query_timeout_ms);
            break;
        case QCANCEL_GONE:
            rc = SDB_FAIL(err, SDB_ERR_CANCELLED, "query cancelled: the client went away");
            break;
        case QCANCEL_SHUTDOWN:
            rc = SDB_FAIL(err, SDB_ERR_CANCELLED, "query cancelled: the server is shutting down");
            break;
        default: break;
        }
    }
    slot->busy = false;
    slot->fd = -1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    sdb_metrics_query(&s->metrics, (double)(sdb_server_now_ms() - t0), rc != SDB_OK);
    return rc;
}

/* Cancel statements past their deadline or whose client hung up, and close HTTP
 * connections too slow to send a request, every 50 ms. */
static void *watchdog_main(void *arg)
{
    sdb_server *s = arg;
    while (!atomic_load(&s->closing)) {
        int64_t now = sdb_server_now_ms();
        pthread_mutex_lock(&s->mu);
        for (unsigned i = 0; i < s->nslots; i++) {
            sdb_qslot *q = &s->slots[i];
            if (!q->busy || q->reason != QCANCEL_NONE)
                continue;
            if (q->deadline_ms > 0 && now >= q->deadline_ms) {
                q->reason = QCANCEL_TIMEOUT;
            } else if (q->fd >= 0) {
                struct pollfd p = {.fd = q->fd, .events = POLLRDHUP};
                short gone = POLLHUP | POLLERR | (q->watch_rdhup ? POLLRDHUP : 0);
                if (poll(&p, 1, 0) == 1 && (p.revents & gone) != 0)
                    q->reason = QCANCEL_GONE;
            }
            if (q->reason != QCANCEL_NONE)
                atomic_store(&q->cancel, true);
        }
        pthread_mutex_unlock(&s->mu);
        sdb_http_sweep(s, now);
        usleep(50000);
    }
    return NULL;
}

/* Flush, compact and apply retention on their intervals until stop. */
static void *maint_main(void *arg)
{
    sdb_server *s = arg;
    int64_t last_flush = sdb_server_now_ms(), last_compact = last_flush, last_ret = 0;
    sdb_err err;
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stopping)) {
        struct timespec ts;
        int64_t now;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (atomic_load(&s->stopping))
            break;
        pthread_mutex_unlock(&s->mu);
        now = sdb_server_now_ms();
        if (s->o.flush_interval_ms > 0 && now - last_flush >= s->o.flush_interval_ms / 4) {
            /* memtables whose oldest row is older than the interval reach segments; busy
             * tables flush by size on the database's own flush thread */
            last_flush = now;
            if (sdb_db_flush_aged(s->db, (int64_t)s->o.flush_interval_ms * 1000000, &err) != SDB_OK)
                sdb_server_logf(s, "level=error where=flush msg=\"%s\"", err.msg);
        }
        if (s->o.compact_interval_ms > 0 && now - last_compact >= s->o.compact_interval_ms) {
            last_compact = now;
            if (sdb_db_compact(s->db, NULL, false, 4, &err) != SDB_OK)
                sdb_server_logf(s, "level=error where=compact msg=\"%s\"", err.msg);
        }
        if (s->o.retention_ns > 0 && now - last_ret >= 60000) {
            struct timespec rt;
            uint32_t dropped = 0;
            last_ret = now;
            clock_gettime(CLOCK_REALTIME, &rt);
            if (sdb_db_retention(s->db, (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec,
                                 &dropped, &err) != SDB_OK)
                sdb_server_logf(s, "level=error where=retention msg=\"%s\"", err.msg);
            else if (dropped > 0)
                sdb_server_logf(s, "level=info where=retention dropped_partitions=%u", dropped);
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void server_free(sdb_server *s)
{
    if (s == NULL)
        return;
    free(s->slots);
    free(s->data_dir);
    free(s->token);
    free(s->http_watch);
    pthread_mutex_destroy(&s->http_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

sdb_rc sdb_server_start(const sdb_server_opts *opts, sdb_server **out, sdb_err *err)
{
    sdb_server *s = calloc(1, sizeof *s);
    sdb_db_opts dbo;
    sdb_db_open_report rep;
    sdb_db_stats st;
    sdb_rc rc;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *out = NULL;
    if (s == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the server");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->http_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->tcp_fd = -1;
    s->o = *opts;
    if (s->o.data_dir == NULL)
        s->o.data_dir = "./spandb-data";
    if (s->o.max_connections == 0)
        s->o.max_connections = 256;
    if (s->o.max_line == 0)
        s->o.max_line = 1024 * 1024;
    if (s->o.max_body == 0)
        s->o.max_body = 64u * 1024 * 1024;
    if (s->o.request_timeout_ms == 0)
        s->o.request_timeout_ms = 30000;
    if (s->o.idle_timeout_ms == 0)
        s->o.idle_timeout_ms = 300000;
    s->nslots = s->o.query_slots > 0 ? s->o.query_slots : (unsigned)(cores > 0 ? 2 * cores : 4);
    s->data_dir = strdup(s->o.data_dir);
    s->token = (s->o.token != NULL && s->o.token[0] != '\0') ? strdup(s->o.token) : NULL;
    s->slots = calloc(s->nslots, sizeof *s->slots);
    if (s->data_dir == NULL || s->slots == NULL ||
        (s->o.token != NULL && s->o.token[0] != '\0' && s->token == NULL)) {
        server_free(s);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the server");
    }
    s->token_len = s->token != NULL ? strlen(s->token) : 0;
    s->o.data_dir = s->data_dir;
    s->o.token = s->token;
    for (unsigned i = 0; i < s->nslots; i++) {
        s->slots[i].fd = -1;
        atomic_init(&s->slots[i].cancel, false);
    }
    atomic_init(&s->stopping, false);
    atomic_init(&s->closing, false);
    sdb_metrics_init(&s->metrics);

    sdb_db_opts_default(&dbo);
    dbo.sync = s->o.sync;
    dbo.retention_ns = s->o.retention_ns;
    dbo.background_flush = true; /* a full memtable never stalls a writer's connection */
    if (s->o.memtable_rows > 0)
        dbo.memtable_rows = s->o.memtable_rows;
    if ((rc = sdb_db_open(s->data_dir, &dbo, &s->db, &rep, err)) != SDB_OK) {
        server_free(s);
        return rc;
    }
    {
        char repair[512];
        sdb_db_open_report_text(&rep, repair, sizeof repair);
        if (repair[0] != '\0')
            sdb_server_logf(s, "level=warn where=recovery msg=\"%s\"", repair);
    }
    if (s->o.listen != NULL && s->o.listen[0] != '\0' && (rc = sdb_tcp_start(s, err)) != SDB_OK)
        goto fail;
    if (s->o.http != NULL && s->o.http[0] != '\0' && (rc = sdb_http_start(s, err)) != SDB_OK)
        goto fail;
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "cannot start the watchdog thread");
        goto fail;
    }
    s->watchdog_started = true;
    if (pthread_create(&s->maint, NULL, maint_main, s) != 0) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "cannot start the maintenance thread");
        goto fail;
    }
    s->maint_started = true;
    sdb_db_get_stats(s->db, &st);
    sdb_server_logf(s,
                    "level=info msg=\"spandb %s serving\" data=%s tcp=127.0.0.1:%u "
                    "http=127.0.0.1:%u sync=%s tables=%u rows=%llu wal_rows_replayed=%llu "
                    "auth=%s",
                    SPANDB_VERSION, s->data_dir, s->tcp_port, s->http_port,
                    sdb_sync_mode_name(s->o.sync), st.tables,
                    (unsigned long long)(st.segment_rows + st.memtable_rows),
                    (unsigned long long)rep.wal_rows, s->token != NULL ? "token" : "off");
    *out = s;
    return SDB_OK;
fail:
    (void)sdb_server_stop(s, 0, NULL);
    return rc;
}

sdb_rc sdb_server_stop(sdb_server *s, uint32_t grace_ms, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    int64_t until;
    sdb_err e2;
    if (s == NULL)
        return SDB_OK;
    /* 1. stop accepting: new statements are refused from here on */
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stopping, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    sdb_tcp_stop_accepting(s);
    /* 2. running statements get grace_ms, then are cancelled */
    until = sdb_server_now_ms() + grace_ms;
    for (;;) {
        bool busy = false;
        pthread_mutex_lock(&s->mu);
        for (unsigned i = 0; i < s->nslots; i++) {
            if (!s->slots[i].busy)
                continue;
            busy = true;
            if (sdb_server_now_ms() >= until && s->slots[i].reason == QCANCEL_NONE) {
                s->slots[i].reason = QCANCEL_SHUTDOWN;
                atomic_store(&s->slots[i].cancel, true);
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (!busy)
            break;
        usleep(20000);
    }
    /* 3. TCP connections commit their pending writes and end; HTTP stops */
    pthread_mutex_lock(&s->mu);
    while (s->tcp_conns > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    sdb_http_stop(s);
    atomic_store(&s->closing, true);
    if (s->watchdog_started)
        pthread_join(s->watchdog, NULL);
    if (s->maint_started)
        pthread_join(s->maint, NULL);
    /* 4. flush, fsync, close */
    if (s->db != NULL) {
        if (sdb_db_close(s->db, err != NULL ? err : &e2) != SDB_OK)
            rc = (err != NULL ? err : &e2)->code;
        s->db = NULL;
    }
    server_free(s);
    return rc;
}
