/* Fuzz harness for the langfuse importer (engine/import_langfuse.c over engine/jtree.c): see
 * tests/fuzz/fuzz_import.h. */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import_one(SDB_IMPORT_LANGFUSE, data, size);
}
