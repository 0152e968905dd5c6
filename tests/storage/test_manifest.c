/* The manifest: save/load round trips, generations, atomic replace, and corrupt or truncated
 * files that must be refused with an error naming the file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/manifest.h"
#include "tests/support/tmpdir.h"

TestSuite(manifest, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 60);

static sdb_manifest_entry entry(const char *table, const char *file, uint64_t i)
{
    sdb_manifest_entry e = {table,
                            file,
                            1700000000000000000LL + (int64_t)i * 86400000000000LL,
                            SDB_PART_DAY,
                            1000 + i,
                            1700000000000000000LL + (int64_t)i,
                            1700000000000000000LL + (int64_t)i * 1000,
                            10 * i,
                            4096 * i,
                            (uint32_t)(i % 3)};
    return e;
}

static sdb_manifest *sample(uint32_t n)
{
    sdb_manifest *m = sdb_manifest_create();
    sdb_err err;
    cr_assert_not_null(m);
    for (uint32_t i = 0; i < n; i++) {
        char file[64];
        sdb_manifest_entry e;
        snprintf(file, sizeof file, "seg-%06u.seg", i);
        e = entry(i % 2 ? "spans" : "scores", file, i);
        cr_assert_eq(sdb_manifest_add(m, &e, &err), SDB_OK, "%s", err.msg);
    }
    return m;
}

static void assert_same(const sdb_manifest *a, const sdb_manifest *b)
{
    cr_assert_eq(sdb_manifest_count(a), sdb_manifest_count(b));
    for (uint32_t i = 0; i < sdb_manifest_count(a); i++) {
        const sdb_manifest_entry *x = sdb_manifest_get(a, i), *y = sdb_manifest_get(b, i);
        cr_assert_str_eq(x->table, y->table);
        cr_assert_str_eq(x->file, y->file);
        cr_assert_eq(x->part_start, y->part_start);
        cr_assert_eq(x->unit, y->unit);
        cr_assert_eq(x->rows, y->rows);
        cr_assert_eq(x->min_time, y->min_time);
        cr_assert_eq(x->max_time, y->max_time);
        cr_assert_eq(x->max_wal_seq, y->max_wal_seq);
        cr_assert_eq(x->bytes, y->bytes);
        cr_assert_eq(x->level, y->level);
    }
}

Test(manifest, save_load_round_trip_keeps_entries_and_bumps_generation)
{
    sdb_manifest *m = sample(500), *l;
    sdb_err err;
    cr_assert_eq(sdb_manifest_generation(m), 0);
    cr_assert_eq(sdb_manifest_save(m, sdb_test_dir, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_manifest_generation(m), 1);
    cr_assert_eq(sdb_manifest_load(sdb_test_dir, &l, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_manifest_generation(l), 1);
    assert_same(m, l);
    cr_assert_eq(sdb_manifest_max_wal_seq(l, "spans"), 4990);
    cr_assert_eq(sdb_manifest_max_wal_seq(l, "scores"), 4980);
    cr_assert_eq(sdb_manifest_max_wal_seq(l, "other"), 0);
    /* remove and add, save again: the new version replaces the old one */
    cr_assert_eq(sdb_manifest_remove(l, "spans", "seg-000001.seg", &err), SDB_OK);
    cr_assert_eq(sdb_manifest_save(l, sdb_test_dir, &err), SDB_OK);
    sdb_manifest_destroy(m);
    cr_assert_eq(sdb_manifest_load(sdb_test_dir, &m, &err), SDB_OK);
    cr_assert_eq(sdb_manifest_generation(m), 2);
    cr_assert_eq(sdb_manifest_count(m), 499);
    assert_same(m, l);
    sdb_manifest_destroy(m);
    sdb_manifest_destroy(l);
}

Test(manifest, empty_manifest_round_trips)
{
    sdb_manifest *m = sdb_manifest_create(), *l;
    sdb_err err;
    cr_assert_eq(sdb_manifest_save(m, sdb_test_dir, &err), SDB_OK);
    cr_assert_eq(sdb_manifest_load(sdb_test_dir, &l, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_manifest_count(l), 0);
    sdb_manifest_destroy(m);
    sdb_manifest_destroy(l);
}

Test(manifest, load_missing_is_notfound)
{
    sdb_manifest *m;
    sdb_err err;
    cr_assert_eq(sdb_manifest_load(sdb_test_dir, &m, &err), SDB_ERR_NOTFOUND);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, "MANIFEST") != NULL, "%s", err.msg);
}

Test(manifest, add_duplicate_or_bad_entry_is_refused)
{
    sdb_manifest *m = sample(3);
    sdb_manifest_entry e = entry("spans", "seg-000001.seg", 1);
    sdb_err err;
    cr_assert_eq(sdb_manifest_add(m, &e, &err), SDB_ERR_EXISTS);
    cr_assert(strstr(err.msg, "spans/seg-000001.seg") != NULL, "%s", err.msg);
    e.file = "../escape.seg";
    cr_assert_eq(sdb_manifest_add(m, &e, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "'/'") != NULL, "%s", err.msg);
    e.file = "ok.seg";
    e.unit = (sdb_part_unit)9;
    cr_assert_eq(sdb_manifest_add(m, &e, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "partition unit") != NULL, "%s", err.msg);
    e.unit = SDB_PART_HOUR;
    e.min_time = e.max_time + 1;
    cr_assert_eq(sdb_manifest_add(m, &e, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "min time") != NULL, "%s", err.msg);
    cr_assert_eq(sdb_manifest_remove(m, "spans", "nope.seg", &err), SDB_ERR_NOTFOUND);
    cr_assert_eq(sdb_manifest_count(m), 3);
    sdb_manifest_destroy(m);
}

Test(manifest, load_every_truncation_is_corrupt_naming_the_file)
{
    sdb_manifest *m = sample(4), *l;
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    cr_assert_eq(sdb_manifest_encode(m, &b, &err), SDB_OK);
    for (size_t n = 0; n < b.len; n++) {
        cr_assert_eq(sdb_manifest_decode(b.data, n, "x/MANIFEST", &l, &err), SDB_ERR_CORRUPT,
                     "prefix of %zu bytes", n);
        cr_assert_null(l);
        cr_assert(strstr(err.msg, "x/MANIFEST") != NULL, "%s", err.msg);
    }
    sdb_buf_free(&b);
    sdb_manifest_destroy(m);
}

Test(manifest, load_flipped_byte_is_corrupt)
{
    char path[4096];
    sdb_manifest *m = sample(10), *l;
    unsigned char *bytes;
    size_t len;
    sdb_err err;
    cr_assert_eq(sdb_manifest_save(m, sdb_test_dir, &err), SDB_OK);
    tmpdir_path(path, sizeof path, "MANIFEST");
    bytes = tmpdir_read_file(path, &len);
    for (size_t i = 0; i < len; i += 7) {
        bytes[i] ^= 0x04;
        cr_assert_eq(tmpdir_write_file(path, bytes, len), 0);
        cr_assert_eq(sdb_manifest_load(sdb_test_dir, &l, &err), SDB_ERR_CORRUPT, "byte %zu", i);
        cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
        bytes[i] ^= 0x04;
    }
    cr_assert_eq(tmpdir_write_file(path, bytes, len - 1), 0);
    cr_assert_eq(sdb_manifest_load(sdb_test_dir, &l, &err), SDB_ERR_CORRUPT);
    cr_assert(strstr(err.msg, "truncated") != NULL, "%s", err.msg);
    free(bytes);
    sdb_manifest_destroy(m);
}

Test(manifest, stale_tmp_file_does_not_affect_load)
{
    char path[4096];
    sdb_manifest *m = sample(2), *l;
    sdb_err err;
    cr_assert_eq(sdb_manifest_save(m, sdb_test_dir, &err), SDB_OK);
    /* a crash before the rename leaves MANIFEST.tmp half-written: MANIFEST is the old one */
    tmpdir_path(path, sizeof path, "MANIFEST.tmp");
    cr_assert_eq(tmpdir_write_file(path, "SMAN garbage", 12), 0);
    cr_assert_eq(sdb_manifest_load(sdb_test_dir, &l, &err), SDB_OK, "%s", err.msg);
    assert_same(m, l);
    sdb_manifest_destroy(l);
    cr_assert_eq(sdb_manifest_save(m, sdb_test_dir, &err), SDB_OK);
    cr_assert_eq(sdb_manifest_generation(m), 2);
    sdb_manifest_destroy(m);
}

Test(manifest, copy_is_independent)
{
    sdb_manifest *m = sample(5), *c;
    sdb_err err;
    cr_assert_eq(sdb_manifest_copy(m, &c, &err), SDB_OK);
    cr_assert_eq(sdb_manifest_remove(c, "scores", "seg-000000.seg", &err), SDB_OK);
    cr_assert_eq(sdb_manifest_count(m), 5);
    cr_assert_eq(sdb_manifest_count(c), 4);
    sdb_manifest_destroy(m);
    sdb_manifest_destroy(c);
}
