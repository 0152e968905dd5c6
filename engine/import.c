/* The import plumbing common to every format: format names and detection, the JSON reader
 * driving a format's callbacks, records into column batches (canonical columns, extra
 * `attr_*` columns typed by the catalog or the first value), the span_id dedup set, cost from
 * the price table, and batch writes. */
#include "engine/import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/import_int.h"
#include "engine/run.h"
#include "storage/common/hash.h"
#include "storage/common/timefmt.h"

#define EXTRA_COLS_MAX 200u  /* attr_* columns one import adds to the span table */
#define COLNAME_MAX 128u
/* accepted span times: [1970-01-01, 2200-01-01) */
#define TIME_MIN_NS 0
#define TIME_MAX_NS 7258118400000000000LL

/* The span_id dedup set: 64-bit hashes of the ids in IDSET_SHARDS open-addressing tables
 * (linear probing, 0 is the empty slot), the shard chosen by the hash's top bits and the slot
 * by its low 32 bits scaled to the shard's capacity. A shard grows by a quarter when it would
 * pass 80 % full, so the set takes 10 to 12.5 bytes per id, and a growth holds one shard
 * twice (1/64 of the set), not the whole set. */
#define IDSET_SHARDS 64u
#define IDSET_MIN_CAP 1024u

typedef struct idshard {
    uint64_t *slots;
    uint32_t cap;  /* slots (0 until the first id) */
    uint32_t n;    /* ids held */
} idshard;

typedef struct idset {
    idshard sh[IDSET_SHARDS];
    size_t n;      /* ids over all shards */
} idset;

/* span_id hash -> hallucination verdict, from evaluations read before their spans. */
typedef struct evalmap {
    uint64_t *keys;  /* 0 = empty */
    uint8_t *vals;
    size_t cap;      /* power of two */
    size_t n;
} evalmap;

/* The scores table columns. */
enum { SC_TIME, SC_TRACE, SC_SPAN, SC_SESSION, SC_NAME, SC_VALUE, SC_LABEL, SC_SOURCE, SC_TARGET,
       SC_COMMENT, SC_ID, SC_NCOLS };
static const struct {
    const char *name;
    sdb_type type;
} score_cols[SC_NCOLS] = {
    {"time", SDB_TYPE_TIMESTAMP}, {"trace_id", SDB_TYPE_STRING}, {"span_id", SDB_TYPE_STRING},
    {"session_id", SDB_TYPE_STRING}, {"name", SDB_TYPE_SYMBOL}, {"value", SDB_TYPE_FLOAT64},
    {"label", SDB_TYPE_SYMBOL}, {"source", SDB_TYPE_SYMBOL}, {"target_kind", SDB_TYPE_SYMBOL},
    {"comment", SDB_TYPE_STRING}, {"score_id", SDB_TYPE_STRING},
};

struct sdb_import {
    sdb_db *db;
    sdb_import_opts o;
    const char *table;          /* span table */
    sdb_import_format fmt;      /* of the current file */
    sdb_jtree *jt;              /* reader of the current JSON file */
    sdb_csv *csv;               /* reader of the current CSV file */
    sdb_batch spans;            /* pending span rows */
    int idx[SDB_SPANS_NCOLS];   /* canonical column -> spans batch column */
    sdb_batch scores;           /* pending score rows */
    int sidx[SC_NCOLS];
    uint32_t extra_cols;        /* attr_* columns added */
    idset seen;                 /* span_id hashes (dedup) */
    uint8_t *seeded;            /* a bit per hour since 1970: the ids the table held in that
                                   hour are in seen (NULL: nothing to seed from) */
    evalmap halluc;             /* hallucination verdicts waiting for their spans */
    sdb_import_stats st;
};

const char *sdb_import_format_name(sdb_import_format f)
{
    static const char *const names[] = {"auto", "ilp", "otlp-json", "langfuse", "langsmith",
                                        "phoenix", "csv"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

bool sdb_import_format_parse(const char *name, sdb_import_format *f)
{
    for (int i = SDB_IMPORT_AUTO; i <= SDB_IMPORT_CSV; i++)
        if (strcmp(name, sdb_import_format_name((sdb_import_format)i)) == 0) {
            *f = (sdb_import_format)i;
            return true;
        }
    if (strcmp(name, "otlp") == 0) {
        *f = SDB_IMPORT_OTLP_JSON;
        return true;
    }
    return false;
}

static bool has_text(const char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (h[i] == needle[0] && memcmp(h + i, needle, k) == 0)
            return true;
    return false;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strncasecmp(s + n - k, suf, k) == 0;
}

sdb_import_format sdb_import_detect(const char *name, const void *head, size_t len)
{
    const char *h = head;
    size_t n = name ? strlen(name) : 0, i = 0;
    if (ends_with(name, n, ".zst"))
        n -= 4;
    else if (ends_with(name, n, ".lz4"))
        n -= 4;
    while (i < len && isspace((unsigned char)h[i]))
        i++;
    if (i < len && (h[i] == '{' || h[i] == '[')) {
        /* the first key of the first object says most */
        size_t k = i;
        while (k < len && (h[k] == '{' || h[k] == '[' || isspace((unsigned char)h[k])))
            k++;
        if (k < len && h[k] == '"') {
            static const struct {
                const char *key;
                sdb_import_format f;
            } first[] = {{"\"resourceSpans\"", SDB_IMPORT_OTLP_JSON},
                         {"\"trace\"", SDB_IMPORT_LANGFUSE},
                         {"\"post\"", SDB_IMPORT_LANGSMITH},
                         {"\"patch\"", SDB_IMPORT_LANGSMITH}};
            for (size_t j = 0; j < sizeof first / sizeof first[0]; j++)
                if (len - k >= strlen(first[j].key) &&
                    memcmp(h + k, first[j].key, strlen(first[j].key)) == 0)
                    return first[j].f;
        }
        if (has_text(h, len, "\"resourceSpans\""))
            return SDB_IMPORT_OTLP_JSON;
        if (has_text(h, len, "\"observations\"") || has_text(h, len, "\"parentObservationId\"") ||
            has_text(h, len, "\"traceId\"") || has_text(h, len, "\"dataType\""))
            return SDB_IMPORT_LANGFUSE;
        if (has_text(h, len, "\"post\"") || has_text(h, len, "\"patch\"") ||
            has_text(h, len, "\"run_type\"") || has_text(h, len, "\"dotted_order\""))
            return SDB_IMPORT_LANGSMITH;
        if (has_text(h, len, "\"span_kind\"") || has_text(h, len, "\"context.span_id\"") ||
            has_text(h, len, "\"annotation_name\""))
            return SDB_IMPORT_PHOENIX;
        return SDB_IMPORT_OTLP_JSON;
    }
    if (ends_with(name, n, ".csv") || ends_with(name, n, ".tsv"))
        return SDB_IMPORT_CSV; /* Phoenix and Langfuse CSV exports are told apart by header */
    return SDB_IMPORT_ILP;
}

/* Does the CSV header line h[0..n) name column col? */
static bool csv_names(const char *h, size_t n, const char *col)
{
    size_t k = strlen(col), i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && h[j] != ',' && h[j] != '\t')
            j++;
        {
            size_t a = i, b = j;
            while (a < b && (h[a] == '"' || h[a] == ' ' || h[a] == '\xef' || h[a] == '\xbb' ||
                             h[a] == '\xbf'))
                a++;
            while (b > a && (h[b - 1] == '"' || h[b - 1] == ' ' || h[b - 1] == '\r'))
                b--;
            if (b - a == k && memcmp(h + a, col, k) == 0)
                return true;
        }
        i = j + 1;
    }
    return false;
}

bool sdb_import_holds_evaluations(sdb_import_format f, const void *head, size_t len)
{
    static const char *const keys[] = {"annotation_name", "label", "score", "result.label",
                                       "result.score"};
    const char *h = head;
    size_t n = 0;
    char quoted[32];
    if (f != SDB_IMPORT_PHOENIX && f != SDB_IMPORT_CSV)
        return false;
    /* the first record: up to the first line end (JSON Lines, the CSV header) */
    while (n < len && h[n] != '\n')
        n++;
    if (f == SDB_IMPORT_CSV) {
        if (csv_names(h, n, "start_time") || csv_names(h, n, "startTime"))
            return false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (csv_names(h, n, keys[i]))
                return true;
        return false;
    }
    if (has_text(h, n, "\"start_time\""))
        return false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        snprintf(quoted, sizeof quoted, "\"%s\"", keys[i]);
        if (has_text(h, n, quoted))
            return true;
    }
    return false;
}

/* ---- records ---- */

void sdb_irec_reset(sdb_irec *r, uint64_t line)
{
    r->line = line;
    r->has = 0;
    r->nextra = 0;
    r->scratch_used = 0;
    r->id_hashed = false;
}

void sdb_irec_str(sdb_irec *r, int c, const char *s, size_t len)
{
    if (s == NULL)
        return;
    r->s[c] = s;
    r->len[c] = len;
    r->has |= 1u << c;
}

void sdb_irec_i64(sdb_irec *r, int c, int64_t v)
{
    r->i[c] = v;
    r->has |= 1u << c;
}

void sdb_irec_f64(sdb_irec *r, int c, double v)
{
    r->f[c] = v;
    r->has |= 1u << c;
}

void sdb_irec_bool(sdb_irec *r, int c, bool v)
{
    r->b[c] = v;
    r->has |= 1u << c;
}

sdb_iextra *sdb_irec_extra(sdb_irec *r, const char *key, size_t keylen, sdb_ival_kind kind)
{
    sdb_iextra *e;
    if (r->nextra >= SDB_IREC_MAX_EXTRA)
        return NULL;
    e = &r->extra[r->nextra++];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->keylen = keylen;
    e->kind = kind;
    return e;
}

void sdb_import_reject(sdb_import *im, uint64_t line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    im->st.rejected++;
    if (im->o.on_reject != NULL)
        im->o.on_reject(im->o.reject_ctx, line, msg);
}

/* Is every byte of w a lower-case hex digit [0-9a-f]? (bytes below 0x80 compared in
 * parallel: adding 0x80 - lo sets a byte's top bit when it is >= lo, without carries) */
static inline bool hex8_lower(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, top = 0x8080808080808080u;
    uint64_t ge0 = w + ones * (0x80 - '0'), gt9 = w + ones * (0x80 - '9' - 1);
    uint64_t gea = w + ones * (0x80 - 'a'), gtf = w + ones * (0x80 - 'f' - 1);
    uint64_t ok = (ge0 & ~gt9) | (gea & ~gtf);
    return (w & top) == 0 && (ok & top) == top;
}

bool sdb_import_hexid(char *s, size_t len)
{
    bool upper = false;
    size_t i = 0;
    /* ids are usually lower-case already: 8 bytes at a time while they are */
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (!hex8_lower(w))
            break;
    }
    for (; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        if (c - '0' < 10u || c - 'a' < 6u)
            continue;
        if (c - 'A' >= 6u)
            return false;
        upper = true;
    }
    for (size_t k = 0; upper && k < len; k++)
        if ((unsigned)(unsigned char)s[k] - 'A' < 6u)
            s[k] = (char)(s[k] - 'A' + 'a');
    return len > 0;
}

/* Epoch milliseconds in n (integral or not) to ns, exactly for integers. */
static bool epoch_ms(const sdb_jnode *n, int64_t *ns)
{
    int64_t ms;
    double d;
    if (sdb_jint(n, &ms)) {
        if (ms <= -9200000000000LL || ms >= 9200000000000LL)
            return false;
        *ns = ms * 1000000;
        return true;
    }
    if (!sdb_jnum(n, &d) || !(d > -9.2e12 && d < 9.2e12))
        return false;
    ms = (int64_t)d;
    *ns = ms * 1000000 + (int64_t)((d - (double)ms) * 1e6);
    return true;
}

bool sdb_import_time(const sdb_jnode *n, int64_t *ns)
{
    if (n == NULL)
        return false;
    if (n->type == SDB_J_STR && sdb_time_parse(n->s, n->len, ns, NULL) == SDB_OK)
        return true;
    if (n->type == SDB_J_STR || n->type == SDB_J_NUM)
        return epoch_ms(n, ns);
    return false;
}

/* ---- dedup set ---- */

static inline idshard *idset_shard(idset *s, uint64_t h)
{
    return &s->sh[h >> 58];
}

static inline uint32_t idset_home(const idshard *sh, uint64_t h)
{
    return (uint32_t)(((h & 0xffffffffu) * (uint64_t)sh->cap) >> 32);
}

/* Grow sh to cap slots. */
static sdb_rc idshard_grow(idshard *sh, uint32_t cap, sdb_err *err)
{
    idshard g = {calloc(cap, sizeof(uint64_t)), cap, sh->n};
    if (g.slots == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the span_id dedup set (%u slots)",
                        cap);
    for (uint32_t k = 0; k < sh->cap; k++) {
        uint64_t x = sh->slots[k];
        uint32_t i;
        if (x == 0)
            continue;
        for (i = idset_home(&g, x); g.slots[i] != 0; i = i + 1 == cap ? 0 : i + 1)
            ;
        g.slots[i] = x;
    }
    free(sh->slots);
    *sh = g;
    return SDB_OK;
}

static sdb_rc idset_add(idset *s, uint64_t h, bool *added, sdb_err *err)
{
    idshard *sh;
    uint32_t i;
    if (h == 0)
        h = 1;
    sh = idset_shard(s, h);
    if ((uint64_t)(sh->n + 1) * 5 > (uint64_t)sh->cap * 4) {
        uint64_t cap = sh->cap ? (uint64_t)sh->cap + sh->cap / 4 : IDSET_MIN_CAP;
        if (cap > UINT32_MAX / 2)
            return SDB_FAIL(err, SDB_ERR_LIMIT, "span_id dedup set is full (%zu ids); "
                            "import with --dedup none", s->n);
        SDB_TRY(idshard_grow(sh, (uint32_t)cap, err));
    }
    for (i = idset_home(sh, h); sh->slots[i] != 0; i = i + 1 == sh->cap ? 0 : i + 1)
        if (sh->slots[i] == h) {
            *added = false;
            return SDB_OK;
        }
    sh->slots[i] = h;
    sh->n++;
    s->n++;
    *added = true;
    return SDB_OK;
}

static void idset_free(idset *s)
{
    for (uint32_t k = 0; k < IDSET_SHARDS; k++)
        free(s->sh[k].slots);
}

static sdb_rc evalmap_put(evalmap *m, uint64_t h, bool v, sdb_err *err)
{
    size_t i;
    if (h == 0)
        h = 1;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint64_t *k = calloc(cap, sizeof *k);
        uint8_t *vv = calloc(cap, 1);
        if (k == NULL || vv == NULL) {
            free(k);
            free(vv);
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for evaluation verdicts");
        }
        for (size_t j = 0; j < m->cap; j++) {
            if (m->keys[j] == 0)
                continue;
            for (i = m->keys[j] & (cap - 1); k[i] != 0; i = (i + 1) & (cap - 1))
                ;
            k[i] = m->keys[j];
            vv[i] = m->vals[j];
        }
        free(m->keys);
        free(m->vals);
        m->keys = k;
        m->vals = vv;
        m->cap = cap;
    }
    for (i = h & (m->cap - 1); m->keys[i] != 0 && m->keys[i] != h; i = (i + 1) & (m->cap - 1))
        ;
    if (m->keys[i] == 0)
        m->n++;
    m->keys[i] = h;
    m->vals[i] = v;
    return SDB_OK;
}

static int evalmap_get(const evalmap *m, uint64_t h)
{
    if (m->n == 0)
        return -1;
    if (h == 0)
        h = 1;
    for (size_t i = h & (m->cap - 1); m->keys[i] != 0; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == h)
            return m->vals[i];
    return -1;
}

sdb_rc sdb_import_note_hallucination(sdb_import *im, const char *span_id, size_t len, bool v,
                                     sdb_err *err)
{
    return evalmap_put(&im->halluc, sdb_hash64(span_id, len), v, err);
}

/* Dedup against the rows already stored is seeded lazily, an hour of the table at a time,
 * the first time an imported span falls in that hour: a re-imported span has the time it
 * had, so only the hours a file touches are read, and never more than one hour's ids at
 * once (a whole-table read held every id of a large table as a string). */
#define SEED_HOUR_NS 3600000000000LL
#define SEED_HOURS   ((size_t)(TIME_MAX_NS / SEED_HOUR_NS) + 1)

/* Start seeding when the table exists with a span_id column (rows that this import writes
 * are in the set already, so a table it creates needs none). */
static sdb_rc seed_init(sdb_import *im, sdb_err *err)
{
    const sdb_table_def *t;
    bool present = false;
    sdb_db_lock(im->db);
    t = sdb_catalog_find(sdb_db_catalog(im->db), im->table, strlen(im->table));
    if (t != NULL && sdb_table_find_col(t, "span_id", 7) >= 0)
        present = true;
    sdb_db_unlock(im->db);
    if (present && (im->seeded = calloc((SEED_HOURS + 7) / 8, 1)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the dedup hour map");
    return SDB_OK;
}

/* Add the span_ids of the stored rows of the hour holding time ns, once per hour. */
static sdb_rc seed_hour(sdb_import *im, int64_t ns, sdb_err *err)
{
    size_t h = (size_t)(ns / SEED_HOUR_NS);
    char lo[SDB_TIME_FMT_MAX], hi[SDB_TIME_FMT_MAX];
    sdb_buf sql = SDB_BUF_INIT;
    sdb_run_result res;
    sdb_rc rc = SDB_OK;
    if (im->seeded[h / 8] & (1u << (h % 8)))
        return SDB_OK;
    im->seeded[h / 8] |= (uint8_t)(1u << (h % 8));
    sdb_time_format((int64_t)h * SEED_HOUR_NS, lo);
    sdb_time_format((int64_t)(h + 1) * SEED_HOUR_NS, hi);
    /* the table name quoted, its quotes doubled */
    rc = sdb_buf_printf(&sql, err, "SELECT span_id FROM \"");
    for (const char *p = im->table; *p != '\0' && rc == SDB_OK; p++)
        rc = *p == '"' ? sdb_buf_append(&sql, "\"\"", 2, err) : sdb_buf_put_u8(&sql, (uint8_t)*p, err);
    if (rc == SDB_OK)
        rc = sdb_buf_printf(&sql, err, "\" WHERE time >= '%s' AND time < '%s'", lo, hi);
    memset(&res, 0, sizeof res);
    if (rc == SDB_OK)
        rc = sdb_run_sql(im->db, (const char *)sql.data, sql.len, NULL, &res, err);
    sdb_buf_free(&sql);
    if (rc != SDB_OK) {
        sdb_err_prefix(err, "reading the stored span_ids of %s for dedup: ", lo);
        return rc;
    }
    for (uint64_t r = 0; res.rows != NULL && r < res.rows->nrows && rc == SDB_OK; r++) {
        const sdb_value *v = sdb_result_at(res.rows, r, 0);
        bool added;
        if (!v->null)
            rc = idset_add(&im->seen, sdb_hash64(v->u.s.p, v->u.s.len), &added, err);
    }
    sdb_run_result_free(&res);
    return rc;
}

/* ---- batches ---- */

static sdb_rc write_batch(sdb_import *im, const char *table, sdb_batch *b, uint64_t *count,
                          sdb_err *err)
{
    sdb_rc rc;
    if (b->nrows == 0)
        return SDB_OK;
    SDB_TRY(sdb_batch_pad(b, err)); /* the span batch's columns lag behind (push_span) */
    if (im->db == NULL) {
        /* no database: rows are counted and dropped (fuzzing, parse benchmarks) */
        *count += b->nrows;
        sdb_batch_clear(b);
        return SDB_OK;
    }
    if ((rc = sdb_db_write(im->db, table, b, err)) != SDB_OK) {
        sdb_err_prefix(err, "table %s: ", table);
        return rc;
    }
    *count += b->nrows;
    sdb_batch_clear(b);
    return SDB_OK;
}

static sdb_rc flush_all(sdb_import *im, sdb_err *err)
{
    SDB_TRY(write_batch(im, im->table, &im->spans, &im->st.spans, err));
    return write_batch(im, SDB_SCORES_TABLE, &im->scores, &im->st.scores, err);
}

/* attr_ + the key with every byte outside [A-Za-z0-9] as '_', lower-cased. */
static size_t extra_name(const char *key, size_t keylen, char out[COLNAME_MAX])
{
    size_t n = 5;
    memcpy(out, "attr_", 5);
    for (size_t i = 0; i < keylen && n + 1 < COLNAME_MAX; i++) {
        unsigned char c = (unsigned char)key[i];
        out[n++] = isalnum(c) ? (char)tolower(c) : '_';
    }
    out[n] = '\0';
    return n;
}

static sdb_type kind_type(sdb_ival_kind k)
{
    switch (k) {
    case SDB_IV_INT:
        return SDB_TYPE_INT64;
    case SDB_IV_F64:
        return SDB_TYPE_FLOAT64;
    case SDB_IV_BOOL:
        return SDB_TYPE_BOOL;
    case SDB_IV_STR:
        break;
    }
    return SDB_TYPE_STRING;
}

/* The column of extra e in the span batch, added when new (typed as the catalog says, else by
 * the value); -1 when past the bound. */
static sdb_rc extra_col(sdb_import *im, const sdb_iextra *e, int *col, sdb_err *err)
{
    char name[COLNAME_MAX];
    size_t n = extra_name(e->key, e->keylen, name);
    sdb_type type = kind_type(e->kind);
    const sdb_table_def *t;
    int c = sdb_batch_find(&im->spans, name, n);
    if (c >= 0) {
        *col = c;
        return SDB_OK;
    }
    *col = -1;
    if (im->extra_cols >= EXTRA_COLS_MAX)
        return SDB_OK;
    if (im->db != NULL) {
        sdb_db_lock(im->db);
        t = sdb_catalog_find(sdb_db_catalog(im->db), im->table, strlen(im->table));
        if (t != NULL && (c = sdb_table_find_col(t, name, n)) >= 0)
            type = t->col_types[c];
        sdb_db_unlock(im->db);
    }
    SDB_TRY(sdb_batch_add(&im->spans, name, n, type, col, err));
    im->extra_cols++;
    return SDB_OK;
}

/* Push extra e into column c when its type fits (else the cell stays NULL). */
static sdb_rc push_extra(sdb_column *c, const sdb_iextra *e, sdb_err *err)
{
    char tmp[40];
    switch (c->type) {
    case SDB_TYPE_STRING:
    case SDB_TYPE_SYMBOL:
        if (e->kind == SDB_IV_STR)
            return sdb_column_push_str(c, e->s, e->len, err);
        if (e->kind == SDB_IV_INT)
            snprintf(tmp, sizeof tmp, "%lld", (long long)e->i);
        else if (e->kind == SDB_IV_F64)
            snprintf(tmp, sizeof tmp, "%.17g", e->f);
        else
            snprintf(tmp, sizeof tmp, "%s", e->b ? "true" : "false");
        return sdb_column_push_str(c, tmp, strlen(tmp), err);
    case SDB_TYPE_INT64:
        if (e->kind == SDB_IV_INT)
            return sdb_column_push_i64(c, e->i, err);
        break;
    case SDB_TYPE_FLOAT64:
        if (e->kind == SDB_IV_F64)
            return sdb_column_push_f64(c, e->f, err);
        if (e->kind == SDB_IV_INT)
            return sdb_column_push_f64(c, (double)e->i, err);
        break;
    case SDB_TYPE_BOOL:
        if (e->kind == SDB_IV_BOOL)
            return sdb_column_push_bool(c, e->b, err);
        break;
    default:
        break;
    }
    return SDB_OK;
}

/* NULLs up to the batch's current row (columns lag behind while a batch fills: a row's
 * absent values are not pushed one by one, the gap is filled at the next value or before the
 * batch is written). */
static inline sdb_rc catch_up(sdb_column *col, uint64_t nrows, sdb_err *err)
{
    return col->n < nrows ? sdb_column_push_nulls(col, nrows - col->n, err) : SDB_OK;
}

static sdb_rc push_span(sdb_import *im, const sdb_irec *r, sdb_err *err)
{
    sdb_batch *b = &im->spans;
    for (int c = 0; c < SDB_SPANS_NCOLS; c++) {
        sdb_column *col = &b->cols[im->idx[c]];
        if (!sdb_irec_has(r, c))
            continue;
        SDB_TRY(catch_up(col, b->nrows, err));
        switch (sdb_spans_cols[c].type) {
        case SDB_TYPE_TIMESTAMP:
        case SDB_TYPE_INT64:
            SDB_TRY(sdb_column_push_i64(col, r->i[c], err));
            break;
        case SDB_TYPE_FLOAT64:
            SDB_TRY(sdb_column_push_f64(col, r->f[c], err));
            break;
        case SDB_TYPE_BOOL:
            SDB_TRY(sdb_column_push_bool(col, r->b[c], err));
            break;
        default:
            SDB_TRY(sdb_column_push_str(col, r->s[c], r->len[c], err));
            break;
        }
    }
    for (uint32_t k = 0; k < r->nextra; k++) {
        int c;
        SDB_TRY(extra_col(im, &r->extra[k], &c, err));
        if (c < 0)
            continue;
        SDB_TRY(catch_up(&b->cols[c], b->nrows, err));
        /* a key seen twice in one record keeps its first value */
        if (b->cols[c].n == b->nrows)
            SDB_TRY(push_extra(&b->cols[c], &r->extra[k], err));
    }
    b->nrows++;
    return SDB_OK;
}

static uint64_t span_id_hash(const sdb_irec *r)
{
    return r->id_hashed ? r->id_hash
                        : sdb_hash64(r->s[SDB_SPANS_SPAN_ID], r->len[SDB_SPANS_SPAN_ID]);
}

void sdb_import_span_id_hint(sdb_import *im, sdb_irec *r)
{
    if (!sdb_irec_has(r, SDB_SPANS_SPAN_ID))
        return;
    r->id_hash = sdb_hash64(r->s[SDB_SPANS_SPAN_ID], r->len[SDB_SPANS_SPAN_ID]);
    r->id_hashed = true;
    if (im->o.dedup) {
        /* warm the cache line where the id goes (written out here: gcc 12 drops a prefetch
         * inlined from a helper) */
        uint64_t h = r->id_hash ? r->id_hash : 1;
        const idshard *sh = idset_shard(&im->seen, h);
        if (sh->cap > 0)
            __builtin_prefetch(&sh->slots[idset_home(sh, h)]);
    }
}

sdb_rc sdb_import_span(sdb_import *im, sdb_irec *r, sdb_err *err)
{
    if (!sdb_irec_has(r, SDB_SPANS_SPAN_ID) || r->len[SDB_SPANS_SPAN_ID] == 0) {
        sdb_import_reject(im, r->line, "span without an id");
        return SDB_OK;
    }
    if (!sdb_irec_has(r, SDB_SPANS_TIME)) {
        sdb_import_reject(im, r->line, "span %.*s has no start time",
                          (int)(r->len[SDB_SPANS_SPAN_ID] > 64 ? 64 : r->len[SDB_SPANS_SPAN_ID]),
                          r->s[SDB_SPANS_SPAN_ID]);
        return SDB_OK;
    }
    if (r->i[SDB_SPANS_TIME] < TIME_MIN_NS || r->i[SDB_SPANS_TIME] >= TIME_MAX_NS) {
        char t[SDB_TIME_FMT_MAX];
        sdb_time_format(r->i[SDB_SPANS_TIME], t);
        sdb_import_reject(im, r->line, "span %.*s: start time %s is outside 1970..2200",
                          (int)(r->len[SDB_SPANS_SPAN_ID] > 64 ? 64 : r->len[SDB_SPANS_SPAN_ID]),
                          r->s[SDB_SPANS_SPAN_ID], t);
        return SDB_OK;
    }
    if (sdb_irec_has(r, SDB_SPANS_DURATION_MS) && !(r->f[SDB_SPANS_DURATION_MS] >= 0)) {
        sdb_import_reject(im, r->line, "span %.*s: end time before start time",
                          (int)(r->len[SDB_SPANS_SPAN_ID] > 64 ? 64 : r->len[SDB_SPANS_SPAN_ID]),
                          r->s[SDB_SPANS_SPAN_ID]);
        return SDB_OK;
    }
    if (im->o.dedup) {
        bool added;
        if (im->seeded != NULL)
            SDB_TRY(seed_hour(im, r->i[SDB_SPANS_TIME], err));
        SDB_TRY(idset_add(&im->seen, span_id_hash(r), &added, err));
        if (!added) {
            im->st.duplicates++;
            return SDB_OK;
        }
    }
    if (im->halluc.n > 0 && !sdb_irec_has(r, SDB_SPANS_HALLUCINATION)) {
        int v = evalmap_get(&im->halluc, span_id_hash(r));
        if (v >= 0)
            sdb_irec_bool(r, SDB_SPANS_HALLUCINATION, v != 0);
    }
    if (!sdb_irec_has(r, SDB_SPANS_COST_USD) && im->o.prices != NULL &&
        sdb_irec_has(r, SDB_SPANS_MODEL) &&
        (sdb_irec_has(r, SDB_SPANS_INPUT_TOKENS) || sdb_irec_has(r, SDB_SPANS_OUTPUT_TOKENS))) {
        double cost;
        int64_t in = sdb_irec_has(r, SDB_SPANS_INPUT_TOKENS) ? r->i[SDB_SPANS_INPUT_TOKENS] : 0;
        int64_t out = sdb_irec_has(r, SDB_SPANS_OUTPUT_TOKENS) ? r->i[SDB_SPANS_OUTPUT_TOKENS] : 0;
        if (sdb_prices_cost(im->o.prices, r->s[SDB_SPANS_MODEL], r->len[SDB_SPANS_MODEL],
                            r->i[SDB_SPANS_TIME], in, out, &cost)) {
            sdb_irec_f64(r, SDB_SPANS_COST_USD, cost);
            im->st.costed++;
        }
    }
    SDB_TRY(push_span(im, r, err));
    if (im->spans.nrows >= im->o.batch_rows)
        return write_batch(im, im->table, &im->spans, &im->st.spans, err);
    return SDB_OK;
}

static sdb_rc push_opt_str(sdb_column *c, const char *s, sdb_err *err)
{
    return s != NULL ? sdb_column_push_str(c, s, strlen(s), err) : sdb_column_push_null(c, err);
}

sdb_rc sdb_import_score(sdb_import *im, const sdb_iscore *s, sdb_err *err)
{
    sdb_batch *b = &im->scores;
    if (s->name == NULL || s->name[0] == '\0') {
        sdb_import_reject(im, s->line, "score without a name");
        return SDB_OK;
    }
    if (s->time < TIME_MIN_NS || s->time >= TIME_MAX_NS) {
        sdb_import_reject(im, s->line, "score %s: time outside 1970..2200", s->name);
        return SDB_OK;
    }
    if (b->ncols == 0)
        for (int c = 0; c < SC_NCOLS; c++)
            SDB_TRY(sdb_batch_add(b, score_cols[c].name, strlen(score_cols[c].name),
                                  score_cols[c].type, &im->sidx[c], err));
    SDB_TRY(sdb_column_push_i64(&b->cols[im->sidx[SC_TIME]], s->time, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_TRACE]], s->trace_id, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_SPAN]], s->span_id, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_SESSION]], s->session_id, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_NAME]], s->name, err));
    if (s->has_value)
        SDB_TRY(sdb_column_push_f64(&b->cols[im->sidx[SC_VALUE]], s->value, err));
    else
        SDB_TRY(sdb_column_push_null(&b->cols[im->sidx[SC_VALUE]], err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_LABEL]], s->label, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_SOURCE]], s->source, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_TARGET]], s->target, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_COMMENT]], s->comment, err));
    SDB_TRY(push_opt_str(&b->cols[im->sidx[SC_ID]], s->id, err));
    b->nrows++;
    if (b->nrows >= im->o.batch_rows)
        return write_batch(im, SDB_SCORES_TABLE, b, &im->st.scores, err);
    return SDB_OK;
}

/* ---- driver ---- */

sdb_rc sdb_import_create(sdb_db *db, const sdb_import_opts *o, sdb_import **out, sdb_err *err)
{
    sdb_import *im = calloc(1, sizeof *im);
    sdb_rc rc;
    *out = NULL;
    if (im == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the import");
    im->db = db;
    if (o != NULL)
        im->o = *o;
    if (im->o.batch_rows == 0)
        im->o.batch_rows = 65536;
    im->table = im->o.table ? im->o.table : SDB_SPANS_TABLE;
    sdb_batch_init(&im->spans);
    sdb_batch_init(&im->scores);
    if ((rc = sdb_spans_batch_prepare(&im->spans, im->idx, err)) != SDB_OK ||
        (im->o.dedup && db != NULL && (rc = seed_init(im, err)) != SDB_OK)) {
        sdb_import_destroy(im);
        return rc;
    }
    *out = im;
    return SDB_OK;
}

void sdb_import_destroy(sdb_import *im)
{
    if (im == NULL)
        return;
    sdb_jtree_destroy(im->jt);
    sdb_csv_destroy(im->csv);
    sdb_batch_free(&im->spans);
    sdb_batch_free(&im->scores);
    idset_free(&im->seen);
    free(im->seeded);
    free(im->halluc.keys);
    free(im->halluc.vals);
    free(im);
}

static void json_error(void *ctx, uint64_t line, const char *reason)
{
    sdb_import_reject(ctx, line, "%s", reason);
}

sdb_rc sdb_import_begin(sdb_import *im, sdb_import_format f, sdb_err *err)
{
    sdb_jtree_opts jo;
    memset(&jo, 0, sizeof jo);
    jo.max_value = im->o.max_record;
    jo.on_error = json_error;
    jo.ctx = im;
    switch (f) {
    case SDB_IMPORT_OTLP_JSON:
        jo.on_value = sdb_import_otlp_value;
        jo.on_close = sdb_import_otlp_close;
        break;
    case SDB_IMPORT_LANGFUSE:
        jo.on_value = sdb_import_langfuse_value;
        break;
    case SDB_IMPORT_LANGSMITH:
        jo.on_value = sdb_import_langsmith_value;
        break;
    case SDB_IMPORT_PHOENIX:
        jo.on_value = sdb_import_phoenix_value;
        break;
    case SDB_IMPORT_CSV:
        sdb_jtree_destroy(im->jt);
        im->jt = NULL;
        sdb_csv_destroy(im->csv);
        im->csv = NULL;
        im->fmt = f;
        return sdb_csv_create(im, im->o.max_record, &im->csv, err);
    default:
        return SDB_FAIL(err, SDB_ERR_MISUSE, "import format %s is not supported yet",
                        sdb_import_format_name(f));
    }
    sdb_jtree_destroy(im->jt);
    im->jt = NULL;
    sdb_csv_destroy(im->csv);
    im->csv = NULL;
    im->fmt = f;
    return sdb_jtree_create(&jo, &im->jt, err);
}

sdb_rc sdb_import_feed(sdb_import *im, const void *data, size_t len, sdb_err *err)
{
    im->st.bytes += len;
    if (im->csv != NULL)
        return sdb_csv_feed(im->csv, data, len, err);
    if (im->jt == NULL)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "sdb_import_feed before sdb_import_begin");
    return sdb_jtree_feed(im->jt, data, len, err);
}

sdb_rc sdb_import_end(sdb_import *im, sdb_err *err)
{
    if (im->jt != NULL) {
        SDB_TRY(sdb_jtree_finish(im->jt, err));
        sdb_jtree_destroy(im->jt);
        im->jt = NULL;
    }
    if (im->csv != NULL) {
        SDB_TRY(sdb_csv_finish(im->csv, err));
        sdb_csv_destroy(im->csv);
        im->csv = NULL;
    }
    return flush_all(im, err);
}

void sdb_import_discard(sdb_import *im)
{
    if (im->csv != NULL)
        sdb_csv_discard(im->csv);
    sdb_batch_clear(&im->spans);
    sdb_batch_clear(&im->scores);
}

sdb_import_stats sdb_import_get_stats(const sdb_import *im)
{
    return im->st;
}

void sdb_import_set_reject_ctx(sdb_import *im, void *ctx)
{
    im->o.reject_ctx = ctx;
}

typedef struct sub_ctx {
    sdb_jtree_value_fn fn;
    void *ctx;
    bool done;
} sub_ctx;

static sdb_rc sub_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    sub_ctx *c = ctx;
    if (c->done)
        return SDB_OK;
    c->done = true;
    return c->fn(c->ctx, t, root, err);
}

sdb_rc sdb_import_subparse(const char *s, size_t len, sdb_jtree_value_fn fn, void *ctx,
                           sdb_err *err)
{
    sub_ctx c = {fn, ctx, false};
    sdb_jtree_opts o;
    sdb_jtree *t;
    sdb_rc rc;
    memset(&o, 0, sizeof o);
    o.on_value = sub_value;
    o.ctx = &c;
    o.max_value = (size_t)64 << 20;
    SDB_TRY(sdb_jtree_create(&o, &t, err));
    rc = sdb_jtree_feed(t, s, len, err);
    if (rc == SDB_OK)
        rc = sdb_jtree_finish(t, err);
    sdb_jtree_destroy(t);
    return rc;
}

static sdb_rc json_quote(const char *s, size_t n, sdb_buf *out, sdb_err *err)
{
    SDB_TRY(sdb_buf_append(out, "\"", 1, err));
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            SDB_TRY(sdb_buf_append(out, e, 2, err));
        } else if (ch < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", ch);
            SDB_TRY(sdb_buf_append(out, e, 6, err));
        } else {
            SDB_TRY(sdb_buf_append(out, s + i, 1, err));
        }
    }
    return sdb_buf_append(out, "\"", 1, err);
}

sdb_rc sdb_import_json_text(const sdb_jnode *n, sdb_buf *out, sdb_err *err)
{
    switch (n->type) {
    case SDB_J_NULL:
        SDB_TRY(sdb_buf_append(out, "null", 4, err));
        break;
    case SDB_J_BOOL:
        SDB_TRY(sdb_buf_append(out, n->b ? "true" : "false", n->b ? 4 : 5, err));
        break;
    case SDB_J_NUM:
        SDB_TRY(sdb_buf_append(out, n->s, n->len, err));
        break;
    case SDB_J_STR:
        SDB_TRY(json_quote(n->s, n->len, out, err));
        break;
    case SDB_J_ARR:
    case SDB_J_OBJ:
        SDB_TRY(sdb_buf_append(out, n->type == SDB_J_ARR ? "[" : "{", 1, err));
        for (const sdb_jnode *c = n->first; c != NULL; c = c->next) {
            if (c != n->first)
                SDB_TRY(sdb_buf_append(out, ",", 1, err));
            if (n->type == SDB_J_OBJ) {
                SDB_TRY(json_quote(c->key, c->keylen, out, err));
                SDB_TRY(sdb_buf_append(out, ":", 1, err));
            }
            SDB_TRY(sdb_import_json_text(c, out, err));
        }
        SDB_TRY(sdb_buf_append(out, n->type == SDB_J_ARR ? "]" : "}", 1, err));
        break;
    }
    SDB_TRY(sdb_buf_reserve(out, 1, err));
    out->data[out->len] = '\0';
    return SDB_OK;
}

const char *sdb_import_table(const sdb_import *im)
{
    return im->table;
}

const char *sdb_import_schema(const sdb_import *im)
{
    return im->o.schema;
}

sdb_rc sdb_import_write_rows(sdb_import *im, const char *table, const sdb_batch *b, sdb_err *err)
{
    sdb_rc rc;
    if (b->nrows == 0)
        return SDB_OK;
    if (im->db != NULL && (rc = sdb_db_write(im->db, table, b, err)) != SDB_OK) {
        sdb_err_prefix(err, "table %s: ", table);
        return rc;
    }
    im->st.spans += b->nrows;
    return SDB_OK;
}
