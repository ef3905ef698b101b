/* The relay as signaling drives it: worker threads started and stopped, commands down, events
 * up on the caller's loop, counters read from this thread while the workers write them (the
 * ThreadSanitizer tree runs this; label "threads"). */
#include <sched.h>
#include <unistd.h>
#include <uv.h>

#include "relay_fixture.h"
#include "sbtest.h"

typedef struct {
  sb_relay_t *relay;
  int closed, created;
  char reason[48];
  uint64_t transport;
  int worker;
} seen_t;

static void on_event(sb_event_t *ev, void *arg) {
  seen_t *s = arg;
  sb_worker_stats_t st;
  if (ev->hdr.type == SB_EV_TRANSPORT_CLOSED) {
    s->closed++;
    s->transport = ev->transport;
    s->worker = ev->worker;
    snprintf(s->reason, sizeof s->reason, "%s", ev->reason);
  }
  /* counters are read while the worker goes on */
  for (int i = 0; s->relay && i < sb_relay_workers(s->relay); i++)
    sb_relay_stats(s->relay, i, &st);
  free(ev);
}

/* Runs the loop until `n` close events arrived (each command below produces one). */
static void wait_closed(uv_loop_t *loop, seen_t *s, int n) {
  while (s->closed < n && uv_run(loop, UV_RUN_ONCE))
    ;
}

SB_TEST(commands_go_down_events_come_up_counters_are_read_across_threads) {
  uv_loop_t loop;
  seen_t s = {0};
  fx_env_t f;
  fx_env_init(&f); /* the process-wide DTLS context */
  uv_loop_init(&loop);
  sb_relay_config_t cfg = {.bind_ip = "127.0.0.1", .announce_ip = "127.0.0.1", .workers = 2,
                           .dtls = f.env.dtls, .events_loop = &loop, .on_event = on_event, .arg = &s};
  CHECK_EQ(sb_relay_start(&cfg, &s.relay), 0);
  CHECK_EQ(sb_relay_workers(s.relay), 2);
  CHECK(sb_relay_port(s.relay, 0) != 0 && sb_relay_port(s.relay, 0) != sb_relay_port(s.relay, 1));

  /* a transport on worker 1, closed by command: the close comes back as an event */
  sb_relay_send(s.relay, 1, fx_create_cmd(7, 1));
  sb_cmd_t *bye = sb_cmd_new(SB_CMD_TRANSPORT_CLOSE, 7);
  snprintf(bye->u.close.reason, sizeof bye->u.close.reason, "bye");
  sb_relay_send(s.relay, 1, bye);
  wait_closed(&loop, &s, 1);
  CHECK_EQ(s.closed, 1);
  CHECK_EQ(s.transport, 7);
  CHECK_EQ(s.worker, 1);
  CHECK_STR(s.reason, "bye");
  sb_worker_stats_t st;
  sb_relay_stats(s.relay, 1, &st);
  CHECK_EQ(st.transports, 0);

  /* datagrams from an unknown source: the worker counts them while this thread reads the
   * counters (a data race unless both sides are atomic) */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(sb_relay_port(s.relay, 0)),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK(fd >= 0);
  for (int i = 0; i < 20; i++)
    sendto(fd, "\x80\x60garbage-rtp", 13, 0, (struct sockaddr *)&to, sizeof to);
  uint64_t deadline = uv_hrtime() + 10000000000ull;
  do {
    sched_yield();
    sb_relay_stats(s.relay, 0, &st);
  } while (st.drop_unknown_source < 20 && uv_hrtime() < deadline);
  close(fd);
  CHECK_EQ(st.drop_unknown_source, 20);
  CHECK_EQ(st.rx_packets, 20);

  /* an unusable fingerprint: the worker refuses to create it */
  sb_cmd_t *bad = fx_create_cmd(8, 1);
  snprintf(bad->u.create.fp, sizeof bad->u.create.fp, "nonsense");
  sb_relay_send(s.relay, 0, bad);
  wait_closed(&loop, &s, 2);
  CHECK_STR(s.reason, "create_failed");

  /* a transport left open is closed by the stop, which delivers its event */
  sb_relay_send(s.relay, 0, fx_create_cmd(9, 3));
  sb_relay_send(s.relay, 5, fx_create_cmd(10, 1)); /* no such worker: freed, nothing happens */
  sb_relay_t *r = s.relay;
  s.relay = NULL;
  sb_relay_stop(r);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_EQ(s.closed, 3);
  CHECK_EQ(s.transport, 9);
  CHECK_STR(s.reason, "server_shutdown");
  uv_loop_close(&loop);
}
