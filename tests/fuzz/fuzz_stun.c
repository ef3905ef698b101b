/* libFuzzer target for the relay's datagram demultiplexer (relay/rtp.c sb_pkt_classify) and its
 * ICE-lite STUN handling (relay/ice.c over libnice's StunAgent), as a worker runs them: every
 * datagram is classified; those classified as STUN go through sb_ice_process() with a worker's
 * ufrag lookup holding two transports.
 *
 * Built and run by the fuzz tree (scripts/test.sh, -DSB_FUZZ=ON, clang; tests/fuzz/run.sh); by
 * hand: build-fuzz/tests/fuzz_stun -max_total_time=60 CORPUS_DIR tests/fuzz/corpus/stun
 * (the seeds come from tests/fuzz/gen_stun.py).
 *
 * Input: one flags byte, then the datagram. Flags bit 0: before processing, the harness signs
 * the datagram again (MESSAGE-INTEGRITY with a password, then FINGERPRINT, wherever those
 * attributes sit), so that mutations reach the checks behind the integrity check; bit 1 picks
 * transport B's password instead of A's; bit 2 signs with a wrong password; bit 3 sends from an
 * IPv6 address. Checked besides memory errors and leaks:
 *  - the classification follows RFC 7983 / RFC 5761 by the first two bytes;
 *  - a check is accepted (SB_ICE_OK) only for the transport whose ufrag is the local part of
 *    USERNAME, and only if its MESSAGE-INTEGRITY verifies with that transport's password
 *    (computed here with OpenSSL, not libnice);
 *  - the answer to an accepted check, or the 487 to a role conflict, fits the buffer and parses
 *    back with libnice as the peer's agent would: a response to the request's transaction
 *    carrying integrity under the same password and, for a success, the sender's address. */
#include "relay/ice.h"
#include "relay/rtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#define REQUIRE(c)                                                                          \
  do {                                                                                     \
    if (!(c))                                                                              \
      __builtin_trap();                                                                    \
  } while (0)

typedef struct {
  const char *ufrag, *pwd;
} fake_transport_t;

static fake_transport_t transports[2] = {{"fzA1", "fuzzpasswordA0123456789"},
                                         {"fzB2", "fuzzpasswordB0123456789"}};
#define WRONG_PWD "fuzzpasswordX0123456789"

/* The worker's lookup: exact ufrag, any length. */
static void *lookup(void *arg, const char *ufrag, size_t len, const char **pwd) {
  for (size_t i = 0; i < 2; i++)
    if (strlen(transports[i].ufrag) == len && memcmp(transports[i].ufrag, ufrag, len) == 0) {
      *pwd = transports[i].pwd;
      return &transports[i];
    }
  return NULL;
}

static uint32_t crc32_stun(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c ^ 0x5354554eu; /* RFC 5389 §15.5 */
}

static void hmac_sha1(const char *key, const uint8_t *p, size_t n, uint8_t out[20]) {
  unsigned len = 20;
  HMAC(EVP_sha1(), key, (int)strlen(key), p, n, out, &len);
}

/* Walks the attributes: calls fn for each (offset of its header, type, value length) while
 * they stay inside the buffer. */
typedef void (*attr_fn)(uint8_t *buf, size_t off, uint16_t type, uint16_t alen, void *arg);
static void each_attr(uint8_t *buf, size_t len, attr_fn fn, void *arg) {
  size_t off = 20;
  while (off + 4 <= len) {
    uint16_t type = sb_rd16(buf + off), alen = sb_rd16(buf + off + 2);
    if (off + 4 + alen > len)
      break;
    fn(buf, off, type, alen, arg);
    off += 4 + ((alen + 3u) & ~3u);
  }
}

/* Signs again: MESSAGE-INTEGRITY over what precedes it with the length field pointing at its
 * end, FINGERPRINT likewise; the length field is the whole message's at the end. */
static void resign_attr(uint8_t *buf, size_t off, uint16_t type, uint16_t alen, void *arg) {
  if (type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY && alen == 20) {
    sb_wr16(buf + 2, (uint16_t)(off + 24 - 20));
    hmac_sha1(arg, buf, off, buf + off + 4);
  } else if (type == STUN_ATTRIBUTE_FINGERPRINT && alen == 4) {
    sb_wr16(buf + 2, (uint16_t)(off + 8 - 20));
    sb_wr32(buf + off + 4, crc32_stun(buf, off));
  }
}

static void resign(uint8_t *buf, size_t len, const char *pwd) {
  if (len < 20 || len - 20 > 0xffff)
    return;
  each_attr(buf, len, resign_attr, (void *)pwd);
  sb_wr16(buf + 2, (uint16_t)(len - 20));
}

/* What a request claims: the local part of its first USERNAME and whether its first
 * MESSAGE-INTEGRITY verifies with a password (checked here, independently of libnice). */
typedef struct {
  const uint8_t *user;
  size_t user_len;
  size_t mi_off; /* 0: none */
  uint16_t mi_len;
} claims_t;

static void find_claims(uint8_t *buf, size_t off, uint16_t type, uint16_t alen, void *arg) {
  claims_t *c = arg;
  if (type == STUN_ATTRIBUTE_USERNAME && !c->user && !c->mi_off) {
    const uint8_t *colon = memchr(buf + off + 4, ':', alen);
    c->user = buf + off + 4;
    c->user_len = colon ? (size_t)(colon - c->user) : alen;
  } else if (type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY && !c->mi_off) {
    /* libnice compares the 20 bytes after the attribute's header whatever its length field
     * says; the relay takes only a length of 20 (an HMAC-SHA1), checked below. */
    c->mi_off = off;
    c->mi_len = alen;
  }
}

static int integrity_ok(const uint8_t *msg, size_t mi_off, const char *pwd) {
  uint8_t copy[1500], mac[20];
  if (mi_off > sizeof copy)
    return 0;
  memcpy(copy, msg, mi_off);
  sb_wr16(copy + 2, (uint16_t)(mi_off + 24 - 20));
  hmac_sha1(pwd, copy, mi_off, mac);
  return memcmp(mac, msg + mi_off + 4, 20) == 0;
}

static void check_classify(const uint8_t *d, size_t n, sb_pkt_kind_t k) {
  sb_pkt_kind_t want = SB_PKT_UNKNOWN;
  if (n > 0 && d[0] <= 3)
    want = SB_PKT_STUN;
  else if (n > 0 && d[0] >= 20 && d[0] <= 63)
    want = SB_PKT_DTLS;
  else if (n > 1 && d[0] >= 128 && d[0] <= 191)
    want = d[1] >= 192 && d[1] <= 223 ? SB_PKT_RTCP : SB_PKT_RTP;
  REQUIRE(k == want);
}

/* The peer's side: an agent that sent `req`'s transaction with `pwd` must take the reply. */
static void check_reply(const uint8_t *req, const uint8_t *reply, size_t rlen, const char *pwd,
                        const struct sockaddr_storage *from, socklen_t fl, int conflict) {
  static const uint16_t attrs[] = {STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
                                   STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                   STUN_ATTRIBUTE_ERROR_CODE, STUN_ATTRIBUTE_ICE_CONTROLLED,
                                   STUN_ATTRIBUTE_ICE_CONTROLLING, 0};
  StunAgent peer;
  StunMessage sent, resp;
  uint8_t buf[256];
  stun_agent_init(&peer, attrs, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  REQUIRE(stun_agent_init_request(&peer, &sent, buf, sizeof buf, STUN_BINDING));
  memcpy(buf + 4, req + 4, 16); /* the request's cookie and transaction id */
  REQUIRE(stun_agent_finish_message(&peer, &sent, (const uint8_t *)pwd, strlen(pwd)) > 0);
  REQUIRE(stun_message_validate_buffer_length(reply, rlen, true) == (int)rlen);
  REQUIRE(stun_agent_validate(&peer, &resp, reply, rlen, NULL, NULL) == STUN_VALIDATION_SUCCESS);
  REQUIRE(stun_message_get_method(&resp) == STUN_BINDING);
  struct sockaddr_storage mapped;
  socklen_t ml = sizeof mapped;
  memset(&mapped, 0, sizeof mapped);
  StunUsageIceReturn r =
      stun_usage_ice_conncheck_process(&resp, &mapped, &ml, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (conflict) {
    REQUIRE(stun_message_get_class(&resp) == STUN_ERROR);
    REQUIRE(r == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT);
    return;
  }
  REQUIRE(stun_message_get_class(&resp) == STUN_RESPONSE);
  REQUIRE(r == STUN_USAGE_ICE_RETURN_SUCCESS);
  REQUIRE(mapped.ss_family == from->ss_family);
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const void *)&mapped, *b = (const void *)from;
    REQUIRE(a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr);
  } else {
    const struct sockaddr_in6 *a = (const void *)&mapped, *b = (const void *)from;
    REQUIRE(a->sin6_port == b->sin6_port && !memcmp(&a->sin6_addr, &b->sin6_addr, 16));
  }
  (void)fl;
}

static sb_ice_t *ice;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t buf[1500], orig[1500], reply[1280];
  if (size < 1 || size - 1 > sizeof buf)
    return 0;
  if (!ice)
    ice = sb_ice_create(lookup, NULL);
  uint8_t flags = data[0];
  size_t len = size - 1;
  memcpy(buf, data + 1, len);
  if (flags & 1)
    resign(buf, len, flags & 4 ? WRONG_PWD : transports[(flags >> 1) & 1].pwd);

  sb_pkt_kind_t kind = sb_pkt_classify(buf, len);
  check_classify(buf, len, kind);
  if (kind != SB_PKT_STUN)
    return 0;

  struct sockaddr_storage from;
  socklen_t fl;
  memset(&from, 0, sizeof from);
  if (flags & 8) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&from;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(50000);
    inet_pton(AF_INET6, "2001:db8::7", &a->sin6_addr);
    fl = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&from;
    a->sin_family = AF_INET;
    a->sin_port = htons(50000);
    a->sin_addr.s_addr = htonl(0xc0000207);
    fl = sizeof *a;
  }
  memcpy(orig, buf, len);
  sb_ice_check_t check;
  size_t rlen = 12345;
  sb_ice_result_t r =
      sb_ice_process(ice, buf, len, (struct sockaddr *)&from, fl, &check, reply, sizeof reply, &rlen);
  REQUIRE((unsigned)r <= SB_ICE_KEEPALIVE);
  REQUIRE(sb_ice_result_str(r)[0] != '?');
  if (r != SB_ICE_OK && r != SB_ICE_ROLE_CONFLICT) {
    REQUIRE(rlen == 0 && check.transport == NULL);
    return 0;
  }
  REQUIRE(rlen > 0 && rlen <= sizeof reply);
  claims_t c = {0};
  each_attr(orig, len, find_claims, &c);
  REQUIRE(c.user && c.mi_off && c.mi_len == 20);
  const char *pwd = NULL;
  fake_transport_t *t = lookup(NULL, (const char *)c.user, c.user_len, &pwd);
  REQUIRE(t && integrity_ok(orig, c.mi_off, pwd));
  REQUIRE(r == SB_ICE_ROLE_CONFLICT || check.transport == t);
  check_reply(orig, reply, rlen, pwd, &from, fl, r == SB_ICE_ROLE_CONFLICT);
  return 0;
}
