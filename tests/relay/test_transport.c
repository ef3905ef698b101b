/* A transport on a fake environment, fed what a browser sends: connectivity checks (the
 * address the worker's ICE agent validated), a DTLS handshake from an OpenSSL client, SRTP and
 * SRTCP protected with known keys; and its timers driven by a fake clock. */
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "relay_fixture.h"
#include "sbtest.h"

/* A UDP path from 127.0.0.1:port. */
static sb_path_t addr(uint16_t port) {
  sb_path_t p;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  memset(&p, 0, sizeof p);
  memcpy(&p.addr, &a, sizeof a);
  p.len = sizeof a;
  return p;
}

SB_TEST(checks_bind_the_address_and_only_a_nomination_moves_it) {
  fx_env_t f;
  fx_env_init(&f);
  sb_cmd_t *cmd = fx_create_cmd(1, 1);
  sb_transport_t *t = sb_transport_create(&f.env, cmd);
  free(cmd);
  CHECK(t != NULL);
  sb_path_t a = addr(5000), b = addr(5001);
  CHECK_EQ(sb_transport_on_check(t, &a, 0), 1); /* first check binds */
  CHECK_EQ(t->state, SB_TRANSPORT_ICE);
  f.env.now_ms += 1000;
  CHECK_EQ(sb_transport_on_check(t, &a, 0), 0); /* consent refreshed */
  CHECK_EQ(t->last_consent_ms, f.env.now_ms);
  CHECK_EQ(sb_transport_on_check(t, &b, 0), 0); /* not nominated */
  CHECK_EQ(sb_transport_on_check(t, &b, 1), 1); /* nominated: moves */
  CHECK_EQ(ntohs(((struct sockaddr_in *)&t->path.addr)->sin_port), 5001);
  sb_transport_destroy(t, "test");
}

SB_TEST(a_tcp_path_is_selected_like_an_address_and_lost_when_its_connection_closes) {
  fx_env_t f;
  fx_env_init(&f);
  sb_cmd_t *cmd = fx_create_cmd(1, 1);
  sb_transport_t *t = sb_transport_create(&f.env, cmd);
  free(cmd);
  CHECK(t != NULL);
  /* The same remote address over UDP and over a TCP connection are two candidate pairs. */
  sb_path_t udp = addr(5000), tcp = addr(5000);
  tcp.tcp = (sb_tcp_conn_t *)&tcp; /* opaque to the transport: any pointer names it */
  CHECK_EQ(sb_transport_on_check(t, &tcp, 0), 1); /* the first check binds, over TCP */
  CHECK(t->path.tcp == tcp.tcp);
  CHECK_EQ(sb_transport_on_check(t, &udp, 0), 0); /* UDP not nominated: stays on TCP */
  uint8_t rtcp[64 + SB_SRTP_MAX_TRAILER] = {0};
  t->state = SB_TRANSPORT_ICE;
  sb_dtls_tick(t->dtls); /* nothing to send yet as a DTLS server */
  CHECK_EQ(sb_transport_on_check(t, &udp, 1), 1); /* nominated: UDP */
  CHECK(t->path.tcp == NULL);
  CHECK_EQ(sb_transport_on_check(t, &tcp, 1), 1); /* and back */
  sb_transport_lose_path(t);
  CHECK_EQ(t->has_addr, 0);
  CHECK_EQ(t->path.len, 0);
  sb_transport_send_rtcp(t, rtcp, 8); /* no path, not connected: nothing goes out */
  CHECK_EQ(f.nsent, 0);
  f.env.now_ms += 1000;
  CHECK_EQ(sb_transport_on_check(t, &udp, 0), 1); /* any valid check binds again */
  CHECK_EQ(t->last_consent_ms, f.env.now_ms);
  sb_transport_destroy(t, "test");
}

SB_TEST(setup_and_consent_time_out_on_the_clock) {
  fx_env_t f;
  fx_env_init(&f);
  sb_cmd_t *cmd = fx_create_cmd(1, 1);
  sb_transport_t *t = sb_transport_create(&f.env, cmd);
  free(cmd);
  CHECK(t != NULL);
  CHECK(sb_transport_tick(t, f.env.now_ms + SB_SETUP_TIMEOUT_MS) == NULL);
  CHECK_STR(sb_transport_tick(t, f.env.now_ms + SB_SETUP_TIMEOUT_MS + 1), "setup_timeout");
  sb_transport_destroy(t, NULL);
  CHECK_EQ(f.nevents, 0); /* destroyed without a reason: no event */

  t = fx_transport(&f, 2, 1);
  CHECK(sb_transport_tick(t, f.env.now_ms + SB_CONSENT_TIMEOUT_MS) == NULL);
  CHECK_STR(sb_transport_tick(t, f.env.now_ms + SB_CONSENT_TIMEOUT_MS + 1), "consent_expired");
  sb_transport_destroy(t, "consent_expired");
  CHECK_EQ(f.nevents, 1);
  CHECK_EQ(f.events[0], SB_EV_TRANSPORT_CLOSED);
  CHECK_EQ(f.event_transport[0], 2);
}

/* A client that never sends consent requests (libnice, webrtcbin) but sends media stays: SRTP
 * and SRTCP that authenticate renew consent; forged packets do not; silence still expires. */
SB_TEST(authenticated_media_renews_consent) {
  fx_env_t f;
  fx_peer_t peer;
  fx_env_init(&f);
  sb_transport_t *t = fx_transport(&f, 1, 1);
  fx_peer_init(&peer, 1);
  uint8_t plain[SB_PKT_BUF], buf[SB_PKT_BUF];
  uint64_t start = f.env.now_ms;
  f.env.now_ms = start + SB_CONSENT_TIMEOUT_MS - 1000;
  size_t n = fx_vp8(plain, t->producers[1]->ssrc, 10, 900, 1, 1, 1);
  fx_peer_send(&peer, t, plain, n, 0);
  CHECK_EQ(t->producers[1]->packets, 1);
  CHECK(sb_transport_tick(t, start + SB_CONSENT_TIMEOUT_MS + 1) == NULL);

  f.env.now_ms = start + 2 * SB_CONSENT_TIMEOUT_MS - 2000;
  sb_rtcp_sr_t sr = {.ssrc = t->producers[1]->ssrc, .ntp = 1, .rtp_ts = 900};
  int len = sb_rtcp_build_sr(plain, 200, &sr);
  fx_peer_send(&peer, t, plain, (size_t)len, 1);
  CHECK(sb_transport_tick(t, start + 2 * SB_CONSENT_TIMEOUT_MS) == NULL);

  /* A packet that fails authentication is no proof of life. */
  uint64_t last = f.env.now_ms;
  f.env.now_ms = last + SB_CONSENT_TIMEOUT_MS / 2;
  n = fx_vp8(plain, t->producers[1]->ssrc, 11, 990, 2, 0, 1);
  memcpy(buf, plain, n);
  len = (int)n;
  sb_srtp_keys_t k = fx_keys(1, 1);
  sb_srtp_t forger;
  CHECK_EQ(sb_srtp_init(&forger, &k), 0);
  sb_srtp_protect(&forger, buf, &len);
  sb_srtp_clear(&forger);
  buf[len - 1] ^= 1;
  sb_transport_on_rtp(t, buf, (size_t)len);
  CHECK_EQ(f.env.stats.drop_srtp, 1);
  CHECK_STR(sb_transport_tick(t, last + SB_CONSENT_TIMEOUT_MS + 1), "consent_expired");
  fx_peer_fini(&peer);
  sb_transport_destroy(t, "test");
}

SB_TEST(srtp_with_known_keys_reaches_the_producer_and_bad_packets_are_counted) {
  fx_env_t f;
  fx_peer_t peer;
  fx_env_init(&f);
  sb_transport_t *t = fx_transport(&f, 1, 1);
  fx_peer_init(&peer, 1);
  sb_producer_t *video = t->producers[1];
  uint8_t plain[SB_PKT_BUF], buf[SB_PKT_BUF];
  size_t n = fx_vp8(plain, video->ssrc, 10, 900, 1, 1, 1);

  t->admitted = 0; /* not admitted yet: nothing is even decrypted */
  fx_peer_send(&peer, t, plain, n, 0);
  CHECK_EQ(f.env.stats.drop_not_admitted, 1);
  t->admitted = 1;

  fx_peer_send(&peer, t, plain, n, 0);
  CHECK_EQ(video->packets, 1);
  CHECK_EQ(video->width, 640);

  /* The same packet again (a replay) and a tampered one are dropped and counted. */
  memcpy(buf, plain, n);
  int len = (int)n;
  sb_srtp_t again;
  sb_srtp_keys_t k = fx_keys(1, 1);
  CHECK_EQ(sb_srtp_init(&again, &k), 0);
  CHECK_EQ(sb_srtp_protect(&again, buf, &len), 0);
  sb_srtp_clear(&again);
  sb_transport_on_rtp(t, buf, (size_t)len);
  CHECK_EQ(f.env.stats.drop_srtp, 1);
  n = fx_vp8(plain, video->ssrc, 11, 990, 2, 0, 1);
  memcpy(buf, plain, n);
  len = (int)n;
  k = fx_keys(1, 1);
  CHECK_EQ(sb_srtp_init(&again, &k), 0);
  sb_srtp_protect(&again, buf, &len);
  sb_srtp_clear(&again);
  buf[len - 1] ^= 1;
  sb_transport_on_rtp(t, buf, (size_t)len);
  CHECK_EQ(f.env.stats.drop_srtp, 2);
  CHECK_EQ(video->packets, 1);

  /* An SSRC no producer has and no mid binds is dropped as malformed. */
  n = fx_vp8(plain, 777, 12, 1000, 3, 0, 1);
  fx_peer_send(&peer, t, plain, n, 0);
  CHECK_EQ(f.env.stats.drop_malformed, 1);

  /* SRTCP: a sender report is taken for the producer's receiver reports. */
  sb_rtcp_sr_t sr = {.ssrc = video->ssrc, .ntp = 0x0123456789abcdefull, .rtp_ts = 900};
  len = sb_rtcp_build_sr(plain, 200, &sr);
  CHECK(len > 0);
  fx_peer_send(&peer, t, plain, (size_t)len, 1);
  CHECK_EQ(video->rx.last_sr_mid, 0x456789ab);
  fx_peer_fini(&peer);
  sb_transport_destroy(t, "test");
}

/* --- DTLS from an OpenSSL client, through the transport --- */

typedef struct {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in, *out;
  char fp[100]; /* SHA-256: 32 bytes as "AB:" */
} client_t;

static void client_init(client_t *c) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  uint8_t md[64];
  unsigned mdlen;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());
  c->ctx = SSL_CTX_new(DTLS_client_method());
  SSL_CTX_use_certificate(c->ctx, cert);
  SSL_CTX_use_PrivateKey(c->ctx, key);
  SSL_CTX_set_tlsext_use_srtp(c->ctx, "SRTP_AES128_CM_SHA1_80");
  X509_digest(cert, EVP_sha256(), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(c->fp + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
  X509_free(cert);
  EVP_PKEY_free(key);
  c->ssl = SSL_new(c->ctx);
  c->in = BIO_new(BIO_s_mem());
  c->out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c->in, -1);
  SSL_set_bio(c->ssl, c->in, c->out);
  SSL_set_connect_state(c->ssl);
}

SB_TEST(a_dtls_handshake_keys_srtp_and_reports_connected) {
  fx_env_t f;
  client_t c;
  fx_env_init(&f);
  client_init(&c);
  sb_cmd_t *cmd = fx_create_cmd(1, 1);
  snprintf(cmd->u.create.fp, sizeof cmd->u.create.fp, "%s", c.fp);
  sb_transport_t *t = sb_transport_create(&f.env, cmd);
  free(cmd);
  CHECK(t != NULL);
  sb_path_t a = addr(5000);
  sb_transport_on_check(t, &a, 1);
  int from = 0;
  for (int round = 0; round < 10 && t->state != SB_TRANSPORT_CONNECTED; round++) {
    uint8_t buf[4096];
    int n;
    SSL_do_handshake(c.ssl);
    while ((n = BIO_read(c.out, buf, sizeof buf)) > 0)
      sb_transport_on_dtls(t, buf, (size_t)n);
    for (; from < f.nsent; from++) { /* the transport's flights, as control datagrams */
      CHECK_EQ(f.sent[from].media, 0);
      CHECK_EQ(fx_port(&f.sent[from]), 5000);
      BIO_write(c.in, f.sent[from].data, (int)f.sent[from].len);
    }
  }
  SSL_do_handshake(c.ssl);
  CHECK_EQ(t->state, SB_TRANSPORT_CONNECTED);
  CHECK(SSL_is_init_finished(c.ssl));
  CHECK(t->srtp.in && t->srtp.out);
  CHECK_EQ(f.nevents, 1);
  CHECK_EQ(f.events[0], SB_EV_TRANSPORT_CONNECTED);

  /* The client's SRTP (keys from its own export) reaches the producer. */
  uint8_t m[60], plain[SB_PKT_BUF];
  SSL_export_keying_material(c.ssl, m, 60, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0);
  sb_srtp_keys_t k = {.profile = SB_SRTP_AES128_CM_SHA1_80, .key_len = 30};
  memcpy(k.local_key, m, 16), memcpy(k.local_key + 16, m + 32, 14);
  memcpy(k.remote_key, m + 16, 16), memcpy(k.remote_key + 16, m + 46, 14);
  sb_srtp_t client;
  CHECK_EQ(sb_srtp_init(&client, &k), 0);
  size_t n = fx_vp8(plain, t->producers[1]->ssrc, 1, 90, 1, 1, 1);
  int len = (int)n;
  CHECK_EQ(sb_srtp_protect(&client, plain, &len), 0);
  sb_transport_on_rtp(t, plain, (size_t)len);
  CHECK_EQ(t->producers[1]->packets, 1);
  sb_srtp_clear(&client);
  sb_transport_destroy(t, "test");
  CHECK_EQ(f.events[1], SB_EV_TRANSPORT_CLOSED);
  SSL_free(c.ssl);
  SSL_CTX_free(c.ctx);
}

SB_TEST(destroy_accepts_null) { sb_transport_destroy(NULL, "x"); }
