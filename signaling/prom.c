/* The Prometheus text format: https://prometheus.io/docs/instrumenting/exposition_formats/ */
#include "signaling/prom.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_prom_init(sb_prom_t *p) { memset(p, 0, sizeof *p); }

void sb_prom_free(sb_prom_t *p) {
  free(p->buf);
  memset(p, 0, sizeof *p);
}

char *sb_prom_take(sb_prom_t *p) {
  char *text = p->oom ? NULL : p->buf ? p->buf : strdup("");
  if (p->oom)
    free(p->buf);
  memset(p, 0, sizeof *p);
  return text;
}

static void put(sb_prom_t *p, const char *s, size_t n) {
  if (p->oom)
    return;
  if (p->len + n + 1 > p->cap) {
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < p->len + n + 1)
      cap *= 2;
    char *b = realloc(p->buf, cap);
    if (!b) {
      p->oom = 1;
      return;
    }
    p->buf = b;
    p->cap = cap;
  }
  memcpy(p->buf + p->len, s, n);
  p->len += n;
  p->buf[p->len] = '\0';
}

static void puts_(sb_prom_t *p, const char *s) { put(p, s, strlen(s)); }

static void putf(sb_prom_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(sb_prom_t *p, const char *fmt, ...) {
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0)
    put(p, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static void escape(sb_prom_t *p, const char *s, int quote) {
  for (; *s; s++) {
    if (*s == '\\')
      puts_(p, "\\\\");
    else if (*s == '\n')
      puts_(p, "\\n");
    else if (*s == '"' && quote)
      puts_(p, "\\\"");
    else
      put(p, s, 1);
  }
}

void sb_prom_escape_value(sb_prom_t *p, const char *s) { escape(p, s, 1); }

void sb_prom_header(sb_prom_t *p, const char *name, const char *type, const char *help) {
  putf(p, "# HELP %s ", name);
  escape(p, help, 0);
  putf(p, "\n# TYPE %s %s\n", name, type);
}

static void labels_(sb_prom_t *p, const sb_prom_label_t *l, size_t n, const char *le) {
  if (!n && !le)
    return;
  puts_(p, "{");
  for (size_t i = 0; i < n; i++) {
    putf(p, "%s%s=\"", i ? "," : "", l[i].name);
    sb_prom_escape_value(p, l[i].value ? l[i].value : "");
    puts_(p, "\"");
  }
  if (le)
    putf(p, "%sle=\"%s\"", n ? "," : "", le);
  puts_(p, "}");
}

void sb_prom_u64(sb_prom_t *p, const char *name, const sb_prom_label_t *l, size_t n,
                 uint64_t value) {
  puts_(p, name);
  labels_(p, l, n, NULL);
  putf(p, " %llu\n", (unsigned long long)value);
}

void sb_prom_f64(sb_prom_t *p, const char *name, const sb_prom_label_t *l, size_t n,
                 double value) {
  puts_(p, name);
  labels_(p, l, n, NULL);
  putf(p, " %.9g\n", value);
}

void sb_prom_histogram(sb_prom_t *p, const char *name, const sb_prom_label_t *l, size_t n,
                       const double *bounds, size_t nb, const uint64_t *counts, double sum) {
  uint64_t cum = 0;
  char le[32];
  for (size_t i = 0; i <= nb; i++) {
    cum += counts[i];
    if (i < nb)
      snprintf(le, sizeof le, "%.9g", bounds[i]);
    else
      snprintf(le, sizeof le, "+Inf");
    putf(p, "%s_bucket", name);
    labels_(p, l, n, le);
    putf(p, " %llu\n", (unsigned long long)cum);
  }
  putf(p, "%s_sum", name);
  labels_(p, l, n, NULL);
  putf(p, " %.9g\n", sum);
  putf(p, "%s_count", name);
  labels_(p, l, n, NULL);
  putf(p, " %llu\n", (unsigned long long)cum);
}
