/*
 * test_exec.c: execstep on a real libevent loop: arguments arrive as exact
 * literal argv entries (nothing is run by a shell), the environment is the
 * fixed one, stdin carries the input, output is captured and capped, the
 * deadline kills the whole process group, and only allowed programs run.
 *
 * Scripts are written into a private temporary folder; every wait is on the
 * loop until the job reports, never a sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include <jansson.h>

#include "unit.h"
#include "../../engine/execstep.h"
#include "../../engine/playbook.h"

static char dir[64];
static char pwned[128];
static struct event_base *base;
static struct execstep_policy *pol;

struct got {
	int done;
	struct execstep_result r;
	char out[1 << 16];
	char err[4096];
	size_t out_len;
};

static void done_cb(void *arg, const struct execstep_result *r)
{
	struct got *g = arg;

	g->done = 1;
	g->r = *r;
	g->out_len = r->out_len < sizeof(g->out) - 1 ? r->out_len : sizeof(g->out) - 1;
	memcpy(g->out, r->out, g->out_len);
	g->out[g->out_len] = '\0';
	snprintf(g->err, sizeof(g->err), "%s", r->err);
	g->r.out = g->out;
	g->r.err = g->err;
}

static void script(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Has pid ended (gone, or a zombie nobody reaped) within deadline_ms?
 * SIGKILL takes effect asynchronously, so look until the deadline. */
static int gone_within(pid_t pid, int deadline_ms)
{
	for (int waited = 0; waited < deadline_ms; waited += 10) {
		char path[64], stat[256] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((f = fopen(path, "r")) == NULL)
			return 1;
		if (fgets(stat, sizeof(stat), f) == NULL)
			stat[0] = '\0';
		fclose(f);
		if (strstr(stat, ") Z ") != NULL)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Run req to completion on the loop. Returns 0 when it started. */
static int run(struct execstep_req *req, struct got *g)
{
	struct vg_err err = { 0 };
	struct execstep *x;

	memset(g, 0, sizeof(*g));
	x = execstep_start(base, pol, req, done_cb, g, &err);
	if (x == NULL) {
		fprintf(stderr, "  start: %s\n", err.msg);
		return -1;
	}
	while (!g->done)
		event_base_loop(base, EVLOOP_ONCE);
	return 0;
}

TEST(hostile_values_are_single_literal_arguments)
{
	const char *args[] = {
		"$(touch PWNED); rm -rf /", "; id", "`id`", "a b\tc", "",
		"--ip=203.0.113.9", "\"quoted\" 'single' \\back",
		"line1\nline2", "*", "$HOME",
	};
	struct execstep_req req = { 0 };
	struct got g;
	char a0[160];

	/* the marker must not exist afterwards; make the path absolute */
	snprintf(a0, sizeof(a0), "$(touch %s); rm -rf /", pwned);
	args[0] = a0;
	req.prog = "argv.py";
	req.args = args;
	req.nargs = VG_ARRAY_LEN(args);
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.exit_code, 0);
	CHECK_INT(g.r.started, 1);
	{
		char want[1024];

		snprintf(want, sizeof(want), "10\n[\"$(touch %s); rm -rf /\", \"; id\", "
		    "\"`id`\", \"a b\\tc\", \"\", \"--ip=203.0.113.9\", "
		    "\"\\\"quoted\\\" 'single' \\\\back\", \"line1\\nline2\", \"*\", "
		    "\"$HOME\"]\n", pwned);
		CHECK_STR(g.out, want);
	}
	CHECK(access(pwned, F_OK) < 0 && errno == ENOENT);
}

/* The whole path: alert fields templated by a playbook's exec step reach
 * the program as single literal arguments, the alert JSON on stdin. */
TEST(playbook_exec_step_end_to_end)
{
	static const char pbtext[] =
	    "name: contain\nmatch: {level: low}\nsteps:\n"
	    "  - exec: [argv.py, --user, '{{user.name}}', '{{message}}', "
	    "'--ip={{source.ip}}']\n";
	struct playbook_opts o;
	struct playbook_stats st;
	struct vg_diag d;
	struct playbook_set *s;
	struct pb_vars v;
	struct pb_call c;
	struct execstep_req req = { 0 };
	struct got g;
	char why[256], want[1024];
	json_t *a;

	memset(&o, 0, sizeof(o));
	o.exec = pol;
	vg_diag_init(&d, stderr);
	s = playbook_load_buffer("contain.yml", pbtext, strlen(pbtext), &o, &d, &st);
	CHECK_INT(st.loaded, 1);
	a = json_pack("{s:s,s:{s:s,s:s},s:{s:{s:s},s:{s:s},s:s}}", "id", "a1",
	    "rule", "id", "r1", "level", "high", "event", "user", "name",
	    "$(touch PWNED); rm -rf /", "source", "ip", "203.0.113.9",
	    "message", "; id");
	/* the marker path must be absolute to be meaningful */
	json_object_set_new(json_object_get(json_object_get(a, "event"), "user"),
	    "name", json_sprintf("$(touch %s); rm -rf /", pwned));
	memset(&v, 0, sizeof(v));
	v.alert = a;
	if (st.loaded != 1 || playbook_prepare(s, s->pbs[0], &s->pbs[0]->steps[0],
	    &v, "vigil:", &c, why, sizeof(why)) < 0) {
		UNIT_FAIL("prepare: %s", why);
		goto out;
	}
	req.prog = c.prog;
	req.args = (const char *const *)c.args;
	req.nargs = c.nargs;
	req.input = c.body;
	req.input_len = c.body_len;
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.exit_code, 0);
	snprintf(want, sizeof(want), "4\n[\"--user\", \"$(touch %s); rm -rf /\", "
	    "\"; id\", \"--ip=203.0.113.9\"]\n", pwned);
	CHECK_STR(g.out, want);
	CHECK(access(pwned, F_OK) < 0 && errno == ENOENT);
	playbook_call_free(&c);
out:
	json_decref(a);
	playbook_set_free(s);
}

TEST(fixed_environment_and_stdin)
{
	const char *env[] = { "VIGIL_INCIDENT=inc-42", "LANG=C" };
	const char *input = "{\"rule\":{\"id\":\"r1\"}}\n";
	struct execstep_req req = { 0 };
	struct got g;

	setenv("VIGIL_TEST_SECRET", "do-not-leak", 1);
	req.prog = "env.py";
	req.env = env;
	req.nenv = 2;
	req.input = input;
	req.input_len = strlen(input);
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.exit_code, 0);
	CHECK_STR(g.out, "HOME=/\nLANG=C\n"
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	    "VIGIL_INCIDENT=inc-42\n"
	    "cwd=/\nfd100=no\nstdin={\"rule\":{\"id\":\"r1\"}}\n\n");
}

TEST(large_input_to_a_program_that_does_not_read)
{
	struct execstep_req req = { 0 };
	struct got g;
	size_t n = 4 << 20;
	char *big = malloc(n);

	memset(big, 'x', n);
	req.prog = "true.sh";
	req.input = big;
	req.input_len = n;
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.exit_code, 0);
	CHECK_INT(g.r.timed_out, 0);
	free(big);
}

TEST(output_is_capped)
{
	struct execstep_req req = { 0 };
	struct got g;

	req.prog = "noisy.sh";
	req.max_output = 1000;
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.exit_code, 3);
	CHECK_INT(g.r.out_len, 1000);
	CHECK_INT(g.r.out_truncated, 1);
	CHECK_STR(g.err, "done\n");
	CHECK_INT(g.r.err_truncated, 0);
}

TEST(deadline_kills_the_process_group)
{
	struct execstep_req req = { 0 };
	struct got g;
	char pidfile[160], buf[32] = "";
	FILE *f;
	const char *args[1];
	long bg = 0;

	snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", dir);
	args[0] = pidfile;
	req.prog = "hang.sh";
	req.args = args;
	req.nargs = 1;
	req.timeout_ms = 300;
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.timed_out, 1);
	CHECK_INT(g.r.exit_code, -1);
	CHECK_INT(g.r.signo, SIGTERM);
	/* the background child it started is gone too */
	f = fopen(pidfile, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			bg = strtol(buf, NULL, 10);
		fclose(f);
	}
	CHECK(bg > 0);
	CHECK(bg > 0 && gone_within((pid_t)bg, 10000));
}

TEST(sigterm_ignored_then_sigkill)
{
	struct execstep_req req = { 0 };
	struct got g;

	pol->kill_grace_ms = 200;
	req.prog = "stubborn.sh";
	req.timeout_ms = 200;
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.timed_out, 1);
	CHECK_INT(g.r.signo, SIGKILL);
	CHECK_STR(g.out, "ready\n");
	pol->kill_grace_ms = 2000;
}

TEST(background_holder_of_output_is_killed_after_linger)
{
	struct execstep_req req = { 0 };
	struct got g;

	pol->linger_ms = 100;
	req.prog = "daemonize.sh";
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.exit_code, 0);
	CHECK_INT(g.r.timed_out, 0);
	CHECK_STR(g.out, "parent done\n");
	pol->linger_ms = 1000;
}

TEST(only_allowed_programs_run)
{
	struct vg_err err = { 0 };
	char path[256], *real;
	struct execstep_req req = { 0 };
	struct got g;

	CHECK(execstep_resolve(pol, "/bin/sh", &err) == NULL);
	CHECK_STR(err.msg, "program /bin/sh: not inside an allowed exec folder");
	vg_err_clear(&err);
	CHECK(execstep_resolve(pol, "sh", &err) == NULL);
	CHECK_STR(err.msg, "program sh: No such file or directory");
	vg_err_clear(&err);
	/* a link inside the folder to a program outside it */
	CHECK(execstep_resolve(pol, "link-to-sh", &err) == NULL);
	CHECK_STR(err.msg, "program link-to-sh: not inside an allowed exec folder");
	vg_err_clear(&err);
	snprintf(path, sizeof(path), "%s/../%s/../../bin/true", dir, dir + 5);
	CHECK(execstep_resolve(pol, path, &err) == NULL);
	vg_err_clear(&err);
	CHECK(execstep_resolve(pol, "plain.txt", &err) == NULL);
	CHECK_STR(err.msg, "program plain.txt: not executable");
	vg_err_clear(&err);
	CHECK(execstep_resolve(pol, "open.sh", &err) == NULL);
	CHECK_STR(err.msg, "program open.sh: writable by everyone");
	vg_err_clear(&err);
	CHECK(execstep_resolve(pol, "..", &err) == NULL);
	snprintf(path, sizeof(path), "%s/true.sh", dir);
	real = execstep_resolve(pol, path, &err);
	CHECK(real != NULL && strstr(real, "/true.sh") != NULL);
	free(real);
	req.prog = "/bin/sh";
	CHECK(execstep_start(base, pol, &req, done_cb, &g, &err) == NULL);
	/* an interpreter that does not exist: execve fails in the child */
	req.prog = "badshebang.sh";
	CHECK_INT(run(&req, &g), 0);
	CHECK_INT(g.r.started, 0);
	CHECK_INT(g.r.exit_code, 127);
	CHECK_STR(g.r.error, "execve: No such file or directory");
}

TEST(policy_refuses_open_folders)
{
	struct vg_err err = { 0 };
	const char *dirs[] = { "/tmp" };
	const char *missing[] = { "/nonexistent/vigil" };

	CHECK(execstep_policy_new(dirs, 1, &err) == NULL);
	CHECK_STR(err.msg, "exec folder /tmp: writable by everyone");
	vg_err_clear(&err);
	CHECK(execstep_policy_new(missing, 1, &err) == NULL);
	CHECK_STR(err.msg, "exec folder /nonexistent/vigil: No such file or directory");
	execstep_policy_free(NULL);
}

TEST(cancel_kills_and_reaps)
{
	struct execstep_req req = { 0 };
	struct vg_err err = { 0 };
	struct got g;
	struct execstep *x;
	const char *args[] = { "/dev/null" };
	pid_t pid;

	memset(&g, 0, sizeof(g));
	req.prog = "hang.sh";
	req.args = args;
	req.nargs = 1;
	x = execstep_start(base, pol, &req, done_cb, &g, &err);
	CHECK(x != NULL);
	if (x == NULL)
		return;
	pid = execstep_pid(x);
	execstep_cancel(x);
	CHECK_INT(g.done, 0);
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
}

static void setup(void)
{
	struct vg_err err = { 0 };
	const char *dirs[1];
	char link[256];
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/vigil-exec.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(pwned, sizeof(pwned), "%s/pwned", dir);
	script("argv.py", "#!/usr/bin/python3\nimport json, sys\n"
	    "print(len(sys.argv) - 1)\nprint(json.dumps(sys.argv[1:]))\n", 0755);
	script("env.py", "#!/usr/bin/python3\nimport os, sys\n"
	    "env = open('/proc/self/environ', 'rb').read().split(b'\\0')\n"
	    "for kv in sorted(e.decode() for e in env if e): print(kv)\n"
	    "print('cwd=' + os.getcwd())\n"
	    "print('fd100=' + ('yes' if os.path.exists('/proc/self/fd/100') else 'no'))\n"
	    "print('stdin=' + sys.stdin.read())\n", 0755);
	script("true.sh", "#!/bin/sh\nexit 0\n", 0755);
	script("noisy.sh", "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' a\n"
	    "echo done >&2\nexit 3\n", 0755);
	script("hang.sh", "#!/bin/sh\nsleep 600 &\necho $! > \"$1\"\nwait\n", 0755);
	script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\necho ready\n"
	    "while :; do sleep 1; done\n", 0755);
	script("daemonize.sh", "#!/bin/sh\nsleep 600 &\necho parent done\n", 0755);
	script("badshebang.sh", "#!/nonexistent/interpreter\n", 0755);
	script("plain.txt", "hello\n", 0644);
	script("open.sh", "#!/bin/sh\n", 0777);
	snprintf(link, sizeof(link), "%s/open.sh", dir);
	chmod(link, 0777);
	snprintf(link, sizeof(link), "%s/link-to-sh", dir);
	if (symlink("/bin/sh", link) < 0)
		perror("symlink");
	dirs[0] = dir;
	pol = execstep_policy_new(dirs, 1, &err);
	if (pol == NULL) {
		fprintf(stderr, "policy: %s\n", err.msg);
		exit(1);
	}
	base = event_base_new();
	/* a descriptor without close-on-exec must not reach the child */
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 100);
	close(fd);
	/* vigild ignores SIGPIPE; the child must get it back at default */
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	char cmd[128];

	close(100);
	event_base_free(base);
	execstep_policy_free(pol);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

int main(void)
{
	setup();
	RUN(hostile_values_are_single_literal_arguments);
	RUN(playbook_exec_step_end_to_end);
	RUN(fixed_environment_and_stdin);
	RUN(large_input_to_a_program_that_does_not_read);
	RUN(output_is_capped);
	RUN(deadline_kills_the_process_group);
	RUN(sigterm_ignored_then_sigkill);
	RUN(background_holder_of_output_is_killed_after_linger);
	RUN(only_allowed_programs_run);
	RUN(policy_refuses_open_folders);
	RUN(cancel_kills_and_reaps);
	teardown();
	return unit_done();
}
