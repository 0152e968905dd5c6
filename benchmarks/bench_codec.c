/* Codec benchmark: realistic LLM span columns (generated inline from a fixed seed) through
 * the column encodings (storage/encoding.h) and each general-purpose codec (none, lz4,
 * zstd-1, zstd-3). Prints this machine's memory read bandwidth first, then one table:
 * per column x codec the encode and decode speed (MB/s of raw, in-memory data), decoded
 * values per second, bytes per value and the ratio to the raw size (8 bytes per int64 /
 * float64 / timestamp value, 4 per symbol code, the string bytes for strings).
 * Blocks are 65,536 rows and decode into one reused block buffer (as a scan does). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/codec.h"
#include "storage/encoding.h"
#include "storage/types.h"

#define NROWS  (16u * SDB_BLOCK_ROWS) /* 1,048,576 spans */
#define NBLK   (NROWS / SDB_BLOCK_ROWS)
#define REPEAT 5

enum { C_TS, C_I64, C_F64, C_CODE, C_STR };

typedef struct column {
    const char *name;
    int kind;
    int64_t *i64;
    double *f64;
    uint32_t *code;
    uint32_t ncodes;
    uint64_t *off; /* C_STR: NROWS + 1 offsets into bytes */
    char *bytes;
    double raw;    /* in-memory bytes */
} column;

static uint64_t rng_state = 42;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return ((double)(rnd() >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(6.283185307179586 * unif());
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const sdb_err *err)
{
    fprintf(stderr, "bench_codec: %s: %s\n", what, err->msg);
    exit(1);
}

/* Sum a 1 GiB array of uint64 (best of 3): the ceiling of anything memory bound. */
static double mem_bandwidth(uint64_t *check)
{
    const size_t n = (size_t)1 << 27;
    uint64_t *a = malloc(n * sizeof *a);
    double best = 0;
    if (a == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        a[i] = i;
    for (int r = 0; r < 3; r++) {
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double t = now_s();
        for (size_t i = 0; i < n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        t = now_s() - t;
        *check += s0 + s1 + s2 + s3;
        if (n * 8 / t > best)
            best = (double)(n * 8) / t;
    }
    free(a);
    return best;
}

static void make_columns(column *c, int *ncols)
{
    int64_t *ts = malloc(NROWS * 8), *tin = malloc(NROWS * 8), *tout = malloc(NROWS * 8);
    int64_t *wide = malloc(NROWS * 8);
    double *lat = malloc(NROWS * 8), *cost = malloc(NROWS * 8);
    uint32_t *model = malloc(NROWS * 4);
    uint64_t *off = malloc((NROWS + 1) * 8);
    char *hex = malloc((size_t)NROWS * 32), *sid = malloc((size_t)NROWS * 16);
    uint64_t *soff = malloc((NROWS + 1) * 8);
    double *rel = malloc(NROWS * 8);
    double zipf[12], zsum = 0;
    static const double price_in[12] = {2.5e-6, 1.5e-7, 3e-6, 8e-7, 1e-5, 5e-7,
                                        2e-6,   1.1e-6, 6e-7, 4e-6, 9e-8, 1.25e-6};
    int64_t t = INT64_C(1767225600000000000); /* 2026-01-01 */
    uint64_t trace = 0;
    if (!ts || !tin || !tout || !wide || !lat || !cost || !model || !off || !hex || !sid ||
        !soff || !rel) {
        fprintf(stderr, "bench_codec: out of memory\n");
        exit(1);
    }
    for (int k = 0; k < 12; k++)
        zsum += zipf[k] = 1.0 / pow(k + 1, 1.1);
    off[0] = soff[0] = 0;
    for (uint32_t i = 0; i < NROWS; i++) {
        const uint64_t span = rnd();
        double u = unif() * zsum, acc = 0;
        uint32_t m = 11;
        /* ~1000 spans/s with jitter: gaps of 1 ms +- 0.6 ms */
        t += 400000 + (int64_t)(rnd() % 1200000);
        ts[i] = t;
        /* latency: lognormal around 800 ms with a heavy tail, printed with 3 decimals */
        lat[i] = round(exp(log(800.0) + 1.1 * gauss()) * 1000.0) / 1000.0;
        /* tokens: Pareto tails */
        tin[i] = (int64_t)fmin(120000.0, 40.0 * pow(unif(), -1.0 / 1.3));
        tout[i] = (int64_t)fmin(16000.0, 10.0 * pow(unif(), -1.0 / 1.5));
        for (uint32_t k = 0; k < 12; k++) {
            acc += zipf[k];
            if (u <= acc) {
                m = k;
                break;
            }
        }
        model[i] = m;
        /* cost in USD to 10 decimals */
        cost[i] = round(((double)tin[i] * price_in[m] + (double)tout[i] * 4 * price_in[m]) *
                        1e10) / 1e10;
        /* ~5 spans per trace, consecutive */
        if (i == 0 || rnd() % 5 == 0)
            trace = rnd() ^ (rnd() << 1);
        for (int j = 0; j < 32; j++) {
            uint64_t h = j < 16 ? trace : trace * 0x9e3779b97f4a7c15ULL;
            hex[(size_t)i * 32 + (size_t)j] = "0123456789abcdef"[(h >> (4 * (j % 16))) & 15];
        }
        off[i + 1] = (uint64_t)(i + 1) * 32;
        /* span ids: 16 hex digits, unique */
        for (int j = 0; j < 16; j++)
            sid[(size_t)i * 16 + (size_t)j] = "0123456789abcdef"[(span >> (4 * j)) & 15];
        soff[i + 1] = (uint64_t)(i + 1) * 16;
        /* relevance score: a full-precision double in [0, 1] */
        rel[i] = unif();
        wide[i] = (int64_t)(rnd() & 0xfffff);
    }
    c[0] = (column){"time", C_TS, .i64 = ts, .raw = NROWS * 8.0};
    c[1] = (column){"duration_ms", C_F64, .f64 = lat, .raw = NROWS * 8.0};
    c[2] = (column){"input_tokens", C_I64, .i64 = tin, .raw = NROWS * 8.0};
    c[3] = (column){"output_tokens", C_I64, .i64 = tout, .raw = NROWS * 8.0};
    c[4] = (column){"model", C_CODE, .code = model, .ncodes = 12, .raw = NROWS * 4.0};
    c[5] = (column){"trace_id", C_STR, .off = off, .bytes = hex, .raw = NROWS * 32.0};
    c[6] = (column){"cost_usd", C_F64, .f64 = cost, .raw = NROWS * 8.0};
    c[7] = (column){"span_id", C_STR, .off = soff, .bytes = sid, .raw = NROWS * 16.0};
    c[8] = (column){"relevance", C_F64, .f64 = rel, .raw = NROWS * 8.0};
    c[9] = (column){"int64 for w=20", C_I64, .i64 = wide, .raw = NROWS * 8.0};
    *ncols = 10;
}

typedef struct stored {
    sdb_buf data;             /* all blocks back to back */
    size_t at[NBLK + 1];      /* block offsets in data */
    size_t enc_len[NBLK];     /* encoded size before the codec */
    uint8_t enc[NBLK];        /* encoding per block */
} stored;

static void encode_all(const column *c, sdb_codec codec, int level, sdb_codec_ctx *ctx,
                       stored *s, sdb_buf *tmp)
{
    sdb_err err;
    sdb_buf_reset(&s->data);
    for (uint32_t b = 0; b < NBLK; b++) {
        const uint32_t r = b * SDB_BLOCK_ROWS, n = SDB_BLOCK_ROWS;
        sdb_rc rc;
        sdb_buf_reset(tmp);
        s->at[b] = s->data.len;
        switch (c->kind) {
        case C_TS:
        case C_I64: rc = sdb_enc_i64(c->i64 + r, n, tmp, &s->enc[b], &err); break;
        case C_F64: rc = sdb_enc_f64(c->f64 + r, n, tmp, &s->enc[b], &err); break;
        case C_CODE: rc = sdb_enc_code(c->code + r, n, c->ncodes, tmp, &s->enc[b], &err); break;
        default: rc = sdb_enc_str(c->off + r, c->bytes, n, tmp, &s->enc[b], &err); break;
        }
        if (rc != SDB_OK)
            die(c->name, &err);
        s->enc_len[b] = tmp->len;
        if (sdb_codec_compress(ctx, codec, level, tmp->data, tmp->len, &s->data, &err) != SDB_OK)
            die("compress", &err);
    }
    s->at[NBLK] = s->data.len;
}

static uint64_t decode_all(const column *c, sdb_codec codec, sdb_codec_ctx *ctx,
                           const stored *s, uint8_t *scratch, void *out, sdb_buf *sbytes)
{
    sdb_err err;
    uint64_t check = 0;
    for (uint32_t b = 0; b < NBLK; b++) {
        const uint8_t *src = s->data.data + s->at[b];
        const uint32_t n = SDB_BLOCK_ROWS;
        sdb_rc rc;
        if (codec != SDB_CODEC_NONE) {
            if (sdb_codec_decompress(ctx, codec, src, s->at[b + 1] - s->at[b], scratch,
                                     s->enc_len[b], &err) != SDB_OK)
                die("decompress", &err);
            src = scratch;
        }
        switch (c->kind) {
        case C_TS:
        case C_I64: rc = sdb_dec_i64(s->enc[b], src, s->enc_len[b], n, out, &err); break;
        case C_F64: rc = sdb_dec_f64(s->enc[b], src, s->enc_len[b], n, out, &err); break;
        case C_CODE:
            rc = sdb_dec_code(s->enc[b], src, s->enc_len[b], n, c->ncodes, out, &err);
            break;
        default: rc = sdb_dec_str(s->enc[b], src, s->enc_len[b], n, out, sbytes, &err); break;
        }
        if (rc != SDB_OK)
            die(c->name, &err);
        check += ((const uint32_t *)out)[b % 1024];
    }
    return check;
}

int main(void)
{
    static const struct {
        sdb_codec c;
        int level;
        const char *name;
    } codecs[] = {{SDB_CODEC_NONE, 0, "none"},
                  {SDB_CODEC_LZ4, 0, "lz4"},
                  {SDB_CODEC_ZSTD, 1, "zstd-1"},
                  {SDB_CODEC_ZSTD, 3, "zstd-3"}};
    column cols[10];
    int ncols;
    uint64_t check = 0;
    sdb_codec_ctx *ctx = sdb_codec_ctx_create();
    stored *s = calloc(1, sizeof *s);
    sdb_buf tmp = SDB_BUF_INIT, sbytes = SDB_BUF_INIT;
    uint8_t *scratch = malloc((size_t)SDB_BLOCK_ROWS * 40);
    void *out = malloc(((size_t)SDB_BLOCK_ROWS + 1) * 8);
    if (!ctx || !s || !scratch || !out)
        return 1;
    printf("memory read bandwidth (sum of 1 GiB uint64, best of 3): %.2f GB/s\n",
           mem_bandwidth(&check) / 1e9);
    make_columns(cols, &ncols);
    printf("%u rows in %u blocks of %u; speeds are MB/s (GB/s = /1000) of raw in-memory data,"
           " best of %d\n\n",
           NROWS, NBLK, SDB_BLOCK_ROWS, REPEAT);
    printf("%-15s %-8s %-8s %10s %10s %12s %9s %7s\n", "column", "encoding", "codec", "enc MB/s",
           "dec MB/s", "dec vals/s", "B/value", "ratio");
    for (int ci = 0; ci < ncols; ci++) {
        const column *c = &cols[ci];
        for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
            double tenc = 1e30, tdec = 1e30;
            int hist[SDB_ENC__COUNT] = {0}, top = 0;
            for (int r = 0; r < REPEAT; r++) {
                double t0 = now_s();
                encode_all(c, codecs[k].c, codecs[k].level, ctx, s, &tmp);
                t0 = now_s() - t0;
                tenc = t0 < tenc ? t0 : tenc;
            }
            for (int r = 0; r < REPEAT; r++) {
                double t0 = now_s();
                check += decode_all(c, codecs[k].c, ctx, s, scratch, out, &sbytes);
                t0 = now_s() - t0;
                tdec = t0 < tdec ? t0 : tdec;
            }
            for (uint32_t b = 0; b < NBLK; b++)
                hist[s->enc[b]]++;
            for (int e = 0; e < SDB_ENC__COUNT; e++)
                top = hist[e] > hist[top] ? e : top;
            printf("%-15s %-8s %-8s %10.0f %10.0f %12.3g %9.3f %7.2f\n", c->name,
                   sdb_enc_name((uint8_t)top), codecs[k].name, c->raw / tenc / 1e6,
                   c->raw / tdec / 1e6, NROWS / tdec, (double)s->data.len / NROWS,
                   c->raw / (double)s->data.len);
        }
    }
    printf("\nchecksum %llx\n", (unsigned long long)check);
    sdb_codec_ctx_destroy(ctx);
    sdb_buf_free(&s->data);
    sdb_buf_free(&tmp);
    sdb_buf_free(&sbytes);
    free(s);
    free(scratch);
    free(out);
    for (int ci = 0; ci < ncols; ci++) {
        free(cols[ci].i64);
        free(cols[ci].f64);
        free(cols[ci].code);
        free(cols[ci].off);
        free(cols[ci].bytes);
    }
    return 0;
}
