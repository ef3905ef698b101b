/* The /proc/stat parse behind the whole-machine CPU figures, on crafted lines. */
#include <string.h>

#include "bench/sysinfo.h"
#include "sbtest.h"

SB_TEST(cpustat_parse_real_shape) {
  sb_bench_cpustat_t c;
  CHECK_EQ(sb_bench_cpustat_parse("cpu  60234 58464 66424 897614 397 12 521 7 0 0\n"
                                  "cpu0 29953 29069 32080 450402 51 0 211 0 0 0\n",
                                  &c),
           0);
  CHECK(c.ok);
  CHECK_EQ(c.user, 60234);
  CHECK_EQ(c.nice, 58464);
  CHECK_EQ(c.system, 66424);
  CHECK_EQ(c.idle, 897614);
  CHECK_EQ(c.iowait, 397);
  CHECK_EQ(c.irq, 12);
  CHECK_EQ(c.softirq, 521);
  CHECK_EQ(c.steal, 7);
  /* busy: user + nice + system + irq + softirq; idle, iowait and steal are not */
  CHECK_EQ(sb_bench_cpustat_busy(&c), 60234 + 58464 + 66424 + 12 + 521);
}

SB_TEST(cpustat_parse_old_kernels_without_steal) {
  sb_bench_cpustat_t c;
  CHECK_EQ(sb_bench_cpustat_parse("cpu 1 2 3 4 5 6 7\nintr 0\n", &c), 0);
  CHECK_EQ(c.softirq, 7);
  CHECK_EQ(c.steal, 0);
  CHECK_EQ(sb_bench_cpustat_busy(&c), 1 + 2 + 3 + 6 + 7);
}

SB_TEST(cpustat_parse_bad_lines_fail) {
  sb_bench_cpustat_t c;
  memset(&c, 0x55, sizeof c);
  CHECK_EQ(sb_bench_cpustat_parse(NULL, &c), -1);
  CHECK_EQ(sb_bench_cpustat_parse("", &c), -1);
  /* a per-core line is not the aggregate */
  CHECK_EQ(sb_bench_cpustat_parse("cpu0 1 2 3 4 5 6 7 8\n", &c), -1);
  CHECK_EQ(sb_bench_cpustat_parse("intr 1 2 3 4 5 6 7 8\n", &c), -1);
  /* too few fields (no softirq), a word, a negative number, a number too large */
  CHECK_EQ(sb_bench_cpustat_parse("cpu 1 2 3 4 5 6\n", &c), -1);
  CHECK_EQ(sb_bench_cpustat_parse("cpu 1 2 x 4 5 6 7 8\n", &c), -1);
  CHECK_EQ(sb_bench_cpustat_parse("cpu 1 2 -3 4 5 6 7 8\n", &c), -1);
  CHECK_EQ(sb_bench_cpustat_parse("cpu 1 2 3 4 5 6 7x 8\n", &c), -1);
  CHECK_EQ(sb_bench_cpustat_parse("cpu 18446744073709551616 2 3 4 5 6 7 8\n", &c), -1);
  CHECK(c.user == 0x5555555555555555ull); /* untouched on failure */
}

SB_TEST(cpustat_parse_truncated_lines_fail) {
  const char *full = "cpu  60234 58464 66424 897614 397 12 521\n";
  char cut[128];
  sb_bench_cpustat_t c;
  /* every cut before the end of softirq: a cut digit would be a wrong value */
  for (size_t n = 0; n < strlen(full) - 1; n++) {
    memcpy(cut, full, n);
    cut[n] = '\0';
    CHECK_EQ(sb_bench_cpustat_parse(cut, &c), -1);
  }
  CHECK_EQ(sb_bench_cpustat_parse(full, &c), 0);
  CHECK_EQ(c.softirq, 521);
}

SB_TEST(cpustat_sample_of_this_machine) {
  sb_bench_cpustat_t c;
  sb_bench_cpustat_sample(&c);
  CHECK(c.ok);
  CHECK(sb_bench_cpustat_busy(&c) + c.idle > 0);
}
