/* Time partitions: which partition a timestamp belongs to, and the partition's name in file
 * names. Partitions are aligned to UTC hours, days or calendar months. */
#ifndef SDB_ENGINE_PARTITION_H
#define SDB_ENGINE_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/manifest.h"

/* Start (ns since the epoch, UTC) of the partition holding ts. */
int64_t sdb_part_start(sdb_part_unit unit, int64_t ts);
/* Start of the partition after the one starting at start. */
int64_t sdb_part_next(sdb_part_unit unit, int64_t start);
/* "2026-01-02" (day), "2026-01-02T13" (hour), "2026-01" (month), into out. */
void sdb_part_name(sdb_part_unit unit, int64_t start, char *out, size_t n);
/* Parse "hour", "day" or "month" (any case). */
bool sdb_part_unit_parse(const char *s, size_t n, sdb_part_unit *unit);

#endif
