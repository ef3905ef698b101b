#include "relay/ice.h"

#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "common/util.h"

struct sb_ice {
  StunAgent agent;
  StunAgent indications; /* no credentials: keepalives (RFC 8445 §11) carry none */
  sb_ice_lookup_cb lookup;
  void *arg;
  uint64_t tie;
  void *found; /* transport found by the validater during one sb_ice_process call */
  int found_user;
};

static const uint16_t known_attributes[] = {
    STUN_ATTRIBUTE_USERNAME,       STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_FINGERPRINT,
    STUN_ATTRIBUTE_PRIORITY,       STUN_ATTRIBUTE_USE_CANDIDATE,     STUN_ATTRIBUTE_ICE_CONTROLLED,
    STUN_ATTRIBUTE_ICE_CONTROLLING, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_SOFTWARE,
    0};

sb_ice_t *sb_ice_create(sb_ice_lookup_cb lookup, void *arg) {
  sb_ice_t *ice = calloc(1, sizeof *ice);
  if (!ice)
    return NULL;
  stun_agent_init(&ice->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  stun_agent_init(&ice->indications, known_attributes, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_IGNORE_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  ice->lookup = lookup;
  ice->arg = arg;
  sb_random_bytes(&ice->tie, sizeof ice->tie);
  return ice;
}

void sb_ice_destroy(sb_ice_t *ice) { free(ice); }

/* USERNAME of a check sent to us is "<our ufrag>:<peer ufrag>". */
static bool validater(StunAgent *agent, StunMessage *msg, uint8_t *username, uint16_t username_len,
                      uint8_t **password, size_t *password_len, void *user_data) {
  sb_ice_t *ice = user_data;
  const uint8_t *colon = memchr(username, ':', username_len);
  size_t local_len = colon ? (size_t)(colon - username) : username_len;
  const char *pwd = NULL;
  void *t = ice->lookup(ice->arg, (const char *)username, local_len, &pwd);
  if (!t || !pwd)
    return false;
  ice->found = t;
  ice->found_user = 1;
  *password = (uint8_t *)pwd;
  *password_len = strlen(pwd);
  return true;
}

/* A Binding indication: what libnice and other full agents send as keepalives. Without
 * credentials it is validated only for form and FINGERPRINT (which RFC 5389 agents add). */
static bool is_keepalive(sb_ice_t *ice, const uint8_t *buf, size_t len) {
  StunMessage msg;
  if (stun_agent_validate(&ice->indications, &msg, buf, len, NULL, NULL) != STUN_VALIDATION_SUCCESS)
    return false;
  return stun_message_get_class(&msg) == STUN_INDICATION &&
         stun_message_get_method(&msg) == STUN_BINDING;
}

/* A peer that claims the controlled role too (RFC 8445 §7.3.1.1). libnice would resolve it by
 * the tie-breakers: either switch our role and answer success, or answer 487 while reporting
 * success, which made a refused check count as a valid one. An ICE-lite agent cannot take the
 * controlling role, so the peer is always told to (487, integrity with the request's key). */
static sb_ice_result_t role_conflict(sb_ice_t *ice, StunMessage *req, uint8_t *reply,
                                     size_t reply_cap, size_t *reply_len) {
  StunMessage err;
  if (!stun_agent_init_error(&ice->agent, &err, reply, reply_cap, req, STUN_ERROR_ROLE_CONFLICT))
    return SB_ICE_MALFORMED;
  size_t n = stun_agent_finish_message(&ice->agent, &err, NULL, 0);
  if (n == 0)
    return SB_ICE_MALFORMED;
  *reply_len = n;
  return SB_ICE_ROLE_CONFLICT;
}

sb_ice_result_t sb_ice_process(sb_ice_t *ice, uint8_t *buf, size_t len, const struct sockaddr *from,
                               socklen_t fromlen, sb_ice_check_t *check, uint8_t *reply,
                               size_t reply_cap, size_t *reply_len) {
  StunMessage req, resp;
  struct sockaddr_storage src;
  memset(check, 0, sizeof *check);
  *reply_len = 0;
  if (len < 20 || fromlen > sizeof src ||
      stun_message_validate_buffer_length(buf, len, true) != (int)len)
    return SB_ICE_MALFORMED;
  ice->found = NULL;
  ice->found_user = 0;
  StunValidationStatus st = stun_agent_validate(&ice->agent, &req, buf, len, validater, ice);
  switch (st) {
  case STUN_VALIDATION_SUCCESS:
    break;
  case STUN_VALIDATION_UNAUTHORIZED:
  case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST:
    if (ice->found_user)
      return SB_ICE_BAD_INTEGRITY;
    return is_keepalive(ice, buf, len) ? SB_ICE_KEEPALIVE : SB_ICE_UNKNOWN_USER;
  case STUN_VALIDATION_UNMATCHED_RESPONSE:
    return SB_ICE_NOT_REQUEST;
  default:
    return SB_ICE_MALFORMED;
  }
  if (stun_message_get_class(&req) != STUN_REQUEST || stun_message_get_method(&req) != STUN_BINDING)
    return SB_ICE_NOT_REQUEST;
  if (!ice->found)
    return SB_ICE_UNKNOWN_USER;
  /* libnice verifies the 20 bytes after the attribute's header whatever its length says; an
   * HMAC-SHA1 is 20 bytes (RFC 5389 §15.4), so any other length is a malformed request. */
  uint16_t mi_len = 0;
  if (!stun_message_find(&req, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, &mi_len) || mi_len != 20)
    return SB_ICE_MALFORMED;
  uint64_t peer_tie;
  if (stun_message_find64(&req, STUN_ATTRIBUTE_ICE_CONTROLLED, &peer_tie) ==
      STUN_MESSAGE_RETURN_SUCCESS)
    return role_conflict(ice, &req, reply, reply_cap, reply_len);
  memset(&src, 0, sizeof src);
  memcpy(&src, from, fromlen);
  bool control = false; /* an ICE-lite agent is always controlled */
  size_t rlen = reply_cap;
  StunUsageIceReturn r = stun_usage_ice_conncheck_create_reply(
      &ice->agent, &req, &resp, reply, &rlen, &src, fromlen, &control, ice->tie,
      STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (r != STUN_USAGE_ICE_RETURN_SUCCESS || rlen == 0 ||
      stun_message_get_class(&resp) != STUN_RESPONSE)
    return SB_ICE_MALFORMED;
  *reply_len = rlen;
  check->transport = ice->found;
  check->use_candidate = stun_usage_ice_conncheck_use_candidate(&req);
  check->priority = stun_usage_ice_conncheck_priority(&req);
  return SB_ICE_OK;
}

const char *sb_ice_result_str(sb_ice_result_t r) {
  static const char *names[] = {"ok", "not a binding request", "malformed", "unknown ufrag",
                                "bad message integrity", "role conflict", "keepalive"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}
