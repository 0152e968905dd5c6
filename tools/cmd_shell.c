/* spandb shell: an interactive SQL shell on a data directory (embedded) or a server
 * (--connect, the TCP line protocol). Line editing and history from libedit; statements
 * may span lines and end with ';'; results print as aligned tables with their timing.
 * Meta commands: \help, \d (tables), \d TABLE (columns), \q. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "engine/client.h"
#include "engine/db.h"
#include "engine/result_fmt.h"
#include "engine/run.h"
#include "tools/commands.h"

typedef struct shell {
    sdb_db *db;         /* embedded, or NULL */
    bool read_only;     /* db opened read-only (a server holds the directory) */
    sdb_client *cl;     /* connected, or NULL */
    bool tty;
} shell;

static void shell_help(void)
{
    printf("Enter SQL statements ended by ';' (they may span lines).\n"
           "  \\d          list tables\n"
           "  \\d TABLE    columns of TABLE\n"
           "  \\help       this text\n"
           "  \\q          quit (or Ctrl-D)\n");
}

static void run(shell *sh, const char *sql)
{
    sdb_run_result res;
    sdb_err err;
    sdb_buf out = SDB_BUF_INIT;
    sdb_rc rc;
    uint64_t werr = 0;
    if (sh->cl != NULL) {
        rc = sdb_client_query(sh->cl, sql, &res, &werr, &err);
    } else {
        sdb_run_opts ro;
        memset(&ro, 0, sizeof ro);
        if (sh->read_only && sdb_run_sql_writes(sql, strlen(sql))) {
            printf("error: the data directory is open read-only (a server holds it); "
                   "connect to the server instead\n");
            return;
        }
        rc = sdb_run_sql(sh->db, sql, strlen(sql), &ro, &res, &err);
    }
    if (werr > 0)
        printf("warning: %llu earlier write line(s) rejected; last: %s\n",
               (unsigned long long)werr, sdb_client_last_write_error(sh->cl));
    if (rc != SDB_OK) {
        printf("error: %s\n", err.msg);
        return;
    }
    if (res.rows == NULL) {
        printf("%s (%.1f ms)\n", res.message[0] ? res.message : "ok", res.elapsed_ms);
    } else if (sdb_result_format(res.rows, SDB_FMT_TABLE, &out, &err) != SDB_OK) {
        printf("error: %s\n", err.msg);
    } else {
        fwrite(out.data, 1, out.len, stdout);
        printf("(%llu row%s, %.1f ms)\n", (unsigned long long)res.rows->nrows,
               res.rows->nrows == 1 ? "" : "s", res.elapsed_ms);
    }
    fflush(stdout);
    sdb_run_result_free(&res);
    sdb_buf_free(&out);
}

static char *next_line(shell *sh, bool cont)
{
    if (sh->tty)
        return readline(cont ? "   ...> " : "spandb> ");
    {
        char buf[65536];
        size_t n;
        if (fgets(buf, sizeof buf, stdin) == NULL)
            return NULL;
        n = strlen(buf);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        return strdup(buf);
    }
}

int sdb_cmd_shell(int argc, char **argv)
{
    const char *data = "./spandb-data", *addr = NULL, *token = getenv("SPANDB_TOKEN");
    shell sh;
    sdb_err err;
    sdb_buf stmt = SDB_BUF_INIT;
    char hist[4096] = "";
    const char *home = getenv("HOME");
    memset(&sh, 0, sizeof sh);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
            token = argv[++i];
        } else {
            fprintf(stderr, "usage: spandb shell [--data DIR | --connect HOST:PORT [--token T]]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (addr != NULL) {
        if (sdb_client_connect(addr, token, 0, &sh.cl, &err) != SDB_OK) {
            fprintf(stderr, "spandb shell: %s\n", err.msg);
            return 1;
        }
    } else {
        sdb_db_opts o;
        sdb_db_opts_default(&o);
        if (sdb_db_open(data, &o, &sh.db, NULL, &err) != SDB_OK) {
            if (err.code != SDB_ERR_BUSY) {
                fprintf(stderr, "spandb shell: %s\n", err.msg);
                return 1;
            }
            o.read_only = true;
            sh.read_only = true;
            if (sdb_db_open(data, &o, &sh.db, NULL, &err) != SDB_OK) {
                fprintf(stderr, "spandb shell: %s\n", err.msg);
                return 1;
            }
        }
    }
    sh.tty = isatty(0) && isatty(1);
    if (sh.tty) {
        printf("spandb %s shell on %s%s. \\help for help, \\q to quit.\n", SPANDB_VERSION,
               addr != NULL ? addr : data, sh.read_only ? " (read-only: a server holds it)" : "");
        if (home != NULL) {
            snprintf(hist, sizeof hist, "%s/.spandb_history", home);
            using_history();
            read_history(hist);
        }
    }
    for (;;) {
        char *line = next_line(&sh, stmt.len > 0);
        char *p;
        size_t n;
        if (line == NULL)
            break;
        p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (stmt.len == 0 && p[0] == '\\') {
            if (sh.tty)
                add_history(line);
            if (strcmp(p, "\\q") == 0 || strcmp(p, "\\quit") == 0) {
                free(line);
                break;
            } else if (strcmp(p, "\\help") == 0 || strcmp(p, "\\?") == 0 || strcmp(p, "\\h") == 0) {
                shell_help();
            } else if (strcmp(p, "\\d") == 0) {
                run(&sh, "SHOW TABLES");
            } else if (strncmp(p, "\\d ", 3) == 0) {
                char q[1100];
                snprintf(q, sizeof q, "DESCRIBE %.1000s", p + 3);
                run(&sh, q);
            } else {
                printf("unknown command '%s': try \\help\n", p);
            }
            free(line);
            continue;
        }
        n = strlen(line);
        if (n > 0 || stmt.len > 0) {
            if ((stmt.len > 0 && sdb_buf_put_u8(&stmt, '\n', &err) != SDB_OK) ||
                sdb_buf_append(&stmt, line, n, &err) != SDB_OK) {
                fprintf(stderr, "spandb shell: %s\n", err.msg);
                free(line);
                break;
            }
        }
        free(line);
        /* complete when the text ends with ';' */
        while (stmt.len > 0 && (stmt.data[stmt.len - 1] == ' ' || stmt.data[stmt.len - 1] == '\t'))
            stmt.len--;
        if (stmt.len > 0 && stmt.data[stmt.len - 1] == ';') {
            stmt.len--;
            if (sdb_buf_put_u8(&stmt, '\0', &err) != SDB_OK)
                break;
            if (sh.tty)
                add_history((const char *)stmt.data);
            run(&sh, (const char *)stmt.data);
            sdb_buf_reset(&stmt);
        }
    }
    if (sh.tty) {
        printf("\n");
        if (hist[0] != '\0')
            write_history(hist);
    }
    sdb_buf_free(&stmt);
    sdb_client_close(sh.cl);
    if (sh.db != NULL && sdb_db_close(sh.db, &err) != SDB_OK) {
        fprintf(stderr, "spandb shell: %s\n", err.msg);
        return 1;
    }
    return 0;
}
