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

typedef struct sb_session sb_session_t;
typedef struct sb_call_room sb_call_room_t;
typedef struct sb_model sb_model_t;
typedef struct sb_store sb_store_t;

typedef struct {
  char http_host[64];
  int http_port;
  char media_ip[64];      /* announced in candidates */
  char bind_ip[64];       /* media sockets bind here */
  int media_port;         /* first worker's port; 0 = any */
  int workers;
  char db_path[512];      /* SQLite path, or a postgresql:// URL / libpq conninfo */
  char secret_file[512];
  char web_dir[512];
  int demo;
  int max_participants;   /* per room */
  int max_video_publishers;
  int test_drop_percent;  /* tests only: loss injected toward subscribers */
  char node_id[64];       /* empty = derived at start */
  char public_url[256];   /* empty = the listen address */
  int drain_timeout_s;
  int test_db_delay_ms;   /* tests only: delay added to each database job */
} sb_config_t;

typedef struct sb_app {
  sb_config_t cfg;
  uv_loop_t *loop;
  struct lws_context *lws;
  sb_relay_t *relay;
  sb_dtls_ctx_t *dtls;
  sb_store_t *store;
  sb_model_t *model;
  uint8_t secret[64];
  size_t secret_len;
  sb_session_t *sessions;
  sb_call_room_t *rooms;
  uint64_t next_id;       /* transports, consumers */
  int next_worker;
  int stopping;
  uv_signal_t sigint, sigterm;
  uint64_t started_ms;
} sb_app_t;

/** Fills cfg with the embedded defaults. */
void sb_config_defaults(sb_config_t *cfg);

/** Loads the token secret from cfg->secret_file, creating it (32 random bytes, hex, mode 0600)
 * if missing. Returns 0 or -1 with a logged reason. */
int sb_app_load_secret(sb_app_t *app);

/** Starts everything on `loop`: DTLS context, relay workers, storage, HTTP/WebSocket server.
 * Returns 0 or -1. */
int sb_app_start(sb_app_t *app, uv_loop_t *loop);
/** Ends every call (clients are told "server_shutdown"), stops the server and the relay. */
void sb_app_stop(sb_app_t *app);

uint64_t sb_app_next_id(sb_app_t *app);

#endif
