// The stamp comes from stamp.h, which `make stamp` writes (commit and build flags); a plain
// `swift build` has none and says "unknown".
#include "buildinfo.h"
#if __has_include("stamp.h")
#include "stamp.h"
#endif
#ifndef MLTOOLS_COMMIT
#define MLTOOLS_COMMIT "unknown"
#endif
#ifndef MLTOOLS_FLAGS
#define MLTOOLS_FLAGS "unknown (not built by make)"
#endif
const char *mltools_commit(void) { return MLTOOLS_COMMIT; }
const char *mltools_build_flags(void) { return MLTOOLS_FLAGS; }
