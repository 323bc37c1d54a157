/* Path resolution for tsrun-init: until PIVOT_ROOT/MOVE_ROOT, a path is resolved
 * inside the rootfs with openat2(RESOLVE_IN_ROOT) so symlinks cannot leave it;
 * directories and files are created component by component on resolved fds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../plan.h"
#include "init.h"

static int rootfd = -1;
static char *rootpath;

int root_set(const char *path)
{
	free(rootpath);
	rootpath = strdup(path);
	if (!rootpath)
		return -ENOMEM;
	return root_reopen();
}

/* After a mount over (a parent of) the rootfs, the old fd names the covered
 * directory: open the path again to see the top mount. */
int root_reopen(void)
{
	int fd;

	if (!rootpath)
		return 0;
	fd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (rootfd >= 0)
		close(rootfd);
	rootfd = fd;
	return 0;
}

void root_drop(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	free(rootpath);
	rootpath = NULL;
}

const char *root_path(void)
{
	return rootpath;
}

int root_active(void)
{
	return rootfd >= 0;
}

int plain(const struct rec *r)
{
	return rootfd < 0 || (r->flags & F_HOST);
}

/* Set by ops whose record has F_NO_SYMLINKS: no symlink anywhere on the path. */
int resolve_no_symlinks;

/* Returns an fd or -errno. */
int xopen(int plain, const char *path, int flags, mode_t mode)
{
	int fd;

	if (plain || rootfd < 0) {
		fd = open(path, flags | O_CLOEXEC, mode);
	} else {
		struct open_how how = {
			.flags = (uint64_t)(flags | O_CLOEXEC),
			.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
			.resolve = RESOLVE_IN_ROOT | (resolve_no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
		};
		int tries = 0;

		/* EAGAIN: a ".." met a rename or mount anywhere on the host meanwhile; try again */
		do
			fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
		while (fd < 0 && errno == EAGAIN && ++tries < 128);
	}
	return fd < 0 ? -errno : fd;
}

/* A dangling symlink on the way (e.g. /var/run -> ../run before /run exists):
 * continue with its target followed by the rest of the path. Resolution stays
 * in the root: every lookup goes through xopen. */
static char *follow(int dfd, const char *path, const char *comp, const char *rest)
{
	char target[4096], *out;
	ssize_t n = readlinkat(dfd, comp, target, sizeof target - 1);
	size_t plen = target[0] == '/' ? 0 : (size_t)(comp - path);

	if (n <= 0)
		return NULL;
	target[n] = 0;
	if (target[0] == '/')
		plen = 0;
	out = malloc(plen + (size_t)n + strlen(rest) + 3);
	if (!out)
		return NULL;
	memcpy(out, path, plen);
	sprintf(out + plen, *rest ? "%s/%s" : "%s", target, rest);
	return out;
}

static int mkdir_p_depth(int plain, const char *path, mode_t mode, int depth)
{
	char *p, *c, *end, save;
	struct stat st;
	int dfd, fd;

	fd = xopen(plain, path, O_PATH | O_DIRECTORY, 0);
	if (fd != -ENOENT)
		return fd;
	if (depth > 40)
		return -ELOOP;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	dfd = xopen(plain, "/", O_PATH | O_DIRECTORY, 0);
	if (dfd < 0)
		goto out;
	for (c = p; *c;) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		for (end = c; *end && *end != '/'; end++)
			;
		save = *end;
		*end = 0;
		fd = xopen(plain, p, O_PATH | O_DIRECTORY, 0);
		if (fd == -ENOENT && strcmp(c, "..") && strcmp(c, ".")) {
			if (fstatat(dfd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
				char *next = follow(dfd, p, c, save ? end + 1 : "");

				close(dfd);
				free(p);
				if (!next)
					return -ENOMEM;
				fd = mkdir_p_depth(plain, next, mode, depth + 1);
				free(next);
				return fd;
			}
			if (mkdirat(dfd, c, mode) < 0 && errno != EEXIST)
				fd = -errno;
			else
				fd = xopen(plain, p, O_PATH | O_DIRECTORY, 0);
		}
		close(dfd);
		dfd = fd;
		if (dfd < 0)
			goto out;
		*end = save;
		c = end;
	}
out:
	free(p);
	return dfd;
}

/* mkdir -p; returns an O_PATH fd of the directory or -errno. */
int mkdir_p(int plain, const char *path, mode_t mode)
{
	return mkdir_p_depth(plain, path, mode, 0);
}

/* mkdir -p the parent of path; returns its fd, *name points into path. */
int open_parent(int plain, const char *path, mode_t mode, const char **name)
{
	size_t n = strlen(path);
	const char *slash;
	char *parent;
	int fd;

	while (n > 1 && path[n - 1] == '/')
		n--;
	slash = memrchr(path, '/', n);
	*name = slash ? slash + 1 : path;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, "..") || strchr(*name, '/'))
		return -EINVAL;
	parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	if (!parent)
		return -ENOMEM;
	fd = mkdir_p(plain, *parent ? parent : (slash ? "/" : "."), mode);
	free(parent);
	return fd;
}

static int create_file_depth(int plain, const char *path, mode_t mode, int depth)
{
	const char *name;
	struct stat st;
	char *next;
	int fd, dfd;

	fd = xopen(plain, path, O_PATH, 0);
	if (fd != -ENOENT) {
		if (fd >= 0)
			close(fd);
		return fd < 0 ? fd : 0;
	}
	if (depth > 40)
		return -ELOOP;
	dfd = open_parent(plain, path, 0755, &name);
	if (dfd < 0)
		return dfd;
	/* a dangling symlink (an image's /etc/localtime -> ../usr/share/...): create its target,
	 * resolved in the root like any path, as runc and crun do */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		next = follow(dfd, path, name, "");
		close(dfd);
		if (!next)
			return -ENOMEM;
		fd = create_file_depth(plain, next, mode, depth + 1);
		free(next);
		return fd;
	}
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		fd = -errno;
	else
		close(fd);
	close(dfd);
	return fd < 0 ? fd : 0;
}

/* Make sure a file exists at path (mkdir -p the parent, create it empty). */
int create_file(int plain, const char *path, mode_t mode)
{
	return create_file_depth(plain, path, mode, 0);
}

int target_open(int plain, const char *path, struct target *t)
{
	t->fd = -1;
	t->path = path;
	if (plain || rootfd < 0)
		return 0;
	t->fd = xopen(0, path, O_PATH, 0);
	if (t->fd < 0)
		return t->fd;
	snprintf(t->buf, sizeof t->buf, "/proc/self/fd/%d", t->fd);
	t->path = t->buf;
	return 0;
}

int target_reopen(int plain, const char *path, struct target *t)
{
	target_close(t);
	return target_open(plain, path, t);
}

void target_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
