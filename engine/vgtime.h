/*
 * vgtime.h: civil time without the C library's time zone state: UTC
 * conversions, RFC 3339 / ISO 8601 parsing and the alert timestamp format.
 * Pure and thread-safe.
 */
#ifndef VG_VGTIME_H
#define VG_VGTIME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t vgtime_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Inverse of vgtime_days_from_civil. */
void vgtime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/*
 * Parse an RFC 3339 / ISO 8601 date-time ("2026-11-23T00:00:05.123Z",
 * "2026-11-23 00:00:05+01:00", "2026-11-23T00:00:05" with no zone) into ms
 * since the epoch. A timestamp with no zone is taken at tz_offset_min minutes
 * east of UTC. Returns the number of bytes consumed (> 0), or 0 if s does not
 * start with such a timestamp.
 */
size_t vgtime_parse_iso(const char *s, size_t len, int tz_offset_min,
    int64_t *ms);

/* Write "YYYY-MM-DDTHH:MM:SS.mmmZ" and a NUL into out (>= 32 bytes);
 * returns the length (24 for years 0..9999). */
size_t vgtime_format(int64_t ms, char *out);

static inline void vgtime_put2(char *o, int v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
}

/*
 * vgtime_format's text without snprintf, for the per-event paths (a
 * syslog line's time, an alert's): times come in runs, so the last text
 * is kept per thread (and per file that uses this) with its time, and the
 * text up to the milliseconds with its second (and the date with its
 * day). Other years go to vgtime_format.
 */
static inline __attribute__((always_inline)) size_t vgtime_format_fast(
    int64_t ms, char *out)
{
	static _Thread_local int64_t cday = -1, csec = -1, cms = -1;
	static _Thread_local char ctext[20]; /* "YYYY-MM-DDTHH:MM:SS." */
	static _Thread_local char cfull[25]; /* the text of cms */
	int64_t days, sec;
	int rem;

	if (ms < 0 || ms >= 253402300800000LL)
		return vgtime_format(ms, out);
	if (ms == cms) {
		memcpy(out, cfull, 25);
		return 24;
	}
	sec = ms / 1000;
	rem = (int)(ms - sec * 1000);
	if (sec != csec) {
		int s = (int)(sec % 86400);

		days = sec / 86400;
		if (days != cday) {
			int64_t y;
			unsigned m, d;

			vgtime_civil_from_days(days, &y, &m, &d);
			vgtime_put2(ctext, (int)(y / 100));
			vgtime_put2(ctext + 2, (int)(y % 100));
			ctext[4] = '-';
			vgtime_put2(ctext + 5, (int)m);
			ctext[7] = '-';
			vgtime_put2(ctext + 8, (int)d);
			ctext[10] = 'T';
			cday = days;
		}
		vgtime_put2(ctext + 11, s / 3600);
		ctext[13] = ':';
		vgtime_put2(ctext + 14, s / 60 % 60);
		ctext[16] = ':';
		vgtime_put2(ctext + 17, s % 60);
		ctext[19] = '.';
		csec = sec;
	}
	memcpy(out, ctext, 20);
	out[20] = (char)('0' + rem / 100);
	vgtime_put2(out + 21, rem % 100);
	out[23] = 'Z';
	out[24] = '\0';
	memcpy(cfull, out, 25);
	cms = ms;
	return 24;
}

#endif
