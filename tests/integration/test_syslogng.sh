#!/usr/bin/env bash
# syslog-ng (Debian package syslog-ng-core) as a relay in front of vigild.
# Debian's rsyslog and syslog-ng-core conflict, so the package is not
# installed: it is downloaded once (apt-get download, cached under
# build/syslog-ng) and unpacked, and the daemon runs from there with its
# module path and a private config, persist file, pid file and control
# socket. Hosts send to syslog-ng with `vigil loadgen`, a local program
# logs to its unix-dgram socket, and syslog-ng forwards with flow control
# through network() (TCP, legacy BSD format, LF), network() (UDP) and
# syslog() (RFC 5424 with octet counting). vigild must receive exactly
# 100000 messages on each TCP path, in order, with the fields as sent,
# every UDP datagram, and lose or repeat nothing across its own restart.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# ---- the package: cached, else downloaded and unpacked ----
CACHE=${SYSLOGNG_CACHE:-$ROOT/build/syslog-ng}
SNG=$CACHE/root
if [ ! -x "$SNG/usr/sbin/syslog-ng" ]; then
	mkdir -p "$CACHE/dl"
	rm -f "$CACHE"/dl/syslog-ng-core_*.deb
	if ! (cd "$CACHE/dl" && apt-get download -o APT::Sandbox::User=root syslog-ng-core) > "$T/apt.log" 2>&1; then
		why=$(grep -m1 '^E:' "$T/apt.log" || tail -1 "$T/apt.log")
		if grep -qiE 'could not resolve|temporary failure resolving|could not connect|connection (failed|refused|timed out)|network is unreachable|unable to connect' "$T/apt.log"; then
			ok "syslog-ng # SKIP package registry unreachable: $why"
		else
			notok "syslog-ng-core package obtained (apt-get download)" "$why (package lists missing? apt-get update)"
		fi
		finish
	fi
	rm -rf "$CACHE/root.tmp.$$"
	if ! dpkg -x "$CACHE"/dl/syslog-ng-core_*.deb "$CACHE/root.tmp.$$" 2> "$T/dpkg.log"; then
		notok "syslog-ng-core package unpacked (dpkg -x)" "$(cat "$T/dpkg.log")"
		rm -rf "$CACHE/root.tmp.$$"
		finish
	fi
	mv -T "$CACHE/root.tmp.$$" "$SNG" 2> /dev/null || rm -rf "$CACHE/root.tmp.$$"
fi
# only syslog-ng gets the library path (vigild under ASan must not)
sng() { LD_LIBRARY_PATH=$SNG/usr/lib/syslog-ng "$SNG/usr/sbin/syslog-ng" "$@"; }
MODDIR=$(ls -d "$SNG"/usr/lib/syslog-ng/3.* 2> /dev/null | head -1)
missing=$(LD_LIBRARY_PATH=$SNG/usr/lib/syslog-ng ldd "$SNG/usr/sbin/syslog-ng" "$MODDIR/libafsocket.so" "$MODDIR/libsyslogformat.so" 2>&1 |
	awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
if [ -z "$MODDIR" ] || [ -n "$missing" ]; then
	notok "syslog-ng's libraries are installed" "missing: ${missing:-module folder} (apt-get install libivykis0 libnet1 libjson-c5 libpcre3 libwrap0 libglib2.0-0; .ci/run does)"
	finish
fi
ver=$(sng --version 2>&1 | awk '/^Config version:/ {print $3}')
check "syslog-ng runs from the unpacked package (config version $ver)" [ -n "$ver" ]

N=${SYSLOGNG_COUNT:-100000}
NUDP=2000
S=$T/sng
mkdir -p "$S"
# Syslog lines from a host: a sequence number in the pid and in the source
# address (10.x.y.z); one 'SSH login failed' alert each.
gen() { # file, first, last, host
	python3 - "$@" <<'PY'
import sys
path, first, last, host = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, "w") as f:
    for i in range(first, last + 1):
        f.write("<86>Nov 23 10:%02d:%02d %s sshd[%d]: Failed password for admin from 10.%d.%d.%d port %d ssh2\n"
                % (i // 60 % 60, i % 60, host, i, i >> 16, (i >> 8) & 255, i & 255, 1024 + i % 60000))
PY
}
gen "$S/lf.log" 1 "$N" web-lf
gen "$S/st.log" 1 "$N" web-5424
gen "$S/udp.log" 1 "$NUDP" web-udp

i_lf=$(free_port); i_st=$(free_port); i_udp=$(free_port)
p_lf=$(free_port); p_st=$(free_port); p_udp=$(free_port); hport=$(free_port)
cat > "$S/syslog-ng.conf" <<X
@version: $ver
options { keep-hostname(yes); use-dns(no); use-fqdn(no); chain-hostnames(no);
          stats-freq(0); time-reopen(1); log-fifo-size(20000); };
source s_lf { network(ip("127.0.0.1") port($i_lf) transport("tcp")); };
source s_st { network(ip("127.0.0.1") port($i_st) transport("tcp")); };
source s_udp { network(ip("127.0.0.1") port($i_udp) transport("tcp")); };
source s_local { unix-dgram("$S/log.sock" host-override("relay2")); };
destination d_lf { network("127.0.0.1" port($p_lf) transport("tcp")); };
destination d_st { syslog("127.0.0.1" port($p_st) transport("tcp")); };
destination d_udp { network("127.0.0.1" port($p_udp) transport("udp")); };
log { source(s_lf); source(s_local); destination(d_lf); flags(flow-control); };
log { source(s_st); destination(d_st); flags(flow-control); };
log { source(s_udp); destination(d_udp); flags(flow-control); };
X
sng --syntax-only -f "$S/syslog-ng.conf" --module-path="$MODDIR" > "$S/check.log" 2>&1
if [ $? -eq 0 ]; then ok "syslog-ng --syntax-only accepts the config"; else notok "syslog-ng --syntax-only accepts the config" "$(cat "$S/check.log")"; fi

cat > "$T/vigil.yml" <<X
inputs:
  - {name: ng-lf, type: tcp, listen: "127.0.0.1:$p_lf"}
  - {name: ng-5424, type: tcp, listen: "127.0.0.1:$p_st"}
  - {name: ng-udp, type: udp, listen: "127.0.0.1:$p_udp"}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
data_dir: $T/var
X
start_vigild() {
	"$BIN/vigild" -c "$T/vigil.yml" 2>> "$T/vigild.log" &
	vpid=$!
	PIDS+=("$vpid")
	if wait_for healthy; then ok "vigild starts"; else notok "vigild starts" "$(cat "$T/vigild.log")"; finish; fi
}
start_vigild

LD_LIBRARY_PATH=$SNG/usr/lib/syslog-ng "$SNG/usr/sbin/syslog-ng" -F -e -f "$S/syslog-ng.conf" --module-path="$MODDIR" --persist-file="$S/syslog-ng.persist" \
	--pidfile="$S/syslog-ng.pid" --control="$S/syslog-ng.ctl" --no-caps > "$S/stderr.log" 2>&1 &
npid=$!
PIDS+=("$npid")
if wait_for test -S "$S/log.sock"; then ok "syslog-ng starts (private config, persist file, pid file, control socket)"; else notok "syslog-ng starts (private config, persist file, pid file, control socket)" "$(cat "$S/stderr.log")"; fi

for i in 1 2 3 4 5; do
	logger --socket "$S/log.sock" --socket-errors=on -t sshd --id=$((900 + i)) \
		"Failed password for root from 192.0.2.$i port $((4700 + i)) ssh2"
done
LG=("$BIN/vigil" loadgen -q)
"${LG[@]}" --target "tcp://127.0.0.1:$i_lf" --file "$S/lf.log" --count "$N" 2> "$S/lg-lf.err" &
l1=$!
"${LG[@]}" --target "tcp://127.0.0.1:$i_st" --file "$S/st.log" --count "$N" 2> "$S/lg-st.err" &
l2=$!
"${LG[@]}" --target "tcp://127.0.0.1:$i_udp" --file "$S/udp.log" --count "$NUDP" --rate 2000 2> "$S/lg-udp.err"
wait $l1 $l2
check "loadgen sent everything to syslog-ng" [ "$(cat "$S"/lg-*.err | grep -c "^vigil loadgen: sent \($N\|$NUDP\) messages")" = 3 ]

# settle NAME METRIC VALUE: ok when the counter reaches VALUE (deadline
# 300 s for sanitizer builds); going past it fails at once
settle() {
	local name=$1 v i
	for i in $(seq 1 3000); do
		v=$(metric "$2")
		[ "$v" = "$3" ] && { ok "$name"; return 0; }
		[ -n "$v" ] && [ "$v" -gt "$3" ] && break
		sleep 0.1
	done
	notok "$name" "$2 = $v, want $3; syslog-ng said: $(tail -5 "$S/stderr.log")"
	return 1
}
settle "network() TCP: vigild received exactly $N + 5" 'vigil_messages_received_total{input="ng-lf"}' $((N + 5))
settle "syslog() RFC 5424, octet counting: vigild received exactly $N" 'vigil_messages_received_total{input="ng-5424"}' "$N"
settle "network() UDP: vigild received exactly $NUDP" 'vigil_messages_received_total{input="ng-udp"}' "$NUDP"
check "UDP: no kernel drops" [ "$(metric 'vigil_messages_dropped_total{input="ng-udp",reason="kernel"}')" = 0 ]
check "RFC 5424 path parsed as RFC 5424" [ "$(metric 'vigil_messages_parsed_total{format="rfc5424"}')" = "$N" ]
check "no truncated messages" [ "$(metric 'vigil_messages_truncated_total{input="ng-lf"}')$(metric 'vigil_messages_truncated_total{input="ng-5424"}')" = 00 ]
check "every message decoded" [ "$(metric vigil_events_decoded_total)" = $((2 * N + NUDP + 5)) ]
nalerts() { [ "$(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl" 2>/dev/null)" = "$1" ]; }
if wait_for nalerts $((2 * N + NUDP + 5)); then ok "one alert per message"; else notok "one alert per message" "$(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl")"; fi

# order: each TCP path (one connection) in order; fields as sent
cat > "$T/order.py" <<'PY'
import json, sys
path, lo, hi, nudp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seqs = {"ng-lf": [], "ng-5424": [], "ng-udp": []}
local, fields = [], {}
for l in open(path):
    a = json.loads(l)
    if a["rule"]["title"] != "SSH login failed":
        continue
    e = a["event"]
    ing, ip = e["observer"]["ingress"], e["source"]["ip"]
    if ip.startswith("192.0.2."):
        if lo == 1:
            local.append("%s %s %s %s %s %s %s" % (ing, e["host"]["hostname"], e["process"]["name"],
                         e["process"]["pid"], ip, e["source"]["port"], e["user"]["name"]))
        continue
    _, b, c, d = (int(x) for x in ip.split("."))
    s = (b << 16) | (c << 8) | d
    if s < lo:
        continue
    seqs[ing].append(s)
    if s == lo + 6:
        fields[ing] = "%s %s %s %s %s %s" % (e["host"]["hostname"], e["process"]["name"], e["process"]["pid"],
                                            e["source"]["port"], e["user"]["name"], e["log"]["source"]["address"])
for ing, top in (("ng-lf", hi), ("ng-5424", hi), ("ng-udp", nudp if lo == 1 else 0)):
    got, want = seqs[ing], list(range(lo, top + 1))
    if top == 0:
        continue
    print(ing, len(got), "in order" if got == want else
          ("complete, out of order" if sorted(got) == want else "incomplete"))
for ing in ("ng-lf", "ng-5424", "ng-udp"):
    if ing in fields:
        print(ing, fields[ing])
for x in sorted(local):
    print(x)
PY
python3 "$T/order.py" "$T/alerts.jsonl" 1 "$N" "$NUDP" > "$T/order.got"
sed -i "s/^ng-udp $NUDP in order$/ng-udp $NUDP complete, out of order/" "$T/order.got"
cat > "$T/order.want" <<X
ng-lf $N in order
ng-5424 $N in order
ng-udp $NUDP complete, out of order
ng-lf web-lf sshd 7 1031 admin 127.0.0.1
ng-5424 web-5424 sshd 7 1031 admin 127.0.0.1
ng-udp web-udp sshd 7 1031 admin 127.0.0.1
ng-lf relay2 sshd 901 192.0.2.1 4701 root
ng-lf relay2 sshd 902 192.0.2.2 4702 root
ng-lf relay2 sshd 903 192.0.2.3 4703 root
ng-lf relay2 sshd 904 192.0.2.4 4704 root
ng-lf relay2 sshd 905 192.0.2.5 4705 root
X
same_text "each TCP path in order, UDP complete; host, program, pid, port, user, peer as sent" "$T/order.want" "$T/order.got"

# vigild restarts while hosts keep sending: syslog-ng holds the messages
# (flow control) and delivers every one, once, after reconnecting
M=1000
kill -TERM "$vpid"
wait "$vpid"
check "vigild stops cleanly" [ $? -eq 0 ]
gen "$S/lf2.log" $((N + 1)) $((N + M)) web-lf
gen "$S/st2.log" $((N + 1)) $((N + M)) web-5424
# (syslog-ng reads no more from the hosts while it cannot deliver, so
# loadgen's wait for it to close ends only once vigild is back)
"${LG[@]}" --target "tcp://127.0.0.1:$i_lf" --file "$S/lf2.log" --count "$M" 2> "$S/lg-lf2.err" &
l1=$!
"${LG[@]}" --target "tcp://127.0.0.1:$i_st" --file "$S/st2.log" --count "$M" 2> "$S/lg-st2.err" &
l2=$!
start_vigild
wait $l1 $l2
settle "after the restart: exactly the $M new messages over network()" 'vigil_messages_received_total{input="ng-lf"}' "$M"
settle "after the restart: exactly the $M new messages over syslog()" 'vigil_messages_received_total{input="ng-5424"}' "$M"
wait_for nalerts $((2 * (N + M) + NUDP + 5))
python3 "$T/order.py" "$T/alerts.jsonl" $((N + 1)) $((N + M)) 0 | head -2 > "$T/restart.got"
printf 'ng-lf %s in order\nng-5424 %s in order\n' "$M" "$M" > "$T/restart.want"
same_text "after the restart: the new messages in order, none lost or repeated" "$T/restart.want" "$T/restart.got"

kill -TERM "$npid"
wait "$npid"
rc=$?
if [ $rc -eq 0 ]; then ok "syslog-ng stops cleanly"; else notok "syslog-ng stops cleanly" "exit $rc: $(tail -5 "$S/stderr.log")"; fi
kill -TERM "$vpid"
wait "$vpid"
check "vigild stops cleanly" [ $? -eq 0 ]
finish
