#!/usr/bin/env bash
# vigil check and vigild -t: the shipped files are valid; broken rules and
# configs are reported as path:line:col with the offending line, every
# problem once, and the exit status says so.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

out=$("$BIN/vigil" check 2>"$T/err"); rc=$?
check "check: shipped decoders and rules are valid (exit 0)" [ $rc -eq 0 ]
check "check: shipped rules summary" [ "$(printf '%s\n' "$out" | tail -1)" = "30 rules loaded, 0 rejected, 6 correlation rules" ]
check "check: shipped decoders summary" [ "$(printf '%s\n' "$out" | head -1)" = "78 decoders loaded, 0 rejected" ]
check "check: no warnings on the shipped files" [ ! -s "$T/err" ]

out=$("$BIN/vigil" check parsers 2>/dev/null); rc=$?
check "check parsers/: decoder files recognised" [ "$out" = $'78 decoders loaded, 0 rejected\n0 rules loaded, 0 rejected' ] && [ $rc -eq 0 ]

out=$("$BIN/vigil" check tests/integration/fixtures/badrules 2>"$T/err"); rc=$?
check "check: broken rules give exit 1" [ $rc -eq 1 ]
check "check: broken rules summary" [ "$out" = "2 rules loaded, 4 rejected" ]
same_text "check: every problem as path:line:col with a caret" tests/integration/fixtures/badrules.expected_err "$T/err"

out=$("$BIN/vigild" -t 2>"$T/err"); rc=$?
check "vigild -t: default config valid" [ $rc -eq 0 ]
check "vigild -t: summary" [ "$out" = "vigil.yml: ok; 78 decoders loaded, 0 rejected; 30 rules loaded, 0 rejected; 6 warnings" ]
# the shipped playbooks page the policy "default", which a fresh config
# does not define yet: -t says so for each notify step
check "vigild -t: playbooks checked, unpaged notify steps warned" [ "$(grep -c 'warning: notify.policy: no escalation policies are configured (oncall.escalation_policies); this step pages nobody' "$T/err")" = 6 ]

"$BIN/vigild" -t -c tests/integration/fixtures/badconfig/vigil.yml > /dev/null 2> "$T/err"; rc=$?
check "vigild -t: bad config gives exit 1" [ $rc -eq 1 ]
same_text "vigild -t: every config error with file:line:col" tests/integration/fixtures/badconfig/expected_err "$T/err"

# a config that names a broken rule folder: -t fails and says why
cat > "$T/vigil.yml" <<X
rules: [$ROOT/rules, $ROOT/tests/integration/fixtures/badrules]
parsers: [$ROOT/parsers]
playbooks: []
X
"$BIN/vigild" -t -c "$T/vigil.yml" > "$T/out" 2> "$T/err"; rc=$?
check "vigild -t: broken rule in a configured folder gives exit 1" [ $rc -eq 1 ]
check "vigild -t: names the rule error" grep -q "bad.yml:6:15: error: unsupported modifier 'sounds_like'" "$T/err"
check "vigild -t: summary counts" grep -qx "$T/vigil.yml: errors; 78 decoders loaded, 0 rejected; 32 rules loaded, 4 rejected; 1 warnings" "$T/out"
# a correlation rule is compiled by check too: a broken one is rejected
mkdir -p "$T/corr"
cat > "$T/corr/c.yml" <<'X'
title: Bad correlation
id: 11111111-2222-3333-4444-555555555555
correlation:
    type: event_count
    rules: [no-such-rule]
    group-by: [source.ip]
    timespan: 5m
    condition: {gte: 3}
X
out=$("$BIN/vigil" check rules "$T/corr" 2>"$T/err"); rc=$?
check "check: a broken correlation rule gives exit 1" [ $rc -eq 1 ]
check "check: broken correlation summary" [ "$out" = "30 rules loaded, 1 rejected, 6 correlation rules" ]
check "check: broken correlation named with file:line:col" grep -q "c.yml:5:13: error: correlation.rules: no rule has the id or name 'no-such-rule'" "$T/err"
# a malformed vigil.incident_key (vigild would ignore it) is a warning
# with file:line:col, in a detection rule and in a correlation rule
mkdir -p "$T/keys"
cat > "$T/keys/k.yml" <<'X'
title: Key as a map without fields
id: 11111111-2222-3333-4444-000000000001
logsource: {product: linux, service: sshd}
detection: {sel: {event.outcome: failure}, condition: sel}
vigil:
  incident_key: {name: ssh-attacker}
---
title: Good key
id: 11111111-2222-3333-4444-000000000003
name: good
logsource: {product: linux, service: sshd}
detection: {sel: {event.action: x}, condition: sel}
vigil: {incident_key: {name: ssh-attacker, fields: [source.ip, user.name]}}
---
title: Correlation key with a pipe
id: 11111111-2222-3333-4444-000000000004
correlation:
  type: event_count
  rules: good
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 3}
vigil:
  incident_key: [source.ip, 'a|b']
---
title: Correlation key but no id
correlation:
  type: event_count
  rules: good
  group-by: [source.ip]
  timespan: 1h
  condition: {gte: 300}
vigil: {incident_key: source.ip}
X
out=$("$BIN/vigil" check "$T/keys" 2>"$T/err"); rc=$?
check "check: malformed incident keys are warnings (exit 0)" [ $rc -eq 0 ]
check "check: incident key rules still load" [ "$out" = "2 rules loaded, 0 rejected, 2 correlation rules" ]
grep ': warning: ' "$T/err" | sed "s|^$T/||" > "$T/keys.got"
cat > "$T/keys.want" <<'X'
keys/k.yml:6:17: warning: vigil.incident_key: fields: missing; expected a list of up to 8 field names, or {name: NAME, fields: [...]} (vigild ignores it: the default incident key is used)
keys/k.yml:24:29: warning: vigil.incident_key: a field name has at most 128 bytes and no '|'; expected a list of up to 8 field names, or {name: NAME, fields: [...]} (vigild ignores it: the default incident key is used)
keys/k.yml:33:23: warning: vigil.incident_key: the correlation rule has no id, which the key is kept under (vigild ignores it)
X
same_text "check: each malformed incident key once, as file:line:col" "$T/keys.want" "$T/keys.got"
finish
