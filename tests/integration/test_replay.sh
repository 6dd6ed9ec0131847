#!/usr/bin/env bash
# vigil replay: a fixture log with every shipped rule's positive case and
# near misses, in RFC 3164, RFC 5424, JSON and headerless lines, gives
# exactly the expected alerts in the fixed alert schema.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$BIN/vigil" replay "$FIX/attack.log" > "$T/alerts.jsonl" 2> "$T/stderr"
check "replay exits 0" [ $? -eq 0 ]
if python3 tests/integration/alerts_project.py < "$T/alerts.jsonl" > "$T/got" 2> "$T/schema"; then
	ok "replay alerts follow the fixed schema"
else
	notok "replay alerts follow the fixed schema" "$(cat "$T/schema")"
fi
same_text "replay gives the expected alerts" "$FIX/attack.expected" "$T/got"
check "replay summary on stderr" grep -qE '^replay: 44 events, 41 decoded, 44 alerts in [0-9.]+ s \([0-9]+ events/s\)' "$T/stderr"
check "no progress bar when stderr is not a terminal" bash -c "! grep -q '\[#' '$T/stderr'"

# stdin and several files: the same detections twice; correlation sees
# every event twice, so bob's sudo/su failures (2 per file) reach 3 and the
# web attacks of 203.0.113.20 (8 per file) reach 10
"$BIN/vigil" replay - "$FIX/attack.log" < "$FIX/attack.log" 2>/dev/null | python3 tests/integration/alerts_project.py > "$T/twice"
cat "$FIX/attack.expected" "$FIX/attack.expected" > "$T/twice.expected"
printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
    2026-11-23T00:00:14.000Z correlation de75f857-b094-4f17-bf3e-391dbad66d9f "Repeated su or sudo failures by one user" bastion \
    "     bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/ls" \
    2026-11-23T00:00:30.000Z correlation 067fc667-e1f2-41ff-9c73-5b02792a51e7 "Web attack burst from one address" web01 \
    '203.0.113.20 - - [23/Nov/2026:00:00:30 +0000] "GET /cgi-bin/;cat%20/etc/shadow HTTP/1.1" 404 0 "-" "Mozilla/5.0"' \
    >> "$T/twice.expected"
same_text "replay reads stdin (-) and several files in order" "$T/twice.expected" "$T/twice"

# --rules narrows the rule set, mappings still come from the config
"$BIN/vigil" replay --rules rules/linux/web.yml "$FIX/attack.log" 2>/dev/null | python3 tests/integration/alerts_project.py | cut -f4 | sort | uniq -c | awk '{$1=$1; print}' > "$T/web"
cat > "$T/web.expected" <<'X'
1 Command injection attempt in a request
1 Known attack tool user agent
3 Probe for sensitive files
2 SQL injection probe in a request
1 Web path traversal attempt
1 Web server error response
X
same_text "replay --rules loads only the named rules" "$T/web.expected" "$T/web"

# a missing file is an error, the others still run
"$BIN/vigil" replay "$T/nope.log" "$FIX/attack.log" > "$T/partial" 2> "$T/partial.err"
rc=$?
check "missing input file: exit 1" [ $rc -eq 1 ]
check "missing input file: named on stderr" grep -q "nope.log: No such file or directory" "$T/partial.err"
check "missing input file: other files still replayed" [ "$(wc -l < "$T/partial")" -eq 44 ]

# hostile lines: binary garbage, NULs, a 3 MB line, invalid JSON; nothing lost
python3 - "$T/hostile.log" <<'PY'
import sys, random
r = random.Random(5)
with open(sys.argv[1], "wb") as f:
    f.write(b"<86>Nov 23 00:00:01 h sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2\n")
    f.write(bytes(r.randrange(256) for _ in range(5000)).replace(b"\n", b" ") + b"\n")
    f.write(b"<86>Nov 23 00:00:02 h sshd[1]: Failed password for r\x00oot from 203.0.113.9 port 2 ssh2\n")
    f.write(b"{" + b"x" * 3000000 + b"\n")
    f.write(b'{"message": "Failed password for root from 203.0.113.9 port 3 ssh2", "process": {"name": "sshd"}, "bad": \n')
    f.write(b"[" * 100000 + b"\n")
    f.write(b"<86>Nov 23 00:00:03 h sshd[1]: Failed password for \xff\xferoot from 203.0.113.9 port 4 ssh2\n")
    f.write(b"<86>Nov 23 00:00:04 h sshd[1]: Failed password for root from 203.0.113.9 port 5 ssh2\n")
PY
"$BIN/vigil" replay "$T/hostile.log" > "$T/hostile.jsonl" 2> "$T/hostile.err"
check "hostile input: exit 0" [ $? -eq 0 ]
check "hostile input: every line became an event" grep -qE '^replay: 8 events' "$T/hostile.err"
check "hostile input: over-long line truncated and reported" grep -q "1 lines longer than 1048576 bytes truncated" "$T/hostile.err"
python3 tests/integration/alerts_project.py < "$T/hostile.jsonl" | cut -f4,6 > "$T/hostile.got"
python3 - "$T/hostile.expected" <<'PY'
import sys
rows = [("SSH login failed", "port 1"), ("SSH password guess for root", "port 1"),
        ("SSH login failed", "port 2", "r\x00oot"), ("SSH login failed", "port 4", "\ufffd\ufffdroot"),
        ("SSH login failed", "port 5"), ("SSH password guess for root", "port 5")]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for r in rows:
        user = r[2] if len(r) > 2 else "root"
        f.write("%s\tFailed password for %s from 203.0.113.9 %s ssh2\n" % (r[0], user, r[1]))
PY
same_text "hostile input: the valid events around it still alert" "$T/hostile.expected" "$T/hostile.got"

# ---- threads: the same output as one thread, whatever the chunking ----

# alert lines without their id, in order
noid() { cut -c44- "$1"; }

"$BIN/vigil" replay --threads 1 "$FIX/attack.log" > "$T/t1.jsonl" 2>/dev/null
for args in "--threads 2" "--threads 3 --chunk-lines 7" "--threads 4 --chunk-lines 1" \
    "--threads 2 --chunk-lines 2 --test-guess 0"; do
	"$BIN/vigil" replay $args "$FIX/attack.log" > "$T/tn.jsonl" 2> "$T/tn.err"
	noid "$T/t1.jsonl" > "$T/t1.noid"
	noid "$T/tn.jsonl" > "$T/tn.noid"
	same_text "replay $args: the alerts of --threads 1 but the ids" "$T/t1.noid" "$T/tn.noid"
	check "replay $args: summary counts" grep -qE '^replay: 44 events, 41 decoded, 44 alerts in' "$T/tn.err"
done
python3 - "$T/tn.jsonl" > "$T/ids" <<'PY'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
print("increasing" if all(a < b for a, b in zip(ids, ids[1:])) else "not increasing: %s" % ids)
PY
check "replay with threads: ids increase down the output" grep -qx increasing "$T/ids"
"$BIN/vigil" replay --threads 2 --chunk-lines 1 - < "$FIX/attack.log" > "$T/stdin.jsonl" 2>/dev/null
noid "$T/stdin.jsonl" > "$T/stdin.noid"
same_text "replay stdin with threads and one-line chunks" "$T/t1.noid" "$T/stdin.noid"
"$BIN/vigil" replay --threads x "$FIX/attack.log" > /dev/null 2> "$T/badthreads"
check "replay --threads x: usage error (exit 2)" [ $? -eq 2 ]
check "replay --threads x: says why" grep -q -- "--threads: a number" "$T/badthreads"
"$BIN/vigil" replay --bogus "$FIX/attack.log" > /dev/null 2> "$T/usage"
check "replay usage names --threads" grep -q -- "--threads N" "$T/usage"

# Event time is sequential: lines without a timestamp take the previous
# event's, year-less times take the year nearest to it (December/January
# roll-over both ways, Feb 29). Every chunking, thread count and worker
# guess must give what one thread gives, and that is spelled out here.
python3 - "$T/time.log" <<'PY'
import sys
lines = []
def ssh(ts, port):
    return "<86>%s h sshd[1]: Failed password for root from 203.0.113.9 port %d ssh2" % (ts, port)
def js(port):
    return '{"process":{"name":"sshd"},"message":"Failed password for carol from 10.1.1.1 port %d ssh2"}' % port
def five(ts, port):
    return "<86>1 %s h sshd 1 - - Failed password for root from 203.0.113.9 port %d ssh2" % (ts, port)
seq = [js, js, lambda p: five("2025-12-31T23:59:50.000Z", p),
       lambda p: ssh("Dec 31 23:59:59", p), js, lambda p: ssh("Jan  1 00:00:01", p), js, js, js,
       lambda p: ssh("Dec 31 23:59:58", p), None, js, lambda p: ssh("Jan  1 00:00:02", p),
       lambda p: "plain text without anything %d" % p, js, lambda p: ssh("Feb 29 12:00:00", p), js,
       lambda p: ssh("Jun 30 00:00:00", p), lambda p: ssh("Jan  2 00:00:00", p),
       lambda p: ssh("Jul  3 00:00:00", p), lambda p: ssh("Dec 31 00:00:00", p),
       lambda p: ssh("Jan  5 00:00:00", p), lambda p: five("2027-03-01T00:00:00.000Z", p),
       js, js, js, js, lambda p: ssh("Mar  1 00:00:01", p)]
for port, f in enumerate(seq, 1):
    lines.append("" if f is None else f(port))
open(sys.argv[1], "w").write("\r\n".join(lines[:5]) + "\n" + "\n".join(lines[5:]))  # CRLF, no last newline
PY
# time, rule, port; the first two take the time of receipt (one time, shared)
project_time() {
	python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
recv = rows[0]["@timestamp"] if rows else None
for a in rows:
    e = a["event"]
    ts = "RECV" if a["@timestamp"] == recv else a["@timestamp"]
    assert e["@timestamp"] == a["@timestamp"], a
    print(ts, a["rule"]["title"], e["message"].split(" port ")[1].split()[0], sep="\t")'
}
cat > "$T/time.expected" <<'X'
RECV	SSH login failed	1
RECV	SSH login failed	2
2025-12-31T23:59:50.000Z	SSH login failed	3
2025-12-31T23:59:50.000Z	SSH password guess for root	3
2025-12-31T23:59:59.000Z	SSH login failed	4
2025-12-31T23:59:59.000Z	SSH password guess for root	4
2025-12-31T23:59:59.000Z	SSH login failed	5
2026-01-01T00:00:01.000Z	SSH login failed	6
2026-01-01T00:00:01.000Z	SSH password guess for root	6
2026-01-01T00:00:01.000Z	SSH login failed	7
2026-01-01T00:00:01.000Z	SSH login failed	8
2026-01-01T00:00:01.000Z	SSH login failed	9
2025-12-31T23:59:58.000Z	SSH login failed	10
2025-12-31T23:59:58.000Z	SSH password guess for root	10
2025-12-31T23:59:58.000Z	SSH login failed	12
2026-01-01T00:00:02.000Z	SSH login failed	13
2026-01-01T00:00:02.000Z	SSH password guess for root	13
2026-01-01T00:00:02.000Z	SSH login failed	15
2024-02-29T12:00:00.000Z	SSH login failed	16
2024-02-29T12:00:00.000Z	SSH password guess for root	16
2024-02-29T12:00:00.000Z	SSH login failed	17
2024-06-30T00:00:00.000Z	SSH login failed	18
2024-06-30T00:00:00.000Z	SSH password guess for root	18
2024-01-02T00:00:00.000Z	SSH login failed	19
2024-01-02T00:00:00.000Z	SSH password guess for root	19
2023-07-03T00:00:00.000Z	SSH login failed	20
2023-07-03T00:00:00.000Z	SSH password guess for root	20
2023-12-31T00:00:00.000Z	SSH login failed	21
2023-12-31T00:00:00.000Z	SSH password guess for root	21
2024-01-05T00:00:00.000Z	SSH login failed	22
2024-01-05T00:00:00.000Z	SSH password guess for root	22
2027-03-01T00:00:00.000Z	SSH login failed	23
2027-03-01T00:00:00.000Z	SSH password guess for root	23
2027-03-01T00:00:00.000Z	SSH login failed	24
2027-03-01T00:00:00.000Z	SSH login failed	25
2027-03-01T00:00:00.000Z	SSH login failed	26
2027-03-01T00:00:00.000Z	SSH login failed	27
2027-03-01T00:00:01.000Z	SSH login failed	28
2027-03-01T00:00:01.000Z	SSH password guess for root	28
X
"$BIN/vigil" replay --threads 1 "$T/time.log" 2> "$T/time.err" | project_time > "$T/time.got"
same_text "event time across lines: one thread" "$T/time.expected" "$T/time.got"
check "event time across lines: 27 events (CRLF, empty line, no last newline)" grep -qE '^replay: 27 events, 26 decoded, 39 alerts' "$T/time.err"
bad=""
for th in 2 3; do
	for cl in 1 2 3 5; do
		for g in "" "--test-guess 0" "--test-guess 1767225601000" "--test-guess 9999999999999"; do
			"$BIN/vigil" replay --threads $th --chunk-lines $cl $g "$T/time.log" 2> "$T/tn.err" |
			    project_time > "$T/time.got"
			cmp -s "$T/time.expected" "$T/time.got" || bad="$bad [--threads $th --chunk-lines $cl $g]"
			grep -qE '^replay: 27 events, 26 decoded, 39 alerts' "$T/tn.err" ||
			    bad="$bad [counts: --threads $th --chunk-lines $cl $g]"
		done
	done
done
check "event time across chunk boundaries: every chunking and guess$bad" [ -z "$bad" ]
"$BIN/vigil" replay --threads 2 --chunk-lines 1 --test-guess 0 "$T/time.log" 2> "$T/tn.err" > /dev/null
check "a wrong guess runs lines again (and says so)" grep -qE '^replay: [0-9]+ lines ran again' "$T/tn.err"

# lines over the limit, through a pipe in small reads, or a file, in any
# chunking: the same events
cat "$T/hostile.log" | "$BIN/vigil" replay --threads 3 --chunk-lines 1 - > "$T/h2.jsonl" 2> "$T/h2.err"
noid "$T/hostile.jsonl" > "$T/h1.noid"
noid "$T/h2.jsonl" > "$T/h2.noid"
same_text "hostile input through a pipe, one-line chunks: the same alerts" "$T/h1.noid" "$T/h2.noid"
check "hostile input through a pipe: truncation reported" grep -q "1 lines longer than 1048576 bytes truncated" "$T/h2.err"
check "hostile input through a pipe: 8 events" grep -qE '^replay: 8 events' "$T/h2.err"
python3 - "$T/long.log" <<'PY'
import sys
ok = "<86>Nov 23 00:00:0%d h sshd[1]: Failed password for root from 203.0.113.9 port %d ssh2"
with open(sys.argv[1], "wb") as f:
    f.write((ok % (1, 1)).encode() + b"\n")
    f.write(b"a" * (1 << 20) + b"\n")                         # exactly the limit: kept
    f.write(b"c" * ((1 << 20) - 1) + b"\r\n")                 # the limit with its CR: kept
    f.write((ok % (2, 2)).encode() + b"x" * (3 << 20) + b"\n")  # over: cut, still an alert
    f.write((ok % (3, 3)).encode() + b"\n\n\n")
    f.write(b"b" * ((1 << 20) + 1))                             # over, at the end, no newline
PY
for src in file pipe; do
	if [ $src = file ]; then
		"$BIN/vigil" replay --threads 2 "$T/long.log" > "$T/long.jsonl" 2> "$T/long.err"
	else
		cat "$T/long.log" | "$BIN/vigil" replay --threads 1 - > "$T/long.jsonl" 2> "$T/long.err"
	fi
	check "long lines ($src): 6 events, 2 cut" grep -qE '^replay: 6 events' "$T/long.err"
	check "long lines ($src): truncation counted" grep -q ": 2 lines longer than 1048576 bytes truncated" "$T/long.err"
	python3 -c 'import json,sys; print(" ".join(json.loads(l)["event"]["message"][-6:] for l in open(sys.argv[1])))' "$T/long.jsonl" > "$T/long.got"
	check "long lines ($src): the cut line still alerts" grep -qx "1 ssh2 1 ssh2 xxxxxx xxxxxx 3 ssh2 3 ssh2" "$T/long.got"
done
# ---- the line split (64 bytes at a time): every line length around the
# blocks, CRLF, empty lines, no last newline, in any chunking ----
python3 - "$T/split.log" "$T/split.expected" <<'PY'
import sys
line = "<86>Nov 23 00:00:01 h sshd[1]: Failed password for u%s from 203.0.113.9 port %d ssh2"
want = []
with open(sys.argv[1], "wb") as f:
    for i in range(3000):
        user = "x" * (i * 7 % 211)
        f.write((line % (user, i)).encode())
        want.append("u%s %d" % (user, i))
        f.write(b"\r\n" if i % 5 == 0 else b"\n")
        if i % 11 == 0:
            f.write(b"\n" * (i % 3 + 1))    # empty lines: no events
        if i % 13 == 0:
            f.write(b"\r\n")                 # a line of a CR alone: none either
    f.write((line % ("last", 3000)).encode())  # no newline at the end
    want.append("ulast 3000")
open(sys.argv[2], "w").write("\n".join(want) + "\n")
PY
SPLITRULES="--rules rules/linux --rules rules/mappings --rules rules/placeholders.yml"
for run in "--threads 1" "--threads 2" "--threads 2 --chunk-lines 7" "--threads 1 -"; do
	if [ "${run% -}" != "$run" ]; then
		cat "$T/split.log" | "$BIN/vigil" replay $SPLITRULES ${run% -} - > "$T/split.jsonl" 2> "$T/split.err"
	else
		"$BIN/vigil" replay $SPLITRULES $run "$T/split.log" > "$T/split.jsonl" 2> "$T/split.err"
	fi
	check "line split ($run): 3001 events" grep -qE '^replay: 3001 events' "$T/split.err"
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)["event"]
    print(e["user"]["name"], e["source"]["port"])' "$T/split.jsonl" > "$T/split.got"
	same_text "line split ($run): each line's event, in order" "$T/split.expected" "$T/split.got"
done
# ---- output to a file: blocks reserved ahead are given back ----
"$BIN/vigil" replay --threads 1 "$FIX/attack.log" > "$T/file.jsonl" 2>/dev/null
noid "$T/file.jsonl" > "$T/file.noid"
same_text "replay into a new file: the alerts of a pipe" "$T/t1.noid" "$T/file.noid"
check "replay into a new file: no blocks left past its end" \
    python3 -c 'import os,sys; st=os.stat(sys.argv[1]); sys.exit(0 if st.st_blocks*512 <= st.st_size + 65536 else 1)' "$T/file.jsonl"
echo "kept line" > "$T/append.jsonl"
"$BIN/vigil" replay --threads 1 "$FIX/attack.log" >> "$T/append.jsonl" 2>/dev/null
check "replay appending to a file: its lines stay first" [ "$(head -1 "$T/append.jsonl")" = "kept line" ]
check "replay appending to a file: every alert after them" [ "$(wc -l < "$T/append.jsonl")" -eq 45 ]
# ---- a big output into a new file (several of its reserved steps): the
# alerts of a pipe, and stdout's offset after them for what comes next ----
python3 - > "$T/big.log" <<'PY'
for i in range(12000):
    print("<86>Nov 23 %02d:%02d:%02d bastion sshd[%d]: Failed password for user%d "
          "from 203.0.%d.%d port %d ssh2" % (i // 3600, i // 60 % 60, i % 60,
          1000 + i, i % 97, i % 251, i % 199, 1024 + i))
PY
BIGRULES="--rules rules/linux --rules rules/mappings --rules rules/placeholders.yml"
"$BIN/vigil" replay -q $BIGRULES --threads 1 "$T/big.log" | cut -c44- > "$T/big.pipe"
check "big output: 12000 alerts through a pipe" [ "$(wc -l < "$T/big.pipe")" -eq 12000 ]
for th in 1 2; do
	rm -f "$T/big.jsonl"
	"$BIN/vigil" replay -q $BIGRULES --threads $th "$T/big.log" > "$T/big.jsonl"
	check "big output into a new file (--threads $th): exit 0" [ $? -eq 0 ]
	noid "$T/big.jsonl" > "$T/big.noid"
	same_text "big output into a new file (--threads $th): the alerts of a pipe" "$T/big.pipe" "$T/big.noid"
	check "big output into a new file (--threads $th): more than 8 MiB" \
	    [ "$(stat -c %s "$T/big.jsonl")" -gt $((8 << 20)) ]
	check "big output into a new file (--threads $th): no blocks left past its end" \
	    python3 -c 'import os,sys; st=os.stat(sys.argv[1]); sys.exit(0 if st.st_blocks*512 <= st.st_size + 65536 else 1)' "$T/big.jsonl"
done
rm -f "$T/big.jsonl"
{ "$BIN/vigil" replay -q $BIGRULES "$T/big.log"; echo "after the alerts"; } > "$T/big.jsonl"
check "big output, then the shell writes: its line comes last" \
    [ "$(tail -1 "$T/big.jsonl")" = "after the alerts" ]
check "big output, then the shell writes: every alert before it" \
    [ "$(wc -l < "$T/big.jsonl")" -eq 12001 ]
head -12000 "$T/big.jsonl" | cut -c44- > "$T/big.noid"
same_text "big output, then the shell writes: the alerts intact" "$T/big.pipe" "$T/big.noid"

# one rule looks up the message whole, another has it as a keyword: both
# alert (the keyword rule was lost when the field rule had found the text)
mkdir -p "$T/shared"
cat > "$T/shared/eq.yml" <<'X'
title: message equals
id: 11111111-1111-4111-8111-111111111111
logsource: {product: linux}
detection:
  sel:
    message: 'session opened'
  condition: sel
level: low
X
cat > "$T/shared/kw.yml" <<'X'
title: keyword
id: 22222222-2222-4222-8222-222222222222
logsource: {product: linux}
detection:
  keywords:
    - 'session opened'
  condition: keywords
level: low
X
echo '<13>Nov 23 10:00:00 h1 app[1]: session opened' > "$T/shared.log"
"$BIN/vigil" replay -q --rules "$T/shared" --rules "$ROOT/rules/mappings" "$T/shared.log" |
    python3 -c 'import json,sys; print(sorted(json.loads(l)["rule"]["title"] for l in sys.stdin))' > "$T/shared.got"
check "a literal one rule looks up whole and another as a keyword: both alert" \
    grep -qx "\['keyword', 'message equals'\]" "$T/shared.got"
finish
