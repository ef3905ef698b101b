/* HTTP + WebSocket server (libwebsockets on the signaling loop). */
#ifndef SB_SERVER_H
#define SB_SERVER_H

#include "signaling/app.h"

/** Listens on cfg.http_host:http_port; 0 or -1. */
struct lws;

int sb_server_start(sb_app_t *app);
void sb_server_stop(sb_app_t *app);
/** Re-reads cfg.tls_cert and tls_key for new connections (SIGHUP); running ones keep theirs. A
 * pair that does not load or match is refused with a logged error and the current one stays.
 * 0 (also without TLS: nothing to do) or -1. */
int sb_server_tls_reload(sb_app_t *app);
/** The port actually bound (useful with port 0). */
int sb_server_port(sb_app_t *app);
/** Unties a WebSocket connection from its session (which another connection took over) and
 * closes it; the connection's callbacks no longer reach the session. */
void sb_server_release_ws(struct lws *wsi);

#endif
