/* In-memory columns and batches. Growth doubles capacity; the validity bitmap, values and
 * (for strings) offsets always have room for `cap` rows. */
#include "storage/column.h"

#include <stdlib.h>
#include <string.h>

sdb_rc sdb_column_init(sdb_column *c, sdb_type t, sdb_err *err)
{
    memset(c, 0, sizeof *c);
    if (!sdb_type_valid((int)t))
        return SDB_FAIL(err, SDB_ERR_MISUSE, "bad column type %d", (int)t);
    c->type = t;
    if (t == SDB_TYPE_SYMBOL) {
        c->dict = sdb_symdict_create();
        if (c->dict == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a symbol dictionary");
    }
    if (t == SDB_TYPE_STRING) {
        c->v.off = calloc(1, sizeof *c->v.off);
        if (c->v.off == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a string column");
    }
    return SDB_OK;
}

void sdb_column_free(sdb_column *c)
{
    free(c->valid);
    free(c->v.raw);
    free(c->bytes);
    sdb_symdict_destroy(c->dict);
    memset(c, 0, sizeof *c);
}

void sdb_column_clear(sdb_column *c)
{
    c->n = 0;
    c->nbytes = 0;
}

sdb_rc sdb_column_reserve(sdb_column *c, uint64_t rows, sdb_err *err)
{
    uint64_t cap;
    size_t width, words;
    void *p;
    if (rows <= c->cap)
        return SDB_OK;
    cap = c->cap ? c->cap : 64;
    while (cap < rows)
        cap *= 2;
    width = c->type == SDB_TYPE_STRING ? sizeof(uint64_t) : sdb_type_width(c->type);
    words = (size_t)((cap + 63) / 64);
    p = realloc(c->valid, words * sizeof(uint64_t));
    if (p == NULL)
        goto nomem;
    c->valid = p;
    memset(c->valid + (c->cap + 63) / 64, 0, (words - (c->cap + 63) / 64) * sizeof(uint64_t));
    p = realloc(c->v.raw, (size_t)(cap + (c->type == SDB_TYPE_STRING)) * width);
    if (p == NULL)
        goto nomem;
    c->v.raw = p;
    c->cap = cap;
    return SDB_OK;
nomem:
    return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a column of %llu rows",
                    (unsigned long long)cap);
}

/* Bits past n may be stale after a truncate; every push sets or clears its own bit. */
static inline void set_valid(sdb_column *c, uint64_t row, bool v)
{
    uint64_t bit = 1ULL << (row & 63);
    if (v)
        c->valid[row >> 6] |= bit;
    else
        c->valid[row >> 6] &= ~bit;
}

static inline sdb_rc grow1(sdb_column *c, sdb_err *err)
{
    if (c->n < c->cap)
        return SDB_OK;
    return sdb_column_reserve(c, c->n + 1, err);
}

void sdb_column_truncate(sdb_column *c, uint64_t rows)
{
    if (rows >= c->n)
        return;
    c->n = rows;
    if (c->type == SDB_TYPE_STRING)
        c->nbytes = c->v.off[rows];
}

sdb_rc sdb_column_push_nulls(sdb_column *c, uint64_t count, sdb_err *err)
{
    SDB_TRY(sdb_column_reserve(c, c->n + count, err));
    for (uint64_t i = 0; i < count; i++) {
        uint64_t r = c->n + i;
        set_valid(c, r, false);
        switch (c->type) {
        case SDB_TYPE_TIMESTAMP:
        case SDB_TYPE_INT64: c->v.i64[r] = 0; break;
        case SDB_TYPE_FLOAT64: c->v.f64[r] = 0; break;
        case SDB_TYPE_BOOL: c->v.b8[r] = 0; break;
        case SDB_TYPE_SYMBOL: c->v.code[r] = 0; break;
        case SDB_TYPE_STRING: c->v.off[r + 1] = c->nbytes; break;
        }
    }
    c->n += count;
    return SDB_OK;
}

sdb_rc sdb_column_push_null(sdb_column *c, sdb_err *err)
{
    return sdb_column_push_nulls(c, 1, err);
}

sdb_rc sdb_column_push_i64(sdb_column *c, int64_t v, sdb_err *err)
{
    SDB_TRY(grow1(c, err));
    c->v.i64[c->n] = v;
    set_valid(c, c->n++, true);
    return SDB_OK;
}

sdb_rc sdb_column_push_f64(sdb_column *c, double v, sdb_err *err)
{
    SDB_TRY(grow1(c, err));
    c->v.f64[c->n] = v;
    set_valid(c, c->n++, true);
    return SDB_OK;
}

sdb_rc sdb_column_push_bool(sdb_column *c, bool v, sdb_err *err)
{
    SDB_TRY(grow1(c, err));
    c->v.b8[c->n] = v ? 1 : 0;
    set_valid(c, c->n++, true);
    return SDB_OK;
}

sdb_rc sdb_column_push_code(sdb_column *c, uint32_t code, sdb_err *err)
{
    SDB_TRY(grow1(c, err));
    c->v.code[c->n] = code;
    set_valid(c, c->n++, true);
    return SDB_OK;
}

sdb_rc sdb_column_push_str(sdb_column *c, const char *s, size_t n, sdb_err *err)
{
    if (c->type == SDB_TYPE_SYMBOL) {
        uint32_t code;
        SDB_TRY(sdb_symdict_intern(c->dict, s, n, &code, err));
        return sdb_column_push_code(c, code, err);
    }
    SDB_TRY(grow1(c, err));
    if (n > c->bytes_cap - c->nbytes) {
        uint64_t cap = c->bytes_cap ? c->bytes_cap : 1024;
        char *b;
        while (cap - c->nbytes < n)
            cap *= 2;
        b = realloc(c->bytes, (size_t)cap);
        if (b == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %llu bytes of strings",
                            (unsigned long long)cap);
        c->bytes = b;
        c->bytes_cap = cap;
    }
    if (n > 0)
        memcpy(c->bytes + c->nbytes, s, n);
    c->nbytes += n;
    c->v.off[c->n + 1] = c->nbytes;
    set_valid(c, c->n++, true);
    return SDB_OK;
}

sdb_rc sdb_column_push_from(sdb_column *c, const sdb_column *src, uint64_t row, sdb_err *err)
{
    uint32_t len;
    const char *s;
    if (src->type != c->type)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "column type %s copied into %s",
                        sdb_type_name(src->type), sdb_type_name(c->type));
    if (!sdb_column_valid(src, row))
        return sdb_column_push_null(c, err);
    switch (c->type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64: return sdb_column_push_i64(c, src->v.i64[row], err);
    case SDB_TYPE_FLOAT64: return sdb_column_push_f64(c, src->v.f64[row], err);
    case SDB_TYPE_BOOL: return sdb_column_push_bool(c, src->v.b8[row] != 0, err);
    case SDB_TYPE_SYMBOL:
    case SDB_TYPE_STRING:
        s = sdb_column_str(src, row, &len);
        return sdb_column_push_str(c, s, len, err);
    }
    return SDB_FAIL(err, SDB_ERR_MISUSE, "bad column type");
}

const char *sdb_column_str(const sdb_column *c, uint64_t row, uint32_t *len)
{
    if (c->type == SDB_TYPE_SYMBOL)
        return sdb_symdict_get(c->dict, c->v.code[row], len);
    *len = (uint32_t)(c->v.off[row + 1] - c->v.off[row]);
    return c->bytes ? c->bytes + c->v.off[row] : "";
}

uint64_t sdb_column_null_count(const sdb_column *c)
{
    uint64_t valid = 0, full = c->n / 64;
    for (uint64_t w = 0; w < full; w++)
        valid += (uint64_t)__builtin_popcountll(c->valid[w]);
    if (c->n & 63)
        valid += (uint64_t)__builtin_popcountll(c->valid[full] & ((1ULL << (c->n & 63)) - 1));
    return c->n - valid;
}

void sdb_batch_init(sdb_batch *b)
{
    memset(b, 0, sizeof *b);
}

void sdb_batch_free(sdb_batch *b)
{
    for (uint32_t i = 0; i < b->ncols; i++) {
        free(b->names[i]);
        sdb_column_free(&b->cols[i]);
    }
    free(b->names);
    free(b->cols);
    memset(b, 0, sizeof *b);
}

void sdb_batch_clear(sdb_batch *b)
{
    for (uint32_t i = 0; i < b->ncols; i++)
        sdb_column_clear(&b->cols[i]);
    b->nrows = 0;
}

int sdb_batch_find(const sdb_batch *b, const char *name, size_t len)
{
    for (uint32_t i = 0; i < b->ncols; i++)
        if (strncmp(b->names[i], name, len) == 0 && b->names[i][len] == '\0')
            return (int)i;
    return -1;
}

sdb_rc sdb_batch_add(sdb_batch *b, const char *name, size_t len, sdb_type t, int *idx, sdb_err *err)
{
    char *copy;
    if (len > SDB_NAME_MAX)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "column name of %zu bytes is longer than %u", len,
                        SDB_NAME_MAX);
    if (sdb_batch_find(b, name, len) >= 0)
        return SDB_FAIL(err, SDB_ERR_EXISTS, "column '%.*s' already exists", (int)len, name);
    if (b->ncols == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        char **names = realloc(b->names, cap * sizeof *names);
        if (names == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u columns", cap);
        b->names = names;
        sdb_column *cols = realloc(b->cols, cap * sizeof *cols);
        if (cols == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u columns", cap);
        b->cols = cols;
        b->cap = cap;
    }
    copy = malloc(len + 1);
    if (copy == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a column name");
    memcpy(copy, name, len);
    copy[len] = '\0';
    sdb_rc rc = sdb_column_init(&b->cols[b->ncols], t, err);
    if (rc == SDB_OK)
        rc = sdb_column_push_nulls(&b->cols[b->ncols], b->nrows, err);
    if (rc != SDB_OK) {
        sdb_column_free(&b->cols[b->ncols]);
        free(copy);
        return rc;
    }
    b->names[b->ncols] = copy;
    if (idx != NULL)
        *idx = (int)b->ncols;
    b->ncols++;
    return SDB_OK;
}

sdb_rc sdb_batch_pad(sdb_batch *b, sdb_err *err)
{
    for (uint32_t i = 0; i < b->ncols; i++)
        if (b->cols[i].n < b->nrows)
            SDB_TRY(sdb_column_push_nulls(&b->cols[i], b->nrows - b->cols[i].n, err));
    return SDB_OK;
}

/* Type check and column creation first, so that a schema error leaves dst unchanged. */
static sdb_rc map_columns(sdb_batch *dst, const sdb_batch *src, int *map, sdb_err *err)
{
    for (uint32_t i = 0; i < src->ncols; i++) {
        int d = sdb_batch_find(dst, src->names[i], strlen(src->names[i]));
        if (d >= 0) {
            sdb_type dt = dst->cols[d].type, st = src->cols[i].type;
            if (dt != st && !(dt == SDB_TYPE_FLOAT64 && st == SDB_TYPE_INT64) &&
                !(dt == SDB_TYPE_SYMBOL && st == SDB_TYPE_STRING) &&
                !(dt == SDB_TYPE_STRING && st == SDB_TYPE_SYMBOL))
                return SDB_FAIL(err, SDB_ERR_SCHEMA, "column '%s' is %s but the rows carry %s",
                                src->names[i], sdb_type_name(dt), sdb_type_name(st));
        }
        map[i] = d;
    }
    for (uint32_t i = 0; i < src->ncols; i++)
        if (map[i] < 0)
            SDB_TRY(sdb_batch_add(dst, src->names[i], strlen(src->names[i]), src->cols[i].type,
                                  &map[i], err));
    return SDB_OK;
}

/* Copy the validity bits of src rows [0, n) to dst rows [dst->n, dst->n + n). */
static void copy_valid(sdb_column *d, const sdb_column *s, uint64_t n)
{
    uint64_t at = d->n;
    if ((at & 63) == 0) {
        memcpy(d->valid + at / 64, s->valid, (size_t)((n + 63) / 64) * sizeof(uint64_t));
        return;
    }
    for (uint64_t i = 0; i < n; i++)
        set_valid(d, at + i, sdb_column_valid(s, i));
}

/* All rows of s appended to d of the same type, with whole-array copies: the flush path
 * concatenates memtable chunks with it. */
static sdb_rc append_all_same(sdb_column *d, const sdb_column *s, sdb_err *err)
{
    uint64_t n = s->n, at = d->n;
    SDB_TRY(sdb_column_reserve(d, at + n, err));
    copy_valid(d, s, n);
    switch (d->type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64:
    case SDB_TYPE_FLOAT64: memcpy(d->v.i64 + at, s->v.i64, (size_t)n * 8); break;
    case SDB_TYPE_BOOL: memcpy(d->v.b8 + at, s->v.b8, (size_t)n); break;
    case SDB_TYPE_SYMBOL: {
        uint32_t nd = sdb_symdict_count(s->dict);
        uint32_t *remap = malloc((nd ? nd : 1) * sizeof *remap);
        if (remap == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to remap %u symbols", nd);
        for (uint32_t c = 0; c < nd; c++) {
            uint32_t len;
            const char *str = sdb_symdict_get(s->dict, c, &len);
            sdb_rc rc = sdb_symdict_intern(d->dict, str, len, &remap[c], err);
            if (rc != SDB_OK) {
                free(remap);
                return rc;
            }
        }
        for (uint64_t i = 0; i < n; i++)
            d->v.code[at + i] = sdb_column_valid(s, i) ? remap[s->v.code[i]] : 0;
        free(remap);
        break;
    }
    case SDB_TYPE_STRING: {
        uint64_t base = s->v.off[0], bytes = s->v.off[n] - base;
        if (bytes > d->bytes_cap - d->nbytes) {
            uint64_t cap = d->bytes_cap ? d->bytes_cap : 1024;
            char *b;
            while (cap - d->nbytes < bytes)
                cap *= 2;
            if ((b = realloc(d->bytes, (size_t)cap)) == NULL)
                return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %llu bytes of strings",
                                (unsigned long long)cap);
            d->bytes = b;
            d->bytes_cap = cap;
        }
        if (bytes > 0)
            memcpy(d->bytes + d->nbytes, s->bytes + base, (size_t)bytes);
        for (uint64_t i = 1; i <= n; i++)
            d->v.off[at + i] = d->nbytes + (s->v.off[i] - base);
        d->nbytes += bytes;
        break;
    }
    }
    d->n = at + n;
    return SDB_OK;
}

static sdb_rc append_column(sdb_column *d, const sdb_column *s, const uint32_t *rows, uint64_t n,
                            sdb_err *err)
{
    uint32_t *remap = NULL;
    sdb_rc rc = SDB_OK;
    if (rows == NULL && d->type == s->type)
        return append_all_same(d, s, err);
    SDB_TRY(sdb_column_reserve(d, d->n + n, err));
    if (s->type == SDB_TYPE_SYMBOL && d->type == SDB_TYPE_SYMBOL) {
        uint32_t nd = sdb_symdict_count(s->dict);
        remap = malloc((nd ? nd : 1) * sizeof *remap);
        if (remap == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to remap %u symbols", nd);
        memset(remap, 0xff, (nd ? nd : 1) * sizeof *remap);
    }
    for (uint64_t k = 0; k < n && rc == SDB_OK; k++) {
        uint64_t r = rows ? rows[k] : k;
        if (!sdb_column_valid(s, r)) {
            rc = sdb_column_push_null(d, err);
            continue;
        }
        switch (d->type) {
        case SDB_TYPE_TIMESTAMP:
        case SDB_TYPE_INT64: rc = sdb_column_push_i64(d, s->v.i64[r], err); break;
        case SDB_TYPE_FLOAT64:
            rc = sdb_column_push_f64(d, s->type == SDB_TYPE_INT64 ? (double)s->v.i64[r]
                                                                   : s->v.f64[r], err);
            break;
        case SDB_TYPE_BOOL: rc = sdb_column_push_bool(d, s->v.b8[r] != 0, err); break;
        case SDB_TYPE_SYMBOL:
        case SDB_TYPE_STRING:
            if (remap != NULL) {
                uint32_t c = s->v.code[r];
                if (remap[c] == UINT32_MAX) {
                    uint32_t len;
                    const char *str = sdb_symdict_get(s->dict, c, &len);
                    rc = sdb_symdict_intern(d->dict, str, len, &remap[c], err);
                    if (rc != SDB_OK)
                        break;
                }
                rc = sdb_column_push_code(d, remap[c], err);
            } else {
                /* string into string, or between string and symbol */
                uint32_t len;
                const char *str = sdb_column_str(s, r, &len);
                rc = sdb_column_push_str(d, str, len, err);
            }
            break;
        }
    }
    free(remap);
    return rc;
}

sdb_rc sdb_batch_append_rows(sdb_batch *dst, const sdb_batch *src, const uint32_t *rows,
                             uint64_t n, sdb_err *err)
{
    int stack_map[64];
    int *map = src->ncols <= 64 ? stack_map : malloc(src->ncols * sizeof *map);
    uint64_t before = dst->nrows;
    sdb_rc rc;
    if (map == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u columns", src->ncols);
    if (rows == NULL)
        n = src->nrows;
    rc = map_columns(dst, src, map, err);
    for (uint32_t i = 0; i < src->ncols && rc == SDB_OK; i++)
        rc = append_column(&dst->cols[map[i]], &src->cols[i], rows, n, err);
    if (rc == SDB_OK) {
        dst->nrows += n;
        rc = sdb_batch_pad(dst, err);
    }
    if (rc != SDB_OK) {
        /* leave no half-appended rows behind */
        for (uint32_t i = 0; i < dst->ncols; i++)
            sdb_column_truncate(&dst->cols[i], before);
        dst->nrows = before;
    }
    if (map != stack_map)
        free(map);
    return rc;
}
