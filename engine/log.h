/*
 * log.h: daemon and tool logging with levels. Lines go to stderr as
 * `vigild[pid]: level: module: text`. log_warn appends strerror(errno),
 * log_warnx does not. log_ratelimited() lets the hot path report hostile
 * input at most once a second per call site.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stdint.h>

#include "vg.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR };

void log_init(const char *progname, enum log_level min);
void log_set_level(enum log_level min);
void log_msg(enum log_level lvl, const char *fmt, ...) VG_PRINTF(2, 3);
void log_debug(const char *fmt, ...) VG_PRINTF(1, 2);
void log_info(const char *fmt, ...) VG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) VG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) VG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) VG_PRINTF(1, 2);
void log_errx(const char *fmt, ...) VG_PRINTF(1, 2);

/* Rate limiter for one call site: returns 1 when a line may be logged now
 * (at most one per second), and counts suppressed ones in *suppressed. */
struct log_rl {
	int64_t last_ms;
	uint64_t suppressed;
};
int log_ratelimited(struct log_rl *rl);

#endif
