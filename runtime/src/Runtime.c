/*===- Runtime.c - Kiln runtime: dtypes, status codes, hooks ---------------===*
 *
 * This file implements the Kiln runtime declared in kiln/runtime.h: the
 * element-type and status-code helpers, and the weak default definitions of
 * the allocation and error hooks that a user may replace with their own.
 *
 * On hosted builds kiln_alloc returns aligned heap memory (posix_memalign, or
 * _aligned_malloc on Windows; on Linux its whole 2 MB pages marked for
 * transparent huge pages) and kiln_error writes to stderr. Defining
 * KILN_RUNTIME_BAREMETAL builds the file without any libc header or call, for
 * microcontrollers: kiln_alloc then returns NULL (a model must be given a
 * workspace) and kiln_error does nothing.
 *
 *===----------------------------------------------------------------------===*/

#if !defined(KILN_RUNTIME_BAREMETAL) && defined(__linux__) &&                  \
    !defined(_DEFAULT_SOURCE)
/* posix_memalign, and madvise's MADV_HUGEPAGE (not POSIX), under a strict
 * -std=c99. */
#define _DEFAULT_SOURCE
#endif
#if !defined(KILN_RUNTIME_BAREMETAL) && !defined(_WIN32) &&                    \
    !defined(_POSIX_C_SOURCE) && !defined(_DEFAULT_SOURCE)
/* posix_memalign is not declared under a strict -std=c99 without this. */
#define _POSIX_C_SOURCE 200112L
#endif

#include "kiln/runtime.h"

#ifndef KILN_RUNTIME_BAREMETAL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/mman.h>
#endif
#endif

/** Marks a hook definition as replaceable by a strong one. */
#if defined(__GNUC__) || defined(__clang__)
#define KILN_WEAK __attribute__((weak))
#else
#define KILN_WEAK
#endif

/*===----------------------------------------------------------------------===*
 * Element types and status codes
 *===----------------------------------------------------------------------===*/

size_t kiln_dtype_size(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_BOOL:
  case KILN_DTYPE_INT8:
  case KILN_DTYPE_UINT8:
    return 1;
  case KILN_DTYPE_INT16:
  case KILN_DTYPE_UINT16:
  case KILN_DTYPE_FLOAT16:
  case KILN_DTYPE_BFLOAT16:
    return 2;
  case KILN_DTYPE_FLOAT:
  case KILN_DTYPE_INT32:
  case KILN_DTYPE_UINT32:
    return 4;
  case KILN_DTYPE_DOUBLE:
  case KILN_DTYPE_INT64:
  case KILN_DTYPE_UINT64:
    return 8;
  case KILN_DTYPE_STRING:
    return sizeof(kiln_string);
  default:
    /* UNDEFINED and codes Kiln does not know. */
    return 0;
  }
}

const char *kiln_dtype_name(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_UNDEFINED:
    return "undefined";
  case KILN_DTYPE_FLOAT:
    return "float32";
  case KILN_DTYPE_UINT8:
    return "uint8";
  case KILN_DTYPE_INT8:
    return "int8";
  case KILN_DTYPE_UINT16:
    return "uint16";
  case KILN_DTYPE_INT16:
    return "int16";
  case KILN_DTYPE_INT32:
    return "int32";
  case KILN_DTYPE_INT64:
    return "int64";
  case KILN_DTYPE_STRING:
    return "string";
  case KILN_DTYPE_BOOL:
    return "bool";
  case KILN_DTYPE_FLOAT16:
    return "float16";
  case KILN_DTYPE_DOUBLE:
    return "float64";
  case KILN_DTYPE_UINT32:
    return "uint32";
  case KILN_DTYPE_UINT64:
    return "uint64";
  case KILN_DTYPE_BFLOAT16:
    return "bfloat16";
  default:
    return "unknown";
  }
}

const char *kiln_status_string(int status) {
  switch (status) {
  case KILN_OK:
    return "success";
  case KILN_ERROR_ALLOC:
    return "workspace allocation failed";
  case KILN_ERROR_ARGUMENT:
    return "null input or output pointer, or misaligned workspace";
  case KILN_ERROR_SHAPE:
    return "run-time shape does not match the model";
  default:
    return "unknown status";
  }
}

/*===----------------------------------------------------------------------===*
 * Weak hooks
 *===----------------------------------------------------------------------===*/

/* A non-power-of-two `align` gives NULL. A zero `size` still gives a unique
 * pointer, so that NULL always means failure. */
KILN_WEAK void *kiln_alloc(size_t size, size_t align) {
#ifdef KILN_RUNTIME_BAREMETAL
  (void)size;
  (void)align;
  return NULL;
#else
  void *ptr = NULL;
  if (align == 0 || (align & (align - 1)) != 0)
    return NULL;
  if (align < sizeof(void *))
    align = sizeof(void *);
  if (size == 0)
    size = 1;
#ifdef _WIN32
  ptr = _aligned_malloc(size, align);
#else
  if (posix_memalign(&ptr, align, size) != 0)
    return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  /* A workspace's whole 2 MB pages in transparent huge pages, where the
   * kernel gives them on request (THP "madvise", Debian's default): a
   * model's layers stream through megabytes of it, and with 4 KB pages
   * where each lands in the caches changed from one process to the next
   * (a depthwise convolution and the 1x1 one after it, alone: 0.16 to
   * 0.21 ms over six processes, 0.156 to 0.161 with huge pages). Asked
   * for 2 MB alignment (kiln-run), all of it; otherwise the block stays
   * where malloc puts it, so that a model given no workspace reuses the
   * same heap memory run after run (a block aligned to 2 MB came from a
   * fresh mmap each time, its pages faulted and zeroed again: MobileNetV2
   * 0.6 ms slower a run). */
  if (size >= KILN_HUGE_PAGE_BYTES) {
    uintptr_t first = ((uintptr_t)ptr + KILN_HUGE_PAGE_BYTES - 1) &
                      ~(uintptr_t)(KILN_HUGE_PAGE_BYTES - 1);
    uintptr_t end =
        ((uintptr_t)ptr + size) & ~(uintptr_t)(KILN_HUGE_PAGE_BYTES - 1);
    if (first < end)
      (void)madvise((void *)first, end - first, MADV_HUGEPAGE);
  }
#endif
#endif
  return ptr;
#endif
}

KILN_WEAK void kiln_free(void *ptr) {
#ifdef KILN_RUNTIME_BAREMETAL
  (void)ptr;
#elif defined(_WIN32)
  _aligned_free(ptr);
#else
  free(ptr);
#endif
}

/* The message is written as one line: a newline is added unless it ends in
 * one. */
KILN_WEAK void kiln_error(const char *message) {
#ifdef KILN_RUNTIME_BAREMETAL
  (void)message;
#else
  size_t length;
  if (!message)
    return;
  length = strlen(message);
  fputs(message, stderr);
  if (length == 0 || message[length - 1] != '\n')
    fputc('\n', stderr);
#endif
}

#ifdef KILN_RUNTIME_BAREMETAL
/*===----------------------------------------------------------------------===*
 * Fills and copies. Generated code may call memset, memcpy and memmove (LLVM
 * turns large fills and copies into them, or their __aeabi_ forms on Arm);
 * a bare-metal program need not have a libc, so the runtime has them, weak:
 * a libc's, when linked, wins.
 * Built with -fno-builtin, so these loops stay loops.
 *===----------------------------------------------------------------------===*/

KILN_WEAK void *memset(void *dst, int value, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  while (n--)
    *d++ = (unsigned char)value;
  return dst;
}

KILN_WEAK void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  while (n--)
    *d++ = *s++;
  return dst;
}

KILN_WEAK void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if (d < s) {
    while (n--)
      *d++ = *s++;
  } else {
    d += n;
    s += n;
    while (n--)
      *--d = *--s;
  }
  return dst;
}

#if defined(__ARM_EABI__)
/* The Arm run-time ABI's names for the same, which LLVM calls on
 * arm*-eabi* targets (note __aeabi_memset's argument order). */
KILN_WEAK void __aeabi_memset(void *dst, size_t n, int value) {
  memset(dst, value, n);
}
KILN_WEAK void __aeabi_memset4(void *dst, size_t n, int value) {
  memset(dst, value, n);
}
KILN_WEAK void __aeabi_memset8(void *dst, size_t n, int value) {
  memset(dst, value, n);
}
KILN_WEAK void __aeabi_memclr(void *dst, size_t n) { memset(dst, 0, n); }
KILN_WEAK void __aeabi_memclr4(void *dst, size_t n) { memset(dst, 0, n); }
KILN_WEAK void __aeabi_memclr8(void *dst, size_t n) { memset(dst, 0, n); }
KILN_WEAK void __aeabi_memcpy(void *dst, const void *src, size_t n) {
  memcpy(dst, src, n);
}
KILN_WEAK void __aeabi_memcpy4(void *dst, const void *src, size_t n) {
  memcpy(dst, src, n);
}
KILN_WEAK void __aeabi_memcpy8(void *dst, const void *src, size_t n) {
  memcpy(dst, src, n);
}
KILN_WEAK void __aeabi_memmove(void *dst, const void *src, size_t n) {
  memmove(dst, src, n);
}
KILN_WEAK void __aeabi_memmove4(void *dst, const void *src, size_t n) {
  memmove(dst, src, n);
}
KILN_WEAK void __aeabi_memmove8(void *dst, const void *src, size_t n) {
  memmove(dst, src, n);
}
#endif
#endif
