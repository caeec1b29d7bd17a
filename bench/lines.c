/*===- lines.c - What a cache line's last use by the other core costs -----===*
 *
 * Two threads share a model's arena: a kernel writes lines that the other
 * core read or wrote in a kernel before. This times, in nanoseconds per
 * 64-byte line, one core writing or reading 512 KB whose lines were last
 * used as each row says, and then the pattern of a GEMM chunk whose packing
 * both threads share (each writes half of the pack buffer, both read all of
 * it, chunk after chunk). On Zen 5 with the vCPUs far (bench/xcore.c:
 * the other core's data at ~31 GB/s, round trips ~500 ns), 2026-12-06,
 * two runs: a line this core wrote last is rewritten in 0.3 ns; one the
 * other core wrote last in 1.75; one this core wrote and the other then
 * read in 8.8-8.9 (the writer's copy must take the line back from the
 * reader that shares it), while the reader rewrites such a line in 0.4; a
 * non-temporal store takes 1.4-2.6 whatever came before (and the next read
 * goes to memory). Sharing a packed chunk, each thread rewriting its own
 * half costs 9.1 ns a line, swapping halves every chunk 5.3-5.6, writing
 * them non-temporally 2.4-3.1, and halves that no other core reads 0.4-0.5.
 * The writer cannot take such a line back cheaply (2026-12-06, far):
 * prefetching each line for writing 32 lines ahead leaves it at 7.4-9.0
 * ns (a shared chunk 8.6-9.8), and reading the lines first at 10.1-10.8
 * (the read is quick, the write still waits); a line the other core wrote
 * and this core then read is rewritten in 0.3 (the read moved it here).
 *
 * Threads run pinned to the first two CPUs that this process may use.
 * Usage: lines   prints one "LINES <case> <ns per line>" row per case, or
 *                "LINES none" with fewer than two CPUs. A case is
 *   BEFORE-then-write|read|write-nt|write-pw|read-write   (write-pw: each
 *       store after a prefetch for writing 32 lines ahead; read-write: a
 *       read pass, then the writes) where BEFORE is own (this core wrote
 *       the lines), other-wrote, other-read (this core wrote them, then
 *       the other core read them) or read-others (the other core wrote
 *       them, then this core read them);
 *   chunk-same-halves, chunk-swapped-halves, chunk-nt, chunk-pw,
 *   chunk-private-halves
 *       the shared packing's writes, per line, averaged over the threads.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES (512u << 10)
#define LINES (BYTES / 64)
#define REPEATS 15

typedef float line_t __attribute__((vector_size(64), aligned(64)));

static line_t *buffer;
static int cpus[2];
static volatile float sink;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Lines [first, first + count) of the buffer. */
static void writeLines(size_t first, size_t count, float value) {
  line_t v = {value};
  for (size_t i = first; i < first + count; ++i)
    buffer[i] = v;
}

/* The same writes, each line prefetched for writing PREFETCH_AHEAD lines
 * before it is stored (PREFETCHW on x86). */
#define PREFETCH_AHEAD 32
static void writeLinesPW(size_t first, size_t count, float value) {
  line_t v = {value};
  for (size_t i = first; i < first + count; ++i) {
    __builtin_prefetch(&buffer[i + PREFETCH_AHEAD], 1, 3);
    buffer[i] = v;
  }
}

static void writeLinesNT(size_t first, size_t count, float value) {
  line_t v = {value};
  for (size_t i = first; i < first + count; ++i)
    __builtin_nontemporal_store(v, &buffer[i]);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void readLines(size_t first, size_t count) {
  line_t sum = {0};
  for (size_t i = first; i < first + count; ++i)
    sum += buffer[i];
  sink = sum[0];
}

/* All the lines read, then all written. */
static void readThenWriteLines(size_t first, size_t count, float value) {
  readLines(first, count);
  writeLines(first, count, value);
}

/* The other thread: when told, reads all the lines (1) or writes them (2)
 * and says so, or ends (0). */
static volatile int order, done;

static void *other(void *arg) {
  int seen = 0;
  (void)arg;
  pin(cpus[1]);
  for (;;) {
    int told = order;
    if (told == seen)
      continue;
    seen = told;
    switch (told & 7) {
    case 0:
      return 0;
    case 1:
      readLines(0, LINES);
      break;
    case 2:
      writeLines(0, LINES, 1);
      break;
    }
    done = told;
  }
}

static void onOther(int op) {
  static int serial;
  int told = ((++serial) << 3) | op;
  order = told;
  while (op && done != told)
    ;
}

enum { OWN, OTHER_WROTE, OTHER_READ, READ_OTHERS };
enum { WRITE, READ, WRITE_NT, WRITE_PW, READ_WRITE };

/* The best of REPEATS: ns per line of `measure` on lines last used as
 * `before` says. */
static double timeCase(int before, int measure) {
  double best = 1e30;
  for (int r = 0; r < REPEATS; ++r) {
    switch (before) {
    case OWN:
      writeLines(0, LINES, 2);
      break;
    case OTHER_WROTE:
      writeLines(0, LINES, 2);
      onOther(2);
      break;
    case OTHER_READ:
      writeLines(0, LINES, 2);
      onOther(1);
      break;
    case READ_OTHERS:
      onOther(2);
      readLines(0, LINES);
      break;
    }
    double start = now();
    if (measure == WRITE)
      writeLines(0, LINES, 3);
    else if (measure == READ)
      readLines(0, LINES);
    else if (measure == WRITE_NT)
      writeLinesNT(0, LINES, 3);
    else if (measure == WRITE_PW)
      writeLinesPW(0, LINES, 3);
    else
      readThenWriteLines(0, LINES, 3);
    double t = now() - start;
    if (t < best)
      best = t;
  }
  return best * 1e9 / LINES;
}

/* The shared chunk: both threads write a half, meet, read all (or only
 * their half, `privateHalves`), meet, CHUNKS times; `swap` exchanges the
 * halves every chunk, `nt` writes non-temporally. Returns the ns per line
 * of the writes, averaged over the two threads. */
#define CHUNKS 200
static volatile int arrived[2][16];
static int chunkSwap, chunkNT, chunkPrivate, chunkPW;
static double chunkWriteNs[2];

static void meet(int self, int *count) {
  ++*count;
  __atomic_store_n(&arrived[self][0], *count, __ATOMIC_RELEASE);
  while (__atomic_load_n(&arrived[1 - self][0], __ATOMIC_ACQUIRE) < *count)
    ;
}

static void *chunkThread(void *arg) {
  int self = (int)(intptr_t)arg, count = 0;
  double writing = 0;
  pin(cpus[self]);
  for (int c = 0; c < CHUNKS; ++c) {
    int h = chunkSwap && (c & 1) ? 1 - self : self;
    size_t first = (size_t)h * (LINES / 2);
    meet(self, &count);
    double start = now();
    if (chunkNT)
      writeLinesNT(first, LINES / 2, (float)c);
    else if (chunkPW)
      writeLinesPW(first, LINES / 2, (float)c);
    else
      writeLines(first, LINES / 2, (float)c);
    if (c >= 10)
      writing += now() - start;
    meet(self, &count);
    if (chunkPrivate)
      readLines(first, LINES / 2);
    else
      readLines(0, LINES);
  }
  chunkWriteNs[self] = writing * 1e9 / ((CHUNKS - 10) * (LINES / 2));
  return 0;
}

static double timeChunks(int swap, int nt, int privateHalves, int pw) {
  pthread_t t;
  chunkSwap = swap;
  chunkNT = nt;
  chunkPW = pw;
  chunkPrivate = privateHalves;
  memset((void *)arrived, 0, sizeof arrived);
  pthread_create(&t, 0, chunkThread, (void *)(intptr_t)1);
  chunkThread(0);
  pthread_join(t, 0);
  return (chunkWriteNs[0] + chunkWriteNs[1]) / 2;
}

int main(void) {
  cpu_set_t set;
  pthread_t t;
  int found = 0;
  sched_getaffinity(0, sizeof set, &set);
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &set))
      cpus[found++] = c;
  if (found < 2) {
    printf("LINES none\n");
    return 0;
  }
  buffer = aligned_alloc(64, BYTES + PREFETCH_AHEAD * 64);
  memset(buffer, 0, BYTES + PREFETCH_AHEAD * 64);
  pin(cpus[0]);
  pthread_create(&t, 0, other, 0);
  static const char *before[] = {"own", "other-wrote", "other-read",
                                 "read-others"};
  static const char *measure[] = {"write", "read", "write-nt", "write-pw",
                                  "read-write"};
  for (int b = OWN; b <= READ_OTHERS; ++b)
    for (int m = WRITE; m <= READ_WRITE; ++m)
      printf("LINES %s-then-%s %.2f\n", before[b], measure[m],
             timeCase(b, m));
  onOther(0);
  pthread_join(t, 0);
  printf("LINES chunk-same-halves %.2f\n", timeChunks(0, 0, 0, 0));
  printf("LINES chunk-swapped-halves %.2f\n", timeChunks(1, 0, 0, 0));
  printf("LINES chunk-nt %.2f\n", timeChunks(0, 1, 0, 0));
  printf("LINES chunk-pw %.2f\n", timeChunks(0, 0, 0, 1));
  printf("LINES chunk-private-halves %.2f\n", timeChunks(0, 0, 1, 0));
  return 0;
}
