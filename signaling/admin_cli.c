/* `switchboard admin`: the administrator HTTP API from the command line, through libwebsockets'
 * HTTP client. Prints the JSON answer; exit 0 for 2xx, 1 for an error answer or no answer, 2 for
 * bad usage. */
#include "signaling/admin_cli.h"

#include <getopt.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "signaling/app.h"
#include "signaling/token.h"

#define SB_CLI_MAX_ANSWER (4 * 1024 * 1024)

typedef struct {
  const char *method;
  char path[512];
  const char *body;
  char auth[9000];
  int status;
  char *answer;
  size_t answer_len;
  int done, failed;
  char error[320];
} cli_req_t;

static int on_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  cli_req_t *r = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
    unsigned char **p = in, *end = *p + len;
    char clen[24];
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)r->auth,
                                     (int)strlen(r->auth), p, end))
      return -1;
    if (r->body) {
      snprintf(clen, sizeof clen, "%zu", strlen(r->body));
      if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                       (unsigned char *)"application/json", 16, p, end) ||
          lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *)clen,
                                       (int)strlen(clen), p, end))
        return -1;
      lws_client_http_body_pending(wsi, 1);
      lws_callback_on_writable(wsi);
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
    size_t n = strlen(r->body);
    unsigned char *buf = malloc(LWS_PRE + n + 1);
    if (!buf)
      return -1;
    memcpy(buf + LWS_PRE, r->body, n);
    lws_client_http_body_pending(wsi, 0);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL);
    free(buf);
    return w < 0 ? -1 : 0;
  }
  case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
    r->status = (int)lws_http_client_http_response(wsi);
    return 0;
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
    if (r->answer_len + len > SB_CLI_MAX_ANSWER)
      return -1;
    {
      char *n = realloc(r->answer, r->answer_len + len + 1);
      if (!n)
        return -1;
      r->answer = n;
      memcpy(r->answer + r->answer_len, in, len);
      r->answer_len += len;
      r->answer[r->answer_len] = '\0';
    }
    return 0;
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
    char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
    int lenx = (int)sizeof buf - LWS_PRE;
    return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
  }
  case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
  case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    r->done = 1;
    lws_cancel_service(lws_get_context(wsi));
    return 0;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    snprintf(r->error, sizeof r->error, "%s", in ? (const char *)in : "connection failed");
    r->failed = r->done = 1;
    return 0;
  default:
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

static const struct lws_protocols cli_protocols[] = {{"http", on_http, 0, 0, 0, NULL, 0},
                                                     {NULL, NULL, 0, 0, 0, NULL, 0}};

/* Sends one request to http://host:port and waits (at most 15 s) for the answer. */
/* tls: https, the certificate and its name verified against cacert (NULL: the system's CAs). */
static int run_request(cli_req_t *r, const char *host, int port, int tls, const char *cacert) {
  struct lws_context_creation_info info;
  struct lws_client_connect_info ci;
  memset(&info, 0, sizeof info);
  memset(&ci, 0, sizeof ci);
  lws_set_log_level(LLL_ERR, NULL);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = cli_protocols;
  info.user = r;
  info.connect_timeout_secs = 10;
  if (tls) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = cacert;
  }
  struct lws_context *ctx = lws_create_context(&info);
  if (!ctx)
    return -1;
  ci.context = ctx;
  ci.address = host;
  ci.port = port;
  ci.path = r->path;
  ci.host = host;
  ci.origin = host;
  ci.method = r->method;
  ci.protocol = cli_protocols[0].name;
  ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
  uint64_t deadline = sb_now_ms() + 15000;
  if (!lws_client_connect_via_info(&ci)) {
    snprintf(r->error, sizeof r->error, "cannot connect to %s:%d", host, port);
    r->failed = 1;
  }
  while (!r->done && !r->failed && sb_now_ms() < deadline)
    if (lws_service(ctx, 250) < 0)
      break;
  lws_context_destroy(ctx);
  if (!r->done && !r->failed)
    snprintf(r->error, sizeof r->error, "no answer within 15 s");
  return r->failed || !r->done ? -1 : 0;
}

static void usage(FILE *out) {
  fprintf(out,
          "Usage: switchboard admin [options] COMMAND [ARGS]\n"
          "\n"
          "Calls the administrator HTTP API (docs/openapi.yaml) of a running server and prints the\n"
          "JSON answer. Exit status: 0 for a 2xx answer, 1 for an error answer, 2 for bad usage.\n"
          "\n"
          "Commands:\n"
          "  connections                 this tenant's external connections\n"
          "  allow PEER | revoke PEER    allow or revoke the connection toward tenant PEER\n"
          "  users                       this tenant's users\n"
          "  permit USER on|off          a user's permission to use external features\n"
          "  audit [QUERY]               the audit log (QUERY like 'user=bob&limit=20')\n"
          "  tenants                     tenants visible to the caller\n"
          "  nodes                       the cluster's live nodes (operator)\n"
          "  drain NODE                  drain node NODE: not ready, no new rooms, its calls\n"
          "                              move after its --drain-timeout (operator)\n"
          "  request METHOD PATH [JSON]  any endpoint, e.g. request GET /api/admin/tenants/acme\n"
          "\n"
          "Options:\n"
          "  --server URL          http(s)://HOST:PORT of the server (default http://127.0.0.1:8080)\n"
          "  --cacert FILE         https: trust the CA certificate(s) in FILE (PEM) instead of\n"
          "                        the system's\n"
          "  --token TOKEN         an administrator's access token, or else:\n"
          "  --tenant T --user U   mint a 5-minute token for administrator U of tenant T with\n"
          "  --secret-file FILE    the server's secret (default switchboard.secret)\n"
          "  -h, --help            this text\n");
}

static int usage_error(const char *what) {
  fprintf(stderr, "switchboard admin: %s\nRun 'switchboard admin --help' for usage.\n", what);
  return 2;
}

/* Maps a command and its arguments to (method, path, body); 0 or -1. */
static int map_command(int argc, char **argv, cli_req_t *r, char *tenant_path, const char *tenant) {
  const char *cmd = argv[0];
  static char body[64];
  r->body = NULL;
  if (!strcmp(cmd, "connections") && argc == 1)
    return r->method = "GET", snprintf(r->path, sizeof r->path, "/api/admin/connections"), 0;
  if ((!strcmp(cmd, "allow") || !strcmp(cmd, "revoke")) && argc == 2)
    return r->method = "POST", r->body = "{}",
           snprintf(r->path, sizeof r->path, "/api/admin/connections/%s/%s", argv[1], cmd), 0;
  if (!strcmp(cmd, "users") && argc == 1)
    return r->method = "GET", snprintf(r->path, sizeof r->path, "%s/users", tenant_path), 0;
  if (!strcmp(cmd, "permit") && argc == 3 && (!strcmp(argv[2], "on") || !strcmp(argv[2], "off"))) {
    snprintf(body, sizeof body, "{\"external_allowed\": %s}", !strcmp(argv[2], "on") ? "true" : "false");
    r->body = body;
    return r->method = "PATCH", snprintf(r->path, sizeof r->path, "%s/users/%s", tenant_path, argv[1]), 0;
  }
  if (!strcmp(cmd, "audit") && argc <= 2)
    return r->method = "GET",
           snprintf(r->path, sizeof r->path, "/api/admin/audit%s%s", argc == 2 ? "?" : "", argc == 2 ? argv[1] : ""), 0;
  if (!strcmp(cmd, "tenants") && argc == 1)
    return r->method = "GET", snprintf(r->path, sizeof r->path, "/api/admin/tenants"), 0;
  if (!strcmp(cmd, "nodes") && argc == 1)
    return r->method = "GET", snprintf(r->path, sizeof r->path, "/api/admin/nodes"), 0;
  if (!strcmp(cmd, "drain") && argc == 2)
    return r->method = "POST", r->body = "{}",
           snprintf(r->path, sizeof r->path, "/api/admin/nodes/%s/drain", argv[1]), 0;
  if (!strcmp(cmd, "request") && (argc == 3 || argc == 4)) {
    r->method = argv[1];
    r->body = argc == 4 ? argv[3] : NULL;
    snprintf(r->path, sizeof r->path, "%s", argv[2]);
    return 0;
  }
  (void)tenant;
  return -1;
}

static int make_token(cli_req_t *r, const char *token, const char *tenant, const char *user,
                      const char *secret_file) {
  if (token) {
    snprintf(r->auth, sizeof r->auth, "Bearer %s", token);
    return 0;
  }
  sb_app_t app;
  sb_token_claims_t c;
  memset(&app, 0, sizeof app);
  memset(&c, 0, sizeof c);
  sb_config_defaults(&app.cfg);
  snprintf(app.cfg.secret_file, sizeof app.cfg.secret_file, "%s", secret_file);
  if (sb_app_load_secret(&app) != 0)
    return -1;
  snprintf(c.tenant, sizeof c.tenant, "%s", tenant);
  snprintf(c.user, sizeof c.user, "%s", user);
  c.admin = 1;
  c.exp = (int64_t)(sb_wall_ms() / 1000) + 300;
  char *t = sb_token_mint(app.secret, app.secret_len, &c);
  if (!t)
    return -1;
  snprintf(r->auth, sizeof r->auth, "Bearer %s", t);
  free(t);
  return 0;
}

int sb_admin_cli_main(int argc, char **argv) {
  static const struct option opts[] = {{"server", required_argument, 0, 'S'}, {"token", required_argument, 0, 't'},
                                       {"tenant", required_argument, 0, 'T'}, {"user", required_argument, 0, 'u'},
                                       {"secret-file", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'},
                                       {"cacert", required_argument, 0, 'C'},
                                       {0, 0, 0, 0}};
  const char *server = "http://127.0.0.1:8080", *token = NULL, *tenant = NULL, *user = NULL;
  const char *secret_file = "switchboard.secret", *cacert = NULL;
  cli_req_t r;
  char host[256], tenant_path[128];
  int port, o, tls;
  memset(&r, 0, sizeof r);
  opterr = 0;
  while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (o) {
    case 'S': server = optarg; break;
    case 't': token = optarg; break;
    case 'T': tenant = optarg; break;
    case 'u': user = optarg; break;
    case 's': secret_file = optarg; break;
    case 'C': cacert = optarg; break;
    case 'h': usage(stdout); return 0;
    default: return usage_error("unknown or incomplete option");
    }
  }
  if (optind >= argc)
    return usage_error("a command is required");
  if (!token && (!tenant || !user))
    return usage_error("give --token, or --tenant and --user (with --secret-file)");
  tls = strncmp(server, "https://", 8) == 0;
  const char *hostport = tls ? server + 8 : strncmp(server, "http://", 7) == 0 ? server + 7 : NULL;
  if (!hostport || sscanf(hostport, "%255[^:/]:%d", host, &port) != 2 || port <= 0 || port > 65535)
    return usage_error("--server takes http://HOST:PORT or https://HOST:PORT");
  snprintf(tenant_path, sizeof tenant_path, "/api/admin/tenants/%s", tenant ? tenant : "-");
  if (map_command(argc - optind, argv + optind, &r, tenant_path, tenant) != 0)
    return usage_error("unknown command or wrong arguments");
  if (make_token(&r, token, tenant, user, secret_file) != 0)
    return 1;
  if (run_request(&r, host, port, tls, cacert) != 0) {
    fprintf(stderr, "switchboard admin: %s\n", r.error);
    free(r.answer);
    return 1;
  }
  printf("%s\n", r.answer ? r.answer : "");
  free(r.answer);
  return r.status >= 200 && r.status < 300 ? 0 : 1;
}
