/* The Prometheus text exposition format (version 0.0.4), written into a growing buffer: HELP and
 * TYPE lines, samples with escaped label values, and histograms. No I/O; used by metrics.c. */
#ifndef SB_PROM_H
#define SB_PROM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  char *buf; /* NUL-terminated text, malloc'd; the caller takes it with sb_prom_take */
  size_t len, cap;
  int oom;   /* an allocation failed: the text is incomplete */
} sb_prom_t;

/* A sample's labels: n pairs of name and value (values are escaped, names are not). */
typedef struct {
  const char *name, *value;
} sb_prom_label_t;

void sb_prom_init(sb_prom_t *p);
/** Frees the buffer; accepts a buffer already taken. */
void sb_prom_free(sb_prom_t *p);
/** The text (malloc'd, now the caller's), or NULL when out of memory; p is left empty. */
char *sb_prom_take(sb_prom_t *p);

/** "# HELP name help" (help escaped) and "# TYPE name type" (counter, gauge, histogram). */
void sb_prom_header(sb_prom_t *p, const char *name, const char *type, const char *help);
/** name{labels} value, for counters (an integer). */
void sb_prom_u64(sb_prom_t *p, const char *name, const sb_prom_label_t *labels, size_t n,
                 uint64_t value);
/** name{labels} value, for gauges and sums (a float). */
void sb_prom_f64(sb_prom_t *p, const char *name, const sb_prom_label_t *labels, size_t n,
                 double value);
/** A histogram's name_bucket{labels,le=...} (cumulative), name_sum and name_count lines, from
 * per-bucket counts: counts[i] observations <= bounds[i] and above bounds[i-1], counts[nb]
 * those above every bound. */
void sb_prom_histogram(sb_prom_t *p, const char *name, const sb_prom_label_t *labels, size_t n,
                       const double *bounds, size_t nb, const uint64_t *counts, double sum);

/** Appends s as a label value: backslash, double quote and newline escaped. */
void sb_prom_escape_value(sb_prom_t *p, const char *s);

#endif
