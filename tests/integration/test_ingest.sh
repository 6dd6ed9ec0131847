#!/usr/bin/env bash
# vigild as a network syslog target, beyond the basics of test_vigild.sh:
# two workers with SO_REUSEPORT and many connections, oversized frames,
# max_connections, idle timeout, TLS with client certificates, HTTP ingest
# with a bearer token, UDP kernel drops counted exactly, a second instance
# refused, and privilege dropping.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# ---- certificates: a CA, the server, a client it signed, a stranger ----
C=$T/tls
mkdir -p "$C"
(
	cd "$C"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=vigil test CA"
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
	printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=sender1"
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
	openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj "/CN=rogue"
) > "$T/openssl.log" 2>&1 || { notok "test certificates" "$(cat "$T/openssl.log")"; finish; }

p_tcp=$(free_port); p_cap=$(free_port); p_idle=$(free_port); p_tls=$(free_port)
p_udp=$(free_port); hport=$(free_port)
head -c 24 /dev/urandom | base64 > "$T/token"
token=$(cat "$T/token")
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$p_tcp", max_message: 1k}
  - {name: cap-in, type: tcp, listen: "127.0.0.1:$p_cap", max_connections: 2}
  - {name: idle-in, type: tcp, listen: "127.0.0.1:$p_idle", idle_timeout: 1s}
  - {name: tls-in, type: tls, listen: "127.0.0.1:$p_tls", cert: tls/server.pem, key: tls/server.key, ca: tls/ca.pem}
  - {name: udp-in, type: udp, listen: "127.0.0.1:$p_udp", rcvbuf: 4k}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport", token_file: token}
workers: 2
data_dir: $T/var
X
"$BIN/vigild" -c "$T/vigil.yml" 2> "$T/vigild.log" &
vpid=$!
PIDS+=("$vpid")
if wait_for healthy; then ok "vigild starts with two workers, TLS and five inputs"; else notok "vigild starts with two workers, TLS and five inputs" "$(cat "$T/vigild.log")"; fi
check "log: two workers" grep -q "running: 2 workers" "$T/vigild.log"

# metric_is NAME VALUE: wait until the metric settles at VALUE
expect_metric() {
	if wait_for metric_is "$2" "$3"; then ok "$1"; else notok "$1" "$2 = $(metric "$2"), want $3"; fi
}

# ---- many connections over both workers ----
python3 - "$p_tcp" <<'PY'
import socket, sys
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
for k in range(500):
    for i, s in enumerate(conns):
        n = i * 500 + k
        s.sendall(b"<38>Nov 23 10:00:00 web1 sshd[7]: Failed password for bob from 10.%d.%d.%d port 22 ssh2\n"
                  % (n >> 16, (n >> 8) & 255, n & 255))
for s in conns:
    s.close()
PY
expect_metric "8 connections x 500 messages all received" 'vigil_messages_received_total{input="tcp-in"}' 4000
expect_metric "8 connections accepted" 'vigil_connections_total{input="tcp-in"}' 8
count_login_failed() { [ "$(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl" 2>/dev/null)" = "$1" ]; }
if wait_for count_login_failed 4000; then ok "4000 'SSH login failed' alerts"; else notok "4000 'SSH login failed' alerts" "got $(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl")"; fi
check "every source address once" [ "$(grep -o '"source":{"ip":"10\.[0-9.]*"' "$T/alerts.jsonl" | sort -u | wc -l)" = 4000 ]

# ---- a frame over max_message is cut and counted; the next one is whole ----
python3 - "$p_tcp" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"<38>Nov 23 10:00:01 web1 app: " + b"A" * 3000 + b"\n")
s.sendall(b"<38>Nov 23 10:00:02 web1 sshd[8]: Failed password for eve from 192.0.2.77 port 22 ssh2\n")
s.close()
PY
expect_metric "oversized frame counted as truncated" 'vigil_messages_truncated_total{input="tcp-in"}' 1
expect_metric "oversized frame and the next one both received" 'vigil_messages_received_total{input="tcp-in"}' 4002
has_alert() { grep -q "$1" "$T/alerts.jsonl" 2>/dev/null; }
if wait_for has_alert '"ip":"192.0.2.77"'; then ok "the frame after an oversized one is intact"; else notok "the frame after an oversized one is intact"; fi

# ---- max_connections: the third connection is closed at once ----
python3 - "$p_cap" > "$T/cap.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port))
b = socket.create_connection(("127.0.0.1", port))
a.sendall(b"<38>Nov 23 10:00:03 h sshd[1]: hello from a\n")
time.sleep(0.3)
c = socket.create_connection(("127.0.0.1", port))
c.settimeout(10)
try:
    print("third:", "closed" if c.recv(1) == b"" else "open")
except ConnectionResetError:
    print("third: closed")
except socket.timeout:
    print("third: open")
PY
check "third connection over max_connections is closed" grep -qx "third: closed" "$T/cap.out"
expect_metric "max_connections refusal counted" 'vigil_connections_closed_total{input="cap-in",reason="max_connections"}' 1
expect_metric "connections under the cap were accepted" 'vigil_connections_total{input="cap-in"}' 2
expect_metric "open connections gauge back to 0" 'vigil_connections_open{input="cap-in"}' 0

# ---- idle_timeout ----
python3 - "$p_idle" > "$T/idle.out" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
print("idle:", "closed" if s.recv(1) == b"" else "data")
PY
check "a silent connection is closed by idle_timeout" grep -qx "idle: closed" "$T/idle.out"
expect_metric "idle close counted" 'vigil_connections_closed_total{input="idle-in",reason="idle"}' 1

# ---- TLS with client certificates ----
cat > "$T/tls.py" <<'PY'
import socket, ssl, sys
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
if cert != "-":
    ctx.load_cert_chain(cert, key)
try:
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            m = b"<38>Nov 23 10:00:04 web1 sshd[9]: Failed password for root from 192.0.2.%d port 22 ssh2"
            s.sendall(m % 1 + b"\n" + m % 2 + b"\r\n")
            framed = m % 3
            s.sendall(b"%d " % len(framed) + framed)
            s.sendall(m % 4)   # no trailer: delivered at close
            s.settimeout(5)
            try:
                s.recv(1)      # a refused certificate shows up here in TLS 1.3
            except socket.timeout:
                pass
    print("sent")
except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
    print("refused")
PY
timeout 30 python3 "$T/tls.py" "$p_tls" "$C/ca.pem" "$C/client.pem" "$C/client.key" > "$T/tls.out" 2>&1
check "TLS client with a certificate from the CA: sent" grep -qx sent "$T/tls.out"
expect_metric "TLS: four messages (LF, CRLF, octet-counted, unterminated)" 'vigil_messages_received_total{input="tls-in"}' 4
tls_alerts() { [ "$(grep '"title":"SSH login failed"' "$T/alerts.jsonl" | grep -c '"ingress":"tls-in"')" = 4 ]; }
if wait_for tls_alerts; then ok "TLS messages decoded and alerted with observer.ingress tls-in"; else notok "TLS messages decoded and alerted with observer.ingress tls-in"; fi
timeout 30 python3 "$T/tls.py" "$p_tls" "$C/ca.pem" - - > "$T/tls2.out" 2>&1
timeout 30 python3 "$T/tls.py" "$p_tls" "$C/ca.pem" "$C/rogue.pem" "$C/rogue.key" > "$T/tls3.out" 2>&1
check "TLS client without a certificate is refused" grep -qx refused "$T/tls2.out"
check "TLS client with a certificate from another CA is refused" grep -qx refused "$T/tls3.out"
expect_metric "TLS handshake failures counted" 'vigil_connections_closed_total{input="tls-in",reason="tls_handshake"}' 2
expect_metric "refused TLS clients delivered nothing" 'vigil_messages_received_total{input="tls-in"}' 4
check "handshake failure logged with the reason" grep -q "tls-in: 127.0.0.1: TLS handshake failed: .*certificate" "$T/vigild.log"

# ---- HTTP ingest ----
api="http://127.0.0.1:$hport/api/v1/events"
code=$(curl -s -o "$T/r0" -w '%{http_code}' -X POST --data-binary '{"message":"x"}' "$api")
check "HTTP ingest without the token: 401" [ "$code" = 401 ]
code=$(curl -s -o "$T/r1" -w '%{http_code}' -H "Authorization: Bearer wrong-token-wrong-token" -X POST --data-binary '{"message":"x"}' "$api")
check "HTTP ingest with a wrong token: 401" [ "$code" = 401 ]
auth=(-H "Authorization: Bearer $token")
code=$(curl -s -o "$T/r2" -w '%{http_code}' "${auth[@]}" -X POST --data-binary \
	'{"message":"Failed password for root from 198.51.100.7 port 22 ssh2","process":{"name":"sshd"},"host":{"hostname":"h1"}}' "$api")
check "HTTP ingest of one object: 200" [ "$code" = 200 ]
check "HTTP ingest of one object: body" [ "$(cat "$T/r2")" = '{"accepted":1,"rejected":0,"errors":[]}' ]
printf '%s\n' '{"message":"Failed password for admin from 198.51.100.8 port 22 ssh2","process":{"name":"sshd"}}' \
	'hello' '' '{"message":"Accepted password for admin from 198.51.100.8 port 22 ssh2","process":{"name":"sshd"}}' \
	'{"broken": ' > "$T/batch.ndjson"
code=$(curl -s -o "$T/r3" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/x-ndjson' -X POST --data-binary @"$T/batch.ndjson" "$api")
check "HTTP NDJSON with bad lines: 200" [ "$code" = 200 ]
check "HTTP NDJSON: counts and errors per line" [ "$(cat "$T/r3")" = '{"accepted":2,"rejected":2,"errors":[{"line":2,"error":"not a JSON object"},{"line":5,"error":"invalid JSON or over the size and depth limits (kept as a text event)"}]}' ]
code=$(curl -s -o "$T/r4" -w '%{http_code}' "${auth[@]}" -X GET "$api")
check "HTTP ingest with GET: 405" [ "$code" = 405 ]
http_alerts() { grep -q '"ip":"198.51.100.8".*"ingress":"http"\|"ingress":"http".*"ip":"198.51.100.8"' "$T/alerts.jsonl"; }
if wait_for http_alerts; then ok "HTTP events decoded and alerted with observer.ingress http"; else notok "HTTP events decoded and alerted with observer.ingress http"; fi
expect_metric "HTTP: not-JSON line counted as dropped" 'vigil_messages_dropped_total{input="http",reason="not_json"}' 1
check "metrics need no token" curl -sf -o /dev/null "http://127.0.0.1:$hport/metrics"

# ---- UDP: what the kernel drops is counted; received + dropped = sent ----
kill -STOP "$vpid"
python3 - "$p_udp" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b"<38>Nov 23 10:00:05 h app: datagram %05d " % i + b"x" * 400, ("127.0.0.1", int(sys.argv[1])))
PY
kill -CONT "$vpid"
udp_total() {
	local r d
	r=$(metric 'vigil_messages_received_total{input="udp-in"}')
	d=$(metric 'vigil_messages_dropped_total{input="udp-in",reason="kernel"}')
	[ -n "$r" ] && [ -n "$d" ] && [ $((r + d)) = 2000 ] && [ "$d" -gt 0 ]
}
if wait_for udp_total; then ok "UDP: received + kernel drops = 2000 sent, drops > 0"; else notok "UDP: received + kernel drops = 2000 sent, drops > 0" "received $(metric 'vigil_messages_received_total{input="udp-in"}') dropped $(metric 'vigil_messages_dropped_total{input="udp-in",reason="kernel"}')"; fi

# ---- backpressure: a stopped vigild stops reading; the sender is slowed
# down by TCP, not dropped: every message arrives once vigild resumes ----
before=$(metric 'vigil_messages_received_total{input="tcp-in"}')
kill -STOP "$vpid"
python3 - "$p_tcp" "$vpid" > "$T/bp.out" <<'PY'
import os, signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
line = b"<38>Nov 23 10:00:06 web1 app: backpressure " + b"y" * 200 + b"\n"
data = line * 200000          # 49 MB, far more than the socket buffers hold
sent = 0
try:
    while sent < len(data):
        sent += s.send(data[sent:sent + 65536])
except BlockingIOError:
    pass
os.kill(int(sys.argv[2]), signal.SIGCONT)
s.setblocking(True)
s.sendall(data[sent:])
s.close()
print("blocked" if sent < len(data) else "not blocked")
PY
check "backpressure: the sender blocked while vigild was stopped" grep -qx blocked "$T/bp.out"
expect_metric "backpressure: all 200000 messages received after resuming" 'vigil_messages_received_total{input="tcp-in"}' $((before + 200000))

# ---- one connection's frames run in batches on both workers; its
# alerts are written in the order it sent them ----
before=$(metric 'vigil_messages_received_total{input="tcp-in"}')
python3 - "$p_tcp" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"".join(b"<38>Nov 23 10:00:07 web1 sshd[9]: Failed password for bob from 172.16.%d.%d port 22 ssh2\n"
                   % (n >> 8, n & 255) for n in range(30000)))
s.close()
PY
expect_metric "one connection: 30000 messages received" 'vigil_messages_received_total{input="tcp-in"}' $((before + 30000))
in_order() {
	python3 - "$T/alerts.jsonl" <<'PY'
import json, sys
got = []
for l in open(sys.argv[1]):
    if '"ip":"172.16.' in l:
        a = json.loads(l)
        if a["rule"]["title"] == "SSH login failed":
            x = a["event"]["source"]["ip"].split(".")
            got.append(int(x[2]) * 256 + int(x[3]))
sys.exit(0 if got == list(range(30000)) else 1)
PY
}
check "one connection over two workers: 30000 alerts in the order sent" wait_for in_order

# ---- a second instance on the same ports is refused ----
timeout 20 "$BIN/vigild" -c "$T/vigil.yml" 2> "$T/second.log"
check "second vigild on the same ports exits 1" [ $? -eq 1 ]
check "second vigild says why" grep -q "tcp-in: cannot bind tcp 127.0.0.1:$p_tcp" "$T/second.log"

kill -TERM "$vpid"
wait "$vpid"
check "SIGTERM with two workers: exit 0" [ $? -eq 0 ]

# ---- privilege drop: bind a port below 1024 as root, then run as nobody ----
if [ "$(id -u)" = 0 ] && getent passwd nobody > /dev/null; then
	low=$(python3 -c '
import socket
for p in range(900, 1000):
    try:
        s = socket.socket(); s.bind(("127.0.0.1", p)); s.close(); print(p); break
    except OSError: pass')
	h2=$(free_port)
	mkdir -p "$T/pd"
	chmod 755 "$T"
	cat > "$T/pd/vigil.yml" <<X
inputs:
  - {name: low, type: tcp, listen: "127.0.0.1:$low"}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/pd/alerts.jsonl}
http: {listen: "127.0.0.1:$h2"}
user: nobody
workers: 1
data_dir: $T/pd/var
X
	"$BIN/vigild" -c "$T/pd/vigil.yml" 2> "$T/pd/vigild.log" &
	ppid=$!
	PIDS+=("$ppid")
	up2() { curl -sf "http://127.0.0.1:$h2/healthz" > /dev/null; }
	wait_for up2
	check "privilege drop: runs as nobody" [ "$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$ppid/status")" = 65534655346553465534 ]
	check "privilege drop: logged" grep -q "running as nobody (uid 65534" "$T/pd/vigild.log"
	logger --server 127.0.0.1 --port "$low" --tcp -t sshd --id=5 "Failed password for root from 192.0.2.200 port 22 ssh2"
	pd_alert() { grep -q '"ip":"192.0.2.200"' "$T/pd/alerts.jsonl" 2>/dev/null; }
	if wait_for pd_alert; then ok "privilege drop: port $low still receives"; else notok "privilege drop: port $low still receives" "$(cat "$T/pd/vigild.log")"; fi
	check "privilege drop: alerts file handed to nobody" [ "$(stat -c %u "$T/pd/alerts.jsonl")" = 65534 ]
	kill -TERM "$ppid"
	wait "$ppid"
	check "privilege drop: clean exit" [ $? -eq 0 ]
else
	ok "privilege drop # SKIP not root"
fi
finish
