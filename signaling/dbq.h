/* The database executor: one thread that owns the store and the policy model (one connection,
 * the model used from that thread only), so the signaling loop never waits on the database.
 *
 * A caller embeds an sb_dbq_job_t in its own struct, sets run and done, and submits it. `run`
 * does the model operation on the DB thread; `done` follows on the signaling loop (woken by a
 * uv_async), where the caller applies effects and answers. Jobs run and complete in submission
 * order. A job whose run returns SB_DBQ_ERETRY (a serialization failure or deadlock the
 * operation rolled back) is run again after a short jittered backoff, a bounded number of
 * times. `done` never sees pointers that may have died meanwhile unless the caller kept them:
 * callers keep ids and look their objects up again in done. */
#ifndef SB_DBQ_H
#define SB_DBQ_H

#include <uv.h>

#include "signaling/model.h"

/* The status on which a job is run again: a concurrent change conflicted (PostgreSQL). */
#define SB_DBQ_ERETRY SB_MODEL_ERETRY

/* job->status of a job that the executor did not run because it was shutting down. */
#define SB_DBQ_ECANCELLED (-125)

/* Runs of a job that keeps answering SB_DBQ_ERETRY, the first included. */
#define SB_DBQ_MAX_ATTEMPTS 5

typedef struct sb_dbq sb_dbq_t;
typedef struct sb_dbq_job sb_dbq_job_t;

/* On the DB thread: the model operation. Returns 0 or a negative sb_model_status_t. Must be
 * safe to run again after returning SB_DBQ_ERETRY (model operations leave nothing behind on
 * failure; the job resets its own outputs). */
typedef int (*sb_dbq_run_fn)(sb_model_t *m, sb_dbq_job_t *job);
/* On the signaling loop, once per submitted job, with job->status set: run's result, or
 * SB_DBQ_ECANCELLED when run was not called. The job is the callback's again (it frees it). */
typedef void (*sb_dbq_done_fn)(sb_dbq_job_t *job);

struct sb_dbq_job {
  sb_dbq_run_fn run;   /* set by the caller */
  sb_dbq_done_fn done; /* set by the caller */
  int status;          /* read in done */
  int attempts;        /* runs made (for logs and tests) */
  /* the executor's */
  char request[64];    /* the submitting thread's log request id, set again around run and done */
  uv_sem_t *sync;
  sb_dbq_job_t *next;
};

typedef struct {
  const char *db;    /* SQLite path (":memory:" for tests) */
  int test_delay_ms; /* tests only: the DB thread sleeps this long before each job */
  /* Optional: called on the loop thread by sb_dbq_destroy() once the queue is closed, before it
   * waits for the running job; a place to interrupt that job (e.g. cancel a statement). */
  void (*on_stopping)(void *arg);
  void *on_stopping_arg;
} sb_dbq_config_t;

/** Starts the DB thread, which opens the store and the model, and waits for that open (start-up
 * only: nothing is served yet). Done callbacks run on `loop`. Returns 0 with *out set, or < 0
 * with a reason in err (the thread has ended, nothing is left to free). */
int sb_dbq_create(uv_loop_t *loop, const sb_dbq_config_t *cfg, sb_dbq_t **out, char *err,
                  size_t errlen);

/** Queues a job (the executor holds it until done is called). On the loop thread only; not
 * after sb_dbq_destroy(). While shutting down, the job is not run and done gets
 * SB_DBQ_ECANCELLED. */
void sb_dbq_submit(sb_dbq_t *q, sb_dbq_job_t *job);

/** Runs fn(model, arg) on the DB thread ahead of queued jobs and waits for it: the caller's
 * thread blocks. Only for start-up and shut-down, when nothing is served. Returns fn's result,
 * or SB_DBQ_ECANCELLED once the executor is shutting down. */
int sb_dbq_call_sync(sb_dbq_t *q, int (*fn)(sb_model_t *m, void *arg), void *arg);

/** The store's backend name ("sqlite", "postgresql"), known once sb_dbq_create() returned. */
const char *sb_dbq_backend(const sb_dbq_t *q);

/** Jobs submitted whose done has not run yet (on the loop thread; for /api/health). */
unsigned sb_dbq_backlog(const sb_dbq_t *q);

/** Stops accepting work, lets the running job finish and calls its done, cancels the queued ones
 * (their done gets SB_DBQ_ECANCELLED, in order), joins the thread (which closes the model and
 * the store) and frees the executor once `loop` has run its close callbacks. On the loop thread.
 * Accepts NULL. */
void sb_dbq_destroy(sb_dbq_t *q);

#endif
