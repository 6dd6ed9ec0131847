/*
 * test_config.c: vigil.yml loading: defaults, the shipped vigil.yml, every
 * key, path resolution, and the exact text of every kind of error.
 */
#include <stdint.h>
#include <unistd.h>

#include "unit.h"
#include "../../engine/config.h"
#include "../../engine/ytree.h"

/* Load yaml as file `name`; *out gets the diagnostics text (owned). */
static struct config *load(const char *name, const char *yaml, char **out,
    int *nerr)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vg_diag d;
	struct config *c;

	vg_diag_init(&d, f);
	d.no_source = 1;
	c = config_load_buffer(name, yaml, strlen(yaml), &d);
	fclose(f);
	*out = text;
	if (nerr != NULL)
		*nerr = d.errors;
	return c;
}

/* The diagnostics of an invalid config; the load must fail. Owned. */
static char *errors_of(const char *yaml)
{
	char *out;
	struct config *c = load("t.yml", yaml, &out, NULL);

	if (c != NULL) {
		UNIT_FAIL("config loaded but should not: %s", yaml);
		config_free(c);
	}
	return out;
}

#define CHECK_ERRS(yaml, want)                                          \
	do {                                                            \
		char *e_ = errors_of(yaml);                             \
		CHECK_STR(e_, want);                                    \
		free(e_);                                               \
	} while (0)

/* Every field of c equals the defaults relative to dir. */
static void check_defaults(const struct config *c, const char *dir)
{
	char p[4][512];
	int dot = strcmp(dir, ".") == 0;

	snprintf(p[0], sizeof(p[0]), "%s%sparsers", dot ? "" : dir, dot ? "" : "/");
	snprintf(p[1], sizeof(p[1]), "%s%srules", dot ? "" : dir, dot ? "" : "/");
	snprintf(p[2], sizeof(p[2]), "%s%splaybooks", dot ? "" : dir, dot ? "" : "/");
	snprintf(p[3], sizeof(p[3]), "%s%svar", dot ? "" : dir, dot ? "" : "/");
	CHECK_STR(c->dir, dir);
	CHECK_INT(c->ninputs, 2);
	if (c->ninputs == 2) {
		CHECK_STR(c->inputs[0].name, "syslog-udp");
		CHECK_INT(c->inputs[0].type, INPUT_UDP);
		CHECK_STR(c->inputs[0].listen, "127.0.0.1:5514");
		CHECK(c->inputs[0].path == NULL && c->inputs[0].cert == NULL);
		CHECK_STR(c->inputs[1].name, "syslog-tcp");
		CHECK_INT(c->inputs[1].type, INPUT_TCP);
		CHECK_STR(c->inputs[1].listen, "127.0.0.1:5514");
	}
	CHECK_STR(c->redis_url, "");
	CHECK_STR(c->redis_prefix, "vigil:");
	CHECK_INT(c->nparsers, 1);
	CHECK_STR(c->parsers[0], p[0]);
	CHECK_INT(c->nrules, 1);
	CHECK_STR(c->rules[0], p[1]);
	CHECK_INT(c->nplaybooks, 1);
	CHECK_STR(c->playbooks[0], p[2]);
	{
		char f[600];

		snprintf(f, sizeof(f), "%s/alerts.jsonl", p[3]);
		CHECK_STR(c->out_file, f);
	}
	CHECK_INT(c->out_stdout, 0);
	CHECK_STR(c->out_redis_stream, "");
	CHECK_STR(c->http_listen, "127.0.0.1:8514");
	CHECK_STR(c->http_token_file, "");
	CHECK_INT(c->workers, 0);
	CHECK_STR(c->data_dir, p[3]);
	CHECK_STR(c->user, "");
	CHECK_INT(c->tz_offset_min, 0);
	CHECK_INT(c->max_skew_ms, 7 * 86400 * 1000LL);
	CHECK(c->oncall == NULL && c->channels == NULL);
	CHECK_INT(c->response.nexec_dirs, 0);
	CHECK_INT(c->response.nprotected, 0);
	CHECK_INT(c->response.min_level, LEVEL_HIGH);
	CHECK_INT(c->response.group_wait_ms, 10000);
	CHECK_INT(c->response.group_interval_ms, 300000);
	CHECK_INT(c->response.repeat_interval_ms, 4 * 3600000LL);
	CHECK_INT(c->response.auto_resolve_ms, 24 * 3600000LL);
	CHECK_INT(c->response.resolved_ttl_ms, 30 * 86400000LL);
	CHECK_STR(c->response.default_policy, "");
	CHECK_STR(c->response.url, "");
}

TEST(defaults)
{
	struct config *c = config_default("/etc/vigil");

	check_defaults(c, "/etc/vigil");
	CHECK_STR(c->file, "");
	config_free(c);
	c = config_default(".");
	check_defaults(c, ".");
	CHECK_STR(c->parsers[0], "parsers");
	config_free(c);
	c = config_default(NULL);
	check_defaults(c, ".");
	config_free(c);
	config_free(NULL);
}

TEST(empty_file_is_defaults)
{
	static const char *const empty[] = { "", "# nothing\n", "---\n", "~\n", "\n\n" };

	for (size_t i = 0; i < VG_ARRAY_LEN(empty); i++) {
		char *out;
		struct config *c = load("/etc/vigil/vigil.yml", empty[i], &out, NULL);

		CHECK(c != NULL);
		CHECK_STR(out, "");
		if (c != NULL) {
			check_defaults(c, "/etc/vigil");
			CHECK_STR(c->file, "/etc/vigil/vigil.yml");
		}
		config_free(c);
		free(out);
	}
}

TEST(repo_vigil_yml_is_the_defaults)
{
	struct vg_diag d;
	struct config *c;

	vg_diag_init(&d, stderr);
	c = config_load("vigil.yml", &d);
	CHECK(c != NULL);
	CHECK_INT(d.errors, 0);
	CHECK_INT(d.warnings, 0);
	if (c != NULL) {
		check_defaults(c, ".");
		CHECK_STR(c->file, "vigil.yml");
		CHECK(c->ninputs == 2 && c->inputs[0].line > 0);
	}
	config_free(c);
}

TEST(null_values_mean_default)
{
	char *out;
	struct config *c = load("/x/v.yml",
	    "inputs:\nredis:\n  url:\noutputs: {file: ~}\nworkers: null\ntime:\n", &out,
	    NULL);

	CHECK_STR(out, "");
	CHECK(c != NULL);
	if (c != NULL)
		check_defaults(c, "/x");
	config_free(c);
	free(out);
}

TEST(every_key)
{
	const char *y =
	    "inputs:\n"
	    "  - {name: u, type: udp, listen: \"0.0.0.0:514\"}\n"
	    "  - name: t6\n"
	    "    type: tcp\n"
	    "    listen: \"[::1]:6000\"\n"
	    "  - {name: s, type: tls, listen: \"logs.example.org:6514\", cert: tls/c.pem,\n"
	    "     key: /etc/k.pem, ca: ca.pem}\n"
	    "  - {name: dev.log, type: unix, path: run/log.sock}\n"
	    "redis: {url: \"redis://10.0.0.5:6379/2\", prefix: \"sec:\"}\n"
	    "parsers: [p1, /abs/p2]\n"
	    "rules: r\n"
	    "playbooks: []\n"
	    "outputs:\n"
	    "  file: \"\"\n"
	    "  stdout: yes\n"
	    "  redis_stream: vigil:alerts\n"
	    "http: {listen: \"[::]:9000\", token_file: token}\n"
	    "oncall: {schedules: [{name: a}]}\n"
	    "channels: [{name: slack}]\n"
	    "workers: 8\n"
	    "data_dir: /var/lib/vigil\n"
	    "user: vigil\n"
	    "time: {timezone: \"-05:30\", max_skew: 90m}\n";
	char *out;
	struct config *c = load("/etc/vigil/vigil.yml", y, &out, NULL);

	CHECK_STR(out, "");
	CHECK(c != NULL);
	if (c == NULL) {
		free(out);
		return;
	}
	CHECK_INT(c->ninputs, 4);
	if (c->ninputs == 4) {
		CHECK_STR(c->inputs[0].name, "u");
		CHECK_INT(c->inputs[0].type, INPUT_UDP);
		CHECK_STR(c->inputs[0].listen, "0.0.0.0:514");
		CHECK_INT(c->inputs[0].line, 2);
		CHECK_STR(c->inputs[1].name, "t6");
		CHECK_INT(c->inputs[1].type, INPUT_TCP);
		CHECK_STR(c->inputs[1].listen, "[::1]:6000");
		CHECK_INT(c->inputs[1].line, 3);
		CHECK_STR(c->inputs[2].name, "s");
		CHECK_INT(c->inputs[2].type, INPUT_TLS);
		CHECK_STR(c->inputs[2].listen, "logs.example.org:6514");
		CHECK_STR(c->inputs[2].cert, "/etc/vigil/tls/c.pem");
		CHECK_STR(c->inputs[2].key, "/etc/k.pem");
		CHECK_STR(c->inputs[2].ca, "/etc/vigil/ca.pem");
		CHECK_STR(c->inputs[3].name, "dev.log");
		CHECK_INT(c->inputs[3].type, INPUT_UNIX);
		CHECK_STR(c->inputs[3].path, "/etc/vigil/run/log.sock");
		CHECK(c->inputs[3].listen == NULL);
	}
	CHECK_STR(c->redis_url, "redis://10.0.0.5:6379/2");
	CHECK_STR(c->redis_prefix, "sec:");
	CHECK_INT(c->nparsers, 2);
	CHECK_STR(c->parsers[0], "/etc/vigil/p1");
	CHECK_STR(c->parsers[1], "/abs/p2");
	CHECK_INT(c->nrules, 1);
	CHECK_STR(c->rules[0], "/etc/vigil/r");
	CHECK_INT(c->nplaybooks, 0);
	CHECK_STR(c->out_file, "");
	CHECK_INT(c->out_stdout, 1);
	CHECK_STR(c->out_redis_stream, "vigil:alerts");
	CHECK_STR(c->http_listen, "[::]:9000");
	CHECK_STR(c->http_token_file, "/etc/vigil/token");
	CHECK(c->oncall != NULL && c->oncall->kind == YN_MAP && c->oncall->line == 18);
	CHECK(c->channels != NULL && c->channels->kind == YN_SEQ);
	CHECK_INT(c->workers, 8);
	CHECK_STR(c->data_dir, "/var/lib/vigil");
	CHECK_STR(c->user, "vigil");
	CHECK_INT(c->tz_offset_min, -330);
	CHECK_INT(c->max_skew_ms, 90 * 60 * 1000LL);
	config_free(c);
	free(out);
}

TEST(more_values)
{
	char *out;
	struct config *c = load("v.yml",
	    "redis: {url: \"unix:///run/redis.sock\", prefix: \"\"}\n"
	    "inputs: []\n"
	    "http: {listen: \"\"}\n"
	    "outputs: {stdout: off}\n"
	    "time: {timezone: Z, max_skew: 3600}\n"
	    "workers: \"0\"\n", &out, NULL);

	CHECK_STR(out, "");
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->redis_url, "unix:///run/redis.sock");
		CHECK_STR(c->redis_prefix, "");
		CHECK_INT(c->ninputs, 0);
		CHECK_STR(c->http_listen, "");
		CHECK_INT(c->out_stdout, 0);
		CHECK_INT(c->tz_offset_min, 0);
		CHECK_INT(c->max_skew_ms, 3600000);
		CHECK_STR(c->out_file, "var/alerts.jsonl");
	}
	config_free(c);
	free(out);
	c = load("v.yml", "redis: {url: \"rediss://:pw@h:6380\"}\ntime: {timezone: utc}\n",
	    &out, NULL);
	CHECK(c != NULL);
	CHECK_STR(out, "");
	if (c != NULL)
		CHECK_STR(c->redis_url, "rediss://:pw@h:6380");
	config_free(c);
	free(out);
}

TEST(response_section)
{
	char *out;
	struct config *c = load("/etc/vigil/vigil.yml",
	    "response:\n"
	    "  exec_dirs: [bin, /usr/lib/vigil/exec]\n"
	    "  protected: [192.0.2.1, 198.51.100.0/24, \"2001:db8::1\", \"fe80::/10\"]\n"
	    "  min_level: medium\n"
	    "  group_wait: 0\n"
	    "  group_interval: 90s\n"
	    "  repeat_interval: 0\n"
	    "  auto_resolve: 1h30m\n"
	    "  resolved_ttl: 7d\n"
	    "  default_policy: default\n"
	    "  url: \"https://vigil.example.org/\"\n", &out, NULL);

	CHECK_STR(out, "");
	CHECK(c != NULL);
	if (c != NULL) {
		const struct config_response *r = &c->response;

		CHECK_INT(r->nexec_dirs, 2);
		if (r->nexec_dirs == 2) {
			CHECK_STR(r->exec_dirs[0], "/etc/vigil/bin");
			CHECK_STR(r->exec_dirs[1], "/usr/lib/vigil/exec");
		}
		CHECK_INT(r->nprotected, 4);
		if (r->nprotected == 4) {
			CHECK_STR(r->protected[0], "192.0.2.1");
			CHECK_STR(r->protected[1], "198.51.100.0/24");
			CHECK_STR(r->protected[2], "2001:db8::1");
			CHECK_STR(r->protected[3], "fe80::/10");
		}
		CHECK_INT(r->min_level, LEVEL_MEDIUM);
		CHECK_INT(r->group_wait_ms, 0);
		CHECK_INT(r->group_interval_ms, 90000);
		CHECK_INT(r->repeat_interval_ms, 0);
		CHECK_INT(r->auto_resolve_ms, 5400000);
		CHECK_INT(r->resolved_ttl_ms, 7 * 86400000LL);
		CHECK_STR(r->default_policy, "default");
		CHECK_STR(r->url, "https://vigil.example.org");
		CHECK_INT(r->line, 2);
	}
	config_free(c);
	free(out);
	CHECK_INT(config_parse_level("critical"), LEVEL_CRITICAL);
	CHECK_INT(config_parse_level("informational"), LEVEL_INFORMATIONAL);
	CHECK_INT(config_parse_level("High"), -1);
	CHECK_INT(config_parse_level(NULL), -1);
	CHECK_STR(config_level_name(LEVEL_LOW), "low");
	CHECK_STR(config_level_name(7), "?");
}

TEST(response_errors)
{
	CHECK_ERRS("response: [1]\n",
	    "t.yml:1:11: error: response: expected a map, got a list\n");
	CHECK_ERRS("response: {min_levl: high}\n",
	    "t.yml:1:12: error: unknown key 'min_levl' in response (did you mean "
	    "'min_level'?)\n");
	CHECK_ERRS("response: {min_level: severe}\n",
	    "t.yml:1:23: error: response.min_level: expected informational, low, "
	    "medium, high or critical\n");
	CHECK_ERRS("response: {group_interval: 0}\n",
	    "t.yml:1:28: error: response.group_interval: expected a duration like "
	    "30s, 15m, 1h or 2d, or a number of seconds, greater than 0\n");
	CHECK_ERRS("response: {auto_resolve: soon}\n",
	    "t.yml:1:26: error: response.auto_resolve: expected a duration like "
	    "30s, 15m, 1h or 2d, or a number of seconds\n");
	CHECK_ERRS("response:\n  protected: [10.0.0.1, 010.0.0.2, 10.0.0.0/33, gw1]\n",
	    "t.yml:2:25: error: response.protected: '010.0.0.2' is not an IPv4 or "
	    "IPv6 address or network (like 192.0.2.1 or 198.51.100.0/24)\n"
	    "t.yml:2:36: error: response.protected: '10.0.0.0/33' is not an IPv4 "
	    "or IPv6 address or network (like 192.0.2.1 or 198.51.100.0/24)\n"
	    "t.yml:2:49: error: response.protected: 'gw1' is not an IPv4 or IPv6 "
	    "address or network (like 192.0.2.1 or 198.51.100.0/24)\n");
	CHECK_ERRS("response: {protected: 10.0.0.1}\n",
	    "t.yml:1:23: error: response.protected: expected a list of addresses "
	    "or networks, got a scalar\n");
	CHECK_ERRS("response: {exec_dirs: [\"\"]}\n",
	    "t.yml:1:24: error: response.exec_dirs: expected a path, got an empty "
	    "string\n");
	CHECK_ERRS("response: {url: ftp://x}\n",
	    "t.yml:1:17: error: response.url: expected \"\" or an http:// or "
	    "https:// URL, got 'ftp://x'\n");
}

TEST(path_resolution)
{
	static const struct {
		const char *name, *dir, *parsers, *data_dir;
	} cases[] = {
		{ "vigil.yml", ".", "p", "/srv/d" },
		{ "./vigil.yml", ".", "p", "/srv/d" },
		{ "conf/v.yml", "conf", "conf/p", "/srv/d" },
		{ "conf//v.yml", "conf", "conf/p", "/srv/d" },
		{ "/v.yml", "/", "/p", "/srv/d" },
		{ "/a/b/c/v.yml", "/a/b/c", "/a/b/c/p", "/srv/d" },
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		char *out;
		struct config *c = load(cases[i].name,
		    "parsers: p\ndata_dir: /srv/d\nrules: [../r, ./s]\n", &out, NULL);

		CHECK_STR(out, "");
		CHECK(c != NULL);
		if (c == NULL)
			continue;
		CHECK_STR(c->dir, cases[i].dir);
		CHECK_STR(c->parsers[0], cases[i].parsers);
		CHECK_STR(c->data_dir, cases[i].data_dir);
		CHECK_STR(c->file, cases[i].name);
		if (i == 2) {
			CHECK_STR(c->rules[0], "conf/../r");
			CHECK_STR(c->rules[1], "conf/./s");
			CHECK_STR(c->out_file, "conf/var/alerts.jsonl");
		}
		config_free(c);
		free(out);
	}
}

TEST(errors_unknown_and_duplicate_keys)
{
	CHECK_ERRS("foo: 1\n", "t.yml:1:1: error: unknown key 'foo'\n");
	CHECK_ERRS("ouputs: {}\n",
	    "t.yml:1:1: error: unknown key 'ouputs' (did you mean 'outputs'?)\n");
	CHECK_ERRS("outputs:\n  foo: 1\n", "t.yml:2:3: error: unknown key 'foo' in outputs\n");
	CHECK_ERRS("redis: {urls: x}\n",
	    "t.yml:1:9: error: unknown key 'urls' in redis (did you mean 'url'?)\n");
	CHECK_ERRS("http: {port: 1}\n", "t.yml:1:8: error: unknown key 'port' in http\n");
	CHECK_ERRS("time: {tz: UTC}\n", "t.yml:1:8: error: unknown key 'tz' in time\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: udp, listen: \"h:1\", port: 2}\n",
	    "t.yml:2:41: error: unknown key 'port' in inputs[0]\n");
	CHECK_ERRS("workers: 1\nworkers: 2\n", "t.yml:2:1: error: duplicate key 'workers'\n");
	CHECK_ERRS("outputs: {stdout: true, stdout: false}\n",
	    "t.yml:1:25: error: duplicate key 'stdout' in outputs\n");
	CHECK_ERRS("? [a]\n: 1\n", "t.yml:1:3: error: expected a key name, got a list\n");
}

TEST(errors_types)
{
	CHECK_ERRS("workers: -1\n", "t.yml:1:10: error: workers: expected an integer >= 0\n");
	CHECK_ERRS("workers: many\n", "t.yml:1:10: error: workers: expected an integer >= 0\n");
	CHECK_ERRS("workers: 1.5\n", "t.yml:1:10: error: workers: expected an integer >= 0\n");
	CHECK_ERRS("workers: [1]\n", "t.yml:1:10: error: workers: expected an integer >= 0\n");
	CHECK_ERRS("workers: 5000\n", "t.yml:1:10: error: workers: at most 1024\n");
	CHECK_ERRS("- a\n", "t.yml:1:1: error: expected a map of settings, got a list\n");
	CHECK_ERRS("just text\n", "t.yml:1:1: error: expected a map of settings, got a scalar\n");
	CHECK_ERRS("redis: x\n", "t.yml:1:8: error: redis: expected a map, got a scalar\n");
	CHECK_ERRS("outputs: []\n", "t.yml:1:10: error: outputs: expected a map, got a list\n");
	CHECK_ERRS("http: 1\n", "t.yml:1:7: error: http: expected a map, got a scalar\n");
	CHECK_ERRS("time: 1\n", "t.yml:1:7: error: time: expected a map, got a scalar\n");
	CHECK_ERRS("redis: {prefix: [a]}\n",
	    "t.yml:1:17: error: redis.prefix: expected a string, got a list\n");
	CHECK_ERRS("outputs: {stdout: maybe}\n",
	    "t.yml:1:19: error: outputs.stdout: expected true or false\n");
	CHECK_ERRS("outputs: {redis_stream: {a: b}}\n",
	    "t.yml:1:25: error: outputs.redis_stream: expected a string, got a map\n");
	CHECK_ERRS("parsers: {a: b}\n",
	    "t.yml:1:10: error: parsers: expected a list of paths, got a map\n");
	CHECK_ERRS("rules: [a, [b]]\n", "t.yml:1:12: error: rules: expected a string, got a list\n");
	CHECK_ERRS("playbooks: [\"\"]\n",
	    "t.yml:1:13: error: playbooks: expected a path, got an empty string\n");
	CHECK_ERRS("data_dir: \"\"\n",
	    "t.yml:1:11: error: data_dir: expected a path, got an empty string\n");
	CHECK_ERRS("user: {a: 1}\n", "t.yml:1:7: error: user: expected a string, got a map\n");
	CHECK_ERRS("oncall: yes\n",
	    "t.yml:1:9: error: oncall: expected a map or a list, got a scalar\n");
	CHECK_ERRS("channels: 3\n",
	    "t.yml:1:11: error: channels: expected a map or a list, got a scalar\n");
	CHECK_ERRS("data_dir: \"a\\0b\"\n", "t.yml:1:11: error: data_dir: contains a NUL byte\n");
}

TEST(errors_inputs)
{
	CHECK_ERRS("inputs: {a: 1}\n", "t.yml:1:9: error: inputs: expected a list, got a map\n");
	CHECK_ERRS("inputs: [udp]\n", "t.yml:1:10: error: inputs[0]: expected a map, got a scalar\n");
	CHECK_ERRS("inputs:\n  - {type: udp, listen: \"h:1\"}\n",
	    "t.yml:2:5: error: inputs[0]: missing 'name'\n");
	CHECK_ERRS("inputs:\n  - {name: a, listen: \"h:1\"}\n",
	    "t.yml:2:5: error: inputs[0]: missing 'type'\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: sctp, listen: \"h:1\"}\n",
	    "t.yml:2:21: error: inputs[0].type: unknown input type 'sctp' "
	    "(expected udp, tcp, tls or unix)\n");
	CHECK_ERRS("inputs:\n  - {name: \"a b\", type: udp, listen: \"h:1\"}\n",
	    "t.yml:2:12: error: inputs[0].name: 'a b' is not a valid input name "
	    "(letters, digits, '.', '_' and '-')\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: udp}\n",
	    "t.yml:2:5: error: inputs[0]: udp input needs 'listen'\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: tls, listen: \"h:1\"}\n",
	    "t.yml:2:5: error: inputs[0]: tls input needs 'cert' and 'key'\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: tls, listen: \"h:1\", cert: c}\n",
	    "t.yml:2:5: error: inputs[0]: tls input needs 'cert' and 'key'\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: unix}\n",
	    "t.yml:2:5: error: inputs[0]: unix input needs 'path'\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: udp, listen: \"h:1\", path: /x}\n",
	    "t.yml:2:41: error: inputs[0]: 'path' does not apply to udp inputs\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: unix, path: /x, cert: c}\n",
	    "t.yml:2:37: error: inputs[0]: 'cert' does not apply to unix inputs\n");
	CHECK_ERRS("inputs:\n"
	    "  - {name: a, type: udp, listen: \"h:1\"}\n"
	    "  - {name: b, type: udp, listen: \"h:2\"}\n"
	    "  - {name: a, type: tcp, listen: \"h:1\"}\n",
	    "t.yml:4:12: error: inputs[2]: duplicate input name 'a' (first at line 2)\n");
}

TEST(input_limits)
{
	char *out;
	struct config *c = load("t.yml", "inputs:\n"
	    "  - {name: t, type: tcp, listen: \"h:1\", max_message: 1M, idle_timeout: 30s, max_connections: 20}\n"
	    "  - {name: u, type: udp, listen: \"h:1\", rcvbuf: 64KiB}\n"
	    "  - {name: d, type: tcp, listen: \"h:2\", idle_timeout: 0}\n", &out, NULL);

	CHECK_STR(out, "");
	free(out);
	if (c == NULL)
		return;
	CHECK_INT((long)c->inputs[0].max_message, 1 << 20);
	CHECK_INT(c->inputs[0].idle_timeout_ms, 30000);
	CHECK_INT(c->inputs[0].max_connections, 20);
	CHECK_INT((long)c->inputs[0].rcvbuf, INPUT_DEFAULT_RCVBUF);
	CHECK_INT((long)c->inputs[1].rcvbuf, 65536);
	CHECK_INT((long)c->inputs[1].max_message, INPUT_DEFAULT_MAX_MESSAGE);
	CHECK_INT(c->inputs[2].idle_timeout_ms, 0);
	CHECK_INT(c->inputs[2].max_connections, INPUT_DEFAULT_MAX_CONNECTIONS);
	config_free(c);
	CHECK_ERRS("inputs:\n  - {name: a, type: udp, listen: \"h:1\", max_connections: 5}\n",
	    "t.yml:2:41: error: inputs[0]: 'max_connections' does not apply to udp inputs\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: tcp, listen: \"h:1\", rcvbuf: 1M}\n",
	    "t.yml:2:41: error: inputs[0]: 'rcvbuf' does not apply to tcp inputs\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: tcp, listen: \"h:1\", max_message: 12x}\n",
	    "t.yml:2:54: error: inputs[0].max_message: expected a size from 480 "
	    "bytes to 1 GiB, like 65536, 64k or 1M\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: tcp, listen: \"h:1\", max_connections: 0}\n",
	    "t.yml:2:58: error: inputs[0].max_connections: expected an integer from 1 to 9999999\n");
	CHECK_ERRS("inputs:\n  - {name: a, type: tcp, listen: \"h:1\", idle_timeout: soon}\n",
	    "t.yml:2:55: error: inputs[0].idle_timeout: expected a duration like "
	    "30s, 10m or 1h, or 0 for none\n");
}

TEST(parse_size)
{
	size_t n = 0;

	CHECK_INT(config_parse_size("65536", &n), 0);
	CHECK_INT((long)n, 65536);
	CHECK_INT(config_parse_size("64k", &n), 0);
	CHECK_INT((long)n, 65536);
	CHECK_INT(config_parse_size("8MiB", &n), 0);
	CHECK_INT((long)n, 8 << 20);
	CHECK_INT(config_parse_size("1G", &n), 0);
	CHECK_INT((long)n, 1 << 30);
	CHECK_INT(config_parse_size("2G", &n), -1);
	CHECK_INT(config_parse_size("1Kb", &n), -1);
	CHECK_INT(config_parse_size("k", &n), -1);
	CHECK_INT(config_parse_size("", &n), -1);
	CHECK_INT(config_parse_size("-1", &n), -1);
	CHECK_INT(config_parse_size("99999999999999999999", &n), -1);
}

TEST(errors_addresses)
{
	static const struct {
		const char *listen, *why;
	} cases[] = {
		{ "h:0", "port must be a number from 1 to 65535" },
		{ "h:65536", "port must be a number from 1 to 65535" },
		{ "h:123456", "port must be a number from 1 to 65535" },
		{ "h:-1", "port must be a number from 1 to 65535" },
		{ "h:5514x", "port must be a number from 1 to 65535" },
		{ "h:", "missing port" },
		{ "h", "expected host:port" },
		{ ":5514", "expected host:port" },
		{ "::1:5514", "an IPv6 address needs brackets, as in [::1]:5514" },
		{ "[::1]5514", "expected [address]:port" },
		{ "[::g]:5514", "invalid IPv6 address" },
		{ "[]:5514", "invalid IPv6 address" },
		{ "300.1.1.1:5514", "invalid IPv4 address" },
		{ "1.2.3:5514", "invalid IPv4 address" },
		{ "bad host:5514", "invalid host name" },
		{ "a..b:5514", "invalid host name" },
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		char y[256], want[512];

		snprintf(y, sizeof(y), "inputs:\n  - {name: a, type: tcp, listen: \"%s\"}\n",
		    cases[i].listen);
		snprintf(want, sizeof(want), "t.yml:2:34: error: inputs[0].listen: "
		    "invalid address '%s': %s\n", cases[i].listen, cases[i].why);
		CHECK_ERRS(y, want);
		snprintf(y, sizeof(y), "http:\n  listen: \"%s\"\n", cases[i].listen);
		snprintf(want, sizeof(want), "t.yml:2:11: error: http.listen: "
		    "invalid address '%s': %s\n", cases[i].listen, cases[i].why);
		CHECK_ERRS(y, want);
	}
}

TEST(errors_redis_and_time)
{
	CHECK_ERRS("redis: {url: \"http://h\"}\n",
	    "t.yml:1:14: error: redis.url: expected \"\" (embedded) or a "
	    "redis://host:port/db, rediss://... or unix:///path URL, got 'http://h'\n");
	CHECK_ERRS("redis: {url: \"unix://relative.sock\"}\n",
	    "t.yml:1:14: error: redis.url: expected \"\" (embedded) or a "
	    "redis://host:port/db, rediss://... or unix:///path URL, got "
	    "'unix://relative.sock'\n");
	CHECK_ERRS("redis: {url: \"redis://\"}\n",
	    "t.yml:1:14: error: redis.url: expected \"\" (embedded) or a "
	    "redis://host:port/db, rediss://... or unix:///path URL, got 'redis://'\n");
	CHECK_ERRS("time: {timezone: Europe/Paris}\n",
	    "t.yml:1:18: error: time.timezone: expected UTC or an offset like "
	    "+02:00 or -05:30 (zone names are not supported)\n");
	CHECK_ERRS("time: {timezone: \"+24:00\"}\n",
	    "t.yml:1:18: error: time.timezone: expected UTC or an offset like "
	    "+02:00 or -05:30 (zone names are not supported)\n");
	CHECK_ERRS("time: {max_skew: soon}\n",
	    "t.yml:1:18: error: time.max_skew: expected a duration like 30s, 15m, "
	    "1h or 2d, or a number of seconds, greater than 0\n");
	CHECK_ERRS("time: {max_skew: 0}\n",
	    "t.yml:1:18: error: time.max_skew: expected a duration like 30s, 15m, "
	    "1h or 2d, or a number of seconds, greater than 0\n");
	CHECK_ERRS("time: {max_skew: [1h]}\n",
	    "t.yml:1:18: error: time.max_skew: expected a duration like 30s, 15m, "
	    "1h or 2d, or a number of seconds, greater than 0\n");
}

TEST(errors_yaml_and_documents)
{
	CHECK_ERRS("a: [1, 2\nb: c\n", "t.yml:2:2: error: YAML: did not find expected "
	    "',' or ']' while parsing a flow sequence\n");
	CHECK_ERRS("a: b: c\n",
	    "t.yml:1:5: error: YAML: mapping values are not allowed in this context\n");
	CHECK_ERRS("workers: 1\n---\nworkers: 2\n",
	    "t.yml:2:1: error: a config holds one YAML document; found another here\n");
}

TEST(every_error_is_reported_once)
{
	char *out;
	int n = 0;
	struct config *c = load("t.yml",
	    "workers: x\n"
	    "outputs:\n"
	    "  bogus: 1\n"
	    "  stdout: 2\n"
	    "inputs:\n"
	    "  - {name: a, type: udp, listen: \"h:0\"}\n"
	    "  - {name: b, type: tls, listen: \"h:1\"}\n"
	    "colour: blue\n", &out, &n);

	CHECK(c == NULL);
	CHECK_INT(n, 6);
	CHECK_STR(out,
	    "t.yml:1:10: error: workers: expected an integer >= 0\n"
	    "t.yml:3:3: error: unknown key 'bogus' in outputs\n"
	    "t.yml:4:11: error: outputs.stdout: expected true or false\n"
	    "t.yml:6:34: error: inputs[0].listen: invalid address 'h:0': "
	    "port must be a number from 1 to 65535\n"
	    "t.yml:7:5: error: inputs[1]: tls input needs 'cert' and 'key'\n"
	    "t.yml:8:1: error: unknown key 'colour'\n");
	free(out);
}

TEST(missing_file)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vg_diag d;

	vg_diag_init(&d, f);
	d.no_source = 1;
	CHECK(config_load("/nonexistent/vigil.yml", &d) == NULL);
	fclose(f);
	CHECK_STR(text, "/nonexistent/vigil.yml: error: cannot read config: "
	    "No such file or directory\n");
	CHECK_INT(d.errors, 1);
	free(text);
}

TEST(diag_shows_source_line)
{
	char dir[] = "/tmp/vigil-config-XXXXXX", path[64], *text = NULL;
	size_t len = 0;
	FILE *f;
	struct vg_diag d;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/v.yml", dir);
	f = fopen(path, "w");
	fputs("workers: 2\noutputs:\n  stdout: maybe\n", f);
	fclose(f);
	f = open_memstream(&text, &len);
	vg_diag_init(&d, f);
	CHECK(config_load(path, &d) == NULL);
	fclose(f);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s:3:11: error: outputs.stdout: expected "
		    "true or false\n    stdout: maybe\n            ^\n", path);
		CHECK_STR(text, want);
	}
	free(text);
	unlink(path);
	rmdir(dir);
}

TEST(parse_listen)
{
	char host[64];
	int port = 0;
	const char *why = NULL;

	CHECK_INT(config_parse_listen("127.0.0.1:5514", host, sizeof(host), &port, &why), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 5514);
	CHECK(why == NULL);
	CHECK_INT(config_parse_listen("[::1]:65535", host, sizeof(host), &port, NULL), 0);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 65535);
	CHECK_INT(config_parse_listen("localhost:1", host, sizeof(host), &port, NULL), 0);
	CHECK_STR(host, "localhost");
	CHECK_INT(port, 1);
	CHECK_INT(config_parse_listen("localhost:1", host, 5, &port, &why), -1);
	CHECK_STR(why, "host name too long");
	CHECK_INT(config_parse_listen("h:99999", NULL, 0, NULL, &why), -1);
	CHECK_STR(why, "port must be a number from 1 to 65535");
}

TEST(parse_duration_and_tz)
{
	int64_t ms = -1;
	int off = 1;

	CHECK_INT(config_parse_duration("30s", &ms), 0);
	CHECK_INT(ms, 30000);
	CHECK_INT(config_parse_duration("15m", &ms), 0);
	CHECK_INT(ms, 900000);
	CHECK_INT(config_parse_duration("1h", &ms), 0);
	CHECK_INT(ms, 3600000);
	CHECK_INT(config_parse_duration("2d", &ms), 0);
	CHECK_INT(ms, 172800000);
	CHECK_INT(config_parse_duration("1h30m", &ms), 0);
	CHECK_INT(ms, 5400000);
	CHECK_INT(config_parse_duration("250ms", &ms), 0);
	CHECK_INT(ms, 250);
	CHECK_INT(config_parse_duration("86400", &ms), 0);
	CHECK_INT(ms, 86400000);
	CHECK_INT(config_parse_duration("", &ms), -1);
	CHECK_INT(config_parse_duration("h", &ms), -1);
	CHECK_INT(config_parse_duration("1x", &ms), -1);
	CHECK_INT(config_parse_duration("1.5h", &ms), -1);
	CHECK_INT(config_parse_duration("-1s", &ms), -1);
	CHECK_INT(config_parse_duration("99999999999999999999d", &ms), -1);
	CHECK_INT(config_parse_duration("9223372036854775807", &ms), -1);
	CHECK_INT(config_parse_duration("106751991168d", &ms), -1);
	CHECK_INT(config_parse_tz("UTC", &off), 0);
	CHECK_INT(off, 0);
	CHECK_INT(config_parse_tz("+02:00", &off), 0);
	CHECK_INT(off, 120);
	CHECK_INT(config_parse_tz("-0930", &off), 0);
	CHECK_INT(off, -570);
	CHECK_INT(config_parse_tz("Z", &off), 0);
	CHECK_INT(off, 0);
	CHECK_INT(config_parse_tz("+2", &off), -1);
	CHECK_INT(config_parse_tz("+02:60", &off), -1);
	CHECK_INT(config_parse_tz("CET", &off), -1);
	CHECK_STR(config_input_type_name(INPUT_TLS), "tls");
	CHECK_STR(config_input_type_name(INPUT_UNIX), "unix");
}

int main(void)
{
	RUN(defaults);
	RUN(empty_file_is_defaults);
	RUN(input_limits);
	RUN(parse_size);
	RUN(repo_vigil_yml_is_the_defaults);
	RUN(null_values_mean_default);
	RUN(response_section);
	RUN(response_errors);
	RUN(every_key);
	RUN(more_values);
	RUN(path_resolution);
	RUN(errors_unknown_and_duplicate_keys);
	RUN(errors_types);
	RUN(errors_inputs);
	RUN(errors_addresses);
	RUN(errors_redis_and_time);
	RUN(errors_yaml_and_documents);
	RUN(every_error_is_reported_once);
	RUN(missing_file);
	RUN(diag_shows_source_line);
	RUN(parse_listen);
	RUN(parse_duration_and_tz);
	return unit_done();
}
