/*
 * execstep.c: fork/execve of allowed programs on a libevent loop; see
 * execstep.h for the contract.
 *
 * Everything the child needs (argv, envp, the path) is built before fork:
 * between fork and execve the child calls only async-signal-safe functions,
 * which matters because vigild has threads. An execve failure travels back
 * over a close-on-exec pipe (EOF there means the exec happened).
 *
 * The child's exit is read with waitid(WNOWAIT) when its pidfd turns
 * readable, and the zombie is only reaped when the job finishes, right
 * after the process group was killed: while the zombie exists its pid
 * cannot be reused, so that kill can never reach a stranger's group.
 *
 * stdin is a socketpair, not a pipe, so that writing to a child that never
 * reads (or already exited) fails with EPIPE through MSG_NOSIGNAL instead of
 * raising SIGPIPE in the whole daemon.
 */
#include "execstep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEF_TIMEOUT_MS 30000
#define DEF_GRACE_MS 2000
#define DEF_LINGER_MS 1000
#define DEF_MAX_OUTPUT 65536
#define MAX_ARGS 256
#define MAX_ENV 64

static const char *const base_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
	"LANG=C.UTF-8",
};

struct stream {
	int fd;
	struct event *ev;
	struct buf b;
	size_t cap;
	int truncated;
};

struct execstep {
	struct event_base *base;
	const struct execstep_policy *pol;
	pid_t pid;
	int pidfd;
	int status_fd;           /* read end of the exec-error pipe */
	struct event *ev_exit, *ev_in, *ev_timer;
	int in_fd;
	char *input;
	size_t in_len, in_off;
	struct stream out, err;
	int exited;              /* waitid saw the exit; zombie not reaped */
	int killing;             /* 0, 1: SIGTERM sent, 2: SIGKILL sent */
	int lingering;
	int64_t t0;
	execstep_done_cb cb;
	void *arg;
	struct execstep_result res;
};

/* ---- policy ---- */

void execstep_policy_free(struct execstep_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ndirs; i++)
		free(p->dirs[i]);
	free(p->dirs);
	free(p);
}

struct execstep_policy *execstep_policy_new(const char *const *dirs,
    size_t ndirs, struct vg_err *err)
{
	struct execstep_policy *p = vg_calloc(1, sizeof(*p));

	p->timeout_ms = DEF_TIMEOUT_MS;
	p->kill_grace_ms = DEF_GRACE_MS;
	p->linger_ms = DEF_LINGER_MS;
	p->max_output = DEF_MAX_OUTPUT;
	p->dirs = vg_calloc(ndirs ? ndirs : 1, sizeof(*p->dirs));
	for (size_t i = 0; i < ndirs; i++) {
		char *real = realpath(dirs[i], NULL);
		struct stat st;

		if (real == NULL || stat(real, &st) < 0) {
			vg_err_set(err, NULL, 0, 0, "exec folder %s: %s", dirs[i],
			    strerror(errno));
			free(real);
			goto fail;
		}
		if (!S_ISDIR(st.st_mode) || (st.st_mode & S_IWOTH)) {
			vg_err_set(err, NULL, 0, 0, "exec folder %s: %s", dirs[i],
			    !S_ISDIR(st.st_mode) ? "not a folder" :
			    "writable by everyone");
			free(real);
			goto fail;
		}
		p->dirs[p->ndirs++] = real;
	}
	return p;
fail:
	execstep_policy_free(p);
	return NULL;
}

static int inside(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(dir, path, n) == 0 && path[n] == '/';
}

/* Check one candidate; the owned real path or NULL (why in *why). */
static char *check_prog(const struct execstep_policy *p, const char *path,
    const char **why)
{
	char *real = realpath(path, NULL);
	struct stat st;
	size_t i;

	if (real == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	for (i = 0; i < p->ndirs && !inside(p->dirs[i], real); i++)
		;
	if (i == p->ndirs)
		*why = "not inside an allowed exec folder";
	else if (stat(real, &st) < 0)
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_mode & S_IWOTH)
		*why = "writable by everyone";
	else if (access(real, X_OK) < 0)
		*why = "not executable";
	else
		return real;
	free(real);
	return NULL;
}

char *execstep_resolve(const struct execstep_policy *p, const char *prog,
    struct vg_err *err)
{
	const char *why = "no allowed exec folders are configured";
	char *real;

	if (prog == NULL || *prog == '\0') {
		vg_err_set(err, NULL, 0, 0, "empty program name");
		return NULL;
	}
	if (strchr(prog, '/') != NULL) {
		if ((real = check_prog(p, prog, &why)) != NULL)
			return real;
		vg_err_set(err, NULL, 0, 0, "program %s: %s", prog, why);
		return NULL;
	}
	if (strcmp(prog, ".") == 0 || strcmp(prog, "..") == 0) {
		vg_err_set(err, NULL, 0, 0, "program %s: not a program", prog);
		return NULL;
	}
	for (size_t i = 0; i < p->ndirs; i++) {
		char path[PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dirs[i], prog) >=
		    sizeof(path))
			continue;
		if ((real = check_prog(p, path, &why)) != NULL)
			return real;
	}
	vg_err_set(err, NULL, 0, 0, "program %s: %s", prog, p->ndirs ? why :
	    "no allowed exec folders are configured");
	return NULL;
}

/* ---- the child ---- */

/* Make fd the descriptor `to` without close-on-exec. */
static int put_fd(int fd, int to)
{
	if (fd == to)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, to) < 0 ? -1 : 0;
}

static VG_NORETURN void child(const char *path, char *const *argv,
    char *const *envp, int in, int out, int err, int status)
{
	struct sigaction sa;
	sigset_t none;
	int e;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++) {
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* move the pipe ends clear of 0-2 first, so no dup2 clobbers one */
	if (in < 3)
		in = fcntl(in, F_DUPFD_CLOEXEC, 3);
	if (out < 3)
		out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	if (err < 3)
		err = fcntl(err, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0 || err < 0 || put_fd(in, 0) < 0 ||
	    put_fd(out, 1) < 0 || put_fd(err, 2) < 0)
		goto fail;
	/* whatever the daemon (or a library) left open must not reach the
	 * program; the status pipe closes itself at exec */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3; fd < 4096; fd++) {
			if (fd != status)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
	}
	umask(022);
	if (chdir("/") < 0)
		goto fail;
	execve(path, argv, envp);
fail:
	e = errno;
	while (write(status, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* ---- the parent side ---- */

static void finish(struct execstep *x);

static void close_stream(struct stream *s)
{
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

static void close_input(struct execstep *x)
{
	if (x->ev_in != NULL) {
		event_free(x->ev_in);
		x->ev_in = NULL;
	}
	if (x->in_fd >= 0) {
		close(x->in_fd);
		x->in_fd = -1;
	}
}

static void maybe_done(struct execstep *x)
{
	if (x->exited && x->out.fd < 0 && x->err.fd < 0)
		finish(x);
}

static void stream_cb(evutil_socket_t fd, short what, void *arg)
{
	struct execstep *x = arg;
	struct stream *s = fd == x->out.fd ? &x->out : &x->err;
	char tmp[16384];

	(void)what;
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(s->fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close_stream(s);
			maybe_done(x);
			return;
		}
		if (s->b.len < s->cap) {
			size_t keep = (size_t)n;

			if (keep > s->cap - s->b.len) {
				keep = s->cap - s->b.len;
				s->truncated = 1;
			}
			buf_add(&s->b, tmp, keep);
		} else {
			s->truncated = 1;
		}
	}
}

static void input_cb(evutil_socket_t fd, short what, void *arg)
{
	struct execstep *x = arg;

	(void)fd;
	(void)what;
	while (x->in_off < x->in_len) {
		ssize_t n = send(x->in_fd, x->input + x->in_off, x->in_len - x->in_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break; /* the child does not read its input: fine */
		x->in_off += (size_t)n;
	}
	close_input(x);
}

static void kill_group(struct execstep *x, int sig)
{
	if (kill(-x->pid, sig) < 0 && errno == ESRCH)
		kill(x->pid, sig);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct execstep *x = arg;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (x->lingering) {
		/* exited long ago, but something still holds its output */
		finish(x);
		return;
	}
	if (x->killing == 0) {
		x->res.timed_out = 1;
		x->killing = 1;
		kill_group(x, SIGTERM);
		tv.tv_sec = x->pol->kill_grace_ms / 1000;
		tv.tv_usec = (x->pol->kill_grace_ms % 1000) * 1000;
		evtimer_add(x->ev_timer, &tv);
		return;
	}
	x->killing = 2;
	kill_group(x, SIGKILL);
}

static void exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct execstep *x = arg;
	siginfo_t si;
	int e = 0;
	ssize_t n;

	(void)fd;
	(void)what;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)x->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		if (errno != ECHILD)
			return;
		/* someone else reaped it (SIGCHLD ignored): status unknown */
		si.si_code = CLD_KILLED;
		si.si_status = 0;
		snprintf(x->res.error, sizeof(x->res.error), "exit status lost: "
		    "the child was reaped elsewhere (is SIGCHLD ignored?)");
	} else if (si.si_pid == 0) {
		return; /* spurious: wait for the next readiness */
	}
	event_del(x->ev_exit);
	x->exited = 1;
	if (si.si_code == CLD_EXITED) {
		x->res.exit_code = si.si_status;
	} else {
		x->res.exit_code = -1;
		x->res.signo = si.si_status;
	}
	while ((n = read(x->status_fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(e)) {
		x->res.started = 0;
		snprintf(x->res.error, sizeof(x->res.error), "execve: %s",
		    strerror(e));
	}
	if (x->out.fd < 0 && x->err.fd < 0) {
		finish(x);
	} else {
		struct timeval tv;

		x->lingering = 1;
		evtimer_del(x->ev_timer);
		tv.tv_sec = x->pol->linger_ms / 1000;
		tv.tv_usec = (x->pol->linger_ms % 1000) * 1000;
		evtimer_add(x->ev_timer, &tv);
	}
}

static void job_free(struct execstep *x)
{
	close_input(x);
	close_stream(&x->out);
	close_stream(&x->err);
	buf_free(&x->out.b);
	buf_free(&x->err.b);
	if (x->ev_exit != NULL)
		event_free(x->ev_exit);
	if (x->ev_timer != NULL)
		event_free(x->ev_timer);
	if (x->pidfd >= 0)
		close(x->pidfd);
	if (x->status_fd >= 0)
		close(x->status_fd);
	free(x->input);
	free(x);
}

static void finish(struct execstep *x)
{
	int st;

	/* the zombie still holds the pid, so the group id is still ours */
	kill_group(x, SIGKILL);
	while (waitpid(x->pid, &st, 0) < 0 && errno == EINTR)
		;
	x->res.ms = vg_mono_ms() - x->t0;
	x->res.out = (char *)buf_cstr(&x->out.b);
	x->res.out_len = x->out.b.len;
	x->res.out_truncated = x->out.truncated;
	x->res.err = (char *)buf_cstr(&x->err.b);
	x->res.err_len = x->err.b.len;
	x->res.err_truncated = x->err.truncated;
	if (x->cb != NULL)
		x->cb(x->arg, &x->res);
	job_free(x);
}

void execstep_cancel(struct execstep *x)
{
	if (x == NULL)
		return;
	x->cb = NULL;
	kill_group(x, SIGKILL);
	finish(x);
}

int execstep_pid(const struct execstep *x)
{
	return (int)x->pid;
}

static int valid_env(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv)
		return 0;
	for (const char *c = kv; c < eq; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    *c == '_' || (c > kv && *c >= '0' && *c <= '9')))
			return 0;
	}
	return 1;
}

struct execstep *execstep_start(struct event_base *base,
    const struct execstep_policy *p, const struct execstep_req *req,
    execstep_done_cb cb, void *arg, struct vg_err *err)
{
	struct execstep *x = NULL;
	char *path = NULL;
	char **argv = NULL, **envp = NULL;
	size_t nenv = 0;
	int sp[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 },
	    ps[2] = { -1, -1 };
	struct timeval tv;
	int64_t timeout;

	if (req->nargs > MAX_ARGS || req->nenv > MAX_ENV) {
		vg_err_set(err, NULL, 0, 0, "exec: too many arguments or variables");
		return NULL;
	}
	if ((path = execstep_resolve(p, req->prog, err)) == NULL)
		return NULL;
	argv = vg_calloc(req->nargs + 2, sizeof(*argv));
	argv[0] = path;
	for (size_t i = 0; i < req->nargs; i++)
		argv[i + 1] = (char *)req->args[i];
	envp = vg_calloc(VG_ARRAY_LEN(base_env) + req->nenv + 1, sizeof(*envp));
	for (size_t i = 0; i < req->nenv; i++) {
		if (!valid_env(req->env[i])) {
			vg_err_set(err, NULL, 0, 0, "exec: bad environment entry '%.32s'",
			    req->env[i]);
			goto fail;
		}
		envp[nenv++] = (char *)req->env[i];
	}
	for (size_t i = 0; i < VG_ARRAY_LEN(base_env); i++) {
		size_t kl = (size_t)(strchr(base_env[i], '=') - base_env[i]) + 1;
		size_t j;

		for (j = 0; j < req->nenv && strncmp(req->env[j], base_env[i], kl); j++)
			;
		if (j == req->nenv)
			envp[nenv++] = (char *)base_env[i];
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ||
	    pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(ps, O_CLOEXEC) < 0) {
		vg_err_set(err, NULL, 0, 0, "exec: %s", strerror(errno));
		goto fail;
	}
	x = vg_calloc(1, sizeof(*x));
	x->base = base;
	x->pol = p;
	x->cb = cb;
	x->arg = arg;
	x->pidfd = x->status_fd = x->in_fd = -1;
	x->out.fd = x->err.fd = -1;
	buf_init(&x->out.b);
	buf_init(&x->err.b);
	x->out.cap = x->err.cap = req->max_output ? req->max_output : p->max_output;
	x->res.started = 1;
	x->t0 = vg_mono_ms();
	x->pid = fork();
	if (x->pid < 0) {
		vg_err_set(err, NULL, 0, 0, "exec: fork: %s", strerror(errno));
		goto fail;
	}
	if (x->pid == 0)
		child(path, argv, envp, sp[1], po[1], pe[1], ps[1]);
	setpgid(x->pid, x->pid); /* either side may win this race */
	close(sp[1]);
	close(po[1]);
	close(pe[1]);
	close(ps[1]);
	sp[1] = po[1] = pe[1] = ps[1] = -1;
	x->in_fd = sp[0];
	x->out.fd = po[0];
	x->err.fd = pe[0];
	x->status_fd = ps[0];
	sp[0] = po[0] = pe[0] = ps[0] = -1;
	x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	if (x->pidfd < 0) {
		vg_err_set(err, NULL, 0, 0, "exec: pidfd_open: %s (Linux 5.3 or "
		    "later is needed)", strerror(errno));
		x->cb = NULL;
		finish(x);
		x = NULL;
		goto fail;
	}
	evutil_make_socket_nonblocking(x->in_fd);
	evutil_make_socket_nonblocking(x->out.fd);
	evutil_make_socket_nonblocking(x->err.fd);
	evutil_make_socket_nonblocking(x->status_fd);
	x->ev_exit = event_new(base, x->pidfd, EV_READ | EV_PERSIST, exit_cb, x);
	x->out.ev = event_new(base, x->out.fd, EV_READ | EV_PERSIST, stream_cb, x);
	x->err.ev = event_new(base, x->err.fd, EV_READ | EV_PERSIST, stream_cb, x);
	x->ev_timer = evtimer_new(base, timer_cb, x);
	event_add(x->ev_exit, NULL);
	event_add(x->out.ev, NULL);
	event_add(x->err.ev, NULL);
	if (req->input != NULL && req->input_len > 0) {
		x->input = vg_malloc(req->input_len);
		memcpy(x->input, req->input, req->input_len);
		x->in_len = req->input_len;
		x->ev_in = event_new(base, x->in_fd, EV_WRITE | EV_PERSIST, input_cb, x);
		event_add(x->ev_in, NULL);
	} else {
		close_input(x);
	}
	timeout = req->timeout_ms > 0 ? req->timeout_ms : p->timeout_ms;
	tv.tv_sec = timeout / 1000;
	tv.tv_usec = (timeout % 1000) * 1000;
	evtimer_add(x->ev_timer, &tv);
	free(argv);
	free(envp);
	free(path);
	return x;
fail:
	for (int i = 0; i < 2; i++) {
		if (sp[i] >= 0)
			close(sp[i]);
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
		if (ps[i] >= 0)
			close(ps[i]);
	}
	if (x != NULL)
		job_free(x);
	free(argv);
	free(envp);
	free(path);
	return NULL;
}
