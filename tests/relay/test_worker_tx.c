/* The worker's send batches: a control datagram decided while a media slot is being filled (an
 * RTCP keyframe request made from inside the forwarding of a packet) is queued apart and goes
 * out at the flush, after the fan-out; it never touches the slot. Real UDP sockets on loopback. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/worker.h"
#include "sbtest.h"

static sb_worker_t w;

static int udp_socket(struct sockaddr_storage *addr, socklen_t *len) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  *len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)addr, len) != 0)
    return -1;
  return fd;
}

static int receive(int fd, char *buf, size_t cap) {
  struct timeval tv = {.tv_sec = 2};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n = recv(fd, buf, cap - 1, 0);
  if (n >= 0)
    buf[n] = '\0';
  return (int)n;
}

SB_TEST(control_datagram_sent_during_forwarding_waits_for_the_flush) {
  struct sockaddr_storage to, self;
  socklen_t tolen, selflen;
  char buf[256];
  memset(&w, 0, sizeof w);
  int rx = udp_socket(&to, &tolen);
  w.fd = udp_socket(&self, &selflen);
  CHECK(rx >= 0 && w.fd >= 0);
  sb_path_t path = {.addr = to, .len = tolen};

  uint8_t *slot = sb_worker_slot(&w);
  memcpy(slot, "forwarded packet", 16);
  sb_worker_send(&w, (const uint8_t *)"keyframe request", 16, &path); /* from inside */
  CHECK(memcmp(slot, "forwarded packet", 16) == 0);
  CHECK_EQ(w.env.stats.tx_packets, 0); /* queued, not sent halfway */
  sb_worker_commit(&w, 16, &path);
  CHECK_EQ(w.tx.count, 1);
  CHECK_EQ(w.ctl.count, 1);
  sb_worker_flush(&w);

  /* the control queue goes first: nothing queued before a media packet is overtaken by it */
  CHECK_EQ(receive(rx, buf, sizeof buf), 16);
  CHECK_STR(buf, "keyframe request");
  CHECK_EQ(receive(rx, buf, sizeof buf), 16);
  CHECK_STR(buf, "forwarded packet");
  CHECK_EQ(w.env.stats.tx_packets, 2);
  CHECK_EQ(w.tx.count + w.ctl.count, 0);

  /* A released slot is not sent; the next slot is the same buffer. */
  slot = sb_worker_slot(&w);
  sb_worker_release(&w);
  CHECK(sb_worker_slot(&w) == slot);
  sb_worker_release(&w);
  sb_worker_flush(&w);
  CHECK_EQ(w.env.stats.tx_packets, 2);
  close(rx);
  close(w.fd);
}

SB_TEST(a_full_control_queue_is_sent_without_touching_a_held_slot) {
  struct sockaddr_storage to, self;
  socklen_t tolen, selflen;
  char buf[256];
  memset(&w, 0, sizeof w);
  int rx = udp_socket(&to, &tolen);
  w.fd = udp_socket(&self, &selflen);
  CHECK(rx >= 0 && w.fd >= 0);
  sb_path_t path = {.addr = to, .len = tolen};

  uint8_t *slot = sb_worker_slot(&w);
  memcpy(slot, "held", 4);
  for (int i = 0; i <= SB_BATCH; i++)
    sb_worker_send(&w, (const uint8_t *)"rtcp", 4, &path);
  CHECK_EQ(w.env.stats.tx_packets, SB_BATCH); /* the full queue went, not the slot */
  CHECK_EQ(w.ctl.count, 1);
  CHECK(memcmp(slot, "held", 4) == 0);
  sb_worker_commit(&w, 4, &path);
  sb_worker_flush(&w);
  for (int i = 0; i < SB_BATCH; i++)
    CHECK_EQ(receive(rx, buf, sizeof buf), 4);
  CHECK_EQ(receive(rx, buf, sizeof buf), 4);
  CHECK_STR(buf, "rtcp");
  CHECK_EQ(receive(rx, buf, sizeof buf), 4);
  CHECK_STR(buf, "held");
  close(rx);
  close(w.fd);
}

SB_TEST(a_full_media_batch_sends_the_control_datagrams_queued_before_it_first) {
  struct sockaddr_storage to, self;
  socklen_t tolen, selflen;
  char buf[256];
  memset(&w, 0, sizeof w);
  int rx = udp_socket(&to, &tolen);
  w.fd = udp_socket(&self, &selflen);
  CHECK(rx >= 0 && w.fd >= 0);
  sb_path_t path = {.addr = to, .len = tolen};

  sb_worker_send(&w, (const uint8_t *)"dtls", 4, &path); /* the handshake's last flight */
  for (int i = 0; i < SB_BATCH; i++) {
    memcpy(sb_worker_slot(&w), "srtp", 4);
    sb_worker_commit(&w, 4, &path);
  }
  CHECK_EQ(w.env.stats.tx_packets, SB_BATCH + 1); /* the full batch went, and what came before */
  CHECK_EQ(receive(rx, buf, sizeof buf), 4);
  CHECK_STR(buf, "dtls");
  for (int i = 0; i < SB_BATCH; i++) {
    CHECK_EQ(receive(rx, buf, sizeof buf), 4);
    CHECK_STR(buf, "srtp");
  }
  close(rx);
  close(w.fd);
}

SB_TEST(init_that_fails_halfway_undoes_its_own_steps) {
  memset(&w, 0, sizeof w);
  /* No socket: the loop, the ICE agent and the command queue are set up, then the poll handle
   * fails; what was set up is undone (the sanitizer tree's leak check sees the rest). */
  CHECK_EQ(sb_worker_init(&w, -1, -1), -1);
  CHECK_EQ(w.has_loop, 0);
  CHECK(w.ice == NULL);
  CHECK(w.commands == NULL);
  CHECK_EQ(w.fd, -1);
  sb_worker_fini(&w); /* twice is harmless */
  sb_worker_fini(NULL);
}
