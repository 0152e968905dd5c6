/* The data-directory lock: one writer at a time, across threads of one process and across
 * processes; released on close and when the holder dies. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/lockfile.h"
#include "tests/support/tmpdir.h"

TestSuite(lockfile, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 60);

Test(lockfile, second_acquire_in_same_process_is_busy_until_release)
{
    sdb_lock *a, *b;
    sdb_err err;
    char pid[32];
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &a, &err), SDB_OK, "%s", err.msg);
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &b, &err), SDB_ERR_BUSY);
    cr_assert_null(b);
    snprintf(pid, sizeof pid, "process %ld", (long)getpid());
    cr_assert(strstr(err.msg, pid) != NULL, "%s", err.msg);
    sdb_lock_release(a);
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &b, &err), SDB_OK, "%s", err.msg);
    sdb_lock_release(b);
}

Test(lockfile, child_holds_parent_is_busy_then_acquires_after_child_dies)
{
    int ready[2], go[2];
    pid_t child;
    sdb_lock *l;
    sdb_err err;
    char want[64], c;
    int status;
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        sdb_lock *cl;
        sdb_err cerr;
        if (sdb_lock_acquire(sdb_test_dir, &cl, &cerr) != SDB_OK)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(2);
        if (read(go[0], &c, 1) != 1) /* wait for the parent, then die holding the lock */
            _exit(3);
        _exit(0);
    }
    cr_assert_eq(read(ready[0], &c, 1), 1, "child failed to lock");
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &l, &err), SDB_ERR_BUSY);
    snprintf(want, sizeof want, "locked by process %ld", (long)child);
    cr_assert(strstr(err.msg, want) != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "LOCK") != NULL, "%s", err.msg);
    cr_assert_eq(write(go[1], "g", 1), 1);
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &l, &err), SDB_OK, "%s", err.msg);
    sdb_lock_release(l);
}

Test(lockfile, killed_holder_releases_lock)
{
    int ready[2];
    pid_t child;
    sdb_lock *l;
    sdb_err err;
    char c;
    cr_assert_eq(pipe(ready), 0);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        sdb_lock *cl;
        sdb_err cerr;
        if (sdb_lock_acquire(sdb_test_dir, &cl, &cerr) != SDB_OK)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &l, &err), SDB_ERR_BUSY);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(sdb_lock_acquire(sdb_test_dir, &l, &err), SDB_OK, "%s", err.msg);
    sdb_lock_release(l);
}

Test(lockfile, missing_directory_is_an_error_naming_it)
{
    char dir[4096];
    sdb_lock *l;
    sdb_err err;
    tmpdir_path(dir, sizeof dir, "no/such/dir");
    cr_assert_eq(sdb_lock_acquire(dir, &l, &err), SDB_ERR_IO);
    cr_assert(strstr(err.msg, "no/such/dir/LOCK") != NULL, "%s", err.msg);
}
