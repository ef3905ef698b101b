/* DTLS-SRTP (RFC 5763/5764) with OpenSSL: one process-wide certificate and one session per
 * transport. The relay is always the DTLS server (it answers with a=setup:passive). Datagrams
 * OpenSSL writes go straight to the transport through a small BIO, one datagram per write. */
#ifndef SB_DTLS_H
#define SB_DTLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sb_dtls_ctx sb_dtls_ctx_t; /* process-wide, shared read-only by workers */
typedef struct sb_dtls sb_dtls_t;         /* one per transport, used on its worker only */

/* SRTP protection profiles (RFC 5764 / 7714 ids). */
#define SB_SRTP_AES128_CM_SHA1_80 0x0001
#define SB_SRTP_AEAD_AES_128_GCM 0x0007

typedef struct {
  int profile;            /* SB_SRTP_* */
  uint8_t local_key[32];  /* master key || master salt for what we send */
  uint8_t remote_key[32]; /* for what we receive */
  size_t key_len;         /* master key + salt length */
} sb_srtp_keys_t;

/** Creates the context: a fresh ECDSA P-256 certificate valid for 30 days and its SHA-256
 * fingerprint. Returns NULL on failure (reason logged). */
sb_dtls_ctx_t *sb_dtls_ctx_create(void);
void sb_dtls_ctx_destroy(sb_dtls_ctx_t *ctx);
/** "sha-256" fingerprint as "AB:CD:..." for a=fingerprint. */
const char *sb_dtls_ctx_fingerprint(const sb_dtls_ctx_t *ctx);

/* Called with each datagram the session wants to send. */
typedef void (*sb_dtls_send_cb)(void *arg, const uint8_t *data, size_t len);

typedef enum { SB_DTLS_HANDSHAKING = 0, SB_DTLS_CONNECTED, SB_DTLS_FAILED, SB_DTLS_CLOSED } sb_dtls_state_t;

/** Creates a server-side session that will accept only a peer certificate whose `alg` digest
 * (e.g. "sha-256") equals `fingerprint` ("AB:CD:..", any case). NULL on failure. */
sb_dtls_t *sb_dtls_create(sb_dtls_ctx_t *ctx, const char *alg, const char *fingerprint,
                          sb_dtls_send_cb send, void *arg);
void sb_dtls_destroy(sb_dtls_t *d);

/** Feeds one received DTLS datagram. Returns the state afterwards. On the transition to
 * CONNECTED the peer fingerprint has been verified and sb_dtls_keys() is valid; a fingerprint
 * mismatch or handshake error gives FAILED (the reason is in sb_dtls_error()). */
sb_dtls_state_t sb_dtls_feed(sb_dtls_t *d, const uint8_t *data, size_t len);

/** Retransmits a flight if OpenSSL's timer expired; call periodically while handshaking. */
void sb_dtls_tick(sb_dtls_t *d);

sb_dtls_state_t sb_dtls_state(const sb_dtls_t *d);
const sb_srtp_keys_t *sb_dtls_keys(const sb_dtls_t *d);
const char *sb_dtls_error(const sb_dtls_t *d);

/** Sends close_notify (best effort). */
void sb_dtls_shutdown(sb_dtls_t *d);

/** 1 if sb_dtls_create() can verify a peer with this a=fingerprint: a hash it knows (sha-1,
 * sha-256, sha-384, sha-512; any case) and a value of that hash's length; else 0. */
int sb_dtls_fingerprint_usable(const char *alg, const char *fingerprint);

/** Parses "AB:CD:.." into bytes; returns the byte count or -1. */
int sb_fingerprint_parse(const char *text, uint8_t *out, size_t max);

#endif
