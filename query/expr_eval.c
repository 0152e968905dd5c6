/* The expression interpreter: one loop over the steps of a program, each step a
 * type-specialised loop over the live rows of a vector (PostgreSQL's execExprInterp.c, but
 * a vector per step instead of a datum). Registers are per worker (sdb_prog_state). */
#include "query/expr.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/expr_int.h"
#include "storage/common/timefmt.h"

#define VALID(w, i)  (((w)[(i) >> 6] >> ((i) & 63)) & 1)
#define SETV(w, i)   ((w)[(i) >> 6] |= (uint64_t)1 << ((i) & 63))
#define CLRV(w, i)   ((w)[(i) >> 6] &= ~((uint64_t)1 << ((i) & 63)))
#define STRCAP       48 /* bytes per row for a number, bool or timestamp cast to string */

typedef struct symcache {
    const sdb_dict *dict;  /* dictionary the codes (or the table) were made for */
    uint32_t n;            /* list items present in it */
    uint32_t *codes;       /* their codes */
    uint8_t *table;        /* ST_SYMMAP: result per code */
    uint32_t tcap;         /* entries allocated at table */
} symcache;

/* Dictionaries larger than this are not mapped ahead: the predicate runs per row. */
#define SYMMAP_MAX 65536u

struct sdb_prog_state {
    const sdb_prog *p;
    sdb_qmem *m;           /* where the ST_SYMMAP tables come from */
    sdb_arena *a;
    sdb_vec *regs;         /* one per step */
    void **buf;            /* values of each step, SDB_VEC_SIZE x 16 bytes */
    uint64_t *valid;       /* SDB_VEC_WORDS words per step */
    symcache *sc;          /* one per step (ST_SYMCMP) */
    char **strbuf;         /* ST_CAST to string: SDB_VEC_SIZE x STRCAP bytes */
    uint32_t iota[SDB_VEC_SIZE];
};

sdb_rc sdb_prog_state_create(sdb_qmem *m, sdb_arena *a, const sdb_prog *p, sdb_prog_state **out,
                             sdb_err *err)
{
    sdb_prog_state *st;
    uint32_t k, n = p->nsteps;
    if ((st = sdb_qmem_local(m, a, sizeof *st, err)) == NULL)
        return err->code;
    memset(st, 0, sizeof *st);
    st->p = p;
    st->m = m;
    st->a = a;
    for (k = 0; k < SDB_VEC_SIZE; k++)
        st->iota[k] = k;
    if ((st->regs = sdb_qmem_local(m, a, n * sizeof *st->regs, err)) == NULL ||
        (st->buf = sdb_qmem_local(m, a, n * sizeof *st->buf, err)) == NULL ||
        (st->valid = sdb_qmem_local(m, a, (size_t)n * SDB_VEC_WORDS * 8, err)) == NULL ||
        (st->sc = sdb_qmem_local(m, a, n * sizeof *st->sc, err)) == NULL ||
        (st->strbuf = sdb_qmem_local(m, a, n * sizeof *st->strbuf, err)) == NULL)
        return err->code;
    memset(st->valid, 0, (size_t)n * SDB_VEC_WORDS * 8);
    for (k = 0; k < n; k++) {
        const step *s = &p->steps[k];
        sdb_vec *r = &st->regs[k];
        memset(r, 0, sizeof *r);
        memset(&st->sc[k], 0, sizeof st->sc[k]);
        st->buf[k] = NULL;
        st->strbuf[k] = NULL;
        r->type = s->type;
        r->valid = st->valid + (size_t)k * SDB_VEC_WORDS;
        if (s->op == ST_COL)
            continue;
        if (s->op == ST_CONST) {
            if ((st->buf[k] = sdb_qmem_local(m, a, 16, err)) == NULL)
                return err->code;
            memset(st->buf[k], 0, 16);
            switch (s->type) {
            case SDB_TYPE_FLOAT64: *(double *)st->buf[k] = s->val.u.f; break;
            case SDB_TYPE_BOOL: *(uint8_t *)st->buf[k] = s->val.u.b; break;
            case SDB_TYPE_STRING: case SDB_TYPE_SYMBOL: *(sdb_str *)st->buf[k] = s->val.u.s; break;
            default: *(int64_t *)st->buf[k] = s->val.u.i; break;
            }
            r->is_const = true;
            r->v.raw = st->buf[k];
            r->valid = s->val.null ? sdb_vec_all_null : sdb_vec_all_valid;
            continue;
        }
        if ((st->buf[k] = sdb_qmem_local(m, a, SDB_VEC_SIZE * 16, err)) == NULL)
            return err->code;
        r->v.raw = st->buf[k];
        if (s->op == ST_SYMCMP && s->nlist > 0 &&
            (st->sc[k].codes = sdb_qmem_local(m, a, s->nlist * sizeof(uint32_t), err)) == NULL)
            return err->code;
        if (s->op == ST_CAST && s->type == SDB_TYPE_STRING &&
            (st->strbuf[k] = sdb_qmem_local(m, a, SDB_VEC_SIZE * STRCAP, err)) == NULL)
            return err->code;
    }
    *out = st;
    return SDB_OK;
}

/* The validity words of v, expanding a constant. */
static const uint64_t *vwords(const sdb_vec *v)
{
    if (v->is_const)
        return (v->valid[0] & 1) ? sdb_vec_all_valid : sdb_vec_all_null;
    return v->valid;
}

static void and_valid(uint64_t *out, const sdb_vec *a, const sdb_vec *b)
{
    const uint64_t *x = vwords(a), *y = b ? vwords(b) : sdb_vec_all_valid;
    for (uint32_t w = 0; w < SDB_VEC_WORDS; w++)
        out[w] = x[w] & y[w];
}

static inline uint32_t cmask(const sdb_vec *v)
{
    return v->is_const ? 0 : UINT32_MAX;
}

static int str_cmp(sdb_str a, sdb_str b)
{
    uint32_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c != 0)
        return c;
    return (a.len > b.len) - (a.len < b.len);
}

static sdb_rc overflow(const step *s, sdb_err *err)
{
    return SDB_FAIL(err, SDB_ERR_LIMIT, "int64 overflow in %s", sdb_pexpr_kind_name(s->kind));
}

static sdb_rc arith(const step *s, const sdb_vec *a, const sdb_vec *b, void *buf, uint64_t *ov,
                    const uint32_t *sel, uint32_t n, sdb_err *err)
{
    uint32_t ma = cmask(a), mb = cmask(b), j;
    uint64_t bad = 0;
    and_valid(ov, a, b);
    if (s->in_type == SDB_TYPE_FLOAT64) {
        const double *A = a->v.f64, *B = b->v.f64;
        double *O = buf;
        switch (s->kind) {
        case SDB_PX_ADD: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = A[i & ma] + B[i & mb]; } break;
        case SDB_PX_SUB: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = A[i & ma] - B[i & mb]; } break;
        case SDB_PX_MUL: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = A[i & ma] * B[i & mb]; } break;
        case SDB_PX_DIV: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = A[i & ma] / B[i & mb]; } break;
        default: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = fmod(A[i & ma], B[i & mb]); } break;
        }
        return SDB_OK;
    }
    const int64_t *A = a->v.i64, *B = b->v.i64;
    int64_t *O = buf;
    switch (s->kind) {
    case SDB_PX_ADD:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            bad |= (uint64_t)__builtin_add_overflow(A[i & ma], B[i & mb], &O[i]) & VALID(ov, i);
        }
        break;
    case SDB_PX_SUB:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            bad |= (uint64_t)__builtin_sub_overflow(A[i & ma], B[i & mb], &O[i]) & VALID(ov, i);
        }
        break;
    case SDB_PX_MUL:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            bad |= (uint64_t)__builtin_mul_overflow(A[i & ma], B[i & mb], &O[i]) & VALID(ov, i);
        }
        break;
    case SDB_PX_DIV: case SDB_PX_MOD:
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            int64_t x = A[i & ma], y = B[i & mb];
            if (y == 0) {
                CLRV(ov, i);
                O[i] = 0;
            } else if (y == -1) {
                bad |= (uint64_t)(x == INT64_MIN && s->kind == SDB_PX_DIV) & VALID(ov, i);
                O[i] = s->kind == SDB_PX_MOD || x == INT64_MIN ? 0 : -x;
            } else {
                O[i] = s->kind == SDB_PX_DIV ? x / y : x % y;
            }
        }
        break;
    default: break;
    }
    return bad ? overflow(s, err) : SDB_OK;
}

#define CMP_LOOP(GET)                                                                      \
    do {                                                                                   \
        switch (s->kind) {                                                                 \
        case SDB_PX_EQ: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = GET == 0; } break; \
        case SDB_PX_NE: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = GET != 0; } break; \
        case SDB_PX_LT: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = GET < 0; } break;  \
        case SDB_PX_LE: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = GET <= 0; } break; \
        case SDB_PX_GT: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = GET > 0; } break;  \
        default: for (j = 0; j < n; j++) { uint32_t i = sel[j]; O[i] = GET >= 0; } break;        \
        }                                                                                  \
    } while (0)

#define THREE(x, y) (((x) > (y)) - ((x) < (y)))

static void cmp(const step *s, const sdb_vec *a, const sdb_vec *b, uint8_t *O, uint64_t *ov,
                const uint32_t *sel, uint32_t n)
{
    uint32_t ma = cmask(a), mb = cmask(b), j;
    and_valid(ov, a, b);
    if (a->type == SDB_TYPE_FLOAT64) {
        const double *A = a->v.f64, *B = b->v.f64;
        CMP_LOOP(THREE(A[i & ma], B[i & mb]));
        /* NaN compares unequal to everything (THREE gives 0): fix = and <> up */
        if (s->kind == SDB_PX_EQ || s->kind == SDB_PX_NE || s->kind == SDB_PX_LE ||
            s->kind == SDB_PX_GE)
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                if (isnan(A[i & ma]) || isnan(B[i & mb]))
                    O[i] = s->kind == SDB_PX_NE;
            }
    } else if (a->type == SDB_TYPE_STRING) {
        const sdb_str *A = a->v.str, *B = b->v.str;
        CMP_LOOP(str_cmp(A[i & ma], B[i & mb]));
    } else if (a->type == SDB_TYPE_BOOL) {
        const uint8_t *A = a->v.b8, *B = b->v.b8;
        CMP_LOOP(THREE(A[i & ma], B[i & mb]));
    } else {
        const int64_t *A = a->v.i64, *B = b->v.i64;
        CMP_LOOP(THREE(A[i & ma], B[i & mb]));
    }
}

static void resolve(symcache *c, const step *s, const sdb_dict *d)
{
    c->dict = d;
    c->n = 0;
    for (uint32_t k = 0; k < s->nlist; k++) {
        uint32_t code;
        if (sdb_dict_find(d, s->list[k].u.s.p, s->list[k].u.s.len, &code))
            c->codes[c->n++] = code;
    }
}

static void symcmp(const step *s, symcache *c, const sdb_vec *a, uint8_t *O, uint64_t *ov,
                   const uint32_t *sel, uint32_t n)
{
    uint32_t j, k;
    and_valid(ov, a, NULL);
    if (a->is_const) /* a missing column: all NULL */
        return;
    if (c->dict != a->dict)
        resolve(c, s, a->dict);
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j];
        bool hit = false;
        for (k = 0; k < c->n; k++)
            hit |= a->v.code[i] == c->codes[k];
        O[i] = hit ^ s->negate;
        if (!hit && s->list_null)
            CLRV(ov, i);
    }
}

static bool sym_pred(const step *s, sdb_str v)
{
    int c;
    if (s->kind == SDB_PX_LIKE)
        return sdb_like_match(v.p, v.len, s->val.u.s.p, s->val.u.s.len, s->ci) != s->negate;
    c = str_cmp(v, s->val.u.s);
    switch (s->kind) {
    case SDB_PX_LT: return c < 0;
    case SDB_PX_LE: return c <= 0;
    case SDB_PX_GT: return c > 0;
    default: return c >= 0;
    }
}

static sdb_rc symmap(sdb_prog_state *st, uint32_t k, const step *s, const sdb_vec *a,
                     uint8_t *O, uint64_t *ov, const uint32_t *sel, uint32_t n, sdb_err *err)
{
    symcache *c = &st->sc[k];
    uint32_t j;
    and_valid(ov, a, NULL);
    if (a->is_const) /* a missing column: all NULL */
        return SDB_OK;
    if (c->dict != a->dict) {
        uint32_t nd = sdb_dict_count(a->dict);
        c->dict = NULL;
        if (nd <= SYMMAP_MAX) {
            if (nd > c->tcap) {
                if ((c->table = sdb_qmem_local(st->m, st->a, nd, err)) == NULL)
                    return err->code;
                c->tcap = nd;
            }
            for (uint32_t code = 0; code < nd; code++)
                c->table[code] = sym_pred(s, sdb_dict_get(a->dict, code));
            c->dict = a->dict;
        }
    }
    if (c->dict == a->dict) {
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            /* the code slot of a NULL row need not be a code of the dictionary */
            O[i] = VALID(ov, i) ? c->table[a->v.code[i]] : 0;
        }
        return SDB_OK;
    }
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j];
        if (VALID(ov, i))
            O[i] = sym_pred(s, sdb_dict_get(a->dict, a->v.code[i]));
    }
    return SDB_OK;
}

static bool in_list(const step *s, const sdb_vec *a, uint32_t i)
{
    uint32_t k;
    switch (a->type) {
    case SDB_TYPE_FLOAT64:
        for (k = 0; k < s->nlist; k++)
            if (a->v.f64[i] == s->list[k].u.f)
                return true;
        return false;
    case SDB_TYPE_STRING:
        for (k = 0; k < s->nlist; k++)
            if (str_cmp(a->v.str[i], s->list[k].u.s) == 0)
                return true;
        return false;
    case SDB_TYPE_BOOL:
        for (k = 0; k < s->nlist; k++)
            if (a->v.b8[i] == s->list[k].u.b)
                return true;
        return false;
    default:
        for (k = 0; k < s->nlist; k++)
            if (a->v.i64[i] == s->list[k].u.i)
                return true;
        return false;
    }
}

static unsigned width(sdb_type t)
{
    switch (t) {
    case SDB_TYPE_BOOL: return 1;
    case SDB_TYPE_SYMBOL: return 4;
    case SDB_TYPE_STRING: return sizeof(sdb_str);
    default: return 8;
    }
}

static sdb_rc parse_fail(const step *s, sdb_str v, sdb_err *err)
{
    return SDB_FAIL(err, SDB_ERR_PARSE, "cannot cast '%.*s' to %s", (int)(v.len > 64 ? 64 : v.len),
                    v.p, sdb_type_name(s->type));
}

static sdb_rc cast(const step *s, char *strbuf, const sdb_vec *a, void *buf, uint64_t *ov,
                   const uint32_t *sel, uint32_t n, sdb_err *err)
{
    uint32_t ma = cmask(a), j;
    sdb_type from = a->type, to = s->type;
    and_valid(ov, a, NULL);
    if (to == SDB_TYPE_STRING) {
        sdb_str *O = buf;
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j], x = i & ma;
            char *p = strbuf + (size_t)i * STRCAP;
            int len = 0;
            if (!VALID(ov, i)) {
                /* comparisons read every row, NULL ones too: leave a valid empty string */
                O[i].p = "";
                O[i].len = 0;
                continue;
            }
            switch (from) {
            case SDB_TYPE_SYMBOL: O[i] = sdb_dict_get(a->dict, a->v.code[x]); continue;
            case SDB_TYPE_STRING: O[i] = a->v.str[x]; continue;
            case SDB_TYPE_INT64: len = snprintf(p, STRCAP, "%" PRId64, a->v.i64[x]); break;
            case SDB_TYPE_TIMESTAMP: len = (int)sdb_time_format(a->v.i64[x], p); break;
            case SDB_TYPE_BOOL: len = snprintf(p, STRCAP, "%s", a->v.b8[x] ? "true" : "false"); break;
            case SDB_TYPE_FLOAT64:
                len = snprintf(p, STRCAP, "%.15g", a->v.f64[x]);
                if (strtod(p, NULL) != a->v.f64[x] && !isnan(a->v.f64[x]))
                    len = snprintf(p, STRCAP, "%.17g", a->v.f64[x]);
                break;
            }
            O[i].p = p;
            O[i].len = len < 0 ? 0 : (uint32_t)len;
        }
        return SDB_OK;
    }
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j], x = i & ma;
        int64_t iv = 0;
        double fv = 0;
        bool isf = false;
        if (!VALID(ov, i))
            continue;
        switch (from) {
        case SDB_TYPE_INT64: case SDB_TYPE_TIMESTAMP: iv = a->v.i64[x]; break;
        case SDB_TYPE_BOOL: iv = a->v.b8[x]; break;
        case SDB_TYPE_FLOAT64: fv = a->v.f64[x]; isf = true; break;
        case SDB_TYPE_SYMBOL: case SDB_TYPE_STRING: {
            sdb_str v = from == SDB_TYPE_STRING ? a->v.str[x] : sdb_dict_get(a->dict, a->v.code[x]);
            char tmp[72];
            char *end;
            if (v.len == 0 || v.len >= sizeof tmp)
                return parse_fail(s, v, err);
            memcpy(tmp, v.p, v.len);
            tmp[v.len] = '\0';
            if (to == SDB_TYPE_BOOL) {
                if (strcasecmp(tmp, "true") == 0 || strcmp(tmp, "1") == 0 || strcasecmp(tmp, "t") == 0)
                    iv = 1;
                else if (strcasecmp(tmp, "false") == 0 || strcmp(tmp, "0") == 0 ||
                         strcasecmp(tmp, "f") == 0)
                    iv = 0;
                else
                    return parse_fail(s, v, err);
            } else if (to == SDB_TYPE_FLOAT64) {
                errno = 0;
                fv = strtod(tmp, &end);
                isf = true;
                if (*end != '\0')
                    return parse_fail(s, v, err);
            } else {
                errno = 0;
                iv = strtoll(tmp, &end, 10);
                if (*end != '\0' || errno == ERANGE) {
                    if (to != SDB_TYPE_TIMESTAMP || sdb_time_parse(tmp, v.len, &iv, NULL) != SDB_OK)
                        return parse_fail(s, v, err);
                }
            }
            break;
        }
        }
        switch (to) {
        case SDB_TYPE_FLOAT64: ((double *)buf)[i] = isf ? fv : (double)iv; break;
        case SDB_TYPE_BOOL: ((uint8_t *)buf)[i] = isf ? fv != 0 : iv != 0; break;
        default:
            if (isf) {
                if (isnan(fv) || fv >= 9223372036854775808.0 || fv < -9223372036854775808.0)
                    return SDB_FAIL(err, SDB_ERR_LIMIT, "cannot cast %g to %s: out of range", fv,
                                    sdb_type_name(to));
                iv = (int64_t)fv;
            }
            ((int64_t *)buf)[i] = iv;
            break;
        }
    }
    return SDB_OK;
}

static sdb_rc round_step(const step *s, const sdb_vec *a, void *buf, uint64_t *ov,
                         const uint32_t *sel, uint32_t n, sdb_err *err)
{
    uint32_t ma = cmask(a), j;
    int64_t digits = s->val.u.i;
    and_valid(ov, a, NULL);
    if (a->type == SDB_TYPE_FLOAT64) {
        double *O = buf;
        double scale = pow(10.0, (double)(digits < -308 ? -308 : digits > 308 ? 308 : digits));
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            double x = a->v.f64[i & ma];
            if (digits > 0 && digits <= 22) {
                /* decimal rounding: x is compared with the double nearest to the half-way
                 * decimal, so round(1.005, 2) is 1.01 as written, not 1.00 as x * 100
                 * (100.49999999999999) would give */
                double ax = fabs(x), k = floor(ax * scale), h = (k + 0.5) / scale;
                if (k >= 4503599627370496.0) /* 2^52: no digits to drop there */
                    O[i] = x;
                else
                    O[i] = copysign((ax >= h ? k + 1 : k) / scale, x);
            } else {
                O[i] = digits == 0 ? round(x) : round(x * scale) / scale;
            }
            if (!isfinite(O[i]) && isfinite(x))
                O[i] = x; /* scaling overflowed: x has no digits to drop there */
        }
        return SDB_OK;
    }
    int64_t *O = buf;
    int64_t p = 1;
    bool zero = false;
    for (int64_t d = 0; d < -digits; d++) {
        if (__builtin_mul_overflow(p, 10, &p)) {
            zero = true;
            break;
        }
    }
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j];
        int64_t x = a->v.i64[i & ma], q, r, res;
        if (digits >= 0) {
            O[i] = x;
            continue;
        }
        if (zero) {
            O[i] = 0;
            continue;
        }
        q = x / p;
        r = x % p;
        if (r >= p - r && r > 0)
            q++;
        else if (r < 0 && -r >= p + r)
            q--;
        if (__builtin_mul_overflow(q, p, &res) && VALID(ov, i))
            return overflow(s, err);
        O[i] = res;
    }
    return SDB_OK;
}

static sdb_rc run(sdb_prog_state *st, const sdb_chunk *ch, const uint32_t *sel, uint32_t n,
                  sdb_err *err)
{
    const sdb_prog *p = st->p;
    uint32_t k, j, q;
    for (k = 0; k < p->nsteps; k++) {
        const step *s = &p->steps[k];
        sdb_vec *r = &st->regs[k];
        uint64_t *ov = st->valid + (size_t)k * SDB_VEC_WORDS;
        void *buf = st->buf[k];
        const sdb_vec *a = s->op == ST_COL || s->op == ST_CONST ? NULL : &st->regs[s->a];
        const sdb_vec *b = &st->regs[s->b];
        switch (s->op) {
        case ST_COL:
            if (s->col >= ch->ncols)
                return SDB_FAIL(err, SDB_ERR_MISUSE, "expression reads column %u of %u", s->col,
                                ch->ncols);
            *r = ch->cols[s->col];
            if (r->type != s->type)
                return SDB_FAIL(err, SDB_ERR_SCHEMA, "column %u is %s, expression expects %s",
                                s->col, sdb_type_name(r->type), sdb_type_name(s->type));
            break;
        case ST_CONST:
            break;
        case ST_ARITH:
            SDB_TRY(arith(s, a, b, buf, ov, sel, n, err));
            break;
        case ST_NEG: case ST_ABS: {
            uint32_t ma = cmask(a);
            and_valid(ov, a, NULL);
            if (a->type == SDB_TYPE_FLOAT64) {
                for (j = 0; j < n; j++) {
                    uint32_t i = sel[j];
                    double x = a->v.f64[i & ma];
                    ((double *)buf)[i] = s->op == ST_NEG ? -x : fabs(x);
                }
            } else {
                uint64_t bad = 0;
                for (j = 0; j < n; j++) {
                    uint32_t i = sel[j];
                    int64_t x = a->v.i64[i & ma];
                    bad |= (uint64_t)(x == INT64_MIN) & VALID(ov, i);
                    ((int64_t *)buf)[i] =
                        x == INT64_MIN ? 0 : (s->op == ST_NEG || x < 0) ? -x : x;
                }
                if (bad)
                    return overflow(s, err);
            }
            break;
        }
        case ST_CMP:
            cmp(s, a, b, buf, ov, sel, n);
            break;
        case ST_SYMCMP:
            symcmp(s, &st->sc[k], a, buf, ov, sel, n);
            break;
        case ST_SYMMAP:
            SDB_TRY(symmap(st, k, s, a, buf, ov, sel, n, err));
            break;
        case ST_AND: case ST_OR: {
            const uint64_t *va = vwords(a), *vb = vwords(b);
            uint32_t ma = cmask(a), mb = cmask(b);
            uint8_t *O = buf;
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                unsigned x = a->v.b8[i & ma], y = b->v.b8[i & mb];
                unsigned xv = (unsigned)VALID(va, i & ma), yv = (unsigned)VALID(vb, i & mb);
                unsigned val, valid;
                if (s->op == ST_AND) {
                    /* false if either is a known false; true if both known true */
                    valid = (xv & yv) | (xv & !x) | (yv & !y);
                    val = xv & yv & x & y;
                } else {
                    valid = (xv & yv) | (xv & x) | (yv & y);
                    val = (xv & x) | (yv & y);
                }
                O[i] = (uint8_t)val;
                if (valid)
                    SETV(ov, i);
                else
                    CLRV(ov, i);
            }
            break;
        }
        case ST_NOT: {
            uint32_t ma = cmask(a);
            and_valid(ov, a, NULL);
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                ((uint8_t *)buf)[i] = !a->v.b8[i & ma];
            }
            break;
        }
        case ST_ISNULL: {
            const uint64_t *va = vwords(a);
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                ((uint8_t *)buf)[i] = (uint8_t)(VALID(va, i) ^ !s->negate);
            }
            memcpy(ov, sdb_vec_all_valid, sizeof sdb_vec_all_valid);
            break;
        }
        case ST_IN: {
            uint32_t ma = cmask(a);
            and_valid(ov, a, NULL);
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                bool hit = VALID(ov, i) && in_list(s, a, i & ma);
                ((uint8_t *)buf)[i] = hit ^ s->negate;
                if (!hit && s->list_null)
                    CLRV(ov, i);
            }
            break;
        }
        case ST_LIKE: {
            uint32_t ma = cmask(a);
            and_valid(ov, a, NULL);
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                sdb_str v = a->v.str[i & ma];
                if (!VALID(ov, i))
                    continue;
                ((uint8_t *)buf)[i] = sdb_like_match(v.p, v.len, s->val.u.s.p, s->val.u.s.len,
                                                      s->ci) ^ s->negate;
            }
            break;
        }
        case ST_CASE: case ST_COALESCE: {
            unsigned w = width(s->type);
            uint32_t npairs = s->op == ST_CASE ? s->nargs / 2 : s->nargs;
            memset(ov, 0, SDB_VEC_WORDS * 8);
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                const sdb_vec *src = NULL;
                for (q = 0; q < npairs; q++) {
                    if (s->op == ST_CASE) {
                        const sdb_vec *c = &st->regs[s->args[2 * q]];
                        uint32_t ci = i & cmask(c);
                        if (sdb_vec_valid(c, i) && c->v.b8[ci]) {
                            src = &st->regs[s->args[2 * q + 1]];
                            break;
                        }
                    } else if (sdb_vec_valid(&st->regs[s->args[q]], i)) {
                        src = &st->regs[s->args[q]];
                        break;
                    }
                }
                if (src == NULL && s->op == ST_CASE && s->has_else)
                    src = &st->regs[s->args[s->nargs - 1]];
                if (src == NULL || !sdb_vec_valid(src, i)) {
                    /* comparisons read NULL rows too: no stale string pointer there */
                    memset((char *)buf + (size_t)i * w, 0, w);
                    continue;
                }
                memcpy((char *)buf + (size_t)i * w,
                       (const char *)src->v.raw + (size_t)(i & cmask(src)) * w, w);
                SETV(ov, i);
            }
            break;
        }
        case ST_CAST:
            SDB_TRY(cast(s, st->strbuf[k], a, buf, ov, sel, n, err));
            break;
        case ST_ROUND:
            SDB_TRY(round_step(s, a, buf, ov, sel, n, err));
            break;
        case ST_TBUCKET: case ST_DTRUNC: {
            uint32_t ma = cmask(a);
            and_valid(ov, a, NULL);
            for (j = 0; j < n; j++) {
                uint32_t i = sel[j];
                int64_t x = a->v.i64[i & ma];
                if (s->op == ST_DTRUNC) {
                    ((int64_t *)buf)[i] = sdb_time_trunc((sdb_time_unit)s->unit, x);
                } else if (!sdb_time_bucket(s->val.u.i, x, &((int64_t *)buf)[i]) &&
                           VALID(ov, i)) {
                    return SDB_FAIL(err, SDB_ERR_LIMIT, "time_bucket: %" PRId64
                                    " is out of range", x);
                }
            }
            break;
        }
        }
    }
    return SDB_OK;
}

sdb_rc sdb_prog_eval(sdb_prog_state *st, const sdb_chunk *chunk, const uint32_t *sel,
                     uint32_t nsel, const sdb_vec **out, sdb_err *err)
{
    SDB_TRY(run(st, chunk, sel ? sel : st->iota, nsel, err));
    *out = &st->regs[st->p->nsteps - 1];
    return SDB_OK;
}

/* The rows of sel (rows 0..nsel-1 when NULL) whose validity bit is `present`, into out. */
static uint32_t sel_validity(const uint64_t *valid, bool present, const uint32_t *sel,
                             uint32_t nsel, uint32_t *out)
{
    uint32_t k = 0;
    if (sel != NULL) {
        for (uint32_t j = 0; j < nsel; j++) {
            out[k] = sel[j];
            k += (uint32_t)(VALID(valid, sel[j]) == (uint64_t)present);
        }
        return k;
    }
    for (uint32_t w = 0; (uint64_t)w * 64 < nsel; w++) {
        uint64_t bits = present ? valid[w] : ~valid[w];
        if (nsel - w * 64 < 64)
            bits &= (UINT64_C(1) << (nsel - w * 64)) - 1;
        while (bits) {
            out[k++] = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
        }
    }
    return k;
}

sdb_rc sdb_prog_filter(sdb_prog_state *st, const sdb_chunk *chunk, const uint32_t *sel,
                       uint32_t nsel, uint32_t *out_sel, uint32_t *nout, sdb_err *err)
{
    const sdb_prog *p = st->p;
    const sdb_vec *r;
    uint32_t j, k = 0, m;
    if (p->fast != FAST_NONE && p->fcol < chunk->ncols && !chunk->cols[p->fcol].is_const) {
        const sdb_vec *c = &chunk->cols[p->fcol];
        switch (p->fast) {
        case FAST_I64:
            if (!sdb_type_is_i64(c->type))
                break;
            *nout = sdb_kern_sel_i64(p->fop, c->v.i64, c->valid, p->fval.u.i, sel, nsel, out_sel);
            return SDB_OK;
        case FAST_F64:
            if (c->type != SDB_TYPE_FLOAT64)
                break;
            *nout = sdb_kern_sel_f64(p->fop, c->v.f64, c->valid, p->fval.u.f, sel, nsel, out_sel);
            return SDB_OK;
        case FAST_SYM: {
            symcache *sc = &st->sc[p->nsteps - 1];
            if (c->type != SDB_TYPE_SYMBOL)
                break;
            if (sc->dict != c->dict)
                resolve(sc, &p->steps[p->nsteps - 1], c->dict);
            *nout = sdb_kern_sel_code(p->fop == SDB_PX_EQ, c->v.code, c->valid,
                                      sc->n ? sc->codes[0] : UINT32_MAX, sel, nsel, out_sel);
            if (sc->n == 0 && p->fop == SDB_PX_EQ)
                *nout = 0;
            return SDB_OK;
        }
        case FAST_NULL:
            *nout = sel_validity(c->valid, p->fop == SDB_PX_IS_NOT_NULL, sel, nsel, out_sel);
            return SDB_OK;
        default:
            break;
        }
    }
    SDB_TRY(sdb_prog_eval(st, chunk, sel, nsel, &r, err));
    m = cmask(r);
    for (j = 0; j < nsel; j++) {
        uint32_t i = sel ? sel[j] : j;
        out_sel[k] = i;
        k += (uint32_t)(r->v.b8[i & m] & VALID(r->valid, i & m));
    }
    *nout = k;
    return SDB_OK;
}
