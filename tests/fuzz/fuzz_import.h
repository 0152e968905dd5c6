/* Shared body of the importer fuzz harnesses (fuzz_otlp.c, fuzz_langfuse.c,
 * fuzz_langsmith.c): the input goes through the importer of one format without a database
 * (rows are mapped, counted and dropped), once in one piece and once in pieces cut at a size
 * the first byte chooses; both runs must count the same spans, scores and rejects. Sanitizers
 * catch memory errors; a count mismatch aborts. */
#ifndef SDB_TESTS_FUZZ_IMPORT_H
#define SDB_TESTS_FUZZ_IMPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/import.h"
#include "engine/prices.h"

static void fuzz_import_reject(void *ctx, uint64_t line, const char *reason)
{
    (void)ctx;
    (void)line;
    (void)reason;
}

/* A file-level verdict (a CSV header without a time column, ...) is an outcome, not a bug. */
static bool fuzz_import_input_error(sdb_rc rc)
{
    return rc == SDB_ERR_PARSE || rc == SDB_ERR_SCHEMA || rc == SDB_ERR_LIMIT;
}

static sdb_import_stats fuzz_import_run(sdb_import_format f, sdb_prices *p, const uint8_t *d,
                                        size_t n, size_t piece, sdb_rc *rc)
{
    sdb_import_opts o;
    sdb_import *im = NULL;
    sdb_import_stats st;
    sdb_err err;
    memset(&o, 0, sizeof o);
    memset(&st, 0, sizeof st);
    o.dedup = true;
    o.prices = p;
    o.max_record = 1 << 20;
    o.batch_rows = 64;
    o.on_reject = fuzz_import_reject;
    if (sdb_import_create(NULL, &o, &im, &err) != SDB_OK)
        abort();
    if (sdb_import_begin(im, f, &err) != SDB_OK)
        abort();
    *rc = SDB_OK;
    for (size_t off = 0; off < n && *rc == SDB_OK; off += piece)
        *rc = sdb_import_feed(im, d + off, n - off < piece ? n - off : piece, &err);
    if (*rc == SDB_OK)
        *rc = sdb_import_end(im, &err);
    if (*rc != SDB_OK && !fuzz_import_input_error(*rc)) {
        fprintf(stderr, "fuzz_import: unexpected failure: %s\n", err.msg);
        abort();
    }
    st = sdb_import_get_stats(im);
    sdb_import_destroy(im);
    return st;
}

static int fuzz_import_one(sdb_import_format f, const uint8_t *data, size_t size)
{
    static sdb_prices *prices;
    sdb_import_stats a, b;
    sdb_rc ra, rb;
    size_t piece;
    if (size < 1)
        return 0;
    if (prices == NULL && sdb_prices_default(&prices, NULL) != SDB_OK)
        abort();
    piece = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    a = fuzz_import_run(f, prices, data, size, size ? size : 1, &ra);
    b = fuzz_import_run(f, prices, data, size, piece, &rb);
    if (ra != rb) {
        fprintf(stderr, "fuzz_import: split %zu changed the verdict\n", piece);
        abort();
    }
    if (ra != SDB_OK)
        return 0; /* counts may differ by where the stop came */
    if (a.spans != b.spans || a.scores != b.scores || a.rejected != b.rejected ||
        a.duplicates != b.duplicates) {
        fprintf(stderr, "fuzz_import: split %zu changed the outcome: %llu/%llu/%llu vs %llu/%llu/%llu\n",
                piece, (unsigned long long)a.spans, (unsigned long long)a.scores,
                (unsigned long long)a.rejected, (unsigned long long)b.spans,
                (unsigned long long)b.scores, (unsigned long long)b.rejected);
        abort();
    }
    return 0;
}

#endif
