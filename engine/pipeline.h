/*
 * pipeline.h: one message through the detection path, start to finish, in
 * the calling thread: parse (JSON or syslog) → event time → decode → detect →
 * alerts handed to a callback. A pipeline is per worker (or per replay) and
 * owns its event and scratch contexts; the configuration it reads (decoders,
 * rules, limits) is shared and read-only.
 */
#ifndef VG_PIPELINE_H
#define VG_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "decode.h"
#include "detect.h"
#include "event.h"
#include "jsonin.h"

struct pipeline_conf {
	const struct decode_set *decoders; /* may be NULL */
	const struct ruleset *rules;       /* may be NULL */
	struct detect_live *live;          /* when set, rules come from here and
	                                      a reload is picked up at the next
	                                      message (rules is ignored) */
	struct jsonin_limits json;
	int tz_offset_min;
	int64_t max_skew_ms;  /* daemon: event time further than this from
	                         receipt is replaced by receipt time (0: off) */
	int replay;           /* event time drives everything: year inference
	                         and missing timestamps use the previous event */
	size_t max_message;   /* longer messages are truncated and counted */
};

struct pipeline_stats {
	uint64_t messages;       /* messages processed */
	uint64_t bytes;
	uint64_t parsed_5424, parsed_3164, parsed_json, parsed_plain;
	uint64_t json_rejected;  /* started with '{' but failed; kept as text */
	uint64_t truncated;
	uint64_t no_timestamp;   /* time of receipt / previous event used */
	uint64_t skewed;         /* implausible event time replaced */
	uint64_t decoded;        /* events a decoder matched */
	uint64_t detections;     /* detection alerts */
};

/* Called for each alert; a, its event and everything they point to are
 * valid only during the call. */
typedef void (*pipeline_alert_cb)(void *arg, const struct alert *a);

struct pipeline;

/* Borrows conf (must outlive the pipeline). */
struct pipeline *pipeline_new(const struct pipeline_conf *conf,
    pipeline_alert_cb cb, void *arg);
void pipeline_free(struct pipeline *p);

/*
 * Process one message msg[0..len) (no trailing newline). ingress (input
 * name) and peer (sender address) may be NULL. recv_ms: time of receipt.
 * Returns the event, valid until the next call (for logtest).
 */
struct vg_event *pipeline_process(struct pipeline *p, const char *msg, size_t len,
    const char *ingress, const char *peer, int64_t recv_ms);

/*
 * pipeline_process for a message that stays put, unchanged, as long as the
 * event is used, with msg[len] == '\0' (replay's lines): text that ends
 * where the message ends is referenced instead of copied.
 */
struct vg_event *pipeline_process_stable(struct pipeline *p, const char *msg,
    size_t len, const char *ingress, const char *peer, int64_t recv_ms);

/* Matches of the last processed event (for logtest). */
size_t pipeline_last_matches(const struct pipeline *p,
    const struct rule *const **matches);

const struct pipeline_stats *pipeline_stats(const struct pipeline *p);

/* Generation of the rule set the last message was matched against (0
 * without conf->live); matches and rules stay valid until a message sees a
 * newer one. */
uint64_t pipeline_rules_gen(const struct pipeline *p);

/*
 * Replay state: the event time of the previous event (0: none yet), which
 * a message without a timestamp takes and year inference starts from. A
 * replay that runs chunks of one input in several pipelines hands it from
 * one to the next (see tools/replay.c). Owner thread of p.
 */
int64_t pipeline_last_ts(const struct pipeline *p);
void pipeline_set_last_ts(struct pipeline *p, int64_t ts);
void pipeline_conf_defaults(struct pipeline_conf *c);

#endif
