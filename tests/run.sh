#!/usr/bin/env bash
# tests/run.sh: runs every unit test binary, every integration test and every
# fuzz target's saved corpus; counts `ok` / `not ok` lines and ends with the
# line `N passed, N failed`. A program that exits non-zero (a crash, a
# sanitizer report) without reporting a failure of its own counts as one.
# Environment: VIGIL_BIN (bin dir), VIGIL_BUILD (build dir), SANITIZE.
set -u
cd "$(dirname "$0")/.."
export VIGIL_BIN VIGIL_BUILD SANITIZE
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ONLY="${TEST:-}"
passed=0
failed=0
failures=()

run_one() { # name, command...
	local name=$1; shift
	local out rc
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	local p f
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name (exit $rc)" >>"$out"
	fi
	if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' "$out" && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name (sanitizer report)" >>"$out"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		echo "--- $name: FAILED"
		cat "$out"
	else
		echo "--- $name: $p passed"
	fi
	rm -f "$out"
}

for t in "$VIGIL_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	[ -n "$ONLY" ] && [[ "$n" != *"$ONLY"* ]] && continue
	run_one "unit/$n" "$t"
done

for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ -n "$ONLY" ] && [[ "$n" != *"$ONLY"* ]] && continue
	run_one "integration/$n" bash "$t"
done

for r in "$VIGIL_BUILD"/fuzz/replay_*; do
	[ -x "$r" ] || continue
	tgt=${r##*/replay_}
	[ -n "$ONLY" ] && [[ "fuzz_$tgt" != *"$ONLY"* ]] && continue
	run_one "fuzz/$tgt" "$r" "tests/fuzz/corpus/$tgt"
done

if [ "${#failures[@]}" -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
