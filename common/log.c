#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int sb_log_level = SB_LOG_INFO;
unsigned sb_log_debug = 0;

static const char *level_names[] = {"error", "warn", "info", "debug"};

static const struct {
  const char *name;
  unsigned bit;
} categories[] = {
    {"ice", SB_DBG_ICE}, {"dtls", SB_DBG_DTLS}, {"rtp", SB_DBG_RTP},
    {"rtcp", SB_DBG_RTCP}, {"sig", SB_DBG_SIG}, {"sdp", SB_DBG_SDP},
};

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
    char buf[256];
    snprintf(buf, sizeof buf, "%s", cats);
    unsigned mask = 0;
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
    sb_log_debug = mask;
    if (mask)
      sb_log_level = SB_LOG_DEBUG;
  }
  return 0;
}

void sb_log(sb_log_level_t level, const char *ctx, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  /* One fprintf per line keeps lines from different threads whole. */
  fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s\n", tm.tm_year + 1900,
          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
          level_names[level], ctx ? ctx : "-", msg);
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
