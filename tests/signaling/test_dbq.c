/* The database executor over a real SQLite store: order, threads, retries, shutdown, and a loop
 * that keeps running while a job holds the DB thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sbtest.h"
#include "signaling/dbq.h"

#define MANY 2000

static const sb_principal_t op = {.tenant = "", .user = "operator", .operator = 1};

typedef struct {
  sb_dbq_job_t job;
  int index;
  int run_seq;         /* order in which the DB thread ran it */
  int fail_times;      /* answer SB_DBQ_ERETRY this many times first */
  int runs;
  uv_thread_t run_thread, done_thread;
  int make_tenant;     /* 1: create tenant t<index>; 2: count the tenants */
  int count;
  uv_sem_t *started, *release; /* non-NULL: signal, then block until released */
} test_job_t;

static int run_seq_counter; /* touched by the DB thread only; read after the join */
static int done_order[MANY];
static int done_count;
static int done_status[MANY];

static int job_run(sb_model_t *m, sb_dbq_job_t *job) {
  test_job_t *j = (test_job_t *)job;
  j->run_thread = uv_thread_self();
  j->runs++;
  if (j->started)
    uv_sem_post(j->started);
  if (j->release)
    uv_sem_wait(j->release);
  if (j->runs <= j->fail_times)
    return SB_DBQ_ERETRY;
  j->run_seq = ++run_seq_counter;
  json_t *out = NULL;
  sb_model_err_t err;
  int rc = 0;
  if (j->make_tenant == 1) {
    char id[32];
    snprintf(id, sizeof id, "t%d", j->index);
    rc = sb_model_tenant_create(m, &op, id, id, &out, &err);
  } else if (j->make_tenant == 2) {
    rc = sb_model_tenants_list(m, &op, &out, &err);
    j->count = (int)json_array_size(out);
  }
  json_decref(out);
  return rc < 0 ? rc : 0;
}

static void job_done(sb_dbq_job_t *job) {
  test_job_t *j = (test_job_t *)job;
  j->done_thread = uv_thread_self();
  if (done_count < MANY) {
    done_status[done_count] = job->status;
    done_order[done_count] = j->index;
  }
  done_count++;
}

static test_job_t *jobs_new(int n) {
  test_job_t *jobs = calloc((size_t)n, sizeof *jobs);
  for (int i = 0; jobs && i < n; i++) {
    jobs[i].job.run = job_run;
    jobs[i].job.done = job_done;
    jobs[i].index = i;
  }
  return jobs;
}

static sb_dbq_t *start(uv_loop_t *loop, const sb_dbq_config_t *extra) {
  sb_dbq_config_t cfg = {.db = ":memory:"};
  char err[256];
  sb_dbq_t *q = NULL;
  if (extra)
    cfg = *extra;
  run_seq_counter = 0;
  done_count = 0;
  uv_loop_init(loop);
  if (sb_dbq_create(loop, &cfg, &q, err, sizeof err) != 0)
    fprintf(stderr, "sb_dbq_create: %s\n", err);
  return q;
}

static void stop(uv_loop_t *loop, sb_dbq_t *q) {
  sb_dbq_destroy(q);
  uv_run(loop, UV_RUN_DEFAULT); /* the close callback frees the executor */
  uv_loop_close(loop);
}

/* Runs the loop until `n` jobs are done (bounded by the test's own timeout). */
static void run_until(uv_loop_t *loop, int n) {
  while (done_count < n)
    uv_run(loop, UV_RUN_ONCE);
}

SB_TEST(test_order_and_threads) {
  uv_loop_t loop;
  sb_dbq_t *q = start(&loop, NULL);
  CHECK(q != NULL);
  test_job_t *jobs = jobs_new(21);
  uv_thread_t self = uv_thread_self();
  for (int i = 0; i < 21; i++) {
    jobs[i].make_tenant = i < 20 ? 1 : 2;
    sb_dbq_submit(q, &jobs[i].job);
  }
  CHECK_EQ(sb_dbq_backlog(q), 21);
  run_until(&loop, 21);
  CHECK_EQ(sb_dbq_backlog(q), 0);
  for (int i = 0; i < 21; i++) {
    CHECK_EQ(done_order[i], i);
    CHECK_EQ(jobs[i].job.status, 0);
    CHECK_EQ(jobs[i].run_seq, i + 1);
    CHECK(uv_thread_equal(&jobs[i].done_thread, &self));
    CHECK(!uv_thread_equal(&jobs[i].run_thread, &self));
    CHECK(uv_thread_equal(&jobs[i].run_thread, &jobs[0].run_thread));
  }
  CHECK_EQ(jobs[20].count, 20); /* the tenants the jobs before it created, all committed */
  stop(&loop, q);
  free(jobs);
}

SB_TEST(test_many_jobs) {
  uv_loop_t loop;
  sb_dbq_t *q = start(&loop, NULL);
  CHECK(q != NULL);
  test_job_t *jobs = jobs_new(MANY);
  CHECK(jobs != NULL);
  for (int i = 0; i < MANY; i++)
    sb_dbq_submit(q, &jobs[i].job);
  run_until(&loop, MANY);
  CHECK_EQ(done_count, MANY);
  for (int i = 0; i < MANY; i++) {
    CHECK_EQ(done_order[i], i);
    CHECK_EQ(jobs[i].runs, 1);
  }
  stop(&loop, q);
  CHECK_EQ(done_count, MANY); /* nothing delivered twice at shutdown */
  free(jobs);
}

SB_TEST(test_retry_status_runs_again) {
  uv_loop_t loop;
  sb_dbq_t *q = start(&loop, NULL);
  CHECK(q != NULL);
  test_job_t *jobs = jobs_new(3);
  jobs[0].fail_times = 2;                        /* succeeds on the third run */
  jobs[0].make_tenant = 1;
  jobs[1].fail_times = SB_DBQ_MAX_ATTEMPTS + 10; /* never succeeds: bounded */
  jobs[2].make_tenant = 2;
  for (int i = 0; i < 3; i++)
    sb_dbq_submit(q, &jobs[i].job);
  run_until(&loop, 3);
  CHECK_EQ(jobs[0].job.status, 0);
  CHECK_EQ(jobs[0].runs, 3);
  CHECK_EQ(jobs[0].job.attempts, 3);
  CHECK_EQ(jobs[1].job.status, SB_DBQ_ERETRY);
  CHECK_EQ(jobs[1].runs, SB_DBQ_MAX_ATTEMPTS);
  CHECK_EQ(jobs[2].count, 1); /* the retried creation happened once */
  CHECK_EQ(done_order[0], 0);
  CHECK_EQ(done_order[1], 1);
  CHECK_EQ(done_order[2], 2);
  stop(&loop, q);
  free(jobs);
}

static void release_on_stop(void *arg) { uv_sem_post(arg); }

SB_TEST(test_shutdown_cancels_queued_jobs) {
  uv_loop_t loop;
  uv_sem_t started, release;
  uv_sem_init(&started, 0);
  uv_sem_init(&release, 0);
  sb_dbq_config_t cfg = {.db = ":memory:", .on_stopping = release_on_stop, .on_stopping_arg = &release};
  sb_dbq_t *q = start(&loop, &cfg);
  CHECK(q != NULL);
  test_job_t *jobs = jobs_new(10);
  jobs[0].started = &started;
  jobs[0].release = &release; /* held on the DB thread until the executor is stopping */
  jobs[0].make_tenant = 1;
  sb_dbq_submit(q, &jobs[0].job);
  uv_sem_wait(&started);
  for (int i = 1; i < 10; i++)
    sb_dbq_submit(q, &jobs[i].job);
  sb_dbq_destroy(q); /* every done is called before it returns */
  CHECK_EQ(done_count, 10);
  CHECK_EQ(done_order[0], 0);
  CHECK_EQ(done_status[0], 0); /* the running job finished */
  for (int i = 1; i < 10; i++) {
    CHECK_EQ(done_order[i], i);
    CHECK_EQ(done_status[i], SB_DBQ_ECANCELLED);
    CHECK_EQ(jobs[i].runs, 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  uv_sem_destroy(&started);
  uv_sem_destroy(&release);
  free(jobs);
}

/* The loop ticks while a job holds the DB thread: the job cannot finish before five ticks. */
typedef struct {
  uv_timer_t timer;
  int ticks;
  uv_sem_t *release;
} ticker_t;

static void on_tick(uv_timer_t *t) {
  ticker_t *tk = t->data;
  if (++tk->ticks == 5)
    uv_sem_post(tk->release);
}

static int ticks_at_done;
static ticker_t *the_ticker;

static void slow_done(sb_dbq_job_t *job) {
  ticks_at_done = the_ticker->ticks;
  job_done(job);
}

SB_TEST(test_slow_job_does_not_block_the_loop) {
  uv_loop_t loop;
  uv_sem_t release;
  ticker_t tk = {.release = &release};
  uv_sem_init(&release, 0);
  sb_dbq_t *q = start(&loop, NULL);
  CHECK(q != NULL);
  the_ticker = &tk;
  test_job_t *jobs = jobs_new(1);
  jobs[0].release = &release;
  jobs[0].job.done = slow_done;
  sb_dbq_submit(q, &jobs[0].job);
  uv_timer_init(&loop, &tk.timer);
  tk.timer.data = &tk;
  uv_timer_start(&tk.timer, on_tick, 1, 1);
  run_until(&loop, 1);
  CHECK(ticks_at_done >= 5);
  CHECK_EQ(jobs[0].job.status, 0);
  uv_close((uv_handle_t *)&tk.timer, NULL);
  stop(&loop, q);
  uv_sem_destroy(&release);
  free(jobs);
}

/* call_sync runs on the DB thread, also from a done callback, and refuses once stopping. */
static int sync_fn(sb_model_t *m, void *arg) {
  uv_thread_t *where = arg;
  *where = uv_thread_self();
  return sb_model_is_admin(m, "nobody", "nobody") == 0 ? 7 : -1;
}

static sb_dbq_t *sync_q;
static int sync_from_done_rc;

static void done_then_sync(sb_dbq_job_t *job) {
  uv_thread_t where;
  sync_from_done_rc = sb_dbq_call_sync(sync_q, sync_fn, &where);
  job_done(job);
}

SB_TEST(test_call_sync) {
  uv_loop_t loop;
  uv_thread_t where, self = uv_thread_self();
  sb_dbq_t *q = start(&loop, NULL);
  CHECK(q != NULL);
  CHECK_EQ(sb_dbq_call_sync(q, sync_fn, &where), 7);
  CHECK(!uv_thread_equal(&where, &self));
  sync_q = q;
  test_job_t *jobs = jobs_new(1);
  jobs[0].job.done = done_then_sync;
  sb_dbq_submit(q, &jobs[0].job);
  run_until(&loop, 1);
  CHECK_EQ(sync_from_done_rc, 7);
  stop(&loop, q);
  free(jobs);
}

SB_TEST(test_open_failure) {
  uv_loop_t loop;
  sb_dbq_config_t cfg = {.db = "/nonexistent-dir/x/db.sqlite3"};
  char err[256];
  sb_dbq_t *q = (sb_dbq_t *)1;
  uv_loop_init(&loop);
  CHECK(sb_dbq_create(&loop, &cfg, &q, err, sizeof err) < 0);
  CHECK(q == NULL);
  CHECK(strstr(err, "cannot open") != NULL);
  uv_loop_close(&loop);
}
