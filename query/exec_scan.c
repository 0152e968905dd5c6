/* Scanning for the physical query: pruning predicates from the where clause, block and
 * segment pruning into a morsel list, column maps, and decoding one morsel into vectors that
 * the filter conjuncts narrow (split off from exec.c). */
#include "query/exec_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

sdb_rc sdb_exec_extract(qctx *q, const sdb_pexpr *e, sdb_err *err)
{
    pred p;
    memset(&p, 0, sizeof p);
    if (e->kind == SDB_PX_AND) {
        SDB_TRY(sdb_exec_extract(q, e->args[0], err));
        return sdb_exec_extract(q, e->args[1], err);
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

static void conj_marks(const sdb_pexpr *e, bool *cols, uint32_t ncols)
{
    if (e == NULL)
        return;
    if (e->kind == SDB_PX_COL && e->col < ncols)
        cols[e->col] = true;
    for (uint32_t i = 0; i < e->nargs; i++)
        conj_marks(e->args[i], cols, ncols);
}

/* Split the top-level ANDs of where into separately compiled conjuncts, and extract the
 * pruning predicates, noting which conjunct is which predicate and which columns each
 * conjunct reads. */
sdb_rc sdb_exec_split_conj(qctx *q, const sdb_pexpr *e, sdb_err *err)
{
    sdb_prog *p, **np;
    int32_t *npred;
    bool *ncols;
    uint32_t before = q->npreds, k = q->nconj;
    if (e->kind == SDB_PX_AND) {
        SDB_TRY(sdb_exec_split_conj(q, e->args[0], err));
        return sdb_exec_split_conj(q, e->args[1], err);
    }
    SDB_TRY(sdb_prog_compile(q->m, e, &p, err));
    SDB_TRY(sdb_exec_extract(q, e, err));
    if ((np = sdb_qmem_alloc(q->m, (k + 1) * sizeof *np, err)) == NULL ||
        (npred = sdb_qmem_alloc(q->m, (k + 1) * sizeof *npred, err)) == NULL ||
        (ncols = sdb_qmem_calloc(q->m, (size_t)(k + 1) * q->ncols + 1, 1, err)) == NULL)
        return err->code;
    if (k) {
        memcpy(np, q->conj, k * sizeof *np);
        memcpy(npred, q->conj_pred, k * sizeof *npred);
        memcpy(ncols, q->conj_cols, (size_t)k * q->ncols);
    }
    np[k] = p;
    npred[k] = q->npreds == before + 1 ? (int32_t)before : -1;
    conj_marks(e, ncols + (size_t)k * q->ncols, q->ncols);
    q->conj = np;
    q->conj_pred = npred;
    q->conj_cols = ncols;
    q->nconj = k + 1;
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

sdb_rc sdb_exec_plan_morsels(qctx *q, sdb_exec_stats *st, sdb_err *err)
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

sdb_rc sdb_exec_map_columns(qctx *q, sdb_err *err)
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

/* Validity words for a vector of n rows starting at src: a short last vector may sit at the
 * end of its bitmap, so its words are copied into a full SDB_VEC_WORDS buffer. */
static const uint64_t *tail_valid(worker *w, uint32_t c, const uint64_t *src, uint32_t n)
{
    uint64_t *dst = w->vbuf + (size_t)c * SDB_VEC_WORDS;
    if (n == SDB_VEC_SIZE)
        return src;
    memset(dst, 0, SDB_VEC_WORDS * sizeof *dst);
    memcpy(dst, src, ((n + 63) / 64) * sizeof *dst);
    return dst;
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
            vec->valid = tail_valid(w, c, b->valid + start / 64, n);
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
            vec->valid = tail_valid(w, c, col->valid + base / 64, n);
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
/* ---- worker: one morsel ---- */

/* True when block statistics show that every row of block blk satisfies p (integer and
 * timestamp comparisons and NOT NULL; NULL rows never do). */
static bool block_all_pass(const pred *p, const sdb_seg_col *c, uint32_t blk)
{
    const sdb_seg_block *b = &c->blocks[blk];
    if (b->nulls != 0)
        return false;
    if (p->kind == P_NOTNULL)
        return true;
    if (p->kind == P_CMP && p->ctype == SDB_TYPE_INT64) {
        int64_t k = p->lo.u.i, mn = b->min.i, mx = b->max.i;
        switch (p->op) {
        case SDB_PX_EQ: return mn == k && mx == k;
        case SDB_PX_NE: return k < mn || k > mx;
        case SDB_PX_LT: return mx < k;
        case SDB_PX_LE: return mx <= k;
        case SDB_PX_GT: return mn > k;
        case SDB_PX_GE: return mn >= k;
        default: return false;
        }
    }
    if (p->kind == P_BETWEEN && p->ctype == SDB_TYPE_INT64)
        return p->lo.u.i <= b->min.i && b->max.i <= p->hi.u.i;
    return false;
}

/* Which conjuncts every row of a segment morsel satisfies (w->skip), by block statistics. */
static void morsel_skips(worker *w, const morsel *mo)
{
    qctx *q = w->q;
    for (uint32_t k = 0; k < q->nconj; k++) {
        int32_t pi = q->conj_pred[k], ci;
        w->skip[k] = false;
        if (pi < 0 || mo->unit >= q->snap->nsegs)
            continue;
        ci = q->segcol[(size_t)mo->unit * q->ncols + q->preds[pi].col];
        if (ci >= 0)
            w->skip[k] = block_all_pass(&q->preds[pi],
                                        sdb_seg_col_at(q->snap->segs[mo->unit], (uint32_t)ci),
                                        mo->blk);
    }
}

sdb_rc sdb_exec_run_morsel(worker *w, uint32_t mi, partial *pt, sdb_err *err)
{
    qctx *q = w->q;
    const morsel *mo = &q->ms[mi];
    uint32_t nvec = (mo->rows + SDB_VEC_SIZE - 1) / SDB_VEC_SIZE, total = 0, v, c;
    sdb_chunk ch = {.ncols = q->ncols, .cols = w->cols};
    memset(w->decoded, 0, q->ncols * sizeof *w->decoded);
    w->cfresh = true;
    if (w->dfresh != NULL)
        memset(w->dfresh, 1, q->naggs * sizeof *w->dfresh);
    /* conjuncts true of the whole block are not evaluated, nor their columns decoded */
    morsel_skips(w, mo);
    for (uint32_t k = 0; k < q->nconj; k++) {
        if (w->skip[k])
            continue;
        for (c = 0; c < q->ncols; c++)
            if (q->conj_cols[(size_t)k * q->ncols + c])
                SDB_TRY(decode_col(w, mo, c, err));
    }
    for (v = 0; v < nvec; v++) {
        uint32_t start = v * SDB_VEC_SIZE;
        uint32_t n = mo->rows - start < SDB_VEC_SIZE ? mo->rows - start : SDB_VEC_SIZE;
        uint32_t *sel = w->sels + (size_t)v * SDB_VEC_SIZE, ns = n;
        const uint32_t *cur = NULL;
        ch.n = n;
        set_vectors(w, mo, v);
        for (uint32_t k = 0; k < q->nconj && ns > 0; k++) {
            if (w->skip[k])
                continue;
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
        if (q->need_out[c])
            SDB_TRY(decode_col(w, mo, c, err));
    for (v = 0; v < nvec; v++) {
        uint32_t start = v * SDB_VEC_SIZE;
        if (w->nsels[v] == 0)
            continue;
        ch.n = mo->rows - start < SDB_VEC_SIZE ? mo->rows - start : SDB_VEC_SIZE;
        set_vectors(w, mo, v);
        w->vstart = start;
        if (q->agg)
            SDB_TRY(sdb_exec_consume_agg(w, pt, mo, &ch, w->sels + (size_t)v * SDB_VEC_SIZE, w->nsels[v],
                                err));
        else
            SDB_TRY(sdb_exec_consume_project(w, pt, &ch, w->sels + (size_t)v * SDB_VEC_SIZE, w->nsels[v],
                                    err));
    }
    return SDB_OK;
}

