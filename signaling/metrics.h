/* The node's metrics: per worker (the relay's counters and loop lag), per tenant (participants
 * and calls now, media bytes, admissions, denials, revocations) and the join and revocation cut
 * time histograms; rendered as Prometheus text at GET /metrics and, for one tenant, as JSON for
 * its administrators (GET /api/admin/tenants/{id}/usage). Lives on the signaling loop: fed by
 * call.c from the join and revoke steps and the relay's events, so it needs no lock. */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "relay/relay.h"

typedef struct sb_metrics sb_metrics_t;
struct sb_app;

/** Starts the signaling loop's lag timer on `loop`. NULL if out of memory. */
sb_metrics_t *sb_metrics_create(uv_loop_t *loop);
/** Stops the timer; the memory goes in its close callback (run the loop after). Accepts NULL. */
void sb_metrics_destroy(sb_metrics_t *m);

/* Every feed below accepts m == NULL (then does nothing). */

/** A join of `tenant` was admitted: its participant got `transport`; `request_ms` is when the
 * call.join request arrived (sb_now_ms()). */
void sb_metrics_admitted(sb_metrics_t *m, const char *tenant, uint64_t transport,
                         uint64_t request_ms);
/** The model refused a join of `tenant` (code: "forbidden", "not_found", ...). */
void sb_metrics_denied(sb_metrics_t *m, const char *tenant, const char *code);
/** A live participant's admission was revoked; its transport's close is timed from now_ms. */
void sb_metrics_revoked(sb_metrics_t *m, const char *tenant, uint64_t transport, uint64_t now_ms);
/** A relay event (bytes, first media, closed); now_ms: its arrival. */
void sb_metrics_relay_event(sb_metrics_t *m, const sb_event_t *ev, uint64_t now_ms);

/** The whole node's metrics as Prometheus text (malloc'd), or NULL when out of memory. */
char *sb_metrics_render(struct sb_app *app);
/** One tenant's figures on this node, added to obj (a JSON object). */
void sb_metrics_tenant_json(struct sb_app *app, const char *tenant, json_t *obj);

#endif
