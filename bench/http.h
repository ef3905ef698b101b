/* A small blocking HTTP/1.1 client for the server's JSON endpoints (admin API, /api/health), used
 * by the main thread before and around a run, never on a worker loop. One request per
 * connection; bounded by a timeout. */
#ifndef SB_BENCH_HTTP_H
#define SB_BENCH_HTTP_H

#include <jansson.h>

/** Sends `method path` to host:port with an optional bearer token and JSON body (NULL = none).
 * Returns the HTTP status and sets *out to the parsed JSON body (NULL if none or not JSON;
 * caller decrefs), or -1 on a connection error or timeout (timeout_ms for the whole request). */
int sb_bench_http_json(const char *host, int port, const char *method, const char *path,
                       const char *token, const json_t *body, json_t **out, int timeout_ms);

#endif
