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
