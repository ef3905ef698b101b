/* Logging: levels, zero-cost debug categories and a rate limiter for the media path.
 * Secrets (tokens, ICE passwords, keys) are never passed to these functions. */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdint.h>
#include <stdio.h>

typedef enum { SB_LOG_ERROR = 0, SB_LOG_WARN, SB_LOG_INFO, SB_LOG_DEBUG } sb_log_level_t;

/* Debug categories, enabled with --debug=ice,dtls,... */
enum {
  SB_DBG_ICE = 1 << 0,
  SB_DBG_DTLS = 1 << 1,
  SB_DBG_RTP = 1 << 2,
  SB_DBG_RTCP = 1 << 3,
  SB_DBG_SIG = 1 << 4,
  SB_DBG_SDP = 1 << 5,
};

extern int sb_log_level;      /* messages above this level are not printed */
extern unsigned sb_log_debug; /* mask of enabled debug categories */

/** Sets the level ("error".."debug") and categories ("ice,dtls,rtp,rtcp,sig,sdp" or "all");
 * returns 0 or -1 for an unknown name. */
int sb_log_configure(const char *level, const char *categories);

/** Parses debug category names ("ice,dtls" or "all") into *mask; 0 or -1 for an unknown name.
 * Changes no logging state. */
int sb_log_parse_categories(const char *categories, unsigned *mask);

/** Selects the line format: "text" (default) or "json" (one object per line: time, level,
 * tenant, room, user or context, request, event, message). Returns 0 or -1 for another name. */
int sb_log_set_format(const char *format);

/** Where lines go (default stderr; tests pass a temporary file). Not owned. */
void sb_log_set_output(FILE *out);

/** Sets the calling thread's request id (e.g. a WebSocket request's id), carried by the lines
 * this thread logs until it is cleared with NULL. Copied; at most 63 characters. */
void sb_log_set_request(const char *request_id);

/** The calling thread's request id, "" when none is set. */
const char *sb_log_request(void);

/** Prints one line: time, level, context ("tenant/room/user", "tenant/user" or a component
 * name, NULL = "-"), message. */
void sb_log(sb_log_level_t level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** As sb_log with a short machine-readable event name ("server.start"), shown in JSON lines as
 * "event" and in text lines before the message. */
void sb_log_event(sb_log_level_t level, const char *ctx, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define sb_error(ctx, ...) sb_log(SB_LOG_ERROR, ctx, __VA_ARGS__)
#define sb_warn(ctx, ...)                                                                   \
  do {                                                                                     \
    if (sb_log_level >= SB_LOG_WARN)                                                       \
      sb_log(SB_LOG_WARN, ctx, __VA_ARGS__);                                               \
  } while (0)
#define sb_info(ctx, ...)                                                                   \
  do {                                                                                     \
    if (sb_log_level >= SB_LOG_INFO)                                                       \
      sb_log(SB_LOG_INFO, ctx, __VA_ARGS__);                                               \
  } while (0)
/* Debug lines cost one branch when their category is off. */
#define sb_debug(cat, ctx, ...)                                                             \
  do {                                                                                     \
    if (__builtin_expect((sb_log_debug & (cat)) != 0, 0))                                  \
      sb_log(SB_LOG_DEBUG, ctx, __VA_ARGS__);                                              \
  } while (0)

/* A token bucket for logs on the media path: at most `burst` lines, refilled one per second. */
typedef struct {
  uint64_t last_ms;
  uint32_t tokens;
  uint32_t suppressed;
} sb_ratelimit_t;

/** Returns 1 if a line may be printed now; counts the suppressed ones. */
int sb_ratelimit_ok(sb_ratelimit_t *rl, uint64_t now_ms, uint32_t burst);

#endif
