/* Timestamp and interval text <-> int64 nanoseconds. Calendar conversion uses the
 * proleptic Gregorian day-count formulas (days since 1970-01-01 from year/month/day and
 * back, with March-based years so that the leap day is the last day of a year). */
#include "storage/common/timefmt.h"

#include <stdio.h>
#include <string.h>

/* Longest piece of user text quoted back in an error message. */
#define QUOTE_MAX 64

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int32_t *y, int32_t *m, int32_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *d = (int32_t)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int32_t)mm;
    *y = (int32_t)(yoe + era * 400 + (mm <= 2));
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int quote_len(size_t len)
{
    return len > QUOTE_MAX ? QUOTE_MAX : (int)len;
}

void sdb_time_to_civil(int64_t ns, sdb_civil *c)
{
    int64_t days = ns / SDB_NS_PER_DAY;
    int64_t rem = ns % SDB_NS_PER_DAY;
    if (rem < 0) {
        rem += SDB_NS_PER_DAY;
        days--;
    }
    civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int32_t)(rem / SDB_NS_PER_HOUR);
    rem %= SDB_NS_PER_HOUR;
    c->min = (int32_t)(rem / SDB_NS_PER_MIN);
    rem %= SDB_NS_PER_MIN;
    c->sec = (int32_t)(rem / SDB_NS_PER_SEC);
    c->nsec = (int32_t)(rem % SDB_NS_PER_SEC);
}

sdb_rc sdb_time_from_civil(const sdb_civil *c, int64_t *ns, sdb_err *err)
{
    int64_t secs, out, sub;
    if (c->year < 0 || c->year > 9999)
        return SDB_FAIL(err, SDB_ERR_PARSE, "year %d out of range 0000..9999", (int)c->year);
    if (c->month < 1 || c->month > 12)
        return SDB_FAIL(err, SDB_ERR_PARSE, "month %d out of range 1..12", (int)c->month);
    if (c->day < 1 || c->day > days_in_month(c->year, c->month))
        return SDB_FAIL(err, SDB_ERR_PARSE, "day %d out of range for %04d-%02d", (int)c->day,
                        (int)c->year, (int)c->month);
    if (c->hour < 0 || c->hour > 23)
        return SDB_FAIL(err, SDB_ERR_PARSE, "hour %d out of range 0..23", (int)c->hour);
    if (c->min < 0 || c->min > 59)
        return SDB_FAIL(err, SDB_ERR_PARSE, "minute %d out of range 0..59", (int)c->min);
    if (c->sec < 0 || c->sec > 59)
        return SDB_FAIL(err, SDB_ERR_PARSE, "second %d out of range 0..59", (int)c->sec);
    if (c->nsec < 0 || c->nsec > 999999999)
        return SDB_FAIL(err, SDB_ERR_PARSE, "nanosecond %d out of range", (int)c->nsec);
    /* |secs| < 2^39 for years 0..9999: no overflow before the scaling below */
    secs =
        days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 + c->min * 60 + c->sec;
    sub = c->nsec;
    if (secs < 0 && sub > 0) {
        /* borrow a second so that the earliest instants do not overflow on the way */
        secs++;
        sub -= SDB_NS_PER_SEC;
    }
    if (__builtin_mul_overflow(secs, SDB_NS_PER_SEC, &out) ||
        __builtin_add_overflow(out, sub, &out))
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "%04d-%02d-%02d is outside the representable range 1677-09-21..2262-04-11",
                        (int)c->year, (int)c->month, (int)c->day);
    *ns = out;
    return SDB_OK;
}

/* Read exactly n digits at s[*i]; false when fewer are there. */
static bool digits(const char *s, size_t len, size_t *i, int n, int32_t *out)
{
    int32_t v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

sdb_rc sdb_time_parse(const char *s, size_t len, int64_t *ns, sdb_err *err)
{
    sdb_civil c = {0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    int64_t off_s = 0, t, off_ns;
    const char *what;
    int q = quote_len(len);

    if (!digits(s, len, &i, 4, &c.year) || i >= len || s[i++] != '-' ||
        !digits(s, len, &i, 2, &c.month) || i >= len || s[i++] != '-' ||
        !digits(s, len, &i, 2, &c.day)) {
        what = "expected YYYY-MM-DD";
        goto bad;
    }
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') && i + 1 < len && s[i + 1] >= '0' &&
        s[i + 1] <= '9') {
        i++;
        if (!digits(s, len, &i, 2, &c.hour) || i >= len || s[i++] != ':' ||
            !digits(s, len, &i, 2, &c.min)) {
            what = "expected HH:MM after the date";
            goto bad;
        }
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &c.sec)) {
                what = "expected two digits of seconds";
                goto bad;
            }
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                int nd = 0;
                i++;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd == 9) {
                        what = "more than 9 fractional digits";
                        goto bad;
                    }
                    c.nsec = c.nsec * 10 + (s[i] - '0');
                    nd++;
                    i++;
                }
                if (nd == 0) {
                    what = "expected digits after the decimal point";
                    goto bad;
                }
                for (; nd < 9; nd++)
                    c.nsec *= 10;
            }
        }
    }
    if (i < len && s[i] == ' ' && i + 1 < len &&
        (s[i + 1] == 'Z' || s[i + 1] == 'z' || s[i + 1] == '+' || s[i + 1] == '-'))
        i++;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int32_t oh, om = 0;
        int sign = s[i++] == '-' ? -1 : 1;
        if (!digits(s, len, &i, 2, &oh)) {
            what = "expected a zone offset +HH:MM";
            goto bad;
        }
        if (i < len && s[i] == ':')
            i++;
        if (i < len && !digits(s, len, &i, 2, &om)) {
            what = "expected a zone offset +HH:MM";
            goto bad;
        }
        if (oh > 23 || om > 59) {
            what = "zone offset out of range";
            goto bad;
        }
        off_s = sign * ((int64_t)oh * 3600 + om * 60);
    }
    if (i != len) {
        what = "unexpected text after the timestamp";
        goto bad;
    }
    if (sdb_time_from_civil(&c, &t, err) != SDB_OK) {
        sdb_err_prefix(err, "invalid timestamp '%.*s': ", q, s);
        return err != NULL ? err->code : SDB_ERR_PARSE;
    }
    off_ns = off_s * SDB_NS_PER_SEC;
    if (__builtin_sub_overflow(t, off_ns, &t))
        return SDB_FAIL(err, SDB_ERR_LIMIT,
                        "invalid timestamp '%.*s': outside the representable range "
                        "1677-09-21..2262-04-11",
                        q, s);
    *ns = t;
    return SDB_OK;
bad:
    return SDB_FAIL(err, SDB_ERR_PARSE, "invalid timestamp '%.*s': %s", q, s, what);
}

size_t sdb_time_format(int64_t ns, char out[SDB_TIME_FMT_MAX])
{
    sdb_civil c;
    int n;
    sdb_time_to_civil(ns, &c);
    n = snprintf(out, SDB_TIME_FMT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", (int)c.year, (int)c.month,
                 (int)c.day, (int)c.hour, (int)c.min, (int)c.sec);
    if (c.nsec != 0) {
        int32_t f = c.nsec;
        int nd = 9;
        while (f % 10 == 0) {
            f /= 10;
            nd--;
        }
        n += snprintf(out + n, (size_t)(SDB_TIME_FMT_MAX - n), ".%0*d", nd, (int)f);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

static const struct {
    const char *name;
    int64_t ns;
} units[] = {
    {"ns", 1},
    {"nanosecond", 1},
    {"nanoseconds", 1},
    {"us", SDB_NS_PER_US},
    {"microsecond", SDB_NS_PER_US},
    {"microseconds", SDB_NS_PER_US},
    {"ms", SDB_NS_PER_MS},
    {"millisecond", SDB_NS_PER_MS},
    {"milliseconds", SDB_NS_PER_MS},
    {"s", SDB_NS_PER_SEC},
    {"sec", SDB_NS_PER_SEC},
    {"secs", SDB_NS_PER_SEC},
    {"second", SDB_NS_PER_SEC},
    {"seconds", SDB_NS_PER_SEC},
    {"m", SDB_NS_PER_MIN},
    {"min", SDB_NS_PER_MIN},
    {"mins", SDB_NS_PER_MIN},
    {"minute", SDB_NS_PER_MIN},
    {"minutes", SDB_NS_PER_MIN},
    {"h", SDB_NS_PER_HOUR},
    {"hr", SDB_NS_PER_HOUR},
    {"hrs", SDB_NS_PER_HOUR},
    {"hour", SDB_NS_PER_HOUR},
    {"hours", SDB_NS_PER_HOUR},
    {"d", SDB_NS_PER_DAY},
    {"day", SDB_NS_PER_DAY},
    {"days", SDB_NS_PER_DAY},
    {"w", SDB_NS_PER_WEEK},
    {"week", SDB_NS_PER_WEEK},
    {"weeks", SDB_NS_PER_WEEK},
};

static bool name_eq(const char *s, size_t len, const char *name)
{
    size_t j = 0;
    while (j < len && name[j] != '\0' && (s[j] | 0x20) == name[j])
        j++;
    return j == len && name[j] == '\0';
}

bool sdb_interval_unit(const char *s, size_t len, int64_t *unit_ns)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (name_eq(s, len, units[i].name)) {
            *unit_ns = units[i].ns;
            return true;
        }
    return false;
}

bool sdb_interval_unit_is_calendar(const char *s, size_t len)
{
    static const char *const cal[] = {"mon", "mons", "month", "months", "y",
                                      "yr",  "yrs",  "year",  "years"};
    for (size_t i = 0; i < sizeof cal / sizeof cal[0]; i++)
        if (name_eq(s, len, cal[i]))
            return true;
    return false;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

sdb_rc sdb_interval_parse(const char *s, size_t len, int64_t *ns, sdb_err *err)
{
    size_t i = 0;
    bool neg = false;
    uint64_t total = 0, limit;
    int terms = 0, q = quote_len(len);

    while (i < len && is_space(s[i]))
        i++;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (;;) {
        uint64_t ip = 0, fp = 0, pow10 = 1, term, unit;
        int nd = 0, nf = 0;
        size_t u0;
        int64_t unit_ns;
        while (i < len && is_space(s[i]))
            i++;
        if (i == len)
            break;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (__builtin_mul_overflow(ip, 10, &ip) ||
                __builtin_add_overflow(ip, (uint64_t)(s[i] - '0'), &ip))
                goto range;
            nd++;
            i++;
        }
        if (i < len && s[i] == '.') {
            i++;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (nf < 9) {
                    fp = fp * 10 + (uint64_t)(s[i] - '0');
                    pow10 *= 10;
                }
                nf++;
                i++;
            }
        }
        if (nd + nf == 0)
            return SDB_FAIL(err, SDB_ERR_PARSE,
                            "invalid interval '%.*s': expected a number at offset %zu", q, s, i);
        while (i < len && is_space(s[i]))
            i++;
        u0 = i;
        while (i < len && is_alpha(s[i]))
            i++;
        if (i == u0)
            return SDB_FAIL(err, SDB_ERR_PARSE,
                            "invalid interval '%.*s': expected a unit (s, m, h, d, ...) after the "
                            "number",
                            q, s);
        if (!sdb_interval_unit(s + u0, i - u0, &unit_ns)) {
            if (sdb_interval_unit_is_calendar(s + u0, i - u0))
                return SDB_FAIL(err, SDB_ERR_PARSE,
                                "invalid interval '%.*s': months and years have no fixed length; "
                                "use days",
                                q, s);
            return SDB_FAIL(err, SDB_ERR_PARSE, "invalid interval '%.*s': unknown unit '%.*s'", q,
                            s, quote_len(i - u0), s + u0);
        }
        unit = (uint64_t)unit_ns;
        if (__builtin_mul_overflow(ip, unit, &term))
            goto range;
        if (fp != 0) {
            /* units of a second and more are multiples of 10^9, so this is exact; smaller
             * units lose only what is below one nanosecond */
            uint64_t f = unit % pow10 == 0 ? unit / pow10 * fp : unit * fp / pow10;
            if (__builtin_add_overflow(term, f, &term))
                goto range;
        }
        if (__builtin_add_overflow(total, term, &total) || total > limit)
            goto range;
        terms++;
    }
    if (terms == 0)
        return SDB_FAIL(err, SDB_ERR_PARSE, "invalid interval '%.*s': empty", q, s);
    *ns = neg ? (int64_t)(0 - total) : (int64_t)total;
    return SDB_OK;
range:
    return SDB_FAIL(err, SDB_ERR_LIMIT, "invalid interval '%.*s': out of range (about 292 years)",
                    q, s);
}

size_t sdb_interval_format(int64_t ns, char out[SDB_INTERVAL_FMT_MAX])
{
    static const struct {
        int64_t ns;
        const char *one, *many;
    } fmt_units[] = {
        {SDB_NS_PER_DAY, "day", "days"},
        {SDB_NS_PER_HOUR, "hour", "hours"},
        {SDB_NS_PER_MIN, "minute", "minutes"},
        {SDB_NS_PER_SEC, "second", "seconds"},
        {SDB_NS_PER_MS, "millisecond", "milliseconds"},
        {SDB_NS_PER_US, "microsecond", "microseconds"},
        {1, "nanosecond", "nanoseconds"},
    };
    int n;
    if (ns == 0)
        return (size_t)snprintf(out, SDB_INTERVAL_FMT_MAX, "0 seconds");
    for (size_t i = 0;; i++) {
        if (ns % fmt_units[i].ns == 0) {
            int64_t v = ns / fmt_units[i].ns;
            n = snprintf(out, SDB_INTERVAL_FMT_MAX, "%lld %s", (long long)v,
                         v == 1 ? fmt_units[i].one : fmt_units[i].many);
            return (size_t)n;
        }
    }
}
