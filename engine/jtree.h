/* JSON records for the importers: yajl (Debian libyajl, chosen by measured speed, see
 * docs/import.md) tokenizes a stream fed line by line, and this module builds a small tree of
 * each top-level value in a stack arena. A hook runs when any array or object closes and may
 * drop it (its memory is given back at once), which is how a single huge document, e.g. one
 * OTLP request holding ten million spans, streams in bounded memory: each span is handed to
 * the importer and dropped when it closes. Several values back to back (JSON Lines, or
 * concatenated documents) are accepted. Numbers keep their text so an importer can tell
 * 64-bit integers from doubles.
 *
 * A syntax error in a line that starts between top-level values (JSON Lines) skips that line
 * and parsing resumes at the next one; a syntax error inside a multi-line document ends the
 * file. Either way the error goes to on_error with its line. */
#ifndef SDB_ENGINE_JTREE_H
#define SDB_ENGINE_JTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

typedef enum sdb_jtype {
    SDB_J_NULL,
    SDB_J_BOOL,
    SDB_J_NUM,
    SDB_J_STR,
    SDB_J_ARR,
    SDB_J_OBJ,
} sdb_jtype;

typedef struct sdb_jnode sdb_jnode;
struct sdb_jnode {
    sdb_jtype type;
    bool b;                 /* BOOL */
    const char *key;        /* member name in an object (NUL-terminated), else NULL */
    size_t keylen;
    char *s;                /* STR: the value (NUL-terminated); NUM: its text */
    size_t len;
    sdb_jnode *first, *last; /* ARR, OBJ: children in order */
    sdb_jnode *next;        /* next sibling */
    uint32_t n;             /* ARR, OBJ: number of children */
    uint64_t line;          /* input line where the value starts */
};

typedef struct sdb_jtree sdb_jtree;

/* A complete top-level value; its memory is reused after the call. Return non-OK to stop. */
typedef sdb_rc (*sdb_jtree_value_fn)(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err);
/* node (an array or object at depth >= 1, the root being depth 0) has closed; set *drop to
 * unlink it from its parent and free it. Return non-OK to stop. */
typedef sdb_rc (*sdb_jtree_close_fn)(void *ctx, sdb_jtree *t, sdb_jnode *node, int depth,
                                     bool *drop, sdb_err *err);
/* Malformed JSON at line: reason. */
typedef void (*sdb_jtree_error_fn)(void *ctx, uint64_t line, const char *reason);

typedef struct sdb_jtree_opts {
    size_t max_value;          /* bytes of tree one top-level value may hold (0: 256 MiB) */
    uint32_t max_depth;        /* nesting bound (0: 128) */
    sdb_jtree_value_fn on_value;
    sdb_jtree_close_fn on_close; /* may be NULL */
    sdb_jtree_error_fn on_error; /* may be NULL */
    void *ctx;
} sdb_jtree_opts;

sdb_rc sdb_jtree_create(const sdb_jtree_opts *o, sdb_jtree **out, sdb_err *err);
void sdb_jtree_destroy(sdb_jtree *t);
/* Feed the next len bytes of the stream (any split). */
sdb_rc sdb_jtree_feed(sdb_jtree *t, const void *data, size_t len, sdb_err *err);
/* End of the stream: a value left open is reported to on_error. */
sdb_rc sdb_jtree_finish(sdb_jtree *t, sdb_err *err);
/* The open container at depth d (0 = root) while a close hook runs, else NULL. */
sdb_jnode *sdb_jtree_frame(const sdb_jtree *t, int d);
/* Malformed-input reports so far, and whether a syntax error ended the stream. */
uint64_t sdb_jtree_errors(const sdb_jtree *t);
bool sdb_jtree_dead(const sdb_jtree *t);
/* Line being read (1-based). */
uint64_t sdb_jtree_line(const sdb_jtree *t);

/* Helpers over a tree. */
/* Member `key` of object o (NULL when o is not an object or lacks it). */
sdb_jnode *sdb_jobj_get(const sdb_jnode *o, const char *key);
/* The string of a STR node, else NULL. */
const char *sdb_jstr(const sdb_jnode *n, size_t *len);
/* The number of a NUM node or a STR holding a decimal integer / number. */
bool sdb_jint(const sdb_jnode *n, int64_t *v);
bool sdb_jnum(const sdb_jnode *n, double *v);

#endif
