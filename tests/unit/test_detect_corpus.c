/*
 * test_detect_corpus.c: loads the whole SigmaHQ snapshot beside the repo
 * (../shared/sigma: rules, rules-emerging-threats, rules-threat-hunting)
 * with the shipped mappings and checks the exact accepted and rejected
 * counts, the reasons for rejection, and that real rules fire on events
 * built the way vigil's inputs build them. Prints load time and a rough
 * events-per-second figure as comment lines. Runs from the repo root.
 */
#include <arpa/inet.h>
#include <time.h>

#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/detect_int.h"
#include "../../engine/event.h"

static const char *const corpus[] = {
	"../shared/sigma/rules",
	"../shared/sigma/rules-emerging-threats",
	"../shared/sigma/rules-threat-hunting",
};
static const char *const maps[] = { "rules/mappings", "rules/placeholders.yml" };
#define ZEEK_RDP "1fc0809e-06bf-4de3-ad52-25e5263b7623"

static struct ruleset *rs;
static struct detect_stats st;
static char *diag;
static size_t diaglen;
static double load_s;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add(struct vg_event *ev, const char *name, const char *val)
{
	vg_event_add(ev, field_intern(name, strlen(name)), val, strlen(val));
}

static int fired(struct detect_ctx *ctx, const struct vg_event *ev, const char *id)
{
	const struct rule *const *m;
	size_t n = detect_event(rs, ctx, ev, &m);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i]->id, id) == 0)
			return 1;
	}
	return 0;
}

TEST(corpus_loads_with_exact_counts)
{
	struct detect_opts o = { corpus, VG_ARRAY_LEN(corpus), maps,
	    VG_ARRAY_LEN(maps) };
	FILE *mf = open_memstream(&diag, &diaglen);
	struct vg_diag d;
	double t0;

	vg_diag_init(&d, mf);
	d.no_source = 1;
	t0 = now_s();
	rs = detect_load(&o, &d, &st);
	load_s = now_s() - t0;
	fclose(mf);
	printf("# corpus: %d files, %d rules loaded, %d rejected, %d warnings, "
	    "loaded in %.3f s\n", st.files, st.loaded, st.rejected, st.warnings,
	    load_s);
	/* 3754 rule files, 3 mapping files and the placeholders */
	CHECK_INT(st.files, 3758);
	CHECK_INT(st.loaded, 3754);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.correlations, 0);
	CHECK_INT(detect_rule_count(rs), 3754);
	CHECK_INT(d.errors, 0);
	/* every logsource of the corpus has a mapping (rules/mappings) */
	CHECK_INT(st.warnings, 0);
}

TEST(corpus_rules_fire_on_real_events)
{
	struct detect_ctx *ctx = detect_ctx_new(rs);
	struct vg_event *ev = vg_event_new();

	/* Sysmon process creation as flat JSON: whoami /all */
	add(ev, "Channel", "Microsoft-Windows-Sysmon/Operational");
	vg_event_add_num(ev, field_intern("EventID", 7), "1", 1, 1);
	add(ev, "Image", "C:\\Windows\\System32\\whoami.exe");
	add(ev, "CommandLine", "whoami /all");
	CHECK(fired(ctx, ev, "c248c896-e412-4279-8c15-1c558067b6fa"));
	/* the same process through Security 4688 */
	vg_event_reset(ev);
	add(ev, "winlog.channel", "Security");
	add(ev, "winlog.event_id", "4688");
	add(ev, "Image", "C:\\Windows\\System32\\whoami.exe");
	add(ev, "CommandLine", "whoami.exe \xe2\x80\x93" "all");
	CHECK(fired(ctx, ev, "c248c896-e412-4279-8c15-1c558067b6fa"));
	/* a syslog event is not a Windows process creation */
	vg_event_reset(ev);
	add(ev, "log.syslog.priority", "38");
	add(ev, "process.name", "sshd");
	add(ev, "Image", "C:\\Windows\\System32\\whoami.exe");
	add(ev, "CommandLine", "whoami /all");
	CHECK(!fired(ctx, ev, "c248c896-e412-4279-8c15-1c558067b6fa"));
	/* sshd keywords (lnx_sshd_susp_ssh) */
	add(ev, "message", "Corrupted MAC on input. [preauth]");
	CHECK(fired(ctx, ev, "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc"));
	vg_event_reset(ev);
	add(ev, "log.syslog.priority", "38");
	add(ev, "process.name", "sudo");
	add(ev, "message", "Corrupted MAC on input. [preauth]");
	CHECK(!fired(ctx, ev, "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc"));
	/* another product's rule (Zeek, `condition: not selection`) stays
	 * off Linux and Windows events, and fires on its own */
	vg_event_reset(ev);
	add(ev, "log.syslog.priority", "38");
	add(ev, "process.name", "sshd");
	add(ev, "message", "Accepted publickey for alice");
	CHECK(!fired(ctx, ev, ZEEK_RDP));
	vg_event_reset(ev);
	add(ev, "_path", "rdp");
	add(ev, "uid", "CHhAvVGS1DHFjwGM9");
	add(ev, "id.orig_h", "198.51.100.20");
	add(ev, "id.resp_h", "10.0.0.5");
	CHECK(fired(ctx, ev, ZEEK_RDP));
	vg_event_reset(ev);
	add(ev, "_path", "rdp");
	add(ev, "id.orig_h", "10.1.1.1");
	CHECK(!fired(ctx, ev, ZEEK_RDP));
	vg_event_reset(ev);
	add(ev, "_path", "dns");
	add(ev, "id.orig_h", "198.51.100.20");
	CHECK(!fired(ctx, ev, ZEEK_RDP));
	vg_event_free(ev);
	detect_ctx_free(ctx);
}

TEST(corpus_evaluation_speed)
{
	struct detect_ctx *ctx = detect_ctx_new(rs);
	struct vg_event *ev = vg_event_new();
	const struct rule *const *m;
	int n = getenv("VIGIL_BENCH_N") ? atoi(getenv("VIGIL_BENCH_N")) : 2000, hits = 0;
	double t0, dt;

	t0 = now_s();
	for (int i = 0; i < n; i++) {
		vg_event_reset(ev);
		if (i & 1) {
			add(ev, "Channel", "Microsoft-Windows-Sysmon/Operational");
			vg_event_add_num(ev, field_intern("EventID", 7), "1", 1, 1);
			add(ev, "Image", "C:\\Program Files\\App\\app.exe");
			add(ev, "CommandLine", "\"C:\\Program Files\\App\\app.exe\" --update --silent");
			add(ev, "ParentImage", "C:\\Windows\\explorer.exe");
			add(ev, "User", "CORP\\alice");
		} else {
			add(ev, "log.syslog.priority", "38");
			add(ev, "process.name", "sshd");
			add(ev, "host.hostname", "web1");
			add(ev, "message", "Failed password for root from 203.0.113.9 port 4711 ssh2");
			add(ev, "user.name", "root");
			add(ev, "source.ip", "203.0.113.9");
		}
		hits += (int)detect_event(rs, ctx, ev, &m);
	}
	dt = now_s() - t0;
	printf("# corpus: %d events against %zu rules in %.3f s (%.0f events/s), "
	    "%d matches\n", n, detect_rule_count(rs), dt, n / dt, hits);
	CHECK_INT(detect_ctx_regex_limit_hits(ctx), 0);
	/* an unremarkable process start and a failed root login: no
	 * SigmaHQ rule fires on either */
	CHECK_INT(hits, 0);
	vg_event_free(ev);
	detect_ctx_free(ctx);
}

/* ---- an event made to satisfy a rule, from its compiled form ---- */

static void gen_pat(struct vg_event *ev, uint32_t field, const struct pat *p)
{
	char buf[4096];
	size_t n = 0;

	switch (p->kind) {
	case PK_EQ:
		vg_event_add(ev, field, p->s, p->len);
		return;
	case PK_PREFIX:
	case PK_SUFFIX:
	case PK_CONTAINS:
		if (p->len + 4 > sizeof(buf))
			return;
		if (p->kind != PK_PREFIX)
			buf[n++] = 'z', buf[n++] = ' ';
		memcpy(buf + n, p->s, p->len);
		n += p->len;
		if (p->kind != PK_SUFFIX)
			buf[n++] = ' ', buf[n++] = 'z';
		vg_event_add(ev, field, buf, n);
		return;
	case PK_GLOB:
		for (uint32_t i = 0; i < p->ntok && n + 2 < sizeof(buf); i++)
			buf[n++] = p->tok[i] == TOK_QMARK ? 'q' :
			    p->tok[i] == TOK_STAR ? '_' : (char)p->tok[i];
		vg_event_add(ev, field, buf, n);
		return;
	case PK_CIDR:
		if (p->v4)
			inet_ntop(AF_INET, p->addr + 12, buf, sizeof(buf));
		else
			inet_ntop(AF_INET6, p->addr, buf, sizeof(buf));
		vg_event_add(ev, field, buf, strlen(buf));
		return;
	case PK_LT:
	case PK_LTE:
	case PK_GT:
	case PK_GTE:
		n = (size_t)snprintf(buf, sizeof(buf), "%g", p->kind == PK_LT ?
		    p->num - 1 : p->kind == PK_GT ? p->num + 1 : p->num);
		vg_event_add(ev, field, buf, n);
		return;
	case PK_REF:
		vg_event_add(ev, field, "same", 4);
		if (p->nrefs > 0)
			vg_event_add(ev, p->refs[0], "same", 4);
		return;
	default:
		vg_event_add(ev, field, "x", 1);
		return;
	}
}

static void gen_fc(struct vg_event *ev, const struct fcond *fc)
{
	uint32_t field = fc->keyword ? F_MESSAGE : fc->nfields ? fc->fields[0] :
	    FIELD_NONE;

	if (field == FIELD_NONE || fc->neg || fc->tpart != TP_NONE)
		return;
	if (fc->kind == FC_EXISTS) {
		if (fc->want)
			vg_event_add(ev, field, "x", 1);
		return;
	}
	if (fc->kind != FC_VALUES)
		return;
	for (uint32_t k = 0; k < (fc->all ? fc->npats : 1); k++)
		gen_pat(ev, field, &fc->pats[k]);
}

static void gen_sn(struct vg_event *ev, const struct snode *sn)
{
	if (sn->kind == SN_FC)
		gen_fc(ev, sn->fc);
	for (uint32_t i = 0; i < sn->n; i++) {
		gen_sn(ev, sn->kids[i]);
		if (sn->kind == SN_OR)
			break;
	}
}

static void gen_cn(struct vg_event *ev, const struct rule_impl *ri,
    const struct cnode *cn)
{
	uint32_t n = cn->op == CN_OR ? 1 : cn->op == CN_OF && cn->k ? cn->k : cn->n;

	if (cn->op == CN_SEL) {
		gen_sn(ev, ri->sels[cn->sel].root);
		return;
	}
	if (cn->op == CN_NOT)
		return;
	for (uint32_t i = 0; i < n && i < cn->n; i++)
		gen_cn(ev, ri, cn->kids[i]);
}

/* Every rule of every logsource group that accepts ev, no prefilter. */
static size_t brute(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule **out)
{
	size_t n = 0;

	for (size_t r = 0; r < rs->nrules; r++) {
		const struct rule_impl *ri = rs->rules[r]->impl;
		const struct lsgroup *g = &rs->groups[ri->group];
		int pass = 1;

		for (uint32_t e = 0; e < g->nentries && pass; e++) {
			const struct snode *c = rs->mls[g->entries[e]].cond;

			pass = c == NULL || detect_sn_eval(ctx, ev, c);
		}
		if (pass && detect_cn_eval(ctx, ev, ri, ri->cond))
			out[n++] = rs->rules[r];
	}
	return n;
}

TEST(prefilter_agrees_with_full_evaluation)
{
	struct detect_ctx *ctx = detect_ctx_new(rs);
	/* a context that never scans: no pattern is ruled out by a literal
	 * the scan did not see */
	struct detect_ctx *bctx = detect_ctx_new(rs);
	struct vg_event *ev = vg_event_new();
	const struct rule **all = vg_malloc(rs->nrules * sizeof(*all));
	const struct rule *const *m;
	int self = 0, differ = 0;
	size_t total = 0;

	/* twice: the second time the scan's value cache answers for the
	 * values it saw the first time */
	for (size_t pr = 0; pr < 2 * rs->nrules; pr++) {
		size_t r = pr % rs->nrules;
		const struct rule_impl *ri = rs->rules[r]->impl;
		const struct lsgroup *g = &rs->groups[ri->group];
		size_t n, nb;

		vg_event_reset(ev);
		for (uint32_t e = 0; e < g->nentries; e++) {
			if (rs->mls[g->entries[e]].cond != NULL)
				gen_sn(ev, rs->mls[g->entries[e]].cond);
		}
		gen_cn(ev, ri, ri->cond);
		n = detect_event(rs, ctx, ev, &m);
		nb = brute(bctx, ev, all);
		if (n != nb || memcmp(m, all, n * sizeof(*m)) != 0) {
			if (differ++ < 5)
				fprintf(stderr, "  prefilter differs on the event made "
				    "for %s (pass %zu): %zu vs %zu matches\n",
				    rs->rules[r]->id, pr / rs->nrules + 1, n, nb);
		}
		if (pr >= rs->nrules)
			continue;
		total += n;
		for (size_t i = 0; i < n; i++)
			self += m[i] == rs->rules[r];
	}
	printf("# corpus: %d of %zu rules match the event made for them; %zu "
	    "matches in all; %u rules behind the prefilter\n", self,
	    rs->nrules, total, rs->pf.nindexed);
	CHECK_INT(differ, 0);
	/* win_system_eventlog_cleared excludes the Channel its made event
	 * gets from the mapping condition */
	CHECK_INT(self, 3589);
	free(all);
	vg_event_free(ev);
	detect_ctx_free(ctx);
	detect_ctx_free(bctx);
}

int main(void)
{
	RUN(corpus_loads_with_exact_counts);
	RUN(corpus_rules_fire_on_real_events);
	RUN(corpus_evaluation_speed);
	RUN(prefilter_agrees_with_full_evaluation);
	detect_free(rs);
	free(diag);
	return unit_done();
}
