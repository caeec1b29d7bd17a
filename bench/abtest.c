/* abtest.c - two or more builds of one model, timed interleaved in one
 * process.
 *
 *   /usr/lib/llvm-19/bin/clang -O2 -Iruntime/include bench/abtest.c \
 *       -o abtest -ldl
 *   ./abtest THREADS BLOCK ROUNDS [-c COPIES] before.so after.so [more.so ...]
 *
 * Loads each Kiln model library (kilnc's shared output), fills its float
 * inputs with the same pseudo-random values (others with zeros), and in each of
 * ROUNDS rounds runs every library BLOCK times in turn (the order rotating from
 * round to round), keeping the median of each library's BLOCK latencies. Prints
 * per library the median of its rounds and the median and quartiles of its
 * round-by-round ratios to the first library. On a host whose speed
 * changes from one second to the next (the Zen 5 VM: peak.c between 197
 * and 224 GFLOP/s a second apart), ratios taken a few milliseconds apart
 * are what a change can be judged by; kiln-run --bench of each library in
 * turn mixes the host's phases into the comparison. Each library has its
 * own copy of the runtime and so its own thread pool: with THREADS > 1 the
 * pools' workers take turns (a BLOCK of 20 or more lets the idle one go to
 * sleep). Timing only: outputs are not checked (kiln-run does that).
 *
 * With -c COPIES, each library is loaded from that many copies of its file
 * (in a temporary directory, removed at the end), each with its own
 * workspace, and a round's time of a library is the mean of its copies'
 * medians. Where a library's weights and workspace lie in physical memory
 * moves its speed: on the Zen 5 VM two copies of one ResNet-50 library,
 * interleaved, ran 1.016-1.026 of each other round after round (IQRs clear
 * of 1), as large as the changes being measured. Copies average that out;
 * the tool prints the spread of each library's copies (slowest copy's
 * median over the fastest's) so that a ratio can be read against it.
 */
#include "kiln/runtime.h"
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
  kMaxLibraries = 16,
  kMaxCopies = 8,
  kMaxLoads = kMaxLibraries * kMaxCopies,
  kMaxBlock = 4096,
  kMaxRounds = 4096
};

static double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n), sorted in a copy. */
static double quantile(const double *v, int n, double q) {
  double *c = malloc(n * sizeof(double)), r;
  memcpy(c, v, n * sizeof(double));
  qsort(c, n, sizeof(double), compare);
  r = c[(int)(q * (n - 1) + 0.5)];
  free(c);
  return r;
}

static void *alignedBuffer(size_t bytes) {
  return aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
}

/* Copies file `from` to `to`; 0 on success. */
static int copyFile(const char *from, const char *to) {
  char buffer[1 << 16];
  size_t n;
  int ok = 1;
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  if (!in || !out) {
    if (in)
      fclose(in);
    return 1;
  }
  while (ok && (n = fread(buffer, 1, sizeof buffer, in)) > 0)
    ok = fwrite(buffer, 1, n, out) == n;
  ok = ok && !ferror(in);
  fclose(in);
  return (fclose(out) != 0 || !ok) ? 1 : 0;
}

int main(int argc, char **argv) {
  /* Load l is copy l % copies of library l / copies. */
  const kiln_model_info *info[kMaxLoads];
  void **inputs[kMaxLoads], **outputs[kMaxLoads];
  void *workspace[kMaxLoads];
  static double medians[kMaxLoads][kMaxRounds];
  static double perLibrary[kMaxLibraries][kMaxRounds];
  static char paths[kMaxLoads][4096];
  char dir[] = "/tmp/abtest.XXXXXX";
  int threads, block, rounds, copies = 1, first = 4, count, loads;
  if (argc > 5 && strcmp(argv[4], "-c") == 0) {
    copies = atoi(argv[5]);
    first = 6;
  }
  count = argc - first;
  if (argc < first + 2 || (threads = atoi(argv[1])) < 1 ||
      (block = atoi(argv[2])) < 1 || block > kMaxBlock ||
      (rounds = atoi(argv[3])) < 1 || rounds > kMaxRounds ||
      count > kMaxLibraries || copies < 1 || copies > kMaxCopies) {
    fprintf(stderr, "usage: abtest THREADS BLOCK ROUNDS [-c COPIES] a.so "
                    "b.so [...]\n");
    return 1;
  }
  loads = count * copies;
  if (copies > 1 && !mkdtemp(dir)) {
    perror("abtest: mkdtemp");
    return 1;
  }
  for (int l = 0; l < loads; ++l) {
    const char *lib = argv[first + l / copies];
    if (copies == 1) {
      snprintf(paths[l], sizeof paths[l], "%s", lib);
    } else {
      snprintf(paths[l], sizeof paths[l], "%s/%d.%d.so", dir, l / copies,
               l % copies);
      if (copyFile(lib, paths[l]) != 0) {
        fprintf(stderr, "abtest: cannot copy %s to %s\n", lib, paths[l]);
        return 1;
      }
    }
  }
  for (int i = 0; i < loads; ++i) {
    void *handle = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
    const kiln_model_info *(*model)(void);
    int (*setThreads)(int);
    if (!handle) {
      fprintf(stderr, "abtest: %s\n", dlerror());
      return 1;
    }
    model = (const kiln_model_info *(*)(void))dlsym(handle, "kiln_model");
    setThreads = (int (*)(int))dlsym(handle, "kiln_set_num_threads");
    if (!model || !(info[i] = model())) {
      fprintf(stderr, "abtest: %s is not a Kiln model library\n",
              argv[first + i / copies]);
      return 1;
    }
    if (setThreads)
      setThreads(threads);
    srand(1);
    inputs[i] = calloc(info[i]->num_inputs + 1, sizeof(void *));
    outputs[i] = calloc(info[i]->num_outputs + 1, sizeof(void *));
    for (uint32_t j = 0; j < info[i]->num_inputs; ++j) {
      /* Eight bytes an element cover every dtype: f32 inputs get values
       * in [0, 1), others zeros (valid indices, token ids). */
      size_t n = (size_t)info[i]->inputs[j].num_elements;
      float *x = alignedBuffer(n * 8);
      memset(x, 0, n * 8);
      if (info[i]->inputs[j].dtype == KILN_DTYPE_FLOAT)
        for (size_t e = 0; e < n; ++e)
          x[e] = (float)(rand() % 1000) / 1000.0f;
      inputs[i][j] = x;
    }
    for (uint32_t j = 0; j < info[i]->num_outputs; ++j)
      outputs[i][j] =
          alignedBuffer((size_t)info[i]->outputs[j].num_elements * 8);
    workspace[i] = aligned_alloc(
        4096, (info[i]->workspace_size + 4095) / 4096 * 4096 + 4096);
    for (int w = 0; w < 3; ++w)
      info[i]->run(inputs[i], outputs[i], workspace[i]);
  }
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < loads; ++k) {
      static double times[kMaxBlock];
      int i = (k + r) % loads;
      for (int b = 0; b < block; ++b) {
        double start = nowMs();
        info[i]->run(inputs[i], outputs[i], workspace[i]);
        times[b] = nowMs() - start;
      }
      medians[i][r] = quantile(times, block, 0.5);
    }
  for (int i = 0; i < count; ++i)
    for (int r = 0; r < rounds; ++r) {
      double sum = 0;
      for (int c = 0; c < copies; ++c)
        sum += medians[i * copies + c][r];
      perLibrary[i][r] = sum / copies;
    }
  for (int i = 0; i < count; ++i) {
    static double ratios[kMaxRounds];
    double fastest = 0, slowest = 0;
    for (int r = 0; r < rounds; ++r)
      ratios[r] = perLibrary[i][r] / perLibrary[0][r];
    printf("%-40s median %.4f ms  ratio %.4f  IQR %.4f-%.4f", argv[first + i],
           quantile(perLibrary[i], rounds, 0.5), quantile(ratios, rounds, 0.5),
           quantile(ratios, rounds, 0.25), quantile(ratios, rounds, 0.75));
    for (int c = 0; c < copies; ++c) {
      double m = quantile(medians[i * copies + c], rounds, 0.5);
      fastest = c == 0 || m < fastest ? m : fastest;
      slowest = c == 0 || m > slowest ? m : slowest;
    }
    if (copies > 1)
      printf("  copies' spread %.4f", slowest / fastest);
    printf("\n");
  }
  if (copies > 1) {
    for (int l = 0; l < loads; ++l)
      unlink(paths[l]);
    rmdir(dir);
  }
  return 0;
}
