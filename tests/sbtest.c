#include "sbtest.h"

#include <stdlib.h>

#define SB_TEST_MAX 512

static struct {
  const char *name;
  sb_test_fn fn;
} tests[SB_TEST_MAX];
static int ntests;
static int current_failed;

void sb_test_register(const char *name, sb_test_fn fn) {
  if (ntests < SB_TEST_MAX) {
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
  }
}

void sb_test_fail(const char *file, int line, const char *expr) {
  fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, expr);
  current_failed = 1;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  const char *only = argc > 1 ? argv[1] : NULL;
  for (int i = 0; i < ntests; i++) {
    if (only && strcmp(only, tests[i].name) != 0)
      continue;
    current_failed = 0;
    tests[i].fn();
    printf("%s %s\n", current_failed ? "not ok" : "ok", tests[i].name);
    if (current_failed)
      failed++;
    else
      passed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed || (passed == 0) ? 1 : 0;
}
