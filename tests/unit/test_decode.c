/*
 * test_decode.c: the decoder loader and matcher, and every shipped decoder
 * in parsers/ (run from the repository root): for each, lines that must
 * decode to exact fields and near misses that must not.
 */
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "../../engine/decode_int.h"
#include "../../engine/event.h"

static struct decode_set *S;   /* the shipped parsers/ */
static struct decode_ctx *C;
static struct vg_event *E;
static char tmpdir[64];

/* Decode msg as if logged by prog (NULL: no process.name) with set/ctx. */
static const char *dec_with(struct decode_set *set, struct decode_ctx *ctx,
    const char *prog, const char *msg, size_t len)
{
	vg_event_reset(E);
	if (prog != NULL)
		vg_event_add(E, F_PROCESS_NAME, prog, strlen(prog));
	vg_event_add(E, F_MESSAGE, msg, len);
	return decode_event(set, ctx, E);
}

static const char *dec(const char *prog, const char *msg)
{
	return dec_with(S, C, prog, msg, strlen(msg));
}

static const char *fstr(const char *name)
{
	uint32_t id = field_lookup(name, strlen(name));

	return id == FIELD_NONE ? NULL : vg_event_str(E, id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The event must hold exactly these fields besides process.name and
 * message, as "name=value" ("name=#value" for a number), in any order.
 */
static void expect_fields(const char *file, int line, const char *const *want)
{
	char *got[128], *exp[128];
	size_t ng = 0, ne = 0;
	int bad = 0;

	for (uint32_t i = 0; i < E->n && ng < 128; i++) {
		const struct fent *e = &E->ents[i];

		if (e->dead || e->id == F_PROCESS_NAME || e->id == F_MESSAGE)
			continue;
		if (asprintf(&got[ng++], "%s=%s%s", e->name,
		    e->v.kind == V_NUM ? "#" : "", e->v.s) < 0)
			abort();
	}
	while (want[ne] != NULL && ne < 128) {
		exp[ne] = strdup(want[ne]);
		ne++;
	}
	qsort(got, ng, sizeof(*got), cmp_str);
	qsort(exp, ne, sizeof(*exp), cmp_str);
	if (ng != ne)
		bad = 1;
	for (size_t i = 0; !bad && i < ng; i++)
		bad = strcmp(got[i], exp[i]) != 0;
	if (bad) {
		unit_fail_now++;
		fprintf(stderr, "  %s:%d: fields differ\n    got:", file, line);
		for (size_t i = 0; i < ng; i++)
			fprintf(stderr, " [%s]", got[i]);
		fprintf(stderr, "\n    want:");
		for (size_t i = 0; i < ne; i++)
			fprintf(stderr, " [%s]", exp[i]);
		fputc('\n', stderr);
	}
	for (size_t i = 0; i < ng; i++)
		free(got[i]);
	for (size_t i = 0; i < ne; i++)
		free(exp[i]);
}

#define EXPECT_FIELDS(...) \
	expect_fields(__FILE__, __LINE__, (const char *const[]){ __VA_ARGS__, NULL })

/* Write text to tmpdir/name; returns the path (static buffer). */
static const char *put_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load paths with diagnostics captured into *out (owned). */
static struct decode_set *load_capture(const char *const *paths, size_t n,
    struct decode_stats *st, char **out)
{
	struct vg_diag d;
	size_t len;
	FILE *mem = open_memstream(out, &len);
	struct decode_set *set;

	vg_diag_init(&d, mem);
	d.no_source = 1;
	set = decode_load(paths, n, &d, st);
	fclose(mem);
	return set;
}

/* Load one decoder file written from text. */
static struct decode_set *load_text(const char *name, const char *text,
    struct decode_stats *st, char **out)
{
	const char *p = put_file(name, text);

	return load_capture(&p, 1, st, out);
}

static int has(const char *hay, const char *needle)
{
	if (hay == NULL || strstr(hay, needle) == NULL) {
		fprintf(stderr, "  missing \"%s\" in:\n%s", needle, hay ? hay : "");
		return 0;
	}
	return 1;
}

/* ---- loading ---- */

TEST(shipped_parsers_load_clean)
{
	const char *p = "parsers";
	struct decode_stats st;
	char *out = NULL;
	struct decode_set *set = load_capture(&p, 1, &st, &out);
	uint32_t jit = 0;

	CHECK_STR(out, "");
	CHECK_INT(st.files, 12);
	CHECK_INT(st.rejected, 0);
	CHECK(st.loaded >= 70);
	CHECK_INT(decode_count(set), st.loaded);
	CHECK(decode_pattern_count(set) >= 70);
	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	if (jit)
		CHECK_INT(decode_jit_count(set), decode_pattern_count(set));
	decode_free(set);
	free(out);
}

/* ---- sshd ---- */

TEST(sshd_contract_failed_password)
{
	CHECK_STR(dec("sshd", "Failed password for root from 203.0.113.9 port 4711 ssh2"),
	    "sshd-failed-password");
	CHECK_STR(E->decoder, "sshd-failed-password");
	EXPECT_FIELDS("event.category=authentication", "event.action=ssh_login",
	    "event.outcome=failure", "user.name=root", "source.ip=203.0.113.9",
	    "source.port=#4711", "event.type=info");
}

TEST(sshd_positive)
{
	CHECK_STR(dec("sshd", "Failed password for invalid user admin7 from 45.1.2.3 port 2222 ssh2"),
	    "sshd-failed-password-invalid-user");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=ssh_login", "event.outcome=failure", "event.reason=invalid user",
	    "user.name=admin7", "source.ip=45.1.2.3", "source.port=#2222");

	CHECK_STR(dec("sshd", "Accepted publickey for alice from 10.0.1.5 port 50522 ssh2: ED25519 SHA256:abcdef"),
	    "sshd-accepted");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=ssh_login", "event.outcome=success", "user.name=alice",
	    "source.ip=10.0.1.5", "source.port=#50522");

	CHECK_STR(dec("sshd-session", "Accepted password for bob from 2001:db8::7 port 40000 ssh2"),
	    "sshd-accepted");
	CHECK_STR(fstr("source.ip"), "2001:db8::7");
	CHECK_STR(fstr("event.outcome"), "success");

	CHECK_STR(dec("sshd", "Invalid user oracle3 from 185.1.1.1 port 41234"),
	    "sshd-invalid-user");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=ssh_invalid_user", "event.outcome=failure",
	    "event.reason=invalid user", "user.name=oracle3", "source.ip=185.1.1.1",
	    "source.port=#41234");

	/* an empty user name is not a field */
	CHECK_STR(dec("sshd", "Invalid user  from 185.1.1.1 port 41234"), "sshd-invalid-user");
	CHECK(fstr("user.name") == NULL);

	CHECK_STR(dec("sshd", "Connection closed by authenticating user root 91.2.3.4 port 15328 [preauth]"),
	    "sshd-connection-closed");
	EXPECT_FIELDS("event.category=network", "event.type=connection", "event.type=end",
	    "event.action=ssh_connection_closed", "user.name=root", "source.ip=91.2.3.4",
	    "source.port=#15328");

	CHECK_STR(dec("sshd", "Connection closed by 91.2.3.4 port 15328 [preauth]"),
	    "sshd-connection-closed");
	CHECK(fstr("user.name") == NULL);

	CHECK_STR(dec("sshd", "Disconnected from invalid user test 91.2.3.4 port 5000 [preauth]"),
	    "sshd-disconnected");
	CHECK_STR(fstr("user.name"), "test");
	CHECK_STR(fstr("event.action"), "ssh_disconnect");

	CHECK_STR(dec("sshd", "Received disconnect from 91.2.3.4 port 5000:11: Bye Bye [preauth]"),
	    "sshd-disconnected");
	CHECK_STR(fstr("event.reason"), "Bye Bye");

	CHECK_STR(dec("sshd", "error: maximum authentication attempts exceeded for root from 103.4.5.6 port 5555 ssh2 [preauth]"),
	    "sshd-max-auth-attempts");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=ssh_max_auth_attempts", "event.outcome=failure",
	    "user.name=root", "source.ip=103.4.5.6", "source.port=#5555");

	CHECK_STR(dec("sshd", "Disconnecting authenticating user root 103.4.5.6 port 5555: Too many authentication failures [preauth]"),
	    "sshd-max-auth-attempts");

	CHECK_STR(dec("sshd", "Did not receive identification string from 198.51.100.4 port 61000"),
	    "sshd-no-identification");
	EXPECT_FIELDS("event.category=network", "event.type=connection",
	    "event.action=ssh_no_identification", "event.outcome=failure",
	    "source.ip=198.51.100.4", "source.port=#61000");

	CHECK_STR(dec("sshd", "error: PAM: Authentication failure for illegal user pi from 198.51.100.4"),
	    "sshd-pam-auth-failure");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=pam_auth_failure", "event.outcome=failure", "user.name=pi",
	    "source.ip=198.51.100.4");
	CHECK_STR(dec("sshd", "error: PAM: Authentication failure for root from scanner.example.net"),
	    "sshd-pam-auth-failure");
	CHECK_STR(fstr("source.domain"), "scanner.example.net");
	CHECK(fstr("source.ip") == NULL);

	CHECK_STR(dec("sshd", "ROOT LOGIN REFUSED FROM 198.51.100.4 port 2000"),
	    "sshd-root-login-refused");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=ssh_login", "event.outcome=failure", "user.name=root",
	    "event.reason=root login refused", "source.ip=198.51.100.4", "source.port=#2000");

	CHECK_STR(dec("sshd", "User root from 198.51.100.4 not allowed because not listed in AllowUsers"),
	    "sshd-user-not-allowed");
	CHECK_STR(fstr("event.reason"), "not listed in AllowUsers");
	CHECK_STR(fstr("user.name"), "root");

	CHECK_STR(dec("sshd", "banner exchange: Connection from 198.51.100.4 port 2000: invalid format"),
	    "sshd-bad-identification");
	CHECK_STR(fstr("event.reason"), "invalid format");
}

TEST(sshd_negative)
{
	/* near misses: wrong words, no port, another program */
	CHECK(dec("sshd", "Failed password for root from 203.0.113.9") == NULL);
	CHECK(dec("sshd", "failed password for root from 203.0.113.9 port 22 ssh2") == NULL);
	CHECK(dec("sshd", "Server listening on 0.0.0.0 port 22.") == NULL);
	CHECK(dec("sshd", "Accepted password for root from host.example port 22 ssh2") == NULL);
	CHECK(dec("nginx", "Failed password for root from 203.0.113.9 port 4711 ssh2") == NULL);
	CHECK(dec(NULL, "Failed password for root from 203.0.113.9 port 4711 ssh2") == NULL);
	CHECK(E->decoder == NULL);
	/* a valid user is never taken for "invalid user ..." */
	CHECK_STR(dec("sshd", "Failed password for invalidx from 1.2.3.4 port 22 ssh2"),
	    "sshd-failed-password");
	CHECK_STR(fstr("user.name"), "invalidx");
}

/* ---- sudo, su, pam, cron ---- */

TEST(sudo_decoders)
{
	CHECK_STR(dec("sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash"),
	    "sudo-command");
	EXPECT_FIELDS("event.category=process", "event.type=start",
	    "event.action=sudo_command", "event.outcome=success", "user.name=alice",
	    "user.effective.name=root", "process.working_directory=/home/alice",
	    "process.command_line=/bin/bash");

	CHECK_STR(dec("sudo", "alice : TTY=pts/1 ; PWD=/srv/my dir ; USER=postgres ; GROUP=dba ; COMMAND=/usr/bin/psql -c select 1"),
	    "sudo-command");
	CHECK_STR(fstr("process.working_directory"), "/srv/my dir");
	CHECK_STR(fstr("group.name"), "dba");
	CHECK_STR(fstr("process.command_line"), "/usr/bin/psql -c select 1");

	CHECK_STR(dec("sudo", "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls"),
	    "sudo-auth-failure");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=sudo_auth_failure", "event.outcome=failure", "user.name=alice",
	    "user.effective.name=root", "process.working_directory=/home/alice",
	    "process.command_line=/bin/ls");

	CHECK_STR(dec("sudo", "mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh"),
	    "sudo-denied");
	EXPECT_FIELDS("event.category=process", "event.type=start",
	    "event.action=sudo_denied", "event.outcome=failure", "user.name=mallory",
	    "event.reason=user NOT in sudoers", "user.effective.name=root",
	    "process.working_directory=/tmp", "process.command_line=/bin/sh");

	/* near misses */
	CHECK(dec("sudo", "alice : TTY=pts/0 ; PWD=/home/alice ; COMMAND=/bin/bash") == NULL);
	CHECK(dec("sudo", "alice : unable to resolve host web01") == NULL);
	CHECK(dec("su", "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash") == NULL);
}

TEST(su_decoders)
{
	CHECK_STR(dec("su", "FAILED SU (to root) alice on pts/2"), "su-failed");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=su", "event.outcome=failure", "user.name=alice",
	    "user.effective.name=root");
	CHECK_STR(dec("su", "(to root) alice on pts/0"), "su-success");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=su", "event.outcome=success", "user.name=alice",
	    "user.effective.name=root");
	CHECK_STR(dec("su", "+ pts/3 bob:postgres"), "su-success");
	CHECK_STR(fstr("user.effective.name"), "postgres");
	CHECK_STR(dec("su", "- pts/3 bob:root"), "su-failed");
	CHECK_STR(fstr("user.name"), "bob");

	CHECK(dec("su", "FAILED SU (to root) alice") == NULL);
	CHECK(dec("su", "(to root) alice on") == NULL);
}

TEST(pam_decoders)
{
	/* pam applies to every program, after the program's own decoders */
	CHECK_STR(dec("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root"),
	    "pam-auth-failure");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=pam_auth_failure", "event.outcome=failure", "user.name=root",
	    "source.ip=203.0.113.9");

	CHECK_STR(dec("su", "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root"),
	    "pam-auth-failure");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=pam_auth_failure", "event.outcome=failure", "user.name=root",
	    "source.user.name=alice");

	CHECK_STR(dec("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=dsl-1.example.net"),
	    "pam-auth-failure");
	CHECK_STR(fstr("source.domain"), "dsl-1.example.net");
	CHECK(fstr("user.name") == NULL);

	CHECK_STR(dec("sshd", "pam_unix(sshd:auth): check pass; user unknown"), "pam-user-unknown");
	CHECK_STR(fstr("event.reason"), "user unknown");

	CHECK_STR(dec("CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
	    "pam-session-opened");
	EXPECT_FIELDS("event.category=session", "event.type=start",
	    "event.action=session_opened", "user.name=root", "user.id=0");

	CHECK_STR(dec("sudo", "pam_unix(sudo:session): session closed for user root"),
	    "pam-session-closed");
	EXPECT_FIELDS("event.category=session", "event.type=end",
	    "event.action=session_closed", "user.name=root");

	CHECK_STR(dec("passwd", "pam_unix(passwd:chauthtok): password changed for bob"),
	    "pam-password-changed");
	EXPECT_FIELDS("event.category=iam", "event.type=user", "event.type=change",
	    "event.action=password_changed", "event.outcome=success", "user.name=bob");

	/* no process.name: only program-less decoders such as pam apply */
	CHECK_STR(dec(NULL, "pam_unix(login:session): session opened for user alice by LOGIN(uid=0)"),
	    "pam-session-opened");
	CHECK_STR(fstr("user.name"), "alice");
	CHECK(fstr("user.id") == NULL);

	CHECK(dec("sshd", "pam_unix(sshd:account): account expired") == NULL);
	CHECK(dec("sshd", "pam_systemd(sshd:session): session opened for user root") == NULL);
}

TEST(cron_decoders)
{
	CHECK_STR(dec("CRON", "(root) CMD (test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily ))"),
	    "cron-command");
	EXPECT_FIELDS("event.category=process", "event.type=start",
	    "event.action=cron_command", "user.name=root",
	    "process.command_line=test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )");
	CHECK_STR(dec("CROND", "(deploy) CMD (/usr/local/bin/backup.sh)"), "cron-command");
	CHECK_STR(fstr("user.name"), "deploy");
	CHECK_STR(dec("crontab", "(alice) REPLACE (alice)"), "cron-crontab-replaced");
	EXPECT_FIELDS("event.category=configuration", "event.type=change",
	    "event.action=crontab_replaced", "user.name=alice", "user.target.name=alice");
	CHECK_STR(dec("crontab", "(root) DELETE (bob)"), "cron-crontab-deleted");
	CHECK_STR(fstr("user.target.name"), "bob");

	CHECK(dec("CRON", "(root) CMD run-parts /etc/cron.hourly") == NULL);
	CHECK(dec("CRON", "(CRON) info (No MTA installed, discarding output)") == NULL);
}

/* ---- kernel netfilter ---- */

TEST(kernel_netfilter)
{
	CHECK_STR(dec("kernel", "[UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=61.217.30.212 DST=10.0.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=137 ID=26987 PROTO=TCP SPT=18482 DPT=80 WINDOW=1024 RES=0x00 SYN URGP=0"),
	    "kernel-ufw-block");
	EXPECT_FIELDS("event.category=network", "event.type=connection",
	    "event.type=denied", "event.action=ufw_block",
	    "network.ingress.interface.name=eth0", "source.ip=61.217.30.212",
	    "destination.ip=10.0.0.5", "network.transport=tcp", "source.port=#18482",
	    "destination.port=#80");

	CHECK_STR(dec("kernel", "[12345.678901] [UFW ALLOW] IN=eth1 OUT=eth0 SRC=10.0.0.7 DST=8.8.8.8 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=UDP SPT=5353 DPT=53 LEN=40"),
	    "kernel-ufw-allow");
	EXPECT_FIELDS("event.category=network", "event.type=connection",
	    "event.type=allowed", "event.action=ufw_allow",
	    "network.ingress.interface.name=eth1", "network.egress.interface.name=eth0",
	    "source.ip=10.0.0.7", "destination.ip=8.8.8.8", "network.transport=udp",
	    "source.port=#5353", "destination.port=#53");

	CHECK_STR(dec("kernel", "IPTABLES-DROP: IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=84 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1"),
	    "kernel-firewall-block");
	EXPECT_FIELDS("event.category=network", "event.type=connection",
	    "event.type=denied", "event.action=firewall_block", "rule.name=IPTABLES-DROP:",
	    "network.ingress.interface.name=eth0", "source.ip=192.0.2.1",
	    "destination.ip=10.0.0.5", "network.transport=icmp");

	CHECK_STR(dec("kernel", "fw-accept-ssh IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=4000 DPT=22"),
	    "kernel-firewall-allow");
	CHECK_STR(fstr("event.action"), "firewall_allow");

	CHECK_STR(dec("kernel", "suspicious: IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=4000 DPT=22"),
	    "kernel-netfilter-log");
	CHECK_STR(fstr("rule.name"), "suspicious:");
	CHECK_STR(fstr("event.action"), "firewall_log");

	CHECK_STR(dec("kernel", "IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=4000 DPT=22"),
	    "kernel-netfilter");
	CHECK(fstr("rule.name") == NULL);

	CHECK(dec("kernel", "[UFW BLOCK] IN=eth0 OUT= SRC=61.217.30.212 LEN=44 PROTO=TCP") == NULL);
	CHECK(dec("kernel", "Out of memory: Killed process 1234 (java)") == NULL);
	CHECK(dec("sshd", "[UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4 DST=10.0.0.5 LEN=44 PROTO=TCP SPT=1 DPT=2") == NULL);
}

/*
 * The netfilter pattern's scans, at their edges: the first PROTO= with a
 * value wins (an empty one is passed over, as is P before PROTO=), the
 * first SPT= with digits and its DPT=, and a '=' before IN= refuses the
 * line.
 */
TEST(kernel_netfilter_scans)
{
	CHECK_STR(dec("kernel", "[UFW BLOCK] IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 TOS=PROTO= PROTO=UDP SPT=x DPT=9 SPT=53 DPT=5353"),
	    "kernel-ufw-block");
	EXPECT_FIELDS("event.category=network", "event.type=connection",
	    "event.type=denied", "event.action=ufw_block",
	    "network.ingress.interface.name=eth0", "source.ip=192.0.2.1",
	    "destination.ip=10.0.0.5", "network.transport=udp", "source.port=#53",
	    "destination.port=#5353");

	CHECK_STR(dec("kernel", "fw-pass  IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PPROTO=GRE ID=1 PROTO=TCP"),
	    "kernel-firewall-allow");
	EXPECT_FIELDS("event.category=network", "event.type=connection",
	    "event.type=allowed", "event.action=firewall_allow", "rule.name=fw-pass",
	    "network.ingress.interface.name=eth0", "source.ip=192.0.2.1",
	    "destination.ip=10.0.0.5", "network.transport=gre");

	CHECK_STR(dec("kernel", "IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO=ICMP TYPE=8 CODE=0"),
	    "kernel-netfilter");
	CHECK(fstr("source.port") == NULL);
	CHECK_STR(fstr("network.transport"), "icmp");

	CHECK(dec("kernel", "drop=1 IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=1 DPT=2") == NULL);
	CHECK(dec("kernel", "IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO=") == NULL);
	CHECK(dec("kernel", "IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PROTO= SPT=1 DPT=2") == NULL);
}

/* ---- web servers ---- */

TEST(nginx_decoders)
{
	CHECK_STR(dec("nginx", "10.0.0.246 - - [23/Nov/2026:00:00:00 +0000] \"GET /static/app.js HTTP/1.1\" 200 15727 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\""),
	    "nginx-access");
	EXPECT_FIELDS("event.category=web", "event.type=access", "event.action=http_request",
	    "event.outcome=success", "source.ip=10.0.0.246", "http.request.method=GET",
	    "url.original=/static/app.js", "http.version=1.1",
	    "http.response.status_code=#200", "http.response.body.bytes=#15727",
	    "user_agent.original=Mozilla/5.0 (X11; Linux x86_64)");

	CHECK_STR(dec("nginx", "203.0.113.9 - admin [23/Nov/2026:00:00:00 +0000] \"POST /../../etc/passwd HTTP/2.0\" 404 - \"https://ex.test/a\" \"sqlmap/1.7\""),
	    "nginx-access-error-status");
	EXPECT_FIELDS("event.category=web", "event.type=access", "event.action=http_request",
	    "event.outcome=failure", "source.ip=203.0.113.9", "user.name=admin",
	    "http.request.method=POST", "url.original=/../../etc/passwd", "http.version=2.0",
	    "http.response.status_code=#404", "http.request.referrer=https://ex.test/a",
	    "user_agent.original=sqlmap/1.7");

	/* common format, and a request line that is not one */
	CHECK_STR(dec("nginx", "10.0.0.1 - - [23/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.0\" 301 0"),
	    "nginx-access");
	CHECK_STR(fstr("http.response.body.bytes"), "0");
	CHECK_STR(dec("nginx", "198.51.100.2 - - [23/Nov/2026:00:00:00 +0000] \"\\x16\\x03\\x01\" 400 157 \"-\" \"-\""),
	    "nginx-access-error-status");
	EXPECT_FIELDS("event.category=web", "event.type=access", "event.action=http_request",
	    "event.outcome=failure", "source.ip=198.51.100.2",
	    "http.response.status_code=#400", "http.response.body.bytes=#157");

	CHECK_STR(dec("nginx", "2026/11/23 00:00:05 [error] 123#123: *1 open() \"/usr/share/nginx/html/x.php\" failed (2: No such file or directory), client: 198.51.100.2, server: _, request: \"GET /x.php HTTP/1.1\", host: \"ex.test\""),
	    "nginx-error");
	EXPECT_FIELDS("event.category=web", "event.type=error", "event.action=http_error",
	    "log.level=error", "source.ip=198.51.100.2", "http.request.method=GET",
	    "url.original=/x.php", "http.version=1.1",
	    "error.message=open() \"/usr/share/nginx/html/x.php\" failed (2: No such file or directory)");

	CHECK(dec("nginx", "10.0.0.1 - - [23/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 2000 12") == NULL);
	CHECK(dec("nginx", "10.0.0.1 - - \"GET / HTTP/1.1\" 200 12") == NULL);
	CHECK(dec("apache2", "2026/11/23 00:00:05 [error] 123#123: *1 oops") == NULL);
}

TEST(apache_decoders)
{
	CHECK_STR(dec("apache2", "192.0.2.10 - bob [23/Nov/2026:00:00:00 +0000] \"GET /a?q=\\\"x\\\" HTTP/1.1\" 200 512 \"-\" \"Agent \\\"quoted\\\"\""),
	    "apache-access");
	EXPECT_FIELDS("event.category=web", "event.type=access", "event.action=http_request",
	    "event.outcome=success", "source.ip=192.0.2.10", "user.name=bob",
	    "http.request.method=GET", "url.original=/a?q=\\\"x\\\"", "http.version=1.1",
	    "http.response.status_code=#200", "http.response.body.bytes=#512",
	    "user_agent.original=Agent \\\"quoted\\\"");
	CHECK_STR(dec("httpd", "192.0.2.10 - - [23/Nov/2026:00:00:00 +0000] \"GET /admin HTTP/1.1\" 503 99"),
	    "apache-access-error-status");

	CHECK_STR(dec("apache2", "[Mon Nov 23 00:00:05.123456 2026] [core:error] [pid 4242:tid 1400] [client 198.51.100.3:51234] AH00126: Invalid URI in request GET /../x HTTP/1.1"),
	    "apache-error");
	EXPECT_FIELDS("event.category=web", "event.type=error", "event.action=http_error",
	    "log.level=error", "source.ip=198.51.100.3", "source.port=#51234",
	    "error.code=AH00126", "error.message=Invalid URI in request GET /../x HTTP/1.1");

	CHECK(dec("apache2", "[Mon Nov 23 00:00:05 2026] AH00126: no level") == NULL);
}

/* ---- postfix ---- */

TEST(postfix_decoders)
{
	CHECK_STR(dec("postfix/smtpd", "connect from unknown[222.145.197.228]"), "postfix-connect");
	EXPECT_FIELDS("event.category=network", "event.type=connection", "event.type=start",
	    "event.action=smtp_connect", "source.ip=222.145.197.228");
	CHECK_STR(dec("postfix-out/smtpd", "connect from mx.example.org[192.0.2.25]"), "postfix-connect");
	CHECK_STR(fstr("source.domain"), "mx.example.org");

	CHECK_STR(dec("postfix/smtpd", "disconnect from unknown[192.0.2.25] ehlo=1 auth=0/1 quit=1 commands=2/3"),
	    "postfix-disconnect");
	CHECK_STR(fstr("event.action"), "smtp_disconnect");

	CHECK_STR(dec("postfix/smtpd", "NOQUEUE: reject: RCPT from unknown[192.0.2.25]: 554 5.7.1 <spam@ex.test>: Relay access denied; from=<a@b.test> to=<spam@ex.test> proto=ESMTP helo=<x>"),
	    "postfix-reject");
	EXPECT_FIELDS("event.category=email", "event.type=denied", "event.action=smtp_reject",
	    "event.outcome=failure", "source.ip=192.0.2.25",
	    "event.reason=<spam@ex.test>: Relay access denied",
	    "email.from.address=a@b.test", "email.to.address=spam@ex.test");

	CHECK_STR(dec("postfix/smtpd", "warning: unknown[192.0.2.25]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
	    "postfix-sasl-auth-failure");
	EXPECT_FIELDS("event.category=authentication", "event.type=info",
	    "event.action=smtp_auth", "event.outcome=failure", "source.ip=192.0.2.25");

	CHECK_STR(dec("postfix/smtpd", "4Bx1234ABC: client=unknown[192.0.2.25], sasl_method=PLAIN, sasl_username=bob"),
	    "postfix-sasl-auth-success");
	CHECK_STR(fstr("user.name"), "bob");
	CHECK_STR(fstr("event.outcome"), "success");

	CHECK_STR(dec("postfix/smtp", "4Bx1234ABC: to=<c@d.test>, relay=mx.d.test[192.0.2.30]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 OK)"),
	    "postfix-delivery-sent");
	CHECK_STR(fstr("email.to.address"), "c@d.test");

	CHECK(dec("postfix", "connect from unknown[222.145.197.228]") == NULL);
	CHECK(dec("postfix/smtpd", "connect to unknown[222.145.197.228]") == NULL);
	CHECK(dec("postfix/qmgr", "4Bx1234ABC: removed") == NULL);
}

/* ---- accounts and sessions ---- */

TEST(account_decoders)
{
	CHECK_STR(dec("useradd", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/1"),
	    "useradd-new-user");
	EXPECT_FIELDS("event.category=iam", "event.type=user", "event.type=creation",
	    "event.action=user_created", "event.outcome=success", "user.name=bob",
	    "user.id=1001", "group.id=1001");
	CHECK_STR(dec("useradd", "new user: name=svc, UID=998, GID=998, home=/nonexistent, shell=/usr/sbin/nologin"),
	    "useradd-new-user");

	CHECK_STR(dec("groupadd", "new group: name=devs, GID=1002"), "groupadd-new-group");
	EXPECT_FIELDS("event.category=iam", "event.type=group", "event.type=creation",
	    "event.action=group_created", "event.outcome=success", "group.name=devs",
	    "group.id=1002");

	CHECK_STR(dec("usermod", "add 'bob' to group 'sudo'"), "usermod-add-to-group");
	EXPECT_FIELDS("event.category=iam", "event.type=group", "event.type=change",
	    "event.action=user_added_to_group", "event.outcome=success", "user.name=bob",
	    "group.name=sudo");
	CHECK_STR(dec("usermod", "add 'bob' to shadow group 'sudo'"), "usermod-add-to-shadow-group");
	CHECK_STR(fstr("event.action"), "user_added_to_shadow_group");
	CHECK_STR(dec("usermod", "change user 'bob' password"), "usermod-password-changed");
	CHECK_STR(dec("usermod", "change user 'bob' shell from '/bin/sh' to '/bin/bash'"), "usermod-change");
	CHECK_STR(fstr("event.reason"), "shell from '/bin/sh' to '/bin/bash'");
	CHECK_STR(dec("usermod", "change user name 'bob' to 'robert'"), "usermod-rename");
	CHECK_STR(fstr("user.changes.name"), "robert");
	CHECK_STR(dec("userdel", "delete user 'bob'"), "userdel-user-deleted");
	CHECK_STR(fstr("event.action"), "user_deleted");
	CHECK_STR(dec("groupdel", "group 'devs' removed"), "groupdel-group-deleted");

	CHECK_STR(dec("passwd", "password for 'bob' changed by 'root'"), "passwd-changed");
	EXPECT_FIELDS("event.category=iam", "event.type=user", "event.type=change",
	    "event.action=password_changed", "event.outcome=success", "user.name=bob");

	CHECK(dec("useradd", "new user: name=bob, UID=x, GID=1001, home=/home/bob, shell=/bin/bash") == NULL);
	CHECK(dec("usermod", "add bob to group sudo") == NULL);
	CHECK(dec("sshd", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash") == NULL);
}

TEST(logind_decoders)
{
	CHECK_STR(dec("systemd-logind", "New session 12 of user alice."),
	    "systemd-logind-new-session");
	EXPECT_FIELDS("event.category=session", "event.type=start",
	    "event.action=session_start", "session.id=12", "user.name=alice");
	CHECK_STR(dec("systemd-logind", "New session c1 of user gdm."),
	    "systemd-logind-new-session");
	CHECK_STR(fstr("session.id"), "c1");
	CHECK_STR(dec("systemd-logind", "Removed session 12."),
	    "systemd-logind-removed-session");
	EXPECT_FIELDS("event.category=session", "event.type=end",
	    "event.action=session_end", "session.id=12");
	CHECK_STR(dec("systemd-logind", "Session 12 logged out. Waiting for processes to exit."),
	    "systemd-logind-session-logout");
	CHECK_STR(dec("systemd-logind", "System is rebooting."), "systemd-logind-shutdown");

	CHECK(dec("systemd-logind", "New seat seat0.") == NULL);
	CHECK(dec("systemd", "New session 12 of user alice.") == NULL);
}

/* ---- literal prefixes (the pre-check before PCRE2) ---- */

static const char *prefix_of(const char *pat)
{
	static char out[DECODE_PREFIX_MAX + 1];
	size_t n = decode_literal_prefix(pat, strlen(pat), out, DECODE_PREFIX_MAX);

	out[n] = '\0';
	return out;
}

TEST(literal_prefix_extraction)
{
	CHECK_STR(prefix_of("^Failed (?<m>password) for"), "Failed ");
	CHECK_STR(prefix_of("^Connection (?:closed|reset) by"), "Connection ");
	CHECK_STR(prefix_of("^\\((?<user.name>[^)]+)\\) CMD"), "(");
	CHECK_STR(prefix_of("^a\\.b\\[c"), "a.b[c");
	/* quantified bytes may be absent or repeated */
	CHECK_STR(prefix_of("^abc?d"), "ab");
	CHECK_STR(prefix_of("^ab*"), "a");
	CHECK_STR(prefix_of("^ab+"), "a");
	CHECK_STR(prefix_of("^ab{2}"), "a");
	CHECK_STR(prefix_of("^a\\.?"), "a");
	/* escapes that are classes or codes end it */
	CHECK_STR(prefix_of("^ab\\d"), "ab");
	CHECK_STR(prefix_of("^ab\\x41"), "ab");
	CHECK_STR(prefix_of("^ab\\Kc"), "ab");
	CHECK_STR(prefix_of("^\\s*x"), "");
	CHECK_STR(prefix_of("^a.b"), "a");
	/* unanchored, option-first, or alternatives at the top: none */
	CHECK_STR(prefix_of("abc"), "");
	CHECK_STR(prefix_of("(?i)^abc"), "");
	CHECK_STR(prefix_of("^abc|xyz"), "");
	CHECK_STR(prefix_of("^abc(x|y)|z"), "");
	CHECK_STR(prefix_of("^abc[|]"), "abc");
	CHECK_STR(prefix_of("^abc[]|]"), "abc");
	CHECK_STR(prefix_of("^abc\\|x"), "abc|x");
	CHECK_STR(prefix_of("^abc(?:x|y)"), "abc");
	/* constructs the scan does not follow: none */
	CHECK_STR(prefix_of("^abc\\Q|\\E"), "");
	CHECK_STR(prefix_of("^abc(?#|)"), "");
	CHECK_STR(prefix_of("^abc[[:alpha:]|]"), "");
	CHECK_STR(prefix_of("^abc)"), "");
	/* at most DECODE_PREFIX_MAX bytes */
	CHECK_INT(strlen(prefix_of("^abcdefghijklmnopqrstuvwxyz0123456789")),
	    DECODE_PREFIX_MAX);
}

/* The texts of decode_literal_prefixes for pat, joined by '|', or "-". */
static const char *prefixes_of(const char *pat)
{
	static char out[DECODE_ALTS_MAX * (DECODE_PREFIX_MAX + 1) + 1];
	char alt[DECODE_ALTS_MAX][DECODE_PREFIX_MAX];
	uint8_t lens[DECODE_ALTS_MAX];
	size_t n = decode_literal_prefixes(pat, strlen(pat), alt, lens,
	    DECODE_ALTS_MAX), used = 0;

	if (n == 0)
		return "-";
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[used++] = '|';
		memcpy(out + used, alt[i], lens[i]);
		used += lens[i];
	}
	out[used] = '\0';
	return out;
}

TEST(literal_prefixes_through_groups)
{
	/* no group: decode_literal_prefix's text */
	CHECK_STR(prefixes_of("^Accepted (?<m>\\S+) for"), "Accepted ");
	CHECK_STR(prefixes_of("^ab?c"), "a");
	/* groups of literal alternatives, plain, (?:, named in three ways */
	CHECK_STR(prefixes_of("^Failed (?<m>password|keyboard-interactive/pam) for invalid user (?<u>.*?)"),
	    "Failed password for inva|Failed keyboard-interact");
	CHECK_STR(prefixes_of("^Connection (?:closed|reset) by x"),
	    "Connection closed by x|Connection reset by x");
	CHECK_STR(prefixes_of("^a(b|c)d"), "abd|acd");
	CHECK_STR(prefixes_of("^a(?P<n>b|c)d"), "abd|acd");
	CHECK_STR(prefixes_of("^a(?'n'b|c)d"), "abd|acd");
	CHECK_STR(prefixes_of("^a(?<x.y>b)d"), "abd");
	CHECK_STR(prefixes_of("^a(?:b|)d"), "abd|ad");
	CHECK_STR(prefixes_of("^a(?:b|c)(?:d|e)f"), "abdf|abef|acdf|acef");
	CHECK_STR(prefixes_of("^a(?:\\)|\\|)x"), "a)x|a|x");
	/* the group ends the texts when it is not all literal, quantified,
	 * nested, or would make more than DECODE_ALTS_MAX texts */
	CHECK_STR(prefixes_of("^a(?:b|c+)d"), "a");
	CHECK_STR(prefixes_of("^a(?:b|c)?d"), "a");
	CHECK_STR(prefixes_of("^a(?:b|c)*d"), "a");
	CHECK_STR(prefixes_of("^a(?:b|c){2}d"), "a");
	CHECK_STR(prefixes_of("^a(?:b|\\d)e"), "a");
	CHECK_STR(prefixes_of("^a(?:b|(?:c))e"), "a");
	CHECK_STR(prefixes_of("^a(?:b|[c])e"), "a");
	CHECK_STR(prefixes_of("^a(?:b|c.)e"), "a");
	CHECK_STR(prefixes_of("^a(?:b|c)(?:d|e)(?:f|g)(?:h|i)j"),
	    "abdf|abdg|abef|abeg|acdf|acdg|acef|aceg");
	CHECK_STR(prefixes_of("^a(?:1|2|3|4|5|6|7|8|9)"), "a");
	/* groups that are not only groups: lookaround, options, atomic */
	CHECK_STR(prefixes_of("^a(?=b)c"), "a");
	CHECK_STR(prefixes_of("^a(?<=a)c"), "a");
	CHECK_STR(prefixes_of("^a(?<!x)c"), "a");
	CHECK_STR(prefixes_of("^a(?i:b)c"), "a");
	CHECK_STR(prefixes_of("^a(?>b)c"), "a");
	CHECK_STR(prefixes_of("^a(?|b|c)d"), "a");
	CHECK_STR(prefixes_of("^a(*ACCEPT)b"), "a");
	CHECK_STR(prefixes_of("^a(?<>b)c"), "a");
	CHECK_STR(prefixes_of("^a(b|c"), "-"); /* unbalanced: not followed */
	/* a text that could be empty, unanchored, top-level '|': none */
	CHECK_STR(prefixes_of("^(?:a|)b"), "ab|b");
	CHECK_STR(prefixes_of("^(?:a|)"), "-");
	CHECK_STR(prefixes_of("^(?:a|)\\d"), "-");
	CHECK_STR(prefixes_of("^(?:a|b)"), "a|b");
	CHECK_STR(prefixes_of("^\\s"), "-");
	CHECK_STR(prefixes_of("(?:a|b)c"), "-");
	CHECK_STR(prefixes_of("^(?:a|b)c|d"), "-");
	/* each text is cut at DECODE_PREFIX_MAX bytes */
	CHECK_STR(prefixes_of("^(?:abcdefghijklmnopqrstuvwxyz|0)123"),
	    "abcdefghijklmnopqrstuvwx|0123");
}

TEST(literal_prefixes_keep_matches_and_skip_pcre2)
{
	struct decode_stats st;
	struct decode_ctx_stats cs;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;

	set = load_text("prefixes.yml",
	    "decoders:\n"
	    "  - name: top\n"
	    "    programs: [p]\n"
	    "    children:\n"
	    "      - name: invalid\n"
	    "        patterns: ['^Failed (?<m>password|keyboard-interactive/pam) for invalid user (?<user.name>\\S+)$']\n"
	    "      - name: valid\n"
	    "        patterns: ['^Failed (?<m>password|keyboard-interactive/pam) for (?<user.name>\\S+)$']\n"
	    "      - name: closed\n"
	    "        patterns: ['^Connection (?:closed|reset) by (?<source.ip>\\S+)$']\n"
	    "      - name: empty-alt\n"
	    "        patterns: ['^x(?:y|)z(?<n>\\d)$']\n",
	    &st, &out);
	CHECK_STR(out, "");
	ctx = decode_ctx_new(set);
	CHECK_STR(dec_with(set, ctx, "p", "Failed password for bob", 23), "valid");
	CHECK_STR(fstr("user.name"), "bob");
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 2);
	CHECK_INT(cs.pcre2_runs, 1); /* "invalid" never reached PCRE2 */
	CHECK_STR(dec_with(set, ctx, "p", "Failed keyboard-interactive/pam for invalid user eve",
	    52), "invalid");
	CHECK_STR(fstr("user.name"), "eve");
	CHECK_STR(dec_with(set, ctx, "p", "Failed password for invalid user x", 34), "invalid");
	CHECK_STR(fstr("user.name"), "x");
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 4);
	CHECK_INT(cs.pcre2_runs, 3);
	CHECK_STR(dec_with(set, ctx, "p", "Connection reset by 10.0.0.1", 28), "closed");
	CHECK_STR(fstr("source.ip"), "10.0.0.1");
	/* the two "Failed" children were refused on the first byte, without
	 * being entered, and still count as runs */
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 7);
	CHECK_INT(cs.pcre2_runs, 4);
	CHECK_STR(dec_with(set, ctx, "p", "Connection closed by ::1", 24), "closed");
	CHECK_STR(fstr("source.ip"), "::1");
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pcre2_runs, 5);
	/* none of the texts: no PCRE2 at all */
	CHECK(dec_with(set, ctx, "p", "Connection lost by 10.0.0.1", 27) == NULL);
	CHECK(dec_with(set, ctx, "p", "Failed pass", 11) == NULL);
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pcre2_runs, 5);
	CHECK_STR(dec_with(set, ctx, "p", "xyz1", 4), "empty-alt");
	CHECK_STR(fstr("n"), "1");
	CHECK_STR(dec_with(set, ctx, "p", "xz2", 3), "empty-alt");
	CHECK_STR(fstr("n"), "2");
	CHECK(dec_with(set, ctx, "p", "xyyz2", 5) == NULL);
	/* an empty message: every child refused, each pattern counted */
	decode_ctx_get_stats(ctx, &cs);
	{
		uint64_t runs = cs.pattern_runs, pc = cs.pcre2_runs;

		CHECK(dec_with(set, ctx, "p", "", 0) == NULL);
		decode_ctx_get_stats(ctx, &cs);
		CHECK_INT(cs.pattern_runs, runs + 4);
		CHECK_INT(cs.pcre2_runs, pc);
	}
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/* The first-byte set of pat as the bytes in it, or "-" when there is none. */
static const char *first_of(const char *pat)
{
	static char out[257];
	uint8_t set[32];
	size_t n = 0;

	if (!decode_first_bytes(pat, strlen(pat), set))
		return "-";
	for (unsigned c = 1; c < 256; c++)
		if (set[c >> 3] & (1u << (c & 7)))
			out[n++] = (char)c;
	out[n] = '\0';
	return out;
}

TEST(first_byte_sets)
{
	CHECK_STR(first_of("^[45]"), "45");
	CHECK_STR(first_of("^[0-9A-C]+: x"), "0123456789ABC");
	CHECK_STR(first_of("^[]a]"), "]a");
	CHECK_STR(first_of("^[a-]"), "-a");
	CHECK_STR(first_of("^[-a]x"), "-a");
	CHECK_STR(first_of("^[a-c-e]"), "-abce");
	/* optional, negated, escaped, POSIX, unanchored, alternatives: none */
	CHECK_STR(first_of("^[45]?x"), "-");
	CHECK_STR(first_of("^[45]*x"), "-");
	CHECK_STR(first_of("^[45]{0,2}x"), "-");
	CHECK_STR(first_of("^[^45]"), "-");
	CHECK_STR(first_of("^[\\d]"), "-");
	CHECK_STR(first_of("^[[:alpha:]]"), "-");
	CHECK_STR(first_of("[45]"), "-");
	CHECK_STR(first_of("^[45]|x"), "-");
	CHECK_STR(first_of("^[c-a]"), "-");
	CHECK_STR(first_of("^[45"), "-");
}

TEST(literal_prefix_keeps_matches)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;

	set = load_text("prefix.yml",
	    "decoders:\n"
	    "  - name: alt\n"
	    "    programs: [p]\n"
	    "    patterns: ['^abc|xyz', '^ab?c(?<n>\\d+)', '^Fail (?<u>\\w+)$',"
	    " '^[45](?<code>\\d\\d)$']\n",
	    &st, &out);
	CHECK_STR(out, "");
	ctx = decode_ctx_new(set);
	CHECK_STR(dec_with(set, ctx, "p", "abc", 3), "alt");
	CHECK_STR(dec_with(set, ctx, "p", "--xyz", 5), "alt");
	CHECK_STR(dec_with(set, ctx, "p", "ac12", 4), "alt");
	CHECK_STR(fstr("n"), "12");
	CHECK_STR(dec_with(set, ctx, "p", "Fail bob", 8), "alt");
	CHECK_STR(fstr("u"), "bob");
	CHECK_STR(dec_with(set, ctx, "p", "503", 3), "alt");
	CHECK_STR(fstr("code"), "03");
	CHECK(dec_with(set, ctx, "p", "200", 3) == NULL);
	CHECK(dec_with(set, ctx, "p", "Fai", 3) == NULL);
	CHECK(dec_with(set, ctx, "p", "", 0) == NULL);
	CHECK(dec_with(set, ctx, "p", "fail bob", 8) == NULL);
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/* ---- matcher semantics ---- */

TEST(program_index_limits_what_runs)
{
	struct decode_stats st;
	struct decode_ctx_stats cs;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;

	set = load_text("index.yml",
	    "decoders:\n"
	    "  - name: a\n"
	    "    programs: [progA]\n"
	    "    patterns: ['.*']\n"
	    "    fields: {event.action: a}\n"
	    "  - name: b\n"
	    "    programs: [progB, 'glob*']\n"
	    "    patterns: ['x', '.*']\n"
	    "    fields: {event.action: b}\n"
	    "  - name: any\n"
	    "    patterns: ['^generic']\n",
	    &st, &out);
	CHECK_STR(out, "");
	CHECK_INT(st.loaded, 3);
	ctx = decode_ctx_new(set);

	CHECK_STR(dec_with(set, ctx, "progB", "hello", 5), "b");
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 2); /* b's two patterns; a never ran */

	CHECK_STR(dec_with(set, ctx, "globber", "hello", 5), "b");
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 4);

	/* another program: only the program-less decoder runs */
	CHECK(dec_with(set, ctx, "progC", "hello", 5) == NULL);
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 5);
	CHECK(dec_with(set, ctx, NULL, "hello", 5) == NULL);
	decode_ctx_get_stats(ctx, &cs);
	CHECK_INT(cs.pattern_runs, 6);
	CHECK_STR(dec_with(set, ctx, NULL, "generic x", 9), "any");
	CHECK_INT(cs.events, 4);
	CHECK_INT(cs.decoded, 2);
	/* program names are exact (case-sensitive) */
	CHECK(dec_with(set, ctx, "proga", "hello", 5) == NULL);

	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/* The per-worker table of program lookups (two ways per set, 32 names)
 * answers like the program index whatever the order of names, many more
 * names than it holds, names that share ends and length, a name too long
 * to keep, a glob and a name without a decoder. */
TEST(program_memo_answers_like_the_index)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL, yml[16384], name[64], want[64];
	size_t off;
	static const char *const extra[] = {
		"sshd", "nginx", "CRON", "kernel", "systemd-logind", "su",
		"sa", "sb", "sxd", "syd", "a-program-name-longer-than-28-bytes",
	};
	size_t nextra = sizeof(extra) / sizeof(extra[0]);

	off = (size_t)snprintf(yml, sizeof(yml), "decoders:\n");
	for (int i = 0; i < 60; i++)
		off += (size_t)snprintf(yml + off, sizeof(yml) - off,
		    "  - name: d%d\n    programs: [p%d]\n    patterns: ['^']\n", i, i);
	for (size_t i = 0; i < nextra; i++)
		off += (size_t)snprintf(yml + off, sizeof(yml) - off,
		    "  - name: x%zu\n    programs: ['%s']\n    patterns: ['^']\n",
		    i, extra[i]);
	snprintf(yml + off, sizeof(yml) - off,
	    "  - name: g\n    programs: ['glob*']\n    patterns: ['^']\n");
	set = load_text("memo.yml", yml, &st, &out);
	CHECK_STR(out, "");
	CHECK_INT(st.loaded, 60 + (int)nextra + 1);
	ctx = decode_ctx_new(set);
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < 60 + (int)nextra + 2; k++) {
			/* a different order each round */
			int i = (k * (round * 2 + 1) + round) % (60 + (int)nextra + 2);

			if (i < 60) {
				snprintf(name, sizeof(name), "p%d", i);
				snprintf(want, sizeof(want), "d%d", i);
			} else if (i < 60 + (int)nextra) {
				snprintf(name, sizeof(name), "%s", extra[i - 60]);
				snprintf(want, sizeof(want), "x%d", i - 60);
			} else if (i == 60 + (int)nextra) {
				snprintf(name, sizeof(name), "globber%d", round);
				snprintf(want, sizeof(want), "g");
			} else {
				snprintf(name, sizeof(name), "p%d", 100 + round);
				want[0] = '\0';
			}
			if (want[0] != '\0')
				CHECK_STR(dec_with(set, ctx, name, "x", 1), want);
			else
				CHECK(dec_with(set, ctx, name, "x", 1) == NULL);
			/* the busiest names in between, as in a real stream */
			CHECK_STR(dec_with(set, ctx, "sshd", "x", 1), "x0");
			CHECK_STR(dec_with(set, ctx, "CRON", "x", 1), "x2");
			CHECK_STR(dec_with(set, ctx, "nginx", "x", 1), "x1");
			CHECK_STR(dec_with(set, ctx, "kernel", "x", 1), "x3");
		}
	}
	/* a new set at another address is never answered from the old one's
	 * lookups */
	decode_free(set);
	free(out);
	out = NULL;
	set = load_text("memo2.yml",
	    "decoders:\n  - name: other\n    programs: [sshd]\n    patterns: ['^']\n",
	    &st, &out);
	CHECK_STR(dec_with(set, ctx, "sshd", "x", 1), "other");
	CHECK(dec_with(set, ctx, "CRON", "x", 1) == NULL);
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/* Captured values of a field the event already holds (the parent's, the
 * same pattern's duplicate names) are chained after it, in order, with
 * their types; unset and empty groups add nothing. */
TEST(captures_chain_after_earlier_values)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;
	uint32_t w, i;
	const char *want[] = { "a1", "b2", "c3", "7" };
	size_t k = 0;

	set = load_text("chain.yml",
	    "decoders:\n"
	    "  - name: p\n"
	    "    programs: [app]\n"
	    "    types: {w: number}\n"
	    "    patterns: ['^(?<w>\\S+) (?<e>x*)(?<u>-)?']\n"
	    "    children:\n"
	    "      - name: c\n"
	    "        patterns: ['(?J)^\\S+ (?<w>\\S+) (?<w>\\S+) (?<w>\\d+)$']\n",
	    &st, &out);
	CHECK_STR(out, "");
	ctx = decode_ctx_new(set);
	CHECK_STR(dec_with(set, ctx, "app", "a1 b2 c3 7", 10), "c");
	w = field_lookup("w", 1);
	for (i = vg_event_first(E, w); i != FENT_END; i = E->ents[i].next) {
		CHECK(k < 4);
		if (k >= 4)
			break;
		CHECK_STR(E->ents[i].v.s, want[k]);
		CHECK_INT(E->ents[i].v.kind, k == 3 ? V_NUM : V_STR);
		k++;
	}
	CHECK_INT(k, 4);
	CHECK(E->ents[vg_event_first(E, w)].v.kind == V_STR);
	CHECK(fstr("e") == NULL);
	CHECK(fstr("u") == NULL);
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/* The decoders tried for a program (its exact ones, the globs it matches,
 * those for any program) run once each and in that order, whether the
 * worker's table lists them all (up to six) or not (more, or a name too
 * long to keep): counted in pattern_runs. */
TEST(program_candidates_once_each_in_order)
{
	struct decode_stats st;
	struct decode_ctx_stats cs;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;
	uint64_t runs;
	static const char *const names[] = {
		"dup", "many", "a-program-name-longer-than-28-bytes-dup",
	};

	set = load_text("cands.yml",
	    "decoders:\n"
	    "  - name: both\n"
	    "    programs: [dup, 'du*', 'a-program-name-longer-than-28-bytes-dup', '*-dup']\n"
	    "    patterns: ['^no']\n"
	    "  - name: g1\n    programs: ['m*']\n    patterns: ['^no']\n"
	    "  - name: g2\n    programs: ['*y']\n    patterns: ['^no']\n"
	    "  - name: g3\n    programs: ['?an?']\n    patterns: ['^no']\n"
	    "  - name: g4\n    programs: ['ma*']\n    patterns: ['^no']\n"
	    "  - name: g5\n    programs: ['*n*']\n    patterns: ['^no']\n"
	    "  - name: g6\n    programs: ['many']\n    patterns: ['^no']\n"
	    "  - name: g7\n    programs: ['m?ny']\n    patterns: ['^yes']\n"
	    "  - name: any1\n    patterns: ['^no']\n"
	    "  - name: any2\n    patterns: ['^(?:yes|last)']\n",
	    &st, &out);
	CHECK_STR(out, "");
	ctx = decode_ctx_new(set);
	for (int round = 0; round < 3; round++) {
		for (size_t k = 0; k < 3; k++) {
			const char *nm = names[k];

			decode_ctx_get_stats(ctx, &cs);
			runs = cs.pattern_runs;
			if (k == 1) {
				/* g6 (exact), then the globs in order, g7 wins */
				CHECK_STR(dec_with(set, ctx, nm, "yes", 3), "g7");
				decode_ctx_get_stats(ctx, &cs);
				CHECK_INT(cs.pattern_runs - runs, 7);
				CHECK_STR(dec_with(set, ctx, nm, "last", 4), "any2");
				decode_ctx_get_stats(ctx, &cs);
				CHECK_INT(cs.pattern_runs - runs, 7 + 9);
			} else {
				/* both (exact and glob: once), any1, any2; the
				 * long name matches *n* (g5) too */
				int c = k == 0 ? 3 : 4;

				CHECK_STR(dec_with(set, ctx, nm, "last", 4), "any2");
				decode_ctx_get_stats(ctx, &cs);
				CHECK_INT(cs.pattern_runs - runs, c);
				CHECK(dec_with(set, ctx, nm, "xxxx", 4) == NULL);
				decode_ctx_get_stats(ctx, &cs);
				CHECK_INT(cs.pattern_runs - runs, 2 * c);
			}
		}
		/* no program name: the decoders for any program */
		decode_ctx_get_stats(ctx, &cs);
		runs = cs.pattern_runs;
		CHECK_STR(dec_with(set, ctx, NULL, "yes", 3), "any2");
		CHECK_STR(dec_with(set, ctx, "", "yes", 3), "any2");
		decode_ctx_get_stats(ctx, &cs);
		CHECK_INT(cs.pattern_runs - runs, 4);
	}
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

TEST(parent_child_semantics)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;

	set = load_text("tree.yml",
	    "decoders:\n"
	    "  - name: p\n"
	    "    programs: [app]\n"
	    "    types: {n: number, level: lowercase}\n"
	    "    patterns: ['^(?<app.kind>\\w+) n=(?<n>\\S+)(?: lvl=(?<level>\\w+))?(?<_rest>.*)$']\n"
	    "    fields: {event.category: [web, network], event.outcome: unknown, k: 42}\n"
	    "    children:\n"
	    "      - name: c1\n"
	    "        patterns: ['^login ']\n"
	    "        fields: {event.outcome: success}\n"
	    "        children:\n"
	    "          - name: c1a\n"
	    "            field: app.kind\n"
	    "            patterns: ['^log(?P<x.y>in)$']\n"
	    "            fields: {deep: 'yes'}\n"
	    "      - name: c2\n"
	    "        patterns: ['^(?<dup.word>\\w+) n=\\S+ (?:\\S+ )?\\k<dup.word>$']\n"
	    "  - name: route\n"
	    "    programs: [app]\n"
	    "    children:\n"
	    "      - name: r1\n"
	    "        patterns: ['^zzz$']\n"
	    "  - name: fallback\n"
	    "    programs: [app]\n"
	    "    patterns: ['^other']\n"
	    "    fields: {k: 42}\n"
	    "    types: {k: number}\n",
	    &st, &out);
	CHECK_STR(out, "");
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.loaded, 7);
	ctx = decode_ctx_new(set);

	/* deepest child wins; its constants override the ancestors' */
	CHECK_STR(dec_with(set, ctx, "app", "login n=5 lvl=WARN", 18), "c1a");
	EXPECT_FIELDS("app.kind=login", "n=#5", "level=warn", "event.category=web",
	    "event.category=network", "event.outcome=success", "k=42", "x.y=in",
	    "deep=yes");

	/* the parent matches and no child does: the parent is the answer;
	 * a value typed number that is not one stays text */
	CHECK_STR(dec_with(set, ctx, "app", "hello n=0x1f", 12), "p");
	EXPECT_FIELDS("app.kind=hello", "n=0x1f", "event.category=web",
	    "event.category=network", "event.outcome=unknown", "k=42");

	/* backreference through a dotted group name */
	CHECK_STR(dec_with(set, ctx, "app", "echo n=1 echo", 13), "c2");
	CHECK_STR(fstr("dup.word"), "echo");
	CHECK_STR(dec_with(set, ctx, "app", "echo n=-2.5e3 x echo", 20), "c2");
	CHECK(E->ents[vg_event_first(E, field_lookup("n", 1))].v.kind == V_NUM);
	CHECK(E->ents[vg_event_first(E, field_lookup("n", 1))].v.num == -2500.0);

	/* a routing decoder whose children all fail lets the next one try;
	 * constants typed number are numbers */
	CHECK_STR(dec_with(set, ctx, "app", "other", 5), "fallback");
	EXPECT_FIELDS("k=#42");

	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/*
 * The loader compiles patterns leaner than written (lean_code): scratch
 * groups ('_' first) non-capturing unless something may refer to groups,
 * and anchored patterns without verbs or callouts without PCRE2's
 * start-up checks. They must find exactly what the pattern as written
 * finds, on the shipped decoders' kinds of lines cut at every length,
 * with one byte deleted, and with one byte replaced by a byte the
 * patterns care about.
 */
static const char *const lean_pats[] = {
	"^(?<ip>\\S+) \\S+ (?:-|(?<user>\\S+)) \\[[^\\]]*\\] \"(?<method>[A-Za-z]+) (?<url>\\S+) HTTP/(?<ver>\\d(?:\\.\\d)?)\" (?<status>\\d{3}) (?:-|(?<bytes>\\d+))(?: \"(?:-|(?<ref>[^\"]*))\" \"(?:-|(?<ua>[^\"]*))\")?",
	"^Failed (?<_m>password|keyboard-interactive/pam) for (?<user>.*?) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\\d+)",
	"^Connection (?:closed|reset) by (?:(?:authenticating|invalid) user (?<user>.*?) )?(?<ip>[0-9A-Fa-f:.]+) port (?<port>\\d+)(?: \\[preauth\\])?$",
	"^[^=]*IN=(?<in>\\S*+) OUT=(?<out>\\S*+) (?:MAC=\\S*+ )?+SRC=(?<src>\\S++) DST=(?<dst>\\S++) (?>[^P\\n]*+(?:P(?!ROTO=\\S)[^P\\n]*+)*+)PROTO=(?<proto>\\S++)(?: .*?SPT=(?<spt>\\d++) DPT=(?<dpt>\\d++))?",
	"^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?\\[UFW (?:LIMIT )?BLOCK\\]",
	"^\\((?<user>[^)]+)\\) CMD \\((?<cmd>.*)\\)$",
	"^\\s*(?<user>\\S+) : TTY=(?<_tty>\\S+) ; PWD=(?<pwd>.*?) ; USER=(?<euser>\\S+) ;(?: GROUP=(?<group>\\S+) ;)?(?: TSID=\\S+ ;)?(?: ENV=.*? ;)? COMMAND=(?<cmd>.*)$",
	"^(?:\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d )?\\[(?<level>[a-z]+)\\] \\d+#\\d+: (?:\\*\\d+ )?(?<msg>.*?)(?:, client: (?<ip>[^,]+)(?:, server: [^,]*)?(?:, request: \"(?<method>[A-Za-z]+) (?<url>\\S+) HTTP/(?<ver>\\d(?:\\.\\d)?)\")?.*)?$",
	"^(?<a>x)(?<b>y)?z\\z|^q(?<c>w+)",
	"^(?'_q'a+)(?P<_r>b+)(?<keep>c+)(?<_s>d)?(?<k2>e)?$",
	"^(?<_a>x)(?<k>y)\\1",
	"^(?<_a>x)(?<k>y)(?1)?",
	/* parsers/sshd.yml's max-auth pattern; the next test compares it
	 * with the (?:error: )? it was written with */
	"^(?:error: |)maximum authentication attempts exceeded for (?:invalid user )?(?<user>.*?) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\\d+)",
};

/* Capture groups each of lean_pats has once compiled by the loader. */
static const uint32_t lean_groups[] = { 9, 3, 3, 7, 0, 2, 5, 6, 3, 2, 2, 2, 3 };

static const char *const lean_lines[] = {
	"10.0.0.246 - - [23/Nov/2026:00:00:00 +0000] \"GET /static/app.js HTTP/1.1\" 200 15727 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
	"203.0.113.7 - bob [23/Nov/2026:00:00:00 +0000] \"POST /login HTTP/2\" 401 - \"https://x/\" \"-\"",
	"Failed password for admin from 185.24.143.27 port 54964 ssh2",
	"Failed password for a from b from 1.2.3.4 port 22 ssh2",
	"Connection closed by authenticating user oracle 91.124.41.148 port 15328 [preauth]",
	"[UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=61.217.30.212 DST=10.0.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=137 ID=26987 PROTO=TCP SPT=18482 DPT=80 WINDOW=1024 RES=0x00 SYN URGP=0",
	"[ 12.5] [UFW LIMIT BLOCK] IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=60 PPROTO=GRE PROTO=UDP SPT=53 DPT=5353",
	"(root) CMD (run-parts /etc/cron.hourly)",
	"   carol : TTY=pts/0 ; PWD=/home/carol ; USER=root ; GROUP=adm ; ENV=A=1 ; COMMAND=/usr/bin/apt-get update",
	"2026/11/23 00:00:00 [error] 12#12: *3 open() failed, client: 1.2.3.4, server: x, request: \"GET /a HTTP/1.1\", host: \"x\"",
	"xyz",
	"qwww",
	"aabbccd",
	"abce",
	"xyx",
	"xyxy",
	"error: maximum authentication attempts exceeded for invalid user a from b from 1.2.3.4 port 22 ssh2 [preauth]",
	"maximum authentication attempts exceeded for root from ::1 port 5 ssh2",
};

/* Whether decoding line with decoder `prog` adds exactly the groups code
 * captures (set and non-empty, '_' groups not kept), printing the first
 * difference. */
static int lean_same(struct decode_set *set, struct decode_ctx *ctx,
    const char *prog, pcre2_code *code, pcre2_match_data *md,
    const char *line, size_t len)
{
	const char *got = dec_with(set, ctx, prog, line, len);
	int rc = pcre2_match(code, (PCRE2_SPTR)line, len, 0, 0, md, NULL);
	uint32_t namecount = 0, esize = 0;
	PCRE2_SPTR table = NULL;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

	if ((got != NULL) != (rc >= 0)) {
		fprintf(stderr, "  %s on [%.*s]: decoder %s, pcre2 %d\n", prog,
		    (int)len, line, got ? got : "none", rc);
		return 0;
	}
	if (rc < 0)
		return 1;
	pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &namecount);
	pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
	pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t e = 0; e < namecount; e++) {
		PCRE2_SPTR ent = table + (size_t)e * esize;
		const char *nm = (const char *)ent + 2;
		uint32_t id = field_lookup(nm, strlen(nm));
		const struct value *v = id == FIELD_NONE ? NULL : vg_event_get(E, id);
		uint32_t g = ((uint32_t)ent[0] << 8) | ent[1];
		int set_ne = g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET &&
		    ov[2 * g + 1] > ov[2 * g];

		if (nm[0] == '_')
			continue;
		if (!set_ne ? v != NULL : v == NULL ||
		    v->len != ov[2 * g + 1] - ov[2 * g] ||
		    memcmp(v->s, line + ov[2 * g], v->len) != 0) {
			fprintf(stderr, "  %s on [%.*s]: group %s differs\n", prog,
			    (int)len, line, nm);
			return 0;
		}
	}
	return 1;
}

TEST(anchored_patterns_without_start_checks)
{
	size_t np = sizeof(lean_pats) / sizeof(lean_pats[0]);
	size_t nl = sizeof(lean_lines) / sizeof(lean_lines[0]);
	static const char subst[] = { ' ', '"', 'P', '=', ')', '\n', '\0', '-', '1' };
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	char *yml = NULL, *out = NULL, prog[16], buf[512];
	size_t ylen = 0, runs = 0, bad = 0;
	FILE *y = open_memstream(&yml, &ylen);
	uint32_t opts;

	fputs("decoders:\n", y);
	for (size_t i = 0; i < np; i++) {
		fprintf(y, "  - name: l%zu\n    programs: [l%zu]\n    patterns: ['", i, i);
		for (const char *c = lean_pats[i]; *c != '\0'; c++)
			fputs(*c == '\'' ? "''" : (char[]){ *c, '\0' }, y);
		fputs("']\n", y);
	}
	/* kept: a verb, a callout, multiline ^ (not anchored), unanchored */
	fputs("  - name: k0\n    programs: [k0]\n    patterns: ['^a(*COMMIT)b|^ac']\n"
	    "  - name: k1\n    programs: [k1]\n    patterns: ['^a(?C1)b']\n"
	    "  - name: k2\n    programs: [k2]\n    patterns: ['(?m)^ab']\n"
	    "  - name: k3\n    programs: [k3]\n    patterns: ['ab']\n", y);
	fclose(y);
	set = load_text("lean.yml", yml, &st, &out);
	CHECK_STR(out, "");
	CHECK_INT(st.loaded, (int)np + 4);
	ctx = decode_ctx_new(set);
	CHECK_INT(sizeof(lean_groups) / sizeof(lean_groups[0]), np);
	for (size_t i = 0; i < set->ntops; i++) {
		uint32_t groups = 0;

		opts = 0;
		pcre2_pattern_info(set->tops[i]->pats[0].code, PCRE2_INFO_ALLOPTIONS, &opts);
		CHECK_INT((opts & PCRE2_NO_START_OPTIMIZE) != 0, i < np);
		pcre2_pattern_info(set->tops[i]->pats[0].code,
		    PCRE2_INFO_CAPTURECOUNT, &groups);
		if (i < np)
			CHECK_INT(groups, lean_groups[i]);
	}
	/* the verb still decides: past a, the second branch is never tried */
	CHECK_STR(dec_with(set, ctx, "k0", "ab", 2), "k0");
	CHECK(dec_with(set, ctx, "k0", "ac", 2) == NULL);
	CHECK_STR(dec_with(set, ctx, "k2", "x\nab", 4), "k2");
	CHECK_STR(dec_with(set, ctx, "k3", "xab", 3), "k3");

	for (size_t i = 0; i < np; i++) {
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)lean_pats[i],
		    PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF, &ec, &eo, NULL);

		CHECK(code != NULL);
		if (code == NULL)
			continue;
		snprintf(prog, sizeof(prog), "l%zu", i);
		for (size_t l = 0; l < nl; l++) {
			const char *line = lean_lines[l];
			size_t n = strlen(line);

			for (size_t cut = 0; cut <= n; cut++) {
				runs++;
				bad += !lean_same(set, ctx, prog, code, md, line, cut);
			}
			for (size_t at = 0; at < n; at++) {
				memcpy(buf, line, at);
				memcpy(buf + at, line + at + 1, n - at - 1);
				runs++;
				bad += !lean_same(set, ctx, prog, code, md, buf, n - 1);
				for (size_t s = 0; s < sizeof(subst); s++) {
					memcpy(buf, line, n);
					buf[at] = subst[s];
					runs++;
					bad += !lean_same(set, ctx, prog, code, md, buf, n);
				}
			}
		}
		pcre2_code_free(code);
	}
	CHECK(runs > 90000);
	CHECK_INT(bad, 0);
	pcre2_match_data_free(md);
	decode_ctx_free(ctx);
	decode_free(set);
	free(yml);
	free(out);
}

/* Whether old and new (compiled as written) match line[0..len) alike,
 * with the same offsets for every group of new's name table. */
static int same_groups(pcre2_code *old, pcre2_code *new, pcre2_match_data *mo,
    pcre2_match_data *mn, const char *line, size_t len)
{
	int ro = pcre2_match(old, (PCRE2_SPTR)line, len, 0, 0, mo, NULL);
	int rn = pcre2_match(new, (PCRE2_SPTR)line, len, 0, 0, mn, NULL);
	PCRE2_SIZE *oo = pcre2_get_ovector_pointer(mo);
	PCRE2_SIZE *on = pcre2_get_ovector_pointer(mn);
	uint32_t namecount = 0, esize = 0;
	PCRE2_SPTR table = NULL;

	if ((ro >= 0) != (rn >= 0))
		return 0;
	if (rn < 0)
		return 1;
	pcre2_pattern_info(new, PCRE2_INFO_NAMECOUNT, &namecount);
	pcre2_pattern_info(new, PCRE2_INFO_NAMEENTRYSIZE, &esize);
	pcre2_pattern_info(new, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t e = 0; e < namecount; e++) {
		PCRE2_SPTR ent = table + (size_t)e * esize;
		int go = pcre2_substring_number_from_name(old, ent + 2);
		uint32_t gn = ((uint32_t)ent[0] << 8) | ent[1];
		PCRE2_SIZE ao = go < ro ? oo[2 * go] : PCRE2_UNSET;
		PCRE2_SIZE an = gn < (uint32_t)rn ? on[2 * gn] : PCRE2_UNSET;

		if (go < 0 || ao != an || (an != PCRE2_UNSET &&
		    oo[2 * go + 1] != on[2 * gn + 1]))
			return 0;
	}
	return 1;
}

/*
 * Rewrites of shipped patterns keep every capture: the pattern as it was
 * and as parsers/ now has it match the same lines with the same groups,
 * on lines of their kind cut at every length, with one byte deleted and
 * with one byte replaced; and the shipped decoder got the pre-check the
 * rewrite was for.
 */
TEST(pattern_rewrites_same_captures)
{
	static const char *const pairs[][2] = {
		{ "^(?:error: )?maximum authentication attempts exceeded for (?:invalid user )?(?<user>.*?) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\\d+)",
		  "^(?:error: |)maximum authentication attempts exceeded for (?:invalid user )?(?<user>.*?) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\\d+)" },
	};
	static const char *const lines[] = {
		"error: maximum authentication attempts exceeded for invalid user a from b from 1.2.3.4 port 22 ssh2 [preauth]",
		"maximum authentication attempts exceeded for root from ::1 port 5 ssh2",
		"error: error: maximum authentication attempts exceeded for x from 1.2.3.4 port 1",
	};
	static const char *const splits[][3] = {
		{ "^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?\\[UFW (?:LIMIT )?BLOCK\\]",
		  "^\\[UFW (?:LIMIT |)BLOCK\\]",
		  "^\\[\\s*\\d+\\.\\d+\\]\\s*\\[UFW (?:LIMIT )?BLOCK\\]" },
		{ "^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?\\[UFW ALLOW\\]",
		  "^\\[UFW ALLOW\\]",
		  "^\\[\\s*\\d+\\.\\d+\\]\\s*\\[UFW ALLOW\\]" },
		{ "^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?\\[UFW AUDIT(?: INVALID)?\\]",
		  "^\\[UFW AUDIT(?: INVALID|)\\]",
		  "^\\[\\s*\\d+\\.\\d+\\]\\s*\\[UFW AUDIT(?: INVALID)?\\]" },
	};
	static const char *const ufw[] = {
		"[UFW BLOCK] IN=eth0", "[UFW LIMIT BLOCK] IN=", "[ 12.5] [UFW ALLOW]",
		"[12.50][UFW AUDIT INVALID]", "[UFW AUDIT] x", "[  1.2]  [UFW LIMIT BLOCK]",
	};
	static const char subst[] = { ' ', ':', 'e', 'm', '\n', '\0', '1', '[', ']', '.', 'L' };
	pcre2_match_data *mo = pcre2_match_data_create(16, NULL);
	pcre2_match_data *mn = pcre2_match_data_create(16, NULL);
	size_t runs = 0, bad = 0;
	char buf[256];
	const struct dnode *top = NULL, *kid = NULL;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *old = pcre2_compile((PCRE2_SPTR)pairs[i][0],
		    PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF, &ec, &eo, NULL);
		pcre2_code *new = pcre2_compile((PCRE2_SPTR)pairs[i][1],
		    PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF, &ec, &eo, NULL);

		CHECK(old != NULL && new != NULL);
		for (size_t l = 0; old && new && l < sizeof(lines) / sizeof(lines[0]); l++) {
			size_t n = strlen(lines[l]);

			for (size_t cut = 0; cut <= n; cut++) {
				runs++;
				bad += !same_groups(old, new, mo, mn, lines[l], cut);
			}
			for (size_t at = 0; at < n; at++) {
				memcpy(buf, lines[l], at);
				memcpy(buf + at, lines[l] + at + 1, n - at - 1);
				runs++;
				bad += !same_groups(old, new, mo, mn, buf, n - 1);
				for (size_t k = 0; k < sizeof(subst); k++) {
					memcpy(buf, lines[l], n);
					buf[at] = subst[k];
					runs++;
					bad += !same_groups(old, new, mo, mn, buf, n);
				}
			}
		}
		pcre2_code_free(old);
		pcre2_code_free(new);
	}
	/* patterns without groups split in two: either matches where the
	 * one did */
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *c[3];

		for (int k = 0; k < 3; k++) {
			c[k] = pcre2_compile((PCRE2_SPTR)splits[i][k],
			    PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF, &ec, &eo, NULL);
			CHECK(c[k] != NULL);
		}
		for (size_t l = 0; c[0] && c[1] && c[2] &&
		    l < sizeof(ufw) / sizeof(ufw[0]); l++) {
			size_t n = strlen(ufw[l]);

			for (size_t v = 0; v <= 2 * n + n * sizeof(subst); v++) {
				size_t len;
				int one, two;

				if (v <= n) {
					memcpy(buf, ufw[l], v);
					len = v;
				} else if (v < 2 * n + 1) {
					size_t at = v - n - 1;

					memcpy(buf, ufw[l], at);
					memcpy(buf + at, ufw[l] + at + 1, n - at - 1);
					len = n - 1;
				} else {
					size_t at = (v - 2 * n - 1) / sizeof(subst);

					memcpy(buf, ufw[l], n);
					buf[at] = subst[(v - 2 * n - 1) % sizeof(subst)];
					len = n;
				}
				one = pcre2_match(c[0], (PCRE2_SPTR)buf, len, 0, 0, mo, NULL) >= 0;
				two = pcre2_match(c[1], (PCRE2_SPTR)buf, len, 0, 0, mn, NULL) >= 0 ||
				    pcre2_match(c[2], (PCRE2_SPTR)buf, len, 0, 0, mn, NULL) >= 0;
				runs++;
				bad += one != two;
			}
		}
		for (int k = 0; k < 3; k++)
			pcre2_code_free(c[k]);
	}
	CHECK(runs > 8000);
	CHECK_INT(bad, 0);
	for (size_t i = 0; i < S->ntops; i++) {
		if (strcmp(S->tops[i]->name, "kernel-netfilter") != 0)
			continue;
		for (size_t k = 0; k < 3 && k < S->tops[i]->nkids; k++) {
			CHECK_INT(S->tops[i]->kids[k]->npats, 2);
			CHECK_INT(S->tops[i]->kids[k]->pats[0].exact, 1);
		}
	}
	for (size_t i = 0; i < S->ntops; i++) {
		if (strcmp(S->tops[i]->name, "sshd") == 0)
			top = S->tops[i];
	}
	for (size_t i = 0; top != NULL && i < top->nkids; i++) {
		if (strcmp(top->kids[i]->name, "sshd-max-auth-attempts") == 0)
			kid = top->kids[i];
	}
	CHECK(kid != NULL);
	if (kid != NULL) {
		CHECK_INT(kid->pats[0].nalts, 2);
		CHECK(kid->prefirst);
	}
	pcre2_match_data_free(mo);
	pcre2_match_data_free(mn);
}

/*
 * A pattern made only of the texts its pre-check tests (or of one class)
 * is decided by the pre-check, without PCRE2; it must decide like PCRE2
 * on lines cut, shortened and mutated around its texts. Patterns that are
 * more than their texts still run PCRE2.
 */
TEST(patterns_decided_by_their_precheck)
{
	static const struct { const char *pat; int exact; } pats[] = {
		{ "^abc", 1 },
		{ "^\\[UFW (?:LIMIT |)BLOCK\\]", 1 },
		{ "^[45]", 1 },
		{ "^x(?:y|)z", 1 },
		{ "^a\\.b(?:c|d)(?:e|f)", 1 },
		{ "^abc$", 0 },
		{ "^ab?c", 0 },
		{ "^(?<x>abc)", 0 },
		{ "^(?:abc)?d", 0 },
		{ "^[^4]", 0 },
		{ "^[4-5]", 0 },
		{ "^a\\d", 0 },
		{ "^a.c", 0 },
		{ "abc", 0 },
		{ "^(?i)abc", 0 },
		{ "^0123456789abcdefghijklmnop", 0 }, /* longer than a pre-check */
	};
	static const char *const lines[] = {
		"abcd", "[UFW BLOCK] IN=x", "[UFW LIMIT BLOCK]", "404", "xyz", "xz",
		"a.bcf", "a.bde", "abc", "4", "0123456789abcdefghijklmnopq", "ABC",
	};
	static const char subst[] = { ' ', '[', 'L', '4', 'a', 'x', 'y', '\0', '.' };
	size_t np = sizeof(pats) / sizeof(pats[0]);
	struct decode_stats st;
	struct decode_ctx_stats cs;
	struct decode_set *set;
	struct decode_ctx *ctx;
	pcre2_match_data *md = pcre2_match_data_create(8, NULL);
	char *yml = NULL, *out = NULL, prog[16], buf[64];
	size_t ylen = 0, runs = 0, bad = 0;
	FILE *y = open_memstream(&yml, &ylen);

	fputs("decoders:\n", y);
	for (size_t i = 0; i < np; i++) {
		fprintf(y, "  - name: e%zu\n    programs: [e%zu]\n    patterns: ['", i, i);
		fputs(pats[i].pat, y);
		fputs("']\n", y);
	}
	fclose(y);
	set = load_text("exact.yml", yml, &st, &out);
	CHECK_STR(out, "");
	CHECK_INT(st.loaded, (int)np);
	ctx = decode_ctx_new(set);
	for (size_t i = 0; i < np; i++) {
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)pats[i].pat,
		    PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF, &ec, &eo, NULL);
		uint64_t pc;

		CHECK_INT(set->tops[i]->pats[0].exact, pats[i].exact);
		CHECK(code != NULL);
		if (code == NULL)
			continue;
		snprintf(prog, sizeof(prog), "e%zu", i);
		decode_ctx_get_stats(ctx, &cs);
		pc = cs.pcre2_runs;
		for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
			size_t n = strlen(lines[l]);

			for (size_t v = 0; v <= 2 * n + n * sizeof(subst); v++) {
				size_t len;

				if (v <= n) { /* cut */
					memcpy(buf, lines[l], v);
					len = v;
				} else if (v < 2 * n + 1) { /* one byte out */
					size_t at = v - n - 1;

					memcpy(buf, lines[l], at);
					memcpy(buf + at, lines[l] + at + 1, n - at - 1);
					len = n - 1;
				} else { /* one byte replaced */
					size_t at = (v - 2 * n - 1) / sizeof(subst);

					memcpy(buf, lines[l], n);
					buf[at] = subst[(v - 2 * n - 1) % sizeof(subst)];
					len = n;
				}
				runs++;
				bad += (dec_with(set, ctx, prog, buf, len) != NULL) !=
				    (pcre2_match(code, (PCRE2_SPTR)buf, len, 0, 0, md,
				    NULL) >= 0);
			}
		}
		decode_ctx_get_stats(ctx, &cs);
		if (pats[i].exact)
			CHECK_INT(cs.pcre2_runs, pc); /* never asked */
		else
			CHECK(cs.pcre2_runs > pc);
		pcre2_code_free(code);
	}
	CHECK(runs > 10000);
	CHECK_INT(bad, 0);
	pcre2_match_data_free(md);
	decode_ctx_free(ctx);
	decode_free(set);
	free(yml);
	free(out);
}

TEST(match_limit_cuts_catastrophic_patterns)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL, msg[64];
	struct timespec a, b;
	double ms;

	set = load_text("evil.yml",
	    "decoders:\n"
	    "  - name: evil\n"
	    "    programs: [x]\n"
	    "    patterns: ['(a+)+$', '^(?<ok>a+)b$']\n",
	    &st, &out);
	CHECK_INT(st.loaded, 1);
	ctx = decode_ctx_new(set);
	memset(msg, 'a', 40);
	msg[40] = 'b';
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* the first pattern is cut off and counted; the second still runs */
	CHECK_STR(dec_with(set, ctx, "x", msg, 41), "evil");
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	CHECK(ms < 200);
	CHECK_INT(decode_ctx_limit_hits(ctx), 1);
	CHECK_INT(strlen(fstr("ok")), 40);
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

TEST(match_limit_is_per_ctx)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL, msg[32];

	set = load_text("evil2.yml",
	    "decoders:\n"
	    "  - name: evil2\n"
	    "    programs: [x]\n"
	    "    patterns: ['^(a|aa)+$']\n",
	    &st, &out);
	ctx = decode_ctx_new(set);
	memset(msg, 'a', 24);
	CHECK_STR(dec_with(set, ctx, "x", msg, 24), "evil2");
	CHECK_INT(decode_ctx_limit_hits(ctx), 0);
	msg[24] = 'b';
	decode_ctx_set_limits(ctx, 50, 0);
	CHECK(dec_with(set, ctx, "x", msg, 25) == NULL);
	CHECK_INT(decode_ctx_limit_hits(ctx), 1);
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

TEST(invalid_utf8_is_bytes)
{
	struct decode_ctx_stats cs;
	const char msg[] = "Failed password for \xff\xfe" "r\xc3\x28oot from 1.2.3.4 port 22 ssh2";
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;

	CHECK_STR(dec_with(S, C, "sshd", msg, sizeof(msg) - 1), "sshd-failed-password");
	CHECK_STR(fstr("user.name"), "\xff\xfer\xc3\x28oot");
	decode_ctx_get_stats(C, &cs);
	CHECK_INT(cs.match_errors, 0);
	/* a NUL byte inside the message is just a byte too */
	CHECK_STR(dec_with(S, C, "sshd", "Invalid user a\0b from 1.2.3.4 port 22", 37),
	    "sshd-invalid-user");
	CHECK_INT(E->ents[vg_event_first(E, field_lookup("user.name", 9))].v.len, 3);

	/* literal UTF-8 in a pattern matches the same bytes */
	set = load_text("utf.yml",
	    "decoders:\n"
	    "  - name: utf\n"
	    "    programs: [x]\n"
	    "    patterns: ['^caf\xc3\xa9 (?<w>.+)$']\n",
	    &st, &out);
	ctx = decode_ctx_new(set);
	CHECK_STR(dec_with(set, ctx, "x", "caf\xc3\xa9 \xe2\x82\xac\xff", 10), "utf");
	CHECK_STR(fstr("w"), "\xe2\x82\xac\xff");
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

/* ---- loader errors ---- */

TEST(loader_reports_errors_with_positions)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *ctx;
	char *out = NULL;
	char want[1200];

	set = load_text("bad.yml",
	    "decoders:\n"                                      /* 1 */
	    "  - name: good\n"                                 /* 2 */
	    "    programs: [x]\n"                              /* 3 */
	    "    patterns: ['^good (?<user.name>\\w+)']\n"     /* 4 */
	    "  - name: badre\n"                                /* 5 */
	    "    patterns: ['^a(?<f>b']\n"                     /* 6 */
	    "  - name: unknownkey\n"                           /* 7 */
	    "    patern: ['x']\n"                              /* 8 */
	    "    patterns: ['x']\n"                            /* 9 */
	    "  - programs: [x]\n"                              /* 10 */
	    "    patterns: ['x']\n"                            /* 11 */
	    "  - name: empty\n"                                /* 12 */
	    "  - name: good\n"                                 /* 13 */
	    "    patterns: ['x']\n"                            /* 14 */
	    "  - name: badgroup\n"                             /* 15 */
	    "    patterns: ['^(?<source..ip>x) (?<.y>z)']\n"   /* 16 */
	    "  - name: kid\n"                                  /* 17 */
	    "    patterns: ['x']\n"                            /* 18 */
	    "    children:\n"                                  /* 19 */
	    "      - name: kid1\n"                             /* 20 */
	    "        programs: [y]\n"                          /* 21 */
	    "        patterns: ['y']\n"                        /* 22 */
	    "      - name: kid1\n"                             /* 23 */
	    "        patterns: ['z']\n"                        /* 24 */
	    "  - name: types\n"                                /* 25 */
	    "    types: {n: integer, m: number}\n"             /* 26 */
	    "    fields: {m: abc, 'bad name': x}\n"            /* 27 */
	    "    patterns: ['(?<n>x)']\n"                      /* 28 */
	    "  - name: dq\n"                                   /* 29 */
	    "    patterns: [\"\\\\d\\t(\"]\n"                  /* 30 */
	    "  - name: sq\n"                                   /* 31 */
	    "    patterns: ['it''s (']\n"                      /* 32 */
	    "  - name: block\n"                                /* 33 */
	    "    patterns:\n"                                  /* 34 */
	    "      - |-\n"                                     /* 35 */
	    "        ^first\n"                                 /* 36 */
	    "          (?<a>b\n",                              /* 37 */
	    &st, &out);
#define HAS_AT(pos, text)                                               \
	do {                                                            \
		snprintf(want, sizeof(want), "%s/bad.yml:%s: error: %s", tmpdir, pos, text); \
		CHECK(has(out, want));                                  \
	} while (0)
	HAS_AT("6:25", "bad pattern: missing closing parenthesis");
	HAS_AT("8:5", "unknown key 'patern' in decoder (expected name, description, programs, field, patterns, fields, types, children)");
	HAS_AT("10:5", "decoder has no name");
	HAS_AT("12:5", "decoder 'empty' has neither patterns nor children");
	HAS_AT("13:11", "duplicate decoder name 'good' (first defined at");
	HAS_AT("16:21", "group 'source..ip' does not name a valid field");
	HAS_AT("16:38", "group '.y' does not name a valid field");
	HAS_AT("21:19", "programs is only allowed on top-level decoders");
	HAS_AT("23:15", "duplicate decoder name 'kid1' (first defined at line 20)");
	HAS_AT("26:16", "unknown type 'integer' for 'n'");
	HAS_AT("27:17", "'abc' is not a number");
	HAS_AT("27:22", "'bad name' is not a valid field name");
	HAS_AT("30:23", "bad pattern: missing closing parenthesis");
	HAS_AT("32:24", "bad pattern: missing closing parenthesis");
	HAS_AT("37:17", "bad pattern: missing closing parenthesis");
	/* only "good" survived; every decoder of a bad tree is rejected */
	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 13);
	CHECK_INT(decode_count(set), 1);
	ctx = decode_ctx_new(set);
	CHECK_STR(dec_with(set, ctx, "x", "good bob", 8), "good");
	CHECK_STR(fstr("user.name"), "bob");
	decode_ctx_free(ctx);
	decode_free(set);
	free(out);
}

TEST(loader_file_level_errors)
{
	struct decode_stats st;
	struct decode_set *set;
	char *out = NULL, want[1200];
	const char *paths[4];
	char p0[256], p1[256], p2[256], p3[256];

	snprintf(p0, sizeof(p0), "%s", put_file("syntax.yml", "decoders:\n  - name: [a\n"));
	snprintf(p1, sizeof(p1), "%s", put_file("root.yml", "- just a list\n"));
	snprintf(p2, sizeof(p2), "%s", put_file("dup.yml",
	    "decoders:\n  - name: one\n    patterns: ['x']\n---\n"
	    "decoders:\n  - name: one\n    patterns: ['y']\nextra: 1\n"));
	snprintf(p3, sizeof(p3), "%s/missing.yml", tmpdir);
	paths[0] = p0;
	paths[1] = p1;
	paths[2] = p2;
	paths[3] = p3;
	set = load_capture(paths, 4, &st, &out);
	snprintf(want, sizeof(want), "%s:3:1: error: YAML: ", p0);
	CHECK(has(out, want));
	snprintf(want, sizeof(want), "%s:1:1: error: a decoder file is a map", p1);
	CHECK(has(out, want));
	snprintf(want, sizeof(want), "%s:8:1: error: unknown key 'extra' in decoder file", p2);
	CHECK(has(out, want));
	snprintf(want, sizeof(want), "%s: error: ", p3);
	CHECK(has(out, want));
	/* syntax, root, second document of dup.yml, missing file */
	CHECK_INT(st.rejected, 4);
	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.files, 3);
	decode_free(set);
	free(out);

	/* a duplicate across files points at the first definition */
	snprintf(p0, sizeof(p0), "%s", put_file("a1.yml", "decoders:\n  - name: same\n    patterns: ['x']\n"));
	snprintf(p1, sizeof(p1), "%s", put_file("a2.yml", "decoders:\n  - {name: same, patterns: ['y']}\n"));
	paths[0] = p0;
	paths[1] = p1;
	set = load_capture(paths, 2, &st, &out);
	snprintf(want, sizeof(want), "%s:2:12: error: duplicate decoder name 'same' (first defined at %s:2:11)", p1, p0);
	CHECK(has(out, want));
	CHECK_INT(st.loaded, 1);
	CHECK_INT(st.rejected, 1);
	decode_free(set);
	free(out);

	/* CRLF line ends count once; a \r alone is a line break too */
	snprintf(p0, sizeof(p0), "%s", put_file("crlf.yml",
	    "decoders:\r\n  - name: c\r\n    patterns: ['a(']\r\n"
	    "  - name: d\r    patterns:\r      - |\r        x\r        (y\r"));
	paths[0] = p0;
	set = load_capture(paths, 1, &st, &out);
	snprintf(want, sizeof(want), "%s:3:19: error: bad pattern: missing closing parenthesis", p0);
	CHECK(has(out, want));
	snprintf(want, sizeof(want), "%s:9:1: error: bad pattern: missing closing parenthesis", p0);
	CHECK(has(out, want));
	CHECK_INT(st.rejected, 2);
	decode_free(set);
	free(out);

	/* empty files and an empty list are fine */
	snprintf(p0, sizeof(p0), "%s", put_file("e1.yml", ""));
	snprintf(p1, sizeof(p1), "%s", put_file("e2.yml", "decoders: []\n"));
	paths[0] = p0;
	paths[1] = p1;
	set = load_capture(paths, 2, &st, &out);
	CHECK_STR(out, "");
	CHECK_INT(st.rejected, 0);
	CHECK_INT(decode_count(set), 0);
	CHECK(dec_with(set, C, "x", "y", 1) == NULL);
	decode_free(set);
	free(out);
}

TEST(null_and_reuse)
{
	struct decode_stats st;
	struct decode_set *set;
	struct decode_ctx *small;
	char *out = NULL;

	decode_free(NULL);
	decode_ctx_free(NULL);
	CHECK_INT(decode_count(NULL), 0);
	set = decode_load(NULL, 0, NULL, NULL);
	CHECK(set != NULL);
	CHECK_INT(decode_count(set), 0);
	decode_free(set);
	/* a ctx made for an empty set grows to fit a bigger one */
	small = decode_ctx_new(NULL);
	set = load_text("big.yml",
	    "decoders:\n"
	    "  - name: big\n"
	    "    programs: [x]\n"
	    "    patterns: ['^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(?<last>s)$']\n",
	    &st, &out);
	CHECK_STR(dec_with(set, small, "x", "abcdefghijklmnopqrs", 19), "big");
	CHECK_STR(fstr("last"), "s");
	CHECK_STR(dec_with(S, small, "sshd", "Invalid user a from 1.2.3.4", 27), "sshd-invalid-user");
	decode_ctx_free(small);
	decode_free(set);
	free(out);
}

static void rm_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void)
{
	const char *p = "parsers";

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-decode-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	S = decode_load(&p, 1, NULL, NULL);
	C = decode_ctx_new(S);
	E = vg_event_new();

	RUN(shipped_parsers_load_clean);
	RUN(sshd_contract_failed_password);
	RUN(sshd_positive);
	RUN(sshd_negative);
	RUN(sudo_decoders);
	RUN(su_decoders);
	RUN(pam_decoders);
	RUN(cron_decoders);
	RUN(kernel_netfilter);
	RUN(kernel_netfilter_scans);
	RUN(nginx_decoders);
	RUN(apache_decoders);
	RUN(postfix_decoders);
	RUN(account_decoders);
	RUN(logind_decoders);
	RUN(literal_prefix_extraction);
	RUN(first_byte_sets);
	RUN(literal_prefixes_through_groups);
	RUN(literal_prefixes_keep_matches_and_skip_pcre2);
	RUN(literal_prefix_keeps_matches);
	RUN(program_index_limits_what_runs);
	RUN(program_memo_answers_like_the_index);
	RUN(program_candidates_once_each_in_order);
	RUN(parent_child_semantics);
	RUN(captures_chain_after_earlier_values);
	RUN(anchored_patterns_without_start_checks);
	RUN(pattern_rewrites_same_captures);
	RUN(patterns_decided_by_their_precheck);
	RUN(match_limit_cuts_catastrophic_patterns);
	RUN(match_limit_is_per_ctx);
	RUN(invalid_utf8_is_bytes);
	RUN(loader_reports_errors_with_positions);
	RUN(loader_file_level_errors);
	RUN(null_and_reuse);

	vg_event_free(E);
	decode_ctx_free(C);
	decode_free(S);
	rm_tmpdir();
	return unit_done();
}
