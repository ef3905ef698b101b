/* The bench's DTLS client, SRTP sessions and ICE checks against the real libraries: a DTLS
 * server built here (as the relay would be), libnice's ICE-lite reply path, libsrtp both ways. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stun/usages/ice.h>

#include "bench/conncheck.h"
#include "bench/dtlsc.h"
#include "bench/srtpc.h"
#include "sbtest.h"

static void fill_keys(sb_bench_srtp_keys_t *a, sb_bench_srtp_keys_t *b, uint16_t profile) {
  memset(a, 0, sizeof *a);
  a->profile = profile;
  a->len = profile == SB_SRTP_PROFILE_AEAD_AES_128_GCM ? 28 : 30;
  for (size_t i = 0; i < a->len; i++) {
    a->local[i] = (uint8_t)(i * 7 + 1);
    a->remote[i] = (uint8_t)(i * 13 + 5);
  }
  /* the other side sees the same keys the other way round */
  *b = *a;
  memcpy(b->local, a->remote, a->len);
  memcpy(b->remote, a->local, a->len);
}

static int roundtrip(uint16_t profile) {
  sb_bench_srtp_keys_t ka, kb;
  sb_bench_srtp_t a, b;
  uint8_t pkt[200 + SB_SRTP_TRAILER] = {0x80, 96, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef};
  int len = 200, ok;
  fill_keys(&ka, &kb, profile);
  if (sb_bench_srtp_global_init() < 0 || sb_bench_srtp_create(&a, &ka) < 0)
    return -1;
  if (sb_bench_srtp_create(&b, &kb) < 0) {
    sb_bench_srtp_free(&a);
    return -2;
  }
  memset(pkt + 12, 0x5a, 188);
  ok = sb_bench_srtp_protect(&a, pkt, &len, 0) == 0 && len > 200 &&
       sb_bench_srtp_unprotect(&b, pkt, &len, 0) == 0 && len == 200 && pkt[100] == 0x5a;
  sb_bench_srtp_free(&a);
  sb_bench_srtp_free(&b);
  return ok ? 0 : -3;
}

SB_TEST(srtp_roundtrip_aes_cm) {
  CHECK_EQ(roundtrip(SB_SRTP_PROFILE_AES128_CM_SHA1_80), 0);
}

SB_TEST(srtp_roundtrip_gcm) {
  CHECK_EQ(roundtrip(SB_SRTP_PROFILE_AEAD_AES_128_GCM), 0);
}

SB_TEST(srtp_replay_and_forgery_are_told_apart) {
  sb_bench_srtp_keys_t ka, kb;
  sb_bench_srtp_t a, b;
  uint8_t pkt[100 + SB_SRTP_TRAILER] = {0x80, 111, 0, 7, 0, 0, 0, 1, 1, 2, 3, 4};
  uint8_t copy[sizeof pkt];
  int len = 100, n;
  fill_keys(&ka, &kb, SB_SRTP_PROFILE_AES128_CM_SHA1_80);
  CHECK_EQ(sb_bench_srtp_global_init(), 0);
  CHECK_EQ(sb_bench_srtp_create(&a, &ka), 0);
  CHECK_EQ(sb_bench_srtp_create(&b, &kb), 0);
  CHECK_EQ(sb_bench_srtp_protect(&a, pkt, &len, 0), 0);
  memcpy(copy, pkt, sizeof pkt);
  n = len;
  CHECK_EQ(sb_bench_srtp_unprotect(&b, pkt, &n, 0), 0);
  n = len;
  memcpy(pkt, copy, sizeof pkt);
  CHECK_EQ(sb_bench_srtp_unprotect(&b, pkt, &n, 0), srtp_err_status_replay_fail);
  /* a flipped payload bit of a new packet fails authentication */
  len = 100;
  memset(pkt + 12, 0, 88);
  pkt[3] = 8;
  CHECK_EQ(sb_bench_srtp_protect(&a, pkt, &len, 0), 0);
  pkt[20] ^= 1;
  n = len;
  CHECK_EQ(sb_bench_srtp_unprotect(&b, pkt, &n, 0), srtp_err_status_auth_fail);
  sb_bench_srtp_free(&a);
  sb_bench_srtp_free(&b);
  sb_bench_srtp_free(&b); /* twice is harmless */
}

/* ---- DTLS against an OpenSSL DTLS server standing in for the relay ------------------------- */

typedef struct {
  uint8_t buf[8][4096];
  size_t len[8];
  int n;
} dgrams_t;

static void collect(const uint8_t *b, size_t len, void *arg) {
  dgrams_t *d = arg;
  if (d->n < 8 && len <= sizeof d->buf[0]) {
    memcpy(d->buf[d->n], b, len);
    d->len[d->n++] = len;
  }
}

static int accept_any(int ok, X509_STORE_CTX *c) {
  (void)ok;
  (void)c;
  return 1;
}

typedef struct {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio, *wbio;
  char fp[100];
} server_t;

static int server_init(server_t *s, const char *profiles) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  unsigned char md[32];
  unsigned n = 0;
  memset(s->fp, 0, sizeof s->fp);
  if (!key || !x || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 7) ||
      !X509_gmtime_adj(X509_getm_notBefore(x), -60) || !X509_gmtime_adj(X509_getm_notAfter(x), 3600) ||
      !X509_set_pubkey(x, key) ||
      !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                  (const unsigned char *)"relay", -1, -1, 0) ||
      !X509_set_issuer_name(x, X509_get_subject_name(x)) || !X509_sign(x, key, EVP_sha256()) ||
      !X509_digest(x, EVP_sha256(), md, &n))
    return -1;
  for (unsigned i = 0; i < n; i++)
    snprintf(s->fp + 3 * i, 4, "%02x%s", md[i], i + 1 < n ? ":" : ""); /* lower case on purpose */
  s->ctx = SSL_CTX_new(DTLS_server_method());
  SSL_CTX_use_certificate(s->ctx, x);
  SSL_CTX_use_PrivateKey(s->ctx, key);
  SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
  SSL_CTX_set_tlsext_use_srtp(s->ctx, profiles);
  SSL_CTX_set_options(s->ctx, SSL_OP_NO_QUERY_MTU);
  X509_free(x);
  EVP_PKEY_free(key);
  s->ssl = SSL_new(s->ctx);
  s->rbio = BIO_new(BIO_s_mem());
  s->wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(s->rbio, -1);
  BIO_set_mem_eof_return(s->wbio, -1);
  SSL_set_bio(s->ssl, s->rbio, s->wbio);
  DTLS_set_link_mtu(s->ssl, 1200);
  SSL_set_accept_state(s->ssl);
  return 0;
}

static void server_free(server_t *s) {
  SSL_free(s->ssl);
  SSL_CTX_free(s->ctx);
}

/* Runs the handshake to its end; returns the client's last sb_bench_dtls_feed result. */
static int handshake(sb_bench_dtls_t *c, server_t *s) {
  dgrams_t out;
  uint8_t buf[8192];
  int r = 0;
  for (int round = 0; round < 10 && c->state == SB_DTLS_HANDSHAKE; round++) {
    memset(&out, 0, sizeof out);
    sb_bench_dtls_flush(c, collect, &out);
    for (int i = 0; i < out.n; i++)
      BIO_write(s->rbio, out.buf[i], (int)out.len[i]);
    SSL_do_handshake(s->ssl);
    while (BIO_ctrl_pending(s->wbio) > 0) {
      int n = BIO_read(s->wbio, buf, sizeof buf);
      if (n > 0)
        r = sb_bench_dtls_feed(c, buf, (size_t)n, 1000);
    }
  }
  memset(&out, 0, sizeof out);
  sb_bench_dtls_flush(c, collect, &out);
  for (int i = 0; i < out.n; i++)
    BIO_write(s->rbio, out.buf[i], (int)out.len[i]);
  SSL_do_handshake(s->ssl);
  return r;
}

SB_TEST(dtls_handshake_keys_match_the_server) {
  sb_bench_cert_t cert;
  sb_bench_dtls_t c;
  sb_bench_srtp_keys_t k;
  server_t s;
  uint8_t m[60];
  CHECK_EQ(sb_bench_cert_create(&cert, NULL), 0);
  CHECK_EQ(strlen(cert.fingerprint), 95);
  CHECK_EQ(server_init(&s, "SRTP_AES128_CM_SHA1_80"), 0);
  CHECK_EQ(sb_bench_dtls_start(&c, &cert, "sha-256", s.fp, 0), 0);
  CHECK_EQ(handshake(&c, &s), 1);
  CHECK_EQ(c.state, SB_DTLS_CONNECTED);
  CHECK_EQ(SSL_is_init_finished(s.ssl), 1);
  CHECK_EQ(sb_bench_dtls_keys(&c, &k), 0);
  CHECK_EQ(k.profile, SB_SRTP_PROFILE_AES128_CM_SHA1_80);
  CHECK_EQ(k.len, 30);
  CHECK_EQ(SSL_export_keying_material(s.ssl, m, 60, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0), 1);
  /* client key/salt first, then the server's: ours are "local" */
  CHECK(memcmp(k.local, m, 16) == 0 && memcmp(k.local + 16, m + 32, 14) == 0);
  CHECK(memcmp(k.remote, m + 16, 16) == 0 && memcmp(k.remote + 16, m + 46, 14) == 0);
  sb_bench_dtls_free(&c);
  server_free(&s);
  sb_bench_cert_destroy(&cert);
}

SB_TEST(dtls_prefers_gcm_when_offered) {
  sb_bench_cert_t cert;
  sb_bench_dtls_t c;
  sb_bench_srtp_keys_t k;
  server_t s;
  CHECK_EQ(sb_bench_cert_create(&cert, NULL), 0);
  CHECK_EQ(server_init(&s, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"), 0);
  CHECK_EQ(sb_bench_dtls_start(&c, &cert, "SHA-256", s.fp, 0), 0);
  CHECK_EQ(handshake(&c, &s), 1);
  CHECK_EQ(sb_bench_dtls_keys(&c, &k), 0);
  CHECK_EQ(k.profile, SB_SRTP_PROFILE_AEAD_AES_128_GCM);
  CHECK_EQ(k.len, 28);
  sb_bench_dtls_free(&c);
  server_free(&s);
  sb_bench_cert_destroy(&cert);
}

SB_TEST(dtls_wrong_fingerprint_fails) {
  sb_bench_cert_t cert;
  sb_bench_dtls_t c;
  sb_bench_srtp_keys_t k;
  server_t s;
  char fp[100];
  CHECK_EQ(sb_bench_cert_create(&cert, NULL), 0);
  CHECK_EQ(server_init(&s, "SRTP_AES128_CM_SHA1_80"), 0);
  snprintf(fp, sizeof fp, "%s", s.fp);
  fp[0] = fp[0] == '0' ? '1' : '0';
  CHECK_EQ(sb_bench_dtls_start(&c, &cert, "sha-256", fp, 0), 0);
  CHECK_EQ(handshake(&c, &s), -1);
  CHECK_EQ(c.state, SB_DTLS_FAILED);
  CHECK(strstr(c.error, "does not match") != NULL);
  CHECK_EQ(sb_bench_dtls_keys(&c, &k), -1);
  sb_bench_dtls_free(&c);
  server_free(&s);
  sb_bench_cert_destroy(&cert);
}

SB_TEST(dtls_refuses_other_fingerprint_algorithms) {
  sb_bench_cert_t cert;
  sb_bench_dtls_t c;
  CHECK_EQ(sb_bench_cert_create(&cert, NULL), 0);
  CHECK_EQ(sb_bench_dtls_start(&c, &cert, "sha-1", "AB:CD", 0), -1);
  CHECK_EQ(c.state, SB_DTLS_FAILED);
  CHECK_EQ(sb_bench_dtls_start(&c, &cert, "sha-256", "", 0), -1);
  sb_bench_dtls_free(&c);
  sb_bench_cert_destroy(&cert);
}

/* ---- ICE: our checks answered by libnice's server-side usage, as the relay does ------------- */

static int server_reply_as(const uint8_t *req, size_t len, const char *pwd, uint8_t *out, size_t *out_len,
                           int *use_candidate, bool controlling) {
  static StunAgent srv;
  StunMessage in, resp;
  StunDefaultValidaterData v[2] = {{(uint8_t *)"SRVU:CLIU", 9, (uint8_t *)pwd, strlen(pwd)},
                                   {NULL, 0, NULL, 0}};
  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000)};
  struct sockaddr_storage ss;
  bool control = controlling;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, &from, sizeof from);
  stun_agent_init(&srv, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  if (stun_agent_validate(&srv, &in, req, len, stun_agent_default_validater, v) != STUN_VALIDATION_SUCCESS)
    return -1;
  *use_candidate = stun_usage_ice_conncheck_use_candidate(&in);
  if (stun_usage_ice_conncheck_create_reply(&srv, &in, &resp, out, out_len, &ss, sizeof from, &control,
                                            42, STUN_USAGE_ICE_COMPATIBILITY_RFC5245) !=
      STUN_USAGE_ICE_RETURN_SUCCESS)
    return -1;
  return 0;
}

/* The relay: ICE-lite, so controlled. */
static int server_reply(const uint8_t *req, size_t len, const char *pwd, uint8_t *out, size_t *out_len,
                        int *use_candidate) {
  return server_reply_as(req, len, pwd, out, out_len, use_candidate, false);
}

SB_TEST(ice_check_answered_by_libnice) {
  static sb_bench_ice_t ice;
  uint8_t reply[512], out[512];
  size_t rlen = sizeof reply, olen = 0;
  int use = 0;
  struct sockaddr_in srv = {.sin_family = AF_INET};
  CHECK_EQ(sb_bench_ice_init(&ice, "CLIU", "clientpassword1234567890", "SRVU", "serverpassword1234567890"), 0);
  CHECK(sb_bench_ice_start_check(&ice, 1000) > 0);
  CHECK_EQ(server_reply(ice.req, ice.req_len, "serverpassword1234567890", reply, &rlen, &use), 0);
  CHECK_EQ(use, 1);
  CHECK_EQ(sb_bench_ice_handle(&ice, reply, rlen, (struct sockaddr *)&srv, sizeof srv, out, sizeof out,
                               &olen, 3000),
           SB_CONNCHECK_SUCCESS);
  CHECK_EQ(ice.outstanding, 0);
  CHECK_EQ(ice.rtt_us, 2000);
  /* the same response again belongs to no outstanding transaction */
  CHECK_EQ(sb_bench_ice_handle(&ice, reply, rlen, (struct sockaddr *)&srv, sizeof srv, out, sizeof out,
                               &olen, 3000),
           SB_CONNCHECK_IGNORED);
}

SB_TEST(ice_response_with_wrong_key_is_rejected) {
  static sb_bench_ice_t ice;
  uint8_t reply[512], out[512];
  size_t rlen = sizeof reply, olen = 0;
  int use = 0;
  struct sockaddr_in srv = {.sin_family = AF_INET};
  CHECK_EQ(sb_bench_ice_init(&ice, "CLIU", "clientpassword1234567890", "SRVU", "serverpassword1234567890"), 0);
  CHECK(sb_bench_ice_start_check(&ice, 0) > 0);
  /* a server that does not know our password cannot even validate the request */
  CHECK_EQ(server_reply(ice.req, ice.req_len, "anotherpassword123456789", reply, &rlen, &use), -1);
  rlen = sizeof reply;
  CHECK_EQ(server_reply(ice.req, ice.req_len, "serverpassword1234567890", reply, &rlen, &use), 0);
  reply[rlen - 20] ^= 0x40; /* inside the MESSAGE-INTEGRITY value (FINGERPRINT is the last 8) */
  CHECK_EQ(sb_bench_ice_handle(&ice, reply, rlen, (struct sockaddr *)&srv, sizeof srv, out, sizeof out,
                               &olen, 10),
           SB_CONNCHECK_ERROR);
  CHECK_EQ(ice.outstanding, 1);
  CHECK_EQ(sb_bench_ice_handle(&ice, (const uint8_t *)"garbage", 7, (struct sockaddr *)&srv, sizeof srv,
                               out, sizeof out, &olen, 10),
           SB_CONNCHECK_ERROR);
}

SB_TEST(ice_retransmits_then_gives_up) {
  static sb_bench_ice_t ice;
  uint64_t t = 0;
  int sends = 0, r;
  CHECK_EQ(sb_bench_ice_init(&ice, "a", "b", "c", "d"), 0);
  CHECK_EQ(sb_bench_ice_init(&ice, "", "b", "c", "d"), -1);
  CHECK_EQ(sb_bench_ice_init(&ice, "CLIU", "clientpassword1234567890", "SRVU", "serverpassword1234567890"), 0);
  CHECK(sb_bench_ice_start_check(&ice, t) > 0);
  CHECK_EQ(sb_bench_ice_poll(&ice, t + SB_CONNCHECK_RTO_US - 1), 0);
  while ((r = sb_bench_ice_poll(&ice, t += SB_CONNCHECK_RTO_US)) >= 0 && sends < 100)
    sends += r;
  CHECK_EQ(sends, SB_CONNCHECK_TRIES - 1);
  CHECK_EQ(ice.outstanding, 0);
}

/* ---- ICE toward a full agent (Janus): the controlled role, its checks, its keepalives -------- */

/* A check from a controlling full agent, as libnice's agent in Janus sends it. */
static size_t server_check(uint8_t *out, size_t cap, StunAgent *srv, StunTransactionId id) {
  StunMessage m;
  size_t n;
  stun_agent_init(srv, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  n = stun_usage_ice_conncheck_create(srv, &m, out, cap, (const uint8_t *)"CLIU:SRVU", 9,
                                      (const uint8_t *)"clientpassword1234567890", 24, true, true,
                                      0x6e0001ff, 77, NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  stun_message_id(&m, id);
  return n;
}

SB_TEST(ice_controlled_role_toward_a_controlling_agent) {
  static sb_bench_ice_t ice;
  static StunAgent srv;
  uint8_t reply[512], out[512], req[512];
  size_t rlen = sizeof reply, olen = 0, qlen;
  int use = 1;
  uint64_t tie;
  StunMessage m, resp;
  StunTransactionId id;
  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000)};
  struct sockaddr_storage mapped;
  socklen_t mlen = sizeof mapped;
  CHECK_EQ(sb_bench_ice_init(&ice, "CLIU", "clientpassword1234567890", "SRVU", "serverpassword1234567890"), 0);
  ice.controlled = 1;
  CHECK(sb_bench_ice_start_check(&ice, 0) > 0);
  /* our check: ICE-CONTROLLED, no USE-CANDIDATE (the controlling side nominates) */
  CHECK_EQ(server_reply_as(ice.req, ice.req_len, "serverpassword1234567890", reply, &rlen, &use, true), 0);
  CHECK_EQ(use, 0);
  memset(&m, 0, sizeof m);
  m.agent = &ice.agent;
  m.buffer = ice.req;
  m.buffer_len = ice.req_len;
  CHECK_EQ(stun_message_find64(&m, STUN_ATTRIBUTE_ICE_CONTROLLED, &tie), STUN_MESSAGE_RETURN_SUCCESS);
  CHECK(stun_message_find64(&m, STUN_ATTRIBUTE_ICE_CONTROLLING, &tie) != STUN_MESSAGE_RETURN_SUCCESS);
  /* its check: answered with a success, no role conflict */
  qlen = server_check(req, sizeof req, &srv, id);
  CHECK(qlen > 0);
  CHECK_EQ(sb_bench_ice_handle(&ice, req, qlen, (struct sockaddr *)&from, sizeof from, out, sizeof out,
                               &olen, 10),
           SB_CONNCHECK_REPLY);
  CHECK_EQ(ice.replied, 1);
  CHECK_EQ(stun_agent_validate(&srv, &resp, out, olen, NULL, NULL), STUN_VALIDATION_SUCCESS);
  CHECK_EQ(stun_usage_ice_conncheck_process(&resp, &mapped, &mlen, STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
           STUN_USAGE_ICE_RETURN_SUCCESS);
}

SB_TEST(ice_binding_indications_are_ignored) {
  static sb_bench_ice_t ice;
  static StunAgent srv;
  uint8_t ind[64], out[512];
  size_t olen = 0, n;
  StunMessage m;
  struct sockaddr_in from = {.sin_family = AF_INET};
  CHECK_EQ(sb_bench_ice_init(&ice, "CLIU", "clientpassword1234567890", "SRVU", "serverpassword1234567890"), 0);
  stun_agent_init(&srv, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389, STUN_AGENT_USAGE_USE_FINGERPRINT);
  CHECK(stun_agent_init_indication(&srv, &m, ind, sizeof ind, STUN_BINDING));
  n = stun_agent_finish_message(&srv, &m, NULL, 0);
  CHECK(n > 0);
  CHECK_EQ(sb_bench_ice_handle(&ice, ind, n, (struct sockaddr *)&from, sizeof from, out, sizeof out, &olen, 0),
           SB_CONNCHECK_IGNORED);
  CHECK_EQ(ice.indications, 1);
  CHECK_EQ(ice.failed, 0);
}
