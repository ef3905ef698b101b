/* Development-only endpoints, enabled by --demo: the demo users and tokens for them. */
#ifndef SB_DEMO_H
#define SB_DEMO_H

#include <stddef.h>

#include "signaling/app.h"

char *sb_demo_handle(sb_app_t *app, const char *method, const char *sub, const char *body,
                     size_t body_len, int *status);

#endif
