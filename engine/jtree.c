/* JSON value trees from yajl events in a stack arena (see jtree.h). The arena is a list of
 * chunks used like a stack: a container's mark is taken before its node is allocated, and
 * everything allocated after the mark belongs to its subtree, so dropping a closed container
 * is a rewind to its mark. */
#include "engine/jtree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#define CHUNK_BYTES (256u * 1024u)

typedef struct chunk {
    struct chunk *prev; /* chunk below on the stack */
    size_t cap;         /* bytes of data */
    size_t used;        /* bytes handed out */
    char data[];
} chunk;

typedef struct mark {
    chunk *c;     /* top chunk at the mark */
    size_t used;  /* its use at the mark */
    size_t bytes; /* total use at the mark */
} mark;

typedef struct frame {
    sdb_jnode *node; /* the open container */
    sdb_jnode *pred; /* its parent's last child before it was attached */
    mark m;          /* arena state before it was allocated */
} frame;

struct sdb_jtree {
    sdb_jtree_opts o;
    yajl_handle h;
    chunk *top;         /* arena stack */
    chunk *spare;       /* one freed default chunk kept for reuse */
    size_t bytes;       /* arena bytes in use */
    frame *frames;      /* open containers, [0] = root */
    int depth;          /* number of open containers */
    const char *key;    /* pending member name */
    size_t keylen;
    uint64_t line;      /* line being fed, 1-based */
    bool line_start;    /* the next byte starts a line */
    bool skip_line;     /* drop the rest of the current line (after an error in it) */
    int line_depth;     /* depth when the current line began */
    bool dead;          /* a syntax error inside a document ended the stream */
    bool fed;           /* the current yajl handle got bytes other than white space */
    int mode;           /* 0 unknown, 1 JSON Lines (a value ends on its line), 2 documents */
    uint64_t errors;    /* malformed-input reports */
    sdb_rc rc;          /* a callback's failure */
    sdb_err *err;       /* where it goes */
    char why[256];      /* a bound this module enforces, when it stopped yajl */
};

/* jalloc when the top chunk has no room (or the value is at its bound); n is rounded. */
static void *jalloc_slow(sdb_jtree *t, size_t n)
{
    chunk *c = t->top;
    if (t->bytes + n > t->o.max_value) {
        snprintf(t->why, sizeof t->why, "value larger than %zu bytes", t->o.max_value);
        return NULL;
    }
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        if (cap == CHUNK_BYTES && t->spare != NULL) {
            c = t->spare;
            t->spare = NULL;
        } else if ((c = malloc(sizeof *c + cap)) == NULL) {
            snprintf(t->why, sizeof t->why, "out of memory");
            return NULL;
        } else {
            c->cap = cap;
        }
        c->used = 0;
        c->prev = t->top;
        t->top = c;
    }
    c->used += n;
    t->bytes += n;
    return c->data + c->used - n;
}

static inline void *jalloc(sdb_jtree *t, size_t n)
{
    chunk *c = t->top;
    n = (n + 7u) & ~(size_t)7u;
    if (c != NULL && c->cap - c->used >= n && t->bytes + n <= t->o.max_value) {
        void *p = c->data + c->used;
        c->used += n;
        t->bytes += n;
        return p;
    }
    return jalloc_slow(t, n);
}

static mark get_mark(const sdb_jtree *t)
{
    mark m = {t->top, t->top ? t->top->used : 0, t->bytes};
    return m;
}

static void rewind_to(sdb_jtree *t, mark m)
{
    while (t->top != m.c) {
        chunk *c = t->top;
        t->top = c->prev;
        if (c->cap == CHUNK_BYTES && t->spare == NULL)
            t->spare = c;
        else
            free(c);
    }
    if (t->top != NULL)
        t->top->used = m.used;
    t->bytes = m.bytes;
}

static void reset_all(sdb_jtree *t)
{
    mark m = {NULL, 0, 0};
    rewind_to(t, m);
    t->depth = 0;
    t->key = NULL;
}

/* Copy n bytes: the short keys and values of most JSON without a libc call (8..16 bytes
 * as two overlapping words). */
static inline void jcopy(char *d, const unsigned char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n < 8) {
        for (size_t i = 0; i < n; i++)
            d[i] = (char)s[i];
    } else {
        memcpy(d, s, n);
    }
}

static char *jstrdup(sdb_jtree *t, const unsigned char *s, size_t n)
{
    char *p = jalloc(t, n + 1);
    if (p != NULL) {
        jcopy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* A finished top-level value. */
static int value_done(sdb_jtree *t, sdb_jnode *root)
{
    sdb_rc rc;
    /* the first value says whether this is JSON Lines: it starts and ends on one line */
    if (t->mode == 0)
        t->mode = root->line == t->line ? 1 : 2;
    rc = t->o.on_value(t->o.ctx, t, root, t->err);
    reset_all(t);
    if (rc != SDB_OK) {
        t->rc = rc;
        return 0;
    }
    return 1;
}

/* Allocate a node (with room for extra bytes after it) and attach it to the open
 * container. */
static sdb_jnode *add(sdb_jtree *t, sdb_jtype type, frame *fr, size_t extra)
{
    sdb_jnode *n;
    if (fr != NULL) {
        fr->m = get_mark(t);
        fr->pred = NULL;
    }
    if ((n = jalloc(t, sizeof *n + extra)) == NULL)
        return NULL;
    *n = (sdb_jnode){.type = type, .line = t->line};
    if (t->depth > 0) {
        sdb_jnode *p = t->frames[t->depth - 1].node;
        if (p->type == SDB_J_OBJ) {
            n->key = t->key;
            n->keylen = t->keylen;
            t->key = NULL;
        }
        if (fr != NULL)
            fr->pred = p->last;
        if (p->last != NULL)
            p->last->next = n;
        else
            p->first = n;
        p->last = n;
        p->n++;
    }
    return n;
}

static int scalar(sdb_jtree *t, sdb_jtype type, const unsigned char *s, size_t len, bool b)
{
    /* the text goes right after the node, in the same allocation */
    sdb_jnode *n = add(t, type, NULL, s != NULL ? len + 1 : 0);
    if (n == NULL)
        return 0;
    n->b = b;
    if (s != NULL) {
        n->s = (char *)(n + 1);
        jcopy(n->s, s, len);
        n->s[len] = '\0';
        n->len = len;
    }
    if (t->depth == 0)
        return value_done(t, n);
    return 1;
}

static int cb_null(void *ctx)
{
    return scalar(ctx, SDB_J_NULL, NULL, 0, false);
}

static int cb_bool(void *ctx, int b)
{
    return scalar(ctx, SDB_J_BOOL, NULL, 0, b != 0);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, SDB_J_NUM, (const unsigned char *)s, len, false);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return scalar(ctx, SDB_J_STR, s, len, false);
}

static int open_container(sdb_jtree *t, sdb_jtype type)
{
    frame *fr = &t->frames[t->depth]; /* filled in place: no copy of a just-written frame */
    sdb_jnode *n;
    if ((uint32_t)t->depth >= t->o.max_depth) {
        snprintf(t->why, sizeof t->why, "nesting deeper than %u levels", t->o.max_depth);
        return 0;
    }
    if ((n = add(t, type, fr, 0)) == NULL)
        return 0;
    fr->node = n;
    t->depth++;
    return 1;
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, SDB_J_OBJ);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, SDB_J_ARR);
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
    sdb_jtree *t = ctx;
    if ((t->key = jstrdup(t, s, len)) == NULL)
        return 0;
    t->keylen = len;
    return 1;
}

static int close_container(void *ctx)
{
    sdb_jtree *t = ctx;
    const frame *fr = &t->frames[--t->depth];
    bool drop = false;
    if (t->depth == 0)
        return value_done(t, fr->node);
    if (t->o.on_close != NULL) {
        sdb_rc rc = t->o.on_close(t->o.ctx, t, fr->node, t->depth, &drop, t->err);
        if (rc != SDB_OK) {
            t->rc = rc;
            return 0;
        }
    }
    if (drop) {
        sdb_jnode *p = t->frames[t->depth - 1].node;
        p->last = fr->pred;
        if (fr->pred != NULL)
            fr->pred->next = NULL;
        else
            p->first = NULL;
        p->n--;
        rewind_to(t, fr->m);
    }
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_key, close_container, cb_start_array, close_container,
};

static sdb_rc new_handle(sdb_jtree *t, sdb_err *err)
{
    if (t->h != NULL)
        yajl_free(t->h);
    if ((t->h = yajl_alloc(&callbacks, NULL, t)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the JSON parser");
    yajl_config(t->h, yajl_allow_multiple_values, 1);
    t->fed = false;
    return SDB_OK;
}

sdb_rc sdb_jtree_create(const sdb_jtree_opts *o, sdb_jtree **out, sdb_err *err)
{
    sdb_jtree *t = calloc(1, sizeof *t);
    *out = NULL;
    if (t == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the JSON reader");
    t->o = *o;
    if (t->o.max_value == 0)
        t->o.max_value = (size_t)256 << 20;
    if (t->o.max_depth == 0)
        t->o.max_depth = 128;
    t->line = 1;
    t->line_start = true;
    if ((t->frames = calloc(t->o.max_depth + 1, sizeof *t->frames)) == NULL) {
        free(t);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the JSON reader");
    }
    if (new_handle(t, err) != SDB_OK) {
        free(t->frames);
        free(t);
        return SDB_ERR_NOMEM;
    }
    *out = t;
    return SDB_OK;
}

void sdb_jtree_destroy(sdb_jtree *t)
{
    if (t == NULL)
        return;
    if (t->h != NULL)
        yajl_free(t->h);
    reset_all(t);
    free(t->spare);
    free(t->frames);
    free(t);
}

/* After yajl stopped: a callback's failure is returned, malformed input is reported and
 * parsing either resumes on the next line or ends. */
static sdb_rc parse_failed(sdb_jtree *t, yajl_status st, sdb_err *err)
{
    char reason[320];
    if (t->rc != SDB_OK) {
        sdb_rc rc = t->rc;
        t->rc = SDB_OK;
        t->dead = true;
        return rc;
    }
    if (st == yajl_status_client_canceled) {
        snprintf(reason, sizeof reason, "%s", t->why[0] ? t->why : "value rejected");
    } else {
        unsigned char *m = yajl_get_error(t->h, 0, NULL, 0);
        const char *s = m ? (const char *)m : "malformed JSON";
        size_t n;
        if (strncmp(s, "parse error: ", 13) == 0)
            s += 13;
        snprintf(reason, sizeof reason, "bad JSON: %s", s);
        n = strlen(reason);
        while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
            reason[--n] = '\0';
        if (m != NULL)
            yajl_free_error(t->h, m);
    }
    t->why[0] = '\0';
    t->errors++;
    if (t->o.on_error != NULL)
        t->o.on_error(t->o.ctx, t->line, reason);
    if (t->line_depth == 0) {
        reset_all(t);
        t->skip_line = true;
        return new_handle(t, err);
    }
    t->dead = true;
    reset_all(t);
    return SDB_OK;
}

sdb_rc sdb_jtree_feed(sdb_jtree *t, const void *data, size_t len, sdb_err *err)
{
    const unsigned char *p = data, *end = p + len;
    t->err = err;
    while (p < end && !t->dead) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        const unsigned char *stop = nl ? nl + 1 : end;
        if (t->line_start) {
            t->line_depth = t->depth;
            t->line_start = false;
        }
        if (!t->skip_line) {
            yajl_status st;
            if (!t->fed)
                for (const unsigned char *q = p; q < stop && !t->fed; q++)
                    t->fed = !(*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t');
            st = yajl_parse(t->h, p, (size_t)(stop - p));
            if (st != yajl_status_ok)
                SDB_TRY(parse_failed(t, st, err));
        }
        if (nl != NULL && t->mode == 1 && t->depth > 0 && !t->dead) {
            /* JSON Lines: a record cut short; the next line is a new record */
            char reason[160];
            snprintf(reason, sizeof reason, "record does not end on its line (truncated JSON)");
            t->errors++;
            if (t->o.on_error != NULL)
                t->o.on_error(t->o.ctx, t->line, reason);
            reset_all(t);
            SDB_TRY(new_handle(t, err));
        }
        if (nl != NULL) {
            t->line++;
            t->line_start = true;
            t->skip_line = false;
        }
        p = stop;
    }
    return SDB_OK;
}

sdb_rc sdb_jtree_finish(sdb_jtree *t, sdb_err *err)
{
    yajl_status st;
    t->err = err;
    if (t->dead)
        return SDB_OK;
    if (t->depth > 0) {
        /* yajl would say "premature EOF"; name the line the value began on */
        char reason[128];
        snprintf(reason, sizeof reason, "input ends inside a value that starts at line %llu",
                 (unsigned long long)t->frames[0].node->line);
        t->errors++;
        if (t->o.on_error != NULL)
            t->o.on_error(t->o.ctx, t->line, reason);
        reset_all(t);
        return SDB_OK;
    }
    if (!t->fed)
        return SDB_OK;
    st = yajl_complete_parse(t->h);
    if (st != yajl_status_ok)
        return parse_failed(t, st, err);
    return SDB_OK;
}

sdb_jnode *sdb_jtree_frame(const sdb_jtree *t, int d)
{
    return d >= 0 && d < t->depth ? t->frames[d].node : NULL;
}

uint64_t sdb_jtree_errors(const sdb_jtree *t)
{
    return t->errors;
}

bool sdb_jtree_dead(const sdb_jtree *t)
{
    return t->dead;
}

uint64_t sdb_jtree_line(const sdb_jtree *t)
{
    return t->line;
}

sdb_jnode *sdb_jobj_get(const sdb_jnode *o, const char *key)
{
    size_t kl;
    if (o == NULL || o->type != SDB_J_OBJ)
        return NULL;
    kl = strlen(key);
    for (sdb_jnode *c = o->first; c != NULL; c = c->next)
        if (c->keylen == kl && c->key[0] == key[0] && memcmp(c->key, key, kl) == 0)
            return c;
    return NULL;
}

const char *sdb_jstr(const sdb_jnode *n, size_t *len)
{
    if (n == NULL || n->type != SDB_J_STR)
        return NULL;
    if (len != NULL)
        *len = n->len;
    return n->s;
}

bool sdb_jint(const sdb_jnode *n, int64_t *v)
{
    char *e;
    long long x;
    if (n == NULL || (n->type != SDB_J_NUM && n->type != SDB_J_STR) || n->len == 0 ||
        n->len > 24)
        return false;
    if (n->len <= 20) {
        /* the common case: an optional sign and up to 19 digits, which fit in a uint64 */
        const char *p = n->s, *end = n->s + n->len;
        bool neg = *p == '-';
        uint64_t acc = 0;
        if (neg || *p == '+')
            p++;
        if (p < end && end - p <= 19) {
            while (p < end && *p >= '0' && *p <= '9')
                acc = acc * 10 + (uint64_t)(*p++ - '0');
            if (p == end && acc <= (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
                *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
                return true;
            }
        }
    }
    errno = 0;
    x = strtoll(n->s, &e, 10);
    if (errno == 0 && e == n->s + n->len) {
        *v = x;
        return true;
    }
    /* 1.5e3 or 12.0: an integral double */
    {
        double d;
        if (!sdb_jnum(n, &d) || d != d || d < -9.2e18 || d > 9.2e18 || d != (double)(int64_t)d)
            return false;
        *v = (int64_t)d;
        return true;
    }
}

/* strtod's value of a plain decimal [-]digits[.digits] with at most 15 digits and 22 after
 * the point, without strtod: the digits as an integer and the power of ten are exact doubles,
 * so one division rounds correctly, as strtod does. False for any other text. */
static bool jnum_fast(const char *s, size_t len, double *v)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s, *end = s + len, *dot = NULL;
    bool neg = p < end && *p == '-';
    uint64_t m = 0;
    int digits = 0;
    if (neg)
        p++;
    if (p == end || *p < '0' || *p > '9')
        return false;
    for (; p < end; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 15)
                return false;
            m = m * 10 + (uint64_t)(*p - '0');
        } else if (*p == '.' && dot == NULL && p + 1 < end) {
            dot = p;
        } else {
            return false;
        }
    }
    {
        size_t frac = dot != NULL ? (size_t)(end - dot - 1) : 0;
        double d;
        if (frac > 22)
            return false;
        d = (double)m / p10[frac];
        *v = neg ? -d : d;
    }
    return true;
}

bool sdb_jnum(const sdb_jnode *n, double *v)
{
    char *e;
    double d;
    if (n == NULL || (n->type != SDB_J_NUM && n->type != SDB_J_STR) || n->len == 0 ||
        n->len > 64)
        return false;
    if (jnum_fast(n->s, n->len, v))
        return true;
    errno = 0;
    d = strtod(n->s, &e);
    if (e != n->s + n->len || errno == ERANGE)
        return false;
    *v = d;
    return true;
}
