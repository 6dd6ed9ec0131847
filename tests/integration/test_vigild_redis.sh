#!/usr/bin/env bash
# vigild's correlation through its own Redis (redis.url, a redis-server
# started here, 2 workers):
#  - vigil.suppress: three port scans, the second within the suppression
#    period: two alerts, the second carrying "suppressed": 1 (the first
#    none), with the scans in different batches of one connection;
#  - /metrics shows the correlators' Redis clients: connected, connects,
#    disconnects, buffered updates, dropped updates, errors;
#  - an outage: Redis stops while an SSH burst comes in; vigild keeps
#    detecting, the clients disconnect and buffer the updates, reconnect
#    when Redis is back, apply the buffer, and the burst raises its alert.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=$(free_port)
hport=$(free_port)
sock=$T/redis.sock
mkdir -p "$T/rd"
start_redis() {
	redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$T/rd" \
		--appendonly yes --appendfsync always --save '' > "$T/redis.log" 2>&1 &
	rpid=$!
	PIDS+=("$rpid")
}
start_redis
redis_up() { redis-cli -s "$sock" ping 2>/dev/null | grep -q PONG; }
wait_for redis_up || { notok "redis-server starts" "$(cat "$T/redis.log")"; finish; }
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
redis: {url: "unix://$sock"}
workers: 2
data_dir: $T/var
X
start_vigild

# reconnecting backs off up to 5 s: wait longer than wait_for
wait_long() { local i; for i in $(seq 1 300); do "$@" && return 0; sleep 0.1; done; return 1; }
settled() { metric_is vigil_correlation_redis_inflight 0 && metric_is vigil_correlation_redis_buffered 0; }
count() { grep -c "$1" "$T/alerts.jsonl" 2>/dev/null; }
count_is() { [ "$(count "$1")" = "$2" ]; }
send() {
	python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(open(sys.argv[2],"rb").read()); s.close()' "$port" "$1"
}

check "metrics: 3 correlation clients connected (2 workers + HTTP ingest)" wait_for metric_is vigil_correlation_redis_connected 3
# (commands and inflight move with the correlators' 1 s timer: not here)
curl -sf "http://127.0.0.1:$hport/metrics" | grep '^vigil_correlation_redis_' |
	grep -v -e _commands_total -e _inflight > "$T/m0"
cat > "$T/m0.want" <<'X'
vigil_correlation_redis_connected 3
vigil_correlation_redis_connects_total 3
vigil_correlation_redis_disconnects_total 0
vigil_correlation_redis_connect_failures_total 0
vigil_correlation_redis_buffered 0
vigil_correlation_redis_buffered_bytes 0
vigil_correlation_redis_dropped_total 0
vigil_correlation_redis_retried_total 0
vigil_correlation_redis_errors_total 0
X
same_text "metrics: the correlators' Redis clients at start" "$T/m0.want" "$T/m0"
check "metrics: the client counters have HELP and TYPE" grep -qx '# TYPE vigil_correlation_redis_dropped_total counter' <(curl -sf "http://127.0.0.1:$hport/metrics")

# ---- suppression: port scans at +0 s, +60 s (folded) and +630 s ----
python3 - > "$T/scan.log" <<'PY'
import time
t0 = time.time() - 900
def scan(start, base):
    for i in range(20):
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + start + i))
        print("<4>1 %s.000Z fw01 kernel - - - [UFW BLOCK] IN=eth0 OUT= SRC=192.0.2.50 DST=10.0.0.5 LEN=44 PROTO=TCP SPT=50000 DPT=%d WINDOW=1024 SYN URGP=0" % (t, base + i))
# ~150 KB of other lines between the scans: the scans land in different
# batches, run by both workers at once, and still reach correlation in
# the order they were sent (else the first scans would be late, more than
# 10 s behind the third)
def filler(n):
    for i in range(n):
        print("<38>1 %s.000Z app01 app 9 - - nothing to see here, line %06d of filler text" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)), i))
scan(0, 1000)
filler(2000)
scan(60, 2000)
filler(2000)
scan(630, 3000)
PY
send "$T/scan.log"
wait_for count_is '"title":"Port scan from one address"' 2
wait_for settled
sleep 1.5
python3 - "$T/alerts.jsonl" > "$T/sup.got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["kind"] == "correlation":
        print(a["rule"]["title"], json.dumps(a["group"]), a["count"], a.get("suppressed", "-"), a["event"]["destination"]["port"], sep="\t")
PY
printf '%s\t%s\t%s\t%s\t%s\n' \
	"Port scan from one address" '{"source.ip": "192.0.2.50"}' 20 - 1019 \
	"Port scan from one address" '{"source.ip": "192.0.2.50"}' 20 1 3019 > "$T/sup.want"
same_text "suppression: two alerts, the second carries \"suppressed\": 1" "$T/sup.want" "$T/sup.got"
check "metrics: one alert folded" metric_is vigil_correlation_suppressed_total 1
# 3 scans of 20 ports: 60 updates, sent in batches (one script call per
# loop pass), so at least one command and at most one per update
check "metrics: 60 updates" metric_is vigil_correlation_updates_total 60
check "metrics: the updates went out in 1 to 60 commands" \
	eval 'c=$(metric vigil_correlation_redis_commands_total); [ "$c" -ge 1 ] && [ "$c" -le 60 ]'
check "metrics: no update dropped" metric_is vigil_correlation_redis_dropped_total 0

# ---- outage ----
kill -TERM "$rpid"
wait "$rpid" 2>/dev/null
check "outage: the clients see Redis go (3 disconnects)" wait_long metric_is vigil_correlation_redis_disconnects_total 3
check "outage: none connected" metric_is vigil_correlation_redis_connected 0
python3 - > "$T/ssh.log" <<'PY'
import time
t0 = time.time() - 30
for i in range(10):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + i))
    print("<86>1 %s.000Z bastion sshd %d - - Failed password for root from 203.0.113.61 port %d ssh2" % (t, 100 + i, 4000 + i))
PY
send "$T/ssh.log"
check "outage: detection goes on (10 failures, 10 root guesses)" wait_for count_is '"ip":"203.0.113.61"' 20
check "outage: the updates are buffered" wait_for metric_gt vigil_correlation_redis_buffered 9
check "outage: no alert yet" count_is '"title":"SSH password guessing from one address"' 0
start_redis
wait_for redis_up
check "recovery: the clients reconnect" wait_long metric_is vigil_correlation_redis_connected 3
check "recovery: 6 connections made in all" metric_is vigil_correlation_redis_connects_total 6
check "recovery: the buffer is applied" wait_long settled
check "recovery: the burst raises its alert" wait_for count_is '"title":"SSH password guessing from one address"' 1
check "recovery: nothing dropped" metric_is vigil_correlation_redis_dropped_total 0
check "recovery: no error reply" metric_is vigil_correlation_redis_errors_total 0

kill -TERM "$vpid"
wait "$vpid"
rc=$?
if [ $rc -eq 0 ]; then ok "vigild stops cleanly (exit 0)"; else notok "vigild stops cleanly (exit 0)" "$(tail -40 "$T/vigild.log")"; fi
finish
