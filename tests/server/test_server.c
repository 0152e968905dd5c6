/* Integration tests of the server in-process (engine/server.h): the TCP line protocol and
 * the HTTP API on ephemeral 127.0.0.1 ports, auth, every limit, slow and vanishing
 * clients. Each test starts its own server on its own temporary data directory. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/client.h"
#include "engine/server.h"
#include "tests/server/helpers.h"
#include "tests/support/tmpdir.h"

static sdb_server *srv;
static char body[1 << 20];
static sdb_server_opts opts;

static void setup(void)
{
    tmpdir_setup();
    signal(SIGPIPE, SIG_IGN);
    sdb_server_opts_default(&opts);
    opts.data_dir = sdb_test_dir;
    opts.listen = "127.0.0.1:0";
    opts.http = "127.0.0.1:0";
    opts.threads = 2;
    opts.query_slots = 4;
    srv = NULL;
}

static void teardown(void)
{
    sdb_err err;
    if (srv != NULL)
        cr_expect(eq(int, sdb_server_stop(srv, 1000, &err), SDB_OK));
    tmpdir_teardown();
}

static void start(void)
{
    sdb_err err;
    cr_assert(eq(int, sdb_server_start(&opts, &srv, &err), SDB_OK), "%s", err.msg);
}

static uint16_t tport(void)
{
    return sdb_server_tcp_port(srv);
}

static uint16_t hport(void)
{
    return sdb_server_http_port(srv);
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 60);

Test(server, tcp_write_then_select_reads_own_writes)
{
    char line[4096], rows[4096];
    int fd;
    start();
    fd = th_connect(tport());
    cr_assert(fd >= 0);
    th_send(fd, "cpu,host=a v=1i,s=\"x y\" 1000\ncpu,host=b v=2i 2000\n"
                "SELECT host, v, s FROM cpu ORDER BY host\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, rows, sizeof rows), 0));
    cr_assert(zero(int, strncmp(line, "{\"ok\":true,\"rows\":2,", 20)), "%s", line);
    cr_assert(not(eq(ptr, strstr(rows, "{\"columns\":[[\"host\",\"symbol\"],[\"v\",\"int64\"],"
                                       "[\"s\",\"string\"]]}"),
                     NULL)),
              "%s", rows);
    cr_assert(not(eq(ptr, strstr(rows, "[\"a\",1,\"x y\"]\n[\"b\",2,null]\n"), NULL)), "%s", rows);
    close(fd);
}

Test(server, tcp_bad_lines_mixed_with_good_keep_good_and_name_line)
{
    char line[4096], errs[4096];
    int fd;
    start();
    fd = th_connect(tport());
    th_send(fd, "m v=1i 1\nm v=oops 2\nPING\nm v=3i 3\nm,t= v=1i 4\nSELECT count(*) FROM m\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "\"line\":2"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "'oops'"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "pong"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "\"line\":5"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, errs, sizeof errs), 0));
    cr_assert(not(eq(ptr, strstr(errs, "[2]"), NULL)), "%s", errs);
    close(fd);
}

Test(server, tcp_stream_ending_mid_line_keeps_whole_lines_and_refuses_the_torn_one)
{
    char line[4096], rows[4096];
    int fd;
    start();
    fd = th_connect(tport());
    /* the last line lost its end ("v=30i 3" cut to "v=3"): it must not become v=3 */
    th_send(fd, "m v=10i 1\nm v=20i 2\nm v=3");
    shutdown(fd, SHUT_WR);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "middle of this line"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "\"line\":3"), NULL)), "%s", line);
    close(fd);
    fd = th_connect(tport());
    /* a final statement without a newline still runs */
    th_send(fd, "SELECT count(*), sum(v) FROM m");
    shutdown(fd, SHUT_WR);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, rows, sizeof rows), 0));
    cr_assert(not(eq(ptr, strstr(rows, "[2,30]"), NULL)), "%s", rows);
    close(fd);
}

Test(server, tcp_type_conflict_rejects_line_naming_table_column_types)
{
    char line[4096], rows[4096];
    int fd;
    start();
    fd = th_connect(tport());
    th_send(fd, "t v=1.5 1\nFLUSH\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    th_send(fd, "t v=\"text\" 2\nt v=2i 3\nSELECT v FROM t ORDER BY time\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "'v'"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "'t'"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "float64"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "string"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "\"line\":3"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, rows, sizeof rows), 0));
    /* the integer is widened to float64 */
    cr_assert(not(eq(ptr, strstr(rows, "[1.5]\n[2]\n"), NULL)), "%s", rows);
    close(fd);
}

Test(server, tcp_batches_across_memtable_chunks_keep_each_row_once)
{
    char line[4096], rows[4096];
    char *buf = malloc(4 * 1024 * 1024);
    int fd;
    start();
    fd = th_connect(tport());
    for (int batch = 0; batch < 3; batch++) {
        size_t n = 0;
        for (int i = batch * 30000; i < (batch + 1) * 30000; i++)
            n += (size_t)sprintf(buf + n, "c id=%di %d\n", i, i + 1);
        th_send_n(fd, buf, n);
        th_send(fd, "FLUSH\n");
        cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
        cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    }
    th_send(fd, "SELECT count(*), count(DISTINCT id), sum(id) FROM c\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, rows, sizeof rows), 0));
    cr_assert(not(eq(ptr, strstr(rows, "[90000,90000,4049955000]"), NULL)), "%s", rows);
    free(buf);
    close(fd);
}

Test(server, tcp_statement_error_keeps_connection_usable)
{
    char line[4096];
    int fd;
    start();
    fd = th_connect(tport());
    th_send(fd, "SELECT * FORM nowhere\nPING\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "{\"error\":\"parse error at 1:10"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "\"line\":1"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "pong"), NULL)), "%s", line);
    close(fd);
}

Test(server, tcp_auth_on_refuses_without_token_and_accepts_with_it)
{
    char line[4096];
    int fd;
    opts.token = "s3cret";
    start();
    fd = th_connect(tport());
    th_send(fd, "m v=1i 1\n");
    cr_assert(gt(int, th_line(fd, line, sizeof line), 0));
    cr_assert(not(eq(ptr, strstr(line, "authentication required"), NULL)), "%s", line);
    cr_assert(th_closed(fd));
    close(fd);
    fd = th_connect(tport());
    th_send(fd, "AUTH wrong\n");
    cr_assert(gt(int, th_line(fd, line, sizeof line), 0));
    cr_assert(not(eq(ptr, strstr(line, "invalid token"), NULL)), "%s", line);
    cr_assert(th_closed(fd));
    close(fd);
    fd = th_connect(tport());
    th_send(fd, "AUTH s3cret\nm v=1i 1\nSELECT count(*) FROM m\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "authenticated"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(zero(int, strncmp(line, "{\"ok\":true,\"rows\":1", 19)), "%s", line);
    close(fd);
}

Test(server, tcp_line_over_limit_is_skipped_and_connection_stays_usable)
{
    char line[4096], rows[4096];
    char *big;
    int fd;
    opts.max_line = 1024;
    start();
    fd = th_connect(tport());
    big = malloc(5000);
    memset(big, 'x', 4999);
    memcpy(big, "m s=\"", 5);
    big[4999] = '\0';
    th_send(fd, "m v=1i 1\n");
    th_send(fd, big);
    th_send(fd, "\"\nm v=2i 2\nSELECT count(*) FROM m\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "longer than the limit of 1024 bytes"), NULL)), "%s", line);
    cr_assert(not(eq(ptr, strstr(line, "\"line\":2"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, rows, sizeof rows), 0));
    cr_assert(not(eq(ptr, strstr(rows, "[2]"), NULL)), "%s", rows);
    free(big);
    close(fd);
}

Test(server, tcp_connections_over_limit_are_refused_with_error)
{
    char line[4096];
    int a, b, c;
    opts.max_connections = 2;
    start();
    a = th_connect(tport());
    b = th_connect(tport());
    th_send(a, "PING\n");
    th_send(b, "PING\n");
    cr_assert(gt(int, th_reply(a, line, sizeof line, NULL, 0), 0));
    cr_assert(gt(int, th_reply(b, line, sizeof line, NULL, 0), 0));
    c = th_connect(tport());
    cr_assert(gt(int, th_line(c, line, sizeof line), 0));
    cr_assert(not(eq(ptr, strstr(line, "too many connections"), NULL)), "%s", line);
    cr_assert(th_closed(c));
    close(c);
    close(a);
    usleep(300000); /* the server notices a's close within its poll interval */
    c = th_connect(tport());
    th_send(c, "PING\n");
    cr_assert(gt(int, th_reply(c, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "pong"), NULL)), "%s", line);
    close(b);
    close(c);
}

Test(server, tcp_idle_client_is_timed_out)
{
    char line[4096];
    int fd;
    opts.idle_timeout_ms = 300;
    start();
    fd = th_connect(tport());
    cr_assert(gt(int, th_line(fd, line, sizeof line), 0));
    cr_assert(not(eq(ptr, strstr(line, "idle timeout"), NULL)), "%s", line);
    cr_assert(th_closed(fd));
    close(fd);
}

Test(server, tcp_slow_client_byte_at_a_time_is_timed_out)
{
    char line[4096];
    const char *msg = "m v=1i 1 and more bytes that never end";
    int fd;
    opts.request_timeout_ms = 300;
    start();
    fd = th_connect(tport());
    for (int i = 0; msg[i] != '\0'; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        th_send_n(fd, msg + i, 1);
        if (poll(&p, 1, 50) == 1)
            break;
    }
    cr_assert(gt(int, th_line(fd, line, sizeof line), 0));
    cr_assert(not(eq(ptr, strstr(line, "request timeout"), NULL)), "%s", line);
    cr_assert(th_closed(fd));
    close(fd);
}

Test(server, tcp_query_over_memory_limit_fails_and_connection_stays)
{
    char line[4096];
    char *buf = malloc(2 * 1024 * 1024);
    size_t n = 0;
    int fd;
    opts.query_memory = 64 * 1024;
    start();
    fd = th_connect(tport());
    for (int i = 0; i < 20000; i++)
        n += (size_t)sprintf(buf + n, "m,k=k%d v=%di,s=\"id-%d\" %d\n", i, i, i, i + 1);
    th_send_n(fd, buf, n);
    th_send(fd, "SELECT s, count(*) FROM m GROUP BY s\nPING\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "--query-memory"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "pong"), NULL)), "%s", line);
    free(buf);
    close(fd);
}

/* 200,000 rows with distinct strings: a query that takes well over the watchdog's 50 ms */
static void load_many(int fd)
{
    char line[4096];
    char *buf = malloc(16 * 1024 * 1024);
    size_t n = 0;
    for (int i = 0; i < 200000; i++)
        n += (size_t)sprintf(buf + n, "m,k=k%d v=%di,s=\"id-%d\" %d\n", i % 100, i, i, i + 1);
    th_send_n(fd, buf, n);
    th_send(fd, "FLUSH\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    free(buf);
}

Test(server, tcp_query_over_timeout_is_cancelled_and_connection_stays)
{
    char line[4096];
    int fd;
    opts.query_timeout_ms = 1;
    opts.threads = 1;
    start();
    fd = th_connect(tport());
    load_many(fd);
    th_send(fd, "SELECT s, count(*), quantile_exact(v, 0.5) FROM m GROUP BY s ORDER BY 2 DESC\n"
                "PING\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "--query-timeout"), NULL)), "%s", line);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "pong"), NULL)), "%s", line);
    close(fd);
}

Test(server, tcp_writes_and_other_connections_go_on_during_a_long_query)
{
    char line[4096], rows[4096];
    int slow, fast;
    opts.query_slots = 1; /* the long query holds the only slot: writes need none */
    opts.threads = 1;
    start();
    slow = th_connect(tport());
    load_many(slow);
    th_send(slow, "SELECT s, count(*), quantile_exact(v, 0.5) FROM m GROUP BY s ORDER BY 2 DESC "
                  "LIMIT 1\n");
    fast = th_connect(tport());
    th_send(fast, "w v=1i 1\nw v=2i 2\nFLUSH\n");
    cr_assert(gt(int, th_reply(fast, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    th_send(fast, "SELECT sum(v) FROM w\n");
    cr_assert(gt(int, th_reply(fast, line, sizeof line, rows, sizeof rows), 0));
    cr_assert(not(eq(ptr, strstr(rows, "[3]"), NULL)), "%s", rows);
    cr_assert(gt(int, th_reply(slow, line, sizeof line, NULL, 0), 0));
    cr_assert(zero(int, strncmp(line, "{\"ok\":true,\"rows\":1", 19)), "%s", line);
    close(slow);
    close(fast);
}

Test(server, tcp_client_vanishing_mid_result_costs_only_its_work)
{
    char line[4096];
    char *buf = malloc(4 * 1024 * 1024);
    size_t n = 0;
    int fd, other;
    start();
    fd = th_connect(tport());
    for (int i = 0; i < 50000; i++)
        n += (size_t)sprintf(buf + n, "m,k=k%d v=%di,s=\"some longer text %d\" %d\n", i % 97, i,
                             i, i + 1);
    th_send_n(fd, buf, n);
    th_send(fd, "FLUSH\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    th_send(fd, "SELECT * FROM m\n");
    close(fd); /* gone before reading anything */
    other = th_connect(tport());
    th_send(other, "SELECT count(*) FROM m\n");
    cr_assert(gt(int, th_reply(other, line, sizeof line, NULL, 0), 0));
    cr_assert(zero(int, strncmp(line, "{\"ok\":true,\"rows\":1", 19)), "%s", line);
    close(other);
    free(buf);
    /* the vanished connection ends: only the open one is counted */
    for (int i = 0; i < 100; i++) {
        th_http(hport(), "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
        if (strstr(body, "spandb_open_connections{protocol=\"tcp\"} 0\n") != NULL)
            break;
        usleep(50000);
    }
    cr_assert(not(eq(ptr, strstr(body, "spandb_open_connections{protocol=\"tcp\"} 0\n"), NULL)),
              "%s", body);
}

Test(server, client_library_runs_statements_and_rebuilds_results)
{
    sdb_client *c;
    sdb_run_result r;
    sdb_err err;
    char addr[64];
    uint64_t werr = 0;
    start();
    snprintf(addr, sizeof addr, "127.0.0.1:%u", tport());
    cr_assert(eq(int, sdb_client_connect(addr, NULL, 5000, &c, &err), SDB_OK), "%s", err.msg);
    cr_assert(eq(int, sdb_client_send(c, "q,m=gpt\\ 4 v=1.25,n=3i,ok=true,s=\"a\\\"b\" 5\nq v=x\n", 48,
                                      &err),
                 SDB_OK));
    cr_assert(eq(int, sdb_client_query(c, "SELECT time, m, v, n, ok, s FROM q", &r, &werr, &err),
                 SDB_OK),
              "%s", err.msg);
    cr_assert(eq(u64, werr, 1));
    cr_assert(not(eq(ptr, r.rows, NULL)));
    cr_assert(eq(u64, r.rows->nrows, 1));
    cr_assert(eq(i64, sdb_result_at(r.rows, 0, 0)->u.i, 5));
    cr_assert(eq(int, (int)sdb_result_at(r.rows, 0, 1)->u.s.len, 5));
    cr_assert(zero(int, memcmp(sdb_result_at(r.rows, 0, 1)->u.s.p, "gpt 4", 5)));
    cr_assert(eq(dbl, sdb_result_at(r.rows, 0, 2)->u.f, 1.25));
    cr_assert(eq(i64, sdb_result_at(r.rows, 0, 3)->u.i, 3));
    cr_assert(sdb_result_at(r.rows, 0, 4)->u.b);
    cr_assert(zero(int, memcmp(sdb_result_at(r.rows, 0, 5)->u.s.p, "a\"b", 3)));
    sdb_run_result_free(&r);
    cr_assert(eq(int, sdb_client_query(c, "SELECT nope FROM q", &r, NULL, &err), SDB_ERR_PARSE));
    cr_assert(not(eq(ptr, strstr(err.msg, "nope"), NULL)), "%s", err.msg);
    sdb_client_close(c);
}

Test(server, client_library_with_wrong_token_fails_clearly)
{
    sdb_client *c;
    sdb_err err;
    char addr[64];
    opts.token = "abc";
    start();
    snprintf(addr, sizeof addr, "127.0.0.1:%u", tport());
    cr_assert(not(eq(int, sdb_client_connect(addr, "abd", 5000, &c, &err), SDB_OK)));
    cr_assert(not(eq(ptr, strstr(err.msg, "invalid token"), NULL)), "%s", err.msg);
}

/* ---- HTTP ---- */

Test(server, http_write_then_query_in_every_format)
{
    const char *lines = "h,model=a lat=1.5,n=2i 1000000000\nh,model=b lat=2.5,n=3i 2000000000\n";
    int st;
    start();
    st = th_http(hport(), "POST", "/write", NULL, lines, strlen(lines), body, sizeof body);
    cr_assert(eq(int, st, 204), "%d %s", st, body);
    st = th_http(hport(), "GET", "/query?q=SELECT%20model,lat%20FROM%20h%20ORDER%20BY%20model",
                 NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 200), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "\"rows\":[[\"a\",1.5],[\"b\",2.5]]"), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/query?q=SELECT+model,n+FROM+h+ORDER+BY+model&format=csv", NULL,
                 NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 200), "%s", body);
    cr_assert(strstr(body, "model,n\r\na,2\r\nb,3\r\n") != NULL ||
                  strstr(body, "model,n\na,2\nb,3\n") != NULL,
              "%s", body);
    st = th_http(hport(), "POST", "/query?format=jsonl", NULL, "SELECT count(*) AS c FROM h", 27,
                 body, sizeof body);
    cr_assert(eq(int, st, 200), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "{\"c\":2}"), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/query?q=SELEC", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 400));
    cr_assert(not(eq(ptr, strstr(body, "{\"error\":\"parse error"), NULL)), "%s", body);
}

Test(server, http_v2_write_partial_keeps_good_lines_and_lists_bad_ones)
{
    const char *lines = "ignored v=1i 1\nignored v=zz 2\nignored v=3i 3\n";
    int st;
    start();
    st = th_http(hport(), "POST", "/api/v2/write?bucket=tb&precision=s", NULL, lines,
                 strlen(lines), body, sizeof body);
    cr_assert(eq(int, st, 400), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "\"rejected\":[{\"line\":2,\"error\":"), NULL)), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "'zz'"), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/query?q=SELECT+time,v+FROM+tb+ORDER+BY+time&format=csv", NULL,
                 NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 200), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "1970-01-01T00:00:01Z,1"), NULL)), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "1970-01-01T00:00:03Z,3"), NULL)), "%s", body);
    st = th_http(hport(), "POST", "/api/v2/write?precision=s", NULL, lines, strlen(lines), body,
                 sizeof body);
    cr_assert(eq(int, st, 400));
    cr_assert(not(eq(ptr, strstr(body, "bucket is required"), NULL)), "%s", body);
}

Test(server, http_gzip_body_is_accepted)
{
    const char *lines = "gz v=1i 1\ngz v=2i 2\n";
    unsigned char z[256];
    z_stream s;
    int st;
    start();
    memset(&s, 0, sizeof s);
    cr_assert(eq(int, deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK));
    s.next_in = (unsigned char *)(uintptr_t)lines;
    s.avail_in = (uInt)strlen(lines);
    s.next_out = z;
    s.avail_out = sizeof z;
    cr_assert(eq(int, deflate(&s, Z_FINISH), Z_STREAM_END));
    deflateEnd(&s);
    st = th_http(hport(), "POST", "/write", "Content-Encoding: gzip\r\n", z, sizeof z - s.avail_out,
                 body, sizeof body);
    cr_assert(eq(int, st, 204), "%s", body);
    st = th_http(hport(), "POST", "/write", "Content-Encoding: gzip\r\n", "notgzip", 7, body,
                 sizeof body);
    cr_assert(eq(int, st, 400), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "not valid gzip"), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/query?q=SELECT+sum(v)+AS+s+FROM+gz&format=jsonl", NULL, NULL, 0,
                 body, sizeof body);
    cr_assert(not(eq(ptr, strstr(body, "{\"s\":3}"), NULL)), "%s", body);
}

Test(server, http_body_over_limit_is_413)
{
    char big[4096];
    int st;
    opts.max_body = 1000;
    start();
    memset(big, 'a', sizeof big);
    st = th_http(hport(), "POST", "/write", NULL, big, sizeof big, body, sizeof body);
    cr_assert(eq(int, st, 413), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "--max-body"), NULL)), "%s", body);
}

Test(server, http_auth_bearer_and_token_schemes)
{
    int st;
    opts.token = "tok";
    start();
    st = th_http(hport(), "GET", "/query?q=SHOW+TABLES", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 401));
    cr_assert(not(eq(ptr, strstr(body, "authentication required"), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/query?q=SHOW+TABLES", "Authorization: Bearer nope\r\n", NULL, 0,
                 body, sizeof body);
    cr_assert(eq(int, st, 401));
    st = th_http(hport(), "GET", "/query?q=SHOW+TABLES", "Authorization: Bearer tok\r\n", NULL, 0,
                 body, sizeof body);
    cr_assert(eq(int, st, 200), "%s", body);
    st = th_http(hport(), "POST", "/api/v2/write?bucket=x", "Authorization: Token tok\r\n",
                 "x v=1i 1\n", 9, body, sizeof body);
    cr_assert(eq(int, st, 204), "%s", body);
    st = th_http(hport(), "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 401));
    st = th_http(hport(), "GET", "/health", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 200));
}

Test(server, http_health_and_metrics)
{
    int st, fd;
    char line[256];
    start();
    fd = th_connect(tport());
    th_send(fd, "mm v=1i 1\nmm v=x 2\nSELECT count(*) FROM mm\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    st = th_http(hport(), "GET", "/health", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 200));
    cr_assert(not(eq(ptr, strstr(body, "\"status\":\"ok\""), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 200));
    cr_assert(not(eq(ptr, strstr(body, "spandb_rows_ingested_total 1\n"), NULL)), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "spandb_lines_rejected_total 1\n"), NULL)), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "spandb_queries_total 1\n"), NULL)), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "spandb_open_connections{protocol=\"tcp\"} 1\n"), NULL)),
              "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "spandb_memtable_rows 1\n"), NULL)), "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "spandb_query_duration_seconds_bucket{le=\"+Inf\"} 1"),
                     NULL)),
              "%s", body);
    cr_assert(not(eq(ptr, strstr(body, "spandb_wal_bytes "), NULL)), "%s", body);
    st = th_http(hport(), "GET", "/nothing", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 404));
    close(fd);
}

Test(server, http_slow_body_is_cut_off)
{
    const char *head = "POST /write HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200\r\n\r\n";
    int fd, closed = 0;
    opts.request_timeout_ms = 300;
    start();
    fd = th_connect(hport());
    th_send(fd, head);
    for (int i = 0; i < 60 && !closed; i++) { /* a byte every 50 ms: 3 s for the body */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        th_send_n(fd, "x", 1);
        if (poll(&p, 1, 50) == 1)
            closed = th_closed(fd);
    }
    cr_assert(closed, "the server kept a slow body open");
    close(fd);
}

Test(server, http_slow_headers_are_cut_off)
{
    int fd, closed = 0;
    opts.request_timeout_ms = 300;
    start();
    fd = th_connect(hport());
    th_send(fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    /* a header byte every 50 ms never lets an inactivity timeout fire: 3 s of headers */
    for (int i = 0; i < 60 && !closed; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        th_send_n(fd, "x", 1);
        if (poll(&p, 1, 50) == 1)
            closed = th_closed(fd);
    }
    cr_assert(closed, "the server kept slow headers open");
    close(fd);
    /* the server goes on serving */
    cr_assert(eq(int, th_http(hport(), "GET", "/health", NULL, NULL, 0, body, sizeof body), 200));
}

Test(server, http_keep_alive_request_within_timeout_is_served)
{
    int fd;
    opts.request_timeout_ms = 1000;
    start();
    fd = th_connect(hport());
    th_send(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(gt(int, th_line(fd, body, sizeof body), 0));
    cr_assert(not(eq(ptr, strstr(body, "200"), NULL)), "%s", body);
    while (th_line(fd, body, sizeof body) > 0 && strstr(body, "status") == NULL)
        ;
    usleep(300000); /* idle between requests, under the timeout */
    th_send(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(gt(int, th_line(fd, body, sizeof body), 0));
    cr_assert(not(eq(ptr, strstr(body, "200"), NULL)), "%s", body);
    close(fd);
}

Test(server, http_connections_over_limit_get_503)
{
    int a, b, st;
    opts.max_connections = 2;
    start();
    a = th_connect(hport());
    b = th_connect(hport());
    th_send(a, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    th_send(b, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    /* both are answered and stay open (keep-alive) */
    cr_assert(gt(int, th_line(a, body, sizeof body), 0));
    cr_assert(gt(int, th_line(b, body, sizeof body), 0));
    st = th_http(hport(), "GET", "/health", NULL, NULL, 0, body, sizeof body);
    cr_assert(eq(int, st, 503), "%d %s", st, body);
    cr_assert(not(eq(ptr, strstr(body, "too many connections"), NULL)), "%s", body);
    close(a);
    close(b);
}
