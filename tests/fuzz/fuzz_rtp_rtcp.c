/* libFuzzer target for the RTP/RTCP parsers: demultiplexing, RTP header and extensions, and the
 * RTCP compound iterator with every item parser. Not part of the default build. Build and run
 * from the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_rtp_rtcp.c \
 *       relay/rtp.c relay/rtcp.c relay/twcc.c relay/bwe.c -lm -o build-fuzz-rtp-rtcp
 *   ./build-fuzz-rtp-rtcp -max_total_time=30 -max_len=2048 tests/fuzz/corpus/rtp_rtcp
 *
 * (Pass a scratch directory before the seed directory to keep new inputs out of the repo.)
 * Besides memory errors it traps when a parser's results break their own invariants. */
#include "relay/rtcp.h"
#include "relay/rtp.h"
#include "relay/bwe.h"
#include "relay/twcc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                                          \
  do {                                                                                     \
    if (!(c))                                                                              \
      __builtin_trap();                                                                    \
  } while (0)

static void count_seq(uint16_t seq, void *arg) {
  (void)seq;
  ++*(int *)arg;
}

static void fuzz_rtp(uint8_t *buf, size_t len) {
  sb_rtp_packet_t p;
  if (sb_rtp_parse(buf, len, &p) != 0)
    return;
  REQUIRE(p.header_len + p.payload_len + p.pad_len == len);
  REQUIRE(p.payload == buf + p.header_len);
  REQUIRE(!p.ext || (p.ext >= buf + 16 && p.ext + p.ext_len <= buf + p.header_len));
  for (int id = 0; id < 256; id++) {
    const uint8_t *v = NULL;
    int n = sb_rtp_find_ext(&p, (uint8_t)id, &v);
    if (n >= 0)
      REQUIRE(v >= p.ext && v + n <= p.ext + p.ext_len);
  }
}

static void count_status(void *arg, uint16_t seq, int received, int64_t arrival_us) {
  (void)seq;
  (void)arrival_us;
  REQUIRE(received == 0 || received == 1);
  ++*(int *)arg;
}

/* A subscriber's estimate that has sent packets and keeps learning from whatever feedback the
 * input holds: its state must stay within bounds whatever arrives. */
static sb_bwe_t bwe;

static void fuzz_bwe(const sb_rtcp_item_t *item) {
  static uint64_t now_us = 1000000;
  if (!bwe.history) {
    sb_bwe_init(&bwe);
    REQUIRE(sb_bwe_enable_delay(&bwe) == 0);
  }
  for (int i = 0; i < 50; i++)
    sb_bwe_on_send(&bwe, 1000, now_us += 2000);
  sb_bwe_on_feedback(&bwe, item->data, item->len, now_us / 1000);
  uint64_t est = sb_bwe_estimate(&bwe, now_us / 1000);
  REQUIRE(est >= SB_BWE_MIN_BPS && est <= SB_BWE_MAX_BPS);
  uint64_t target = sb_bwe_probe_due(&bwe, 10000000, now_us / 1000);
  REQUIRE(target == 0 || target <= SB_BWE_MAX_BPS);
}

static void fuzz_rtcp_item(const sb_rtcp_item_t *item) {
  sb_rtcp_sr_t sr;
  sb_rtcp_report_block_t rb;
  uint32_t s, m, ssrcs[32];
  uint64_t rate;
  int n = 0;
  sb_rtcp_parse_sr(item, &sr);
  for (int i = 0; i <= item->count + 1; i++)
    sb_rtcp_report_block(item, i, &rb);
  sb_rtcp_fb_ssrcs(item, &s, &m);
  int got = sb_rtcp_nack_foreach(item, count_seq, &n);
  REQUIRE(got == -1 || got == n);
  REQUIRE(sb_rtcp_fir_entries(item, ssrcs, 32) <= 32);
  if (sb_rtcp_parse_remb(item, &rate, ssrcs, &n, 32) == 0)
    REQUIRE(n >= 0 && n <= 32);
  sb_twcc_fb_header_t h;
  int statuses = 0;
  got = sb_twcc_parse(item->data, item->len, &h, count_status, &statuses);
  REQUIRE(got == -1 || (got == statuses && got == h.count));
  fuzz_bwe(item);
}

static void fuzz_rtcp(const uint8_t *buf, size_t len) {
  sb_rtcp_iter_t it;
  sb_rtcp_item_t item;
  size_t total = 0;
  int r;
  sb_rtcp_iter_init(&it, buf, len);
  while ((r = sb_rtcp_next(&it, &item)) == 1) {
    REQUIRE(item.len >= 4 && item.len % 4 == 0 && item.data == buf + total);
    total += item.len;
    REQUIRE(total <= len);
    fuzz_rtcp_item(&item);
  }
  REQUIRE(r == -1 ? it.error : total == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size heap copy, so that reading one byte past `size` is caught; the RTP parser
   * takes a writable buffer. */
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  sb_pkt_classify(buf, size);
  fuzz_rtp(buf, size);
  fuzz_rtcp(buf, size);
  free(buf);
  return 0;
}
