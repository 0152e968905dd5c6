/* TCP line-protocol client (engine/client.h) with a small JSON reader for the reply lines:
 * {"columns":[[name,type],...]}, one array per row, {"ok":true,...}, {"error":...,"line":N}. */
#include "engine/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "storage/common/arena.h"
#include "storage/common/buf.h"
#include "storage/common/timefmt.h"

#define MAX_REPLY_LINE (256u * 1024u * 1024u)

struct sdb_client {
    int fd;
    uint32_t timeout_ms;
    uint64_t lines_sent;     /* lines this client sent (the server numbers them) */
    sdb_buf in;              /* received, not yet consumed */
    size_t in_pos;
    char last_write_error[512];
};

/* ---- JSON values ---- */

typedef struct jv {
    char kind;               /* 'z' null, 'b' bool, 'n' number, 's' string, 'a' array, 'o' object */
    bool b;
    const char *num;         /* number text, NUL terminated copy */
    char *s;                 /* string (NUL terminated, may hold NULs: see slen) */
    size_t slen;
    uint32_t n;              /* array items / object members */
    struct jv *items;
    char **keys;             /* object member names */
} jv;

typedef struct jp {
    const char *p, *end;
    sdb_arena *a;
    int depth;
} jp;

static void skip_ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool read_u4(jp *j, uint32_t *cp)
{
    uint32_t v = 0;
    if (j->end - j->p < 4)
        return false;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0)
            return false;
        v = v * 16 + (uint32_t)h;
    }
    j->p += 4;
    *cp = v;
    return true;
}

static bool parse_string(jp *j, char **out, size_t *outlen)
{
    const char *start = ++j->p;
    char *o, *w;
    while (j->p < j->end && *j->p != '"') /* upper bound of the decoded size */
        j->p += (*j->p == '\\' && j->p + 1 < j->end) ? 2 : 1;
    if (j->p >= j->end)
        return false;
    if ((o = sdb_arena_alloc(j->a, (size_t)(j->p - start) + 1, NULL)) == NULL)
        return false;
    w = o;
    for (const char *q = start; q < j->p;) {
        if (*q != '\\') {
            *w++ = *q++;
            continue;
        }
        q++;
        switch (*q) {
        case 'n': *w++ = '\n'; q++; break;
        case 't': *w++ = '\t'; q++; break;
        case 'r': *w++ = '\r'; q++; break;
        case 'b': *w++ = '\b'; q++; break;
        case 'f': *w++ = '\f'; q++; break;
        case 'u': {
            jp t = {q + 1, j->p, j->a, 0};
            uint32_t cp, lo;
            if (!read_u4(&t, &cp))
                return false;
            if (cp >= 0xD800 && cp < 0xDC00 && t.end - t.p >= 6 && t.p[0] == '\\' &&
                t.p[1] == 'u') {
                t.p += 2;
                if (!read_u4(&t, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            w += put_utf8(w, cp);
            q = t.p;
            break;
        }
        default: *w++ = *q++; break;
        }
    }
    *w = '\0';
    *out = o;
    *outlen = (size_t)(w - o);
    j->p++;
    return true;
}

static bool parse_value(jp *j, jv *v)
{
    skip_ws(j);
    memset(v, 0, sizeof *v);
    if (j->p >= j->end || ++j->depth > 16)
        return false;
    if (*j->p == '"') {
        v->kind = 's';
        return parse_string(j, &v->s, &v->slen) && (j->depth--, true);
    }
    if (*j->p == '[' || *j->p == '{') {
        bool obj = *j->p == '{';
        char close = obj ? '}' : ']';
        uint32_t cap = 0;
        v->kind = obj ? 'o' : 'a';
        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            j->depth--;
            return true;
        }
        for (;;) {
            char *key = NULL;
            size_t klen;
            if (v->n == cap) {
                uint32_t nc = cap ? cap * 2 : 8;
                jv *ni = sdb_arena_alloc(j->a, nc * sizeof *ni, NULL);
                char **nk = sdb_arena_alloc(j->a, nc * sizeof *nk, NULL);
                if (ni == NULL || nk == NULL)
                    return false;
                if (v->n > 0) {
                    memcpy(ni, v->items, v->n * sizeof *ni);
                    memcpy(nk, v->keys, v->n * sizeof *nk);
                }
                v->items = ni;
                v->keys = nk;
                cap = nc;
            }
            if (obj) {
                skip_ws(j);
                if (j->p >= j->end || *j->p != '"' || !parse_string(j, &key, &klen))
                    return false;
                skip_ws(j);
                if (j->p >= j->end || *j->p != ':')
                    return false;
                j->p++;
            }
            if (!parse_value(j, &v->items[v->n]))
                return false;
            v->keys[v->n++] = key;
            skip_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                j->depth--;
                return true;
            }
            return false;
        }
    }
    if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
        v->kind = 'z';
        j->p += 4;
    } else if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
        v->kind = 'b';
        v->b = true;
        j->p += 4;
    } else if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
        v->kind = 'b';
        j->p += 5;
    } else {
        const char *s = j->p;
        while (j->p < j->end && strchr("+-0123456789.eE", *j->p) != NULL)
            j->p++;
        if (j->p == s)
            return false;
        v->kind = 'n';
        if ((v->num = sdb_arena_strndup(j->a, s, (size_t)(j->p - s), NULL)) == NULL)
            return false;
    }
    j->depth--;
    return true;
}

static const jv *member(const jv *o, const char *key)
{
    if (o->kind != 'o')
        return NULL;
    for (uint32_t i = 0; i < o->n; i++)
        if (o->keys[i] != NULL && strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}

/* ---- socket ---- */

static sdb_rc wait_fd(sdb_client *c, short ev, sdb_err *err)
{
    struct pollfd p = {.fd = c->fd, .events = ev};
    int r;
    do
        r = poll(&p, 1, c->timeout_ms > 0 ? (int)c->timeout_ms : -1);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return SDB_FAIL(err, SDB_ERR_IO, "the server did not answer within %u ms", c->timeout_ms);
    if (r < 0)
        return SDB_FAIL_SYS(err, "poll");
    return SDB_OK;
}

sdb_rc sdb_client_send(sdb_client *c, const void *data, size_t len, sdb_err *err)
{
    const char *p = data;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\n')
            c->lines_sent++;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            SDB_TRY(wait_fd(c, POLLOUT, err));
            continue;
        }
        if (n <= 0)
            return SDB_FAIL_SYS(err, "send to the server");
        p += n;
        len -= (size_t)n;
    }
    return SDB_OK;
}

/* The next reply line (without LF), borrowed until the next call. */
static sdb_rc read_line(sdb_client *c, const char **line, size_t *len, sdb_err *err)
{
    for (;;) {
        uint8_t *start = c->in.data + c->in_pos;
        uint8_t *nl = c->in.len > c->in_pos ? memchr(start, '\n', c->in.len - c->in_pos) : NULL;
        ssize_t n;
        if (nl != NULL) {
            *line = (const char *)start;
            *len = (size_t)(nl - start);
            c->in_pos += *len + 1;
            return SDB_OK;
        }
        if (c->in_pos > 0) {
            memmove(c->in.data, c->in.data + c->in_pos, c->in.len - c->in_pos);
            c->in.len -= c->in_pos;
            c->in_pos = 0;
        }
        if (c->in.len > MAX_REPLY_LINE)
            return SDB_FAIL(err, SDB_ERR_LIMIT, "a reply line is longer than %u bytes",
                            MAX_REPLY_LINE);
        SDB_TRY(sdb_buf_reserve(&c->in, 64 * 1024, err));
        SDB_TRY(wait_fd(c, POLLIN, err));
        n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return SDB_FAIL_SYS(err, "receive from the server");
        if (n == 0)
            return SDB_FAIL(err, SDB_ERR_IO, "the server closed the connection");
        c->in.len += (size_t)n;
    }
}

sdb_rc sdb_client_connect(const char *addr, const char *token, uint32_t timeout_ms,
                          sdb_client **out, sdb_err *err)
{
    const char *colon = strrchr(addr, ':');
    char host[64];
    struct sockaddr_in a;
    sdb_client *c;
    int one = 1;
    sdb_rc rc;
    *out = NULL;
    if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "address '%s': expected HOST:PORT", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    if (host[0] == '\0' || strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || atoi(colon + 1) <= 0 ||
        atoi(colon + 1) > 65535)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "address '%s': expected IPv4-HOST:PORT", addr);
    if ((c = calloc(1, sizeof *c)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a client");
    c->timeout_ms = timeout_ms;
    if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        free(c);
        return SDB_FAIL_SYS(err, "socket");
    }
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        rc = SDB_FAIL_SYS(err, "cannot connect to %s", addr);
        sdb_client_close(c);
        return rc;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (token != NULL && token[0] != '\0') {
        sdb_run_result r;
        char *line = malloc(strlen(token) + 8);
        if (line == NULL) {
            sdb_client_close(c);
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
        }
        sprintf(line, "AUTH %s", token);
        rc = sdb_client_query(c, line, &r, NULL, err);
        free(line);
        if (rc != SDB_OK) {
            sdb_client_close(c);
            return rc;
        }
        sdb_run_result_free(&r);
    }
    *out = c;
    return SDB_OK;
}

void sdb_client_close(sdb_client *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    sdb_buf_free(&c->in);
    free(c);
}

const char *sdb_client_last_write_error(const sdb_client *c)
{
    return c->last_write_error;
}

/* One JSON cell of a row into v, typed t. */
static sdb_rc cell(sdb_arena *a, const jv *x, sdb_type t, sdb_value *v, sdb_err *err)
{
    v->type = t;
    v->null = x->kind == 'z';
    if (v->null)
        return SDB_OK;
    switch (t) {
    case SDB_TYPE_TIMESTAMP:
        if (x->kind == 's')
            return sdb_time_parse(x->s, x->slen, &v->u.i, err);
        if (x->kind == 'n') {
            v->u.i = strtoll(x->num, NULL, 10);
            return SDB_OK;
        }
        break;
    case SDB_TYPE_INT64:
        if (x->kind == 'n') {
            v->u.i = strtoll(x->num, NULL, 10);
            return SDB_OK;
        }
        break;
    case SDB_TYPE_FLOAT64:
        if (x->kind == 'n') {
            v->u.f = strtod(x->num, NULL);
            return SDB_OK;
        }
        break;
    case SDB_TYPE_BOOL:
        if (x->kind == 'b') {
            v->u.b = x->b;
            return SDB_OK;
        }
        break;
    case SDB_TYPE_SYMBOL:
    case SDB_TYPE_STRING:
        if (x->kind == 's' && x->slen <= UINT32_MAX) {
            v->u.s.p = x->s;
            v->u.s.len = (uint32_t)x->slen;
            return SDB_OK;
        }
        break;
    }
    (void)a;
    return SDB_FAIL(err, SDB_ERR_PARSE, "the server sent a %s value of the wrong kind",
                    sdb_type_name(t));
}

sdb_rc sdb_client_query(sdb_client *c, const char *sql, sdb_run_result *out,
                        uint64_t *write_errors, sdb_err *err)
{
    size_t n = strlen(sql);
    char *line = malloc(n + 1);
    sdb_arena *a = NULL;
    sdb_result *r = NULL;
    uint64_t my_line, cap = 0;
    sdb_rc rc = SDB_OK;
    memset(out, 0, sizeof *out);
    if (line == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
    for (size_t i = 0; i < n; i++)
        line[i] = (sql[i] == '\n' || sql[i] == '\r') ? ' ' : sql[i];
    line[n] = '\n';
    rc = sdb_client_send(c, line, n + 1, err);
    free(line);
    if (rc != SDB_OK)
        return rc;
    my_line = c->lines_sent;
    if ((a = sdb_arena_create(0)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
    for (;;) {
        const char *l = NULL;
        size_t ll = 0;
        jv v;
        jp j;
        const jv *x;
        if ((rc = read_line(c, &l, &ll, err)) != SDB_OK)
            break;
        j.p = l;
        j.end = l + ll;
        j.a = a;
        j.depth = 0;
        if (!parse_value(&j, &v)) {
            rc = SDB_FAIL(err, SDB_ERR_PARSE, "the server sent a reply that is not JSON: %.80s",
                          l);
            break;
        }
        if (v.kind == 'a') { /* a row */
            if (r == NULL || v.n != r->ncols) {
                rc = SDB_FAIL(err, SDB_ERR_PARSE, "the server sent a row of %u values", v.n);
                break;
            }
            if (r->nrows == cap) {
                uint64_t nc = cap ? cap * 2 : 64;
                sdb_value *cells = sdb_arena_alloc(a, nc * r->ncols * sizeof *cells, err);
                if (cells == NULL) {
                    rc = err->code;
                    break;
                }
                if (r->nrows > 0)
                    memcpy(cells, r->cells, r->nrows * r->ncols * sizeof *cells);
                r->cells = cells;
                cap = nc;
            }
            for (uint32_t k = 0; k < v.n && rc == SDB_OK; k++)
                rc = cell(a, &v.items[k], r->types[k], &r->cells[r->nrows * r->ncols + k], err);
            if (rc != SDB_OK)
                break;
            r->nrows++;
            continue;
        }
        if ((x = member(&v, "columns")) != NULL && x->kind == 'a') {
            if ((r = sdb_arena_calloc(a, 1, sizeof *r, err)) == NULL ||
                (r->names = sdb_arena_calloc(a, x->n + 1, sizeof *r->names, err)) == NULL ||
                (r->types = sdb_arena_calloc(a, x->n + 1, sizeof *r->types, err)) == NULL) {
                rc = err->code;
                break;
            }
            r->ncols = x->n;
            r->arena = a;
            for (uint32_t k = 0; k < x->n; k++) {
                const jv *col = &x->items[k];
                if (col->kind != 'a' || col->n != 2 || col->items[0].kind != 's' ||
                    col->items[1].kind != 's' ||
                    !sdb_type_parse(col->items[1].s, col->items[1].slen, &r->types[k])) {
                    rc = SDB_FAIL(err, SDB_ERR_PARSE, "the server sent a bad column list");
                    break;
                }
                r->names[k] = col->items[0].s;
            }
            if (rc != SDB_OK)
                break;
            continue;
        }
        if ((x = member(&v, "error")) != NULL && x->kind == 's') {
            const jv *ln = member(&v, "line");
            uint64_t at = ln != NULL && ln->kind == 'n' ? strtoull(ln->num, NULL, 10) : 0;
            if (at != my_line && at != 0) { /* about an earlier write line */
                if (write_errors != NULL)
                    (*write_errors)++;
                snprintf(c->last_write_error, sizeof c->last_write_error, "line %llu: %s",
                         (unsigned long long)at, x->s);
                continue;
            }
            rc = SDB_FAIL(err, SDB_ERR_PARSE, "%s", x->s);
            break;
        }
        if ((x = member(&v, "ok")) != NULL) {
            const jv *ms = member(&v, "elapsed_ms"), *msg = member(&v, "message");
            out->elapsed_ms = ms != NULL && ms->kind == 'n' ? strtod(ms->num, NULL) : 0;
            if (msg != NULL && msg->kind == 's')
                snprintf(out->message, sizeof out->message, "%s", msg->s);
            out->rows = r;
            if (r == NULL)
                sdb_arena_destroy(a);
            return SDB_OK;
        }
        rc = SDB_FAIL(err, SDB_ERR_PARSE, "the server sent an unexpected reply: %.80s", l);
        break;
    }
    sdb_arena_destroy(a);
    return rc;
}
