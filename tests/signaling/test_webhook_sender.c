/* The webhook sender thread (signaling/webhook.c) against a port where nothing listens (a
 * refused connection, loopback only): pushes from this thread while the sender's runs, failed
 * attempts counted and retried up to the limit, a full queue refusing with a count, and a stop
 * that does not wait for backoffs. Also run under ThreadSanitizer (label "threads"). */
#include "common/util.h"
#include "sbtest.h"
#include "signaling/webhook.h"

#include <curl/curl.h>
#include <uv.h>

/* 127.0.0.1:1 (tcpmux) is refused at once where nothing serves it */
#define NOWHERE "http://127.0.0.1:1/hook"

static sb_webhook_msg_t *msg(int n) {
  char id[32];
  snprintf(id, sizeof id, "evt_%d", n);
  return sb_webhook_msg_new(id, "acme", "call.started", NOWHERE, "whsec_test", "{\"a\":1}");
}

static int wait_gave_up(sb_webhook_sender_t *s, uint64_t n, sb_webhook_stats_t *st) {
  uint64_t deadline = sb_now_ms() + 20000;
  do {
    sb_webhook_sender_stats(s, st);
    if (st->gave_up >= n)
      return 1;
    uv_sleep(5); /* polling the counters for a bounded time */
  } while (sb_now_ms() < deadline);
  return 0;
}

SB_TEST(refused_sends_are_retried_up_to_the_limit_and_counted) {
  sb_webhook_config_t cfg;
  sb_webhook_stats_t st;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  sb_webhook_config_defaults(&cfg);
  cfg.capacity = 4;
  cfg.max_attempts = 3;
  cfg.backoff_base_ms = 1;
  cfg.backoff_max_ms = 4;
  sb_webhook_sender_t *s = sb_webhook_sender_create(&cfg);
  CHECK(s != NULL);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(sb_webhook_sender_push(s, i % 2 ? "acme\x1fr1" : "acme\x1fr2", msg(i)), 0);
  CHECK_EQ(sb_webhook_sender_push(s, "acme\x1fr3", msg(9)), -1); /* full: freed and counted */
  CHECK(wait_gave_up(s, 4, &st));
  CHECK_EQ(st.failed_attempts, 12);
  CHECK_EQ(st.delivered, 0);
  CHECK_EQ(st.dropped_full, 1);
  CHECK_EQ(st.queued, 0);
  CHECK_EQ(sb_webhook_sender_push(s, "acme\x1fr3", msg(10)), 0); /* room again */
  CHECK(wait_gave_up(s, 5, &st));
  sb_webhook_sender_destroy(s);
  curl_global_cleanup();
}

SB_TEST(stop_does_not_wait_for_backoffs) {
  sb_webhook_config_t cfg;
  sb_webhook_stats_t st;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  sb_webhook_config_defaults(&cfg);
  cfg.backoff_base_ms = 60000; /* the first retry would come after 30 to 60 s */
  sb_webhook_sender_t *s = sb_webhook_sender_create(&cfg);
  CHECK(s != NULL);
  CHECK_EQ(sb_webhook_sender_push(s, "acme\x1fr1", msg(1)), 0);
  CHECK_EQ(sb_webhook_sender_push(s, "acme\x1fr1", msg(2)), 0);
  uint64_t deadline = sb_now_ms() + 20000;
  do { /* the first attempt failed: the lane now waits for its backoff */
    sb_webhook_sender_stats(s, &st);
    uv_sleep(2);
  } while (st.failed_attempts < 1 && sb_now_ms() < deadline);
  CHECK_EQ(st.failed_attempts, 1);
  uint64_t t0 = sb_now_ms();
  sb_webhook_sender_destroy(s); /* frees both events (ASan would tell) */
  CHECK(sb_now_ms() - t0 < 10000);
  curl_global_cleanup();
}
