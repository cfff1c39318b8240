// libFuzzer's driver, when the binary is built with it (`make fuzz`: -sanitize=fuzzer and
// -u LLVMFuzzerRunDriver); a plain build has none and the harness says so.
#ifndef MLTOOLS_FUZZDRIVER_H
#define MLTOOLS_FUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>
typedef int (*mltools_fuzz_callback)(const uint8_t *data, size_t size);
/// Runs libFuzzer on `callback` with the command line; -1 when the binary has no libFuzzer.
int mltools_run_fuzzer(int argc, char **argv, mltools_fuzz_callback callback);
#endif
