/* A simulcast consumer on a fake environment: it starts on its target layer at a keyframe, asks
 * the new layer for a keyframe when the target changes, keeps forwarding the old layer until
 * that keyframe, and the subscriber's sequence numbers, picture ids and timestamps stay
 * continuous across the switch. */
#include "room_fixture.h"
#include "sbtest.h"

SB_TEST(layer_switch_waits_for_a_keyframe_and_stays_continuous) {
  room_t *r = room_new();
  sb_consumer_t *c = r->c[2];
  uint16_t pic0 = 10, pic2 = 700;
  send_video(r, 0, 100, pic0++, 1);
  send_video(r, 2, 5000, pic2++, 1);
  send_video(r, 0, 101, pic0++, 0);
  send_video(r, 2, 5001, pic2++, 0);
  CHECK_EQ(c->sw.current, 0);

  sb_simulcast_switch_set_target(&c->sw, 2);
  int mark = r->f.nsent;
  r->f.env.now_ms += 2000; /* past the keyframe request interval */
  send_video(r, 2, 5002, pic2++, 0); /* a delta frame of the target: not yet, ask for a key */
  send_video(r, 0, 102, pic0++, 0);  /* the current layer goes on meanwhile */
  int pli = 0;
  for (int k = mark; k < r->f.nsent; k++) {
    fx_dgram_t d = r->f.sent[k];
    if (fx_port(&d) == 40001 && !d.media && fx_peer_read_rtcp(&r->pub_peer, &d) == 0 &&
        d.data[1] == SB_RTCP_PSFB && sb_rd32(d.data + 8) == r->pub->producers[3]->ssrc)
      pli++;
  }
  CHECK_EQ(pli, 1);
  CHECK_EQ(r->f.slot_violations, 0);
  CHECK_EQ(c->sw.current, 0);
  r->f.env.now_ms += 30;
  send_video(r, 2, 5003, pic2++, 1); /* the keyframe: switch */
  send_video(r, 0, 103, pic0++, 0);  /* the old layer is dropped from now on */
  send_video(r, 2, 5004, pic2++, 0);
  CHECK_EQ(c->sw.current, 2);

  /* What subscriber 4 got: layer 0's 100-102, then layer 2's 5003-5004; continuous numbering. */
  int n = 0, prev_seq = -1;
  long prev_pic = -1;
  uint32_t prev_ts = 0;
  for (int k = 0; k < r->f.nsent; k++) {
    fx_dgram_t d = r->f.sent[k];
    sb_rtp_packet_t pkt;
    sb_vp8_desc_t vp8;
    if (fx_port(&d) != 40004 || !d.media)
      continue;
    CHECK_EQ(fx_peer_read(&r->peer[2], &d, &pkt), 0);
    CHECK_EQ(pkt.ssrc, 5020);
    CHECK(sb_vp8_parse(pkt.payload, pkt.payload_len, &vp8) >= 0);
    if (prev_seq >= 0) {
      CHECK_EQ(pkt.seq, (uint16_t)(prev_seq + 1));
      CHECK_EQ(vp8.picture_id, (uint16_t)((prev_pic + 1) & 0x7fff));
      CHECK((int32_t)(pkt.ts - prev_ts) >= 0);
    }
    prev_seq = pkt.seq;
    prev_pic = vp8.picture_id;
    prev_ts = pkt.ts;
    n++;
  }
  CHECK_EQ(n, 5);
  room_free(r);
}

SB_TEST(a_retransmission_from_a_layer_switched_away_from_is_not_sent) {
  room_t *r = room_new();
  sb_consumer_t *c = r->c[2];
  send_video(r, 0, 100, 1, 1);
  send_video(r, 0, 101, 2, 0);
  uint16_t old_out = c->last_seq; /* output seq of layer-0 packet 101 */
  r->f.env.now_ms += 2000;
  sb_simulcast_switch_set_target(&c->sw, 1);
  send_video(r, 1, 3000, 50, 1);
  CHECK_EQ(c->sw.current, 1);
  int mark = r->f.nsent;
  uint8_t buf[128];
  int len = sb_rtcp_build_nack(buf, sizeof buf, 0x1234, 5020, &old_out, 1);
  fx_peer_send(&r->peer[2], r->sub[2], buf, (size_t)len, 1);
  CHECK_EQ(fx_count_to(&r->f, 4, mark, 1), 0);
  room_free(r);
}
