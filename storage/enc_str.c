/* String blocks: PLAIN, CONST, DICT and HEX. Strings are arbitrary bytes (NUL, invalid
 * UTF-8, empty, megabytes long). One statistics pass computes the lengths, whether every
 * value is lower-case hex of one even length, and the distinct values (a hash table that
 * gives up once they exceed half the rows); then the smallest candidate is written.
 *
 *   PLAIN  lw u8 | packed lengths (n, lw bits) | bytes
 *   CONST  the one value's bytes (its length is the block length)
 *   DICT   ndict u32 | form u8 | dictionary | codes
 *          form bit 0 clear: lw u8 | packed dictionary lengths | dictionary bytes
 *          form bit 0 set:   h u32 | ndict x h bytes (every entry 2h hex digits, as in HEX)
 *          form bit 1 clear: codes are cw u8 | packed codes (n, cw bits, < ndict)
 *          form bit 1 set:   codes are recency-coded, as PFOR (encoding_int.h) of n values:
 *                            0 = the next value not seen before in the block, r > 0 = the
 *                            value first seen r new values ago. The dictionary is in order of
 *                            first appearance, so ids that recur close together (the spans of
 *                            one trace, sorted by time) take a few bits instead of log2(ndict).
 *   HEX    h u32 | n x h bytes (each value is 2h hex digits [0-9a-f], two per byte,
 *          high nibble first)
 * Decoders bound the bytes a block may expand to by SDB_ENC_STR_MAX_BYTES. */
#include "storage/encoding.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/encoding_int.h"
#include "storage/types.h"

#define CHUNK 2048u

#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

/* Per byte of w: the high bit set when the byte is not in [0-9a-f] (SWAR: a byte y < 0x80
 * plus 0x80 - k sets its high bit exactly when y >= k, and never carries). */
static uint64_t swar_not_hex(uint64_t w)
{
    const uint64_t y = w & ~HIGH;
    const uint64_t ge0 = (y + (0x80 - '0') * ONES) & HIGH;
    const uint64_t gt9 = (y + (0x80 - '9' - 1) * ONES) & HIGH;
    const uint64_t gea = (y + (0x80 - 'a') * ONES) & HIGH;
    const uint64_t gtf = (y + (0x80 - 'f' - 1) * ONES) & HIGH;
    const uint64_t ok = ((ge0 & ~gt9) | (gea & ~gtf)) & ~(w & HIGH);
    return ~ok & HIGH;
}

/* True when all n bytes are lower-case hex digits. */
static bool all_hex(const uint8_t *p, uint64_t n)
{
    uint64_t bad = 0, j = 0, tail = 0;
    for (; j + 8 <= n; j += 8)
        bad |= swar_not_hex(sdb_get_le64(p + j));
    if (j < n) {
        memcpy(&tail, p + j, (size_t)(n - j));
        /* pad with '0' */
        for (uint64_t k = n - j; k < 8; k++)
            tail |= (uint64_t)'0' << (8 * k);
        bad |= swar_not_hex(tail);
    }
    return bad == 0;
}

/* Two hex digits (low byte first) of every byte value, for decoding. */
#define HC(x)   ((x) < 10 ? '0' + (x) : 'a' - 10 + (x))
#define HP(b)   (uint16_t)(HC((b) >> 4) | HC((b)&15) << 8)
#define HR4(b)  HP(b), HP((b) + 1), HP((b) + 2), HP((b) + 3)
#define HR16(b) HR4(b), HR4((b) + 4), HR4((b) + 8), HR4((b) + 12)
#define HR64(b) HR16(b), HR16((b) + 16), HR16((b) + 32), HR16((b) + 48)
static const uint16_t hex_pairs[256] = {HR64(0), HR64(64), HR64(128), HR64(192)};

/* nbytes packed bytes into 2 * nbytes hex digits */
static void hex_unpack(const uint8_t *p, uint64_t nbytes, uint8_t *q)
{
    for (uint64_t j = 0; j < nbytes; j++)
        memcpy(q + 2 * j, &hex_pairs[p[j]], 2);
}

/* Value of a hex digit byte known to be [0-9a-f]: low nibble, plus 9 for letters. */
static unsigned nib(uint8_t c)
{
    return (c & 15u) + 9u * (c >> 6);
}

typedef struct str_stats {
    uint64_t total;      /* bytes of all values */
    uint64_t maxlen;     /* longest value */
    bool hex;            /* all values lower-case hex of one even length > 0 */
    uint32_t ndict;      /* distinct values; 0 when counting gave up */
    uint64_t dict_bytes; /* bytes of the distinct values */
    uint64_t dict_max;   /* longest distinct value */
    uint32_t *codes;     /* n codes by first appearance (owned; NULL when gave up) */
    uint32_t *first;     /* ndict rows: where each distinct value first appears */
} str_stats;

static bool same_str(const uint64_t *off, const char *bytes, uint32_t a, uint32_t b)
{
    const uint64_t la = off[a + 1] - off[a], lb = off[b + 1] - off[b];
    return la == lb && memcmp(bytes + off[a], bytes + off[b], la) == 0;
}

static sdb_rc str_scan(const uint64_t *off, const char *bytes, uint32_t n, bool full_dict,
                       str_stats *s, sdb_err *err)
{
    size_t cap = 16;
    uint32_t *slot;
    const uint64_t len0 = off[1] - off[0];
    memset(s, 0, sizeof *s);
    s->hex = len0 > 0 && len0 % 2 == 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint64_t l = off[i + 1] - off[i];
        if (off[i + 1] < off[i])
            return SDB_FAIL(err, SDB_ERR_MISUSE, "string block: offset %u decreases", i + 1);
        s->total += l;
        s->maxlen = l > s->maxlen ? l : s->maxlen;
        if (l != len0)
            s->hex = false;
    }
    if (s->hex)
        s->hex = all_hex((const uint8_t *)bytes + off[0], s->total);
    while (cap < 2 * (size_t)n)
        cap *= 2;
    slot = calloc(cap, sizeof *slot);
    s->codes = malloc((size_t)n * sizeof *s->codes);
    s->first = malloc((size_t)n * sizeof *s->first);
    if (slot == NULL || s->codes == NULL || s->first == NULL) {
        free(slot);
        free(s->codes);
        free(s->first);
        s->codes = s->first = NULL;
        return SDB_FAIL(err, SDB_ERR_NOMEM, "string block: no memory for %u values", n);
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint64_t l = off[i + 1] - off[i];
        size_t h = (size_t)sdb_hash64(bytes + off[i], l) & (cap - 1);
        while (slot[h] != 0 && !same_str(off, bytes, s->first[slot[h] - 1], i))
            h = (h + 1) & (cap - 1);
        if (slot[h] == 0) {
            if (s->ndict >= n / 2 + 1 && !full_dict) {
                free(s->codes);
                free(s->first);
                s->codes = s->first = NULL;
                s->ndict = 0;
                break;
            }
            s->first[s->ndict] = i;
            slot[h] = ++s->ndict;
            s->dict_bytes += l;
            s->dict_max = l > s->dict_max ? l : s->dict_max;
        }
        s->codes[i] = slot[h] - 1;
    }
    free(slot);
    return SDB_OK;
}

static void hex_pack(const uint8_t *p, uint64_t nbytes, uint8_t *q)
{
    for (uint64_t j = 0; j < nbytes; j++)
        q[j] = (uint8_t)(nib(p[2 * j]) << 4 | nib(p[2 * j + 1]));
}

/* Recency value of row i: 0 for a first appearance, else how many new values ago. */
static inline uint64_t recency(const uint32_t *codes, uint32_t i, uint32_t *next)
{
    uint32_t c = codes[i];
    if (c == *next) {
        (*next)++;
        return 0;
    }
    return (uint64_t)(*next - c);
}

/* PFOR may read the values more than once and in any order: fill from a precomputed array. */
static void recency_fill(const void *ctx, uint32_t first, uint32_t m, uint64_t *x)
{
    const uint32_t *r = ctx;
    for (uint32_t j = 0; j < m; j++)
        x[j] = r[first + j];
}

/* Bytes of the recency-coded code section, and its PFOR width. */
static size_t recency_size(uint32_t n, const str_stats *s, unsigned *width)
{
    uint32_t hist[65] = {0}, next = 0;
    for (uint32_t i = 0; i < n; i++)
        sdb_pfor_hist_add(hist, recency(s->codes, i, &next));
    return sdb_pfor_plan(hist, n, n, width);
}

/* DICT size from the statistics (form bit 0 when every value is hex), with the smaller of the
 * two code sections; *recent says which. */
static uint64_t dict_size(uint32_t n, const str_stats *s, bool *recent, unsigned *rwidth)
{
    uint64_t codes = 1 + sdb_bitpack_bytes(n, sdb_enc_bits(s->ndict - 1));
    uint64_t rcodes = recency_size(n, s, rwidth);
    *recent = rcodes < codes;
    if (*recent)
        codes = rcodes;
    if (s->hex)
        return 4 + 1 + 4 + s->dict_bytes / 2 + codes;
    return 4 + 1 + 1 + sdb_bitpack_bytes(s->ndict, sdb_enc_bits(s->dict_max)) + s->dict_bytes +
           codes;
}

static sdb_rc enc_dict(const uint64_t *off, const char *bytes, uint32_t n, const str_stats *s,
                       sdb_buf *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    const unsigned lw = sdb_enc_bits(s->dict_max), cw = sdb_enc_bits(s->ndict - 1);
    unsigned rwidth;
    bool recent;
    (void)dict_size(n, s, &recent, &rwidth);
    SDB_TRY(sdb_buf_put_le32(out, s->ndict, err));
    SDB_TRY(sdb_buf_put_u8(out, (uint8_t)((s->hex ? 1 : 0) | (recent ? 2 : 0)), err));
    if (s->hex) {
        const uint64_t h = (off[1] - off[0]) / 2;
        if (h > UINT32_MAX)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "string dict: value of %llu bytes too long",
                            (unsigned long long)(2 * h));
        SDB_TRY(sdb_buf_put_le32(out, (uint32_t)h, err));
        SDB_TRY(sdb_buf_reserve(out, (size_t)(s->dict_bytes / 2), err));
        for (uint32_t d = 0; d < s->ndict; d++) {
            const uint32_t i = s->first[d];
            hex_pack((const uint8_t *)bytes + off[i], h, out->data + out->len);
            out->len += (size_t)h;
        }
    } else {
        SDB_TRY(sdb_buf_put_u8(out, (uint8_t)lw, err));
        for (uint32_t c = 0; c < s->ndict; c += CHUNK) {
            const uint32_t m = s->ndict - c < CHUNK ? s->ndict - c : CHUNK;
            for (uint32_t j = 0; j < m; j++)
                tmp[j] = off[s->first[c + j] + 1] - off[s->first[c + j]];
            SDB_TRY(sdb_bitpack(tmp, m, lw, out, err));
        }
        for (uint32_t d = 0; d < s->ndict; d++) {
            const uint32_t i = s->first[d];
            SDB_TRY(sdb_buf_append(out, bytes + off[i], off[i + 1] - off[i], err));
        }
    }
    if (recent) {
        uint32_t *r = malloc((size_t)n * sizeof *r), next = 0;
        sdb_rc rc;
        if (r == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "string dict: no memory for %u codes", n);
        for (uint32_t i = 0; i < n; i++)
            r[i] = (uint32_t)recency(s->codes, i, &next);
        rc = sdb_pfor_write(recency_fill, r, n, 0, rwidth, out, err);
        free(r);
        return rc;
    }
    SDB_TRY(sdb_buf_put_u8(out, (uint8_t)cw, err));
    for (uint32_t c = 0; c < n; c += CHUNK) {
        const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
        for (uint32_t j = 0; j < m; j++)
            tmp[j] = s->codes[c + j];
        SDB_TRY(sdb_bitpack(tmp, m, cw, out, err));
    }
    return SDB_OK;
}

static sdb_rc enc_plain(const uint64_t *off, const char *bytes, uint32_t n, unsigned lw,
                        sdb_buf *out, sdb_err *err)
{
    uint64_t tmp[CHUNK];
    SDB_TRY(sdb_buf_put_u8(out, (uint8_t)lw, err));
    for (uint32_t c = 0; c < n; c += CHUNK) {
        const uint32_t m = n - c < CHUNK ? n - c : CHUNK;
        for (uint32_t j = 0; j < m; j++)
            tmp[j] = off[c + j + 1] - off[c + j];
        SDB_TRY(sdb_bitpack(tmp, m, lw, out, err));
    }
    return sdb_buf_append(out, bytes + off[0], off[n] - off[0], err);
}

static sdb_rc enc_hex(const uint64_t *off, const char *bytes, uint64_t total,
                      sdb_buf *out, sdb_err *err)
{
    const uint8_t *p = (const uint8_t *)bytes + off[0];
    const uint64_t h = (off[1] - off[0]) / 2;
    if (h > UINT32_MAX)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "string hex: value of %llu bytes too long",
                        (unsigned long long)(2 * h));
    SDB_TRY(sdb_buf_put_le32(out, (uint32_t)h, err));
    SDB_TRY(sdb_buf_reserve(out, total / 2, err));
    hex_pack(p, total / 2, out->data + out->len);
    out->len += total / 2;
    return SDB_OK;
}

static sdb_rc write_str(uint8_t enc, const uint64_t *off, const char *bytes, uint32_t n,
                        const str_stats *s, sdb_buf *out, sdb_err *err)
{
    switch (enc) {
    case SDB_ENC_PLAIN: return enc_plain(off, bytes, n, sdb_enc_bits(s->maxlen), out, err);
    case SDB_ENC_CONST:
        if (s->ndict != 1)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "string const: values differ");
        return sdb_buf_append(out, bytes + off[0], off[1] - off[0], err);
    case SDB_ENC_HEX:
        if (!s->hex)
            return SDB_FAIL(err, SDB_ERR_MISUSE,
                            "string hex: values are not lower-case hex of one even length");
        return enc_hex(off, bytes, s->total, out, err);
    case SDB_ENC_DICT:
        if (s->ndict == 0)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "string dict: too many distinct values");
        return enc_dict(off, bytes, n, s, out, err);
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "string block: encoding %u (%s) does not apply",
                        enc, sdb_enc_name(enc));
    }
}

static sdb_rc check_rows(const uint64_t *off, uint32_t n, sdb_err *err)
{
    if (n == 0 || n > SDB_BLOCK_ROWS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "string block: row count %u outside 1..%u", n,
                        SDB_BLOCK_ROWS);
    if (off[n] < off[0] || off[n] - off[0] > SDB_ENC_STR_MAX_BYTES)
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "string block: %llu bytes in %u values exceed the block limit of %llu",
                        (unsigned long long)(off[n] - off[0]), n,
                        (unsigned long long)SDB_ENC_STR_MAX_BYTES);
    return SDB_OK;
}

sdb_rc sdb_enc_str_as(uint8_t enc, const uint64_t *off, const char *bytes, uint32_t n,
                      sdb_buf *out, sdb_err *err)
{
    str_stats s;
    sdb_rc rc;
    SDB_TRY(check_rows(off, n, err));
    SDB_TRY(str_scan(off, bytes, n, true, &s, err));
    rc = write_str(enc, off, bytes, n, &s, out, err);
    free(s.codes);
    free(s.first);
    return rc;
}

sdb_rc sdb_enc_str(const uint64_t *off, const char *bytes, uint32_t n, sdb_buf *out, uint8_t *enc,
                   sdb_err *err)
{
    str_stats s;
    uint64_t best, size;
    uint8_t pick = SDB_ENC_PLAIN;
    sdb_rc rc;
    SDB_TRY(check_rows(off, n, err));
    SDB_TRY(str_scan(off, bytes, n, false, &s, err));
    best = 1 + sdb_bitpack_bytes(n, sdb_enc_bits(s.maxlen)) + s.total;
    if (s.ndict == 1) {
        pick = SDB_ENC_CONST;
        best = s.total / n;
    }
    if (s.hex && (size = 4 + s.total / 2) < best) {
        pick = SDB_ENC_HEX;
        best = size;
    }
    if (s.ndict > 1) {
        bool recent;
        unsigned rwidth;
        size = dict_size(n, &s, &recent, &rwidth);
        if (size < best) {
            pick = SDB_ENC_DICT;
            best = size;
        }
    }
    rc = sdb_buf_reserve(out, (size_t)best + 16, err);
    if (rc == SDB_OK)
        rc = write_str(pick, off, bytes, n, &s, out, err);
    free(s.codes);
    free(s.first);
    if (rc == SDB_OK)
        *enc = pick;
    return rc;
}

static sdb_rc too_big(const char *what, uint64_t total, sdb_err *err)
{
    return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: decodes to %llu bytes, more than %llu", what,
                    (unsigned long long)total, (unsigned long long)SDB_ENC_STR_MAX_BYTES);
}

/* Unpack n lengths of width lw from src into off[1..n], prefix-sum them into offsets
 * (off[0] = 0) and check the sum is at most limit. */
static sdb_rc lengths_to_offsets(const char *what, const uint8_t *src, uint32_t n, unsigned lw,
                                 uint64_t limit, uint64_t *off, sdb_err *err)
{
    uint64_t acc = 0;
    sdb_bitunpack(src, n, lw, off + 1);
    off[0] = 0;
    for (uint32_t i = 1; i <= n; i++) {
        if (off[i] > limit - acc)
            return SDB_FAIL(err, SDB_ERR_CORRUPT,
                            "%s block: value %u of %llu bytes overruns the %llu bytes present",
                            what, i - 1, (unsigned long long)off[i], (unsigned long long)limit);
        acc += off[i];
        off[i] = acc;
    }
    return SDB_OK;
}

static sdb_rc dec_plain(const uint8_t *src, size_t len, uint32_t n, uint64_t *off,
                        sdb_buf *bytes, sdb_err *err)
{
    const char *what = "string plain";
    unsigned lw;
    size_t hdr;
    if (len < 1)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: empty", what);
    lw = src[0];
    if (lw > 64)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: length bit width %u exceeds 64", what,
                        lw);
    hdr = 1 + sdb_bitpack_bytes(n, lw);
    if (hdr > len)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, lengths need %zu", what, len,
                        hdr);
    SDB_TRY(lengths_to_offsets(what, src + 1, n, lw, len - hdr, off, err));
    if (off[n] != len - hdr)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: lengths add to %llu, %zu bytes present",
                        what, (unsigned long long)off[n], len - hdr);
    return sdb_buf_append(bytes, src + hdr, len - hdr, err);
}

static sdb_rc dec_hex(const uint8_t *src, size_t len, uint32_t n, uint64_t *off, sdb_buf *bytes,
                      sdb_err *err)
{
    const char *what = "string hex";
    uint64_t h, total;
    uint8_t *q;
    if (len < 4)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 4", what, len);
    h = sdb_get_le32(src);
    if (h == 0 || (len - 4) / h != n || (len - 4) % h != 0)
        return SDB_FAIL(err, SDB_ERR_CORRUPT,
                        "%s block: %zu bytes do not hold %u values of %llu bytes", what, len - 4,
                        n, (unsigned long long)h);
    total = 2 * (uint64_t)(len - 4);
    if (total > SDB_ENC_STR_MAX_BYTES)
        return too_big(what, total, err);
    SDB_TRY(sdb_buf_reserve(bytes, (size_t)total, err));
    q = bytes->data;
    hex_unpack(src + 4, len - 4, q);
    bytes->len = (size_t)total;
    for (uint32_t i = 0; i <= n; i++)
        off[i] = 2 * h * i;
    return SDB_OK;
}

/* Recency-coded codes (form bit 1) of n rows into codes[0..n); the section must fill src. */
static sdb_rc dec_recency(const char *what, const uint8_t *src, size_t len, uint32_t n,
                          uint32_t ndict, uint64_t *codes, sdb_err *err)
{
    sdb_pfor p;
    size_t used;
    uint32_t cur = 0;
    uint64_t next = 0;
    SDB_TRY(sdb_pfor_open(what, src, len, n, &p, &used, err));
    if (used != len)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes after the codes", what,
                        len - used);
    sdb_pfor_get(&p, 0, n, codes, &cur);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t r = codes[i];
        if (r == 0) {
            codes[i] = next++;
        } else if (r > next) {
            return SDB_FAIL(err, SDB_ERR_CORRUPT,
                            "%s block: row %u refers %llu values back, only %llu seen", what, i,
                            (unsigned long long)r, (unsigned long long)next);
        } else {
            codes[i] = next - r;
        }
        if (next > ndict)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: more than %u distinct values", what,
                            ndict);
    }
    return SDB_OK;
}

/* codes, when not NULL, gets each row's code into the block dictionary and *ndict its size. */
static sdb_rc dec_dict(const uint8_t *src, size_t len, uint32_t n, uint64_t *off, sdb_buf *bytes,
                       uint32_t *codes, uint32_t *ndict_out, sdb_err *err)
{
    const char *what = "string dict";
    uint32_t ndict;
    unsigned cw, form;
    size_t pos;
    uint64_t *doff, total = 0;
    const uint8_t *dbytes;
    uint8_t *expanded = NULL;
    sdb_rc rc = SDB_OK;
    uint8_t *q;
    if (len < 6)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 6", what, len);
    ndict = sdb_get_le32(src);
    form = src[4];
    if (ndict == 0 || ndict > n)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %u distinct values for %u rows", what,
                        ndict, n);
    if (form > 3)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: unknown dictionary form %u", what,
                        form);
    if ((doff = malloc(((size_t)ndict + 1) * sizeof *doff)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for %u values", what, ndict);
    if ((form & 1) == 0) {
        const unsigned lw = src[5];
        size_t lbytes;
        if (lw > 64) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: length bit width %u exceeds 64", what,
                          lw);
            goto out;
        }
        lbytes = sdb_bitpack_bytes(ndict, lw);
        if (lbytes > len - 6) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT,
                          "%s block: %zu bytes, dictionary lengths need %zu", what, len,
                          6 + lbytes);
            goto out;
        }
        pos = 6 + lbytes;
        if ((rc = lengths_to_offsets(what, src + 6, ndict, lw, len - pos, doff, err)) != SDB_OK)
            goto out;
        dbytes = src + pos;
        pos += doff[ndict];
    } else {
        uint64_t h;
        if (len < 9) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, header needs 9", what, len);
            goto out;
        }
        h = sdb_get_le32(src + 5);
        if (h == 0 || h * ndict > len - 9) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT,
                          "%s block: %zu bytes do not hold %u hex values of %llu bytes", what,
                          len, ndict, (unsigned long long)h);
            goto out;
        }
        if ((expanded = malloc((size_t)(2 * h * ndict))) == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "%s: no memory for the dictionary", what);
            goto out;
        }
        hex_unpack(src + 9, h * ndict, expanded);
        for (uint32_t d = 0; d <= ndict; d++)
            doff[d] = 2 * h * d;
        dbytes = expanded;
        pos = 9 + (size_t)(h * ndict);
    }
    if (form & 2) {
        if ((rc = dec_recency(what, src + pos, len - pos, n, ndict, off + 1, err)) != SDB_OK)
            goto out;
        goto codes_done;
    }
    if (pos >= len) {
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, code width byte missing", what,
                      len);
        goto out;
    }
    cw = src[pos++];
    if (cw > 64) {
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: code bit width %u exceeds 64", what, cw);
        goto out;
    }
    if (len - pos != sdb_bitpack_bytes(n, cw)) {
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: %zu bytes, expected %zu", what, len,
                      pos + sdb_bitpack_bytes(n, cw));
        goto out;
    }
    sdb_bitunpack(src + pos, n, cw, off + 1);
codes_done:
    for (uint32_t i = 1; i <= n; i++) {
        if (off[i] >= ndict) {
            rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s block: row %u has code %llu, not below %u",
                          what, i - 1, (unsigned long long)off[i], ndict);
            goto out;
        }
        total += doff[off[i] + 1] - doff[off[i]];
    }
    if (total > SDB_ENC_STR_MAX_BYTES) {
        rc = too_big(what, total, err);
        goto out;
    }
    if ((rc = sdb_buf_reserve(bytes, (size_t)total, err)) != SDB_OK)
        goto out;
    q = bytes->data;
    off[0] = 0;
    total = 0;
    for (uint32_t i = 1; i <= n; i++) {
        const uint64_t c = off[i], l = doff[c + 1] - doff[c];
        if (l > 0)
            memcpy(q + total, dbytes + doff[c], (size_t)l);
        if (codes != NULL)
            codes[i - 1] = (uint32_t)c;
        total += l;
        off[i] = total;
    }
    bytes->len = (size_t)total;
    if (ndict_out != NULL)
        *ndict_out = ndict;
out:
    free(expanded);
    free(doff);
    return rc;
}

sdb_rc sdb_dec_str(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint64_t *off,
                   sdb_buf *bytes, sdb_err *err)
{
    return sdb_dec_str_codes(enc, src, len, n, off, bytes, NULL, NULL, err);
}

sdb_rc sdb_dec_str_codes(uint8_t enc, const uint8_t *src, size_t len, uint32_t n, uint64_t *off,
                         sdb_buf *bytes, uint32_t *codes, uint32_t *ndict, sdb_err *err)
{
    if (ndict != NULL)
        *ndict = 0;
    sdb_buf_reset(bytes);
    switch (enc) {
    case SDB_ENC_PLAIN:
        SDB_TRY(sdb_enc_check_n("string plain", n, err));
        return dec_plain(src, len, n, off, bytes, err);
    case SDB_ENC_CONST: {
        uint64_t total;
        SDB_TRY(sdb_enc_check_n("string const", n, err));
        total = (uint64_t)len * n;
        if (total > SDB_ENC_STR_MAX_BYTES)
            return too_big("string const", total, err);
        SDB_TRY(sdb_buf_reserve(bytes, (size_t)total, err));
        for (uint32_t i = 0; i < n; i++) {
            if (len > 0)
                memcpy(bytes->data + (size_t)i * len, src, len);
            off[i] = (uint64_t)i * len;
        }
        off[n] = total;
        bytes->len = (size_t)total;
        return SDB_OK;
    }
    case SDB_ENC_DICT:
        SDB_TRY(sdb_enc_check_n("string dict", n, err));
        return dec_dict(src, len, n, off, bytes, codes, ndict, err);
    case SDB_ENC_HEX:
        SDB_TRY(sdb_enc_check_n("string hex", n, err));
        return dec_hex(src, len, n, off, bytes, err);
    default:
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "string block: unknown encoding %u (%s)", enc,
                        sdb_enc_name(enc));
    }
}
