/* The data-directory lock: one writer process at a time. sdb_lock_acquire takes an exclusive
 * flock on DIR/LOCK and writes the holder's pid into it, so that a second writer is refused
 * with SDB_ERR_BUSY naming the holder. The kernel drops the lock when the holder closes it or
 * dies (kill -9 included), so a crash never leaves a stale lock behind. */
#ifndef SDB_STORAGE_LOCKFILE_H
#define SDB_STORAGE_LOCKFILE_H

#include "storage/common/error.h"

/* Name of the lock file inside the data directory. */
#define SDB_LOCK_FILE "LOCK"

typedef struct sdb_lock sdb_lock;

/* Lock the data directory dir (which must exist) for writing. Caller owns *lock; free with
 * sdb_lock_release(). Fails with SDB_ERR_BUSY ("... is locked by process 1234 ...") when
 * another open of the lock file holds it, in this process or another; SDB_ERR_IO otherwise.
 * The lock file descriptor is close-on-exec and is not meant to be inherited across fork. */
sdb_rc sdb_lock_acquire(const char *dir, sdb_lock **lock, sdb_err *err);
/* Release the lock (the LOCK file stays, empty). Accepts NULL. */
void sdb_lock_release(sdb_lock *lock);

#endif
