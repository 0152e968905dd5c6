/* The libFuzzer entry point every harness defines (declared for -Wmissing-prototypes). */
#ifndef SDB_TESTS_FUZZ_H
#define SDB_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
