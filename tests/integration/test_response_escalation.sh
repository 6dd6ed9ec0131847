#!/usr/bin/env bash
# test_response_escalation.sh: escalation policies with the real vigild
# and an HTTP receiver. Policy `oncall`: alice at once, bob 2 s later, then
# once more after 2 s (repeat: 1).
#
#  - incident A: nobody acknowledges; bob is paged after his delay, then
#    the policy's second round pages alice and bob again, and no more;
#  - incident B: acknowledged with `vigil incidents ack` as soon as alice
#    is paged; bob never hears of it. Checked without a clock: incident C,
#    opened after the acknowledgement with the same policy, reaches bob's
#    step later than B would have, so once bob has C's page, B's would be
#    there too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

start_receiver http
HP=$(cat "$T/http.port")
mkdir -p "$T/pb"
cat > "$T/pb/esc.yml" <<'EOF'
name: guess
match: {rules: [a60cf998-6e46-55da-94b1-178ea4ab1c26]}
group_by: [source.ip]
steps:
  - notify: {policy: oncall, summary: "guessing from {{source.ip}}"}
EOF
write_config "
playbooks: [pb]
response: {group_wait: 0, repeat_interval: 0}
channels:
  alice-hook: {type: webhook, url: \"http://127.0.0.1:$HP/alice\"}
  bob-hook: {type: webhook, url: \"http://127.0.0.1:$HP/bob\"}
oncall:
  users:
    alice: {channels: [alice-hook]}
    bob: {channels: [bob-hook]}
  escalation_policies:
    oncall:
      steps:
        - {users: [alice]}
        - {users: [bob], delay: 2s}
      repeat: 1
      repeat_delay: 2s
"
start_vigild
check "vigild up" kill -0 "$VPID"

# pages PATH IP: pages for the incident of IP's summary on PATH
pages() {
	python3 - "$T/http.log" "$1" "guessing from $2" <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["path"] == sys.argv[2] and r["status"] == 200:
        b = json.loads(r["body"])
        if b["summary"] == sys.argv[3] and b["event"] == "trigger":
            n += 1
print(n)
EOF
}
pages_at_least() { [ "$(pages "$2" "$3")" -ge "$1" ]; }

send "$(ssh_fail 203.0.113.1)"
check "A: alice paged" wait_until 30 pages_at_least 1 /alice 203.0.113.1
send "$(ssh_fail 203.0.113.2)"
check "B: alice paged" wait_until 30 pages_at_least 1 /alice 203.0.113.2
B=$(vigil_cli incidents --json list | python3 -c '
import json,sys
for i in json.load(sys.stdin)["incidents"]:
    if i["key"].endswith("203.0.113.2"): print(i["id"])')
check "B acknowledged with vigil incidents ack" test "$(vigil_cli incidents ack "$B" --by alice)" = "incident $B acknowledged by alice"
send "$(ssh_fail 203.0.113.3)"
check "A: bob paged after the delay" wait_until 30 pages_at_least 1 /bob 203.0.113.1
check "C: bob paged" wait_until 30 pages_at_least 1 /bob 203.0.113.3
check "B: bob never paged" test "$(pages /bob 203.0.113.2)" = 0
check "B: escalation stopped" field_is "$B" 'j["escalation"]["state"]' stopped
check "A: second round pages alice and bob again" wait_until 30 pages_at_least 2 /bob 203.0.113.1
check "A: escalation done" wait_until 10 field_is 1 'j["escalation"]["state"]' done
check "A: two rounds, no more" test "$(pages /alice 203.0.113.1) $(pages /bob 203.0.113.1)" = "2 2"
check "A: escalated four times" test "$(incident_field 1 'sum(1 for e in j["timeline"] if e["type"] == "escalated")')" = 4
check "B: escalated once" test "$(incident_field "$B" 'sum(1 for e in j["timeline"] if e["type"] == "escalated")')" = 1
# a page names the user the step pages
check "bob's page names bob" test "$(jget "$(body /bob 0)" 'j["recipients"][0]["id"]')" = bob
stop_vigild
finish
