/* Blocking HTTP/1.1 client over one TCP connection per request. */
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

#include "common/util.h"

#define MAX_RESPONSE (1 << 20)

static int wait_fd(int fd, short ev, uint64_t deadline_ms) {
  struct pollfd p = {.fd = fd, .events = ev};
  uint64_t now = sb_now_ms();
  if (now >= deadline_ms)
    return -1;
  return poll(&p, 1, (int)(deadline_ms - now)) == 1 ? 0 : -1;
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline_ms) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLOUT, deadline_ms) < 0)
        return -1;
      continue;
    }
    if (n <= 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads until the peer closes (we asked for Connection: close). */
static char *recv_all(int fd, size_t *len, uint64_t deadline_ms) {
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
    n = recv(fd, buf + *len, cap - *len - 1, MSG_DONTWAIT);
    if (n == 0) {
      buf[*len] = '\0';
      return buf;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLIN, deadline_ms) < 0)
        break;
      continue;
    }
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

int sb_bench_http_json(const char *host, int port, const char *method, const char *path,
                       const char *token, const json_t *body, json_t **out, int timeout_ms) {
  struct sockaddr_in a;
  uint64_t deadline = sb_now_ms() + (uint64_t)timeout_ms;
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, *req = NULL, *resp = NULL;
  size_t tlen = text ? strlen(text) : 0, rlen;
  int fd = -1, ret = -1, n;
  *out = NULL;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
    goto exit;
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    goto exit;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 &&
      (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0))
    goto exit;
  n = asprintf(&req,
               "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n%s%s%s"
               "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
               method, path, host, port, token ? "Authorization: Bearer " : "", token ? token : "",
               token ? "\r\n" : "", tlen, text ? text : "");
  if (n < 0) {
    req = NULL;
    goto exit;
  }
  if (send_all(fd, req, (size_t)n, deadline) < 0 || !(resp = recv_all(fd, &rlen, deadline)))
    goto exit;
  ret = parse_response(resp, rlen, out);
exit:
  if (fd >= 0)
    close(fd);
  free(text);
  free(req);
  free(resp);
  return ret;
}
