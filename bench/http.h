/* A small blocking HTTP/1.1 client for the server's JSON endpoints (admin API, /api/health), used
 * by the main thread before and around a run, never on a worker loop. One request per
 * connection; bounded by a timeout. */
#ifndef SB_BENCH_HTTP_H
#define SB_BENCH_HTTP_H

#include <jansson.h>

#include "bench/sig.h"

/** Sends `method path` to u's host:port (an IPv4 address; over TLS when u->tls, the server's
 * certificate verified against ca_file, NULL or "" = the system's) with an optional bearer token
 * and JSON body (NULL = none). Returns the HTTP status and sets *out to the parsed JSON body (NULL
 * if none or not JSON; caller decrefs), or -1 on a connection or TLS error or timeout (timeout_ms
 * for the whole request). */
int sb_bench_http_json(const sb_bench_url_t *u, const char *ca_file, const char *method,
                       const char *path, const char *token, const json_t *body, json_t **out,
                       int timeout_ms);

#endif
