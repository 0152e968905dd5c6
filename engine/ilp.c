/* The line-protocol parser: text in, one sdb_batch per table out (engine/ilp.h).
 *
 * HOW A LINE IS FOUND. A line ends at the first LF that is not inside a quoted string
 * field value. Two pieces of code know that rule and must agree:
 *   - parse_line() parses a line in one pass. It is only called when an LF follows the
 *     line start in memory (`eol`, the first LF), which every scanning loop uses as its
 *     sentinel; a string value that runs past `eol` moves `eol` to the next LF, and when
 *     there is none in the buffer the line is INCOMPLETE.
 *   - scan_line() is a small resumable state machine over the same grammar that only
 *     looks for the end. It finds the end of a rejected line (whose parse stopped early)
 *     and the end of a line cut by a chunk boundary, whose start is kept in `carry`.
 * States of the stream (sdb_ilp.mode):
 *     NORMAL --line cut by the chunk end--> CARRY --LF found--> parse carry --> NORMAL
 *     NORMAL or CARRY --line longer than max_line or rejected before its end--> SKIP
 *     SKIP --LF found by scan_line()--> NORMAL        (a skipped line is never buffered)
 * A rejected line is reported once its end is known, and a line over max_line is always
 * reported as too long, so neither the reason nor the line count depends on the cuts.
 *
 * WHERE VALUES GO. Every table has "slots": what this parser knows about each column name
 * it met (hash-chained, kept across batches: the catalog's answer, the batch column).
 * A line pushes each value straight into its batch column; at the end the columns the
 * line did not name get a NULL and `time` gets the timestamp. A rejected line truncates
 * every column back to the batch's row count and removes the columns, slots and table it
 * created (they are always the newest, so they sit at the heads of their hash chains).
 * `pos` remembers the slot of the k-th key of the table's previous line: a line that
 * repeats its predecessor's keys matches each key with one comparison (predict_key()),
 * without scanning it. Common numbers are parsed in one pass (fast_number()), string
 * values are scanned 8 bytes at a time, and symbol columns cache their recent values. */
#include "engine/ilp.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/hash.h"

#define NONE UINT32_MAX

/* Character classes: bit set = a scanning loop of that context stops there. */
enum {
    C_HEAD = 1, /* table name and tag value: , SP \ LF CR and bytes >= 0x80 */
    C_KEY = 2,  /* tag and field keys: the same plus = */
    C_STR = 4,  /* string value: " \ LF and bytes >= 0x80 */
    C_VAL = 8,  /* unquoted value and timestamp: , SP LF CR */
};

/* What a line writes into a column. */
enum kind { K_TAG, K_INT, K_UINT, K_FLOAT, K_STRING, K_BOOL };

/* How a value of a kind is stored into a column type. */
enum action { A_REJECT, A_I64, A_I2F, A_F64, A_STR, A_BOOL };

/* The catalog's answer for a column. */
enum { CAT_UNASKED, CAT_ABSENT, CAT_PRESENT };

/* Result of parsing one line. */
enum { R_OK, R_BLANK, R_REJECT, R_INCOMPLETE, R_NOMEM };

/* scan_line() states. */
enum {
    S_START,
    S_COMMENT,
    S_HEAD,
    S_HEAD_ESC,
    S_GAP,
    S_KEY,
    S_KEY_ESC,
    S_VAL0,
    S_VAL,
    S_STR,
    S_STR_ESC,
    S_TAIL
};

enum { M_NORMAL, M_CARRY, M_SKIP };

/* Recent short values of a SYMBOL column and their dictionary codes, direct mapped, so a
 * value seen lately costs no hash of the dictionary. Only valid for the batch's column. */
#define SYMC_WAYS 16
#define SYMC_LEN  23
typedef struct ilp_symc {
    uint32_t code[SYMC_WAYS];      /* NONE when the way is empty */
    uint8_t len[SYMC_WAYS];        /* bytes of val */
    char val[SYMC_WAYS][SYMC_LEN]; /* the value */
} ilp_symc;

static inline uint32_t symc_way(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    return ((uint32_t)n ^ (uint32_t)(uint8_t)s[0] * 7u ^ (uint32_t)(uint8_t)s[n - 1] * 13u ^
            (uint32_t)(uint8_t)s[n / 2] * 3u) &
           (SYMC_WAYS - 1);
}

static void symc_clear(ilp_symc *sc)
{
    if (sc != NULL)
        memset(sc->code, 0xFF, sizeof sc->code);
}

typedef struct ilp_col {
    char *name;            /* owned, NUL terminated */
    uint32_t len;          /* bytes of name */
    uint32_t next;         /* next slot of the hash chain, NONE at its end */
    uint64_t hash;         /* of name */
    int32_t bcol;          /* column of the current batch, -1 when the batch has none */
    uint8_t cat;           /* CAT_*: what the resolver said */
    uint8_t kind;          /* enum kind written by the line of `stamp` */
    bool plain;            /* name holds none of , = SP \ : the input spells it as is */
    sdb_type cat_type;     /* the catalog's type when cat == CAT_PRESENT */
    struct ilp_symc *symc; /* SYMBOL column: recent values and their codes, or NULL */
    uint64_t hint_rows;    /* rows of this column in the last batch taken: a size hint */
    uint64_t hint_bytes;   /* STRING: bytes of this column in the last batch taken */
    uint64_t stamp;        /* sequence number of the last line that wrote it */
} ilp_col;

typedef struct ilp_table {
    char *name;      /* owned, NUL terminated */
    uint32_t len;    /* bytes of name */
    uint32_t next;   /* next table of the hash chain, NONE at its end */
    uint64_t hash;   /* of name */
    sdb_batch batch; /* column 0 is `time` */
    ilp_col *cols;   /* slots, in order of creation */
    uint32_t ncols;  /* slots used, <= max_columns - 1 */
    uint32_t cols_cap;
    uint32_t *bslot;   /* slot of batch column i (i >= 1); cols_cap + 1 entries */
    uint32_t *buckets; /* slot chain heads, mask + 1 entries */
    uint32_t mask;
    uint32_t *pos; /* slot of the k-th key of the previous line, NONE if unknown */
    uint32_t pos_cap;
    uint64_t hint_rows; /* rows of the last batch taken: a size hint for the next */
} ilp_table;

typedef struct ilp_scan {
    uint8_t st;  /* S_* */
    uint64_t nl; /* LFs passed inside string values */
} ilp_scan;

/* A parsed field value. */
typedef struct ilp_val {
    int kind;      /* enum kind */
    int64_t i;     /* K_INT, K_UINT */
    double f;      /* K_FLOAT */
    bool b;        /* K_BOOL */
    const char *s; /* K_STRING, K_TAG: borrowed */
    size_t n;
} ilp_val;

struct sdb_ilp {
    sdb_ilp_opts o;     /* with defaults filled in */
    int64_t scale;      /* nanoseconds per input time unit */
    uint8_t cls[256];   /* C_* bits per byte */
    ilp_table **tables; /* in order of creation */
    uint32_t ntables;
    uint32_t tables_cap;
    uint32_t *tbuckets; /* table chain heads, tmask + 1 entries */
    uint32_t tmask;
    ilp_table *last;  /* table of the previous line, or NULL */
    uint64_t stamp;   /* sequence number of the line being parsed */
    int mode;         /* M_* */
    uint64_t line_no; /* physical line (1-based) where the next line starts */
    uint64_t base;    /* stream offset of the first byte of the current feed */
    char *carry;      /* the start of a line cut by the end of a chunk */
    size_t carry_len;
    size_t carry_cap;
    ilp_scan sc;       /* scan_line() state in CARRY and SKIP */
    size_t skip_len;   /* SKIP: bytes of the rejected line seen so far */
    bool skip_cr;      /* SKIP: the last of them is a CR */
    uint64_t cur_line; /* line_no of the line being parsed or carried */
    uint64_t cur_off;  /* stream offset of its first byte */
    char *sk;          /* scratch for unescaped names and keys */
    size_t sk_cap;
    char *sv; /* scratch for unescaped values and number text */
    size_t sv_cap;
    /* the line being parsed, for rollback */
    ilp_table *lt;                /* its table once known */
    bool l_created;               /* the table was created by this line */
    uint32_t l_bcols;             /* batch columns before the line */
    uint32_t l_slots;             /* slots before the line */
    uint32_t l_written;           /* distinct columns written by the line (time excluded) */
    uint64_t l_nl;                /* LFs inside its string values */
    bool l_too_long;              /* rejected for its length */
    char reason[SDB_ERR_MSG_MAX]; /* why the line was rejected */
    uint64_t pending;             /* rows in batches */
    locale_t cloc;                /* the C locale for strtod_l, or (locale_t)0 */
    sdb_ilp_stats st;
};

/* ---------------------------------------------------------------- helpers */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Bytes of the valid UTF-8 sequence at q (q[0] >= 0x80), 0 when invalid. Stops at the
 * first byte that is not a continuation, so it never reads past an LF sentinel. */
static inline size_t utf8_len(const uint8_t *q)
{
    uint8_t c = q[0];
    if (c >= 0xC2 && c <= 0xDF)
        return (q[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (q[1] < lo || q[1] > hi)
            return 0;
        return (q[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (q[1] < lo || q[1] > hi)
            return 0;
        if ((q[2] & 0xC0) != 0x80)
            return 0;
        return (q[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case K_TAG: return "symbol (a tag)";
    case K_INT: return "int64";
    case K_UINT: return "uint64";
    case K_FLOAT: return "float64";
    case K_STRING: return "string";
    case K_BOOL: return "bool";
    }
    return "?";
}

static sdb_type default_type(int kind)
{
    switch (kind) {
    case K_TAG: return SDB_TYPE_SYMBOL;
    case K_INT:
    case K_UINT: return SDB_TYPE_INT64;
    case K_FLOAT: return SDB_TYPE_FLOAT64;
    case K_STRING: return SDB_TYPE_STRING;
    case K_BOOL: return SDB_TYPE_BOOL;
    }
    return SDB_TYPE_STRING;
}

/* The rule between what a line writes and the column's type (docs/line-protocol.md). */
static inline int action_for(int kind, sdb_type t)
{
    switch (kind) {
    case K_TAG:
    case K_STRING: return t == SDB_TYPE_SYMBOL || t == SDB_TYPE_STRING ? A_STR : A_REJECT;
    case K_INT:
    case K_UINT: return t == SDB_TYPE_INT64 ? A_I64 : t == SDB_TYPE_FLOAT64 ? A_I2F : A_REJECT;
    case K_FLOAT: return t == SDB_TYPE_FLOAT64 ? A_F64 : A_REJECT;
    case K_BOOL: return t == SDB_TYPE_BOOL ? A_BOOL : A_REJECT;
    }
    return A_REJECT;
}

/* memcmp(a, b, n) == 0 for the short names and values of a line, without a call. */
static inline bool same(const void *a, const void *b, size_t n)
{
    const char *x = a, *y = b;
    uint64_t u, v;
    uint32_t u4, v4;
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        if (u != v)
            return false;
    }
    if (n >= 4) {
        memcpy(&u4, x, 4);
        memcpy(&v4, y, 4);
        if (u4 != v4)
            return false;
        n -= 4;
        x += 4;
        y += 4;
    }
    for (; n > 0; n--)
        if (*x++ != *y++)
            return false;
    return true;
}

/* Word-at-a-time scanning: 8 bytes per step until one of them may stop the scan (bit 7 of
 * each flagged byte set; the lowest flag is always a real match, higher ones may not be).
 * Little-endian only; elsewhere the byte loops do all the work. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#else
#define SWAR 0
#endif
static inline uint64_t has_byte(uint64_t w, uint8_t c)
{
    uint64_t v = w ^ (ONES * c);
    return (v - ONES) & ~v & HIGHS;
}

/* Skip string-value bytes that are none of " \ LF and below 0x80. */
static inline const uint8_t *skip_str(const uint8_t *q, const uint8_t *end)
{
    if (SWAR)
        while (end - q >= 8) {
            uint64_t w, m;
            memcpy(&w, q, 8);
            m = has_byte(w, '"') | has_byte(w, '\\') | has_byte(w, '\n') | (w & HIGHS);
            if (m != 0)
                return q + (__builtin_ctzll(m) >> 3);
            q += 8;
        }
    return q;
}

/* At most this many bytes of a name or value are quoted in a message. */
#define SHOW 64
static int show_len(size_t n)
{
    return n > SHOW ? SHOW : (int)n;
}
static const char *show_more(size_t n)
{
    return n > SHOW ? "..." : "";
}

/* Record why the current line is rejected ("line N: ..."); returns R_REJECT. Bytes quoted
 * from the input that are control characters or not valid UTF-8 become '?', so the reason
 * can go into JSON or a terminal as it is. */
__attribute__((format(printf, 2, 3))) static int reject(sdb_ilp *p, const char *fmt, ...)
{
    va_list ap;
    uint8_t *c;
    int n = snprintf(p->reason, sizeof p->reason, "line %llu: ", (unsigned long long)p->cur_line);
    va_start(ap, fmt);
    vsnprintf(p->reason + n, sizeof p->reason - (size_t)n, fmt, ap);
    va_end(ap);
    for (c = (uint8_t *)p->reason; *c != '\0';) {
        size_t len = *c >= 0x80 ? utf8_len(c) : 1;
        if (len == 0 || *c < 0x20 || *c == 0x7f) {
            *c++ = '?';
            continue;
        }
        c += len;
    }
    return R_REJECT;
}

static bool grow_scratch(char **buf, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 256;
    char *b;
    if (need <= *cap)
        return true;
    while (c < need)
        c *= 2;
    b = realloc(*buf, c);
    if (b == NULL)
        return false;
    *buf = b;
    *cap = c;
    return true;
}

/* Unescape [a, b) into dst: a backslash and the byte after it form a pair; the pair is
 * replaced by that byte when it is in `set`, else both bytes are kept. Returns the length. */
static size_t unescape(char *dst, const uint8_t *a, const uint8_t *b, const char *set)
{
    char *d = dst;
    while (a < b) {
        if (*a == '\\' && a + 1 < b) {
            if (strchr(set, a[1]) != NULL) {
                *d++ = (char)a[1];
            } else {
                *d++ = '\\';
                *d++ = (char)a[1];
            }
            a += 2;
        } else {
            *d++ = (char)*a++;
        }
    }
    return (size_t)(d - dst);
}

/* The bytes of the token [a, b) with its escapes resolved: either [a, b) itself or a copy
 * in *scratch. False when out of memory. */
static inline bool token(char **scratch, size_t *cap, const uint8_t *a, const uint8_t *b, bool esc,
                         const char *set, const char **out, size_t *n)
{
    if (!esc) {
        *out = (const char *)a;
        *n = (size_t)(b - a);
        return true;
    }
    if (!grow_scratch(scratch, cap, (size_t)(b - a) + 1))
        return false;
    *n = unescape(*scratch, a, b, set);
    *out = *scratch;
    return true;
}

/* ----------------------------------------------------------- fast column pushes */

static inline void mark_valid(sdb_column *c)
{
    c->valid[c->n >> 6] |= 1ULL << (c->n & 63);
    c->n++;
}

static inline sdb_rc push_i64(sdb_column *c, int64_t v, sdb_err *err)
{
    if (c->n < c->cap) {
        c->v.i64[c->n] = v;
        mark_valid(c);
        return SDB_OK;
    }
    return sdb_column_push_i64(c, v, err);
}

static inline sdb_rc push_f64(sdb_column *c, double v, sdb_err *err)
{
    if (c->n < c->cap) {
        c->v.f64[c->n] = v;
        mark_valid(c);
        return SDB_OK;
    }
    return sdb_column_push_f64(c, v, err);
}

static inline sdb_rc push_bool(sdb_column *c, bool v, sdb_err *err)
{
    if (c->n < c->cap) {
        c->v.b8[c->n] = v ? 1 : 0;
        mark_valid(c);
        return SDB_OK;
    }
    return sdb_column_push_bool(c, v, err);
}

static inline sdb_rc push_string(sdb_column *c, const char *s, size_t n, sdb_err *err)
{
    if (c->n < c->cap && n <= c->bytes_cap - c->nbytes) {
        if (n > 0)
            memcpy(c->bytes + c->nbytes, s, n);
        c->nbytes += n;
        c->v.off[c->n + 1] = c->nbytes;
        mark_valid(c);
        return SDB_OK;
    }
    return sdb_column_push_str(c, s, n, err);
}

/* SYMBOL: a value met lately skips the dictionary. (The empty value is always cached:
 * storage/symdict.c compares a second "" against a NULL byte buffer, which UBSan flags.) */
static inline sdb_rc push_symbol(sdb_column *c, ilp_col *slot, const char *s, size_t n,
                                 sdb_err *err)
{
    uint32_t code, way = 0;
    ilp_symc *sc = slot->symc;
    if (n <= SYMC_LEN) {
        if (sc == NULL) {
            sc = slot->symc = malloc(sizeof *sc);
            symc_clear(sc);
        }
        if (sc != NULL) {
            way = symc_way(s, n);
            if (sc->code[way] != NONE && sc->len[way] == n && same(sc->val[way], s, n)) {
                if (c->n < c->cap) {
                    c->v.code[c->n] = sc->code[way];
                    mark_valid(c);
                    return SDB_OK;
                }
                return sdb_column_push_code(c, sc->code[way], err);
            }
        }
    }
    SDB_TRY(sdb_symdict_intern(c->dict, s, n, &code, err));
    if (sc != NULL && n <= SYMC_LEN) {
        memcpy(sc->val[way], s, n);
        sc->len[way] = (uint8_t)n;
        sc->code[way] = code;
    }
    return sdb_column_push_code(c, code, err);
}

/* ------------------------------------------------------------ tables and slots */

static void table_free(ilp_table *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].symc);
    }
    free(t->cols);
    free(t->bslot);
    free(t->buckets);
    free(t->pos);
    sdb_batch_free(&t->batch);
    free(t->name);
    free(t);
}

/* A fresh batch holding only `time`. */
static sdb_rc table_new_batch(ilp_table *t, sdb_err *err)
{
    sdb_batch_init(&t->batch);
    return sdb_batch_add(&t->batch, "time", 4, SDB_TYPE_TIMESTAMP, NULL, err);
}

static ilp_table *table_find(const sdb_ilp *p, const char *name, size_t n, uint64_t h)
{
    for (uint32_t i = p->tbuckets[h & p->tmask]; i != NONE; i = p->tables[i]->next) {
        ilp_table *t = p->tables[i];
        if (t->hash == h && t->len == n && same(t->name, name, n))
            return t;
    }
    return NULL;
}

static bool rehash_tables(sdb_ilp *p, uint32_t size)
{
    uint32_t *b = malloc((size_t)size * sizeof *b);
    if (b == NULL)
        return false;
    memset(b, 0xFF, (size_t)size * sizeof *b);
    for (uint32_t i = 0; i < p->ntables; i++) {
        ilp_table *t = p->tables[i];
        t->next = b[t->hash & (size - 1)];
        b[t->hash & (size - 1)] = i;
    }
    free(p->tbuckets);
    p->tbuckets = b;
    p->tmask = size - 1;
    return true;
}

/* The table named name, created when new. R_OK, R_REJECT (limit) or R_NOMEM. */
static int table_get(sdb_ilp *p, const char *name, size_t n, ilp_table **out, sdb_err *err)
{
    uint64_t h;
    ilp_table *t;
    if (p->last != NULL && p->last->len == n && same(p->last->name, name, n)) {
        *out = p->last;
        return R_OK;
    }
    h = sdb_hash64(name, n);
    t = table_find(p, name, n, h);
    if (t != NULL) {
        *out = p->last = t;
        return R_OK;
    }
    if (p->ntables >= p->o.max_tables)
        return reject(p, "too many tables: table '%.*s%s' would be table %u, the limit is %u",
                      show_len(n), name, show_more(n), p->ntables + 1, p->o.max_tables);
    if (p->ntables == p->tables_cap) {
        uint32_t cap = p->tables_cap ? p->tables_cap * 2 : 16;
        ilp_table **ts = realloc(p->tables, (size_t)cap * sizeof *ts);
        if (ts == NULL)
            goto nomem;
        p->tables = ts;
        p->tables_cap = cap;
    }
    if (p->ntables + 1 > (p->tmask + 1) / 2 && !rehash_tables(p, (p->tmask + 1) * 2))
        goto nomem;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        goto nomem;
    t->name = malloc(n + 1);
    t->buckets = malloc(16 * sizeof *t->buckets);
    if (t->name == NULL || t->buckets == NULL || table_new_batch(t, err) != SDB_OK) {
        table_free(t);
        goto nomem;
    }
    memcpy(t->name, name, n);
    t->name[n] = '\0';
    t->len = (uint32_t)n;
    t->hash = h;
    memset(t->buckets, 0xFF, 16 * sizeof *t->buckets);
    t->mask = 15;
    t->next = p->tbuckets[h & p->tmask];
    p->tbuckets[h & p->tmask] = p->ntables;
    p->tables[p->ntables++] = t;
    p->l_created = true;
    *out = p->last = t;
    return R_OK;
nomem:
    SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for table '%.*s%s'", show_len(n), name, show_more(n));
    return R_NOMEM;
}

/* Remove the newest table (created by a rejected line). */
static void table_pop(sdb_ilp *p)
{
    ilp_table *t = p->tables[--p->ntables];
    p->tbuckets[t->hash & p->tmask] = t->next;
    if (p->last == t)
        p->last = NULL;
    table_free(t);
}

static bool rehash_cols(ilp_table *t, uint32_t size)
{
    uint32_t *b = malloc((size_t)size * sizeof *b);
    if (b == NULL)
        return false;
    memset(b, 0xFF, (size_t)size * sizeof *b);
    for (uint32_t i = 0; i < t->ncols; i++) {
        ilp_col *c = &t->cols[i];
        c->next = b[c->hash & (size - 1)];
        b[c->hash & (size - 1)] = i;
    }
    free(t->buckets);
    t->buckets = b;
    t->mask = size - 1;
    return true;
}

/* The slot of key number kidx of the line, named key; created when new. */
static int slot_get(sdb_ilp *p, ilp_table *t, const char *key, size_t n, uint32_t kidx,
                    ilp_col **out, sdb_err *err)
{
    uint64_t h;
    uint32_t i;
    ilp_col *c;
    if (kidx < t->pos_cap && (i = t->pos[kidx]) < t->ncols) {
        c = &t->cols[i];
        if (c->len == n && same(c->name, key, n)) {
            *out = c;
            return R_OK;
        }
    }
    h = sdb_hash64(key, n);
    for (i = t->buckets[h & t->mask]; i != NONE; i = t->cols[i].next) {
        c = &t->cols[i];
        if (c->hash == h && c->len == n && same(c->name, key, n))
            goto found;
    }
    if (t->ncols + 1 >= p->o.max_columns)
        return reject(p,
                      "too many columns: table '%.*s%s' would get column %u ('%.*s%s'), the "
                      "limit is %u",
                      show_len(t->len), t->name, show_more(t->len), t->ncols + 2, show_len(n), key,
                      show_more(n), p->o.max_columns);
    if (t->ncols == t->cols_cap) {
        uint32_t cap = t->cols_cap ? t->cols_cap * 2 : 16;
        ilp_col *cs = realloc(t->cols, (size_t)cap * sizeof *cs);
        if (cs == NULL)
            goto nomem;
        t->cols = cs;
        uint32_t *bs = realloc(t->bslot, ((size_t)cap + 1) * sizeof *bs);
        if (bs == NULL)
            goto nomem;
        t->bslot = bs;
        t->cols_cap = cap;
    }
    if (t->ncols + 1 > (t->mask + 1) / 2 && !rehash_cols(t, (t->mask + 1) * 2))
        goto nomem;
    i = t->ncols;
    c = &t->cols[i];
    memset(c, 0, sizeof *c);
    c->name = malloc(n + 1);
    if (c->name == NULL)
        goto nomem;
    memcpy(c->name, key, n);
    c->name[n] = '\0';
    c->len = (uint32_t)n;
    c->hash = h;
    c->plain = strpbrk(c->name, ",= \\") == NULL;
    c->bcol = -1;
    c->symc = NULL;
    c->next = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = i;
    t->ncols++;
found:
    if (kidx >= t->pos_cap && kidx < p->o.max_columns) {
        uint32_t cap = t->pos_cap ? t->pos_cap : 32;
        while (cap <= kidx)
            cap *= 2;
        uint32_t *ps = realloc(t->pos, (size_t)cap * sizeof *ps);
        if (ps == NULL)
            goto nomem;
        memset(ps + t->pos_cap, 0xFF, (size_t)(cap - t->pos_cap) * sizeof *ps);
        t->pos = ps;
        t->pos_cap = cap;
    }
    if (kidx < t->pos_cap)
        t->pos[kidx] = i;
    *out = c;
    return R_OK;
nomem:
    SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for column '%.*s%s'", show_len(n), key, show_more(n));
    return R_NOMEM;
}

/* Undo everything the current line did. */
static void rollback(sdb_ilp *p)
{
    ilp_table *t = p->lt;
    if (t == NULL)
        return;
    p->lt = NULL;
    if (p->l_created) {
        table_pop(p);
        return;
    }
    for (uint32_t i = 0; i < p->l_bcols; i++)
        sdb_column_truncate(&t->batch.cols[i], t->batch.nrows);
    while (t->batch.ncols > p->l_bcols) {
        uint32_t i = --t->batch.ncols;
        t->cols[t->bslot[i]].bcol = -1;
        free(t->batch.names[i]);
        sdb_column_free(&t->batch.cols[i]);
    }
    while (t->ncols > p->l_slots) {
        ilp_col *c = &t->cols[--t->ncols];
        t->buckets[c->hash & t->mask] = c->next;
        free(c->name);
        free(c->symc);
    }
}

/* ----------------------------------------------------------------- values */

/* The common numbers in one pass: [-]digits[.digits] with at most 18 digits, or an int
 * with i or u, ending at , SP LF or CR. Returns the end, or NULL to let parse_scalar()
 * decide (exponents, long numbers, booleans and every error). Gives the same values as
 * parse_scalar() for what it accepts. */
static inline const uint8_t *fast_number(const uint8_t *cls, const uint8_t *q, ilp_val *v)
{
    bool neg = *q == '-';
    uint64_t m = 0;
    const uint8_t *d0;
    int nd, nfrac = 0;
    q += neg;
    d0 = q;
    while ((unsigned)(*q - '0') < 10)
        m = m * 10 + (unsigned)(*q++ - '0');
    nd = (int)(q - d0);
    if (nd == 0 || nd > 18)
        return NULL;
    if (*q == 'i' || *q == 'u') {
        if (!(cls[q[1]] & C_VAL) || (*q == 'u' && neg))
            return NULL;
        v->kind = *q == 'i' ? K_INT : K_UINT;
        v->i = neg ? -(int64_t)m : (int64_t)m;
        return q + 1;
    }
    if (*q == '.') {
        const uint8_t *f0 = ++q;
        while ((unsigned)(*q - '0') < 10)
            m = m * 10 + (unsigned)(*q++ - '0');
        nfrac = (int)(q - f0);
        if (nd + nfrac > 18)
            return NULL;
    }
    if (!(cls[*q] & C_VAL) || m > (1ULL << 53))
        return NULL;
    v->kind = K_FLOAT;
    v->f = (double)m / pow10_exact[nfrac];
    if (neg)
        v->f = -v->f;
    return q;
}

/* Parse an unquoted field value [a, b): number or boolean. R_OK or R_REJECT. */
static int parse_scalar(sdb_ilp *p, const uint8_t *a, const uint8_t *b, const char *kname,
                        size_t klen, ilp_val *v, sdb_err *err)
{
    const uint8_t *q = a;
    size_t len = (size_t)(b - a);
    bool neg = false, ovf = false, any = false;
    uint64_t m = 0;
    int nd = 0, nfrac = 0;
    switch (*a) {
    case 't':
    case 'T':
    case 'f':
    case 'F': {
        static const char *const words[] = {"t", "T", "true",  "True",  "TRUE",
                                            "f", "F", "false", "False", "FALSE"};
        for (int w = 0; w < 10; w++)
            if (strlen(words[w]) == len && memcmp(words[w], a, len) == 0) {
                v->kind = K_BOOL;
                v->b = w < 5;
                return R_OK;
            }
        goto bad;
    }
    default: break;
    }
    if (*q == '-') {
        neg = true;
        q++;
    }
    for (; q < b && *q >= '0' && *q <= '9'; q++) {
        unsigned d = (unsigned)(*q - '0');
        any = true;
        if (m > (UINT64_MAX - d) / 10)
            ovf = true;
        else
            m = m * 10 + d;
        if (m != 0)
            nd++;
    }
    if (q + 1 == b && (*q == 'i' || *q == 'u')) {
        if (!any)
            goto bad;
        if (*q == 'u') {
            if (neg)
                return reject(p, "invalid unsigned integer '%.*s%s' for field '%.*s%s': negative",
                              show_len(len), (const char *)a, show_more(len), show_len(klen), kname,
                              show_more(klen));
            if (ovf || m > (uint64_t)INT64_MAX)
                goto range;
            v->kind = K_UINT;
            v->i = (int64_t)m;
            return R_OK;
        }
        if (ovf || m > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
            goto range;
        v->kind = K_INT;
        v->i = neg ? (int64_t)(0 - m) : (int64_t)m;
        return R_OK;
    }
    /* float: [-] digits [. digits] [e|E [+|-] digits] */
    if (q < b && *q == '.') {
        for (q++; q < b && *q >= '0' && *q <= '9'; q++) {
            unsigned d = (unsigned)(*q - '0');
            any = true;
            if (nd < 19) {
                m = m * 10 + d;
                nfrac++;
                if (m != 0)
                    nd++;
            } else {
                ovf = true; /* too many digits for the fast path */
            }
        }
    }
    if (!any)
        goto bad;
    int64_t e10 = 0;
    if (q < b && (*q == 'e' || *q == 'E')) {
        bool eneg = false, edig = false;
        q++;
        if (q < b && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        for (; q < b && *q >= '0' && *q <= '9'; q++) {
            edig = true;
            if (e10 < 100000)
                e10 = e10 * 10 + (*q - '0');
        }
        if (!edig)
            goto bad;
        if (eneg)
            e10 = -e10;
    }
    if (q != b)
        goto bad;
    e10 -= nfrac;
    v->kind = K_FLOAT;
    if (!ovf && nd <= 19 && m <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
        double d = (double)m;
        d = e10 >= 0 ? d * pow10_exact[e10] : d / pow10_exact[-e10];
        v->f = neg ? -d : d;
        return R_OK;
    }
    if (!ovf && m == 0) {
        v->f = neg ? -0.0 : 0.0;
        return R_OK;
    }
    /* exact fallback: strtod on a NUL-terminated copy of the validated text, in the C
     * locale whatever the process's LC_NUMERIC says */
    if (!grow_scratch(&p->sv, &p->sv_cap, len + 1)) {
        SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a number of %zu bytes", len);
        return R_NOMEM;
    }
    memcpy(p->sv, a, len);
    p->sv[len] = '\0';
    errno = 0;
    v->f = p->cloc != (locale_t)0 ? strtod_l(p->sv, NULL, p->cloc) : strtod(p->sv, NULL);
    if (v->f == HUGE_VAL || v->f == -HUGE_VAL)
        return reject(p, "invalid float '%.*s%s' for field '%.*s%s': out of range", show_len(len),
                      (const char *)a, show_more(len), show_len(klen), kname, show_more(klen));
    return R_OK;
range:
    return reject(p, "invalid integer '%.*s%s' for field '%.*s%s': out of range", show_len(len),
                  (const char *)a, show_more(len), show_len(klen), kname, show_more(klen));
bad:
    return reject(p, "invalid value '%.*s%s' for field '%.*s%s'", show_len(len), (const char *)a,
                  show_more(len), show_len(klen), kname, show_more(klen));
}

/* The slot of the key at q when it is the key at the same position of the table's previous
 * line, spelled without escapes and followed by '='; else NULL. Reads stay before end. */
static inline ilp_col *predict_key(const ilp_table *t, uint32_t kidx, const uint8_t *q,
                                   const uint8_t *end)
{
    uint32_t i;
    ilp_col *c;
    if (kidx >= t->pos_cap || (i = t->pos[kidx]) >= t->ncols)
        return NULL;
    c = &t->cols[i];
    if (!c->plain || (size_t)(end - q) <= c->len || q[c->len] != '=' || !same(q, c->name, c->len))
        return NULL;
    return c;
}

/* Size a new column like the same column of the last batch taken, so a batch does not
 * grow by doubling again after every take. Best effort: growth on demand still works. */
static void reserve_hint(sdb_column *col, uint64_t rows, uint64_t bytes)
{
    if (rows > 0)
        (void)sdb_column_reserve(col, rows, NULL);
    if (col->type == SDB_TYPE_STRING && bytes > col->bytes_cap) {
        char *b = realloc(col->bytes, (size_t)bytes);
        if (b != NULL) {
            col->bytes = b;
            col->bytes_cap = bytes;
        }
    }
}

/* Store value v of key number kidx into its column (slot c when already known, else
 * looked up by key). R_OK, R_REJECT or R_NOMEM. */
static int put(sdb_ilp *p, ilp_table *t, const char *key, size_t klen, uint32_t kidx,
               const ilp_val *v, ilp_col *c, sdb_err *err)
{
    sdb_column *col;
    sdb_rc rc;
    int r, act;
    if (c == NULL) {
        if (klen == 4 && memcmp(key, "time", 4) == 0)
            return reject(p,
                          "%s 'time' is not allowed: `time` is the timestamp column of "
                          "table '%.*s%s'",
                          v->kind == K_TAG ? "tag" : "field", show_len(t->len), t->name,
                          show_more(t->len));
        if ((r = slot_get(p, t, key, klen, kidx, &c, err)) != R_OK)
            return r;
    }
    if (c->stamp == p->stamp) {
        if (v->kind == K_TAG && c->kind == K_TAG)
            return reject(p, "duplicate tag '%.*s%s'", show_len(klen), key, show_more(klen));
        if (v->kind == K_TAG || c->kind == K_TAG)
            return reject(p, "'%.*s%s' is both a tag and a field", show_len(klen), key,
                          show_more(klen));
        if (v->kind != c->kind)
            return reject(p, "field '%.*s%s' appears twice with different types (%s and %s)",
                          show_len(klen), key, show_more(klen), kind_name(c->kind),
                          kind_name(v->kind));
        /* the same field twice: the last value wins */
        col = &t->batch.cols[c->bcol];
        sdb_column_truncate(col, t->batch.nrows);
    } else {
        if (c->bcol < 0) {
            sdb_type ty = default_type(v->kind);
            int idx;
            if (c->cat == CAT_UNASKED && p->o.resolve != NULL) {
                sdb_type rt;
                if (p->o.resolve(p->o.resolve_ctx, t->name, c->name, &rt) &&
                    sdb_type_valid((int)rt)) {
                    c->cat = CAT_PRESENT;
                    c->cat_type = rt;
                } else {
                    c->cat = CAT_ABSENT;
                }
            }
            if (c->cat == CAT_PRESENT)
                ty = c->cat_type;
            if (action_for(v->kind, ty) == A_REJECT)
                goto conflict;
            rc = sdb_batch_add(&t->batch, c->name, c->len, ty, &idx, err);
            if (rc == SDB_ERR_NOMEM)
                return R_NOMEM;
            if (rc != SDB_OK)
                return reject(p, "%s", err ? err->msg : "cannot add a column");
            c->bcol = idx;
            symc_clear(c->symc);
            t->bslot[idx] = (uint32_t)(c - t->cols);
            reserve_hint(&t->batch.cols[idx], c->hint_rows, c->hint_bytes);
        }
        c->stamp = p->stamp;
        c->kind = (uint8_t)v->kind;
        p->l_written++;
        col = &t->batch.cols[c->bcol];
    }
    act = action_for(v->kind, col->type);
    switch (act) {
    case A_I64: rc = push_i64(col, v->i, err); break;
    case A_I2F: rc = push_f64(col, (double)v->i, err); break;
    case A_F64: rc = push_f64(col, v->f, err); break;
    case A_BOOL: rc = push_bool(col, v->b, err); break;
    case A_STR:
        if (col->type == SDB_TYPE_SYMBOL) {
            if (v->n > SDB_SYMBOL_MAX)
                return reject(p,
                              "value of %zu bytes for '%.*s%s' is longer than the symbol "
                              "limit of %u bytes",
                              v->n, show_len(klen), key, show_more(klen), SDB_SYMBOL_MAX);
            rc = push_symbol(col, c, v->s, v->n, err);
        } else {
            rc = push_string(col, v->s, v->n, err);
        }
        break;
    default: goto conflict;
    }
    if (rc == SDB_OK)
        return R_OK;
    if (rc == SDB_ERR_NOMEM)
        return R_NOMEM;
    return reject(p, "%s", err ? err->msg : "cannot store a value");
conflict:
    return reject(p, "column '%.*s%s' is %s in table '%.*s%s' but the line writes %s",
                  show_len(klen), key, show_more(klen),
                  sdb_type_name(c->bcol >= 0 ? t->batch.cols[c->bcol].type : c->cat_type),
                  show_len(t->len), t->name, show_more(t->len), kind_name(v->kind));
}

/* ------------------------------------------------------------------ lines */

static bool too_long(const sdb_ilp *p, const char *s, const char *lf)
{
    size_t n = (size_t)(lf - s);
    if (n > 0 && lf[-1] == '\r')
        n--;
    return n > p->o.max_line;
}

static int reject_too_long(sdb_ilp *p)
{
    p->l_too_long = true;
    return reject(p, "line is longer than the limit of %zu bytes", p->o.max_line);
}

/* Scan a name, key or tag value from q to its end: stops at a byte of class `stop` that is
 * not escaped, or at LF (a CR directly before LF also ends it). *esc says whether the token
 * holds a backslash. Returns NULL on invalid UTF-8 or a NUL byte. */
static inline const uint8_t *scan_token(const uint8_t *cls, const uint8_t *q, uint8_t stop,
                                        bool *esc)
{
    for (;;) {
        while (!(cls[*q] & stop))
            q++;
        uint8_t c = *q;
        if (c == '\\') {
            if (q[1] == '\n')
                return q + 1; /* the token ends in a backslash; the caller rejects it */
            *esc = true;
            if (q[1] >= 0x80) {
                size_t n = utf8_len(q + 1);
                if (n == 0)
                    return NULL;
                q += 1 + n;
            } else if (q[1] == '\0') {
                return NULL;
            } else {
                q += 2;
            }
        } else if (c >= 0x80) {
            size_t n = utf8_len(q);
            if (n == 0)
                return NULL;
            q += n;
        } else if (c == '\0') {
            return NULL; /* names are C strings everywhere after this */
        } else if (c == '\r' && q[1] != '\n') {
            q++;
        } else {
            return q;
        }
    }
}

static inline bool at_eol(const uint8_t *q)
{
    return *q == '\n' || (*q == '\r' && q[1] == '\n');
}

/* Parse the line at s; eol is the first LF at or after s and lies before end. On R_OK and
 * R_BLANK *next is the byte after the line's LF. With `final`, a string value still open
 * at the buffer's last LF is an error instead of R_INCOMPLETE. Any result other than
 * R_OK leaves the batches as they were. */
static int parse_line_inner(sdb_ilp *p, const char *s, const char *eol, const char *end, bool final,
                            const char **next, sdb_err *err)
{
    const uint8_t *cls = p->cls;
    const uint8_t *q = (const uint8_t *)s, *a;
    const char *tok;
    size_t n;
    bool esc = false;
    ilp_table *t = NULL;
    ilp_val v;
    uint32_t kidx = 0;
    int r;
    int64_t ts;

    while (*q == ' ' || *q == '\t')
        q++;
    if (at_eol(q) || *q == '#') {
        *next = eol + 1;
        return R_BLANK;
    }
    /* table name */
    a = q;
    if ((q = scan_token(cls, q, C_HEAD, &esc)) == NULL)
        return reject(p, "invalid UTF-8 or a NUL byte in the table name");
    if (q == a)
        return reject(p, "missing table name");
    if (q[-1] == '\\')
        return reject(p, "table name '%.*s%s' ends with a backslash", show_len((size_t)(q - a)),
                      (const char *)a, show_more((size_t)(q - a)));
    if (!token(&p->sk, &p->sk_cap, a, q, esc, ", ", &tok, &n))
        goto nomem;
    if (n > SDB_ILP_NAME_MAX)
        return reject(p, "table name of %zu bytes is longer than the limit of %u", n,
                      SDB_ILP_NAME_MAX);
    if (at_eol(q))
        return reject(p, "missing fields after table '%.*s%s'", show_len(n), tok, show_more(n));
    p->l_created = false;
    if ((r = table_get(p, tok, n, &t, err)) != R_OK)
        return r;
    p->lt = t;
    p->l_bcols = t->batch.ncols;
    p->l_slots = t->ncols;
    p->l_written = 0;

    /* tags */
    while (*q == ',') {
        const uint8_t *k0 = ++q;
        const char *key;
        size_t klen;
        ilp_col *slot = predict_key(t, kidx, q, (const uint8_t *)end);
        esc = false;
        if (slot != NULL) {
            key = slot->name;
            klen = slot->len;
            q += klen;
            goto tag_value;
        }
        if ((q = scan_token(cls, q, C_KEY, &esc)) == NULL)
            return reject(p, "invalid UTF-8 or a NUL byte in a tag key");
        if (q == k0)
            return reject(p, "missing tag key after ','");
        if (q[-1] == '\\')
            return reject(p, "tag key '%.*s%s' ends with a backslash", show_len((size_t)(q - k0)),
                          (const char *)k0, show_more((size_t)(q - k0)));
        if (*q != '=')
            return reject(p, "tag '%.*s%s' has no value", show_len((size_t)(q - k0)),
                          (const char *)k0, show_more((size_t)(q - k0)));
        if (!token(&p->sk, &p->sk_cap, k0, q, esc, ",= ", &key, &klen))
            goto nomem;
        if (klen > SDB_ILP_NAME_MAX)
            return reject(p, "tag key of %zu bytes is longer than the limit of %u", klen,
                          SDB_ILP_NAME_MAX);
    tag_value:
        a = ++q;
        esc = false;
        if ((q = scan_token(cls, q, C_HEAD, &esc)) == NULL)
            return reject(p, "invalid UTF-8 or a NUL byte in the value of tag '%.*s%s'",
                          show_len(klen), key, show_more(klen));
        if (q == a)
            return reject(p, "tag '%.*s%s' has an empty value", show_len(klen), key,
                          show_more(klen));
        if (q[-1] == '\\')
            return reject(p, "value of tag '%.*s%s' ends with a backslash", show_len(klen), key,
                          show_more(klen));
        v.kind = K_TAG;
        if (!token(&p->sv, &p->sv_cap, a, q, esc, ",= ", &v.s, &v.n))
            goto nomem;
        if (v.n > SDB_ILP_NAME_MAX)
            return reject(p, "value of tag '%.*s%s' is %zu bytes, longer than the limit of %u",
                          show_len(klen), key, show_more(klen), v.n, SDB_ILP_NAME_MAX);
        if ((r = put(p, t, key, klen, kidx++, &v, slot, err)) != R_OK)
            return r;
    }
    if (*q != ' ')
        return reject(p, "missing fields in table '%.*s%s'", show_len(t->len), t->name,
                      show_more(t->len));
    while (*q == ' ')
        q++;
    if (at_eol(q))
        return reject(p, "missing fields in table '%.*s%s'", show_len(t->len), t->name,
                      show_more(t->len));

    /* fields */
    for (bool first = true;; first = false) {
        const uint8_t *k0 = q;
        const char *key;
        size_t klen;
        ilp_col *slot = predict_key(t, kidx, q, (const uint8_t *)end);
        esc = false;
        if (slot != NULL) {
            key = slot->name;
            klen = slot->len;
            q += klen + 1;
            goto field_value;
        }
        if ((q = scan_token(cls, q, C_KEY, &esc)) == NULL)
            return reject(p, "invalid UTF-8 or a NUL byte in a field key");
        if (q == k0)
            return reject(p, "missing field key");
        if (q[-1] == '\\')
            return reject(p, "field key '%.*s%s' ends with a backslash", show_len((size_t)(q - k0)),
                          (const char *)k0, show_more((size_t)(q - k0)));
        if (*q != '=') {
            if (first)
                return reject(p,
                              "missing fields in table '%.*s%s': expected key=value, found "
                              "'%.*s%s'",
                              show_len(t->len), t->name, show_more(t->len),
                              show_len((size_t)(q - k0)), (const char *)k0,
                              show_more((size_t)(q - k0)));
            return reject(p, "field '%.*s%s' has no value", show_len((size_t)(q - k0)),
                          (const char *)k0, show_more((size_t)(q - k0)));
        }
        if (!token(&p->sk, &p->sk_cap, k0, q, esc, ",= ", &key, &klen))
            goto nomem;
        if (klen > SDB_ILP_NAME_MAX)
            return reject(p, "field key of %zu bytes is longer than the limit of %u", klen,
                          SDB_ILP_NAME_MAX);
        q++;
    field_value:
        if (*q == '"') {
            a = ++q;
            esc = false;
            for (;;) {
                q = skip_str(q, (const uint8_t *)end);
                while (!(cls[*q] & C_STR))
                    q++;
                uint8_t c = *q;
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (q[1] == '"' || q[1] == '\\') {
                        esc = true;
                        q += 2;
                    } else {
                        q++;
                    }
                } else if (c == '\n') {
                    /* an LF inside the string: the line goes on to the next LF */
                    const char *lf = memchr(q + 1, '\n', (size_t)(end - (const char *)q - 1));
                    if (lf == NULL) {
                        if (!final)
                            return R_INCOMPLETE;
                        return reject(p, "unterminated string value for field '%.*s%s'",
                                      show_len(klen), key, show_more(klen));
                    }
                    eol = lf;
                    p->l_nl++;
                    if (too_long(p, s, eol))
                        return reject_too_long(p);
                    q++;
                } else {
                    size_t len = utf8_len(q);
                    if (len == 0)
                        return reject(p, "invalid UTF-8 in the value of field '%.*s%s'",
                                      show_len(klen), key, show_more(klen));
                    q += len;
                }
            }
            v.kind = K_STRING;
            if (!token(&p->sv, &p->sv_cap, a, q, esc, "\"\\", &v.s, &v.n))
                goto nomem;
            if (v.n > SDB_ILP_VALUE_MAX)
                return reject(p,
                              "value of field '%.*s%s' is %zu bytes, longer than the limit "
                              "of %u",
                              show_len(klen), key, show_more(klen), v.n, SDB_ILP_VALUE_MAX);
            q++;
        } else if ((a = fast_number(cls, q, &v)) != NULL) {
            q = a;
        } else {
            a = q;
            while (!(cls[*q] & C_VAL))
                q++;
            if (q == a)
                return reject(p, "field '%.*s%s' has no value", show_len(klen), key,
                              show_more(klen));
            if ((r = parse_scalar(p, a, q, key, klen, &v, err)) != R_OK)
                return r;
        }
        if ((r = put(p, t, key, klen, kidx++, &v, slot, err)) != R_OK)
            return r;
        if (*q == ',') {
            q++;
            continue;
        }
        if (*q == ' ' || at_eol(q))
            break;
        return reject(p, "unexpected '%c' after the value of field '%.*s%s'", *q, show_len(klen),
                      key, show_more(klen));
    }

    /* timestamp */
    while (*q == ' ')
        q++;
    if (at_eol(q)) {
        ts = p->o.now_ns;
    } else {
        const uint8_t *t0 = q;
        uint64_t m = 0;
        bool neg = false, ovf = false;
        if (*q == '-') {
            neg = true;
            q++;
        }
        if (!(*q >= '0' && *q <= '9'))
            goto bad_ts;
        for (; *q >= '0' && *q <= '9'; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (m > (UINT64_MAX - d) / 10)
                ovf = true;
            else
                m = m * 10 + d;
        }
        if (!(cls[*q] & C_VAL) || *q == ',')
            goto bad_ts;
        if (ovf || m > (uint64_t)INT64_MAX + (neg ? 1u : 0u) ||
            __builtin_mul_overflow(neg ? (int64_t)(0 - m) : (int64_t)m, p->scale, &ts))
            return reject(p, "timestamp '%.*s%s' out of range", show_len((size_t)(q - t0)),
                          (const char *)t0, show_more((size_t)(q - t0)));
        while (*q == ' ')
            q++;
        if (!at_eol(q))
            return reject(p, "unexpected text after the timestamp");
        goto have_ts;
    bad_ts:
        while (!(cls[*q] & C_VAL))
            q++;
        return reject(p, "invalid timestamp '%.*s%s'", show_len((size_t)(q - t0)), (const char *)t0,
                      show_more((size_t)(q - t0)));
    }
have_ts:
    if (too_long(p, s, eol))
        return reject_too_long(p);
    {
        sdb_batch *b = &t->batch;
        sdb_rc rc = push_i64(&b->cols[0], ts, err);
        if (rc != SDB_OK)
            return R_NOMEM;
        if (p->l_written + 1 < b->ncols) {
            for (uint32_t i = 1; i < b->ncols; i++)
                if (b->cols[i].n == b->nrows && sdb_column_push_null(&b->cols[i], err) != SDB_OK)
                    return R_NOMEM;
        }
        b->nrows++;
    }
    p->lt = NULL;
    *next = eol + 1;
    return R_OK;
nomem:
    SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a line of %zu bytes", (size_t)(eol - s));
    return R_NOMEM;
}

static int parse_line(sdb_ilp *p, const char *s, const char *eol, const char *end, bool final,
                      const char **next, sdb_err *err)
{
    int r;
    p->stamp++;
    p->lt = NULL;
    p->l_nl = 0;
    p->l_too_long = false;
    r = parse_line_inner(p, s, eol, end, final, next, err);
    if (r != R_OK)
        rollback(p);
    return r;
}

/* Advance the end-of-line state machine over [a, b). Returns the LF that ends the line, or
 * NULL when the line goes on past b. Agrees with parse_line_inner() on every input. */
static const char *scan_line(ilp_scan *sc, const char *a, const char *b)
{
    uint8_t st = sc->st;
    for (; a < b; a++) {
        char c = *a;
        switch (st) {
        case S_START:
            if (c == ' ' || c == '\t')
                break;
            if (c == '#') {
                st = S_COMMENT;
                break;
            }
            st = S_HEAD;
            __attribute__((fallthrough));
        case S_HEAD:
            if (c == '\\')
                st = S_HEAD_ESC;
            else if (c == ' ')
                st = S_GAP;
            break;
        case S_HEAD_ESC:
            if (c != '\n')
                st = S_HEAD;
            break;
        case S_GAP:
            if (c == ' ')
                break;
            st = S_KEY;
            __attribute__((fallthrough));
        case S_KEY:
            if (c == '\\')
                st = S_KEY_ESC;
            else if (c == '=')
                st = S_VAL0;
            else if (c == ' ')
                st = S_TAIL;
            break;
        case S_KEY_ESC:
            if (c != '\n')
                st = S_KEY;
            break;
        case S_VAL0:
            if (c == '"') {
                st = S_STR;
                break;
            }
            st = S_VAL;
            __attribute__((fallthrough));
        case S_VAL:
            if (c == ',')
                st = S_KEY;
            else if (c == ' ')
                st = S_TAIL;
            break;
        case S_STR:
            if (c == '\\')
                st = S_STR_ESC;
            else if (c == '"')
                st = S_VAL;
            else if (c == '\n')
                sc->nl++;
            continue;
        case S_STR_ESC:
            if (c == '\n')
                sc->nl++;
            st = S_STR;
            continue;
        default: break; /* S_COMMENT, S_TAIL */
        }
        if (c == '\n') {
            sc->st = S_START;
            return a;
        }
    }
    sc->st = st;
    return NULL;
}

/* ------------------------------------------------------------------ feeding */

static void report(sdb_ilp *p)
{
    p->st.rejected++;
    if (p->o.on_reject != NULL)
        p->o.on_reject(p->o.reject_ctx, p->cur_line, p->cur_off, p->reason);
}

static void line_done(sdb_ilp *p, uint64_t nl_inside)
{
    p->line_no += 1 + nl_inside;
    p->st.lines += 1 + nl_inside;
}

static bool carry_append(sdb_ilp *p, const char *d, size_t n)
{
    if (!grow_scratch(&p->carry, &p->carry_cap, p->carry_len + n + 1))
        return false;
    memcpy(p->carry + p->carry_len, d, n);
    p->carry_len += n;
    return true;
}

/* The carried line is complete (it ends with its LF): parse it. */
static sdb_rc parse_carry(sdb_ilp *p, sdb_err *err)
{
    const char *next = NULL;
    const char *s = p->carry, *end = p->carry + p->carry_len;
    const char *eol = memchr(s, '\n', p->carry_len);
    uint64_t nl = p->sc.nl;
    int r = parse_line(p, s, eol, end, true, &next, err);
    p->mode = M_NORMAL;
    p->carry_len = 0;
    p->sc.st = S_START;
    p->sc.nl = 0;
    if (r == R_NOMEM)
        return SDB_ERR_NOMEM;
    if (r == R_OK) {
        p->st.rows++;
        p->pending++;
    } else if (r == R_REJECT) {
        report(p);
    } else if (r == R_INCOMPLETE) {
        reject(p, "unterminated string value");
        report(p);
    }
    line_done(p, nl);
    return SDB_OK;
}

/* Bytes of a line without its LF and the CR before it: `before` bytes seen in earlier
 * chunks (the last of them a CR when before_cr), then [s, lf). */
static size_t line_content(size_t before, bool before_cr, const char *s, const char *lf)
{
    size_t n = before + (size_t)(lf - s);
    bool cr = lf > s ? lf[-1] == '\r' : before_cr;
    return cr && n > 0 ? n - 1 : n;
}

/* A rejected line has ended: report it. Its length decides first, so the reason does not
 * depend on how the input was cut into chunks. */
static void reject_done(sdb_ilp *p, size_t content, uint64_t nl)
{
    if (content > p->o.max_line && !p->l_too_long)
        reject_too_long(p);
    report(p);
    line_done(p, nl);
    p->sc.st = S_START;
    p->sc.nl = 0;
}

/* A rejected line goes on past this chunk: skip the rest, report when its end is known. */
static void skip_start(sdb_ilp *p, size_t seen, const char *end)
{
    p->mode = M_SKIP;
    p->skip_len = seen;
    p->skip_cr = end[-1] == '\r';
}

sdb_rc sdb_ilp_feed(sdb_ilp *p, const void *data, size_t len, sdb_err *err)
{
    const char *s = data, *end = s + len, *next = NULL, *lf;
    sdb_rc rc = SDB_OK;
    if (len == 0)
        return SDB_OK;
    p->st.bytes += len;
    if (p->mode == M_SKIP) {
        if ((lf = scan_line(&p->sc, s, end)) == NULL) {
            skip_start(p, p->skip_len + len, end);
            goto out;
        }
        p->mode = M_NORMAL;
        reject_done(p, line_content(p->skip_len, p->skip_cr, s, lf), p->sc.nl);
        s = lf + 1;
    } else if (p->mode == M_CARRY) {
        lf = scan_line(&p->sc, s, end);
        size_t content = lf != NULL
                             ? line_content(p->carry_len, p->carry[p->carry_len - 1] == '\r', s, lf)
                             : p->carry_len + len;
        /* without its LF yet, a line may still end in CR LF: one byte more is allowed */
        if (content > p->o.max_line + (lf == NULL)) {
            reject_too_long(p);
            if (lf == NULL) {
                skip_start(p, p->carry_len + len, end);
                p->carry_len = 0;
                goto out;
            }
            p->carry_len = 0;
            p->mode = M_NORMAL;
            reject_done(p, content, p->sc.nl);
            s = lf + 1;
        } else if (lf == NULL) {
            if (!carry_append(p, s, len))
                goto nomem;
            goto out;
        } else {
            if (!carry_append(p, s, (size_t)(lf - s) + 1))
                goto nomem;
            if ((rc = parse_carry(p, err)) != SDB_OK)
                goto out;
            s = lf + 1;
        }
    }
    while (s < end) {
        size_t avail = (size_t)(end - s);
        size_t lim = avail < p->o.max_line + 2 ? avail : p->o.max_line + 2;
        int r;
        p->cur_line = p->line_no;
        p->cur_off = p->base + (uint64_t)(s - (const char *)data);
        p->l_too_long = false;
        lf = memchr(s, '\n', lim);
        if (lf == NULL) {
            if (avail >= p->o.max_line + 2) {
                r = reject_too_long(p);
            } else {
                r = R_INCOMPLETE;
            }
        } else if (too_long(p, s, lf)) {
            r = reject_too_long(p);
        } else {
            r = parse_line(p, s, lf, end, false, &next, err);
        }
        if (r == R_OK || r == R_BLANK) {
            if (r == R_OK) {
                p->st.rows++;
                p->pending++;
            }
            line_done(p, p->l_nl);
            s = next;
            continue;
        }
        if (r == R_NOMEM) {
            rc = SDB_ERR_NOMEM;
            goto out;
        }
        if (r == R_INCOMPLETE && avail >= p->o.max_line + 2)
            r = reject_too_long(p);
        p->sc.st = S_START;
        p->sc.nl = 0;
        if (r == R_INCOMPLETE) {
            /* keep the start of the line; scan it so the next feed resumes the scan */
            p->carry_len = 0;
            if (!carry_append(p, s, avail))
                goto nomem;
            scan_line(&p->sc, s, end);
            p->mode = M_CARRY;
            goto out;
        }
        if ((lf = scan_line(&p->sc, s, end)) == NULL) {
            skip_start(p, avail, end);
            goto out;
        }
        reject_done(p, line_content(0, false, s, lf), p->sc.nl);
        s = lf + 1;
    }
out:
    p->base += len;
    return rc;
nomem:
    p->base += len;
    return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to keep a line of %zu bytes",
                    p->carry_len + len);
}

sdb_rc sdb_ilp_finish(sdb_ilp *p, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    if (p->mode == M_CARRY && p->carry_len - (p->carry[p->carry_len - 1] == '\r') > p->o.max_line) {
        /* the carry may hold one byte more than a line, waiting for a CR LF */
        reject_too_long(p);
        reject_done(p, p->carry_len, p->sc.nl);
    } else if (p->mode == M_CARRY) {
        if (!carry_append(p, "\n", 1))
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to end a line");
        rc = parse_carry(p, err);
    } else if (p->mode == M_SKIP) {
        reject_done(p, p->skip_len - (p->skip_cr ? 1 : 0), p->sc.nl);
    }
    p->mode = M_NORMAL;
    p->carry_len = 0;
    p->sc.st = S_START;
    p->sc.nl = 0;
    p->line_no = 1;
    p->base = 0;
    return rc;
}

/* ------------------------------------------------------------ life cycle */

sdb_rc sdb_ilp_create(const sdb_ilp_opts *opts, sdb_ilp **out, sdb_err *err)
{
    static const int64_t scales[] = {1, 1000, 1000000, 1000000000};
    sdb_ilp *p;
    *out = NULL;
    if (opts != NULL && (unsigned)opts->precision > SDB_ILP_S)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "bad timestamp precision %d", (int)opts->precision);
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a line-protocol parser");
    if (opts != NULL)
        p->o = *opts;
    if (p->o.max_line == 0)
        p->o.max_line = SDB_ILP_MAX_LINE_DEFAULT;
    if (p->o.max_tables == 0 || p->o.max_tables > SDB_ILP_MAX_TABLES)
        p->o.max_tables = SDB_ILP_MAX_TABLES;
    if (p->o.max_columns == 0 || p->o.max_columns > SDB_ILP_MAX_COLUMNS)
        p->o.max_columns = SDB_ILP_MAX_COLUMNS;
    if (p->o.max_line > SIZE_MAX / 4)
        p->o.max_line = SIZE_MAX / 4;
    p->scale = scales[p->o.precision];
    p->cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); /* (locale_t)0: plain strtod */
    for (int c = 0x80; c < 256; c++)
        p->cls[c] = C_HEAD | C_KEY | C_STR;
    p->cls[','] = C_HEAD | C_KEY | C_VAL;
    p->cls[' '] = C_HEAD | C_KEY | C_VAL;
    p->cls['\\'] = C_HEAD | C_KEY | C_STR;
    p->cls['\n'] = C_HEAD | C_KEY | C_STR | C_VAL;
    p->cls['\r'] = C_HEAD | C_KEY | C_VAL;
    p->cls['='] = C_KEY;
    p->cls['"'] = C_STR;
    p->cls[0] = C_HEAD | C_KEY;
    p->line_no = 1;
    p->tbuckets = malloc(64 * sizeof *p->tbuckets);
    if (p->tbuckets == NULL) {
        free(p);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a line-protocol parser");
    }
    memset(p->tbuckets, 0xFF, 64 * sizeof *p->tbuckets);
    p->tmask = 63;
    *out = p;
    return SDB_OK;
}

void sdb_ilp_destroy(sdb_ilp *p)
{
    if (p == NULL)
        return;
    for (uint32_t i = 0; i < p->ntables; i++)
        table_free(p->tables[i]);
    free(p->tables);
    free(p->tbuckets);
    free(p->carry);
    free(p->sk);
    free(p->sv);
    if (p->cloc != (locale_t)0)
        freelocale(p->cloc);
    free(p);
}

void sdb_ilp_set_now(sdb_ilp *p, int64_t now_ns)
{
    p->o.now_ns = now_ns;
}

uint64_t sdb_ilp_pending(const sdb_ilp *p)
{
    return p->pending;
}

sdb_ilp_stats sdb_ilp_get_stats(const sdb_ilp *p)
{
    return p->st;
}

sdb_rc sdb_ilp_take(sdb_ilp *p, sdb_ilp_table **tables, uint32_t *ntables, sdb_err *err)
{
    uint32_t n = 0, k = 0;
    sdb_ilp_table *out;
    sdb_batch *fresh;
    *tables = NULL;
    *ntables = 0;
    for (uint32_t i = 0; i < p->ntables; i++)
        n += p->tables[i]->batch.nrows > 0;
    if (n == 0)
        return SDB_OK;
    out = calloc(n, sizeof *out);
    fresh = calloc(n, sizeof *fresh);
    if (out == NULL || fresh == NULL)
        goto nomem;
    /* everything that can fail first: names and the empty batches that replace these */
    for (uint32_t i = 0; i < p->ntables; i++) {
        ilp_table *t = p->tables[i];
        if (t->batch.nrows == 0)
            continue;
        out[k].name = malloc(t->len + 1);
        if (out[k].name == NULL)
            goto nomem;
        memcpy(out[k].name, t->name, t->len + 1);
        sdb_batch_init(&fresh[k]);
        if (sdb_batch_add(&fresh[k], "time", 4, SDB_TYPE_TIMESTAMP, NULL, err) != SDB_OK)
            goto nomem;
        k++;
    }
    k = 0;
    for (uint32_t i = 0; i < p->ntables; i++) {
        ilp_table *t = p->tables[i];
        if (t->batch.nrows == 0)
            continue;
        out[k].batch = t->batch;
        t->batch = fresh[k++];
        t->hint_rows = out[k - 1].batch.nrows;
        (void)sdb_column_reserve(&t->batch.cols[0], t->hint_rows, NULL);
        for (uint32_t c = 0; c < t->ncols; c++) {
            const sdb_column *old =
                t->cols[c].bcol >= 0 ? &out[k - 1].batch.cols[t->cols[c].bcol] : NULL;
            t->cols[c].hint_rows = old != NULL ? old->n : 0;
            t->cols[c].hint_bytes = old != NULL && old->type == SDB_TYPE_STRING ? old->nbytes : 0;
            t->cols[c].bcol = -1;
            symc_clear(t->cols[c].symc);
            if (t->cols[c].cat == CAT_ABSENT)
                t->cols[c].cat = CAT_UNASKED; /* the taken batch may have created it */
        }
    }
    free(fresh);
    p->pending = 0;
    *tables = out;
    *ntables = n;
    return SDB_OK;
nomem:
    if (fresh != NULL)
        for (uint32_t i = 0; i < n; i++)
            sdb_batch_free(&fresh[i]);
    free(fresh);
    sdb_ilp_tables_free(out, out != NULL ? n : 0);
    return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to hand over %u tables", n);
}

void sdb_ilp_tables_free(sdb_ilp_table *tables, uint32_t ntables)
{
    if (tables == NULL)
        return;
    for (uint32_t i = 0; i < ntables; i++) {
        free(tables[i].name);
        sdb_batch_free(&tables[i].batch);
    }
    free(tables);
}
