/* Fuzz harness for the reply reader of the TCP client (engine/client.c): arbitrary reply
 * text to a statement on line 1..4 (the first byte) must parse into a result or fail with an
 * error, never crash; a result must have consistent cells (types as declared, strings inside
 * their length). A violation aborts. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/client.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdb_run_result r;
    sdb_err err;
    uint64_t werr = 0;
    if (size < 1)
        return 0;
    if (sdb_client_parse_reply((const char *)data + 1, size - 1, (uint64_t)(data[0] % 4) + 1, &r,
                               &werr, &err) != SDB_OK)
        return 0;
    if (r.rows != NULL) {
        for (uint64_t i = 0; i < r.rows->nrows; i++)
            for (uint32_t j = 0; j < r.rows->ncols; j++) {
                const sdb_value *v = sdb_result_at(r.rows, i, j);
                if (v->type != r.rows->types[j]) {
                    fprintf(stderr, "fuzz_client: cell type differs from its column\n");
                    abort();
                }
                if (!v->null && (v->type == SDB_TYPE_STRING || v->type == SDB_TYPE_SYMBOL)) {
                    volatile unsigned sum = 0; /* every byte readable (ASan checks) */
                    for (uint32_t k = 0; k < v->u.s.len; k++)
                        sum += (unsigned char)v->u.s.p[k];
                    (void)sum;
                }
            }
    }
    sdb_run_result_free(&r);
    return 0;
}
