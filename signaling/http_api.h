/* JSON endpoints under /api: health, the development-only demo endpoints (with --demo)
 * and the administrator API; and the Prometheus text at /metrics.
 *
 * Endpoints that need the database (the administrator API) answer later: their model operation
 * runs on the executor (dbq.h) and the answer comes back on the loop. The others (health, demo
 * tokens, errors) answer at once and never wait on the database. */
#ifndef SB_HTTP_API_H
#define SB_HTTP_API_H

#include <stddef.h>

#include "signaling/app.h"

typedef struct {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* with the query string */
  const char *auth;   /* the Authorization header, "" if none */
  const char *body;   /* NULL for none */
  size_t body_len;
  const char *peer;   /* the client's address ("" if unknown) */
  int forwarded;      /* it came through a proxy (X-Forwarded-For or Forwarded was sent) */
} sb_http_request_t;

/* A deferred answer: on the loop, with the status and the body (malloc'd JSON text, now the
 * callee's; NULL when out of memory). */
typedef void (*sb_http_answer_fn)(void *owner, int status, char *body);

typedef struct sb_http_call sb_http_call_t;

/** Handles one request. Answers at once: returns the body (malloc'd JSON text) with *status set
 * and *pending NULL. Or defers: returns NULL with *pending set; answer(owner, ...) follows on the
 * loop exactly once, unless sb_http_call_orphan(*pending) comes first. */
char *sb_http_api_handle(sb_app_t *app, const sb_http_request_t *req, int *status,
                         sb_http_answer_fn answer, void *owner, sb_http_call_t **pending);

/** The content type of an answer to `path` with `status`: JSON, or the Prometheus text format
 * for a successful GET /metrics. */
const char *sb_http_api_content_type(const char *path, int status);

/** The connection of a deferred call has gone: the answer is dropped (the operation's effects
 * still apply) and the call frees itself once its job is done. */
void sb_http_call_orphan(sb_http_call_t *c);

#endif
