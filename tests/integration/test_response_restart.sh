#!/usr/bin/env bash
# test_response_restart.sh: kill -9 and restart vigild at the awkward
# moments; every page still arrives exactly once.
#
#  1. Between store and send: VIGIL_FAULT=kill-after-store makes vigild
#     SIGKILL itself right after a page is written to the outbox in Redis
#     and before it is sent. The receiver has nothing; after a restart it
#     has the page, once, and the incident is not paged again.
#  2. kill -9 from outside while a page waits for a retry (the receiver
#     is not there yet): after the restart, with the receiver up, exactly
#     one delivery.
#  3. An escalation timer: alice is paged, vigild is killed before bob's
#     step is due; after the restart bob is paged once and alice is not
#     paged again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

start_receiver http
HP=$(cat "$T/http.port")
LATE_PORT=$(free_port)
mkdir -p "$T/pb"
cat > "$T/pb/p.yml" <<'EOF'
name: guess
match: {rules: [a60cf998-6e46-55da-94b1-178ea4ab1c26]}
group_by: [source.ip]
steps:
  - notify: {channel: hook, summary: "guessing from {{source.ip}}"}
---
name: root-login
match: {rules: [8f8bd0e6-0ccf-5824-a74f-d22cfec725ea]}
steps:
  - notify: {channel: late}
---
name: uid0
match: {rules: [7dccca7f-76c1-5b96-8012-f858c056099b]}
steps:
  - notify: {policy: oncall}
EOF
write_config "
playbooks: [pb]
response: {group_wait: 0, repeat_interval: 0}
channels:
  hook: {type: webhook, url: \"http://127.0.0.1:$HP/hook\"}
  late: {type: webhook, url: \"http://127.0.0.1:$LATE_PORT/late\", retry: {initial: 300ms, max: 600ms}}
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
        - {users: [bob], delay: 4s}
"

# ---- 1. killed between store and send ----
start_vigild VIGIL_FAULT=kill-after-store
send "$(ssh_fail 203.0.113.10)"
gone() { ! kill -0 "$VPID" 2>/dev/null; }
check "vigild killed itself after storing the page" wait_until 30 gone
{ wait "$VPID"; } 2>/dev/null
check "it said so" grep -q 'kill-after-store: 1 notifications stored' "$T/vigild.log"
check "nothing was sent" test "$(requests /hook)" = 0
check "the page is in Redis's append-only file" wait_until 10 grep -rqa 'vigil:{resp}:ob:' "$T/var"
start_vigild
check "after the restart: delivered" wait_until 30 at_least 1 /hook 200
check "incident 1: one page" wait_until 10 field_is 1 '[j["pages"], j["notifications"]["sent"]]' '[1, 1]'
check "exactly one delivery" test "$(requests /hook)" = 1

# ---- 2. kill -9 while a page waits for its retry ----
send "<38>Nov 23 00:00:02 web1 sshd[43]: Accepted password for root from 198.51.100.5 port 4711 ssh2"
failed_once() { test "$(incident_field 2 'sum(1 for e in j["timeline"] if e["type"] == "notification_retry")' 2>/dev/null)" -ge 1; }
check "the late receiver is not there: retrying" wait_until 30 failed_once
kill -9 "$VPID"
{ wait "$VPID"; } 2>/dev/null
python3 "$PEERS/http_receiver.py" --port-file "$T/late.port.tmp" --log "$T/late.log" 2>/dev/null &
PIDS+=($!)
# the receiver picks its own port: forward the configured one to it
wait_until 10 test -s "$T/late.port.tmp"
python3 - "$LATE_PORT" "$(cat "$T/late.port.tmp")" <<'EOF' &
import socket, sys, threading
src, dst = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", src))
ls.listen(16)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", dst))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
EOF
PIDS+=($!)
start_vigild
check "after the restart: the waiting page is delivered" wait_until 30 at_least 1 /late 200
check "exactly once" test "$(requests /late)" = 1
check "incident 2: sent once" wait_until 10 field_is 2 'j["notifications"]["sent"]' 1

# ---- 3. an escalation timer survives ----
send "<38>Nov 23 00:00:03 web1 useradd[44]: new user: name=evil, UID=0, GID=0, home=/root, shell=/bin/bash"
check "alice paged" wait_until 30 at_least 1 /alice 200
kill -9 "$VPID"
{ wait "$VPID"; } 2>/dev/null
check "bob not yet" test "$(requests /bob)" = 0
start_vigild
check "after the restart: bob paged" wait_until 30 at_least 1 /bob 200
ID=$(vigil_cli incidents --json list | python3 -c '
import json,sys
for i in json.load(sys.stdin)["incidents"]:
    if i["rule"]["id"] == "7dccca7f-76c1-5b96-8012-f858c056099b": print(i["id"])')
check "escalation done" wait_until 10 field_is "$ID" 'j["escalation"]["state"]' done
check "alice once, bob once" test "$(requests /alice) $(requests /bob)" = "1 1"
stop_vigild
finish
