#include "common/util.h"

#include <openssl/rand.h>
#include <time.h>

uint64_t sb_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sb_now_ms(void) { return sb_now_us() / 1000u; }

uint64_t sb_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sb_random_bytes(void *buf, size_t len) {
  return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

uint32_t sb_random_u32(void) {
  uint32_t v = 0;
  while (v == 0)
    if (sb_random_bytes(&v, sizeof v) != 0)
      v = (uint32_t)time(NULL); /* not reached with a working OpenSSL */
  return v;
}

int sb_random_ice_string(char *out, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t raw[256];
  if (len >= sizeof raw || sb_random_bytes(raw, len) != 0)
    return -1;
  for (size_t i = 0; i < len; i++)
    out[i] = alphabet[raw[i] & 63];
  out[len] = '\0';
  return 0;
}

void sb_hex(const uint8_t *in, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}
