# tests/integration/resp_lib.sh: what the test_response*.sh tests share:
# peers (tests/peers), a vigild with a config in $T, syslog lines over TCP,
# and reading what the peers received. Source after lib.sh.

PEERS=$ROOT/tests/peers
VIGIL="$BIN/vigil"

# wait_until SECONDS CMD...: retry every 0.1 s until CMD succeeds
wait_until() {
	local n=$(( $1 * 10 )) i; shift
	for i in $(seq 1 $n); do "$@" && return 0; sleep 0.1; done
	return 1
}

# start_receiver NAME [--script /p=500,200]...: an HTTP receiver logging to
# $T/NAME.log; its port in $T/NAME.port
start_receiver() {
	local name=$1; shift
	python3 "$PEERS/http_receiver.py" --port-file "$T/$name.port" \
		--log "$T/$name.log" "$@" &
	PIDS+=($!)
	wait_until 10 test -s "$T/$name.port"
	touch "$T/$name.log"
}

start_smtp() {
	python3 "$PEERS/smtp_sink.py" --port-file "$T/smtp.port" --log "$T/smtp.log" &
	PIDS+=($!)
	wait_until 10 test -s "$T/smtp.port"
	touch "$T/smtp.log"
}

# requests PATH [STATUS]: how many requests the receivers logged for PATH
requests() {
	python3 - "$1" "${2:-}" "$T"/*.log <<'EOF'
import json, sys
path, status = sys.argv[1], sys.argv[2]
n = 0
for f in sys.argv[3:]:
    for l in open(f):
        try:
            r = json.loads(l)
        except ValueError:
            continue
        if r.get("path") == path and (not status or str(r.get("status")) == status):
            n += 1
print(n)
EOF
}

# at_least N PATH [STATUS]
at_least() { [ "$(requests "$2" "${3:-}")" -ge "$1" ]; }

# body PATH K: the K-th (0-based) body logged for PATH
body() {
	python3 - "$1" "$2" "$T"/*.log <<'EOF'
import json, sys
path, k = sys.argv[1], int(sys.argv[2])
for f in sys.argv[3:]:
    for l in open(f):
        try:
            r = json.loads(l)
        except ValueError:
            continue
        if r.get("path") == path:
            if k == 0:
                print(r["body"])
                sys.exit(0)
            k -= 1
sys.exit(1)
EOF
}

# jq-like: jget JSON EXPR (a Python expression over j)
jget() {
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v, sort_keys=True))' "$1" "$2"
}

# send LINE...: syslog lines to vigild over TCP (LF framing)
send() {
	python3 - "$SYSLOG_PORT" "$@" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall("".join(l + "\n" for l in sys.argv[2:]).encode())
s.close()
EOF
}

# ssh_fail IP: a failed root password from IP (rule "SSH password guess
# for root", medium, and "SSH login failed", low)
ssh_fail() { echo "<38>Nov 23 00:00:01 web1 sshd[42]: Failed password for root from $1 port 4711 ssh2"; }

# write_config EXTRA: $T/vigil.yml with inputs, http, Redis in $T/var and
# the repo's parsers and rules; EXTRA (YAML text) appended
write_config() {
	SYSLOG_PORT=${SYSLOG_PORT:-$(free_port)}
	HTTP_PORT=${HTTP_PORT:-$(free_port)}
	API="http://127.0.0.1:$HTTP_PORT"
	head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$T/token"
	TOKEN=$(cat "$T/token")
	cat > "$T/vigil.yml" <<EOF
inputs:
  - {name: syslog-tcp, type: tcp, listen: "127.0.0.1:$SYSLOG_PORT"}
http: {listen: "127.0.0.1:$HTTP_PORT", token_file: token}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
workers: 2
data_dir: var
outputs: {file: alerts.jsonl}
$1
EOF
}

# start_vigild [ENV=VALUE...]: vigild in the background, its pid in VPID
start_vigild() {
	env "$@" "$BIN/vigild" -c "$T/vigil.yml" >> "$T/vigild.log" 2>&1 &
	VPID=$!
	PIDS+=($VPID)
	if ! wait_until 30 curl -sf -o /dev/null "$API/healthz"; then
		echo "vigild did not come up; its log:" >&2
		tail -20 "$T/vigild.log" >&2
		return 1
	fi
}

stop_vigild() {
	kill "$VPID" 2>/dev/null
	wait "$VPID" 2>/dev/null
}

# api METHOD PATH [BODY]: prints "STATUS BODY"
api() {
	local out
	out=$(curl -s -o "$T/api.out" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $TOKEN" ${3:+-H 'Content-Type: application/json' --data "$3"} \
		"$API$2")
	echo "$out $(cat "$T/api.out")"
}

# vigil_cli ARGS...: the vigil tool against this vigild
vigil_cli() { local cmd=$1; shift; "$VIGIL" "$cmd" -c "$T/vigil.yml" "$@"; }

# incident_field ID EXPR
incident_field() {
	local j
	j=$(vigil_cli incidents --json show "$1" 2>/dev/null) || return 1
	jget "$j" "$2"
}

field_is() { [ "$(incident_field "$1" "$2" 2>/dev/null)" = "$3" ]; }
