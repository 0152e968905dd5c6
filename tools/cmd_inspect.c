/* spandb inspect: what a segment file holds, column by column: type, blocks, rows, NULLs,
 * encodings and codecs used, plain and stored bytes, compression ratio, min and max. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "storage/encoding.h"
#include "storage/common/timefmt.h"
#include "storage/segment.h"
#include "tools/commands.h"

/* "delta:3 for:1" */
static void count_list(char *out, size_t n, const uint32_t *counts, unsigned k,
                       const char *(*name)(unsigned))
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < k && used < n; i++)
        if (counts[i] > 0)
            used += (size_t)snprintf(out + used, n - used, "%s%s:%u", used ? " " : "", name(i),
                                     counts[i]);
}

static const char *enc_name(unsigned e)
{
    return sdb_enc_name((uint8_t)e);
}

static const char *codec_name(unsigned c)
{
    return sdb_codec_name((sdb_codec)c);
}

static void stat_text(char *out, size_t n, const sdb_seg_col *c, const sdb_seg_stat *v)
{
    uint32_t len;
    const char *s;
    switch (c->type) {
    case SDB_TYPE_TIMESTAMP: {
        char t[SDB_TIME_FMT_MAX];
        size_t tlen = sdb_time_format(v->i, t);
        snprintf(out, n, "%.*s", (int)tlen, t);
        break;
    }
    case SDB_TYPE_INT64: snprintf(out, n, "%" PRId64, v->i); break;
    case SDB_TYPE_FLOAT64: snprintf(out, n, "%.6g", v->f); break;
    case SDB_TYPE_BOOL: snprintf(out, n, "%s", v->i ? "true" : "false"); break;
    case SDB_TYPE_SYMBOL:
        if (v->code < c->dict_count) {
            s = sdb_seg_dict_get(c, v->code, &len);
            snprintf(out, n, "%.*s", len > 24 ? 24 : (int)len, s);
        } else {
            snprintf(out, n, "-");
        }
        break;
    case SDB_TYPE_STRING: snprintf(out, n, "-"); break;
    }
}

static int inspect_one(const char *path)
{
    sdb_seg *s;
    sdb_err err;
    sdb_seg_blockbuf buf;
    uint64_t tot_plain = 0, tot_stored = 0;
    if (sdb_seg_open(path, &s, &err) != SDB_OK) {
        fprintf(stderr, "spandb inspect: %s\n", err.msg);
        return 1;
    }
    sdb_seg_blockbuf_init(&buf);
    printf("%s: %" PRIu64 " rows, %u columns, %u blocks of %u rows, %" PRIu64 " bytes\n", path,
           sdb_seg_rows(s), sdb_seg_ncols(s), sdb_seg_nblocks(s), sdb_seg_block_rows(s),
           sdb_seg_file_size(s));
    printf("%-16s %-9s %6s %10s %9s %-24s %-16s %12s %12s %7s  %-24s %-24s\n", "column", "type",
           "blocks", "rows", "nulls", "encodings", "codecs", "plain", "stored", "ratio", "min", "max");
    for (uint32_t ci = 0; ci < sdb_seg_ncols(s); ci++) {
        const sdb_seg_col *c = sdb_seg_col_at(s, ci);
        uint32_t encs[SDB_ENC__COUNT] = {0}, codecs[3] = {0};
        uint64_t rows = 0, nulls = 0, stored = 0, plain = 0;
        sdb_seg_stat mn = {0}, mx = {0};
        bool have = false;
        char etext[128], ctext[64], mintext[64] = "-", maxtext[64] = "-";
        if (c->type == SDB_TYPE_SYMBOL)
            stored += c->dict_ref.stored;
        for (uint32_t b = 0; b < c->nblocks; b++) {
            const sdb_seg_block *blk = &c->blocks[b];
            rows += blk->rows;
            nulls += blk->nulls;
            stored += blk->ref.stored + blk->filter_len;
            if (blk->nulls < blk->rows) {
                encs[blk->ref.enc]++;
                codecs[blk->ref.codec]++;
            }
            if (c->type == SDB_TYPE_STRING) {
                if (sdb_seg_read_block(s, ci, b, &buf, &err) != SDB_OK) {
                    fprintf(stderr, "spandb inspect: %s\n", err.msg);
                    continue;
                }
                plain += buf.bytes.len + 4ull * blk->rows;
            }
            if (blk->nulls == blk->rows)
                continue;
            if (!have) {
                mn = blk->min;
                mx = blk->max;
                have = true;
            } else if (c->type == SDB_TYPE_FLOAT64) {
                if (blk->min.f < mn.f)
                    mn.f = blk->min.f;
                if (blk->max.f > mx.f)
                    mx.f = blk->max.f;
            } else if (c->type == SDB_TYPE_SYMBOL) {
                if (blk->min.code < mn.code)
                    mn.code = blk->min.code;
                if (blk->max.code > mx.code)
                    mx.code = blk->max.code;
            } else {
                if (blk->min.i < mn.i)
                    mn.i = blk->min.i;
                if (blk->max.i > mx.i)
                    mx.i = blk->max.i;
            }
        }
        if (c->type == SDB_TYPE_SYMBOL) {
            plain = 4 * rows;
            for (uint32_t k = 0; k < c->dict_count; k++)
                plain += c->dict_off[k + 1] - c->dict_off[k];
        } else if (c->type != SDB_TYPE_STRING) {
            plain = rows * sdb_type_width(c->type);
        }
        if (have) {
            stat_text(mintext, sizeof mintext, c, &mn);
            stat_text(maxtext, sizeof maxtext, c, &mx);
        }
        count_list(etext, sizeof etext, encs, SDB_ENC__COUNT, enc_name);
        count_list(ctext, sizeof ctext, codecs, 3, codec_name);
        printf("%-16s %-9s %6u %10" PRIu64 " %9" PRIu64 " %-24s %-16s %12" PRIu64 " %12" PRIu64
               " %7.2f  %-24s %-24s\n",
               c->name, sdb_type_name(c->type), c->nblocks, rows, nulls, etext, ctext, plain,
               stored, stored ? (double)plain / (double)stored : 0.0, mintext, maxtext);
        tot_plain += plain;
        tot_stored += stored;
    }
    printf("%-16s %-9s %6s %10" PRIu64 " %9s %-24s %-16s %12" PRIu64 " %12" PRIu64 " %7.2f\n",
           "total", "", "", sdb_seg_rows(s), "", "", "", tot_plain, tot_stored,
           tot_stored ? (double)tot_plain / (double)tot_stored : 0.0);
    printf("bytes per row: %.2f in columns, %.2f for the whole file\n",
           (double)tot_stored / (double)sdb_seg_rows(s),
           (double)sdb_seg_file_size(s) / (double)sdb_seg_rows(s));
    sdb_seg_blockbuf_free(&buf);
    sdb_seg_close(s);
    return 0;
}

int sdb_cmd_inspect(int argc, char **argv)
{
    int rc = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: spandb inspect FILE.seg...\n");
            return 0;
        }
        if (files++)
            printf("\n");
        rc |= inspect_one(argv[i]);
    }
    if (files == 0) {
        fprintf(stderr, "usage: spandb inspect FILE.seg...\n");
        return 2;
    }
    return rc;
}
