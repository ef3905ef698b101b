/* libFuzzer target for the relay's DTLS endpoint (relay/dtls.c over OpenSSL), fed as a transport
 * feeds it: datagrams that the demultiplexer classifies as DTLS (relay/rtp.c) go to
 * sb_dtls_feed(), and sb_dtls_tick() runs between them. The server side uses the relay's own
 * context (sb_dtls_ctx_create: its certificate, SRTP profiles, groups); the peer is an
 * in-process OpenSSL DTLS client with a certificate of its own, whose fingerprint the session
 * expects, as a=fingerprint would say.
 *
 * Built and run by the fuzz tree (scripts/test.sh, -DSB_FUZZ=ON, clang; tests/fuzz/run.sh); by
 * hand: build-fuzz/tests/fuzz_dtls -max_total_time=60 CORPUS_DIR tests/fuzz/corpus/dtls
 * The seeds are written by the target itself: SB_FUZZ_DTLS_SEEDS=DIR build-fuzz/tests/fuzz_dtls
 * -runs=0 (a real client's flights and records, so they change with OpenSSL's version).
 *
 * Input: a mode byte, then chunks of [tag, length (2 bytes, big endian), bytes].
 *  mode % 3 == 0, before a handshake: each chunk is a datagram from anyone. The session must
 *    never be CONNECTED nor hand out keys (it cannot be: no one else holds the client's key).
 *  mode % 3 == 1, after a handshake: the client and the relay complete a handshake first; its
 *    keys must be the client's (RFC 5764 §4.2 order). Then per chunk, by tag % 3: a raw datagram;
 *    the bytes sent by the client as application data (authentic records the relay reads and
 *    drops); or the client's close_notify. The session must stay CONNECTED with the same keys
 *    until a close_notify, and CLOSED (no keys) after it.
 *  mode % 3 == 2, a tampered handshake: chunk i's bytes are XORed into the client's i-th
 *    flight before the relay gets it. If the relay says CONNECTED, the client must have finished
 *    the same handshake and hold the same keys.
 * Memory errors and leaks are findings too (the session is destroyed after each input). */
#include "relay/dtls.h"
#include "relay/rtp.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REQUIRE(c)                                                                          \
  do {                                                                                     \
    if (!(c))                                                                              \
      __builtin_trap();                                                                    \
  } while (0)

static sb_dtls_ctx_t *server_ctx;
static SSL_CTX *client_ctx[2]; /* offering AES_CM_128_HMAC_SHA1_80 only, and GCM too */
static char client_fp[3 * EVP_MAX_MD_SIZE + 1];

/* --- the client: its certificate and context --- */

static int client_setup(void) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (!key || !cert)
    return -1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             (const unsigned char *)"fuzz-client", -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  if (!X509_sign(cert, key, EVP_sha256()) || !X509_digest(cert, EVP_sha256(), md, &mdlen))
    return -1;
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(client_fp + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
  static const char *profiles[2] = {"SRTP_AES128_CM_SHA1_80",
                                    "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"};
  for (int i = 0; i < 2; i++) {
    SSL_CTX *c = SSL_CTX_new(DTLS_client_method());
    if (!c || SSL_CTX_use_certificate(c, cert) != 1 || SSL_CTX_use_PrivateKey(c, key) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(c, profiles[i]) != 0)
      return -1;
    SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    client_ctx[i] = c;
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return 0;
}

/* What the relay sends goes to the client's read BIO (when there is a client). */
typedef struct {
  SSL *client;
  size_t sent;
} peer_t;

static void on_send(void *arg, const uint8_t *data, size_t len) {
  peer_t *p = arg;
  p->sent += len;
  if (p->client)
    BIO_write(SSL_get_rbio(p->client), data, (int)len);
}

static SSL *client_new(int gcm) {
  SSL *c = SSL_new(client_ctx[gcm]);
  BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(r, -1);
  SSL_set_bio(c, r, w);
  SSL_set_mtu(c, 1200);
  DTLS_set_link_mtu(c, 1200);
  SSL_set_connect_state(c);
  return c;
}

/* The client's pending output as one datagram (a flight may hold several records). */
static size_t client_take(SSL *c, uint8_t *out, size_t cap) {
  int n = BIO_read(SSL_get_wbio(c), out, (int)cap);
  return n > 0 ? (size_t)n : 0;
}

/* The keys the client derived, in the relay's terms (its remote key is the client's). */
static int client_keys(SSL *c, sb_srtp_keys_t *k) {
  SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(c);
  uint8_t m[60];
  size_t salt;
  if (!p)
    return -1;
  salt = p->id == SB_SRTP_AEAD_AES_128_GCM ? 12 : 14;
  if (SSL_export_keying_material(c, m, 2 * (16 + salt), "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1)
    return -1;
  memset(k, 0, sizeof *k);
  memcpy(k->remote_key, m, 16);
  memcpy(k->remote_key + 16, m + 32, salt);
  memcpy(k->local_key, m + 16, 16);
  memcpy(k->local_key + 16, m + 32 + salt, salt);
  k->key_len = 16 + salt;
  k->profile = (int)p->id;
  return 0;
}

static int same_keys(const sb_srtp_keys_t *a, const sb_srtp_keys_t *b) {
  return a->profile == b->profile && a->key_len == b->key_len &&
         memcmp(a->local_key, b->local_key, a->key_len) == 0 &&
         memcmp(a->remote_key, b->remote_key, a->key_len) == 0;
}

/* --- chunks of the input --- */

typedef struct {
  const uint8_t *p, *end;
} reader_t;

static int next_chunk(reader_t *r, uint8_t *tag, const uint8_t **bytes, size_t *len) {
  if (r->end - r->p < 3)
    return 0;
  *tag = r->p[0];
  size_t want = (size_t)r->p[1] << 8 | r->p[2];
  r->p += 3;
  *len = want < (size_t)(r->end - r->p) ? want : (size_t)(r->end - r->p);
  *bytes = r->p;
  r->p += *len;
  return 1;
}

/* A transport hands the session only what the demultiplexer calls DTLS. */
static sb_dtls_state_t feed(sb_dtls_t *d, const uint8_t *data, size_t len) {
  if (sb_pkt_classify(data, len) == SB_PKT_DTLS)
    sb_dtls_feed(d, data, len);
  sb_dtls_tick(d);
  return sb_dtls_state(d);
}

/* Runs the handshake; flight i of the client is XORed with chunk i when `r` is given. Returns
 * the relay's state at the end. */
static sb_dtls_state_t handshake(sb_dtls_t *d, SSL *c, reader_t *r) {
  static uint8_t flight[16384];
  for (int round = 0; round < 8 && sb_dtls_state(d) == SB_DTLS_HANDSHAKING; round++) {
    SSL_do_handshake(c);
    size_t n = client_take(c, flight, sizeof flight);
    uint8_t tag;
    const uint8_t *x;
    size_t xl;
    if (r && next_chunk(r, &tag, &x, &xl))
      for (size_t i = 0; i < xl && i < n; i++)
        flight[(i + (size_t)tag * 7) % n] ^= x[i];
    if (n == 0)
      break;
    sb_dtls_feed(d, flight, n);
  }
  SSL_do_handshake(c); /* reads the relay's last flight */
  return sb_dtls_state(d);
}

static void before_handshake(reader_t *r) {
  peer_t peer = {0};
  sb_dtls_t *d = sb_dtls_create(server_ctx, "sha-256", client_fp, on_send, &peer);
  uint8_t tag;
  const uint8_t *b;
  size_t n;
  REQUIRE(d);
  while (next_chunk(r, &tag, &b, &n)) {
    sb_dtls_state_t st = feed(d, b, n);
    REQUIRE(st == SB_DTLS_HANDSHAKING || st == SB_DTLS_FAILED);
    REQUIRE(sb_dtls_keys(d) == NULL);
  }
  sb_dtls_destroy(d);
}

static void after_handshake(reader_t *r, int gcm) {
  peer_t peer = {0};
  SSL *c = client_new(gcm);
  sb_dtls_t *d = sb_dtls_create(server_ctx, "sha-256", client_fp, on_send, &peer);
  sb_srtp_keys_t want;
  static uint8_t out[70000];
  uint8_t tag;
  const uint8_t *b;
  size_t n;
  REQUIRE(c && d);
  peer.client = c;
  REQUIRE(handshake(d, c, NULL) == SB_DTLS_CONNECTED);
  REQUIRE(SSL_is_init_finished(c) && client_keys(c, &want) == 0);
  REQUIRE(same_keys(sb_dtls_keys(d), &want));
  REQUIRE(want.profile == (gcm ? SB_SRTP_AEAD_AES_128_GCM : SB_SRTP_AES128_CM_SHA1_80));
  peer.client = NULL; /* later answers (alerts, retransmits) are not read */
  int closed = 0;
  while (next_chunk(r, &tag, &b, &n)) {
    switch (tag % 3) {
    case 0:
      feed(d, b, n);
      break;
    case 1:
      if (n > 0 && !closed && SSL_write(c, b, (int)n) > 0) {
        size_t m = client_take(c, out, sizeof out);
        feed(d, out, m);
      }
      ERR_clear_error();
      break;
    default:
      if (!closed && SSL_shutdown(c) >= 0) {
        size_t m = client_take(c, out, sizeof out);
        closed = 1;
        REQUIRE(feed(d, out, m) == SB_DTLS_CLOSED);
      }
      ERR_clear_error();
    }
    sb_dtls_state_t st = sb_dtls_state(d);
    if (st == SB_DTLS_CONNECTED) {
      REQUIRE(!closed && same_keys(sb_dtls_keys(d), &want));
    } else {
      /* Only a close_notify ends it; a forged one cannot come from anyone but the client. */
      REQUIRE(st == SB_DTLS_CLOSED && closed && sb_dtls_keys(d) == NULL);
    }
  }
  sb_dtls_destroy(d);
  SSL_free(c);
}

static void tampered_handshake(reader_t *r, int gcm) {
  peer_t peer = {0};
  SSL *c = client_new(gcm);
  sb_dtls_t *d = sb_dtls_create(server_ctx, "sha-256", client_fp, on_send, &peer);
  REQUIRE(c && d);
  peer.client = c;
  if (handshake(d, c, r) == SB_DTLS_CONNECTED) {
    sb_srtp_keys_t want;
    REQUIRE(SSL_is_init_finished(c) && client_keys(c, &want) == 0);
    REQUIRE(same_keys(sb_dtls_keys(d), &want));
  } else {
    REQUIRE(sb_dtls_keys(d) == NULL);
  }
  sb_dtls_destroy(d);
  SSL_free(c);
  ERR_clear_error();
}

/* --- seeds: SB_FUZZ_DTLS_SEEDS=DIR writes them from a real client --- */

static void put_chunk(FILE *f, uint8_t tag, const uint8_t *b, size_t n) {
  uint8_t h[3] = {tag, (uint8_t)(n >> 8), (uint8_t)n};
  fwrite(h, 1, 3, f);
  fwrite(b, 1, n, f);
}

static FILE *seed_file(const char *dir, const char *name, uint8_t mode) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f)
    fputc(mode, f);
  return f;
}

static void write_seeds(const char *dir) {
  static uint8_t buf[16384], rec[2048];
  peer_t peer = {0};
  SSL *c = client_new(0);
  sb_dtls_t *d = sb_dtls_create(server_ctx, "sha-256", client_fp, on_send, &peer);
  FILE *f;
  mkdir(dir, 0755);
  peer.client = c;
  SSL_do_handshake(c);
  size_t hello = client_take(c, buf, sizeof buf);
  if ((f = seed_file(dir, "client_hello", 0))) {
    put_chunk(f, 0, buf, hello);
    fclose(f);
  }
  if ((f = seed_file(dir, "client_hello_twice_and_junk", 0))) {
    put_chunk(f, 0, buf, hello);
    put_chunk(f, 0, buf, hello);
    put_chunk(f, 0, (const uint8_t *)"\x17\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x05\x00\x03" "abc", 16);
    fclose(f);
  }
  sb_dtls_feed(d, buf, hello);
  SSL_do_handshake(c);
  size_t second = client_take(c, buf, sizeof buf); /* certificate .. finished */
  if ((f = seed_file(dir, "second_flight_out_of_context", 0))) {
    put_chunk(f, 0, buf, second);
    fclose(f);
  }
  sb_dtls_feed(d, buf, second);
  SSL_do_handshake(c);
  SSL_write(c, "ping", 4);
  size_t app = client_take(c, rec, sizeof rec);
  if ((f = seed_file(dir, "connected_records", 1))) {
    put_chunk(f, 1, (const uint8_t *)"hello", 5);
    put_chunk(f, 0, rec, app); /* a replayed record */
    rec[app - 1] ^= 1;
    put_chunk(f, 0, rec, app); /* a forged one */
    put_chunk(f, 0, buf, second); /* the handshake's last flight again */
    put_chunk(f, 2, NULL, 0);
    put_chunk(f, 1, (const uint8_t *)"after close", 11);
    fclose(f);
  }
  if ((f = seed_file(dir, "connected_gcm_alert", 4))) {
    put_chunk(f, 1, (const uint8_t *)"x", 1);
    put_chunk(f, 0, (const uint8_t *)"\x15\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x07\x00\x02\x02\x28", 15);
    fclose(f);
  }
  if ((f = seed_file(dir, "tampered_first_flight", 2))) {
    put_chunk(f, 40, (const uint8_t *)"\x01", 1);
    fclose(f);
  }
  if ((f = seed_file(dir, "tampered_nothing_gcm", 5))) {
    put_chunk(f, 0, NULL, 0);
    put_chunk(f, 0, NULL, 0);
    fclose(f);
  }
  sb_dtls_destroy(d);
  SSL_free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  server_ctx = sb_dtls_ctx_create();
  if (!server_ctx || client_setup() != 0)
    abort();
  const char *dir = getenv("SB_FUZZ_DTLS_SEEDS");
  if (dir)
    write_seeds(dir);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  reader_t r = {data + 1, data + size};
  int gcm = (data[0] / 3) & 1;
  switch (data[0] % 3) {
  case 0:
    before_handshake(&r);
    break;
  case 1:
    after_handshake(&r, gcm);
    break;
  default:
    tampered_handshake(&r, gcm);
  }
  ERR_clear_error();
  return 0;
}
