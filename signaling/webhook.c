/* The webhook sender thread: libcurl's multi interface over the lanes of signaling/whq.h. */
#include "signaling/webhook.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/whq.h"

int sb_webhook_signature(const char *secret, long long t, const char *body, size_t len,
                         char out[SB_WEBHOOK_SIGNATURE_MAX]) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t maclen = 0;
  char prefix[32], hex[2 * 32 + 1];
  int n = snprintf(prefix, sizeof prefix, "%lld.", t);
  int rc = -1;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
  if (ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) == 1 &&
      EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)n) == 1 &&
      EVP_MAC_update(ctx, (const unsigned char *)body, len) == 1 &&
      EVP_MAC_final(ctx, mac, &maclen, sizeof mac) == 1 && maclen == 32) {
    sb_hex(mac, maclen, hex);
    snprintf(out, SB_WEBHOOK_SIGNATURE_MAX, "t=%lld,v1=%s", t, hex);
    rc = 0;
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(hmac);
  return rc;
}

sb_webhook_msg_t *sb_webhook_msg_new(const char *id, const char *tenant, const char *type,
                                     const char *url, const char *secret, const char *body) {
  sb_webhook_msg_t *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  snprintf(m->id, sizeof m->id, "%s", id);
  snprintf(m->tenant, sizeof m->tenant, "%s", tenant);
  snprintf(m->type, sizeof m->type, "%s", type);
  m->url = strdup(url);
  m->secret = strdup(secret);
  m->body = strdup(body);
  if (!m->url || !m->secret || !m->body) {
    sb_webhook_msg_free(m);
    return NULL;
  }
  return m;
}

void sb_webhook_msg_free(sb_webhook_msg_t *m) {
  if (!m)
    return;
  if (m->secret)
    OPENSSL_cleanse(m->secret, strlen(m->secret));
  free(m->secret);
  free(m->url);
  free(m->body);
  free(m);
}

static void sb__msg_free(void *data) { sb_webhook_msg_free(data); }

void sb_webhook_config_defaults(sb_webhook_config_t *cfg) {
  *cfg = (sb_webhook_config_t){.capacity = 10000, .max_attempts = 8, .backoff_base_ms = 1000,
                               .backoff_max_ms = 300000, .connect_timeout_ms = 5000,
                               .timeout_ms = 10000, .max_in_flight = 16, .drain_ms = 2000};
}

/* ---- the sender ---- */

typedef struct {
  CURL *easy; /* NULL: the slot is free */
  sb_whq_item_t *it;
  struct curl_slist *headers;
} sb__flight_t;

struct sb_webhook_sender {
  sb_webhook_config_t cfg;
  uv_thread_t thread;
  uv_mutex_t mu; /* guards q, stop and the counters */
  sb_whq_t *q;
  CURLM *multi;
  int stop;
  int full_logged;
  sb_webhook_stats_t st;
  sb_ratelimit_t gave_up_log;
  sb__flight_t *flights; /* the thread's own */
  int nflight;
};

static size_t sb__discard(char *p, size_t size, size_t n, void *arg) {
  (void)p;
  (void)arg;
  return size * n; /* the receiver's answer body is not read */
}

/* Starts the request of it in a free slot (the thread, holding the lock). 0 or -1. */
static int sb__start(sb_webhook_sender_t *s, sb_whq_item_t *it) {
  sb_webhook_msg_t *m = it->data;
  sb__flight_t *f = NULL;
  char sig[SB_WEBHOOK_SIGNATURE_MAX], line[160];
  for (int i = 0; i < s->cfg.max_in_flight && !f; i++)
    if (!s->flights[i].easy)
      f = &s->flights[i];
  if (!f || !(f->easy = curl_easy_init()))
    return -1;
  f->it = it;
  /* signed now, so that a retry carries a fresh timestamp */
  if (sb_webhook_signature(m->secret, (long long)(sb_wall_ms() / 1000), m->body, strlen(m->body),
                           sig) == 0) {
    snprintf(line, sizeof line, SB_WEBHOOK_SIGNATURE_HEADER ": %s", sig);
    f->headers = curl_slist_append(f->headers, line);
  }
  snprintf(line, sizeof line, "Switchboard-Event-Id: %s", m->id);
  f->headers = curl_slist_append(f->headers, line);
  f->headers = curl_slist_append(f->headers, "Content-Type: application/json");
  f->headers = curl_slist_append(f->headers, "Expect:"); /* no 100-continue round trip */
  curl_easy_setopt(f->easy, CURLOPT_URL, m->url);
  curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "switchboard-webhooks/1");
  curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
  curl_easy_setopt(f->easy, CURLOPT_POSTFIELDS, m->body);
  curl_easy_setopt(f->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(m->body));
  curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS, s->cfg.connect_timeout_ms);
  curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, s->cfg.timeout_ms);
  curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, sb__discard);
  curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
  if (curl_multi_add_handle(s->multi, f->easy) != CURLM_OK) {
    curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->headers);
    memset(f, 0, sizeof *f);
    return -1;
  }
  s->nflight++;
  return 0;
}

/* A request ended: its outcome goes to the queue (the thread, holding the lock). */
static void sb__finish(sb_webhook_sender_t *s, sb__flight_t *f, CURLcode res) {
  sb_webhook_msg_t *m = f->it->data;
  long code = 0;
  int attempt = f->it->attempts + 1;
  char type[32], tenant[65], id[48];
  curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
  int ok = res == CURLE_OK && code >= 200 && code < 300;
  snprintf(type, sizeof type, "%s", m->type);
  snprintf(tenant, sizeof tenant, "%s", m->tenant);
  snprintf(id, sizeof id, "%s", m->id);
  if (ok)
    s->st.delivered++;
  else
    s->st.failed_attempts++;
  /* the URL is not logged: it may carry a token in its path or query */
  if (!ok)
    sb_debug(SB_DBG_SIG, tenant, "webhook %s %s attempt %d failed: %s", type, id, attempt,
             res != CURLE_OK ? curl_easy_strerror(res) : "HTTP status not 2xx");
  if (sb_whq_done(s->q, f->it, ok, sb_now_ms(), sb_random_u32()) == SB_WHQ_GAVE_UP) {
    s->st.gave_up++;
    if (sb_ratelimit_ok(&s->gave_up_log, sb_now_ms(), 5))
      sb_warn(tenant, "webhook %s %s dropped after %d failed attempts (last: %s %ld)", type, id,
              attempt, res != CURLE_OK ? curl_easy_strerror(res) : "HTTP", code);
  }
  curl_multi_remove_handle(s->multi, f->easy);
  curl_easy_cleanup(f->easy);
  curl_slist_free_all(f->headers);
  memset(f, 0, sizeof *f);
  s->nflight--;
}

/* Starts what is due; returns how long the thread may sleep, or -1 to end (stopping, and
 * nothing more to send now or the drain time is over). Holds the lock. */
static long sb__schedule(sb_webhook_sender_t *s, uint64_t deadline) {
  uint64_t now = sb_now_ms(), wait = 1000;
  sb_whq_item_t *it;
  if (s->stop && now >= deadline)
    return -1;
  while (s->nflight < s->cfg.max_in_flight && (it = sb_whq_next(s->q, now, &wait))) {
    if (sb__start(s, it) != 0) { /* out of memory: a failed attempt, retried later */
      s->st.failed_attempts++;
      if (sb_whq_done(s->q, it, 0, now, sb_random_u32()) == SB_WHQ_GAVE_UP)
        s->st.gave_up++;
      break;
    }
  }
  if (s->stop && s->nflight == 0)
    return -1;
  return (long)(wait < 1000 ? wait : 1000);
}

static void sb__thread(void *arg) {
  sb_webhook_sender_t *s = arg;
  uint64_t deadline = UINT64_MAX;
  for (;;) {
    int running = 0, left;
    CURLMsg *msg;
    uv_mutex_lock(&s->mu);
    if (s->stop && deadline == UINT64_MAX)
      deadline = sb_now_ms() + s->cfg.drain_ms;
    long wait = sb__schedule(s, deadline);
    uv_mutex_unlock(&s->mu);
    if (wait < 0)
      break;
    curl_multi_perform(s->multi, &running);
    uv_mutex_lock(&s->mu);
    int finished = 0;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
      sb__flight_t *f = NULL;
      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
      sb__finish(s, f, msg->data.result);
      finished++;
    }
    uv_mutex_unlock(&s->mu);
    if (!finished) /* else a lane may have its next event due now: schedule at once */
      curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
  }
  for (int i = 0; i < s->cfg.max_in_flight; i++) { /* the drain time is over */
    sb__flight_t *f = &s->flights[i];
    if (!f->easy)
      continue;
    curl_multi_remove_handle(s->multi, f->easy);
    curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->headers);
    memset(f, 0, sizeof *f);
  }
}

sb_webhook_sender_t *sb_webhook_sender_create(const sb_webhook_config_t *cfg) {
  sb_whq_policy_t p = {.capacity = cfg->capacity, .max_attempts = cfg->max_attempts,
                       .base_ms = cfg->backoff_base_ms, .max_ms = cfg->backoff_max_ms};
  sb_webhook_sender_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->cfg = *cfg;
  if (s->cfg.max_in_flight < 1)
    s->cfg.max_in_flight = 1;
  uv_mutex_init(&s->mu);
  if (!(s->q = sb_whq_create(&p, sb__msg_free)) ||
      !(s->flights = calloc((size_t)s->cfg.max_in_flight, sizeof *s->flights)) ||
      !(s->multi = curl_multi_init()) || uv_thread_create(&s->thread, sb__thread, s) != 0) {
    sb_error("webhooks", "cannot start the webhook sender");
    curl_multi_cleanup(s->multi);
    free(s->flights);
    sb_whq_destroy(s->q);
    uv_mutex_destroy(&s->mu);
    free(s);
    return NULL;
  }
  return s;
}

int sb_webhook_sender_push(sb_webhook_sender_t *s, const char *key, sb_webhook_msg_t *msg) {
  int rc, log_full = 0;
  uv_mutex_lock(&s->mu);
  rc = s->stop ? -1 : sb_whq_push(s->q, key, msg);
  if (rc != 0) {
    s->st.dropped_full++;
    log_full = !s->full_logged;
    s->full_logged = 1;
  } else if (s->full_logged && sb_whq_len(s->q) < s->cfg.capacity / 2) {
    s->full_logged = 0; /* room again: the next overflow is logged again */
  }
  uv_mutex_unlock(&s->mu);
  if (rc != 0) {
    if (log_full)
      sb_warn(msg->tenant, "webhook queue full (%zu events): dropping events until it drains",
              s->cfg.capacity);
    sb_webhook_msg_free(msg);
    return -1;
  }
  curl_multi_wakeup(s->multi);
  return 0;
}

void sb_webhook_sender_stats(sb_webhook_sender_t *s, sb_webhook_stats_t *out) {
  uv_mutex_lock(&s->mu);
  *out = s->st;
  out->queued = sb_whq_len(s->q);
  uv_mutex_unlock(&s->mu);
}

void sb_webhook_sender_destroy(sb_webhook_sender_t *s) {
  size_t left;
  if (!s)
    return;
  uv_mutex_lock(&s->mu);
  s->stop = 1;
  uv_mutex_unlock(&s->mu);
  curl_multi_wakeup(s->multi);
  uv_thread_join(&s->thread);
  left = sb_whq_len(s->q);
  if (left)
    sb_warn("webhooks", "%zu webhook events were not delivered before the stop", left);
  sb_whq_destroy(s->q);
  curl_multi_cleanup(s->multi);
  free(s->flights);
  uv_mutex_destroy(&s->mu);
  free(s);
}
