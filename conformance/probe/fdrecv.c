/*
 * fdrecv: host-side helper for the conformance suite. Node cannot receive
 * file descriptors over a UNIX socket, so this small program does it.
 *
 *   fdrecv console SOCK OUT   accept one connection on SOCK (the runtime's
 *                             --console-socket), receive the pty master, write
 *                             {"fds":N,"isatty":B} then copy the terminal output
 *                             into OUT until the pty closes.
 *   fdrecv seccomp SOCK OUT   accept connections on SOCK (a seccomp
 *                             listenerPath); for each one record every message
 *                             (payload, number of fds, socket type) as one JSON
 *                             line in OUT, then close the received fds, which
 *                             makes the notified syscall fail with ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  unlink(path);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0) {
    perror("fdrecv: listen");
    exit(1);
  }
  return s;
}

/* one recvmsg; returns payload length (0 at EOF, -1 on error) and the fds received */
static ssize_t recv_one(int c, char *buf, size_t len, int *fds, int *nfds) {
  char cbuf[CMSG_SPACE(sizeof(int) * 16)];
  struct iovec iov = {buf, len};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
  *nfds = 0;
  if (n < 0) return -1;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
      int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(fds + *nfds, CMSG_DATA(h), sizeof(int) * (size_t)k);
      *nfds += k;
    }
  }
  return n;
}

static void jesc(FILE *f, const char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fdrecv console|seccomp SOCK OUT\n");
    return 2;
  }
  int s = listen_on(argv[2]);
  FILE *out = fopen(argv[3], "a");
  if (!out) return 1;
  setvbuf(out, NULL, _IONBF, 0);

  if (!strcmp(argv[1], "console")) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return 1;
    char buf[4096];
    int fds[16], nfds = 0, total = 0, master = -1;
    for (;;) {
      ssize_t n = recv_one(c, buf, sizeof buf, fds, &nfds);
      if (n <= 0) break;
      total += nfds;
      if (nfds > 0 && master < 0) master = fds[0];
      if (master >= 0) break;
    }
    close(c);
    fprintf(out, "@@FDRECV@@{\"fds\":%d,\"isatty\":%s}\n", total, master >= 0 && isatty(master) ? "true" : "false");
    if (master < 0) return 1;
    for (;;) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break; /* EIO once the last slave fd closes */
      fwrite(buf, 1, (size_t)n, out);
    }
    return 0;
  }

  if (!strcmp(argv[1], "seccomp")) {
    for (int conn = 1; conn <= 16; conn++) {
      int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) return 1;
      int type = 0;
      socklen_t tl = sizeof type;
      getsockopt(c, SOL_SOCKET, SO_TYPE, &type, &tl);
      fprintf(out, "{\"conn\":%d,\"stream\":%s,\"msgs\":[", conn, type == SOCK_STREAM ? "true" : "false");
      static char buf[1 << 16];
      int fds[16], nfds, first = 1, held[64], nheld = 0;
      for (;;) {
        ssize_t n = recv_one(c, buf, sizeof buf, fds, &nfds);
        if (n <= 0) break;
        fprintf(out, "%s{\"fds\":%d,\"payload\":", first ? "" : ",", nfds);
        jesc(out, buf, (size_t)n);
        fputc('}', out);
        first = 0;
        for (int i = 0; i < nfds && nheld < 64; i++) held[nheld++] = fds[i];
      }
      fprintf(out, "],\"closed\":true}\n");
      close(c);
      for (int i = 0; i < nheld; i++) close(held[i]);
    }
    return 0;
  }
  return 2;
}
