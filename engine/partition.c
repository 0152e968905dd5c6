/* Partition arithmetic on int64 nanoseconds, without time_t, so that any int64 timestamp
 * (including negative ones before 1970) maps to a partition. Civil dates use Howard
 * Hinnant's days-from-civil algorithm. */
#include "engine/partition.h"

#include <stdio.h>
#include <strings.h>

#define NS_PER_HOUR (3600LL * 1000000000LL)
#define NS_PER_DAY (24LL * NS_PER_HOUR)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
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
    int64_t era = floor_div(y, 400);
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int64_t sdb_part_start(sdb_part_unit unit, int64_t ts)
{
    int64_t y;
    unsigned m, d;
    switch (unit) {
    case SDB_PART_HOUR: return floor_div(ts, NS_PER_HOUR) * NS_PER_HOUR;
    case SDB_PART_MONTH:
        civil_from_days(floor_div(ts, NS_PER_DAY), &y, &m, &d);
        return days_from_civil(y, m, 1) * NS_PER_DAY;
    case SDB_PART_DAY:
    default: return floor_div(ts, NS_PER_DAY) * NS_PER_DAY;
    }
}

int64_t sdb_part_next(sdb_part_unit unit, int64_t start)
{
    int64_t y;
    unsigned m, d;
    switch (unit) {
    case SDB_PART_HOUR: return start + NS_PER_HOUR;
    case SDB_PART_MONTH:
        civil_from_days(floor_div(start, NS_PER_DAY), &y, &m, &d);
        if (m == 12) {
            y++;
            m = 1;
        } else {
            m++;
        }
        return days_from_civil(y, m, 1) * NS_PER_DAY;
    case SDB_PART_DAY:
    default: return start + NS_PER_DAY;
    }
}

void sdb_part_name(sdb_part_unit unit, int64_t start, char *out, size_t n)
{
    int64_t y;
    unsigned m, d;
    int64_t days = floor_div(start, NS_PER_DAY);
    unsigned hour = (unsigned)((start - days * NS_PER_DAY) / NS_PER_HOUR);
    civil_from_days(days, &y, &m, &d);
    switch (unit) {
    case SDB_PART_HOUR: snprintf(out, n, "%04lld-%02u-%02uT%02u", (long long)y, m, d, hour); break;
    case SDB_PART_MONTH: snprintf(out, n, "%04lld-%02u", (long long)y, m); break;
    case SDB_PART_DAY:
    default: snprintf(out, n, "%04lld-%02u-%02u", (long long)y, m, d); break;
    }
}

bool sdb_part_unit_parse(const char *s, size_t n, sdb_part_unit *unit)
{
    if (n == 4 && strncasecmp(s, "hour", 4) == 0)
        *unit = SDB_PART_HOUR;
    else if (n == 3 && strncasecmp(s, "day", 3) == 0)
        *unit = SDB_PART_DAY;
    else if (n == 5 && strncasecmp(s, "month", 5) == 0)
        *unit = SDB_PART_MONTH;
    else
        return false;
    return true;
}
