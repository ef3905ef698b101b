/* One WebSocket connection: authentication state, the outgoing frame queue and request
 * dispatch through a table of handlers (one function per method).
 *
 * Requests of one session are handled in order. A request that needs the database is submitted
 * to the executor (dbq.h) and its handler returns SB_RPC_PENDING: the session is suspended, its
 * later frames queue (bounded: SB_SESSION_MAX_QUEUED frames or SB_SESSION_MAX_QUEUED_BYTES;
 * beyond, a frame is answered limit_exceeded and dropped) and run once the job's done callback
 * has answered with sb_session_complete(). Jobs find their session again by id. */
#ifndef SB_SESSION_H
#define SB_SESSION_H

#include <jansson.h>
#include <stddef.h>

#include "signaling/app.h"
#include "signaling/token.h"

#define SB_MAX_FRAME (256 * 1024)
#define SB_SESSION_MAX_QUEUED 64
#define SB_SESSION_MAX_QUEUED_BYTES (1024 * 1024)
/* Requests one connection may have run in one pass of the signaling loop; the rest wait for
 * the next pass, reading from that connection paused meanwhile, so that one client's burst
 * (libwebsockets reads up to 32 KiB at once) does not hold up every other connection. */
#define SB_SESSION_PASS_BUDGET 8
/* A client that does not read its frames is cut off rather than buffered without bound. */
#define SB_MAX_TXQ_BYTES (4 * 1024 * 1024)

/* A handler's return when the request waits on the executor (answered later). */
#define SB_RPC_PENDING 1

typedef struct sb_frame {
  struct sb_frame *next;
  size_t len;
  unsigned char data[]; /* LWS_PRE bytes of headroom, then the payload */
} sb_frame_t;

typedef struct sb_participant sb_participant_t;
typedef struct sb_rxframe sb_rxframe_t;

struct sb_session {
  uint64_t id;            /* what jobs and the call state machine keep: the session may close
                             before they are done */
  sb_app_t *app;
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
  int suspended;          /* waiting on the executor: new frames queue */
  json_t *pending_id;     /* id of the request answered by sb_session_complete() */
  char request[64];       /* log request id of the request being handled: "S<session>.<id>" */
  sb_rxframe_t *rq, *rq_tail; /* frames received while suspended */
  size_t rq_count, rq_bytes;
  char peer[64];          /* the client's IP address */
  int cut_off;            /* its client stopped reading: nothing more is run or sent */
  char resume_token[65];  /* given with the auth result: a new connection presenting it (with
                             a token of the same user) takes this session up again */
  int peer_closed;        /* the client sent a close frame: it meant to go */
  int detached;           /* its socket broke while in a call: kept for resume-grace */
  uint64_t detached_ms;
  sb_frame_t *resumed_txq; /* events queued while detached, sent after the resuming auth's reply */
  uint64_t pass;          /* the loop pass pass_frames counts in (app->pass) */
  int pass_frames;        /* requests run in that pass */
  int deferred;           /* frames held over to the next pass; reading paused */
  double rate_tokens;     /* requests it may still make (refilled per second) */
  uint64_t rate_ms;       /* when rate_tokens was last refilled */
  sb_session_t *next;
};

/* A request handler: returns 0 with *result set (a new reference), or fills code/message. */
typedef struct {
  const char *code;
  char message[200];
  json_t *data;           /* optional details sent as error.data (e.g. a redirect's {node, url});
                             owned by whoever filled it, borrowed by the reply */
} sb_rpc_error_t;

/* Returns 0 with *result set, -1 with err filled, or SB_RPC_PENDING after submitting a job whose
 * done calls sb_session_complete(). */
typedef int (*sb_method_fn)(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);

/** The session's connection closed: a participant in a call whose connection broke (no close
 * frame from the client) is kept detached for resume-grace seconds (its events queue, bounded);
 * otherwise, or when the server stops, the session is destroyed. */
void sb_session_closed(sb_session_t *s);

/** Ends detached sessions whose grace ran out (their participants leave, reason
 * "disconnected"), all of them once the app is stopping; stops the app's resume timer when none
 * is left. */
void sb_session_expire_detached(sb_app_t *app);

/** Runs the frames held over by sessions over their per-pass budget (once per loop pass). */
void sb_session_run_deferred(sb_app_t *app);

/** A new connection from peer (an IP address); NULL when out of memory. */
sb_session_t *sb_session_create(sb_app_t *app, struct lws *wsi, const char *peer);
/** Open connections from this address. */
int sb_session_count_peer(sb_app_t *app, const char *peer);

/** The connection closed: leave any call, unlink and free. */
void sb_session_destroy(sb_session_t *s);
/** Handles one complete text frame (queued while the session is suspended). */
void sb_session_on_frame(sb_session_t *s, const char *data, size_t len);
/** The live session with this id, or NULL once it has closed. */
sb_session_t *sb_session_find(sb_app_t *app, uint64_t id);
/** Holds s's later frames until sb_session_resume() (work of s waits on the executor). */
void sb_session_suspend(sb_session_t *s);
/** Answers the request whose handler returned SB_RPC_PENDING (result stolen, or err when
 * non-NULL), then resumes s. */
void sb_session_complete(sb_session_t *s, json_t *result, const sb_rpc_error_t *err);
/** Ends a suspension: handles the frames that queued meanwhile, in order, until one of them
 * suspends s again. */
void sb_session_resume(sb_session_t *s);
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
