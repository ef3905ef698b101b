/* Capacity mode's pure parts: the sampled receivers are spread over the rooms that run from the
 * first step and are never a fan-out publisher; the ramp's stop rule (one rule for the relay and
 * the baseline); CPU lists for --pin-server and --pin-bench, and the refusal of CPUs that do not
 * exist. */
#include <string.h>

#include "bench/capacity.h"
#include "bench/config.h"
#include "sbtest.h"

SB_TEST(pick_spreads_over_rooms_round_robin) {
  /* three group rooms of 4: the first receiver of each room, then the second of room 0 */
  sb_bench_sample_room_t rooms[] = {{0, 4, 0}, {4, 4, 0}, {8, 4, 0}};
  uint8_t s[12];
  memset(s, 0, sizeof s);
  CHECK_EQ(sb_bench_capacity_pick(rooms, 3, 12, 4, s), 4);
  CHECK(s[0] && s[4] && s[8] && s[1]);
  CHECK_EQ(s[2] + s[3] + s[5] + s[6] + s[7] + s[9] + s[10] + s[11], 0);
}

SB_TEST(pick_skips_fanout_publishers) {
  /* two fan-out rooms of 1 + 3: publishers 0 and 4 never sampled */
  sb_bench_sample_room_t rooms[] = {{0, 4, 1}, {4, 4, 1}};
  uint8_t s[8];
  memset(s, 0, sizeof s);
  CHECK_EQ(sb_bench_capacity_pick(rooms, 2, 8, 8, s), 6);
  CHECK(!s[0] && !s[4]);
  CHECK(s[1] && s[2] && s[3] && s[5] && s[6] && s[7]);
}

SB_TEST(pick_stays_within_the_first_step) {
  /* a ramp starting with 6 participants (room 0 whole, 2 of room 1): only those can be sampled */
  sb_bench_sample_room_t rooms[] = {{0, 4, 1}, {4, 4, 1}, {8, 4, 1}};
  uint8_t s[12];
  memset(s, 0, sizeof s);
  CHECK_EQ(sb_bench_capacity_pick(rooms, 3, 6, 4, s), 4);
  CHECK(s[1] && s[5] && s[2] && s[3]);
  for (int i = 6; i < 12; i++)
    CHECK(!s[i]);
}

SB_TEST(pick_fewer_receivers_than_wanted) {
  sb_bench_sample_room_t rooms[] = {{0, 2, 0}, {2, 1, 0}}; /* a 1-member room receives nothing */
  uint8_t s[3];
  memset(s, 0, sizeof s);
  CHECK_EQ(sb_bench_capacity_pick(rooms, 2, 3, 10, s), 2);
  CHECK(s[0] && s[1] && !s[2]);
}

static sb_bench_step_figures_t good(void) {
  sb_bench_step_figures_t f = {.participants = 17, .with_media = 17, .failed = 0,
                               .latency_samples = 1000, .p99_us = 900, .loss_pct = 0.05};
  return f;
}

SB_TEST(step_ok_within_targets) {
  sb_bench_step_figures_t f = good();
  CHECK(sb_bench_ramp_step_ok(&f, 1.0, 0.1));
  f.p99_us = 1000; /* on the target is within it */
  f.loss_pct = 0.1;
  CHECK(sb_bench_ramp_step_ok(&f, 1.0, 0.1));
}

SB_TEST(step_missed_on_each_condition) {
  sb_bench_step_figures_t f = good();
  f.p99_us = 1000.5;
  CHECK(!sb_bench_ramp_step_ok(&f, 1.0, 0.1));
  f = good();
  f.loss_pct = 0.11;
  CHECK(!sb_bench_ramp_step_ok(&f, 1.0, 0.1));
  f = good();
  f.latency_samples = 0; /* no sampled receiver measured anything: not a pass */
  CHECK(!sb_bench_ramp_step_ok(&f, 1.0, 0.1));
  f = good();
  f.failed = 1;
  CHECK(!sb_bench_ramp_step_ok(&f, 1.0, 0.1));
  f = good();
  f.with_media = 16;
  CHECK(!sb_bench_ramp_step_ok(&f, 1.0, 0.1));
}

SB_TEST(ramp_next_grows_then_stops) {
  CHECK_EQ(sb_bench_ramp_next(1, 0, 17, 17, 68, 1, 1000), 34);
  CHECK_EQ(sb_bench_ramp_next(1, 0, 60, 17, 68, 4, 1000), 68); /* clipped to the largest step */
  CHECK_EQ(sb_bench_ramp_next(1, 0, 68, 17, 68, 5, 1000), 0);  /* at the maximum */
  CHECK_EQ(sb_bench_ramp_next(0, 0, 34, 17, 68, 2, 1000), 0);  /* missed the targets */
  CHECK_EQ(sb_bench_ramp_next(1, 0, 34, 17, 68, 1000, 1000), 0);
}

SB_TEST(ramp_next_measures_a_missed_step_again_while_retries_are_left) {
  CHECK_EQ(sb_bench_ramp_next(0, 1, 34, 17, 68, 2, 1000), 34);  /* the same load again */
  CHECK_EQ(sb_bench_ramp_next(0, 2, 68, 17, 68, 5, 1000), 68);  /* also at the maximum */
  CHECK_EQ(sb_bench_ramp_next(1, 1, 34, 17, 68, 3, 1000), 51);  /* passed: on up */
  CHECK_EQ(sb_bench_ramp_next(0, 1, 34, 17, 68, 1000, 1000), 0); /* the step limit still holds */
}

SB_TEST(cpulist_parse_and_format) {
  cpu_set_t s;
  char out[64];
  CHECK_EQ(sb_bench_cpulist_parse("1", &s), 0);
  CHECK_EQ(CPU_COUNT(&s), 1);
  CHECK(CPU_ISSET(1, &s));
  CHECK_EQ(sb_bench_cpulist_parse("0,2-4,7", &s), 0);
  CHECK_EQ(CPU_COUNT(&s), 5);
  sb_bench_cpulist_format(&s, out, sizeof out);
  CHECK_STR(out, "0,2-4,7");
  CHECK_EQ(sb_bench_cpulist_parse("", &s), -1);
  CHECK_EQ(sb_bench_cpulist_parse("a", &s), -1);
  CHECK_EQ(sb_bench_cpulist_parse("1,", &s), -1);
  CHECK_EQ(sb_bench_cpulist_parse("3-1", &s), -1);
  CHECK_EQ(sb_bench_cpulist_parse("-1", &s), -1);
  CHECK_EQ(sb_bench_cpulist_parse("100000", &s), -1); /* past CPU_SETSIZE */
}

SB_TEST(cpus_check_names_the_missing_cpu) {
  cpu_set_t want, have;
  int missing = -1;
  sb_bench_cpulist_parse("0-1", &have);
  sb_bench_cpulist_parse("1", &want);
  CHECK_EQ(sb_bench_cpus_check(&want, &have, &missing), 0);
  sb_bench_cpulist_parse("1,5", &want);
  CHECK_EQ(sb_bench_cpus_check(&want, &have, &missing), -1);
  CHECK_EQ(missing, 5);
}

SB_TEST(config_capacity_flags) {
  sb_bench_config_t c;
  char err[200];
  char *ok[] = {"b", "--secret-file", "s", "--fanout", "16", "--fanout-rooms", "4", "--ramp", "--capacity",
                "--capacity-sample", "6", "--pin-server", "1", "--pin-bench", "0", "--baseline"};
  char *bad[] = {"b", "--secret-file", "s", "--pin-server", "x"};
  CHECK_EQ(sb_bench_config_parse(&c, (int)(sizeof ok / sizeof ok[0]), ok, err, sizeof err), 0);
  CHECK(c.capacity && c.capacity_sample == 6 && c.ramp_mode && c.baseline && c.fanout_rooms_given);
  CHECK_STR(c.pin_server, "1");
  CHECK_STR(c.pin_bench, "0");
  CHECK_EQ(sb_bench_config_parse(&c, (int)(sizeof bad / sizeof bad[0]), bad, err, sizeof err), -1);
}
