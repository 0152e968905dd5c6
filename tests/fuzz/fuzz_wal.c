/* Fuzz harness for the durable formats: the first byte picks the target, the rest is input.
 *   0  a serialized batch (sdb_batch_deserialize)
 *   1  a WAL file image (sdb_wal_replay_mem): headers, lengths, checksums, sequence
 *   2  a WAL image built around the input as one payload with valid checksums, so the
 *      batch decoder is reached through the replay path too
 *   3  a manifest image (sdb_manifest_decode)
 *   4  a manifest image whose length field and checksum are fixed up first, so the entry
 *      parser is reached
 * Nothing may crash, leak or read out of bounds; every failure must be a clean error. */
#include <stdlib.h>
#include <string.h>

#include "storage/batch_io.h"
#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/manifest.h"
#include "storage/wal.h"
#include "tests/fuzz/fuzz.h"

/* Keeps the reads of consume() from being optimized away. */
static volatile uint64_t sink;

/* Touch every value so that the sanitizers see any bad column state. */
static sdb_rc consume(void *ctx, uint64_t seq, const char *table, const sdb_batch *b, sdb_err *err)
{
    uint64_t *sum = ctx;
    (void)err;
    *sum += seq + strlen(table);
    for (uint32_t i = 0; i < b->ncols; i++)
        for (uint64_t r = 0; r < b->nrows; r++) {
            const sdb_column *c = &b->cols[i];
            uint32_t len;
            if (!sdb_column_valid(c, r))
                continue;
            if (c->type == SDB_TYPE_SYMBOL || c->type == SDB_TYPE_STRING) {
                const char *s = sdb_column_str(c, r, &len);
                *sum += len + (len > 0 ? (unsigned char)s[len - 1] : 0u);
            } else if (c->type == SDB_TYPE_BOOL)
                *sum += c->v.b8[r];
            else
                *sum += (uint64_t)c->v.i64[r];
        }
    return SDB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdb_err err;
    uint64_t sum = 0;
    sdb_wal_report rep;
    if (size < 1)
        return 0;
    switch (data[0] % 5) {
    case 0: {
        sdb_batch b;
        char *table = NULL;
        if (sdb_batch_deserialize(data + 1, size - 1, &b, &table, &err) == SDB_OK)
            consume(&sum, 1, table, &b, &err);
        sdb_batch_free(&b);
        free(table);
        break;
    }
    case 1: sdb_wal_replay_mem(data + 1, size - 1, "fuzz.log", consume, &sum, 0, &rep, &err); break;
    case 2: {
        sdb_buf img = SDB_BUF_INIT;
        const void *p = data + 1;
        size_t n = size - 1;
        if (sdb_wal_build_image(7, &p, &n, 1, &img, &err) == SDB_OK)
            sdb_wal_replay_mem(img.data, img.len, "fuzz.log", consume, &sum, 0, &rep, &err);
        sdb_buf_free(&img);
        break;
    }
    case 3:
    case 4: {
        sdb_manifest *m = NULL;
        uint8_t *copy = malloc(size);
        size_t n = size - 1;
        if (copy == NULL)
            break;
        memcpy(copy, data + 1, n);
        if (data[0] % 5 == 4 && n >= 40) {
            sdb_put_le64(copy + 24, n);
            sdb_put_le64(copy + n - 8, sdb_hash64(copy, n - 8));
        }
        if (sdb_manifest_decode(copy, n, "fuzz/MANIFEST", &m, &err) == SDB_OK) {
            for (uint32_t i = 0; i < sdb_manifest_count(m); i++)
                sum += strlen(sdb_manifest_get(m, i)->file);
        }
        sdb_manifest_destroy(m);
        free(copy);
        break;
    }
    }
    sink = sum;
    return 0;
}
