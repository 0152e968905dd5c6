/* Memtable: partition routing and chunked appends. A batch whose rows all fall in one
 * partition (the usual case: a batch covers seconds) is appended with no per-row routing;
 * otherwise rows are grouped by partition first. */
#include "engine/memtable.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/partition.h"

int64_t sdb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint64_t sdb_batch_bytes(const sdb_batch *b)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < b->ncols; i++) {
        const sdb_column *c = &b->cols[i];
        unsigned w = c->type == SDB_TYPE_STRING ? 8 : sdb_type_width(c->type);
        n += c->n * w + c->n / 8 + (c->type == SDB_TYPE_STRING ? c->nbytes : 0);
    }
    return n;
}

void sdb_memtable_init(sdb_memtable *m, sdb_part_unit unit)
{
    memset(m, 0, sizeof *m);
    m->unit = unit;
}

sdb_memchunk *sdb_memchunk_ref(sdb_memchunk *c)
{
    c->refs++;
    return c;
}

void sdb_memchunk_unref(sdb_memchunk *c)
{
    if (c != NULL && --c->refs == 0) {
        sdb_batch_free(&c->b);
        free(c);
    }
}

static void part_free(sdb_mempart *p)
{
    for (uint32_t i = 0; i < p->nchunks; i++)
        sdb_memchunk_unref(p->chunks[i]);
    free(p->chunks);
}

void sdb_memtable_free(sdb_memtable *m)
{
    for (uint32_t i = 0; i < m->nparts; i++)
        part_free(&m->parts[i]);
    free(m->parts);
    memset(m, 0, sizeof *m);
}

static sdb_rc get_part(sdb_memtable *m, int64_t start, sdb_mempart **out, sdb_err *err)
{
    for (uint32_t i = 0; i < m->nparts; i++)
        if (m->parts[i].start == start) {
            *out = &m->parts[i];
            return SDB_OK;
        }
    if (m->nparts == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 4;
        sdb_mempart *p = realloc(m->parts, cap * sizeof *p);
        if (p == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a partition");
        m->parts = p;
        m->cap = cap;
    }
    memset(&m->parts[m->nparts], 0, sizeof m->parts[0]);
    m->parts[m->nparts].start = start;
    *out = &m->parts[m->nparts++];
    return SDB_OK;
}

/* Room for one more chunk in p's list. */
static sdb_rc chunk_room(sdb_mempart *p, sdb_err *err)
{
    if (p->nchunks == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 4;
        sdb_memchunk **cs = realloc(p->chunks, cap * sizeof *cs);
        if (cs == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a chunk list");
        p->chunks = cs;
        p->cap = cap;
    }
    return SDB_OK;
}

/* The growing chunk of p, or a new one when the last is full or sealed (shared). */
static sdb_rc active_chunk(sdb_mempart *p, sdb_memchunk **out, sdb_err *err)
{
    sdb_memchunk *c = p->nchunks ? p->chunks[p->nchunks - 1] : NULL;
    if (c != NULL && c->refs == 1 && c->b.nrows < SDB_BLOCK_ROWS) {
        *out = c;
        return SDB_OK;
    }
    SDB_TRY(chunk_room(p, err));
    if ((c = calloc(1, sizeof *c)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a chunk");
    sdb_batch_init(&c->b);
    c->refs = 1;
    p->chunks[p->nchunks++] = c;
    *out = c;
    return SDB_OK;
}

/* Append rows (all of b when rows is NULL) to partition p, filling chunks up to their size. */
static sdb_rc append_part(sdb_memtable *m, sdb_mempart *p, const sdb_batch *b,
                          const uint32_t *rows, uint64_t n, const sdb_table_def *def, sdb_err *err)
{
    uint64_t done = 0;
    uint32_t *tmp = NULL;
    while (done < n) {
        sdb_memchunk *c = NULL;
        sdb_rc rc = active_chunk(p, &c, err);
        uint64_t room, k;
        /* the chunk takes the table's types, not those of the first batch it sees */
        for (uint32_t i = 0; rc == SDB_OK && c->b.ncols < def->ncols && i < def->ncols; i++)
            if (sdb_batch_find(&c->b, def->col_names[i], strlen(def->col_names[i])) < 0)
                rc = sdb_batch_add(&c->b, def->col_names[i], strlen(def->col_names[i]),
                                   def->col_types[i], NULL, err);
        if (rc != SDB_OK) {
            free(tmp);
            return rc;
        }
        room = SDB_BLOCK_ROWS - c->b.nrows;
        k = n - done < room ? n - done : room;
        if (rows == NULL && k < n) {
            /* only part of b fits this chunk: list the rows (NULL appends all of b) */
            if ((tmp = malloc(n * sizeof *tmp)) == NULL)
                return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %llu row numbers",
                                (unsigned long long)n);
            for (uint64_t i = 0; i < n; i++)
                tmp[i] = (uint32_t)i;
            rows = tmp;
        }
        rc = sdb_batch_append_rows(&c->b, b, rows ? rows + done : NULL, k, err);
        if (rc != SDB_OK) {
            free(tmp);
            return rc;
        }
        done += k;
        p->rows += k;
        m->rows += k;
    }
    free(tmp);
    return SDB_OK;
}

static sdb_rc insert_rows(sdb_memtable *m, const sdb_batch *b, const sdb_table_def *def,
                          sdb_err *err);

sdb_rc sdb_memtable_insert(sdb_memtable *m, const sdb_batch *b, const sdb_table_def *def,
                           sdb_err *err)
{
    uint64_t bytes = sdb_batch_bytes(b);
    sdb_rc rc = insert_rows(m, b, def, err);
    if (rc == SDB_OK)
        m->bytes += bytes;
    return rc;
}

static sdb_rc insert_rows(sdb_memtable *m, const sdb_batch *b, const sdb_table_def *def,
                          sdb_err *err)
{
    int tc = sdb_batch_find(b, "time", 4);
    const sdb_column *t;
    int64_t start, next;
    uint64_t r;
    sdb_mempart *p;
    if (b->nrows == 0)
        return SDB_OK;
    if (tc < 0 || b->cols[tc].type != SDB_TYPE_TIMESTAMP)
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "rows without a timestamp column 'time'");
    t = &b->cols[tc];
    if (sdb_column_null_count(t) != 0)
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "rows with a NULL time");
    if (m->rows == 0)
        m->first_insert_ns = sdb_mono_ns();
    start = sdb_part_start(m->unit, t->v.i64[0]);
    next = sdb_part_next(m->unit, start);
    for (r = 1; r < b->nrows; r++)
        if (t->v.i64[r] < start || t->v.i64[r] >= next)
            break;
    if (r == b->nrows) {
        SDB_TRY(get_part(m, start, &p, err));
        return append_part(m, p, b, NULL, b->nrows, def, err);
    }
    /* rows of several partitions: route each group */
    {
        uint32_t *rows = malloc(b->nrows * sizeof *rows);
        uint8_t *done = calloc(b->nrows, 1);
        sdb_rc rc = SDB_OK;
        if (rows == NULL || done == NULL) {
            free(rows);
            free(done);
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to route %llu rows",
                            (unsigned long long)b->nrows);
        }
        for (uint64_t first = 0; first < b->nrows && rc == SDB_OK; first++) {
            uint64_t n = 0;
            if (done[first])
                continue;
            start = sdb_part_start(m->unit, t->v.i64[first]);
            next = sdb_part_next(m->unit, start);
            for (r = first; r < b->nrows; r++)
                if (!done[r] && t->v.i64[r] >= start && t->v.i64[r] < next) {
                    rows[n++] = (uint32_t)r;
                    done[r] = 1;
                }
            rc = get_part(m, start, &p, err);
            if (rc == SDB_OK)
                rc = append_part(m, p, b, rows, n, def, err);
        }
        free(rows);
        free(done);
        return rc;
    }
}

void sdb_memtable_take(sdb_memtable *m, sdb_mempart **parts, uint32_t *nparts)
{
    *parts = m->parts;
    *nparts = m->nparts;
    m->parts = NULL;
    m->nparts = 0;
    m->cap = 0;
    m->rows = 0;
    m->bytes = 0;
    m->first_insert_ns = 0;
}

sdb_rc sdb_memtable_snapshot(sdb_memtable *m, sdb_memchunk ***out, uint32_t *n, sdb_err *err)
{
    uint32_t total = 0, k = 0;
    sdb_memchunk **cs;
    for (uint32_t i = 0; i < m->nparts; i++)
        total += m->parts[i].nchunks;
    cs = malloc((total ? total : 1) * sizeof *cs);
    if (cs == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a snapshot");
    /* a chunk with more than one reference is sealed: active_chunk() starts a new one */
    for (uint32_t i = 0; i < m->nparts; i++)
        for (uint32_t j = 0; j < m->parts[i].nchunks; j++)
            cs[k++] = sdb_memchunk_ref(m->parts[i].chunks[j]);
    *out = cs;
    *n = k;
    return SDB_OK;
}

sdb_rc sdb_memtable_insert_owned(sdb_memtable *m, sdb_batch *b, const sdb_table_def *def,
                                 sdb_err *err)
{
    int tc = sdb_batch_find(b, "time", 4);
    const sdb_column *t;
    int64_t start, next;
    sdb_mempart *p;
    sdb_memchunk *c;
    if (b->nrows == 0 || tc < 0 || b->cols[tc].type != SDB_TYPE_TIMESTAMP ||
        sdb_column_null_count(&b->cols[tc]) != 0)
        return sdb_memtable_insert(m, b, def, err);
    t = &b->cols[tc];
    start = sdb_part_start(m->unit, t->v.i64[0]);
    next = sdb_part_next(m->unit, start);
    for (uint64_t r = 1; r < b->nrows; r++)
        if (t->v.i64[r] < start || t->v.i64[r] >= next)
            return sdb_memtable_insert(m, b, def, err);
    for (uint32_t i = 0; i < b->ncols; i++) {
        int k = sdb_table_find_col(def, b->names[i], strlen(b->names[i]));
        if (k < 0 || def->col_types[k] != b->cols[i].type)
            return sdb_memtable_insert(m, b, def, err);
    }
    /* the columns the rows lack are NULL for them, as in every chunk */
    for (uint32_t i = 0; i < def->ncols; i++)
        if (sdb_batch_find(b, def->col_names[i], strlen(def->col_names[i])) < 0)
            SDB_TRY(sdb_batch_add(b, def->col_names[i], strlen(def->col_names[i]),
                                  def->col_types[i], NULL, err));
    SDB_TRY(get_part(m, start, &p, err));
    SDB_TRY(chunk_room(p, err));
    if ((c = calloc(1, sizeof *c)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a chunk");
    if (m->rows == 0)
        m->first_insert_ns = sdb_mono_ns();
    c->b = *b;
    c->refs = 1;
    m->bytes += sdb_batch_bytes(b);
    sdb_batch_init(b);
    /* keep a partly filled chunk last, so small inserts keep filling it */
    if (p->nchunks > 0 && p->chunks[p->nchunks - 1]->b.nrows < SDB_BLOCK_ROWS) {
        p->chunks[p->nchunks] = p->chunks[p->nchunks - 1];
        p->chunks[p->nchunks - 1] = c;
    } else {
        p->chunks[p->nchunks] = c;
    }
    p->nchunks++;
    p->rows += c->b.nrows;
    m->rows += c->b.nrows;
    return SDB_OK;
}
