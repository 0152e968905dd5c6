/* The dictionary interface of symbol vectors, and the constant validity bitmaps. */
#include "query/vector.h"

_Static_assert(SDB_VEC_WORDS == 32, "the initializer below lists 32 words");
#define ONES4 ~(uint64_t)0, ~(uint64_t)0, ~(uint64_t)0, ~(uint64_t)0
const uint64_t sdb_vec_all_valid[SDB_VEC_WORDS] = {ONES4, ONES4, ONES4, ONES4,
                                                   ONES4, ONES4, ONES4, ONES4};
const uint64_t sdb_vec_all_null[SDB_VEC_WORDS];

uint32_t sdb_dict_count(const sdb_dict *d)
{
    return d->seg != NULL ? d->seg->dict_count : sdb_symdict_count(d->mem);
}

sdb_str sdb_dict_get(const sdb_dict *d, uint32_t code)
{
    sdb_str s;
    if (d->seg != NULL)
        s.p = sdb_seg_dict_get(d->seg, code, &s.len);
    else
        s.p = sdb_symdict_get(d->mem, code, &s.len);
    return s;
}

bool sdb_dict_find(const sdb_dict *d, const char *s, size_t n, uint32_t *code)
{
    if (d->seg != NULL)
        return sdb_seg_dict_find(d->seg, s, n, code);
    return sdb_symdict_find(d->mem, s, n, code);
}
