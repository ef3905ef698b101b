/* CPU pinning of the server, the baseline forwarder and the bench; CPU limits of the first two. */
#include "bench/pin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
  int have_rest, whole, pinned, failed;
} pin_ctx_t;

static int is_worker(const char *name) { return sb_bench_worker_index(name) >= 0; }

static void count_named(pid_t tid, const char *name, void *arg) {
  (void)tid;
  *(int *)arg += is_worker(name);
}

/* Whether pinning and limits take the whole of `pid` (a server that does not name its workers,
 * or the one-thread forwarder) rather than its SB_BENCH_WORKER_THREAD_PREFIX threads: 1 or 0, or
 * -1 if /proc has no such process. */
static int take_whole(pid_t pid) {
  int named = 0;
  if (each_thread(pid, count_named, &named) < 0)
    return -1;
  return named == 0;
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
  if ((c.whole = take_whole(pid)) < 0) {
    snprintf(err, errlen, "--pin-server: no process %d", (int)pid);
    return -1;
  }
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

/* --cpu-limit */

int sb_bench_cpulimit_check(char *err, size_t errlen) {
  if (access(SB_BENCH_CGROUP_CPU "/cpu.cfs_quota_us", F_OK) < 0) {
    snprintf(err, errlen,
             "--cpu-limit needs the cgroup v1 cpu controller at " SB_BENCH_CGROUP_CPU
             " (not mounted here: `ip netns exec` hides it, `nsenter --net=/run/netns/NAME` does not; "
             "a machine with cgroup v2 alone needs systemd.unified_cgroup_hierarchy=0)");
    return -1;
  }
  if (access(SB_BENCH_CGROUP_CPU "/tasks", W_OK) < 0) {
    snprintf(err, errlen, "--cpu-limit: cannot write " SB_BENCH_CGROUP_CPU ": %s (run as root)", strerror(errno));
    return -1;
  }
  return 0;
}

static long long quota_us(const sb_bench_cpulimit_t *l) {
  return (long long)SB_BENCH_CPU_LIMIT_PERIOD_US * l->pct / 100;
}

static int write_text(const char *dir, const char *file, long long v) {
  char path[192];
  FILE *f;
  int rc;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (!(f = fopen(path, "w")))
    return -1;
  rc = fprintf(f, "%lld\n", v) < 0;
  rc |= fclose(f) != 0; /* the kernel refuses a value at the write, seen here */
  return rc ? -1 : 0;
}

typedef struct {
  sb_bench_cpulimit_t *l;
  const char *side;
  int whole, limited, failed, full;
} limit_ctx_t;

static void limit_one(pid_t tid, const char *name, void *arg) {
  limit_ctx_t *c = arg;
  sb_bench_cpulimit_t *l = c->l;
  if (!c->whole && !is_worker(name))
    return;
  if (l->n == SB_BENCH_CPU_LIMIT_GROUPS) {
    c->full = 1;
    return;
  }
  char *path = l->g[l->n].path;
  snprintf(path, sizeof l->g[l->n].path, SB_BENCH_CGROUP_CPU "/switchboard-bench-%d-%s-%d", (int)getpid(),
           c->side, (int)tid);
  if (mkdir(path, 0755) < 0) {
    c->failed++;
    return;
  }
  l->g[l->n].tid = tid;
  snprintf(l->g[l->n].side, sizeof l->g[l->n].side, "%s", c->side);
  l->n++;
  if (write_text(path, "cpu.cfs_period_us", SB_BENCH_CPU_LIMIT_PERIOD_US) < 0 ||
      write_text(path, "cpu.cfs_quota_us", quota_us(l)) < 0 ||
      write_text(path, "tasks", tid) < 0)
    c->failed++;
  else
    c->limited++;
}

int sb_bench_cpulimit_apply(sb_bench_cpulimit_t *l, pid_t pid, const char *side, char *err, size_t errlen) {
  limit_ctx_t c;
  memset(&c, 0, sizeof c);
  c.l = l;
  c.side = side;
  if ((c.whole = take_whole(pid)) < 0) {
    snprintf(err, errlen, "--cpu-limit: no process %d", (int)pid);
    return -1;
  }
  each_thread(pid, limit_one, &c);
  if (c.failed || c.full || !c.limited) {
    snprintf(err, errlen, "--cpu-limit: could not limit %d thread(s) of process %d%s: %s", c.failed + c.full,
             (int)pid, c.full ? " (too many threads)" : "", c.failed ? strerror(errno) : "none found");
    return -1;
  }
  return c.limited;
}

json_t *sb_bench_cpulimit_json(const sb_bench_cpulimit_t *l, const char *side) {
  json_t *threads = json_array();
  for (int i = 0; i < l->n; i++) {
    char path[192], key[32];
    long long v, periods = -1, throttled = -1, throttled_ns = -1;
    FILE *f;
    if (strcmp(l->g[i].side, side) != 0)
      continue;
    snprintf(path, sizeof path, "%s/cpu.stat", l->g[i].path);
    if ((f = fopen(path, "r"))) {
      while (fscanf(f, "%31s %lld", key, &v) == 2) {
        if (strcmp(key, "nr_periods") == 0)
          periods = v;
        else if (strcmp(key, "nr_throttled") == 0)
          throttled = v;
        else if (strcmp(key, "throttled_time") == 0)
          throttled_ns = v;
      }
      fclose(f);
    }
    json_array_append_new(threads, json_pack("{s:i,s:s,s:I,s:I,s:f}", "tid", (int)l->g[i].tid, "cgroup",
                                             l->g[i].path, "periods",
                                             (json_int_t)periods, "throttled_periods", (json_int_t)throttled,
                                             "throttled_ms", throttled_ns < 0 ? -1.0 : throttled_ns / 1e6));
  }
  return json_pack("{s:i,s:i,s:I,s:o}", "pct", l->pct, "period_us", SB_BENCH_CPU_LIMIT_PERIOD_US, "quota_us",
                   (json_int_t)quota_us(l), "threads", threads);
}

void sb_bench_cpulimit_release(sb_bench_cpulimit_t *l) {
  for (int i = 0; i < l->n; i++) {
    /* a thread that has exited has left its group; one still in it (a --server-pid server's)
     * goes back to the root group */
    char path[192];
    long long tid;
    FILE *f;
    snprintf(path, sizeof path, "%s/tasks", l->g[i].path);
    if ((f = fopen(path, "r"))) {
      while (fscanf(f, "%lld", &tid) == 1)
        (void)write_text(SB_BENCH_CGROUP_CPU, "tasks", tid);
      fclose(f);
    }
    if (rmdir(l->g[i].path) < 0)
      fprintf(stderr, "switchboard-bench: cannot remove %s: %s\n", l->g[i].path, strerror(errno));
  }
  l->n = 0;
}
