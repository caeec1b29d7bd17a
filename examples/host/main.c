/*===- examples/host/main.c - Run a Kiln-compiled classifier ---------------===*
 *
 * This file is a small host application that runs a model compiled by kilnc
 * with the symbol prefix `model` (see CMakeLists.txt): it describes the model
 * through model_info(), fills the input with a deterministic sine pattern,
 * runs model_run() in a statically allocated workspace, and prints the five
 * highest scores of the output with their class indices.
 *
 * Everything about the model comes from the generated model.h: the buffer
 * sizes, the workspace size and alignment. Nothing is allocated at run time.
 *
 *===----------------------------------------------------------------------===*/

#include "model.h"

#include "kiln/runtime.h"

#include <math.h>
#include <stdio.h>

#if model_NUM_INPUTS != 1 || model_NUM_OUTPUTS != 1
#error "this example runs models with one input and one output"
#endif
/* 1 is KILN_DTYPE_FLOAT (an enum constant, which #if cannot see). */
#if model_INPUT_0_DTYPE != 1 || model_OUTPUT_0_DTYPE != 1
#error "this example runs models with a float32 input and a float32 output"
#endif

/* The buffers, sized by the header. A model may need no scratch at all; an
   array cannot be empty. */
static float input[model_INPUT_0_SIZE];
static float output[model_OUTPUT_0_SIZE];
static _Alignas(model_WORKSPACE_ALIGN) unsigned char
    workspace[model_WORKSPACE_SIZE > 0 ? model_WORKSPACE_SIZE : 1];

static void print_tensor(const char *kind, const kiln_tensor_info *t) {
  int32_t d;
  printf("  %s '%s': %s[", kind, t->name, kiln_dtype_name(t->dtype));
  for (d = 0; d < t->rank; ++d)
    printf("%s%lld", d ? "x" : "", (long long)t->shape[d]);
  printf("]\n");
}

int main(void) {
  const kiln_model_info *info = model_info();
  enum { K = model_OUTPUT_0_SIZE < 5 ? model_OUTPUT_0_SIZE : 5 };
  int top[K];
  int i, k, status;

  printf("model '%s' (Kiln ABI %u): %.1f KiB of weights, %.1f KiB of "
         "workspace\n",
         info->name, (unsigned)info->abi_version,
         (double)info->weights_size / 1024.0,
         (double)info->workspace_size / 1024.0);
  print_tensor("input ", &info->inputs[0]);
  print_tensor("output", &info->outputs[0]);

  /* A deterministic input: a slow sine in [-1, 1]. */
  for (i = 0; i < model_INPUT_0_SIZE; ++i)
    input[i] = (float)sin(0.01 * i);

  status = model_run(input, output, workspace);
  if (status != KILN_OK) {
    fprintf(stderr, "model_run failed: %s\n", kiln_status_string(status));
    return 1;
  }

  /* The K highest scores, best first (ties: the lower index first). */
  for (k = 0; k < K; ++k) {
    int best = -1;
    for (i = 0; i < model_OUTPUT_0_SIZE; ++i) {
      int taken = 0, j;
      for (j = 0; j < k; ++j)
        taken |= top[j] == i;
      if (!taken && (best < 0 || output[i] > output[best]))
        best = i;
    }
    top[k] = best;
  }
  printf("top-%d classes:\n", K);
  for (k = 0; k < K; ++k)
    printf("  %d. class %4d  score %+.6f\n", k + 1, top[k], output[top[k]]);
  return 0;
}
