/* Fuzz harness for the phoenix importer (engine/import_phoenix.c over engine/jtree.c and the
 * shared attribute mapping of engine/import_otlp.c): see tests/fuzz/fuzz_import.h. */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import_one(SDB_IMPORT_PHOENIX, data, size);
}
