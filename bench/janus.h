/* --target janus: one bench connection's signaling with Janus's VideoRoom
 * plugin over Janus's WebSocket API (subprotocol janus-protocol): create a
 * session, attach janus.plugin.videoroom, keep the session alive, and then
 *   - a publisher (the room's first creates it): join as publisher with the
 * bench's offer (a=setup:active, our host candidate), Janus's answer, ICE as
 * the controlling agent;
 *   - a subscriber (once the room's publishers have media): join as subscriber
 * with a stream per feed, Janus's offer, the bench's answer in `start`, ICE as
 * the controlled agent. ICE, DTLS, SRTP and media are the peer's own
 * (peer_net.c, peer_media.c); this file only replaces auth/call.join/call.offer
 * of Switchboard's protocol. A participant who publishes and subscribes is two
 * connections (run.c pairs them with own_pub). Runs on the peer's thread. */
#ifndef SB_BENCH_JANUS_H
#define SB_BENCH_JANUS_H

#include <stdint.h>

struct sb_bench_peer;

/** Opens the WebSocket (p->local is set up); the rest follows from Janus's
 * replies. */
void sb_bench_janus_start(struct sb_bench_peer *p);

/** Every tick: keepalives, and in SB_PEER_ROOM the wait for the room (and, for
 * a subscriber, for its publishers' media) before joining. */
void sb_bench_janus_tick(struct sb_bench_peer *p, uint64_t now_us);

/** Leaves: destroys the Janus session (which hangs up its handle); the
 * WebSocket closes when Janus confirms. */
void sb_bench_janus_leave(struct sb_bench_peer *p);

/** The feed id a publisher connection joins with (its index + 1; subscribers
 * name it). */
uint64_t sb_bench_janus_feed(const struct sb_bench_peer *p);

#endif
