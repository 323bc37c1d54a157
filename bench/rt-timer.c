// rt-timer: stands in for a runtime under an engine (podman, containerd) and records each call.
// Copied as DIR/NAME beside DIR/NAME.conf:
//   line 1: the real runtime's path
//   line 2: the log file; each call appends "wall_us utime_us stime_us maxrss_kb status ARGS..."
//   line 3 (optional): "hide-cgroup2": run the runtime in a private mount namespace without
//           /sys/fs/cgroup/unified (crun 1.8 on this hybrid host, as bench-exec -n), set up
//           before the clock starts
// The time is taken around fork+execve+wait4 of the real runtime only, so what the engine
// spends on a call and what the runtime spends are told apart. Static and small: its own
// start costs the engine ~0.3 ms per call, the same for every runtime.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void strip(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}

int main(int argc, char **argv) {
  char self[PATH_MAX], conf[PATH_MAX + 8];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) { perror("rt-timer: /proc/self/exe"); return 125; }
  self[n] = 0;
  snprintf(conf, sizeof conf, "%s.conf", self);
  FILE *f = fopen(conf, "r");
  if (!f) { fprintf(stderr, "rt-timer: %s: %s\n", conf, strerror(errno)); return 125; }
  char real[PATH_MAX] = "", log[PATH_MAX] = "", opt[64] = "";
  if (!fgets(real, sizeof real, f) || !fgets(log, sizeof log, f)) { fprintf(stderr, "rt-timer: %s: runtime and log lines needed\n", conf); return 125; }
  if (!fgets(opt, sizeof opt, f)) opt[0] = 0;
  fclose(f);
  strip(real);
  strip(log);
  strip(opt);
  if (strcmp(opt, "hide-cgroup2") == 0) {
    if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) { perror("rt-timer: mount namespace"); return 125; }
    if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) && errno != EINVAL && errno != ENOENT) { perror("rt-timer: umount unified"); return 125; }
  }
  argv[0] = real;
  struct sigaction sa = {0};
  sa.sa_handler = forward;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  long long t0 = now_us();
  child = fork();
  if (child < 0) { perror("rt-timer: fork"); return 125; }
  if (child == 0) {
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    execv(real, argv);
    fprintf(stderr, "rt-timer: exec %s: %s\n", real, strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(child, &status, 0, &ru) < 0) {
    if (errno != EINTR) { perror("rt-timer: wait4"); return 125; }
  }
  long long wall = now_us() - t0;
  char line[8192];
  int len = snprintf(line, sizeof line, "%lld %lld %lld %ld %d", wall,
                     (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
                     (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
  for (int i = 1; i < argc && len < (int)sizeof line - 2; i++) len += snprintf(line + len, sizeof line - len, " %s", argv[i]);
  if (len > (int)sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, line, len) < 0) { /* the measurement is lost, the call is not */ }
    close(fd);
  }
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
