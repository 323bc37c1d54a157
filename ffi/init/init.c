/* tsrun-init: reads a launch plan from the parent and executes it op by op
 * (see ffi/PLAN.md). A small static program, so the process that waits
 * between `create` and `start` costs the host almost nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../plan.h"
#include "init.h"

int g_err;
char g_detail[512];
int g_ready;
int g_sync_r = -1, g_sync_w = -1;

static const char *const op_names[OP_MAX + 1] = {
	"?", "setns", "unshare", "sync", "fork", "set_root_ids", "rootfs", "mount",
	"mount_setattr", "mkdir", "mknod", "symlink", "chown", "pivot_root", "move_root",
	"mask", "readonly", "write_file", "hostname", "domainname", "chdir", "rlimit",
	"personality", "ioprio", "sched", "affinity", "cap_bounding", "user", "cap_set",
	"no_new_privs", "seccomp", "console", "setsid", "umask", "lookup", "ready",
	"wait_start", "hook", "exec", "close_fds", "dumpable", "oom_score_adj", "pdeathsig",
	"idmap_mount", "tmpcopyup", "mempolicy", "proc_write", "cgroup_join", "stdio_chown", "umount", "open_tree", "bind_tree",
};

int fail(int err, const char *fmt, ...)
{
	va_list ap;

	g_err = err;
	va_start(ap, fmt);
	vsnprintf(g_detail, sizeof g_detail, fmt, ap);
	va_end(ap);
	return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int send_line(const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof buf) {
		n = sizeof buf - 1;
		buf[n - 1] = '\n';
	}
	return write_all(g_sync_w, buf, (size_t)n);
}

static int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Waits for the parent's `K`; `X` or a closed pipe ends init quietly. */
int wait_answer(void)
{
	char c;

	if (read_full(g_sync_r, &c, 1) < 0 || c != 'K')
		_exit(1);
	return 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static __attribute__((noreturn)) void die(const char *what)
{
	dprintf(2, "tsrun-init: %s\n", what);
	_exit(1);
}

/* Parses the plan in place; returns the number of records. */
static uint32_t parse_plan(unsigned char *buf, uint32_t len, struct rec **out)
{
	uint32_t n, i, off = 12;
	struct rec *recs;

	if (len < 12 || memcmp(buf, PLAN_MAGIC, 4) || le32(buf + 4) != PLAN_VERSION)
		die("bad plan header");
	n = le32(buf + 8);
	if (n > len / 8)
		die("bad plan record count");
	recs = calloc(n ? n : 1, sizeof *recs);
	if (!recs)
		die("out of memory");
	for (i = 0; i < n; i++) {
		struct rec *r = &recs[i];
		uint32_t j;

		if (len - off < 8)
			die("truncated plan");
		r->op = le16(buf + off);
		r->flags = le16(buf + off + 2);
		r->nint = le16(buf + off + 4);
		r->nstr = le16(buf + off + 6);
		off += 8;
		if (r->nint > 64 || r->nstr > 1024 || (uint64_t)r->nint * 8 > len - off)
			die("bad plan record");
		r->ints = calloc(r->nint + 1u, sizeof *r->ints);
		r->strs = calloc(r->nstr + 1u, sizeof *r->strs);
		r->lens = calloc(r->nstr + 1u, sizeof *r->lens);
		if (!r->ints || !r->strs || !r->lens)
			die("out of memory");
		memcpy(r->ints, buf + off, (size_t)r->nint * 8);
		off += (uint32_t)r->nint * 8;
		for (j = 0; j < r->nstr; j++) {
			uint32_t sl;

			if (len - off < 4)
				die("truncated plan");
			sl = le32(buf + off);
			off += 4;
			if (sl >= len - off || buf[off + sl] != 0)
				die("bad plan string");
			r->strs[j] = (char *)buf + off;
			r->lens[j] = sl;
			off += sl + 1;
		}
	}
	*out = recs;
	return n;
}

static void report(uint32_t index, const struct rec *r)
{
	char *p;

	for (p = g_detail; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (!g_ready) {
		send_line("E %u %d %s\n", index, g_err, g_detail);
		_exit(1);
	}
	/* the parent is gone: nobody reads the sync pipe any more */
	if (r->op == OP_HOOK)
		_exit(1); /* a startContainer hook: `tsrun start` learnt of it through the exec fifo */
	if (r->op == OP_EXEC) {
		dprintf(2, "tsrun-init: exec %s: %s\n", g_detail, strerror(g_err));
		_exit(127);
	}
	dprintf(2, "tsrun-init: %s %s: %s\n", r->op <= OP_MAX ? op_names[r->op] : "?", g_detail,
		g_err ? strerror(g_err) : "failed");
	_exit(1);
}

int main(int argc, char **argv)
{
	unsigned char hdr[4], *buf;
	struct rec *recs;
	uint32_t len, n, i;

	if (argc != 3)
		die("usage: tsrun-init <sync_read_fd> <sync_write_fd>");
	g_sync_r = atoi(argv[1]);
	g_sync_w = atoi(argv[2]);
	if (fcntl(g_sync_r, F_SETFD, FD_CLOEXEC) < 0 || fcntl(g_sync_w, F_SETFD, FD_CLOEXEC) < 0)
		die("bad sync fds");
	/* Not dumpable from the first instruction when spawned by root: /proc/<pid>/{exe,mem,fd,...}
	 * stay closed to other processes (an unprivileged parent needs a dumpable init to write
	 * its id maps: then the plan's DUMPABLE op, after the namespaces, does it). */
	if (getuid() == 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (read_full(g_sync_r, hdr, 4) < 0)
		_exit(1);
	len = le32(hdr);
	if (len > 16u << 20)
		die("plan too large");
	buf = malloc(len + 1u);
	if (!buf)
		die("out of memory");
	if (read_full(g_sync_r, buf, len) < 0)
		_exit(1);
	n = parse_plan(buf, len, &recs);
	for (i = 0; i < n; i++) {
		g_err = 0;
		g_detail[0] = 0;
		if (run_op(&recs[i]) == 0)
			continue;
		if ((recs[i].flags & F_OPTIONAL) && g_err == ENOENT)
			continue;
		report(i, &recs[i]);
	}
	return 0;
}
