/* Timestamps and intervals as text: ISO-8601 / RFC 3339 parsing to int64 nanoseconds since
 * the Unix epoch (UTC), formatting back to ISO-8601 UTC, and interval strings ('5 minutes',
 * '1h', '1 hour 30 minutes') to nanoseconds. Used by the SQL parser, importers, gen and the
 * executor.
 *
 * Representable range: int64 nanoseconds, i.e. 1677-09-21T00:12:43.145224192Z to
 * 2262-04-11T23:47:16.854775807Z; anything outside fails with SDB_ERR_LIMIT.
 *
 * Months and years have no fixed length, so interval strings reject them (SDB_ERR_PARSE,
 * "months and years have no fixed length") rather than guess 30 or 365 days; calendar
 * arithmetic such as date_trunc('month', t) goes through sdb_time_to_civil() /
 * sdb_time_from_civil() instead. */
#ifndef SDB_COMMON_TIMEFMT_H
#define SDB_COMMON_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/common/error.h"

#define SDB_NS_PER_US   INT64_C(1000)
#define SDB_NS_PER_MS   INT64_C(1000000)
#define SDB_NS_PER_SEC  INT64_C(1000000000)
#define SDB_NS_PER_MIN  (60 * SDB_NS_PER_SEC)
#define SDB_NS_PER_HOUR (60 * SDB_NS_PER_MIN)
#define SDB_NS_PER_DAY  (24 * SDB_NS_PER_HOUR)
#define SDB_NS_PER_WEEK (7 * SDB_NS_PER_DAY)

/* Bytes a formatted timestamp needs, NUL included ("2262-04-11T23:47:16.854775807Z"). */
#define SDB_TIME_FMT_MAX 40
/* Bytes a formatted interval needs, NUL included ("-9223372036854775808 nanoseconds"). */
#define SDB_INTERVAL_FMT_MAX 48

/* A broken-down UTC time. */
typedef struct sdb_civil {
    int32_t year;  /* 1677..2262 for representable times */
    int32_t month; /* 1..12 */
    int32_t day;   /* 1..31 */
    int32_t hour;  /* 0..23 */
    int32_t min;   /* 0..59 */
    int32_t sec;   /* 0..59 */
    int32_t nsec;  /* 0..999999999 */
} sdb_civil;

/* Parse an ISO-8601 / RFC 3339 timestamp of `len` bytes (not NUL-terminated) into
 * nanoseconds since the epoch. Accepted: 'YYYY-MM-DD', then optionally 'T' (or 't' or one
 * space) and 'HH:MM', ':SS', '.fraction' (1 to 9 digits), then optionally 'Z' or an offset
 * '+HH:MM', '+HHMM', '+HH' (also after one space). Without a zone the time is UTC.
 * Fails with SDB_ERR_PARSE naming the text and the bad field, SDB_ERR_LIMIT out of range. */
sdb_rc sdb_time_parse(const char *s, size_t len, int64_t *ns, sdb_err *err);

/* Write ns as ISO-8601 UTC into out ('2026-01-02T03:04:05.123456789Z'; the fraction is
 * trimmed of trailing zeros and left out when zero). Returns the length written. */
size_t sdb_time_format(int64_t ns, char out[SDB_TIME_FMT_MAX]);

/* Split ns into calendar fields (UTC). Total: every int64 has a civil time. */
void sdb_time_to_civil(int64_t ns, sdb_civil *c);

/* Join calendar fields into ns. Fields must be in their ranges (the day within its month);
 * fails with SDB_ERR_PARSE for a bad field and SDB_ERR_LIMIT when not representable. */
sdb_rc sdb_time_from_civil(const sdb_civil *c, int64_t *ns, sdb_err *err);

/* Nanoseconds per unit for a unit name, case-insensitive: ns, nanosecond(s), us,
 * microsecond(s), ms, millisecond(s), s, sec(s), second(s), m, min(s), minute(s), h, hr(s),
 * hour(s), d, day(s), w, week(s). False for anything else, including months and years. */
bool sdb_interval_unit(const char *s, size_t len, int64_t *unit_ns);

/* True when the name is a month or year unit (month, months, mon, mons, y, year, years...):
 * lets callers say why such a unit is refused. */
bool sdb_interval_unit_is_calendar(const char *s, size_t len);

/* Parse an interval string: one or more '<number>[ ]<unit>' terms separated by optional
 * spaces ('5 minutes', '1h', '30s', '7 days', '1 hour 30 minutes', '1.5h', '-5m'). The
 * number may have a fraction; a leading '-' negates the whole interval. Fails with
 * SDB_ERR_PARSE naming the text (months and years are refused: no fixed length), and
 * SDB_ERR_LIMIT past the int64 range. */
sdb_rc sdb_interval_parse(const char *s, size_t len, int64_t *ns, sdb_err *err);

/* Write ns as an interval string in the largest unit that divides it exactly
 * ('5 minutes', '1 hour', '1500 milliseconds', '0 seconds'); sdb_interval_parse() reads it
 * back to the same value. Returns the length written. */
size_t sdb_interval_format(int64_t ns, char out[SDB_INTERVAL_FMT_MAX]);

#endif
