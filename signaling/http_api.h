/* JSON endpoints under /api: health, metrics, the development-only demo endpoints (with --demo)
 * and the administrator API. */
#ifndef SB_HTTP_API_H
#define SB_HTTP_API_H

#include <stddef.h>

#include "signaling/app.h"

/** Handles one request. `auth` is the Authorization header ("" if none), `body` the request body
 * (NULL for GET). Returns the response body (malloc'd JSON text) and sets *status. */
char *sb_http_api_handle(sb_app_t *app, const char *method, const char *path, const char *auth,
                         const char *body, size_t body_len, int *status);

#endif
