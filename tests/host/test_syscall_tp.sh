#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No host-wide slow path by default: vmmemtop in its default mode attaches no syscalls:*
# tracepoint (oracle: the kernel's own list of BPF perf attachments, `bpftool perf`, and
# tracefs' enabled syscall events); where the kernel refuses fexit (this host), the balloon
# counters of a process that discards memory are then unavailable (null in JSON, never 0)
# and the start-up notice names --syscall-tracepoints. With --syscall-tracepoints they
# count, exactly (oracle: the bytes discard_loop itself discarded).
set -u
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
command -v bpftool >/dev/null || skip "bpftool not installed"
make_tmp

# run_case NAME [OPTS]: count a discard_loop of 40 x 64 KiB under vmmemtop OPTS
run_case() {
	local name=$1; shift
	rm -f "$TMP/discarded"
	"$TOOLS/discard_loop" 40 64 "$TMP/discarded" kvm & D=$!	# kvm: its chunk is guest RAM (balloon bytes)
	"$VMMEMTOP" snapshot -v --interval 60 --json --track $D "$@" > "$TMP/$name.json" 2> "$TMP/$name.err" & S=$!
	# (other vmmemtops may run on this host: wait for ours, and look at its attachments only)
	for i in $(seq 1 100); do grep -q "vmmemtop: counting" "$TMP/$name.err" && break; sleep 0.1; done
	grep -q "vmmemtop: counting" "$TMP/$name.err" || fail "vmmemtop did not start: $(cat "$TMP/$name.err")"
	bpftool perf show | grep "^pid $S " > "$TMP/$name.perf"
	cat $TRACEFS/events/syscalls/*/enable 2>/dev/null | grep -c 1 > "$TMP/$name.enabled"
	kill -USR1 $D
	for i in $(seq 1 50); do [ -s "$TMP/discarded" ] && break; sleep 0.1; done
	sleep 0.3
	kill -INT $S; wait $S
	kill $D; wait $D 2>/dev/null
}

ok=1
run_case default
n=$(grep -c "tracepoint  *sys_" "$TMP/default.perf")
echo "default mode: $n syscalls:* BPF attachments (bpftool perf), $(cat "$TMP/default.enabled") syscall events enabled in tracefs"
[ "$n" = 0 ] || { echo "BAD: syscall tracepoints attached by default:"; grep sys_ "$TMP/default.perf"; ok=0; }
grep "notice" "$TMP/default.err"
b=$(jq -r --argjson p $D '.vms[] | select(.pid == $p) | .counters.balloon_inflate_bytes' "$TMP/default.json")
if grep -q "probe: fexit do_madvise().*using it" "$TMP/default.err"; then
	# a kernel with fexit counts balloons without any syscall tracepoint
	echo "fexit do_madvise() loads here: balloon_inflate_bytes $b = $(cat "$TMP/discarded")"
	[ "$b" = "$(cat "$TMP/discarded")" ] || ok=0
else
	echo "fexit refused here: balloon_inflate_bytes = $b (expected null: unavailable)"
	[ "$b" = null ] || { echo "BAD: balloon_inflate_bytes is '$b', not null (unavailable)"; ok=0; }
	grep -q "notice: unavailable: balloon_inflate_bytes.*--syscall-tracepoints" "$TMP/default.err" ||
		{ echo "BAD: the notice does not name --syscall-tracepoints"; ok=0; }
fi

run_case opted --syscall-tracepoints
n=$(grep -c "tracepoint  *sys_" "$TMP/opted.perf")
b=$(jq -r --argjson p $D '.vms[] | select(.pid == $p) | .counters.balloon_inflate_bytes' "$TMP/opted.json")
echo "--syscall-tracepoints: $n syscalls:* attachments; balloon_inflate_bytes = $b, discard_loop discarded $(cat "$TMP/discarded")"
if ! grep -q "probe: fexit do_madvise().*using it" "$TMP/opted.err"; then
	[ "$n" -ge 1 ] || { echo "BAD: no syscall tracepoint attached with the option"; ok=0; }
fi
[ "$b" = "$(cat "$TMP/discarded")" ] || { echo "BAD: vmmem $b != oracle $(cat "$TMP/discarded")"; ok=0; }
"$VMMEMTOP" snapshot --help | grep -q "syscall of every process on the host" || { echo "BAD: --help does not state the cost"; ok=0; }
[ $ok = 1 ] || fail "see BAD lines above"
echo "PASS: no syscall tracepoint by default; balloon counters unavailable (not 0) without fexit; exact with the option"
