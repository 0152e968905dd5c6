/* Aggregation for the physical query: global symbol key spaces, group ids per row (dense or
 * hashed serialized keys), partial updates, merging partials, finalizing groups into rows,
 * output expressions and having over them, and answers from block metadata. */
#include "query/exec_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/common/hash.h"

sdb_rc sdb_exec_key_space(qctx *q, keyinfo *k, sdb_err *err)
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

void sdb_exec_free_keys(qctx *q)
{
    for (uint32_t i = 0; q->keys && i < q->ngroup; i++)
        sdb_symdict_destroy(q->keys[i].gdict);
}
/* ---- worker: aggregate ---- */

static void key_put(sdb_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Keys a and b of len bytes are equal. Both lie in w->keys, which has 16 bytes of room
 * past its end, so short keys compare as two words each. */
static inline bool same_key(const uint8_t *a, const uint8_t *b, uint32_t len)
{
    if (len <= 16) {
        uint64_t a0, a1, b0, b1, m0, m1;
        memcpy(&a0, a, 8);
        memcpy(&a1, a + 8, 8);
        memcpy(&b0, b, 8);
        memcpy(&b1, b + 8, 8);
        /* only the first len bytes count */
        m0 = len >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * len)) - 1;
        m1 = len >= 16 ? ~UINT64_C(0) : len <= 8 ? 0 : (UINT64_C(1) << (8 * (len - 8))) - 1;
        return ((a0 ^ b0) & m0) == 0 && ((a1 ^ b1) & m1) == 0;
    }
    return memcmp(a, b, len) == 0;
}

/* One string key over a dictionary-encoded block (codes: the block codes of the vector's
 * rows, all below ndict): each code's group is found once per morsel, then every row of that
 * code takes it. Rows of different codes may hold equal strings; they find the same group.
 * The codes new to the morsel are serialized (as compute_gids does) and hashed first, then
 * probed in row order (groups are numbered as the row-by-row path numbers them) with the
 * slots of keys a few ahead prefetched. */
static sdb_rc dict_gids(worker *w, partial *pt, const sdb_vec *v, const uint32_t *codes,
                        uint32_t ndict, const uint32_t *sel, uint32_t n, sdb_err *err)
{
    enum { AHEAD = 8 };
    const uint32_t PENDING = UINT32_MAX; /* a code met in this vector, its group not found yet */
    uint32_t np = 0, j;
    if (w->cfresh) {
        memset(w->cgid, 0, (size_t)ndict * sizeof *w->cgid);
        w->cnull = 0;
        w->cfresh = false;
    }
    w->keys.len = 0;
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j], len = 0, klen = 1;
        bool valid = sdb_vec_valid(v, i);
        uint32_t *slot = valid ? &w->cgid[codes[i]] : &w->cnull;
        uint8_t *out;
        if (*slot != 0)
            continue;
        *slot = PENDING;
        if (valid)
            len = v->v.str[v->is_const ? 0 : i].len, klen = 5 + len;
        SDB_TRY(sdb_buf_reserve(&w->keys, w->keys.len + klen + 16, err));
        out = w->keys.data + w->keys.len;
        out[0] = !valid;
        if (valid) {
            memcpy(out + 1, &len, 4);
            if (len)
                memcpy(out + 5, v->v.str[v->is_const ? 0 : i].p, len);
        }
        w->koff[np] = w->keys.len;
        w->khash[np] = sdb_hash64(out, klen);
        w->cpend[np++] = j;
        w->keys.len += klen;
    }
    w->koff[np] = w->keys.len;
    for (j = 0; j < np && j < AHEAD; j++)
        sdb_gtab_prefetch(&pt->tab, w->khash[j]);
    for (j = 0; j < np; j++) {
        uint32_t i = sel[w->cpend[j]], g;
        if (j + AHEAD < np)
            sdb_gtab_prefetch(&pt->tab, w->khash[j + AHEAD]);
        SDB_TRY(sdb_gtab_find(&pt->tab, w->keys.data + w->koff[j],
                              (uint32_t)(w->koff[j + 1] - w->koff[j]), w->khash[j], &g, err));
        *(sdb_vec_valid(v, i) ? &w->cgid[codes[i]] : &w->cnull) = g + 1;
    }
    for (j = 0; j < n; j++) {
        uint32_t i = sel[j];
        w->gids[j] = (sdb_vec_valid(v, i) ? w->cgid[codes[i]] : w->cnull) - 1;
    }
    return SDB_OK;
}

/* The decoded block of table column col in a segment morsel when it has dictionary codes
 * (sdb_seg_blockbuf.keep_codes), else NULL. */
static const sdb_seg_blockbuf *dict_block(const worker *w, const morsel *mo,
                                          const sdb_chunk *ch, uint32_t col)
{
    const qctx *q = w->q;
    const sdb_seg_blockbuf *b = &w->bb[col];
    if (mo->unit >= q->snap->nsegs || !w->decoded[col] ||
        q->segcol[(size_t)mo->unit * q->ncols + col] < 0 || ch->cols[col].is_const ||
        b->ndict == 0 || b->ndict > SDB_BLOCK_ROWS)
        return NULL;
    return b;
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
    if (w->cgid != NULL) {
        uint32_t col = (uint32_t)q->keys[0].strcol;
        const sdb_seg_blockbuf *b = dict_block(w, mo, ch, col);
        if (b != NULL)
            return dict_gids(w, pt, &ch->cols[col], b->codes + w->vstart, b->ndict, sel, n,
                             err);
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
            uint32_t g = pt->tab.dense_gid[a * n1 + b];
            if (g != 0)
                w->gids[j] = g - 1; /* seen before: no call */
            else
                SDB_TRY(sdb_gtab_find_dense(&pt->tab, a * n1 + b, &w->gids[j], err));
        }
        return SDB_OK;
    }
    /* serialize every selected row's key, then hash, then probe with the slots of rows a
       few ahead already on their way into the cache */
    size_t need = 0;
    for (k = 0; k < q->ngroup; k++) {
        const sdb_vec *v = kv[k];
        need += (size_t)n * 9;
        if (v->type == SDB_TYPE_STRING && !q->keys[k].sym)
            for (j = 0; j < n; j++)
                need += 4 + (size_t)v->v.str[v->is_const ? 0 : sel[j]].len;
    }
    w->keys.len = 0;
    SDB_TRY(sdb_buf_reserve(&w->keys, need + 16, err)); /* 16: see same_key */
    if (q->ngroup == 1 && kv[0]->type == SDB_TYPE_STRING && !q->keys[0].sym) {
        /* one string key, the common hash case: no per-key dispatch */
        const sdb_vec *v = kv[0];
        uint8_t *out = w->keys.data;
        size_t at = 0;
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j], x = v->is_const ? 0 : i;
            w->koff[j] = at;
            if (!sdb_vec_valid(v, i)) {
                out[at++] = 1;
                continue;
            }
            uint32_t len = v->v.str[x].len;
            out[at] = 0;
            memcpy(out + at + 1, &len, 4);
            if (len)
                memcpy(out + at + 5, v->v.str[x].p, len);
            at += 5 + (size_t)len;
        }
        w->keys.len = at;
    } else if (q->ngroup == 1 && sdb_type_is_i64(kv[0]->type) && !q->keys[0].sym) {
        /* one integer or timestamp key (time buckets): likewise */
        const sdb_vec *v = kv[0];
        uint8_t *out = w->keys.data;
        size_t at = 0;
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j], x = v->is_const ? 0 : i;
            w->koff[j] = at;
            if (!sdb_vec_valid(v, i)) {
                out[at++] = 1;
                continue;
            }
            out[at] = 0;
            memcpy(out + at + 1, &v->v.i64[x], 8);
            at += 9;
        }
        w->keys.len = at;
    } else {
        for (j = 0; j < n; j++) {
            uint32_t i = sel[j];
            w->koff[j] = w->keys.len;
            for (k = 0; k < q->ngroup; k++) {
                const sdb_vec *v = kv[k];
                uint32_t x = v->is_const ? 0 : i;
                uint8_t isnull = !sdb_vec_valid(v, i);
                key_put(&w->keys, &isnull, 1);
                if (isnull)
                    continue;
                if (q->keys[k].sym) {
                    key_put(&w->keys, &q->keys[k].map[mo->unit][v->v.code[x]], 4);
                    continue;
                }
                switch (v->type) {
                case SDB_TYPE_STRING: {
                    uint32_t len = v->v.str[x].len;
                    key_put(&w->keys, &len, 4);
                    if (len)
                        key_put(&w->keys, v->v.str[x].p, len);
                    break;
                }
                case SDB_TYPE_BOOL: key_put(&w->keys, &v->v.b8[x], 1); break;
                case SDB_TYPE_FLOAT64: {
                    double f = v->v.f64[x];
                    if (f == 0)
                        f = 0;
                    if (isnan(f))
                        f = NAN;
                    key_put(&w->keys, &f, 8);
                    break;
                }
                default: key_put(&w->keys, &v->v.i64[x], 8); break;
                }
            }
        }
    }
    w->koff[n] = w->keys.len;
    memset(w->keys.data + w->keys.len, 0, 16); /* same_key may read these */
    for (j = 0; j < n; j++) {
        const uint8_t *kp = w->keys.data + w->koff[j];
        uint32_t len = (uint32_t)(w->koff[j + 1] - w->koff[j]);
        /* runs of equal keys (time buckets of sorted data) skip hashing and probing */
        w->same[j] = j > 0 && len == w->koff[j] - w->koff[j - 1] &&
                     same_key(kp, w->keys.data + w->koff[j - 1], len);
        if (!w->same[j])
            w->khash[j] = sdb_hash64(kp, len);
    }
    enum { AHEAD = 8 };
    for (j = 0; j < n && j < AHEAD; j++)
        if (!w->same[j])
            sdb_gtab_prefetch(&pt->tab, w->khash[j]);
    for (j = 0; j < n; j++) {
        if (j + AHEAD < n && !w->same[j + AHEAD])
            sdb_gtab_prefetch(&pt->tab, w->khash[j + AHEAD]);
        if (w->same[j]) {
            w->gids[j] = w->gids[j - 1];
            continue;
        }
        SDB_TRY(sdb_gtab_find(&pt->tab, w->keys.data + w->koff[j],
                              (uint32_t)(w->koff[j + 1] - w->koff[j]), w->khash[j], &w->gids[j],
                              err));
    }
    return SDB_OK;
}

sdb_rc sdb_exec_consume_agg(worker *w, partial *pt, const morsel *mo, const sdb_chunk *ch,
                          const uint32_t *sel, uint32_t n, sdb_err *err)
{
    qctx *q = w->q;
    SDB_TRY(compute_gids(w, pt, mo, ch, sel, n, err));
    /* the state row of every selected row, found once for all the aggregates */
    for (uint32_t j = 0; j < n; j++)
        w->rows[j] = sdb_gtab_state(&pt->tab, w->gids[j]);
    for (uint32_t a = 0; a < q->naggs; a++) {
        const sdb_vec *arg = NULL;
        const sdb_seg_blockbuf *b;
        if (w->dlast != NULL && w->dlast[a] != NULL &&
            (b = dict_block(w, mo, ch, q->sp->aggs[a].arg->col)) != NULL) {
            /* count(DISTINCT) over block codes: a row whose code went into its group's set
               earlier in the morsel changes nothing */
            const uint32_t *codes = b->codes + w->vstart;
            uint32_t *last = w->dlast[a], m = 0;
            arg = &ch->cols[q->sp->aggs[a].arg->col];
            if (w->dfresh[a]) {
                memset(last, 0, (size_t)b->ndict * sizeof *last);
                w->dfresh[a] = false;
            }
            for (uint32_t j = 0; j < n; j++) {
                uint32_t i = sel[j];
                if (sdb_vec_valid(arg, i)) {
                    if (last[codes[i]] == w->gids[j] + 1)
                        continue;
                    last[codes[i]] = w->gids[j] + 1;
                }
                w->dsel[m] = i;
                w->drows[m++] = w->rows[j];
            }
            SDB_TRY(sdb_agg_update_rows(&q->adefs[a], &pt->tab, w->drows, arg, w->dsel, m, err));
            continue;
        }
        if (q->aprog[a] != NULL)
            SDB_TRY(sdb_prog_eval(w->ast[a], ch, sel, n, &arg, err));
        SDB_TRY(sdb_agg_update_rows(&q->adefs[a], &pt->tab, w->rows, arg, sel, n, err));
    }
    return SDB_OK;
}
/* Fold the groups of a morsel's partial into the final table: first the global group of
 * every partial group (hash mode: probing with the slots of groups a few ahead prefetched),
 * then the states, with the global states of groups a few ahead prefetched. */
sdb_rc sdb_exec_merge_groups(qctx *q, partial *pt, sdb_err *err)
{
    enum { AHEAD = 8, CHUNK = 1024 };
    uint32_t dgs[CHUNK];
    for (uint32_t base = 0; base < pt->tab.n; base += CHUNK) {
        uint32_t n = pt->tab.n - base < CHUNK ? pt->tab.n - base : CHUNK;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t g = base + j;
            if (q->dense_n > 0) {
                SDB_TRY(sdb_gtab_find_dense(&q->global, (uint32_t)pt->tab.hashes[g], &dgs[j],
                                            err));
                continue;
            }
            if (g + AHEAD < pt->tab.n)
                sdb_gtab_prefetch(&q->global, pt->tab.hashes[g + AHEAD]);
            SDB_TRY(sdb_gtab_find(&q->global, pt->tab.keys[g].p, pt->tab.keys[g].len,
                                  pt->tab.hashes[g], &dgs[j], err));
        }
        for (uint32_t j = 0; j < n; j++) {
            uint8_t *src = sdb_gtab_state(&pt->tab, base + j);
            uint8_t *dst = sdb_gtab_state(&q->global, dgs[j]);
            if (j + AHEAD < n)
                __builtin_prefetch(sdb_gtab_state(&q->global, dgs[j + AHEAD]), 1);
            for (uint32_t a = 0; a < q->naggs; a++)
                SDB_TRY(sdb_agg_merge(&q->adefs[a], &q->global, dst, src, err));
        }
    }
    return SDB_OK;
}
/* ---- finish ---- */

/* The aggregation output row of global group g. */
sdb_rc sdb_exec_group_row(qctx *q, uint32_t g, sdb_value *row, sdb_err *err)
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
sdb_rc sdb_exec_post_aggregate(qctx *q, const sdb_value *rows, uint64_t nrows, sdb_err *err)
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
            rc = sdb_exec_result_push(q, rows + r * nin, err);
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
                    sdb_exec_vec_value(ov[o], sel[j], &orow[o]);
                else
                    orow[o] = rows[(base + sel[j]) * nin + o];
            }
            rc = sdb_exec_result_push(q, orow, err);
        }
    }
out:
    sdb_qmem_local_destroy(q->m, a);
    return rc;
}
/* ---- metadata ---- */

bool sdb_exec_metadata_ok(qctx *q)
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

sdb_rc sdb_exec_metadata(qctx *q, sdb_exec_stats *st, sdb_err *err)
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
    return sdb_exec_post_aggregate(q, row, 1, err);
}

