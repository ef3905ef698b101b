/* The signaling component's context: one per process, used on the signaling loop only. It owns
 * the HTTP/WebSocket server, the live calls, the relay handle and the configuration. Passed
 * explicitly; there is no global. */
#ifndef SB_APP_H
#define SB_APP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "relay/dtls.h"
#include "relay/relay.h"
#include "signaling/turn.h"

typedef struct sb_session sb_session_t;
typedef struct sb_dbq sb_dbq_t;
typedef struct sb_call_sm sb_call_sm_t;
struct sb_call_actions;
typedef struct sb_node sb_node_t;
typedef struct sb_metrics sb_metrics_t;

typedef struct {
  char http_host[64];
  int http_port;
  char media_ip[64];      /* announced in candidates */
  char bind_ip[64];       /* media sockets bind here */
  int media_port;         /* first worker's port; 0 = any */
  int workers;
  int ice_tcp;            /* ICE-TCP passive candidates (RFC 6544) */
  int ice_tcp_port;       /* first worker's TCP port; 0 = each worker's UDP port number */
  int ice_tcp_max_conns;  /* per worker */
  int ice_tcp_max_pending;
  char db_path[512];      /* SQLite path, or a postgresql:// URL / libpq conninfo */
  char secret_file[512];
  char web_dir[512];
  int demo;
  int max_participants;   /* per room */
  int max_video_publishers;
  int max_conns_per_address; /* WebSocket connections from one source address */
  int max_conns_per_user;    /* authenticated WebSocket connections of one user */
  int max_requests_per_second; /* per WebSocket connection (token bucket, burst as large) */
  int test_drop_percent;  /* tests only: loss injected toward subscribers */
  int test_db_delay_ms;   /* tests only: the DB thread sleeps this long before each job */
  char node_id[64];       /* "" = derived from the host name and port (node.c) */
  char public_url[256];   /* how clients reach this node; "" = the listen address */
  int drain_timeout_s;    /* calls left this long after a drain starts end with reason "moved";
                           * 0: at once, and SIGTERM stops at once as without a cluster */
  char metrics_token[256]; /* "" = /metrics only from loopback, without a proxy header */
  char turn_urls[1024];      /* comma-separated turn:/turns: URLs; "" = no TURN */
  char turn_secret_file[512]; /* coturn's static-auth-secret */
  int turn_ttl_s;            /* lifetime of the TURN credentials handed out */
  int resume_grace_s;     /* a call kept this long for a participant whose socket closed */
  char tls_cert[512];     /* PEM certificate chain for HTTPS/WSS on http_host; "" = plain HTTP */
  char tls_key[512];      /* its private key (PEM); given together with tls_cert */
} sb_config_t;

typedef struct sb_app {
  sb_config_t cfg;
  uv_loop_t *loop;
  struct lws_context *lws;
  sb_relay_t *relay;
  sb_dtls_ctx_t *dtls;
  sb_dbq_t *dbq;          /* owns the store and the model on the DB thread (dbq.h) */
  uint8_t secret[64];
  size_t secret_len;
  sb_turn_t turn;         /* TURN REST API credentials for the auth result (turn.h) */
  sb_session_t *sessions;
  sb_call_sm_t *calls;    /* the live calls (signaling/call_sm.c) */
  struct sb_call_actions *call_later; /* a call step's actions waiting for its reply (call.c) */
  struct sb_call_clock *call_clock;   /* the calls' periodic step (call.c) */
  uint64_t next_id;       /* sessions; the first id of transports and consumers */
  int stopping;
  uv_signal_t sigint, sigterm, sighup;
  struct ssl_ctx_st *tls_ctx; /* the HTTPS vhost's, owned by libwebsockets; NULL without TLS */
  uint64_t started_ms;
  uint64_t ws_closed_slow;     /* connections closed because their client did not read */
  uint64_t ws_refused_address; /* connections refused over max-conns-per-address */
  uint64_t ws_refused_user;    /* auths refused over max-conns-per-user */
  uint64_t ws_rate_limited;    /* requests answered rate_limited */
  uint64_t ws_deferred;        /* times a connection's frames were held over to the next pass */
  uint64_t ws_resumed;         /* sessions kept after their socket closed (resume-grace) and
                                  taken up again by a new connection */
  uint64_t ws_resume_expired;  /* ... whose grace ran out: the participant left */
  uv_timer_t resume_timer;     /* while sessions are detached: ends those past their grace */
  uv_check_t pass_check;  /* counts passes of the loop (app->pass), for per-pass budgets */
  uv_idle_t pass_idle;    /* while connections have held-over frames: runs them each pass */
  uint64_t pass;
  int ndeferred;          /* sessions with frames held over (session.c) */
  sb_node_t *node;        /* this process as a cluster node (node.h) */
  struct sb_bus *bus;     /* effects from other nodes (bus.h); NULL on SQLite */
  char bus_node[64];      /* the node id the model's publisher stamps (read on the DB thread) */
  sb_metrics_t *metrics;  /* signaling/metrics.h; NULL in tests that start no app */
  struct sb_webhooks *webhooks; /* signaling/webhooks.h; NULL in tests that start no app */
} sb_app_t;

/** Fills cfg with the embedded defaults. */
void sb_config_defaults(sb_config_t *cfg);

/** Loads the token secret from cfg->secret_file, creating it (32 random bytes, hex, mode 0600)
 * if missing. Returns 0 or -1 with a logged reason. */
int sb_app_load_secret(sb_app_t *app);

/** Sets up app->turn from cfg's turn-url, turn-secret-file and turn-ttl. Returns 0 or -1 with
 * a logged reason (never the secret). */
int sb_app_load_turn(sb_app_t *app);

/** Starts everything on `loop`: DTLS context, relay workers, the database executor (waits for
 * the store to open and the demo seed: nothing is served yet), HTTP/WebSocket server.
 * Returns 0 or -1. */
int sb_app_start(sb_app_t *app, uv_loop_t *loop);
/** Ends every call (clients are told "server_shutdown"), stops the server and the relay, then
 * the database executor (queued jobs are cancelled). */
void sb_app_stop(sb_app_t *app);

uint64_t sb_app_next_id(sb_app_t *app);

#endif
