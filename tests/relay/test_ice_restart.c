/* ICE restart on a connected transport (fake environment, relay_fixture.h):
 * checks built by libnice's controlling-side usage, as a browser's are, go
 * through the worker's steps (the ICE agent over an index of credentials, then
 * the transport). The old credentials work until the new ones are used, the
 * path moves with a nomination, DTLS and SRTP stay as they are. */
#include <stun/usages/ice.h>

#include "relay/ice.h"
#include "relay/ice_index.h"
#include "relay_fixture.h"
#include "sbtest.h"

static sb_ice_index_t idx; /* 32 KiB: not on the stack */

static void *lookup(void *arg, const char *ufrag, size_t len,
                    const char **pwd) {
  sb_ice_cred_t *c = sb_ice_index_find(arg, ufrag, len);
  if (c)
    *pwd = c->pwd;
  return c;
}

static const uint16_t attrs[] = {
    STUN_ATTRIBUTE_USERNAME,    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_ERROR_CODE,  0};

static sb_path_t path_from(uint16_t port) {
  sb_path_t p;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  memset(&p, 0, sizeof p);
  memcpy(&p.addr, &a, sizeof a);
  p.len = sizeof a;
  return p;
}

/* A check to local credentials ufrag/pwd from 127.0.0.1:port, handled as the
 * worker does (relay/worker.c on_stun): 1 if the transport's path moved, 0 if
 * not, -1 if refused. */
static int check(sb_ice_t *ice, sb_transport_t *t, const char *ufrag,
                 const char *pwd, uint16_t port, int use_cand, int *retired) {
  StunAgent agent;
  StunMessage msg;
  uint8_t req[512], reply[1280];
  char username[160];
  size_t rlen;
  sb_ice_check_t c;
  snprintf(username, sizeof username, "%s:browser", ufrag);
  stun_agent_init(&agent, attrs, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                      STUN_AGENT_USAGE_USE_FINGERPRINT);
  size_t n = stun_usage_ice_conncheck_create(
      &agent, &msg, req, sizeof req, (const uint8_t *)username,
      strlen(username), (const uint8_t *)pwd, strlen(pwd), use_cand, 1,
      0x6e7f1eff, 0x1234567890ull, NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  sb_path_t from = path_from(port);
  if (sb_ice_process(ice, req, n, (struct sockaddr *)&from.addr, from.len, &c,
                     reply, sizeof reply, &rlen) != SB_ICE_OK)
    return -1;
  sb_ice_cred_t *cred = c.transport;
  if (cred->t != t)
    return -1;
  *retired += sb_transport_ice_checked(t, &idx, cred);
  return sb_transport_on_check(t, &from, c.use_candidate);
}

static uint16_t path_port(const sb_transport_t *t) {
  return ntohs(((const struct sockaddr_in *)&t->path.addr)->sin_port);
}

SB_TEST(old_credentials_work_until_the_new_ones_are_used_then_are_refused) {
  fx_env_t f;
  fx_env_init(&f);
  memset(&idx, 0, sizeof idx);
  sb_transport_t *t = fx_transport(&f, 1, 1); /* connected on port 40001 */
  CHECK(t != NULL);
  sb_ice_index_add(&idx, &t->ice[0]);
  sb_ice_t *ice = sb_ice_create(lookup, &idx);
  char old_ufrag[64], old_pwd[128];
  snprintf(old_ufrag, sizeof old_ufrag, "%s", t->ice[0].ufrag);
  snprintf(old_pwd, sizeof old_pwd, "%s", t->ice[0].pwd);
  sb_dtls_t *dtls = t->dtls;
  sb_srtp_t srtp = t->srtp;
  int retired = 0, events = f.nevents;
  CHECK_EQ(check(ice, t, old_ufrag, old_pwd, 40001, 0, &retired), 0);
  CHECK_EQ(
      check(ice, t, "NEWU", "new-password-0123456789a", 40001, 0, &retired),
      -1); /* not yet */

  CHECK_EQ(
      sb_transport_ice_restart(t, &idx, "NEWU", "new-password-0123456789a"), 0);
  /* Both work meanwhile: the old set keeps the pair up until the peer has
   * applied the offer. */
  f.env.now_ms += 1000;
  CHECK_EQ(check(ice, t, old_ufrag, old_pwd, 40001, 0, &retired), 0);
  CHECK_EQ(t->last_consent_ms, f.env.now_ms);
  CHECK_EQ(retired, 0);
  CHECK_STR(t->ice[0].ufrag, old_ufrag);
  CHECK_EQ(
      check(ice, t, "NEWU", "wrong-password-0123456789", 40002, 1, &retired),
      -1);
  CHECK_EQ(retired, 0);
  /* The first valid check with the new ufrag, nominating a new address: the
   * path moves there and the old credentials are retired. */
  f.env.now_ms += 1000;
  CHECK_EQ(
      check(ice, t, "NEWU", "new-password-0123456789a", 40002, 1, &retired), 1);
  CHECK_EQ(retired, 1);
  CHECK_EQ(path_port(t), 40002);
  CHECK_EQ(t->last_consent_ms, f.env.now_ms);
  CHECK_STR(t->ice[0].ufrag, "NEWU");
  CHECK_EQ(t->ice[1].ufrag[0], 0);
  CHECK_EQ(check(ice, t, old_ufrag, old_pwd, 40001, 1, &retired), -1);
  CHECK(sb_ice_index_find(&idx, old_ufrag, strlen(old_ufrag)) == NULL);
  CHECK_EQ(path_port(t), 40002);
  CHECK_EQ(
      check(ice, t, "NEWU", "new-password-0123456789a", 40002, 0, &retired), 0);
  CHECK_EQ(retired, 1);
  /* DTLS and SRTP untouched, still connected, nothing told to signaling. */
  CHECK(t->dtls == dtls);
  CHECK(t->srtp.in == srtp.in && t->srtp.out == srtp.out);
  CHECK_EQ(t->state, SB_TRANSPORT_CONNECTED);
  CHECK_EQ(f.nevents, events);
  CHECK_EQ(f.env.stats.dtls_handshakes, 0);
  sb_ice_index_remove(&idx, &t->ice[0]);
  sb_ice_destroy(ice);
  sb_transport_destroy(t, NULL);
}

SB_TEST(a_second_restart_replaces_an_unused_new_set_and_keeps_the_old) {
  fx_env_t f;
  fx_env_init(&f);
  memset(&idx, 0, sizeof idx);
  sb_transport_t *t = fx_transport(&f, 2, 1);
  CHECK(t != NULL);
  sb_ice_index_add(&idx, &t->ice[0]);
  sb_ice_t *ice = sb_ice_create(lookup, &idx);
  char old_ufrag[64], old_pwd[128];
  snprintf(old_ufrag, sizeof old_ufrag, "%s", t->ice[0].ufrag);
  snprintf(old_pwd, sizeof old_pwd, "%s", t->ice[0].pwd);
  int retired = 0;
  CHECK_EQ(
      sb_transport_ice_restart(t, &idx, "AAAA", "aaaa-password-0123456789"), 0);
  CHECK_EQ(
      sb_transport_ice_restart(t, &idx, "BBBB", "bbbb-password-0123456789"), 0);
  CHECK_EQ(
      check(ice, t, "AAAA", "aaaa-password-0123456789", 40002, 1, &retired),
      -1);
  CHECK_EQ(check(ice, t, old_ufrag, old_pwd, 40002, 0, &retired),
           0); /* the old set still works */
  CHECK_EQ(path_port(t), 40002);
  CHECK_EQ(
      check(ice, t, "BBBB", "bbbb-password-0123456789", 40003, 1, &retired), 1);
  CHECK_EQ(retired, 1);
  CHECK_EQ(path_port(t), 40003);
  /* Credentials that do not fit are refused and change nothing. */
  char long_ufrag[100];
  memset(long_ufrag, 'x', sizeof long_ufrag - 1);
  long_ufrag[sizeof long_ufrag - 1] = 0;
  CHECK_EQ(
      sb_transport_ice_restart(t, &idx, long_ufrag, "pwd-pwd-pwd-pwd-pwd-pwd"),
      -1);
  CHECK_EQ(sb_transport_ice_restart(t, &idx, "CCCC", ""), -1);
  CHECK_EQ(t->ice[1].ufrag[0], 0);
  CHECK_EQ(
      check(ice, t, "BBBB", "bbbb-password-0123456789", 40003, 0, &retired), 0);
  sb_ice_index_remove(&idx, &t->ice[0]);
  sb_ice_destroy(ice);
  sb_transport_destroy(t, NULL);
}
