/* DTLS 1.2 client over memory BIOs with DTLS-SRTP key export. */
#include "bench/dtlsc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

static int digest_fp(X509 *x, char *out, size_t cap) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0, i;
  if (!X509_digest(x, EVP_sha256(), md, &n) || cap < n * 3)
    return -1;
  for (i = 0; i < n; i++)
    snprintf(out + i * 3, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
  return 0;
}

/* The peer is self-signed by design: trust comes from the fingerprint in the SDP, checked after
 * the handshake, so the chain check here accepts it. */
static int verify_cb(int ok, X509_STORE_CTX *store) {
  (void)ok;
  (void)store;
  return 1;
}

static X509 *self_signed(EVP_PKEY *key) {
  X509 *x = X509_new();
  X509_NAME *name;
  uint64_t serial;
  if (!x)
    return NULL;
  if (RAND_bytes((unsigned char *)&serial, sizeof serial) != 1 || !X509_set_version(x, 2) ||
      !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) ||
      !X509_gmtime_adj(X509_getm_notBefore(x), -86400) ||
      !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) || !X509_set_pubkey(x, key))
    goto fail;
  name = X509_get_subject_name(x);
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"switchboard-bench",
                                  -1, -1, 0) ||
      !X509_set_issuer_name(x, name) || !X509_sign(x, key, EVP_sha256()))
    goto fail;
  return x;
fail:
  X509_free(x);
  return NULL;
}

int sb_bench_cert_create(sb_bench_cert_t *c, const char *srtp_profiles) {
  EVP_PKEY *key = NULL;
  X509 *x = NULL;
  int ret = -1;
  memset(c, 0, sizeof *c);
  key = EVP_EC_gen("P-256");
  if (!key || !(x = self_signed(key)) || digest_fp(x, c->fingerprint, sizeof c->fingerprint) < 0)
    goto exit;
  c->ctx = SSL_CTX_new(DTLS_client_method());
  if (!c->ctx || SSL_CTX_use_certificate(c->ctx, x) != 1 || SSL_CTX_use_PrivateKey(c->ctx, key) != 1 ||
      SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_tlsext_use_srtp(c->ctx, srtp_profiles ? srtp_profiles : SRTP_PROFILES) != 0) /* 0 means success here */
    goto exit;
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU);
  SSL_CTX_set_read_ahead(c->ctx, 1);
  ret = 0;
exit:
  X509_free(x);
  EVP_PKEY_free(key);
  if (ret < 0) {
    SSL_CTX_free(c->ctx);
    c->ctx = NULL;
  }
  return ret;
}

void sb_bench_cert_destroy(sb_bench_cert_t *c) {
  if (!c)
    return;
  SSL_CTX_free(c->ctx);
  c->ctx = NULL;
}

static int fail(sb_bench_dtls_t *d, const char *what) {
  unsigned long e = ERR_get_error();
  char buf[120] = "";
  if (e)
    ERR_error_string_n(e, buf, sizeof buf);
  snprintf(d->error, sizeof d->error, "%s%s%s", what, buf[0] ? ": " : "", buf);
  ERR_clear_error();
  d->state = SB_DTLS_FAILED;
  return -1;
}

/* Retransmission: 100 ms, doubling (OpenSSL's default starts at 1 s; WebRTC stacks start far
 * lower). A full ICE server such as Janus drops a ClientHello that comes before its own checks
 * have selected the pair, which would otherwise cost a second of join time. */
static unsigned int retransmit_after(SSL *ssl, unsigned int previous_us) {
  (void)ssl;
  if (previous_us == 0)
    return 100000;
  return previous_us >= 30000000 ? 60000000 : previous_us * 2;
}

int sb_bench_dtls_start(sb_bench_dtls_t *d, const sb_bench_cert_t *cert, const char *fp_alg,
                        const char *fingerprint, uint64_t now_us) {
  size_t i, n = strlen(fingerprint);
  memset(d, 0, sizeof *d);
  if (strcasecmp(fp_alg, "sha-256") != 0) {
    snprintf(d->error, sizeof d->error, "answer fingerprint uses %s, not sha-256", fp_alg);
    d->state = SB_DTLS_FAILED;
    return -1;
  }
  if (n == 0 || n >= sizeof d->expected_fp) {
    snprintf(d->error, sizeof d->error, "answer has no usable fingerprint");
    d->state = SB_DTLS_FAILED;
    return -1;
  }
  for (i = 0; i <= n; i++)
    d->expected_fp[i] = (char)toupper((unsigned char)fingerprint[i]);
  d->ssl = SSL_new(cert->ctx);
  d->rbio = BIO_new(BIO_s_mem());
  d->wbio = BIO_new(BIO_s_mem());
  if (!d->ssl || !d->rbio || !d->wbio) {
    BIO_free(d->rbio);
    BIO_free(d->wbio);
    d->rbio = d->wbio = NULL;
    return fail(d, "SSL_new");
  }
  BIO_set_mem_eof_return(d->rbio, -1);
  BIO_set_mem_eof_return(d->wbio, -1);
  SSL_set_bio(d->ssl, d->rbio, d->wbio);
  SSL_set_mtu(d->ssl, SB_DTLS_MTU);
  DTLS_set_link_mtu(d->ssl, SB_DTLS_MTU);
  DTLS_set_timer_cb(d->ssl, retransmit_after);
  SSL_set_connect_state(d->ssl);
  d->state = SB_DTLS_HANDSHAKE;
  d->started_us = now_us;
  if (SSL_do_handshake(d->ssl) == 1)
    return fail(d, "handshake completed without the server");
  if (SSL_get_error(d->ssl, -1) != SSL_ERROR_WANT_READ)
    return fail(d, "ClientHello");
  return 0;
}

static int check_peer(sb_bench_dtls_t *d) {
  X509 *peer = SSL_get1_peer_certificate(d->ssl);
  char fp[100];
  int ok;
  if (!peer) {
    snprintf(d->error, sizeof d->error, "server sent no certificate");
    return -1;
  }
  ok = digest_fp(peer, fp, sizeof fp) == 0 && strcmp(fp, d->expected_fp) == 0;
  X509_free(peer);
  if (!ok) {
    snprintf(d->error, sizeof d->error, "server certificate %.100s does not match a=fingerprint %.100s", fp,
             d->expected_fp);
    return -1;
  }
  if (!SSL_get_selected_srtp_profile(d->ssl)) {
    snprintf(d->error, sizeof d->error, "server selected no SRTP profile");
    return -1;
  }
  return 0;
}

int sb_bench_dtls_feed(sb_bench_dtls_t *d, const uint8_t *buf, size_t len, uint64_t now_us) {
  uint8_t sink[2048];
  int r, e;
  if (d->state != SB_DTLS_HANDSHAKE && d->state != SB_DTLS_CONNECTED)
    return 0;
  if (BIO_write(d->rbio, buf, (int)len) != (int)len)
    return fail(d, "BIO_write");
  if (d->state == SB_DTLS_CONNECTED) {
    /* after the handshake only alerts (close_notify) or retransmitted Finished arrive */
    r = SSL_read(d->ssl, sink, sizeof sink);
    if (r <= 0 && SSL_get_error(d->ssl, r) == SSL_ERROR_ZERO_RETURN)
      d->state = SB_DTLS_CLOSED;
    ERR_clear_error();
    return 0;
  }
  r = SSL_do_handshake(d->ssl);
  if (r == 1) {
    if (check_peer(d) < 0) {
      d->state = SB_DTLS_FAILED;
      return -1;
    }
    d->state = SB_DTLS_CONNECTED;
    d->done_us = now_us;
    return 1;
  }
  e = SSL_get_error(d->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
    return 0;
  return fail(d, "handshake");
}

int sb_bench_dtls_poll(sb_bench_dtls_t *d) {
  struct timeval tv;
  if (d->state != SB_DTLS_HANDSHAKE)
    return 0;
  if (DTLSv1_get_timeout(d->ssl, &tv) == 1 && tv.tv_sec == 0 && tv.tv_usec == 0 &&
      DTLSv1_handle_timeout(d->ssl) < 0)
    return fail(d, "handshake timed out");
  return 0;
}

int sb_bench_dtls_flush(sb_bench_dtls_t *d, void (*send)(const uint8_t *buf, size_t len, void *arg),
                        void *arg) {
  uint8_t buf[16384];
  size_t off = 0, start = 0, n;
  int got, sent = 0;
  if (!d->wbio)
    return 0;
  while (BIO_ctrl_pending(d->wbio) > 0) {
    got = BIO_read(d->wbio, buf, sizeof buf);
    if (got <= 0)
      break;
    n = (size_t)got;
    /* records never span datagrams: cut at record boundaries (13-byte header, length last) */
    off = start = 0;
    while (off + 13 <= n) {
      size_t rec = 13 + ((size_t)buf[off + 11] << 8 | buf[off + 12]);
      if (off + rec > n)
        break;
      if (off > start && off + rec - start > SB_DTLS_MTU) {
        send(buf + start, off - start, arg);
        sent++;
        start = off;
      }
      off += rec;
    }
    if (n > start) {
      send(buf + start, n - start, arg);
      sent++;
    }
  }
  return sent;
}

int sb_bench_dtls_keys(sb_bench_dtls_t *d, sb_bench_srtp_keys_t *k) {
  const SRTP_PROTECTION_PROFILE *p;
  uint8_t m[2 * 32];
  size_t klen = 16, slen;
  memset(k, 0, sizeof *k);
  if (d->state != SB_DTLS_CONNECTED || !(p = SSL_get_selected_srtp_profile(d->ssl)))
    return -1;
  if (p->id == SB_SRTP_PROFILE_AES128_CM_SHA1_80)
    slen = 14;
  else if (p->id == SB_SRTP_PROFILE_AEAD_AES_128_GCM)
    slen = 12;
  else
    return -1;
  if (SSL_export_keying_material(d->ssl, m, 2 * (klen + slen), "EXTRACTOR-dtls_srtp", 19, NULL, 0,
                                 0) != 1)
    return -1;
  /* RFC 5764 §4.2: client key, server key, client salt, server salt */
  k->profile = (uint16_t)p->id;
  k->len = klen + slen;
  memcpy(k->local, m, klen);
  memcpy(k->remote, m + klen, klen);
  memcpy(k->local + klen, m + 2 * klen, slen);
  memcpy(k->remote + klen, m + 2 * klen + slen, slen);
  OPENSSL_cleanse(m, sizeof m);
  return 0;
}

void sb_bench_dtls_free(sb_bench_dtls_t *d) {
  if (!d)
    return;
  SSL_free(d->ssl); /* frees both BIOs */
  d->ssl = NULL;
  d->rbio = d->wbio = NULL;
}
