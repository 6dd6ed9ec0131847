# tests/integration/lib.sh: helpers for integration tests. Each test prints
# `ok - name` / `not ok - name` lines (counted by tests/run.sh) and works in
# its own temporary folder, removed at exit.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${VIGIL_BIN:-$ROOT/bin}
FIX=$ROOT/tests/integration/fixtures
T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-test.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
FAILED=0

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; FAILED=1; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /'; }

# check NAME CONDITION-COMMAND...: ok when the command succeeds
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}

# same_text NAME EXPECTED-FILE ACTUAL-FILE: ok when identical, else a diff
same_text() {
	if diff -u "$2" "$3" > "$T/diff.out" 2>&1; then ok "$1"; else notok "$1" "$(head -40 "$T/diff.out")"; fi
}

# a free TCP/UDP port on 127.0.0.1
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for CMD...: retry for up to 10 s
wait_for() {
	local i
	for i in $(seq 1 100); do "$@" && return 0; sleep 0.1; done
	return 1
}

finish() { exit $FAILED; }

# vigild's HTTP listener on 127.0.0.1:$hport (the test sets hport):
# healthy, metric NAME (its value), metric_is NAME VALUE, metric_gt NAME N
healthy() { curl -sf "http://127.0.0.1:$hport/healthz" > /dev/null; }
metric() { curl -sf "http://127.0.0.1:$hport/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_gt() { [ "$(metric "$1")" -gt "$2" ] 2>/dev/null; }

# start_vigild: bin/vigild on $T/vigil.yml, stderr in $T/vigild.log, its
# pid in vpid (killed at exit); the test ends when it does not come up
start_vigild() {
	"$BIN/vigild" -c "$T/vigil.yml" 2> "$T/vigild.log" &
	vpid=$!
	PIDS+=("$vpid")
	wait_for healthy || { notok "vigild starts" "$(cat "$T/vigild.log")"; finish; }
}
