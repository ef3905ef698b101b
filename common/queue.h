/* A message queue between two libuv loops: any thread pushes, the owning loop drains from a
 * uv_async callback. This is how signaling sends commands down to workers and workers send
 * events up (brief §1); it is not used on the media path. */
#ifndef SB_QUEUE_H
#define SB_QUEUE_H

#include <uv.h>

typedef struct sb_msg {
  struct sb_msg *next;
  int type;
} sb_msg_t; /* embed as the first member of a concrete message */

typedef struct sb_queue sb_queue_t;
typedef void (*sb_queue_cb)(sb_msg_t *msg, void *arg);

/** Creates a queue whose messages are handed to cb on `loop`'s thread. The callback owns each
 * message (it frees it). Returns NULL on failure. */
sb_queue_t *sb_queue_create(uv_loop_t *loop, sb_queue_cb cb, void *arg);

/** Pushes a message from any thread; the queue takes ownership. */
void sb_queue_push(sb_queue_t *q, sb_msg_t *msg);

/** Closes the async handle; pending messages are handed to cb first, then the queue is freed in
 * the close callback. Call on the owning loop's thread. */
void sb_queue_close(sb_queue_t *q);

#endif
