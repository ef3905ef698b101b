/* Minimal unit-test runner: a test file defines SB_TEST(name) functions; sbtest.c runs each
 * one, prints a line per test and a closing "N passed, N failed" line. A failed check stops
 * that test and marks it failed. */
#ifndef SB_TEST_H
#define SB_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*sb_test_fn)(void);
void sb_test_register(const char *name, sb_test_fn fn);
void sb_test_fail(const char *file, int line, const char *expr);

#define SB_TEST(name)                                                                       \
  static void name(void);                                                                  \
  __attribute__((constructor)) static void name##_register(void) {                         \
    sb_test_register(#name, name);                                                         \
  }                                                                                        \
  static void name(void)

#define CHECK(expr)                                                                         \
  do {                                                                                     \
    if (!(expr)) {                                                                         \
      sb_test_fail(__FILE__, __LINE__, #expr);                                             \
      return;                                                                              \
    }                                                                                      \
  } while (0)

#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                     \
    long long sb__a = (long long)(a), sb__b = (long long)(b);                              \
    if (sb__a != sb__b) {                                                                  \
      char sb__m[256];                                                                     \
      snprintf(sb__m, sizeof sb__m, "%s == %s (%lld != %lld)", #a, #b, sb__a, sb__b);      \
      sb_test_fail(__FILE__, __LINE__, sb__m);                                             \
      return;                                                                              \
    }                                                                                      \
  } while (0)

#define CHECK_STR(a, b)                                                                     \
  do {                                                                                     \
    const char *sb__a = (a), *sb__b = (b);                                                 \
    if (!sb__a || !sb__b || strcmp(sb__a, sb__b) != 0) {                                   \
      char sb__m[512];                                                                     \
      snprintf(sb__m, sizeof sb__m, "%s == %s (\"%s\" != \"%s\")", #a, #b,                  \
               sb__a ? sb__a : "(null)", sb__b ? sb__b : "(null)");                        \
      sb_test_fail(__FILE__, __LINE__, sb__m);                                             \
      return;                                                                              \
    }                                                                                      \
  } while (0)

#endif
