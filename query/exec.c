/* The physical query of exec.h: prepare (column use, maps, pruning, key spaces), the
 * workers that take morsels in order and produce per-morsel partials, and the ordered merge
 * of those partials. The other phases live in exec_scan.c, exec_agg.c and exec_sort.c
 * (exec_int.h lists what went where).
 * Query-lifetime structures come from the query's sdb_qmem; each partial has its own arena
 * (charged to the same budget) that is dropped once merged. */
#include "query/exec_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

bool sdb_exec_stopping(qctx *q)
{
    return atomic_load(&q->stop) ||
           (q->sp->cancel != NULL && atomic_load(q->sp->cancel));
}

void sdb_exec_fail(qctx *q, const sdb_err *e)
{
    pthread_mutex_lock(&q->mx);
    if (!q->failed) {
        q->failed = true;
        q->ferr = *e;
    }
    atomic_store(&q->stop, true);
    pthread_cond_broadcast(&q->advance);
    pthread_mutex_unlock(&q->mx);
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
static sdb_rc merge_partial(qctx *q, partial *pt, sdb_err *err)
{
    if (!q->agg)
        return sdb_exec_push_partial(q, pt, err);
    return sdb_exec_merge_groups(q, pt, err);
}

static void partial_destroy(qctx *q, partial *pt)
{
    if (pt != NULL)
        sdb_qmem_local_destroy(q->m, pt->arena);
}

/* Hand partial mi over; merge every partial that is next in morsel order. One thread at a
 * time merges (q->merging), outside the lock, so that a worker handing over a partial while
 * another merges goes straight back to scanning; the merging thread picks that partial up
 * when its turn comes. */
static sdb_rc deliver(qctx *q, uint32_t mi, partial *pt, sdb_err *err)
{
    sdb_rc rc = SDB_OK;
    pthread_mutex_lock(&q->mx);
    q->pending[mi] = pt;
    if (q->merging) {
        pthread_mutex_unlock(&q->mx);
        return SDB_OK;
    }
    q->merging = true;
    while (rc == SDB_OK && q->next < q->nms && q->pending[q->next] != NULL) {
        partial *p = q->pending[q->next];
        bool failed = q->failed;
        q->pending[q->next] = NULL;
        pthread_mutex_unlock(&q->mx);
        if (!failed)
            rc = merge_partial(q, p, err);
        partial_destroy(q, p);
        pthread_mutex_lock(&q->mx);
        q->next++;
        pthread_cond_broadcast(&q->advance);
    }
    q->merging = false;
    pthread_cond_broadcast(&q->advance);
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
    WALLOC(w->vbuf, (size_t)(nc ? nc : 1) * SDB_VEC_WORDS * sizeof *w->vbuf);
    for (uint32_t c = 0; c < nc; c++)
        if (q->need[c] && q->snap->types[c] == SDB_TYPE_STRING)
            WALLOC(w->strs[c], SDB_VEC_SIZE * sizeof(sdb_str));
    WALLOC(w->sels, (size_t)(SDB_BLOCK_ROWS / SDB_VEC_SIZE) * SDB_VEC_SIZE * sizeof *w->sels);
    WALLOC(w->nsels, (SDB_BLOCK_ROWS / SDB_VEC_SIZE) * sizeof *w->nsels);
    WALLOC(w->tmpsel, SDB_VEC_SIZE * sizeof *w->tmpsel);
    WALLOC(w->skip, (q->nconj + 1) * sizeof *w->skip);
    WALLOC(w->conj, (q->nconj + 1) * sizeof *w->conj);
    WALLOC(w->gst, (q->ngroup + 1) * sizeof *w->gst);
    WALLOC(w->ast, (q->naggs + 1) * sizeof *w->ast);
    WALLOC(w->ost, (q->nout + 1) * sizeof *w->ost);
    if (q->agg && q->ngroup == 1 && q->dense_n == 0 && q->keys[0].strcol >= 0) {
        WALLOC(w->cgid, SDB_BLOCK_ROWS * sizeof *w->cgid);
        w->bb[q->keys[0].strcol].keep_codes = true;
    }
    for (uint32_t a = 0; q->agg && a < q->naggs; a++) {
        const sdb_pexpr *arg = q->sp->aggs[a].arg;
        if (q->adefs[a].kind != SDB_AGG_COUNT_DISTINCT || arg == NULL ||
            arg->kind != SDB_PX_COL || arg->type != SDB_TYPE_STRING || arg->col >= nc)
            continue;
        if (w->dlast == NULL) {
            WALLOC(w->dlast, q->naggs * sizeof *w->dlast);
            WALLOC(w->dfresh, q->naggs * sizeof *w->dfresh);
        }
        WALLOC(w->dlast[a], SDB_BLOCK_ROWS * sizeof *w->dlast[a]);
        w->bb[arg->col].keep_codes = true;
    }
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
    sdb_buf_free(&w->keys);
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
        sdb_exec_fail(q, &err);
        worker_free(&w);
        return NULL;
    }
    for (;;) {
        uint32_t mi;
        partial *pt = NULL;
        sdb_rc rc;
        if (sdb_exec_stopping(q) || atomic_load(&q->done))
            break;
        mi = atomic_fetch_add(&q->next_morsel, 1);
        if (mi >= q->nms)
            break;
        /* bound the partials waiting for their turn to merge: stay within `window` of the
           oldest unmerged morsel (its worker always proceeds, so this cannot deadlock) */
        pthread_mutex_lock(&q->mx);
        while (mi >= q->next + q->window && !q->failed && !sdb_exec_stopping(q) &&
               !atomic_load(&q->done))
            pthread_cond_wait(&q->advance, &q->mx);
        pthread_mutex_unlock(&q->mx);
        /* a hash table (and distinct sets) sized like the worker's last ones: morsels of one
           query tend to have alike numbers of groups and values, and growing step by step
           rehashes and refaults memory */
        rc = partial_create(q, &pt, &err);
        if (rc == SDB_OK && q->agg) {
            pt->tab.set_hint = w.last_set;
            /* a morsel (at most 65,536 rows) adds at most its rows to the sets of one
               aggregate: hints beyond twice that reserve for values that cannot come */
            pt->tab.set_hint_left = 2 * (uint64_t)MEM_MORSEL;
            if (q->dense_n == 0)
                rc = sdb_gtab_reserve(&pt->tab, w.last_groups, &err);
        }
        if (rc == SDB_OK)
            rc = sdb_exec_run_morsel(&w, mi, pt, &err);
        if (rc != SDB_OK) {
            partial_destroy(q, pt);
            sdb_exec_fail(q, &err);
            break;
        }
        if (q->agg) {
            w.last_groups = pt->tab.n;
            w.last_set = 0;
            for (uint32_t a = 0; a < q->naggs; a++) {
                uint32_t m = sdb_agg_set_max(&q->adefs[a], &pt->tab);
                w.last_set = m > w.last_set ? m : w.last_set;
            }
        }
        if (deliver(q, mi, pt, &err) != SDB_OK) {
            sdb_exec_fail(q, &err);
            break;
        }
    }
    worker_free(&w);
    return NULL;
}
/* ---- run ---- */

static sdb_rc prepare(qctx *q, sdb_err *err)
{
    const sdb_query_spec *sp = q->sp;
    uint32_t nc = q->ncols;
    if ((q->need = sdb_qmem_calloc(q->m, nc + 1, 1, err)) == NULL ||
        (q->need_filter = sdb_qmem_calloc(q->m, nc + 1, 1, err)) == NULL ||
        (q->need_out = sdb_qmem_calloc(q->m, nc + 1, 1, err)) == NULL)
        return err->code;
    mark_cols(sp->where, q->need_filter, nc);
    for (uint32_t k = 0; k < sp->ngroup; k++)
        mark_cols(sp->group[k], q->need_out, nc);
    for (uint32_t k = 0; k < sp->naggs; k++)
        mark_cols(sp->aggs[k].arg, q->need_out, nc);
    if (!q->agg)
        for (uint32_t k = 0; k < sp->nout; k++)
            mark_cols(sp->out[k], q->need_out, nc);
    for (uint32_t c = 0; c < nc; c++)
        q->need[c] = q->need_out[c] || q->need_filter[c];
    SDB_TRY(sdb_exec_map_columns(q, err));
    if (sp->where != NULL) {
        if (sp->where->type != SDB_TYPE_BOOL)
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "where must be bool, not %s",
                            sdb_type_name(sp->where->type));
        SDB_TRY(sdb_exec_split_conj(q, sp->where, err)); /* also extracts the predicates */
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
        ki->type = sdb_exec_key_type(g->type);
        ki->strcol = g->kind == SDB_PX_COL && g->type == SDB_TYPE_STRING && g->col < nc
                         ? (int32_t)g->col : -1;
        if (g->kind == SDB_PX_COL && g->type == SDB_TYPE_SYMBOL && g->col < nc) {
            ki->sym = true;
            ki->col = g->col;
            SDB_TRY(sdb_exec_key_space(q, ki, err));
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
    if (sp->has_limit && sp->limit == 0)
        q.keep = 0;
    atomic_init(&q.next_morsel, 0);
    atomic_init(&q.stop, false);
    atomic_init(&q.done, q.keep == 0 && !q.agg); /* LIMIT 0 reads nothing */
    atomic_init(&q.blocks, 0);
    atomic_init(&q.blocks_decoded, 0);
    atomic_init(&q.rows, 0);
    atomic_init(&q.mem_rows, 0);
    pthread_mutex_init(&q.mx, NULL);
    pthread_cond_init(&q.advance, NULL);

    if ((rc = prepare(&q, err)) != SDB_OK)
        goto done;
    nout = q.agg ? (sp->nout ? sp->nout : q.ngroup + q.naggs) : sp->nout;
    if (nout > 255 || sp->nvisible > nout) {
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
    if (q.agg && sdb_exec_metadata_ok(&q)) {
        rc = sdb_exec_metadata(&q, &st, err);
        if (rc == SDB_OK)
            rc = sdb_exec_finish(&q, err);
        goto done;
    }
    if ((rc = sdb_exec_plan_morsels(&q, &st, err)) != SDB_OK)
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
    q.window = 4 * nthreads;
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
            rc = sdb_exec_group_row(&q, g, rows + (uint64_t)g * nin, err);
        if (rc == SDB_OK)
            rc = sdb_exec_post_aggregate(&q, rows, ng, err);
        sdb_qmem_local_destroy(m, ta);
        if (rc != SDB_OK)
            goto done;
    }
    rc = sdb_exec_finish(&q, err);
done:
    sdb_exec_free_keys(&q);
    pthread_mutex_destroy(&q.mx);
    pthread_cond_destroy(&q.advance);
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

