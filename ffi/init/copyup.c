/* tmpcopyup: a tmpfs mounted over a directory starts with that directory's contents (runc). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"

#define MAX_DEPTH 64

static int copy_file(int sfd, int dfd, const char *name, const struct stat *st)
{
	char buf[16384];
	int in, out, e = 0;
	ssize_t n;

	in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return errno;
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0) {
		e = errno;
		close(in);
		return e;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			e = errno ? errno : EIO;
			break;
		}
	if (n < 0)
		e = errno;
	if (!e && fchown(out, st->st_uid, st->st_gid) < 0)
		e = errno;
	if (!e && fchmod(out, st->st_mode & 07777) < 0)
		e = errno;
	close(in);
	close(out);
	return e;
}

/* Copies the entries of directory sfd into dfd, keeping types, modes and owners. */
static int copy_tree(int sfd, int dfd, int depth)
{
	struct dirent *de;
	struct stat st;
	char link[4096];
	DIR *d;
	int e = 0, fd;
	ssize_t n;

	if (depth > MAX_DEPTH)
		return ELOOP;
	fd = dup(sfd);
	if (fd < 0 || !(d = fdopendir(fd)))
		return errno;
	while (!e && (de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			e = errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int s2, d2;
			if (mkdirat(dfd, name, st.st_mode & 07777) < 0) {
				e = errno;
				break;
			}
			s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0)
				e = errno;
			else
				e = copy_tree(s2, d2, depth + 1);
			if (!e && (fchown(d2, st.st_uid, st.st_gid) < 0 || fchmod(d2, st.st_mode & 07777) < 0))
				e = errno;
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISREG(st.st_mode)) {
			e = copy_file(sfd, dfd, name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			n = readlinkat(sfd, name, link, sizeof link - 1);
			if (n < 0) {
				e = errno;
				break;
			}
			link[n] = 0;
			if (symlinkat(link, dfd, name) < 0 ||
			    fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				e = errno;
		} else {
			if (mknodat(dfd, name, st.st_mode, st.st_rdev) < 0 ||
			    fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				e = errno;
		}
	}
	closedir(d);
	return e;
}

/* ints: flags, mkkind, mode; strs: source, target, fstype, data (as MOUNT). */
int op_tmpcopyup(const struct rec *r)
{
	struct target t;
	struct stat st;
	int p = plain(r), lower, upper, e;

	if (r->nint < 3 || r->nstr < 4)
		return fail(EINVAL, "malformed record");
	if (r->ints[1] == 1) {
		e = mkdir_p(p, r->strs[1], (mode_t)(r->ints[2] ? r->ints[2] : 0755));
		if (e < 0)
			return fail(-e, "%s", r->strs[1]);
		close(e);
	}
	lower = xopen(p, r->strs[1], O_RDONLY | O_DIRECTORY, 0);
	if (lower < 0)
		return fail(-lower, "%s", r->strs[1]);
	if (fstat(lower, &st) < 0 || (e = target_open(p, r->strs[1], &t)) < 0) {
		e = errno;
		close(lower);
		return fail(e, "%s", r->strs[1]);
	}
	if (mount(r->strs[0], t.path, r->strs[2], (unsigned long)r->ints[0],
		  r->lens[3] ? r->strs[3] : NULL) < 0) {
		e = errno;
		goto out;
	}
	target_close(&t);
	if (p)
		root_reopen();
	upper = xopen(p, r->strs[1], O_RDONLY | O_DIRECTORY, 0);
	if (upper < 0) {
		e = -upper;
		goto out;
	}
	e = copy_tree(lower, upper, 0);
	if (!e && (fchown(upper, st.st_uid, st.st_gid) < 0 || fchmod(upper, st.st_mode & 07777) < 0))
		e = errno;
	close(upper);
out:
	target_close(&t);
	close(lower);
	return e ? fail(e, "%s", r->strs[1]) : 0;
}
