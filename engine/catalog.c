/* Catalog storage. File layout (little-endian):
 *   8  magic "SDBCATLG"     4  version (1)     4  ntables
 *   per table: 2 name length, name, 1 partition unit, 4 ncols,
 *              per column: 2 name length, name, 1 type;
 *              4 nsort, nsort x 4 column index
 *   8  XXH3-64 of everything before
 * Everything read is checked; a bad file is an error naming it, never a crash. */
#include "engine/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "storage/common/buf.h"
#include "storage/common/cursor.h"
#include "storage/common/endian.h"
#include "storage/common/hash.h"
#include "storage/fileio.h"

#define CAT_MAGIC "SDBCATLG"
#define CAT_VERSION 1u
#define CAT_MAX_BYTES (64u << 20)

sdb_catalog *sdb_catalog_create(void)
{
    return calloc(1, sizeof(sdb_catalog));
}

static void table_free(sdb_table_def *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->ncols; i++)
        free(t->col_names[i]);
    free(t->col_names);
    free(t->col_types);
    free(t->name);
    free(t);
}

void sdb_catalog_destroy(sdb_catalog *c)
{
    if (c == NULL)
        return;
    for (uint32_t i = 0; i < c->ntables; i++)
        table_free(c->tables[i]);
    free(c->tables);
    free(c);
}

sdb_table_def *sdb_catalog_find(const sdb_catalog *c, const char *name, size_t len)
{
    for (uint32_t i = 0; i < c->ntables; i++)
        if (strlen(c->tables[i]->name) == len && memcmp(c->tables[i]->name, name, len) == 0)
            return c->tables[i];
    return NULL;
}

int sdb_table_find_col(const sdb_table_def *t, const char *name, size_t len)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strncmp(t->col_names[i], name, len) == 0 && t->col_names[i][len] == '\0')
            return (int)i;
    return -1;
}

bool sdb_type_assignable(sdb_type to, sdb_type from)
{
    return to == from || (to == SDB_TYPE_FLOAT64 && from == SDB_TYPE_INT64) ||
           (to == SDB_TYPE_SYMBOL && from == SDB_TYPE_STRING) ||
           (to == SDB_TYPE_STRING && from == SDB_TYPE_SYMBOL);
}

sdb_rc sdb_table_add_col(sdb_table_def *t, const char *name, size_t len, sdb_type type,
                         sdb_err *err)
{
    char *copy;
    if (len == 0 || len > UINT16_MAX || memchr(name, '\0', len) != NULL)
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "table '%s': invalid column name of %zu bytes",
                        t->name, len);
    if (sdb_table_find_col(t, name, len) >= 0)
        return SDB_FAIL(err, SDB_ERR_EXISTS, "table '%s' already has a column '%.*s'", t->name,
                        (int)len, name);
    if (t->ncols >= SDB_MAX_COLUMNS)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "table '%s' has the maximum of %u columns", t->name,
                        SDB_MAX_COLUMNS);
    if (t->ncols == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        char **names = realloc(t->col_names, cap * sizeof *names);
        if (names == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for columns");
        t->col_names = names;
        sdb_type *types = realloc(t->col_types, cap * sizeof *types);
        if (types == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for columns");
        t->col_types = types;
        t->cap = cap;
    }
    if ((copy = malloc(len + 1)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a column name");
    memcpy(copy, name, len);
    copy[len] = '\0';
    t->col_names[t->ncols] = copy;
    t->col_types[t->ncols] = type;
    t->ncols++;
    return SDB_OK;
}

sdb_rc sdb_table_set_sort(sdb_table_def *t, const char *const *names, uint32_t n, sdb_err *err)
{
    uint32_t cols[SDB_MAX_SORT_COLS];
    if (n == 0 || n > SDB_MAX_SORT_COLS)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "a sort key has 1 to %u columns", SDB_MAX_SORT_COLS);
    for (uint32_t i = 0; i < n; i++) {
        int c = sdb_table_find_col(t, names[i], strlen(names[i]));
        if (c < 0)
            return SDB_FAIL(err, SDB_ERR_SCHEMA, "table '%s' has no column '%s' to sort by",
                            t->name, names[i]);
        cols[i] = (uint32_t)c;
    }
    memcpy(t->sort_cols, cols, n * sizeof cols[0]);
    t->nsort = n;
    return SDB_OK;
}

static sdb_rc push_table(sdb_catalog *c, sdb_table_def *t, sdb_err *err)
{
    if (c->ntables == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        sdb_table_def **tables = realloc(c->tables, cap * sizeof *tables);
        if (tables == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for tables");
        c->tables = tables;
        c->cap = cap;
    }
    c->tables[c->ntables++] = t;
    return SDB_OK;
}

static sdb_table_def *table_new(const char *name, size_t len, sdb_part_unit unit)
{
    sdb_table_def *t = calloc(1, sizeof *t);
    if (t == NULL || (t->name = malloc(len + 1)) == NULL) {
        free(t);
        return NULL;
    }
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->unit = unit;
    return t;
}

sdb_rc sdb_catalog_add_table(sdb_catalog *c, const char *name, size_t len, sdb_part_unit unit,
                             sdb_table_def **out, sdb_err *err)
{
    sdb_table_def *t;
    sdb_rc rc;
    if (len == 0 || len > UINT16_MAX || memchr(name, '\0', len) != NULL)
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "invalid table name of %zu bytes", len);
    if (sdb_catalog_find(c, name, len) != NULL)
        return SDB_FAIL(err, SDB_ERR_EXISTS, "table '%.*s' already exists", (int)len, name);
    if (c->ntables >= SDB_MAX_TABLES)
        return SDB_FAIL(err, SDB_ERR_LIMIT, "the maximum of %u tables is reached", SDB_MAX_TABLES);
    if ((t = table_new(name, len, unit)) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a table");
    rc = sdb_table_add_col(t, "time", 4, SDB_TYPE_TIMESTAMP, err);
    if (rc == SDB_OK) {
        t->nsort = 1;
        t->sort_cols[0] = 0;
        rc = push_table(c, t, err);
    }
    if (rc != SDB_OK) {
        table_free(t);
        return rc;
    }
    if (out != NULL)
        *out = t;
    return SDB_OK;
}

sdb_rc sdb_catalog_drop_table(sdb_catalog *c, const char *name, sdb_err *err)
{
    for (uint32_t i = 0; i < c->ntables; i++)
        if (strcmp(c->tables[i]->name, name) == 0) {
            table_free(c->tables[i]);
            memmove(&c->tables[i], &c->tables[i + 1], (c->ntables - i - 1) * sizeof *c->tables);
            c->ntables--;
            return SDB_OK;
        }
    return SDB_FAIL(err, SDB_ERR_NOTFOUND, "table '%s' does not exist", name);
}

static sdb_rc put_name(sdb_buf *b, const char *s, sdb_err *err)
{
    size_t n = strlen(s);
    SDB_TRY(sdb_buf_put_le16(b, (uint16_t)n, err));
    return sdb_buf_append(b, s, n, err);
}

sdb_rc sdb_catalog_save(const sdb_catalog *c, const char *dir, sdb_err *err)
{
    sdb_buf b = SDB_BUF_INIT;
    sdb_rc rc = sdb_buf_append(&b, CAT_MAGIC, 8, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le32(&b, CAT_VERSION, err);
    if (rc == SDB_OK)
        rc = sdb_buf_put_le32(&b, c->ntables, err);
    for (uint32_t i = 0; i < c->ntables && rc == SDB_OK; i++) {
        const sdb_table_def *t = c->tables[i];
        rc = put_name(&b, t->name, err);
        if (rc == SDB_OK)
            rc = sdb_buf_put_u8(&b, (uint8_t)t->unit, err);
        if (rc == SDB_OK)
            rc = sdb_buf_put_le32(&b, t->ncols, err);
        for (uint32_t k = 0; k < t->ncols && rc == SDB_OK; k++) {
            rc = put_name(&b, t->col_names[k], err);
            if (rc == SDB_OK)
                rc = sdb_buf_put_u8(&b, (uint8_t)t->col_types[k], err);
        }
        if (rc == SDB_OK)
            rc = sdb_buf_put_le32(&b, t->nsort, err);
        for (uint32_t k = 0; k < t->nsort && rc == SDB_OK; k++)
            rc = sdb_buf_put_le32(&b, t->sort_cols[k], err);
    }
    if (rc == SDB_OK)
        rc = sdb_buf_put_le64(&b, sdb_hash64(b.data, b.len), err);
    if (rc == SDB_OK)
        rc = sdb_file_write_atomic(dir, SDB_CATALOG_FILE, b.data, b.len, err);
    sdb_buf_free(&b);
    return rc;
}

sdb_rc sdb_catalog_decode(const void *data, size_t len, const char *name, sdb_catalog **out,
                          sdb_err *err)
{
    const uint8_t *d = data;
    sdb_catalog *c;
    sdb_cursor r;
    uint32_t n;
    sdb_rc rc = SDB_OK;
    *out = NULL;
    if (len < 24 || memcmp(d, CAT_MAGIC, 8) != 0)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: not a spandb catalog", name);
    if (sdb_hash64(d, len - 8) != sdb_get_le64(d + len - 8))
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: checksum mismatch", name);
    if (sdb_get_le32(d + 8) != CAT_VERSION)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: catalog version %u, this build reads %u", name,
                        sdb_get_le32(d + 8), CAT_VERSION);
    if ((c = sdb_catalog_create()) == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the catalog");
    r = sdb_cursor_make(d + 12, len - 20);
    n = sdb_cur_u32(&r);
    if (n > SDB_MAX_TABLES)
        r.bad = true;
    for (uint32_t i = 0; i < n && !r.bad && rc == SDB_OK; i++) {
        uint16_t nl = sdb_cur_u16(&r);
        const uint8_t *nm = sdb_cur_take(&r, nl);
        sdb_part_unit unit = (sdb_part_unit)sdb_cur_u8(&r);
        uint32_t ncols = sdb_cur_u32(&r);
        sdb_table_def *t;
        if (r.bad || unit < SDB_PART_HOUR || unit > SDB_PART_MONTH || ncols == 0 ||
            ncols > SDB_MAX_COLUMNS) {
            r.bad = true;
            break;
        }
        if ((rc = sdb_catalog_add_table(c, (const char *)nm, nl, unit, &t, err)) != SDB_OK)
            break;
        for (uint32_t k = 0; k < ncols && !r.bad && rc == SDB_OK; k++) {
            uint16_t cl = sdb_cur_u16(&r);
            const uint8_t *cn = sdb_cur_take(&r, cl);
            uint8_t type = sdb_cur_u8(&r);
            if (r.bad || !sdb_type_valid(type))
                r.bad = true;
            else if (k == 0 && !(cl == 4 && memcmp(cn, "time", 4) == 0 && type == SDB_TYPE_TIMESTAMP))
                r.bad = true;
            else if (k > 0)
                rc = sdb_table_add_col(t, (const char *)cn, cl, (sdb_type)type, err);
        }
        t->nsort = sdb_cur_u32(&r);
        if (t->nsort == 0 || t->nsort > SDB_MAX_SORT_COLS)
            r.bad = true;
        for (uint32_t k = 0; k < t->nsort && !r.bad; k++) {
            t->sort_cols[k] = sdb_cur_u32(&r);
            if (t->sort_cols[k] >= t->ncols)
                r.bad = true;
        }
    }
    if (rc == SDB_OK && (r.bad || r.p != r.end))
        rc = SDB_FAIL(err, SDB_ERR_CORRUPT, "%s: malformed catalog", name);
    if (rc != SDB_OK) {
        if (rc != SDB_ERR_CORRUPT && rc != SDB_ERR_NOMEM) {
            sdb_err_prefix(err, "%s: ", name);
            rc = err ? (err->code = SDB_ERR_CORRUPT) : SDB_ERR_CORRUPT;
        }
        sdb_catalog_destroy(c);
        return rc;
    }
    *out = c;
    return SDB_OK;
}

sdb_rc sdb_catalog_load(const char *dir, sdb_catalog **out, sdb_err *err)
{
    char path[SDB_PATH_MAX];
    sdb_buf b = SDB_BUF_INIT;
    sdb_rc rc;
    SDB_TRY(sdb_file_join(path, dir, SDB_CATALOG_FILE, err));
    rc = sdb_file_read_all(path, CAT_MAX_BYTES, &b, err);
    if (rc == SDB_ERR_NOTFOUND) {
        *out = sdb_catalog_create();
        return *out ? SDB_OK : SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the catalog");
    }
    if (rc == SDB_OK)
        rc = sdb_catalog_decode(b.data, b.len, path, out, err);
    sdb_buf_free(&b);
    return rc;
}
