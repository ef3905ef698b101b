#include "signaling/app.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "relay/srtp.h"
#include "signaling/call.h"
#include "signaling/dbq.h"
#include "signaling/metrics.h"
#include "signaling/model.h"
#include "signaling/node.h"
#include "signaling/bus.h"
#include "signaling/admission.h"
#include "signaling/webhooks.h"
#include "signaling/server.h"

void sb_config_defaults(sb_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->http_host, sizeof cfg->http_host, "127.0.0.1");
  cfg->http_port = 8080;
  snprintf(cfg->media_ip, sizeof cfg->media_ip, "127.0.0.1");
  cfg->media_port = 40000;
  cfg->workers = 1;
  snprintf(cfg->db_path, sizeof cfg->db_path, "switchboard.sqlite3");
  snprintf(cfg->secret_file, sizeof cfg->secret_file, "switchboard.secret");
  snprintf(cfg->web_dir, sizeof cfg->web_dir, "%s", SB_WEB_DIR);
  cfg->max_participants = 100;
  cfg->max_video_publishers = 25;
  cfg->max_conns_per_address = 200;
  cfg->max_conns_per_user = 20;
  cfg->max_requests_per_second = 50;
  cfg->resume_grace_s = 15;
  cfg->turn_ttl_s = 86400;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int sb_app_load_secret(sb_app_t *app) {
  char text[260];
  const char *path = app->cfg.secret_file;
  FILE *f = fopen(path, "r");
  if (!f && errno == ENOENT) {
    uint8_t raw[32];
    char hex[65];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || sb_random_bytes(raw, sizeof raw) != 0) {
      sb_error(NULL, "cannot create the token secret file %s: %s", path, strerror(errno));
      if (fd >= 0)
        close(fd);
      return -1;
    }
    sb_hex(raw, sizeof raw, hex);
    int ok = write(fd, hex, 64) == 64 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(raw, sizeof raw);
    if (!ok)
      return -1;
    sb_info(NULL, "created a new token secret in %s (mode 0600)", path);
    f = fopen(path, "r");
  }
  if (!f) {
    sb_error(NULL, "cannot read the token secret file %s: %s", path, strerror(errno));
    return -1;
  }
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
    text[--n] = '\0';
  /* The file holds hex (as generated); the decoded bytes are the HMAC key. */
  if (n < 32 || n % 2 || n / 2 > sizeof app->secret) {
    sb_error(NULL, "token secret in %s must be 32-128 hex digits", path);
    return -1;
  }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      sb_error(NULL, "token secret in %s must be hex", path);
      return -1;
    }
    app->secret[i] = (uint8_t)(hi << 4 | lo);
  }
  app->secret_len = n / 2;
  OPENSSL_cleanse(text, sizeof text);
  return 0;
}

int sb_app_load_turn(sb_app_t *app) {
  char err[640];
  if (sb_turn_setup(&app->turn, app->cfg.turn_urls, app->cfg.turn_secret_file,
                    app->cfg.turn_ttl_s, err, sizeof err) != 0) {
    sb_error(NULL, "%s", err);
    return -1;
  }
  if (app->turn.n_urls)
    sb_info(NULL, "TURN: %d server URL(s) handed out with credentials valid for %d s",
            app->turn.n_urls, app->turn.ttl_s);
  return 0;
}

uint64_t sb_app_next_id(sb_app_t *app) { return ++app->next_id; }

static int seed_demo_once(sb_model_t *m, void *arg) { return sb_model_seed_demo(m); }

/* Nodes sharing a PostgreSQL may seed at the same time: a conflict runs the seed again. */
static int seed_demo(sb_model_t *m, void *arg) { return sb_model_run_retry(m, seed_demo_once, NULL, 5); }

/* Storage and the policy model: a SQLite file by default (brief §8), PostgreSQL when --db names
 * one (shared by several nodes), owned by the DB thread. The password of a URL never reaches the
 * log. */
static int sb_app_open_model(sb_app_t *app) {
  char err[1200] = "", where[512];
  sb_dbq_config_t dc = {.db = app->cfg.db_path, .test_delay_ms = app->cfg.test_db_delay_ms};
  sb_store_url_redact(app->cfg.db_path, where, sizeof where);
  if (sb_dbq_create(app->loop, &dc, &app->dbq, err, sizeof err) != 0) {
    sb_error(NULL, "storage: %s", err);
    return -1;
  }
  /* Before serving, so waiting here delays no client. */
  if (app->cfg.demo && sb_dbq_call_sync(app->dbq, seed_demo, NULL) != 0)
    return -1;
  sb_info(NULL, "storage: %s %s%s", sb_dbq_backend(app->dbq), where,
          app->cfg.demo ? " (demo data seeded)" : "");
  if (app->cfg.test_db_delay_ms)
    sb_warn(NULL, "storage: test mode, every database job waits %d ms first", app->cfg.test_db_delay_ms);
  return 0;
}

/* ---- the effects bus between nodes (PostgreSQL only: one SQLite file is one node) ---- */

static int bus_publish(sb_store_t *st, const sb_effects_t *fx, size_t from, void *arg) {
  return sb_bus_publish(st, arg, fx, from);
}

static int set_publisher(sb_model_t *m, void *arg) {
  sb_model_set_publisher(m, bus_publish, arg);
  return 0;
}

static void bus_on_effects(sb_effects_t *fx, void *arg) { sb_admission_apply_remote(arg, fx); }

static void bus_on_resync(void *arg) { sb_admission_resync(arg); }

static int sb_app_bus_start(sb_app_t *app) {
  if (strcmp(sb_dbq_backend(app->dbq), "postgresql") != 0)
    return 0;
  snprintf(app->bus_node, sizeof app->bus_node, "%s", sb_node_id(app));
  sb_bus_config_t bc = {.conninfo = app->cfg.db_path, .node = app->bus_node,
                        .on_effects = bus_on_effects, .on_resync = bus_on_resync, .arg = app};
  /* Start-up: nothing is served yet, so waiting for the DB thread delays nobody. */
  if (sb_dbq_call_sync(app->dbq, set_publisher, app->bus_node) != 0 ||
      sb_bus_start(app->loop, &bc, &app->bus) != 0) {
    sb_error(NULL, "cannot start the effects bus between nodes");
    return -1;
  }
  return 0;
}

int sb_app_start(sb_app_t *app, uv_loop_t *loop) {
  app->loop = loop;
  app->started_ms = sb_now_ms();
  app->next_id = (sb_now_ms() & 0xffffff) << 20; /* ids differ across restarts */
  if (sb_srtp_global_init() != 0) {
    sb_error(NULL, "libsrtp initialisation failed");
    return -1;
  }
  app->dtls = sb_dtls_ctx_create();
  if (!app->dtls)
    return -1;
  sb_relay_config_t rc = {
      .bind_ip = app->cfg.bind_ip[0] ? app->cfg.bind_ip : app->cfg.media_ip,
      .announce_ip = app->cfg.media_ip,
      .port_base = app->cfg.media_port,
      .ice_tcp = app->cfg.ice_tcp,
      .tcp_port_base = app->cfg.ice_tcp_port,
      .tcp_max_conns = app->cfg.ice_tcp_max_conns,
      .tcp_max_pending = app->cfg.ice_tcp_max_pending,
      .workers = app->cfg.workers,
      .dtls = app->dtls,
      .events_loop = loop,
      .on_event = sb_call_on_relay_event,
      .test_drop_percent = app->cfg.test_drop_percent,
      .arg = app,
  };
  if (sb_app_open_model(app) != 0)
    return -1;
  if (!(app->metrics = sb_metrics_create(loop)))
    return -1;
  if (sb_webhooks_start(app) != 0)
    return -1;
  if (sb_relay_start(&rc, &app->relay) != 0)
    return -1;
  if (sb_call_start(app) != 0)
    return -1;
  if (sb_server_start(app) != 0)
    return -1;
  if (sb_node_start(app) != 0)
    return -1;
  if (sb_app_bus_start(app) != 0)
    return -1;
  return 0;
}

void sb_app_stop(sb_app_t *app) {
  app->stopping = 1;
  /* End every call first so clients hear why, then close the server and the relay. */
  sb_call_end_all(app, "server_shutdown");
  sb_server_stop(app);
  sb_bus_stop(app->bus);
  app->bus = NULL;
  sb_node_stop(app);
  sb_relay_stop(app->relay);
  app->relay = NULL;
  sb_call_stop(app);
  sb_webhooks_stop(app); /* after the calls ended: their last events get a short drain */
  sb_metrics_destroy(app->metrics); /* after the relay: no event comes any more */
  app->metrics = NULL;
  sb_dtls_ctx_destroy(app->dtls);
  app->dtls = NULL;
  /* Last: done callbacks of the jobs still queued find no session, connection or call. */
  sb_dbq_destroy(app->dbq);
  app->dbq = NULL;
  OPENSSL_cleanse(app->secret, sizeof app->secret);
  sb_turn_clear(&app->turn);
}
