// bench-exec: run one command and report its wall time and rusage, measured
// around vfork()+execve()+wait4() only (none of the caller's spawn cost).
//
//   bench-exec -o RESULT [-t SECONDS] [-n] [-c CGROUP_PROCS] [-p NICE] -- COMMAND ARGS...
//
// RESULT gets one line: "status signal wall_us maxrss_kb utime_us stime_us".
// status is the exit status (-1 when killed), signal the killing signal (0 if none).
//
// -n  runs COMMAND in a mount namespace of its own without /sys/fs/cgroup/unified
//     (crun 1.8 refuses this hybrid-cgroup host otherwise; the same workaround as
//     conformance/runtimes/crun-hybrid.sh). It is set up before the clock starts,
//     so crun is timed alone, not with the wrapper's unshare/sh/umount.
// -t  kills COMMAND with SIGKILL after SECONDS.
// -p  runs COMMAND at this nice value (the bench uses -20: on a shared machine
//     other work then delays the timed commands much less).
// -c  first moves this process into a cgroup (writes its pid to the cgroup.procs
//     file given), so COMMAND's memory is charged there (the density batch).
//
// Static and small on purpose: ru_maxrss of the child also covers the pages it
// shared with this process before execve (vfork), which must stay negligible.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

static volatile pid_t child;
static const char *result;

static void on_alarm(int sig) {
  (void)sig;
  if (child > 0) kill(child, SIGKILL);
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int hide_cgroup2(void) {
  if (unshare(CLONE_NEWNS) != 0) return -1;
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) return -1;
  if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -1;
  return 0;
}

static int join_cgroup(const char *procs) {
  char buf[32];
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int n = snprintf(buf, sizeof buf, "%d", (int)getpid());
  int r = write(fd, buf, (size_t)n) == n ? 0 : -1;
  close(fd);
  return r;
}

int main(int argc, char **argv) {
  unsigned timeout = 0;
  const char *cgroup = NULL;
  int hide = 0, opt, nice_set = 0, nice_value = 0;
  while ((opt = getopt(argc, argv, "+o:t:nc:p:")) != -1) {
    switch (opt) {
      case 'o': result = optarg; break;
      case 't': timeout = (unsigned)atoi(optarg); break;
      case 'n': hide = 1; break;
      case 'c': cgroup = optarg; break;
      case 'p': nice_set = 1; nice_value = atoi(optarg); break;
      default: goto usage;
    }
  }
  if (!result || optind >= argc) goto usage;
  if (cgroup && join_cgroup(cgroup) != 0) {
    fprintf(stderr, "bench-exec: joining %s: %s\n", cgroup, strerror(errno));
    return 125;
  }
  if (hide && hide_cgroup2() != 0) {
    fprintf(stderr, "bench-exec: hiding /sys/fs/cgroup/unified: %s\n", strerror(errno));
    return 125;
  }
  if (nice_set && setpriority(PRIO_PROCESS, 0, nice_value) != 0) {
    fprintf(stderr, "bench-exec: setpriority %d: %s\n", nice_value, strerror(errno));
    return 125;
  }
  if (timeout) {
    signal(SIGALRM, on_alarm);
    alarm(timeout);
  }
  long long t0 = now_us();
  pid_t pid = vfork();
  if (pid < 0) {
    perror("bench-exec: vfork");
    return 125;
  }
  if (pid == 0) {
    execvp(argv[optind], argv + optind);
    _exit(127);
  }
  child = pid;
  int st;
  struct rusage ru;
  pid_t w;
  do w = wait4(pid, &st, 0, &ru);
  while (w < 0 && errno == EINTR);
  long long t1 = now_us();
  if (w < 0) {
    perror("bench-exec: wait4");
    return 125;
  }
  FILE *f = fopen(result, "w");
  if (!f) {
    perror("bench-exec: result file");
    return 125;
  }
  fprintf(f, "%d %d %lld %ld %lld %lld\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
          t1 - t0, ru.ru_maxrss,
          (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
          (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec);
  fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
usage:
  fprintf(stderr, "usage: bench-exec -o RESULT [-t SECONDS] [-n] [-c CGROUP_PROCS] [-p NICE] -- COMMAND ARGS...\n");
  return 125;
}
