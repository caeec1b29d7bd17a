/*===- Threads.c - Kiln runtime: the thread pool ---------------------------===*
 *
 * This file implements kiln_parallel_rows, which generated code calls for
 * its large loops, on a small pool of pthreads. The caller and the workers
 * each own an even share of the loop's rows and run it a piece at a time,
 * large pieces first, small ones last; one that is done takes half of what
 * is left of another's (work stealing).
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

uint64_t kiln_profile_busy_ns(void) { return 0; }

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

/* The job in flight; written by the caller before it publishes it. */
static struct {
  kiln_rows_fn fn;
  void *p[KILN_ROWS_BUFFERS];
  int64_t x, y, n;
  /* Rows per unit of the ranges (1 unless n > 0xffff), units in all; a
   * claim takes half the units left in the claimer's range, and at least
   * `least`. */
  int64_t unit, units, least;
  int threads; /* the ranges: the caller's and workers 1 .. threads - 1 */
  /* Under a profiler: the threads' nanoseconds in fn, summed. */
  int timed;
  uint64_t busyNs;
} job;

/* Each thread owns a range of the job's units, an even share of them (the
 * caller the first, worker i the (i + 1)-th), in a cache line of its own
 * with the units it has run: `range` holds the job's generation (high 32
 * bits) and the unclaimed units [low, high) (16 bits each). A thread claims
 * pieces from the low end of its own range, each half of what is left there
 * and at least a sixteenth of its share, with a compare-and-swap on its
 * own line, which no other core touches meanwhile; one whose range is empty
 * takes half of the unclaimed units of the fullest other range (and at
 * least a sixteenth of a share) from its high end, with a compare-and-swap
 * on that thread's line, and runs them as one piece (into its own range to
 * be cut again, an absent thread's range took 40 pieces and more with four
 * threads on two cores). So with two threads each runs the same half of
 * every loop, layer after layer (a convolution then mostly reads the rows
 * its own core wrote: on a machine whose cores share no cache, fetching the
 * other core's lines is what a second thread mostly costs), and only the
 * end of a loop moves a line between the cores. (One ticket that both
 * threads claimed from, from either end, moved its line at every claim, a
 * dozen a loop: SqueezeNet's calls on two threads took 2.5% longer, their
 * threads 6.4% of that time outside the kernels, claiming or waiting,
 * against 5.3% now, half of it one thread waiting for the other's last
 * piece, which pieces of 1/64 of the loop rather than 1/32 did not shorten.
 * Interleaved rounds on Zen 5, cores far: SqueezeNet 0.989 of the ticket,
 * MobileNetV2 0.982, ResNet-50 0.996.) The compare-and-swaps check the
 * generation, so a worker that wakes late never runs a piece of a finished
 * job, and a thread whose range is empty takes the others' pieces: a worker
 * that the OS does not schedule in time costs nothing but its share, which
 * the caller runs. Workers spin reading `generation`, in a line of its own. */
#define KILN_OWN_LINE __attribute__((aligned(64)))
static struct {
  uint64_t range;
  int64_t done;
} KILN_OWN_LINE slots[KILN_MAX_THREADS];
static struct {
  /* What sleeping and spinning workers watch. */
  unsigned generation KILN_OWN_LINE;
} counters KILN_OWN_LINE;

static void cpuRelax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t nowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t makeRange(unsigned gen, int64_t low, int64_t high) {
  return ((uint64_t)gen << 32) | ((uint64_t)low << 16) | (uint64_t)high;
}

/* The units a claim takes of `left` unclaimed ones: half (rounded up), at
 * least `least`, at most all. The job's sizes may already be the next
 * job's if this one has ended meanwhile; the claim's compare-and-swap then
 * fails, and this only has to stay within [1, left]. */
static int64_t pieceOf(int64_t left) {
  int64_t take = (left + 1) / 2,
          least = __atomic_load_n(&job.least, __ATOMIC_RELAXED);
  if (take < least)
    take = least;
  return take < left ? take : left;
}

/* Runs units [first, first + take) of the job and counts them in `self`'s
 * slot. */
static void runPiece(int self, int64_t first, int64_t take) {
  /* The job is this generation's: the claim that gave these units held. */
  int64_t begin = first * job.unit, end = (first + take) * job.unit;
  uint64_t start = job.timed ? nowNs() : 0;
  if (end > job.n)
    end = job.n;
  if (begin < end)
    job.fn(job.p[0], job.p[1], job.p[2], job.p[3], job.p[4], job.p[5], job.p[6],
           job.p[7], job.x, job.y, begin, end);
  /* Before the units count as done: the caller reads the sum after. */
  if (job.timed)
    __atomic_fetch_add(&job.busyNs, nowNs() - start, __ATOMIC_RELAXED);
  __atomic_store_n(&slots[self].done,
                   __atomic_load_n(&slots[self].done, __ATOMIC_RELAXED) + take,
                   __ATOMIC_RELEASE);
}

/* Claims and runs pieces of job `gen` on thread `self` (0 the caller) of
 * `threads` until none is left in any range. Returns the units it ran. */
static int64_t runPieces(unsigned gen, int self, int threads) {
  int64_t ran = 0;
  for (;;) {
    uint64_t r = __atomic_load_n(&slots[self].range, __ATOMIC_ACQUIRE);
    int64_t low = (int64_t)((r >> 16) & 0xffff), high = (int64_t)(r & 0xffff);
    int64_t take, most = 0;
    int victim = -1, t;
    uint64_t v = 0;
    if ((unsigned)(r >> 32) != gen)
      return ran;
    if (low < high) {
      take = pieceOf(high - low);
      if (!__atomic_compare_exchange_n(&slots[self].range, &r,
                                       r + ((uint64_t)take << 16), 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        continue;
      runPiece(self, low, take);
      ran += take;
      continue;
    }
    /* Its own range is empty: half of the fullest other one's. */
    for (t = 0; t < threads; ++t) {
      uint64_t o;
      int64_t left;
      if (t == self)
        continue;
      o = __atomic_load_n(&slots[t].range, __ATOMIC_ACQUIRE);
      left = (int64_t)(o & 0xffff) - (int64_t)((o >> 16) & 0xffff);
      if ((unsigned)(o >> 32) == gen && left > most) {
        most = left;
        victim = t;
        v = o;
      }
    }
    if (victim < 0)
      return ran;
    take = pieceOf(most);
    high = (int64_t)(v & 0xffff);
    if (!__atomic_compare_exchange_n(&slots[victim].range, &v, v - take, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      continue;
    runPiece(self, high - take, take);
    ran += take;
  }
}

static void *workerMain(void *arg) {
  unsigned seen = 0;
  int self = (int)(intptr_t)arg;
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
    (void)runPieces(now, self, __atomic_load_n(&job.threads, __ATOMIC_RELAXED));
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
         pthread_create(&workers[numWorkers], &attr, workerMain,
                        (void *)(intptr_t)(numWorkers + 1)) == 0)
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
/* The threads' time in the loop the profiler is told of (its call only). */
static uint64_t profiledBusyNs;

uint64_t kiln_profile_busy_ns(void) { return profiledBusyNs; }

void kiln_set_profiler(kiln_profile_fn fn, void *user) {
  profiler = fn;
  profilerUser = user;
}

/* Runs the loop; returns the rows that the caller ran. */
static int64_t parallelRows(kiln_rows_fn fn, void *b0, void *b1, void *b2,
                            void *b3, void *b4, void *b5, void *b6, void *b7,
                            int64_t x, int64_t y, int64_t n) {
  unsigned gen;
  int spins = 0, threads, t;
  int64_t callerUnits;
  if (numThreads <= 1 || n <= 1 || pthread_mutex_trylock(&busy) != 0) {
    uint64_t start = profiler ? nowNs() : 0;
    fn(b0, b1, b2, b3, b4, b5, b6, b7, x, y, 0, n);
    if (profiler)
      profiledBusyNs = nowNs() - start;
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
  job.timed = profiler != 0;
  job.busyNs = 0;
  job.unit = (n + 0xfffe) / 0xffff;
  job.units = (n + job.unit - 1) / job.unit;
  threads = numThreads < job.units ? numThreads : (int)job.units;
  __atomic_store_n(&job.threads, threads, __ATOMIC_RELAXED);
  __atomic_store_n(&job.least, job.units / (16 * (int64_t)threads),
                   __ATOMIC_RELAXED);
  gen = __atomic_load_n(&counters.generation, __ATOMIC_RELAXED) + 1;
  for (t = 0; t < threads; ++t) {
    __atomic_store_n(&slots[t].done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(
        &slots[t].range,
        makeRange(gen, job.units * t / threads, job.units * (t + 1) / threads),
        __ATOMIC_RELEASE);
  }
  pthread_mutex_lock(&lock);
  __atomic_store_n(&counters.generation, gen, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  callerUnits = runPieces(gen, 0, threads);
  for (;;) {
    int64_t done = 0;
    for (t = 0; t < threads; ++t)
      done += __atomic_load_n(&slots[t].done, __ATOMIC_ACQUIRE);
    if (done == job.units)
      break;
    if (spins++ < KILN_SPINS)
      cpuRelax();
    else
      sched_yield();
  }
  callerUnits *= job.unit;
  profiledBusyNs = __atomic_load_n(&job.busyNs, __ATOMIC_RELAXED);
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
  profiledBusyNs = 0;
}

#endif
