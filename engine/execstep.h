/*
 * execstep.h: running a response program (a playbook `exec` step or an
 * `exec` notification channel) without a shell and without blocking the
 * event loop.
 *
 * The program is started with fork/execve and an argv, so a value such as
 * `$(touch /tmp/x); rm -rf /` is one literal argument. Only regular,
 * executable, not world-writable files whose real path lies inside one of
 * the allowed folders may run. The child gets a fixed environment (PATH,
 * HOME, LANG, plus the variables the caller names), its own process group,
 * default signal handling, no inherited descriptors beyond 0-2, the input
 * (the alert JSON) on stdin, and a deadline after which its whole process
 * group gets SIGTERM and, a grace period later, SIGKILL. Output on stdout
 * and stderr is captured up to a cap; the rest is read and dropped so the
 * child never blocks on a full pipe.
 *
 * Exit is noticed through a pidfd on the loop (Linux >= 5.3), never by
 * polling waitpid. Nothing the program started outlives the step: when it
 * has exited and its output is closed (or a short linger passed), what is
 * left of its process group is killed.
 *
 * The process must not ignore SIGCHLD (that would reap children before us).
 * A job belongs to the loop thread that started it.
 */
#ifndef VG_EXECSTEP_H
#define VG_EXECSTEP_H

#include <stddef.h>
#include <stdint.h>

#include "vg.h"

struct event_base;

struct execstep_policy {
	char **dirs;             /* real paths of the allowed folders */
	size_t ndirs;
	int64_t timeout_ms;      /* default deadline (30 s) */
	int64_t kill_grace_ms;   /* SIGTERM to SIGKILL (2 s) */
	int64_t linger_ms;       /* output kept open after exit (1 s) */
	size_t max_output;       /* bytes kept per stream (64 KiB) */
};

/*
 * A policy allowing the given folders (each must exist, be a folder and
 * not be writable by everyone). Borrows dirs. Owned, or NULL with err.
 */
struct execstep_policy *execstep_policy_new(const char *const *dirs,
    size_t ndirs, struct vg_err *err);
void execstep_policy_free(struct execstep_policy *p);

/*
 * The real path of program `prog`: a bare name is looked up in the allowed
 * folders in order; a path (with a '/') must resolve inside one of them.
 * Returns an owned path, or NULL with err saying why it may not run.
 */
char *execstep_resolve(const struct execstep_policy *p, const char *prog,
    struct vg_err *err);

struct execstep_req {
	const char *prog;        /* resolved again when started */
	const char *const *args; /* argv[1..] (argv[0] is the real path) */
	size_t nargs;
	const char *const *env;  /* "NAME=value", added to the fixed set */
	size_t nenv;
	const char *input;       /* stdin; NULL or empty: stdin at EOF */
	size_t input_len;
	int64_t timeout_ms;      /* 0: the policy's */
	size_t max_output;       /* 0: the policy's */
};

struct execstep_result {
	int started;             /* 0: execve failed; error says why */
	int exit_code;           /* -1 when ended by a signal */
	int signo;               /* the signal, or 0 */
	int timed_out;
	char *out;               /* NUL-terminated; borrowed for the callback */
	size_t out_len;
	int out_truncated;
	char *err;
	size_t err_len;
	int err_truncated;
	int64_t ms;              /* run time */
	char error[256];
};

typedef void (*execstep_done_cb)(void *arg, const struct execstep_result *r);

struct execstep;

/*
 * Start req on base; cb runs once on the loop with the result, after which
 * the job is gone. Borrows policy (must outlive the job) and req (copied).
 * Returns the job, or NULL with err when nothing was started (program not
 * allowed, no resources).
 */
struct execstep *execstep_start(struct event_base *base,
    const struct execstep_policy *p, const struct execstep_req *req,
    execstep_done_cb cb, void *arg, struct vg_err *err);

/* Kill the job's process group and reap it (waits for the SIGKILLed child
 * to go); cb is not called. */
void execstep_cancel(struct execstep *x);

/* The child's process id (its process group too). */
int execstep_pid(const struct execstep *x);

#endif
