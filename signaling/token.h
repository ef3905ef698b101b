/* Access tokens: HS256 JWTs signed with the server's secret (libjwt).
 *
 * Claims: sub (user id), tid (tenant id), name (display name, optional), adm (optional boolean:
 * the user administers the tenant), exp (required, seconds since the epoch) and iat. Only HS256
 * is accepted; tokens and secrets are never logged. */
#ifndef SB_TOKEN_H
#define SB_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Longer tokens are rejected as malformed before any decoding. */
#define SB_TOKEN_MAX_LEN 8192

typedef struct {
  char user[64];   /* sub: 1..63 characters of [A-Za-z0-9._-] */
  char tenant[64]; /* tid: same alphabet */
  char name[128];  /* "" when absent */
  int admin;       /* adm: 1 when true */
  int64_t exp;
} sb_token_claims_t;

typedef enum sb_token_err {
  SB_TOKEN_OK = 0,
  SB_TOKEN_EXPIRED = -1,
  SB_TOKEN_BAD_SIGNATURE = -2,
  SB_TOKEN_MALFORMED = -3,
  SB_TOKEN_MISSING_CLAIM = -4,
  SB_TOKEN_UNSUPPORTED_ALG = -5,
} sb_token_err_t;

/** Mints an HS256 JWT; returns a malloc'd string (caller frees) or NULL. */
char *sb_token_mint(const uint8_t *secret, size_t secret_len, const sb_token_claims_t *c);

/** Verifies signature (HS256 only: reject alg none and any other alg), exp (required; expired -> error),
 *  sub and tid present and well-formed (1..63 chars of [A-Za-z0-9._-]); fills claims. Returns 0 or a
 *  negative sb_token_err value; sb_token_strerror() gives "token expired", "bad signature", "malformed token",
 *  "missing claim", "unsupported algorithm". */
int sb_token_verify(const uint8_t *secret, size_t secret_len, const char *token, int64_t now, sb_token_claims_t *out);

/** A short, stable reason for an sb_token_err value (safe to show to the client). */
const char *sb_token_strerror(int err);

#endif
