/* Keyset pagination of the client lists: a cursor names the last item of the previous page by
 * its sort key, so a page costs one indexed range read however deep it is, and items added or
 * removed meanwhile shift nothing. */
#include "signaling/model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies s[0..n) into out (cap SB_ID_MAX + 1) if it is a valid id. */
static int take_id(const char *s, size_t n, char *out) {
  if (n == 0 || n > SB_ID_MAX)
    return -1;
  memcpy(out, s, n);
  out[n] = '\0';
  return sb_model_valid_id(out) ? 0 : -1;
}

int sb__page_start(const sb_model_page_t *page, int with_ms, sb__after_t *after,
                   sb_model_err_t *err) {
  const char *c = page->cursor, *sep;
  memset(after, 0, sizeof *after);
  if (page->limit < 1 || page->limit > SB_MODEL_PAGE_MAX)
    return sb__fail(err, SB_MODEL_EBADREQ, "limit must be 1 to %d", SB_MODEL_PAGE_MAX);
  if (!c || !c[0])
    return 0;
  if (with_ms) {
    char *end;
    after->key_ms = strtoll(c, &end, 10);
    if (end == c || *end != '.' || after->key_ms < 0 || take_id(end + 1, strlen(end + 1), after->id) < 0)
      goto Bad;
  } else {
    if (!(sep = strchr(c, '/')) || take_id(c, (size_t)(sep - c), after->tenant) < 0 ||
        take_id(sep + 1, strlen(sep + 1), after->id) < 0)
      goto Bad;
  }
  after->set = 1;
  return 0;
Bad:
  return sb__fail(err, SB_MODEL_EBADREQ, "cursor is not one this server gave");
}

int sb__page_trim(json_t *rows, int limit) {
  if (json_array_size(rows) <= (size_t)limit)
    return 0;
  json_array_remove(rows, json_array_size(rows) - 1);
  return 1;
}
