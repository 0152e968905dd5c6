/* File I/O wrappers over POSIX calls. Every function here turns errno into an sdb_err that
 * names the operation and the path ("open wal/x.log: No such file or directory"); the rest
 * of spandb never looks at errno. Short reads and writes and EINTR are retried here so that
 * callers can treat a transfer as all or error. */
#include "storage/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* pread/pwrite move at most this much per call (Linux caps at 0x7ffff000 anyway). */
#define IO_CHUNK (1u << 30)

sdb_rc sdb_file_open(const char *path, int flags, int *fd, sdb_err *err)
{
    int oflags = O_CLOEXEC;
    int f;
    oflags |= (flags & SDB_OPEN_RDWR) ? O_RDWR : O_RDONLY;
    if (flags & SDB_OPEN_CREATE)
        oflags |= O_CREAT;
    if (flags & SDB_OPEN_EXCL)
        oflags |= O_EXCL;
    if (flags & SDB_OPEN_TRUNC)
        oflags |= O_TRUNC;
    *fd = -1;
    do
        f = open(path, oflags, 0644);
    while (f < 0 && errno == EINTR);
    if (f < 0) {
        if (errno == ENOENT && !(flags & SDB_OPEN_CREATE))
            return SDB_FAIL(err, SDB_ERR_NOTFOUND, "open %s: no such file", path);
        if (errno == EEXIST && (flags & SDB_OPEN_EXCL))
            return SDB_FAIL(err, SDB_ERR_EXISTS, "create %s: file exists", path);
        return SDB_FAIL_SYS(err, "open %s", path);
    }
    *fd = f;
    return SDB_OK;
}

sdb_rc sdb_file_close(int fd, const char *path, sdb_err *err)
{
    if (fd < 0)
        return SDB_OK;
    /* Linux always releases the descriptor, even on EINTR: never retry close. */
    if (close(fd) != 0 && errno != EINTR)
        return SDB_FAIL_SYS(err, "close %s", path);
    return SDB_OK;
}

sdb_rc sdb_file_pread_all(int fd, const char *path, void *buf, size_t n, uint64_t off, size_t *got,
                          sdb_err *err)
{
    size_t done = 0;
    *got = 0;
    if (off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "read %s: offset %llu out of range", path,
                        (unsigned long long)off);
    while (done < n) {
        size_t want = n - done > IO_CHUNK ? IO_CHUNK : n - done;
        ssize_t r = pread(fd, (char *)buf + done, want, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return SDB_FAIL_SYS(err, "read %s at offset %llu", path,
                                (unsigned long long)(off + done));
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return SDB_OK;
}

sdb_rc sdb_file_pwrite_all(int fd, const char *path, const void *buf, size_t n, uint64_t off,
                           sdb_err *err)
{
    size_t done = 0;
    if (off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "write %s: offset %llu out of range", path,
                        (unsigned long long)off);
    while (done < n) {
        size_t want = n - done > IO_CHUNK ? IO_CHUNK : n - done;
        ssize_t r = pwrite(fd, (const char *)buf + done, want, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return SDB_FAIL_SYS(err, "write %s at offset %llu", path,
                                (unsigned long long)(off + done));
        }
        if (r == 0)
            return SDB_FAIL(err, SDB_ERR_IO, "write %s at offset %llu: no progress", path,
                            (unsigned long long)(off + done));
        done += (size_t)r;
    }
    return SDB_OK;
}

sdb_rc sdb_file_sync(int fd, const char *path, sdb_err *err)
{
    int r;
    do
        r = fdatasync(fd);
    while (r != 0 && errno == EINTR);
    if (r != 0)
        return SDB_FAIL_SYS(err, "fsync %s", path);
    return SDB_OK;
}

sdb_rc sdb_file_sync_dir(const char *dir, sdb_err *err)
{
    int fd, r;
    do
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return SDB_FAIL_SYS(err, "open directory %s", dir);
    do
        r = fsync(fd);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        sdb_rc rc = SDB_FAIL_SYS(err, "fsync directory %s", dir);
        close(fd);
        return rc;
    }
    close(fd);
    return SDB_OK;
}

sdb_rc sdb_file_size(int fd, const char *path, uint64_t *size, sdb_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return SDB_FAIL_SYS(err, "stat %s", path);
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return SDB_OK;
}

sdb_rc sdb_file_truncate(int fd, const char *path, uint64_t size, sdb_err *err)
{
    int r;
    if (size > (uint64_t)INT64_MAX)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "truncate %s: size out of range", path);
    do
        r = ftruncate(fd, (off_t)size);
    while (r != 0 && errno == EINTR);
    if (r != 0)
        return SDB_FAIL_SYS(err, "truncate %s to %llu bytes", path, (unsigned long long)size);
    return SDB_OK;
}

sdb_rc sdb_file_rename(const char *from, const char *to, sdb_err *err)
{
    if (rename(from, to) != 0) {
        if (errno == ENOENT)
            return SDB_FAIL(err, SDB_ERR_NOTFOUND, "rename %s to %s: no such file", from, to);
        return SDB_FAIL_SYS(err, "rename %s to %s", from, to);
    }
    return SDB_OK;
}

sdb_rc sdb_file_unlink(const char *path, bool missing_ok, sdb_err *err)
{
    if (unlink(path) != 0) {
        if (errno == ENOENT) {
            if (missing_ok)
                return SDB_OK;
            return SDB_FAIL(err, SDB_ERR_NOTFOUND, "delete %s: no such file", path);
        }
        return SDB_FAIL_SYS(err, "delete %s", path);
    }
    return SDB_OK;
}

typedef struct rmtree_ctx {
    const char *dir;
} rmtree_ctx;

static sdb_rc rm_entry(void *ctx, const char *name, sdb_err *err)
{
    char path[SDB_PATH_MAX];
    SDB_TRY(sdb_file_join(path, ((rmtree_ctx *)ctx)->dir, name, err));
    return sdb_file_unlink(path, true, err);
}

sdb_rc sdb_file_remove_dir(const char *dir, sdb_err *err)
{
    rmtree_ctx ctx = {dir};
    sdb_rc rc = sdb_file_list_dir(dir, rm_entry, &ctx, err);
    if (rc == SDB_ERR_NOTFOUND)
        return SDB_OK;
    SDB_TRY(rc);
    if (rmdir(dir) != 0 && errno != ENOENT)
        return SDB_FAIL_SYS(err, "remove directory %s", dir);
    return SDB_OK;
}

static sdb_rc mkdir_one(const char *dir, sdb_err *err)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return SDB_OK;
    if (errno != EEXIST)
        return SDB_FAIL_SYS(err, "create directory %s", dir);
    if (stat(dir, &st) != 0)
        return SDB_FAIL_SYS(err, "stat %s", dir);
    if (!S_ISDIR(st.st_mode))
        return SDB_FAIL(err, SDB_ERR_EXISTS, "create directory %s: a file of that name exists",
                        dir);
    return SDB_OK;
}

sdb_rc sdb_file_mkdir_p(const char *dir, sdb_err *err)
{
    char path[SDB_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "create directory: empty path");
    if (n >= sizeof path)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "create directory %.64s...: path is longer than %u",
                        dir, SDB_PATH_MAX - 1);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (path[i] != '/' || path[i - 1] == '/')
            continue;
        path[i] = '\0';
        SDB_TRY(mkdir_one(path, err));
        path[i] = '/';
    }
    return mkdir_one(path, err);
}

bool sdb_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

sdb_rc sdb_file_join(char *out, const char *dir, const char *name, sdb_err *err)
{
    int n = snprintf(out, SDB_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || (unsigned)n >= SDB_PATH_MAX)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "path %.64s.../%s is longer than %u bytes", dir, name,
                        SDB_PATH_MAX - 1);
    return SDB_OK;
}

sdb_rc sdb_file_read_all(const char *path, size_t max, sdb_buf *out, sdb_err *err)
{
    int fd;
    uint64_t size;
    size_t got;
    sdb_rc rc;
    SDB_TRY(sdb_file_open(path, SDB_OPEN_READ, &fd, err));
    rc = sdb_file_size(fd, path, &size, err);
    if (rc == SDB_OK && size > max)
        rc = SDB_FAIL(err, SDB_ERR_LIMIT, "read %s: file of %llu bytes is larger than %zu", path,
                      (unsigned long long)size, max);
    if (rc == SDB_OK)
        rc = sdb_buf_reserve(out, (size_t)size, err);
    if (rc == SDB_OK)
        rc = sdb_file_pread_all(fd, path, out->data + out->len, (size_t)size, 0, &got, err);
    if (rc == SDB_OK)
        out->len += got; /* a file that shrank meanwhile reads short; the caller validates */
    close(fd);
    return rc;
}

sdb_rc sdb_file_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                             sdb_err *err)
{
    char path[SDB_PATH_MAX], tmp[SDB_PATH_MAX];
    char tmpname[512];
    int fd;
    sdb_rc rc;
    if (snprintf(tmpname, sizeof tmpname, "%s.tmp", name) >= (int)sizeof tmpname)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "file name %.64s... is too long", name);
    SDB_TRY(sdb_file_join(path, dir, name, err));
    SDB_TRY(sdb_file_join(tmp, dir, tmpname, err));
    SDB_TRY(sdb_file_open(tmp, SDB_OPEN_RDWR | SDB_OPEN_CREATE | SDB_OPEN_TRUNC, &fd, err));
    rc = sdb_file_pwrite_all(fd, tmp, data, len, 0, err);
    if (rc == SDB_OK)
        rc = sdb_file_sync(fd, tmp, err);
    if (rc == SDB_OK)
        rc = sdb_file_close(fd, tmp, err);
    else
        close(fd);
    if (rc == SDB_OK)
        rc = sdb_file_rename(tmp, path, err);
    if (rc != SDB_OK) {
        unlink(tmp);
        return rc;
    }
    return sdb_file_sync_dir(dir, err);
}

sdb_rc sdb_file_list_dir(const char *dir, sdb_file_list_fn fn, void *ctx, sdb_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    sdb_rc rc = SDB_OK;
    if (d == NULL) {
        if (errno == ENOENT)
            return SDB_FAIL(err, SDB_ERR_NOTFOUND, "list %s: no such directory", dir);
        return SDB_FAIL_SYS(err, "list %s", dir);
    }
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                rc = SDB_FAIL_SYS(err, "list %s", dir);
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((rc = fn(ctx, e->d_name, err)) != SDB_OK)
            break;
    }
    closedir(d);
    return rc;
}

sdb_rc sdb_file_trylock(int fd, const char *path, sdb_err *err)
{
    int r;
    do
        r = flock(fd, LOCK_EX | LOCK_NB);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        if (errno == EWOULDBLOCK)
            return SDB_FAIL(err, SDB_ERR_BUSY, "%s is locked by another process", path);
        return SDB_FAIL_SYS(err, "lock %s", path);
    }
    return SDB_OK;
}
