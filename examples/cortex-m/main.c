/*===- main.c - Run a Kiln model on a Cortex-M board ----------------------===*
 *
 * The firmware's application: it runs the model that kiln_add_model()
 * compiled under the name KILN_MODEL (CMakeLists.txt passes it, e.g. `cnn`)
 * once on the input embedded in flash (input_data.c, generated from a raw
 * float32 file), with a static workspace sized by the model's header, and
 * prints the memory figures and every output through semihosting.
 * No heap is used by the model; newlib's printf is the only libc user.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/runtime.h"

#include <stdio.h>
#include <string.h>

#define KILN_CAT_(a, b) a##b
#define KILN_CAT(a, b) KILN_CAT_(a, b)
/* M(run) is cnn_run for KILN_MODEL=cnn. */
#define M(x) KILN_CAT(KILN_MODEL, KILN_CAT(_, x))
#define KILN_STR_(x) #x
#define KILN_STR(x) KILN_STR_(x)
#include KILN_STR(KILN_MODEL.h)

#if M(NUM_INPUTS) != 1 || M(NUM_OUTPUTS) != 1
#error "this firmware runs models with one input and one output"
#endif
#if M(INPUT_0_DTYPE) != 1 || M(OUTPUT_0_DTYPE) != 1
#error "this firmware runs models with a float32 input and a float32 output"
#endif

/* input_data.c: the input tensor's bytes. */
extern const unsigned char kiln_input_data[];
extern const unsigned long kiln_input_size;

static float input[M(INPUT_0_SIZE)];
static float output[M(OUTPUT_0_SIZE)];
static _Alignas(M(WORKSPACE_ALIGN)) unsigned char
    workspace[M(WORKSPACE_SIZE) > 0 ? M(WORKSPACE_SIZE) : 1];

int main(void) {
  int i, status;
  printf("kiln model %s on a %s: code %ld B, weights %ld B in flash, "
         "arena %ld B (lower bound %ld B)\n",
         KILN_STR(KILN_MODEL), KILN_CPU, (long)M(CODE_SIZE), (long)M(WEIGHTS_SIZE),
         (long)M(WORKSPACE_SIZE), (long)M(WORKSPACE_LOWER_BOUND));
  if (kiln_input_size != sizeof input) {
    printf("FAIL: the embedded input has %lu bytes, the model takes %lu\n",
           kiln_input_size, (unsigned long)sizeof input);
    return 1;
  }
  memcpy(input, kiln_input_data, sizeof input);
  status = M(run)(input, output, workspace);
  if (status != KILN_OK) {
    printf("FAIL: %s_run: %s\n", KILN_STR(KILN_MODEL),
           kiln_status_string(status));
    return 1;
  }
  for (i = 0; i < M(OUTPUT_0_SIZE); ++i)
    printf("output[%d] = %.9g\n", i, (double)output[i]);
  printf("done\n");
  return 0;
}
