/* Ingest glue between the line-protocol parser and the database. */
#include "engine/ingest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sdb_ingest {
    sdb_db *db;
    sdb_ilp *p;
    sdb_ingest_opts o;
    uint64_t written;
};

/* The catalog's type of table.column, so the parser can reject a conflicting line alone. */
static bool resolve(void *ctx, const char *table, const char *column, sdb_type *type)
{
    sdb_ingest *in = ctx;
    const sdb_table_def *t;
    bool found = false;
    sdb_db_lock(in->db);
    t = sdb_catalog_find(sdb_db_catalog(in->db), in->o.table ? in->o.table : table,
                         strlen(in->o.table ? in->o.table : table));
    if (t != NULL) {
        int c = sdb_table_find_col(t, column, strlen(column));
        if (c >= 0) {
            *type = t->col_types[c];
            found = true;
        }
    }
    sdb_db_unlock(in->db);
    return found;
}

sdb_rc sdb_ingest_create(sdb_db *db, const sdb_ingest_opts *opts, sdb_ingest **out, sdb_err *err)
{
    sdb_ingest *in = calloc(1, sizeof *in);
    sdb_ilp_opts po;
    sdb_rc rc;
    *out = NULL;
    if (in == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for ingest");
    in->db = db;
    if (opts != NULL)
        in->o = *opts;
    if (in->o.batch_rows == 0)
        in->o.batch_rows = 65536;
    if (in->o.now_ns == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        in->o.now_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    memset(&po, 0, sizeof po);
    po.precision = in->o.precision;
    po.now_ns = in->o.now_ns;
    po.max_line = in->o.max_line;
    po.on_reject = in->o.on_reject;
    po.reject_ctx = in->o.reject_ctx;
    po.resolve = resolve;
    po.resolve_ctx = in;
    if ((rc = sdb_ilp_create(&po, &in->p, err)) != SDB_OK) {
        free(in);
        return rc;
    }
    *out = in;
    return SDB_OK;
}

void sdb_ingest_destroy(sdb_ingest *in)
{
    if (in == NULL)
        return;
    sdb_ilp_destroy(in->p);
    free(in);
}

sdb_rc sdb_ingest_commit(sdb_ingest *in, sdb_err *err)
{
    sdb_ilp_table *tables;
    uint32_t n;
    sdb_rc rc = SDB_OK;
    if (sdb_ilp_pending(in->p) == 0)
        return SDB_OK;
    SDB_TRY(sdb_ilp_take(in->p, &tables, &n, err));
    for (uint32_t i = 0; i < n && rc == SDB_OK; i++) {
        uint64_t rows = tables[i].batch.nrows;
        rc = sdb_db_write_owned(in->db, in->o.table ? in->o.table : tables[i].name,
                                &tables[i].batch, err);
        if (rc == SDB_OK)
            in->written += rows;
    }
    sdb_ilp_tables_free(tables, n);
    return rc;
}

sdb_rc sdb_ingest_feed(sdb_ingest *in, const void *data, size_t len, sdb_err *err)
{
    SDB_TRY(sdb_ilp_feed(in->p, data, len, err));
    if (sdb_ilp_pending(in->p) >= in->o.batch_rows)
        return sdb_ingest_commit(in, err);
    return SDB_OK;
}

sdb_rc sdb_ingest_finish(sdb_ingest *in, sdb_err *err)
{
    SDB_TRY(sdb_ilp_finish(in->p, err));
    return sdb_ingest_commit(in, err);
}

void sdb_ingest_discard(sdb_ingest *in)
{
    sdb_ilp_table *tables;
    uint32_t n;
    if (sdb_ilp_take(in->p, &tables, &n, NULL) == SDB_OK)
        sdb_ilp_tables_free(tables, n);
}

sdb_ingest_stats sdb_ingest_get_stats(const sdb_ingest *in)
{
    sdb_ilp_stats s = sdb_ilp_get_stats(in->p);
    sdb_ingest_stats r = {s.lines, s.rows, s.rejected, s.bytes, in->written};
    return r;
}
