/*
 * syslog.c: the syslog header parser. Turns one received message into the
 * header fields of an event: RFC 5424, RFC 3164 and the shapes real senders
 * use around it (no PRI, no hostname, RFC 3339 time in a 3164 header,
 * year-less time, Cisco IOS/ASA sequence numbers and %FAC-SEV-MNEMONIC codes,
 * "last message repeated N times").
 *
 * It runs once per event on every worker, so it is a hand-written scanner:
 * no regex, no malloc (values go to the event's arena through vg_event_add*),
 * and arbitrary names (structured data) are never interned, so hostile input
 * cannot fill the process-wide field registry.
 *
 * It does not decode the free text (decoders do) and never rejects a
 * message: what matches no header becomes `message` as a whole.
 */
#include "syslog.h"

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "vg.h"
#include "vgtime.h"

#define SD_PREFIX "log.syslog.structured_data."
#define SD_PREFIX_LEN (sizeof(SD_PREFIX) - 1)

/* A field this parser adds: its id and interned name, for vg_event_push
 * (set once per process, with the non-builtin names interned), and the
 * head of its entries (id, next, name, name_len, dead: all before v) for
 * the fast path to copy. */
struct sfield {
	uint32_t id, len;
	const char *name;
	struct fent head;
};

static struct sfield sf_ts, sf_host, sf_prog, sf_pid, sf_msg, sf_msgid,
    sf_version, sf_sequence, sf_code, sf_repeated, sf_procid;
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;
static atomic_int ids_ready; /* ids_init done: skips pthread_once per line */

/* "0".."191", the numbers of a PRI, as text that outlives every event. */
static char small_txt[192][4];
static uint8_t small_len[192];
/* The three fields of each PRI, ready to add at once. */
static struct fent pri_ents[192][3];

static void sfield_set(struct sfield *f, uint32_t id)
{
	f->id = id;
	f->name = field_name(id);
	f->len = field_name_len(id);
	f->head.id = id;
	f->head.next = FENT_END;
	f->head.name = f->name;
	f->head.name_len = f->len;
	f->head.dead = 0;
}

static void ids_init(void)
{
	for (int v = 0; v < 192; v++) {
		int n = 0;

		if (v >= 100)
			small_txt[v][n++] = (char)('0' + v / 100);
		if (v >= 10)
			small_txt[v][n++] = (char)('0' + v / 10 % 10);
		small_txt[v][n++] = (char)('0' + v % 10);
		small_len[v] = (uint8_t)n;
	}
	for (int v = 0; v < 192; v++) {
		static const uint32_t ids[3] = { F_SYSLOG_PRIORITY,
			F_SYSLOG_FACILITY, F_SYSLOG_SEVERITY };
		const int val[3] = { v, v >> 3, v & 7 };

		for (int k = 0; k < 3; k++) {
			struct fent *e = &pri_ents[v][k];

			e->id = ids[k];
			e->next = FENT_END;
			e->name = field_name(ids[k]);
			e->name_len = field_name_len(ids[k]);
			e->v.s = small_txt[val[k]];
			e->v.len = small_len[val[k]];
			e->v.kind = V_NUM;
			e->v.num = val[k];
		}
	}
	sfield_set(&sf_ts, F_TIMESTAMP);
	sfield_set(&sf_host, F_HOST_HOSTNAME);
	sfield_set(&sf_prog, F_PROCESS_NAME);
	sfield_set(&sf_pid, F_PROCESS_PID);
	sfield_set(&sf_msg, F_MESSAGE);
	sfield_set(&sf_msgid, F_SYSLOG_MSGID);
	sfield_set(&sf_version, F_SYSLOG_VERSION);
	sfield_set(&sf_sequence, field_intern("event.sequence", 14));
	sfield_set(&sf_code, field_intern("event.code", 10));
	sfield_set(&sf_repeated, field_intern("log.syslog.repeated", 19));
	sfield_set(&sf_procid, field_intern("log.syslog.procid", 17));
	atomic_store_explicit(&ids_ready, 1, memory_order_release);
}

/* Parse state for one message. */
struct sl {
	struct vg_event *ev;
	int tz;          /* minutes east of UTC for zone-less times */
	int64_t ref_ms;  /* reference for year inference; 0 until needed */
	int have_ts;
	const char *nul_end; /* the message's end when *nul_end == '\0' and
	                        the text stays put (syslog_parse_stable) */
};

/* A year-less or year-ful BSD timestamp as written. */
#define BSD_LEN 15 /* "Nov 23 00:00:05" */
struct bsdts {
	int mon, day, h, mi, s, ms;
	int year; /* 0: none written */
};

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const unsigned char md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };

	return m == 2 && leap(y) ? 29 : md[m - 1];
}

static size_t fmt_u64(uint64_t v, char *out)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* vg_event_add_ref, vg_event_add and vg_event_add_num of field f, inline:
 * the same entries. */
static inline void add_ref(struct vg_event *ev, const struct sfield *f,
    const char *s, size_t n)
{
	vg_event_push(ev, f->id, f->name, f->len, s, n, V_STR, 0);
}

static inline __attribute__((always_inline)) void add_copy(struct vg_event *ev,
    const struct sfield *f, const char *s, size_t n)
{
	vg_event_push(ev, f->id, f->name, f->len, arena_strdup_in(&ev->arena, s, n),
	    n, V_STR, 0);
}

static inline void add_num(struct vg_event *ev, const struct sfield *f,
    const char *s, size_t n, double num)
{
	vg_event_push(ev, f->id, f->name, f->len, arena_strdup_in(&ev->arena, s, n),
	    n, V_NUM, num);
}

/* The number as text: from the table when small, else written straight
 * in the arena. */
static inline const char *u64_text(struct vg_event *ev, uint64_t v, size_t *n)
{
	char *b;

	if (v < 192) {
		*n = small_len[v];
		return small_txt[v];
	}
	b = arena_alloc(&ev->arena, 24);
	*n = fmt_u64(v, b);
	b[*n] = '\0';
	return b;
}

/* The number as text, no copy: the same entry vg_event_add_num makes. */
static void add_u64(struct vg_event *ev, const struct sfield *f, uint64_t v)
{
	size_t n;
	const char *s = u64_text(ev, v, &n);

	vg_event_push(ev, f->id, f->name, f->len, s, n, V_NUM, (double)v);
}

/* All-digit s[0..n), at most 18 digits (so it fits exactly): 0 and *v, or -1. */
static int parse_uint(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

static int64_t ref_ms(struct sl *st)
{
	if (st->ref_ms == 0)
		st->ref_ms = vg_now_ms();
	return st->ref_ms;
}

/*
 * "<N>" with one to three digits: returns its length and sets *pri (-1 when
 * above 191, which is then ignored), or 0 when the text has no PRI shape.
 */
static size_t scan_pri(const char *s, size_t n, int *pri)
{
	size_t i = 1;
	int v = 0;

	if (n < 3 || s[0] != '<')
		return 0;
	while (i < n && i <= 3 && is_digit(s[i]))
		v = v * 10 + (s[i++] - '0');
	if (i == 1 || i >= n || s[i] != '>')
		return 0;
	*pri = v <= 191 ? v : -1;
	return i + 1;
}

/* The month of a three-letter English name, any case, or 0: one switch on
 * the letters packed into an integer instead of a scan of the names. */
static int month_of(const char *s)
{
#define MON(a, b, c) ((unsigned)(a) << 16 | (unsigned)(b) << 8 | (unsigned)(c))
	unsigned k = MON(vg_lower((unsigned char)s[0]), vg_lower((unsigned char)s[1]),
	    vg_lower((unsigned char)s[2]));

	switch (k) {
	case MON('j', 'a', 'n'): return 1;
	case MON('f', 'e', 'b'): return 2;
	case MON('m', 'a', 'r'): return 3;
	case MON('a', 'p', 'r'): return 4;
	case MON('m', 'a', 'y'): return 5;
	case MON('j', 'u', 'n'): return 6;
	case MON('j', 'u', 'l'): return 7;
	case MON('a', 'u', 'g'): return 8;
	case MON('s', 'e', 'p'): return 9;
	case MON('o', 'c', 't'): return 10;
	case MON('n', 'o', 'v'): return 11;
	case MON('d', 'e', 'c'): return 12;
	default: return 0;
	}
#undef MON
}

static int two_digits(const char *s, int *v)
{
	if (!is_digit(s[0]) || !is_digit(s[1]))
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/*
 * "Nov 23 00:00:05", "Nov  3 00:00:05.123", "Nov 3 2026 00:00:05" (Cisco
 * ASA, IOS with `year`). Returns bytes consumed or 0. The day is checked
 * against the month (Feb 29 allowed; the year decides later).
 */
static size_t scan_bsd(const char *s, size_t n, struct bsdts *t)
{
	size_t i;

	if (n < 14 || !is_alpha(s[0]) || !is_alpha(s[1]) || !is_alpha(s[2]) ||
	    s[3] != ' ' || (t->mon = month_of(s)) == 0)
		return 0;
	i = 4;
	if (s[i] == ' ')
		i++;
	if (!is_digit(s[i]))
		return 0;
	t->day = s[i++] - '0';
	if (i < n && is_digit(s[i]))
		t->day = t->day * 10 + (s[i++] - '0');
	if (t->day < 1 || t->day > month_days(2000, t->mon) || i >= n ||
	    s[i++] != ' ')
		return 0;
	t->year = 0;
	if (i + 5 <= n && is_digit(s[i]) && is_digit(s[i + 1]) &&
	    is_digit(s[i + 2]) && is_digit(s[i + 3]) && s[i + 4] == ' ') {
		t->year = (s[i] - '0') * 1000 + (s[i + 1] - '0') * 100 +
		    (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
		if (t->year == 0 || (t->mon == 2 && t->day == 29 && !leap(t->year)))
			return 0;
		i += 5;
	}
	if (i + 8 > n || two_digits(s + i, &t->h) || s[i + 2] != ':' ||
	    two_digits(s + i + 3, &t->mi) || s[i + 5] != ':' ||
	    two_digits(s + i + 6, &t->s) || t->h > 23 || t->mi > 59 || t->s > 60)
		return 0;
	if (t->s == 60)
		t->s = 59; /* leap second */
	i += 8;
	t->ms = 0;
	if (i + 1 < n && (s[i] == '.' || s[i] == ',') && is_digit(s[i + 1])) {
		int scale = 100;

		for (i++; i < n && is_digit(s[i]); i++) {
			t->ms += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	return i;
}

/*
 * " UTC" (1 to 5 letters) directly followed by ':', as Cisco writes it.
 * Returns its length without the ':' and sets *off for the names that mean
 * UTC; any other zone name is consumed but keeps the configured offset,
 * since abbreviations are ambiguous.
 */
static inline size_t scan_zone(const char *s, size_t n, int *off)
{
	size_t i = 1;

	if (n < 3 || s[0] != ' ' || !is_alpha(s[1]))
		return 0;
	while (i < n && i <= 6 && is_alpha(s[i]))
		i++;
	if (i == 1 || i > 6 || i >= n || s[i] != ':')
		return 0;
	if ((i == 4 && (memcmp(s + 1, "UTC", 3) == 0 ||
	    memcmp(s + 1, "GMT", 3) == 0)) ||
	    (i == 3 && memcmp(s + 1, "UT", 2) == 0) ||
	    (i == 2 && s[1] == 'Z'))
		*off = 0;
	return i;
}

/* Days of a date; year inference asks for the same few dates (this day in
 * the years around the reference) line after line, so the last four are
 * kept per thread. */
static int64_t days_of(int64_t y, int mon, int day)
{
	static _Thread_local struct {
		int64_t y, days;
		int md;
	} memo[4] = { { 0, 0, -1 }, { 0, 0, -1 }, { 0, 0, -1 }, { 0, 0, -1 } };
	static _Thread_local unsigned next;
	int md = mon * 32 + day;

	for (int i = 0; i < 4; i++)
		if (memo[i].md == md && memo[i].y == y)
			return memo[i].days;
	next = (next + 1) & 3;
	memo[next].y = y;
	memo[next].md = md;
	memo[next].days = vgtime_days_from_civil(y, (unsigned)mon, (unsigned)day);
	return memo[next].days;
}

static int64_t civil_ms(int64_t y, const struct bsdts *t, int off)
{
	return ((days_of(y, t->mon, t->day) *
	    86400 + t->h * 3600 + t->mi * 60 + t->s) - (int64_t)off * 60) *
	    1000 + t->ms;
}

/*
 * The year that puts a year-less time nearest to the reference: a
 * "Dec 31 23:59:59" seen on Jan 1 is last year's. Feb 29 looks further for
 * a leap year.
 */
static int64_t resolve_bsd(struct sl *st, const struct bsdts *t, int off)
{
	/* consecutive messages share the reference day */
	static _Thread_local int64_t ref_day = INT64_MIN, ref_year;
	int64_t ref, local, y, best = 0, bestd = -1;
	unsigned m, d;
	int span = 1;

	if (t->year != 0)
		return civil_ms(t->year, t, off);
	ref = ref_ms(st);
	local = ref + (int64_t)off * 60000;
	local = local >= 0 ? local / 86400000 : -((-local + 86399999) / 86400000);
	if (local == ref_day) {
		y = ref_year;
	} else {
		vgtime_civil_from_days(local, &y, &m, &d);
		ref_day = local;
		ref_year = y;
	}
	for (;;) {
		for (int64_t yy = y - span; yy <= y + span; yy++) {
			int64_t ms, dist;

			if (t->day > month_days(yy, t->mon))
				continue;
			ms = civil_ms(yy, t, off);
			dist = ms > ref ? ms - ref : ref - ms;
			if (bestd < 0 || dist < bestd) {
				bestd = dist;
				best = ms;
			}
		}
		if (bestd >= 0)
			return best;
		span = 4; /* Feb 29 and no leap year next to the reference */
	}
}

/* memcmp(a, b, BSD_LEN) == 0 in two overlapping word compares. */
static inline int same15(const char *a, const char *b)
{
	uint64_t x, y, u, v;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	memcpy(&u, a + BSD_LEN - 8, 8);
	memcpy(&v, b + BSD_LEN - 8, 8);
	return x == y && u == v;
}

/*
 * A timestamp at s: RFC 3339 / ISO 8601, or BSD with an optional zone name
 * before a ':'. Returns bytes consumed (0: none) with the time in *ms. What
 * follows must be the end, a space or a ':'.
 */
/* Consecutive lines share their second. When scan_bsd took exactly
 * BSD_LEN bytes ("Mmm dd hh:mm:ss") and a space follows, those bytes
 * alone decided its result (its look-ahead stops at the space), so a
 * line starting with the same bytes and a space gets the same struct
 * bsdts; and resolve_bsd is a function of it, the offset and the
 * reference, so its answer is kept too (scan_time and fast_3164). Per
 * thread. */
static _Thread_local char last_txt[BSD_LEN];
static _Thread_local struct bsdts last_t;
static _Thread_local int last_ok, last_off;
static _Thread_local int64_t last_ref, last_ms;

static size_t scan_time(struct sl *st, const char *s, size_t n, int64_t *ms)
{
	size_t k;

	if (n >= 10 && is_digit(s[0])) {
		k = vgtime_parse_iso(s, n, st->tz, ms);
	} else {
		struct bsdts t;
		int off = st->tz;
		int plain = n > BSD_LEN && s[BSD_LEN] == ' ';

		if (plain && last_ok && same15(s, last_txt)) {
			k = BSD_LEN + scan_zone(s + BSD_LEN, n - BSD_LEN, &off);
			if (off == last_off && ref_ms(st) == last_ref) {
				*ms = last_ms;
				goto check;
			}
			t = last_t;
		} else {
			if ((k = scan_bsd(s, n, &t)) == 0)
				return 0;
			last_ok = plain && k == BSD_LEN;
			if (last_ok) {
				memcpy(last_txt, s, BSD_LEN);
				last_t = t;
			}
			k += scan_zone(s + k, n - k, &off);
		}
		*ms = resolve_bsd(st, &t, off);
		if (last_ok) {
			last_off = off;
			last_ref = ref_ms(st);
			last_ms = *ms;
		}
	}
check:
	if (k == 0 || (k < n && s[k] != ' ' && s[k] != ':'))
		return 0;
	return k;
}

static void emit_ts(struct sl *st, int64_t ms)
{
	char *b;
	size_t n;

	if (st->have_ts)
		return;
	st->have_ts = 1;
	st->ev->ts_ms = ms;
	st->ev->has_ts = 1;
	b = arena_alloc_in(&st->ev->arena, 32);
	n = vgtime_format_fast(ms, b);
	add_ref(st->ev, &sf_ts, b, n);
}

/* process.pid when numeric, else log.syslog.procid; nothing when empty. */
/* emit_pid for a pid whose parse_uint is known: numeric says whether it
 * succeeded, with value v. */
static inline __attribute__((always_inline)) void emit_pid_v(struct sl *st,
    const char *s, size_t n, int numeric, uint64_t v)
{
	if (n == 0)
		return;
	if (numeric) {
		/* no leading zero: the text is what add_u64 would write */
		if (v >= 192 && s[0] != '0')
			add_num(st->ev, &sf_pid, s, n, (double)v);
		else
			add_u64(st->ev, &sf_pid, v);
	} else {
		add_copy(st->ev, &sf_procid, s, n);
	}
}

static void emit_pid(struct sl *st, const char *s, size_t n)
{
	uint64_t v = 0;
	int numeric = n > 0 && parse_uint(s, n, &v) == 0;

	emit_pid_v(st, s, n, numeric, v);
}

/* "last message repeated N times", "message repeated N times: [ ... ]". */
static void check_repeated(struct sl *st, const char *s, size_t n)
{
	static const char last[] = "last message repeated ";
	static const char msg[] = "message repeated ";
	size_t i, j;
	uint64_t v;

	if (n > 4 && memcmp(s, "--- ", 4) == 0) {
		s += 4;
		n -= 4;
	}
	if (n >= sizeof(last) - 1 && memcmp(s, last, sizeof(last) - 1) == 0)
		i = sizeof(last) - 1;
	else if (n >= sizeof(msg) - 1 && memcmp(s, msg, sizeof(msg) - 1) == 0)
		i = sizeof(msg) - 1;
	else
		return;
	for (j = i; j < n && is_digit(s[j]); j++)
		;
	if (j + 5 > n || memcmp(s + j, " time", 5) != 0 ||
	    parse_uint(s + i, j - i, &v) != 0)
		return;
	add_u64(st->ev, &sf_repeated, v);
}

static void emit_message(struct sl *st, const char *s, size_t n)
{
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (s + n == st->nul_end)
		add_ref(st->ev, &sf_msg, s, n);
	else
		add_copy(st->ev, &sf_msg, s, n);
	if (n > 16 && (s[0] == 'l' || s[0] == 'm' || s[0] == '-'))
		check_repeated(st, s, n);
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* Past one separating space, if there is one. */
static const char *skip_one_space(const char *p, const char *end)
{
	return p < end && *p == ' ' ? p + 1 : p;
}

/*
 * "%SYS-5-CONFIG_I:" or "%ASA-6-302013:" followed by a space or the end:
 * returns its length including the ':', or 0.
 */
static inline size_t scan_code(const char *s, size_t n)
{
	size_t i;
	int dashes = 0;

	if (n < 6 || s[0] != '%')
		return 0;
	for (i = 1; i < n && s[i] != ':'; i++) {
		if (s[i] == '-') {
			if (s[i - 1] == '-' || s[i - 1] == '%')
				return 0;
			dashes++;
		} else if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_') {
			return 0;
		}
	}
	if (i >= n || dashes < 2 || s[i - 1] == '-' ||
	    (i + 1 < n && s[i + 1] != ' '))
		return 0;
	return i + 1;
}

/* If p starts with a %CODE:, emit event.code and return the text after it. */
static inline const char *take_code(struct sl *st, const char *p,
    const char *end)
{
	size_t k = scan_code(p, (size_t)(end - p));

	if (k == 0)
		return p;
	add_copy(st->ev, &sf_code, p + 1, k - 2);
	return skip_one_space(p + k, end);
}

/* "123: " (a Cisco sequence number): returns the length with the ':'. */
static inline size_t scan_seq(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i < 18 && is_digit(s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ':' || (i + 1 < n && s[i + 1] != ' '))
		return 0;
	return i + 1;
}

/* Does a Cisco timestamp ("*Mar  1 00:01:02.345:", ".Nov 23 ... UTC:")
 * start at p? Returns its length up to and including the ':', or 0. */
static size_t scan_cisco_time(struct sl *st, const char *p, const char *end,
    int64_t *ms)
{
	const char *q = p;
	size_t k;

	if (q < end && (*q == '*' || *q == '.'))
		q++;
	k = scan_time(st, q, (size_t)(end - q), ms);
	if (k == 0 || q + k >= end || q[k] != ':')
		return 0;
	return (size_t)(q + k + 1 - p);
}

/*
 * After a Cisco sequence number: [host: ] [*|.]time[ zone]: [%CODE: ] text.
 * host_ok says whether a hostname may still come.
 */
static void cisco_tail(struct sl *st, const char *p, const char *end,
    int host_ok)
{
	int64_t ms;
	size_t k;

	p = skip_spaces(p, end);
	if (host_ok) {
		const char *e = memchr(p, ' ', (size_t)(end - p));

		if (e != NULL && e - p > 1 && e[-1] == ':' && e[-2] != ':' &&
		    (scan_cisco_time(st, e + 1, end, &ms) != 0 ||
		    scan_code(e + 1, (size_t)(end - e - 1)) != 0)) {
			add_copy(st->ev, &sf_host, p, (size_t)(e - 1 - p));
			p = e + 1;
		}
	}
	if ((k = scan_cisco_time(st, p, end, &ms)) != 0) {
		emit_ts(st, ms);
		p = skip_one_space(p + k, end);
	}
	p = take_code(st, p, end);
	emit_message(st, p, (size_t)(end - p));
}

/* Emit the sequence number of a "123: " prefix of length k. */
static void emit_seq(struct sl *st, const char *p, size_t k)
{
	uint64_t v;

	if (parse_uint(p, k - 1, &v) == 0)
		add_u64(st->ev, &sf_sequence, v);
}

/*
 * The first of s[i..n) that may end a tag (' ', '[' or ':'), or n. The
 * hostname and the tag are scanned for these before most lines' text:
 * 16 bytes a step where there are 16.
 */
static inline size_t tag_stop(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(' '), br = _mm_set1_epi8('['),
	    co = _mm_set1_epi8(':');

	while (n - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, br)),
		    _mm_cmpeq_epi8(v, co)));

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
#endif
	while (i < n && s[i] != ' ' && s[i] != '[' && s[i] != ':')
		i++;
	return i;
}

/* What scan_tag found. */
struct tag {
	const char *pid;  /* NULL: none */
	size_t pidlen, proglen;
	size_t space;     /* scan_tag failed: the space that ended it, or 0 */
	int numeric;      /* parse_uint(pid) succeeds, with value v */
	uint64_t v;
};

/*
 * A 3164 TAG: "sshd[123]:", "sshd:", "postfix/smtpd[54801]:", "prog[12]"
 * before a space. The program ends at the first '[' or at a ':' that is
 * followed by a space or the end. Returns bytes consumed, or 0; then
 * t->space is the index of the space that ended the scan (0: it ended
 * otherwise). The pid's digits are read as it is scanned.
 */
static size_t scan_tag(const char *s, size_t n, struct tag *t)
{
	t->space = 0;
	for (size_t i = tag_stop(s, 0, n); i < n; i = tag_stop(s, i + 1, n)) {
		char c = s[i];
		size_t j;
		uint64_t v = 0;
		int digits = 1;

		if (c == ' ') {
			t->space = i;
			return 0;
		}
		if (c == '[') {
			if (i == 0)
				return 0;
			for (j = i + 1; j < n && s[j] != ']' && s[j] != ' '; j++) {
				unsigned d = (unsigned char)s[j] - (unsigned)'0';

				if (d > 9)
					digits = 0;
				v = v * 10 + d;
			}
			if (j >= n || s[j] != ']')
				return 0;
			t->pid = s + i + 1;
			t->pidlen = j - i - 1;
			t->proglen = i;
			/* parse_uint's answer: 1 to 18 digits */
			t->numeric = digits && t->pidlen > 0 && t->pidlen <= 18;
			t->v = v;
			j++;
			if (j < n && s[j] == ':')
				j++;
			else if (j < n && s[j] != ' ')
				return 0;
			return j;
		}
		if (c == ':' && (i + 1 == n || s[i + 1] == ' ')) {
			if (i == 0)
				return 0;
			t->pid = NULL;
			t->pidlen = 0;
			t->proglen = i;
			t->numeric = 0;
			return i + 1;
		}
	}
	return 0;
}

/*
 * Try a TAG at p; on success emit it and return the message start. On
 * failure *word (may be NULL) gets the space that ends a first word free of
 * '[' and of a ':' before a space (a hostname), or NULL.
 */
static const char *take_tag(struct sl *st, const char *p, const char *end,
    const char **word)
{
	struct tag t;
	size_t k;

	if ((k = scan_tag(p, (size_t)(end - p), &t)) == 0) {
		if (word != NULL)
			*word = t.space > 0 ? p + t.space : NULL;
		return NULL;
	}
	add_copy(st->ev, &sf_prog, p, t.proglen);
	emit_pid_v(st, t.pid, t.pidlen, t.numeric, t.v);
	return skip_one_space(p + k, end);
}

/*
 * What follows a 3164 timestamp: [HOSTNAME] [TAG] text, where the hostname
 * may be missing. A first token that ends in ':' or holds a '[' is the tag.
 * Cisco shapes (%CODE:, "123: " sequence numbers) are recognised too.
 */
static void after_time(struct sl *st, const char *p, const char *end)
{
	const char *e, *m;
	size_t k;

	p = skip_spaces(p, end);
	if (p < end && (*p == 'l' || *p == '-') &&
	    ((end - p >= 22 && memcmp(p, "last message repeated ", 22) == 0) ||
	    (end - p >= 26 && memcmp(p, "--- last message repeated ", 26) == 0))) {
		emit_message(st, p, (size_t)(end - p));
		return;
	}
	if ((m = take_code(st, p, end)) != p) {
		emit_message(st, m, (size_t)(end - m));
		return;
	}
	if ((k = scan_seq(p, (size_t)(end - p))) != 0) {
		emit_seq(st, p, k);
		cisco_tail(st, p + k, end, 1);
		return;
	}
	if ((m = take_tag(st, p, end, &e)) != NULL) {
		emit_message(st, m, (size_t)(end - m));
		return;
	}
	/* when scan_tag stopped at the space after a plain first word, that
	 * word is the hostname; else look */
	if (e == NULL) {
		if ((e = memchr(p, ' ', (size_t)(end - p))) == NULL)
			e = end;
		if (e == p || e[-1] == ':' || memchr(p, '[', (size_t)(e - p)) != NULL) {
			/* tag-like but malformed: keep it in the text */
			emit_message(st, p, (size_t)(end - p));
			return;
		}
	}
	add_copy(st->ev, &sf_host, p, (size_t)(e - p));
	p = skip_spaces(e, end);
	if (end - p > 2 && p[0] == ':' && p[1] == ' ' && p[2] == '%')
		p += 2; /* ASA "host : %ASA-6-302013: ..." */
	if ((m = take_code(st, p, end)) != p) {
		emit_message(st, m, (size_t)(end - m));
		return;
	}
	if ((k = scan_seq(p, (size_t)(end - p))) != 0) {
		emit_seq(st, p, k);
		cisco_tail(st, p + k, end, 0);
		return;
	}
	if ((m = take_tag(st, p, end, NULL)) != NULL)
		p = m;
	emit_message(st, p, (size_t)(end - p));
}

/* The event's arrays and generation, loaded once by fast_3164 (the
 * stores to entries could alias the event's own members). */
struct wr {
	struct fent *ents;
	uint32_t *stamp, *first, *last;
	uint32_t gen;
};

/*
 * Entry i of an event that had no entry when the parse began and has room
 * for it: what vg_event_push makes for a field's first value, without its
 * checks. An event without entries has no field indexed (vg_event_new and
 * vg_event_reset leave every stamp behind gen), and fast_3164 writes each
 * field once.
 */

static inline __attribute__((always_inline)) void put(const struct wr *w,
    uint32_t i, uint32_t id, const struct sfield *f, const char *s, size_t n,
    enum value_kind kind, double num)
{
	struct fent *e = &w->ents[i];

	/* id (f->id: a constant for the builtin fields), next, name,
	 * name_len and dead in two moves */
	memcpy(e, &f->head, offsetof(struct fent, v));
	e->v.s = s;
	e->v.len = (uint32_t)n;
	e->v.kind = (uint8_t)kind;
	e->v.num = num;
	w->stamp[id] = w->gen;
	w->first[id] = i;
	w->last[id] = i;
}

/*
 * How many of the 8 bytes at s are ASCII digits before the first that is
 * not, and in *v the number they write (0 when none). A byte is a digit
 * when its high nibble is 3 and adding 6 keeps it so; a carry out of a
 * byte only reaches bytes after it, past the first non-digit.
 */
static inline unsigned digits8(const char *s, uint64_t *v)
{
	const uint64_t hi = 0xF0F0F0F0F0F0F0F0ull, three = 0x3030303030303030ull;
	uint64_t x, nd;
	unsigned c;

	memcpy(&x, s, 8);
	nd = ((x & hi) ^ three) | (((x + 0x0606060606060606ull) & hi) ^ three);
	c = nd == 0 ? 8 : (unsigned)__builtin_ctzll(nd) / 8;
	if (c == 0) {
		*v = 0;
		return 0;
	}
	/* the c digits as values 0..9, moved up so that the bytes below them
	 * are leading zeros, then summed pairwise: 2, 4, 8 digits a lane
	 * (the first character is the lowest byte, the most significant
	 * digit) */
	x = (x - three) << (8 * (8 - c));
	x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFull;
	x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFull;
	x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFull;
	*v = x;
	return c;
}

/*
 * The common RFC 3164 shape, "<PRI>Mmm dd hh:mm:ss host tag[pid]: text",
 * in one pass into an event without entries: the checks decide up front
 * that the general path (parse, scan_time, after_time, take_tag) would
 * take exactly these steps, then the entries it would make are written
 * in place. Returns 0, with nothing emitted, for any other shape (a zone
 * name, a second space, a Cisco code or sequence number, "last message
 * repeated", a hostname that is not a plain word, ...): the general path
 * parses those. test_syslog_fast and test_syslog check both paths agree
 * (syslog_parse_general is the general path alone).
 */
static int fast_3164(struct sl *st, const char *s, const char *end)
{
	struct vg_event *ev = st->ev;
	const char *p, *h, *t, *m, *b;
	size_t k, hl, n, tn;
	struct tag tg;
	int pri;
	unsigned d0, d1, d2;
	int64_t ms;
	uint32_t i;
	struct wr w;

	/* "<N>" (scan_pri, at most 191) then a letter: neither RFC 5424 nor
	 * a Cisco clock mark */
	if (end - s < 5 + BSD_LEN + 2 || s[0] != '<' ||
	    (d0 = (unsigned char)s[1] - (unsigned)'0') > 9)
		return 0;
	d1 = (unsigned char)s[2] - (unsigned)'0';
	d2 = (unsigned char)s[3] - (unsigned)'0';
	if (s[2] == '>') {
		pri = (int)d0;
		p = s + 3;
	} else if (d1 <= 9 && s[3] == '>') {
		pri = (int)(d0 * 10 + d1);
		p = s + 4;
	} else if (d1 <= 9 && d2 <= 9 && s[4] == '>' &&
	    d0 * 100 + d1 * 10 + d2 <= 191) {
		pri = (int)(d0 * 100 + d1 * 10 + d2);
		p = s + 5;
	} else {
		return 0;
	}
	if (!is_alpha(p[0]) || p[BSD_LEN] != ' ')
		return 0;
	/* one space, then a hostname ended by a space: no ':' or '[' in it,
	 * so no zone name follows the time and it is no tag */
	h = p + BSD_LEN + 1;
	if (*h == ' ' || *h == '%' ||
	    ((*h == 'l' || *h == '-') &&
	    ((end - h >= 22 && memcmp(h, "last message repeated ", 22) == 0) ||
	    (end - h >= 26 && memcmp(h, "--- last message repeated ", 26) == 0))))
		return 0;
	hl = tag_stop(h, 0, (size_t)(end - h));
	if (h + hl >= end || h[hl] != ' ')
		return 0;
	/* the time scan_time gives, from its cache when it would */
	if (last_ok && same15(p, last_txt) && st->tz == last_off &&
	    ref_ms(st) == last_ref)
		ms = last_ms;
	else if (scan_time(st, p, (size_t)(end - p), &ms) != BSD_LEN)
		return 0;
	/* after the hostname: no ASA " : %", Cisco code or sequence number */
	t = skip_spaces(h + hl, end);
	if (t < end && (*t == '%' || *t == ':' || is_digit(*t)))
		return 0;

	if (ev->cap < 8)
		(void)vg_event_reserve(ev, 8);
	w.ents = ev->ents;
	w.stamp = ev->stamp;
	w.first = ev->first;
	w.last = ev->last;
	w.gen = ev->gen;
#ifdef __SSE2__
	/* 144 bytes in nine 16-byte moves (a plain memcpy here becomes rep
	 * movs, a loop stays a loop) */
	_Static_assert(sizeof(pri_ents[0]) == 9 * 16, "three entries of 48 bytes");
	{
		const __m128i *src = (const __m128i *)(const void *)pri_ents[pri];
		__m128i *dst = (__m128i *)(void *)w.ents;
		__m128i a0 = _mm_loadu_si128(src), a1 = _mm_loadu_si128(src + 1),
		    a2 = _mm_loadu_si128(src + 2), a3 = _mm_loadu_si128(src + 3),
		    a4 = _mm_loadu_si128(src + 4), a5 = _mm_loadu_si128(src + 5),
		    a6 = _mm_loadu_si128(src + 6), a7 = _mm_loadu_si128(src + 7),
		    a8 = _mm_loadu_si128(src + 8);

		_mm_storeu_si128(dst, a0);
		_mm_storeu_si128(dst + 1, a1);
		_mm_storeu_si128(dst + 2, a2);
		_mm_storeu_si128(dst + 3, a3);
		_mm_storeu_si128(dst + 4, a4);
		_mm_storeu_si128(dst + 5, a5);
		_mm_storeu_si128(dst + 6, a6);
		_mm_storeu_si128(dst + 7, a7);
		_mm_storeu_si128(dst + 8, a8);
	}
#else
	memcpy(w.ents, pri_ents[pri], sizeof(pri_ents[pri]));
#endif
	w.stamp[F_SYSLOG_PRIORITY] = w.gen;
	w.first[F_SYSLOG_PRIORITY] = w.last[F_SYSLOG_PRIORITY] = 0;
	w.stamp[F_SYSLOG_FACILITY] = w.gen;
	w.first[F_SYSLOG_FACILITY] = w.last[F_SYSLOG_FACILITY] = 1;
	w.stamp[F_SYSLOG_SEVERITY] = w.gen;
	w.first[F_SYSLOG_SEVERITY] = w.last[F_SYSLOG_SEVERITY] = 2;

	st->have_ts = 1;
	ev->ts_ms = ms;
	ev->has_ts = 1;
	{
		char *tb = arena_alloc_in(&ev->arena, 32);

		n = vgtime_format_fast(ms, tb);
		put(&w, 3, F_TIMESTAMP, &sf_ts, tb, n, V_STR, 0);
	}
	put(&w, 4, F_HOST_HOSTNAME, &sf_host, arena_strdup_in(&ev->arena, h, hl),
	    hl, V_STR, 0);
	i = 5;

	/* the tag: scan_tag's answer for "prog[digits]:", "prog[digits] "
	 * and "prog: " read here, any other shape by scan_tag */
	m = t;
	tn = (size_t)(end - t);
	k = tag_stop(t, 0, tn);
	if (k == 0 || k == tn) {
		k = scan_tag(t, tn, &tg);
	} else if (t[k] == '[') {
		uint64_t v = 0;
		size_t j = k + 1;
		unsigned d;

		/* up to 7 digits and the byte after them in one word */
		if (tn - j >= 8 && (d = digits8(t + j, &v)) < 8) {
			j += d;
		} else {
			v = 0;
			while (j < tn &&
			    (d = (unsigned char)t[j] - (unsigned)'0') <= 9) {
				v = v * 10 + d;
				j++;
			}
		}
		if (j < tn && t[j] == ']' && j - k - 1 >= 1 && j - k - 1 <= 18 &&
		    (j + 1 == tn || t[j + 1] == ':' || t[j + 1] == ' ')) {
			tg.proglen = k;
			tg.pid = t + k + 1;
			tg.pidlen = j - k - 1;
			tg.numeric = 1;
			tg.v = v;
			k = j + 1 < tn && t[j + 1] == ':' ? j + 2 : j + 1;
		} else {
			k = scan_tag(t, tn, &tg);
		}
	} else if (t[k] == ':' && (k + 1 == tn || t[k + 1] == ' ')) {
		tg.proglen = k;
		tg.pid = NULL;
		tg.pidlen = 0;
		tg.numeric = 0;
		k++;
	} else {
		k = scan_tag(t, tn, &tg);
	}
	if (k != 0) {
		put(&w, i++, F_PROCESS_NAME, &sf_prog,
		    arena_strdup_in(&ev->arena, t, tg.proglen), tg.proglen, V_STR, 0);
		if (tg.pidlen == 0) {
			/* "prog[]": no pid */
		} else if (!tg.numeric) {
			put(&w, i++, sf_procid.id, &sf_procid,
			    arena_strdup_in(&ev->arena, tg.pid, tg.pidlen), tg.pidlen,
			    V_STR, 0);
		} else if (tg.v >= 192 && tg.pid[0] != '0') {
			/* the text is what u64_text would write */
			put(&w, i++, F_PROCESS_PID, &sf_pid,
			    arena_strdup_in(&ev->arena, tg.pid, tg.pidlen), tg.pidlen,
			    V_NUM, (double)tg.v);
		} else {
			b = u64_text(ev, tg.v, &n);
			put(&w, i++, F_PROCESS_PID, &sf_pid, b, n, V_NUM, (double)tg.v);
		}
		m = skip_one_space(t + k, end);
	}

	/* emit_message */
	n = (size_t)(end - m);
	if (n >= 3 && (unsigned char)m[0] == 0xEF && (unsigned char)m[1] == 0xBB &&
	    (unsigned char)m[2] == 0xBF) {
		m += 3;
		n -= 3;
	}
	put(&w, i++, F_MESSAGE, &sf_msg, m + n == st->nul_end ? m :
	    arena_strdup_in(&ev->arena, m, n), n, V_STR, 0);
	ev->n = i;
	if (n > 16 && (m[0] == 'l' || m[0] == 'm' || m[0] == '-'))
		check_repeated(st, m, n);
	return 1;
}

static size_t scan_token(const char *s, size_t n)
{
	const char *e = memchr(s, ' ', n);

	return e == NULL ? n : (size_t)(e - s);
}

static void emit_sd_value(struct sl *st, const char *id, size_t idlen,
    const char *name, size_t nlen, const char *v, size_t vlen, int esc)
{
	size_t fl = SD_PREFIX_LEN + idlen + 1 + nlen;
	char sbuf[192], *fn = fl <= sizeof(sbuf) ? sbuf : arena_alloc(&st->ev->arena, fl);

	memcpy(fn, SD_PREFIX, SD_PREFIX_LEN);
	memcpy(fn + SD_PREFIX_LEN, id, idlen);
	fn[SD_PREFIX_LEN + idlen] = '.';
	memcpy(fn + SD_PREFIX_LEN + idlen + 1, name, nlen);
	if (esc) {
		char *u = arena_alloc(&st->ev->arena, vlen);
		size_t ul = 0;

		for (size_t i = 0; i < vlen; i++) {
			if (v[i] == '\\' && i + 1 < vlen &&
			    (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == ']'))
				i++;
			u[ul++] = v[i];
		}
		v = u;
		vlen = ul;
	}
	vg_event_add_named(st->ev, fn, fl, v, vlen, V_STR, 0);
}

static inline int sd_name_char(char c)
{
	return c != ' ' && c != ']' && c != '=' && c != '"';
}

/*
 * RFC 5424 STRUCTURED-DATA at s: one or more [SD-ID PARAM="VALUE" ...].
 * Returns bytes consumed, or 0 when malformed. Fields are emitted only when
 * emit is set, so a malformed block leaves nothing behind.
 */
static size_t scan_sd(struct sl *st, const char *s, size_t n, int emit)
{
	size_t i = 0;

	while (i < n && s[i] == '[') {
		const char *id = s + ++i;
		size_t idlen;

		while (i < n && sd_name_char(s[i]))
			i++;
		if ((idlen = (size_t)(s + i - id)) == 0)
			return 0;
		for (;;) {
			const char *name, *v;
			size_t nlen;
			int esc = 0;

			if (i >= n)
				return 0;
			if (s[i] == ']') {
				i++;
				break;
			}
			if (s[i] != ' ')
				return 0;
			while (i < n && s[i] == ' ')
				i++;
			if (i < n && s[i] == ']')
				continue;
			name = s + i;
			while (i < n && sd_name_char(s[i]))
				i++;
			if ((nlen = (size_t)(s + i - name)) == 0 || i + 1 >= n ||
			    s[i] != '=' || s[i + 1] != '"')
				return 0;
			i += 2;
			v = s + i;
			while (i < n && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < n) {
					esc = 1;
					i++;
				}
				i++;
			}
			if (i >= n)
				return 0;
			if (emit)
				emit_sd_value(st, id, idlen, name, nlen, v,
				    (size_t)(s + i - v), esc);
			i++;
		}
	}
	return i;
}

/*
 * RFC 5424 after the PRI: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
 * PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]. Checks the whole header
 * before emitting anything; returns 0 (nothing emitted) when it is not one.
 */
static int parse_5424(struct sl *st, const char *p, const char *end)
{
	const char *q = p, *tok[4], *sd = NULL, *msg;
	size_t toklen[4], k, sdlen = 0;
	int64_t ms = 0;
	int has_ts = 0;
	uint64_t ver = 0;

	while (q < end && is_digit(*q) && q - p < 3)
		q++;
	if (q == p || *p == '0' || q >= end || *q != ' ')
		return 0;
	parse_uint(p, (size_t)(q - p), &ver);
	q++;
	if (q < end && *q == '-') {
		q++;
	} else {
		if ((k = vgtime_parse_iso(q, (size_t)(end - q), st->tz, &ms)) == 0)
			return 0;
		q += k;
		has_ts = 1;
	}
	for (int f = 0; f < 4; f++) {
		if (q >= end || *q != ' ')
			return 0;
		q++;
		tok[f] = q;
		toklen[f] = scan_token(q, (size_t)(end - q));
		if (toklen[f] == 0)
			return 0;
		q += toklen[f];
	}
	/* lenient: a missing or malformed STRUCTURED-DATA is left in MSG */
	msg = q;
	if (q < end && *q == ' ') {
		q++;
		msg = q;
		if (q < end && *q == '-' && (q + 1 == end || q[1] == ' ')) {
			msg = q + 1;
		} else if (q < end && *q == '[' &&
		    (sdlen = scan_sd(st, q, (size_t)(end - q), 0)) != 0) {
			sd = q;
			msg = q + sdlen;
		}
		msg = skip_one_space(msg, end);
	}

	add_u64(st->ev, &sf_version, ver);
	if (has_ts)
		emit_ts(st, ms);
	if (toklen[0] != 1 || *tok[0] != '-')
		add_copy(st->ev, &sf_host, tok[0], toklen[0]);
	if (toklen[1] != 1 || *tok[1] != '-')
		add_copy(st->ev, &sf_prog, tok[1], toklen[1]);
	if (toklen[2] != 1 || *tok[2] != '-')
		emit_pid(st, tok[2], toklen[2]);
	if (toklen[3] != 1 || *tok[3] != '-')
		add_copy(st->ev, &sf_msgid, tok[3], toklen[3]);
	if (sd != NULL)
		scan_sd(st, sd, sdlen, 1);
	/* rsyslog's SyslogProtocol23Format puts the 3164 text with its own
	 * separating space into MSG ("- -  Failed ..."): one space more is
	 * separator, as in RFC 3164, and the sender's indentation stays */
	if (msg < end && *msg == ' ')
		msg++;
	emit_message(st, msg, (size_t)(end - msg));
	return 1;
}

static enum syslog_format parse(struct vg_event *ev, const char *msg,
    size_t len, const struct syslog_opts *opts, int stable, int fast)
{
	struct sl st;
	const char *p = msg, *q, *end;
	size_t k, full = len;
	int pri = -1;
	int64_t ms;

	if (!atomic_load_explicit(&ids_ready, memory_order_acquire))
		pthread_once(&ids_once, ids_init);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' ||
	    msg[len - 1] == '\0'))
		len--;
	end = msg + len;
	st.ev = ev;
	st.tz = opts != NULL ? opts->tz_offset_min : 0;
	st.ref_ms = opts != NULL ? opts->ref_ms : 0;
	st.have_ts = 0;
	/* trailing bytes trimmed: msg[len] is not the NUL */
	st.nul_end = stable && len == full ? end : NULL;

	if (fast && ev->n == 0 && fast_3164(&st, msg, end))
		return SYSLOG_3164;
	if ((k = scan_pri(p, len, &pri)) != 0) {
		p += k;
		if (pri >= 0)
			vg_event_add_ents(ev, pri_ents[pri], 3);
	}
	if (pri >= 0 && p < end && is_digit(*p)) {
		if (parse_5424(&st, p, end))
			return SYSLOG_5424;
		if ((k = scan_seq(p, (size_t)(end - p))) != 0) {
			emit_seq(&st, p, k);
			cisco_tail(&st, p + k, end, 1);
			return SYSLOG_3164;
		}
	}
	q = p;
	if (pri >= 0 && q < end && (*q == '*' || *q == '.'))
		q++; /* Cisco: clock not authoritative / sync lost */
	if ((k = scan_time(&st, q, (size_t)(end - q), &ms)) == 0) {
		if (pri < 0) {
			emit_message(&st, msg, len);
			return SYSLOG_PLAIN;
		}
		emit_message(&st, p, (size_t)(end - p));
		return SYSLOG_3164;
	}
	emit_ts(&st, ms);
	p = q + k;
	if (p < end && *p == ':') {
		/* Cisco "time: %CODE: text" */
		p = take_code(&st, skip_one_space(p + 1, end), end);
		emit_message(&st, p, (size_t)(end - p));
		return SYSLOG_3164;
	}
	after_time(&st, p, end);
	return SYSLOG_3164;
}

enum syslog_format syslog_parse(struct vg_event *ev, const char *msg, size_t len,
    const struct syslog_opts *opts)
{
	return parse(ev, msg, len, opts, 0, 1);
}

enum syslog_format syslog_parse_stable(struct vg_event *ev, const char *msg,
    size_t len, const struct syslog_opts *opts)
{
	return parse(ev, msg, len, opts, 1, 1);
}

enum syslog_format syslog_parse_general(struct vg_event *ev, const char *msg,
    size_t len, const struct syslog_opts *opts, int stable)
{
	return parse(ev, msg, len, opts, stable, 0);
}
