#include "signaling/admission.h"

#include <stdio.h>

#include "common/log.h"

int sb_admission_check(sb_app_t *app, const sb_token_claims_t *who, const char *room, char *reason,
                       size_t len) {
  if (!app->model)
    return 0; /* no policy model configured: any authenticated user may join any room */
  snprintf(reason, len, "policy model not wired");
  return -1;
}

int sb_admission_may_exchange(sb_app_t *app, const sb_participant_t *a, const sb_participant_t *b) {
  return 1;
}

void sb_admission_audit(sb_app_t *app, const sb_token_claims_t *who, const char *room,
                        const char *action, const char *reason) {
  sb_info(NULL, "audit: %s %s/%s room %s (%s)", action, who->tenant, who->user, room, reason);
}
