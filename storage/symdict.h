/* sdb_symdict: a string interner that maps symbol strings to dense uint32 codes in order of
 * first appearance. Symbol columns in memory hold codes into one; segment files store a
 * sorted copy. Strings live in one byte buffer; the hash table holds codes only. */
#ifndef SDB_STORAGE_SYMDICT_H
#define SDB_STORAGE_SYMDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

typedef struct sdb_symdict sdb_symdict;

/* Longest symbol accepted, in bytes. */
#define SDB_SYMBOL_MAX (64u * 1024u)
/* Most distinct symbols in one dictionary. */
#define SDB_SYMDICT_MAX_CODES (1u << 30)

/* Caller owns; free with sdb_symdict_destroy(). NULL when out of memory. */
sdb_symdict *sdb_symdict_create(void);
void sdb_symdict_destroy(sdb_symdict *d);
/* Forget all strings, keep allocations. */
void sdb_symdict_clear(sdb_symdict *d);
/* The code of s, adding it when new. Fails with SDB_ERR_LIMIT past SDB_SYMBOL_MAX bytes or
 * SDB_SYMDICT_MAX_CODES codes, SDB_ERR_NOMEM. */
sdb_rc sdb_symdict_intern(sdb_symdict *d, const char *s, size_t n, uint32_t *code, sdb_err *err);
/* The code of s if present. */
bool sdb_symdict_find(const sdb_symdict *d, const char *s, size_t n, uint32_t *code);
uint32_t sdb_symdict_count(const sdb_symdict *d);
/* The string of a code (< count); borrowed, valid until the next intern or clear. Not NUL
 * terminated. */
const char *sdb_symdict_get(const sdb_symdict *d, uint32_t code, uint32_t *len);
/* Bytes of string data held. */
size_t sdb_symdict_bytes(const sdb_symdict *d);

#endif
