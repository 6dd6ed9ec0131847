#!/usr/bin/env bash
# vigild end to end with real senders: logger (util-linux) over UDP, TCP
# (LF and octet-counted framing, RFC 3164 and RFC 5424) and a unix datagram
# socket; alerts land in the alerts file with observer.ingress and
# log.source.address; /metrics and /healthz answer; SIGHUP reopens the
# alerts file; SIGTERM stops cleanly.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=$(free_port)
hport=$(free_port)
cat > "$T/vigil.yml" <<X
inputs:
  - {name: udp-in, type: udp, listen: "127.0.0.1:$port"}
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
  - {name: local, type: unix, path: $T/log.sock}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
data_dir: $T/var
X
"$BIN/vigild" -c "$T/vigil.yml" 2> "$T/vigild.log" &
vpid=$!
PIDS+=("$vpid")
if wait_for healthy; then ok "vigild starts and answers /healthz"; else notok "vigild starts and answers /healthz" "$(cat "$T/vigild.log")"; fi

msg() { echo "Failed password for root from 203.0.113.$1 port $2 ssh2"; }
logger --server 127.0.0.1 --port "$port" --udp --rfc3164 -t sshd --id=11 "$(msg 1 1001)"
logger --server 127.0.0.1 --port "$port" --tcp --rfc3164 -t sshd --id=12 "$(msg 2 1002)"
logger --server 127.0.0.1 --port "$port" --tcp --octet-count --rfc5424 -t sshd --id=13 "$(msg 3 1003)"
logger --server 127.0.0.1 --port "$port" --udp --rfc5424 -t sshd --id=14 "$(msg 4 1004)"
logger --socket "$T/log.sock" --socket-errors=on -t sshd --id=15 "$(msg 5 1005)"

count_alerts() { [ -f "$T/alerts.jsonl" ] && [ "$(wc -l < "$T/alerts.jsonl")" -ge "$1" ]; }
# each message fires "SSH login failed" and "SSH password guess for root"
if wait_for count_alerts 10; then ok "five messages over five transports give ten alerts"; else notok "five messages over five transports give ten alerts" "$(cat "$T/alerts.jsonl" 2>/dev/null | head -3; tail -5 "$T/vigild.log")"; fi

python3 - "$T/alerts.jsonl" > "$T/got" <<'PY'
import json, sys
rows = []
for l in open(sys.argv[1]):
    a = json.loads(l)
    e = a["event"]
    if a["rule"]["title"] != "SSH login failed":
        continue
    rows.append("%s %s %s %s %s %s" % (e["source"]["ip"], e["observer"]["ingress"], e["log"]["source"]["address"],
                                    e["process"]["name"], e["process"]["pid"], e["user"]["name"]))
print("\n".join(sorted(rows)))
PY
cat > "$T/want" <<'X'
203.0.113.1 udp-in 127.0.0.1 sshd 11 root
203.0.113.2 tcp-in 127.0.0.1 sshd 12 root
203.0.113.3 tcp-in 127.0.0.1 sshd 13 root
203.0.113.4 udp-in 127.0.0.1 sshd 14 root
203.0.113.5 local local sshd 15 root
X
same_text "every transport: decoded fields, observer.ingress, log.source.address" "$T/want" "$T/got"

curl -sf "http://127.0.0.1:$hport/metrics" > "$T/metrics"
check "metrics: received per input (udp)" grep -qx 'vigil_messages_received_total{input="udp-in"} 2' "$T/metrics"
check "metrics: received per input (tcp)" grep -qx 'vigil_messages_received_total{input="tcp-in"} 2' "$T/metrics"
check "metrics: received per input (unix)" grep -qx 'vigil_messages_received_total{input="local"} 1' "$T/metrics"
check "metrics: events decoded" grep -qx 'vigil_events_decoded_total 5' "$T/metrics"
check "metrics: detection alerts" grep -qx 'vigil_alerts_total{kind="detection"} 10' "$T/metrics"

# logrotate: move the file away, SIGHUP, new alerts go to a new file
mv "$T/alerts.jsonl" "$T/alerts.jsonl.1"
kill -HUP "$vpid"
sleep 0.3
logger --server 127.0.0.1 --port "$port" --tcp -t sshd --id=16 "$(msg 6 1006)"
if wait_for count_alerts 2; then ok "SIGHUP reopens the alerts file"; else notok "SIGHUP reopens the alerts file"; fi
check "rotated file keeps its ten alerts" [ "$(wc -l < "$T/alerts.jsonl.1")" -eq 10 ]

# a connection still open at SIGTERM, its last frame without a trailer:
# the frame is delivered on shutdown
python3 - "$port" "$(msg 7 1007)" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("<38>Nov 23 10:00:00 web1 sshd[17]: " + sys.argv[2]).encode())
time.sleep(30)
PY
PIDS+=("$!")
conns_open() { curl -sf "http://127.0.0.1:$hport/metrics" | grep -qx 'vigil_connections_total{input="tcp-in"} 4'; }
wait_for conns_open
sleep 0.2
kill -TERM "$vpid"
wait "$vpid"; rc=$?
check "SIGTERM: an open connection's partial frame is delivered" grep -q '"ip":"203.0.113.7"' "$T/alerts.jsonl"
check "SIGTERM: clean exit 0" [ $rc -eq 0 ]
check "SIGTERM: logged" grep -q "signal 15, stopping" "$T/vigild.log"
check "unix socket removed on exit" [ ! -e "$T/log.sock" ]

# a config in the working folder with a relative data_dir, as make run
# starts the shipped vigil.yml: the embedded redis-server finds its
# socket, pid and log files under it
mkdir -p "$T/rel"
hport=$(free_port)
cat > "$T/rel/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$(free_port)"}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
http: {listen: "127.0.0.1:$hport"}
data_dir: var
X
(cd "$T/rel" && exec "$BIN/vigild" -c vigil.yml 2> vigild.log) &
vpid=$!
PIDS+=("$vpid")
if wait_for healthy; then ok "relative data_dir: vigild starts with its embedded redis-server"; else notok "relative data_dir: vigild starts with its embedded redis-server" "$(cat "$T/rel/vigild.log")"; fi
check "relative data_dir: redis-server's socket and log in it" sh -c '[ -S "$1" ] && [ -f "$2" ]' _ "$T/rel/var/redis.sock" "$T/rel/var/redis.log"
kill -TERM "$vpid"
wait "$vpid"
check "relative data_dir: clean exit 0" [ $? -eq 0 ]
finish
