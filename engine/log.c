/*
 * log.c: leveled logging to stderr; see log.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "vigil";
static enum log_level min_level = LOG_INFO;

static const char *const names[] = { "debug", "info", "notice", "warning", "error" };

void log_init(const char *progname, enum log_level min)
{
	prog = progname;
	min_level = min;
}

void log_set_level(enum log_level min)
{
	min_level = min;
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap, int err)
    VG_PRINTF(2, 0);

static void vlog(enum log_level lvl, const char *fmt, va_list ap, int err)
{
	char line[2048];
	int n;

	if (lvl < min_level)
		return;
	n = snprintf(line, sizeof(line), "%s[%d]: %s: ", prog, (int)getpid(),
	    names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s\n", line, strerror(err));
	else
		fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap, 0);
	va_end(ap);
}

#define LOGFN(name, lvl, witherr)                       \
	void name(const char *fmt, ...)                 \
	{                                               \
		int e = errno;                          \
		va_list ap;                             \
		va_start(ap, fmt);                      \
		vlog(lvl, fmt, ap, witherr ? e : 0);    \
		va_end(ap);                             \
		errno = e;                              \
	}

LOGFN(log_debug, LOG_DEBUG, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_notice, LOG_NOTICE, 0)
LOGFN(log_warn, LOG_WARNING, 1)
LOGFN(log_warnx, LOG_WARNING, 0)
LOGFN(log_errx, LOG_ERR, 0)

int log_ratelimited(struct log_rl *rl)
{
	int64_t now = vg_mono_ms();

	if (rl->last_ms != 0 && now - rl->last_ms < 1000) {
		rl->suppressed++;
		return 0;
	}
	rl->last_ms = now;
	return 1;
}
