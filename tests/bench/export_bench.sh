#!/usr/bin/env bash
# Exporter scrape cost at 1000 synthetic VMs (no kernel path): one client for latency, two
# for throughput, against a baseline of the same server with 0 VMs measured in this run.
# Goal: p50 scrape latency <= 20 ms at 1000 VMs. Prints one "bench export:" summary line.
set -u
TOPDIR=${TOPDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VMMEMTOP=${VMMEMTOP:-$TOPDIR/build/vmmemtop}
TOOLS=${TOOLS:-$TOPDIR/build/tools}
SECS=${BENCH_SECONDS:-5}
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; wait $p 2>/dev/null; done' EXIT

run() {	# $1 VMs, $2 clients -> scrape_load's line
	local port=$((20000 + RANDOM % 30000)) e
	"$VMMEMTOP" export --listen 127.0.0.1:$port --synthetic-vms "$1" --interval 1 >/dev/null 2>&1 &
	e=$!; pids+=($e)
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/metrics" | grep -qx 'vmmem_up 1' && break; sleep 0.2; done
	"$TOOLS/scrape_load" 127.0.0.1 $port 1 1 >/dev/null		# warm up the allocator
	line=$("$TOOLS/scrape_load" 127.0.0.1 $port "$SECS" "$2")
	render=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^vmmem_scrape_duration_seconds/ { printf "%.2f", $2 * 1000 }')
	echo "$line render_ms=$render"
	kill $e; wait $e 2>/dev/null
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

base=$(run 0 1)
one=$(run 1000 1)
two=$(run 1000 2)
echo "baseline 0 VMs, 1 client:  $base"
echo "1000 VMs, 1 client:        $one"
echo "1000 VMs, 2 clients:       $two"
p50=$(field p50_ms "$one"); b50=$(field p50_ms "$base")
ok=$(awk -v p="$p50" 'BEGIN { print (p <= 20) ? "met" : "MISSED" }')
echo "bench export: p50 ${p50} ms per scrape at 1000 VMs (${ok} goal 20 ms), $(awk -v a="$p50" -v b="$b50" 'BEGIN { printf "%.0f", a / b }')x the 0-VM baseline ${b50} ms; $(field scrapes_per_s "$two") scrapes/s with 2 clients; $(field bytes_per_scrape "$one") bytes per scrape"
