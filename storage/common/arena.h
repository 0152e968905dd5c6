/* sdb_arena: bump allocation for one query, one batch or one vector, freed in one go.
 * An arena has a byte budget; an allocation past it fails with SDB_ERR_LIMIT, which is how
 * --query-memory is enforced. Memory from an arena is never freed on its own. */
#ifndef SDB_COMMON_ARENA_H
#define SDB_COMMON_ARENA_H

#include <stddef.h>

#include "storage/common/error.h"

typedef struct sdb_arena sdb_arena;

/* Create an arena that may hold at most `budget` bytes (0: no bound).
 * Caller owns; free with sdb_arena_destroy(). Returns NULL when out of memory. */
sdb_arena *sdb_arena_create(size_t budget);
/* Free everything and the arena itself. Accepts NULL. */
void sdb_arena_destroy(sdb_arena *a);
/* Free every allocation but keep the first chunk for reuse. */
void sdb_arena_reset(sdb_arena *a);
/* n bytes aligned to 16, or NULL with err filled (SDB_ERR_LIMIT past the budget, else NOMEM). */
void *sdb_arena_alloc(sdb_arena *a, size_t n, sdb_err *err);
/* Like sdb_arena_alloc, zero-filled. */
void *sdb_arena_calloc(sdb_arena *a, size_t count, size_t size, sdb_err *err);
/* A NUL-terminated copy of n bytes of s. */
char *sdb_arena_strndup(sdb_arena *a, const char *s, size_t n, sdb_err *err);
/* Bytes handed out since creation or the last reset. */
size_t sdb_arena_used(const sdb_arena *a);

#endif
