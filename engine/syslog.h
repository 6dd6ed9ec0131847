/*
 * syslog.h: syslog message parsing (RFC 5424, RFC 3164 and the variants real
 * devices send). Pure: bytes in, fields out; no I/O, no allocation outside
 * the event's arena. Never rejects a message: text that matches no known
 * header becomes an event whose `message` is the whole text.
 */
#ifndef VG_SYSLOG_H
#define VG_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum syslog_format {
	SYSLOG_PLAIN = 0, /* no recognisable header: message only */
	SYSLOG_3164,
	SYSLOG_5424,
};

struct syslog_opts {
	int tz_offset_min; /* minutes east of UTC for zone-less timestamps */
	int64_t ref_ms;    /* reference time for year inference: receipt time,
	                      or in replay the previous event's time (0: now) */
};

/*
 * Parse msg[0..len) (without trailing newline) into ev: the header fields of
 * ARCHITECTURE.md (@timestamp, host.hostname, process.name, process.pid,
 * log.syslog.*, message) and ev->ts_ms/has_ts when a timestamp was found.
 * Borrows msg (copies what it keeps into ev's arena). Any thread.
 */
enum syslog_format syslog_parse(struct vg_event *ev, const char *msg, size_t len,
    const struct syslog_opts *opts);
/* The same for a message that stays put, unchanged, as long as the event is
 * used, with msg[len] == '\0': the message, which ends where msg ends, is
 * referenced instead of copied. */
enum syslog_format syslog_parse_stable(struct vg_event *ev, const char *msg,
    size_t len, const struct syslog_opts *opts);
/* syslog_parse (stable 0) or syslog_parse_stable (1) without the fast path
 * for the common RFC 3164 shape: the same event, by the general scanner
 * alone. For tests that check the two agree. */
enum syslog_format syslog_parse_general(struct vg_event *ev, const char *msg,
    size_t len, const struct syslog_opts *opts, int stable);

#endif
