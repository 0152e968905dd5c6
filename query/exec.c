/* The physical query of exec.h. Layout of this file:
 *   prepare   - column use, segment column maps, dictionaries, pruning predicates, morsels,
 *               global symbol code spaces for dense grouping
 *   worker    - decode a morsel's columns into vectors, filter, then aggregate or project
 *               into a per-morsel partial
 *   merge     - partials folded into the final state in morsel order
 *   finish    - groups to rows, output expressions, having, sort / top-N, limit
 *   metadata  - count/min/max from block statistics
 * Query-lifetime structures come from the query's sdb_qmem; each partial has its own arena
 * (charged to the same budget) that is dropped once merged. */
#include "query/exec.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/hashtable.h"
#include "storage/common/hash.h"

#define MEM_MORSEL  65536u
#define DENSE_MAX   65536u
#define VALID(w, i) (((w)[(i) >> 6] >> ((i) & 63)) & 1)

/* ---- structures ---- */

typedef enum pkind { P_CMP, P_IN, P_BETWEEN, P_ISNULL, P_NOTNULL, P_SYM, P_STR } pkind;

typedef struct pred {
    pkind kind;
    uint32_t col;
    sdb_pexpr_kind op;      /* P_CMP */
    sdb_type ctype;         /* constant class: INT64 or FLOAT64 for numbers */
    sdb_value lo, hi;       /* P_CMP: lo; P_BETWEEN: lo, hi */
    uint32_t nlist;
    const sdb_value *list;  /* P_IN, P_SYM, P_STR (non-NULL items) */
} pred;

typedef struct morsel {
    uint32_t unit;          /* segment index, or nsegs + memtable index */
    uint32_t blk;           /* block (segment) or slice (memtable) */
    uint32_t rows;
} morsel;

typedef struct keyinfo {
    bool sym;               /* a bare symbol column: grouped by global code */
    uint32_t col;
    sdb_symdict *gdict;     /* global strings of the key (sym) */
    uint32_t **map;         /* per unit: local code -> global code (sym) */
    uint32_t nullid;        /* global code of NULL = number of strings */
    sdb_type type;          /* output type (symbol keys: string) */
} keyinfo;

typedef struct partial {
    sdb_arena *arena;
    sdb_gtab tab;           /* aggregate */
    sdb_value *rows;        /* project: nrows * nout */
    uint64_t nrows, cap;
} partial;

typedef struct qctx {
    sdb_qmem *m;
    const sdb_query_spec *sp;
    const sdb_table_snap *snap;
    uint32_t ncols, nunits;
    bool *need, *need_filter;
    int32_t *segcol;              /* [unit * ncols + col]: column index in the unit, or -1 */
    sdb_dict *dicts;              /* [unit * ncols + col] for symbol columns */
    uint32_t nconj;
    sdb_prog **conj;
    uint32_t npreds;
    pred *preds;
    morsel *ms;
    uint32_t nms;
    /* aggregate */
    bool agg;
    uint32_t ngroup, naggs;
    keyinfo *keys;
    sdb_prog **gprog, **aprog;
    sdb_aggdef *adefs;
    uint32_t stride;
    uint32_t dense_n;             /* > 0: dense mode */
    /* projection */
    uint32_t nout;
    sdb_prog **oprog;
    /* merge */
    pthread_mutex_t mx;
    partial **pending;
    uint32_t next;
    sdb_gtab global;
    sdb_result *res;              /* projection rows accumulate here */
    uint64_t res_cap;
    uint64_t *seq;                /* heap: arrival number of each row */
    uint64_t arrived;
    uint64_t keep;                /* offset + limit, UINT64_MAX: all */
    atomic_bool done;             /* enough rows: stop taking morsels */
    /* run */
    atomic_uint next_morsel;
    atomic_bool stop;
    bool failed;
    sdb_err ferr;
    atomic_uint_fast64_t blocks, blocks_decoded, rows, mem_rows;
} qctx;

typedef struct worker {
    qctx *q;
    sdb_arena *arena;
    sdb_seg_blockbuf *bb;         /* per table column */
    bool *decoded;
    sdb_vec *cols;                /* per table column */
    sdb_str **strs;               /* per string column: SDB_VEC_SIZE */
    uint32_t *sels;               /* nvec * SDB_VEC_SIZE */
    uint32_t *nsels;
    uint32_t *tmpsel;
    sdb_prog_state **conj, **gst, **ast, **ost;
    uint32_t gids[SDB_VEC_SIZE];
    sdb_buf key;
    uint64_t *keyoff;             /* SDB_VEC_SIZE + 1 */
} worker;

/* ---- helpers ---- */

static sdb_type out_key_type(sdb_type t)
{
    return t == SDB_TYPE_SYMBOL ? SDB_TYPE_STRING : t;
}

static bool stop_requested(qctx *q)
{
    return atomic_load(&q->stop) ||
           (q->sp->cancel != NULL && atomic_load(q->sp->cancel));
}

static void fail(qctx *q, const sdb_err *e)
{
    pthread_mutex_lock(&q->mx);
    if (!q->failed) {
        q->failed = true;
        q->ferr = *e;
    }
    pthread_mutex_unlock(&q->mx);
    atomic_store(&q->stop, true);
}

static void mark_cols(const sdb_pexpr *e, bool *need, uint32_t ncols)
{
    if (e == NULL)
        return;
    if (e->kind == SDB_PX_COL && e->col < ncols)
        need[e->col] = true;
    for (uint32_t i = 0; i < e->nargs; i++)
        mark_cols(e->args[i], need, ncols);
}

/* ---- prepare: pruning predicates ---- */

static sdb_pexpr_kind flip(sdb_pexpr_kind k)
{
    switch (k) {
    case SDB_PX_LT: return SDB_PX_GT;
    case SDB_PX_LE: return SDB_PX_GE;
    case SDB_PX_GT: return SDB_PX_LT;
    case SDB_PX_GE: return SDB_PX_LE;
    default: return k;
    }
}

static bool num_class(sdb_type col, sdb_type c, sdb_type *cls)
{
    if (sdb_type_is_i64(col) && sdb_type_is_i64(c)) {
        *cls = SDB_TYPE_INT64;
        return true;
    }
    if (col == SDB_TYPE_FLOAT64 && c == SDB_TYPE_FLOAT64) {
        *cls = SDB_TYPE_FLOAT64;
        return true;
    }
    return false;
}

static sdb_rc add_pred(qctx *q, const pred *p, sdb_err *err)
{
    pred *np = sdb_qmem_alloc(q->m, (q->npreds + 1) * sizeof *np, err);
    if (np == NULL)
        return err->code;
    if (q->npreds)
        memcpy(np, q->preds, q->npreds * sizeof *np);
    np[q->npreds++] = *p;
    q->preds = np;
    return SDB_OK;
}

static sdb_rc const_list(qctx *q, const sdb_pexpr *e, pred *p, sdb_err *err)
{
    sdb_value *l = sdb_qmem_alloc(q->m, e->nargs * sizeof *l, err);
    if (l == NULL)
        return err->code;
    p->nlist = 0;
    for (uint32_t i = 1; i < e->nargs; i++)
        if (!e->args[i]->val.null)
            l[p->nlist++] = e->args[i]->val;
    p->list = l;
    return SDB_OK;
}

static sdb_rc extract(qctx *q, const sdb_pexpr *e, sdb_err *err)
{
    pred p;
    memset(&p, 0, sizeof p);
    if (e->kind == SDB_PX_AND) {
        SDB_TRY(extract(q, e->args[0], err));
        return extract(q, e->args[1], err);
    }
    if (e->kind >= SDB_PX_EQ && e->kind <= SDB_PX_GE && e->nargs == 2) {
        const sdb_pexpr *c = e->args[0], *k = e->args[1];
        sdb_pexpr_kind op = e->kind;
        if (c->kind == SDB_PX_CONST && k->kind == SDB_PX_COL) {
            c = e->args[1];
            k = e->args[0];
            op = flip(op);
        }
        if (c->kind != SDB_PX_COL || k->kind != SDB_PX_CONST || k->val.null)
            return SDB_OK;
        p.col = c->col;
        if (c->type == SDB_TYPE_SYMBOL && op == SDB_PX_EQ) {
            p.kind = P_SYM;
            p.nlist = 1;
            p.list = &k->val;
        } else if (c->type == SDB_TYPE_STRING && op == SDB_PX_EQ) {
            p.kind = P_STR;
            p.nlist = 1;
            p.list = &k->val;
        } else if (num_class(c->type, k->type, &p.ctype)) {
            p.kind = P_CMP;
            p.op = op;
            p.lo = k->val;
        } else {
            return SDB_OK;
        }
        return add_pred(q, &p, err);
    }
    if (e->kind == SDB_PX_IN && !e->negate && e->args[0]->kind == SDB_PX_COL) {
        const sdb_pexpr *c = e->args[0];
        p.col = c->col;
        if (c->type == SDB_TYPE_SYMBOL)
            p.kind = P_SYM;
        else if (c->type == SDB_TYPE_STRING)
            p.kind = P_STR;
        else if (e->nargs > 1 && num_class(c->type, e->args[1]->type, &p.ctype))
            p.kind = P_IN;
        else
            return SDB_OK;
        SDB_TRY(const_list(q, e, &p, err));
        return add_pred(q, &p, err);
    }
    if (e->kind == SDB_PX_BETWEEN && !e->negate && e->args[0]->kind == SDB_PX_COL &&
        e->args[1]->kind == SDB_PX_CONST && e->args[2]->kind == SDB_PX_CONST &&
        !e->args[1]->val.null && !e->args[2]->val.null &&
        num_class(e->args[0]->type, e->args[1]->type, &p.ctype) &&
        e->args[1]->type == e->args[2]->type) {
        p.kind = P_BETWEEN;
        p.col = e->args[0]->col;
        p.lo = e->args[1]->val;
        p.hi = e->args[2]->val;
        return add_pred(q, &p, err);
    }
    if ((e->kind == SDB_PX_IS_NULL || e->kind == SDB_PX_IS_NOT_NULL) &&
        e->args[0]->kind == SDB_PX_COL) {
        p.kind = e->kind == SDB_PX_IS_NULL ? P_ISNULL : P_NOTNULL;
        p.col = e->args[0]->col;
        return add_pred(q, &p, err);
    }
    return SDB_OK;
}

/* Split the top-level ANDs of where into separately compiled conjuncts. */
static sdb_rc split_conj(qctx *q, const sdb_pexpr *e, sdb_err *err)
{
    sdb_prog *p, **np;
    if (e->kind == SDB_PX_AND) {
        SDB_TRY(split_conj(q, e->args[0], err));
        return split_conj(q, e->args[1], err);
    }
    SDB_TRY(sdb_prog_compile(q->m, e, &p, err));
    if ((np = sdb_qmem_alloc(q->m, (q->nconj + 1) * sizeof *np, err)) == NULL)
        return err->code;
    if (q->nconj)
        memcpy(np, q->conj, q->nconj * sizeof *np);
    np[q->nconj++] = p;
    q->conj = np;
    return SDB_OK;
}

/* ---- prepare: block and segment pruning ---- */

static bool cmp_i64_skip(sdb_pexpr_kind op, int64_t c, int64_t mn, int64_t mx)
{
    switch (op) {
    case SDB_PX_EQ: return c < mn || c > mx;
    case SDB_PX_NE: return mn == mx && mn == c;
    case SDB_PX_LT: return mn >= c;
    case SDB_PX_LE: return mn > c;
    case SDB_PX_GT: return mx <= c;
    default: return mx < c;
    }
}

static bool cmp_f64_skip(sdb_pexpr_kind op, double c, double mn, double mx)
{
    switch (op) {
    case SDB_PX_EQ: return c < mn || c > mx;
    case SDB_PX_NE: return false;
    case SDB_PX_LT: return mn >= c;
    case SDB_PX_LE: return mn > c;
    case SDB_PX_GT: return mx <= c;
    default: return mx < c;
    }
}

/* True when no row of block blk can satisfy p. codes: p's values found in the segment's
 * dictionary (P_SYM). */
static bool block_skip(const pred *p, const sdb_seg_col *c, uint32_t blk, const uint32_t *codes,
                       uint32_t ncodes)
{
    const sdb_seg_block *b = &c->blocks[blk];
    if (p->kind == P_ISNULL)
        return b->nulls == 0;
    if (b->nulls == b->rows)
        return true;
    switch (p->kind) {
    case P_NOTNULL: return false;
    case P_CMP:
        if (p->ctype == SDB_TYPE_INT64)
            return cmp_i64_skip(p->op, p->lo.u.i, b->min.i, b->max.i);
        return cmp_f64_skip(p->op, p->lo.u.f, b->min.f, b->max.f);
    case P_BETWEEN:
        if (p->ctype == SDB_TYPE_INT64)
            return p->hi.u.i < b->min.i || p->lo.u.i > b->max.i;
        return p->hi.u.f < b->min.f || p->lo.u.f > b->max.f;
    case P_IN:
        for (uint32_t k = 0; k < p->nlist; k++) {
            if (p->ctype == SDB_TYPE_INT64 ? !(p->list[k].u.i < b->min.i || p->list[k].u.i > b->max.i)
                                           : !(p->list[k].u.f < b->min.f || p->list[k].u.f > b->max.f))
                return false;
        }
        return true;
    case P_SYM:
        for (uint32_t k = 0; k < ncodes; k++)
            if (codes[k] >= b->min.code && codes[k] <= b->max.code)
                return false;
        return true;
    case P_STR:
        if (!c->has_filter)
            return false;
        for (uint32_t k = 0; k < p->nlist; k++)
            if (sdb_seg_block_may_contain(c, blk, p->list[k].u.s.p, p->list[k].u.s.len))
                return false;
        return true;
    default:
        return false;
    }
}

static sdb_rc add_morsel(qctx *q, uint32_t *cap, morsel mo, sdb_err *err)
{
    if (q->nms == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 64;
        morsel *nm = sdb_qmem_alloc(q->m, ncap * sizeof *nm, err);
        if (nm == NULL)
            return err->code;
        if (q->nms)
            memcpy(nm, q->ms, q->nms * sizeof *nm);
        q->ms = nm;
        *cap = ncap;
    }
    q->ms[q->nms++] = mo;
    return SDB_OK;
}

static sdb_rc plan_morsels(qctx *q, sdb_exec_stats *st, sdb_err *err)
{
    const sdb_table_snap *sn = q->snap;
    uint32_t cap = 0, codes[64];
    for (uint32_t s = 0; s < sn->nsegs; s++) {
        const sdb_seg *seg = sn->segs[s];
        uint32_t nb = sdb_seg_nblocks(seg), kept = 0;
        bool skip_seg = false;
        uint32_t *pcodes = NULL, *pn = NULL;
        st->segments++;
        if (q->npreds) {
            if ((pcodes = sdb_qmem_alloc(q->m, q->npreds * 64 * sizeof *pcodes, err)) == NULL ||
                (pn = sdb_qmem_calloc(q->m, q->npreds, sizeof *pn, err)) == NULL)
                return err->code;
        }
        for (uint32_t k = 0; k < q->npreds && !skip_seg; k++) {
            const pred *p = &q->preds[k];
            int32_t ci = q->segcol[(size_t)s * q->ncols + p->col];
            if (ci < 0) {
                skip_seg = p->kind != P_ISNULL;
                continue;
            }
            if (p->kind == P_SYM) {
                const sdb_seg_col *c = sdb_seg_col_at(seg, (uint32_t)ci);
                for (uint32_t i = 0; i < p->nlist; i++) {
                    if (pn[k] < 64 &&
                        sdb_seg_dict_find(c, p->list[i].u.s.p, p->list[i].u.s.len, &codes[0]))
                        pcodes[k * 64 + pn[k]++] = codes[0];
                }
                if (pn[k] == 0)
                    skip_seg = true;
                if (p->nlist > 64)
                    pn[k] = UINT32_MAX; /* too many to track per block: no block pruning */
            }
        }
        for (uint32_t b = 0; b < nb && !skip_seg; b++) {
            bool skip = false;
            uint32_t rows = 0;
            for (uint32_t k = 0; k < q->npreds && !skip; k++) {
                const pred *p = &q->preds[k];
                int32_t ci = q->segcol[(size_t)s * q->ncols + p->col];
                if (ci < 0 || (p->kind == P_SYM && pn[k] == UINT32_MAX))
                    continue;
                skip = block_skip(p, sdb_seg_col_at(seg, (uint32_t)ci), b, pcodes + k * 64, pn[k]);
            }
            rows = sdb_seg_col_at(seg, 0)->blocks[b].rows;
            if (skip) {
                st->blocks_skipped++;
                st->rows_skipped += rows;
                continue;
            }
            SDB_TRY(add_morsel(q, &cap, (morsel){s, b, rows}, err));
            kept++;
        }
        if (skip_seg) {
            st->blocks_skipped += nb;
            st->rows_skipped += sdb_seg_rows(seg);
        }
        if (skip_seg || kept == 0)
            st->segments_skipped++;
    }
    for (uint32_t t = 0; t < sn->nmems; t++) {
        const sdb_batch *b = sn->mems[t];
        for (uint64_t r = 0; r < b->nrows; r += MEM_MORSEL) {
            uint64_t n = b->nrows - r < MEM_MORSEL ? b->nrows - r : MEM_MORSEL;
            SDB_TRY(add_morsel(q, &cap, (morsel){sn->nsegs + t, (uint32_t)(r / MEM_MORSEL),
                                                 (uint32_t)n}, err));
        }
    }
    return SDB_OK;
}

/* ---- prepare: columns, dictionaries, keys ---- */

static sdb_rc map_columns(qctx *q, sdb_err *err)
{
    const sdb_table_snap *sn = q->snap;
    size_t n = (size_t)q->nunits * q->ncols;
    if ((q->segcol = sdb_qmem_alloc(q->m, (n ? n : 1) * sizeof *q->segcol, err)) == NULL ||
        (q->dicts = sdb_qmem_calloc(q->m, n ? n : 1, sizeof *q->dicts, err)) == NULL)
        return err->code;
    for (uint32_t u = 0; u < q->nunits; u++) {
        for (uint32_t c = 0; c < q->ncols; c++) {
            const char *name = sn->names[c];
            int ci;
            sdb_type t;
            size_t at = (size_t)u * q->ncols + c;
            if (u < sn->nsegs) {
                ci = sdb_seg_find_col(sn->segs[u], name);
                t = ci >= 0 ? sdb_seg_col_at(sn->segs[u], (uint32_t)ci)->type : sn->types[c];
            } else {
                const sdb_batch *b = sn->mems[u - sn->nsegs];
                ci = sdb_batch_find(b, name, strlen(name));
                t = ci >= 0 ? b->cols[ci].type : sn->types[c];
            }
            q->segcol[at] = ci;
            if (ci >= 0 && t != sn->types[c])
                return SDB_FAIL(err, SDB_ERR_SCHEMA, "%s: column '%s' is %s there, %s in table %s",
                                u < sn->nsegs ? sdb_seg_path(sn->segs[u]) : "memtable", name,
                                sdb_type_name(t), sdb_type_name(sn->types[c]),
                                sn->table ? sn->table : "?");
            if (ci >= 0 && t == SDB_TYPE_SYMBOL) {
                q->dicts[at].id = (uint32_t)at;
                if (u < sn->nsegs)
                    q->dicts[at].seg = sdb_seg_col_at(sn->segs[u], (uint32_t)ci);
                else
                    q->dicts[at].mem = sn->mems[u - sn->nsegs]->cols[ci].dict;
            }
        }
    }
    return SDB_OK;
}

static sdb_rc build_key_space(qctx *q, keyinfo *k, sdb_err *err)
{
    if ((k->gdict = sdb_symdict_create()) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for group keys");
    if ((k->map = sdb_qmem_calloc(q->m, q->nunits ? q->nunits : 1, sizeof *k->map, err)) == NULL)
        return err->code;
    for (uint32_t u = 0; u < q->nunits; u++) {
        const sdb_dict *d = &q->dicts[(size_t)u * q->ncols + k->col];
        uint32_t n;
        if (q->segcol[(size_t)u * q->ncols + k->col] < 0)
            continue;
        n = sdb_dict_count(d);
        if ((k->map[u] = sdb_qmem_alloc(q->m, (size_t)(n ? n : 1) * 4, err)) == NULL)
            return err->code;
        for (uint32_t c = 0; c < n; c++) {
            sdb_str s = sdb_dict_get(d, c);
            SDB_TRY(sdb_symdict_intern(k->gdict, s.p, s.len, &k->map[u][c], err));
        }
    }
    k->nullid = sdb_symdict_count(k->gdict);
    return SDB_OK;
}

static void free_keys(qctx *q)
{
    for (uint32_t i = 0; q->keys && i < q->ngroup; i++)
        sdb_symdict_destroy(q->keys[i].gdict);
}

/* ---- worker: decoding ---- */

static sdb_rc decode_col(worker *w, const morsel *mo, uint32_t c, sdb_err *err)
{
    qctx *q = w->q;
    int32_t ci = q->segcol[(size_t)mo->unit * q->ncols + c];
    if (w->decoded[c])
        return SDB_OK;
    w->decoded[c] = true;
    if (ci < 0 || mo->unit >= q->snap->nsegs)
        return SDB_OK;
    SDB_TRY(sdb_seg_read_block(q->snap->segs[mo->unit], (uint32_t)ci, mo->blk, &w->bb[c], err));
    atomic_fetch_add(&q->blocks_decoded, 1);
    return SDB_OK;
}

/* Point the vectors of the decoded columns at vector v of the morsel. */
static void set_vectors(worker *w, const morsel *mo, uint32_t v)
{
    qctx *q = w->q;
    uint32_t start = v * SDB_VEC_SIZE;
    uint32_t n = mo->rows - start < SDB_VEC_SIZE ? mo->rows - start : SDB_VEC_SIZE;
    for (uint32_t c = 0; c < q->ncols; c++) {
        sdb_vec *vec = &w->cols[c];
        size_t at = (size_t)mo->unit * q->ncols + c;
        int32_t ci = q->segcol[at];
        sdb_type t = q->snap->types[c];
        memset(vec, 0, sizeof *vec);
        vec->type = t;
        if (!w->decoded[c] || ci < 0) {
            static const int64_t zero[2];
            vec->is_const = true;
            vec->v.raw = zero;
            vec->valid = sdb_vec_all_null;
            continue;
        }
        vec->dict = &q->dicts[at];
        if (mo->unit < q->snap->nsegs) {
            const sdb_seg_blockbuf *b = &w->bb[c];
            vec->valid = b->valid + start / 64;
            if (b->nulls == b->rows) {
                static const int64_t zero[2];
                vec->is_const = true;
                vec->v.raw = zero;
                vec->valid = sdb_vec_all_null;
                continue;
            }
            if (t == SDB_TYPE_STRING) {
                sdb_str *s = w->strs[c];
                for (uint32_t i = 0; i < n; i++) {
                    uint64_t a = b->v.off[start + i], e = b->v.off[start + i + 1];
                    s[i].p = (const char *)b->bytes.data + a;
                    s[i].len = (uint32_t)(e - a);
                }
                vec->v.str = s;
            } else {
                vec->v.raw = (const char *)b->v.raw + (size_t)start * sdb_type_width(t);
            }
        } else {
            const sdb_column *col = &q->snap->mems[mo->unit - q->snap->nsegs]->cols[ci];
            uint64_t base = (uint64_t)mo->blk * MEM_MORSEL + start;
            vec->valid = col->valid + base / 64;
            if (t == SDB_TYPE_STRING) {
                sdb_str *s = w->strs[c];
                for (uint32_t i = 0; i < n; i++) {
                    uint64_t a = col->v.off[base + i], e = col->v.off[base + i + 1];
                    s[i].p = col->bytes + a;
                    s[i].len = (uint32_t)(e - a);
                }
                vec->v.str = s;
            } else {
                vec->v.raw = (const char *)col->v.raw + base * sdb_type_width(t);
            }
        }
    }
}

/* ---- worker: aggregate ---- */

static void key_put(sdb_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static sdb_rc compute_gids(worker *w, partial *pt, const morsel *mo, const sdb_chunk *ch,
                           const uint32_t *sel, uint32_t n, sdb_err *err)
{
    qctx *q = w->q;
    const sdb_vec *kv[64];
    uint32_t j, k;
    if (q->ngroup == 0) {
        uint32_t g;
        SDB_TRY(sdb_gtab_find(&pt->tab, "", 0, 0, &g, err));
        for (j = 0; j < n; j++)
            w->gids[j] = g;
        return SDB_OK;
    }
    for (k = 0; k < q->ngroup; k++) {
        if (q->keys[k].sym)
            kv[k] = &ch->cols[q->keys[k].col];
        else
            SDB_TRY(sdb_prog_eval(w->gst[k], ch, sel, n, &kv[k], err));
    }
    if (q->dense_n > 0) {
        const keyinfo *k0 = &q->keys[0], *k1 = q->ngroup > 1 ? &q->keys[1] : NULL;
        const uint32_t *m0 = k0->map[mo->unit], *m1 = k1 ? k1->map[mo->unit] : NULL;
        uint32_t n1 = k1 ? k1->nullid + 1 : 1;
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            uint32_t a = sdb_vec_valid(kv[0], i) ? m0[kv[0]->v.code[i]] : k0->nullid;
            uint32_t b = 0;
            if (k1)
                b = sdb_vec_valid(kv[1], i) ? m1[kv[1]->v.code[i]] : k1->nullid;
            SDB_TRY(sdb_gtab_find_dense(&pt->tab, a * n1 + b, &w->gids[j], err));
        }
        return SDB_OK;
    }
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j];
        size_t need = 0;
        for (k = 0; k < q->ngroup; k++)
            need += 1 + (kv[k]->type == SDB_TYPE_STRING ? 4 + (size_t)kv[k]->v.str[i & (kv[k]->is_const ? 0 : UINT32_MAX)].len : 8);
        w->key.len = 0;
        SDB_TRY(sdb_buf_reserve(&w->key, need, err));
        for (k = 0; k < q->ngroup; k++) {
            const sdb_vec *v = kv[k];
            uint32_t x = v->is_const ? 0 : i;
            uint8_t isnull = !sdb_vec_valid(v, i);
            key_put(&w->key, &isnull, 1);
            if (isnull)
                continue;
            if (q->keys[k].sym) {
                key_put(&w->key, &q->keys[k].map[mo->unit][v->v.code[x]], 4);
                continue;
            }
            switch (v->type) {
            case SDB_TYPE_STRING: {
                uint32_t len = v->v.str[x].len;
                key_put(&w->key, &len, 4);
                if (len)
                    key_put(&w->key, v->v.str[x].p, len);
                break;
            }
            case SDB_TYPE_BOOL: key_put(&w->key, &v->v.b8[x], 1); break;
            case SDB_TYPE_FLOAT64: {
                double f = v->v.f64[x];
                if (f == 0)
                    f = 0;
                if (isnan(f))
                    f = NAN;
                key_put(&w->key, &f, 8);
                break;
            }
            default: key_put(&w->key, &v->v.i64[x], 8); break;
            }
        }
        SDB_TRY(sdb_gtab_find(&pt->tab, w->key.data, (uint32_t)w->key.len,
                              sdb_hash64(w->key.data, w->key.len), &w->gids[j], err));
    }
    return SDB_OK;
}

static sdb_rc consume_agg(worker *w, partial *pt, const morsel *mo, const sdb_chunk *ch,
                          const uint32_t *sel, uint32_t n, sdb_err *err)
{
    qctx *q = w->q;
    SDB_TRY(compute_gids(w, pt, mo, ch, sel, n, err));
    for (uint32_t a = 0; a < q->naggs; a++) {
        const sdb_vec *arg = NULL;
        if (q->aprog[a] != NULL)
            SDB_TRY(sdb_prog_eval(w->ast[a], ch, sel, n, &arg, err));
        SDB_TRY(sdb_agg_update(&q->adefs[a], &pt->tab, w->gids, arg, sel, n, err));
    }
    return SDB_OK;
}

/* ---- worker: project ---- */

static sdb_rc copy_str(sdb_qmem *m, sdb_arena *a, sdb_value *v, sdb_err *err)
{
    char *p;
    if (v->null || (v->type != SDB_TYPE_STRING && v->type != SDB_TYPE_SYMBOL))
        return SDB_OK;
    if ((p = sdb_qmem_local(m, a, v->u.s.len ? v->u.s.len : 1, err)) == NULL)
        return err->code;
    if (v->u.s.len)
        memcpy(p, v->u.s.p, v->u.s.len);
    v->u.s.p = p;
    return SDB_OK;
}

static void vec_value(const sdb_vec *v, uint32_t i, sdb_value *out)
{
    uint32_t x = v->is_const ? 0 : i;
    memset(out, 0, sizeof *out);
    out->type = v->type == SDB_TYPE_SYMBOL ? SDB_TYPE_STRING : v->type;
    if (!sdb_vec_valid(v, i)) {
        out->null = true;
        return;
    }
    switch (v->type) {
    case SDB_TYPE_FLOAT64: out->u.f = v->v.f64[x]; break;
    case SDB_TYPE_BOOL: out->u.b = v->v.b8[x] != 0; break;
    case SDB_TYPE_STRING: out->u.s = v->v.str[x]; break;
    case SDB_TYPE_SYMBOL: out->u.s = sdb_dict_get(v->dict, v->v.code[x]); break;
    default: out->u.i = v->v.i64[x]; break;
    }
}

static sdb_rc consume_project(worker *w, partial *pt, const sdb_chunk *ch, const uint32_t *sel,
                              uint32_t n, sdb_err *err)
{
    qctx *q = w->q;
    const sdb_vec *ov[256];
    if (n == 0)
        return SDB_OK;
    for (uint32_t o = 0; o < q->nout; o++)
        SDB_TRY(sdb_prog_eval(w->ost[o], ch, sel, n, &ov[o], err));
    if (pt->nrows + n > pt->cap) {
        uint64_t ncap = pt->cap ? pt->cap * 2 : 1024;
        sdb_value *nr;
        while (ncap < pt->nrows + n)
            ncap *= 2;
        if ((nr = sdb_qmem_local(q->m, pt->arena, ncap * q->nout * sizeof *nr, err)) == NULL)
            return err->code;
        if (pt->nrows)
            memcpy(nr, pt->rows, pt->nrows * q->nout * sizeof *nr);
        pt->rows = nr;
        pt->cap = ncap;
    }
    for (uint32_t j = 0; j < n; j++) {
        sdb_value *row = pt->rows + (pt->nrows + j) * q->nout;
        for (uint32_t o = 0; o < q->nout; o++) {
            vec_value(ov[o], sel[j], &row[o]);
            SDB_TRY(copy_str(q->m, pt->arena, &row[o], err));
        }
    }
    pt->nrows += n;
    return SDB_OK;
}

/* ---- worker: one morsel ---- */

static sdb_rc run_morsel(worker *w, uint32_t mi, partial *pt, sdb_err *err)
{
    qctx *q = w->q;
    const morsel *mo = &q->ms[mi];
    uint32_t nvec = (mo->rows + SDB_VEC_SIZE - 1) / SDB_VEC_SIZE, total = 0, v, c;
    sdb_chunk ch = {.ncols = q->ncols, .cols = w->cols};
    memset(w->decoded, 0, q->ncols * sizeof *w->decoded);
    for (c = 0; c < q->ncols; c++)
        if (q->need_filter[c])
            SDB_TRY(decode_col(w, mo, c, err));
    for (v = 0; v < nvec; v++) {
        uint32_t start = v * SDB_VEC_SIZE;
        uint32_t n = mo->rows - start < SDB_VEC_SIZE ? mo->rows - start : SDB_VEC_SIZE;
        uint32_t *sel = w->sels + (size_t)v * SDB_VEC_SIZE, ns = n;
        const uint32_t *cur = NULL;
        ch.n = n;
        set_vectors(w, mo, v);
        for (uint32_t k = 0; k < q->nconj && ns > 0; k++) {
            SDB_TRY(sdb_prog_filter(w->conj[k], &ch, cur, ns, w->tmpsel, &ns, err));
            memcpy(sel, w->tmpsel, ns * sizeof *sel);
            cur = sel;
        }
        if (cur == NULL) {
            for (uint32_t i = 0; i < n; i++)
                sel[i] = i;
        }
        w->nsels[v] = ns;
        total += ns;
    }
    if (mo->unit < q->snap->nsegs) {
        atomic_fetch_add(&q->rows, mo->rows);
        atomic_fetch_add(&q->blocks, 1);
    } else {
        atomic_fetch_add(&q->mem_rows, mo->rows);
    }
    if (total == 0)
        return SDB_OK;
    for (c = 0; c < q->ncols; c++)
        if (q->need[c])
            SDB_TRY(decode_col(w, mo, c, err));
    for (v = 0; v < nvec; v++) {
        uint32_t start = v * SDB_VEC_SIZE;
        if (w->nsels[v] == 0)
            continue;
        ch.n = mo->rows - start < SDB_VEC_SIZE ? mo->rows - start : SDB_VEC_SIZE;
        set_vectors(w, mo, v);
        if (q->agg)
            SDB_TRY(consume_agg(w, pt, mo, &ch, w->sels + (size_t)v * SDB_VEC_SIZE, w->nsels[v],
                                err));
        else
            SDB_TRY(consume_project(w, pt, &ch, w->sels + (size_t)v * SDB_VEC_SIZE, w->nsels[v],
                                    err));
    }
    return SDB_OK;
}

/* ---- merge ---- */

static int cmp_value(const sdb_value *a, const sdb_value *b)
{
    if (a->null || b->null)
        return (a->null > b->null) - (a->null < b->null); /* NULL sorts high */
    switch (a->type) {
    case SDB_TYPE_FLOAT64: {
        double x = a->u.f, y = b->u.f;
        if (isnan(x) || isnan(y))
            return isnan(x) - isnan(y);
        return (x > y) - (x < y);
    }
    case SDB_TYPE_BOOL: return (a->u.b > b->u.b) - (a->u.b < b->u.b);
    case SDB_TYPE_STRING: case SDB_TYPE_SYMBOL: {
        uint32_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        return c ? (c > 0) - (c < 0) : (a->u.s.len > b->u.s.len) - (a->u.s.len < b->u.s.len);
    }
    default: return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    }
}

/* Row order of ORDER BY; ties by arrival. */
static int cmp_rows(const sdb_query_spec *sp, uint32_t ncols, const sdb_value *a, uint64_t sa,
                    const sdb_value *b, uint64_t sb)
{
    for (uint32_t k = 0; k < sp->norder; k++) {
        uint32_t c = sp->order[k].col;
        int r = cmp_value(&a[c], &b[c]);
        if (r != 0)
            return sp->order[k].desc ? -r : r;
    }
    (void)ncols;
    return (sa > sb) - (sa < sb);
}

static void heap_swap(qctx *q, uint64_t i, uint64_t j)
{
    uint32_t nc = q->res->ncols;
    sdb_value tmp[256];
    uint64_t s;
    memcpy(tmp, q->res->cells + i * nc, nc * sizeof *tmp);
    memcpy(q->res->cells + i * nc, q->res->cells + j * nc, nc * sizeof *tmp);
    memcpy(q->res->cells + j * nc, tmp, nc * sizeof *tmp);
    s = q->seq[i];
    q->seq[i] = q->seq[j];
    q->seq[j] = s;
}

static bool heap_less(qctx *q, uint64_t i, uint64_t j)
{
    uint32_t nc = q->res->ncols;
    return cmp_rows(q->sp, nc, q->res->cells + i * nc, q->seq[i], q->res->cells + j * nc,
                    q->seq[j]) < 0;
}

/* Max-heap on the sort order: the root is the row that would be dropped first. */
static void heap_down(qctx *q, uint64_t i, uint64_t n)
{
    for (;;) {
        uint64_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && heap_less(q, big, l))
            big = l;
        if (r < n && heap_less(q, big, r))
            big = r;
        if (big == i)
            return;
        heap_swap(q, i, big);
        i = big;
    }
}

static void heap_up(qctx *q, uint64_t i)
{
    while (i > 0) {
        uint64_t p = (i - 1) / 2;
        if (!heap_less(q, p, i))
            return;
        heap_swap(q, p, i);
        i = p;
    }
}

/* Append (or offer to the top-N heap) one output row; strings are copied into the result. */
static sdb_rc result_push(qctx *q, const sdb_value *row, sdb_err *err)
{
    sdb_result *r = q->res;
    uint32_t nc = r->ncols;
    uint64_t seq = q->arrived++;
    bool heap = q->sp->norder > 0 && q->keep != UINT64_MAX;
    sdb_value *dst;
    if (q->keep == 0)
        return SDB_OK;
    if (heap && r->nrows == q->keep) {
        /* full: replace the root when the new row sorts before it */
        if (cmp_rows(q->sp, nc, row, seq, r->cells, q->seq[0]) >= 0)
            return SDB_OK;
        dst = r->cells;
        memcpy(dst, row, nc * sizeof *dst);
        q->seq[0] = seq;
        for (uint32_t c = 0; c < nc; c++)
            SDB_TRY(copy_str(q->m, r->arena, &dst[c], err));
        heap_down(q, 0, r->nrows);
        return SDB_OK;
    }
    if (!heap && q->sp->norder == 0 && r->nrows >= q->keep)
        return SDB_OK;
    if (r->nrows == q->res_cap) {
        uint64_t ncap = q->res_cap ? q->res_cap * 2 : 256;
        sdb_value *nc2;
        uint64_t *ns;
        if ((nc2 = sdb_qmem_local(q->m, r->arena, ncap * nc * sizeof *nc2, err)) == NULL ||
            (ns = sdb_qmem_local(q->m, r->arena, ncap * sizeof *ns, err)) == NULL)
            return err->code;
        if (r->nrows) {
            memcpy(nc2, r->cells, r->nrows * nc * sizeof *nc2);
            memcpy(ns, q->seq, r->nrows * sizeof *ns);
        }
        r->cells = nc2;
        q->seq = ns;
        q->res_cap = ncap;
    }
    dst = r->cells + r->nrows * nc;
    memcpy(dst, row, nc * sizeof *dst);
    for (uint32_t c = 0; c < nc; c++)
        SDB_TRY(copy_str(q->m, r->arena, &dst[c], err));
    q->seq[r->nrows] = seq;
    r->nrows++;
    if (heap)
        heap_up(q, r->nrows - 1);
    if (!heap && q->sp->norder == 0 && r->nrows >= q->keep)
        atomic_store(&q->done, true);
    return SDB_OK;
}

static sdb_rc merge_partial(qctx *q, partial *pt, sdb_err *err)
{
    if (!q->agg) {
        for (uint64_t r = 0; r < pt->nrows; r++)
            SDB_TRY(result_push(q, pt->rows + r * q->nout, err));
        return SDB_OK;
    }
    for (uint32_t g = 0; g < pt->tab.n; g++) {
        uint32_t dg;
        uint8_t *src = sdb_gtab_state(&pt->tab, g), *dst;
        if (q->dense_n > 0)
            SDB_TRY(sdb_gtab_find_dense(&q->global, (uint32_t)pt->tab.hashes[g], &dg, err));
        else
            SDB_TRY(sdb_gtab_find(&q->global, pt->tab.keys[g].p, pt->tab.keys[g].len,
                                  pt->tab.hashes[g], &dg, err));
        dst = sdb_gtab_state(&q->global, dg);
        for (uint32_t a = 0; a < q->naggs; a++)
            SDB_TRY(sdb_agg_merge(&q->adefs[a], &q->global, dst, src, err));
    }
    return SDB_OK;
}

static void partial_destroy(qctx *q, partial *pt)
{
    if (pt != NULL)
        sdb_qmem_local_destroy(q->m, pt->arena);
}

/* Hand partial mi over; merge every partial that is next in morsel order. */
static sdb_rc deliver(qctx *q, uint32_t mi, partial *pt, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    pthread_mutex_lock(&q->mx);
    q->pending[mi] = pt;
    while (rc == SDB_OK && q->next < q->nms && q->pending[q->next] != NULL) {
        partial *p = q->pending[q->next];
        if (!q->failed)
            rc = merge_partial(q, p, err);
        q->pending[q->next] = NULL;
        partial_destroy(q, p);
        q->next++;
    }
    pthread_mutex_unlock(&q->mx);
    return rc;
}

static sdb_rc partial_create(qctx *q, partial **out, sdb_err *err)
{
    sdb_arena *a = sdb_arena_create(0);
    partial *pt;
    sdb_alloc al = {q->m, a};
    if (a == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a morsel");
    if ((pt = sdb_qmem_local(q->m, a, sizeof *pt, err)) == NULL) {
        sdb_qmem_local_destroy(q->m, a);
        return err->code;
    }
    memset(pt, 0, sizeof *pt);
    pt->arena = a;
    if (q->agg) {
        sdb_rc rc = sdb_gtab_init(&pt->tab, &al, q->stride, q->dense_n, err);
        if (rc != SDB_OK) {
            sdb_qmem_local_destroy(q->m, a);
            return rc;
        }
    }
    *out = pt;
    return SDB_OK;
}

/* ---- worker ---- */

static sdb_rc worker_init(qctx *q, worker *w, sdb_err *err)
{
    sdb_qmem *m = q->m;
    uint32_t nc = q->ncols;
    memset(w, 0, sizeof *w);
    w->q = q;
    if ((w->arena = sdb_arena_create(0)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a worker");
#define WALLOC(p, n)                                                                       \
    do {                                                                                   \
        if (((p) = sdb_qmem_local(m, w->arena, (n), err)) == NULL)                         \
            return err->code;                                                              \
        memset((p), 0, (n));                                                               \
    } while (0)
    WALLOC(w->bb, (nc ? nc : 1) * sizeof *w->bb);
    for (uint32_t c = 0; c < nc; c++)
        sdb_seg_blockbuf_init(&w->bb[c]);
    WALLOC(w->decoded, (nc ? nc : 1) * sizeof *w->decoded);
    WALLOC(w->cols, (nc ? nc : 1) * sizeof *w->cols);
    WALLOC(w->strs, (nc ? nc : 1) * sizeof *w->strs);
    for (uint32_t c = 0; c < nc; c++)
        if (q->need[c] && q->snap->types[c] == SDB_TYPE_STRING)
            WALLOC(w->strs[c], SDB_VEC_SIZE * sizeof(sdb_str));
    WALLOC(w->sels, (size_t)(SDB_BLOCK_ROWS / SDB_VEC_SIZE) * SDB_VEC_SIZE * sizeof *w->sels);
    WALLOC(w->nsels, (SDB_BLOCK_ROWS / SDB_VEC_SIZE) * sizeof *w->nsels);
    WALLOC(w->tmpsel, SDB_VEC_SIZE * sizeof *w->tmpsel);
    WALLOC(w->conj, (q->nconj + 1) * sizeof *w->conj);
    WALLOC(w->gst, (q->ngroup + 1) * sizeof *w->gst);
    WALLOC(w->ast, (q->naggs + 1) * sizeof *w->ast);
    WALLOC(w->ost, (q->nout + 1) * sizeof *w->ost);
#undef WALLOC
    for (uint32_t k = 0; k < q->nconj; k++)
        SDB_TRY(sdb_prog_state_create(m, w->arena, q->conj[k], &w->conj[k], err));
    for (uint32_t k = 0; k < q->ngroup; k++)
        if (q->gprog[k])
            SDB_TRY(sdb_prog_state_create(m, w->arena, q->gprog[k], &w->gst[k], err));
    for (uint32_t k = 0; k < q->naggs; k++)
        if (q->aprog[k])
            SDB_TRY(sdb_prog_state_create(m, w->arena, q->aprog[k], &w->ast[k], err));
    for (uint32_t k = 0; !q->agg && k < q->nout; k++)
        SDB_TRY(sdb_prog_state_create(m, w->arena, q->oprog[k], &w->ost[k], err));
    return SDB_OK;
}

static void worker_free(worker *w)
{
    if (w->arena == NULL)
        return;
    for (uint32_t c = 0; w->bb && c < w->q->ncols; c++)
        sdb_seg_blockbuf_free(&w->bb[c]);
    sdb_buf_free(&w->key);
    sdb_qmem_local_destroy(w->q->m, w->arena);
    w->arena = NULL;
}

static void *worker_main(void *arg)
{
    qctx *q = arg;
    worker w;
    sdb_err err;
    sdb_err_clear(&err);
    if (worker_init(q, &w, &err) != SDB_OK) {
        fail(q, &err);
        worker_free(&w);
        return NULL;
    }
    for (;;) {
        uint32_t mi;
        partial *pt = NULL;
        if (stop_requested(q) || atomic_load(&q->done))
            break;
        mi = atomic_fetch_add(&q->next_morsel, 1);
        if (mi >= q->nms)
            break;
        if (partial_create(q, &pt, &err) != SDB_OK ||
            run_morsel(&w, mi, pt, &err) != SDB_OK) {
            partial_destroy(q, pt);
            fail(q, &err);
            break;
        }
        if (deliver(q, mi, pt, &err) != SDB_OK) {
            fail(q, &err);
            break;
        }
    }
    worker_free(&w);
    return NULL;
}

/* ---- finish ---- */

/* The aggregation output row of global group g. */
static sdb_rc group_row(qctx *q, uint32_t g, sdb_value *row, sdb_err *err)
{
    uint8_t *st = sdb_gtab_state(&q->global, g);
    if (q->dense_n > 0) {
        uint32_t key = (uint32_t)q->global.hashes[g];
        uint32_t n1 = q->ngroup > 1 ? q->keys[1].nullid + 1 : 1;
        uint32_t codes[2] = {key / n1, key % n1};
        for (uint32_t k = 0; k < q->ngroup; k++) {
            memset(&row[k], 0, sizeof row[k]);
            row[k].type = SDB_TYPE_STRING;
            if (codes[k] == q->keys[k].nullid)
                row[k].null = true;
            else
                row[k].u.s.p = sdb_symdict_get(q->keys[k].gdict, codes[k], &row[k].u.s.len);
        }
    } else if (q->ngroup > 0) {
        const uint8_t *p = (const uint8_t *)q->global.keys[g].p;
        for (uint32_t k = 0; k < q->ngroup; k++) {
            sdb_value *v = &row[k];
            memset(v, 0, sizeof *v);
            v->type = q->keys[k].type;
            if (*p++) {
                v->null = true;
                continue;
            }
            if (q->keys[k].sym) {
                uint32_t code;
                memcpy(&code, p, 4);
                p += 4;
                v->u.s.p = sdb_symdict_get(q->keys[k].gdict, code, &v->u.s.len);
                continue;
            }
            switch (v->type) {
            case SDB_TYPE_STRING:
                memcpy(&v->u.s.len, p, 4);
                v->u.s.p = (const char *)p + 4;
                p += 4 + v->u.s.len;
                break;
            case SDB_TYPE_BOOL: v->u.b = *p++ != 0; break;
            case SDB_TYPE_FLOAT64: memcpy(&v->u.f, p, 8); p += 8; break;
            default: memcpy(&v->u.i, p, 8); p += 8; break;
            }
        }
    }
    for (uint32_t a = 0; a < q->naggs; a++)
        sdb_agg_finalize(&q->adefs[a], st, &row[q->ngroup + a]);
    (void)err;
    return SDB_OK;
}

/* Output rows from aggregation output rows: out expressions and having, evaluated over
 * vectors built from the rows. */
static sdb_rc post_aggregate(qctx *q, const sdb_value *rows, uint64_t nrows, sdb_err *err)
{
    const sdb_query_spec *sp = q->sp;
    uint32_t nin = q->ngroup + q->naggs, nout = sp->nout ? sp->nout : nin;
    sdb_arena *a = sdb_arena_create(0);
    sdb_prog **op = NULL, *hp = NULL;
    sdb_prog_state **ost = NULL, *hst = NULL;
    sdb_vec *cols = NULL;
    void **bufs = NULL;
    uint64_t **valid = NULL;
    sdb_value *orow = NULL;
    uint32_t sel[SDB_VEC_SIZE];
    sdb_rc rc = SDB_OK;
    if (a == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for aggregate output");
    if (sp->nout == 0 && sp->having == NULL) {
        for (uint64_t r = 0; r < nrows && rc == SDB_OK; r++)
            rc = result_push(q, rows + r * nin, err);
        sdb_qmem_local_destroy(q->m, a);
        return rc;
    }
#define PALLOC(p, n)                                                                       \
    do {                                                                                   \
        if (((p) = sdb_qmem_local(q->m, a, (n), err)) == NULL) {                          \
            rc = err->code;                                                                \
            goto out;                                                                      \
        }                                                                                  \
        memset((p), 0, (n));                                                               \
    } while (0)
    PALLOC(op, (nout + 1) * sizeof *op);
    PALLOC(ost, (nout + 1) * sizeof *ost);
    PALLOC(cols, (nin + 1) * sizeof *cols);
    PALLOC(bufs, (nin + 1) * sizeof *bufs);
    PALLOC(valid, (nin + 1) * sizeof *valid);
    PALLOC(orow, (nout + 1) * sizeof *orow);
    for (uint32_t c = 0; c < nin; c++) {
        PALLOC(bufs[c], SDB_VEC_SIZE * 16);
        PALLOC(valid[c], SDB_VEC_WORDS * 8);
        cols[c].type = c < q->ngroup ? q->keys[c].type : q->adefs[c - q->ngroup].out_type;
        cols[c].v.raw = bufs[c];
        cols[c].valid = valid[c];
    }
#undef PALLOC
    for (uint32_t o = 0; o < sp->nout && rc == SDB_OK; o++) {
        rc = sdb_prog_compile(q->m, sp->out[o], &op[o], err);
        if (rc == SDB_OK)
            rc = sdb_prog_state_create(q->m, a, op[o], &ost[o], err);
    }
    if (rc == SDB_OK && sp->having != NULL) {
        rc = sdb_prog_compile(q->m, sp->having, &hp, err);
        if (rc == SDB_OK)
            rc = sdb_prog_state_create(q->m, a, hp, &hst, err);
    }
    for (uint64_t base = 0; base < nrows && rc == SDB_OK; base += SDB_VEC_SIZE) {
        uint32_t n = nrows - base < SDB_VEC_SIZE ? (uint32_t)(nrows - base) : SDB_VEC_SIZE, ns = n;
        sdb_chunk ch = {.n = n, .ncols = nin, .cols = cols};
        const sdb_vec *ov[256];
        for (uint32_t c = 0; c < nin; c++) {
            memset(valid[c], 0, SDB_VEC_WORDS * 8);
            for (uint32_t i = 0; i < n; i++) {
                const sdb_value *v = &rows[(base + i) * nin + c];
                if (v->null)
                    continue;
                valid[c][i >> 6] |= (uint64_t)1 << (i & 63);
                switch (cols[c].type) {
                case SDB_TYPE_FLOAT64: ((double *)bufs[c])[i] = v->u.f; break;
                case SDB_TYPE_BOOL: ((uint8_t *)bufs[c])[i] = v->u.b; break;
                case SDB_TYPE_STRING: ((sdb_str *)bufs[c])[i] = v->u.s; break;
                default: ((int64_t *)bufs[c])[i] = v->u.i; break;
                }
            }
        }
        if (hst != NULL)
            rc = sdb_prog_filter(hst, &ch, NULL, n, sel, &ns, err);
        else
            for (uint32_t i = 0; i < n; i++)
                sel[i] = i;
        for (uint32_t o = 0; o < sp->nout && rc == SDB_OK; o++)
            rc = sdb_prog_eval(ost[o], &ch, sel, ns, &ov[o], err);
        for (uint32_t j = 0; j < ns && rc == SDB_OK; j++) {
            for (uint32_t o = 0; o < nout; o++) {
                if (sp->nout)
                    vec_value(ov[o], sel[j], &orow[o]);
                else
                    orow[o] = rows[(base + sel[j]) * nin + o];
            }
            rc = result_push(q, orow, err);
        }
    }
out:
    sdb_qmem_local_destroy(q->m, a);
    return rc;
}

static const sdb_query_spec *sort_spec; /* qsort has no context argument */
static uint32_t sort_ncols;

static int cmp_sort(const void *x, const void *y)
{
    const sdb_value *a = x, *b = y;
    /* the arrival number rides in the last cell */
    return cmp_rows(sort_spec, sort_ncols, a, (uint64_t)a[sort_ncols].u.i, b,
                    (uint64_t)b[sort_ncols].u.i);
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

/* Sort the result, apply offset and limit, drop hidden columns. */
static sdb_rc finish_result(qctx *q, sdb_err *err)
{
    sdb_result *r = q->res;
    const sdb_query_spec *sp = q->sp;
    uint32_t nc = r->ncols, vis = sp->nvisible ? sp->nvisible : nc;
    uint64_t first, count;
    sdb_value *tmp, *out;
    if (sp->norder > 0 && r->nrows > 1) {
        if ((tmp = sdb_qmem_local(q->m, r->arena, r->nrows * (nc + 1) * sizeof *tmp, err)) == NULL)
            return err->code;
        for (uint64_t i = 0; i < r->nrows; i++) {
            memcpy(tmp + i * (nc + 1), r->cells + i * nc, nc * sizeof *tmp);
            tmp[i * (nc + 1) + nc].u.i = (int64_t)q->seq[i];
        }
        pthread_mutex_lock(&sort_lock);
        sort_spec = sp;
        sort_ncols = nc;
        qsort(tmp, r->nrows, (nc + 1) * sizeof *tmp, cmp_sort);
        pthread_mutex_unlock(&sort_lock);
        for (uint64_t i = 0; i < r->nrows; i++)
            memcpy(r->cells + i * nc, tmp + i * (nc + 1), nc * sizeof *tmp);
    }
    first = sp->offset < r->nrows ? sp->offset : r->nrows;
    count = r->nrows - first;
    if (sp->has_limit && count > sp->limit)
        count = sp->limit;
    if (first == 0 && vis == nc) {
        r->nrows = count;
        return SDB_OK;
    }
    if ((out = sdb_qmem_local(q->m, r->arena, (count ? count : 1) * vis * sizeof *out, err)) == NULL)
        return err->code;
    for (uint64_t i = 0; i < count; i++)
        memcpy(out + i * vis, r->cells + (first + i) * nc, vis * sizeof *out);
    r->cells = out;
    r->nrows = count;
    r->ncols = vis;
    return SDB_OK;
}

/* ---- metadata ---- */

static bool metadata_ok(qctx *q)
{
    const sdb_query_spec *sp = q->sp;
    if (!q->agg || sp->where != NULL || sp->ngroup > 0 || sp->naggs == 0)
        return false;
    for (uint32_t a = 0; a < sp->naggs; a++) {
        const sdb_aggspec *s = &sp->aggs[a];
        if (s->kind == SDB_AGG_COUNT_STAR)
            continue;
        if (s->arg == NULL || s->arg->kind != SDB_PX_COL)
            return false;
        if (s->kind == SDB_AGG_COUNT)
            continue;
        if ((s->kind == SDB_AGG_MIN || s->kind == SDB_AGG_MAX) &&
            (sdb_type_is_i64(s->arg->type) || s->arg->type == SDB_TYPE_FLOAT64))
            continue;
        return false;
    }
    return true;
}

static sdb_rc run_metadata(qctx *q, sdb_exec_stats *st, sdb_err *err)
{
    const sdb_query_spec *sp = q->sp;
    const sdb_table_snap *sn = q->snap;
    sdb_value row[256];
    for (uint32_t a = 0; a < sp->naggs; a++) {
        const sdb_aggspec *s = &sp->aggs[a];
        sdb_value *v = &row[a];
        bool has = false, mx = s->kind == SDB_AGG_MAX, isf;
        int64_t cnt = 0, bi = 0;
        double bf = 0;
        memset(v, 0, sizeof *v);
        v->type = q->adefs[a].out_type;
        isf = s->arg && s->arg->type == SDB_TYPE_FLOAT64;
        for (uint32_t u = 0; u < q->nunits; u++) {
            int32_t ci = s->arg ? q->segcol[(size_t)u * q->ncols + s->arg->col] : 0;
            if (u < sn->nsegs) {
                const sdb_seg *seg = sn->segs[u];
                if (s->kind == SDB_AGG_COUNT_STAR) {
                    cnt += (int64_t)sdb_seg_rows(seg);
                    continue;
                }
                if (ci < 0)
                    continue;
                const sdb_seg_col *c = sdb_seg_col_at(seg, (uint32_t)ci);
                for (uint32_t b = 0; b < c->nblocks; b++) {
                    const sdb_seg_block *blk = &c->blocks[b];
                    if (s->kind == SDB_AGG_COUNT) {
                        cnt += blk->rows - blk->nulls;
                        continue;
                    }
                    if (blk->nulls == blk->rows)
                        continue;
                    if (isf) {
                        double x = mx ? blk->max.f : blk->min.f;
                        if (blk->min.f > blk->max.f)
                            continue; /* NaN only */
                        if (!has || (mx ? x > bf : x < bf))
                            bf = x;
                    } else {
                        int64_t x = mx ? blk->max.i : blk->min.i;
                        if (!has || (mx ? x > bi : x < bi))
                            bi = x;
                    }
                    has = true;
                }
            } else {
                const sdb_batch *b = sn->mems[u - sn->nsegs];
                if (s->kind == SDB_AGG_COUNT_STAR) {
                    cnt += (int64_t)b->nrows;
                    continue;
                }
                if (ci < 0)
                    continue;
                const sdb_column *c = &b->cols[ci];
                for (uint64_t r = 0; r < b->nrows; r++) {
                    if (!sdb_column_valid(c, r))
                        continue;
                    if (s->kind == SDB_AGG_COUNT) {
                        cnt++;
                        continue;
                    }
                    if (isf) {
                        double x = c->v.f64[r];
                        if (isnan(x))
                            continue;
                        if (!has || (mx ? x > bf : x < bf))
                            bf = x;
                    } else {
                        int64_t x = c->v.i64[r];
                        if (!has || (mx ? x > bi : x < bi))
                            bi = x;
                    }
                    has = true;
                }
                st->mem_rows += b->nrows;
            }
        }
        if (s->kind == SDB_AGG_COUNT_STAR || s->kind == SDB_AGG_COUNT) {
            v->u.i = cnt;
        } else {
            v->null = !has;
            if (isf)
                v->u.f = bf;
            else
                v->u.i = bi;
        }
    }
    for (uint32_t s = 0; s < sn->nsegs; s++)
        st->segments++;
    st->from_metadata = true;
    return post_aggregate(q, row, 1, err);
}

/* ---- run ---- */

static sdb_rc prepare(qctx *q, sdb_err *err)
{
    const sdb_query_spec *sp = q->sp;
    uint32_t nc = q->ncols;
    if ((q->need = sdb_qmem_calloc(q->m, nc + 1, 1, err)) == NULL ||
        (q->need_filter = sdb_qmem_calloc(q->m, nc + 1, 1, err)) == NULL)
        return err->code;
    mark_cols(sp->where, q->need_filter, nc);
    mark_cols(sp->where, q->need, nc);
    for (uint32_t k = 0; k < sp->ngroup; k++)
        mark_cols(sp->group[k], q->need, nc);
    for (uint32_t k = 0; k < sp->naggs; k++)
        mark_cols(sp->aggs[k].arg, q->need, nc);
    if (!q->agg)
        for (uint32_t k = 0; k < sp->nout; k++)
            mark_cols(sp->out[k], q->need, nc);
    SDB_TRY(map_columns(q, err));
    if (sp->where != NULL) {
        if (sp->where->type != SDB_TYPE_BOOL)
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "where must be bool, not %s",
                            sdb_type_name(sp->where->type));
        SDB_TRY(split_conj(q, sp->where, err));
        SDB_TRY(extract(q, sp->where, err));
    }
    if (!q->agg) {
        if (sp->nout == 0 || sp->nout > 255)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "a query needs 1..255 output columns, not %u",
                            sp->nout);
        if ((q->oprog = sdb_qmem_calloc(q->m, sp->nout, sizeof *q->oprog, err)) == NULL)
            return err->code;
        for (uint32_t k = 0; k < sp->nout; k++)
            SDB_TRY(sdb_prog_compile(q->m, sp->out[k], &q->oprog[k], err));
        return SDB_OK;
    }
    if (sp->ngroup + sp->naggs > 255 || sp->ngroup > 64)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "too many group keys or aggregates (%u, %u)",
                        sp->ngroup, sp->naggs);
    q->ngroup = sp->ngroup;
    q->naggs = sp->naggs;
    if ((q->keys = sdb_qmem_calloc(q->m, q->ngroup + 1, sizeof *q->keys, err)) == NULL ||
        (q->gprog = sdb_qmem_calloc(q->m, q->ngroup + 1, sizeof *q->gprog, err)) == NULL ||
        (q->aprog = sdb_qmem_calloc(q->m, q->naggs + 1, sizeof *q->aprog, err)) == NULL ||
        (q->adefs = sdb_qmem_calloc(q->m, q->naggs + 1, sizeof *q->adefs, err)) == NULL)
        return err->code;
    for (uint32_t k = 0; k < q->ngroup; k++) {
        const sdb_pexpr *g = sp->group[k];
        keyinfo *ki = &q->keys[k];
        ki->type = out_key_type(g->type);
        if (g->kind == SDB_PX_COL && g->type == SDB_TYPE_SYMBOL && g->col < nc) {
            ki->sym = true;
            ki->col = g->col;
            SDB_TRY(build_key_space(q, ki, err));
        } else {
            SDB_TRY(sdb_prog_compile(q->m, g, &q->gprog[k], err));
        }
    }
    q->stride = 0;
    for (uint32_t a = 0; a < q->naggs; a++) {
        const sdb_aggspec *s = &sp->aggs[a];
        const sdb_pexpr *arg = s->arg;
        sdb_type t = arg ? arg->type : (sdb_type)0;
        if (s->kind != SDB_AGG_COUNT_STAR && arg == NULL)
            return SDB_FAIL(err, SDB_ERR_MISUSE, "%s needs an argument", sdb_agg_name(s->kind));
        if (s->kind == SDB_AGG_COUNT_STAR)
            arg = NULL;
        SDB_TRY(sdb_agg_define(s->kind, t, s->q, &q->adefs[a], err));
        if (arg != NULL && arg->type == SDB_TYPE_SYMBOL &&
            q->adefs[a].in_type == SDB_TYPE_STRING) {
            sdb_pexpr *c = sdb_pexpr_cast(q->m, (sdb_pexpr *)(uintptr_t)arg, SDB_TYPE_STRING, err);
            if (c == NULL)
                return err->code;
            arg = c;
        }
        if (arg != NULL)
            SDB_TRY(sdb_prog_compile(q->m, arg, &q->aprog[a], err));
        q->adefs[a].off = q->stride;
        q->stride += q->adefs[a].size;
    }
    if (q->stride == 0)
        q->stride = 8; /* group by without aggregates still gets state rows */
    if (q->ngroup >= 1 && q->ngroup <= 2 && q->keys[0].sym && (q->ngroup == 1 || q->keys[1].sym)) {
        uint64_t n = (uint64_t)(q->keys[0].nullid + 1) *
                     (q->ngroup > 1 ? q->keys[1].nullid + 1 : 1);
        if (n <= DENSE_MAX)
            q->dense_n = (uint32_t)n;
    }
    return SDB_OK;
}

sdb_rc sdb_exec_run(sdb_qmem *m, const sdb_query_spec *sp, sdb_result **out,
                    sdb_exec_stats *stats, sdb_err *err)
{
    qctx q;
    sdb_exec_stats st;
    sdb_rc rc;
    sdb_result *r = NULL;
    unsigned nthreads;
    uint32_t nout;
    *out = NULL;
    memset(&st, 0, sizeof st);
    memset(&q, 0, sizeof q);
    q.m = m;
    q.sp = sp;
    q.snap = sp->snap;
    q.ncols = sp->snap->ncols;
    q.nunits = sp->snap->nsegs + sp->snap->nmems;
    q.agg = sp->aggregate || sp->naggs > 0 || sp->ngroup > 0;
    q.keep = UINT64_MAX;
    if (sp->has_limit && sp->limit <= UINT64_MAX - sp->offset)
        q.keep = sp->offset + sp->limit;
    atomic_init(&q.next_morsel, 0);
    atomic_init(&q.stop, false);
    atomic_init(&q.done, false);
    atomic_init(&q.blocks, 0);
    atomic_init(&q.blocks_decoded, 0);
    atomic_init(&q.rows, 0);
    atomic_init(&q.mem_rows, 0);
    pthread_mutex_init(&q.mx, NULL);

    if ((rc = prepare(&q, err)) != SDB_OK)
        goto done;
    nout = q.agg ? (sp->nout ? sp->nout : q.ngroup + q.naggs) : sp->nout;
    if (nout > 255 || (sp->nvisible > nout) || (sp->nvisible == 0 && sp->norder > 0 && 0)) {
        rc = SDB_FAIL(err, SDB_ERR_MISUSE, "bad output column counts (%u, %u)", nout,
                      sp->nvisible);
        goto done;
    }
    for (uint32_t k = 0; k < sp->norder; k++)
        if (sp->order[k].col >= nout) {
            rc = SDB_FAIL(err, SDB_ERR_MISUSE, "order by column %u of %u", sp->order[k].col,
                          nout);
            goto done;
        }
    /* the result */
    {
        sdb_arena *ra = sdb_arena_create(0);
        if (ra == NULL || (r = sdb_qmem_local(m, ra, sizeof *r, err)) == NULL) {
            if (ra == NULL)
                rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the result");
            else
                rc = err->code;
            sdb_arena_destroy(ra);
            goto done;
        }
        memset(r, 0, sizeof *r);
        r->arena = ra;
        r->ncols = nout;
        if ((r->names = sdb_qmem_local(m, ra, nout * sizeof *r->names, err)) == NULL ||
            (r->types = sdb_qmem_local(m, ra, nout * sizeof *r->types, err)) == NULL) {
            rc = err->code;
            goto done;
        }
        for (uint32_t c = 0; c < nout; c++) {
            char buf[32];
            const char *nm = sp->names && c < sp->nout ? sp->names[c] : NULL;
            if (nm == NULL) {
                snprintf(buf, sizeof buf, "col%u", c + 1);
                nm = buf;
            }
            if ((r->names[c] = sdb_arena_strndup(ra, nm, strlen(nm), err)) == NULL) {
                rc = err->code;
                goto done;
            }
            if (sp->nout)
                r->types[c] = sp->out[c]->type;
            else if (c < q.ngroup)
                r->types[c] = sp->group[c]->type;
            else
                r->types[c] = q.adefs[c - q.ngroup].out_type;
        }
        q.res = r;
        q.nout = sp->nout;
    }
    if (q.agg && metadata_ok(&q)) {
        rc = run_metadata(&q, &st, err);
        if (rc == SDB_OK)
            rc = finish_result(&q, err);
        goto done;
    }
    if ((rc = plan_morsels(&q, &st, err)) != SDB_OK)
        goto done;
    if (q.agg) {
        sdb_alloc al = {m, NULL};
        if ((rc = sdb_gtab_init(&q.global, &al, q.stride, q.dense_n, err)) != SDB_OK)
            goto done;
    }
    if ((q.pending = sdb_qmem_calloc(m, q.nms + 1, sizeof *q.pending, err)) == NULL) {
        rc = err->code;
        goto done;
    }
    nthreads = sp->threads;
    if (nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (unsigned)n : 1;
    }
    if (nthreads > 256)
        nthreads = 256;
    if (nthreads > q.nms)
        nthreads = q.nms ? q.nms : 1;
    st.threads = nthreads;
    if (nthreads <= 1) {
        worker_main(&q);
    } else {
        pthread_t tids[256];
        unsigned started = 0;
        for (; started < nthreads; started++)
            if (pthread_create(&tids[started], NULL, worker_main, &q) != 0)
                break;
        if (started == 0)
            worker_main(&q);
        for (unsigned t = 0; t < started; t++)
            pthread_join(tids[t], NULL);
    }
    for (uint32_t i = 0; i < q.nms; i++)
        partial_destroy(&q, q.pending[i]);
    if (q.failed) {
        if (err)
            *err = q.ferr;
        rc = q.ferr.code;
        goto done;
    }
    if (sp->cancel != NULL && atomic_load(sp->cancel)) {
        rc = SDB_FAIL(err, SDB_ERR_CANCELLED, "query cancelled");
        goto done;
    }
    if (q.agg) {
        uint32_t nin = q.ngroup + q.naggs;
        uint64_t ng = q.global.n;
        sdb_arena *ta = sdb_arena_create(0);
        sdb_value *rows;
        if (ta == NULL) {
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for groups");
            goto done;
        }
        /* no group by over no rows still gives one row (count(*) = 0) */
        if (q.ngroup == 0 && ng == 0) {
            uint32_t g;
            if ((rc = sdb_gtab_find(&q.global, "", 0, 0, &g, err)) != SDB_OK) {
                sdb_arena_destroy(ta);
                goto done;
            }
            ng = 1;
        }
        st.groups = ng;
        rows = sdb_qmem_local(m, ta, (ng ? ng : 1) * nin * sizeof *rows, err);
        rc = rows == NULL ? err->code : SDB_OK;
        for (uint32_t g = 0; g < ng && rc == SDB_OK; g++)
            rc = group_row(&q, g, rows + (uint64_t)g * nin, err);
        if (rc == SDB_OK)
            rc = post_aggregate(&q, rows, ng, err);
        sdb_qmem_local_destroy(m, ta);
        if (rc != SDB_OK)
            goto done;
    }
    rc = finish_result(&q, err);
done:
    free_keys(&q);
    pthread_mutex_destroy(&q.mx);
    st.blocks = atomic_load(&q.blocks);
    st.blocks_decoded = atomic_load(&q.blocks_decoded);
    st.rows += atomic_load(&q.rows);
    st.mem_rows += atomic_load(&q.mem_rows);
    st.dense_groups = q.dense_n > 0;
    if (rc == SDB_OK) {
        *out = r;
    } else if (r != NULL) {
        sdb_qmem_local_destroy(m, r->arena);
    }
    if (stats)
        *stats = st;
    return rc;
}

void sdb_result_destroy(sdb_result *r)
{
    if (r != NULL)
        sdb_arena_destroy(r->arena);
}
