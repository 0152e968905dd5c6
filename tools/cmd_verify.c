/* spandb verify: checks every checksum of segment files and decodes every block; names
 * each bad block and exits non-zero when any is found. */
#include <stdio.h>
#include <string.h>

#include "storage/segment.h"
#include "tools/commands.h"

/* Number of problems found in one segment file (0 = clean). */
static unsigned verify_segment(const char *path)
{
    sdb_seg *s;
    sdb_err err;
    sdb_seg_blockbuf buf;
    unsigned bad = 0;
    if (sdb_seg_open(path, &s, &err) != SDB_OK) {
        printf("BAD  %s\n", err.msg);
        return 1;
    }
    sdb_seg_blockbuf_init(&buf);
    for (uint32_t ci = 0; ci < sdb_seg_ncols(s); ci++)
        for (uint32_t b = 0; b < sdb_seg_nblocks(s); b++)
            if (sdb_seg_read_block(s, ci, b, &buf, &err) != SDB_OK) {
                printf("BAD  %s\n", err.msg);
                bad++;
            }
    if (bad == 0)
        printf("ok   %s: %llu rows, %u columns, %u blocks\n", path,
               (unsigned long long)sdb_seg_rows(s), sdb_seg_ncols(s), sdb_seg_nblocks(s));
    sdb_seg_blockbuf_free(&buf);
    sdb_seg_close(s);
    return bad;
}

int sdb_cmd_verify(int argc, char **argv)
{
    unsigned bad = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: spandb verify FILE.seg...\n");
            return 0;
        }
        bad += verify_segment(argv[i]);
        files++;
    }
    if (files == 0) {
        fprintf(stderr, "usage: spandb verify FILE.seg...\n");
        return 2;
    }
    if (bad > 0)
        fprintf(stderr, "spandb verify: %u problem%s found\n", bad, bad == 1 ? "" : "s");
    return bad ? 1 : 0;
}
