#!/usr/bin/env bash
# test_response.sh: incidents, playbooks and paging end to end with the real
# bin/vigild (embedded redis-server in its data_dir) and real peers: a
# Python HTTP receiver and SMTP sink (tests/peers). Alerts come from syslog
# lines that fire the shipped rules; the shipped playbooks run next to two
# of the test's own.
#
# Checks: a burst of 25 password guesses (and the 2 correlation alerts it
# raises) is one incident and one page
# (webhook and e-mail to whoever the policy pages), the address is on the
# Redis blocklist with its TTL; a receiver answering 500 then 200 gets
# exactly one delivered page (same delivery id twice); a 404 becomes a dead
# letter raised as an alert of its own (in the alerts file and as an
# incident); silences through `vigil silence` (a silenced address is
# recorded, not paged); `vigil incidents list/show/ack/resolve`; API errors,
# token check, size limit and methods.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

start_receiver http --script /flaky=500,200 --script /gone=404
start_smtp
HP=$(cat "$T/http.port")
SP=$(cat "$T/smtp.port")
mkdir -p "$T/pb"
cat > "$T/pb/test.yml" <<'EOF'
name: login-as-root
match: {rules: [8f8bd0e6-0ccf-5824-a74f-d22cfec725ea]}
group_by: [source.ip]
steps:
  - notify: {channel: flaky, summary: "root login from {{source.ip}}"}
---
name: uid0
match: {rules: [7dccca7f-76c1-5b96-8012-f858c056099b]}
steps:
  - notify: {channel: gone}
EOF
write_config "
playbooks: [$ROOT/playbooks, pb]
response: {group_wait: 2s, group_interval: 1h, repeat_interval: 0}
channels:
  hook: {type: webhook, url: \"http://127.0.0.1:$HP/hook\"}
  flaky: {type: webhook, url: \"http://127.0.0.1:$HP/flaky\", retry: {initial: 200ms, max: 400ms}}
  gone: {type: webhook, url: \"http://127.0.0.1:$HP/gone\"}
  mail: {type: email, url: \"smtp://127.0.0.1:$SP\", from: vigil@example.org, starttls: \"off\"}
oncall:
  users:
    alice: {name: Alice Liddell, email: alice@example.org, channels: [hook, mail]}
  escalation_policies:
    default: {steps: [{users: [alice]}]}
"
check "vigild -t accepts the config" "$BIN/vigild" -t -c "$T/vigil.yml"
start_vigild
check "vigild up" kill -0 "$VPID"

# ---- a burst is one incident and one page ----
# 25 failed root passwords from one address within a second: 25 detections
# "SSH password guess for root" and, from the shipped correlation (10
# failures within a minute, one alert per ten), 2 correlation alerts
# "SSH password guessing from one address". The shipped playbook takes
# both kinds, grouped by source.ip: one incident, one block, one page.
LINES=()
for i in $(seq 1 25); do LINES+=("$(ssh_fail 203.0.113.9)"); done
send "${LINES[@]}"
check "page on the webhook" wait_until 30 at_least 1 /hook 200
check "page by e-mail" wait_until 30 test -s "$T/smtp.log"
check "incident 1 has the 25 detections and the 2 correlation alerts" \
	wait_until 30 field_is 1 'j["alerts"]' 27
B=$(body /hook 0)
check "one page for the burst" test "$(requests /hook)" = 1
check "webhook summary from the shipped playbook" \
	test "$(jget "$B" 'j["summary"]')" = "SSH password guessing from 203.0.113.9 on web1 (blocked for 1h)"
check "webhook: incident, recipient, rule" test "$(jget "$B" \
	'[j["incident"]["id"], j["incident"]["dedup_key"], j["recipients"][0]["id"], j["alert"]["rule"]["id"], j["event"], j["source"]]')" = \
	'["1", "vigil:inc:1", "alice", "a60cf998-6e46-55da-94b1-178ea4ab1c26", "trigger", "web1"]'
check "one e-mail to alice" test "$(python3 -c '
import json,sys
m=[json.loads(l) for l in open(sys.argv[1])]
print(len(m), m[0]["to"], "Subject: [vigil] TRIGGERED: SSH password guessing from 203.0.113.9" in m[0]["data"])' "$T/smtp.log")" = "1 ['alice@example.org'] True"
SCORE=$(redis-cli -s "$T/var/redis.sock" ZSCORE vigil:blocklist:ssh 203.0.113.9)
TTL=$(redis-cli -s "$T/var/redis.sock" PTTL vigil:blocklist:ssh)
NOW=$(date +%s%3N)
check "blocklisted for an hour" test -n "$SCORE" -a "${SCORE%.*}" -gt $((NOW + 3500000)) -a "$TTL" -gt 3500000
check "the run completed" field_is 1 '[r["outcome"] for r in j["runs"]]' '["completed"]'
has_timeline() {
	test "$(incident_field 1 '{"alert", "created", "escalated", "notification_queued", "notification_sent", "playbook_completed", "playbook_started", "step"} <= set(e["type"] for e in j["timeline"])')" = True
}
check "timeline: created, alerts, block, page, sent" wait_until 10 has_timeline
# exactly: which incidents the address has, and what incident 1's timeline says
one_incident() {
	test "$(vigil_cli incidents --json list | python3 -c '
import json,sys
print([i["key"] for i in json.load(sys.stdin)["incidents"] if "203.0.113.9" in i["key"]])')" = \
		"['p|ssh-password-guessing|source.ip=203.0.113.9']"
}
check "one incident for the address" one_incident
TL_WANT='[["alert", "00f39ec6-a5d8-4bfa-ac3f-1f8cf210e995", 2], ["alert", "a60cf998-6e46-55da-94b1-178ea4ab1c26", 25], ["created", "", 1], ["escalated", "default", 1], ["escalation_exhausted", "", 1], ["notification_queued", "hook", 1], ["notification_queued", "mail", 1], ["notification_sent", "hook", 1], ["notification_sent", "mail", 1], ["playbook_completed", "ssh-password-guessing", 1], ["playbook_started", "ssh-password-guessing", 1], ["step", "block", 1], ["step", "page", 1]]'
# entries counted by type and what they are about
TL_EXPR='(lambda about: [list(k) + [n] for k, n in sorted(__import__("collections").Counter(
	(e["type"], e.get(about.get(e["type"], ""), "")) for e in j["timeline"]).items())])(
	{"alert": "rule", "step": "step", "escalated": "policy", "notification_queued": "channel",
	 "notification_sent": "channel", "playbook_started": "playbook", "playbook_completed": "playbook"})'
timeline_is() { test "$(incident_field 1 "$TL_EXPR")" = "$TL_WANT"; }
check "timeline: 27 alerts, one run, one block, one page to hook and mail" wait_until 10 timeline_is

# ---- 500 then 200: exactly one delivered page ----
send "<38>Nov 23 00:00:02 web1 sshd[43]: Accepted password for root from 198.51.100.5 port 4711 ssh2"
check "flaky receiver: delivered after a retry" wait_until 30 at_least 1 /flaky 200
sleep 0.5
check "flaky: one 500, one 200" test "$(requests /flaky 500) $(requests /flaky 200)" = "1 1"
check "flaky: the same delivery both times" test "$(python3 -c '
import json,sys
print(len({json.loads(l)["headers"]["x-vigil-delivery"] for l in open(sys.argv[1]) if json.loads(l)["path"]=="/flaky"}))' "$T/http.log")" = 1

# ---- 404: a dead letter, raised as an alert ----
send "<38>Nov 23 00:00:03 web1 useradd[44]: new user: name=evil, UID=0, GID=0, home=/root, shell=/bin/bash"
dead_alert() { grep -q '"id":"vigil-notification-dead-letter"' "$T/alerts.jsonl"; }
check "dead letter in the alerts file" wait_until 30 dead_alert
dead_incident() {
	vigil_cli incidents --json list | grep -q '"id":"vigil-notification-dead-letter"'
}
check "dead letter incident" wait_until 10 dead_incident
check "one dead letter: rule, level, group, attempts, status" test "$(python3 -c '
import json,sys
d=[json.loads(l) for l in open(sys.argv[1]) if "vigil-notification-dead-letter" in l]
print(len(d), [[a["rule"]["level"], a["group"], a["event"]["vigil"]["channel"], a["event"]["vigil"]["notification"]["attempts"], a["event"]["vigil"]["notification"]["status"], a["event"]["vigil"]["notification"]["error"]] for a in d])' "$T/alerts.jsonl")" = \
	"1 [['high', {'vigil.channel': 'gone'}, 'gone', 1, 404, 'HTTP 404: {\"status\": 404}']]"
check "the 404 was tried once" test "$(requests /gone)" = 1

# ---- silences ----
SIL=$(vigil_cli silence add --field source.ip=198.51.100.77 --duration 1h \
	--comment "pen test" --author bob)
check "silence added" test "${SIL#silence }" != "$SIL"
check "silence listed" sh -c "'$VIGIL' silence -c '$T/vigil.yml' list | grep -q 'by bob: pen test'"
N0=$(requests /hook)
logger --tcp -n 127.0.0.1 -P "$SYSLOG_PORT" --rfc3164 -t sshd \
	"Failed password for root from 198.51.100.77 port 4711 ssh2"
# the sentinel: not silenced, queued after the silenced one; once it is
# paged the silenced one would have been too
send "$(ssh_fail 198.51.100.78)"
check "sentinel paged" wait_until 30 at_least $((N0 + 1)) /hook 200
sleep 0.3
check "silenced address not paged" test "$(requests /hook)" = $((N0 + 1))
SID=$(vigil_cli incidents --json list | python3 -c '
import json,sys
for i in json.load(sys.stdin)["incidents"]:
    if i["key"].endswith("198.51.100.77"): print(i["id"])')
check "silenced alert recorded" test "$(incident_field "$SID" '[j["alerts"], j["silenced_alerts"], j["playbooks"]]')" = "[0, 1, []]"
SILID=$(vigil_cli silence --json list | python3 -c 'import json,sys; print(json.load(sys.stdin)["silences"][0]["id"])')
check "silence deleted" sh -c "'$VIGIL' silence -c '$T/vigil.yml' delete $SILID | grep -q deleted"
check "no silences left" sh -c "'$VIGIL' silence -c '$T/vigil.yml' list | grep -q 'no silences'"

# ---- vigil incidents ----
vigil_cli incidents list > "$T/list.out"
check "list shows incident 1" grep -q '^1 .*triggered .*medium .*27 .*SSH password guessing from 203.0.113.9 on web1 (blocked for 1h)$' "$T/list.out"
vigil_cli incidents show 1 > "$T/show.out"
check "show: summary and timeline" sh -c "grep -q '^incident 1: SSH password guessing from 203.0.113.9 on web1' '$T/show.out' && grep -q 'notification_sent' '$T/show.out'"
check "ack" test "$(vigil_cli incidents ack 1 --by carol)" = "incident 1 acknowledged by carol"
vigil_cli incidents ack 1 --by dave > "$T/ack2.out" 2>&1
check "ack twice: exit 1 and why" test "$?" = 1 -a "$(cat "$T/ack2.out")" = "vigil: the incident is already acknowledged (HTTP 409)"
check "acknowledge sent to the webhook" wait_until 10 sh -c "grep -q '\"x-vigil-event\": \"acknowledge\"' '$T/http.log'"
check "resolve" test "$(vigil_cli incidents resolve 1 --note 'blocked' --by carol)" = "incident 1 resolved by carol"
check "resolved list" sh -c "'$VIGIL' incidents -c '$T/vigil.yml' list --state resolved | grep -q '^1 .*resolved'"
check "resolve sent to the webhook" wait_until 10 sh -c "grep -q '\"x-vigil-event\": \"resolve\"' '$T/http.log'"

# ---- the API: errors, token, limits ----
check "no token: 401" test "$(curl -s -o /dev/null -w '%{http_code}' "$API/api/v1/incidents")" = 401
check "wrong token: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$API/api/v1/incidents/1")" = 401
check "unknown incident: 404" test "$(api GET /api/v1/incidents/4242)" = '404 {"error":"no such incident"}'
check "ack unknown: 404" test "$(api POST /api/v1/incidents/4242/ack '{"by":"x"}')" = '404 {"error":"no such incident"}'
check "ack without by: 400" test "$(api POST /api/v1/incidents/2/ack '{}')" = '400 {"error":"by: required (who), at most 128 characters"}'
check "ack body not JSON: 400" test "$(api POST /api/v1/incidents/2/ack 'nope')" = '400 {"error":"the body must be a JSON object"}'
check "wrong method: 405" test "$(api DELETE /api/v1/incidents)" = '405 {"error":"method not allowed here"}'
check "bad state: 400" test "$(api GET '/api/v1/incidents?state=closed')" = '400 {"error":"state: expected open, triggered, acknowledged or resolved"}'
check "unknown endpoint: 404" test "$(api GET /api/v1/incidents/1/nope)" = '404 {"error":"no such endpoint"}'
check "silence without comment: 400" test "$(api POST /api/v1/silences '{"matchers":{"rules":["x"]},"duration":"1h","author":"a"}')" = '400 {"error":"comment: required (why)"}'
head -c 70000 /dev/zero | tr '\0' 'a' > "$T/big"
check "body over 64 KiB: 413" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" --data-binary @"$T/big" "$API/api/v1/silences")" = 413
check "unknown approval: 404" test "$(api POST /api/v1/approvals/01a20936-7186-7340-8a3f-f8e20aba3cf8 '{"decision":"approve","by":"alice"}')" = '404 {"error":"no such approval"}'
check "metrics" sh -c "curl -s '$API/metrics' | grep -q '^vigil_incidents_total{event=\"acknowledged\"} 1'"

# ---- hostile values in an alert: it still reaches its incident ----
# a NUL in the message (the alert has \u0000) and a port of 23 digits
# (too big for a 64-bit integer: the alert has it as a string)
python3 - "$SYSLOG_PORT" <<'EOF2'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
m = (b"<38>Nov 23 00:00:04 web1 sshd[45]: Accepted password for root from "
     b"198.51.100.99 port 99999999999999999999999 ssh2\x00tail")
s.sendall(b"%d %s" % (len(m), m))  # octet counting: the NUL is the message's
s.close()
EOF2
hostile_alert() { grep -q '"port":"99999999999999999999999"' "$T/alerts.jsonl"; }
check "hostile values: the alert written, the port as a string" wait_until 10 hostile_alert
check "hostile values: the alert's NUL escaped" grep -q 'ssh2\\u0000tail' "$T/alerts.jsonl"
hostile_incident() {
	vigil_cli incidents --json list | python3 -c '
import json, sys
sys.exit(0 if any("198.51.100.99" in i["key"] for i in json.load(sys.stdin)["incidents"]) else 1)'
}
check "hostile values: the alert has its incident" wait_until 10 hostile_incident
hostile_page() {
	python3 - "$T/http.log" <<'EOF2'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("path") == "/flaky" and r.get("status") == 200:
        b = json.loads(r["body"])
        if b["summary"] == "root login from 198.51.100.99" and \
                b["alert"]["event"]["source"]["port"] == "99999999999999999999999" and \
                b["alert"]["event"]["message"].endswith("ssh2\x00tail"):
            sys.exit(0)
sys.exit(1)
EOF2
}
check "hostile values: the playbook pages for it" wait_until 20 hostile_page

stop_vigild
check "no sanitizer or crash report" sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$T/vigild.log'"
finish
