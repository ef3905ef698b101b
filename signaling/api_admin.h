/* Administrator API, HTTP-shaped but without I/O (docs/openapi.yaml): the HTTP server hands over
 * the method, the path (with its query string), the caller and the parsed body, and sends back
 * the status and JSON answer. Administrators act on their own tenant only (403 elsewhere); the
 * operator may create tenants and read every tenant. */
#ifndef SB_API_ADMIN_H
#define SB_API_ADMIN_H

#include "signaling/effects.h"
#include "signaling/model.h"

#include <jansson.h>

/** Handles one request under /api/admin. `who` is the verified caller (NULL: no or a bad token,
 * answered 401). `body` is the parsed request body or NULL. Always sets *status and *response
 * (a new object the caller owns; errors are {"error": {"code", "message"}}). Returns 0 for a
 * 2xx answer, < 0 otherwise; a refused request changes nothing and adds no effects. */
int sb_api_admin_call(sb_model_t *m, const sb_principal_t *who, const char *method,
                      const char *path, json_t *body, int *status, json_t **response,
                      sb_effects_t *fx);

/** The error body {"error": {"code": code, "message": message}} (e.g. for a body that is not
 * JSON, which the server answers with 400 "bad_request" before calling the API). */
json_t *sb_api_admin_error(const char *code, const char *message);

#endif
