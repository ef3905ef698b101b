/* Time-limited TURN credentials after the TURN REST API scheme that coturn implements with
 * `use-auth-secret` / `static-auth-secret`: username "<expiry unix time>:<tenant>.<user>",
 * password base64(HMAC-SHA1(shared secret, username)). The TURN server recomputes the password
 * from the username and refuses it once the expiry has passed; nothing is stored anywhere. */
#ifndef SB_TURN_H
#define SB_TURN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SB_TURN_MAX_URLS 8
#define SB_TURN_MAX_SECRET 256

/* The TURN configuration of a node: loaded once at start, read-only afterwards. */
typedef struct {
  int n_urls;                                  /* 0: no TURN configured */
  char urls[SB_TURN_MAX_URLS][256];            /* turn:/turns: URLs */
  uint8_t secret[SB_TURN_MAX_SECRET];          /* the shared secret's bytes */
  size_t secret_len;
  int ttl_s;                                   /* lifetime of a credential */
} sb_turn_t;

/** Checks a comma-separated list of turn:/turns: URLs (for the option table): 0 if valid or
 * empty, -1 otherwise. */
int sb_turn_check_urls(const char *list);

/** Sets up t from the comma-separated URL list, the secret file (its whole content, one
 * trailing newline removed, is the secret, as in coturn's `static-auth-secret=`) and the TTL.
 * An empty list leaves TURN off (then a secret file is refused). Returns 0, or -1 with the
 * reason in err (never the secret). */
int sb_turn_setup(sb_turn_t *t, const char *urls, const char *secret_file, int ttl_s, char *err,
                  size_t errlen);

/** Writes the REST API username "<expiry>:<tenant>.<user>" into out; 0, or -1 if it does not
 * fit. */
int sb_turn_username(int64_t expiry, const char *tenant, const char *user, char *out,
                     size_t outlen);

/** Writes base64(HMAC-SHA1(secret, username)) (28 characters and a NUL) into out; 0, or -1 if
 * out is shorter than 29 bytes or OpenSSL fails. */
int sb_turn_password(const uint8_t *secret, size_t secret_len, const char *username, char *out,
                     size_t outlen);

/** The RTCPeerConnection `iceServers` list for (tenant, user) at unix time now: one entry
 * {urls, username, credential} valid until now + ttl. NULL when TURN is off or on failure.
 * The caller owns the reference. */
json_t *sb_turn_ice_servers(const sb_turn_t *t, const char *tenant, const char *user,
                            int64_t now);

/** Wipes the secret. Accepts NULL. */
void sb_turn_clear(sb_turn_t *t);

#endif
