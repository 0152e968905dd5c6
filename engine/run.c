/* Statement execution. A SELECT takes a snapshot of its table (engine/db.h), drops the
 * partitions its `time` conditions exclude, plans (query/plan.h) and runs (query/exec.h)
 * under the query's memory bound; the snapshot is released before the result is returned,
 * so a result never pins segments. Statements that describe the catalog build their result
 * sets here. */
#include "engine/run.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/partition.h"
#include "query/functions.h"
#include "query/parser.h"
#include "query/plan.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- building small result sets ---- */

typedef struct rows {
    sdb_result *r;
    uint64_t cap;
} rows;

static sdb_rc rows_new(rows *rs, uint32_t ncols, const char *const *names, const sdb_type *types,
                       sdb_err *err)
{
    sdb_arena *a = sdb_arena_create(0);
    sdb_result *r;
    memset(rs, 0, sizeof *rs);
    /* the result lives in its own arena, which sdb_result_destroy frees */
    if (a == NULL || (r = sdb_arena_calloc(a, 1, sizeof *r, err)) == NULL) {
        sdb_arena_destroy(a);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a result");
    }
    r->arena = a;
    rs->r = r;
    r->ncols = ncols;
    r->names = sdb_arena_calloc(r->arena, ncols, sizeof *r->names, err);
    r->types = sdb_arena_calloc(r->arena, ncols, sizeof *r->types, err);
    if (r->names == NULL || r->types == NULL)
        return SDB_ERR_NOMEM;
    for (uint32_t i = 0; i < ncols; i++) {
        if ((r->names[i] = sdb_arena_strndup(r->arena, names[i], strlen(names[i]), err)) == NULL)
            return SDB_ERR_NOMEM;
        r->types[i] = types[i];
    }
    return SDB_OK;
}

/* A new row; its cells are NULL until set. */
static sdb_value *rows_add(rows *rs, sdb_err *err)
{
    sdb_result *r = rs->r;
    sdb_value *row;
    if (r->nrows == rs->cap) {
        uint64_t cap = rs->cap ? rs->cap * 2 : 16;
        sdb_value *cells = sdb_arena_calloc(r->arena, cap * r->ncols, sizeof *cells, err);
        if (cells == NULL)
            return NULL;
        if (r->nrows > 0)
            memcpy(cells, r->cells, r->nrows * r->ncols * sizeof *cells);
        r->cells = cells;
        rs->cap = cap;
    }
    row = &r->cells[r->nrows++ * r->ncols];
    for (uint32_t i = 0; i < r->ncols; i++) {
        row[i].type = r->types[i];
        row[i].null = true;
    }
    return row;
}

static sdb_rc set_str(rows *rs, sdb_value *v, const char *s, sdb_err *err)
{
    size_t n = strlen(s);
    char *c = sdb_arena_strndup(rs->r->arena, s, n, err);
    if (c == NULL)
        return SDB_ERR_NOMEM;
    v->null = false;
    v->u.s.p = c;
    v->u.s.len = (uint32_t)n;
    return SDB_OK;
}

static void set_i64(sdb_value *v, int64_t x)
{
    v->null = false;
    v->u.i = x;
}

static void set_bool(sdb_value *v, bool b)
{
    v->null = false;
    v->u.b = b;
}

/* ---- SHOW TABLES, DESCRIBE ---- */

static sdb_rc show_tables(sdb_db *db, sdb_run_result *out, sdb_err *err)
{
    static const char *names[] = {"table", "columns", "partition_by", "segments", "rows"};
    static const sdb_type types[] = {SDB_TYPE_STRING, SDB_TYPE_INT64, SDB_TYPE_STRING,
                                     SDB_TYPE_INT64, SDB_TYPE_INT64};
    const sdb_catalog *cat = sdb_db_catalog(db);
    rows rs;
    sdb_rc rc = rows_new(&rs, 5, names, types, err);
    out->rows = rs.r;
    if (rc != SDB_OK)
        return rc;
    sdb_db_lock(db);
    for (uint32_t i = 0; i < cat->ntables && rc == SDB_OK; i++) {
        const sdb_table_def *t = cat->tables[i];
        sdb_value *row = rows_add(&rs, err);
        if (row == NULL) {
            rc = SDB_ERR_NOMEM;
            break;
        }
        rc = set_str(&rs, &row[0], t->name, err);
        set_i64(&row[1], t->ncols);
        if (rc == SDB_OK)
            rc = set_str(&rs, &row[2], sdb_part_unit_name(t->unit), err);
    }
    sdb_db_unlock(db);
    /* segment and row counts come from snapshots (they take the locks themselves) */
    for (uint64_t i = 0; i < rs.r->nrows && rc == SDB_OK; i++) {
        sdb_value *row = &rs.r->cells[i * 5];
        sdb_db_snapshot *s;
        uint64_t n = 0;
        if (sdb_db_snapshot_take(db, row[0].u.s.p, &s, NULL) != SDB_OK)
            continue;
        for (uint32_t k = 0; k < s->nsegs; k++)
            n += sdb_seg_rows(s->segs[k]);
        for (uint32_t k = 0; k < s->nchunks; k++)
            n += s->chunks[k]->nrows;
        set_i64(&row[3], s->nsegs);
        set_i64(&row[4], (int64_t)n);
        sdb_db_snapshot_release(s);
    }
    return rc;
}

static sdb_rc unknown_table(sdb_db *db, const char *name, size_t len, sdb_pos pos, sdb_err *err)
{
    const sdb_catalog *cat = sdb_db_catalog(db);
    const char *near;
    const char **names;
    sdb_db_lock(db);
    names = calloc(cat->ntables + 1, sizeof *names);
    for (uint32_t i = 0; names != NULL && i < cat->ntables; i++)
        names[i] = cat->tables[i]->name;
    near = names ? sdb_suggest_name(name, len, names, cat->ntables) : NULL;
    if (near != NULL)
        SDB_FAIL(err, SDB_ERR_NOTFOUND, "unknown table '%.*s' at %u:%u (did you mean '%s'?)",
                 (int)len, name, pos.line, pos.col, near);
    else
        SDB_FAIL(err, SDB_ERR_NOTFOUND, "unknown table '%.*s' at %u:%u", (int)len, name, pos.line,
                 pos.col);
    free(names);
    sdb_db_unlock(db);
    return SDB_ERR_NOTFOUND;
}

static sdb_rc describe(sdb_db *db, const sdb_stmt *st, sdb_run_result *out, sdb_err *err)
{
    static const char *names[] = {"column", "type", "sort_key"};
    static const sdb_type types[] = {SDB_TYPE_STRING, SDB_TYPE_STRING, SDB_TYPE_BOOL};
    sdb_db_snapshot *s;
    rows rs;
    sdb_rc rc;
    if (sdb_db_snapshot_take(db, st->v.table.name.s, &s, NULL) != SDB_OK)
        return unknown_table(db, st->v.table.name.s, st->v.table.name.len, st->v.table.pos, err);
    rc = rows_new(&rs, 3, names, types, err);
    out->rows = rs.r;
    for (uint32_t i = 0; i < s->def->ncols && rc == SDB_OK; i++) {
        sdb_value *row = rows_add(&rs, err);
        bool key = false;
        if (row == NULL) {
            rc = SDB_ERR_NOMEM;
            break;
        }
        for (uint32_t k = 0; k < s->def->nsort; k++)
            key = key || s->def->sort_cols[k] == i;
        rc = set_str(&rs, &row[0], s->def->col_names[i], err);
        if (rc == SDB_OK)
            rc = set_str(&rs, &row[1], sdb_type_name(s->def->col_types[i]), err);
        set_bool(&row[2], key);
    }
    sdb_db_snapshot_release(s);
    return rc;
}

/* ---- CREATE, DROP ---- */

static sdb_rc create_table(sdb_db *db, const sdb_stmt *st, sdb_run_result *out, sdb_err *err)
{
    uint32_t n = st->v.create.ncols, ns = st->v.create.nsort;
    const char **cols = calloc(n + 1, sizeof *cols), **sort = calloc(ns + 1, sizeof *sort);
    sdb_type *types = calloc(n + 1, sizeof *types);
    sdb_part_unit unit = SDB_PART_DAY;
    sdb_rc rc;
    if (cols == NULL || sort == NULL || types == NULL) {
        rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        cols[i] = st->v.create.cols[i].name.s;
        types[i] = st->v.create.cols[i].type;
    }
    for (uint32_t i = 0; i < ns; i++)
        sort[i] = st->v.create.sort_key[i].s;
    if (st->v.create.partition == SDB_PARTITION_HOUR)
        unit = SDB_PART_HOUR;
    else if (st->v.create.partition == SDB_PARTITION_MONTH)
        unit = SDB_PART_MONTH;
    rc = sdb_db_create_table(db, st->v.create.name.s, cols, types, n, unit, sort, ns, err);
    if (rc == SDB_ERR_EXISTS && st->v.create.if_not_exists) {
        snprintf(out->message, sizeof out->message, "table '%s' exists", st->v.create.name.s);
        rc = SDB_OK;
    } else if (rc == SDB_OK) {
        snprintf(out->message, sizeof out->message, "created table '%s'", st->v.create.name.s);
    }
out:
    free(cols);
    free(sort);
    free(types);
    return rc;
}

static sdb_rc drop_table(sdb_db *db, const sdb_stmt *st, sdb_run_result *out, sdb_err *err)
{
    sdb_rc rc = sdb_db_drop_table(db, st->v.drop.name.s, err);
    if (rc == SDB_ERR_NOTFOUND && st->v.drop.if_exists) {
        snprintf(out->message, sizeof out->message, "table '%s' does not exist",
                 st->v.drop.name.s);
        return SDB_OK;
    }
    if (rc == SDB_ERR_NOTFOUND)
        return unknown_table(db, st->v.drop.name.s, st->v.drop.name.len, st->v.drop.pos, err);
    if (rc == SDB_OK)
        snprintf(out->message, sizeof out->message, "dropped table '%s'", st->v.drop.name.s);
    return rc;
}

/* ---- SELECT ---- */

/* Tighten [lo, hi] (inclusive) from `time <op> constant` conjuncts of where. */
static void time_bounds(const sdb_pexpr *e, uint32_t tcol, int64_t *lo, int64_t *hi)
{
    if (e == NULL)
        return;
    if (e->kind == SDB_PX_AND) {
        for (uint32_t i = 0; i < e->nargs; i++)
            time_bounds(e->args[i], tcol, lo, hi);
        return;
    }
    if (e->kind == SDB_PX_BETWEEN && !e->negate && e->args[0]->kind == SDB_PX_COL &&
        e->args[0]->col == tcol && e->args[1]->kind == SDB_PX_CONST && !e->args[1]->val.null &&
        e->args[2]->kind == SDB_PX_CONST && !e->args[2]->val.null &&
        e->args[1]->type == SDB_TYPE_TIMESTAMP && e->args[2]->type == SDB_TYPE_TIMESTAMP) {
        if (e->args[1]->val.u.i > *lo)
            *lo = e->args[1]->val.u.i;
        if (e->args[2]->val.u.i < *hi)
            *hi = e->args[2]->val.u.i;
        return;
    }
    if (e->kind >= SDB_PX_EQ && e->kind <= SDB_PX_GE && e->nargs == 2) {
        const sdb_pexpr *c = e->args[0], *k = e->args[1];
        sdb_pexpr_kind op = e->kind;
        int64_t v;
        if (k->kind == SDB_PX_COL) { /* constant <op> time: mirror it */
            const sdb_pexpr *t = c;
            c = k;
            k = t;
            op = op == SDB_PX_LT ? SDB_PX_GT : op == SDB_PX_LE ? SDB_PX_GE
                 : op == SDB_PX_GT ? SDB_PX_LT : op == SDB_PX_GE ? SDB_PX_LE : op;
        }
        if (c->kind != SDB_PX_COL || c->col != tcol || k->kind != SDB_PX_CONST || k->val.null ||
            k->type != SDB_TYPE_TIMESTAMP)
            return;
        v = k->val.u.i;
        switch (op) {
        case SDB_PX_EQ:
            if (v > *lo)
                *lo = v;
            if (v < *hi)
                *hi = v;
            break;
        case SDB_PX_GT:
            if (v == INT64_MAX)
                *lo = INT64_MAX, *hi = INT64_MIN;
            else if (v + 1 > *lo)
                *lo = v + 1;
            break;
        case SDB_PX_GE:
            if (v > *lo)
                *lo = v;
            break;
        case SDB_PX_LT:
            if (v == INT64_MIN)
                *lo = INT64_MAX, *hi = INT64_MIN;
            else if (v - 1 < *hi)
                *hi = v - 1;
            break;
        case SDB_PX_LE:
            if (v < *hi)
                *hi = v;
            break;
        default: break;
        }
    }
}

typedef struct explain_info {
    uint32_t partitions, partitions_skipped;
    uint32_t segments_pruned;
} explain_info;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Keep the segments whose time range meets [lo, hi]; count partitions either way. */
static sdb_rc prune_segments(const sdb_db_snapshot *s, int64_t lo, int64_t hi, sdb_seg **segs,
                             uint32_t *nsegs, explain_info *ei, sdb_err *err)
{
    int64_t *all = malloc((s->nsegs + 1) * sizeof *all), *kept = malloc((s->nsegs + 1) * sizeof *kept);
    uint32_t na = 0, nk = 0, n = 0;
    if (all == NULL || kept == NULL) {
        free(all);
        free(kept);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
    }
    for (uint32_t i = 0; i < s->nsegs; i++) {
        int64_t part = sdb_part_start(s->def->unit, s->seg_min_time[i]);
        all[na++] = part;
        if (s->seg_max_time[i] < lo || s->seg_min_time[i] > hi) {
            ei->segments_pruned++;
            continue;
        }
        kept[nk++] = part;
        segs[n++] = s->segs[i];
    }
    qsort(all, na, sizeof *all, cmp_i64);
    qsort(kept, nk, sizeof *kept, cmp_i64);
    for (uint32_t i = 0; i < na; i++)
        ei->partitions += i == 0 || all[i] != all[i - 1];
    {
        uint32_t distinct_kept = 0;
        for (uint32_t i = 0; i < nk; i++)
            distinct_kept += i == 0 || kept[i] != kept[i - 1];
        ei->partitions_skipped = ei->partitions - distinct_kept;
    }
    *nsegs = n;
    free(all);
    free(kept);
    return SDB_OK;
}

static sdb_rc explain_rows(const sdb_select *sel, const sdb_query_spec *spec,
                           const sdb_exec_stats *st, const explain_info *ei, double ms,
                           uint64_t mem_chunks, sdb_run_result *out, sdb_err *err)
{
    static const char *names[] = {"plan"};
    static const sdb_type types[] = {SDB_TYPE_STRING};
    char line[512];
    rows rs;
    sdb_buf b = SDB_BUF_INIT;
    sdb_rc rc = rows_new(&rs, 1, names, types, err);
    out->rows = rs.r;
#define LINE(...)                                                                                  \
    do {                                                                                           \
        sdb_value *row_;                                                                           \
        snprintf(line, sizeof line, __VA_ARGS__);                                                  \
        if (rc == SDB_OK && (row_ = rows_add(&rs, err)) == NULL)                                   \
            rc = SDB_ERR_NOMEM;                                                                    \
        if (rc == SDB_OK)                                                                          \
            rc = set_str(&rs, row_, line, err);                                                    \
    } while (0)
    LINE("scan %s: %u columns, %llu segments in %u partitions, %llu memtable chunks",
         sel->from.len ? sel->from.s : "(no table)", spec->snap->ncols,
         (unsigned long long)(st->segments + ei->segments_pruned), ei->partitions,
         (unsigned long long)mem_chunks);
    if (sel->where != NULL && sdb_ast_print_expr(sel->where, &b, NULL) == SDB_OK) {
        LINE("  filter: %.*s", (int)(b.len > 400 ? 400 : b.len), (const char *)b.data);
        b.len = 0;
    }
    if (spec->aggregate)
        LINE("  aggregate: %u group key%s, %u aggregate%s%s", spec->ngroup,
             spec->ngroup == 1 ? "" : "s", spec->naggs, spec->naggs == 1 ? "" : "s",
             st->dense_groups ? " (direct-indexed symbol groups)" : "");
    if (spec->having != NULL)
        LINE("  having");
    if (spec->norder > 0)
        LINE("  order by %u key%s%s", spec->norder, spec->norder == 1 ? "" : "s",
             spec->has_limit ? " (top-N heap)" : "");
    if (spec->has_limit)
        LINE("  limit %llu offset %llu", (unsigned long long)spec->limit,
             (unsigned long long)spec->offset);
    LINE("partitions: %u scanned, %u skipped by time", ei->partitions - ei->partitions_skipped,
         ei->partitions_skipped);
    LINE("segments: %llu scanned, %llu skipped (%u by time, %llu by dictionaries and statistics)",
         (unsigned long long)(st->segments - st->segments_skipped),
         (unsigned long long)(st->segments_skipped + ei->segments_pruned), ei->segments_pruned,
         (unsigned long long)st->segments_skipped);
    LINE("blocks: %llu scanned, %llu skipped by min/max and filters, %llu column blocks decoded",
         (unsigned long long)st->blocks, (unsigned long long)st->blocks_skipped,
         (unsigned long long)st->blocks_decoded);
    /* st->rows counts segment rows only */
    LINE("rows: %llu scanned (%llu in memtables), %llu skipped",
         (unsigned long long)(st->rows + st->mem_rows),
         (unsigned long long)st->mem_rows, (unsigned long long)st->rows_skipped);
    if (st->from_metadata)
        LINE("answered from block metadata: no block decoded");
    if (spec->aggregate)
        LINE("groups: %llu", (unsigned long long)st->groups);
    LINE("threads: %u, elapsed: %.3f ms", st->threads, ms);
#undef LINE
    sdb_buf_free(&b);
    return rc;
}

static sdb_rc run_select(sdb_db *db, const sdb_select *sel, bool explain, const sdb_run_opts *o,
                         sdb_run_result *out, sdb_err *err)
{
    sdb_db_snapshot *s = NULL;
    sdb_table_snap snap;
    sdb_qmem m;
    sdb_query_spec spec;
    sdb_plan_opts po;
    sdb_seg **segs = NULL;
    uint32_t nsegs = 0;
    explain_info ei;
    sdb_batch one;          /* SELECT without FROM: one row, no columns */
    const sdb_batch *onep = &one;
    sdb_result *res = NULL;
    double t0 = now_ms();
    sdb_rc rc;

    memset(&snap, 0, sizeof snap);
    memset(&ei, 0, sizeof ei);
    sdb_batch_init(&one);
    one.nrows = 1;
    if (sel->from.len > 0) {
        if (sdb_db_snapshot_take(db, sel->from.s, &s, NULL) != SDB_OK)
            return unknown_table(db, sel->from.s, sel->from.len, sel->from_pos, err);
        snap.table = s->def->name;
        snap.ncols = s->def->ncols;
        snap.names = (const char *const *)s->def->col_names;
        snap.types = s->def->col_types;
        snap.nmems = s->nchunks;
        snap.mems = s->chunks;
    } else {
        snap.table = "";
        snap.nmems = 1;
        snap.mems = &onep;
    }
    if ((rc = sdb_qmem_init(&m, o->query_memory ? o->query_memory : SDB_QUERY_MEMORY_DEFAULT,
                            err)) != SDB_OK) {
        sdb_db_snapshot_release(s);
        return rc;
    }
    memset(&po, 0, sizeof po);
    po.now_ns = o->now_ns;
    po.threads = o->threads;
    po.cancel = o->cancel;
    rc = sdb_plan_select(&m, sel, &snap, &po, &spec, err);
    if (rc == SDB_OK && s != NULL) {
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        int tcol = -1;
        for (uint32_t i = 0; i < snap.ncols; i++)
            if (strcmp(snap.names[i], "time") == 0)
                tcol = (int)i;
        if (tcol >= 0)
            time_bounds(spec.where, (uint32_t)tcol, &lo, &hi);
        if ((segs = calloc(s->nsegs + 1, sizeof *segs)) == NULL)
            rc = SDB_FAIL(err, SDB_ERR_NOMEM, "no memory");
        else
            rc = prune_segments(s, lo, hi, segs, &nsegs, &ei, err);
        snap.nsegs = nsegs;
        snap.segs = segs;
    }
    if (rc == SDB_OK)
        rc = sdb_exec_run(&m, &spec, &res, &out->stats, err);
    out->elapsed_ms = now_ms() - t0;
    if (rc == SDB_OK && explain) {
        sdb_result_destroy(res);
        res = NULL;
        rc = explain_rows(sel, &spec, &out->stats, &ei, out->elapsed_ms, snap.nmems, out, err);
    } else if (rc == SDB_OK) {
        out->rows = res;
    }
    free(segs);
    sdb_qmem_free(&m);
    sdb_db_snapshot_release(s);
    return rc;
}

sdb_rc sdb_run_sql(sdb_db *db, const char *sql, size_t len, const sdb_run_opts *opts,
                   sdb_run_result *out, sdb_err *err)
{
    sdb_arena *a = sdb_arena_create(16u << 20);
    sdb_run_opts o;
    sdb_stmt *st;
    sdb_pos pos;
    double t0 = now_ms();
    sdb_rc rc;
    memset(out, 0, sizeof *out);
    if (a == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory to parse");
    if (opts != NULL)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    if (o.now_ns == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o.now_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    rc = sdb_parse(a, sql, len, &st, &pos, err);
    if (rc == SDB_OK) {
        switch (st->kind) {
        case SDB_STMT_SELECT: rc = run_select(db, st->v.select, false, &o, out, err); break;
        case SDB_STMT_EXPLAIN: rc = run_select(db, st->v.explain.select, true, &o, out, err); break;
        case SDB_STMT_SHOW_TABLES: rc = show_tables(db, out, err); break;
        case SDB_STMT_DESCRIBE: rc = describe(db, st, out, err); break;
        case SDB_STMT_CREATE_TABLE: rc = create_table(db, st, out, err); break;
        case SDB_STMT_DROP_TABLE: rc = drop_table(db, st, out, err); break;
        default: rc = SDB_FAIL(err, SDB_ERR_MISUSE, "statement not supported"); break;
        }
    }
    if (out->elapsed_ms == 0)
        out->elapsed_ms = now_ms() - t0;
    if (rc != SDB_OK)
        sdb_run_result_free(out);
    sdb_arena_destroy(a);
    return rc;
}

void sdb_run_result_free(sdb_run_result *r)
{
    sdb_result_destroy(r->rows);
    r->rows = NULL;
}

bool sdb_run_sql_writes(const char *sql, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)sql[i]))
        i++;
    return (len - i >= 6 && strncasecmp(sql + i, "create", 6) == 0) ||
           (len - i >= 4 && strncasecmp(sql + i, "drop", 4) == 0);
}
