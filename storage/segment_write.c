/* Segment writer: encodes a batch column by column, block by block, into one file.
 *
 * The file is written under "<path>.tmp" through a 1 MiB buffer, fsynced, renamed to path
 * and the directory fsynced, so a crash leaves either no segment or a whole one. Columns
 * are written one after the other (column-major) and each column's footer entries are
 * appended to the in-memory footer as its blocks are done; the footer goes last. */
#include "storage/segment.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/bloom.h"
#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/encoding.h"
#include "storage/fileio.h"
#include "storage/segment_format.h"

#define WRITE_BUF (1u << 20)

typedef struct dict_entry {
    const char *s;
    uint32_t len;
    uint32_t code; /* batch code */
} dict_entry;

typedef struct writer {
    const sdb_batch *batch;
    const uint32_t *perm;
    sdb_seg_opts opts;
    uint32_t block_rows;
    uint32_t nblocks;
    char tmp[PATH_MAX];
    int fd;
    uint64_t pos;          /* bytes written to the file so far, buffered included */
    sdb_buf out;           /* write buffer */
    sdb_buf footer;
    sdb_buf payload;       /* one block before the codec */
    sdb_buf enc;           /* encoded values of one block */
    sdb_buf stored;        /* one block after the codec */
    sdb_codec_ctx *codec;
    void *vals;            /* block_rows values of the widest fixed type */
    uint64_t *soff;        /* block_rows + 1 string offsets into sbytes */
    sdb_buf sbytes;        /* string values of one block */
    uint8_t *validity;     /* bitmap bytes of one block */
    uint32_t *remap;       /* symbol: batch code -> segment code */
    uint64_t *hashset;     /* distinct-counting scratch for filters */
    size_t hashset_cap;
    uint8_t *seen;         /* symbol: per-code marks for distinct counting */
    uint32_t nseen;        /* symbol: codes in the segment dictionary */
    dict_entry *ents;   /* symbol: the segment dictionary, by segment code */
} writer;

void sdb_seg_opts_default(sdb_seg_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->codec = SDB_CODEC_LZ4;
    opts->str_codec = SDB_CODEC_ZSTD;
    opts->block_rows = SDB_BLOCK_ROWS;
    opts->bloom_bits = SDB_BLOOM_DEFAULT_BITS;
    opts->bloom_min_distinct = 1024;
}

static sdb_rc flush_out(writer *w, sdb_err *err)
{
    SDB_TRY(sdb_file_pwrite_all(w->fd, w->tmp, w->out.data, w->out.len, w->pos - w->out.len, err));
    w->out.len = 0;
    return SDB_OK;
}

static sdb_rc put(writer *w, const void *p, size_t n, sdb_err *err)
{
    if (w->out.len + n > WRITE_BUF) {
        SDB_TRY(flush_out(w, err));
        if (n > WRITE_BUF) {
            SDB_TRY(sdb_file_pwrite_all(w->fd, w->tmp, p, n, w->pos, err));
            w->pos += n;
            return SDB_OK;
        }
    }
    SDB_TRY(sdb_buf_append(&w->out, p, n, err));
    w->pos += n;
    return SDB_OK;
}

static inline uint32_t src_row(const writer *w, uint64_t r)
{
    return w->perm ? w->perm[r] : (uint32_t)r;
}

/* Compress the payload, write it, and append its BLOCKREF to the footer. */
static sdb_rc emit_block(writer *w, const uint8_t *raw, size_t rawlen, uint8_t enc, sdb_codec codec,
                         int level, sdb_err *err)
{
    const uint8_t *st = raw;
    size_t stlen = rawlen;
    uint8_t used = SDB_CODEC_NONE;
    uint64_t off = w->pos;
    if (rawlen > SDB_SEG_MAX_RAW_BLOCK)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: block of %zu bytes exceeds %llu", w->tmp, rawlen,
                        (unsigned long long)SDB_SEG_MAX_RAW_BLOCK);
    if (codec != SDB_CODEC_NONE && rawlen >= 64) {
        w->stored.len = 0;
        SDB_TRY(sdb_codec_compress(w->codec, codec, level, raw, rawlen, &w->stored, err));
        /* keep the codec only when it saves at least 1/16: otherwise decoding pays for nothing */
        if (w->stored.len < rawlen - rawlen / 16) {
            st = w->stored.data;
            stlen = w->stored.len;
            used = (uint8_t)codec;
        }
    }
    SDB_TRY(put(w, st, stlen, err));
    SDB_TRY(sdb_buf_put_le64(&w->footer, off, err));
    SDB_TRY(sdb_buf_put_le64(&w->footer, stlen, err));
    SDB_TRY(sdb_buf_put_le64(&w->footer, rawlen, err));
    SDB_TRY(sdb_buf_put_u8(&w->footer, enc, err));
    SDB_TRY(sdb_buf_put_u8(&w->footer, used, err));
    SDB_TRY(sdb_buf_put_le64(&w->footer, sdb_hash64(st, stlen), err));
    return SDB_OK;
}

static int cmp_dict_entry(const void *a, const void *b)
{
    const dict_entry *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* The segment dictionary of a symbol column: the values its rows use, sorted, written as
 * PLAIN (count lengths of 4 bytes, then the bytes) under the string codec. */
static sdb_rc write_dict(writer *w, const sdb_column *c, sdb_err *err)
{
    uint32_t nd = sdb_symdict_count(c->dict), count = 0;
    dict_entry *ents = NULL;
    sdb_rc rc = SDB_OK;
    free(w->remap);
    w->nseen = 0;
    w->remap = calloc(nd ? nd : 1, sizeof *w->remap);
    uint8_t *used = calloc(nd ? nd : 1, 1);
    if (w->remap == NULL || used == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a dictionary of %u symbols", nd);
        goto out;
    }
    for (uint64_t r = 0; r < w->batch->nrows; r++) {
        uint32_t s = src_row(w, r);
        if (sdb_column_valid(c, s))
            used[c->v.code[s]] = 1;
    }
    for (uint32_t i = 0; i < nd; i++)
        count += used[i];
    ents = malloc((count ? count : 1) * sizeof *ents);
    if (ents == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a dictionary of %u symbols", count);
        goto out;
    }
    count = 0;
    for (uint32_t i = 0; i < nd; i++)
        if (used[i]) {
            ents[count].s = sdb_symdict_get(c->dict, i, &ents[count].len);
            ents[count].code = i;
            count++;
        }
    qsort(ents, count, sizeof *ents, cmp_dict_entry);
    w->payload.len = 0;
    for (uint32_t i = 0; i < count; i++) {
        w->remap[ents[i].code] = i;
        if ((rc = sdb_buf_put_le32(&w->payload, ents[i].len, err)) != SDB_OK)
            goto out;
    }
    for (uint32_t i = 0; i < count; i++)
        if ((rc = sdb_buf_append(&w->payload, ents[i].s, ents[i].len, err)) != SDB_OK)
            goto out;
    rc = emit_block(w, w->payload.data, w->payload.len, SDB_ENC_PLAIN, w->opts.str_codec,
                    w->opts.str_level, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le32(&w->footer, count, err);
    w->nseen = count;
    free(w->seen);
    w->seen = malloc(count ? count : 1);
    if (w->seen == NULL && rc == SDB_OK)
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a dictionary of %u symbols", count);
out:
    free(used);
    free(w->ents);
    w->ents = ents;
    return rc;
}

/* Count distinct 64-bit hashes with an open-addressing set sized for n keys. */
static sdb_rc count_distinct_hashes(writer *w, const uint64_t *h, uint32_t n, uint32_t *out,
                                    sdb_err *err)
{
    size_t cap = 16;
    uint32_t d = 0;
    while (cap < (size_t)n * 2)
        cap *= 2;
    if (cap > w->hashset_cap) {
        free(w->hashset);
        w->hashset = malloc(cap * sizeof *w->hashset);
        if (w->hashset == NULL) {
            w->hashset_cap = 0;
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a filter");
        }
        w->hashset_cap = cap;
    }
    /* 0 marks an empty slot; a real hash of 0 is mapped to 1 (costs nothing but a tiny bias) */
    memset(w->hashset, 0, cap * sizeof *w->hashset);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = h[i] ? h[i] : 1;
        size_t j = (size_t)sdb_hash_u64(x) & (cap - 1);
        while (w->hashset[j] != 0 && w->hashset[j] != x)
            j = (j + 1) & (cap - 1);
        if (w->hashset[j] == 0) {
            w->hashset[j] = x;
            d++;
        }
    }
    *out = d;
    return SDB_OK;
}

/* Build the filter of one block of string values (hashes of present values) and append it
 * to the footer as length + bytes. */
static sdb_rc put_filter(writer *w, uint64_t *hashes, uint32_t nh, sdb_err *err)
{
    uint32_t distinct = 0;
    size_t len;
    SDB_TRY(count_distinct_hashes(w, hashes, nh, &distinct, err));
    len = sdb_bloom_size(distinct, w->opts.bloom_bits);
    if (len > SDB_SEG_MAX_FILTER)
        len = SDB_SEG_MAX_FILTER;
    SDB_TRY(sdb_buf_put_le32(&w->footer, (uint32_t)len, err));
    SDB_TRY(sdb_buf_reserve(&w->footer, len, err));
    uint8_t *f = w->footer.data + w->footer.len;
    memset(f, 0, len);
    for (uint32_t i = 0; i < nh; i++)
        sdb_bloom_add(f, len, hashes[i]);
    w->footer.len += len;
    return SDB_OK;
}

static void stat_put(writer *w, sdb_type t, const sdb_seg_stat *mn, const sdb_seg_stat *mx,
                     sdb_err *err, sdb_rc *rc)
{
    uint64_t a = 0, b = 0;
    switch (t) {
    case SDB_TYPE_FLOAT64:
        memcpy(&a, &mn->f, 8);
        memcpy(&b, &mx->f, 8);
        break;
    case SDB_TYPE_SYMBOL:
        a = mn->code;
        b = mx->code;
        break;
    default:
        a = (uint64_t)mn->i;
        b = (uint64_t)mx->i;
        break;
    }
    if (*rc == SDB_OK)
        *rc = sdb_buf_put_le64(&w->footer, a, err);
    if (*rc == SDB_OK)
        *rc = sdb_buf_put_le64(&w->footer, b, err);
}

/* Gather, encode and write block b of column c; append its footer entry. */
static sdb_rc write_block(writer *w, const sdb_column *c, uint32_t b, bool filter, sdb_err *err)
{
    uint64_t first = (uint64_t)b * w->block_rows;
    uint32_t rows = (uint32_t)((w->batch->nrows - first) < w->block_rows
                                   ? w->batch->nrows - first
                                   : w->block_rows);
    uint32_t nulls = 0, first_valid = UINT32_MAX;
    uint8_t enc = SDB_ENC_PLAIN;
    sdb_seg_stat mn, mx;
    sdb_codec codec = w->opts.codec;
    int level = w->opts.level;
    uint64_t *hashes = NULL;
    uint32_t nh = 0;
    sdb_rc rc = SDB_OK;

    memset(&mn, 0, sizeof mn);
    memset(&mx, 0, sizeof mx);
    memset(w->validity, 0, (rows + 7) / 8);
    for (uint32_t i = 0; i < rows; i++) {
        uint32_t s = src_row(w, first + i);
        if (sdb_column_valid(c, s)) {
            w->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
            if (first_valid == UINT32_MAX)
                first_valid = i;
        } else {
            nulls++;
        }
    }

    w->enc.len = 0;
    switch (c->type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64: {
        int64_t *v = w->vals, last = first_valid != UINT32_MAX ? c->v.i64[src_row(w, first + first_valid)] : 0;
        mn.i = INT64_MAX;
        mx.i = INT64_MIN;
        for (uint32_t i = 0; i < rows; i++) {
            uint32_t s = src_row(w, first + i);
            if (sdb_column_valid(c, s)) {
                last = c->v.i64[s];
                if (last < mn.i)
                    mn.i = last;
                if (last > mx.i)
                    mx.i = last;
            }
            v[i] = last;
        }
        if (nulls < rows)
            rc = sdb_enc_i64(v, rows, &w->enc, &enc, err);
        break;
    }
    case SDB_TYPE_FLOAT64: {
        double *v = w->vals, last = first_valid != UINT32_MAX ? c->v.f64[src_row(w, first + first_valid)] : 0;
        mn.f = INFINITY;
        mx.f = -INFINITY;
        for (uint32_t i = 0; i < rows; i++) {
            uint32_t s = src_row(w, first + i);
            if (sdb_column_valid(c, s)) {
                last = c->v.f64[s];
                if (last < mn.f)
                    mn.f = last;
                if (last > mx.f)
                    mx.f = last;
            }
            v[i] = last;
        }
        if (nulls < rows)
            rc = sdb_enc_f64(v, rows, &w->enc, &enc, err);
        break;
    }
    case SDB_TYPE_BOOL: {
        uint8_t *v = w->vals, last = first_valid != UINT32_MAX ? c->v.b8[src_row(w, first + first_valid)] : 0;
        mn.i = 1;
        mx.i = 0;
        for (uint32_t i = 0; i < rows; i++) {
            uint32_t s = src_row(w, first + i);
            if (sdb_column_valid(c, s)) {
                last = c->v.b8[s] ? 1 : 0;
                if (last < mn.i)
                    mn.i = last;
                if (last > mx.i)
                    mx.i = last;
            }
            v[i] = last;
        }
        if (nulls < rows)
            rc = sdb_enc_bool(v, rows, &w->enc, &enc, err);
        break;
    }
    case SDB_TYPE_SYMBOL: {
        uint32_t *v = w->vals, distinct = 0;
        uint32_t last = first_valid != UINT32_MAX ? w->remap[c->v.code[src_row(w, first + first_valid)]] : 0;
        mn.code = UINT32_MAX;
        mx.code = 0;
        memset(w->seen, 0, w->nseen ? w->nseen : 1);
        for (uint32_t i = 0; i < rows; i++) {
            uint32_t s = src_row(w, first + i);
            if (sdb_column_valid(c, s)) {
                last = w->remap[c->v.code[s]];
                if (last < mn.code)
                    mn.code = last;
                if (last > mx.code)
                    mx.code = last;
                distinct += !w->seen[last];
                w->seen[last] = 1;
            }
            v[i] = last;
        }
        if (nulls < rows)
            rc = sdb_enc_code(v, rows, w->nseen, &w->enc, &enc, err);
        if (rc == SDB_OK && filter && distinct >= w->opts.bloom_min_distinct) {
            /* the filter hashes the strings, so a lookup needs no dictionary */
            hashes = malloc((size_t)distinct * sizeof *hashes);
            if (hashes == NULL)
                return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a filter");
            for (uint32_t code = 0; code < w->nseen; code++)
                if (w->seen[code])
                    hashes[nh++] = sdb_bloom_hash(w->ents[code].s, w->ents[code].len);
        }
        if (mn.code > mx.code)
            mn.code = mx.code = 0;
        break;
    }
    case SDB_TYPE_STRING: {
        codec = w->opts.str_codec;
        level = w->opts.str_level;
        w->sbytes.len = 0;
        w->soff[0] = 0;
        if (filter) {
            hashes = malloc((size_t)(rows ? rows : 1) * sizeof *hashes);
            if (hashes == NULL)
                return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a filter");
        }
        for (uint32_t i = 0; i < rows; i++) {
            uint32_t s = src_row(w, first + i), len = 0;
            const char *str = "";
            if (sdb_column_valid(c, s)) {
                str = sdb_column_str(c, s, &len);
                if (hashes != NULL)
                    hashes[nh++] = sdb_bloom_hash(str, len);
            }
            if ((rc = sdb_buf_append(&w->sbytes, str, len, err)) != SDB_OK)
                break;
            w->soff[i + 1] = w->sbytes.len;
        }
        if (rc == SDB_OK && nulls < rows)
            rc = sdb_enc_str(w->soff, (const char *)w->sbytes.data, rows, &w->enc, &enc, err);
        break;
    }
    }
    if (rc != SDB_OK)
        goto out;
    w->payload.len = 0;
    if (nulls > 0 && nulls < rows)
        rc = sdb_buf_append(&w->payload, w->validity, (rows + 7) / 8, err);
    if (rc == SDB_OK && nulls < rows)
        rc = sdb_buf_append(&w->payload, w->enc.data, w->enc.len, err);
    if (rc == SDB_OK)
        rc = emit_block(w, w->payload.data, w->payload.len, enc, codec, level, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le32(&w->footer, rows, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le32(&w->footer, nulls, err);
    if (nulls == rows) {
        memset(&mn, 0, sizeof mn);
        memset(&mx, 0, sizeof mx);
    }
    stat_put(w, c->type, &mn, &mx, err, &rc);
    if (rc == SDB_OK && filter) {
        if (hashes != NULL)
            rc = put_filter(w, hashes, nh, err);
        else
            rc = sdb_buf_put_le32(&w->footer, 0, err);
    }
out:
    free(hashes);
    return rc;
}

/* Lower block_rows until no string block exceeds the raw block limit (with room for the
 * encoding's own lengths). Matters only for columns of very long strings. */
static void fit_block_rows(writer *w)
{
    const sdb_batch *b = w->batch;
    uint64_t total = 0;
    /* the common case: all the strings of a column together fit one block */
    for (uint32_t ci = 0; ci < b->ncols; ci++)
        if (b->cols[ci].type == SDB_TYPE_STRING)
            total += b->cols[ci].nbytes + 16 * b->nrows;
    if (total <= SDB_SEG_MAX_RAW_BLOCK / 2)
        return;
    for (;;) {
        bool fits = true;
        for (uint32_t ci = 0; ci < b->ncols && fits; ci++) {
            const sdb_column *c = &b->cols[ci];
            if (c->type != SDB_TYPE_STRING)
                continue;
            for (uint64_t first = 0; first < b->nrows && fits; first += w->block_rows) {
                uint64_t acc = 0, end = first + w->block_rows < b->nrows ? first + w->block_rows
                                                                         : b->nrows;
                for (uint64_t r = first; r < end; r++) {
                    uint32_t s = src_row(w, r);
                    acc += c->v.off[s + 1] - c->v.off[s] + 16;
                }
                fits = acc <= SDB_SEG_MAX_RAW_BLOCK / 2;
            }
        }
        if (fits || w->block_rows == 1)
            return;
        w->block_rows /= 2;
    }
}

static sdb_rc write_column(writer *w, uint32_t ci, sdb_err *err)
{
    const sdb_column *c = &w->batch->cols[ci];
    const char *name = w->batch->names[ci];
    size_t nlen = strlen(name);
    bool filter = c->type == SDB_TYPE_STRING || c->type == SDB_TYPE_SYMBOL;
    if (nlen == 0 || nlen > SDB_NAME_MAX || nlen > UINT16_MAX)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: column %u has a name of %zu bytes", w->tmp, ci,
                        nlen);
    if (c->n != w->batch->nrows)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: column '%s' has %llu rows, the batch %llu",
                        w->tmp, name, (unsigned long long)c->n,
                        (unsigned long long)w->batch->nrows);
    SDB_TRY(sdb_buf_put_le16(&w->footer, (uint16_t)nlen, err));
    SDB_TRY(sdb_buf_append(&w->footer, name, nlen, err));
    SDB_TRY(sdb_buf_put_u8(&w->footer, (uint8_t)c->type, err));
    SDB_TRY(sdb_buf_put_u8(&w->footer, filter ? 1 : 0, err));
    SDB_TRY(sdb_buf_put_le16(&w->footer, 0, err));
    if (c->type == SDB_TYPE_SYMBOL)
        SDB_TRY(write_dict(w, c, err));
    for (uint32_t b = 0; b < w->nblocks; b++) {
        sdb_rc rc = write_block(w, c, b, filter, err);
        if (rc != SDB_OK) {
            sdb_err_prefix(err, "column '%s' block %u: ", name, b);
            return rc;
        }
    }
    return SDB_OK;
}

static sdb_rc fsync_dir_of(const char *path, sdb_err *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return sdb_file_sync_dir(dir, err);
}

static void writer_free(writer *w)
{
    sdb_buf_free(&w->out);
    sdb_buf_free(&w->footer);
    sdb_buf_free(&w->payload);
    sdb_buf_free(&w->enc);
    sdb_buf_free(&w->stored);
    sdb_buf_free(&w->sbytes);
    sdb_codec_ctx_destroy(w->codec);
    free(w->vals);
    free(w->soff);
    free(w->validity);
    free(w->remap);
    free(w->hashset);
    free(w->seen);
    free(w->ents);
}

sdb_rc sdb_seg_write(const char *path, const sdb_batch *batch, const uint32_t *perm,
                     const sdb_seg_opts *opts, sdb_seg_write_stats *stats, sdb_err *err)
{
    writer w;
    sdb_rc rc = SDB_OK;
    uint8_t hdr[SDB_SEG_HEADER_SIZE], trailer[SDB_SEG_TRAILER_SIZE];
    memset(&w, 0, sizeof w);
    w.fd = -1;
    if (opts != NULL)
        w.opts = *opts;
    else
        sdb_seg_opts_default(&w.opts);
    if (w.opts.block_rows == 0 || w.opts.block_rows > SDB_BLOCK_ROWS)
        w.opts.block_rows = SDB_BLOCK_ROWS;
    if (w.opts.bloom_bits == 0)
        w.opts.bloom_bits = SDB_BLOOM_DEFAULT_BITS;
    if (w.opts.bloom_min_distinct == 0)
        w.opts.bloom_min_distinct = 1024;
    if (batch->nrows == 0 || batch->ncols == 0)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: a segment needs rows and columns", path);
    if (batch->ncols > SDB_SEG_MAX_COLS)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: %u columns, more than the %u a segment holds",
                        path, batch->ncols, SDB_SEG_MAX_COLS);
    if (batch->nrows > UINT32_MAX)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: %llu rows, more than a segment holds", path,
                        (unsigned long long)batch->nrows);
    if (w.opts.meta_len > SDB_SEG_MAX_META)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: %zu bytes of metadata, more than %u", path,
                        w.opts.meta_len, SDB_SEG_MAX_META);
    if ((size_t)snprintf(w.tmp, sizeof w.tmp, "%s.tmp", path) >= sizeof w.tmp)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: path too long", path);
    w.batch = batch;
    w.perm = perm;
    w.block_rows = w.opts.block_rows;
    fit_block_rows(&w);
    w.nblocks = (uint32_t)((batch->nrows + w.block_rows - 1) / w.block_rows);

    w.codec = sdb_codec_ctx_create();
    w.vals = malloc((size_t)w.block_rows * 8);
    w.soff = malloc(((size_t)w.block_rows + 1) * sizeof *w.soff);
    w.validity = malloc((w.block_rows + 7) / 8);
    if (w.codec == NULL || w.vals == NULL || w.soff == NULL || w.validity == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for the writer", path);
        goto fail;
    }
    if ((rc = sdb_file_open(w.tmp, SDB_OPEN_RDWR | SDB_OPEN_CREATE | SDB_OPEN_TRUNC, &w.fd, err)) != SDB_OK)
        goto fail;
    memcpy(hdr, SDB_SEG_MAGIC, SDB_SEG_MAGIC_LEN);
    sdb_put_le16(hdr + 8, SDB_SEG_VERSION_MAJOR);
    sdb_put_le16(hdr + 10, SDB_SEG_VERSION_MINOR);
    sdb_put_le32(hdr + 12, 0);
    if ((rc = put(&w, hdr, sizeof hdr, err)) != SDB_OK)
        goto fail;

    if ((rc = sdb_buf_put_le32(&w.footer, batch->ncols, err)) != SDB_OK ||
        (rc = sdb_buf_put_le64(&w.footer, batch->nrows, err)) != SDB_OK ||
        (rc = sdb_buf_put_le32(&w.footer, w.block_rows, err)) != SDB_OK ||
        (rc = sdb_buf_put_le32(&w.footer, w.nblocks, err)) != SDB_OK ||
        (rc = sdb_buf_put_le32(&w.footer, (uint32_t)w.opts.meta_len, err)) != SDB_OK ||
        (rc = sdb_buf_append(&w.footer, w.opts.meta, w.opts.meta_len, err)) != SDB_OK)
        goto fail;
    for (uint32_t ci = 0; ci < batch->ncols; ci++)
        if ((rc = write_column(&w, ci, err)) != SDB_OK) {
            sdb_err_prefix(err, "%s: ", path);
            goto fail;
        }
    memcpy(trailer + 16, SDB_SEG_MAGIC, SDB_SEG_MAGIC_LEN);
    sdb_put_le64(trailer, w.footer.len);
    sdb_put_le64(trailer + 8, sdb_hash64(w.footer.data, w.footer.len));
    if ((rc = put(&w, w.footer.data, w.footer.len, err)) != SDB_OK ||
        (rc = put(&w, trailer, sizeof trailer, err)) != SDB_OK ||
        (rc = flush_out(&w, err)) != SDB_OK)
        goto fail;
    if (!w.opts.no_sync && (rc = sdb_file_sync(w.fd, w.tmp, err)) != SDB_OK)
        goto fail;
    rc = sdb_file_close(w.fd, w.tmp, err);
    w.fd = -1;
    if (rc != SDB_OK || (rc = sdb_file_rename(w.tmp, path, err)) != SDB_OK)
        goto fail;
    if (!w.opts.no_sync && (rc = fsync_dir_of(path, err)) != SDB_OK)
        goto fail_published;
    if (stats != NULL) {
        stats->rows = batch->nrows;
        stats->bytes = w.pos;
    }
    writer_free(&w);
    return SDB_OK;
fail:
    if (w.fd >= 0)
        sdb_file_close(w.fd, w.tmp, NULL);
    sdb_file_unlink(w.tmp, true, NULL);
fail_published:
    writer_free(&w);
    return rc;
}
