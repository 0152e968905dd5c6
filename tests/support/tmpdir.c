/* A temporary directory per test: Criterion runs each test in its own process, so the
 * directory name only needs to be unique per process. */
#include "tests/support/tmpdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

char sdb_test_dir[PATH_MAX];

void tmpdir_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(sdb_test_dir, sizeof sdb_test_dir, "%s/spandb-test-XXXXXX", base ? base : "/tmp");
    cr_assert(mkdtemp(sdb_test_dir) != NULL, "mkdtemp failed");
}

void tmpdir_teardown(void)
{
    char cmd[PATH_MAX + 16];
    if (sdb_test_dir[0] == '\0')
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sdb_test_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", sdb_test_dir);
}

const char *tmpdir_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", sdb_test_dir, name);
    return out;
}

unsigned char *tmpdir_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long sz;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)sz + 1);
        if (p != NULL && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
            free(p);
            p = NULL;
        }
        *len = (size_t)sz;
    }
    fclose(f);
    return p;
}

int tmpdir_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;
    if (f == NULL)
        return -1;
    if (len > 0 && fwrite(data, 1, len, f) != len)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
