/* The table of known functions and the nearest-name suggestion: an optimal-string-alignment
 * edit distance (insert, delete, substitute, swap neighbours) in tenths, where replacing a
 * digit by another costs 5 plus half their difference, so that numeric siblings (p90, p95,
 * p99) rank by closeness. */
#include "query/functions.h"

#include <stdio.h>
#include <string.h>

static const sdb_func_info funcs[] = {
    /* aggregates */
    {"count", SDB_FUNC_AGGREGATE, 1, 1, true, true}, /* or count(*) */
    {"sum", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"avg", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"min", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"max", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"count_if", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"approx_count_distinct", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"quantile", SDB_FUNC_AGGREGATE, 2, 2, false, false},
    {"quantile_exact", SDB_FUNC_AGGREGATE, 2, 2, false, false},
    {"p50", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"p90", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"p95", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"p99", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    {"p999", SDB_FUNC_AGGREGATE, 1, 1, false, false},
    /* scalars */
    {"time_bucket", SDB_FUNC_SCALAR, 2, 2, false, false},
    {"date_trunc", SDB_FUNC_SCALAR, 2, 2, false, false},
    {"now", SDB_FUNC_SCALAR, 0, 0, false, false},
    {"coalesce", SDB_FUNC_SCALAR, 1, SDB_FUNC_VARIADIC, false, false},
    {"abs", SDB_FUNC_SCALAR, 1, 1, false, false},
    {"round", SDB_FUNC_SCALAR, 1, 2, false, false},
    {"lower", SDB_FUNC_SCALAR, 1, 1, false, false},
    {"upper", SDB_FUNC_SCALAR, 1, 1, false, false},
    {"length", SDB_FUNC_SCALAR, 1, 1, false, false},
};

#define NFUNCS (sizeof funcs / sizeof funcs[0])
/* Names longer than this are never close to a known one. */
#define SUGGEST_MAX 48

size_t sdb_func_count(void)
{
    return NFUNCS;
}

const sdb_func_info *sdb_func_at(size_t i)
{
    return i < NFUNCS ? &funcs[i] : NULL;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch;
}

const sdb_func_info *sdb_func_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < NFUNCS; i++) {
        const char *n = funcs[i].name;
        size_t j = 0;
        while (j < len && n[j] != '\0' && lower(name[j]) == n[j])
            j++;
        if (j == len && n[j] == '\0')
            return &funcs[i];
    }
    return NULL;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static unsigned sub_cost(char x, char y)
{
    if (x == y)
        return 0;
    if (is_digit(x) && is_digit(y))
        return 5 + (unsigned)(x > y ? x - y : y - x) / 2;
    return 10;
}

static unsigned min3(unsigned x, unsigned y, unsigned z)
{
    unsigned m = x < y ? x : y;
    return m < z ? m : z;
}

/* Edit distance in tenths of an edit between a (lower-cased, <= SUGGEST_MAX) and b. */
static unsigned distance(const char *a, size_t na, const char *b, size_t nb)
{
    unsigned d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = (unsigned)i * 10;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (unsigned)j * 10;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            unsigned v = min3(d[i - 1][j] + 10, d[i][j - 1] + 10,
                              d[i - 1][j - 1] + sub_cost(a[i - 1], b[j - 1]));
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 10 < v)
                v = d[i - 2][j - 2] + 10;
            d[i][j] = v;
        }
    return d[na][nb];
}

const char *sdb_suggest_name(const char *name, size_t len, const char *const *cands, size_t n)
{
    char low[SUGGEST_MAX], cand[SUGGEST_MAX];
    const char *best = NULL;
    unsigned best_d = 0;
    if (len == 0 || len > SUGGEST_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++)
        low[i] = lower(name[i]);
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(cands[i]), longest = nl > len ? nl : len;
        unsigned allowed = (unsigned)(longest / 3 > 1 ? longest / 3 : 1) * 10, dist;
        if (nl > SUGGEST_MAX)
            continue;
        for (size_t k = 0; k < nl; k++)
            cand[k] = lower(cands[i][k]);
        dist = distance(low, len, cand, nl);
        if (dist <= allowed && (best == NULL || dist < best_d)) {
            best = cands[i];
            best_d = dist;
        }
    }
    return best;
}

const char *sdb_func_suggest(const char *name, size_t len)
{
    const char *names[NFUNCS];
    for (size_t i = 0; i < NFUNCS; i++)
        names[i] = funcs[i].name;
    return sdb_suggest_name(name, len, names, NFUNCS);
}

sdb_rc sdb_func_unknown(const char *name, size_t len, sdb_pos pos, sdb_err *err)
{
    const char *s = sdb_func_suggest(name, len);
    int n = len > 64 ? 64 : (int)len;
    if (s != NULL)
        return SDB_FAIL(err, SDB_ERR_SCHEMA,
                        "unknown function '%.*s' at %u:%u (did you mean '%s'?)", n, name, pos.line,
                        pos.col, s);
    return SDB_FAIL(err, SDB_ERR_SCHEMA, "unknown function '%.*s' at %u:%u", n, name, pos.line,
                    pos.col);
}

static void describe_arity(const sdb_func_info *f, char *out, size_t cap)
{
    if (f->min_args == f->max_args)
        snprintf(out, cap, "%u argument%s", (unsigned)f->min_args, f->min_args == 1 ? "" : "s");
    else if (f->max_args == SDB_FUNC_VARIADIC)
        snprintf(out, cap, "at least %u argument%s", (unsigned)f->min_args,
                 f->min_args == 1 ? "" : "s");
    else
        snprintf(out, cap, "%u to %u arguments", (unsigned)f->min_args, (unsigned)f->max_args);
}

sdb_rc sdb_func_resolve(const char *name, size_t len, uint32_t nargs, bool star, bool distinct,
                        sdb_pos pos, const sdb_func_info **out, sdb_err *err)
{
    const sdb_func_info *f = sdb_func_lookup(name, len);
    char arity[48];
    if (f == NULL)
        return sdb_func_unknown(name, len, pos, err);
    if (star && !f->star_ok)
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "function '%s' at %u:%u does not accept '*'", f->name,
                        pos.line, pos.col);
    if (distinct && !f->distinct_ok)
        return SDB_FAIL(err, SDB_ERR_SCHEMA,
                        "function '%s' at %u:%u does not accept DISTINCT (only count does)",
                        f->name, pos.line, pos.col);
    if (distinct && nargs != 1)
        return SDB_FAIL(err, SDB_ERR_SCHEMA,
                        "function '%s' at %u:%u takes exactly one argument with DISTINCT", f->name,
                        pos.line, pos.col);
    if (!star &&
        (nargs < f->min_args || (f->max_args != SDB_FUNC_VARIADIC && nargs > f->max_args))) {
        describe_arity(f, arity, sizeof arity);
        return SDB_FAIL(err, SDB_ERR_SCHEMA, "function '%s' at %u:%u takes %s, got %u", f->name,
                        pos.line, pos.col, arity, (unsigned)nargs);
    }
    *out = f;
    return SDB_OK;
}
