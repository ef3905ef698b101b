/* Client API: the room, contact, block and notification methods that clients call over their
 * WebSocket (docs/api.md). Pure functions over the model: JSON parameters in, a JSON result or an
 * error with a stable code out, and effects for the network side to deliver. The WebSocket
 * session authenticates the caller and handles `auth` and `call.*` itself. */
#ifndef SB_API_CLIENT_H
#define SB_API_CLIENT_H

#include "signaling/effects.h"
#include "signaling/model.h"

#include <jansson.h>

typedef struct {
  const char *code;  /* stable code of docs/protocol.md: "bad_request", "not_found", ... */
  char message[256]; /* for people; never names another tenant's objects */
} sb_api_error_t;

/** Calls `method` for the authenticated `who`. `params` may be NULL (no parameters). Returns 0
 * with *result set (a new object the caller owns) or < 0 (an SB_MODEL_E* status) with `err`
 * filled and *result NULL; a failed call changes nothing and adds no effects. */
int sb_api_client_call(sb_model_t *m, const sb_principal_t *who, const char *method,
                       json_t *params, json_t **result, sb_api_error_t *err, sb_effects_t *fx);

/** 1 if `method` is a method of this API (so a session can route to it), else 0. */
int sb_api_client_has(const char *method);

#endif
