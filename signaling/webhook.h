/* Webhook delivery: signed HTTP POSTs to tenants' receivers, from a thread of its own so that
 * the signaling loop never waits on a receiver (docs/operations.md, "Webhooks").
 *
 * The loop pushes messages (already built JSON bodies with their receiver's URL and secret);
 * the sender thread schedules them with the I/O-free queue of signaling/whq.h (one lane per
 * tenant and room: in order, a failing event holds back its room only; retries with
 * exponential backoff and jitter) and sends them with libcurl's multi interface, several
 * lanes at a time, each request signed at its send time (sb_webhook_signature()). */
#ifndef SB_WEBHOOK_H
#define SB_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/* The signature header a receiver checks: "t=<unix seconds>,v1=<hex HMAC-SHA256>". */
#define SB_WEBHOOK_SIGNATURE_HEADER "Switchboard-Signature"
/* Room for "t=" + 20 digits + ",v1=" + 64 hex digits + NUL. */
#define SB_WEBHOOK_SIGNATURE_MAX 96

/** The signature header's value for `body` sent at `t` (unix seconds): HMAC-SHA256 keyed with
 * the secret's bytes over "<t>.<body>", as lower-case hex. 0, or -1 (OpenSSL failed). */
int sb_webhook_signature(const char *secret, long long t, const char *body, size_t len,
                         char out[SB_WEBHOOK_SIGNATURE_MAX]);

/* One event on its way: all of it the message's own (malloc'd strings). */
typedef struct {
  char id[48];     /* the event id (payload "id"), also the Switchboard-Event-Id header */
  char tenant[65]; /* for logs */
  char type[32];   /* for logs */
  char *url, *secret, *body;
} sb_webhook_msg_t;

/** A message with copies of url, secret and body; NULL if out of memory. */
sb_webhook_msg_t *sb_webhook_msg_new(const char *id, const char *tenant, const char *type,
                                     const char *url, const char *secret, const char *body);
/** Frees a message (its secret wiped). Accepts NULL. */
void sb_webhook_msg_free(sb_webhook_msg_t *msg);

typedef struct {
  size_t capacity;           /* events queued at most; more are dropped (counted) */
  int max_attempts;          /* sends of one event, the first included */
  uint64_t backoff_base_ms;  /* wait after the first failure, doubled after each next one */
  uint64_t backoff_max_ms;
  long connect_timeout_ms;   /* per attempt */
  long timeout_ms;           /* per attempt, whole request */
  int max_in_flight;         /* requests at once (each to a different lane) */
  uint64_t drain_ms;         /* at stop, events due are still sent for this long at most */
} sb_webhook_config_t;

/** The defaults of docs/operations.md (10000 events, 8 attempts, 1 s doubling to 5 min, 5 s
 * connect, 10 s total, 16 at once, 2 s drain). */
void sb_webhook_config_defaults(sb_webhook_config_t *cfg);

typedef struct {
  uint64_t delivered;       /* events a receiver accepted (2xx) */
  uint64_t failed_attempts; /* sends that failed (no answer, timeout, not 2xx) */
  uint64_t dropped_full;    /* events refused because the queue was full */
  uint64_t gave_up;         /* events dropped after their last allowed attempt failed */
  uint64_t queued;          /* events in the queue now (in flight included) */
} sb_webhook_stats_t;

typedef struct sb_webhook_sender sb_webhook_sender_t;

/** Starts the sender thread. NULL on failure (logged). */
sb_webhook_sender_t *sb_webhook_sender_create(const sb_webhook_config_t *cfg);
/** Queues msg on lane `key`; any thread. Takes msg: on failure (queue full: counted, logged
 * once until it has room again) it is freed. 0 or -1. */
int sb_webhook_sender_push(sb_webhook_sender_t *s, const char *key, sb_webhook_msg_t *msg);
/** The counters; any thread. */
void sb_webhook_sender_stats(sb_webhook_sender_t *s, sb_webhook_stats_t *out);
/** Stops the thread: events due now are still sent for up to drain_ms, the rest are dropped
 * (logged with their count); then everything is freed. Accepts NULL. */
void sb_webhook_sender_destroy(sb_webhook_sender_t *s);

#endif
