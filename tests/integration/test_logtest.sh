#!/usr/bin/env bash
# vigil logtest: the decoded event, the decoder and the matching rules per
# line; -v explains per rule why it did or did not match.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

line='<86>Nov 23 00:00:04 bastion sshd[103]: Failed password for root from 203.0.113.9 port 4711 ssh2'
printf '%s\n' "$line" | "$BIN/vigil" logtest > "$T/out" 2> "$T/err"
check "logtest exits 0" [ $? -eq 0 ]
python3 - "$T/out" > "$T/got" <<'PY'
import json, sys
o = json.loads(open(sys.argv[1]).read())
e = o["event"]
print(o["decoder"])
print(" ".join(sorted(o["matches"])))
print(e["event"]["category"], e["event"]["action"], e["event"]["outcome"], e["user"]["name"], e["source"]["ip"], e["source"]["port"], type(e["source"]["port"]).__name__)
print(e["host"]["hostname"], e["process"]["name"], e["process"]["pid"], e["@timestamp"])
PY
cat > "$T/want" <<'X'
sshd-failed-password
a60cf998-6e46-55da-94b1-178ea4ab1c26 d2ccedf2-feb1-56a0-b468-f4fc0920fe36
authentication ssh_login failure root 203.0.113.9 4711 int
bastion sshd 103 2026-11-23T00:00:04.000Z
X
same_text "logtest: the ARCHITECTURE.md sshd contract, decoder and matches" "$T/want" "$T/got"

printf '%s\n' "$line" | "$BIN/vigil" logtest -v > "$T/outv"
python3 - "$T/outv" > "$T/gotv" <<'PY'
import json, sys
o = json.loads(open(sys.argv[1]).read())
x = {r["title"]: r for r in o["explain"]}
print(x["SSH login failed"]["matched"])
print(x["SSH login as root succeeded"]["matched"])
print(x["SSH login as root succeeded"]["why"])
print("Web path traversal attempt" in x)
PY
cat > "$T/wantv" <<'X'
True
False
selection 'selection' failed: field 'event.outcome' is 'failure', expected 'success'
False
X
same_text "logtest -v: explains matches and misses of the event's logsource only" "$T/wantv" "$T/gotv"

printf 'not syslog at all\n{"message":"x","process":{"name":"nginx"}}\n' | "$BIN/vigil" logtest > "$T/two"
check "logtest: one JSON object per input line" [ "$(wc -l < "$T/two")" -eq 2 ]
check "logtest: undecoded line has decoder null" grep -q '"decoder":null' "$T/two"
finish
