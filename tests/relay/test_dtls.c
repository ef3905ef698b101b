/* DTLS-SRTP handshake between sb_dtls (server) and a plain OpenSSL DTLS client in memory. */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "relay/dtls.h"
#include "relay/srtp.h"
#include "sbtest.h"

typedef struct {
  uint8_t data[16][2048];
  size_t len[16];
  int n;
} dgrams_t;

static void collect(void *arg, const uint8_t *data, size_t len) {
  dgrams_t *q = arg;
  if (q->n < 16 && len <= sizeof q->data[0]) {
    memcpy(q->data[q->n], data, len);
    q->len[q->n++] = len;
  }
}

typedef struct {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in, *out;
  char fp[200];
} client_t;

static int client_init(client_t *c, const char *profiles) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  uint8_t md[64];
  unsigned mdlen;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, (const unsigned char *)"c", -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());
  c->ctx = SSL_CTX_new(DTLS_client_method());
  SSL_CTX_use_certificate(c->ctx, cert);
  SSL_CTX_use_PrivateKey(c->ctx, key);
  SSL_CTX_set_tlsext_use_srtp(c->ctx, profiles);
  X509_digest(cert, EVP_sha256(), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(c->fp + 3 * i, 4, i + 1 < mdlen ? "%02x:" : "%02x", md[i]);
  X509_free(cert);
  EVP_PKEY_free(key);
  c->ssl = SSL_new(c->ctx);
  c->in = BIO_new(BIO_s_mem());
  c->out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c->in, -1);
  SSL_set_bio(c->ssl, c->in, c->out);
  SSL_set_connect_state(c->ssl);
  return 0;
}

static void client_free(client_t *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
}

/* Runs the handshake; returns the server's final state. */
static sb_dtls_state_t run(client_t *c, sb_dtls_t *d, dgrams_t *q) {
  sb_dtls_state_t st = SB_DTLS_HANDSHAKING;
  for (int round = 0; round < 10 && st == SB_DTLS_HANDSHAKING; round++) {
    SSL_do_handshake(c->ssl);
    uint8_t buf[4096];
    int n;
    while ((n = BIO_read(c->out, buf, sizeof buf)) > 0)
      st = sb_dtls_feed(d, buf, (size_t)n);
    for (int i = 0; i < q->n; i++)
      BIO_write(c->in, q->data[i], (int)q->len[i]);
    q->n = 0;
  }
  SSL_do_handshake(c->ssl);
  return st;
}

/* The client's close_notify, fed to the session: its state after it (-1: nothing was sent). */
static int close_notify(client_t *c, sb_dtls_t *d) {
  uint8_t buf[4096];
  SSL_shutdown(c->ssl);
  int n = BIO_read(c->out, buf, sizeof buf);
  return n > 0 ? (int)sb_dtls_feed(d, buf, (size_t)n) : -1;
}

static int handshake(const char *profiles, int expect_profile) {
  sb_dtls_ctx_t *ctx = sb_dtls_ctx_create();
  client_t c;
  dgrams_t q = {0};
  int ok = 0;
  client_init(&c, profiles);
  sb_dtls_t *d = sb_dtls_create(ctx, "sha-256", c.fp, collect, &q);
  if (d && run(&c, d, &q) == SB_DTLS_CONNECTED && SSL_is_init_finished(c.ssl)) {
    const sb_srtp_keys_t *k = sb_dtls_keys(d);
    uint8_t m[60];
    size_t kl = 16, sl = expect_profile == SB_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    SSL_export_keying_material(c.ssl, m, 2 * (kl + sl), "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0);
    /* The server's local key is the client's server-write key, and the reverse. */
    ok = k && k->profile == expect_profile && memcmp(k->local_key, m + kl, kl) == 0 &&
         memcmp(k->remote_key, m, kl) == 0 && memcmp(k->remote_key + kl, m + 2 * kl, sl) == 0 &&
         memcmp(k->local_key + kl, m + 2 * kl + sl, sl) == 0;
    sb_srtp_t srtp = {0};
    ok = ok && sb_srtp_init(&srtp, k) == 0;
    sb_srtp_clear(&srtp);
  }
  sb_dtls_destroy(d);
  client_free(&c);
  sb_dtls_ctx_destroy(ctx);
  return ok;
}

SB_TEST(handshake_prefers_gcm_and_keys_match) {
  CHECK_EQ(sb_srtp_global_init(), 0);
  CHECK(handshake("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", SB_SRTP_AEAD_AES_128_GCM));
}

SB_TEST(handshake_with_browser_profile_only) {
  CHECK_EQ(sb_srtp_global_init(), 0);
  CHECK(handshake("SRTP_AES128_CM_SHA1_80", SB_SRTP_AES128_CM_SHA1_80));
}

SB_TEST(fingerprint_mismatch_fails_without_keys) {
  sb_dtls_ctx_t *ctx = sb_dtls_ctx_create();
  client_t c;
  dgrams_t q = {0};
  client_init(&c, "SRTP_AES128_CM_SHA1_80");
  char wrong[200];
  snprintf(wrong, sizeof wrong, "%s", c.fp);
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  sb_dtls_t *d = sb_dtls_create(ctx, "sha-256", wrong, collect, &q);
  CHECK(d != NULL);
  CHECK_EQ(run(&c, d, &q), SB_DTLS_FAILED);
  CHECK(sb_dtls_keys(d) == NULL);
  CHECK(strstr(sb_dtls_error(d), "fingerprint") != NULL);
  sb_dtls_destroy(d);
  client_free(&c);
  sb_dtls_ctx_destroy(ctx);
}

/* Regressions found by fuzz_dtls: a forged protected record shorter than GCM's nonce and tag
 * (OpenSSL 3.0 answered it with a fatal alert and the session read nothing more), and
 * application data longer than one read before a close_notify (the close_notify went unread). */
SB_TEST(forged_short_record_and_long_data_keep_the_session) {
  sb_dtls_ctx_t *ctx = sb_dtls_ctx_create();
  client_t c;
  dgrams_t q = {0};
  uint8_t buf[4096], big[1000];
  int n;
  client_init(&c, "SRTP_AEAD_AES_128_GCM");
  sb_dtls_t *d = sb_dtls_create(ctx, "sha-256", c.fp, collect, &q);
  CHECK(d != NULL);
  CHECK_EQ(run(&c, d, &q), SB_DTLS_CONNECTED);
  q.n = 0;
  static const uint8_t forged[] = {0x15, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0, 0x07, 0x00, 0x02,
                                   0x05, 0x02};
  CHECK_EQ(sb_dtls_feed(d, forged, sizeof forged), SB_DTLS_CONNECTED);
  CHECK_EQ(q.n, 0); /* no alert went to the peer */
  memset(big, 'x', sizeof big);
  CHECK(SSL_write(c.ssl, big, sizeof big) > 0);
  while ((n = BIO_read(c.out, buf, sizeof buf)) > 0)
    CHECK_EQ(sb_dtls_feed(d, buf, (size_t)n), SB_DTLS_CONNECTED);
  CHECK_EQ(close_notify(&c, d), SB_DTLS_CLOSED);
  sb_dtls_destroy(d);
  client_free(&c);
  sb_dtls_ctx_destroy(ctx);
}

/* Regression found by fuzz_dtls: a datagram whose first record header claims more bytes than
 * the datagram holds, with a short protected record behind it. OpenSSL read on past the first
 * header, met the short record and could read nothing more: the peer's genuine close_notify
 * went unread. Such a datagram is dropped whole; the session still reads the close_notify. */
SB_TEST(a_datagram_its_records_do_not_fill_is_dropped_whole) {
  sb_dtls_ctx_t *ctx = sb_dtls_ctx_create();
  client_t c;
  dgrams_t q = {0};
  client_init(&c, "SRTP_AES128_CM_SHA1_80");
  sb_dtls_t *d = sb_dtls_create(ctx, "sha-256", c.fp, collect, &q);
  CHECK(d != NULL);
  CHECK_EQ(run(&c, d, &q), SB_DTLS_CONNECTED);
  q.n = 0;
  /* fuzz_dtls's datagram: a header of an unknown type claiming 0x141f bytes, and behind it,
   * among other bytes, a 2-byte alert in epoch 1 */
  static const uint8_t forged[] = {
      0x1c, 0x5f, 0x75, 0x65, 0x12, 0x57, 0xef, 0x2c, 0x82, 0x90, 0xa5, 0x14, 0x1f, 0x95,
      0x6a, 0x8e, 0xa8, 0x02, 0xd5, 0xbf, 0x76, 0xcb, 0xad, 0xdb, 0x14, 0x01, 0x00, 0x01,
      0x78, 0x38, 0x48, 0x9e, 0x91, 0x9c, 0x28, 0x77, 0xb9, 0x82, 0x48, 0x89, 0xdc, 0x9a,
      0xb1, 0x1a, 0xb4, 0xd1, 0xf1, 0xdf, 0x01, 0xf0, 0xd0, 0xcd, 0x87, 0x44, 0x39, 0xe1,
      0x74, 0x01, 0x00, 0x01, 0xb2, 0x47, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x78, 0x00, 0x00, 0x0f, 0x15, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x07, 0x00, 0x02, 0x02, 0x00,
  };
  CHECK_EQ(sb_dtls_feed(d, forged, sizeof forged), SB_DTLS_CONNECTED);
  CHECK_STR(sb_dtls_error(d), "none");
  CHECK_EQ(q.n, 0);
  CHECK_EQ(close_notify(&c, d), SB_DTLS_CLOSED);
  sb_dtls_destroy(d);
  client_free(&c);
  sb_dtls_ctx_destroy(ctx);
}

SB_TEST(bad_fingerprint_text_is_refused) {
  sb_dtls_ctx_t *ctx = sb_dtls_ctx_create();
  dgrams_t q = {0};
  CHECK(sb_dtls_create(ctx, "sha-256", "AB:CD", collect, &q) == NULL);
  CHECK(sb_dtls_create(ctx, "md5", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", collect, &q) == NULL);
  CHECK(sb_dtls_create(ctx, "sha-256", "zz", collect, &q) == NULL);
  uint8_t b[4];
  CHECK_EQ(sb_fingerprint_parse("0A:1b", b, 4), 2);
  CHECK_EQ(b[1], 0x1b);
  CHECK_EQ(sb_fingerprint_parse("0A:1", b, 4), -1);
  CHECK_EQ(sb_fingerprint_parse("0A1B", b, 4), -1);
  sb_dtls_ctx_destroy(ctx);
}

SB_TEST(certificate_fingerprint_is_sha256_hex) {
  sb_dtls_ctx_t *ctx = sb_dtls_ctx_create();
  CHECK(ctx != NULL);
  CHECK_EQ(strlen(sb_dtls_ctx_fingerprint(ctx)), 32 * 3 - 1);
  sb_dtls_ctx_destroy(ctx);
}
