#include "sbtest.h"
#include "signaling/token.h"

#include <jwt.h>
#include <stdlib.h>

static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
static const int64_t now = 1700000000;

/* A token signed by libjwt directly, for claims sb_token_mint would refuse to write. */
static char *craft(jwt_alg_t alg, const uint8_t *key, size_t key_len, const char *grants) {
  jwt_t *jwt = NULL;
  char *out = NULL;
  if (jwt_new(&jwt) == 0 && jwt_set_alg(jwt, alg, key, (int)key_len) == 0 &&
      jwt_add_grants_json(jwt, grants) == 0)
    out = jwt_encode_str(jwt);
  jwt_free(jwt);
  return out;
}

static int verify(const char *token, sb_token_claims_t *c) {
  return sb_token_verify(secret, sizeof secret, token, now, c);
}

/* Verifies a token crafted with HS256 and `grants`. */
static int verify_grants(const char *grants) {
  sb_token_claims_t c;
  char *t = craft(JWT_ALG_HS256, secret, sizeof secret, grants);
  int rc = t ? verify(t, &c) : 1;
  free(t);
  return rc;
}

static void b64url(const char *in, char *out) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(in), o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)(unsigned char)in[i + 1] << 8;
    if (i + 2 < n)
      v |= (unsigned char)in[i + 2];
    out[o++] = a[(v >> 18) & 63];
    out[o++] = a[(v >> 12) & 63];
    if (i + 1 < n)
      out[o++] = a[(v >> 6) & 63];
    if (i + 2 < n)
      out[o++] = a[v & 63];
  }
  out[o] = '\0';
}

static sb_token_claims_t alice(void) {
  sb_token_claims_t c = {.user = "alice", .tenant = "acme", .name = "Alice Ånström", .admin = 1,
                         .exp = now + 3600};
  return c;
}

SB_TEST(round_trip) {
  sb_token_claims_t in = alice(), out;
  char *t = sb_token_mint(secret, sizeof secret, &in);
  CHECK(t != NULL);
  CHECK(strlen(t) > 20);
  CHECK_EQ(verify(t, &out), 0);
  free(t);
  CHECK_STR(out.user, "alice");
  CHECK_STR(out.tenant, "acme");
  CHECK_STR(out.name, "Alice Ånström");
  CHECK_EQ(out.admin, 1);
  CHECK_EQ(out.exp, now + 3600);
}

SB_TEST(round_trip_without_optional_claims) {
  sb_token_claims_t in = {.user = "bob.smith_2", .tenant = "globex-eu", .exp = now + 60}, out;
  char *t = sb_token_mint(secret, sizeof secret, &in);
  CHECK(t != NULL);
  CHECK_EQ(verify(t, &out), 0);
  free(t);
  CHECK_STR(out.user, "bob.smith_2");
  CHECK_STR(out.tenant, "globex-eu");
  CHECK_STR(out.name, "");
  CHECK_EQ(out.admin, 0);
}

SB_TEST(expired) {
  sb_token_claims_t in = alice(), out;
  in.exp = now;
  char *t = sb_token_mint(secret, sizeof secret, &in);
  CHECK(t != NULL);
  int at_exp = verify(t, &out);
  int before = sb_token_verify(secret, sizeof secret, t, now - 1, &out);
  free(t);
  CHECK_EQ(at_exp, SB_TOKEN_EXPIRED);
  CHECK_STR(sb_token_strerror(at_exp), "token expired");
  CHECK_EQ(before, 0);
}

SB_TEST(tampered_payload) {
  sb_token_claims_t in = alice(), out;
  char *t = sb_token_mint(secret, sizeof secret, &in);
  CHECK(t != NULL);
  char payload[256], forged[1024];
  b64url("{\"sub\":\"mallory\",\"tid\":\"acme\",\"adm\":true,\"exp\":1800000000}", payload);
  const char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
  snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(dot1 - t), t, payload, dot2);
  free(t);
  CHECK_EQ(verify(forged, &out), SB_TOKEN_BAD_SIGNATURE);
  CHECK_STR(out.user, ""); /* nothing is filled on failure */
}

SB_TEST(tampered_signature) {
  sb_token_claims_t in = alice(), out;
  char *t = sb_token_mint(secret, sizeof secret, &in);
  CHECK(t != NULL);
  char *sig = strrchr(t, '.') + 1;
  sig[0] = sig[0] == 'A' ? 'B' : 'A';
  int flipped = verify(t, &out);
  strrchr(t, '.')[1] = '\0'; /* no signature at all */
  int stripped = verify(t, &out);
  free(t);
  CHECK_EQ(flipped, SB_TOKEN_BAD_SIGNATURE);
  CHECK_EQ(stripped, SB_TOKEN_BAD_SIGNATURE);
  CHECK_STR(sb_token_strerror(flipped), "bad signature");
}

SB_TEST(wrong_secret) {
  sb_token_claims_t in = alice(), out;
  static const uint8_t other[32] = "0123456789abcdef0123456789abcdeF";
  char *t = sb_token_mint(other, sizeof other, &in);
  CHECK(t != NULL);
  int rc = verify(t, &out);
  int short_key = sb_token_verify(secret, 16, t, now, &out);
  int no_key = sb_token_verify(NULL, 0, t, now, &out);
  free(t);
  CHECK_EQ(rc, SB_TOKEN_BAD_SIGNATURE);
  CHECK_EQ(short_key, SB_TOKEN_BAD_SIGNATURE);
  CHECK_EQ(no_key, SB_TOKEN_BAD_SIGNATURE);
}

SB_TEST(alg_none_is_rejected) {
  char head[64], payload[256], token[512];
  sb_token_claims_t out;
  b64url("{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000}", payload);
  b64url("{\"alg\":\"none\"}", head);
  CHECK_STR(head, "eyJhbGciOiJub25lIn0");
  snprintf(token, sizeof token, "%s.%s.", head, payload);
  CHECK_EQ(verify(token, &out), SB_TOKEN_UNSUPPORTED_ALG);
  CHECK_STR(sb_token_strerror(SB_TOKEN_UNSUPPORTED_ALG), "unsupported algorithm");
  b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", head);
  snprintf(token, sizeof token, "%s.%s.", head, payload);
  CHECK_EQ(verify(token, &out), SB_TOKEN_UNSUPPORTED_ALG);
  /* "HS256" in the header but no signature */
  b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", head);
  snprintf(token, sizeof token, "%s.%s.", head, payload);
  CHECK_EQ(verify(token, &out), SB_TOKEN_BAD_SIGNATURE);
  /* case games and a header without alg */
  b64url("{\"alg\":\"hs256\"}", head);
  snprintf(token, sizeof token, "%s.%s.x", head, payload);
  CHECK_EQ(verify(token, &out), SB_TOKEN_UNSUPPORTED_ALG);
  b64url("{\"typ\":\"JWT\"}", head);
  snprintf(token, sizeof token, "%s.%s.x", head, payload);
  CHECK_EQ(verify(token, &out), SB_TOKEN_MALFORMED);
}

SB_TEST(other_algorithms_with_the_same_secret_are_rejected) {
  const char *grants = "{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000}";
  sb_token_claims_t out;
  char *hs512 = craft(JWT_ALG_HS512, secret, sizeof secret, grants);
  char *hs384 = craft(JWT_ALG_HS384, secret, sizeof secret, grants);
  CHECK(hs512 != NULL && hs384 != NULL);
  int rc512 = verify(hs512, &out), rc384 = verify(hs384, &out);
  free(hs512);
  free(hs384);
  CHECK_EQ(rc512, SB_TOKEN_UNSUPPORTED_ALG);
  CHECK_EQ(rc384, SB_TOKEN_UNSUPPORTED_ALG);
  CHECK_EQ(verify_grants(grants), 0); /* the same claims under HS256 pass */
}

SB_TEST(missing_claims) {
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"tid\":\"acme\"}"), SB_TOKEN_MISSING_CLAIM);
  CHECK_EQ(verify_grants("{\"tid\":\"acme\",\"exp\":1800000000}"), SB_TOKEN_MISSING_CLAIM);
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"exp\":1800000000}"), SB_TOKEN_MISSING_CLAIM);
  CHECK_STR(sb_token_strerror(SB_TOKEN_MISSING_CLAIM), "missing claim");
}

SB_TEST(bad_characters_in_sub_and_tid) {
  static const char *bad[] = {"al ice", "alice/../bob", "ålice", "alice\\n", "",
                              "0123456789012345678901234567890123456789012345678901234567890123"};
  char grants[256];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(grants, sizeof grants, "{\"sub\":\"%s\",\"tid\":\"acme\",\"exp\":1800000000}", bad[i]);
    CHECK_EQ(verify_grants(grants), SB_TOKEN_MALFORMED);
    snprintf(grants, sizeof grants, "{\"sub\":\"alice\",\"tid\":\"%s\",\"exp\":1800000000}", bad[i]);
    CHECK_EQ(verify_grants(grants), SB_TOKEN_MALFORMED);
  }
  /* a NUL inside a claim: the payload itself is refused, before the signature is checked */
  char head[64], payload[128], token[256];
  sb_token_claims_t out;
  b64url("{\"alg\":\"HS256\"}", head);
  b64url("{\"sub\":\"a\\u0000b\",\"tid\":\"acme\",\"exp\":1800000000}", payload);
  snprintf(token, sizeof token, "%s.%s.c2ln", head, payload);
  CHECK_EQ(verify(token, &out), SB_TOKEN_MALFORMED);
  /* 63 characters is the longest id */
  CHECK_EQ(verify_grants("{\"sub\":\"012345678901234567890123456789012345678901234567890123456789012\","
                         "\"tid\":\"acme\",\"exp\":1800000000}"),
           0);
}

SB_TEST(ill_typed_claims) {
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":\"1800000000\"}"),
           SB_TOKEN_MALFORMED);
  CHECK_EQ(verify_grants("{\"sub\":42,\"tid\":\"acme\",\"exp\":1800000000}"), SB_TOKEN_MALFORMED);
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000,\"adm\":\"yes\"}"),
           SB_TOKEN_MALFORMED);
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000,\"name\":7}"),
           SB_TOKEN_MALFORMED);
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000,\"iat\":\"x\"}"),
           SB_TOKEN_MALFORMED);
  char grants[512];
  snprintf(grants, sizeof grants, "{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000,"
                                  "\"name\":\"%0200d\"}", 0);
  CHECK_EQ(verify_grants(grants), SB_TOKEN_MALFORMED);
  CHECK_EQ(verify_grants("{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000,\"adm\":false}"), 0);
}

SB_TEST(garbage_strings) {
  static const char *garbage[] = {
      "abc", "a.b", "a.b.c", "...", ".", "a.b.c.d", "eyJ.eyJ.", "%%%.%%%.%%%",
      "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9..", "eyJhbGciOiJIUzI1NiJ9.e30.e30.e30",
      "W10.e30.sig",                   /* header is a JSON array */
      "bm90IGpzb24.e30.sig",           /* header is not JSON */
      "eyJhbGciOiJIUzI1NiJ9.W10.sig",  /* payload is an array */
      "eyJhbGciOiJIUzI1NiJ9.e30x.sig", /* bad base64url length */
      "eyJhbGciOiJIUzI1NiJ9.e30=.sig", /* padding is not base64url */
      "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
  };
  sb_token_claims_t out;
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
    int rc = verify(garbage[i], &out);
    if (rc != SB_TOKEN_MALFORMED)
      fprintf(stderr, "  \"%s\" -> %d\n", garbage[i], rc);
    CHECK_EQ(rc, SB_TOKEN_MALFORMED);
  }
  CHECK_STR(sb_token_strerror(SB_TOKEN_MALFORMED), "malformed token");
}

SB_TEST(empty_and_null) {
  sb_token_claims_t out;
  memset(&out, 'x', sizeof out);
  CHECK_EQ(verify("", &out), SB_TOKEN_MALFORMED);
  CHECK_EQ(out.user[0], '\0');
  CHECK_EQ(verify(NULL, &out), SB_TOKEN_MALFORMED);
  sb_token_claims_t in = alice();
  char *t = sb_token_mint(secret, sizeof secret, &in);
  CHECK(t != NULL);
  int rc = sb_token_verify(secret, sizeof secret, t, now, NULL);
  free(t);
  CHECK_EQ(rc, SB_TOKEN_MALFORMED);
}

SB_TEST(size_limit) {
  char grants[12000];
  int n = snprintf(grants, sizeof grants, "{\"sub\":\"alice\",\"tid\":\"acme\",\"exp\":1800000000,"
                                          "\"pad\":\"");
  memset(grants + n, 'p', 4000);
  strcpy(grants + n + 4000, "\"}");
  CHECK_EQ(verify_grants(grants), 0); /* about 5.5 KiB: fine */
  memset(grants + n, 'p', 6500);
  strcpy(grants + n + 6500, "\"}");
  char *t = craft(JWT_ALG_HS256, secret, sizeof secret, grants);
  CHECK(t != NULL);
  size_t len = strlen(t);
  sb_token_claims_t out;
  int rc = verify(t, &out);
  free(t);
  CHECK(len > SB_TOKEN_MAX_LEN);
  CHECK_EQ(rc, SB_TOKEN_MALFORMED);
}

SB_TEST(mint_refuses_bad_input) {
  sb_token_claims_t c = alice();
  CHECK(sb_token_mint(NULL, 32, &c) == NULL);
  CHECK(sb_token_mint(secret, 0, &c) == NULL);
  CHECK(sb_token_mint(secret, sizeof secret, NULL) == NULL);
  strcpy(c.user, "bad user");
  CHECK(sb_token_mint(secret, sizeof secret, &c) == NULL);
  c = alice();
  c.tenant[0] = '\0';
  CHECK(sb_token_mint(secret, sizeof secret, &c) == NULL);
  c = alice();
  memset(c.name, 'n', sizeof c.name); /* not terminated */
  CHECK(sb_token_mint(secret, sizeof secret, &c) == NULL);
}

SB_TEST(strerror_covers_every_code) {
  CHECK_STR(sb_token_strerror(SB_TOKEN_EXPIRED), "token expired");
  CHECK_STR(sb_token_strerror(SB_TOKEN_BAD_SIGNATURE), "bad signature");
  CHECK_STR(sb_token_strerror(SB_TOKEN_MALFORMED), "malformed token");
  CHECK_STR(sb_token_strerror(SB_TOKEN_MISSING_CLAIM), "missing claim");
  CHECK_STR(sb_token_strerror(SB_TOKEN_UNSUPPORTED_ALG), "unsupported algorithm");
  CHECK_STR(sb_token_strerror(-99), "malformed token");
}
