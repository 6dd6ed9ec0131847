#!/usr/bin/env bash
# make bench-correlate: the correlation stage through Redis (issue 5).
#
#  1. Correlation updates per second: `vigil replay` with all of rules/ (the
#     shipped correlation rules over rules/linux, rules/mappings and
#     rules/placeholders.yml) on the deterministic 1 000 000-line corpus,
#     against a redis-server this script starts. The number of updates (one
#     per matched event and correlation that uses it, alerts fed to other
#     correlations included) is counted by the correlation driver
#     (build/release/tests/test_correlate_drive) on the same corpus and
#     rules; updates/s = updates / replay seconds. Besides the wall clock,
#     Redis's own CPU time per update is shown: the machine is shared, and
#     CPU time is what does not depend on the neighbours.
#  2. The ceiling of this Redis on this machine, in the same run:
#     redis-benchmark -P 64 with EVALSHA of the same window script on a key
#     like vigil's (one group of the SSH password-guessing rule: an
#     event_count window, threshold 10, fired and emptied every tenth call).
#  3. End-to-end latency (tests/bench/bench_correlate.py): vigild with the
#     shipped rules under `vigil loadgen --rate RATE` on TCP, bursts of ten
#     failed SSH passwords inserted; from the send of a burst's last line to
#     its alert on vigild's output: p50, p99, max; with the load average
#     when the run ended, and the number of script calls Redis ran for
#     vigild, its CPU time and its time per call (vigild holds a pass's
#     updates while its previous call is out, so calls grow when it is
#     behind and stay small when it is not).
#
# BASE=/path/to/older/bin/vigil (and BASE_VIGILD=...) runs the same
# measurements with older binaries, alternating with bin/, for a before and
# after in one run; their correlation alerts must be the same.
# Environment: COUNT (1000000), RUNS (2), RATE (50000), SECS (20),
# N (redis-benchmark requests, 300000), LATENCY (1: measure it).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
COUNT=${COUNT:-1000000}
RUNS=${RUNS:-2}
RATE=${RATE:-50000}
SECS=${SECS:-20}
N=${N:-300000}
LATENCY=${LATENCY:-1}
BASE=${BASE:-}
BASE_VIGILD=${BASE_VIGILD:-}
DRIVE=build/release/tests/test_correlate_drive
out=build/bench
mkdir -p "$out"
corpus=$out/corpus-$COUNT.log
if [ ! -s "$corpus" ]; then
	python3 ../shared/bench/gen_syslog.py --count "$COUNT" > "$corpus.tmp"
	mv "$corpus.tmp" "$corpus"
fi
command -v redis-benchmark >/dev/null || { echo "bench: redis-benchmark is missing (make deps)"; exit 1; }
[ -x "$DRIVE" ] || { echo "bench: $DRIVE is missing (make $DRIVE)"; exit 1; }

T=$(mktemp -d /tmp/vigil-bench-corr.XXXXXX)
RPID=
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
SOCK=$T/redis.sock
redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no \
    --dir "$T" --daemonize no > "$T/redis.log" 2>&1 &
RPID=$!
for _ in $(seq 100); do redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.1; done
R() { redis-cli -s "$SOCK" "$@"; }
rcpu() { R info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f", s }'; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

# the number of updates of this corpus and these rules
R flushall >/dev/null
"$DRIVE" --redis "unix://$SOCK" --rules rules "$corpus" > /dev/null 2> "$T/drive.err"
updates=$(awk '$1 == "stat" && $2 == "updates" { print $3 }' "$T/drive.err")
lines=$(wc -l < "$corpus")

# one replay: prints "seconds redis_cpu_seconds"
replay() {
	R flushall >/dev/null
	rm -f "$2"
	local c0 c1 t0 t1
	c0=$(rcpu)
	t0=$(now)
	"$1" replay -q --redis "unix://$SOCK" "$corpus" > "$2"
	t1=$(now)
	c1=$(rcpu)
	echo "$(calc "$t1 - $t0") $(calc "$c1 - $c0")"
}

# the ceiling: prints "requests/s redis_cpu_seconds"
ceiling() {
	local key='vigil:c{ssh_password_guessing:203.0.113.9}' c0 c1 rps
	R flushall >/dev/null
	c0=$(rcpu)
	rps=$(redis-benchmark -s "$SOCK" -P 64 -n "$N" -r 1000000000 --csv \
	    EVALSHA "$sha" 4 "$key" "$key:e" "$key:j" "$key:b" \
	    u ec a 60000 10000 10000 "" 10 "" "" "" "" 1 50 0 370000 0 "" \
	    1795000000000 0000__rand_int__ 0 "" "" 0 2>/dev/null |
	    tail -1 | cut -d, -f2 | tr -d '"')
	c1=$(rcpu)
	echo "$rps $(calc "$c1 - $c0")"
}
sha=$(R script load "$("$DRIVE" --script update)")

best_new=999999 best_base=999999 cpu_new=0 cpu_base=0 best_ceil=0 cpu_ceil=0
for i in $(seq 1 "$RUNS"); do
	read -r s c < <(replay bin/vigil "$out/corr-new.jsonl")
	if python3 -c "import sys; sys.exit(0 if $s < $best_new else 1)"; then best_new=$s cpu_new=$c; fi
	if [ -n "$BASE" ]; then
		read -r s c < <(replay "$BASE" "$out/corr-base.jsonl")
		if python3 -c "import sys; sys.exit(0 if $s < $best_base else 1)"; then best_base=$s cpu_base=$c; fi
	fi
	read -r rps c < <(ceiling)
	if python3 -c "import sys; sys.exit(0 if $rps > $best_ceil else 1)"; then best_ceil=$rps cpu_ceil=$c; fi
done
ncorr=$(grep -c '"kind":"correlation"' "$out/corr-new.jsonl" || true)
if [ -n "$BASE" ] && ! cmp -s <(grep '"kind":"correlation"' "$out/corr-new.jsonl" | cut -c44- | sort) \
    <(grep '"kind":"correlation"' "$out/corr-base.jsonl" | cut -c44- | sort); then
	echo "bench: $BASE and bin/vigil gave different correlation alerts" >&2
	exit 1
fi
rm -f "$out/corr-new.jsonl" "$out/corr-base.jsonl"

row() { # name seconds redis_cpu
	local ups
	ups=$(calc "int($updates / $2)")
	printf '| %-28s | %9s | %8s | %9s | %6s | %7s |\n' "$1" \
	    "$(calc "int($lines / $2)")" "$ups" "$(calc "round($2, 1)")" \
	    "$(calc "'%.0f%%' % (100.0 * $ups / $best_ceil)")" \
	    "$(calc "round(1e6 * $3 / $updates, 1)")"
}
echo
echo "correlation: $updates updates, $ncorr correlation alerts, $lines lines ($corpus)"
echo
echo "| run                          | events/s  | updates/s | seconds   | of ceiling | Redis CPU µs/update |"
echo "|------------------------------|-----------|-----------|-----------|--------|---------|"
row "vigil replay (bin/)" "$best_new" "$cpu_new"
[ -n "$BASE" ] && row "vigil replay (BASE)" "$best_base" "$cpu_base"
printf '| %-28s | %9s | %8s | %9s | %6s | %7s |\n' "redis-benchmark -P 64 EVALSHA" "" \
    "$(calc "int($best_ceil)")" "" "100%" "$(calc "round(1e6 * $cpu_ceil / $N, 1)")"

if [ "$LATENCY" = 1 ]; then
	echo
	echo "latency from a burst's last line sent to its alert written, under $RATE events/s ($SECS s):"
	echo
	echo "| vigild | bursts | no alert | p50 ms | p99 ms | max ms | load avg | script calls | Redis CPU s | Redis µs/call |"
	echo "|--------|--------|----------|--------|--------|--------|----------|--------------|-------------|---------------|"
	# besides the latencies: the 1-minute load average at the end (the
	# machine is shared: a busy one explains a long tail), and what Redis
	# spent on vigild's script calls (fewer, bigger calls cost it less per
	# update)
	lat() {
		local c0 c1 calls upc
		R flushall >/dev/null
		R config resetstat >/dev/null
		mkdir -p "$T/lat"
		c0=$(rcpu)
		read -r nb miss p50 p99 mx < <(python3 tests/bench/bench_correlate.py "$1" \
		    "$ROOT/bin/vigil" "$ROOT" "unix://$SOCK" "$T/lat" "$RATE" "$SECS")
		c1=$(rcpu)
		read -r calls upc < <(R info commandstats | tr -d '\r' |
		    awk -F'[:=,]' '/^cmdstat_evalsha:/ { print $3, $7 }')
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$nb" \
		    "$miss" "$p50" "$p99" "$mx" "$(cut -d' ' -f1 /proc/loadavg)" \
		    "${calls:-0}" "$(calc "round($c1 - $c0, 2)")" "${upc:-0}"
	}
	lat "$ROOT/bin/vigild" "bin/"
	[ -n "$BASE_VIGILD" ] && lat "$BASE_VIGILD" "BASE"
fi
true
