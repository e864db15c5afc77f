#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The exporter under hostile clients (issue 17 item 1), synthetic VMs, loopback only:
#  1. 1000 idle connections plus 100 clients sending a request's headers one byte a second,
#     re-opened as soon as the server closes them, from 100 loopback addresses; meanwhile a
#     scraper GETs /metrics 20 times a second on fresh connections: every scrape is 200,
#     p99 <= 100 ms, the slow clients are cut at the --web.timeout deadline, and the
#     exporter's RSS stays under baseline + 24 KiB per flood connection.
#  2. 100 connections from one address: --web.max-connections-per-ip (32) are held, the
#     rest closed at once.
#  3. --web.max-requests 1 with a client that requests 12 MB and does not read: the next
#     request gets 503 at once, and 200 once that client has gone.
#  4. 1000 scrapes (text, OpenMetrics, gzip, keep-alive and not) leave the open fds equal and
#     the RSS within 1 MiB.
# Costs ~35 s.
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
FLOOD_SECONDS=${FLOOD_SECONDS:-15}

need_bins curl "$PY"
need_built "$VMMEMTOP" "$TOOLS/http_flood"
. "$TOPDIR/tests/host/prometheus.sh"
make_tmp; tmp=$TMP
pids=()		# every background job is stopped at exit (lib.sh)
FAIL_LOGS="$tmp/*.log" FAIL_LOG_LINES=5
nfds() { ls /proc/$1/fd | wc -l; }
start() {	# PORT ARGS... -> $exp
	"$VMMEMTOP" export --listen 127.0.0.1:$1 "${@:2}" >"$tmp/exporter-$1.log" 2>&1 &
	exp=$!
	pids+=($exp)
	wait_for 15 exporter_up $1 || fail "exporter on port $1 never reported vmmem_up 1"
}

# ---------- 1. flood ----------
PORT=$(free_port)
start $PORT --backend synthetic:50 --web.timeout 5
base=$(rss_kb $exp)
"$TOOLS/http_flood" $PORT $FLOOD_SECONDS 1000 100 20 > "$tmp/flood.out" 2>"$tmp/flood.log" & fl=$!
peak=0 peak_fds=0
while kill -0 $fl 2>/dev/null; do
	r=$(rss_kb $exp); n=$(nfds $exp)
	[ "${r:-0}" -gt $peak ] && peak=$r
	[ "${n:-0}" -gt $peak_fds ] && peak_fds=$n
	sleep 0.5
done
wait $fl || fail "http_flood failed: $(cat "$tmp/flood.log")"
line=$(cat "$tmp/flood.out")
echo "$line"
bound=$((base + 1100 * 24))
echo "exporter: RSS ${base} kB before, peak ${peak} kB during the flood (bound ${bound} kB), peak open fds ${peak_fds}"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$line"; }
ok=$(awk -v p="$(field p99_ms)" 'BEGIN { print (p != "" && p <= 100) }')
[ "$ok" = 1 ] || fail "scrape p99 $(field p99_ms) ms under the flood, want <= 100 ms"
grep -q ' 0 failed' <<<"$line" || fail "scrapes failed under the flood"
slow_cut=$(sed -n 's/.* and \([0-9]*\) slow closed.*/\1/p' <<<"$line")
[ "${slow_cut:-0}" -ge 100 ] || fail "the slow clients were not cut at the header deadline (${slow_cut:-0} cut)"
life=$(sed -n 's/.*cut after \([0-9.]*\) s.*/\1/p' <<<"$line")
awk -v l="$life" 'BEGIN { exit !(l >= 4 && l <= 7.5) }' || fail "slow clients cut after $life s, --web.timeout is 5"
[ "$peak_fds" -ge 900 ] || fail "the exporter held only $peak_fds fds: the flood did not reach it"
[ "$peak" -le "$bound" ] || fail "peak RSS ${peak} kB above the bound ${bound} kB"
exporter_up $PORT || fail "exporter not serving after the flood"

# ---------- 2. per-address limit ----------
line=$("$TOOLS/http_flood" $PORT perip 100)
echo "$line"
held=$(sed -n 's/.*, \([0-9]*\) held open.*/\1/p' <<<"$line")
[ "$held" = 32 ] || fail "one address held $held connections, --web.max-connections-per-ip default is 32"
kill $exp; wait $exp 2>/dev/null

# ---------- 3. 503 above --web.max-requests ----------
PORT=$(free_port)
start $PORT --backend synthetic:1000 --web.max-requests 1
"$PY" - "$PORT" > "$tmp/503.out" 2>"$tmp/503.log" <<'PYEOF' || fail "503 check: $(cat "$tmp/503.out" "$tmp/503.log")"
import socket, subprocess, sys, time
port = int(sys.argv[1])
def code():
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5",
                           f"http://127.0.0.1:{port}/metrics"], capture_output=True, text=True).stdout
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(1.0)                      # the ~12 MB answer fills the socket buffers and waits
busy = code()
s.close()
time.sleep(1.0)
free = code()
print(f"--web.max-requests 1: a scrape while a non-reading client holds the only slot: {busy}; after it left: {free}")
sys.exit(0 if busy == "503" and free == "200" else 1)
PYEOF
cat "$tmp/503.out"
kill $exp; wait $exp 2>/dev/null

# ---------- 4. 1000 scrapes: fds and RSS unchanged ----------
PORT=$(free_port)
start $PORT --backend synthetic:10 --interval 0.2
scrapes() {
	"$PY" - "$PORT" "$1" <<'PYEOF'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
kinds = [{}, {"Accept": "application/openmetrics-text;version=1.0.0"}, {"Accept-Encoding": "gzip"}]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for i in range(n):
    h = dict(kinds[i % 3])
    if i % 2:
        h["Connection"] = "close"
    c.request("GET", "/metrics", headers=h)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"scrape {i}: status {r.status}")
    if i % 2:
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
PYEOF
}
scrapes 200 || fail "warm-up scrapes"
sleep 0.5
f0=$(nfds $exp) r0=$(rss_kb $exp)
scrapes 1000 || fail "1000 scrapes"
sleep 0.5
f1=$(nfds $exp) r1=$(rss_kb $exp)
echo "1000 scrapes: open fds $f0 -> $f1, RSS $r0 -> $r1 kB"
[ "$f1" -eq "$f0" ] || fail "open fds changed from $f0 to $f1"
[ $((r1 - r0)) -le 1024 ] || fail "RSS grew by $((r1 - r0)) kB over 1000 scrapes"
echo "PASS"
