/* libFuzzer target for the SDP parser and writer (relay/sdp.c and sdp_write.c depend on libc only).
 *
 * Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. \
 *       tests/fuzz/fuzz_sdp.c relay/sdp.c relay/sdp_write.c -o build-fuzz/fuzz_sdp
 *   mkdir -p build-fuzz/corpus-sdp
 *   build-fuzz/fuzz_sdp -max_total_time=30 -max_len=300000 -timeout=5 \
 *       build-fuzz/corpus-sdp tests/fuzz/corpus/sdp
 * (new inputs go to the first folder; the seeds in tests/fuzz/corpus/sdp stay as they are)
 *
 * Besides memory errors it checks that a failed parse explains itself, that whatever parses can
 * be written, that the writer never reports success into a buffer that is too small, and that
 * write∘parse reaches a fixed point after one round (what the relay writes, it reads back). */
#include "relay/sdp.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OUT_MAX (4u << 20) /* far above what 256 KiB of SDP can expand to */

static sb_sdp_t sdp;
static char t1[OUT_MAX], t2[OUT_MAX], t3[OUT_MAX];

/* Parses `in` and writes it to `out`; returns the length, or -1 if it did not parse. */
static int round_trip(const char *in, size_t len, char *out) {
  char err[128];
  memset(err, 'E', sizeof err);
  if (sb_sdp_parse(in, len, &sdp, err, sizeof err) != 0) {
    if (!memchr(err, '\0', sizeof err) || err[0] == '\0')
      __builtin_trap(); /* every error has a reason, NUL-terminated */
    return -1;
  }
  int n = sb_sdp_write(&sdp, out, OUT_MAX);
  if (n < 0 || (size_t)n != strlen(out))
    __builtin_trap();
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int n1 = round_trip((const char *)data, size, t1);
  if (n1 < 0)
    return 0;
  /* A buffer one byte short, or any shorter size, fails and stays NUL-terminated in bounds. */
  size_t small = size ? (size_t)data[0] * 131u % (size_t)n1 + 1 : (size_t)n1;
  t2[small] = 'Z';
  if (sb_sdp_write(&sdp, t2, small) != -1 || !memchr(t2, '\0', small) || t2[small] != 'Z')
    __builtin_trap();
  int n2 = round_trip(t1, (size_t)n1, t2);
  if (n2 < 0)
    __builtin_trap(); /* our own output must parse */
  int n3 = round_trip(t2, (size_t)n2, t3);
  if (n3 != n2 || memcmp(t2, t3, (size_t)n2) != 0)
    __builtin_trap();
  return 0;
}
