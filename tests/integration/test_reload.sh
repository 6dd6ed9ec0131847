#!/usr/bin/env bash
# Hot reload of the rules: SIGHUP and POST /api/v1/reload compile the rules
# aside and swap them in whole; a set with errors is refused, reported with
# file:line:col, counted, and the running set stays.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=$(free_port)
hport=$(free_port)
cp -r "$ROOT/rules" "$T/rules"
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
parsers: [$ROOT/parsers]
rules: [rules]
playbooks: []
outputs: {file: alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
workers: 2
data_dir: var
X
start_vigild

# send N: one marker line and one failed sshd login from 192.0.2.N, in order,
# over two connections so both workers see the new rules
send() {
	local c
	for c in 1 2; do
		printf '<38>Nov 23 10:00:00 h1 app: vigil-reload-marker %s.%s\n<38>Nov 23 10:00:00 h1 sshd[3]: Failed password for bob from 192.0.2.%s port 22 ssh2\n' "$1" "$c" "$1" |
			python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.close()' "$port"
	done
}
# both failed logins of round N have arrived
arrived() { [ "$(grep -c "\"ip\":\"192.0.2.$1\"" "$T/alerts.jsonl" 2>/dev/null)" -ge 2 ]; }
markers() { grep -c '"title":"Reload marker"' "$T/alerts.jsonl" 2>/dev/null; }

check "start: rule set generation 1" metric_is vigil_rules_generation 1
n0=$(metric vigil_rules_loaded)
send 1
wait_for arrived 1
check "before the reload the marker fires nothing" [ "$(markers)" = 0 ]

cat > "$T/rules/marker.yml" <<'X'
title: Reload marker
id: 5d0b8a52-7a61-4f0e-9c4e-0d7c2f1e9a01
level: low
logsource: {product: linux}
detection:
    keywords: [vigil-reload-marker]
    condition: keywords
X
kill -HUP "$vpid"
wait_for metric_is vigil_rules_generation 2
check "SIGHUP: generation 2" metric_is vigil_rules_generation 2
check "SIGHUP: one more rule" [ "$(metric vigil_rules_loaded)" = $((n0 + 1)) ]
check "SIGHUP: logged" grep -q "rules: reloaded: $((n0 + 1)) rules (generation 2)" "$T/vigild.log"
send 2
wait_for arrived 2
check "after SIGHUP the new rule fires on both workers" [ "$(markers)" = 2 ]

# a broken rule: refused, the running set stays
cat > "$T/rules/broken.yml" <<'X'
title: Broken
logsource: {product: linux}
detection:
    sel:
        message|nosuchmodifier: x
    condition: sel
X
code=$(curl -s -o "$T/r1" -w '%{http_code}' -X POST "http://127.0.0.1:$hport/api/v1/reload")
check "reload with a broken rule: 422" [ "$code" = 422 ]
check "reload with a broken rule: names file:line:col and the problem" grep -q 'rules/broken.yml:5:17: error: unsupported modifier .nosuchmodifier.' "$T/r1"
check "failed reload counted" metric_is 'vigil_rule_reloads_total{result="failed"}' 1
check "failed reload: generation stays 2" metric_is vigil_rules_generation 2
check "failed reload logged" grep -q "rules: reload failed (1 rejected" "$T/vigild.log"
send 3
wait_for arrived 3
check "after a failed reload the running rules still fire" [ "$(markers)" = 4 ]

rm "$T/rules/broken.yml" "$T/rules/marker.yml"
code=$(curl -s -o "$T/r2" -w '%{http_code}' -X POST "http://127.0.0.1:$hport/api/v1/reload")
check "reload over the API: 200" [ "$code" = 200 ]
check "reload over the API: body" [ "$(cat "$T/r2")" = "{\"reloaded\":true,\"rules\":$n0,\"generation\":3}" ]
check "reloads counted" metric_is 'vigil_rule_reloads_total{result="ok"}' 2
send 4
wait_for arrived 4
check "a removed rule no longer fires" [ "$(markers)" = 4 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/api/v1/reload")
check "reload with GET: 405" [ "$code" = 405 ]

kill -TERM "$vpid"
wait "$vpid"
check "clean exit after reloads" [ $? -eq 0 ]
finish
