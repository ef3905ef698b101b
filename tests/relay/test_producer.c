/* A producer fanning out to three consumers (two plain, one simulcast) on other transports, fed
 * RTP, RTX and RTCP sequences through its transport with a fake environment: keyframe gating,
 * continuous output numbering, RTX recovery, and keyframe requests queued as control datagrams
 * while the forwarding slot has one owner. */
#include "relay_fixture.h"
#include "sbtest.h"

#include "room_fixture.h"

SB_TEST(three_consumers_wait_for_a_keyframe_then_all_get_every_packet) {
  room_t *r = room_new();
  CHECK(r->pub && r->c[0] && r->c[1] && r->c[2]);
  CHECK_EQ(r->pub->producers[1]->nconsumers, 3);

  send_video(r, 0, 100, 1, 0); /* a delta frame first: nobody may start with it */
  CHECK_EQ(fx_count_to(&r->f, 2, 0, 1) + fx_count_to(&r->f, 3, 0, 1) + fx_count_to(&r->f, 4, 0, 1), 0);
  /* ... and the publisher is asked for a keyframe: once (rate limited), as a control datagram */
  CHECK_EQ(fx_count_to(&r->f, 1, 0, 0), 1);
  CHECK_EQ(r->f.slot_violations, 0);
  fx_dgram_t pli = r->f.sent[r->f.nsent - 1];
  CHECK_EQ(fx_peer_read_rtcp(&r->pub_peer, &pli), 0);
  CHECK_EQ(pli.data[1], SB_RTCP_PSFB);
  CHECK_EQ(pli.data[0] & 0x1f, SB_RTCP_PSFB_PLI);
  CHECK_EQ(sb_rd32(pli.data + 8), r->pub->producers[1]->ssrc);

  int mark = r->f.nsent;
  send_video(r, 0, 101, 2, 1);
  send_video(r, 0, 102, 3, 0);
  send_video(r, 0, 103, 4, 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(fx_count_to(&r->f, (uint64_t)(2 + i), mark, 1), 3);
  CHECK_EQ(r->f.env.stats.rtp_forwarded, 9);
  CHECK_EQ(r->f.slot_violations, 0);

  /* Each subscriber sees its own SSRC and consecutive sequence numbers. */
  for (int i = 0; i < 3; i++) {
    int prev = -1;
    for (int k = mark; k < r->f.nsent; k++) {
      sb_rtp_packet_t pkt;
      if (fx_port(&r->f.sent[k]) != 40002 + i)
        continue;
      CHECK_EQ(fx_peer_read(&r->peer[i], &r->f.sent[k], &pkt), 0);
      CHECK_EQ(pkt.ssrc, 5000u + 10u * (unsigned)i);
      if (prev >= 0)
        CHECK_EQ(pkt.seq, (uint16_t)(prev + 1));
      prev = pkt.seq;
    }
  }
  room_free(r);
}

SB_TEST(rtx_from_the_publisher_fills_a_gap_once) {
  room_t *r = room_new();
  send_video(r, 0, 200, 1, 1);
  send_video(r, 0, 202, 3, 0); /* 201 lost on the way in */
  int mark = r->f.nsent;
  /* RFC 4588: the RTX packet carries the original sequence number first. */
  uint8_t orig[SB_PKT_BUF], rtx[SB_PKT_BUF];
  size_t n = fx_vp8(orig, r->pub->producers[1]->ssrc, 201, 90u * 201, 2, 0, 1);
  sb_rtp_write_fixed(rtx, 1, 97, 7, 90u * 201, r->pub->producers[1]->spec.rtx_ssrc, 0);
  sb_wr16(rtx + SB_RTP_HEADER_SIZE, 201);
  memcpy(rtx + SB_RTP_HEADER_SIZE + SB_RTX_OSN_SIZE, orig + SB_RTP_HEADER_SIZE, n - SB_RTP_HEADER_SIZE);
  fx_peer_send(&r->pub_peer, r->pub, rtx, n + SB_RTX_OSN_SIZE, 0);
  CHECK_EQ(r->f.env.stats.rtx_recovered, 1);
  CHECK_EQ(fx_count_to(&r->f, 2, mark, 1), 1);
  sb_rtp_packet_t pkt;
  fx_dgram_t d = r->f.sent[mark];
  CHECK_EQ(fx_peer_read(&r->peer[0], &d, &pkt), 0);
  CHECK_EQ(pkt.pt, 96);
  CHECK_EQ(pkt.ssrc, 5000);

  /* The same retransmission again (another RTX packet of 201) is a duplicate: not forwarded. */
  mark = r->f.nsent;
  sb_rtp_write_fixed(rtx, 1, 97, 8, 90u * 201, r->pub->producers[1]->spec.rtx_ssrc, 0);
  fx_peer_send(&r->pub_peer, r->pub, rtx, n + SB_RTX_OSN_SIZE, 0);
  CHECK_EQ(fx_count_to(&r->f, 2, mark, 1), 0);
  room_free(r);
}

SB_TEST(a_gap_makes_the_producer_nack_the_publisher_at_its_tick) {
  room_t *r = room_new();
  send_video(r, 0, 300, 1, 1);
  send_video(r, 0, 303, 4, 0); /* 301 and 302 missing */
  int mark = r->f.nsent;
  r->f.env.now_ms += 50;
  CHECK(sb_producer_send_nacks(r->pub->producers[1], r->f.env.now_ms) >= 2);
  CHECK_EQ(fx_count_to(&r->f, 1, mark, 0), 1);
  fx_dgram_t d = r->f.sent[mark];
  CHECK_EQ(fx_peer_read_rtcp(&r->pub_peer, &d), 0);
  CHECK_EQ(d.data[1], SB_RTCP_RTPFB);
  CHECK_EQ(d.data[0] & 0x1f, SB_RTCP_RTPFB_NACK);
  CHECK_EQ(sb_rd16(d.data + 12), 301); /* PID */
  CHECK_EQ(sb_rd16(d.data + 14) & 1, 1); /* BLP: 302 */
  room_free(r);
}

SB_TEST(a_paused_producer_forwards_nothing) {
  room_t *r = room_new();
  r->pub->producers[1]->paused = 1;
  send_video(r, 0, 400, 1, 1);
  CHECK_EQ(r->f.env.stats.rtp_forwarded, 0);
  r->pub->producers[1]->paused = 0;
  send_video(r, 0, 401, 2, 1);
  CHECK_EQ(r->f.env.stats.rtp_forwarded, 3);
  room_free(r);
}
