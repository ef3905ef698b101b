/* Worker threads: a libuv loop each, a 1 ms tick driving the participants, batched sends. */
#include "bench/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "common/log.h"
#include "common/util.h"

#define STOP_GRACE_US 3000000u /* after this, participants that have not left are closed */

int sb_bench_worker_init(sb_bench_worker_t *w, int id, sb_bench_run_t *run, int secs_cap) {
  memset(w, 0, sizeof *w);
  w->id = id;
  w->run = run;
  w->sdpcap = 256 * 1024;
  w->secs_cap = secs_cap;
  w->scratch = malloc(sizeof *w->scratch);
  w->sdpbuf = malloc(w->sdpcap);
  w->out_buf = malloc(SB_BATCH * sizeof *w->out_buf);
  w->in_buf = malloc(SB_BATCH * sizeof *w->in_buf);
  w->in_ctl = malloc(SB_BATCH * sizeof *w->in_ctl);
  w->secs = calloc((size_t)secs_cap, sizeof *w->secs);
  if (!w->scratch || !w->sdpbuf || !w->out_buf || !w->in_buf || !w->in_ctl || !w->secs)
    return -1;
  for (int i = 0; i < SB_BATCH; i++) {
    w->in_iov[i].iov_base = w->in_buf[i];
    w->in_iov[i].iov_len = SB_PKT_BUF;
    w->in_msgs[i].msg_hdr.msg_iov = &w->in_iov[i];
    w->in_msgs[i].msg_hdr.msg_iovlen = 1;
    w->in_msgs[i].msg_hdr.msg_control = w->in_ctl[i];
    w->in_msgs[i].msg_hdr.msg_controllen = sizeof w->in_ctl[i];
  }
  if (uv_loop_init(&w->loop) < 0)
    return -1;
  uv_timer_init(&w->loop, &w->tick);
  w->tick.data = w;
  return 0;
}

void sb_bench_worker_destroy(sb_bench_worker_t *w) {
  free(w->scratch);
  free(w->sdpbuf);
  free(w->out_buf);
  free(w->in_buf);
  free(w->in_ctl);
  free(w->secs);
  free(w->peers);
  memset(w, 0, sizeof *w);
}

uint8_t *sb_bench_worker_slot(sb_bench_worker_t *w, sb_bench_peer_t *p) {
  if (w->out_n && (w->out_peer != p || w->out_n == SB_BATCH))
    sb_bench_worker_flush(w);
  w->out_peer = p;
  return w->out_buf[w->out_n];
}

void sb_bench_worker_queue(sb_bench_worker_t *w, sb_bench_peer_t *p, size_t len) {
  struct msghdr *h = &w->out_msgs[w->out_n].msg_hdr;
  (void)p;
  w->out_iov[w->out_n].iov_base = w->out_buf[w->out_n];
  w->out_iov[w->out_n].iov_len = len;
  memset(h, 0, sizeof *h);
  h->msg_iov = &w->out_iov[w->out_n];
  h->msg_iovlen = 1;
  w->out_n++;
}

void sb_bench_worker_flush(sb_bench_worker_t *w) {
  sb_bench_peer_t *p = w->out_peer;
  int sent = 0, r;
  if (!w->out_n || !p)
    return;
  if (p->fd >= 0 && p->poll_active) {
    while (sent < w->out_n) {
      r = sendmmsg(p->fd, w->out_msgs + sent, (unsigned)(w->out_n - sent), MSG_DONTWAIT);
      if (r <= 0)
        break;
      sent += r;
    }
  }
  for (int i = 0; i < sent; i++) {
    w->cur.bytes_out += w->out_iov[i].iov_len;
    p->bytes_sent += w->out_iov[i].iov_len;
  }
  w->cur.pkts_out += (uint64_t)sent;
  p->pkts_sent += (uint64_t)sent;
  p->send_drops += (uint64_t)(w->out_n - sent);
  w->out_n = 0;
}

void sb_bench_worker_latency(sb_bench_worker_t *w, uint64_t ns) {
  sb_hist_add(&w->cur.lat, ns);
  if (atomic_load_explicit(&w->run->measuring, memory_order_relaxed))
    sb_hist_add(&w->lat, ns);
}

/* Hands the finished second to the main thread and adds it to the live totals. */
static void publish_second(sb_bench_worker_t *w) {
  int i = atomic_load_explicit(&w->secs_done, memory_order_relaxed);
  if (i < w->secs_cap) {
    w->cur.sec = w->cur_sec;
    w->secs[i] = w->cur;
    atomic_store_explicit(&w->secs_done, i + 1, memory_order_release);
  }
  atomic_fetch_add(&w->pkts_out, w->cur.pkts_out);
  atomic_fetch_add(&w->pkts_in, w->cur.pkts_in);
  atomic_fetch_add(&w->bytes_out, w->cur.bytes_out);
  atomic_fetch_add(&w->bytes_in, w->cur.bytes_in);
  atomic_fetch_add(&w->expected, w->cur.expected);
  atomic_fetch_add(&w->received, w->cur.received);
  w->cur.pkts_out = w->cur.pkts_in = w->cur.bytes_out = w->cur.bytes_in = 0;
  w->cur.expected = w->cur.received = 0;
  sb_hist_reset(&w->cur.lat);
  w->cur_sec++;
}

static void begin_teardown(sb_bench_worker_t *w) {
  w->closing = 1;
  for (int i = 0; i < w->npeers; i++) {
    sb_bench_peer_t *p = w->peers[i];
    if (p->state != SB_PEER_DONE && p->state != SB_PEER_FAILED && p->state != SB_PEER_IDLE) {
      if (p->state != SB_PEER_LEAVING)
        snprintf(p->error, sizeof p->error, "still in state %d when the run ended", (int)p->state);
      sb_bench_peer_set_state(p, SB_PEER_DONE);
    }
    sb_bench_peer_close(p);
  }
  uv_timer_stop(&w->tick);
  uv_close((uv_handle_t *)&w->tick, NULL);
  /* lws closes its connections and handles; the loop ends when they are gone */
  sb_bench_sig_context_destroy(&w->lws);
}

static void tick_cb(uv_timer_t *t) {
  sb_bench_worker_t *w = t->data;
  sb_bench_run_t *run = w->run;
  uint64_t now = sb_now_us();
  int stopping = atomic_load(&run->stopping), sending = atomic_load(&run->sending);
  int active = atomic_load_explicit(&run->active, memory_order_acquire), all_done = 1;
  w->ticks++;
  if (w->last_tick_us && now > w->last_tick_us + 1000)
    sb_hist_add(&w->tick_delay, (now - w->last_tick_us - 1000) * 1000);
  w->last_tick_us = now;
  while (w->cur_sec < (int)((now - run->t0_us) / 1000000u))
    publish_second(w);
  for (int i = 0; i < w->npeers; i++) {
    sb_bench_peer_t *p = w->peers[i];
    if (p->state == SB_PEER_IDLE) {
      if (!stopping && p->index < active && now >= p->start_at_us)
        sb_bench_peer_start(p, now);
    } else if (stopping) {
      sb_bench_peer_stop(p);
    }
    sb_bench_peer_tick(p, now, sending && !stopping);
    if (!sb_bench_peer_finished(p))
      all_done = 0;
  }
  sb_bench_worker_flush(w);
  if (!stopping)
    return;
  if (!w->stop_deadline_us)
    w->stop_deadline_us = now + STOP_GRACE_US;
  if (all_done || now >= w->stop_deadline_us)
    begin_teardown(w);
}

static void thread_main(void *arg) {
  sb_bench_worker_t *w = arg;
  struct timespec cpu;
  if (sb_bench_sig_context_create(&w->loop, w->run->url.tls, w->run->cfg->ca_file, &w->lws) < 0) {
    sb_error("bench", "worker %d: cannot create the libwebsockets context", w->id);
    for (int i = 0; i < w->npeers; i++)
      sb_bench_peer_fail(w->peers[i], "no libwebsockets context");
  }
  w->cur_sec = (int)((sb_now_us() - w->run->t0_us) / 1000000u);
  uv_timer_start(&w->tick, tick_cb, 1, 1);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  /* a foreign loop's context is freed by a second destroy once its handles are closed */
  sb_bench_sig_context_destroy(&w->lws);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  publish_second(w); /* the partial last second */
  if (uv_loop_close(&w->loop) != 0)
    sb_warn("bench", "worker %d: handles left open at exit", w->id);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  w->cpu_s = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9;
}

int sb_bench_worker_start(sb_bench_worker_t *w) {
  return uv_thread_create(&w->thread, thread_main, w) == 0 ? 0 : -1;
}

void sb_bench_worker_join(sb_bench_worker_t *w) {
  uv_thread_join(&w->thread);
}
