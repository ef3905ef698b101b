/* Everything outside the protocol: the token secret, a server started for the run, /proc
 * figures of a process, this machine and the library versions for the report. */
#ifndef SB_BENCH_SYSINFO_H
#define SB_BENCH_SYSINFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Reads a token secret file as the server does (hex digits, trailing whitespace ignored) into
 * key (cap bytes). Returns the key length, or -1 with a reason in err. */
int sb_bench_secret_load(const char *path, uint8_t *key, size_t cap, char *err, size_t errlen);

/* A server process the bench started itself (--spawn-server). */
typedef struct {
  pid_t pid;
  int port;
  char dir[64];          /* temporary directory: secret, database, log */
  char log[96];
  char secret[96];
  int exit_status;       /* after stop: the wait status */
} sb_bench_server_t;

/** Starts `path serve --http 127.0.0.1:PORT --media-ip 127.0.0.1 --media-port 0 --db DIR/bench.db
 * --secret-file DIR/secret` on a free port and waits (up to 20 s) for its "listening" line.
 * and `extra` arguments after these. Returns 0, or -1 with a reason in err (the log is kept). */
int sb_bench_server_spawn(sb_bench_server_t *s, const char *path, char (*extra)[96], int nextra,
                          char *err, size_t errlen);

/** Sends SIGTERM, waits up to 5 s, then SIGKILL. Removes the directory unless keep_files.
 * Returns 0 if the server exited with status 0 after SIGTERM. */
int sb_bench_server_stop(sb_bench_server_t *s, int keep_files);

#define SB_BENCH_MAX_SERVER_WORKERS 64 /* the server's `workers` limit */
/* The relay names its media threads "sb-worker-<index>" (relay/worker.c). */
#define SB_BENCH_WORKER_THREAD_PREFIX "sb-worker-"

typedef struct {
  int ok;
  uint64_t cpu_ns;       /* user + system of all threads */
  uint64_t user_ticks;   /* utime and stime of /proc/<pid>/stat (clock ticks, all threads): */
  uint64_t system_ticks; /* the split of cpu_ns between the process's code and the kernel */
  uint64_t rss_kib, hwm_kib;
  int threads;
  /* The relay's worker threads (named sb-worker-<index>): ns on CPU of each, from schedstat;
   * nworkers is one more than the highest index seen, 0 when none is named so. */
  int nworkers;
  uint64_t worker_ns[SB_BENCH_MAX_SERVER_WORKERS];
  /* Times put on a CPU (schedstat's third field): for a thread that sleeps between events, its
   * wake-ups. Of all threads, and of each relay worker. */
  uint64_t slices;
  uint64_t worker_slices[SB_BENCH_MAX_SERVER_WORKERS];
} sb_bench_proc_t;

/** Reads the name of thread `tid` (a /proc/<pid>/task entry) of `pid` into name, without its
 * newline. 0, or -1 if the thread is gone. */
int sb_bench_thread_name(pid_t pid, const char *tid, char *name, size_t cap);

/** The index N of a relay worker thread's name "sb-worker-N" (a trailing newline allowed, as
 * /proc/.../comm has it), or -1 for any other name or N out of range. */
int sb_bench_worker_index(const char *comm);

/** Samples /proc/<pid>: user and system ticks from stat (required: ok is 0 without them), the
 * total from the per-thread schedstat (ns) when available, else the sum of the two ticks. */
void sb_bench_proc_sample(pid_t pid, sb_bench_proc_t *out);

/** Parses the text of /proc/<pid>/stat: utime and stime (fields 14 and 15, clock ticks). The
 * command (field 2) may hold spaces and ')', so fields are counted after its last ')'. Returns
 * 0, or -1 if a field up to stime is missing, not a number, or cut short (a truncated line). */
int sb_bench_proc_stat_parse(const char *text, uint64_t *utime, uint64_t *stime);

/* The whole machine's CPU time from the aggregate "cpu" line of /proc/stat, in clock ticks
 * (USER_HZ). On loopback the receive path of a sendmmsg runs in the sender or in ksoftirqd, so
 * per-process figures move with the rate; the machine's busy time does not. */
typedef struct {
  int ok;
  uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
} sb_bench_cpustat_t;

/** Busy ticks: user + nice + system + irq + softirq (guest time is inside user and nice). */
uint64_t sb_bench_cpustat_busy(const sb_bench_cpustat_t *c);

/** Parses the text of /proc/stat: the first line must be the aggregate "cpu" line with at least
 * user, nice, system, idle, iowait, irq and softirq (steal and later fields optional, 0 when
 * absent). Returns 0, or -1 (out untouched) on a missing, malformed or cut-short line. */
int sb_bench_cpustat_parse(const char *text, sb_bench_cpustat_t *out);

/** Samples /proc/stat; out->ok is 0 when it cannot be read or parsed. */
void sb_bench_cpustat_sample(sb_bench_cpustat_t *out);

/** This process's CPU time (getrusage): user and system seconds. */
void sb_bench_self_cpu(double *user_s, double *sys_s);

typedef struct {
  int cores;
  char cpu_model[128];
  char kernel[128];
  char hostname[64];
} sb_bench_machine_t;

void sb_bench_machine(sb_bench_machine_t *m);

/** "libsrtp2 2.5.0 (openssl-local), OpenSSL 3.0.x, ..." style list as name/version pairs:
 * calls fn(name, version, arg) for each library. */
void sb_bench_versions(void (*fn)(const char *name, const char *version, void *arg), void *arg);

#endif
