/*
 * tzif.h: IANA time zones (Europe/Berlin, America/New_York) read from the
 * compiled TZif files under /usr/share/zoneinfo (RFC 8536), for on-call
 * rotations that hand off at a local wall-clock time across daylight saving
 * changes.
 *
 * No TZ environment variable, no localtime(): a loaded zone is an immutable
 * value that any thread may query. Instants past the file's last transition
 * follow the POSIX TZ rule in its footer (`CET-1CEST,M3.5.0,M10.5.0/3`).
 * Leap-second zones (right/...) are refused: vigil counts POSIX seconds.
 */
#ifndef VG_TZIF_H
#define VG_TZIF_H

#include <stddef.h>
#include <stdint.h>

#include "vg.h"

#define TZ_DIR_DEFAULT "/usr/share/zoneinfo"

struct tz;

/*
 * Load zone `name` (an IANA name such as "Europe/Berlin", or "UTC") from
 * folder `dir` (NULL: TZ_DIR_DEFAULT). Names with "..", a leading '/' or
 * characters outside [A-Za-z0-9/_+-] are refused. "UTC" works even when the
 * file is missing. Returns an owned zone, or NULL with err set. Any thread.
 */
struct tz *tz_load(const char *dir, const char *name, struct vg_err *err);
/* Parse TZif bytes (borrowed); `name` is copied. Owned, or NULL with err. */
struct tz *tz_parse(const char *name, const void *buf, size_t len,
    struct vg_err *err);
/* A zone made of a POSIX TZ rule alone ("EST5EDT,M3.2.0,M11.1.0"). */
struct tz *tz_posix(const char *rule, struct vg_err *err);
void tz_free(struct tz *z);
const char *tz_name(const struct tz *z);

/*
 * Offset east of UTC in seconds at UTC instant t (seconds since the epoch);
 * *isdst and *abbr (borrowed, lives as long as z) when not NULL.
 */
int32_t tz_offset(const struct tz *z, int64_t t, int *isdst,
    const char **abbr);

/*
 * The UTC instant of a local wall-clock time, written as seconds since
 * 1970-01-01T00:00 of the local calendar. A time that happens twice (the
 * hour repeated when clocks go back) gives the earlier instant; a time that
 * never happens (skipped when clocks go forward) gives the instant the clocks
 * jumped, so the mapping never goes backwards as local time goes forward.
 */
int64_t tz_to_utc(const struct tz *z, int64_t local);

/* The local wall-clock time of UTC instant t (t + tz_offset(t)). */
static inline int64_t tz_to_local(const struct tz *z, int64_t t)
{
	return t + tz_offset(z, t, NULL, NULL);
}

#endif
