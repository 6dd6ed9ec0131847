/*
 * framing.c: the stream framer (see framing.h for the rules).
 *
 * A small state machine that keeps, between feeds, only the state of the
 * frame in progress: the count being read, the bytes still to collect or to
 * skip, and the frame's bytes seen so far. Bytes of the current feed are
 * referenced in place (`start`..p) and copied into f->buf only when the feed
 * ends before the frame does, so frames that lie whole in one feed are never
 * copied. Every byte goes through the same transitions whatever the feed
 * boundaries, which is what makes the output independent of them.
 *
 * It does not parse the messages it frames, and it does no I/O or logging:
 * the listener owns the socket, and counts what the stats report.
 */
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "vg.h"

enum framing_state {
	ST_START,      /* at the first byte of a frame */
	ST_COUNT,      /* reading a possible octet count */
	ST_OCTET,      /* collecting an octet-counted frame's bytes */
	ST_SKIP_OCTET, /* discarding the rest of an oversized octet frame */
	ST_LF,         /* collecting an LF-framed frame's bytes */
	ST_SKIP_LF,    /* discarding the rest of an oversized LF frame */
};

/* The buffer's headroom past max_frame: a count's digits, or a CR. */
#define FRAMING_SLACK 16

struct framing {
	size_t max;
	enum framing_state st;
	unsigned fl;       /* flags of the frame in progress */
	unsigned ndigits;  /* ST_COUNT: digits read */
	uint64_t count;    /* ST_COUNT: their value (10 digits fit) */
	size_t need;       /* ST_OCTET: bytes still to collect */
	uint64_t skip;     /* bytes to discard once the kept part is out */
	char *buf;         /* bytes of the frame in progress from past feeds */
	size_t blen, bcap;
	struct framing_stats stats;
};

struct framing *framing_new(size_t max_frame)
{
	struct framing *f = vg_calloc(1, sizeof(*f));

	if (max_frame == 0)
		max_frame = FRAMING_DEFAULT_MAX;
	if (max_frame > FRAMING_LIMIT_MAX)
		max_frame = FRAMING_LIMIT_MAX;
	f->max = max_frame;
	f->st = ST_START;
	return f;
}

void framing_free(struct framing *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	free(f);
}

size_t framing_pending(const struct framing *f)
{
	return f->blen;
}

size_t framing_max_frame(const struct framing *f)
{
	return f->max;
}

const struct framing_stats *framing_stats(const struct framing *f)
{
	return &f->stats;
}

/* Append n bytes; callers keep blen + n within max + FRAMING_SLACK. */
static void framing_keep(struct framing *f, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (f->blen + n > f->bcap) {
		size_t want = f->blen + n;
		size_t cap = f->bcap ? f->bcap * 2 : 256;

		if (cap > f->max + FRAMING_SLACK)
			cap = f->max + FRAMING_SLACK;
		if (cap < want)
			cap = want;
		f->buf = vg_realloc(f->buf, cap);
		f->bcap = cap;
	}
	memcpy(f->buf + f->blen, p, n);
	f->blen += n;
}

static int framing_deliver(struct framing *f, const char *data, size_t len,
    unsigned flags, framing_cb cb, void *arg)
{
	f->stats.frames++;
	if (flags & FRAMING_OCTET)
		f->stats.octet_frames++;
	else
		f->stats.lf_frames++;
	if (flags & FRAMING_TRUNCATED)
		f->stats.truncated++;
	if (flags & FRAMING_PARTIAL)
		f->stats.partial++;
	if (flags & FRAMING_BADCOUNT)
		f->stats.bad_count++;
	return cb(arg, data, len, flags);
}

/*
 * Deliver the first len bytes of the frame in progress, which are
 * buf[0..blen) followed by start[...] in the caller's buffer. Zero-copy
 * when nothing of the frame came from an earlier feed.
 */
static int framing_emit(struct framing *f, const char *start, size_t len,
    unsigned flags, framing_cb cb, void *arg)
{
	const char *data = start;
	int rc;

	if (f->blen > 0) {
		if (len > f->blen)
			framing_keep(f, start, len - f->blen);
		data = f->buf;
	}
	rc = framing_deliver(f, data, len, flags, cb, arg);
	f->blen = 0;
	return rc;
}

/* The first LF or NUL in [p, end), or NULL. */
static const char *framing_term(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *nul = memchr(p, '\0', (size_t)((lf ? lf : end) - p));

	return nul ? nul : lf;
}

/*
 * ST_LF: find the frame's end in [*pp, end). Without one, the frame stays
 * pending unless it already passed max_frame: then its head goes out
 * truncated and the rest is skipped. max_frame + 1 bytes ending in CR stay
 * pending, since an LF next would make the CR a trailer, not data.
 */
static int framing_lf(struct framing *f, const char **pp, const char **startp,
    const char *end, framing_cb cb, void *arg)
{
	const char *start = *startp, *t;
	size_t len;
	unsigned fl = f->fl;
	int rc = 0;

	if ((t = framing_term(*pp, end)) == NULL) {
		len = f->blen + (size_t)(end - start);
		if (len > f->max + 1 || (len == f->max + 1 && end[-1] != '\r')) {
			rc = framing_emit(f, start, f->max,
			    fl | FRAMING_TRUNCATED, cb, arg);
			f->st = ST_SKIP_LF;
			*startp = end;
		}
		*pp = end;
		return rc;
	}
	len = f->blen + (size_t)(t - start);
	if (*t == '\n' && len > 0 &&
	    (t > start ? t[-1] : f->buf[f->blen - 1]) == '\r')
		len--;
	if (len > f->max) {
		len = f->max;
		fl |= FRAMING_TRUNCATED;
	}
	if (len > 0)
		rc = framing_emit(f, start, len, fl, cb, arg);
	f->blen = 0; /* a blank frame, or the CR left in buf */
	f->st = ST_START;
	*pp = *startp = t + 1;
	return rc;
}

size_t framing_feed(struct framing *f, const char *buf, size_t len,
    framing_cb cb, void *arg)
{
	const char *p = buf, *end = buf + len;
	const char *start = buf; /* this feed's first byte of the frame */
	const char *t;
	unsigned char c;
	size_t n;
	int stop = 0;

	while (p < end && !stop) {
		switch (f->st) {
		case ST_START:
			start = p;
			f->fl = 0;
			if (*p >= '1' && *p <= '9') {
				f->count = 0;
				f->ndigits = 0;
				f->st = ST_COUNT;
			} else {
				f->st = ST_LF;
			}
			break;
		case ST_COUNT:
			/* The digits stay part of the frame until a space
			 * shows they were a count. */
			c = (unsigned char)*p;
			if (c >= '0' && c <= '9') {
				if (f->ndigits == FRAMING_MAX_DIGITS) {
					f->fl |= FRAMING_BADCOUNT;
					f->st = ST_LF;
					break;
				}
				f->count = f->count * 10 + (c - '0');
				f->ndigits++;
				p++;
			} else if (c == ' ') {
				p++;
				start = p;
				f->blen = 0;
				f->fl |= FRAMING_OCTET;
				if (f->count > f->max) {
					f->need = f->max;
					f->skip = f->count - f->max;
					f->fl |= FRAMING_TRUNCATED;
				} else {
					f->need = (size_t)f->count;
					f->skip = 0;
				}
				f->st = ST_OCTET;
			} else {
				f->st = ST_LF;
			}
			break;
		case ST_OCTET:
			n = (size_t)(end - p);
			if (n > f->need)
				n = f->need;
			p += n;
			f->need -= n;
			if (f->need == 0) {
				stop = framing_emit(f, start,
				    f->blen + (size_t)(p - start), f->fl, cb,
				    arg);
				start = p;
				f->st = f->skip ? ST_SKIP_OCTET : ST_START;
			}
			break;
		case ST_SKIP_OCTET:
			n = (size_t)(end - p);
			if (n > f->skip)
				n = (size_t)f->skip;
			p += n;
			f->skip -= n;
			if (f->skip == 0)
				f->st = ST_START;
			break;
		case ST_LF:
			stop = framing_lf(f, &p, &start, end, cb, arg);
			break;
		case ST_SKIP_LF:
			if ((t = framing_term(p, end)) == NULL) {
				p = end;
			} else {
				p = t + 1;
				f->st = ST_START;
			}
			break;
		}
	}
	/* Keep what this feed holds of an unfinished frame. */
	if (f->st == ST_COUNT || f->st == ST_OCTET || f->st == ST_LF)
		framing_keep(f, start, (size_t)(p - start));
	f->stats.bytes += (uint64_t)(p - buf);
	return (size_t)(p - buf);
}

void framing_finish(struct framing *f, framing_cb cb, void *arg)
{
	size_t len = f->blen;
	unsigned fl = f->fl | FRAMING_PARTIAL;

	if ((f->st == ST_COUNT || f->st == ST_OCTET || f->st == ST_LF) &&
	    len > 0) {
		if (len > f->max) {
			len = f->max;
			fl |= FRAMING_TRUNCATED;
		}
		framing_deliver(f, f->buf, len, fl, cb, arg);
	}
	f->st = ST_START;
	f->blen = 0;
	f->fl = 0;
}
