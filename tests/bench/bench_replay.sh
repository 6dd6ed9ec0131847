#!/usr/bin/env bash
# make bench: events per second of `vigil replay` with every shipped rule on
# the deterministic 1 000 000-line corpus, and of SEC (Debian package `sec`)
# on the same file with one equivalent rule (SingleWithThreshold: sshd
# failed password per source address). Prints both and the ratio and
# records them in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${COUNT:-1000000}
out=build/bench
mkdir -p "$out"
corpus=$out/corpus-$COUNT.log
if [ ! -s "$corpus" ]; then
	python3 ../shared/bench/gen_syslog.py --count "$COUNT" > "$corpus.tmp"
	mv "$corpus.tmp" "$corpus"
fi
lines=$(wc -l < "$corpus")
nrules=$(bin/vigil check rules 2>/dev/null | tail -1 | awk '{print $1}')

now() { date +%s.%N; }
best_vigil=0
for i in 1 2 3; do
	t0=$(now)
	bin/vigil replay -q "$corpus" > "$out/alerts.jsonl"
	t1=$(now)
	eps=$(python3 -c "print(int($lines/($t1-$t0)))")
	[ "$eps" -gt "$best_vigil" ] && best_vigil=$eps
done
alerts=$(wc -l < "$out/alerts.jsonl")

cat > "$out/sec.conf" <<'SEC'
type=SingleWithThreshold
ptype=RegExp
pattern=sshd\[\d+\]: Failed password for (?:invalid user )?\S+ from ([\d.]+) port \d+
desc=SSH password guessing from $1
action=write - SSH password guessing from $1
window=60
thresh=5
SEC
command -v sec >/dev/null || { echo "bench: sec is not installed (make deps)"; exit 1; }
t0=$(now)
sec --conf="$out/sec.conf" --input="$corpus" --notail --fromstart --nointcontexts --debug=1 > "$out/sec.out" 2>/dev/null || true
t1=$(now)
sec_eps=$(python3 -c "print(int($lines/($t1-$t0)))")
ratio=$(python3 -c "print('%.1f' % ($best_vigil/$sec_eps))")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "vigil replay: $best_vigil events/s ($nrules rules, $alerts alerts)"
echo "sec:          $sec_eps events/s (1 rule)"
echo "ratio:        ${ratio}x"

python3 - "$best_vigil" "$sec_eps" "$ratio" "$nrules" "$alerts" "$lines" "$cpu" "$(nproc)" <<'PY'
import sys, re, datetime
v, s, r, nrules, alerts, lines, cpu, ncpu = sys.argv[1:]
section = f"""## make bench: replay vs SEC

Command: `make bench` (corpus: `gen_syslog.py --count {lines}`, best of 3 runs for vigil).
Machine: {cpu}, {ncpu} cores. Date: {datetime.date.today()}.

| engine | rules | events/s |
|---|---|---|
| vigil replay | {nrules} shipped rules ({alerts} alerts) | {v} |
| SEC (SingleWithThreshold) | 1 | {s} |
| ratio | | {r}x |
"""
try:
    text = open("BENCHMARKS.md").read()
except FileNotFoundError:
    text = "# vigil benchmarks\n\nFigures come from the commands shown; rerun them to compare changes.\n\n"
pat = re.compile(r"## make bench: replay vs SEC\n.*?(?=\n## |\Z)", re.S)
text = pat.sub(section.rstrip("\n") + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section
open("BENCHMARKS.md", "w").write(text)
PY
