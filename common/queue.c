#include "common/queue.h"

#include <stdlib.h>

struct sb_queue {
  uv_async_t async;
  uv_mutex_t lock;
  sb_msg_t *head, *tail;
  sb_queue_cb cb;
  void *arg;
};

static void queue_drain(sb_queue_t *q) {
  uv_mutex_lock(&q->lock);
  sb_msg_t *m = q->head;
  q->head = q->tail = NULL;
  uv_mutex_unlock(&q->lock);
  while (m) {
    sb_msg_t *next = m->next;
    m->next = NULL;
    q->cb(m, q->arg);
    m = next;
  }
}

static void on_async(uv_async_t *h) { queue_drain(h->data); }

sb_queue_t *sb_queue_create(uv_loop_t *loop, sb_queue_cb cb, void *arg) {
  sb_queue_t *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  if (uv_mutex_init(&q->lock) != 0) {
    free(q);
    return NULL;
  }
  if (uv_async_init(loop, &q->async, on_async) != 0) {
    uv_mutex_destroy(&q->lock);
    free(q);
    return NULL;
  }
  q->async.data = q;
  q->cb = cb;
  q->arg = arg;
  return q;
}

void sb_queue_push(sb_queue_t *q, sb_msg_t *msg) {
  msg->next = NULL;
  uv_mutex_lock(&q->lock);
  if (q->tail)
    q->tail->next = msg;
  else
    q->head = msg;
  q->tail = msg;
  uv_mutex_unlock(&q->lock);
  uv_async_send(&q->async);
}

static void on_close(uv_handle_t *h) {
  sb_queue_t *q = h->data;
  uv_mutex_destroy(&q->lock);
  free(q);
}

void sb_queue_close(sb_queue_t *q) {
  if (!q)
    return;
  queue_drain(q);
  uv_close((uv_handle_t *)&q->async, on_close);
}
