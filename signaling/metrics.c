#include "signaling/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "signaling/app.h"
#include "signaling/call_sm.h"
#include "signaling/dbq.h"
#include "signaling/node.h"
#include "signaling/prom.h"
#include "signaling/webhooks.h"

#define SB_SIG_TICK_MS 100 /* the signaling loop's lag is measured with this timer */
#define SB_TRANSPORT_BUCKETS 1024

/* Join time: call.join received -> first media forwarded to the participant (seconds). */
static const double join_bounds[] = {0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30};
#define N_JOIN (sizeof join_bounds / sizeof join_bounds[0])
/* Revocation cut time: the change applied on this node -> the relay confirms the close. */
static const double cut_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define N_CUT (sizeof cut_bounds / sizeof cut_bounds[0])

/* Denial reasons kept apart; any other code counts as "other". */
static const char *const deny_reasons[] = {"forbidden", "not_found", "other"};
#define N_DENY 3

typedef struct {
  char id[65];
  uint64_t rx_bytes, tx_bytes; /* media received from / forwarded to its participants */
  uint64_t admissions, revocations, denials[N_DENY];
  int participants, calls;     /* filled at render from the live calls */
} tenant_t;

/* A live transport of an admitted participant: whose bytes they are, and what is being timed. */
typedef struct tp {
  uint64_t id;
  size_t tenant;       /* index into tenants */
  uint64_t request_ms; /* its call.join arrived; 0 once its join time is observed */
  uint64_t revoke_ms;  /* its revocation was applied; 0 = none */
  struct tp *next;
} tp_t;

typedef struct {
  uint64_t counts[N_CUT + 1]; /* the widest of the histograms */
  double sum;
} hist_t;

struct sb_metrics {
  uv_timer_t timer;
  uint64_t last_tick_us;
  uint64_t lag[SB_LAG_NBOUNDS + 1];
  uint64_t lag_sum_us;
  tenant_t *tenants;
  size_t ntenants, captenants;
  tp_t *transports[SB_TRANSPORT_BUCKETS];
  hist_t join, cut;
};

static void on_tick(uv_timer_t *h) {
  sb_metrics_t *m = h->data;
  uint64_t now = sb_now_us(), due = m->last_tick_us + SB_SIG_TICK_MS * 1000u;
  uint64_t lag = now > due ? now - due : 0;
  m->lag[sb_lag_bucket(lag)]++;
  m->lag_sum_us += lag;
  m->last_tick_us = now;
}

sb_metrics_t *sb_metrics_create(uv_loop_t *loop) {
  sb_metrics_t *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  uv_timer_init(loop, &m->timer);
  m->timer.data = m;
  m->last_tick_us = sb_now_us();
  uv_timer_start(&m->timer, on_tick, SB_SIG_TICK_MS, SB_SIG_TICK_MS);
  uv_unref((uv_handle_t *)&m->timer); /* it keeps no loop alive */
  return m;
}

static void on_closed(uv_handle_t *h) {
  sb_metrics_t *m = h->data;
  for (size_t i = 0; i < SB_TRANSPORT_BUCKETS; i++)
    while (m->transports[i]) {
      tp_t *t = m->transports[i];
      m->transports[i] = t->next;
      free(t);
    }
  free(m->tenants);
  free(m);
}

void sb_metrics_destroy(sb_metrics_t *m) {
  if (!m)
    return;
  uv_timer_stop(&m->timer);
  uv_close((uv_handle_t *)&m->timer, on_closed);
}

/* The tenant's index, added if new; (size_t)-1 if out of memory. */
static size_t tenant(sb_metrics_t *m, const char *id) {
  for (size_t i = 0; i < m->ntenants; i++)
    if (strcmp(m->tenants[i].id, id) == 0)
      return i;
  tenant_t *t = sb_grow(m->tenants, &m->captenants, m->ntenants + 1, sizeof *t, 16);
  if (!t)
    return (size_t)-1;
  m->tenants = t;
  t = &m->tenants[m->ntenants];
  memset(t, 0, sizeof *t);
  snprintf(t->id, sizeof t->id, "%s", id);
  return m->ntenants++;
}

static tp_t **tp_slot(sb_metrics_t *m, uint64_t id) {
  tp_t **pp = &m->transports[(id * 0x9E3779B97F4A7C15ull) >> 54];
  while (*pp && (*pp)->id != id)
    pp = &(*pp)->next;
  return pp;
}

static void observe(hist_t *h, const double *bounds, size_t nb, double v) {
  size_t i = 0;
  while (i < nb && v > bounds[i])
    i++;
  h->counts[i]++;
  h->sum += v;
}

void sb_metrics_admitted(sb_metrics_t *m, const char *tenant_id, uint64_t transport,
                         uint64_t request_ms) {
  size_t ti;
  if (!m || (ti = tenant(m, tenant_id)) == (size_t)-1)
    return;
  m->tenants[ti].admissions++;
  tp_t **pp = tp_slot(m, transport);
  if (*pp || !(*pp = calloc(1, sizeof **pp)))
    return;
  (*pp)->id = transport;
  (*pp)->tenant = ti;
  (*pp)->request_ms = request_ms ? request_ms : 1;
}

void sb_metrics_denied(sb_metrics_t *m, const char *tenant_id, const char *code) {
  size_t ti, r = 0;
  if (!m || (ti = tenant(m, tenant_id)) == (size_t)-1)
    return;
  while (r < N_DENY - 1 && strcmp(deny_reasons[r], code ? code : "") != 0)
    r++;
  m->tenants[ti].denials[r]++;
}

void sb_metrics_revoked(sb_metrics_t *m, const char *tenant_id, uint64_t transport, uint64_t now_ms) {
  size_t ti;
  if (!m || (ti = tenant(m, tenant_id)) == (size_t)-1)
    return;
  m->tenants[ti].revocations++;
  tp_t *t = *tp_slot(m, transport);
  if (t && !t->revoke_ms)
    t->revoke_ms = now_ms ? now_ms : 1;
}

void sb_metrics_relay_event(sb_metrics_t *m, const sb_event_t *ev, uint64_t now_ms) {
  if (!m)
    return;
  tp_t **pp = tp_slot(m, ev->transport), *t = *pp;
  if (!t)
    return; /* not an admitted participant's (or already closed) */
  switch (ev->hdr.type) {
  case SB_EV_TRANSPORT_BYTES:
    m->tenants[t->tenant].rx_bytes += ev->rx_bytes;
    m->tenants[t->tenant].tx_bytes += ev->tx_bytes;
    break;
  case SB_EV_TRANSPORT_MEDIA:
    if (t->request_ms && ev->at_ms >= t->request_ms)
      observe(&m->join, join_bounds, N_JOIN, (double)(ev->at_ms - t->request_ms) / 1000.0);
    t->request_ms = 0;
    break;
  case SB_EV_TRANSPORT_CLOSED:
    if (t->revoke_ms)
      observe(&m->cut, cut_bounds, N_CUT,
              (double)(now_ms > t->revoke_ms ? now_ms - t->revoke_ms : 0) / 1000.0);
    *pp = t->next;
    free(t);
    break;
  default:
    break;
  }
}

/* ---- rendering ---- */

/* Participants and calls now, per tenant, from the live calls: a room shared by two tenants
 * counts as a call of each. */
static void count_live(sb_app_t *app, sb_metrics_t *m) {
  for (size_t i = 0; i < m->ntenants; i++)
    m->tenants[i].participants = m->tenants[i].calls = 0;
  for (const sb_call_room_t *r = app->calls ? sb_call_sm_rooms(app->calls) : NULL; r; r = r->next) {
    int seen[64] = {0}; /* tenants already counted in this room, as index + 1 */
    for (const sb_participant_t *p = r->participants; p; p = p->next) {
      size_t ti = tenant(m, p->tenant);
      if (ti == (size_t)-1)
        continue;
      m->tenants[ti].participants++;
      /* A room rarely holds more than a few tenants: a small list of those already counted. */
      int k = 0;
      while (k < 64 && seen[k] && (size_t)seen[k] - 1 != ti)
        k++;
      if (k < 64 && !seen[k]) {
        seen[k] = (int)ti + 1;
        m->tenants[ti].calls++;
      }
    }
  }
}

typedef struct {
  const char *name, *help;
  size_t off;
} worker_counter_t;

#define W(field, name, help) {name, help, offsetof(sb_worker_stats_t, field)}
static const worker_counter_t worker_counters[] = {
    W(rx_packets, "switchboard_worker_rx_packets_total",
      "Datagrams received on the worker's UDP port and frames on its ICE-TCP connections."),
    W(tx_packets, "switchboard_worker_tx_packets_total",
      "Datagrams sent from the worker's UDP port and frames written to its ICE-TCP connections."),
    W(rx_bytes, "switchboard_worker_rx_bytes_total", "Bytes received on the worker's UDP and ICE-TCP ports."),
    W(tx_bytes, "switchboard_worker_tx_bytes_total",
      "Bytes queued for sending on the worker's UDP port and ICE-TCP connections."),
    W(rtp_forwarded, "switchboard_worker_rtp_forwarded_total", "RTP packets forwarded to subscribers."),
    W(rtp_retransmitted, "switchboard_worker_rtp_retransmitted_total",
      "RTP packets resent to subscribers from a retransmission buffer (NACK)."),
    W(nack_received, "switchboard_worker_nack_received_total", "Sequence numbers subscribers asked to be resent."),
    W(nack_sent, "switchboard_worker_nack_sent_total", "Sequence numbers asked of publishers."),
    W(stun_ok, "switchboard_worker_stun_ok_total", "Valid ICE connectivity checks answered."),
    W(stun_bad, "switchboard_worker_stun_bad_total", "STUN requests refused (bad credentials or format)."),
    W(tcp_accepted, "switchboard_worker_tcp_accepted_total", "ICE-TCP connections accepted."),
    W(tcp_refused, "switchboard_worker_tcp_refused_total",
      "ICE-TCP connections closed at once: over the worker's connection or pending limit."),
    W(tcp_closed_unauth, "switchboard_worker_tcp_closed_unauthenticated_total",
      "ICE-TCP connections closed before a valid connectivity check (garbage, a failed check, "
      "the 5 s authentication timeout, or the peer gave up)."),
    W(dtls_handshakes, "switchboard_worker_dtls_handshakes_total",
      "DTLS handshakes completed (transports whose SRTP got keyed); an ICE restart adds none."),
    W(ice_restarts, "switchboard_worker_ice_restarts_total",
      "ICE restarts: new local credentials indexed beside a transport's old ones."),
    W(ice_restarts_done, "switchboard_worker_ice_restarts_done_total",
      "ICE restarts completed: a valid check used the new credentials and the old were retired."),
};

static const struct {
  const char *reason;
  size_t off;
} drop_reasons[] = {
    {"not_admitted", offsetof(sb_worker_stats_t, drop_not_admitted)},
    {"srtp", offsetof(sb_worker_stats_t, drop_srtp)},
    {"unknown_source", offsetof(sb_worker_stats_t, drop_unknown_source)},
    {"malformed", offsetof(sb_worker_stats_t, drop_malformed)},
    {"send", offsetof(sb_worker_stats_t, drop_send)},
    {"nack_over_budget", offsetof(sb_worker_stats_t, nack_over_budget)},
    {"tcp_backpressure", offsetof(sb_worker_stats_t, drop_tcp_backpressure)},
};

static uint64_t field(const sb_worker_stats_t *st, size_t off) {
  return *(const uint64_t *)((const char *)st + off);
}

static void lag_histogram(sb_prom_t *p, const char *name, const sb_prom_label_t *l, size_t n,
                          const uint64_t *counts, uint64_t sum_us) {
  static const uint64_t us[SB_LAG_NBOUNDS] = SB_LAG_BOUNDS_US;
  double bounds[SB_LAG_NBOUNDS];
  for (int i = 0; i < SB_LAG_NBOUNDS; i++)
    bounds[i] = (double)us[i] / 1e6;
  sb_prom_histogram(p, name, l, n, bounds, SB_LAG_NBOUNDS, counts, (double)sum_us / 1e6);
}

static void render_workers(sb_app_t *app, sb_prom_t *p) {
  int nw = app->relay ? sb_relay_workers(app->relay) : 0;
  sb_worker_stats_t *st = calloc((size_t)(nw ? nw : 1), sizeof *st);
  char ids[64][12];
  if (!st) {
    p->oom = 1;
    return;
  }
  if (nw > 64)
    nw = 64;
  for (int w = 0; w < nw; w++) {
    sb_relay_stats(app->relay, w, &st[w]);
    snprintf(ids[w], sizeof ids[w], "%d", w);
  }
  for (size_t k = 0; k < SB_ARRAY_SIZE(worker_counters); k++) {
    sb_prom_header(p, worker_counters[k].name, "counter", worker_counters[k].help);
    for (int w = 0; w < nw; w++)
      sb_prom_u64(p, worker_counters[k].name, &(sb_prom_label_t){"worker", ids[w]}, 1,
                  field(&st[w], worker_counters[k].off));
  }
  sb_prom_header(p, "switchboard_worker_dropped_packets_total", "counter",
                 "Packets dropped by the relay, by reason (the drop_* counters of /api/health).");
  for (int w = 0; w < nw; w++)
    for (size_t k = 0; k < SB_ARRAY_SIZE(drop_reasons); k++) {
      sb_prom_label_t l[2] = {{"worker", ids[w]}, {"reason", drop_reasons[k].reason}};
      sb_prom_u64(p, "switchboard_worker_dropped_packets_total", l, 2, field(&st[w], drop_reasons[k].off));
    }
  sb_prom_header(p, "switchboard_worker_transports", "gauge", "Transports open on the worker.");
  for (int w = 0; w < nw; w++)
    sb_prom_u64(p, "switchboard_worker_transports", &(sb_prom_label_t){"worker", ids[w]}, 1,
                st[w].transports);
  sb_prom_header(p, "switchboard_worker_tcp_connections", "gauge",
                 "ICE-TCP connections open on the worker.");
  for (int w = 0; w < nw; w++)
    sb_prom_u64(p, "switchboard_worker_tcp_connections", &(sb_prom_label_t){"worker", ids[w]}, 1,
                st[w].tcp_connections);
  sb_prom_header(p, "switchboard_worker_loop_lag_seconds", "histogram",
                 "How late the worker's 20 ms timer fired: event-loop lag.");
  for (int w = 0; w < nw; w++)
    lag_histogram(p, "switchboard_worker_loop_lag_seconds", &(sb_prom_label_t){"worker", ids[w]}, 1,
                  st[w].lag_bucket, st[w].lag_sum_us);
  free(st);
}

typedef struct {
  const char *name, *type, *help;
  size_t off;
} tenant_metric_t;

#define T(f, name, type, help) {name, type, help, offsetof(tenant_t, f)}
static const tenant_metric_t tenant_metrics[] = {
    T(participants, "switchboard_tenant_participants", "gauge",
      "The tenant's users in calls on this node now."),
    T(calls, "switchboard_tenant_calls", "gauge",
      "Calls on this node with at least one of the tenant's users now (a shared external room "
      "counts for each tenant in it)."),
    T(rx_bytes, "switchboard_tenant_media_received_bytes_total", "counter",
      "SRTP/SRTCP bytes received from the tenant's participants."),
    T(tx_bytes, "switchboard_tenant_media_sent_bytes_total", "counter",
      "SRTP bytes forwarded to the tenant's participants."),
    T(admissions, "switchboard_tenant_admissions_total", "counter",
      "Joins of the tenant's users admitted."),
    T(revocations, "switchboard_tenant_revocations_total", "counter",
      "Live participants of the tenant cut because their admission was revoked."),
};

static uint64_t tenant_value(const tenant_t *t, const tenant_metric_t *tm) {
  const char *f = (const char *)t + tm->off;
  if (tm->off == offsetof(tenant_t, participants) || tm->off == offsetof(tenant_t, calls))
    return (uint64_t)*(const int *)f;
  return *(const uint64_t *)f;
}

static void render_tenants(sb_metrics_t *m, sb_prom_t *p) {
  for (size_t k = 0; k < SB_ARRAY_SIZE(tenant_metrics); k++) {
    sb_prom_header(p, tenant_metrics[k].name, tenant_metrics[k].type, tenant_metrics[k].help);
    for (size_t i = 0; i < m->ntenants; i++)
      sb_prom_u64(p, tenant_metrics[k].name, &(sb_prom_label_t){"tenant", m->tenants[i].id}, 1,
                  tenant_value(&m->tenants[i], &tenant_metrics[k]));
  }
  sb_prom_header(p, "switchboard_tenant_denials_total", "counter",
                 "Joins of the tenant's users refused by policy, by reason (forbidden, not_found, "
                 "other).");
  for (size_t i = 0; i < m->ntenants; i++)
    for (size_t r = 0; r < N_DENY; r++) {
      sb_prom_label_t l[2] = {{"tenant", m->tenants[i].id}, {"reason", deny_reasons[r]}};
      sb_prom_u64(p, "switchboard_tenant_denials_total", l, 2, m->tenants[i].denials[r]);
    }
}

char *sb_metrics_render(sb_app_t *app) {
  sb_metrics_t *m = app->metrics;
  sb_prom_t p;
  sb_prom_init(&p);
  const char *node = sb_node_id(app);
  sb_prom_header(&p, "switchboard_node_info", "gauge", "Always 1; names this node.");
  sb_prom_label_t info[3] = {{"node", node}, {"srtp_build", SB_SRTP_BUILD}, {"malloc", sb_malloc_name()}};
  sb_prom_u64(&p, "switchboard_node_info", info, 3, 1);
  sb_prom_header(&p, "switchboard_uptime_seconds", "gauge", "Seconds since the server started.");
  sb_prom_f64(&p, "switchboard_uptime_seconds", NULL, 0, (double)(sb_now_ms() - app->started_ms) / 1000.0);
  sb_prom_header(&p, "switchboard_db_backlog", "gauge", "Database jobs not yet answered.");
  sb_prom_u64(&p, "switchboard_db_backlog", NULL, 0, app->dbq ? (uint64_t)sb_dbq_backlog(app->dbq) : 0);
  render_workers(app, &p);
  if (m) {
    sb_prom_header(&p, "switchboard_signaling_loop_lag_seconds", "histogram",
                   "How late the signaling loop's 100 ms timer fired: event-loop lag.");
    lag_histogram(&p, "switchboard_signaling_loop_lag_seconds", NULL, 0, m->lag, m->lag_sum_us);
    count_live(app, m);
    render_tenants(m, &p);
    sb_prom_header(&p, "switchboard_join_seconds", "histogram",
                   "From a call.join request's arrival to the first media packet the relay "
                   "forwarded to that participant.");
    sb_prom_histogram(&p, "switchboard_join_seconds", NULL, 0, join_bounds, N_JOIN, m->join.counts,
                      m->join.sum);
    sb_prom_header(&p, "switchboard_revocation_cut_seconds", "histogram",
                   "From a revocation applied on this node to the relay's confirmation that the "
                   "participant's transport is closed.");
    sb_prom_histogram(&p, "switchboard_revocation_cut_seconds", NULL, 0, cut_bounds, N_CUT,
                      m->cut.counts, m->cut.sum);
  }
  sb_webhooks_render(app, &p);
  return sb_prom_take(&p);
}

void sb_metrics_tenant_json(sb_app_t *app, const char *tenant_id, json_t *obj) {
  sb_metrics_t *m = app->metrics;
  tenant_t zero = {0};
  const tenant_t *t = &zero;
  if (m) {
    count_live(app, m);
    for (size_t i = 0; i < m->ntenants; i++)
      if (strcmp(m->tenants[i].id, tenant_id) == 0)
        t = &m->tenants[i];
  }
  uint64_t denied = 0;
  json_t *by = json_object();
  for (size_t r = 0; r < N_DENY; r++) {
    denied += t->denials[r];
    json_object_set_new(by, deny_reasons[r], json_integer((json_int_t)t->denials[r]));
  }
  json_object_set_new(obj, "node", json_string(sb_node_id(app)));
  json_object_set_new(obj, "participants", json_integer(t->participants));
  json_object_set_new(obj, "calls", json_integer(t->calls));
  json_object_set_new(obj, "media_bytes_in", json_integer((json_int_t)t->rx_bytes));
  json_object_set_new(obj, "media_bytes_out", json_integer((json_int_t)t->tx_bytes));
  json_object_set_new(obj, "admissions", json_integer((json_int_t)t->admissions));
  json_object_set_new(obj, "denials", json_integer((json_int_t)denied));
  json_object_set_new(obj, "denials_by_reason", by);
  json_object_set_new(obj, "revocations", json_integer((json_int_t)t->revocations));
}
