/*===- test/e2e/link/main.c - The generated artifact's contract, from C99 --===*
 *
 * This file is a C99 program that links one Kiln-generated model and checks
 * the contract of DESIGN.md, "The generated artifact", against it:
 *
 *   (a) NAME_run with a NULL workspace returns KILN_OK and matches the
 *       reference output within |a - b| <= 1e-4 + 1e-3 * |b|;
 *   (b) NAME_run with a caller-provided workspace of NAME_WORKSPACE_SIZE bytes
 *       aligned to NAME_WORKSPACE_ALIGN (poisoned first, then reused dirty)
 *       gives output bitwise identical to (a), writes no byte outside the
 *       arena, and leaves the inputs untouched;
 *   (c) a misaligned workspace, a NULL input and a NULL output pointer each
 *       return KILN_ERROR_ARGUMENT;
 *   (d) NAME_info() agrees with kiln/runtime.h (ABI version, struct size) and
 *       with every macro of the generated header (name, counts, arena,
 *       weights, and each tensor's name, dtype, rank, shape and size);
 *   (e) the generic info->run(inputs, outputs, workspace) gives output
 *       bitwise identical to (a), with and without a workspace, and rejects
 *       NULL pointers;
 *   (f) only with -DKILN_TEST_REPLACE_HOOKS: strong definitions of the weak
 *       hooks kiln_alloc/kiln_free/kiln_error replace the runtime's; a NULL
 *       workspace allocates exactly NAME_WORKSPACE_SIZE bytes aligned to
 *       NAME_WORKSPACE_ALIGN through them and frees it, and a failing
 *       kiln_alloc makes NAME_run return KILN_ERROR_ALLOC.
 *
 * Build (warnings are errors, the header must be plain C99):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -I DIR_OF_NAME_H \
 *      -I runtime/include -DKILN_MODEL=small_cnn \
 *      -DKILN_MODEL_HEADER='"small_cnn.h"' main.c small_cnn.a -o test -lm
 * Run:
 *   ./test INPUT_0.bin ... INPUT_{N-1}.bin OUTPUT_0.bin ... OUTPUT_{M-1}.bin
 * where each file holds the raw little-endian elements of one tensor (the
 * expected outputs are the reference). It prints each check and exits 1 on
 * the first failure. Models with 1 to 4 inputs and 1 to 4 outputs are
 * supported; the test models have one of each.
 *
 *===----------------------------------------------------------------------===*/

/* The generated header comes first: it must compile on its own (it may only
   include <stddef.h> and <stdint.h>). */
#include KILN_MODEL_HEADER

#include "kiln/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KILN_MODEL
#error "define KILN_MODEL to the model's symbol prefix, e.g. -DKILN_MODEL=small_cnn"
#endif

/*===----------------------------------------------------------------------===*
 * Names formed from KILN_MODEL: KT(_run) is small_cnn_run, KT_IN(0, _SHAPE)
 * is small_cnn_INPUT_0_SHAPE, and so on.
 *===----------------------------------------------------------------------===*/

#define KT_CAT_(a, b) a##b
#define KT_CAT(a, b) KT_CAT_(a, b)
#define KT_STR_(x) #x
#define KT_STR(x) KT_STR_(x)
#define KT(suffix) KT_CAT(KILN_MODEL, suffix)
#define KT_IN(i, field) KT_CAT(KT_CAT(KT(_INPUT_), i), field)
#define KT_OUT(i, field) KT_CAT(KT_CAT(KT(_OUTPUT_), i), field)

#define NUM_IN KT(_NUM_INPUTS)
#define NUM_OUT KT(_NUM_OUTPUTS)
#define WS_SIZE KT(_WORKSPACE_SIZE)
#define WS_ALIGN KT(_WORKSPACE_ALIGN)

#if NUM_IN < 1 || NUM_IN > 4
#error "this test supports models with 1 to 4 inputs"
#endif
#if NUM_OUT < 1 || NUM_OUT > 4
#error "this test supports models with 1 to 4 outputs"
#endif
#if WS_ALIGN < 1 || (WS_ALIGN & (WS_ALIGN - 1)) != 0
#error "NAME_WORKSPACE_ALIGN is not a power of two"
#endif

/*===----------------------------------------------------------------------===*
 * What the header's macros promise, one row per tensor.
 *===----------------------------------------------------------------------===*/

typedef struct expected_tensor {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
  size_t shape_len; /* elements in the SHAPE initializer */
  int64_t num_elements;
} expected_tensor;

/* The SHAPE macros are brace initializers; they must be valid C99. */
#define KT_SHAPE_ARRAY(var, shape) static const int64_t var[] = shape;
#define KT_EXPECT(var, name, dtype, rank, size)                                \
  {name, dtype, rank, var, sizeof(var) / sizeof(var[0]), size}
#define KT_EXPECT_IN(i)                                                        \
  KT_EXPECT(KT_CAT(in_shape_, i), KT_IN(i, _NAME), KT_IN(i, _DTYPE),           \
            KT_IN(i, _RANK), KT_IN(i, _SIZE))
#define KT_EXPECT_OUT(i)                                                       \
  KT_EXPECT(KT_CAT(out_shape_, i), KT_OUT(i, _NAME), KT_OUT(i, _DTYPE),        \
            KT_OUT(i, _RANK), KT_OUT(i, _SIZE))

KT_SHAPE_ARRAY(in_shape_0, KT_IN(0, _SHAPE))
#if NUM_IN > 1
KT_SHAPE_ARRAY(in_shape_1, KT_IN(1, _SHAPE))
#endif
#if NUM_IN > 2
KT_SHAPE_ARRAY(in_shape_2, KT_IN(2, _SHAPE))
#endif
#if NUM_IN > 3
KT_SHAPE_ARRAY(in_shape_3, KT_IN(3, _SHAPE))
#endif
KT_SHAPE_ARRAY(out_shape_0, KT_OUT(0, _SHAPE))
#if NUM_OUT > 1
KT_SHAPE_ARRAY(out_shape_1, KT_OUT(1, _SHAPE))
#endif
#if NUM_OUT > 2
KT_SHAPE_ARRAY(out_shape_2, KT_OUT(2, _SHAPE))
#endif
#if NUM_OUT > 3
KT_SHAPE_ARRAY(out_shape_3, KT_OUT(3, _SHAPE))
#endif

static const expected_tensor expected_inputs[NUM_IN] = {
    KT_EXPECT_IN(0)
#if NUM_IN > 1
        , KT_EXPECT_IN(1)
#endif
#if NUM_IN > 2
        , KT_EXPECT_IN(2)
#endif
#if NUM_IN > 3
        , KT_EXPECT_IN(3)
#endif
};

static const expected_tensor expected_outputs[NUM_OUT] = {
    KT_EXPECT_OUT(0)
#if NUM_OUT > 1
        , KT_EXPECT_OUT(1)
#endif
#if NUM_OUT > 2
        , KT_EXPECT_OUT(2)
#endif
#if NUM_OUT > 3
        , KT_EXPECT_OUT(3)
#endif
};

/* NAME_run called with one pointer per tensor. A void * converts to the
   typed pointer of the prototype implicitly in C, whatever the dtype. */
static int call_run(void *const *in, void *const *out, void *workspace) {
  return KT(_run)(in[0],
#if NUM_IN > 1
                  in[1],
#endif
#if NUM_IN > 2
                  in[2],
#endif
#if NUM_IN > 3
                  in[3],
#endif
                  out[0],
#if NUM_OUT > 1
                  out[1],
#endif
#if NUM_OUT > 2
                  out[2],
#endif
#if NUM_OUT > 3
                  out[3],
#endif
                  workspace);
}

/*===----------------------------------------------------------------------===*
 * Replacement hooks (f).
 *===----------------------------------------------------------------------===*/

#ifdef KILN_TEST_REPLACE_HOOKS
static unsigned long hook_allocs, hook_frees, hook_errors;
static size_t hook_last_size, hook_last_align;
static void *hook_live; /* the last pointer kiln_alloc returned, until freed */
static int hook_fail_alloc;

void *kiln_alloc(size_t size, size_t align) {
  size_t a = align < sizeof(void *) ? sizeof(void *) : align;
  unsigned char *raw;
  uintptr_t p;
  ++hook_allocs;
  hook_last_size = size;
  hook_last_align = align;
  if (hook_fail_alloc)
    return NULL;
  raw = (unsigned char *)malloc(size + a + sizeof(void *));
  if (!raw)
    return NULL;
  p = ((uintptr_t)(raw + sizeof(void *)) + (a - 1)) & ~(uintptr_t)(a - 1);
  ((void **)p)[-1] = raw;
  hook_live = (void *)p;
  return (void *)p;
}

void kiln_free(void *ptr) {
  ++hook_frees;
  if (!ptr)
    return;
  if (ptr != hook_live) {
    fprintf(stderr, "FAIL: kiln_free(%p) of a pointer kiln_alloc did not "
                    "return (last was %p)\n",
            ptr, hook_live);
    exit(1);
  }
  hook_live = NULL;
  free(((void **)ptr)[-1]);
}

void kiln_error(const char *message) {
  ++hook_errors;
  printf("  (kiln_error hook: %s)\n", message ? message : "(null)");
}
#endif

/*===----------------------------------------------------------------------===*
 * Helpers
 *===----------------------------------------------------------------------===*/

static int checks_passed;

static void fail(const char *what) {
  fflush(stdout);
  fprintf(stderr, "FAIL: %s\n", what);
  exit(1);
}

static void pass(const char *what) {
  ++checks_passed;
  printf("  ok   %s\n", what);
}

static void expect_status(int got, int want, const char *what) {
  char msg[512];
  if (got != want) {
    sprintf(msg, "%.300s: returned %d (%s), expected %d (%s)", what, got,
            kiln_status_string(got), want, kiln_status_string(want));
    fail(msg);
  }
  pass(what);
}

static int is_little_endian(void) {
  const uint32_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 1;
}

/* Reads exactly `bytes` bytes of `esize`-byte little-endian elements. */
static void *read_tensor(const char *path, size_t bytes, size_t esize) {
  unsigned char *data;
  FILE *f = fopen(path, "rb");
  long len = -1;
  char msg[512];
  size_t i, j;
  if (!f) {
    sprintf(msg, "cannot open %.400s", path);
    fail(msg);
  }
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    sprintf(msg, "cannot size %.400s", path);
    fail(msg);
  }
  if ((size_t)len != bytes) {
    sprintf(msg, "%.300s holds %ld bytes, the header's shape and dtype say %lu",
            path, len, (unsigned long)bytes);
    fail(msg);
  }
  data = (unsigned char *)malloc(bytes ? bytes : 1);
  if (!data || fread(data, 1, bytes, f) != bytes) {
    sprintf(msg, "cannot read %.400s", path);
    fail(msg);
  }
  fclose(f);
  if (!is_little_endian() && esize > 1)
    for (i = 0; i < bytes; i += esize)
      for (j = 0; j < esize / 2; ++j) {
        unsigned char t = data[i + j];
        data[i + j] = data[i + esize - 1 - j];
        data[i + esize - 1 - j] = t;
      }
  return data;
}

static double half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f;
  double m = (double)(h & 0x3ff);
  double v;
  if (e == 0)
    v = ldexp(m, -24);
  else if (e == 31)
    v = m != 0 ? NAN : INFINITY;
  else
    v = ldexp(m + 1024.0, e - 25);
  return (h & 0x8000) ? -v : v;
}

/* Element `i` of a floating-point tensor as a double. */
static double float_at(const void *data, int32_t dtype, size_t i) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT: {
    float f;
    memcpy(&f, (const unsigned char *)data + 4 * i, 4);
    return f;
  }
  case KILN_DTYPE_DOUBLE: {
    double d;
    memcpy(&d, (const unsigned char *)data + 8 * i, 8);
    return d;
  }
  case KILN_DTYPE_FLOAT16: {
    uint16_t h;
    memcpy(&h, (const unsigned char *)data + 2 * i, 2);
    return half_to_double(h);
  }
  default: { /* KILN_DTYPE_BFLOAT16 */
    uint16_t h;
    uint32_t u;
    float f;
    memcpy(&h, (const unsigned char *)data + 2 * i, 2);
    u = (uint32_t)h << 16;
    memcpy(&f, &u, 4);
    return f;
  }
  }
}

static int is_floating(int32_t dtype) {
  return dtype == KILN_DTYPE_FLOAT || dtype == KILN_DTYPE_DOUBLE ||
         dtype == KILN_DTYPE_FLOAT16 || dtype == KILN_DTYPE_BFLOAT16;
}

/* Compares output `k` with the reference: floating types within
   1e-4 + 1e-3 * |b| (NaN only where the reference has NaN), others exactly. */
static void compare_reference(int k, const void *got, const void *want,
                              size_t esize) {
  const expected_tensor *t = &expected_outputs[k];
  size_t n = (size_t)t->num_elements, i, bad = 0, first_bad = 0;
  double max_abs = 0, max_rel = 0;
  char msg[512];
  if (!is_floating(t->dtype)) {
    for (i = 0; i < n; ++i)
      if (memcmp((const unsigned char *)got + i * esize,
                 (const unsigned char *)want + i * esize, esize) != 0) {
        if (!bad++)
          first_bad = i;
      }
    if (bad) {
      sprintf(msg, "(a) output %d '%.100s': %lu of %lu elements differ from "
                   "the reference, the first at index %lu",
              k, t->name, (unsigned long)bad, (unsigned long)n,
              (unsigned long)first_bad);
      fail(msg);
    }
    sprintf(msg, "(a) output %d '%.100s' (%s, %lu elements) equals the "
                 "reference exactly",
            k, t->name, kiln_dtype_name(t->dtype), (unsigned long)n);
    pass(msg);
    return;
  }
  for (i = 0; i < n; ++i) {
    double a = float_at(got, t->dtype, i), b = float_at(want, t->dtype, i);
    double d = fabs(a - b);
    int ok;
    if (b != b)
      ok = a != a;
    else
      ok = a == b || d <= 1e-4 + 1e-3 * fabs(b); /* false when a is NaN */
    if (!ok) {
      if (!bad++) {
        sprintf(msg, "(a) output %d '%.100s' index %lu: got %.9g, expected "
                     "%.9g (|diff| %.3g > 1e-4 + 1e-3*|expected|)",
                k, t->name, (unsigned long)i, a, b, d);
      }
    }
    if (b == b && a == a) {
      if (d > max_abs)
        max_abs = d;
      if (b != 0 && d / fabs(b) > max_rel)
        max_rel = d / fabs(b);
    }
  }
  if (bad) {
    fflush(stdout);
    fprintf(stderr, "  %lu of %lu elements out of tolerance\n",
            (unsigned long)bad, (unsigned long)n);
    fail(msg);
  }
  sprintf(msg, "(a) output %d '%.100s' (%s, %lu elements) matches the "
               "reference: max abs err %.3g, max rel err %.3g",
          k, t->name, kiln_dtype_name(t->dtype), (unsigned long)n, max_abs,
          max_rel);
  pass(msg);
}

/*===----------------------------------------------------------------------===*
 * The workspace: one static buffer, aligned by hand (C99 has no alignas),
 * with guard bytes on both sides of the arena.
 *===----------------------------------------------------------------------===*/

#define GUARD 256
static unsigned char ws_storage[WS_SIZE + 2 * WS_ALIGN + 2 * GUARD];
#define GUARD_BYTE 0x5A
/* A variable, not the constant: memset(p, c, 0) would warn for an empty arena. */
static size_t ws_size = WS_SIZE;

static unsigned char *aligned_workspace(void) {
  uintptr_t p = (uintptr_t)(ws_storage + GUARD);
  p = (p + (WS_ALIGN - 1)) & ~(uintptr_t)(WS_ALIGN - 1);
  return (unsigned char *)p;
}

/* Fills everything outside [ws, ws + WS_SIZE) with GUARD_BYTE and the arena
   with `poison`. */
static void poison_workspace(unsigned char *ws, int poison) {
  memset(ws_storage, GUARD_BYTE, sizeof ws_storage);
  memset(ws, poison, ws_size);
}

static void check_guards(unsigned char *ws, const char *what) {
  size_t i, before = (size_t)(ws - ws_storage);
  char msg[512];
  for (i = 0; i < sizeof ws_storage; ++i) {
    if (i >= before && i < before + ws_size)
      continue;
    if (ws_storage[i] != GUARD_BYTE) {
      sprintf(msg, "%.200s: wrote outside the %lu-byte workspace, at offset "
                   "%ld from its start",
              what, (unsigned long)WS_SIZE, (long)i - (long)before);
      fail(msg);
    }
  }
}

/*===----------------------------------------------------------------------===*
 * main
 *===----------------------------------------------------------------------===*/

int main(int argc, char **argv) {
  void *inputs[NUM_IN], *input_copies[NUM_IN];
  void *reference[NUM_OUT], *out_a[NUM_OUT], *out[NUM_OUT];
  size_t in_bytes[NUM_IN], out_bytes[NUM_OUT], out_esize[NUM_OUT];
  void *null_ptrs[NUM_IN > NUM_OUT ? NUM_IN : NUM_OUT];
  const kiln_model_info *info;
  unsigned char *ws = aligned_workspace();
  char msg[512];
  int i, k, status;

  printf("kiln link test (C99): model '%s' from %s, %d input(s), %d "
         "output(s), workspace %lu bytes aligned to %d\n",
         KT_STR(KILN_MODEL), KILN_MODEL_HEADER, NUM_IN, NUM_OUT,
         (unsigned long)WS_SIZE, WS_ALIGN);
  if (argc != 1 + NUM_IN + NUM_OUT) {
    fprintf(stderr, "usage: %s INPUT_0.bin..INPUT_%d.bin OUTPUT_0.bin.."
                    "OUTPUT_%d.bin (raw little-endian tensors)\n",
            argv[0], NUM_IN - 1, NUM_OUT - 1);
    return 1;
  }

  /* The header's macros must agree with each other. */
  for (k = 0; k < NUM_IN + NUM_OUT; ++k) {
    const expected_tensor *t =
        k < NUM_IN ? &expected_inputs[k] : &expected_outputs[k - NUM_IN];
    int64_t product = 1;
    size_t d;
    if (t->shape_len != (size_t)t->rank) {
      sprintf(msg, "header: '%.100s' has RANK %d but its SHAPE lists %lu "
                   "dimensions",
              t->name, (int)t->rank, (unsigned long)t->shape_len);
      fail(msg);
    }
    for (d = 0; d < t->shape_len; ++d)
      product *= t->shape[d];
    if (product != t->num_elements) {
      sprintf(msg, "header: '%.100s' has SIZE %ld but its SHAPE multiplies "
                   "to %ld",
              t->name, (long)t->num_elements, (long)product);
      fail(msg);
    }
    if (kiln_dtype_size(t->dtype) == 0) {
      sprintf(msg, "header: '%.100s' has DTYPE %d, which has no fixed size",
              t->name, (int)t->dtype);
      fail(msg);
    }
  }
  pass("header: every SHAPE has RANK dimensions multiplying to SIZE, every "
       "DTYPE has a size");

  /* Read the inputs and the reference outputs. */
  for (i = 0; i < NUM_IN; ++i) {
    size_t es = kiln_dtype_size(expected_inputs[i].dtype);
    in_bytes[i] = es * (size_t)expected_inputs[i].num_elements;
    inputs[i] = read_tensor(argv[1 + i], in_bytes[i], es);
    input_copies[i] = malloc(in_bytes[i] ? in_bytes[i] : 1);
    if (!input_copies[i])
      fail("out of memory");
    memcpy(input_copies[i], inputs[i], in_bytes[i]);
  }
  for (k = 0; k < NUM_OUT; ++k) {
    out_esize[k] = kiln_dtype_size(expected_outputs[k].dtype);
    out_bytes[k] = out_esize[k] * (size_t)expected_outputs[k].num_elements;
    reference[k] = read_tensor(argv[1 + NUM_IN + k], out_bytes[k], out_esize[k]);
    out_a[k] = malloc(out_bytes[k] ? out_bytes[k] : 1);
    out[k] = malloc(out_bytes[k] ? out_bytes[k] : 1);
    if (!out_a[k] || !out[k])
      fail("out of memory");
  }

  /* (a) NULL workspace: the runtime allocates. Outputs are poisoned first
     so that an output the model does not write cannot pass. */
  for (k = 0; k < NUM_OUT; ++k)
    memset(out_a[k], 0xFF, out_bytes[k]);
#ifdef KILN_TEST_REPLACE_HOOKS
  hook_allocs = hook_frees = 0;
#endif
  status = call_run(inputs, out_a, NULL);
  expect_status(status, KILN_OK, "(a) " KT_STR(KT(_run)) "(..., NULL) returns KILN_OK");
  for (k = 0; k < NUM_OUT; ++k)
    compare_reference(k, out_a[k], reference[k], out_esize[k]);
#ifdef KILN_TEST_REPLACE_HOOKS
  /* (f) The NULL workspace went through the replaced hooks. */
  if (WS_SIZE > 0) {
    if (hook_allocs != 1 || hook_frees != 1) {
      sprintf(msg, "(f) a NULL workspace called kiln_alloc %lu time(s) and "
                   "kiln_free %lu time(s), expected once each (a strong "
                   "kiln_alloc must replace the runtime's weak one)",
              hook_allocs, hook_frees);
      fail(msg);
    }
    if (hook_last_size != (size_t)WS_SIZE || hook_last_align != (size_t)WS_ALIGN) {
      sprintf(msg, "(f) kiln_alloc(%lu, %lu) called, expected kiln_alloc(%lu, "
                   "%lu) (NAME_WORKSPACE_SIZE, NAME_WORKSPACE_ALIGN)",
              (unsigned long)hook_last_size, (unsigned long)hook_last_align,
              (unsigned long)WS_SIZE, (unsigned long)WS_ALIGN);
      fail(msg);
    }
  } else if (hook_allocs > 0) {
    /* Not a failure: the contract does not say what an empty arena does. */
    printf("  note (f) the arena is empty, yet a NULL workspace called "
           "kiln_alloc(%lu, %lu) %lu time(s)\n",
           (unsigned long)hook_last_size, (unsigned long)hook_last_align,
           hook_allocs);
  }
  if (hook_allocs != hook_frees || hook_live != NULL)
    fail("(f) the workspace kiln_alloc returned was not freed");
  sprintf(msg, "(f) replaced hooks: a NULL workspace made %lu kiln_alloc(%lu, "
               "%lu) and %lu kiln_free call(s)",
          hook_allocs, (unsigned long)hook_last_size,
          (unsigned long)hook_last_align, hook_frees);
  pass(msg);
#endif

  /* (b) A caller-provided workspace, poisoned (all bytes 0xFF: NaN floats,
     -1 integers) so that the model cannot rely on zeroed memory. */
  for (k = 0; k < NUM_OUT; ++k)
    memset(out[k], 0xFF, out_bytes[k]);
  poison_workspace(ws, 0xFF);
  status = call_run(inputs, out, ws);
  expect_status(status, KILN_OK,
                "(b) " KT_STR(KT(_run)) "(..., workspace) returns KILN_OK");
  for (k = 0; k < NUM_OUT; ++k)
    if (memcmp(out[k], out_a[k], out_bytes[k]) != 0) {
      sprintf(msg, "(b) output %d '%.100s' with a caller workspace differs "
                   "bitwise from the NULL-workspace run",
              k, expected_outputs[k].name);
      fail(msg);
    }
  pass("(b) output with a poisoned caller workspace is bitwise identical to (a)");
  check_guards(ws, "(b) " KT_STR(KT(_run)));
  pass("(b) nothing written outside the workspace's NAME_WORKSPACE_SIZE bytes");

  /* ... and reused as it is, dirty from the last run. */
  for (k = 0; k < NUM_OUT; ++k)
    memset(out[k], 0x00, out_bytes[k]);
  status = call_run(inputs, out, ws);
  expect_status(status, KILN_OK, "(b) second run in the same dirty workspace returns KILN_OK");
  for (k = 0; k < NUM_OUT; ++k)
    if (memcmp(out[k], out_a[k], out_bytes[k]) != 0) {
      sprintf(msg, "(b) output %d '%.100s' from a reused workspace differs "
                   "bitwise from (a)",
              k, expected_outputs[k].name);
      fail(msg);
    }
  pass("(b) output from the reused workspace is bitwise identical to (a)");
  check_guards(ws, "(b) second run");

  /* ... and on two threads: each output element is summed in the same order
     whichever thread computes it, so the result is bitwise the same. */
  if (kiln_set_num_threads(2) != 2)
    fail("kiln_set_num_threads(2) did not give two threads");
  if (kiln_get_num_threads() != 2)
    fail("kiln_get_num_threads() is not 2 after kiln_set_num_threads(2)");
  for (k = 0; k < NUM_OUT; ++k)
    memset(out[k], 0xFF, out_bytes[k]);
  status = call_run(inputs, out, ws);
  expect_status(status, KILN_OK, "(b) a run on two threads returns KILN_OK");
  for (k = 0; k < NUM_OUT; ++k)
    if (memcmp(out[k], out_a[k], out_bytes[k]) != 0) {
      sprintf(msg, "(b) output %d '%.100s' on two threads differs bitwise "
                   "from (a)",
              k, expected_outputs[k].name);
      fail(msg);
    }
  kiln_set_num_threads(1);
  pass("(b) output on two threads is bitwise identical to (a)");
  check_guards(ws, "(b) two threads");

  for (i = 0; i < NUM_IN; ++i)
    if (memcmp(inputs[i], input_copies[i], in_bytes[i]) != 0) {
      sprintf(msg, "(b) input %d '%.100s' was modified by the model", i,
              expected_inputs[i].name);
      fail(msg);
    }
  pass("(b) inputs are unchanged after the runs");

  /* (c) Bad arguments. */
#if WS_ALIGN > 1
  status = call_run(inputs, out, ws + 1);
  expect_status(status, KILN_ERROR_ARGUMENT,
                "(c) a workspace misaligned by 1 byte returns KILN_ERROR_ARGUMENT");
#else
  printf("  skip (c) misaligned workspace: NAME_WORKSPACE_ALIGN is 1\n");
#endif
  for (i = 0; i < NUM_IN; ++i) {
    void *saved = inputs[i];
    inputs[i] = NULL;
    status = call_run(inputs, out, NULL);
    inputs[i] = saved;
    sprintf(msg, "(c) a NULL input %d returns KILN_ERROR_ARGUMENT", i);
    expect_status(status, KILN_ERROR_ARGUMENT, msg);
  }
  for (k = 0; k < NUM_OUT; ++k) {
    void *saved = out[k];
    out[k] = NULL;
    status = call_run(inputs, out, ws);
    out[k] = saved;
    sprintf(msg, "(c) a NULL output %d returns KILN_ERROR_ARGUMENT", k);
    expect_status(status, KILN_ERROR_ARGUMENT, msg);
  }

  /* (d) The descriptor against kiln/runtime.h and the header's macros. */
  info = KT(_info)();
  if (!info)
    fail("(d) " KT_STR(KT(_info)) "() returned NULL");
  if (info->abi_version != KILN_ABI_VERSION) {
    sprintf(msg, "(d) info->abi_version is %lu, kiln/runtime.h says "
                 "KILN_ABI_VERSION %d",
            (unsigned long)info->abi_version, KILN_ABI_VERSION);
    fail(msg);
  }
  pass("(d) info->abi_version == KILN_ABI_VERSION");
  if (info->struct_size < sizeof(kiln_model_info)) {
    sprintf(msg, "(d) info->struct_size is %lu, less than "
                 "sizeof(kiln_model_info) %lu",
            (unsigned long)info->struct_size,
            (unsigned long)sizeof(kiln_model_info));
    fail(msg);
  }
  sprintf(msg, "(d) info->struct_size %lu >= sizeof(kiln_model_info) %lu",
          (unsigned long)info->struct_size,
          (unsigned long)sizeof(kiln_model_info));
  pass(msg);
  if (!info->name || strcmp(info->name, KT_STR(KILN_MODEL)) != 0) {
    sprintf(msg, "(d) info->name is \"%.100s\", expected \"%s\"",
            info->name ? info->name : "(null)", KT_STR(KILN_MODEL));
    fail(msg);
  }
  pass("(d) info->name == \"" KT_STR(KILN_MODEL) "\"");
  if (info->num_inputs != (uint32_t)NUM_IN ||
      info->num_outputs != (uint32_t)NUM_OUT) {
    sprintf(msg, "(d) info has %lu input(s) and %lu output(s), the header "
                 "%d and %d",
            (unsigned long)info->num_inputs, (unsigned long)info->num_outputs,
            NUM_IN, NUM_OUT);
    fail(msg);
  }
  pass("(d) info->num_inputs/num_outputs == NAME_NUM_INPUTS/NAME_NUM_OUTPUTS");
  if (info->workspace_size != (uint64_t)WS_SIZE ||
      info->workspace_align != (uint64_t)WS_ALIGN) {
    sprintf(msg, "(d) info workspace is %lu bytes aligned to %lu, the header "
                 "says %lu aligned to %lu",
            (unsigned long)info->workspace_size,
            (unsigned long)info->workspace_align, (unsigned long)WS_SIZE,
            (unsigned long)WS_ALIGN);
    fail(msg);
  }
  pass("(d) info->workspace_size/align == NAME_WORKSPACE_SIZE/ALIGN");
  if (info->weights_size != (uint64_t)KT(_WEIGHTS_SIZE)) {
    sprintf(msg, "(d) info->weights_size is %lu, NAME_WEIGHTS_SIZE %lu",
            (unsigned long)info->weights_size,
            (unsigned long)KT(_WEIGHTS_SIZE));
    fail(msg);
  }
  pass("(d) info->weights_size == NAME_WEIGHTS_SIZE");
  if (!info->inputs || !info->outputs)
    fail("(d) info->inputs or info->outputs is NULL");
  for (k = 0; k < NUM_IN + NUM_OUT; ++k) {
    int is_in = k < NUM_IN, idx = is_in ? k : k - NUM_IN, d;
    const expected_tensor *e =
        is_in ? &expected_inputs[idx] : &expected_outputs[idx];
    const kiln_tensor_info *t = is_in ? &info->inputs[idx] : &info->outputs[idx];
    const char *kind = is_in ? "input" : "output";
    if (!t->name || strcmp(t->name, e->name) != 0) {
      sprintf(msg, "(d) info %s %d name is \"%.100s\", the header says "
                   "\"%.100s\"",
              kind, idx, t->name ? t->name : "(null)", e->name);
      fail(msg);
    }
    if (t->dtype != e->dtype || t->rank != e->rank ||
        t->num_elements != e->num_elements) {
      sprintf(msg, "(d) info %s %d '%.100s': dtype %d rank %d num_elements "
                   "%ld, the header says dtype %d rank %d size %ld",
              kind, idx, e->name, (int)t->dtype, (int)t->rank,
              (long)t->num_elements, (int)e->dtype, (int)e->rank,
              (long)e->num_elements);
      fail(msg);
    }
    if (t->rank > 0 && !t->shape) {
      sprintf(msg, "(d) info %s %d '%.100s' has a NULL shape", kind, idx,
              e->name);
      fail(msg);
    }
    for (d = 0; d < t->rank; ++d)
      if (t->shape[d] != e->shape[d]) {
        sprintf(msg, "(d) info %s %d '%.100s' dimension %d is %ld, the "
                     "header says %ld",
                kind, idx, e->name, d, (long)t->shape[d], (long)e->shape[d]);
        fail(msg);
      }
    sprintf(msg, "(d) info %s %d '%.100s': name, dtype %s, rank %d, shape, "
                 "num_elements %ld match the header",
            kind, idx, e->name, kiln_dtype_name(t->dtype), (int)t->rank,
            (long)t->num_elements);
    pass(msg);
  }
  if (!info->run)
    fail("(d) info->run is NULL");

  /* (e) The generic entry point. */
  for (k = 0; k < NUM_OUT; ++k)
    memset(out[k], 0xFF, out_bytes[k]);
  status = info->run(inputs, out, NULL);
  expect_status(status, KILN_OK, "(e) info->run(inputs, outputs, NULL) returns KILN_OK");
  for (k = 0; k < NUM_OUT; ++k)
    if (memcmp(out[k], out_a[k], out_bytes[k]) != 0) {
      sprintf(msg, "(e) output %d '%.100s' from info->run differs bitwise "
                   "from " KT_STR(KT(_run)),
              k, expected_outputs[k].name);
      fail(msg);
    }
  pass("(e) info->run output (NULL workspace) is bitwise identical to (a)");
  for (k = 0; k < NUM_OUT; ++k)
    memset(out[k], 0xFF, out_bytes[k]);
  poison_workspace(ws, 0xFF);
  status = info->run(inputs, out, ws);
  expect_status(status, KILN_OK, "(e) info->run(inputs, outputs, workspace) returns KILN_OK");
  for (k = 0; k < NUM_OUT; ++k)
    if (memcmp(out[k], out_a[k], out_bytes[k]) != 0) {
      sprintf(msg, "(e) output %d '%.100s' from info->run with a workspace "
                   "differs bitwise from (a)",
              k, expected_outputs[k].name);
      fail(msg);
    }
  pass("(e) info->run output (caller workspace) is bitwise identical to (a)");
  check_guards(ws, "(e) info->run");
#if WS_ALIGN > 1
  status = info->run(inputs, out, ws + 1);
  expect_status(status, KILN_ERROR_ARGUMENT,
                "(e) info->run with a misaligned workspace returns KILN_ERROR_ARGUMENT");
#endif
  for (i = 0; i < (int)(sizeof null_ptrs / sizeof null_ptrs[0]); ++i)
    null_ptrs[i] = NULL;
  status = info->run(NULL, out, NULL);
  expect_status(status, KILN_ERROR_ARGUMENT,
                "(e) info->run(NULL, outputs, NULL) returns KILN_ERROR_ARGUMENT");
  status = info->run(inputs, NULL, NULL);
  expect_status(status, KILN_ERROR_ARGUMENT,
                "(e) info->run(inputs, NULL, NULL) returns KILN_ERROR_ARGUMENT");
  status = info->run(null_ptrs, out, NULL);
  expect_status(status, KILN_ERROR_ARGUMENT,
                "(e) info->run with NULL input pointers returns KILN_ERROR_ARGUMENT");
  status = info->run(inputs, null_ptrs, NULL);
  expect_status(status, KILN_ERROR_ARGUMENT,
                "(e) info->run with NULL output pointers returns KILN_ERROR_ARGUMENT");

#ifdef KILN_TEST_REPLACE_HOOKS
  /* (f) A failing kiln_alloc. */
  if (WS_SIZE > 0) {
    hook_fail_alloc = 1;
    status = call_run(inputs, out, NULL);
    hook_fail_alloc = 0;
    expect_status(status, KILN_ERROR_ALLOC,
                  "(f) a NULL workspace with a failing kiln_alloc returns "
                  "KILN_ERROR_ALLOC");
    hook_fail_alloc = 1;
    status = info->run(inputs, out, NULL);
    hook_fail_alloc = 0;
    expect_status(status, KILN_ERROR_ALLOC,
                  "(f) info->run with a failing kiln_alloc returns "
                  "KILN_ERROR_ALLOC");
  } else {
    hook_fail_alloc = 1;
    status = call_run(inputs, out, NULL);
    hook_fail_alloc = 0;
    if (status != KILN_OK)
      printf("  note (f) the arena is empty, yet a NULL workspace with a "
             "failing kiln_alloc returns %d (%s)\n",
             status, kiln_status_string(status));
  }
  printf("  (kiln_error was called %lu time(s))\n", hook_errors);
#endif

  for (i = 0; i < NUM_IN; ++i) {
    free(inputs[i]);
    free(input_copies[i]);
  }
  for (k = 0; k < NUM_OUT; ++k) {
    free(reference[k]);
    free(out_a[k]);
    free(out[k]);
  }
  printf("PASS: %d checks\n", checks_passed);
  return 0;
}
