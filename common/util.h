/* Small shared helpers: clocks, random bytes, hex. */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define SB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/** Monotonic clock in microseconds / milliseconds. */
uint64_t sb_now_us(void);
uint64_t sb_now_ms(void);
/** Wall clock in milliseconds since the epoch. */
uint64_t sb_wall_ms(void);

/** Cache-line size that the relay lays its per-packet structures out for. */
#define SB_CACHE_LINE 64
/** Zeroed memory for `size` bytes starting on a cache line (so a struct whose hot fields were
 * grouped into its first lines really occupies those lines); free() releases it. NULL if none. */
void *sb_calloc_lines(size_t size);

/** Room in a growing array for `need` elements of `size` bytes (at least one, so that NULL means
 * failure). Returns `items` itself if its *cap elements are enough; else the array moved to *cap
 * (or `first`, the first time) doubled until it is enough, *cap updated. NULL if out of memory or
 * the size overflows: then `items` is still the caller's, unchanged, and *cap as it was. */
void *sb_grow(void *items, size_t *cap, size_t need, size_t size, size_t first);

/** Fills buf with cryptographically secure random bytes (OpenSSL); 0 or -1. */
int sb_random_bytes(void *buf, size_t len);
/** A random uint32 that is not 0. */
uint32_t sb_random_u32(void);
/** Writes `len` random characters from [A-Za-z0-9+/] and a NUL (ICE ufrag/pwd alphabet). */
int sb_random_ice_string(char *out, size_t len);

/** Replaces each byte of `s` (NUL-terminated) that does not start a valid UTF-8 sequence with
 * '?', in place, so that the text can go into JSON: jansson refuses invalid UTF-8, and a message
 * that quotes input cut at a byte count (e.g. "%.64s") can end inside a character. Returns s. */
char *sb_utf8_sanitize(char *s);

/** Lower-case hex of len bytes into out (2*len+1 bytes). */
void sb_hex(const uint8_t *in, size_t len, char *out);

/** The allocator malloc is in this process: "tcmalloc" (the server's build links it, or it was
 * preloaded), "sanitizer" (ASan or TSan's own), or "glibc". Found by symbol, so it names what
 * runs, not what was configured; looked up on the first call. Thread-safe. */
const char *sb_malloc_name(void);

#endif
