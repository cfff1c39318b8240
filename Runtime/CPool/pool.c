#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PAUSE() _mm_pause()
#else
#define PAUSE() ((void)0)
#endif

#define MAX_WORKERS 256
#define SPIN_ROUNDS 20000  // pause instructions before sleeping (about a millisecond)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_flag busy = ATOMIC_FLAG_INIT;
static atomic_uint_fast64_t generation;  // one per job
static atomic_int sleepers, remaining;
static int started;                      // worker threads created (guarded by busy)
static pool_task jobTask;
static void *jobContext;
static int jobWorkers;
// The generation current when each worker was created: a worker added while the pool grows must not
// take the job being published (or an earlier one) for a new one.
static uint_fast64_t startGeneration[MAX_WORKERS];

static void *worker_main(void *arg) {
    const int index = (int)(intptr_t)arg;
    uint_fast64_t seen = startGeneration[index];
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&generation, memory_order_acquire) == seen && spins < SPIN_ROUNDS) { PAUSE(); spins++; }
        if (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
        }
        // Every worker acknowledges every job (those beyond the job's count without running it), so none
        // can lag a job behind and read the next job's fields as this one's.
        seen = atomic_load_explicit(&generation, memory_order_acquire);
        if (index < jobWorkers) jobTask(jobContext, index);
        atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
    }
    return 0;
}

// After fork() only the forking thread exists in the child: start the pool afresh there.
static void after_fork_child(void) {
    started = 0;
    atomic_store(&sleepers, 0);
    atomic_flag_clear(&busy);
    pthread_mutex_init(&lock, 0);
    pthread_cond_init(&wake, 0);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) { pthread_atfork(0, 0, after_fork_child); }

int pool_run(int workers, pool_task task, void *context) {
    const int requested = workers;
    if (workers <= 1) { for (int t = 0; t < requested; t++) task(context, t); return 1; }
    if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) return 0;
    pthread_once(&once, install_fork_handler);
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    while (started < workers - 1) {
        // pthread_create orders this write before the new thread starts.
        startGeneration[started + 1] = atomic_load_explicit(&generation, memory_order_relaxed);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 8 << 20);
        if (pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(started + 1)) != 0) {
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        pthread_detach(t);
        started++;
    }
    if (started < workers - 1) workers = started + 1;
    jobTask = task;
    jobContext = context;
    jobWorkers = workers;
    atomic_store_explicit(&remaining, started, memory_order_relaxed);
    atomic_fetch_add(&generation, 1);  // sequentially consistent: pairs with the sleepers count
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    task(context, 0);
    // Indices no worker could take (more than MAX_WORKERS, or a thread that could not be created) run here.
    for (int t = workers; t < requested; t++) task(context, t);
    while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) PAUSE();
    atomic_flag_clear_explicit(&busy, memory_order_release);
    return 1;
}
