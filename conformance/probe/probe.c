/*
 * probe: a tiny static program placed in the conformance bundles' rootfs.
 * It reports, as one JSON object on stdout, what the container process sees.
 * It never interprets anything: the test suite decides what is right.
 *
 * usage:
 *   probe report [options]        print the report and exit 0
 *   probe report --pause [opts]   print the report, then wait forever
 *   probe pause                   wait forever (default signal dispositions)
 *   probe signals                 catch every catchable signal; on the first
 *                                 one print {"signal":N} and exit 0
 *   probe exit N                  exit with status N
 * report options (repeatable):
 *   --sysctl NAME     read /proc/sys/NAME (dots become slashes)
 *   --stat PATH       lstat PATH, and try to read one byte from it
 *   --write PATH      try to create/write PATH (a file; for a directory a
 *                     scratch file inside it) and report the errno
 *   --read PATH       read up to 4 KiB of PATH as text
 *   --getpgid N       call getpgid(N) and report the result/errno (seccomp)
 *   --syscall NAME    call a harmless syscall (getcwd, getppid, umask-read,
 *                     mkdir-tmp) and report the result/errno (seccomp)
 *   --dev             list /dev (recursively one level into /dev/pts etc.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sched.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int first;

static void jstr(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    default:
      if (*p < 0x20 || *p >= 0x7f) printf("\\u%04x", *p);
      else putchar(*p);
    }
  }
  putchar('"');
}

static void key(const char *k) {
  if (!first) putchar(',');
  first = 0;
  jstr(k);
  putchar(':');
}

static void kstr(const char *k, const char *v) { key(k); if (v) jstr(v); else fputs("null", stdout); }
static void kint(const char *k, long long v) { key(k); printf("%lld", v); }

/* Read a whole small file; returns malloc'd NUL-terminated text or NULL (errno set). */
static char *slurp(const char *path, size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (len == cap) {
      if (cap >= max) break;
      cap *= 2;
      buf = realloc(buf, cap + 1);
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) { int e = errno; close(fd); free(buf); errno = e; return NULL; }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  return buf;
}

static void kfile(const char *k, const char *path) {
  char *s = slurp(path, 1 << 20);
  if (s) { kstr(k, s); free(s); }
  else kstr(k, NULL);
}

static const char *errname(int e) {
  switch (e) {
  case 0: return "OK";
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case ESRCH: return "ESRCH";
  case EIO: return "EIO";
  case EBADF: return "EBADF";
  case EACCES: return "EACCES";
  case EEXIST: return "EEXIST";
  case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR";
  case EINVAL: return "EINVAL";
  case ENOSPC: return "ENOSPC";
  case EROFS: return "EROFS";
  case ENOSYS: return "ENOSYS";
  case ENXIO: return "ENXIO";
  case ENODEV: return "ENODEV";
  case EAGAIN: return "EAGAIN";
  case ENOTTY: return "ENOTTY";
  case ETXTBSY: return "ETXTBSY";
  default: {
    static char buf[32];
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
  }
  }
}

static void status_field(const char *status, const char *name, const char *k) {
  char pat[64];
  snprintf(pat, sizeof pat, "\n%s:", name);
  const char *p = status ? strstr(status, pat) : NULL;
  if (!p) { kstr(k, NULL); return; }
  p += strlen(pat);
  while (*p == ' ' || *p == '\t') p++;
  const char *e = strchr(p, '\n');
  char val[256];
  size_t n = e ? (size_t)(e - p) : strlen(p);
  if (n >= sizeof val) n = sizeof val - 1;
  memcpy(val, p, n);
  val[n] = 0;
  kstr(k, val);
}

static const struct { const char *name; int res; } rlims[] = {
  {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_DATA", RLIMIT_DATA},
  {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

static void rlimval(unsigned long long v) {
  if (v == (unsigned long long)RLIM_INFINITY) fputs("\"unlimited\"", stdout);
  else printf("\"%llu\"", v);
}

static void stat_obj(const char *path) {
  struct stat st;
  putchar('{');
  first = 1;
  kstr("path", path);
  if (lstat(path, &st) != 0) {
    kstr("error", errname(errno));
    putchar('}');
    return;
  }
  const char *t = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink"
                : S_ISCHR(st.st_mode) ? "char" : S_ISBLK(st.st_mode) ? "block" : S_ISFIFO(st.st_mode) ? "fifo"
                : S_ISSOCK(st.st_mode) ? "socket" : "other";
  kstr("type", t);
  kint("mode", st.st_mode & 07777);
  kint("uid", st.st_uid);
  kint("gid", st.st_gid);
  kint("major", major(st.st_rdev));
  kint("minor", minor(st.st_rdev));
  kint("dev_major", major(st.st_dev));
  kint("dev_minor", minor(st.st_dev));
  kint("ino", (long long)st.st_ino);
  kint("size", (long long)st.st_size);
  if (S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n >= 0) { buf[n] = 0; kstr("target", buf); }
  }
  /* readability: open and read one byte (directories: opendir) */
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    int entries = 0;
    if (d) { struct dirent *de; while ((de = readdir(d))) if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) entries++; closedir(d); kstr("read", "OK"); kint("entries", entries); }
    else kstr("read", errname(errno));
  } else if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) kstr("read", errname(errno));
    else {
      char c;
      ssize_t n = read(fd, &c, 1);
      kstr("read", n < 0 ? errname(errno) : "OK");
      kint("readbytes", n < 0 ? -1 : n);
      close(fd);
    }
  }
  putchar('}');
}

static void write_obj(const char *path) {
  struct stat st;
  char target[PATH_MAX];
  int isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
  if (isdir) snprintf(target, sizeof target, "%s/.probe-write-%d", path, (int)getpid());
  else snprintf(target, sizeof target, "%s", path);
  putchar('{');
  first = 1;
  kstr("path", path);
  int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (isdir ? O_EXCL : 0), 0644);
  if (fd < 0) { kstr("result", errname(errno)); putchar('}'); return; }
  ssize_t n = write(fd, "x", 1);
  kstr("result", n < 0 ? errname(errno) : "OK");
  close(fd);
  if (isdir) unlink(target);
  putchar('}');
}

static void dev_list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
    putchar(',');
    /* stat_obj resets `first`; keep the array form simple */
    struct stat st;
    putchar('{');
    first = 1;
    kstr("path", p);
    if (lstat(p, &st) == 0) {
      const char *t = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink"
                    : S_ISCHR(st.st_mode) ? "char" : S_ISBLK(st.st_mode) ? "block" : S_ISFIFO(st.st_mode) ? "fifo" : "other";
      kstr("type", t);
      kint("mode", st.st_mode & 07777);
      kint("uid", st.st_uid);
      kint("gid", st.st_gid);
      kint("major", major(st.st_rdev));
      kint("minor", minor(st.st_rdev));
      if (S_ISLNK(st.st_mode)) {
        char buf[PATH_MAX];
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n >= 0) { buf[n] = 0; kstr("target", buf); }
      }
    }
    putchar('}');
  }
  closedir(d);
}

static void do_syscall(const char *name) {
  long r;
  errno = 0;
  if (!strcmp(name, "getcwd")) { char b[PATH_MAX]; r = syscall(SYS_getcwd, b, sizeof b); }
  else if (!strcmp(name, "getppid")) r = syscall(SYS_getppid);
  else if (!strcmp(name, "mkdir-tmp")) { r = syscall(SYS_mkdir, "/tmp/.probe-mkdir", 0755); if (r == 0) rmdir("/tmp/.probe-mkdir"); }
  else if (!strcmp(name, "getpriority")) r = syscall(SYS_getpriority, PRIO_PROCESS, 0);
  else { r = -1; errno = EINVAL; }
  putchar('{');
  first = 1;
  kstr("name", name);
  kint("ret", r);
  kstr("errno", r < 0 ? errname(errno) : "OK");
  putchar('}');
}

static volatile sig_atomic_t got;
static void on_sig(int s) { got = s; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "report";

  if (!strcmp(mode, "pause")) {
    for (;;) pause();
  }
  if (!strcmp(mode, "exit")) return argc > 2 ? atoi(argv[2]) : 0;
  if (!strcmp(mode, "signals")) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Announce readiness so the suite sends the signal only after handlers exist. */
    printf("{\"ready\":true}\n");
    fflush(stdout);
    while (!got) pause();
    printf("{\"signal\":%d}\n", (int)got);
    fflush(stdout);
    return 0;
  }
  if (strcmp(mode, "report")) { fprintf(stderr, "probe: unknown mode %s\n", mode); return 2; }

  int do_pause = 0;
  for (int i = 2; i < argc; i++) if (!strcmp(argv[i], "--pause")) do_pause = 1;

  /* Everything is written in one block with a marker so the suite can find it
   * among whatever else reaches the same stdout file. */
  fputs("@@PROBE@@{", stdout);
  first = 1;
  kint("pid", getpid());
  kint("ppid", getppid());
  kint("uid", getuid());
  kint("gid", getgid());
  kint("euid", geteuid());
  kint("egid", getegid());
  {
    gid_t g[256];
    int n = getgroups(256, g);
    key("groups");
    putchar('[');
    for (int i = 0; i < n; i++) printf("%s%u", i ? "," : "", (unsigned)g[i]);
    putchar(']');
  }
  char *status = slurp("/proc/self/status", 1 << 16);
  if (status) {
    /* strstr needs a leading newline for the first field; Name: is first anyway */
    status_field(status, "Umask", "umask");
    status_field(status, "CapInh", "capInh");
    status_field(status, "CapPrm", "capPrm");
    status_field(status, "CapEff", "capEff");
    status_field(status, "CapBnd", "capBnd");
    status_field(status, "CapAmb", "capAmb");
    status_field(status, "NoNewPrivs", "noNewPrivs");
    status_field(status, "Seccomp", "seccomp");
    status_field(status, "Seccomp_filters", "seccompFilters");
    status_field(status, "SigIgn", "sigIgn");
    status_field(status, "SigBlk", "sigBlk");
    status_field(status, "Cpus_allowed_list", "cpusAllowed");
    free(status);
  }
  struct utsname u;
  if (uname(&u) == 0) {
    kstr("hostname", u.nodename);
    kstr("domainname", u.domainname);
    kstr("machine", u.machine);
  }
  {
    char cwd[PATH_MAX];
    kstr("cwd", getcwd(cwd, sizeof cwd));
  }
  {
    extern char **environ;
    key("env");
    putchar('[');
    for (char **e = environ; *e; e++) { if (e != environ) putchar(','); jstr(*e); }
    putchar(']');
    key("args");
    putchar('[');
    for (int i = 0; i < argc; i++) { if (i) putchar(','); jstr(argv[i]); }
    putchar(']');
  }
  key("rlimits");
  putchar('{');
  for (size_t i = 0; i < sizeof rlims / sizeof rlims[0]; i++) {
    struct rlimit r;
    if (i) putchar(',');
    jstr(rlims[i].name);
    if (getrlimit(rlims[i].res, &r) != 0) { fputs(":null", stdout); continue; }
    fputs(":{\"soft\":", stdout);
    rlimval(r.rlim_cur);
    fputs(",\"hard\":", stdout);
    rlimval(r.rlim_max);
    putchar('}');
  }
  putchar('}');
  first = 0;
  kfile("oomScoreAdj", "/proc/self/oom_score_adj");
  kint("personality", personality(0xffffffff));
  kint("nice", getpriority(PRIO_PROCESS, 0));
  kint("schedPolicy", sched_getscheduler(0));
  kint("ioprio", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
  key("ns");
  putchar('{');
  {
    const char *nss[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"};
    for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++) {
      char p[64], buf[128];
      snprintf(p, sizeof p, "/proc/self/ns/%s", nss[i]);
      ssize_t n = readlink(p, buf, sizeof buf - 1);
      if (i) putchar(',');
      jstr(nss[i]);
      putchar(':');
      if (n < 0) fputs("null", stdout);
      else { buf[n] = 0; jstr(buf); }
    }
  }
  putchar('}');
  first = 0;
  kfile("mountinfo", "/proc/self/mountinfo");
  kfile("cgroup", "/proc/self/cgroup");
  kfile("uidMap", "/proc/self/uid_map");
  kfile("gidMap", "/proc/self/gid_map");
  kfile("setgroups", "/proc/self/setgroups");
  kfile("timensOffsets", "/proc/self/timens_offsets");
  {
    struct timespec m, b;
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_BOOTTIME, &b);
    key("clocks");
    printf("{\"monotonic\":%lld,\"boottime\":%lld}", (long long)m.tv_sec, (long long)b.tv_sec);
  }
  {
    key("tty");
    struct winsize ws;
    int has = ioctl(1, TIOCGWINSZ, &ws) == 0;
    printf("{\"stdin\":%s,\"stdout\":%s,\"stderr\":%s", isatty(0) ? "true" : "false", isatty(1) ? "true" : "false", isatty(2) ? "true" : "false");
    first = 0;
    kstr("name", ttyname(0));
    if (has) { kint("rows", ws.ws_row); kint("cols", ws.ws_col); }
    putchar('}');
  }
  {
    key("fds");
    putchar('{');
    DIR *d = opendir("/proc/self/fd");
    int dfd = d ? dirfd(d) : -1;
    int firstfd = 1;
    struct dirent *de;
    while (d && (de = readdir(d))) {
      if (de->d_name[0] == '.' || atoi(de->d_name) == dfd) continue;
      char p[300], buf[PATH_MAX];
      snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
      ssize_t n = readlink(p, buf, sizeof buf - 1);
      buf[n < 0 ? 0 : n] = 0;
      if (!firstfd) putchar(',');
      firstfd = 0;
      jstr(de->d_name);
      putchar(':');
      jstr(buf);
    }
    if (d) closedir(d);
    putchar('}');
  }
  first = 0;
  /* option-driven parts */
  key("sysctl"); putchar('{');
  {
    int f = 1;
    for (int i = 2; i + 1 < argc; i++) if (!strcmp(argv[i], "--sysctl")) {
      char p[PATH_MAX] = "/proc/sys/";
      size_t l = strlen(p);
      for (const char *s = argv[i + 1]; *s && l < sizeof p - 1; s++) p[l++] = *s == '.' ? '/' : *s;
      p[l] = 0;
      char *v = slurp(p, 65536);
      if (!f) putchar(',');
      f = 0;
      jstr(argv[i + 1]);
      putchar(':');
      if (v) { size_t n = strlen(v); while (n && v[n - 1] == '\n') v[--n] = 0; jstr(v); free(v); }
      else fputs("null", stdout);
    }
  }
  putchar('}');
  first = 0;
  key("stat"); putchar('[');
  { int f = 1; for (int i = 2; i + 1 < argc; i++) if (!strcmp(argv[i], "--stat")) { if (!f) putchar(','); f = 0; stat_obj(argv[i + 1]); } }
  putchar(']');
  first = 0;
  key("write"); putchar('[');
  { int f = 1; for (int i = 2; i + 1 < argc; i++) if (!strcmp(argv[i], "--write")) { if (!f) putchar(','); f = 0; write_obj(argv[i + 1]); } }
  putchar(']');
  first = 0;
  key("read"); putchar('{');
  {
    int f = 1;
    for (int i = 2; i + 1 < argc; i++) if (!strcmp(argv[i], "--read")) {
      char *v = slurp(argv[i + 1], 4096);
      int e = errno;
      if (!f) putchar(',');
      f = 0;
      jstr(argv[i + 1]);
      putchar(':');
      if (v) { printf("{\"ok\":true,\"text\":"); jstr(v); putchar('}'); free(v); }
      else printf("{\"ok\":false,\"errno\":\"%s\"}", errname(e));
    }
  }
  putchar('}');
  first = 0;
  key("getpgid"); putchar('[');
  {
    int f = 1;
    for (int i = 2; i + 1 < argc; i++) if (!strcmp(argv[i], "--getpgid")) {
      errno = 0;
      long r = syscall(SYS_getpgid, atol(argv[i + 1]));
      if (!f) putchar(',');
      f = 0;
      printf("{\"arg\":%ld,\"ret\":%ld,\"errno\":\"%s\"}", atol(argv[i + 1]), r, r < 0 ? errname(errno) : "OK");
    }
  }
  putchar(']');
  first = 0;
  key("syscalls"); putchar('[');
  { int f = 1; for (int i = 2; i + 1 < argc; i++) if (!strcmp(argv[i], "--syscall")) { if (!f) putchar(','); f = 0; do_syscall(argv[i + 1]); } }
  putchar(']');
  first = 0;
  {
    int want = 0;
    for (int i = 2; i < argc; i++) if (!strcmp(argv[i], "--dev")) want = 1;
    if (want) {
      key("dev");
      fputs("[{\"path\":\"/dev\"}", stdout);
      dev_list("/dev");
      dev_list("/dev/pts");
      putchar(']');
    }
  }
  fputs("}@@END@@\n", stdout);
  fflush(stdout);
  if (do_pause) for (;;) pause();
  return 0;
}
