/* The TCP line protocol (docs/protocol.md): an acceptor thread and one thread per
 * connection, bounded by --max-connections. A connection reads lines into a buffer of
 * max_line + 64 KiB; runs of write lines go to the connection's own sdb_ingest (batched,
 * committed when a statement arrives, on FLUSH, when the socket goes quiet for 100 ms, at
 * least every second while writes stream, and at the end); a statement line runs through
 * sdb_server_run() and its reply is streamed back as JSON lines.
 *
 * Limits: a line over max_line is answered with an error and skipped (the connection stays
 * usable); a line not completed within request_timeout_ms (a slow client) and a connection
 * silent for idle_timeout_ms are answered with an error and closed; a client that does not
 * read its replies for request_timeout_ms is closed (SO_SNDTIMEO). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/ingest.h"
#include "engine/result_fmt.h"
#include "engine/server_int.h"

#define READ_CHUNK      (64u * 1024u)
#define SEND_THRESHOLD  (64u * 1024u)
#define QUIET_COMMIT_MS 100
#define MAX_PENDING_MS  1000

typedef struct tcp_conn {
    sdb_server *s;
    int fd;
    char peer[64];          /* "127.0.0.1:53412" */
    uint8_t *in;            /* received bytes not yet consumed */
    size_t in_len, in_cap;  /* in_cap = max_line + READ_CHUNK + 1 */
    uint64_t line_no;       /* lines consumed so far (1-based numbering) */
    bool skipping;          /* inside an over-long line: drop bytes up to its newline */
    bool authed;            /* AUTH accepted, or no token configured */
    bool closing;           /* stop after this chunk */
    bool dead;              /* the socket failed: stop at once */
    sdb_ingest *ing;        /* this connection's writes */
    uint64_t ing_lines;     /* lines fed to ing so far */
    uint64_t run_conn_line; /* connection line of the first line of the run being fed */
    uint64_t run_ing_line;  /* ing's line number of that same line */
    uint64_t written_seen;  /* ing's written counter already added to the metrics */
    int64_t pending_since;  /* ms when uncommitted writes first appeared; 0: none */
    int64_t partial_since;  /* ms when the incomplete line began; 0: none */
    sdb_buf out;            /* reply bytes not yet sent */
} tcp_conn;

/* ---- output ---- */

static void conn_send(tcp_conn *c)
{
    size_t off = 0;
    while (off < c->out.len && !c->dead) {
        ssize_t n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            /* EAGAIN here is SO_SNDTIMEO: the client stopped reading */
            c->dead = true;
        }
    }
    sdb_buf_reset(&c->out);
}

static void maybe_send(tcp_conn *c)
{
    if (c->out.len >= SEND_THRESHOLD)
        conn_send(c);
}

/* {"error":"msg","line":N} */
static void reply_error(tcp_conn *c, const char *msg, uint64_t line)
{
    sdb_err e;
    if (sdb_buf_printf(&c->out, &e, "{\"error\":") != SDB_OK ||
        sdb_json_string(msg, strlen(msg), &c->out, &e) != SDB_OK ||
        sdb_buf_printf(&c->out, &e, ",\"line\":%llu}\n", (unsigned long long)line) != SDB_OK)
        c->dead = true;
    maybe_send(c);
}

static void reply_ok(tcp_conn *c, uint64_t rows, double ms, const char *message)
{
    sdb_err e;
    if (sdb_buf_printf(&c->out, &e, "{\"ok\":true,\"rows\":%llu,\"elapsed_ms\":%.3f",
                       (unsigned long long)rows, ms) != SDB_OK)
        c->dead = true;
    if (message != NULL && message[0] != '\0' &&
        (sdb_buf_printf(&c->out, &e, ",\"message\":") != SDB_OK ||
         sdb_json_string(message, strlen(message), &c->out, &e) != SDB_OK))
        c->dead = true;
    if (sdb_buf_printf(&c->out, &e, "}\n") != SDB_OK)
        c->dead = true;
}

/* ---- writes ---- */

static void on_reject(void *ctx, uint64_t line_no, uint64_t offset, const char *reason)
{
    tcp_conn *c = ctx;
    uint64_t line = c->run_conn_line + (line_no - c->run_ing_line);
    const char *r = reason;
    (void)offset;
    /* the parser's "line N: " counts only write lines; replace it with the connection's */
    if (strncmp(r, "line ", 5) == 0) {
        const char *p = r + 5;
        while (isdigit((unsigned char)*p))
            p++;
        if (p[0] == ':' && p[1] == ' ')
            r = p + 2;
    }
    atomic_fetch_add(&c->s->metrics.lines_rejected, 1);
    reply_error(c, r, line);
}

static void count_written(tcp_conn *c)
{
    sdb_ingest_stats st = sdb_ingest_get_stats(c->ing);
    atomic_fetch_add(&c->s->metrics.rows_ingested, st.written - c->written_seen);
    c->written_seen = st.written;
}

/* Commit pending writes; a failure is answered as an error at line. */
static bool commit_writes(tcp_conn *c, uint64_t line)
{
    sdb_err e;
    bool ok = true;
    if (sdb_ingest_commit(c->ing, &e) != SDB_OK) {
        reply_error(c, e.msg, line);
        sdb_server_logf(c->s, "level=error where=tcp peer=%s msg=\"write: %s\"", c->peer, e.msg);
        sdb_ingest_discard(c->ing);
        ok = false;
    }
    count_written(c);
    c->pending_since = 0;
    return ok;
}

/* Feed the write lines [p, p+n) (whole lines, each ending in LF) starting at conn line. */
static void feed_run(tcp_conn *c, const uint8_t *p, size_t n, uint64_t first_line,
                     uint64_t nlines)
{
    sdb_err e;
    if (n == 0)
        return;
    c->run_conn_line = first_line;
    c->run_ing_line = c->ing_lines + 1;
    atomic_fetch_add(&c->s->metrics.bytes_ingested, n);
    if (sdb_ingest_feed(c->ing, p, n, &e) != SDB_OK) {
        reply_error(c, e.msg, first_line);
        sdb_server_logf(c->s, "level=error where=tcp peer=%s msg=\"write: %s\"", c->peer, e.msg);
        sdb_ingest_discard(c->ing);
    }
    c->ing_lines += nlines;
    count_written(c);
    if (c->pending_since == 0)
        c->pending_since = sdb_server_now_ms();
}

/* ---- statements ---- */

static const char *const keywords[] = {"SELECT", "EXPLAIN", "SHOW", "DESCRIBE", "CREATE",
                                       "DROP",   "FLUSH",   "PING", "AUTH",     NULL};

/* The statement keyword starting the line, or NULL for a write line. */
static const char *statement_word(const uint8_t *p, size_t n)
{
    size_t i = 0, w;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    w = i;
    while (w < n && isalpha(p[w]))
        w++;
    if (w == i || (w < n && p[w] != ' ' && p[w] != '\t' && p[w] != ';' && p[w] != '\r' &&
                   p[w] != '('))
        return NULL;
    for (const char *const *k = keywords; *k != NULL; k++)
        if (strlen(*k) == w - i && strncasecmp((const char *)p + i, *k, w - i) == 0)
            return *k;
    return NULL;
}

static void run_statement(tcp_conn *c, const char *word, const uint8_t *p, size_t n,
                          uint64_t line)
{
    sdb_server *s = c->s;
    sdb_run_result res;
    sdb_err e;
    int64_t t0 = sdb_server_now_ms();
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (strcmp(word, "AUTH") == 0) {
        const uint8_t *t = p;
        size_t tn = n;
        while (tn > 0 && (*t == ' ' || *t == '\t'))
            t++, tn--;
        t += 4, tn -= 4;
        while (tn > 0 && (*t == ' ' || *t == '\t'))
            t++, tn--;
        if (s->token == NULL) {
            c->authed = true;
            reply_ok(c, 0, 0, "authentication is off");
        } else if (sdb_server_token_ok(s, (const char *)t, tn)) {
            c->authed = true;
            reply_ok(c, 0, 0, "authenticated");
        } else {
            atomic_fetch_add(&s->metrics.connections_refused, 1);
            sdb_server_logf(s, "level=warn where=tcp peer=%s msg=\"invalid token\"", c->peer);
            reply_error(c, "authentication failed: invalid token", line);
            c->closing = true;
        }
        return;
    }
    if (!c->authed) {
        atomic_fetch_add(&s->metrics.connections_refused, 1);
        reply_error(c, "authentication required: send AUTH <token> first (the server runs "
                       "with --token)",
                    line);
        c->closing = true;
        return;
    }
    if (!commit_writes(c, line))
        return;
    if (strcmp(word, "PING") == 0) {
        reply_ok(c, 0, 0, "pong");
        return;
    }
    if (strcmp(word, "FLUSH") == 0) {
        /* sdb_db_write returned after the WAL commit of the sync mode: durable */
        reply_ok(c, 0, (double)(sdb_server_now_ms() - t0), "durable");
        return;
    }
    if (sdb_server_run(s, c->fd, false, (const char *)p, n, &res, &e) != SDB_OK) {
        reply_error(c, e.msg, line);
        return;
    }
    if (res.rows == NULL) {
        reply_ok(c, 0, res.elapsed_ms, res.message);
    } else {
        const sdb_result *r = res.rows;
        sdb_rc rc = sdb_buf_printf(&c->out, &e, "{\"columns\":[");
        for (uint32_t j = 0; j < r->ncols && rc == SDB_OK; j++) {
            const char *tn = sdb_type_name(r->types[j]);
            rc = sdb_buf_printf(&c->out, &e, "%s[", j > 0 ? "," : "");
            if (rc == SDB_OK)
                rc = sdb_json_string(r->names[j], strlen(r->names[j]), &c->out, &e);
            if (rc == SDB_OK)
                rc = sdb_buf_printf(&c->out, &e, ",\"%s\"]", tn);
        }
        if (rc == SDB_OK)
            rc = sdb_buf_printf(&c->out, &e, "]}\n");
        for (uint64_t i = 0; i < r->nrows && rc == SDB_OK && !c->dead; i++) {
            rc = sdb_buf_put_u8(&c->out, '[', &e);
            for (uint32_t j = 0; j < r->ncols && rc == SDB_OK; j++) {
                if (j > 0)
                    rc = sdb_buf_put_u8(&c->out, ',', &e);
                if (rc == SDB_OK)
                    rc = sdb_value_json(sdb_result_at(r, i, j), &c->out, &e);
            }
            if (rc == SDB_OK)
                rc = sdb_buf_append(&c->out, "]\n", 2, &e);
            maybe_send(c);
        }
        if (rc != SDB_OK)
            reply_error(c, e.msg, line);
        else
            reply_ok(c, r->nrows, res.elapsed_ms, NULL);
    }
    sdb_run_result_free(&res);
}

/* ---- input ---- */

/* Consume every complete line in c->in. At eof a final statement without LF still runs,
 * but a final write line without LF is refused: a connection that dropped mid-line may have
 * cut it anywhere ("v=123" as "v=12", a timestamp to a third of its digits), and a torn
 * row stored silently is worse than one not stored. */
static void process(tcp_conn *c, bool eof)
{
    size_t pos = 0, run_start = 0, run_end = 0;
    uint64_t run_first = 0, run_lines = 0;
    bool torn = false;
    if (eof && c->in_len > 0 && c->in[c->in_len - 1] != '\n' && !c->skipping) {
        const uint8_t *last = memrchr(c->in, '\n', c->in_len);
        size_t from = last != NULL ? (size_t)(last - c->in) + 1 : 0;
        if (statement_word(c->in + from, c->in_len - from) != NULL || !c->authed)
            c->in[c->in_len++] = '\n'; /* room kept by in_cap */
        else
            torn = true;
    }
    while (pos < c->in_len && !c->closing && !c->dead) {
        uint8_t *nl = memchr(c->in + pos, '\n', c->in_len - pos);
        size_t end, len;
        const char *word;
        if (nl == NULL)
            break;
        end = (size_t)(nl - c->in);
        len = end - pos;
        c->line_no++;
        if (c->skipping) {
            feed_run(c, c->in + run_start, run_end - run_start, run_first, run_lines);
            run_lines = 0;
            c->skipping = false;
            pos = end + 1;
            run_start = run_end = pos;
            continue;
        }
        word = statement_word(c->in + pos, len);
        if (word == NULL && c->authed) {
            if (run_end != pos) { /* not contiguous with the current run */
                feed_run(c, c->in + run_start, run_end - run_start, run_first, run_lines);
                run_start = pos;
                run_lines = 0;
            }
            if (run_lines == 0)
                run_first = c->line_no;
            run_lines++;
            run_end = end + 1;
        } else {
            feed_run(c, c->in + run_start, run_end - run_start, run_first, run_lines);
            run_lines = 0;
            if (word == NULL) {
                atomic_fetch_add(&c->s->metrics.connections_refused, 1);
                reply_error(c,
                            "authentication required: send AUTH <token> first (the server "
                            "runs with --token)",
                            c->line_no);
                c->closing = true;
            } else {
                run_statement(c, word, c->in + pos, len, c->line_no);
            }
            run_start = run_end = end + 1;
        }
        pos = end + 1;
    }
    if (run_lines > 0 && !c->closing)
        feed_run(c, c->in + run_start, run_end - run_start, run_first, run_lines);
    if (torn && !c->closing && !c->dead) {
        atomic_fetch_add(&c->s->metrics.lines_rejected, 1);
        reply_error(c,
                    "the connection ended in the middle of this line (no newline): not "
                    "written",
                    c->line_no + 1);
        c->in_len = pos = 0;
    }
    /* keep the incomplete line */
    if (pos > 0) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
        c->partial_since = c->in_len > 0 ? sdb_server_now_ms() : 0;
    }
    if (c->in_len > c->s->o.max_line && !c->skipping && !c->closing) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "line %llu is longer than the limit of %zu bytes (--max-line); skipped",
                 (unsigned long long)(c->line_no + 1), c->s->o.max_line);
        atomic_fetch_add(&c->s->metrics.lines_rejected, 1);
        reply_error(c, msg, c->line_no + 1);
        c->skipping = true;
        c->in_len = 0;
    }
    if (c->skipping)
        c->in_len = 0;
}

static void *conn_main(void *arg)
{
    tcp_conn *c = arg;
    sdb_server *s = c->s;
    int64_t last = sdb_server_now_ms();
    while (!c->closing && !c->dead) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int64_t now;
        int pr;
        ssize_t n;
        if (atomic_load(&s->stopping)) {
            if (c->authed)
                commit_writes(c, c->line_no);
            reply_error(c, "the server is shutting down", c->line_no);
            break;
        }
        pr = poll(&p, 1, QUIET_COMMIT_MS);
        now = sdb_server_now_ms();
        /* a slow client (a byte a second) never lets poll time out: check every round */
        if ((c->in_len > 0 || c->skipping) && c->partial_since != 0 &&
            now - c->partial_since >= s->o.request_timeout_ms) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "line %llu not completed within %u ms (request timeout); closing",
                     (unsigned long long)(c->line_no + 1), s->o.request_timeout_ms);
            reply_error(c, msg, c->line_no + 1);
            break;
        }
        if (pr <= 0) {
            if (pr < 0 && errno != EINTR)
                break;
            if (c->pending_since != 0)
                commit_writes(c, c->line_no);
            if (now - last >= s->o.idle_timeout_ms) {
                reply_error(c, "idle timeout; closing", c->line_no);
                break;
            }
            conn_send(c);
            continue;
        }
        n = recv(c->fd, c->in + c->in_len, c->in_cap - 1 - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                process(c, true);
            if (c->authed && !c->dead)
                commit_writes(c, c->line_no);
            break;
        }
        last = now;
        if (c->in_len == 0 && !c->skipping)
            c->partial_since = now;
        else if (c->skipping && c->partial_since == 0)
            c->partial_since = now;
        c->in_len += (size_t)n;
        process(c, false);
        if (c->pending_since != 0 && now - c->pending_since >= MAX_PENDING_MS)
            commit_writes(c, c->line_no);
        conn_send(c);
    }
    conn_send(c);
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    sdb_ingest_destroy(c->ing);
    sdb_buf_free(&c->out);
    free(c->in);
    free(c);
    atomic_fetch_sub(&s->metrics.tcp_connections, 1);
    pthread_mutex_lock(&s->mu);
    s->tcp_conns--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void refuse(sdb_server *s, int fd, const char *msg)
{
    (void)send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
    atomic_fetch_add(&s->metrics.connections_refused, 1);
    close(fd);
}

static void start_conn(sdb_server *s, int fd, const struct sockaddr_in *peer)
{
    tcp_conn *c;
    sdb_ingest_opts io;
    sdb_err e;
    pthread_t th;
    pthread_attr_t attr;
    struct timeval tv;
    int one = 1;
    char ip[INET_ADDRSTRLEN];
    pthread_mutex_lock(&s->mu);
    if (s->tcp_conns >= s->o.max_connections) {
        pthread_mutex_unlock(&s->mu);
        sdb_server_logf(s, "level=warn where=tcp msg=\"connection refused: limit of %u\"",
                        s->o.max_connections);
        refuse(s, fd,
               "{\"error\":\"too many connections (limit --max-connections)\",\"line\":0}\n");
        return;
    }
    s->tcp_conns++;
    pthread_mutex_unlock(&s->mu);
    c = calloc(1, sizeof *c);
    if (c != NULL) {
        c->in_cap = s->o.max_line + READ_CHUNK + 1;
        c->in = malloc(c->in_cap);
    }
    memset(&io, 0, sizeof io);
    io.max_line = s->o.max_line;
    io.on_reject = on_reject;
    io.reject_ctx = c;
    io.now_ns = 0;
    if (c == NULL || c->in == NULL || sdb_ingest_create(s->db, &io, &c->ing, &e) != SDB_OK) {
        if (c != NULL)
            free(c->in);
        free(c);
        pthread_mutex_lock(&s->mu);
        s->tcp_conns--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        refuse(s, fd, "{\"error\":\"out of memory\",\"line\":0}\n");
        return;
    }
    c->s = s;
    c->fd = fd;
    c->authed = s->token == NULL;
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);
    snprintf(c->peer, sizeof c->peer, "%s:%u", ip, ntohs(peer->sin_port));
    tv.tv_sec = s->o.request_timeout_ms / 1000;
    tv.tv_usec = (s->o.request_timeout_ms % 1000) * 1000;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    atomic_fetch_add(&s->metrics.tcp_connections, 1);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, conn_main, c) != 0) {
        c->closing = true;
        pthread_attr_destroy(&attr);
        sdb_server_logf(s, "level=error where=tcp msg=\"cannot start a connection thread\"");
        c->dead = true;
        (void)conn_main(c); /* frees c, closes fd */
        return;
    }
    pthread_attr_destroy(&attr);
}

static void *acceptor_main(void *arg)
{
    sdb_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        struct pollfd p = {.fd = s->tcp_fd, .events = POLLIN};
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd;
        if (poll(&p, 1, 100) <= 0)
            continue;
        fd = accept4(s->tcp_fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                sdb_server_logf(s, "level=error where=tcp msg=\"accept: %s\"", strerror(errno));
                usleep(100000);
            }
            continue;
        }
        if (atomic_load(&s->stopping)) {
            refuse(s, fd, "{\"error\":\"the server is shutting down\",\"line\":0}\n");
            break;
        }
        start_conn(s, fd, &peer);
    }
    return NULL;
}

sdb_rc sdb_tcp_start(sdb_server *s, sdb_err *err)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    uint32_t ip;
    uint16_t port;
    int one = 1;
    SDB_TRY(sdb_server_parse_addr(s->o.listen, &ip, &port, err));
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = ip;
    a.sin_port = htons(port);
    if ((s->tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return SDB_FAIL_SYS(err, "tcp %s: socket", s->o.listen);
    setsockopt(s->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s->tcp_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->tcp_fd, 128) != 0) {
        sdb_rc rc = SDB_FAIL_SYS(err, "cannot listen on %s", s->o.listen);
        close(s->tcp_fd);
        s->tcp_fd = -1;
        return rc;
    }
    getsockname(s->tcp_fd, (struct sockaddr *)&a, &alen);
    s->tcp_port = ntohs(a.sin_port);
    if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
        close(s->tcp_fd);
        s->tcp_fd = -1;
        return SDB_FAIL(err, SDB_ERR_NOMEM, "cannot start the TCP acceptor thread");
    }
    s->acceptor_started = true;
    return SDB_OK;
}

void sdb_tcp_stop_accepting(sdb_server *s)
{
    if (s->acceptor_started) {
        pthread_join(s->acceptor, NULL);
        s->acceptor_started = false;
    }
    if (s->tcp_fd >= 0) {
        close(s->tcp_fd);
        s->tcp_fd = -1;
    }
}
