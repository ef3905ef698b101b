#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

int sb_log_level = SB_LOG_INFO;
unsigned sb_log_debug = 0;

static int log_json;          /* set once at start, before any thread logs */
static FILE *log_out;         /* NULL = stderr */
static __thread char request[64]; /* the calling thread's request id, "" = none */

static const char *level_names[] = {"error", "warn", "info", "debug"};

static const struct {
  const char *name;
  unsigned bit;
} categories[] = {
    {"ice", SB_DBG_ICE}, {"dtls", SB_DBG_DTLS}, {"rtp", SB_DBG_RTP},
    {"rtcp", SB_DBG_RTCP}, {"sig", SB_DBG_SIG}, {"sdp", SB_DBG_SDP},
};

int sb_log_parse_categories(const char *cats, unsigned *out) {
  char buf[256];
  unsigned mask = 0;
  if (snprintf(buf, sizeof buf, "%s", cats ? cats : "") >= (int)sizeof buf)
    return -1;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "all") == 0) {
      mask = ~0u;
      continue;
    }
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
      if (strcmp(tok, categories[i].name) == 0)
        bit = categories[i].bit;
    if (!bit)
      return -1;
    mask |= bit;
  }
  *out = mask;
  return 0;
}

int sb_log_configure(const char *level, const char *cats) {
  if (level) {
    int found = -1;
    for (int i = 0; i < 4; i++)
      if (strcasecmp(level, level_names[i]) == 0)
        found = i;
    if (found < 0)
      return -1;
    sb_log_level = found;
  }
  if (cats && *cats) {
    unsigned mask;
    if (sb_log_parse_categories(cats, &mask) != 0)
      return -1;
    sb_log_debug = mask;
    if (mask)
      sb_log_level = SB_LOG_DEBUG;
  }
  return 0;
}

int sb_log_set_format(const char *format) {
  if (strcmp(format, "text") == 0)
    log_json = 0;
  else if (strcmp(format, "json") == 0)
    log_json = 1;
  else
    return -1;
  return 0;
}

void sb_log_set_output(FILE *out) { log_out = out; }

const char *sb_log_request(void) { return request; }

void sb_log_set_request(const char *request_id) {
  snprintf(request, sizeof request, "%s", request_id ? request_id : "");
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?' (jansson refuses them). */
static json_t *utf8_string(const char *s) {
  json_t *j = json_string(s);
  if (j)
    return j;
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", s);
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  return json_string(copy);
}

/* "tenant/room/user" or "tenant/user" become separate fields; anything else is "context". */
static void add_context(json_t *o, const char *ctx) {
  static const char *three[] = {"tenant", "room", "user"}, *two[] = {"tenant", "user"};
  char buf[256], *part[4];
  int n = 0;
  if (!ctx || strcmp(ctx, "-") == 0)
    return;
  snprintf(buf, sizeof buf, "%s", ctx);
  for (char *p = buf; n < 4; n++) {
    part[n] = p;
    if (!(p = strchr(p, '/')))
      break;
    *p++ = '\0';
  }
  n++;
  if (n == 3 || n == 2) {
    for (int i = 0; i < n; i++)
      json_object_set_new(o, n == 3 ? three[i] : two[i], utf8_string(part[i]));
  } else {
    json_object_set_new(o, "context", utf8_string(ctx));
  }
}

static void write_json(const char *time, sb_log_level_t level, const char *ctx,
                       const char *event, const char *msg) {
  json_t *o = json_object();
  json_object_set_new(o, "time", json_string(time));
  json_object_set_new(o, "level", json_string(level_names[level]));
  add_context(o, ctx);
  if (request[0])
    json_object_set_new(o, "request", utf8_string(request));
  if (event)
    json_object_set_new(o, "event", utf8_string(event));
  json_object_set_new(o, "message", utf8_string(msg));
  char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (line)
    fprintf(log_out ? log_out : stderr, "%s\n", line);
  free(line);
  json_decref(o);
}

static void vlog(sb_log_level_t level, const char *ctx, const char *event, const char *fmt,
                 va_list ap) {
  char msg[1024], time[64];
  vsnprintf(msg, sizeof msg, fmt, ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
  if (log_json) {
    write_json(time, level, ctx, event, msg);
    return;
  }
  /* One fprintf per line keeps lines from different threads whole. */
  fprintf(log_out ? log_out : stderr, "%s %-5s [%s]%s%s%s%s%s %s\n", time, level_names[level],
          ctx ? ctx : "-", request[0] ? " req=" : "", request, event ? " " : "",
          event ? event : "", event ? ":" : "", msg);
}

void sb_log(sb_log_level_t level, const char *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(level, ctx, NULL, fmt, ap);
  va_end(ap);
}

void sb_log_event(sb_log_level_t level, const char *ctx, const char *event, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(level, ctx, event, fmt, ap);
  va_end(ap);
}

int sb_ratelimit_ok(sb_ratelimit_t *rl, uint64_t now_ms, uint32_t burst) {
  if (now_ms - rl->last_ms >= 1000) {
    rl->last_ms = now_ms;
    rl->tokens = burst;
  }
  if (rl->tokens > 0) {
    rl->tokens--;
    return 1;
  }
  rl->suppressed++;
  return 0;
}
