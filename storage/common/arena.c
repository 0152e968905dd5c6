/* Arena: a list of chunks, each bump-allocated. Large requests get a chunk of their own so
 * that a few big arrays do not waste the tail of the current chunk. */
#include "storage/common/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char mem[];
} chunk;

struct sdb_arena {
    chunk *head;     /* current chunk first */
    size_t budget;   /* 0: unbounded */
    size_t used;     /* bytes handed out */
    size_t reserved; /* bytes of chunks allocated */
};

sdb_arena *sdb_arena_create(size_t budget)
{
    sdb_arena *a = calloc(1, sizeof *a);
    if (a != NULL)
        a->budget = budget;
    return a;
}

static void free_chunks(chunk *c)
{
    while (c != NULL) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
}

void sdb_arena_destroy(sdb_arena *a)
{
    if (a == NULL)
        return;
    free_chunks(a->head);
    free(a);
}

void sdb_arena_reset(sdb_arena *a)
{
    chunk *keep = NULL;
    chunk *c = a->head;
    /* keep the last (oldest) standard-size chunk: it is the one a steady workload reuses */
    while (c != NULL) {
        chunk *next = c->next;
        if (keep == NULL && c->size == ARENA_CHUNK && next == NULL) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
    if (keep != NULL) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->used = 0;
    a->reserved = keep ? keep->size : 0;
}

void *sdb_arena_alloc(sdb_arena *a, size_t n, sdb_err *err)
{
    chunk *c = a->head;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;
    if (need < n)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "allocation of %zu bytes overflows", n), NULL;
    if (a->budget != 0 && (need > a->budget || a->used > a->budget - need)) {
        SDB_FAIL(err, SDB_ERR_LIMIT, "memory limit of %zu bytes exceeded (%zu in use, %zu more asked)",
                 a->budget, a->used, n);
        return NULL;
    }
    if (c == NULL || c->size - c->used < need) {
        size_t size = need > ARENA_CHUNK / 4 ? need : ARENA_CHUNK;
        chunk *nc = malloc(sizeof *nc + size);
        if (nc == NULL) {
            SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %zu bytes", size);
            return NULL;
        }
        nc->size = size;
        nc->used = 0;
        if (size != ARENA_CHUNK && c != NULL) {
            /* a dedicated chunk goes behind the current one, which keeps its free tail */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        a->reserved += size;
        c = nc;
    }
    p = c->mem + c->used;
    c->used += need;
    a->used += need;
    return p;
}

void *sdb_arena_calloc(sdb_arena *a, size_t count, size_t size, sdb_err *err)
{
    size_t n;
    void *p;
    if (__builtin_mul_overflow(count, size, &n)) {
        SDB_FAIL(err, SDB_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    p = sdb_arena_alloc(a, n, err);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *sdb_arena_strndup(sdb_arena *a, const char *s, size_t n, sdb_err *err)
{
    char *p = sdb_arena_alloc(a, n + 1, err);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

size_t sdb_arena_used(const sdb_arena *a)
{
    return a->used;
}
