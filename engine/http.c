/* The HTTP API (docs/protocol.md) on libmicrohttpd, one thread per connection:
 *   GET|POST /query?q=SQL&format=json|jsonl|csv|tsv|table   (POST: q or the body is the SQL)
 *   POST /write?precision=ns|us|ms|s|n|u   and   POST /api/v2/write?bucket=TABLE&precision=
 *        line-protocol body, gzip accepted (Content-Encoding: gzip); 204 when every line was
 *        taken, 400 with {"code":"invalid","message":...,"rejected":[{"line":N,"error":...}]}
 *        when some were not (the good lines are kept)
 *   GET /health   GET /metrics (Prometheus text)
 * Bodies are bounded by max_body (also after gunzip, 413 past it). A request, headers and
 * body, must arrive whole within request_timeout_ms of the connection opening or of the
 * previous response (sdb_http_sweep closes it otherwise). With a token every endpoint but
 * /health needs "Authorization: Bearer <token>" (or "Token <token>"). */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <microhttpd.h>
#include <zlib.h>

#include "engine/ingest.h"
#include "engine/result_fmt.h"
#include "engine/server_int.h"

#define MAX_REJECTS_LISTED 1000

typedef struct http_req {
    sdb_buf body;          /* request body as received */
    bool too_large;        /* body passed max_body: answer 413 once it ends */
} http_req;

typedef struct reject_list {
    sdb_buf json;          /* ,{"line":N,"error":"..."} entries */
    uint64_t count;
} reject_list;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             sdb_buf *body)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (body->len == 0) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
        if (r != NULL) {
            body->data = NULL; /* MHD frees it */
            body->len = body->cap = 0;
        }
    }
    if (r == NULL)
        return MHD_NO;
    if (ctype != NULL)
        MHD_add_response_header(r, "Content-Type", ctype);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* {"error":"msg"} with status. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status,
                                   const char *msg)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_err e;
    enum MHD_Result ret;
    if (sdb_buf_printf(&b, &e, "{\"error\":") != SDB_OK ||
        sdb_json_string(msg, strlen(msg), &b, &e) != SDB_OK ||
        sdb_buf_printf(&b, &e, "}\n") != SDB_OK) {
        sdb_buf_free(&b);
        return MHD_NO;
    }
    ret = reply(conn, status, "application/json", &b);
    sdb_buf_free(&b);
    return ret;
}

static bool authorized(sdb_server *s, struct MHD_Connection *conn)
{
    const char *h;
    if (s->token == NULL)
        return true;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (h == NULL)
        return false;
    if (strncasecmp(h, "Bearer ", 7) == 0)
        h += 7;
    else if (strncasecmp(h, "Token ", 6) == 0)
        h += 6;
    else
        return false;
    while (*h == ' ')
        h++;
    return sdb_server_token_ok(s, h, strlen(h));
}

/* gunzip src into out, at most limit bytes. */
static sdb_rc gunzip(const sdb_buf *src, size_t limit, sdb_buf *out, sdb_err *err)
{
    z_stream z;
    int zr = Z_OK;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for gzip");
    z.next_in = src->data;
    z.avail_in = (uInt)src->len;
    while (zr != Z_STREAM_END) {
        if (out->len >= limit) {
            inflateEnd(&z);
            return SDB_FAIL(err, SDB_ERR_LIMIT,
                            "request body is larger than the limit of %zu bytes once "
                            "decompressed (--max-body)",
                            limit);
        }
        if (sdb_buf_reserve(out, 64 * 1024, err) != SDB_OK) {
            inflateEnd(&z);
            return err->code;
        }
        z.next_out = out->data + out->len;
        z.avail_out = (uInt)(out->cap - out->len);
        zr = inflate(&z, Z_NO_FLUSH);
        out->len = out->cap - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
            inflateEnd(&z);
            return SDB_FAIL(err, SDB_ERR_PARSE, "request body is not valid gzip%s%s",
                            z.msg != NULL ? ": " : "", z.msg != NULL ? z.msg : "");
        }
    }
    inflateEnd(&z);
    return SDB_OK;
}

static void on_reject(void *ctx, uint64_t line_no, uint64_t offset, const char *reason)
{
    reject_list *rl = ctx;
    const char *p = reason;
    (void)offset;
    if (strncmp(p, "line ", 5) == 0) { /* the line number is given on its own */
        p += 5;
        while (*p >= '0' && *p <= '9')
            p++;
        reason = (p[0] == ':' && p[1] == ' ') ? p + 2 : reason;
    }
    rl->count++;
    if (rl->count <= MAX_REJECTS_LISTED &&
        (sdb_buf_printf(&rl->json, NULL, "%s{\"line\":%llu,\"error\":",
                        rl->count > 1 ? "," : "", (unsigned long long)line_no) != SDB_OK ||
         sdb_json_string(reason, strlen(reason), &rl->json, NULL) != SDB_OK ||
         sdb_buf_put_u8(&rl->json, '}', NULL) != SDB_OK))
        rl->count = MAX_REJECTS_LISTED + 1;
}

static bool parse_precision(const char *p, sdb_ilp_precision *out)
{
    if (p == NULL || strcmp(p, "ns") == 0 || strcmp(p, "n") == 0)
        *out = SDB_ILP_NS;
    else if (strcmp(p, "us") == 0 || strcmp(p, "u") == 0)
        *out = SDB_ILP_US;
    else if (strcmp(p, "ms") == 0)
        *out = SDB_ILP_MS;
    else if (strcmp(p, "s") == 0)
        *out = SDB_ILP_S;
    else
        return false;
    return true;
}

static enum MHD_Result do_write(sdb_server *s, struct MHD_Connection *conn, http_req *rq,
                                bool v2)
{
    sdb_ingest_opts io;
    sdb_ingest *ing = NULL;
    reject_list rl = {SDB_BUF_INIT, 0};
    sdb_buf unz = SDB_BUF_INIT, resp = SDB_BUF_INIT;
    const sdb_buf *body = &rq->body;
    const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    const char *prec = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "precision");
    const char *bucket = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "bucket");
    sdb_ingest_stats st;
    enum MHD_Result ret;
    sdb_err e;
    memset(&io, 0, sizeof io);
    if (!parse_precision(prec, &io.precision))
        return reply_error(conn, 400, "precision must be ns, us, ms or s");
    if (v2 && (bucket == NULL || bucket[0] == '\0'))
        return reply_error(conn, 400, "bucket is required: /api/v2/write?bucket=TABLE");
    if (enc != NULL && strcasecmp(enc, "gzip") == 0) {
        if (gunzip(&rq->body, s->o.max_body, &unz, &e) != SDB_OK) {
            sdb_buf_free(&unz);
            return reply_error(conn, e.code == SDB_ERR_LIMIT ? 413 : 400, e.msg);
        }
        body = &unz;
    } else if (enc != NULL && strcasecmp(enc, "identity") != 0) {
        return reply_error(conn, 415, "Content-Encoding must be gzip or identity");
    }
    io.table = v2 ? bucket : NULL;
    io.max_line = s->o.max_line;
    io.on_reject = on_reject;
    io.reject_ctx = &rl;
    if (sdb_ingest_create(s->db, &io, &ing, &e) != SDB_OK ||
        sdb_ingest_feed(ing, body->data, body->len, &e) != SDB_OK ||
        sdb_ingest_finish(ing, &e) != SDB_OK) {
        if (ing != NULL) {
            st = sdb_ingest_get_stats(ing);
            atomic_fetch_add(&s->metrics.rows_ingested, st.written);
        }
        sdb_ingest_destroy(ing);
        sdb_buf_free(&unz);
        sdb_buf_free(&rl.json);
        sdb_server_logf(s, "level=error where=http path=/write msg=\"%s\"", e.msg);
        return reply_error(conn, e.code == SDB_ERR_SCHEMA || e.code == SDB_ERR_PARSE ? 400 : 500,
                           e.msg);
    }
    st = sdb_ingest_get_stats(ing);
    atomic_fetch_add(&s->metrics.rows_ingested, st.written);
    atomic_fetch_add(&s->metrics.bytes_ingested, body->len);
    atomic_fetch_add(&s->metrics.lines_rejected, rl.count);
    sdb_ingest_destroy(ing);
    sdb_buf_free(&unz);
    if (rl.count == 0) {
        sdb_buf_free(&rl.json);
        return reply(conn, 204, NULL, &resp);
    }
    if (sdb_buf_printf(&resp, &e,
                       "{\"code\":\"invalid\",\"message\":\"%llu of %llu lines rejected, "
                       "the others were written\",\"written\":%llu,\"rejected\":[",
                       (unsigned long long)rl.count,
                       (unsigned long long)(rl.count + st.rows), (unsigned long long)st.written) !=
            SDB_OK ||
        sdb_buf_append(&resp, rl.json.data, rl.json.len, &e) != SDB_OK ||
        sdb_buf_printf(&resp, &e, "]}\n") != SDB_OK) {
        sdb_buf_free(&resp);
        sdb_buf_free(&rl.json);
        return MHD_NO;
    }
    sdb_buf_free(&rl.json);
    ret = reply(conn, 400, "application/json", &resp);
    sdb_buf_free(&resp);
    return ret;
}

static enum MHD_Result do_query(sdb_server *s, struct MHD_Connection *conn, http_req *rq)
{
    const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q");
    const char *fs = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    sdb_fmt f = SDB_FMT_JSON;
    sdb_run_result res;
    sdb_buf out = SDB_BUF_INIT;
    const char *sql;
    size_t len;
    const char *ctype;
    enum MHD_Result ret;
    sdb_err e;
    if (fs != NULL && !sdb_fmt_parse(fs, &f))
        return reply_error(conn, 400, "format must be json, jsonl, csv, tsv or table");
    if (q != NULL) {
        sql = q;
        len = strlen(q);
    } else if (rq->body.len > 0) {
        /* a form body q=... or the SQL itself */
        if (sdb_buf_put_u8(&rq->body, '\0', NULL) != SDB_OK)
            return MHD_NO;
        sql = (const char *)rq->body.data;
        if (strncmp(sql, "q=", 2) == 0) {
            char *t = (char *)rq->body.data + 2;
            for (char *p = t; *p; p++)
                if (*p == '+')
                    *p = ' ';
            len = MHD_http_unescape(t);
            sql = t;
        } else {
            len = rq->body.len - 1;
        }
    } else {
        return reply_error(conn, 400, "missing the statement: /query?q=SQL");
    }
    if (sdb_server_run(s, ci != NULL ? ci->connect_fd : -1, true, sql, len, &res, &e) !=
        SDB_OK)
        return reply_error(conn, e.code == SDB_ERR_CANCELLED ? 503 : 400, e.msg);
    if (res.rows == NULL) {
        if (sdb_buf_printf(&out, &e, "{\"ok\":true,\"message\":") != SDB_OK ||
            sdb_json_string(res.message, strlen(res.message), &out, &e) != SDB_OK ||
            sdb_buf_printf(&out, &e, ",\"elapsed_ms\":%.3f}\n", res.elapsed_ms) != SDB_OK) {
            sdb_run_result_free(&res);
            sdb_buf_free(&out);
            return MHD_NO;
        }
        sdb_run_result_free(&res);
        ret = reply(conn, 200, "application/json", &out);
        sdb_buf_free(&out);
        return ret;
    }
    if (sdb_result_format(res.rows, f, &out, &e) != SDB_OK) {
        sdb_run_result_free(&res);
        sdb_buf_free(&out);
        return reply_error(conn, 500, e.msg);
    }
    sdb_run_result_free(&res);
    ctype = f == SDB_FMT_JSON    ? "application/json"
            : f == SDB_FMT_JSONL ? "application/x-ndjson"
            : f == SDB_FMT_CSV   ? "text/csv; charset=utf-8"
                                 : "text/plain; charset=utf-8";
    ret = reply(conn, 200, ctype, &out);
    sdb_buf_free(&out);
    return ret;
}

/* Mark the connection's watch entry as receiving a request (timed from now) or not. */
static void watch_set(sdb_server *s, struct MHD_Connection *conn, bool reading)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    sdb_http_watch *w = ci != NULL ? ci->socket_context : NULL;
    if (w == NULL)
        return;
    pthread_mutex_lock(&s->http_mu);
    w->reading = reading;
    w->since_ms = sdb_server_now_ms();
    pthread_mutex_unlock(&s->http_mu);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    sdb_server *s = cls;
    http_req *rq = *con_cls;
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    sdb_buf b = SDB_BUF_INIT;
    enum MHD_Result ret;
    sdb_err e;
    (void)version;
    if (rq == NULL) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if ((rq = calloc(1, sizeof *rq)) == NULL)
            return MHD_NO;
        *con_cls = rq;
        if (cl != NULL && strtoull(cl, NULL, 10) > s->o.max_body)
            rq->too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!rq->too_large && rq->body.len + *upload_data_size > s->o.max_body) {
            rq->too_large = true;
            sdb_buf_free(&rq->body);
        }
        if (!rq->too_large &&
            sdb_buf_append(&rq->body, upload_data, *upload_data_size, NULL) != SDB_OK)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    watch_set(s, conn, false); /* received whole: the sweep leaves it alone */
    atomic_fetch_add(&s->metrics.http_requests, 1);
    if (atomic_load(&s->metrics.http_connections) > (int_fast64_t)s->o.max_connections) {
        /* libmicrohttpd admits a few more than the limit so that they get this answer */
        atomic_fetch_add(&s->metrics.connections_refused, 1);
        return reply_error(conn, 503, "too many connections (limit --max-connections)");
    }
    if (strcmp(url, "/health") == 0 && get) {
        if (sdb_buf_printf(&b, &e, "{\"status\":\"%s\",\"version\":\"%s\"}\n",
                           atomic_load(&s->stopping) ? "stopping" : "ok", SPANDB_VERSION) !=
            SDB_OK)
            return MHD_NO;
        ret = reply(conn, atomic_load(&s->stopping) ? 503 : 200, "application/json", &b);
        sdb_buf_free(&b);
        return ret;
    }
    if (!authorized(s, conn)) {
        atomic_fetch_add(&s->metrics.connections_refused, 1);
        return reply_error(conn, 401,
                           "authentication required: send 'Authorization: Bearer <token>' "
                           "(the server runs with --token)");
    }
    if (rq->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is larger than the limit of %zu bytes (--max-body)",
                 s->o.max_body);
        return reply_error(conn, 413, msg);
    }
    if (atomic_load(&s->stopping))
        return reply_error(conn, 503, "the server is shutting down");
    if (strcmp(url, "/query") == 0 && (get || post))
        return do_query(s, conn, rq);
    if ((strcmp(url, "/write") == 0 || strcmp(url, "/api/v2/write") == 0) && post)
        return do_write(s, conn, rq, strcmp(url, "/api/v2/write") == 0);
    if (strcmp(url, "/metrics") == 0 && get) {
        if (sdb_metrics_render(&s->metrics, s->db, &b, &e) != SDB_OK) {
            sdb_buf_free(&b);
            return reply_error(conn, 500, e.msg);
        }
        ret = reply(conn, 200, "text/plain; version=0.0.4", &b);
        sdb_buf_free(&b);
        return ret;
    }
    if (strcmp(url, "/query") == 0 || strcmp(url, "/write") == 0 ||
        strcmp(url, "/api/v2/write") == 0 || strcmp(url, "/metrics") == 0 ||
        strcmp(url, "/health") == 0)
        return reply_error(conn, 405, "method not allowed");
    return reply_error(conn, 404, "not found: try /query, /write, /api/v2/write, /health, /metrics");
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    http_req *rq = *con_cls;
    (void)toe;
    watch_set(cls, conn, true); /* the next request on this connection is timed from now */
    if (rq != NULL) {
        sdb_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void notify_conn(void *cls, struct MHD_Connection *conn, void **sock_ctx,
                        enum MHD_ConnectionNotificationCode toe)
{
    sdb_server *s = cls;
    sdb_http_watch *w = *sock_ctx;
    pthread_mutex_lock(&s->http_mu);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        atomic_fetch_add(&s->metrics.http_connections, 1);
        for (unsigned i = 0; i < s->nhttp_watch && ci != NULL; i++) {
            if (!s->http_watch[i].used) {
                w = &s->http_watch[i];
                w->used = true;
                w->fd = ci->connect_fd;
                w->reading = true;
                w->since_ms = sdb_server_now_ms();
                *sock_ctx = w;
                break;
            }
        }
    } else {
        atomic_fetch_sub(&s->metrics.http_connections, 1);
        /* libmicrohttpd closes the socket after this returns: forget it first */
        if (w != NULL)
            w->used = false;
        *sock_ctx = NULL;
    }
    pthread_mutex_unlock(&s->http_mu);
}

void sdb_http_sweep(sdb_server *s, int64_t now_ms)
{
    unsigned cut = 0;
    pthread_mutex_lock(&s->http_mu);
    for (unsigned i = 0; i < s->nhttp_watch; i++) {
        sdb_http_watch *w = &s->http_watch[i];
        if (w->used && w->reading && now_ms - w->since_ms >= (int64_t)s->o.request_timeout_ms) {
            /* the fd stays open while we hold http_mu (see notify_conn); the connection's
             * thread sees end of input and closes it */
            shutdown(w->fd, SHUT_RDWR);
            w->reading = false;
            cut++;
        }
    }
    pthread_mutex_unlock(&s->http_mu);
    if (cut > 0)
        sdb_server_logf(s,
                        "level=warn where=http msg=\"%u connection(s) closed: request not "
                        "received within %u ms (--request-timeout)\"",
                        cut, s->o.request_timeout_ms);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    sdb_server *s = cls;
    char msg[512];
    size_t n;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sdb_server_logf(s, "level=error where=http msg=\"%s\"", msg);
}

sdb_rc sdb_http_start(sdb_server *s, sdb_err *err)
{
    struct sockaddr_in a;
    uint32_t ip;
    uint16_t port;
    const union MHD_DaemonInfo *di;
    unsigned timeout_s = (s->o.idle_timeout_ms + 999) / 1000;
    SDB_TRY(sdb_server_parse_addr(s->o.http, &ip, &port, err));
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = ip;
    a.sin_port = htons(port);
    s->nhttp_watch = s->o.max_connections + 16; /* the connection limit given below */
    if ((s->http_watch = calloc(s->nhttp_watch, sizeof *s->http_watch)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u HTTP connections",
                        s->nhttp_watch);
    s->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port,
        NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
        MHD_OPTION_CONNECTION_LIMIT, s->nhttp_watch,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn, s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (s->mhd == NULL)
        return SDB_FAIL(err, SDB_ERR_IO, "cannot listen on %s (HTTP)", s->o.http);
    di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->http_port = di != NULL ? di->port : port;
    return SDB_OK;
}

void sdb_http_stop(sdb_server *s)
{
    if (s->mhd != NULL) {
        MHD_stop_daemon(s->mhd);
        s->mhd = NULL;
    }
}
