/* Rows for the physical query: projected rows of a morsel, result rows (append or a top-N
 * heap for ORDER BY ... LIMIT), the final sort, offset and limit. */
#include "query/exec_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- worker: project ---- */

sdb_rc sdb_exec_copy_str(sdb_qmem *m, sdb_arena *a, sdb_value *v, sdb_err *err)
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

void sdb_exec_vec_value(const sdb_vec *v, uint32_t i, sdb_value *out)
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

static sdb_rc partial_topn(qctx *q, partial *pt, const sdb_vec *const *ov, const uint32_t *sel,
                           uint32_t n, sdb_err *err);

sdb_rc sdb_exec_consume_project(worker *w, partial *pt, const sdb_chunk *ch, const uint32_t *sel,
                              uint32_t n, sdb_err *err)
{
    qctx *q = w->q;
    const sdb_vec *ov[256];
    /* without ORDER BY the first offset + limit rows of a morsel are all it can contribute */
    if (q->sp->norder == 0 && q->keep != UINT64_MAX) {
        if (pt->nrows >= q->keep)
            return SDB_OK;
        if (n > q->keep - pt->nrows)
            n = (uint32_t)(q->keep - pt->nrows);
    }
    if (n == 0)
        return SDB_OK;
    for (uint32_t o = 0; o < q->nout; o++)
        SDB_TRY(sdb_prog_eval(w->ost[o], ch, sel, n, &ov[o], err));
    if (q->sp->norder > 0 && q->keep != UINT64_MAX)
        return partial_topn(q, pt, ov, sel, n, err);
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
            sdb_exec_vec_value(ov[o], sel[j], &row[o]);
            SDB_TRY(sdb_exec_copy_str(q->m, pt->arena, &row[o], err));
        }
    }
    pt->nrows += n;
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
        int r;
        if (a[c].null || b[c].null) {
            /* NULL placement does not follow DESC: last unless NULLS FIRST (DuckDB's rule) */
            if (a[c].null && b[c].null)
                continue;
            r = a[c].null ? 1 : -1;
            return sp->order[k].nulls_first ? -r : r;
        }
        r = cmp_value(&a[c], &b[c]);
        if (r != 0)
            return sp->order[k].desc ? -r : r;
    }
    (void)ncols;
    return (sa > sb) - (sa < sb);
}

/* A max-heap on the sort order over rows of nc values with arrival numbers: the root is the
 * row that would be dropped first. Used for the result and for each morsel's partial. */
typedef struct rowheap {
    const sdb_query_spec *sp;
    uint32_t nc;            /* values per row */
    sdb_value *cells;       /* rows */
    uint64_t *seq;          /* arrival number per row */
} rowheap;

static void heap_swap(const rowheap *h, uint64_t i, uint64_t j)
{
    sdb_value *x = h->cells + i * h->nc, *y = h->cells + j * h->nc;
    uint64_t s;
    for (uint32_t c = 0; c < h->nc; c++) {
        sdb_value t = x[c];
        x[c] = y[c];
        y[c] = t;
    }
    s = h->seq[i];
    h->seq[i] = h->seq[j];
    h->seq[j] = s;
}

static bool heap_less(const rowheap *h, uint64_t i, uint64_t j)
{
    return cmp_rows(h->sp, h->nc, h->cells + i * h->nc, h->seq[i], h->cells + j * h->nc,
                    h->seq[j]) < 0;
}

static void heap_down(const rowheap *h, uint64_t i, uint64_t n)
{
    for (;;) {
        uint64_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && heap_less(h, big, l))
            big = l;
        if (r < n && heap_less(h, big, r))
            big = r;
        if (big == i)
            return;
        heap_swap(h, i, big);
        i = big;
    }
}

static void heap_up(const rowheap *h, uint64_t i)
{
    while (i > 0) {
        uint64_t p = (i - 1) / 2;
        if (!heap_less(h, p, i))
            return;
        heap_swap(h, p, i);
        i = p;
    }
}

/* ORDER BY ... LIMIT: a morsel keeps only its own first offset + limit rows in sort order, as
 * a heap; sdb_exec_push_partial hands them over in arrival order, so ties stay stable. */
static sdb_rc partial_topn(qctx *q, partial *pt, const sdb_vec *const *ov, const uint32_t *sel,
                           uint32_t n, sdb_err *err)
{
    uint32_t nc = q->nout;
    sdb_value row[256];
    pt->heaped = true;
    if (q->keep == 0)
        return SDB_OK;
    for (uint32_t j = 0; j < n; j++) {
        uint64_t seq = pt->parrived++;
        sdb_value *dst;
        for (uint32_t o = 0; o < nc; o++)
            sdb_exec_vec_value(ov[o], sel[j], &row[o]);
        if (pt->nrows == q->keep) {
            rowheap h = {q->sp, nc, pt->rows, pt->pseq};
            if (cmp_rows(q->sp, nc, row, seq, pt->rows, pt->pseq[0]) >= 0)
                continue;
            dst = pt->rows;
            pt->pseq[0] = seq;
            for (uint32_t o = 0; o < nc; o++) {
                dst[o] = row[o];
                SDB_TRY(sdb_exec_copy_str(q->m, pt->arena, &dst[o], err));
            }
            heap_down(&h, 0, pt->nrows);
            continue;
        }
        if (pt->nrows == pt->cap) {
            uint64_t ncap = pt->cap ? pt->cap * 2 : 64;
            sdb_value *nr;
            uint64_t *ns;
            if (ncap > q->keep)
                ncap = q->keep;
            if ((nr = sdb_qmem_local(q->m, pt->arena, ncap * nc * sizeof *nr, err)) == NULL ||
                (ns = sdb_qmem_local(q->m, pt->arena, ncap * sizeof *ns, err)) == NULL)
                return err->code;
            if (pt->nrows) {
                memcpy(nr, pt->rows, pt->nrows * nc * sizeof *nr);
                memcpy(ns, pt->pseq, pt->nrows * sizeof *ns);
            }
            pt->rows = nr;
            pt->pseq = ns;
            pt->cap = ncap;
        }
        dst = pt->rows + pt->nrows * nc;
        for (uint32_t o = 0; o < nc; o++) {
            dst[o] = row[o];
            SDB_TRY(sdb_exec_copy_str(q->m, pt->arena, &dst[o], err));
        }
        pt->pseq[pt->nrows] = seq;
        pt->nrows++;
        heap_up(&(rowheap){q->sp, nc, pt->rows, pt->pseq}, pt->nrows - 1);
    }
    return SDB_OK;
}

/* Append (or offer to the top-N heap) one output row; strings are copied into the result. */
sdb_rc sdb_exec_result_push(qctx *q, const sdb_value *row, sdb_err *err)
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
            SDB_TRY(sdb_exec_copy_str(q->m, r->arena, &dst[c], err));
        heap_down(&(rowheap){q->sp, nc, r->cells, q->seq}, 0, r->nrows);
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
        SDB_TRY(sdb_exec_copy_str(q->m, r->arena, &dst[c], err));
    q->seq[r->nrows] = seq;
    r->nrows++;
    if (heap)
        heap_up(&(rowheap){q->sp, nc, r->cells, q->seq}, r->nrows - 1);
    if (!heap && q->sp->norder == 0 && r->nrows >= q->keep)
        atomic_store(&q->done, true);
    return SDB_OK;
}

static int cmp_seq_idx(const void *x, const void *y)
{
    const uint64_t *a = x, *b = y; /* {arrival, row} pairs */
    return (a[0] > b[0]) - (a[0] < b[0]);
}

/* Hand a morsel's rows to the result in the order they arrived. */
sdb_rc sdb_exec_push_partial(qctx *q, partial *pt, sdb_err *err)
{
    uint64_t *order;
    if (!pt->heaped) {
        for (uint64_t r = 0; r < pt->nrows; r++)
            SDB_TRY(sdb_exec_result_push(q, pt->rows + r * q->nout, err));
        return SDB_OK;
    }
    if (pt->nrows == 0)
        return SDB_OK;
    if ((order = sdb_qmem_local(q->m, pt->arena, pt->nrows * 2 * sizeof *order, err)) == NULL)
        return err->code;
    for (uint64_t r = 0; r < pt->nrows; r++) {
        order[2 * r] = pt->pseq[r];
        order[2 * r + 1] = r;
    }
    qsort(order, pt->nrows, 2 * sizeof *order, cmp_seq_idx);
    for (uint64_t r = 0; r < pt->nrows; r++)
        SDB_TRY(sdb_exec_result_push(q, pt->rows + order[2 * r + 1] * q->nout, err));
    return SDB_OK;
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
sdb_rc sdb_exec_finish(qctx *q, sdb_err *err)
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

