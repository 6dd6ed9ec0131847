/*
 * test_notify_send.c: a driver for tests/integration/test_notify.sh. It
 * reads channels and on-call users from a vigil.yml, queues the
 * notifications its arguments describe, runs a libevent loop until the
 * outbox is empty (or the deadline passes) and prints each attempt's
 * result as `<channel> <ok|retry|fail> <detail>`.
 *
 * Run without arguments (as tests/run.sh runs every test program) it does
 * nothing: the integration test gives it its peers.
 *
 *   test_notify_send --config vigil.yml [--exec-dir DIR] [--deadline SEC]
 *       [--incident ID] [--summary TEXT] [--event trigger|acknowledge|resolve]
 *       [--severity LEVEL] [--url URL] [--source HOST] [--detail NAME=VALUE]
 *       [--alert JSON] [--to USER] [--page POLICY] [--clear-to]
 *       --send CHANNEL ...
 * Options apply to the --send after them and stay in force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "../../engine/config.h"
#include "../../engine/execstep.h"
#include "../../engine/notify.h"
#include "../../engine/oncall.h"

struct tally {
	int ok, retry, fail;
};

static void on_result(void *arg, const struct notify_item *it,
    enum notify_class c, const char *detail)
{
	struct tally *t = arg;

	printf("%s %s %s\n", it->channel, c == NOTIFY_OK ? "ok" :
	    c == NOTIFY_RETRY ? "retry" : "fail", detail);
	fflush(stdout);
	if (c == NOTIFY_OK)
		t->ok++;
	else if (c == NOTIFY_RETRY)
		t->retry++;
	else
		t->fail++;
}

static int usage(const char *why)
{
	fprintf(stderr, "test_notify_send: %s\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *exec_dir = NULL;
	struct config *cfg = NULL;
	struct oncall *oc = NULL;
	struct notify_channels *chans = NULL;
	struct execstep_policy *xp = NULL;
	struct event_base *base = NULL;
	struct notify *n = NULL;
	struct notify_conf nc;
	struct notify_msg m;
	struct tally t = { 0, 0, 0 };
	struct vg_diag d;
	struct vg_err err = { 0 };
	const struct oncall_user *to[32];
	const char *details[64];
	size_t nto = 0, ndet = 0;
	int64_t deadline_s = 60, end;
	int rc = 1, i;

	if (argc == 1)
		return 0;
	/* first pass: what the sender needs */
	for (i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--clear-to") == 0)
			continue;
		if (strcmp(argv[i], "--config") == 0)
			config = argv[++i];
		else if (strcmp(argv[i], "--exec-dir") == 0)
			exec_dir = argv[++i];
		else if (strcmp(argv[i], "--deadline") == 0)
			deadline_s = atoi(argv[++i]);
		else
			i++;
	}
	if (config == NULL)
		return usage("--config is required");
	vg_diag_init(&d, stderr);
	if ((cfg = config_load(config, &d)) == NULL)
		return usage("bad configuration");
	if (exec_dir != NULL &&
	    (xp = execstep_policy_new(&exec_dir, 1, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	{
		struct notify_load_opts lo = { xp };
		struct oncall_opts oo;

		chans = notify_channels_load(cfg->channels, &lo, &d);
		memset(&oo, 0, sizeof(oo));
		oo.channel_exists = notify_channel_exists;
		oo.ctx = chans;
		oc = chans ? oncall_load(cfg->oncall, &oo, &d) : NULL;
	}
	if (chans == NULL || oc == NULL)
		goto out;
	base = event_base_new();
	memset(&nc, 0, sizeof(nc));
	nc.base = base;
	nc.channels = chans;
	nc.exec = xp;
	nc.on_result = on_result;
	nc.arg = &t;
	if ((n = notify_new(&nc, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.incident_id = "inc-test";
	m.summary = "test notification";
	m.severity = "high";
	m.source = "vigil-test";
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--clear-to") == 0) {
			nto = 0;
			continue;
		}
		if (v == NULL) {
			rc = usage("an option lacks its value");
			goto out;
		}
		i++;
		if (strcmp(o, "--config") == 0 || strcmp(o, "--exec-dir") == 0 ||
		    strcmp(o, "--deadline") == 0) {
			continue;
		} else if (strcmp(o, "--incident") == 0) {
			m.incident_id = v;
		} else if (strcmp(o, "--summary") == 0) {
			m.summary = v;
		} else if (strcmp(o, "--severity") == 0) {
			m.severity = v;
			m.urgency_high = strcmp(v, "high") == 0 ||
			    strcmp(v, "critical") == 0;
		} else if (strcmp(o, "--url") == 0) {
			m.url = v;
		} else if (strcmp(o, "--source") == 0) {
			m.source = v;
		} else if (strcmp(o, "--alert") == 0) {
			m.alert_json = v;
		} else if (strcmp(o, "--event") == 0) {
			m.event = strcmp(v, "resolve") == 0 ? NOTIFY_RESOLVE :
			    strcmp(v, "acknowledge") == 0 ? NOTIFY_ACKNOWLEDGE :
			    NOTIFY_TRIGGER;
		} else if (strcmp(o, "--detail") == 0) {
			const char *eq = strchr(v, '=');

			if (eq == NULL || ndet + 2 > VG_ARRAY_LEN(details)) {
				rc = usage("--detail NAME=VALUE");
				goto out;
			}
			details[ndet++] = vg_strndup(v, (size_t)(eq - v));
			details[ndet++] = eq + 1;
			m.details = details;
			m.ndetails = ndet / 2;
		} else if (strcmp(o, "--to") == 0) {
			const struct oncall_user *u = oncall_user(oc, v);

			if (u == NULL || nto == VG_ARRAY_LEN(to)) {
				rc = usage("--to: no such user");
				goto out;
			}
			to[nto++] = u;
		} else if (strcmp(o, "--page") == 0) {
			const struct oncall_policy *p = oncall_policy(oc, v);

			if (p == NULL) {
				rc = usage("--page: no such policy");
				goto out;
			}
			nto += oncall_step_targets(oc, &p->steps[0], vg_now_ms(),
			    to + nto, VG_ARRAY_LEN(to) - nto);
		} else if (strcmp(o, "--send") == 0) {
			m.to = to;
			m.nto = nto;
			if (notify_send(n, v, &m, NULL, &err) < 0) {
				fprintf(stderr, "%s\n", err.msg);
				goto out;
			}
		} else {
			rc = usage("unknown option");
			goto out;
		}
	}
	end = vg_mono_ms() + deadline_s * 1000;
	while (notify_outstanding(n) > 0 && vg_mono_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	if (notify_outstanding(n) > 0) {
		printf("deadline passed with %zu outstanding\n",
		    notify_outstanding(n));
		goto out;
	}
	printf("delivered %d retried %d dead %d\n", t.ok, t.retry, t.fail);
	rc = 0;
out:
	for (size_t k = 0; k < ndet; k += 2)
		free((char *)details[k]);
	notify_free(n);
	if (base != NULL)
		event_base_free(base);
	oncall_free(oc);
	notify_channels_free(chans);
	execstep_policy_free(xp);
	config_free(cfg);
	return rc;
}
