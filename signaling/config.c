/* The serve options' table and the parsing of flags, environment and YAML file from it. */
#include "signaling/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/log.h"
#include "signaling/turn.h"

#define F(field)                                                                            \
  .off = offsetof(sb_serve_config_t, field), .size = sizeof(((sb_serve_config_t *)0)->field)
#define A(field) F(app.field)

static int check_debug(const char *v) {
  unsigned mask;
  return sb_log_parse_categories(v, &mask);
}

/* Only [A-Za-z0-9._-] (the length is the field's): it goes into URLs and log lines. */
static int check_node_id(const char *v) {
  return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(v)
             ? 0
             : -1;
}

/* The order is the order of --help, --print-config and the reference. */
static const sb_cfg_option_t options[] = {
    {.name = "config", .type = SB_CFG_STR, .arg = "FILE", F(config_file), .def = "",
     .def_doc = "none", .flags = SB_CFG_NOFILE,
     .help = "YAML file of options (keys as the flags' names); flags and environment override it"},
    {.name = "http", .type = SB_CFG_HOSTPORT, .arg = "HOST:PORT", A(http_host),
     .off2 = offsetof(sb_serve_config_t, app.http_port), .def = "127.0.0.1:8080",
     .help = "HTTP and WebSocket listen address"},
    {.name = "tls-cert", .type = SB_CFG_STR, .arg = "FILE", A(tls_cert), .def = "",
     .def_doc = "none: plain HTTP",
     .help = "PEM certificate (then its chain) to serve HTTPS and WSS on --http; with tls-key; "
             "re-read on SIGHUP"},
    {.name = "tls-key", .type = SB_CFG_STR, .arg = "FILE", A(tls_key), .def = "",
     .def_doc = "none", .help = "PEM private key of tls-cert, unencrypted; re-read on SIGHUP"},
    {.name = "media-ip", .type = SB_CFG_STR, .arg = "IP", A(media_ip), .def = "127.0.0.1",
     .help = "address announced in ICE candidates"},
    {.name = "bind-ip", .type = SB_CFG_STR, .arg = "IP", A(bind_ip), .def = "",
     .def_doc = "media-ip", .help = "address the media sockets bind to"},
    {.name = "media-port", .type = SB_CFG_INT, .arg = "PORT", A(media_port), .min = 0,
     .max = 65535, .def = "40000",
     .help = "UDP port of worker 0; worker i uses PORT+i (0 = any free port)"},
    {.name = "ice-tcp", .type = SB_CFG_BOOL, A(ice_tcp), .def = "true",
     .help = "also offer ICE-TCP (RFC 6544): a passive TCP host candidate on one TCP port per "
             "worker, below the UDP candidate's priority, for clients whose UDP is blocked"},
    {.name = "ice-tcp-port", .type = SB_CFG_INT, .arg = "PORT", A(ice_tcp_port), .min = 0,
     .max = 65535, .def = "0", .def_doc = "0: each worker's UDP port number",
     .help = "TCP port of worker 0 for ICE-TCP; worker i uses PORT+i"},
    {.name = "ice-tcp-max-connections", .type = SB_CFG_INT, .arg = "N", A(ice_tcp_max_conns),
     .min = 1, .max = 100000, .def = "1000",
     .help = "ICE-TCP connections open at once per worker; more are closed at once (counted)"},
    {.name = "ice-tcp-max-pending", .type = SB_CFG_INT, .arg = "N", A(ice_tcp_max_pending),
     .min = 1, .max = 100000, .def = "64",
     .help = "ICE-TCP connections per worker that have not yet sent a valid connectivity check "
             "(each gets 5 s); more are closed at once (counted)"},
    {.name = "workers", .type = SB_CFG_INT, .arg = "N", A(workers), .min = 1, .max = 64,
     .def = "1", .help = "relay worker threads, one UDP port each"},
    {.name = "db", .type = SB_CFG_STR, .arg = "URL", A(db_path), .def = "switchboard.sqlite3",
     .flags = SB_CFG_SECRET_URL,
     .help = "SQLite path, or a postgresql:// URL / libpq conninfo (its password is masked "
             "when printed)"},
    {.name = "secret-file", .type = SB_CFG_STR, .arg = "FILE", A(secret_file),
     .def = "switchboard.secret",
     .help = "token secret, hex; created with mode 0600 if missing (the secret itself is never "
             "a flag or printed)"},
    {.name = "web-dir", .type = SB_CFG_STR, .arg = "DIR", A(web_dir), .def = NULL,
     .def_doc = "share/switchboard/web next to the installed binary, else the source tree's web/",
     .help = "static files served at /"},
    {.name = "max-participants", .type = SB_CFG_INT, .arg = "N", A(max_participants), .min = 2,
     .max = 1000, .def = "100", .help = "participants per call"},
    {.name = "max-video-publishers", .type = SB_CFG_INT, .arg = "N", A(max_video_publishers),
     .min = 1, .max = 1000, .def = "25", .help = "participants sending video per call"},
    {.name = "max-conns-per-address", .type = SB_CFG_INT, .arg = "N", A(max_conns_per_address),
     .min = 0, .max = 1000000, .def = "200",
     .help = "WebSocket connections open at once from one source IP address; more are closed "
             "with 1008. 0 = no limit: set it behind a load balancer, whose address every "
             "client shares (limit clients at the load balancer instead)"},
    {.name = "max-conns-per-user", .type = SB_CFG_INT, .arg = "N", A(max_conns_per_user), .min = 1,
     .max = 100000, .def = "20",
     .help = "authenticated WebSocket connections of one user at once; a further auth answers "
             "limit_exceeded and closes with 1008"},
    {.name = "max-requests-per-second", .type = SB_CFG_INT, .arg = "N",
     A(max_requests_per_second), .min = 1, .max = 100000, .def = "50",
     .help = "requests per second on one WebSocket connection (bursts up to this many); more "
             "are answered rate_limited and not carried out"},
    {.name = "resume-grace", .type = SB_CFG_INT, .arg = "S", A(resume_grace_s), .min = 0,
     .max = 300, .def = "15",
     .help = "seconds a call is kept for a participant whose WebSocket closed, so that it can "
             "resume the session on a new connection (auth with its resume token) without "
             "leaving the call; 0 = leave at once"},
    {.name = "demo", .type = SB_CFG_BOOL, A(demo), .def = "false",
     .help = "seed demo tenants and users and enable /api/demo/* (development only: anyone can "
             "get a demo user's token)"},
    {.name = "node-id", .type = SB_CFG_STR, .arg = "ID", A(node_id), .def = "",
     .def_doc = "HOSTNAME-PORT", .check = check_node_id,
     .help = "this node's id in a cluster: 1-63 of [A-Za-z0-9._-]"},
    {.name = "public-url", .type = SB_CFG_STR, .arg = "URL", A(public_url), .def = "",
     .def_doc = "the listen address",
     .help = "URL clients reach this node at (redirects to this node use it), e.g. behind HAProxy "
             "https://lb.example/?node=ID"},
    {.name = "drain-timeout", .type = SB_CFG_INT, .arg = "SECONDS", A(drain_timeout_s),
     .min = 0, .max = 86400, .def = "0",
     .help = "after a drain (admin drain, or SIGTERM when above 0) calls may go on this long, "
             "then end with reason moved; 0: SIGTERM stops at once"},
    {.name = "metrics-token", .type = SB_CFG_STR, .arg = "TOKEN", A(metrics_token), .def = "",
     .def_doc = "none: /metrics answers loopback clients only", .flags = SB_CFG_SECRET,
     .help = "bearer token that GET /metrics requires (then from any address; masked when "
             "printed; prefer the environment or the file to a flag, which ps shows)"},
    {.name = "turn-url", .type = SB_CFG_STR, .arg = "URLS", A(turn_urls), .def = "",
     .def_doc = "none: no TURN", .check = sb_turn_check_urls,
     .help = "TURN servers handed to clients with the auth result, comma-separated turn: or "
             "turns: URLs (at most 8), e.g. turn:turn.example:3478?transport=udp,"
             "turns:turn.example:5349?transport=tcp; needs turn-secret-file"},
    {.name = "turn-secret-file", .type = SB_CFG_STR, .arg = "FILE", A(turn_secret_file),
     .def = "", .def_doc = "none",
     .help = "file holding the TURN REST API shared secret (coturn's static-auth-secret, one "
             "line); the secret itself is never a flag, printed or logged"},
    {.name = "turn-ttl", .type = SB_CFG_INT, .arg = "SECONDS", A(turn_ttl_s), .min = 60,
     .max = 7 * 86400, .def = "86400",
     .help = "lifetime of the TURN credentials in an auth result (the TURN server refuses them "
             "afterwards)"},
    {.name = "log-level", .type = SB_CFG_ENUM, .arg = "LEVEL", F(log_level), .def = "info",
     .choices = "error|warn|info|debug", .help = "least severe level logged"},
    {.name = "log-format", .type = SB_CFG_ENUM, .arg = "FORMAT", F(log_format), .def = "text",
     .choices = "text|json", .help = "text lines, or one JSON object per line for log shippers"},
    {.name = "debug", .type = SB_CFG_STR, .arg = "CATS", F(debug), .def = "",
     .def_doc = "none", .check = check_debug,
     .help = "debug categories, comma-separated: ice, dtls, rtp, rtcp, sig, sdp or all"},
    {.name = "test-drop-percent", .type = SB_CFG_INT, .arg = "N", A(test_drop_percent),
     .min = 0, .max = 50, .def = "0", .flags = SB_CFG_TESTING,
     .help = "tests only: drop N% of the RTP sent to subscribers"},
    {.name = "test-db-delay-ms", .type = SB_CFG_INT, .arg = "N", A(test_db_delay_ms), .min = 0,
     .max = 60000, .def = "0", .flags = SB_CFG_TESTING,
     .help = "tests only: delay each database job by N ms"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])
_Static_assert(N_OPTIONS <= SB_CFG_MAX_OPTIONS && SB_CFG_MAX_OPTIONS <= 64,
               "raise SB_CFG_MAX_OPTIONS (at most 64: a file's keys seen are one bit each)");

const sb_cfg_option_t *sb_config_options(size_t *n) {
  *n = N_OPTIONS;
  return options;
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static const sb_cfg_option_t *find_option(const char *name) {
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (strcmp(options[i].name, name) == 0)
      return &options[i];
  return NULL;
}

static int parse_long(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno)
    return -1;
  *out = v;
  return 0;
}

static int parse_bool(const char *s, int *out) {
  static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0)
      return *out = 1, 0;
    if (strcasecmp(s, no[i]) == 0)
      return *out = 0, 0;
  }
  return -1;
}

static int in_choices(const char *choices, const char *v) {
  size_t n = strlen(v);
  for (const char *p = choices; *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, v, n) == 0)
      return 1;
    p += len + (bar ? 1 : 0);
  }
  return 0;
}

static int set_string(char *dst, size_t size, const char *v, const char *name, char *err,
                      size_t errlen) {
  if (strlen(v) >= size) {
    fail(err, errlen, "%s: value too long (at most %zu characters)", name, size - 1);
    return -1;
  }
  memcpy(dst, v, strlen(v) + 1);
  return 0;
}

static int set_hostport(sb_serve_config_t *sc, const sb_cfg_option_t *o, const char *v,
                        char *err, size_t errlen) {
  const char *colon = strrchr(v, ':');
  long port;
  if (!colon || colon == v || (size_t)(colon - v) >= o->size || parse_long(colon + 1, &port) ||
      port < 0 || port > 65535) {
    fail(err, errlen, "%s: '%s' is not HOST:PORT (port 0-65535)", o->name, v);
    return -1;
  }
  char *host = (char *)sc + o->off;
  memcpy(host, v, (size_t)(colon - v));
  host[colon - v] = '\0';
  *(int *)((char *)sc + o->off2) = (int)port;
  return 0;
}

int sb_config_set(sb_serve_config_t *sc, const sb_cfg_option_t *o, const char *v,
                  sb_cfg_source_t source, char *err, size_t errlen) {
  char *field = (char *)sc + o->off;
  long n;
  int b;
  switch (o->type) {
  case SB_CFG_INT:
    if (parse_long(v, &n) || n < o->min || n > o->max) {
      fail(err, errlen, "%s: '%s' is not an integer in %ld-%ld", o->name, v, o->min, o->max);
      return -1;
    }
    *(int *)field = (int)n;
    break;
  case SB_CFG_BOOL:
    if (parse_bool(v, &b)) {
      fail(err, errlen, "%s: '%s' is not a boolean (true or false)", o->name, v);
      return -1;
    }
    *(int *)field = b;
    break;
  case SB_CFG_HOSTPORT:
    if (set_hostport(sc, o, v, err, errlen))
      return -1;
    break;
  case SB_CFG_ENUM:
    if (!in_choices(o->choices, v)) {
      fail(err, errlen, "%s: '%s' is not one of %s", o->name, v, o->choices);
      return -1;
    }
    __attribute__((fallthrough)); /* stored as a string */
  case SB_CFG_STR:
    if (o->check && o->check(v)) {
      fail(err, errlen, "%s: '%s' is not valid (%s)", o->name, v, o->help);
      return -1;
    }
    if (set_string(field, o->size, v, o->name, err, errlen))
      return -1;
    break;
  }
  sc->source[o - options] = (unsigned char)source;
  return 0;
}

static void set_defaults(sb_serve_config_t *sc) {
  char err[256];
  memset(sc, 0, sizeof *sc);
  sb_config_defaults(&sc->app);
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (options[i].def && sb_config_set(sc, &options[i], options[i].def, SB_SRC_DEFAULT, err,
                                        sizeof err) != 0)
      abort(); /* a default that does not parse is a bug in the table */
  sb_config_default_web_dir(sc->app.web_dir, sizeof sc->app.web_dir);
}

/* SWITCHBOARD_MEDIA_IP <-> media-ip */
static void env_name(const char *opt, char *out, size_t outlen) {
  size_t n = (size_t)snprintf(out, outlen, "SWITCHBOARD_");
  for (const char *p = opt; *p && n + 1 < outlen; p++)
    out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
  out[n] = '\0';
}

static const sb_cfg_option_t *option_of_env(const char *var, size_t len) {
  char name[64];
  for (size_t i = 0; i < N_OPTIONS; i++) {
    env_name(options[i].name, name, sizeof name);
    if (strlen(name) == len && strncmp(name, var, len) == 0)
      return &options[i];
  }
  return NULL;
}

static int apply_env(sb_serve_config_t *sc, char **envp, char *err, size_t errlen) {
  for (char **e = envp; e && *e; e++) {
    if (strncmp(*e, "SWITCHBOARD_", 12) != 0)
      continue;
    const char *eq = strchr(*e, '=');
    size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
    const sb_cfg_option_t *o = option_of_env(*e, len);
    if (!o) {
      fail(err, errlen, "unknown environment variable %.*s", (int)len, *e);
      return -1;
    }
    if (o->flags & SB_CFG_NOFILE)
      continue; /* the config file's path was used before the file was read */
    char msg[384];
    if (sb_config_set(sc, o, eq ? eq + 1 : "", SB_SRC_ENV, msg, sizeof msg)) {
      fail(err, errlen, "environment variable %.*s: %s", (int)len, *e, msg);
      return -1;
    }
  }
  return 0;
}

static const char *getenv_from(char **envp, const char *name) {
  size_t n = strlen(name);
  for (char **e = envp; e && *e; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

/* The flags as parsed by getopt, applied after the file and the environment. */
typedef struct {
  const sb_cfg_option_t *opt;
  const char *value;
} flag_t;

static int scan_flags(int argc, char **argv, flag_t *flags, int *nflags, char *err,
                      size_t errlen) {
  enum { HELP = 1000, PRINT, REFERENCE };
  struct option lo[N_OPTIONS + 4];
  int action = SB_CFG_RUN, o, idx;
  for (size_t i = 0; i < N_OPTIONS; i++)
    lo[i] = (struct option){options[i].name,
                            options[i].type == SB_CFG_BOOL ? optional_argument : required_argument,
                            NULL, (int)i};
  lo[N_OPTIONS] = (struct option){"help", no_argument, NULL, HELP};
  lo[N_OPTIONS + 1] = (struct option){"print-config", no_argument, NULL, PRINT};
  lo[N_OPTIONS + 2] = (struct option){"print-config-reference", no_argument, NULL, REFERENCE};
  lo[N_OPTIONS + 3] = (struct option){0, 0, 0, 0};
  *nflags = 0;
  optind = 0; /* full reinitialisation (GNU), so the function can run more than once */
  opterr = 0;
  while ((o = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
    if (o >= 0 && o < (int)N_OPTIONS) {
      const sb_cfg_option_t *opt = &options[o];
      flags[(*nflags)++] = (flag_t){opt, optarg ? optarg : "true"};
    } else if (o == HELP || o == 'h') {
      action = SB_CFG_HELP;
    } else if (o == PRINT) {
      action = SB_CFG_PRINT;
    } else if (o == REFERENCE) {
      action = SB_CFG_REFERENCE;
    } else if (o == ':') {
      fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
      return -1;
    } else {
      fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
      return -1;
    }
  }
  if (optind < argc) {
    fail(err, errlen, "unexpected argument '%s'", argv[optind]);
    return -1;
  }
  return action;
}

int sb_config_load(sb_serve_config_t *sc, int argc, char **argv, char **envp, char *err,
                   size_t errlen) {
  flag_t *flags = calloc((size_t)argc + 1, sizeof *flags);
  const sb_cfg_option_t *cfg_opt = find_option("config");
  int nflags = 0, rc = -1;
  char msg[384];
  set_defaults(sc);
  if (!flags) {
    fail(err, errlen, "out of memory");
    goto Exit;
  }
  int action = scan_flags(argc, argv, flags, &nflags, err, errlen);
  if (action < 0)
    goto Exit;
  if (action == SB_CFG_HELP || action == SB_CFG_REFERENCE) {
    rc = action;
    goto Exit;
  }
  /* The file's path: the last --config, else SWITCHBOARD_CONFIG. */
  const char *path = NULL;
  sb_cfg_source_t path_src = SB_SRC_FLAG;
  for (int i = 0; i < nflags; i++)
    if (flags[i].opt == cfg_opt)
      path = flags[i].value;
  if (!path && (path = getenv_from(envp, "SWITCHBOARD_CONFIG")) != NULL)
    path_src = SB_SRC_ENV;
  if (path && *path) {
    if (sb_config_set(sc, cfg_opt, path, path_src, err, errlen) ||
        sb_config_load_file(sc, path, err, errlen))
      goto Exit;
  }
  if (apply_env(sc, envp, err, errlen))
    goto Exit;
  for (int i = 0; i < nflags; i++) {
    if (sb_config_set(sc, flags[i].opt, flags[i].value, SB_SRC_FLAG, msg, sizeof msg)) {
      fail(err, errlen, "--%s", msg);
      goto Exit;
    }
  }
  rc = action;
Exit:
  free(flags);
  return rc;
}

/* One key: value pair of the file's top-level mapping. */
static int apply_pair(sb_serve_config_t *sc, yaml_document_t *doc, yaml_node_pair_t *pair,
                      const char *path, uint64_t *seen, char *err, size_t errlen) {
  yaml_node_t *k = yaml_document_get_node(doc, pair->key);
  yaml_node_t *v = yaml_document_get_node(doc, pair->value);
  unsigned line = (unsigned)k->start_mark.line + 1;
  char msg[384];
  if (k->type != YAML_SCALAR_NODE) {
    fail(err, errlen, "%s:%u: keys must be option names", path, line);
    return -1;
  }
  const char *key = (const char *)k->data.scalar.value;
  const sb_cfg_option_t *o = find_option(key);
  if (!o || (o->flags & SB_CFG_NOFILE)) {
    fail(err, errlen, "%s:%u: unknown key '%s'", path, line, key);
    return -1;
  }
  size_t idx = (size_t)(o - options);
  if (*seen & (1ull << idx)) {
    fail(err, errlen, "%s:%u: key '%s' given twice", path, line, key);
    return -1;
  }
  *seen |= 1ull << idx;
  if (v->type != YAML_SCALAR_NODE) {
    fail(err, errlen, "%s:%u: key '%s' takes a single value", path, line, key);
    return -1;
  }
  const char *val = (const char *)v->data.scalar.value;
  /* An empty plain value (`key:`) is YAML's null: refuse it rather than guess a meaning. */
  if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
      (!*val || strcmp(val, "~") == 0 || strcmp(val, "null") == 0)) {
    fail(err, errlen, "%s:%u: key '%s' has no value", path, line, key);
    return -1;
  }
  if (sb_config_set(sc, o, val, SB_SRC_FILE, msg, sizeof msg)) {
    fail(err, errlen, "%s:%u: %s", path, line, msg);
    return -1;
  }
  return 0;
}

int sb_config_load_file(sb_serve_config_t *sc, const char *path, char *err, size_t errlen) {
  yaml_parser_t parser;
  yaml_document_t doc;
  int rc = -1, have_parser = 0, have_doc = 0;
  uint64_t seen = 0; /* one bit per option: SB_CFG_MAX_OPTIONS <= 64 */
  FILE *f = fopen(path, "rb");
  if (!f) {
    fail(err, errlen, "config: cannot open %s: %s", path, strerror(errno));
    goto Exit;
  }
  if (!yaml_parser_initialize(&parser)) {
    fail(err, errlen, "config: out of memory");
    goto Exit;
  }
  have_parser = 1;
  yaml_parser_set_input_file(&parser, f);
  if (!yaml_parser_load(&parser, &doc)) {
    fail(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
         parser.problem ? parser.problem : "YAML syntax error");
    goto Exit;
  }
  have_doc = 1;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root) {
    rc = 0; /* an empty file (only comments) sets nothing */
    goto Exit;
  }
  if (root->type != YAML_MAPPING_NODE) {
    fail(err, errlen, "%s:%zu: expected a mapping of option names to values", path,
         root->start_mark.line + 1);
    goto Exit;
  }
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
       p++)
    if (apply_pair(sc, &doc, p, path, &seen, err, errlen))
      goto Exit;
  /* A second document ("---") would be ignored silently: refuse it. */
  yaml_document_t next;
  if (!yaml_parser_load(&parser, &next) || yaml_document_get_root_node(&next)) {
    if (parser.error == YAML_NO_ERROR)
      yaml_document_delete(&next);
    fail(err, errlen, "%s: one YAML document only", path);
    goto Exit;
  }
  yaml_document_delete(&next);
  rc = 0;
Exit:
  if (have_doc)
    yaml_document_delete(&doc);
  if (have_parser)
    yaml_parser_delete(&parser);
  if (f)
    fclose(f);
  return rc;
}
