/* Secret files, a spawned server, /proc sampling, machine and library facts. */
#include "bench/sysinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <opus/opus.h>
#include <srtp2/srtp.h>
#include <uv.h>
#include <vpx/vpx_codec.h>

#include "common/util.h"

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sb_bench_secret_load(const char *path, uint8_t *key, size_t cap, char *err, size_t errlen) {
  char text[300];
  size_t n, i;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    return -1;
  }
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  while (n && isspace((unsigned char)text[n - 1]))
    text[--n] = '\0';
  if (n < 32 || n % 2 || n / 2 > cap) {
    snprintf(err, errlen, "%s must hold 32-%zu hex digits", path, cap * 2);
    return -1;
  }
  for (i = 0; i < n / 2; i++) {
    int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      snprintf(err, errlen, "%s must hold hex digits", path);
      return -1;
    }
    key[i] = (uint8_t)(hi << 4 | lo);
  }
  memset(text, 0, sizeof text);
  return (int)(n / 2);
}

static int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
  if (fd < 0)
    return -1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static int write_secret(const char *path) {
  uint8_t raw[32];
  char hex[65];
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), ok;
  if (fd < 0 || sb_random_bytes(raw, sizeof raw) < 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  sb_hex(raw, sizeof raw, hex);
  hex[64] = '\n';
  ok = write(fd, hex, 65) == 65;
  close(fd);
  memset(raw, 0, sizeof raw);
  return ok ? 0 : -1;
}

static int log_has_line(const char *log, const char *needle) {
  char line[512];
  int found = 0;
  FILE *f = fopen(log, "r");
  if (!f)
    return 0;
  while (!found && fgets(line, sizeof line, f))
    found = strstr(line, needle) != NULL;
  fclose(f);
  return found;
}

static pid_t start_child(const sb_bench_server_t *s, const char *path, char (*extra)[96], int nextra) {
  char http[32], db[96];
  char *argv[32];
  int n = 0;
  pid_t pid;
  snprintf(http, sizeof http, "127.0.0.1:%d", s->port);
  snprintf(db, sizeof db, "%s/bench.db", s->dir);
  pid = fork();
  if (pid == 0) {
    int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    /* --media-port 0: a free port, so that runs and other servers never collide; every
     * participant connects from 127.0.0.1, so no limit of connections per address */
    const char *fixed[] = {path, "serve", "--http", http, "--media-ip", "127.0.0.1", "--media-port", "0",
                           "--db", db, "--secret-file", s->secret, "--max-conns-per-address", "0"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
      argv[n++] = (char *)fixed[i];
    for (int i = 0; i < nextra && n < 31; i++)
      argv[n++] = extra[i];
    argv[n] = NULL;
    execv(path, argv);
    fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  return pid;
}

int sb_bench_server_spawn(sb_bench_server_t *s, const char *path, char (*extra)[96], int nextra,
                          char *err, size_t errlen) {
  struct timespec pause = {0, 20 * 1000 * 1000};
  int status;
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "/tmp/sb-bench-XXXXXX");
  if (!mkdtemp(s->dir)) {
    snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
    return -1;
  }
  snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
  snprintf(s->secret, sizeof s->secret, "%s/secret", s->dir);
  if (write_secret(s->secret) < 0 || (s->port = free_port()) < 0) {
    snprintf(err, errlen, "cannot prepare %s", s->dir);
    return -1;
  }
  s->pid = start_child(s, path, extra, nextra);
  if (s->pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return -1;
  }
  for (int i = 0; i < 1000; i++) { /* 20 s */
    if (log_has_line(s->log, "Switchboard listening"))
      return 0;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = 0;
      snprintf(err, errlen, "server exited (status %d) before listening; see %s",
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), s->log);
      return -1;
    }
    nanosleep(&pause, NULL); /* bounded wait for the server's ready line */
  }
  snprintf(err, errlen, "server did not print its listening line within 20 s; see %s", s->log);
  return -1;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[400];
  if (!d)
    return;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
  rmdir(dir);
}

int sb_bench_server_stop(sb_bench_server_t *s, int keep_files) {
  struct timespec pause = {0, 20 * 1000 * 1000};
  int status = 0, i, done = 0;
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    for (i = 0; i < 250 && !done; i++) { /* 5 s */
      if (waitpid(s->pid, &status, WNOHANG) == s->pid)
        done = 1;
      else
        nanosleep(&pause, NULL);
    }
    if (!done) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
    }
    s->exit_status = status;
    s->pid = 0;
  }
  if (!keep_files && s->dir[0])
    remove_dir(s->dir);
  return done && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int sb_bench_thread_name(pid_t pid, const char *tid, char *name, size_t cap) {
  char path[320];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/task/%.200s/comm", (int)pid, tid);
  if (!(f = fopen(path, "r")))
    return -1;
  if (!fgets(name, (int)cap, f))
    name[0] = '\0';
  fclose(f);
  name[strcspn(name, "\n")] = '\0';
  return 0;
}

int sb_bench_worker_index(const char *comm) {
  static const char prefix[] = SB_BENCH_WORKER_THREAD_PREFIX;
  char *end;
  if (strncmp(comm, prefix, sizeof prefix - 1) != 0)
    return -1;
  const char *digits = comm + sizeof prefix - 1;
  if (*digits < '0' || *digits > '9')
    return -1;
  long i = strtol(digits, &end, 10);
  if ((*end != '\0' && *end != '\n') || i < 0 || i >= SB_BENCH_MAX_SERVER_WORKERS)
    return -1;
  return (int)i;
}

/* Sums of the first and third schedstat fields (ns on CPU, times put on a CPU) over the process's
 * threads, and each relay worker thread's own (out->worker_ns and worker_slices, found by its
 * name). */
static int schedstat_ns(pid_t pid, sb_bench_proc_t *out) {
  char path[64], file[320], comm[32];
  DIR *d;
  struct dirent *e;
  unsigned long long v, slices;
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  if (!(d = opendir(path)))
    return -1;
  out->cpu_ns = 0;
  out->slices = 0;
  out->threads = 0;
  while ((e = readdir(d))) {
    FILE *f;
    int got;
    if (e->d_name[0] == '.')
      continue;
    snprintf(file, sizeof file, "%s/%.200s/schedstat", path, e->d_name);
    if (!(f = fopen(file, "r")))
      continue;
    got = fscanf(f, "%llu %*u %llu", &v, &slices); /* the second field, time waiting, skipped */
    fclose(f);
    if (got < 1)
      continue;
    if (got < 2)
      slices = 0;
    out->cpu_ns += v;
    out->slices += slices;
    out->threads++;
    int w = sb_bench_thread_name(pid, e->d_name, comm, sizeof comm) == 0 ? sb_bench_worker_index(comm) : -1;
    if (w >= 0) {
      out->worker_ns[w] = v ? v : 1;
      out->worker_slices[w] = slices;
      if (w + 1 > out->nworkers)
        out->nworkers = w + 1;
    }
  }
  closedir(d);
  return out->threads > 0 ? 0 : -1;
}

/* One space, then a decimal number; a sign only where the field may be negative (tty_nr, tpgid).
 * Returns the character after the digits, or NULL. */
static const char *stat_number(const char *p, int sign_ok, uint64_t *v) {
  const char *digits;
  uint64_t x = 0;
  if (*p++ != ' ')
    return NULL;
  if (sign_ok && *p == '-')
    p++;
  for (digits = p; *p >= '0' && *p <= '9'; p++) {
    if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
      return NULL;
    x = x * 10 + (uint64_t)(*p - '0');
  }
  if (p == digits)
    return NULL;
  *v = x;
  return p;
}

int sb_bench_proc_stat_parse(const char *text, uint64_t *utime, uint64_t *stime) {
  const char *p = text ? strrchr(text, ')') : NULL;
  uint64_t v = 0, u = 0;
  int field;
  /* field 3, the state: one letter between spaces */
  if (!p || p[1] != ' ' || p[2] == '\0' || p[2] == ' ' || p[3] != ' ')
    return -1;
  p += 3;
  for (field = 4; field <= 15; field++) {
    if (!(p = stat_number(p, field < 14, &v)))
      return -1;
    if (field == 14)
      u = v;
  }
  /* stime must end where its field ends: digits cut off by a truncated read are not a value */
  if (*p != ' ' && *p != '\n')
    return -1;
  *utime = u;
  *stime = v;
  return 0;
}

static int stat_ticks(pid_t pid, uint64_t *ut, uint64_t *st) {
  char path[64], buf[1024];
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (!(f = fopen(path, "r")))
    return -1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return sb_bench_proc_stat_parse(buf, ut, st);
}

void sb_bench_proc_sample(pid_t pid, sb_bench_proc_t *out) {
  char path[64], line[256];
  long hz = sysconf(_SC_CLK_TCK);
  FILE *f;
  memset(out, 0, sizeof *out);
  if (pid <= 0 || stat_ticks(pid, &out->user_ticks, &out->system_ticks) < 0)
    return;
  /* schedstat counts nanoseconds; stat only whole ticks (10 ms), too coarse for one second */
  if (schedstat_ns(pid, out) < 0)
    out->cpu_ns = (out->user_ticks + out->system_ticks) * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if ((f = fopen(path, "r"))) {
    while (fgets(line, sizeof line, f)) {
      unsigned long long v;
      if (sscanf(line, "VmRSS: %llu", &v) == 1)
        out->rss_kib = v;
      else if (sscanf(line, "VmHWM: %llu", &v) == 1)
        out->hwm_kib = v;
    }
    fclose(f);
  }
  out->ok = 1;
}

uint64_t sb_bench_cpustat_busy(const sb_bench_cpustat_t *c) {
  return c->user + c->nice + c->system + c->irq + c->softirq;
}

int sb_bench_cpustat_parse(const char *text, sb_bench_cpustat_t *out) {
  uint64_t v[8] = {0};
  const char *p = text;
  int n;
  /* "cpu" then spaces: the per-core lines ("cpu0 ...") are not the aggregate */
  if (!p || strncmp(p, "cpu ", 4) != 0)
    return -1;
  p += 3;
  while (p[1] == ' ')
    p++;
  for (n = 0; n < 8 && (*p == ' '); n++)
    if (!(p = stat_number(p, 0, &v[n])))
      return -1;
  /* the line must end after a whole number: a value cut by a short read is not a value */
  if (n < 7 || (*p != '\n' && *p != ' '))
    return -1;
  memset(out, 0, sizeof *out);
  out->user = v[0];
  out->nice = v[1];
  out->system = v[2];
  out->idle = v[3];
  out->iowait = v[4];
  out->irq = v[5];
  out->softirq = v[6];
  out->steal = v[7];
  out->ok = 1;
  return 0;
}

void sb_bench_cpustat_sample(sb_bench_cpustat_t *out) {
  char buf[512];
  size_t n;
  FILE *f = fopen("/proc/stat", "r");
  memset(out, 0, sizeof *out);
  if (!f)
    return;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (sb_bench_cpustat_parse(buf, out) < 0)
    memset(out, 0, sizeof *out);
}

void sb_bench_self_cpu(double *user_s, double *sys_s) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  *sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void sb_bench_machine(sb_bench_machine_t *m) {
  struct utsname u;
  char line[256];
  FILE *f;
  memset(m, 0, sizeof *m);
  m->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (uname(&u) == 0)
    snprintf(m->kernel, sizeof m->kernel, "%.40s %.60s %.20s", u.sysname, u.release, u.machine);
  gethostname(m->hostname, sizeof m->hostname - 1);
  if ((f = fopen("/proc/cpuinfo", "r"))) {
    while (fgets(line, sizeof line, f))
      if (strncmp(line, "model name", 10) == 0) {
        char *v = strchr(line, ':');
        if (v) {
          v += 1 + strspn(v + 1, " \t");
          v[strcspn(v, "\n")] = '\0';
          snprintf(m->cpu_model, sizeof m->cpu_model, "%s", v);
        }
        break;
      }
    fclose(f);
  }
}

void sb_bench_versions(void (*fn)(const char *name, const char *version, void *arg), void *arg) {
  char buf[64];
  fn("libsrtp2", srtp_get_version_string(), arg);
  fn("libsrtp2_build", SB_SRTP_BUILD, arg);
  fn("openssl", OpenSSL_version(OPENSSL_VERSION), arg);
  fn("libvpx", vpx_codec_version_str(), arg);
  fn("libopus", opus_get_version_string(), arg);
  fn("libwebsockets", lws_get_library_version(), arg);
  fn("libuv", uv_version_string(), arg);
  snprintf(buf, sizeof buf, "%s", JANSSON_VERSION);
  fn("jansson", buf, arg);
}
