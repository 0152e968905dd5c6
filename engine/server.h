/* The spandb server: one database served over the TCP line protocol (engine/tcp.c) and
 * HTTP (engine/http.c), with background flush, compaction and retention. The protocols are
 * specified in docs/protocol.md.
 *
 * Use:
 *     sdb_server_opts o;  sdb_server_opts_default(&o);  o.data_dir = "d";
 *     sdb_server *s;  SDB_TRY(sdb_server_start(&o, &s, err));   (serving from here on)
 *     ... sdb_server_tcp_port(s) ...
 *     sdb_server_stop(s, err);   (stop accepting, finish/cancel queries, flush, close)
 *
 * Threads: one acceptor thread per TCP listener and one thread per TCP connection (bounded
 * by max_connections), libmicrohttpd's thread per HTTP connection, a watchdog that cancels
 * queries past their timeout or whose client went away, and a maintenance thread. A
 * statement holds one of `query_slots` slots while it runs, so at most that many run at
 * once; writes never wait for a slot. */
#ifndef SDB_ENGINE_SERVER_H
#define SDB_ENGINE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/db.h"
#include "storage/common/error.h"

typedef struct sdb_server sdb_server;

/* Receives one log line (no trailing newline): the start line and structured error lines
 * ("level=error where=tcp peer=... msg=..."). Called from any thread. */
typedef void (*sdb_server_log_fn)(void *ctx, const char *line);

typedef struct sdb_server_opts {
    const char *data_dir;        /* default ./spandb-data */
    const char *listen;          /* TCP "HOST:PORT" (port 0: any); NULL or "": no TCP */
    const char *http;            /* HTTP "HOST:PORT"; NULL or "": no HTTP */
    sdb_sync_mode sync;          /* WAL durability (default batch) */
    int64_t retention_ns;        /* 0: keep everything */
    unsigned threads;            /* threads of one query (0: cores) */
    unsigned query_slots;        /* statements running at once (0: 2 x cores) */
    size_t query_memory;         /* per query (0: SDB_QUERY_MEMORY_DEFAULT) */
    uint32_t max_connections;    /* TCP and HTTP each (default 256) */
    const char *token;           /* shared secret; NULL or "": no auth */
    size_t max_line;             /* longest TCP line in bytes (default 1 MiB) */
    size_t max_body;             /* largest HTTP body, also after gunzip (default 64 MiB) */
    uint32_t query_timeout_ms;   /* 0: none (default 60 s) */
    uint32_t idle_timeout_ms;    /* close a connection silent this long (default 300 s) */
    uint32_t request_timeout_ms; /* a line or request not complete after this (default 30 s) */
    uint32_t flush_interval_ms;  /* flush a memtable whose oldest row is older than this (default
                                    60 s; 0: only by size and at shutdown) */
    uint32_t compact_interval_ms;/* background compaction this often (default 30 s; 0: never) */
    uint64_t memtable_rows;      /* 0: the database default */
    sdb_server_log_fn log;       /* may be NULL */
    void *log_ctx;
} sdb_server_opts;

void sdb_server_opts_default(sdb_server_opts *o);

/* Open the database, bind the listeners and start serving. Caller owns *out; end with
 * sdb_server_stop(). Fails with the database's errors, SDB_ERR_IO when an address cannot
 * be bound (naming it), SDB_ERR_MISUSE for an address that is not HOST:PORT. */
sdb_rc sdb_server_start(const sdb_server_opts *opts, sdb_server **out, sdb_err *err);
/* The bound ports (useful with port 0); 0 when that listener is off. */
uint16_t sdb_server_tcp_port(const sdb_server *s);
uint16_t sdb_server_http_port(const sdb_server *s);
sdb_db *sdb_server_db(sdb_server *s);
/* Stop accepting, let running statements finish within grace_ms then cancel them, commit
 * every connection's pending writes, flush, fsync and close the database, free s. */
sdb_rc sdb_server_stop(sdb_server *s, uint32_t grace_ms, sdb_err *err);

/* Constant-time comparison of a presented token with the configured one. */
bool sdb_server_token_ok(const sdb_server *s, const char *tok, size_t len);

#endif
