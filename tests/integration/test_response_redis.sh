#!/usr/bin/env bash
# test_response_redis.sh: vigild on a Redis of the test's own (redis.url)
# that goes away and comes back.
#
#  - while Redis is away the incident API answers 503 at once, with a JSON
#    error, for reads and writes alike (the silence list is served from
#    what vigild holds);
#  - alerts raised meanwhile wait in vigild and reach their incident once
#    Redis is back (the same incident: its key is still open), and the
#    page they belong to is sent once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resp_lib.sh"

start_receiver http
HP=$(cat "$T/http.port")
RP=$(free_port)
mkdir -p "$T/pb" "$T/r"
start_redis() {
	redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync always --dir "$T/r" > "$T/redis.log" 2>&1 &
	RPID=$!
	PIDS+=($RPID)
	wait_until 10 sh -c "redis-cli -p $RP ping 2>/dev/null | grep -q PONG"
}
cat > "$T/pb/p.yml" <<'EOF'
name: guess
match: {rules: [a60cf998-6e46-55da-94b1-178ea4ab1c26]}
group_by: [source.ip]
steps:
  - notify: {channel: hook, summary: "guessing from {{source.ip}}"}
EOF
write_config "
playbooks: [pb]
redis: {url: \"redis://127.0.0.1:$RP\"}
response: {group_wait: 0, group_interval: 1h, repeat_interval: 0}
channels:
  hook: {type: webhook, url: \"http://127.0.0.1:$HP/hook\"}
"
check "redis-server up" start_redis
start_vigild

send "$(ssh_fail 203.0.113.9)" "$(ssh_fail 203.0.113.9)"
check "paged" wait_until 30 at_least 1 /hook 200
check "incident 1 with 2 alerts" wait_until 10 field_is 1 'j["alerts"]' 2

kill "$RPID"; wait "$RPID" 2>/dev/null
E503='503 {"error":"Redis is unavailable"}'
down() { test "$(api GET /api/v1/incidents)" = "$E503"; }
check "Redis away: list 503" wait_until 30 down
check "Redis away: one incident 503" test "$(api GET /api/v1/incidents/1)" = "$E503"
check "Redis away: ack 503" test "$(api POST /api/v1/incidents/1/ack '{"by":"carol"}')" = "$E503"
check "Redis away: adding a silence 503" test "$(api POST /api/v1/silences '{"matchers":{"levels":["low"]},"duration":"1h","author":"a","comment":"c"}')" = "$E503"
check "Redis away: the silences vigild holds are still listed" test "$(api GET /api/v1/silences)" = '200 {"silences":[]}'
send "$(ssh_fail 203.0.113.9)" "$(ssh_fail 203.0.113.9)" "$(ssh_fail 203.0.113.9)"
sleep 1
check "Redis back" start_redis
check "the alerts raised meanwhile joined incident 1" wait_until 60 field_is 1 'j["alerts"]' 5
check "still one incident" test "$(api GET '/api/v1/incidents?state=open' | cut -d' ' -f2- | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" = 1
check "ack works again" test "$(vigil_cli incidents ack 1 --by carol)" = "incident 1 acknowledged by carol"
check "acknowledgement sent" wait_until 30 at_least 2 /hook 200
sleep 0.5
check "one page and one acknowledgement, nothing twice" test "$(python3 -c '
import json,sys
print([json.loads(json.loads(l)["body"])["event"] for l in open(sys.argv[1]) if json.loads(l)["path"] == "/hook"])' "$T/http.log")" = "['trigger', 'acknowledge']"

stop_vigild
check "no sanitizer or crash report" sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$T/vigild.log'"
finish
