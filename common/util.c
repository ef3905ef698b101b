#include "common/util.h"

#include <dlfcn.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t sb_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sb_now_ms(void) { return sb_now_us() / 1000u; }

void *sb_calloc_lines(size_t size) {
  void *p = NULL;
  if (posix_memalign(&p, SB_CACHE_LINE, size) != 0)
    return NULL;
  memset(p, 0, size);
  return p;
}

void *sb_grow(void *items, size_t *cap, size_t need, size_t size, size_t first) {
  if (need == 0)
    need = 1; /* so that NULL means only failure */
  if (need <= *cap && items)
    return items;
  size_t n = *cap ? *cap : (first ? first : 1);
  while (n < need) {
    if (n > SIZE_MAX / 2)
      return NULL;
    n *= 2;
  }
  if (size && n > SIZE_MAX / size)
    return NULL;
  void *p = realloc(items, n * size);
  if (p)
    *cap = n;
  return p;
}

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

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or code points
 * above U+10FFFF, as jansson checks), or 0. */
static size_t utf8_len(const unsigned char *p) {
  unsigned c = p[0];
  unsigned lo = 0x80, hi = 0xBF;
  size_t n;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else
    return 0;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

char *sb_utf8_sanitize(char *s) {
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    size_t n = utf8_len(p);
    if (n == 0)
      *p++ = '?';
    else
      p += n;
  }
  return s;
}

static const char *malloc_name = "glibc";
static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;

/* tcmalloc counts what it has handed out: more than nothing means it is the malloc in use, not a
 * library merely loaded behind glibc's. */
static void find_malloc(void) {
  typedef int (*property_fn)(const char *name, size_t *value);
  property_fn property = (property_fn)dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
  size_t allocated = 0;
  if (property && property("generic.current_allocated_bytes", &allocated) && allocated > 0)
    malloc_name = "tcmalloc";
  else if (dlsym(RTLD_DEFAULT, "__asan_init") || dlsym(RTLD_DEFAULT, "__tsan_init"))
    malloc_name = "sanitizer";
}

const char *sb_malloc_name(void) {
  pthread_once(&malloc_once, find_malloc); /* a process keeps its allocator: looked up once */
  return malloc_name;
}
