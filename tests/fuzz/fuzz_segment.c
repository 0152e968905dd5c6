/* Fuzz harness for the segment reader: open an arbitrary file and decode every block.
 * The first input byte picks a mode: odd = recompute the footer checksum before opening, so
 * that mutations reach the footer parser and the decoders instead of stopping at the
 * checksum; bit 1 = keep the block dictionary codes of string blocks (checked below the
 * dictionary size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/segment.h"
#include "storage/segment_format.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    uint8_t *img;
    size_t n;
    FILE *f;
    sdb_seg *s;
    sdb_err err;
    if (size < 1)
        return 0;
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/fuzz_segment_%d.seg", (int)getpid());
    n = size - 1;
    img = malloc(n ? n : 1);
    if (img == NULL)
        return 0;
    memcpy(img, data + 1, n);
    if ((data[0] & 1) && n >= SDB_SEG_HEADER_SIZE + SDB_SEG_TRAILER_SIZE) {
        uint8_t *t = img + n - SDB_SEG_TRAILER_SIZE;
        uint64_t flen = sdb_get_le64(t);
        if (flen <= n - SDB_SEG_HEADER_SIZE - SDB_SEG_TRAILER_SIZE)
            sdb_put_le64(t + 8, sdb_hash64(t - flen, (size_t)flen));
    }
    f = fopen(path, "wb");
    if (f == NULL) {
        free(img);
        return 0;
    }
    if (n > 0 && fwrite(img, 1, n, f) != n) {
        fclose(f);
        free(img);
        return 0;
    }
    fclose(f);
    free(img);
    if (sdb_seg_open(path, &s, &err) == SDB_OK) {
        sdb_seg_blockbuf buf;
        sdb_seg_blockbuf_init(&buf);
        buf.keep_codes = (data[0] & 2) != 0;
        for (uint32_t c = 0; c < sdb_seg_ncols(s); c++) {
            const sdb_seg_col *col = sdb_seg_col_at(s, c);
            for (uint32_t b = 0; b < sdb_seg_nblocks(s); b++) {
                if (sdb_seg_read_block(s, c, b, &buf, &err) == SDB_OK)
                    for (uint32_t i = 0; i < buf.rows && buf.ndict > 0; i++)
                        if (buf.codes[i] >= buf.ndict)
                            abort();
                (void)sdb_seg_block_may_contain(col, b, "abc", 3);
            }
            if (col->type == SDB_TYPE_SYMBOL) {
                uint32_t code;
                (void)sdb_seg_dict_find(col, "gpt-4o", 6, &code);
            }
        }
        sdb_seg_blockbuf_free(&buf);
        sdb_seg_close(s);
    }
    unlink(path);
    return 0;
}
