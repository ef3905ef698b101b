/* sb_tls_pair_*: certificates and keys made here with OpenSSL and written to a temp directory. */
#include "sbtest.h"
#include "signaling/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char err[1200];

static const char *path(const char *name) {
  static char p[4][128];
  static int i;
  i = (i + 1) % 4;
  snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
  return p[i];
}

static void setup(void) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/sb-test-tls.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
  }
}

/* A self-signed certificate with `serial` for key k, written as PEM to cert_name. */
static void write_cert(EVP_PKEY *k, long serial, const char *cert_name) {
  X509 *x = X509_new();
  CHECK(x != NULL);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, k);
  X509_NAME *n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"sb test", -1, -1, 0);
  X509_set_issuer_name(x, n);
  CHECK(X509_sign(x, k, EVP_sha256()) > 0);
  FILE *f = fopen(path(cert_name), "w");
  CHECK(f && PEM_write_X509(f, x) == 1);
  fclose(f);
  X509_free(x);
}

/* pass: NULL for a plain key, else the key encrypted with that passphrase. */
static void write_key(EVP_PKEY *k, const char *key_name, const char *pass) {
  FILE *f = fopen(path(key_name), "w");
  CHECK(f != NULL);
  CHECK(PEM_write_PrivateKey(f, k, pass ? EVP_aes_128_cbc() : NULL, (unsigned char *)pass,
                             pass ? (int)strlen(pass) : 0, NULL, NULL) == 1);
  fclose(f);
}

static EVP_PKEY *ec_key(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

/* Files a (EC, serial 1), b (EC, serial 2), r (RSA, serial 3), e (a's key encrypted). */
static void make_files(void) {
  setup();
  EVP_PKEY *a = ec_key(), *b = ec_key(), *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  CHECK(a && b && r);
  write_cert(a, 1, "a.pem");
  write_key(a, "a.key", NULL);
  write_cert(b, 2, "b.pem");
  write_key(b, "b.key", NULL);
  write_cert(r, 3, "r.pem");
  write_key(r, "r.key", NULL);
  write_key(a, "e.key", "secret phrase");
  FILE *f = fopen(path("junk"), "w");
  CHECK(f != NULL);
  fputs("not PEM at all\n", f);
  fclose(f);
  EVP_PKEY_free(a);
  EVP_PKEY_free(b);
  EVP_PKEY_free(r);
}

static void cleanup(void) {
  static const char *names[] = {"a.pem", "a.key", "b.pem", "b.key", "r.pem", "r.key", "e.key", "junk"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unlink(path(names[i]));
  rmdir(dir);
  dir[0] = '\0';
}

/* The serial of the certificate ctx would offer now. */
static long served_serial(SSL_CTX *ctx) {
  X509 *x = SSL_CTX_get0_certificate(ctx);
  return x ? ASN1_INTEGER_get(X509_get0_serialNumber(x)) : -1;
}

SB_TEST(a_matching_pair_loads_and_describes_itself) {
  make_files();
  sb_tls_pair_t *p = sb_tls_pair_load(path("a.pem"), path("a.key"), err, sizeof err);
  CHECK(p != NULL);
  char what[512];
  sb_tls_pair_describe(p, what, sizeof what);
  CHECK(strstr(what, "CN = sb test") != NULL);
  CHECK(strstr(what, "serial 01") != NULL);
  CHECK(strstr(what, "expires ") != NULL);
  sb_tls_pair_destroy(p);
  sb_tls_pair_destroy(NULL);
  cleanup();
}

SB_TEST(errors_name_the_file) {
  make_files();
  CHECK(sb_tls_pair_load(path("a.pem"), path("b.key"), err, sizeof err) == NULL);
  CHECK(strstr(err, "does not belong") && strstr(err, path("b.key")) && strstr(err, path("a.pem")));
  CHECK(sb_tls_pair_load(path("missing.pem"), path("a.key"), err, sizeof err) == NULL);
  CHECK(strstr(err, "cannot read the certificate file") && strstr(err, "missing.pem"));
  CHECK(sb_tls_pair_load(path("a.pem"), path("missing.key"), err, sizeof err) == NULL);
  CHECK(strstr(err, "cannot read the private key file") && strstr(err, "missing.key"));
  CHECK(sb_tls_pair_load(path("junk"), path("a.key"), err, sizeof err) == NULL);
  CHECK(strstr(err, "holds no PEM certificate") != NULL);
  CHECK(sb_tls_pair_load(path("a.pem"), path("junk"), err, sizeof err) == NULL);
  CHECK(strstr(err, "holds no PEM private key") != NULL);
  /* Never a prompt on the terminal, and no passphrase is guessed. */
  CHECK(sb_tls_pair_load(path("a.pem"), path("e.key"), err, sizeof err) == NULL);
  CHECK(strstr(err, "encrypted") != NULL);
  /* A key file given as the certificate: not a certificate, and nothing of the key is shown. */
  CHECK(sb_tls_pair_load(path("a.key"), path("a.key"), err, sizeof err) == NULL);
  CHECK(strstr(err, "BEGIN") == NULL);
  cleanup();
}

SB_TEST(install_replaces_the_certificate_for_new_connections) {
  make_files();
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  CHECK(ctx != NULL);
  sb_tls_pair_t *a = sb_tls_pair_load(path("a.pem"), path("a.key"), err, sizeof err);
  sb_tls_pair_t *b = sb_tls_pair_load(path("b.pem"), path("b.key"), err, sizeof err);
  CHECK(a && b);
  CHECK_EQ(sb_tls_pair_install(a, ctx, err, sizeof err), 0);
  CHECK_EQ(served_serial(ctx), 1);
  SSL *before = SSL_new(ctx); /* a connection accepted before the reload */
  CHECK(before != NULL);
  CHECK_EQ(sb_tls_pair_install(b, ctx, err, sizeof err), 0);
  CHECK_EQ(served_serial(ctx), 2);
  CHECK_EQ(SSL_CTX_check_private_key(ctx), 1);
  CHECK_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(SSL_get_certificate(before))), 1);
  SSL *after = SSL_new(ctx);
  CHECK(after != NULL);
  CHECK_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(SSL_get_certificate(after))), 2);
  SSL_free(before);
  SSL_free(after);
  sb_tls_pair_destroy(a);
  sb_tls_pair_destroy(b);
  SSL_CTX_free(ctx);
  cleanup();
}

SB_TEST(install_refuses_another_key_type) {
  make_files();
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  sb_tls_pair_t *a = sb_tls_pair_load(path("a.pem"), path("a.key"), err, sizeof err);
  sb_tls_pair_t *r = sb_tls_pair_load(path("r.pem"), path("r.key"), err, sizeof err);
  CHECK(ctx && a && r);
  CHECK_EQ(sb_tls_pair_install(a, ctx, err, sizeof err), 0);
  CHECK_EQ(sb_tls_pair_install(r, ctx, err, sizeof err), -1);
  CHECK(strstr(err, "restart") != NULL);
  CHECK_EQ(served_serial(ctx), 1);
  sb_tls_pair_destroy(a);
  sb_tls_pair_destroy(r);
  SSL_CTX_free(ctx);
  cleanup();
}
