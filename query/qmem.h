/* sdb_qmem: the memory of one query. Query-lifetime data comes from one shared sdb_arena
 * (guarded by a mutex, since workers allocate from it); per-morsel scratch of the workers
 * comes from their own arenas, whose bytes are charged to the same budget. Any allocation
 * past the budget fails the query with SDB_ERR_LIMIT and
 * "query needs more than 1 GiB of memory (--query-memory)". Decode buffers of the storage
 * layer (one block per column per worker) are not counted. */
#ifndef SDB_QUERY_QMEM_H
#define SDB_QUERY_QMEM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "storage/common/arena.h"
#include "storage/common/error.h"

typedef struct sdb_qmem {
    sdb_arena *arena;       /* query lifetime, unbounded itself: the budget is checked here */
    pthread_mutex_t lock;   /* guards arena */
    size_t budget;          /* bytes, 0 = unbounded */
    atomic_size_t used;     /* bytes charged: the shared arena plus live worker arenas */
} sdb_qmem;

/* Prepare m with a budget (0: unbounded). */
sdb_rc sdb_qmem_init(sdb_qmem *m, size_t budget, sdb_err *err);
/* Free everything. Accepts a zeroed m. */
void sdb_qmem_free(sdb_qmem *m);
/* n bytes (aligned to 16) of query lifetime; thread-safe. NULL with err filled. */
void *sdb_qmem_alloc(sdb_qmem *m, size_t n, sdb_err *err);
void *sdb_qmem_calloc(sdb_qmem *m, size_t count, size_t size, sdb_err *err);
/* n bytes from a worker's own arena a, charged to m's budget. */
void *sdb_qmem_local(sdb_qmem *m, sdb_arena *a, size_t n, sdb_err *err);
/* Reset a worker arena and give its bytes back to the budget. */
void sdb_qmem_local_reset(sdb_qmem *m, sdb_arena *a);
/* Destroy a worker arena and give its bytes back to the budget. Accepts NULL. */
void sdb_qmem_local_destroy(sdb_qmem *m, sdb_arena *a);
/* Where a structure allocates: a worker arena (charged to m), or with a == NULL the
 * shared query arena. */
typedef struct sdb_alloc {
    sdb_qmem *m;
    sdb_arena *a;
} sdb_alloc;

/* n bytes from al. */
void *sdb_alloc_get(const sdb_alloc *al, size_t n, sdb_err *err);

/* Fill err with the limit error for m's budget; returns SDB_ERR_LIMIT. */
sdb_rc sdb_qmem_limit_error(const sdb_qmem *m, sdb_err *err);

#endif
