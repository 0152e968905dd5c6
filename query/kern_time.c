/* Time kernels in UTC: date_trunc units, time_bucket, ISO-8601 formatting and parsing
 * (civil-from-days arithmetic, valid for the whole int64 nanosecond range), and LIKE. */
#include "query/expr.h"

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

/* Days since 1970-01-01 to y/m/d (Howard Hinnant's algorithm, proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int64_t sdb_time_trunc(sdb_time_unit u, int64_t ts)
{
    int64_t days, y;
    unsigned m, d;
    switch (u) {
    case SDB_TU_SECOND: return floor_div(ts, NS_PER_SEC) * NS_PER_SEC;
    case SDB_TU_MINUTE: return floor_div(ts, 60 * NS_PER_SEC) * 60 * NS_PER_SEC;
    case SDB_TU_HOUR: return floor_div(ts, 3600 * NS_PER_SEC) * 3600 * NS_PER_SEC;
    case SDB_TU_DAY: return floor_div(ts, NS_PER_DAY) * NS_PER_DAY;
    case SDB_TU_WEEK:
        /* 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier */
        return (floor_div(floor_div(ts, NS_PER_DAY) + 3, 7) * 7 - 3) * NS_PER_DAY;
    case SDB_TU_MONTH:
    case SDB_TU_YEAR:
        days = floor_div(ts, NS_PER_DAY);
        civil_from_days(days, &y, &m, &d);
        if (u == SDB_TU_YEAR)
            m = 1;
        return days_from_civil(y, m, 1) * NS_PER_DAY;
    }
    return ts;
}

bool sdb_time_bucket(int64_t interval, int64_t ts, int64_t *out)
{
    int64_t q = floor_div(ts, interval);
    return !__builtin_mul_overflow(q, interval, out);
}

size_t sdb_time_format(int64_t ts, char *buf)
{
    int64_t days = floor_div(ts, NS_PER_DAY), y;
    int64_t ns = ts - days * NS_PER_DAY;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t secs = ns / NS_PER_SEC, frac = ns % NS_PER_SEC;
    int n = snprintf(buf, 40, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ", (long long)y, m, d,
                     (long long)(secs / 3600), (long long)(secs / 60 % 60),
                     (long long)(secs % 60), (long long)frac);
    return n < 0 ? 0 : (size_t)n;
}

/* Parse "YYYY-MM-DD[ T]HH:MM:SS[.fffffffff][Z]" or a date alone. */
bool sdb_time_parse(const char *p, size_t n, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
    int64_t frac = 0, scale = 100000000;
    char buf[64];
    size_t k;
    if (n >= sizeof buf)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (sscanf(buf, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || mo < 1 || mo > 12 || d < 1 ||
        d > 31)
        return false;
    k = (size_t)used;
    if (k < n && (buf[k] == 'T' || buf[k] == ' ')) {
        if (sscanf(buf + k + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) != 3 || h > 23 || mi > 59 ||
            sec > 60 || h < 0 || mi < 0 || sec < 0)
            return false;
        k += 1 + (size_t)used;
        if (k < n && buf[k] == '.') {
            for (k++; k < n && buf[k] >= '0' && buf[k] <= '9'; k++) {
                frac += (buf[k] - '0') * scale;
                scale /= 10;
            }
        }
    }
    if (k < n && buf[k] == 'Z')
        k++;
    if (k != n)
        return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = ((days * 24 + h) * 60 + mi) * 60 * 1000000000LL + sec * 1000000000LL + frac;
    return true;
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
