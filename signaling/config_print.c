/* Output generated from the serve options' table: --help, --print-config (YAML) and the
 * markdown reference in docs/operations.md. */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>
#include <yaml.h>

#include "signaling/config.h"

static const char *source_names[] = {"default", "file", "environment", "flag"};

void sb_config_value_text(const sb_serve_config_t *sc, const sb_cfg_option_t *o, char *out,
                          size_t outlen) {
  const char *field = (const char *)sc + o->off;
  switch (o->type) {
  case SB_CFG_INT: snprintf(out, outlen, "%d", *(const int *)field); break;
  case SB_CFG_BOOL: snprintf(out, outlen, "%s", *(const int *)field ? "true" : "false"); break;
  case SB_CFG_HOSTPORT:
    snprintf(out, outlen, "%s:%d", field, *(const int *)((const char *)sc + o->off2));
    break;
  case SB_CFG_ENUM:
  case SB_CFG_STR: snprintf(out, outlen, "%s", field); break;
  }
}

static void append(char *out, size_t outlen, size_t *w, const char *s, size_t n) {
  for (size_t i = 0; i < n && *w + 1 < outlen; i++)
    out[(*w)++] = s[i];
  out[*w] = '\0';
}

/* Masks the password of "scheme://user:password@host..." and the value of "password=" (a
 * conninfo keyword or a URL query parameter). */
void sb_config_mask_url(const char *in, char *out, size_t outlen) {
  const char *p = in, *scheme = strstr(in, "://");
  size_t w = 0;
  out[0] = '\0';
  if (scheme) {
    const char *auth = scheme + 3, *at = NULL, *colon = NULL;
    size_t authlen = strcspn(auth, "/?#");
    for (size_t i = 0; i < authlen; i++)
      if (auth[i] == '@')
        at = auth + i;
    for (const char *c = auth; at && c < at && !colon; c++)
      if (*c == ':')
        colon = c;
    if (colon) {
      append(out, outlen, &w, in, (size_t)(colon + 1 - in));
      append(out, outlen, &w, "***", 3);
      p = at;
    }
  }
  while (*p) {
    if (strncmp(p, "password=", 9) == 0 && (p == in || strchr(" ?&", p[-1]))) {
      append(out, outlen, &w, "password=***", 12);
      p += 9;
      if (*p == '\'') /* conninfo quoting: 'a b' with \' escapes */
        for (p++; *p && *p != '\''; p++)
          p += (*p == '\\' && p[1]);
      p += *p == '\'';
      p += strcspn(p, " &");
    } else {
      append(out, outlen, &w, p++, 1);
    }
  }
}

/* s as a YAML double-quoted scalar, produced by libyaml's emitter. */
static void yaml_quote(const char *s, char *out, size_t outlen) {
  yaml_emitter_t em;
  yaml_event_t ev;
  size_t written = 0;
  out[0] = '\0';
  if (!yaml_emitter_initialize(&em))
    return;
  yaml_emitter_set_output_string(&em, (unsigned char *)out, outlen - 1, &written);
  yaml_emitter_set_width(&em, -1);
  yaml_emitter_set_unicode(&em, 1);
  int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
           yaml_emitter_emit(&em, &ev) &&
           yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
           yaml_emitter_emit(&em, &ev) &&
           yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 0, 1,
                                        YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
           yaml_emitter_emit(&em, &ev) && yaml_document_end_event_initialize(&ev, 1) &&
           yaml_emitter_emit(&em, &ev) && yaml_stream_end_event_initialize(&ev) &&
           yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
  out[ok ? written : 0] = '\0';
  size_t n = strlen(out);
  while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
    out[--n] = '\0';
  yaml_emitter_delete(&em);
}

static void env_name(const char *opt, char *out, size_t outlen) {
  size_t n = (size_t)snprintf(out, outlen, "SWITCHBOARD_");
  for (const char *p = opt; *p && n + 1 < outlen; p++)
    out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
  out[n] = '\0';
}

void sb_config_print(const sb_serve_config_t *sc, FILE *out) {
  size_t n;
  const sb_cfg_option_t *opts = sb_config_options(&n);
  char value[1024], masked[1024], quoted[2100];
  fprintf(out, "# switchboard serve: effective configuration (flags > environment > file > "
               "defaults)\n");
  for (size_t i = 0; i < n; i++) {
    const sb_cfg_option_t *o = &opts[i];
    sb_config_value_text(sc, o, value, sizeof value);
    if (o->flags & SB_CFG_NOFILE) {
      if (value[0])
        fprintf(out, "# %s: %s (%s)\n", o->name, value, source_names[sc->source[i]]);
      continue;
    }
    if ((o->flags & SB_CFG_SECRET) && value[0])
      snprintf(value, sizeof value, "***");
    if (o->flags & SB_CFG_SECRET_URL) {
      sb_config_mask_url(value, masked, sizeof masked);
      memcpy(value, masked, sizeof value);
    }
    if (o->type == SB_CFG_INT || o->type == SB_CFG_BOOL)
      snprintf(quoted, sizeof quoted, "%s", value);
    else
      yaml_quote(value, quoted, sizeof quoted);
    char env[64] = "";
    if (sc->source[i] == SB_SRC_ENV)
      env_name(o->name, env, sizeof env);
    fprintf(out, "%s: %s  # %s%s%s\n", o->name, quoted, source_names[sc->source[i]],
            env[0] ? " " : "", env);
  }
}

static const char *type_doc(const sb_cfg_option_t *o, char *buf, size_t len) {
  switch (o->type) {
  case SB_CFG_INT: snprintf(buf, len, "integer %ld-%ld", o->min, o->max); break;
  case SB_CFG_BOOL: snprintf(buf, len, "boolean"); break;
  case SB_CFG_HOSTPORT: snprintf(buf, len, "HOST:PORT"); break;
  case SB_CFG_ENUM: {
    size_t w = (size_t)snprintf(buf, len, "one of ");
    for (const char *p = o->choices; *p && w + 4 < len; p++)
      w += (size_t)snprintf(buf + w, len - w, *p == '|' ? ", " : "%c", *p);
    break;
  }
  case SB_CFG_STR: snprintf(buf, len, "%s", o->arg ? o->arg : "text"); break;
  }
  return buf;
}

static const char *default_doc(const sb_cfg_option_t *o) {
  return o->def_doc ? o->def_doc : (o->def && *o->def ? o->def : "empty");
}

void sb_config_print_reference(FILE *out) {
  size_t n;
  const sb_cfg_option_t *opts = sb_config_options(&n);
  char env[64], type[128];
  fprintf(out, "| key / flag | environment | type | default | meaning |\n"
               "|---|---|---|---|---|\n");
  for (size_t i = 0; i < n; i++) {
    const sb_cfg_option_t *o = &opts[i];
    env_name(o->name, env, sizeof env);
    fprintf(out, "| `%s` | `%s` | %s | %s | %s%s |\n", o->name, env,
            type_doc(o, type, sizeof type), default_doc(o), o->help,
            (o->flags & SB_CFG_NOFILE) ? " (flag and environment only)" : "");
  }
}

void sb_config_print_help(FILE *out) {
  size_t n;
  const sb_cfg_option_t *opts = sb_config_options(&n);
  char env[64], type[128];
  fprintf(out, "Usage: switchboard serve [options]\n\n"
               "Runs signaling and the media relay. Every option is also a config file key and an\n"
               "environment variable; flags > environment > file > defaults.\n\n");
  for (size_t i = 0; i < n; i++) {
    const sb_cfg_option_t *o = &opts[i];
    env_name(o->name, env, sizeof env);
    fprintf(out, "  --%s%s%s\n      %s\n      (%s; default %s; %s)\n", o->name,
            o->type == SB_CFG_BOOL ? "[=BOOL]" : " ", o->type == SB_CFG_BOOL ? "" : o->arg,
            o->help, type_doc(o, type, sizeof type), default_doc(o), env);
  }
  fprintf(out, "  --print-config\n      print the effective configuration (YAML, secrets masked)"
               " and exit\n"
               "  --print-config-reference\n      print the configuration reference (markdown)"
               " and exit\n"
               "  -h, --help\n      this text\n");
}

void sb_config_default_web_dir(char *out, size_t outlen) {
  char exe[PATH_MAX], dir[PATH_MAX + 64];
  size_t len = sizeof exe;
  struct stat st;
  snprintf(out, outlen, "%s", SB_WEB_DIR);
  if (uv_exepath(exe, &len) != 0)
    return;
  char *slash = strrchr(exe, '/');
  if (!slash || slash - exe < 4 || strncmp(slash - 4, "/bin", 4) != 0)
    return;
  slash[-4] = '\0'; /* the prefix: /usr of /usr/bin/switchboard */
  snprintf(dir, sizeof dir, "%s/share/switchboard/web", exe);
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    snprintf(out, outlen, "%s", dir);
}
