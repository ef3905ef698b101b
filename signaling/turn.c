#include "signaling/turn.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

/* Calls one item of a comma-separated list; stops at the first non-zero result. */
static int each_url(const char *list, int (*fn)(const char *url, size_t len, void *arg),
                    void *arg) {
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    int rc = fn(p, len, arg);
    if (rc)
      return rc;
    p += len + (p[len] == ',');
  }
  return 0;
}

/* turn:HOST[:PORT][?transport=udp|tcp] or turns:...; no spaces, not empty after the scheme. */
static int check_one(const char *url, size_t len, void *arg) {
  int *count = arg;
  size_t scheme = strncmp(url, "turn:", 5) == 0 ? 5 : strncmp(url, "turns:", 6) == 0 ? 6 : 0;
  if (!scheme || len <= scheme || len >= sizeof(((sb_turn_t *)0)->urls[0]))
    return -1;
  for (size_t i = 0; i < len; i++)
    if (url[i] <= ' ' || url[i] == '"' || url[i] == '\\' || (unsigned char)url[i] >= 0x7f)
      return -1;
  return ++*count > SB_TURN_MAX_URLS ? -1 : 0;
}

int sb_turn_check_urls(const char *list) {
  int count = 0;
  return each_url(list, check_one, &count);
}

static int add_url(const char *url, size_t len, void *arg) {
  sb_turn_t *t = arg;
  memcpy(t->urls[t->n_urls], url, len);
  t->urls[t->n_urls++][len] = '\0';
  return 0;
}

static int read_secret(sb_turn_t *t, const char *path, char *err, size_t errlen) {
  char buf[SB_TURN_MAX_SECRET + 2];
  struct stat st;
  int rc = -1;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot read the TURN secret file %s: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
    sb_warn(NULL, "the TURN secret file %s is readable by others than its owner (chmod 600)", path);
  size_t n = fread(buf, 1, sizeof buf, f);
  /* One trailing newline is the file's, not the secret's (coturn reads `static-auth-secret=`
   * up to the end of its line). */
  if (n && buf[n - 1] == '\n')
    n--;
  if (n && buf[n - 1] == '\r')
    n--;
  if (n == 0 || n > SB_TURN_MAX_SECRET) {
    snprintf(err, errlen, "the TURN secret in %s must be 1-%d bytes", path, SB_TURN_MAX_SECRET);
    goto Exit;
  }
  if (memchr(buf, '\n', n) || memchr(buf, '\r', n) || memchr(buf, '\0', n)) {
    snprintf(err, errlen, "the TURN secret in %s must be one line", path);
    goto Exit;
  }
  memcpy(t->secret, buf, n);
  t->secret_len = n;
  rc = 0;
Exit:
  OPENSSL_cleanse(buf, sizeof buf);
  fclose(f);
  return rc;
}

int sb_turn_setup(sb_turn_t *t, const char *urls, const char *secret_file, int ttl_s, char *err,
                  size_t errlen) {
  memset(t, 0, sizeof *t);
  t->ttl_s = ttl_s;
  if (!urls[0]) {
    if (secret_file[0]) {
      snprintf(err, errlen, "turn-secret-file is set but turn-url is not");
      return -1;
    }
    return 0;
  }
  if (sb_turn_check_urls(urls) != 0) {
    snprintf(err, errlen, "turn-url: expected up to %d comma-separated turn: or turns: URLs",
             SB_TURN_MAX_URLS);
    return -1;
  }
  if (!secret_file[0]) {
    snprintf(err, errlen, "turn-url needs turn-secret-file (coturn's static-auth-secret)");
    return -1;
  }
  if (ttl_s <= 0) {
    snprintf(err, errlen, "turn-ttl must be positive");
    return -1;
  }
  if (read_secret(t, secret_file, err, errlen) != 0)
    return -1;
  each_url(urls, add_url, t);
  return 0;
}

int sb_turn_username(int64_t expiry, const char *tenant, const char *user, char *out,
                     size_t outlen) {
  int n = snprintf(out, outlen, "%lld:%s.%s", (long long)expiry, tenant, user);
  return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int sb_turn_password(const uint8_t *secret, size_t secret_len, const char *username, char *out,
                     size_t outlen) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (outlen < 29 || secret_len > SB_TURN_MAX_SECRET)
    return -1;
  if (!HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)username,
            strlen(username), mac, &maclen) ||
      maclen != 20)
    return -1;
  EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen); /* 28 characters and a NUL */
  OPENSSL_cleanse(mac, sizeof mac);
  return 0;
}

json_t *sb_turn_ice_servers(const sb_turn_t *t, const char *tenant, const char *user,
                            int64_t now) {
  char username[160], password[32];
  if (!t || t->n_urls == 0)
    return NULL;
  if (sb_turn_username(now + t->ttl_s, tenant, user, username, sizeof username) != 0 ||
      sb_turn_password(t->secret, t->secret_len, username, password, sizeof password) != 0)
    return NULL;
  json_t *urls = json_array();
  for (int i = 0; i < t->n_urls; i++)
    json_array_append_new(urls, json_string(t->urls[i]));
  json_t *servers = json_pack("[{s:o, s:s, s:s}]", "urls", urls, "username", username,
                              "credential", password);
  OPENSSL_cleanse(password, sizeof password);
  return servers;
}

void sb_turn_clear(sb_turn_t *t) {
  if (t)
    OPENSSL_cleanse(t, sizeof *t);
}
