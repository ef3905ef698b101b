/* Receive statistics of one RTP stream as RFC 3550 appendix A.1/A.8 defines them, plus
 * duplicates and reordering. Pure arithmetic on (sequence number, RTP timestamp, arrival time):
 * no I/O and no allocation, so it is tested without sockets. */
#ifndef SB_BENCH_RXSTATS_H
#define SB_BENCH_RXSTATS_H

#include <stdint.h>

#define SB_RX_WINDOW 1024 /* packets remembered for duplicate detection */

typedef struct {
  uint32_t clock_hz;       /* RTP clock, for jitter */
  int started;
  int64_t base_ext;        /* extended sequence number of the first packet */
  int64_t max_ext;         /* highest extended sequence number seen */
  uint64_t received;       /* unique packets */
  uint64_t duplicates;
  uint64_t reordered;      /* arrived after a higher sequence number */
  uint64_t too_old;        /* older than the window: counted as received, not as duplicates */
  uint64_t bytes;
  double jitter;           /* in RTP timestamp units */
  int64_t last_transit;
  uint64_t seen[SB_RX_WINDOW / 64];
} sb_rxstats_t;

typedef enum { SB_RX_NEW = 0, SB_RX_REORDERED, SB_RX_DUPLICATE, SB_RX_TOO_OLD } sb_rx_verdict_t;

/** Starts a stream with an RTP clock rate (48000, 90000). */
void sb_rxstats_init(sb_rxstats_t *s, uint32_t clock_hz);

/** Accounts one packet arriving at arrival_us (any monotonic clock). Returns its verdict;
 * *expected_delta is how much the expected count grew (for running loss totals). */
sb_rx_verdict_t sb_rxstats_add(sb_rxstats_t *s, uint16_t seq, uint32_t rtp_ts, uint64_t arrival_us,
                               uint32_t bytes, int64_t *expected_delta);

/** Accounts a packet that SRTP rejected as a replay: a duplicate the receiver never sees. */
void sb_rxstats_add_replay(sb_rxstats_t *s);

/** Packets expected from the first to the highest sequence number seen. */
uint64_t sb_rxstats_expected(const sb_rxstats_t *s);

/** Lost packets (expected - received, never negative). */
uint64_t sb_rxstats_lost(const sb_rxstats_t *s);

/** Interarrival jitter in milliseconds. */
double sb_rxstats_jitter_ms(const sb_rxstats_t *s);

#endif
