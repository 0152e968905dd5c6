/* Test fixture: a fresh temporary directory per test, removed afterwards. */
#ifndef SDB_TESTS_TMPDIR_H
#define SDB_TESTS_TMPDIR_H

#include <stddef.h>

/* The current test's directory (valid between setup and teardown). */
extern char sdb_test_dir[];

void tmpdir_setup(void);
void tmpdir_teardown(void);
/* sdb_test_dir + "/" + name into out. */
const char *tmpdir_path(char *out, size_t n, const char *name);
/* Whole file into a malloc'ed buffer (caller frees); NULL on error. */
unsigned char *tmpdir_read_file(const char *path, size_t *len);
/* Write len bytes to path; 0 on success. */
int tmpdir_write_file(const char *path, const void *data, size_t len);

#endif
