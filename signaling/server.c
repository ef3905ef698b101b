/* The HTTP and WebSocket server: libwebsockets on the signaling libuv loop. Static files of
 * web/ at /, the client protocol at /ws (subprotocol switchboard.v1), JSON endpoints under /api. */
#include "signaling/server.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signaling/http_api.h"
#include "signaling/session.h"
#include "signaling/tls.h"

#define SB_MAX_HTTP_BODY (64 * 1024)
#define SB_AUTH_TIMEOUT_S 20

typedef struct {
  sb_session_t *session;
} ws_pss_t;

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  ws_pss_t *pss = user;
  sb_app_t *app = lws_context_user(lws_get_context(wsi));
  sb_session_t *s = pss ? pss->session : NULL;
  switch (reason) {
  case LWS_CALLBACK_ESTABLISHED: {
    if (app->stopping)
      return -1;
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof peer);
    if (app->cfg.max_conns_per_address > 0 &&
        sb_session_count_peer(app, peer) >= app->cfg.max_conns_per_address) {
      static const char why[] = "too many connections from this address";
      app->ws_refused_address++;
      sb_debug(SB_DBG_SIG, NULL, "ws: refused %s: max-conns-per-address", peer);
      lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, sizeof why - 1);
      return -1;
    }
    pss->session = sb_session_create(app, wsi, peer);
    /* A connection that does not authenticate in time is closed (cleared by a good auth). */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, SB_AUTH_TIMEOUT_S);
    return pss->session ? 0 : -1;
  }
  case LWS_CALLBACK_RECEIVE: {
    if (!s)
      return -1;
    if (lws_frame_is_binary(wsi)) {
      static const char why[] = "text frames only";
      lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, (unsigned char *)why, sizeof why - 1);
      return -1;
    }
    if (s->rxlen + len > SB_MAX_FRAME) {
      static const char why[] = "frame over 256 KiB";
      lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, sizeof why - 1);
      return -1;
    }
    int whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) && !s->rxlen;
    if (whole) {
      sb_session_on_frame(s, in, len);
      return 0;
    }
    char *n = realloc(s->rx, s->rxlen + len + 1);
    if (!n)
      return -1;
    s->rx = n;
    memcpy(s->rx + s->rxlen, in, len);
    s->rxlen += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
      sb_session_on_frame(s, s->rx, s->rxlen);
      s->rxlen = 0;
    }
    return 0;
  }
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return s ? sb_session_on_writable(s) : -1;
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (s)
      s->peer_closed = 1; /* the client meant to go: no resume (sb_session_closed) */
    return 0;
  case LWS_CALLBACK_CLOSED:
    if (s) {
      sb_session_closed(s); /* destroyed, or kept for a resume (resume-grace) */
      pss->session = NULL;
    }
    return 0;
  default:
    return 0;
  }
}

/* --- HTTP API --- */

/* One HTTP transaction. A deferred answer (dbq.h) comes back through http_answer while `pending`
 * is set; when the connection goes first, the pending call is orphaned and never touches this
 * (lws frees it after LWS_CALLBACK_CLOSED_HTTP).
 *
 * Pipelining: libwebsockets 4.1 parses the next request of a connection as soon as the previous
 * one's callback returns, answered or not, and then replaces this per-request state (and it
 * gives a flow-controlled HTTP/1 connection no POLLOUT, so reading cannot be paused). So:
 * - an answer known at once is written inside the request's callback and the transaction
 *   completed there: pipelined requests without a body are answered in order on a kept-alive
 *   connection;
 * - a request that comes in while one waits on the database closes the connection at once
 *   (the waiting one is carried out, its answer dropped, as when a client goes away); HTTP/1.1
 *   clients send unanswered requests again on a new connection;
 * - the answer to a request with a body says "connection: close" and closes the connection:
 *   libwebsockets 4.1 reads a body pipelined behind other bytes from the wrong offset and may
 *   then loop on its completion, so nothing after a body is ever parsed. (A body request
 *   pipelined behind another request is answered, but from those misread bytes: bad_request.) */
typedef struct {
  struct lws *wsi;
  char method[8];
  char path[512];
  char *body;
  size_t body_len;
  int body_too_large;
  sb_http_call_t *pending;
  int has_body; /* POST, PATCH or PUT: the connection closes after the answer */
  int status;
  const char *content_type;
  unsigned char *resp; /* LWS_PRE + body */
  size_t resp_len;
} http_pss_t;

static int http_send_headers(struct lws *wsi, http_pss_t *pss) {
  unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, (unsigned)pss->status, pss->content_type, pss->resp_len, &p, end) ||
      (pss->status == 401 &&
       lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                   (const unsigned char *)"Bearer", 6, &p, end)) ||
      lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                  (const unsigned char *)"no-store", 8, &p, end) ||
      (pss->has_body &&
       lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end)) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  return 0;
}

static void http_pss_free(http_pss_t *pss) {
  sb_http_call_orphan(pss->pending);
  pss->pending = NULL;
  free(pss->body);
  free(pss->resp);
  pss->body = NULL;
  pss->resp = NULL;
}

/* Writes the kept answer (headers and body) and ends the transaction; -1: close the connection.
 * pss is gone (lws frees it with the transaction) once this returns 0. */
static int http_send(struct lws *wsi, http_pss_t *pss) {
  int refuse = pss->has_body;
  if (http_send_headers(wsi, pss) != 0 ||
      lws_write(wsi, pss->resp + LWS_PRE, pss->resp_len, LWS_WRITE_HTTP_FINAL) != (int)pss->resp_len) {
    http_pss_free(pss);
    return -1;
  }
  http_pss_free(pss);
  if (refuse)
    return -1; /* lws sends what it still holds before closing */
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Keeps the answer (text is consumed); 0 or -1 without memory. */
static int http_set_answer(http_pss_t *pss, int status, char *text) {
  size_t len = text ? strlen(text) : 0;
  pss->resp = malloc(LWS_PRE + len + 1);
  if (!pss->resp) {
    free(text);
    return -1;
  }
  memcpy(pss->resp + LWS_PRE, text ? text : "", len);
  pss->resp_len = len;
  pss->status = text ? status : 500;
  pss->content_type = sb_http_api_content_type(pss->path, pss->status);
  free(text);
  return 0;
}

/* A deferred answer: written from the writable callback. */
static void http_answer(void *owner, int status, char *text) {
  http_pss_t *pss = owner;
  pss->pending = NULL;
  if (http_set_answer(pss, status, text) != 0)
    lws_set_timeout(pss->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
  else
    lws_callback_on_writable(pss->wsi);
}

static int http_respond(struct lws *wsi, http_pss_t *pss, sb_app_t *app) {
  char auth[1024] = "", peer[64] = "";
  int status = 500;
  lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION);
  lws_get_peer_simple(wsi, peer, sizeof peer);
  int forwarded = lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0 ||
                  lws_hdr_custom_length(wsi, "forwarded:", 10) > 0;
  char *text = NULL;
  if (pss->body_too_large) {
    status = 413;
    text = strdup("{\"error\":{\"code\":\"limit_exceeded\",\"message\":\"body over 64 KiB\"}}");
  } else {
    sb_http_request_t req = {.method = pss->method, .path = pss->path, .auth = auth,
                             .body = pss->body, .body_len = pss->body_len, .peer = peer,
                             .forwarded = forwarded};
    text = sb_http_api_handle(app, &req, &status, http_answer, pss, &pss->pending);
    if (pss->pending)
      return 0; /* http_answer follows */
  }
  if (http_set_answer(pss, status, text) != 0)
    return -1;
  return http_send(wsi, pss);
}

static int http_writable(struct lws *wsi, http_pss_t *pss) {
  return pss->resp ? http_send(wsi, pss) : 0;
}

/* The connection's request is still being answered. */
static int http_busy(http_pss_t *pss) { return pss->pending || pss->resp; }

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  http_pss_t *pss = user;
  sb_app_t *app = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
    /* A pipelined request while the previous one waits on the database: see http_pss_t. */
    return pss && http_busy(pss) ? -1 : 0;
  case LWS_CALLBACK_HTTP:
    http_pss_free(pss);
    memset(pss, 0, sizeof *pss);
    pss->wsi = wsi;
    /* lws passes the URL with or without the mountpoint depending on the method. The probes
     * (/healthz, /readyz) are mounted at the root and keep their path. */
    snprintf(pss->path, sizeof pss->path, "%s%s",
             strncmp(in, "/api", 4) == 0 || strncmp(in, "/healthz", 8) == 0 ||
                     strncmp(in, "/readyz", 7) == 0 || strncmp(in, "/metrics", 8) == 0 ? "" : "/api",
             (const char *)in);
    /* The query string comes as one header fragment per parameter. */
    for (int i = 0;; i++) {
      char arg[256];
      if (lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) <= 0)
        break;
      size_t n = strlen(pss->path);
      snprintf(pss->path + n, sizeof pss->path - n, "%c%s", i ? '&' : '?', arg);
    }
    {
      static const struct {
        enum lws_token_indexes tok;
        const char *name;
      } with_body[] = {{WSI_TOKEN_POST_URI, "POST"}, {WSI_TOKEN_PATCH_URI, "PATCH"},
                       {WSI_TOKEN_PUT_URI, "PUT"}};
      for (size_t i = 0; i < sizeof with_body / sizeof with_body[0]; i++)
        if (lws_hdr_total_length(wsi, with_body[i].tok)) {
          snprintf(pss->method, sizeof pss->method, "%s", with_body[i].name);
          pss->has_body = 1;
          /* The body follows; a request without one completes at once. */
          if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) == 0)
            return http_respond(wsi, pss, app);
          return 0;
        }
    }
    snprintf(pss->method, sizeof pss->method,
             lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) ? "DELETE" : "GET");
    return http_respond(wsi, pss, app);
  case LWS_CALLBACK_HTTP_BODY:
    if (len == 0 || !in || http_busy(pss))
      return 0;
    if (pss->body_len + len > SB_MAX_HTTP_BODY) {
      pss->body_too_large = 1;
      return 0;
    }
    {
      char *n = realloc(pss->body, pss->body_len + len + 1);
      if (!n)
        return -1;
      pss->body = n;
      memcpy(pss->body + pss->body_len, in, len);
      pss->body_len += len;
      pss->body[pss->body_len] = '\0';
    }
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    return http_busy(pss) ? 0 : http_respond(wsi, pss, app);
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return http_writable(wsi, pss);
  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    /* The pss goes away with the connection (or its protocol): a pending job must not touch it. */
    if (pss)
      http_pss_free(pss);
    return 0;
  default:
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

/* The first protocol also gets the vhost-wide events: libwebsockets hands over the HTTPS vhost's
 * SSL_CTX once it has loaded the certificate (kept for the reload on SIGHUP). It is also where
 * libwebsockets puts a WebSocket that named no subprotocol: such a client would wait forever for
 * answers, so it is closed with 1002 and a reason that says what is missing. */
static int cb_first(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
    sb_app_t *app = lws_context_user(lws_get_context(wsi));
    app->tls_ctx = user;
    return SSL_CTX_set_min_proto_version(app->tls_ctx, TLS1_2_VERSION) == 1 ? 0 : -1;
  }
  if (reason == LWS_CALLBACK_ESTABLISHED) {
    static const char why[] = "subprotocol switchboard.v1 required";
    lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)why, sizeof why - 1);
    return -1;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", cb_first, 0, 0, 0, NULL, 0},
    {"sb-api", cb_http, sizeof(http_pss_t), 0, 0, NULL, 0},
    {"switchboard.v1", cb_ws, sizeof(ws_pss_t), 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static struct lws_http_mount mount_web = {
    .mountpoint = "/",
    .def = "index.html",
    .origin_protocol = LWSMPRO_FILE,
    .mountpoint_len = 1,
};

static const struct lws_http_mount mount_api = {
    .mount_next = &mount_web,
    .mountpoint = "/api",
    .origin = "sb-api",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 4,
};

/* The load balancer's probes live at the root, outside /api; cb_http names them by the URI. */
static const struct lws_http_mount mount_healthz = {
    .mount_next = &mount_api,
    .mountpoint = "/healthz",
    .origin = "sb-api",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 8,
};

/* Prometheus scrapes /metrics at the root (access rule in http_api.c). */
static const struct lws_http_mount mount_metrics = {
    .mount_next = &mount_healthz,
    .mountpoint = "/metrics",
    .origin = "sb-api",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 8,
};

static const struct lws_http_mount mount_readyz = {
    .mount_next = &mount_metrics,
    .mountpoint = "/readyz",
    .origin = "sb-api",
    .origin_protocol = LWSMPRO_CALLBACK,
    .mountpoint_len = 7,
};

static void lws_log(int level, const char *line) {
  size_t n = strlen(line);
  while (n && line[n - 1] == '\n')
    n--;
  sb_log(level == LLL_ERR ? SB_LOG_ERROR : SB_LOG_WARN, "lws", "%.*s", (int)n, line);
}

/* Checks the pair before libwebsockets loads it, for a message naming the file (its own only
 * says that creating the vhost failed). */
static int tls_check(sb_app_t *app) {
  char err[1200], what[512];
  sb_tls_pair_t *p = sb_tls_pair_load(app->cfg.tls_cert, app->cfg.tls_key, err, sizeof err);
  if (!p) {
    sb_error(NULL, "tls: %s", err);
    return -1;
  }
  sb_tls_pair_describe(p, what, sizeof what);
  sb_info(NULL, "tls: HTTPS and WSS with %s (%s)", app->cfg.tls_cert, what);
  sb_tls_pair_destroy(p);
  return 0;
}

/* Not lws_tls_cert_updated(): in libwebsockets 4.1 it loads the files straight into the live
 * SSL_CTX and ignores a failure, so a key that does not match would leave the certificate
 * without its key and fail every new handshake. Here the pair is checked first and then
 * installed in one call. */
int sb_server_tls_reload(sb_app_t *app) {
  char err[1200], what[512];
  if (!app->tls_ctx) {
    sb_info(NULL, "tls: no certificate configured, nothing to reload");
    return 0;
  }
  sb_tls_pair_t *p = sb_tls_pair_load(app->cfg.tls_cert, app->cfg.tls_key, err, sizeof err);
  if (!p || sb_tls_pair_install(p, app->tls_ctx, err, sizeof err) != 0) {
    sb_tls_pair_destroy(p);
    sb_log_event(SB_LOG_ERROR, NULL, "tls.reload_failed",
                 "tls: reload refused, the previous certificate stays in use: %s", err);
    return -1;
  }
  sb_tls_pair_describe(p, what, sizeof what);
  sb_tls_pair_destroy(p);
  sb_log_event(SB_LOG_INFO, NULL, "tls.reloaded", "tls: new connections use %s (%s)",
               app->cfg.tls_cert, what);
  return 0;
}

static void on_pass_end(uv_check_t *h) {
  sb_app_t *app = h->data;
  app->pass++;
}

int sb_server_start(sb_app_t *app) {
  struct lws_context_creation_info info;
  void *loops[1] = {app->loop};
  memset(&info, 0, sizeof info);
  int tls = app->cfg.tls_cert[0] != '\0';
  if (tls && tls_check(app) != 0)
    return -1;
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
  mount_web.origin = app->cfg.web_dir;
  info.port = app->cfg.http_port;
  info.iface = app->cfg.http_host;
  info.protocols = protocols;
  info.mounts = &mount_readyz;
  info.user = app;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
                 LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
  info.foreign_loops = loops;
  info.pt_serv_buf_size = 32 * 1024;
  info.timeout_secs = 30;
  if (tls) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = app->cfg.tls_cert;
    info.ssl_private_key_filepath = app->cfg.tls_key;
    info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1; /* and the minimum, cb_first */
    /* HTTP/1.1 only, as without TLS: the answers and limits here are written for HTTP/1.1
     * (http_pss_t), and Chromium loading the demo over lws 4.1's HTTP/2 fails with
     * ERR_HTTP2_FRAME_SIZE_ERROR. WebSockets are HTTP/1.1 upgrades either way. */
    info.alpn = "http/1.1";
  }
  /* Per-pass request budgets (session.h): a pass counter, and an idle handle that runs held
   * frames while there are any (it also keeps the loop from sleeping in poll meanwhile). */
  uv_check_init(app->loop, &app->pass_check);
  app->pass_check.data = app;
  uv_check_start(&app->pass_check, on_pass_end);
  uv_unref((uv_handle_t *)&app->pass_check);
  uv_idle_init(app->loop, &app->pass_idle);
  app->pass_idle.data = app;
  uv_unref((uv_handle_t *)&app->pass_idle);
  uv_timer_init(app->loop, &app->resume_timer); /* sessions detached from their socket */
  app->resume_timer.data = app;
  uv_unref((uv_handle_t *)&app->resume_timer);
  app->lws = lws_create_context(&info);
  /* lws creates the context even when the listen socket cannot bind (its vhost is missing). */
  if (!app->lws || !lws_get_vhost_by_name(app->lws, "default")) {
    sb_error(NULL, "http: cannot listen on %s:%d", app->cfg.http_host, app->cfg.http_port);
    return -1;
  }
  if (tls && !app->tls_ctx) {
    sb_error(NULL, "tls: libwebsockets set up no TLS on %s:%d", app->cfg.http_host,
             app->cfg.http_port);
    return -1;
  }
  return 0;
}

void sb_server_stop(sb_app_t *app) {
  if (app->lws)
    lws_context_destroy(app->lws);
  app->lws = NULL;
  app->tls_ctx = NULL;
  /* After the context: its sessions are gone, none is held over any more; detached ones (no
   * connection for the context to close) end here. */
  sb_session_expire_detached(app);
  if (app->pass_check.loop && !uv_is_closing((uv_handle_t *)&app->pass_check)) {
    uv_close((uv_handle_t *)&app->pass_check, NULL);
    uv_close((uv_handle_t *)&app->pass_idle, NULL);
    uv_close((uv_handle_t *)&app->resume_timer, NULL);
  }
}

void sb_server_release_ws(struct lws *wsi) {
  ws_pss_t *pss = lws_wsi_user(wsi);
  if (pss)
    pss->session = NULL;
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int sb_server_port(sb_app_t *app) {
  struct lws_vhost *vh = app->lws ? lws_get_vhost_by_name(app->lws, "default") : NULL;
  return vh ? lws_get_vhost_listen_port(vh) : app->cfg.http_port;
}
