#!/usr/bin/env bash
# test_response_steps.sh: playbook steps, grouping timers and silences with
# the real vigild. Events come in through POST /api/v1/events (an
# application reporting them), fire two rules of the test's own, and the
# playbooks act on them.
#
#  - containment: a Redis blocklist entry with its TTL, an exec step whose
#    arguments are hostile field values (`$(touch /tmp/pwned); rm -rf /`,
#    `; id`), each reaching the program as one literal argument, with the
#    alert JSON on stdin and the output in the timeline; an approve step
#    decided through POST /api/v1/approvals/{id} (403 outside the group,
#    409 when decided twice), then the unblock and a page; a denial fails
#    the run; a protected address is never blocked nor handed to the
#    program;
#  - grouping timers: a burst is one page; later alerts one update page
#    after group_interval; a reminder after repeat_interval while nobody
#    acknowledged; none after the acknowledgement;
#  - silences on rules, levels, tags and fields together (all must hold;
#    each one that does not hold lets the alert through); author, comment
#    and an end are required.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

start_receiver http
HP=$(cat "$T/http.port")
mkdir -p "$T/rules" "$T/pb" "$T/bin"
cat > "$T/rules/steps.yml" <<'EOF'
title: Test containment needed
id: 7a7e0000-0000-4000-8000-000000000001
status: test
tags: [attack.t1110]
logsource: {product: linux}
detection:
  selection: {event.action: test_contain}
  condition: selection
level: high
---
title: Test tell the on-call
id: 7a7e0000-0000-4000-8000-000000000002
status: test
tags: [attack.t9999]
logsource: {product: linux}
detection:
  selection: {event.action: test_tell}
  condition: selection
level: high
EOF
cat > "$T/pb/steps.yml" <<'EOF'
name: contain
match: {rules: [7a7e0000-0000-4000-8000-000000000001]}
group_by: [source.ip]
steps:
  - id: block
    redis: {blocklist: ssh, add: "{{source.ip}}", ttl: 1h}
    on_failure: run
  - id: run
    exec: [record, "{{user.name}}", "{{host.hostname}}", "{{source.ip}}"]
  - id: ask
    approve: {group: leads, summary: "unblock {{source.ip}}?"}
  - id: unblock
    redis: {blocklist: ssh, remove: "{{source.ip}}"}
  - id: done
    notify: {channel: hook, summary: "unblocked {{source.ip}}"}
---
name: tell
match: {rules: [7a7e0000-0000-4000-8000-000000000002]}
group_by: [source.ip]
steps:
  - notify: {channel: upd, summary: "tell {{source.ip}}"}
EOF
cat > "$T/bin/record" <<EOF
#!/bin/sh
# one line per argument, in brackets, so that one argument is one line
for a in "\$@"; do printf '[%s]\n' "\$a"; done >> "$T/record.out"
cat > "$T/record.stdin"
echo recorded
EOF
chmod 755 "$T/bin/record"
write_config "
playbooks: [pb]
response: {group_wait: 1s, group_interval: 2s, repeat_interval: 6s, exec_dirs: [bin], protected: [192.0.2.0/24]}
channels:
  hook: {type: webhook, url: \"http://127.0.0.1:$HP/hook\"}
  upd: {type: webhook, url: \"http://127.0.0.1:$HP/upd\"}
oncall:
  users:
    carol: {channels: [hook]}
    dave: {channels: [hook]}
  groups:
    leads: [carol]
"
sed -i "s|^rules: .*|rules: [$ROOT/rules, rules]|" "$T/vigil.yml"
check "vigild -t accepts the config" "$BIN/vigild" -t -c "$T/vigil.yml"
start_vigild

# events ACTION IP [USER [HOST]] [ACTION IP ...]: NDJSON to /api/v1/events
events() {
	python3 - "$@" > "$T/events.ndjson" <<'EOF'
import json, sys
a = sys.argv[1:]
while a:
    action, ip, user, host = a[0], a[1], a[2], a[3]
    a = a[4:]
    print(json.dumps({"message": "test event", "process": {"name": "app"},
                      "event": {"action": action}, "source": {"ip": ip},
                      "user": {"name": user}, "host": {"hostname": host}}))
EOF
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/x-ndjson' --data-binary @"$T/events.ndjson" \
		"$API/api/v1/events"
}
# incident_of IP: the id of the incident keyed by the playbook and IP
incident_of() {
	vigil_cli incidents --json list | python3 -c '
import json,sys
for i in json.load(sys.stdin)["incidents"]:
    if i["key"].endswith("source.ip=" + sys.argv[1]): print(i["id"])' "$1"
}
pending_approval() {
	api GET /api/v1/approvals | cut -d' ' -f2- | python3 -c '
import json,sys
for a in json.load(sys.stdin)["approvals"]:
    if a["state"] == "pending" and sys.argv[1] in a["summary"]: print(a["id"])' "$1"
}
zscore() { redis-cli -s "$T/var/redis.sock" ZSCORE vigil:blocklist:ssh "$1"; }

# ---- containment with hostile values, approved through the API ----
pwned_before=0
[ -e /tmp/pwned ] && pwned_before=1
events test_contain 203.0.113.7 '$(touch /tmp/pwned); rm -rf /' '; id'
has_approval() { test -n "$(pending_approval 203.0.113.7)"; }
check "the approve step asks" wait_until 30 has_approval
check "exec: each hostile value is one literal argument" test "$(cat "$T/record.out")" = \
	"$(printf '%s\n' '[$(touch /tmp/pwned); rm -rf /]' '[; id]' '[203.0.113.7]')"
check "exec: nothing ran the values as a command" test $pwned_before = 1 -o ! -e /tmp/pwned
check "exec: the alert JSON on stdin" test "$(jget "$(cat "$T/record.stdin")" \
	'[j["rule"]["id"], j["event"]["user"]["name"]]')" = \
	'["7a7e0000-0000-4000-8000-000000000001", "$(touch /tmp/pwned); rm -rf /"]'
S=$(zscore 203.0.113.7)
check "blocked for an hour" test -n "$S" -a "${S%.*}" -gt $(( $(date +%s%3N) + 3500000 ))
A1=$(pending_approval 203.0.113.7)
check "approval request paged to the group" wait_until 10 at_least 1 /hook 200
check "the request names the approval" test "$(jget "$(body /hook 0)" '[j["summary"], j["details"]["approval"]]')" = \
	"[\"Approval needed (leads): unblock 203.0.113.7?\", \"$A1\"]"
check "the pending approval, listed" test "$(api GET /api/v1/approvals | cut -d' ' -f2- | python3 -c '
import json,sys
print([[a[k] for k in ("playbook", "step", "group", "summary", "state", "by")] for a in json.load(sys.stdin)["approvals"] if a["id"] == sys.argv[1]])' "$A1")" = \
	"[['contain', 'ask', 'leads', 'unblock 203.0.113.7?', 'pending', None]]"
check "dave is not in leads: 403" test "$(api POST /api/v1/approvals/$A1 '{"decision":"approve","by":"dave"}')" = \
	'403 {"error":"dave is not in group leads"}'
check "no decision: 400" test "$(api POST /api/v1/approvals/$A1 '{"by":"carol"}' | cut -c1-3)" = 400
check "carol approves: 200" test "$(api POST /api/v1/approvals/$A1 '{"decision":"approve","by":"carol","comment":"ok"}')" = \
	"200 {\"id\":\"$A1\",\"state\":\"approved\",\"by\":\"carol\"}"
check "decided twice: 409" test "$(api POST /api/v1/approvals/$A1 '{"decision":"deny","by":"carol"}')" = \
	'409 {"error":"the approval is already approved"}'
unblocked() { test -z "$(zscore 203.0.113.7)"; }
check "after the approval: unblocked" wait_until 30 unblocked
check "and paged" wait_until 30 at_least 2 /hook 200
check "the page" test "$(jget "$(body /hook 1)" 'j["summary"]')" = "unblocked 203.0.113.7"
I1=$(incident_of 203.0.113.7)
steps_are() {
	test "$(incident_field "$I1" '[[e["step"], e["ok"], e["detail"], e.get("stdout")] for e in j["timeline"] if e["type"] == "step"] + [r["outcome"] for r in j["runs"]]')" = \
	'[["block", true, "added 203.0.113.7 vigil:blocklist:ssh", null], ["run", true, "exit 0", "recorded\n"], ["ask", true, "approved by carol", null], ["unblock", true, "removed 203.0.113.7 vigil:blocklist:ssh", null], ["done", true, "queued for 1 channel", null], "completed"]'
}
if wait_until 10 steps_are; then ok "timeline: the five steps and a completed run"; else
	notok "timeline: the five steps and a completed run" "$(incident_field "$I1" '[[e["step"], e["ok"], e["detail"], e.get("stdout")] for e in j["timeline"] if e["type"] == "step"]')"; fi

# ---- a denial fails the run; the address stays blocked ----
events test_contain 203.0.113.8 mallory h2
has_approval2() { test -n "$(pending_approval 203.0.113.8)"; }
check "second approval asked" wait_until 30 has_approval2
A2=$(pending_approval 203.0.113.8)
check "carol denies: 200" test "$(api POST /api/v1/approvals/$A2 '{"decision":"deny","by":"carol","comment":"keep it"}' | cut -c1-3)" = 200
I2=$(incident_of 203.0.113.8)
check "denied: the run failed" wait_until 30 field_is "$I2" '[r["outcome"] for r in j["runs"]]' '["failed"]'
check "denied: still blocked, no unblock page" test -n "$(zscore 203.0.113.8)" -a "$(requests /hook)" = 3

# ---- a protected address: neither blocked nor handed to the program ----
: > "$T/record.out"
events test_contain 192.0.2.5 eve h3
I3=""
i3() { I3=$(incident_of 192.0.2.5); test -n "$I3"; }
check "incident for the protected address" wait_until 30 i3
prot_steps() {
	test "$(incident_field "$I3" '[[e["step"], e["ok"], e["detail"]] for e in j["timeline"] if e["type"] == "step"] + [r["outcome"] for r in j["runs"]]')" = \
	'[["block", false, "192.0.2.5 is protected (192.0.2.0/24)"], ["run", false, "192.0.2.5 is protected (192.0.2.0/24)"], "failed"]'
}
if wait_until 30 prot_steps; then ok "protected: both steps refused, the run failed"; else
	notok "protected: both steps refused, the run failed" "$(incident_field "$I3" '[[e["step"], e["ok"], e["detail"]] for e in j["timeline"] if e["type"] == "step"]')"; fi
check "protected: not blocked, the program never ran" test -z "$(zscore 192.0.2.5)" -a ! -s "$T/record.out"

# ---- grouping timers ----
BURST=()
for i in 1 2 3 4 5; do BURST+=(test_tell 198.51.100.20 u h); done
events "${BURST[@]}"
check "first page" wait_until 30 at_least 1 /upd 200
IT=$(incident_of 198.51.100.20)
check "the burst is in it: 5 alerts" field_is "$IT" 'j["alerts"]' 5
events test_tell 198.51.100.20 u h test_tell 198.51.100.20 u h test_tell 198.51.100.20 u h
check "update page" wait_until 30 at_least 2 /upd 200
check "reminder" wait_until 30 at_least 3 /upd 200
check "ack" test "$(vigil_cli incidents ack "$IT" --by carol)" = "incident $IT acknowledged by carol"
check "acknowledge sent" wait_until 30 at_least 4 /upd 200
# the sentinel: opened after the acknowledgement, so its reminder is due
# after the acknowledged incident's next one would have been
events test_tell 198.51.100.21 u h
sentinel_reminded() { body /upd 5 > /dev/null 2>&1; }
check "sentinel: page and reminder" wait_until 60 sentinel_reminded
sleep 0.5
python3 - "$T/http.log" > "$T/upd.seen" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["path"] == "/upd":
        b = json.loads(r["body"])
        print(b["incident"]["id"], b["event"], b["summary"])
EOF
{
	echo "$IT trigger tell 198.51.100.20"
	echo "$IT trigger tell 198.51.100.20 (8 alerts, 3 new)"
	echo "$IT trigger Reminder, not acknowledged: tell 198.51.100.20 (8 alerts)"
	echo "$IT acknowledge Acknowledged by carol: tell 198.51.100.20"
	IS=$(incident_of 198.51.100.21)
	echo "$IS trigger tell 198.51.100.21"
	echo "$IS trigger Reminder, not acknowledged: tell 198.51.100.21 (1 alerts)"
} > "$T/upd.want"
same_text "one page per burst, one update, one reminder, none after the ack" "$T/upd.want" "$T/upd.seen"

# ---- silences: rules, levels, tags and fields ----
sil() { api POST /api/v1/silences "$1"; }
check "silence without author: 400" test "$(sil '{"matchers":{"levels":["high"]},"duration":"1h","comment":"c"}')" = '400 {"error":"author: required (who silences)"}'
check "silence without an end: 400" test "$(sil '{"matchers":{"levels":["high"]},"author":"a","comment":"c"}')" = \
	'400 {"error":"ends_at (an ISO 8601 time) or duration (like 2h) is required: a silence must end"}'
check "silence without a comment: 400" test "$(sil '{"matchers":{"levels":["high"]},"duration":"1h","author":"a"}')" = '400 {"error":"comment: required (why)"}'
check "silence ending in the past: 400" test "$(sil '{"matchers":{"levels":["high"]},"ends_at":"2020-01-01T00:00:00Z","author":"a","comment":"c"}')" = \
	'400 {"error":"ends_at: the silence would already be over"}'
R2=7a7e0000-0000-4000-8000-000000000002
check "silence on rule, level, tag and address: 201" test "$(sil "{\"matchers\":{\"rules\":[\"$R2\"],\"levels\":[\"high\"],\"tags\":[\"attack.t9999\"],\"fields\":{\"source.ip\":[\"198.51.100.30\"]}},\"duration\":\"1h\",\"author\":\"bob\",\"comment\":\"maintenance\"}" | cut -c1-3)" = 201
# one matcher that does not hold lets the alert through
check "silence, another rule: 201" test "$(sil '{"matchers":{"rules":["Test containment needed"],"fields":{"source.ip":"198.51.100.31"}},"duration":"1h","author":"bob","comment":"c"}' | cut -c1-3)" = 201
check "silence, another level: 201" test "$(sil '{"matchers":{"levels":["low"],"fields":{"source.ip":"198.51.100.31"}},"duration":"1h","author":"bob","comment":"c"}' | cut -c1-3)" = 201
check "silence, another tag: 201" test "$(sil '{"matchers":{"tags":["attack.t0000"],"fields":{"source.ip":"198.51.100.31"}},"duration":"1h","author":"bob","comment":"c"}' | cut -c1-3)" = 201
check "four silences active" test "$(api GET /api/v1/silences | cut -d' ' -f2- | python3 -c 'import json,sys; print([s["state"] for s in json.load(sys.stdin)["silences"]])')" = "['active', 'active', 'active', 'active']"
sleep 0.5   # every vigild reads silences again within 5 s of a change; this one at once
N0=$(requests /upd)
events test_tell 198.51.100.30 u h
events test_tell 198.51.100.31 u h
sentinel31() { python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["path"] == "/upd" and "198.51.100.31" in l))' "$T/http.log" | grep -qx 1; }
check "198.51.100.31 paged (no silence holds)" wait_until 30 sentinel31
sleep 0.3
check "198.51.100.30 not paged" test "$(requests /upd)" = $((N0 + 1))
I30=$(incident_of 198.51.100.30)
check "silenced alert recorded" test "$(incident_field "$I30" '[j["alerts"], j["silenced_alerts"], [e["type"] for e in j["timeline"] if e["type"].startswith("alert")]]')" = \
	'[0, 1, ["alert_silenced"]]'

stop_vigild
check "no sanitizer or crash report" sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$T/vigild.log'"
finish
