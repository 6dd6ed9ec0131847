/*
 * replay.c: `vigil replay` runs log files (syslog or JSON lines; `-` is
 * stdin) through the pipeline on event time and prints alerts as JSON lines
 * on stdout, a summary on stderr, and a progress bar when stderr is a
 * terminal.
 *
 * Threads. The main thread reads the input into chunks of whole lines
 * (about CHUNK_BYTES each) and hands them to --threads workers. A worker
 * owns a pipeline (parse, decode, detect) and an alert cache, and writes a
 * chunk's alert lines into the chunk's own buffer, ids left blank. The main
 * thread takes chunks back in input order, fills in the ids (UUIDv7 made in
 * output order, so they increase down the output as in a sequential run)
 * and writes each chunk with one write(2). With --threads 1 the main thread
 * does it all, through the same code.
 *
 * Replay time is sequential: a line without a timestamp takes the previous
 * event's time, and a year-less RFC 3164 time takes the year nearest to it.
 * A worker does not know the last event time of the chunk before its own,
 * so it starts from a guess (the last event time of the newest chunk done
 * so far) and records the event time after each line. In order, the main
 * thread compares the guess with the true time; when they differ it runs
 * the chunk's lines again, one by one from the true time, until a line ends
 * on the event time the worker had after it: from there the worker's
 * results are those of a sequential run, since a line's event depends on
 * the state before it only through the event time it gets. A wrong guess
 * costs a line or two (the whole chunk for lines without timestamps, until
 * the guesses catch up).
 *
 * Ordered stage. After the merge the main thread sees every event that
 * matched, in input order (struct hit: its rules and its serialised event,
 * which stays in the chunk until the chunk is written). emit_hit() is where
 * a single-threaded consumer such as correlation runs, before the lines of
 * the chunk are written.
 *
 * Correlation. When the rule set has correlation rules, the main thread
 * feeds a correlator (state in Redis: --redis URL, else a throw-away
 * embedded redis-server) with every matched event in input order. The
 * worker's event is gone by then, so a worker keeps a copy of the fields
 * of each event that some correlation wants (struct cfield, in the chunk)
 * and the main thread rebuilds the event from it. Detections of rules that
 * only feed correlations (Sigma generate: false) are not written.
 * Correlation alerts arrive from Redis asynchronously; they are written
 * after the lines of the chunk that was being emitted, or at the end.
 * Without correlation rules none of this runs and no Redis is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "alert.h"
#include "buf.h"
#include "correlate.h"
#include "log.h"
#include "pipeline.h"
#include "redis.h"
#include "tool.h"

#define REPLAY_MAX_LINE (1u << 20)
#define CHUNK_BYTES (256u << 10) /* input text per chunk: its alert lines
                                    stay in cache until written */
#define MAX_THREADS 256
#define STAGE_FLUSH (1u << 20)   /* small chunk outputs are gathered */

struct span {
	size_t off, len;
};

/* One matched event, for the ordered stage. */
struct hit {
	size_t line;           /* index in the chunk */
	size_t rules, nrules;  /* in chunk.rules; kept for correlation only
	                          (nrules 0 without correlation rules) */
	size_t ngen;           /* detection alerts written for it */
	int64_t ts;            /* its event time */
	size_t cf, ncf;        /* its fields in chunk.cf when correlation
	                          wants it (ncf may be 0: an empty event) */
	int corr;              /* some correlation wants it */
};

/* One field value of a matched event, kept for correlation. */
struct cfield {
	size_t name_at, name_len, s_at, s_len; /* in chunk.cdata */
	uint8_t kind;
	double num;
};

/* What a worker left after each line. */
struct lres {
	int64_t ts;            /* event time after the line */
	size_t out_end;        /* chunk.out.len */
	size_t ids_end, hits_end;
	int decoded;
};

struct chunk {
	struct chunk *qnext;   /* waiting for a worker */
	struct chunk *onext;   /* in input order; free list */
	uint64_t seq;
	int done;              /* worker finished (pool lock) */
	uint64_t bytes_read;   /* for the progress bar */

	char *data;            /* the lines, copied */
	size_t dlen, dcap;
	struct span *lines;
	size_t nlines, lcap;

	int64_t start_ts;      /* event time the worker started from */
	struct lres *res;      /* [nlines] */
	size_t rcap;
	struct buf out;        /* alert lines */
	size_t *ids;           /* offsets in out of the blank ids */
	size_t nids, icap;
	struct hit *hits;
	size_t nhits, hcap;
	const struct rule **rules;
	size_t nrules, rucap;
	struct cfield *cf;     /* fields of the events correlation wants */
	size_t ncf, cfcap;
	struct buf cdata;      /* their names and values */
};

struct worker {
	struct replay *r;
	pthread_t tid;
	struct pipeline *p;
};

struct replay {
	const struct pipeline_conf *pc;
	int nthreads;
	size_t chunk_bytes, chunk_lines, max_inflight;

	/* pool: the queue of chunks for workers */
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct chunk *qhead, *qtail;
	int stop;
	uint64_t hint_seq;
	int64_t hint_ts;       /* last event time of the newest chunk done */
	struct chunk *wait_a, *wait_b; /* the main thread sleeps until these
	                          are done (wait_b may be NULL) */
	int fixed_guess;       /* tests: workers always start from guess_ts */
	int64_t guess_ts;
	struct worker *w;
	const struct corr_set *cs; /* NULL: no correlation rules */

	/* main thread */
	struct chunk *ohead, *otail, *free;
	size_t inflight;
	uint64_t next_seq;
	struct pipeline *p;    /* --threads 1: the pipeline; else re-runs */
	struct alert_cache *cache;
	int64_t state;         /* true event time before the next chunk */
	struct buf stage;
	int werr;              /* write error seen */
	int prealloc;          /* reserving the output file's blocks ahead */
	uint64_t out_pos;      /* bytes written to stdout */
	uint64_t pre_end;      /* blocks reserved up to here */

	/* correlation (cs != NULL) */
	struct event_base *base;
	struct rds_server *srv;
	struct rds *rds;
	struct correlator *corr;
	struct correlate_conf cc;
	struct vg_event *cev;  /* rebuilt from a chunk's struct cfield */
	struct buf corr_out;   /* correlation alert lines not yet written */
	uint64_t corr_alerts;

	uint64_t alerts, lines_done, reruns;
	int64_t decoded_adj;   /* decoded by re-runs minus by the runs replaced */
	int progress;
	uint64_t total_bytes, done_bytes;
	int64_t started, last_draw;
};

static void grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;

	if (need <= *cap)
		return;
	if (*cap == 0)
		*cap = 64;
	while (*cap < need)
		*cap *= 2;
	*p = vg_realloc(*p, *cap * size);
}

static void draw_progress(struct replay *r, int final)
{
	int64_t now = vg_mono_ms();
	double secs = (double)(now - r->started) / 1000.0;
	double rate = secs > 0 ? (double)r->lines_done / secs : 0;

	if (!final && now - r->last_draw < 200)
		return;
	r->last_draw = now;
	if (r->total_bytes > 0) {
		int pct = (int)(100.0 * (double)r->done_bytes / (double)r->total_bytes);
		int bars = pct / 4;

		if (pct > 100)
			pct = 100, bars = 25;
		fprintf(stderr, "\r[%.*s%*s] %3d%% %llu events, %llu alerts, %.0f events/s ",
		    bars, "#########################", 25 - bars, "", pct,
		    (unsigned long long)r->lines_done, (unsigned long long)r->alerts, rate);
	} else {
		fprintf(stderr, "\r%llu events, %llu alerts, %.0f events/s ",
		    (unsigned long long)r->lines_done, (unsigned long long)r->alerts, rate);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- output ---- */

/*
 * Alerts going to a new regular file: its blocks are reserved ahead of the
 * writes (fallocate, size unchanged), which spares the file system the
 * per-page delayed allocation of a growing file, about a third of the
 * system time of writing; at the end the blocks past the end are given
 * back (ftruncate to the size written). Only for a file that was empty
 * when replay started (`> alerts.jsonl`), so the truncation cannot take
 * anyone's lines, and only while the file system supports it.
 */
#define PREALLOC_STEP (16u << 20)

static void prealloc_start(struct replay *r)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == 0 && lseek(STDOUT_FILENO, 0, SEEK_CUR) == 0)
		r->prealloc = 1;
}

static void prealloc_more(struct replay *r, size_t n)
{
	while (r->prealloc && r->out_pos + n > r->pre_end) {
		if (fallocate(STDOUT_FILENO, FALLOC_FL_KEEP_SIZE, (off_t)r->pre_end,
		    PREALLOC_STEP) != 0) {
			r->prealloc = 0; /* not supported, or full: plain writes */
			break;
		}
		r->pre_end += PREALLOC_STEP;
	}
}

static void prealloc_end(struct replay *r)
{
	struct stat st;

	/* to its own size: only the reserved blocks past the end go */
	if (r->pre_end > 0 && fstat(STDOUT_FILENO, &st) == 0)
		(void)ftruncate(STDOUT_FILENO, st.st_size);
	r->prealloc = 0;
}

static void write_all(struct replay *r, const char *p, size_t n)
{
	prealloc_more(r, n);
	r->out_pos += n;
	while (n > 0 && !r->werr) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r->werr = errno;
			fprintf(stderr, "vigil replay: writing alerts: %s\n", strerror(errno));
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void out_flush(struct replay *r)
{
	write_all(r, r->stage.p, r->stage.len);
	buf_clear(&r->stage);
}

/* Big pieces go straight out; small ones are gathered first. */
static void out_put(struct replay *r, const char *p, size_t n)
{
	if (n >= STAGE_FLUSH / 4) {
		out_flush(r);
		write_all(r, p, n);
		return;
	}
	buf_add(&r->stage, p, n);
	if (r->stage.len >= STAGE_FLUSH)
		out_flush(r);
}

/* ---- chunks ---- */

static struct chunk *chunk_get(struct replay *r)
{
	struct chunk *c = r->free;

	if (c != NULL)
		r->free = c->onext;
	else
		c = vg_calloc(1, sizeof(*c));
	c->qnext = c->onext = NULL;
	c->done = 0;
	c->dlen = c->nlines = 0;
	c->bytes_read = 0;
	return c;
}

static void chunk_put(struct replay *r, struct chunk *c)
{
	c->onext = r->free;
	r->free = c;
}

static void chunk_free(struct chunk *c)
{
	free(c->data);
	free(c->lines);
	free(c->res);
	buf_free(&c->out);
	free(c->ids);
	free(c->hits);
	free(c->rules);
	free(c->cf);
	buf_free(&c->cdata);
	free(c);
}

/* One input being read: a partial line carried from chunk to chunk. */
struct rd {
	int fd;
	int eof;
	int skipping;          /* inside the rest of an over-long line */
	struct buf carry;
	uint64_t truncated;
	uint64_t bytes_read;
};

/* Line data[at..at+len), without its newline (nl: one is at at + len):
 * cut to REPLAY_MAX_LINE (counted), a trailing CR dropped, skipped when
 * empty. A NUL goes where the line ends when that byte is its newline, its
 * CR or the part of it cut off, none of which is any line's text: the
 * pipeline may then refer to the line's end instead of copying it. */
static inline void add_line(struct chunk *c, struct rd *d, size_t at,
    size_t len, int nl)
{
	if (len > REPLAY_MAX_LINE) {
		len = REPLAY_MAX_LINE;
		d->truncated++;
	}
	if (len > 0 && c->data[at + len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	if (nl)
		c->data[at + len] = '\0';
	grow(&c->lines, &c->lcap, c->nlines + 1, sizeof(*c->lines));
	c->lines[c->nlines].off = at;
	c->lines[c->nlines++].len = len;
}

/*
 * The newlines of a chunk's data are found 64 bytes at a time (a mask of
 * the block's newline bytes, AVX2 where the CPU has it), and the lines of
 * a block are taken from its mask, instead of a memchr call a line; the
 * last bytes short of a block go to memchr.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

static int nl_avx2;            /* set once in cmd_replay */

static __attribute__((target("avx2"))) uint64_t nl_mask_avx2(const char *p)
{
	__m256i nl = _mm256_set1_epi8('\n');
	uint32_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
	    _mm256_loadu_si256((const __m256i *)(const void *)p), nl));
	uint32_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
	    _mm256_loadu_si256((const __m256i *)(const void *)(p + 32)), nl));

	return (uint64_t)b << 32 | a;
}
#endif

/* Bit j set when p[j] is a newline, j < 64. */
static inline uint64_t nl_mask(const char *p)
{
	uint64_t m = 0;

#if defined(__x86_64__) && defined(__GNUC__)
	if (nl_avx2)
		return nl_mask_avx2(p);
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));

		m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
		    _mm_set1_epi8('\n'))) << (16 * k);
	}
#else
	for (int k = 0; k < 64; k++)
		m |= (uint64_t)(p[k] == '\n') << k;
#endif
	return m;
}

/*
 * The lines of c's data from *cutp that end in a newline, added as
 * add_line does (cut to REPLAY_MAX_LINE, CR dropped, empty ones skipped,
 * a NUL where each ends) until the chunk is full: returns 1 then, else 0
 * when no newline is left; *cutp is after the last newline taken. The
 * bytes up to *seen (when past *cutp) are known to hold no newline, and
 * *seen is the data's end after a return of 0, so a long partial line is
 * not scanned again after each read.
 */
static int split_lines(struct replay *r, struct chunk *c, struct rd *d,
    size_t *cutp, size_t *seen)
{
	char *data = c->data;
	size_t dlen = c->dlen, cut = *cutp, n = c->nlines;
	size_t pos = *seen > cut ? *seen : cut;
	size_t max_lines = r->chunk_lines > 0 ? r->chunk_lines : SIZE_MAX;
	uint64_t trunc = 0;
	int full = 0;

	for (;;) {
		struct span *lines;
		size_t base = pos;
		uint64_t m;

		if (dlen - pos >= 64) {
			m = nl_mask(data + pos);
			pos += 64;
			if (m == 0)
				continue;
		} else {
			const char *nl = pos < dlen ? memchr(data + pos, '\n', dlen - pos) : NULL;

			if (nl == NULL)
				break;
			base = (size_t)(nl - data);
			pos = base + 1;
			m = 1;
		}
		grow(&c->lines, &c->lcap, n + 64, sizeof(*c->lines));
		lines = c->lines;
		do {
			size_t nl = base + (size_t)__builtin_ctzll(m), len = nl - cut;

			m &= m - 1;
			if (len > REPLAY_MAX_LINE) {
				len = REPLAY_MAX_LINE;
				trunc++;
			}
			if (len > 0 && data[cut + len - 1] == '\r')
				len--;
			if (len > 0) {
				data[cut + len] = '\0';
				lines[n].off = cut;
				lines[n++].len = len;
			}
			cut = nl + 1;
			if (cut >= r->chunk_bytes || n >= max_lines) {
				full = 1;
				goto out;
			}
		} while (m != 0);
	}
out:
	c->nlines = n;
	d->truncated += trunc;
	*cutp = cut;
	*seen = dlen;
	return full;
}

/*
 * Fill c with the next lines of d: about chunk_bytes of text, or
 * chunk_lines lines when set. Big reads straight into the chunk; the
 * lines are split here (split_lines) so that the workers get them ready, and
 * with the same rules as lines_next: a line longer than REPLAY_MAX_LINE
 * keeps its first REPLAY_MAX_LINE bytes and the rest is skipped up to the
 * newline. Returns 1 while there may be more, 0 at the end of the input,
 * -1 on a read error (errno); the lines before the end or the error are
 * in c either way.
 */
static int chunk_fill(struct replay *r, struct chunk *c, struct rd *d)
{
	size_t cut = 0; /* data[0..cut) is whole lines */
	size_t seen = 0; /* data[cut..seen) has no newline */
	uint64_t before = d->bytes_read;
	int rc = 1;

	grow(&c->data, &c->dcap, d->carry.len + 1, 1);
	if (d->carry.len > 0)
		memcpy(c->data, d->carry.p, d->carry.len);
	c->dlen = d->carry.len;
	buf_clear(&d->carry);
	for (;;) {
		size_t want;
		ssize_t n;

		if (split_lines(r, c, d, &cut, &seen))
			goto full;
		if (c->dlen - cut > REPLAY_MAX_LINE) {
			/* no newline within reach: cut the line here */
			add_line(c, d, cut, c->dlen - cut, 0);
			c->dlen = seen = cut = cut + REPLAY_MAX_LINE;
			d->skipping = 1;
			if (cut >= r->chunk_bytes ||
			    (r->chunk_lines > 0 && c->nlines >= r->chunk_lines))
				goto full;
		}
		if (d->eof) {
			if (cut < c->dlen)
				add_line(c, d, cut, c->dlen - cut, 0);
			cut = c->dlen;
			rc = 0;
			goto full;
		}
		if (c->dlen >= r->chunk_bytes && cut > 0)
			goto full; /* the partial line goes to the next chunk */
		/* read what the chunk still wants, so little is carried over */
		want = r->chunk_lines > 0 ? 4096 : r->chunk_bytes - c->dlen;
		if (want < 4096 || c->dlen >= r->chunk_bytes)
			want = 4096;
		grow(&c->data, &c->dcap, c->dlen + want, 1);
		do
			n = read(d->fd, c->data + c->dlen, want);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			rc = -1;
			goto full;
		}
		if (n == 0) {
			d->eof = 1;
			continue;
		}
		d->bytes_read += (uint64_t)n;
		if (d->skipping) {
			char *from = c->data + c->dlen;
			char *nl = memchr(from, '\n', (size_t)n);

			if (nl == NULL)
				continue;
			n = from + n - (nl + 1);
			memmove(from, nl + 1, (size_t)n);
			d->skipping = 0;
		}
		c->dlen += (size_t)n;
	}
full:
	/* the partial line after cut starts the next chunk */
	if (rc != 0)
		buf_add(&d->carry, c->data + cut, c->dlen - cut);
	c->dlen = cut;
	c->bytes_read = d->bytes_read - before;
	return rc;
}

/*
 * The rules of m[0..n) whose detections are written (all of them without
 * correlation rules) into gen[0..), and whether some correlation wants
 * one of them.
 */
static size_t generating(const struct corr_set *cs,
    const struct rule *const *m, size_t n, const struct rule **gen, int *want)
{
	size_t k = 0;

	*want = 0;
	for (size_t i = 0; i < n; i++) {
		if (cs == NULL || correlate_rule_generates(cs, m[i]))
			gen[k++] = m[i];
		if (cs != NULL && correlate_wants(cs, m[i]))
			*want = 1;
	}
	return k;
}

/* Keep ev's fields in c for the correlation stage. */
static void keep_fields(struct chunk *c, struct hit *h, const struct vg_event *ev)
{
	h->cf = c->ncf;
	h->ncf = 0;
	grow(&c->cf, &c->cfcap, c->ncf + ev->n, sizeof(*c->cf));
	for (uint32_t i = 0; i < ev->n; i++) {
		const struct fent *e = &ev->ents[i];
		struct cfield *f;

		if (e->dead)
			continue;
		f = &c->cf[c->ncf++];
		f->name_at = c->cdata.len;
		f->name_len = e->name_len;
		buf_add(&c->cdata, e->name, e->name_len);
		f->s_at = c->cdata.len;
		f->s_len = e->v.len;
		buf_add(&c->cdata, e->v.s, e->v.len);
		f->kind = e->v.kind;
		f->num = e->v.num;
		h->ncf++;
	}
}

/* The alert lines of one matched event, ids left blank. */
static void chunk_hit(struct chunk *c, struct alert_cache *ac,
    const struct corr_set *cs, const struct vg_event *ev,
    const struct rule *const *m, size_t n, size_t line)
{
	struct hit *h;
	size_t ngen;
	int want;

	grow(&c->ids, &c->icap, c->nids + n, sizeof(*c->ids));
	grow(&c->hits, &c->hcap, c->nhits + 1, sizeof(*c->hits));
	h = &c->hits[c->nhits++];
	h->line = line;
	h->ts = ev->ts_ms;
	h->ncf = 0;
	if (cs == NULL) {
		/* every rule's detection is written, and no one wants the
		 * rules after that */
		h->rules = h->nrules = 0;
		h->ngen = n;
		h->corr = 0;
		alert_detections_json(ac, &c->out, ev, ev->ts_ms, m, n,
		    c->ids + c->nids, NULL, NULL);
		c->nids += n;
		return;
	}
	grow(&c->rules, &c->rucap, c->nrules + 2 * n, sizeof(*c->rules));
	h->rules = c->nrules;
	h->nrules = n;
	memcpy(c->rules + c->nrules, m, n * sizeof(*m));
	c->nrules += n;
	/* the generating rules go after, as scratch for alert_detections_json */
	ngen = generating(cs, m, n, c->rules + c->nrules, &want);
	h->ngen = ngen;
	h->corr = want;
	if (ngen > 0)
		alert_detections_json(ac, &c->out, ev, ev->ts_ms, c->rules + c->nrules,
		    ngen, c->ids + c->nids, NULL, NULL);
	c->nids += ngen;
	if (want)
		keep_fields(c, h, ev);
}

/* Line i of c through p; the chunk keeps its lines until it is written,
 * after every use of their events. */
static struct vg_event *run_line(struct pipeline *p, const struct chunk *c,
    size_t i, int64_t recv)
{
	size_t off = c->lines[i].off, len = c->lines[i].len;

	if (off + len < c->dlen && c->data[off + len] == '\0')
		return pipeline_process_stable(p, c->data + off, len, NULL, NULL, recv);
	return pipeline_process(p, c->data + off, len, NULL, NULL, recv);
}

/* A worker's run of chunk c, starting from event time start_ts. */
static void chunk_run(struct chunk *c, struct pipeline *p,
    struct alert_cache *ac, const struct corr_set *cs, int64_t start_ts)
{
	const struct pipeline_stats *st = pipeline_stats(p);
	int64_t recv = vg_now_ms();

	c->start_ts = start_ts;
	buf_clear(&c->out);
	c->nids = c->nhits = c->nrules = c->ncf = 0;
	buf_clear(&c->cdata);
	grow(&c->res, &c->rcap, c->nlines, sizeof(*c->res));
	pipeline_set_last_ts(p, start_ts);
	for (size_t i = 0; i < c->nlines; i++) {
		uint64_t dec = st->decoded;
		const struct rule *const *m;
		struct vg_event *ev = run_line(p, c, i, recv);
		size_t n = pipeline_last_matches(p, &m);
		struct lres *lr = &c->res[i];

		if (n > 0)
			chunk_hit(c, ac, cs, ev, m, n, i);
		lr->ts = pipeline_last_ts(p);
		lr->out_end = c->out.len;
		lr->ids_end = c->nids;
		lr->hits_end = c->nhits;
		lr->decoded = st->decoded != dec;
	}
}

static int64_t chunk_end_ts(const struct chunk *c)
{
	return c->nlines > 0 ? c->res[c->nlines - 1].ts : c->start_ts;
}

/* ---- the ordered stage ---- */

/*
 * One matched event, in input order, in the main thread: the rules it
 * matched, how many detection alerts were written for it, and the event
 * when some correlation wants it (else NULL).
 */
static void emit_hit(struct replay *r, const struct rule *const *rules,
    size_t nrules, size_t ngen, const struct vg_event *ev, int64_t ts)
{
	r->alerts += ngen;
	if (ev != NULL && r->corr != NULL)
		correlate_event(r->corr, ev, ts, rules, nrules);
}

/* The event of h, rebuilt from the fields its worker kept. */
static const struct vg_event *hit_event(struct replay *r, const struct chunk *c,
    const struct hit *h)
{
	struct vg_event *ev = r->cev;

	vg_event_reset(ev);
	for (size_t i = h->cf; i < h->cf + h->ncf; i++) {
		const struct cfield *f = &c->cf[i];

		vg_event_add_named(ev, c->cdata.p + f->name_at, f->name_len,
		    c->cdata.p + f->s_at, f->s_len, (enum value_kind)f->kind, f->num);
	}
	ev->ts_ms = h->ts;
	ev->has_ts = 1;
	return ev;
}

/* A correlation alert, from the loop: kept until the current chunk is
 * written. */
static void on_corr_alert(void *arg, const struct correlate_alert *ca)
{
	struct replay *r = arg;

	alert_to_json(&r->corr_out, &ca->a);
	r->alerts++;
	r->corr_alerts++;
}

static void corr_flush(struct replay *r)
{
	if (r->corr_out.len == 0)
		return;
	out_put(r, r->corr_out.p, r->corr_out.len);
	buf_clear(&r->corr_out);
}

/*
 * Run c's lines again in the main thread from the true event time, until
 * one ends on the worker's event time. Writes what it ran; returns how many
 * lines it took.
 */
static size_t chunk_rerun(struct replay *r, struct chunk *c)
{
	const struct pipeline_stats *st = pipeline_stats(r->p);
	struct buf *fix = &r->stage;
	int64_t recv = vg_now_ms();
	size_t i = 0;

	pipeline_set_last_ts(r->p, r->state);
	while (i < c->nlines) {
		uint64_t dec = st->decoded;
		const struct rule *const *m;
		struct vg_event *ev = run_line(r->p, c, i, recv);
		size_t n = pipeline_last_matches(r->p, &m);

		if (n > 0) {
			const struct rule **gen = vg_malloc(n * sizeof(*gen));
			size_t ngen;
			int want;

			ngen = generating(r->cs, m, n, gen, &want);
			if (ngen > 0)
				alert_detections_json(r->cache, fix, ev, ev->ts_ms, gen, ngen,
				    NULL, NULL, NULL);
			free(gen);
			emit_hit(r, m, n, ngen, want ? ev : NULL, ev->ts_ms);
		}
		r->decoded_adj += (st->decoded != dec) - c->res[i].decoded;
		r->reruns++;
		r->state = pipeline_last_ts(r->p);
		if (r->state == c->res[i++].ts)
			break;
		if (fix->len >= STAGE_FLUSH)
			out_flush(r);
	}
	return i;
}

/* Chunk c, done, in input order: check its start, ids, ordered stage,
 * write. */
static void chunk_emit(struct replay *r, struct chunk *c)
{
	size_t from = 0, out_at = 0, ids_at = 0, hits_at = 0;

	if (c->start_ts != r->state && c->nlines > 0)
		from = chunk_rerun(r, c);
	if (from > 0) {
		out_at = c->res[from - 1].out_end;
		ids_at = c->res[from - 1].ids_end;
		hits_at = c->res[from - 1].hits_end;
	}
	if (from < c->nlines)
		r->state = chunk_end_ts(c);
	for (size_t k = hits_at; k < c->nhits; k++) {
		const struct hit *h = &c->hits[k];

		emit_hit(r, h->nrules > 0 ? c->rules + h->rules : NULL, h->nrules,
		    h->ngen, h->corr && r->corr != NULL ? hit_event(r, c, h) : NULL,
		    h->ts);
	}
	if (r->corr != NULL)
		correlate_advance(r->corr, r->state);
	alert_fill_ids(c->out.p, c->ids + ids_at, c->nids - ids_at);
	out_put(r, c->out.p + out_at, c->out.len - out_at);
	corr_flush(r);
	r->lines_done += c->nlines;
	r->done_bytes += c->bytes_read;
	if (r->progress)
		draw_progress(r, 0);
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct replay *r = w->r;
	struct alert_cache *ac = alert_cache_new();

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct chunk *c;
		int64_t guess;

		while (r->qhead == NULL && !r->stop)
			pthread_cond_wait(&r->work, &r->mu);
		if ((c = r->qhead) == NULL)
			break;
		if ((r->qhead = c->qnext) == NULL)
			r->qtail = NULL;
		guess = r->fixed_guess ? r->guess_ts : r->hint_ts;
		pthread_mutex_unlock(&r->mu);

		chunk_run(c, w->p, ac, r->cs, guess);

		pthread_mutex_lock(&r->mu);
		c->done = 1;
		if (c->seq >= r->hint_seq) {
			r->hint_seq = c->seq;
			r->hint_ts = chunk_end_ts(c);
		}
		/* only the main thread waits, and only for what it named */
		if (r->wait_a != NULL && r->wait_a->done &&
		    (r->wait_b == NULL || r->wait_b->done))
			pthread_cond_signal(&r->done);
	}
	pthread_mutex_unlock(&r->mu);
	alert_cache_free(ac);
	return NULL;
}

/*
 * Emit the oldest chunk in flight, waiting for its worker. When it is not
 * done, the main thread sleeps until the chunk after it is done too (the
 * workers run in parallel, so it usually is soon after) and then emits
 * both: one sleep and one wake-up for two chunks.
 */
static void emit_oldest(struct replay *r)
{
	struct chunk *c = r->ohead;

	pthread_mutex_lock(&r->mu);
	if (!c->done) {
		r->wait_a = c;
		r->wait_b = c->onext;
		while (!c->done || (r->wait_b != NULL && !r->wait_b->done))
			pthread_cond_wait(&r->done, &r->mu);
		r->wait_a = r->wait_b = NULL;
	}
	pthread_mutex_unlock(&r->mu);
	if ((r->ohead = c->onext) == NULL)
		r->otail = NULL;
	r->inflight--;
	chunk_emit(r, c);
	chunk_put(r, c);
}

static int oldest_done(struct replay *r)
{
	int done;

	pthread_mutex_lock(&r->mu);
	done = r->ohead->done;
	pthread_mutex_unlock(&r->mu);
	return done;
}

static void dispatch(struct replay *r, struct chunk *c)
{
	c->seq = r->next_seq++;
	if (r->nthreads <= 1) {
		chunk_run(c, r->p, r->cache, r->cs, r->state);
		chunk_emit(r, c);
		chunk_put(r, c);
		return;
	}
	if (r->otail != NULL)
		r->otail->onext = c;
	else
		r->ohead = c;
	r->otail = c;
	r->inflight++;
	pthread_mutex_lock(&r->mu);
	if (r->qtail != NULL)
		r->qtail->qnext = c;
	else
		r->qhead = c;
	r->qtail = c;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->mu);
	while (r->ohead != NULL && (r->inflight >= r->max_inflight || oldest_done(r)))
		emit_oldest(r);
}

static int replay_fd(struct replay *r, int fd, const char *name)
{
	struct rd d;
	int rc, e = 0;

	memset(&d, 0, sizeof(d));
	d.fd = fd;
	do {
		struct chunk *c = chunk_get(r);

		rc = chunk_fill(r, c, &d);
		if (rc < 0)
			e = errno;
		if (c->nlines == 0) {
			r->done_bytes += c->bytes_read;
			chunk_put(r, c);
		} else {
			dispatch(r, c);
		}
	} while (rc > 0 && !r->werr);
	if (d.truncated > 0)
		fprintf(stderr, "vigil replay: %s: %llu lines longer than %u bytes truncated\n",
		    name, (unsigned long long)d.truncated, REPLAY_MAX_LINE);
	if (rc < 0)
		fprintf(stderr, "vigil replay: %s: read error: %s\n", name, strerror(e));
	buf_free(&d.carry);
	return rc < 0 ? -1 : 0;
}

/* The correlator, on Redis at url, else on a throw-away embedded server. */
static int corr_start(struct replay *r, const struct corr_set *cs,
    const char *url)
{
	struct rds_conf rc = { 0 };
	struct vg_err e = { 0 };

	r->cs = cs;
	/* the Redis client's connection notices are not replay's business;
	 * warnings (Redis lost) still show */
	log_set_level(LOG_WARNING);
	if (url == NULL) {
		struct rds_server_conf sc = { 0 };

		if ((r->srv = rds_server_start(&sc, &e)) == NULL) {
			fprintf(stderr, "vigil replay: correlation needs Redis: %s\n", e.msg);
			return -1;
		}
		url = rds_server_url(r->srv);
	}
	if ((r->base = event_base_new()) == NULL) {
		fprintf(stderr, "vigil replay: cannot make an event loop\n");
		return -1;
	}
	rc.url = url;
	rc.name = "correlate";
	if ((r->rds = rds_new(r->base, &rc, &e)) == NULL) {
		fprintf(stderr, "vigil replay: redis: %s\n", e.msg);
		return -1;
	}
	r->cc.lateness_ms = -1;
	r->cc.replay = 1;
	r->corr = correlate_new(cs, r->rds, &r->cc, on_corr_alert, r);
	r->cev = vg_event_new();
	return 0;
}

static void corr_stop(struct replay *r)
{
	rds_free(r->rds);
	correlate_free(r->corr);
	rds_server_stop(r->srv);
	if (r->base != NULL)
		event_base_free(r->base);
	if (r->cev != NULL)
		vg_event_free(r->cev);
	buf_free(&r->corr_out);
}

static void usage(void)
{
	fprintf(stderr, "usage: vigil replay [-c FILE] [--rules PATH]... "
	    "[--parsers PATH]... [--redis URL]\n"
	    "                    [--threads N] [--chunk-lines N] [-q] FILE...\n"
	    "  --threads N      worker threads (default: one per core; 1 runs\n"
	    "                   everything in one thread); the output is the same\n"
	    "  --chunk-lines N  lines per unit of work (default: about 256 KiB of\n"
	    "                   input); small values are for tests\n"
	    "  -q, --quiet      no summary or progress on stderr\n");
}

static long parse_count(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'r' },
		{ "parsers", required_argument, NULL, 'p' },
		{ "redis", required_argument, NULL, 'R' },
		{ "threads", required_argument, NULL, 't' },
		{ "chunk-lines", required_argument, NULL, 'L' },
		/* tests: every worker starts its chunks from this event time
		 * (ms), so that the re-run path runs on purpose */
		{ "test-guess", required_argument, NULL, 'G' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *redis_url = NULL;
	struct corr_set *cs = NULL;
	char **rules = vg_calloc((size_t)argc, sizeof(char *));
	char **parsers = vg_calloc((size_t)argc, sizeof(char *));
	size_t nrules = 0, nparsers = 0;
	struct tool_env env;
	struct pipeline_conf pc;
	struct replay r;
	int c, status = 0, quiet = 0, started = 0;
	long threads = 0, chunk_lines = 0;
	uint64_t messages = 0, decoded = 0;
	double secs;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:q", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': rules[nrules++] = optarg; break;
		case 'p': parsers[nparsers++] = optarg; break;
		case 'R': redis_url = optarg; break;
		case 't':
			if ((threads = parse_count(optarg, 0, MAX_THREADS)) < 0) {
				fprintf(stderr, "vigil replay: --threads: a number from 0 "
				    "(one per core) to %d\n", MAX_THREADS);
				status = 2;
				goto done;
			}
			break;
		case 'L':
			if ((chunk_lines = parse_count(optarg, 1, 1L << 30)) < 0) {
				fprintf(stderr, "vigil replay: --chunk-lines: a number from 1\n");
				status = 2;
				goto done;
			}
			break;
		case 'G':
			r.fixed_guess = 1;
			r.guess_ts = strtoll(optarg, NULL, 10);
			break;
		case 'q': quiet = 1; break;
		default:
			usage();
			status = 2;
			goto done;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigil replay: no input files (use - for stdin)\n");
		status = 2;
		goto done;
	}
	if (tool_load(&env, config, parsers, nparsers, rules, nrules, 0) < 0) {
		status = 1;
		goto done;
	}
	{
		struct vg_diag diag;
		struct correlate_load_stats cst = { 0 };

		vg_diag_init(&diag, quiet ? NULL : stderr);
		cs = correlate_load(env.rules, &diag, &cst);
		if (correlate_rule_count(cs) > 0 &&
		    corr_start(&r, cs, redis_url) < 0) {
			status = 1;
			goto unload;
		}
	}
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
	}
	pipeline_conf_defaults(&pc);
	pc.decoders = env.dec;
	pc.rules = env.rules;
	pc.replay = 1;
	pc.tz_offset_min = env.cfg->tz_offset_min;
	pc.max_message = REPLAY_MAX_LINE;

	r.pc = &pc;
	r.nthreads = (int)threads;
	r.chunk_bytes = CHUNK_BYTES;
	r.chunk_lines = (size_t)chunk_lines;
	r.max_inflight = 2 * (size_t)threads + 2;
	r.p = pipeline_new(&pc, NULL, NULL);
	r.cache = alert_cache_new();
#if defined(__x86_64__) && defined(__GNUC__)
	nl_avx2 = __builtin_cpu_supports("avx2");
#endif
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.work, NULL);
	pthread_cond_init(&r.done, NULL);
	if (r.nthreads > 1) {
		r.w = vg_calloc((size_t)r.nthreads, sizeof(*r.w));
		for (int i = 0; i < r.nthreads; i++) {
			r.w[i].r = &r;
			r.w[i].p = pipeline_new(&pc, NULL, NULL);
			if (pthread_create(&r.w[i].tid, NULL, worker_main, &r.w[i]) != 0) {
				fprintf(stderr, "vigil replay: cannot start a thread: %s\n",
				    strerror(errno));
				pipeline_free(r.w[i].p);
				r.w[i].p = NULL;
				break;
			}
			started++;
		}
		if (started == 0)
			r.nthreads = 1; /* no threads: run in this one */
	}

	r.progress = !quiet && isatty(STDERR_FILENO);
	for (int i = optind; i < argc; i++) {
		struct stat sb;

		if (strcmp(argv[i], "-") != 0 && stat(argv[i], &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			r.total_bytes += (uint64_t)sb.st_size;
	}
	prealloc_start(&r);
	r.started = r.last_draw = vg_mono_ms();
	for (int i = optind; i < argc && !r.werr; i++) {
		int fd = STDIN_FILENO;

		if (strcmp(argv[i], "-") != 0 &&
		    (fd = open(argv[i], O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "vigil replay: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (replay_fd(&r, fd, argv[i]) < 0)
			status = 1;
		if (fd != STDIN_FILENO)
			close(fd);
	}
	while (r.ohead != NULL)
		emit_oldest(&r);
	if (r.corr != NULL) {
		if (correlate_finish(r.corr, 0, 120000) < 0) {
			fprintf(stderr, "vigil replay: correlation: Redis did not answer "
			    "every update\n");
			status = 1;
		}
		corr_flush(&r);
	}
	out_flush(&r);
	prealloc_end(&r);
	if (r.werr)
		status = 1;

	pthread_mutex_lock(&r.mu);
	r.stop = 1;
	pthread_cond_broadcast(&r.work);
	pthread_mutex_unlock(&r.mu);
	for (int i = 0; i < started; i++)
		pthread_join(r.w[i].tid, NULL);

	/* every line ran once in a worker (or here with --threads 1); re-runs
	 * replaced some results */
	if (started == 0) {
		messages = pipeline_stats(r.p)->messages;
		decoded = pipeline_stats(r.p)->decoded;
	}
	for (int i = 0; i < started; i++) {
		messages += pipeline_stats(r.w[i].p)->messages;
		decoded += pipeline_stats(r.w[i].p)->decoded;
	}
	decoded += (uint64_t)r.decoded_adj;
	if (r.progress)
		draw_progress(&r, 1);
	secs = (double)(vg_mono_ms() - r.started) / 1000.0;
	if (!quiet)
		fprintf(stderr, "replay: %llu events, %llu decoded, %llu alerts in %.3f s "
		    "(%.0f events/s); %llu rules, %zu decoders\n",
		    (unsigned long long)messages, (unsigned long long)decoded,
		    (unsigned long long)r.alerts, secs,
		    secs > 0 ? (double)messages / secs : 0.0,
		    (unsigned long long)detect_rule_count(env.rules), decode_count(env.dec));
	if (!quiet && r.corr != NULL)
		fprintf(stderr, "replay: %llu correlation alerts from %zu correlation "
		    "rules\n", (unsigned long long)r.corr_alerts,
		    correlate_rule_count(cs));
	/* about one line per chunk is normal; say it when it costs */
	if (!quiet && r.reruns > 0 && (r.fixed_guess || r.reruns * 100 > messages))
		fprintf(stderr, "replay: %llu lines ran again for the event time of the "
		    "chunk before\n", (unsigned long long)r.reruns);

	for (int i = 0; i < r.nthreads && r.w != NULL; i++)
		pipeline_free(r.w[i].p);
	free(r.w);
	while (r.free != NULL) {
		struct chunk *ch = r.free;

		r.free = ch->onext;
		chunk_free(ch);
	}
	pthread_cond_destroy(&r.work);
	pthread_cond_destroy(&r.done);
	pthread_mutex_destroy(&r.mu);
	pipeline_free(r.p);
	alert_cache_free(r.cache);
	buf_free(&r.stage);
unload:
	corr_stop(&r);
	correlate_set_free(cs);
	tool_env_free(&env);
done:
	free(rules);
	free(parsers);
	return status;
}
