/*
 * tzif.c: TZif version 1-4 files (RFC 8536) and POSIX TZ rules.
 *
 * A zone is a sorted table of transitions plus, for instants after the last
 * one, the footer's POSIX rule. Both are seen through one primitive, seg_at():
 * the local time type in force at an instant and the half-open span of UTC
 * time over which it stays in force. tz_offset() and tz_to_utc() are built
 * on that, so table and rule cannot disagree about where a change falls.
 *
 * Files are untrusted bytes: every count is checked against the length
 * before use, and offsets beyond +-26 hours are refused so that the search
 * window of tz_to_utc() is bounded. Loaded zones are immutable.
 */
#include "tzif.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vgtime.h"

#define OFF_MAX 93599          /* RFC 8536: offsets within [-89999, 93599] */
#define OFF_MIN (-89999)
#define SPAN (OFF_MAX + 1)     /* any local time is within SPAN of its UTC */
#define T_LIMIT (INT64_C(1) << 55) /* instants beyond are clamped */
#define TZIF_MAX (1 << 20)     /* real files are a few KiB */
#define NAME_MAX_LEN 255

struct ttype {
	int32_t off;
	uint8_t isdst;
	char abbr[16];
};

/* A POSIX rule date: Jn, n or Mm.w.d, at `time` seconds after local 00:00. */
struct rdate {
	char kind;        /* 'J', 'N' or 'M' */
	int n, m, w, d;
	int32_t time;
};

struct rule {
	int set;          /* a footer rule exists */
	int has_dst;
	struct ttype std, dst;
	struct rdate start, end;
};

struct tz {
	char *name;
	int64_t *trans;
	uint8_t *tidx;
	size_t ntrans;
	struct ttype *types;
	size_t ntypes;
	struct rule rule;
};

static int64_t clamp_t(int64_t t)
{
	return t < -T_LIMIT ? -T_LIMIT : t > T_LIMIT ? T_LIMIT : t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int64_t y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* ---- POSIX TZ rules ---- */

/* A zone abbreviation: <...> or at least 3 letters. */
static const char *parse_abbr(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	if (*s == '<') {
		s++;
		while (*s != '\0' && *s != '>') {
			if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			    (*s >= '0' && *s <= '9') || *s == '+' || *s == '-'))
				return NULL;
			if (n + 1 < cap)
				out[n++] = *s;
			s++;
		}
		if (*s != '>' || n < 3)
			return NULL;
		s++;
	} else {
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
			if (n + 1 < cap)
				out[n++] = *s;
			s++;
		}
		if (n < 3)
			return NULL;
	}
	out[n] = '\0';
	return s;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh; seconds into *out. */
static const char *parse_hms(const char *s, int maxh, int32_t *out)
{
	int sign = 1;
	long h = 0, m = 0, sec = 0;
	int nd = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	while (*s >= '0' && *s <= '9' && nd < 3) {
		h = h * 10 + (*s++ - '0');
		nd++;
	}
	if (nd == 0 || h > maxh || (*s >= '0' && *s <= '9'))
		return NULL;
	if (*s == ':') {
		s++;
		if (!(s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9'))
			return NULL;
		m = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
		if (*s == ':') {
			s++;
			if (!(s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9'))
				return NULL;
			sec = (s[0] - '0') * 10 + (s[1] - '0');
			s += 2;
		}
	}
	*out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
	return s;
}

static const char *parse_num(const char *s, int lo, int hi, int *out)
{
	long v = 0;
	int nd = 0;

	while (*s >= '0' && *s <= '9' && nd < 4) {
		v = v * 10 + (*s++ - '0');
		nd++;
	}
	if (nd == 0 || v < lo || v > hi)
		return NULL;
	*out = (int)v;
	return s;
}

static const char *parse_rdate(const char *s, struct rdate *r)
{
	memset(r, 0, sizeof(*r));
	if (*s == 'J') {
		r->kind = 'J';
		s = parse_num(s + 1, 1, 365, &r->n);
	} else if (*s == 'M') {
		r->kind = 'M';
		if ((s = parse_num(s + 1, 1, 12, &r->m)) == NULL || *s++ != '.' ||
		    (s = parse_num(s, 1, 5, &r->w)) == NULL || *s++ != '.' ||
		    (s = parse_num(s, 0, 6, &r->d)) == NULL)
			return NULL;
	} else {
		r->kind = 'N';
		s = parse_num(s, 0, 365, &r->n);
	}
	if (s == NULL)
		return NULL;
	r->time = 7200;
	if (*s == '/')
		s = parse_hms(s + 1, 167, &r->time);
	return s;
}

static int parse_rule(const char *s, struct rule *r)
{
	int32_t v;

	memset(r, 0, sizeof(*r));
	if ((s = parse_abbr(s, r->std.abbr, sizeof(r->std.abbr))) == NULL ||
	    (s = parse_hms(s, 24, &v)) == NULL)
		return -1;
	r->std.off = -v;
	r->set = 1;
	if (*s == '\0')
		return 0;
	if ((s = parse_abbr(s, r->dst.abbr, sizeof(r->dst.abbr))) == NULL)
		return -1;
	r->has_dst = 1;
	r->dst.isdst = 1;
	r->dst.off = r->std.off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = parse_hms(s, 24, &v)) == NULL)
			return -1;
		r->dst.off = -v;
	}
	if (*s == '\0') {
		/* no rule given: the US rule, as POSIX systems traditionally do */
		s = "M3.2.0,M11.1.0";
	} else if (*s++ != ',') {
		return -1;
	}
	if ((s = parse_rdate(s, &r->start)) == NULL || *s++ != ',' ||
	    (s = parse_rdate(s, &r->end)) == NULL || *s != '\0')
		return -1;
	if (r->std.off < OFF_MIN || r->std.off > OFF_MAX ||
	    r->dst.off < OFF_MIN || r->dst.off > OFF_MAX)
		return -1;
	return 0;
}

/* Days since the epoch of rule date r in year y. */
static int64_t rdate_day(const struct rdate *r, int64_t y)
{
	int64_t jan1 = vgtime_days_from_civil(y, 1, 1);

	if (r->kind == 'J')
		return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
	if (r->kind == 'N')
		return jan1 + r->n;
	{
		int64_t first = vgtime_days_from_civil(y, (unsigned)r->m, 1);
		int64_t dow1 = ((first % 7) + 7 + 4) % 7; /* 1970-01-01: Thursday */
		int64_t day = first + (r->d - dow1 + 7) % 7 + (int64_t)(r->w - 1) * 7;

		while (day >= first + mdays(y, r->m))
			day -= 7;
		return day;
	}
}

struct rtrans {
	int64_t at;
	int dst;
};

/* The rule's type at t and the span [*lo, *hi) it holds over. */
static const struct ttype *rule_seg(const struct rule *r, int64_t t,
    int64_t *lo, int64_t *hi)
{
	struct rtrans e[8];
	int64_t y;
	unsigned mo, da;
	size_t n = 0, i;
	int found = -1;

	if (!r->has_dst) {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return &r->std;
	}
	vgtime_civil_from_days(floor_div(t + r->std.off, 86400), &y, &mo, &da);
	for (int64_t yy = y - 2; yy <= y + 1; yy++) {
		e[n].at = rdate_day(&r->start, yy) * 86400 + r->start.time -
		    r->std.off;
		e[n++].dst = 1;
		e[n].at = rdate_day(&r->end, yy) * 86400 + r->end.time -
		    r->dst.off;
		e[n++].dst = 0;
	}
	/* insertion sort; on a tie the change to standard time goes first so
	 * that a rule with daylight time all year stays in daylight time */
	for (i = 1; i < n; i++) {
		struct rtrans x = e[i];
		size_t j = i;

		while (j > 0 && (e[j - 1].at > x.at ||
		    (e[j - 1].at == x.at && e[j - 1].dst && !x.dst))) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = x;
	}
	for (i = 0; i < n; i++) {
		if (e[i].at <= t)
			found = (int)i;
	}
	if (found < 0) {
		*lo = INT64_MIN;
		*hi = e[0].at;
		return e[n - 1].dst ? &r->std : &r->dst;
	}
	*lo = e[found].at;
	*hi = (size_t)found + 1 < n ? e[found + 1].at : INT64_MAX;
	return e[found].dst ? &r->dst : &r->std;
}

/* ---- the zone ---- */

static const struct ttype *seg_at(const struct tz *z, int64_t t, int64_t *lo,
    int64_t *hi)
{
	size_t a, b;

	if (z->ntrans == 0) {
		if (z->rule.set)
			return rule_seg(&z->rule, t, lo, hi);
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return &z->types[0];
	}
	if (t < z->trans[0]) {
		*lo = INT64_MIN;
		*hi = z->trans[0];
		return &z->types[0];
	}
	if (t >= z->trans[z->ntrans - 1]) {
		int64_t last = z->trans[z->ntrans - 1];

		if (z->rule.set) {
			const struct ttype *ty = rule_seg(&z->rule, t, lo, hi);

			if (*lo < last)
				*lo = last;
			return ty;
		}
		*lo = last;
		*hi = INT64_MAX;
		return &z->types[z->tidx[z->ntrans - 1]];
	}
	/* trans[a] <= t < trans[b] */
	a = 0;
	b = z->ntrans - 1;
	while (b - a > 1) {
		size_t mid = a + (b - a) / 2;

		if (z->trans[mid] <= t)
			a = mid;
		else
			b = mid;
	}
	*lo = z->trans[a];
	*hi = z->trans[b];
	return &z->types[z->tidx[a]];
}

int32_t tz_offset(const struct tz *z, int64_t t, int *isdst, const char **abbr)
{
	int64_t lo, hi;
	const struct ttype *ty = seg_at(z, clamp_t(t), &lo, &hi);

	if (isdst != NULL)
		*isdst = ty->isdst;
	if (abbr != NULL)
		*abbr = ty->abbr;
	return ty->off;
}

int64_t tz_to_utc(const struct tz *z, int64_t local)
{
	int64_t u, lo, hi, prev_off = 0;
	int have_prev = 0;

	local = clamp_t(local);
	/* every instant whose local time could be `local` lies within SPAN
	 * of it; walk the spans in time order, the first fit is the earliest */
	u = local - SPAN;
	for (int guard = 0; guard < 64; guard++) {
		const struct ttype *ty = seg_at(z, u, &lo, &hi);
		int64_t cand = local - ty->off;

		if (have_prev && lo + prev_off <= local && local < lo + ty->off)
			return lo; /* skipped: the instant the clocks jumped */
		if (cand >= lo && cand < hi && (!have_prev || cand >= u))
			return cand;
		if (hi == INT64_MAX || hi > local + SPAN)
			break;
		prev_off = ty->off;
		have_prev = 1;
		u = hi;
	}
	return local - tz_offset(z, local, NULL, NULL);
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

void tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->trans);
	free(z->tidx);
	free(z->types);
	free(z);
}

static struct tz *tz_from_rule(const char *name, const struct rule *r)
{
	struct tz *z = vg_calloc(1, sizeof(*z));

	z->name = vg_strdup(name);
	z->rule = *r;
	z->ntypes = 1;
	z->types = vg_calloc(1, sizeof(*z->types));
	z->types[0] = r->std;
	return z;
}

struct tz *tz_posix(const char *rule, struct vg_err *err)
{
	struct rule r;

	if (strlen(rule) > 128 || parse_rule(rule, &r) < 0) {
		vg_err_set(err, NULL, 0, 0, "invalid POSIX TZ rule '%.64s'", rule);
		return NULL;
	}
	return tz_from_rule(rule, &r);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct hdr {
	int version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_hdr(const unsigned char *p, size_t len, struct hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = p[4] == 0 ? 1 : p[4] - '0';
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->version < 1 || h->version > 9 || h->typecnt == 0 ||
	    h->typecnt > 256 || h->charcnt == 0 || h->charcnt > 65536 ||
	    h->timecnt > 100000 || h->leapcnt > 100000 ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return -1;
	return 0;
}

static size_t block_len(const struct hdr *h, size_t tsize)
{
	return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 +
	    h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
	    h->isutcnt;
}

struct tz *tz_parse(const char *name, const void *buf, size_t len,
    struct vg_err *err)
{
	const unsigned char *p = buf;
	struct hdr h;
	size_t tsize = 4, need;
	struct tz *z = NULL;
	const unsigned char *tt, *ti, *ty, *ch;
	const char *why = "not a TZif file";

	if (read_hdr(p, len, &h) < 0)
		goto fail;
	why = "truncated TZif file";
	need = 44 + block_len(&h, 4);
	if (need > len)
		goto fail;
	if (h.version >= 2) {
		/* skip the 32-bit block; the 64-bit one follows */
		p += need;
		len -= need;
		why = "bad second TZif header";
		if (read_hdr(p, len, &h) < 0)
			goto fail;
		tsize = 8;
		why = "truncated TZif file";
		if (44 + block_len(&h, 8) > len)
			goto fail;
	}
	if (h.leapcnt != 0) {
		why = "leap-second zones (right/...) are not supported";
		goto fail;
	}
	z = vg_calloc(1, sizeof(*z));
	z->name = vg_strdup(name);
	z->ntrans = h.timecnt;
	z->ntypes = h.typecnt;
	z->trans = vg_calloc(h.timecnt ? h.timecnt : 1, sizeof(*z->trans));
	z->tidx = vg_calloc(h.timecnt ? h.timecnt : 1, 1);
	z->types = vg_calloc(h.typecnt, sizeof(*z->types));
	tt = p + 44;
	ti = tt + (size_t)h.timecnt * tsize;
	ty = ti + h.timecnt;
	ch = ty + (size_t)h.typecnt * 6;
	for (size_t i = 0; i < h.timecnt; i++) {
		z->trans[i] = tsize == 8 ? be64(tt + i * 8) :
		    (int64_t)(int32_t)be32(tt + i * 4);
		z->tidx[i] = ti[i];
		why = "TZif transitions out of order";
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			goto fail;
		why = "TZif transition names a missing type";
		if (ti[i] >= h.typecnt)
			goto fail;
	}
	for (size_t i = 0; i < h.typecnt; i++) {
		const unsigned char *e = ty + i * 6;
		int32_t off = (int32_t)be32(e);
		size_t di = e[5], n = 0;

		why = "TZif offset out of range";
		if (off < OFF_MIN || off > OFF_MAX || e[4] > 1)
			goto fail;
		why = "TZif abbreviation out of range";
		if (di >= h.charcnt)
			goto fail;
		z->types[i].off = off;
		z->types[i].isdst = e[4];
		while (di + n < h.charcnt && ch[di + n] != '\0' &&
		    n + 1 < sizeof(z->types[i].abbr)) {
			z->types[i].abbr[n] = (char)ch[di + n];
			n++;
		}
	}
	for (size_t i = 0; i < z->ntrans; i++) {
		/* keep the table away from the clamp limits */
		if (z->trans[i] < -T_LIMIT || z->trans[i] > T_LIMIT) {
			why = "TZif transition out of range";
			goto fail;
		}
	}
	if (h.version >= 2) {
		const char *f = (const char *)p + 44 + block_len(&h, 8);
		const char *end = (const char *)p + len;
		const char *nl;
		char rule[130];
		size_t rl;

		why = "missing TZif footer";
		if (f >= end || *f != '\n')
			goto fail;
		f++;
		nl = memchr(f, '\n', (size_t)(end - f));
		if (nl == NULL)
			goto fail;
		rl = (size_t)(nl - f);
		why = "bad TZ rule in TZif footer";
		if (rl >= sizeof(rule))
			goto fail;
		if (rl > 0) {
			memcpy(rule, f, rl);
			rule[rl] = '\0';
			if (parse_rule(rule, &z->rule) < 0)
				goto fail;
		}
	}
	return z;
fail:
	tz_free(z);
	vg_err_set(err, NULL, 0, 0, "time zone '%s': %s", name, why);
	return NULL;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '/' || s[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
		    c == '+' || c == '.'))
			return 0;
		/* no component may start with a dot: no "..", no hidden files */
		if (c == '.' && (i == 0 || s[i - 1] == '/'))
			return 0;
		if (c == '/' && s[i + 1] == '/')
			return 0;
	}
	return 1;
}

struct tz *tz_load(const char *dir, const char *name, struct vg_err *err)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	struct stat st;
	struct tz *z = NULL;
	size_t got = 0;
	int fd = -1;

	if (!valid_name(name)) {
		vg_err_set(err, NULL, 0, 0, "invalid time zone name '%.64s'", name);
		return NULL;
	}
	if (dir == NULL)
		dir = TZ_DIR_DEFAULT;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		vg_err_set(err, NULL, 0, 0, "time zone path too long");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
			struct rule r;

			memset(&r, 0, sizeof(r));
			r.set = 1;
			strcpy(r.std.abbr, "UTC");
			z = tz_from_rule(name, &r);
			return z;
		}
		vg_err_set(err, NULL, 0, 0, "unknown time zone '%s' (%s: %s)", name,
		    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZIF_MAX) {
		vg_err_set(err, NULL, 0, 0, "time zone '%s': %s is not a zone file",
		    name, path);
		goto out;
	}
	buf = vg_malloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	z = tz_parse(name, buf, got, err);
out:
	free(buf);
	close(fd);
	return z;
}
