/* libtsrun-shim: process creation for tsrun (see ffi/PLAN.md).
 * The child of clone() shares the memory of a multi-threaded JS process: it makes
 * raw syscalls only (no malloc, no stdio, no locks) until execve. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/mount.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define KSIGSET_SIZE 8

struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static long rawsys(long n, long a, long b, long c, long d, long e)
{
	long r = syscall(n, a, b, c, d, e, 0);
	return r < 0 ? -errno : r;
}

static __attribute__((noreturn)) void child_fail(int errfd, int err)
{
	/* errno travels as 4 bytes; the pipe is O_CLOEXEC, so success closes it */
	while (syscall(SYS_write, errfd, &err, sizeof err) < 0 && errno == EINTR)
		;
	for (;;)
		syscall(SYS_exit_group, 127);
}

static __attribute__((noreturn)) void child(int exefd, const char *name, char *const argv[],
					    char *const envp[], const int *keep, int nkeep, int errfd,
					    const long *rlimits, int nrl)
{
	struct ksigaction dfl = { .handler = SIG_DFL };
	unsigned long none = 0;
	long r;
	int i, next;

	for (i = 1; i <= 64; i++)
		if (i != SIGKILL && i != SIGSTOP)
			syscall(SYS_rt_sigaction, i, &dfl, NULL, KSIGSET_SIZE);
	for (i = 0; i < nrl * 3; i += 3) {
		unsigned long rl[2] = { (unsigned long)rlimits[i + 1], (unsigned long)rlimits[i + 2] };
		r = rawsys(SYS_prlimit64, 0, rlimits[i], (long)rl, 0, 0);
		if (r < 0)
			child_fail(errfd, (int)-r);
	}
	/* 0, 1, 2 are the child's stdio even if the JS runtime made them CLOEXEC */
	for (i = 0; i < 3; i++)
		syscall(SYS_fcntl, i, F_SETFD, 0);
	/* keep[] is sorted and includes errfd and exefd; clear CLOEXEC on the caller's fds */
	next = 3;
	for (i = 0; i < nkeep; i++) {
		int fd = keep[i];
		if (fd < 3 || fd < next)
			continue;
		if (fd > next)
			syscall(SYS_close_range, next, fd - 1, 0);
		if (fd != errfd && fd != exefd) {
			r = rawsys(SYS_fcntl, fd, F_SETFD, 0, 0, 0);
			if (r < 0)
				child_fail(errfd, (int)-r);
		}
		next = fd + 1;
	}
	syscall(SYS_close_range, next, ~0U, 0);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, KSIGSET_SIZE);
	r = rawsys(SYS_execveat, exefd, (long)name, (long)argv, (long)envp, *name ? 0 : AT_EMPTY_PATH);
	child_fail(errfd, (int)-r);
}

/*
 * The executable as a container process may see it (/proc/<pid>/exe of tsrun-init, which
 * joins the container; CVE-2019-5736) must never be writable. First choice, free: its
 * directory on a detached, read-only clone of its mount (open_tree + mount_setattr). Once
 * the fds are closed the clone is unmounted: no remount, mount_setattr or bind can make it
 * writable again, so an open(O_WRONLY) through /proc/<pid>/exe or map_files, also after an
 * O_PATH open and a reopen via /proc/self/fd once init has exec'd, fails with EROFS.
 * Without the right to clone a mount (rootless): a sealed memfd copy, which costs the
 * binary's size in shmem per process. Returns an O_CLOEXEC fd; name receives the name to
 * exec relative to it ("" = the fd itself).
 */
static int seal_exe(const char *path, char *name, size_t size)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	/* the real file: a symlink on the way would be followed outside the sealed mount */
	char *real = realpath(path, NULL);
	int fd = -1, src, e;
	struct stat st;
	off_t off = 0;

	if (!real)
		return -errno;
	if (strlen(strrchr(real, '/') + 1) >= size) {
		free(real);
		return -ENAMETOOLONG;
	}
	strcpy(name, strrchr(real, '/') + 1);
	fd = (int)syscall(SYS_open_tree, AT_FDCWD, dirname(real), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	free(real);
	if (fd >= 0) {
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
			return fd;
		close(fd);
	}
	src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || fstat(src, &st) < 0)
		goto fail;
	while (off < st.st_size)
		if (sendfile(fd, src, &off, (size_t)(st.st_size - off)) <= 0)
			goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		goto fail;
	close(src);
	name[0] = 0;
	return fd;
fail:
	e = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	close(src);
	return -e;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

struct child_args {
	int exefd;
	const char *name;
	char *const *argv, *const *envp;
	const int *keep;
	int nkeep, errfd;
	const long *rlimits;
	int nrl;
};

static int child_main(void *p)
{
	const struct child_args *a = p;

	child(a->exefd, a->name, a->argv, a->envp, a->keep, a->nkeep, a->errfd, a->rlimits, a->nrl);
}

#define CHILD_STACK (64 * 1024)

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone3_args {
	unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

/*
 * clone3(), which glibc does not wrap: the child starts on its own stack and calls fn(arg),
 * which must not return (child() ends in execveat or exit_group). Used for CLONE_INTO_CGROUP:
 * the child is born in its cgroup2 cgroup, so no migration (and no wait for the RCU grace
 * period that the first write to a cgroup.procs file costs) is needed.
 */
static long clone3_on_stack(struct clone3_args *args, int (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
	register long r8 __asm__("r8") = (long)fn;
	register long r9 __asm__("r9") = (long)arg;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r9, %%rdi\n\t"
			 "call *%%r8\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $231, %%eax\n\t" /* exit_group, never reached */
			 "syscall\n\t"
			 "1:\n\t"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
#else
	(void)args;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
#endif
}

/* cgroup_fd >= 0: a cgroup2 directory the child is created in (CLONE_INTO_CGROUP); -ENOSYS,
 * -E2BIG or -EINVAL then mean the kernel cannot do that, and the caller places it itself. */
static int spawn_impl(const char *path, char *const argv[], char *const envp[],
		      unsigned long clone_flags, const int *keep_fds, int nkeep,
		      const long *rlimits, int nrl, int cgroup_fd, int seal);

int tsrun_spawn(const char *path, char *const argv[], char *const envp[],
		unsigned long clone_flags, const int *keep_fds, int nkeep,
		const long *rlimits, int nrl, /* nrl = number of triples */
		int cgroup_fd)
{
	return spawn_impl(path, argv, envp, clone_flags, keep_fds, nkeep, rlimits, nrl, cgroup_fd, 1);
}

/* tsrun_spawn for a host helper that never joins a container (criu): exec'd by its path, not
 * through a sealed copy, so that it may also be a script (execveat of an O_CLOEXEC fd cannot
 * run a script: its interpreter could not open it). */
int tsrun_spawn_host(const char *path, char *const argv[], char *const envp[], const int *keep_fds,
		     int nkeep, const long *rlimits, int nrl)
{
	return spawn_impl(path, argv, envp, 0, keep_fds, nkeep, rlimits, nrl, -1, 0);
}

static int spawn_impl(const char *path, char *const argv[], char *const envp[],
		      unsigned long clone_flags, const int *keep_fds, int nkeep,
		      const long *rlimits, int nrl, int cgroup_fd, int seal)
{
	int pfd[2], err = 0, status, *keep, exefd;
	struct child_args a;
	char name[256];
	sigset_t all, old;
	char *stack;
	long pid;
	ssize_t n;

	if (nkeep < 0 || nrl < 0)
		return -EINVAL;
	keep = malloc(sizeof(int) * (size_t)(nkeep + 2));
	if (!keep)
		return -ENOMEM;
	if (seal) {
		exefd = seal_exe(path, name, sizeof name);
		if (exefd < 0) {
			free(keep);
			return exefd;
		}
	} else {
		if (strlen(path) >= sizeof name) {
			free(keep);
			return -ENAMETOOLONG;
		}
		strcpy(name, path);
		exefd = AT_FDCWD;
	}
	stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		free(keep);
		if (exefd >= 0)
			close(exefd);
		return -ENOMEM;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		err = -errno;
		munmap(stack, CHILD_STACK);
		free(keep);
		if (exefd >= 0)
			close(exefd);
		return err;
	}
	if (nkeep)
		memcpy(keep, keep_fds, sizeof(int) * (size_t)nkeep);
	keep[nkeep] = pfd[1];
	keep[nkeep + 1] = exefd;
	qsort(keep, (size_t)nkeep + 2, sizeof(int), cmp_int);
	a = (struct child_args){ exefd, name, argv, envp, keep, nkeep + 2, pfd[1], rlimits, nrl };

	/*
	 * CLONE_VM | CLONE_VFORK, as posix_spawn does: the child borrows our memory on its own
	 * stack until execve, so the kernel copies no page tables of the (large) JS process, and
	 * this thread sleeps until the child has exec'd or failed. No handler of the JS runtime
	 * may run in the child: block everything across clone; the child resets dispositions
	 * before unblocking.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (cgroup_fd >= 0) {
		struct clone3_args ca = {
			.flags = (clone_flags & ~0xffULL) | CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.stack = (unsigned long long)(unsigned long)stack,
			.stack_size = CHILD_STACK,
			.cgroup = (unsigned long long)cgroup_fd,
		};
		pid = clone3_on_stack(&ca, child_main, &a);
	} else
		pid = clone(child_main, stack + CHILD_STACK, (int)((clone_flags & ~0xffUL) | CLONE_VM | CLONE_VFORK | SIGCHLD), &a);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, CHILD_STACK);
	free(keep);
	close(pfd[1]);
	if (exefd >= 0)
		close(exefd);
	if (pid < 0) {
		close(pfd[0]);
		return -err;
	}
	err = 0;
	do
		n = read(pfd[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof err) {
		while (waitpid((pid_t)pid, &status, __WALL) < 0 && errno == EINTR)
			;
		return -(err ? err : EIO);
	}
	return (int)pid;
}

int tsrun_send_fd(int sock, int fd)
{
	char data[1] = { 'F' };
	struct iovec iov = { .iov_base = data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;

	memset(&u, 0, sizeof u);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}


/*
 * One message of a SOCK_SEQPACKET socket (CRIU's RPC) into buf, with the first fd passed along
 * with it (O_CLOEXEC) in *fd, else -1. Returns its length, or -errno (-EMSGSIZE: truncated).
 */
int tsrun_recv_msg(int sock, void *buf, int len, int *fd)
{
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)), i, f;
			for (i = 0; i < nfd; i++) {
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
				if (*fd < 0)
					*fd = f;
				else
					close(f);
			}
		}
	}
	if (msg.msg_flags & MSG_TRUNC) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EMSGSIZE;
	}
	return (int)n;
}

/* Returns the received fd (O_CLOEXEC) or -errno: one message of the console socket, its data ignored. */
int tsrun_recv_fd(int sock)
{
	char data[4096];
	int fd, n = tsrun_recv_msg(sock, data, (int)sizeof data, &fd);

	if (n < 0)
		return n;
	if (fd < 0)
		return n == 0 ? -ECONNRESET : -EBADMSG;
	return fd;
}

/* Foreground wait: forward the usual terminal/control signals to pid until it exits. */
static volatile pid_t fwd_pid;

static void forward(int sig)
{
	int e = errno;
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
	errno = e;
}

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGCONT, SIGWINCH };
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static struct sigaction fwd_old[NFORWARDED];
static int fwd_active;

/* Starts forwarding signals to pid (before the container runs, so none is lost). */
int tsrun_forward_begin(int pid)
{
	struct sigaction sa;
	size_t i;

	fwd_pid = pid;
	if (fwd_active)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, &fwd_old[i]);
	fwd_active = 1;
	return 0;
}

/* Returns the raw wait status, or -errno. Blocks the calling thread; forwards until pid exits. */
int tsrun_wait_forward(int pid)
{
	int status, r;
	size_t i;

	tsrun_forward_begin(pid);
	while ((r = waitpid(pid, &status, __WALL)) < 0 && errno == EINTR)
		;
	r = r < 0 ? -errno : status;
	fwd_pid = 0;
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &fwd_old[i], NULL);
	fwd_active = 0;
	return r;
}
