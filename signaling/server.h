/* HTTP + WebSocket server (libwebsockets on the signaling loop). */
#ifndef SB_SERVER_H
#define SB_SERVER_H

#include "signaling/app.h"

/** Listens on cfg.http_host:http_port; 0 or -1. */
int sb_server_start(sb_app_t *app);
void sb_server_stop(sb_app_t *app);
/** The port actually bound (useful with port 0). */
int sb_server_port(sb_app_t *app);

#endif
