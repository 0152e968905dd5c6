/* Time kernels in UTC: date_trunc units and time_bucket (ISO-8601 text and calendar fields
 * come from storage/common/timefmt), and LIKE. */
#include "query/expr.h"

#include "storage/common/timefmt.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_DAY (86400LL * NS_PER_SEC)

bool sdb_time_unit_parse(const char *s, size_t n, sdb_time_unit *out)
{
    static const char *const names[] = {"second", "minute", "hour", "day",
                                        "week",   "month",  "year"};
    for (size_t u = 0; u < sizeof names / sizeof names[0]; u++) {
        size_t len = strlen(names[u]);
        if (n == len && strncasecmp(s, names[u], n) == 0) {
            *out = (sdb_time_unit)u;
            return true;
        }
    }
    return false;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t sdb_time_trunc(sdb_time_unit u, int64_t ts)
{
    switch (u) {
    case SDB_TU_SECOND: return floor_div(ts, NS_PER_SEC) * NS_PER_SEC;
    case SDB_TU_MINUTE: return floor_div(ts, 60 * NS_PER_SEC) * 60 * NS_PER_SEC;
    case SDB_TU_HOUR: return floor_div(ts, 3600 * NS_PER_SEC) * 3600 * NS_PER_SEC;
    case SDB_TU_DAY: return floor_div(ts, NS_PER_DAY) * NS_PER_DAY;
    case SDB_TU_WEEK:
        /* 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier */
        return (floor_div(floor_div(ts, NS_PER_DAY) + 3, 7) * 7 - 3) * NS_PER_DAY;
    case SDB_TU_MONTH:
    case SDB_TU_YEAR: {
        sdb_civil c;
        int64_t out;
        sdb_time_to_civil(ts, &c);
        if (u == SDB_TU_YEAR)
            c.month = 1;
        c.day = 1;
        c.hour = c.min = c.sec = c.nsec = 0;
        /* the first of a representable month can fall before INT64_MIN only in 1677 */
        return sdb_time_from_civil(&c, &out, NULL) == SDB_OK ? out : INT64_MIN;
    }
    }
    return ts;
}

bool sdb_time_bucket(int64_t interval, int64_t ts, int64_t *out)
{
    int64_t q = floor_div(ts, interval);
    return !__builtin_mul_overflow(q, interval, out);
}

static bool fold_eq(unsigned char a, unsigned char b, bool ci)
{
    if (ci) {
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
    }
    return a == b;
}

bool sdb_like_match(const char *s, size_t n, const char *pat, size_t pn, bool ci)
{
    /* iterative matcher with one backtrack point for the last %: linear in practice */
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
    while (si < n) {
        if (pi < pn && pat[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < pn) {
            char pc = pat[pi];
            size_t adv = 1;
            bool lit = false;
            if (pc == '\\' && pi + 1 < pn) {
                pc = pat[pi + 1];
                adv = 2;
                lit = true;
            }
            if ((!lit && pc == '_') || fold_eq((unsigned char)s[si], (unsigned char)pc, ci)) {
                si++;
                pi += adv;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && pat[pi] == '%')
        pi++;
    return pi == pn;
}
