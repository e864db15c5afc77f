#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exporter scrape cost at 1000 synthetic VMs (no kernel path), with one and with two clients
# scraping back to back, beside a baseline of the same server with 0 VMs measured in this run.
# An exposition is rendered once per sample and format and shared by every scrape of that
# sample, so the scrape latency is mostly the transfer of ~10.8 MB; the render (once a
# second here) is printed on its own, and "max" is a scrape that had to wait for it.
# Goal: <= 20 ms per scrape at 1000 VMs (p99, two clients). Prints one "bench export:" line.
set -u
TOPDIR=${TOPDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VMMEMTOP=${VMMEMTOP:-$TOPDIR/build/vmmemtop}
TOOLS=${TOOLS:-$TOPDIR/build/tools}
SECS=${BENCH_SECONDS:-5}
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; wait $p 2>/dev/null; done' EXIT

run() {	# $1 VMs, $2 clients -> scrape_load's line
	local port=$((20000 + RANDOM % 30000)) e
	"$VMMEMTOP" export --listen 127.0.0.1:$port --backend "synthetic:$1" --interval 1 >/dev/null 2>&1 &
	e=$!; pids+=($e)
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/metrics" | grep -qx 'vmmem_up 1' && break; sleep 0.2; done
	"$TOOLS/scrape_load" 127.0.0.1 $port 1 1 >/dev/null		# warm up the allocator
	"$TOOLS/scrape_load" 127.0.0.1 $port "$SECS" "$2"
	kill $e; wait $e 2>/dev/null
}
field() { sed -n "s/.*[ ^]$1=\([0-9.]*\).*/\1/p" <<<" $2"; }
row() {	# label, scrape_load line
	printf '%-22s %8s %8s %8s %10s %10s %9s\n' "$1" "$(field p50_ms "$2")" "$(field p99_ms "$2")" \
		"$(field max_ms "$2")" "$(field scrapes_per_s "$2")" "$(field render_p50_ms "$2")" "$(field errors "$2")"
}

base1=$(run 0 1)
base2=$(run 0 2)
one=$(run 1000 1)
two=$(run 1000 2)
printf '%-22s %8s %8s %8s %10s %10s %9s\n' "scrapes of /metrics" "p50 ms" "p99 ms" "max ms" "scrapes/s" "render ms" "errors"
row "0 VMs, 1 client" "$base1"
row "0 VMs, 2 clients" "$base2"
row "1000 VMs, 1 client" "$one"
row "1000 VMs, 2 clients" "$two"
p99=$(field p99_ms "$two")
ok=$(awk -v p="$p99" 'BEGIN { print (p <= 20) ? "met" : "MISSED" }')
echo "bench export: at 1000 VMs p50/p99 $(field p50_ms "$one")/$(field p99_ms "$one") ms with 1 client," \
	"$(field p50_ms "$two")/${p99} ms with 2 clients (${ok} goal 20 ms);" \
	"0-VM baseline $(field p50_ms "$base1")/$(field p99_ms "$base1") ms;" \
	"render $(field render_p50_ms "$one") ms once per sample; $(field bytes_per_scrape "$one") bytes per scrape"
