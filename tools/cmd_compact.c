/* spandb compact: merge the segments of every partition of a data directory into one,
 * published atomically (the same merge a server runs in the background). */
#include <stdio.h>
#include <string.h>

#include "engine/db.h"
#include "tools/commands.h"

int sdb_cmd_compact(int argc, char **argv)
{
    const char *data = "./spandb-data", *table = NULL;
    sdb_db_opts o;
    sdb_db_open_report rep;
    char repair[512];
    sdb_db *db;
    sdb_err err;
    sdb_db_stats before, after;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc) {
            table = argv[++i];
        } else {
            fprintf(strcmp(argv[i], "--help") ? stderr : stdout,
                    "usage: spandb compact --data DIR [--table T]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    sdb_db_opts_default(&o);
    if (sdb_db_open(data, &o, &db, &rep, &err) != SDB_OK) {
        fprintf(stderr, "spandb compact: %s\n", err.msg);
        return 1;
    }
    sdb_db_open_report_text(&rep, repair, sizeof repair);
    if (repair[0] != '\0')
        fprintf(stderr, "spandb compact: %s: %s\n", data, repair);
    sdb_db_get_stats(db, &before);
    if (sdb_db_flush(db, table, &err) != SDB_OK || sdb_db_compact(db, table, true, 0, &err) != SDB_OK) {
        fprintf(stderr, "spandb compact: %s\n", err.msg);
        sdb_db_close(db, NULL);
        return 1;
    }
    sdb_db_get_stats(db, &after);
    printf("%s: %llu segments (%.1f MB) -> %llu segments (%.1f MB), %llu rows\n", data,
           (unsigned long long)before.segments, (double)before.segment_bytes / 1e6,
           (unsigned long long)after.segments, (double)after.segment_bytes / 1e6,
           (unsigned long long)after.segment_rows);
    if (sdb_db_close(db, &err) != SDB_OK) {
        fprintf(stderr, "spandb compact: %s\n", err.msg);
        return 1;
    }
    return 0;
}
