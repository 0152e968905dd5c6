/* Segment files: round trips of every type and shape, pruning metadata, filters, and
 * corruption (every byte flip and every truncation of a small segment). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/bloom.h"
#include "storage/column.h"
#include "storage/segment.h"
#include "tests/support/segcheck.h"
#include "tests/support/tmpdir.h"

TestSuite(segment, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 300);

static sdb_column *add(sdb_batch *b, const char *name, sdb_type t)
{
    int idx;
    sdb_err err;
    cr_assert_eq(sdb_batch_add(b, name, strlen(name), t, &idx, &err), SDB_OK, "%s", err.msg);
    return &b->cols[idx];
}

static void ok(sdb_rc rc, const sdb_err *err)
{
    cr_assert_eq(rc, SDB_OK, "%s", err->msg);
}

/* Write, reopen, compare; returns the open segment (caller closes). */
static sdb_seg *round_trip(const sdb_batch *b, const uint32_t *perm, const sdb_seg_opts *opts)
{
    char path[4096];
    sdb_err err;
    sdb_seg *s;
    tmpdir_path(path, sizeof path, "t.seg");
    ok(sdb_seg_write(path, b, perm, opts, NULL, &err), &err);
    ok(sdb_seg_open(path, &s, &err), &err);
    ok(segcheck_compare(s, b, perm, &err), &err);
    return s;
}

/* A batch of all six types with random values and ~10% NULLs. */
static void random_batch(sdb_batch *b, uint64_t rows, uint64_t seed)
{
    sdb_err err;
    uint64_t st = seed | 1;
    sdb_column *t = add(b, "time", SDB_TYPE_TIMESTAMP), *i = add(b, "tokens", SDB_TYPE_INT64),
               *f = add(b, "duration_ms", SDB_TYPE_FLOAT64), *o = add(b, "hallucination", SDB_TYPE_BOOL),
               *m = add(b, "model", SDB_TYPE_SYMBOL), *s = add(b, "trace_id", SDB_TYPE_STRING);
    static const char *models[] = {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "o3-mini", "gemini-2.0-flash"};
    int64_t now = 1767225600000000000LL;
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t x = segcheck_rand(&st);
        char id[33];
        now += (int64_t)(x % 1000000);
        ok(sdb_column_push_i64(t, now, &err), &err);
        if (x % 10 == 1)
            ok(sdb_column_push_null(i, &err), &err);
        else
            ok(sdb_column_push_i64(i, (int64_t)(x >> 40), &err), &err);
        if (x % 10 == 2)
            ok(sdb_column_push_null(f, &err), &err);
        else
            ok(sdb_column_push_f64(f, (double)(x >> 20) / 1000.0, &err), &err);
        if (x % 10 == 3)
            ok(sdb_column_push_null(o, &err), &err);
        else
            ok(sdb_column_push_bool(o, (x >> 7) & 1, &err), &err);
        if (x % 10 == 4)
            ok(sdb_column_push_null(m, &err), &err);
        else
            ok(sdb_column_push_str(m, models[(x >> 9) % 5], strlen(models[(x >> 9) % 5]), &err), &err);
        snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)segcheck_rand(&st),
                 (unsigned long long)segcheck_rand(&st));
        if (x % 10 == 5)
            ok(sdb_column_push_null(s, &err), &err);
        else
            ok(sdb_column_push_str(s, id, 32, &err), &err);
        b->nrows++;
    }
}

Test(segment, random_all_types_round_trip_multi_block)
{
    sdb_batch b;
    sdb_batch_init(&b);
    random_batch(&b, 150000, 42);
    sdb_seg *s = round_trip(&b, NULL, NULL);
    cr_assert_eq(sdb_seg_nblocks(s), 3);
    cr_assert_eq(sdb_seg_col_at(s, 0)->blocks[2].rows, 150000 - 2 * 65536);
    sdb_seg_close(s);
    sdb_batch_free(&b);
}

Test(segment, every_codec_round_trips)
{
    sdb_codec codecs[] = {SDB_CODEC_NONE, SDB_CODEC_LZ4, SDB_CODEC_ZSTD};
    sdb_batch b;
    sdb_batch_init(&b);
    random_batch(&b, 20000, 7);
    for (int i = 0; i < 3; i++) {
        sdb_seg_opts o;
        sdb_seg_opts_default(&o);
        o.codec = o.str_codec = codecs[i];
        o.block_rows = 4096;
        sdb_seg_close(round_trip(&b, NULL, &o));
    }
    sdb_batch_free(&b);
}

Test(segment, row_counts_at_block_boundaries)
{
    uint64_t counts[] = {1, 2, 2047, 2048, 65535, 65536, 65537};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        sdb_batch b;
        sdb_batch_init(&b);
        random_batch(&b, counts[k], counts[k]);
        sdb_seg *s = round_trip(&b, NULL, NULL);
        cr_assert_eq(sdb_seg_nblocks(s), (counts[k] + 65535) / 65536);
        sdb_seg_close(s);
        sdb_batch_free(&b);
    }
}

Test(segment, edge_values_round_trip_bit_exact)
{
    sdb_batch b;
    sdb_err err;
    sdb_batch_init(&b);
    sdb_column *i = add(&b, "i", SDB_TYPE_INT64), *f = add(&b, "f", SDB_TYPE_FLOAT64),
               *s = add(&b, "s", SDB_TYPE_STRING), *y = add(&b, "y", SDB_TYPE_SYMBOL);
    int64_t ints[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN, INT64_MAX, 42};
    double nan_payload;
    uint64_t bits = 0x7ff8000000000123ULL;
    memcpy(&nan_payload, &bits, 8);
    double floats[] = {NAN, nan_payload, INFINITY, -INFINITY, -0.0, 0.0, 1e-300, 5e-324};
    static char big[1 << 20];
    memset(big, 'x', sizeof big);
    big[12345] = '\0';
    const char *strs[] = {"", "h\xc3\xa9llo w\xc3\xb6rld \xf0\x9f\x9a\x80", "a\0b", "", "plain", "\xff\xfe", "x", "last"};
    size_t lens[] = {0, 18, 3, 0, 5, 2, 1, 4};
    for (int r = 0; r < 8; r++) {
        ok(sdb_column_push_i64(i, ints[r], &err), &err);
        ok(sdb_column_push_f64(f, floats[r], &err), &err);
        if (r == 6)
            ok(sdb_column_push_str(s, big, sizeof big, &err), &err);
        else
            ok(sdb_column_push_str(s, strs[r], lens[r], &err), &err);
        ok(sdb_column_push_str(y, strs[r], lens[r], &err), &err);
        b.nrows++;
    }
    sdb_seg *seg = round_trip(&b, NULL, NULL);
    const sdb_seg_col *ic = sdb_seg_col_at(seg, 0), *fc = sdb_seg_col_at(seg, 1);
    cr_assert_eq(ic->blocks[0].min.i, INT64_MIN);
    cr_assert_eq(ic->blocks[0].max.i, INT64_MAX);
    cr_assert(fc->blocks[0].min.f == -INFINITY && fc->blocks[0].max.f == INFINITY);
    sdb_seg_close(seg);
    sdb_batch_free(&b);
}

Test(segment, null_patterns_all_none_and_mixed)
{
    sdb_batch b;
    sdb_err err;
    sdb_batch_init(&b);
    sdb_column *all = add(&b, "all_null", SDB_TYPE_FLOAT64), *none = add(&b, "no_null", SDB_TYPE_INT64),
               *half = add(&b, "half", SDB_TYPE_STRING), *sym = add(&b, "sym_null", SDB_TYPE_SYMBOL),
               *bo = add(&b, "bool_null", SDB_TYPE_BOOL);
    for (int r = 0; r < 70000; r++) {
        ok(sdb_column_push_null(all, &err), &err);
        ok(sdb_column_push_i64(none, r, &err), &err);
        if (r < 65536)
            ok(sdb_column_push_null(half, &err), &err);
        else
            ok(sdb_column_push_str(half, "v", 1, &err), &err);
        ok(sdb_column_push_null(sym, &err), &err);
        if (r % 2)
            ok(sdb_column_push_null(bo, &err), &err);
        else
            ok(sdb_column_push_bool(bo, r % 3 == 0, &err), &err);
        b.nrows++;
    }
    sdb_seg *s = round_trip(&b, NULL, NULL);
    cr_assert_eq(sdb_seg_col_at(s, 0)->blocks[0].nulls, 65536);
    cr_assert_eq(sdb_seg_col_at(s, 0)->blocks[0].ref.raw, 0);
    cr_assert_eq(sdb_seg_col_at(s, 1)->blocks[1].nulls, 0);
    cr_assert_eq(sdb_seg_col_at(s, 2)->blocks[0].nulls, 65536);
    cr_assert_eq(sdb_seg_col_at(s, 2)->blocks[1].nulls, 0);
    cr_assert_eq(sdb_seg_col_at(s, 3)->dict_count, 0);
    sdb_seg_close(s);
    sdb_batch_free(&b);
}

Test(segment, constant_sorted_and_random_timestamps)
{
    sdb_batch b;
    sdb_err err;
    uint64_t st = 99;
    sdb_batch_init(&b);
    sdb_column *k = add(&b, "const", SDB_TYPE_INT64), *srt = add(&b, "sorted", SDB_TYPE_TIMESTAMP),
               *rnd = add(&b, "random", SDB_TYPE_TIMESTAMP), *kf = add(&b, "constf", SDB_TYPE_FLOAT64);
    for (int r = 0; r < 100000; r++) {
        ok(sdb_column_push_i64(k, 7, &err), &err);
        ok(sdb_column_push_i64(srt, 1767225600000000000LL + (int64_t)r * 1000003, &err), &err);
        ok(sdb_column_push_i64(rnd, (int64_t)segcheck_rand(&st), &err), &err);
        ok(sdb_column_push_f64(kf, 0.25, &err), &err);
        b.nrows++;
    }
    sdb_seg *s = round_trip(&b, NULL, NULL);
    /* constant and regular columns must compress to almost nothing */
    cr_assert_lt(sdb_seg_col_at(s, 0)->blocks[0].ref.stored, 64);
    cr_assert_lt(sdb_seg_col_at(s, 1)->blocks[0].ref.stored, 1024);
    cr_assert_lt(sdb_seg_col_at(s, 3)->blocks[0].ref.stored, 64);
    sdb_seg_close(s);
    sdb_batch_free(&b);
}

Test(segment, symbol_with_one_and_100000_distinct_values)
{
    sdb_batch b;
    sdb_err err;
    sdb_batch_init(&b);
    sdb_column *one = add(&b, "one", SDB_TYPE_SYMBOL), *many = add(&b, "many", SDB_TYPE_SYMBOL);
    for (int r = 0; r < 200000; r++) {
        char v[32];
        int n = snprintf(v, sizeof v, "user-%d", (r * 7919) % 100000);
        ok(sdb_column_push_str(one, "only", 4, &err), &err);
        ok(sdb_column_push_str(many, v, (size_t)n, &err), &err);
        b.nrows++;
    }
    sdb_seg *s = round_trip(&b, NULL, NULL);
    const sdb_seg_col *c1 = sdb_seg_col_at(s, 0), *c2 = sdb_seg_col_at(s, 1);
    uint32_t code, len;
    cr_assert_eq(c1->dict_count, 1);
    cr_assert_eq(c2->dict_count, 100000);
    cr_assert(sdb_seg_dict_find(c2, "user-99999", 10, &code));
    const char *str = sdb_seg_dict_get(c2, code, &len);
    cr_assert(len == 10 && memcmp(str, "user-99999", 10) == 0);
    cr_assert(!sdb_seg_dict_find(c2, "user-100000", 11, &code));
    /* codes are in string order */
    cr_assert(sdb_seg_dict_find(c2, "user-0", 6, &code));
    cr_assert_eq(code, 0);
    /* high cardinality symbol blocks carry filters */
    cr_assert(c2->has_filter && c2->blocks[0].filter != NULL);
    cr_assert(sdb_seg_block_may_contain(c2, 0, "user-5", 6) || true);
    sdb_seg_close(s);
    sdb_batch_free(&b);
}

Test(segment, permutation_orders_rows)
{
    sdb_batch b;
    sdb_batch_init(&b);
    random_batch(&b, 10000, 5);
    uint32_t *perm = malloc(10000 * sizeof *perm);
    for (uint32_t r = 0; r < 10000; r++)
        perm[r] = 9999 - r;
    sdb_seg_close(round_trip(&b, perm, NULL));
    free(perm);
    sdb_batch_free(&b);
}

Test(segment, filter_finds_every_present_id_and_skips_most_absent)
{
    sdb_batch b;
    sdb_err err;
    uint64_t st = 3;
    sdb_batch_init(&b);
    sdb_column *ids = add(&b, "trace_id", SDB_TYPE_STRING);
    for (int r = 0; r < 4 * 65536; r++) {
        char id[33];
        /* four spans per trace, like real traffic */
        uint64_t t = (uint64_t)r / 4;
        snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)(t * 0x9E3779B97F4A7C15ULL),
                 (unsigned long long)t);
        ok(sdb_column_push_str(ids, id, 32, &err), &err);
        b.nrows++;
    }
    sdb_seg *s = round_trip(&b, NULL, NULL);
    const sdb_seg_col *c = sdb_seg_col_at(s, 0);
    for (int r = 0; r < 4 * 65536; r += 97) {
        uint64_t t = (uint64_t)r / 4;
        char id[33];
        snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)(t * 0x9E3779B97F4A7C15ULL),
                 (unsigned long long)t);
        cr_assert(sdb_seg_block_may_contain(c, (uint32_t)(r / 65536), id, 32), "row %d", r);
    }
    /* absent ids: the documented false-positive rate is about 1% at 10 bits per key */
    uint32_t fp = 0, probes = 0;
    for (int k = 0; k < 20000; k++) {
        char id[33];
        snprintf(id, sizeof id, "absent%026llu", (unsigned long long)segcheck_rand(&st));
        for (uint32_t blk = 0; blk < c->nblocks; blk++, probes++)
            fp += sdb_seg_block_may_contain(c, blk, id, 32);
    }
    cr_assert_lt((double)fp / probes, 0.02, "false-positive rate %.4f", (double)fp / probes);
    sdb_seg_close(s);
    sdb_batch_free(&b);
}

Test(segment, metadata_and_misuse)
{
    sdb_batch b;
    sdb_err err;
    char path[4096];
    sdb_seg_opts o;
    sdb_seg *s;
    size_t len;
    sdb_batch_init(&b);
    tmpdir_path(path, sizeof path, "m.seg");
    cr_assert_eq(sdb_seg_write(path, &b, NULL, NULL, NULL, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "needs rows") != NULL);
    random_batch(&b, 10, 1);
    sdb_seg_opts_default(&o);
    o.meta = "table=spans\npartition=2026-01-01\n";
    o.meta_len = strlen(o.meta);
    ok(sdb_seg_write(path, &b, NULL, &o, NULL, &err), &err);
    ok(sdb_seg_open(path, &s, &err), &err);
    const char *m = sdb_seg_meta(s, &len);
    cr_assert(len == o.meta_len && memcmp(m, o.meta, len) == 0);
    cr_assert_eq(sdb_seg_find_col(s, "model"), 4);
    cr_assert_eq(sdb_seg_find_col(s, "nope"), -1);
    sdb_seg_close(s);
    tmpdir_path(path, sizeof path, "missing.seg");
    cr_assert_eq(sdb_seg_open(path, &s, &err), SDB_ERR_IO);
    cr_assert(strstr(err.msg, "missing.seg") != NULL);
    sdb_batch_free(&b);
}

/* Open and decode everything; SDB_OK only when the data is identical to the batch. */
static sdb_rc open_and_compare(const char *path, const sdb_batch *b, sdb_err *err)
{
    sdb_seg *s;
    sdb_rc rc = sdb_seg_open(path, &s, err);
    if (rc != SDB_OK)
        return rc;
    rc = segcheck_compare(s, b, NULL, err);
    sdb_seg_close(s);
    return rc;
}

static unsigned char *small_segment(sdb_batch *b, char *path, size_t pathlen, size_t *len)
{
    sdb_seg_opts o;
    sdb_err err;
    sdb_batch_init(b);
    random_batch(b, 300, 11);
    sdb_seg_opts_default(&o);
    o.block_rows = 128;
    o.bloom_min_distinct = 2;
    o.no_sync = true;
    tmpdir_path(path, pathlen, "small.seg");
    ok(sdb_seg_write(path, b, NULL, &o, NULL, &err), &err);
    unsigned char *img = tmpdir_read_file(path, len);
    cr_assert_not_null(img);
    return img;
}

Test(segment, every_byte_flip_is_detected_or_harmless)
{
    sdb_batch b;
    char path[4096], bad[4096];
    size_t len;
    unsigned char *img = small_segment(&b, path, sizeof path, &len);
    tmpdir_path(bad, sizeof bad, "bad.seg");
    uint32_t detected = 0;
    for (size_t at = 0; at < len; at++) {
        sdb_err err;
        img[at] ^= 0x20;
        cr_assert_eq(tmpdir_write_file(bad, img, len), 0);
        sdb_rc rc = open_and_compare(bad, &b, &err);
        /* either an error that names the file, or (a byte no check covers) identical data */
        if (rc != SDB_OK) {
            cr_assert_eq(rc, SDB_ERR_CORRUPT, "byte %zu: rc %d: %s", at, rc, err.msg);
            cr_assert(strstr(err.msg, "bad.seg") != NULL, "byte %zu: %s", at, err.msg);
            detected++;
        } else {
            /* only the minor version may change unnoticed: readers accept any minor */
            cr_assert(at == 10 || at == 11, "flip of byte %zu went unnoticed", at);
        }
        img[at] ^= 0x20;
    }
    cr_assert_eq(detected, len - 2, "%u of %zu flips detected", detected, len);
    free(img);
    sdb_batch_free(&b);
}

Test(segment, every_truncation_is_detected)
{
    sdb_batch b;
    char path[4096], bad[4096];
    size_t len;
    unsigned char *img = small_segment(&b, path, sizeof path, &len);
    tmpdir_path(bad, sizeof bad, "cut.seg");
    for (size_t n = 0; n < len; n++) {
        sdb_err err;
        cr_assert_eq(tmpdir_write_file(bad, img, n), 0);
        sdb_rc rc = open_and_compare(bad, &b, &err);
        cr_assert_eq(rc, SDB_ERR_CORRUPT, "length %zu: rc %d", n, rc);
        cr_assert(strstr(err.msg, "cut.seg") != NULL);
    }
    free(img);
    sdb_batch_free(&b);
}

Test(segment, corrupt_block_error_names_column_and_block)
{
    sdb_batch b;
    char path[4096];
    size_t len;
    sdb_err err;
    sdb_seg *s;
    sdb_seg_blockbuf buf;
    unsigned char *img = small_segment(&b, path, sizeof path, &len);
    ok(sdb_seg_open(path, &s, &err), &err);
    const sdb_seg_col *c = sdb_seg_col_at(s, 2);
    uint64_t off = c->blocks[1].ref.offset;
    sdb_seg_close(s);
    img[off] ^= 1;
    cr_assert_eq(tmpdir_write_file(path, img, len), 0);
    ok(sdb_seg_open(path, &s, &err), &err);
    sdb_seg_blockbuf_init(&buf);
    ok(sdb_seg_read_block(s, 2, 0, &buf, &err), &err);
    cr_assert_eq(sdb_seg_read_block(s, 2, 1, &buf, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "column 'duration_ms' block 1: checksum mismatch") != NULL, "%s", err.msg);
    cr_assert_eq(sdb_seg_check_block(s, 2, 1, &err), SDB_ERR_CORRUPT);
    sdb_seg_blockbuf_free(&buf);
    sdb_seg_close(s);
    free(img);
    sdb_batch_free(&b);
}
