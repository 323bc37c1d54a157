/* Ops on paths a container image (or a running container sharing its rootfs) can influence,
 * done on fds so nothing is re-resolved between a check and its use:
 * - MASK binds the null device, checked on an fd to be the character device 1:3 (a rootfs
 *   whose /dev/null is a symlink, a regular file or another device cannot make a masked path
 *   writable or redirect it: CVE-2025-31133), or mounts an empty read-only tmpfs;
 * - READONLY clones the mounts at a path read-only and moves the clone on top;
 * - the console is bound onto /dev/console through fds (CVE-2025-52565);
 * - PROC_WRITE (sysctl, LSM labels) and oom_score_adj only ever write into procfs: /proc must
 *   be the root of a procfs mount and the file is opened beneath it without symlinks, magic
 *   links or mount crossings (CVE-2019-16884, CVE-2025-52881).
 * The new mount API (open_tree, move_mount, fsmount) needs no /proc/self/fd path, which a
 * fake /proc could redirect; without it (ENOSYS) the mounts go through /proc/self/fd/N. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../plan.h"
#include "init.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#define PROC_ROOT_INO 1

#define I(n) (r->ints[n])
#define S(n) (r->strs[n])

static void fdpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

/* Attaches the detached mount `tree` on top of the file or directory `target` (both fds). */
static int attach(int tree, int target)
{
	if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Bind-mounts what `src` names onto `target` (both fds). */
int bind_fd(int src, int target, int recursive)
{
	char s[32], t[32];
	int tree, e;

	tree = (int)syscall(SYS_open_tree, src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
			    (recursive ? AT_RECURSIVE : 0));
	if (tree >= 0) {
		e = attach(tree, target);
		close(tree);
		return e;
	}
	if (errno != ENOSYS)
		return -errno;
	fdpath(s, sizeof s, src);
	fdpath(t, sizeof t, target);
	return mount(s, t, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0 ? -errno : 0;
}

static int mask_dir(int target)
{
	char t[32];
	int fs, m, e;

	fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0) {
		if (errno != ENOSYS)
			return -errno;
		fdpath(t, sizeof t, target);
		return mount("tmpfs", t, "tmpfs", MS_RDONLY, NULL) < 0 ? -errno : 0;
	}
	/* what runc mounts: mount("tmpfs", path, "tmpfs", MS_RDONLY) */
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		e = -errno;
		close(fs);
		return e;
	}
	m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	e = m < 0 ? -errno : 0;
	close(fs);
	if (e)
		return e;
	e = attach(m, target);
	close(m);
	return e;
}

/* The container's /dev/null, if it is the null device. Returns an O_PATH fd or -1 after fail(). */
static int null_device(int p, const char *masked)
{
	struct stat st;
	int fd = xopen(p, "/dev/null", O_PATH | O_NOFOLLOW, 0);

	if (fd == -ENOENT)
		return fail(0, "cannot mask %s: /dev/null does not exist", masked);
	if (fd < 0)
		return fail(-fd, "/dev/null");
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return fail(e, "/dev/null");
	}
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) {
		close(fd);
		if (S_ISLNK(st.st_mode)) /* O_PATH | O_NOFOLLOW opens the link itself */
			return fail(0, "cannot mask %s: /dev/null is a symlink, not the null device", masked);
		if (S_ISCHR(st.st_mode))
			return fail(0, "cannot mask %s: /dev/null is the device %u:%u, not the null device 1:3",
				    masked, major(st.st_rdev), minor(st.st_rdev));
		return fail(0, "cannot mask %s: /dev/null is not a character device", masked);
	}
	return fd;
}

int op_mask(const struct rec *r)
{
	struct stat st;
	int p = plain(r), t, n, e;

	if (r->nstr < 1)
		return fail(EINVAL, "malformed op %u", r->op);
	t = xopen(p, S(0), O_PATH, 0);
	if (t == -ENOENT)
		return 0; /* nothing to hide */
	if (t < 0)
		return fail(-t, "%s", S(0));
	if (fstat(t, &st) < 0) {
		e = errno;
		close(t);
		return fail(e, "%s", S(0));
	}
	if (S_ISDIR(st.st_mode)) {
		e = mask_dir(t);
	} else {
		n = null_device(p, S(0));
		if (n < 0) {
			close(t);
			return -1;
		}
		e = bind_fd(n, t, 0);
		close(n);
	}
	close(t);
	/* an ENOENT here is not "the path is missing" (F_OPTIONAL): report it as it is */
	return e < 0 ? fail(-e == ENOENT ? ENODEV : -e, "%s", S(0)) : 0;
}

/* Returns 0, -ENOENT (no such path), -ENOSYS (no new mount API) or another -errno. */
int readonly_fd(int p, const char *path)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int t, tree, e;

	t = xopen(p, path, O_PATH, 0);
	if (t < 0)
		return t;
	tree = (int)syscall(SYS_open_tree, t, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0) {
		e = -errno;
		close(t);
		return e;
	}
	e = 0;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
		e = -errno;
	if (!e)
		e = attach(tree, t);
	close(tree);
	close(t);
	return e;
}

/* /proc, if it is the root of a procfs mount: an O_PATH fd, or -1 after fail(). */
static int proc_root(const char *what)
{
	struct statfs sf;
	struct stat st;
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fail(errno == ENOENT ? ENODEV : errno, "/proc (for %s)", what);
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return fail(e, "/proc");
	}
	if (sf.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO) {
		close(fd);
		return fail(0, "/proc is not a procfs mount: refusing to write %s", what);
	}
	return fd;
}

/*
 * Writes data into /proc/<rel> in one write. rel starts with "self/" or "thread-self/" for
 * the calling process (resolved here, as those are symlinks). Returns 0 or -1 after fail();
 * a missing file fails with ENOENT (F_OPTIONAL).
 */
int proc_write(const char *rel, const char *data, size_t len)
{
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	char self[64], *path = NULL;
	const char *rest = NULL;
	int root, fd, e = 0;
	ssize_t n;

	root = proc_root(rel);
	if (root < 0)
		return -1;
	if (!strncmp(rel, "self/", 5))
		rest = rel + 5;
	else if (!strncmp(rel, "thread-self/", 12))
		rest = rel + 12;
	if (rest) {
		n = readlinkat(root, rest == rel + 5 ? "self" : "thread-self", self, sizeof self - 1);
		if (n <= 0) {
			e = n < 0 ? errno : EINVAL;
			close(root);
			return fail(e, "/proc/%s", rel);
		}
		self[n] = 0;
		if (asprintf(&path, "%s/%s", self, rest) < 0) {
			close(root);
			return fail(ENOMEM, "");
		}
	}
	fd = (int)syscall(SYS_openat2, root, path ? path : rel, &how, sizeof how);
	if (fd < 0)
		e = errno;
	free(path);
	close(root);
	if (fd < 0 && (e == EXDEV || e == ELOOP))
		return fail(0, "refusing to write /proc/%s: the path crosses a symlink or another mount", rel);
	if (fd < 0)
		return fail(e, "/proc/%s", rel);
	n = write(fd, data, len);
	if (n < 0)
		e = errno;
	else if ((size_t)n != len)
		e = EIO;
	close(fd);
	return e ? fail(e, "/proc/%s", rel) : 0;
}

/* strs: path relative to /proc, content */
int op_proc_write(const struct rec *r)
{
	if (r->nstr < 2)
		return fail(EINVAL, "malformed op %u", r->op);
	return proc_write(S(0), S(1), r->lens[1]);
}

/* ints: mode (with its flags), then the node mask as 64-bit words */
int op_mempolicy(const struct rec *r)
{
	unsigned long *mask = NULL;
	int words, i, e = 0;

	if (r->nint < 1)
		return fail(EINVAL, "malformed op %u", r->op);
	words = r->nint - 1;
	if (words) {
		mask = calloc((size_t)words, sizeof *mask);
		if (!mask)
			return fail(ENOMEM, "");
		for (i = 0; i < words; i++)
			mask[i] = (unsigned long)I(i + 1);
	}
	/* maxnode counts one more than the bits the kernel reads */
	if (syscall(SYS_set_mempolicy, (int)I(0), mask, words ? (unsigned long)words * 64 + 1 : 0) < 0)
		e = errno;
	free(mask);
	return e ? fail(e, "") : 0;
}
