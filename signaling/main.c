/* switchboard: the server and its helper commands. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/admin_cli.h"
#include "signaling/app.h"
#include "signaling/call.h"
#include "signaling/node.h"
#include "signaling/config.h"
#include "signaling/server.h"
#include "signaling/token.h"

#define SB_EXIT_USAGE 2

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
  uv_close((uv_handle_t *)&g_app->sighup, NULL);
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

/* SIGHUP (systemctl reload): new connections get the re-read certificate; nothing else stops. */
static void on_sighup(uv_signal_t *h, int signum) {
  sb_app_t *app = h->data;
  sb_info(NULL, "signal %d: reloading the TLS certificate", signum);
  sb_server_tls_reload(app);
}

static int cmd_serve(int argc, char **argv) {
  sb_serve_config_t sc;
  sb_app_t app;
  char err[512];
  memset(&app, 0, sizeof app);
  int action = sb_config_load(&sc, argc, argv, environ, err, sizeof err);
  if (action < 0)
    return bad_flag("serve", err);
  switch (action) {
  case SB_CFG_HELP: sb_config_print_help(stdout); return 0;
  case SB_CFG_PRINT: sb_config_print(&sc, stdout); return 0;
  case SB_CFG_REFERENCE: sb_config_print_reference(stdout); return 0;
  default: break;
  }
  app.cfg = sc.app;
  sb_config_t *c = &app.cfg;
  if (!c->tls_cert[0] != !c->tls_key[0])
    return bad_flag("serve", "tls-cert and tls-key go together: give both (HTTPS) or neither");
  /* Already validated by the table; these only take effect here. */
  if (sb_log_configure(sc.log_level, sc.debug) != 0 || sb_log_set_format(sc.log_format) != 0)
    return bad_flag("serve", "bad --log-level, --log-format or --debug");
  signal(SIGPIPE, SIG_IGN);
  if (sb_app_load_turn(&app) != 0 || sb_app_load_secret(&app) != 0)
    return 1;
  uv_loop_t *loop = uv_default_loop();
  g_app = &app;
  if (sb_app_start(&app, loop) != 0) {
    sb_app_stop(&app);
    return 1;
  }
  uv_signal_init(loop, &app.sigint);
  uv_signal_init(loop, &app.sigterm);
  uv_signal_init(loop, &app.sighup);
  app.sigint.data = app.sigterm.data = app.sighup.data = &app;
  uv_signal_start(&app.sigint, on_signal, SIGINT);
  uv_signal_start(&app.sigterm, on_signal, SIGTERM);
  uv_signal_start(&app.sighup, on_sighup, SIGHUP);
  sb_log_event(SB_LOG_INFO, NULL, "node.start", "node %s, clients reach it at %s", sb_node_id(&app),
               sb_node_url(&app));
  printf("Switchboard listening on %s://%s:%d/\n", c->tls_cert[0] ? "https" : "http", c->http_host,
         sb_server_port(&app));
  sb_log_event(SB_LOG_INFO, NULL, "server.start", "listening on %s:%d, web files in %s%s%s, malloc %s",
               c->http_host, sb_server_port(&app), c->web_dir, sc.config_file[0] ? ", config " : "",
               sc.config_file, sb_malloc_name());
  fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  sb_log_event(SB_LOG_INFO, NULL, "server.stop", "stopped");
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
    printf("switchboard 0.1.0 (libuv %s, libsrtp2 %s build, malloc %s)\n", uv_version_string(), SB_SRTP_BUILD,
           sb_malloc_name());
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
