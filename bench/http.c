/* Blocking HTTP/1.1 client over one TCP (or TLS, with OpenSSL) connection per request. */
#include "bench/http.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/util.h"

#define MAX_RESPONSE (1 << 20)

static int wait_fd(int fd, short ev, uint64_t deadline_ms) {
  struct pollfd p = {.fd = fd, .events = ev};
  uint64_t now = sb_now_ms();
  if (now >= deadline_ms)
    return -1;
  return poll(&p, 1, (int)(deadline_ms - now)) == 1 ? 0 : -1;
}

typedef struct {
  int fd;
  SSL *ssl; /* NULL: plain TCP */
} conn_t;

/* The client context, made once per CA file and kept for the process: the trusted certificates
 * (the system's store by default) are read once, not at every request. Main thread only. */
static SSL_CTX *tls_context(const char *ca_file) {
  static SSL_CTX *ctx;
  static char loaded[256];
  const char *want = ca_file ? ca_file : "";
  if (ctx && strcmp(loaded, want) == 0)
    return ctx;
  SSL_CTX_free(ctx);
  snprintf(loaded, sizeof loaded, "%s", want);
  if (!(ctx = SSL_CTX_new(TLS_client_method())) ||
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      (want[0] ? SSL_CTX_load_verify_locations(ctx, want, NULL)
               : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
    SSL_CTX_free(ctx);
    ctx = NULL;
    return NULL;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  return ctx;
}

/* Waits for what the last TLS call needs (SSL_ERROR_WANT_*); -1 on a real error. */
static int tls_wait(conn_t *c, int ret, uint64_t deadline_ms) {
  switch (SSL_get_error(c->ssl, ret)) {
  case SSL_ERROR_WANT_READ: return wait_fd(c->fd, POLLIN, deadline_ms);
  case SSL_ERROR_WANT_WRITE: return wait_fd(c->fd, POLLOUT, deadline_ms);
  default: return -1;
  }
}

/* TLS over the connected socket: the server's certificate verified against ca_file (or the
 * system's store) and its name or address checked. 0 or -1. */
static int tls_start(conn_t *c, const char *host, const char *ca_file, uint64_t deadline_ms) {
  SSL_CTX *ctx = tls_context(ca_file);
  int r;
  if (!ctx || !(c->ssl = SSL_new(ctx)) || SSL_set_fd(c->ssl, c->fd) != 1)
    return -1;
  /* an address is checked against the certificate's IP names, a name against its DNS names */
  if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1 &&
      (SSL_set1_host(c->ssl, host) != 1 || SSL_set_tlsext_host_name(c->ssl, host) != 1))
    return -1;
  while ((r = SSL_connect(c->ssl)) != 1)
    if (tls_wait(c, r, deadline_ms) < 0)
      return -1;
  return 0;
}

static void conn_close(conn_t *c) {
  if (c->ssl)
    SSL_free(c->ssl);
  if (c->fd >= 0)
    close(c->fd);
  ERR_clear_error(); /* nothing of a failed request stays on this thread's error queue */
}

/* One send or receive: bytes moved, 0 at the end of the stream, -1 on an error, -2 to wait. */
static ssize_t conn_io(conn_t *c, int out, void *buf, size_t len, uint64_t deadline_ms) {
  ssize_t n;
  if (c->ssl) {
    size_t done = 0;
    int r = out ? SSL_write_ex(c->ssl, buf, len, &done) : SSL_read_ex(c->ssl, buf, len, &done);
    if (r == 1)
      return (ssize_t)done;
    if (!out && SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
      return 0;
    return tls_wait(c, r, deadline_ms) < 0 ? -1 : -2;
  }
  n = out ? send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) : recv(c->fd, buf, len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return wait_fd(c->fd, out ? POLLOUT : POLLIN, deadline_ms) < 0 ? -1 : -2;
  return n < 0 ? -1 : n;
}

static int send_all(conn_t *c, char *buf, size_t len, uint64_t deadline_ms) {
  while (len > 0) {
    ssize_t n = conn_io(c, 1, buf, len, deadline_ms);
    if (n == -2)
      continue;
    if (n <= 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads until the peer closes (we asked for Connection: close). */
static char *recv_all(conn_t *c, size_t *len, uint64_t deadline_ms) {
  size_t cap = 8192;
  char *buf = malloc(cap), *p;
  *len = 0;
  while (buf) {
    ssize_t n;
    if (*len + 1 >= cap) {
      if (cap >= MAX_RESPONSE || !(p = realloc(buf, cap * 2)))
        break;
      buf = p;
      cap *= 2;
    }
    n = conn_io(c, 0, buf + *len, cap - *len - 1, deadline_ms);
    if (n == 0) {
      buf[*len] = '\0';
      return buf;
    }
    if (n == -2)
      continue;
    if (n < 0)
      break;
    *len += (size_t)n;
  }
  free(buf);
  return NULL;
}

/* Decodes a chunked body in place; returns its length or -1. */
static long dechunk(char *body, size_t len) {
  char *in = body, *out = body, *end = body + len;
  for (;;) {
    char *eol;
    long n = strtol(in, &eol, 16);
    if (eol == in || n < 0 || !(eol = strstr(eol, "\r\n")))
      return -1;
    in = eol + 2;
    if (n == 0)
      return out - body;
    if (in + n > end)
      return -1;
    memmove(out, in, (size_t)n);
    out += n;
    in += n + 2;
  }
}

static int parse_response(char *resp, size_t len, json_t **out) {
  char *hdr_end = strstr(resp, "\r\n\r\n"), *body;
  int status;
  long blen;
  if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1 || !hdr_end)
    return -1;
  *hdr_end = '\0';
  body = hdr_end + 4;
  blen = (long)(resp + len - body);
  if (strcasestr(resp, "\r\ntransfer-encoding: chunked"))
    blen = dechunk(body, (size_t)blen);
  if (blen > 0)
    *out = json_loadb(body, (size_t)blen, 0, NULL);
  return status;
}

int sb_bench_http_json(const sb_bench_url_t *u, const char *ca_file, const char *method,
                       const char *path, const char *token, const json_t *body, json_t **out,
                       int timeout_ms) {
  struct sockaddr_in a;
  uint64_t deadline = sb_now_ms() + (uint64_t)timeout_ms;
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, *req = NULL, *resp = NULL;
  size_t tlen = text ? strlen(text) : 0, rlen;
  conn_t c = {.fd = -1};
  int ret = -1, n;
  *out = NULL;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)u->port);
  if (inet_pton(AF_INET, u->host, &a.sin_addr) != 1)
    goto exit;
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c.fd < 0)
    goto exit;
  if (connect(c.fd, (struct sockaddr *)&a, sizeof a) < 0 &&
      (errno != EINPROGRESS || wait_fd(c.fd, POLLOUT, deadline) < 0))
    goto exit;
  if (u->tls && tls_start(&c, u->host, ca_file, deadline) < 0)
    goto exit;
  n = asprintf(&req,
               "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n%s%s%s"
               "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
               method, path, u->host, u->port, token ? "Authorization: Bearer " : "",
               token ? token : "", token ? "\r\n" : "", tlen, text ? text : "");
  if (n < 0) {
    req = NULL;
    goto exit;
  }
  if (send_all(&c, req, (size_t)n, deadline) < 0 || !(resp = recv_all(&c, &rlen, deadline)))
    goto exit;
  ret = parse_response(resp, rlen, out);
exit:
  conn_close(&c);
  free(text);
  free(req);
  free(resp);
  return ret;
}
