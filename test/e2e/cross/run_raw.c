/*===- run_raw.c - Run a Kiln shared library on raw tensors ----------------===*
 *
 * A minimal loader for models compiled for another architecture and run
 * under QEMU's user-mode emulation, where kiln-run (C++, libonnx) is not
 * available:
 *
 *   run_raw LIB.so IN_DIR OUT_DIR [THREADS]
 *
 * It dlopens LIB.so, asks kiln_model() for the descriptor, reads each input
 * from IN_DIR/input_<i>.bin (the tensor's bytes, dense and row-major, of
 * exactly the size the descriptor gives), runs the model with a NULL
 * workspace (the runtime allocates) and writes OUT_DIR/output_<i>.bin.
 * run_cross_model.py converts the ONNX test data and checks the outputs.
 * Plain C99 and POSIX; every failure prints one line and exits with 1.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "kiln/runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "run_raw: error: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  return 1;
}

static size_t tensorBytes(const kiln_tensor_info *t) {
  return (size_t)t->num_elements * kiln_dtype_size(t->dtype);
}

int main(int argc, char **argv) {
  const kiln_model_info *(*entry)(void);
  int (*setThreads)(int);
  const kiln_model_info *model;
  void *lib, **inputs, **outputs;
  char path[4096];
  uint32_t i;
  int status;

  if (argc != 4 && argc != 5)
    return fail("usage: run_raw LIB.so IN_DIR OUT_DIR [THREADS]", 0);
  lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return fail("cannot load the model library", dlerror());
  *(void **)&entry = dlsym(lib, "kiln_model");
  *(void **)&setThreads = dlsym(lib, "kiln_set_num_threads");
  if (!entry || !setThreads)
    return fail(argv[1], "no kiln_model or kiln_set_num_threads");
  model = entry();
  if (!model || model->abi_version != KILN_ABI_VERSION)
    return fail(argv[1], "no descriptor of this ABI version");
  if (argc == 5)
    setThreads(atoi(argv[4]));

  inputs = calloc(model->num_inputs + 1, sizeof(void *));
  outputs = calloc(model->num_outputs + 1, sizeof(void *));
  for (i = 0; i < model->num_inputs; ++i) {
    size_t bytes = tensorBytes(&model->inputs[i]);
    FILE *f;
    long size;
    snprintf(path, sizeof path, "%s/input_%u.bin", argv[2], (unsigned)i);
    f = fopen(path, "rb");
    if (!f)
      return fail("cannot read", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || (size_t)size != bytes)
      return fail("the file's size is not the input's", path);
    inputs[i] = malloc(bytes ? bytes : 1);
    if (bytes && fread(inputs[i], 1, bytes, f) != bytes)
      return fail("cannot read", path);
    fclose(f);
  }
  for (i = 0; i < model->num_outputs; ++i) {
    size_t bytes = tensorBytes(&model->outputs[i]);
    outputs[i] = malloc(bytes ? bytes : 1);
  }

  status = model->run(inputs, outputs, NULL);
  if (status != KILN_OK)
    return fail("the model failed", kiln_status_string(status));

  for (i = 0; i < model->num_outputs; ++i) {
    size_t bytes = tensorBytes(&model->outputs[i]);
    FILE *f;
    snprintf(path, sizeof path, "%s/output_%u.bin", argv[3], (unsigned)i);
    f = fopen(path, "wb");
    if (!f || fwrite(outputs[i], 1, bytes, f) != bytes || fclose(f) != 0)
      return fail("cannot write", path);
  }
  return 0;
}
