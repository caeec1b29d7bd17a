/*===- kiln/runtime.h - Kiln runtime C ABI --------------------------------===*
 *
 * This file declares the C99 ABI shared by every Kiln-generated model and the
 * tiny Kiln runtime: the versioned model descriptor (kiln_model_info), the
 * element-type codes (equal to ONNX TensorProto.DataType), status codes, and
 * the weak hooks for allocation and error reporting that a user may replace.
 *
 * The structs are versioned "as if they were a schema": fields are only ever
 * appended, `abi_version` says which layout a producer wrote and
 * `struct_size` how many bytes of it are valid. Every struct is padded to a
 * multiple of 8 bytes so that 32- and 64-bit targets agree on field order.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI version written into every kiln_model_info. Version 2 appended the
 *  value tables (input_values, output_values). */
#define KILN_ABI_VERSION 2

/** Status codes returned by NAME_run and kiln_model_info.run. */
enum {
  KILN_OK = 0,
  KILN_ERROR_ALLOC = 1,    /**< the workspace could not be allocated */
  KILN_ERROR_ARGUMENT = 2, /**< a NULL input or output, or a misaligned
                              workspace */
  KILN_ERROR_SHAPE = 3     /**< a run-time shape did not match the model */
};

/** Element types: the values of ONNX TensorProto.DataType. */
typedef enum kiln_dtype {
  KILN_DTYPE_UNDEFINED = 0,
  KILN_DTYPE_FLOAT = 1,
  KILN_DTYPE_UINT8 = 2,
  KILN_DTYPE_INT8 = 3,
  KILN_DTYPE_UINT16 = 4,
  KILN_DTYPE_INT16 = 5,
  KILN_DTYPE_INT32 = 6,
  KILN_DTYPE_INT64 = 7,
  KILN_DTYPE_STRING = 8,
  KILN_DTYPE_BOOL = 9,
  KILN_DTYPE_FLOAT16 = 10,
  KILN_DTYPE_DOUBLE = 11,
  KILN_DTYPE_UINT32 = 12,
  KILN_DTYPE_UINT64 = 13,
  KILN_DTYPE_BFLOAT16 = 16
} kiln_dtype;

/** One element of a string tensor (KILN_DTYPE_STRING): `size` bytes at
 *  `data`, not necessarily NUL-terminated. An input's strings are copied
 *  when NAME_run starts; each may hold up to the tensor's `string_bytes`
 *  (else NAME_run returns KILN_ERROR_SHAPE), and ends at its first NUL byte
 *  if it has one. An output's strings point into the workspace: NAME_run
 *  needs one (not NULL), and they stay valid until it is reused. */
typedef struct kiln_string {
  const char *data;
  size_t size;
} kiln_string;

/** One input or output of a model. 40 bytes on 64-bit targets. */
typedef struct kiln_tensor_info {
  const char *name;     /**< the ONNX value name */
  const int64_t *shape; /**< `rank` dimensions, all static */
  int32_t dtype;        /**< a kiln_dtype */
  int32_t rank;
  int64_t num_elements; /**< product of the shape */
  int64_t string_bytes; /**< KILN_DTYPE_STRING: the most bytes one element
                             holds (ABI version 2); 0 for other types */
} kiln_tensor_info;

/** Kinds of ONNX value (kiln_value_info.kind, NAME_*_VALUE_i_KIND), a bit
 *  set; macros, so that the preprocessor can test a header's kinds. */
#define KILN_VALUE_TENSOR 0   /**< one tensor */
#define KILN_VALUE_SEQUENCE 1 /**< a sequence of tensors */
#define KILN_VALUE_OPTIONAL 2 /**< an optional tensor, or with
                                 KILN_VALUE_SEQUENCE an optional sequence */

/** One ONNX input or output of a model, and the tensors it spans in
 *  kiln_model_info.inputs (or .outputs): `count` tensors from `first`.
 *
 *  A tensor spans one. A sequence's length and the shape of each element
 *  are fixed when the model is compiled (kilnc --input-shape=NAME:[2x3,4x5],
 *  or what the ops that build it say); it spans one tensor per element, in
 *  order, named NAME[0], NAME[1], ... An optional spans what it holds (a
 *  tensor named NAME, or a sequence), or nothing with `present` 0: whether
 *  it holds a value is fixed at compile time too (--input-shape=NAME:none
 *  compiles an input for the empty optional). NAME_run and run() take the
 *  flat tensors, one pointer each, so a sequence of N elements is passed as
 *  N pointers with the shapes of its N tensor infos. 32 bytes on 64-bit
 *  targets, 24 on 32-bit ones. */
typedef struct kiln_value_info {
  const char *name; /**< the ONNX value name */
  int32_t kind;     /**< KILN_VALUE_* bits */
  int32_t present;  /**< 1; 0 for an optional compiled empty; 2 for an
                         optional output whose presence is decided at run
                         time (an If's branches disagree): its first tensor
                         is then a bool scalar, 1 if it holds a value, and
                         the value's tensors follow */
  int32_t dtype;    /**< the element type of its tensors (a kiln_dtype) */
  uint32_t first;   /**< index of its first tensor */
  uint32_t count;   /**< the number of tensors it spans */
} kiln_value_info;

/** Generic entry point: inputs and outputs in model order. */
typedef int (*kiln_run_fn)(void *const *inputs, void *const *outputs,
                           void *workspace);

/** The versioned descriptor of a compiled model (NAME_info(), kiln_model()). */
typedef struct kiln_model_info {
  uint32_t abi_version; /**< KILN_ABI_VERSION of the producer */
  uint32_t struct_size; /**< sizeof(kiln_model_info) of the producer */
  const char *name;     /**< the model's symbol prefix */
  const kiln_tensor_info *inputs;
  const kiln_tensor_info *outputs;
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint64_t workspace_size;  /**< bytes of scratch arena */
  uint64_t workspace_align; /**< required alignment of the arena */
  uint64_t weights_size;    /**< bytes of constant data in the artifact */
  kiln_run_fn run;          /**< generic form of NAME_run */
  /* ABI version 2: the ONNX values behind the tensors. A producer of version
   * 1 (struct_size below offsetof(kiln_model_info, input_values)) has one
   * plain tensor per value. */
  const kiln_value_info *input_values;
  const kiln_value_info *output_values;
  uint32_t num_input_values;
  uint32_t num_output_values;
} kiln_model_info;

/** Size in bytes of one element of `dtype`, 0 if unknown; a string's is
 *  sizeof(kiln_string). */
size_t kiln_dtype_size(int32_t dtype);

/** A short name for `dtype` ("float32", "int64", ...). */
const char *kiln_dtype_name(int32_t dtype);

/** A message for a status code. */
const char *kiln_status_string(int status);

/*===----------------------------------------------------------------------===*
 * Strings. Inside a model a string tensor is a byte tensor with one more
 * dimension, `width` bytes per string, NUL-padded; NAME_run converts at its
 * edges with these two, and the generated code formats and parses numbers
 * with the kiln_*_string functions of runtime/src/Strings.c (hosted only).
 *===----------------------------------------------------------------------===*/

/** Copies `n` strings into `width`-byte slots, NUL-padded. Returns
 *  KILN_ERROR_SHAPE if one is longer than `width` (up to a NUL), else 0. */
int kiln_strings_to_slots(const kiln_string *strings, size_t n,
                          uint8_t *slots, size_t width);

/** Points `n` strings at `width`-byte slots, each as long as its bytes up to
 *  the first NUL. */
void kiln_slots_to_strings(const uint8_t *slots, size_t n, size_t width,
                           kiln_string *strings);

/*===----------------------------------------------------------------------===*
 * Hooks. The runtime defines each one weakly; define your own to replace it.
 *===----------------------------------------------------------------------===*/

/** Bytes of a transparent huge page (x86-64, most AArch64 Linux kernels). */
#define KILN_HUGE_PAGE_BYTES ((size_t)2 << 20)

/** Allocates `size` bytes aligned to `align` (a power of two), or NULL.
 *  Called only when NAME_run is given a NULL workspace. On Linux the
 *  default marks the block's whole KILN_HUGE_PAGE_BYTES pages for
 *  transparent huge pages; align a workspace to KILN_HUGE_PAGE_BYTES to
 *  have all of it in them. */
void *kiln_alloc(size_t size, size_t align);

/** Frees memory returned by kiln_alloc. */
void kiln_free(void *ptr);

/** Reports an error message; the default writes it to stderr on hosted
 *  targets and does nothing on bare metal. */
void kiln_error(const char *message);

/*===----------------------------------------------------------------------===*
 * Threads. Generated code runs its large loops through kiln_parallel_rows;
 * the runtime splits them over a small pool of pthreads (the calling thread
 * is one of them). One thread is the default and costs one indirect call per
 * loop. Bare-metal builds have no pool: the loop runs on the caller.
 *===----------------------------------------------------------------------===*/

/** Sets the number of threads that models run on (1 or more; the pool
 *  grows on first use and is capped at KILN_MAX_THREADS). Not to be called
 *  while a model runs. Returns the number now in effect. */
int kiln_set_num_threads(int threads);

/** The number of threads models run on. */
int kiln_get_num_threads(void);

/** The most threads the runtime's pool holds. */
#define KILN_MAX_THREADS 64

/** The number of buffer arguments a parallel loop body takes. */
#define KILN_ROWS_BUFFERS 8

/** A loop body over iterations [begin, end) with the loop's arguments:
 *  KILN_ROWS_BUFFERS buffers and two integers. */
typedef void (*kiln_rows_fn)(void *b0, void *b1, void *b2, void *b3, void *b4,
                             void *b5, void *b6, void *b7, int64_t x,
                             int64_t y, int64_t begin, int64_t end);

/** Runs fn(b0..b7, x, y, begin, end) over contiguous, disjoint pieces of
 *  [0, n) that cover it, on the pool's threads, and returns when all are
 *  done. Called by generated code. */
void kiln_parallel_rows(kiln_rows_fn fn, void *b0, void *b1, void *b2,
                        void *b3, void *b4, void *b5, void *b6, void *b7,
                        int64_t x, int64_t y, int64_t n);

/** Told of each loop that kiln_parallel_rows ran: its body (a kernel of the
 *  model, one of the library's local functions), its iterations, when the
 *  call began and ended (CLOCK_MONOTONIC nanoseconds), and the iterations
 *  that the calling thread ran itself. Called on the model's thread, after
 *  the loop. */
typedef void (*kiln_profile_fn)(void *user, kiln_rows_fn fn, int64_t n,
                                uint64_t begin_ns, uint64_t end_ns,
                                int64_t caller_rows);

/** Makes `fn` (NULL: none, the default) told of every parallel loop from
 *  now on (kiln-run --profile). Not to be called while a model runs. A
 *  KILN_RUNTIME_BAREMETAL runtime ignores it. */
void kiln_set_profiler(kiln_profile_fn fn, void *user);

/** Inside a profiler's call: the nanoseconds that the threads spent running
 *  the loop's body, summed over them (end_ns - begin_ns and a little less on
 *  one thread; on several, their time in the loop less claiming pieces,
 *  waking and waiting for each other). 0 outside one, and from a
 *  KILN_RUNTIME_BAREMETAL runtime. */
uint64_t kiln_profile_busy_ns(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_RUNTIME_H */
