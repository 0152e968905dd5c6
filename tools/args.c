/* Parsing of option values for the subcommands. */
#include "tools/args.h"

#include <errno.h>
#include <stdlib.h>

int sdb_parse_bytes(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *s == '-')
        return -1;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || v == 0 || v > (~0ULL >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}
