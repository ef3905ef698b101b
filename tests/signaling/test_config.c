#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sbtest.h"
#include "signaling/config.h"

/* A temporary config file with the given text; the path is returned in path[64]. */
static void write_file(char *path, const char *text) {
  snprintf(path, 64, "/tmp/sb-test-config-XXXXXX");
  int fd = mkstemp(path);
  if (fd >= 0) {
    ssize_t n = write(fd, text, strlen(text));
    (void)n;
    close(fd);
  }
}

static const sb_cfg_option_t *opt(const char *name) {
  size_t n;
  const sb_cfg_option_t *o = sb_config_options(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(o[i].name, name) == 0)
      return &o[i];
  return NULL;
}

static int src(const sb_serve_config_t *sc, const char *name) {
  size_t n;
  return sc->source[opt(name) - sb_config_options(&n)];
}

#define LOAD(sc, env, ...)                                                                  \
  ({                                                                                       \
    char *argv_[] = {"serve", __VA_ARGS__, NULL};                                          \
    sb_config_load(sc, (int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, env, err,         \
                   sizeof err);                                                            \
  })

SB_TEST(defaults_match_the_embedded_ones) {
  sb_serve_config_t sc;
  sb_config_t d;
  char err[256], *env[] = {NULL};
  char *argv[] = {"serve", NULL};
  CHECK_EQ(sb_config_load(&sc, 1, argv, env, err, sizeof err), SB_CFG_RUN);
  sb_config_defaults(&d);
  CHECK_STR(sc.app.http_host, d.http_host);
  CHECK_EQ(sc.app.http_port, d.http_port);
  CHECK_STR(sc.app.media_ip, d.media_ip);
  CHECK_EQ(sc.app.media_port, d.media_port);
  CHECK_EQ(sc.app.workers, d.workers);
  CHECK(strcmp(sc.app.db_path, d.db_path) == 0);
  CHECK(strcmp(sc.app.secret_file, d.secret_file) == 0);
  CHECK(strcmp(sc.app.web_dir, d.web_dir) == 0); /* the build tree's binary: the source tree's web/ */
  CHECK_EQ(sc.app.max_participants, d.max_participants);
  CHECK_EQ(sc.app.max_video_publishers, d.max_video_publishers);
  CHECK_EQ(sc.app.drain_timeout_s, 0);
  CHECK(sc.app.turn_urls[0] == '\0');
  CHECK_EQ(sc.app.turn_ttl_s, d.turn_ttl_s);
  CHECK_STR(sc.log_format, "text");
  CHECK_EQ(src(&sc, "workers"), SB_SRC_DEFAULT);
}

SB_TEST(flags_beat_environment_beat_file_beat_defaults) {
  sb_serve_config_t sc;
  char err[256], path[64], cfgenv[128];
  write_file(path, "# a comment line\n"
                   "workers: 2         # file only\n"
                   "media-port: 41000  # file, then environment\n"
                   "media-ip: 10.0.0.1 # file, environment, flag\n"
                   "demo: yes\n");
  snprintf(cfgenv, sizeof cfgenv, "SWITCHBOARD_CONFIG=%s", path);
  char *env[] = {"PATH=/bin", cfgenv, "SWITCHBOARD_MEDIA_PORT=42000",
                 "SWITCHBOARD_MEDIA_IP=10.0.0.2", NULL};
  int rc = LOAD(&sc, env, "--media-ip", "10.0.0.3", "--log-format=json");
  unlink(path);
  CHECK_EQ(rc, SB_CFG_RUN);
  CHECK_EQ(sc.app.workers, 2);
  CHECK_EQ(src(&sc, "workers"), SB_SRC_FILE);
  CHECK_EQ(sc.app.media_port, 42000);
  CHECK_EQ(src(&sc, "media-port"), SB_SRC_ENV);
  CHECK_STR(sc.app.media_ip, "10.0.0.3");
  CHECK_EQ(src(&sc, "media-ip"), SB_SRC_FLAG);
  CHECK_EQ(sc.app.demo, 1);
  CHECK_STR(sc.log_format, "json");
  CHECK(strcmp(sc.config_file, path) == 0);
  CHECK_EQ(sc.app.max_participants, 100);
  CHECK_EQ(src(&sc, "max-participants"), SB_SRC_DEFAULT);
}

SB_TEST(a_bool_flag_may_turn_a_file_value_off) {
  sb_serve_config_t sc;
  char err[256], path[64], flag[80];
  write_file(path, "demo: true\n");
  snprintf(flag, sizeof flag, "--config=%s", path);
  char *env[] = {NULL};
  int rc = LOAD(&sc, env, flag, "--demo=false");
  unlink(path);
  CHECK_EQ(rc, SB_CFG_RUN);
  CHECK_EQ(sc.app.demo, 0);
  CHECK_EQ(LOAD(&sc, env, "--demo"), SB_CFG_RUN);
  CHECK_EQ(sc.app.demo, 1);
  write_file(path, "# only comments\n\n   # and blank lines\n");
  snprintf(flag, sizeof flag, "--config=%s", path);
  rc = LOAD(&sc, env, flag);
  unlink(path);
  CHECK_EQ(rc, SB_CFG_RUN);
  CHECK_EQ(sc.app.workers, 1);
  CHECK_EQ(src(&sc, "workers"), SB_SRC_DEFAULT);
}

SB_TEST(each_type_parses_and_checks_its_range) {
  sb_serve_config_t sc;
  char err[256], *env[] = {NULL};
  CHECK_EQ(LOAD(&sc, env, "--http", "0.0.0.0:9000", "--workers", "64", "--log-level", "debug",
                "--debug", "ice,dtls", "--node-id", "n1"),
           SB_CFG_RUN);
  CHECK_STR(sc.app.http_host, "0.0.0.0");
  CHECK_EQ(sc.app.http_port, 9000);
  CHECK_EQ(sc.app.workers, 64);
  CHECK_STR(sc.log_level, "debug");
  CHECK_STR(sc.debug, "ice,dtls");
  CHECK_STR(sc.app.node_id, "n1");
  struct {
    const char *flag, *value, *needle;
  } bad[] = {
      {"--workers", "65", "workers: '65' is not an integer in 1-64"},
      {"--workers", "0", "workers"},
      {"--media-port", "12x", "media-port: '12x' is not an integer"},
      {"--http", "8080", "http: '8080' is not HOST:PORT"},
      {"--http", "h:70000", "http"},
      {"--log-format", "xml", "log-format: 'xml' is not one of text|json"},
      {"--debug", "ice,nosuch", "debug: 'ice,nosuch' is not valid"},
      {"--demo=maybe", NULL, "demo: 'maybe' is not a boolean"},
      {"--drain-timeout", "-1", "drain-timeout"},
      {"--turn-url", "stun:t.example:3478", "turn-url: 'stun:t.example:3478' is not valid"},
      {"--turn-url", "turn:a,,turn:b", "turn-url"},
      {"--turn-ttl", "59", "turn-ttl: '59' is not an integer in 60-604800"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *argv[] = {"serve", (char *)bad[i].flag, (char *)bad[i].value, NULL};
    CHECK_EQ(sb_config_load(&sc, bad[i].value ? 3 : 2, argv, env, err, sizeof err), -1);
    CHECK(strstr(err, bad[i].needle) != NULL);
  }
  char longid[100];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  CHECK_EQ(LOAD(&sc, env, "--node-id", longid), -1);
  CHECK(strstr(err, "node-id: value too long (at most 63 characters)") != NULL);
}

SB_TEST(unknown_keys_are_errors_naming_the_key) {
  sb_serve_config_t sc;
  char err[256], path[64], flag[80];
  char *env[] = {NULL};
  CHECK_EQ(LOAD(&sc, env, "--no-such-flag"), -1);
  CHECK(strstr(err, "--no-such-flag") != NULL);
  char *env2[] = {"SWITCHBOARD_MEDIA_IPP=1.2.3.4", NULL};
  CHECK_EQ(LOAD(&sc, env2, "--demo"), -1);
  CHECK(strstr(err, "SWITCHBOARD_MEDIA_IPP") != NULL);
  char *env3[] = {"SWITCHBOARD_WORKERS=lots", NULL};
  CHECK_EQ(LOAD(&sc, env3, "--demo"), -1);
  CHECK(strstr(err, "SWITCHBOARD_WORKERS") != NULL && strstr(err, "'lots'") != NULL);

  write_file(path, "workers: 2\n\nmedia_ip: 1.2.3.4\n");
  snprintf(flag, sizeof flag, "--config=%s", path);
  CHECK_EQ(LOAD(&sc, env, flag), -1);
  unlink(path);
  CHECK(strstr(err, ":3: unknown key 'media_ip'") != NULL);

  const char *bad_files[][2] = {
      {"config: other.yaml\n", "unknown key 'config'"},
      {"workers: [1, 2]\n", "key 'workers' takes a single value"},
      {"workers:\n", "key 'workers' has no value"},
      {"workers: 2\nworkers: 3\n", ":2: key 'workers' given twice"},
      {"- workers\n", "expected a mapping"},
      {"workers: 1\n  bad: [\n", ":"},
      {"max-participants: 1\n", "max-participants: '1' is not an integer in 2-1000"},
      {"workers: 1\n---\nworkers: 2\n", "one YAML document only"},
  };
  for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
    write_file(path, bad_files[i][0]);
    snprintf(flag, sizeof flag, "--config=%s", path);
    CHECK_EQ(LOAD(&sc, env, flag), -1);
    unlink(path);
    CHECK(strstr(err, bad_files[i][1]) != NULL);
  }
  CHECK_EQ(LOAD(&sc, env, "--config", "/nonexistent/sb.yaml"), -1);
  CHECK(strstr(err, "/nonexistent/sb.yaml") != NULL);
}

SB_TEST(passwords_are_masked) {
  char out[256];
  struct {
    const char *in, *out;
  } cases[] = {
      {"switchboard.sqlite3", "switchboard.sqlite3"},
      {"postgresql://sb:hunter2@db.example:5432/sb", "postgresql://sb:***@db.example:5432/sb"},
      {"postgres://sb@db/sb", "postgres://sb@db/sb"},
      {"postgresql://sb:p%40ss@db/sb?sslmode=require", "postgresql://sb:***@db/sb?sslmode=require"},
      {"postgresql:///sb?user=sb&password=hunter2&sslmode=disable",
       "postgresql:///sb?user=sb&password=***&sslmode=disable"},
      {"host=db user=sb password=hunter2 dbname=sb", "host=db user=sb password=*** dbname=sb"},
      {"host=db password='hun ter\\'2' dbname=sb", "host=db password=*** dbname=sb"},
      {"password=hunter2", "password=***"},
      {"/var/lib/old_password=x.db", "/var/lib/old_password=x.db"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sb_config_mask_url(cases[i].in, out, sizeof out);
    CHECK_STR(out, cases[i].out);
  }
}

/* --print-config is a valid config file that gives the same configuration back, without the
 * password; every value says where it came from. */
SB_TEST(print_config_round_trips_and_masks) {
  sb_serve_config_t sc, back;
  char err[256], path[64], flag[80], *buf = NULL;
  size_t len = 0;
  char *env[] = {"SWITCHBOARD_WEB_DIR=/srv/web \"quoted\" \\ dir", NULL};
  CHECK_EQ(LOAD(&sc, env, "--db", "postgresql://sb:hunter2@db/sb", "--workers", "3"),
           SB_CFG_RUN);
  FILE *f = open_memstream(&buf, &len);
  sb_config_print(&sc, f);
  fclose(f);
  CHECK(strstr(buf, "hunter2") == NULL);
  CHECK(strstr(buf, "db: \"postgresql://sb:***@db/sb\"  # flag\n") != NULL);
  CHECK(strstr(buf, "workers: 3  # flag\n") != NULL);
  CHECK(strstr(buf, "  # environment SWITCHBOARD_WEB_DIR\n") != NULL);
  CHECK(strstr(buf, "media-port: 40000  # default\n") != NULL);
  write_file(path, buf);
  free(buf);
  snprintf(flag, sizeof flag, "--config=%s", path);
  char *none[] = {NULL};
  int rc = LOAD(&back, none, flag);
  unlink(path);
  CHECK_EQ(rc, SB_CFG_RUN);
  CHECK(strcmp(back.app.web_dir, "/srv/web \"quoted\" \\ dir") == 0);
  CHECK(strcmp(back.app.db_path, "postgresql://sb:***@db/sb") == 0);
  CHECK_EQ(back.app.workers, 3);
}

SB_TEST(actions_are_reported) {
  sb_serve_config_t sc;
  char err[256], *env[] = {NULL};
  CHECK_EQ(LOAD(&sc, env, "--help"), SB_CFG_HELP);
  CHECK_EQ(LOAD(&sc, env, "--print-config"), SB_CFG_PRINT);
  CHECK_EQ(LOAD(&sc, env, "--print-config-reference"), SB_CFG_REFERENCE);
  CHECK_EQ(LOAD(&sc, env, "--workers"), -1);
  CHECK(strstr(err, "'--workers' needs a value") != NULL);
  CHECK_EQ(LOAD(&sc, env, "stray"), -1);
  CHECK(strstr(err, "unexpected argument 'stray'") != NULL);
}
