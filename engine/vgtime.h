/*
 * vgtime.h: civil time without the C library's time zone state: UTC
 * conversions, RFC 3339 / ISO 8601 parsing and the alert timestamp format.
 * Pure and thread-safe.
 */
#ifndef VG_VGTIME_H
#define VG_VGTIME_H

#include <stddef.h>
#include <stdint.h>

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

#endif
