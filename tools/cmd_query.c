/* spandb query: run one SQL statement on a data directory (embedded, no server) or on a
 * server (--connect, engine/client.h) and print the result as a table, CSV, TSV, JSON or
 * JSON lines. The directory is opened read-only unless the statement changes the catalog,
 * so queries run beside a live server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/client.h"
#include "engine/db.h"
#include "engine/result_fmt.h"
#include "engine/run.h"
#include "tools/args.h"
#include "tools/commands.h"

static void query_usage(FILE *f)
{
    fprintf(f, "usage: spandb query [--data DIR | --connect HOST:PORT [--token T]]\n"
               "                    [--format table|csv|tsv|json|jsonl]\n"
               "                    [--threads N] [--query-memory BYTES] \"SQL\"\n\n"
               "Run one statement on DIR (default ./spandb-data), or on a server with\n"
               "--connect (the TCP line protocol; the token may come from SPANDB_TOKEN).\n"
               "BYTES takes K, M or G.\n");
}

/* "512M", "2G", "1000000" */
int sdb_cmd_query(int argc, char **argv)
{
    const char *data = "./spandb-data", *sql = NULL, *addr = NULL;
    const char *token = getenv("SPANDB_TOKEN");
    sdb_client *cl = NULL;
    sdb_fmt fmt = SDB_FMT_TABLE;
    sdb_run_opts ro;
    sdb_db_opts o;
    sdb_db *db;
    sdb_run_result res;
    sdb_err err;
    sdb_buf out = SDB_BUF_INIT;
    int rc = 0;
    memset(&ro, 0, sizeof ro);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            query_usage(stdout);
            return 0;
        } else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(a, "--connect") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else if (strcmp(a, "--token") == 0 && i + 1 < argc) {
            token = argv[++i];
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            if (!sdb_fmt_parse(argv[++i], &fmt)) {
                fprintf(stderr, "spandb query: unknown format '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            ro.threads = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--query-memory") == 0 && i + 1 < argc) {
            if (sdb_parse_bytes(argv[++i], &ro.query_memory) != 0) {
                fprintf(stderr, "spandb query: --query-memory takes a size like 512M, not '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "spandb query: unknown option '%s'\n\n", a);
            query_usage(stderr);
            return 2;
        } else if (sql == NULL) {
            sql = a;
        } else {
            fprintf(stderr, "spandb query: give the statement as one argument (quote it)\n");
            return 2;
        }
    }
    if (sql == NULL) {
        query_usage(stderr);
        return 2;
    }
    if (addr != NULL) {
        db = NULL;
        if (sdb_client_connect(addr, token, 0, &cl, &err) != SDB_OK) {
            fprintf(stderr, "spandb query: %s\n", err.msg);
            return 1;
        }
    } else {
        sdb_db_opts_default(&o);
        o.read_only = !sdb_run_sql_writes(sql, strlen(sql));
        if (sdb_db_open(data, &o, &db, NULL, &err) != SDB_OK) {
            fprintf(stderr, "spandb query: %s\n", err.msg);
            return 1;
        }
    }
    if ((cl != NULL ? sdb_client_query(cl, sql, &res, NULL, &err)
                    : sdb_run_sql(db, sql, strlen(sql), &ro, &res, &err)) != SDB_OK) {
        fprintf(stderr, "spandb query: %s\n", err.msg);
        rc = 1;
    } else if (res.rows == NULL) {
        printf("%s (%.1f ms)\n", res.message, res.elapsed_ms);
    } else if (sdb_result_format(res.rows, fmt, &out, &err) != SDB_OK) {
        fprintf(stderr, "spandb query: %s\n", err.msg);
        rc = 1;
    } else {
        if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
            rc = 1;
        if (fmt == SDB_FMT_TABLE)
            printf("(%llu row%s, %.1f ms)\n", (unsigned long long)res.rows->nrows,
                   res.rows->nrows == 1 ? "" : "s", res.elapsed_ms);
    }
    sdb_run_result_free(&res);
    sdb_buf_free(&out);
    sdb_client_close(cl);
    if (db != NULL && sdb_db_close(db, &err) != SDB_OK) {
        fprintf(stderr, "spandb query: %s\n", err.msg);
        rc = 1;
    }
    return rc;
}
