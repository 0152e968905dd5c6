/* Selection kernels: one tight loop per (type, operator) that writes the rows where
 * `value <op> constant` holds into a selection vector, branch-free (DuckDB's
 * `sel[n] = i; n += cond;`). NULL rows never qualify. */
#include "query/expr.h"

#define VALID(w, i) (((w)[(i) >> 6] >> ((i) & 63)) & 1)

#define SEL_LOOP(COND)                                                                     \
    do {                                                                                   \
        if (sel == NULL) {                                                                 \
            for (uint32_t i = 0; i < n; i++) {                                             \
                out[k] = i;                                                                \
                k += (uint32_t)((COND) & VALID(valid, i));                                 \
            }                                                                              \
        } else {                                                                           \
            for (uint32_t j = 0; j < n; j++) {                                             \
                uint32_t i = sel[j];                                                       \
                out[k] = i;                                                                \
                k += (uint32_t)((COND) & VALID(valid, i));                                 \
            }                                                                              \
        }                                                                                  \
    } while (0)

uint32_t sdb_kern_sel_i64(sdb_pexpr_kind op, const int64_t *v, const uint64_t *valid, int64_t c,
                          const uint32_t *sel, uint32_t n, uint32_t *out)
{
    uint32_t k = 0;
    switch (op) {
    case SDB_PX_EQ: SEL_LOOP((uint64_t)(v[i] == c)); break;
    case SDB_PX_NE: SEL_LOOP((uint64_t)(v[i] != c)); break;
    case SDB_PX_LT: SEL_LOOP((uint64_t)(v[i] < c)); break;
    case SDB_PX_LE: SEL_LOOP((uint64_t)(v[i] <= c)); break;
    case SDB_PX_GT: SEL_LOOP((uint64_t)(v[i] > c)); break;
    case SDB_PX_GE: SEL_LOOP((uint64_t)(v[i] >= c)); break;
    default: break;
    }
    return k;
}

uint32_t sdb_kern_sel_f64(sdb_pexpr_kind op, const double *v, const uint64_t *valid, double c,
                          const uint32_t *sel, uint32_t n, uint32_t *out)
{
    uint32_t k = 0;
    switch (op) {
    case SDB_PX_EQ: SEL_LOOP((uint64_t)(v[i] == c)); break;
    case SDB_PX_NE: SEL_LOOP((uint64_t)(v[i] != c)); break;
    case SDB_PX_LT: SEL_LOOP((uint64_t)(v[i] < c)); break;
    case SDB_PX_LE: SEL_LOOP((uint64_t)(v[i] <= c)); break;
    case SDB_PX_GT: SEL_LOOP((uint64_t)(v[i] > c)); break;
    case SDB_PX_GE: SEL_LOOP((uint64_t)(v[i] >= c)); break;
    default: break;
    }
    return k;
}

uint32_t sdb_kern_sel_code(bool eq, const uint32_t *v, const uint64_t *valid, uint32_t c,
                           const uint32_t *sel, uint32_t n, uint32_t *out)
{
    uint32_t k = 0;
    if (eq)
        SEL_LOOP((uint64_t)(v[i] == c));
    else
        SEL_LOOP((uint64_t)(v[i] != c));
    return k;
}
