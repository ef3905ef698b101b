#include "sbtest.h"
#include "signaling/turn.h"

#include <stdlib.h>
#include <unistd.h>

/* Writes text to a new temporary file; path receives its name. */
static void temp_file(char path[64], const char *text) {
  snprintf(path, 64, "/tmp/sb-test-turn-XXXXXX");
  int fd = mkstemp(path);
  if (fd >= 0) {
    ssize_t w = write(fd, text, strlen(text));
    (void)w;
    close(fd);
  }
}

/* RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?") =
 * effcdf6ae5eb2fa2d27416d5f184df9c259a7c79, here in base64. */
SB_TEST(password_rfc2202_vector) {
  char out[29];
  CHECK_EQ(sb_turn_password((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", out,
                            sizeof out),
           0);
  CHECK_STR(out, "7/zfauXrL6LSdBbV8YTfnCWafHk=");
}

/* A REST API credential, checked independently:
 *   printf %s 1700086400:acme.alice | openssl dgst -sha1 -hmac north-sea-2024 -binary | base64 */
SB_TEST(password_rest_api_vector) {
  char user[64], out[29];
  CHECK_EQ(sb_turn_username(1700086400, "acme", "alice", user, sizeof user), 0);
  CHECK_STR(user, "1700086400:acme.alice");
  CHECK_EQ(sb_turn_password((const uint8_t *)"north-sea-2024", 14, user, out, sizeof out), 0);
  CHECK_STR(out, "WJ6TKnr0LloWlZM2AkWgschAkeI=");
  CHECK_EQ(sb_turn_password((const uint8_t *)"north-sea-2024", 14, user, out, 28), -1);
  CHECK_EQ(sb_turn_username(1700086400, "acme", "alice", user, 12), -1);
}

SB_TEST(check_urls) {
  CHECK_EQ(sb_turn_check_urls(""), 0);
  CHECK_EQ(sb_turn_check_urls("turn:10.0.0.1:3478"), 0);
  CHECK_EQ(sb_turn_check_urls("turn:t.example:3478?transport=udp,turns:t.example:5349"), 0);
  CHECK_EQ(sb_turn_check_urls("stun:t.example:3478"), -1);
  CHECK_EQ(sb_turn_check_urls("turn:"), -1);
  CHECK_EQ(sb_turn_check_urls("turn:a,,turn:b"), -1);
  CHECK_EQ(sb_turn_check_urls("turn:a b"), -1);
  CHECK_EQ(sb_turn_check_urls("turn:a\""), -1);
  CHECK_EQ(sb_turn_check_urls("turn:1,turn:2,turn:3,turn:4,turn:5,turn:6,turn:7,turn:8"), 0);
  CHECK_EQ(sb_turn_check_urls("turn:1,turn:2,turn:3,turn:4,turn:5,turn:6,turn:7,turn:8,turn:9"),
           -1);
}

/* The secret file's content up to one trailing newline is the key, as coturn reads
 * static-auth-secret; the ice_servers entry carries every URL and a matching credential. */
SB_TEST(ice_servers_from_config) {
  char path[64], err[256];
  sb_turn_t t;
  temp_file(path, "north-sea-2024\n");
  int rc = sb_turn_setup(&t, "turn:10.0.0.2:3478?transport=udp,turn:10.0.0.2:3478?transport=tcp",
                         path, 3600, err, sizeof err);
  unlink(path);
  CHECK_EQ(rc, 0);
  CHECK_EQ(t.n_urls, 2);
  CHECK_EQ(t.secret_len, 14);
  json_t *s = sb_turn_ice_servers(&t, "acme", "alice", 1700082800);
  CHECK(s && json_array_size(s) == 1);
  json_t *e = json_array_get(s, 0);
  CHECK_STR(json_string_value(json_object_get(e, "username")), "1700086400:acme.alice");
  CHECK_STR(json_string_value(json_object_get(e, "credential")), "WJ6TKnr0LloWlZM2AkWgschAkeI=");
  json_t *urls = json_object_get(e, "urls");
  CHECK_EQ(json_array_size(urls), 2);
  CHECK_STR(json_string_value(json_array_get(urls, 1)), "turn:10.0.0.2:3478?transport=tcp");
  json_decref(s);
  sb_turn_clear(&t);
  CHECK_EQ(t.secret_len, 0);
}

SB_TEST(off_and_misconfigured) {
  char path[64], err[256];
  sb_turn_t t;
  int rc;
  CHECK_EQ(sb_turn_setup(&t, "", "", 86400, err, sizeof err), 0);
  CHECK_EQ(t.n_urls, 0);
  CHECK(sb_turn_ice_servers(&t, "acme", "alice", 1) == NULL);
  CHECK_EQ(sb_turn_setup(&t, "", "/tmp/x", 86400, err, sizeof err), -1);
  CHECK_EQ(sb_turn_setup(&t, "turn:a", "", 86400, err, sizeof err), -1);
  CHECK_EQ(sb_turn_setup(&t, "turn:a", "/nonexistent/turn-secret", 86400, err, sizeof err), -1);
  temp_file(path, "\n");
  rc = sb_turn_setup(&t, "turn:a", path, 86400, err, sizeof err);
  unlink(path);
  CHECK_EQ(rc, -1);
  temp_file(path, "two\nlines\n");
  rc = sb_turn_setup(&t, "turn:a", path, 86400, err, sizeof err);
  unlink(path);
  CHECK_EQ(rc, -1);
  CHECK(strstr(err, "lines") == NULL); /* the secret never appears in a message */
}
