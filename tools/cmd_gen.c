/* `spandb gen`: write generated LLM spans (engine/gen.h) to stdout as line protocol, CSV or
 * OTLP/JSON. Rows are produced in chunks into one reused batch and buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/gen.h"
#include "storage/common/timefmt.h"
#include "tools/commands.h"

enum { FMT_ILP, FMT_CSV, FMT_OTLP };

static void gen_usage(FILE *f)
{
    fprintf(f,
            "usage: spandb gen --rows N [--seed S] [--start ISO] [--days D]\n"
            "                  [--format ilp|csv|otlp-json] [--chunk N]\n\n"
            "Write N realistic LLM spans of table 'spans' to stdout, the same for the same\n"
            "seed and options.\n\n"
            "  --rows N      spans to write (required)\n"
            "  --seed S      random seed (default 1)\n"
            "  --start ISO   first instant, UTC (default 2026-01-01T00:00:00Z)\n"
            "  --days D      length of the time range in days (default 1)\n"
            "  --format F    ilp (default), csv or otlp-json\n"
            "  --chunk N     rows per batch; for otlp-json, spans per line (default 8192;\n"
            "                otlp-json 1000)\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t *v)
{
    char *end;
    unsigned long long x;
    if (s == NULL || *s < '0' || *s > '9') {
        fprintf(stderr, "spandb gen: %s needs a non-negative integer, got '%s'\n", opt,
                s ? s : "");
        return -1;
    }
    errno = 0;
    x = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "spandb gen: %s: '%s' is not a non-negative integer\n", opt, s);
        return -1;
    }
    *v = (uint64_t)x;
    return 0;
}

static int write_all(const sdb_buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len) {
        fprintf(stderr, "spandb gen: writing stdout: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int sdb_cmd_gen(int argc, char **argv)
{
    sdb_gen_opts o;
    sdb_gen *g = NULL;
    sdb_batch b;
    sdb_buf buf = SDB_BUF_INIT;
    sdb_err err;
    uint64_t chunk = 0, v, done = 0, next_report = 0;
    int fmt = FMT_ILP, status = 1;
    bool have_rows = false, progress = isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
    sdb_gen_opts_default(&o);
    sdb_batch_init(&b);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            gen_usage(stdout);
            return 0;
        }
        if (val == NULL) {
            fprintf(stderr, "spandb gen: %s needs a value\n\n", a);
            gen_usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--rows") == 0) {
            if (parse_u64(a, val, &o.rows) != 0)
                return 2;
            have_rows = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64(a, val, &o.seed) != 0)
                return 2;
        } else if (strcmp(a, "--days") == 0) {
            if (parse_u64(a, val, &v) != 0)
                return 2;
            if (v < 1 || v > SDB_GEN_DAYS_MAX) {
                fprintf(stderr, "spandb gen: --days %s is outside 1..%u\n", val, SDB_GEN_DAYS_MAX);
                return 2;
            }
            o.days = (uint32_t)v;
        } else if (strcmp(a, "--chunk") == 0) {
            if (parse_u64(a, val, &chunk) != 0)
                return 2;
            if (chunk < 1 || chunk > 10000000) {
                fprintf(stderr, "spandb gen: --chunk %s is outside 1..10000000\n", val);
                return 2;
            }
        } else if (strcmp(a, "--start") == 0) {
            if (sdb_time_parse(val, strlen(val), &o.start_ns, &err) != SDB_OK) {
                fprintf(stderr, "spandb gen: --start: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(val, "ilp") == 0)
                fmt = FMT_ILP;
            else if (strcmp(val, "csv") == 0)
                fmt = FMT_CSV;
            else if (strcmp(val, "otlp-json") == 0 || strcmp(val, "otlp") == 0)
                fmt = FMT_OTLP;
            else {
                fprintf(stderr, "spandb gen: unknown --format '%s' (ilp, csv, otlp-json)\n", val);
                return 2;
            }
        } else {
            fprintf(stderr, "spandb gen: unknown option '%s'\n\n", a);
            gen_usage(stderr);
            return 2;
        }
    }
    if (!have_rows) {
        fprintf(stderr, "spandb gen: --rows is required\n\n");
        gen_usage(stderr);
        return 2;
    }
    if (chunk == 0)
        chunk = fmt == FMT_OTLP ? 1000 : 8192;
    if (sdb_gen_create(&o, &g, &err) != SDB_OK)
        goto fail;
    if (fmt == FMT_CSV) {
        /* the header needs the columns: take them from an empty first batch */
        if (sdb_gen_next(g, 0, &b, NULL, &err) != SDB_OK ||
            sdb_gen_write_csv_header(&b, &buf, &err) != SDB_OK)
            goto fail;
    }
    for (;;) {
        uint64_t added;
        sdb_batch_clear(&b);
        if (sdb_gen_next(g, chunk, &b, &added, &err) != SDB_OK)
            goto fail;
        if (added == 0)
            break;
        sdb_rc rc = fmt == FMT_ILP   ? sdb_gen_write_ilp(&b, &buf, &err)
                    : fmt == FMT_CSV ? sdb_gen_write_csv(&b, &buf, &err)
                                     : sdb_gen_write_otlp_json(&b, &buf, &err);
        if (rc != SDB_OK)
            goto fail;
        if (write_all(&buf) != 0)
            goto out;
        sdb_buf_reset(&buf);
        done += added;
        if (progress && done >= next_report) {
            fprintf(stderr, "\rspandb gen: %llu / %llu spans", (unsigned long long)done,
                    (unsigned long long)o.rows);
            next_report = done + 1000000;
        }
    }
    if (write_all(&buf) != 0 || fflush(stdout) != 0)
        goto out;
    if (progress)
        fprintf(stderr, "\rspandb gen: %llu spans written\n", (unsigned long long)done);
    status = 0;
    goto out;
fail:
    fprintf(stderr, "spandb gen: %s\n", err.msg);
out:
    sdb_buf_free(&buf);
    sdb_batch_free(&b);
    sdb_gen_destroy(g);
    return status;
}
