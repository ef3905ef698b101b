/* ICE-TCP on a running relay (relay/tcp.c through a worker thread): a client
 * connects to the worker's TCP port and speaks RFC 4571 frames, as a browser's
 * active TCP candidate does. A valid check (built by libnice's controlling-side
 * usage) is answered on the connection and binds it; garbage, connections over
 * the pending limit, and the bound connection of a closed transport are closed,
 * and counted. */
#include <arpa/inet.h>
#include <sched.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "relay/framing.h"
#include "relay_fixture.h"
#include "sbtest.h"

typedef struct {
  int closed;
  char reason[48];
} seen_t;

static void on_event(sb_event_t *ev, void *arg) {
  seen_t *s = arg;
  if (ev->hdr.type == SB_EV_TRANSPORT_CLOSED) {
    s->closed++;
    snprintf(s->reason, sizeof s->reason, "%s", ev->reason);
  }
  free(ev);
}

static int connect_tcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons(port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads until the peer closes the connection (0) or the receive timeout (-1).
 */
static int wait_eof(int fd) {
  char buf[2048];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
      return 0;
    if (n < 0)
      return -1;
  }
}

static int recv_all(int fd, uint8_t *buf, size_t len) {
  for (size_t got = 0; got < len;) {
    ssize_t n = recv(fd, buf + got, len - got, 0);
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  return 0;
}

/* Polls worker 0's counters until `field` reaches `want` (10 s at most);
 * returns its value. */
#define WAIT_STAT(relay, field, want)                                          \
  ({                                                                           \
    sb_worker_stats_t st_;                                                     \
    uint64_t deadline_ = uv_hrtime() + 10000000000ull;                         \
    do {                                                                       \
      sched_yield();                                                           \
      sb_relay_stats(relay, 0, &st_);                                          \
    } while (st_.field < (uint64_t)(want) && uv_hrtime() < deadline_);         \
    st_.field;                                                                 \
  })

static const uint16_t attrs[] = {
    STUN_ATTRIBUTE_USERNAME,    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_ERROR_CODE,  0};

SB_TEST(checks_bind_tcp_connections_and_the_rest_is_closed_and_counted) {
  uv_loop_t loop;
  seen_t s = {0};
  fx_env_t f;
  sb_relay_t *relay;
  fx_env_init(&f); /* the process-wide DTLS context */
  uv_loop_init(&loop);
  sb_relay_config_t cfg = {.bind_ip = "127.0.0.1",
                           .announce_ip = "127.0.0.1",
                           .workers = 1,
                           .ice_tcp = 1,
                           .tcp_max_pending = 2,
                           .dtls = f.env.dtls,
                           .events_loop = &loop,
                           .on_event = on_event,
                           .arg = &s};
  CHECK_EQ(sb_relay_start(&cfg, &relay), 0);
  uint16_t port = sb_relay_tcp_port(relay, 0);
  CHECK(port != 0);
  sb_relay_send(relay, 0, fx_create_cmd(7, 1));
  CHECK_EQ(WAIT_STAT(relay, transports, 1), 1);

  /* A valid check, framed: answered on the connection, with integrity under the
   * same password. */
  int c = connect_tcp(port);
  CHECK(c >= 0);
  StunAgent agent;
  StunMessage msg;
  uint8_t req[2 + 512], resp[2 + 1280];
  stun_agent_init(&agent, attrs, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                      STUN_AGENT_USAGE_USE_FINGERPRINT);
  const char *user = "uf7:cli", *pwd = "pwdpwdpwdpwdpwdpwdpwdpwd";
  size_t n = stun_usage_ice_conncheck_create(
      &agent, &msg, req + 2, 512, (const uint8_t *)user, strlen(user),
      (const uint8_t *)pwd, strlen(pwd), 1, 1, 0x6e7f1eff, 0x1234567890ull,
      NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  CHECK(n > 0);
  sb_frame_header(req, n);
  CHECK_EQ(send(c, req, n + 2, 0), (ssize_t)(n + 2));
  CHECK_EQ(recv_all(c, resp, 2), 0);
  size_t rlen = (size_t)resp[0] << 8 | resp[1];
  CHECK(rlen > 20 && rlen <= 1280);
  CHECK_EQ(recv_all(c, resp + 2, rlen), 0);
  StunDefaultValidaterData vd = {(uint8_t *)user, strlen(user), (uint8_t *)pwd,
                                 strlen(pwd)};
  CHECK_EQ(stun_agent_validate(&agent, &msg, resp + 2, rlen,
                               stun_agent_default_validater, &vd),
           STUN_VALIDATION_SUCCESS);
  CHECK_EQ(stun_message_get_class(&msg), STUN_RESPONSE);
  CHECK_EQ(WAIT_STAT(relay, stun_ok, 1), 1);

  /* Media before DTLS on the bound connection: dropped and counted, the
   * connection stays. */
  uint8_t rtp[2 + 20] = {0, 20, 0x80, 96};
  CHECK_EQ(send(c, rtp, sizeof rtp, 0), (ssize_t)sizeof rtp);
  CHECK_EQ(WAIT_STAT(relay, drop_not_admitted, 1), 1);

  /* Garbage on a new connection: closed at once. */
  int g = connect_tcp(port);
  CHECK(g >= 0);
  const char http[] = "GET / HTTP/1.1\r\n\r\n";
  CHECK_EQ(send(g, http, sizeof http - 1, 0), (ssize_t)(sizeof http - 1));
  CHECK_EQ(wait_eof(g), 0);
  close(g);
  CHECK_EQ(WAIT_STAT(relay, tcp_closed_unauth, 1), 1);

  /* Two idle connections fill the pending limit; a third is refused at once. */
  int i1 = connect_tcp(port), i2 = connect_tcp(port);
  CHECK(i1 >= 0 && i2 >= 0);
  CHECK_EQ(WAIT_STAT(relay, tcp_accepted, 4), 4);
  int x = connect_tcp(port);
  CHECK(x >= 0);
  CHECK_EQ(wait_eof(x), 0);
  close(x);
  CHECK_EQ(WAIT_STAT(relay, tcp_refused, 1), 1);
  close(i1);
  close(i2);
  CHECK_EQ(WAIT_STAT(relay, tcp_closed_unauth, 3), 3);

  /* The transport closes: its connection goes with it. */
  sb_cmd_t *bye = sb_cmd_new(SB_CMD_TRANSPORT_CLOSE, 7);
  snprintf(bye->u.close.reason, sizeof bye->u.close.reason, "bye");
  sb_relay_send(relay, 0, bye);
  CHECK_EQ(wait_eof(c), 0);
  close(c);
  sb_worker_stats_t st;
  sb_relay_stats(relay, 0, &st);
  CHECK_EQ(st.tcp_connections, 0);
  CHECK_EQ(st.tcp_accepted, 4);      /* the refused one is counted apart */
  CHECK_EQ(st.tcp_closed_unauth, 3); /* the bound one is not among them */
  sb_relay_stop(relay);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_EQ(s.closed, 1);
  CHECK_STR(s.reason, "bye");
  uv_loop_close(&loop);
}

SB_TEST(without_ice_tcp_there_is_no_tcp_port) {
  uv_loop_t loop;
  seen_t s = {0};
  fx_env_t f;
  sb_relay_t *relay;
  fx_env_init(&f);
  uv_loop_init(&loop);
  sb_relay_config_t cfg = {.bind_ip = "127.0.0.1",
                           .announce_ip = "127.0.0.1",
                           .workers = 1,
                           .dtls = f.env.dtls,
                           .events_loop = &loop,
                           .on_event = on_event,
                           .arg = &s};
  CHECK_EQ(sb_relay_start(&cfg, &relay), 0);
  CHECK_EQ(sb_relay_tcp_port(relay, 0), 0);
  sb_relay_stop(relay);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
