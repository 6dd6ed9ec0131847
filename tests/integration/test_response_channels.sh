#!/usr/bin/env bash
# test_response_channels.sh: the Slack-compatible and the PagerDuty Events
# API v2 compatible channels through the real vigild, against the Python
# HTTP receiver (tests/peers). A playbook pages the escalation policy whose
# only user has a Slack and a PagerDuty channel; then the incident is
# acknowledged and resolved through the API.
#
# Checks, exactly: the Slack body (text with the incident link, severity,
# who is on call, the details) for the trigger, the acknowledgement and the
# resolution; the PagerDuty events in order trigger, acknowledge, resolve,
# all with the same routing_key and dedup_key (<prefix>inc:<id>), the
# trigger's payload (summary, source, severity, custom_details) and links;
# one request per event per channel, nothing more.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

start_receiver http
HP=$(cat "$T/http.port")
mkdir -p "$T/pb"
cat > "$T/pb/guess.yml" <<'EOF'
name: guess
match: {rules: [a60cf998-6e46-55da-94b1-178ea4ab1c26]}
group_by: [source.ip]
steps:
  - notify:
      policy: oncall
      summary: "SSH password guessing from {{source.ip}} on {{host.hostname}}"
      details: {user: "{{user.name}}", rule: "{{alert.rule.title}}"}
EOF
printf 'R0UTINGKEY\n' > "$T/pd.key"
write_config "
playbooks: [pb]
response: {group_wait: 1s, group_interval: 1h, repeat_interval: 0, url: \"https://vigil.example.org\"}
channels:
  slack: {type: slack, url: \"http://127.0.0.1:$HP/slack\"}
  pd: {type: pagerduty, url: \"http://127.0.0.1:$HP/pd\", routing_key_file: pd.key}
oncall:
  users:
    alice: {name: Alice Liddell, slack: U01ALICE, channels: [slack, pd]}
  escalation_policies:
    oncall: {steps: [{users: [alice]}]}
"
check "vigild -t accepts the config" "$BIN/vigild" -t -c "$T/vigil.yml"
start_vigild

send "$(ssh_fail 203.0.113.9)" "$(ssh_fail 203.0.113.9)" "$(ssh_fail 203.0.113.9)"
check "slack paged" wait_until 30 at_least 1 /slack 200
check "pagerduty paged" wait_until 30 at_least 1 /pd 200
check "incident 1 has the 3 alerts" wait_until 10 field_is 1 'j["alerts"]' 3
check "ack" test "$(vigil_cli incidents ack 1 --by carol --note 'on it')" = "incident 1 acknowledged by carol"
check "slack told of the ack" wait_until 30 at_least 2 /slack 200
check "pagerduty acknowledge" wait_until 30 at_least 2 /pd 200
check "resolve through the API" test "$(api POST /api/v1/incidents/1/resolve '{"by":"carol","note":"blocked"}' | cut -c1-3)" = 200
check "slack told of the resolution" wait_until 30 at_least 3 /slack 200
check "pagerduty resolve" wait_until 30 at_least 3 /pd 200
sleep 0.5

python3 - "$T/http.log" > "$T/seen" <<'EOF'
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
print("requests", [r["path"] for r in reqs].count("/slack"),
      [r["path"] for r in reqs].count("/pd"))
# in order per channel (the two channels are sent independently)
for r in sorted(reqs, key=lambda r: r["path"] != "/slack"):
    b = json.loads(r["body"])
    ts = b.get("payload", {}).get("timestamp")
    if ts is not None:
        # the page's time: ISO 8601 UTC with milliseconds
        ok = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ts) is not None
        b["payload"]["timestamp"] = "iso8601" if ok else ts
    print(r["path"][1:], r["headers"]["content-type"], json.dumps(b, sort_keys=True))
EOF
LINK='https://vigil.example.org/api/v1/incidents/1'
SUM='SSH password guessing from 203.0.113.9 on web1'
HEAD='Severity: medium | Urgency: low | Source: web1 | Incident: 1\nOn call: <@U01ALICE>'
U='\u2022'
DET="\\n$U *user*: root\\n$U *rule*: SSH password guess for root"
SL='"unfurl_links": false, "unfurl_media": false}'
cat > "$T/want" <<EOF
requests 3 3
slack application/json {"text": "*[TRIGGERED]* <$LINK|$SUM>\\n$HEAD$DET\\n$U *alerts*: 3", $SL
slack application/json {"text": "*[ACKNOWLEDGED]* <$LINK|Acknowledged by carol: $SUM>\\n$HEAD\\n$U *alerts*: 3", $SL
slack application/json {"text": "*[RESOLVED]* <$LINK|Resolved by carol: $SUM>\\n$HEAD\\n$U *alerts*: 3", $SL
pd application/json {"client": "vigil", "client_url": "$LINK", "dedup_key": "vigil:inc:1", "event_action": "trigger", "links": [{"href": "$LINK", "text": "Incident in vigil"}], "payload": {"component": "vigil", "custom_details": {"alerts": "3", "incident": "1", "rule": "SSH password guess for root", "urgency": "low", "user": "root"}, "severity": "warning", "source": "web1", "summary": "$SUM", "timestamp": "iso8601"}, "routing_key": "R0UTINGKEY"}
pd application/json {"dedup_key": "vigil:inc:1", "event_action": "acknowledge", "routing_key": "R0UTINGKEY"}
pd application/json {"dedup_key": "vigil:inc:1", "event_action": "resolve", "routing_key": "R0UTINGKEY"}
EOF
same_text "Slack and PagerDuty received exactly these, in this order per channel" "$T/want" "$T/seen"
sent_in_timeline() {
	test "$(incident_field 1 'sorted([e["channel"], e["event"]] for e in j["timeline"] if e["type"] == "notification_sent")')" = \
		'[["pd", "acknowledge"], ["pd", "resolve"], ["pd", "trigger"], ["slack", "acknowledge"], ["slack", "resolve"], ["slack", "trigger"]]'
}
check "the timeline records the three deliveries per channel" wait_until 10 sent_in_timeline


stop_vigild
check "no sanitizer or crash report" sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$T/vigild.log'"
finish
