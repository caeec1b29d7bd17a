/*===- xcore.c - What moving data between two cores costs, right now -------===*
 *
 * bench.py compiles this with clang -O3 -march=native and runs it at the
 * start and at the end of a run, and prints what it measured beside the
 * table. On the shared VMs these benchmarks run on, the two vCPUs are
 * sometimes close (reading 4 MB that the other core just wrote as fast as
 * reading one's own, a cache line's round trip about 200 ns) and sometimes
 * far (the other core's data at a third of the speed, round trips of 400+
 * ns), and the placement changes within an hour. Every two-thread figure
 * moves with it: a second thread reads what the first wrote at every layer
 * boundary, and every parallel loop's pieces are handed out through shared
 * cache lines. On Zen 5, 2026-12-04: MobileNetV2 on two threads 2.2 ms
 * close, 3.4-3.7 ms far (ONNX Runtime 3.2 and 4.0 ms).
 *
 * Threads run pinned to the first two CPUs that this process may use:
 *   own    a core reads 4 MB that it wrote itself (each core in turn)
 *   cross  a core reads 4 MB that the other core just wrote (both ways)
 *   rtt    a cache line passed from one core to the other and back
 * Usage: xcore   prints "XCORE <own GB/s> <cross GB/s> <rtt ns>", or
 *                "XCORE none" with fewer than two CPUs.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WORDS ((4u << 20) / 8) /* 4 MB of uint64_t */
#define PASSES 16
#define TRIPS 50000

static uint64_t *buffer;
static volatile uint64_t sink;
static int cpus[2];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void pin(int which) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[which], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void fill(uint64_t value) {
  for (uint32_t i = 0; i < WORDS; ++i)
    buffer[i] = value + i;
}

/* Seconds to read the buffer once. */
static double timedRead(void) {
  uint64_t sum = 0;
  double start = now();
  for (uint32_t i = 0; i < WORDS; ++i)
    sum += buffer[i];
  double seconds = now() - start;
  sink += sum;
  return seconds;
}

/* GB/s reading what core `writer` wrote, on core `reader`. */
static double bandwidth(int writer, int reader) {
  double seconds = 0;
  for (int pass = 0; pass < PASSES; ++pass) {
    pin(writer);
    fill(pass);
    pin(reader);
    seconds += timedRead();
  }
  return (double)WORDS * 8 * PASSES / seconds / 1e9;
}

static volatile uint64_t line[16] __attribute__((aligned(64)));

static void *echo(void *arg) {
  (void)arg;
  pin(1);
  for (uint64_t i = 0; i < TRIPS; ++i) {
    while (line[0] != 2 * i + 1)
      ;
    line[0] = 2 * i + 2;
  }
  return 0;
}

int main(void) {
  cpu_set_t allowed;
  int found = 0;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
    for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
      if (CPU_ISSET(c, &allowed))
        cpus[found++] = c;
  buffer = aligned_alloc(64, (size_t)WORDS * 8);
  if (found < 2 || !buffer) {
    printf("XCORE none\n");
    return 0;
  }
  fill(0);
  double own = (bandwidth(0, 0) + bandwidth(1, 1)) / 2;
  double cross = (bandwidth(0, 1) + bandwidth(1, 0)) / 2;
  pthread_t other;
  pin(0);
  line[0] = 0;
  if (pthread_create(&other, 0, echo, 0) != 0) {
    printf("XCORE none\n");
    return 0;
  }
  double start = now();
  for (uint64_t i = 0; i < TRIPS; ++i) {
    line[0] = 2 * i + 1;
    while (line[0] != 2 * i + 2)
      ;
  }
  double rtt = (now() - start) / TRIPS * 1e9;
  pthread_join(other, 0);
  printf("XCORE %.1f %.1f %.0f\n", own, cross, rtt);
  return 0;
}
