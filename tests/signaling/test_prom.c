#include "sbtest.h"
#include "signaling/prom.h"

#include <stdlib.h>

/* Label values escape backslash, double quote and newline (and nothing else). */
SB_TEST(label_value_escaping) {
  sb_prom_t p;
  sb_prom_init(&p);
  sb_prom_label_t l[2] = {{"tenant", "a\\b\"c\nd"}, {"reason", "x y"}};
  sb_prom_u64(&p, "switchboard_x_total", l, 2, 42);
  char *t = sb_prom_take(&p);
  CHECK_STR(t, "switchboard_x_total{tenant=\"a\\\\b\\\"c\\nd\",reason=\"x y\"} 42\n");
  free(t);
}

/* HELP escapes backslash and newline but leaves quotes; TYPE follows. */
SB_TEST(help_escaping) {
  sb_prom_t p;
  sb_prom_init(&p);
  sb_prom_header(&p, "switchboard_y", "gauge", "one \"two\"\nthree \\ four");
  char *t = sb_prom_take(&p);
  CHECK_STR(t, "# HELP switchboard_y one \"two\"\\nthree \\\\ four\n# TYPE switchboard_y gauge\n");
  free(t);
}

/* Without labels there are no braces; floats are plain decimals. */
SB_TEST(no_labels) {
  sb_prom_t p;
  sb_prom_init(&p);
  sb_prom_u64(&p, "a", NULL, 0, 0);
  sb_prom_f64(&p, "b", NULL, 0, 1.5);
  char *t = sb_prom_take(&p);
  CHECK_STR(t, "a 0\nb 1.5\n");
  free(t);
}

/* Buckets are cumulative, +Inf equals the count, and le comes after the other labels. */
SB_TEST(histogram_cumulative) {
  sb_prom_t p;
  sb_prom_init(&p);
  static const double bounds[] = {0.1, 1};
  uint64_t counts[] = {2, 3, 1};
  sb_prom_histogram(&p, "h_seconds", &(sb_prom_label_t){"worker", "0"}, 1, bounds, 2, counts, 4.25);
  char *t = sb_prom_take(&p);
  CHECK_STR(t, "h_seconds_bucket{worker=\"0\",le=\"0.1\"} 2\n"
               "h_seconds_bucket{worker=\"0\",le=\"1\"} 5\n"
               "h_seconds_bucket{worker=\"0\",le=\"+Inf\"} 6\n"
               "h_seconds_sum{worker=\"0\"} 4.25\n"
               "h_seconds_count{worker=\"0\"} 6\n");
  free(t);
}

/* Nothing written is an empty text, not NULL; the text grows past the first allocation. */
SB_TEST(empty_and_large) {
  sb_prom_t p;
  sb_prom_init(&p);
  char *t = sb_prom_take(&p);
  CHECK(t && !t[0]);
  free(t);
  sb_prom_init(&p);
  for (int i = 0; i < 2000; i++)
    sb_prom_u64(&p, "switchboard_many_total", &(sb_prom_label_t){"tenant", "acme"}, 1, (uint64_t)i);
  t = sb_prom_take(&p);
  CHECK(t && strlen(t) > 40000);
  CHECK(strstr(t, "switchboard_many_total{tenant=\"acme\"} 1999\n") != NULL);
  free(t);
}
