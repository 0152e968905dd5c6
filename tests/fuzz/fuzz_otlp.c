/* Fuzz harness for the otlp importer (engine/import_otlp.c over engine/jtree.c): see
 * tests/fuzz/fuzz_import.h. */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import_one(SDB_IMPORT_OTLP_JSON, data, size);
}
