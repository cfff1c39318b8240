// What a binary knows of how it was built: the commit and the build flags, stamped by the Makefile
// through Runtime/CBuildInfo/stamp.h ("unknown" for a plain `swift build`).
#ifndef MLTOOLS_BUILDINFO_H
#define MLTOOLS_BUILDINFO_H
const char *mltools_commit(void);
const char *mltools_build_flags(void);
#endif
