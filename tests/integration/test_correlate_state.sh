#!/usr/bin/env bash
# Correlation state in Redis, with real processes (tests/unit/
# test_correlate_drive --follow, reading syslog lines from a FIFO as they
# come, as vigild will):
#  - restart: kill -9 in the middle of a window; the next process continues
#    the window from the embedded Redis (append-only file) and the alert
#    fires once, at the right event;
#  - outage: Redis stops while events flow; the process stays up, buffers
#    (bounded, counting what it drops), reconnects with backoff and applies
#    the buffer on recovery;
#  - two processes sharing one Redis, each receiving half of a burst, raise
#    exactly one alert.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
DRIVE=${VIGIL_BUILD:-$ROOT/build/release}/tests/test_correlate_drive
GUESS=00f39ec6-a5d8-4bfa-ac3f-1f8cf210e995

# line N: failed SSH login number N from ADDR (one per second)
fail_line() {
	printf '<38>1 2026-11-23T10:00:%02d.000Z bastion sshd 42 - - Failed password for root from %s port %d ssh2\n' "$1" "$2" $((40000 + $1))
}
# alerts: exactly one line, with this time and count
one_alert() { # file time count
	python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(a) == 1, "%d alerts" % len(a)
assert a[0]["@timestamp"] == sys.argv[2], a[0]["@timestamp"]
assert a[0]["count"] == int(sys.argv[3]), a[0]["count"]
' "$@" 2>"$T/why"
}

# ---- restart ----
mkfifo "$T/in1" "$T/in2"
"$DRIVE" --follow --ack --data "$T/data" --only $GUESS < "$T/in1" > "$T/out1" 2> "$T/err1" &
P1=$!
PIDS+=($P1)
exec 3> "$T/in1"
for i in 0 1 2 3 4; do fail_line $i 203.0.113.9 >&3; done
wait_for grep -qx "ack 5" "$T/err1"
check "restart: first process applied 5 updates" grep -qx "ack 5" "$T/err1"
kill -9 $P1
wait $P1 2>/dev/null
exec 3>&-
"$DRIVE" --follow --ack --data "$T/data" --only $GUESS < "$T/in2" > "$T/out2" 2> "$T/err2" &
P2=$!
PIDS+=($P2)
exec 3> "$T/in2"
for i in 5 6 7 8 9 10 11; do fail_line $i 203.0.113.9 >&3; done
wait_for grep -qx "ack 7" "$T/err2"
exec 3>&-
wait $P2
check "restart: second process exits 0" [ $? -eq 0 ]
check "restart: no alert before the kill" [ ! -s "$T/out1" ]
if one_alert "$T/out2" 2026-11-23T10:00:09.000Z 10; then
	ok "restart: the window continued; one alert, at the 10th failure"
else
	notok "restart: the window continued; one alert, at the 10th failure" "$(cat "$T/why" "$T/out2")"
fi

# ---- an outage ----
mkdir -p "$T/rd" "$T/rules"
SOCK=$T/rd/r.sock
start_redis() {
	redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$T/rd" \
	    --appendonly yes --save "" --daemonize no --logfile "$T/rd/log" 3>&- 4>&- 5>&- &
	RP=$!
	PIDS+=($RP)
	wait_for redis_up
}
redis_up() { redis-cli -s "$SOCK" ping >/dev/null 2>&1; }
start_redis
cat > "$T/rules/burst.yml" <<'EOF'
title: five failures
id: 9764f917-0ace-484e-9d80-87f53671ff79
correlation:
  type: event_count
  rules: [d2ccedf2-feb1-56a0-b468-f4fc0920fe36]
  group-by: [source.ip]
  timespan: 1m
  condition: {gte: 5}
EOF
mkfifo "$T/in3"
"$DRIVE" --follow --ack --redis "unix://$SOCK" --max-pending 4 --prefix o: \
    --rules rules/linux --rules "$T/rules" < "$T/in3" > "$T/out3" 2> "$T/err3" &
P3=$!
PIDS+=($P3)
exec 3> "$T/in3"
for i in 1 2 3; do fail_line $i 198.51.100.1 >&3; done
wait_for grep -qx "ack 3" "$T/err3"
redis-cli -s "$SOCK" shutdown >/dev/null 2>&1
wait $RP 2>/dev/null
wait_for grep -q "connection lost" "$T/err3"
check "outage: the loss is logged" grep -q "connection lost" "$T/err3"
for i in 4 5 6 7 8 9; do fail_line $i 198.51.100.1 >&3; done
wait_for grep -qx "seen 9" "$T/err3"
wait_for grep -q "retrying in" "$T/err3"
check "outage: the process stays up and keeps reading" kill -0 $P3
check "outage: reconnects with backoff" grep -q "retrying in" "$T/err3"
check "outage: no alert while Redis is away" [ ! -s "$T/out3" ]
start_redis
wait_for grep -qx "ack 9" "$T/err3"
check "outage: the buffer is sent on recovery" grep -q "sending 4 held commands" "$T/err3"
exec 3>&-
wait $P3
check "outage: exits 0" [ $? -eq 0 ]
# lines 4 and 5 were dropped (buffer of 4); 1 2 3 6 7 make five at line 7
if one_alert "$T/out3" 2026-11-23T10:00:07.000Z 5; then
	ok "outage: one alert, after recovery, at the fifth applied failure"
else
	notok "outage: one alert, after recovery, at the fifth applied failure" "$(cat "$T/why" "$T/out3")"
fi
check "outage: the two dropped updates are counted" grep -qx "stat dropped 2" "$T/err3"

# ---- two processes, one Redis ----
mkfifo "$T/ia" "$T/ib"
"$DRIVE" --follow --ack --redis "unix://$SOCK" --prefix two: --only $GUESS < "$T/ia" > "$T/oa" 2> "$T/ea" &
PA=$!
"$DRIVE" --follow --ack --redis "unix://$SOCK" --prefix two: --only $GUESS < "$T/ib" > "$T/ob" 2> "$T/eb" &
PB=$!
PIDS+=($PA $PB)
exec 4> "$T/ia" 5> "$T/ib"
for i in 0 1 2 3 4 5 6 7 8 9; do
	if [ $((i % 2)) -eq 0 ]; then fail_line $i 192.0.2.77 >&4; else fail_line $i 192.0.2.77 >&5; fi
done
wait_for grep -qx "ack 5" "$T/ea"
wait_for grep -qx "ack 5" "$T/eb"
exec 4>&- 5>&-
wait $PA $PB
cat "$T/oa" "$T/ob" > "$T/oab"
if one_alert "$T/oab" 2026-11-23T10:00:09.000Z 10; then
	ok "two processes: half a burst each, one alert"
else
	notok "two processes: half a burst each, one alert" "$(cat "$T/why" "$T/oab")"
fi
redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1
finish
