# Shared helpers for tests/host/*.sh (sourced). Each test names its oracle and prints both
# numbers on failure; SKIP exits 77.
TOPDIR=${TOPDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VMMEMTOP=${VMMEMTOP:-$TOPDIR/build/vmmemtop}
TOOLS=${TOOLS:-$TOPDIR/build/tools}
TRACEFS=/sys/kernel/tracing

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (BPF and tracefs)"; }

need_tracefs() {
	mountpoint -q $TRACEFS || mount -t tracefs nodev $TRACEFS 2>/dev/null ||
		skip "tracefs is not mounted and cannot be mounted"
}

# Cleanup actions run in reverse order at exit.
_cleanups=()
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" 2>/dev/null; done
}
trap _run_cleanups EXIT

# tmpdir: a private directory removed at exit
make_tmp() {
	TMP=$(mktemp -d /tmp/vmmem-test.XXXXXX)
	at_exit "rm -rf '$TMP'"
}

# trace_instance NAME: a private tracefs buffer (the oracle), removed at exit
trace_instance() {
	local dir=$TRACEFS/instances/$1
	rmdir "$dir" 2>/dev/null
	mkdir "$dir" || fail "cannot create trace instance $dir"
	at_exit "echo 0 > '$dir/tracing_on'; echo > '$dir/set_event'; rmdir '$dir'"
	echo "$dir"
}

# trace_overruns DIR: total lost events in the instance (must be 0 for an exact oracle)
trace_overruns() {
	local total=0 n
	for f in "$1"/per_cpu/cpu*/stats; do
		n=$(awk '/^overrun:/ { print $2 }' "$f")
		total=$((total + ${n:-0}))
	done
	echo $total
}

# wait_bpf_attached: until vmmemtop's programs are loaded (bpftool lists them)
wait_vmmem_loaded() {
	local i
	for i in $(seq 1 50); do
		bpftool prog show 2>/dev/null | grep -q 'name tlb_flush_' && { sleep 0.3; return 0; }
		sleep 0.1
	done
	return 1
}

# jq_vm FILE PID EXPR: EXPR of the VM with that pid in a snapshot JSON
jq_vm() { jq -r --argjson p "$2" ".vms[] | select(.pid == \$p) | $3" "$1"; }

# wait_guest_ram ERRFILE PID [HOW]: until vmmemtop -v said it learned PID's guest RAM (HOW: a
# substring of where from, e.g. "KVM memslots" or "QEMU RAM blocks"); its balloon counters
# count from then on
wait_guest_ram() {
	local i
	for i in $(seq 1 150); do
		grep -q "guest RAM of pid $2: ${3:-}.*range(s)" "$1" && ! grep "guest RAM of pid $2: " "$1" | tail -1 | grep -q unknown &&
			return 0
		sleep 0.1
	done
	return 1
}
