/* ICE-lite checks: requests built by libnice's controlling-side usage, as a browser's would be. */
#include <arpa/inet.h>
#include <stun/usages/bind.h>
#include <stun/usages/ice.h>
#include <zlib.h>

#include "relay/ice.h"
#include "relay/rtp.h"
#include "sbtest.h"

static int the_transport;

static void *lookup(void *arg, const char *ufrag, size_t len, const char **pwd) {
  if (len == 4 && memcmp(ufrag, "srvU", 4) == 0) {
    *pwd = "server-password-0123456789";
    return &the_transport;
  }
  return NULL;
}

static const uint16_t attrs[] = {STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
                                 STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                 STUN_ATTRIBUTE_ERROR_CODE, 0};

static size_t make_request(uint8_t *buf, size_t cap, const char *username, const char *pwd, int use_cand,
                           int controlling, StunAgent *agent) {
  StunMessage msg;
  stun_agent_init(agent, attrs, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  return stun_usage_ice_conncheck_create(agent, &msg, buf, cap, (const uint8_t *)username, strlen(username),
                                         (const uint8_t *)pwd, strlen(pwd), use_cand, controlling,
                                         0x6e7f1eff, 0x1234567890ull, NULL,
                                         STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

static void peer(struct sockaddr_in *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(50123);
  inet_pton(AF_INET, "127.0.0.1", &sa->sin_addr);
}

SB_TEST(valid_check_gets_authenticated_reply) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  uint8_t req[512], reply[1280];
  size_t rlen;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  size_t n = make_request(req, sizeof req, "srvU:cliU", "server-password-0123456789", 1, 1, &client);
  CHECK(n > 0);
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_OK);
  CHECK(check.transport == &the_transport);
  CHECK_EQ(check.use_candidate, 1);
  CHECK_EQ(check.priority, 0x6e7f1eff);
  CHECK(rlen > 20);
  /* The client validates the response with the same password and reads its mapped address. */
  StunMessage resp;
  StunDefaultValidaterData vd = {(uint8_t *)"srvU:cliU", 9, (uint8_t *)"server-password-0123456789", 26};
  CHECK_EQ(stun_agent_validate(&client, &resp, reply, rlen, stun_agent_default_validater, &vd),
           STUN_VALIDATION_SUCCESS);
  struct sockaddr_storage mapped;
  socklen_t mlen = sizeof mapped;
  CHECK_EQ(stun_usage_ice_conncheck_process(&resp, &mapped, &mlen, STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
           STUN_USAGE_ICE_RETURN_SUCCESS);
  CHECK_EQ(((struct sockaddr_in *)&mapped)->sin_port, htons(50123));
  sb_ice_destroy(ice);
}

SB_TEST(wrong_password_is_refused_without_reply) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  uint8_t req[512], reply[1280];
  size_t rlen = 99;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  size_t n = make_request(req, sizeof req, "srvU:cliU", "not-the-password", 1, 1, &client);
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_BAD_INTEGRITY);
  CHECK_EQ(rlen, 0);
  CHECK(check.transport == NULL);
  sb_ice_destroy(ice);
}

SB_TEST(unknown_ufrag_is_refused) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  uint8_t req[512], reply[1280];
  size_t rlen;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  size_t n = make_request(req, sizeof req, "nobody:cliU", "server-password-0123456789", 0, 1, &client);
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_UNKNOWN_USER);
  sb_ice_destroy(ice);
}

SB_TEST(truncated_and_bad_fingerprint_are_malformed) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  uint8_t req[512], reply[1280];
  size_t rlen;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  size_t n = make_request(req, sizeof req, "srvU:cliU", "server-password-0123456789", 0, 1, &client);
  for (size_t cut = 0; cut < n; cut += 7)
    CHECK(sb_ice_process(ice, req, cut, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply,
                         &rlen) != SB_ICE_OK);
  req[n - 1] ^= 0x55; /* FINGERPRINT is the last attribute */
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_MALFORMED);
  sb_ice_destroy(ice);
}

SB_TEST(controlled_peer_gets_role_conflict) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  uint8_t req[512], reply[1280];
  size_t rlen = 0;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  /* An ICE-lite agent is controlled and cannot switch: a controlled peer is always told to (487),
   * whichever tie-breaker is larger, and the check does not count. libnice's own resolution
   * answered 487 while reporting success for half of the tie-breakers (found by fuzz_stun). */
  for (int i = 0; i < 32; i++) {
    sb_ice_t *each = sb_ice_create(lookup, NULL); /* a fresh random tie-breaker */
    StunMessage resp;
    int code = 0;
    size_t n = make_request(req, sizeof req, "srvU:cliU", "server-password-0123456789", 0, 0, &client);
    rlen = 0;
    CHECK_EQ(sb_ice_process(each, req, n, (struct sockaddr *)&from, sizeof from, &check, reply,
                            sizeof reply, &rlen),
             SB_ICE_ROLE_CONFLICT);
    CHECK(check.transport == NULL);
    CHECK(rlen > 20);
    CHECK_EQ(stun_agent_validate(&client, &resp, reply, rlen, NULL, NULL), STUN_VALIDATION_SUCCESS);
    CHECK_EQ(stun_message_get_class(&resp), STUN_ERROR);
    CHECK_EQ(stun_message_find_error(&resp, &code), STUN_MESSAGE_RETURN_SUCCESS);
    CHECK_EQ(code, STUN_ERROR_ROLE_CONFLICT);
    sb_ice_destroy(each);
  }
  sb_ice_destroy(ice);
}

/* libnice's keepalive (RFC 8445 §11): a Binding indication without credentials. It used to be
 * refused as an unknown user, which the worker counted as stun_bad. */
SB_TEST(binding_indication_is_a_keepalive) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  StunMessage msg;
  uint8_t ind[128], reply[1280];
  size_t rlen = 99;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  stun_agent_init(&client, attrs, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  size_t n = stun_usage_bind_keepalive(&client, &msg, ind, sizeof ind);
  CHECK(n > 0);
  CHECK_EQ(sb_ice_process(ice, ind, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_KEEPALIVE);
  CHECK_EQ(rlen, 0); /* indications are not answered */
  CHECK(check.transport == NULL);
  ind[n - 1] ^= 0x55; /* a broken FINGERPRINT is still refused */
  CHECK(sb_ice_process(ice, ind, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply,
                       &rlen) != SB_ICE_KEEPALIVE);
  sb_ice_destroy(ice);
}

/* A Binding request without credentials is not a keepalive: still refused. */
SB_TEST(request_without_credentials_is_not_a_keepalive) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  StunMessage msg;
  uint8_t req[128], reply[1280];
  size_t rlen;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  stun_agent_init(&client, attrs, STUN_COMPATIBILITY_RFC5389, STUN_AGENT_USAGE_USE_FINGERPRINT);
  size_t n = stun_usage_bind_create(&client, &msg, req, sizeof req);
  CHECK(n > 0);
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_UNKNOWN_USER);
  sb_ice_destroy(ice);
}

/* Sets the length field of a check's MESSAGE-INTEGRITY (the attribute before FINGERPRINT, the
 * last) and signs FINGERPRINT again, which covers the attribute's header (RFC 5389 §15.5). */
static void set_integrity_length(uint8_t *req, size_t n, uint16_t len) {
  sb_wr16(req + n - 8 - 24 + 2, len);
  sb_wr32(req + n - 4, (uint32_t)crc32(0, req, (uInt)(n - 8)) ^ 0x5354554eu);
}

/* An HMAC-SHA1 is 20 bytes (RFC 5389 §15.4). libnice verifies the 20 bytes after the attribute's
 * header whatever its length field says, so a check whose MESSAGE-INTEGRITY claims 18 bytes
 * (18 + 2 of padding: the layout unchanged) still verifies there; the relay refuses it as
 * malformed, without a reply. The HMAC covers only what precedes the attribute. */
SB_TEST(integrity_of_another_length_is_malformed) {
  sb_ice_t *ice = sb_ice_create(lookup, NULL);
  StunAgent client;
  uint8_t req[512], reply[1280];
  size_t rlen = 99;
  struct sockaddr_in from;
  sb_ice_check_t check;
  peer(&from);
  size_t n = make_request(req, sizeof req, "srvU:cliU", "server-password-0123456789", 1, 1, &client);
  CHECK(n > 32);
  size_t mi = n - 8 - 24; /* MESSAGE-INTEGRITY, then FINGERPRINT, last */
  CHECK_EQ(sb_rd16(req + mi), STUN_ATTRIBUTE_MESSAGE_INTEGRITY);
  CHECK_EQ(sb_rd16(req + mi + 2), 20);
  CHECK_EQ(sb_rd16(req + n - 8), STUN_ATTRIBUTE_FINGERPRINT);
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_OK); /* as built */
  set_integrity_length(req, n, 18);
  rlen = 99;
  check.transport = &the_transport;
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_MALFORMED);
  CHECK_EQ(rlen, 0);
  CHECK(check.transport == NULL);
  set_integrity_length(req, n, 20); /* and back: the same bytes are accepted again */
  CHECK_EQ(sb_ice_process(ice, req, n, (struct sockaddr *)&from, sizeof from, &check, reply, sizeof reply, &rlen),
           SB_ICE_OK);
  sb_ice_destroy(ice);
}
