/* String interner: open addressing with linear probing over a power-of-two table of codes,
 * with each string's hash kept beside it so that a probe compares bytes only on a hash hit. */
#include "storage/symdict.h"

#include <stdlib.h>
#include <string.h>

#include "storage/common/hash.h"

struct sdb_symdict {
    char *bytes;      /* all strings back to back */
    size_t nbytes;
    size_t bytes_cap;
    uint64_t *off;    /* off[code] = start; off[count] = nbytes */
    uint64_t *hashes; /* hash of each code's string */
    uint32_t count;
    uint32_t codes_cap;
    uint32_t *slots;  /* code + 1, 0 = empty */
    uint32_t mask;    /* table size - 1 */
};

sdb_symdict *sdb_symdict_create(void)
{
    sdb_symdict *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->off = calloc(1, sizeof *d->off);
    if (d->off == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

void sdb_symdict_destroy(sdb_symdict *d)
{
    if (d == NULL)
        return;
    free(d->bytes);
    free(d->off);
    free(d->hashes);
    free(d->slots);
    free(d);
}

void sdb_symdict_clear(sdb_symdict *d)
{
    d->nbytes = 0;
    d->count = 0;
    d->off[0] = 0;
    if (d->slots != NULL)
        memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
}

static bool same(const sdb_symdict *d, uint32_t code, const char *s, size_t n)
{
    uint64_t a = d->off[code], b = d->off[code + 1];
    return b - a == n && (n == 0 || memcmp(d->bytes + a, s, n) == 0);
}

bool sdb_symdict_find(const sdb_symdict *d, const char *s, size_t n, uint32_t *code)
{
    uint64_t h;
    uint32_t i;
    if (d->slots == NULL)
        return false;
    h = sdb_hash64(s, n);
    for (i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t c = d->slots[i];
        if (c == 0)
            return false;
        if (d->hashes[c - 1] == h && same(d, c - 1, s, n)) {
            *code = c - 1;
            return true;
        }
    }
}

static sdb_rc grow_table(sdb_symdict *d, sdb_err *err)
{
    size_t size = d->slots ? ((size_t)d->mask + 1) * 2 : 64;
    uint32_t *slots = calloc(size, sizeof *slots);
    if (slots == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a symbol table of %zu slots", size);
    for (uint32_t c = 0; c < d->count; c++) {
        size_t i = d->hashes[c] & (size - 1);
        while (slots[i] != 0)
            i = (i + 1) & (size - 1);
        slots[i] = c + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->mask = (uint32_t)(size - 1);
    return SDB_OK;
}

sdb_rc sdb_symdict_intern(sdb_symdict *d, const char *s, size_t n, uint32_t *code, sdb_err *err)
{
    uint64_t h;
    uint32_t i;
    if (n > SDB_SYMBOL_MAX)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "symbol of %zu bytes is longer than the limit of %u",
                        n, SDB_SYMBOL_MAX);
    /* keep the table at most half full */
    if (d->slots == NULL || (size_t)d->count * 2 >= (size_t)d->mask + 1)
        SDB_TRY(grow_table(d, err));
    h = sdb_hash64(s, n);
    for (i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t c = d->slots[i];
        if (c == 0)
            break;
        if (d->hashes[c - 1] == h && same(d, c - 1, s, n)) {
            *code = c - 1;
            return SDB_OK;
        }
    }
    if (d->count >= SDB_SYMDICT_MAX_CODES)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "more than %u distinct symbols", SDB_SYMDICT_MAX_CODES);
    if (d->count + 1 >= d->codes_cap) {
        uint32_t cap = d->codes_cap ? d->codes_cap * 2 : 64;
        uint64_t *off = realloc(d->off, ((size_t)cap + 1) * sizeof *off);
        if (off == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u symbols", cap);
        d->off = off;
        uint64_t *hs = realloc(d->hashes, (size_t)cap * sizeof *hs);
        if (hs == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u symbols", cap);
        d->hashes = hs;
        d->codes_cap = cap;
    }
    if (n > d->bytes_cap - d->nbytes) {
        size_t cap = d->bytes_cap ? d->bytes_cap : 1024;
        while (cap - d->nbytes < n)
            cap *= 2;
        char *b = realloc(d->bytes, cap);
        if (b == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %zu bytes of symbols", cap);
        d->bytes = b;
        d->bytes_cap = cap;
    }
    if (n > 0)
        memcpy(d->bytes + d->nbytes, s, n);
    d->nbytes += n;
    d->hashes[d->count] = h;
    d->off[d->count + 1] = d->nbytes;
    d->slots[i] = d->count + 1;
    *code = d->count++;
    return SDB_OK;
}

uint32_t sdb_symdict_count(const sdb_symdict *d)
{
    return d->count;
}

const char *sdb_symdict_get(const sdb_symdict *d, uint32_t code, uint32_t *len)
{
    *len = (uint32_t)(d->off[code + 1] - d->off[code]);
    return d->bytes ? d->bytes + d->off[code] : "";
}

size_t sdb_symdict_bytes(const sdb_symdict *d)
{
    return d->nbytes;
}
