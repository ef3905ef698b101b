/* CPU pinning of the server, the baseline forwarder and the bench. */
#include "bench/pin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/capacity.h"

int sb_bench_pin_resolve(const char *opt, const char *list, cpu_set_t *out, char *err, size_t errlen) {
  cpu_set_t have;
  char avail[128];
  int missing;
  if (sb_bench_cpulist_parse(list, out) < 0) {
    snprintf(err, errlen, "%s %s: not a CPU list (e.g. 1, 0,2 or 0-3)", opt, list);
    return -1;
  }
  if (sched_getaffinity(0, sizeof have, &have) < 0) {
    snprintf(err, errlen, "%s: cannot read this process's CPUs: %s", opt, strerror(errno));
    return -1;
  }
  if (sb_bench_cpus_check(out, &have, &missing) < 0) {
    sb_bench_cpulist_format(&have, avail, sizeof avail);
    snprintf(err, errlen, "%s %s: CPU %d does not exist here (CPUs available: %s)", opt, list, missing,
             avail);
    return -1;
  }
  return 0;
}

/* Calls fn for each thread of pid; returns the threads seen, or -1 if /proc has no such process. */
static int each_thread(pid_t pid, void (*fn)(pid_t tid, const char *name, void *arg), void *arg) {
  char path[64], name[32];
  struct dirent *e;
  DIR *d;
  int n = 0;
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  if (!(d = opendir(path)))
    return -1;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || sb_bench_thread_name(pid, e->d_name, name, sizeof name) < 0)
      continue;
    fn((pid_t)atoi(e->d_name), name, arg);
    n++;
  }
  closedir(d);
  return n;
}

typedef struct {
  const cpu_set_t *workers;
  cpu_set_t rest;
  int have_rest, whole, pinned, failed, named;
} pin_ctx_t;

static int is_worker(const char *name) { return sb_bench_worker_index(name) >= 0; }

static void count_named(pid_t tid, const char *name, void *arg) {
  (void)tid;
  ((pin_ctx_t *)arg)->named += is_worker(name);
}

static void pin_one(pid_t tid, const char *name, void *arg) {
  pin_ctx_t *c = arg;
  if (c->whole || is_worker(name)) {
    if (sched_setaffinity(tid, sizeof *c->workers, c->workers) < 0)
      c->failed++;
    else
      c->pinned++;
  } else if (c->have_rest && sched_setaffinity(tid, sizeof c->rest, &c->rest) < 0) {
    c->failed++;
  }
}

int sb_bench_pin_process(pid_t pid, const cpu_set_t *workers, char *err, size_t errlen) {
  pin_ctx_t c;
  memset(&c, 0, sizeof c);
  c.workers = workers;
  if (sched_getaffinity(0, sizeof c.rest, &c.rest) == 0) {
    for (int i = 0; i < CPU_SETSIZE; i++)
      if (CPU_ISSET(i, workers))
        CPU_CLR(i, &c.rest);
    c.have_rest = CPU_COUNT(&c.rest) > 0;
  }
  if (each_thread(pid, count_named, &c) < 0) {
    snprintf(err, errlen, "--pin-server: no process %d", (int)pid);
    return -1;
  }
  c.whole = c.named == 0; /* a server that does not name its workers: all of it */
  each_thread(pid, pin_one, &c);
  if (c.failed || !c.pinned) {
    snprintf(err, errlen, "--pin-server: could not pin %d thread(s) of process %d", c.failed, (int)pid);
    return -1;
  }
  return c.pinned;
}

int sb_bench_pin_self(const cpu_set_t *cpus, char *err, size_t errlen) {
  if (sched_setaffinity(0, sizeof *cpus, cpus) < 0) {
    snprintf(err, errlen, "--pin-bench: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static void describe_one(pid_t tid, const char *name, void *arg) {
  cpu_set_t set;
  char cpus[128] = "?";
  if (sched_getaffinity(tid, sizeof set, &set) == 0)
    sb_bench_cpulist_format(&set, cpus, sizeof cpus);
  json_array_append_new(arg, json_pack("{s:i,s:s,s:s}", "tid", (int)tid, "name", name, "cpus", cpus));
}

json_t *sb_bench_pin_describe(pid_t pid) {
  json_t *a = json_array();
  each_thread(pid, describe_one, a);
  return a;
}
