/* libFuzzer target for access-token verification (signaling/token.c over libjwt and jansson).
 *
 * Built and run by the fuzz tree (scripts/test.sh, -DSB_FUZZ=ON, clang; tests/fuzz/run.sh); by
 * hand: build-fuzz/tests/fuzz_token -max_total_time=60 CORPUS_DIR tests/fuzz/corpus/token
 *
 * An input whose first byte is even is a token: whatever it is, verification answers 0 with
 * well-formed claims (ids of 1..63 characters of [A-Za-z0-9._-], not expired) or a known error
 * with its reason; never a crash or a leak. An odd first byte makes claims from the rest: the
 * minted token must verify to the same claims, and the same token with one byte of its
 * signature changed must not verify. The seeds (tests/fuzz/corpus/token) are tokens signed with
 * SECRET below, so mutations reach the checks behind the signature. */
#include "signaling/token.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "switchboard-fuzz-secret-0123456789abcdef"
#define NOW 1800000000 /* seeds expire in 2100 */

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

static int well_formed_id(const char *s) {
  size_t n = strnlen(s, 64);
  return n >= 1 && n <= 63 && strspn(s, ALPHABET) == n;
}

static void check_verify(const char *token) {
  sb_token_claims_t c;
  memset(&c, 0xAA, sizeof c); /* what verification leaves unset shows up */
  int rc = sb_token_verify((const uint8_t *)SECRET, strlen(SECRET), token, NOW, &c);
  if (rc == 0) {
    if (!well_formed_id(c.user) || !well_formed_id(c.tenant) || !memchr(c.name, '\0', sizeof c.name) ||
        c.exp < NOW || (c.admin != 0 && c.admin != 1))
      __builtin_trap();
  } else {
    const char *why = sb_token_strerror(rc);
    if (rc > 0 || !why || !why[0])
      __builtin_trap();
  }
}

/* Claims from bytes: ids mapped onto the alphabet, the name kept as it is (NUL-free). */
static void take_id(const uint8_t **p, const uint8_t *end, char *out) {
  size_t n = *p < end ? 1 + **p % 63 : 1;
  if (*p < end)
    (*p)++;
  for (size_t i = 0; i < n; i++)
    out[i] = ALPHABET[*p < end ? *(*p)++ % (sizeof ALPHABET - 1) : 0];
  out[n] = '\0';
}

static void check_round_trip(const uint8_t *p, const uint8_t *end) {
  sb_token_claims_t in, out;
  memset(&in, 0, sizeof in);
  in.admin = p < end && (*p & 1);
  take_id(&p, end, in.user);
  take_id(&p, end, in.tenant);
  for (size_t i = 0; p < end && *p && i < sizeof in.name - 1; i++)
    in.name[i] = (char)*p++;
  in.exp = NOW + 3600;
  char *tok = sb_token_mint((const uint8_t *)SECRET, strlen(SECRET), &in);
  if (!tok)
    return; /* a name that is not UTF-8 cannot be a JSON string */
  memset(&out, 0, sizeof out);
  if (sb_token_verify((const uint8_t *)SECRET, strlen(SECRET), tok, NOW, &out) != 0 ||
      strcmp(in.user, out.user) || strcmp(in.tenant, out.tenant) || strcmp(in.name, out.name) ||
      in.admin != out.admin || in.exp != out.exp)
    __builtin_trap();
  size_t n = strlen(tok);
  tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A'; /* inside the signature (base64url, no padding) */
  if (sb_token_verify((const uint8_t *)SECRET, strlen(SECRET), tok, NOW, &out) == 0)
    __builtin_trap();
  free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > SB_TOKEN_MAX_LEN + 64)
    return 0;
  if (data[0] & 1) {
    check_round_trip(data + 1, data + size);
    return 0;
  }
  char *token = malloc(size);
  if (!token)
    return 0;
  memcpy(token, data + 1, size - 1);
  token[size - 1] = '\0';
  check_verify(token);
  free(token);
  return 0;
}
