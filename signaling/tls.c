/* The node's HTTPS/WSS certificate and key: loading, checking, describing,
 * installing. */
#include "signaling/tls.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_tls_pair {
  X509 *cert;
  STACK_OF(X509) * chain; /* the certificates after the first one in the file */
  EVP_PKEY *key;
};

static void fail(char *err, size_t errlen, const char *what, const char *file) {
  snprintf(err, errlen, "%s %s", file, what);
}

/* OpenSSL's default would prompt on the terminal for an encrypted key: refuse
 * instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf;
  (void)size;
  (void)rwflag;
  *(int *)u = 1;
  return -1;
}

static int read_cert(sb_tls_pair_t *p, const char *file, char *err,
                     size_t errlen) {
  FILE *f = fopen(file, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read the certificate file %s: %s", file,
             strerror(errno));
    return -1;
  }
  int rc = -1;
  p->cert = PEM_read_X509(f, NULL, NULL, NULL);
  if (!p->cert) {
    fail(err, errlen, "holds no PEM certificate", file);
    goto Exit;
  }
  if (!(p->chain = sk_X509_new_null()))
    goto Exit;
  X509 *x;
  while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
    if (!sk_X509_push(p->chain, x)) {
      X509_free(x);
      goto Exit;
    }
  rc = 0;
Exit:
  ERR_clear_error(); /* the end of the chain reads as an error */
  fclose(f);
  return rc;
}

static int read_key(sb_tls_pair_t *p, const char *file, char *err,
                    size_t errlen) {
  FILE *f = fopen(file, "r");
  int asked = 0;
  if (!f) {
    snprintf(err, errlen, "cannot read the private key file %s: %s", file,
             strerror(errno));
    return -1;
  }
  p->key = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
  fclose(f);
  ERR_clear_error();
  if (!p->key) {
    fail(err, errlen,
         asked ? "holds an encrypted private key (give it without a passphrase)"
               : "holds no PEM private key",
         file);
    return -1;
  }
  return 0;
}

sb_tls_pair_t *sb_tls_pair_load(const char *cert_file, const char *key_file,
                                char *err, size_t errlen) {
  sb_tls_pair_t *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(err, errlen, "out of memory");
  if (read_cert(p, cert_file, err, errlen) != 0 ||
      read_key(p, key_file, err, errlen) != 0)
    goto Fail;
  if (X509_check_private_key(p->cert, p->key) != 1) {
    ERR_clear_error();
    snprintf(err, errlen,
             "the private key in %s does not belong to the certificate in %s",
             key_file, cert_file);
    goto Fail;
  }
  return p;
Fail:
  sb_tls_pair_destroy(p);
  return NULL;
}

void sb_tls_pair_destroy(sb_tls_pair_t *p) {
  if (!p)
    return;
  X509_free(p->cert);
  sk_X509_pop_free(p->chain, X509_free);
  EVP_PKEY_free(p->key);
  free(p);
}

void sb_tls_pair_describe(const sb_tls_pair_t *p, char *out, size_t outlen) {
  char subject[256] = "?", serial[128] = "?", expires[64] = "?";
  BIO *b = BIO_new(BIO_s_mem());
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(p->cert), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  if (hex)
    snprintf(serial, sizeof serial, "%s", hex);
  if (b && X509_NAME_print_ex(b, X509_get_subject_name(p->cert), 0,
                              XN_FLAG_ONELINE) >= 0) {
    int n = BIO_read(b, subject, sizeof subject - 1);
    subject[n > 0 ? n : 0] = '\0';
  }
  if (b && BIO_reset(b) == 1 &&
      ASN1_TIME_print(b, X509_get0_notAfter(p->cert)) == 1) {
    int n = BIO_read(b, expires, sizeof expires - 1);
    expires[n > 0 ? n : 0] = '\0';
  }
  snprintf(out, outlen, "subject %s, serial %s, expires %s", subject, serial,
           expires);
  OPENSSL_free(hex);
  BN_free(bn);
  BIO_free(b);
}

int sb_tls_pair_install(const sb_tls_pair_t *p, struct ssl_ctx_st *ctx,
                        char *err, size_t errlen) {
  /* OpenSSL keeps one certificate per key type: one of another type would be
   * added beside the old one, which clients could still be offered. */
  EVP_PKEY *old = SSL_CTX_get0_privatekey(ctx);
  if (old && EVP_PKEY_get_base_id(old) != EVP_PKEY_get_base_id(p->key)) {
    snprintf(
        err, errlen,
        "the new key is of another type (%s, was %s): restart to change it",
        OBJ_nid2sn(EVP_PKEY_get_base_id(p->key)),
        OBJ_nid2sn(EVP_PKEY_get_base_id(old)));
    return -1;
  }
  /* override = 1: the certificate, its chain and the key are replaced together.
   */
  if (SSL_CTX_use_cert_and_key(ctx, p->cert, p->key, p->chain, 1) != 1) {
    ERR_clear_error();
    snprintf(err, errlen, "OpenSSL refused the certificate and key");
    return -1;
  }
  return 0;
}
