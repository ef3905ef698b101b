/* libwebsockets client for the JSON signaling protocol. */
#include "bench/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "common/log.h"

#define SB_SIG_MAX_FRAME (256 * 1024) /* the server's limit too (docs/protocol.md) */

struct sb_bench_sig_msg {
  sb_bench_sig_msg_t *next;
  size_t len;
  unsigned char data[]; /* LWS_PRE bytes of room, then the frame */
};

int sb_bench_url_parse(const char *url, sb_bench_url_t *out) {
  static const struct {
    const char *prefix;
    int tls, port;
  } schemes[] = {{"ws://", 0, 80}, {"wss://", 1, 443}, {"http://", 0, 80}, {"https://", 1, 443}};
  const char *p, *host = NULL, *colon, *slash;
  char *end;
  long port = 0;
  size_t hlen;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && !host; i++) {
    size_t n = strlen(schemes[i].prefix);
    if (strncmp(url, schemes[i].prefix, n) == 0) {
      host = url + n;
      out->tls = schemes[i].tls;
      port = schemes[i].port;
    }
  }
  if (!host)
    return -1;
  p = host + strcspn(host, "/?");
  slash = *p ? p : NULL;
  colon = memchr(host, ':', (size_t)(p - host));
  hlen = (size_t)((colon ? colon : p) - host);
  if (hlen == 0 || hlen >= sizeof out->host)
    return -1;
  memcpy(out->host, host, hlen);
  if (colon) {
    port = strtol(colon + 1, &end, 10);
    if (end != p || port <= 0 || port > 65535)
      return -1;
  }
  out->port = (int)port;
  /* an empty path is the signaling endpoint's (a redirect names the node by its base URL) */
  if (!slash || *slash == '?')
    return snprintf(out->path, sizeof out->path, "/ws%s", slash ? slash : "") <
                   (int)sizeof out->path ? 0 : -1;
  if (slash[1] == '\0' || slash[1] == '?')
    return snprintf(out->path, sizeof out->path, "/ws%s", slash + 1) < (int)sizeof out->path ? 0 : -1;
  return snprintf(out->path, sizeof out->path, "%s", slash) < (int)sizeof out->path ? 0 : -1;
}

static void dispatch(sb_bench_sig_t *s) {
  json_error_t jerr;
  sb_debug(SB_DBG_SIG, s->name, "<- %.*s", (int)s->rx_len, s->rx);
  json_t *msg = json_loadb(s->rx, s->rx_len, 0, &jerr), *id, *ev;
  s->rx_len = 0;
  if (!json_is_object(msg)) {
    json_decref(msg);
    if (s->cb->on_event)
      s->cb->on_event(s->user, "bench.bad_frame", NULL);
    return;
  }
  if (s->cb->on_message) {
    s->cb->on_message(s->user, msg);
    json_decref(msg);
    return;
  }
  id = json_object_get(msg, "id");
  ev = json_object_get(msg, "event");
  if (json_is_string(ev)) {
    s->cb->on_event(s->user, json_string_value(ev), json_object_get(msg, "data"));
  } else if (json_is_integer(id)) {
    json_t *res = json_object_get(msg, "result"), *err = json_object_get(msg, "error");
    s->cb->on_reply(s->user, (long long)json_integer_value(id), err ? NULL : res, err);
  } else if (s->cb->on_event) {
    /* an error with id null answers a frame the server could not read */
    s->cb->on_event(s->user, "bench.unsolicited", msg);
  }
  json_decref(msg);
}

static int on_receive(sb_bench_sig_t *s, struct lws *wsi, const void *in, size_t len) {
  if (s->rx_len + len > SB_SIG_MAX_FRAME)
    return -1;
  if (s->rx_len + len + 1 > s->rx_cap) {
    size_t cap = s->rx_cap ? s->rx_cap : 8192;
    char *p;
    while (cap < s->rx_len + len + 1)
      cap *= 2;
    if (!(p = realloc(s->rx, cap)))
      return -1;
    s->rx = p;
    s->rx_cap = cap;
  }
  memcpy(s->rx + s->rx_len, in, len);
  s->rx_len += len;
  s->bytes_in += len;
  if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
    dispatch(s);
  return 0;
}

static int on_writeable(sb_bench_sig_t *s, struct lws *wsi) {
  sb_bench_sig_msg_t *m = s->head;
  if (!m) {
    if (s->closing) {
      lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
      return -1;
    }
    return 0;
  }
  if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
    return -1;
  s->bytes_out += m->len;
  s->head = m->next;
  if (!s->head)
    s->tail = NULL;
  free(m);
  if (s->head || s->closing)
    lws_callback_on_writable(wsi);
  return 0;
}

static void closed(sb_bench_sig_t *s, int code, const char *reason) {
  int was = s->live;
  s->live = 0;
  s->wsi = NULL;
  s->open = 0;
  if (was && s->cb->on_close)
    s->cb->on_close(s->user, code, reason ? reason : "");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  sb_bench_sig_t *s = user;
  switch (reason) {
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    s->open = 1;
    s->cb->on_open(s->user);
    if (s->head)
      lws_callback_on_writable(wsi);
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    return on_receive(s, wsi, in, len);
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    return on_writeable(s, wsi);
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (len >= 2) {
      const unsigned char *p = in;
      s->close_code = p[0] << 8 | p[1];
      snprintf(s->close_reason, sizeof s->close_reason, "%.*s", (int)(len - 2), (const char *)p + 2);
    }
    return 0;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (s)
      closed(s, -1, in ? (const char *)in : "connection failed");
    return 0;
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (s)
      closed(s, s->close_code ? s->close_code : 1006, s->close_reason);
    return 0;
  default:
    return 0;
  }
}

static const struct lws_protocols protocols[] = {
    {"switchboard.v1", callback, 0, 65536, 0, NULL, 0},
    {"janus-protocol", callback, 0, 65536, 0, NULL, 0}, /* --target janus */
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int sb_bench_sig_context_create(uv_loop_t *loop, int tls, const char *ca_file,
                                struct lws_context **pctx) {
  struct lws_context_creation_info info;
  void *loops[1] = {loop};
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_LIBUV;
  if (tls) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (ca_file && ca_file[0])
      info.client_ssl_ca_filepath = ca_file;
  }
  info.foreign_loops = loops;
  info.timeout_secs = 10;
  info.connect_timeout_secs = 10;
  info.pcontext = pctx;
  *pctx = lws_create_context(&info);
  return *pctx ? 0 : -1;
}

void sb_bench_sig_context_destroy(struct lws_context **pctx) {
  if (*pctx)
    lws_context_destroy(*pctx);
}

int sb_bench_sig_connect(sb_bench_sig_t *s, struct lws_context *ctx, const sb_bench_url_t *url,
                         const sb_bench_sig_cb_t *cb, void *user, const char *name) {
  struct lws_client_connect_info ci;
  char hostport[160];
  memset(s, 0, sizeof *s);
  s->cb = cb;
  s->user = user;
  s->name = name;
  s->next_id = 1;
  snprintf(hostport, sizeof hostport, "%s:%d", url->host, url->port);
  memset(&ci, 0, sizeof ci);
  ci.context = ctx;
  ci.address = url->host;
  ci.port = url->port;
  ci.path = url->path;
  ci.host = hostport;
  ci.origin = hostport;
  ci.protocol = cb->protocol ? cb->protocol : "switchboard.v1";
  ci.local_protocol_name = ci.protocol;
  ci.ssl_connection = url->tls ? LCCSCF_USE_SSL : 0; /* the certificate and its name verified */
  ci.userdata = s;
  ci.pwsi = &s->wsi;
  s->live = 1;
  if (!lws_client_connect_via_info(&ci) && s->live) {
    /* failed before any callback: the caller learns it here, not from on_close */
    s->live = 0;
    s->wsi = NULL;
    return -1;
  }
  return 0;
}

long long sb_bench_sig_request(sb_bench_sig_t *s, const char *method, json_t *params) {
  json_t *msg = json_object();
  long long id = s->next_id++;
  if (!params)
    params = json_object();
  if (!msg || !params || json_object_set_new(msg, "id", json_integer(id)) < 0 ||
      json_object_set_new(msg, "method", json_string(method)) < 0 ||
      json_object_set_new(msg, "params", params) < 0) {
    json_decref(msg);
    return -1;
  }
  return sb_bench_sig_send(s, msg) < 0 ? -1 : id;
}

int sb_bench_sig_send(sb_bench_sig_t *s, json_t *msg) {
  sb_bench_sig_msg_t *m = NULL;
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  size_t len;
  json_decref(msg);
  if (!text)
    return -1;
  len = strlen(text);
  sb_debug(SB_DBG_SIG, s->name, "-> %s", text);
  m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) {
    free(text);
    return -1;
  }
  m->next = NULL;
  m->len = len;
  memcpy(m->data + LWS_PRE, text, len);
  free(text);
  if (s->tail)
    s->tail->next = m;
  else
    s->head = m;
  s->tail = m;
  if (s->wsi && s->open)
    lws_callback_on_writable(s->wsi);
  return 0;
}

void sb_bench_sig_close(sb_bench_sig_t *s) {
  s->closing = 1;
  if (s->wsi && s->open)
    lws_callback_on_writable(s->wsi);
}

void sb_bench_sig_free(sb_bench_sig_t *s) {
  sb_bench_sig_msg_t *m = s->head, *next;
  for (; m; m = next) {
    next = m->next;
    free(m);
  }
  s->head = s->tail = NULL;
  free(s->rx);
  s->rx = NULL;
  s->rx_len = s->rx_cap = 0;
}
