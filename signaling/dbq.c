#include "signaling/dbq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* Backoff before a retry: base doubling per attempt, capped, with jitter so two nodes that
 * collided do not collide again in step. */
#define SB_DBQ_BACKOFF_BASE_MS 5
#define SB_DBQ_BACKOFF_MAX_MS 200

struct sb_dbq {
  uv_loop_t *loop;
  uv_async_t async;
  uv_thread_t thread;
  int thread_started;
  uv_mutex_t lock;
  uv_cond_t cond;
  /* Under lock: the DB thread's queue and the completed jobs waiting for the loop. */
  sb_dbq_job_t *pending, *pending_tail;
  sb_dbq_job_t *completed, *completed_tail;
  int stopping;
  /* Loop thread only. */
  sb_dbq_job_t *cancelled, *cancelled_tail;
  unsigned backlog;
  /* DB thread only (after the start-up hand-over). */
  char db[512];
  int test_delay_ms;
  void (*on_stopping)(void *arg);
  void *on_stopping_arg;
  sb_store_t *store;
  sb_model_t *model;
  uv_sem_t opened;
  int open_rc;
  char open_err[1024];
  const char *backend; /* a string of the store's, set at open before the hand-over */
};

static void list_append(sb_dbq_job_t **head, sb_dbq_job_t **tail, sb_dbq_job_t *job) {
  job->next = NULL;
  if (*tail)
    (*tail)->next = job;
  else
    *head = job;
  *tail = job;
}

/* --- the DB thread --- */

static int sb__dbq_open(sb_dbq_t *q) {
  char err[256] = "";
  if (sb_store_open(q->db, &q->store, err, sizeof err) != 0) {
    /* the store's message names the database without its password */
    snprintf(q->open_err, sizeof q->open_err, "cannot open the database: %s", err);
    return -1;
  }
  if (sb_model_create(q->store, &q->model) != 0) {
    snprintf(q->open_err, sizeof q->open_err, "cannot create the model");
    return -1;
  }
  q->backend = sb_store_backend(q->store);
  return 0;
}

static void sb__dbq_close(sb_dbq_t *q) {
  sb_model_destroy(q->model);
  q->model = NULL;
  sb_store_close(q->store);
  q->store = NULL;
}

static unsigned backoff_ms(int attempt) {
  unsigned ms = SB_DBQ_BACKOFF_BASE_MS << (attempt < 6 ? attempt : 6);
  if (ms > SB_DBQ_BACKOFF_MAX_MS)
    ms = SB_DBQ_BACKOFF_MAX_MS;
  return ms / 2 + sb_random_u32() % (ms / 2 + 1);
}

static void sb__dbq_execute(sb_dbq_t *q, sb_dbq_job_t *job) {
  if (q->test_delay_ms > 0)
    uv_sleep((unsigned)q->test_delay_ms);
  sb_log_set_request(job->request); /* the DB thread's lines belong to the request */
  for (job->attempts = 1;; job->attempts++) {
    job->status = job->run(q->model, job);
    if (job->status != SB_DBQ_ERETRY || job->attempts >= SB_DBQ_MAX_ATTEMPTS)
      break;
    uv_sleep(backoff_ms(job->attempts));
  }
  if (job->status == SB_DBQ_ERETRY)
    sb_warn("db", "gave up after %d conflicting attempts", job->attempts);
  sb_log_set_request(NULL);
}

static void sb__dbq_thread(void *arg) {
  sb_dbq_t *q = arg;
  q->open_rc = sb__dbq_open(q);
  uv_sem_post(&q->opened);
  if (q->open_rc != 0) {
    sb__dbq_close(q);
    return;
  }
  for (;;) {
    uv_mutex_lock(&q->lock);
    while (!q->pending && !q->stopping)
      uv_cond_wait(&q->cond, &q->lock);
    sb_dbq_job_t *job = q->pending;
    if (job) {
      q->pending = job->next;
      if (!q->pending)
        q->pending_tail = NULL;
    }
    uv_mutex_unlock(&q->lock);
    if (!job)
      break; /* stopping, and sb_dbq_destroy took what was queued */
    sb__dbq_execute(q, job);
    if (job->sync) {
      uv_sem_post(job->sync);
      continue;
    }
    uv_mutex_lock(&q->lock);
    list_append(&q->completed, &q->completed_tail, job);
    uv_mutex_unlock(&q->lock);
    uv_async_send(&q->async);
  }
  /* The connection was only ever used from this thread: it is closed here too. */
  sb__dbq_close(q);
}

/* --- the loop side --- */

static void sb__dbq_deliver(sb_dbq_t *q, sb_dbq_job_t *job) {
  char request[sizeof job->request];
  q->backlog--;
  job->next = NULL;
  memcpy(request, job->request, sizeof request); /* done may free the job */
  sb_log_set_request(request);
  job->done(job);
  sb_log_set_request(NULL);
}

static void sb__dbq_drain(sb_dbq_t *q) {
  uv_mutex_lock(&q->lock);
  sb_dbq_job_t *job = q->completed;
  q->completed = q->completed_tail = NULL;
  uv_mutex_unlock(&q->lock);
  while (job) {
    sb_dbq_job_t *next = job->next;
    sb__dbq_deliver(q, job);
    job = next;
  }
}

static void on_async(uv_async_t *h) { sb__dbq_drain(h->data); }

static void on_close(uv_handle_t *h) {
  sb_dbq_t *q = h->data;
  uv_cond_destroy(&q->cond);
  uv_mutex_destroy(&q->lock);
  free(q);
}

int sb_dbq_create(uv_loop_t *loop, const sb_dbq_config_t *cfg, sb_dbq_t **out, char *err,
                  size_t errlen) {
  int rc = -1, inited = 0;
  sb_dbq_t *q = calloc(1, sizeof *q);
  *out = NULL;
  if (errlen)
    err[0] = '\0';
  if (!q) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  q->loop = loop;
  q->test_delay_ms = cfg->test_delay_ms;
  q->on_stopping = cfg->on_stopping;
  q->on_stopping_arg = cfg->on_stopping_arg;
  snprintf(q->db, sizeof q->db, "%s", cfg->db);
  if (uv_mutex_init(&q->lock) != 0)
    goto Exit;
  inited = 1;
  if (uv_cond_init(&q->cond) != 0)
    goto Exit;
  inited = 2;
  if (uv_sem_init(&q->opened, 0) != 0)
    goto Exit;
  inited = 3;
  if (uv_thread_create(&q->thread, sb__dbq_thread, q) != 0) {
    snprintf(err, errlen, "cannot start the database thread");
    goto Exit;
  }
  uv_sem_wait(&q->opened); /* start-up only: the loop serves nothing yet */
  if (q->open_rc != 0) {
    uv_thread_join(&q->thread);
    snprintf(err, errlen, "%s", q->open_err);
    goto Exit;
  }
  q->thread_started = 1;
  if (uv_async_init(loop, &q->async, on_async) != 0) {
    snprintf(err, errlen, "cannot create the wake-up handle");
    goto Exit;
  }
  q->async.data = q;
  rc = 0;
Exit:
  if (inited >= 3)
    uv_sem_destroy(&q->opened);
  if (rc == 0) {
    *out = q;
    return 0;
  }
  if (q->thread_started) { /* only the async handle failed: stop the running thread */
    uv_mutex_lock(&q->lock);
    q->stopping = 1;
    uv_cond_signal(&q->cond);
    uv_mutex_unlock(&q->lock);
    uv_thread_join(&q->thread);
  }
  if (inited >= 2)
    uv_cond_destroy(&q->cond);
  if (inited >= 1)
    uv_mutex_destroy(&q->lock);
  if (!err[0] && errlen)
    snprintf(err, errlen, "cannot initialise the executor");
  free(q);
  return -1;
}

void sb_dbq_submit(sb_dbq_t *q, sb_dbq_job_t *job) {
  snprintf(job->request, sizeof job->request, "%s", sb_log_request());
  job->sync = NULL;
  job->attempts = 0;
  job->status = 0;
  q->backlog++;
  uv_mutex_lock(&q->lock);
  int stopping = q->stopping;
  if (!stopping) {
    list_append(&q->pending, &q->pending_tail, job);
    uv_cond_signal(&q->cond);
  }
  uv_mutex_unlock(&q->lock);
  if (stopping) { /* sb_dbq_destroy delivers it, cancelled */
    job->status = SB_DBQ_ECANCELLED;
    list_append(&q->cancelled, &q->cancelled_tail, job);
  }
}

typedef struct {
  sb_dbq_job_t job;
  int (*fn)(sb_model_t *m, void *arg);
  void *arg;
} sync_job_t;

static int sync_run(sb_model_t *m, sb_dbq_job_t *job) {
  sync_job_t *sj = (sync_job_t *)job;
  return sj->fn(m, sj->arg);
}

int sb_dbq_call_sync(sb_dbq_t *q, int (*fn)(sb_model_t *m, void *arg), void *arg) {
  uv_sem_t sem;
  sync_job_t sj = {.job = {.run = sync_run}, .fn = fn, .arg = arg};
  if (uv_sem_init(&sem, 0) != 0)
    return SB_MODEL_EINTERNAL;
  sj.job.sync = &sem;
  uv_mutex_lock(&q->lock);
  int stopping = q->stopping;
  if (!stopping) { /* ahead of the queue: the caller's thread is blocked meanwhile */
    sj.job.next = q->pending;
    q->pending = &sj.job;
    if (!q->pending_tail)
      q->pending_tail = &sj.job;
    uv_cond_signal(&q->cond);
  }
  uv_mutex_unlock(&q->lock);
  if (!stopping)
    uv_sem_wait(&sem);
  uv_sem_destroy(&sem);
  return stopping ? SB_DBQ_ECANCELLED : sj.job.status;
}

const char *sb_dbq_backend(const sb_dbq_t *q) { return q->backend; }

unsigned sb_dbq_backlog(const sb_dbq_t *q) { return q ? q->backlog : 0; }

void sb_dbq_destroy(sb_dbq_t *q) {
  if (!q)
    return;
  uv_mutex_lock(&q->lock);
  q->stopping = 1;
  sb_dbq_job_t *queued = q->pending;
  q->pending = q->pending_tail = NULL;
  uv_cond_signal(&q->cond);
  uv_mutex_unlock(&q->lock);
  if (q->on_stopping)
    q->on_stopping(q->on_stopping_arg);
  uv_thread_join(&q->thread); /* after the running job; the thread closes the model */
  /* Completed jobs first (they were ahead), then the cancelled ones in submission order. */
  unsigned ncancelled = 0;
  for (sb_dbq_job_t *job = queued; job; ncancelled++) {
    sb_dbq_job_t *next = job->next;
    job->status = SB_DBQ_ECANCELLED;
    list_append(&q->cancelled, &q->cancelled_tail, job);
    job = next;
  }
  if (ncancelled)
    sb_info("db", "shutdown: %u queued jobs cancelled", ncancelled);
  sb__dbq_drain(q);
  /* A done callback may submit again (a session's next request): that is cancelled as well. */
  while (q->cancelled) {
    sb_dbq_job_t *job = q->cancelled;
    q->cancelled = job->next;
    if (!q->cancelled)
      q->cancelled_tail = NULL;
    sb__dbq_deliver(q, job);
  }
  uv_close((uv_handle_t *)&q->async, on_close);
}
