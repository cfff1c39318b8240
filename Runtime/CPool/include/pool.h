// pool: the runtime's worker threads for parallelFor, spinning briefly between jobs.
//
// A decoder step runs a few hundred small parallel loops (one per matrix-vector product), each tens of
// microseconds long. Waking a sleeping thread per loop (Dispatch's concurrentPerform) costs about as
// much as the loop, so a second thread made decoding slower, not faster. These workers spin on a job
// counter for about a millisecond after their last job before sleeping on a condition variable, as
// ggml's thread pool does: back-to-back loops start without a wake-up.
#ifndef POOL_H
#define POOL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*pool_task)(void *context, int worker);

// Runs task(context, t) for t in 0 ..< workers, t = 0 on the calling thread, and returns when all
// have finished. Returns 0 without running anything when the pool is busy (another thread's job):
// the caller then runs the work some other way.
int pool_run(int workers, pool_task task, void *context);

// A byte published by one thread and read by others (acquire/release): lazily filled tables (the
// tokenizer's Unicode pages) mark a part ready only after writing it.
static inline unsigned char pool_load_acquire(const unsigned char *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void pool_store_release(unsigned char *p, unsigned char v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

#ifdef __cplusplus
}
#endif
#endif
