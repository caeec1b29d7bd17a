/*===- Threads.c - Kiln runtime: the thread pool ---------------------------===*
 *
 * This file implements kiln_parallel_rows, which generated code calls for
 * its large loops, on a small pool of pthreads. The caller and the workers
 * claim the loop's rows a piece at a time, each piece a share of the rows
 * still unclaimed: large pieces first, small ones last (guided scheduling).
 * Workers spin for a while on a generation counter before they sleep on a
 * condition variable, since a model makes hundreds of such calls per run,
 * each a fraction of a millisecond. With one thread (the default) no
 * worker exists and the loop runs on the caller. KILN_RUNTIME_BAREMETAL
 * builds have no pool at all.
 *
 * One model runs in parallel at a time: a call made while another is in
 * flight (a second application thread running a model) runs on its caller.
 * A profiler (kiln_set_profiler, kiln-run --profile) is told of each call
 * when it ends; with none, a call costs one test of a pointer more.
 *
 *===----------------------------------------------------------------------===*/

#if !defined(KILN_RUNTIME_BAREMETAL) && !defined(_POSIX_C_SOURCE)
/* pthreads and sched_yield under a strict -std=c99. */
#define _POSIX_C_SOURCE 200112L
#endif

#include "kiln/runtime.h"

#ifdef KILN_RUNTIME_BAREMETAL

int kiln_set_num_threads(int threads) {
  (void)threads;
  return 1;
}

int kiln_get_num_threads(void) { return 1; }

void kiln_parallel_rows(kiln_rows_fn fn, void *b0, void *b1, void *b2, void *b3,
                        void *b4, void *b5, void *b6, void *b7, int64_t x,
                        int64_t y, int64_t n) {
  fn(b0, b1, b2, b3, b4, b5, b6, b7, x, y, 0, n);
}

void kiln_set_profiler(kiln_profile_fn fn, void *user) {
  (void)fn;
  (void)user;
}

#else

#include <pthread.h>
#include <sched.h>
#include <time.h>

/* Bytes of a worker's stack (kiln_set_num_threads). */
#define KILN_WORKER_STACK (1024 * 1024)

/* Spins of a waiting thread before it sleeps or yields. */
#define KILN_SPINS 4096

static int numThreads = 1;
static int numWorkers; /* started, never stopped */
static pthread_t workers[KILN_MAX_THREADS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;

/* The job in flight; written by the caller before it publishes `ticket`. */
static struct {
  kiln_rows_fn fn;
  void *p[KILN_ROWS_BUFFERS];
  int64_t x, y, n;
  /* Rows per unit of the ticket (1 unless n > 0xffff), units in all; a
   * claim takes the units left over `share`, and at least `least`. */
  int64_t unit, units, share, least;
} job;

/* Pieces are claimed from `ticket`: the job's generation (high 32 bits),
 * and the unclaimed units of rows [low, high) (16 bits each). The caller
 * claims from the low end, the workers from the high end, so that with two
 * threads each runs the same end of every loop, layer after layer: a
 * convolution then mostly reads the rows its own core wrote (on a machine
 * whose cores share no cache, fetching the other core's lines is what a
 * second thread mostly costs). A piece is the unclaimed units over twice
 * the threads, and at least a sixteenth of a thread's even share: with two
 * threads a quarter of the loop from either end, then 3/16, ..., and the
 * last pieces 1/32 of it, a dozen claims in all. Fixed pieces of 1/8 (as
 * before) left the thread that finished first waiting half a piece on
 * average at the end of each loop, 8% of MobileNetV2's time on two
 * threads. A thread claims with a compare-and-swap that also checks the
 * generation, so a worker that wakes late never runs a piece of a finished
 * job, and the caller runs every piece nobody else took: a worker that the
 * OS does not schedule in time costs nothing but its share. Each counter
 * has a cache line of its own: workers spin reading `generation` while the
 * threads claim pieces from `ticket` and count their units in `done`;
 * sharing a line, every claim would pull it away from the spinners and
 * back. */
#define KILN_OWN_LINE __attribute__((aligned(64)))
static struct {
  uint64_t ticket KILN_OWN_LINE;
  /* What sleeping and spinning workers watch. */
  unsigned generation KILN_OWN_LINE;
  /* Units of the job in flight whose pieces have ended. */
  int64_t done KILN_OWN_LINE;
} counters KILN_OWN_LINE;

static void cpuRelax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Claims and runs pieces of job `gen` until none is left, from the high
 * end (`fromHigh`, the workers) or the low one (the caller). Returns the
 * units it ran. */
static int64_t runPieces(unsigned gen, int fromHigh) {
  int64_t ran = 0;
  for (;;) {
    uint64_t t = __atomic_load_n(&counters.ticket, __ATOMIC_ACQUIRE);
    int64_t low = (int64_t)((t >> 16) & 0xffff), high = (int64_t)(t & 0xffff);
    int64_t take, least, first;
    if ((unsigned)(t >> 32) != gen || low >= high)
      return ran;
    /* The job's sizes may already be the next job's if this one has been
     * claimed meanwhile; the compare-and-swap then fails, and take only
     * has to stay within [1, high - low]. */
    take = (high - low) / __atomic_load_n(&job.share, __ATOMIC_RELAXED);
    least = __atomic_load_n(&job.least, __ATOMIC_RELAXED);
    if (take < least)
      take = least;
    if (take > high - low)
      take = high - low;
    if (take < 1)
      take = 1;
    first = fromHigh ? high - take : low;
    if (!__atomic_compare_exchange_n(&counters.ticket, &t,
                                     fromHigh ? t - (uint64_t)take
                                              : t + ((uint64_t)take << 16),
                                     0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      continue;
    {
      /* Read once the claim holds: the job is then this generation's. */
      int64_t begin = first * job.unit, end = (first + take) * job.unit;
      if (end > job.n)
        end = job.n;
      if (begin < end)
        job.fn(job.p[0], job.p[1], job.p[2], job.p[3], job.p[4], job.p[5],
               job.p[6], job.p[7], job.x, job.y, begin, end);
    }
    __atomic_add_fetch(&counters.done, take, __ATOMIC_RELEASE);
    ran += take;
  }
}

static void *workerMain(void *arg) {
  unsigned seen = 0;
  (void)arg;
  for (;;) {
    unsigned now;
    int spins = 0;
    while ((now = __atomic_load_n(&counters.generation, __ATOMIC_ACQUIRE)) ==
               seen &&
           spins++ < KILN_SPINS * 16)
      cpuRelax();
    if (now == seen) {
      pthread_mutex_lock(&lock);
      while ((now = __atomic_load_n(&counters.generation, __ATOMIC_ACQUIRE)) ==
             seen)
        pthread_cond_wait(&wake, &lock);
      pthread_mutex_unlock(&lock);
    }
    seen = now;
    (void)runPieces(now, 1);
  }
  return 0;
}

int kiln_set_num_threads(int threads) {
  if (threads < 1)
    threads = 1;
  if (threads > KILN_MAX_THREADS)
    threads = KILN_MAX_THREADS;
  pthread_attr_t attr;
  pthread_mutex_lock(&busy);
  /* Workers run kernels that keep up to 256 KB on the stack (a fused
   * expansion and depthwise convolution's band of rows, kilnc's
   * kiln-lower-matmuls): their stacks are 1 MB where the C library's
   * default is smaller (musl's 128 KB). */
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, KILN_WORKER_STACK);
  while (numWorkers < threads - 1 &&
         pthread_create(&workers[numWorkers], &attr, workerMain, 0) == 0)
    ++numWorkers;
  pthread_attr_destroy(&attr);
  numThreads = numWorkers + 1 < threads ? numWorkers + 1 : threads;
  pthread_mutex_unlock(&busy);
  return numThreads;
}

int kiln_get_num_threads(void) { return numThreads; }

/* The profiler (kiln_set_profiler), NULL but under kiln-run --profile. */
static kiln_profile_fn profiler;
static void *profilerUser;

void kiln_set_profiler(kiln_profile_fn fn, void *user) {
  profiler = fn;
  profilerUser = user;
}

static uint64_t nowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Runs the loop; returns the rows that the caller ran. */
static int64_t parallelRows(kiln_rows_fn fn, void *b0, void *b1, void *b2,
                            void *b3, void *b4, void *b5, void *b6, void *b7,
                            int64_t x, int64_t y, int64_t n) {
  unsigned gen;
  int spins = 0;
  int64_t callerUnits;
  if (numThreads <= 1 || n <= 1 || pthread_mutex_trylock(&busy) != 0) {
    fn(b0, b1, b2, b3, b4, b5, b6, b7, x, y, 0, n);
    return n;
  }
  job.fn = fn;
  job.p[0] = b0;
  job.p[1] = b1;
  job.p[2] = b2;
  job.p[3] = b3;
  job.p[4] = b4;
  job.p[5] = b5;
  job.p[6] = b6;
  job.p[7] = b7;
  job.x = x;
  job.y = y;
  job.n = n;
  job.unit = (n + 0xfffe) / 0xffff;
  job.units = (n + job.unit - 1) / job.unit;
  __atomic_store_n(&job.share, 2 * (int64_t)numThreads, __ATOMIC_RELAXED);
  __atomic_store_n(&job.least, job.units / (16 * (int64_t)numThreads),
                   __ATOMIC_RELAXED);
  __atomic_store_n(&counters.done, 0, __ATOMIC_RELAXED);
  gen = __atomic_load_n(&counters.generation, __ATOMIC_RELAXED) + 1;
  __atomic_store_n(&counters.ticket,
                   ((uint64_t)gen << 32) | (uint64_t)job.units,
                   __ATOMIC_RELEASE);
  pthread_mutex_lock(&lock);
  __atomic_store_n(&counters.generation, gen, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  callerUnits = runPieces(gen, 0);
  while (__atomic_load_n(&counters.done, __ATOMIC_ACQUIRE) != job.units) {
    if (spins++ < KILN_SPINS)
      cpuRelax();
    else
      sched_yield();
  }
  callerUnits *= job.unit;
  pthread_mutex_unlock(&busy);
  return callerUnits < n ? callerUnits : n;
}

void kiln_parallel_rows(kiln_rows_fn fn, void *b0, void *b1, void *b2, void *b3,
                        void *b4, void *b5, void *b6, void *b7, int64_t x,
                        int64_t y, int64_t n) {
  uint64_t begin;
  int64_t callerRows;
  if (!profiler) {
    parallelRows(fn, b0, b1, b2, b3, b4, b5, b6, b7, x, y, n);
    return;
  }
  begin = nowNs();
  callerRows = parallelRows(fn, b0, b1, b2, b3, b4, b5, b6, b7, x, y, n);
  profiler(profilerUser, fn, n, begin, nowNs(), callerRows);
}

#endif
