/* switchboard: the server and its helper commands. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/admin_cli.h"
#include "signaling/app.h"
#include "signaling/call.h"
#include "signaling/node.h"
#include "signaling/server.h"
#include "signaling/token.h"

#define SB_EXIT_USAGE 2
#define SB_NODE_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static void usage_main(FILE *out) {
  fprintf(out,
          "Usage: switchboard <command> [options]\n"
          "\n"
          "A real-time media relay (SFU) for calls between people of different companies.\n"
          "\n"
          "Commands:\n"
          "  serve     run the server (HTTP/WebSocket signaling and the UDP media relay)\n"
          "  token     mint an access token (JWT, HS256) for development and tests\n"
          "  admin     call the administrator API of a running server\n"
          "  version   print the version and build details\n"
          "\n"
          "Run 'switchboard <command> --help' for the options of a command.\n");
}

static void usage_serve(FILE *out) {
  fprintf(out,
          "Usage: switchboard serve [options]\n"
          "\n"
          "Runs signaling and the media relay. Defaults are embedded; no file is needed.\n"
          "\n"
          "  --http HOST:PORT       HTTP and WebSocket listen address (default 127.0.0.1:8080)\n"
          "  --media-ip IP          address announced in ICE candidates (default 127.0.0.1)\n"
          "  --bind-ip IP           address the media sockets bind to (default: --media-ip)\n"
          "  --media-port PORT      UDP port of worker 0; worker i uses PORT+i (default 40000,\n"
          "                         0 = any free port)\n"
          "  --workers N            relay worker threads, one UDP port each (default 1)\n"
          "  --db FILE|URL          SQLite database file (default switchboard.sqlite3), or a\n"
          "                         PostgreSQL URL (postgresql://USER@HOST/DB) or libpq\n"
          "                         conninfo ('host=... dbname=...') shared by several nodes\n"
          "  --secret-file FILE     token secret, hex; created with mode 0600 if missing\n"
          "                         (default switchboard.secret)\n"
          "  --web-dir DIR          static files for / (default: the source tree's web/)\n"
          "  --max-participants N   per call (default 100)\n"
          "  --max-video-publishers N  participants sending video per call (default 25)\n"
          "  --demo                 seed demo tenants and users and enable /api/demo/*\n"
          "                         (development only: anyone can get a demo user's token)\n"
          "  --log-level LEVEL      error, warn, info (default) or debug\n"
          "  --debug CATS           debug categories: ice,dtls,rtp,rtcp,sig,sdp or all\n"
          "  --node-id ID           this node's id in a cluster (default HOSTNAME-PORT)\n"
          "  --public-url URL       how clients reach this node, e.g. behind HAProxy\n"
          "                         https://lb.example/?node=ID (default: the --http address)\n"
          "  --drain-timeout S      after a drain (admin drain, or SIGTERM when S > 0) calls may\n"
          "                         go on S seconds, then end with reason moved (default 0)\n"
          "  --test-drop-percent N  tests only: drop N%% of the RTP sent to subscribers\n"
          "  --test-db-delay-ms N   tests only: the database thread waits N ms before each job\n"
          "  -h, --help             this text\n");
}

static void usage_token(FILE *out) {
  fprintf(out,
          "Usage: switchboard token --tenant T --user U [options]\n"
          "\n"
          "Prints an HS256 access token signed with the server's secret.\n"
          "\n"
          "  --tenant ID         tenant (company) id\n"
          "  --user ID           user id\n"
          "  --name TEXT         display name\n"
          "  --admin             the user administers the tenant\n"
          "  --ttl SECONDS       lifetime (default 3600; negative gives an expired token)\n"
          "  --secret-file FILE  as for serve (default switchboard.secret)\n"
          "  -h, --help          this text\n");
}

static int parse_hostport(const char *s, char *host, size_t hlen, int *port) {
  const char *colon = strrchr(s, ':');
  char *end;
  if (!colon || colon == s || (size_t)(colon - s) >= hlen)
    return -1;
  long p = strtol(colon + 1, &end, 10);
  if (*end || p < 0 || p > 65535)
    return -1;
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  *port = (int)p;
  return 0;
}

static int parse_int(const char *s, long lo, long hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

static int bad_flag(const char *cmd, const char *what) {
  fprintf(stderr, "switchboard %s: %s\nRun 'switchboard %s --help' for usage.\n", cmd, what, cmd);
  return SB_EXIT_USAGE;
}

static sb_app_t *g_app; /* only for the signal callbacks' shutdown */
static uv_timer_t drain_timer;

static void finish_stop(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
  sb_app_stop(g_app);
  uv_close((uv_handle_t *)&g_app->sigint, NULL);
  uv_close((uv_handle_t *)&g_app->sigterm, NULL);
}

static void stop_soon(sb_app_t *app) {
  if (app->stopping)
    return;
  app->stopping = 1;
  /* End the calls now so clients are told why; give the WebSocket frames a moment to leave. */
  sb_call_end_all(app, "server_shutdown");
  uv_timer_init(app->loop, &drain_timer);
  uv_timer_start(&drain_timer, finish_stop, 200, 0);
}

/* SIGTERM with --drain-timeout drains first (not ready; calls end or move), SIGINT stops now. */
static void on_signal(uv_signal_t *h, int signum) {
  sb_app_t *app = h->data;
  if (app->stopping)
    return;
  if (signum == SIGTERM && app->cfg.drain_timeout_s > 0) {
    sb_info(NULL, "signal %d: draining, then shutting down", signum);
    sb_node_drain(app, stop_soon);
    return;
  }
  sb_info(NULL, "signal %d: shutting down", signum);
  stop_soon(app);
}

static int cmd_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"http", required_argument, 0, 'H'},        {"media-ip", required_argument, 0, 'm'},
      {"bind-ip", required_argument, 0, 'b'},     {"media-port", required_argument, 0, 'p'},
      {"workers", required_argument, 0, 'w'},     {"db", required_argument, 0, 'd'},
      {"secret-file", required_argument, 0, 's'}, {"web-dir", required_argument, 0, 'W'},
      {"max-participants", required_argument, 0, 'M'}, {"demo", no_argument, 0, 'D'},
      {"log-level", required_argument, 0, 'l'},   {"debug", required_argument, 0, 'g'},
      {"test-drop-percent", required_argument, 0, 'X'},
      {"max-video-publishers", required_argument, 0, 'V'},
      {"test-db-delay-ms", required_argument, 0, 'Y'},
      {"node-id", required_argument, 0, 'N'},     {"public-url", required_argument, 0, 'U'},
      {"drain-timeout", required_argument, 0, 'T'},
      {"help", no_argument, 0, 'h'},              {0, 0, 0, 0}};
  sb_app_t app;
  memset(&app, 0, sizeof app);
  sb_config_defaults(&app.cfg);
  sb_config_t *c = &app.cfg;
  const char *level = NULL, *cats = NULL;
  int o;
  opterr = 0;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
    case 'H':
      if (parse_hostport(optarg, c->http_host, sizeof c->http_host, &c->http_port) != 0)
        return bad_flag("serve", "--http takes HOST:PORT");
      break;
    case 'm': snprintf(c->media_ip, sizeof c->media_ip, "%s", optarg); break;
    case 'b': snprintf(c->bind_ip, sizeof c->bind_ip, "%s", optarg); break;
    case 'p':
      if (parse_int(optarg, 0, 65535, &c->media_port) != 0)
        return bad_flag("serve", "--media-port takes 0-65535");
      break;
    case 'w':
      if (parse_int(optarg, 1, 64, &c->workers) != 0)
        return bad_flag("serve", "--workers takes 1-64");
      break;
    case 'd': snprintf(c->db_path, sizeof c->db_path, "%s", optarg); break;
    case 's': snprintf(c->secret_file, sizeof c->secret_file, "%s", optarg); break;
    case 'W': snprintf(c->web_dir, sizeof c->web_dir, "%s", optarg); break;
    case 'M':
      if (parse_int(optarg, 2, 1000, &c->max_participants) != 0)
        return bad_flag("serve", "--max-participants takes 2-1000");
      break;
    case 'D': c->demo = 1; break;
    case 'V':
      if (parse_int(optarg, 1, 1000, &c->max_video_publishers) != 0)
        return bad_flag("serve", "--max-video-publishers takes 1-1000");
      break;
    case 'X':
      if (parse_int(optarg, 0, 50, &c->test_drop_percent) != 0)
        return bad_flag("serve", "--test-drop-percent takes 0-50");
      break;
    case 'Y':
      if (parse_int(optarg, 0, 60000, &c->test_db_delay_ms) != 0)
        return bad_flag("serve", "--test-db-delay-ms takes 0-60000");
      break;
    case 'N':
      if (!*optarg || strlen(optarg) > 63 || strspn(optarg, SB_NODE_ID_CHARS) != strlen(optarg))
        return bad_flag("serve", "--node-id takes 1-63 of [A-Za-z0-9._-]");
      snprintf(c->node_id, sizeof c->node_id, "%s", optarg);
      break;
    case 'U':
      if (strlen(optarg) >= sizeof c->public_url)
        return bad_flag("serve", "--public-url is too long");
      snprintf(c->public_url, sizeof c->public_url, "%s", optarg);
      break;
    case 'T':
      if (parse_int(optarg, 0, 86400, &c->drain_timeout_s) != 0)
        return bad_flag("serve", "--drain-timeout takes 0-86400 seconds");
      break;
    case 'l': level = optarg; break;
    case 'g': cats = optarg; break;
    case 'h': usage_serve(stdout); return 0;
    default: return bad_flag("serve", "unknown or incomplete option");
    }
  }
  if (optind < argc)
    return bad_flag("serve", "unexpected argument");
  if (sb_log_configure(level, cats) != 0)
    return bad_flag("serve", "unknown --log-level or --debug category");
  signal(SIGPIPE, SIG_IGN);
  if (sb_app_load_secret(&app) != 0)
    return 1;
  uv_loop_t *loop = uv_default_loop();
  g_app = &app;
  if (sb_app_start(&app, loop) != 0) {
    sb_app_stop(&app);
    return 1;
  }
  uv_signal_init(loop, &app.sigint);
  uv_signal_init(loop, &app.sigterm);
  app.sigint.data = app.sigterm.data = &app;
  uv_signal_start(&app.sigint, on_signal, SIGINT);
  uv_signal_start(&app.sigterm, on_signal, SIGTERM);
  printf("Switchboard node %s, clients reach it at %s\n", sb_node_id(&app), sb_node_url(&app));
  printf("Switchboard listening on http://%s:%d/\n", c->http_host, sb_server_port(&app));
  fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  sb_info(NULL, "stopped");
  return 0;
}

static int cmd_token(int argc, char **argv) {
  static const struct option opts[] = {
      {"tenant", required_argument, 0, 't'}, {"user", required_argument, 0, 'u'},
      {"name", required_argument, 0, 'n'},   {"admin", no_argument, 0, 'a'},
      {"ttl", required_argument, 0, 'T'},    {"secret-file", required_argument, 0, 's'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  sb_app_t app;
  sb_token_claims_t claims;
  int ttl = 3600, o;
  memset(&app, 0, sizeof app);
  memset(&claims, 0, sizeof claims);
  sb_config_defaults(&app.cfg);
  opterr = 0;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
    case 't': snprintf(claims.tenant, sizeof claims.tenant, "%s", optarg); break;
    case 'u': snprintf(claims.user, sizeof claims.user, "%s", optarg); break;
    case 'n': snprintf(claims.name, sizeof claims.name, "%s", optarg); break;
    case 'a': claims.admin = 1; break;
    case 'T':
      if (parse_int(optarg, -86400 * 365, 86400 * 365, &ttl) != 0)
        return bad_flag("token", "--ttl takes seconds (at most a year)");
      break;
    case 's': snprintf(app.cfg.secret_file, sizeof app.cfg.secret_file, "%s", optarg); break;
    case 'h': usage_token(stdout); return 0;
    default: return bad_flag("token", "unknown or incomplete option");
    }
  }
  if (optind < argc)
    return bad_flag("token", "unexpected argument");
  if (!claims.tenant[0] || !claims.user[0])
    return bad_flag("token", "--tenant and --user are required");
  if (sb_app_load_secret(&app) != 0)
    return 1;
  claims.exp = (int64_t)(sb_wall_ms() / 1000) + ttl;
  char *tok = sb_token_mint(app.secret, app.secret_len, &claims);
  if (!tok) {
    fprintf(stderr, "switchboard token: cannot mint (check the ids: 1-63 of [A-Za-z0-9._-])\n");
    return 1;
  }
  puts(tok);
  free(tok);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return SB_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage_main(stdout);
    return 0;
  }
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("switchboard 0.1.0 (libuv %s, libsrtp2 %s build)\n", uv_version_string(), SB_SRTP_BUILD);
    return 0;
  }
  if (strcmp(cmd, "serve") == 0)
    return cmd_serve(argc - 1, argv + 1);
  if (strcmp(cmd, "token") == 0)
    return cmd_token(argc - 1, argv + 1);
  if (strcmp(cmd, "admin") == 0)
    return sb_admin_cli_main(argc - 1, argv + 1);
  fprintf(stderr, "switchboard: unknown command '%s'\n", cmd);
  usage_main(stderr);
  return SB_EXIT_USAGE;
}
