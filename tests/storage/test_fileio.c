/* File I/O wrappers: full reads and writes, atomic replace, mkdir -p, listing, and errors
 * that name the operation and the path. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "storage/fileio.h"
#include "tests/support/tmpdir.h"

TestSuite(fileio, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 60);

Test(fileio, pwrite_pread_round_trip_and_short_read_at_eof)
{
    char path[4096];
    char buf[64];
    size_t got;
    uint64_t size;
    int fd;
    sdb_err err;
    tmpdir_path(path, sizeof path, "f");
    cr_assert_eq(sdb_file_open(path, SDB_OPEN_RDWR | SDB_OPEN_CREATE, &fd, &err), SDB_OK);
    cr_assert_eq(sdb_file_pwrite_all(fd, path, "hello world", 11, 0, &err), SDB_OK);
    cr_assert_eq(sdb_file_pwrite_all(fd, path, "!", 1, 11, &err), SDB_OK);
    cr_assert_eq(sdb_file_sync(fd, path, &err), SDB_OK);
    cr_assert_eq(sdb_file_size(fd, path, &size, &err), SDB_OK);
    cr_assert_eq(size, 12);
    cr_assert_eq(sdb_file_pread_all(fd, path, buf, sizeof buf, 6, &got, &err), SDB_OK);
    cr_assert_eq(got, 6);
    cr_assert_eq(memcmp(buf, "world!", 6), 0);
    cr_assert_eq(sdb_file_truncate(fd, path, 5, &err), SDB_OK);
    cr_assert_eq(sdb_file_pread_all(fd, path, buf, sizeof buf, 0, &got, &err), SDB_OK);
    cr_assert_eq(got, 5);
    cr_assert_eq(sdb_file_close(fd, path, &err), SDB_OK);
}

Test(fileio, open_missing_is_notfound_naming_path)
{
    char path[4096];
    int fd;
    sdb_err err;
    tmpdir_path(path, sizeof path, "missing.dat");
    cr_assert_eq(sdb_file_open(path, SDB_OPEN_READ, &fd, &err), SDB_ERR_NOTFOUND);
    cr_assert_eq(fd, -1);
    cr_assert(strstr(err.msg, "open ") != NULL && strstr(err.msg, "missing.dat") != NULL, "%s",
              err.msg);
    cr_assert_eq(sdb_file_open(path, SDB_OPEN_RDWR | SDB_OPEN_CREATE | SDB_OPEN_EXCL, &fd, &err),
                 SDB_OK);
    sdb_file_close(fd, path, &err);
    cr_assert_eq(sdb_file_open(path, SDB_OPEN_RDWR | SDB_OPEN_CREATE | SDB_OPEN_EXCL, &fd, &err),
                 SDB_ERR_EXISTS);
    cr_assert(strstr(err.msg, "missing.dat") != NULL, "%s", err.msg);
}

Test(fileio, write_atomic_replaces_whole_file)
{
    char path[4096];
    unsigned char *got;
    size_t len;
    sdb_err err;
    cr_assert_eq(sdb_file_write_atomic(sdb_test_dir, "STATE", "first version", 13, &err), SDB_OK);
    cr_assert_eq(sdb_file_write_atomic(sdb_test_dir, "STATE", "second", 6, &err), SDB_OK);
    got = tmpdir_read_file(tmpdir_path(path, sizeof path, "STATE"), &len);
    cr_assert_eq(len, 6);
    cr_assert_eq(memcmp(got, "second", 6), 0);
    free(got);
    cr_assert(!sdb_file_exists(tmpdir_path(path, sizeof path, "STATE.tmp")));
}

Test(fileio, write_atomic_into_missing_dir_names_the_temp_path)
{
    char dir[4096];
    sdb_err err;
    tmpdir_path(dir, sizeof dir, "nowhere");
    cr_assert_eq(sdb_file_write_atomic(dir, "STATE", "x", 1, &err), SDB_ERR_IO);
    cr_assert(strstr(err.msg, "nowhere/STATE.tmp") != NULL, "%s", err.msg);
    cr_assert_eq(err.sys_errno, 2);
}

Test(fileio, mkdir_p_creates_parents_and_accepts_existing)
{
    char dir[4096], file[4096];
    sdb_err err;
    tmpdir_path(dir, sizeof dir, "a/b//c/d");
    cr_assert_eq(sdb_file_mkdir_p(dir, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_file_mkdir_p(dir, &err), SDB_OK);
    cr_assert(sdb_file_exists(dir));
    tmpdir_path(file, sizeof file, "a/file");
    cr_assert_eq(tmpdir_write_file(file, "x", 1), 0);
    tmpdir_path(dir, sizeof dir, "a/file/sub");
    cr_assert_neq(sdb_file_mkdir_p(dir, &err), SDB_OK);
    cr_assert(strstr(err.msg, "a/file") != NULL, "%s", err.msg);
}

static sdb_rc count_entry(void *ctx, const char *name, sdb_err *err)
{
    (void)err;
    if (strncmp(name, "f", 1) == 0)
        (*(int *)ctx)++;
    return SDB_OK;
}

Test(fileio, list_dir_visits_every_entry_and_rename_unlink_work)
{
    char a[4096], b[4096];
    int n = 0;
    sdb_err err;
    tmpdir_path(a, sizeof a, "f1");
    tmpdir_path(b, sizeof b, "f2");
    cr_assert_eq(tmpdir_write_file(a, "1", 1), 0);
    cr_assert_eq(tmpdir_write_file(b, "2", 1), 0);
    cr_assert_eq(sdb_file_list_dir(sdb_test_dir, count_entry, &n, &err), SDB_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(sdb_file_rename(a, b, &err), SDB_OK);
    cr_assert_eq(sdb_file_rename(a, b, &err), SDB_ERR_NOTFOUND);
    cr_assert(strstr(err.msg, "rename") != NULL, "%s", err.msg);
    cr_assert_eq(sdb_file_unlink(b, false, &err), SDB_OK);
    cr_assert_eq(sdb_file_unlink(b, false, &err), SDB_ERR_NOTFOUND);
    cr_assert_eq(sdb_file_unlink(b, true, &err), SDB_OK);
    cr_assert_eq(sdb_file_sync_dir(sdb_test_dir, &err), SDB_OK);
    tmpdir_path(a, sizeof a, "nodir");
    cr_assert_eq(sdb_file_list_dir(a, count_entry, &n, &err), SDB_ERR_NOTFOUND);
}

Test(fileio, read_all_refuses_files_past_the_bound)
{
    char path[4096];
    sdb_buf b = SDB_BUF_INIT;
    sdb_err err;
    tmpdir_path(path, sizeof path, "big");
    cr_assert_eq(tmpdir_write_file(path, "0123456789", 10), 0);
    cr_assert_eq(sdb_file_read_all(path, 9, &b, &err), SDB_ERR_LIMIT);
    cr_assert(strstr(err.msg, "big") != NULL, "%s", err.msg);
    cr_assert_eq(sdb_file_read_all(path, 10, &b, &err), SDB_OK);
    cr_assert_eq(b.len, 10);
    sdb_buf_free(&b);
}
