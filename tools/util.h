/* Small helpers shared by the subcommands: formatting for people. */
#ifndef SDB_TOOLS_UTIL_H
#define SDB_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* ns since the epoch as "2026-01-02T03:04:05.123456789Z" (fraction trimmed). */
void sdb_tool_format_time(char *out, size_t n, int64_t ns);

#endif
