#!/usr/bin/env bash
# vigil replay with the shipped correlation rules: an SSH password-guessing
# burst and a port scan give exactly the correlation alerts the rules say
# (group, count, last event), in every chunking and thread count; building
# blocks (generate: false) write no detection; without correlation rules no
# Redis is started.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# 25 failed passwords from one address, one second apart; 3 from another
for i in $(seq 1 25); do
	printf '<86>Nov 23 01:00:%02d bastion sshd[%d]: Failed password for root from 203.0.113.50 port %d ssh2\n' "$i" "$i" $((4000 + i))
done > "$T/burst.log"
for i in 1 2 3; do
	printf '<86>Nov 23 01:00:3%d bastion sshd[9%d]: Failed password for root from 198.51.100.1 port %d ssh2\n' "$i" "$i" $((5000 + i))
done >> "$T/burst.log"
# 22 blocked connections from one address to 22 ports within a minute
for i in $(seq 1 22); do
	printf '<4>Nov 23 01:01:%02d fw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=198.51.100.30 DST=10.0.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=50 ID=%d PROTO=TCP SPT=40000 DPT=%d WINDOW=1024 RES=0x00 SYN URGP=0\n' "$i" "$i" $((1000 + i))
done >> "$T/burst.log"

"$BIN/vigil" replay --threads 1 "$T/burst.log" > "$T/t1.jsonl" 2> "$T/t1.err"
check "replay with correlation rules exits 0" [ $? -eq 0 ]

# kind, time, rule, group, count, last event's source port
project() {
	python3 -c '
import json, sys
for line in sys.stdin:
    a = json.loads(line)
    if a["kind"] != "correlation":
        continue
    print(a["@timestamp"], a["rule"]["title"], json.dumps(a["group"], sort_keys=True),
          a["count"], a.get("suppressed", 0), a["event"]["source"]["port"], sep="\t")
'
}
project < "$T/t1.jsonl" > "$T/got"
printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
    2026-11-23T01:00:10.000Z "SSH password guessing from one address" '{"source.ip": "203.0.113.50"}' 10 0 4010 \
    2026-11-23T01:00:20.000Z "SSH password guessing from one address" '{"source.ip": "203.0.113.50"}' 10 0 4020 \
    2026-11-23T01:01:20.000Z "Port scan from one address" '{"source.ip": "198.51.100.30"}' 20 0 40000 \
    > "$T/want"
same_text "correlation alerts: group, count and last event as the rules say" "$T/want" "$T/got"

# detections: 28 SSH failures, 28 root guesses, and no "Firewall blocked a
# connection" (a building block, generate: false; ports 1001-1022 are none
# that the other firewall rules watch)
python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["rule"]["title"] for l in sys.stdin if json.loads(l)["kind"] == "detection")
for k in sorted(c): print(c[k], k)
' < "$T/t1.jsonl" > "$T/det"
cat > "$T/det.want" <<'X'
28 SSH login failed
28 SSH password guess for root
X
same_text "detections: building blocks (generate: false) are not written" "$T/det.want" "$T/det"
check "summary counts correlation alerts" grep -qE '^replay: 50 events, 50 decoded, 59 alerts in ' "$T/t1.err"
check "summary line for correlation" grep -qx 'replay: 3 correlation alerts from 6 correlation rules' "$T/t1.err"

# the same alerts whatever the threads and chunking (ids aside)
noid() { cut -c44- "$1"; }
for args in "--threads 2" "--threads 2 --chunk-lines 3" "--threads 3 --chunk-lines 1 --test-guess 0"; do
	"$BIN/vigil" replay $args "$T/burst.log" > "$T/tn.jsonl" 2>/dev/null
	same_text "correlation: $args gives what --threads 1 gives" <(noid "$T/t1.jsonl") <(noid "$T/tn.jsonl")
done

# an external Redis (--redis URL): the same alerts; the state stays there
sock="$T/redis.sock"
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no > "$T/redis.log" 2>&1 &
PIDS+=($!)
wait_for redis-cli -s "$sock" ping > /dev/null 2>&1
"$BIN/vigil" replay --redis "unix://$sock" "$T/burst.log" 2>/dev/null | project > "$T/ext"
same_text "--redis URL: the same correlation alerts" "$T/want" "$T/ext"
check "--redis URL: window state is in that Redis" [ "$(redis-cli -s "$sock" dbsize)" -gt 0 ]

# without correlation rules: no Redis, no correlation line
"$BIN/vigil" replay --rules rules/linux "$T/burst.log" > "$T/plain.jsonl" 2> "$T/plain.err"
check "no correlation rules: exit 0" [ $? -eq 0 ]
check "no correlation rules: no Redis started" bash -c "! grep -qi redis '$T/plain.err'"
check "no correlation rules: no correlation summary" bash -c "! grep -q 'correlation alerts' '$T/plain.err'"
check "no correlation rules: every detection" [ "$(wc -l < "$T/plain.jsonl")" -eq 56 ]
finish
