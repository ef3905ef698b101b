/* The /proc/<pid>/stat parse behind the server's user and system CPU figures, on crafted lines. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/sysinfo.h"
#include "sbtest.h"

/* A real line's shape: fields 3-15 are "S 1 42 42 0 -1 4194560 981 0 3 0 <utime> <stime>". */
#define TAIL " S 1 42 42 0 -1 4194560 981 0 3 0 1234 567 0 0 20 0 3 0 9081 1 2\n"

SB_TEST(stat_parse_plain_line) {
  uint64_t ut = 0, st = 0;
  CHECK_EQ(sb_bench_proc_stat_parse("4242 (switchboard)" TAIL, &ut, &st), 0);
  CHECK_EQ(ut, 1234);
  CHECK_EQ(st, 567);
}

SB_TEST(stat_parse_command_with_spaces_and_parentheses) {
  uint64_t ut = 0, st = 0;
  /* a command may hold anything, even what looks like the fields that follow it */
  CHECK_EQ(sb_bench_proc_stat_parse("7 (a b) c)" TAIL, &ut, &st), 0);
  CHECK_EQ(ut, 1234);
  CHECK_EQ(st, 567);
  CHECK_EQ(sb_bench_proc_stat_parse("7 () R 9 9 9 9 9 9 9 9 9 9 77 88 9 9)" TAIL, &ut, &st), 0);
  CHECK_EQ(ut, 1234);
  CHECK_EQ(st, 567);
  CHECK_EQ(sb_bench_proc_stat_parse("7 ())" TAIL, &ut, &st), 0);
  CHECK_EQ(ut, 1234);
}

SB_TEST(stat_parse_line_ending_after_stime) {
  uint64_t ut = 0, st = 0;
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12\n", &ut, &st), 0);
  CHECK_EQ(ut, 11);
  CHECK_EQ(st, 12);
}

SB_TEST(stat_parse_truncated_lines_fail) {
  const char *full = "4242 (switchboard)" TAIL;
  const char *stime = strstr(full, " 567 ");
  char cut[256];
  uint64_t ut = 99, st = 99;
  CHECK(stime != NULL);
  /* every cut up to and inside stime (a cut digit would be a wrong value) */
  for (size_t n = 0; n <= (size_t)(stime - full) + 4; n++) {
    memcpy(cut, full, n);
    cut[n] = '\0';
    CHECK_EQ(sb_bench_proc_stat_parse(cut, &ut, &st), -1);
  }
  CHECK_EQ(ut, 99); /* nothing written on failure */
  CHECK_EQ(st, 99);
  cut[(size_t)(stime - full) + 4] = ' ';
  cut[(size_t)(stime - full) + 5] = '\0';
  CHECK_EQ(sb_bench_proc_stat_parse(cut, &ut, &st), 0);
  CHECK_EQ(st, 567);
}

SB_TEST(stat_parse_bad_fields_fail) {
  uint64_t ut = 0, st = 0;
  CHECK_EQ(sb_bench_proc_stat_parse(NULL, &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("4242 switchboard S 1 2 3 4 5 6 7 8 9 10 11 12\n", &ut, &st), -1);
  /* the state is one letter */
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x)  1 2 3 4 5 6 7 8 9 10 11 12\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x)S 1 2 3 4 5 6 7 8 9 10 11 12\n", &ut, &st), -1);
  /* a word, an empty field, a negative utime or stime, a number too large */
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 abc 12\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10  12\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 -11 12\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 -12\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12x\n", &ut, &st), -1);
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 18446744073709551616 12\n", &ut, &st),
           -1);
  /* the largest value still parses */
  CHECK_EQ(sb_bench_proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 18446744073709551615 12\n", &ut, &st),
           0);
  CHECK(ut == UINT64_MAX);
}

SB_TEST(worker_thread_names) {
  CHECK_EQ(sb_bench_worker_index("sb-worker-0"), 0);
  CHECK_EQ(sb_bench_worker_index("sb-worker-12\n"), 12); /* as /proc/.../comm has it */
  CHECK_EQ(sb_bench_worker_index("sb-worker-63"), 63);
  CHECK_EQ(sb_bench_worker_index("sb-worker-64"), -1);   /* past the server's limit */
  CHECK_EQ(sb_bench_worker_index("sb-worker-"), -1);
  CHECK_EQ(sb_bench_worker_index("sb-worker--1"), -1);
  CHECK_EQ(sb_bench_worker_index("sb-worker-1x"), -1);
  CHECK_EQ(sb_bench_worker_index("switchboard"), -1);
  CHECK_EQ(sb_bench_worker_index("sb-signaling"), -1);
}

SB_TEST(proc_sample_of_this_process) {
  sb_bench_proc_t pr;
  volatile unsigned spin = 0;
  double user = 0, sys = 0;
  /* user time of our own (a few ticks' worth), so that the tick count can be checked */
  while (user < 0.05) {
    for (int i = 0; i < 1000000; i++)
      spin = spin + 1;
    sb_bench_self_cpu(&user, &sys);
  }
  sb_bench_proc_sample(getpid(), &pr);
  CHECK(pr.ok);
  CHECK(pr.user_ticks > 0);
  /* the ticks are the total truncated to whole ticks, read just before it */
  CHECK(pr.cpu_ns >= (pr.user_ticks + pr.system_ticks) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK)));
  CHECK(pr.rss_kib > 0);
  sb_bench_proc_sample(0, &pr);
  CHECK(!pr.ok);
}

/* Every sleep ends with the thread put back on a CPU: schedstat's third field, summed. */
SB_TEST(proc_sample_counts_wakeups) {
  sb_bench_proc_t before, after;
  struct timespec ms = {0, 1000 * 1000};
  if (access("/proc/self/schedstat", R_OK) != 0)
    return; /* a kernel without schedstat: no count to check */
  sb_bench_proc_sample(getpid(), &before);
  for (int i = 0; i < 20; i++)
    nanosleep(&ms, NULL);
  sb_bench_proc_sample(getpid(), &after);
  CHECK(before.ok && after.ok);
  CHECK(after.slices >= before.slices + 20);
  /* not the other fields: 20 sleeps of 1 ms are no more than a few hundred times put on a CPU */
  CHECK(after.slices < before.slices + 1000);
  CHECK_EQ(before.nworkers, 0); /* no thread of ours is named sb-worker-N */
}
