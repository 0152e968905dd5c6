/* File I/O wrappers: open, positioned reads and writes that loop over short transfers and
 * EINTR, fsync of files and directories, rename, unlink, mkdir -p, directory listing, advisory
 * locks and the atomic replace of a small file. This is the only code of spandb that reads
 * errno; every error it raises names the operation and the path. */
#ifndef SDB_STORAGE_FILEIO_H
#define SDB_STORAGE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/buf.h"
#include "storage/common/error.h"

/* Longest path the wrappers build (directory + "/" + name), including the NUL. */
#define SDB_PATH_MAX 4096u

/* Open flags (combine with |). Files are always opened close-on-exec. */
enum {
    SDB_OPEN_READ = 0,        /* read only */
    SDB_OPEN_RDWR = 1 << 0,   /* read and write */
    SDB_OPEN_CREATE = 1 << 1, /* create when missing (mode 0644) */
    SDB_OPEN_EXCL = 1 << 2,   /* with CREATE: fail with SDB_ERR_EXISTS when present */
    SDB_OPEN_TRUNC = 1 << 3,  /* truncate to 0 bytes */
};

/* Open path; *fd receives the descriptor (caller closes with sdb_file_close). Fails with
 * SDB_ERR_NOTFOUND when the file is missing (and CREATE is not given), SDB_ERR_EXISTS with
 * EXCL, else SDB_ERR_IO. */
sdb_rc sdb_file_open(const char *path, int flags, int *fd, sdb_err *err);
/* Close fd (ignored when < 0). A close error is reported, the descriptor is gone anyway. */
sdb_rc sdb_file_close(int fd, const char *path, sdb_err *err);

/* Read up to n bytes at offset off, looping over short reads and EINTR; *got < n only at
 * end of file. */
sdb_rc sdb_file_pread_all(int fd, const char *path, void *buf, size_t n, uint64_t off, size_t *got,
                          sdb_err *err);
/* Write exactly n bytes at offset off, looping over short writes and EINTR. */
sdb_rc sdb_file_pwrite_all(int fd, const char *path, const void *buf, size_t n, uint64_t off,
                           sdb_err *err);
/* Flush the file's data and size to stable storage (fdatasync). */
sdb_rc sdb_file_sync(int fd, const char *path, sdb_err *err);
/* Flush a directory, making creations, renames and unlinks in it durable. */
sdb_rc sdb_file_sync_dir(const char *dir, sdb_err *err);
/* Size of an open file in bytes. */
sdb_rc sdb_file_size(int fd, const char *path, uint64_t *size, sdb_err *err);
/* Cut or extend an open file to size bytes. */
sdb_rc sdb_file_truncate(int fd, const char *path, uint64_t size, sdb_err *err);

/* rename(2). Fails with SDB_ERR_NOTFOUND when from is missing. */
sdb_rc sdb_file_rename(const char *from, const char *to, sdb_err *err);
/* unlink(2). With missing_ok, a missing file is success. */
sdb_rc sdb_file_unlink(const char *path, bool missing_ok, sdb_err *err);
/* Create dir and its missing parents (mode 0755); existing directories are fine. */
sdb_rc sdb_file_mkdir_p(const char *dir, sdb_err *err);
/* True when path exists (any type). */
bool sdb_file_exists(const char *path);

/* Join dir and name into out (SDB_PATH_MAX bytes). Fails with SDB_ERR_LIMIT when too long. */
sdb_rc sdb_file_join(char *out, const char *dir, const char *name, sdb_err *err);

/* Read a whole file into out (appended), refusing files larger than max bytes with
 * SDB_ERR_LIMIT. SDB_ERR_NOTFOUND when the file is missing. */
sdb_rc sdb_file_read_all(const char *path, size_t max, sdb_buf *out, sdb_err *err);

/* Replace dir/name with data atomically: write dir/name.tmp, fsync it, rename it over
 * dir/name, fsync dir. After a crash dir/name holds the old or the new contents, never a
 * mix; a stale dir/name.tmp may be left behind and is overwritten by the next call. */
sdb_rc sdb_file_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                             sdb_err *err);

/* Called once per directory entry (not "." or ".."); a non-OK return stops the listing and
 * is returned by sdb_file_list_dir. */
typedef sdb_rc (*sdb_file_list_fn)(void *ctx, const char *name, sdb_err *err);
/* Call fn for every entry of dir, in no particular order. SDB_ERR_NOTFOUND when dir is
 * missing. */
sdb_rc sdb_file_list_dir(const char *dir, sdb_file_list_fn fn, void *ctx, sdb_err *err);

/* Delete the files of dir (one level, no subdirectories) and dir itself; a missing dir is
 * fine. */
sdb_rc sdb_file_remove_dir(const char *dir, sdb_err *err);

/* Try to take an exclusive advisory lock (flock) on fd without waiting. Fails with
 * SDB_ERR_BUSY when another open file description holds it. The lock is released when the
 * last descriptor of this open file is closed, including when the process dies. */
sdb_rc sdb_file_trylock(int fd, const char *path, sdb_err *err);

#endif
