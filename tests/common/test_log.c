#include <jansson.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "sbtest.h"

SB_TEST(configure_rejects_unknown_names) {
  CHECK_EQ(sb_log_configure("loud", NULL), -1);
  CHECK_EQ(sb_log_configure(NULL, "ice,nosuch"), -1);
  CHECK_EQ(sb_log_configure("warn", "ice,dtls"), 0);
  CHECK_EQ(sb_log_debug, SB_DBG_ICE | SB_DBG_DTLS);
  CHECK_EQ(sb_log_configure("info", ""), 0);
  CHECK_EQ(sb_log_level, SB_LOG_INFO);
}

SB_TEST(ratelimit_allows_burst_then_refills) {
  sb_ratelimit_t rl = {0};
  int ok = 0;
  for (int i = 0; i < 10; i++)
    ok += sb_ratelimit_ok(&rl, 5000, 3);
  CHECK_EQ(ok, 3);
  CHECK_EQ(rl.suppressed, 7);
  CHECK_EQ(sb_ratelimit_ok(&rl, 6000, 3), 1);
}

SB_TEST(ice_strings_use_the_ice_alphabet) {
  char s[33];
  CHECK_EQ(sb_random_ice_string(s, 32), 0);
  CHECK_EQ(strlen(s), 32);
  for (int i = 0; i < 32; i++)
    CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i]) != NULL);
}

/* Logs through a temporary file and returns its lines parsed as JSON (an array). */
static json_t *log_json_lines(void (*emit)(void)) {
  FILE *f = tmpfile();
  char line[4096];
  json_t *lines = json_array();
  sb_log_set_output(f);
  sb_log_set_format("json");
  emit();
  sb_log_set_format("text");
  sb_log_set_output(NULL);
  rewind(f);
  while (fgets(line, sizeof line, f)) {
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    json_array_append_new(lines, o ? o : json_string("unparsable"));
  }
  fclose(f);
  return lines;
}

static void emit_examples(void) {
  sb_info("acme/r1/alice", "joined \"quoted\" \\ tab\t newline\n end");
  sb_log_event(SB_LOG_WARN, "acme/bob", "ws.refused", "refused: %d", 7);
  sb_log_set_request("42");
  sb_error("lws", "bad bytes \xff\xfe here");
  sb_log_set_request(NULL);
  sb_error(NULL, "no context");
}

SB_TEST(json_lines_parse_back_with_split_context) {
  json_t *lines = log_json_lines(emit_examples);
  CHECK_EQ(json_array_size(lines), 4);
  json_t *a = json_array_get(lines, 0), *b = json_array_get(lines, 1);
  json_t *c = json_array_get(lines, 2), *d = json_array_get(lines, 3);
  CHECK(json_is_object(a) && json_is_object(b) && json_is_object(c) && json_is_object(d));
  /* RFC 3339 UTC with milliseconds: 2026-12-04T17:47:52.123Z */
  const char *t = json_string_value(json_object_get(a, "time"));
  CHECK(t && strlen(t) == 24 && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
  CHECK_STR(json_string_value(json_object_get(a, "level")), "info");
  CHECK_STR(json_string_value(json_object_get(a, "tenant")), "acme");
  CHECK_STR(json_string_value(json_object_get(a, "room")), "r1");
  CHECK_STR(json_string_value(json_object_get(a, "user")), "alice");
  CHECK_STR(json_string_value(json_object_get(a, "message")),
            "joined \"quoted\" \\ tab\t newline\n end");
  CHECK(json_object_get(a, "event") == NULL && json_object_get(a, "request") == NULL);
  CHECK_STR(json_string_value(json_object_get(b, "level")), "warn");
  CHECK_STR(json_string_value(json_object_get(b, "tenant")), "acme");
  CHECK(json_object_get(b, "room") == NULL);
  CHECK_STR(json_string_value(json_object_get(b, "user")), "bob");
  CHECK_STR(json_string_value(json_object_get(b, "event")), "ws.refused");
  CHECK_STR(json_string_value(json_object_get(b, "message")), "refused: 7");
  CHECK_STR(json_string_value(json_object_get(c, "context")), "lws");
  CHECK_STR(json_string_value(json_object_get(c, "request")), "42");
  CHECK_STR(json_string_value(json_object_get(c, "message")), "bad bytes ?? here");
  CHECK(json_object_get(d, "context") == NULL && json_object_get(d, "tenant") == NULL);
  CHECK_EQ(json_object_size(d), 3); /* time, level, message */
  json_decref(lines);
}

SB_TEST(text_lines_show_event_and_request) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  sb_log_set_output(f);
  sb_log_set_request("7");
  sb_log_event(SB_LOG_ERROR, "acme/r1/alice", "call.end", "ended");
  sb_log_set_request(NULL);
  sb_log_set_output(NULL);
  fclose(f);
  CHECK(strstr(buf, " error [acme/r1/alice] req=7 call.end: ended\n") != NULL);
  free(buf);
  CHECK_EQ(sb_log_set_format("xml"), -1);
}

SB_TEST(request_id_is_per_thread_and_read_back) {
  CHECK_STR(sb_log_request(), "");
  sb_log_set_request("S3.9");
  CHECK_STR(sb_log_request(), "S3.9");
  char long_id[100];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  sb_log_set_request(long_id); /* kept to 63 characters */
  CHECK_EQ(strlen(sb_log_request()), 63);
  sb_log_set_request(NULL);
  CHECK_STR(sb_log_request(), "");
}

SB_TEST(utf8_sanitize_keeps_valid_text_and_marks_the_rest) {
  char ok[] = "abc \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  char cut[] = "caf\xc3", bad[] = "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff";
  CHECK_STR(sb_utf8_sanitize(ok), "abc \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK_STR(sb_utf8_sanitize(cut), "caf?");
  /* an overlong '/', a surrogate, a code point above U+10FFFF, a byte that starts nothing */
  CHECK_STR(sb_utf8_sanitize(bad), "??????????");
  json_t *j = json_string(bad);
  CHECK(j != NULL);
  json_decref(j);
}

SB_TEST(grow_doubles_from_first_keeps_the_elements_and_fails_cleanly) {
  size_t cap = 0;
  int *a = sb_grow(NULL, &cap, 1, sizeof *a, 4);
  CHECK(a != NULL);
  CHECK_EQ(cap, 4);
  for (int i = 0; i < 4; i++)
    a[i] = i;
  CHECK(sb_grow(a, &cap, 4, sizeof *a, 4) == a); /* room enough: the same array */
  CHECK_EQ(cap, 4);
  a = sb_grow(a, &cap, 5, sizeof *a, 4);
  CHECK(a != NULL);
  CHECK_EQ(cap, 8);
  a = sb_grow(a, &cap, 33, sizeof *a, 4); /* doubled until enough: 8 -> 64 */
  CHECK(a != NULL);
  CHECK_EQ(cap, 64);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(a[i], i);
  a[63] = 63; /* all of it is ours (ASan checks the bounds) */
  CHECK(sb_grow(a, &cap, SIZE_MAX / 2, sizeof *a, 4) == NULL); /* the size would overflow */
  CHECK_EQ(cap, 64);
  CHECK_EQ(a[3], 3); /* still the caller's */
  free(a);
  size_t none = 0;
  void *one = sb_grow(NULL, &none, 0, 16, 0); /* no elements still gets room for one */
  CHECK(one != NULL);
  CHECK_EQ(none, 1);
  free(one);
}

SB_TEST(calloc_lines_starts_on_a_cache_line_and_is_zeroed) {
  for (size_t size = 1; size <= 4096; size = size * 3 + 1) {
    unsigned char *p = sb_calloc_lines(size);
    CHECK(p != NULL);
    CHECK_EQ((uintptr_t)p % SB_CACHE_LINE, 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < size; i++)
      nonzero += p[i] != 0;
    CHECK_EQ(nonzero, 0);
    memset(p, 0xa5, size); /* all of it is ours (ASan checks the bounds) */
    free(p);
  }
}
