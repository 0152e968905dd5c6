/* LZ4 and zstd behind one interface. Decompression never trusts the stored raw length
 * alone: the output size must match it exactly or the block is reported corrupt. */
#include "storage/codec.h"

#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

struct sdb_codec_ctx {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
};

sdb_codec_ctx *sdb_codec_ctx_create(void)
{
    return calloc(1, sizeof(sdb_codec_ctx));
}

void sdb_codec_ctx_destroy(sdb_codec_ctx *ctx)
{
    if (ctx == NULL)
        return;
    ZSTD_freeCCtx(ctx->cctx);
    ZSTD_freeDCtx(ctx->dctx);
    free(ctx);
}

const char *sdb_codec_name(sdb_codec c)
{
    switch (c) {
    case SDB_CODEC_NONE: return "none";
    case SDB_CODEC_LZ4: return "lz4";
    case SDB_CODEC_ZSTD: return "zstd";
    }
    return "?";
}

int sdb_codec_parse(const char *s, sdb_codec *c, int *level)
{
    *level = 0;
    if (strcmp(s, "none") == 0) {
        *c = SDB_CODEC_NONE;
        return 1;
    }
    if (strcmp(s, "lz4") == 0) {
        *c = SDB_CODEC_LZ4;
        return 1;
    }
    if (strncmp(s, "zstd", 4) == 0) {
        *c = SDB_CODEC_ZSTD;
        if (s[4] == '\0')
            return 1;
        if (s[4] == '-' && s[5] >= '1' && s[5] <= '9') {
            char *end;
            long l = strtol(s + 5, &end, 10);
            if (*end == '\0' && l >= 1 && l <= 19) {
                *level = (int)l;
                return 1;
            }
        }
    }
    return 0;
}

size_t sdb_codec_bound(sdb_codec c, size_t n)
{
    switch (c) {
    case SDB_CODEC_NONE: return n;
    case SDB_CODEC_LZ4: return n > LZ4_MAX_INPUT_SIZE ? 0 : (size_t)LZ4_compressBound((int)n);
    case SDB_CODEC_ZSTD: return ZSTD_compressBound(n);
    }
    return 0;
}

sdb_rc sdb_codec_compress(sdb_codec_ctx *ctx, sdb_codec c, int level, const void *src, size_t n,
                          sdb_buf *out, sdb_err *err)
{
    size_t bound = sdb_codec_bound(c, n);
    if (c == SDB_CODEC_NONE)
        return sdb_buf_append(out, src, n, err);
    if (bound == 0 && n > 0)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "block of %zu bytes is too large for %s", n,
                        sdb_codec_name(c));
    SDB_TRY(sdb_buf_reserve(out, bound, err));
    if (c == SDB_CODEC_LZ4) {
        int r = LZ4_compress_default(src, (char *)out->data + out->len, (int)n, (int)bound);
        if (r <= 0)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "lz4 compression of %zu bytes failed", n);
        out->len += (size_t)r;
        return SDB_OK;
    }
    if (c == SDB_CODEC_ZSTD) {
        size_t r;
        if (ctx->cctx == NULL && (ctx->cctx = ZSTD_createCCtx()) == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a zstd context");
        r = ZSTD_compressCCtx(ctx->cctx, out->data + out->len, bound, src, n, level ? level : 3);
        if (ZSTD_isError(r))
            return SDB_FAIL(err, SDB_ERR_MISUSE, "zstd compression failed: %s", ZSTD_getErrorName(r));
        out->len += r;
        return SDB_OK;
    }
    return SDB_FAIL(err, SDB_ERR_MISUSE, "unknown codec %d", (int)c);
}

int sdb_codec_size_plausible(sdb_codec c, const void *src, size_t n, size_t raw_len)
{
    switch (c) {
    case SDB_CODEC_NONE: return n == raw_len;
    case SDB_CODEC_LZ4: return raw_len / 255 <= n;
    case SDB_CODEC_ZSTD: return ZSTD_getFrameContentSize(src, n) == (unsigned long long)raw_len;
    }
    return 0;
}

sdb_rc sdb_codec_decompress(sdb_codec_ctx *ctx, sdb_codec c, const void *src, size_t n, void *dst,
                            size_t raw_len, sdb_err *err)
{
    switch (c) {
    case SDB_CODEC_NONE:
        if (n != raw_len)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "stored size %zu differs from raw size %zu", n,
                            raw_len);
        if (n > 0)
            memcpy(dst, src, n);
        return SDB_OK;
    case SDB_CODEC_LZ4: {
        int r;
        if (n > LZ4_MAX_INPUT_SIZE || raw_len > LZ4_MAX_INPUT_SIZE)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "lz4 block of %zu bytes is too large", n);
        r = LZ4_decompress_safe(src, dst, (int)n, (int)raw_len);
        if (r < 0 || (size_t)r != raw_len)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "lz4 block does not decompress to %zu bytes",
                            raw_len);
        return SDB_OK;
    }
    case SDB_CODEC_ZSTD: {
        size_t r;
        if (ctx->dctx == NULL && (ctx->dctx = ZSTD_createDCtx()) == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a zstd context");
        r = ZSTD_decompressDCtx(ctx->dctx, dst, raw_len, src, n);
        if (ZSTD_isError(r) || r != raw_len)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "zstd block does not decompress to %zu bytes%s%s",
                            raw_len, ZSTD_isError(r) ? ": " : "",
                            ZSTD_isError(r) ? ZSTD_getErrorName(r) : "");
        return SDB_OK;
    }
    }
    return SDB_FAIL(err, SDB_ERR_CORRUPT, "unknown codec %d", (int)c);
}
