/*===- Strings.c - Kiln runtime: string tensors -----------------------------===*
 *
 * This file implements the string helpers of kiln/runtime.h. Inside a model
 * a string tensor is a byte tensor with one more dimension: `width` bytes a
 * string, NUL-padded. NAME_run copies the caller's strings into such slots
 * and points the output strings at them (kiln_strings_to_slots,
 * kiln_slots_to_strings); generated code formats numbers into slots one byte
 * at a time and parses them from up to 64 bytes passed as eight words
 * (kiln_*_string below), so that it needs no pointers into its tensors.
 *
 * Formatting follows numpy's str() of the value, which ONNX's Cast tests
 * record: the shortest digits that read back as the same value, positional
 * for 1e-4 <= |x| < 1e16 ("0.039187793", "1234.0"), else scientific
 * ("1e-05", "1.5e+16"); "nan", "inf", "-inf". Parsing is strtof/strtod's
 * (which reads "NaN", "INF", "+INF"). Both need libc: a bare-metal build has
 * only the slot copies.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/runtime.h"

#ifndef KILN_RUNTIME_BAREMETAL
#include <stdio.h>
#include <stdlib.h>
#endif

int kiln_strings_to_slots(const kiln_string *strings, size_t n,
                          uint8_t *slots, size_t width) {
  for (size_t i = 0; i < n; ++i) {
    const char *data = strings[i].data;
    size_t size = data ? strings[i].size : 0;
    uint8_t *slot = slots + i * width;
    size_t k = 0;
    for (; k < size && data[k] != '\0'; ++k) {
      if (k == width)
        return KILN_ERROR_SHAPE;
      slot[k] = (uint8_t)data[k];
    }
    for (; k < width; ++k)
      slot[k] = 0;
  }
  return KILN_OK;
}

void kiln_slots_to_strings(const uint8_t *slots, size_t n, size_t width,
                           kiln_string *strings) {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *slot = slots + i * width;
    size_t size = 0;
    while (size < width && slot[size] != 0)
      ++size;
    strings[i].data = (const char *)slot;
    strings[i].size = size;
  }
}

#ifndef KILN_RUNTIME_BAREMETAL

/* Declared here, not in runtime.h: only generated code calls them. */
uint8_t kiln_format_f64_string(double value, int32_t digits, int32_t index);
uint8_t kiln_format_i64_string(int64_t value, int32_t index);
double kiln_parse_f64_string(uint64_t, uint64_t, uint64_t, uint64_t,
                             uint64_t, uint64_t, uint64_t, uint64_t);
float kiln_parse_f32_string(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                            uint64_t, uint64_t, uint64_t);
int64_t kiln_parse_i64_string(uint64_t, uint64_t, uint64_t, uint64_t,
                              uint64_t, uint64_t, uint64_t, uint64_t);

/* numpy's str() of `value`, which has `digits` significant decimal digits
 * at most (9 for float32, 17 for float64), into out[0..40). */
static void formatFloat(double value, int digits, char *out) {
  if (value != value) {
    snprintf(out, 40, "nan");
    return;
  }
  if (value == 1.0 / 0.0 || value == -1.0 / 0.0) {
    snprintf(out, 40, value < 0 ? "-inf" : "inf");
    return;
  }
  /* The shortest %.{p}e that reads back as the same value. */
  char sci[48];
  for (int p = 0; p < digits; ++p) {
    snprintf(sci, sizeof sci, "%.*e", p, value);
    double back = digits <= 9 ? (double)strtof(sci, NULL) : strtod(sci, NULL);
    if (back == value)
      break;
  }
  /* sci is [-]d[.ddd]e[+-]xx: its digits and exponent. */
  const char *s = sci;
  int negative = *s == '-';
  if (negative)
    ++s;
  char mantissa[24];
  int count = 0;
  for (; *s && *s != 'e'; ++s)
    if (*s != '.')
      mantissa[count++] = *s;
  int exponent = *s == 'e' ? atoi(s + 1) : 0;
  while (count > 1 && mantissa[count - 1] == '0')
    --count;
  char *o = out;
  if (negative)
    *o++ = '-';
  double magnitude = value < 0 ? -value : value;
  if (magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e16)) {
    *o++ = mantissa[0];
    if (count > 1) {
      *o++ = '.';
      for (int i = 1; i < count; ++i)
        *o++ = mantissa[i];
    }
    snprintf(o, 8, "e%c%02d", exponent < 0 ? '-' : '+',
             exponent < 0 ? -exponent : exponent);
    return;
  }
  if (exponent < 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -exponent - 1; ++i)
      *o++ = '0';
    for (int i = 0; i < count; ++i)
      *o++ = mantissa[i];
  } else {
    for (int i = 0; i <= exponent; ++i)
      *o++ = i < count ? mantissa[i] : '0';
    *o++ = '.';
    if (count > exponent + 1)
      for (int i = exponent + 1; i < count; ++i)
        *o++ = mantissa[i];
    else
      *o++ = '0';
  }
  *o = '\0';
}

uint8_t kiln_format_f64_string(double value, int32_t digits, int32_t index) {
  char text[40];
  formatFloat(value, digits, text);
  for (int32_t i = 0; i < index; ++i)
    if (text[i] == '\0')
      return 0;
  return index < 40 ? (uint8_t)text[index] : 0;
}

uint8_t kiln_format_i64_string(int64_t value, int32_t index) {
  char text[24];
  snprintf(text, sizeof text, "%lld", (long long)value);
  for (int32_t i = 0; i < index; ++i)
    if (text[i] == '\0')
      return 0;
  return index < 24 ? (uint8_t)text[index] : 0;
}

/* The up to 64 bytes of eight little-endian words, NUL-terminated. */
static const char *unpack(char text[65], uint64_t w0, uint64_t w1,
                          uint64_t w2, uint64_t w3, uint64_t w4, uint64_t w5,
                          uint64_t w6, uint64_t w7) {
  uint64_t w[8] = {w0, w1, w2, w3, w4, w5, w6, w7};
  for (int i = 0; i < 64; ++i)
    text[i] = (char)(w[i / 8] >> (8 * (i % 8)));
  text[64] = '\0';
  return text;
}

#define KILN_WORDS                                                             \
  uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4,             \
      uint64_t w5, uint64_t w6, uint64_t w7
#define KILN_TEXT(text) unpack(text, w0, w1, w2, w3, w4, w5, w6, w7)

double kiln_parse_f64_string(KILN_WORDS) {
  char text[65];
  return strtod(KILN_TEXT(text), NULL);
}

float kiln_parse_f32_string(KILN_WORDS) {
  char text[65];
  return strtof(KILN_TEXT(text), NULL);
}

int64_t kiln_parse_i64_string(KILN_WORDS) {
  char text[65];
  return (int64_t)strtoll(KILN_TEXT(text), NULL, 10);
}

#endif /* KILN_RUNTIME_BAREMETAL */
