/* Internals of the physical query (exec.h) shared by its files:
 *   exec.c       - run: prepare, workers, ordered merge of per-morsel partials
 *   exec_scan.c  - pruning predicates, block and segment pruning, morsels, decoding a morsel
 *                  into vectors, filtering (split off from exec.c)
 *   exec_agg.c   - group keys (dense global symbol codes or serialized keys), partial
 *                  aggregation, merge, finalize, output expressions and having, metadata
 *   exec_sort.c  - projection rows, result rows, top-N heap, sort, offset and limit */
#ifndef SDB_QUERY_EXEC_INT_H
#define SDB_QUERY_EXEC_INT_H

#include <stdatomic.h>
#include <pthread.h>

#include "query/exec.h"
#include "query/hashtable.h"
#include "storage/common/buf.h"

#define MEM_MORSEL  65536u
#define DENSE_MAX   65536u

/* A where conjunct that block statistics can refute. */
typedef enum pkind {
    P_CMP,      /* col <op> number */
    P_IN,       /* col IN (numbers) */
    P_BETWEEN,  /* col BETWEEN lo AND hi */
    P_ISNULL,
    P_NOTNULL,
    P_SYM,      /* symbol col = / IN strings: dictionary, then block code range */
    P_STR,      /* string col = / IN strings: block bloom filters */
} pkind;

typedef struct pred {
    pkind kind;
    uint32_t col;           /* table column */
    sdb_pexpr_kind op;      /* P_CMP */
    sdb_type ctype;         /* constant class: INT64 or FLOAT64 for numbers */
    sdb_value lo, hi;       /* P_CMP: lo; P_BETWEEN: lo, hi */
    uint32_t nlist;         /* items at list */
    const sdb_value *list;  /* P_IN, P_SYM, P_STR (non-NULL items) */
} pred;

/* One unit of parallel work. */
typedef struct morsel {
    uint32_t unit;          /* segment index, or nsegs + memtable index */
    uint32_t blk;           /* block (segment) or 65,536-row slice (memtable) */
    uint32_t rows;          /* 1..65536 */
} morsel;

typedef struct keyinfo {
    bool sym;               /* a bare symbol column: grouped by global code */
    uint32_t col;           /* table column (sym) */
    sdb_symdict *gdict;     /* global strings of the key (sym); malloc'ed, freed at the end */
    uint32_t **map;         /* per unit: local code -> global code (sym) */
    int32_t strcol;         /* a bare string column: its table column (grouped by block
                               dictionary codes where a block has them), else -1 */
    uint32_t nullid;        /* global code of NULL = number of strings */
    sdb_type type;          /* output type (symbol keys: string) */
} keyinfo;

/* What one morsel produced, waiting for its turn to merge. */
typedef struct partial {
    sdb_arena *arena;       /* owns everything below; charged to the budget */
    sdb_gtab tab;           /* aggregate: the morsel's groups */
    sdb_value *rows;        /* project: nrows * nout values */
    uint64_t nrows, cap;    /* rows held / allocated */
    bool heaped;            /* ORDER BY ... LIMIT: rows form a top-N heap, not arrival order */
    uint64_t *pseq;         /* heaped: arrival number of each row within the morsel */
    uint64_t parrived;      /* heaped: rows offered */
} partial;

typedef struct qctx {
    sdb_qmem *m;                  /* the query's memory */
    const sdb_query_spec *sp;     /* borrowed */
    const sdb_table_snap *snap;   /* sp->snap */
    uint32_t ncols, nunits;       /* table columns; segments + memtables */
    bool *need, *need_filter;     /* per column: used by the query / by the where clause */
    int32_t *segcol;              /* [unit * ncols + col]: column index in the unit, or -1 */
    sdb_dict *dicts;              /* [unit * ncols + col] for symbol columns */
    bool *need_out;               /* per column: used outside the where clause */
    uint32_t nconj;               /* where conjuncts */
    sdb_prog **conj;              /* compiled, applied in order */
    int32_t *conj_pred;           /* per conjunct: the pruning predicate it is, or -1 */
    bool *conj_cols;              /* [k * ncols + col]: conjunct k reads col */
    uint32_t npreds;              /* pruning predicates */
    pred *preds;
    morsel *ms;                   /* morsels that survived pruning, in scan order */
    uint32_t nms;
    /* aggregate */
    bool agg;                     /* aggregate (else project) */
    uint32_t ngroup, naggs;
    keyinfo *keys;                /* ngroup */
    sdb_prog **gprog, **aprog;    /* key programs (NULL for sym keys); aggregate arguments */
    sdb_aggdef *adefs;            /* naggs, with state offsets */
    uint32_t stride;              /* state bytes per group */
    uint32_t dense_n;             /* > 0: dense mode over this many key combinations */
    /* projection */
    uint32_t nout;                /* output expressions */
    sdb_prog **oprog;             /* compiled (projection only) */
    /* merge */
    pthread_mutex_t mx;           /* guards pending, next, merging, failed, ferr */
    bool merging;                 /* a thread is merging: it alone touches global and res */
    pthread_cond_t advance;       /* signalled when `next` moves or the query fails */
    uint32_t window;              /* morsels a worker may run ahead of `next` */
    partial **pending;            /* nms slots: finished, not yet merged */
    uint32_t next;                /* the next morsel to merge */
    sdb_gtab global;              /* aggregate: the merged groups */
    sdb_result *res;              /* result rows accumulate here */
    uint64_t res_cap;             /* rows allocated in res */
    uint64_t *seq;                /* arrival number of each result row (stable sort, heap) */
    uint64_t arrived;             /* rows offered so far */
    uint64_t keep;                /* offset + limit, UINT64_MAX: all */
    atomic_bool done;             /* enough rows: stop taking morsels */
    /* run */
    atomic_uint next_morsel;      /* the next morsel to hand out */
    atomic_bool stop;             /* a worker failed */
    bool failed;                  /* ferr holds the first error */
    sdb_err ferr;
    atomic_uint_fast64_t blocks, blocks_decoded, rows, mem_rows; /* for sdb_exec_stats */
} qctx;

typedef struct worker {
    qctx *q;
    sdb_arena *arena;             /* the worker's scratch, charged to the budget */
    sdb_seg_blockbuf *bb;         /* per table column */
    bool *decoded;                /* per table column: decoded for the current morsel */
    sdb_vec *cols;                /* per table column: the current vector */
    sdb_str **strs;               /* per string column: SDB_VEC_SIZE */
    uint64_t *vbuf;               /* per table column: SDB_VEC_WORDS validity words */
    uint32_t *sels;               /* per vector of the morsel: SDB_VEC_SIZE selected rows */
    uint32_t *nsels;              /* per vector of the morsel: rows selected */
    uint32_t *tmpsel;             /* SDB_VEC_SIZE: filter output */
    bool *skip;                   /* per conjunct: true of every row of the current morsel */
    sdb_prog_state **conj, **gst, **ast, **ost; /* states of conj, gprog, aprog, oprog */
    uint32_t gids[SDB_VEC_SIZE];  /* group of each selected row */
    uint8_t *rows[SDB_VEC_SIZE];  /* its state row */
    uint32_t last_groups;         /* groups of the worker's last partial (hash mode sizing) */
    uint32_t last_set;            /* largest distinct set of its last partial (set sizing) */
    sdb_buf keys;                 /* serialized group keys of the vector's selected rows */
    size_t koff[SDB_VEC_SIZE + 1];   /* row j's key: keys.data[koff[j] .. koff[j + 1]) */
    uint64_t khash[SDB_VEC_SIZE]; /* row j's key hash; unused when same[j] */
    /* one string key over dictionary-encoded blocks: the morsel's group of each block code */
    uint32_t *cgid;               /* SDB_BLOCK_ROWS: block code -> group id + 1 (0: not yet);
                                     NULL when the query has no such key */
    uint32_t cnull;               /* group id + 1 of the NULL key (0: not yet) */
    bool cfresh;                  /* cgid and cnull hold nothing of the current morsel */
    uint32_t cpend[SDB_VEC_SIZE]; /* the vector's rows (j) of codes new to the morsel */
    uint32_t vstart;              /* first morsel row of the vector being aggregated */
    /* count(DISTINCT string column) over dictionary-encoded blocks: rows whose code already
       went into their group's set in this morsel are left out */
    uint32_t **dlast;             /* per aggregate: SDB_BLOCK_ROWS: block code -> group id + 1
                                     of its last insert (0: none), or NULL; NULL when none */
    bool *dfresh;                 /* per aggregate: dlast holds nothing of the current morsel */
    uint32_t dsel[SDB_VEC_SIZE];  /* the rows kept */
    uint8_t *drows[SDB_VEC_SIZE]; /* their state rows */
    uint8_t same[SDB_VEC_SIZE];   /* row j's key equals row j - 1's */
} worker;

/* The type a group key has in the aggregation output. */
static inline sdb_type sdb_exec_key_type(sdb_type t)
{
    return t == SDB_TYPE_SYMBOL ? SDB_TYPE_STRING : t;
}

/* exec.c */
void sdb_exec_fail(qctx *q, const sdb_err *e);
bool sdb_exec_stopping(qctx *q);
/* exec_scan.c: pruning, morsels, decoding */
sdb_rc sdb_exec_extract(qctx *q, const sdb_pexpr *e, sdb_err *err);
sdb_rc sdb_exec_split_conj(qctx *q, const sdb_pexpr *e, sdb_err *err);
sdb_rc sdb_exec_map_columns(qctx *q, sdb_err *err);
sdb_rc sdb_exec_plan_morsels(qctx *q, sdb_exec_stats *st, sdb_err *err);
sdb_rc sdb_exec_run_morsel(worker *w, uint32_t mi, partial *pt, sdb_err *err);
/* exec_agg.c: group keys, partial aggregation, merge, finalize, metadata answers */
sdb_rc sdb_exec_key_space(qctx *q, keyinfo *k, sdb_err *err);
void sdb_exec_free_keys(qctx *q);
sdb_rc sdb_exec_consume_agg(worker *w, partial *pt, const morsel *mo, const sdb_chunk *ch,
                            const uint32_t *sel, uint32_t n, sdb_err *err);
sdb_rc sdb_exec_merge_groups(qctx *q, partial *pt, sdb_err *err);
sdb_rc sdb_exec_group_row(qctx *q, uint32_t g, sdb_value *row, sdb_err *err);
sdb_rc sdb_exec_post_aggregate(qctx *q, const sdb_value *rows, uint64_t nrows, sdb_err *err);
bool sdb_exec_metadata_ok(qctx *q);
sdb_rc sdb_exec_metadata(qctx *q, sdb_exec_stats *st, sdb_err *err);
/* exec_sort.c: projection rows, result rows, top-N heap, sort, offset/limit */
sdb_rc sdb_exec_copy_str(sdb_qmem *m, sdb_arena *a, sdb_value *v, sdb_err *err);
void sdb_exec_vec_value(const sdb_vec *v, uint32_t i, sdb_value *out);
sdb_rc sdb_exec_consume_project(worker *w, partial *pt, const sdb_chunk *ch, const uint32_t *sel,
                                uint32_t n, sdb_err *err);
sdb_rc sdb_exec_result_push(qctx *q, const sdb_value *row, sdb_err *err);
sdb_rc sdb_exec_push_partial(qctx *q, partial *pt, sdb_err *err);
sdb_rc sdb_exec_finish(qctx *q, sdb_err *err);

#endif
