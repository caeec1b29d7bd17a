/*===- peak.c - The machine's f32 FMA peak, as a GEMM kernel sees it ------===*
 *
 * bench.py compiles this with clang -O3 -march=native and runs it per thread
 * count at the start and before Kiln's timing in each round; "% of peak" in
 * its table is over what this prints. Each thread runs the shape of Kiln's
 * GEMM micro-kernel with its operands in L1, as codegen/cpu/Target.cpp picks
 * it: ROWS x 2 vectors of accumulators in registers, per step two vector
 * loads of B and ROWS broadcasts of A feeding 2 x ROWS FMAs, in intrinsics.
 * AVX-512: 16-float vectors, 8 rows (16 of the 32 zmm registers). AVX2:
 * 8-float vectors, 6 rows (12 of the 16 ymm registers; 8 rows would spill,
 * and measured a third of the peak).
 *
 * Each thread warms up (clocks, caches) and waits at a barrier; the clock
 * starts when all have arrived. Timed from thread creation instead, the
 * two-thread figure on the Zen 5 VM read 294-332 GFLOP/s in some rounds
 * (against 400-449), the second vCPU taking milliseconds to wake up for a
 * loop of 25 ms.
 *
 * Usage: peak THREADS   prints "GFLOPS <total over all threads>".
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#define ROWS 8
typedef __m512 vec;
#define LOAD(p) _mm512_load_ps(p)
#define SPLAT(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ZERO() _mm512_setzero_ps()
#define STORE(p, v) _mm512_store_ps(p, v)
#elif defined(__AVX2__) && defined(__FMA__)
#define LANES 8
#define ROWS 6
typedef __m256 vec;
#define LOAD(p) _mm256_load_ps(p)
#define SPLAT(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ZERO() _mm256_setzero_ps()
#define STORE(p, v) _mm256_store_ps(p, v)
#else
#error "peak.c measures x86-64 with AVX2 or AVX-512"
#endif

#define VECS 2
#define DEPTH 256
#define REPEATS 40000L

static float a[DEPTH * ROWS] __attribute__((aligned(64)));
static float b[DEPTH * VECS * LANES] __attribute__((aligned(64)));
static float out[64][ROWS * VECS * LANES] __attribute__((aligned(64)));
static volatile float sink; /* keeps the sums alive */

static pthread_barrier_t ready;

static void *kernel(void *arg) {
  float *result = out[(long)arg];
  long rep;
  int r, v, k;
  vec acc[ROWS][VECS];
  for (r = 0; r < ROWS; ++r)
    for (v = 0; v < VECS; ++v)
      acc[r][v] = ZERO();
  for (rep = 0; rep < REPEATS; ++rep) {
    for (k = 0; k < DEPTH; ++k) {
      vec bv[VECS];
      for (v = 0; v < VECS; ++v)
        bv[v] = LOAD(b + (k * VECS + v) * LANES);
      for (r = 0; r < ROWS; ++r) {
        vec x = SPLAT(a[k * ROWS + r]);
        for (v = 0; v < VECS; ++v)
          acc[r][v] = FMA(x, bv[v], acc[r][v]);
      }
    }
  }
  for (r = 0; r < ROWS; ++r)
    for (v = 0; v < VECS; ++v)
      STORE(result + (r * VECS + v) * LANES, acc[r][v]);
  sink = result[0];
  return 0;
}

/* A thread: warm up, wait for the others, then the timed loop. */
static void *worker(void *arg) {
  kernel(arg);
  pthread_barrier_wait(&ready);
  return kernel(arg);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1, i;
  pthread_t tid[64];
  double start, seconds;
  if (threads < 1 || threads > 64)
    return 1;
  for (i = 0; i < DEPTH * ROWS; ++i)
    a[i] = 1e-3f * (float)(i % 7);
  for (i = 0; i < DEPTH * VECS * LANES; ++i)
    b[i] = 1e-3f * (float)(i % 5);
  pthread_barrier_init(&ready, 0, threads);
  for (i = 1; i < threads; ++i)
    pthread_create(&tid[i], 0, worker, (void *)(long)i);
  kernel(0); /* warm up: clocks, caches */
  pthread_barrier_wait(&ready);
  start = now();
  kernel(0);
  for (i = 1; i < threads; ++i)
    pthread_join(tid[i], 0);
  seconds = now() - start;
  pthread_barrier_destroy(&ready);
  printf("GFLOPS %.1f\n", 2.0 * ROWS * VECS * LANES * DEPTH * REPEATS *
                              threads / seconds * 1e-9);
  return 0;
}
