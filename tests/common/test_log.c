#include "common/log.h"
#include "common/util.h"
#include "sbtest.h"

SB_TEST(configure_rejects_unknown_names) {
  CHECK_EQ(sb_log_configure("loud", NULL), -1);
  CHECK_EQ(sb_log_configure(NULL, "ice,nosuch"), -1);
  CHECK_EQ(sb_log_configure("warn", "ice,dtls"), 0);
  CHECK_EQ(sb_log_debug, SB_DBG_ICE | SB_DBG_DTLS);
  CHECK_EQ(sb_log_configure("info", ""), 0);
  CHECK_EQ(sb_log_level, SB_LOG_INFO);
}

SB_TEST(ratelimit_allows_burst_then_refills) {
  sb_ratelimit_t rl = {0};
  int ok = 0;
  for (int i = 0; i < 10; i++)
    ok += sb_ratelimit_ok(&rl, 5000, 3);
  CHECK_EQ(ok, 3);
  CHECK_EQ(rl.suppressed, 7);
  CHECK_EQ(sb_ratelimit_ok(&rl, 6000, 3), 1);
}

SB_TEST(ice_strings_use_the_ice_alphabet) {
  char s[33];
  CHECK_EQ(sb_random_ice_string(s, 32), 0);
  CHECK_EQ(strlen(s), 32);
  for (int i = 0; i < 32; i++)
    CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i]) != NULL);
}
