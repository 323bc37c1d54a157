/* The ops of the launch plan, one function each (see ffi/PLAN.md). Each returns
 * 0, or -1 after fail(errno, detail). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../plan.h"
#include "init.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define LOCKABLE (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME)

static char *exe_path;     /* LOOKUP result */
static long forked_pid;    /* set by FORK: this process's pid as the runtime knows it */
static int umask_done;     /* UMASK ran; else EXEC restores the caller's umask */
static mode_t caller_umask;
static int umask_saved;

#define I(n) (r->ints[n])
#define S(n) (r->strs[n])
#define NEED(ni, ns)                                                 \
	do {                                                         \
		if (r->nint < (ni) || r->nstr < (ns))                \
			return fail(EINVAL, "malformed op %u", r->op); \
	} while (0)

int op_setns(const struct rec *r)
{
	int fd;

	NEED(1, 1);
	fd = open(S(0), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "%s", S(0));
	if (setns(fd, (int)I(0)) < 0) {
		int e = errno;
		close(fd);
		return fail(e, "%s", S(0));
	}
	close(fd);
	return 0;
}

int op_unshare(const struct rec *r)
{
	NEED(1, 0);
	if (unshare((int)I(0)) < 0)
		return fail(errno, "0x%llx", (unsigned long long)I(0));
	return 0;
}

int op_sync(const struct rec *r)
{
	NEED(1, 0);
	if (send_line("S %c\n", (char)I(0)) < 0)
		_exit(1);
	return wait_answer();
}

int op_fork(const struct rec *r)
{
	int go[2];
	long pid;
	ssize_t n;

	(void)r;
	/* the child waits until "P <pid>" is out: the parent must learn the pid before any later
	 * message of the child (S, R) shares the pipe with it; the go message is that pid, which
	 * the child (maybe pid 1 of a new pid namespace) cannot learn otherwise */
	if (pipe2(go, O_CLOEXEC) < 0)
		return fail(errno, "pipe");
	pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		int e = errno;
		close(go[0]);
		close(go[1]);
		return fail(e, "clone");
	}
	if (pid > 0) {
		close(go[0]);
		send_line("P %ld\n", pid);
		while (write(go[1], &pid, sizeof pid) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(go[1]);
	while ((n = read(go[0], &forked_pid, sizeof forked_pid)) < 0 && errno == EINTR)
		;
	close(go[0]);
	if (n != (ssize_t)sizeof forked_pid)
		_exit(1);
	return 0;
}

/*
 * A state JSON the plan gives with the byte 0x01 (never raw in JSON text) where the container
 * process's pid goes, because it was only known after a FORK: a malloc'd copy with that pid
 * (*out, *outlen), or 0 with *out = NULL when there is no such byte. -1 on ENOMEM.
 */
static int with_pid(const char *s, size_t len, char **out, size_t *outlen)
{
	char num[24];
	size_t i, n = 0, k, marks = 0;
	char *buf;

	*out = NULL;
	for (i = 0; i < len; i++)
		marks += s[i] == 1;
	if (!marks)
		return 0;
	k = (size_t)snprintf(num, sizeof num, "%ld", forked_pid ? forked_pid : (long)getpid());
	buf = malloc(len + marks * k + 1);
	if (!buf)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == 1) {
			memcpy(buf + n, num, k);
			n += k;
		} else
			buf[n++] = s[i];
	}
	buf[n] = 0;
	*out = buf;
	*outlen = n;
	return 0;
}

/* /proc/self/setgroups says "deny" (setgroups(2) is not allowed in this user ns) */
static int setgroups_denied(void)
{
	char buf[8] = { 0 };
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof buf - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strncmp(buf, "deny", 4);
}

int op_set_root_ids(const struct rec *r)
{
	(void)r;
	/* EPERM: setgroups is denied in this user ns (/proc/self may not show it yet after setns) */
	if (!setgroups_denied() && setgroups(0, NULL) < 0 && errno != EPERM)
		return fail(errno, "setgroups");
	if (setresgid(0, 0, 0) < 0)
		return fail(errno, "setresgid 0");
	if (setresuid(0, 0, 0) < 0)
		return fail(errno, "setresuid 0");
	return 0;
}

/*
 * Our fd directory in the host's procfs, opened while it is still reachable: WAIT_START reopens
 * the exec fifo through it, whatever the container later mounts or masks at /proc.
 */
static int self_fd_dir = -1;

int op_rootfs(const struct rec *r)
{
	int e;

	NEED(0, 1);
	if (self_fd_dir < 0)
		self_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	e = root_set(S(0));
	return e < 0 ? fail(-e, "%s", S(0)) : 0;
}

static unsigned long mnt_locked_flags(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return 0;
	return sv.f_flag & LOCKABLE;
}

/* remount a bind mount with flags; in a user ns, flags the kernel locked
 * (nosuid, nodev, ...) must be kept, so retry with them on EPERM */
static int bind_remount(const char *path, unsigned long flags)
{
	if (mount(NULL, path, NULL, flags | MS_REMOUNT | MS_BIND, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	if (mount(NULL, path, NULL, flags | MS_REMOUNT | MS_BIND | mnt_locked_flags(path), NULL) == 0)
		return 0;
	return -errno;
}

int op_mount(const struct rec *r)
{
	unsigned long flags, prop, main_flags;
	const char *src, *fstype, *data;
	int p = plain(r), e, keep_mode = -1;
	struct target t;

	NEED(3, 4);
	flags = (unsigned long)I(0);
	src = r->lens[0] ? S(0) : NULL;
	fstype = r->lens[2] ? S(2) : NULL;
	data = r->lens[3] ? S(3) : NULL;
	if (I(1) == 3) { /* as 1; a directory that was there lends its mode to the new mount */
		struct stat st;

		e = xopen(p, S(1), O_PATH | O_DIRECTORY, 0);
		if (e >= 0) {
			if (fstat(e, &st) == 0)
				keep_mode = (int)(st.st_mode & 07777);
			close(e);
		}
	}
	if (I(1) == 1 || I(1) == 3) {
		e = mkdir_p(p, S(1), (mode_t)(I(2) ? I(2) : 0755));
		if (e < 0)
			return fail(-e, "%s", S(1));
		close(e);
	} else if (I(1) == 2) {
		e = create_file(p, S(1), (mode_t)(I(2) ? I(2) : 0644));
		if (e < 0)
			return fail(-e, "%s", S(1));
	}
	/* procfs and sysfs only on an ordinary directory (runc): a symlink there could move them */
	resolve_no_symlinks = (r->flags & F_NO_SYMLINKS) != 0;
	e = target_open(p, S(1), &t);
	resolve_no_symlinks = 0;
	if (e == -ELOOP && (r->flags & F_NO_SYMLINKS))
		return fail(0, "%s must be mounted on ordinary directory", S(1));
	if (e < 0)
		return fail(-e, "%s", S(1));
	prop = flags & PROPAGATION;
	main_flags = flags & ~PROPAGATION;
	if (!prop || (main_flags & ~(unsigned long)MS_REC)) {
		if (mount(src, t.path, fstype, main_flags, data) < 0) {
			e = errno;
			goto fail;
		}
		if (keep_mode >= 0 && ((e = target_reopen(p, S(1), &t)) < 0 ||
				       (chmod(t.path, (mode_t)keep_mode) < 0 && (e = -errno)))) {
			e = -e;
			goto fail;
		}
		if ((flags & MS_BIND) && !(flags & MS_REMOUNT) &&
		    (main_flags & ~(unsigned long)(MS_BIND | MS_REC | MS_SILENT))) {
			if ((e = target_reopen(p, S(1), &t)) < 0 ||
			    (e = bind_remount(t.path, main_flags & ~(unsigned long)MS_REC)) < 0) {
				e = -e;
				goto fail;
			}
		}
		if (prop && (e = target_reopen(p, S(1), &t)) < 0) {
			e = -e;
			goto fail;
		}
	}
	if (prop && mount(NULL, t.path, NULL, prop | (flags & MS_REC), NULL) < 0) {
		e = errno;
		goto fail;
	}
	target_close(&t);
	if (p)
		root_reopen(); /* the mount may cover the rootfs */
	return 0;
fail:
	target_close(&t);
	return fail(e, "%s", S(1));
}

int op_mount_setattr(const struct rec *r)
{
	struct mount_attr attr = { 0 };
	int e, fd;

	NEED(4, 1);
	attr.attr_set = (uint64_t)I(0);
	attr.attr_clr = (uint64_t)I(1);
	attr.propagation = (uint64_t)I(2);
	fd = xopen(plain(r), S(0), O_PATH, 0);
	if (fd < 0)
		return fail(-fd, "%s", S(0));
	e = (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (I(3) ? AT_RECURSIVE : 0),
			 &attr, sizeof attr);
	e = e < 0 ? errno : 0;
	close(fd);
	return e ? fail(e, "%s", S(0)) : 0;
}

/* An idmapped bind mount: a detached clone of the source, mapped through a user ns, moved in place. */
int op_idmap_mount(const struct rec *r)
{
	struct mount_attr attr = { 0 };
	unsigned int rec;
	int p = plain(r), e, tree, dst;

	NEED(4, 2);
	rec = I(1) ? AT_RECURSIVE : 0;
	if (I(2) == 1 || I(2) == 2) {
		e = I(2) == 1 ? mkdir_p(p, S(1), (mode_t)(I(3) ? I(3) : 0755))
			      : create_file(p, S(1), (mode_t)(I(3) ? I(3) : 0644));
		if (e < 0)
			return fail(-e, "%s", S(1));
		if (I(2) == 1)
			close(e);
	}
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, S(0), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		return fail(errno, "open_tree %s", S(0));
	attr.attr_set = MOUNT_ATTR_IDMAP;
	attr.userns_fd = (uint64_t)I(0);
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0) {
		e = errno;
		close(tree);
		return fail(e, "idmap %s", S(0));
	}
	dst = xopen(p, S(1), O_PATH, 0);
	if (dst < 0) {
		close(tree);
		return fail(-dst, "%s", S(1));
	}
	e = (int)syscall(SYS_move_mount, tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	e = e < 0 ? errno : 0;
	close(dst);
	close(tree);
	if (e)
		return fail(e, "%s", S(1));
	if (p)
		root_reopen();
	return 0;
}

int op_mkdir(const struct rec *r)
{
	int fd;

	NEED(1, 1);
	fd = mkdir_p(plain(r), S(0), (mode_t)I(0));
	if (fd < 0)
		return fail(-fd, "%s", S(0));
	close(fd);
	return 0;
}

int op_mknod(const struct rec *r)
{
	const char *name;
	struct stat st;
	int dfd, e = 0;

	NEED(4, 1);
	dfd = open_parent(plain(r), S(0), 0755, &name);
	if (dfd < 0)
		return fail(-dfd, "%s", S(0));
	/* config-linux.md: a file that exists at path but is not the requested device is an
	 * error; the same device is made again (its mode and owner as configured) */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    ((st.st_mode & S_IFMT) != ((mode_t)I(0) & S_IFMT) ||
	     (!S_ISFIFO(st.st_mode) && st.st_rdev != (dev_t)I(1)))) {
		close(dfd);
		return fail(0, "a different file exists at this path");
	}
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		e = errno;
	else if (mknodat(dfd, name, (mode_t)I(0), (dev_t)I(1)) < 0)
		e = errno;
	else if (fchmodat(dfd, name, (mode_t)I(0) & 07777, 0) < 0)
		e = errno;
	else if (fchownat(dfd, name, (uid_t)I(2), (gid_t)I(3), AT_SYMLINK_NOFOLLOW) < 0)
		e = errno;
	close(dfd);
	return e ? fail(e, "%s", S(0)) : 0;
}

int op_symlink(const struct rec *r)
{
	const char *name;
	int dfd, e = 0;

	NEED(0, 2);
	dfd = open_parent(plain(r), S(1), 0755, &name);
	if (dfd < 0)
		return fail(-dfd, "%s", S(1));
	if (symlinkat(S(0), dfd, name) < 0 && errno != EEXIST)
		e = errno;
	close(dfd);
	return e ? fail(e, "%s", S(1)) : 0;
}

int op_chown(const struct rec *r)
{
	int fd, e = 0;

	NEED(2, 1);
	fd = xopen(plain(r), S(0), O_PATH, 0);
	if (fd < 0)
		return fail(-fd, "%s", S(0));
	if (fchownat(fd, "", (uid_t)I(0), (gid_t)I(1), AT_EMPTY_PATH) < 0)
		e = errno;
	close(fd);
	return e ? fail(e, "%s", S(0)) : 0;
}

/*
 * Like runc (reOpenDevNull): stdio that is the host's /dev/null is reopened from the
 * container's own /dev/null once the root is switched, so that no fd of the container points
 * into a mount outside it (CRIU cannot dump such a file). Best effort: no /dev/null, no change.
 */
static void reopen_dev_null(void)
{
	struct stat st, null_st;
	int fd, i;

	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &null_st) == 0 && S_ISCHR(null_st.st_mode) && null_st.st_rdev == makedev(1, 3)) {
		for (i = 0; i < 3; i++)
			if (fstat(i, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev &&
			    (st.st_dev != null_st.st_dev || st.st_ino != null_st.st_ino))
				dup3(fd, i, 0);
	}
	close(fd);
}

int op_pivot_root(const struct rec *r)
{
	const char *root = root_path();

	(void)r;
	if (!root)
		return fail(EINVAL, "no rootfs");
	if (chdir(root) < 0)
		return fail(errno, "%s", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(errno, "%s", root);
	/*
	 * No "make . rslave" here (runc does it): "." is still the new root, so it would undo the
	 * propagation of every mount in it. The plan made the tree slave or private before the
	 * rootfs was prepared, so the detach below cannot reach the host.
	 */
	if (umount2(".", MNT_DETACH) < 0)
		return fail(errno, "unmount old root");
	if (chdir("/") < 0)
		return fail(errno, "/");
	root_drop();
	reopen_dev_null();
	return 0;
}

int op_move_root(const struct rec *r)
{
	const char *root = root_path();
	/* ints[0] == 1: chroot only, no MS_MOVE (no mount namespace: "/" is the host's) */
	int chroot_only = r->nint >= 1 && I(0) == 1;

	if (!root)
		return fail(EINVAL, "no rootfs");
	if (chdir(root) < 0)
		return fail(errno, "%s", root);
	if (!chroot_only && mount(root, "/", NULL, MS_MOVE, NULL) < 0)
		return fail(errno, "%s", root);
	if (chroot(".") < 0)
		return fail(errno, "%s", root);
	if (chdir("/") < 0)
		return fail(errno, "/");
	root_drop();
	reopen_dev_null();
	return 0;
}

int op_readonly(const struct rec *r)
{
	struct target t;
	int e, p = plain(r);

	NEED(0, 1);
	e = readonly_fd(p, S(0)); /* fd-based; the path-based way below when the kernel lacks it */
	if (e == 0 || e == -ENOENT)
		return 0;
	if (e != -ENOSYS)
		return fail(-e, "%s", S(0));
	e = target_open(p, S(0), &t);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return fail(-e, "%s", S(0));
	if (mount(t.path, t.path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		e = errno;
		target_close(&t);
		return e == ENOENT ? 0 : fail(e, "%s", S(0));
	}
	e = target_reopen(p, S(0), &t);
	if (e == 0)
		e = bind_remount(t.path, MS_RDONLY | MS_REC |
				 (mnt_locked_flags(t.path) & (MS_NOSUID | MS_NODEV | MS_NOEXEC)));
	target_close(&t);
	return e < 0 ? fail(-e, "%s", S(0)) : 0;
}

static int write_file(int p, const char *path, const char *data, size_t len)
{
	int fd = xopen(p, path, O_WRONLY | O_TRUNC, 0);
	ssize_t w;

	if (fd < 0)
		return fd;
	/* one write: proc files such as uid_map take the content in one go */
	w = write(fd, data, len);
	if (w < 0) {
		w = -errno;
		close(fd);
		return (int)w;
	}
	close(fd);
	return (size_t)w == len ? 0 : -EIO;
}

int op_write_file(const struct rec *r)
{
	int e;

	NEED(0, 2);
	e = write_file(plain(r), S(0), S(1), r->lens[1]);
	return e < 0 ? fail(-e, "%s", S(0)) : 0;
}

int op_hostname(const struct rec *r)
{
	NEED(0, 1);
	if (sethostname(S(0), r->lens[0]) < 0)
		return fail(errno, "%s", S(0));
	return 0;
}

int op_domainname(const struct rec *r)
{
	NEED(0, 1);
	if (setdomainname(S(0), r->lens[0]) < 0)
		return fail(errno, "%s", S(0));
	return 0;
}

/* The kernel's getcwd names a directory outside the process's root "(unreachable)/...". */
static int cwd_outside_root(void)
{
	char buf[4096];
	long n = syscall(SYS_getcwd, buf, sizeof buf);

	return n > 0 && buf[0] != '/';
}

int op_chdir(const struct rec *r)
{
	int fd, e = 0;

	NEED(0, 1);
	if (plain(r)) {
		if (chdir(S(0)) < 0)
			return fail(errno, "%s", S(0));
	} else {
		fd = xopen(0, S(0), O_PATH | O_DIRECTORY, 0);
		if (fd < 0)
			return fail(-fd, "%s", S(0));
		if (fchdir(fd) < 0)
			e = errno;
		close(fd);
		if (e)
			return fail(e, "%s", S(0));
	}
	/* e.g. /proc/self/fd/N of a descriptor of a host directory (CVE-2024-21626) */
	if (cwd_outside_root()) {
		if (chdir("/") < 0) /* never leave it there, whatever runs next */
			_exit(1);
		return fail(0, "%s is outside the container's root", S(0));
	}
	return 0;
}

int op_rlimit(const struct rec *r)
{
	struct rlimit rl;

	NEED(3, 0);
	rl.rlim_cur = (rlim_t)I(1);
	rl.rlim_max = (rlim_t)I(2);
	if (prlimit(0, (int)I(0), &rl, NULL) < 0)
		return fail(errno, "%lld", (long long)I(0));
	return 0;
}

int op_personality(const struct rec *r)
{
	NEED(1, 0);
	if (personality((unsigned long)I(0)) < 0)
		return fail(errno, "0x%llx", (unsigned long long)I(0));
	return 0;
}

int op_ioprio(const struct rec *r)
{
	NEED(1, 0);
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)I(0)) < 0)
		return fail(errno, "%lld", (long long)I(0));
	return 0;
}

struct sched_attr_v1 {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

int op_sched(const struct rec *r)
{
	struct sched_attr_v1 a = { .size = sizeof a };

	NEED(7, 0);
	a.policy = (uint32_t)I(0);
	a.flags = (uint64_t)I(1);
	a.nice = (int32_t)I(2);
	a.priority = (uint32_t)I(3);
	a.runtime = (uint64_t)I(4);
	a.deadline = (uint64_t)I(5);
	a.period = (uint64_t)I(6);
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return fail(errno, "policy %u", a.policy);
	return 0;
}

int op_affinity(const struct rec *r)
{
	long max = 0;
	cpu_set_t *set;
	size_t size;
	int i, e = 0;

	for (i = 0; i < r->nint; i++)
		if (I(i) > max)
			max = (long)I(i);
	if (max > 1 << 16)
		return fail(EINVAL, "cpu %ld", max);
	set = CPU_ALLOC(max + 1);
	if (!set)
		return fail(ENOMEM, "");
	size = CPU_ALLOC_SIZE(max + 1);
	CPU_ZERO_S(size, set);
	for (i = 0; i < r->nint; i++)
		if (I(i) >= 0)
			CPU_SET_S((size_t)I(i), size, set);
	if (sched_setaffinity(0, size, set) < 0)
		e = errno;
	CPU_FREE(set);
	return e ? fail(e, "") : 0;
}

static int cap_in(uint64_t set, int cap)
{
	return cap < 64 && ((set >> cap) & 1);
}

static uint64_t set64(int64_t lo, int64_t hi)
{
	return ((uint64_t)hi << 32) | ((uint64_t)lo & 0xffffffffu);
}

int op_cap_bounding(const struct rec *r)
{
	uint64_t keep;
	int cap;

	NEED(2, 0);
	keep = set64(I(0), I(1));
	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; /* past the last cap the kernel knows */
		if (!cap_in(keep, cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return fail(errno, "cap %d", cap);
	}
	return 0;
}

int op_user(const struct rec *r)
{
	int n, i;
	gid_t *gids;

	NEED(2, 0);
	n = r->nint - 2;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return fail(errno, "keepcaps");
	if (n > 0 || !setgroups_denied()) {
		gids = calloc((size_t)n + 1, sizeof *gids);
		if (!gids)
			return fail(ENOMEM, "");
		for (i = 0; i < n; i++)
			gids[i] = (gid_t)I(i + 2);
		if (setgroups((size_t)n, gids) < 0) {
			free(gids);
			return fail(errno, "setgroups");
		}
		free(gids);
	}
	if (setresgid((gid_t)I(1), (gid_t)I(1), (gid_t)I(1)) < 0)
		return fail(errno, "gid %lld", (long long)I(1));
	if (setresuid((uid_t)I(0), (uid_t)I(0), (uid_t)I(0)) < 0)
		return fail(errno, "uid %lld", (long long)I(0));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail(errno, "keepcaps");
	return 0;
}

int op_cap_set(const struct rec *r)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t amb;
	int cap;

	NEED(8, 0);
	d[0].effective = (uint32_t)I(0);
	d[1].effective = (uint32_t)I(1);
	d[0].permitted = (uint32_t)I(2);
	d[1].permitted = (uint32_t)I(3);
	d[0].inheritable = (uint32_t)I(4);
	d[1].inheritable = (uint32_t)I(5);
	if (syscall(SYS_capset, &h, d) < 0)
		return fail(errno, "capset");
	amb = set64(I(6), I(7));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (cap = 0; cap < 64; cap++)
		if (cap_in(amb, cap) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return fail(errno, "ambient cap %d", cap);
	return 0;
}

int op_no_new_privs(const struct rec *r)
{
	(void)r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(errno, "");
	return 0;
}

static int send_fd_data(int sock, int fd, const char *data, size_t len);

/*
 * ints: flags, listener socket (-1: none); strs: program, the container process state.
 * With SECCOMP_FILTER_FLAG_NEW_LISTENER the notify fd goes to the listener socket together
 * with the state (runtime-spec "Container Process State"), then both are closed.
 */
int op_seccomp(const struct rec *r)
{
	struct sock_fprog prog;
	int fd, e, sock;

	NEED(2, 2);
	if (r->lens[0] % sizeof(struct sock_filter) || !r->lens[0] || r->lens[0] / 8 > 0xffff)
		return fail(EINVAL, "program of %u bytes", r->lens[0]);
	sock = (int)I(1);
	if ((I(0) & SECCOMP_FILTER_FLAG_NEW_LISTENER) && sock < 0)
		return fail(EINVAL, "seccomp notify without a listener socket");
	prog.len = (unsigned short)(r->lens[0] / sizeof(struct sock_filter));
	/* the bytes follow the 4-byte length in the plan: copy to align them */
	prog.filter = malloc(r->lens[0]);
	if (!prog.filter)
		return fail(ENOMEM, "");
	memcpy(prog.filter, S(0), r->lens[0]);
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)I(0), &prog);
	e = errno;
	free(prog.filter);
	if (fd < 0)
		return fail(e, "seccomp");
	if (I(0) & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
		char *state;
		size_t len = r->lens[1];

		if (with_pid(S(1), r->lens[1], &state, &len) < 0)
			return fail(ENOMEM, "");
		e = -send_fd_data(sock, fd, state ? state : S(1), len);
		free(state);
		close(fd);
		close(sock);
		if (e > 0)
			return fail(e, "send the seccomp fd to the listener");
	}
	return 0;
}

/* Sends data with fd attached (SCM_RIGHTS) to the first byte; the rest of data follows. */
static int send_fd_data(int sock, int fd, const char *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	ssize_t n;

	memset(&u, 0, sizeof u);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0)
		if (errno != EINTR)
			return -errno;
	while ((size_t)n < len) {
		ssize_t m = send(sock, data + n, len - (size_t)n, MSG_NOSIGNAL);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return -errno;
		n += m;
	}
	return 0;
}

static int send_fd(int sock, int fd)
{
	static const char name[] = "/dev/ptmx";
	return send_fd_data(sock, fd, name, sizeof name - 1);
}

/* /dev/console is the container's pty, as runc does it: an empty file with the peer bound on it. */
static int console_bind(int peer)
{
	struct stat st;
	int fd, e;

	fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	close(fd);
	/* bind onto exactly the file checked (never a symlink swapped in meanwhile) */
	fd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		close(fd);
		return EINVAL;
	}
	e = -bind_fd(peer, fd, 0);
	close(fd);
	return e;
}

int op_console(const struct rec *r)
{
	struct winsize ws = { 0 };
	int sock, master, peer, unlock = 0, e, i;

	NEED(3, 0);
	sock = (int)I(0);
	master = xopen(plain(r), "/dev/ptmx", O_RDWR | O_NOCTTY, 0);
	if (master < 0)
		return fail(-master, "/dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		e = errno;
		goto fail_master;
	}
	peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (peer < 0) {
		e = errno;
		goto fail_master;
	}
	if (I(1) > 0 && I(2) > 0) {
		ws.ws_row = (unsigned short)I(1);
		ws.ws_col = (unsigned short)I(2);
		if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
			e = errno;
			goto fail_peer;
		}
	}
	/* ints[3]: also bind the peer on /dev/console (only inside the container's mount ns) */
	if (r->nint > 3 && I(3) && (e = console_bind(peer)) > 0)
		goto fail_peer;
	if ((e = -send_fd(sock, master)) > 0)
		goto fail_peer;
	close(master);
	close(sock);
	if (getsid(0) != getpid() && setsid() < 0)
		return fail(errno, "setsid");
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		return fail(errno, "set controlling terminal");
	for (i = 0; i < 3; i++)
		if (dup2(peer, i) < 0)
			return fail(errno, "dup2");
	if (peer > 2)
		close(peer);
	return 0;
fail_peer:
	close(peer);
fail_master:
	close(master);
	return fail(e, "console");
}

int op_setsid(const struct rec *r)
{
	(void)r;
	if (setsid() < 0)
		return fail(errno, "");
	return 0;
}

int op_umask(const struct rec *r)
{
	NEED(1, 0);
	umask((mode_t)I(0));
	umask_done = 1;
	return 0;
}

/* A filter denied the syscall (seccomp's default errno is EPERM; ENOSYS also means a kernel
 * without it): for X_OK and stat neither errno has another meaning. */
static int denied(int e)
{
	return e == EPERM || e == ENOSYS;
}

/* 0: p is a regular file we may execute; -errno: it is not; 1: the filter denies the checks,
 * the exec itself must decide. As runc (Go's LookPath) does: faccessat2(AT_EACCESS), faccessat
 * when a filter or the kernel refuses it (USER set the real ids to the effective ones), the
 * mode bits when that is refused too. */
static int executable(const char *p)
{
	struct stat st;

	if (stat(p, &st) < 0)
		return denied(errno) ? 1 : -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	if (syscall(SYS_faccessat2, AT_FDCWD, p, X_OK, AT_EACCESS) == 0)
		return 0;
	if (!denied(errno))
		return -errno;
	if (syscall(SYS_faccessat, AT_FDCWD, p, X_OK) == 0)
		return 0;
	if (!denied(errno))
		return -errno;
	return st.st_mode & 0111 ? 0 : -EACCES;
}

/* The lookup could not stat a candidate: EXEC tries file (and the PATH entries from
 * defer_path on) with execve, as execvp does. */
static const char *defer_file, *defer_path;

/* PATH entry [c, end) joined with file; "" is the current directory. */
static char *candidate(const char *c, const char *end, const char *file)
{
	size_t dl = (size_t)(end - c), fl = strlen(file);
	char *cand = malloc(dl + fl + 3);

	if (!cand)
		return NULL;
	if (dl)
		memcpy(cand, c, dl);
	else
		cand[dl++] = '.';
	cand[dl] = '/';
	memcpy(cand + dl + 1, file, fl + 1);
	return cand;
}

int op_lookup(const struct rec *r)
{
	const char *file, *path, *c, *end;
	int e, first = 0;
	char *cand;

	NEED(0, 2);
	file = S(0);
	path = S(1);
	free(exe_path);
	exe_path = NULL;
	defer_file = defer_path = NULL;
	if (!*file)
		return fail(ENOENT, "%s", file);
	if (strchr(file, '/')) {
		e = executable(file);
		if (e < 0)
			return fail(-e, "%s", file);
		if (e > 0) {
			defer_file = file;
			return 0;
		}
		exe_path = strdup(file);
		return exe_path ? 0 : fail(ENOMEM, "");
	}
	for (c = path;; c = end + 1) {
		end = strchrnul(c, ':');
		cand = candidate(c, end, file);
		if (!cand)
			return fail(ENOMEM, "");
		e = executable(cand);
		free(cand);
		if (e > 0) {
			defer_file = file;
			defer_path = c;
			return 0;
		}
		if (e == 0) {
			exe_path = candidate(c, end, file);
			return exe_path ? 0 : fail(ENOMEM, "");
		}
		if (e != -ENOENT && e != -ENOTDIR && !first)
			first = -e;
		if (!*end)
			break;
	}
	return fail(first ? first : ENOENT, "%s", file);
}

/* EXEC after a lookup the filter kept from deciding: execve each candidate in turn. */
static int exec_deferred(char **argv, char **envp)
{
	const char *c, *end;
	int first = 0;
	char *cand;

	if (!defer_path) {
		execve(defer_file, argv, envp);
		return fail(errno, "%s", defer_file);
	}
	for (c = defer_path;; c = end + 1) {
		end = strchrnul(c, ':');
		cand = candidate(c, end, defer_file);
		if (!cand)
			return fail(ENOMEM, "");
		execve(cand, argv, envp);
		free(cand);
		if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
			return fail(errno, "%s", defer_file);
		if (errno != ENOENT && errno != ENOTDIR && !first)
			first = errno;
		if (!*end)
			break;
	}
	return fail(first ? first : ENOENT, "%s", defer_file);
}

int op_ready(const struct rec *r)
{
	(void)r;
	if (send_line("R\n") < 0)
		_exit(1);
	g_ready = 1;
	return 0;
}

/* The waiting init should cost the host almost nothing. Its read-only, file-backed
 * pages (headers, code, rodata) are dropped from the page tables while it blocks:
 * nothing is lost, they fault back in from the page cache when `start` wakes it.
 * Dropping and blocking run from a tiny anonymous stub, because returning into the
 * code in between would map it again (a fault maps a whole large folio). */
typedef long (*syscall_stub)(long nr, long a, long b, long c, uintptr_t drop, size_t drop_len);

#if defined(__x86_64__)
extern const char stub_start[], stub_end[];
/* madvise(drop, drop_len, MADV_DONTNEED); return syscall(nr, a, b, c) */
__asm__(".pushsection .rodata\n"
	"stub_start:\n"
	"	push %rdi\n"
	"	push %rsi\n"
	"	push %rdx\n"
	"	push %rcx\n"
	"	mov $28, %eax\n" /* SYS_madvise */
	"	mov %r8, %rdi\n"
	"	mov %r9, %rsi\n"
	"	mov $4, %edx\n" /* MADV_DONTNEED */
	"	syscall\n"
	"	pop %rdx\n"
	"	pop %rsi\n"
	"	pop %rdi\n"
	"	pop %rax\n"
	"	syscall\n"
	"	ret\n"
	"stub_end:\n"
	".popsection\n");
#endif

static syscall_stub make_stub(void)
{
#if defined(__x86_64__)
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, stub_start, (size_t)(stub_end - stub_start));
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0) {
		munmap(p, 4096);
		return NULL;
	}
	return (syscall_stub)p;
#else
	return NULL;
#endif
}

/* The span of the read-only PT_LOAD segments (static non-PIE: p_vaddr are the
 * addresses); 0 if a writable segment (modified pages, RELRO) lies inside it. */
static size_t readonly_span(uintptr_t *start)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long i, n = getauxval(AT_PHNUM);
	uintptr_t lo = UINTPTR_MAX, hi = 0;

	for (i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W))
			continue;
		if ((ph[i].p_vaddr & ~(uintptr_t)4095) < lo)
			lo = ph[i].p_vaddr & ~(uintptr_t)4095;
		if (((ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~(uintptr_t)4095) > hi)
			hi = (ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~(uintptr_t)4095;
	}
	for (i = 0; ph && i < n; i++)
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W) &&
		    ph[i].p_vaddr + ph[i].p_memsz > lo && ph[i].p_vaddr < hi)
			return 0;
	*start = lo;
	return hi > lo ? hi - lo : 0;
}

/* a blocking syscall, made while the read-only pages are dropped when possible */
static long quiet_syscall(syscall_stub stub, long nr, long a, long b, long c)
{
	uintptr_t start = 0;
	size_t len = stub ? readonly_span(&start) : 0;
	long r;

	do {
		if (stub) {
			r = stub(nr, a, b, c, start, len);
		} else {
			r = syscall(nr, a, b, c);
			if (r < 0)
				r = -errno;
		}
	} while (r == -EINTR);
	return r;
}

/* Write end of the exec fifo while `tsrun start` reads it (O_CLOEXEC: start sees EOF once
 * the process is exec'd); a failing startContainer hook reports through it (op_hook). */
static int start_fd = -1;

int op_wait_start(const struct rec *r)
{
	char c = 0, self[32];
	struct stat st;
	syscall_stub stub;
	long n;
	int fd, rfd;

	NEED(1, 0);
	fd = (int)I(0);
	rfd = fd;
	if (self_fd_dir >= 0)
		snprintf(self, sizeof self, "%d", fd);
	else
		snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	/* An O_PATH fd of the exec fifo (tsrun create): open it for writing, which blocks
	 * until `tsrun start` opens it for reading; send "0" (woken), keep the write end. */
	if ((fcntl(fd, F_GETFL) & O_PATH) == O_PATH) {
		stub = make_stub();
		n = quiet_syscall(stub, SYS_openat, self_fd_dir >= 0 ? self_fd_dir : AT_FDCWD, (long)self, O_WRONLY | O_CLOEXEC);
		if (stub)
			munmap((void *)stub, 4096);
		if (n < 0)
			return fail((int)-n, "exec fifo");
		close(fd);
		start_fd = (int)n;
		if (write(start_fd, "0", 1) != 1)
			return fail(errno, "exec fifo");
		return 0;
	}
	/* a fifo without a writer reads as EOF at once: open it again for
	 * reading, which blocks until `start` opens it for writing */
	int reopen = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		     (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY;
	stub = make_stub();
	if (reopen) {
		n = quiet_syscall(stub, SYS_openat, self_fd_dir >= 0 ? self_fd_dir : AT_FDCWD, (long)self, O_RDONLY | O_CLOEXEC);
		if (n < 0)
			return fail((int)-n, "exec fifo");
		rfd = (int)n;
	}
	n = quiet_syscall(stub, SYS_read, rfd, (long)&c, 1);
	if (stub)
		munmap((void *)stub, 4096);
	if (n < 0)
		return fail((int)-n, "exec fifo");
	if (rfd != fd)
		close(rfd);
	close(fd);
	if (n == 0)
		_exit(1); /* the writer went away without starting us */
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* strs: path, stdin, args[nargs], env[nenv] */
static int run_hook(const struct rec *r)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldpipe;
	long long deadline = 0;
	int nargs, nenv, pfd[2], pidfd, status, i, timed_out = 0;
	char **argv, **envp, *in_pid;
	const char *in;
	size_t inlen, off = 0;
	pid_t pid;

	NEED(3, 2);
	nargs = (int)I(1);
	nenv = (int)I(2);
	if (nargs < 0 || nenv < 0 || 2 + nargs + nenv > r->nstr)
		return fail(EINVAL, "malformed hook");
	argv = calloc((size_t)nargs + 1, sizeof *argv);
	envp = calloc((size_t)nenv + 1, sizeof *envp);
	if (!argv || !envp)
		return fail(ENOMEM, "");
	for (i = 0; i < nargs; i++)
		argv[i] = S(2 + i);
	for (i = 0; i < nenv; i++)
		envp[i] = S(2 + nargs + i);
	in = S(1);
	inlen = r->lens[1];
	if (with_pid(S(1), r->lens[1], &in_pid, &inlen) < 0)
		return fail(ENOMEM, "");
	if (in_pid)
		in = in_pid;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fail(errno, "%s", S(0));
	pid = fork();
	if (pid < 0) {
		i = errno;
		close(pfd[0]);
		close(pfd[1]);
		return fail(i, "%s", S(0));
	}
	if (pid == 0) {
		if (dup2(pfd[0], 0) < 0)
			_exit(127);
		execve(S(0), argv, envp);
		_exit(127); /* reported by the parent as "exit 127" */
	}
	free(argv);
	free(envp);
	close(pfd[0]);
	/* a hook that exits without reading its stdin must not kill us with SIGPIPE (set after
	 * the fork: the hook itself keeps the default disposition) */
	sigaction(SIGPIPE, &ign, &oldpipe);
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (I(0) > 0)
		deadline = now_ms() + I(0) * 1000;
	if (!inlen) {
		close(pfd[1]);
		pfd[1] = -1;
	}
	for (;;) {
		struct pollfd fds[2] = { { pidfd, POLLIN, 0 }, { pfd[1], POLLOUT, 0 } };
		int timeout = -1;

		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				timed_out = 1;
				kill(pid, SIGKILL);
				break;
			}
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		if (pidfd < 0) /* no pidfd: poll the child every 10 ms */
			timeout = timeout < 0 || timeout > 10 ? 10 : timeout;
		if (poll(fds, pfd[1] >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1] >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(pfd[1], in + off, inlen - off);
			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == inlen) {
				close(pfd[1]);
				pfd[1] = -1;
			}
		}
		if (fds[0].revents & POLLIN)
			break;
		if (pidfd < 0 && waitpid(pid, &status, WNOHANG) == pid)
			goto reaped;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
reaped:
	if (pidfd >= 0)
		close(pidfd);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(in_pid);
	sigaction(SIGPIPE, &oldpipe, NULL);
	if (timed_out)
		return fail(0, "timeout");
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return fail(0, "exit %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return fail(0, "signal %d", WTERMSIG(status));
	return 0;
}

/* After WAIT_START, `tsrun start` learns of a failing hook through the exec fifo. */
int op_hook(const struct rec *r)
{
	int rc = run_hook(r);

	if (rc < 0 && start_fd >= 0 && r->nstr > 0)
		dprintf(start_fd, "hook %s: %s\n", S(0), g_err ? strerror(g_err) : g_detail);
	return rc;
}

int op_exec(const struct rec *r)
{
	int nargs, nenv, i;
	char **argv, **envp;

	NEED(2, 0);
	nargs = (int)I(0);
	nenv = (int)I(1);
	if (nargs < 1 || nenv < 0 || nargs + nenv > r->nstr)
		return fail(EINVAL, "malformed exec");
	if (!exe_path && !defer_file)
		return fail(ENOENT, "%s", S(0));
	argv = calloc((size_t)nargs + 1, sizeof *argv);
	envp = calloc((size_t)nenv + 1, sizeof *envp);
	if (!argv || !envp)
		return fail(ENOMEM, "");
	for (i = 0; i < nargs; i++)
		argv[i] = S(i);
	for (i = 0; i < nenv; i++)
		envp[i] = S(nargs + i);
	if (!umask_done && umask_saved)
		umask(caller_umask);
	if (!exe_path)
		return exec_deferred(argv, envp);
	execve(exe_path, argv, envp);
	return fail(errno, "%s", exe_path);
}

int op_close_fds(const struct rec *r)
{
	NEED(1, 0);
	if (syscall(SYS_close_range, (unsigned)I(0), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return fail(errno, "");
	return 0;
}

int op_dumpable(const struct rec *r)
{
	NEED(1, 0);
	if (prctl(PR_SET_DUMPABLE, (unsigned long)I(0), 0, 0, 0) < 0)
		return fail(errno, "");
	return 0;
}

int op_oom_score_adj(const struct rec *r)
{
	char buf[24];
	int n, e;

	NEED(1, 0);
	n = snprintf(buf, sizeof buf, "%lld", (long long)I(0));
	e = proc_write("self/oom_score_adj", buf, (size_t)n);
	return e < 0 ? -1 : 0;
}

int op_pdeathsig(const struct rec *r)
{
	NEED(1, 0);
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)I(0), 0, 0, 0) < 0)
		return fail(errno, "%lld", (long long)I(0));
	return 0;
}

/* ints: fds of v1 "tasks" files (opened by the parent), strs: their paths for errors. Writing
 * "0" moves the calling thread, which the kernel does without the global threadgroup lock and
 * so without the RCU grace period a cgroup.procs write waits for; tsrun-init is single-threaded,
 * so the thread is the process. */
int op_cgroup_join(const struct rec *r)
{
	unsigned i;

	NEED(r->nint, r->nint);
	for (i = 0; i < r->nint; i++) {
		int fd = (int)I(i);
		ssize_t n;

		do
			n = write(fd, "0", 1);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return fail(errno, "%s", S(i));
		close(fd);
	}
	return 0;
}

/* runc's fixStdioPermissions: stdio the process user does not own (the pty, a pipe) becomes its
 * (the group stays, e.g. devpts' tty); /dev/null and regular files (a host log) are left alone.
 * EINVAL, EPERM, EROFS (an id not mapped, a read-only /dev): left as it is, as runc does. */
int op_stdio_chown(const struct rec *r)
{
	struct stat null, st;
	int i, have_null;

	NEED(1, 0);
	have_null = stat("/dev/null", &null) == 0;
	for (i = 0; i < 3; i++) {
		if (fstat(i, &st) < 0 || st.st_uid == (uid_t)I(0) || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
			continue;
		if (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev)
			continue;
		if (fchown(i, (uid_t)I(0), st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
			return fail(errno, "fd %d", i);
	}
	return 0;
}

/* umount2(path, flags); with cover (ints[1]) a mount that may not be unmounted (EINVAL, EPERM)
 * gets an empty tmpfs on top instead (runc's msMoveRoot). */
int op_umount(const struct rec *r)
{
	NEED(2, 1);
	if (umount2(S(0), (int)I(0)) == 0)
		return 0;
	if (!I(1) || (errno != EINVAL && errno != EPERM))
		return fail(errno, "%s", S(0));
	if (mount("tmpfs", S(0), "tmpfs", 0, NULL) < 0)
		return fail(errno, "cover %s", S(0));
	return 0;
}

/* Detached clones of bind sources, made with the host's credentials before the user namespace. */
#define MAX_TREES 256
static int trees[MAX_TREES];

int op_open_tree(const struct rec *r)
{
	int fd;

	NEED(2, 1);
	if (I(0) < 0 || I(0) >= MAX_TREES)
		return fail(EINVAL, "slot %lld", (long long)I(0));
	fd = (int)syscall(SYS_open_tree, AT_FDCWD, S(0), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (I(1) ? AT_RECURSIVE : 0));
	if (fd < 0)
		return fail(errno, "%s", S(0));
	trees[I(0)] = fd + 1; /* 0: empty slot */
	return 0;
}

/* Moves the clone in slot ints[0] onto the rootfs path target (mkkind as MOUNT). */
int op_bind_tree(const struct rec *r)
{
	int p = plain(r), e, dst, tree;

	NEED(3, 1);
	if (I(0) < 0 || I(0) >= MAX_TREES || !trees[I(0)])
		return fail(EBADF, "slot %lld", (long long)I(0));
	tree = trees[I(0)] - 1;
	if (I(1) == 1 || I(1) == 2) {
		e = I(1) == 1 ? mkdir_p(p, S(0), (mode_t)(I(2) ? I(2) : 0755))
			      : create_file(p, S(0), (mode_t)(I(2) ? I(2) : 0644));
		if (e < 0)
			return fail(-e, "%s", S(0));
		if (I(1) == 1)
			close(e);
	}
	dst = xopen(p, S(0), O_PATH, 0);
	if (dst < 0)
		return fail(-dst, "%s", S(0));
	e = (int)syscall(SYS_move_mount, tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	e = e < 0 ? errno : 0;
	close(dst);
	close(tree);
	trees[I(0)] = 0;
	if (e)
		return fail(e, "%s", S(0));
	if (p)
		root_reopen();
	return 0;
}


int run_op(const struct rec *r)
{
	if (!umask_saved) {
		/* mkdir/mknod modes are exact; the process gets its umask back at EXEC */
		caller_umask = umask(0);
		umask_saved = 1;
	}
	if (r->op > OP_MAX || !op_handlers[r->op])
		return fail(EINVAL, "unknown op %u", r->op);
	return op_handlers[r->op](r);
}
