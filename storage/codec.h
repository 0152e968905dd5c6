/* General-purpose compression of encoded blocks: none, LZ4 or zstd. A codec context caches
 * the zstd (de)compression state so that hot loops do not allocate per block. */
#ifndef SDB_STORAGE_CODEC_H
#define SDB_STORAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "storage/common/buf.h"
#include "storage/common/error.h"

/* Stored in segment block directories: never renumber. */
typedef enum sdb_codec {
    SDB_CODEC_NONE = 0,
    SDB_CODEC_LZ4 = 1,
    SDB_CODEC_ZSTD = 2,
} sdb_codec;

typedef struct sdb_codec_ctx sdb_codec_ctx;

/* Caller owns; free with sdb_codec_ctx_destroy(). NULL when out of memory. One per thread. */
sdb_codec_ctx *sdb_codec_ctx_create(void);
void sdb_codec_ctx_destroy(sdb_codec_ctx *ctx);

/* "none", "lz4", "zstd". */
const char *sdb_codec_name(sdb_codec c);
/* Parse "none", "lz4", "zstd" or "zstd-N" (level N); level is 0 when not given. */
int sdb_codec_parse(const char *s, sdb_codec *c, int *level);
/* Worst-case compressed size of n bytes. */
size_t sdb_codec_bound(sdb_codec c, size_t n);
/* Compress n bytes and append them to out. level: zstd level (0 = default 3), ignored by LZ4. */
sdb_rc sdb_codec_compress(sdb_codec_ctx *ctx, sdb_codec c, int level, const void *src, size_t n,
                          sdb_buf *out, sdb_err *err);
/* False when n compressed bytes cannot decompress to raw_len bytes (zstd frames state their
 * size; LZ4 expands at most 255 times). Lets readers refuse absurd sizes before allocating. */
int sdb_codec_size_plausible(sdb_codec c, const void *src, size_t n, size_t raw_len);
/* Decompress exactly raw_len bytes into dst. Fails with SDB_ERR_CORRUPT when src does not
 * decompress to exactly raw_len bytes. */
sdb_rc sdb_codec_decompress(sdb_codec_ctx *ctx, sdb_codec c, const void *src, size_t n, void *dst,
                            size_t raw_len, sdb_err *err);

#endif
