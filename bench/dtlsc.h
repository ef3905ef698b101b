/* DTLS client of one participant: OpenSSL over memory BIOs (the datagrams travel on the
 * participant's own UDP socket), an ECDSA P-256 self-signed certificate whose SHA-256
 * fingerprint goes into the offer, the server certificate checked against the answer's
 * a=fingerprint, use_srtp, and the SRTP keys exported with "EXTRACTOR-dtls_srtp". */
#ifndef SB_BENCH_DTLSC_H
#define SB_BENCH_DTLSC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* use_srtp profile ids (RFC 5764, RFC 7714) */
#define SB_SRTP_PROFILE_AES128_CM_SHA1_80 0x0001
#define SB_SRTP_PROFILE_AEAD_AES_128_GCM 0x0007

#define SB_DTLS_MTU 1200

/* Keys for libsrtp: key then salt, ours (client) and theirs (server). */
typedef struct {
  uint16_t profile;
  size_t len;              /* key + salt: 30 (AES-CM) or 28 (GCM) */
  uint8_t local[32];
  uint8_t remote[32];
} sb_bench_srtp_keys_t;

/* The process's certificate and SSL_CTX, shared by every participant and thread. */
typedef struct {
  SSL_CTX *ctx;
  char fingerprint[100];   /* "AB:CD:..." (SHA-256) */
} sb_bench_cert_t;

/** Generates the key and certificate and sets up the context offering `srtp_profiles` (OpenSSL
 * names, colon-separated, preferred first; NULL = GCM then AES-CM). 0 or -1. */
int sb_bench_cert_create(sb_bench_cert_t *c, const char *srtp_profiles);
/** Frees the context; accepts a zeroed one. */
void sb_bench_cert_destroy(sb_bench_cert_t *c);

typedef enum { SB_DTLS_IDLE = 0, SB_DTLS_HANDSHAKE, SB_DTLS_CONNECTED, SB_DTLS_CLOSED, SB_DTLS_FAILED } sb_dtls_state_t;

typedef struct {
  SSL *ssl;
  BIO *rbio, *wbio;        /* owned by ssl */
  sb_dtls_state_t state;
  char expected_fp[128];   /* from the answer, upper case */
  char error[320];
  uint64_t started_us, done_us;
} sb_bench_dtls_t;

/** Starts a handshake as the client; the ClientHello is then pending (drain it). 0 or -1. */
int sb_bench_dtls_start(sb_bench_dtls_t *d, const sb_bench_cert_t *cert, const char *fp_alg,
                        const char *fingerprint, uint64_t now_us);

/** Feeds one datagram from the server. Returns 1 when the handshake has just completed and the
 * server certificate matched, 0 otherwise, -1 on failure (reason in d->error). */
int sb_bench_dtls_feed(sb_bench_dtls_t *d, const uint8_t *buf, size_t len, uint64_t now_us);

/** Runs the retransmission timer; 0, or -1 when the handshake gave up. */
int sb_bench_dtls_poll(sb_bench_dtls_t *d);

/** Moves the pending output into datagrams: calls send(buf, len, arg) for each, whole records
 * only, at most SB_DTLS_MTU bytes each unless one record is larger. Returns datagrams sent. */
int sb_bench_dtls_flush(sb_bench_dtls_t *d, void (*send)(const uint8_t *buf, size_t len, void *arg),
                        void *arg);

/** The negotiated profile and exported keys; 0, or -1 if not connected. */
int sb_bench_dtls_keys(sb_bench_dtls_t *d, sb_bench_srtp_keys_t *keys);

/** Frees the SSL object; accepts an idle one. */
void sb_bench_dtls_free(sb_bench_dtls_t *d);

#endif
