/* The fast paths of aggregation against their plain definitions: the group table's slots
 * (inline short keys, long keys, equal hashes, growth), the sketch's table-driven bucket
 * mapping at and next to bucket boundaries, the branch-free sum/avg over NULL rows
 * whose value slots hold garbage, and grouping by one string key through the codes of
 * dictionary-encoded blocks. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "query/agg.h"
#include "query/exec.h"
#include "query/hashtable.h"
#include "query/qmem.h"
#include "query/sketch.h"
#include "storage/encoding.h"
#include "tests/support/tmpdir.h"

static sdb_qmem qm;
static sdb_err err;

static void setup(void)
{
    cr_assert_eq(sdb_qmem_init(&qm, 0, &err), SDB_OK);
}

static void teardown(void)
{
    sdb_qmem_free(&qm);
}

TestSuite(exec_fast, .init = setup, .fini = teardown, .timeout = 120);

#define PAD "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

Test(exec_fast, group_table_keeps_keys_apart_that_share_a_hash)
{
    sdb_alloc al = {&qm, NULL};
    sdb_gtab t;
    char key[64];
    uint32_t g, first[2000];
    cr_assert_eq(sdb_gtab_init(&t, &al, 8, 0, &err), SDB_OK);
    /* 2000 keys of 1..40 bytes (inline and not), every one with hash 7 or 8: only the bytes
       tell them apart, and the table grows many times meanwhile */
    for (uint32_t i = 0; i < 2000; i++) {
        int n = snprintf(key, sizeof key, "k%u%.*s", i, (int)(i % 30), PAD);
        cr_assert_eq(sdb_gtab_find(&t, key, (uint32_t)n, 7 + i % 2, &first[i], &err), SDB_OK);
        cr_assert_eq(first[i], i);
    }
    cr_assert_eq(t.n, 2000);
    for (uint32_t i = 0; i < 2000; i++) {
        int n = snprintf(key, sizeof key, "k%u%.*s", i, (int)(i % 30), PAD);
        cr_assert(sdb_gtab_lookup(&t, key, (uint32_t)n, 7 + i % 2, &g));
        cr_assert_eq(g, first[i]);
        cr_assert_eq(t.keys[g].len, (uint32_t)n);
        cr_assert(memcmp(t.keys[g].p, key, (size_t)n) == 0);
        /* the same bytes under the other hash, and the key with its last byte changed
           under the same: absent */
        cr_assert_not(sdb_gtab_lookup(&t, key, (uint32_t)n, 8 - i % 2, &g));
        key[n - 1] = '#';
        cr_assert_not(sdb_gtab_lookup(&t, key, (uint32_t)n, 7 + i % 2, &g));
    }
    /* the empty key and keys that differ only past byte 16 */
    cr_assert_eq(sdb_gtab_find(&t, "", 0, 7, &g, &err), SDB_OK);
    cr_assert_eq(g, 2000);
    cr_assert_eq(sdb_gtab_find(&t, "0123456789abcdefA", 17, 9, &g, &err), SDB_OK);
    cr_assert_eq(sdb_gtab_find(&t, "0123456789abcdefB", 17, 9, &g, &err), SDB_OK);
    cr_assert_eq(g, 2002);
    cr_assert_eq(sdb_gtab_find(&t, "0123456789abcdeA", 16, 9, &g, &err), SDB_OK);
    cr_assert_eq(sdb_gtab_find(&t, "0123456789abcdeB", 16, 9, &g, &err), SDB_OK);
    cr_assert_eq(g, 2004);
    cr_assert_eq(sdb_gtab_find(&t, "0123456789abcdeA", 16, 9, &g, &err), SDB_OK);
    cr_assert_eq(g, 2003);
}

static void one_value_within_one_percent(double v)
{
    sdb_alloc al = {&qm, NULL};
    sdb_sketch s, b;
    sdb_sketch *many[3] = {&b, &b, &b};
    double vs[3] = {v, v, v}, out;
    sdb_sketch_init(&s);
    sdb_sketch_init(&b);
    cr_assert_eq(sdb_sketch_add(&s, &al, v, &err), SDB_OK);
    cr_assert(sdb_sketch_quantile(&s, 0.5, &out));
    cr_assert(fabs(out - v) <= 0.01 * fabs(v), "%a: sketch says %a", v, out);
    /* the batch entry point agrees with the one-value one */
    cr_assert_eq(sdb_sketch_add_many(many, vs, 3, &al, &err), SDB_OK);
    cr_assert(sdb_sketch_quantile(&b, 0.5, &out));
    cr_assert(fabs(out - v) <= 0.01 * fabs(v), "%a: batch sketch says %a", v, out);
    cr_assert_eq(b.count, 3);
}

Test(exec_fast, sketch_buckets_hold_at_bucket_boundaries_and_extremes)
{
    const double gamma = (1.0 + SDB_SKETCH_ALPHA) / (1.0 - SDB_SKETCH_ALPHA);
    /* values on and one or two ulps beside the bucket boundaries gamma^i, where the table
       mapping must hand over to the exact log */
    for (int i = -34000; i <= 34000; i += 97) {
        double b = pow(gamma, i);
        if (!(b >= 1e-300) || !(b <= DBL_MAX))
            continue;
        one_value_within_one_percent(b);
        one_value_within_one_percent(nextafter(b, 0));
        one_value_within_one_percent(nextafter(nextafter(b, 0), 0));
        one_value_within_one_percent(nextafter(b, INFINITY));
        one_value_within_one_percent(-nextafter(b, INFINITY));
    }
    /* every top-mantissa table entry, and the extremes of the exponent */
    for (int k = 0; k < 256; k++) {
        one_value_within_one_percent(1.0 + k / 256.0);
        one_value_within_one_percent(nextafter(1.0 + (k + 1) / 256.0, 0));
        one_value_within_one_percent(ldexp(1.0 + k / 256.0, 1000));
        one_value_within_one_percent(ldexp(1.0 + k / 256.0, -990));
    }
    one_value_within_one_percent(DBL_MAX);
    one_value_within_one_percent(1e-300);
    one_value_within_one_percent(1.0);
}

Test(exec_fast, branch_free_sum_and_avg_ignore_garbage_under_nulls)
{
    sdb_alloc al = {&qm, NULL};
    static double f[SDB_VEC_SIZE];
    static int64_t iv[SDB_VEC_SIZE];
    static uint32_t sel[SDB_VEC_SIZE], gids[SDB_VEC_SIZE];
    uint64_t valid[SDB_VEC_WORDS];
    const sdb_agg_kind kinds[] = {SDB_AGG_SUM, SDB_AGG_AVG};
    memset(valid, 0, sizeof valid);
    /* NULL rows carry NaN, infinities and int64 extremes that must not leak into sums or
       raise an overflow; valid rows of group 1 are all -0.0 */
    for (uint32_t i = 0; i < SDB_VEC_SIZE; i++) {
        bool ok = i % 3 != 0;
        sel[i] = i;
        gids[i] = i % 2;
        if (ok)
            valid[i / 64] |= (uint64_t)1 << (i % 64);
        f[i] = ok ? (gids[i] ? -0.0 : 0.25) : (i % 2 ? NAN : INFINITY);
        iv[i] = ok ? (int64_t)i : (i % 2 ? INT64_MAX : INT64_MIN);
    }
    for (int ty = 0; ty < 2; ty++) {
        sdb_vec v = {.type = ty ? SDB_TYPE_INT64 : SDB_TYPE_FLOAT64, .valid = valid};
        if (ty)
            v.v.i64 = iv;
        else
            v.v.f64 = f;
        for (unsigned k = 0; k < 2; k++) {
            sdb_aggdef d;
            sdb_gtab t;
            uint32_t g;
            double want[2] = {0, 0};
            int64_t wanti[2] = {0, 0}, cnt[2] = {0, 0};
            cr_assert_eq(sdb_agg_define(kinds[k], v.type, 0, &d, &err), SDB_OK);
            cr_assert_eq(sdb_gtab_init(&t, &al, d.size, 0, &err), SDB_OK);
            for (uint64_t key = 0; key < 2; key++)
                cr_assert_eq(sdb_gtab_find(&t, &key, 8, key, &g, &err), SDB_OK);
            cr_assert_eq(sdb_agg_update(&d, &t, gids, &v, sel, SDB_VEC_SIZE, &err), SDB_OK,
                         "%s", err.msg);
            for (uint32_t i = 0; i < SDB_VEC_SIZE; i++) {
                if (i % 3 == 0)
                    continue;
                want[gids[i]] += ty ? (double)iv[i] : f[i];
                wanti[gids[i]] += iv[i];
                cnt[gids[i]]++;
            }
            for (uint32_t gi = 0; gi < 2; gi++) {
                sdb_value x;
                sdb_agg_finalize(&d, sdb_gtab_state(&t, gi), &x);
                cr_assert_not(x.null);
                if (kinds[k] == SDB_AGG_SUM && ty)
                    cr_assert_eq(x.u.i, wanti[gi]);
                else if (kinds[k] == SDB_AGG_SUM)
                    cr_assert(x.u.f == want[gi] && signbit(x.u.f) == signbit(want[gi]),
                              "sum of group %u: %a, want %a", gi, x.u.f, want[gi]);
                else
                    cr_assert(fabs(x.u.f - want[gi] / (double)cnt[gi]) <=
                                  1e-12 * fabs(want[gi] / (double)cnt[gi]),
                              "avg of group %u: %g", gi, x.u.f);
            }
        }
    }
}

Test(exec_fast, reserved_group_table_holds_its_groups_without_growing)
{
    sdb_alloc al = {&qm, NULL};
    sdb_gtab t, d;
    uint32_t g, mask;
    cr_assert_eq(sdb_gtab_init(&t, &al, 16, 0, &err), SDB_OK);
    cr_assert_eq(sdb_gtab_find(&t, "early", 5, 99, &g, &err), SDB_OK);
    cr_assert_eq(sdb_gtab_reserve(&t, 3000, &err), SDB_OK);
    mask = t.mask;
    cr_assert_geq(((uint64_t)mask + 1) * 3, 3000 * 4);
    for (uint64_t k = 0; k < 2999; k++) {
        cr_assert_eq(sdb_gtab_find(&t, &k, 8, k * 0x9e3779b97f4a7c15ULL, &g, &err), SDB_OK);
        cr_assert_eq(g, k + 1);
        sdb_gtab_state(&t, g)[0] = (uint8_t)k;
    }
    cr_assert_eq(t.mask, mask);
    cr_assert(sdb_gtab_lookup(&t, "early", 5, 99, &g));
    cr_assert_eq(g, 0);
    for (uint64_t k = 0; k < 2999; k++) {
        cr_assert(sdb_gtab_lookup(&t, &k, 8, k * 0x9e3779b97f4a7c15ULL, &g));
        cr_assert_eq(sdb_gtab_state(&t, g)[0], (uint8_t)k);
    }
    /* dense tables have no slots to reserve */
    cr_assert_eq(sdb_gtab_init(&d, &al, 8, 100, &err), SDB_OK);
    cr_assert_eq(sdb_gtab_reserve(&d, 1000, &err), SDB_OK);
    cr_assert_eq(sdb_gtab_find_dense(&d, 42, &g, &err), SDB_OK);
    cr_assert_eq(g, 0);
}

Test(exec_fast, distinct_sets_sized_by_hint_count_the_same)
{
    sdb_alloc al = {&qm, NULL};
    static int64_t iv[SDB_VEC_SIZE];
    static uint32_t sel[SDB_VEC_SIZE], gids[SDB_VEC_SIZE];
    uint64_t valid[SDB_VEC_WORDS];
    sdb_aggdef d, s;
    memset(valid, 0xff, sizeof valid);
    valid[0] &= ~UINT64_C(1); /* row 0 is NULL */
    for (uint32_t i = 0; i < SDB_VEC_SIZE; i++) {
        sel[i] = i;
        gids[i] = i % 3 == 0;
        iv[i] = (int64_t)(i % 700); /* group 1: i % 3 == 0 */
    }
    sdb_vec v = {.type = SDB_TYPE_INT64, .v.i64 = iv, .valid = valid};
    cr_assert_eq(sdb_agg_define(SDB_AGG_COUNT_DISTINCT, SDB_TYPE_INT64, 0, &d, &err), SDB_OK);
    cr_assert_eq(sdb_agg_define(SDB_AGG_SUM, SDB_TYPE_INT64, 0, &s, &err), SDB_OK);
    for (uint32_t hint = 0; hint <= 5000; hint += 5000) {
        sdb_gtab t;
        uint32_t g;
        int64_t want[2] = {0, 0};
        bool seen[2][700];
        memset(seen, 0, sizeof seen);
        for (uint32_t i = 1; i < SDB_VEC_SIZE; i++)
            if (!seen[gids[i]][iv[i]]) {
                seen[gids[i]][iv[i]] = true;
                want[gids[i]]++;
            }
        cr_assert_eq(sdb_gtab_init(&t, &al, d.size, 0, &err), SDB_OK);
        t.set_hint = hint;
        for (uint64_t key = 0; key < 2; key++)
            cr_assert_eq(sdb_gtab_find(&t, &key, 8, key, &g, &err), SDB_OK);
        cr_assert_eq(sdb_agg_set_max(&d, &t), 0);
        cr_assert_eq(sdb_agg_update(&d, &t, gids, &v, sel, SDB_VEC_SIZE, &err), SDB_OK);
        for (uint32_t gi = 0; gi < 2; gi++) {
            sdb_value x;
            sdb_agg_finalize(&d, sdb_gtab_state(&t, gi), &x);
            cr_assert_eq(x.u.i, want[gi], "hint %u group %u: %lld", hint, gi, (long long)x.u.i);
        }
        cr_assert_eq(sdb_agg_set_max(&d, &t), (uint32_t)(want[0] > want[1] ? want[0] : want[1]));
        cr_assert_eq(sdb_agg_set_max(&s, &t), 0);
    }
}

Test(exec_fast, sum_and_avg_without_nulls_and_over_bools_match_the_definition)
{
    sdb_alloc al = {&qm, NULL};
    static double f[SDB_VEC_SIZE];
    static uint8_t b[SDB_VEC_SIZE];
    static uint32_t sel[SDB_VEC_SIZE / 2], gids[SDB_VEC_SIZE / 2];
    uint64_t some[SDB_VEC_WORDS];
    const uint32_t n = SDB_VEC_SIZE / 2;
    memset(some, 0xff, sizeof some);
    some[3] = UINT64_C(0x00ff00ff00ff00ff);
    for (uint32_t i = 0; i < SDB_VEC_SIZE; i++) {
        f[i] = i % 5 == 0 ? -0.0 : (double)i / 8;
        b[i] = (uint8_t)(i % 3 == 0);
    }
    for (uint32_t j = 0; j < n; j++) {
        sel[j] = 2 * j + 1; /* every other row: a selection, not the identity */
        gids[j] = j % 2;
    }
    for (int ty = 0; ty < 2; ty++)
        for (int withnull = 0; withnull < 2; withnull++)
            for (int kind = 0; kind < 2; kind++) {
                const uint64_t *valid = withnull ? some : sdb_vec_all_valid;
                sdb_vec v = {.type = ty ? SDB_TYPE_BOOL : SDB_TYPE_FLOAT64, .valid = valid};
                sdb_aggdef d;
                sdb_gtab t;
                uint32_t g;
                double want[2] = {0, 0};
                int64_t cnt[2] = {0, 0};
                if (ty)
                    v.v.b8 = b;
                else
                    v.v.f64 = f;
                cr_assert_eq(sdb_agg_define(kind ? SDB_AGG_AVG : SDB_AGG_SUM, v.type, 0, &d,
                                            &err), SDB_OK);
                cr_assert_eq(sdb_gtab_init(&t, &al, d.size, 0, &err), SDB_OK);
                for (uint64_t key = 0; key < 2; key++)
                    cr_assert_eq(sdb_gtab_find(&t, &key, 8, key, &g, &err), SDB_OK);
                cr_assert_eq(sdb_agg_update(&d, &t, gids, &v, sel, n, &err), SDB_OK);
                for (uint32_t j = 0; j < n; j++) {
                    uint32_t i = sel[j];
                    if (!((valid[i / 64] >> (i % 64)) & 1))
                        continue;
                    want[gids[j]] += ty ? (double)b[i] : f[i];
                    cnt[gids[j]]++;
                }
                for (uint32_t gi = 0; gi < 2; gi++) {
                    sdb_value x;
                    sdb_agg_finalize(&d, sdb_gtab_state(&t, gi), &x);
                    cr_assert_not(x.null);
                    if (kind == 0 && ty)
                        cr_assert_eq(x.u.i, (int64_t)want[gi]);
                    else if (kind == 0)
                        cr_assert(x.u.f == want[gi], "sum %a want %a", x.u.f, want[gi]);
                    else
                        cr_assert(fabs(x.u.f - want[gi] / (double)cnt[gi]) <=
                                      1e-12 * fabs(want[gi] / (double)cnt[gi]),
                                  "avg %g", x.u.f);
                }
            }
}

/* ---- one string key grouped by block dictionary codes ---- */

enum { K_USER, K_N, K_COST, KCOLS };
static const char *const knames[KCOLS] = {"user", "n", "cost"};
static const sdb_type ktypes[KCOLS] = {SDB_TYPE_STRING, SDB_TYPE_INT64, SDB_TYPE_FLOAT64};

/* The user of row r of unit u (NULL: none). Segment 0, blocks of 2,500 rows: block 0 draws
 * from u0..u9, block 1 from u5..u19 (another dictionary; u0..u4 absent), block 2 holds a
 * distinct value per row (not dictionary-encoded), block 3 from u0..u2 and long names.
 * Segment 1: u3, u30, u31, then a block of NULLs only. Memtable: u0, u19, u40. NULL keys
 * every 7th row besides. */
static const char *kuser(int u, uint32_t r, char *buf)
{
    uint32_t b = r / 2500, x = (r * 2654435761u) >> 7;
    if (r % 7 == 3)
        return NULL;
    if (u == 0 && b == 0)
        sprintf(buf, "u%u", x % 10);
    else if (u == 0 && b == 1)
        sprintf(buf, "u%u", 5 + x % 15);
    else if (u == 0 && b == 2)
        sprintf(buf, "x%u", r);
    else if (u == 0)
        sprintf(buf, x % 3 == 2 ? "u%u-a-name-longer-than-sixteen-bytes" : "u%u", x % 3);
    else if (u == 1 && b == 1)
        return NULL;
    else if (u == 1)
        sprintf(buf, "u%u", x % 3 == 0 ? 3 : 30 + x % 2);
    else
        sprintf(buf, "u%u", x % 3 == 0 ? 0 : x % 3 == 1 ? 19 : 40);
    return buf;
}

static void kfill(sdb_batch *b, int u, uint32_t rows)
{
    int idx[KCOLS];
    char buf[64];
    sdb_batch_init(b);
    for (int k = 0; k < KCOLS; k++)
        cr_assert_eq(sdb_batch_add(b, knames[k], strlen(knames[k]), ktypes[k], &idx[k], &err),
                     SDB_OK, "%s", err.msg);
    for (uint32_t r = 0; r < rows; r++) {
        const char *s = kuser(u, r, buf);
        sdb_column *c = &b->cols[idx[K_USER]];
        cr_assert_eq(s ? sdb_column_push_str(c, s, strlen(s), &err) : sdb_column_push_null(c, &err),
                     SDB_OK, "%s", err.msg);
        cr_assert_eq(sdb_column_push_i64(&b->cols[idx[K_N]], (int64_t)((r * 7919u) % 1000), &err),
                     SDB_OK);
        cr_assert_eq(sdb_column_push_f64(&b->cols[idx[K_COST]], 0.25 * (r % 13) + u, &err),
                     SDB_OK);
        b->nrows++;
    }
}

typedef struct kref {
    char key[64];
    bool null;
    int64_t count, sumn;
    double cost;
} kref;

static kref krefs[4096];
static uint32_t nkrefs;

static kref *kref_get(const char *s, uint32_t len, bool null)
{
    for (uint32_t i = 0; i < nkrefs; i++)
        if (krefs[i].null == null &&
            (null || (strlen(krefs[i].key) == len && memcmp(krefs[i].key, s, len) == 0)))
            return &krefs[i];
    cr_assert_lt(nkrefs, 4096);
    memset(&krefs[nkrefs], 0, sizeof krefs[0]);
    krefs[nkrefs].null = null;
    if (!null)
        memcpy(krefs[nkrefs].key, s, len);
    return &krefs[nkrefs++];
}

Test(exec_fast, string_key_by_block_codes_matches_row_by_row)
{
    static const uint32_t rows[3] = {9900, 5000, 1500};
    sdb_batch b[3];
    sdb_seg *seg[2];
    const sdb_batch *mems[1] = {&b[2]};
    sdb_seg_opts o;
    char path[4096], buf[64];
    tmpdir_setup();
    for (int u = 0; u < 3; u++)
        kfill(&b[u], u, rows[u]);
    sdb_seg_opts_default(&o);
    o.block_rows = 2500; /* vectors start inside blocks */
    o.no_sync = true;
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/k%d.seg", sdb_test_dir, s);
        cr_assert_eq(sdb_seg_write(path, &b[s], NULL, &o, NULL, &err), SDB_OK, "%s", err.msg);
        cr_assert_eq(sdb_seg_open(path, &seg[s], &err), SDB_OK, "%s", err.msg);
    }

    /* the storage API: codes only when asked for, only for dictionary-encoded blocks, and
       equal codes exactly where the strings are equal */
    int uc = sdb_seg_find_col(seg[0], "user");
    const sdb_seg_col *sc = sdb_seg_col_at(seg[0], (uint32_t)uc);
    cr_assert_eq(sc->blocks[0].ref.enc, SDB_ENC_DICT);
    cr_assert_eq(sc->blocks[1].ref.enc, SDB_ENC_DICT);
    cr_assert_neq(sc->blocks[2].ref.enc, SDB_ENC_DICT);
    cr_assert_eq(sc->blocks[3].ref.enc, SDB_ENC_DICT);
    sdb_seg_blockbuf bb;
    sdb_seg_blockbuf_init(&bb);
    cr_assert_eq(sdb_seg_read_block(seg[0], (uint32_t)uc, 0, &bb, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(bb.ndict, 0);
    bb.keep_codes = true;
    for (uint32_t blk = 0; blk < 4; blk++) {
        cr_assert_eq(sdb_seg_read_block(seg[0], (uint32_t)uc, blk, &bb, &err), SDB_OK, "%s",
                     err.msg);
        if (blk == 2) {
            cr_assert_eq(bb.ndict, 0);
            continue;
        }
        cr_assert_gt(bb.ndict, 1);
        for (uint32_t i = 0; i < bb.rows; i++) {
            cr_assert_lt(bb.codes[i], bb.ndict);
            for (uint32_t j = i + 1; j < bb.rows && j < i + 40; j++) {
                bool vi = (bb.valid[i / 64] >> (i % 64)) & 1, vj = (bb.valid[j / 64] >> (j % 64)) & 1;
                uint64_t li = bb.v.off[i + 1] - bb.v.off[i], lj = bb.v.off[j + 1] - bb.v.off[j];
                bool eq = li == lj && memcmp(bb.bytes.data + bb.v.off[i],
                                             bb.bytes.data + bb.v.off[j], (size_t)li) == 0;
                if (vi && vj)
                    cr_assert_eq(bb.codes[i] == bb.codes[j], eq, "block %u rows %u, %u", blk, i, j);
            }
        }
    }
    sdb_seg_blockbuf_free(&bb);

    sdb_table_snap snap = {.table = "t", .ncols = KCOLS, .names = knames, .types = ktypes,
                           .nsegs = 2, .segs = seg, .nmems = 1, .mems = mems};
    for (int pass = 0; pass < 4; pass++) {
        bool filtered = pass & 1;
        unsigned threads = pass < 2 ? 1 : 3;
        sdb_pexpr *key = sdb_pexpr_col(&qm, K_USER, SDB_TYPE_STRING, &err);
        sdb_pexpr *where = filtered ? sdb_pexpr_op2(&qm, SDB_PX_LT,
                                                    sdb_pexpr_col(&qm, K_N, SDB_TYPE_INT64, &err),
                                                    sdb_pexpr_i64(&qm, 300, &err), &err)
                                    : NULL;
        sdb_aggspec aggs[4] = {{.kind = SDB_AGG_COUNT_STAR},
                               {.kind = SDB_AGG_SUM,
                                .arg = sdb_pexpr_col(&qm, K_N, SDB_TYPE_INT64, &err)},
                               {.kind = SDB_AGG_SUM,
                                .arg = sdb_pexpr_col(&qm, K_COST, SDB_TYPE_FLOAT64, &err)},
                               {.kind = SDB_AGG_COUNT_DISTINCT, .arg = key}};
        const sdb_pexpr *keys[1] = {key};
        sdb_query_spec sp = {.snap = &snap, .where = where, .aggregate = true, .ngroup = 1,
                             .group = keys, .naggs = 4, .aggs = aggs, .threads = threads};
        sdb_result *r;
        sdb_exec_stats st;
        cr_assert(key && (!filtered || where), "%s", err.msg);
        nkrefs = 0;
        for (int u = 0; u < 3; u++)
            for (uint32_t i = 0; i < rows[u]; i++) {
                const char *s = kuser(u, i, buf);
                int64_t n = (int64_t)((i * 7919u) % 1000);
                kref *g;
                if (filtered && n >= 300)
                    continue;
                g = kref_get(s ? s : "", s ? (uint32_t)strlen(s) : 0, s == NULL);
                g->count++;
                g->sumn += n;
                g->cost += 0.25 * (i % 13) + u;
            }
        cr_assert_eq(sdb_exec_run(&qm, &sp, &r, &st, &err), SDB_OK, "%s", err.msg);
        cr_assert_not(st.dense_groups);
        cr_assert_eq(r->nrows, nkrefs, "pass %d", pass);
        for (uint64_t i = 0; i < r->nrows; i++) {
            const sdb_value *v = sdb_result_at(r, i, 0);
            uint32_t before = nkrefs;
            kref *g = kref_get(v->u.s.p, v->u.s.len, v->null);
            cr_assert_eq(nkrefs, before, "pass %d: group %.*s not expected", pass,
                         (int)v->u.s.len, v->null ? "" : v->u.s.p);
            cr_assert_eq(v[1].u.i, g->count, "pass %d key %s", pass, g->key);
            cr_assert_eq(v[2].u.i, g->sumn, "pass %d key %s", pass, g->key);
            cr_assert_float_eq(v[3].u.f, g->cost, 1e-9 * (1 + g->cost));
            cr_assert_eq(v[4].u.i, g->null ? 0 : 1);
            g->count = -1; /* each group once */
        }
        sdb_result_destroy(r);
        /* count(DISTINCT user) of the whole table: every key once, however many blocks and
           units hold it */
        sp.ngroup = 0;
        sp.naggs = 1;
        sp.aggs = &aggs[3];
        cr_assert_eq(sdb_exec_run(&qm, &sp, &r, &st, &err), SDB_OK, "%s", err.msg);
        cr_assert_eq(r->nrows, 1);
        cr_assert_eq(sdb_result_at(r, 0, 0)->u.i, (int64_t)nkrefs - 1, "pass %d", pass);
        sdb_result_destroy(r);
    }
    for (int s = 0; s < 2; s++)
        sdb_seg_close(seg[s]);
    for (int u = 0; u < 3; u++)
        sdb_batch_free(&b[u]);
    tmpdir_teardown();
}
