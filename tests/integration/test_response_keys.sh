#!/usr/bin/env bash
# test_response_keys.sh: incident keys chosen by the rules, through the real
# vigild (rule files of the test's own next to the shipped ones; no
# playbook takes these alerts, so the rules' keys decide).
#
#  - `vigil: {incident_key: [user.name]}` in a detection rule: logins of
#    one user from three addresses are one incident, keyed by the rule and
#    the user; another user has an incident of their own;
#  - `vigil: {incident_key: {name: attacker, fields: [source.ip]}}` in a
#    detection rule and in a correlation rule counting it: the detections
#    and the correlation alert for one address share one incident;
#  - a correlation rule without the key keeps the default (rule id and
#    group values); a malformed key is reported and ignored;
#  - `vigild -t` and `vigil check` accept the key in a correlation rule;
#  - auto-resolve: after response.auto_resolve without alerts every
#    incident is resolved by vigil, and the next alert for a key opens a
#    new incident.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

mkdir -p "$T/rules"
cat > "$T/rules/keys.yml" <<'EOF'
title: Test login accepted for an ops account
id: 6f1d3c1e-0000-4000-8000-000000000001
status: test
logsource: {product: linux, service: sshd}
detection:
  selection:
    event.action: ssh_login
    event.outcome: success
    user.name|startswith: ops
  condition: selection
level: high
vigil:
  incident_key: [user.name]
---
title: Test failed login for an admin account
id: 6f1d3c1e-0000-4000-8000-000000000002
name: test_admin_failure
status: test
logsource: {product: linux, service: sshd}
detection:
  selection:
    event.action: ssh_login
    event.outcome: failure
    user.name: admin
  condition: selection
level: high
vigil:
  incident_key: {name: attacker, fields: [source.ip]}
---
title: Test repeated admin failures
id: 6f1d3c1e-0000-4000-8000-000000000003
status: test
correlation:
  type: event_count
  rules: [test_admin_failure]
  group-by: [source.ip]
  timespan: 1m
  condition: {gte: 3}
generate: true
level: high
vigil:
  incident_key: {name: attacker, fields: [source.ip]}
---
title: Test repeated admin failures, default key
id: 6f1d3c1e-0000-4000-8000-000000000004
status: test
correlation:
  type: event_count
  rules: [test_admin_failure]
  group-by: [source.ip]
  timespan: 1m
  condition: {gte: 3}
generate: true
level: high
---
title: Test rule with a malformed incident key
id: 6f1d3c1e-0000-4000-8000-000000000005
status: test
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: test_never}
  condition: selection
level: high
vigil:
  incident_key: {colour: red}
EOF
write_config "
playbooks: []
response: {group_wait: 0, repeat_interval: 0, auto_resolve: 3s}
"
sed -i "s|^rules: .*|rules: [$ROOT/rules, rules]|" "$T/vigil.yml"
check "vigild -t accepts incident_key in detection and correlation rules" \
	"$BIN/vigild" -t -c "$T/vigil.yml"
check "vigil check accepts it too" "$VIGIL" check -c "$T/vigil.yml" "$T/rules"
start_vigild

accepted() { echo "<38>Nov 23 00:00:01 web1 sshd[42]: Accepted password for $1 from $2 port 4711 ssh2"; }
failed() { echo "<38>Nov 23 00:00:01 web1 sshd[42]: Failed password for $1 from $2 port 4711 ssh2"; }
send "$(accepted opsbob 198.51.100.1)" "$(accepted opsbob 198.51.100.2)" \
	"$(accepted opsbob 198.51.100.3)" "$(accepted opseve 198.51.100.1)" \
	"$(failed admin 203.0.113.50)" "$(failed admin 203.0.113.50)" \
	"$(failed admin 203.0.113.50)" "$(failed admin 203.0.113.51)"

# key -> [alerts, sorted rule ids of its alert entries]
incidents_by_key() {
	vigil_cli incidents --json list --state all | python3 -c '
import json, subprocess, sys
out = {}
for i in json.load(sys.stdin)["incidents"]:
    if not i["key"].startswith(("k|", "r|6f1d3c1e")):
        continue
    out[i["key"]] = i["alerts"]
print(json.dumps(out, sort_keys=True))'
}
R=6f1d3c1e-0000-4000-8000-00000000000
WANT="{\"k|attacker|source.ip=203.0.113.50\": 4, \"k|attacker|source.ip=203.0.113.51\": 1, \"r|${R}1|user.name=opsbob\": 3, \"r|${R}1|user.name=opseve\": 1, \"r|${R}4|source.ip=203.0.113.50\": 1}"
keys_are() { test "$(incidents_by_key)" = "$WANT"; }
if wait_until 30 keys_are; then ok "one incident per key the rules chose"; else
	notok "one incident per key the rules chose" "want $WANT
got  $(incidents_by_key)"; fi

# the attacker incident holds the 3 detections and the correlation alert
ID=$(vigil_cli incidents --json list --state all | python3 -c '
import json,sys
print([i["id"] for i in json.load(sys.stdin)["incidents"] if i["key"] == "k|attacker|source.ip=203.0.113.50"][0])')
check "attacker incident: 3 detections and the correlation" test "$(incident_field "$ID" \
	'sorted(e["rule"] for e in j["timeline"] if e["type"] == "alert")')" = \
	"[\"${R}2\", \"${R}2\", \"${R}2\", \"${R}3\"]"
check "attacker incident: summary names the key" test "$(incident_field "$ID" 'j["summary"]')" = \
	"Test failed login for an admin account (source.ip=203.0.113.50)"

# ---- auto-resolve after a quiet period ----
all_resolved() {
	test "$(vigil_cli incidents --json list --state all | python3 -c '
import json,sys
print(sorted((i["key"], i["state"], (i["resolved"] or {}).get("by")) for i in json.load(sys.stdin)["incidents"] if i["key"].startswith(("k|", "r|6f1d3c1e"))))')" = \
		"[('k|attacker|source.ip=203.0.113.50', 'resolved', 'vigil'), ('k|attacker|source.ip=203.0.113.51', 'resolved', 'vigil'), ('r|${R}1|user.name=opsbob', 'resolved', 'vigil'), ('r|${R}1|user.name=opseve', 'resolved', 'vigil'), ('r|${R}4|source.ip=203.0.113.50', 'resolved', 'vigil')]"
}
check "every incident auto-resolved" wait_until 60 all_resolved
check "the timeline says so" test "$(incident_field "$ID" '[[e["type"], e["by"], e.get("note")] for e in j["timeline"] if e["type"] == "resolved"]')" = \
	'[["resolved", "vigil", "no alerts for 3 s"]]'
send "$(accepted opsbob 198.51.100.9)"
reopened() {
	test "$(vigil_cli incidents --json list --state open | python3 -c '
import json,sys
print([[i["key"], i["alerts"]] for i in json.load(sys.stdin)["incidents"]])')" = \
		"[['r|${R}1|user.name=opsbob', 1]]"
}
check "the next alert opens a new incident for the key" wait_until 30 reopened

stop_vigild
check "no sanitizer or crash report" sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$T/vigild.log'"
check "vigild said how many rules choose their key" grep -q 'response: 3 rules choose their incident key' "$T/vigild.log"
check "and which key it ignored" grep -qF "keys.yml:65: rule ${R}5: vigil.incident_key: expected a list of up to 8 field names, or {name: NAME, fields: [...]}; ignored" "$T/vigild.log"
finish
