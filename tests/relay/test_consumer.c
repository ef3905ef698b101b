/* Consumers on a fake environment: NACK -> retransmission mapping (on the RTX stream or the media
 * stream), the retransmission budget, and teardown from either side in any order (run under
 * AddressSanitizer in the sanitizer tree: a dangling pointer would show there). */
#include "room_fixture.h"
#include "sbtest.h"

/* Output sequence numbers of the media packets subscriber `i` got since datagram `from`. */
static int out_seqs(room_t *r, int i, int from, uint16_t *seqs, int max) {
  int n = 0;
  for (int k = from; k < r->f.nsent && n < max; k++) {
    sb_rtp_packet_t pkt;
    fx_dgram_t d = r->f.sent[k];
    if (fx_port(&d) == 40002 + i && d.media && fx_peer_read(&r->peer[i], &d, &pkt) == 0)
      seqs[n++] = pkt.seq;
  }
  return n;
}

static void send_nack(room_t *r, int i, uint32_t media_ssrc, uint16_t seq) {
  uint8_t buf[128];
  int len = sb_rtcp_build_nack(buf, sizeof buf, 0x1234, media_ssrc, &seq, 1);
  fx_peer_send(&r->peer[i], r->sub[i], buf, (size_t)len, 1);
}

SB_TEST(a_nack_is_answered_on_the_rtx_stream_with_the_original_sequence_number_first) {
  room_t *r = room_new();
  uint16_t seqs[8];
  int mark = r->f.nsent;
  send_video(r, 0, 100, 1, 1);
  send_video(r, 0, 101, 2, 0);
  send_video(r, 0, 102, 3, 0);
  CHECK_EQ(out_seqs(r, 0, mark, seqs, 8), 3);

  mark = r->f.nsent;
  send_nack(r, 0, 5000, seqs[1]);
  CHECK_EQ(r->f.env.stats.nack_received, 1);
  CHECK_EQ(r->f.env.stats.rtp_retransmitted, 1);
  CHECK_EQ(fx_count_to(&r->f, 2, mark, 1), 1);
  fx_dgram_t d = r->f.sent[mark];
  sb_rtp_packet_t pkt;
  CHECK_EQ(fx_peer_read(&r->peer[0], &d, &pkt), 0);
  CHECK_EQ(pkt.ssrc, 5001); /* the consumer's RTX stream */
  CHECK_EQ(pkt.pt, 97);
  CHECK_EQ(sb_rd16(pkt.payload), seqs[1]); /* RFC 4588: OSN, then the original payload */
  CHECK_EQ(pkt.payload[SB_RTX_OSN_SIZE + 3], 2); /* picture id 2: packet 101 */
  /* Nothing went to the other subscribers. */
  CHECK_EQ(fx_count_to(&r->f, 3, mark, 1) + fx_count_to(&r->f, 4, mark, 1), 0);
  room_free(r);
}

SB_TEST(without_rtx_a_nack_resends_the_same_packet_on_the_media_stream) {
  room_t *r = room_new();
  sb_consumer_t *c = r->c[0];
  c->rtx_ssrc = 0;
  uint16_t seqs[8];
  int mark = r->f.nsent;
  send_video(r, 0, 100, 1, 1);
  send_video(r, 0, 101, 2, 0);
  CHECK_EQ(out_seqs(r, 0, mark, seqs, 8), 2);
  mark = r->f.nsent;
  send_nack(r, 0, 5000, seqs[0]);
  fx_dgram_t d = r->f.sent[mark];
  sb_rtp_packet_t pkt;
  CHECK_EQ(r->f.nsent, mark + 1);
  fx_peer_t fresh; /* the subscriber lost the first copy: its replay window never saw it */
  fx_peer_init(&fresh, 2);
  CHECK_EQ(fx_peer_read(&fresh, &d, &pkt), 0);
  fx_peer_fini(&fresh);
  CHECK_EQ(pkt.ssrc, 5000);
  CHECK_EQ(pkt.seq, seqs[0]);
  room_free(r);
}

SB_TEST(a_nack_for_a_packet_never_sent_or_gone_sends_nothing) {
  room_t *r = room_new();
  uint16_t seqs[8];
  int mark = r->f.nsent;
  send_video(r, 0, 100, 1, 1);
  CHECK_EQ(out_seqs(r, 0, mark, seqs, 8), 1);
  mark = r->f.nsent;
  send_nack(r, 0, 5000, (uint16_t)(seqs[0] + 5));
  CHECK_EQ(r->f.nsent, mark);
  CHECK_EQ(r->f.env.stats.nack_received, 1);
  CHECK_EQ(r->f.env.stats.rtp_retransmitted, 0);
  room_free(r);
}

SB_TEST(publisher_closes_first_then_subscribers) {
  room_t *r = room_new();
  send_video(r, 0, 100, 1, 1);
  sb_transport_destroy(r->pub, "gone");
  r->pub = NULL;
  for (int i = 0; i < 3; i++) {
    CHECK(r->c[i]->producer == NULL);
    for (int l = 0; l < r->c[i]->nlayers; l++)
      CHECK(r->c[i]->layers[l] == NULL);
  }
  int mark = r->f.nsent;
  send_nack(r, 0, 5000, 1); /* a late NACK finds no producer */
  sb_consumer_request_keyframe(r->c[2], r->f.env.now_ms);
  CHECK_EQ(r->f.nsent, mark);
  room_free(r);
}

SB_TEST(subscribers_close_first_then_the_publisher) {
  room_t *r = room_new();
  send_video(r, 0, 100, 1, 1);
  for (int i = 0; i < 3; i++) {
    sb_transport_destroy(r->sub[i], "gone");
    r->sub[i] = NULL;
  }
  for (int l = 0; l < 3; l++)
    CHECK_EQ(r->pub->producers[1 + l]->nconsumers, 0);
  int mark = r->f.nsent;
  send_video(r, 0, 101, 2, 1);
  CHECK_EQ(r->f.nsent, mark);
  room_free(r);
}

SB_TEST(a_consumer_removed_alone_detaches_from_every_layer) {
  room_t *r = room_new();
  sb_transport_remove_consumer(r->sub[2], r->c[2]);
  sb_consumer_destroy(r->c[2]);
  for (int l = 0; l < 3; l++)
    CHECK_EQ(r->pub->producers[1 + l]->nconsumers, l == 0 ? 2 : 0);
  int mark = r->f.nsent;
  send_video(r, 0, 100, 1, 1);
  CHECK_EQ(fx_count_to(&r->f, 4, mark, 1), 0);
  CHECK_EQ(fx_count_to(&r->f, 2, mark, 1), 1);
  sb_consumer_destroy(NULL);
  room_free(r);
}
