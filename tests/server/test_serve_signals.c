/* `spandb serve` as a process: SIGTERM stops it cleanly (exit 0, everything flushed) and
 * SIGKILL at any moment loses no acknowledged write; after a restart every acknowledged row
 * is there exactly once. Also `spandb query --connect` and `spandb shell --connect` against
 * it. The binary comes from $SPANDB_BIN (set by meson). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/server/helpers.h"
#include "tests/support/tmpdir.h"

static pid_t child = -1;

static void setup(void)
{
    tmpdir_setup();
    signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
    tmpdir_teardown();
}

TestSuite(serve, .init = setup, .fini = teardown, .timeout = 120);

/* Start spandb serve on an ephemeral port with extra arguments; returns the TCP port. */
static uint16_t serve(const char *token)
{
    const char *bin = getenv("SPANDB_BIN");
    int pfd[2];
    char line[2048];
    FILE *f;
    char *p;
    cr_assert(bin != NULL, "SPANDB_BIN is not set");
    cr_assert(zero(int, pipe(pfd)));
    child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        if (token != NULL)
            execl(bin, bin, "serve", "--data", sdb_test_dir, "--listen", "127.0.0.1:0", "--http",
                  "", "--token", token, (char *)NULL);
        else
            execl(bin, bin, "serve", "--data", sdb_test_dir, "--listen", "127.0.0.1:0", "--http",
                  "", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    f = fdopen(pfd[0], "r");
    while (fgets(line, sizeof line, f) != NULL) {
        if ((p = strstr(line, " tcp=127.0.0.1:")) != NULL) {
            int port = atoi(p + 15);
            /* keep draining stderr so the server never blocks on it */
            if (fork() == 0) {
                while (fgets(line, sizeof line, f) != NULL)
                    ;
                _exit(0);
            }
            fclose(f);
            return (uint16_t)port;
        }
    }
    cr_assert(0, "spandb serve did not start");
    return 0;
}

static int stop(int sig)
{
    int status = 0;
    kill(child, sig);
    waitpid(child, &status, 0);
    child = -1;
    return status;
}

/* One integer row of a single-row statement. */
static void ints(int fd, const char *q, long *a, long *b)
{
    char line[4096], rows[4096];
    th_send(fd, q);
    cr_assert(gt(int, th_reply(fd, line, sizeof line, rows, sizeof rows), 0));
    cr_assert(zero(int, strncmp(line, "{\"ok\":true", 10)), "%s", line);
    {
        char *r = strchr(strchr(rows, '\n') + 1, '[');
        if (b != NULL)
            cr_assert(eq(int, sscanf(r, "[%ld,%ld]", a, b), 2), "%s", rows);
        else
            cr_assert(eq(int, sscanf(r, "[%ld]", a), 1), "%s", rows);
    }
}

/* count(*) and count(DISTINCT id) of table t, and the count of ids below below. */
static void counts(uint16_t port, long below, long *all, long *distinct, long *acked)
{
    char q[256];
    int fd = th_connect(port);
    cr_assert(fd >= 0);
    ints(fd, "SELECT count(*), count(DISTINCT id) FROM t\n", all, distinct);
    snprintf(q, sizeof q, "SELECT count(*) FROM t WHERE id < %ld\n", below);
    ints(fd, q, acked, NULL);
    close(fd);
}

static void write_batch(int fd, long from, long n)
{
    char *buf = malloc((size_t)n * 80 + 1);
    size_t len = 0;
    for (long i = from; i < from + n; i++)
        len += (size_t)sprintf(buf + len, "t,k=k%ld id=%ldi,v=%ld.5 %ld\n", i % 13, i, i,
                               1700000000000000000L + i * 1000000L);
    th_send_n(fd, buf, len);
    free(buf);
}

Test(serve, sigterm_stops_cleanly_and_keeps_every_row)
{
    char line[4096];
    long all, distinct, acked;
    uint16_t port = serve(NULL);
    int fd = th_connect(port), st;
    write_batch(fd, 0, 3000);
    th_send(fd, "FLUSH\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    write_batch(fd, 3000, 500); /* not acknowledged: committed by the shutdown */
    usleep(200000);
    st = stop(SIGTERM);
    cr_assert(eq(int, st, 0), "status %d", st); /* exited 0 */
    close(fd);
    port = serve(NULL);
    counts(port, 3000, &all, &distinct, &acked);
    cr_assert(eq(i64, acked, 3000));
    cr_assert(eq(i64, all, 3500));
    cr_assert(eq(i64, distinct, all));
}

Test(serve, sigkill_loses_no_acknowledged_row_and_duplicates_none)
{
    char line[4096];
    long all, distinct, acked, sent = 0;
    uint16_t port = serve(NULL);
    int fd = th_connect(port);
    for (int round = 0; round < 5; round++) {
        write_batch(fd, sent, 2000);
        sent += 2000;
        th_send(fd, "FLUSH\n");
        cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
        cr_assert(not(eq(ptr, strstr(line, "durable"), NULL)), "%s", line);
    }
    write_batch(fd, sent, 5000); /* in flight when the server dies */
    stop(SIGKILL);
    close(fd);
    port = serve(NULL);
    counts(port, sent, &all, &distinct, &acked);
    cr_assert(eq(i64, acked, sent));
    cr_assert(ge(i64, all, sent));
    cr_assert(le(i64, all, sent + 5000));
    cr_assert(eq(i64, distinct, all));
}

/* Run a command line and capture its stdout. */
static int run_capture(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    size_t got;
    cr_assert(not(eq(ptr, p, NULL)));
    got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    return pclose(p);
}

Test(serve, query_connect_and_shell_connect_print_tables)
{
    char cmd[4096], out[8192], line[256];
    const char *bin = getenv("SPANDB_BIN");
    uint16_t port = serve("tok");
    int fd = th_connect(port), st;
    th_send(fd, "AUTH tok\nt,k=a id=1i,v=1.5 1000000000\nt,k=b id=2i,v=2.5 2000000000\nFLUSH\n");
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    cr_assert(gt(int, th_reply(fd, line, sizeof line, NULL, 0), 0));
    close(fd);
    snprintf(cmd, sizeof cmd,
             "%s query --connect 127.0.0.1:%u --token tok --format csv 'SELECT k, id, v FROM t "
             "ORDER BY id'",
             bin, port);
    st = run_capture(cmd, out, sizeof out);
    cr_assert(eq(int, st, 0), "%s", out);
    cr_assert(eq(str, out, "k,id,v\na,1,1.5\nb,2,2.5\n"));
    snprintf(cmd, sizeof cmd, "%s query --connect 127.0.0.1:%u 'SELECT 1 FROM t' 2>&1", bin, port);
    st = run_capture(cmd, out, sizeof out);
    cr_assert(not(eq(int, st, 0)));
    cr_assert(not(eq(ptr, strstr(out, "authentication required"), NULL)), "%s", out);
    snprintf(cmd, sizeof cmd,
             "printf 'SELECT k,\\n  v FROM t\\n  WHERE id = 2;\\n\\\\d\\n\\\\d t\\n' | "
             "SPANDB_TOKEN=tok %s shell --connect 127.0.0.1:%u",
             bin, port);
    st = run_capture(cmd, out, sizeof out);
    cr_assert(eq(int, st, 0), "%s", out);
    cr_assert(not(eq(ptr, strstr(out, "k |   v\n--+----\nb | 2.5\n(1 row"), NULL)), "%s", out);
    cr_assert(not(eq(ptr, strstr(out, "table"), NULL)), "%s", out);
    cr_assert(not(eq(ptr, strstr(out, "sort_key"), NULL)), "%s", out);
}
