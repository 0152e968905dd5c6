/* What engine/server.c, engine/tcp.c and engine/http.c share: the server struct, the
 * statement runner with its query slots, and logging. Not a public header. */
#ifndef SDB_ENGINE_SERVER_INT_H
#define SDB_ENGINE_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/metrics.h"
#include "engine/run.h"
#include "engine/server.h"

struct MHD_Daemon;

/* Why a running statement was cancelled. */
enum { QCANCEL_NONE = 0, QCANCEL_TIMEOUT, QCANCEL_GONE, QCANCEL_SHUTDOWN };

/* One running statement, watched by the watchdog thread. */
typedef struct sdb_qslot {
    bool busy;            /* a statement holds it */
    atomic_bool cancel;   /* handed to sdb_run_sql */
    int fd;               /* client socket to watch for a hang-up; -1: none */
    bool watch_rdhup;     /* a half-close counts as gone (HTTP) */
    int64_t deadline_ms;  /* monotonic ms; 0: none */
    int reason;           /* QCANCEL_* */
} sdb_qslot;

/* One open HTTP connection, watched so that a request must be received whole within
 * request_timeout_ms: libmicrohttpd's own timeout is for inactivity, which a client sending
 * a byte a second never reaches. */
typedef struct sdb_http_watch {
    bool used;
    int fd;               /* the connection's socket (closed by libmicrohttpd after it
                             tells us, under http_mu, that the connection ended) */
    bool reading;         /* a request (headers or body) is being received */
    int64_t since_ms;     /* connection opened or previous response sent */
} sdb_http_watch;

struct sdb_server {
    sdb_server_opts o;      /* with the strings below */
    char *data_dir;         /* owned copies */
    char *token;
    size_t token_len;
    sdb_db *db;
    sdb_metrics metrics;
    atomic_bool stopping;   /* set once by sdb_server_stop */
    atomic_bool closing;    /* listeners are closed; connections finish */

    pthread_mutex_t mu;     /* slots, nconns */
    pthread_cond_t cv;      /* a slot freed, a connection ended, stop requested */
    sdb_qslot *slots;
    unsigned nslots;
    uint32_t tcp_conns;     /* live TCP connection threads */

    int tcp_fd;             /* listening socket; -1 when off */
    uint16_t tcp_port;
    pthread_t acceptor;
    bool acceptor_started;

    struct MHD_Daemon *mhd; /* NULL when HTTP is off */
    uint16_t http_port;
    pthread_mutex_t http_mu; /* http_watch */
    sdb_http_watch *http_watch;
    unsigned nhttp_watch;

    pthread_t watchdog, maint;
    bool watchdog_started, maint_started;
};

/* Monotonic milliseconds. */
int64_t sdb_server_now_ms(void);
/* A structured log line ("level=... where=... msg=..."). */
void sdb_server_logf(sdb_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run one statement on a query slot (waiting for a free one), with the query timeout and,
 * when client_fd >= 0, cancellation when that client goes away. Counts it in the metrics.
 * The caller owns res on success. A cancelled statement fails with SDB_ERR_CANCELLED and a
 * message saying why. */
sdb_rc sdb_server_run(sdb_server *s, int client_fd, bool watch_rdhup, const char *sql,
                      size_t len, sdb_run_result *res, sdb_err *err);

/* TCP (engine/tcp.c). */
sdb_rc sdb_tcp_start(sdb_server *s, sdb_err *err);
/* Stop accepting (joins the acceptor); connections end on their own once stopping is set. */
void sdb_tcp_stop_accepting(sdb_server *s);

/* HTTP (engine/http.c). */
sdb_rc sdb_http_start(sdb_server *s, sdb_err *err);
void sdb_http_stop(sdb_server *s);
/* Close HTTP connections whose request has not arrived whole within request_timeout_ms
 * (called by the watchdog). */
void sdb_http_sweep(sdb_server *s, int64_t now_ms);

/* "HOST:PORT" into an IPv4 address (network order) and port. */
sdb_rc sdb_server_parse_addr(const char *addr, uint32_t *ip, uint16_t *port, sdb_err *err);

#endif
