#!/usr/bin/env bash
# vigil replay of Windows events (EVTX JSON as evtx_dump writes it, and
# Winlogbeat) with a correlation rule written with Sigma field names:
# `group-by: [IpAddress]` and `condition.field: TargetUserName` reach each
# event's EventData through rules/mappings/windows.yml, as the detection
# rule's selection does, also in a correlation of that correlation. Four
# addresses, exact alerts, in a real redis-server (replay's private one).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

mkdir -p "$T/rules"
cat > "$T/rules/win.yml" <<'X'
title: Failed logon
id: 6f0c3c1e-7d1a-4c33-9a0e-000000004625
name: win_failed_logon
status: test
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625, LogonType: 3}
  condition: sel
level: low
---
title: Network logon guessing from one address
id: 6f0c3c1e-7d1a-4c33-9a0e-000000000001
correlation:
  type: event_count
  rules: win_failed_logon
  group-by: [IpAddress]
  timespan: 1m
  condition: {gte: 4}
level: high
---
title: Network logon spraying from one address
id: 6f0c3c1e-7d1a-4c33-9a0e-000000000002
correlation:
  type: value_count
  rules: win_failed_logon
  group-by: [IpAddress, Computer]
  timespan: 1m
  condition: {field: TargetUserName, gte: 3}
level: high
---
title: Repeated logon guessing from one address
id: 6f0c3c1e-7d1a-4c33-9a0e-000000000003
correlation:
  type: event_count
  rules: 6f0c3c1e-7d1a-4c33-9a0e-000000000001
  group-by: [IpAddress]
  timespan: 1h
  condition: {gte: 2}
  generate: true
level: critical
X

python3 - > "$T/win.jsonl" <<'X'
import json
def evtx(sec, ip, user):
    return {"Event": {"#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                   "EventID": 4625, "Channel": "Security", "Computer": "dc01.corp.example",
                   "TimeCreated": {"#attributes": {"SystemTime": "2026-11-23T09:00:%02d.000000Z" % sec}}},
        "EventData": {"TargetUserName": user, "LogonType": 3, "IpAddress": ip, "IpPort": "50123"}}}
def beat(sec, ip, user):
    return {"@timestamp": "2026-11-23T09:00:%02d.000Z" % sec,
            "winlog": {"channel": "Security", "event_id": 4625, "computer_name": "dc01.corp.example",
                       "event_data": {"TargetUserName": user, "LogonType": "3", "IpAddress": ip}}}
rows = []
for i in range(5):                       # one user guessed from .11: guessing
    rows.append(evtx(i, "192.0.2.11", "administrator"))
for i, u in enumerate(["ann", "ben", "cat", "dan"]):   # .12: both, two shapes
    rows.append((evtx if i % 2 else beat)(10 + i, "192.0.2.12", u))
rows.append(evtx(20, "192.0.2.13", "ann"))   # .13: two, too few
rows.append(beat(21, "192.0.2.13", "ben"))
rows.append(beat(22, "192.0.2.13", "ben") | {"winlog": {"channel": "Security", "event_id": 4624,
    "event_data": {"TargetUserName": "ben", "LogonType": "3", "IpAddress": "192.0.2.13"}}})
for i in range(8):                       # .14: guessing twice: repeated
    rows.append(evtx(30 + i, "192.0.2.14", "administrator"))
for r in rows:
    print(json.dumps(r))
X

"$BIN/vigil" replay --threads 1 --rules rules/mappings --rules "$T/rules" "$T/win.jsonl" > "$T/out.jsonl" 2> "$T/err"
check "windows replay exits 0" [ $? -eq 0 ]
check "windows: 6 alerts from the 3 correlation rules" grep -qx 'replay: 6 correlation alerts from 3 correlation rules' "$T/err"
python3 -c '
import json, sys
for line in sys.stdin:
    a = json.loads(line)
    if a["kind"] != "correlation":
        continue
    print(a["@timestamp"], a["rule"]["title"], json.dumps(a["group"], sort_keys=True), a["count"], sep="\t")
' < "$T/out.jsonl" | sort > "$T/got"
printf '%s\t%s\t%s\t%s\n' \
    2026-11-23T09:00:03.000Z "Network logon guessing from one address" '{"IpAddress": "192.0.2.11"}' 4 \
    2026-11-23T09:00:12.000Z "Network logon spraying from one address" '{"Computer": "dc01.corp.example", "IpAddress": "192.0.2.12"}' 3 \
    2026-11-23T09:00:13.000Z "Network logon guessing from one address" '{"IpAddress": "192.0.2.12"}' 4 \
    2026-11-23T09:00:33.000Z "Network logon guessing from one address" '{"IpAddress": "192.0.2.14"}' 4 \
    2026-11-23T09:00:37.000Z "Network logon guessing from one address" '{"IpAddress": "192.0.2.14"}' 4 \
    2026-11-23T09:00:37.000Z "Repeated logon guessing from one address" '{"IpAddress": "192.0.2.14"}' 2 \
    | sort > "$T/want"
same_text "windows: alerts grouped by the Sigma names' EventData values" "$T/want" "$T/got"
# the detections feed the correlations only (no generate): 6 alerts in all
check "windows: summary" grep -qE '^replay: 20 events, 0 decoded, 6 alerts in ' "$T/err"
check "windows: no detection alert written" [ "$(grep -c '"kind":"detection"' "$T/out.jsonl")" = 0 ]
finish
