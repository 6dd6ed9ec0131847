#!/usr/bin/env bash
# vigild's backpressure from a Redis that is connected but behind: a burst
# over TCP whose every line is counted by a correlation rule, sent while
# Redis answers nothing (CLIENT PAUSE ... WRITE: connected, scripts held).
# vigild stops reading the connection (the sender waits) instead of
# piling up correlation updates until they are dropped; once Redis answers
# again, every event is received, no update is dropped, and the alerts are
# exactly those the rule gives (event_count, events used up by an alert:
# floor(events of a group / threshold) per group).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

E=240000     # events in the burst
K=40         # groups (host names)
N=7          # the rule's threshold (gte)

port=$(free_port)
hport=$(free_port)
sock=$T/redis.sock
mkdir -p "$T/rd" "$T/rules"
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$T/rd" \
	--appendonly no --save '' > "$T/redis.log" 2>&1 &
PIDS+=("$!")
redis_up() { redis-cli -s "$sock" ping 2>/dev/null | grep -q PONG; }
wait_for redis_up || { notok "redis-server starts" "$(cat "$T/redis.log")"; finish; }

cat > "$T/rules/burst.yml" <<X
title: Backpressure marker
id: 7b1d3e52-6c0a-4f3e-9a61-2f4d5c6b7a80
name: bp_marker
level: low
logsource: {product: linux}
detection:
    keywords: [vigil-bp-marker]
    condition: keywords
---
title: Backpressure marker burst
id: 3c9e1f27-84b5-4d0a-b6c2-95e8d7a1f034
correlation:
  type: event_count
  rules: [bp_marker]
  group-by: [host.hostname]
  timespan: 1h
  condition: {gte: $N}
level: low
X
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
parsers: [$ROOT/parsers]
rules: [$T/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
redis: {url: "unix://$sock"}
workers: 2
data_dir: $T/var
X
start_vigild

RECV='vigil_messages_received_total{input="tcp-in"}'
received() { metric "$RECV"; }
# Redis is slow here and the machine shared: wait minutes, not seconds
wait_long() { local i; for i in $(seq 1 1200); do "$@" && return 0; sleep 0.1; done; return 1; }
settled() { metric_is vigil_correlation_redis_inflight 0 && metric_is vigil_correlation_redis_buffered 0; }
# reading has stopped: the count holds still for a second
held() { local a b; a=$(received); sleep 1; b=$(received); [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" -gt 0 ]; }
check "the correlators are connected" wait_for metric_is vigil_correlation_redis_connected 3

# every event at one time, a little in the past: none is late, and all of
# a group's events are in one window
python3 - "$E" "$K" > "$T/burst" <<'PY'
import sys, time
e, k = int(sys.argv[1]), int(sys.argv[2])
t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 5))
out = sys.stdout
for i in range(e):
    out.write("<38>1 %s.000Z h%d app 7 - - vigil-bp-marker %d\n" % (t, i % k, i))
PY
want=$(python3 -c 'import sys; e, k, n = map(int, sys.argv[1:]); print(sum((e // k + (1 if g < e % k else 0)) // n for g in range(k)))' "$E" "$K" "$N")

# Redis up, connected, but not running scripts
check "CLIENT PAUSE WRITE" [ "$(redis-cli -s "$sock" CLIENT PAUSE 600000 WRITE)" = OK ]
python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(open(sys.argv[2],"rb").read()); s.close()' "$port" "$T/burst" &
spid=$!
PIDS+=("$spid")
wait_long held
got=$(received)
check "Redis not answering: vigild stops reading the connection ($got of $E received)" [ "$got" -lt "$E" ]
check "the sender is held back" kill -0 "$spid"
check "nothing dropped while paused" metric_is vigil_correlation_redis_dropped_total 0

check "CLIENT UNPAUSE" [ "$(redis-cli -s "$sock" CLIENT UNPAUSE)" = OK ]
wait "$spid"
check "the sender finishes" [ $? -eq 0 ]
check "every event received" wait_long metric_is "$RECV" "$E"
# a sanitizer build on a busy machine answers slowly: wait while the Redis
# clients make progress, and fail only when they stand still for 30 s
progress() { echo "$(metric vigil_correlation_redis_inflight) $(metric vigil_correlation_redis_buffered) $(metric vigil_correlation_redis_commands_total)"; }
until_settled() {
	local last="" now still=0
	until settled; do
		now=$(progress)
		if [ "$now" = "$last" ]; then
			still=$((still + 1))
			[ $still -ge 300 ] && { echo "    stuck at inflight, buffered, commands: $now"; return 1; }
		else
			still=0
			last=$now
		fi
		sleep 0.1
	done
}
if until_settled > "$T/settle.out"; then ok "all correlation updates answered"; else notok "all correlation updates answered" "$(cat "$T/settle.out")"; fi
check "the correlators were fed every event" metric_is vigil_correlation_events_total "$E"
check "no correlation update dropped (correlator)" metric_is vigil_correlation_dropped_total 0
check "no correlation update dropped (Redis clients)" metric_is vigil_correlation_redis_dropped_total 0
check "no late event" metric_is vigil_correlation_late_total 0
corr() { grep -c '"kind":"correlation"' "$T/alerts.jsonl" 2>/dev/null; }
check "the correlation alerts the rule gives: $want" wait_long [ "$(corr)" = "$want" ]
check "metrics count them" metric_is vigil_correlation_alerts_total "$want"

kill -TERM "$vpid"
wait "$vpid"
rc=$?
if [ $rc -eq 0 ]; then ok "vigild stops cleanly (exit 0)"; else notok "vigild stops cleanly (exit 0)" "$(tail -40 "$T/vigild.log")"; fi
finish
