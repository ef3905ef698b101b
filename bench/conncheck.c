/* ICE connectivity checks with libnice's STUN usage (stun/usages/ice.h). */
#include "bench/conncheck.h"

#include <stdio.h>
#include <string.h>

#include <stun/usages/ice.h>

#include "common/util.h"

#define AGENT_FLAGS (STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT)

static int copy(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n == 0 || n >= cap)
    return -1;
  memcpy(dst, src, n + 1);
  return 0;
}

int sb_bench_ice_init(sb_bench_ice_t *ice, const char *local_ufrag, const char *local_pwd,
                      const char *remote_ufrag, const char *remote_pwd) {
  memset(ice, 0, sizeof *ice);
  if (copy(ice->local_ufrag, sizeof ice->local_ufrag, local_ufrag) < 0 ||
      copy(ice->local_pwd, sizeof ice->local_pwd, local_pwd) < 0 ||
      copy(ice->remote_pwd, sizeof ice->remote_pwd, remote_pwd) < 0 || !remote_ufrag[0] ||
      (size_t)snprintf(ice->username, sizeof ice->username, "%s:%s", remote_ufrag, local_ufrag) >=
          sizeof ice->username)
    return -1;
  stun_agent_init(&ice->agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389, AGENT_FLAGS);
  if (sb_random_bytes(&ice->tie, sizeof ice->tie) < 0)
    return -1;
  /* a host candidate's priority (RFC 8445 §5.1.2.1: type 126, local 65535, component 1) */
  ice->priority = (126u << 24) | (65535u << 8) | 255u;
  return 0;
}

int sb_bench_ice_start_check(sb_bench_ice_t *ice, uint64_t now_us) {
  StunMessage msg;
  size_t len;
  if (ice->outstanding)
    stun_agent_forget_transaction(&ice->agent, ice->txid);
  ice->outstanding = 0;
  len = stun_usage_ice_conncheck_create(
      &ice->agent, &msg, ice->req, sizeof ice->req, (const uint8_t *)ice->username,
      strlen(ice->username), (const uint8_t *)ice->remote_pwd, strlen(ice->remote_pwd),
      !ice->controlled, !ice->controlled,
      ice->priority, ice->tie, NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (len == 0)
    return -1;
  stun_message_id(&msg, ice->txid);
  ice->req_len = len;
  ice->outstanding = 1;
  ice->tries = 1;
  ice->sent_us = now_us;
  ice->next_us = now_us + SB_CONNCHECK_RTO_US;
  return (int)len;
}

int sb_bench_ice_poll(sb_bench_ice_t *ice, uint64_t now_us) {
  if (!ice->outstanding || now_us < ice->next_us)
    return 0;
  if (ice->tries >= SB_CONNCHECK_TRIES) {
    stun_agent_forget_transaction(&ice->agent, ice->txid);
    ice->outstanding = 0;
    return -1;
  }
  ice->tries++;
  ice->next_us = now_us + (SB_CONNCHECK_RTO_US << (ice->tries - 1));
  return 1;
}

/* Requests to us carry "ourufrag:theirufrag"; only the part before ':' names our password. */
static bool validater(StunAgent *agent, StunMessage *message, uint8_t *username,
                      uint16_t username_len, uint8_t **password, size_t *password_len,
                      void *user_data) {
  sb_bench_ice_t *ice = user_data;
  size_t n = strlen(ice->local_ufrag);
  (void)agent;
  (void)message;
  if (username_len <= n || memcmp(username, ice->local_ufrag, n) != 0 || username[n] != ':')
    return false;
  *password = (uint8_t *)ice->local_pwd;
  *password_len = strlen(ice->local_pwd);
  return true;
}

static sb_conncheck_result_t handle_response(sb_bench_ice_t *ice, StunMessage *msg,
                                             uint64_t now_us) {
  struct sockaddr_storage mapped;
  socklen_t mlen = sizeof mapped;
  StunTransactionId id;
  if (stun_usage_ice_conncheck_process(msg, &mapped, &mlen, STUN_USAGE_ICE_COMPATIBILITY_RFC5245) !=
      STUN_USAGE_ICE_RETURN_SUCCESS) {
    ice->failed++;
    return SB_CONNCHECK_ERROR;
  }
  stun_message_id(msg, id);
  if (ice->outstanding && memcmp(id, ice->txid, sizeof id) == 0) {
    ice->outstanding = 0;
    ice->rtt_us = now_us - ice->sent_us;
  }
  ice->answered++;
  return SB_CONNCHECK_SUCCESS;
}

sb_conncheck_result_t sb_bench_ice_handle(sb_bench_ice_t *ice, const uint8_t *buf, size_t len,
                                          const struct sockaddr *from, socklen_t fromlen,
                                          uint8_t *reply, size_t reply_cap, size_t *reply_len,
                                          uint64_t now_us) {
  StunMessage msg, out;
  struct sockaddr_storage src;
  bool control = !ice->controlled;
  size_t rlen = reply_cap;
  StunValidationStatus v;
  /* a full agent's keepalives are Binding indications, without credentials (RFC 8445 §11) */
  memset(&msg, 0, sizeof msg);
  msg.agent = &ice->agent;
  msg.buffer = (uint8_t *)buf;
  msg.buffer_len = len;
  if (stun_message_validate_buffer_length(buf, len, true) == (int)len &&
      stun_message_get_class(&msg) == STUN_INDICATION) {
    ice->indications++;
    return SB_CONNCHECK_IGNORED;
  }
  v = stun_agent_validate(&ice->agent, &msg, buf, len, validater, ice);
  if (v == STUN_VALIDATION_UNMATCHED_RESPONSE)
    return SB_CONNCHECK_IGNORED;
  if (v != STUN_VALIDATION_SUCCESS && v != STUN_VALIDATION_UNKNOWN_ATTRIBUTE) {
    ice->failed++;
    return SB_CONNCHECK_ERROR;
  }
  switch (stun_message_get_class(&msg)) {
  case STUN_RESPONSE:
    return handle_response(ice, &msg, now_us);
  case STUN_REQUEST:
    if (fromlen > sizeof src)
      return SB_CONNCHECK_ERROR;
    memset(&src, 0, sizeof src);
    memcpy(&src, from, fromlen);
    if (stun_usage_ice_conncheck_create_reply(&ice->agent, &msg, &out, reply, &rlen, &src, fromlen,
                                              &control, ice->tie,
                                              STUN_USAGE_ICE_COMPATIBILITY_RFC5245) !=
            STUN_USAGE_ICE_RETURN_SUCCESS ||
        rlen == 0)
      return SB_CONNCHECK_ERROR;
    *reply_len = rlen;
    ice->replied++;
    return SB_CONNCHECK_REPLY;
  case STUN_ERROR:
    ice->failed++;
    return SB_CONNCHECK_ERROR;
  default:
    return SB_CONNCHECK_IGNORED;
  }
}
