/* Streaming decompression of import files. The compressed side is read in 1 MiB pieces;
 * the caller's buffer receives decompressed bytes. */
#include "engine/input.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define IN_CHUNK (1u << 20)

typedef enum kind { K_PLAIN, K_ZSTD, K_LZ4 } kind;

struct sdb_input {
    char *path;
    int fd;
    kind k;
    uint64_t size;
    uint64_t consumed;
    uint8_t *raw;        /* compressed bytes read, not yet decompressed: raw[pos..len) */
    size_t pos, len;
    int eof;
    size_t hint;         /* compressed streams: nonzero while a frame is unfinished */
    int drained;         /* a call with no input left produced nothing */
    ZSTD_DStream *zs;
    LZ4F_dctx *lz;
};

static sdb_rc fill(sdb_input *in, sdb_err *err)
{
    ssize_t r;
    if (in->pos < in->len || in->eof)
        return SDB_OK;
    do {
        r = read(in->fd, in->raw, IN_CHUNK);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return SDB_FAIL_SYS(err, "%s: read", in->path);
    in->pos = 0;
    in->len = (size_t)r;
    in->consumed += (uint64_t)r;
    if (r == 0)
        in->eof = 1;
    return SDB_OK;
}

sdb_rc sdb_input_open(const char *path, sdb_input **out, sdb_err *err)
{
    sdb_input *in = calloc(1, sizeof *in);
    struct stat st;
    sdb_rc rc;
    *out = NULL;
    if (in == NULL || (in->path = strdup(path)) == NULL || (in->raw = malloc(IN_CHUNK)) == NULL) {
        if (in != NULL) {
            free(in->path);
            free(in);
        }
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to read %s", path);
    }
    if (strcmp(path, "-") == 0) {
        in->fd = STDIN_FILENO;
    } else if ((in->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = errno == ENOENT ? SDB_FAIL(err, SDB_ERR_NOTFOUND, "%s: no such file", path)
                             : SDB_FAIL_SYS(err, "%s: open", path);
        free(in->raw);
        free(in->path);
        free(in);
        return rc;
    }
    if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode))
        in->size = (uint64_t)st.st_size;
    if ((rc = fill(in, err)) != SDB_OK) {
        sdb_input_close(in);
        return rc;
    }
    if (in->len >= 4 && memcmp(in->raw, "\x28\xb5\x2f\xfd", 4) == 0) {
        in->k = K_ZSTD;
        if ((in->zs = ZSTD_createDStream()) == NULL) {
            sdb_input_close(in);
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for zstd");
        }
        ZSTD_initDStream(in->zs);
    } else if (in->len >= 4 && memcmp(in->raw, "\x04\x22\x4d\x18", 4) == 0) {
        in->k = K_LZ4;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&in->lz, LZ4F_VERSION))) {
            sdb_input_close(in);
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for lz4");
        }
    }
    *out = in;
    return SDB_OK;
}

void sdb_input_close(sdb_input *in)
{
    if (in == NULL)
        return;
    if (in->fd > STDIN_FILENO)
        close(in->fd);
    ZSTD_freeDStream(in->zs);
    if (in->lz != NULL)
        LZ4F_freeDecompressionContext(in->lz);
    free(in->raw);
    free(in->path);
    free(in);
}

sdb_rc sdb_input_read(sdb_input *in, void *buf, size_t cap, size_t *got, sdb_err *err)
{
    *got = 0;
    while (*got == 0) {
        SDB_TRY(fill(in, err));
        if (in->pos == in->len && (in->k == K_PLAIN || in->hint == 0))
            return SDB_OK; /* end of file */
        if (in->pos == in->len && in->drained)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: %s stream ends in the middle of a frame",
                            in->path, sdb_input_kind(in));
        /* at the end of the file a decoder may still hold output: one more call drains it */
        in->drained = in->pos == in->len;
        if (in->k == K_PLAIN) {
            size_t n = in->len - in->pos < cap ? in->len - in->pos : cap;
            memcpy(buf, in->raw + in->pos, n);
            in->pos += n;
            *got = n;
        } else if (in->k == K_ZSTD) {
            ZSTD_inBuffer ib = {in->raw, in->len, in->pos};
            ZSTD_outBuffer ob = {buf, cap, 0};
            size_t r = ZSTD_decompressStream(in->zs, &ob, &ib);
            if (ZSTD_isError(r))
                return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: zstd: %s", in->path,
                                ZSTD_getErrorName(r));
            in->pos = ib.pos;
            in->hint = r;
            *got = ob.pos;
            if (*got > 0)
                in->drained = 0;
        } else {
            size_t dst = cap, src = in->len - in->pos;
            size_t r = LZ4F_decompress(in->lz, buf, &dst, in->raw + in->pos, &src, NULL);
            if (LZ4F_isError(r))
                return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: lz4: %s", in->path,
                                LZ4F_getErrorName(r));
            in->pos += src;
            in->hint = r;
            *got = dst;
            if (*got > 0)
                in->drained = 0;
        }
    }
    return SDB_OK;
}

uint64_t sdb_input_size(const sdb_input *in)
{
    return in->size;
}

uint64_t sdb_input_consumed(const sdb_input *in)
{
    return in->consumed - (in->len - in->pos);
}

const char *sdb_input_kind(const sdb_input *in)
{
    return in->k == K_ZSTD ? "zstd" : in->k == K_LZ4 ? "lz4" : "plain";
}
