/* A router with the transports of a room on a fake environment: it picks the active speaker
 * from its transports' audio levels and tells every transport of the room, including one that
 * joins later; a transport leaves it without a trace. */
#include "relay_fixture.h"
#include "sbtest.h"

/* An Opus packet carrying an RFC 6464 audio level (`dbov`: 0 loudest, 127 silence). */
static void send_audio(fx_peer_t *peer, sb_transport_t *t, uint16_t seq, uint8_t dbov) {
  uint8_t buf[128];
  sb_rtp_write_fixed(buf, 0, 111, seq, 960u * seq, t->producers[0]->ssrc, 1);
  uint8_t *x = buf + SB_RTP_HEADER_SIZE;
  x[0] = 0xbe, x[1] = 0xde, x[2] = 0, x[3] = 1;           /* one-byte header extensions, one word */
  x[4] = (uint8_t)(2 << 4), x[5] = (uint8_t)(0x80 | dbov); /* id 2 (audio level), voice activity */
  x[6] = x[7] = 0;
  memset(buf + SB_RTP_HEADER_SIZE + 8, 0x55, 40);
  fx_peer_send(peer, t, buf, SB_RTP_HEADER_SIZE + 8 + 40, 0);
}

SB_TEST(the_loudest_transport_becomes_the_speaker_of_every_transport_in_the_room) {
  fx_env_t f;
  fx_peer_t p1, p2;
  fx_env_init(&f);
  sb_router_t *r = sb_router_create("room");
  sb_transport_t *t1 = fx_transport(&f, 1, 1), *t2 = fx_transport(&f, 2, 1);
  fx_peer_init(&p1, 1);
  fx_peer_init(&p2, 2);
  sb_router_add(r, t1);
  sb_router_add(r, t2);
  uint64_t changed = 0;
  for (uint16_t i = 1; i <= 100 && !changed; i++) {
    f.env.now_ms += 20;
    send_audio(&p1, t1, i, 70); /* quiet */
    send_audio(&p2, t2, i, 10); /* loud */
    changed = sb_router_tick(r, f.env.now_ms);
  }
  CHECK_EQ(changed, 2);
  CHECK_EQ(t1->speaker, 2);
  CHECK_EQ(t2->speaker, 2);
  CHECK(f.env.now_ms - 1000000 <= 2000); /* within the hold time and a few ticks */

  sb_transport_t *t3 = fx_transport(&f, 3, 1);
  sb_router_add(r, t3); /* joins later: learns the speaker at once */
  CHECK_EQ(t3->speaker, 2);
  CHECK_EQ(sb_router_remove(r, t2), 2);
  CHECK_EQ(sb_router_remove(r, t2), 2); /* not there any more: nothing changes */
  CHECK_EQ(sb_router_remove(r, t1), 1);
  CHECK_EQ(sb_router_remove(r, t3), 0);
  sb_router_destroy(r);
  sb_transport_destroy(t1, "test");
  sb_transport_destroy(t2, "test");
  sb_transport_destroy(t3, "test");
  fx_peer_fini(&p1);
  fx_peer_fini(&p2);
}

SB_TEST(a_paused_audio_producer_is_never_the_speaker) {
  fx_env_t f;
  fx_peer_t p1;
  fx_env_init(&f);
  sb_router_t *r = sb_router_create("room");
  sb_transport_t *t1 = fx_transport(&f, 1, 1);
  fx_peer_init(&p1, 1);
  sb_router_add(r, t1);
  t1->producers[0]->paused = 1;
  uint64_t changed = 0;
  for (uint16_t i = 1; i <= 100; i++) {
    f.env.now_ms += 20;
    send_audio(&p1, t1, i, 0);
    changed |= sb_router_tick(r, f.env.now_ms);
  }
  CHECK_EQ(changed, 0);
  CHECK_EQ(t1->speaker, 0);
  sb_router_remove(r, t1);
  sb_router_destroy(r);
  sb_transport_destroy(t1, "test");
  fx_peer_fini(&p1);
}
