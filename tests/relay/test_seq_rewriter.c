#include "relay/seq_rewriter.h"
#include "sbtest.h"

#define A 0xaaaa0001u
#define B 0xbbbb0002u

typedef struct {
  int rc;
  uint16_t seq;
  uint32_t ts;
} res_t;

static res_t rw_(sb_seq_rewriter_t *rw, uint32_t ssrc, uint16_t seq, uint32_t ts, uint64_t now_us) {
  res_t r = {0};
  r.rc = sb_seq_rewriter_rewrite(rw, ssrc, seq, ts, now_us, &r.seq, &r.ts);
  return r;
}

SB_TEST(first_packet_takes_the_chosen_start) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 500, 123456);
  res_t r = rw_(&rw, A, 7000, 90000, 0);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 500);
  CHECK_EQ(r.ts, 123456);
  r = rw_(&rw, A, 7001, 93000, 33000);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, 501);
  CHECK_EQ(r.ts, 126456);
  /* A gap within the source passes through as a gap. */
  r = rw_(&rw, A, 7005, 96000, 66000);
  CHECK_EQ(r.seq, 505);
  CHECK_EQ(r.ts, 129456);
}

SB_TEST(reordered_packets_keep_their_order) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 100, 0);
  rw_(&rw, A, 10, 1000, 0);
  rw_(&rw, A, 13, 1000, 1);
  res_t r = rw_(&rw, A, 12, 1000, 2);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, 102);
  r = rw_(&rw, A, 11, 1000, 3);
  CHECK_EQ(r.seq, 101);
  /* The highest stays 103: a switch now continues at 104. */
  r = rw_(&rw, B, 9000, 5, 4);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 104);
}

SB_TEST(switch_continues_seq_and_timestamp_by_wall_time) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 1000, 5000);
  uint64_t t = 1000000;
  for (int i = 0; i < 10; i++)
    rw_(&rw, A, (uint16_t)(20000 + i), (uint32_t)(3000 * i), t + 33333u * i);
  /* Last A packet: out seq 1009, ts 5000 + 27000 at t + 299997 us. */
  res_t r = rw_(&rw, B, 50000, 777, t + 299997 + 40000);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 1010);
  CHECK_EQ(r.ts, 5000 + 27000 + 3600); /* 40 ms at 90 kHz */
  r = rw_(&rw, B, 50001, 777 + 3000, t + 299997 + 73333);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, 1011);
  CHECK_EQ(r.ts, 5000 + 27000 + 3600 + 3000);
}

SB_TEST(packets_from_before_the_switch_are_dropped) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 0, 0);
  rw_(&rw, A, 100, 0, 0);
  rw_(&rw, A, 101, 0, 0);
  CHECK_EQ(rw_(&rw, B, 5000, 0, 10).rc, 1);
  /* B's packets sent before the one we switched on would reuse A's output numbers. */
  CHECK_EQ(rw_(&rw, B, 4999, 0, 11).rc, -1);
  CHECK_EQ(rw_(&rw, B, 4990, 0, 11).rc, -1);
  /* A late A packet is a straggler, not a switch back. */
  CHECK_EQ(rw_(&rw, A, 101, 0, 12).rc, -1);
  CHECK_EQ(rw_(&rw, A, 99, 0, 12).rc, -1);
  CHECK_EQ(rw.dropped, 4);
  res_t r = rw_(&rw, B, 5001, 0, 13);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, 3);
  /* A newer A packet is a real switch back. */
  r = rw_(&rw, A, 102, 0, 14);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 4);
}

SB_TEST(output_seq_wraps_65535_to_0) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 48000, 65534, 0);
  uint16_t want[] = {65534, 65535, 0, 1};
  for (int i = 0; i < 4; i++) {
    res_t r = rw_(&rw, A, (uint16_t)(300 + i), (uint32_t)(960 * i), 20000u * i);
    CHECK_EQ(r.seq, want[i]);
  }
  /* Reordering across the output wrap: input 301 comes again, maps to 65535. */
  CHECK_EQ(rw_(&rw, A, 301, 960, 80000).seq, 65535);
  /* A switch right after the wrap continues at 2. */
  CHECK_EQ(rw_(&rw, B, 40000, 0, 100000).seq, 2);
}

SB_TEST(input_seq_wrap_within_a_source) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 48000, 10, 0);
  CHECK_EQ(rw_(&rw, A, 65534, 0, 0).seq, 10);
  CHECK_EQ(rw_(&rw, A, 65535, 960, 1).seq, 11);
  CHECK_EQ(rw_(&rw, A, 1, 2880, 2).seq, 13);
  res_t r = rw_(&rw, A, 0, 1920, 3);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, 12);
  /* Before the first packet of the segment, across the wrap. */
  CHECK_EQ(rw_(&rw, A, 65533, 0, 4).rc, -1);
}

SB_TEST(timestamp_wraps_2_pow_32) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 0, 0xffffe000u);
  CHECK_EQ(rw_(&rw, A, 1, 1000, 0).ts, 0xffffe000u);
  CHECK_EQ(rw_(&rw, A, 2, 4000, 33333).ts, 0xffffe000u + 3000);
  CHECK_EQ(rw_(&rw, A, 3, 7000, 66666).ts, (uint32_t)(0xffffe000u + 6000)); /* wrapped */
  /* The source's own timestamp wraps too. */
  sb_seq_rewriter_t r2;
  sb_seq_rewriter_init(&r2, 90000, 0, 100);
  rw_(&r2, A, 1, 0xfffff000u, 0);
  CHECK_EQ(rw_(&r2, A, 2, 0xfffff000u + 3000, 33333).ts, 3100);
  /* A switch past the 2^32 boundary of the output clock. */
  sb_seq_rewriter_t r3;
  sb_seq_rewriter_init(&r3, 90000, 0, 0xffffff00u);
  rw_(&r3, A, 1, 5, 0);
  res_t r = rw_(&r3, B, 9, 77, 10000); /* 10 ms = 900 ticks */
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.ts, (uint32_t)(0xffffff00u + 900));
  CHECK_EQ(r.ts, 644);
}

SB_TEST(switch_without_elapsed_time_still_advances_timestamp) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 0, 1000);
  rw_(&rw, A, 1, 0, 500);
  res_t r = rw_(&rw, B, 1, 0, 500);
  CHECK_EQ(r.ts, 1001);
  /* A clock that went backwards counts as no time. */
  r = rw_(&rw, A, 2, 0, 100);
  CHECK_EQ(r.ts, 1002);
}

SB_TEST(same_ssrc_restart_by_jump_or_explicit_switch) {
  sb_seq_rewriter_t rw;
  sb_seq_rewriter_init(&rw, 90000, 0, 0);
  rw_(&rw, A, 30000, 0, 0);
  rw_(&rw, A, 30001, 0, 0);
  /* Within the jump limit: same segment, the gap shows. */
  res_t r = rw_(&rw, A, 30001 + SB_SEQ_REWRITER_MAX_JUMP, 0, 0);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, 1 + SB_SEQ_REWRITER_MAX_JUMP);
  /* The producer restarted with a lower seq: rebase, no gap. */
  r = rw_(&rw, A, 100, 0, 0);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 2 + SB_SEQ_REWRITER_MAX_JUMP);
  /* A big forward jump is a restart too. */
  r = rw_(&rw, A, 100 + SB_SEQ_REWRITER_MAX_JUMP + 1, 0, 0);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 3 + SB_SEQ_REWRITER_MAX_JUMP);
  /* An explicit switch rebases even a contiguous seq. */
  sb_seq_rewriter_switch(&rw);
  r = rw_(&rw, A, 100 + SB_SEQ_REWRITER_MAX_JUMP + 10, 0, 0);
  CHECK_EQ(r.rc, 1);
  CHECK_EQ(r.seq, 4 + SB_SEQ_REWRITER_MAX_JUMP);
}

SB_TEST(unmap_finds_the_source_of_an_output_seq) {
  sb_seq_rewriter_t rw;
  uint32_t ssrc, tso;
  uint16_t in;
  sb_seq_rewriter_init(&rw, 90000, 65530, 0);
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 65530, &ssrc, &in, &tso), -1);
  for (uint16_t i = 0; i < 10; i++)
    rw_(&rw, A, (uint16_t)(100 + i), 1000u + i, i); /* out 65530..3 */
  for (uint16_t i = 0; i < 10; i++)
    rw_(&rw, B, (uint16_t)(9000 + i), 50u + i, 100 + i); /* out 4..13 */
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 65535, &ssrc, &in, &tso), 0);
  CHECK_EQ(ssrc, A);
  CHECK_EQ(in, 105);
  CHECK_EQ(tso, (uint32_t)(0 - 1000));
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 3, &ssrc, &in, NULL), 0);
  CHECK_EQ(ssrc, A);
  CHECK_EQ(in, 109);
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 4, &ssrc, &in, NULL), 0);
  CHECK_EQ(ssrc, B);
  CHECK_EQ(in, 9000);
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 13, NULL, &in, NULL), 0);
  CHECK_EQ(in, 9009);
  /* Not sent yet, or before the first packet. */
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 14, &ssrc, &in, NULL), -1);
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 65529, &ssrc, &in, NULL), -1);
}

SB_TEST(unmap_forgets_segments_beyond_history) {
  sb_seq_rewriter_t rw;
  uint32_t ssrc;
  sb_seq_rewriter_init(&rw, 90000, 0, 0);
  /* Segment k has output seq k (one packet each), alternating sources. */
  for (uint32_t k = 0; k <= SB_SEQ_REWRITER_HISTORY; k++)
    CHECK_EQ(rw_(&rw, (k % 2) ? B : A, (uint16_t)(1000 * k), 0, k).rc, 1);
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, 0, &ssrc, NULL, NULL), -1);
  for (uint16_t k = 1; k <= SB_SEQ_REWRITER_HISTORY; k++)
    CHECK_EQ(sb_seq_rewriter_unmap(&rw, k, &ssrc, NULL, NULL), 0);
}

SB_TEST(long_segment_keeps_unmapping_recent_seqs) {
  sb_seq_rewriter_t rw;
  uint16_t in;
  sb_seq_rewriter_init(&rw, 90000, 0, 0);
  /* 100000 packets of one source: the segment outgrows half the seq space and wraps. */
  for (uint32_t i = 0; i < 100000; i++) {
    res_t r = rw_(&rw, A, (uint16_t)(5000 + i), i * 3000, (uint64_t)i * 1000);
    CHECK_EQ(r.rc, (i == 0 ? 1 : 0));
    CHECK_EQ(r.seq, (uint16_t)i);
  }
  uint16_t last = (uint16_t)99999;
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, last, NULL, &in, NULL), 0);
  CHECK_EQ(in, (uint16_t)(5000 + 99999));
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, (uint16_t)(last - 500), NULL, &in, NULL), 0);
  CHECK_EQ(in, (uint16_t)(5000 + 99999 - 500));
  /* Further back than half the seq space is ambiguous: refused. */
  CHECK_EQ(sb_seq_rewriter_unmap(&rw, (uint16_t)(last - 40000), NULL, &in, NULL), -1);
  /* A late packet 600 back is still forwarded in place. */
  res_t r = rw_(&rw, A, (uint16_t)(5000 + 99999 - 600), 0, 100000000);
  CHECK_EQ(r.rc, 0);
  CHECK_EQ(r.seq, (uint16_t)(99999 - 600));
}
