/* A C program that runs a model with a string input and a string output
 * through the documented ABI (kiln/runtime.h, the generated header):
 * normalize.onnx lower-cases four strings and drops the stopwords "the" and
 * "a". Strings go in as kiln_string {data, size} arrays, come out pointing
 * into the workspace; a string longer than the header's _STRING_BYTES and a
 * NULL workspace are refused. */
#include <kiln/runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

static int failures = 0;
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAIL: " __VA_ARGS__);                                            \
      printf("\n");                                                            \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

_Static_assert(normalize_INPUT_0_DTYPE == KILN_DTYPE_STRING,
               "input 0 is a string tensor");

static int same(const kiln_string *s, const char *text) {
  return s->size == strlen(text) && memcmp(s->data, text, s->size) == 0;
}

int main(void) {
  /* Not NUL-terminated: "FOXES" gives three bytes, "FOX". */
  const char *foxes = "FOXES";
  kiln_string x[normalize_INPUT_0_SIZE] = {
      {"The", 3}, {"Quick", 5}, {"A", 1}, {foxes, 3}};
  kiln_string y[normalize_OUTPUT_0_SIZE];
  void *workspace = aligned_alloc(normalize_WORKSPACE_ALIGN,
                                  normalize_WORKSPACE_SIZE);

  int status = normalize_run(x, y, workspace);
  CHECK(status == KILN_OK, "run returned %d", status);
  CHECK(same(&y[0], "quick") && same(&y[1], "fox"), "got \"%.*s\" \"%.*s\"",
        (int)y[0].size, y[0].data, (int)y[1].size, y[1].data);

  const kiln_model_info *info = normalize_info();
  CHECK(info->inputs[0].dtype == KILN_DTYPE_STRING &&
            info->inputs[0].string_bytes == normalize_INPUT_0_STRING_BYTES,
        "input 0: dtype %d, %lld bytes", (int)info->inputs[0].dtype,
        (long long)info->inputs[0].string_bytes);
  CHECK(kiln_dtype_size(KILN_DTYPE_STRING) == sizeof(kiln_string),
        "kiln_dtype_size(STRING)");

  /* Through the generic entry point. */
  void *inputs[1] = {x};
  kiln_string z[normalize_OUTPUT_0_SIZE];
  void *outputs[1] = {z};
  status = info->run(inputs, outputs, workspace);
  CHECK(status == KILN_OK && same(&z[0], "quick") && same(&z[1], "fox"),
        "run() returned %d", status);

  /* One byte more than a string may hold. */
  char *longer = malloc(normalize_INPUT_0_STRING_BYTES + 1);
  memset(longer, 'x', normalize_INPUT_0_STRING_BYTES + 1);
  x[1].data = longer;
  x[1].size = normalize_INPUT_0_STRING_BYTES + 1;
  status = normalize_run(x, y, workspace);
  CHECK(status == KILN_ERROR_SHAPE, "a long string: run returned %d", status);
  x[1].size = normalize_INPUT_0_STRING_BYTES;
  status = normalize_run(x, y, workspace);
  CHECK(status == KILN_OK && y[0].size == normalize_INPUT_0_STRING_BYTES,
        "a string of exactly _STRING_BYTES: run returned %d, size %zu", status,
        y[0].size);

  /* Output strings live in the workspace: it must be given. */
  status = normalize_run(x, y, NULL);
  CHECK(status == KILN_ERROR_ARGUMENT, "NULL workspace: run returned %d",
        status);

  free(longer);
  free(workspace);
  printf("string ABI: %s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
