/* Column type names and parsing. */
#include "storage/types.h"

#include <strings.h>
#include <stddef.h>

static const struct {
    const char *name;
    sdb_type type;
} type_names[] = {
    {"timestamp", SDB_TYPE_TIMESTAMP}, {"int64", SDB_TYPE_INT64},     {"float64", SDB_TYPE_FLOAT64},
    {"bool", SDB_TYPE_BOOL},           {"symbol", SDB_TYPE_SYMBOL},   {"string", SDB_TYPE_STRING},
    /* SQL spellings */
    {"bigint", SDB_TYPE_INT64},        {"int", SDB_TYPE_INT64},       {"integer", SDB_TYPE_INT64},
    {"long", SDB_TYPE_INT64},          {"double", SDB_TYPE_FLOAT64},  {"float", SDB_TYPE_FLOAT64},
    {"real", SDB_TYPE_FLOAT64},        {"boolean", SDB_TYPE_BOOL},    {"varchar", SDB_TYPE_STRING},
    {"text", SDB_TYPE_STRING},         {"timestamptz", SDB_TYPE_TIMESTAMP},
};

const char *sdb_type_name(sdb_type t)
{
    switch (t) {
    case SDB_TYPE_TIMESTAMP: return "timestamp";
    case SDB_TYPE_INT64: return "int64";
    case SDB_TYPE_FLOAT64: return "float64";
    case SDB_TYPE_BOOL: return "bool";
    case SDB_TYPE_SYMBOL: return "symbol";
    case SDB_TYPE_STRING: return "string";
    }
    return "?";
}

bool sdb_type_parse(const char *name, size_t len, sdb_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        const char *n = type_names[i].name;
        size_t j = 0;
        while (j < len && n[j] != '\0' && (n[j] | 0x20) == (name[j] | 0x20))
            j++;
        if (j == len && n[j] == '\0') {
            *out = type_names[i].type;
            return true;
        }
    }
    return false;
}

bool sdb_type_valid(int t)
{
    return t >= SDB_TYPE_MIN && t <= SDB_TYPE_MAX;
}

unsigned sdb_type_width(sdb_type t)
{
    switch (t) {
    case SDB_TYPE_TIMESTAMP:
    case SDB_TYPE_INT64:
    case SDB_TYPE_FLOAT64: return 8;
    case SDB_TYPE_BOOL: return 1;
    case SDB_TYPE_SYMBOL: return 4;
    case SDB_TYPE_STRING: return 0;
    }
    return 0;
}
