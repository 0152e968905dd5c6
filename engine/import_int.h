/* Internals shared by the importers (engine/import_*.c) and engine/import.c: a format maps
 * each record of its input onto an sdb_irec (canonical span columns plus extra attributes)
 * or an sdb_iscore and hands it to sdb_import_span / sdb_import_score, which validate it,
 * skip duplicates, fill the cost and append it to the table's batch. */
#ifndef SDB_ENGINE_IMPORT_INT_H
#define SDB_ENGINE_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/import.h"
#include "engine/jtree.h"
#include "engine/spans.h"
#include "storage/common/buf.h"

#define SDB_IREC_MAX_EXTRA 128

typedef enum sdb_ival_kind { SDB_IV_STR, SDB_IV_INT, SDB_IV_F64, SDB_IV_BOOL } sdb_ival_kind;

typedef struct sdb_iextra {
    const char *key;      /* attribute name as in the input (borrowed) */
    size_t keylen;
    sdb_ival_kind kind;
    const char *s;        /* STR (borrowed) */
    size_t len;
    int64_t i;            /* INT */
    double f;             /* F64 */
    bool b;               /* BOOL */
} sdb_iextra;

/* One span on its way into the batch. Strings are borrowed from the input until
 * sdb_import_span returns. */
typedef struct sdb_irec {
    uint64_t line;                   /* input line of the record, for rejects */
    uint32_t has;                    /* bit c set = canonical column c has a value */
    int64_t i[SDB_SPANS_NCOLS];      /* TIMESTAMP, INT64 */
    double f[SDB_SPANS_NCOLS];       /* FLOAT64 */
    bool b[SDB_SPANS_NCOLS];         /* BOOL */
    const char *s[SDB_SPANS_NCOLS];  /* STRING, SYMBOL */
    size_t len[SDB_SPANS_NCOLS];
    uint32_t nextra;
    sdb_iextra extra[SDB_IREC_MAX_EXTRA];
    char scratch[512];               /* values the format composes (endpoint host:port) */
    size_t scratch_used;
    uint64_t id_hash;                /* hash of span_id, when id_hashed */
    bool id_hashed;                  /* set by sdb_import_span_id_hint */
} sdb_irec;

/* One row of table `scores`. */
typedef struct sdb_iscore {
    uint64_t line;
    int64_t time;            /* required */
    const char *trace_id, *span_id, *session_id, *name, *label, *source, *target, *comment, *id;
    double value;
    bool has_value;
} sdb_iscore;

/* (end - start) ns in milliseconds, without overflowing on absurd inputs. */
static inline double sdb_import_ms(int64_t end, int64_t start)
{
    int64_t d;
    if (__builtin_sub_overflow(end, start, &d))
        return (double)end / 1e6 - (double)start / 1e6;
    return (double)d / 1e6;
}

static inline bool sdb_irec_has(const sdb_irec *r, int c)
{
    return (r->has >> c) & 1u;
}

void sdb_irec_reset(sdb_irec *r, uint64_t line);
void sdb_irec_str(sdb_irec *r, int c, const char *s, size_t len); /* NULL s: left unset */
void sdb_irec_i64(sdb_irec *r, int c, int64_t v);
void sdb_irec_f64(sdb_irec *r, int c, double v);
void sdb_irec_bool(sdb_irec *r, int c, bool v);
/* Extra attributes beyond SDB_IREC_MAX_EXTRA are dropped. */
sdb_iextra *sdb_irec_extra(sdb_irec *r, const char *key, size_t keylen, sdb_ival_kind kind);

/* The span_id of r is set and final: hash it and warm the dedup set's cache line for it, so
 * that sdb_import_span finds it in cache (optional; a speed-up for large imports). */
void sdb_import_span_id_hint(sdb_import *im, sdb_irec *r);
/* Append the span (or reject it: missing span_id or time, time out of range). */
sdb_rc sdb_import_span(sdb_import *im, sdb_irec *r, sdb_err *err);
sdb_rc sdb_import_score(sdb_import *im, const sdb_iscore *s, sdb_err *err);
/* A hallucination verdict for span_id from an evaluation: spans imported later in the same
 * import get it in their hallucination column. */
sdb_rc sdb_import_note_hallucination(sdb_import *im, const char *span_id, size_t len, bool v,
                                     sdb_err *err);
/* Report a bad record. */
void sdb_import_reject(sdb_import *im, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lower-case s in place when it is all hex digits (OTLP ids); true when it was hex. */
bool sdb_import_hexid(char *s, size_t len);
/* ISO-8601 text or epoch milliseconds (a number) to ns; false when neither. */
bool sdb_import_time(const sdb_jnode *n, int64_t *ns);

/* Parse JSON text s (a field holding encoded JSON, e.g. Langfuse metadata) and call fn with
 * its root; malformed text is no error (fn is not called). */
sdb_rc sdb_import_subparse(const char *s, size_t len, sdb_jtree_value_fn fn, void *ctx,
                           sdb_err *err);
/* Append n as compact JSON to out (NUL-terminated after). */
sdb_rc sdb_import_json_text(const sdb_jnode *n, sdb_buf *out, sdb_err *err);

/* Map a flat attribute object (key -> JSON scalar; only members whose key starts with
 * prefix, which is stripped) onto r with the OTLP attribute rules: Phoenix span JSON. */
void sdb_import_flat_attrs(sdb_irec *r, const sdb_jnode *obj, const char *prefix);

/* The import's settings for the CSV reader. */
const char *sdb_import_table(const sdb_import *im);
const char *sdb_import_schema(const sdb_import *im);
/* Write rows of any shape to table (generic CSV), counted as spans. */
sdb_rc sdb_import_write_rows(sdb_import *im, const char *table, const sdb_batch *b, sdb_err *err);

/* One record (an object) of a Langfuse or Phoenix export, from JSON or a CSV row. */
sdb_rc sdb_import_langfuse_record(sdb_import *im, const sdb_jnode *o, sdb_err *err);
sdb_rc sdb_import_phoenix_record(sdb_import *im, const sdb_jnode *o, sdb_err *err);

/* The CSV reader (engine/import_csv.c). */
typedef struct sdb_csv sdb_csv;
sdb_rc sdb_csv_create(sdb_import *im, size_t max_record, sdb_csv **out, sdb_err *err);
void sdb_csv_destroy(sdb_csv *c);
sdb_rc sdb_csv_feed(sdb_csv *c, const void *data, size_t len, sdb_err *err);
sdb_rc sdb_csv_finish(sdb_csv *c, sdb_err *err);
void sdb_csv_discard(sdb_csv *c);

/* Formats: a jtree on_value (and for streaming, on_close) each; ctx is the sdb_import. */
sdb_rc sdb_import_otlp_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err);
sdb_rc sdb_import_otlp_close(void *ctx, sdb_jtree *t, sdb_jnode *node, int depth, bool *drop,
                             sdb_err *err);
sdb_rc sdb_import_langfuse_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err);
sdb_rc sdb_import_phoenix_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err);
sdb_rc sdb_import_langsmith_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err);

#endif
