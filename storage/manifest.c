/* The manifest file. Layout (all integers little-endian):
 *
 *   header (32 bytes)
 *     0  u32 magic "SMAN"     4  u32 version (1)     8  u64 generation
 *     16 u32 entry count      20 u32 reserved (0)    24 u64 file length in bytes
 *   entries, each:
 *     u16 table length, table bytes, u16 file length, file bytes,
 *     i64 partition start, u8 unit, u8 level, u16 reserved (0),
 *     u64 rows, i64 min time, i64 max time, u64 max WAL seq, u64 segment bytes
 *   trailer: u64 XXH3-64 of every byte before it
 *
 * Crash states: sdb_file_write_atomic writes MANIFEST.tmp, fsyncs, renames it over MANIFEST
 * and fsyncs the directory. Before the rename the old MANIFEST is intact (a stale .tmp is
 * ignored and overwritten next time); after it the new one is complete and synced. */
#include "storage/manifest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/fileio.h"

#define MAN_MAGIC   0x4e414d53u /* "SMAN" */
#define MAN_VERSION 1u
#define MAN_HDR     32u
#define ENTRY_FIXED 52u /* bytes of an entry after its two names */
#define ENTRY_MIN   (2u + 1u + 2u + 1u + ENTRY_FIXED)

struct sdb_manifest {
    uint64_t generation;   /* bumped by every save */
    uint32_t n;            /* entries */
    uint32_t cap;          /* entries allocated */
    sdb_manifest_entry *e; /* table and file strings owned (malloc) */
};

const char *sdb_part_unit_name(sdb_part_unit u)
{
    switch (u) {
    case SDB_PART_HOUR: return "hour";
    case SDB_PART_DAY: return "day";
    case SDB_PART_MONTH: return "month";
    }
    return "?";
}

sdb_manifest *sdb_manifest_create(void)
{
    return calloc(1, sizeof(sdb_manifest));
}

void sdb_manifest_destroy(sdb_manifest *m)
{
    if (m == NULL)
        return;
    for (uint32_t i = 0; i < m->n; i++) {
        free((char *)(uintptr_t)m->e[i].table);
        free((char *)(uintptr_t)m->e[i].file);
    }
    free(m->e);
    free(m);
}

/* What is wrong with e, or NULL when it is acceptable. */
static const char *check_entry(const sdb_manifest_entry *e, size_t tlen, size_t flen)
{
    if (tlen == 0 || tlen > SDB_MANIFEST_TABLE_MAX)
        return "table name length out of range";
    if (flen == 0 || flen > SDB_MANIFEST_FILE_MAX)
        return "file name length out of range";
    if (memchr(e->table, '\0', tlen) != NULL)
        return "table name contains a NUL byte";
    if (memchr(e->file, '\0', flen) != NULL || memchr(e->file, '/', flen) != NULL)
        return "file name contains '/' or a NUL byte";
    if ((flen == 1 && e->file[0] == '.') || (flen == 2 && memcmp(e->file, "..", 2) == 0))
        return "file name is '.' or '..'";
    if (e->unit != SDB_PART_HOUR && e->unit != SDB_PART_DAY && e->unit != SDB_PART_MONTH)
        return "unknown partition unit";
    if (e->rows > 0 && e->min_time > e->max_time)
        return "min time is after max time";
    if (e->level > 255)
        return "level is above 255";
    return NULL;
}

static int find(const sdb_manifest *m, const char *table, const char *file)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].file, file) == 0 && strcmp(m->e[i].table, table) == 0)
            return (int)i;
    return -1;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Append a copy of e without checks (tlen/flen are the name lengths). */
static sdb_rc push(sdb_manifest *m, const sdb_manifest_entry *e, size_t tlen, size_t flen,
                   sdb_err *err)
{
    sdb_manifest_entry c = *e;
    if (m->n >= SDB_MANIFEST_MAX_ENTRIES)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "manifest holds %u segments already", m->n);
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        sdb_manifest_entry *p = realloc(m->e, cap * sizeof *p);
        if (p == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u manifest entries", cap);
        m->e = p;
        m->cap = cap;
    }
    c.table = dup_n(e->table, tlen);
    c.file = dup_n(e->file, flen);
    if (c.table == NULL || c.file == NULL) {
        free((char *)(uintptr_t)c.table);
        free((char *)(uintptr_t)c.file);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a manifest entry");
    }
    m->e[m->n++] = c;
    return SDB_OK;
}

sdb_rc sdb_manifest_add(sdb_manifest *m, const sdb_manifest_entry *e, sdb_err *err)
{
    size_t tlen = e->table ? strlen(e->table) : 0, flen = e->file ? strlen(e->file) : 0;
    const char *why = (e->table == NULL || e->file == NULL) ? "missing table or file name"
                                                            : check_entry(e, tlen, flen);
    if (why != NULL)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "manifest entry %s/%s: %s", e->table ? e->table : "?",
                        e->file ? e->file : "?", why);
    if (find(m, e->table, e->file) >= 0)
        return SDB_FAIL(err, SDB_ERR_EXISTS, "manifest already lists segment %s/%s", e->table,
                        e->file);
    return push(m, e, tlen, flen, err);
}

sdb_rc sdb_manifest_remove(sdb_manifest *m, const char *table, const char *file, sdb_err *err)
{
    int i = find(m, table, file);
    if (i < 0)
        return SDB_FAIL(err, SDB_ERR_NOTFOUND, "manifest does not list segment %s/%s", table, file);
    free((char *)(uintptr_t)m->e[i].table);
    free((char *)(uintptr_t)m->e[i].file);
    memmove(m->e + i, m->e + i + 1, (m->n - (uint32_t)i - 1) * sizeof *m->e);
    m->n--;
    return SDB_OK;
}

sdb_rc sdb_manifest_copy(const sdb_manifest *m, sdb_manifest **out, sdb_err *err)
{
    sdb_manifest *c = sdb_manifest_create();
    *out = NULL;
    if (c == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a manifest");
    c->generation = m->generation;
    for (uint32_t i = 0; i < m->n; i++) {
        sdb_rc rc = push(c, &m->e[i], strlen(m->e[i].table), strlen(m->e[i].file), err);
        if (rc != SDB_OK) {
            sdb_manifest_destroy(c);
            return rc;
        }
    }
    *out = c;
    return SDB_OK;
}

uint64_t sdb_manifest_generation(const sdb_manifest *m)
{
    return m->generation;
}

uint32_t sdb_manifest_count(const sdb_manifest *m)
{
    return m->n;
}

const sdb_manifest_entry *sdb_manifest_get(const sdb_manifest *m, uint32_t i)
{
    return i < m->n ? &m->e[i] : NULL;
}

uint64_t sdb_manifest_max_wal_seq(const sdb_manifest *m, const char *table)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->e[i].max_wal_seq > v && strcmp(m->e[i].table, table) == 0)
            v = m->e[i].max_wal_seq;
    return v;
}

sdb_rc sdb_manifest_encode(const sdb_manifest *m, sdb_buf *out, sdb_err *err)
{
    size_t start = out->len;
    uint8_t h[MAN_HDR];
    sdb_rc rc = SDB_OK;
    sdb_put_le32(h, MAN_MAGIC);
    sdb_put_le32(h + 4, MAN_VERSION);
    sdb_put_le64(h + 8, m->generation);
    sdb_put_le32(h + 16, m->n);
    sdb_put_le32(h + 20, 0);
    sdb_put_le64(h + 24, 0); /* length, patched below */
    rc = sdb_buf_append(out, h, MAN_HDR, err);
    for (uint32_t i = 0; i < m->n && rc == SDB_OK; i++) {
        const sdb_manifest_entry *e = &m->e[i];
        size_t tlen = strlen(e->table), flen = strlen(e->file);
        uint8_t f[ENTRY_FIXED];
        sdb_put_le64(f, (uint64_t)e->part_start);
        f[8] = (uint8_t)e->unit;
        f[9] = (uint8_t)e->level;
        sdb_put_le16(f + 10, 0);
        sdb_put_le64(f + 12, e->rows);
        sdb_put_le64(f + 20, (uint64_t)e->min_time);
        sdb_put_le64(f + 28, (uint64_t)e->max_time);
        sdb_put_le64(f + 36, e->max_wal_seq);
        sdb_put_le64(f + 44, e->bytes);
        rc = sdb_buf_put_le16(out, (uint16_t)tlen, err);
        if (rc == SDB_OK)
            rc = sdb_buf_append(out, e->table, tlen, err);
        if (rc == SDB_OK)
            rc = sdb_buf_put_le16(out, (uint16_t)flen, err);
        if (rc == SDB_OK)
            rc = sdb_buf_append(out, e->file, flen, err);
        if (rc == SDB_OK)
            rc = sdb_buf_append(out, f, ENTRY_FIXED, err);
    }
    if (rc == SDB_OK && out->len - start + 8 > SDB_MANIFEST_MAX_BYTES)
        rc = SDB_FAIL(err, SDB_ERR_LIMIT, "manifest of %u segments is larger than %u bytes", m->n,
                      SDB_MANIFEST_MAX_BYTES);
    if (rc == SDB_OK) {
        sdb_put_le64(out->data + start + 24, (uint64_t)(out->len - start + 8));
        rc = sdb_buf_put_le64(out, sdb_hash64(out->data + start, out->len - start), err);
    }
    if (rc != SDB_OK)
        out->len = start;
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    const sdb_manifest_entry *x = *(const sdb_manifest_entry *const *)a;
    const sdb_manifest_entry *y = *(const sdb_manifest_entry *const *)b;
    int c = strcmp(x->table, y->table);
    return c != 0 ? c : strcmp(x->file, y->file);
}

/* A segment listed twice is corruption: sort pointers to the entries, compare neighbours. */
static sdb_rc check_duplicates(const sdb_manifest *m, const char *name, sdb_err *err)
{
    const sdb_manifest_entry **v;
    sdb_rc rc = SDB_OK;
    if (m->n < 2)
        return SDB_OK;
    if ((v = malloc(m->n * sizeof *v)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to check %u manifest entries", m->n);
    for (uint32_t i = 0; i < m->n; i++)
        v[i] = &m->e[i];
    qsort(v, m->n, sizeof *v, cmp_entry);
    for (uint32_t i = 1; i < m->n && rc == SDB_OK; i++)
        if (cmp_entry(&v[i - 1], &v[i]) == 0)
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: segment %s/%s is listed twice", name,
                          v[i]->table, v[i]->file);
    free(v);
    return rc;
}

sdb_rc sdb_manifest_decode(const void *data, size_t len, const char *name, sdb_manifest **out,
                           sdb_err *err)
{
    const uint8_t *p = data, *end, *q;
    uint64_t stored_len;
    uint32_t count;
    sdb_manifest *m;
    sdb_rc rc = SDB_OK;
    *out = NULL;
    if (len < MAN_HDR + 8)
        return SDB_FAIL(err, SDB_ERR_CORRUPT,
                        "%s: manifest of %zu bytes is shorter than its "
                        "header and checksum (%u bytes)",
                        name, len, MAN_HDR + 8);
    if (sdb_get_le32(p) != MAN_MAGIC)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: not a manifest (magic 0x%08x)", name,
                        sdb_get_le32(p));
    if (sdb_get_le32(p + 4) != MAN_VERSION)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: unsupported manifest version %u", name,
                        sdb_get_le32(p + 4));
    stored_len = sdb_get_le64(p + 24);
    if (stored_len != len)
        return SDB_FAIL(err, SDB_ERR_CORRUPT,
                        "%s: manifest is %zu bytes, its header says %llu "
                        "(truncated or extended)",
                        name, len, (unsigned long long)stored_len);
    if (sdb_get_le64(p + len - 8) != sdb_hash64(p, len - 8))
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: manifest checksum mismatch", name);
    count = sdb_get_le32(p + 16);
    if (sdb_get_le32(p + 20) != 0)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: reserved header field is not zero", name);
    end = p + len - 8;
    if (count > SDB_MANIFEST_MAX_ENTRIES || (uint64_t)count * ENTRY_MIN > (uint64_t)(end - p))
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: %u entries cannot fit in %zu bytes", name, count,
                        len);
    if ((m = sdb_manifest_create()) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a manifest");
    m->generation = sdb_get_le64(p + 8);
    q = p + MAN_HDR;
    for (uint32_t i = 0; i < count && rc == SDB_OK; i++) {
        sdb_manifest_entry e;
        size_t tlen, flen;
        const char *why;
        if ((size_t)(end - q) < 2 || (tlen = sdb_get_le16(q)) > (size_t)(end - q) - 2) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: entry %u: table name runs past the end", name,
                          i);
            break;
        }
        e.table = (const char *)q + 2;
        q += 2 + tlen;
        if ((size_t)(end - q) < 2 || (flen = sdb_get_le16(q)) > (size_t)(end - q) - 2 ||
            (size_t)(end - q) - 2 - flen < ENTRY_FIXED) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: entry %u: runs past the end", name, i);
            break;
        }
        e.file = (const char *)q + 2;
        q += 2 + flen;
        e.part_start = (int64_t)sdb_get_le64(q);
        e.unit = (sdb_part_unit)q[8];
        e.level = q[9];
        e.rows = sdb_get_le64(q + 12);
        e.min_time = (int64_t)sdb_get_le64(q + 20);
        e.max_time = (int64_t)sdb_get_le64(q + 28);
        e.max_wal_seq = sdb_get_le64(q + 36);
        e.bytes = sdb_get_le64(q + 44);
        why =
            sdb_get_le16(q + 10) != 0 ? "reserved field is not zero" : check_entry(&e, tlen, flen);
        q += ENTRY_FIXED;
        if (why != NULL) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: entry %u (%.*s/%.*s): %s", name, i,
                          (int)(tlen > 64 ? 64 : tlen), e.table, (int)(flen > 64 ? 64 : flen),
                          e.file, why);
            break;
        }
        rc = push(m, &e, tlen, flen, err);
    }
    if (rc == SDB_OK && q != end)
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: %zu stray bytes after the last entry", name,
                      (size_t)(end - q));
    if (rc == SDB_OK)
        rc = check_duplicates(m, name, err);
    if (rc != SDB_OK) {
        sdb_manifest_destroy(m);
        return rc;
    }
    *out = m;
    return SDB_OK;
}

sdb_rc sdb_manifest_load(const char *dir, sdb_manifest **m, sdb_err *err)
{
    char path[SDB_PATH_MAX];
    sdb_buf b = SDB_BUF_INIT;
    sdb_rc rc;
    *m = NULL;
    SDB_TRY(sdb_file_join(path, dir, SDB_MANIFEST_FILE, err));
    rc = sdb_file_read_all(path, SDB_MANIFEST_MAX_BYTES, &b, err);
    if (rc == SDB_OK)
        rc = sdb_manifest_decode(b.data, b.len, path, m, err);
    sdb_buf_free(&b);
    return rc;
}

sdb_rc sdb_manifest_save(sdb_manifest *m, const char *dir, sdb_err *err)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_rc rc;
    m->generation++;
    rc = sdb_manifest_encode(m, &b, err);
    if (rc == SDB_OK)
        rc = sdb_file_write_atomic(dir, SDB_MANIFEST_FILE, b.data, b.len, err);
    if (rc != SDB_OK)
        m->generation--;
    sdb_buf_free(&b);
    return rc;
}
