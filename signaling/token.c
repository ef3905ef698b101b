/* HS256 access tokens with libjwt 1.10 (see signaling/token.h).
 *
 * libjwt verifies the signature. Before that, the token's shape, header and payload are read
 * here with jansson: libjwt 1.10 does not report the algorithm of a token it could not verify,
 * and the client is told whether its token was malformed, of an unsupported algorithm, or
 * forged. Claims are taken from the payload only after libjwt has verified it. */
#include "signaling/token.h"

#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char id_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

static int valid_id(const char *id) {
  size_t n = strlen(id);
  return n >= 1 && n <= 63 && id[strspn(id, id_alphabet)] == '\0';
}

/* base64url without padding (RFC 7515 section 2); -1 on a character outside the alphabet. */
static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t *outlen) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  if (len % 4 == 1)
    return -1;
  for (size_t i = 0; i < len; i++) {
    const char *p = in[i] ? memchr(alphabet, in[i], 64) : NULL;
    if (!p)
      return -1;
    acc = (acc << 6) | (uint32_t)(p - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  *outlen = n;
  return 0;
}

/* Decodes one base64url part of the token into a JSON object, or NULL. */
static json_t *decode_part(const char *part, size_t len) {
  unsigned char buf[SB_TOKEN_MAX_LEN];
  size_t n;
  if (len == 0 || b64url_decode(part, len, buf, &n) < 0)
    return NULL;
  json_t *obj = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
  if (obj && !json_is_object(obj)) {
    json_decref(obj);
    obj = NULL;
  }
  return obj;
}

/* Three dot-separated parts, a JSON header naming HS256 and a JSON payload; fills *payload. */
static int check_shape(const char *token, size_t len, json_t **payload) {
  const char *dot1 = memchr(token, '.', len);
  const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
    return SB_TOKEN_MALFORMED;
  json_t *header = decode_part(token, (size_t)(dot1 - token));
  if (!header)
    return SB_TOKEN_MALFORMED;
  const char *alg = json_string_value(json_object_get(header, "alg"));
  int rc = !alg ? SB_TOKEN_MALFORMED : strcmp(alg, "HS256") != 0 ? SB_TOKEN_UNSUPPORTED_ALG : 0;
  json_decref(header);
  if (rc < 0)
    return rc;
  *payload = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  return *payload ? 0 : SB_TOKEN_MALFORMED;
}

/* A string claim into dst: absent -> SB_TOKEN_MISSING_CLAIM (or 0 when optional); not a string
 * or too long -> SB_TOKEN_MALFORMED. (jansson refused a "\u0000" inside when it parsed.) */
static int string_claim(json_t *claims, const char *key, char *dst, size_t cap, int required) {
  json_t *v = json_object_get(claims, key);
  if (!v)
    return required ? SB_TOKEN_MISSING_CLAIM : 0;
  const char *s = json_string_value(v);
  if (!s || strlen(s) >= cap)
    return SB_TOKEN_MALFORMED;
  memcpy(dst, s, strlen(s) + 1);
  return 0;
}

static int read_claims(json_t *claims, int64_t now, sb_token_claims_t *out) {
  json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat");
  json_t *adm = json_object_get(claims, "adm");
  int rc;
  if (!exp)
    return SB_TOKEN_MISSING_CLAIM;
  if (!json_is_integer(exp) || (iat && !json_is_number(iat)) || (adm && !json_is_boolean(adm)))
    return SB_TOKEN_MALFORMED;
  out->exp = (int64_t)json_integer_value(exp);
  if (now >= out->exp) /* RFC 7519 4.1.4: not accepted on or after exp */
    return SB_TOKEN_EXPIRED;
  if ((rc = string_claim(claims, "sub", out->user, sizeof out->user, 1)) < 0 ||
      (rc = string_claim(claims, "tid", out->tenant, sizeof out->tenant, 1)) < 0 ||
      (rc = string_claim(claims, "name", out->name, sizeof out->name, 0)) < 0)
    return rc;
  if (!valid_id(out->user) || !valid_id(out->tenant))
    return SB_TOKEN_MALFORMED;
  out->admin = adm && json_is_true(adm);
  return 0;
}

int sb_token_verify(const uint8_t *secret, size_t secret_len, const char *token, int64_t now,
                    sb_token_claims_t *out) {
  json_t *payload = NULL;
  jwt_t *jwt = NULL;
  int rc;
  if (!out)
    return SB_TOKEN_MALFORMED;
  memset(out, 0, sizeof *out);
  size_t len = token ? strnlen(token, SB_TOKEN_MAX_LEN + 1) : 0;
  if (len == 0 || len > SB_TOKEN_MAX_LEN)
    return SB_TOKEN_MALFORMED;
  if ((rc = check_shape(token, len, &payload)) < 0)
    goto exit;
  if (!secret || secret_len == 0 || secret_len > INT_MAX ||
      jwt_decode(&jwt, token, secret, (int)secret_len) != 0) {
    rc = SB_TOKEN_BAD_SIGNATURE;
    goto exit;
  }
  if (jwt_get_alg(jwt) != JWT_ALG_HS256) { /* the header said HS256; libjwt must agree */
    rc = SB_TOKEN_UNSUPPORTED_ALG;
    goto exit;
  }
  rc = read_claims(payload, now, out);
exit:
  jwt_free(jwt);
  json_decref(payload);
  if (rc < 0)
    memset(out, 0, sizeof *out);
  return rc;
}

char *sb_token_mint(const uint8_t *secret, size_t secret_len, const sb_token_claims_t *c) {
  jwt_t *jwt = NULL;
  char *token = NULL;
  if (!secret || secret_len == 0 || secret_len > INT_MAX || !c || !valid_id(c->user) ||
      !valid_id(c->tenant) || !memchr(c->name, '\0', sizeof c->name))
    return NULL;
  if (jwt_new(&jwt) != 0 || jwt_set_alg(jwt, JWT_ALG_HS256, secret, (int)secret_len) != 0 ||
      jwt_add_grant(jwt, "sub", c->user) != 0 || jwt_add_grant(jwt, "tid", c->tenant) != 0 ||
      (c->name[0] && jwt_add_grant(jwt, "name", c->name) != 0) ||
      (c->admin && jwt_add_grant_bool(jwt, "adm", 1) != 0) ||
      jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0 ||
      jwt_add_grant_int(jwt, "iat", (long)time(NULL)) != 0)
    goto exit;
  token = jwt_encode_str(jwt); /* allocated with malloc: libjwt's default allocator */
exit:
  jwt_free(jwt);
  return token;
}

const char *sb_token_strerror(int err) {
  switch (err) {
  case SB_TOKEN_OK:
    return "ok";
  case SB_TOKEN_EXPIRED:
    return "token expired";
  case SB_TOKEN_BAD_SIGNATURE:
    return "bad signature";
  case SB_TOKEN_MISSING_CLAIM:
    return "missing claim";
  case SB_TOKEN_UNSUPPORTED_ALG:
    return "unsupported algorithm";
  default:
    return "malformed token";
  }
}
