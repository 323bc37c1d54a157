/* Shared declarations of tsrun-init (see ffi/PLAN.md). */
#ifndef TSRUN_INIT_H
#define TSRUN_INIT_H

#include <stdint.h>
#include <sys/types.h>

struct rec {
	uint16_t op, flags, nint, nstr;
	int64_t *ints;
	char **strs;     /* each NUL-terminated (strs[i][lens[i]] == 0) */
	uint32_t *lens;
};

/* Set by a failing op: the errno to report (may be 0) and a short detail. */
extern int g_err;
extern char g_detail[512];
extern int g_ready;
extern int g_sync_r, g_sync_w;

int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int send_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int wait_answer(void);

/* path.c: rootfs paths (openat2 RESOLVE_IN_ROOT) or plain paths */
int root_set(const char *path);
int root_reopen(void);
void root_drop(void);
const char *root_path(void);
int root_active(void);
int plain(const struct rec *r);
int xopen(int plain, const char *path, int flags, mode_t mode);
int mkdir_p(int plain, const char *path, mode_t mode);
int open_parent(int plain, const char *path, mode_t mode, const char **name);
int create_file(int plain, const char *path, mode_t mode);

/* a path usable by path-based syscalls: /proc/self/fd/N or the plain path */
struct target {
	int fd;
	const char *path;
	char buf[32];
};
extern int resolve_no_symlinks;
int target_open(int plain, const char *path, struct target *t);
int target_reopen(int plain, const char *path, struct target *t);
void target_close(struct target *t);

int run_op(const struct rec *r);

/* copyup.c */
int op_tmpcopyup(const struct rec *r);

/* harden.c */
int op_mask(const struct rec *r);
int op_proc_write(const struct rec *r);
int op_mempolicy(const struct rec *r);
int readonly_fd(int plain, const char *path);
int bind_fd(int src, int target, int recursive);
int proc_write(const char *rel, const char *data, size_t len);

#endif
