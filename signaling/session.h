/* One WebSocket connection: authentication state, the outgoing frame queue and request
 * dispatch through a table of handlers (one function per method). */
#ifndef SB_SESSION_H
#define SB_SESSION_H

#include <jansson.h>
#include <stddef.h>

#include "signaling/app.h"
#include "signaling/token.h"

#define SB_MAX_FRAME (256 * 1024)

typedef struct sb_frame {
  struct sb_frame *next;
  size_t len;
  unsigned char data[]; /* LWS_PRE bytes of headroom, then the payload */
} sb_frame_t;

typedef struct sb_participant sb_participant_t;

struct sb_session {
  sb_app_t *app;
  uint64_t id;            /* names the session to the call state machine and later steps */
  struct lws *wsi;        /* NULL once the connection is gone */
  int authed;
  sb_token_claims_t who;
  char ctx[160];          /* log context "tenant/user" */
  const sb_participant_t *participant; /* the call this connection is in, if any (call.c) */
  sb_frame_t *txq, *txq_tail;
  size_t txq_bytes;
  int close_after_flush;
  int close_code;
  char *rx;               /* reassembly of a fragmented frame */
  size_t rxlen;
  void (*after_reply)(sb_session_t *s); /* set by a handler: runs once its reply is queued */
  sb_session_t *next;
};

/* A request handler: returns 0 with *result set (a new reference), or fills code/message. */
typedef struct {
  const char *code;
  char message[200];
} sb_rpc_error_t;

typedef int (*sb_method_fn)(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);

sb_session_t *sb_session_create(sb_app_t *app, struct lws *wsi);
/** The connection closed: leave any call, unlink and free. */
void sb_session_destroy(sb_session_t *s);
/** Handles one complete text frame. */
void sb_session_on_frame(sb_session_t *s, const char *data, size_t len);
/** Writes the next queued frame; returns -1 when the connection must close. */
int sb_session_on_writable(sb_session_t *s);

/** Queues a JSON object (stolen reference) for the client. */
void sb_session_send(sb_session_t *s, json_t *msg);
/** Queues an event {"event": name, "data": data} (data reference stolen). */
void sb_session_event(sb_session_t *s, const char *name, json_t *data);

/** Sets err and returns -1: a helper for handlers. */
int sb_rpc_fail(sb_rpc_error_t *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
