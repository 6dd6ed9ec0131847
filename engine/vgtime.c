/*
 * vgtime.c: civil-date arithmetic and ISO 8601 timestamps; see vgtime.h.
 * The day-count conversions are the classic era-based algorithms, valid for
 * every proleptic Gregorian date.
 */
#include "vgtime.h"

#include <stdio.h>

int64_t vgtime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void vgtime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t len, size_t at, size_t n, int *out)
{
	int v = 0;

	if (at + n > len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		v = v * 10 + (s[at + i] - '0');
	}
	*out = v;
	return 0;
}

static int month_days(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

size_t vgtime_parse_iso(const char *s, size_t len, int tz_offset_min, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0, frac_ms = 0, off = tz_offset_min;
	size_t i;

	if (digits(s, len, 0, 4, &y) || len < 16 || s[4] != '-' ||
	    digits(s, len, 5, 2, &mo) || s[7] != '-' || digits(s, len, 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, len, 11, 2, &h) || s[13] != ':' || digits(s, len, 14, 2, &mi))
		return 0;
	i = 16;
	if (i < len && s[i] == ':') {
		if (digits(s, len, 17, 2, &sec))
			return 0;
		i = 19;
		if (i < len && (s[i] == '.' || s[i] == ',')) {
			int scale = 100, any = 0;

			for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
				frac_ms += (s[i] - '0') * scale;
				scale /= 10;
				any = 1;
			}
			if (!any)
				return 0;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int oh, om = 0, sign = s[i] == '-' ? -1 : 1;

		if (digits(s, len, i + 1, 2, &oh))
			return 0;
		i += 3;
		if (i < len && s[i] == ':') {
			if (digits(s, len, i + 1, 2, &om))
				return 0;
			i += 3;
		} else if (digits(s, len, i, 2, &om) == 0) {
			i += 2;
		}
		if (oh > 23 || om > 59)
			return 0;
		off = sign * (oh * 60 + om);
	}
	if (sec == 60)
		sec = 59; /* leap second: clamp */
	*ms = ((vgtime_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec) - (int64_t)off * 60) * 1000 + frac_ms;
	return i;
}

size_t vgtime_format(int64_t ms, char *out)
{
	int64_t days, secs, y;
	unsigned m, d;
	int msec;

	days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	secs = (ms - days * 86400000) / 1000;
	msec = (int)((ms - days * 86400000) % 1000);
	vgtime_civil_from_days(days, &y, &m, &d);
	return (size_t)snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
	    (long long)y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
	    (int)(secs % 60), msec);
}
