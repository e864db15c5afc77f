#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The exporter on the real BPF backend, as root dropping to --user nobody:
#  1. per-source gauges: with a --qmp socket nobody answers on, vmmem_scrape_source_success
#     is 0 for qmp and 1 for bpf, proc and sysfs, each with a duration, and the scrape is
#     still 200 with vmmem_up 1 (one failing source never fails the scrape);
#  2. privileges after --user: the HTTP threads hold no capability (CapEff 0), the threads
#     that read /proc hold CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE only (0x80004): BPF needs
#     none once loaded. (No capability at all, through vmmem.ko's device group, is proven
#     in the nested guest: tests/vm/test_nested_kvm.sh, case kmod-export.)
# Costs ~10 s.
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
need_root
command -v curl >/dev/null || skip "curl not installed"
need_built "$VMMEMTOP"
. "$TOPDIR/tests/host/prometheus.sh"
make_tmp; tmp=$TMP
chmod 755 "$tmp"
FAIL_LOGS="$tmp/exporter.log" FAIL_LOG_LINES=5
exp=
at_exit 'stop_pid "$exp"'

# a QMP socket nobody answers on: bound, never listening (connect gives ECONNREFUSED)
"$PY" -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$tmp/dead.qmp" || fail "cannot make the dead socket"
PORT=$(free_port)
"$VMMEMTOP" export --listen 127.0.0.1:$PORT --qmp "$tmp/dead.qmp" --user nobody --interval 1 >"$tmp/exporter.log" 2>&1 &
exp=$!
got() { curl -sf "http://127.0.0.1:$PORT/metrics" > "$tmp/m.txt" && grep -q '^vmmem_scrape_source_success{source="qmp"}' "$tmp/m.txt"; }
wait_for 20 got || fail "no source gauges after 20 s"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
grep -E '^vmmem_(up|scrape_source)' "$tmp/m.txt"
[ "$code" = 200 ] || fail "scrape status $code with a dead QMP socket"
grep -qx 'vmmem_up 1' "$tmp/m.txt" || fail "vmmem_up is not 1 with only QMP failing"
for s in bpf proc sysfs; do
	grep -qx "vmmem_scrape_source_success{source=\"$s\"} 1" "$tmp/m.txt" || fail "source $s not 1"
	grep -qE "^vmmem_scrape_source_duration_seconds\{source=\"$s\"\} [0-9.e-]+$" "$tmp/m.txt" || fail "no duration for $s"
done
grep -qx 'vmmem_scrape_source_success{source="qmp"} 0' "$tmp/m.txt" || fail "the dead QMP socket is not reported as a failed source"
grep -q '^vmmem_scrape_source_success{source="kmod"}' "$tmp/m.txt" && fail "a backend not loaded (kmod) is reported"
grep -q '^vmmem_tdp_faults_total\|^vmmem_host_mem_total_bytes' "$tmp/m.txt" || fail "the other sources' families are missing"
echo "one failing source (qmp): scrape 200, vmmem_up 1, bpf/proc/sysfs 1, qmp 0"

# ---------- privileges ----------
main_caps=$(sed -n 's/^CapEff:\t*//p' /proc/$exp/status)
ok=1
while read -r t; do
	name=$(cat "$t/comm") c=$(sed -n 's/^CapEff:\t*//p' "$t/status") u=$(awk '/^Uid:/ { print $3 }' "$t/status")
	echo "thread $(basename "$t") ($name): uid $u, CapEff $c"
	[ "$u" = "$(id -u nobody)" ] || ok=0
	case $name in
	MHD-*) [ "$c" = 0000000000000000 ] || ok=0 ;;
	*) [ $(( 0x$c & ~0x80004 )) = 0 ] || ok=0 ;;
	esac
done < <(ls -d /proc/$exp/task/*)
[ $ok = 1 ] || fail "a thread runs as another user, or with more than CAP_DAC_READ_SEARCH + CAP_SYS_PTRACE (HTTP threads: none)"
[ "$main_caps" = 0000000000080004 ] || fail "main thread CapEff $main_caps, expected 0000000000080004"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -qx 'vmmem_up 1' || fail "not counting after dropping privileges"
grep -q "^ExecStart=.* --listen 127.0.0.1:9477 " "$TOPDIR/deploy/vmmem-exporter.service" || fail "the shipped unit does not listen on localhost"
echo "shipped unit: $(grep "^ExecStart=" "$TOPDIR/deploy/vmmem-exporter.service")"
echo "PASS"
