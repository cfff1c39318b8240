// Open MPI (Debian: libopenmpi-dev, run with openmpi-bin's mpirun), found through pkg-config "ompi-c".
// MPI's handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM) are macros over global objects that Swift cannot
// import, so the few calls the toolkit makes are wrapped here. Only `zo` links this (RuntimeMPI).
#include <mpi.h>

static inline int mlt_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(0, 0, MPI_THREAD_FUNNELED, &provided);
}
static inline int mlt_mpi_initialized(void) { int flag = 0; MPI_Initialized(&flag); return flag; }
static inline int mlt_mpi_finalized(void) { int flag = 0; MPI_Finalized(&flag); return flag; }
static inline int mlt_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int mlt_mpi_size(void) { int n = 1; MPI_Comm_size(MPI_COMM_WORLD, &n); return n; }
/// Sums `n` doubles over all ranks, in place (every rank gets the sum).
static inline int mlt_mpi_allreduce_sum(double *buf, int n) {
    return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static inline int mlt_mpi_finalize(void) { return MPI_Finalize(); }
static inline int mlt_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
