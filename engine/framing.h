/*
 * framing.h: splits a stream-transport syslog byte stream (TCP, TLS, unix
 * stream) into messages. Pure: bytes in, frames out, no I/O, no logging.
 *
 * The framing is chosen per frame, as rsyslog does: a frame that starts with
 * a digit 1-9, more digits and one space is RFC 6587 octet counting
 * ("<len> <msg>"); anything else is non-transparent framing, where the
 * message ends at LF (a CR just before the LF is dropped) or at a NUL byte.
 * Blank LF frames are skipped. Hostile input is bounded, never fatal:
 *  - a frame longer than max_frame is delivered cut to max_frame bytes with
 *    FRAMING_TRUNCATED, and its remainder is discarded without being buffered
 *    (octet counting: exactly the rest of the count; LF: up to the next LF or
 *    NUL), so a huge count allocates nothing;
 *  - a run of more than FRAMING_MAX_DIGITS digits at the start of a frame is
 *    a bad count: the frame is read as LF-framed text, flagged
 *    FRAMING_BADCOUNT and counted in bad_count;
 *  - digits not followed by a space ("123abc") and counts with a leading zero
 *    ("012 abc") are plain LF-framed text.
 *
 * A frame that lies whole inside the caller's buffer is delivered as a
 * pointer into it (no copy); only the pending tail of a frame is copied into
 * the framer's buffer, which never grows past max_frame + 16 bytes.
 *
 * One framer per connection; a framer is used by one thread at a time.
 */
#ifndef VG_FRAMING_H
#define VG_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define FRAMING_DEFAULT_MAX (64 * 1024)
/* framing_new() clamps max_frame to this, so sizes never overflow. */
#define FRAMING_LIMIT_MAX ((size_t)1 << 30)
/* More digits than this at a frame's start make a bad count. */
#define FRAMING_MAX_DIGITS 10

/* Flags of a delivered frame. */
#define FRAMING_OCTET 0x1     /* octet-counted (else LF-framed) */
#define FRAMING_TRUNCATED 0x2 /* longer than max_frame; cut to max_frame */
#define FRAMING_PARTIAL 0x4   /* connection closed before the frame ended */
#define FRAMING_BADCOUNT 0x8  /* started with an unusable count; LF-framed */

struct framing;

struct framing_stats {
	uint64_t frames;       /* delivered frames: octet_frames + lf_frames */
	uint64_t octet_frames;
	uint64_t lf_frames;
	uint64_t truncated;    /* delivered with FRAMING_TRUNCATED */
	uint64_t partial;      /* delivered with FRAMING_PARTIAL */
	uint64_t bad_count;    /* frames flagged FRAMING_BADCOUNT */
	uint64_t bytes;        /* bytes consumed by framing_feed */
};

/*
 * Called once per frame. data[0..len) is only valid during the call (it may
 * point into the caller's buffer or into the framer's); len is 1..max_frame.
 * Return 0 to go on, non-zero to make framing_feed return right after this
 * frame (backpressure: feed the unconsumed rest later). The callback must
 * not call framing_feed or framing_finish on the same framer.
 */
typedef int (*framing_cb)(void *arg, const char *data, size_t len,
    unsigned flags);

/*
 * New framer for one connection; max_frame 0 means FRAMING_DEFAULT_MAX.
 * Returns an owned framer (free with framing_free). Any thread.
 */
struct framing *framing_new(size_t max_frame);
void framing_free(struct framing *f);

/*
 * Feed buf[0..len) (borrowed) and deliver every frame it completes through
 * cb(arg, ...). Returns the number of bytes consumed: len, unless cb asked
 * to stop, in which case the caller feeds buf + consumed again later. Never
 * fails: the result does not depend on how the stream is cut into feeds.
 */
size_t framing_feed(struct framing *f, const char *buf, size_t len,
    framing_cb cb, void *arg);

/*
 * End of stream (connection closed): deliver the pending incomplete frame,
 * if it holds at least one byte, flagged FRAMING_PARTIAL (plus
 * FRAMING_OCTET for an octet-counted frame whose count was not reached;
 * plus FRAMING_TRUNCATED when it is or would have been cut). Leaves the
 * framer ready for a new stream. cb's return value is ignored.
 */
void framing_finish(struct framing *f, framing_cb cb, void *arg);

/* Bytes of an incomplete frame held in the framer (at most max_frame + 16). */
size_t framing_pending(const struct framing *f);

/* The max_frame in force (after defaulting and clamping). */
size_t framing_max_frame(const struct framing *f);

/* Counters since framing_new; borrowed, valid until framing_free. */
const struct framing_stats *framing_stats(const struct framing *f);

#endif
