/*
 * test_oncall.c: time zones from TZif files (offsets, gaps and folds in
 * both directions, the footer rule for far-future instants, a cross-check
 * against the C library), on-call rotations across daylight saving changes,
 * overrides, layers and windows, escalation timing and loader diagnostics.
 */
#include <time.h>

#include "unit.h"
#include "../../engine/oncall.h"
#include "../../engine/tzif.h"
#include "../../engine/vgtime.h"

/* UTC seconds of a civil UTC time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	return vgtime_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60;
}

/* local wall-clock seconds of a civil local time */
#define LOCAL utc

static struct tz *zone(const char *name)
{
	struct vg_err err = { 0 };
	struct tz *z = tz_load(NULL, name, &err);

	if (z == NULL)
		fprintf(stderr, "  %s\n", err.msg);
	return z;
}

TEST(tz_berlin_both_changes)
{
	struct tz *z = zone("Europe/Berlin");
	const char *abbr;
	int dst;

	if (z == NULL) {
		CHECK(0);
		return;
	}
	/* spring forward: 2026-03-29 01:00Z, 02:00 CET -> 03:00 CEST */
	CHECK_INT(tz_offset(z, utc(2026, 3, 29, 1, 0) - 1, &dst, &abbr), 3600);
	CHECK_INT(dst, 0);
	CHECK_STR(abbr, "CET");
	CHECK_INT(tz_offset(z, utc(2026, 3, 29, 1, 0), &dst, &abbr), 7200);
	CHECK_INT(dst, 1);
	CHECK_STR(abbr, "CEST");
	/* fall back: 2026-10-25 01:00Z, 03:00 CEST -> 02:00 CET */
	CHECK_INT(tz_offset(z, utc(2026, 10, 25, 1, 0) - 1, NULL, NULL), 7200);
	CHECK_INT(tz_offset(z, utc(2026, 10, 25, 1, 0), NULL, NULL), 3600);
	/* a skipped local time maps to the jump, a repeated one to its first
	 * occurrence */
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 3, 29, 2, 30)), utc(2026, 3, 29, 1, 0));
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 3, 29, 3, 0)), utc(2026, 3, 29, 1, 0));
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 3, 29, 1, 59)), utc(2026, 3, 29, 0, 59));
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 10, 25, 2, 30)), utc(2026, 10, 25, 0, 30));
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 10, 25, 3, 0)), utc(2026, 10, 25, 2, 0));
	CHECK_INT(tz_to_local(z, utc(2026, 10, 25, 1, 30)), LOCAL(2026, 10, 25, 2, 30));
	/* past the table: the footer rule (last Sunday of March 2100 is the
	 * 28th) */
	CHECK_INT(tz_offset(z, utc(2100, 3, 28, 1, 0) - 1, NULL, NULL), 3600);
	CHECK_INT(tz_offset(z, utc(2100, 3, 28, 1, 0), NULL, NULL), 7200);
	CHECK_INT(tz_offset(z, utc(2100, 10, 31, 1, 0) - 1, NULL, NULL), 7200);
	CHECK_INT(tz_offset(z, utc(2100, 10, 31, 1, 0), NULL, NULL), 3600);
	/* before any transition: local mean time of the first type */
	CHECK_INT(tz_offset(z, utc(1850, 1, 1, 0, 0), NULL, NULL), 3208);
	CHECK_STR(tz_name(z), "Europe/Berlin");
	tz_free(z);
}

TEST(tz_new_york_both_changes)
{
	struct tz *z = zone("America/New_York");

	if (z == NULL) {
		CHECK(0);
		return;
	}
	/* 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z */
	CHECK_INT(tz_offset(z, utc(2026, 3, 8, 7, 0) - 1, NULL, NULL), -18000);
	CHECK_INT(tz_offset(z, utc(2026, 3, 8, 7, 0), NULL, NULL), -14400);
	/* 2026-11-01 02:00 EDT -> 01:00 EST at 06:00Z */
	CHECK_INT(tz_offset(z, utc(2026, 11, 1, 6, 0) - 1, NULL, NULL), -14400);
	CHECK_INT(tz_offset(z, utc(2026, 11, 1, 6, 0), NULL, NULL), -18000);
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 3, 8, 2, 30)), utc(2026, 3, 8, 7, 0));
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 11, 1, 1, 30)), utc(2026, 11, 1, 5, 30));
	CHECK_INT(tz_to_utc(z, LOCAL(2026, 11, 1, 2, 0)), utc(2026, 11, 1, 7, 0));
	tz_free(z);
}

/* Offsets agree with the C library's over 1901..2100 for a set of zones
 * with unusual rules (negative DST, half hours, southern hemisphere). */
TEST(tz_matches_libc)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"Europe/Dublin", "America/St_Johns", "Pacific/Chatham",
		"America/Sao_Paulo", "Asia/Kolkata", "Africa/Casablanca",
	};
	long bad = 0;

	for (size_t i = 0; i < VG_ARRAY_LEN(zones); i++) {
		struct tz *z = zone(zones[i]);

		if (z == NULL) {
			bad++;
			continue;
		}
		setenv("TZ", zones[i], 1);
		tzset();
		for (int64_t t = -2145916800LL; t < 4102444800LL; t += 86400 * 3 + 3607) {
			time_t tt = (time_t)t;
			struct tm tm;
			int32_t off = tz_offset(z, t, NULL, NULL);
			int64_t back = tz_to_utc(z, t + off);

			localtime_r(&tt, &tm);
			if (off != tm.tm_gmtoff || back > t ||
			    tz_to_local(z, back) != t + off) {
				if (bad++ < 5)
					fprintf(stderr, "  %s at %lld: %d vs libc %ld\n",
					    zones[i], (long long)t, off, tm.tm_gmtoff);
			}
		}
		tz_free(z);
	}
	unsetenv("TZ");
	CHECK_INT(bad, 0);
}

TEST(tz_posix_rules)
{
	struct vg_err err = { 0 };
	struct tz *z = tz_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", &err);

	CHECK(z != NULL);
	if (z != NULL) {
		/* southern hemisphere: daylight time over new year */
		CHECK_INT(tz_offset(z, utc(2030, 1, 1, 0, 0), NULL, NULL), 39600);
		CHECK_INT(tz_offset(z, utc(2030, 7, 1, 0, 0), NULL, NULL), 36000);
		tz_free(z);
	}
	/* daylight time all year (tzfile(5)) */
	z = tz_posix("EST5EDT,0/0,J365/25", &err);
	CHECK(z != NULL);
	if (z != NULL) {
		CHECK_INT(tz_offset(z, utc(2030, 1, 1, 3, 0), NULL, NULL), -14400);
		CHECK_INT(tz_offset(z, utc(2030, 7, 1, 0, 0), NULL, NULL), -14400);
		CHECK_INT(tz_offset(z, utc(2030, 12, 31, 23, 0), NULL, NULL), -14400);
		tz_free(z);
	}
	CHECK(tz_posix("", &err) == NULL);
	CHECK(tz_posix("CET-1CEST,M3.5.0", &err) == NULL);
	CHECK(tz_posix("CET-1CEST,M13.5.0,M10.5.0", &err) == NULL);
	CHECK(tz_posix("AB-1", &err) == NULL);
}

TEST(tz_refuses_bad_names_and_bytes)
{
	struct vg_err err = { 0 };
	char *buf;
	size_t len, ok = 0;
	FILE *f;

	CHECK(tz_load(NULL, "../../etc/passwd", &err) == NULL);
	CHECK_STR(err.msg, "invalid time zone name '../../etc/passwd'");
	vg_err_clear(&err);
	CHECK(tz_load(NULL, "/etc/localtime", &err) == NULL);
	CHECK(tz_load(NULL, "Europe/.hidden", &err) == NULL);
	CHECK(tz_load(NULL, "Europe//Berlin", &err) == NULL);
	vg_err_clear(&err);
	CHECK(tz_load(NULL, "Mars/Olympus_Mons", &err) == NULL);
	CHECK(strncmp(err.msg, "unknown time zone 'Mars/Olympus_Mons'", 37) == 0);
	vg_err_clear(&err);
	CHECK(tz_load(NULL, "Europe", &err) == NULL); /* a folder */
	/* every strict prefix of a real file is refused, the whole is taken */
	f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	buf = malloc(65536);
	len = fread(buf, 1, 65536, f);
	fclose(f);
	for (size_t n = 0; n < len; n++) {
		struct tz *z = tz_parse("x", buf, n, NULL);

		if (z != NULL) {
			ok++;
			tz_free(z);
		}
	}
	CHECK_INT(ok, 0);
	{
		struct tz *z = tz_parse("x", buf, len, NULL);

		CHECK(z != NULL);
		tz_free(z);
	}
	/* leap-second tables are refused */
	buf[28] = 0, buf[29] = 0, buf[30] = 0, buf[31] = 1;
	CHECK(tz_parse("x", buf, len, &err) == NULL);
	free(buf);
}

/* ---- schedules ---- */

static const char ROTA[] =
    "users:\n"
    "  alice: {name: Alice Liddell, email: alice@example.org, slack: U01}\n"
    "  bob: {email: bob@example.org}\n"
    "  carol:\n"
    "  dave: {phone: '+49 30 123'}\n"
    "schedules:\n"
    "  berlin:\n"
    "    time_zone: Europe/Berlin\n"
    "    layers:\n"
    "      - name: daily\n"
    "        users: [alice, bob, carol]\n"
    "        start: 2026-03-27\n"
    "        handoff: '09:00'\n"
    "        turn: 1d\n"
    "  nyc:\n"
    "    time_zone: America/New_York\n"
    "    layers:\n"
    "      - {users: [alice, bob], start: 2026-03-01T02:30, turn: 1w}\n"
    "  fold:\n"
    "    time_zone: America/New_York\n"
    "    layers:\n"
    "      - {users: [alice, bob], start: 2026-10-25, handoff: '01:30', turn: 1w}\n"
    "  nyc2:\n"
    "    time_zone: America/New_York\n"
    "    layers:\n"
    "      - {users: [alice, bob], start: 2026-03-01T02:30, turn: 1w}\n"
    "      - name: nights\n"
    "        users: [carol]\n"
    "        start: 2026-01-01\n"
    "        turn: 1w\n"
    "        restrict:\n"
    "          - {days: mon-fri, from: '22:00', to: '06:00'}\n"
    "    overrides:\n"
    "      - {user: dave, start: '2026-03-20T18:00', end: '2026-03-23T09:00'}\n"
    "  nights:\n"
    "    layers:\n"
    "      - users: [dave]\n"
    "        start: 2026-01-01\n"
    "        turn: 1w\n"
    "        restrict: [{days: [sat, sun]}]\n"
    "escalation_policies:\n"
    "  default:\n"
    "    repeat: 1\n"
    "    repeat_delay: 30m\n"
    "    steps:\n"
    "      - schedule: berlin\n"
    "      - {users: [carol], delay: 15m}\n"
    "      - {schedule: berlin, users: [dave, alice], delay: 10m, channels: [sms]}\n"
    "groups:\n"
    "  leads: [alice, dave]\n";

static struct oncall *rota(void)
{
	struct vg_diag d;
	struct oncall *oc;

	vg_diag_init(&d, stderr);
	oc = oncall_load_buffer("oncall.yml", ROTA, strlen(ROTA), NULL, &d);
	CHECK_INT(d.errors, 0);
	return oc;
}

#define MS(s) ((int64_t)(s) * 1000)

static const char *who(const struct oncall *oc, const char *sched, int64_t t,
    struct oncall_shift *sh)
{
	if (oncall_who(oc, oncall_schedule(oc, sched), MS(t), sh) < 0)
		return "(nobody)";
	return sh->user->id;
}

TEST(rotation_daily_across_spring_forward)
{
	struct oncall *oc = rota();
	struct oncall_shift sh;

	if (oc == NULL)
		return;
	/* 09:00 CET is 08:00Z; after the change 09:00 CEST is 07:00Z */
	CHECK_STR(who(oc, "berlin", utc(2026, 3, 27, 7, 59), &sh), "(nobody)");
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 27, 8, 0)));
	CHECK_STR(who(oc, "berlin", utc(2026, 3, 27, 8, 0), &sh), "alice");
	CHECK_INT(sh.start_ms, MS(utc(2026, 3, 27, 8, 0)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 28, 8, 0)));
	CHECK_INT(sh.layer, 0);
	/* bob's turn is 23 hours long */
	CHECK_STR(who(oc, "berlin", utc(2026, 3, 28, 8, 0), &sh), "bob");
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 29, 7, 0)));
	CHECK_STR(who(oc, "berlin", utc(2026, 3, 29, 7, 0) - 1, &sh), "bob");
	CHECK_STR(who(oc, "berlin", utc(2026, 3, 29, 7, 0), &sh), "carol");
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 30, 7, 0)));
	CHECK_STR(who(oc, "berlin", utc(2026, 3, 30, 7, 0), &sh), "alice");
	oncall_free(oc);
}

TEST(rotation_daily_across_fall_back)
{
	struct oncall *oc = rota();
	struct oncall_shift sh;
	int64_t base;

	if (oc == NULL)
		return;
	/* 2026-10-24 is day 211 after 2026-03-27: 211 % 3 == 1, bob */
	base = utc(2026, 10, 24, 7, 0); /* 09:00 CEST */
	CHECK_STR(who(oc, "berlin", base, &sh), "bob");
	CHECK_INT(sh.start_ms, MS(base));
	/* 09:00 CET on the 25th is 08:00Z: a 25-hour turn */
	CHECK_INT(sh.end_ms, MS(utc(2026, 10, 25, 8, 0)));
	CHECK_STR(who(oc, "berlin", utc(2026, 10, 25, 7, 59), &sh), "bob");
	CHECK_STR(who(oc, "berlin", utc(2026, 10, 25, 8, 0), &sh), "carol");
	CHECK_INT(sh.end_ms, MS(utc(2026, 10, 26, 8, 0)));
	/* a year on, the hand-off is still at 09:00 local */
	CHECK_STR(who(oc, "berlin", utc(2027, 7, 1, 6, 59), &sh), "bob");
	CHECK_INT(sh.end_ms, MS(utc(2027, 7, 1, 7, 0)));
	oncall_free(oc);
}

TEST(rotation_handoff_in_gap_and_fold)
{
	struct oncall *oc = rota();
	struct oncall_shift sh;

	if (oc == NULL)
		return;
	/* weekly at Sunday 02:30 New York time; on 2026-03-08 02:30 does not
	 * exist: the hand-off happens when clocks jump, 07:00Z */
	CHECK_STR(who(oc, "nyc", utc(2026, 3, 1, 7, 30), &sh), "alice");
	CHECK_INT(sh.start_ms, MS(utc(2026, 3, 1, 7, 30)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 8, 7, 0)));
	CHECK_STR(who(oc, "nyc", utc(2026, 3, 8, 7, 0), &sh), "bob");
	/* the next one is at 02:30 EDT again */
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 15, 6, 30)));
	/* weekly at Sunday 01:30; on 2026-11-01 01:30 happens twice: the
	 * hand-off is at the first, 05:30Z (EDT) */
	CHECK_STR(who(oc, "fold", utc(2026, 10, 25, 5, 30), &sh), "alice");
	CHECK_INT(sh.end_ms, MS(utc(2026, 11, 1, 5, 30)));
	CHECK_STR(who(oc, "fold", utc(2026, 11, 1, 6, 30), &sh), "bob");
	CHECK_INT(sh.start_ms, MS(utc(2026, 11, 1, 5, 30)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 11, 8, 6, 30)));
	oncall_free(oc);
}

TEST(overrides_and_layers)
{
	struct oncall *oc = rota();
	struct oncall_shift sh;

	if (oc == NULL)
		return;
	/* Friday 2026-03-06 23:00 New York (EST) = 04:00Z Saturday: the night
	 * layer (listed last) wins over the weekly one */
	CHECK_STR(who(oc, "nyc2", utc(2026, 3, 7, 4, 0), &sh), "carol");
	CHECK_INT(sh.layer, 1);
	CHECK_INT(sh.start_ms, MS(utc(2026, 3, 7, 3, 0)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 7, 11, 0)));
	/* Saturday 12:00: the window is closed, the weekly layer decides */
	CHECK_STR(who(oc, "nyc2", utc(2026, 3, 7, 17, 0), &sh), "alice");
	CHECK_INT(sh.layer, 0);
	/* the override from Friday 18:00 to Monday 09:00 local (EDT) */
	CHECK_STR(who(oc, "nyc2", utc(2026, 3, 21, 12, 0), &sh), "dave");
	CHECK_INT(sh.layer, -1);
	CHECK_INT(sh.start_ms, MS(utc(2026, 3, 20, 22, 0)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 23, 13, 0)));
	/* then the weekly layer: bob's second turn began on the 22nd */
	CHECK_STR(who(oc, "nyc2", utc(2026, 3, 23, 13, 0), &sh), "bob");
	/* weekends only: nobody on a Wednesday, until Saturday 00:00 UTC */
	CHECK_STR(who(oc, "nights", utc(2026, 3, 4, 12, 0), &sh), "(nobody)");
	CHECK_INT(sh.start_ms, MS(utc(2026, 3, 2, 0, 0)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 7, 0, 0)));
	CHECK_STR(who(oc, "nights", utc(2026, 3, 8, 23, 59), &sh), "dave");
	CHECK_INT(sh.start_ms, MS(utc(2026, 3, 7, 0, 0)));
	CHECK_INT(sh.end_ms, MS(utc(2026, 3, 9, 0, 0)));
	CHECK(oncall_group(oc, "leads") != NULL);
	CHECK_INT(oncall_group(oc, "leads")->nusers, 2);
	CHECK_STR(oncall_user(oc, "alice")->name, "Alice Liddell");
	CHECK_STR(oncall_user(oc, "carol")->name, "carol");
	CHECK(oncall_user(oc, "carol")->email == NULL);
	oncall_free(oc);
}

TEST(escalation_timing_and_targets)
{
	struct oncall *oc = rota();
	const struct oncall_policy *p;
	const struct oncall_user *u[8];
	struct oncall_page pg;
	int64_t t0 = MS(utc(2026, 3, 27, 12, 0));
	static const int64_t want_min[] = { 0, 15, 25, 55, 70, 80 };

	if (oc == NULL)
		return;
	p = oncall_policy(oc, "default");
	CHECK(p != NULL);
	if (p == NULL)
		return;
	for (unsigned n = 0; n < 6; n++) {
		CHECK_INT(oncall_policy_page(p, t0, n, &pg), 0);
		CHECK_INT(pg.at_ms, t0 + want_min[n] * 60000);
		CHECK_INT(pg.round, n / 3);
		CHECK_INT(pg.step, n % 3);
	}
	CHECK_INT(oncall_policy_page(p, t0, 6, &pg), -1);
	/* step 3: berlin's on-call (alice on the 27th), dave, alice again */
	CHECK_INT(oncall_step_targets(oc, &p->steps[2], t0, u, 8), 2);
	CHECK_STR(u[0]->id, "alice");
	CHECK_STR(u[1]->id, "dave");
	CHECK_INT(oncall_step_targets(oc, &p->steps[2], t0, u, 1), 1);
	CHECK_INT(p->steps[2].nchannels, 1);
	CHECK_STR(p->steps[2].channels[0], "sms");
	/* the next day bob is on call */
	CHECK_INT(oncall_step_targets(oc, &p->steps[0], t0 + 86400000, u, 8), 1);
	CHECK_STR(u[0]->id, "bob");
	oncall_free(oc);
}

static int only_sms(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "sms") == 0;
}

TEST(loader_reports_every_error)
{
	static const char bad[] =
	    "users:\n"
	    "  alice: {email: not-an-address, pager: x}\n"
	    "  bob: {channels: [sms, fax]}\n"
	    "schedules:\n"
	    "  s1:\n"
	    "    time_zone: Europe/Atlantis\n"
	    "    layers: [{users: [alice], start: 2026-01-01, turn: 1d}]\n"
	    "  s2:\n"
	    "    layers:\n"
	    "      - users: [alice, zed]\n"
	    "        start: 2026-02-30\n"
	    "        handoff: '25:00'\n"
	    "        turn: 30s\n"
	    "    overrides: [{user: bob, start: '2026-01-02T00:00', end: '2026-01-01T00:00'}]\n"
	    "escalation_policies:\n"
	    "  p:\n"
	    "    steps:\n"
	    "      - {schedule: nope}\n"
	    "      - {users: [bob]}\n"
	    "    repeat: 12\n";
	struct oncall_opts o = { NULL, only_sms, NULL };
	struct vg_diag d;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	struct oncall *oc;

	vg_diag_init(&d, f);
	d.no_source = 1;
	oc = oncall_load_buffer("oc.yml", bad, strlen(bad), &o, &d);
	fclose(f);
	CHECK(oc == NULL);
	CHECK_INT(d.errors, 12);
	CHECK(strstr(out, "oc.yml:2:18: error: oncall.users.alice.email: "
	    "'not-an-address' is not an e-mail address") != NULL);
	CHECK(strstr(out, "oc.yml:2:34: error: oncall.users.alice: unknown key "
	    "'pager'") != NULL);
	CHECK(strstr(out, "oc.yml:3:25: error: oncall.users.bob: no channel named "
	    "'fax'") != NULL);
	CHECK(strstr(out, "oc.yml:6:16: error: time_zone: unknown time zone "
	    "'Europe/Atlantis'") != NULL);
	CHECK(strstr(out, "oc.yml:10:24: error: oncall.schedules.s2.layers[0]: no "
	    "user 'zed' under oncall.users") != NULL);
	CHECK(strstr(out, "oc.yml:11:16: error: start: expected YYYY-MM-DD") != NULL);
	CHECK(strstr(out, "oc.yml:12:18: error: handoff: expected HH:MM") != NULL);
	CHECK(strstr(out, "oc.yml:13:15: error: turn: 30s is out of range (1m to "
	    "52w2d)") != NULL);
	CHECK(strstr(out, "oc.yml:14:61: error: override: end must be after "
	    "start") != NULL);
	CHECK(strstr(out, "oc.yml:18:20: error: oncall.escalation_policies.p."
	    "steps[0]: no schedule 'nope'") != NULL);
	CHECK(strstr(out, "oc.yml:19:9: error: oncall.escalation_policies.p."
	    "steps[1]: missing delay") != NULL);
	CHECK(strstr(out, "oc.yml:20:13: error: repeat: expected an integer from "
	    "0 to 9") != NULL);
	if (unit_fail_now)
		fprintf(stderr, "%s", out);
	free(out);
}

TEST(empty_oncall)
{
	struct vg_diag d;
	struct oncall *oc;

	vg_diag_init(&d, NULL);
	oc = oncall_load(NULL, NULL, &d);
	CHECK(oc != NULL);
	CHECK_INT(oc->nusers, 0);
	CHECK(oncall_policy(oc, "default") == NULL);
	oncall_free(oc);
	oncall_free(NULL);
	oc = oncall_load_buffer("x.yml", "[1, 2]", 6, NULL, &d);
	CHECK(oc == NULL);
	CHECK_INT(d.errors, 1);
}

int main(void)
{
	RUN(tz_berlin_both_changes);
	RUN(tz_new_york_both_changes);
	RUN(tz_matches_libc);
	RUN(tz_posix_rules);
	RUN(tz_refuses_bad_names_and_bytes);
	RUN(rotation_daily_across_spring_forward);
	RUN(rotation_daily_across_fall_back);
	RUN(rotation_handoff_in_gap_and_fold);
	RUN(overrides_and_layers);
	RUN(escalation_timing_and_targets);
	RUN(loader_reports_every_error);
	RUN(empty_oncall);
	return unit_done();
}
