/* Partition arithmetic: hours, days and calendar months, before and after 1970. */
#include <criterion/criterion.h>

#include "engine/partition.h"
#include "storage/common/timefmt.h"

static int64_t t(const char *iso)
{
    int64_t ns;
    sdb_err err;
    cr_assert_eq(sdb_time_parse(iso, strlen(iso), &ns, &err), SDB_OK, "%s", err.msg);
    return ns;
}

static void named(sdb_part_unit u, const char *iso, const char *want)
{
    char name[32];
    sdb_part_name(u, sdb_part_start(u, t(iso)), name, sizeof name);
    cr_assert_str_eq(name, want, "%s", iso);
}

Test(partition, starts_names_and_next_for_every_unit)
{
    named(SDB_PART_DAY, "2026-01-01T23:59:59.999999999Z", "2026-01-01");
    named(SDB_PART_HOUR, "2026-01-01T13:59:59Z", "2026-01-01T13");
    named(SDB_PART_MONTH, "2026-02-28T23:00:00Z", "2026-02");
    named(SDB_PART_DAY, "1969-12-31T23:59:59Z", "1969-12-31");
    named(SDB_PART_MONTH, "1969-12-31T23:59:59Z", "1969-12");
    cr_assert_eq(sdb_part_start(SDB_PART_MONTH, t("2024-02-29T12:00:00Z")), t("2024-02-01"));
    cr_assert_eq(sdb_part_next(SDB_PART_MONTH, t("2024-02-01")), t("2024-03-01"));
    cr_assert_eq(sdb_part_next(SDB_PART_MONTH, t("2025-12-01")), t("2026-01-01"));
    cr_assert_eq(sdb_part_next(SDB_PART_DAY, t("2026-03-29")), t("2026-03-30"));
    cr_assert_eq(sdb_part_start(SDB_PART_HOUR, -1), -3600000000000LL);
    sdb_part_unit u;
    cr_assert(sdb_part_unit_parse("Month", 5, &u) && u == SDB_PART_MONTH);
    cr_assert(!sdb_part_unit_parse("week", 4, &u));
}
