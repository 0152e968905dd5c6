/* Partition arithmetic on int64 nanoseconds: hours and days by floor division, months
 * through the calendar fields of storage/common/timefmt, so that any int64 timestamp
 * (including negative ones before 1970) maps to a partition. */
#include "engine/partition.h"

#include <stdio.h>
#include <strings.h>

#include "storage/common/timefmt.h"

#define NS_PER_HOUR (3600LL * 1000000000LL)
#define NS_PER_DAY (24LL * NS_PER_HOUR)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* The first instant of the month of c (plus `months` months). Times in the first or last
 * month of the int64 range clamp to the range. */
static int64_t month_start(sdb_civil c, int months)
{
    int64_t out;
    c.month += months;
    if (c.month > 12) {
        c.month -= 12;
        c.year++;
    }
    c.day = 1;
    c.hour = c.min = c.sec = c.nsec = 0;
    if (sdb_time_from_civil(&c, &out, NULL) != SDB_OK)
        return months > 0 ? INT64_MAX : INT64_MIN;
    return out;
}

int64_t sdb_part_start(sdb_part_unit unit, int64_t ts)
{
    sdb_civil c;
    switch (unit) {
    case SDB_PART_HOUR: return floor_div(ts, NS_PER_HOUR) * NS_PER_HOUR;
    case SDB_PART_MONTH:
        sdb_time_to_civil(ts, &c);
        return month_start(c, 0);
    case SDB_PART_DAY:
    default: return floor_div(ts, NS_PER_DAY) * NS_PER_DAY;
    }
}

int64_t sdb_part_next(sdb_part_unit unit, int64_t start)
{
    sdb_civil c;
    switch (unit) {
    case SDB_PART_HOUR: return start + NS_PER_HOUR;
    case SDB_PART_MONTH:
        sdb_time_to_civil(start, &c);
        return month_start(c, 1);
    case SDB_PART_DAY:
    default: return start + NS_PER_DAY;
    }
}

void sdb_part_name(sdb_part_unit unit, int64_t start, char *out, size_t n)
{
    sdb_civil c;
    sdb_time_to_civil(start, &c);
    switch (unit) {
    case SDB_PART_HOUR:
        snprintf(out, n, "%04d-%02d-%02dT%02d", (int)c.year, (int)c.month, (int)c.day, (int)c.hour);
        break;
    case SDB_PART_MONTH: snprintf(out, n, "%04d-%02d", (int)c.year, (int)c.month); break;
    case SDB_PART_DAY:
    default: snprintf(out, n, "%04d-%02d-%02d", (int)c.year, (int)c.month, (int)c.day); break;
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
