/* The node's own HTTPS/WSS certificate (--tls-cert, --tls-key): a certificate
 * chain and its private key read from PEM files and checked against each other.
 * libwebsockets loads the files at start; on SIGHUP a new pair replaces the one
 * in the server's SSL_CTX for new connections. */
#ifndef SB_TLS_H
#define SB_TLS_H

#include <stddef.h>

typedef struct sb_tls_pair sb_tls_pair_t;
struct ssl_ctx_st;

/** Reads the certificate chain (the first PEM certificate is the node's) and
 * the private key, and checks that the key belongs to the certificate. Returns
 * the pair (the caller destroys it) or NULL with a reason naming the file in
 * err; the key's contents never appear in err. An encrypted key is refused (no
 * passphrase is ever asked for). */
sb_tls_pair_t *sb_tls_pair_load(const char *cert_file, const char *key_file,
                                char *err, size_t errlen);

/** Accepts NULL. */
void sb_tls_pair_destroy(sb_tls_pair_t *p);

/** "subject CN=..., serial 0A1B..., expires ..." of the pair's certificate, for
 * the log. */
void sb_tls_pair_describe(const sb_tls_pair_t *p, char *out, size_t outlen);

/** Makes the pair ctx's certificate, chain and key. Connections running keep
 * the certificate they started with (OpenSSL copies it into each connection);
 * new ones get this one. 0, or -1 with the reason in err and ctx unchanged
 * (also when the key type differs from the current key's: OpenSSL would keep
 * the old certificate beside the new one). */
int sb_tls_pair_install(const sb_tls_pair_t *p, struct ssl_ctx_st *ctx,
                        char *err, size_t errlen);

#endif
