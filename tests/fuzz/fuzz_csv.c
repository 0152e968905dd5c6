/* Fuzz harness for the CSV importer (engine/import_csv.c: tokenizer, type inference, the
 * Phoenix and Langfuse row paths): see tests/fuzz/fuzz_import.h. */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import_one(SDB_IMPORT_CSV, data, size);
}
