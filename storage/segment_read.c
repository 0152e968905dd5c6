/* Segment reader: maps a segment file, validates everything the footer says against the
 * file before anything is trusted, and decodes blocks on request.
 *
 * Validation order at open: size >= header + trailer; both magics; version; footer length
 * within the file; footer checksum; then every field of the footer with a bounds-checked
 * cursor (counts before allocations, block references inside the data region, row counts
 * adding up, encodings and codecs known). Dictionaries are checked and decoded at open.
 * Blocks are checked against their checksum each time they are read. */
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/bloom.h"
#include "storage/common/cursor.h"
#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/encoding.h"
#include "storage/segment_format.h"

struct sdb_seg {
    char *path;
    int fd;
    const uint8_t *map;  /* the whole file, read-only */
    uint64_t size;
    uint64_t data_end;   /* start of the footer: blocks lie in [HEADER, data_end) */
    uint64_t nrows;
    uint32_t block_rows;
    uint32_t nblocks;
    uint32_t ncols;
    sdb_seg_col *cols;
    const char *meta;
    size_t meta_len;
    char **dict_mem;     /* per column: decoded dictionary allocation, or NULL */
};

#define CORRUPT(s, ...) SDB_FAIL(err, SDB_ERR_CORRUPT, __VA_ARGS__)

static sdb_rc read_ref(sdb_seg *s, sdb_cursor *c, sdb_seg_blockref *r, const char *col, uint32_t blk,
                       sdb_err *err)
{
    r->offset = sdb_cur_u64(c);
    r->stored = sdb_cur_u64(c);
    r->raw = sdb_cur_u64(c);
    r->enc = sdb_cur_u8(c);
    r->codec = sdb_cur_u8(c);
    r->checksum = sdb_cur_u64(c);
    if (c->bad)
        return CORRUPT(s, "%s: footer ends inside column '%s' block %u", s->path, col, blk);
    if (r->offset < SDB_SEG_HEADER_SIZE || r->offset > s->data_end ||
        r->stored > s->data_end - r->offset)
        return CORRUPT(s, "%s: column '%s' block %u lies outside the data region (offset %llu, %llu bytes)",
                       s->path, col, blk, (unsigned long long)r->offset,
                       (unsigned long long)r->stored);
    if (r->raw > SDB_SEG_MAX_RAW_BLOCK)
        return CORRUPT(s, "%s: column '%s' block %u: raw size %llu exceeds the limit", s->path, col,
                       blk, (unsigned long long)r->raw);
    if (r->enc >= SDB_ENC__COUNT)
        return CORRUPT(s, "%s: column '%s' block %u: unknown encoding %u", s->path, col, blk, r->enc);
    if (r->codec > SDB_CODEC_ZSTD)
        return CORRUPT(s, "%s: column '%s' block %u: unknown codec %u", s->path, col, blk, r->codec);
    if (r->codec == SDB_CODEC_NONE && r->raw != r->stored)
        return CORRUPT(s, "%s: column '%s' block %u: uncompressed block with raw size %llu but %llu stored",
                       s->path, col, blk, (unsigned long long)r->raw, (unsigned long long)r->stored);
    return SDB_OK;
}

static bool check_sum(const sdb_seg *s, const sdb_seg_blockref *r)
{
    return sdb_hash64(s->map + r->offset, (size_t)r->stored) == r->checksum;
}

/* Bytes of raw payload a block of `rows` values of a fixed-width type can need at most:
 * validity, then the worst of the encodings (plain, or FOR plus exceptions). */
static uint64_t max_raw_fixed(uint32_t rows)
{
    return (uint64_t)rows * 17 + (rows + 7) / 8 + 4096;
}

static sdb_rc load_dict(sdb_seg *s, uint32_t ci, sdb_codec_ctx *ctx, sdb_err *err)
{
    sdb_seg_col *c = &s->cols[ci];
    const sdb_seg_blockref *r = &c->dict_ref;
    uint64_t n = c->dict_count, need, total = 0;
    char *mem;
    uint64_t *off;
    const uint8_t *raw;
    if (r->enc != SDB_ENC_PLAIN)
        return CORRUPT(s, "%s: column '%s': dictionary encoding %u is not plain", s->path, c->name,
                       r->enc);
    if (n > r->raw / 4)
        return CORRUPT(s, "%s: column '%s': dictionary of %llu entries in %llu bytes", s->path,
                       c->name, (unsigned long long)n, (unsigned long long)r->raw);
    if (!check_sum(s, r))
        return CORRUPT(s, "%s: column '%s' dictionary: checksum mismatch", s->path, c->name);
    if (!sdb_codec_size_plausible(r->codec, s->map + r->offset, (size_t)r->stored, (size_t)r->raw))
        return CORRUPT(s, "%s: column '%s' dictionary: %llu stored bytes cannot hold %llu raw bytes",
                       s->path, c->name, (unsigned long long)r->stored, (unsigned long long)r->raw);
    need = (n + 1) * sizeof(uint64_t) + r->raw;
    mem = malloc((size_t)need + 1);
    if (mem == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for the dictionary of '%s'", s->path,
                        c->name);
    s->dict_mem[ci] = mem;
    off = (uint64_t *)(void *)mem;
    raw = (const uint8_t *)(off + n + 1);
    if (r->codec == SDB_CODEC_NONE) {
        memcpy(off + n + 1, s->map + r->offset, (size_t)r->raw);
    } else {
        sdb_err e2;
        if (sdb_codec_decompress(ctx, r->codec, s->map + r->offset, (size_t)r->stored,
                                 off + n + 1, (size_t)r->raw, &e2) != SDB_OK)
            return CORRUPT(s, "%s: column '%s' dictionary: %s", s->path, c->name, e2.msg);
    }
    /* lengths first, then the bytes; rewrite lengths into offsets in place from the end of
     * the offsets array, which does not overlap the lengths */
    {
        uint64_t *tmp = malloc((size_t)(n + 1) * sizeof *tmp);
        if (tmp == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for the dictionary of '%s'",
                            s->path, c->name);
        tmp[0] = 0;
        for (uint64_t i = 0; i < n; i++) {
            total += sdb_get_le32(raw + 4 * i);
            tmp[i + 1] = total;
        }
        if (total != r->raw - 4 * n) {
            free(tmp);
            return CORRUPT(s, "%s: column '%s' dictionary: lengths add up to %llu, %llu bytes present",
                           s->path, c->name, (unsigned long long)total,
                           (unsigned long long)(r->raw - 4 * n));
        }
        memcpy(off, tmp, (size_t)(n + 1) * sizeof *tmp);
        free(tmp);
    }
    c->dict_off = off;
    c->dict_bytes = (const char *)raw + 4 * n;
    for (uint64_t i = 1; i < n; i++) {
        uint64_t la = off[i] - off[i - 1], lb = off[i + 1] - off[i];
        uint64_t m = la < lb ? la : lb;
        int cmp = m ? memcmp(c->dict_bytes + off[i - 1], c->dict_bytes + off[i], (size_t)m) : 0;
        if (cmp > 0 || (cmp == 0 && la >= lb))
            return CORRUPT(s, "%s: column '%s' dictionary is not sorted at entry %llu", s->path,
                           c->name, (unsigned long long)i);
    }
    return SDB_OK;
}

static sdb_rc parse_footer(sdb_seg *s, const uint8_t *f, uint64_t flen, sdb_err *err)
{
    sdb_cursor c = sdb_cursor_make(f, (size_t)flen);
    sdb_codec_ctx *ctx = NULL;
    sdb_rc rc = SDB_OK;
    uint32_t meta_len;
    s->ncols = sdb_cur_u32(&c);
    s->nrows = sdb_cur_u64(&c);
    s->block_rows = sdb_cur_u32(&c);
    s->nblocks = sdb_cur_u32(&c);
    meta_len = sdb_cur_u32(&c);
    if (c.bad)
        return CORRUPT(s, "%s: footer too short", s->path);
    if (s->ncols == 0 || s->ncols > SDB_SEG_MAX_COLS)
        return CORRUPT(s, "%s: footer claims %u columns", s->path, s->ncols);
    if (s->block_rows == 0 || s->block_rows > SDB_BLOCK_ROWS)
        return CORRUPT(s, "%s: footer claims %u rows per block", s->path, s->block_rows);
    if (s->nrows == 0 || s->nrows > UINT32_MAX ||
        s->nblocks != (s->nrows + s->block_rows - 1) / s->block_rows)
        return CORRUPT(s, "%s: footer claims %llu rows in %u blocks of %u", s->path,
                       (unsigned long long)s->nrows, s->nblocks, s->block_rows);
    if (meta_len > SDB_SEG_MAX_META || (s->meta = (const char *)sdb_cur_take(&c, meta_len)) == NULL)
        return CORRUPT(s, "%s: footer metadata of %u bytes does not fit", s->path, meta_len);
    s->meta_len = meta_len;
    /* every block entry takes at least 58 footer bytes: bound the allocation by what is there */
    if ((uint64_t)s->nblocks * s->ncols > flen / 58)
        return CORRUPT(s, "%s: footer of %llu bytes cannot describe %u columns of %u blocks",
                       s->path, (unsigned long long)flen, s->ncols, s->nblocks);
    s->cols = calloc(s->ncols, sizeof *s->cols);
    s->dict_mem = calloc(s->ncols, sizeof *s->dict_mem);
    ctx = sdb_codec_ctx_create();
    if (s->cols == NULL || s->dict_mem == NULL || ctx == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for %u columns", s->path, s->ncols);
        goto out;
    }
    for (uint32_t ci = 0; ci < s->ncols; ci++) {
        sdb_seg_col *col = &s->cols[ci];
        uint16_t nlen = sdb_cur_u16(&c);
        const uint8_t *name = sdb_cur_take(&c, nlen);
        uint8_t type = sdb_cur_u8(&c), flags = sdb_cur_u8(&c);
        uint16_t reserved = sdb_cur_u16(&c);
        char *copy;
        if (c.bad || nlen == 0) {
            rc = CORRUPT(s, "%s: footer ends inside column %u", s->path, ci);
            goto out;
        }
        copy = malloc((size_t)nlen + 1);
        if (copy == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory", s->path);
            goto out;
        }
        memcpy(copy, name, nlen);
        copy[nlen] = '\0';
        col->name = copy;
        if (memchr(copy, '\0', nlen) != NULL || !sdb_type_valid(type) || flags > 1 || reserved != 0) {
            rc = CORRUPT(s, "%s: column %u ('%s'): bad name, type %u or flags %u", s->path, ci, copy,
                         type, flags);
            goto out;
        }
        col->type = (sdb_type)type;
        col->has_filter = flags & 1;
        col->nblocks = s->nblocks;
        col->blocks = calloc(s->nblocks, sizeof *col->blocks);
        if (col->blocks == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory", s->path);
            goto out;
        }
        if (col->type == SDB_TYPE_SYMBOL) {
            if ((rc = read_ref(s, &c, &col->dict_ref, copy, UINT32_MAX, err)) != SDB_OK)
                goto out;
            col->dict_count = sdb_cur_u32(&c);
            if (c.bad) {
                rc = CORRUPT(s, "%s: footer ends inside the dictionary of '%s'", s->path, copy);
                goto out;
            }
            if ((rc = load_dict(s, ci, ctx, err)) != SDB_OK)
                goto out;
        }
        for (uint32_t b = 0; b < s->nblocks; b++) {
            sdb_seg_block *blk = &col->blocks[b];
            uint32_t want = b + 1 < s->nblocks ? s->block_rows
                                               : (uint32_t)(s->nrows - (uint64_t)b * s->block_rows);
            uint64_t mn, mx;
            if ((rc = read_ref(s, &c, &blk->ref, copy, b, err)) != SDB_OK)
                goto out;
            blk->rows = sdb_cur_u32(&c);
            blk->nulls = sdb_cur_u32(&c);
            mn = sdb_cur_u64(&c);
            mx = sdb_cur_u64(&c);
            if (col->has_filter) {
                blk->filter_len = sdb_cur_u32(&c);
                if (blk->filter_len > SDB_SEG_MAX_FILTER || blk->filter_len % SDB_BLOOM_BUCKET ||
                    (blk->filter = sdb_cur_take(&c, blk->filter_len)) == NULL) {
                    rc = CORRUPT(s, "%s: column '%s' block %u: bad filter of %u bytes", s->path,
                                 copy, b, blk->filter_len);
                    goto out;
                }
                if (blk->filter_len == 0)
                    blk->filter = NULL;
            }
            if (c.bad) {
                rc = CORRUPT(s, "%s: footer ends inside column '%s' block %u", s->path, copy, b);
                goto out;
            }
            if (blk->rows != want || blk->nulls > blk->rows ||
                (blk->ref.raw == 0) != (blk->nulls == blk->rows) ||
                (col->type != SDB_TYPE_STRING && blk->ref.raw > max_raw_fixed(blk->rows))) {
                rc = CORRUPT(s, "%s: column '%s' block %u: %u rows, %u nulls, %llu raw bytes do not fit",
                             s->path, copy, b, blk->rows, blk->nulls,
                             (unsigned long long)blk->ref.raw);
                goto out;
            }
            switch (col->type) {
            case SDB_TYPE_FLOAT64:
                memcpy(&blk->min.f, &mn, 8);
                memcpy(&blk->max.f, &mx, 8);
                break;
            case SDB_TYPE_SYMBOL:
                if ((mn > mx || mx >= col->dict_count) && blk->nulls < blk->rows) {
                    rc = CORRUPT(s, "%s: column '%s' block %u: code range %llu..%llu outside the dictionary",
                                 s->path, copy, b, (unsigned long long)mn, (unsigned long long)mx);
                    goto out;
                }
                blk->min.code = (uint32_t)mn;
                blk->max.code = (uint32_t)mx;
                break;
            default:
                blk->min.i = (int64_t)mn;
                blk->max.i = (int64_t)mx;
                break;
            }
        }
    }
    if (c.p != c.end)
        rc = CORRUPT(s, "%s: %zu unexplained bytes at the end of the footer", s->path,
                     (size_t)(c.end - c.p));
out:
    sdb_codec_ctx_destroy(ctx);
    return rc;
}

sdb_rc sdb_seg_open(const char *path, sdb_seg **out, sdb_err *err)
{
    sdb_seg *s = calloc(1, sizeof *s);
    struct stat st;
    uint64_t flen;
    const uint8_t *t;
    sdb_rc rc;
    *out = NULL;
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory", path);
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        rc = SDB_FAIL_SYS(err, "%s: open", path);
        goto fail;
    }
    if (fstat(s->fd, &st) != 0) {
        rc = SDB_FAIL_SYS(err, "%s: stat", path);
        goto fail;
    }
    s->size = (uint64_t)st.st_size;
    if (s->size < SDB_SEG_HEADER_SIZE + SDB_SEG_TRAILER_SIZE) {
        rc = CORRUPT(s, "%s: %llu bytes is too short for a segment", path,
                     (unsigned long long)s->size);
        goto fail;
    }
    s->map = mmap(NULL, (size_t)s->size, PROT_READ, MAP_SHARED, s->fd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        rc = SDB_FAIL_SYS(err, "%s: mmap", path);
        goto fail;
    }
    if (memcmp(s->map, SDB_SEG_MAGIC, SDB_SEG_MAGIC_LEN) != 0) {
        rc = CORRUPT(s, "%s: not a spandb segment (bad magic)", path);
        goto fail;
    }
    if (sdb_get_le16(s->map + 8) != SDB_SEG_VERSION_MAJOR) {
        rc = CORRUPT(s, "%s: segment format version %u, this build reads version %u", path,
                     sdb_get_le16(s->map + 8), SDB_SEG_VERSION_MAJOR);
        goto fail;
    }
    if (sdb_get_le32(s->map + 12) != 0) {
        rc = CORRUPT(s, "%s: reserved header bytes are not zero", path);
        goto fail;
    }
    t = s->map + s->size - SDB_SEG_TRAILER_SIZE;
    if (memcmp(t + 16, SDB_SEG_MAGIC, SDB_SEG_MAGIC_LEN) != 0) {
        rc = CORRUPT(s, "%s: bad trailing magic (truncated or incomplete file?)", path);
        goto fail;
    }
    flen = sdb_get_le64(t);
    if (flen > s->size - SDB_SEG_HEADER_SIZE - SDB_SEG_TRAILER_SIZE) {
        rc = CORRUPT(s, "%s: footer length %llu exceeds the file", path, (unsigned long long)flen);
        goto fail;
    }
    s->data_end = s->size - SDB_SEG_TRAILER_SIZE - flen;
    if (sdb_hash64(s->map + s->data_end, (size_t)flen) != sdb_get_le64(t + 8)) {
        rc = CORRUPT(s, "%s: footer checksum mismatch", path);
        goto fail;
    }
    if ((rc = parse_footer(s, s->map + s->data_end, flen, err)) != SDB_OK)
        goto fail;
    *out = s;
    return SDB_OK;
fail:
    sdb_seg_close(s);
    return rc;
}

void sdb_seg_close(sdb_seg *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; s->cols != NULL && i < s->ncols; i++) {
        free((char *)(uintptr_t)s->cols[i].name);
        free(s->cols[i].blocks);
        if (s->dict_mem != NULL)
            free(s->dict_mem[i]);
    }
    free(s->cols);
    free(s->dict_mem);
    if (s->map != NULL)
        munmap((void *)(uintptr_t)s->map, (size_t)s->size);
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s);
}

const char *sdb_seg_path(const sdb_seg *s)
{
    return s->path;
}

uint64_t sdb_seg_rows(const sdb_seg *s)
{
    return s->nrows;
}

uint64_t sdb_seg_file_size(const sdb_seg *s)
{
    return s->size;
}

uint32_t sdb_seg_block_rows(const sdb_seg *s)
{
    return s->block_rows;
}

uint32_t sdb_seg_nblocks(const sdb_seg *s)
{
    return s->nblocks;
}

uint32_t sdb_seg_ncols(const sdb_seg *s)
{
    return s->ncols;
}

const sdb_seg_col *sdb_seg_col_at(const sdb_seg *s, uint32_t i)
{
    return i < s->ncols ? &s->cols[i] : NULL;
}

int sdb_seg_find_col(const sdb_seg *s, const char *name)
{
    for (uint32_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *sdb_seg_meta(const sdb_seg *s, size_t *len)
{
    *len = s->meta_len;
    return s->meta;
}

bool sdb_seg_dict_find(const sdb_seg_col *c, const char *str, size_t n, uint32_t *code)
{
    uint32_t lo = 0, hi = c->dict_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t len = c->dict_off[mid + 1] - c->dict_off[mid];
        size_t m = len < n ? (size_t)len : n;
        int cmp = m ? memcmp(c->dict_bytes + c->dict_off[mid], str, m) : 0;
        if (cmp == 0)
            cmp = len < n ? -1 : len > n;
        if (cmp == 0) {
            *code = mid;
            return true;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

const char *sdb_seg_dict_get(const sdb_seg_col *c, uint32_t code, uint32_t *len)
{
    *len = (uint32_t)(c->dict_off[code + 1] - c->dict_off[code]);
    return c->dict_bytes + c->dict_off[code];
}

bool sdb_seg_block_may_contain(const sdb_seg_col *c, uint32_t blk, const char *str, size_t n)
{
    const sdb_seg_block *b;
    if (blk >= c->nblocks)
        return false;
    b = &c->blocks[blk];
    if (b->nulls == b->rows)
        return false;
    if (b->filter == NULL)
        return true;
    return sdb_bloom_may_contain(b->filter, b->filter_len, sdb_bloom_hash(str, n));
}

void sdb_seg_blockbuf_init(sdb_seg_blockbuf *b)
{
    memset(b, 0, sizeof *b);
}

void sdb_seg_blockbuf_free(sdb_seg_blockbuf *b)
{
    free(b->valid);
    free(b->v.raw);
    free(b->codes);
    sdb_buf_free(&b->bytes);
    sdb_buf_free(&b->stored);
    sdb_codec_ctx_destroy(b->codec);
    memset(b, 0, sizeof *b);
}

sdb_rc sdb_seg_check_block(const sdb_seg *s, uint32_t col, uint32_t blk, sdb_err *err)
{
    const sdb_seg_col *c;
    if (col >= s->ncols)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: no column %u", s->path, col);
    c = &s->cols[col];
    if (blk == UINT32_MAX) {
        if (c->type == SDB_TYPE_SYMBOL && !check_sum(s, &c->dict_ref))
            return CORRUPT(s, "%s: column '%s' dictionary: checksum mismatch", s->path, c->name);
        return SDB_OK;
    }
    if (blk >= s->nblocks)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: no block %u", s->path, blk);
    if (!check_sum(s, &c->blocks[blk].ref))
        return CORRUPT(s, "%s: column '%s' block %u: checksum mismatch", s->path, c->name, blk);
    return SDB_OK;
}

static sdb_rc reserve_buf(sdb_seg_blockbuf *b, sdb_type t, uint32_t rows, sdb_err *err)
{
    size_t words = ((size_t)rows + 63) / 64 + 1;
    size_t need = t == SDB_TYPE_STRING ? ((size_t)rows + 1) * 8 : (size_t)rows * sdb_type_width(t);
    if (need < 8)
        need = 8;
    if (words > b->validcap) {
        free(b->valid);
        b->valid = malloc(words * sizeof *b->valid);
        b->validcap = b->valid ? words : 0;
    }
    if (need > b->vcap) {
        free(b->v.raw);
        b->v.raw = malloc(need);
        b->vcap = b->v.raw ? need : 0;
    }
    if (b->valid == NULL || b->v.raw == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to decode a block of %u rows", rows);
    if (b->codec == NULL && (b->codec = sdb_codec_ctx_create()) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a codec context");
    return SDB_OK;
}

sdb_rc sdb_seg_read_block(const sdb_seg *s, uint32_t col, uint32_t blk, sdb_seg_blockbuf *buf,
                          sdb_err *err)
{
    const sdb_seg_col *c;
    const sdb_seg_block *b;
    const uint8_t *payload;
    size_t len, vbytes = 0;
    uint32_t rows, words;
    sdb_rc rc = SDB_OK;
    sdb_err e2;

    if (col >= s->ncols || blk >= s->nblocks)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "%s: no column %u block %u", s->path, col, blk);
    c = &s->cols[col];
    b = &c->blocks[blk];
    rows = b->rows;
    words = (rows + 63) / 64;
    buf->ndict = 0;
    SDB_TRY(reserve_buf(buf, c->type, rows, err));
    buf->type = c->type;
    buf->rows = rows;
    buf->nulls = b->nulls;
    if (!check_sum(s, &b->ref))
        return CORRUPT(s, "%s: column '%s' block %u: checksum mismatch", s->path, c->name, blk);
    if (b->ref.codec == SDB_CODEC_NONE) {
        payload = s->map + b->ref.offset;
        len = (size_t)b->ref.stored;
    } else {
        if (!sdb_codec_size_plausible(b->ref.codec, s->map + b->ref.offset, (size_t)b->ref.stored,
                                      (size_t)b->ref.raw))
            return CORRUPT(s, "%s: column '%s' block %u: %llu stored bytes cannot hold %llu raw bytes",
                           s->path, c->name, blk, (unsigned long long)b->ref.stored,
                           (unsigned long long)b->ref.raw);
        buf->stored.len = 0;
        SDB_TRY(sdb_buf_reserve(&buf->stored, (size_t)b->ref.raw, err));
        if (sdb_codec_decompress(buf->codec, b->ref.codec, s->map + b->ref.offset,
                                 (size_t)b->ref.stored, buf->stored.data, (size_t)b->ref.raw,
                                 &e2) != SDB_OK)
            return CORRUPT(s, "%s: column '%s' block %u: %s", s->path, c->name, blk, e2.msg);
        payload = buf->stored.data;
        len = (size_t)b->ref.raw;
    }

    /* validity */
    if (b->nulls == 0) {
        memset(buf->valid, 0xff, (size_t)words * 8);
    } else if (b->nulls == rows) {
        memset(buf->valid, 0, (size_t)words * 8);
    } else {
        uint64_t present = 0;
        vbytes = ((size_t)rows + 7) / 8;
        if (len < vbytes)
            return CORRUPT(s, "%s: column '%s' block %u: validity bitmap cut short", s->path,
                           c->name, blk);
        buf->valid[words - 1] = 0;
        memcpy(buf->valid, payload, vbytes);
        if (rows & 63)
            buf->valid[words - 1] &= (1ULL << (rows & 63)) - 1;
        for (uint32_t w = 0; w < words; w++)
            present += (uint64_t)__builtin_popcountll(buf->valid[w]);
        if (present != rows - b->nulls)
            return CORRUPT(s, "%s: column '%s' block %u: bitmap has %llu values, footer says %u",
                           s->path, c->name, blk, (unsigned long long)present, rows - b->nulls);
    }
    if (rows & 63 && b->nulls == 0)
        buf->valid[words - 1] = (1ULL << (rows & 63)) - 1;

    if (b->nulls == rows) {
        memset(buf->v.raw, 0, c->type == SDB_TYPE_STRING ? ((size_t)rows + 1) * 8
                                                         : (size_t)rows * sdb_type_width(c->type));
        buf->bytes.len = 0;
        return SDB_OK;
    }
    payload += vbytes;
    len -= vbytes;
    switch (c->type) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64: rc = sdb_dec_i64(b->ref.enc, payload, len, rows, buf->v.i64, &e2); break;
    case SDB_TYPE_FLOAT64: rc = sdb_dec_f64(b->ref.enc, payload, len, rows, buf->v.f64, &e2); break;
    case SDB_TYPE_BOOL: rc = sdb_dec_bool(b->ref.enc, payload, len, rows, buf->v.b8, &e2); break;
    case SDB_TYPE_SYMBOL:
        rc = sdb_dec_code(b->ref.enc, payload, len, rows, c->dict_count, buf->v.code, &e2);
        break;
    case SDB_TYPE_STRING: {
        uint32_t *codes = NULL;
        if (buf->keep_codes && b->ref.enc == SDB_ENC_DICT) {
            if (buf->codescap < rows) {
                free(buf->codes);
                buf->codes = malloc((size_t)rows * sizeof *buf->codes);
                buf->codescap = buf->codes ? rows : 0;
                if (buf->codes == NULL)
                    return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the codes of %u rows",
                                    rows);
            }
            codes = buf->codes;
        }
        rc = sdb_dec_str_codes(b->ref.enc, payload, len, rows, buf->v.off, &buf->bytes, codes,
                               codes ? &buf->ndict : NULL, &e2);
        if (rc != SDB_OK)
            buf->ndict = 0;
        break;
    }
    }
    if (rc != SDB_OK)
        return SDB_FAIL(err, rc, "%s: column '%s' block %u: %s", s->path, c->name, blk, e2.msg);
    return SDB_OK;
}

/* One column of the segment as an in-memory column of the same type. */
static sdb_rc read_column(const sdb_seg *s, uint32_t ci, sdb_column *col, sdb_seg_blockbuf *buf,
                          sdb_err *err)
{
    const sdb_seg_col *c = &s->cols[ci];
    SDB_TRY(sdb_column_init(col, c->type, err));
    SDB_TRY(sdb_column_reserve(col, s->nrows, err));
    if (c->type == SDB_TYPE_SYMBOL) {
        /* a fresh dictionary interned in code order gives the same codes as the segment */
        for (uint32_t k = 0; k < c->dict_count; k++) {
            uint32_t len, code;
            const char *str = sdb_seg_dict_get(c, k, &len);
            SDB_TRY(sdb_symdict_intern(col->dict, str, len, &code, err));
        }
    }
    for (uint32_t b = 0; b < c->nblocks; b++) {
        SDB_TRY(sdb_seg_read_block(s, ci, b, buf, err));
        for (uint32_t i = 0; i < buf->rows; i++) {
            sdb_rc rc;
            if (!((buf->valid[i >> 6] >> (i & 63)) & 1)) {
                SDB_TRY(sdb_column_push_null(col, err));
                continue;
            }
            switch (c->type) {
            case SDB_TYPE_TIMESTAMP:
            case SDB_TYPE_INT64: rc = sdb_column_push_i64(col, buf->v.i64[i], err); break;
            case SDB_TYPE_FLOAT64: rc = sdb_column_push_f64(col, buf->v.f64[i], err); break;
            case SDB_TYPE_BOOL: rc = sdb_column_push_bool(col, buf->v.b8[i] != 0, err); break;
            case SDB_TYPE_SYMBOL: rc = sdb_column_push_code(col, buf->v.code[i], err); break;
            case SDB_TYPE_STRING:
            default:
                rc = sdb_column_push_str(col, (const char *)buf->bytes.data + buf->v.off[i],
                                         (size_t)(buf->v.off[i + 1] - buf->v.off[i]), err);
                break;
            }
            SDB_TRY(rc);
        }
    }
    return SDB_OK;
}

sdb_rc sdb_seg_read_batch(const sdb_seg *s, sdb_batch *out, sdb_err *err)
{
    sdb_batch tmp;
    sdb_seg_blockbuf buf;
    sdb_rc rc = SDB_OK;
    sdb_batch_init(&tmp);
    sdb_seg_blockbuf_init(&buf);
    tmp.cols = calloc(s->ncols, sizeof *tmp.cols);
    tmp.names = calloc(s->ncols, sizeof *tmp.names);
    if (tmp.cols == NULL || tmp.names == NULL)
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for %u columns", s->path, s->ncols);
    tmp.cap = s->ncols;
    for (uint32_t ci = 0; ci < s->ncols && rc == SDB_OK; ci++) {
        if ((tmp.names[ci] = strdup(s->cols[ci].name)) == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory", s->path);
            break;
        }
        tmp.ncols = ci + 1;
        rc = read_column(s, ci, &tmp.cols[ci], &buf, err);
    }
    tmp.nrows = s->nrows;
    if (rc == SDB_OK)
        rc = sdb_batch_append_rows(out, &tmp, NULL, 0, err);
    sdb_seg_blockbuf_free(&buf);
    sdb_batch_free(&tmp);
    return rc;
}
