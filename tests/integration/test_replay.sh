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

# stdin and several files: the same alerts twice
"$BIN/vigil" replay - "$FIX/attack.log" < "$FIX/attack.log" 2>/dev/null | python3 tests/integration/alerts_project.py > "$T/twice"
cat "$FIX/attack.expected" "$FIX/attack.expected" > "$T/twice.expected"
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
finish
