#!/usr/bin/env bash
# test_notify.sh: notification channels against real peers: a Python HTTP
# receiver (plain and HTTPS) and a Python SMTP sink (tests/peers/), driven by
# tests/unit/test_notify_send.c on a real event loop with a real vigil.yml.
#
# Checks what each peer received, byte for byte where it is deterministic:
# the versioned webhook payload and its HMAC signature, Slack and PagerDuty
# bodies (trigger then resolve, in that order, same dedup_key), one e-mail to
# whoever is on call now (computed independently with Python's zoneinfo)
# after the sink refused the first attempt with 451, exactly one delivered
# notification from a receiver answering 500 then 200, a 404 dead letter,
# and HTTPS with a private CA.
. "$(dirname "$0")/lib.sh"

BUILD=${VIGIL_BUILD:-$ROOT/build/release}
DRV=$BUILD/tests/test_notify_send
PEERS=$ROOT/tests/peers

if [ ! -x "$DRV" ]; then
	notok "driver" "$DRV is missing (make $DRV)"
	finish
fi

python3 "$PEERS/http_receiver.py" --port-file "$T/http.port" --log "$T/http.log" \
	--script /flaky=500,200 --script /gone=404 &
PIDS+=($!)
python3 "$PEERS/smtp_sink.py" --port-file "$T/smtp.port" --log "$T/smtp.log" \
	--fail-first 1 &
PIDS+=($!)
have_tls=0
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 2 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1; then
	have_tls=1
	python3 "$PEERS/http_receiver.py" --port-file "$T/https.port" \
		--log "$T/https.log" --cert "$T/cert.pem" --key "$T/key.pem" &
	PIDS+=($!)
fi
check "http receiver up" wait_for test -s "$T/http.port"
check "smtp sink up" wait_for test -s "$T/smtp.port"
HP=$(cat "$T/http.port")
SP=$(cat "$T/smtp.port")
if [ $have_tls = 1 ]; then
	check "https receiver up" wait_for test -s "$T/https.port"
	TP=$(cat "$T/https.port")
fi

printf 's3cret\n' > "$T/hook.key"
printf 'R0UTINGKEY\n' > "$T/pd.key"
cat > "$T/vigil.yml" <<EOF
channels:
  hook:
    type: webhook
    url: "http://127.0.0.1:$HP/hook"
    headers: {X-Team: soc}
    secret_file: hook.key
  slack: {type: slack, url: "http://127.0.0.1:$HP/slack"}
  pd: {type: pagerduty, url: "http://127.0.0.1:$HP/pd", routing_key_file: pd.key}
  mail:
    type: email
    url: "smtp://127.0.0.1:$SP"
    from: vigil@example.org
    starttls: "off"
    retry: {initial: 50ms, max: 200ms}
  flaky: {type: webhook, url: "http://127.0.0.1:$HP/flaky", retry: {initial: 50ms, max: 200ms}}
  gone: {type: webhook, url: "http://127.0.0.1:$HP/gone"}
EOF
if [ $have_tls = 1 ]; then
	printf '  tls: {type: webhook, url: "https://127.0.0.1:%s/tls", ca_file: cert.pem}\n' \
		"$TP" >> "$T/vigil.yml"
fi
cat >> "$T/vigil.yml" <<'EOF'
oncall:
  users:
    alice: {name: Alice Liddell, email: alice@example.org, slack: U01ALICE}
    bob: {name: Bob Example, email: bob@example.org}
  schedules:
    primary:
      time_zone: Europe/Berlin
      layers:
        - {users: [alice, bob], start: 2020-01-06, handoff: "09:00", turn: 1w}
  escalation_policies:
    default: {steps: [{schedule: primary}]}
EOF

SUMMARY='SSH password guessing from 203.0.113.9 $(touch /tmp/pwned); id'
pwned_before=0
[ -e /tmp/pwned ] && pwned_before=1
TLS_SEND=()
[ $have_tls = 1 ] && TLS_SEND=(--send tls)
"$DRV" --config "$T/vigil.yml" --deadline 60 \
	--incident inc-1 --summary "$SUMMARY" --severity high \
	--url https://vigil.example.org/incidents/inc-1 --source gw1 \
	--detail user=root --alert '{"id":"a1","rule":{"id":"r1"}}' \
	--to alice --send hook --send slack --clear-to \
	--send pd --send flaky --send gone "${TLS_SEND[@]}" \
	--page default --send mail \
	--event resolve --send pd > "$T/out" 2> "$T/err"
if [ $? -eq 0 ]; then ok "driver finished"; else notok "driver finished" "$(cat "$T/out" "$T/err")"; fi

# results per attempt: channel, class, first words of the detail
awk '{print $1, $2, $3, $4}' "$T/out" | sort > "$T/results"
{
	echo "delivered $((6 + have_tls)) retried 2"
	echo "flaky ok HTTP 200"
	echo 'flaky retry HTTP 500:'
	echo 'gone fail HTTP 404:'
	echo "hook ok HTTP 200"
	echo "mail ok SMTP 250"
	echo "mail retry SMTP 451:"
	echo "pd ok HTTP 200"
	echo "pd ok HTTP 200"
	echo "slack ok HTTP 200"
	[ $have_tls = 1 ] && echo "tls ok HTTP 200"
} | sort > "$T/results.want"
same_text "one result per attempt" "$T/results.want" "$T/results"

# what the HTTP receiver saw, reduced to what must be exact
python3 - "$T/http.log" "$SUMMARY" > "$T/http.seen" <<'EOF'
import hashlib, hmac, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
summary = sys.argv[2]
by = {}
for r in reqs:
    by.setdefault(r["path"], []).append(r)
print("flaky statuses", [r["status"] for r in by["/flaky"]])
print("flaky same delivery", len({r["headers"]["x-vigil-delivery"] for r in by["/flaky"]}) == 1)
print("flaky same body", len({r["body"] for r in by["/flaky"]}) == 1)
print("gone statuses", [r["status"] for r in by["/gone"]])
h = by["/hook"][0]
b = json.loads(h["body"])
print("hook", b["version"], b["type"], b["event"], b["incident"], b["severity"],
      b["urgency"], b["source"], b["details"], [u["id"] for u in b["recipients"]],
      b["alert"], b["summary"] == summary)
print("hook delivery is payload id", h["headers"]["x-vigil-delivery"] == b["id"])
print("hook headers", h["headers"]["content-type"], h["headers"]["x-team"],
      h["headers"]["x-vigil-event"])
sig = dict(kv.split("=", 1) for kv in h["headers"]["x-vigil-signature"].split(","))
mac = hmac.new(b"s3cret", (sig["t"] + "." + h["body"]).encode(), hashlib.sha256)
print("hook signature valid", hmac.compare_digest(mac.hexdigest(), sig["v1"]))
s = json.loads(by["/slack"][0]["body"])
print("slack", json.dumps(s, sort_keys=True))
for r in by["/pd"]:
    p = json.loads(r["body"])
    print("pd", p["event_action"], p["routing_key"], p["dedup_key"],
          p.get("payload", {}).get("severity"), p.get("payload", {}).get("summary") == (summary if p["event_action"] == "trigger" else None))
EOF
cat > "$T/http.want" <<EOF
flaky statuses [500, 200]
flaky same delivery True
flaky same body True
gone statuses [404]
hook 1 vigil.notification trigger {'id': 'inc-1', 'dedup_key': 'inc-1', 'url': 'https://vigil.example.org/incidents/inc-1'} high high gw1 {'user': 'root'} ['alice'] {'id': 'a1', 'rule': {'id': 'r1'}} True
hook delivery is payload id True
hook headers application/json soc trigger
hook signature valid True
slack {"text": "*[TRIGGERED]* <https://vigil.example.org/incidents/inc-1|SSH password guessing from 203.0.113.9 \$(touch /tmp/pwned); id>\nSeverity: high | Urgency: high | Source: gw1 | Incident: inc-1\nOn call: <@U01ALICE>\n\u2022 *user*: root", "unfurl_links": false, "unfurl_media": false}
pd trigger R0UTINGKEY inc-1 error True
pd resolve R0UTINGKEY inc-1 None True
EOF
same_text "http peers received the exact payloads" "$T/http.want" "$T/http.seen"

if [ $have_tls = 1 ]; then
	check "https receiver got one request" test "$(wc -l < "$T/https.log")" -eq 1
fi

# who is on call now, computed with Python's own time zone code
ONCALL=$(python3 - <<'EOF'
from datetime import datetime
from zoneinfo import ZoneInfo
tz = ZoneInfo("Europe/Berlin")
start = datetime(2020, 1, 6, 9, 0)
now = datetime.now(tz).replace(tzinfo=None)
weeks = int((now - start).total_seconds() // (7 * 86400))
print(["alice@example.org", "bob@example.org"][weeks % 2])
EOF
)
python3 - "$T/smtp.log" "$SUMMARY" > "$T/smtp.seen" <<'EOF'
import email, email.policy, json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
print("messages", len(msgs))
m = msgs[0]
print("envelope", m["from"], m["to"])
e = email.message_from_string(m["data"], policy=email.policy.default)
print("subject", e["Subject"] == "[vigil] TRIGGERED: " + sys.argv[2])
print("to", e["To"], "event", e["X-Vigil-Event"], "incident", e["X-Vigil-Incident"])
print("cte", e["Content-Transfer-Encoding"], e.get_content_type(), e.get_content_charset())
body = e.get_content()
print("body starts", body.splitlines()[0] == "TRIGGERED: " + sys.argv[2])
print("body link", "Link:     https://vigil.example.org/incidents/inc-1" in body)
EOF
cat > "$T/smtp.want" <<EOF
messages 1
envelope vigil@example.org ['$ONCALL']
subject True
to $ONCALL event trigger incident inc-1
cte quoted-printable text/plain utf-8
body starts True
body link True
EOF
same_text "smtp sink got one message for the on-call after a 451" "$T/smtp.want" "$T/smtp.seen"
check "nothing ran the summary as a command" test $pwned_before = 1 -o ! -e /tmp/pwned

finish
