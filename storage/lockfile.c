/* Data-directory lock over flock(2). flock locks belong to the open file description, so a
 * second sdb_lock_acquire in the same process conflicts just like one in another process,
 * and the lock is released exactly when the descriptor is closed or the process exits. The
 * pid written into the file is only a hint for the error message; the lock is the flock. */
#include "storage/lockfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/fileio.h"

struct sdb_lock {
    int fd;                  /* open LOCK file holding the flock */
    char path[SDB_PATH_MAX]; /* DIR/LOCK */
    int held;                /* 1 once the flock is ours */
};

/* The pid recorded by the holder, or 0 when the file holds none (yet). */
static long read_holder(int fd, const char *path)
{
    char buf[32];
    size_t got = 0;
    sdb_err ignored;
    long pid = 0;
    if (sdb_file_pread_all(fd, path, buf, sizeof buf - 1, 0, &got, &ignored) != SDB_OK)
        return 0;
    buf[got] = '\0';
    for (size_t i = 0; i < got && buf[i] >= '0' && buf[i] <= '9' && pid < 100000000; i++)
        pid = pid * 10 + (buf[i] - '0');
    return pid;
}

sdb_rc sdb_lock_acquire(const char *dir, sdb_lock **lock, sdb_err *err)
{
    sdb_lock *l;
    char pid[32];
    int n;
    sdb_rc rc;
    *lock = NULL;
    if ((l = calloc(1, sizeof *l)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the lock of %s", dir);
    l->fd = -1;
    rc = sdb_file_join(l->path, dir, SDB_LOCK_FILE, err);
    if (rc == SDB_OK)
        rc = sdb_file_open(l->path, SDB_OPEN_RDWR | SDB_OPEN_CREATE, &l->fd, err);
    if (rc != SDB_OK)
        goto fail;
    rc = sdb_file_trylock(l->fd, l->path, err);
    if (rc == SDB_ERR_BUSY) {
        long holder = read_holder(l->fd, l->path);
        if (holder > 0)
            SDB_FAIL(err, SDB_ERR_BUSY,
                     "data directory %s is locked by process %ld (%s): another spandb writer "
                     "is running",
                     dir, holder, l->path);
        else
            SDB_FAIL(err, SDB_ERR_BUSY,
                     "data directory %s is locked by another process (%s): another spandb "
                     "writer is running",
                     dir, l->path);
        goto fail;
    }
    if (rc != SDB_OK)
        goto fail;
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    rc = sdb_file_truncate(l->fd, l->path, 0, err);
    if (rc == SDB_OK)
        rc = sdb_file_pwrite_all(l->fd, l->path, pid, (size_t)n, 0, err);
    if (rc != SDB_OK)
        goto fail;
    l->held = 1;
    *lock = l;
    return SDB_OK;
fail:
    sdb_lock_release(l);
    return rc;
}

void sdb_lock_release(sdb_lock *lock)
{
    sdb_err ignored;
    if (lock == NULL)
        return;
    if (lock->fd >= 0) {
        /* Only the holder empties the file; a refused acquirer leaves the holder's pid. */
        if (lock->held)
            sdb_file_truncate(lock->fd, lock->path, 0, &ignored);
        sdb_file_close(lock->fd, lock->path, &ignored);
    }
    free(lock);
}
