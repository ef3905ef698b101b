/* The signaling WebSocket of one participant (libwebsockets client on the thread's libuv loop,
 * subprotocol switchboard.v1, JSON frames with jansson, docs/protocol.md). Requests are queued
 * and written when the socket is writable; replies and events are handed to callbacks. */
#ifndef SB_BENCH_SIG_H
#define SB_BENCH_SIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

struct lws;
struct lws_context;

typedef struct {
  char host[128];
  int port;
  char path[192]; /* with the query, e.g. /ws?node=n2 */
  int tls;        /* wss:// (and https:// for the HTTP API) */
} sb_bench_url_t;

/** Splits ws[s]://host[:port]/path[?query] (port 80 or 443 by default). A redirect's
 * http[s]:// URL is accepted too and means ws[s]:// (docs/protocol.md "Several nodes"), with
 * path /ws when it has none. 0 or -1. */
int sb_bench_url_parse(const char *url, sb_bench_url_t *out);

typedef struct {
  void (*on_open)(void *user);
  /** A reply to request `id`: exactly one of result and error is non-NULL (borrowed). */
  void (*on_reply)(void *user, long long id, json_t *result, json_t *error);
  void (*on_event)(void *user, const char *event, json_t *data);
  /** The connection ended (or never opened: code -1); `reason` may be empty. */
  void (*on_close)(void *user, int code, const char *reason);
  /** Another server's protocol (--target janus): set, it receives every JSON object (borrowed)
   * instead of on_reply/on_event, and `protocol` names the WebSocket subprotocol. */
  void (*on_message)(void *user, json_t *msg);
  const char *protocol;     /* NULL = switchboard.v1 */
} sb_bench_sig_cb_t;

typedef struct sb_bench_sig_msg sb_bench_sig_msg_t;

typedef struct {
  struct lws *wsi;
  const sb_bench_sig_cb_t *cb;
  void *user;
  const char *name;         /* for debug lines: the participant's user id */
  sb_bench_sig_msg_t *head, *tail;
  char *rx;
  size_t rx_len, rx_cap;
  long long next_id;
  int live;                 /* between connect and on_close */
  int open;
  int closing;
  int close_code;
  char close_reason[124];
  uint64_t bytes_in, bytes_out;
} sb_bench_sig_t;

/** Creates an lws context bound to `loop` (a foreign libuv loop) into *pctx, which lws sets
 * to NULL once the context is entirely gone. With `tls`, it can open wss:// connections,
 * verifying servers against `ca_file` (NULL or "" = the system's certificates); without, only
 * ws:// (and no TLS state is set up at all). 0 or -1. */
int sb_bench_sig_context_create(uv_loop_t *loop, int tls, const char *ca_file,
                                struct lws_context **pctx);

/** Destroys the context: call it while the loop still runs (it closes the connections and
 * handles), and once more after uv_run returned, which completes it if *pctx is still set. */
void sb_bench_sig_context_destroy(struct lws_context **pctx);

/** Opens the WebSocket; callbacks run on the loop's thread. 0 or -1 (then on_close is not
 * called). */
int sb_bench_sig_connect(sb_bench_sig_t *s, struct lws_context *ctx, const sb_bench_url_t *url,
                         const sb_bench_sig_cb_t *cb, void *user, const char *name);

/** Queues {"id", "method", "params"}; `params` is stolen (NULL = {}). Returns the id, or -1. */
long long sb_bench_sig_request(sb_bench_sig_t *s, const char *method, json_t *params);

/** Queues one JSON object as a frame, as it is (`msg` is stolen). 0 or -1. */
int sb_bench_sig_send(sb_bench_sig_t *s, json_t *msg);

/** Closes the connection (normal closure) after the queued frames; on_close follows. */
void sb_bench_sig_close(sb_bench_sig_t *s);

/** Frees queued frames and buffers (after on_close, or if the connection never opened). */
void sb_bench_sig_free(sb_bench_sig_t *s);

#endif
