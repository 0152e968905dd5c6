/* Option values shared by the subcommands: sizes with K/M/G suffixes. */
#ifndef SDB_TOOLS_ARGS_H
#define SDB_TOOLS_ARGS_H

#include <stddef.h>

/* "512M", "2G", "64K", "1000000" (an optional trailing B); 0 on success, -1 for anything
 * else, including 0 bytes. */
int sdb_parse_bytes(const char *s, size_t *out);

#endif
