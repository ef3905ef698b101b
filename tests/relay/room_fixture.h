/* A publisher (audio and three simulcast video layers) and three subscribers on one fake
 * environment: subscribers 2 and 3 take layer 0 (RTX negotiated), subscriber 4 all layers. */
#ifndef SB_ROOM_FIXTURE_H
#define SB_ROOM_FIXTURE_H

#include "relay_fixture.h"

typedef struct {
  fx_env_t f;
  fx_peer_t pub_peer, peer[3];
  sb_transport_t *pub, *sub[3];
  sb_consumer_t *c[3];
} room_t;

static inline room_t *room_new(void) {
  room_t *r = calloc(1, sizeof *r);
  fx_env_init(&r->f);
  r->pub = fx_transport(&r->f, 1, 3); /* audio + three simulcast layers: producers 1..3 */
  fx_peer_init(&r->pub_peer, 1);
  for (int i = 0; i < 3; i++) {
    r->sub[i] = fx_transport(&r->f, (uint64_t)(2 + i), 1);
    fx_peer_init(&r->peer[i], (uint64_t)(2 + i));
    /* subscribers 2 and 3 take layer 0; subscriber 4 all three layers (simulcast) */
    r->c[i] = fx_consume(r->sub[i], r->pub, 1, i == 2 ? 3 : 1, (uint64_t)(10 + i), (uint32_t)(5000 + 10 * i), 1);
  }
  return r;
}

static inline void room_free(room_t *r) {
  sb_transport_destroy(r->pub, "test");
  for (int i = 0; i < 3; i++) {
    sb_transport_destroy(r->sub[i], "test");
    fx_peer_fini(&r->peer[i]);
  }
  fx_peer_fini(&r->pub_peer);
  free(r);
}

/* Sends layer-0 video packet `seq` from the publisher. */
static inline void send_video(room_t *r, int layer, uint16_t seq, uint16_t pic, int key) {
  uint8_t buf[SB_PKT_BUF];
  size_t n = fx_vp8(buf, r->pub->producers[1 + layer]->ssrc, seq, 90u * seq, pic, key, 1);
  fx_peer_send(&r->pub_peer, r->pub, buf, n, 0);
}

#endif
