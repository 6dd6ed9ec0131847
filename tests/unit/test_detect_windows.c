/*
 * test_detect_windows.c: real SigmaHQ rules (tests/fixtures/windows/
 * rules.txt, loaded from ../shared/sigma with rules/mappings) against
 * hand-written Windows events in the three JSON shapes vigil maps (EVTX
 * converted to JSON, Winlogbeat, flat): each event must fire exactly the
 * rules expected.txt names, so a rule is shown to fire on its event and on
 * no neighbour's (same image in another Sysmon event, another channel, a
 * Linux event). Runs from the repo root.
 */
#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/event.h"
#include "../../engine/jsonin.h"

#define DIR "tests/fixtures/windows/"
#define MAXL 256

static char *paths[64];
static size_t npaths;
static struct ruleset *rs;
static struct detect_stats st;

static char *chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

TEST(fixture_rules_load)
{
	static const char *const maps[] = { "rules/mappings" };
	struct detect_opts o;
	struct vg_diag d;
	char line[1024];
	FILE *f = fopen(DIR "rules.txt", "r");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL && npaths < 64) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		paths[npaths++] = vg_strdup(chomp(line));
	}
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.rule_paths = (const char *const *)paths;
	o.nrule_paths = npaths;
	o.mapping_paths = maps;
	o.nmapping_paths = 1;
	vg_diag_init(&d, stderr);
	d.no_source = 1;
	rs = detect_load(&o, &d, &st);
	CHECK_INT((int)npaths, 26);
	CHECK_INT(st.loaded, 26);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.warnings, 0);
	CHECK_INT(d.errors, 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "id,id" or "-" sorted into one comparable text */
static void sorted_ids(const char **ids, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	qsort(ids, n, sizeof(*ids), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", ids[i]);
	if (n == 0)
		snprintf(out, cap, "-");
}

TEST(each_event_fires_exactly_its_rules)
{
	FILE *ef = fopen(DIR "events.jsonl", "r"), *xf = fopen(DIR "expected.txt", "r");
	struct detect_ctx *ctx = rs ? detect_ctx_new(rs) : NULL;
	struct vg_event *ev = vg_event_new();
	static char line[1 << 16];
	char want[4096], got[4096], xline[4096];
	uint8_t fired[64] = { 0 };
	int lineno = 0, events = 0, bad = 0, none = 0;

	CHECK(ef != NULL && xf != NULL && ctx != NULL);
	if (ef == NULL || xf == NULL || ctx == NULL)
		goto done;
	while (fgets(line, sizeof(line), ef) != NULL) {
		const struct rule *const *m;
		const char *ids[MAXL], *wants[MAXL];
		size_t n, nw = 0;
		char *hash, *tok, *save;
		struct vg_err err = { 0 };

		lineno++;
		do {
			if (fgets(xline, sizeof(xline), xf) == NULL) {
				CHECK(!"expected.txt has fewer lines than events.jsonl");
				goto done;
			}
		} while (xline[0] == '#');
		if ((hash = strstr(xline, "  #")) != NULL)
			*hash = '\0';
		chomp(xline);
		vg_event_reset(ev);
		if (jsonin_parse(ev, line, strlen(chomp(line)), NULL, 0, &err) !=
		    JSONIN_OK) {
			fprintf(stderr, "  events.jsonl:%d: %s\n", lineno, err.msg);
			bad++;
			continue;
		}
		events++;
		n = detect_event(rs, ctx, ev, &m);
		for (size_t i = 0; i < n && i < MAXL; i++) {
			ids[i] = m[i]->id;
			for (size_t r = 0; r < detect_rule_count(rs); r++)
				if (detect_rule(rs, r) == m[i])
					fired[r] = 1;
		}
		sorted_ids(ids, n, got, sizeof(got));
		for (tok = strtok_r(xline, ",", &save); tok != NULL && nw < MAXL;
		    tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, "-") != 0)
				wants[nw++] = tok;
		sorted_ids(wants, nw, want, sizeof(want));
		none += nw == 0;
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "  events.jsonl:%d: fired %s, expected %s\n",
			    lineno, got, want);
			bad++;
		}
	}
	CHECK_INT(events, 39);
	CHECK_INT(none, 12);
	CHECK_INT(bad, 0);
	/* and every rule of the set fired on its own event */
	for (size_t r = 0; r < detect_rule_count(rs); r++) {
		if (!fired[r])
			fprintf(stderr, "  never fired: %s\n", detect_rule(rs, r)->id);
		CHECK(fired[r]);
	}
	CHECK_INT(detect_ctx_regex_limit_hits(ctx), 0);
done:
	if (ef != NULL)
		fclose(ef);
	if (xf != NULL)
		fclose(xf);
	vg_event_free(ev);
	detect_ctx_free(ctx);
}

int main(void)
{
	RUN(fixture_rules_load);
	RUN(each_event_fires_exactly_its_rules);
	detect_free(rs);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	return unit_done();
}
