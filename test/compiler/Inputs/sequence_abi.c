/* A C program that runs a model with a sequence output through the
 * documented ABI (kiln/runtime.h, the generated header): split.onnx splits
 * x[5][3] into a sequence of [2,3], [2,3], [1,3] and returns it with its
 * length and three other tensors. Found through kiln_model_info's value
 * table, each element is checked against the rows of x it must hold; the
 * same run through split_run with the header's macros gives the same. */
#include <kiln/runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

static int failures = 0;
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAIL: " __VA_ARGS__);                                            \
      printf("\n");                                                            \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The sequence is output 0 of the ONNX graph; the header says so. */
#if split_OUTPUT_VALUE_0_KIND != KILN_VALUE_SEQUENCE
#error "output 0 is not a sequence"
#endif

int main(void) {
  float x[15];
  for (int i = 0; i < 15; ++i)
    x[i] = 0.5f * (float)i;

  const kiln_model_info *info = split_info();
  CHECK(info->abi_version == KILN_ABI_VERSION, "abi_version %u",
        (unsigned)info->abi_version);
  CHECK(info->num_output_values == 5 && info->num_outputs == 7,
        "%u output values over %u tensors", (unsigned)info->num_output_values,
        (unsigned)info->num_outputs);
  const kiln_value_info *seq = &info->output_values[0];
  CHECK(strcmp(seq->name, "seq") == 0 && seq->kind == KILN_VALUE_SEQUENCE &&
            seq->present && seq->count == 3 && seq->first == 0,
        "value 0 is '%s', kind %d, %u tensors from %u", seq->name,
        (int)seq->kind, (unsigned)seq->count, (unsigned)seq->first);

  /* One buffer per output tensor, sized from the tensor table. */
  void *outputs[7];
  for (unsigned t = 0; t < info->num_outputs; ++t)
    outputs[t] = calloc((size_t)info->outputs[t].num_elements,
                        kiln_dtype_size(info->outputs[t].dtype));
  void *inputs[1] = {x};
  int status = info->run(inputs, outputs, NULL);
  CHECK(status == KILN_OK, "run returned %d", status);

  /* Element k holds rows [2k, 2k + rows) of x. */
  int row = 0;
  for (unsigned k = 0; k < seq->count; ++k) {
    const kiln_tensor_info *t = &info->outputs[seq->first + k];
    const float *e = (const float *)outputs[seq->first + k];
    CHECK(t->rank == 2 && t->shape[1] == 3, "element %u has rank %d", k,
          (int)t->rank);
    int rows = (int)t->shape[0];
    CHECK(rows == (k < 2 ? 2 : 1), "element %u has %d rows", k, rows);
    for (int i = 0; i < rows * 3; ++i)
      CHECK(e[i] == x[row * 3 + i], "element %u [%d] is %g, expected %g", k,
            i, (double)e[i], (double)x[row * 3 + i]);
    row += rows;
  }
  CHECK(row == 5, "the elements hold %d rows of 5", row);
  const kiln_value_info *n = &info->output_values[1];
  CHECK(n->kind == KILN_VALUE_TENSOR && n->count == 1, "value 1 kind %d",
        (int)n->kind);
  CHECK(*(const int64_t *)outputs[n->first] == 3, "length %lld",
        (long long)*(const int64_t *)outputs[n->first]);

  /* The typed entry point: one pointer per element, sizes from the header. */
  float s0[split_OUTPUT_0_SIZE], s1[split_OUTPUT_1_SIZE],
      s2[split_OUTPUT_2_SIZE], last[split_OUTPUT_4_SIZE],
      cat[split_OUTPUT_5_SIZE], stacked[split_OUTPUT_6_SIZE];
  int64_t length;
  status = split_run(x, s0, s1, s2, &length, last, cat, stacked, NULL);
  CHECK(status == KILN_OK, "split_run returned %d", status);
  CHECK(memcmp(s0, outputs[0], sizeof s0) == 0 &&
            memcmp(s1, outputs[1], sizeof s1) == 0 &&
            memcmp(s2, outputs[2], sizeof s2) == 0 && length == 3,
        "split_run and run() disagree");

  for (unsigned t = 0; t < info->num_outputs; ++t)
    free(outputs[t]);
  printf("sequence ABI: %s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
