/*
 * redis_server.c: the embedded redis-server of redis.h: a private server on
 * a unix socket in the data folder (append-only file), started as a child
 * with no shell, waited for until it answers, supervised from the loop
 * (restarted with backoff when it dies) and stopped on exit. A server an
 * earlier vigil left running in the same folder is stopped first.
 *
 * It does not talk to the server beyond a PING at start-up: clients
 * (struct rds) connect on their own and retry while it restarts.
 */
#include "redis.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "log.h"

struct rds_server {
	char *dir;
	char *sock, *pidfile, *logfile;
	char *url;
	char *binary;     /* resolved path */
	int temp;
	int persist;
	pid_t pid;
	pid_t parent;
	uint64_t restarts;
	struct event *watch;
	int64_t next_start; /* monotonic ms; restart backoff */
	int64_t delay;
};

static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = vg_malloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* Resolve name through PATH (an execvp the child cannot run safely). */
static char *find_binary(const char *name)
{
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? vg_strdup(name) : NULL;
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	for (p = path; *p; ) {
		size_t n = strcspn(p, ":");
		char *dir = vg_strndup(n ? p : ".", n ? n : 1);
		char *f = path_join(dir, name);

		free(dir);
		if (access(f, X_OK) == 0)
			return f;
		free(f);
		p += n;
		if (*p == ':')
			p++;
	}
	if (access("/usr/bin/redis-server", X_OK) == 0 &&
	    strcmp(name, "redis-server") == 0)
		return vg_strdup("/usr/bin/redis-server");
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* 1: exited (reaped if ours), 0: running. */
static int child_gone(pid_t pid, int *status)
{
	pid_t w = waitpid(pid, status, WNOHANG);

	if (w == pid)
		return 1;
	if (w == 0)
		return 0;
	/* not our child any more (someone else reaped it): ask the kernel */
	*status = -1;
	return kill(pid, 0) < 0 && errno == ESRCH;
}

static int is_redis_process(pid_t pid)
{
	char path[64], comm[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	comm[n] = '\0';
	return strncmp(comm, "redis-server", 12) == 0 ||
	    strncmp(comm, "redis-check", 11) == 0;
}

/* A server an earlier vigil left running in our folder: stop it. */
static void stop_stale(struct rds_server *s)
{
	char *txt = vg_read_file(s->pidfile, NULL);
	long pid;

	if (txt == NULL)
		return;
	pid = strtol(txt, NULL, 10);
	free(txt);
	if (pid <= 1 || pid == (long)getpid() || kill((pid_t)pid, 0) < 0 ||
	    !is_redis_process((pid_t)pid))
		return;
	log_notice("redis-server: stopping pid %ld left running in %s", pid,
	    s->dir);
	kill((pid_t)pid, SIGTERM);
	for (int i = 0; i < 1000 && kill((pid_t)pid, 0) == 0; i++) {
		int st;

		waitpid((pid_t)pid, &st, WNOHANG);
		sleep_ms(10);
	}
	if (kill((pid_t)pid, 0) == 0)
		kill((pid_t)pid, SIGKILL);
}

static int spawn(struct rds_server *s, struct vg_err *err)
{
	const char *argv[32];
	int n = 0;
	pid_t pid;

	argv[n++] = s->binary;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--unixsocket";
	argv[n++] = s->sock;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	argv[n++] = "--dir";
	argv[n++] = s->dir;
	argv[n++] = "--pidfile";
	argv[n++] = s->pidfile;
	argv[n++] = "--logfile";
	argv[n++] = s->logfile;
	argv[n++] = "--daemonize";
	argv[n++] = "no";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = s->persist ? "yes" : "no";
	argv[n++] = "--appendfsync";
	argv[n++] = "everysec";
	argv[n++] = NULL;

	unlink(s->sock);
	s->parent = getpid();
	pid = fork();
	if (pid < 0) {
		vg_err_set(err, NULL, 0, 0, "cannot fork redis-server: %s",
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* only async-signal-safe calls from here on */
		sigset_t none;
		struct sigaction dfl;
		int fd;

		setpgid(0, 0); /* a terminal's ^C goes to vigil, not here */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != s->parent)
			_exit(1);
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (close_range(3, ~0U, 0) < 0)
			for (int i = 3; i < 4096; i++)
				close(i);
		execv(s->binary, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	return 0;
}

/* Wait until the server answers PING (not LOADING). */
static int wait_ready(struct rds_server *s, struct vg_err *err)
{
	int64_t end = vg_mono_ms() + 30000;

	while (vg_mono_ms() < end) {
		int st;
		struct timeval tv = { 0, 200000 };
		redisContext *c;

		if (child_gone(s->pid, &st)) {
			char *log = vg_read_file(s->logfile, NULL);
			const char *last = "";

			if (log != NULL) {
				size_t n = strlen(log);

				while (n > 0 && log[n - 1] == '\n')
					log[--n] = '\0';
				last = strrchr(log, '\n') ? strrchr(log, '\n') + 1 : log;
			}
			vg_err_set(err, NULL, 0, 0,
			    "redis-server exited at start-up (status %d)%s%s",
			    st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			    *last ? ": " : "", last);
			free(log);
			s->pid = 0;
			return -1;
		}
		c = redisConnectUnixWithTimeout(s->sock, tv);
		if (c != NULL && c->err == 0) {
			redisReply *rep = redisCommand(c, "PING");
			int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;

			if (rep)
				freeReplyObject(rep);
			redisFree(c);
			if (ok)
				return 0;
		} else if (c != NULL) {
			redisFree(c);
		}
		sleep_ms(20);
	}
	vg_err_set(err, NULL, 0, 0, "redis-server did not answer within 30 s");
	return -1;
}

static void kill_and_wait(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (child_gone(pid, &st))
			return;
		sleep_ms(10);
	}
	log_warnx("redis-server: pid %d ignored SIGTERM for 10 s; killing it",
	    (int)pid);
	kill(pid, SIGKILL);
	for (int i = 0; i < 500; i++) {
		if (child_gone(pid, &st))
			return;
		sleep_ms(10);
	}
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void server_free(struct rds_server *s)
{
	if (s->temp && s->dir)
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(s->dir);
	free(s->sock);
	free(s->pidfile);
	free(s->logfile);
	free(s->url);
	free(s->binary);
	free(s);
}

struct rds_server *rds_server_start(const struct rds_server_conf *c,
    struct vg_err *err)
{
	struct rds_server *s = vg_calloc(1, sizeof(*s));
	size_t n;

	s->binary = find_binary(c->binary ? c->binary : "redis-server");
	if (s->binary == NULL) {
		vg_err_set(err, NULL, 0, 0, "%s not found (install the "
		    "redis-server package, or set redis.url)",
		    c->binary ? c->binary : "redis-server");
		goto fail;
	}
	if (c->dir == NULL) {
		const char *tmp = getenv("TMPDIR");
		char *tpl;

		if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 60)
			tmp = "/tmp";
		tpl = path_join(tmp, "vigil-redis.XXXXXX");
		if (mkdtemp(tpl) == NULL) {
			vg_err_set(err, NULL, 0, 0, "cannot make a folder in %s: %s",
			    tmp, strerror(errno));
			free(tpl);
			goto fail;
		}
		s->dir = tpl;
		s->temp = 1;
		s->persist = 0;
	} else {
		if (mkdir(c->dir, 0700) < 0 && errno != EEXIST) {
			vg_err_set(err, NULL, 0, 0, "cannot create %s: %s", c->dir,
			    strerror(errno));
			goto fail;
		}
		/* absolute: redis-server moves into --dir before it opens the
		 * socket, pid and log files named under it */
		if ((s->dir = realpath(c->dir, NULL)) == NULL) {
			vg_err_set(err, NULL, 0, 0, "cannot resolve %s: %s", c->dir,
			    strerror(errno));
			goto fail;
		}
		s->persist = c->persist;
	}
	s->sock = path_join(s->dir, "redis.sock");
	s->pidfile = path_join(s->dir, "redis.pid");
	s->logfile = path_join(s->dir, "redis.log");
	if (strlen(s->sock) >= 108) {
		vg_err_set(err, NULL, 0, 0, "socket path %s is too long for a unix "
		    "socket (use a shorter data_dir)", s->sock);
		goto fail;
	}
	n = strlen(s->sock) + 8;
	s->url = vg_malloc(n);
	snprintf(s->url, n, "unix://%s", s->sock);
	stop_stale(s);
	if (spawn(s, err) < 0 || wait_ready(s, err) < 0)
		goto fail;
	log_info("redis-server: pid %d on %s%s", (int)s->pid, s->sock,
	    s->persist ? " (append-only file)" : "");
	return s;
fail:
	if (s->pid > 0)
		kill_and_wait(s->pid);
	server_free(s);
	return NULL;
}

const char *rds_server_url(const struct rds_server *s)
{
	return s->url;
}

pid_t rds_server_pid(const struct rds_server *s)
{
	return s->pid;
}

uint64_t rds_server_restarts(const struct rds_server *s)
{
	return s->restarts;
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rds_server *s = arg;
	int st;

	(void)fd;
	(void)what;
	if (s->pid > 0) {
		if (!child_gone(s->pid, &st))
			return;
		if (st >= 0 && WIFSIGNALED(st))
			log_warnx("redis-server: pid %d killed by signal %d; "
			    "restarting", (int)s->pid, WTERMSIG(st));
		else
			log_warnx("redis-server: pid %d exited (status %d); "
			    "restarting", (int)s->pid,
			    st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		s->pid = 0;
		s->delay = s->delay == 0 ? 1000 : s->delay * 2;
		if (s->delay > 30000)
			s->delay = 30000;
		/* the first restart is immediate, repeated deaths back off */
		s->next_start = vg_mono_ms() + (s->restarts == 0 ? 0 : s->delay);
	}
	if (vg_mono_ms() >= s->next_start) {
		struct vg_err e = { 0 };

		if (spawn(s, &e) < 0) {
			log_errx("redis-server: %s", e.msg);
			s->next_start = vg_mono_ms() + s->delay;
			return;
		}
		s->restarts++;
		log_notice("redis-server: restarted as pid %d", (int)s->pid);
	}
}

int rds_server_supervise(struct rds_server *s, struct event_base *base)
{
	struct timeval tv = { 0, 500000 };

	if (s->watch != NULL)
		return 0;
	s->watch = event_new(base, -1, EV_PERSIST, watch_cb, s);
	if (s->watch == NULL || event_add(s->watch, &tv) < 0)
		return -1;
	return 0;
}

void rds_server_stop(struct rds_server *s)
{
	if (s == NULL)
		return;
	if (s->watch != NULL)
		event_free(s->watch);
	s->watch = NULL;
	kill_and_wait(s->pid);
	s->pid = 0;
	server_free(s);
}
