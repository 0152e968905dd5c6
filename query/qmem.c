/* Query memory accounting: one shared arena plus worker arenas, one budget. */
#include "query/qmem.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

sdb_rc sdb_qmem_init(sdb_qmem *m, size_t budget, sdb_err *err)
{
    memset(m, 0, sizeof *m);
    m->budget = budget;
    atomic_init(&m->used, 0);
    if ((m->arena = sdb_arena_create(0)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the query arena");
    pthread_mutex_init(&m->lock, NULL);
    return SDB_OK;
}

void sdb_qmem_free(sdb_qmem *m)
{
    if (m->arena == NULL)
        return;
    sdb_arena_destroy(m->arena);
    pthread_mutex_destroy(&m->lock);
    m->arena = NULL;
}

sdb_rc sdb_qmem_limit_error(const sdb_qmem *m, sdb_err *err)
{
    size_t b = m->budget;
    const size_t gib = (size_t)1 << 30, mib = (size_t)1 << 20, kib = 1024;
    if (b >= gib && b % gib == 0)
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "query needs more than %zu GiB of memory (--query-memory)", b / gib);
    if (b >= mib && b % mib == 0)
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "query needs more than %zu MiB of memory (--query-memory)", b / mib);
    if (b >= kib && b % kib == 0)
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "query needs more than %zu KiB of memory (--query-memory)", b / kib);
    return SDB_FAIL(err, SDB_ERR_LIMIT,
                    "query needs more than %zu bytes of memory (--query-memory)", b);
}

/* Charge n bytes; false when that would pass the budget. */
static bool charge(sdb_qmem *m, size_t n)
{
    size_t prev = atomic_fetch_add(&m->used, n);
    if (m->budget != 0 && (prev + n < prev || prev + n > m->budget)) {
        atomic_fetch_sub(&m->used, n);
        return false;
    }
    return true;
}

void *sdb_qmem_alloc(sdb_qmem *m, size_t n, sdb_err *err)
{
    void *p;
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "allocation of %zu bytes overflows", n), NULL;
    if (!charge(m, need))
        return sdb_qmem_limit_error(m, err), NULL;
    pthread_mutex_lock(&m->lock);
    p = sdb_arena_alloc(m->arena, need, err);
    pthread_mutex_unlock(&m->lock);
    return p;
}

void *sdb_qmem_calloc(sdb_qmem *m, size_t count, size_t size, sdb_err *err)
{
    size_t n;
    void *p;
    if (__builtin_mul_overflow(count, size, &n))
        return SDB_FAIL(err, SDB_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count,
                        size), NULL;
    p = sdb_qmem_alloc(m, n, err);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

void *sdb_qmem_local(sdb_qmem *m, sdb_arena *a, size_t n, sdb_err *err)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "allocation of %zu bytes overflows", n), NULL;
    if (!charge(m, need))
        return sdb_qmem_limit_error(m, err), NULL;
    return sdb_arena_alloc(a, need, err);
}

void sdb_qmem_local_reset(sdb_qmem *m, sdb_arena *a)
{
    atomic_fetch_sub(&m->used, sdb_arena_used(a));
    sdb_arena_reset(a);
}

void sdb_qmem_local_destroy(sdb_qmem *m, sdb_arena *a)
{
    if (a == NULL)
        return;
    atomic_fetch_sub(&m->used, sdb_arena_used(a));
    sdb_arena_destroy(a);
}

void *sdb_alloc_get(const sdb_alloc *al, size_t n, sdb_err *err)
{
    return al->a != NULL ? sdb_qmem_local(al->m, al->a, n, err) : sdb_qmem_alloc(al->m, n, err);
}
