/* The model price table: Langfuse's JSON read through jtree, patterns compiled with regcomp,
 * and a per-model-name cache of the match so a regex runs once per distinct name. */
#include "engine/prices.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jtree.h"
#include "storage/common/hash.h"
#include "storage/common/timefmt.h"

extern const char sdb_default_prices_json[];
extern const size_t sdb_default_prices_json_len;

#define CACHE_SLOTS 4096u
#define CACHE_KEY_MAX 256u

typedef struct price {
    char *model;       /* modelName */
    regex_t re;        /* compiled matchPattern */
    int64_t start_ns;  /* startDate, INT64_MIN when none */
    double in, out;    /* USD per input / output token */
} price;

typedef struct cache_slot {
    char *key;    /* model name, NULL = empty */
    size_t len;
    int64_t lo, hi; /* the match holds for span times in [lo, hi) */
    int idx;      /* entry, -1 = none matches */
} cache_slot;

struct sdb_prices {
    price *v;
    size_t n, cap;
    cache_slot *cache; /* CACHE_SLOTS */
    size_t cached;
};

typedef struct load_ctx {
    sdb_prices *p;
    const char *name;
    sdb_rc rc;
    char why[300];
    bool seen;
} load_ctx;

static bool price_of(const sdb_jnode *prices, const char *key, double *v)
{
    return sdb_jnum(sdb_jobj_get(prices, key), v);
}

static sdb_rc add_model(sdb_prices *p, const sdb_jnode *m, const char *name, sdb_err *err)
{
    const char *model = sdb_jstr(sdb_jobj_get(m, "modelName"), NULL);
    const char *pat = sdb_jstr(sdb_jobj_get(m, "matchPattern"), NULL);
    const sdb_jnode *tiers = sdb_jobj_get(m, "pricingTiers"), *pr = NULL, *sd;
    char re[2048];
    size_t o = 0;
    price e;
    int rc;
    if (model == NULL || pat == NULL)
        return SDB_FAIL(err, SDB_ERR_PARSE, "%s: line %llu: a model needs modelName and matchPattern",
                        name, (unsigned long long)m->line);
    memset(&e, 0, sizeof e);
    e.start_ns = INT64_MIN;
    if ((sd = sdb_jobj_get(m, "startDate")) != NULL && sd->type == SDB_J_STR &&
        sdb_time_parse(sd->s, sd->len, &e.start_ns, err) != SDB_OK)
        return SDB_FAIL(err, SDB_ERR_PARSE, "%s: model %s: bad startDate '%s'", name, model, sd->s);
    if (tiers != NULL && tiers->type == SDB_J_ARR) {
        for (const sdb_jnode *t = tiers->first; t != NULL; t = t->next) {
            const sdb_jnode *d = sdb_jobj_get(t, "isDefault");
            if (pr == NULL || (d != NULL && d->type == SDB_J_BOOL && d->b))
                pr = sdb_jobj_get(t, "prices");
        }
    }
    if (pr == NULL)
        pr = sdb_jobj_get(m, "prices");
    if (pr != NULL) {
        price_of(pr, "input", &e.in);
        price_of(pr, "output", &e.out);
    } else {
        sdb_jnum(sdb_jobj_get(m, "inputPrice"), &e.in);
        sdb_jnum(sdb_jobj_get(m, "outputPrice"), &e.out);
    }
    /* (?i) prefix -> REG_ICASE; \d -> [0-9] */
    if (strncmp(pat, "(?i)", 4) == 0)
        pat += 4;
    for (const char *s = pat; *s != '\0'; s++) {
        if (o + 8 >= sizeof re)
            return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: model %s: matchPattern too long", name, model);
        if (s[0] == '\\' && s[1] == 'd') {
            memcpy(re + o, "[0-9]", 5);
            o += 5;
            s++;
        } else {
            re[o++] = *s;
        }
    }
    re[o] = '\0';
    if ((rc = regcomp(&e.re, re, REG_EXTENDED | REG_ICASE | REG_NOSUB)) != 0) {
        char msg[128];
        regerror(rc, &e.re, msg, sizeof msg);
        return SDB_FAIL(err, SDB_ERR_PARSE, "%s: model %s: matchPattern '%s' does not compile: %s",
                        name, model, pat, msg);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        price *v = realloc(p->v, cap * sizeof *v);
        if (v == NULL) {
            regfree(&e.re);
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the price table");
        }
        p->v = v;
        p->cap = cap;
    }
    if ((e.model = strdup(model)) == NULL) {
        regfree(&e.re);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the price table");
    }
    p->v[p->n++] = e;
    return SDB_OK;
}

static sdb_rc on_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    load_ctx *c = ctx;
    const sdb_jnode *list = root;
    (void)t;
    if (c->seen)
        return SDB_FAIL(err, SDB_ERR_PARSE, "%s: more than one JSON value", c->name);
    c->seen = true;
    if (root->type == SDB_J_OBJ && sdb_jobj_get(root, "models") != NULL)
        list = sdb_jobj_get(root, "models");
    if (list->type != SDB_J_ARR)
        return SDB_FAIL(err, SDB_ERR_PARSE, "%s: expected a JSON array of models", c->name);
    for (const sdb_jnode *m = list->first; m != NULL; m = m->next)
        SDB_TRY(add_model(c->p, m, c->name, err));
    return SDB_OK;
}

static void on_error(void *ctx, uint64_t line, const char *reason)
{
    load_ctx *c = ctx;
    if (c->why[0] == '\0')
        snprintf(c->why, sizeof c->why, "%s:%llu: %s", c->name, (unsigned long long)line, reason);
}

sdb_rc sdb_prices_parse(const char *text, size_t len, const char *name, sdb_prices **out,
                        sdb_err *err)
{
    load_ctx c;
    sdb_jtree_opts o;
    sdb_jtree *t = NULL;
    sdb_rc rc;
    *out = NULL;
    memset(&c, 0, sizeof c);
    c.name = name;
    if ((c.p = calloc(1, sizeof *c.p)) == NULL ||
        (c.p->cache = calloc(CACHE_SLOTS, sizeof *c.p->cache)) == NULL) {
        sdb_prices_destroy(c.p);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the price table");
    }
    memset(&o, 0, sizeof o);
    o.on_value = on_value;
    o.on_error = on_error;
    o.ctx = &c;
    rc = sdb_jtree_create(&o, &t, err);
    if (rc == SDB_OK)
        rc = sdb_jtree_feed(t, text, len, err);
    if (rc == SDB_OK)
        rc = sdb_jtree_finish(t, err);
    sdb_jtree_destroy(t);
    if (rc == SDB_OK && c.why[0] != '\0')
        rc = SDB_FAIL(err, SDB_ERR_PARSE, "%s", c.why);
    if (rc == SDB_OK && !c.seen)
        rc = SDB_FAIL(err, SDB_ERR_PARSE, "%s: no price table in the file", name);
    if (rc != SDB_OK) {
        sdb_prices_destroy(c.p);
        return rc;
    }
    *out = c.p;
    return SDB_OK;
}

sdb_rc sdb_prices_load_file(const char *path, sdb_prices **out, sdb_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    sdb_rc rc;
    *out = NULL;
    if (f == NULL)
        return SDB_FAIL_SYS(err, "%s: cannot open the price table", path);
    do {
        if (cap - len < 65536) {
            char *nb;
            if (cap > ((size_t)256 << 20)) {
                free(buf);
                fclose(f);
                return SDB_FAIL(err, SDB_ERR_LIMIT, "%s: price table larger than 256 MiB", path);
            }
            cap = cap ? cap * 2 : 131072;
            if ((nb = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the price table");
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return SDB_FAIL_SYS(err, "%s: cannot read the price table", path);
    }
    fclose(f);
    rc = sdb_prices_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

sdb_rc sdb_prices_default(sdb_prices **out, sdb_err *err)
{
    return sdb_prices_parse(sdb_default_prices_json, sdb_default_prices_json_len,
                            "default-model-prices.json", out, err);
}

void sdb_prices_destroy(sdb_prices *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        regfree(&p->v[i].re);
        free(p->v[i].model);
    }
    if (p->cache != NULL)
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            free(p->cache[i].key);
    free(p->cache);
    free(p->v);
    free(p);
}

size_t sdb_prices_count(const sdb_prices *p)
{
    return p->n;
}

/* The entry for model at time_ns and the time range over which that answer holds. */
static int lookup(const sdb_prices *p, const char *z, int64_t time_ns, int64_t *lo, int64_t *hi)
{
    int best = -1;
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    for (size_t i = 0; i < p->n; i++) {
        const price *e = &p->v[i];
        if (regexec(&e->re, z, 0, NULL, 0) != 0)
            continue;
        if (e->start_ns > time_ns) {
            if (e->start_ns < *hi)
                *hi = e->start_ns;
            continue;
        }
        if (best < 0 || e->start_ns > p->v[best].start_ns)
            best = (int)i;
    }
    if (best >= 0)
        *lo = p->v[best].start_ns;
    return best;
}

static int match(sdb_prices *p, const char *model, size_t len, int64_t time_ns)
{
    char z[CACHE_KEY_MAX];
    uint64_t h;
    size_t slot;
    int64_t lo, hi;
    int idx;
    if (len == 0 || len >= CACHE_KEY_MAX || memchr(model, '\0', len) != NULL)
        return -1;
    h = sdb_hash64(model, len);
    slot = (size_t)(h & (CACHE_SLOTS - 1));
    for (size_t probe = 0; probe < 8; probe++) {
        cache_slot *s = &p->cache[(slot + probe) & (CACHE_SLOTS - 1)];
        if (s->key == NULL)
            break;
        if (s->len == len && memcmp(s->key, model, len) == 0 && time_ns >= s->lo && time_ns < s->hi)
            return s->idx;
    }
    memcpy(z, model, len);
    z[len] = '\0';
    idx = lookup(p, z, time_ns, &lo, &hi);
    for (size_t probe = 0; probe < 8; probe++) {
        cache_slot *s = &p->cache[(slot + probe) & (CACHE_SLOTS - 1)];
        if (s->key == NULL) {
            if ((s->key = malloc(len)) != NULL) {
                memcpy(s->key, model, len);
                s->len = len;
                s->lo = lo;
                s->hi = hi;
                s->idx = idx;
            }
            break;
        }
    }
    return idx;
}

bool sdb_prices_cost(sdb_prices *p, const char *model, size_t len, int64_t time_ns,
                     int64_t input_tokens, int64_t output_tokens, double *cost)
{
    int i = match(p, model, len, time_ns);
    if (i < 0)
        return false;
    *cost = (double)input_tokens * p->v[i].in + (double)output_tokens * p->v[i].out;
    return true;
}

const char *sdb_prices_match(sdb_prices *p, const char *model, size_t len, int64_t time_ns)
{
    int i = match(p, model, len, time_ns);
    return i < 0 ? NULL : p->v[i].model;
}
