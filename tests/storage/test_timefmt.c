/* Timestamp and interval parsing and formatting (storage/common/timefmt). */
#include <criterion/criterion.h>
#include <string.h>

#include "storage/common/timefmt.h"

static int64_t parse_ok(const char *s)
{
    sdb_err err;
    int64_t ns = 0;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_time_parse(s, strlen(s), &ns, &err), SDB_OK, "%s: %s", s, err.msg);
    return ns;
}

static void parse_fails(const char *s, sdb_rc code, const char *fragment)
{
    sdb_err err;
    int64_t ns = 0;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_time_parse(s, strlen(s), &ns, &err), code, "%s", s);
    cr_assert(strstr(err.msg, fragment) != NULL, "'%s' lacks '%s'", err.msg, fragment);
}

Test(timefmt, parse_date_only_is_midnight_utc)
{
    cr_assert_eq(parse_ok("1970-01-01"), 0);
    cr_assert_eq(parse_ok("2026-01-02"), INT64_C(1767312000) * SDB_NS_PER_SEC);
}

Test(timefmt, parse_rfc3339_variants_agree)
{
    /* 2026-01-02T03:04:05Z = 1767312000 + 3h 4m 5s */
    int64_t want = INT64_C(1767312000) * SDB_NS_PER_SEC + 3 * SDB_NS_PER_HOUR + 4 * SDB_NS_PER_MIN +
                   5 * SDB_NS_PER_SEC;
    cr_assert_eq(parse_ok("2026-01-02T03:04:05Z"), want);
    cr_assert_eq(parse_ok("2026-01-02T03:04:05"), want);
    cr_assert_eq(parse_ok("2026-01-02 03:04:05"), want);
    cr_assert_eq(parse_ok("2026-01-02t03:04:05z"), want);
    cr_assert_eq(parse_ok("2026-01-02T05:04:05+02:00"), want);
    cr_assert_eq(parse_ok("2026-01-02T05:04:05+0200"), want);
    cr_assert_eq(parse_ok("2026-01-02T05:04:05+02"), want);
    cr_assert_eq(parse_ok("2026-01-01T23:34:05-03:30"), want);
    cr_assert_eq(parse_ok("2026-01-02 03:04:05 +00:00"), want);
    cr_assert_eq(parse_ok("2026-01-02T03:04Z"), want - 5 * SDB_NS_PER_SEC);
}

Test(timefmt, parse_fraction_up_to_nanoseconds)
{
    int64_t base = parse_ok("2026-01-02T03:04:05Z");
    cr_assert_eq(parse_ok("2026-01-02T03:04:05.1Z"), base + 100000000);
    cr_assert_eq(parse_ok("2026-01-02T03:04:05.123456Z"), base + 123456000);
    cr_assert_eq(parse_ok("2026-01-02T03:04:05.123456789Z"), base + 123456789);
    cr_assert_eq(parse_ok("2026-01-02T03:04:05,5"), base + 500000000);
    parse_fails("2026-01-02T03:04:05.1234567891Z", SDB_ERR_PARSE, "more than 9 fractional digits");
    parse_fails("2026-01-02T03:04:05.Z", SDB_ERR_PARSE, "expected digits after the decimal point");
}

Test(timefmt, parse_before_epoch_is_negative)
{
    cr_assert_eq(parse_ok("1969-12-31T23:59:59.5Z"), -500000000);
}

Test(timefmt, parse_bad_fields_name_the_field)
{
    parse_fails("2026-13-01", SDB_ERR_PARSE, "month 13 out of range");
    parse_fails("2026-02-29", SDB_ERR_PARSE, "day 29 out of range for 2026-02");
    parse_fails("2026-01-01T24:00:00", SDB_ERR_PARSE, "hour 24 out of range");
    parse_fails("2026-01-01T10:60:00", SDB_ERR_PARSE, "minute 60 out of range");
    parse_fails("2026-01-01T10:00:60", SDB_ERR_PARSE, "second 60 out of range");
    parse_fails("2026-1-01", SDB_ERR_PARSE, "invalid timestamp '2026-1-01': expected YYYY-MM-DD");
    parse_fails("", SDB_ERR_PARSE, "expected YYYY-MM-DD");
    parse_fails("2026-01-01T10", SDB_ERR_PARSE, "expected HH:MM");
    parse_fails("2026-01-01 junk", SDB_ERR_PARSE, "unexpected text after the timestamp");
    parse_fails("2026-01-01T10:00:00+25:00", SDB_ERR_PARSE, "zone offset out of range");
    parse_fails("2026-01-01T10:00:00+1", SDB_ERR_PARSE, "expected a zone offset");
    cr_assert_eq(parse_ok("2024-02-29"), INT64_C(1709164800) * SDB_NS_PER_SEC);
}

Test(timefmt, parse_out_of_int64_range_is_limit)
{
    parse_fails("2263-01-01", SDB_ERR_LIMIT, "outside the representable range");
    parse_fails("1600-01-01", SDB_ERR_LIMIT, "outside the representable range");
    cr_assert_eq(parse_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
    cr_assert_eq(parse_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
    parse_fails("2262-04-11T23:47:16.854775808Z", SDB_ERR_LIMIT, "representable");
    parse_fails("2262-04-11T23:47:16.854775807-00:01", SDB_ERR_LIMIT, "representable");
}

static void format_is(int64_t ns, const char *want)
{
    char out[SDB_TIME_FMT_MAX];
    size_t n = sdb_time_format(ns, out);
    cr_assert_str_eq(out, want);
    cr_assert_eq(n, strlen(want));
    cr_assert_eq(parse_ok(out), ns);
}

Test(timefmt, format_trims_fraction_and_round_trips)
{
    format_is(0, "1970-01-01T00:00:00Z");
    format_is(parse_ok("2026-01-02T03:04:05Z"), "2026-01-02T03:04:05Z");
    format_is(parse_ok("2026-01-02T03:04:05.123456789Z"), "2026-01-02T03:04:05.123456789Z");
    format_is(parse_ok("2026-01-02T03:04:05.12Z"), "2026-01-02T03:04:05.12Z");
    format_is(-1, "1969-12-31T23:59:59.999999999Z");
    format_is(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
    format_is(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
}

Test(timefmt, civil_round_trips_over_many_days)
{
    sdb_err err;
    for (int64_t d = -100000; d <= 100000; d += 7) {
        int64_t ns = d * SDB_NS_PER_DAY + 12345, back;
        sdb_civil c;
        sdb_time_to_civil(ns, &c);
        cr_assert_eq(sdb_time_from_civil(&c, &back, &err), SDB_OK);
        cr_assert_eq(back, ns);
    }
}

static int64_t interval_ok(const char *s)
{
    sdb_err err;
    int64_t ns = 0;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_interval_parse(s, strlen(s), &ns, &err), SDB_OK, "%s: %s", s, err.msg);
    return ns;
}

static void interval_fails(const char *s, sdb_rc code, const char *fragment)
{
    sdb_err err;
    int64_t ns = 0;
    sdb_err_clear(&err);
    cr_assert_eq(sdb_interval_parse(s, strlen(s), &ns, &err), code, "%s", s);
    cr_assert(strstr(err.msg, fragment) != NULL, "'%s' lacks '%s'", err.msg, fragment);
}

Test(timefmt, interval_units_and_spellings)
{
    cr_assert_eq(interval_ok("5 minutes"), 5 * SDB_NS_PER_MIN);
    cr_assert_eq(interval_ok("1h"), SDB_NS_PER_HOUR);
    cr_assert_eq(interval_ok("30s"), 30 * SDB_NS_PER_SEC);
    cr_assert_eq(interval_ok("7 days"), 7 * SDB_NS_PER_DAY);
    cr_assert_eq(interval_ok("1 Hour"), SDB_NS_PER_HOUR);
    cr_assert_eq(interval_ok("24 HOURS"), SDB_NS_PER_DAY);
    cr_assert_eq(interval_ok("2w"), 14 * SDB_NS_PER_DAY);
    cr_assert_eq(interval_ok("250ms"), 250 * SDB_NS_PER_MS);
    cr_assert_eq(interval_ok("3 us"), 3000);
    cr_assert_eq(interval_ok("9ns"), 9);
    cr_assert_eq(interval_ok(" 1 hour 30 minutes "), 90 * SDB_NS_PER_MIN);
    cr_assert_eq(interval_ok("1h30m"), 90 * SDB_NS_PER_MIN);
    cr_assert_eq(interval_ok("1.5h"), 90 * SDB_NS_PER_MIN);
    cr_assert_eq(interval_ok(".5s"), 500 * SDB_NS_PER_MS);
    cr_assert_eq(interval_ok("-5m"), -5 * SDB_NS_PER_MIN);
    cr_assert_eq(interval_ok("9223372036854775807ns"), INT64_MAX);
    cr_assert_eq(interval_ok("-9223372036854775808ns"), INT64_MIN);
}

Test(timefmt, interval_errors)
{
    interval_fails("1 month", SDB_ERR_PARSE, "months and years have no fixed length");
    interval_fails("2 years", SDB_ERR_PARSE, "months and years have no fixed length");
    interval_fails("5 fortnights", SDB_ERR_PARSE, "unknown unit 'fortnights'");
    interval_fails("5", SDB_ERR_PARSE, "expected a unit");
    interval_fails("", SDB_ERR_PARSE, "empty");
    interval_fails("minutes", SDB_ERR_PARSE, "expected a number");
    interval_fails("9223372036854775808ns", SDB_ERR_LIMIT, "out of range");
    interval_fails("300 years", SDB_ERR_PARSE, "no fixed length");
    interval_fails("200000 days", SDB_ERR_LIMIT, "out of range");
    interval_fails("99999999999999999999 s", SDB_ERR_LIMIT, "out of range");
}

Test(timefmt, interval_format_uses_largest_exact_unit)
{
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {5 * SDB_NS_PER_MIN, "5 minutes"},
        {SDB_NS_PER_HOUR, "1 hour"},
        {SDB_NS_PER_DAY * 7, "7 days"},
        {1500 * SDB_NS_PER_MS, "1500 milliseconds"},
        {0, "0 seconds"},
        {1, "1 nanosecond"},
        {-90 * SDB_NS_PER_MIN, "-90 minutes"},
        {INT64_MIN, "-9223372036854775808 nanoseconds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[SDB_INTERVAL_FMT_MAX];
        sdb_interval_format(cases[i].ns, out);
        cr_assert_str_eq(out, cases[i].text);
        cr_assert_eq(interval_ok(out), cases[i].ns);
    }
}
