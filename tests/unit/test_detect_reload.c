/*
 * test_detect_reload.c: hot reload of rulesets. References keep an old set
 * alive while a worker's context uses it; detect_live swaps sets while
 * worker threads evaluate events, and every event is evaluated against one
 * whole set, never a mix. Also regexes that backtrack without bound: cut
 * short, counted and attributed to their rule. No timing assertions: the
 * threads stop when they have seen the last set.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "unit.h"
#include "../../engine/detect.h"
#include "../../engine/event.h"

static struct ruleset *load_text(const char *yaml)
{
	struct detect_stats st;
	struct vg_diag d;
	struct ruleset *rs;

	/* "no mapping" warnings are expected here */
	vg_diag_init(&d, NULL);
	d.no_source = 1;
	rs = detect_load_buffer("t.yml", yaml, strlen(yaml), NULL, &d, &st);
	if (st.rejected != 0 || d.errors != 0)
		UNIT_FAIL("rules did not load");
	return rs;
}

/* A set whose one rule, id `id`, fires on x: 1 (and on x: `extra`). */
static struct ruleset *set_named(const char *id)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml), "title: T %s\nid: %s\nlogsource: {product: t}\n"
	    "detection:\n    sel:\n        x: [1, '%s']\n    condition: sel\n", id, id, id);
	return load_text(yaml);
}

static void set_x(struct vg_event *ev, const char *v)
{
	vg_event_reset(ev);
	vg_event_add(ev, field_intern("x", 1), v, strlen(v));
}

TEST(a_context_keeps_its_set_alive)
{
	struct ruleset *a = set_named("a");
	struct detect_live *live = detect_live_new(a);
	struct detect_ctx *ctx = NULL;
	struct vg_event *ev = vg_event_new();
	const struct rule *const *m;
	uint64_t gen = 0;

	CHECK_INT(detect_ctx_refresh(&ctx, live, &gen), 1);
	CHECK_INT((int)gen, 1);
	CHECK(detect_ctx_ruleset(ctx) == a);
	CHECK_INT(detect_ctx_refresh(&ctx, live, &gen), 0);
	/* swap: the live holder lets go of a, the worker's ctx still has it */
	CHECK_INT((int)detect_live_swap(live, set_named("b")), 2);
	set_x(ev, "1");
	CHECK_INT(detect_event(detect_ctx_ruleset(ctx), ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "a");
	CHECK_STR(detect_rule(detect_ctx_ruleset(ctx), 0)->title, "T a");
	/* the worker moves on; a goes with its last reference */
	CHECK_INT(detect_ctx_refresh(&ctx, live, &gen), 1);
	CHECK_INT((int)gen, 2);
	CHECK_INT(detect_event(detect_ctx_ruleset(ctx), ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "b");
	set_x(ev, "a");
	CHECK_INT(detect_event(detect_ctx_ruleset(ctx), ctx, ev, &m), 0);
	/* explicit references */
	{
		const struct ruleset *held = detect_live_get(live, &gen);

		CHECK(held == detect_ctx_ruleset(ctx));
		detect_live_swap(live, set_named("c"));
		CHECK_STR(detect_rule(held, 0)->id, "b");
		detect_ruleset_unref(held);
	}
	CHECK_INT(detect_ctx_refresh(&ctx, live, &gen), 1);
	CHECK_STR(detect_rule(detect_ctx_ruleset(ctx), 0)->id, "c");
	detect_ctx_free(ctx);
	detect_live_free(live);
	vg_event_free(ev);
}

#define SWAPS 200
#define WORKERS 2

static struct detect_live *live;
static atomic_uint_fast64_t last_gen;
static atomic_int stop;

struct worker {
	pthread_t t;
	uint64_t events, switches, mixed, gen;
	char last_id[16];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct detect_ctx *ctx = NULL;
	struct vg_event *ev = vg_event_new();
	const struct rule *const *m;
	char id[16];

	for (;;) {
		const struct ruleset *rs;
		size_t n;

		w->switches += (uint64_t)detect_ctx_refresh(&ctx, live, &w->gen);
		rs = detect_ctx_ruleset(ctx);
		snprintf(id, sizeof(id), "%s", detect_rule(rs, 0)->id);
		/* the set's own value fires its one rule, and only it */
		set_x(ev, id);
		n = detect_event(rs, ctx, ev, &m);
		if (n != 1 || strcmp(m[0]->id, id) != 0)
			w->mixed++;
		set_x(ev, "1");
		n = detect_event(rs, ctx, ev, &m);
		if (n != 1 || strcmp(m[0]->id, id) != 0)
			w->mixed++;
		w->events += 2;
		if (atomic_load(&stop) && w->gen == atomic_load(&last_gen))
			break;
	}
	snprintf(w->last_id, sizeof(w->last_id), "%s", id);
	detect_ctx_free(ctx);
	vg_event_free(ev);
	return NULL;
}

TEST(workers_switch_whole_sets_while_reloads_run)
{
	struct worker w[WORKERS];
	char id[16];
	uint64_t gen = 0;

	memset(w, 0, sizeof(w));
	live = detect_live_new(set_named("s0"));
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&w[i].t, NULL, worker_main, &w[i]);
	/* compile aside while the workers run, then swap */
	for (int i = 1; i <= SWAPS; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		gen = detect_live_swap(live, set_named(id));
	}
	atomic_store(&last_gen, gen);
	atomic_store(&stop, 1);
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(w[i].t, NULL);
		CHECK_INT((int)w[i].mixed, 0);
		CHECK_STR(w[i].last_id, id);
		CHECK((int)w[i].switches >= 1);
		CHECK((int)w[i].gen == SWAPS + 1);
		printf("# worker %d: %llu events, %llu switches of %d swaps\n", i,
		    (unsigned long long)w[i].events, (unsigned long long)w[i].switches,
		    SWAPS);
	}
	detect_live_free(live);
}

/* Patterns that backtrack exponentially (or close) on a near-miss. */
TEST(catastrophic_regexes_are_cut_short_and_counted)
{
	static const struct {
		const char *re, *field;
		char fill;
		size_t n;
		char tail;
	} cases[] = {
		{ "^(a|aa)+$", "f1", 'a', 90, 'b' },
		{ "^(x+x+)+[yz]$", "f2", 'x', 64, '!' },
		{ "^(a+)+$", "f3", 'a', 80, '!' },
		{ "^([a-z]|[a-z][a-z])+\\d$", "f4", 'z', 80, '!' },
	};
	char yaml[2048], val[256];
	size_t o = 0;
	struct ruleset *rs;
	struct detect_ctx *ctx;
	struct vg_event *ev = vg_event_new();
	const struct rule *const *m;

	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "title: R%zu\nid: r%zu\n"
		    "logsource: {product: t}\ndetection:\n    sel:\n        %s|re: '%s'\n"
		    "    condition: sel\n---\n", i, i, cases[i].field, cases[i].re);
	}
	o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "title: fine\nid: fine\n"
	    "logsource: {product: t}\ndetection:\n    sel:\n        f5|re: '^a[a-z]*z$'\n"
	    "    condition: sel\n");
	rs = load_text(yaml);
	ctx = detect_ctx_new(rs);
	CHECK_INT((int)detect_rule_count(rs), 5);
	for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
		memset(val, cases[i].fill, cases[i].n);
		val[cases[i].n] = cases[i].tail;
		vg_event_reset(ev);
		vg_event_add(ev, field_intern(cases[i].field, strlen(cases[i].field)),
		    val, cases[i].n + 1);
		CHECK_INT((int)detect_event(rs, ctx, ev, &m), 0);
		CHECK_INT((int)detect_ctx_regex_limit_hits(ctx), (int)i + 1);
		CHECK(detect_ctx_regex_limit_rule(ctx) == detect_rule(rs, i));
	}
	/* a long value that needs no backtracking: no limit, a match */
	memset(val, 'q', 200);
	val[0] = 'a';
	val[200] = 'z';
	vg_event_reset(ev);
	vg_event_add(ev, field_intern("f5", 2), val, 201);
	CHECK_INT((int)detect_event(rs, ctx, ev, &m), 1);
	CHECK_STR(m[0]->id, "fine");
	CHECK_INT((int)detect_ctx_regex_limit_hits(ctx), (int)VG_ARRAY_LEN(cases));
	detect_ctx_free(ctx);
	detect_free(rs);
	vg_event_free(ev);
}

int main(void)
{
	RUN(a_context_keeps_its_set_alive);
	RUN(workers_switch_whole_sets_while_reloads_run);
	RUN(catastrophic_regexes_are_cut_short_and_counted);
	return unit_done();
}
