/* Segment comparison for tests: decodes every block and checks it row by row. */
#include "tests/support/segcheck.h"

#include <string.h>

uint64_t segcheck_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

sdb_rc segcheck_compare(const sdb_seg *s, const sdb_batch *batch, const uint32_t *perm,
                        sdb_err *err)
{
    sdb_seg_blockbuf buf;
    sdb_rc rc = SDB_OK;
    if (sdb_seg_rows(s) != batch->nrows || sdb_seg_ncols(s) != batch->ncols)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "shape differs: %llu rows %u cols",
                        (unsigned long long)sdb_seg_rows(s), sdb_seg_ncols(s));
    sdb_seg_blockbuf_init(&buf);
    for (uint32_t ci = 0; ci < batch->ncols && rc == SDB_OK; ci++) {
        const sdb_column *c = &batch->cols[ci];
        const sdb_seg_col *sc = sdb_seg_col_at(s, ci);
        uint64_t row = 0;
        if (strcmp(sc->name, batch->names[ci]) != 0 || sc->type != c->type) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "column %u name or type differs", ci);
            break;
        }
        for (uint32_t b = 0; b < sc->nblocks && rc == SDB_OK; b++) {
            if ((rc = sdb_seg_read_block(s, ci, b, &buf, err)) != SDB_OK)
                break;
            for (uint32_t i = 0; i < buf.rows; i++, row++) {
                uint64_t src = perm ? perm[row] : row;
                bool v = (buf.valid[i >> 6] >> (i & 63)) & 1;
                bool want = sdb_column_valid(c, src);
                bool same = v == want;
                if (same && v) {
                    uint32_t l1 = 0, l2 = 0;
                    const char *s1, *s2;
                    switch (c->type) {
                    case SDB_TYPE_TIMESTAMP:
                    case SDB_TYPE_INT64: same = buf.v.i64[i] == c->v.i64[src]; break;
                    case SDB_TYPE_FLOAT64: same = memcmp(&buf.v.f64[i], &c->v.f64[src], 8) == 0; break;
                    case SDB_TYPE_BOOL: same = buf.v.b8[i] == c->v.b8[src]; break;
                    case SDB_TYPE_SYMBOL:
                        s1 = sdb_seg_dict_get(sc, buf.v.code[i], &l1);
                        s2 = sdb_column_str(c, src, &l2);
                        same = l1 == l2 && memcmp(s1, s2, l1) == 0;
                        break;
                    case SDB_TYPE_STRING:
                        l1 = (uint32_t)(buf.v.off[i + 1] - buf.v.off[i]);
                        s1 = (const char *)buf.bytes.data + buf.v.off[i];
                        s2 = sdb_column_str(c, src, &l2);
                        same = l1 == l2 && (l1 == 0 || memcmp(s1, s2, l1) == 0);
                        break;
                    }
                }
                if (!same) {
                    rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "column '%s' row %llu differs",
                                  sc->name, (unsigned long long)row);
                    break;
                }
            }
        }
    }
    sdb_seg_blockbuf_free(&buf);
    return rc;
}
