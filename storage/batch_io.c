/* Batch serialization (the WAL payload). Layout, all integers little-endian:
 *
 *   envelope (16 bytes)
 *     0  u32 magic "SBAT"     4  u8 version (1)     5  u8 codec (0 none, 1 lz4)
 *     6  u16 reserved (0)     8  u32 raw body length   12  u32 stored body length
 *   body (raw_len bytes after decompression)
 *     u32 table name length, name bytes
 *     u64 nrows, u32 ncols
 *     per column: u32 name length, name bytes, u8 type, u8 flags (bit 0: has NULLs),
 *       [validity bitmap, (nrows + 7) / 8 bytes, bit r = row r not NULL]  when bit 0
 *       values:  timestamp, int64, float64: nrows x 8 bytes
 *                bool: bitmap of (nrows + 7) / 8 bytes
 *                symbol: u32 ndict, ndict x (u32 length, bytes), nrows codes of
 *                        1, 2 or 4 bytes (ndict <= 256, <= 65536, else)
 *                string: u64 total bytes, nrows x u32 length, the bytes
 *
 * NULL rows carry zero values (code 0, length 0) that the decoder ignores. Symbol columns
 * write only the strings their rows use, renumbered in order of first use, because a
 * long-lived ingest batch keeps its dictionaries across sdb_batch_clear. */
#include "storage/batch_io.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "storage/codec.h"
#include "storage/common/endian.h"

#define BATCH_MAGIC   0x54414253u /* "SBAT" */
#define BATCH_VERSION 1
#define ENVELOPE_SIZE 16
/* Below this a body is stored raw: LZ4 cannot win much on a few hundred bytes. */
#define COMPRESS_MIN 256

/* ---- writing ---- */

static sdb_rc put_name(sdb_buf *o, const char *s, size_t n, sdb_err *err)
{
    SDB_TRY(sdb_buf_put_le32(o, (uint32_t)n, err));
    return sdb_buf_append(o, s, n, err);
}

/* (nrows + 7) / 8 bytes of a bitmap whose bit r is bit r of words[r / 64]. */
static sdb_rc put_bits(sdb_buf *o, const uint64_t *words, uint64_t nrows, sdb_err *err)
{
    size_t nbytes = (size_t)((nrows + 7) / 8);
    SDB_TRY(sdb_buf_reserve(o, nbytes, err));
    if (nbytes > 0) {
        memcpy(o->data + o->len, words, nbytes); /* little-endian: byte order = bit order */
        if (nrows & 7)
            o->data[o->len + nbytes - 1] &= (uint8_t)((1u << (nrows & 7)) - 1);
    }
    o->len += nbytes;
    return SDB_OK;
}

static sdb_rc put_bools(sdb_buf *o, const sdb_column *c, uint64_t nrows, sdb_err *err)
{
    size_t nbytes = (size_t)((nrows + 7) / 8);
    SDB_TRY(sdb_buf_reserve(o, nbytes, err));
    memset(o->data + o->len, 0, nbytes);
    for (uint64_t r = 0; r < nrows; r++)
        if (c->v.b8[r])
            o->data[o->len + r / 8] |= (uint8_t)(1u << (r & 7));
    o->len += nbytes;
    return SDB_OK;
}

static sdb_rc put_symbols(sdb_buf *o, const sdb_column *c, uint64_t nrows, sdb_err *err)
{
    uint32_t count = sdb_symdict_count(c->dict), used = 0, width;
    uint32_t *map = NULL;
    size_t count_pos;
    sdb_rc rc = SDB_OK;
    if (count > 0 && (map = malloc((size_t)count * sizeof *map)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to serialize %u symbols", count);
    if (count > 0)
        memset(map, 0xff, (size_t)count * sizeof *map);
    count_pos = o->len;
    if ((rc = sdb_buf_put_le32(o, 0, err)) != SDB_OK)
        goto done;
    for (uint64_t r = 0; r < nrows; r++) {
        uint32_t code = c->v.code[r], len;
        const char *s;
        if (!sdb_column_valid(c, r))
            continue;
        if (code >= count) {
            rc = SDB_FAIL(err, SDB_ERR_MISUSE,
                          "symbol code %u of row %llu is not in the "
                          "dictionary of %u",
                          code, (unsigned long long)r, count);
            goto done;
        }
        if (map[code] != UINT32_MAX)
            continue;
        map[code] = used++;
        s = sdb_symdict_get(c->dict, code, &len);
        if ((rc = put_name(o, s, len, err)) != SDB_OK)
            goto done;
    }
    sdb_put_le32(o->data + count_pos, used);
    width = used <= 256 ? 1 : used <= 65536 ? 2 : 4;
    if ((rc = sdb_buf_reserve(o, (size_t)nrows * width, err)) != SDB_OK)
        goto done;
    for (uint64_t r = 0; r < nrows; r++) {
        uint32_t v = sdb_column_valid(c, r) ? map[c->v.code[r]] : 0;
        uint8_t *d = o->data + o->len + r * width;
        if (width == 1)
            d[0] = (uint8_t)v;
        else if (width == 2)
            sdb_put_le16(d, (uint16_t)v);
        else
            sdb_put_le32(d, v);
    }
    o->len += (size_t)nrows * width;
done:
    free(map);
    return rc;
}

static sdb_rc put_strings(sdb_buf *o, const sdb_column *c, uint64_t nrows, sdb_err *err)
{
    uint64_t total = 0;
    size_t pos;
    for (uint64_t r = 0; r < nrows; r++)
        if (sdb_column_valid(c, r))
            total += c->v.off[r + 1] - c->v.off[r];
    if (total > SDB_BATCH_IO_MAX)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%llu bytes of strings do not fit one batch of %u",
                        (unsigned long long)total, SDB_BATCH_IO_MAX);
    SDB_TRY(sdb_buf_put_le64(o, total, err));
    SDB_TRY(sdb_buf_reserve(o, (size_t)nrows * 4 + (size_t)total, err));
    pos = o->len;
    for (uint64_t r = 0; r < nrows; r++) {
        uint64_t len = sdb_column_valid(c, r) ? c->v.off[r + 1] - c->v.off[r] : 0;
        sdb_put_le32(o->data + pos, (uint32_t)len);
        pos += 4;
    }
    for (uint64_t r = 0; r < nrows; r++) {
        uint64_t len = c->v.off[r + 1] - c->v.off[r];
        if (sdb_column_valid(c, r) && len > 0) {
            memcpy(o->data + pos, c->bytes + c->v.off[r], (size_t)len);
            pos += (size_t)len;
        }
    }
    o->len = pos;
    return SDB_OK;
}

static bool has_nulls(const sdb_column *c, uint64_t nrows)
{
    uint64_t full = nrows / 64;
    for (uint64_t w = 0; w < full; w++)
        if (c->valid[w] != UINT64_MAX)
            return true;
    if (nrows & 63) {
        uint64_t mask = (1ULL << (nrows & 63)) - 1;
        return (c->valid[full] & mask) != mask;
    }
    return false;
}

static sdb_rc put_column(sdb_buf *o, const char *name, const sdb_column *c, uint64_t nrows,
                         sdb_err *err)
{
    bool nulls = nrows > 0 && has_nulls(c, nrows);
    SDB_TRY(put_name(o, name, strlen(name), err));
    SDB_TRY(sdb_buf_put_u8(o, (uint8_t)c->type, err));
    SDB_TRY(sdb_buf_put_u8(o, nulls ? 1 : 0, err));
    if (nulls)
        SDB_TRY(put_bits(o, c->valid, nrows, err));
    switch (c->type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64:
    case SDB_TYPE_FLOAT64:
        /* NULL rows hold whatever the column holds there; pushes write 0 */
        return sdb_buf_append(o, c->v.raw, (size_t)nrows * 8, err);
    case SDB_TYPE_BOOL: return put_bools(o, c, nrows, err);
    case SDB_TYPE_SYMBOL: return put_symbols(o, c, nrows, err);
    case SDB_TYPE_STRING: return put_strings(o, c, nrows, err);
    }
    return SDB_FAIL(err, SDB_ERR_MISUSE, "column '%s' has bad type %d", name, (int)c->type);
}

sdb_rc sdb_batch_serialize(const sdb_batch *b, const char *table, sdb_buf *out, sdb_err *err)
{
    sdb_buf body = SDB_BUF_INIT;
    size_t tlen = strlen(table), start = out->len;
    uint8_t env[ENVELOPE_SIZE];
    sdb_codec codec = SDB_CODEC_NONE;
    sdb_rc rc;
    if (tlen == 0 || tlen > SDB_TABLE_NAME_MAX)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "table name of %zu bytes (1 to %u allowed)", tlen,
                        SDB_TABLE_NAME_MAX);
    if (b->nrows > SDB_BATCH_IO_MAX_ROWS || b->ncols > SDB_BATCH_IO_MAX_COLS)
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "table %s: batch of %llu rows and %u columns is "
                        "larger than %llu rows or %u columns",
                        table, (unsigned long long)b->nrows, b->ncols, SDB_BATCH_IO_MAX_ROWS,
                        SDB_BATCH_IO_MAX_COLS);
    for (uint32_t i = 0; i < b->ncols; i++)
        if (b->cols[i].n < b->nrows)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "table %s: column '%s' has %llu of %llu rows",
                            table, b->names[i], (unsigned long long)b->cols[i].n,
                            (unsigned long long)b->nrows);
    rc = put_name(&body, table, tlen, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le64(&body, b->nrows, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le32(&body, b->ncols, err);
    for (uint32_t i = 0; i < b->ncols && rc == SDB_OK; i++) {
        rc = put_column(&body, b->names[i], &b->cols[i], b->nrows, err);
        if (rc == SDB_OK && body.len > SDB_BATCH_IO_MAX)
            rc = SDB_FAIL(err, SDB_ERR_LIMIT,
                          "table %s: batch of %llu rows serializes to more "
                          "than %u bytes",
                          table, (unsigned long long)b->nrows, SDB_BATCH_IO_MAX);
    }
    if (rc != SDB_OK)
        goto done;
    if ((rc = sdb_buf_reserve(out, ENVELOPE_SIZE, err)) != SDB_OK)
        goto done;
    out->len += ENVELOPE_SIZE;
    if (body.len >= COMPRESS_MIN) {
        rc = sdb_codec_compress(NULL, SDB_CODEC_LZ4, 0, body.data, body.len, out, err);
        if (rc != SDB_OK)
            goto done;
        if (out->len - start - ENVELOPE_SIZE <= body.len - body.len / 8)
            codec = SDB_CODEC_LZ4;
        else
            out->len = start + ENVELOPE_SIZE;
    }
    if (codec == SDB_CODEC_NONE && (rc = sdb_buf_append(out, body.data, body.len, err)) != SDB_OK)
        goto done;
    sdb_put_le32(env, BATCH_MAGIC);
    env[4] = BATCH_VERSION;
    env[5] = (uint8_t)codec;
    sdb_put_le16(env + 6, 0);
    sdb_put_le32(env + 8, (uint32_t)body.len);
    sdb_put_le32(env + 12, (uint32_t)(out->len - start - ENVELOPE_SIZE));
    memcpy(out->data + start, env, ENVELOPE_SIZE);
done:
    if (rc != SDB_OK)
        out->len = start;
    sdb_buf_free(&body);
    return rc;
}

/* ---- reading ---- */

typedef struct reader {
    const uint8_t *p;    /* next byte */
    const uint8_t *end;  /* one past the last byte */
    const uint8_t *base; /* start of the body, for offsets in messages */
} reader;

static size_t left(const reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Fail with CORRUPT unless n more bytes are there; what names the field. */
static sdb_rc need(const reader *r, uint64_t n, const char *what, sdb_err *err)
{
    if (n > left(r))
        return SDB_FAIL(err, SDB_ERR_CORRUPT,
                        "batch truncated at body offset %zu: %s needs "
                        "%llu bytes, %zu left",
                        (size_t)(r->p - r->base), what, (unsigned long long)n, left(r));
    return SDB_OK;
}

static sdb_rc get_u32(reader *r, const char *what, uint32_t *v, sdb_err *err)
{
    SDB_TRY(need(r, 4, what, err));
    *v = sdb_get_le32(r->p);
    r->p += 4;
    return SDB_OK;
}

static sdb_rc get_u64(reader *r, const char *what, uint64_t *v, sdb_err *err)
{
    SDB_TRY(need(r, 8, what, err));
    *v = sdb_get_le64(r->p);
    r->p += 8;
    return SDB_OK;
}

/* A name of 1..max bytes without NUL; borrowed pointer into the body. */
static sdb_rc get_name(reader *r, const char *what, uint32_t max, const char **s, uint32_t *n,
                       sdb_err *err)
{
    SDB_TRY(get_u32(r, what, n, err));
    if (*n == 0 || *n > max)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: %s length %u out of range 1..%u", what, *n,
                        max);
    SDB_TRY(need(r, *n, what, err));
    if (memchr(r->p, '\0', *n) != NULL)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: %s contains a NUL byte", what);
    *s = (const char *)r->p;
    r->p += *n;
    return SDB_OK;
}

/* Validity from a bitmap (or all valid); bits past nrows are cleared. */
static void set_validity(sdb_column *c, const uint8_t *bits, uint64_t nrows)
{
    size_t words = (size_t)((nrows + 63) / 64);
    if (words == 0)
        return;
    if (bits == NULL) {
        memset(c->valid, 0xff, words * 8);
    } else {
        memset(c->valid, 0, words * 8);
        memcpy(c->valid, bits, (size_t)((nrows + 7) / 8));
    }
    if (nrows & 63)
        c->valid[words - 1] &= (1ULL << (nrows & 63)) - 1;
}

static sdb_rc get_symbols(reader *r, sdb_column *c, uint64_t nrows, const char *col, sdb_err *err)
{
    uint32_t ndict, width, empty_code = UINT32_MAX;
    uint32_t *remap = NULL;
    sdb_rc rc;
    SDB_TRY(get_u32(r, "symbol dictionary size", &ndict, err));
    /* each entry takes at least 4 bytes: a hostile count cannot make us allocate much */
    if ((rc = need(r, (uint64_t)ndict * 4, "symbol dictionary", err)) != SDB_OK)
        return rc;
    if (ndict > 0 && (remap = malloc((size_t)ndict * sizeof *remap)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u symbols", ndict);
    for (uint32_t i = 0; i < ndict; i++) {
        uint32_t len;
        if ((rc = get_u32(r, "symbol length", &len, err)) != SDB_OK)
            goto done;
        if (len > SDB_SYMBOL_MAX) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT,
                          "batch: column '%s' symbol %u is %u bytes, more "
                          "than %u",
                          col, i, len, SDB_SYMBOL_MAX);
            goto done;
        }
        if ((rc = need(r, len, "symbol", err)) != SDB_OK)
            goto done;
        /* "" is interned once: sdb_symdict compares a second "" against a NULL buffer while
           it holds no bytes (memcmp(NULL, ..., 0)), which UBSan rejects */
        if (len == 0 && empty_code != UINT32_MAX) {
            remap[i] = empty_code;
            continue;
        }
        if ((rc = sdb_symdict_intern(c->dict, (const char *)r->p, len, &remap[i], err)) != SDB_OK)
            goto done;
        if (len == 0)
            empty_code = remap[i];
        r->p += len;
    }
    width = ndict <= 256 ? 1 : ndict <= 65536 ? 2 : 4;
    if ((rc = need(r, nrows * width, "symbol codes", err)) != SDB_OK)
        goto done;
    for (uint64_t row = 0; row < nrows; row++) {
        const uint8_t *s = r->p + row * width;
        uint32_t code = width == 1 ? s[0] : width == 2 ? sdb_get_le16(s) : sdb_get_le32(s);
        if (!sdb_column_valid(c, row)) {
            c->v.code[row] = 0;
            continue;
        }
        if (code >= ndict) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT,
                          "batch: column '%s' row %llu: symbol code %u "
                          "outside a dictionary of %u",
                          col, (unsigned long long)row, code, ndict);
            goto done;
        }
        c->v.code[row] = remap[code];
    }
    r->p += nrows * width;
done:
    free(remap);
    return rc;
}

static sdb_rc get_strings(reader *r, sdb_column *c, uint64_t nrows, const char *col, sdb_err *err)
{
    uint64_t total, sum = 0;
    const uint8_t *lens;
    SDB_TRY(get_u64(r, "string byte count", &total, err));
    SDB_TRY(need(r, nrows * 4, "string lengths", err));
    lens = r->p;
    r->p += nrows * 4;
    SDB_TRY(need(r, total, "string bytes", err));
    c->v.off[0] = 0;
    for (uint64_t row = 0; row < nrows; row++) {
        uint32_t len = sdb_get_le32(lens + row * 4);
        if (len > 0 && !sdb_column_valid(c, row))
            return SDB_FAIL(err, SDB_ERR_CORRUPT,
                            "batch: column '%s' row %llu: NULL string "
                            "with %u bytes",
                            col, (unsigned long long)row, len);
        sum += len;
        if (sum > total)
            return SDB_FAIL(err, SDB_ERR_CORRUPT,
                            "batch: column '%s': string lengths exceed "
                            "the %llu bytes stored",
                            col, (unsigned long long)total);
        c->v.off[row + 1] = sum;
    }
    if (sum != total)
        return SDB_FAIL(err, SDB_ERR_CORRUPT,
                        "batch: column '%s': string lengths add up to %llu, "
                        "not %llu",
                        col, (unsigned long long)sum, (unsigned long long)total);
    if (total > 0) {
        if ((c->bytes = malloc((size_t)total)) == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %llu bytes of strings",
                            (unsigned long long)total);
        memcpy(c->bytes, r->p, (size_t)total);
        c->bytes_cap = total;
    }
    c->nbytes = total;
    r->p += total;
    return SDB_OK;
}

static sdb_rc get_column(reader *r, sdb_batch *b, uint32_t i, sdb_err *err)
{
    const char *name = NULL;
    uint32_t nlen;
    uint8_t type, flags;
    const uint8_t *bits = NULL;
    uint64_t nrows = b->nrows, bitbytes = (nrows + 7) / 8;
    int idx;
    sdb_column *c;
    sdb_rc rc;
    SDB_TRY(get_name(r, "column name", SDB_NAME_MAX, &name, &nlen, err));
    SDB_TRY(need(r, 2, "column type", err));
    type = r->p[0];
    flags = r->p[1];
    r->p += 2;
    if (!sdb_type_valid(type))
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: column %u '%.*s' has unknown type %u", i,
                        (int)nlen, name, type);
    if (flags & ~1u)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: column '%.*s' has unknown flags 0x%02x",
                        (int)nlen, name, flags);
    if (flags & 1) {
        SDB_TRY(need(r, bitbytes, "validity bitmap", err));
        bits = r->p;
        r->p += bitbytes;
    }
    /* values must be present before we allocate room for them */
    switch (type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64:
    case SDB_TYPE_FLOAT64: SDB_TRY(need(r, nrows * 8, "column values", err)); break;
    case SDB_TYPE_BOOL: SDB_TRY(need(r, bitbytes, "bool bitmap", err)); break;
    case SDB_TYPE_SYMBOL: SDB_TRY(need(r, 4 + nrows, "symbol column", err)); break;
    case SDB_TYPE_STRING: SDB_TRY(need(r, 8 + nrows * 4, "string column", err)); break;
    }
    /* b->nrows is 0 while columns are added, so sdb_batch_add allocates nothing per row */
    b->nrows = 0;
    rc = sdb_batch_add(b, name, nlen, (sdb_type)type, &idx, err);
    b->nrows = nrows;
    if (rc == SDB_ERR_EXISTS)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: column '%.*s' appears twice", (int)nlen,
                        name);
    SDB_TRY(rc);
    c = &b->cols[idx];
    SDB_TRY(sdb_column_reserve(c, nrows, err));
    set_validity(c, bits, nrows);
    c->n = nrows;
    switch (type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64:
    case SDB_TYPE_FLOAT64:
        if (nrows > 0)
            memcpy(c->v.raw, r->p, (size_t)nrows * 8);
        for (uint64_t row = 0; row < nrows; row++)
            if (!sdb_column_valid(c, row))
                memset((uint8_t *)c->v.raw + row * 8, 0, 8);
        r->p += nrows * 8;
        return SDB_OK;
    case SDB_TYPE_BOOL:
        for (uint64_t row = 0; row < nrows; row++)
            c->v.b8[row] = sdb_column_valid(c, row) ? (r->p[row / 8] >> (row & 7)) & 1 : 0;
        r->p += bitbytes;
        return SDB_OK;
    case SDB_TYPE_SYMBOL: return get_symbols(r, c, nrows, b->names[idx], err);
    case SDB_TYPE_STRING: return get_strings(r, c, nrows, b->names[idx], err);
    }
    return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: bad type");
}

sdb_rc sdb_batch_deserialize(const void *p, size_t n, sdb_batch *b, char **table, sdb_err *err)
{
    const uint8_t *in = p;
    uint32_t raw_len, stored_len, tlen = 0, ncols = 0;
    uint8_t *raw = NULL;
    const char *tname = NULL;
    reader r;
    sdb_rc rc;
    sdb_batch_init(b);
    *table = NULL;
    if (n < ENVELOPE_SIZE)
        return SDB_FAIL(err, SDB_ERR_CORRUPT,
                        "batch of %zu bytes is shorter than its %d-byte "
                        "header",
                        n, ENVELOPE_SIZE);
    if (sdb_get_le32(in) != BATCH_MAGIC)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: bad magic 0x%08x", sdb_get_le32(in));
    if (in[4] != BATCH_VERSION)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: unsupported version %u", in[4]);
    raw_len = sdb_get_le32(in + 8);
    stored_len = sdb_get_le32(in + 12);
    if (stored_len != n - ENVELOPE_SIZE)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: header says %u body bytes, %zu present",
                        stored_len, n - ENVELOPE_SIZE);
    if (raw_len > SDB_BATCH_IO_MAX)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: body of %u bytes is larger than %u", raw_len,
                        SDB_BATCH_IO_MAX);
    if (in[5] == SDB_CODEC_NONE) {
        if (raw_len != stored_len)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: raw body of %u bytes stored in %u",
                            raw_len, stored_len);
        r.p = in + ENVELOPE_SIZE;
    } else if (in[5] == SDB_CODEC_LZ4) {
        /* LZ4 expands at most ~255x: refuse to allocate for a claim it cannot meet */
        if ((uint64_t)raw_len > (uint64_t)stored_len * 255 + 64)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: %u lz4 bytes cannot hold %u raw bytes",
                            stored_len, raw_len);
        if ((raw = malloc(raw_len ? raw_len : 1)) == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a batch of %u bytes", raw_len);
        rc = sdb_codec_decompress(NULL, SDB_CODEC_LZ4, in + ENVELOPE_SIZE, stored_len, raw, raw_len,
                                  err);
        if (rc != SDB_OK) {
            free(raw);
            sdb_err_prefix(err, "batch: ");
            return rc;
        }
        r.p = raw;
    } else {
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: unknown codec %u", in[5]);
    }
    r.base = r.p;
    r.end = r.p + raw_len;
    rc = get_name(&r, "table name", SDB_TABLE_NAME_MAX, &tname, &tlen, err);
    if (rc == SDB_OK)
        rc = get_u64(&r, "row count", &b->nrows, err);
    if (rc == SDB_OK && b->nrows > SDB_BATCH_IO_MAX_ROWS)
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: %llu rows, more than %llu",
                      (unsigned long long)b->nrows, SDB_BATCH_IO_MAX_ROWS);
    if (rc == SDB_OK)
        rc = get_u32(&r, "column count", &ncols, err);
    if (rc == SDB_OK && ncols > SDB_BATCH_IO_MAX_COLS)
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: %u columns, more than %u", ncols,
                      SDB_BATCH_IO_MAX_COLS);
    for (uint32_t i = 0; i < ncols && rc == SDB_OK; i++)
        rc = get_column(&r, b, i, err);
    if (rc == SDB_OK && r.p != r.end)
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "batch: %zu stray bytes after the last column",
                      left(&r));
    if (rc == SDB_OK) {
        if ((*table = malloc((size_t)tlen + 1)) == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a table name");
        } else {
            memcpy(*table, tname, tlen);
            (*table)[tlen] = '\0';
        }
    }
    free(raw);
    return rc;
}
