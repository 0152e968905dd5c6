/* Formatting helpers for the subcommands. */
#include "tools/util.h"

#include <stdio.h>
#include <time.h>

void sdb_tool_format_time(char *out, size_t n, int64_t ns)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    struct tm tm;
    time_t t;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    t = (time_t)sec;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, n, "%lld", (long long)ns);
        return;
    }
    if (frac == 0)
        snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}
