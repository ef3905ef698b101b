/* The cross-company rules (policy.c), used by the model's operations; internal to the model.
 * The public face of the rules is sb_model_admit() and sb_model_media_exclusions() in model.h. */
#ifndef SB_POLICY_H
#define SB_POLICY_H

#include "signaling/model_internal.h"

/** 1 if both sides allow the connection between tenants a and b, 0 if not, < 0 on error. */
int sb_policy_connected(sb_model_t *m, const char *a, const char *b);
/** Checks that the room (NULL: a new one) with `add` users added satisfies the rules: if it
 * spans tenants, every member permitted and every pair of its tenants connected. */
int sb_policy_check_room(sb_model_t *m, const char *room, const sb__user_t *add, size_t n,
                          sb_model_err_t *err);
/** Removes the user from every room that spans tenants (the user lost the permission). */
int sb_policy_exclude_user(sb_model_t *m, const sb__user_t *u, const sb_principal_t *actor,
                     sb_effects_t *fx);
/** Removes members from every room that holds both tenants (their connection ended). */
int sb_policy_exclude_connection(sb_model_t *m, const char *a, const char *b,
                           const sb_principal_t *actor, sb_effects_t *fx);

#endif
