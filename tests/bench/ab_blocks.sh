# SPDX-License-Identifier: MIT
# The A/B machinery of the host benches that time one loop against vmmemtop's hooks
# (syscall_bench.sh, switch_bench.sh), sourced after tests/host/lib.sh:
#   ab_begin            root, a temporary directory, the host lock (other host-wide
#                       benchmarks would disturb the figures), taskset and 2 CPUs
#   ab_loop_start ARGS  the timing process (tests/tools/getppid_loop ARGS, under $pin_loop)
#                       as coprocess T, and two warm-up blocks
#   ab_block STATE      time one block: "phase STATE pair median min wall cpu" to $OUT
#   ab_loop_stop        end the timing process
#   ab_hold CMD N       send CMD to tests/tools/bpf_hold (fds 7, 8) and check that it answers
#                       with N hooks attached
# The benches set $OUT, $phase and $pair.

ab_begin() {
	need_root
	make_tmp
	exec 9> /tmp/vmmem-host.lock
	flock 9
	command -v taskset > /dev/null || skip "taskset (util-linux) is missing"
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs: the timing loop and the other side apart"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

ab_block() {
	local r
	echo go >&"${T[1]}"
	read -r r <&"${T[0]}" || fail "getppid_loop stopped"
	echo "$phase $1 $pair $r" >> "$OUT"
}

ab_loop_start() {
	phase=warm-up pair=0
	# not bpf_hold's fifo ends (fds 7, 8): bpf_hold must see EOF when the bench closes them
	coproc T { exec ${pin_loop:-} "$TOOLS/getppid_loop" "$@" 7>&- 8<&-; }
	ab_block W; ab_block W
}

ab_loop_stop() { local fd=${T[1]}; exec {fd}>&-; wait "$T_PID" 2>/dev/null; }

ab_hold() {
	local r
	echo "$1" >&7
	read -r r <&8 || fail "bpf_hold stopped: $(cat "$TMP/hold.err")"
	[ "$r" = "ok $2" ] || fail "bpf_hold $1: $r (expected ok $2)"
	sleep 0.05
}
