/* Webhook delivery without sockets: the signature (known answers computed with Python's hmac)
 * and the queue's scheduling (signaling/whq.c) driven with an explicit `now`: order per lane, a
 * failing event holding back its lane only, backoff with jitter, the attempt limit, the
 * capacity. */
#include "sbtest.h"
#include "signaling/webhook.h"
#include "signaling/whq.h"

#include <stdlib.h>

SB_TEST(signature_known_answers) {
  char sig[SB_WEBHOOK_SIGNATURE_MAX];
  const char *body = "{\"a\":1}";
  CHECK_EQ(sb_webhook_signature("whsec_test", 1700000000, body, strlen(body), sig), 0);
  CHECK_STR(sig, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
  CHECK_EQ(sb_webhook_signature("key", 0, "", 0, sig), 0);
  CHECK_STR(sig, "t=0,v1=85841b4efc3cd7776c3c8f9b7cca9e281c550e5d19889d78e9e669c6337f000d");
  /* another time or another body: another signature */
  char other[SB_WEBHOOK_SIGNATURE_MAX];
  CHECK_EQ(sb_webhook_signature("whsec_test", 1700000001, body, strlen(body), other), 0);
  CHECK(strcmp(sig, other) != 0);
}

static const sb_whq_policy_t policy = {.capacity = 8, .max_attempts = 3, .base_ms = 1000,
                                       .max_ms = 3000};

static int freed;
static void count_free(void *data) {
  freed++;
  free(data);
}

static int *ev(int n) {
  int *p = malloc(sizeof *p);
  *p = n;
  return p;
}

static int val(const sb_whq_item_t *it) { return it ? *(int *)it->data : -1; }

SB_TEST(lane_sends_in_order_one_at_a_time) {
  sb_whq_t *q = sb_whq_create(&policy, count_free);
  uint64_t wait = 0;
  freed = 0;
  CHECK_EQ(sb_whq_push(q, "acme/r1", ev(1)), 0);
  CHECK_EQ(sb_whq_push(q, "acme/r1", ev(2)), 0);
  CHECK_EQ(sb_whq_push(q, "acme/r2", ev(3)), 0);
  sb_whq_item_t *a = sb_whq_next(q, 0, &wait);
  sb_whq_item_t *b = sb_whq_next(q, 0, &wait);
  CHECK_EQ(val(a), 1);
  CHECK_EQ(val(b), 3); /* r1's second waits for its first; r2 goes meanwhile */
  CHECK(sb_whq_next(q, 0, &wait) == NULL);
  CHECK_EQ(wait, UINT64_MAX); /* nothing waits for a backoff: only for answers */
  CHECK_EQ(sb_whq_done(q, a, 1, 5, 0), SB_WHQ_DELIVERED);
  CHECK_EQ(val(sb_whq_next(q, 5, &wait)), 2);
  CHECK_EQ(sb_whq_len(q), 2);
  CHECK_EQ(freed, 1);
  sb_whq_destroy(q); /* in-flight ones too */
  CHECK_EQ(freed, 3);
}

SB_TEST(failure_holds_back_its_lane_only_and_retries_after_backoff) {
  sb_whq_t *q = sb_whq_create(&policy, count_free);
  uint64_t wait = 0;
  freed = 0;
  sb_whq_push(q, "acme/r1", ev(1));
  sb_whq_push(q, "acme/r1", ev(2));
  sb_whq_item_t *a = sb_whq_next(q, 100, &wait);
  CHECK_EQ(sb_whq_done(q, a, 0, 100, 0), SB_WHQ_RETRY); /* backoff 1000 ms, jitter 0: 500 */
  CHECK_EQ(a->attempts, 1);
  sb_whq_push(q, "globex/r1", ev(3));
  CHECK_EQ(val(sb_whq_next(q, 100, &wait)), 3); /* another lane is not held back */
  CHECK(sb_whq_next(q, 599, &wait) == NULL);
  CHECK_EQ(wait, 1); /* r1 is due at 600 */
  CHECK(sb_whq_next(q, 600, &wait) == a); /* the same event again, before event 2 */
  CHECK_EQ(sb_whq_done(q, a, 0, 600, 0), SB_WHQ_RETRY); /* second failure: 2000 ms, half */
  CHECK(sb_whq_next(q, 1599, &wait) == NULL);
  CHECK(sb_whq_next(q, 1600, &wait) == a);
  CHECK_EQ(sb_whq_done(q, a, 0, 1600, 0), SB_WHQ_GAVE_UP); /* third attempt was the last */
  CHECK_EQ(freed, 1);
  CHECK_EQ(val(sb_whq_next(q, 1600, &wait)), 2); /* then the lane goes on at once */
  sb_whq_destroy(q);
}

SB_TEST(backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half) {
  CHECK_EQ(sb_whq_backoff(&policy, 1, 0), 500);
  CHECK_EQ(sb_whq_backoff(&policy, 1, 500), 1000);
  CHECK_EQ(sb_whq_backoff(&policy, 1, 501), 500); /* rnd wraps within the half */
  CHECK_EQ(sb_whq_backoff(&policy, 2, 1000), 2000);
  CHECK_EQ(sb_whq_backoff(&policy, 3, 1500), 3000); /* 4000 capped at 3000 */
  CHECK_EQ(sb_whq_backoff(&policy, 60, 0), 1500);   /* no overflow for many failures */
  for (uint32_t r = 0; r < 5000; r += 7) {
    uint64_t d = sb_whq_backoff(&policy, 2, r);
    CHECK(d >= 1000 && d <= 2000);
  }
}

SB_TEST(capacity_refuses_and_frees_nothing_of_the_caller) {
  sb_whq_t *q = sb_whq_create(&policy, count_free);
  int keep = 9;
  freed = 0;
  for (int i = 0; i < 8; i++)
    CHECK_EQ(sb_whq_push(q, i % 2 ? "a" : "b", ev(i)), 0);
  CHECK_EQ(sb_whq_push(q, "c", &keep), -1);
  CHECK_EQ(sb_whq_len(q), 8);
  CHECK_EQ(freed, 0);
  sb_whq_item_t *it = sb_whq_next(q, 0, NULL);
  CHECK_EQ(sb_whq_done(q, it, 1, 0, 0), SB_WHQ_DELIVERED);
  CHECK_EQ(sb_whq_push(q, "c", ev(9)), 0); /* room again */
  sb_whq_destroy(q);
  CHECK_EQ(freed, 9);
}

SB_TEST(many_lanes_stay_fair_and_ordered) {
  sb_whq_policy_t p = policy;
  p.capacity = 1000;
  sb_whq_t *q = sb_whq_create(&p, count_free);
  char key[16];
  int last[50];
  freed = 0;
  for (int i = 0; i < 500; i++) {
    snprintf(key, sizeof key, "t/%d", i % 50);
    CHECK_EQ(sb_whq_push(q, key, ev(i)), 0);
  }
  for (int k = 0; k < 50; k++)
    last[k] = -1;
  /* deliver everything, failing every third send once: each lane still sees its order */
  int sends = 0;
  sb_whq_item_t *it;
  uint64_t now = 0, wait;
  while (sb_whq_len(q) > 0) {
    if (!(it = sb_whq_next(q, now, &wait))) {
      CHECK(wait != UINT64_MAX);
      now += wait;
      continue;
    }
    int v = val(it), fail = ++sends % 3 == 0 && it->attempts == 0;
    if (!fail) {
      CHECK(v > last[v % 50]);
      last[v % 50] = v;
    }
    sb_whq_done(q, it, !fail, now, (uint32_t)sends);
  }
  CHECK_EQ(freed, 500);
  sb_whq_destroy(q);
}
