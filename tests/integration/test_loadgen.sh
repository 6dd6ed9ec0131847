#!/usr/bin/env bash
# vigil loadgen: what it sends is exactly what a plain receiver gets (framing,
# sequence numbers, order per connection, byte counts), over TCP (LF and
# octet counting), UDP and TLS (openssl s_server, client certificates); and
# loss accounting against vigild: /metrics counts exactly the messages
# loadgen reports, 100000 over 1 and 8 connections with both framings, UDP
# at a low rate, TLS, and a run stopped by SIGINT. Bad targets and options
# give clear errors and exit codes.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
LG=("$BIN/vigil" loadgen)

# ---- a plain receiver: keeps what each connection sent, byte for byte ----
cat > "$T/sink.py" <<'PY'
import socket, sys
proto, portfile, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    open(portfile, "w").write(str(s.getsockname()[1]))
    s.settimeout(30)
    with open(out + ".0", "wb") as f:
        for _ in range(n):        # n datagrams, one per line
            f.write(s.recv(65536) + b"\n")
    sys.exit(0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
open(portfile, "w").write(str(s.getsockname()[1]))
conns = [s.accept()[0] for _ in range(n)]
for i, c in enumerate(conns):     # n connections, in the order they connected
    with open(out + ".%d" % (i + 1), "wb") as f:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            f.write(b)
    c.close()
PY
# sink PROTO NAME CONNS: start a receiver, its port in $sport
sink() {
	rm -f "$T/$2.port"
	python3 "$T/sink.py" "$1" "$T/$2.port" "$T/$2" "$3" &
	spid=$!
	PIDS+=("$spid")
	wait_for test -s "$T/$2.port"
	sport=$(cat "$T/$2.port")
}

# Parse what a receiver got: frames of each connection (lf, octet or dgram)
# and print "files messages bytes order sequence bad hosts", then the
# message with sequence number 1.
cat > "$T/parse.py" <<'PY'
import re, sys, glob
framing, prefix, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
r3164 = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) ([\w/-]+)\[(\d+)\]: (.*)$")
r5424 = re.compile(rb"^<(\d+)>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\S+) ([\w/-]+) (\d+) - \[meta sequenceId=\"(\d+)\"\] (.*)$")
files = sorted((f for f in glob.glob(prefix + ".*") if f.rsplit(".", 1)[1].isdigit()), key=lambda f: int(f.rsplit(".", 1)[1]))
seqs, ordered, nbytes, first, hosts, bad = [], True, 0, None, set(), 0
for f in files:
    data = open(f, "rb").read()
    nbytes += len(data)
    frames = []
    if framing == "octet":
        i = 0
        while i < len(data):
            sp = data.index(b" ", i)
            n = int(data[i:sp])
            frames.append(data[sp + 1:sp + 1 + n])
            i = sp + 1 + n
    else:
        frames = data.split(b"\n")[:-1]
        if framing == "dgram":
            nbytes -= len(frames)     # the sink added a newline per datagram
    last = 0
    for m in frames:
        x = r3164.match(m)
        if x:
            host, seq = x.group(2), int(x.group(4))
        else:
            x = r5424.match(m)
            if not x or x.group(4) != x.group(5):
                bad += 1
                continue
            host, seq = x.group(2), int(x.group(4))
        hosts.add(host.decode())
        if seq <= last:
            ordered = False
        last = seq
        seqs.append(seq)
        if seq == 1:
            first = m.decode()
print(len(files), len(seqs), nbytes, "ordered" if ordered else "unordered",
      "complete" if sorted(seqs) == list(range(1, total + 1)) else "incomplete",
      "bad=%d" % bad, ",".join(sorted(hosts)))
print(first)
PY
summary_of() { grep -o 'sent [0-9]* messages, [0-9]* bytes' "$1"; }

# ---- TCP, LF framing, 3 connections ----
sink tcp lf 3
"${LG[@]}" --target "tcp://127.0.0.1:$sport" --connections 3 --count 3000 2> "$T/lf.err"
rc=$?
wait "$spid"
check "tcp LF: exit 0" [ $rc -eq 0 ]
python3 "$T/parse.py" lf "$T/lf" 3000 > "$T/lf.got"
b=$(awk 'NR==1 {print $3}' "$T/lf.got")
check "tcp LF: summary counts exactly what the receiver got" [ "$(summary_of "$T/lf.err")" = "sent 3000 messages, $b bytes" ]
check "tcp LF: 3 connections, 3000 messages, each in order, sequence 1..3000 complete, host per connection" \
	[ "$(head -1 "$T/lf.got" | cut -d' ' -f1,2,4-)" = "3 3000 ordered complete bad=0 loadgen-1,loadgen-2,loadgen-3" ]
check "tcp LF: the first message is an sshd failure with sequence 1" \
	grep -Eqx '<86>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} loadgen-[123] sshd\[1\]: Failed password for root from 203\.0\.113\.2 port 1025 ssh2' "$T/lf.got"

# ---- TCP, octet counting, RFC 5424, padded ----
sink tcp oc 1
"${LG[@]}" --target "tcp://127.0.0.1:$sport" --octet-counting --format rfc5424 --size 300 --count 2000 --hostname web7 2> "$T/oc.err"
rc=$?
wait "$spid"
python3 "$T/parse.py" octet "$T/oc" 2000 > "$T/oc.got"
b=$(awk 'NR==1 {print $3}' "$T/oc.got")
check "tcp octet-counted rfc5424: exit 0" [ $rc -eq 0 ]
check "tcp octet-counted rfc5424: summary exact" [ "$(summary_of "$T/oc.err")" = "sent 2000 messages, $b bytes" ]
check "tcp octet-counted rfc5424: every frame parses, in order, complete" \
	[ "$(head -1 "$T/oc.got" | cut -d' ' -f1,2,4-)" = "1 2000 ordered complete bad=0 web7" ]
check "tcp octet-counted rfc5424: frames of 300 bytes plus the '300 ' prefix" [ "$b" = $((2000 * 304)) ]

# ---- --file: lines sent as they are, cycled; empty lines and CRs skipped ----
printf '<13>Nov 23 10:00:00 h a: one\r\n\n<13>Nov 23 10:00:00 h b: two\n<13>Nov 23 10:00:00 h c: three' > "$T/three.log"
sink tcp file 1
"${LG[@]}" --target "tcp://127.0.0.1:$sport" --file "$T/three.log" --count 7 2> "$T/file.err"
wait "$spid"
printf '<13>Nov 23 10:00:00 h a: one\n<13>Nov 23 10:00:00 h b: two\n<13>Nov 23 10:00:00 h c: three\n%.0s' 1 2 > "$T/file.want"
echo '<13>Nov 23 10:00:00 h a: one' >> "$T/file.want"
same_text "--file: 7 messages cycle through the 3 lines" "$T/file.want" "$T/file.1"
check "--file: summary exact" [ "$(summary_of "$T/file.err")" = "sent 7 messages, $(wc -c < "$T/file.want") bytes" ]

# ---- UDP: sendmmsg batches at a rate ----
sink udp udp 500
"${LG[@]}" --target "udp://127.0.0.1:$sport" --count 500 --rate 2000 --connections 2 2> "$T/udp.err"
rc=$?
wait "$spid"
python3 "$T/parse.py" dgram "$T/udp" 500 > "$T/udp.got"
b=$(awk 'NR==1 {print $3}' "$T/udp.got")
check "udp: exit 0" [ $rc -eq 0 ]
check "udp: 500 datagrams, sequence complete" [ "$(head -1 "$T/udp.got" | cut -d' ' -f2,5,6)" = "500 complete bad=0" ]
check "udp: summary exact" [ "$(summary_of "$T/udp.err")" = "sent 500 messages, $b bytes" ]

# ---- --json summary ----
sink tcp js 1
"${LG[@]}" --target "tcp://127.0.0.1:$sport" --count 10 --json > "$T/js.out" 2> /dev/null
wait "$spid"
check "--json: one object with exact counts" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["messages"] == 10 and j["bytes"] == int(sys.argv[2]) and j["ok"] is True and j["framing"] == "lf", j' \
	"$T/js.out" "$(cat "$T/js".[0-9] | wc -c)"

# ---- bad targets and options: message and exit code ----
closed=$(free_port)
bad() { # name, expected exit, expected stderr line, args...
	local name=$1 want_rc=$2 want=$3 rc
	shift 3
	"${LG[@]}" "$@" > "$T/bad.out" 2> "$T/bad.err"
	rc=$?
	if [ $rc -eq "$want_rc" ] && grep -qxF -- "$want" "$T/bad.err"; then ok "$name"; else notok "$name" "exit $rc: $(cat "$T/bad.err")"; fi
}
bad "no target: exit 2" 2 "vigil loadgen: --target is required (udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT)" --count 1
bad "unknown scheme: exit 2" 2 "vigil loadgen: bad target 'http://127.0.0.1:80': unknown scheme (use udp, tcp or tls)" --target http://127.0.0.1:80
bad "no scheme: exit 2" 2 "vigil loadgen: bad target '127.0.0.1:514': expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT" --target 127.0.0.1:514
bad "no port: exit 2" 2 "vigil loadgen: bad target 'tcp://127.0.0.1': missing port" --target tcp://127.0.0.1
bad "port 0: exit 2" 2 "vigil loadgen: bad target 'udp://127.0.0.1:0': port must be 1..65535" --target udp://127.0.0.1:0
bad "port 65536: exit 2" 2 "vigil loadgen: bad target 'tcp://127.0.0.1:65536': port must be 1..65535" --target tcp://127.0.0.1:65536
bad "port not a number: exit 2" 2 "vigil loadgen: bad target 'tcp://127.0.0.1:ssh': port is not a number" --target tcp://127.0.0.1:ssh
bad "no host: exit 2" 2 "vigil loadgen: bad target 'tcp://:514': missing host" --target tcp://:514
bad "unbracketed IPv6: exit 2" 2 "vigil loadgen: bad target 'tcp://::1:514': IPv6 addresses go in brackets, e.g. tcp://[::1]:5514" --target tcp://::1:514
bad "octet counting over UDP: exit 2" 2 "vigil loadgen: --octet-counting applies to tcp:// and tls:// targets" --target udp://127.0.0.1:514 --octet-counting
bad "TLS options on tcp: exit 2" 2 "vigil loadgen: --ca, --cert, --key, --servername and --insecure apply to tls:// targets" --target tcp://127.0.0.1:514 --ca x.pem
bad "count 0: exit 2" 2 "vigil loadgen: --count: '0' is not a whole number in 1..9223372036854775807" --target tcp://127.0.0.1:514 --count 0
bad "negative rate: exit 2" 2 "vigil loadgen: --rate: '-5' is not a positive number" --target tcp://127.0.0.1:514 --rate -5
bad "unknown option: exit 2" 2 "vigil loadgen: unknown option '--colour'" --target tcp://127.0.0.1:514 --colour
bad "format with --file: exit 2" 2 "vigil loadgen: --size and --format apply to generated messages, not --file" --target tcp://127.0.0.1:514 --file x --format json
bad "nothing listening (tcp): exit 1" 1 "vigil loadgen: tcp://127.0.0.1:$closed: connect: Connection refused" --target "tcp://127.0.0.1:$closed" --count 1
bad "nothing listening (tls): exit 1" 1 "vigil loadgen: tls://127.0.0.1:$closed: connect: Connection refused" --target "tls://127.0.0.1:$closed" --count 1
bad "missing --file: exit 1" 1 "vigil loadgen: $T/none.log: No such file or directory" --target tcp://127.0.0.1:514 --file "$T/none.log"
: > "$T/empty.log"
bad "empty --file: exit 1" 1 "vigil loadgen: $T/empty.log: no messages (no non-empty lines)" --target tcp://127.0.0.1:514 --file "$T/empty.log"
"${LG[@]}" --target "udp://127.0.0.1:$closed" --count 200 --rate 1000 2> "$T/bad.err"
rc=$?
if [ $rc -eq 1 ] && grep -Eqx "vigil loadgen: udp://127.0.0.1:$closed: [0-9]+ ICMP port-unreachable reports: messages were lost; is anything listening\?" "$T/bad.err"; then
	ok "nothing listening (udp): exit 1, loss reported"
else
	notok "nothing listening (udp): exit 1, loss reported" "exit $rc: $(cat "$T/bad.err")"
fi
"${LG[@]}" --help > "$T/help.out"
check "--help: exit 0, usage on stdout" grep -q '^usage: vigil loadgen --target' "$T/help.out"

# ---- TLS against openssl s_server: verification and client certificates ----
C=$T/tls
mkdir -p "$C"
(
	cd "$C"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=vigil test CA"
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=loadgen"
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
) > "$T/openssl.log" 2>&1 || { notok "test certificates" "$(cat "$T/openssl.log")"; finish; }
# s_server prints what it decrypts; stdin held open (a FIFO) so it does not
# close the connection on EOF
# listening PORT: a TCP socket listens on PORT (without connecting to it,
# which would use up the server's one accept)
listening() {
	python3 -c '
import sys
port = "%04X" % int(sys.argv[1])
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for l in open(f).readlines()[1:]:
        x = l.split()
        if x[1].endswith(":" + port) and x[3] == "0A":
            sys.exit(0)
sys.exit(1)' "$1"
}
mkfifo "$T/ssin"
exec 3<> "$T/ssin"
s_server() { # name, extra args...
	local name=$1
	shift
	sport=$(free_port)
	openssl s_server -accept "127.0.0.1:$sport" -cert "$C/server.pem" -key "$C/server.key" \
		-naccept 1 -quiet "$@" < "$T/ssin" > "$T/$name.out" 2> "$T/$name.srv" &
	spid=$!
	PIDS+=("$spid")
	wait_for listening "$sport"
}
s_server tls1
"${LG[@]}" --target "tls://127.0.0.1:$sport" --ca "$C/ca.pem" --count 2000 --connections 1 2> "$T/tls1.err"
rc=$?
wait "$spid"
check "tls: verified against --ca, exit 0" [ $rc -eq 0 ]
check "tls: 2000 LF-framed messages decrypted by the server" [ "$(wc -l < "$T/tls1.out")" = 2000 ]
check "tls: summary exact" [ "$(summary_of "$T/tls1.err")" = "sent 2000 messages, $(wc -c < "$T/tls1.out") bytes" ]

s_server tls2 -Verify 1 -CAfile "$C/ca.pem"
"${LG[@]}" --target "tls://127.0.0.1:$sport" --ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" --octet-counting --count 500 2> "$T/tls2.err"
rc=$?
wait "$spid"
cp "$T/tls2.out" "$T/tls2o.1"
python3 "$T/parse.py" octet "$T/tls2o" 500 > "$T/tls2.got"
check "tls with a client certificate: exit 0" [ $rc -eq 0 ]
check "tls with a client certificate: 500 octet-counted frames in order" [ "$(head -1 "$T/tls2.got" | cut -d' ' -f2,4-6)" = "500 ordered complete bad=0" ]

s_server tls3 -Verify 1 -CAfile "$C/ca.pem"
"${LG[@]}" --target "tls://127.0.0.1:$sport" --ca "$C/ca.pem" --count 10 2> "$T/tls3.err"
rc=$?
wait "$spid"
check "tls: a server that requires a client certificate refuses us: exit 1" [ $rc -eq 1 ]
check "tls: ... and says so" grep -q "tls://127.0.0.1:$sport: connection 1: receiver: .*certificate required" "$T/tls3.err"

s_server tls4
"${LG[@]}" --target "tls://127.0.0.1:$sport" --count 10 2> "$T/tls4.err"
rc=$?
wait "$spid"
check "tls: server not signed by a system CA: exit 1" [ $rc -eq 1 ]
check "tls: ... and says why" grep -qxF "vigil loadgen: tls://127.0.0.1:$sport: TLS handshake: server certificate not accepted: unable to get local issuer certificate" "$T/tls4.err"

s_server tls5
"${LG[@]}" --target "tls://127.0.0.1:$sport" --ca "$C/ca.pem" --servername db.example.org --count 10 2> "$T/tls5.err"
rc=$?
wait "$spid"
check "tls: name mismatch: exit 1" [ $rc -eq 1 ]
check "tls: ... and says why" grep -qxF "vigil loadgen: tls://127.0.0.1:$sport: TLS handshake: server certificate not accepted: hostname mismatch" "$T/tls5.err"
exec 3>&-

# ---- loss accounting against vigild ----
port=$(free_port); tport=$(free_port); hport=$(free_port)
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
  - {name: udp-in, type: udp, listen: "127.0.0.1:$port"}
  - {name: tls-in, type: tls, listen: "127.0.0.1:$tport", cert: tls/server.pem, key: tls/server.key, ca: tls/ca.pem}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
data_dir: $T/var
X
"$BIN/vigild" -c "$T/vigil.yml" 2> "$T/vigild.log" &
vpid=$!
PIDS+=("$vpid")
if wait_for healthy; then ok "vigild starts"; else notok "vigild starts" "$(cat "$T/vigild.log")"; finish; fi
# settle METRIC VALUE: wait (deadline 300 s, sanitizer builds are slow)
# until the counter reaches VALUE; going past it fails at once
settle() {
	local v i
	for i in $(seq 1 3000); do
		v=$(metric "$1")
		[ "$v" = "$2" ] && return 0
		[ -n "$v" ] && [ "$v" -gt "$2" ] && break
		sleep 0.1
	done
	echo "    $1 = $v, want $2"
	return 1
}
received() { metric "vigil_messages_received_total{input=\"$1\"}"; }

# exact alerts from generated messages: 64 messages, 8 of them sshd password failures
"${LG[@]}" --target "tcp://127.0.0.1:$port" --count 64 2> "$T/a.err"
check "64 generated messages received" settle 'vigil_messages_received_total{input="tcp-in"}' 64
check "64 generated messages decoded" settle vigil_events_decoded_total 64
count_failed() { [ "$(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl" 2>/dev/null)" = 8 ]; }
wait_for count_failed
python3 - "$T/alerts.jsonl" > "$T/alerts.got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["rule"]["title"] == "SSH login failed":
        e = a["event"]
        print(e["process"]["pid"], e["source"]["ip"], e["source"]["port"], e["user"]["name"], e["host"]["hostname"])
PY
cat > "$T/alerts.want" <<X
1 203.0.113.2 1025 root loadgen
9 203.0.113.10 1033 admin loadgen
17 203.0.113.18 1041 oracle loadgen
25 203.0.113.26 1049 test loadgen
33 203.0.113.34 1057 root loadgen
41 203.0.113.42 1065 admin loadgen
49 203.0.113.50 1073 oracle loadgen
57 203.0.113.58 1081 test loadgen
X
same_text "8 sshd failures give 8 'SSH login failed' alerts with exact fields, in order" "$T/alerts.want" "$T/alerts.got"
check "'SSH password guess for root' for the 2 root failures" [ "$(grep -c '"title":"SSH password guess for root"' "$T/alerts.jsonl")" = 2 ]

total=64
lossless() { # name, args...
	local name=$1 rc
	shift
	"${LG[@]}" --target "tcp://127.0.0.1:$port" --count 100000 "$@" 2> "$T/run.err"
	rc=$?
	total=$((total + 100000))
	if [ $rc -eq 0 ] && grep -q "sent 100000 messages" "$T/run.err"; then
		ok "$name: loadgen exit 0, summary counts 100000"
	else
		notok "$name: loadgen exit 0, summary counts 100000" "exit $rc: $(cat "$T/run.err")"
	fi
	if settle 'vigil_messages_received_total{input="tcp-in"}' $total > "$T/settle.out"; then
		ok "$name: vigild received exactly 100000"
	else
		notok "$name: vigild received exactly 100000" "$(cat "$T/settle.out" "$T/run.err")"
	fi
}
lossless "tcp LF, 1 connection" --connections 1
lossless "tcp LF, 8 connections" --connections 8
lossless "tcp octet-counted, 1 connection" --connections 1 --octet-counting
lossless "tcp octet-counted rfc5424, 8 connections" --connections 8 --octet-counting --format rfc5424
check "no truncated or partial messages" [ "$(metric 'vigil_messages_truncated_total{input="tcp-in"}')$(metric 'vigil_messages_partial_total{input="tcp-in"}')" = 00 ]

# UDP at a low rate: every datagram arrives
"${LG[@]}" --target "udp://127.0.0.1:$port" --count 5000 --rate 2000 2> "$T/udp2.err"
check "udp at 2000/s: loadgen exit 0, summary counts 5000" grep -q "sent 5000 messages" "$T/udp2.err"
if settle 'vigil_messages_received_total{input="udp-in"}' 5000 > "$T/settle.out"; then
	ok "udp at 2000/s: vigild received exactly 5000"
else
	notok "udp at 2000/s: vigild received exactly 5000" "$(cat "$T/settle.out"; grep udp-in <(curl -sf "http://127.0.0.1:$hport/metrics"))"
fi

# TLS into vigild with a client certificate, ten times over: the sender's
# close_notify often comes in the same read as its last records, which
# must be framed before the connection is closed (they were lost once)
tls_ok=0 tls_err= lg_err=
for i in $(seq 1 10); do
	"${LG[@]}" --target "tls://127.0.0.1:$tport" --ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" --count 20000 --connections 2 2> "$T/tlsv.err"
	grep -q "sent 20000 messages" "$T/tlsv.err" || lg_err="run $i: $(cat "$T/tlsv.err")"
	if settle 'vigil_messages_received_total{input="tls-in"}' $((20000 * i)) > "$T/settle.out"; then
		tls_ok=$i
	else
		tls_err="run $i: $(cat "$T/settle.out" "$T/tlsv.err"; grep 'tls-in' <(curl -sf "http://127.0.0.1:$hport/metrics"))"
		break
	fi
done
check "tls into vigild: loadgen exit 0, summary counts 20000 (each run)" [ -z "$lg_err" ]
if [ "$tls_ok" = 10 ]; then
	ok "tls into vigild: received exactly 20000 (each run)"
else
	notok "tls into vigild: received exactly 20000 (each run)" "$tls_err"
fi
check "tls into vigild: no partial messages" [ "$(metric 'vigil_messages_partial_total{input="tls-in"}')" = 0 ]

# Stopped by SIGINT: the message being written is finished, the
# connection closed cleanly: vigild has exactly what loadgen counted.
before=$(received tcp-in)
"${LG[@]}" --target "tcp://127.0.0.1:$port" --rate 5000 --connections 2 2> "$T/int.err" &
lpid=$!
PIDS+=("$lpid")
started() { [ "$(received tcp-in)" -gt "$before" ]; }
wait_for started
kill -INT "$lpid"
wait "$lpid"
rc=$?
n=$(grep -o 'sent [0-9]* messages' "$T/int.err" | awk '{print $2}')
check "SIGINT: exit 0 with a summary" [ $rc -eq 0 -a "${n:-0}" -gt 0 ]
check "SIGINT: vigild received exactly what loadgen counted" settle 'vigil_messages_received_total{input="tcp-in"}' $((before + ${n:-0}))

kill -TERM "$vpid"
wait "$vpid"
check "vigild stops cleanly" [ $? -eq 0 ]
finish
